/*
 * smtp_parse.h - pure parsing of what an SMTP client sends: the command verb,
 * the MAIL FROM / RCPT TO path and its ESMTP parameters.  No I/O, no state:
 * unit-tested and fuzzed on their own.
 */
#ifndef ROAMSMTP_SMTP_PARSE_H
#define ROAMSMTP_SMTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_limits.h"

enum smtp_cmd {
	CMD_UNKNOWN = 0,
	CMD_HELO,
	CMD_EHLO,
	CMD_MAIL,	/* "MAIL FROM:" */
	CMD_RCPT,	/* "RCPT TO:" */
	CMD_DATA,
	CMD_BDAT,
	CMD_RSET,
	CMD_NOOP,
	CMD_QUIT,
	CMD_VRFY,
	CMD_EXPN,
	CMD_HELP,
	CMD_AUTH,
	CMD_STARTTLS,
};

/*
 * Identify the command on a line (CRLF already removed).  Verbs are matched
 * case-insensitively; "MAIL FROM:" and "RCPT TO:" are matched with their
 * colon, allowing no space before it (RFC 5321 4.1.1.2).  *args points into
 * line, just past the verb (and one separating space, if any).
 */
enum smtp_cmd	smtp_cmd_parse(const char *line, const char **args);
const char	*smtp_cmd_name(enum smtp_cmd);

/* What a MAIL FROM carries, as far as a relay cares. */
struct smtp_mail_params {
	uint64_t	size;		/* SIZE=, 0 when absent */
	int		body_8bitmime;	/* BODY=8BITMIME */
	int		smtputf8;	/* SMTPUTF8 */
};

enum smtp_path_error {
	PATH_OK = 0,
	PATH_SYNTAX,		/* no <...>, junk, spaces: 501 5.5.4 / 5.1.7 */
	PATH_TOO_LONG,		/* over SMTP_PATH_MAX: 501 5.5.4? 552? we use 501 */
	PATH_NON_ASCII,		/* 8-bit address without SMTPUTF8: 553 5.6.7 */
	PATH_BAD_PARAM,		/* unknown or malformed parameter: 555 5.5.4 */
};

/*
 * Parse the argument of MAIL FROM: / RCPT TO: ("<a@b> PARAM=V ...", the part
 * after the colon; leading spaces allowed).  Copies the address without the
 * angle brackets into addr (addrlen >= SMTP_PATH_MAX + 1); "<>" gives "".
 * For MAIL (is_mail), fills *params from SIZE=, BODY=, SMTPUTF8 and rejects
 * any other parameter; for RCPT, any parameter is rejected.  Non-ASCII in
 * the address is allowed only when SMTPUTF8 is among the parameters; for
 * RCPT, which has none, *params is read instead (the transaction's MAIL
 * FROM parameters; NULL means no SMTPUTF8).  Non-ASCII must be valid UTF-8;
 * addr (and *params) are filled also when PATH_NON_ASCII is returned.
 * A source route ("<@a,@b:user@c>") is accepted and reduced to the mailbox.
 * The whole path, brackets included, may have at most SMTP_PATH_MAX octets.
 * Returns PATH_OK or the error; *why is set to a short human text.
 */
enum smtp_path_error smtp_parse_path(const char *args, int is_mail,
		    char *addr, size_t addrlen,
		    struct smtp_mail_params *params, const char **why);

/*
 * The length of the valid UTF-8 sequence at p (at most n octets available):
 * 1 for ASCII, 2 to 4 for a well-formed multi-octet character (no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 when invalid or cut short.
 */
size_t	utf8_seqlen(const unsigned char *p, size_t n);

#endif
