/*
 * tray_queue.c - "Show queue…": a small window listing the messages that
 * wait or failed (written, state, recipients, subject, last error), with
 * Retry and Delete for the selected one.  It follows the queue while open;
 * closing it only hides it.
 */
#include <gtk/gtk.h>
#include <jansson.h>

#include "tray.h"
#include "tray_model.h"

enum {
	COL_ID,
	COL_STATE,
	COL_DATE,
	COL_RCPT,
	COL_SUBJECT,
	COL_ERROR,
	COL_WEIGHT,	/* failed ones in bold */
	COL_N
};

struct tray_queue_win {
	struct tray	*t;
	GtkWidget	*win;
	GtkListStore	*store;
	GtkWidget	*view;
	GtkWidget	*stack;		/* the list, or "the queue is empty" */
	GtkWidget	*retry;
	GtkWidget	*delete;
	GtkWidget	*note;		/* the selected message's error */
	GtkWidget	*outcome;	/* the last Retry or Delete refused */
};

static char *
selected_id(struct tray_queue_win *qw)
{
	GtkTreeSelection	*sel;
	GtkTreeModel		*model;
	GtkTreeIter		 it;
	char			*id = NULL;

	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(qw->view));
	if (gtk_tree_selection_get_selected(sel, &model, &it))
		gtk_tree_model_get(model, &it, COL_ID, &id, -1);
	return id;
}

static void
sync_buttons(struct tray_queue_win *qw)
{
	char	*id = selected_id(qw);
	int	 ok = id != NULL && qw->t->running;

	gtk_widget_set_sensitive(qw->retry, ok);
	gtk_widget_set_sensitive(qw->delete, ok);
	g_free(id);
}

/* The note under the list shows the selected message's whole error (the
 * column is cut short). */
static void
selection_changed(GtkTreeSelection *sel, gpointer data)
{
	struct tray_queue_win	*qw = data;
	GtkTreeModel		*model;
	GtkTreeIter		 it;
	char			*err = NULL;

	if (gtk_tree_selection_get_selected(sel, &model, &it))
		gtk_tree_model_get(model, &it, COL_ERROR, &err, -1);
	gtk_label_set_text(GTK_LABEL(qw->note), err ? err : "");
	g_free(err);
	sync_buttons(qw);
}

static void
action_done(const char *error, void *arg)
{
	struct tray_queue_win	*qw = arg;

	gtk_label_set_text(GTK_LABEL(qw->outcome), error ? error : "");
}

static void
retry_clicked(GtkButton *b, gpointer data)
{
	struct tray_queue_win	*qw = data;
	char			*id = selected_id(qw);

	if (id != NULL)
		tray_retry(qw->t, id, action_done, qw);
	g_free(id);
}

static void
delete_clicked(GtkButton *b, gpointer data)
{
	struct tray_queue_win	*qw = data;
	char			*id = selected_id(qw);

	if (id != NULL)
		tray_delete(qw->t, id, action_done, qw);
	g_free(id);
}

static void
close_clicked(GtkButton *b, gpointer data)
{
	struct tray_queue_win	*qw = data;

	gtk_widget_hide(qw->win);
}

static char *
date_text(json_t *m)
{
	json_t		*v = json_object_get(m, "created");
	GDateTime	*dt;
	char		*s;

	if (!json_is_integer(v) ||
	    (dt = g_date_time_new_from_unix_local(json_integer_value(v))) ==
	    NULL)
		return g_strdup("-");
	s = g_date_time_format(dt, "%Y-%m-%d %H:%M");
	g_date_time_unref(dt);
	return s;
}

void
tray_queue_win_update(struct tray_queue_win *qw)
{
	json_t		*queue = qw->t->running ? qw->t->reply[FETCH_QUEUE] :
			    NULL;
	json_t		*m;
	GtkTreeSelection *sel;
	GtkTreeIter	 it, keep;
	const char	*state, *err;
	char		*id, *date, *rcpt;
	size_t		 i;
	int		 kept = 0, n = 0;

	id = selected_id(qw);
	gtk_list_store_clear(qw->store);
	json_array_foreach(json_object_get(queue, "messages"), i, m) {
		state = json_string_value(json_object_get(m, "state")) ?: "?";
		err = json_string_value(json_object_get(m, "last_error"));
		date = date_text(m);
		rcpt = tray_rcpt_text(m);
		gtk_list_store_insert_with_values(qw->store, &it, -1,
		    COL_ID, json_string_value(json_object_get(m, "id")),
		    COL_STATE, state,
		    COL_DATE, date,
		    COL_RCPT, rcpt,
		    COL_SUBJECT, json_string_value(json_object_get(m,
		    "subject")) ?: "",
		    COL_ERROR, err && err[0] ? err : "",
		    COL_WEIGHT, g_strcmp0(state, "failed") == 0 ?
		    PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL, -1);
		if (n++ == 0 || (id != NULL && g_strcmp0(id,
		    json_string_value(json_object_get(m, "id"))) == 0)) {
			keep = it;
			kept = 1;
		}
		g_free(rcpt);
		g_free(date);
	}
	g_free(id);
	/* The one selected before, else the first: Retry and Delete act on
	 * something visible without a click first. */
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(qw->view));
	if (kept)
		gtk_tree_selection_select_iter(sel, &keep);
	gtk_stack_set_visible_child_name(GTK_STACK(qw->stack), n > 0 ? "list" :
	    "empty");
	sync_buttons(qw);
}

