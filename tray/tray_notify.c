/*
 * tray_notify.c - desktop notifications (libnotify) and the one setting
 * they have, kept in $XDG_CONFIG_HOME/roamsmtp/tray.conf:
 *
 *   [tray]
 *   notify-profile-change = true
 *
 * Three things are worth interrupting someone for: a message failed for
 * good (it will not leave by itself), mail that waited has now left, and,
 * unless turned off, the profile changed.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <libnotify/notify.h>

#include "tray.h"
#include "tray_model.h"

#define SETTINGS_GROUP	"tray"
#define KEY_NOTIFY	"notify-profile-change"

void
tray_settings_load(struct tray_settings *s)
{
	GKeyFile	*kf = g_key_file_new();
	GError		*e = NULL;
	gboolean	 v;

	s->path = g_build_filename(g_get_user_config_dir(), "roamsmtp",
	    "tray.conf", NULL);
	s->notify_profile = TRUE;
	if (!g_key_file_load_from_file(kf, s->path, G_KEY_FILE_NONE, &e)) {
		if (!g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_warning("%s: %s; using the defaults", s->path,
			    e->message);
		g_error_free(e);
		g_key_file_free(kf);
		return;
	}
	v = g_key_file_get_boolean(kf, SETTINGS_GROUP, KEY_NOTIFY, &e);
	if (e == NULL)
		s->notify_profile = v;
	else {
		if (!g_error_matches(e, G_KEY_FILE_ERROR,
		    G_KEY_FILE_ERROR_KEY_NOT_FOUND) &&
		    !g_error_matches(e, G_KEY_FILE_ERROR,
		    G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
			g_warning("%s: [%s] %s: %s; write true or false",
			    s->path, SETTINGS_GROUP, KEY_NOTIFY, e->message);
		g_error_free(e);
	}
	g_key_file_free(kf);
}

/* Keeps whatever else the file holds (comments too). */
int
tray_settings_save(const struct tray_settings *s)
{
	GKeyFile	*kf = g_key_file_new();
	GError		*e = NULL;
	char		*dir;
	int		 rc = 0;

	g_key_file_load_from_file(kf, s->path, G_KEY_FILE_KEEP_COMMENTS,
	    NULL);
	g_key_file_set_boolean(kf, SETTINGS_GROUP, KEY_NOTIFY,
	    s->notify_profile);
	dir = g_path_get_dirname(s->path);
	if (g_mkdir_with_parents(dir, 0700) == -1) {
		g_warning("cannot create %s: %s", dir, g_strerror(errno));
		rc = -1;
	} else if (!g_key_file_save_to_file(kf, s->path, &e)) {
		g_warning("cannot save %s: %s", s->path, e->message);
		g_error_free(e);
		rc = -1;
	}
	g_free(dir);
	g_key_file_free(kf);
	return rc;
}

void
tray_notify_init(void)
{
	if (!notify_init("roamsmtp-tray"))
		g_warning("libnotify would not start: no notifications");
}

/* Show one; body is plain text (escaped here: servers may read markup). */
static void
show(const char *summary, const char *body, const char *icon,
    NotifyUrgency urgency)
{
	NotifyNotification	*n;
	GError			*e = NULL;
	char			*escaped = g_markup_escape_text(body, -1);

	if (!notify_is_initted())
		return;
	n = notify_notification_new(summary, escaped, icon);
	notify_notification_set_urgency(n, urgency);
	notify_notification_set_category(n, urgency == NOTIFY_URGENCY_CRITICAL ?
	    "email.bounced" : "email");
	if (!notify_notification_show(n, &e)) {
		g_warning("notification \"%s\" not shown: %s", summary,
		    e->message);
		g_error_free(e);
	}
	g_object_unref(n);
	g_free(escaped);
}

/* "“Lunch” to bob@example.net" from the queue listing (or "A delivery
 * report to ..." for the daemon's own), else the bare id. */
static char *
describe(struct tray *t, const char *id)
{
	json_t		*m = tray_queue_find(t->reply[FETCH_QUEUE], id);
	const char	*subject;
	char		*rcpt, *s;

	if (m == NULL)
		return g_strdup_printf("Message %s", id ? id : "?");
	subject = json_string_value(json_object_get(m, "subject"));
	rcpt = tray_rcpt_text(m);
	if (g_strcmp0(json_string_value(json_object_get(m, "from")), "") == 0)
		s = g_strdup_printf("A delivery report to %s", rcpt[0] ?
		    rcpt : "?");
	else
		s = g_strdup_printf("\xe2\x80\x9c%s\xe2\x80\x9d to %s",
		    subject && subject[0] ? subject : "(no subject)",
		    rcpt[0] ? rcpt : "?");
	g_free(rcpt);
	return s;
}

void
tray_notify_failed(struct tray *t, json_t *ev)
{
	const char	*id = json_string_value(json_object_get(ev, "id"));
	const char	*err = json_string_value(json_object_get(ev, "error"));
	char		*what, *body;

	what = describe(t, id);
	body = g_strdup_printf("%s was refused: %s\nIt is kept: retry or "
	    "delete it in Show queue\xe2\x80\xa6", what, err && err[0] ? err :
	    "no reason given");
	show("Mail could not be sent", body, tray_state_icon(TRAY_FAILED),
	    NOTIFY_URGENCY_CRITICAL);
	g_free(body);
	g_free(what);
}

void
tray_notify_profile(struct tray *t, json_t *ev)
{
	const char	*name = json_string_value(json_object_get(ev,
			    "profile"));
	const char	*reason = json_string_value(json_object_get(ev,
			    "reason"));
	char		*summary, *body;

	if (name != NULL) {
		summary = g_strdup_printf("Mail now goes by profile %s", name);
		body = g_strdup(json_is_true(json_object_get(ev, "manual")) ?
		    "chosen by hand" : reason ? reason : "");
	} else {
		summary = g_strdup("Mail now waits in the queue");
		body = g_strdup(reason ? reason : "no profile applies here");
	}
	show(summary, body, tray_state_icon(name ? TRAY_OK : TRAY_OFFLINE),
	    NOTIFY_URGENCY_LOW);
	g_free(body);
	g_free(summary);
}

void
tray_notify_sent(struct tray *t, json_t *ev)
{
	const char	*id = json_string_value(json_object_get(ev, "id"));
	const char	*prof = json_string_value(json_object_get(ev,
			    "profile"));
	char		*what, *body;

	what = describe(t, id);
	body = g_strdup_printf("%s has left, by profile %s", what, prof ?
	    prof : "?");
	show("Queued mail sent", body, tray_state_icon(TRAY_OK),
	    NOTIFY_URGENCY_NORMAL);
	g_free(body);
	g_free(what);
}
