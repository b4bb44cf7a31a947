/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>
#include <gtksourceview/gtksource.h>

#include "aiq-designer-util.h"
#include "aiq-designer-versions-dialog.h"

struct _AiqDesignerVersionsDialog {
	AdwWindow parent_instance;
	AiqDesignerSession *session;
	gchar *workflow_id;
	gint current_version;
	gint selected_version;
	guint n_versions;
	GCancellable *cancellable;
	GCancellable *diff_cancellable;
	AdwWindowTitle *window_title;
	GtkStack *stack;
	GtkSpinner *spinner;
	AdwStatusPage *error_page;
	GtkListBox *list;
	GtkLabel *diff_title;
	GtkSourceView *diff_view;
	GtkButton *restore_button;
};

G_DEFINE_TYPE(AiqDesignerVersionsDialog, aiq_designer_versions_dialog, ADW_TYPE_WINDOW)

enum {
	SIGNAL_RESTORED,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

static void
aiq_designer_versions_dialog_set_diff_text(AiqDesignerVersionsDialog *self, const gchar *text)
{
	GtkTextBuffer *buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->diff_view));
	gtk_text_buffer_set_text(buffer, text, -1);
}

static gchar *
aiq_designer_versions_dialog_value_to_string(JsonNode *node)
{
	if (node == NULL)
		return g_strdup("");
	return json_to_string(node, FALSE);
}

/* the server's structured changes as a unified-diff-like text */
static gchar *
aiq_designer_versions_dialog_format_diff(JsonObject *obj)
{
	GString *str = g_string_new(NULL);
	JsonArray *changes = NULL;
	if (json_object_has_member(obj, "changes") &&
	    JSON_NODE_HOLDS_ARRAY(json_object_get_member(obj, "changes")))
		changes = json_object_get_array_member(obj, "changes");
	g_string_append_printf(str,
			       "--- version %" G_GINT64_FORMAT "\n+++ version %" G_GINT64_FORMAT
			       "\n",
			       json_object_get_int_member_with_default(obj, "from", 0),
			       json_object_get_int_member_with_default(obj, "to", 0));
	for (guint i = 0; changes != NULL && i < json_array_get_length(changes); i++) {
		JsonObject *change = json_array_get_object_element(changes, i);
		const gchar *op;
		const gchar *path;
		if (change == NULL)
			continue;
		op = json_object_get_string_member_with_default(change, "op", "changed");
		path = json_object_get_string_member_with_default(change, "path", "");
		g_string_append_printf(str, "@@ %s @@\n", path);
		if (g_strcmp0(op, "added") != 0) {
			g_autofree gchar *from = aiq_designer_versions_dialog_value_to_string(
				json_object_get_member(change, "from"));
			g_string_append_printf(str, "-%s\n", from);
		}
		if (g_strcmp0(op, "removed") != 0) {
			g_autofree gchar *to = aiq_designer_versions_dialog_value_to_string(
				json_object_get_member(change, "to"));
			g_string_append_printf(str, "+%s\n", to);
		}
	}
	return g_string_free(str, FALSE);
}

static void
aiq_designer_versions_dialog_diff_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerVersionsDialog) self = AIQ_DESIGNER_VERSIONS_DIALOG(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *text = NULL;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		if (aiq_designer_error_is_cancelled(error))
			return;
		aiq_designer_versions_dialog_set_diff_text(self, error->message);
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return;
	text = aiq_designer_versions_dialog_format_diff(json_node_get_object(node));
	aiq_designer_versions_dialog_set_diff_text(self, text);
}

static void
aiq_designer_versions_dialog_show_version(AiqDesignerVersionsDialog *self, gint version)
{
	g_autofree gchar *title = NULL;

	g_cancellable_cancel(self->diff_cancellable);
	g_clear_object(&self->diff_cancellable);
	self->selected_version = version;
	gtk_widget_action_set_enabled(GTK_WIDGET(self),
				      "versions.restore",
				      version > 0 && version != self->current_version);
	if (version <= 0) {
		gtk_label_set_text(self->diff_title, "");
		aiq_designer_versions_dialog_set_diff_text(self, "");
		return;
	}
	if (version == self->current_version) {
		/* TRANSLATORS: %d is a version number */
		title = g_strdup_printf(_("Version %d is the current version"), version);
		gtk_label_set_text(self->diff_title, title);
		aiq_designer_versions_dialog_set_diff_text(self, "");
		return;
	}
	/* TRANSLATORS: the changes from an old version to the current one */
	title = g_strdup_printf(_("Changes from version %d to version %d"),
				version,
				self->current_version);
	gtk_label_set_text(self->diff_title, title);
	aiq_designer_versions_dialog_set_diff_text(self, "");
	self->diff_cancellable = g_cancellable_new();
	aiq_client_diff_workflow_async(aiq_designer_session_get_client(self->session),
				       self->workflow_id,
				       version,
				       self->current_version,
				       self->diff_cancellable,
				       aiq_designer_versions_dialog_diff_cb,
				       g_object_ref(self));
}

