/* control.c - see control.h. */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "control.h"
#include "log.h"

/* Blocking client: the daemon answers at once; a wedged one must not hang
 * roamsmtpctl forever. */
#define CONTROL_CLIENT_TIMEOUT	30	/* seconds */
/* A client that sends requests and never reads the replies: stop reading
 * its requests while this much is waiting to go out. */
#define CONTROL_OUTPUT_HIGH	(1024 * 1024)

struct control_conn {
	TAILQ_ENTRY(control_conn)	 entry;
	struct control			*ctl;
	struct bufferevent		*bev;
	int				 closing;	/* after the output */
	int				 watching;	/* gets events */
};

struct control {
	struct evconnlistener		*listener;
	char				*path;
	control_handler			 handler;
	void				*arg;
	TAILQ_HEAD(, control_conn)	 conns;
	size_t				 nwatchers;
};

static void
conn_free(struct control_conn *cc)
{
	TAILQ_REMOVE(&cc->ctl->conns, cc, entry);
	if (cc->watching)
		cc->ctl->nwatchers--;
	bufferevent_free(cc->bev);
	free(cc);
}

static void
conn_send(struct control_conn *cc, json_t *reply)
{
	char	*s;

	if ((s = json_dumps(reply, JSON_COMPACT)) == NULL) {
		evbuffer_add_printf(bufferevent_get_output(cc->bev),
		    "{\"ok\":false,\"error\":\"internal error: reply not "
		    "encodable\"}\n");
		return;
	}
	evbuffer_add_printf(bufferevent_get_output(cc->bev), "%s\n", s);
	free(s);
}

static void
conn_error(struct control_conn *cc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
conn_error(struct control_conn *cc, const char *fmt, ...)
{
	char	 msg[512];
	json_t	*reply;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	conn_send(cc, reply);
	json_decref(reply);
}

/* {"cmd":"watch"}: this connection gets the events from now on. */
static void
conn_watch(struct control_conn *cc)
{
	json_t	*reply;

	cc->watching = 1;
	cc->ctl->nwatchers++;
	reply = json_pack("{s:b, s:b}", "ok", 1, "watching", 1);
	conn_send(cc, reply);
	json_decref(reply);
}

static void
conn_request(struct control_conn *cc, const char *line, size_t len)
{
	json_error_t	 jerr;
	json_t		*req, *reply;
	const char	*cmd;

	req = json_loadb(line, len, 0, &jerr);
	if (req == NULL || !json_is_object(req)) {
		conn_error(cc, "bad request: %s; send one JSON object a line, "
		    "e.g. {\"cmd\":\"status\"}", req == NULL ? jerr.text :
		    "not an object");
		json_decref(req);
		return;
	}
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (cmd != NULL && strcmp(cmd, "watch") == 0) {
		json_decref(req);
		conn_watch(cc);
		return;
	}
	reply = cc->ctl->handler(req, cc->ctl->arg);
	json_decref(req);
	if (reply == NULL) {
		conn_error(cc, "internal error: no reply; see the daemon's log");
		return;
	}
	conn_send(cc, reply);
	json_decref(reply);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct control_conn	*cc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	while (!cc->closing) {
		if (cc->watching) {
			/* A watcher only listens: its input is ignored. */
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    CONTROL_OUTPUT_HIGH) {
			bufferevent_disable(bev, EV_READ);
			break;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (line == NULL) {
			/* No end of line yet: bound what may pile up. */
			if (evbuffer_get_length(in) > CONTROL_LINE_MAX)
				len = evbuffer_get_length(in);
			else
				break;
		} else if (len <= CONTROL_LINE_MAX) {
			conn_request(cc, line, len);
			free(line);
			continue;
		}
		free(line);
		conn_error(cc, "request longer than %d bytes; closing",
		    CONTROL_LINE_MAX);
		cc->closing = 1;
		bufferevent_disable(bev, EV_READ);
		evbuffer_drain(in, evbuffer_get_length(in));
	}
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct control_conn	*cc = arg;

	if (cc->closing)
		conn_free(cc);
	else if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		/* The output drained: take the requests waiting. */
		bufferevent_enable(bev, EV_READ);
		conn_read(bev, cc);
	}
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn	*cc = arg;

	/* A client may send its request and shut its side at once (socat,
	 * nc -N): it still gets the replies already owed. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    !cc->watching &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		cc->closing = 1;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(cc);
}

/* Only our own user: the socket's mode says so already, the kernel's
 * word on the peer makes sure. */
static int
peer_is_me(int fd)
{
	struct ucred	cred;
	socklen_t	len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return 0;
	return cred.uid == geteuid();
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct control		*ctl = arg;
	struct control_conn	*cc;

	if (!peer_is_me(fd)) {
		log_warnx("control refused a connection from another user");
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		log_warn("control: calloc");
		close(fd);
		return;
	}
	cc->ctl = ctl;
	cc->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (cc->bev == NULL) {
		log_warnx("control: cannot make a bufferevent");
		close(fd);
		free(cc);
		return;
	}
	TAILQ_INSERT_TAIL(&ctl->conns, cc, entry);
	bufferevent_setcb(cc->bev, conn_read, conn_write, conn_event, cc);
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
}

static int
make_sockaddr(const char *path, struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "control socket path %s is longer than "
		    "%zu bytes; choose a shorter runtime-dir", path,
		    sizeof(sun->sun_path) - 1);
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

/* The socket's folder, made 0700 (parents too) when missing. */
static int
make_dir(const char *path, char *err, size_t errlen)
{
	char	*dir, *p;
	int	 last;

	if ((dir = strdup(path)) == NULL)
		return -1;
	if ((p = strrchr(dir, '/')) == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		last = *p == '\0';
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir,
			    strerror(errno));
			free(dir);
			return -1;
		}
		if (last)
			break;
		*p = '/';
	}
	free(dir);
	return 0;
}

