/*
 * router.c - see router.h.
 *
 * Per profile the router keeps a route: its TLS context, the password once
 * fetched (wiped when the upstream refuses it), its health.  Idle upstream
 * sessions wait in a pool for the next message.  The queue runner keeps the
 * queued envelopes in memory (never the bodies) and attempts each when its
 * time comes, at most QUEUE_PARALLEL at once.
 */
#include <sys/queue.h>
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "control_cmds.h"
#include "deliver.h"
#include "log.h"
#include "router.h"
#include "secret.h"
#include "tls.h"
#include "util.h"

/* Idle sessions kept per profile: one per concurrent client is plenty. */
#define POOL_MAX_PER_PROFILE	16

enum upstream_health {
	HEALTH_UNKNOWN,
	HEALTH_OK,
	HEALTH_DOWN,
};

static const char *health_names[] = { "unknown", "ok", "down" };

struct route {
	const struct profile	*profile;
	SSL_CTX			*ssl_ctx;
	char			*password;
	enum upstream_health	 health;
	time_t			 down_until;
	char			 last_error[512];
	char			 tls_version[16];
};

struct pooled {
	TAILQ_ENTRY(pooled)	 entry;
	struct router		*router;
	const struct profile	*profile;
	struct smtp_client	*c;
	struct event		*expire;
};

struct upstream_req {
	struct router		*router;
	const struct profile	*profile;
	struct smtp_client	*c;
	router_upstream_cb	 cb;
	void			*arg;
};

struct qentry {
	struct router		*router;
	struct qmsg		*m;
	const struct profile	*profile;
	struct upstream_req	*req;
	struct delivery		*d;
	int			 busy;
	double			 t_start;
};

struct router {
	struct event_base		*base;
	struct evdns_base		*dns;
	const struct daemon_conf	*conf;
	struct profile_set		*profiles;
	struct queue			*queue;
	struct route			*routes;	/* one per profile */
	TAILQ_HEAD(, pooled)		 pool;

	struct qentry			**q;
	size_t				 nq;
	unsigned			 inflight;
	struct event			*qtimer;
};

static void	queue_run(struct router *);
static void	queue_timer(evutil_socket_t, short, void *);
static void	pool_failed(struct smtp_client *, enum smtp_client_fail,
		    const char *, void *);

static const struct smtp_client_cb pool_cb = {
	.ready = NULL,
	.failed = pool_failed,
	.drained = NULL,
};

struct router *
router_new(struct event_base *base, struct evdns_base *dns,
    const struct daemon_conf *conf, struct profile_set *profiles,
    struct queue *queue)
{
	struct router	*r;
	struct qmsg	**msgs = NULL;
	size_t		 i, n = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("calloc");
	r->base = base;
	r->dns = dns;
	r->conf = conf;
	r->profiles = profiles;
	r->queue = queue;
	TAILQ_INIT(&r->pool);
	if ((r->routes = calloc(profiles->n + 1, sizeof(*r->routes))) == NULL)
		fatal("calloc");
	for (i = 0; i < profiles->n; i++)
		r->routes[i].profile = profiles->v[i];
	if ((r->qtimer = evtimer_new(base, queue_timer, r)) == NULL)
		fatal("evtimer_new");

	if (queue_scan(queue, &msgs, &n) == -1)
		log_warnx("queue: cannot read %s", queue_dir(queue));
	for (i = 0; i < n; i++) {
		/* After a restart everything queued is tried at once. */
		if (msgs[i]->state == QSTATE_QUEUED)
			msgs[i]->next_attempt = 0;
		router_queued(r, msgs[i]);
	}
	free(msgs);
	if (n > 0)
		log_info("queue loaded messages=%zu dir=%s", n,
		    queue_dir(queue));
	return r;
}

void
router_free(struct router *r)
{
	struct pooled	*p;
	size_t		 i;

	while ((p = TAILQ_FIRST(&r->pool)) != NULL) {
		TAILQ_REMOVE(&r->pool, p, entry);
		event_free(p->expire);
		smtp_client_free(p->c);
		free(p);
	}
	for (i = 0; i < r->nq; i++) {
		if (r->q[i]->d)
			delivery_abort(r->q[i]->d);
		if (r->q[i]->req)
			router_cancel(r->q[i]->req);
		qmsg_free(r->q[i]->m);
		free(r->q[i]);
	}
	free(r->q);
	for (i = 0; i < r->profiles->n; i++) {
		if (r->routes[i].ssl_ctx)
			SSL_CTX_free(r->routes[i].ssl_ctx);
		secret_free(r->routes[i].password);
	}
	free(r->routes);
	event_free(r->qtimer);
	free(r);
}

