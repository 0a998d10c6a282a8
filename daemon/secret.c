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

static int
run_command(const struct profile *p, char **out, char *err, size_t errlen)
{
	char	buf[SECRET_MAX];
	size_t	len = 0;
	long	deadline;
	pid_t	pid;
	int	fd, r, status, overflow = 0;

	*out = NULL;
	if ((pid = spawn(p->password_command, &fd)) == -1) {
		snprintf(err, errlen, "profile %s: cannot run "
		    "password-command: %s", p->name, strerror(errno));
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
		    "password-command failed: %s", p->name, strerror(errno));
	else if (r == 0 || status == -1)
		snprintf(err, errlen, "profile %s: password-command did not "
		    "finish within %d seconds; check it in a terminal (the one "
		    "in %s)", p->name, SECRET_COMMAND_TIMEOUT, p->path);
	else if (WIFSIGNALED(status))
		snprintf(err, errlen, "profile %s: password-command was "
		    "killed by signal %d; check it in a terminal (the one in "
		    "%s)", p->name, WTERMSIG(status), p->path);
	else if (WEXITSTATUS(status) != 0)
		snprintf(err, errlen, "profile %s: password-command exited "
		    "with status %d; check it in a terminal (the one in %s)",
		    p->name, WEXITSTATUS(status), p->path);
	else if (overflow)
		snprintf(err, errlen, "profile %s: password-command printed "
		    "a first line longer than %d bytes; it must print the "
		    "password alone", p->name, SECRET_MAX - 1);
	else
		snprintf(err, errlen, "profile %s: password-command printed "
		    "nothing (exit status 0); it must print the password on "
		    "its first line", p->name);
	return -1;
}

int
secret_fetch(const struct profile *p, char **out, char *err, size_t errlen)
{
	char	ferr[512];

	*out = NULL;
	if (p->password_command != NULL)
		return run_command(p, out, err, errlen);
	if (p->password_file != NULL) {
		if (secret_read_file(p->password_file, out, ferr,
		    sizeof(ferr)) == -1) {
			snprintf(err, errlen, "profile %s: %s", p->name, ferr);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "profile %s: no password-command or "
	    "password-file; add one to [upstream] in %s", p->name, p->path);
	return -1;
}
