/*
 * test_sendmail.c - roamsmtp-sendmail's message handling: -t's address
 * parsing, -i and the lone dot, line ends made CRLF, dot stuffing, Bcc:
 * removed, missing headers, and the exit status for each refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <cmocka.h>

#include "sendmail.h"

/* Run sm_read_input on a string; the result is malloc'ed. */
static char *
read_input(const char *in, size_t inlen, int dot_ends, long long *n)
{
	FILE	*fi, *fo;
	char	*out = NULL;
	size_t	 olen = 0;

	fi = fmemopen((void *)in, inlen, "r");
	fo = open_memstream(&out, &olen);
	assert_non_null(fi);
	assert_non_null(fo);
	*n = sm_read_input(fi, fo, dot_ends);
	fclose(fi);
	fclose(fo);
	return out;
}

/* sm_transfer of a string; malloc'ed. */
static char *
transfer(const char *msg, const char *add)
{
	FILE	*fi, *fo;
	char	*out = NULL;
	size_t	 olen = 0;

	fi = fmemopen((void *)msg, strlen(msg), "r");
	fo = open_memstream(&out, &olen);
	assert_true(sm_transfer(fi, add, fo) >= 0);
	fclose(fi);
	fclose(fo);
	return out;
}

static int
scan(const char *msg, struct sm_scan *s, char *err, size_t errlen)
{
	FILE	*f = fmemopen((void *)msg, strlen(msg), "r");
	int	 r;

	assert_non_null(f);
	r = sm_scan(f, s, err, errlen);
	fclose(f);
	return r;
}