static struct route *
route_of(struct router *r, const struct profile *p)
{
	size_t	i;

	for (i = 0; i < r->profiles->n; i++)
		if (r->routes[i].profile == p)
			return &r->routes[i];
	fatalx("route_of: unknown profile %s", p->name);
}

const struct profile *
router_choose(struct router *r, const char **reason)
{
	size_t	i;

	for (i = 0; i < r->profiles->n; i++)
		if (r->profiles->v[i]->is_default) {
			*reason = "default profile";
			return r->profiles->v[i];
		}
	*reason = "no profile is active: add one with [match] default = true";
	return NULL;
}

/* ---- upstream health ------------------------------------------------- */

int
router_upstream_down(struct router *r, const struct profile *p,
    const char **why)
{
	struct route	*rt = route_of(r, p);

	if (rt->health != HEALTH_DOWN || time(NULL) >= rt->down_until)
		return 0;
	*why = rt->last_error;
	return 1;
}

void
router_note_failure(struct router *r, const struct profile *p,
    enum smtp_client_fail class, const char *reason)
{
	struct route	*rt = route_of(r, p);

	rt->health = HEALTH_DOWN;
	rt->down_until = time(NULL) + UPSTREAM_DOWN_HOLD;
	snprintf(rt->last_error, sizeof(rt->last_error), "%s", reason);
	if (class == SCF_REFUSED && rt->password) {
		/* Perhaps the password changed: ask for it again. */
		secret_free(rt->password);
		rt->password = NULL;
	}
}

void
router_note_ok(struct router *r, const struct profile *p,
    const char *tls_version)
{
	struct route	*rt = route_of(r, p);

	rt->health = HEALTH_OK;
	rt->down_until = 0;
	rt->last_error[0] = '\0';
	snprintf(rt->tls_version, sizeof(rt->tls_version), "%s", tls_version);
}

/* ---- upstream sessions -------------------------------------------------- */

static void
req_ready(struct smtp_client *c, void *arg)
{
	struct upstream_req	*req = arg;
	router_upstream_cb	 cb = req->cb;
	void			*cbarg = req->arg;

	free(req);
	cb(c, SCF_CONNECT, NULL, cbarg);
}

static void
req_failed(struct smtp_client *c, enum smtp_client_fail class,
    const char *reason, void *arg)
{
	struct upstream_req	*req = arg;
	router_upstream_cb	 cb = req->cb;
	void			*cbarg = req->arg;

	router_note_failure(req->router, req->profile, class, reason);
	smtp_client_free(c);
	free(req);
	cb(NULL, class, reason, cbarg);
}

static const struct smtp_client_cb req_cb = {
	.ready = req_ready,
	.failed = req_failed,
	.drained = NULL,
};