/* 0 when path is free now (nothing there, or a stale socket removed). */
static int
clear_stale(const char *path, const struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	int	fd, r, saved;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "another roamsmtpd is running (control "
		    "socket %s)", path);
		return -1;
	}
	if (saved == ENOENT)
		return 0;
	if (saved == ECONNREFUSED) {
		if (unlink(path) == -1 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove the stale control "
			    "socket %s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "cannot use %s as the control socket: %s", path,
	    strerror(saved));
	return -1;
}

struct control *
control_open(struct event_base *base, const char *path,
    control_handler handler, void *arg, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct control		*ctl;
	mode_t			 old;
	int			 fd, r;

	if (make_sockaddr(path, &sun, err, errlen) == -1 ||
	    make_dir(path, err, errlen) == -1 ||
	    clear_stale(path, &sun, err, errlen) == -1)
		return NULL;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == -1 || chmod(path, 0600) == -1 || listen(fd, 16) == -1) {
		snprintf(err, errlen, "cannot listen on %s: %s", path,
		    strerror(errno));
		if (r == 0)
			unlink(path);
		close(fd);
		return NULL;
	}
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL ||
	    (ctl->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ctl->handler = handler;
	ctl->arg = arg;
	TAILQ_INIT(&ctl->conns);
	ctl->listener = evconnlistener_new(base, accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (ctl->listener == NULL) {
		snprintf(err, errlen, "cannot listen on %s", path);
		goto fail;
	}
	return ctl;
 fail:
	if (ctl != NULL)
		free(ctl->path);
	free(ctl);
	unlink(path);
	close(fd);
	return NULL;
}

void
control_close(struct control *ctl)
{
	if (ctl == NULL)
		return;
	while (!TAILQ_EMPTY(&ctl->conns))
		conn_free(TAILQ_FIRST(&ctl->conns));
	evconnlistener_free(ctl->listener);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

void
control_broadcast(struct control *ctl, json_t *event)
{
	struct control_conn	*cc, *next;
	struct evbuffer		*out;
	char			*s;
	size_t			 len, waiting;

	if (ctl == NULL || ctl->nwatchers == 0)
		return;
	if ((s = json_dumps(event, JSON_COMPACT)) == NULL) {
		log_warnx("control: an event could not be encoded; not sent");
		return;
	}
	len = strlen(s);
	for (cc = TAILQ_FIRST(&ctl->conns); cc != NULL; cc = next) {
		next = TAILQ_NEXT(cc, entry);
		if (!cc->watching)
			continue;
		out = bufferevent_get_output(cc->bev);
		waiting = evbuffer_get_length(out);
		if (waiting + len + 1 > CONTROL_WATCH_OUTPUT_MAX) {
			log_warnx("control: dropped a watcher that stopped "
			    "reading (%zu bytes of events waiting)", waiting);
			conn_free(cc);
			continue;
		}
		if (evbuffer_add(out, s, len) == -1 ||
		    evbuffer_add(out, "\n", 1) == -1) {
			log_warnx("control: dropped a watcher: out of memory");
			conn_free(cc);
		}
	}
	free(s);
}

size_t
control_nwatchers(const struct control *ctl)
{
	return ctl == NULL ? 0 : ctl->nwatchers;
}

/* The client side: blocking, for roamsmtpctl. */

struct control_client {
	int	 fd;
	char	*path;
	char	*buf;		/* received, not yet returned */
	size_t	 len, cap;
};

static long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events before the deadline (-1: no
 * deadline); 0 or -1. */
static int
wait_fd(int fd, short events, long deadline)
{
	struct pollfd	pfd;
	long		left = -1;
	int		r;

	for (;;) {
		if (deadline != -1 && (left = deadline - now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

static int
send_all(int fd, const char *buf, size_t len, long deadline)
{
	ssize_t	n;

	while (len > 0) {
		if (wait_fd(fd, POLLOUT, deadline) == -1)
			return -1;
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * The next line the daemon sent, without its newline, malloc'ed; what came
 * after it stays buffered for the next call.  NULL at the end: errno 0 for
 * the daemon closing the connection, else the error; err says which.
 */
static char *
recv_line(struct control_client *cl, long deadline, size_t *lenp, char *err,
    size_t errlen)
{
	char	*line, *nl, *nb;
	size_t	 scanned = 0, cap;
	ssize_t	 n;

	for (;;) {
		if (cl->len > scanned && (nl = memchr(cl->buf + scanned, '\n',
		    cl->len - scanned)) != NULL) {
			*lenp = nl - cl->buf;
			if ((line = malloc(*lenp + 1)) == NULL) {
				snprintf(err, errlen, "out of memory");
				return NULL;
			}
			memcpy(line, cl->buf, *lenp);
			line[*lenp] = '\0';
			cl->len -= *lenp + 1;
			memmove(cl->buf, nl + 1, cl->len);
			return line;
		}
		scanned = cl->len;
		if (cl->cap - cl->len < 4096) {
			cap = cl->cap == 0 ? 8192 : cl->cap * 2;
			if (cap > CONTROL_REPLY_MAX + 1)
				cap = CONTROL_REPLY_MAX + 1;
			if (cap - cl->len == 0) {
				snprintf(err, errlen, "line from roamsmtpd "
				    "longer than %d bytes", CONTROL_REPLY_MAX);
				errno = EPROTO;
				return NULL;
			}
			if ((nb = realloc(cl->buf, cap)) == NULL) {
				snprintf(err, errlen, "out of memory");
				return NULL;
			}
			cl->buf = nb;
			cl->cap = cap;
		}
		if (wait_fd(cl->fd, POLLIN, deadline) == -1) {
			if (errno == ETIMEDOUT)
				snprintf(err, errlen, "no reply from roamsmtpd "
				    "within %d seconds", CONTROL_CLIENT_TIMEOUT);
			else
				snprintf(err, errlen, "poll: %s",
				    strerror(errno));
			return NULL;
		}
		n = recv(cl->fd, cl->buf + cl->len, cl->cap - cl->len, 0);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == 0) {
			snprintf(err, errlen, "roamsmtpd closed the control "
			    "connection");
			errno = 0;
			return NULL;
		}
		if (n == -1) {
			snprintf(err, errlen, "roamsmtpd dropped the control "
			    "connection: %s", strerror(errno));
			return NULL;
		}
		cl->len += n;
	}
}

static json_t *
parse_line(const char *line, size_t len, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*o;

	o = json_loadb(line, len, 0, &jerr);
	if (o == NULL || !json_is_object(o)) {
		snprintf(err, errlen, "roamsmtpd sent a bad line: %s",
		    o == NULL ? jerr.text : "not an object");
		json_decref(o);
		errno = EPROTO;
		return NULL;
	}
	return o;
}

struct control_client *
control_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct control_client	*cl;
	int			 fd, saved;

	if (make_sockaddr(path, &sun, err, errlen) == -1) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot connect to %s: %s", path,
		    strerror(saved));
		close(fd);
		errno = saved;
		return NULL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if ((cl = calloc(1, sizeof(*cl))) == NULL ||
	    (cl->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(cl);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	cl->fd = fd;
	return cl;
}

json_t *
control_call(struct control_client *cl, json_t *request, char *err,
    size_t errlen)
{
	json_t	*reply;
	char	*out, *in;
	size_t	 len;
	long	 deadline;
	int	 saved;

	deadline = now_ms() + CONTROL_CLIENT_TIMEOUT * 1000L;
	if ((out = json_dumps(request, JSON_COMPACT)) == NULL) {
		snprintf(err, errlen, "cannot encode the request");
		errno = EINVAL;
		return NULL;
	}
	if (send_all(cl->fd, out, strlen(out), deadline) == -1 ||
	    send_all(cl->fd, "\n", 1, deadline) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot send to %s: %s", cl->path,
		    strerror(saved));
		free(out);
		errno = saved;
		return NULL;
	}
	free(out);
	if ((in = recv_line(cl, deadline, &len, err, errlen)) == NULL) {
		/* No reply at all is a protocol failure, not a clean end. */
		if (errno == 0) {
			snprintf(err, errlen, "roamsmtpd closed the control "
			    "connection without a reply");
			errno = EPROTO;
		}
		return NULL;
	}
	reply = parse_line(in, len, err, errlen);
	free(in);
	return reply;
}

json_t *
control_next(struct control_client *cl, char **linep, char *err,
    size_t errlen)
{
	json_t	*o;
	char	*in;
	size_t	 len;

	if (linep != NULL)
		*linep = NULL;
	if ((in = recv_line(cl, -1, &len, err, errlen)) == NULL)
		return NULL;
	if ((o = parse_line(in, len, err, errlen)) == NULL || linep == NULL)
		free(in);
	else
		*linep = in;
	return o;
}

void
control_disconnect(struct control_client *cl)
{
	if (cl == NULL)
		return;
	close(cl->fd);
	free(cl->buf);
	free(cl->path);
	free(cl);
}

json_t *
control_request(const char *path, json_t *request, char *err, size_t errlen)
{
	struct control_client	*cl;
	json_t			*reply;
	int			 saved;

	if ((cl = control_connect(path, err, errlen)) == NULL)
		return NULL;
	reply = control_call(cl, request, err, errlen);
	saved = errno;
	control_disconnect(cl);
	errno = saved;
	return reply;
}
