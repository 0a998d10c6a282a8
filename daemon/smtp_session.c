/*
 * smtp_session.c - the client-facing ESMTP session.
 *
 * States:  CONNECTED -EHLO-> GREETED -MAIL-> MAIL -RCPT-> RCPT -DATA-> DATA
 *          (and back to GREETED after the message), AUTH_* while a SASL
 *          exchange runs.
 * A transaction runs in one of two modes, chosen at MAIL FROM:
 *   ONLINE  each command is mirrored to an upstream session and the client
 *           gets the upstream's own reply; the body streams through (and into
 *           a spool file, in case the upstream dies on the way);
 *   QUEUE   the daemon answers itself, and the message is committed to the
 *           queue (fsynced) before its 250.
 * While an upstream reply is awaited (s->wait) no further input is read
 * from the client's buffer: pipelined commands wait their turn.
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
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "data_filter.h"
#include "smtp_limits.h"
#include "log.h"
#include "msgcopy.h"
#include "queue.h"
#include "relay.h"
#include "router.h"
#include "sasl.h"
#include "smtp_client.h"
#include "smtp_parse.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "util.h"

/* Client input is not read past this while commands wait their turn. */
#define SESSION_INPUT_MAX	(256 * 1024)
/* Replies waiting for a client that does not read: past this, its input
 * is no longer processed until they are out (memory stays bounded). */
#define SESSION_OUTPUT_MAX	(64 * 1024)
/* After the last reply of a closing session, input is read and thrown
 * away this long, so that a client still sending does not turn our close
 * into a reset that may destroy that last reply before it is read. */
#define SESSION_LINGER		5
/* Errors before a session is judged hostile and dropped. */
#define SESSION_ERRORS_MAX	10

enum ss_state {
	SS_CONNECTED,
	SS_GREETED,
	SS_AUTH_PLAIN,
	SS_AUTH_LOGIN_USER,
	SS_AUTH_LOGIN_PASS,
	SS_MAIL,
	SS_RCPT,
	SS_DATA,
	SS_CLOSING,
};

static const char *ss_state_names[] = {
	"connected", "greeted", "auth-plain", "auth-login-user",
	"auth-login-pass", "mail", "rcpt", "data", "closing",
};

enum ss_mode {
	MODE_NONE,
	MODE_ONLINE,
	MODE_QUEUE,
};

/* What the session waits for from the upstream. */
enum ss_wait {
	WAIT_NONE,
	WAIT_CONNECT,
	WAIT_MAIL,
	WAIT_RCPT,
	WAIT_DATA,
	WAIT_DOT,
	WAIT_RSET,
};

struct smtp_session {
	struct smtp_ctx		*ctx;
	char			 id[9];
	char			 peer[64];
	struct bufferevent	*bev;
	enum ss_state		 state;
	enum ss_wait		 wait;
	int			 throttled;	/* reading paused: upstream full */
	int			 out_blocked;	/* paused: our replies pile up */
	int			 lingering;	/* closed for writing, draining */
	int			 discarding;	/* skipping an overlong line */
	int			 errors;
	int			 esmtp;
	int			 authed;
	char			*auth_user;

	/* the transaction */
	enum ss_mode		 mode;
	char			 from[SMTP_PATH_MAX + 1];
	struct smtp_mail_params	 params;
	char			**rcpt;
	size_t			 nrcpt;
	char			 pending_rcpt[SMTP_PATH_MAX + 1];
	char			 queue_reason[512];
	const struct profile	*profile;	/* the one in use */
	struct pset		*pset;		/* holds profile */
	uint64_t		 metered_limit;	/* 0 unless metered */
	struct smtp_client	*up;
	struct upstream_req	*upreq;
	int			 up_retried;
	int			 up_dead;	/* upstream lost during DATA */
	char			 mail_params[128];
	int			 mail_deferred;	/* MAIL goes with the first RCPT */
	/* An upstream refusal to give the client later: of a deferred MAIL
	 * (at each RCPT) or of DATA (at the end of the data). */
	int			 refused;
	struct smtp_reply	 refusal;

	struct data_filter	 df;
	struct msgcopy		 copy;		/* the safety copy */
	uint64_t		 data_bytes;	/* transfer octets, terminator too */
	double			 t_mail;
};

static void	session_read(struct bufferevent *, void *);
static void	session_write(struct bufferevent *, void *);
static void	session_event(struct bufferevent *, short, void *);
static void	session_process(struct smtp_session *);
static void	session_close(struct smtp_session *);
static void	session_free(struct smtp_session *);
static void	session_reply(struct smtp_session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	session_reset(struct smtp_session *);
static void	session_queue_mode(struct smtp_session *, const char *);
static void	session_send_mail(struct smtp_session *);
static void	session_commit(struct smtp_session *, const char *);
static void	up_failed(struct smtp_client *, enum smtp_client_fail,
		    const char *, void *);
static void	up_drained(struct smtp_client *, void *);
static void	session_connected(struct smtp_client *,
		    const struct profile *, enum smtp_client_fail,
		    const char *, void *);

static const struct smtp_client_cb session_up_cb = {
	.ready = NULL,
	.failed = up_failed,
	.drained = up_drained,
};

static void
enter_state(struct smtp_session *s, enum ss_state st)
{
	if (s->state == st)
		return;
	log_debug("%s smtp state %s -> %s", s->id, ss_state_names[s->state],
	    ss_state_names[st]);
	s->state = st;
}

void
smtp_session_start(struct smtp_ctx *ctx, int fd, const char *peer)
{
	struct smtp_session	*s;
	struct timeval		 tv = { TIMEOUT_SERVER_COMMAND, 0 };
	char			 id[QUEUE_ID_LEN + 1];
	int			 one = 1;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("session: calloc");
		close(fd);
		return;
	}
	s->ctx = ctx;
	queue_new_id(id);
	memcpy(s->id, id, 8);
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	msgcopy_init(&s->copy, ctx->queue);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->bev = bufferevent_socket_new(ctx->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		log_warnx("session: cannot make a bufferevent");
		close(fd);
		free(s);
		return;
	}
	ctx->nsessions++;
	bufferevent_setcb(s->bev, session_read, session_write, session_event,
	    s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SESSION_INPUT_MAX);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	log_info("%s smtp connected peer=%s", s->id, s->peer);
	session_reply(s, "220 %s ESMTP roamsmtpd ready", ctx->conf->hostname);
}

