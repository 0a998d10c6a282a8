/* roamsmtpctl.c - the command-line control client: asks the running
 * roamsmtpd over its control socket and prints the answer. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf.h"
#include "control.h"
#include "ctl_format.h"
#include "diag.h"

#ifndef ROAMSMTP_VERSION
#define ROAMSMTP_VERSION	"unknown"
#endif

/* Exit codes scripts may rely on (roamsmtpctl(1)). */
#define EXIT_OK		0
#define EXIT_REFUSED	1	/* the daemon said no; its error printed */
#define EXIT_USAGE	2	/* bad command line or config */
#define EXIT_NODAEMON	3	/* no daemon answers at the control socket */

struct command {
	const char	*name;
	const char	*arg;		/* its argument's name, or NULL */
	const char	*argkey;	/* the request member it goes in */
	void		(*print)(json_t *reply);	/* NULL: watch */
};

static const struct command commands[] = {
	{ "status",	NULL,	NULL,		ctl_print_status },
	{ "profiles",	NULL,	NULL,		ctl_print_profiles },
	{ "use",	"PROFILE", "profile",	ctl_print_use },
	{ "queue",	NULL,	NULL,		ctl_print_queue },
	{ "flush",	NULL,	NULL,		ctl_print_flush },
	{ "retry",	"ID",	"id",		ctl_print_retry },
	{ "delete",	"ID",	"id",		ctl_print_delete },
	{ "reload",	NULL,	NULL,		ctl_print_reload },
	{ "watch",	NULL,	NULL,		NULL },
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: roamsmtpctl [-c CONFIG | -s SOCKET] [--json] COMMAND [ARG]\n"
	    "\n"
	    "commands:\n"
	    "  status        the daemon, the network, its profile and why, "
	    "upstream, queue\n"
	    "  profiles      every profile: does it match here, and why\n"
	    "  use PROFILE   send by PROFILE wherever the laptop is\n"
	    "  use auto      choose the profile by the network again\n"
	    "  reload        read the config and profiles again (a broken "
	    "set is refused\n"
	    "                and the running one kept)\n"
	    "  watch         print events as they happen: network, profile, "
	    "sent, queued,\n"
	    "                failed; until roamsmtpd stops or Ctrl-C\n"
	    "  queue         the messages waiting or failed\n"
	    "  flush         try every queued message now\n"
	    "  retry ID      try one message now (a failed one too)\n"
	    "  delete ID     remove one message from the queue\n"
	    "\n"
	    "options:\n"
	    "  -c, --config FILE   read the socket's place from FILE\n"
	    "  -s, --socket PATH   the control socket itself\n"
	    "      --json          print the daemon's reply as JSON (watch: "
	    "one event a line)\n"
	    "  -h, --help          this text\n"
	    "      --version       the version\n"
	    "\n"
	    "exit: 0 ok, 1 the daemon refused, 2 usage or config error,\n"
	    "      3 roamsmtpd not running or not answering (watch: it went "
	    "away)\n");
}

/* Why the daemon cannot be reached, in words that say what to do. */
static void
not_reachable(const char *path, int saved, const char *err)
{
	if (saved == ENOENT || saved == ECONNREFUSED || saved == ENOTDIR)
		fprintf(stderr, "roamsmtpd is not running (no control socket "
		    "at %s); start it with: roamsmtpd, or: systemctl --user "
		    "start roamsmtpd\n", path);
	else
		fprintf(stderr, "roamsmtpctl: %s\n", err);
}

static int
refused(json_t *reply)
{
	const char	*e = json_string_value(json_object_get(reply, "error"));

	fprintf(stderr, "roamsmtpctl: %s\n", e != NULL ? e :
	    "the daemon refused without saying why");
	return EXIT_REFUSED;
}

/*
 * watch: the acknowledgement, then events until the daemon closes the
 * connection (or Ctrl-C ends us).  --json prints each event's line as it
 * came; either way a line is flushed at once, for pipes.
 */
