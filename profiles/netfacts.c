/* netfacts.c - see netfacts.h. */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "netfacts.h"

/* A prefix length no address family goes beyond (IPv6). */
#define NETFACTS_PREFIX_MAX	128
/* Where an error is, "connections[N].", for any size_t N. */
#define WHERE_MAX		48

static const char *const conn_names[] = {
	[NETCONN_UNKNOWN] = "unknown",
	[NETCONN_NONE] = "none",
	[NETCONN_PORTAL] = "portal",
	[NETCONN_LIMITED] = "limited",
	[NETCONN_FULL] = "full",
};
#define NCONN_NAMES	(sizeof(conn_names) / sizeof(conn_names[0]))

const char *
net_connectivity_name(enum net_connectivity c)
{
	if ((size_t)c < NCONN_NAMES)
		return conn_names[c];
	return "unknown";
}

int
net_connectivity_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < NCONN_NAMES; i++)
		if (strcmp(s, conn_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- to JSON ----------------------------------------------------------- */

static void
set_str(json_t *o, const char *key, const char *value)
{
	json_object_set_new(o, key, json_string(value));
}

json_t *
netfacts_to_json(const struct net_facts *f)
{
	json_t	*o, *a, *e;
	size_t	 i;

	if ((o = json_object()) == NULL)
		return NULL;
	set_str(o, "backend", f->backend);

	a = json_array();
	for (i = 0; i < f->nconn && i < NETFACTS_CONN_MAX; i++) {
		e = json_object();
		set_str(e, "id", f->conn[i].id);
		set_str(e, "uuid", f->conn[i].uuid);
		set_str(e, "type", f->conn[i].type);
		json_object_set_new(e, "vpn", json_boolean(f->conn[i].vpn));
		json_object_set_new(e, "primary",
		    json_boolean(f->conn[i].primary));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "connections", a);

	set_str(o, "ssid", f->ssid);
	set_str(o, "bssid", f->bssid);

	a = json_array();
	for (i = 0; i < f->ngw && i < NETFACTS_GW_MAX; i++) {
		e = json_object();
		set_str(e, "addr", f->gw[i].addr);
		set_str(e, "mac", f->gw[i].mac);
		set_str(e, "ifname", f->gw[i].ifname);
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "gateways", a);

	a = json_array();
	for (i = 0; i < f->naddr && i < NETFACTS_ADDR_MAX; i++) {
		e = json_object();
		set_str(e, "addr", f->addr[i].addr);
		json_object_set_new(e, "prefixlen",
		    json_integer(f->addr[i].prefixlen));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "addresses", a);

	a = json_array();
	for (i = 0; i < f->ndns && i < NETFACTS_DNS_MAX; i++)
		json_array_append_new(a, json_string(f->dns[i]));
	json_object_set_new(o, "dns", a);

	set_str(o, "connectivity", net_connectivity_name(f->connectivity));
	json_object_set_new(o, "metered", json_boolean(f->metered));
	return o;
}

/* ---- from JSON --------------------------------------------------------- */

/*
 * Every member is optional (absent means empty, false or unknown); every
 * member present must have the right type and fit its bounds, and no other
 * member may be there: a new member is a new NETFACTS_VERSION.
 */

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Copy the string member key of o (if present) into buf[len]. */
static int
get_str(json_t *o, const char *where, const char *key, char *buf, size_t len,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);
	size_t	 n;

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return fail(err, errlen, "%s%s: not a string", where, key);
	n = json_string_length(v);
	if (strlen(json_string_value(v)) != n)
		return fail(err, errlen, "%s%s: holds a NUL byte", where, key);
	if (n >= len)
		return fail(err, errlen, "%s%s: longer than %zu bytes", where,
		    key, len - 1);
	memcpy(buf, json_string_value(v), n + 1);
	return 0;
}

static int
get_bool(json_t *o, const char *where, const char *key, int *out, char *err,
    size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return fail(err, errlen, "%s%s: not true or false", where, key);
	*out = json_is_true(v);
	return 0;
}

/* The array member key of o, at most max long, or NULL when absent. */
static int
get_array(json_t *o, const char *key, size_t max, json_t **out, char *err,
    size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return fail(err, errlen, "%s: not an array", key);
	if (json_array_size(v) > max)
		return fail(err, errlen, "%s: more than %zu entries", key, max);
	*out = v;
	return 0;
}

static int
only_keys(json_t *o, const char *where, const char *const *known, char *err,
    size_t errlen)
{
	const char	*key, *const *k;
	json_t		*v;
	size_t		 wlen = strlen(where);

	if (!json_is_object(o) && wlen == 0)
		return fail(err, errlen, "not an object");
	if (!json_is_object(o))		/* "connections[0]." */
		return fail(err, errlen, "%.*s: not an object",
		    (int)wlen - 1, where);
	json_object_foreach(o, key, v) {
		for (k = known; *k != NULL; k++)
			if (strcmp(key, *k) == 0)
				break;
		if (*k == NULL)
			return fail(err, errlen, "%s%s: unknown member", where,
			    key);
	}
	return 0;
}

/* "aa:bb:cc:dd:ee:ff" (either case), or "". */
static int
valid_mac(const char *s)
{
	size_t	i;

	if (*s == '\0')
		return 1;
	if (strlen(s) != 17)
		return 0;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* An IPv4 or IPv6 address; returns its family, or 0. */
static int
addr_family(const char *s)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, s, buf) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return AF_INET6;
	return 0;
}

