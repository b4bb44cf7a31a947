/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-palette.h"
#include "aiq-step-kind.h"

struct _AiqDesignerPalette {
	AdwBin parent_instance;
	GtkListBox *list;
};

G_DEFINE_TYPE(AiqDesignerPalette, aiq_designer_palette, ADW_TYPE_BIN)

enum {
	SIGNAL_ADD_STEP,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

/**
 * aiq_designer_palette_get_row:
 * @kind: a step kind's name
 *
 * Returns: (transfer none) (nullable): the row of @kind
 */
GtkListBoxRow *
aiq_designer_palette_get_row(AiqDesignerPalette *self, const gchar *kind)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_PALETTE(self), NULL);
	g_return_val_if_fail(kind != NULL, NULL);
	for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(self->list)); child != NULL;
	     child = gtk_widget_get_next_sibling(child)) {
		if (GTK_IS_LIST_BOX_ROW(child) && g_strcmp0(gtk_widget_get_name(child), kind) == 0)
			return GTK_LIST_BOX_ROW(child);
	}
	return NULL;
}

static void
aiq_designer_palette_row_activated_cb(GtkListBox *list, GtkListBoxRow *row, gpointer user_data)
{
	AiqDesignerPalette *self = AIQ_DESIGNER_PALETTE(user_data);
	g_signal_emit(self, signals[SIGNAL_ADD_STEP], 0, gtk_widget_get_name(GTK_WIDGET(row)));
}

static GdkContentProvider *
aiq_designer_palette_drag_prepare_cb(GtkDragSource *source,
				     gdouble x,
				     gdouble y,
				     gpointer user_data)
{
	GtkWidget *row = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(source));
	return gdk_content_provider_new_typed(G_TYPE_STRING, gtk_widget_get_name(row));
}

static void
aiq_designer_palette_drag_begin_cb(GtkDragSource *source, GdkDrag *drag, gpointer user_data)
{
	GtkWidget *row = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(source));
	g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new(row);
	gtk_drag_source_set_icon(source, paintable, 0, 0);
}

static GtkWidget *
aiq_designer_palette_create_row(const AiqStepKind *kind)
{
	GtkWidget *row = gtk_list_box_row_new();
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	GtkWidget *image = gtk_image_new_from_icon_name(
		kind->icon_name != NULL ? kind->icon_name : "application-x-executable-symbolic");
	GtkWidget *label = gtk_label_new(_(kind->title));
	GtkDragSource *source = gtk_drag_source_new();

	gtk_widget_set_name(row, kind->name);
	if (kind->description != NULL)
		gtk_widget_set_tooltip_text(row, _(kind->description));
	gtk_widget_set_margin_top(box, 6);
	gtk_widget_set_margin_bottom(box, 6);
	gtk_widget_set_margin_start(box, 6);
	gtk_widget_set_margin_end(box, 6);
	gtk_label_set_xalign(GTK_LABEL(label), 0.0);
	gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
	gtk_widget_set_hexpand(label, TRUE);
	gtk_box_append(GTK_BOX(box), image);
	gtk_box_append(GTK_BOX(box), label);
	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);

	gtk_drag_source_set_actions(source, GDK_ACTION_COPY);
	g_signal_connect(source, "prepare", G_CALLBACK(aiq_designer_palette_drag_prepare_cb), NULL);
	g_signal_connect(source,
			 "drag-begin",
			 G_CALLBACK(aiq_designer_palette_drag_begin_cb),
			 NULL);
	gtk_widget_add_controller(row, GTK_EVENT_CONTROLLER(source));
	return row;
}

static void
aiq_designer_palette_class_init(AiqDesignerPaletteClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	/**
	 * AiqDesignerPalette::add-step:
	 * @kind: the name of the step kind to add
	 */
	signals[SIGNAL_ADD_STEP] = g_signal_new("add-step",
						G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST,
						0,
						NULL,
						NULL,
						NULL,
						G_TYPE_NONE,
						1,
						G_TYPE_STRING);
	gtk_widget_class_set_css_name(widget_class, "palette");
}

static void
aiq_designer_palette_init(AiqDesignerPalette *self)
{
	const AiqStepKind *const *kinds = aiq_step_kind_list();
	GtkWidget *scrolled = gtk_scrolled_window_new();
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *heading = gtk_label_new(_("Steps"));

	gtk_widget_add_css_class(heading, "heading");
	gtk_label_set_xalign(GTK_LABEL(heading), 0.0);
	gtk_widget_set_margin_top(heading, 12);
	gtk_widget_set_margin_start(heading, 12);
	gtk_widget_set_margin_bottom(heading, 6);
	gtk_box_append(GTK_BOX(box), heading);

	self->list = GTK_LIST_BOX(gtk_list_box_new());
	gtk_widget_add_css_class(GTK_WIDGET(self->list), "navigation-sidebar");
	gtk_list_box_set_selection_mode(self->list, GTK_SELECTION_NONE);
	gtk_list_box_set_activate_on_single_click(self->list, TRUE);
	gtk_widget_set_vexpand(GTK_WIDGET(self->list), TRUE);
	for (guint i = 0; kinds[i] != NULL; i++)
		gtk_list_box_append(self->list, aiq_designer_palette_create_row(kinds[i]));
	g_signal_connect(self->list,
			 "row-activated",
			 G_CALLBACK(aiq_designer_palette_row_activated_cb),
			 self);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(self->list));

	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scrolled),
				       GTK_POLICY_NEVER,
				       GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), box);
	gtk_widget_set_size_request(scrolled, 200, -1);
	adw_bin_set_child(ADW_BIN(self), scrolled);
}

GtkWidget *
aiq_designer_palette_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_PALETTE, NULL);
}
