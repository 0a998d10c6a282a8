/* secret.c - see secret.h. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSECRET
#include <libsecret/secret.h>
#endif

#include "profile.h"
#include "secret.h"

/* How often to look again for the exit of a command that closed its
 * output but has not exited yet. */
#define SECRET_WAIT_STEP_MS	10

static long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first line of buf[0..len), as a new string, without CR/LF. */
static char *
first_line(const char *buf, size_t len)
{
	const char	*nl;
	char		*s;

	if ((nl = memchr(buf, '\n', len)) != NULL)
		len = nl - buf;
	while (len > 0 && buf[len - 1] == '\r')
		len--;
	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, buf, len);
	s[len] = '\0';
	return s;
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int
secret_read_file(const char *path, char **out, char *err, size_t errlen)
{
	char		buf[SECRET_MAX];
	struct stat	st;
	ssize_t		n;
	size_t		len = 0;
	int		fd;

	*out = NULL;
	if (lstat(path, &st) == -1) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file; give the "
		    "file itself (not a link), mode 0600", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s belongs to uid %u, not to you (uid "
		    "%u); make your own copy, mode 0600", path,
		    (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s is readable by others (mode %04o); "
		    "run: chmod 600 %s", path, (unsigned)(st.st_mode & 07777),
		    path);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (len < sizeof(buf) &&
	    (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot read %s: %s", path,
			    strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return -1;
		}
		len += n;
	}
	close(fd);
	if (len == sizeof(buf) && memchr(buf, '\n', len) == NULL) {
		explicit_bzero(buf, sizeof(buf));
		snprintf(err, errlen, "%s: the first line is longer than %d "
		    "bytes; write the password alone on it", path,
		    SECRET_MAX - 1);
		return -1;
	}
	*out = first_line(buf, len);
	explicit_bzero(buf, sizeof(buf));
	if (**out == '\0') {
		secret_free(*out);
		*out = NULL;
		snprintf(err, errlen, "%s has no password on its first line; "
		    "write it there", path);
		return -1;
	}
	return 0;
}

static pid_t
spawn(const char *cmd, int *rfd)
{
	int	p[2], null;
	pid_t	pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* Own process group: a timeout kills what the shell started. */
		setpgid(0, 0);
		if ((null = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(null, STDIN_FILENO) == -1 ||
		    dup2(p[1], STDOUT_FILENO) == -1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

/*
 * Read the command's output until EOF or the deadline: the first line is
 * kept (SECRET_MAX at most), the rest drained so the command never blocks
 * on a full pipe.  1 on EOF, 0 on timeout, -1 on error.
 */
static int
read_output(int fd, long deadline, char *buf, size_t *len, int *overflow)
{
	char		drain[512];
	struct pollfd	pfd;
	ssize_t		n;
	long		left;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd.revents == 0)
			continue;
		if (*len < SECRET_MAX)
			n = read(fd, buf + *len, SECRET_MAX - *len);
		else
			n = read(fd, drain, sizeof(drain));
		if (n == 0)
			return 1;
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (*len < SECRET_MAX)
			*len += n;
		else if (memchr(buf, '\n', *len) == NULL)
			*overflow = 1;
		explicit_bzero(drain, sizeof(drain));
	}
}

/* Wait for pid until the deadline; kill its group after it.  Returns the
 * wait status, or -1 when it had to be killed. */
static int
reap(pid_t pid, long deadline)
{
	int	status;
	pid_t	r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r == -1 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline)
			break;
		poll(NULL, 0, SECRET_WAIT_STEP_MS);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return -1;
}

/*
 * Run cmd (the profile's key named key) and take the first line of its
 * output.  Errors name the profile, the key and its file.
 */
static int
run_command(const struct profile *p, const char *key, const char *cmd,
    char **out, char *err, size_t errlen)
{
	const char	*what = strcmp(key, "token-command") == 0 ?
			    "access token" : "password";
	char		 buf[SECRET_MAX];
	size_t		 len = 0;
	long		 deadline;
	pid_t		 pid;
	int		 fd, r, status, overflow = 0;

	*out = NULL;
	if ((pid = spawn(cmd, &fd)) == -1) {
		snprintf(err, errlen, "profile %s: cannot run "
		    "%s: %s", p->name, key, strerror(errno));
		return -1;
	}
	deadline = now_ms() + SECRET_COMMAND_TIMEOUT * 1000L;
	r = read_output(fd, deadline, buf, &len, &overflow);
	close(fd);
	if (r == 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	status = reap(pid, r == 1 ? deadline : 0);
	if (len == SECRET_MAX && memchr(buf, '\n', len) == NULL)
		overflow = 1;
	if (r == 1 && status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0 && !overflow)
		*out = first_line(buf, len);
	explicit_bzero(buf, sizeof(buf));

	if (*out != NULL && **out != '\0')
		return 0;
	secret_free(*out);
	*out = NULL;
	if (r == -1)
		snprintf(err, errlen, "profile %s: reading the output of "
		    "%s failed: %s", p->name, key, strerror(errno));
	else if (r == 0 || status == -1)
		snprintf(err, errlen, "profile %s: %s did not finish "
		    "within %d seconds; check it in a terminal (the one in %s)",
		    p->name, key, SECRET_COMMAND_TIMEOUT, p->path);
	else if (WIFSIGNALED(status))
		snprintf(err, errlen, "profile %s: %s was killed by "
		    "signal %d; check it in a terminal (the one in %s)", p->name,
		    key, WTERMSIG(status), p->path);
	else if (WEXITSTATUS(status) != 0)
		snprintf(err, errlen, "profile %s: %s exited with "
		    "status %d; check it in a terminal (the one in %s)", p->name,
		    key, WEXITSTATUS(status), p->path);
	else if (overflow)
		snprintf(err, errlen, "profile %s: %s printed a first "
		    "line longer than %d bytes; it must print the %s alone",
		    p->name, key, SECRET_MAX - 1, what);
	else
		snprintf(err, errlen, "profile %s: %s printed nothing "
		    "(exit status 0); it must print the %s on its first line",
		    p->name, key, what);
	return -1;
}

#ifdef HAVE_LIBSECRET
/*
 * One main context for every lookup, iterated only while a lookup runs:
 * GIO's connection to the bus belongs to the context it was made in and
 * queues its events there (its "closed" event too, which holds the
 * connection until it is delivered).
 */
static GMainContext	*lookup_ctx;

struct lookup {
	int		 done;
	GDBusConnection	*bus;
	SecretValue	*value;
	GError		*error;
};

static void
bus_done(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct lookup	*l = arg;

	l->bus = g_bus_get_finish(res, &l->error);
	l->done = 1;
}

static void
lookup_done(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct lookup	*l = arg;

	l->value = secret_service_lookup_finish(NULL, res, &l->error);
	l->done = 1;
}

static gboolean
lookup_timeout(gpointer arg)
{
	g_cancellable_cancel(arg);
	return G_SOURCE_REMOVE;
}

/* "service=roamsmtp user=alice" as "service roamsmtp user alice", the
 * arguments secret-tool takes. */
static void
attrs_as_args(const char *attrs, char *buf, size_t len)
{
	size_t	i, o = 0;

	for (i = 0; attrs[i] != '\0' && o + 1 < len; i++)
		buf[o++] = attrs[i] == '=' || attrs[i] == '\t' ? ' ' :
		    attrs[i];
	buf[o] = '\0';
}

/*
 * Look the password up in the Secret Service by the profile's attributes,
 * with no schema: secret-tool stores and finds items that way, so a
 * password stored with "secret-tool store --label=x service roamsmtp user
 * alice" is found with "service=roamsmtp user=alice".  libsecret's calls go
 * over D-Bus and a locked keyring may wait for a prompt: the lookup runs on
 * a private main context and is cancelled after SECRET_COMMAND_TIMEOUT.
 * A session bus that went away (and perhaps came back) is connected to
 * afresh, and never ends the daemon.
 */
static int
lookup_secret(const struct profile *p, char **out, char *err, size_t errlen)
{
	struct lookup	 l = { 0, NULL, NULL, NULL };
	GMainContext	*ctx;
	GCancellable	*cancel;
	GHashTable	*attrs;
	GSource		*timer;
	gchar		**w;
	const gchar	*text;
	char		 args[512];
	size_t		 i;
	int		 timed_out;

	*out = NULL;
	attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	w = g_strsplit_set(p->password_secret, " \t", -1);
	for (i = 0; w[i] != NULL; i++) {
		char	*eq = strchr(w[i], '=');

		if (w[i][0] == '\0' || eq == NULL)
			continue;	/* the profile parser refused these */
		g_hash_table_replace(attrs, g_strndup(w[i], eq - w[i]),
		    g_strdup(eq + 1));
	}
	g_strfreev(w);
	attrs_as_args(p->password_secret, args, sizeof(args));

	if (lookup_ctx == NULL)
		lookup_ctx = g_main_context_new();
	ctx = lookup_ctx;
	g_main_context_push_thread_default(ctx);
	cancel = g_cancellable_new();
	timer = g_timeout_source_new_seconds(SECRET_COMMAND_TIMEOUT);
	g_source_set_callback(timer, lookup_timeout, cancel, NULL);
	g_source_attach(timer, ctx);
	g_bus_get(G_BUS_TYPE_SESSION, cancel, bus_done, &l);
	while (!l.done)
		g_main_context_iteration(ctx, TRUE);
	if (l.bus != NULL && g_dbus_connection_is_closed(l.bus)) {
		/* The bus went away since the last lookup (the session was
		 * restarted): drop libsecret's proxy and the dead connection,
		 * GIO's shared one, so that GIO connects afresh. */
		g_object_unref(l.bus);
		l.bus = NULL;
		secret_service_disconnect();
		while (g_main_context_iteration(ctx, FALSE))
			;
		l.done = 0;
		g_bus_get(G_BUS_TYPE_SESSION, cancel, bus_done, &l);
		while (!l.done)
			g_main_context_iteration(ctx, TRUE);
	}
	if (l.bus != NULL) {
		/* GIO's session bus ends the process when the bus goes away
		 * (exit-on-close): right for a desktop application, not for
		 * a daemon whose keyring is one source of passwords among
		 * several.  libsecret shares this connection. */
		g_dbus_connection_set_exit_on_close(l.bus, FALSE);
		l.done = 0;
		secret_service_lookup(NULL, NULL, attrs, cancel, lookup_done,
		    &l);
		while (!l.done)
			g_main_context_iteration(ctx, TRUE);
		g_object_unref(l.bus);
	}
	timed_out = g_cancellable_is_cancelled(cancel);
	g_source_destroy(timer);
	g_source_unref(timer);
	g_object_unref(cancel);
	g_main_context_pop_thread_default(ctx);
	g_hash_table_unref(attrs);

	if (l.value != NULL) {
		if ((text = secret_value_get_text(l.value)) != NULL &&
		    text[0] != '\0' && strlen(text) < SECRET_MAX)
			*out = first_line(text, strlen(text));
		secret_value_unref(l.value);
		if (*out != NULL && **out != '\0')
			return 0;
		secret_free(*out);
		*out = NULL;
		snprintf(err, errlen, "profile %s: the Secret Service item "
		    "with %s is not a text password of at most %d bytes; store "
		    "it again with: secret-tool store --label='roamsmtp %s' %s",
		    p->name, p->password_secret, SECRET_MAX - 1, p->name, args);
		return -1;
	}
	if (timed_out)
		snprintf(err, errlen, "profile %s: the Secret Service did not "
		    "answer within %d seconds (a locked keyring waiting for a "
		    "prompt?); unlock it, and check with: secret-tool lookup "
		    "%s", p->name, SECRET_COMMAND_TIMEOUT, args);
	else if (l.error != NULL)
		snprintf(err, errlen, "profile %s: cannot ask the Secret "
		    "Service for %s: %s; is a keyring (gnome-keyring, "
		    "KeePassXC) running and unlocked in this session?",
		    p->name, p->password_secret, l.error->message);
	else
		snprintf(err, errlen, "profile %s: the Secret Service has no "
		    "password with %s (password-secret in %s); store it with: "
		    "secret-tool store --label='roamsmtp %s' %s", p->name,
		    p->password_secret, p->path, p->name, args);
	if (l.error != NULL)
		g_error_free(l.error);
	return -1;
}
#else
static int
lookup_secret(const struct profile *p, char **out, char *err, size_t errlen)
{
	char	args[512];
	size_t	i, o = 0;

	for (i = 0; p->password_secret[i] != '\0' && o + 1 < sizeof(args); i++)
		args[o++] = p->password_secret[i] == '=' ? ' ' :
		    p->password_secret[i];
	args[o] = '\0';
	*out = NULL;
	snprintf(err, errlen, "profile %s: this roamsmtpd was built without "
	    "libsecret, so password-secret can't be read; write instead "
	    "password-command = secret-tool lookup %s", p->name, args);
	return -1;
}
#endif

int
secret_fetch(const struct profile *p, char **out, char *err, size_t errlen)
{
	char	ferr[512];

	*out = NULL;
	if (p->auth == AUTHC_XOAUTH2 || p->auth == AUTHC_OAUTHBEARER) {
		if (p->token_command != NULL)
			return run_command(p, "token-command",
			    p->token_command, out, err, errlen);
		snprintf(err, errlen, "profile %s: auth = %s needs "
		    "token-command; add it to [upstream] in %s", p->name,
		    auth_choice_name(p->auth), p->path);
		return -1;
	}
	if (p->password_command != NULL)
		return run_command(p, "password-command", p->password_command,
		    out, err, errlen);
	if (p->password_secret != NULL)
		return lookup_secret(p, out, err, errlen);
	if (p->password_file != NULL) {
		if (secret_read_file(p->password_file, out, ferr,
		    sizeof(ferr)) == -1) {
			snprintf(err, errlen, "profile %s: %s", p->name, ferr);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "profile %s: no password-command, "
	    "password-secret or password-file; add one to [upstream] in %s",
	    p->name, p->path);
	return -1;
}
