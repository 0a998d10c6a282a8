/*
 * smtp_session.h - one client-facing ESMTP session (the listener in
 * smtp_server.c creates them once the peer is known to be our own user).
 */
#ifndef ROAMSMTP_SMTP_SESSION_H
#define ROAMSMTP_SMTP_SESSION_H

#include <event2/event.h>

#include "conf.h"
#include "queue.h"
#include "router.h"

/* What every session of one server shares. */
struct smtp_ctx {
	struct event_base		*base;
	const struct daemon_conf	*conf;
	struct router			*router;
	struct queue			*queue;
	unsigned			 nsessions;
};

/* Take over the accepted socket fd; greet the client.  peer is for logs. */
void	smtp_session_start(struct smtp_ctx *, int fd, const char *peer);

#endif