static void
add_column(struct tray_queue_win *qw, const char *title, int col, int width)
{
	GtkCellRenderer		*r = gtk_cell_renderer_text_new();
	GtkTreeViewColumn	*c;

	if (width > 0)
		g_object_set(r, "ellipsize", PANGO_ELLIPSIZE_END,
		    "width-chars", width, NULL);
	c = gtk_tree_view_column_new_with_attributes(title, r, "text", col,
	    "weight", COL_WEIGHT, NULL);
	gtk_tree_view_column_set_resizable(c, TRUE);
	gtk_tree_view_append_column(GTK_TREE_VIEW(qw->view), c);
}

struct tray_queue_win *
tray_queue_win_new(struct tray *t)
{
	struct tray_queue_win	*qw = g_new0(struct tray_queue_win, 1);
	GtkWidget		*box, *buttons, *scroll, *empty, *close;

	qw->t = t;
	qw->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(qw->win), "roamsmtp queue");
	gtk_window_set_role(GTK_WINDOW(qw->win), "queue");
	gtk_window_set_default_size(GTK_WINDOW(qw->win), 840, 240);
	gtk_window_set_icon_name(GTK_WINDOW(qw->win), "roamsmtp-queued");
	g_signal_connect(qw->win, "delete-event",
	    G_CALLBACK(gtk_widget_hide_on_delete), NULL);

	qw->store = gtk_list_store_new(COL_N, G_TYPE_STRING, G_TYPE_STRING,
	    G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
	    G_TYPE_INT);
	qw->view = gtk_tree_view_new_with_model(GTK_TREE_MODEL(qw->store));
	add_column(qw, "Written", COL_DATE, 0);
	add_column(qw, "State", COL_STATE, 0);
	add_column(qw, "To", COL_RCPT, 22);
	add_column(qw, "Subject", COL_SUBJECT, 22);
	add_column(qw, "Last error", COL_ERROR, 36);
	gtk_tree_view_set_tooltip_column(GTK_TREE_VIEW(qw->view), COL_ERROR);
	g_signal_connect(gtk_tree_view_get_selection(GTK_TREE_VIEW(qw->view)),
	    "changed", G_CALLBACK(selection_changed), qw);

	scroll = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll),
	    GTK_POLICY_AUTOMATIC, GTK_POLICY_AUTOMATIC);
	gtk_container_add(GTK_CONTAINER(scroll), qw->view);
	empty = gtk_label_new("The queue is empty: all mail has left.");
	qw->stack = gtk_stack_new();
	gtk_stack_add_named(GTK_STACK(qw->stack), scroll, "list");
	gtk_stack_add_named(GTK_STACK(qw->stack), empty, "empty");

	qw->retry = gtk_button_new_with_mnemonic("_Retry");
	qw->delete = gtk_button_new_with_mnemonic("_Delete");
	close = gtk_button_new_with_mnemonic("_Close");
	g_signal_connect(qw->retry, "clicked", G_CALLBACK(retry_clicked), qw);
	g_signal_connect(qw->delete, "clicked", G_CALLBACK(delete_clicked),
	    qw);
	g_signal_connect(close, "clicked", G_CALLBACK(close_clicked), qw);
	qw->note = gtk_label_new("");
	gtk_label_set_ellipsize(GTK_LABEL(qw->note), PANGO_ELLIPSIZE_END);
	gtk_label_set_selectable(GTK_LABEL(qw->note), TRUE);
	gtk_widget_set_can_focus(qw->note, FALSE);
	gtk_widget_set_halign(qw->note, GTK_ALIGN_START);
	qw->outcome = gtk_label_new("");
	gtk_label_set_ellipsize(GTK_LABEL(qw->outcome), PANGO_ELLIPSIZE_END);
	gtk_widget_set_halign(qw->outcome, GTK_ALIGN_START);

	buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	gtk_box_pack_start(GTK_BOX(buttons), qw->outcome, TRUE, TRUE, 0);
	gtk_box_pack_end(GTK_BOX(buttons), close, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(buttons), qw->delete, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(buttons), qw->retry, FALSE, FALSE, 0);

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_container_set_border_width(GTK_CONTAINER(box), 8);
	gtk_box_pack_start(GTK_BOX(box), qw->stack, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(box), qw->note, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), buttons, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(qw->win), box);
	gtk_widget_show_all(box);
	tray_queue_win_update(qw);
	return qw;
}

void
tray_queue_win_present(struct tray_queue_win *qw)
{
	gtk_window_present(GTK_WINDOW(qw->win));
}