static int
conn_from_json(json_t *e, size_t i, struct net_connection *c, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "id", "uuid", "type", "vpn",
	    "primary", NULL };
	char	where[WHERE_MAX];

	snprintf(where, sizeof(where), "connections[%zu].", i);
	if (only_keys(e, where, keys, err, errlen) == -1 ||
	    get_str(e, where, "id", c->id, sizeof(c->id), err, errlen) == -1 ||
	    get_str(e, where, "uuid", c->uuid, sizeof(c->uuid), err,
	    errlen) == -1 ||
	    get_str(e, where, "type", c->type, sizeof(c->type), err,
	    errlen) == -1 ||
	    get_bool(e, where, "vpn", &c->vpn, err, errlen) == -1 ||
	    get_bool(e, where, "primary", &c->primary, err, errlen) == -1)
		return -1;
	return 0;
}

static int
gw_from_json(json_t *e, size_t i, struct net_gateway *g, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "addr", "mac", "ifname", NULL };
	char	where[WHERE_MAX];

	snprintf(where, sizeof(where), "gateways[%zu].", i);
	if (only_keys(e, where, keys, err, errlen) == -1 ||
	    get_str(e, where, "addr", g->addr, sizeof(g->addr), err,
	    errlen) == -1 ||
	    get_str(e, where, "mac", g->mac, sizeof(g->mac), err,
	    errlen) == -1 ||
	    get_str(e, where, "ifname", g->ifname, sizeof(g->ifname), err,
	    errlen) == -1)
		return -1;
	if (addr_family(g->addr) == 0)
		return fail(err, errlen, "%saddr: '%s' is not an IP address",
		    where, g->addr);
	if (!valid_mac(g->mac))
		return fail(err, errlen, "%smac: '%s' is not a MAC address",
		    where, g->mac);
	return 0;
}

static int
addr_from_json(json_t *e, size_t i, struct net_addr *a, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "addr", "prefixlen", NULL };
	char		 where[WHERE_MAX];
	json_t		*v;
	json_int_t	 n;
	int		 af;

	snprintf(where, sizeof(where), "addresses[%zu].", i);
	if (only_keys(e, where, keys, err, errlen) == -1 ||
	    get_str(e, where, "addr", a->addr, sizeof(a->addr), err,
	    errlen) == -1)
		return -1;
	if ((af = addr_family(a->addr)) == 0)
		return fail(err, errlen, "%saddr: '%s' is not an IP address",
		    where, a->addr);
	if ((v = json_object_get(e, "prefixlen")) == NULL)
		return fail(err, errlen, "%sprefixlen: missing", where);
	if (!json_is_integer(v))
		return fail(err, errlen, "%sprefixlen: not a number", where);
	n = json_integer_value(v);
	if (n < 0 || n > (af == AF_INET ? 32 : NETFACTS_PREFIX_MAX))
		return fail(err, errlen, "%sprefixlen: %lld is out of range",
		    where, (long long)n);
	a->prefixlen = (unsigned)n;
	return 0;
}

static int
arrays_from_json(json_t *o, struct net_facts *f, char *err, size_t errlen)
{
	json_t	*a, *e;
	size_t	 i;

	if (get_array(o, "connections", NETFACTS_CONN_MAX, &a, err,
	    errlen) == -1)
		return -1;
	json_array_foreach(a, i, e)
		if (conn_from_json(e, i, &f->conn[f->nconn++], err,
		    errlen) == -1)
			return -1;

	if (get_array(o, "gateways", NETFACTS_GW_MAX, &a, err, errlen) == -1)
		return -1;
	json_array_foreach(a, i, e)
		if (gw_from_json(e, i, &f->gw[f->ngw++], err, errlen) == -1)
			return -1;

	if (get_array(o, "addresses", NETFACTS_ADDR_MAX, &a, err,
	    errlen) == -1)
		return -1;
	json_array_foreach(a, i, e)
		if (addr_from_json(e, i, &f->addr[f->naddr++], err,
		    errlen) == -1)
			return -1;

	if (get_array(o, "dns", NETFACTS_DNS_MAX, &a, err, errlen) == -1)
		return -1;
	json_array_foreach(a, i, e) {
		char	where[WHERE_MAX];

		snprintf(where, sizeof(where), "dns[%zu]", i);
		if (!json_is_string(e))
			return fail(err, errlen, "%s: not a string", where);
		if (strlen(json_string_value(e)) != json_string_length(e))
			return fail(err, errlen, "%s: holds a NUL byte", where);
		if (json_string_length(e) >= NETFACTS_NAME_MAX)
			return fail(err, errlen, "%s: longer than %d bytes",
			    where, NETFACTS_NAME_MAX - 1);
		memcpy(f->dns[f->ndns++], json_string_value(e),
		    json_string_length(e) + 1);
	}
	return 0;
}

