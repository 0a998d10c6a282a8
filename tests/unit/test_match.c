/* test_match.c - which profile mail goes by: places (home Wi-Fi, a cafe,
 * the office with its VPN, offline) against a set of profiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "diag.h"
#include "match.h"
#include "netfacts.h"
#include "profile.h"

/* ---- profiles, written as files and loaded as the daemon loads them ---- */

struct pfile {
	const char	*name;
	const char	*text;
};

#define UPSTREAM	"[upstream]\nhost = smtp.example\n"

static const struct pfile places[] = {
	{ "home.conf", "[match]\n"
	    "ssid = HomeWifi; HomeWifi-5G\n"
	    "gateway-mac = 00:11:22:33:44:55\n" UPSTREAM },
	{ "lan.conf", "[match]\nsubnet = 192.168.1.0/24\n" UPSTREAM },
	{ "office.conf", "[match]\n"
	    "vpn = Office VPN\n"
	    "dns-domain = corp.example\n" UPSTREAM },
	{ "anyvpn.conf", "[match]\nvpn = yes\n" UPSTREAM },
	{ "hotspot.conf", "[match]\nssid = AlicePhone\n" UPSTREAM },
	{ "captive.conf", "[match]\nconnectivity = portal\n" UPSTREAM },
	{ "submission.conf", "[match]\ndefault = true\n" UPSTREAM },
	{ "manual-only.conf", UPSTREAM },
	{ NULL, NULL },
};

static char *
write_set(const struct pfile *files)
{
	char	*dir = g_dir_make_tmp("test_match.XXXXXX", NULL), *path;
	size_t	 i;

	assert_non_null(dir);
	for (i = 0; files[i].name != NULL; i++) {
		path = g_build_filename(dir, files[i].name, NULL);
		assert_true(g_file_set_contents(path, files[i].text, -1, NULL));
		g_free(path);
	}
	return dir;
}

static void
remove_set(char *dir, const struct pfile *files)
{
	char	*path;
	size_t	 i;

	for (i = 0; files[i].name != NULL; i++) {
		path = g_build_filename(dir, files[i].name, NULL);
		assert_int_equal(g_remove(path), 0);
		g_free(path);
	}
	assert_int_equal(g_rmdir(dir), 0);
	g_free(dir);
}

/* Load files as a set; they must load without errors. */
static void
load_set(const struct pfile *files, struct profile_set *set)
{
	struct diag	 d;
	char		*dir = write_set(files);
	size_t		 i;

	diag_init(&d);
	if (profile_set_load(dir, set, &d) != 0 || d.nerrors != 0) {
		for (i = 0; i < d.n; i++)
			print_message("%s\n", d.msgs[i]);
		fail_msg("the test's profiles do not load");
	}
	diag_free(&d);
	remove_set(dir, files);
}

/* One profile from its text. */
static struct profile *
one(const char *text)
{
	struct pfile	 files[] = { { "p.conf", text }, { NULL, NULL } };
	struct profile_set set;
	struct profile	*p;

	load_set(files, &set);
	assert_int_equal(set.n, 1);
	p = set.v[0];
	free(set.v);
	return p;
}

/* ---- places ------------------------------------------------------------ */

#define CONN(i, u, t, v, p)	{ .id = (i), .uuid = (u), .type = (t), \
				  .vpn = (v), .primary = (p) }
#define WIFI	"802-11-wireless"
#define ETH	"802-3-ethernet"

static const struct net_facts home_wifi = {
	.backend = "networkmanager",
	.conn = { CONN("HomeWifi", "6f1e0c52-8b0e-4c1f-9a57-3d2b8e7c4a10",
	    WIFI, 0, 1) },
	.nconn = 1,
	.ssid = "HomeWifi",
	.bssid = "00:11:22:33:44:56",
	.gw = { { "192.168.1.1", "00:11:22:33:44:55", "wlan0" } },
	.ngw = 1,
	.addr = { { "192.168.1.23", 24 }, { "fe80::1234", 64 } },
	.naddr = 2,
	.dns = { "home.arpa" },
	.ndns = 1,
	.connectivity = NETCONN_FULL,
};

