/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>

#include "aiq-designer-util.h"
#include "aiq-designer-workflows-page.h"

struct _AiqDesignerWorkflowsPage {
	AdwBin parent_instance;
	AiqDesignerSession *session;
	GCancellable *cancellable;
	gchar *cursor; /* of the next page being fetched */
	guint n_workflows;
	gboolean loaded;

	GtkStack *page_stack; /* list ↔ editor */
	GtkSearchEntry *search_entry;
	GtkStack *list_stack; /* loading, list, empty, error */
	GtkSpinner *spinner;
	GtkListBox *list;
	AdwStatusPage *empty_page;
	GtkWidget *empty_new_button;
	AdwStatusPage *error_page;
	AiqDesignerEditor *editor;
};

G_DEFINE_TYPE(AiqDesignerWorkflowsPage, aiq_designer_workflows_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_SESSION,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

static void
aiq_designer_workflows_page_fetch(AiqDesignerWorkflowsPage *self);

/* the enabled switch of a row */

typedef struct {
	AiqDesignerWorkflowsPage *self;
	GtkSwitch *sw;
	gboolean enabled;
} AiqDesignerWorkflowsPageToggle;

static void
aiq_designer_workflows_page_toggle_free(AiqDesignerWorkflowsPageToggle *toggle)
{
	g_object_unref(toggle->self);
	g_object_unref(toggle->sw);
	g_free(toggle);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqDesignerWorkflowsPageToggle,
			      aiq_designer_workflows_page_toggle_free)

static void
aiq_designer_workflows_page_set_enabled_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerWorkflowsPageToggle) toggle = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	gtk_widget_set_sensitive(GTK_WIDGET(toggle->sw), TRUE);
	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		/* back to what the server has */
		g_object_set_data(G_OBJECT(toggle->sw), "reverting", GINT_TO_POINTER(TRUE));
		gtk_switch_set_active(toggle->sw, !toggle->enabled);
		gtk_switch_set_state(toggle->sw, !toggle->enabled);
		g_object_set_data(G_OBJECT(toggle->sw), "reverting", NULL);
		aiq_designer_show_error(GTK_WIDGET(toggle->self), error);
		return;
	}
	gtk_switch_set_state(toggle->sw, toggle->enabled);
}

static gboolean
aiq_designer_workflows_page_state_set_cb(GtkSwitch *sw, gboolean state, gpointer user_data)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(user_data);
	AiqDesignerWorkflowsPageToggle *toggle;
	const gchar *id = g_object_get_data(G_OBJECT(sw), "workflow-id");

	if (g_object_get_data(G_OBJECT(sw), "reverting") != NULL)
		return FALSE;
	toggle = g_new0(AiqDesignerWorkflowsPageToggle, 1);
	toggle->self = g_object_ref(self);
	toggle->sw = g_object_ref(sw);
	toggle->enabled = state;
	gtk_widget_set_sensitive(GTK_WIDGET(sw), FALSE);
	aiq_client_set_workflow_enabled_async(aiq_designer_session_get_client(self->session),
					      id,
					      state,
					      self->cancellable,
					      aiq_designer_workflows_page_set_enabled_cb,
					      toggle);
	/* the state follows when the server agrees */
	return TRUE;
}

/* the list */

