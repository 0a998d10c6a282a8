/* sendmail.c - see sendmail.h. */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "sendmail.h"

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
sm_addrs_add(struct sm_addrs *a, const char *addr)
{
	char	**v;
	size_t	  i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], addr) == 0)
			return 0;
	if (a->n >= SM_RCPT_MAX)
		return -1;
	if ((v = realloc(a->v, (a->n + 2) * sizeof(*v))) == NULL)
		abort();
	a->v = v;
	if ((a->v[a->n] = strdup(addr)) == NULL)
		abort();
	a->v[++a->n] = NULL;
	return 0;
}

void
sm_addrs_free(struct sm_addrs *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* ------------------------------------------------------------ addresses */

/* One element of an address list while it is parsed. */
struct addr_elem {
	char	phrase[SMTP_PATH_MAX + 1];	/* words outside <> */
	size_t	plen;
	int	phrase_long;			/* phrase over the limit */
	char	angle[SMTP_PATH_MAX + 1];	/* inside <> */
	size_t	alen;
	int	has_angle;
	int	in_angle;
};

static int
elem_put(struct addr_elem *e, char c)
{
	if (e->in_angle) {
		if (e->alen >= SMTP_PATH_MAX)
			return -1;
		e->angle[e->alen++] = c;
	} else if (e->plen >= SMTP_PATH_MAX)
		e->phrase_long = 1;	/* a long display name is fine */
	else
		e->phrase[e->plen++] = c;
	return 0;
}

/* End an element: add its address, if it has one.  1 added, 0 none, -1. */
static int
elem_end(struct addr_elem *e, struct sm_addrs *out, char *err, size_t errlen)
{
	const char	*a, *colon;
	size_t		 n;
	int		 r = 0;

	if (e->in_angle) {
		seterr(err, errlen, "'<' without '>'");
		return -1;
	}
	if (e->has_angle) {
		e->angle[e->alen] = '\0';
		a = e->angle;
		/* An obsolete source route: "<@a,@b:user@c>". */
		if (a[0] == '@' && (colon = strchr(a, ':')) != NULL)
			a = colon + 1;
	} else {
		if (e->phrase_long) {
			seterr(err, errlen, "an address over %d octets",
			    SMTP_PATH_MAX);
			return -1;
		}
		e->phrase[e->plen] = '\0';
		a = e->phrase;
	}
	n = out->n;
	if (a[0] != '\0') {
		if (sm_addrs_add(out, a) == -1) {
			seterr(err, errlen, "more than %d recipients",
			    SM_RCPT_MAX);
			return -1;
		}
		r = out->n > n;		/* not a duplicate */
	}
	memset(e, 0, sizeof(*e));
	return r;
}

int
sm_parse_addresses(const char *value, struct sm_addrs *out, char *err,
    size_t errlen)
{
	struct addr_elem	 e;
	const char		*p;
	int			 depth, found = 0, r;

	memset(&e, 0, sizeof(e));
	for (p = value; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			/* A quoted string: a display name, or a quoted local
			 * part, which is kept with its quotes. */
			if (elem_put(&e, *p) == -1)
				goto toolong;
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0') {
					if (elem_put(&e, *p++) == -1)
						goto toolong;
				}
				if (elem_put(&e, *p) == -1)
					goto toolong;
			}
			if (*p == '\0') {
				seterr(err, errlen, "a '\"' is not closed");
				return -1;
			}
			if (elem_put(&e, *p) == -1)
				goto toolong;
			break;
		case '(':
			/* A comment (they nest): dropped. */
			for (depth = 1, p++; *p != '\0' && depth > 0; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '(')
					depth++;
				else if (*p == ')')
					depth--;
			}
			if (depth > 0) {
				seterr(err, errlen, "a '(' is not closed");
				return -1;
			}
			p--;
			break;
		case '<':
			if (e.in_angle) {
				seterr(err, errlen, "'<' inside '<...>'");
				return -1;
			}
			e.in_angle = e.has_angle = 1;
			e.alen = 0;
			break;
		case '>':
			if (!e.in_angle) {
				seterr(err, errlen, "'>' without '<'");
				return -1;
			}
			e.in_angle = 0;
			break;
		case ',':
		case ';':
			if (e.in_angle) {
				/* Inside a source route "<@a,@b:u@c>". */
				if (elem_put(&e, *p) == -1)
					goto toolong;
				break;
			}
			if ((r = elem_end(&e, out, err, errlen)) == -1)
				return -1;
			found += r;
			break;
		case ':':
			if (e.in_angle) {
				if (elem_put(&e, *p) == -1)
					goto toolong;
				break;
			}
			/* "name:" opens a group: the words were its name. */
			memset(&e, 0, sizeof(e));
			break;
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			/* Folding and the blanks between words: an address has
			 * none outside quotes. */
			break;
		default:
			if (elem_put(&e, *p) == -1)
				goto toolong;
			break;
		}
	}
	if ((r = elem_end(&e, out, err, errlen)) == -1)
		return -1;
	return found + r;
 toolong:
	seterr(err, errlen, "an address over %d octets", SMTP_PATH_MAX);
	return -1;
}

