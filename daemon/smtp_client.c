/*
 * smtp_client.c - an upstream SMTP session; see smtp_client.h.
 *
 * The state machine:
 *   RESOLVING -> CONNECTING -> [TLS_HANDSHAKE (tls)] -> GREETING -> EHLO
 *     -> [STARTTLS -> TLS_HANDSHAKE -> EHLO] -> [AUTH_*] -> READY
 * and DEAD from anywhere.  In READY every reply belongs to the oldest
 * pending command.
 *
 * The AUTH states, by mechanism (AUTH_LAST: the last response is sent, a
 * 235 or a refusal comes next):
 *   PLAIN        AUTH_LAST
 *   LOGIN        AUTH_LOGIN_USER -> AUTH_LOGIN_PASS -> AUTH_LAST
 *   CRAM-MD5     AUTH_CRAM -> AUTH_LAST
 *   SCRAM        AUTH_SCRAM_FIRST -> AUTH_SCRAM_FINAL -> AUTH_LAST (only
 *                once the server's signature was checked)
 *   XOAUTH2,     AUTH_OAUTH -> 235, or 334 with a JSON error ->
 *   OAUTHBEARER  AUTH_OAUTH_ERROR -> 5xx; then, once, a fresh token from
 *                cb.refresh and AUTH_OAUTH again
 * The initial response always fits on the AUTH line: a token is at most
 * SECRET_MAX (4096) octets, its base64 with the rest about 5.5 KB, and RFC
 * 4954 section 4 allows 12288.
 */
#include <sys/queue.h>
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
#include <openssl/ssl.h>

#include "smtp_limits.h"
#include "log.h"
#include "sasl.h"
#include "scram.h"
#include "smtp_client.h"
#include "tls.h"
#include "util.h"

enum sc_state {
	SC_RESOLVING,
	SC_CONNECTING,
	SC_TLS_HANDSHAKE,
	SC_GREETING,
	SC_EHLO,
	SC_HELO,
	SC_STARTTLS,
	SC_AUTH_LAST,
	SC_AUTH_LOGIN_USER,
	SC_AUTH_LOGIN_PASS,
	SC_AUTH_CRAM,
	SC_AUTH_SCRAM_FIRST,
	SC_AUTH_SCRAM_FINAL,
	SC_AUTH_OAUTH,
	SC_AUTH_OAUTH_ERROR,
	SC_READY,
	SC_DEAD,
};

static const char *sc_state_names[] = {
	"resolving", "connecting", "tls-handshake", "greeting", "ehlo", "helo",
	"starttls", "auth-last", "auth-login-user", "auth-login-pass",
	"auth-cram-md5", "auth-scram-first", "auth-scram-final", "auth-oauth",
	"auth-oauth-error", "ready", "dead",
};

struct pending {
	TAILQ_ENTRY(pending)	 entry;
	smtp_client_reply_cb	 cb;
	void			*arg;
	int			 timeout;
};

struct smtp_client {
	struct event_base	*base;
	struct evdns_base	*dns;
	enum sc_state		 state;

	char			*host;
	uint16_t		 port;
	char			 peer[300];	/* host:port */
	char			 tag[PROFILE_NAME_MAX + 1];
	enum tls_mode		 tls;
	SSL_CTX			*ssl_ctx;
	int			 has_pin;
	unsigned char		 pin[PROFILE_PIN_LEN];
	char			*helo;
	enum auth_choice	 auth;
	char			*user;
	char			*password;
	int			 allow_plaintext_auth;
	enum auth_choice	 mech;		/* the one used */
	struct scram_client	 scram;
	int			 refreshed;	/* a fresh OAuth2 token tried */
	char			 oauth_status[32];	/* of its JSON error */

	struct smtp_client_cb	 cb;
	void			*arg;

	struct event		*start_ev;
	struct event		*setup_ev;	/* the setup deadline */
	struct evdns_getaddrinfo_request *dnsreq;
	struct evutil_addrinfo	*ai, *ai_next;
	char			 connect_error[256];
	int			 fd;
	struct bufferevent	*bev;
	int			 bev_owns_fd;
	SSL			*ssl;
	int			 tls_active;
	char			 tls_version[16];

	struct smtp_reply	 reply;
	struct smtp_caps	 caps;
	TAILQ_HEAD(, pending)	 pending;
	unsigned		 uses;

	int			 inuse;		/* in one of our callbacks */
	int			 freed;		/* smtp_client_free() was called */
};