/* The 5 GHz band; the watcher wrote the MAC in capitals. */
static const struct net_facts home_5g = {
	.conn = { CONN("HomeWifi-5G", "", WIFI, 0, 1) },
	.nconn = 1,
	.ssid = "HomeWifi-5G",
	.gw = { { "192.168.1.1", "00:11:22:33:44:55", "wlan0" } },
	.ngw = 1,
	.addr = { { "192.168.1.24", 24 } },
	.naddr = 1,
	.connectivity = NETCONN_FULL,
};

/* A neighbour's network with the same SSID and the same private range:
 * only the gateway tells it apart. */
static const struct net_facts neighbour = {
	.ssid = "HomeWifi",
	.gw = { { "192.168.1.1", "66:77:88:99:aa:bb", "wlan0" } },
	.ngw = 1,
	.addr = { { "192.168.1.50", 24 } },
	.naddr = 1,
	.connectivity = NETCONN_FULL,
};

static const struct net_facts cafe = {
	.conn = { CONN("CafeNet", "", WIFI, 0, 1) },
	.nconn = 1,
	.ssid = "CafeNet",
	.gw = { { "10.9.0.1", "de:ad:be:ef:00:01", "wlan0" } },
	.ngw = 1,
	.addr = { { "10.9.3.7", 16 } },
	.naddr = 1,
	.connectivity = NETCONN_FULL,
};

static const struct net_facts cafe_portal = {
	.conn = { CONN("CafeNet", "", WIFI, 0, 1) },
	.nconn = 1,
	.ssid = "CafeNet",
	.gw = { { "10.9.0.1", "de:ad:be:ef:00:01", "wlan0" } },
	.ngw = 1,
	.addr = { { "10.9.3.7", 16 } },
	.naddr = 1,
	.connectivity = NETCONN_PORTAL,
};

/* Home, but NetworkManager saw a portal (a router's login page). */
static const struct net_facts home_portal = {
	.ssid = "HomeWifi",
	.gw = { { "192.168.1.1", "00:11:22:33:44:55", "wlan0" } },
	.ngw = 1,
	.connectivity = NETCONN_PORTAL,
};

static const struct net_facts home_metered = {
	.ssid = "HomeWifi",
	.gw = { { "192.168.1.1", "00:11:22:33:44:55", "wlan0" } },
	.ngw = 1,
	.connectivity = NETCONN_FULL,
	.metered = 1,
};

static const struct net_facts phone_hotspot = {
	.ssid = "AlicePhone",
	.gw = { { "172.20.10.1", "", "wlan0" } },
	.ngw = 1,
	.addr = { { "172.20.10.2", 28 } },
	.naddr = 1,
	.connectivity = NETCONN_FULL,
	.metered = 1,
};

static const struct net_facts office_wired_vpn = {
	.conn = {
	    CONN("Office Wired", "2c4b7d0e-1f3a-4e5b-8c6d-9e0f1a2b3c4d", ETH,
	    0, 1),
	    CONN("Office VPN", "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", "vpn",
	    1, 0),
	},
	.nconn = 2,
	.gw = { { "10.20.0.1", "aa:aa:aa:00:00:01", "eth0" } },
	.ngw = 1,
	.addr = { { "10.20.4.5", 16 }, { "10.99.0.7", 32 } },
	.naddr = 2,
	.dns = { "EU.Corp.Example." },
	.ndns = 1,
	.connectivity = NETCONN_FULL,
};

/* Some other VPN, from the cafe. */
static const struct net_facts cafe_private_vpn = {
	.conn = { CONN("CafeNet", "", WIFI, 0, 1),
	    CONN("Private VPN", "", "wireguard", 1, 0) },
	.nconn = 2,
	.ssid = "CafeNet",
	.connectivity = NETCONN_FULL,
};

