/* tray_app.c - the tray's state: the daemon's replies, kept fresh by its
 * events, and the actions of the menu and the queue window. */
#include <string.h>

#include <gtk/gtk.h>
#include <jansson.h>

#include "tray.h"
#include "tray_ctl.h"
#include "tray_model.h"

static const char *const fetch_cmds[FETCH_N] = {
	[FETCH_STATUS] =	"status",
	[FETCH_PROFILES] =	"profiles",
	[FETCH_QUEUE] =		"queue",
};

/* ---- fetching the daemon's view --------------------------------------- */

struct fetch_req {
	struct tray		*t;
	enum tray_fetch		 kind;
	unsigned		 epoch;
};

/* The profile mail goes by now, from a status reply: notify only when it
 * differs from the last one seen, never for the first. */
static void
note_profile(struct tray *t, const char *name, json_t *event)
{
	int	changed;

	changed = t->have_profile && ((name == NULL) !=
	    (t->last_profile == NULL) || (name != NULL &&
	    strcmp(name, t->last_profile) != 0));
	if (changed && event != NULL)
		tray_notify_profile(t, event);
	if (!t->have_profile || changed) {
		g_free(t->last_profile);
		t->last_profile = g_strdup(name);
		t->have_profile = 1;
	}
}

/*
 * Messages seen waiting in a listing: their "sent" later means mail that
 * waited (written offline, or while the upstream was away) has left.  Not
 * the daemon's own delivery reports (from <>): the user wrote none of them.
 * A message queued and sent between two listings never really waited.
 */
static void
note_waiting(struct tray *t, json_t *queue)
{
	json_t		*m;
	const char	*id, *from;
	size_t		 i;

	json_array_foreach(json_object_get(queue, "messages"), i, m) {
		id = json_string_value(json_object_get(m, "id"));
		from = json_string_value(json_object_get(m, "from"));
		if (id != NULL && from != NULL && from[0] != '\0')
			g_hash_table_add(t->waiting, g_strdup(id));
	}
}

static void
fetched(json_t *reply, const char *err, int not_running, void *arg)
{
	struct fetch_req	*fr = arg;
	struct tray		*t = fr->t;
	enum tray_fetch		 kind = fr->kind;
	int			 current = fr->epoch == t->epoch;

	g_free(fr);
	t->fetch[kind].busy = 0;
	if (!current || !t->running) {
		/* An answer from before a reconnect: stale. */
		t->fetch[kind].again = 0;
		return;
	}
	if (reply == NULL)
		g_warning("%s: %s", fetch_cmds[kind], err);
	else if (!json_is_true(json_object_get(reply, "ok")))
		g_warning("%s refused: %s", fetch_cmds[kind],
		    json_string_value(json_object_get(reply, "error")) ?: "?");
	else {
		json_decref(t->reply[kind]);
		t->reply[kind] = json_incref(reply);
		if (kind == FETCH_STATUS)
			note_profile(t, tray_active_profile(reply), NULL);
		if (kind == FETCH_QUEUE)
			note_waiting(t, reply);
		tray_update(t);
	}
	if (t->fetch[kind].again) {
		t->fetch[kind].again = 0;
		tray_refresh(t, kind);
	}
}

/*
 * Ask again for one view.  One request of a kind is out at a time; asked
 * meanwhile, it is asked once more when the answer comes, so the last
 * answer is never older than the last event.
 */
void
tray_refresh(struct tray *t, enum tray_fetch kind)
{
	struct fetch_req	*fr;
	json_t			*req;

	if (!t->running)
		return;
	if (t->fetch[kind].busy) {
		t->fetch[kind].again = 1;
		return;
	}
	t->fetch[kind].busy = 1;
	fr = g_new0(struct fetch_req, 1);
	fr->t = t;
	fr->kind = kind;
	fr->epoch = t->epoch;
	req = json_pack("{s:s}", "cmd", fetch_cmds[kind]);
	tray_ctl_request(t->socket_path, req, fetched, fr);
	json_decref(req);
}

static void
refresh_all(struct tray *t)
{
	int	k;

	for (k = 0; k < FETCH_N; k++)
		tray_refresh(t, k);
}

/* ---- the watch -------------------------------------------------------- */

static void
watch_up(void *arg)
{
	struct tray	*t = arg;

	g_message("connected to roamsmtpd at %s", t->socket_path);
	t->running = 1;
	t->epoch++;
	t->have_profile = 0;
	g_clear_pointer(&t->down_reason, g_free);
	refresh_all(t);
}

static void
watch_down(const char *why, int not_running, void *arg)
{
	struct tray	*t = arg;
	int		 k;

	g_message("roamsmtpd: %s", why);
	t->running = 0;
	t->epoch++;
	for (k = 0; k < FETCH_N; k++) {
		g_clear_pointer(&t->reply[k], json_decref);
		t->fetch[k].again = 0;
	}
	g_free(t->down_reason);
	t->down_reason = g_strdup(not_running ? "roamsmtpd is not running" :
	    why);
	tray_update(t);
}

static void
on_profile(struct tray *t, json_t *ev)
{
	note_profile(t, json_string_value(json_object_get(ev, "profile")),
	    t->settings.notify_profile ? ev : NULL);
	tray_refresh(t, FETCH_STATUS);
	tray_refresh(t, FETCH_PROFILES);
}

static void
on_network(struct tray *t, json_t *ev)
{
	tray_refresh(t, FETCH_STATUS);
	tray_refresh(t, FETCH_PROFILES);
}

/* The listing that follows tells whether it is the user's mail. */
static void
on_queued(struct tray *t, json_t *ev)
{
	tray_refresh(t, FETCH_STATUS);
	tray_refresh(t, FETCH_QUEUE);
}

