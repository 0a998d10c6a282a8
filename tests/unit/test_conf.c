/* test_conf.c - roamsmtp.conf: built-in defaults from the XDG variables,
 * loopback-only listeners, paths, and errors that name the line. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

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

#include "conf.h"
#include "diag.h"
#include "smtp_limits.h"

static char *dir;

static int
setup(void **state)
{
	if ((dir = g_dir_make_tmp("test_conf.XXXXXX", NULL)) == NULL)
		return -1;
	setenv("HOME", dir, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_STATE_HOME");
	unsetenv("XDG_RUNTIME_DIR");
	return 0;
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

static char *
write_file(const char *name, const char *text, int mode)
{
	char	*path = g_build_filename(dir, name, NULL);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

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
test_defaults_without_a_file(void **state)
{
	struct daemon_conf	 c;
	struct diag		 d;
	char			*want, hn[256];

	diag_init(&d);
	assert_int_equal(conf_load(NULL, &c, &d), 0);
	assert_int_equal(d.n, 0);
	assert_null(c.path);
	assert_int_equal(c.nlisten, 2);
	assert_string_equal(c.listen[0].text, "127.0.0.1:25");
	assert_string_equal(c.listen[1].text, "[::1]:25");
	assert_int_equal(c.listen[0].ss.ss_family, AF_INET);
	assert_int_equal(c.listen[1].ss.ss_family, AF_INET6);
	assert_int_equal(c.listen[1].len, sizeof(struct sockaddr_in6));

	want = g_strdup_printf("%s/.local/state/roamsmtp", dir);
	assert_string_equal(c.state_dir, want);
	g_free(want);
	want = g_strdup_printf("/tmp/roamsmtp-%u", (unsigned)getuid());
	assert_string_equal(c.runtime_dir, want);
	g_free(want);
	want = g_strdup_printf("%s/.config/roamsmtp/profiles", dir);
	assert_string_equal(c.profiles_dir, want);
	g_free(want);
	assert_int_equal(gethostname(hn, sizeof(hn)), 0);
	assert_string_equal(c.hostname, hn);
	assert_int_equal(c.max_message_size, DEFAULT_MAX_MESSAGE_SIZE);
	assert_int_equal(c.max_recipients, DEFAULT_MAX_RECIPIENTS);
	assert_int_equal(c.max_sessions, DEFAULT_MAX_SESSIONS);
	assert_null(c.client_auth_user);
	assert_null(c.client_auth_password);
	conf_free(&c);

	/* The XDG variables move everything. */
	setenv("XDG_STATE_HOME", "/xs", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	setenv("XDG_CONFIG_HOME", "/xc", 1);
	want = conf_default_path();
	assert_string_equal(want, "/xc/roamsmtp/roamsmtp.conf");
	free(want);
	assert_int_equal(conf_load(NULL, &c, &d), 0);
	assert_string_equal(c.state_dir, "/xs/roamsmtp");
	assert_string_equal(c.runtime_dir, "/run/user/4242/roamsmtp");
	assert_string_equal(c.profiles_dir, "/xc/roamsmtp/profiles");
	conf_free(&c);
	diag_free(&d);
}

static void
test_explicit_missing_file_is_an_error(void **state)
{
	struct daemon_conf	 c;
	struct diag		 d;

	diag_init(&d);
	assert_int_equal(conf_load("/nonexistent/roamsmtp.conf", &c, &d), -1);
	assert_msg_has(&d, "/nonexistent/roamsmtp.conf: ");
	assert_msg_has(&d, "give an existing file with -c");
	diag_free(&d);
}