static void	client_start(evutil_socket_t, short, void *);
static void	client_setup_expired(evutil_socket_t, short, void *);
static int	client_leave(struct smtp_client *);
static void	client_resolved(int, struct evutil_addrinfo *, void *);
static void	client_connect_next(struct smtp_client *);
static void	client_read(struct bufferevent *, void *);
static void	client_write(struct bufferevent *, void *);
static void	client_event(struct bufferevent *, short, void *);
static void	client_start_tls(struct smtp_client *);
static void	client_reply(struct smtp_client *);
static void	client_after_ehlo(struct smtp_client *);
static void	client_fail(struct smtp_client *, enum smtp_client_fail,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	client_send(struct smtp_client *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	client_release(struct smtp_client *);
static void	client_set_read_timeout(struct smtp_client *, int);

static void
enter_state(struct smtp_client *c, enum sc_state s)
{
	log_debug("upstream %s %s: %s -> %s", c->tag, c->peer,
	    sc_state_names[c->state], sc_state_names[s]);
	c->state = s;
}

/*
 * Connecting, TLS, greeting, EHLO and AUTH together may take this long.
 * Each step has its RFC 5321 timeout (5 minutes for the greeting), but a
 * client waits at MAIL FROM meanwhile: a server that is not ready by then
 * is as good as down, and the message goes to the queue instead.
 */
static void
client_setup_expired(evutil_socket_t fd, short ev, void *arg)
{
	struct smtp_client	*c = arg;

	c->inuse++;
	client_fail(c, SCF_TIMEOUT, "%s was not ready within %d seconds "
	    "(stuck in %s)", c->peer, TIMEOUT_CLIENT_SETUP,
	    sc_state_names[c->state]);
	client_leave(c);
}

struct smtp_client *
smtp_client_new(struct event_base *base, struct evdns_base *dns,
    const struct smtp_client_params *p, const struct smtp_client_cb *cb,
    void *arg)
{
	struct smtp_client	*c;
	struct timeval		 zero = { 0, 0 };
	struct timeval		 setup = { TIMEOUT_CLIENT_SETUP, 0 };

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
	c->helo = strdup(p->helo ? p->helo : "localhost");
	c->auth = p->auth;
	c->user = p->user ? strdup(p->user) : NULL;
	c->password = p->password ? strdup(p->password) : NULL;
	c->allow_plaintext_auth = p->allow_plaintext_auth;
	snprintf(c->tag, sizeof(c->tag), "%s", p->tag ? p->tag : "-");
	if (strchr(p->host, ':'))
		snprintf(c->peer, sizeof(c->peer), "[%s]:%u", p->host, p->port);
	else
		snprintf(c->peer, sizeof(c->peer), "%s:%u", p->host, p->port);
	snprintf(c->tls_version, sizeof(c->tls_version), "none");
	c->cb = *cb;
	c->arg = arg;
	TAILQ_INIT(&c->pending);
	smtp_reply_init(&c->reply);
	if (c->host == NULL || c->helo == NULL ||
	    (p->user && c->user == NULL) ||
	    (p->password && c->password == NULL) ||
	    (p->tls != TLSMODE_NONE && p->ssl_ctx == NULL)) {
		client_release(c);
		return NULL;
	}
	/* Start from the loop, so that no callback runs before the owner
	 * holds the pointer. */
	c->start_ev = evtimer_new(base, client_start, c);
	c->setup_ev = evtimer_new(base, client_setup_expired, c);
	if (c->start_ev == NULL || event_add(c->start_ev, &zero) == -1 ||
	    c->setup_ev == NULL || event_add(c->setup_ev, &setup) == -1) {
		client_release(c);
		return NULL;
	}
	c->state = SC_RESOLVING;
	return c;
}

void
smtp_client_set_cb(struct smtp_client *c, const struct smtp_client_cb *cb,
    void *arg)
{
	c->cb = *cb;
	c->arg = arg;
}

static void
client_close_bev(struct smtp_client *c)
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
client_drop_pending(struct smtp_client *c)
{
	struct pending	*p;

	while ((p = TAILQ_FIRST(&c->pending)) != NULL) {
		TAILQ_REMOVE(&c->pending, p, entry);
		free(p);
	}
}

static void
client_release(struct smtp_client *c)
{
	if (c->dnsreq) {
		struct evdns_getaddrinfo_request *r = c->dnsreq;

		c->dnsreq = NULL;
		evdns_getaddrinfo_cancel(r);
	}
	if (c->start_ev)
		event_free(c->start_ev);
	if (c->setup_ev)
		event_free(c->setup_ev);
	if (c->ai)
		evutil_freeaddrinfo(c->ai);
	client_close_bev(c);
	if (c->ssl)
		SSL_free(c->ssl);
	client_drop_pending(c);
	scram_client_clear(&c->scram);
	if (c->password) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->user);
	free(c->helo);
	free(c->host);
	free(c);
}

void
smtp_client_free(struct smtp_client *c)
{
	if (c == NULL)
		return;
	if (c->inuse) {
		/* Called from one of our callbacks: finish when it returns. */
		c->freed = 1;
		c->state = SC_DEAD;
		if (c->bev)
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	client_release(c);
}

/* Leave a callback; returns 1 when the client is gone. */
static int
client_leave(struct smtp_client *c)
{
	if (--c->inuse == 0 && c->freed) {
		client_release(c);
		return 1;
	}
	return 0;
}

static void
client_fail(struct smtp_client *c, enum smtp_client_fail class,
    const char *fmt, ...)
{
	char	reason[1024];
	va_list	ap;

	if (c->state == SC_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	log_debug("upstream %s %s: failed in %s: %s: %s", c->tag, c->peer,
	    sc_state_names[c->state], smtp_client_fail_name(class), reason);
	enter_state(c, SC_DEAD);
	client_close_bev(c);
	client_drop_pending(c);
	c->inuse++;
	if (c->cb.failed)
		c->cb.failed(c, class, reason, c->arg);
	client_leave(c);
}

static void
client_start(evutil_socket_t fd, short ev, void *arg)
{
	struct smtp_client		*c = arg;
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
	req = evdns_getaddrinfo(c->dns, c->host, port, &hints,
	    client_resolved, c);
	/* NULL: the callback already ran (numeric host, hosts file). */
	if (req != NULL && c->state == SC_RESOLVING && c->ai == NULL)
		c->dnsreq = req;
	client_leave(c);
}

static void
client_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct smtp_client	*c = arg;

	if (result == EVUTIL_EAI_CANCEL)
		return;			/* being freed */
	c->dnsreq = NULL;
	if (result != 0) {
		client_fail(c, SCF_CONNECT, "cannot resolve %s: %s", c->host,
		    evutil_gai_strerror(result));
		return;
	}
	c->ai = ai;
	c->ai_next = ai;
	enter_state(c, SC_CONNECTING);
	client_connect_next(c);
}

static void
client_connect_next(struct smtp_client *c)
{
	struct timeval		 tv = { TIMEOUT_CLIENT_CONNECT, 0 };
	struct evutil_addrinfo	*ai;
	char			 addr[INET6_ADDRSTRLEN + 16];

	client_close_bev(c);
	while ((ai = c->ai_next) != NULL) {
		c->ai_next = ai->ai_next;
		addr_format(ai->ai_addr, addr, sizeof(addr));
		log_debug("upstream %s %s: connecting to %s", c->tag, c->peer,
		    addr);
		c->bev = bufferevent_socket_new(c->base, -1, 0);
		if (c->bev == NULL)
			break;
		bufferevent_setcb(c->bev, client_read, client_write,
		    client_event, c);
		bufferevent_set_timeouts(c->bev, &tv, &tv);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		if (bufferevent_socket_connect(c->bev, ai->ai_addr,
		    (int)ai->ai_addrlen) == 0) {
			c->fd = bufferevent_getfd(c->bev);
			return;
		}
		snprintf(c->connect_error, sizeof(c->connect_error),
		    "%s: %s", addr, strerror(errno));
		client_close_bev(c);
	}
	client_fail(c, SCF_CONNECT, "cannot connect to %s: %s", c->peer,
	    c->connect_error[0] ? c->connect_error : "no address");
}

static void
client_connected(struct smtp_client *c)
{
	int	one = 1;

	/* Replies and the end of DATA must not wait for a delayed ACK. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bufferevent_setwatermark(c->bev, EV_WRITE, RELAY_LOW_WATER, 0);
	if (c->tls == TLSMODE_IMPLICIT) {
		client_start_tls(c);
		return;
	}
	enter_state(c, SC_GREETING);
	client_set_read_timeout(c, TIMEOUT_CLIENT_GREETING);
}

/*
 * Put TLS on the connected socket.  Whatever plaintext is still buffered is
 * thrown away first: after STARTTLS nothing the server sent in the clear may
 * be taken as part of the TLS session (CVE-2011-0411 style injection).
 */
static void
client_start_tls(struct smtp_client *c)
{
	struct bufferevent	*tbev;
	struct timeval		 tv = { TIMEOUT_CLIENT_GREETING, 0 };
	int			 fd = c->fd;

	if ((c->ssl = tls_client_new(c->ssl_ctx, c->host)) == NULL) {
		client_fail(c, SCF_TLS, "cannot set up TLS for %s", c->host);
		return;
	}
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_free(c->bev);	/* not the fd: we own it */
	c->bev = NULL;
	tbev = bufferevent_openssl_socket_new(c->base, fd, c->ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (tbev == NULL) {
		client_fail(c, SCF_TLS, "cannot start TLS with %s", c->peer);
		return;
	}
	c->bev = tbev;
	c->bev_owns_fd = 1;
	bufferevent_openssl_set_allow_dirty_shutdown(tbev, 1);
	bufferevent_setcb(tbev, client_read, client_write, client_event, c);
	bufferevent_setwatermark(tbev, EV_WRITE, RELAY_LOW_WATER, 0);
	bufferevent_set_timeouts(tbev, &tv, &tv);
	bufferevent_enable(tbev, EV_READ | EV_WRITE);
	enter_state(c, SC_TLS_HANDSHAKE);
}

static void
client_tls_done(struct smtp_client *c)
{
	char	err[1024];

	if (tls_check_peer(c->ssl, c->has_pin ? c->pin : NULL, err,
	    sizeof(err)) == -1) {
		client_fail(c, SCF_TLS, "%s: %s", c->peer, err);
		return;
	}
	c->tls_active = 1;
	snprintf(c->tls_version, sizeof(c->tls_version), "%s",
	    SSL_get_version(c->ssl));
	log_debug("upstream %s %s: %s established", c->tag, c->peer,
	    c->tls_version);
	if (c->tls == TLSMODE_IMPLICIT) {
		enter_state(c, SC_GREETING);
		client_set_read_timeout(c, TIMEOUT_CLIENT_GREETING);
		return;
	}
	/* RFC 3207 4.2: forget what we knew, ask again. */
	memset(&c->caps, 0, sizeof(c->caps));
	client_send(c, "EHLO %s", c->helo);
	enter_state(c, SC_EHLO);
	client_set_read_timeout(c, TIMEOUT_CLIENT_GREETING);
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_client	*c = arg;
	char			 err[512];

	c->inuse++;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->state == SC_CONNECTING)
			client_connected(c);
		else if (c->state == SC_TLS_HANDSHAKE)
			client_tls_done(c);
		client_leave(c);
		return;
	}
	if (c->state == SC_CONNECTING) {
		snprintf(c->connect_error, sizeof(c->connect_error), "%s",
		    (what & BEV_EVENT_TIMEOUT) ? "timed out" :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		client_connect_next(c);
	} else if (c->state == SC_TLS_HANDSHAKE) {
		tls_error_text(err, sizeof(err));
		client_fail(c, SCF_TLS, "TLS handshake with %s failed: %s",
		    c->peer, (what & BEV_EVENT_TIMEOUT) ? "timed out" :
		    err[0] ? err : "connection closed");
	} else if (what & BEV_EVENT_TIMEOUT) {
		client_fail(c, SCF_TIMEOUT, "%s did not answer in time (%s)",
		    c->peer, sc_state_names[c->state]);
	} else if (what & BEV_EVENT_EOF) {
		client_fail(c, SCF_CONNECT, "%s closed the connection (%s)",
		    c->peer, sc_state_names[c->state]);
	} else {
		client_fail(c, SCF_CONNECT, "connection to %s lost (%s): %s",
		    c->peer, sc_state_names[c->state],
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	client_leave(c);
}

static void
client_write(struct bufferevent *bev, void *arg)
{
	struct smtp_client	*c = arg;

	if (c->state != SC_READY || c->cb.drained == NULL)
		return;
	c->inuse++;
	c->cb.drained(c, c->arg);
	client_leave(c);
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct smtp_client	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	enum smtp_reply_status	 st;
	char			*line;
	size_t			 len;

	c->inuse++;
	/* c->bev changes under us when TLS starts. */
	while (c->bev == bev && !c->freed && c->state != SC_DEAD) {
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL) {
			if (evbuffer_get_length(in) > SMTP_REPLY_LINE_MAX)
				client_fail(c, SCF_PROTOCOL,
				    "%s sent a reply line over %d octets",
				    c->peer, SMTP_REPLY_LINE_MAX);
			break;
		}
		st = smtp_reply_feed(&c->reply, line, len);
		free(line);
		if (st == REPLY_ERROR) {
			client_fail(c, SCF_PROTOCOL,
			    "%s sent a malformed reply (%s)", c->peer,
			    sc_state_names[c->state]);
			break;
		}
		if (st == REPLY_MORE)
			continue;
		client_reply(c);
		smtp_reply_init(&c->reply);
	}
	client_leave(c);
}

static void
client_set_read_timeout(struct smtp_client *c, int seconds)
{
	struct timeval	rtv = { seconds, 0 };
	struct timeval	wtv = { TIMEOUT_CLIENT_BLOCK, 0 };

	if (c->bev)
		bufferevent_set_timeouts(c->bev, seconds ? &rtv : NULL, &wtv);
}

static void
client_send(struct smtp_client *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
	evbuffer_add(bufferevent_get_output(c->bev), "\r\n", 2);
}

/* A reply text for error messages: the first line, "NNN text". */
static const char *
reply_summary(const struct smtp_reply *r, char *buf, size_t len)
{
	const char	*nl = strchr(r->text, '\n');
	int		 n = nl ? (int)(nl - r->text) : (int)r->textlen;

	snprintf(buf, len, "%03d %.*s", r->code, n, r->text);
	return buf;
}

/* Can SCRAM-SHA-256 carry these credentials (scram.h's ASCII SASLprep)? */
static int
scram_fits(const struct smtp_client *c)
{
	return scram_prep_ok(c->user) == 0 && scram_prep_ok(c->password) == 0;
}

static void
client_send_b64(struct smtp_client *c, const char *text, size_t len)
{
	char	*b64;

	if ((b64 = sasl_b64_encode(text, len)) == NULL)
		fatalx("out of memory");
	client_send(c, "%s", b64);
	explicit_bzero(b64, strlen(b64));
	free(b64);
}

/* The XOAUTH2 or OAUTHBEARER response for the token in c->password. */
static char *
oauth_response(const struct smtp_client *c)
{
	char	*resp;

	if (c->mech == AUTHC_XOAUTH2)
		resp = sasl_xoauth2_response(c->user, c->password);
	else
		resp = sasl_oauthbearer_response(c->user, c->host, c->port,
		    c->password);
	if (resp == NULL)
		fatalx("out of memory");
	return resp;
}

static void
client_oauth_send(struct smtp_client *c)
{
	const char	*name = c->mech == AUTHC_XOAUTH2 ? "XOAUTH2" :
			    "OAUTHBEARER";
	char		*resp = oauth_response(c);

	c->oauth_status[0] = '\0';
	client_send(c, "AUTH %s %s", name, resp);
	enter_state(c, SC_AUTH_OAUTH);
	explicit_bzero(resp, strlen(resp));
	free(resp);
}

static void
client_scram_send(struct smtp_client *c)
{
	char	*first, *b64, err[256];

	if (!scram_fits(c)) {
		client_fail(c, SCF_FEATURE, "%s: SCRAM-SHA-256 needs a user "
		    "name and password of printable ASCII (roamsmtp does not "
		    "SASLprep other characters); use auth = plain over TLS",
		    c->peer);
		return;
	}
	if (scram_client_start(&c->scram, c->user, NULL, &first, err,
	    sizeof(err)) == -1) {
		client_fail(c, SCF_FEATURE, "%s: %s", c->peer, err);
		return;
	}
	if ((b64 = sasl_b64_encode(first, strlen(first))) == NULL)
		fatalx("out of memory");
	client_send(c, "AUTH SCRAM-SHA-256 %s", b64);
	free(b64);
	free(first);
	enter_state(c, SC_AUTH_SCRAM_FIRST);
}

static unsigned
mech_bit(enum auth_choice mech)
{
	switch (mech) {
	case AUTHC_PLAIN:		return AUTH_MECH_PLAIN;
	case AUTHC_LOGIN:		return AUTH_MECH_LOGIN;
	case AUTHC_CRAM_MD5:		return AUTH_MECH_CRAM_MD5;
	case AUTHC_SCRAM_SHA_256:	return AUTH_MECH_SCRAM_SHA_256;
	case AUTHC_XOAUTH2:		return AUTH_MECH_XOAUTH2;
	case AUTHC_OAUTHBEARER:		return AUTH_MECH_OAUTHBEARER;
	default:			return 0;
	}
}

static void
client_auth_start(struct smtp_client *c)
{
	enum auth_choice	 mech = c->auth;
	char			*resp;
	char			 offered[128];

	if (!c->tls_active && !c->allow_plaintext_auth) {
		client_fail(c, SCF_FEATURE, "AUTH with %s would send the "
		    "password without TLS; use tls = starttls or tls, or set "
		    "allow-plaintext-auth = yes", c->peer);
		return;
	}
	if (mech == AUTHC_AUTO) {
		/* SCRAM first: the server never sees the password. */
		if ((c->caps.auth & AUTH_MECH_SCRAM_SHA_256) && scram_fits(c))
			mech = AUTHC_SCRAM_SHA_256;
		else if (c->caps.auth & AUTH_MECH_PLAIN)
			mech = AUTHC_PLAIN;
		else if (c->caps.auth & AUTH_MECH_LOGIN)
			mech = AUTHC_LOGIN;
		else if (c->caps.auth & AUTH_MECH_CRAM_MD5)
			mech = AUTHC_CRAM_MD5;
	}
	snprintf(offered, sizeof(offered), "%s%s%s%s%s%s",
	    c->caps.auth & AUTH_MECH_SCRAM_SHA_256 ? " SCRAM-SHA-256" : "",
	    c->caps.auth & AUTH_MECH_PLAIN ? " PLAIN" : "",
	    c->caps.auth & AUTH_MECH_LOGIN ? " LOGIN" : "",
	    c->caps.auth & AUTH_MECH_CRAM_MD5 ? " CRAM-MD5" : "",
	    c->caps.auth & AUTH_MECH_XOAUTH2 ? " XOAUTH2" : "",
	    c->caps.auth & AUTH_MECH_OAUTHBEARER ? " OAUTHBEARER" : "");
	if (mech_bit(mech) == 0 || !(c->caps.auth & mech_bit(mech))) {
		client_fail(c, SCF_FEATURE, "%s offers AUTH%s, the profile "
		    "asks for %s", c->peer, offered[0] ? offered : " (none)",
		    mech == AUTHC_AUTO ? "scram-sha-256, plain, login or "
		    "cram-md5" : auth_choice_name(mech));
		return;
	}
	if (c->user == NULL || c->password == NULL) {
		client_fail(c, SCF_FEATURE, "AUTH %s with %s: no user or no "
		    "secret", auth_choice_name(mech), c->peer);
		return;
	}
	c->mech = mech;
	log_debug("upstream %s %s: AUTH %s user=%s", c->tag, c->peer,
	    auth_choice_name(mech), c->user);
	switch (mech) {
	case AUTHC_PLAIN:
		if ((resp = sasl_plain_response(c->user, c->password)) == NULL)
			fatalx("out of memory");
		client_send(c, "AUTH PLAIN %s", resp);
		explicit_bzero(resp, strlen(resp));
		free(resp);
		enter_state(c, SC_AUTH_LAST);
		break;
	case AUTHC_LOGIN:
		client_send(c, "AUTH LOGIN");
		enter_state(c, SC_AUTH_LOGIN_USER);
		break;
	case AUTHC_CRAM_MD5:
		client_send(c, "AUTH CRAM-MD5");
		enter_state(c, SC_AUTH_CRAM);
		break;
	case AUTHC_SCRAM_SHA_256:
		client_scram_send(c);
		break;
	case AUTHC_XOAUTH2:
	case AUTHC_OAUTHBEARER:
		client_oauth_send(c);
		break;
	default:
		fatalx("bad auth mechanism %d", mech);
	}
	if (c->state != SC_DEAD)
		client_set_read_timeout(c, TIMEOUT_CLIENT_MAIL);
}

static void
client_ready(struct smtp_client *c)
{
	evtimer_del(c->setup_ev);
	enter_state(c, SC_READY);
	client_set_read_timeout(c, 0);
	log_debug("upstream %s %s: ready tls=%s pipelining=%d size=%llu",
	    c->tag, c->peer, c->tls_version, c->caps.pipelining,
	    (unsigned long long)c->caps.size);
	if (c->cb.ready)
		c->cb.ready(c, c->arg);
}

static void
client_after_ehlo(struct smtp_client *c)
{
	if (c->tls == TLSMODE_STARTTLS && !c->tls_active) {
		if (!c->caps.starttls) {
			client_fail(c, SCF_FEATURE, "%s does not offer "
			    "STARTTLS; the profile asks for tls = starttls, "
			    "so nothing is sent in the clear", c->peer);
			return;
		}
		client_send(c, "STARTTLS");
		enter_state(c, SC_STARTTLS);
		return;
	}
	if (c->auth != AUTHC_NONE) {
		client_auth_start(c);
		return;
	}
	client_ready(c);
}

/* A 334's text decoded; NULL when it is not base64. */
static char *
challenge_decode(const struct smtp_reply *r, size_t *len)
{
	return sasl_b64_decode(r->text, len);
}

/*
 * The server refused the OAuth2 token.  Once a session, a 5xx gets a fresh
 * token from the owner and the login again; anything else ends it.
 */
static void
client_oauth_refused(struct smtp_client *c, const struct smtp_reply *r)
{
	char	 sum[600], err[512], status[64], *token = NULL;
	int	 rc;

	reply_summary(r, sum, sizeof(sum));
	snprintf(status, sizeof(status), "%s%s%s",
	    c->oauth_status[0] ? " (status " : "", c->oauth_status,
	    c->oauth_status[0] ? ")" : "");
	if (SMTP_REPLY_CLASS(r) != 5 || c->refreshed ||
	    c->cb.refresh == NULL) {
		client_fail(c, SCF_REFUSED, "%s refused the %s token of "
		    "%s%s%s: %s", c->peer, auth_choice_name(c->mech), c->user,
		    status, c->refreshed ? ", and the fresh one too" : "",
		    sum);
		return;
	}
	c->refreshed = 1;
	log_info("upstream %s %s: token refused%s: %s; asking for a fresh "
	    "one", c->tag, c->peer, status, sum);
	rc = c->cb.refresh(c, &token, err, sizeof(err), c->arg);
	if (c->freed || c->state == SC_DEAD) {
		if (token != NULL) {
			explicit_bzero(token, strlen(token));
			free(token);
		}
		return;
	}
	if (rc == -1 || token == NULL) {
		client_fail(c, SCF_REFUSED, "%s refused the %s token of "
		    "%s%s: %s; no fresh token: %s", c->peer,
		    auth_choice_name(c->mech), c->user, status, sum,
		    rc == -1 ? err : "none given");
		return;
	}
	explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	c->password = token;
	client_oauth_send(c);
}

/* SCRAM's server-final, in a 334 (or, from a lenient server, in the 235):
 * 0 when the server proved it knows the password. */
static int
client_scram_verify(struct smtp_client *c, const struct smtp_reply *r)
{
	char	*msg, err[512];
	size_t	 len;

	if ((msg = challenge_decode(r, &len)) == NULL) {
		client_fail(c, SCF_PROTOCOL, "%s accepted the SCRAM-SHA-256 "
		    "login of %s without proving it knows the password (no "
		    "server signature)", c->peer, c->user);
		return -1;
	}
	if (scram_client_verify(&c->scram, msg, len, err, sizeof(err)) == -1) {
		free(msg);
		client_fail(c, SCF_PROTOCOL, "%s: SCRAM-SHA-256 login of %s: "
		    "%s", c->peer, c->user, err);
		return -1;
	}
	free(msg);
	return 0;
}

/* A 334 in the middle of a login: the next response. */
static void
client_auth_continue(struct smtp_client *c, const struct smtp_reply *r)
{
	char	*resp, *msg, err[512];
	size_t	 len;

	switch (c->state) {
	case SC_AUTH_LOGIN_USER:
		client_send_b64(c, c->user, strlen(c->user));
		enter_state(c, SC_AUTH_LOGIN_PASS);
		break;
	case SC_AUTH_LOGIN_PASS:
		client_send_b64(c, c->password, strlen(c->password));
		enter_state(c, SC_AUTH_LAST);
		break;
	case SC_AUTH_CRAM:
		resp = sasl_cram_md5_response(r->text, c->user, c->password);
		if (resp == NULL) {
			client_fail(c, SCF_PROTOCOL, "%s sent a bad CRAM-MD5 "
			    "challenge", c->peer);
			return;
		}
		client_send(c, "%s", resp);
		free(resp);
		enter_state(c, SC_AUTH_LAST);
		break;
	case SC_AUTH_SCRAM_FIRST:
		if ((msg = challenge_decode(r, &len)) == NULL) {
			client_fail(c, SCF_PROTOCOL, "%s sent a SCRAM-SHA-256 "
			    "challenge that is not base64", c->peer);
			return;
		}
		if (scram_client_final(&c->scram, msg, len, c->password,
		    &resp, err, sizeof(err)) == -1) {
			free(msg);
			client_fail(c, SCF_PROTOCOL, "%s: SCRAM-SHA-256 login "
			    "of %s: %s", c->peer, c->user, err);
			return;
		}
		free(msg);
		client_send_b64(c, resp, strlen(resp));
		explicit_bzero(resp, strlen(resp));
		free(resp);
		enter_state(c, SC_AUTH_SCRAM_FINAL);
		break;
	case SC_AUTH_SCRAM_FINAL:
		if (client_scram_verify(c, r) == -1)
			return;
		client_send(c, "%s", "");
		enter_state(c, SC_AUTH_LAST);
		break;
	case SC_AUTH_OAUTH:
		/* RFC 7628 3.2.2 and Google's XOAUTH2: the token was refused,
		 * the reason in JSON; a dummy response (\1, or an empty line)
		 * gets the final 5xx. */
		if ((msg = challenge_decode(r, &len)) != NULL) {
			sasl_oauth_error_status(msg, len, c->oauth_status,
			    sizeof(c->oauth_status));
			free(msg);
		} else
			snprintf(c->oauth_status, sizeof(c->oauth_status), "?");
		client_send(c, "%s", c->mech == AUTHC_OAUTHBEARER ? "AQ==" :
		    "");
		enter_state(c, SC_AUTH_OAUTH_ERROR);
		break;
	default:
		fatalx("bad auth state %d", c->state);
	}
}

static void
client_auth_reply(struct smtp_client *c)
{
	struct smtp_reply	*r = &c->reply;
	char			 sum[600];

	if (r->code == 334 && c->state != SC_AUTH_LAST &&
	    c->state != SC_AUTH_OAUTH_ERROR) {
		client_auth_continue(c, r);
		return;
	}
	if (r->code == 235) {
		/* The server's signature must come first, in a 334 (RFC 4954
		 * has no data with 235), or, leniently, in the 235 itself. */
		if (c->state == SC_AUTH_SCRAM_FINAL &&
		    client_scram_verify(c, r) == -1)
			return;
		if (c->mech == AUTHC_SCRAM_SHA_256 &&
		    c->scram.step != SCRAM_VERIFIED) {
			client_fail(c, SCF_PROTOCOL, "%s accepted the "
			    "SCRAM-SHA-256 login of %s without proving it "
			    "knows the password (no server signature)",
			    c->peer, c->user);
			return;
		}
		log_debug("upstream %s %s: authenticated", c->tag, c->peer);
		scram_client_clear(&c->scram);
		client_ready(c);
		return;
	}
	if (c->state == SC_AUTH_OAUTH || c->state == SC_AUTH_OAUTH_ERROR) {
		client_oauth_refused(c, r);
		return;
	}
	client_fail(c, SCF_REFUSED, "%s refused the login of %s: %s",
	    c->peer, c->user, reply_summary(r, sum, sizeof(sum)));
}

static void
client_reply(struct smtp_client *c)
{
	struct smtp_reply	*r = &c->reply;
	struct pending		*p;
	char			 sum[600];

	switch (c->state) {
	case SC_GREETING:
		if (r->code != 220) {
			client_fail(c, SCF_REFUSED, "%s greeted with %s",
			    c->peer, reply_summary(r, sum, sizeof(sum)));
			return;
		}
		client_send(c, "EHLO %s", c->helo);
		enter_state(c, SC_EHLO);
		break;
	case SC_EHLO:
		if (r->code == 250) {
			smtp_caps_parse(r, &c->caps);
			client_after_ehlo(c);
		} else if (SMTP_REPLY_CLASS(r) == 5 && !c->tls_active &&
		    c->tls == TLSMODE_NONE && c->auth == AUTHC_NONE) {
			/* An old server: plain HELO is all we need. */
			client_send(c, "HELO %s", c->helo);
			enter_state(c, SC_HELO);
		} else
			client_fail(c, SCF_REFUSED, "%s refused EHLO: %s",
			    c->peer, reply_summary(r, sum, sizeof(sum)));
		break;
	case SC_HELO:
		if (r->code != 250) {
			client_fail(c, SCF_REFUSED, "%s refused HELO: %s",
			    c->peer, reply_summary(r, sum, sizeof(sum)));
			return;
		}
		memset(&c->caps, 0, sizeof(c->caps));
		client_ready(c);
		break;
	case SC_STARTTLS:
		if (r->code != 220) {
			client_fail(c, SCF_FEATURE, "%s refused STARTTLS: %s",
			    c->peer, reply_summary(r, sum, sizeof(sum)));
			return;
		}
		/* Injected plaintext after the 220 dies here. */
		evbuffer_drain(bufferevent_get_input(c->bev),
		    evbuffer_get_length(bufferevent_get_input(c->bev)));
		client_start_tls(c);
		break;
	case SC_AUTH_LAST:
	case SC_AUTH_LOGIN_USER:
	case SC_AUTH_LOGIN_PASS:
	case SC_AUTH_CRAM:
	case SC_AUTH_SCRAM_FIRST:
	case SC_AUTH_SCRAM_FINAL:
	case SC_AUTH_OAUTH:
	case SC_AUTH_OAUTH_ERROR:
		client_auth_reply(c);
		break;
	case SC_READY:
		if ((p = TAILQ_FIRST(&c->pending)) == NULL) {
			client_fail(c, SCF_CONNECT, "%s: %s", c->peer,
			    r->code == 421 ? reply_summary(r, sum, sizeof(sum))
			    : "unexpected reply");
			return;
		}
		TAILQ_REMOVE(&c->pending, p, entry);
		client_set_read_timeout(c, TAILQ_FIRST(&c->pending) ?
		    TAILQ_FIRST(&c->pending)->timeout : 0);
		p->cb(c, r, p->arg);
		free(p);
		break;
	default:
		client_fail(c, SCF_PROTOCOL, "%s sent a reply in state %s",
		    c->peer, sc_state_names[c->state]);
	}
}

void
smtp_client_expect(struct smtp_client *c, int timeout,
    smtp_client_reply_cb cb, void *arg)
{
	struct pending	*p;

	if (c->state != SC_READY)
		fatalx("smtp_client_expect in state %s",
		    sc_state_names[c->state]);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	p->cb = cb;
	p->arg = arg;
	p->timeout = timeout;
	if (TAILQ_EMPTY(&c->pending))
		client_set_read_timeout(c, timeout);
	TAILQ_INSERT_TAIL(&c->pending, p, entry);
}

void
smtp_client_cmd(struct smtp_client *c, int timeout, smtp_client_reply_cb cb,
    void *arg, const char *fmt, ...)
{
	struct evbuffer	*out;
	va_list		 ap;

	smtp_client_expect(c, timeout, cb, arg);
	out = bufferevent_get_output(c->bev);
	va_start(ap, fmt);
	if (log_verbose()) {
		char	line[SMTP_CMD_LINE_MAX];
		va_list	ap2;

		va_copy(ap2, ap);
		vsnprintf(line, sizeof(line), fmt, ap2);
		va_end(ap2);
		log_debug("upstream %s %s: >>> %s", c->tag, c->peer, line);
	}
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

struct evbuffer *
smtp_client_output(struct smtp_client *c)
{
	return bufferevent_get_output(c->bev);
}

const struct smtp_caps *
smtp_client_caps(const struct smtp_client *c)
{
	return &c->caps;
}

const char *
smtp_client_tls_version(const struct smtp_client *c)
{
	return c->tls_version;
}

const char *
smtp_client_peer(const struct smtp_client *c)
{
	return c->peer;
}

int
smtp_client_idle(const struct smtp_client *c)
{
	return c->state == SC_READY && !c->freed &&
	    TAILQ_EMPTY(&c->pending) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

unsigned
smtp_client_uses(const struct smtp_client *c)
{
	return c->uses;
}

void
smtp_client_count_use(struct smtp_client *c)
{
	c->uses++;
}

const char *
smtp_client_fail_name(enum smtp_client_fail f)
{
	switch (f) {
	case SCF_CONNECT:	return "connect";
	case SCF_TLS:		return "tls";
	case SCF_PROTOCOL:	return "protocol";
	case SCF_FEATURE:	return "feature";
	case SCF_REFUSED:	return "refused";
	case SCF_TIMEOUT:	return "timeout";
	}
	return "?";
}
