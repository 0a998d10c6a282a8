/* test_netfacts.c - the network snapshot: its JSON form both ways (what
 * the watcher's channel carries, so everything in it is checked), equality
 * and the per-network key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <jansson.h>

#include "netfacts.h"

static const struct net_facts office = {
	.backend = "networkmanager",
	.conn = {
	    { "Office Wired", "2c4b7d0e-1f3a-4e5b-8c6d-9e0f1a2b3c4d",
	      "802-3-ethernet", 0, 1 },
	    { "Office VPN", "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", "vpn",
	      1, 0 },
	},
	.nconn = 2,
	.ssid = "",
	.bssid = "",
	.gw = { { "10.20.0.1", "aa:aa:aa:00:00:01", "eth0" },
	    { "fe80::1", "AA:AA:AA:00:00:02", "eth0" } },
	.ngw = 2,
	.addr = { { "10.20.4.5", 16 }, { "2001:db8::5", 64 },
	    { "10.99.0.7", 32 } },
	.naddr = 3,
	.dns = { "eu.corp.example", "corp.example" },
	.ndns = 2,
	.connectivity = NETCONN_LIMITED,
	.metered = 1,
};

static const struct net_facts home = {
	.backend = "netlink",
	.ssid = "HomeWifi",
	.bssid = "00:11:22:33:44:56",
	.gw = { { "192.168.1.1", "00:11:22:33:44:55", "wlan0" } },
	.ngw = 1,
	.connectivity = NETCONN_FULL,
};

static json_t *
parse(const char *text)
{
	json_error_t	 jerr;
	json_t		*j = json_loads(text, JSON_ALLOW_NUL, &jerr);

	if (j == NULL)
		fail_msg("test JSON: %s: %s", text, jerr.text);
	return j;
}

static void
assert_round_trip(const struct net_facts *f)
{
	struct net_facts	 back;
	json_t			*j = netfacts_to_json(f), *again;
	char			 err[256] = "";

	assert_non_null(j);
	/* Through text, as on the channel. */
	{
		char	*text = json_dumps(j, JSON_COMPACT);

		json_decref(j);
		j = parse(text);
		free(text);
	}
	assert_int_equal(netfacts_from_json(j, &back, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_true(netfacts_equal(f, &back));
	assert_string_equal(back.backend, f->backend);
	assert_int_equal(back.nconn, f->nconn);
	assert_int_equal(back.naddr, f->naddr);
	/* And the same JSON again. */
	again = netfacts_to_json(&back);
	assert_true(json_equal(j, again));
	json_decref(again);
	json_decref(j);
}

static void
test_round_trip(void **state)
{
	struct net_facts	empty;

	assert_round_trip(&office);
	assert_round_trip(&home);
	memset(&empty, 0, sizeof(empty));
	assert_round_trip(&empty);
}

/* The JSON as the status command shows it. */
static void
test_json_form(void **state)
{
	json_t	*j = netfacts_to_json(&office), *c, *a;

	assert_string_equal(json_string_value(json_object_get(j,
	    "connectivity")), "limited");
	assert_true(json_is_true(json_object_get(j, "metered")));
	c = json_array_get(json_object_get(j, "connections"), 1);
	assert_string_equal(json_string_value(json_object_get(c, "id")),
	    "Office VPN");
	assert_true(json_is_true(json_object_get(c, "vpn")));
	a = json_array_get(json_object_get(j, "addresses"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "addr")),
	    "10.20.4.5");
	assert_int_equal(json_integer_value(json_object_get(a, "prefixlen")),
	    16);
	assert_int_equal(json_array_size(json_object_get(j, "gateways")), 2);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(j, "dns"), 1)), "corp.example");
	json_decref(j);
}

/* Absent members are empty; the rest must be right. */
static void
test_absent_members(void **state)
{
	struct net_facts	 f;
	json_t			*j = parse("{\"ssid\": \"CafeNet\"}");
	char			 err[128];

	memset(&f, 0xff, sizeof(f));
	assert_int_equal(netfacts_from_json(j, &f, err, sizeof(err)), 0);
	assert_string_equal(f.ssid, "CafeNet");
	assert_string_equal(f.backend, "");
	assert_int_equal(f.nconn, 0);
	assert_int_equal(f.ngw, 0);
	assert_int_equal(f.connectivity, NETCONN_UNKNOWN);
	assert_int_equal(f.metered, 0);
	json_decref(j);
}

