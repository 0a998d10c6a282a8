/* tray_ctl.c - see tray_ctl.h. */
#include <string.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib.h>
#include <jansson.h>

#include "tray_ctl.h"

/* control.h's CONTROL_REPLY_MAX: a longer line is not the daemon's. */
#define TRAY_CTL_LINE_MAX	(16 * 1024 * 1024)

static int
is_not_running(const GError *e)
{
	return g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
	    g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

/* req as one line, newline included; NULL when it cannot be encoded. */
static char *
encode(json_t *req)
{
	char	*s, *line;

	if ((s = json_dumps(req, JSON_COMPACT)) == NULL)
		return NULL;
	line = g_strconcat(s, "\n", NULL);
	free(s);
	return line;
}

/* A line read from the daemon, parsed; NULL with a reason in *why. */
static json_t *
decode(const char *line, gsize len, char **why)
{
	json_error_t	 je;
	json_t		*o;

	if (len > TRAY_CTL_LINE_MAX) {
		*why = g_strdup_printf("a line of %zu bytes from roamsmtpd, "
		    "more than the protocol allows", (size_t)len);
		return NULL;
	}
	if ((o = json_loadb(line, len, 0, &je)) == NULL ||
	    !json_is_object(o)) {
		*why = g_strdup_printf("roamsmtpd sent something that is not "
		    "a JSON object: %s", o ? "another JSON value" : je.text);
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- one request ------------------------------------------------------ */

struct request {
	tray_ctl_reply_cb	 cb;
	void			*arg;
	char			*line;
	GSocketConnection	*conn;
	GDataInputStream	*in;
	GCancellable		*cancel;
	guint			 timer;
	int			 timed_out;
};

static void
request_end(struct request *rq, json_t *reply, const char *err,
    int not_running)
{
	if (rq->timer != 0)
		g_source_remove(rq->timer);
	rq->cb(reply, err, not_running, rq->arg);
	if (rq->in != NULL)
		g_object_unref(rq->in);
	if (rq->conn != NULL) {
		g_io_stream_close(G_IO_STREAM(rq->conn), NULL, NULL);
		g_object_unref(rq->conn);
	}
	g_object_unref(rq->cancel);
	g_free(rq->line);
	g_free(rq);
}

static void
request_failed(struct request *rq, const char *what, GError *e)
{
	char	*msg;

	msg = g_strdup_printf("%s: %s", what, rq->timed_out ?
	    "roamsmtpd did not answer in time" : e->message);
	request_end(rq, NULL, msg, !rq->timed_out && is_not_running(e));
	g_free(msg);
	g_error_free(e);
}

static gboolean
request_timeout(gpointer data)
{
	struct request	*rq = data;

	rq->timer = 0;
	rq->timed_out = 1;
	g_cancellable_cancel(rq->cancel);
	return G_SOURCE_REMOVE;
}

static void
request_read(GObject *src, GAsyncResult *res, gpointer data)
{
	struct request	*rq = data;
	GError		*e = NULL;
	json_t		*reply;
	char		*line, *why = NULL;
	gsize		 len;

	line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(src),
	    res, &len, &e);
	if (line == NULL && e != NULL) {
		request_failed(rq, "reading roamsmtpd's reply", e);
		return;
	}
	if (line == NULL) {
		request_end(rq, NULL, "roamsmtpd closed the connection "
		    "without a reply", 0);
		return;
	}
	reply = decode(line, len, &why);
	g_free(line);
	request_end(rq, reply, why, 0);
	json_decref(reply);
	g_free(why);
}

static void
request_written(GObject *src, GAsyncResult *res, gpointer data)
{
	struct request	*rq = data;
	GError		*e = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL,
	    &e)) {
		request_failed(rq, "sending to roamsmtpd", e);
		return;
	}
	rq->in = g_data_input_stream_new(g_io_stream_get_input_stream(
	    G_IO_STREAM(rq->conn)));
	g_data_input_stream_set_newline_type(rq->in,
	    G_DATA_STREAM_NEWLINE_TYPE_LF);
	g_data_input_stream_read_line_async(rq->in, G_PRIORITY_DEFAULT,
	    rq->cancel, request_read, rq);
}

