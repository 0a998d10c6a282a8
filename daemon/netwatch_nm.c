/*
 * netwatch_nm.c - the network watcher's NetworkManager backend: the
 * daemon's side of roamsmtp-nmwatch (nmwatch_main.c).
 *
 * libnm, and GLib's main loop that it needs, run in that helper program,
 * not here: the relay core stays on libevent (STYLE.md), and the daemon
 * does not map libnm and GIO at all (issue 2: under 10 MB at 10 sessions).
 * The helper is a child of the daemon.  Its standard output is one end of
 * a socketpair; on it come whole snapshots, one JSON object a line,
 * {"v":NETFACTS_VERSION,"facts":{...}}, read here by a bufferevent.
 *
 * Which program: $ROAMSMTP_NMWATCH (tests), else roamsmtp-nmwatch next to
 * the daemon's own binary (the build tree), else the one installed in
 * ROAMSMTP_LIBEXECDIR.
 *
 * Its life: start() runs it and waits for its first line (libnm connected)
 * or its exit (libnm could not; it says why on standard error, which is
 * ours).  stop() closes the channel, sends SIGTERM and reaps it.  It gets
 * SIGTERM by itself if the daemon dies (PR_SET_PDEATHSIG, set between fork
 * and exec, so that no window is left) and exits on end of file on the
 * channel.  If it dies while watching, that is logged, the facts become
 * "unknown" (what NetworkManager being away looks like: routing must not
 * go on trusting where we were), and it is started again after a backoff
 * that doubles while it keeps dying early.
 *
 * available() asks the helper too (roamsmtp-nmwatch --available, its exit
 * status): asking the bus here would need GIO in the daemon.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "netfacts.h"
#include "netwatch.h"

#ifndef ROAMSMTP_LIBEXECDIR	/* set by the build */
#define ROAMSMTP_LIBEXECDIR	"/usr/local/libexec/roamsmtp"
#endif
#define NM_HELPER		"roamsmtp-nmwatch"
#define NM_HELPER_ENV		"ROAMSMTP_NMWATCH"
/* A full snapshot (every table at its NETFACTS_*_MAX) is about 6 KB of
 * JSON; a longer line means the channel is broken. */
#define NM_LINE_MAX		(64 * 1024)
/* The helper's first line follows nm_client_new(), whose D-Bus calls time
 * out after D-Bus's default 25 s; waiting longer means it hangs. */
#define NM_START_TIMEOUT_MS	30000
/* Restart backoff: a helper that dies at once (no system bus, a crash
 * on every snapshot) is tried again after 1, 2, 4 ... 60 s; one that ran
 * for a minute before dying starts the schedule over. */
#define NM_RESTART_MIN_S	1
#define NM_RESTART_MAX_S	60
#define NM_RESTART_RESET_S	60

struct nm_watch {
	struct event_base	*base;
	void			(*emit)(const struct net_facts *, void *);
	void			*emit_arg;
	char			 path[PATH_MAX];	/* the helper */
	pid_t			 pid;		/* -1: not running */
	time_t			 started;	/* CLOCK_MONOTONIC, seconds */
	struct bufferevent	*bev;		/* our end of the channel */
	struct event		*restart;	/* the backoff timer */
	int			 backoff;	/* seconds, next restart */
};

/* ------------------------------------------------------------ the helper */

static time_t
nm_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Which roamsmtp-nmwatch to run (see the top of the file): 0, or -1 with
 * the places looked at in err. */
static int
nm_helper_path(char *path, size_t len, char *err, size_t errlen)
{
	const char	*env = getenv(NM_HELPER_ENV);
	char		 self[PATH_MAX], *slash;
	ssize_t		 n;

	if (env != NULL && *env != '\0') {
		snprintf(path, len, "%s", env);
		if (access(path, X_OK) == 0)
			return 0;
		snprintf(err, errlen, "%s=%s: %s", NM_HELPER_ENV, env,
		    strerror(errno));
		return -1;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(path, len, "%s/%s", self,
			    NM_HELPER) < len && access(path, X_OK) == 0)
				return 0;
		}
	}
	snprintf(path, len, "%s/%s", ROAMSMTP_LIBEXECDIR, NM_HELPER);
	if (access(path, X_OK) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s (not next to the daemon either); "
	    "reinstall roamsmtp or set %s", path, strerror(errno),
	    NM_HELPER_ENV);
	return -1;
}

/*
 * Run the helper with out (or /dev/null) as its standard output and
 * /dev/null as its standard input; standard error stays ours.  The child
 * does only async-signal-safe things before exec: the daemon may have
 * threads.
 */
