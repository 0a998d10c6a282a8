/*
 * tray.h - roamsmtp-tray: one status icon for roamsmtpd.
 *
 * The tray knows only the control socket (daemon/control.h).  It keeps the
 * daemon's last status, profile list and queue listing, refreshes them when
 * an event says something changed, and draws the icon, the menu and the
 * queue window from them.  Everything runs on the GTK main loop and nothing
 * waits on the socket (tray_ctl.h).
 *
 * Files: main.c (options, start), tray_app.c (the state, refreshes, events,
 * actions), tray_menu.c, tray_icon.c (StatusNotifierItem or XEmbed),
 * tray_queue.c (the queue window), tray_notify.c (notifications and the
 * settings file), tray_model.c (texts and states, no GTK), tray_ctl.c.
 */
#ifndef ROAMSMTP_TRAY_H
#define ROAMSMTP_TRAY_H

#include <gtk/gtk.h>
#include <jansson.h>

#include "tray_model.h"

enum tray_backend {
	TRAY_BACKEND_AUTO,	/* SNI when a watcher runs, else XEmbed */
	TRAY_BACKEND_SNI,
	TRAY_BACKEND_XEMBED,
};

/* What the daemon said last; each fetched again when events say so. */
enum tray_fetch {
	FETCH_STATUS,
	FETCH_PROFILES,
	FETCH_QUEUE,
	FETCH_N
};

struct tray_settings {
	/* $XDG_CONFIG_HOME/roamsmtp/tray.conf */
	char		*path;
	gboolean	 notify_profile;	/* notify on profile change */
};

struct tray_menu;
struct tray_icon;
struct tray_queue_win;
struct tray_watch;

struct tray {
	char			*socket_path;
	enum tray_backend	 backend;
	struct tray_watch	*watch;
	int			 running;	/* the watch is up */
	char			*down_reason;	/* why not, for the menu */

	json_t			*reply[FETCH_N];	/* NULL until fetched */
	struct {
		int	busy;		/* a request is out */
		int	again;		/* asked again meanwhile */
	}			 fetch[FETCH_N];
	unsigned		 epoch;		/* bumped on each (re)connect */

	/* Ids of messages seen waiting: their "sent" is worth telling. */
	GHashTable		*waiting;
	/* The profile last told about, to notify on real changes only. */
	char			*last_profile;
	int			 have_profile;

	struct tray_settings	 settings;
	struct tray_menu	*menu;
	struct tray_icon	*icon;
	struct tray_queue_win	*qwin;
};

/* tray_app.c */
void	tray_app_start(struct tray *);
void	tray_refresh(struct tray *, enum tray_fetch);
/* Actions: use a profile (NULL: automatic), flush, retry/delete a message.
 * done (may be NULL) gets the daemon's error, or NULL on success. */
typedef void (*tray_done_cb)(const char *error, void *arg);
void	tray_use(struct tray *, const char *profile);
void	tray_flush(struct tray *);
void	tray_retry(struct tray *, const char *id, tray_done_cb, void *);
void	tray_delete(struct tray *, const char *id, tray_done_cb, void *);
void	tray_show_queue(struct tray *);
void	tray_quit(struct tray *);
/* Redraw the icon, menu and queue window from the replies. */
void	tray_update(struct tray *);
/* The menu's first line: where mail goes, or why the daemon is away. */
char	*tray_head_text(struct tray *);

/* tray_menu.c */
struct tray_menu	*tray_menu_new(struct tray *);
GtkMenu			*tray_menu_widget(struct tray_menu *);
void			 tray_menu_update(struct tray_menu *);

/* tray_icon.c: the icon shows the menu; backend decides how. */
struct tray_icon	*tray_icon_new(enum tray_backend, GtkMenu *);
void			 tray_icon_set(struct tray_icon *, enum tray_state,
			    const char *tooltip);
/* The search path for the shipped icons (build tree or installed). */
void			 tray_icon_init_theme(void);

/* tray_queue.c */
struct tray_queue_win	*tray_queue_win_new(struct tray *);
void			 tray_queue_win_present(struct tray_queue_win *);
void			 tray_queue_win_update(struct tray_queue_win *);

/* tray_notify.c */
void	tray_settings_load(struct tray_settings *);
int	tray_settings_save(const struct tray_settings *);
void	tray_notify_init(void);
void	tray_notify_failed(struct tray *, json_t *event);
void	tray_notify_profile(struct tray *, json_t *event);
void	tray_notify_sent(struct tray *, json_t *event);

#endif
