/*
 * router_upstream.c - upstream sessions for the router: opening them along
 * a profile's fallback chain, and the pool of idle ones kept for reuse.
 *
 * A chain is the profile, its fallback, the fallback's fallback... (cycles
 * are refused when profiles are loaded).  A new session starts at the link
 * that worked on this network last time and moves on only when an upstream
 * can't be reached (connection refused or timed out): a certificate or
 * login failure is never "fixed" by trying a weaker upstream.
 *
 * One link of a chain goes through these steps, each only when the profile
 * asks for it:
 *   DISCOVER  host = auto: the servers to try (discover.h)
 *   POP       [pop-before-smtp] and the window may have run out: a POP3
 *             login, shared by every session that needs one at the time
 *   SMTP      a pooled idle session to the server (after DISCOVER or POP
 *             only: before them the caller looked in the pool itself), or
 *             a new one; with several discovered servers, each in turn
 * A relogin (router_pop_relogin) is the POP step alone, for a session the
 * caller lends to the router meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "discover.h"
#include "log.h"
#include "pop_client.h"
#include "router_priv.h"
#include "secret.h"
#include "tls.h"

/* Links followed in a fallback chain; check-config refuses cycles. */
#define CHAIN_MAX	8

enum req_step {
	STEP_DISCOVER,
	STEP_POP,
	STEP_SMTP,
	STEP_RELOGIN,
};

struct upstream_req {
	struct router		*router;
	struct pset		*pset;		/* held while connecting */
	const struct profile	*chain[CHAIN_MAX];
	size_t			 nchain;
	size_t			 at;		/* the link being tried */
	size_t			 tried;
	enum req_step		 step;
	struct smtp_client	*c;
	router_upstream_cb	 cb;
	void			*arg;
	char			 errors[1024];	/* of the links tried */

	char			 sender_domain[DISCOVER_NAME_MAX];
	struct discover_req	*dq;
	struct discover_result	 targets;	/* of the link */
	size_t			 target;	/* being tried */
	int			 waited;	/* DISCOVER or POP ran */

	struct pop_login	*pop;		/* waiting for it */
	TAILQ_ENTRY(upstream_req) pop_entry;
};

/* A POP3 login under way for one profile, and who waits for it. */
struct pop_login {
	struct router		*router;
	struct route		*rt;
	const struct profile	*profile;
	struct pop_client	*pc;
	SSL_CTX			*ssl_ctx;
	TAILQ_HEAD(, upstream_req) waiters;
	int			 finishing;
	double			 t_start;
};

static void	pool_failed(struct smtp_client *, enum smtp_client_fail,
		    const char *, void *);
static void	req_ready(struct smtp_client *, void *);
static void	req_failed(struct smtp_client *, enum smtp_client_fail,
		    const char *, void *);
static int	req_refresh(struct smtp_client *, char **, char *, size_t,
		    void *);
static void	relogin_failed(struct smtp_client *, enum smtp_client_fail,
		    const char *, void *);
static void	req_link_failed(struct upstream_req *, enum smtp_client_fail,
		    const char *);
static int	req_open_smtp(struct upstream_req *, char *, size_t);
static struct smtp_client *pool_take(struct router *, const struct profile *,
		    const char *peer);

static const struct smtp_client_cb pool_cb = {
	.ready = NULL,
	.failed = pool_failed,
	.drained = NULL,
};

static const struct smtp_client_cb req_cb = {
	.ready = req_ready,
	.failed = req_failed,
	.drained = NULL,
	.refresh = req_refresh,
};

static const struct smtp_client_cb relogin_cb = {
	.ready = NULL,
	.failed = relogin_failed,
	.drained = NULL,
};

/* Seconds on a clock that goes on during a suspend: a window runs out
 * while the lid is closed. */
