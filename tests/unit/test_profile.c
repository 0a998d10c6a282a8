/* test_profile.c - profile files: what they say, and what a mistake in one
 * looks like to the user (file, line, key, what to do). */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "diag.h"
#include "netfacts.h"
#include "profile.h"

/* A fresh folder for each test, removed after it. */
static char *dir;

static int
setup(void **state)
{
	dir = g_dir_make_tmp("test_profile.XXXXXX", NULL);
	return dir == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	*cmd = g_strdup_printf("rm -rf '%s'", dir);
	int	 r = system(cmd);

	g_free(cmd);
	g_free(dir);
	return r;
}

/* Write dir/name with text; returns the path (g_free). */
static char *
write_file(const char *name, const char *text)
{
	char	*path = g_build_filename(dir, name, NULL);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

/* Load name (written with text) expecting errors; returns diag. */
static struct profile *
load(const char *name, const char *text, struct diag *d)
{
	char		*path = write_file(name, text);
	struct profile	*p;

	diag_init(d);
	p = profile_load(path, d);
	g_free(path);
	return p;
}

/* One message of d is exactly "DIR/file:line: rest". */
static void
assert_msg(struct diag *d, const char *file, int line, const char *rest)
{
	char	*want;
	size_t	 i;

	if (line > 0)
		want = g_strdup_printf("%s/%s:%d: %s", dir, file, line, rest);
	else
		want = g_strdup_printf("%s/%s: %s", dir, file, rest);
	for (i = 0; i < d->n; i++)
		if (strcmp(d->msgs[i], want) == 0)
			break;
	if (i == d->n) {
		for (i = 0; i < d->n; i++)
			print_message("got: %s\n", d->msgs[i]);
		fail_msg("missing: %s", want);
	}
	g_free(want);
}

/* Some message of d contains needle. */
static void
assert_msg_has(struct diag *d, const char *needle)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		if (strstr(d->msgs[i], needle) != NULL)
			return;
	for (i = 0; i < d->n; i++)
		print_message("got: %s\n", d->msgs[i]);
	fail_msg("no message has: %s", needle);
}

static void
test_submission_profile(void **state)
{
	struct diag	 d;
	struct profile	*p;
	char		*ca, *want;

	ca = write_file("ca.pem", "not checked here\n");
	p = load("home.conf",
	    "# a comment\n"
	    "[match]\n"
	    "default = yes\n"
	    "priority = 5\n"
	    "\n"
	    "[upstream]\n"
	    "host = mail.example.net\n"
	    "tls = starttls\n"
	    "auth = cram-md5\n"
	    "user = alice@example.net\n"
	    "password-command = pass show 'mail\\home' | head -1\n"
	    "ca-file = ca.pem\n"
	    "pin = sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
	    "allow-plaintext-auth = false\n"
	    "helo = alice-laptop\n", &d);
	assert_non_null(p);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(p->name, "home");
	assert_true(p->is_default);
	assert_int_equal(p->priority, 5);
	assert_string_equal(p->host, "mail.example.net");
	assert_int_equal(p->port, 587);
	assert_int_equal(p->tls, TLSMODE_STARTTLS);
	assert_int_equal(p->auth, AUTHC_CRAM_MD5);
	assert_string_equal(p->user, "alice@example.net");
	/* Taken as written: no GKeyFile escapes in a shell command. */
	assert_string_equal(p->password_command,
	    "pass show 'mail\\home' | head -1");
	assert_null(p->password_file);
	/* Relative to the profile's folder. */
	want = g_strdup_printf("%s/ca.pem", dir);
	assert_string_equal(p->ca_file, want);
	assert_true(p->has_pin);
	assert_int_equal(p->pin[0], 0);
	assert_int_equal(p->pin[31], 31);
	assert_false(p->allow_plaintext_auth);
	assert_string_equal(p->helo, "alice-laptop");
	assert_string_equal(tls_mode_name(p->tls), "starttls");
	assert_string_equal(auth_choice_name(p->auth), "cram-md5");
	profile_free(p);
	diag_free(&d);
	g_free(want);
	g_free(ca);
}

