/*
 * smtp_parse.c - the command verb, the MAIL FROM / RCPT TO path and the
 * ESMTP parameters of what an SMTP client sends.  See smtp_parse.h.
 *
 * The relay passes addresses on to an upstream inside "<...>", so what is
 * accepted here must not be able to change the meaning of that command
 * line: no control characters, no spaces or angle brackets outside a quoted
 * local part, nothing longer than RFC 5321 allows.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "smtp_parse.h"

/* SIZE=n: 20 digits hold any uint64_t; more is a malformed parameter. */
#define SIZE_DIGITS_MAX	20

static const struct {
	enum smtp_cmd	 cmd;
	const char	*verb;		/* as matched, colon included */
	const char	*name;		/* for logs */
} cmd_table[] = {
	{ CMD_HELO,	"HELO",		"HELO" },
	{ CMD_EHLO,	"EHLO",		"EHLO" },
	{ CMD_MAIL,	"MAIL FROM:",	"MAIL FROM" },
	{ CMD_RCPT,	"RCPT TO:",	"RCPT TO" },
	{ CMD_DATA,	"DATA",		"DATA" },
	{ CMD_BDAT,	"BDAT",		"BDAT" },
	{ CMD_RSET,	"RSET",		"RSET" },
	{ CMD_NOOP,	"NOOP",		"NOOP" },
	{ CMD_QUIT,	"QUIT",		"QUIT" },
	{ CMD_VRFY,	"VRFY",		"VRFY" },
	{ CMD_EXPN,	"EXPN",		"EXPN" },
	{ CMD_HELP,	"HELP",		"HELP" },
	{ CMD_AUTH,	"AUTH",		"AUTH" },
	{ CMD_STARTTLS,	"STARTTLS",	"STARTTLS" },
};

#define NCMDS	(sizeof(cmd_table) / sizeof(cmd_table[0]))

enum smtp_cmd
smtp_cmd_parse(const char *line, const char **args)
{
	size_t	i, n;

	for (i = 0; i < NCMDS; i++) {
		n = strlen(cmd_table[i].verb);
		if (strncasecmp(line, cmd_table[i].verb, n) != 0)
			continue;
		/* "HELOX" is not HELO; after "MAIL FROM:" anything goes. */
		if (cmd_table[i].verb[n - 1] != ':' &&
		    line[n] != '\0' && line[n] != ' ')
			continue;
		if (line[n] == ' ')
			n++;
		*args = line + n;
		return cmd_table[i].cmd;
	}
	*args = line + strlen(line);
	return CMD_UNKNOWN;
}

const char *
smtp_cmd_name(enum smtp_cmd cmd)
{
	size_t	i;

	for (i = 0; i < NCMDS; i++)
		if (cmd_table[i].cmd == cmd)
			return cmd_table[i].name;
	return "unknown";
}

size_t
utf8_seqlen(const unsigned char *p, size_t n)
{
	unsigned	c, min;
	size_t		len, i;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

static int
utf8_valid(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 l;

	while (n > 0) {
		if ((l = utf8_seqlen(p, n)) == 0)
			return 0;
		p += l;
		n -= l;
	}
	return 1;
}

/* RFC 5322 atext; RFC 6531 adds UTF-8, checked as a whole afterwards. */
static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * A domain (letters, digits, '-', '.', UTF-8 for SMTPUTF8) or an address
 * literal "[...]".  Dots are not policed: the upstream has the final word,
 * we only keep the command line unambiguous.
 */
static int
valid_domain(const char *s, size_t n)
{
	size_t		i;
	unsigned char	c;

	if (n == 0)
		return 0;
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return 0;
		for (i = 1; i < n - 1; i++) {
			c = s[i];
			if (c <= ' ' || c >= 0x7f || c == '[' || c == ']' ||
			    c == '\\')
				return 0;
		}
		return 1;
	}
	for (i = 0; i < n; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c >= 0x80))
			return 0;
	}
	return 1;
}

