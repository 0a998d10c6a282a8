/*
 * pop_client.c - one POP3 login; see pop_client.h.
 *
 * The state machine:
 *   RESOLVING -> CONNECTING -> [TLS_HANDSHAKE (tls)] -> GREETING
 *     -> [STLS -> TLS_HANDSHAKE] -> USER -> PASS | APOP -> QUIT -> DONE
 * and DEAD from anywhere.  Every response is one line: the client never
 * sends a command whose answer has more (CAPA, LIST, RETR...).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "smtp_limits.h"
#include "log.h"
#include "pop_client.h"
#include "tls.h"
#include "util.h"

enum pc_state {
	PC_RESOLVING,
	PC_CONNECTING,
	PC_TLS_HANDSHAKE,
	PC_GREETING,
	PC_STLS,
	PC_USER,
	PC_PASS,
	PC_APOP,
	PC_QUIT,
	PC_DONE,
	PC_DEAD,
};

static const char *pc_state_names[] = {
	"resolving", "connecting", "tls-handshake", "greeting", "stls",
	"user", "pass", "apop", "quit", "done", "dead",
};

struct pop_client {
	struct event_base	*base;
	struct evdns_base	*dns;
	enum pc_state		 state;

	char			*host;
	uint16_t		 port;
	char			 peer[300];	/* host:port */
	char			 tag[PROFILE_NAME_MAX + 1];
	enum tls_mode		 tls;
	SSL_CTX			*ssl_ctx;
	int			 has_pin;
	unsigned char		 pin[PROFILE_PIN_LEN];
	enum pop_auth		 auth;
	const char		*auth_used;
	char			*user;
	char			*password;
	int			 allow_plaintext_auth;
	char			*timestamp;	/* APOP, from the greeting */

	pop_client_done_cb	 done;
	void			*arg;

	struct event		*start_ev;
	struct evdns_getaddrinfo_request *dnsreq;
	struct evutil_addrinfo	*ai, *ai_next;
	char			 connect_error[256];
	int			 fd;
	struct bufferevent	*bev;
	int			 bev_owns_fd;
	SSL			*ssl;
	int			 tls_active;

	int			 inuse;		/* in one of our callbacks */
	int			 freed;		/* pop_client_free() was called */
};

static void	pc_start(evutil_socket_t, short, void *);
static void	pc_resolved(int, struct evutil_addrinfo *, void *);
static void	pc_connect_next(struct pop_client *);
static void	pc_read(struct bufferevent *, void *);
static void	pc_event(struct bufferevent *, short, void *);
static void	pc_start_tls(struct pop_client *);
static void	pc_fail(struct pop_client *, enum pop_fail, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	pc_send(struct pop_client *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	pc_release(struct pop_client *);

static void
enter_state(struct pop_client *c, enum pc_state s)
{
	log_debug("pop %s %s: %s -> %s", c->tag, c->peer,
	    pc_state_names[c->state], pc_state_names[s]);
	c->state = s;
}

struct pop_client *
pop_client_new(struct event_base *base, struct evdns_base *dns,
    const struct pop_client_params *p, pop_client_done_cb done, void *arg)
{
	struct pop_client	*c;
	struct timeval		 zero = { 0, 0 };

	if (p->host == NULL || p->user == NULL || p->password == NULL ||
	    (p->tls != TLSMODE_NONE && p->ssl_ctx == NULL))
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->dns = dns;
	c->fd = -1;
	c->host = strdup(p->host);
	c->port = p->port;
	c->tls = p->tls;
	c->ssl_ctx = p->ssl_ctx;
	if (p->pin) {
		c->has_pin = 1;
		memcpy(c->pin, p->pin, sizeof(c->pin));
	}
	c->auth = p->auth;
	c->auth_used = "-";
	c->user = strdup(p->user);
	c->password = strdup(p->password);
	c->allow_plaintext_auth = p->allow_plaintext_auth;
	snprintf(c->tag, sizeof(c->tag), "%s", p->tag ? p->tag : "-");
	if (strchr(p->host, ':'))
		snprintf(c->peer, sizeof(c->peer), "[%s]:%u", p->host, p->port);
	else
		snprintf(c->peer, sizeof(c->peer), "%s:%u", p->host, p->port);
	c->done = done;
	c->arg = arg;
	if (c->host == NULL || c->user == NULL || c->password == NULL) {
		pc_release(c);
		return NULL;
	}
	/* Start from the loop: done() never runs before the owner holds
	 * the pointer. */
	c->start_ev = evtimer_new(base, pc_start, c);
	if (c->start_ev == NULL || event_add(c->start_ev, &zero) == -1) {
		pc_release(c);
		return NULL;
	}
	c->state = PC_RESOLVING;
	return c;
}

static void
pc_close_bev(struct pop_client *c)
{
	if (c->bev) {
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
		bufferevent_free(c->bev);
		c->bev = NULL;
		if (c->bev_owns_fd)
			c->fd = -1;
		c->ssl = NULL;		/* freed with its bufferevent */
	}
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	c->bev_owns_fd = 0;
}

static void
pc_release(struct pop_client *c)
{
	if (c->dnsreq) {
		struct evdns_getaddrinfo_request *r = c->dnsreq;

		c->dnsreq = NULL;
		evdns_getaddrinfo_cancel(r);
	}
	if (c->start_ev)
		event_free(c->start_ev);
	if (c->ai)
		evutil_freeaddrinfo(c->ai);
	pc_close_bev(c);
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->password) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->timestamp);
	free(c->user);
	free(c->host);
	free(c);
}