/* The office's domain without its VPN (at home, say): not the office. */
static const struct net_facts office_domain_no_vpn = {
	.conn = { CONN("Office Wired", "", ETH, 0, 1) },
	.nconn = 1,
	.dns = { "corp.example" },
	.ndns = 1,
	.connectivity = NETCONN_FULL,
};

static const struct net_facts offline = {
	.connectivity = NETCONN_NONE,
};

/* ---- choosing ---------------------------------------------------------- */

static const struct choice {
	const char		*place;
	const struct net_facts	*facts;
	const char		*manual;
	const char		*want;		/* profile, or NULL */
	const char		*reason;
} choices[] = {
	{ "home Wi-Fi", &home_wifi, NULL, "home",
	    "matched gateway-mac=00:11:22:33:44:55 ssid=HomeWifi" },
	{ "home, other band", &home_5g, NULL, "home",
	    "matched gateway-mac=00:11:22:33:44:55 ssid=HomeWifi-5G" },
	{ "neighbour's HomeWifi", &neighbour, NULL, "lan",
	    "matched subnet=192.168.1.0/24" },
	{ "cafe", &cafe, NULL, "submission", "default profile" },
	{ "cafe behind a portal", &cafe_portal, NULL, "captive",
	    "matched connectivity=portal" },
	{ "home behind a portal", &home_portal, NULL, "home",
	    "matched gateway-mac=00:11:22:33:44:55 ssid=HomeWifi" },
	{ "home, metered", &home_metered, NULL, "home",
	    "matched gateway-mac=00:11:22:33:44:55 ssid=HomeWifi" },
	{ "phone hotspot, metered", &phone_hotspot, NULL, "hotspot",
	    "matched ssid=AlicePhone" },
	{ "office wired with VPN", &office_wired_vpn, NULL, "office",
	    "matched vpn=Office VPN dns-domain=corp.example" },
	{ "cafe with another VPN", &cafe_private_vpn, NULL, "anyvpn",
	    "matched vpn=yes" },
	{ "office domain, no VPN", &office_domain_no_vpn, NULL, "submission",
	    "default profile" },
	{ "offline", &offline, NULL, "submission", "default profile" },
	{ "nothing known yet", NULL, NULL, "submission", "default profile" },
	{ "manual choice at the cafe", &cafe, "lan", "lan", "manual choice" },
	{ "manual choice of a hand-only profile", &home_wifi, "manual-only",
	    "manual-only", "manual choice" },
	{ "manual choice offline", &offline, "office", "office",
	    "manual choice" },
	{ "manual choice of no profile", &home_wifi, "gone", "home",
	    "matched gateway-mac=00:11:22:33:44:55 ssid=HomeWifi; manual "
	    "choice 'gone' is not a profile" },
};

static void
test_choose_by_place(void **state)
{
	struct profile_set	 set;
	const struct profile	*p;
	char			 reason[256];
	size_t			 i;

	load_set(places, &set);
	for (i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
		const struct choice *c = &choices[i];

		print_message("%s\n", c->place);
		p = profile_choose(&set, c->facts, c->manual, reason,
		    sizeof(reason));
		assert_non_null(p);
		assert_string_equal(p->name, c->want);
		assert_string_equal(reason, c->reason);
		/* reason may be NULL */
		assert_ptr_equal(profile_choose(&set, c->facts, c->manual,
		    NULL, 0), p);
	}
	profile_set_free(&set);
}

