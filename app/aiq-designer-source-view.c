/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-source-view.h"

#define AIQ_DESIGNER_SOURCE_VIEW_REGENERATE_MS 150
#define AIQ_DESIGNER_SOURCE_VIEW_APPLY_MS 500

struct _AiqDesignerSourceView {
	AdwBin parent_instance;
	AiqDesignerDocument *document;
	GtkSourceView *view;
	GtkSourceBuffer *buffer;
	GtkRevealer *error_revealer;
	GtkLabel *error_label;
	gchar *error;
	guint regenerate_id;
	guint apply_id;
	gboolean updating; /* the text is being set from the document */
	gboolean applying; /* the document is being set from the text */
};

G_DEFINE_TYPE(AiqDesignerSourceView, aiq_designer_source_view, ADW_TYPE_BIN)

static void
aiq_designer_source_view_set_error(AiqDesignerSourceView *self, const gchar *error)
{
	g_free(self->error);
	self->error = g_strdup(error);
	gtk_label_set_text(self->error_label, error != NULL ? error : "");
	gtk_revealer_set_reveal_child(self->error_revealer, error != NULL);
}

static void
aiq_designer_source_view_regenerate(AiqDesignerSourceView *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *yaml = NULL;
	g_autofree gchar *old = NULL;
	GtkTextIter start, end, iter;
	GtkTextBuffer *buffer = GTK_TEXT_BUFFER(self->buffer);
	gint line;

	g_clear_handle_id(&self->regenerate_id, g_source_remove);
	if (self->document == NULL) {
		self->updating = TRUE;
		gtk_text_buffer_set_text(buffer, "", -1);
		self->updating = FALSE;
		return;
	}
	yaml = aiq_designer_document_to_yaml(self->document, &error);
	if (yaml == NULL) {
		g_warning("cannot write the workflow as YAML: %s", error->message);
		return;
	}
	gtk_text_buffer_get_bounds(buffer, &start, &end);
	old = gtk_text_buffer_get_text(buffer, &start, &end, FALSE);
	if (g_strcmp0(old, yaml) == 0)
		return;

	/* keep the cursor on its line */
	gtk_text_buffer_get_iter_at_mark(buffer, &iter, gtk_text_buffer_get_insert(buffer));
	line = gtk_text_iter_get_line(&iter);
	self->updating = TRUE;
	gtk_text_buffer_set_text(buffer, yaml, -1);
	self->updating = FALSE;
	gtk_text_buffer_get_iter_at_line(buffer, &iter, line);
	gtk_text_buffer_place_cursor(buffer, &iter);
	aiq_designer_source_view_set_error(self, NULL);
}

static gboolean
aiq_designer_source_view_regenerate_cb(gpointer user_data)
{
	AiqDesignerSourceView *self = AIQ_DESIGNER_SOURCE_VIEW(user_data);
	self->regenerate_id = 0;
	aiq_designer_source_view_regenerate(self);
	return G_SOURCE_REMOVE;
}

static void
aiq_designer_source_view_document_changed_cb(AiqDesignerDocument *document,
					     guint change,
					     gpointer user_data)
{
	AiqDesignerSourceView *self = AIQ_DESIGNER_SOURCE_VIEW(user_data);
	if (self->applying)
		return;
	/* the document wins over text not yet applied */
	g_clear_handle_id(&self->apply_id, g_source_remove);
	g_clear_handle_id(&self->regenerate_id, g_source_remove);
	self->regenerate_id = g_timeout_add(AIQ_DESIGNER_SOURCE_VIEW_REGENERATE_MS,
					    aiq_designer_source_view_regenerate_cb,
					    self);
}

static void
aiq_designer_source_view_apply(AiqDesignerSourceView *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;
	gboolean ok;

	g_clear_handle_id(&self->apply_id, g_source_remove);
	if (self->document == NULL)
		return;
	text = aiq_designer_source_view_dup_text(self);
	self->applying = TRUE;
	ok = aiq_designer_document_set_yaml(self->document, text, &error);
	self->applying = FALSE;
	aiq_designer_source_view_set_error(self, ok ? NULL : error->message);
}

