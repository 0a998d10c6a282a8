/*
 * router_priv.h - what router.c, router_upstream.c and router_queue.c
 * share.  Not for other files.
 */
#ifndef ROAMSMTP_ROUTER_PRIV_H
#define ROAMSMTP_ROUTER_PRIV_H

#include <sys/queue.h>

#include <openssl/ssl.h>

#include "deliver.h"
#include "router.h"

/* Idle sessions kept per profile: one per concurrent client is plenty. */
#define POOL_MAX_PER_PROFILE	16

enum upstream_health {
	HEALTH_UNKNOWN,
	HEALTH_OK,
	HEALTH_DOWN,
};

/* What the router keeps per profile. */
struct route {
	const struct profile	*profile;
	SSL_CTX			*ssl_ctx;
	char			*password;
	enum upstream_health	 health;
	time_t			 down_until;
	char			 last_error[512];
	char			 tls_version[16];
	/* POP-before-SMTP: when the last good login ended (CLOCK_BOOTTIME
	 * seconds, so a suspend counts; 0: none on this network), and the
	 * login under way, which every session needing one waits for. */
	double			 pop_ok;
	struct pop_login	*pop_busy;
};

struct pop_login;

struct pset {
	TAILQ_ENTRY(pset)	 entry;
	struct profile_set	 set;
	struct route		*routes;	/* one per profile */
	unsigned		 refs;		/* the router's own counts */
	unsigned		 generation;
};

struct pooled {
	TAILQ_ENTRY(pooled)	 entry;
	struct router		*router;
	struct pset		*pset;		/* held */
	const struct profile	*profile;
	struct smtp_client	*c;
	struct event		*expire;
};

struct qentry {
	struct router		*router;
	struct qmsg		*m;
	struct pset		*pset;		/* held during an attempt */
	const struct profile	*profile;	/* the one used */
	struct upstream_req	*req;
	struct delivery		*d;
	int			 busy;
	int			 force;		/* send even when metered */
	double			 t_start;
};

/* Which link of a profile's fallback chain worked on which network. */
struct fallback_memory {
	char	netkey[64];
	char	profile[PROFILE_NAME_MAX + 1];
	char	use[PROFILE_NAME_MAX + 1];
	time_t	when;
};

struct router {
	struct event_base		*base;
	struct evdns_base		*dns;
	const struct daemon_conf	*conf;
	struct queue			*queue;

	struct pset			*cur;
	TAILQ_HEAD(, pset)		 retired;
	unsigned			 generation;

	struct net_facts		 facts;
	int				 have_facts;
	char				*manual;	/* NULL: automatic */
	const struct profile		*active;
	char				 reason[512];

	struct fallback_memory		 memory[FALLBACK_MEMORY_MAX];

	TAILQ_HEAD(, pooled)		 pool;

	struct qentry			**q;
	size_t				 nq;
	unsigned			 inflight;
	struct event			*qtimer;
	struct event			*housekeep;	/* expiry, warnings */

	/* host = auto: the SRV resolver, made when first needed */
	struct discover			*discover;

	void				(*event_cb)(json_t *, void *);
	void				*event_arg;
};

/* router.c */
struct route	*route_find(struct router *, const struct profile *);
void		 router_event(struct router *, const char *name, json_t *body);
const char	*router_netkey(struct router *, char *buf, size_t len);
const struct profile *fallback_remembered(struct router *,
		    const struct profile *);
void		 fallback_remember(struct router *, const struct profile *from,
		    const struct profile *used);

/* router_upstream.c */
void		 pool_flush(struct router *);
void		 pool_free_all(struct router *);
/*
 * A delivery_relogin_cb (deliver.h) for a queue entry (arg): a recipient
 * was refused for good on a POP-before-SMTP profile; log in once more
 * (router_pop_relogin) and resume the delivery.  -1 when no login is worth
 * trying; the refusal then stands.
 */
int		 router_delivery_relogin(struct delivery *,
		    struct smtp_client *, void *arg);

/* router_queue.c */
void		 queue_load(struct router *);
void		 queue_run(struct router *);
void		 queue_schedule(struct router *);
void		 queue_free_all(struct router *);
void		 queue_flush_all(struct router *);

#endif