static void
aiq_designer_versions_dialog_row_selected_cb(GtkListBox *list,
					     GtkListBoxRow *row,
					     AiqDesignerVersionsDialog *self)
{
	gint version = 0;
	if (row != NULL)
		version = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "version"));
	aiq_designer_versions_dialog_show_version(self, version);
}

static GtkWidget *
aiq_designer_versions_dialog_create_row(AiqDesignerVersionsDialog *self, JsonObject *item)
{
	GtkWidget *row = gtk_list_box_row_new();
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 3);
	GtkWidget *title;
	GtkWidget *subtitle;
	gint version = (gint)json_object_get_int_member_with_default(item, "version", 0);
	const gchar *author = NULL;
	g_autofree gchar *title_text = NULL;
	g_autofree gchar *created = NULL;
	g_autofree gchar *subtitle_text = NULL;

	if (json_object_has_member(item, "author") &&
	    JSON_NODE_HOLDS_VALUE(json_object_get_member(item, "author")))
		author = json_object_get_string_member(item, "author");
	created = aiq_designer_format_time(
		json_object_get_string_member_with_default(item, "created", NULL));
	if (version == self->current_version)
		/* TRANSLATORS: %d is a version number */
		title_text = g_strdup_printf(_("Version %d (current)"), version);
	else
		/* TRANSLATORS: %d is a version number */
		title_text = g_strdup_printf(_("Version %d"), version);
	if (author != NULL && author[0] != '\0')
		/* TRANSLATORS: when a version was saved, and by whom */
		subtitle_text =
			g_strdup_printf(_("%s by %s"), created != NULL ? created : "", author);
	else
		subtitle_text = g_strdup(created != NULL ? created : "");

	title = gtk_label_new(title_text);
	subtitle = gtk_label_new(subtitle_text);
	gtk_label_set_xalign(GTK_LABEL(title), 0.0);
	gtk_label_set_xalign(GTK_LABEL(subtitle), 0.0);
	gtk_label_set_ellipsize(GTK_LABEL(subtitle), PANGO_ELLIPSIZE_END);
	gtk_widget_add_css_class(subtitle, "dim-label");
	gtk_widget_add_css_class(subtitle, "caption");
	gtk_widget_set_margin_top(box, 6);
	gtk_widget_set_margin_bottom(box, 6);
	gtk_box_append(GTK_BOX(box), title);
	gtk_box_append(GTK_BOX(box), subtitle);
	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
	g_object_set_data(G_OBJECT(row), "version", GINT_TO_POINTER(version));
	return row;
}

static void
aiq_designer_versions_dialog_list_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerVersionsDialog) self = AIQ_DESIGNER_VERSIONS_DIALOG(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonArray *items = NULL;
	GtkWidget *child;

	gtk_spinner_stop(self->spinner);
	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		if (aiq_designer_error_is_cancelled(error))
			return;
		adw_status_page_set_description(self->error_page, error->message);
		gtk_stack_set_visible_child_name(self->stack, "error");
		return;
	}
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonNode *items_node = json_object_get_member(json_node_get_object(node), "items");
		if (items_node != NULL && JSON_NODE_HOLDS_ARRAY(items_node))
			items = json_node_get_array(items_node);
	}
	while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->list))) != NULL)
		gtk_list_box_remove(self->list, child);
	self->n_versions = 0;
	/* newest first */
	for (guint i = items != NULL ? json_array_get_length(items) : 0; i > 0; i--) {
		JsonObject *item = json_array_get_object_element(items, i - 1);
		gint version;
		if (item == NULL)
			continue;
		version = (gint)json_object_get_int_member_with_default(item, "version", 0);
		if (version > self->current_version)
			self->current_version = version;
	}
	for (guint i = items != NULL ? json_array_get_length(items) : 0; i > 0; i--) {
		JsonObject *item = json_array_get_object_element(items, i - 1);
		if (item == NULL)
			continue;
		gtk_list_box_append(self->list,
				    aiq_designer_versions_dialog_create_row(self, item));
		self->n_versions++;
	}
	gtk_stack_set_visible_child_name(self->stack, "versions");
	aiq_designer_versions_dialog_show_version(self, 0);
}

static void
aiq_designer_versions_dialog_reload(AiqDesignerVersionsDialog *self)
{
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	gtk_stack_set_visible_child_name(self->stack, "loading");
	gtk_spinner_start(self->spinner);
	aiq_client_list_workflow_versions_async(aiq_designer_session_get_client(self->session),
						self->workflow_id,
						self->cancellable,
						aiq_designer_versions_dialog_list_cb,
						g_object_ref(self));
}