static void
test_defaults_follow_tls(void **state)
{
	struct diag	 d;
	struct profile	*p;

	p = load("smtps.conf", "[upstream]\nhost = a.example\ntls = tls\n"
	    "user = bob\npassword-file = ~/x.pass\n", &d);
	assert_non_null(p);
	assert_int_equal(p->port, 465);
	assert_int_equal(p->tls, TLSMODE_IMPLICIT);
	assert_int_equal(p->auth, AUTHC_AUTO);	/* user set */
	assert_false(p->is_default);
	assert_int_equal(p->priority, 0);
	assert_null(p->helo);
	assert_true(g_str_has_suffix(p->password_file, "/x.pass"));
	assert_true(p->password_file[0] == '/');
	profile_free(p);
	diag_free(&d);

	p = load("isp.conf", "[upstream]\nhost = smtp.isp.example\n"
	    "tls = none\n", &d);
	assert_non_null(p);
	assert_int_equal(p->port, 25);
	assert_int_equal(p->auth, AUTHC_NONE);
	profile_free(p);
	diag_free(&d);

	p = load("plain.conf", "[upstream]\nhost = h.example\n", &d);
	assert_non_null(p);
	assert_int_equal(p->port, 587);
	assert_int_equal(p->tls, TLSMODE_STARTTLS);
	assert_int_equal(p->auth, AUTHC_NONE);
	profile_free(p);
	diag_free(&d);
}

static void
test_bad_values_name_line_and_fix(void **state)
{
	struct diag	 d;

	assert_null(load("home.conf",
	    "[match]\n"
	    "default = true\n"
	    "\n"
	    "[upstream]\n"
	    "host = mail.example.net\n"
	    "# STARTTLS on 587\n"
	    "tls = startls\n"
	    "port = abc\n"
	    "allow-plaintext-auth = maybe\n", &d));
	assert_msg(&d, "home.conf", 7, "[upstream] tls: 'startls' is not one "
	    "of starttls, tls, none");
	assert_msg(&d, "home.conf", 8, "[upstream] port: 'abc' is not a port "
	    "number; write a number from 1 to 65535");
	assert_msg(&d, "home.conf", 9, "[upstream] allow-plaintext-auth: "
	    "'maybe' is not a boolean; write true or false");
	assert_int_equal(d.nerrors, 3);
	diag_free(&d);

	assert_null(load("p.conf", "[upstream]\nhost = h\nport = 70000\n"
	    "auth = gssapi\nuser = u\npassword-command = true\n", &d));
	assert_msg_has(&d, "p.conf:3: [upstream] port: '70000' is not a port");
	assert_msg(&d, "p.conf", 4, "[upstream] auth: 'gssapi' is not one of "
	    "auto, plain, login, cram-md5, scram-sha-256, xoauth2, "
	    "oauthbearer, none");
	diag_free(&d);
}

static void
test_unknown_keys_and_groups(void **state)
{
	struct diag	 d;

	assert_null(load("typo.conf",
	    "[upstream]\n"
	    "hots = mail.example.net\n"
	    "host = mail.example.net\n"
	    "frobnicate = 1\n"
	    "[match]\n"
	    "ssid = HomeWifi\n"
	    "defualt = true\n"
	    "[upsteam]\n"
	    "x = 1\n"
	    "[weird]\n", &d));
	assert_msg(&d, "typo.conf", 2, "[upstream] hots: unknown key; did you "
	    "mean host?");
	assert_msg_has(&d, "typo.conf:4: [upstream] frobnicate: unknown key; "
	    "[upstream] accepts host, port");
	/* Line 6, ssid, is a good key. */
	assert_msg(&d, "typo.conf", 7, "[match] defualt: unknown key; did you "
	    "mean default?");
	assert_msg(&d, "typo.conf", 8, "[upsteam]: unknown group; did you "
	    "mean [upstream]?");
	assert_msg_has(&d, "typo.conf:10: [weird]: unknown group");
	assert_int_equal(d.nerrors, 5);
	diag_free(&d);

	/* The lists of keys, for a word too far from any. */
	assert_null(load("far.conf", "[match]\nwhereabouts = home\n"
	    "[upstream]\nhost = h\n", &d));
	assert_msg(&d, "far.conf", 2, "[match] whereabouts: unknown key; "
	    "[match] accepts connection, uuid, ssid, bssid, gateway-mac, "
	    "subnet, dns-domain, vpn, connectivity, default, priority");
	diag_free(&d);

	/* [pop-before-smtp] has keys of its own. */
	assert_null(load("pop.conf", "[upstream]\nhost = h\nuser = u\n"
	    "password-command = true\n[pop-before-smtp]\nhost = pop.example\n"
	    "windoww = 60\n", &d));
	assert_msg(&d, "pop.conf", 7, "[pop-before-smtp] windoww: unknown key; "
	    "did you mean window?");
	diag_free(&d);
}