/* Without a default, nowhere known matches nothing. */
static void
test_nothing_matches(void **state)
{
	const struct pfile files[] = {
		{ "home.conf", "[match]\nssid = HomeWifi\n" UPSTREAM },
		{ "office.conf", "[match]\nvpn = Office VPN\n" UPSTREAM },
		{ NULL, NULL },
	};
	struct profile_set	set;
	char			reason[256];

	load_set(files, &set);
	assert_null(profile_choose(&set, &cafe, NULL, reason,
	    sizeof(reason)));
	assert_string_equal(reason, "no profile matches this network");
	assert_null(profile_choose(&set, &offline, "gone", reason,
	    sizeof(reason)));
	assert_string_equal(reason, "no profile matches this network; "
	    "manual choice 'gone' is not a profile");
	profile_set_free(&set);

	/* No profiles at all. */
	memset(&set, 0, sizeof(set));
	assert_null(profile_choose(&set, &home_wifi, NULL, reason,
	    sizeof(reason)));
	assert_string_equal(reason, "no profile matches this network");
}

/* A set of only a default: it is used everywhere, offline too. */
static void
test_only_default(void **state)
{
	const struct pfile files[] = {
		{ "only.conf", "[match]\ndefault = true\n" UPSTREAM },
		{ NULL, NULL },
	};
	const struct net_facts *const everywhere[] = { &home_wifi, &cafe,
	    &cafe_portal, &office_wired_vpn, &phone_hotspot, &offline };
	struct profile_set	set;
	char			reason[256];
	int			score;
	size_t			i;

	load_set(files, &set);
	for (i = 0; i < sizeof(everywhere) / sizeof(everywhere[0]); i++) {
		assert_ptr_equal(profile_choose(&set, everywhere[i], NULL,
		    reason, sizeof(reason)), set.v[0]);
		assert_string_equal(reason, "default profile");
		assert_int_equal(profile_matches(set.v[0], everywhere[i],
		    &score, NULL, 0), 1);
		assert_int_equal(score, MATCH_W_DEFAULT);
	}
	profile_set_free(&set);
}

/* Equal scores: the higher priority, then the name that sorts first. */
static void
test_ties(void **state)
{
	const struct pfile by_name[] = {
		{ "b-relay.conf", "[match]\nssid = CafeNet\n" UPSTREAM },
		{ "a-relay.conf", "[match]\nssid = CafeNet\n" UPSTREAM },
		{ "z-home.conf", "[match]\nssid = HomeWifi\n" UPSTREAM },
		{ "c-home.conf", "[match]\nuuid = "
		    "6F1E0C52-8B0E-4C1F-9A57-3D2B8E7C4A10\n" UPSTREAM },
		{ NULL, NULL },
	};
	const struct pfile by_priority[] = {
		{ "b-relay.conf", "[match]\nssid = CafeNet\npriority = 5\n"
		    UPSTREAM },
		{ "a-relay.conf", "[match]\nssid = CafeNet\n" UPSTREAM },
		{ "c-relay.conf", "[match]\nssid = CafeNet\npriority = -5\n"
		    UPSTREAM },
		/* Priority does not beat specificity. */
		{ "d-subnet.conf", "[match]\nsubnet = 10.9.0.0/16\n"
		    "priority = 1000\n" UPSTREAM },
		{ NULL, NULL },
	};
	struct profile_set	set;

	load_set(by_name, &set);
	assert_string_equal(profile_choose(&set, &cafe, NULL, NULL,
	    0)->name, "a-relay");
	/* ssid and uuid weigh the same: the name decides. */
	assert_string_equal(profile_choose(&set, &home_wifi, NULL, NULL,
	    0)->name, "c-home");
	profile_set_free(&set);

	load_set(by_priority, &set);
	assert_string_equal(profile_choose(&set, &cafe, NULL, NULL,
	    0)->name, "b-relay");
	profile_set_free(&set);
}

/* ---- one profile: why it matches or not -------------------------------- */

