/*
 * fuzz_smtp_parse.c - what a client sends, without the session: the command
 * line parser, MAIL FROM / RCPT TO paths and their parameters, UTF-8
 * checking, the DATA scanner on chunked input and dot-stuffing.
 *
 * Besides crashes it checks properties that must hold for any input:
 *   - a path that parses fits in its buffer and has no angle brackets;
 *   - the DATA scanner gives the same verdict however the bytes are split
 *     (one chunk, or chunks of sizes taken from the input);
 *   - a message it accepts has CRLF line ends only and contains no
 *     "\r\n.\r\n" before its end (no second message hides in it);
 *   - dot_unstuff(dot_stuff(x)) == x, across chunk boundaries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_filter.h"
#include "smtp_parse.h"
#include "fuzz.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static void
fuzz_command(const char *line)
{
	struct smtp_mail_params	 params, rparams;
	enum smtp_path_error	 e;
	enum smtp_cmd		 cmd;
	const char		*args, *why;
	char			 addr[SMTP_PATH_MAX + 1];
	int			 is_mail;

	cmd = smtp_cmd_parse(line, &args);
	CHECK(args >= line && args <= line + strlen(line));
	CHECK(smtp_cmd_name(cmd) != NULL);
	for (is_mail = 0; is_mail <= 1; is_mail++) {
		memset(&params, 0, sizeof(params));
		why = NULL;
		e = smtp_parse_path(args, is_mail, addr, sizeof(addr),
		    &params, &why);
		if (e != PATH_OK)
			CHECK(why != NULL);
		if (e == PATH_OK || e == PATH_NON_ASCII) {
			CHECK(strlen(addr) <= SMTP_PATH_MAX);
			CHECK(strchr(addr, '<') == NULL ||
			    strchr(addr, '"') != NULL);
		}
	}
	/* RCPT in a transaction whose MAIL FROM said SMTPUTF8, and without
	 * any MAIL parameters at all. */
	memset(&rparams, 0, sizeof(rparams));
	rparams.smtputf8 = 1;
	(void)smtp_parse_path(args, 0, addr, sizeof(addr), &rparams, &why);
	(void)smtp_parse_path(args, 0, addr, sizeof(addr), NULL, &why);
}

static void
fuzz_utf8(const uint8_t *p, size_t n)
{
	size_t	i, l;

	for (i = 0; i < n; i += l ? l : 1) {
		l = utf8_seqlen(p + i, n - i);
		CHECK(l <= 4 && l <= n - i);
		if (l == 1)
			CHECK(p[i] < 0x80);
	}
}

/* "\r\n" + s[0..n) contains "\r\n.\r\n"? */
static int
has_terminator(const char *s, size_t n)
{
	char	*buf;
	int	 found;

	if ((buf = malloc(n + 2)) == NULL)
		abort();
	memcpy(buf, "\r\n", 2);
	memcpy(buf + 2, s, n);
	found = memmem(buf, n + 2, "\r\n.\r\n", 5) != NULL;
	free(buf);
	return found;
}

static void
fuzz_data(const uint8_t *sizes, size_t nsizes, const char *in, size_t len)
{
	struct data_filter	one, many;
	size_t			used1, used, off, chunk, i, k = 0;
	int			end1 = 0, end = 0;

	data_filter_init(&one, 512);
	used1 = data_filter_scan(&one, in, len, &end1);
	CHECK(used1 <= len);
	CHECK(end1 || used1 == len);

	data_filter_init(&many, 512);
	for (off = 0; off < len && !end; off += used) {
		chunk = nsizes ? (size_t)sizes[k++ % nsizes] % 17 + 1 : 1;
		if (chunk > len - off)
			chunk = len - off;
		used = data_filter_scan(&many, in + off, chunk, &end);
		CHECK(used <= chunk);
		CHECK(end || used == chunk);
	}
	CHECK(end == end1);
	CHECK(off == used1);
	/*
	 * Known, reported: a run that crosses both the line and the size
	 * limit is called LINE_TOO_LONG when scanned at once and TOO_BIG when
	 * it comes in small pieces (account() checks the line first).  Both
	 * refuse the message; only the reply's text differs.  Any other
	 * difference is a bug.
	 */
	if (many.error != one.error)
		CHECK((many.error == DATA_TOO_BIG &&
		    one.error == DATA_LINE_TOO_LONG) ||
		    (many.error == DATA_LINE_TOO_LONG &&
		    one.error == DATA_TOO_BIG));
	CHECK(many.error_line == one.error_line);
	CHECK(many.size == one.size);
	CHECK(many.lines == one.lines);

	if (one.error != DATA_OK)
		return;
	if (end1) {
		/* The content, without the terminator's ".\r\n". */
		CHECK(used1 >= 3);
		CHECK(memcmp(in + used1 - 3, ".\r\n", 3) == 0);
		CHECK(!has_terminator(in, used1 - 3));
		for (i = 0; i < used1 - 3; i++) {
			if (in[i] == '\n')
				CHECK(i > 0 && in[i - 1] == '\r');
			if (in[i] == '\r')
				CHECK(i + 1 < used1 - 3 && in[i + 1] == '\n');
		}
	} else
		CHECK(!has_terminator(in, len));
}

static void
fuzz_stuffing(const char *in, size_t len, size_t split)
{
	char	*stuffed, *back;
	size_t	 ns, nb;
	int	 bol = 1, bol2 = 1;

	if ((stuffed = malloc(2 * len + 1)) == NULL ||
	    (back = malloc(2 * len + 1)) == NULL)
		abort();
	if (split > len)
		split = len;
	ns = dot_stuff(in, split, stuffed, &bol);
	ns += dot_stuff(in + split, len - split, stuffed + ns, &bol);
	CHECK(ns <= 2 * len);
	nb = dot_unstuff(stuffed, ns / 2, back, &bol2);
	nb += dot_unstuff(stuffed + ns / 2, ns - ns / 2, back + nb, &bol2);
	CHECK(nb == len);
	CHECK(memcmp(back, in, len) == 0);
	free(stuffed);
	free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text;
	size_t	 nsizes;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	fuzz_command(text);
	fuzz_utf8(data, size);
	/* The first octets, as many as the first says (up to 8), set the
	 * chunk sizes; the rest is the DATA stream. */
	nsizes = size ? data[0] % 9 : 0;
	if (nsizes + 1 > size)
		nsizes = 0;
	fuzz_data(size ? data + 1 : data, nsizes, text + (size ? nsizes + 1 :
	    0), size ? size - nsizes - 1 : 0);
	fuzz_stuffing(text, size, size ? data[0] : 0);
	free(text);
	return 0;
}
