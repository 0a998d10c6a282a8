/* test_secret.c - a profile's password from a command or a private file,
 * an OAuth2 profile's token from its token-command; failures say why
 * without ever showing what the command printed.  The Secret Service's
 * failures are here (no bus); its success is the e2e scenario
 * secret_service_password, against a real gnome-keyring. */
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

#include "profile.h"
#include "secret.h"

static char *dir;

static int
setup(void **state)
{
	dir = g_dir_make_tmp("test_secret.XXXXXX", NULL);
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

static void
profile_with_command(struct profile *p, char *cmd)
{
	memset(p, 0, sizeof(*p));
	p->name = "home";
	p->path = "/home/a/.config/roamsmtp/profiles/home.conf";
	p->password_command = cmd;
}

static void
test_command_first_line(void **state)
{
	struct profile	 p;
	char		 err[512], *pw;

	profile_with_command(&p, "printf 'hunter2\\r\\nsecond line\\n'");
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), 0);
	assert_string_equal(pw, "hunter2");
	secret_free(pw);

	/* No newline at the end is fine; stdin is empty. */
	profile_with_command(&p, "cat; printf tok");
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), 0);
	assert_string_equal(pw, "tok");
	secret_free(pw);
}

static void
test_command_failures_hide_output(void **state)
{
	struct profile	 p;
	char		 err[512], *pw = (char *)"untouched";

	profile_with_command(&p, "echo hunter2; exit 3");
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), -1);
	assert_null(pw);
	assert_non_null(strstr(err, "profile home: password-command exited "
	    "with status 3"));
	assert_non_null(strstr(err, p.path));
	assert_null(strstr(err, "hunter2"));

	profile_with_command(&p, "true");
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "printed nothing"));

	profile_with_command(&p, "printf '\\nhunter2\\n'");
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "printed nothing"));
	assert_null(strstr(err, "hunter2"));

	profile_with_command(&p, "kill -TERM $$");
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "killed by signal 15"));

	/* A runaway command: its first line is too long, the rest drained. */
	profile_with_command(&p, "head -c 100000 /dev/zero | tr '\\0' x");
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 4095 bytes"));
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
test_file_must_be_private(void **state)
{
	struct profile	 p;
	char		 err[1024], *pw, *path, *want, *link;

	path = write_file("pw", "hunter2\nrest\n", 0600);
	memset(&p, 0, sizeof(p));
	p.name = "home";
	p.path = "home.conf";
	p.password_file = path;
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), 0);
	assert_string_equal(pw, "hunter2");
	secret_free(pw);

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), -1);
	want = g_strdup_printf("profile home: %s is readable by others (mode "
	    "0640); run: chmod 600 %s", path, path);
	assert_string_equal(err, want);
	g_free(want);

	/* A link is refused: the mode checked must be the file's own. */
	assert_int_equal(chmod(path, 0600), 0);
	link = g_build_filename(dir, "link", NULL);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(secret_read_file(link, &pw, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a regular file"));
	g_free(link);
	g_free(path);

	path = write_file("empty", "\n", 0600);
	assert_int_equal(secret_read_file(path, &pw, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "has no password on its first line"));
	g_free(path);

	assert_int_equal(secret_read_file("/nonexistent/pw", &pw, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read /nonexistent/pw"));
}

static void
test_no_source(void **state)
{
	struct profile	 p;
	char		 err[512], *pw;

	memset(&p, 0, sizeof(p));
	p.name = "x";
	p.path = "x.conf";
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), -1);
	assert_non_null(strstr(err,
	    "no password-command, password-secret or password-file"));
	secret_free(NULL);
}

/* An OAuth2 profile runs token-command, not password-command, and its
 * errors say token-command. */
static void
test_token_command(void **state)
{
	struct profile	 p;
	char		 err[512], *tok;

	profile_with_command(&p, "echo not-this");
	p.auth = AUTHC_XOAUTH2;
	p.token_command = "printf 'ya29.tok\\n'";
	assert_int_equal(secret_fetch(&p, &tok, err, sizeof(err)), 0);
	assert_string_equal(tok, "ya29.tok");
	secret_free(tok);

	p.auth = AUTHC_OAUTHBEARER;
	p.token_command = "echo leaked-token; exit 3";
	assert_int_equal(secret_fetch(&p, &tok, err, sizeof(err)), -1);
	assert_null(tok);
	assert_non_null(strstr(err, "token-command exited with status 3"));
	assert_null(strstr(err, "leaked"));

	p.token_command = "true";
	assert_int_equal(secret_fetch(&p, &tok, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must print the access token"));

	p.token_command = NULL;
	assert_int_equal(secret_fetch(&p, &tok, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "auth = oauthbearer needs token-command"));
}

/* No Secret Service on the bus (no bus at all): the error says what was
 * asked for and what to check, and is bounded in time by the cancel. */
static void
test_secret_service_unreachable(void **state)
{
	struct profile	 p;
	char		 err[1024], *pw;

	memset(&p, 0, sizeof(p));
	p.name = "home";
	p.path = "home.conf";
	p.auth = AUTHC_AUTO;
	p.password_secret = "service=roamsmtp user=alice";
	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus", 1);
	assert_int_equal(secret_fetch(&p, &pw, err, sizeof(err)), -1);
	assert_null(pw);
	assert_non_null(strstr(err, "profile home: "));
#ifdef HAVE_LIBSECRET
	assert_non_null(strstr(err, "cannot ask the Secret Service for "
	    "service=roamsmtp user=alice"));
#else
	assert_non_null(strstr(err, "secret-tool lookup service roamsmtp "
	    "user alice"));
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_first_line),
		cmocka_unit_test(test_command_failures_hide_output),
		cmocka_unit_test_setup_teardown(test_file_must_be_private,
		    setup, teardown),
		cmocka_unit_test(test_no_source),
		cmocka_unit_test(test_token_command),
		cmocka_unit_test(test_secret_service_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
