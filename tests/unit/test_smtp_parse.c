/*
 * test_smtp_parse.c - the client command parser: verbs, paths, parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_parse.h"

static void
test_verbs_case_insensitive(void **state)
{
	const char	*args;

	assert_int_equal(smtp_cmd_parse("EHLO client.example", &args),
	    CMD_EHLO);
	assert_string_equal(args, "client.example");
	assert_int_equal(smtp_cmd_parse("ehlo x", &args), CMD_EHLO);
	assert_int_equal(smtp_cmd_parse("HeLo x", &args), CMD_HELO);
	assert_int_equal(smtp_cmd_parse("data", &args), CMD_DATA);
	assert_string_equal(args, "");
	assert_int_equal(smtp_cmd_parse("QUIT", &args), CMD_QUIT);
	assert_int_equal(smtp_cmd_parse("rset", &args), CMD_RSET);
	assert_int_equal(smtp_cmd_parse("NOOP anything", &args), CMD_NOOP);
	assert_string_equal(args, "anything");
	assert_int_equal(smtp_cmd_parse("StartTLS", &args), CMD_STARTTLS);
	assert_int_equal(smtp_cmd_parse("AUTH PLAIN AGFsaWNl", &args),
	    CMD_AUTH);
	assert_string_equal(args, "PLAIN AGFsaWNl");
	assert_int_equal(smtp_cmd_parse("VRFY a", &args), CMD_VRFY);
	assert_int_equal(smtp_cmd_parse("EXPN a", &args), CMD_EXPN);
	assert_int_equal(smtp_cmd_parse("HELP", &args), CMD_HELP);
	assert_int_equal(smtp_cmd_parse("BDAT 10 LAST", &args), CMD_BDAT);
}

static void
test_mail_rcpt_with_colon(void **state)
{
	const char	*args;

	assert_int_equal(smtp_cmd_parse("MAIL FROM:<a@b>", &args), CMD_MAIL);
	assert_string_equal(args, "<a@b>");
	assert_int_equal(smtp_cmd_parse("mail from:<a@b> SIZE=1", &args),
	    CMD_MAIL);
	assert_string_equal(args, "<a@b> SIZE=1");
	/* The one space real clients put after the colon is skipped. */
	assert_int_equal(smtp_cmd_parse("MAIL FROM: <a@b>", &args), CMD_MAIL);
	assert_string_equal(args, "<a@b>");
	assert_int_equal(smtp_cmd_parse("RCPT TO:<c@d>", &args), CMD_RCPT);
	assert_string_equal(args, "<c@d>");
	assert_int_equal(smtp_cmd_parse("Rcpt To:<c@d>", &args), CMD_RCPT);
}

static void
test_unknown_verbs(void **state)
{
	const char	*args;

	assert_int_equal(smtp_cmd_parse("", &args), CMD_UNKNOWN);
	assert_int_equal(smtp_cmd_parse("HELOX", &args), CMD_UNKNOWN);
	assert_int_equal(smtp_cmd_parse("DATAX", &args), CMD_UNKNOWN);
	assert_int_equal(smtp_cmd_parse("MAIL", &args), CMD_UNKNOWN);
	assert_int_equal(smtp_cmd_parse("MAIL FROM <a@b>", &args),
	    CMD_UNKNOWN);
	/* RFC 5321 4.1.1.2: no space before the colon. */
	assert_int_equal(smtp_cmd_parse("MAIL FROM :<a@b>", &args),
	    CMD_UNKNOWN);
	assert_int_equal(smtp_cmd_parse("RCPT  TO:<a@b>", &args), CMD_UNKNOWN);
	assert_int_equal(smtp_cmd_parse(" EHLO x", &args), CMD_UNKNOWN);
	assert_int_equal(smtp_cmd_parse("GET / HTTP/1.1", &args), CMD_UNKNOWN);
}

static void
test_cmd_names(void **state)
{
	assert_string_equal(smtp_cmd_name(CMD_MAIL), "MAIL FROM");
	assert_string_equal(smtp_cmd_name(CMD_RCPT), "RCPT TO");
	assert_string_equal(smtp_cmd_name(CMD_EHLO), "EHLO");
	assert_string_equal(smtp_cmd_name(CMD_STARTTLS), "STARTTLS");
	assert_string_equal(smtp_cmd_name(CMD_UNKNOWN), "unknown");
}