void
pop_client_free(struct pop_client *c)
{
	if (c == NULL)
		return;
	if (c->inuse) {
		/* Called from within done(): finish when it returns. */
		c->freed = 1;
		if (c->bev)
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	pc_release(c);
}

/* Leave a callback; returns 1 when the client is gone. */
static int
pc_leave(struct pop_client *c)
{
	if (--c->inuse == 0 && c->freed) {
		pc_release(c);
		return 1;
	}
	return 0;
}

/* The one report to the owner. */
static void
pc_report(struct pop_client *c, int ok, enum pop_fail class,
    const char *reason)
{
	c->inuse++;
	if (c->done)
		c->done(c, ok, class, reason, c->arg);
	c->done = NULL;
	pc_leave(c);
}

static void
pc_fail(struct pop_client *c, enum pop_fail class, const char *fmt, ...)
{
	char	reason[1024];
	va_list	ap;

	if (c->state == PC_DEAD || c->state == PC_DONE)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	log_debug("pop %s %s: failed in %s: %s: %s", c->tag, c->peer,
	    pc_state_names[c->state], pop_fail_name(class), reason);
	enter_state(c, PC_DEAD);
	pc_close_bev(c);
	pc_report(c, 0, class, reason);
}

/* Logged in and out: the connection goes, the owner hears. */
static void
pc_finish(struct pop_client *c)
{
	enter_state(c, PC_DONE);
	pc_close_bev(c);
	pc_report(c, 1, POPF_CONNECT, NULL);
}

static void
pc_start(evutil_socket_t fd, short ev, void *arg)
{
	struct pop_client		*c = arg;
	struct evutil_addrinfo		 hints;
	struct evdns_getaddrinfo_request *req;
	char				 port[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(port, sizeof(port), "%u", c->port);
	c->inuse++;
	req = evdns_getaddrinfo(c->dns, c->host, port, &hints, pc_resolved,
	    c);
	/* NULL: the callback already ran (numeric host, hosts file). */
	if (req != NULL && c->state == PC_RESOLVING && c->ai == NULL)
		c->dnsreq = req;
	pc_leave(c);
}

static void
pc_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct pop_client	*c = arg;

	if (result == EVUTIL_EAI_CANCEL)
		return;			/* being freed */
	c->dnsreq = NULL;
	if (c->freed) {
		if (ai)
			evutil_freeaddrinfo(ai);
		return;
	}
	c->inuse++;
	if (result != 0)
		pc_fail(c, POPF_CONNECT, "POP3 server %s: cannot resolve %s: "
		    "%s", c->peer, c->host, evutil_gai_strerror(result));
	else {
		c->ai = ai;
		c->ai_next = ai;
		enter_state(c, PC_CONNECTING);
		pc_connect_next(c);
	}
	pc_leave(c);
}

static void
pc_connect_next(struct pop_client *c)
{
	struct timeval		 tv = { TIMEOUT_CLIENT_CONNECT, 0 };
	struct evutil_addrinfo	*ai;
	char			 addr[INET6_ADDRSTRLEN + 16];

	pc_close_bev(c);
	while ((ai = c->ai_next) != NULL) {
		c->ai_next = ai->ai_next;
		addr_format(ai->ai_addr, addr, sizeof(addr));
		log_debug("pop %s %s: connecting to %s", c->tag, c->peer,
		    addr);
		c->bev = bufferevent_socket_new(c->base, -1, 0);
		if (c->bev == NULL)
			break;
		bufferevent_setcb(c->bev, pc_read, NULL, pc_event, c);
		bufferevent_set_timeouts(c->bev, &tv, &tv);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		if (bufferevent_socket_connect(c->bev, ai->ai_addr,
		    (int)ai->ai_addrlen) == 0) {
			c->fd = bufferevent_getfd(c->bev);
			return;
		}
		snprintf(c->connect_error, sizeof(c->connect_error),
		    "%s: %s", addr, strerror(errno));
		pc_close_bev(c);
	}
	pc_fail(c, POPF_CONNECT, "cannot connect to POP3 server %s: %s",
	    c->peer, c->connect_error[0] ? c->connect_error : "no address");
}

static void
pc_set_timeout(struct pop_client *c)
{
	struct timeval	tv = { POP_TIMEOUT, 0 };

	if (c->bev)
		bufferevent_set_timeouts(c->bev, &tv, &tv);
}

static void
pc_connected(struct pop_client *c)
{
	int	one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->tls == TLSMODE_IMPLICIT) {
		pc_start_tls(c);
		return;
	}
	enter_state(c, PC_GREETING);
	pc_set_timeout(c);
}

