/*
 * router_queue.c - the queue runner.  Envelopes of queued messages stay in
 * memory (never their bodies); each is attempted when its time comes, at
 * most QUEUE_PARALLEL at once, through the profile active at that moment.
 * Offline or behind a captive portal nothing is attempted; on a metered
 * network messages over the limit wait unless the user retried them.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "control_cmds.h"
#include "deliver.h"
#include "dsn.h"
#include "log.h"
#include "router_priv.h"
#include "util.h"

static void	queue_timer(evutil_socket_t, short, void *);
static void	queue_housekeep(evutil_socket_t, short, void *);

/* How often expiry and delay warnings are checked. */
#define QUEUE_HOUSEKEEP_INTERVAL	60

/* Queue a report about m to its sender (none for a message from <>). */
static void
queue_dsn(struct router *r, const struct qmsg *m, enum dsn_kind kind,
    const char *reason)
{
	struct qmsg	*d;

	if ((d = dsn_queue(r->queue, m, kind, reason,
	    r->conf->hostname)) != NULL) {
		d->next_attempt = 0;
		router_queued(r, d);
	} else if (errno != 0)
		log_warn("%s queue: cannot write a delivery report", m->id);
}

unsigned
backoff_delay(unsigned attempts, uint32_t rnd)
{
	unsigned	base = 60, cap = 3600;
	unsigned	d;

	if (attempts == 0)
		attempts = 1;
	d = attempts > 7 ? cap : base << (attempts - 1);
	if (d > cap)
		d = cap;
	/* +-20%: spread retries so a reconnect doesn't send all at once. */
	return d - d / 5 + (unsigned)(rnd % (2 * (d / 5) + 1));
}

/* Is this message held back by a metered network? */
static int
metered_hold(struct router *r, const struct qentry *e)
{
	uint64_t	limit = router_metered_limit(r);

	return limit != 0 && e->m->size > limit && !e->force;
}

static int
attemptable(struct router *r, const struct qentry *e)
{
	return !e->busy && e->m->state == QSTATE_QUEUED && !metered_hold(r, e);
}

void
queue_schedule(struct router *r)
{
	struct timeval	 tv = { 0, 0 };
	time_t		 now = time(NULL), first = 0;
	size_t		 i;
	int		 any = 0;

	evtimer_del(r->qtimer);
	if (r->active == NULL || r->inflight >= QUEUE_PARALLEL)
		return;	/* a network change or a delivery's end runs it */
	for (i = 0; i < r->nq; i++) {
		struct qentry	*e = r->q[i];

		if (!attemptable(r, e))
			continue;
		if (!any || e->m->next_attempt < first)
			first = e->m->next_attempt;
		any = 1;
	}
	if (!any)
		return;
	tv.tv_sec = first > now ? first - now : 0;
	evtimer_add(r->qtimer, &tv);
}

static void
queue_timer(evutil_socket_t fd, short ev, void *arg)
{
	queue_run(arg);
}

static size_t
queue_index(struct router *r, const char *id)
{
	size_t	i;

	for (i = 0; i < r->nq; i++)
		if (strcmp(r->q[i]->m->id, id) == 0)
			return i;
	return (size_t)-1;
}

static void
queue_forget(struct router *r, struct qentry *e)
{
	size_t	i = queue_index(r, e->m->id);

	if (i == (size_t)-1)
		fatalx("queue_forget: %s not in the queue", e->m->id);
	memmove(&r->q[i], &r->q[i + 1], (r->nq - i - 1) * sizeof(*r->q));
	r->nq--;
	qmsg_free(e->m);
	free(e);
}

void
router_queued(struct router *r, struct qmsg *m)
{
	struct qentry	**v, *e;

	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (v = reallocarray(r->q, r->nq + 1, sizeof(*v))) == NULL)
		fatal("router_queued");
	r->q = v;
	e->router = r;
	e->m = m;
	r->q[r->nq++] = e;
	if (m->attempts == 0 && m->state == QSTATE_QUEUED)
		router_event(r, "queued", json_pack("{s:s, s:s?}", "id", m->id,
		    "reason", m->last_error));
	queue_schedule(r);
}