/* Parse a MAIL FROM argument; the address lands in addr. */
static enum smtp_path_error
mail(const char *args, char *addr, struct smtp_mail_params *mp)
{
	const char	*why;

	memset(mp, 0xff, sizeof(*mp));	/* must be overwritten */
	return smtp_parse_path(args, 1, addr, SMTP_PATH_MAX + 1, mp, &why);
}

static enum smtp_path_error
rcpt(const char *args, char *addr, int smtputf8)
{
	struct smtp_mail_params	 mp = { .smtputf8 = smtputf8 };
	const char		*why = NULL;
	enum smtp_path_error	 e;

	e = smtp_parse_path(args, 0, addr, SMTP_PATH_MAX + 1, &mp, &why);
	assert_non_null(why);
	if (e != PATH_OK)
		assert_true(strlen(why) > 0);
	return e;
}

static void
test_mail_from_params(void **state)
{
	char			addr[SMTP_PATH_MAX + 1];
	struct smtp_mail_params	mp;

	assert_int_equal(mail("<alice@example.net>", addr, &mp), PATH_OK);
	assert_string_equal(addr, "alice@example.net");
	assert_true(mp.size == 0);
	assert_int_equal(mp.body_8bitmime, 0);
	assert_int_equal(mp.smtputf8, 0);

	assert_int_equal(mail("<a@b> SIZE=1 BODY=8BITMIME SMTPUTF8", addr,
	    &mp), PATH_OK);
	assert_string_equal(addr, "a@b");
	assert_true(mp.size == 1);
	assert_int_equal(mp.body_8bitmime, 1);
	assert_int_equal(mp.smtputf8, 1);

	assert_int_equal(mail("<a@b> size=18446744073709551615 body=7bit",
	    addr, &mp), PATH_OK);
	assert_true(mp.size == UINT64_MAX);
	assert_int_equal(mp.body_8bitmime, 0);

	assert_int_equal(mail("<a@b>  SIZE=42  ", addr, &mp), PATH_OK);
	assert_true(mp.size == 42);

	/* The null reverse-path of bounces. */
	assert_int_equal(mail("<>", addr, &mp), PATH_OK);
	assert_string_equal(addr, "");
	/* "MAIL FROM: <a>" */
	assert_int_equal(mail("  <a@b>", addr, &mp), PATH_OK);
	assert_string_equal(addr, "a@b");
}

static void
test_mail_from_bad_params(void **state)
{
	char			addr[SMTP_PATH_MAX + 1];
	struct smtp_mail_params	mp;

	assert_int_equal(mail("<a@b> SIZE=", addr, &mp), PATH_BAD_PARAM);
	assert_int_equal(mail("<a@b> SIZE", addr, &mp), PATH_BAD_PARAM);
	assert_int_equal(mail("<a@b> SIZE=12x", addr, &mp), PATH_BAD_PARAM);
	assert_int_equal(mail("<a@b> SIZE=-1", addr, &mp), PATH_BAD_PARAM);
	assert_int_equal(mail("<a@b> SIZE=18446744073709551616", addr, &mp),
	    PATH_BAD_PARAM);
	assert_int_equal(mail("<a@b> SIZE=1 SIZE=2", addr, &mp),
	    PATH_BAD_PARAM);
	assert_int_equal(mail("<a@b> BODY=BINARYMIME", addr, &mp),
	    PATH_BAD_PARAM);
	assert_int_equal(mail("<a@b> BODY", addr, &mp), PATH_BAD_PARAM);
	assert_int_equal(mail("<a@b> SMTPUTF8=yes", addr, &mp),
	    PATH_BAD_PARAM);
	assert_int_equal(mail("<a@b> RET=FULL", addr, &mp), PATH_BAD_PARAM);
	assert_int_equal(mail("<a@b> AUTH=<>", addr, &mp), PATH_BAD_PARAM);
}