static void
aiq_designer_versions_dialog_reload_action(GtkWidget *widget,
					   const gchar *action_name,
					   GVariant *param)
{
	aiq_designer_versions_dialog_reload(AIQ_DESIGNER_VERSIONS_DIALOG(widget));
}

static void
aiq_designer_versions_dialog_rollback_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerVersionsDialog) self = AIQ_DESIGNER_VERSIONS_DIALOG(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	gint version = 0;

	gtk_widget_set_sensitive(GTK_WIDGET(self->restore_button), TRUE);
	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		if (aiq_designer_error_is_cancelled(error))
			return;
		aiq_designer_show_error(
			gtk_window_get_transient_for(GTK_WINDOW(self)) != NULL
				? GTK_WIDGET(gtk_window_get_transient_for(GTK_WINDOW(self)))
				: GTK_WIDGET(self),
			error);
		aiq_designer_versions_dialog_set_diff_text(self, error->message);
		return;
	}
	if (JSON_NODE_HOLDS_OBJECT(node))
		version = (gint)json_object_get_int_member_with_default(json_node_get_object(node),
									"version",
									0);
	g_signal_emit(self, signals[SIGNAL_RESTORED], 0, version);
	gtk_window_close(GTK_WINDOW(self));
}

static void
aiq_designer_versions_dialog_confirm_cb(AdwMessageDialog *dialog,
					const gchar *response,
					gpointer user_data)
{
	AiqDesignerVersionsDialog *self = AIQ_DESIGNER_VERSIONS_DIALOG(user_data);
	gint version = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(dialog), "version"));
	if (g_strcmp0(response, "restore") != 0)
		return;
	if (self->cancellable == NULL)
		self->cancellable = g_cancellable_new();
	gtk_widget_set_sensitive(GTK_WIDGET(self->restore_button), FALSE);
	aiq_client_rollback_workflow_async(aiq_designer_session_get_client(self->session),
					   self->workflow_id,
					   version,
					   self->cancellable,
					   aiq_designer_versions_dialog_rollback_cb,
					   g_object_ref(self));
}

static void
aiq_designer_versions_dialog_restore_action(GtkWidget *widget,
					    const gchar *action_name,
					    GVariant *param)
{
	AiqDesignerVersionsDialog *self = AIQ_DESIGNER_VERSIONS_DIALOG(widget);
	AdwMessageDialog *dialog;
	g_autofree gchar *heading = NULL;

	if (self->selected_version <= 0)
		return;
	/* TRANSLATORS: %d is a version number */
	heading = g_strdup_printf(_("Restore Version %d?"), self->selected_version);
	dialog = ADW_MESSAGE_DIALOG(adw_message_dialog_new(
		GTK_WINDOW(self),
		heading,
		_("A new version equal to this one is saved and becomes the current version. "
		  "Unsaved changes in the editor are lost.")));
	adw_message_dialog_add_responses(dialog,
					 "cancel",
					 _("_Cancel"),
					 "restore",
					 _("_Restore"),
					 NULL);
	adw_message_dialog_set_response_appearance(dialog, "restore", ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_default_response(dialog, "cancel");
	adw_message_dialog_set_close_response(dialog, "cancel");
	g_object_set_data(G_OBJECT(dialog), "version", GINT_TO_POINTER(self->selected_version));
	g_signal_connect_object(dialog,
				"response",
				G_CALLBACK(aiq_designer_versions_dialog_confirm_cb),
				self,
				0);
	gtk_window_present(GTK_WINDOW(dialog));
}

guint
aiq_designer_versions_dialog_get_n_versions(AiqDesignerVersionsDialog *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_VERSIONS_DIALOG(self), 0);
	return self->n_versions;
}

/**
 * aiq_designer_versions_dialog_select_version:
 *
 * Selects the row of @version, as a click would.
 *
 * Returns: %FALSE when the list has no such version
 */
gboolean
aiq_designer_versions_dialog_select_version(AiqDesignerVersionsDialog *self, gint version)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_VERSIONS_DIALOG(self), FALSE);
	for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(self->list)); child != NULL;
	     child = gtk_widget_get_next_sibling(child)) {
		if (GTK_IS_LIST_BOX_ROW(child) &&
		    GPOINTER_TO_INT(g_object_get_data(G_OBJECT(child), "version")) == version) {
			gtk_list_box_select_row(self->list, GTK_LIST_BOX_ROW(child));
			return TRUE;
		}
	}
	return FALSE;
}

gchar *
aiq_designer_versions_dialog_dup_diff(AiqDesignerVersionsDialog *self)
{
	GtkTextBuffer *buffer;
	GtkTextIter start, end;
	g_return_val_if_fail(AIQ_DESIGNER_IS_VERSIONS_DIALOG(self), NULL);
	buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->diff_view));
	gtk_text_buffer_get_bounds(buffer, &start, &end);
	return gtk_text_buffer_get_text(buffer, &start, &end, FALSE);
}