/* ---------------------------------------------------------------- input */

long long
sm_read_input(FILE *in, FILE *out, int dot_ends)
{
	long long	n = 0;
	long		col = 0;	/* octets on this line so far */
	int		c, prev_cr = 0, held_dot = 0;

	while ((c = getc_unlocked(in)) != EOF) {
		if (c == '\n' && prev_cr) {
			prev_cr = 0;	/* the LF of a CRLF */
			continue;
		}
		prev_cr = (c == '\r');
		if (c == '\r' || c == '\n') {
			if (held_dot && col == 1 && dot_ends)
				return n;	/* "." alone: the end */
			if (held_dot && putc_unlocked('.', out) == EOF)
				return -1;
			if (putc_unlocked('\n', out) == EOF)
				return -1;
			n += held_dot + 1;
			held_dot = 0;
			col = 0;
			continue;
		}
		if (col == 0 && c == '.') {
			/* Wait: is it a line of its own? */
			held_dot = 1;
			col = 1;
			continue;
		}
		if (held_dot) {
			if (putc_unlocked('.', out) == EOF)
				return -1;
			n++;
			held_dot = 0;
		}
		if (putc_unlocked(c, out) == EOF)
			return -1;
		n++;
		col++;
	}
	if (ferror(in))
		return -1;
	if (col > 0) {
		if (held_dot && col == 1 && dot_ends)
			return n;
		if (held_dot && putc_unlocked('.', out) == EOF)
			return -1;
		if (putc_unlocked('\n', out) == EOF)
			return -1;
		n += held_dot + 1;
	}
	return n;
}

/* -------------------------------------------------------------- headers */

/* "Name:" at the start of line: the name's length, or 0 when not a header. */
static size_t
header_name_len(const char *line)
{
	size_t	i;

	for (i = 0; line[i] > 32 && line[i] < 127 && line[i] != ':'; i++)
		;
	return (i > 0 && line[i] == ':') ? i : 0;
}

static int
is_header(const char *name, size_t nlen, const char *want)
{
	return strlen(want) == nlen && strncasecmp(name, want, nlen) == 0;
}

/* One header being read, its continuation lines unfolded into value. */
struct cur_header {
	char	name[64];
	char	*value;
	size_t	 vlen;
	int	 keep;		/* an address header we parse */
	long	 line;
};

static int
header_done(struct cur_header *h, struct sm_scan *s, char *err, size_t errlen)
{
	struct sm_addrs	 from = { NULL, 0 };
	struct sm_addrs	*dst;
	char		 why[256];
	size_t		 n = strlen(h->name);

	if (n == 0)
		return 0;
	if (is_header(h->name, n, "From"))
		s->has_from = 1;
	else if (is_header(h->name, n, "Date"))
		s->has_date = 1;
	else if (is_header(h->name, n, "Message-ID"))
		s->has_message_id = 1;
	if (h->keep) {
		h->value[h->vlen] = '\0';
		if (is_header(h->name, n, "From"))
			dst = &from;
		else if (strncasecmp(h->name, "Resent-", 7) == 0)
			dst = &s->resent;
		else
			dst = &s->to_cc_bcc;
		if (sm_parse_addresses(h->value, dst, why, sizeof(why)) == -1) {
			seterr(err, errlen, "line %ld: %s: %s; correct the "
			    "header", h->line, h->name, why);
			sm_addrs_free(&from);
			return -1;
		}
		if (dst == &from && from.n > 0 && s->from_addr == NULL &&
		    (s->from_addr = strdup(from.v[0])) == NULL)
			abort();
		sm_addrs_free(&from);
	}
	h->name[0] = '\0';
	h->vlen = 0;
	h->keep = 0;
	return 0;
}