int
netfacts_from_json(json_t *o, struct net_facts *f, char *err, size_t errlen)
{
	static const char *const keys[] = { "backend", "connections", "ssid",
	    "bssid", "gateways", "addresses", "dns", "connectivity", "metered",
	    NULL };
	json_t	*v;
	int	 c;

	memset(f, 0, sizeof(*f));
	if (only_keys(o, "", keys, err, errlen) == -1 ||
	    get_str(o, "", "backend", f->backend, sizeof(f->backend), err,
	    errlen) == -1 ||
	    get_str(o, "", "ssid", f->ssid, sizeof(f->ssid), err,
	    errlen) == -1 ||
	    get_str(o, "", "bssid", f->bssid, sizeof(f->bssid), err,
	    errlen) == -1 ||
	    get_bool(o, "", "metered", &f->metered, err, errlen) == -1)
		goto bad;
	if (!valid_mac(f->bssid)) {
		fail(err, errlen, "bssid: '%s' is not a MAC address", f->bssid);
		goto bad;
	}
	if ((v = json_object_get(o, "connectivity")) != NULL) {
		if (!json_is_string(v) ||
		    (c = net_connectivity_parse(json_string_value(v))) == -1) {
			fail(err, errlen, "connectivity: not one of none, "
			    "portal, limited, full, unknown");
			goto bad;
		}
		f->connectivity = (enum net_connectivity)c;
	}
	if (arrays_from_json(o, f, err, errlen) == -1)
		goto bad;
	return 0;
bad:
	memset(f, 0, sizeof(*f));
	return -1;
}

/* ---- comparing --------------------------------------------------------- */

static int
conn_eq(const void *a, const void *b)
{
	const struct net_connection *x = a, *y = b;

	return strcmp(x->id, y->id) == 0 && strcmp(x->uuid, y->uuid) == 0 &&
	    strcmp(x->type, y->type) == 0 && !x->vpn == !y->vpn &&
	    !x->primary == !y->primary;
}

static int
gw_eq(const void *a, const void *b)
{
	const struct net_gateway *x = a, *y = b;

	return strcmp(x->addr, y->addr) == 0 &&
	    strcasecmp(x->mac, y->mac) == 0 &&
	    strcmp(x->ifname, y->ifname) == 0;
}

static int
addr_eq(const void *a, const void *b)
{
	const struct net_addr *x = a, *y = b;

	return strcmp(x->addr, y->addr) == 0 && x->prefixlen == y->prefixlen;
}

static int
dns_eq(const void *a, const void *b)
{
	return strcasecmp(a, b) == 0;
}

/*
 * The same entries in any order: NetworkManager and the kernel list them
 * in an order that can change while nothing else does.  The arrays are
 * small (NETFACTS_*_MAX), so a quadratic match is fine.
 */
static int
same_entries(const void *a, size_t na, const void *b, size_t nb, size_t size,
    int (*eq)(const void *, const void *))
{
	unsigned char	used[NETFACTS_ADDR_MAX];	/* the longest */
	size_t		i, j;

	if (na != nb)
		return 0;
	if (na > sizeof(used))
		return 0;	/* not a snapshot: past its bounds */
	memset(used, 0, sizeof(used));
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (!used[j] && eq((const char *)a + i * size,
			    (const char *)b + j * size))
				break;
		if (j == nb)
			return 0;
		used[j] = 1;
	}
	return 1;
}

int
netfacts_equal(const struct net_facts *a, const struct net_facts *b)
{
	return strcmp(a->ssid, b->ssid) == 0 &&
	    strcasecmp(a->bssid, b->bssid) == 0 &&
	    a->connectivity == b->connectivity &&
	    !a->metered == !b->metered &&
	    same_entries(a->conn, a->nconn, b->conn, b->nconn,
	    sizeof(a->conn[0]), conn_eq) &&
	    same_entries(a->gw, a->ngw, b->gw, b->ngw, sizeof(a->gw[0]),
	    gw_eq) &&
	    same_entries(a->addr, a->naddr, b->addr, b->naddr,
	    sizeof(a->addr[0]), addr_eq) &&
	    same_entries(a->dns, a->ndns, b->dns, b->ndns, sizeof(a->dns[0]),
	    dns_eq);
}

void
netfacts_key(const struct net_facts *f, char *buf, size_t len)
{
	const char	*key = NULL;
	size_t		 i;

	for (i = 0; i < f->nconn && i < NETFACTS_CONN_MAX; i++)
		if (f->conn[i].primary && f->conn[i].uuid[0] != '\0') {
			key = f->conn[i].uuid;
			break;
		}
	if (key == NULL && f->ssid[0] != '\0')
		key = f->ssid;
	if (key == NULL && f->ngw > 0 && f->gw[0].mac[0] != '\0')
		key = f->gw[0].mac;
	if (key == NULL)
		key = "unknown";
	if (len > 0)
		snprintf(buf, len, "%s", key);
}
