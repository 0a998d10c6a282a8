/*
 * deliver.c - see deliver.h.
 *
 * States: MAIL -> RCPT (one reply per recipient) -> DATA -> BODY -> DOT,
 * and for a relay refusal on a POP-before-SMTP profile, once:
 * RCPT -> RELOGIN (the owner holds the session) -> RSET -> MAIL ...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "deliver.h"
#include "smtp_limits.h"
#include "log.h"
#include "relay.h"

enum dl_state {
	DL_MAIL,
	DL_RCPT,
	DL_DATA,
	DL_BODY,
	DL_DOT,
	DL_RSET,
	DL_RELOGIN,
	DL_RELOGIN_RSET,
	DL_DONE,
};

struct delivery {
	struct smtp_client	*c;
	struct queue		*queue;
	struct qmsg		*m;
	delivery_cb		 cb;
	void			*arg;
	enum dl_state		 state;
	int			 fd;
	uint64_t		 sent;
	int			 last_crlf;	/* body so far ends in CRLF */
	size_t			 replies;	/* RCPT replies seen */
	int			*accepted;	/* per recipient */
	size_t			 naccepted;
	int			 any_temp;	/* a 4xx among the refusals */
	int			 any_perm;	/* a 5xx among the RCPT replies */
	char			 from[SMTP_PATH_MAX + 1];	/* as sent */
	char			 params[128];	/* MAIL FROM parameters */
	delivery_relogin_cb	 relogin;
	void			*relogin_arg;
	int			 relogged;	/* the one relogin was had */
	char			 reason[600];
};

static void	dl_failed(struct smtp_client *, enum smtp_client_fail,
		    const char *, void *);
static void	dl_drained(struct smtp_client *, void *);
static void	dl_mail_reply(struct smtp_client *, const struct smtp_reply *,
		    void *);
static void	dl_rcpt_reply(struct smtp_client *, const struct smtp_reply *,
		    void *);
static void	dl_send_rcpt(struct delivery *, size_t);
static void	dl_begin(struct delivery *);

static const struct smtp_client_cb dl_client_cb = {
	.ready = NULL,
	.failed = dl_failed,
	.drained = dl_drained,
};

static void
dl_reason(struct delivery *d, const char *what, const struct smtp_reply *r)
{
	const char	*nl = strchr(r->text, '\n');
	int		 n = nl ? (int)(nl - r->text) : (int)r->textlen;

	snprintf(d->reason, sizeof(d->reason), "%s %s: %03d %.*s",
	    smtp_client_peer(d->c), what, r->code, n, r->text);
}

static void
dl_free(struct delivery *d)
{
	if (d->fd != -1)
		close(d->fd);
	free(d->accepted);
	free(d);
}

/* Finish: hand back the session (or NULL) and the outcome. */
static void
dl_finish(struct delivery *d, enum delivery_result res, int reusable)
{
	struct smtp_client	*c = d->c;
	size_t			 i, j;

	d->state = DL_DONE;
	if (!reusable) {
		smtp_client_free(c);
		c = NULL;
	}
	if (res != DELIVERY_OK && d->naccepted > 0) {
		/* Taken for some: only the refused recipients remain. */
		for (i = j = 0; i < d->m->nrcpt; i++) {
			if (d->accepted[i] == 1)
				free(d->m->rcpt[i]);
			else
				d->m->rcpt[j++] = d->m->rcpt[i];
		}
		d->m->nrcpt = j;
	}
	d->cb(d, res, d->reason, c, d->arg);
	dl_free(d);
}

struct delivery *
delivery_start(struct smtp_client *c, struct queue *q, struct qmsg *m,
    const char *envelope_from, delivery_cb cb, void *arg, char *err,
    size_t errlen)
{
	struct delivery	*d;
	char		 params[128], perr[512];
	struct smtp_mail_params mp = {
		.size = m->size,
		.body_8bitmime = m->body_8bitmime,
		.smtputf8 = m->smtputf8,
	};

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->accepted = calloc(m->nrcpt, sizeof(int))) == NULL) {
		free(d);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->c = c;
	d->queue = q;
	d->m = m;
	d->cb = cb;
	d->arg = arg;
	d->last_crlf = 1;
	if ((d->fd = queue_open_body(q, m->id)) == -1) {
		snprintf(err, errlen, "cannot open the body of %s: %s", m->id,
		    strerror(errno));
		dl_free(d);
		return NULL;
	}
	if (relay_mail_params(smtp_client_caps(c), &mp, m->size,
	    smtp_client_peer(c), params, sizeof(params), perr,
	    sizeof(perr)) == -1) {
		/* The message needs what this upstream lacks: no use in
		 * trying again through it. */
		snprintf(err, errlen, "%s", perr + 10);
		dl_free(d);
		errno = EOPNOTSUPP;
		return NULL;
	}
	snprintf(d->from, sizeof(d->from), "%s", m->from[0] != '\0' &&
	    envelope_from ? envelope_from : m->from);
	snprintf(d->params, sizeof(d->params), "%s", params);
	smtp_client_set_cb(c, &dl_client_cb, d);
	smtp_client_count_use(c);
	dl_begin(d);
	return d;
}