static const struct bad_case {
	const char	*json;
	const char	*err;
} bad_cases[] = {
	{ "[]", "not an object" },
	{ "{\"ssid\": 7}", "ssid: not a string" },
	{ "{\"metered\": \"yes\"}", "metered: not true or false" },
	{ "{\"connections\": {}}", "connections: not an array" },
	{ "{\"connections\": [7]}", "connections[0]: not an object" },
	{ "{\"connections\": [{\"vpn\": 1}]}",
	    "connections[0].vpn: not true or false" },
	{ "{\"connections\": [{\"name\": \"x\"}]}",
	    "connections[0].name: unknown member" },
	{ "{\"dns\": [\"a\", 2]}", "dns[1]: not a string" },
	{ "{\"connectivity\": \"online\"}", "connectivity: not one of" },
	{ "{\"connectivity\": 4}", "connectivity: not one of" },
	{ "{\"frobs\": 1}", "frobs: unknown member" },
	{ "{\"bssid\": \"00:11:22:33:44\"}", "bssid: '00:11:22:33:44' is not "
	    "a MAC address" },
	{ "{\"bssid\": \"00:11:22:33:44:5g\"}", "is not a MAC address" },
	{ "{\"gateways\": [{\"addr\": \"192.168.1.300\"}]}",
	    "gateways[0].addr: '192.168.1.300' is not an IP address" },
	{ "{\"gateways\": [{\"addr\": \"10.0.0.1\", \"mac\": \"x\"}]}",
	    "gateways[0].mac: 'x' is not a MAC address" },
	{ "{\"addresses\": [{\"addr\": \"10.0.0.1\"}]}",
	    "addresses[0].prefixlen: missing" },
	{ "{\"addresses\": [{\"addr\": \"10.0.0.1\", \"prefixlen\": 33}]}",
	    "addresses[0].prefixlen: 33 is out of range" },
	{ "{\"addresses\": [{\"addr\": \"::1\", \"prefixlen\": 129}]}",
	    "addresses[0].prefixlen: 129 is out of range" },
	{ "{\"addresses\": [{\"addr\": \"::1\", \"prefixlen\": -1}]}",
	    "addresses[0].prefixlen: -1 is out of range" },
	{ "{\"addresses\": [{\"addr\": \"::1\", \"prefixlen\": 6.4}]}",
	    "addresses[0].prefixlen: not a number" },
	/* A NUL inside a string would cut it short unseen. */
	{ "{\"ssid\": \"Home\\u0000Wifi\"}", "ssid: holds a NUL byte" },
	{ "{\"dns\": [\"a\\u0000b\"]}", "dns[0]: holds a NUL byte" },
};

static void
test_rejects(void **state)
{
	struct net_facts	 f;
	json_t			*j;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		print_message("%s\n", bad_cases[i].json);
		j = parse(bad_cases[i].json);
		err[0] = '\0';
		assert_int_equal(netfacts_from_json(j, &f, err, sizeof(err)),
		    -1);
		if (strstr(err, bad_cases[i].err) == NULL)
			fail_msg("error '%s' does not say '%s'", err,
			    bad_cases[i].err);
		/* Nothing half-filled is left behind. */
		assert_int_equal(f.nconn + f.ngw + f.naddr + f.ndns, 0);
		assert_string_equal(f.ssid, "");
		json_decref(j);
	}
	/* err may be NULL. */
	j = parse("{\"ssid\": 1}");
	assert_int_equal(netfacts_from_json(j, &f, NULL, 0), -1);
	json_decref(j);
}

/* Strings up to their bounds pass; one byte more does not. */
static void
test_bounds(void **state)
{
	struct {
		const char	*before, *after;	/* the string */
		size_t		 max;	/* longest string accepted */
		const char	*err;
	} cases[] = {
		{ "{\"ssid\": \"", "\"}", NETFACTS_NAME_MAX - 1,
		    "ssid: longer than 127 bytes" },
		{ "{\"backend\": \"", "\"}", 15, "backend: longer than 15" },
		{ "{\"connections\": [{\"id\": \"", "\"}]}",
		    NETFACTS_NAME_MAX - 1,
		    "connections[0].id: longer than 127 bytes" },
		{ "{\"connections\": [{\"uuid\": \"", "\"}]}", 39,
		    "connections[0].uuid: longer than 39 bytes" },
		{ "{\"connections\": [{\"type\": \"", "\"}]}", 31,
		    "connections[0].type: longer than 31 bytes" },
		{ "{\"dns\": [\"", "\"]}", NETFACTS_NAME_MAX - 1,
		    "dns[0]: longer than 127 bytes" },
		{ "{\"gateways\": [{\"addr\": \"::1\", \"ifname\": \"",
		    "\"}]}", 15, "gateways[0].ifname: longer than 15 bytes" },
	};
	struct net_facts	 f;
	char			 s[NETFACTS_NAME_MAX + 2], err[128], *text;
	json_t			*j;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(s, 'a', cases[i].max);
		s[cases[i].max] = '\0';
		text = g_strconcat(cases[i].before, s, cases[i].after, NULL);
		j = parse(text);
		g_free(text);
		assert_int_equal(netfacts_from_json(j, &f, err, sizeof(err)),
		    0);
		json_decref(j);

		strcat(s, "a");
		text = g_strconcat(cases[i].before, s, cases[i].after, NULL);
		j = parse(text);
		g_free(text);
		assert_int_equal(netfacts_from_json(j, &f, err, sizeof(err)),
		    -1);
		if (strstr(err, cases[i].err) == NULL)
			fail_msg("error '%s' does not say '%s'", err,
			    cases[i].err);
		json_decref(j);
	}
}