static void
test_path_syntax(void **state)
{
	char			addr[SMTP_PATH_MAX + 1];
	struct smtp_mail_params	mp;

	assert_int_equal(mail("a@b", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a@b", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a @b>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("< a@b>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a@b >", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a@b>x", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a<b@c>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a@b\r>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a@b\n>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a\t@b>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a@b\x7f>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a@b_c>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a@>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<@b>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<a@b@c>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(mail("<\"unterminated@b>", addr, &mp), PATH_SYNTAX);
	/* An embedded NUL ends the C string: the closing > is missing. */
	assert_int_equal(mail("<a@b\0>", addr, &mp), PATH_SYNTAX);
	assert_int_equal(rcpt("<>", addr, 0), PATH_SYNTAX);
	assert_int_equal(rcpt("c@d", addr, 0), PATH_SYNTAX);
}

static void
test_quoted_and_literals(void **state)
{
	char	addr[SMTP_PATH_MAX + 1];

	assert_int_equal(rcpt("<\"a b\"@c>", addr, 0), PATH_OK);
	assert_string_equal(addr, "\"a b\"@c");
	assert_int_equal(rcpt("<\"a>b\\\"c\"@d>", addr, 0), PATH_OK);
	assert_string_equal(addr, "\"a>b\\\"c\"@d");
	assert_int_equal(rcpt("<user@[192.0.2.1]>", addr, 0), PATH_OK);
	assert_string_equal(addr, "user@[192.0.2.1]");
	assert_int_equal(rcpt("<user@[IPv6:2001:db8::1]>", addr, 0), PATH_OK);
	assert_int_equal(rcpt("<postmaster>", addr, 0), PATH_OK);
	assert_string_equal(addr, "postmaster");
	assert_int_equal(rcpt("<o'brien+tag@ex-ample.net>", addr, 0), PATH_OK);
	assert_int_equal(rcpt("<a@[b c]>", addr, 0), PATH_SYNTAX);
}

static void
test_source_route(void **state)
{
	char	addr[SMTP_PATH_MAX + 1];

	assert_int_equal(rcpt("<@a,@b:user@c>", addr, 0), PATH_OK);
	assert_string_equal(addr, "user@c");
	assert_int_equal(rcpt("<@relay.example:user@c>", addr, 0), PATH_OK);
	assert_string_equal(addr, "user@c");
	assert_int_equal(rcpt("<@[IPv6:::1]:user@c>", addr, 0), PATH_OK);
	assert_string_equal(addr, "user@c");
	assert_int_equal(rcpt("<@a,b:user@c>", addr, 0), PATH_SYNTAX);
	assert_int_equal(rcpt("<@a:>", addr, 0), PATH_SYNTAX);
	assert_int_equal(rcpt("<@a,@b>", addr, 0), PATH_SYNTAX);
}

static void
test_rcpt_params_rejected(void **state)
{
	char	addr[SMTP_PATH_MAX + 1];

	assert_int_equal(rcpt("<c@d>", addr, 0), PATH_OK);
	assert_int_equal(rcpt("<c@d>  ", addr, 0), PATH_OK);
	assert_int_equal(rcpt(" <c@d>", addr, 0), PATH_OK);
	assert_int_equal(rcpt("<c@d> NOTIFY=NEVER", addr, 0), PATH_BAD_PARAM);
	assert_int_equal(rcpt("<c@d> SIZE=1", addr, 0), PATH_BAD_PARAM);
}

static void
test_non_ascii(void **state)
{
	char			addr[SMTP_PATH_MAX + 1];
	struct smtp_mail_params	mp;

	/* "jörg@bücher.example" in UTF-8 */
	assert_int_equal(mail("<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", addr,
	    &mp), PATH_NON_ASCII);
	assert_int_equal(mail("<j\xc3\xb6rg@b\xc3\xbc" "cher.example> "
	    "SMTPUTF8", addr, &mp), PATH_OK);
	assert_string_equal(addr, "j\xc3\xb6rg@b\xc3\xbc" "cher.example");
	assert_int_equal(mp.smtputf8, 1);
	/* Latin-1, not UTF-8. */
	assert_int_equal(mail("<j\xf6rg@b> SMTPUTF8", addr, &mp), PATH_SYNTAX);
	/* Overlong encoding of '/'. */
	assert_int_equal(mail("<a\xc0\xaf@b> SMTPUTF8", addr, &mp),
	    PATH_SYNTAX);
	/* RCPT takes SMTPUTF8 from the transaction's MAIL FROM. */
	assert_int_equal(rcpt("<\xc3\xa9@b>", addr, 0), PATH_NON_ASCII);
	assert_int_equal(rcpt("<\xc3\xa9@b>", addr, 1), PATH_OK);
	memset(addr, 0, sizeof(addr));
	assert_int_equal(smtp_parse_path("<\xc3\xa9@b>", 0, addr,
	    sizeof(addr), NULL, &(const char *){ NULL }), PATH_NON_ASCII);
	/* Filled anyway, for a caller that knows the transaction allows it. */
	assert_string_equal(addr, "\xc3\xa9@b");
}

static void
test_utf8_seqlen(void **state)
{
	assert_int_equal(utf8_seqlen((const unsigned char *)"a", 1), 1);
	assert_int_equal(utf8_seqlen((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(utf8_seqlen((const unsigned char *)"\xc3\xa9", 1), 0);
	assert_int_equal(utf8_seqlen((const unsigned char *)"\xe2\x82\xac",
	    3), 3);
	assert_int_equal(utf8_seqlen((const unsigned char *)"\xf0\x9f\x98\x80",
	    4), 4);
	/* surrogate, above U+10FFFF, overlong 3-octet, lone continuation */
	assert_int_equal(utf8_seqlen((const unsigned char *)"\xed\xa0\x80",
	    3), 0);
	assert_int_equal(utf8_seqlen((const unsigned char *)"\xf4\x90\x80\x80",
	    4), 0);
	assert_int_equal(utf8_seqlen((const unsigned char *)"\xe0\x80\xaf",
	    3), 0);
	assert_int_equal(utf8_seqlen((const unsigned char *)"\x80", 1), 0);
}

/* "<" + n octets + ">" */
static void
make_path(char *buf, size_t n)
{
	size_t	i;

	buf[0] = '<';
	for (i = 0; i < n; i++)
		buf[1 + i] = 'a';
	buf[1 + n - 2] = '@';
	buf[1 + n] = '>';
	buf[2 + n] = '\0';
}

static void
test_path_length(void **state)
{
	char			args[SMTP_PATH_MAX + 16];
	char			addr[SMTP_PATH_MAX + 1];
	struct smtp_mail_params	mp;
	const char		*why;

	/* RFC 5321 4.5.3.1.3: 256 octets with the brackets. */
	make_path(args, SMTP_PATH_MAX - 2);
	assert_int_equal(mail(args, addr, &mp), PATH_OK);
	assert_int_equal(strlen(addr), SMTP_PATH_MAX - 2);
	make_path(args, SMTP_PATH_MAX - 1);
	assert_int_equal(mail(args, addr, &mp), PATH_TOO_LONG);
	make_path(args, SMTP_PATH_MAX + 10);
	assert_int_equal(rcpt(args, addr, 0), PATH_TOO_LONG);
	/* A long path without its > is still "too long", not a scan overrun. */
	args[SMTP_PATH_MAX + 5] = '\0';
	assert_int_equal(rcpt(args, addr, 0), PATH_TOO_LONG);
	/* A caller's buffer that cannot hold a path is refused. */
	assert_int_not_equal(smtp_parse_path("<a@b>", 1, addr, 10, &mp, &why),
	    PATH_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs_case_insensitive),
		cmocka_unit_test(test_mail_rcpt_with_colon),
		cmocka_unit_test(test_unknown_verbs),
		cmocka_unit_test(test_cmd_names),
		cmocka_unit_test(test_mail_from_params),
		cmocka_unit_test(test_mail_from_bad_params),
		cmocka_unit_test(test_path_syntax),
		cmocka_unit_test(test_quoted_and_literals),
		cmocka_unit_test(test_source_route),
		cmocka_unit_test(test_rcpt_params_rejected),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_utf8_seqlen),
		cmocka_unit_test(test_path_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