static gboolean
aiq_designer_source_view_apply_cb(gpointer user_data)
{
	AiqDesignerSourceView *self = AIQ_DESIGNER_SOURCE_VIEW(user_data);
	self->apply_id = 0;
	aiq_designer_source_view_apply(self);
	return G_SOURCE_REMOVE;
}

static void
aiq_designer_source_view_buffer_changed_cb(GtkTextBuffer *buffer, gpointer user_data)
{
	AiqDesignerSourceView *self = AIQ_DESIGNER_SOURCE_VIEW(user_data);
	if (self->updating)
		return;
	g_clear_handle_id(&self->apply_id, g_source_remove);
	self->apply_id = g_timeout_add(AIQ_DESIGNER_SOURCE_VIEW_APPLY_MS,
				       aiq_designer_source_view_apply_cb,
				       self);
}

/**
 * aiq_designer_source_view_flush:
 *
 * Applies the text typed and not yet applied now, so that an undo or a
 * save sees it.
 */
void
aiq_designer_source_view_flush(AiqDesignerSourceView *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_SOURCE_VIEW(self));
	if (self->apply_id != 0)
		aiq_designer_source_view_apply(self);
}

void
aiq_designer_source_view_set_document(AiqDesignerSourceView *self, AiqDesignerDocument *document)
{
	g_return_if_fail(AIQ_DESIGNER_IS_SOURCE_VIEW(self));
	g_return_if_fail(document == NULL || AIQ_DESIGNER_IS_DOCUMENT(document));

	if (self->document == document)
		return;
	g_clear_handle_id(&self->apply_id, g_source_remove);
	g_clear_handle_id(&self->regenerate_id, g_source_remove);
	if (self->document != NULL)
		g_signal_handlers_disconnect_by_data(self->document, self);
	g_set_object(&self->document, document);
	if (self->document != NULL)
		g_signal_connect(self->document,
				 "changed",
				 G_CALLBACK(aiq_designer_source_view_document_changed_cb),
				 self);
	aiq_designer_source_view_regenerate(self);
}

GtkSourceBuffer *
aiq_designer_source_view_get_buffer(AiqDesignerSourceView *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SOURCE_VIEW(self), NULL);
	return self->buffer;
}

gchar *
aiq_designer_source_view_dup_text(AiqDesignerSourceView *self)
{
	GtkTextIter start, end;
	g_return_val_if_fail(AIQ_DESIGNER_IS_SOURCE_VIEW(self), NULL);
	gtk_text_buffer_get_bounds(GTK_TEXT_BUFFER(self->buffer), &start, &end);
	return gtk_text_buffer_get_text(GTK_TEXT_BUFFER(self->buffer), &start, &end, FALSE);
}

/**
 * aiq_designer_source_view_get_error:
 *
 * Returns: (nullable): why the text typed last does not parse
 */
const gchar *
aiq_designer_source_view_get_error(AiqDesignerSourceView *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SOURCE_VIEW(self), NULL);
	return self->error;
}

static void
aiq_designer_source_view_update_scheme(AiqDesignerSourceView *self)
{
	AdwStyleManager *manager = adw_style_manager_get_default();
	GtkSourceStyleSchemeManager *schemes = gtk_source_style_scheme_manager_get_default();
	GtkSourceStyleScheme *scheme = gtk_source_style_scheme_manager_get_scheme(
		schemes,
		adw_style_manager_get_dark(manager) ? "Adwaita-dark" : "Adwaita");
	if (scheme != NULL)
		gtk_source_buffer_set_style_scheme(self->buffer, scheme);
}

static void
aiq_designer_source_view_dark_changed_cb(AdwStyleManager *manager,
					 GParamSpec *pspec,
					 gpointer user_data)
{
	aiq_designer_source_view_update_scheme(AIQ_DESIGNER_SOURCE_VIEW(user_data));
}