/* Arrays up to their bounds pass; one entry more does not. */
static void
test_array_bounds(void **state)
{
	struct {
		const char	*key;
		const char	*entry;
		size_t		 max;
	} cases[] = {
		{ "connections", "{}", NETFACTS_CONN_MAX },
		{ "gateways", "{\"addr\": \"10.0.0.1\"}", NETFACTS_GW_MAX },
		{ "addresses", "{\"addr\": \"10.0.0.1\", \"prefixlen\": 8}",
		    NETFACTS_ADDR_MAX },
		{ "dns", "\"a.example\"", NETFACTS_DNS_MAX },
	};
	struct net_facts	 f;
	GString			*text;
	json_t			*j;
	char			 err[128], want[64];
	size_t			 i, n, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (n = cases[i].max; n <= cases[i].max + 1; n++) {
			text = g_string_new(NULL);
			g_string_printf(text, "{\"%s\": [", cases[i].key);
			for (k = 0; k < n; k++)
				g_string_append_printf(text, "%s%s",
				    k > 0 ? ", " : "", cases[i].entry);
			g_string_append(text, "]}");
			j = parse(text->str);
			g_string_free(text, TRUE);
			if (n == cases[i].max) {
				assert_int_equal(netfacts_from_json(j, &f, err,
				    sizeof(err)), 0);
			} else {
				assert_int_equal(netfacts_from_json(j, &f, err,
				    sizeof(err)), -1);
				snprintf(want, sizeof(want), "%s: more than "
				    "%zu entries", cases[i].key, cases[i].max);
				assert_string_equal(err, want);
			}
			json_decref(j);
		}
	}
}

static void
test_connectivity_names(void **state)
{
	int	c;

	for (c = NETCONN_UNKNOWN; c <= NETCONN_FULL; c++)
		assert_int_equal(net_connectivity_parse(
		    net_connectivity_name((enum net_connectivity)c)), c);
	assert_string_equal(net_connectivity_name(NETCONN_PORTAL), "portal");
	assert_int_equal(net_connectivity_parse("Full"), -1);
	assert_int_equal(net_connectivity_parse(""), -1);
	assert_string_equal(net_connectivity_name((enum net_connectivity)99),
	    "unknown");
}

static void
test_equal(void **state)
{
	struct net_facts	a = office, b = office;

	assert_true(netfacts_equal(&a, &b));

	/* The backend is not the place. */
	snprintf(b.backend, sizeof(b.backend), "netlink");
	assert_true(netfacts_equal(&a, &b));

	/* Nor the order things are listed in. */
	b.conn[0] = office.conn[1];
	b.conn[1] = office.conn[0];
	b.addr[0] = office.addr[2];
	b.addr[2] = office.addr[0];
	b.dns[0][0] = 'E';	/* "Eu.corp.example": names, any case */
	assert_true(netfacts_equal(&a, &b));

	/* Each fact counts. */
	b = office;
	b.metered = 0;
	assert_false(netfacts_equal(&a, &b));
	b = office;
	b.connectivity = NETCONN_FULL;
	assert_false(netfacts_equal(&a, &b));
	b = office;
	b.conn[1].vpn = 0;
	assert_false(netfacts_equal(&a, &b));
	b = office;
	b.nconn = 1;
	assert_false(netfacts_equal(&a, &b));
	b = office;
	b.addr[1].prefixlen = 48;
	assert_false(netfacts_equal(&a, &b));
	b = office;
	snprintf(b.gw[0].mac, sizeof(b.gw[0].mac), "aa:aa:aa:00:00:09");
	assert_false(netfacts_equal(&a, &b));
	b = office;
	snprintf(b.ssid, sizeof(b.ssid), "Office");
	assert_false(netfacts_equal(&a, &b));
	/* One entry twice is not two entries. */
	b = office;
	b.addr[2] = office.addr[0];
	assert_false(netfacts_equal(&a, &b));
	assert_false(netfacts_equal(&office, &home));
}

static void
test_key(void **state)
{
	struct net_facts	f = office;
	char			key[64];

	/* The primary connection's uuid... */
	netfacts_key(&f, key, sizeof(key));
	assert_string_equal(key, "2c4b7d0e-1f3a-4e5b-8c6d-9e0f1a2b3c4d");
	/* ...else the SSID... */
	netfacts_key(&home, key, sizeof(key));
	assert_string_equal(key, "HomeWifi");
	/* ...else the first gateway's MAC... */
	f.conn[0].primary = 0;
	netfacts_key(&f, key, sizeof(key));
	assert_string_equal(key, "aa:aa:aa:00:00:01");
	/* ...else unknown. */
	memset(&f, 0, sizeof(f));
	netfacts_key(&f, key, sizeof(key));
	assert_string_equal(key, "unknown");
	/* Cut to the buffer. */
	netfacts_key(&home, key, 5);
	assert_string_equal(key, "Home");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_json_form),
		cmocka_unit_test(test_absent_members),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_array_bounds),
		cmocka_unit_test(test_connectivity_names),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