static void
aiq_designer_versions_dialog_update_scheme(AiqDesignerVersionsDialog *self)
{
	GtkSourceStyleScheme *scheme = gtk_source_style_scheme_manager_get_scheme(
		gtk_source_style_scheme_manager_get_default(),
		adw_style_manager_get_dark(adw_style_manager_get_default()) ? "Adwaita-dark"
									    : "Adwaita");
	GtkTextBuffer *buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->diff_view));
	if (scheme != NULL)
		gtk_source_buffer_set_style_scheme(GTK_SOURCE_BUFFER(buffer), scheme);
}

static void
aiq_designer_versions_dialog_dark_changed_cb(AdwStyleManager *manager,
					     GParamSpec *pspec,
					     gpointer user_data)
{
	aiq_designer_versions_dialog_update_scheme(AIQ_DESIGNER_VERSIONS_DIALOG(user_data));
}

static void
aiq_designer_versions_dialog_dispose(GObject *object)
{
	AiqDesignerVersionsDialog *self = AIQ_DESIGNER_VERSIONS_DIALOG(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_cancellable_cancel(self->diff_cancellable);
	g_clear_object(&self->diff_cancellable);
	g_signal_handlers_disconnect_by_data(adw_style_manager_get_default(), self);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(aiq_designer_versions_dialog_parent_class)->dispose(object);
}

static void
aiq_designer_versions_dialog_finalize(GObject *object)
{
	AiqDesignerVersionsDialog *self = AIQ_DESIGNER_VERSIONS_DIALOG(object);
	g_free(self->workflow_id);
	G_OBJECT_CLASS(aiq_designer_versions_dialog_parent_class)->finalize(object);
}

static void
aiq_designer_versions_dialog_class_init(AiqDesignerVersionsDialogClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = aiq_designer_versions_dialog_dispose;
	object_class->finalize = aiq_designer_versions_dialog_finalize;

	/**
	 * AiqDesignerVersionsDialog::restored:
	 * @version: the new current version, equal to the one restored
	 */
	signals[SIGNAL_RESTORED] = g_signal_new("restored",
						G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST,
						0,
						NULL,
						NULL,
						NULL,
						G_TYPE_NONE,
						1,
						G_TYPE_INT);

	g_type_ensure(GTK_SOURCE_TYPE_VIEW);
	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-versions-dialog.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerVersionsDialog, window_title);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerVersionsDialog, stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerVersionsDialog, spinner);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerVersionsDialog, error_page);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerVersionsDialog, list);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerVersionsDialog, diff_title);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerVersionsDialog, diff_view);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerVersionsDialog,
					     restore_button);
	gtk_widget_class_bind_template_callback(widget_class,
						aiq_designer_versions_dialog_row_selected_cb);
	gtk_widget_class_install_action(widget_class,
					"versions.reload",
					NULL,
					aiq_designer_versions_dialog_reload_action);
	gtk_widget_class_install_action(widget_class,
					"versions.restore",
					NULL,
					aiq_designer_versions_dialog_restore_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
aiq_designer_versions_dialog_init(AiqDesignerVersionsDialog *self)
{
	GtkSourceLanguageManager *languages = gtk_source_language_manager_get_default();
	GtkTextBuffer *buffer;

	gtk_widget_init_template(GTK_WIDGET(self));
	buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->diff_view));
	gtk_source_buffer_set_language(GTK_SOURCE_BUFFER(buffer),
				       gtk_source_language_manager_get_language(languages, "diff"));
	aiq_designer_versions_dialog_update_scheme(self);
	g_signal_connect(adw_style_manager_get_default(),
			 "notify::dark",
			 G_CALLBACK(aiq_designer_versions_dialog_dark_changed_cb),
			 self);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "versions.restore", FALSE);
}

GtkWidget *
aiq_designer_versions_dialog_new(GtkWidget *parent,
				 AiqDesignerSession *session,
				 const gchar *workflow_id,
				 gint current_version)
{
	AiqDesignerVersionsDialog *self;
	GtkRoot *root = parent != NULL ? gtk_widget_get_root(parent) : NULL;

	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(session), NULL);
	g_return_val_if_fail(workflow_id != NULL, NULL);

	self = g_object_new(AIQ_DESIGNER_TYPE_VERSIONS_DIALOG, NULL);
	if (root != NULL && GTK_IS_WINDOW(root))
		gtk_window_set_transient_for(GTK_WINDOW(self), GTK_WINDOW(root));
	self->session = g_object_ref(session);
	self->workflow_id = g_strdup(workflow_id);
	self->current_version = current_version;
	aiq_designer_versions_dialog_reload(self);
	return GTK_WIDGET(self);
}
