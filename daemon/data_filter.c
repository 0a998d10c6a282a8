/*
 * data_filter.c - the DATA stream scanner and dot-stuffing.  See
 * data_filter.h.
 *
 * This runs on every octet of every message, and the relay means to cost
 * about as much as a bare socket, so the common case -- the middle of a
 * line -- is a memchr() to the next CR, not a loop over octets.  Only line
 * ends and a dot at the beginning of a line go through the state machine.
 *
 * SMTP smuggling (CVE-2023-51764 and friends) hides a second message behind
 * an end of data that one server sees and another does not: "\n.\n",
 * "\r.\r", "\n.\r\n" and so on.  Here only CR LF "." CR LF ends data, and
 * every bare CR or LF marks the message bad, so such a message is refused
 * and never passed on.
 *
 * Accounting: size counts content octets in their unstuffed form, that is
 * what the recipient gets: the dot a client adds at the beginning of a line
 * is not counted, the terminating ".\r\n" is not counted, the CRLF of every
 * content line is.  linelen counts a line in transfer form with its CRLF,
 * so a stuffed line may be SMTP_TEXT_LINE_MAX octets long.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "data_filter.h"

enum data_state {
	DS_BOL,		/* at the beginning of a line */
	DS_LINE,	/* inside a line */
	DS_CR,		/* after a CR in a line (or of an empty line) */
	DS_DOT,		/* after a "." at the beginning of a line */
	DS_DOTCR,	/* after ".\r" at the beginning of a line */
};

void
data_filter_init(struct data_filter *f, uint64_t max_size)
{
	memset(f, 0, sizeof(*f));
	f->max_size = max_size;
	/* The CRLF of the DATA command precedes the first line. */
	f->state = DS_BOL;
}

/* Keep the first error and where it happened. */
static void
fail(struct data_filter *f, enum data_error e)
{
	if (f->error == DATA_OK) {
		f->error = e;
		f->error_line = f->lines + 1;
	}
}

/* Account for n octets of the current line, of which counted are content. */
static void
account(struct data_filter *f, size_t n, size_t counted)
{
	f->linelen += n;
	f->size += counted;
	if (f->linelen > SMTP_TEXT_LINE_MAX)
		fail(f, DATA_LINE_TOO_LONG);
	if (f->max_size != 0 && f->size > f->max_size)
		fail(f, DATA_TOO_BIG);
}

/*
 * A line ended.  After a bare LF the next line does not count as beginning
 * at a CRLF: "\n.\r\n" is not the end of data, nor is a dot there stuffed.
 */
static void
end_line(struct data_filter *f, int crlf)
{
	f->lines++;
	f->linelen = 0;
	f->state = crlf ? DS_BOL : DS_LINE;
}

size_t
data_filter_scan(struct data_filter *f, const char *in, size_t len, int *end)
{
	const char	*p = in, *e = in + len, *cr, *lf, *nul;
	size_t		 n;

	*end = 0;
	while (p < e) {
		switch (f->state) {
		case DS_BOL:
			if (*p == '.') {
				/* A stuffed dot or the terminator's. */
				account(f, 1, 0);
				f->state = DS_DOT;
				p++;
			} else
				f->state = DS_LINE;
			break;
		case DS_LINE:
			/* The hot path: jump to the next CR. */
			n = e - p;
			cr = memchr(p, '\r', n);
			lf = memchr(p, '\n', cr != NULL ? (size_t)(cr - p) : n);
			if (lf != NULL)
				n = lf - p + 1;
			else if (cr != NULL)
				n = cr - p + 1;
			/* RFC 5321 2.3.8 / RFC 6152: no NUL in mail; a server
			 * that drops NULs could read "\0.\r\n" as an end.  The
			 * octets before it count first, so that the first error
			 * is the same however the input is split. */
			if ((nul = memchr(p, '\0', n)) != NULL) {
				account(f, (size_t)(nul - p), (size_t)(nul - p));
				fail(f, DATA_NUL);
				account(f, n - (size_t)(nul - p),
				    n - (size_t)(nul - p));
			} else
				account(f, n, n);
			if (lf != NULL) {
				fail(f, DATA_BARE_LF);
				end_line(f, 0);
			} else if (cr != NULL)
				f->state = DS_CR;
			p += n;
			break;
		case DS_CR:
			if (*p == '\n') {
				account(f, 1, 1);
				end_line(f, 1);
				p++;
			} else {
				/* Not consumed: the line goes on with it. */
				fail(f, DATA_BARE_CR);
				f->state = DS_LINE;
			}
			break;
		case DS_DOT:
			if (*p == '\r') {
				/* Counted once we know it is not the end. */
				f->linelen++;
				f->state = DS_DOTCR;
				p++;
			} else if (*p == '\n') {
				/* ".\n" is not the end of data: smuggling. */
				account(f, 1, 1);
				fail(f, DATA_BARE_LF);
				end_line(f, 0);
				p++;
			} else
				f->state = DS_LINE;
			break;
		case DS_DOTCR:
			if (*p == '\n') {
				p++;
				f->linelen = 0;
				f->state = DS_BOL;
				*end = 1;
				return p - in;
			}
			/* ".\r" then something else: the CR was content. */
			f->size++;
			if (f->max_size != 0 && f->size > f->max_size)
				fail(f, DATA_TOO_BIG);
			fail(f, DATA_BARE_CR);
			f->state = DS_LINE;
			break;
		}
	}
	return len;
}

const char *
data_error_text(enum data_error e)
{
	switch (e) {
	case DATA_OK:
		return "ok";
	case DATA_BARE_LF:
		return "bare LF in message, lines must end with CRLF";
	case DATA_BARE_CR:
		return "bare CR in message, lines must end with CRLF";
	case DATA_LINE_TOO_LONG:
		return "line too long, at most 1000 octets with its CRLF";
	case DATA_TOO_BIG:
		return "message too big";
	case DATA_NUL:
		return "NUL character in message";
	}
	return "unknown error";
}

size_t
dot_stuff(const char *in, size_t len, char *out, int *bol)
{
	const char	*p = in, *e = in + len, *nl;
	char		*o = out;
	size_t		 n;

	while (p < e) {
		if (*bol && *p == '.')
			*o++ = '.';
		nl = memchr(p, '\n', e - p);
		n = nl != NULL ? (size_t)(nl - p + 1) : (size_t)(e - p);
		memcpy(o, p, n);
		o += n;
		p += n;
		*bol = nl != NULL;
	}
	return o - out;
}

size_t
dot_unstuff(const char *in, size_t len, char *out, int *bol)
{
	const char	*p = in, *e = in + len, *nl;
	char		*o = out;
	size_t		 n;

	while (p < e) {
		if (*bol && *p == '.') {
			p++;
			*bol = 0;
			continue;
		}
		nl = memchr(p, '\n', e - p);
		n = nl != NULL ? (size_t)(nl - p + 1) : (size_t)(e - p);
		memcpy(o, p, n);
		o += n;
		p += n;
		*bol = nl != NULL;
	}
	return o - out;
}
