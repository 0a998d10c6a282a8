/*
 * main.c - roamsmtpd: read the settings and profiles, open the queue, bind
 * the loopback listeners and the control socket, run the loop.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "control.h"
#include "control_cmds.h"
#include "diag.h"
#include "log.h"
#include "netwatch.h"
#include "privdrop.h"
#include "profile.h"
#include "queue.h"
#include "router.h"
#include "sdnotify.h"
#include "smtp_server.h"
#include "util.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: roamsmtpd [-f] [-v] [-c FILE] [--check-config]\n"
	    "  -f, --foreground    stay in the foreground, log to stderr\n"
	    "  -c, --config FILE   settings (default: "
	    "$XDG_CONFIG_HOME/roamsmtp/roamsmtp.conf)\n"
	    "      --check-config  read everything, report problems, exit\n"
	    "  -v, --verbose       log debug details (never credentials)\n"
	    "      --version       print the version\n");
}

static void
print_diag(const struct diag *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->msgs[i]);
}

struct daemon {
	struct event_base	*base;
	struct router		*router;
	struct control		*control;
};

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct daemon	*dm = arg;
	json_t		*reply;

	if (sig == SIGHUP) {
		/* Same as roamsmtpctl reload: a bad set keeps the old one. */
		log_info("SIGHUP: reloading profiles");
		sdnotify("RELOADING=1");
		reply = router_reload(dm->router);
		json_decref(reply);
		sdnotify("READY=1");
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	sdnotify("STOPPING=1");
	event_base_loopexit(dm->base, NULL);
}

static void
on_event(json_t *ev, void *arg)
{
	struct daemon	*dm = arg;

	if (dm->control)
		control_broadcast(dm->control, ev);
}

static void
on_network(const struct net_facts *facts, void *arg)
{
	struct daemon	*dm = arg;

	router_set_facts(dm->router, facts);
}

static void
raise_fd_limit(void)
{
	struct rlimit	rl;

	/* Each session may hold a client socket, an upstream socket and a
	 * spool file. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground",		no_argument,		NULL, 'f' },
		{ "config",		required_argument,	NULL, 'c' },
		{ "check-config",	no_argument,		NULL, 'C' },
		{ "verbose",		no_argument,		NULL, 'v' },
		{ "version",		no_argument,		NULL, 'V' },
		{ "help",		no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon_conf	 conf;
	struct profile_set	 profiles = { NULL, 0 };
	struct diag		 d;
	struct daemon		 dm = { NULL, NULL, NULL };
	struct event_base	*base;
	struct evdns_base	*dns;
	struct queue		*queue;
	struct router		*router;
	struct smtp_server	*server;
	struct control		*control;
	struct netwatch		*watch = NULL;
	struct event		*sigs[4];
	const char		*config = NULL, *reason;
	const struct profile	*def;
	char			 path[4096], err[1024];
	int			 ch, foreground = 0, verbose = 0, check = 0;
	int			 signals[] = { SIGTERM, SIGINT, SIGHUP };
	size_t			 i;

	while ((ch = getopt_long(argc, argv, "fc:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': foreground = 1; break;
		case 'c': config = optarg; break;
		case 'C': check = 1; foreground = 1; break;
		case 'v': verbose = 1; break;
		case 'V': printf("roamsmtpd %s\n", ROAMSMTP_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init(1, verbose);

	diag_init(&d);
	memset(&conf, 0, sizeof(conf));
	if (conf_load(config, &conf, &d) == -1) {
		print_diag(&d);
		fprintf(stderr, "roamsmtpd: %s: errors above; nothing "
		    "started\n", config ? config : "configuration");
		diag_free(&d);
		return 1;
	}
	profile_set_load(conf.profiles_dir, &profiles, &d);
	print_diag(&d);
	if (d.nerrors > 0) {
		fprintf(stderr, "roamsmtpd: %d error%s in the profiles in %s; "
		    "nothing started\n", d.nerrors, d.nerrors > 1 ? "s" : "",
		    conf.profiles_dir);
		diag_free(&d);
		profile_set_free(&profiles);
		conf_free(&conf);
		return 1;
	}
	diag_free(&d);
	if (check) {
		printf("roamsmtpd: configuration OK (%s); %zu profile%s in "
		    "%s", conf.path ? conf.path : "built-in defaults",
		    profiles.n, profiles.n == 1 ? "" : "s", conf.profiles_dir);
		for (i = 0; i < profiles.n; i++)
			if (profiles.v[i]->is_default)
				printf("; default: %s", profiles.v[i]->name);
		printf("\n");
		profile_set_free(&profiles);
		conf_free(&conf);
		return 0;
	}

	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");
	log_init(foreground, verbose);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	umask(077);

	if ((base = event_base_new()) == NULL)
		fatalx("cannot make an event base");
	if ((dns = evdns_base_new(base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL &&
	    (dns = evdns_base_new(base, 0)) == NULL)
		fatalx("cannot start the DNS resolver");
	if (conf.dns_server != NULL) {
		evdns_base_clear_nameservers_and_suspend(dns);
		if (evdns_base_nameserver_ip_add(dns, conf.dns_server) != 0)
			fatalx("%s: [daemon] dns-server: '%s' is not an "
			    "address; write e.g. 127.0.0.1:5353", conf.path,
			    conf.dns_server);
		evdns_base_resume(dns);
	}

	snprintf(path, sizeof(path), "%s/queue", conf.state_dir);
	if (mkdir_p(conf.state_dir, 0700) == -1)
		fatal("cannot create the state folder %s", conf.state_dir);
	if ((queue = queue_open(path, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	router = router_new(base, dns, &conf, &profiles, queue);
	if ((server = smtp_server_new(base, &conf, router, queue, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((ch = privdrop_caps(err, sizeof(err))) == -1)
		fatalx("%s", err);
	if (ch == 1)
		log_info("capabilities dropped after binding the listeners");
	snprintf(path, sizeof(path), "%s/control", conf.runtime_dir);
	if ((control = control_open(base, path, control_dispatch, router, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);

	dm.base = base;
	dm.router = router;
	dm.control = control;
	router_set_event_cb(router, on_event, &dm);
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		sigs[i] = evsignal_new(base, signals[i], on_signal, &dm);
		evsignal_add(sigs[i], NULL);
	}
	if (conf.network_backend != NETWATCH_NONE &&
	    (watch = netwatch_start(base, conf.network_backend, on_network,
	    &dm, err, sizeof(err))) == NULL)
		log_warnx("network watcher: %s; profiles are matched without "
		    "network facts", err);
	def = router_choose(router, &reason);
	log_info("roamsmtpd %s ready pid=%d config=%s network=%s profile=%s "
	    "control=%s", ROAMSMTP_VERSION, (int)getpid(),
	    conf.path ? conf.path : "defaults",
	    watch ? netwatch_backend_name(watch) : "none",
	    def ? def->name : "none", path);
	if (def == NULL)
		log_warnx("%s; mail is queued until then (profiles folder: "
		    "%s)", reason, conf.profiles_dir);

	sdnotify("READY=1");
	event_base_dispatch(base);

	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		event_free(sigs[i]);
	if (watch)
		netwatch_stop(watch);
	router_set_event_cb(router, NULL, NULL);
	control_close(control);
	smtp_server_free(server);
	router_free(router);
	queue_close(queue);
	evdns_base_free(dns, 0);
	event_base_free(base);
	profile_set_free(&profiles);
	conf_free(&conf);
	log_info("roamsmtpd stopped");
	return 0;
}