static const struct why_case {
	const char		*profile;
	const struct net_facts	*facts;
	int			 match;
	int			 score;
	const char		*why;
} why_cases[] = {
	{ "[match]\nssid = HomeWifi; HomeWifi-5G\n"
	    "gateway-mac = 00:11:22:33:44:55\n" UPSTREAM, &cafe, 0, 0,
	    "gateway-mac: want 00:11:22:33:44:55, have de:ad:be:ef:00:01; "
	    "ssid: want HomeWifi or HomeWifi-5G, have CafeNet" },
	{ "[match]\nssid = HomeWifi\n" UPSTREAM, &offline, 0, 0,
	    "ssid: want HomeWifi, have none" },
	{ "[match]\nbssid = 00-11-22-33-44-56\n" UPSTREAM, &home_wifi, 1,
	    MATCH_W_BSSID, "bssid=00:11:22:33:44:56" },
	{ "[match]\nconnection = Office Wired; Office Wi-Fi\n" UPSTREAM,
	    &office_wired_vpn, 1, MATCH_W_CONNECTION,
	    "connection=Office Wired" },
	{ "[match]\nconnection = Office Wired\n" UPSTREAM, &cafe, 0, 0,
	    "connection: want Office Wired, have CafeNet" },
	{ "[match]\nvpn = Office VPN; yes\n" UPSTREAM, &cafe, 0, 0,
	    "vpn: want Office VPN or any VPN, have no VPN" },
	{ "[match]\nvpn = Office VPN\n" UPSTREAM, &cafe_private_vpn, 0, 0,
	    "vpn: want Office VPN, have Private VPN" },
	{ "[match]\nsubnet = 10.0.0.0/8; fd00::/8\n" UPSTREAM, &home_wifi,
	    0, 0, "subnet: want 10.0.0.0/8 or fd00::/8, have 192.168.1.23, "
	    "fe80::1234" },
	{ "[match]\ndns-domain = corp.example\n" UPSTREAM, &home_wifi, 0, 0,
	    "dns-domain: want corp.example, have home.arpa" },
	{ "[match]\nconnectivity = limited; full\n" UPSTREAM, &cafe_portal,
	    0, 0, "connectivity: want limited or full, have portal" },
	{ "[match]\nconnectivity = limited; full\n" UPSTREAM, &cafe, 1,
	    MATCH_W_CONNECTIVITY, "connectivity=full" },
	/* A default with keys: by its keys where they match... */
	{ "[match]\ndefault = true\nssid = HomeWifi\nconnectivity = full\n"
	    UPSTREAM, &home_wifi, 1, MATCH_W_SSID + MATCH_W_CONNECTIVITY,
	    "ssid=HomeWifi connectivity=full" },
	/* ...and as the default elsewhere. */
	{ "[match]\ndefault = true\nssid = HomeWifi\n" UPSTREAM, &cafe, 1,
	    MATCH_W_DEFAULT, "default profile (ssid: want HomeWifi, have "
	    "CafeNet)" },
	/* No network keys, no default: only by hand. */
	{ UPSTREAM, &home_wifi, 0, 0, "no network keys: chosen only by hand" },
	{ "[match]\npriority = 3\n" UPSTREAM, &offline, 0, 0,
	    "no network keys: chosen only by hand" },
	/* Every key counts in the score. */
	{ "[match]\ngateway-mac = 00:11:22:33:44:55\nbssid = "
	    "00:11:22:33:44:56\nssid = HomeWifi\nuuid = "
	    "6f1e0c52-8b0e-4c1f-9a57-3d2b8e7c4a10\nconnection = HomeWifi\n"
	    "subnet = 192.168.0.0/16\ndns-domain = arpa\n"
	    "connectivity = full\n" UPSTREAM, &home_wifi, 1,
	    MATCH_W_GATEWAY_MAC + MATCH_W_BSSID + MATCH_W_SSID +
	    MATCH_W_UUID + MATCH_W_CONNECTION + MATCH_W_SUBNET +
	    MATCH_W_DNS_DOMAIN + MATCH_W_CONNECTIVITY,
	    "gateway-mac=00:11:22:33:44:55 bssid=00:11:22:33:44:56 "
	    "ssid=HomeWifi uuid=6f1e0c52-8b0e-4c1f-9a57-3d2b8e7c4a10 "
	    "connection=HomeWifi subnet=192.168.0.0/16 dns-domain=arpa "
	    "connectivity=full" },
	/* One failing key is enough to fail; only it is named. */
	{ "[match]\nssid = HomeWifi\nvpn = yes\n" UPSTREAM, &home_wifi, 0, 0,
	    "vpn: want any VPN, have no VPN" },
};