/* Every [match] key, several values each, read into their normal forms. */
static void
test_match_keys(void **state)
{
	struct diag		 d;
	struct profile		*p;
	const struct profile_match *m;

	p = load("office.conf",
	    "[match]\n"
	    "connection = Office Wired ; Office Wi-Fi;\n"
	    "uuid = 2C4B7D0E-1F3A-4E5B-8C6D-9E0F1A2B3C4D\n"
	    "ssid = Corp\\;Guest; Corp\n"
	    "bssid = 00-11-22-AA-BB-CC\n"
	    "gateway-mac = aa:bb:cc:dd:ee:ff; 00:11:22:33:44:55\n"
	    "subnet = 10.20.0.0/16; 2001:db8::/32; 0.0.0.0/0\n"
	    "dns-domain = Corp.Example.; example.org\n"
	    "vpn = Office VPN; yes\n"
	    "connectivity = limited;full\n"
	    "priority = -3\n"
	    "[upstream]\nhost = relay.corp.example\nfallback = other\n",
	    &d);
	assert_non_null(p);
	assert_int_equal(d.n, 0);
	m = &p->match;
	assert_string_equal(m->connection[0], "Office Wired");
	assert_string_equal(m->connection[1], "Office Wi-Fi");
	assert_null(m->connection[2]);
	assert_string_equal(m->uuid[0], "2c4b7d0e-1f3a-4e5b-8c6d-9e0f1a2b3c4d");
	/* "\;" is a ';' inside a value. */
	assert_string_equal(m->ssid[0], "Corp;Guest");
	assert_string_equal(m->ssid[1], "Corp");
	assert_string_equal(m->bssid[0], "00:11:22:aa:bb:cc");
	assert_string_equal(m->gateway_mac[1], "00:11:22:33:44:55");
	assert_int_equal(m->nsubnet, 3);
	assert_int_equal(m->subnet[0].len, 16);
	assert_int_equal(m->subnet[0].addr[1], 20);
	assert_int_equal(m->subnet[1].len, 32);
	assert_int_equal(m->subnet[2].len, 0);
	assert_string_equal(m->dns_domain[0], "corp.example");
	assert_string_equal(m->dns_domain[1], "example.org");
	assert_true(m->vpn_any);
	assert_string_equal(m->vpn[0], "Office VPN");
	assert_null(m->vpn[1]);
	assert_int_equal(m->connectivity, (1u << NETCONN_LIMITED) |
	    (1u << NETCONN_FULL));
	assert_int_equal(p->priority, -3);
	assert_string_equal(p->fallback, "other");
	assert_true(profile_has_match(p));
	profile_free(p);
	diag_free(&d);

	/* vpn = yes alone: any VPN, no names. */
	p = load("v.conf", "[match]\nvpn = YES\n[upstream]\nhost = h\n", &d);
	assert_non_null(p);
	assert_true(p->match.vpn_any);
	assert_null(p->match.vpn);
	assert_true(profile_has_match(p));
	profile_free(p);
	diag_free(&d);

	/* No network keys. */
	p = load("n.conf", "[match]\ndefault = true\npriority = 2\n"
	    "[upstream]\nhost = h\n", &d);
	assert_non_null(p);
	assert_false(profile_has_match(p));
	assert_null(p->fallback);
	profile_free(p);
	diag_free(&d);
}