/* local-part ["@" domain]; a bare local part is "postmaster" and friends. */
static int
valid_mailbox(const char *s, size_t n)
{
	size_t		i = 0;
	unsigned char	c;

	if (n == 0)
		return 0;
	if (s[0] == '"') {
		for (i = 1; i < n; i++) {
			c = s[i];
			if (c == '\\') {
				/* quoted-pairSMTP: %d92 %d32-126 */
				if (++i >= n || s[i] < 32 || s[i] > 126)
					return 0;
			} else if (c == '"')
				break;
			else if (is_ctl(c))
				return 0;
		}
		if (i >= n)
			return 0;
		i++;
	} else {
		while (i < n && (is_atext(s[i]) || s[i] == '.'))
			i++;
		if (i == 0)
			return 0;
	}
	if (i == n)
		return 1;
	if (s[i] != '@')
		return 0;
	return valid_domain(s + i + 1, n - i - 1);
}

/*
 * A source route "@a,@b:" (RFC 5321 4.1.2, to be accepted and ignored,
 * appendix C).  Returns the length up to and including the colon, 0 when
 * malformed.  A colon inside an address literal ("@[IPv6:::1]") is not the
 * end of the route.
 */
static size_t
route_len(const char *s, size_t n)
{
	size_t	i, start;
	int	literal = 0;

	for (i = 0, start = 0; i < n; i++) {
		if (s[i] == '[')
			literal = 1;
		else if (s[i] == ']')
			literal = 0;
		else if (!literal && (s[i] == ',' || s[i] == ':')) {
			if (s[start] != '@' ||
			    !valid_domain(s + start + 1, i - start - 1))
				return 0;
			if (s[i] == ':')
				return i + 1;
			start = i + 1;
		}
	}
	return 0;
}

/*
 * Find the '>' that closes the path opened at p[-1].  Quoted local parts
 * may hold spaces and '>'; nothing else may.  Sets *nonascii when an octet
 * over 0x7f is seen.
 */
static enum smtp_path_error
scan_path(const char *p, const char **close, int *nonascii, const char **why)
{
	const char	*q;
	int		 quoted = 0;
	unsigned char	 c;

	for (q = p; ; q++) {
		/* p[-1] is '<'; the path counts both brackets. */
		if ((size_t)(q - p) + 2 > SMTP_PATH_MAX) {
			*why = "address too long";
			return PATH_TOO_LONG;
		}
		c = *q;
		if (c == '\0') {
			*why = "missing > after the address";
			return PATH_SYNTAX;
		}
		if (is_ctl(c)) {
			*why = "control character in the address";
			return PATH_SYNTAX;
		}
		if (c >= 0x80)
			*nonascii = 1;
		if (quoted) {
			if (c == '\\' && q[1] != '\0')
				q++;
			else if (c == '"')
				quoted = 0;
			continue;
		}
		if (c == '"')
			quoted = 1;
		else if (c == '>') {
			*close = q;
			return PATH_OK;
		} else if (c == ' ') {
			*why = "space in the address";
			return PATH_SYNTAX;
		} else if (c == '<') {
			*why = "< inside the address";
			return PATH_SYNTAX;
		}
	}
}