static GtkWidget *
aiq_designer_workflows_page_create_row(AiqDesignerWorkflowsPage *self, JsonObject *item)
{
	GtkWidget *row = adw_action_row_new();
	GtkWidget *sw = gtk_switch_new();
	const gchar *id = json_object_get_string_member_with_default(item, "id", "");
	const gchar *name = json_object_get_string_member_with_default(item, "name", id);
	const gchar *updated = NULL;
	gint64 version = json_object_get_int_member_with_default(item, "version", 0);
	gboolean enabled = json_object_get_boolean_member_with_default(item, "enabled", FALSE);
	g_autofree gchar *when = NULL;
	g_autofree gchar *subtitle = NULL;

	if (json_object_has_member(item, "updated") &&
	    JSON_NODE_HOLDS_VALUE(json_object_get_member(item, "updated")))
		updated = json_object_get_string_member(item, "updated");
	if (updated == NULL)
		updated = json_object_get_string_member_with_default(item, "created", NULL);
	when = updated != NULL ? aiq_designer_format_time(updated) : NULL;
	if (when != NULL)
		/* TRANSLATORS: a workflow's version and when it last changed */
		subtitle = g_strdup_printf(_("Version %" PRId64 " · Updated %s"), version, when);
	else
		/* TRANSLATORS: %s is a version number */
		subtitle = g_strdup_printf(_("Version %" PRId64), version);

	gtk_widget_set_name(row, id);
	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), name);
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
	gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), TRUE);
	g_object_set_data_full(G_OBJECT(row), "workflow-id", g_strdup(id), g_free);

	gtk_widget_set_valign(sw, GTK_ALIGN_CENTER);
	gtk_switch_set_active(GTK_SWITCH(sw), enabled);
	gtk_switch_set_state(GTK_SWITCH(sw), enabled);
	gtk_widget_set_tooltip_text(sw, _("Enabled"));
	gtk_widget_set_sensitive(sw, aiq_designer_session_has_role(self->session, "editor"));
	g_object_set_data_full(G_OBJECT(sw), "workflow-id", g_strdup(id), g_free);
	g_signal_connect(sw,
			 "state-set",
			 G_CALLBACK(aiq_designer_workflows_page_state_set_cb),
			 self);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), sw);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row),
				  gtk_image_new_from_icon_name("go-next-symbolic"));
	return row;
}

static void
aiq_designer_workflows_page_clear(AiqDesignerWorkflowsPage *self)
{
	GtkWidget *child;
	while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->list))) != NULL)
		gtk_list_box_remove(self->list, child);
	self->n_workflows = 0;
}

static void
aiq_designer_workflows_page_show_list(AiqDesignerWorkflowsPage *self)
{
	const gchar *search = gtk_editable_get_text(GTK_EDITABLE(self->search_entry));
	gtk_spinner_stop(self->spinner);
	if (self->n_workflows > 0) {
		gtk_stack_set_visible_child_name(self->list_stack, "list");
		return;
	}
	if (search != NULL && search[0] != '\0') {
		adw_status_page_set_icon_name(self->empty_page, "edit-find-symbolic");
		adw_status_page_set_title(self->empty_page, _("No Matching Workflows"));
		adw_status_page_set_description(self->empty_page, NULL);
		gtk_widget_set_visible(self->empty_new_button, FALSE);
	} else {
		adw_status_page_set_icon_name(self->empty_page, "network-workgroup-symbolic");
		adw_status_page_set_title(self->empty_page, _("No workflows yet"));
		adw_status_page_set_description(self->empty_page,
						_("A workflow runs steps on agents, on a schedule, "
						  "a webhook or by hand"));
		gtk_widget_set_visible(self->empty_new_button, TRUE);
	}
	gtk_stack_set_visible_child_name(self->list_stack, "empty");
}

static void
aiq_designer_workflows_page_list_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerWorkflowsPage) self = AIQ_DESIGNER_WORKFLOWS_PAGE(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonObject *obj;
	JsonNode *items;
	JsonNode *next;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		if (aiq_designer_error_is_cancelled(error))
			return;
		gtk_spinner_stop(self->spinner);
		adw_status_page_set_description(self->error_page, error->message);
		gtk_stack_set_visible_child_name(self->list_stack, "error");
		return;
	}
	/* the first page replaces what was shown */
	if (self->cursor == NULL)
		aiq_designer_workflows_page_clear(self);
	g_clear_pointer(&self->cursor, g_free);
	obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
	items = obj != NULL ? json_object_get_member(obj, "items") : NULL;
	if (items != NULL && JSON_NODE_HOLDS_ARRAY(items)) {
		JsonArray *array = json_node_get_array(items);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonObject *item = json_array_get_object_element(array, i);
			if (item == NULL)
				continue;
			gtk_list_box_append(self->list,
					    aiq_designer_workflows_page_create_row(self, item));
			self->n_workflows++;
		}
	}
	self->loaded = TRUE;
	next = obj != NULL ? json_object_get_member(obj, "next_cursor") : NULL;
	if (next != NULL && JSON_NODE_HOLDS_VALUE(next) &&
	    json_node_get_value_type(next) == G_TYPE_STRING) {
		self->cursor = g_strdup(json_node_get_string(next));
		aiq_designer_workflows_page_fetch(self);
		return;
	}
	aiq_designer_workflows_page_show_list(self);
}

