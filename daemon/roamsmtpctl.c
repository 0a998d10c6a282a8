/* roamsmtpctl.c - the command-line control client: asks the running
 * roamsmtpd over its control socket and prints the answer. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "conf.h"
#include "control.h"
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
	int		 needs_id;
	void		(*print)(json_t *reply);
};

static void	print_status(json_t *);
static void	print_queue(json_t *);
static void	print_flush(json_t *);
static void	print_retry(json_t *);
static void	print_delete(json_t *);

static const struct command commands[] = {
	{ "status",	0, print_status },
	{ "queue",	0, print_queue },
	{ "flush",	0, print_flush },
	{ "retry",	1, print_retry },
	{ "delete",	1, print_delete },
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: roamsmtpctl [-c CONFIG | -s SOCKET] [--json] COMMAND [ARG]\n"
	    "\n"
	    "commands:\n"
	    "  status      the daemon, its profile, upstream and queue\n"
	    "  queue       the messages waiting or failed\n"
	    "  flush       try every queued message now\n"
	    "  retry ID    try one message now (a failed one too)\n"
	    "  delete ID   remove one message from the queue\n"
	    "\n"
	    "options:\n"
	    "  -c, --config FILE   read the socket's place from FILE\n"
	    "  -s, --socket PATH   the control socket itself\n"
	    "      --json          print the daemon's reply as JSON\n"
	    "  -h, --help          this text\n"
	    "      --version       the version\n"
	    "\n"
	    "exit: 0 ok, 1 the daemon refused, 2 usage or config error,\n"
	    "      3 roamsmtpd not running or not answering\n");
}

/* A string member, or dflt when absent or not a string. */
static const char *
str(json_t *o, const char *key, const char *dflt)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

static json_int_t
num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* Unix seconds as local time, e.g. "2024-05-01 14:03". */
static const char *
when(json_t *o, const char *key, char *buf, size_t len)
{
	json_t		*v = json_object_get(o, key);
	struct tm	 tm;
	time_t		 t;

	if (!json_is_integer(v) && !json_is_real(v))
		return "-";
	t = (time_t)json_number_value(v);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
		return "-";
	return buf;
}

static const char *
size_text(json_int_t n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%lld B", (long long)n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KB", n / 1024.0);
	else
		snprintf(buf, len, "%.1f MB", n / (1024.0 * 1024.0));
	return buf;
}

static void
print_status(json_t *r)
{
	json_t		*listen = json_object_get(r, "listen");
	json_t		*prof = json_object_get(r, "profile");
	json_t		*up = json_object_get(r, "upstream");
	json_t		*q = json_object_get(r, "queue");
	json_t		*v;
	const char	*err, *tlsv;
	size_t		 i;

	printf("roamsmtpd %s, pid %lld, listening on", str(r, "version", "?"),
	    (long long)num(r, "pid"));
	json_array_foreach(listen, i, v)
		printf(" %s", json_string_value(v) ? json_string_value(v) :
		    "?");
	printf("%s\n", json_array_size(listen) == 0 ? " nothing" : "");

	if (!json_is_object(prof))
		printf("profile:   none; mail waits in the queue until one "
		    "applies\n");
	else {
		printf("profile:   %s (%s)\n", str(prof, "name", "?"),
		    str(prof, "reason", "no reason given"));
		printf("upstream:  %s, %s, auth %s: %s",
		    str(prof, "upstream", "?"), str(prof, "tls", "?"),
		    str(prof, "auth", "?"), str(up, "state", "unknown"));
		if ((tlsv = str(up, "tls_version", NULL)) != NULL)
			printf(" (%s)", tlsv);
		if ((err = str(up, "last_error", NULL)) != NULL)
			printf("; last error: %s", err);
		printf("\n");
	}
	if (json_is_object(q))
		printf("queue:     %lld queued, %lld failed\n",
		    (long long)num(q, "queued"), (long long)num(q, "failed"));
}

