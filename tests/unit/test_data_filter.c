/*
 * test_data_filter.c - the end of DATA, SMTP smuggling, line and size
 * limits, dot-stuffing.  Every message is also fed split at every offset
 * and octet by octet, and must give the same result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data_filter.h"

struct result {
	size_t		consumed;	/* the terminator included */
	int		end;
	uint64_t	size;
	uint64_t	lines;
	enum data_error	error;
	uint64_t	error_line;
};

static void
finish(struct data_filter *f, struct result *r, size_t consumed, int end)
{
	r->consumed = consumed;
	r->end = end;
	r->size = f->size;
	r->lines = f->lines;
	r->error = f->error;
	r->error_line = f->error_line;
}

/* Feed msg in chunks whose boundaries are in cuts[] (ascending). */
static void
scan_cuts(const char *msg, size_t len, uint64_t max, const size_t *cuts,
    size_t ncuts, struct result *r)
{
	struct data_filter	f;
	size_t			off = 0, stop, i, n;
	int			end = 0;

	data_filter_init(&f, max);
	for (i = 0; i <= ncuts && !end; i++) {
		stop = i < ncuts ? cuts[i] : len;
		n = data_filter_scan(&f, msg + off, stop - off, &end);
		assert_true(n <= stop - off);
		if (!end)
			assert_int_equal(n, stop - off);
		off += n;
	}
	finish(&f, r, off, end);
}

static void
assert_same(const struct result *a, const struct result *b)
{
	assert_int_equal(a->consumed, b->consumed);
	assert_int_equal(a->end, b->end);
	assert_true(a->size == b->size);
	assert_true(a->lines == b->lines);
	assert_int_equal(a->error, b->error);
	assert_true(a->error_line == b->error_line);
}

/*
 * Scan msg whole, then split in two at every offset, then octet by octet;
 * all must agree.  Returns the result of the whole scan.
 */
static struct result
scan(const char *msg, size_t len, uint64_t max)
{
	struct result	 whole, part;
	size_t		 i, *cuts;

	scan_cuts(msg, len, max, NULL, 0, &whole);
	for (i = 0; i <= len; i++) {
		scan_cuts(msg, len, max, &i, 1, &part);
		assert_same(&whole, &part);
	}
	if (len > 0) {
		cuts = calloc(len, sizeof(*cuts));
		assert_non_null(cuts);
		for (i = 0; i < len; i++)
			cuts[i] = i + 1;
		scan_cuts(msg, len, max, cuts, len - 1, &part);
		assert_same(&whole, &part);
		free(cuts);
	}
	return whole;
}

#define SCAN(s)		scan((s), sizeof(s) - 1, 0)

static void
test_plain_message(void **state)
{
	const char	msg[] = "Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n";
	struct result	r = SCAN(msg);

	assert_int_equal(r.end, 1);
	/* The terminator is consumed, the pipelined QUIT is not. */
	assert_int_equal(r.consumed, sizeof(msg) - 1 - strlen("QUIT\r\n"));
	assert_true(r.size == strlen("Subject: hi\r\n\r\nbody\r\n"));
	assert_true(r.lines == 3);
	assert_int_equal(r.error, DATA_OK);
}

static void
test_empty_message(void **state)
{
	struct result	r = SCAN(".\r\n");

	assert_int_equal(r.end, 1);
	assert_int_equal(r.consumed, 3);
	assert_true(r.size == 0);
	assert_true(r.lines == 0);
	assert_int_equal(r.error, DATA_OK);

	r = SCAN("");
	assert_int_equal(r.end, 0);
	r = SCAN("\r\n.\r\n");
	assert_int_equal(r.end, 1);
	assert_true(r.size == 2);
	assert_true(r.lines == 1);
}

