/*
 * test_relay.c - what MAIL FROM carries to an upstream, and when a message
 * cannot go through that upstream at all: 8-bit body without 8BITMIME
 * (554 5.6.3), internationalised addresses without SMTPUTF8 (553 5.6.7), a
 * declared size over the upstream's SIZE (552 5.3.4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relay.h"

#define PEER	"mail.example.net:587"

struct result {
	int	rc;
	char	buf[128];
	char	err[512];
};

static void
run(const struct smtp_caps *caps, const struct smtp_mail_params *p,
    uint64_t size, struct result *r)
{
	/* Poison both, so that an untouched buffer shows. */
	memset(r->buf, 'X', sizeof(r->buf) - 1);
	r->buf[sizeof(r->buf) - 1] = '\0';
	memset(r->err, 'Y', sizeof(r->err) - 1);
	r->err[sizeof(r->err) - 1] = '\0';
	r->rc = relay_mail_params(caps, p, size, PEER, r->buf, sizeof(r->buf),
	    r->err, sizeof(r->err));
}

/* A refusal: -1, the reply starts with code and enhanced code, names the
 * upstream, is one line. */
static void
assert_refusal(const struct result *r, const char *prefix)
{
	assert_int_equal(r->rc, -1);
	if (strncmp(r->err, prefix, strlen(prefix)) != 0)
		fail_msg("reply \"%s\", want it to start with \"%s\"", r->err,
		    prefix);
	assert_non_null(strstr(r->err, PEER));
	assert_null(strpbrk(r->err, "\r\n"));
}

static void
test_8bitmime_not_offered(void **state)
{
	struct smtp_caps	 caps = { .smtputf8 = 1, .has_size = 1 };
	struct smtp_mail_params	 p = { .body_8bitmime = 1 };
	struct result		 r;

	run(&caps, &p, 1000, &r);
	assert_refusal(&r, "554 5.6.3 ");
	assert_non_null(strstr(r.err, "8BITMIME"));
}

static void
test_smtputf8_not_offered(void **state)
{
	struct smtp_caps	 caps = { .eightbitmime = 1, .has_size = 1 };
	struct smtp_mail_params	 p = { .smtputf8 = 1 };
	struct result		 r;

	run(&caps, &p, 1000, &r);
	assert_refusal(&r, "553 5.6.7 ");
	assert_non_null(strstr(r.err, "SMTPUTF8"));
	/* With 8-bit body too, and neither offered: still refused. */
	memset(&caps, 0, sizeof(caps));
	p.body_8bitmime = 1;
	run(&caps, &p, 1000, &r);
	assert_int_equal(r.rc, -1);
}

static void
test_size_too_big(void **state)
{
	struct smtp_caps	 caps = { .has_size = 1, .size = 10000 };
	struct smtp_mail_params	 p = { .size = 10001 };
	struct result		 r;

	run(&caps, &p, 10001, &r);
	assert_refusal(&r, "552 5.3.4 ");
	/* The limit is in the reply, so the user knows what fits. */
	assert_non_null(strstr(r.err, "10000"));

	/* Exactly the limit fits. */
	p.size = 10000;
	run(&caps, &p, 10000, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.buf, " SIZE=10000");
}

/* "SIZE 0" or a bare SIZE means no fixed limit (RFC 1870 4). */
static void
test_size_without_limit(void **state)
{
	struct smtp_caps	 caps = { .has_size = 1, .size = 0 };
	struct smtp_mail_params	 p = { .size = UINT64_C(50000000000) };
	struct result		 r;

	run(&caps, &p, 0, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.buf, " SIZE=50000000000");
}

/* Nothing needed, everything offered: no parameters. */
static void
test_nothing_needed(void **state)
{
	struct smtp_caps	 caps = { .eightbitmime = 1, .smtputf8 = 1,
	    .has_size = 1, .size = 1000 };
	struct smtp_mail_params	 p = { 0 };
	struct result		 r;

	run(&caps, &p, 0, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.buf, "");
}

/* Everything needed and offered: all three, in order. */
static void
test_all_needed_and_offered(void **state)
{
	struct smtp_caps	 caps = { .eightbitmime = 1, .smtputf8 = 1,
	    .has_size = 1, .size = 1000000 };
	struct smtp_mail_params	 p = { .size = 2048, .body_8bitmime = 1,
	    .smtputf8 = 1 };
	struct result		 r;

	run(&caps, &p, 2048, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.buf, " SIZE=2048 BODY=8BITMIME SMTPUTF8");
}

/* SIZE only to an upstream that offered it. */
static void
test_size_not_offered(void **state)
{
	struct smtp_caps	 caps = { .eightbitmime = 1 };
	struct smtp_mail_params	 p = { .size = 2048, .body_8bitmime = 1 };
	struct result		 r;

	run(&caps, &p, 2048, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.buf, " BODY=8BITMIME");
}

/* Offered but not needed: the 7-bit, ASCII message goes without them. */
static void
test_offered_not_needed(void **state)
{
	struct smtp_caps	 caps = { .eightbitmime = 1, .smtputf8 = 1,
	    .has_size = 1 };
	struct smtp_mail_params	 p = { .size = 512 };
	struct result		 r;

	run(&caps, &p, 512, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.buf, " SIZE=512");

	p.smtputf8 = 1;
	run(&caps, &p, 512, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.buf, " SIZE=512 SMTPUTF8");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_8bitmime_not_offered),
		cmocka_unit_test(test_smtputf8_not_offered),
		cmocka_unit_test(test_size_too_big),
		cmocka_unit_test(test_size_without_limit),
		cmocka_unit_test(test_nothing_needed),
		cmocka_unit_test(test_all_needed_and_offered),
		cmocka_unit_test(test_size_not_offered),
		cmocka_unit_test(test_offered_not_needed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
