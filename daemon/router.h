/*
 * router.h - where mail goes.
 *
 * The router owns the profiles (reloadable), the latest network facts and
 * the user's manual choice, and from them the active profile; the pool of
 * idle upstream sessions and each upstream's health; the fallback chains and
 * which link of a chain worked on which network; and the queue runner that
 * retries queued messages with jittered backoff.  The SMTP server asks it
 * which profile is active and for an upstream session; the network watcher
 * tells it where the laptop is; the control socket asks it for status and to
 * flush, retry, delete, use a profile or reload.
 *
 * Files: router.c (profiles, facts, choice, reload, events, control),
 * router_upstream.c (sessions, pool, fallback), router_queue.c (the queue
 * runner).  They share router_priv.h.
 */
#ifndef ROAMSMTP_ROUTER_H
#define ROAMSMTP_ROUTER_H

#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>

#include "conf.h"
#include "netfacts.h"
#include "profile.h"
#include "queue.h"
#include "smtp_client.h"

/* How long an upstream that just failed is skipped by new sessions (their
 * mail goes to the queue at once instead of waiting on a dead server). */
#define UPSTREAM_DOWN_HOLD	30
/* Queue deliveries at once; more would only compete for one uplink. */
#define QUEUE_PARALLEL		4
/* A relay refusal this soon (seconds) after a POP login is not the
 * window's doing: another login would not help, and every refused
 * recipient would cost one. */
#define POP_RELOGIN_FRESH	2
/* Networks whose working fallback is remembered (oldest forgotten). */
#define FALLBACK_MEMORY_MAX	64

struct router;
struct upstream_req;
/* A generation of profiles: held by whoever uses one of its profiles, so
 * that a reload never frees a profile under a session. */
struct pset;

/* Takes the profiles (*profiles is emptied). */
struct router	*router_new(struct event_base *, struct evdns_base *,
		    const struct daemon_conf *, struct profile_set *profiles,
		    struct queue *);
void		 router_free(struct router *);

/* Events for watchers ({"event": ...}); cb must not keep ev. */
void		 router_set_event_cb(struct router *,
		    void (*cb)(json_t *ev, void *), void *arg);

/*
 * The profile mail goes by now, or NULL (offline, behind a captive portal,
 * nothing matches); *reason says why, for logs and status.  The profile
 * belongs to the current pset: hold it (router_hold) while using it past
 * this callback.
 */
const struct profile *router_choose(struct router *, const char **reason);
struct pset	*router_hold(struct router *);
void		 router_release(struct router *, struct pset *);

/* On a metered network, the size above which mail waits; 0 otherwise. */
uint64_t	 router_metered_limit(struct router *);

/* Is this profile's upstream known to be unreachable right now? */
int		 router_upstream_down(struct router *, const struct profile *,
		    const char **why);

/*
 * An idle authenticated session for this profile (or the fallback that
 * worked on this network), or NULL.  *used is the profile it belongs to.
 */
struct smtp_client *router_take_idle(struct router *, const struct profile *,
		    const struct profile **used);

/*
 * Open a new session for the profile, walking its fallback chain when an
 * upstream can't be reached (from the link that worked here last time).
 * cb runs once, from the loop, with a ready client (now the caller's: set
 * its callbacks) and the profile it belongs to, or NULL and why.  NULL
 * return with a reason in err when it cannot even start (no password...).
 *
 * sender is the envelope sender ("" for the null sender): host = auto with
 * discover = srv looks up its domain's submission server (else the domain
 * of the profile's envelope-from or user).  A POP-before-SMTP profile whose
 * window may have run out logs in to POP3 first; a failed POP login fails
 * the link like an unreachable upstream, with the POP error as the reason.
 * After such a login, or a discovery, an idle pooled session to the same
 * server is taken instead of opening a new one.
 */
typedef void (*router_upstream_cb)(struct smtp_client *,
    const struct profile *used, enum smtp_client_fail, const char *reason,
    void *arg);
struct upstream_req *router_connect(struct router *, const struct profile *,
		    const char *sender, router_upstream_cb, void *arg,
		    char *err, size_t errlen);
/* Also ends a router_pop_relogin() (the session it held is freed). */
void		 router_cancel(struct upstream_req *);

/*
 * POP-before-SMTP: the upstream refused to relay on c, a session of
 * profile p (which has [pop-before-smtp]): log in to POP3 once more,
 * whatever the window says, then give c back.  The router holds c
 * meanwhile.  cb runs once, from the loop: with c and reason NULL after a
 * good login, with c and the POP error after a failed one, or with NULL
 * (and why) when c died meanwhile.  Returns NULL with a reason in err, c
 * still the caller's, when no login is worth trying: p has no POP
 * section, or a login ended less than POP_RELOGIN_FRESH seconds ago (the
 * refusal is then not the window's doing).
 */
struct upstream_req *router_pop_relogin(struct router *,
		    const struct profile *p, struct smtp_client *c,
		    router_upstream_cb cb, void *arg, char *err, size_t errlen);

/* Give back a session after a transaction: kept for reuse when idle. */
void		 router_put_upstream(struct router *, const struct profile *,
		    struct smtp_client *);
/* Record an upstream's health, for the down hold and for status. */
void		 router_note_failure(struct router *, const struct profile *,
		    enum smtp_client_fail, const char *reason);
void		 router_note_ok(struct router *, const struct profile *,
		    const char *tls_version);
/* A message went out on the online path (for watchers). */
void		 router_note_sent(struct router *, const char *id,
		    const struct profile *, const char *upstream);

/* A message was committed to the queue; the router takes m. */
void		 router_queued(struct router *, struct qmsg *m);

/* The network watcher's news. */
void		 router_set_facts(struct router *, const struct net_facts *);

/* Control commands: each returns a reply object for the control socket. */
json_t		*router_status_json(struct router *);
json_t		*router_queue_json(struct router *);
json_t		*router_profiles_json(struct router *);
json_t		*router_flush(struct router *);
json_t		*router_retry(struct router *, const char *id);
json_t		*router_delete(struct router *, const char *id);
json_t		*router_use(struct router *, const char *name);
json_t		*router_reload(struct router *);

/* Jittered exponential backoff after attempt n (1-based): 1, 2, 4 ... 60
 * minutes, +-20%; rnd is a random 32-bit value. Pure, unit-tested. */
unsigned	 backoff_delay(unsigned attempts, uint32_t rnd);

#endif