static void
aiq_designer_workflows_page_fetch(AiqDesignerWorkflowsPage *self)
{
	const gchar *search = gtk_editable_get_text(GTK_EDITABLE(self->search_entry));
	AiqClientWorkflowQuery query = {
		.search = search != NULL && search[0] != '\0' ? search : NULL,
		.cursor = self->cursor,
	};
	aiq_client_list_workflows_async(aiq_designer_session_get_client(self->session),
					&query,
					self->cancellable,
					aiq_designer_workflows_page_list_cb,
					g_object_ref(self));
}

void
aiq_designer_workflows_page_reload(AiqDesignerWorkflowsPage *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_WORKFLOWS_PAGE(self));

	gtk_widget_action_set_enabled(GTK_WIDGET(self),
				      "workflows.new",
				      aiq_designer_session_has_role(self->session, "editor"));
	if (!aiq_designer_session_get_logged_in(self->session))
		return;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	g_clear_pointer(&self->cursor, g_free);
	if (self->n_workflows == 0) {
		gtk_spinner_start(self->spinner);
		gtk_stack_set_visible_child_name(self->list_stack, "loading");
	}
	aiq_designer_workflows_page_fetch(self);
}

static void
aiq_designer_workflows_page_reload_action(GtkWidget *widget,
					  const gchar *action_name,
					  GVariant *param)
{
	aiq_designer_workflows_page_reload(AIQ_DESIGNER_WORKFLOWS_PAGE(widget));
}

static void
aiq_designer_workflows_page_search_changed_cb(GtkSearchEntry *entry, gpointer user_data)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(user_data);
	aiq_designer_workflows_page_clear(self);
	aiq_designer_workflows_page_reload(self);
}

/* list ↔ editor */

static void
aiq_designer_workflows_page_editor_back_cb(AiqDesignerEditor *editor, gpointer user_data);

/* the editor (canvas, source view, forms, palette) is built the first time
 * a workflow is opened, not with the page: it is most of the start-up cost */
static AiqDesignerEditor *
aiq_designer_workflows_page_ensure_editor(AiqDesignerWorkflowsPage *self)
{
	if (self->editor != NULL)
		return self->editor;
	self->editor = AIQ_DESIGNER_EDITOR(aiq_designer_editor_new(self->session));
	g_signal_connect(self->editor,
			 "back",
			 G_CALLBACK(aiq_designer_workflows_page_editor_back_cb),
			 self);
	gtk_stack_add_named(self->page_stack, GTK_WIDGET(self->editor), "editor");
	return self->editor;
}

static void
aiq_designer_workflows_page_show_editor(AiqDesignerWorkflowsPage *self)
{
	aiq_designer_workflows_page_ensure_editor(self);
	gtk_stack_set_visible_child_name(self->page_stack, "editor");
}

static void
aiq_designer_workflows_page_leave_editor(AiqDesignerWorkflowsPage *self)
{
	gtk_stack_set_visible_child_name(self->page_stack, "list");
	aiq_designer_workflows_page_reload(self);
}

/* what to do once unsaved changes may be dropped: open a workflow by id,
 * or (no id) go back to the list */
typedef struct {
	AiqDesignerWorkflowsPage *self;
	gchar *workflow_id;
} AiqDesignerWorkflowsPageLeave;

static void
aiq_designer_workflows_page_leave_free(AiqDesignerWorkflowsPageLeave *leave)
{
	g_object_unref(leave->self);
	g_free(leave->workflow_id);
	g_free(leave);
}

static void
aiq_designer_workflows_page_leave_closure_free(gpointer data, GClosure *closure)
{
	aiq_designer_workflows_page_leave_free(data);
}

static void
aiq_designer_workflows_page_do_leave(AiqDesignerWorkflowsPage *self, const gchar *workflow_id)
{
	if (workflow_id == NULL) {
		aiq_designer_workflows_page_leave_editor(self);
		return;
	}
	aiq_designer_editor_load_workflow(aiq_designer_workflows_page_ensure_editor(self),
					  workflow_id);
	aiq_designer_workflows_page_show_editor(self);
}