static void
test_settings_and_paths(void **state)
{
	struct daemon_conf	 c;
	struct diag		 d;
	char			*path, *want, *pw;

	pw = write_file("client.pass", "s3cret\r\nignored\n", 0600);
	path = write_file("roamsmtp.conf",
	    "[daemon]\n"
	    "# loopback only\n"
	    "listen = localhost:2525   [::1]:2526\t127.0.0.2:25\n"
	    "state-dir = state\n"
	    "runtime-dir = /run/x\n"
	    "profiles-dir = ~/profiles\n"
	    "hostname = laptop.example\n"
	    "max-message-size = 1048576\n"
	    "max-recipients = 50\n"
	    "max-sessions = 7\n"
	    "client-auth-user = alice\n"
	    "client-auth-password-file = client.pass\n", 0644);
	diag_init(&d);
	assert_int_equal(conf_load(path, &c, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(c.path, path);
	assert_int_equal(c.nlisten, 3);
	assert_string_equal(c.listen[0].text, "localhost:2525");
	assert_int_equal(ntohs(((struct sockaddr_in *)&c.listen[0].ss)->
	    sin_port), 2525);
	assert_int_equal(ntohl(((struct sockaddr_in *)&c.listen[0].ss)->
	    sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&c.listen[1].ss)->
	    sin6_port), 2526);
	assert_string_equal(c.listen[2].text, "127.0.0.2:25");
	want = g_strdup_printf("%s/state", dir);
	assert_string_equal(c.state_dir, want);
	g_free(want);
	assert_string_equal(c.runtime_dir, "/run/x");
	want = g_strdup_printf("%s/profiles", dir);
	assert_string_equal(c.profiles_dir, want);
	g_free(want);
	assert_string_equal(c.hostname, "laptop.example");
	assert_int_equal(c.max_message_size, 1048576);
	assert_int_equal(c.max_recipients, 50);
	assert_int_equal(c.max_sessions, 7);
	assert_string_equal(c.client_auth_user, "alice");
	assert_string_equal(c.client_auth_password, "s3cret");
	conf_free(&c);
	diag_free(&d);
	g_free(path);
	g_free(pw);
}

static void
test_listen_parsing(void **state)
{
	struct conf_listen	 l;
	const char		*why;
	static const char *const good[] = { "127.0.0.1:25", "[::1]:25",
		"localhost:2525", "127.255.0.1:65535", NULL };
	static const char *const bad[] = { "127.0.0.1", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:x", "[::1]25", "::1:25",
		"[::1:25", "mail.example:25", ":25", "", "127.0.0.1:25:1",
		NULL };
	static const char *const open_relay[] = { "0.0.0.0:25", "[::]:25",
		"192.168.1.2:25", "[::ffff:127.0.0.1]:25", "[fe80::1]:25",
		"128.0.0.1:25", NULL };
	size_t			 i;

	for (i = 0; good[i] != NULL; i++) {
		assert_int_equal(conf_parse_listen(good[i], &l, &why), 0);
		assert_string_equal(l.text, good[i]);
	}
	for (i = 0; bad[i] != NULL; i++) {
		assert_int_equal(conf_parse_listen(bad[i], &l, &why), -1);
		assert_non_null(why);
		assert_null(strstr(why, "loopback only"));
	}
	for (i = 0; open_relay[i] != NULL; i++) {
		assert_int_equal(conf_parse_listen(open_relay[i], &l, &why),
		    -1);
		assert_non_null(strstr(why, "roamsmtpd listens on loopback "
		    "only (no open relay)"));
	}
}

static void
test_errors_name_line_and_key(void **state)
{
	struct daemon_conf	 c;
	struct diag		 d;
	char			*path, *want;

	path = write_file("bad.conf",
	    "[daemon]\n"
	    "listen = 127.0.0.1:2525 0.0.0.0:25\n"
	    "listn = 1\n"
	    "max-sessions = many\n"
	    "state-dir =\n"
	    "\n"
	    "[profile]\n"
	    "host = x\n"
	    "[something]\n", 0644);
	diag_init(&d);
	assert_int_equal(conf_load(path, &c, &d), -1);
	want = g_strdup_printf("%s:2: [daemon] listen: '0.0.0.0:25': roamsmtpd "
	    "listens on loopback only (no open relay)", path);
	assert_msg_has(&d, want);
	g_free(want);
	assert_msg_has(&d, "bad.conf:3: [daemon] listn: unknown key; did you "
	    "mean listen?");
	assert_msg_has(&d, "bad.conf:4: [daemon] max-sessions: 'many' is not "
	    "a number from 1 to");
	assert_msg_has(&d, "bad.conf:5: [daemon] state-dir: empty value");
	assert_msg_has(&d, "bad.conf:7: [profile]: unknown group; roamsmtp.conf "
	    "has only [daemon]");
	assert_msg_has(&d, "bad.conf:9: [something]: unknown group");
	assert_int_equal(d.nerrors, 6);
	/* A failed load leaves nothing to free, and conf_free is safe. */
	assert_null(c.state_dir);
	conf_free(&c);
	diag_free(&d);
	g_free(path);

	path = write_file("syntax.conf", "[daemon\n", 0644);
	diag_init(&d);
	assert_int_equal(conf_load(path, &c, &d), -1);
	assert_int_equal(d.nerrors, 1);
	assert_msg_has(&d, "syntax.conf: ");
	diag_free(&d);
	g_free(path);
}

static void
test_client_auth_needs_a_private_file(void **state)
{
	struct daemon_conf	 c;
	struct diag		 d;
	char			*path, *pw, *want;

	path = write_file("a.conf", "[daemon]\nclient-auth-user = alice\n",
	    0644);
	diag_init(&d);
	assert_int_equal(conf_load(path, &c, &d), -1);
	assert_msg_has(&d, "a.conf:2: [daemon] client-auth-user: needs "
	    "client-auth-password-file");
	diag_free(&d);
	g_free(path);

	pw = write_file("open.pass", "s3cret\n", 0644);
	path = write_file("b.conf", "[daemon]\nclient-auth-user = alice\n"
	    "client-auth-password-file = open.pass\n", 0644);
	diag_init(&d);
	assert_int_equal(conf_load(path, &c, &d), -1);
	want = g_strdup_printf("b.conf:3: [daemon] client-auth-password-file: "
	    "%s is readable by others (mode 0644); run: chmod 600 %s", pw, pw);
	assert_msg_has(&d, want);
	/* The password itself is never in a message. */
	assert_null(strstr(d.msgs[0], "s3cret"));
	g_free(want);
	diag_free(&d);
	g_free(path);
	g_free(pw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_without_a_file,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_explicit_missing_file_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_and_paths,
		    setup, teardown),
		cmocka_unit_test(test_listen_parsing),
		cmocka_unit_test_setup_teardown(test_errors_name_line_and_key,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_client_auth_needs_a_private_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