static void
session_reply(struct smtp_session *s, const char *fmt, ...)
{
	struct evbuffer	*out = bufferevent_get_output(s->bev);
	va_list		 ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/* The upstream's reply, code and text, to our client. */
static void
session_mirror(struct smtp_session *s, const struct smtp_reply *r)
{
	char	buf[SMTP_REPLY_TEXT_MAX + SMTP_REPLY_LINES_MAX * 8];
	size_t	n;

	if ((n = smtp_reply_format(r, buf, sizeof(buf))) == 0) {
		session_reply(s, "%03d upstream reply too long", r->code);
		return;
	}
	bufferevent_write(s->bev, buf, n);
}

static void
session_error(struct smtp_session *s)
{
	if (++s->errors >= SESSION_ERRORS_MAX) {
		session_reply(s, "421 4.7.0 %s too many errors; closing",
		    s->ctx->conf->hostname);
		session_close(s);
	}
}

/* The upstream session goes back to the pool, or away when unusable. */
static void
session_drop_upstream(struct smtp_session *s, int reusable)
{
	struct smtp_client	*c = s->up;

	if (s->upreq) {
		router_cancel(s->upreq);
		s->upreq = NULL;
	}
	if (c == NULL)
		return;
	s->up = NULL;
	if (reusable && smtp_client_idle(c))
		router_put_upstream(s->ctx->router, s->profile, c);
	else
		smtp_client_free(c);
}

static void
session_reset(struct smtp_session *s)
{
	size_t	i;

	for (i = 0; i < s->nrcpt; i++)
		free(s->rcpt[i]);
	free(s->rcpt);
	s->rcpt = NULL;
	s->nrcpt = 0;
	s->from[0] = '\0';
	memset(&s->params, 0, sizeof(s->params));
	s->mode = MODE_NONE;
	s->queue_reason[0] = '\0';
	s->up_retried = 0;
	s->up_dead = 0;
	s->mail_deferred = 0;
	s->refused = 0;
	s->metered_limit = 0;
	s->profile = NULL;
	router_release(s->ctx->router, s->pset);
	s->pset = NULL;
	s->data_bytes = 0;
	msgcopy_discard(&s->copy);
	if (s->state != SS_CONNECTED && s->state != SS_CLOSING)
		enter_state(s, SS_GREETED);
}

static int
session_add_rcpt(struct smtp_session *s, const char *addr)
{
	char	**v;

	if ((v = reallocarray(s->rcpt, s->nrcpt + 1, sizeof(*v))) == NULL)
		return -1;
	s->rcpt = v;
	if ((s->rcpt[s->nrcpt] = strdup(addr)) == NULL)
		return -1;
	s->nrcpt++;
	return 0;
}

/* ---- commands ---------------------------------------------------------- */

static int
check_greeted(struct smtp_session *s, const char *args)
{
	if (s->state == SS_CONNECTED) {
		session_reply(s, "503 5.5.1 Say EHLO first");
		return -1;
	}
	return 0;
}

static int
check_mail(struct smtp_session *s, const char *args)
{
	if (check_greeted(s, args) == -1)
		return -1;
	if (s->state != SS_GREETED) {
		session_reply(s, "503 5.5.1 Nested MAIL command");
		return -1;
	}
	return 0;
}

static int
check_rcpt(struct smtp_session *s, const char *args)
{
	if (s->state != SS_MAIL && s->state != SS_RCPT) {
		session_reply(s, "503 5.5.1 Need MAIL before RCPT");
		return -1;
	}
	if (s->nrcpt >= s->ctx->conf->max_recipients) {
		session_reply(s, "452 4.5.3 Too many recipients (at most %u "
		    "a message); send the rest in another message",
		    s->ctx->conf->max_recipients);
		return -1;
	}
	return 0;
}

static int
check_data(struct smtp_session *s, const char *args)
{
	if (s->state == SS_MAIL) {
		session_reply(s, "554 5.5.1 No valid recipients");
		return -1;
	}
	if (s->state != SS_RCPT) {
		session_reply(s, "503 5.5.1 Need RCPT before DATA");
		return -1;
	}
	if (args[0] != '\0') {
		session_reply(s, "501 5.5.4 DATA takes no arguments");
		return -1;
	}
	return 0;
}

static int
check_noargs(struct smtp_session *s, const char *args)
{
	if (args[0] != '\0') {
		session_reply(s, "501 5.5.4 No arguments allowed");
		return -1;
	}
	return 0;
}

static int
check_helo(struct smtp_session *s, const char *args)
{
	if (args[0] == '\0') {
		session_reply(s, "501 5.5.4 Give your host name");
		return -1;
	}
	return 0;
}

static int
check_auth(struct smtp_session *s, const char *args)
{
	if (!s->esmtp) {
		session_reply(s, "503 5.5.1 Say EHLO first");
		return -1;
	}
	if (s->authed) {
		session_reply(s, "503 5.5.1 Already authenticated");
		return -1;
	}
	if (s->state != SS_GREETED) {
		session_reply(s, "503 5.5.1 AUTH not allowed in a transaction");
		return -1;
	}
	return 0;
}

static void
proceed_helo(struct smtp_session *s, const char *args, int esmtp)
{
	const struct daemon_conf	*conf = s->ctx->conf;

	if (s->mode == MODE_ONLINE)
		session_drop_upstream(s, 0);
	session_reset(s);
	s->esmtp = esmtp;
	enter_state(s, SS_GREETED);
	if (!esmtp) {
		session_reply(s, "250 %s", conf->hostname);
		return;
	}
	session_reply(s, "250-%s", conf->hostname);
	session_reply(s, "250-PIPELINING");
	session_reply(s, "250-SIZE %llu",
	    (unsigned long long)conf->max_message_size);
	session_reply(s, "250-8BITMIME");
	session_reply(s, "250-SMTPUTF8");
	session_reply(s, "250-ENHANCEDSTATUSCODES");
	session_reply(s, "250-AUTH PLAIN LOGIN");
	session_reply(s, "250 HELP");
}

static void
proceed_ehlo(struct smtp_session *s, const char *args)
{
	proceed_helo(s, args, 1);
}

static void
proceed_helo_plain(struct smtp_session *s, const char *args)
{
	proceed_helo(s, args, 0);
}

static void
proceed_mail(struct smtp_session *s, const char *args)
{
	struct router		*router = s->ctx->router;
	const struct profile	*used;
	const char		*why, *reason;
	char			 err[512];
	enum smtp_path_error	 e;

	e = smtp_parse_path(args, 1, s->from, sizeof(s->from), &s->params,
	    &why);
	switch (e) {
	case PATH_OK:
		break;
	case PATH_NON_ASCII:
		session_reply(s, "553 5.6.7 %s", why);
		return;
	case PATH_BAD_PARAM:
		session_reply(s, "555 5.5.4 %s", why);
		return;
	default:
		session_reply(s, "501 5.1.7 %s", why);
		return;
	}
	if (s->params.size > s->ctx->conf->max_message_size) {
		session_reply(s, "552 5.3.4 Message too big (at most %llu "
		    "octets)",
		    (unsigned long long)s->ctx->conf->max_message_size);
		return;
	}
	s->t_mail = now_monotonic();
	s->profile = router_choose(router, &reason);
	if (s->profile == NULL) {
		session_queue_mode(s, reason);
		return;
	}
	s->pset = router_hold(router);
	s->metered_limit = router_metered_limit(router);
	if (s->metered_limit && s->params.size > s->metered_limit) {
		snprintf(err, sizeof(err), "metered network: messages over "
		    "%llu octets wait for another network (send one anyway "
		    "with: roamsmtpctl retry ID)",
		    (unsigned long long)s->metered_limit);
		session_queue_mode(s, err);
		return;
	}
	if (router_upstream_down(router, s->profile, &why)) {
		session_queue_mode(s, why);
		return;
	}
	if ((s->up = router_take_idle(router, s->profile, &used)) != NULL) {
		s->profile = used;
		smtp_client_set_cb(s->up, &session_up_cb, s);
		session_send_mail(s);
		return;
	}
	s->wait = WAIT_CONNECT;
	s->upreq = router_connect(router, s->profile, s->from,
	    session_connected, s, err, sizeof(err));
	if (s->upreq == NULL) {
		s->wait = WAIT_NONE;
		session_queue_mode(s, err);
	}
}

/* No upstream for this transaction: the daemon answers and queues. */
static void
session_queue_mode(struct smtp_session *s, const char *reason)
{
	s->mode = MODE_QUEUE;
	snprintf(s->queue_reason, sizeof(s->queue_reason), "%s", reason);
	log_info("%s smtp mail from=<%s> mode=queue reason=\"%s\"", s->id,
	    s->from, reason);
	enter_state(s, SS_MAIL);
	session_reply(s, "250 2.1.0 Ok");
}

/* router_connect() finished. */
static void
session_connected(struct smtp_client *c, const struct profile *used,
    enum smtp_client_fail class, const char *reason, void *arg)
{
	struct smtp_session	*s = arg;

	s->upreq = NULL;
	s->wait = WAIT_NONE;
	if (c == NULL) {
		session_queue_mode(s, reason);
		session_process(s);
		return;
	}
	s->profile = used;
	s->up = c;
	smtp_client_set_cb(c, &session_up_cb, s);
	session_send_mail(s);
}

static void
mail_reply(struct smtp_client *c, const struct smtp_reply *r, void *arg)
{
	struct smtp_session	*s = arg;

	s->wait = WAIT_NONE;
	session_mirror(s, r);
	if (SMTP_REPLY_CLASS(r) == 2) {
		s->mode = MODE_ONLINE;
		log_debug("%s smtp mail from=<%s> mode=online profile=%s "
		    "upstream=%s reused=%u", s->id, s->from, s->profile->name,
		    smtp_client_peer(c), smtp_client_uses(c) - 1);
		enter_state(s, SS_MAIL);
	} else {
		log_info("%s smtp mail from=<%s> refused upstream=%s "
		    "reply=%d", s->id, s->from, smtp_client_peer(c), r->code);
		session_drop_upstream(s, 1);
		session_reset(s);
	}
	session_process(s);
}

/* The sender the upstream sees: the profile may rewrite it for an ISP
 * relay that refuses foreign senders; the null sender stays null. */
static const char *
session_envelope_from(const struct smtp_session *s)
{
	if (s->from[0] != '\0' && s->profile->envelope_from != NULL)
		return s->profile->envelope_from;
	return s->from;
}

static void
session_send_mail(struct smtp_session *s)
{
	char	params[128], err[512];

	if (relay_mail_params(smtp_client_caps(s->up), &s->params,
	    s->ctx->conf->max_message_size, smtp_client_peer(s->up), params,
	    sizeof(params), err, sizeof(err)) == -1) {
		/* The client needs what this upstream lacks: say so now. */
		session_reply(s, "%s", err);
		session_drop_upstream(s, 1);
		session_reset(s);
		session_process(s);
		return;
	}
	smtp_client_count_use(s->up);
	snprintf(s->mail_params, sizeof(s->mail_params), "%s", params);
	if (smtp_client_caps(s->up)->pipelining) {
		/*
		 * The upstream pipelines: MAIL goes out with the first RCPT,
		 * saving a round trip on every message.  The connection is
		 * up and the client's needs are checked already; should the
		 * upstream refuse the sender, each RCPT gets that refusal.
		 */
		s->mail_deferred = 1;
		s->mode = MODE_ONLINE;
		log_debug("%s smtp mail from=<%s> mode=online profile=%s "
		    "upstream=%s reused=%u", s->id, s->from, s->profile->name,
		    smtp_client_peer(s->up), smtp_client_uses(s->up) - 1);
		enter_state(s, SS_MAIL);
		session_reply(s, "250 2.1.0 Ok");
		session_process(s);
		return;
	}
	s->wait = WAIT_MAIL;
	smtp_client_cmd(s->up, TIMEOUT_CLIENT_MAIL, mail_reply, s,
	    "MAIL FROM:<%s>%s", session_envelope_from(s), s->mail_params);
}

static void
deferred_mail_reply(struct smtp_client *c, const struct smtp_reply *r,
    void *arg)
{
	struct smtp_session	*s = arg;

	if (SMTP_REPLY_CLASS(r) == 2)
		return;
	log_info("%s smtp mail from=<%s> refused upstream=%s reply=%d", s->id,
	    s->from, smtp_client_peer(c), r->code);
	s->refused = 1;
	s->refusal = *r;
}

/* The upstream's verdict on a recipient, for the client. */
static void
rcpt_verdict(struct smtp_session *s, const struct smtp_reply *r)
{
	s->wait = WAIT_NONE;
	if (s->refused)
		r = &s->refusal;	/* the sender was refused */
	if (SMTP_REPLY_CLASS(r) == 2) {
		if (session_add_rcpt(s, s->pending_rcpt) == -1) {
			session_reply(s, "452 4.3.0 Out of memory");
			session_process(s);
			return;
		}
		enter_state(s, SS_RCPT);
	}
	/* The message's own line (relay delivered ...) says the rest: one
	 * line a message at info level, a write less per command. */
	if (SMTP_REPLY_CLASS(r) == 2)
		log_debug("%s smtp rcpt to=<%s> reply=%d", s->id,
		    s->pending_rcpt, r->code);
	else
		log_info("%s smtp rcpt to=<%s> reply=%d", s->id,
		    s->pending_rcpt, r->code);
	session_mirror(s, r);
	session_process(s);
}

/* The RCPT sent again after a POP3 login: its verdict stands. */
static void
rcpt_retry_reply(struct smtp_client *c, const struct smtp_reply *r,
    void *arg)
{
	rcpt_verdict(arg, r);
}

/* router_pop_relogin() gave the upstream back (or lost it). */
static void
rcpt_relogged(struct smtp_client *c, const struct profile *used,
    enum smtp_client_fail class, const char *reason, void *arg)
{
	struct smtp_session	*s = arg;

	s->upreq = NULL;
	if (c == NULL) {
		/* As up_failed() does for a RCPT: the message is queued. */
		log_warnx("%s relay upstream lost during the POP3 login: %s",
		    s->id, reason);
		router_note_failure(s->ctx->router, s->profile, class, reason);
		s->wait = WAIT_NONE;
		snprintf(s->queue_reason, sizeof(s->queue_reason), "%s",
		    reason);
		s->mode = MODE_QUEUE;
		if (session_add_rcpt(s, s->pending_rcpt) == -1)
			session_reply(s, "452 4.3.0 Out of memory");
		else {
			enter_state(s, SS_RCPT);
			session_reply(s, "250 2.1.5 Ok");
		}
		session_process(s);
		return;
	}
	if (reason != NULL)
		log_info("%s smtp rcpt to=<%s> POP3 login failed: %s; asking "
		    "once more anyway", s->id, s->pending_rcpt, reason);
	s->up = c;
	smtp_client_set_cb(c, &session_up_cb, s);
	smtp_client_cmd(c, TIMEOUT_CLIENT_RCPT, rcpt_retry_reply, s,
	    "RCPT TO:<%s>", s->pending_rcpt);
}

static void
rcpt_reply(struct smtp_client *c, const struct smtp_reply *r, void *arg)
{
	struct smtp_session	*s = arg;
	char			 err[512];

	/*
	 * POP-before-SMTP: a refusal may mean the provider's window after
	 * the last POP3 login ran out.  Log in once more and ask again; the
	 * client hears the second verdict.  The router holds the upstream
	 * meanwhile (s->upreq: session_drop_upstream() cancels it).
	 */
	if (!s->refused && SMTP_REPLY_CLASS(r) == 5 &&
	    s->profile->pop.enabled) {
		s->up = NULL;
		s->upreq = router_pop_relogin(s->ctx->router, s->profile, c,
		    rcpt_relogged, s, err, sizeof(err));
		if (s->upreq != NULL) {
			log_info("%s smtp rcpt to=<%s> reply=%d: POP3 login "
			    "again", s->id, s->pending_rcpt, r->code);
			return;
		}
		s->up = c;
		log_debug("%s smtp rcpt to=<%s> reply=%d: no POP3 login: %s",
		    s->id, s->pending_rcpt, r->code, err);
	}
	rcpt_verdict(s, r);
}

static void
proceed_rcpt(struct smtp_session *s, const char *args)
{
	enum smtp_path_error	 e;
	const char		*why;

	e = smtp_parse_path(args, 0, s->pending_rcpt, sizeof(s->pending_rcpt),
	    NULL, &why);
	if (e == PATH_NON_ASCII && s->params.smtputf8)
		e = PATH_OK;
	switch (e) {
	case PATH_OK:
		break;
	case PATH_NON_ASCII:
		session_reply(s, "553 5.6.7 %s", why);
		return;
	case PATH_BAD_PARAM:
		session_reply(s, "555 5.5.4 %s", why);
		return;
	default:
		session_reply(s, "501 5.1.3 %s", why);
		return;
	}
	if (s->pending_rcpt[0] == '\0') {
		session_reply(s, "501 5.1.3 Empty recipient");
		return;
	}
	if (s->mode == MODE_ONLINE && s->refused) {
		session_mirror(s, &s->refusal);
		return;
	}
	if (s->mode == MODE_ONLINE) {
		s->wait = WAIT_RCPT;
		if (s->mail_deferred) {
			s->mail_deferred = 0;
			smtp_client_cmd(s->up, TIMEOUT_CLIENT_MAIL,
			    deferred_mail_reply, s, "MAIL FROM:<%s>%s",
			    session_envelope_from(s), s->mail_params);
		}
		smtp_client_cmd(s->up, TIMEOUT_CLIENT_RCPT, rcpt_reply, s,
		    "RCPT TO:<%s>", s->pending_rcpt);
		return;
	}
	if (session_add_rcpt(s, s->pending_rcpt) == -1) {
		session_reply(s, "452 4.3.0 Out of memory");
		return;
	}
	enter_state(s, SS_RCPT);
	session_reply(s, "250 2.1.5 Ok");
}

static void
session_enter_data(struct smtp_session *s)
{
	data_filter_init(&s->df, s->ctx->conf->max_message_size);
	s->data_bytes = 0;
	enter_state(s, SS_DATA);
}

/*
 * The upstream's answer to DATA.  The client already has its 354 and its
 * data waits in our buffer; a refusal is kept for the end of the data.
 */
static void
data_reply(struct smtp_client *c, const struct smtp_reply *r, void *arg)
{
	struct smtp_session	*s = arg;

	s->wait = WAIT_NONE;
	if (r->code != 354) {
		log_info("%s smtp data refused upstream=%s reply=%d", s->id,
		    smtp_client_peer(c), r->code);
		s->refused = 1;
		s->refusal = *r;
		session_drop_upstream(s, 0);
	}
	session_process(s);
}

static void
proceed_data(struct smtp_session *s, const char *args)
{
	/* Offline the message goes to disk from its first byte; online a
	 * copy is kept in case the upstream dies on the way. */
	if (msgcopy_start(&s->copy, s->mode != MODE_ONLINE) == -1) {
		session_reply(s, "452 4.3.1 Cannot write to the queue in %s: "
		    "%s; free some space and send again",
		    queue_dir(s->ctx->queue), strerror(errno));
		return;
	}
	/*
	 * Online, the client may start sending while the upstream's 354 is on
	 * its way (a round trip saved on every message); its data waits in
	 * our buffer, bounded by the read watermark.
	 */
	session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	session_enter_data(s);
	if (s->mode == MODE_ONLINE) {
		s->wait = WAIT_DATA;
		smtp_client_cmd(s->up, TIMEOUT_CLIENT_DATA, data_reply, s,
		    "DATA");
	}
}

static void
rset_reply(struct smtp_client *c, const struct smtp_reply *r, void *arg)
{
	struct smtp_session	*s = arg;

	s->wait = WAIT_NONE;
	session_drop_upstream(s, SMTP_REPLY_CLASS(r) == 2);
	session_reset(s);
	session_reply(s, "250 2.0.0 Ok");
	session_process(s);
}

static void
proceed_rset(struct smtp_session *s, const char *args)
{
	if (s->mode == MODE_ONLINE && s->up) {
		s->wait = WAIT_RSET;
		smtp_client_cmd(s->up, TIMEOUT_CLIENT_MAIL, rset_reply, s,
		    "RSET");
		return;
	}
	session_reset(s);
	session_reply(s, "250 2.0.0 Ok");
}

static void
proceed_noop(struct smtp_session *s, const char *args)
{
	session_reply(s, "250 2.0.0 Ok");
}

static void
proceed_quit(struct smtp_session *s, const char *args)
{
	session_reply(s, "221 2.0.0 Bye");
	session_close(s);
}

static void
proceed_vrfy(struct smtp_session *s, const char *args)
{
	session_reply(s, "252 2.5.0 Cannot VRFY; send some mail and see");
}

static void
proceed_help(struct smtp_session *s, const char *args)
{
	session_reply(s, "214 2.0.0 roamsmtpd: see roamsmtpd(8)");
}

static void
proceed_not_offered(struct smtp_session *s, const char *args)
{
	session_reply(s, "502 5.5.1 Command not offered here");
}

static void
proceed_starttls(struct smtp_session *s, const char *args)
{
	struct evbuffer	*in = bufferevent_get_input(s->bev);

	/* Loopback only: there is nobody on the wire to hide from. */
	session_reply(s, "502 5.5.1 STARTTLS not offered on loopback");
	if (evbuffer_get_length(in) > 0) {
		/* Commands pipelined behind STARTTLS are how command
		 * injection works (CVE-2011-0411): none of them runs. */
		evbuffer_drain(in, evbuffer_get_length(in));
		log_warnx("%s smtp commands pipelined after STARTTLS "
		    "discarded", s->id);
		session_reply(s, "554 5.5.1 Improper command pipelining after "
		    "STARTTLS; closing");
		session_close(s);
	}
}

/* ---- local AUTH (RFC 4954), for clients that insist on it -------------- */

static void
auth_check(struct smtp_session *s, const char *user, const char *pass)
{
	const struct daemon_conf	*conf = s->ctx->conf;
	size_t				 pl, cl;

	enter_state(s, SS_GREETED);
	if (conf->client_auth_user == NULL) {
		/* The peer's uid was checked at connect; AUTH adds nothing. */
		s->authed = 1;
		log_info("%s smtp auth user=%s accepted (no client-auth-user "
		    "set)", s->id, user);
		session_reply(s, "235 2.7.0 Authentication successful");
		return;
	}
	pl = strlen(pass);
	cl = strlen(conf->client_auth_password);
	if (strcmp(user, conf->client_auth_user) == 0 && pl == cl &&
	    CRYPTO_memcmp(pass, conf->client_auth_password, pl) == 0) {
		s->authed = 1;
		log_info("%s smtp auth user=%s ok", s->id, user);
		session_reply(s, "235 2.7.0 Authentication successful");
		return;
	}
	log_warnx("%s smtp auth user=%s failed", s->id, user);
	session_reply(s, "535 5.7.8 Authentication credentials invalid");
	session_error(s);
}

static void
auth_plain(struct smtp_session *s, const char *b64)
{
	const char	*user, *pass;
	char		*msg;
	size_t		 len;

	if ((msg = sasl_b64_decode(b64, &len)) == NULL ||
	    sasl_plain_split(msg, len, &user, &pass) == -1) {
		enter_state(s, SS_GREETED);
		session_reply(s, "501 5.5.2 Malformed AUTH PLAIN response");
		session_error(s);
	} else
		auth_check(s, user, pass);
	if (msg) {
		explicit_bzero(msg, len);
		free(msg);
	}
}

static void
auth_continue(struct smtp_session *s, const char *line)
{
	char	*dec;
	size_t	 len;

	if (strcmp(line, "*") == 0) {
		enter_state(s, SS_GREETED);
		session_reply(s, "501 5.0.0 Authentication cancelled");
		return;
	}
	switch (s->state) {
	case SS_AUTH_PLAIN:
		auth_plain(s, line);
		break;
	case SS_AUTH_LOGIN_USER:
		if ((dec = sasl_b64_decode(line, &len)) == NULL) {
			enter_state(s, SS_GREETED);
			session_reply(s, "501 5.5.2 Malformed response");
			return;
		}
		free(s->auth_user);
		s->auth_user = dec;
		enter_state(s, SS_AUTH_LOGIN_PASS);
		session_reply(s, "334 UGFzc3dvcmQ6");
		break;
	case SS_AUTH_LOGIN_PASS:
		if ((dec = sasl_b64_decode(line, &len)) == NULL) {
			enter_state(s, SS_GREETED);
			session_reply(s, "501 5.5.2 Malformed response");
			return;
		}
		auth_check(s, s->auth_user, dec);
		explicit_bzero(dec, len);
		free(dec);
		break;
	default:
		fatalx("auth_continue: bad state %d", s->state);
	}
}

static void
proceed_auth(struct smtp_session *s, const char *args)
{
	char	mech[16];
	size_t	n = strcspn(args, " ");
	const char *initial = args[n] == ' ' ? args + n + 1 : NULL;

	if (n == 0 || n >= sizeof(mech)) {
		session_reply(s, "501 5.5.4 AUTH mechanism missing");
		return;
	}
	memcpy(mech, args, n);
	mech[n] = '\0';
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (initial && strcmp(initial, "=") != 0) {
			auth_plain(s, initial);
			return;
		}
		enter_state(s, SS_AUTH_PLAIN);
		session_reply(s, "334 ");
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		if (initial) {
			enter_state(s, SS_AUTH_LOGIN_USER);
			auth_continue(s, initial);
			return;
		}
		enter_state(s, SS_AUTH_LOGIN_USER);
		session_reply(s, "334 VXNlcm5hbWU6");
	} else
		session_reply(s, "504 5.5.4 Mechanism not supported; use "
		    "PLAIN or LOGIN");
}