static void
aiq_designer_workflows_page_discard_cb(AdwMessageDialog *dialog,
				       const gchar *response,
				       gpointer user_data)
{
	AiqDesignerWorkflowsPageLeave *leave = user_data;
	if (g_strcmp0(response, "discard") == 0)
		aiq_designer_workflows_page_do_leave(leave->self, leave->workflow_id);
}

/* leaves the editor, or opens another workflow in it, after asking when
 * the workflow being edited has unsaved changes */
static void
aiq_designer_workflows_page_leave(AiqDesignerWorkflowsPage *self, const gchar *workflow_id)
{
	AiqDesignerDocument *document =
		self->editor != NULL ? aiq_designer_editor_get_document(self->editor) : NULL;
	gboolean editing = aiq_designer_workflows_page_get_editing(self);
	AiqDesignerWorkflowsPageLeave *leave;
	AdwMessageDialog *dialog;
	GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));

	if (!editing || document == NULL || !aiq_designer_document_get_modified(document) ||
	    (workflow_id != NULL &&
	     g_strcmp0(workflow_id, aiq_designer_editor_get_workflow_id(self->editor)) == 0)) {
		if (editing && workflow_id != NULL &&
		    g_strcmp0(workflow_id, aiq_designer_editor_get_workflow_id(self->editor)) == 0)
			return;
		aiq_designer_workflows_page_do_leave(self, workflow_id);
		return;
	}
	dialog = ADW_MESSAGE_DIALOG(adw_message_dialog_new(
		GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
		_("Discard Unsaved Changes?"),
		_("The changes made to this workflow since it was last saved "
		  "will be lost.")));
	adw_message_dialog_add_responses(dialog,
					 "cancel",
					 _("_Cancel"),
					 "discard",
					 _("_Discard"),
					 NULL);
	adw_message_dialog_set_response_appearance(dialog, "discard", ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_default_response(dialog, "cancel");
	adw_message_dialog_set_close_response(dialog, "cancel");
	leave = g_new0(AiqDesignerWorkflowsPageLeave, 1);
	leave->self = g_object_ref(self);
	leave->workflow_id = g_strdup(workflow_id);
	g_signal_connect_data(dialog,
			      "response",
			      G_CALLBACK(aiq_designer_workflows_page_discard_cb),
			      leave,
			      aiq_designer_workflows_page_leave_closure_free,
			      0);
	gtk_window_present(GTK_WINDOW(dialog));
}

void
aiq_designer_workflows_page_open_workflow(AiqDesignerWorkflowsPage *self, const gchar *workflow_id)
{
	g_return_if_fail(AIQ_DESIGNER_IS_WORKFLOWS_PAGE(self));
	g_return_if_fail(workflow_id != NULL);
	aiq_designer_workflows_page_leave(self, workflow_id);
}

static void
aiq_designer_workflows_page_editor_back_cb(AiqDesignerEditor *editor, gpointer user_data)
{
	aiq_designer_workflows_page_leave(AIQ_DESIGNER_WORKFLOWS_PAGE(user_data), NULL);
}

static void
aiq_designer_workflows_page_row_activated_cb(GtkListBox *list,
					     GtkListBoxRow *row,
					     gpointer user_data)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(user_data);
	const gchar *id = g_object_get_data(G_OBJECT(row), "workflow-id");
	if (id != NULL)
		aiq_designer_workflows_page_open_workflow(self, id);
}

/* a new workflow */

static gboolean
aiq_designer_workflows_page_name_is_valid(const gchar *name)
{
	gsize len = strlen(name);
	if (len == 0 || len > 128)
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.' && *p != '-')
			return FALSE;
	}
	return TRUE;
}

static void
aiq_designer_workflows_page_name_changed_cb(GtkEditable *entry, gpointer user_data)
{
	AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG(user_data);
	gboolean valid = aiq_designer_workflows_page_name_is_valid(gtk_editable_get_text(entry));
	adw_message_dialog_set_response_enabled(dialog, "create", valid);
	if (valid || gtk_editable_get_text(entry)[0] == '\0')
		gtk_widget_remove_css_class(GTK_WIDGET(entry), "error");
	else
		gtk_widget_add_css_class(GTK_WIDGET(entry), "error");
}