static void
aiq_designer_source_view_dispose(GObject *object)
{
	AiqDesignerSourceView *self = AIQ_DESIGNER_SOURCE_VIEW(object);
	g_clear_handle_id(&self->apply_id, g_source_remove);
	g_clear_handle_id(&self->regenerate_id, g_source_remove);
	g_signal_handlers_disconnect_by_data(adw_style_manager_get_default(), self);
	if (self->document != NULL)
		g_signal_handlers_disconnect_by_data(self->document, self);
	g_clear_object(&self->document);
	G_OBJECT_CLASS(aiq_designer_source_view_parent_class)->dispose(object);
}

static void
aiq_designer_source_view_finalize(GObject *object)
{
	AiqDesignerSourceView *self = AIQ_DESIGNER_SOURCE_VIEW(object);
	g_free(self->error);
	G_OBJECT_CLASS(aiq_designer_source_view_parent_class)->finalize(object);
}

static void
aiq_designer_source_view_class_init(AiqDesignerSourceViewClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = aiq_designer_source_view_dispose;
	object_class->finalize = aiq_designer_source_view_finalize;
}

static void
aiq_designer_source_view_init(AiqDesignerSourceView *self)
{
	GtkSourceLanguageManager *languages = gtk_source_language_manager_get_default();
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *scrolled = gtk_scrolled_window_new();

	self->buffer = gtk_source_buffer_new(NULL);
	gtk_source_buffer_set_language(self->buffer,
				       gtk_source_language_manager_get_language(languages, "yaml"));
	/* undo goes through the document, from here as from the canvas */
	gtk_text_buffer_set_enable_undo(GTK_TEXT_BUFFER(self->buffer), FALSE);
	g_signal_connect(self->buffer,
			 "changed",
			 G_CALLBACK(aiq_designer_source_view_buffer_changed_cb),
			 self);

	self->view = GTK_SOURCE_VIEW(gtk_source_view_new_with_buffer(self->buffer));
	g_object_unref(self->buffer); /* the view holds it */
	gtk_text_view_set_monospace(GTK_TEXT_VIEW(self->view), TRUE);
	gtk_source_view_set_show_line_numbers(self->view, TRUE);
	gtk_source_view_set_highlight_current_line(self->view, TRUE);
	gtk_source_view_set_auto_indent(self->view, TRUE);
	gtk_source_view_set_insert_spaces_instead_of_tabs(self->view, TRUE);
	gtk_source_view_set_tab_width(self->view, 2);
	gtk_text_view_set_left_margin(GTK_TEXT_VIEW(self->view), 6);
	gtk_text_view_set_top_margin(GTK_TEXT_VIEW(self->view), 6);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), GTK_WIDGET(self->view));
	gtk_widget_set_vexpand(scrolled, TRUE);
	gtk_box_append(GTK_BOX(box), scrolled);

	self->error_label = GTK_LABEL(gtk_label_new(NULL));
	gtk_label_set_xalign(self->error_label, 0.0);
	gtk_label_set_wrap(self->error_label, TRUE);
	gtk_label_set_selectable(self->error_label, TRUE);
	gtk_widget_add_css_class(GTK_WIDGET(self->error_label), "error");
	gtk_widget_set_margin_top(GTK_WIDGET(self->error_label), 6);
	gtk_widget_set_margin_bottom(GTK_WIDGET(self->error_label), 6);
	gtk_widget_set_margin_start(GTK_WIDGET(self->error_label), 12);
	gtk_widget_set_margin_end(GTK_WIDGET(self->error_label), 12);
	self->error_revealer = GTK_REVEALER(gtk_revealer_new());
	gtk_revealer_set_child(self->error_revealer, GTK_WIDGET(self->error_label));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(self->error_revealer));
	adw_bin_set_child(ADW_BIN(self), box);

	aiq_designer_source_view_update_scheme(self);
	g_signal_connect(adw_style_manager_get_default(),
			 "notify::dark",
			 G_CALLBACK(aiq_designer_source_view_dark_changed_cb),
			 self);
}

GtkWidget *
aiq_designer_source_view_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_SOURCE_VIEW, NULL);
}
