/*
 * router.c - the profiles, the network facts, the choice between them, and
 * the control commands about them.  See router.h.
 *
 * Profiles come in generations (struct pset): a reload makes a new one and
 * retires the old, which lives on while a session, a pooled connection or a
 * queue attempt still holds it.
 */
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
#include "log.h"
#include "match.h"
#include "router.h"
#include "router_priv.h"
#include "secret.h"

static const char *health_names[] = { "unknown", "ok", "down" };

static void	fallback_load(struct router *);

static struct pset *
pset_new(struct router *r, struct profile_set *set)
{
	struct pset	*ps;
	size_t		 i;

	if ((ps = calloc(1, sizeof(*ps))) == NULL ||
	    (ps->routes = calloc(set->n + 1, sizeof(*ps->routes))) == NULL)
		fatal("pset_new");
	ps->set = *set;
	set->v = NULL;
	set->n = 0;
	for (i = 0; i < ps->set.n; i++)
		ps->routes[i].profile = ps->set.v[i];
	ps->refs = 1;
	ps->generation = ++r->generation;
	return ps;
}

static void
pset_free(struct pset *ps)
{
	size_t	i;

	for (i = 0; i < ps->set.n; i++) {
		if (ps->routes[i].ssl_ctx)
			SSL_CTX_free(ps->routes[i].ssl_ctx);
		secret_free(ps->routes[i].password);
	}
	free(ps->routes);
	profile_set_free(&ps->set);
	free(ps);
}

struct pset *
router_hold(struct router *r)
{
	r->cur->refs++;
	return r->cur;
}

void
router_release(struct router *r, struct pset *ps)
{
	if (ps == NULL)
		return;
	if (ps->refs == 0)
		fatalx("router_release: pset %u has no references",
		    ps->generation);
	if (--ps->refs > 0)
		return;
	if (ps == r->cur)
		fatalx("router_release: current pset released");
	TAILQ_REMOVE(&r->retired, ps, entry);
	log_debug("router profiles generation %u freed", ps->generation);
	pset_free(ps);
}

struct route *
route_find(struct router *r, const struct profile *p)
{
	struct pset	*ps;
	size_t		 i;

	for (i = 0; i < r->cur->set.n; i++)
		if (r->cur->routes[i].profile == p)
			return &r->cur->routes[i];
	TAILQ_FOREACH(ps, &r->retired, entry)
		for (i = 0; i < ps->set.n; i++)
			if (ps->routes[i].profile == p)
				return &ps->routes[i];
	return NULL;
}

void
router_set_event_cb(struct router *r, void (*cb)(json_t *, void *),
    void *arg)
{
	r->event_cb = cb;
	r->event_arg = arg;
}

/* Send {"event": name, "time": now, ...body} to the watchers; takes body. */
void
router_event(struct router *r, const char *name, json_t *body)
{
	if (body == NULL)
		body = json_object();
	json_object_set_new(body, "event", json_string(name));
	json_object_set_new(body, "time", json_integer((json_int_t)time(NULL)));
	if (r->event_cb)
		r->event_cb(body, r->event_arg);
	json_decref(body);
}

/* ---- the active profile ----------------------------------------------- */

/* Work out the active profile again; log and tell watchers on a change. */
static void
update_active(struct router *r)
{
	static const struct net_facts	 none;
	const struct profile		*p = NULL;
	char				 reason[sizeof(r->reason)];
	const char			*old = r->active ? r->active->name : NULL;

	if (r->have_facts && r->facts.connectivity == NETCONN_NONE)
		snprintf(reason, sizeof(reason), "offline: no network "
		    "connection; mail waits in the queue");
	else if (r->have_facts && r->facts.connectivity == NETCONN_PORTAL)
		snprintf(reason, sizeof(reason), "behind a captive portal: "
		    "log in to the network in a browser; mail waits in the "
		    "queue until then");
	else {
		p = profile_choose(&r->cur->set, r->have_facts ? &r->facts :
		    &none, r->manual, reason, sizeof(reason));
		if (p == NULL && r->cur->set.n == 0)
			snprintf(reason, sizeof(reason), "no profile at all: "
			    "add one to %s (see profiles/examples)",
			    r->conf->profiles_dir);
	}
	r->active = p;
	if ((old == NULL) != (p == NULL) ||
	    (old && p && strcmp(old, p->name) != 0) ||
	    strcmp(reason, r->reason) != 0) {
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
		log_info("router profile=%s manual=%s reason=\"%s\"",
		    p ? p->name : "none", r->manual ? "yes" : "no", reason);
		router_event(r, "profile", json_pack("{s:s?, s:s, s:b}",
		    "profile", p ? p->name : NULL, "reason", reason, "manual",
		    r->manual != NULL));
	}
}

