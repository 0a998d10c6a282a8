/*
 * smtp_reply.c - an SMTP server's replies, line by line, and the EHLO
 * capabilities.  See smtp_reply.h.
 *
 * The relay mirrors an upstream's replies to its client, so a reply is
 * checked strictly (RFC 5321 4.2: one code on every line, "-" on all but
 * the last) and its text is made safe to send again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtp_reply.h"

/* EHLO SIZE n: 20 digits hold any uint64_t. */
#define CAPS_SIZE_DIGITS_MAX	20

void
smtp_reply_init(struct smtp_reply *r)
{
	r->code = 0;
	r->nlines = 0;
	r->text[0] = '\0';
	r->textlen = 0;
	r->done = 0;
}

/* Append to the text, truncating; control characters become '?'. */
static void
text_append(struct smtp_reply *r, const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len && r->textlen < sizeof(r->text) - 1; i++) {
		c = s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			c = '?';
		r->text[r->textlen++] = c;
	}
	r->text[r->textlen] = '\0';
}

enum smtp_reply_status
smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len)
{
	int	code, last;

	if (r->done || len < 3 || len > SMTP_REPLY_LINE_MAX)
		return REPLY_ERROR;
	/* 2yz..5yz; RFC 5321 4.2.1 uses no other first digit. */
	if (line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
		return REPLY_ERROR;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (len == 3)
		last = 1;
	else if (line[3] == ' ')
		last = 1;
	else if (line[3] == '-')
		last = 0;
	else
		return REPLY_ERROR;
	if (r->nlines > 0 && code != r->code)
		return REPLY_ERROR;
	if (r->nlines >= SMTP_REPLY_LINES_MAX)
		return REPLY_ERROR;

	r->code = code;
	if (r->nlines++ > 0 && r->textlen < sizeof(r->text) - 1) {
		r->text[r->textlen++] = '\n';
		r->text[r->textlen] = '\0';
	}
	if (len > 4)
		text_append(r, line + 4, len - 4);
	if (last) {
		r->done = 1;
		return REPLY_DONE;
	}
	return REPLY_MORE;
}

static int
word_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

static unsigned
auth_mech(const char *s, size_t n)
{
	static const struct {
		const char	*name;
		unsigned	 bit;
	} mechs[] = {
		{ "PLAIN",		AUTH_MECH_PLAIN },
		{ "LOGIN",		AUTH_MECH_LOGIN },
		{ "CRAM-MD5",		AUTH_MECH_CRAM_MD5 },
		{ "XOAUTH2",		AUTH_MECH_XOAUTH2 },
		{ "OAUTHBEARER",	AUTH_MECH_OAUTHBEARER },
		{ "SCRAM-SHA-256",	AUTH_MECH_SCRAM_SHA_256 },
	};
	size_t	i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (word_is(s, n, mechs[i].name))
			return mechs[i].bit;
	return 0;
}

/* SIZE's argument; garbage or overflow reads as "no limit given". */
static uint64_t
caps_size(const char *s, size_t n)
{
	uint64_t	x = 0;
	size_t		i;

	if (n == 0 || n > CAPS_SIZE_DIGITS_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    x > (UINT64_MAX - (s[i] - '0')) / 10)
			return 0;
		x = x * 10 + (s[i] - '0');
	}
	return x;
}

/* One EHLO line: a keyword, then parameters separated by spaces. */
static void
caps_line(const char *s, size_t n, struct smtp_caps *c)
{
	const char	*kw = s, *p, *end = s + n, *w;
	size_t		 kwlen;

	for (p = s; p < end && *p != ' ' && *p != '='; p++)
		;
	kwlen = p - kw;

	if (word_is(kw, kwlen, "PIPELINING"))
		c->pipelining = 1;
	else if (word_is(kw, kwlen, "STARTTLS"))
		c->starttls = 1;
	else if (word_is(kw, kwlen, "8BITMIME"))
		c->eightbitmime = 1;
	else if (word_is(kw, kwlen, "SMTPUTF8"))
		c->smtputf8 = 1;
	else if (word_is(kw, kwlen, "ENHANCEDSTATUSCODES"))
		c->enhancedstatuscodes = 1;
	else if (word_is(kw, kwlen, "CHUNKING"))
		c->chunking = 1;
	else if (word_is(kw, kwlen, "SIZE")) {
		c->has_size = 1;
		while (p < end && *p == ' ')
			p++;
		for (w = p; p < end && *p != ' '; p++)
			;
		c->size = caps_size(w, p - w);
	} else if (word_is(kw, kwlen, "AUTH")) {
		/* "AUTH PLAIN LOGIN" and the pre-RFC 4954 "AUTH=PLAIN LOGIN" */
		while (p < end) {
			while (p < end && (*p == ' ' || *p == '='))
				p++;
			for (w = p; p < end && *p != ' '; p++)
				;
			c->auth |= auth_mech(w, p - w);
		}
	}
}

void
smtp_caps_parse(const struct smtp_reply *r, struct smtp_caps *c)
{
	const char	*p, *end, *nl;

	memset(c, 0, sizeof(*c));
	if (r->code != 250)
		return;
	p = r->text;
	end = r->text + r->textlen;
	/* The first line is the server's greeting, not a capability. */
	if ((nl = memchr(p, '\n', end - p)) == NULL)
		return;
	for (p = nl + 1; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		caps_line(p, nl - p, c);
	}
}

size_t
smtp_reply_format(const struct smtp_reply *r, char *buf, size_t buflen)
{
	const char	*p, *end, *nl;
	size_t		 off = 0, n;
	int		 last;

	if (r->code < 200 || r->code > 599 || buflen == 0)
		return 0;
	p = r->text;
	end = r->text + r->textlen;
	do {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		last = nl == end;
		n = nl - p;
		/* "NNN-" text CRLF; the last line "NNN" [" " text] CRLF */
		if (off + 4 + n + 2 + 1 > buflen)
			return 0;
		snprintf(buf + off, 4, "%03d", r->code);
		off += 3;
		if (!last || n > 0)
			buf[off++] = last ? ' ' : '-';
		memcpy(buf + off, p, n);
		off += n;
		buf[off++] = '\r';
		buf[off++] = '\n';
		p = nl + 1;
	} while (!last);
	buf[off] = '\0';
	return off;
}