static void
test_why(void **state)
{
	struct profile	*p;
	char		 why[512];
	int		 score;
	size_t		 i;

	for (i = 0; i < sizeof(why_cases) / sizeof(why_cases[0]); i++) {
		const struct why_case *c = &why_cases[i];

		print_message("case %zu\n", i);
		p = one(c->profile);
		score = -1;
		assert_int_equal(profile_matches(p, c->facts, &score, why,
		    sizeof(why)), c->match);
		assert_int_equal(score, c->score);
		assert_string_equal(why, c->why);
		/* score and why may be NULL */
		assert_int_equal(profile_matches(p, c->facts, NULL, NULL, 0),
		    c->match);
		profile_free(p);
	}
}

/* why is cut to its size, never overrun. */
static void
test_why_truncated(void **state)
{
	struct profile	*p = one("[match]\nssid = HomeWifi\n" UPSTREAM);
	char		 why[8];

	memset(why, 'x', sizeof(why));
	assert_int_equal(profile_matches(p, &home_wifi, NULL, why, 5), 1);
	assert_string_equal(why, "ssid");
	assert_int_equal(why[5], 'x');
	profile_free(p);
}

/* ---- subnets and domains ----------------------------------------------- */

/* Facts with one local address. */
static struct net_facts
at(const char *addr)
{
	struct net_facts	f;

	memset(&f, 0, sizeof(f));
	snprintf(f.addr[0].addr, sizeof(f.addr[0].addr), "%s", addr);
	f.addr[0].prefixlen = strchr(addr, ':') != NULL ? 64 : 24;
	f.naddr = 1;
	f.connectivity = NETCONN_FULL;
	return f;
}

static const struct subnet_case {
	const char	*subnet;
	const char	*addr;
	int		 match;
} subnet_cases[] = {
	/* /0: any address of that family, and only of that family. */
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "0.0.0.0/0", "2001:db8::1", 0 },
	{ "::/0", "2001:db8::1", 1 },
	{ "::/0", "10.0.0.1", 0 },
	/* /32 and /128: one address. */
	{ "192.168.1.23/32", "192.168.1.23", 1 },
	{ "192.168.1.23/32", "192.168.1.24", 0 },
	{ "2001:db8::1/128", "2001:db8::1", 1 },
	{ "2001:db8::1/128", "2001:db8::2", 0 },
	/* On byte boundaries. */
	{ "192.168.1.0/24", "192.168.1.255", 1 },
	{ "192.168.1.0/24", "192.168.2.0", 0 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	/* Off them. */
	{ "128.0.0.0/1", "192.0.2.1", 1 },
	{ "128.0.0.0/1", "127.255.255.255", 0 },
	{ "10.0.0.0/9", "10.127.255.255", 1 },
	{ "10.0.0.0/9", "10.128.0.0", 0 },
	{ "10.0.0.0/23", "10.0.1.255", 1 },
	{ "10.0.0.0/23", "10.0.2.0", 0 },
	{ "172.16.0.0/12", "172.31.255.1", 1 },
	{ "172.16.0.0/12", "172.32.0.1", 0 },
	{ "2001:db8:0:8::/61", "2001:db8:0:f::1", 1 },
	{ "2001:db8:0:8::/61", "2001:db8:0:10::1", 0 },
	{ "2001:db8:0:8::/61", "2001:db8:0:7::1", 0 },
	/* Host bits set: read as the network (with a warning). */
	{ "192.168.1.77/24", "192.168.1.5", 1 },
	/* A link-local address with its zone. */
	{ "fe80::/10", "fe80::1%wlan0", 1 },
	{ "fe80::/10", "fec0::1", 0 },
	/* An IPv4-mapped address is an IPv6 address here. */
	{ "10.0.0.0/8", "::ffff:10.0.0.1", 0 },
};

