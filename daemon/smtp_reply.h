/*
 * smtp_reply.h - pure parsing of an SMTP server's replies (RFC 5321 4.2),
 * multi-line included, and of the EHLO capability list.
 */
#ifndef ROAMSMTP_SMTP_REPLY_H
#define ROAMSMTP_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_limits.h"

struct smtp_reply {
	int	code;			/* 3 digits, 0 while nothing parsed */
	int	nlines;
	/* The lines' texts (after "NNN-"/"NNN "), joined with "\n", NUL
	 * terminated, truncated at SMTP_REPLY_TEXT_MAX - 1. */
	char	text[SMTP_REPLY_TEXT_MAX];
	size_t	textlen;
	int	done;			/* private: the final line was fed */
};

enum smtp_reply_status {
	REPLY_MORE,		/* a continuation line: feed the next one */
	REPLY_DONE,		/* the last line: the reply is complete */
	REPLY_ERROR,		/* malformed: no code, codes differ, too many lines */
};

void	smtp_reply_init(struct smtp_reply *);
/*
 * Feed one line, without its line ending.  After REPLY_DONE, call
 * smtp_reply_init() before feeding the next reply (feeding more is
 * REPLY_ERROR).  A line over SMTP_REPLY_LINE_MAX is REPLY_ERROR.  Control
 * characters in the text (a bare CR, NUL) are stored as '?', so that the
 * text can be mirrored to a client as it is.
 */
enum smtp_reply_status smtp_reply_feed(struct smtp_reply *, const char *line,
		    size_t len);

/* The class of a reply: 2, 3, 4 or 5. */
#define SMTP_REPLY_CLASS(r)	((r)->code / 100)

/* Capabilities a relay uses, from an EHLO reply. */
#define AUTH_MECH_PLAIN		0x01
#define AUTH_MECH_LOGIN		0x02
#define AUTH_MECH_CRAM_MD5	0x04
#define AUTH_MECH_XOAUTH2	0x08
#define AUTH_MECH_OAUTHBEARER	0x10
#define AUTH_MECH_SCRAM_SHA_256	0x20

struct smtp_caps {
	int		pipelining;
	int		starttls;
	int		eightbitmime;
	int		smtputf8;
	int		enhancedstatuscodes;
	int		chunking;
	int		has_size;
	uint64_t	size;		/* SIZE n; 0 = no limit given */
	unsigned	auth;		/* AUTH_MECH_* bits */
};

/* Fill caps from a complete 250 EHLO reply (first line is the greeting). */
void	smtp_caps_parse(const struct smtp_reply *, struct smtp_caps *);

/*
 * Render the reply for a client, CRLF terminated, all lines with the given
 * code (the upstream's own), into buf, NUL terminated.  Returns the length
 * written (without the NUL), or 0 when buf is too small or no reply was
 * parsed.
 */
size_t	smtp_reply_format(const struct smtp_reply *, char *buf, size_t buflen);

#endif
