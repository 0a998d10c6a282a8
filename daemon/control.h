/*
 * control.h - the control socket: a Unix stream socket (mode 0600) in the
 * runtime dir.  Protocol version 1: one JSON object per line each way.
 *
 *   request:  {"cmd": "status"}               {"cmd": "retry", "id": "..."}
 *   reply:    {"ok": true, ...}               {"ok": false, "error": "..."}
 *
 * The socket layer knows no commands: each request object is handed to the
 * handler, which returns the reply object (owned by the caller afterwards).
 * Requests are bounded (CONTROL_LINE_MAX); a bad line gets an error reply.
 */
#ifndef ROAMSMTP_CONTROL_H
#define ROAMSMTP_CONTROL_H

#include <event2/event.h>
#include <jansson.h>

#define CONTROL_PROTOCOL	1
#define CONTROL_LINE_MAX	65536
/* A reply may list the whole queue (a few hundred bytes a message). */
#define CONTROL_REPLY_MAX	(16 * 1024 * 1024)

typedef json_t *(*control_handler)(json_t *request, void *arg);

struct control;

/* Listen on path (replacing a stale socket; refusing a live one). NULL
 * with a reason in err. */
struct control	*control_open(struct event_base *, const char *path,
		    control_handler, void *arg, char *err, size_t errlen);
void		 control_close(struct control *);

/* Client side, for roamsmtpctl: connect, send one request, read one reply
 * (30 seconds at most).  NULL with a reason in err; errno then tells a
 * daemon that is not there (ENOENT, ECONNREFUSED from connect) from one
 * that failed to answer (ETIMEDOUT, EPROTO, ...). */
json_t		*control_request(const char *path, json_t *request, char *err,
		    size_t errlen);

#endif
