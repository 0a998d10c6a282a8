/*
 * test_smtp_reply.c - upstream replies, multi-line, EHLO capabilities, and
 * the replies we mirror to the client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_reply.h"

static enum smtp_reply_status
feed(struct smtp_reply *r, const char *line)
{
	return smtp_reply_feed(r, line, strlen(line));
}

/* Feed lines until one is not REPLY_MORE; returns that status. */
static enum smtp_reply_status
feed_all(struct smtp_reply *r, const char **lines)
{
	enum smtp_reply_status	s = REPLY_ERROR;

	smtp_reply_init(r);
	for (; *lines != NULL; lines++)
		if ((s = feed(r, *lines)) != REPLY_MORE)
			break;
	return s;
}

static void
test_single_line(void **state)
{
	struct smtp_reply	r;

	smtp_reply_init(&r);
	assert_int_equal(r.code, 0);
	assert_int_equal(feed(&r, "250 2.1.0 Ok"), REPLY_DONE);
	assert_int_equal(r.code, 250);
	assert_int_equal(SMTP_REPLY_CLASS(&r), 2);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.text, "2.1.0 Ok");
	assert_int_equal(r.textlen, strlen("2.1.0 Ok"));

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "354"), REPLY_DONE);
	assert_int_equal(r.code, 354);
	assert_string_equal(r.text, "");
}

static void
test_multi_line(void **state)
{
	struct smtp_reply	 r;
	const char		*lines[] = { "250-mail.example.net",
	    "250-PIPELINING", "250-", "250 SIZE 1000", NULL };

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, lines[0]), REPLY_MORE);
	assert_int_equal(feed(&r, lines[1]), REPLY_MORE);
	assert_int_equal(feed(&r, lines[2]), REPLY_MORE);
	assert_int_equal(feed(&r, lines[3]), REPLY_DONE);
	assert_int_equal(r.nlines, 4);
	assert_string_equal(r.text,
	    "mail.example.net\nPIPELINING\n\nSIZE 1000");
	/* Once done, the next line needs a fresh init. */
	assert_int_equal(feed(&r, "250 more"), REPLY_ERROR);
}

static void
test_malformed(void **state)
{
	struct smtp_reply	r;

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, ""), REPLY_ERROR);
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "25"), REPLY_ERROR);
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250x"), REPLY_ERROR);
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "2a0 x"), REPLY_ERROR);
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "650 x"), REPLY_ERROR);
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "150 x"), REPLY_ERROR);
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 400"), REPLY_ERROR);

	/* A continuation line with another code. */
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-first"), REPLY_MORE);
	assert_int_equal(feed(&r, "251 second"), REPLY_ERROR);
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-first"), REPLY_MORE);
	assert_int_equal(feed(&r, "25"), REPLY_ERROR);
}

static void
test_too_many_lines(void **state)
{
	struct smtp_reply	r;
	int			i;

	smtp_reply_init(&r);
	for (i = 0; i < SMTP_REPLY_LINES_MAX - 1; i++)
		assert_int_equal(feed(&r, "250-x"), REPLY_MORE);
	assert_int_equal(feed(&r, "250 x"), REPLY_DONE);
	assert_int_equal(r.nlines, SMTP_REPLY_LINES_MAX);

	smtp_reply_init(&r);
	for (i = 0; i < SMTP_REPLY_LINES_MAX; i++)
		assert_int_equal(feed(&r, "250-x"), REPLY_MORE);
	assert_int_equal(feed(&r, "250-x"), REPLY_ERROR);
}

static void
test_long_lines(void **state)
{
	struct smtp_reply	r;
	char			line[SMTP_REPLY_LINE_MAX + 2];
	int			i;

	memset(line, 'a', sizeof(line));
	memcpy(line, "250-", 4);
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_feed(&r, line, SMTP_REPLY_LINE_MAX + 1),
	    REPLY_ERROR);
	/* Text beyond SMTP_REPLY_TEXT_MAX - 1 is cut, NUL terminated. */
	smtp_reply_init(&r);
	for (i = 0; i < 3; i++)
		assert_int_equal(smtp_reply_feed(&r, line,
		    SMTP_REPLY_LINE_MAX), REPLY_MORE);
	assert_int_equal(r.textlen, SMTP_REPLY_TEXT_MAX - 1);
	assert_int_equal(strlen(r.text), SMTP_REPLY_TEXT_MAX - 1);
}

static void
test_control_chars_neutralised(void **state)
{
	struct smtp_reply	r;

	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_feed(&r, "550 a\rb\0c", 9), REPLY_DONE);
	assert_int_equal(r.textlen, 5);
	assert_string_equal(r.text, "a?b?c");
}

