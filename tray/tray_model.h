/*
 * tray_model.h - what the tray shows, worked out from the daemon's replies
 * (control.h: status, profiles, queue) without GTK: pure functions on
 * jansson objects, unit-tested in tray/tests/test_tray_model.c.
 *
 * Every function tolerates members that are missing or of the wrong type
 * (a newer or older daemon): it shows less, it does not crash.
 */
#ifndef ROAMSMTP_TRAY_MODEL_H
#define ROAMSMTP_TRAY_MODEL_H

#include <stddef.h>

#include <jansson.h>

/* The icon's four states, in the order of their urgency. */
enum tray_state {
	TRAY_OK,	/* a profile applies and nothing waits */
	TRAY_QUEUED,	/* mail waits in the queue, it will leave by itself */
	TRAY_OFFLINE,	/* offline, captive portal, no profile, no daemon */
	TRAY_FAILED,	/* a message failed for good: the user must act */
};

/* Menu lines are cut here (with an ellipsis): a menu wider than the screen
 * helps nobody, and the daemon's reasons can be long. */
#define TRAY_LINE_MAX	96

/* The state; status NULL means the daemon is not running. */
enum tray_state	 tray_state_of(json_t *status);
/* Its themed icon name ("roamsmtp-ok", ...) and a description of it. */
const char	*tray_state_icon(enum tray_state);
const char	*tray_state_text(enum tray_state);

/* Where the laptop is, for people: "Home (Wi-Fi “HomeWifi”)", "on eth0";
 * NULL when the daemon does not know (no network watcher). */
char		*tray_network_name(json_t *status);

/*
 * The menu's first line: "Home — via mail.example.net:587",
 * "Offline — mail waits in the queue", "roamsmtpd is not running" (status
 * NULL).  Each returned string is the caller's to g_free().
 */
char		*tray_headline(json_t *status);
/* The second line: the profile and why ("Profile: home (ssid=HomeWifi)",
 * "Profile: relay (chosen by hand)", "No profile: ..."). */
char		*tray_profile_line(json_t *status);
/* "Queue: empty", "Queue: 2 waiting, 1 failed"; counts in *queued and
 * *failed when not NULL. */
char		*tray_queue_line(json_t *status, long *queued, long *failed);

/* The name of the profile mail goes by, or NULL; the manual choice, or
 * NULL for automatic. */
const char	*tray_active_profile(json_t *status);
const char	*tray_manual_choice(json_t *status);

/* One queued message from the queue listing by id, or NULL. */
json_t		*tray_queue_find(json_t *queue, const char *id);
/* "bob@example.net, carol@example.org" (at most TRAY_LINE_MAX). */
char		*tray_rcpt_text(json_t *msg);

/* Cut s (UTF-8) to at most max bytes on a character boundary, ending in
 * "…" when cut; in place. */
void		 tray_cut(char *s, size_t max);

#endif