static void
test_match_bad_values(void **state)
{
	struct diag	d;

	assert_null(load("bad.conf",
	    "[match]\n"
	    "gateway-mac = 00:11:22:33:44\n"
	    "bssid = 00:11:22:33:44:55; zz:11:22:33:44:55\n"
	    "subnet = 192.168.1.0\n"
	    "connectivity = online\n"
	    "uuid = not-a-uuid\n"
	    "dns-domain = .corp.example\n"
	    "vpn = no\n"
	    "ssid = ThisNameIsLongerThanThirtyTwoBytes\n"
	    "connection = ;\n"
	    "[upstream]\nhost = h\n", &d));
	assert_msg(&d, "bad.conf", 2, "[match] gateway-mac: '00:11:22:33:44' "
	    "is not a MAC address; write six pairs of hex digits, e.g. "
	    "aa:bb:cc:dd:ee:ff");
	assert_msg_has(&d, "bad.conf:3: [match] bssid: 'zz:11:22:33:44:55' "
	    "is not a MAC address");
	assert_msg(&d, "bad.conf", 4, "[match] subnet: '192.168.1.0' is not a "
	    "prefix; write ADDRESS/LENGTH, e.g. 192.168.1.0/24 or "
	    "2001:db8::/32");
	assert_msg(&d, "bad.conf", 5, "[match] connectivity: 'online' is not "
	    "one of none, portal, limited, full");
	assert_msg_has(&d, "bad.conf:6: [match] uuid: 'not-a-uuid' is not a "
	    "uuid; write it as nmcli");
	assert_msg(&d, "bad.conf", 7, "[match] dns-domain: '.corp.example' is "
	    "not a domain; write corp.example (it matches its subdomains "
	    "too)");
	assert_msg_has(&d, "bad.conf:8: [match] vpn: 'no': vpn takes yes "
	    "(any VPN) or a VPN connection's name");
	assert_msg_has(&d, "bad.conf:9: [match] ssid: "
	    "'ThisNameIsLongerThanThirtyTwoBytes' is longer than 32 bytes");
	assert_msg(&d, "bad.conf", 10, "[match] connection: empty value; give "
	    "a value or remove the line");
	assert_int_equal(d.nerrors, 9);
	diag_free(&d);

	/* Prefixes, one at a time. */
	{
		static const char *const bad[] = { "10.0.0.0/33", "::/129",
		    "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/",
		    "10.0.0.0/8/8", "/8", "example.org/8", "10.0.0/8",
		    "10.0.0.0/0x8", NULL };
		struct profile_prefix	pp;
		int			hb;
		size_t			i;

		for (i = 0; bad[i] != NULL; i++)
			if (profile_parse_prefix(bad[i], &pp, &hb) != -1)
				fail_msg("%s taken as a prefix", bad[i]);
		assert_int_equal(profile_parse_prefix("192.168.1.77/24", &pp,
		    &hb), 0);
		assert_true(hb);
		assert_int_equal(pp.addr[3], 0);
		assert_int_equal(profile_parse_prefix("2001:db8::/32", &pp,
		    &hb), 0);
		assert_false(hb);
		assert_int_equal(profile_parse_prefix("::1/128", &pp, &hb), 0);
		assert_int_equal(pp.addr[15], 1);
		assert_int_equal(profile_parse_prefix("0.0.0.0/0", &pp, &hb),
		    0);
	}
	/* MACs. */
	{
		char	mac[18];

		assert_int_equal(profile_parse_mac("AA-bb-CC-dd-EE-ff", mac),
		    0);
		assert_string_equal(mac, "aa:bb:cc:dd:ee:ff");
		assert_int_equal(profile_parse_mac("aa:bb-cc:dd:ee:ff", mac),
		    -1);
		assert_int_equal(profile_parse_mac("aabbccddeeff", mac), -1);
		assert_int_equal(profile_parse_mac("aa:bb:cc:dd:ee:ff:", mac),
		    -1);
		assert_int_equal(profile_parse_mac("a:bb:cc:dd:ee:fff", mac),
		    -1);
	}

	/* A prefix with host bits is only a warning. */
	{
		struct profile *p = load("hb.conf", "[match]\n"
		    "subnet = 192.168.1.77/24\n[upstream]\nhost = h\n", &d);

		assert_non_null(p);
		assert_msg(&d, "hb.conf", 2, "warning: [match] subnet: "
		    "'192.168.1.77/24' has bits set past /24; it is read as "
		    "192.168.1.0/24");
		profile_free(p);
		diag_free(&d);
	}

	/* Too many values. */
	{
		GString *text = g_string_new("[match]\nssid = ");
		int	 i;

		for (i = 0; i <= PROFILE_MATCH_VALUES_MAX; i++)
			g_string_append_printf(text, "net%d;", i);
		g_string_append(text, "\n[upstream]\nhost = h\n");
		assert_null(load("many.conf", text->str, &d));
		assert_msg(&d, "many.conf", 2, "[match] ssid: 33 values; write "
		    "at most 32 (or make two profiles)");
		g_string_free(text, TRUE);
		diag_free(&d);
	}

	/* The fallback's name, at load time. */
	assert_null(load("self.conf", "[upstream]\nhost = h\n"
	    "fallback = self\n", &d));
	assert_msg(&d, "self.conf", 3, "[upstream] fallback: 'self' is this "
	    "profile; name another one, or remove the line");
	diag_free(&d);
	assert_null(load("fb.conf", "[upstream]\nhost = h\n"
	    "fallback = other.conf x\n", &d));
	assert_msg_has(&d, "fb.conf:3: [upstream] fallback: 'other.conf x' is "
	    "not a profile name");
	diag_free(&d);
}