/* MAIL, and every RCPT at once when the server pipelines. */
static void
dl_begin(struct delivery *d)
{
	size_t	i;

	d->state = DL_MAIL;
	smtp_client_cmd(d->c, TIMEOUT_CLIENT_MAIL, dl_mail_reply, d,
	    "MAIL FROM:<%s>%s", d->from, d->params);
	if (smtp_client_caps(d->c)->pipelining)
		for (i = 0; i < d->m->nrcpt; i++)
			dl_send_rcpt(d, i);
}

void
delivery_set_relogin(struct delivery *d, delivery_relogin_cb cb, void *arg)
{
	d->relogin = cb;
	d->relogin_arg = arg;
}

/* The transaction is void after the relogin's RSET: start it again. */
static void
dl_relogin_rset_reply(struct smtp_client *c, const struct smtp_reply *r,
    void *arg)
{
	struct delivery	*d = arg;

	if (SMTP_REPLY_CLASS(r) != 2) {
		dl_reason(d, "refused RSET", r);
		d->naccepted = 0;
		dl_finish(d, DELIVERY_TEMPFAIL, 0);
		return;
	}
	d->replies = 0;
	memset(d->accepted, 0, d->m->nrcpt * sizeof(*d->accepted));
	d->naccepted = 0;
	d->any_temp = 0;
	d->any_perm = 0;
	d->reason[0] = '\0';
	log_info("%s queue retry after POP3 login upstream=%s", d->m->id,
	    smtp_client_peer(c));
	dl_begin(d);
}

void
delivery_resume(struct delivery *d, struct smtp_client *c,
    const char *reason)
{
	if (d->state != DL_RELOGIN)
		fatalx("delivery_resume in state %d", d->state);
	if (c == NULL) {
		snprintf(d->reason, sizeof(d->reason), "%s", reason ?
		    reason : "upstream lost during the POP3 login");
		d->naccepted = 0;
		dl_finish(d, DELIVERY_TEMPFAIL, 0);
		return;
	}
	if (reason != NULL)
		log_info("%s queue POP3 login failed: %s; trying once more "
		    "anyway", d->m->id, reason);
	d->c = c;
	smtp_client_set_cb(c, &dl_client_cb, d);
	d->state = DL_RELOGIN_RSET;
	smtp_client_cmd(c, TIMEOUT_CLIENT_MAIL, dl_relogin_rset_reply, d,
	    "RSET");
}

static void
dl_send_rcpt(struct delivery *d, size_t i)
{
	smtp_client_cmd(d->c, TIMEOUT_CLIENT_RCPT, dl_rcpt_reply, d,
	    "RCPT TO:<%s>", d->m->rcpt[i]);
}

static void
dl_rset_reply(struct smtp_client *c, const struct smtp_reply *r, void *arg)
{
	struct delivery	*d = arg;

	dl_finish(d, d->any_temp ? DELIVERY_TEMPFAIL : DELIVERY_PERMFAIL,
	    SMTP_REPLY_CLASS(r) == 2);
}

static void
dl_mail_reply(struct smtp_client *c, const struct smtp_reply *r, void *arg)
{
	struct delivery	*d = arg;

	if (SMTP_REPLY_CLASS(r) == 2) {
		d->state = DL_RCPT;
		if (!smtp_client_caps(c)->pipelining)
			dl_send_rcpt(d, 0);
		return;
	}
	dl_reason(d, "refused the sender", r);
	d->any_temp = SMTP_REPLY_CLASS(r) == 4;
	d->accepted[0] = -1;	/* nobody was taken */
	if (smtp_client_caps(c)->pipelining) {
		/* The pipelined RCPTs still get their (failing) replies. */
		d->state = DL_RCPT;
		d->replies = 0;
		d->naccepted = 0;
		return;
	}
	d->state = DL_RSET;
	smtp_client_cmd(c, TIMEOUT_CLIENT_MAIL, dl_rset_reply, d, "RSET");
}

static void
dl_dot_reply(struct smtp_client *c, const struct smtp_reply *r, void *arg)
{
	struct delivery	*d = arg;

	if (SMTP_REPLY_CLASS(r) == 2) {
		if (d->naccepted == d->m->nrcpt) {
			dl_reason(d, "accepted", r);
			dl_finish(d, DELIVERY_OK, 1);
			return;
		}
		/* Taken for some recipients; the refused ones keep the
		 * reason recorded when they were refused. */
		dl_finish(d, d->any_temp ? DELIVERY_TEMPFAIL :
		    DELIVERY_PERMFAIL, 1);
		return;
	}
	dl_reason(d, "refused the message", r);
	d->naccepted = 0;
	dl_finish(d, SMTP_REPLY_CLASS(r) == 4 ? DELIVERY_TEMPFAIL :
	    DELIVERY_PERMFAIL, 1);
}