/* An attempt ended: settle the message's fate. */
static void
attempt_done(struct qentry *e, enum delivery_result res, const char *reason)
{
	struct router	*r = e->router;
	struct qmsg	*m = e->m;
	uint32_t	 rnd = 0;
	double		 delay = now_monotonic() - e->t_start;

	e->busy = 0;
	e->req = NULL;
	e->d = NULL;
	r->inflight--;
	m->attempts++;
	free(m->last_error);
	m->last_error = strdup(reason ? reason : "");
	switch (res) {
	case DELIVERY_OK:
		log_info("%s queue delivered profile=%s from=<%s> attempts=%u "
		    "delay=%.3fs reply=\"%s\"", m->id, e->profile->name,
		    m->from, m->attempts, delay, reason);
		router_event(r, "sent", json_pack("{s:s, s:s, s:s}", "id",
		    m->id, "profile", e->profile->name, "upstream",
		    e->profile->host));
		if (queue_remove(r->queue, m->id) == -1)
			log_warn("%s queue: cannot remove after delivery",
			    m->id);
		router_release(r, e->pset);
		queue_forget(r, e);
		queue_schedule(r);
		return;
	case DELIVERY_TEMPFAIL:
		getrandom(&rnd, sizeof(rnd), 0);
		m->next_attempt = time(NULL) + backoff_delay(m->attempts, rnd);
		log_info("%s queue deferred attempts=%u retry_in=%llds "
		    "error=\"%s\"", m->id, m->attempts,
		    (long long)(m->next_attempt - time(NULL)), m->last_error);
		break;
	case DELIVERY_PERMFAIL:
		m->state = QSTATE_FAILED;
		log_warnx("%s queue failed attempts=%u error=\"%s\"; see "
		    "roamsmtpctl queue, then retry or delete it", m->id,
		    m->attempts, m->last_error);
		router_event(r, "failed", json_pack("{s:s, s:s}", "id", m->id,
		    "error", m->last_error));
		queue_dsn(r, m, DSN_FAILED, m->last_error);
		break;
	}
	if (queue_update(r->queue, m) == -1)
		log_warn("%s queue: cannot update envelope", m->id);
	router_release(r, e->pset);
	e->pset = NULL;
	queue_schedule(r);
}

static void
attempt_delivered(struct delivery *d, enum delivery_result res,
    const char *reason, struct smtp_client *c, void *arg)
{
	struct qentry	*e = arg;

	if (c != NULL) {
		router_note_ok(e->router, e->profile,
		    smtp_client_tls_version(c));
		router_put_upstream(e->router, e->profile, c);
	}
	attempt_done(e, res, reason);
}

static void
attempt_deliver(struct qentry *e, struct smtp_client *c)
{
	char	err[600];

	e->d = delivery_start(c, e->router->queue, e->m,
	    e->profile->envelope_from, attempt_delivered, e, err,
	    sizeof(err));
	if (e->d != NULL)
		delivery_set_relogin(e->d, router_delivery_relogin, e);
	if (e->d == NULL) {
		int	perm = errno == EOPNOTSUPP;

		router_put_upstream(e->router, e->profile, c);
		attempt_done(e, perm ? DELIVERY_PERMFAIL : DELIVERY_TEMPFAIL,
		    err);
	}
}

static void
attempt_connected(struct smtp_client *c, const struct profile *used,
    enum smtp_client_fail class, const char *reason, void *arg)
{
	struct qentry	*e = arg;

	e->req = NULL;
	e->profile = used;
	if (c == NULL) {
		attempt_done(e, DELIVERY_TEMPFAIL, reason);
		return;
	}
	attempt_deliver(e, c);
}

