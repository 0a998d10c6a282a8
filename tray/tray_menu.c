/*
 * tray_menu.c - the icon's menu:
 *
 *   Home — via mail.example.net:587          (where mail goes)
 *   Profile: home (ssid=HomeWifi)            (which profile and why)
 *   ---
 *   (•) Automatic
 *   ( ) home (mail.example.net:587)           one radio item a profile
 *   ---
 *   Queue: 2 waiting, 1 failed
 *   Send queued mail now
 *   Show queue…
 *   ---
 *   [x] Notify on profile change
 *   Quit
 *
 * The same GtkMenu serves both backends: libayatana-appindicator exports it
 * over D-Bus (com.canonical.dbusmenu), GtkStatusIcon pops it up.  Items are
 * changed in place, never rebuilt wholesale, so that an open menu and the
 * exported layout follow the daemon without flicker.
 */
#include <string.h>

#include <gtk/gtk.h>
#include <jansson.h>

#include "tray.h"
#include "tray_model.h"

struct tray_menu {
	struct tray	*t;
	GtkWidget	*menu;
	GtkWidget	*head;
	GtkWidget	*profile;
	GtkWidget	*automatic;
	GPtrArray	*profiles;	/* radio items after automatic */
	char		*profiles_key;	/* what they were built from */
	GtkWidget	*queue;
	GtkWidget	*flush;
	GtkWidget	*show_queue;
	GtkWidget	*notify;
	int		 updating;	/* our own set_active: not the user */
};

static GtkWidget *
add_item(struct tray_menu *tm, GtkWidget *item)
{
	gtk_menu_shell_append(GTK_MENU_SHELL(tm->menu), item);
	gtk_widget_show(item);
	return item;
}

static GtkWidget *
add_label(struct tray_menu *tm)
{
	GtkWidget	*item = gtk_menu_item_new_with_label("");

	gtk_widget_set_sensitive(item, FALSE);
	return add_item(tm, item);
}

static void
add_separator(struct tray_menu *tm)
{
	add_item(tm, gtk_separator_menu_item_new());
}

static void
set_label(GtkWidget *item, const char *text)
{
	if (g_strcmp0(gtk_menu_item_get_label(GTK_MENU_ITEM(item)), text) != 0)
		gtk_menu_item_set_label(GTK_MENU_ITEM(item), text);
}

static void
profile_toggled(GtkCheckMenuItem *item, gpointer data)
{
	struct tray_menu	*tm = data;

	if (tm->updating || !gtk_check_menu_item_get_active(item))
		return;
	/* NULL: the "Automatic" item. */
	tray_use(tm->t, g_object_get_data(G_OBJECT(item), "profile"));
}

static void
flush_activated(GtkMenuItem *item, gpointer data)
{
	struct tray_menu	*tm = data;

	tray_flush(tm->t);
}

static void
show_queue_activated(GtkMenuItem *item, gpointer data)
{
	struct tray_menu	*tm = data;

	tray_show_queue(tm->t);
}

static void
notify_toggled(GtkCheckMenuItem *item, gpointer data)
{
	struct tray_menu	*tm = data;

	if (tm->updating)
		return;
	tm->t->settings.notify_profile = gtk_check_menu_item_get_active(item);
	tray_settings_save(&tm->t->settings);
}

static void
quit_activated(GtkMenuItem *item, gpointer data)
{
	struct tray_menu	*tm = data;

	tray_quit(tm->t);
}

/* "home\tmail.example.net:587\n..." for the profiles of the reply: the
 * radio items are built again only when it changes. */
static char *
profiles_key(json_t *profiles)
{
	GString		*s = g_string_new(NULL);
	json_t		*p;
	size_t		 i;

	json_array_foreach(json_object_get(profiles, "profiles"), i, p)
		g_string_append_printf(s, "%s\t%s\n",
		    json_string_value(json_object_get(p, "name")) ?: "",
		    json_string_value(json_object_get(p, "upstream")) ?: "");
	return g_string_free(s, FALSE);
}