/* Load the folder; returns the number of profiles. */
static size_t
load_dir(struct profile_set *set, struct diag *d, int want_rc)
{
	diag_init(d);
	assert_int_equal(profile_set_load(dir, set, d), want_rc);
	return set->n;
}

static void
test_fallbacks(void **state)
{
	struct profile_set	 set;
	struct diag		 d;
	char			*a, *b, *c, *want;

	/* A chain: submission -> smtps -> isp, kept as written. */
	g_free(write_file("submission.conf", "[match]\ndefault = true\n"
	    "[upstream]\nhost = h\nfallback = smtps\n"));
	g_free(write_file("smtps.conf", "[upstream]\nhost = h\ntls = tls\n"
	    "fallback = isp\n"));
	g_free(write_file("isp.conf", "[match]\nssid = Home\n"
	    "[upstream]\nhost = h\ntls = none\n"));
	assert_int_equal(load_dir(&set, &d, 0), 3);
	/* smtps has no [match] keys, but it is a fallback: no warning. */
	assert_int_equal(d.n, 0);
	assert_string_equal(profile_set_find(&set, "submission")->fallback,
	    "smtps");
	assert_string_equal(profile_set_find(&set, "smtps")->fallback, "isp");
	assert_null(profile_set_find(&set, "isp")->fallback);
	profile_set_free(&set);
	diag_free(&d);

	/* A fallback that names no profile: an error, with a hint. */
	a = write_file("smtps.conf", "[upstream]\nhost = h\n\n"
	    "fallback = isb\n");
	assert_int_equal(load_dir(&set, &d, -1), 2);
	assert_null(profile_set_find(&set, "smtps"));
	want = g_strdup_printf("%s:4: [upstream] fallback: no profile 'isb'; "
	    "did you mean isp?", a);
	assert_msg_has(&d, want);
	g_free(want);
	/* submission's fallback was dropped with it: a warning, cleared. */
	assert_msg_has(&d, "submission.conf:5: warning: [upstream] fallback: "
	    "'smtps' is not loaded (its errors are above); 'submission' has "
	    "no fallback until it is fixed");
	assert_null(profile_set_find(&set, "submission")->fallback);
	assert_int_equal(d.nerrors, 1);
	profile_set_free(&set);
	diag_free(&d);
	g_free(a);

	g_free(write_file("smtps.conf", "[upstream]\nhost = h\n"
	    "fallback = nowhere-near\n"));
	load_dir(&set, &d, -1);
	assert_msg_has(&d, "smtps.conf:3: [upstream] fallback: no profile "
	    "'nowhere-near'; the profiles are isp, smtps, submission");
	profile_set_free(&set);
	diag_free(&d);

	/* A circle: said once, with the chain, at its first profile. */
	a = write_file("smtps.conf", "[upstream]\nhost = h\n"
	    "fallback = isp\n");
	b = write_file("isp.conf", "[match]\nssid = Home\n[upstream]\n"
	    "host = h\nfallback = submission\n");
	c = write_file("submission.conf", "[match]\ndefault = true\n"
	    "[upstream]\nhost = h\nfallback = smtps\n");
	assert_int_equal(load_dir(&set, &d, -1), 0);
	want = g_strdup_printf("%s:5: [upstream] fallback: fallbacks go round "
	    "in a circle: isp -> submission -> smtps -> isp; end the chain "
	    "with a profile that has no fallback", b);
	assert_msg_has(&d, want);
	g_free(want);
	assert_int_equal(d.nerrors, 1);
	profile_set_free(&set);
	diag_free(&d);

	/* Leading into a circle: the circle is the error; the way in
	 * loses its fallback. */
	g_free(write_file("smtps.conf", "[upstream]\nhost = h\n"
	    "fallback = isp\n"));
	g_free(write_file("isp.conf", "[match]\nssid = Home\n[upstream]\n"
	    "host = h\nfallback = smtps\n"));
	g_free(write_file("submission.conf", "[match]\ndefault = true\n"
	    "[upstream]\nhost = h\nfallback = smtps\n"));
	assert_int_equal(load_dir(&set, &d, -1), 1);
	assert_msg_has(&d, "isp.conf:5: [upstream] fallback: fallbacks go "
	    "round in a circle: isp -> smtps -> isp;");
	assert_msg_has(&d, "submission.conf:5: warning: [upstream] fallback: "
	    "'smtps' is not loaded");
	assert_null(set.v[0]->fallback);
	assert_int_equal(d.nerrors, 1);
	profile_set_free(&set);
	diag_free(&d);

	/* A fallback to a profile with errors of its own. */
	g_free(write_file("smtps.conf", "[upstream]\nport = 1\n"));
	g_free(write_file("isp.conf", "[match]\nssid = Home\n[upstream]\n"
	    "host = h\n"));
	assert_int_equal(load_dir(&set, &d, -1), 2);
	assert_msg_has(&d, "smtps.conf:1: [upstream] host: missing");
	assert_msg_has(&d, "submission.conf:5: warning: [upstream] fallback: "
	    "'smtps' is not loaded (its errors are above)");
	assert_int_equal(d.nerrors, 1);
	profile_set_free(&set);
	diag_free(&d);
	g_free(a);
	g_free(b);
	g_free(c);
}