static void
attempt_start(struct router *r, struct qentry *e, const struct profile *p)
{
	struct smtp_client	*c;
	const struct profile	*used;
	char			 err[600];

	e->busy = 1;
	e->t_start = now_monotonic();
	e->pset = router_hold(r);
	e->profile = p;
	r->inflight++;
	log_debug("%s queue attempt=%u profile=%s", e->m->id,
	    e->m->attempts + 1, p->name);
	if ((c = router_take_idle(r, p, &used)) != NULL) {
		e->profile = used;
		attempt_deliver(e, c);
		return;
	}
	e->req = router_connect(r, p, e->m->from, attempt_connected, e, err,
	    sizeof(err));
	if (e->req == NULL)
		attempt_done(e, DELIVERY_TEMPFAIL, err);
}

void
queue_run(struct router *r)
{
	const struct profile	*p;
	const char		*reason;
	time_t			 now = time(NULL);
	size_t			 i;

	if ((p = router_choose(r, &reason)) == NULL) {
		queue_schedule(r);
		return;
	}
	/* attempt_start may finish at once and reshape r->q: restart the
	 * scan after each one. */
	for (i = 0; i < r->nq && r->inflight < QUEUE_PARALLEL; i++) {
		struct qentry	*e = r->q[i];

		if (!attemptable(r, e) || e->m->next_attempt > now)
			continue;
		attempt_start(r, e, p);
		i = (size_t)-1;
	}
	queue_schedule(r);
}

/*
 * Expiry and delay warnings run whether or not a network is there: four
 * days offline is exactly when the sender must hear of it.
 */
static void
queue_housekeep(evutil_socket_t fd, short ev, void *arg)
{
	struct router	*r = arg;
	time_t		 now = time(NULL);
	size_t		 i, n = r->nq;
	char		 why[700];

	for (i = 0; i < n && i < r->nq; i++) {
		struct qentry	*e = r->q[i];
		struct qmsg	*m = e->m;

		if (e->busy || m->state != QSTATE_QUEUED)
			continue;
		if (now - m->created >= (time_t)r->conf->queue_lifetime) {
			snprintf(why, sizeof(why), "could not be sent for %u "
			    "hours; the last error: %s",
			    r->conf->queue_lifetime / 3600, m->last_error ?
			    m->last_error : "none");
			m->state = QSTATE_FAILED;
			free(m->last_error);
			m->last_error = strdup(why);
			log_warnx("%s queue expired: %s", m->id, why);
			if (queue_update(r->queue, m) == -1)
				log_warn("%s queue: cannot update envelope",
				    m->id);
			router_event(r, "failed", json_pack("{s:s, s:s}",
			    "id", m->id, "error", why));
			queue_dsn(r, m, DSN_EXPIRED, why);
		} else if (r->conf->delay_warning && !m->delay_warned &&
		    now - m->created >= (time_t)r->conf->delay_warning) {
			m->delay_warned = 1;
			if (queue_update(r->queue, m) == -1)
				log_warn("%s queue: cannot update envelope",
				    m->id);
			queue_dsn(r, m, DSN_DELAYED, m->last_error ?
			    m->last_error : "no network to send it through");
		}
	}
}

void
queue_load(struct router *r)
{
	struct qmsg	**msgs = NULL;
	size_t		  i, n = 0;
	struct timeval	  tv = { QUEUE_HOUSEKEEP_INTERVAL, 0 };

	if ((r->qtimer = evtimer_new(r->base, queue_timer, r)) == NULL ||
	    (r->housekeep = event_new(r->base, -1, EV_PERSIST,
	    queue_housekeep, r)) == NULL)
		fatal("evtimer_new");
	event_add(r->housekeep, &tv);
	if (queue_scan(r->queue, &msgs, &n) == -1)
		log_warnx("queue: cannot read %s", queue_dir(r->queue));
	for (i = 0; i < n; i++) {
		/* After a restart everything queued is tried at once. */
		if (msgs[i]->state == QSTATE_QUEUED)
			msgs[i]->next_attempt = 0;
		router_queued(r, msgs[i]);
	}
	free(msgs);
	if (n > 0)
		log_info("queue loaded messages=%zu dir=%s", n,
		    queue_dir(r->queue));
	queue_housekeep(-1, 0, r);
}

