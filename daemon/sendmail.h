/*
 * sendmail.h - roamsmtp-sendmail's handling of a message, without I/O
 * beyond the FILE streams it is given, so that it is unit-tested on its own
 * (tests/unit/test_sendmail.c).  The program (sendmail_main.c) reads the
 * message, hands it to roamsmtpd over SMTP, and keeps it in the outbox
 * when it cannot.
 *
 * The message goes through three steps:
 *   1. sm_read_input: standard input to a file, every line end (LF, CRLF or
 *      a bare CR) made a LF, and, without -i, the input ended by a line
 *      holding a single dot, as sendmail does.  That file is what the
 *      outbox keeps when the message cannot be handed over.
 *   2. sm_scan: the header block, for -t's recipients, the From: address
 *      (the default envelope sender), which headers are missing, and the
 *      body's properties (8-bit octets, NUL, overlong lines).
 *   3. sm_transfer: the file in SMTP transfer form: CRLF line ends, dot
 *      stuffing (RFC 5321 4.5.2), the missing headers added, Bcc: and
 *      Resent-Bcc: removed.
 */
#ifndef ROAMSMTP_SENDMAIL_H
#define ROAMSMTP_SENDMAIL_H

#include <stddef.h>
#include <stdio.h>

#include "smtp_limits.h"

/* RFC 5322 2.1.1: a line is at most 998 octets without its CRLF; the
 * daemon refuses longer ones (SMTP_TEXT_LINE_MAX), so they are refused here
 * already, with the line's number. */
#define SM_LINE_MAX		998
/* The unfolded value of one address header kept for -t: a thousand
 * recipients of 64 octets fit; more is not a message a person wrote. */
#define SM_HEADER_VALUE_MAX	(64 * 1024)
/* Recipients of one message, as the daemon's default max-recipients. */
#define SM_RCPT_MAX		DEFAULT_MAX_RECIPIENTS

/* A list of addresses, without duplicates. */
struct sm_addrs {
	char	**v;
	size_t	  n;
};

/*
 * Add one address (copied) unless already there.  0, or -1 when the list
 * holds SM_RCPT_MAX already.
 */
int	sm_addrs_add(struct sm_addrs *, const char *addr);
void	sm_addrs_free(struct sm_addrs *);

/*
 * Parse an RFC 5322 address-list, a header's unfolded value ("Bob
 * <bob@example.net>, carol@example.org (Carol), team: a@x, b@y;") and add
 * each address to out: display names, comments and group names are
 * dropped, quoted local parts kept, an empty group ("undisclosed-recipients:
 * ;") adds nothing.  Returns the number of addresses added (a duplicate
 * is not), or -1 with a
 * reason in err (an unclosed quote, comment or '<'; an address over
 * SMTP_PATH_MAX; too many recipients).
 */
int	sm_parse_addresses(const char *value, struct sm_addrs *out, char *err,
	    size_t errlen);

/*
 * Copy in to out as described above (step 1).  dot_ends: a line "." ends
 * the input (sendmail without -i/-oi); it is not copied.  The last line
 * gets a LF when it had none.  Returns the octets written, or -1 with errno
 * (a read or a write error).
 */
long long sm_read_input(FILE *in, FILE *out, int dot_ends);

/* What sm_scan learns from a message (LF line ends, from sm_read_input). */
struct sm_scan {
	struct sm_addrs	 to_cc_bcc;	/* To, Cc, Bcc */
	struct sm_addrs	 resent;	/* Resent-To, -Cc, -Bcc */
	char		*from_addr;	/* the first From: address, or NULL */
	int		 has_from;
	int		 has_date;
	int		 has_message_id;
	int		 eight_bit;	/* an octet over 127 anywhere */
	int		 non_ascii_headers;
	long		 lines;
};

/*
 * Scan the message (step 2).  Returns 0, or -1 with a reason in err naming
 * the line: a NUL octet, a line over SM_LINE_MAX, an address header that
 * does not parse or is too long, a read error.  Free with sm_scan_free.
 */
int	sm_scan(FILE *msg, struct sm_scan *, char *err, size_t errlen);
void	sm_scan_free(struct sm_scan *);

/*
 * The recipients -t takes from the scanned headers: Resent-To/-Cc/-Bcc when
 * the message has any (it is being resent), else To/Cc/Bcc.
 */
const struct sm_addrs *sm_scan_recipients(const struct sm_scan *);

/*
 * Write the message in SMTP transfer form to out (step 3), without the
 * final ".\r\n": add (CRLF terminated lines, or NULL) goes before the first
 * header; a body that starts without an empty line after the headers gets
 * one; a leading mbox "From " line is dropped.  Returns the octets written,
 * or -1 with errno.
 */
long long sm_transfer(FILE *msg, const char *add, FILE *out);

/*
 * The headers a message lacks, CRLF terminated, into buf: From: (the
 * sender, with fullname as its display name when not NULL), Date: (now, in
 * RFC 5322 form) and Message-ID: (random, @hostname).  Returns buf, or NULL
 * when it is too small.
 */
char	*sm_missing_headers(const struct sm_scan *, const char *sender,
	    const char *fullname, const char *hostname, char *buf, size_t len);

/* Where in the transaction a reply came. */
enum sm_stage {
	SM_STAGE_CONNECT,	/* greeting, EHLO */
	SM_STAGE_MAIL,
	SM_STAGE_RCPT,
	SM_STAGE_DATA,		/* DATA's 354 */
	SM_STAGE_DOT,		/* the reply to the message */
};

/*
 * The exit status (sysexits.h) for a refusal: a 4xx is EX_TEMPFAIL (the
 * message is kept; send it again later), a 5xx to RCPT is EX_NOUSER, 552 at
 * the end of DATA (too big) EX_DATAERR, any other 5xx EX_UNAVAILABLE; a
 * reply outside 400..599, or none, EX_PROTOCOL.
 */
int	sm_exit_for_reply(enum sm_stage, int code);

/*
 * Quote s for a POSIX shell into buf ('...', with ' written as '\'').
 * Returns buf, or NULL when it is too small.
 */
char	*sm_shell_quote(const char *s, char *buf, size_t len);

#endif
