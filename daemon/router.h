/*
 * router.h - where mail goes.  The router owns the profiles, the pool of
 * idle upstream sessions, each upstream's health, and the queue runner that
 * retries queued messages with jittered backoff.  The SMTP server asks it
 * which profile is active and for an upstream session; the control socket
 * asks it for status and to flush, retry or delete.
 */
#ifndef ROAMSMTP_ROUTER_H
#define ROAMSMTP_ROUTER_H

#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>

#include "conf.h"
#include "profile.h"
#include "queue.h"
#include "smtp_client.h"

/* How long an upstream that just failed is skipped by new sessions (their
 * mail goes to the queue at once instead of waiting on a dead server). */
#define UPSTREAM_DOWN_HOLD	30
/* Queue deliveries at once; more would only compete for one uplink. */
#define QUEUE_PARALLEL		4

struct router;
struct upstream_req;

struct router	*router_new(struct event_base *, struct evdns_base *,
		    const struct daemon_conf *, struct profile_set *,
		    struct queue *);
void		 router_free(struct router *);

/*
 * The profile mail goes by now, or NULL; *reason says why, for logs and
 * status.  (The network watcher replaces the inside of this function.)
 */
const struct profile *router_choose(struct router *, const char **reason);

/* Is this profile's upstream known to be unreachable right now? */
int		 router_upstream_down(struct router *, const struct profile *,
		    const char **why);

/* An idle authenticated session to this profile's upstream, or NULL. */
struct smtp_client *router_take_idle(struct router *, const struct profile *);

typedef void (*router_upstream_cb)(struct smtp_client *,
    enum smtp_client_fail, const char *reason, void *arg);
/*
 * Open a new session for the profile.  cb runs once, from the loop, with a
 * ready client (now the caller's: set its callbacks) or NULL and why.  NULL
 * return with a reason in err when it cannot even start (no password...).
 */
struct upstream_req *router_connect(struct router *, const struct profile *,
		    router_upstream_cb, void *arg, char *err, size_t errlen);
void		 router_cancel(struct upstream_req *);

/* Give back a session after a transaction: kept for reuse when idle. */
void		 router_put_upstream(struct router *, const struct profile *,
		    struct smtp_client *);
/* Record an upstream's health, for the down hold and for status. */
void		 router_note_failure(struct router *, const struct profile *,
		    enum smtp_client_fail, const char *reason);
void		 router_note_ok(struct router *, const struct profile *,
		    const char *tls_version);

/* A message was committed to the queue; the router takes m. */
void		 router_queued(struct router *, struct qmsg *m);

/* Control commands: each returns a reply object for the control socket. */
json_t		*router_status_json(struct router *);
json_t		*router_queue_json(struct router *);
json_t		*router_flush(struct router *);
json_t		*router_retry(struct router *, const char *id);
json_t		*router_delete(struct router *, const char *id);

/* Jittered exponential backoff after attempt n (1-based): 1, 2, 4 ... 60
 * minutes, +-20%; rnd is a random 32-bit value. Pure, unit-tested. */
unsigned	 backoff_delay(unsigned attempts, uint32_t rnd);

#endif
