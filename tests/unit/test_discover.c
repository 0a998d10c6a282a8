/*
 * test_discover.c - the pure parts of host = auto: RFC 2782 ordering of SRV
 * records (priority first; within a priority by weight, with the random
 * draw given; "." as "not offered"), the smtp./mail. candidates of the
 * search domains, which names a domain vouches for, and the domain of an
 * address.  The DNS side is met in tests/e2e/discover_*.sh (dnsmasq).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "discover.h"

static struct discover_srv
srv(const char *target, uint16_t prio, uint16_t weight, uint16_t port)
{
	struct discover_srv	r;

	memset(&r, 0, sizeof(r));
	snprintf(r.target, sizeof(r.target), "%s", target);
	r.priority = prio;
	r.weight = weight;
	r.port = port;
	return r;
}

/* A scripted "random" draw. */
struct draws {
	const uint32_t	*v;
	size_t		 n, at;
};

static uint32_t
draw(void *arg)
{
	struct draws	*d = arg;

	assert_true(d->at < d->n);
	return d->v[d->at++];
}

static uint32_t
draw_zero(void *arg)
{
	return 0;
}

static void
test_priority_first(void **state)
{
	struct discover_srv	v[3] = {
		srv("c.example", 20, 0, 3),
		srv("a.example", 0, 0, 1),
		srv("b.example", 10, 0, 2),
	};
	int			not_offered = 1;

	assert_int_equal(discover_srv_order(v, 3, draw_zero, NULL,
	    &not_offered), 3);
	assert_int_equal(not_offered, 0);
	assert_string_equal(v[0].target, "a.example");
	assert_string_equal(v[1].target, "b.example");
	assert_string_equal(v[2].target, "c.example");
}

/*
 * RFC 2782: weight-0 records go first in the list, then a draw in
 * [0, sum] picks the first record whose running sum reaches it.
 * Records (same priority): x w=0, y w=10, z w=30.  Sum 40.
 *   draw 0  -> x (running 0 >= 0)
 *   then sum 40 over y, z: draw 25 -> z (10 < 25 <= 40)
 *   then y.
 */
static void
test_weighted_draw(void **state)
{
	static const uint32_t	seq[] = { 0, 25 };
	struct draws		d = { seq, 2, 0 };
	struct discover_srv	v[3] = {
		srv("y.example", 5, 10, 1),
		srv("z.example", 5, 30, 2),
		srv("x.example", 5, 0, 3),
	};
	int			not_offered;

	assert_int_equal(discover_srv_order(v, 3, draw, &d, &not_offered), 3);
	assert_string_equal(v[0].target, "x.example");
	assert_string_equal(v[1].target, "z.example");
	assert_string_equal(v[2].target, "y.example");
	assert_int_equal(d.at, 2);
}

/* The draw is taken modulo sum + 1: 41 wraps to 0. */
static void
test_weighted_draw_low(void **state)
{
	static const uint32_t	seq[] = { 41 };
	struct draws		d = { seq, 1, 0 };
	struct discover_srv	v[2] = {
		srv("y.example", 5, 10, 1),
		srv("z.example", 5, 30, 2),
	};
	int			not_offered;

	assert_int_equal(discover_srv_order(v, 2, draw, &d, &not_offered), 2);
	assert_string_equal(v[0].target, "y.example");
	assert_string_equal(v[1].target, "z.example");
}

/* Over many draws, weights 1:3 come first about 1:3 of the time. */
static void
test_weighted_share(void **state)
{
	uint32_t		seq[400];
	struct draws		d = { seq, 400, 0 };
	struct discover_srv	v[2];
	size_t			i, heavy = 0;
	int			not_offered;

	for (i = 0; i < 400; i++)
		seq[i] = (uint32_t)i;	/* 0..4 evenly, modulo 5 */
	for (i = 0; i < 400; i++) {
		v[0] = srv("light.example", 0, 1, 1);
		v[1] = srv("heavy.example", 0, 3, 2);
		discover_srv_order(v, 2, draw, &d, &not_offered);
		heavy += strcmp(v[0].target, "heavy.example") == 0;
	}
	/* draws 0, 1 pick light (running 1 >= 0, 1); 2, 3, 4 pick heavy */
	assert_int_equal(heavy, 240);
}