/* A profile nothing leads to automatically: a warning says how to use it. */
static void
test_never_chosen(void **state)
{
	struct profile_set	set;
	struct diag		d;

	g_free(write_file("spare.conf", "[match]\npriority = 1\n"
	    "[upstream]\nhost = h\n"));
	g_free(write_file("home.conf", "[match]\nssid = Home\n"
	    "[upstream]\nhost = h\n"));
	assert_int_equal(load_dir(&set, &d, 0), 2);
	assert_msg(&d, "spare.conf", 1, "warning: [match]: no network keys and "
	    "not the default, so 'spare' is never chosen automatically; add "
	    "keys such as ssid = or subnet =, or default = true, or choose it "
	    "by hand with roamsmtpctl use spare");
	assert_int_equal(d.n, 1);
	profile_set_free(&set);
	diag_free(&d);
}

static void
test_credentials_rules(void **state)
{
	struct diag	 d;

	/* A user needs a password source. */
	assert_null(load("a.conf", "[upstream]\nhost = h\nuser = alice\n", &d));
	assert_msg(&d, "a.conf", 3, "[upstream] user: no password for 'alice'; "
	    "add password-command = ..., password-secret = attr=value ... "
	    "(the Secret Service) or password-file = ... (mode 0600)");
	diag_free(&d);

	/* One source only. */
	assert_null(load("b.conf", "[upstream]\nhost = h\nuser = alice\n"
	    "password-command = true\npassword-file = /x\n", &d));
	assert_msg(&d, "b.conf", 4, "[upstream] password-command: more than "
	    "one of password-command, password-file and password-secret is "
	    "set; keep one of them");
	diag_free(&d);

	/* AUTH needs a user. */
	assert_null(load("c.conf", "[upstream]\nhost = h\nauth = plain\n", &d));
	assert_msg(&d, "c.conf", 3, "[upstream] auth: 'plain' needs a user; "
	    "add user = your login, or write auth = none");
	diag_free(&d);

	/* No password over a plain connection unless the profile says so. */
	assert_null(load("d.conf", "[upstream]\nhost = h\ntls = none\n"
	    "user = u\npassword-command = true\n", &d));
	assert_msg_has(&d, "d.conf:3: [upstream] tls: 'none' would send the "
	    "password unencrypted");
	diag_free(&d);
	{
		struct profile *p = load("e.conf", "[upstream]\nhost = h\n"
		    "tls = none\nuser = u\npassword-command = true\n"
		    "allow-plaintext-auth = yes\n", &d);

		assert_non_null(p);
		assert_int_equal(d.nerrors, 0);
		profile_free(p);
		diag_free(&d);
	}

	/* A password without AUTH is only a warning. */
	{
		struct profile *p = load("f.conf", "[upstream]\nhost = h\n"
		    "auth = none\npassword-command = true\n", &d);

		assert_non_null(p);
		assert_int_equal(d.nerrors, 0);
		assert_msg_has(&d, "f.conf:4: warning: [upstream] "
		    "password-command: ignored");
		profile_free(p);
		diag_free(&d);
	}
}