/* ---- the command table -------------------------------------------------- */

static const struct smtp_command {
	enum smtp_cmd	 cmd;
	int		(*check)(struct smtp_session *, const char *);
	void		(*proceed)(struct smtp_session *, const char *);
} commands[] = {
	{ CMD_EHLO,	check_helo,	proceed_ehlo },
	{ CMD_HELO,	check_helo,	proceed_helo_plain },
	{ CMD_MAIL,	check_mail,	proceed_mail },
	{ CMD_RCPT,	check_rcpt,	proceed_rcpt },
	{ CMD_DATA,	check_data,	proceed_data },
	{ CMD_RSET,	check_noargs,	proceed_rset },
	{ CMD_NOOP,	NULL,		proceed_noop },
	{ CMD_QUIT,	NULL,		proceed_quit },
	{ CMD_VRFY,	NULL,		proceed_vrfy },
	{ CMD_EXPN,	NULL,		proceed_not_offered },
	{ CMD_BDAT,	NULL,		proceed_not_offered },
	{ CMD_HELP,	NULL,		proceed_help },
	{ CMD_AUTH,	check_auth,	proceed_auth },
	{ CMD_STARTTLS,	NULL,		proceed_starttls },
};

static void
session_command(struct smtp_session *s, const char *line)
{
	const char	*args;
	enum smtp_cmd	 cmd;
	size_t		 i;

	cmd = smtp_cmd_parse(line, &args);
	if (cmd == CMD_AUTH)
		log_debug("%s smtp <<< AUTH ...", s->id);
	else
		log_debug("%s smtp <<< %s", s->id, line);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].cmd != cmd)
			continue;
		if (commands[i].check && commands[i].check(s, args) == -1) {
			session_error(s);
			return;
		}
		commands[i].proceed(s, args);
		return;
	}
	session_reply(s, "500 5.5.2 Command not recognized");
	session_error(s);
}