static void
test_dot_not_offered(void **state)
{
	struct discover_srv	v[2] = { srv("", 0, 0, 0) };
	int			not_offered = 0;

	assert_int_equal(discover_srv_order(v, 1, draw_zero, NULL,
	    &not_offered), 0);
	assert_int_equal(not_offered, 1);
	/* A "." among real records is left out, the rest kept. */
	v[0] = srv("", 0, 0, 0);
	v[1] = srv("mail.example", 1, 0, 465);
	assert_int_equal(discover_srv_order(v, 2, draw_zero, NULL,
	    &not_offered), 1);
	assert_int_equal(not_offered, 0);
	assert_string_equal(v[0].target, "mail.example");
	assert_int_equal(v[0].port, 465);
	/* No records at all is not "not offered". */
	assert_int_equal(discover_srv_order(v, 0, draw_zero, NULL,
	    &not_offered), 0);
	assert_int_equal(not_offered, 0);
}

static void
test_search_targets(void **state)
{
	const char		*doms[] = { "isp.example", "ISP.example.",
				    "corp.example" };
	struct discover_result	r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(discover_search_targets(doms, 3, 25, TLSMODE_NONE,
	    &r), 4);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.t[0].host, "smtp.isp.example");
	assert_string_equal(r.t[1].host, "mail.isp.example");
	assert_string_equal(r.t[2].host, "smtp.corp.example");
	assert_string_equal(r.t[3].host, "mail.corp.example");
	assert_int_equal(r.t[3].port, 25);
	assert_int_equal(r.t[3].tls, TLSMODE_NONE);
	/* Nothing to add from no domain; a bad name is skipped. */
	doms[0] = "bad domain";
	assert_int_equal(discover_search_targets(doms, 1, 25, TLSMODE_NONE,
	    &r), 0);
	assert_int_equal(r.n, 4);
}

static void
test_search_targets_bounded(void **state)
{
	char			 names[20][32];
	const char		*doms[20];
	struct discover_result	 r;
	size_t			 i;

	for (i = 0; i < 20; i++) {
		snprintf(names[i], sizeof(names[i]), "d%zu.example", i);
		doms[i] = names[i];
	}
	memset(&r, 0, sizeof(r));
	assert_int_equal(discover_search_targets(doms, 20, 587,
	    TLSMODE_STARTTLS, &r), DISCOVER_TARGETS_MAX);
	assert_int_equal(r.n, DISCOVER_TARGETS_MAX);
}

static void
test_in_domain(void **state)
{
	assert_true(discover_in_domain("example.net", "example.net"));
	assert_true(discover_in_domain("mail.example.net", "example.net"));
	assert_true(discover_in_domain("Mail.Example.NET.", "example.net"));
	assert_true(discover_in_domain("a.b.example.net", "example.net."));
	assert_false(discover_in_domain("badexample.net", "example.net"));
	assert_false(discover_in_domain("smtp.gmail.com", "example.net"));
	assert_false(discover_in_domain("net", "example.net"));
	assert_false(discover_in_domain("example.net", ""));
}

static void
test_address_domain(void **state)
{
	assert_string_equal(discover_address_domain("alice@example.net"),
	    "example.net");
	assert_string_equal(discover_address_domain("\"a@b\"@example.org"),
	    "example.org");
	assert_null(discover_address_domain(""));
	assert_null(discover_address_domain("postmaster"));
	assert_null(discover_address_domain("alice@"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_first),
		cmocka_unit_test(test_weighted_draw),
		cmocka_unit_test(test_weighted_draw_low),
		cmocka_unit_test(test_weighted_share),
		cmocka_unit_test(test_dot_not_offered),
		cmocka_unit_test(test_search_targets),
		cmocka_unit_test(test_search_targets_bounded),
		cmocka_unit_test(test_in_domain),
		cmocka_unit_test(test_address_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