static void
test_only_stuffed_dots(void **state)
{
	struct result	r = SCAN("..\r\n..\r\n...\r\n.\r\n");

	assert_int_equal(r.end, 1);
	/* Unstuffed: ".\r\n.\r\n..\r\n" */
	assert_true(r.size == 10);
	assert_true(r.lines == 3);
	assert_int_equal(r.error, DATA_OK);

	/* ". " and ".x" at bol are content, not the end. */
	r = SCAN(". \r\n.x\r\n.\r\n");
	assert_int_equal(r.end, 1);
	assert_true(r.size == 6);	/* " \r\nx\r\n" */
	assert_int_equal(r.error, DATA_OK);
}

/*
 * The smuggling attempt: an end of data that some server might believe,
 * then a second transaction, then the real end.
 */
static void
smuggle(const char *fake, enum data_error want, uint64_t want_line)
{
	char		msg[512];
	struct result	r;
	int		n;

	n = snprintf(msg, sizeof(msg), "Subject: hi\r\n\r\ntext%s"
	    "MAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.org>\r\n"
	    "DATA\r\nFrom: ceo@example.org\r\n\r\n.\r\n", fake);
	assert_true(n > 0 && (size_t)n < sizeof(msg));
	r = scan(msg, n, 0);
	/* Only the real terminator ends the message... */
	assert_int_equal(r.end, 1);
	assert_int_equal(r.consumed, n);
	/* ...and the message is refused. */
	assert_int_equal(r.error, want);
	assert_true(r.error_line == want_line);
}

static void
test_smuggling(void **state)
{
	smuggle("\n.\n", DATA_BARE_LF, 3);
	smuggle("\r\n.\n", DATA_BARE_LF, 4);
	smuggle("\n.\r\n", DATA_BARE_LF, 3);
	smuggle("\r.\r", DATA_BARE_CR, 3);
	smuggle("\r.\r\n", DATA_BARE_CR, 3);
	smuggle("\r\n.\r\r\n", DATA_BARE_CR, 4);
	smuggle("\r\n.\r", DATA_BARE_CR, 4);
	smuggle("\r\n\n.\r\n", DATA_BARE_LF, 4);
}

static void
test_terminator_split_everywhere(void **state)
{
	const char	msg[] = "a\r\n..b\r\n\r\n.\r\n";
	struct result	r = SCAN(msg);	/* split at every offset */

	assert_int_equal(r.end, 1);
	assert_int_equal(r.consumed, sizeof(msg) - 1);
	assert_true(r.size == strlen("a\r\n.b\r\n\r\n"));
	assert_int_equal(r.error, DATA_OK);
}

/* A message of one line of n octets, CRLF included, then the end. */
static struct result
line_of(size_t n, char first)
{
	char		*msg;
	struct result	 r;

	msg = malloc(n + 3);
	assert_non_null(msg);
	memset(msg, 'x', n - 2);
	msg[0] = first;
	memcpy(msg + n - 2, "\r\n.\r\n", 5);
	r = scan(msg, n + 3, 0);
	free(msg);
	return r;
}

static void
test_line_lengths(void **state)
{
	struct result	r;

	r = line_of(1000, 'x');
	assert_int_equal(r.error, DATA_OK);
	assert_true(r.size == 1000);
	/* One over RFC 5321, allowed for the dot a client stuffs. */
	r = line_of(1001, 'x');
	assert_int_equal(r.error, DATA_OK);
	r = line_of(1001, '.');
	assert_int_equal(r.error, DATA_OK);
	assert_true(r.size == 1000);
	r = line_of(1002, 'x');
	assert_int_equal(r.end, 1);
	assert_int_equal(r.error, DATA_LINE_TOO_LONG);
	assert_true(r.error_line == 1);
	r = line_of(1002, '.');
	assert_int_equal(r.error, DATA_LINE_TOO_LONG);
	r = line_of(5000, 'x');
	assert_int_equal(r.error, DATA_LINE_TOO_LONG);
	assert_int_equal(r.end, 1);
}