static pid_t
nm_spawn(const char *path, char *const argv[], int out, char *err,
    size_t errlen)
{
	sigset_t	none;
	pid_t		parent = getpid(), pid;
	char		msg[PATH_MAX + 64];
	int		null, len;

	len = snprintf(msg, sizeof(msg), "netwatch networkmanager: cannot "
	    "run %s\n", path);
	if (len < 0 || (size_t)len >= sizeof(msg))
		len = sizeof(msg) - 1;
	switch (pid = fork()) {
	case -1:
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	case 0:
		break;
	default:
		return pid;
	}
	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1 ||
	    dup2(out != -1 ? out : null, STDOUT_FILENO) == -1)
		_exit(127);
	/* Nothing of the daemon's (listeners, sessions, the queue) stays
	 * open in the helper. */
	close_range(3, ~0U, 0);
	/* Die with the daemon; if it is gone already, do not start. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	execv(path, argv);
	(void)!write(STDERR_FILENO, msg, len);
	_exit(127);
}

/* Wait for pid to end: its wait status, or -1. */
static int
nm_reap(pid_t pid)
{
	int	status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return status;
}

static void
nm_describe(int status, char *buf, size_t len)
{
	if (status == -1)
		snprintf(buf, len, "could not be reaped");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(buf, len, "ended with wait status %d", status);
}

/* Its log lines go where ours go: to syslog once daemon(3) has pointed our
 * standard error at /dev/null, else to standard error. */
static int
nm_stderr_is_null(void)
{
	struct stat	err, null;

	if (fstat(STDERR_FILENO, &err) == -1)
		return 1;
	return stat("/dev/null", &null) == 0 && S_ISCHR(err.st_mode) &&
	    err.st_rdev == null.st_rdev;
}

/* ------------------------------------------------------------ the channel */

/* One line from the helper: 0 with the snapshot in f, or -1 (logged). */
static int
nm_receive(const char *line, size_t len, struct net_facts *f)
{
	json_error_t	 jerr;
	json_t		*msg, *v;
	char		 err[256];
	int		 rc = -1;

	if ((msg = json_loadb(line, len, 0, &jerr)) == NULL) {
		log_warnx("netwatch networkmanager: channel: bad JSON: %s",
		    jerr.text);
		return -1;
	}
	v = json_object_get(msg, "v");
	if (!json_is_integer(v) || json_integer_value(v) != NETFACTS_VERSION)
		log_warnx("netwatch networkmanager: channel: version is not %d; "
		    "snapshot ignored", NETFACTS_VERSION);
	else if (netfacts_from_json(json_object_get(msg, "facts"), f, err,
	    sizeof(err)) == -1)
		log_warnx("netwatch networkmanager: channel: %s; snapshot "
		    "ignored", err);
	else
		rc = 0;
	json_decref(msg);
	return rc;
}

/*
 * Each line is a whole snapshot, so of several waiting only the last one
 * matters.  It is handed on as the very last thing done here: the callback
 * may stop the watcher, which frees w and the bufferevent.
 */
static void
nm_readcb(struct bufferevent *bev, void *arg)
{
	struct nm_watch		*w = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct net_facts	 f, next;
	char			*line;
	size_t			 len;
	int			 have = 0;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (nm_receive(line, len, &next) == 0) {
			f = next;
			have = 1;
		}
		free(line);
	}
	if ((len = evbuffer_get_length(in)) > NM_LINE_MAX) {
		log_warnx("netwatch networkmanager: channel: line over %d "
		    "bytes; dropped", NM_LINE_MAX);
		evbuffer_drain(in, len);
	}
	if (have)
		w->emit(&f, w->emit_arg);
}

static void	nm_eventcb(struct bufferevent *, short, void *);

