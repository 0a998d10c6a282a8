/*
 * smtp_server.h - the listeners and the client-facing ESMTP sessions.
 *
 * Each session is an explicit state machine (smtp_server.c); commands go
 * through one table of check/proceed functions.  Online, a transaction is
 * mirrored to an upstream session from the router; offline it is spooled
 * and committed to the queue before the 250.
 */
#ifndef ROAMSMTP_SMTP_SERVER_H
#define ROAMSMTP_SMTP_SERVER_H

#include <event2/event.h>

#include "conf.h"
#include "queue.h"
#include "router.h"

struct smtp_server;

/*
 * Bind every configured listener.  NULL with a reason in err (which says how
 * to fix a port below 1024 or an address in use).
 */
struct smtp_server *smtp_server_new(struct event_base *,
		    const struct daemon_conf *, struct router *,
		    struct queue *, char *err, size_t errlen);
void		 smtp_server_free(struct smtp_server *);
unsigned	 smtp_server_sessions(const struct smtp_server *);

#endif