/*
 * Put TLS on the connected socket.  Whatever plaintext is still buffered is
 * thrown away with the plain bufferevent: after STLS nothing the server
 * sent in the clear may be read as part of the TLS session (RFC 2595 4,
 * CVE-2011-0411 style injection).
 */
static void
pc_start_tls(struct pop_client *c)
{
	struct bufferevent	*tbev;
	int			 fd = c->fd;

	if ((c->ssl = tls_client_new(c->ssl_ctx, c->host)) == NULL) {
		pc_fail(c, POPF_TLS, "cannot set up TLS for POP3 server %s",
		    c->peer);
		return;
	}
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_free(c->bev);	/* not the fd: we own it */
	c->bev = NULL;
	tbev = bufferevent_openssl_socket_new(c->base, fd, c->ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (tbev == NULL) {
		pc_fail(c, POPF_TLS, "cannot start TLS with POP3 server %s",
		    c->peer);
		return;
	}
	c->bev = tbev;
	c->bev_owns_fd = 1;
	bufferevent_openssl_set_allow_dirty_shutdown(tbev, 1);
	bufferevent_setcb(tbev, pc_read, NULL, pc_event, c);
	pc_set_timeout(c);
	bufferevent_enable(tbev, EV_READ | EV_WRITE);
	enter_state(c, PC_TLS_HANDSHAKE);
}

static void	pc_login(struct pop_client *);

static void
pc_tls_done(struct pop_client *c)
{
	char	err[1024];

	if (tls_check_peer(c->ssl, c->has_pin ? c->pin : NULL, err,
	    sizeof(err)) == -1) {
		pc_fail(c, POPF_TLS, "POP3 server %s: %s", c->peer, err);
		return;
	}
	c->tls_active = 1;
	log_debug("pop %s %s: %s established", c->tag, c->peer,
	    SSL_get_version(c->ssl));
	if (c->tls == TLSMODE_IMPLICIT) {
		enter_state(c, PC_GREETING);
		return;
	}
	/* RFC 2595 4: after STLS there is no new greeting. */
	pc_login(c);
}

static void
pc_event(struct bufferevent *bev, short what, void *arg)
{
	struct pop_client	*c = arg;
	char			 err[512];

	c->inuse++;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->state == PC_CONNECTING)
			pc_connected(c);
		else if (c->state == PC_TLS_HANDSHAKE)
			pc_tls_done(c);
	} else if (c->state == PC_CONNECTING) {
		snprintf(c->connect_error, sizeof(c->connect_error), "%s",
		    (what & BEV_EVENT_TIMEOUT) ? "timed out" :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		pc_connect_next(c);
	} else if (c->state == PC_TLS_HANDSHAKE) {
		tls_error_text(err, sizeof(err));
		pc_fail(c, POPF_TLS, "TLS handshake with POP3 server %s "
		    "failed: %s", c->peer, (what & BEV_EVENT_TIMEOUT) ?
		    "timed out" : err[0] ? err : "connection closed");
	} else if (c->state == PC_QUIT && (what & BEV_EVENT_EOF)) {
		/* Closed before the +OK of QUIT: the login stood. */
		pc_finish(c);
	} else if (what & BEV_EVENT_TIMEOUT) {
		pc_fail(c, POPF_TIMEOUT, "POP3 server %s did not answer in "
		    "time (%s)", c->peer, pc_state_names[c->state]);
	} else if (what & BEV_EVENT_EOF) {
		pc_fail(c, POPF_CONNECT, "POP3 server %s closed the "
		    "connection (%s)", c->peer, pc_state_names[c->state]);
	} else {
		pc_fail(c, POPF_CONNECT, "connection to POP3 server %s lost "
		    "(%s): %s", c->peer, pc_state_names[c->state],
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	pc_leave(c);
}

static void
pc_send(struct pop_client *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
	evbuffer_add(bufferevent_get_output(c->bev), "\r\n", 2);
}

/* Send the login the params ask for. */
static void
pc_login(struct pop_client *c)
{
	char	digest[33];
	int	use_apop;

	switch (c->auth) {
	case POPAUTH_USER:
		use_apop = 0;
		break;
	case POPAUTH_APOP:
		use_apop = 1;
		break;
	case POPAUTH_AUTO:
	default:
		use_apop = !c->tls_active && c->timestamp != NULL;
		break;
	}
	if (use_apop && c->timestamp == NULL) {
		pc_fail(c, POPF_FEATURE, "POP3 server %s does not offer APOP "
		    "(no timestamp in its greeting); use tls = tls or "
		    "starttls with auth = user", c->peer);
		return;
	}
	if (!use_apop && !c->tls_active && !c->allow_plaintext_auth) {
		pc_fail(c, POPF_FEATURE, "the POP3 login to %s would send the "
		    "password without TLS%s; use tls = tls or starttls, or set "
		    "allow-plaintext-auth = yes in [pop-before-smtp]",
		    c->peer, c->timestamp ? "" : " (the server offers no "
		    "APOP)");
		return;
	}
	if (use_apop) {
		if (pop_apop_digest(c->timestamp, c->password, digest) == -1) {
			pc_fail(c, POPF_FEATURE, "APOP to %s needs MD5, which "
			    "this OpenSSL does not provide", c->peer);
			return;
		}
		c->auth_used = "apop";
		log_debug("pop %s %s: APOP user=%s", c->tag, c->peer,
		    c->user);
		pc_send(c, "APOP %s %s", c->user, digest);
		explicit_bzero(digest, sizeof(digest));
		enter_state(c, PC_APOP);
		return;
	}
	c->auth_used = "user";
	log_debug("pop %s %s: USER %s", c->tag, c->peer, c->user);
	pc_send(c, "USER %s", c->user);
	enter_state(c, PC_USER);
}

/* The text of a response for error messages, printable and bounded. */
static const char *
pc_summary(const char *line, char *buf, size_t len)
{
	size_t	i;

	snprintf(buf, len, "%s", line);
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf;
}

static void
pc_response(struct pop_client *c, const char *line)
{
	char	sum[POP_LINE_MAX + 1], ts[POP_TIMESTAMP_MAX];
	int	st = pop_status(line);

	if (st == -1) {
		pc_fail(c, POPF_PROTOCOL, "POP3 server %s sent a line that is "
		    "neither +OK nor -ERR (%s): %.80s", c->peer,
		    pc_state_names[c->state], pc_summary(line, sum,
		    sizeof(sum)));
		return;
	}
	switch (c->state) {
	case PC_GREETING:
		if (st == 0) {
			pc_fail(c, POPF_REFUSED, "POP3 server %s greeted with "
			    "%s", c->peer, pc_summary(line, sum, sizeof(sum)));
			return;
		}
		if (pop_apop_timestamp(line, ts, sizeof(ts)) == 0 &&
		    (c->timestamp = strdup(ts)) == NULL)
			fatal("strdup");
		if (c->tls == TLSMODE_STARTTLS && !c->tls_active) {
			pc_send(c, "STLS");
			enter_state(c, PC_STLS);
			return;
		}
		pc_login(c);
		break;
	case PC_STLS:
		if (st == 0) {
			pc_fail(c, POPF_FEATURE, "POP3 server %s refused STLS "
			    "(%s); the profile asks for tls = starttls, so "
			    "nothing is sent in the clear", c->peer,
			    pc_summary(line, sum, sizeof(sum)));
			return;
		}
		/* Injected plaintext after the +OK dies here. */
		evbuffer_drain(bufferevent_get_input(c->bev),
		    evbuffer_get_length(bufferevent_get_input(c->bev)));
		pc_start_tls(c);
		break;
	case PC_USER:
		if (st == 0) {
			pc_fail(c, POPF_REFUSED, "POP3 server %s refused the "
			    "user %s: %s", c->peer, c->user,
			    pc_summary(line, sum, sizeof(sum)));
			return;
		}
		pc_send(c, "PASS %s", c->password);
		enter_state(c, PC_PASS);
		break;
	case PC_PASS:
	case PC_APOP:
		if (st == 0) {
			pc_fail(c, POPF_REFUSED, "POP3 server %s refused the "
			    "login of %s (%s): %s", c->peer, c->user,
			    c->auth_used, pc_summary(line, sum, sizeof(sum)));
			return;
		}
		log_debug("pop %s %s: logged in (%s)", c->tag, c->peer,
		    c->auth_used);
		/* Nothing else: the mailbox stays as it was. */
		pc_send(c, "QUIT");
		enter_state(c, PC_QUIT);
		break;
	case PC_QUIT:
		/* -ERR to QUIT (RFC 1939 6: the UPDATE state failed) can
		 * only concern deletions, and there were none. */
		pc_finish(c);
		break;
	default:
		pc_fail(c, POPF_PROTOCOL, "POP3 server %s sent a line in state "
		    "%s", c->peer, pc_state_names[c->state]);
	}
}

static void
pc_read(struct bufferevent *bev, void *arg)
{
	struct pop_client	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	enum pc_state		 prev;
	char			*line;
	size_t			 len;

	c->inuse++;
	/* c->bev changes under us when TLS starts. */
	while (c->bev == bev && !c->freed && c->state != PC_DEAD &&
	    c->state != PC_DONE) {
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL) {
			if (evbuffer_get_length(in) > POP_LINE_MAX)
				pc_fail(c, POPF_PROTOCOL, "POP3 server %s sent "
				    "a line over %d octets", c->peer,
				    POP_LINE_MAX);
			break;
		}
		if (len > POP_LINE_MAX || strlen(line) != len)
			pc_fail(c, POPF_PROTOCOL, "POP3 server %s sent a line "
			    "over %d octets or with a NUL", c->peer,
			    POP_LINE_MAX);
		else {
			prev = c->state;
			pc_response(c, line);
			/*
			 * A command just went out: whatever is already here
			 * was sent before the server saw it, so it cannot be
			 * the answer (RFC 1939 3).  Taking it for one would
			 * report a login that never happened.
			 */
			if (c->bev == bev && c->state != prev &&
			    c->state != PC_DEAD && c->state != PC_DONE &&
			    evbuffer_get_length(in) > 0)
				pc_fail(c, POPF_PROTOCOL, "POP3 server %s "
				    "answered before it was asked (%s)",
				    c->peer, pc_state_names[c->state]);
		}
		free(line);
	}
	pc_leave(c);
}

const char *
pop_client_peer(const struct pop_client *c)
{
	return c->peer;
}

const char *
pop_client_auth_used(const struct pop_client *c)
{
	return c->auth_used;
}

const char *
pop_fail_name(enum pop_fail f)
{
	switch (f) {
	case POPF_CONNECT:	return "connect";
	case POPF_TLS:		return "tls";
	case POPF_PROTOCOL:	return "protocol";
	case POPF_FEATURE:	return "feature";
	case POPF_REFUSED:	return "refused";
	case POPF_TIMEOUT:	return "timeout";
	}
	return "?";
}

/* ---- the pure parts --------------------------------------------------- */

int
pop_status(const char *line)
{
	/* RFC 1939 3: upper case; the status may end the line. */
	if (strncmp(line, "+OK", 3) == 0 && (line[3] == '\0' || line[3] == ' '))
		return 1;
	if (strncmp(line, "-ERR", 4) == 0 &&
	    (line[4] == '\0' || line[4] == ' '))
		return 0;
	return -1;
}

int
pop_apop_timestamp(const char *greeting, char *buf, size_t len)
{
	const char	*lt, *gt;
	size_t		 n;

	/* RFC 1939 7: the last "<...>" of the greeting, a msg-id. */
	if ((gt = strrchr(greeting, '>')) == NULL)
		return -1;
	for (lt = gt; lt > greeting && lt[-1] != '<'; lt--)
		if (lt[-1] == ' ' || lt[-1] == '>')
			return -1;
	if (lt == greeting)
		return -1;
	lt--;
	n = (size_t)(gt - lt) + 1;
	/* "<>" and a msg-id without its '@' are no timestamps. */
	if (n < 3 || memchr(lt, '@', n) == NULL || n >= len)
		return -1;
	memcpy(buf, lt, n);
	buf[n] = '\0';
	return 0;
}

int
pop_apop_digest(const char *timestamp, const char *password, char out[33])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	EVP_MD_CTX		*ctx;
	EVP_MD			*md5;
	int			 ok;

	if ((md5 = EVP_MD_fetch(NULL, "MD5", NULL)) == NULL)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		EVP_MD_free(md5);
		return -1;
	}
	ok = EVP_DigestInit_ex(ctx, md5, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, timestamp, strlen(timestamp)) == 1 &&
	    EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 16;
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md5);
	if (!ok)
		return -1;
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[32] = '\0';
	explicit_bzero(md, sizeof(md));
	return 0;
}
