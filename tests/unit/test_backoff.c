/*
 * test_backoff.c - the retry schedule of the queue: 1, 2, 4 ... minutes up
 * to an hour, each spread by +-20% with a random value, never shorter for a
 * later attempt while below the cap, and sane at the edges.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "router.h"

#define BASE	60		/* seconds after the first attempt */
#define CAP	3600		/* the longest wait before jitter */

/* Random values that reach both ends of any modulus and points between. */
static const uint32_t rnds[] = {
	0, 1, 2, 11, 12, 13, 23, 24, 25, 47, 48, 1000, 65535, 65536,
	0x7fffffff, 0x80000000, 0xfffffffe, UINT32_MAX,
};
#define NRNDS	(sizeof(rnds) / sizeof(rnds[0]))

/* 60 * 2^(n-1), capped, for n >= 1. */
static unsigned
nominal(unsigned attempts)
{
	unsigned	d = BASE, i;

	for (i = 1; i < attempts && d < CAP; i++)
		d *= 2;
	return d < CAP ? d : CAP;
}

/* Within +-20% of nominal(n), by integer arithmetic on both sides. */
static void
assert_in_band(unsigned attempts, unsigned d)
{
	unsigned	want = nominal(attempts);

	if ((uint64_t)d * 5 < (uint64_t)want * 4 ||
	    (uint64_t)d * 5 > (uint64_t)want * 6)
		fail_msg("attempt %u: %u s, want %u s +-20%%", attempts, d,
		    want);
}

static void
test_band_for_every_rnd(void **state)
{
	unsigned	n;
	size_t		i;

	for (n = 1; n <= 20; n++)
		for (i = 0; i < NRNDS; i++)
			assert_in_band(n, backoff_delay(n, rnds[i]));
}

/* A sweep of consecutive rnd values covers every offset the jitter uses. */
static void
test_rnd_sweep(void **state)
{
	unsigned	n, d, lo, hi;
	uint32_t	r;

	for (n = 1; n <= 8; n++) {
		lo = UINT_MAX;
		hi = 0;
		for (r = 0; r < 5000; r++) {
			d = backoff_delay(n, r);
			assert_in_band(n, d);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		/* The jitter really spreads: the ends of the band are met. */
		assert_int_equal(lo, nominal(n) - nominal(n) / 5);
		assert_int_equal(hi, nominal(n) + nominal(n) / 5);
	}
}

/* The exact schedule before jitter, read at the middle of the band. */
static void
test_schedule(void **state)
{
	static const unsigned	want[] = { 60, 120, 240, 480, 960, 1920,
	    3600, 3600, 3600 };
	unsigned		n, mid;

	for (n = 1; n <= sizeof(want) / sizeof(want[0]); n++) {
		/* rnd = 2*(d/5)/2 lands on d exactly. */
		mid = want[n - 1] / 5;
		assert_int_equal(backoff_delay(n, mid), want[n - 1]);
	}
}

/* Before the cap, the shortest wait of attempt n+1 exceeds the longest of
 * attempt n, whatever the random values. */
static void
test_monotone_before_cap(void **state)
{
	unsigned	n, prev_max, cur_min, d;
	size_t		i;

	for (n = 1; nominal(n + 1) < CAP; n++) {
		prev_max = 0;
		cur_min = UINT_MAX;
		for (i = 0; i < NRNDS; i++) {
			d = backoff_delay(n, rnds[i]);
			prev_max = d > prev_max ? d : prev_max;
			d = backoff_delay(n + 1, rnds[i]);
			cur_min = d < cur_min ? d : cur_min;
		}
		if (cur_min <= prev_max)
			fail_msg("attempt %u may wait %u s, attempt %u only %u s",
			    n, prev_max, n + 1, cur_min);
	}
	/* The loop ran over the doubling steps at all. */
	assert_true(n >= 6);
}

/* Attempt 0 (never tried) waits like the first; huge counts stay capped,
 * with no overflow from the shift. */
static void
test_edges(void **state)
{
	static const unsigned	huge[] = { 8, 31, 32, 33, 63, 64, 65, 1000,
	    1000000, UINT_MAX - 1, UINT_MAX };
	size_t			i, j;

	for (i = 0; i < NRNDS; i++) {
		assert_int_equal(backoff_delay(0, rnds[i]),
		    backoff_delay(1, rnds[i]));
		assert_in_band(1, backoff_delay(0, rnds[i]));
	}
	for (j = 0; j < sizeof(huge) / sizeof(huge[0]); j++)
		for (i = 0; i < NRNDS; i++) {
			assert_in_band(huge[j], backoff_delay(huge[j],
			    rnds[i]));
			assert_true(backoff_delay(huge[j], rnds[i]) >=
			    CAP - CAP / 5);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_band_for_every_rnd),
		cmocka_unit_test(test_rnd_sweep),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_monotone_before_cap),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