/* ---- DATA ----------------------------------------------------------------- */

static void
dot_reply(struct smtp_client *c, const struct smtp_reply *r, void *arg)
{
	struct smtp_session	*s = arg;
	char			 why[600];

	s->wait = WAIT_NONE;
	if (SMTP_REPLY_CLASS(r) == 4 && s->copy.err == 0) {
		/* We hold the whole message: keep it rather than make the
		 * client try again later. */
		snprintf(why, sizeof(why), "%s deferred it: %03d %.400s",
		    smtp_client_peer(c), r->code, r->text);
		session_drop_upstream(s, 1);
		session_commit(s, why);
		session_process(s);
		return;
	}
	session_mirror(s, r);
	log_info("%s relay %s profile=%s upstream=%s tls=%s from=<%s> "
	    "rcpts=%zu size=%llu reply=%d delay=%.3fs", s->id,
	    SMTP_REPLY_CLASS(r) == 2 ? "delivered" : "refused",
	    s->profile->name, smtp_client_peer(c),
	    smtp_client_tls_version(c), s->from, s->nrcpt,
	    (unsigned long long)s->df.size, r->code,
	    now_monotonic() - s->t_mail);
	router_note_ok(s->ctx->router, s->profile, smtp_client_tls_version(c));
	if (SMTP_REPLY_CLASS(r) == 2)
		router_note_sent(s->ctx->router, s->id, s->profile,
		    smtp_client_peer(c));
	session_drop_upstream(s, 1);
	session_reset(s);
	session_process(s);
}

