/*
 * dsn.h - delivery status notifications (RFC 3464): the report a sender gets
 * when a queued message failed for good, expired, or is late.  The report is
 * itself queued, from the null sender <> to the message's envelope sender,
 * and leaves through whatever profile is active, like any other message.
 * A message from <> never gets a report (no bounce of a bounce, RFC 5321
 * 4.5.5).
 */
#ifndef ROAMSMTP_DSN_H
#define ROAMSMTP_DSN_H

#include <stddef.h>

#include "queue.h"

/* The original's header section quoted in a report, at most. */
#define DSN_HEADERS_MAX	(64 * 1024)

enum dsn_kind {
	DSN_FAILED,		/* a permanent refusal: Action: failed */
	DSN_EXPIRED,		/* could not leave in time: Action: failed */
	DSN_DELAYED,		/* still trying: Action: delayed */
};

/*
 * Build the report about m (for its remaining recipients, with reason) and
 * commit it to the queue.  Returns the new message (the caller queues it
 * with the router), or NULL: errno 0 when no report is due (sender <>),
 * else why it could not be written.
 */
struct qmsg	*dsn_queue(struct queue *, const struct qmsg *m,
		    enum dsn_kind, const char *reason, const char *hostname);

/* Pure pieces, for tests: the enhanced status code in a reply text
 * ("5.1.1"), or dflt; the report's text (CRLF lines, not dot-stuffed),
 * malloc'ed, *len set; boundary is used as given. */
const char	*dsn_status_code(const char *reason, const char *dflt,
		    char *buf, size_t len);
char		*dsn_render(const struct qmsg *m, enum dsn_kind,
		    const char *reason, const char *hostname,
		    const char *headers, size_t headers_len,
		    const char *boundary, time_t now, size_t *len);

#endif
