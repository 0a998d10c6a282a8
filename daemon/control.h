/*
 * control.h - the control socket: a Unix stream socket (mode 0600) in the
 * runtime dir.  Protocol version 1: one JSON object per line each way.
 *
 *   request:  {"cmd": "status"}               {"cmd": "retry", "id": "..."}
 *   reply:    {"ok": true, ...}               {"ok": false, "error": "..."}
 *
 * The socket layer knows no commands but one: each request object is handed
 * to the handler, which returns the reply object (owned by the caller
 * afterwards).  Requests are bounded (CONTROL_LINE_MAX); a bad line gets an
 * error reply.
 *
 * The one command it knows is watch, because it changes the connection:
 *
 *   request:  {"cmd": "watch"}
 *   reply:    {"ok": true, "watching": true}
 *   then:     one event object a line, as control_broadcast() sends them,
 *             e.g. {"event": "sent", "time": T, "id": ID, ...}
 *
 * Anything a watcher sends after its watch request is read and ignored; its
 * EOF ends the connection.  A watcher that stops reading is dropped (closed,
 * with a log line) once CONTROL_WATCH_OUTPUT_MAX bytes wait for it.
 */
#ifndef ROAMSMTP_CONTROL_H
#define ROAMSMTP_CONTROL_H

#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>

#define CONTROL_PROTOCOL	1
#define CONTROL_LINE_MAX	65536
/* A reply may list the whole queue (a few hundred bytes a message). */
#define CONTROL_REPLY_MAX	(16 * 1024 * 1024)
/* Events waiting for one watcher: thousands of events, far more than a
 * live tray ever lags; past it the watcher is stuck, not slow. */
#define CONTROL_WATCH_OUTPUT_MAX	(1024 * 1024)

typedef json_t *(*control_handler)(json_t *request, void *arg);

struct control;

/* Listen on path (replacing a stale socket; refusing a live one). NULL
 * with a reason in err. */
struct control	*control_open(struct event_base *, const char *path,
		    control_handler, void *arg, char *err, size_t errlen);
void		 control_close(struct control *);

/* Send event, one JSON line, to every watcher (the caller keeps its
 * reference).  Watchers past CONTROL_WATCH_OUTPUT_MAX are dropped. */
void		 control_broadcast(struct control *, json_t *event);
/* How many watchers are connected now. */
size_t		 control_nwatchers(const struct control *);

/* Client side, for roamsmtpctl: connect, send one request, read one reply
 * (30 seconds at most).  NULL with a reason in err; errno then tells a
 * daemon that is not there (ENOENT, ECONNREFUSED from connect) from one
 * that failed to answer (ETIMEDOUT, EPROTO, ...). */
json_t		*control_request(const char *path, json_t *request, char *err,
		    size_t errlen);

/*
 * Client side, for a connection that lives on (roamsmtpctl watch):
 *
 *   control_connect()   connect; NULL with a reason in err and errno as
 *                       for control_request().
 *   control_call()      send one request, read its reply (30 seconds at
 *                       most); NULL with a reason in err.
 *   control_next()      wait (without limit) for the next line the daemon
 *                       sends and return it parsed; with line non-NULL
 *                       also the line itself (malloc'ed, no newline).
 *                       NULL at the end: errno 0 when the daemon closed
 *                       the connection, else the error; err says which.
 *   control_disconnect() close and free; NULL is fine.
 */
struct control_client;

struct control_client	*control_connect(const char *path, char *err,
			    size_t errlen);
json_t			*control_call(struct control_client *,
			    json_t *request, char *err, size_t errlen);
json_t			*control_next(struct control_client *, char **line,
			    char *err, size_t errlen);
void			 control_disconnect(struct control_client *);

#endif