static void
request_connected(GObject *src, GAsyncResult *res, gpointer data)
{
	struct request	*rq = data;
	GError		*e = NULL;

	rq->conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res,
	    &e);
	g_object_unref(src);
	if (rq->conn == NULL) {
		request_failed(rq, "connecting to roamsmtpd", e);
		return;
	}
	g_output_stream_write_all_async(g_io_stream_get_output_stream(
	    G_IO_STREAM(rq->conn)), rq->line, strlen(rq->line),
	    G_PRIORITY_DEFAULT, rq->cancel, request_written, rq);
}

/* Connect to path; cb gets the GSocketClient as its source object. */
static void
connect_async(const char *path, GCancellable *cancel, GAsyncReadyCallback cb,
    gpointer data)
{
	GSocketClient	*client = g_socket_client_new();
	GSocketAddress	*addr = g_unix_socket_address_new(path);

	g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(addr),
	    cancel, cb, data);
	g_object_unref(addr);
}

void
tray_ctl_request(const char *path, json_t *req, tray_ctl_reply_cb cb,
    void *arg)
{
	struct request	*rq = g_new0(struct request, 1);

	rq->cb = cb;
	rq->arg = arg;
	rq->cancel = g_cancellable_new();
	if ((rq->line = encode(req)) == NULL) {
		request_end(rq, NULL, "cannot encode the request", 0);
		return;
	}
	rq->timer = g_timeout_add_seconds(TRAY_CTL_TIMEOUT_S, request_timeout,
	    rq);
	connect_async(path, rq->cancel, request_connected, rq);
}

/* ---- the watch -------------------------------------------------------- */

enum watch_state {
	WATCH_WAITING,		/* for the reconnect timer */
	WATCH_CONNECTING,
	WATCH_ACK,		/* {"cmd": "watch"} sent, its reply due */
	WATCH_EVENTS,		/* reading events */
};

static const char *const watch_state_names[] = {
	[WATCH_WAITING] =	"waiting",
	[WATCH_CONNECTING] =	"connecting",
	[WATCH_ACK] =		"ack",
	[WATCH_EVENTS] =	"events",
};

struct tray_watch {
	char			*path;
	struct tray_watch_cbs	 cbs;
	void			*arg;
	enum watch_state	 state;
	GSocketConnection	*conn;
	GDataInputStream	*in;
	GCancellable		*cancel;
	guint			 timer;
	guint			 backoff_ms;
	int			 reported_down;	/* down() since the last up() */
	char			 request[32];
};

static void	watch_connect(struct tray_watch *);

static void
watch_enter(struct tray_watch *w, enum watch_state s)
{
	g_debug("watch %s -> %s", watch_state_names[w->state],
	    watch_state_names[s]);
	w->state = s;
}

static gboolean
watch_retry(gpointer data)
{
	struct tray_watch	*w = data;

	w->timer = 0;
	watch_connect(w);
	return G_SOURCE_REMOVE;
}

/* The connection is gone or never came: tell once, and try again later. */
static void
watch_lost(struct tray_watch *w, const char *why, int not_running)
{
	if (w->in != NULL) {
		g_object_unref(w->in);
		w->in = NULL;
	}
	if (w->conn != NULL) {
		g_io_stream_close(G_IO_STREAM(w->conn), NULL, NULL);
		g_object_unref(w->conn);
		w->conn = NULL;
	}
	watch_enter(w, WATCH_WAITING);
	if (!w->reported_down) {
		w->reported_down = 1;
		w->cbs.down(why, not_running, w->arg);
	}
	w->timer = g_timeout_add(w->backoff_ms, watch_retry, w);
	w->backoff_ms = MIN(w->backoff_ms * 2, TRAY_CTL_BACKOFF_MAX_MS);
}

/* As watch_lost(), from an error (freed here). */
static void
watch_lost_error(struct tray_watch *w, const char *what, GError *e)
{
	char	*msg = g_strdup_printf("%s: %s", what, e->message);

	watch_lost(w, msg, is_not_running(e));
	g_free(msg);
	g_error_free(e);
}

