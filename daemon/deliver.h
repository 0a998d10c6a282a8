/*
 * deliver.h - one attempt to send a queued message over a ready upstream
 * session: MAIL, RCPT for each recipient still pending (pipelined when the
 * server offers PIPELINING), DATA, the body streamed from its file in
 * bounded chunks, and the final reply.  Like dma's deliver(), the outcome is
 * one of three: ok, temporary (retry later), permanent (keep as failed).
 *
 * Recipients refused along the way stay in m->rcpt; the accepted ones are
 * removed from it when the message was taken.  Which profile or retry policy
 * applies is the router's business, not this file's.
 */
#ifndef ROAMSMTP_DELIVER_H
#define ROAMSMTP_DELIVER_H

#include "queue.h"
#include "smtp_client.h"

/* Bytes read from the body file at a time. */
#define DELIVER_CHUNK	(64 * 1024)

enum delivery_result {
	DELIVERY_OK,
	DELIVERY_TEMPFAIL,
	DELIVERY_PERMFAIL,
};

struct delivery;

/*
 * Called once.  c is the upstream session, idle and reusable, or NULL when
 * it was lost or left mid-transaction (the callback's owner must not use it
 * then; it is already freed).
 */
typedef void (*delivery_cb)(struct delivery *, enum delivery_result,
    const char *reason, struct smtp_client *c, void *arg);

/* Start; NULL with a reason in err when the body can't be opened. */
/* envelope_from: NULL, or the sender the upstream is to see instead of
 * m->from (never for the null sender). */
struct delivery	*delivery_start(struct smtp_client *, struct queue *,
		    struct qmsg *, const char *envelope_from, delivery_cb,
		    void *arg, char *err, size_t errlen);
/*
 * POP-before-SMTP: a provider may refuse to relay because its window after
 * the last POP3 login ran out.  With a relogin callback set, a recipient
 * refused for good (5xx) makes the delivery, once the replies are in,
 * abandon the transaction (RSET: nothing is sent) and hand its session to
 * the callback, which logs in again and gives the session back through
 * delivery_resume(); the whole message is then tried once more, and that
 * second verdict stands.  The callback returns -1 when no login is worth
 * trying (the refusal then stands at once), 0 when it took the session.
 */
typedef int (*delivery_relogin_cb)(struct delivery *, struct smtp_client *,
    void *arg);
void		 delivery_set_relogin(struct delivery *, delivery_relogin_cb,
		    void *arg);
/* After the relogin: c is the session (whatever the login's outcome), or
 * NULL when it died meanwhile (reason says why; the attempt is then
 * deferred). */
void		 delivery_resume(struct delivery *, struct smtp_client *c,
		    const char *reason);
/* Abandon an attempt (daemon shutdown): frees the session too (none while
 * a relogin holds it: the relogin's owner cancels that). */
void		 delivery_abort(struct delivery *);
const char	*delivery_result_name(enum delivery_result);

#endif
