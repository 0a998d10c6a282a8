/* profile_match.c - the [match] group of a profile file: see profile.h. */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "diag.h"
#include "netfacts.h"
#include "profile.h"
#include "profile_int.h"

/* IEEE 802.11: an SSID is 0 to 32 octets. */
#define SSID_MAX		32
/* RFC 1035 2.3.4: a label is at most 63 octets, a name at most 253 in text
 * form; the facts hold less (NETFACTS_NAME_MAX), and that bound wins. */
#define DNS_LABEL_MAX		63
#define PRIORITY_MIN		(-1000)
#define PRIORITY_MAX		1000

/*
 * Checks one value of a list key, as written; may rewrite it into its
 * normal form (never longer).  0, or -1 after an error.
 */
typedef int (*value_check)(struct pctx *, const char *key, int line,
    char *value);

static int	check_name(struct pctx *, const char *, int, char *);
static int	check_uuid(struct pctx *, const char *, int, char *);
static int	check_ssid(struct pctx *, const char *, int, char *);
static int	check_mac(struct pctx *, const char *, int, char *);
static int	check_domain(struct pctx *, const char *, int, char *);

/* The [match] keys that are plain lists of words. */
static const struct list_key {
	const char	*key;
	size_t		 off;	/* where its char ** is */
	value_check	 check;
} list_keys[] = {
	{ "connection", offsetof(struct profile_match, connection),
	    check_name },
	{ "uuid", offsetof(struct profile_match, uuid), check_uuid },
	{ "ssid", offsetof(struct profile_match, ssid), check_ssid },
	{ "bssid", offsetof(struct profile_match, bssid), check_mac },
	{ "gateway-mac", offsetof(struct profile_match, gateway_mac),
	    check_mac },
	{ "dns-domain", offsetof(struct profile_match, dns_domain),
	    check_domain },
};
#define NLIST_KEYS	(sizeof(list_keys) / sizeof(list_keys[0]))