static void
print_rcpts(json_t *m)
{
	json_t	*rcpt = json_object_get(m, "rcpt"), *v;
	size_t	 i;

	printf("  to:      ");
	json_array_foreach(rcpt, i, v)
		printf("%s%s", i > 0 ? ", " : "", json_string_value(v) ?
		    json_string_value(v) : "?");
	printf("%s\n", json_array_size(rcpt) == 0 ? "-" : "");
}

static void
print_queue(json_t *r)
{
	json_t		*msgs = json_object_get(r, "messages"), *m;
	char		 t1[32], t2[32], sz[32];
	const char	*subject, *err;
	size_t		 i;

	if (json_array_size(msgs) == 0) {
		printf("the queue is empty\n");
		return;
	}
	json_array_foreach(msgs, i, m) {
		if (i > 0)
			printf("\n");
		printf("%s  %s  %s  written %s\n", str(m, "id", "?"),
		    str(m, "state", "?"), size_text(num(m, "size"), sz,
		    sizeof(sz)), when(m, "created", t1, sizeof(t1)));
		printf("  from:    %s\n", str(m, "from", "<>")[0] != '\0' ?
		    str(m, "from", "<>") : "<>");
		print_rcpts(m);
		if ((subject = str(m, "subject", NULL)) != NULL)
			printf("  subject: %s\n", subject);
		printf("  tries:   %lld", (long long)num(m, "attempts"));
		if (strcmp(str(m, "state", ""), "failed") != 0 &&
		    json_object_get(m, "next_attempt") != NULL &&
		    !json_is_null(json_object_get(m, "next_attempt")))
			printf(", next %s", when(m, "next_attempt", t2,
			    sizeof(t2)));
		printf("\n");
		if ((err = str(m, "last_error", NULL)) != NULL)
			printf("  error:   %s\n", err);
	}
	printf("\n%zu message%s\n", json_array_size(msgs),
	    json_array_size(msgs) == 1 ? "" : "s");
}

static void
print_flush(json_t *r)
{
	json_int_t	n = num(r, "flushed");

	printf("%lld message%s sent for delivery now\n", (long long)n,
	    n == 1 ? "" : "s");
}

static void
print_retry(json_t *r)
{
	printf("message %s: delivery is tried now\n", str(r, "id", "?"));
}

static void
print_delete(json_t *r)
{
	printf("message %s deleted\n", str(r, "id", "?"));
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
	if (argc != 1 + cmd->needs_id) {
		fprintf(stderr, "roamsmtpctl: %s %s\n", cmd->name,
		    cmd->needs_id ? "needs a message ID (list them with: "
		    "roamsmtpctl queue)" : "takes no argument");
		fprintf(stderr, "usage: roamsmtpctl [-c CONFIG | -s SOCKET] "
		    "[--json] %s%s\n", cmd->name, cmd->needs_id ? " ID" : "");
		return EXIT_USAGE;
	}

	if ((path = socket_path(config, sock)) == NULL)
		return EXIT_USAGE;
	req = json_pack("{s:s}", "cmd", cmd->name);
	if (cmd->needs_id)
		json_object_set_new(req, "id", json_string(argv[1]));
	reply = control_request(path, req, err, sizeof(err));
	saved = errno;
	json_decref(req);
	if (reply == NULL) {
		/* Not running, or not answering: either way not reachable. */
		if (saved == ENOENT || saved == ECONNREFUSED ||
		    saved == ENOTDIR)
			fprintf(stderr, "roamsmtpd is not running (no control "
			    "socket at %s); start it with: roamsmtpd, or: "
			    "systemctl --user start roamsmtpd\n", path);
		else
			fprintf(stderr, "roamsmtpctl: %s\n", err);
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
		fprintf(stderr, "roamsmtpctl: %s\n", str(reply, "error",
		    "the daemon refused without saying why"));
	json_decref(reply);
	return rc;
}