static double
boottime(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A link failed.  With host = auto by SRV the server depends on the
 * sender's domain: one domain's failure says nothing of the others, so
 * the profile is not held down for it.
 */
static void
router_note_failure_of(struct router *r, const struct profile *p,
    enum smtp_client_fail class, const char *reason)
{
	if (p->host_auto && p->discover == DISCOVER_SRV)
		return;
	router_note_failure(r, p, class, reason);
}

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

static void
peer_format(const char *host, uint16_t port, char *buf, size_t len)
{
	if (strchr(host, ':'))
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
}

/*
 * The upstream refused the OAuth2 token: run token-command again (bounded
 * like the first fetch) and keep the fresh token for the next sessions.
 */
static int
req_refresh(struct smtp_client *c, char **token, char *err, size_t errlen,
    void *arg)
{
	struct upstream_req	*req = arg;
	const struct profile	*p = req->chain[req->at];
	struct route		*rt = route_find(req->router, p);

	if (secret_fetch(p, token, err, errlen) == -1)
		return -1;
	if (rt != NULL) {
		secret_free(rt->password);
		if ((rt->password = strdup(*token)) == NULL)
			fatal("strdup");
	}
	return 0;
}

static void
req_free(struct upstream_req *req)
{
	router_release(req->router, req->pset);
	free(req);
}

static void
req_add_error(struct upstream_req *req, const char *reason)
{
	size_t	n = strlen(req->errors);

	snprintf(req->errors + n, sizeof(req->errors) - n, "%s%s",
	    n ? "; then " : "", reason);
}

/* ---- POP-before-SMTP ------------------------------------------------ */

static int
pop_window_open(const struct route *rt, const struct profile *p)
{
	return rt->pop_ok != 0 && boottime() - rt->pop_ok < p->pop.window;
}

/* Is a POP3 login due before this profile's upstream relays? */
static int
pop_due(struct router *r, const struct profile *p)
{
	struct route	*rt;

	if (!p->pop.enabled || (rt = route_find(r, p)) == NULL)
		return 0;
	return !pop_window_open(rt, p);
}

/* The POP3 password: the [pop-before-smtp] source (parsing filled it from
 * [upstream] when the group has none). */
static int
pop_password(const struct profile *p, char **out, char *err, size_t errlen)
{
	struct profile	shadow;

	memset(&shadow, 0, sizeof(shadow));
	shadow.name = p->name;
	shadow.path = p->path;
	shadow.user = p->pop.user;
	shadow.password_command = p->pop.password_command;
	shadow.password_file = p->pop.password_file;
	shadow.password_secret = p->pop.password_secret;
	return secret_fetch(&shadow, out, err, errlen);
}

static enum smtp_client_fail
pop_class(enum pop_fail f)
{
	switch (f) {
	case POPF_CONNECT:	return SCF_CONNECT;
	case POPF_TLS:		return SCF_TLS;
	case POPF_PROTOCOL:	return SCF_PROTOCOL;
	case POPF_FEATURE:	return SCF_FEATURE;
	case POPF_REFUSED:	return SCF_REFUSED;
	case POPF_TIMEOUT:	return SCF_TIMEOUT;
	}
	return SCF_PROTOCOL;
}

static void
pop_login_free(struct pop_login *l)
{
	if (l->rt->pop_busy == l)
		l->rt->pop_busy = NULL;
	pop_client_free(l->pc);
	if (l->ssl_ctx)
		SSL_CTX_free(l->ssl_ctx);
	free(l);
}

static void	req_pop_done(struct upstream_req *, int, enum smtp_client_fail,
		    const char *);

static void
pop_login_done(struct pop_client *pc, int ok, enum pop_fail class,
    const char *reason, void *arg)
{
	struct pop_login	*l = arg;
	struct upstream_req	*req;
	char			 why[1200];

	l->rt->pop_busy = NULL;
	if (ok) {
		l->rt->pop_ok = boottime();
		log_info("router profile=%s pop login server=%s auth=%s "
		    "delay=%.3fs window=%us", l->profile->name,
		    pop_client_peer(pc), pop_client_auth_used(pc),
		    l->rt->pop_ok - l->t_start, l->profile->pop.window);
	} else {
		snprintf(why, sizeof(why), "POP-before-SMTP login failed: %s",
		    reason);
		log_warnx("router profile=%s pop login failed class=%s: %s",
		    l->profile->name, pop_fail_name(class), reason);
	}
	/* A waiter's callback may cancel others, or start a new login:
	 * this one stays until the list is empty. */
	l->finishing = 1;
	while ((req = TAILQ_FIRST(&l->waiters)) != NULL) {
		TAILQ_REMOVE(&l->waiters, req, pop_entry);
		req->pop = NULL;
		req_pop_done(req, ok, pop_class(class), ok ? NULL : why);
	}
	pop_login_free(l);
}

/* Start a login for the profile, or join the one under way. */
static int
req_pop_join(struct upstream_req *req, const struct profile *p, char *err,
    size_t errlen)
{
	struct router			*r = req->router;
	struct route			*rt = route_find(r, p);
	struct pop_login		*l;
	struct pop_client_params	 params;
	char				*password = NULL;

	if (rt == NULL) {
		snprintf(err, errlen, "profile %s was reloaded away", p->name);
		return -1;
	}
	if ((l = rt->pop_busy) == NULL) {
		if ((l = calloc(1, sizeof(*l))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		l->router = r;
		l->rt = rt;
		l->profile = p;
		l->t_start = boottime();
		TAILQ_INIT(&l->waiters);
		if (p->pop.tls != TLSMODE_NONE && (l->ssl_ctx =
		    tls_client_ctx_new(p->pop.ca_file, err, errlen)) == NULL) {
			free(l);
			return -1;
		}
		if (pop_password(p, &password, err, errlen) == -1) {
			pop_login_free(l);
			return -1;
		}
		memset(&params, 0, sizeof(params));
		params.host = p->pop.host;
		params.port = p->pop.port;
		params.tls = p->pop.tls;
		params.ssl_ctx = l->ssl_ctx;
		params.pin = p->pop.has_pin ? p->pop.pin : NULL;
		params.auth = p->pop.auth;
		params.user = p->pop.user;
		params.password = password;
		params.allow_plaintext_auth = p->pop.allow_plaintext_auth;
		params.tag = p->name;
		l->pc = pop_client_new(r->base, r->dns, &params,
		    pop_login_done, l);
		secret_free(password);
		if (l->pc == NULL) {
			snprintf(err, errlen, "cannot start a POP3 login to %s",
			    p->pop.host ? p->pop.host : "(no host)");
			pop_login_free(l);
			return -1;
		}
		rt->pop_busy = l;
		log_debug("router profile=%s pop login starts server=%s:%u",
		    p->name, p->pop.host, p->pop.port);
	}
	req->pop = l;
	TAILQ_INSERT_TAIL(&l->waiters, req, pop_entry);
	return 0;
}

/* A waiter leaves; the last one ends the login. */
static void
req_pop_leave(struct upstream_req *req)
{
	struct pop_login	*l = req->pop;

	if (l == NULL)
		return;
	TAILQ_REMOVE(&l->waiters, req, pop_entry);
	req->pop = NULL;
	if (TAILQ_EMPTY(&l->waiters) && !l->finishing)
		pop_login_free(l);
}

/* ---- one link ----------------------------------------------------- */

/* The domain whose submission server host = auto (srv) looks for. */
static const char *
srv_domain(const struct upstream_req *req, const struct profile *p)
{
	const char	*d;

	if (p->envelope_from && (d = discover_address_domain(
	    p->envelope_from)) != NULL)
		return d;
	if (req->sender_domain[0] != '\0')
		return req->sender_domain;
	if (p->user && (d = discover_address_domain(p->user)) != NULL)
		return d;
	return NULL;
}

static int	req_after_targets(struct upstream_req *, char *, size_t);

static void
req_discovered(const struct discover_result *res, const char *error,
    void *arg)
{
	struct upstream_req	*req = arg;
	char			 err[600];

	req->dq = NULL;
	if (res == NULL) {
		snprintf(err, sizeof(err), "profile %s: host = auto: %s",
		    req->chain[req->at]->name, error);
		req_link_failed(req, SCF_CONNECT, err);
		return;
	}
	req->targets = *res;
	req->target = 0;
	req->waited = 1;
	if (req_after_targets(req, err, sizeof(err)) == -1)
		req_link_failed(req, SCF_CONNECT, err);
}

/* The servers of a link with host = auto. */
static int
req_discover(struct upstream_req *req, const struct profile *p, char *err,
    size_t errlen)
{
	struct router	*r = req->router;
	const char	*domain, *dv[NETFACTS_DNS_MAX];
	size_t		 i;

	/* Made at first use; it also points evdns at a DNS server the
	 * configuration names, where the names found must resolve. */
	if (r->discover == NULL &&
	    (r->discover = discover_new(r->base, r->dns,
	    r->conf->dns_server, err, errlen)) == NULL)
		return -1;
	if (p->discover == DISCOVER_SEARCH_DOMAIN) {
		for (i = 0; r->have_facts && i < r->facts.ndns; i++)
			dv[i] = r->facts.dns[i];
		if (discover_search_targets(dv, i, p->port, p->tls,
		    &req->targets) == 0) {
			snprintf(err, errlen, "profile %s: host = auto: this "
			    "network gives no DNS search domain to find its "
			    "mail relay by (smtp.DOMAIN, mail.DOMAIN); set host "
			    "= in the profile", p->name);
			return -1;
		}
		return req_after_targets(req, err, errlen);
	}
	if ((domain = srv_domain(req, p)) == NULL) {
		snprintf(err, errlen, "profile %s: host = auto: the null "
		    "sender has no domain to look up, and the profile sets "
		    "no user@domain; set host = in the profile", p->name);
		return -1;
	}
	/* A pinned key identifies the server whatever its name; without a
	 * pin, the target must be a name the domain vouches for. */
	req->dq = discover_srv(r->discover, domain, !p->has_pin,
	    req_discovered, req);
	if (req->dq == NULL) {
		snprintf(err, errlen, "profile %s: host = auto: '%s' is not a "
		    "domain to look up", p->name, domain);
		return -1;
	}
	req->step = STEP_DISCOVER;
	return 0;
}

/* The targets are known: the POP login if due, then SMTP. */
static int
req_after_targets(struct upstream_req *req, char *err, size_t errlen)
{
	const struct profile	*p = req->chain[req->at];

	if (pop_due(req->router, p)) {
		if (req_pop_join(req, p, err, errlen) == -1)
			return -1;
		req->step = STEP_POP;
		return 0;
	}
	return req_open_smtp(req, err, errlen);
}

static void
req_pop_done(struct upstream_req *req, int ok, enum smtp_client_fail class,
    const char *reason)
{
	const struct profile	*p = req->chain[req->at];
	struct smtp_client	*c = req->c;
	router_upstream_cb	 cb = req->cb;
	void			*cbarg = req->arg;
	char			 err[600];

	if (req->step == STEP_RELOGIN) {
		req->c = NULL;
		req_free(req);
		cb(c, p, class, reason, cbarg);
		return;
	}
	if (!ok) {
		req_link_failed(req, class, reason);
		return;
	}
	req->waited = 1;
	if (req_open_smtp(req, err, sizeof(err)) == -1)
		req_link_failed(req, SCF_CONNECT, err);
}

/* An SMTP session to the current target: from the pool, or new. */
static int
req_open_smtp(struct upstream_req *req, char *err, size_t errlen)
{
	struct router			*r = req->router;
	const struct profile		*p = req->chain[req->at];
	const struct discover_target	*t = &req->targets.t[req->target];
	struct route			*rt = route_find(r, p);
	struct smtp_client_params	 params;
	char				 peer[DISCOVER_NAME_MAX + 16];

	req->step = STEP_SMTP;
	if (rt == NULL) {
		snprintf(err, errlen, "profile %s was reloaded away", p->name);
		return -1;
	}
	peer_format(t->host, t->port, peer, sizeof(peer));
	/* After a wait the pool may hold what the caller did not find. */
	if (req->waited && (req->c = pool_take(r, p, peer)) != NULL) {
		log_debug("router profile=%s reusing %s", p->name, peer);
		req_ready(req->c, req);
		return 0;
	}
	if (t->tls != TLSMODE_NONE && rt->ssl_ctx == NULL &&
	    (rt->ssl_ctx = tls_client_ctx_new(p->ca_file, err,
	    errlen)) == NULL)
		return -1;
	memset(&params, 0, sizeof(params));
	params.host = t->host;
	params.port = t->port;
	params.tls = t->tls;
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
		snprintf(err, errlen, "cannot start a session to %s", peer);
		return -1;
	}
	return 0;
}

/* Start one link; -1 with err when it can't even start. */
static int
req_start_link(struct upstream_req *req, char *err, size_t errlen)
{
	struct router		*r = req->router;
	const struct profile	*p = req->chain[req->at];
	struct route		*rt = route_find(r, p);
	int			 rc;

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
	memset(&req->targets, 0, sizeof(req->targets));
	req->target = 0;
	req->waited = 0;
	if (p->host_auto)
		rc = req_discover(req, p, err, errlen);
	else {
		snprintf(req->targets.t[0].host, sizeof(req->targets.t[0].host),
		    "%s", p->host);
		req->targets.t[0].port = p->port;
		req->targets.t[0].tls = p->tls;
		req->targets.n = 1;
		rc = req_after_targets(req, err, errlen);
	}
	if (rc == -1) {
		router_note_failure_of(r, p, SCF_CONNECT, err);
		return -1;
	}
	req->tried++;
	return 0;
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
	if (req->targets.n > 1 || used->host_auto)
		log_info("router profile=%s upstream=%s found by %s",
		    used->name, smtp_client_peer(c),
		    discover_mode_name(used->discover));
	req->c = NULL;
	req_free(req);
	cb(c, used, SCF_CONNECT, NULL, cbarg);
}

/* A link failed: the next one when the upstream was unreachable, else the
 * caller hears. */
static void
req_link_failed(struct upstream_req *req, enum smtp_client_fail class,
    const char *reason)
{
	struct router		*r = req->router;
	const struct profile	*p = req->chain[req->at];
	router_upstream_cb	 cb = req->cb;
	void			*cbarg = req->arg;
	char			 err[sizeof(req->errors)];

	router_note_failure_of(r, p, class, reason);
	req_add_error(req, reason);
	/* Only an unreachable upstream is a reason to try the next link. */
	while ((class == SCF_CONNECT || class == SCF_TIMEOUT) &&
	    req->tried < req->nchain) {
		req->at = (req->at + 1) % req->nchain;
		log_info("router profile=%s unreachable, trying fallback %s",
		    p->name, req->chain[req->at]->name);
		if (req_start_link(req, err, sizeof(err)) == 0)
			return;
		req_add_error(req, err);
		p = req->chain[req->at];
		req->tried++;
	}
	snprintf(err, sizeof(err), "%s", req->errors);
	req_free(req);
	cb(NULL, p, class, err, cbarg);
}

static void
req_failed(struct smtp_client *c, enum smtp_client_fail class,
    const char *reason, void *arg)
{
	struct upstream_req	*req = arg;
	const struct profile	*p = req->chain[req->at];
	char			 err[600];

	smtp_client_free(c);
	req->c = NULL;
	/* Discovered servers are tried in turn, whatever stopped one: the
	 * next must pass the same checks (TLS, AUTH). */
	while (req->target + 1 < req->targets.n) {
		req_add_error(req, reason);
		req->target++;
		log_info("router profile=%s %s:%u failed, trying %s:%u",
		    p->name, req->targets.t[req->target - 1].host,
		    req->targets.t[req->target - 1].port,
		    req->targets.t[req->target].host,
		    req->targets.t[req->target].port);
		if (req_open_smtp(req, err, sizeof(err)) == 0)
			return;
		reason = err;
	}
	req_link_failed(req, class, reason);
}

struct upstream_req *
router_connect(struct router *r, const struct profile *p, const char *sender,
    router_upstream_cb cb, void *arg, char *err, size_t errlen)
{
	struct upstream_req	*req;
	const struct profile	*start;
	const char		*domain;
	size_t			 i, n;

	if ((req = calloc(1, sizeof(*req))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	req->router = r;
	req->pset = router_hold(r);
	req->cb = cb;
	req->arg = arg;
	if (sender != NULL && (domain = discover_address_domain(sender)) !=
	    NULL)
		snprintf(req->sender_domain, sizeof(req->sender_domain), "%s",
		    domain);
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
	if (req->dq != NULL)
		discover_cancel(req->dq);
	req_pop_leave(req);
	smtp_client_free(req->c);
	req_free(req);
}

/* ---- relogin --------------------------------------------------------- */

/* The lent session died while the login went on. */
static void
relogin_failed(struct smtp_client *c, enum smtp_client_fail class,
    const char *reason, void *arg)
{
	struct upstream_req	*req = arg;
	const struct profile	*p = req->chain[0];
	router_upstream_cb	 cb = req->cb;
	void			*cbarg = req->arg;
	char			 why[600];

	snprintf(why, sizeof(why), "%s", reason);
	smtp_client_free(c);
	req->c = NULL;
	req_pop_leave(req);
	req_free(req);
	cb(NULL, p, class, why, cbarg);
}

struct upstream_req *
router_pop_relogin(struct router *r, const struct profile *p,
    struct smtp_client *c, router_upstream_cb cb, void *arg, char *err,
    size_t errlen)
{
	struct upstream_req	*req;
	struct route		*rt;

	if (!p->pop.enabled || (rt = route_find(r, p)) == NULL) {
		snprintf(err, errlen, "profile %s has no [pop-before-smtp]",
		    p->name);
		return NULL;
	}
	if (rt->pop_busy == NULL && rt->pop_ok != 0 &&
	    boottime() - rt->pop_ok < POP_RELOGIN_FRESH) {
		snprintf(err, errlen, "the last POP3 login was %.1fs ago",
		    boottime() - rt->pop_ok);
		return NULL;
	}
	if ((req = calloc(1, sizeof(*req))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	req->router = r;
	req->pset = router_hold(r);
	req->cb = cb;
	req->arg = arg;
	req->chain[0] = p;
	req->nchain = 1;
	req->step = STEP_RELOGIN;
	if (req_pop_join(req, p, err, errlen) == -1) {
		req_free(req);
		return NULL;
	}
	req->c = c;
	smtp_client_set_cb(c, &relogin_cb, req);
	log_info("router profile=%s upstream=%s refused to relay: POP3 login "
	    "again", p->name, smtp_client_peer(c));
	return req;
}

static void
relogged_for_queue(struct smtp_client *c, const struct profile *used,
    enum smtp_client_fail class, const char *reason, void *arg)
{
	struct qentry	*e = arg;

	e->req = NULL;
	delivery_resume(e->d, c, reason);
}

int
router_delivery_relogin(struct delivery *d, struct smtp_client *c,
    void *arg)
{
	struct qentry	*e = arg;
	char		 err[600];

	if (!e->profile->pop.enabled)
		return -1;
	e->req = router_pop_relogin(e->router, e->profile, c,
	    relogged_for_queue, e, err, sizeof(err));
	if (e->req == NULL) {
		log_info("%s queue no POP3 login before the refusal stands: %s",
		    e->m->id, err);
		return -1;
	}
	return 0;
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

/* An idle session of prof, to peer when not NULL. */
static struct smtp_client *
pool_take(struct router *r, const struct profile *prof, const char *peer)
{
	struct pooled		*p;
	struct smtp_client	*c;

	TAILQ_FOREACH(p, &r->pool, entry) {
		if (p->profile != prof || !smtp_client_idle(p->c) ||
		    (peer != NULL && strcmp(smtp_client_peer(p->c), peer)))
			continue;
		c = p->c;
		pool_remove(p);
		return c;
	}
	return NULL;
}

struct smtp_client *
router_take_idle(struct router *r, const struct profile *prof,
    const struct profile **used)
{
	const struct profile	*want = fallback_remembered(r, prof);
	struct smtp_client	*c;

	/* Which server depends on the sender: router_connect looks in the
	 * pool once it knows. */
	if (want->host_auto && want->discover == DISCOVER_SRV)
		return NULL;
	/* The window may have run out: router_connect logs in to POP3
	 * first, then takes the pooled session. */
	if (pop_due(r, want))
		return NULL;
	if ((c = pool_take(r, want, NULL)) != NULL)
		*used = want;
	return c;
}

/*
 * The network changed or profiles were reloaded: idle sessions go, and so
 * do POP-before-SMTP windows (they belong to the address the provider saw).
 */
void
pool_flush(struct router *r)
{
	struct pooled	*p;
	size_t		 i;

	while ((p = TAILQ_FIRST(&r->pool)) != NULL) {
		smtp_client_free(p->c);
		pool_remove(p);
	}
	for (i = 0; i < r->cur->set.n; i++)
		r->cur->routes[i].pop_ok = 0;
}

void
pool_free_all(struct router *r)
{
	pool_flush(r);
	/* Requests still discovering are orphaned: router_cancel() frees
	 * them. */
	discover_free(r->discover);
	r->discover = NULL;
}