/* Run the helper on a new channel: 0, or -1 with the reason in err. */
static int
nm_launch(struct nm_watch *w, char *err, size_t errlen)
{
	char	*argv[4];
	int	 sv[2], argc = 0;

	argv[argc++] = NM_HELPER;
	if (nm_stderr_is_null())
		argv[argc++] = "-s";
	if (log_verbose())
		argv[argc++] = "-v";
	argv[argc] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if (evutil_make_socket_nonblocking(sv[0]) == -1 ||
	    (w->bev = bufferevent_socket_new(w->base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		snprintf(err, errlen, "cannot set up the watcher's channel");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	w->pid = nm_spawn(w->path, argv, sv[1], err, errlen);
	close(sv[1]);
	if (w->pid == -1) {
		bufferevent_free(w->bev);
		w->bev = NULL;
		return -1;
	}
	w->started = nm_now();
	bufferevent_setcb(w->bev, nm_readcb, NULL, nm_eventcb, w);
	bufferevent_enable(w->bev, EV_READ);
	return 0;
}

/* Close the channel and end the helper: its wait status, or -1. */
static int
nm_halt(struct nm_watch *w)
{
	int	status = -1;

	if (w->bev != NULL) {
		bufferevent_free(w->bev);
		w->bev = NULL;
	}
	if (w->pid != -1) {
		/* Harmless if it is exiting already: the status it exits
		 * with is the one reaped. */
		kill(w->pid, SIGTERM);
		status = nm_reap(w->pid);
		w->pid = -1;
	}
	return status;
}

/* Until start() returns: its first line is there (0), or it ended or
 * hangs (-1, reason in err). */
static int
nm_wait_first(struct nm_watch *w, char *err, size_t errlen)
{
	struct pollfd	pfd;
	time_t		end = nm_now() + NM_START_TIMEOUT_MS / 1000;
	char		c, why[64];
	int		n;

	pfd.fd = bufferevent_getfd(w->bev);
	pfd.events = POLLIN;
	do {
		n = poll(&pfd, 1, (int)(end - nm_now()) * 1000);
	} while (n == -1 && errno == EINTR && nm_now() < end);
	if (n == 1 && recv(pfd.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
		return 0;
	if (n == 0)
		snprintf(err, errlen, "%s pid=%d said nothing within %d s; "
		    "stopped", w->path, (int)w->pid,
		    NM_START_TIMEOUT_MS / 1000);
	else {
		nm_describe(nm_halt(w), why, sizeof(why));
		snprintf(err, errlen, "%s %s (its reason is logged above)",
		    w->path, why);
	}
	return -1;
}

static void
nm_unknown(struct net_facts *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->backend, sizeof(f->backend), "%s", netwatch_nm_ops.name);
	f->connectivity = NETCONN_UNKNOWN;
}

static void
nm_schedule(struct nm_watch *w)
{
	struct timeval	tv = { w->backoff, 0 };

	evtimer_add(w->restart, &tv);
	w->backoff *= 2;
	if (w->backoff > NM_RESTART_MAX_S)
		w->backoff = NM_RESTART_MAX_S;
}

/* The helper closed the channel: it has died or is dying. */
static void
nm_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct nm_watch		*w = arg;
	struct net_facts	 f;
	char			 why[64];
	pid_t			 pid = w->pid;

	if (nm_now() - w->started >= NM_RESTART_RESET_S)
		w->backoff = NM_RESTART_MIN_S;
	nm_describe(nm_halt(w), why, sizeof(why));
	log_warnx("netwatch networkmanager: %s pid=%d %s; network facts are "
	    "unknown until it runs again, in %d s", NM_HELPER, (int)pid, why,
	    w->backoff);
	nm_schedule(w);
	nm_unknown(&f);
	w->emit(&f, w->emit_arg);	/* last: it may stop the watcher */
}

static void
nm_restart(evutil_socket_t fd, short ev, void *arg)
{
	struct nm_watch	*w = arg;
	char		 err[256];

	if (nm_launch(w, err, sizeof(err)) == -1) {
		log_warnx("netwatch networkmanager: cannot restart %s: %s; "
		    "next try in %d s", NM_HELPER, err, w->backoff);
		nm_schedule(w);
		return;
	}
	log_info("netwatch networkmanager: %s restarted pid=%d", NM_HELPER,
	    (int)w->pid);
}

/* ------------------------------------------------------------ ops */

/* NetworkManager owns its name on the system bus (or the bus in
 * DBUS_SYSTEM_BUS_ADDRESS): the helper's exit status says. */
static int
nm_available(void)
{
	char	 path[PATH_MAX], err[PATH_MAX + 128], why[64];
	char	*argv[] = { NM_HELPER, "--available", NULL, NULL };
	pid_t	 pid;
	int	 status;

	if (log_verbose())
		argv[2] = "-v";
	if (nm_helper_path(path, sizeof(path), err, sizeof(err)) == -1) {
		log_warnx("netwatch networkmanager: %s", err);
		return -1;
	}
	if ((pid = nm_spawn(path, argv, -1, err, sizeof(err))) == -1) {
		log_warnx("netwatch networkmanager: %s", err);
		return -1;
	}
	status = nm_reap(pid);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) <= 1)
		return WEXITSTATUS(status) == 0 ? 0 : -1;
	nm_describe(status, why, sizeof(why));
	log_warnx("netwatch networkmanager: %s --available %s", path, why);
	return -1;
}

static void
nm_free(struct nm_watch *w)
{
	nm_halt(w);
	if (w->restart != NULL)
		event_free(w->restart);
	free(w);
}

static void *
nm_start(struct event_base *base,
    void (*emit)(const struct net_facts *, void *), void *emit_arg,
    char *err, size_t errlen)
{
	struct nm_watch	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->base = base;
	w->emit = emit;
	w->emit_arg = emit_arg;
	w->pid = -1;
	w->backoff = NM_RESTART_MIN_S;
	if ((w->restart = evtimer_new(base, nm_restart, w)) == NULL) {
		snprintf(err, errlen, "out of memory");
		nm_free(w);
		return NULL;
	}
	if (nm_helper_path(w->path, sizeof(w->path), err, errlen) == -1 ||
	    nm_launch(w, err, errlen) == -1 ||
	    nm_wait_first(w, err, errlen) == -1) {
		nm_free(w);
		return NULL;
	}
	log_debug("netwatch networkmanager: %s pid=%d", w->path, (int)w->pid);
	return w;
}

static void
nm_stop(void *arg)
{
	if (arg != NULL)
		nm_free(arg);
}

const struct netwatch_ops netwatch_nm_ops = {
	.name = "networkmanager",
	.available = nm_available,
	.start = nm_start,
	.stop = nm_stop,
};