const struct profile *
router_choose(struct router *r, const char **reason)
{
	*reason = r->reason;
	return r->active;
}

uint64_t
router_metered_limit(struct router *r)
{
	if (!r->have_facts || !r->facts.metered)
		return 0;
	return r->conf->metered_max_size;
}

void
router_set_facts(struct router *r, const struct net_facts *f)
{
	const char	*primary = "-";
	size_t		 i;

	if (r->have_facts && netfacts_equal(&r->facts, f))
		return;
	r->facts = *f;
	r->have_facts = 1;
	for (i = 0; i < f->nconn; i++)
		if (f->conn[i].primary)
			primary = f->conn[i].id;
	log_info("network backend=%s primary=\"%s\" ssid=\"%s\" gateway=%s "
	    "gateway_mac=%s connectivity=%s metered=%s vpn=%s", f->backend,
	    primary, f->ssid, f->ngw ? f->gw[0].addr : "-",
	    f->ngw && f->gw[0].mac[0] ? f->gw[0].mac : "-",
	    net_connectivity_name(f->connectivity), f->metered ? "yes" : "no",
	    f->nconn && (f->conn[0].vpn || (f->nconn > 1 && f->conn[1].vpn)) ?
	    "yes" : "no");
	router_event(r, "network", json_pack("{s:o}", "facts",
	    netfacts_to_json(f)));

	/* Idle sessions and verdicts on upstreams belong to the old place. */
	pool_flush(r);
	for (i = 0; i < r->cur->set.n; i++) {
		r->cur->routes[i].health = HEALTH_UNKNOWN;
		r->cur->routes[i].down_until = 0;
	}
	update_active(r);
	if (f->connectivity != NETCONN_NONE &&
	    f->connectivity != NETCONN_PORTAL && r->active != NULL) {
		queue_flush_all(r);
		queue_run(r);
	}
}

/* ---- the fallback memory ---------------------------------------------- */

const char *
router_netkey(struct router *r, char *buf, size_t len)
{
	if (r->have_facts)
		netfacts_key(&r->facts, buf, len);
	else
		snprintf(buf, len, "unknown");
	return buf;
}

static struct fallback_memory *
fallback_find(struct router *r, const char *netkey, const char *profile)
{
	size_t	i;

	for (i = 0; i < FALLBACK_MEMORY_MAX; i++)
		if (r->memory[i].netkey[0] &&
		    strcmp(r->memory[i].netkey, netkey) == 0 &&
		    strcmp(r->memory[i].profile, profile) == 0)
			return &r->memory[i];
	return NULL;
}

const struct profile *
fallback_remembered(struct router *r, const struct profile *p)
{
	struct fallback_memory	*m;
	struct profile		*use;
	char			 key[64];

	m = fallback_find(r, router_netkey(r, key, sizeof(key)), p->name);
	if (m == NULL || (use = profile_set_find(&r->cur->set, m->use)) ==
	    NULL)
		return p;
	return use;
}

static void
fallback_save(struct router *r)
{
	json_t	*a = json_array();
	char	 path[4096], tmp[4200];
	size_t	 i;

	for (i = 0; i < FALLBACK_MEMORY_MAX; i++) {
		if (r->memory[i].netkey[0] == '\0')
			continue;
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}",
		    "network", r->memory[i].netkey, "profile",
		    r->memory[i].profile, "use", r->memory[i].use, "when",
		    (json_int_t)r->memory[i].when));
	}
	snprintf(path, sizeof(path), "%s/fallbacks.json", r->conf->state_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(a, tmp, JSON_INDENT(1)) == -1 ||
	    rename(tmp, path) == -1)
		log_warn("router: cannot save %s", path);
	json_decref(a);
}

static void
fallback_load(struct router *r)
{
	json_t		*a, *e;
	json_error_t	 jerr;
	char		 path[4096];
	size_t		 i, n = 0;

	snprintf(path, sizeof(path), "%s/fallbacks.json", r->conf->state_dir);
	if ((a = json_load_file(path, 0, &jerr)) == NULL) {
		if (access(path, F_OK) == 0)
			log_warnx("router: %s:%d: %s; the file is ignored",
			    path, jerr.line, jerr.text);
		return;
	}
	json_array_foreach(a, i, e) {
		const char	*net, *prof, *use;
		json_int_t	 when = 0;

		if (n >= FALLBACK_MEMORY_MAX || json_unpack(e,
		    "{s:s, s:s, s:s, s?:I}", "network", &net, "profile",
		    &prof, "use", &use, "when", &when) == -1 ||
		    strlen(net) >= sizeof(r->memory[n].netkey) ||
		    strlen(prof) >= sizeof(r->memory[n].profile) ||
		    strlen(use) >= sizeof(r->memory[n].use))
			continue;
		snprintf(r->memory[n].netkey, sizeof(r->memory[n].netkey),
		    "%s", net);
		snprintf(r->memory[n].profile, sizeof(r->memory[n].profile),
		    "%s", prof);
		snprintf(r->memory[n].use, sizeof(r->memory[n].use), "%s", use);
		r->memory[n].when = (time_t)when;
		n++;
	}
	json_decref(a);
}