static void
test_size_limit(void **state)
{
	const char	msg[] = "12345678\r\n..\r\n.\r\n";	/* 13 */
	struct result	r;

	r = scan(msg, sizeof(msg) - 1, 13);
	assert_int_equal(r.error, DATA_OK);
	assert_true(r.size == 13);
	r = scan(msg, sizeof(msg) - 1, 12);
	assert_int_equal(r.error, DATA_TOO_BIG);
	assert_true(r.error_line == 2);
	/* Scanning went on to the end, so the session can answer. */
	assert_int_equal(r.end, 1);
	assert_true(r.size == 13);
	r = scan(msg, sizeof(msg) - 1, 9);
	assert_int_equal(r.error, DATA_TOO_BIG);
	assert_true(r.error_line == 1);
}

static void
test_first_error_sticks(void **state)
{
	struct result	r = SCAN("ok\r\nbare lf\nbare\rcr\r\n.\r\n");

	assert_int_equal(r.error, DATA_BARE_LF);
	assert_true(r.error_line == 2);
	assert_int_equal(r.end, 1);
	r = SCAN("ok\r\nok\r\nbare\rcr\r\nbare lf\n\r\n.\r\n");
	assert_int_equal(r.error, DATA_BARE_CR);
	assert_true(r.error_line == 3);
	assert_true(r.lines == 5);
}

static void
test_error_texts(void **state)
{
	assert_string_equal(data_error_text(DATA_OK), "ok");
	assert_non_null(strstr(data_error_text(DATA_BARE_LF), "LF"));
	assert_non_null(strstr(data_error_text(DATA_BARE_CR), "CR"));
	assert_non_null(strstr(data_error_text(DATA_LINE_TOO_LONG), "long"));
	assert_non_null(strstr(data_error_text(DATA_TOO_BIG), "big"));
}

/* Stuff in pieces of size step; compare with want. */
static void
stuff_in_steps(const char *in, const char *want, size_t step)
{
	char	out[256];
	size_t	off, n, len = strlen(in), olen = 0;
	int	bol = 1;

	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		olen += dot_stuff(in + off, n, out + olen, &bol);
		assert_true(olen <= 2 * (off + n));
	}
	assert_int_equal(olen, strlen(want));
	assert_memory_equal(out, want, olen);
}

static void
unstuff_in_steps(const char *in, const char *want, size_t step)
{
	char	out[256];
	size_t	off, n, len = strlen(in), olen = 0;
	int	bol = 1;

	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		olen += dot_unstuff(in + off, n, out + olen, &bol);
	}
	assert_int_equal(olen, strlen(want));
	assert_memory_equal(out, want, olen);
}

static void
test_dot_stuffing(void **state)
{
	const char	*plain = ".\r\na\r\n.b\r\n..\r\nc.d\r\n.";
	const char	*stuffed = "..\r\na\r\n..b\r\n...\r\nc.d\r\n..";
	size_t		 step;
	char		 out[256];
	int		 bol = 0;

	for (step = 1; step <= strlen(plain); step++) {
		stuff_in_steps(plain, stuffed, step);
		unstuff_in_steps(stuffed, plain, step);
	}
	/* Not at the beginning of a line: the dot stays single. */
	assert_int_equal(dot_stuff(".x\r\n.", 5, out, &bol), 6);
	assert_memory_equal(out, ".x\r\n..", 6);
	assert_int_equal(bol, 0);
}

static void
test_stuffed_size_matches(void **state)
{
	const char	*plain = ".\r\n..x\r\nHello\r\n\r\n.\r\n";
	char		 buf[256];
	struct result	 r;
	size_t		 n;
	int		 bol = 1;

	n = dot_stuff(plain, strlen(plain), buf, &bol);
	memcpy(buf + n, ".\r\n", 3);
	r = scan(buf, n + 3, 0);
	assert_int_equal(r.end, 1);
	assert_int_equal(r.error, DATA_OK);
	/* The size is what the recipient gets: the unstuffed content. */
	assert_true(r.size == strlen(plain));
	assert_int_equal(r.consumed, n + 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_message),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_only_stuffed_dots),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_terminator_split_everywhere),
		cmocka_unit_test(test_line_lengths),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_first_error_sticks),
		cmocka_unit_test(test_error_texts),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_stuffed_size_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