static void
test_caps(void **state)
{
	struct smtp_reply	 r;
	struct smtp_caps	 c;
	const char		*lines[] = { "250-mail.example.net Hello",
	    "250-pipelining", "250-SIZE 10240000", "250-STARTTLS",
	    "250-AUTH PLAIN LOGIN CRAM-MD5", "250-ENHANCEDSTATUSCODES",
	    "250-8BITMIME", "250-SmtpUtf8", "250 CHUNKING", NULL };

	assert_int_equal(feed_all(&r, lines), REPLY_DONE);
	memset(&c, 0xff, sizeof(c));
	smtp_caps_parse(&r, &c);
	assert_int_equal(c.pipelining, 1);
	assert_int_equal(c.starttls, 1);
	assert_int_equal(c.eightbitmime, 1);
	assert_int_equal(c.smtputf8, 1);
	assert_int_equal(c.enhancedstatuscodes, 1);
	assert_int_equal(c.chunking, 1);
	assert_int_equal(c.has_size, 1);
	assert_true(c.size == 10240000);
	assert_int_equal(c.auth,
	    AUTH_MECH_PLAIN | AUTH_MECH_LOGIN | AUTH_MECH_CRAM_MD5);
}

static void
test_caps_variants(void **state)
{
	struct smtp_reply	 r;
	struct smtp_caps	 c;
	const char		*old_auth[] = { "250-x",
	    "250-AUTH=PLAIN xoauth2",
	    "250-auth OAUTHBEARER SCRAM-SHA-256 GSSAPI", "250 SIZE", NULL };
	/* The greeting line is not a capability. */
	const char		*greeting[] = { "250-STARTTLS",
	    "250 8BITMIME", NULL };
	const char		*only[] = { "250 STARTTLS", NULL };
	const char		*refused[] = { "502-x", "502 STARTTLS",
	    NULL };
	const char		*prefix[] = { "250-x", "250-STARTTLSX",
	    "250 SIZEX 10", NULL };

	assert_int_equal(feed_all(&r, old_auth), REPLY_DONE);
	smtp_caps_parse(&r, &c);
	assert_int_equal(c.auth, AUTH_MECH_PLAIN | AUTH_MECH_XOAUTH2 |
	    AUTH_MECH_OAUTHBEARER | AUTH_MECH_SCRAM_SHA_256);
	assert_int_equal(c.has_size, 1);
	assert_true(c.size == 0);
	assert_int_equal(c.starttls, 0);

	assert_int_equal(feed_all(&r, greeting), REPLY_DONE);
	smtp_caps_parse(&r, &c);
	assert_int_equal(c.starttls, 0);
	assert_int_equal(c.eightbitmime, 1);

	assert_int_equal(feed_all(&r, only), REPLY_DONE);
	smtp_caps_parse(&r, &c);
	assert_int_equal(c.starttls, 0);

	assert_int_equal(feed_all(&r, refused), REPLY_DONE);
	smtp_caps_parse(&r, &c);
	assert_int_equal(c.starttls, 0);

	assert_int_equal(feed_all(&r, prefix), REPLY_DONE);
	smtp_caps_parse(&r, &c);
	assert_int_equal(c.starttls, 0);
	assert_int_equal(c.has_size, 0);
}

static void
test_format(void **state)
{
	struct smtp_reply	 r;
	char			 buf[256];
	const char		*multi[] = { "550-5.1.1 no such user",
	    "550-", "550 5.1.1 really", NULL };
	const char		*expect = "550-5.1.1 no such user\r\n550-\r\n"
	    "550 5.1.1 really\r\n";
	size_t			 n;

	assert_int_equal(feed_all(&r, multi), REPLY_DONE);
	n = smtp_reply_format(&r, buf, sizeof(buf));
	assert_int_equal(n, strlen(expect));
	assert_string_equal(buf, expect);
	/* One octet short (the NUL) is too small. */
	assert_int_equal(smtp_reply_format(&r, buf, strlen(expect)), 0);
	assert_int_equal(smtp_reply_format(&r, buf, strlen(expect) + 1),
	    strlen(expect));

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250"), REPLY_DONE);
	assert_int_equal(smtp_reply_format(&r, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "250\r\n");

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "452 4.3.1 full"), REPLY_DONE);
	smtp_reply_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "452 4.3.1 full\r\n");

	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_format(&r, buf, sizeof(buf)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_line),
		cmocka_unit_test(test_multi_line),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_many_lines),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_control_chars_neutralised),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_caps_variants),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