static int
header_append(struct cur_header *h, const char *text, size_t len,
    char *err, size_t errlen)
{
	if (!h->keep)
		return 0;
	if (h->vlen + len > SM_HEADER_VALUE_MAX) {
		seterr(err, errlen, "line %ld: %s: over %d octets; send to "
		    "fewer recipients at once", h->line, h->name,
		    SM_HEADER_VALUE_MAX);
		return -1;
	}
	memcpy(h->value + h->vlen, text, len);
	h->vlen += len;
	return 0;
}

static void
header_start(struct cur_header *h, const char *line, size_t nlen, long lineno)
{
	static const char *const addr_headers[] = { "From", "To", "Cc", "Bcc",
	    "Resent-To", "Resent-Cc", "Resent-Bcc", NULL };
	size_t	i;

	h->line = lineno;
	if (nlen >= sizeof(h->name))
		nlen = sizeof(h->name) - 1;
	memcpy(h->name, line, nlen);
	h->name[nlen] = '\0';
	h->vlen = 0;
	h->keep = 0;
	for (i = 0; addr_headers[i] != NULL; i++)
		if (is_header(line, nlen, addr_headers[i]))
			h->keep = 1;
}

/*
 * Read one line (up to its LF, which is dropped) into buf, NUL terminated.
 * Returns its length, -1 at the end, -2 when it has more than size - 2
 * octets (buf is SM_LINE_MAX + 2 octets: 998 fit, 999 do not).
 */
static long
read_line(FILE *f, char *buf, size_t size)
{
	size_t	n = 0;
	int	c;

	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (n + 2 >= size)
			return -2;	/* over size - 2 octets */
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (c == EOF && n == 0)
		return -1;
	return (long)n;
}

int
sm_scan(FILE *msg, struct sm_scan *s, char *err, size_t errlen)
{
	struct cur_header	 h;
	char			 line[SM_LINE_MAX + 2];
	long			 len;
	size_t			 i, nlen;
	int			 in_headers = 1, rc = -1;

	memset(s, 0, sizeof(*s));
	memset(&h, 0, sizeof(h));
	if ((h.value = malloc(SM_HEADER_VALUE_MAX + 1)) == NULL)
		abort();
	while (s->lines++, (len = read_line(msg, line, sizeof(line))) != -1) {
		if (len == -2) {
			seterr(err, errlen, "line %ld is longer than %d "
			    "octets, which SMTP cannot carry; encode the "
			    "message (quoted-printable or base64) or wrap the "
			    "line", s->lines, SM_LINE_MAX);
			goto done;
		}
		if (memchr(line, '\0', (size_t)len) != NULL) {
			seterr(err, errlen, "line %ld holds a NUL octet, which "
			    "SMTP cannot carry; encode the message (base64)",
			    s->lines);
			goto done;
		}
		for (i = 0; i < (size_t)len; i++)
			if ((unsigned char)line[i] > 127) {
				s->eight_bit = 1;
				if (in_headers)
					s->non_ascii_headers = 1;
				break;
			}
		if (!in_headers)
			continue;
		if (s->lines == 1 && strncmp(line, "From ", 5) == 0)
			continue;	/* an mbox separator */
		if ((line[0] == ' ' || line[0] == '\t') && h.name[0] != '\0') {
			if (header_append(&h, line, (size_t)len, err,
			    errlen) == -1)
				goto done;
			continue;
		}
		if (header_done(&h, s, err, errlen) == -1)
			goto done;
		if ((nlen = header_name_len(line)) == 0) {
			in_headers = 0;		/* the body begins */
			continue;
		}
		header_start(&h, line, nlen, s->lines);
		if (header_append(&h, line + nlen + 1, (size_t)len - nlen - 1,
		    err, errlen) == -1)
			goto done;
	}
	s->lines--;
	if (ferror(msg)) {
		seterr(err, errlen, "reading the message: %s", strerror(errno));
		goto done;
	}
	if (header_done(&h, s, err, errlen) == -1)
		goto done;
	rc = 0;
 done:
	free(h.value);
	if (rc == -1)
		sm_scan_free(s);
	return rc;
}

void
sm_scan_free(struct sm_scan *s)
{
	sm_addrs_free(&s->to_cc_bcc);
	sm_addrs_free(&s->resent);
	free(s->from_addr);
	s->from_addr = NULL;
}

const struct sm_addrs *
sm_scan_recipients(const struct sm_scan *s)
{
	return s->resent.n > 0 ? &s->resent : &s->to_cc_bcc;
}

/* ------------------------------------------------------------- transfer */