/* Feed the body while the output has room. */
static void
dl_pump(struct delivery *d)
{
	struct evbuffer	*out = smtp_client_output(d->c);
	char		 buf[DELIVER_CHUNK];
	ssize_t		 n;

	while (d->state == DL_BODY &&
	    evbuffer_get_length(out) < RELAY_HIGH_WATER) {
		n = read(d->fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(d->reason, sizeof(d->reason), "cannot read "
			    "the queued body of %s: %s", d->m->id,
			    strerror(errno));
			d->naccepted = 0;
			/* Mid-DATA: the session can only be dropped. */
			dl_finish(d, DELIVERY_TEMPFAIL, 0);
			return;
		}
		if (n == 0) {
			/* The spool ends each line with CRLF; a body that
			 * doesn't was damaged: close it off safely. */
			if (!d->last_crlf)
				evbuffer_add(out, "\r\n", 2);
			evbuffer_add(out, ".\r\n", 3);
			d->state = DL_DOT;
			smtp_client_expect(d->c, TIMEOUT_CLIENT_DOT,
			    dl_dot_reply, d);
			return;
		}
		d->last_crlf = n >= 2 && buf[n - 2] == '\r' &&
		    buf[n - 1] == '\n';
		evbuffer_add(out, buf, (size_t)n);
		d->sent += (uint64_t)n;
	}
}

static void
dl_data_reply(struct smtp_client *c, const struct smtp_reply *r, void *arg)
{
	struct delivery	*d = arg;

	if (r->code != 354) {
		dl_reason(d, "refused DATA", r);
		d->naccepted = 0;
		dl_finish(d, SMTP_REPLY_CLASS(r) == 4 ? DELIVERY_TEMPFAIL :
		    DELIVERY_PERMFAIL, SMTP_REPLY_CLASS(r) != 3);
		return;
	}
	d->state = DL_BODY;
	dl_pump(d);
}

static void
dl_rcpt_reply(struct smtp_client *c, const struct smtp_reply *r, void *arg)
{
	struct delivery	*d = arg;
	size_t		 i = d->replies++;
	char		 what[SMTP_PATH_MAX + 32];

	if (d->accepted[0] == -1) {
		/* MAIL failed under pipelining: just drain the replies. */
		if (d->replies == d->m->nrcpt) {
			d->state = DL_RSET;
			smtp_client_cmd(c, TIMEOUT_CLIENT_MAIL, dl_rset_reply,
			    d, "RSET");
		}
		return;
	}
	if (SMTP_REPLY_CLASS(r) == 2) {
		d->accepted[i] = 1;
		d->naccepted++;
	} else {
		snprintf(what, sizeof(what), "refused <%s>", d->m->rcpt[i]);
		dl_reason(d, what, r);
		if (SMTP_REPLY_CLASS(r) == 4)
			d->any_temp = 1;
		else
			d->any_perm = 1;
		log_info("%s queue rcpt to=<%s> refused reply=%d", d->m->id,
		    d->m->rcpt[i], r->code);
	}
	if (d->replies < d->m->nrcpt) {
		if (!smtp_client_caps(c)->pipelining)
			dl_send_rcpt(d, d->replies);
		return;
	}
	if (d->any_perm && d->relogin != NULL && !d->relogged) {
		/* Perhaps the provider's window after a POP3 login ran out:
		 * the owner logs in again, then the message is tried once
		 * more from the start. */
		d->relogged = 1;
		d->state = DL_RELOGIN;
		d->c = NULL;
		if (d->relogin(d, c, d->relogin_arg) == 0)
			return;
		d->c = c;
		d->state = DL_RCPT;
		smtp_client_set_cb(c, &dl_client_cb, d);
	}
	if (d->naccepted == 0) {
		d->state = DL_RSET;
		smtp_client_cmd(c, TIMEOUT_CLIENT_MAIL, dl_rset_reply, d,
		    "RSET");
		return;
	}
	d->state = DL_DATA;
	smtp_client_cmd(c, TIMEOUT_CLIENT_DATA, dl_data_reply, d, "DATA");
}

static void
dl_drained(struct smtp_client *c, void *arg)
{
	struct delivery	*d = arg;

	if (d->state == DL_BODY)
		dl_pump(d);
}

static void
dl_failed(struct smtp_client *c, enum smtp_client_fail class,
    const char *reason, void *arg)
{
	struct delivery	*d = arg;

	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	/* Nothing was taken unless the final reply said so. */
	d->naccepted = 0;
	dl_finish(d, DELIVERY_TEMPFAIL, 0);
}

void
delivery_abort(struct delivery *d)
{
	smtp_client_free(d->c);
	dl_free(d);
}

const char *
delivery_result_name(enum delivery_result r)
{
	switch (r) {
	case DELIVERY_OK:	return "delivered";
	case DELIVERY_TEMPFAIL:	return "deferred";
	case DELIVERY_PERMFAIL:	return "failed";
	}
	return "?";
}
