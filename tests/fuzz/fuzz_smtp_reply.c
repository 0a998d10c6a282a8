/*
 * fuzz_smtp_reply.c - what an upstream server sends: replies line by line
 * (multi-line ones included), the EHLO capability list, and the reply as it
 * is mirrored to our client.
 *
 * The input is split on LF (a CR before it dropped, as the client's line
 * reader does); every complete reply is parsed for capabilities and
 * formatted, and the next one starts.  Properties: a reply's text stays in
 * its buffer and NUL terminated; a formatted reply is CRLF lines of "NNN-"
 * or "NNN " with the reply's own code, and has no other CR or LF (the
 * upstream cannot make us say something else to our client).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_reply.h"
#include "fuzz.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static void
check_formatted(const struct smtp_reply *r, const char *buf, size_t n)
{
	char		 code[4];
	const char	*p = buf, *eol;

	CHECK(strlen(buf) == n);
	snprintf(code, sizeof(code), "%03d", r->code);
	while (p < buf + n) {
		eol = strstr(p, "\r\n");
		CHECK(eol != NULL);
		CHECK(eol - p >= 3 && memcmp(p, code, 3) == 0);
		CHECK(eol - p == 3 || p[3] == '-' || p[3] == ' ');
		CHECK(memchr(p, '\n', (size_t)(eol - p)) == NULL);
		CHECK(memchr(p, '\r', (size_t)(eol - p)) == NULL);
		/* Only the last line says "NNN ". */
		if (eol + 2 < buf + n)
			CHECK(p[3] == '-');
		p = eol + 2;
	}
}

static void
reply_done(const struct smtp_reply *r)
{
	struct smtp_caps	caps;
	char			buf[SMTP_REPLY_TEXT_MAX + SMTP_REPLY_LINES_MAX * 8];
	size_t			n;

	CHECK(r->code >= 100 && r->code <= 999);
	CHECK(r->textlen < sizeof(r->text));
	CHECK(r->text[r->textlen] == '\0');
	CHECK(r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX);
	memset(&caps, 0, sizeof(caps));
	smtp_caps_parse(r, &caps);
	/* The buffer the session mirrors replies through. */
	if ((n = smtp_reply_format(r, buf, sizeof(buf))) > 0)
		check_formatted(r, buf, n);
	/* And a buffer too small for most. */
	if ((n = smtp_reply_format(r, buf, 16)) > 0) {
		CHECK(n < 16);
		check_formatted(r, buf, n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply	 r;
	enum smtp_reply_status	 st;
	const char		*p = (const char *)data, *end = p + size, *nl;
	size_t			 len;

	smtp_reply_init(&r);
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		st = smtp_reply_feed(&r, p, len);
		CHECK(r.textlen < sizeof(r.text));
		if (st == REPLY_DONE) {
			reply_done(&r);
			smtp_reply_init(&r);
		} else if (st == REPLY_ERROR)
			smtp_reply_init(&r);
		p = nl + 1;
	}
	return 0;
}