/* The message is complete: answer, forward the verdict, or queue it. */
static void
session_data_end(struct smtp_session *s)
{
	if (s->df.error != DATA_OK) {
		log_info("%s smtp data refused: %s at line %llu", s->id,
		    data_error_text(s->df.error),
		    (unsigned long long)s->df.error_line);
		if (s->df.error == DATA_TOO_BIG)
			session_reply(s, "552 5.3.4 Message too big (at most "
			    "%llu octets)", (unsigned long long)
			    s->ctx->conf->max_message_size);
		else
			session_reply(s, "550 5.6.0 Message refused: %s at "
			    "line %llu; nothing was sent",
			    data_error_text(s->df.error),
			    (unsigned long long)s->df.error_line);
		session_drop_upstream(s, 0);
		session_reset(s);
		return;
	}
	if (s->refused) {
		/* The upstream refused DATA after our early 354. */
		if (SMTP_REPLY_CLASS(&s->refusal) == 4 && s->copy.err == 0) {
			session_commit(s, s->refusal.text);
			return;
		}
		session_mirror(s, &s->refusal);
		session_reset(s);
		return;
	}
	if (s->mode == MODE_ONLINE && s->up && !s->up_dead) {
		s->wait = WAIT_DOT;
		smtp_client_expect(s->up, TIMEOUT_CLIENT_DOT, dot_reply, s);
		return;
	}
	session_commit(s, s->queue_reason[0] ? s->queue_reason :
	    "upstream lost during DATA");
}