static void
test_host_pin_ca_name(void **state)
{
	struct diag	 d;
	char		*path;

	assert_null(load("nohost.conf", "[match]\ndefault = true\n\n"
	    "[upstream]\nport = 25\n", &d));
	assert_msg(&d, "nohost.conf", 4, "[upstream] host: missing; add host = "
	    "your mail server's name");
	diag_free(&d);

	assert_null(load("empty.conf", "# nothing\n", &d));
	assert_msg_has(&d, "empty.conf: [upstream]: missing");
	diag_free(&d);

	assert_null(load("pin.conf", "[upstream]\nhost = h\n"
	    "pin = sha256//tooshort=\n", &d));
	assert_msg_has(&d, "pin.conf:3: [upstream] pin: 'sha256//tooshort=' is "
	    "not a pin; write sha256// and the base64");
	diag_free(&d);

	assert_null(load("ca.conf", "[upstream]\nhost = h\n"
	    "ca-file = missing.pem\n", &d));
	path = g_strdup_printf("ca.conf:3: [upstream] ca-file: cannot read "
	    "%s/missing.pem: No such file or directory", dir);
	assert_msg_has(&d, path);
	g_free(path);
	diag_free(&d);

	assert_null(load("bad name.conf", "[upstream]\nhost = h\n", &d));
	assert_msg_has(&d, "bad name.conf: 'bad name' is not a profile name");
	diag_free(&d);

	/* GLib's own words, with the file. */
	assert_null(load("syntax.conf", "[upstream]\nhost = h\nthis is not "
	    "ini\n", &d));
	assert_msg_has(&d, "syntax.conf: ");
	assert_msg_has(&d, "this is not ini");
	assert_int_equal(d.nerrors, 1);
	diag_free(&d);

	/* A comment after a value is part of it: a warning says so. */
	assert_null(load("cmt.conf", "[upstream]\nhost = h\n"
	    "port = 587 # submission\n", &d));
	assert_msg_has(&d, "cmt.conf:3: warning: [upstream] port: '587 # "
	    "submission': a '#' after a value is part of the value");
	diag_free(&d);
}

static void
test_set_sorted_and_one_default(void **state)
{
	struct profile_set	 set;
	struct diag		 d;
	char			*a, *b, *want;

	g_free(write_file("zeta.conf", "[upstream]\nhost = z\n"));
	a = write_file("alpha.conf", "[match]\ndefault = true\n[upstream]\n"
	    "host = a\n");
	b = write_file("beta.conf", "[upstream]\nhost = b\n[match]\n"
	    "default = true\n");
	g_free(write_file("broken.conf", "[upstream]\nport = 1\n"));
	g_free(write_file("notes.txt", "not a profile\n"));
	g_free(write_file(".hidden.conf", "[upstream]\n"));

	diag_init(&d);
	assert_int_equal(profile_set_load(dir, &set, &d), -1);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.v[0]->name, "alpha");
	assert_string_equal(set.v[1]->name, "zeta");
	assert_true(set.v[0]->is_default);
	assert_non_null(profile_set_find(&set, "zeta"));
	assert_null(profile_set_find(&set, "beta"));
	assert_null(profile_set_find(&set, "broken"));
	want = g_strdup_printf("%s:4: [match] default: 'alpha' (%s) is "
	    "already the default profile; set default = true in one file only",
	    b, a);
	assert_msg_has(&d, want);
	assert_msg_has(&d, "broken.conf:1: [upstream] host: missing");
	assert_int_equal(d.nerrors, 2);
	profile_set_free(&set);
	diag_free(&d);
	g_free(want);
	g_free(a);
	g_free(b);

	/* No folder: no profiles, no error. */
	diag_init(&d);
	want = g_strdup_printf("%s/none", dir);
	assert_int_equal(profile_set_load(want, &set, &d), 0);
	assert_int_equal(set.n, 0);
	assert_int_equal(d.n, 0);
	profile_set_free(&set);
	diag_free(&d);
	g_free(want);
}

