/*
 * router_upstream.c - upstream sessions for the router: opening them along
 * a profile's fallback chain, and the pool of idle ones kept for reuse.
 *
 * A chain is the profile, its fallback, the fallback's fallback... (cycles
 * are refused when profiles are loaded).  A new session starts at the link
 * that worked on this network last time and moves on only when an upstream
 * can't be reached (connection refused or timed out): a certificate or
 * login failure is never "fixed" by trying a weaker upstream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "router_priv.h"
#include "secret.h"
#include "tls.h"

/* Links followed in a fallback chain; check-config refuses cycles. */
#define CHAIN_MAX	8

struct upstream_req {
	struct router		*router;
	struct pset		*pset;		/* held while connecting */
	const struct profile	*chain[CHAIN_MAX];
	size_t			 nchain;
	size_t			 at;		/* the link being tried */
	size_t			 tried;
	struct smtp_client	*c;
	router_upstream_cb	 cb;
	void			*arg;
	char			 errors[1024];	/* of the links tried */
};

static void	pool_failed(struct smtp_client *, enum smtp_client_fail,
		    const char *, void *);
static void	req_ready(struct smtp_client *, void *);
static void	req_failed(struct smtp_client *, enum smtp_client_fail,
		    const char *, void *);

static const struct smtp_client_cb pool_cb = {
	.ready = NULL,
	.failed = pool_failed,
	.drained = NULL,
};

static const struct smtp_client_cb req_cb = {
	.ready = req_ready,
	.failed = req_failed,
	.drained = NULL,
};

static size_t
chain_build(struct router *r, const struct profile *p,
    const struct profile **chain)
{
	const struct profile	*at = p;
	size_t			 n = 0, i;

	while (at != NULL && n < CHAIN_MAX) {
		for (i = 0; i < n; i++)
			if (chain[i] == at)
				return n;
		chain[n++] = at;
		at = at->fallback ? profile_set_find(&r->cur->set,
		    at->fallback) : NULL;
	}
	return n;
}