static void
aiq_designer_workflows_page_name_activate_cb(GtkEntry *entry, gpointer user_data)
{
	AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG(user_data);
	if (adw_message_dialog_get_response_enabled(dialog, "create"))
		adw_message_dialog_response(dialog, "create");
}

static void
aiq_designer_workflows_page_new_response_cb(AdwMessageDialog *dialog,
					    const gchar *response,
					    gpointer user_data)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(user_data);
	GtkWidget *entry = adw_message_dialog_get_extra_child(dialog);
	const gchar *name = gtk_editable_get_text(GTK_EDITABLE(entry));
	if (g_strcmp0(response, "create") != 0 || !aiq_designer_workflows_page_name_is_valid(name))
		return;
	aiq_designer_editor_new_workflow(aiq_designer_workflows_page_ensure_editor(self), name);
	aiq_designer_workflows_page_show_editor(self);
}

static void
aiq_designer_workflows_page_new_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(widget);
	GtkRoot *root = gtk_widget_get_root(widget);
	AdwMessageDialog *dialog;
	GtkWidget *entry = gtk_entry_new();

	dialog = ADW_MESSAGE_DIALOG(
		adw_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
				       _("New Workflow"),
				       _("Letters, digits, dots, dashes and underscores")));
	gtk_entry_set_placeholder_text(GTK_ENTRY(entry), _("Name"));
	gtk_entry_set_activates_default(GTK_ENTRY(entry), FALSE);
	adw_message_dialog_set_extra_child(dialog, entry);
	adw_message_dialog_add_responses(dialog,
					 "cancel",
					 _("_Cancel"),
					 "create",
					 _("C_reate"),
					 NULL);
	adw_message_dialog_set_response_appearance(dialog, "create", ADW_RESPONSE_SUGGESTED);
	adw_message_dialog_set_response_enabled(dialog, "create", FALSE);
	adw_message_dialog_set_default_response(dialog, "create");
	adw_message_dialog_set_close_response(dialog, "cancel");
	g_signal_connect(entry,
			 "changed",
			 G_CALLBACK(aiq_designer_workflows_page_name_changed_cb),
			 dialog);
	g_signal_connect(entry,
			 "activate",
			 G_CALLBACK(aiq_designer_workflows_page_name_activate_cb),
			 dialog);
	g_signal_connect_object(dialog,
				"response",
				G_CALLBACK(aiq_designer_workflows_page_new_response_cb),
				self,
				0);
	gtk_window_present(GTK_WINDOW(dialog));
	gtk_widget_grab_focus(entry);
}

/* for tests and the window; builds the editor when not yet built */

AiqDesignerEditor *
aiq_designer_workflows_page_get_editor(AiqDesignerWorkflowsPage *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_WORKFLOWS_PAGE(self), NULL);
	return aiq_designer_workflows_page_ensure_editor(self);
}

/* whether the editor is shown rather than the list */
gboolean
aiq_designer_workflows_page_get_editing(AiqDesignerWorkflowsPage *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_WORKFLOWS_PAGE(self), FALSE);
	return g_strcmp0(gtk_stack_get_visible_child_name(self->page_stack), "editor") == 0;
}

guint
aiq_designer_workflows_page_get_n_workflows(AiqDesignerWorkflowsPage *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_WORKFLOWS_PAGE(self), 0);
	return self->n_workflows;
}

/**
 * aiq_designer_workflows_page_get_row:
 *
 * Returns: (transfer none) (nullable): the row of the workflow
 */
GtkListBoxRow *
aiq_designer_workflows_page_get_row(AiqDesignerWorkflowsPage *self, const gchar *workflow_id)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_WORKFLOWS_PAGE(self), NULL);
	for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(self->list)); child != NULL;
	     child = gtk_widget_get_next_sibling(child)) {
		if (GTK_IS_LIST_BOX_ROW(child) &&
		    g_strcmp0(g_object_get_data(G_OBJECT(child), "workflow-id"), workflow_id) == 0)
			return GTK_LIST_BOX_ROW(child);
	}
	return NULL;
}