static void
watch_read(GObject *src, GAsyncResult *res, gpointer data)
{
	struct tray_watch	*w = data;
	GError			*e = NULL;
	json_t			*o;
	char			*line, *why = NULL;
	gsize			 len;

	line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(src),
	    res, &len, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		/* tray_watch_free(): w is gone. */
		g_error_free(e);
		return;
	}
	if (line == NULL) {
		if (e != NULL)
			watch_lost_error(w, "reading from roamsmtpd", e);
		else
			watch_lost(w, "roamsmtpd closed the connection", 1);
		return;
	}
	o = decode(line, len, &why);
	g_free(line);
	if (o == NULL) {
		/* A broken line is the daemon's bug, not the end of news. */
		g_warning("%s", why);
		g_free(why);
	} else if (w->state == WATCH_ACK) {
		if (!json_is_true(json_object_get(o, "ok"))) {
			why = g_strdup_printf("roamsmtpd refused to be "
			    "watched: %s", json_string_value(json_object_get(o,
			    "error")) ?: "no reason given");
			json_decref(o);
			watch_lost(w, why, 0);
			g_free(why);
			return;
		}
		watch_enter(w, WATCH_EVENTS);
		w->backoff_ms = TRAY_CTL_BACKOFF_MIN_MS;
		w->reported_down = 0;
		w->cbs.up(w->arg);
	} else
		w->cbs.event(o, w->arg);
	json_decref(o);
	g_data_input_stream_read_line_async(w->in, G_PRIORITY_DEFAULT,
	    w->cancel, watch_read, w);
}

static void
watch_written(GObject *src, GAsyncResult *res, gpointer data)
{
	struct tray_watch	*w = data;
	GError			*e = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL,
	    &e)) {
		if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_error_free(e);
		else
			watch_lost_error(w, "sending to roamsmtpd", e);
		return;
	}
	watch_enter(w, WATCH_ACK);
	w->in = g_data_input_stream_new(g_io_stream_get_input_stream(
	    G_IO_STREAM(w->conn)));
	g_data_input_stream_set_newline_type(w->in,
	    G_DATA_STREAM_NEWLINE_TYPE_LF);
	g_data_input_stream_read_line_async(w->in, G_PRIORITY_DEFAULT,
	    w->cancel, watch_read, w);
}

static void
watch_connected(GObject *src, GAsyncResult *res, gpointer data)
{
	struct tray_watch	*w = data;
	GSocketConnection	*conn;
	GError			*e = NULL;

	conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res, &e);
	g_object_unref(src);
	if (conn == NULL) {
		if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_error_free(e);
		else
			watch_lost_error(w, "connecting to roamsmtpd", e);
		return;
	}
	w->conn = conn;
	g_output_stream_write_all_async(g_io_stream_get_output_stream(
	    G_IO_STREAM(conn)), w->request, strlen(w->request),
	    G_PRIORITY_DEFAULT, w->cancel, watch_written, w);
}

static void
watch_connect(struct tray_watch *w)
{
	watch_enter(w, WATCH_CONNECTING);
	connect_async(w->path, w->cancel, watch_connected, w);
}

struct tray_watch *
tray_watch_new(const char *path, const struct tray_watch_cbs *cbs, void *arg)
{
	struct tray_watch	*w = g_new0(struct tray_watch, 1);

	w->path = g_strdup(path);
	w->cbs = *cbs;
	w->arg = arg;
	w->cancel = g_cancellable_new();
	w->backoff_ms = TRAY_CTL_BACKOFF_MIN_MS;
	g_strlcpy(w->request, "{\"cmd\":\"watch\"}\n", sizeof(w->request));
	w->state = WATCH_WAITING;
	w->timer = g_idle_add(watch_retry, w);
	return w;
}

void
tray_watch_free(struct tray_watch *w)
{
	if (w == NULL)
		return;
	/* Pending callbacks see CANCELLED and leave w alone; they still
	 * hold the streams' own references. */
	g_cancellable_cancel(w->cancel);
	if (w->timer != 0)
		g_source_remove(w->timer);
	if (w->in != NULL)
		g_object_unref(w->in);
	if (w->conn != NULL)
		g_object_unref(w->conn);
	g_object_unref(w->cancel);
	g_free(w->path);
	g_free(w);
}