static int
watch(const char *path, int json)
{
	struct control_client	*cl;
	json_t			*req, *reply, *ev;
	char			 err[1024], *line;
	int			 saved;

	if ((cl = control_connect(path, err, sizeof(err))) == NULL) {
		not_reachable(path, errno, err);
		return EXIT_NODAEMON;
	}
	req = json_pack("{s:s}", "cmd", "watch");
	reply = control_call(cl, req, err, sizeof(err));
	json_decref(req);
	if (reply == NULL) {
		fprintf(stderr, "roamsmtpctl: %s\n", err);
		control_disconnect(cl);
		return EXIT_NODAEMON;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		control_disconnect(cl);
		saved = refused(reply);
		json_decref(reply);
		return saved;
	}
	json_decref(reply);
	if (!json) {
		printf("watching roamsmtpd; Ctrl-C to stop\n");
		fflush(stdout);
	}
	while ((ev = control_next(cl, &line, err, sizeof(err))) != NULL) {
		if (json)
			printf("%s\n", line);
		else
			ctl_print_event(ev);
		free(line);
		json_decref(ev);
		if (fflush(stdout) == EOF || ferror(stdout)) {
			/* Nobody reads our output any more. */
			control_disconnect(cl);
			return EXIT_OK;
		}
	}
	saved = errno;
	control_disconnect(cl);
	if (saved == 0)
		fprintf(stderr, "roamsmtpctl: roamsmtpd closed the watch "
		    "(it stopped, or this reader fell too far behind)\n");
	else
		fprintf(stderr, "roamsmtpctl: %s\n", err);
	return EXIT_NODAEMON;
}

/* The control socket's path: -s, or runtime-dir of the config. */
static char *
socket_path(const char *config, const char *sock)
{
	struct daemon_conf	 conf;
	struct diag		 d;
	char			*path;
	size_t			 i;

	if (sock != NULL)
		return strdup(sock);
	diag_init(&d);
	if (conf_load(config, &conf, &d) == -1) {
		for (i = 0; i < d.n; i++)
			fprintf(stderr, "roamsmtpctl: %s\n", d.msgs[i]);
		diag_free(&d);
		return NULL;
	}
	diag_free(&d);
	if (asprintf(&path, "%s/control", conf.runtime_dir) == -1)
		path = NULL;
	conf_free(&conf);
	return path;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "socket",	required_argument,	NULL, 's' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const struct command	*cmd = NULL;
	const char		*config = NULL, *sock = NULL;
	json_t			*req, *reply;
	char			 err[1024], *path, *out;
	size_t			 i;
	int			 ch, json = 0, saved, rc;

	while ((ch = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("roamsmtpctl %s\n", ROAMSMTP_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (config != NULL && sock != NULL) {
		fprintf(stderr, "roamsmtpctl: give -c or -s, not both\n");
		return EXIT_USAGE;
	}
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "roamsmtpctl: unknown command '%s'\n",
		    argv[0]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (argc != 1 + (cmd->arg != NULL)) {
		if (cmd->arg == NULL)
			fprintf(stderr, "roamsmtpctl: %s takes no argument\n",
			    cmd->name);
		else if (strcmp(cmd->arg, "ID") == 0)
			fprintf(stderr, "roamsmtpctl: %s needs one message ID "
			    "(list them with: roamsmtpctl queue)\n", cmd->name);
		else
			fprintf(stderr, "roamsmtpctl: %s needs one profile "
			    "name, or auto (list them with: roamsmtpctl "
			    "profiles)\n", cmd->name);
		fprintf(stderr, "usage: roamsmtpctl [-c CONFIG | -s SOCKET] "
		    "[--json] %s%s%s\n", cmd->name, cmd->arg ? " " : "",
		    cmd->arg ? cmd->arg : "");
		return EXIT_USAGE;
	}

	if ((path = socket_path(config, sock)) == NULL)
		return EXIT_USAGE;
	if (cmd->print == NULL) {
		rc = watch(path, json);
		free(path);
		return rc;
	}
	req = json_pack("{s:s}", "cmd", cmd->name);
	if (cmd->arg != NULL)
		json_object_set_new(req, cmd->argkey, json_string(argv[1]));
	reply = control_request(path, req, err, sizeof(err));
	saved = errno;
	json_decref(req);
	if (reply == NULL) {
		/* Not running, or not answering: either way not reachable. */
		not_reachable(path, saved, err);
		free(path);
		return EXIT_NODAEMON;
	}
	free(path);

	rc = json_is_true(json_object_get(reply, "ok")) ? EXIT_OK :
	    EXIT_REFUSED;
	if (json) {
		if ((out = json_dumps(reply, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER)) != NULL)
			printf("%s\n", out);
		free(out);
	} else if (rc == EXIT_OK)
		cmd->print(reply);
	else
		refused(reply);
	json_decref(reply);
	return rc;
}