static void
aiq_designer_workflows_page_reconnected_cb(AiqDesignerSession *session, gpointer user_data)
{
	aiq_designer_workflows_page_reload(AIQ_DESIGNER_WORKFLOWS_PAGE(user_data));
}

static void
aiq_designer_workflows_page_role_cb(AiqDesignerSession *session,
				    GParamSpec *pspec,
				    gpointer user_data)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(user_data);
	gtk_widget_action_set_enabled(GTK_WIDGET(self),
				      "workflows.new",
				      aiq_designer_session_has_role(self->session, "editor"));
}

static void
aiq_designer_workflows_page_get_property(GObject *object,
					 guint prop_id,
					 GValue *value,
					 GParamSpec *pspec)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(object);
	switch (prop_id) {
	case PROP_SESSION:
		g_value_set_object(value, self->session);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_workflows_page_set_property(GObject *object,
					 guint prop_id,
					 const GValue *value,
					 GParamSpec *pspec)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(object);
	switch (prop_id) {
	case PROP_SESSION:
		self->session = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static GtkWidget *
aiq_designer_workflows_page_new_button(void)
{
	GtkWidget *button = gtk_button_new_with_mnemonic(_("_New Workflow"));
	gtk_actionable_set_action_name(GTK_ACTIONABLE(button), "workflows.new");
	gtk_widget_add_css_class(button, "suggested-action");
	return button;
}

static void
aiq_designer_workflows_page_constructed(GObject *object)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(object);
	GtkWidget *list_box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *toolbar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *scrolled = gtk_scrolled_window_new();
	GtkWidget *clamp = adw_clamp_new();
	GtkWidget *retry = gtk_button_new_with_mnemonic(_("_Retry"));

	G_OBJECT_CLASS(aiq_designer_workflows_page_parent_class)->constructed(object);

	/* the list */
	self->search_entry = GTK_SEARCH_ENTRY(gtk_search_entry_new());
	gtk_widget_set_hexpand(GTK_WIDGET(self->search_entry), TRUE);
	g_object_set(self->search_entry, "placeholder-text", _("Search workflows"), NULL);
	g_signal_connect(self->search_entry,
			 "search-changed",
			 G_CALLBACK(aiq_designer_workflows_page_search_changed_cb),
			 self);
	gtk_widget_set_margin_top(toolbar, 12);
	gtk_widget_set_margin_bottom(toolbar, 6);
	gtk_widget_set_margin_start(toolbar, 12);
	gtk_widget_set_margin_end(toolbar, 12);
	gtk_box_append(GTK_BOX(toolbar), GTK_WIDGET(self->search_entry));
	gtk_box_append(GTK_BOX(toolbar), aiq_designer_workflows_page_new_button());
	gtk_box_append(GTK_BOX(list_box), toolbar);

	self->list_stack = GTK_STACK(gtk_stack_new());
	gtk_widget_set_vexpand(GTK_WIDGET(self->list_stack), TRUE);

	self->spinner = GTK_SPINNER(gtk_spinner_new());
	gtk_widget_set_size_request(GTK_WIDGET(self->spinner), 32, 32);
	gtk_widget_set_halign(GTK_WIDGET(self->spinner), GTK_ALIGN_CENTER);
	gtk_widget_set_valign(GTK_WIDGET(self->spinner), GTK_ALIGN_CENTER);
	gtk_stack_add_named(self->list_stack, GTK_WIDGET(self->spinner), "loading");

	self->list = GTK_LIST_BOX(gtk_list_box_new());
	gtk_widget_set_name(GTK_WIDGET(self->list), "workflows-list");
	gtk_widget_add_css_class(GTK_WIDGET(self->list), "boxed-list");
	gtk_list_box_set_selection_mode(self->list, GTK_SELECTION_NONE);
	gtk_widget_set_valign(GTK_WIDGET(self->list), GTK_ALIGN_START);
	gtk_widget_set_margin_top(GTK_WIDGET(self->list), 6);
	gtk_widget_set_margin_bottom(GTK_WIDGET(self->list), 24);
	gtk_widget_set_margin_start(GTK_WIDGET(self->list), 12);
	gtk_widget_set_margin_end(GTK_WIDGET(self->list), 12);
	g_signal_connect(self->list,
			 "row-activated",
			 G_CALLBACK(aiq_designer_workflows_page_row_activated_cb),
			 self);
	adw_clamp_set_maximum_size(ADW_CLAMP(clamp), 900);
	adw_clamp_set_child(ADW_CLAMP(clamp), GTK_WIDGET(self->list));
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scrolled),
				       GTK_POLICY_NEVER,
				       GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), clamp);
	gtk_stack_add_named(self->list_stack, scrolled, "list");

	self->empty_page = ADW_STATUS_PAGE(adw_status_page_new());
	self->empty_new_button = aiq_designer_workflows_page_new_button();
	gtk_widget_set_halign(self->empty_new_button, GTK_ALIGN_CENTER);
	gtk_widget_add_css_class(self->empty_new_button, "pill");
	adw_status_page_set_child(self->empty_page, self->empty_new_button);
	gtk_stack_add_named(self->list_stack, GTK_WIDGET(self->empty_page), "empty");

	self->error_page = ADW_STATUS_PAGE(adw_status_page_new());
	adw_status_page_set_icon_name(self->error_page, "dialog-error-symbolic");
	adw_status_page_set_title(self->error_page, _("Cannot Load the Workflows"));
	gtk_actionable_set_action_name(GTK_ACTIONABLE(retry), "workflows.reload");
	gtk_widget_set_halign(retry, GTK_ALIGN_CENTER);
	gtk_widget_add_css_class(retry, "pill");
	adw_status_page_set_child(self->error_page, retry);
	gtk_stack_add_named(self->list_stack, GTK_WIDGET(self->error_page), "error");
	gtk_stack_set_visible_child_name(self->list_stack, "loading");
	gtk_box_append(GTK_BOX(list_box), GTK_WIDGET(self->list_stack));

	/* the editor is added by aiq_designer_workflows_page_ensure_editor() */
	self->page_stack = GTK_STACK(gtk_stack_new());
	gtk_stack_set_transition_type(self->page_stack, GTK_STACK_TRANSITION_TYPE_NONE);
	gtk_stack_add_named(self->page_stack, list_box, "list");
	gtk_stack_set_visible_child_name(self->page_stack, "list");
	adw_bin_set_child(ADW_BIN(self), GTK_WIDGET(self->page_stack));

	g_signal_connect_object(self->session,
				"reconnected",
				G_CALLBACK(aiq_designer_workflows_page_reconnected_cb),
				self,
				0);
	g_signal_connect_object(self->session,
				"notify::role",
				G_CALLBACK(aiq_designer_workflows_page_role_cb),
				self,
				0);
	aiq_designer_workflows_page_role_cb(self->session, NULL, self);
}

