/*
 * tray_icon.c - the icon, two ways:
 *
 *   StatusNotifierItem (libayatana-appindicator3): the desktop's tray host
 *   draws the icon and the menu, which is exported over D-Bus.  Used when
 *   org.kde.StatusNotifierWatcher owns its name on the session bus.
 *
 *   XEmbed (GtkStatusIcon): the old system tray protocol, for trays without
 *   a StatusNotifier watcher (trayer, stalonetray, older panels).
 *   GtkStatusIcon is deprecated in GTK 3 but is its only XEmbed client.
 *
 * In auto mode the watcher's presence decides; a watcher that appears later
 * moves the icon over to it.  (One that vanishes under an AppIndicator is
 * the library's business: it falls back to a status icon by itself.)
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <gtk/gtk.h>
#include <libayatana-appindicator/app-indicator.h>

#include "tray.h"

#define SNI_WATCHER	"org.kde.StatusNotifierWatcher"
#define TRAY_ID		"roamsmtp-tray"

struct tray_icon {
	enum tray_backend	 mode;		/* as asked */
	GtkMenu			*menu;
	AppIndicator		*sni;
	GtkStatusIcon		*xembed;
	enum tray_state		 state;
	char			*tooltip;
	int			 decided;
};

/* The shipped icons' folder when running from the build tree; installed,
 * they are in hicolor and found like any themed icon. */
static const char *
build_tree_icons(void)
{
#if defined(TRAY_BUILD_DIR) && defined(TRAY_SOURCE_ICONS)
	static char	 exe[PATH_MAX];
	ssize_t		 n;
	char		*dir;
	int		 ours;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return NULL;
	exe[n] = '\0';
	dir = g_path_get_dirname(exe);
	ours = strcmp(dir, TRAY_BUILD_DIR) == 0;
	g_free(dir);
	return ours ? TRAY_SOURCE_ICONS : NULL;
#else
	return NULL;
#endif
}

void
tray_icon_init_theme(void)
{
	const char	*dir;

	if ((dir = build_tree_icons()) != NULL)
		gtk_icon_theme_append_search_path(gtk_icon_theme_get_default(),
		    dir);
}

static void
xembed_popup(GtkStatusIcon *si, guint button, guint32 when, gpointer data)
{
	struct tray_icon	*ti = data;

	G_GNUC_BEGIN_IGNORE_DEPRECATIONS
	gtk_menu_popup(ti->menu, NULL, NULL, gtk_status_icon_position_menu,
	    si, button, when);
	G_GNUC_END_IGNORE_DEPRECATIONS
}

/* A left click shows the menu too: there is nothing else to show. */
static void
xembed_activate(GtkStatusIcon *si, gpointer data)
{
	xembed_popup(si, 1, gtk_get_current_event_time(), data);
}

static void
apply(struct tray_icon *ti)
{
	const char	*name = tray_state_icon(ti->state);
	const char	*desc = tray_state_text(ti->state);
	char		*title;

	title = g_strdup_printf("roamsmtp: %s", ti->tooltip ? ti->tooltip :
	    desc);
	if (ti->sni != NULL) {
		app_indicator_set_icon_full(ti->sni, name, desc);
		app_indicator_set_title(ti->sni, title);
	}
	G_GNUC_BEGIN_IGNORE_DEPRECATIONS
	if (ti->xembed != NULL) {
		gtk_status_icon_set_from_icon_name(ti->xembed, name);
		gtk_status_icon_set_tooltip_text(ti->xembed, title);
		gtk_status_icon_set_title(ti->xembed, title);
	}
	G_GNUC_END_IGNORE_DEPRECATIONS
	g_free(title);
}

static void
use_sni(struct tray_icon *ti)
{
	if (ti->sni != NULL)
		return;
	G_GNUC_BEGIN_IGNORE_DEPRECATIONS
	if (ti->xembed != NULL) {
		gtk_status_icon_set_visible(ti->xembed, FALSE);
		g_clear_object(&ti->xembed);
	}
	G_GNUC_END_IGNORE_DEPRECATIONS
	g_message("icon: StatusNotifierItem");
	ti->sni = app_indicator_new_with_path(TRAY_ID,
	    tray_state_icon(ti->state), APP_INDICATOR_CATEGORY_COMMUNICATIONS,
	    build_tree_icons());
	app_indicator_set_menu(ti->sni, ti->menu);
	app_indicator_set_status(ti->sni, APP_INDICATOR_STATUS_ACTIVE);
	apply(ti);
}

static void
use_xembed(struct tray_icon *ti)
{
	if (ti->xembed != NULL || ti->sni != NULL)
		return;
	g_message("icon: XEmbed system tray (GtkStatusIcon)");
	G_GNUC_BEGIN_IGNORE_DEPRECATIONS
	ti->xembed = gtk_status_icon_new_from_icon_name(
	    tray_state_icon(ti->state));
	gtk_status_icon_set_name(ti->xembed, TRAY_ID);
	G_GNUC_END_IGNORE_DEPRECATIONS
	g_signal_connect(ti->xembed, "popup-menu", G_CALLBACK(xembed_popup),
	    ti);
	g_signal_connect(ti->xembed, "activate", G_CALLBACK(xembed_activate),
	    ti);
	apply(ti);
}

static void
watcher_appeared(GDBusConnection *c, const char *name, const char *owner,
    gpointer data)
{
	struct tray_icon	*ti = data;

	ti->decided = 1;
	use_sni(ti);
}

static void
watcher_vanished(GDBusConnection *c, const char *name, gpointer data)
{
	struct tray_icon	*ti = data;

	/* Only the first answer decides; afterwards an AppIndicator
	 * handles its watcher going away by itself. */
	if (!ti->decided) {
		ti->decided = 1;
		use_xembed(ti);
	}
}

struct tray_icon *
tray_icon_new(enum tray_backend mode, GtkMenu *menu)
{
	struct tray_icon	*ti = g_new0(struct tray_icon, 1);

	ti->mode = mode;
	ti->menu = menu;
	ti->state = TRAY_OFFLINE;
	switch (mode) {
	case TRAY_BACKEND_SNI:
		use_sni(ti);
		break;
	case TRAY_BACKEND_XEMBED:
		use_xembed(ti);
		break;
	case TRAY_BACKEND_AUTO:
		g_bus_watch_name(G_BUS_TYPE_SESSION, SNI_WATCHER,
		    G_BUS_NAME_WATCHER_FLAGS_NONE, watcher_appeared,
		    watcher_vanished, ti, NULL);
		break;
	}
	return ti;
}

void
tray_icon_set(struct tray_icon *ti, enum tray_state state,
    const char *tooltip)
{
	if (ti->state == state && g_strcmp0(ti->tooltip, tooltip) == 0)
		return;
	ti->state = state;
	g_free(ti->tooltip);
	ti->tooltip = g_strdup(tooltip);
	apply(ti);
}