void
fallback_remember(struct router *r, const struct profile *from,
    const struct profile *used)
{
	struct fallback_memory	*m;
	char			 key[64];
	size_t			 i, oldest = 0;

	router_netkey(r, key, sizeof(key));
	m = fallback_find(r, key, from->name);
	if (used == from) {
		if (m != NULL) {
			memset(m, 0, sizeof(*m));
			fallback_save(r);
		}
		return;
	}
	if (m != NULL && strcmp(m->use, used->name) == 0)
		return;
	if (m == NULL) {
		for (i = 0; i < FALLBACK_MEMORY_MAX; i++) {
			if (r->memory[i].netkey[0] == '\0') {
				oldest = i;
				break;
			}
			if (r->memory[i].when < r->memory[oldest].when)
				oldest = i;
		}
		m = &r->memory[oldest];
	}
	snprintf(m->netkey, sizeof(m->netkey), "%s", key);
	snprintf(m->profile, sizeof(m->profile), "%s", from->name);
	snprintf(m->use, sizeof(m->use), "%s", used->name);
	m->when = time(NULL);
	log_info("router network=%s profile=%s falls back to %s here", key,
	    from->name, used->name);
	fallback_save(r);
}

/* ---- life ------------------------------------------------------------- */

struct router *
router_new(struct event_base *base, struct evdns_base *dns,
    const struct daemon_conf *conf, struct profile_set *profiles,
    struct queue *queue)
{
	struct router	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("calloc");
	r->base = base;
	r->dns = dns;
	r->conf = conf;
	r->queue = queue;
	TAILQ_INIT(&r->retired);
	TAILQ_INIT(&r->pool);
	r->cur = pset_new(r, profiles);
	fallback_load(r);
	update_active(r);
	queue_load(r);
	return r;
}

void
router_free(struct router *r)
{
	struct pset	*ps;

	pool_free_all(r);
	queue_free_all(r);
	while ((ps = TAILQ_FIRST(&r->retired)) != NULL) {
		TAILQ_REMOVE(&r->retired, ps, entry);
		pset_free(ps);
	}
	pset_free(r->cur);
	free(r->manual);
	free(r);
}

/* ---- health ------------------------------------------------------------- */

int
router_upstream_down(struct router *r, const struct profile *p,
    const char **why)
{
	struct route	*rt = route_find(r, p);

	if (rt == NULL || rt->health != HEALTH_DOWN ||
	    time(NULL) >= rt->down_until)
		return 0;
	*why = rt->last_error;
	return 1;
}

void
router_note_failure(struct router *r, const struct profile *p,
    enum smtp_client_fail class, const char *reason)
{
	struct route	*rt = route_find(r, p);

	if (rt == NULL)
		return;
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
	struct route	*rt = route_find(r, p);

	if (rt == NULL)
		return;
	rt->health = HEALTH_OK;
	rt->down_until = 0;
	rt->last_error[0] = '\0';
	snprintf(rt->tls_version, sizeof(rt->tls_version), "%s", tls_version);
}

void
router_note_sent(struct router *r, const char *id, const struct profile *p,
    const char *upstream)
{
	router_event(r, "sent", json_pack("{s:s, s:s, s:s}", "id", id,
	    "profile", p->name, "upstream", upstream));
}

/* ---- control commands ------------------------------------------------- */

static json_t *
profile_upstream_json(const struct profile *p)
{
	char	where[300];

	snprintf(where, sizeof(where), strchr(p->host, ':') ? "[%s]:%u" :
	    "%s:%u", p->host, p->port);
	return json_string(where);
}