void
queue_free_all(struct router *r)
{
	size_t	i;

	for (i = 0; i < r->nq; i++) {
		if (r->q[i]->d)
			delivery_abort(r->q[i]->d);
		if (r->q[i]->req)
			router_cancel(r->q[i]->req);
		router_release(r, r->q[i]->pset);
		qmsg_free(r->q[i]->m);
		free(r->q[i]);
	}
	free(r->q);
	r->q = NULL;
	r->nq = 0;
	event_free(r->qtimer);
	event_free(r->housekeep);
}

/* Everything queued is due now (a better network appeared, or flush). */
void
queue_flush_all(struct router *r)
{
	size_t	i;

	for (i = 0; i < r->nq; i++)
		if (r->q[i]->m->state == QSTATE_QUEUED)
			r->q[i]->m->next_attempt = 0;
}

/* ---- control commands ------------------------------------------------- */

static json_t *
qmsg_json(struct router *r, const struct qentry *e)
{
	const struct qmsg	*m = e->m;
	json_t			*rcpt = json_array();
	size_t			 i;

	for (i = 0; i < m->nrcpt; i++)
		json_array_append_new(rcpt, json_string(m->rcpt[i]));
	return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:i, s:I, s:s?, "
	    "s:s?, s:b, s:b}", "id", m->id,
	    "state", e->busy ? "sending" : qstate_name(m->state),
	    "from", m->from, "rcpt", rcpt, "size", (json_int_t)m->size,
	    "created", (json_int_t)m->created, "attempts", (int)m->attempts,
	    "next_attempt", (json_int_t)m->next_attempt,
	    "last_error", m->last_error, "subject", m->subject,
	    "busy", e->busy, "metered_hold", metered_hold(r, e));
}

json_t *
router_queue_json(struct router *r)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < r->nq; i++)
		json_array_append_new(a, qmsg_json(r, r->q[i]));
	return json_pack("{s:b, s:o}", "ok", 1, "messages", a);
}

json_t *
router_flush(struct router *r)
{
	size_t	i, n = 0;

	for (i = 0; i < r->cur->set.n; i++)
		r->cur->routes[i].down_until = 0;
	queue_housekeep(-1, 0, r);
	for (i = 0; i < r->nq; i++)
		if (r->q[i]->m->state == QSTATE_QUEUED)
			n++;
	queue_flush_all(r);
	log_info("queue flush messages=%zu", n);
	queue_run(r);
	return json_pack("{s:b, s:i, s:s?}", "ok", 1, "flushed", (int)n,
	    "waiting", r->active ? NULL : r->reason);
}

json_t *
router_retry(struct router *r, const char *id)
{
	size_t		 i = queue_index(r, id);
	struct qentry	*e;

	if (i == (size_t)-1)
		return control_error("no message %s in the queue; list them "
		    "with: roamsmtpctl queue", id);
	e = r->q[i];
	if (e->busy)
		return control_error("message %s is being sent right now",
		    id);
	e->m->state = QSTATE_QUEUED;
	e->m->next_attempt = 0;
	e->force = 1;		/* the user said so: even when metered */
	if (queue_update(r->queue, e->m) == -1)
		log_warn("%s queue: cannot update envelope", id);
	log_info("%s queue retry requested", id);
	queue_run(r);
	return json_pack("{s:b, s:s, s:s?}", "ok", 1, "id", id, "waiting",
	    r->active ? NULL : r->reason);
}

json_t *
router_delete(struct router *r, const char *id)
{
	size_t		 i = queue_index(r, id);
	struct qentry	*e;

	if (i == (size_t)-1)
		return control_error("no message %s in the queue; list them "
		    "with: roamsmtpctl queue", id);
	e = r->q[i];
	if (e->busy)
		return control_error("message %s is being sent right now; "
		    "try again in a moment", id);
	if (queue_remove(r->queue, id) == -1)
		return control_error("cannot delete %s: %s", id,
		    strerror(errno));
	log_info("%s queue deleted by the user", id);
	queue_forget(r, e);
	queue_schedule(r);
	return json_pack("{s:b, s:s}", "ok", 1, "id", id);
}