int
profile_parse_mac(const char *text, char buf[18])
{
	static const char	hex[] = "0123456789abcdef";
	const char		*d1, *d2;
	size_t			 i;
	char			 sep;

	if (strlen(text) != 17)
		return -1;
	sep = text[2];
	if (sep != ':' && sep != '-')
		return -1;
	for (i = 0; i < 6; i++) {
		if (i > 0 && text[i * 3 - 1] != sep)
			return -1;
		/* strlen is 17: no NUL here for strchr to find. */
		d1 = strchr(hex, g_ascii_tolower(text[i * 3]));
		d2 = strchr(hex, g_ascii_tolower(text[i * 3 + 1]));
		if (d1 == NULL || d2 == NULL)
			return -1;
		buf[i * 3] = *d1;
		buf[i * 3 + 1] = *d2;
		buf[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
	return 0;
}

int
profile_parse_prefix(const char *text, struct profile_prefix *pp,
    int *host_bits)
{
	char		 addr[INET6_ADDRSTRLEN];
	const char	*slash = strchr(text, '/');
	guint64		 len;
	unsigned	 max, i, bits;
	unsigned char	 mask;

	memset(pp, 0, sizeof(*pp));
	*host_bits = 0;
	if (slash == NULL || (size_t)(slash - text) >= sizeof(addr))
		return -1;
	memcpy(addr, text, slash - text);
	addr[slash - text] = '\0';
	if (inet_pton(AF_INET, addr, pp->addr) == 1) {
		pp->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, pp->addr) == 1) {
		pp->family = AF_INET6;
		max = 128;
	} else
		return -1;
	/* Digits only: no sign, no blanks, no "0x". */
	if (slash[1] == '\0' || strspn(slash + 1, "0123456789") !=
	    strlen(slash + 1) || !g_ascii_string_to_unsigned(slash + 1, 10, 0,
	    max, &len, NULL))
		return -1;
	pp->len = (unsigned)len;
	for (i = 0; i < max / 8; i++) {
		bits = pp->len > i * 8 ? pp->len - i * 8 : 0;
		mask = bits >= 8 ? 0xff : (unsigned char)(0xff00 >> bits);
		if ((pp->addr[i] & ~mask) != 0)
			*host_bits = 1;
		pp->addr[i] &= mask;
	}
	return 0;
}

int
profile_has_match(const struct profile *p)
{
	const struct profile_match	*m = &p->match;
	size_t				 i;

	for (i = 0; i < NLIST_KEYS; i++)
		if (*(char **const *)((const char *)m + list_keys[i].off) !=
		    NULL)
			return 1;
	return m->nsubnet > 0 || m->vpn != NULL || m->vpn_any ||
	    m->connectivity != 0;
}

void
profile_match_free(struct profile_match *m)
{
	size_t	i;

	for (i = 0; i < NLIST_KEYS; i++)
		g_strfreev(*(char ***)((char *)m + list_keys[i].off));
	g_strfreev(m->vpn);
	g_free(m->subnet);
	memset(m, 0, sizeof(*m));
}

/* ---- values ------------------------------------------------------------ */

static int
check_name(struct pctx *c, const char *key, int line, char *v)
{
	if (strlen(v) >= NETFACTS_NAME_MAX) {
		diag_error(c->d, c->path, line, "match", key, "'%.40s...' is "
		    "longer than %d bytes; no connection name here is that "
		    "long", v, NETFACTS_NAME_MAX - 1);
		return -1;
	}
	return 0;
}

static int
check_uuid(struct pctx *c, const char *key, int line, char *v)
{
	char	*p;

	if (!g_uuid_string_is_valid(v)) {
		diag_error(c->d, c->path, line, "match", key, "'%s' is not a "
		    "uuid; write it as nmcli -f NAME,UUID connection shows it, "
		    "e.g. 0b5a6f3e-8c4d-4a51-9f2e-1d7c3b9a6e40", v);
		return -1;
	}
	for (p = v; *p != '\0'; p++)
		*p = g_ascii_tolower(*p);
	return 0;
}

static int
check_ssid(struct pctx *c, const char *key, int line, char *v)
{
	if (strlen(v) > SSID_MAX) {
		diag_error(c->d, c->path, line, "match", key, "'%s' is longer "
		    "than %d bytes, which no Wi-Fi network name is", v,
		    SSID_MAX);
		return -1;
	}
	return 0;
}

static int
check_mac(struct pctx *c, const char *key, int line, char *v)
{
	char	buf[18];

	if (profile_parse_mac(v, buf) == -1) {
		diag_error(c->d, c->path, line, "match", key, "'%s' is not a "
		    "MAC address; write six pairs of hex digits, e.g. "
		    "aa:bb:cc:dd:ee:ff", v);
		return -1;
	}
	memcpy(v, buf, sizeof(buf));
	return 0;
}

static int
valid_label(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > DNS_LABEL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!g_ascii_isalnum(s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

static int
check_domain(struct pctx *c, const char *key, int line, char *v)
{
	const char	*s, *dot;
	size_t		 len = strlen(v);
	char		*p;

	if (len > 1 && v[len - 1] == '.')
		v[--len] = '\0';	/* "corp.example." is absolute */
	if (v[0] == '.' && v[strspn(v, ".")] != '\0') {
		diag_error(c->d, c->path, line, "match", key, "'%s' is not a "
		    "domain; write %s (it matches its subdomains too)", v,
		    v + strspn(v, "."));
		return -1;
	}
	for (s = v; len < NETFACTS_NAME_MAX; s = dot + 1) {
		dot = strchr(s, '.');
		if (!valid_label(s, dot != NULL ? (size_t)(dot - s) :
		    strlen(s)))
			break;
		if (dot == NULL) {
			for (p = v; *p != '\0'; p++)
				*p = g_ascii_tolower(*p);
			return 0;
		}
	}
	/* Too long, an empty label, or a character no domain has. */
	diag_error(c->d, c->path, line, "match", key, "'%s' is not a domain; "
	    "write a DNS search domain, e.g. corp.example", v);
	return -1;
}

/* ---- keys -------------------------------------------------------------- */

/*
 * The values of a list key, each stripped, empty ones dropped ("a;b;" is
 * GKeyFile's own way to end a list), or NULL when absent or after an error.
 */
static char **
get_list(struct pctx *c, const char *key, int *line)
{
	GError	 *gerr = NULL;
	char	**v, **out;
	gsize	  n, i, k;

	*line = pctx_key_line(c, "match", key);
	if (!g_key_file_has_key(c->kf, "match", key, NULL))
		return NULL;
	v = g_key_file_get_string_list(c->kf, "match", key, &n, &gerr);
	if (v == NULL) {
		diag_error(c->d, c->path, *line, "match", key, "%s; separate "
		    "values with ';', and write \\; for a ';' inside one",
		    gerr != NULL ? gerr->message : "no value");
		g_clear_error(&gerr);
		return NULL;
	}
	out = g_new0(char *, n + 1);
	for (i = k = 0; i < n; i++) {
		g_strstrip(v[i]);
		if (*v[i] == '\0')
			continue;
		if (strstr(v[i], " #") != NULL)
			diag_warning(c->d, c->path, *line, "match", key,
			    "'%s': a '#' after a value is part of the value; "
			    "put comments on their own line", v[i]);
		out[k++] = g_strdup(v[i]);
	}
	g_strfreev(v);
	if (k == 0) {
		diag_error(c->d, c->path, *line, "match", key, "empty value; "
		    "give a value or remove the line");
	} else if (k > PROFILE_MATCH_VALUES_MAX) {
		diag_error(c->d, c->path, *line, "match", key, "%zu values; "
		    "write at most %d (or make two profiles)", (size_t)k,
		    PROFILE_MATCH_VALUES_MAX);
	} else
		return out;
	g_strfreev(out);
	return NULL;
}

static void
parse_list_key(struct pctx *c, struct profile_match *m,
    const struct list_key *lk)
{
	char	**v;
	int	  line, bad = 0;
	size_t	  i;

	if ((v = get_list(c, lk->key, &line)) == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		if (lk->check(c, lk->key, line, v[i]) == -1)
			bad = 1;
	if (bad)
		g_strfreev(v);
	else
		*(char ***)((char *)m + lk->off) = v;
}

static void
parse_subnet(struct pctx *c, struct profile_match *m)
{
	struct profile_prefix	*pp;
	char			**v, buf[INET6_ADDRSTRLEN];
	int			  line, host_bits, bad = 0;
	size_t			  i, n;

	if ((v = get_list(c, "subnet", &line)) == NULL)
		return;
	n = g_strv_length(v);
	pp = g_new0(struct profile_prefix, n);
	for (i = 0; i < n; i++) {
		if (profile_parse_prefix(v[i], &pp[i], &host_bits) == -1) {
			diag_error(c->d, c->path, line, "match", "subnet",
			    "'%s' is not a prefix; write ADDRESS/LENGTH, e.g. "
			    "192.168.1.0/24 or 2001:db8::/32", v[i]);
			bad = 1;
		} else if (host_bits) {
			inet_ntop(pp[i].family, pp[i].addr, buf, sizeof(buf));
			diag_warning(c->d, c->path, line, "match", "subnet",
			    "'%s' has bits set past /%u; it is read as %s/%u",
			    v[i], pp[i].len, buf, pp[i].len);
		}
	}
	g_strfreev(v);
	if (bad) {
		g_free(pp);
		return;
	}
	m->subnet = pp;
	m->nsubnet = n;
}

static void
parse_vpn(struct pctx *c, struct profile_match *m)
{
	char	**v, **names;
	int	  line, any = 0, bad = 0;
	size_t	  i, k;

	if ((v = get_list(c, "vpn", &line)) == NULL)
		return;
	names = g_new0(char *, g_strv_length(v) + 1);
	for (i = k = 0; v[i] != NULL; i++) {
		if (g_ascii_strcasecmp(v[i], "yes") == 0 ||
		    g_ascii_strcasecmp(v[i], "true") == 0)
			any = 1;
		else if (g_ascii_strcasecmp(v[i], "no") == 0 ||
		    g_ascii_strcasecmp(v[i], "false") == 0) {
			diag_error(c->d, c->path, line, "match", "vpn", "'%s': "
			    "vpn takes yes (any VPN) or a VPN connection's "
			    "name; remove the line to match with or without "
			    "a VPN", v[i]);
			bad = 1;
		} else if (check_name(c, "vpn", line, v[i]) == -1)
			bad = 1;
		else
			names[k++] = g_strdup(v[i]);
	}
	g_strfreev(v);
	if (bad || k == 0)
		g_strfreev(names);
	else
		m->vpn = names;
	if (!bad)
		m->vpn_any = any;
}

static void
parse_connectivity(struct pctx *c, struct profile_match *m)
{
	char		**v;
	int		  line, n;
	unsigned	  bits = 0;
	size_t		  i;

	if ((v = get_list(c, "connectivity", &line)) == NULL)
		return;
	for (i = 0; v[i] != NULL; i++) {
		n = net_connectivity_parse(v[i]);
		if (n == -1 || n == NETCONN_UNKNOWN) {
			diag_error(c->d, c->path, line, "match", "connectivity",
			    "'%s' is not one of none, portal, limited, full",
			    v[i]);
			bits = 0;
			break;
		}
		bits |= 1u << n;
	}
	g_strfreev(v);
	m->connectivity = bits;
}

static void
parse_priority(struct pctx *c, struct profile *p)
{
	char	*v, *end;
	long	 n;

	if ((v = pctx_get(c, "match", "priority")) == NULL)
		return;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*end != '\0' || errno != 0 || n < PRIORITY_MIN || n > PRIORITY_MAX)
		diag_error(c->d, c->path, pctx_key_line(c, "match", "priority"),
		    "match", "priority", "'%s' is not a priority; write a "
		    "number from %d to %d (higher wins)", v, PRIORITY_MIN,
		    PRIORITY_MAX);
	else
		p->priority = (int)n;
	g_free(v);
}

void
profile_parse_match(struct pctx *c, struct profile *p)
{
	char	*v;
	size_t	 i;

	if ((v = pctx_get(c, "match", "default")) != NULL) {
		if (conf_parse_bool(v, &p->is_default) == -1)
			diag_error(c->d, c->path,
			    pctx_key_line(c, "match", "default"), "match",
			    "default", "'%s' is not a boolean; write true or "
			    "false", v);
		g_free(v);
	}
	parse_priority(c, p);
	for (i = 0; i < NLIST_KEYS; i++)
		parse_list_key(c, &p->match, &list_keys[i]);
	parse_subnet(c, &p->match);
	parse_vpn(c, &p->match);
	parse_connectivity(c, &p->match);
}