static void
build_profiles(struct tray_menu *tm, json_t *profiles)
{
	GtkWidget	*item;
	GList		*children;
	json_t		*p;
	const char	*name, *up;
	char		*key, *label;
	size_t		 i;
	int		 pos;

	key = profiles_key(profiles);
	if (tm->profiles_key != NULL && strcmp(key, tm->profiles_key) == 0) {
		g_free(key);
		return;
	}
	g_free(tm->profiles_key);
	tm->profiles_key = key;
	for (i = 0; i < tm->profiles->len; i++)
		gtk_widget_destroy(g_ptr_array_index(tm->profiles, i));
	g_ptr_array_set_size(tm->profiles, 0);

	children = gtk_container_get_children(GTK_CONTAINER(tm->menu));
	pos = g_list_index(children, tm->automatic) + 1;
	g_list_free(children);
	json_array_foreach(json_object_get(profiles, "profiles"), i, p) {
		if ((name = json_string_value(json_object_get(p, "name"))) ==
		    NULL)
			continue;
		up = json_string_value(json_object_get(p, "upstream"));
		label = up ? g_strdup_printf("%s (%s)", name, up) :
		    g_strdup(name);
		item = gtk_radio_menu_item_new_with_label_from_widget(
		    GTK_RADIO_MENU_ITEM(tm->automatic), label);
		g_free(label);
		g_object_set_data_full(G_OBJECT(item), "profile",
		    g_strdup(name), g_free);
		g_signal_connect(item, "toggled", G_CALLBACK(profile_toggled),
		    tm);
		gtk_menu_shell_insert(GTK_MENU_SHELL(tm->menu), item, pos++);
		gtk_widget_show(item);
		g_ptr_array_add(tm->profiles, item);
	}
}

/* The radio item of the user's choice: automatic, or the manual one. */
static void
mark_choice(struct tray_menu *tm, const char *manual, int known)
{
	GtkWidget	*item, *chosen = tm->automatic;
	size_t		 i;

	for (i = 0; i < tm->profiles->len; i++) {
		item = g_ptr_array_index(tm->profiles, i);
		gtk_widget_set_sensitive(item, known);
		if (manual != NULL && strcmp(manual, g_object_get_data(
		    G_OBJECT(item), "profile")) == 0)
			chosen = item;
	}
	gtk_widget_set_sensitive(tm->automatic, known);
	if (!gtk_check_menu_item_get_active(GTK_CHECK_MENU_ITEM(chosen)))
		gtk_check_menu_item_set_active(GTK_CHECK_MENU_ITEM(chosen),
		    TRUE);
}

void
tray_menu_update(struct tray_menu *tm)
{
	struct tray	*t = tm->t;
	json_t		*status = t->running ? t->reply[FETCH_STATUS] : NULL;
	json_t		*profiles = t->running ? t->reply[FETCH_PROFILES] :
			    NULL;
	char		*s;
	long		 queued = 0;

	tm->updating = 1;
	s = tray_head_text(t);
	set_label(tm->head, s);
	g_free(s);
	if (status != NULL) {
		s = tray_profile_line(status);
		set_label(tm->profile, s);
		g_free(s);
	} else
		set_label(tm->profile, t->running ? "" :
		    "mail cannot leave until it runs");

	/* The profile list, once known: an empty list while not running. */
	if (profiles != NULL || !t->running)
		build_profiles(tm, profiles);
	mark_choice(tm, tray_manual_choice(status), status != NULL);

	s = tray_queue_line(status, &queued, NULL);
	set_label(tm->queue, s);
	g_free(s);
	gtk_widget_set_sensitive(tm->flush, status != NULL && queued > 0);
	gtk_widget_set_sensitive(tm->show_queue, t->running);
	if (gtk_check_menu_item_get_active(GTK_CHECK_MENU_ITEM(tm->notify)) !=
	    t->settings.notify_profile)
		gtk_check_menu_item_set_active(GTK_CHECK_MENU_ITEM(tm->notify),
		    t->settings.notify_profile);
	tm->updating = 0;
}

struct tray_menu *
tray_menu_new(struct tray *t)
{
	struct tray_menu	*tm = g_new0(struct tray_menu, 1);

	tm->t = t;
	tm->profiles = g_ptr_array_new();
	tm->menu = gtk_menu_new();
	g_object_ref_sink(tm->menu);

	tm->head = add_label(tm);
	tm->profile = add_label(tm);
	add_separator(tm);
	tm->automatic = add_item(tm, gtk_radio_menu_item_new_with_label(NULL,
	    "Automatic"));
	g_signal_connect(tm->automatic, "toggled",
	    G_CALLBACK(profile_toggled), tm);
	add_separator(tm);
	tm->queue = add_label(tm);
	tm->flush = add_item(tm, gtk_menu_item_new_with_label(
	    "Send queued mail now"));
	g_signal_connect(tm->flush, "activate", G_CALLBACK(flush_activated),
	    tm);
	tm->show_queue = add_item(tm, gtk_menu_item_new_with_label(
	    "Show queue\xe2\x80\xa6"));
	g_signal_connect(tm->show_queue, "activate",
	    G_CALLBACK(show_queue_activated), tm);
	add_separator(tm);
	tm->notify = add_item(tm, gtk_check_menu_item_new_with_label(
	    "Notify on profile change"));
	g_signal_connect(tm->notify, "toggled", G_CALLBACK(notify_toggled),
	    tm);
	g_signal_connect(add_item(tm, gtk_menu_item_new_with_label("Quit")),
	    "activate", G_CALLBACK(quit_activated), tm);
	return tm;
}

GtkMenu *
tray_menu_widget(struct tray_menu *tm)
{
	return GTK_MENU(tm->menu);
}