static int
put_line(FILE *out, const char *line, size_t len, long long *n)
{
	/* RFC 5321 4.5.2: a line starting with a dot gets one more. */
	if (len > 0 && line[0] == '.' && putc_unlocked('.', out) == EOF)
		return -1;
	if ((len > 0 && fwrite(line, 1, len, out) != len) ||
	    fputs("\r\n", out) == EOF)
		return -1;
	*n += (long long)len + 2 + (len > 0 && line[0] == '.');
	return 0;
}

long long
sm_transfer(FILE *msg, const char *add, FILE *out)
{
	char		 line[SM_LINE_MAX + 2];
	long long	 n = 0;
	long		 len, lineno = 0;
	int		 in_headers = 1, skipping = 0, have_header = 0;

	if (add != NULL) {
		if (fputs(add, out) == EOF)
			return -1;
		n += (long long)strlen(add);
	}
	while ((len = read_line(msg, line, sizeof(line))) != -1) {
		lineno++;
		if (len == -2) {
			errno = EMSGSIZE;	/* sm_scan said so first */
			return -1;
		}
		if (in_headers) {
			if (lineno == 1 && strncmp(line, "From ", 5) == 0)
				continue;
			if ((line[0] == ' ' || line[0] == '\t') &&
			    have_header) {
				if (skipping)
					continue;
			} else if (header_name_len(line) > 0) {
				have_header = 1;
				skipping = strncasecmp(line, "Bcc:", 4) == 0 ||
				    strncasecmp(line, "Resent-Bcc:", 11) == 0;
				if (skipping)
					continue;
			} else {
				in_headers = 0;
				/* Headers must end with an empty line. */
				if (len > 0 && (have_header || add != NULL) &&
				    put_line(out, "", 0, &n) == -1)
					return -1;
			}
		}
		if (put_line(out, line, (size_t)len, &n) == -1)
			return -1;
	}
	if (ferror(msg))
		return -1;
	return n;
}

char *
sm_missing_headers(const struct sm_scan *s, const char *sender,
    const char *fullname, const char *hostname, char *buf, size_t len)
{
	unsigned char	 rnd[12];
	char		 date[64], id[2 * sizeof(rnd) + 1], name[128];
	struct tm	 tm;
	time_t		 now = time(NULL);
	size_t		 used = 0, i;
	int		 r;

	buf[0] = '\0';
	if (!s->has_from) {
		/* A display name in a quoted string: no quote, backslash or
		 * control character can break out of it. */
		for (i = 0; fullname != NULL && fullname[i] != '\0' &&
		    i < sizeof(name) - 1; i++)
			name[i] = (fullname[i] == '"' || fullname[i] == '\\' ||
			    (unsigned char)fullname[i] < 32) ? ' ' : fullname[i];
		name[i] = '\0';
		if (name[0] != '\0')
			r = snprintf(buf, len, "From: \"%s\" <%s>\r\n",
			    name, sender);
		else
			r = snprintf(buf, len, "From: <%s>\r\n", sender);
		if (r < 0 || (size_t)r >= len)
			return NULL;
		used = (size_t)r;
	}
	if (!s->has_date) {
		localtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
		r = snprintf(buf + used, len - used, "Date: %s\r\n", date);
		if (r < 0 || (size_t)r >= len - used)
			return NULL;
		used += (size_t)r;
	}
	if (!s->has_message_id) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return NULL;
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(id + 2 * i, 3, "%02x", rnd[i]);
		r = snprintf(buf + used, len - used, "Message-ID: <%lld.%s@%s>"
		    "\r\n", (long long)now, id, hostname);
		if (r < 0 || (size_t)r >= len - used)
			return NULL;
	}
	return buf;
}

int
sm_exit_for_reply(enum sm_stage stage, int code)
{
	if (code >= 400 && code < 500)
		return EX_TEMPFAIL;
	if (code < 500 || code > 599)
		return EX_PROTOCOL;
	if (stage == SM_STAGE_RCPT)
		return EX_NOUSER;
	if (stage == SM_STAGE_DOT && code == 552)
		return EX_DATAERR;
	return EX_UNAVAILABLE;
}

char *
sm_shell_quote(const char *s, char *buf, size_t len)
{
	size_t	n = 0;

#define PUT(c) do { if (n + 1 >= len) return NULL; buf[n++] = (c); } while (0)
	PUT('\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			PUT('\''); PUT('\\'); PUT('\''); PUT('\'');
		} else
			PUT(*s);
	}
	PUT('\'');
#undef PUT
	buf[n] = '\0';
	return buf;
}