/* The shipped examples load cleanly. */
static void
test_examples_load(void **state)
{
	struct profile_set	 set;
	struct diag		 d;
	const char		*data = getenv("ROAMSMTP_TEST_DATA");
	char			*base, *up;
	char			*ex;
	size_t			 i;

	/* tests/unit/data -> the top of the tree, by name: the data folder
	 * need not exist. */
	base = data != NULL ? g_strdup(data) : g_path_get_dirname(__FILE__);
	for (i = 0; i < (data != NULL ? 3 : 2); i++) {
		up = g_path_get_dirname(base);
		g_free(base);
		base = up;
	}
	ex = g_build_filename(base, "profiles", "examples", NULL);
	diag_init(&d);
	assert_int_equal(profile_set_load(ex, &set, &d), 0);
	for (i = 0; i < d.n; i++)
		print_message("%s\n", d.msgs[i]);
	assert_int_equal(d.n, 0);
	assert_int_equal(set.n, 5);
	assert_int_equal(profile_set_find(&set, "isp-relay")->port, 25);
	assert_string_equal(profile_set_find(&set,
	    "isp-relay")->match.gateway_mac[0], "00:11:22:33:44:55");
	assert_true(profile_set_find(&set, "submission")->is_default);
	assert_string_equal(profile_set_find(&set, "submission")->fallback,
	    "implicit-tls");
	assert_string_equal(profile_set_find(&set,
	    "office-vpn")->match.vpn[0], "Office VPN");
	assert_int_equal(profile_set_find(&set, "office-vpn")->priority, 10);
	assert_int_equal(profile_set_find(&set, "home-server")->match.nsubnet,
	    2);
	assert_string_equal(profile_set_find(&set,
	    "implicit-tls")->match.ssid[1], "Airport Free WiFi");
	assert_int_equal(profile_set_find(&set, "implicit-tls")->tls,
	    TLSMODE_IMPLICIT);
	assert_true(profile_set_find(&set, "home-server")->has_pin);
	assert_int_equal(profile_set_find(&set, "submission")->auth,
	    AUTHC_PLAIN);
	profile_set_free(&set);
	diag_free(&d);
	g_free(ex);
	g_free(base);
}

static void
test_key_lines(void **state)
{
	const char	*text =
	    "[a]\n"
	    "x = 1\n"
	    "  [b]\r\n"
	    "x=2\n"
	    "xy = 3\n"
	    "[a]\n"
	    "x = 4\n";

	assert_int_equal(conf_group_line(text, "a"), 1);
	assert_int_equal(conf_group_line(text, "b"), 3);
	assert_int_equal(conf_group_line(text, "c"), 0);
	/* The last one counts, as in GKeyFile. */
	assert_int_equal(conf_key_line(text, "a", "x"), 7);
	assert_int_equal(conf_key_line(text, "b", "x"), 4);
	assert_int_equal(conf_key_line(text, "b", "xy"), 5);
	assert_int_equal(conf_key_line(text, "b", "y"), 0);
	assert_string_equal(conf_suggest("hots", (const char *const[]){
	    "port", "host", NULL }), "host");
	assert_null(conf_suggest("frobnicate", (const char *const[]){
	    "port", "host", NULL }));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_submission_profile,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults_follow_tls,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values_name_line_and_fix,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_keys_and_groups,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_keys,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_bad_values,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallbacks,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_chosen,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials_rules,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_pin_ca_name,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_sorted_and_one_default,
		    setup, teardown),
		cmocka_unit_test(test_examples_load),
		cmocka_unit_test(test_key_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
