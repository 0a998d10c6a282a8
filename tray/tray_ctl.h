/*
 * tray_ctl.h - the tray's side of the control socket (daemon/control.h),
 * asynchronous on the GLib main loop: nothing here ever blocks it.
 *
 * A request opens its own connection, sends one line, reads one reply and
 * closes: a Unix socket costs nothing to open, and a reply can then never
 * be taken for another request's.  The watch is one long-lived connection
 * that reconnects by itself, with backoff, when the daemon goes away.
 */
#ifndef ROAMSMTP_TRAY_CTL_H
#define ROAMSMTP_TRAY_CTL_H

#include <glib.h>
#include <jansson.h>

/* A request that gets no reply within this is given up (control.h allows
 * a client 30 seconds too). */
#define TRAY_CTL_TIMEOUT_S	30
/* Reconnect delays: the first retry soon (the daemon restarting), then
 * doubling to at most this, so a stopped daemon costs a connect() now and
 * then and a started one is seen within seconds. */
#define TRAY_CTL_BACKOFF_MIN_MS	250
#define TRAY_CTL_BACKOFF_MAX_MS	8000

/*
 * Send req (the caller keeps its reference) and call cb once, from the
 * main loop, with the reply (borrowed: valid during cb) or NULL and why.
 * not_running is set when nobody listens at the socket.
 */
typedef void (*tray_ctl_reply_cb)(json_t *reply, const char *err,
    int not_running, void *arg);
void	tray_ctl_request(const char *path, json_t *req, tray_ctl_reply_cb,
	    void *arg);

struct tray_watch_cbs {
	/* The daemon acknowledged the watch: refresh everything. */
	void	(*up)(void *arg);
	/* One event (borrowed). */
	void	(*event)(json_t *ev, void *arg);
	/* The connection failed or ended; why, in words; not_running as
	 * above.  Called once per loss, not for every failed retry. */
	void	(*down)(const char *why, int not_running, void *arg);
};

struct tray_watch;

/* Start watching (connects at once, from the loop). */
struct tray_watch	*tray_watch_new(const char *path,
			    const struct tray_watch_cbs *, void *arg);
void			 tray_watch_free(struct tray_watch *);

#endif