static void
test_subnets(void **state)
{
	struct profile		*p;
	struct net_facts	 f;
	char			*text;
	size_t			 i;

	for (i = 0; i < sizeof(subnet_cases) / sizeof(subnet_cases[0]); i++) {
		const struct subnet_case *c = &subnet_cases[i];

		print_message("%s ~ %s\n", c->subnet, c->addr);
		text = g_strdup_printf("[match]\nsubnet = %s\n" UPSTREAM,
		    c->subnet);
		p = one(text);
		f = at(c->addr);
		assert_int_equal(profile_matches(p, &f, NULL, NULL, 0),
		    c->match);
		/* Offline, no prefix matches. */
		assert_int_equal(profile_matches(p, &offline, NULL, NULL, 0),
		    0);
		profile_free(p);
		g_free(text);
	}
}

/* Any local address in any listed prefix. */
static void
test_subnet_lists(void **state)
{
	struct profile	*p = one("[match]\n"
	    "subnet = 10.0.0.0/8; 2001:db8::/32\n" UPSTREAM);

	assert_false(profile_matches(p, &home_wifi, NULL, NULL, 0));
	assert_true(profile_matches(p, &office_wired_vpn, NULL, NULL, 0));
	assert_true(profile_matches(p, &cafe, NULL, NULL, 0));
	{
		struct net_facts f = at("192.0.2.1");

		snprintf(f.addr[1].addr, sizeof(f.addr[1].addr),
		    "2001:db8::5");
		f.naddr = 2;
		assert_true(profile_matches(p, &f, NULL, NULL, 0));
	}
	profile_free(p);
}

static const struct domain_case {
	const char	*want;
	const char	*have;
	int		 match;
} domain_cases[] = {
	{ "corp.example", "corp.example", 1 },
	{ "corp.example", "eu.corp.example", 1 },
	{ "corp.example", "a.b.eu.corp.example", 1 },
	{ "corp.example", "EU.CORP.EXAMPLE.", 1 },
	{ "Corp.Example.", "eu.corp.example", 1 },
	{ "corp.example", "notcorp.example", 0 },
	{ "corp.example", "example", 0 },
	{ "corp.example", "corp.example.net", 0 },
	{ "eu.corp.example", "corp.example", 0 },
	{ "example", "corp.example", 1 },
};

static void
test_dns_domains(void **state)
{
	struct profile		*p;
	struct net_facts	 f;
	char			*text;
	size_t			 i;

	for (i = 0; i < sizeof(domain_cases) / sizeof(domain_cases[0]); i++) {
		const struct domain_case *c = &domain_cases[i];

		print_message("%s ~ %s\n", c->want, c->have);
		text = g_strdup_printf("[match]\ndns-domain = %s\n" UPSTREAM,
		    c->want);
		p = one(text);
		memset(&f, 0, sizeof(f));
		snprintf(f.dns[1], sizeof(f.dns[1]), "%s", c->have);
		snprintf(f.dns[0], sizeof(f.dns[0]), "unrelated.test");
		f.ndns = 2;
		assert_int_equal(profile_matches(p, &f, NULL, NULL, 0),
		    c->match);
		profile_free(p);
		g_free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choose_by_place),
		cmocka_unit_test(test_nothing_matches),
		cmocka_unit_test(test_only_default),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_why),
		cmocka_unit_test(test_why_truncated),
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_subnet_lists),
		cmocka_unit_test(test_dns_domains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
