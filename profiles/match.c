/* match.c - see match.h. */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "match.h"
#include "netfacts.h"
#include "profile.h"

/* What a profile's why and a choice's reason hold: a line of status
 * output; longer is cut. */
#define WHY_MAX		1024

/* A string being built in a fixed buffer, cut when full. */
struct sbuf {
	char	buf[WHY_MAX];
	size_t	len;
};

static void
sb_add(struct sbuf *, const char *, ...) __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (sb->len >= sizeof(sb->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sizeof(sb->buf) - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		sb->buf[sb->len] = '\0';
	else if ((size_t)n >= sizeof(sb->buf) - sb->len)
		sb->len = sizeof(sb->buf) - 1;
	else
		sb->len += (size_t)n;
}

/* Starts a "key: ..." or "key=..." entry, after a separator if needed. */
static void
sb_entry(struct sbuf *sb, const char *sep)
{
	if (sb->len > 0)
		sb_add(sb, "%s", sep);
}

/* What one key test writes: what matched, and what did not. */
struct why {
	struct sbuf	ok;	/* "ssid=HomeWifi subnet=..." */
	struct sbuf	no;	/* "ssid: want A, have B; ..." */
};

static void
matched(struct why *w, const char *key, const char *value)
{
	sb_entry(&w->ok, " ");
	sb_add(&w->ok, "%s=%s", key, value);
}

/* "key: want " */
static void
want_start(struct why *w, const char *key)
{
	sb_entry(&w->no, "; ");
	sb_add(&w->no, "%s: want ", key);
}

/* "key: want A or B, have " and the caller adds what is there. */
static void
want(struct why *w, const char *key, char *const *values)
{
	size_t	i;

	want_start(w, key);
	for (i = 0; values[i] != NULL; i++)
		sb_add(&w->no, "%s%s", i > 0 ? " or " : "", values[i]);
	sb_add(&w->no, ", have ");
}

/* Lists what is there after want(): "a, b", or "none". */
static void
have(struct why *w, size_t i, const char *value)
{
	sb_add(&w->no, "%s%s", i > 0 ? ", " : "", value);
}

static void
have_none(struct why *w, size_t n)
{
	if (n == 0)
		sb_add(&w->no, "none");
}

static const char *
in_list(char *const *list, const char *s, int (*cmp)(const char *,
    const char *))
{
	for (; *list != NULL; list++)
		if (cmp(*list, s) == 0)
			return *list;
	return NULL;
}

/* ---- one test a key ---------------------------------------------------- */

static int
test_gateway_mac(const struct profile_match *m, const struct net_facts *f,
    struct why *w)
{
	const char	*v;
	size_t		 i;

	for (i = 0; i < f->ngw && i < NETFACTS_GW_MAX; i++)
		if (f->gw[i].mac[0] != '\0' &&
		    (v = in_list(m->gateway_mac, f->gw[i].mac, strcasecmp))) {
			matched(w, "gateway-mac", v);
			return 1;
		}
	want(w, "gateway-mac", m->gateway_mac);
	for (i = 0; i < f->ngw && i < NETFACTS_GW_MAX; i++)
		have(w, i, f->gw[i].mac[0] != '\0' ? f->gw[i].mac : "?");
	have_none(w, f->ngw);
	return 0;
}

static int
test_bssid(const struct profile_match *m, const struct net_facts *f,
    struct why *w)
{
	const char	*v;

	if (f->bssid[0] != '\0' &&
	    (v = in_list(m->bssid, f->bssid, strcasecmp)) != NULL) {
		matched(w, "bssid", v);
		return 1;
	}
	want(w, "bssid", m->bssid);
	have(w, 0, f->bssid[0] != '\0' ? f->bssid : "none");
	return 0;
}

static int
test_ssid(const struct profile_match *m, const struct net_facts *f,
    struct why *w)
{
	const char	*v;

	if (f->ssid[0] != '\0' &&
	    (v = in_list(m->ssid, f->ssid, strcmp)) != NULL) {
		matched(w, "ssid", v);
		return 1;
	}
	want(w, "ssid", m->ssid);
	have(w, 0, f->ssid[0] != '\0' ? f->ssid : "none");
	return 0;
}

static int
test_uuid(const struct profile_match *m, const struct net_facts *f,
    struct why *w)
{
	const char	*v;
	size_t		 i;

	for (i = 0; i < f->nconn && i < NETFACTS_CONN_MAX; i++)
		if ((v = in_list(m->uuid, f->conn[i].uuid, strcasecmp))) {
			matched(w, "uuid", v);
			return 1;
		}
	want(w, "uuid", m->uuid);
	for (i = 0; i < f->nconn && i < NETFACTS_CONN_MAX; i++)
		have(w, i, f->conn[i].uuid);
	have_none(w, f->nconn);
	return 0;
}

static int
test_connection(const struct profile_match *m, const struct net_facts *f,
    struct why *w)
{
	const char	*v;
	size_t		 i;

	for (i = 0; i < f->nconn && i < NETFACTS_CONN_MAX; i++)
		if ((v = in_list(m->connection, f->conn[i].id, strcmp))) {
			matched(w, "connection", v);
			return 1;
		}
	want(w, "connection", m->connection);
	for (i = 0; i < f->nconn && i < NETFACTS_CONN_MAX; i++)
		have(w, i, f->conn[i].id);
	have_none(w, f->nconn);
	return 0;
}

static int
test_vpn(const struct profile_match *m, const struct net_facts *f,
    struct why *w)
{
	const char	*v;
	size_t		 i, n;

	for (i = 0; i < f->nconn && i < NETFACTS_CONN_MAX; i++) {
		if (!f->conn[i].vpn)
			continue;
		if (m->vpn != NULL &&
		    (v = in_list(m->vpn, f->conn[i].id, strcmp)) != NULL) {
			matched(w, "vpn", v);
			return 1;
		}
		if (m->vpn_any) {
			matched(w, "vpn", "yes");
			return 1;
		}
	}
	want_start(w, "vpn");
	for (i = 0; m->vpn != NULL && m->vpn[i] != NULL; i++)
		sb_add(&w->no, "%s%s", i > 0 ? " or " : "", m->vpn[i]);
	if (m->vpn_any)
		sb_add(&w->no, "%sany VPN", m->vpn != NULL ? " or " : "");
	sb_add(&w->no, ", have ");
	for (i = n = 0; i < f->nconn && i < NETFACTS_CONN_MAX; i++)
		if (f->conn[i].vpn)
		have(w, n++, f->conn[i].id);
	if (n == 0)
		sb_add(&w->no, "no VPN");
	return 0;
}

/* Is the address text inside prefix pp? */
static int
in_prefix(const struct profile_prefix *pp, const char *text)
{
	unsigned char	a[sizeof(struct in6_addr)];
	char		buf[INET6_ADDRSTRLEN];
	unsigned	full = pp->len / 8, rest = pp->len % 8;

	/* "fe80::1%wlan0": the zone is not part of the address. */
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(text, "%"), text);
	if (inet_pton(pp->family, buf, a) != 1)
		return 0;
	if (memcmp(a, pp->addr, full) != 0)
		return 0;
	return rest == 0 ||
	    ((a[full] ^ pp->addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

static int
test_subnet(const struct profile_match *m, const struct net_facts *f,
    struct why *w)
{
	char	buf[INET6_ADDRSTRLEN + 4], addr[INET6_ADDRSTRLEN];
	size_t	i, j;

	for (j = 0; j < m->nsubnet; j++)
		for (i = 0; i < f->naddr && i < NETFACTS_ADDR_MAX; i++)
			if (in_prefix(&m->subnet[j], f->addr[i].addr)) {
				inet_ntop(m->subnet[j].family,
				    m->subnet[j].addr, addr, sizeof(addr));
				snprintf(buf, sizeof(buf), "%s/%u", addr,
				    m->subnet[j].len);
				matched(w, "subnet", buf);
				return 1;
			}
	want_start(w, "subnet");
	for (j = 0; j < m->nsubnet; j++) {
		inet_ntop(m->subnet[j].family, m->subnet[j].addr, addr,
		    sizeof(addr));
		sb_add(&w->no, "%s%s/%u", j > 0 ? " or " : "", addr,
		    m->subnet[j].len);
	}
	sb_add(&w->no, ", have ");
	for (i = 0; i < f->naddr && i < NETFACTS_ADDR_MAX; i++)
		have(w, i, f->addr[i].addr);
	have_none(w, f->naddr);
	return 0;
}

/* Is domain (a search domain: any case, maybe with a final dot) the wanted
 * one or under it? */
static int
in_domain(const char *want_domain, const char *domain)
{
	size_t	wl = strlen(want_domain), dl = strlen(domain);

	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (dl == wl)
		return strncasecmp(domain, want_domain, wl) == 0;
	return dl > wl && domain[dl - wl - 1] == '.' &&
	    strncasecmp(domain + dl - wl, want_domain, wl) == 0;
}

static int
test_dns_domain(const struct profile_match *m, const struct net_facts *f,
    struct why *w)
{
	size_t	i, j;

	for (j = 0; m->dns_domain[j] != NULL; j++)
		for (i = 0; i < f->ndns && i < NETFACTS_DNS_MAX; i++)
			if (in_domain(m->dns_domain[j], f->dns[i])) {
				matched(w, "dns-domain", m->dns_domain[j]);
				return 1;
			}
	want(w, "dns-domain", m->dns_domain);
	for (i = 0; i < f->ndns && i < NETFACTS_DNS_MAX; i++)
		have(w, i, f->dns[i]);
	have_none(w, f->ndns);
	return 0;
}

static int
test_connectivity(const struct profile_match *m, const struct net_facts *f,
    struct why *w)
{
	const char	*have_name = net_connectivity_name(f->connectivity);
	int		 c, n = 0;

	if ((unsigned)f->connectivity < 32 &&
	    (m->connectivity & (1u << f->connectivity)) != 0) {
		matched(w, "connectivity", have_name);
		return 1;
	}
	want_start(w, "connectivity");
	for (c = NETCONN_NONE; c <= NETCONN_FULL; c++)
		if (m->connectivity & (1u << c))
			sb_add(&w->no, "%s%s", n++ > 0 ? " or " : "",
			    net_connectivity_name((enum net_connectivity)c));
	sb_add(&w->no, ", have %s", have_name);
	return 0;
}

/* ---- the table --------------------------------------------------------- */

static int
set_gateway_mac(const struct profile_match *m)
{
	return m->gateway_mac != NULL;
}

static int
set_bssid(const struct profile_match *m)
{
	return m->bssid != NULL;
}

static int
set_ssid(const struct profile_match *m)
{
	return m->ssid != NULL;
}

static int
set_uuid(const struct profile_match *m)
{
	return m->uuid != NULL;
}

static int
set_connection(const struct profile_match *m)
{
	return m->connection != NULL;
}

static int
set_vpn(const struct profile_match *m)
{
	return m->vpn != NULL || m->vpn_any;
}

static int
set_subnet(const struct profile_match *m)
{
	return m->nsubnet > 0;
}

static int
set_dns_domain(const struct profile_match *m)
{
	return m->dns_domain != NULL;
}

static int
set_connectivity(const struct profile_match *m)
{
	return m->connectivity != 0;
}

/* Strongest first: that is the order why lists them in. */
static const struct key_test {
	const char	*key;
	int		 weight;
	int		(*is_set)(const struct profile_match *);
	int		(*test)(const struct profile_match *,
			    const struct net_facts *, struct why *);
} key_tests[] = {
	{ "gateway-mac", MATCH_W_GATEWAY_MAC, set_gateway_mac,
	    test_gateway_mac },
	{ "bssid", MATCH_W_BSSID, set_bssid, test_bssid },
	{ "ssid", MATCH_W_SSID, set_ssid, test_ssid },
	{ "uuid", MATCH_W_UUID, set_uuid, test_uuid },
	{ "connection", MATCH_W_CONNECTION, set_connection, test_connection },
	{ "vpn", MATCH_W_VPN, set_vpn, test_vpn },
	{ "subnet", MATCH_W_SUBNET, set_subnet, test_subnet },
	{ "dns-domain", MATCH_W_DNS_DOMAIN, set_dns_domain, test_dns_domain },
	{ "connectivity", MATCH_W_CONNECTIVITY, set_connectivity,
	    test_connectivity },
};
#define NKEY_TESTS	(sizeof(key_tests) / sizeof(key_tests[0]))

static void
put(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
put(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

int
profile_matches(const struct profile *p, const struct net_facts *facts,
    int *score, char *why, size_t whylen)
{
	static const struct net_facts	 nothing;
	struct why			 w;
	size_t				 i;
	int				 nset = 0, nfailed = 0, sum = 0;
	int				 dummy;

	if (facts == NULL)
		facts = &nothing;
	if (score == NULL)
		score = &dummy;
	memset(&w, 0, sizeof(w));
	for (i = 0; i < NKEY_TESTS; i++) {
		if (!key_tests[i].is_set(&p->match))
			continue;
		nset++;
		sum += key_tests[i].weight;
		if (!key_tests[i].test(&p->match, facts, &w))
			nfailed++;
	}

	if (nset > 0 && nfailed == 0) {
		*score = sum;
		put(why, whylen, "%s", w.ok.buf);
		return 1;
	}
	if (p->is_default) {
		*score = MATCH_W_DEFAULT;
		if (nset == 0)
			put(why, whylen, "default profile");
		else
			put(why, whylen, "default profile (%s)", w.no.buf);
		return 1;
	}
	*score = 0;
	if (nset == 0)
		put(why, whylen, "no network keys: chosen only by hand");
	else
		put(why, whylen, "%s", w.no.buf);
	return 0;
}

/* Does a (score sa) go before b (score sb)? */
static int
better(const struct profile *a, int sa, const struct profile *b, int sb)
{
	if (sa != sb)
		return sa > sb;
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return strcmp(a->name, b->name) < 0;
}

const struct profile *
profile_choose(const struct profile_set *set, const struct net_facts *facts,
    const char *manual, char *reason, size_t reasonlen)
{
	const struct profile	*p, *best = NULL;
	char			 why[WHY_MAX], best_why[WHY_MAX];
	char			 tail[PROFILE_NAME_MAX + 64];
	int			 score, best_score = 0;
	size_t			 i;

	tail[0] = '\0';
	if (manual != NULL) {
		if ((p = profile_set_find(set, manual)) != NULL) {
			put(reason, reasonlen, "manual choice");
			return p;
		}
		snprintf(tail, sizeof(tail), "; manual choice '%.*s' is not a "
		    "profile", PROFILE_NAME_MAX, manual);
	}
	for (i = 0; i < set->n; i++) {
		p = set->v[i];
		if (!profile_matches(p, facts, &score, why, sizeof(why)))
			continue;
		if (best == NULL || better(p, score, best, best_score)) {
			best = p;
			best_score = score;
			memcpy(best_why, why, sizeof(why));
		}
	}
	if (best == NULL)
		put(reason, reasonlen, "no profile matches this network%s",
		    tail);
	else if (best_score == MATCH_W_DEFAULT)
		put(reason, reasonlen, "default profile%s", tail);
	else
		put(reason, reasonlen, "matched %s%s", best_why, tail);
	return best;
}
