/*
 * discover.h - where host = auto sends mail: the upstream found in DNS.
 *
 *   discover = srv            RFC 6186 and RFC 8314: the SRV records of the
 *                             sender's domain, _submissions._tcp (implicit
 *                             TLS) before _submission._tcp (STARTTLS); by
 *                             priority, then weighted at random (RFC 2782);
 *                             a target of "." says the service is not
 *                             offered.
 *   discover = search-domain  a "local ISP relay": smtp.DOMAIN, then
 *                             mail.DOMAIN, for each DNS search domain of the
 *                             network, on the profile's port.  The router
 *                             tries each in turn; the first that greets and
 *                             answers EHLO is used.
 *
 * SRV queries go through c-ares (libevent's evdns has no SRV), run on the
 * daemon's libevent loop.  Targets are addresses for the SMTP client, which
 * resolves them with evdns.  The DNS server is the system's, or one given
 * as "ADDRESS[:PORT]" (for tests: a DNS server on loopback).
 */
#ifndef ROAMSMTP_DISCOVER_H
#define ROAMSMTP_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "profile.h"

/* Targets tried for one message: a domain with more SRV records than this
 * is misconfigured or hostile, and each try may cost a connect timeout. */
#define DISCOVER_TARGETS_MAX	16
/* A DNS name: 253 characters, and the NUL. */
#define DISCOVER_NAME_MAX	256
/* Per DNS query: a laptop must not wait long for a resolver that is gone. */
#define DISCOVER_TIMEOUT_MS	3000
#define DISCOVER_TRIES		2
/* Environment variable naming the DNS server, "ADDRESS[:PORT]", when the
 * daemon's configuration does not (tests). */
#define DISCOVER_SERVER_ENV	"ROAMSMTP_DNS_SERVER"

struct discover_target {
	char		host[DISCOVER_NAME_MAX];
	uint16_t	port;
	enum tls_mode	tls;
};

struct discover_result {
	struct discover_target	t[DISCOVER_TARGETS_MAX];
	size_t			n;
};

/* One SRV record, as the wire gives it (RFC 2782). */
struct discover_srv {
	char		target[DISCOVER_NAME_MAX];	/* "" for "." */
	uint16_t	priority;
	uint16_t	weight;
	uint16_t	port;
};

struct discover;
struct discover_req;

/*
 * The resolver.  server: "ADDRESS[:PORT]" or NULL for the environment's
 * DISCOVER_SERVER_ENV, else the system's (resolv.conf).  dns, when not
 * NULL, is pointed at the same server when one is given, so that the
 * targets found resolve where they were found.  NULL with a reason in err.
 */
struct discover	*discover_new(struct event_base *, struct evdns_base *dns,
		    const char *server, char *err, size_t errlen);
/* Requests still pending never call back; discover_cancel() still frees
 * each of them. */
void		 discover_free(struct discover *);

/*
 * Called once, from the loop: r with r->n >= 1 targets, or NULL and why
 * ("no SRV record for _submissions._tcp.example.net or _submission._tcp.
 * example.net; ...").
 */
typedef void (*discover_cb)(const struct discover_result *r,
    const char *error, void *arg);

/*
 * Look up the submission service of domain.  With require_in_domain, a
 * target outside domain (not domain itself nor a name under it) is left
 * out: TLS then verifies a name the sender's domain vouches for (RFC 6186
 * 6).  NULL when out of memory or domain is not a host name.
 */
struct discover_req *discover_srv(struct discover *, const char *domain,
		    int require_in_domain, discover_cb, void *arg);
/* The callback will not run. */
void		 discover_cancel(struct discover_req *);

/* ---- the pure parts, unit-tested ------------------------------------- */

/*
 * Order SRV records in place for trying (RFC 2782): lower priority first;
 * within a priority, weighted at random with rnd (0 <= rnd() <= UINT32_MAX);
 * records with target "." removed.  Returns how many are left.  When the
 * only record is ".", *not_offered is set.
 */
size_t		 discover_srv_order(struct discover_srv *, size_t n,
		    uint32_t (*rnd)(void *), void *rndarg, int *not_offered);

/*
 * Append the candidates of search-domain discovery to r: smtp.D and mail.D
 * for each domain D (in order, duplicates skipped), with port and tls.
 * Returns how many were added.
 */
size_t		 discover_search_targets(const char *const *domains,
		    size_t ndomains, uint16_t port, enum tls_mode tls,
		    struct discover_result *r);

/* Is name domain itself or a name under it?  Case-insensitive, a final
 * dot ignored. */
int		 discover_in_domain(const char *name, const char *domain);

/* The domain of an address "user@domain" (a pointer into it), or NULL. */
const char	*discover_address_domain(const char *address);

#endif