static int
parse_size(const char *v, size_t n, uint64_t *out)
{
	uint64_t	x = 0;
	size_t		i;

	if (n == 0 || n > SIZE_DIGITS_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (x > (UINT64_MAX - (v[i] - '0')) / 10)
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	*out = x;
	return 0;
}

static int
token_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* MAIL FROM parameters: SIZE=, BODY=, SMTPUTF8; nothing else is offered. */
static enum smtp_path_error
parse_params(const char *p, struct smtp_mail_params *mp, const char **why)
{
	const char	*tok, *eq, *val;
	size_t		 klen, vlen, tlen;
	int		 seen_size = 0, seen_body = 0;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return PATH_OK;
		tok = p;
		while (*p != '\0' && *p != ' ')
			p++;
		tlen = p - tok;
		eq = memchr(tok, '=', tlen);
		klen = eq ? (size_t)(eq - tok) : tlen;
		val = eq ? eq + 1 : NULL;
		vlen = eq ? tlen - klen - 1 : 0;

		if (token_is(tok, klen, "SIZE")) {
			if (seen_size++ || val == NULL ||
			    parse_size(val, vlen, &mp->size) == -1) {
				*why = "malformed SIZE parameter";
				return PATH_BAD_PARAM;
			}
		} else if (token_is(tok, klen, "BODY")) {
			if (seen_body++ || val == NULL) {
				*why = "malformed BODY parameter";
				return PATH_BAD_PARAM;
			}
			if (token_is(val, vlen, "8BITMIME"))
				mp->body_8bitmime = 1;
			else if (!token_is(val, vlen, "7BIT")) {
				*why = "BODY must be 7BIT or 8BITMIME";
				return PATH_BAD_PARAM;
			}
		} else if (token_is(tok, klen, "SMTPUTF8")) {
			if (mp->smtputf8++ || val != NULL) {
				*why = "malformed SMTPUTF8 parameter";
				return PATH_BAD_PARAM;
			}
		} else {
			*why = "unsupported MAIL FROM parameter";
			return PATH_BAD_PARAM;
		}
	}
}

enum smtp_path_error
smtp_parse_path(const char *args, int is_mail, char *addr, size_t addrlen,
    struct smtp_mail_params *params, const char **why)
{
	struct smtp_mail_params	 mp;
	const char		*open, *close, *mbox;
	enum smtp_path_error	 e;
	size_t			 n, r;
	int			 nonascii = 0, utf8;

	*why = "";
	memset(&mp, 0, sizeof(mp));
	if (addrlen < SMTP_PATH_MAX + 1) {
		*why = "address buffer too small";
		return PATH_TOO_LONG;
	}

	/* "MAIL FROM: <a>" is wrong but common; allow spaces before '<'. */
	open = args;
	while (*open == ' ')
		open++;
	if (*open != '<') {
		*why = "address must be enclosed in <>";
		return PATH_SYNTAX;
	}
	if ((e = scan_path(open + 1, &close, &nonascii, why)) != PATH_OK)
		return e;
	if (close[1] != '\0' && close[1] != ' ') {
		*why = "junk after the address";
		return PATH_SYNTAX;
	}

	mbox = open + 1;
	n = close - mbox;
	if (n > 0 && mbox[0] == '@') {
		if ((r = route_len(mbox, n)) == 0) {
			*why = "malformed source route";
			return PATH_SYNTAX;
		}
		mbox += r;
		n -= r;
	}
	if (n == 0 && (!is_mail || mbox != open + 1)) {
		*why = is_mail ? "empty address after source route" :
		    "empty recipient address";
		return PATH_SYNTAX;
	}
	if (n > 0 && !valid_mailbox(mbox, n)) {
		*why = "malformed address";
		return PATH_SYNTAX;
	}

	if (is_mail) {
		if ((e = parse_params(close + 1, &mp, why)) != PATH_OK)
			return e;
		utf8 = mp.smtputf8;
	} else {
		const char *p = close + 1;

		while (*p == ' ')
			p++;
		if (*p != '\0') {
			*why = "RCPT TO parameters are not supported";
			return PATH_BAD_PARAM;
		}
		utf8 = params != NULL && params->smtputf8;
	}
	if (nonascii && !utf8_valid(mbox, n)) {
		*why = "address is not valid UTF-8";
		return PATH_SYNTAX;
	}

	memcpy(addr, mbox, n);
	addr[n] = '\0';
	if (is_mail && params != NULL)
		*params = mp;
	/* Last, with addr filled: a caller may know better (RCPT, SMTPUTF8). */
	if (nonascii && !utf8) {
		*why = "non-ASCII address without SMTPUTF8";
		return PATH_NON_ASCII;
	}
	return PATH_OK;
}