/* Make the spooled message durable; only then say 250. */
static void
session_commit(struct smtp_session *s, const char *why)
{
	struct qmsg	*m;
	size_t		 i;
	int		 saved;

	if ((m = qmsg_new()) == NULL ||
	    (m->from = strdup(s->from)) == NULL ||
	    (m->rcpt = calloc(s->nrcpt, sizeof(char *))) == NULL)
		fatal("qmsg");
	for (i = 0; i < s->nrcpt; i++) {
		if ((m->rcpt[i] = strdup(s->rcpt[i])) == NULL)
			fatal("strdup");
		m->nrcpt++;
	}
	m->body_8bitmime = s->params.body_8bitmime;
	m->smtputf8 = s->params.smtputf8;
	m->created = time(NULL);
	m->last_error = strdup(why);
	/* The upstream just failed (or there is none): the router's hold
	 * and network changes decide; no instant second try. */
	m->next_attempt = m->created + UPSTREAM_DOWN_HOLD;
	/* The copy holds the terminator ".\r\n" too: leave it out. */
	if (msgcopy_commit(&s->copy, s->data_bytes - 3, m) == -1) {
		saved = errno;
		log_warnx("%s queue cannot commit: %s", s->id, strerror(saved));
		session_reply(s, "452 4.3.1 Cannot write to the queue in %s: "
		    "%s; free some space and send again",
		    queue_dir(s->ctx->queue), strerror(saved));
		qmsg_free(m);
		session_reset(s);
		return;
	}
	log_info("%s queue queued id=%s from=<%s> rcpts=%zu size=%llu "
	    "reason=\"%s\"", s->id, m->id, m->from, m->nrcpt,
	    (unsigned long long)m->size, why);
	session_reply(s, "250 2.0.0 Ok: queued as %s", m->id);
	router_queued(s->ctx->router, m);
	session_reset(s);
}