json_t *
router_status_json(struct router *r)
{
	const struct profile	*p = r->active, *via;
	json_t			*listen, *prof = json_null(), *up;
	size_t			 i, queued = 0, failed = 0;

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
	if (p != NULL) {
		struct route	*rt;

		via = fallback_remembered(r, p);
		rt = route_find(r, via);
		prof = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s?}", "name",
		    p->name, "upstream", profile_upstream_json(via), "tls",
		    tls_mode_name(via->tls), "auth", auth_choice_name(via->auth),
		    "reason", r->reason, "via", via != p ? via->name : NULL);
		json_decref(up);
		up = json_pack("{s:s, s:o, s:o}", "state",
		    health_names[rt->health], "last_error",
		    rt->last_error[0] ? json_string(rt->last_error) :
		    json_null(), "tls_version", rt->tls_version[0] ?
		    json_string(rt->tls_version) : json_null());
	}
	return json_pack("{s:b, s:s, s:i, s:o, s:o, s:s, s:s?, s:o, s:o, "
	    "s:{s:i, s:i}}", "ok", 1, "version", ROAMSMTP_VERSION, "pid",
	    (int)getpid(), "listen", listen, "profile", prof, "reason",
	    r->reason, "manual", r->manual, "network", r->have_facts ?
	    netfacts_to_json(&r->facts) : json_null(), "upstream", up,
	    "queue", "queued", (int)queued, "failed", (int)failed);
}

json_t *
router_profiles_json(struct router *r)
{
	static const struct net_facts	 none;
	const struct net_facts		*f = r->have_facts ? &r->facts : &none;
	json_t				*a = json_array();
	char				 why[512];
	size_t				 i;
	int				 score, m;

	for (i = 0; i < r->cur->set.n; i++) {
		const struct profile	*p = r->cur->set.v[i];

		m = profile_matches(p, f, &score, why, sizeof(why));
		json_array_append_new(a, json_pack("{s:s, s:o, s:b, s:i, s:b, "
		    "s:i, s:s, s:b, s:s?}", "name", p->name, "upstream",
		    profile_upstream_json(p), "default", p->is_default,
		    "priority", p->priority, "matches", m, "score",
		    m ? score : 0, "why", why, "active", p == r->active,
		    "fallback", p->fallback));
	}
	return json_pack("{s:b, s:s?, s:s?, s:s, s:o}", "ok", 1, "active",
	    r->active ? r->active->name : NULL, "manual", r->manual,
	    "reason", r->reason, "profiles", a);
}

json_t *
router_use(struct router *r, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return control_error("use needs a profile name, or auto");
	/* A refused choice changes nothing. */
	if (strcmp(name, "auto") != 0 &&
	    profile_set_find(&r->cur->set, name) == NULL)
		return control_error("no profile named '%.64s'; list them "
		    "with: roamsmtpctl profiles", name);
	free(r->manual);
	r->manual = NULL;
	if (strcmp(name, "auto") != 0 && (r->manual = strdup(name)) == NULL)
		fatal("strdup");
	log_info("router use %s", r->manual ? r->manual : "auto");
	update_active(r);
	if (r->active != NULL) {
		queue_flush_all(r);
		queue_run(r);
	}
	return json_pack("{s:b, s:s?, s:s?, s:s}", "ok", 1, "active",
	    r->active ? r->active->name : NULL, "manual", r->manual,
	    "reason", r->reason);
}

json_t *
router_reload(struct router *r)
{
	struct profile_set	 set = { NULL, 0 };
	struct pset		*old;
	struct diag		 d;
	char			 msg[2048];
	size_t			 i, n = 0;
	json_t			*reply;

	diag_init(&d);
	if (profile_set_load(r->conf->profiles_dir, &set, &d) == -1 ||
	    d.nerrors > 0) {
		for (i = 0; i < d.n && n < sizeof(msg) - 1; i++)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%s",
			    i ? "; " : "", d.msgs[i]);
		log_warnx("router reload refused: %s", msg);
		reply = control_error("%s; kept the previous configuration",
		    msg);
		profile_set_free(&set);
		diag_free(&d);
		return reply;
	}
	for (i = 0; i < d.n; i++)
		log_warnx("%s", d.msgs[i]);
	diag_free(&d);

	/* The old generation lives on while sessions use it. */
	old = r->cur;
	TAILQ_INSERT_TAIL(&r->retired, old, entry);
	r->cur = pset_new(r, &set);
	pool_flush(r);
	router_release(r, old);
	if (r->manual && profile_set_find(&r->cur->set, r->manual) == NULL) {
		log_warnx("router reload: the chosen profile %s is gone; "
		    "back to automatic", r->manual);
		free(r->manual);
		r->manual = NULL;
	}
	r->active = NULL;
	update_active(r);
	log_info("router reloaded profiles=%zu generation=%u", r->cur->set.n,
	    r->cur->generation);
	if (r->active != NULL) {
		queue_flush_all(r);
		queue_run(r);
	}
	return json_pack("{s:b, s:i}", "ok", 1, "profiles",
	    (int)r->cur->set.n);
}