struct upstream_req *
router_connect(struct router *r, const struct profile *p,
    router_upstream_cb cb, void *arg, char *err, size_t errlen)
{
	struct route			*rt = route_of(r, p);
	struct upstream_req		*req;
	struct smtp_client_params	 params;

	if (p->tls != TLSMODE_NONE && rt->ssl_ctx == NULL &&
	    (rt->ssl_ctx = tls_client_ctx_new(p->ca_file, err,
	    errlen)) == NULL) {
		router_note_failure(r, p, SCF_TLS, err);
		return NULL;
	}
	if (p->auth != AUTHC_NONE && rt->password == NULL &&
	    secret_fetch(p, &rt->password, err, errlen) == -1) {
		router_note_failure(r, p, SCF_REFUSED, err);
		return NULL;
	}
	memset(&params, 0, sizeof(params));
	params.host = p->host;
	params.port = p->port;
	params.tls = p->tls;
	params.ssl_ctx = rt->ssl_ctx;
	params.pin = p->has_pin ? p->pin : NULL;
	params.helo = p->helo ? p->helo : r->conf->hostname;
	params.auth = p->auth;
	params.user = p->user;
	params.password = rt->password;
	params.allow_plaintext_auth = p->allow_plaintext_auth;
	params.tag = p->name;

	if ((req = calloc(1, sizeof(*req))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	req->router = r;
	req->profile = p;
	req->cb = cb;
	req->arg = arg;
	req->c = smtp_client_new(r->base, r->dns, &params, &req_cb, req);
	if (req->c == NULL) {
		snprintf(err, errlen, "cannot start a session to %s",
		    p->host);
		free(req);
		return NULL;
	}
	return req;
}

void
router_cancel(struct upstream_req *req)
{
	smtp_client_free(req->c);
	free(req);
}

static void
pool_remove(struct pooled *p)
{
	TAILQ_REMOVE(&p->router->pool, p, entry);
	event_free(p->expire);
	free(p);
}

static void
pool_expire(evutil_socket_t fd, short ev, void *arg)
{
	struct pooled	*p = arg;

	log_debug("upstream %s %s: idle, closing", p->profile->name,
	    smtp_client_peer(p->c));
	smtp_client_free(p->c);
	pool_remove(p);
}

static void
pool_failed(struct smtp_client *c, enum smtp_client_fail class,
    const char *reason, void *arg)
{
	struct pooled	*p = arg;

	/* An idle session the server closed: normal, not a failure. */
	log_debug("upstream %s: idle session ended: %s", p->profile->name,
	    reason);
	smtp_client_free(c);
	pool_remove(p);
}

void
router_put_upstream(struct router *r, const struct profile *prof,
    struct smtp_client *c)
{
	struct timeval	 tv = { UPSTREAM_IDLE_KEEP, 0 };
	struct pooled	*p;
	unsigned	 n = 0;

	TAILQ_FOREACH(p, &r->pool, entry)
		if (p->profile == prof)
			n++;
	if (!smtp_client_idle(c) || n >= POOL_MAX_PER_PROFILE ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		smtp_client_free(c);
		return;
	}
	p->router = r;
	p->profile = prof;
	p->c = c;
	if ((p->expire = evtimer_new(r->base, pool_expire, p)) == NULL)
		fatal("evtimer_new");
	evtimer_add(p->expire, &tv);
	smtp_client_set_cb(c, &pool_cb, p);
	TAILQ_INSERT_HEAD(&r->pool, p, entry);
}

struct smtp_client *
router_take_idle(struct router *r, const struct profile *prof)
{
	struct pooled		*p;
	struct smtp_client	*c;

	TAILQ_FOREACH(p, &r->pool, entry) {
		if (p->profile != prof || !smtp_client_idle(p->c))
			continue;
		c = p->c;
		pool_remove(p);
		return c;
	}
	return NULL;
}

/* ---- the queue runner ------------------------------------------------- */

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

static void
queue_schedule(struct router *r)
{
	struct timeval	 tv = { 0, 0 };
	time_t		 now = time(NULL), first = 0;
	size_t		 i;
	int		 any = 0;

	for (i = 0; i < r->nq; i++) {
		struct qentry	*e = r->q[i];

		if (e->busy || e->m->state != QSTATE_QUEUED)
			continue;
		if (!any || e->m->next_attempt < first)
			first = e->m->next_attempt;
		any = 1;
	}
	evtimer_del(r->qtimer);
	if (!any)
		return;
	if (r->inflight >= QUEUE_PARALLEL)
		return;		/* a delivery's end runs the queue again */
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
		if (queue_remove(r->queue, m->id) == -1)
			log_warn("%s queue: cannot remove after delivery",
			    m->id);
		queue_forget(r, e);
		break;
	case DELIVERY_TEMPFAIL:
		getrandom(&rnd, sizeof(rnd), 0);
		m->next_attempt = time(NULL) + backoff_delay(m->attempts, rnd);
		log_info("%s queue deferred attempts=%u retry_in=%llds "
		    "error=\"%s\"", m->id, m->attempts,
		    (long long)(m->next_attempt - time(NULL)), m->last_error);
		if (queue_update(r->queue, m) == -1)
			log_warn("%s queue: cannot update envelope", m->id);
		break;
	case DELIVERY_PERMFAIL:
		m->state = QSTATE_FAILED;
		log_warnx("%s queue failed attempts=%u error=\"%s\"; see "
		    "roamsmtpctl queue, then retry or delete it", m->id,
		    m->attempts, m->last_error);
		if (queue_update(r->queue, m) == -1)
			log_warn("%s queue: cannot update envelope", m->id);
		break;
	}
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

	e->d = delivery_start(c, e->router->queue, e->m, attempt_delivered,
	    e, err, sizeof(err));
	if (e->d == NULL) {
		int	perm = errno == EOPNOTSUPP;

		router_put_upstream(e->router, e->profile, c);
		attempt_done(e, perm ? DELIVERY_PERMFAIL : DELIVERY_TEMPFAIL,
		    err);
	}
}

static void
attempt_connected(struct smtp_client *c, enum smtp_client_fail class,
    const char *reason, void *arg)
{
	struct qentry	*e = arg;

	e->req = NULL;
	if (c == NULL) {
		attempt_done(e, DELIVERY_TEMPFAIL, reason);
		return;
	}
	attempt_deliver(e, c);
}

static void
attempt_start(struct router *r, struct qentry *e)
{
	struct smtp_client	*c;
	const char		*reason;
	char			 err[600];

	e->busy = 1;
	e->t_start = now_monotonic();
	r->inflight++;
	if ((e->profile = router_choose(r, &reason)) == NULL) {
		attempt_done(e, DELIVERY_TEMPFAIL, reason);
		return;
	}
	log_debug("%s queue attempt=%u profile=%s", e->m->id,
	    e->m->attempts + 1, e->profile->name);
	if ((c = router_take_idle(r, e->profile)) != NULL) {
		attempt_deliver(e, c);
		return;
	}
	e->req = router_connect(r, e->profile, attempt_connected, e, err,
	    sizeof(err));
	if (e->req == NULL)
		attempt_done(e, DELIVERY_TEMPFAIL, err);
}

static void
queue_run(struct router *r)
{
	time_t	now = time(NULL);
	size_t	i;

	/* attempt_start may finish at once and reshape r->q: restart the
	 * scan after each one. */
	for (i = 0; i < r->nq && r->inflight < QUEUE_PARALLEL; i++) {
		struct qentry	*e = r->q[i];

		if (e->busy || e->m->state != QSTATE_QUEUED ||
		    e->m->next_attempt > now)
			continue;
		attempt_start(r, e);
		i = (size_t)-1;
	}
	queue_schedule(r);
}

/* ---- control commands ------------------------------------------------- */

json_t *
router_status_json(struct router *r)
{
	const struct profile	*p;
	const char		*reason;
	json_t			*o, *listen, *prof = json_null(), *up;
	size_t			 i, queued = 0, failed = 0;
	char			 where[300];

	listen = json_array();
	for (i = 0; i < r->conf->nlisten; i++)
		json_array_append_new(listen,
		    json_string(r->conf->listen[i].text));
	for (i = 0; i < r->nq; i++) {
		if (r->q[i]->m->state == QSTATE_FAILED)
			failed++;
		else
			queued++;
	}
	up = json_pack("{s:s, s:n, s:n}", "state", "unknown", "last_error",
	    "tls_version");
	if ((p = router_choose(r, &reason)) != NULL) {
		struct route	*rt = route_of(r, p);

		snprintf(where, sizeof(where), strchr(p->host, ':') ?
		    "[%s]:%u" : "%s:%u", p->host, p->port);
		prof = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", p->name,
		    "upstream", where, "tls", tls_mode_name(p->tls), "auth",
		    auth_choice_name(p->auth), "reason", reason);
		json_decref(up);
		up = json_pack("{s:s, s:o, s:o}", "state",
		    health_names[rt->health], "last_error",
		    rt->last_error[0] ? json_string(rt->last_error) :
		    json_null(), "tls_version", rt->tls_version[0] ?
		    json_string(rt->tls_version) : json_null());
	}
	o = json_pack("{s:b, s:s, s:i, s:o, s:o, s:s?, s:o, s:{s:i, s:i}}",
	    "ok", 1, "version", ROAMSMTP_VERSION, "pid", (int)getpid(),
	    "listen", listen, "profile", prof, "reason",
	    p ? NULL : reason, "upstream", up, "queue", "queued", (int)queued,
	    "failed", (int)failed);
	return o;
}