static void
aiq_designer_workflows_page_dispose(GObject *object)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(aiq_designer_workflows_page_parent_class)->dispose(object);
}

static void
aiq_designer_workflows_page_finalize(GObject *object)
{
	AiqDesignerWorkflowsPage *self = AIQ_DESIGNER_WORKFLOWS_PAGE(object);
	g_free(self->cursor);
	G_OBJECT_CLASS(aiq_designer_workflows_page_parent_class)->finalize(object);
}

static void
aiq_designer_workflows_page_class_init(AiqDesignerWorkflowsPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = aiq_designer_workflows_page_get_property;
	object_class->set_property = aiq_designer_workflows_page_set_property;
	object_class->constructed = aiq_designer_workflows_page_constructed;
	object_class->dispose = aiq_designer_workflows_page_dispose;
	object_class->finalize = aiq_designer_workflows_page_finalize;
	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	gtk_widget_class_install_action(widget_class,
					"workflows.new",
					NULL,
					aiq_designer_workflows_page_new_action);
	gtk_widget_class_install_action(widget_class,
					"workflows.reload",
					NULL,
					aiq_designer_workflows_page_reload_action);
}

static void
aiq_designer_workflows_page_init(AiqDesignerWorkflowsPage *self)
{
}

GtkWidget *
aiq_designer_workflows_page_new(AiqDesignerSession *session)
{
	return g_object_new(AIQ_DESIGNER_TYPE_WORKFLOWS_PAGE, "session", session, NULL);
}