/*
 * Consume DATA bytes from the client's buffer: check them, spool them, and
 * pass them on while the upstream lives.  Returns 1 while more input may be
 * processed now, 0 when the caller must wait for input or the upstream.
 */
static int
session_data(struct smtp_session *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->bev);
	struct evbuffer_iovec	 v;
	size_t			 used;
	int			 end = 0, forward;
	enum data_error		 before;

	while (!end) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return 0;
		before = s->df.error;
		used = data_filter_scan(&s->df, v.iov_base, v.iov_len, &end);
		s->data_bytes += used;
		if (s->df.error != DATA_OK && before == DATA_OK &&
		    s->mode == MODE_ONLINE) {
			/* Closing before the end of data makes the upstream
			 * drop what it got: nothing bad is passed on. */
			session_drop_upstream(s, 0);
		}
		if (s->df.error == DATA_OK)
			msgcopy_add(&s->copy, v.iov_base, used);
		if (s->metered_limit && s->data_bytes > s->metered_limit &&
		    s->mode == MODE_ONLINE && s->up != NULL) {
			/* Too big for a metered network: the upstream drops
			 * the partial message when we close; it waits. */
			session_drop_upstream(s, 0);
			s->up_dead = 1;
			snprintf(s->queue_reason, sizeof(s->queue_reason),
			    "metered network: messages over %llu octets wait "
			    "for another network (send one anyway with: "
			    "roamsmtpctl retry ID)",
			    (unsigned long long)s->metered_limit);
		}
		forward = s->df.error == DATA_OK && s->mode == MODE_ONLINE &&
		    s->up != NULL && !s->up_dead;
		if (forward)
			evbuffer_remove_buffer(in, smtp_client_output(s->up),
			    used);
		else
			evbuffer_drain(in, used);
		if (forward && !end && evbuffer_get_length(
		    smtp_client_output(s->up)) > RELAY_HIGH_WATER) {
			s->throttled = 1;
			bufferevent_disable(s->bev, EV_READ);
			return 0;
		}
	}
	enter_state(s, SS_GREETED);
	session_data_end(s);
	return 1;
}

static void
up_drained(struct smtp_client *c, void *arg)
{
	struct smtp_session	*s = arg;

	if (!s->throttled)
		return;
	s->throttled = 0;
	bufferevent_enable(s->bev, EV_READ);
	session_process(s);
}

