/*
 * data_filter.h - the DATA stream scanner.  It finds the end of a message,
 * which is <CRLF>.<CRLF> and nothing else (no SMTP smuggling), and checks
 * each line: a bare CR or a bare LF, a line over SMTP_TEXT_LINE_MAX, or a
 * message over the size limit marks the message bad.  Content stays in its
 * transfer form (dot-stuffed, CRLF): a well-formed message can be passed on
 * byte for byte, and the spool keeps exactly those bytes.
 *
 * Pure: no I/O.  Feed it the bytes as they arrive, in chunks of any size.
 */
#ifndef ROAMSMTP_DATA_FILTER_H
#define ROAMSMTP_DATA_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_limits.h"

enum data_error {
	DATA_OK = 0,
	DATA_BARE_LF,		/* LF not preceded by CR */
	DATA_BARE_CR,		/* CR not followed by LF */
	DATA_LINE_TOO_LONG,	/* a line over SMTP_TEXT_LINE_MAX octets */
	DATA_TOO_BIG,		/* message over max_size */
	DATA_NUL,		/* a NUL octet */
};

struct data_filter {
	uint64_t	max_size;	/* 0 = unlimited */
	uint64_t	size;		/* content octets seen, terminator excluded */
	size_t		linelen;	/* octets in the current line so far */
	int		state;		/* private */
	enum data_error	error;		/* first error seen, sticky */
	uint64_t	error_line;	/* 1-based line number of that error */
	uint64_t	lines;
};

void	data_filter_init(struct data_filter *, uint64_t max_size);

/*
 * Scan in[0..len).  Returns the number of bytes consumed: all of them, or
 * fewer when the end of data was found, in which case *end is set to 1 and
 * the consumed bytes include the terminating ".\r\n" (its leading CRLF ends
 * the last content line).  The bytes consumed, less that terminator, are
 * content in transfer form.  Once f->error is set scanning continues (to
 * find the end) but the content must not be passed on.
 */
size_t	data_filter_scan(struct data_filter *, const char *in, size_t len,
	    int *end);

/* A human reason for an error, for the 5xx reply. */
const char *data_error_text(enum data_error);

/*
 * Dot-stuff a buffer of CRLF lines for sending (RFC 5321 4.5.2): a line that
 * begins with "." gets another one.  *bol says whether in[0] starts a line,
 * and is updated for the next call.  Writes at most 2 * len bytes to out;
 * returns the number written.
 */
size_t	dot_stuff(const char *in, size_t len, char *out, int *bol);

/* The inverse, for tests and tools; returns the number of bytes written
 * (at most len). */
size_t	dot_unstuff(const char *in, size_t len, char *out, int *bol);

#endif