static void
on_sent(struct tray *t, json_t *ev)
{
	const char	*id = json_string_value(json_object_get(ev, "id"));

	if (id != NULL && g_hash_table_remove(t->waiting, id))
		tray_notify_sent(t, ev);
	tray_refresh(t, FETCH_STATUS);
	tray_refresh(t, FETCH_QUEUE);
}

static void
on_failed(struct tray *t, json_t *ev)
{
	tray_notify_failed(t, ev);
	tray_refresh(t, FETCH_STATUS);
	tray_refresh(t, FETCH_QUEUE);
}

static void
watch_event(json_t *ev, void *arg)
{
	static const struct {
		const char	*name;
		void		(*handle)(struct tray *, json_t *);
	} events[] = {
		{ "profile",	on_profile },
		{ "network",	on_network },
		{ "queued",	on_queued },
		{ "sent",	on_sent },
		{ "failed",	on_failed },
	};
	struct tray	*t = arg;
	const char	*name = json_string_value(json_object_get(ev, "event"));
	size_t		 i;

	for (i = 0; name != NULL && i < G_N_ELEMENTS(events); i++)
		if (strcmp(name, events[i].name) == 0) {
			events[i].handle(t, ev);
			return;
		}
	/* A newer daemon's event: whatever it says, look again. */
	refresh_all(t);
}

/* ---- actions ---------------------------------------------------------- */

struct action {
	struct tray	*t;
	char		*what;		/* for the log: "use home" */
	tray_done_cb	 done;
	void		*arg;
};

static void
acted(json_t *reply, const char *err, int not_running, void *arg)
{
	struct action	*a = arg;
	const char	*why = err;

	if (reply != NULL && !json_is_true(json_object_get(reply, "ok")))
		why = json_string_value(json_object_get(reply, "error")) ?:
		    "refused without a reason";
	if (why != NULL)
		g_warning("%s: %s", a->what, why);
	else
		g_message("%s: done", a->what);
	if (a->done != NULL)
		a->done(why, a->arg);
	/* The events tell most of it; the menu must show the truth even
	 * when the daemon refused (radio items put back). */
	tray_refresh(a->t, FETCH_STATUS);
	tray_refresh(a->t, FETCH_PROFILES);
	tray_refresh(a->t, FETCH_QUEUE);
	tray_update(a->t);
	g_free(a->what);
	g_free(a);
}

static void
act(struct tray *t, json_t *req, const char *what, tray_done_cb done,
    void *arg)
{
	struct action	*a = g_new0(struct action, 1);

	a->t = t;
	a->what = g_strdup(what);
	a->done = done;
	a->arg = arg;
	g_message("%s", what);
	tray_ctl_request(t->socket_path, req, acted, a);
	json_decref(req);
}

void
tray_use(struct tray *t, const char *profile)
{
	char	*what = g_strdup_printf("use %s", profile ? profile : "auto");

	act(t, json_pack("{s:s, s:s}", "cmd", "use", "profile", profile ?
	    profile : "auto"), what, NULL, NULL);
	g_free(what);
}

void
tray_flush(struct tray *t)
{
	act(t, json_pack("{s:s}", "cmd", "flush"), "flush", NULL, NULL);
}

void
tray_retry(struct tray *t, const char *id, tray_done_cb done, void *arg)
{
	char	*what = g_strdup_printf("retry %s", id);

	act(t, json_pack("{s:s, s:s}", "cmd", "retry", "id", id), what, done,
	    arg);
	g_free(what);
}

void
tray_delete(struct tray *t, const char *id, tray_done_cb done, void *arg)
{
	char	*what = g_strdup_printf("delete %s", id);

	g_hash_table_remove(t->waiting, id);
	act(t, json_pack("{s:s, s:s}", "cmd", "delete", "id", id), what, done,
	    arg);
	g_free(what);
}

void
tray_show_queue(struct tray *t)
{
	if (t->qwin == NULL)
		t->qwin = tray_queue_win_new(t);
	tray_refresh(t, FETCH_QUEUE);
	tray_queue_win_present(t->qwin);
}

void
tray_quit(struct tray *t)
{
	gtk_main_quit();
}

/* ---- drawing ---------------------------------------------------------- */

char *
tray_head_text(struct tray *t)
{
	if (!t->running)
		return g_strdup(t->down_reason ? t->down_reason :
		    "connecting to roamsmtpd");
	if (t->reply[FETCH_STATUS] == NULL)
		return g_strdup("asking roamsmtpd");
	return tray_headline(t->reply[FETCH_STATUS]);
}

void
tray_update(struct tray *t)
{
	json_t	*status = t->running ? t->reply[FETCH_STATUS] : NULL;
	char	*head, *queue, *tip;

	head = tray_head_text(t);
	queue = tray_queue_line(status, NULL, NULL);
	tip = g_strdup_printf("%s\n%s", head, queue);
	/* Not running, and before the first status: offline. */
	tray_icon_set(t->icon, tray_state_of(status), tip);
	tray_menu_update(t->menu);
	if (t->qwin != NULL)
		tray_queue_win_update(t->qwin);
	g_free(tip);
	g_free(queue);
	g_free(head);
}

void
tray_app_start(struct tray *t)
{
	static const struct tray_watch_cbs	cbs = {
		watch_up, watch_event, watch_down
	};

	tray_settings_load(&t->settings);
	tray_notify_init();
	t->waiting = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	t->down_reason = g_strdup("connecting to roamsmtpd");
	t->menu = tray_menu_new(t);
	t->icon = tray_icon_new(t->backend, tray_menu_widget(t->menu));
	tray_update(t);
	t->watch = tray_watch_new(t->socket_path, &cbs, t);
}