/* The upstream died: whatever the transaction was doing goes on queued. */
static void
up_failed(struct smtp_client *c, enum smtp_client_fail class,
    const char *reason, void *arg)
{
	struct smtp_session	*s = arg;
	enum ss_wait		 w = s->wait;
	unsigned		 uses = smtp_client_uses(c);
	char			 err[512];

	log_warnx("%s relay upstream=%s lost: %s", s->id, smtp_client_peer(c),
	    reason);
	router_note_failure(s->ctx->router, s->profile, class, reason);
	s->up = NULL;
	smtp_client_free(c);
	s->wait = WAIT_NONE;
	snprintf(s->queue_reason, sizeof(s->queue_reason), "%s", reason);

	switch (w) {
	case WAIT_MAIL:
		if (!s->up_retried && uses > 1) {
			/* A pooled session the server had closed: one fresh
			 * try before giving up on the upstream. */
			s->up_retried = 1;
			s->wait = WAIT_CONNECT;
			s->upreq = router_connect(s->ctx->router, s->profile,
			    s->from, session_connected, s, err, sizeof(err));
			if (s->upreq != NULL)
				return;
			s->wait = WAIT_NONE;
			reason = err;
		}
		session_queue_mode(s, reason);
		break;
	case WAIT_RCPT:
		s->mode = MODE_QUEUE;
		if (session_add_rcpt(s, s->pending_rcpt) == -1)
			session_reply(s, "452 4.3.0 Out of memory");
		else {
			enter_state(s, SS_RCPT);
			session_reply(s, "250 2.1.5 Ok");
		}
		break;
	case WAIT_DATA:
		/* The client has its 354 already: its data goes to the queue */
		s->mode = MODE_QUEUE;
		s->up_dead = 1;
		break;
	case WAIT_DOT:
		session_commit(s, reason);
		break;
	case WAIT_RSET:
		session_reset(s);
		session_reply(s, "250 2.0.0 Ok");
		break;
	case WAIT_NONE:
	case WAIT_CONNECT:
		if (s->state == SS_DATA)
			s->up_dead = 1;
		else if (s->mode == MODE_ONLINE)
			s->mode = MODE_QUEUE;
		break;
	}
	if (s->throttled) {
		s->throttled = 0;
		bufferevent_enable(s->bev, EV_READ);
	}
	session_process(s);
}

/* ---- input ------------------------------------------------------------- */

static void
session_process(struct smtp_session *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->bev);
	struct evbuffer_ptr	 eol;
	size_t			 len, eol_len;
	char			*line;

	while (s->wait == WAIT_NONE && !s->throttled &&
	    s->state != SS_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) >
		    SESSION_OUTPUT_MAX) {
			s->out_blocked = 1;
			bufferevent_disable(s->bev, EV_READ);
			break;
		}
		if (s->state == SS_DATA) {
			if (!session_data(s))
				break;
			continue;
		}
		if (s->discarding) {
			eol = evbuffer_search_eol(in, NULL, &eol_len,
			    EVBUFFER_EOL_CRLF);
			if (eol.pos == -1) {
				evbuffer_drain(in, evbuffer_get_length(in));
				break;
			}
			evbuffer_drain(in, (size_t)eol.pos + eol_len);
			s->discarding = 0;
			session_reply(s, "500 5.5.2 Line too long (at most "
			    "%d octets)", SMTP_CMD_LINE_MAX);
			session_error(s);
			continue;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL) {
			if (evbuffer_get_length(in) > SMTP_CMD_LINE_MAX)
				s->discarding = 1;
			else
				break;
			continue;
		}
		if (len > SMTP_CMD_LINE_MAX) {
			session_reply(s, "500 5.5.2 Line too long (at most "
			    "%d octets)", SMTP_CMD_LINE_MAX);
			session_error(s);
		} else if (strlen(line) != len) {
			session_reply(s, "500 5.5.2 NUL character in command");
			session_error(s);
		} else if (s->state == SS_AUTH_PLAIN ||
		    s->state == SS_AUTH_LOGIN_USER ||
		    s->state == SS_AUTH_LOGIN_PASS)
			auth_continue(s, line);
		else
			session_command(s, line);
		explicit_bzero(line, len);
		free(line);
	}
}

static void
session_read(struct bufferevent *bev, void *arg)
{
	struct smtp_session	*s = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);

	if (s->lingering) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	session_process(s);
}

static void
session_write(struct bufferevent *bev, void *arg)
{
	struct smtp_session	*s = arg;

	if (s->state == SS_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		struct timeval	tv = { SESSION_LINGER, 0 };

		if (s->lingering)
			return;
		/* The last reply is out: FIN, then drain until the client
		 * closes too (or SESSION_LINGER passes). */
		s->lingering = 1;
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		if (shutdown(bufferevent_getfd(bev), SHUT_WR) == -1) {
			session_free(s);
			return;
		}
		bufferevent_set_timeouts(bev, &tv, NULL);
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if (s->out_blocked) {
		s->out_blocked = 0;
		bufferevent_enable(bev, EV_READ);
		session_process(s);
	}
}

static void
session_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session	*s = arg;

	if (s->lingering) {
		/* The client closed too, or gave up, or lingered too long. */
		session_free(s);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (s->wait != WAIT_NONE && (what & BEV_EVENT_READING)) {
			/* Waiting on the upstream, whose own timeout rules. */
			bufferevent_enable(bev, EV_READ);
			return;
		}
		log_info("%s smtp timeout state=%s", s->id,
		    ss_state_names[s->state]);
		if (what & BEV_EVENT_READING) {
			session_reply(s, "421 4.4.2 %s Timeout; closing",
			    s->ctx->conf->hostname);
			session_close(s);
			return;
		}
	}
	if (what & BEV_EVENT_EOF)
		log_info("%s smtp disconnected state=%s", s->id,
		    ss_state_names[s->state]);
	else if (what & BEV_EVENT_ERROR)
		log_info("%s smtp connection error state=%s: %s", s->id,
		    ss_state_names[s->state], strerror(errno));
	session_free(s);
}

/*
 * Close once the last reply is out.  Always called right after a reply, so
 * the write callback comes: the session is never freed under a caller.
 */
static void
session_close(struct smtp_session *s)
{
	enter_state(s, SS_CLOSING);
	bufferevent_disable(s->bev, EV_READ);
}

static void
session_free(struct smtp_session *s)
{
	if (s->state == SS_DATA || s->nrcpt > 0)
		log_info("%s smtp session ended mid-transaction: nothing "
		    "accepted", s->id);
	session_drop_upstream(s, 0);
	session_reset(s);
	free(s->auth_user);
	msgcopy_free(&s->copy);
	bufferevent_free(s->bev);
	s->ctx->nsessions--;
	log_debug("%s smtp closed", s->id);
	free(s);
}