static json_t *
qmsg_json(const struct qentry *e)
{
	const struct qmsg	*m = e->m;
	json_t			*rcpt = json_array();
	size_t			 i;

	for (i = 0; i < m->nrcpt; i++)
		json_array_append_new(rcpt, json_string(m->rcpt[i]));
	return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:i, s:I, s:s?, "
	    "s:s?, s:b}", "id", m->id,
	    "state", e->busy ? "sending" : qstate_name(m->state),
	    "from", m->from, "rcpt", rcpt, "size", (json_int_t)m->size,
	    "created", (json_int_t)m->created, "attempts", (int)m->attempts,
	    "next_attempt", (json_int_t)m->next_attempt,
	    "last_error", m->last_error, "subject", m->subject,
	    "busy", e->busy);
}

json_t *
router_queue_json(struct router *r)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < r->nq; i++)
		json_array_append_new(a, qmsg_json(r->q[i]));
	return json_pack("{s:b, s:o}", "ok", 1, "messages", a);
}

json_t *
router_flush(struct router *r)
{
	size_t	i, n = 0;

	for (i = 0; i < r->profiles->n; i++)
		r->routes[i].down_until = 0;
	for (i = 0; i < r->nq; i++) {
		if (r->q[i]->m->state != QSTATE_QUEUED)
			continue;
		r->q[i]->m->next_attempt = 0;
		n++;
	}
	log_info("queue flush messages=%zu", n);
	queue_run(r);
	return json_pack("{s:b, s:i}", "ok", 1, "flushed", (int)n);
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
	if (queue_update(r->queue, e->m) == -1)
		log_warn("%s queue: cannot update envelope", id);
	log_info("%s queue retry requested", id);
	queue_run(r);
	return json_pack("{s:b, s:s}", "ok", 1, "id", id);
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
	if (queue_remove(r->queue, id) == -1) {
		return control_error("cannot delete %s: %s", id,
		    strerror(errno));
	}
	log_info("%s queue deleted by the user", id);
	queue_forget(r, e);
	queue_schedule(r);
	return json_pack("{s:b, s:s}", "ok", 1, "id", id);
}