/* Start a session to one link; -1 with err when it can't even start. */
static int
req_start_link(struct upstream_req *req, char *err, size_t errlen)
{
	struct router			*r = req->router;
	const struct profile		*p = req->chain[req->at];
	struct route			*rt = route_find(r, p);
	struct smtp_client_params	 params;

	if (rt == NULL) {
		snprintf(err, errlen, "profile %s was reloaded away",
		    p->name);
		return -1;
	}
	if (p->tls != TLSMODE_NONE && rt->ssl_ctx == NULL &&
	    (rt->ssl_ctx = tls_client_ctx_new(p->ca_file, err,
	    errlen)) == NULL) {
		router_note_failure(r, p, SCF_TLS, err);
		return -1;
	}
	if (p->auth != AUTHC_NONE && rt->password == NULL &&
	    secret_fetch(p, &rt->password, err, errlen) == -1) {
		router_note_failure(r, p, SCF_REFUSED, err);
		return -1;
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
	req->c = smtp_client_new(r->base, r->dns, &params, &req_cb, req);
	if (req->c == NULL) {
		snprintf(err, errlen, "cannot start a session to %s", p->host);
		return -1;
	}
	req->tried++;
	return 0;
}

static void
req_free(struct upstream_req *req)
{
	router_release(req->router, req->pset);
	free(req);
}

static void
req_ready(struct smtp_client *c, void *arg)
{
	struct upstream_req	*req = arg;
	struct router		*r = req->router;
	const struct profile	*used = req->chain[req->at];
	router_upstream_cb	 cb = req->cb;
	void			*cbarg = req->arg;

	if (req->nchain > 1)
		fallback_remember(r, req->chain[0], used);
	req->c = NULL;
	req_free(req);
	cb(c, used, SCF_CONNECT, NULL, cbarg);
}

static void
req_failed(struct smtp_client *c, enum smtp_client_fail class,
    const char *reason, void *arg)
{
	struct upstream_req	*req = arg;
	struct router		*r = req->router;
	const struct profile	*p = req->chain[req->at];
	router_upstream_cb	 cb = req->cb;
	void			*cbarg = req->arg;
	size_t			 n = strlen(req->errors);
	char			 err[sizeof(req->errors)];

	router_note_failure(r, p, class, reason);
	smtp_client_free(c);
	req->c = NULL;
	snprintf(req->errors + n, sizeof(req->errors) - n, "%s%s",
	    n ? "; then " : "", reason);
	/* Only an unreachable upstream is a reason to try the next link. */
	while ((class == SCF_CONNECT || class == SCF_TIMEOUT) &&
	    req->tried < req->nchain) {
		req->at = (req->at + 1) % req->nchain;
		log_info("router profile=%s unreachable, trying fallback %s",
		    p->name, req->chain[req->at]->name);
		if (req_start_link(req, err, sizeof(err)) == 0)
			return;
		n = strlen(req->errors);
		snprintf(req->errors + n, sizeof(req->errors) - n, "; then %s",
		    err);
		p = req->chain[req->at];
		req->tried++;
	}
	snprintf(err, sizeof(err), "%s", req->errors);
	req_free(req);
	cb(NULL, p, class, err, cbarg);
}

struct upstream_req *
router_connect(struct router *r, const struct profile *p,
    router_upstream_cb cb, void *arg, char *err, size_t errlen)
{
	struct upstream_req	*req;
	const struct profile	*start;
	size_t			 i, n;

	if ((req = calloc(1, sizeof(*req))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	req->router = r;
	req->pset = router_hold(r);
	req->cb = cb;
	req->arg = arg;
	req->nchain = chain_build(r, p, req->chain);
	if (req->nchain == 0) {
		/* p belongs to a retired generation: no chain, just p. */
		req->chain[0] = p;
		req->nchain = 1;
	}
	start = fallback_remembered(r, p);
	for (i = 0; i < req->nchain; i++)
		if (req->chain[i] == start)
			req->at = i;
	for (n = 0; n < req->nchain; n++) {
		if (req_start_link(req, err, errlen) == 0)
			return req;
		req->tried++;
		req->at = (req->at + 1) % req->nchain;
		if (req->tried >= req->nchain)
			break;
	}
	req_free(req);
	return NULL;
}

void
router_cancel(struct upstream_req *req)
{
	smtp_client_free(req->c);
	req_free(req);
}

/* ---- the pool ------------------------------------------------------- */

static void
pool_remove(struct pooled *p)
{
	struct router	*r = p->router;

	TAILQ_REMOVE(&r->pool, p, entry);
	event_free(p->expire);
	router_release(r, p->pset);
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
	/* Sessions of a retired generation are not kept. */
	if (!smtp_client_idle(c) || n >= POOL_MAX_PER_PROFILE ||
	    route_find(r, prof) == NULL || prof != profile_set_find(
	    &r->cur->set, prof->name) || (p = calloc(1, sizeof(*p))) == NULL) {
		smtp_client_free(c);
		return;
	}
	p->router = r;
	p->pset = router_hold(r);
	p->profile = prof;
	p->c = c;
	if ((p->expire = evtimer_new(r->base, pool_expire, p)) == NULL)
		fatal("evtimer_new");
	evtimer_add(p->expire, &tv);
	smtp_client_set_cb(c, &pool_cb, p);
	TAILQ_INSERT_HEAD(&r->pool, p, entry);
}

struct smtp_client *
router_take_idle(struct router *r, const struct profile *prof,
    const struct profile **used)
{
	const struct profile	*want = fallback_remembered(r, prof);
	struct pooled		*p;
	struct smtp_client	*c;

	TAILQ_FOREACH(p, &r->pool, entry) {
		if (p->profile != want || !smtp_client_idle(p->c))
			continue;
		c = p->c;
		*used = want;
		pool_remove(p);
		return c;
	}
	return NULL;
}

/* The network changed or profiles were reloaded: idle sessions go. */
void
pool_flush(struct router *r)
{
	struct pooled	*p;

	while ((p = TAILQ_FIRST(&r->pool)) != NULL) {
		smtp_client_free(p->c);
		pool_remove(p);
	}
}

void
pool_free_all(struct router *r)
{
	pool_flush(r);
}
