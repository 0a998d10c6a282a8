/*
 * smtp_limits.h - every bound the daemon keeps, with the reason for it.
 */
#ifndef ROAMSMTP_SMTP_LIMITS_H
#define ROAMSMTP_SMTP_LIMITS_H

/* RFC 5321 4.5.3.1.4 says 512 for a command line; SMTP extensions (SIZE,
 * BODY, SMTPUTF8, AUTH=) lengthen MAIL FROM, so allow what Postfix allows. */
#define SMTP_CMD_LINE_MAX	2048
/* RFC 5321 4.5.3.1.6: a text line is at most 1000 octets with its CRLF; one
 * more for the dot a client adds when it dot-stuffs such a line. */
#define SMTP_TEXT_LINE_MAX	1001
/* RFC 5321 4.5.3.1.3: a path is at most 256 octets. */
#define SMTP_PATH_MAX		256
/* An upstream reply line; RFC 5321 4.5.3.1.5 says 512, be lenient. */
#define SMTP_REPLY_LINE_MAX	2048
/* Lines of one multi-line reply: EHLO answers have ~15, a hostile server
 * must not be able to keep us reading forever. */
#define SMTP_REPLY_LINES_MAX	64
/* The text of a reply we keep (and mirror to the client). */
#define SMTP_REPLY_TEXT_MAX	4096

/* Defaults for the [daemon] limits a user may change. */
#define DEFAULT_MAX_MESSAGE_SIZE	(64u * 1024 * 1024)
#define DEFAULT_MAX_RECIPIENTS		1000	/* RFC 5321 4.5.3.1.8 asks >= 100 */
#define DEFAULT_MAX_SESSIONS		500
/* On a metered network (a phone hotspot) bigger messages wait for another
 * network, or for the user to send them anyway. */
#define DEFAULT_METERED_MAX_SIZE	(1024u * 1024)
/* RFC 5321 4.5.4.1: give up after 4-5 days; warn the sender after a few
 * hours (Postfix's delay_warning_time is off by default, sendmail's 4h). */
#define DEFAULT_QUEUE_LIFETIME		(4u * 24 * 3600)
#define DEFAULT_DELAY_WARNING		(4u * 3600)

/* RFC 5321 4.5.3.2 timeouts, in seconds. */
#define TIMEOUT_SERVER_COMMAND	300	/* 4.5.3.2.7 server waiting for a command */
#define TIMEOUT_CLIENT_CONNECT	30	/* not in the RFC: a laptop must not wait */
#define TIMEOUT_CLIENT_SETUP	30	/* connect to ready (TLS, EHLO, AUTH) */
#define TIMEOUT_CLIENT_GREETING	300	/* 4.5.3.2.1 */
#define TIMEOUT_CLIENT_MAIL	300	/* 4.5.3.2.2 */
#define TIMEOUT_CLIENT_RCPT	300	/* 4.5.3.2.3 */
#define TIMEOUT_CLIENT_DATA	120	/* 4.5.3.2.4 */
#define TIMEOUT_CLIENT_BLOCK	180	/* 4.5.3.2.5 */
#define TIMEOUT_CLIENT_DOT	600	/* 4.5.3.2.6 */

/* Backpressure: stop reading one side while the other side's output holds
 * more than this; resume below the low mark. */
#define RELAY_HIGH_WATER	(256 * 1024)
#define RELAY_LOW_WATER		(64 * 1024)

/* An idle authenticated upstream session is kept this long for reuse. */
#define UPSTREAM_IDLE_KEEP	10

#endif
