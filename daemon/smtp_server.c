/*
 * smtp_server.c - the loopback listeners.  Before a session starts, the
 * owner of the client's socket is looked up (sockdiag.c): only the user the
 * daemon runs as may submit, everyone else gets a 554 that says why.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/listener.h>

#include "log.h"
#include "privdrop.h"
#include "smtp_server.h"
#include "smtp_session.h"
#include "sockdiag.h"
#include "util.h"

struct smtp_server {
	struct smtp_ctx		 ctx;
	struct evconnlistener	*listeners[CONF_LISTEN_MAX];
	size_t			 nlisteners;
};

/* Refuse in one write and close: nothing more is read from this peer. */
static void
refuse(int fd, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof(buf) - 3)
		n = (int)sizeof(buf) - 3;
	memcpy(buf + n, "\r\n", 2);
	(void)!write(fd, buf, (size_t)n + 2);
	close(fd);
}

static void
server_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct smtp_server	*srv = arg;
	struct sockaddr_storage	 local;
	socklen_t		 locallen = sizeof(local);
	char			 peer[64];
	uid_t			 uid;

	addr_format(sa, peer, sizeof(peer));
	evutil_make_socket_nonblocking(fd);
	if (srv->ctx.nsessions >= srv->ctx.conf->max_sessions) {
		log_warnx("smtp refused peer=%s: %u sessions already", peer,
		    srv->ctx.nsessions);
		refuse(fd, "421 4.7.0 %s Too many sessions (max-sessions = "
		    "%u); try again later", srv->ctx.conf->hostname,
		    srv->ctx.conf->max_sessions);
		return;
	}
	if (getsockname(fd, (struct sockaddr *)&local, &locallen) == -1 ||
	    sockdiag_peer_uid((struct sockaddr *)&local, sa, &uid) == -1) {
		log_warn("smtp refused peer=%s: cannot tell which user is "
		    "connecting", peer);
		refuse(fd, "554 5.7.1 %s Cannot tell which local user you "
		    "are; only the user running roamsmtpd may submit",
		    srv->ctx.conf->hostname);
		return;
	}
	if (uid != geteuid()) {
		log_warnx("smtp refused peer=%s uid=%u: not the daemon's user "
		    "(uid %u)", peer, (unsigned)uid, (unsigned)geteuid());
		refuse(fd, "554 5.7.1 %s Only the user running roamsmtpd "
		    "(uid %u) may submit here; you are uid %u. Run your own "
		    "roamsmtpd", srv->ctx.conf->hostname,
		    (unsigned)geteuid(), (unsigned)uid);
		return;
	}
	smtp_session_start(&srv->ctx, fd, peer);
}

static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	/* EMFILE and friends: log and go on; the listener keeps trying. */
	log_warn("smtp accept");
}

struct smtp_server *
smtp_server_new(struct event_base *base, const struct daemon_conf *conf,
    struct router *router, struct queue *queue, char *err, size_t errlen)
{
	struct smtp_server	*srv;
	struct evconnlistener	*l;
	char			 hint[768];
	size_t			 i;
	int			 saved;

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->ctx.base = base;
	srv->ctx.conf = conf;
	srv->ctx.router = router;
	srv->ctx.queue = queue;
	for (i = 0; i < conf->nlisten; i++) {
		const struct conf_listen	*cl = &conf->listen[i];

		l = evconnlistener_new_bind(base, server_accept, srv,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
		    LEV_OPT_CLOSE_ON_EXEC, 128,
		    (const struct sockaddr *)&cl->ss, (int)cl->len);
		if (l == NULL) {
			saved = errno;
			if (saved == EADDRNOTAVAIL && conf->nlisten > 1) {
				/* [::1] on a system without IPv6: the other
				 * listeners serve. */
				log_warnx("smtp cannot listen on %s: %s; "
				    "skipping it", cl->text, strerror(saved));
				continue;
			}
			if (saved == EACCES)
				snprintf(err, errlen, "cannot listen on %s: "
				    "permission denied. %s", cl->text,
				    privdrop_bind_hint(hint, sizeof(hint)));
			else if (saved == EADDRINUSE)
				snprintf(err, errlen, "cannot listen on %s: "
				    "address in use; another mail server or "
				    "roamsmtpd listens there (ss -ltnp shows "
				    "which), or choose another port with "
				    "listen = in roamsmtp.conf", cl->text);
			else
				snprintf(err, errlen, "cannot listen on %s: %s",
				    cl->text, strerror(saved));
			smtp_server_free(srv);
			return NULL;
		}
		evconnlistener_set_error_cb(l, server_accept_error);
		srv->listeners[srv->nlisteners++] = l;
		log_info("smtp listening on %s", cl->text);
	}
	if (srv->nlisteners == 0) {
		snprintf(err, errlen, "no address to listen on");
		smtp_server_free(srv);
		return NULL;
	}
	return srv;
}

void
smtp_server_free(struct smtp_server *srv)
{
	size_t	i;

	for (i = 0; i < srv->nlisteners; i++)
		evconnlistener_free(srv->listeners[i]);
	free(srv);
}

unsigned
smtp_server_sessions(const struct smtp_server *srv)
{
	return srv->ctx.nsessions;
}
