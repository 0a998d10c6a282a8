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
	    "auth = xoauth2\nuser = u\npassword-command = true\n", &d));
	assert_msg_has(&d, "p.conf:3: [upstream] port: '70000' is not a port");
	assert_msg(&d, "p.conf", 4, "[upstream] auth: 'xoauth2' is not one of "
	    "auto, plain, login, cram-md5, none");
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
	assert_msg_has(&d, "typo.conf:6: [match] ssid: matching by network "
	    "is not supported yet");
	assert_msg(&d, "typo.conf", 7, "[match] defualt: unknown key; did you "
	    "mean default?");
	assert_msg(&d, "typo.conf", 8, "[upsteam]: unknown group; did you "
	    "mean [upstream]?");
	assert_msg_has(&d, "typo.conf:10: [weird]: unknown group");
	assert_int_equal(d.nerrors, 6);
	diag_free(&d);
}

static void
test_credentials_rules(void **state)
{
	struct diag	 d;

	/* A user needs a password source. */
	assert_null(load("a.conf", "[upstream]\nhost = h\nuser = alice\n", &d));
	assert_msg(&d, "a.conf", 3, "[upstream] user: no password for 'alice'; "
	    "add password-command = ... or password-file = ... (mode 0600)");
	diag_free(&d);

	/* One source only. */
	assert_null(load("b.conf", "[upstream]\nhost = h\nuser = alice\n"
	    "password-command = true\npassword-file = /x\n", &d));
	assert_msg(&d, "b.conf", 5, "[upstream] password-file: both "
	    "password-command and password-file are set; keep one of them");
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
	assert_int_equal(set.n, 4);
	assert_int_equal(profile_set_find(&set, "isp-relay")->port, 25);
	assert_true(profile_set_find(&set, "isp-relay")->is_default);
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