static void
parse_ok(const char *value, int n, ...)
{
	struct sm_addrs	 a = { NULL, 0 };
	char		 err[256];
	va_list		 ap;
	int		 i;

	assert_int_equal(sm_parse_addresses(value, &a, err, sizeof(err)), n);
	assert_int_equal(a.n, (size_t)n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(a.v[i], va_arg(ap, const char *));
	va_end(ap);
	sm_addrs_free(&a);
}

static void
parse_fails(const char *value, const char *why)
{
	struct sm_addrs	 a = { NULL, 0 };
	char		 err[256] = "";

	assert_int_equal(sm_parse_addresses(value, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, why));
	sm_addrs_free(&a);
}

static void
test_addresses(void **state)
{
	parse_ok("bob@example.net", 1, "bob@example.net");
	parse_ok("Bob <bob@example.net>", 1, "bob@example.net");
	parse_ok(" \"Smith, Carol\" <carol@example.org> , bob@example.net "
	    "(Bob, at home)", 2, "carol@example.org", "bob@example.net");
	/* Folding left in an unfolded value, comments anywhere. */
	parse_ok("a@x,\r\n\tB (the (nested) comment) <b@y>", 2, "a@x", "b@y");
	/* Groups: the name goes, the members stay; an empty one adds none. */
	parse_ok("team: a@x, b@y;, c@z", 3, "a@x", "b@y", "c@z");
	parse_ok("undisclosed-recipients:;", 0);
	/* A quoted local part keeps its quotes; duplicates count once. */
	parse_ok("\"john doe\"@example.com, a@x, A <a@x>", 2,
	    "\"john doe\"@example.com", "a@x");
	/* An obsolete source route is reduced to the mailbox. */
	parse_ok("<@relay.example,@r2.example:u@example.org>", 1,
	    "u@example.org");
	parse_ok("", 0);

	parse_fails("Bob <bob@example.net", "'<' without '>'");
	parse_fails("bob@example.net>", "'>' without '<'");
	parse_fails("\"Bob <bob@example.net>", "not closed");
	parse_fails("(Bob <bob@example.net>", "not closed");
}

static void
test_addresses_limits(void **state)
{
	struct sm_addrs	 a = { NULL, 0 };
	char		 err[256], *v, *p;
	size_t		 i;

	/* An address over 256 octets. */
	v = malloc(400);
	assert_non_null(v);
	memset(v, 'a', 300);
	strcpy(v + 300, "@x");
	assert_int_equal(sm_parse_addresses(v, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over 256"));
	free(v);

	/* One recipient more than the limit. */
	v = malloc((SM_RCPT_MAX + 1) * 16);
	assert_non_null(v);
	for (p = v, i = 0; i <= SM_RCPT_MAX; i++)
		p += sprintf(p, "r%zu@x,", i);
	assert_int_equal(sm_parse_addresses(v, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than"));
	assert_int_equal(a.n, SM_RCPT_MAX);
	sm_addrs_free(&a);
	free(v);
}

static void
test_read_input_line_ends(void **state)
{
	long long	 n;
	char		*out;

	/* LF stays, CRLF and a bare CR become LF, a missing last LF is
	 * added. */
	out = read_input("a\nb\r\nc\rd", 8, 0, &n);
	assert_string_equal(out, "a\nb\nc\nd\n");
	assert_int_equal(n, 8);
	free(out);
	/* "\r\r\n": a bare CR, then a CRLF: two line ends. */
	out = read_input("x\r\r\ny\n", 6, 0, &n);
	assert_string_equal(out, "x\n\ny\n");
	free(out);
	/* Octets above 127 and NUL are copied as they are. */
	out = read_input("\xc3\xa9t\xc3\xa9\n", 7, 0, &n);
	assert_string_equal(out, "\xc3\xa9t\xc3\xa9\n");
	free(out);
}

static void
test_read_input_dot(void **state)
{
	static const char in[] = "one\n.\n..two\n.three\n";
	long long	 n;
	char		*out;

	/* Without -i the lone dot is the end; nothing after it is read. */
	out = read_input(in, sizeof(in) - 1, 1, &n);
	assert_string_equal(out, "one\n");
	assert_int_equal(n, 4);
	free(out);
	/* With -i it is an ordinary line. */
	out = read_input(in, sizeof(in) - 1, 0, &n);
	assert_string_equal(out, in);
	free(out);
	/* ".\r\n" ends it too; a dot at the very end, without LF, also. */
	out = read_input("a\r\n.\r\nb\r\n", 9, 1, &n);
	assert_string_equal(out, "a\n");
	free(out);
	out = read_input("a\n.", 3, 1, &n);
	assert_string_equal(out, "a\n");
	free(out);
	/* A line of one dot with -i and no final LF is kept, with one. */
	out = read_input("a\n.", 3, 0, &n);
	assert_string_equal(out, "a\n.\n");
	free(out);
	/* ". " and ".." are not the end. */
	out = read_input(". \n..\n", 6, 1, &n);
	assert_string_equal(out, ". \n..\n");
	free(out);
}

static void
test_transfer(void **state)
{
	char	*out;

	/* CRLF, dot stuffing, Bcc and its continuation removed. */
	out = transfer("Subject: s\nBcc: hidden@x,\n other@y\nTo: t@x\n"
	    "\n.dot\n..two\n.\nend\n", NULL);
	assert_string_equal(out, "Subject: s\r\nTo: t@x\r\n\r\n..dot\r\n"
	    "...two\r\n..\r\nend\r\n");
	free(out);
	/* Added headers first; an mbox "From " line dropped; Resent-Bcc
	 * (any case) removed. */
	out = transfer("From alice Thu Jan  1 00:00:00 2026\n"
	    "resent-bcc: r@x\nSubject: s\n\nbody\n", "Date: d\r\n");
	assert_string_equal(out, "Date: d\r\nSubject: s\r\n\r\nbody\r\n");
	free(out);
	/* A body right after the headers gets its empty line. */
	out = transfer("Subject: s\nno blank line before me\n", NULL);
	assert_string_equal(out, "Subject: s\r\n\r\nno blank line before "
	    "me\r\n");
	free(out);
	/* No headers at all, added ones: an empty line between. */
	out = transfer("just text\n", "Date: d\r\n");
	assert_string_equal(out, "Date: d\r\n\r\njust text\r\n");
	free(out);
	/* "Bcc:" in the body is the body's. */
	out = transfer("A: b\n\nBcc: body@x\n", NULL);
	assert_string_equal(out, "A: b\r\n\r\nBcc: body@x\r\n");
	free(out);
	/* An indented first line is body, not a continuation. */
	out = transfer(" indented\nA: b\n", NULL);
	assert_string_equal(out, " indented\r\nA: b\r\n");
	free(out);
}

static void
test_scan_t(void **state)
{
	struct sm_scan		 s;
	const struct sm_addrs	*r;
	char			 err[512];

	assert_int_equal(scan("From: Alice <alice@example.org>\n"
	    "To: Bob <bob@example.net>,\n \"Smith, C\" <carol@example.org>\n"
	    "CC: dave@example.com\nbcc: eve@example.com\n"
	    "Subject: To: nobody@example.com\n\n"
	    "To: body@example.com\n", &s, err, sizeof(err)), 0);
	r = sm_scan_recipients(&s);
	assert_int_equal(r->n, 4);
	assert_string_equal(r->v[0], "bob@example.net");
	assert_string_equal(r->v[1], "carol@example.org");
	assert_string_equal(r->v[2], "dave@example.com");
	assert_string_equal(r->v[3], "eve@example.com");
	assert_string_equal(s.from_addr, "alice@example.org");
	assert_true(s.has_from);
	assert_false(s.has_date);
	assert_false(s.has_message_id);
	assert_false(s.eight_bit);
	sm_scan_free(&s);

	/* Resent-* headers, when present, are the recipients. */
	assert_int_equal(scan("To: old@x\nResent-To: new@y\n"
	    "Resent-Bcc: hid@z\nDate: d\nMessage-Id: <i@x>\n\nb\n", &s, err,
	    sizeof(err)), 0);
	r = sm_scan_recipients(&s);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->v[0], "new@y");
	assert_string_equal(r->v[1], "hid@z");
	assert_true(s.has_date);
	assert_true(s.has_message_id);
	assert_null(s.from_addr);
	sm_scan_free(&s);
}

static void
test_scan_errors(void **state)
{
	struct sm_scan	 s;
	char		 err[512], *msg;

	assert_int_equal(scan("To: <bob@example.net\n\nb\n", &s, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "line 1: To:"));

	/* A line of 998 octets passes, 999 does not. */
	msg = malloc(1100);
	assert_non_null(msg);
	strcpy(msg, "A: b\n\n");
	memset(msg + 6, 'x', 998);
	strcpy(msg + 6 + 998, "\n");
	assert_int_equal(scan(msg, &s, err, sizeof(err)), 0);
	assert_int_equal(s.lines, 3);
	sm_scan_free(&s);
	memset(msg + 6, 'x', 999);
	strcpy(msg + 6 + 999, "\n");
	assert_int_equal(scan(msg, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 3 is longer than 998"));
	free(msg);

	/* 8-bit octets, in the headers and in the body. */
	assert_int_equal(scan("Subject: caf\xc3\xa9\n\nb\n", &s, err,
	    sizeof(err)), 0);
	assert_true(s.eight_bit);
	assert_true(s.non_ascii_headers);
	sm_scan_free(&s);
	assert_int_equal(scan("Subject: x\n\ncaf\xc3\xa9\n", &s, err,
	    sizeof(err)), 0);
	assert_true(s.eight_bit);
	assert_false(s.non_ascii_headers);
	sm_scan_free(&s);
}

static void
test_scan_nul(void **state)
{
	static const char msg[] = "A: b\n\nx\0y\n";
	struct sm_scan	 s;
	char		 err[512];
	FILE		*f = fmemopen((void *)msg, sizeof(msg) - 1, "r");

	assert_int_equal(sm_scan(f, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 3 holds a NUL"));
	fclose(f);
}

static void
test_missing_headers(void **state)
{
	struct sm_scan	s;
	char		buf[1024];

	memset(&s, 0, sizeof(s));
	assert_non_null(sm_missing_headers(&s, "a@x", "Cron \"Daemon\"",
	    "host.example", buf, sizeof(buf)));
	assert_true(strncmp(buf, "From: \"Cron  Daemon \" <a@x>\r\nDate: ",
	    35) == 0);
	assert_non_null(strstr(buf, "\r\nMessage-ID: <"));
	assert_non_null(strstr(buf, "@host.example>\r\n"));
	s.has_from = s.has_date = s.has_message_id = 1;
	assert_non_null(sm_missing_headers(&s, "a@x", NULL, "h", buf,
	    sizeof(buf)));
	assert_string_equal(buf, "");
	s.has_from = 0;
	assert_non_null(sm_missing_headers(&s, "a@x", "", "h", buf,
	    sizeof(buf)));
	assert_string_equal(buf, "From: <a@x>\r\n");
	assert_null(sm_missing_headers(&s, "a@x", NULL, "h", buf, 8));
}

static void
test_exit_codes(void **state)
{
	assert_int_equal(sm_exit_for_reply(SM_STAGE_CONNECT, 421), EX_TEMPFAIL);
	assert_int_equal(sm_exit_for_reply(SM_STAGE_RCPT, 450), EX_TEMPFAIL);
	assert_int_equal(sm_exit_for_reply(SM_STAGE_DOT, 451), EX_TEMPFAIL);
	assert_int_equal(sm_exit_for_reply(SM_STAGE_RCPT, 550), EX_NOUSER);
	assert_int_equal(sm_exit_for_reply(SM_STAGE_RCPT, 553), EX_NOUSER);
	assert_int_equal(sm_exit_for_reply(SM_STAGE_DOT, 552), EX_DATAERR);
	assert_int_equal(sm_exit_for_reply(SM_STAGE_DOT, 554), EX_UNAVAILABLE);
	assert_int_equal(sm_exit_for_reply(SM_STAGE_MAIL, 550),
	    EX_UNAVAILABLE);
	assert_int_equal(sm_exit_for_reply(SM_STAGE_CONNECT, 554),
	    EX_UNAVAILABLE);
	assert_int_equal(sm_exit_for_reply(SM_STAGE_DATA, 250), EX_PROTOCOL);
	assert_int_equal(sm_exit_for_reply(SM_STAGE_DATA, 0), EX_PROTOCOL);
}

static void
test_shell_quote(void **state)
{
	char	buf[64];

	assert_string_equal(sm_shell_quote("a@b", buf, sizeof(buf)), "'a@b'");
	assert_string_equal(sm_shell_quote("o'neil@x", buf, sizeof(buf)),
	    "'o'\\''neil@x'");
	assert_string_equal(sm_shell_quote("", buf, sizeof(buf)), "''");
	assert_null(sm_shell_quote("abcdef", buf, 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_addresses_limits),
		cmocka_unit_test(test_read_input_line_ends),
		cmocka_unit_test(test_read_input_dot),
		cmocka_unit_test(test_transfer),
		cmocka_unit_test(test_scan_t),
		cmocka_unit_test(test_scan_errors),
		cmocka_unit_test(test_scan_nul),
		cmocka_unit_test(test_missing_headers),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_shell_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
