/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-editor.h"
#include "aiq-designer-local-agent.h"
#include "aiq-designer-run-dialog.h"
#include "aiq-designer-step-form.h"
#include "aiq-designer-test-step-dialog.h"
#include "aiq-designer-util.h"
#include "aiq-designer-versions-dialog.h"
#include "aiq-designer-workflow-form.h"

#define AIQ_DESIGNER_EDITOR_VALIDATE_MS 300

struct _AiqDesignerEditor {
	AdwBin parent_instance;
	AiqDesignerSession *session;
	AiqDesignerDocument *document;
	AiqDesignerLocalAgent *local_agent;
	gchar *workflow_id;
	gint version;
	gboolean loading;
	gboolean saving;
	GCancellable *cancellable;      /* loading the workflow and what goes with it */
	GCancellable *save_cancellable; /* saving */
	guint validate_id;
	GHashTable *step_states; /* step id → status of the latest execution */
	gchar *last_execution_id;

	GtkLabel *name_label;
	GtkLabel *modified_label;
	GtkToggleButton *problems_button;
	GtkWidget *test_step_button;
	AiqDesignerPalette *palette;
	GtkStack *view_stack;
	AiqDesignerCanvas *canvas;
	AiqDesignerSourceView *source_view;
	GtkStack *form_stack;
	AiqDesignerWorkflowForm *workflow_form;
	AiqDesignerStepForm *step_form;
	GtkRevealer *problems_revealer;
	AiqDesignerProblemsList *problems_list;
};

G_DEFINE_TYPE(AiqDesignerEditor, aiq_designer_editor, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_SESSION,
	PROP_LOADING,
	PROP_WORKFLOW_ID,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

enum {
	SIGNAL_BACK,
	SIGNAL_SAVED,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

static GStrv
aiq_designer_editor_dup_selection(AiqDesignerEditor *self)
{
	GStrv selection = aiq_designer_canvas_dup_selection(self->canvas);
	if (selection == NULL)
		selection = g_new0(gchar *, 1);
	return selection;
}

static void
aiq_designer_editor_update_actions(AiqDesignerEditor *self)
{
	GtkWidget *widget = GTK_WIDGET(self);
	gboolean modified =
		self->document != NULL && aiq_designer_document_get_modified(self->document);
	gboolean editor =
		self->session != NULL && aiq_designer_session_has_role(self->session, "editor");
	gboolean available = self->local_agent != NULL &&
			     aiq_designer_local_agent_get_available(self->local_agent);
	gboolean busy = self->loading || self->saving;
	g_auto(GStrv) selection = NULL;
	gboolean one_step;

	if (self->session == NULL || self->document == NULL)
		return;
	selection = aiq_designer_editor_dup_selection(self);
	one_step = g_strv_length(selection) == 1;

	gtk_widget_action_set_enabled(widget,
				      "editor.undo",
				      !busy && aiq_designer_document_can_undo(self->document));
	gtk_widget_action_set_enabled(widget,
				      "editor.redo",
				      !busy && aiq_designer_document_can_redo(self->document));
	gtk_widget_action_set_enabled(widget,
				      "editor.save",
				      !busy && editor && (modified || self->workflow_id == NULL));
	gtk_widget_action_set_enabled(widget,
				      "editor.run",
				      !busy && self->workflow_id != NULL && !modified);
	gtk_widget_action_set_enabled(widget,
				      "editor.versions",
				      !busy && self->workflow_id != NULL);
	gtk_widget_action_set_enabled(widget, "editor.test-step", available && one_step);
	gtk_widget_set_visible(self->test_step_button, available && one_step);
	gtk_widget_set_visible(GTK_WIDGET(self->modified_label), modified);
}

static void
aiq_designer_editor_update_title(AiqDesignerEditor *self)
{
	const gchar *name = aiq_designer_document_get_name(self->document);
	gtk_label_set_text(self->name_label,
			   name != NULL && name[0] != '\0' ? name : _("Untitled"));
}

static void
aiq_designer_editor_set_problems(AiqDesignerEditor *self, AiqProblems *problems)
{
	guint n = problems != NULL ? aiq_problems_get_size(problems) : 0;
	g_autofree gchar *label = NULL;

	aiq_designer_problems_list_set_problems(self->problems_list, problems);
	aiq_designer_step_form_set_problems(self->step_form, problems);
	aiq_designer_workflow_form_set_problems(self->workflow_form, problems);
	/* TRANSLATORS: how many problems the workflow has */
	label = g_strdup_printf(ngettext("%u Problem", "%u Problems", n), n);
	gtk_button_set_label(GTK_BUTTON(self->problems_button), label);
	if (n > 0) {
		gtk_widget_remove_css_class(GTK_WIDGET(self->problems_button), "success");
		gtk_widget_add_css_class(GTK_WIDGET(self->problems_button), "warning");
	} else {
		gtk_widget_remove_css_class(GTK_WIDGET(self->problems_button), "warning");
	}
}

static void
aiq_designer_editor_validate(AiqDesignerEditor *self)
{
	g_autoptr(AiqProblems) problems = NULL;
	g_clear_handle_id(&self->validate_id, g_source_remove);
	problems = aiq_designer_document_validate(self->document);
	aiq_designer_editor_set_problems(self, problems);
}

static gboolean
aiq_designer_editor_validate_cb(gpointer user_data)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(user_data);
	self->validate_id = 0;
	aiq_designer_editor_validate(self);
	return G_SOURCE_REMOVE;
}

static void
aiq_designer_editor_document_changed_cb(AiqDesignerDocument *document,
					guint change,
					gpointer user_data)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(user_data);
	aiq_designer_editor_update_title(self);
	aiq_designer_editor_update_actions(self);
	if (change == AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS)
		return;
	g_clear_handle_id(&self->validate_id, g_source_remove);
	self->validate_id = g_timeout_add(AIQ_DESIGNER_EDITOR_VALIDATE_MS,
					  aiq_designer_editor_validate_cb,
					  self);
}

static void
aiq_designer_editor_document_notify_cb(AiqDesignerDocument *document,
				       GParamSpec *pspec,
				       gpointer user_data)
{
	aiq_designer_editor_update_actions(AIQ_DESIGNER_EDITOR(user_data));
}

static void
aiq_designer_editor_selection_changed_cb(AiqDesignerCanvas *canvas, AiqDesignerEditor *self)
{
	g_auto(GStrv) selection = aiq_designer_editor_dup_selection(self);
	if (g_strv_length(selection) == 1) {
		aiq_designer_step_form_set_step(self->step_form, selection[0]);
		gtk_stack_set_visible_child_name(self->form_stack, "step");
	} else {
		aiq_designer_step_form_set_step(self->step_form, NULL);
		gtk_stack_set_visible_child_name(self->form_stack, "workflow");
	}
	aiq_designer_editor_update_actions(self);
}

static void
aiq_designer_editor_set_document(AiqDesignerEditor *self, AiqDesignerDocument *document)
{
	if (self->document != NULL)
		g_signal_handlers_disconnect_by_data(self->document, self);
	g_set_object(&self->document, document);
	g_signal_connect(self->document,
			 "changed",
			 G_CALLBACK(aiq_designer_editor_document_changed_cb),
			 self);
	g_signal_connect(self->document,
			 "notify::modified",
			 G_CALLBACK(aiq_designer_editor_document_notify_cb),
			 self);
	g_signal_connect(self->document,
			 "notify::can-undo",
			 G_CALLBACK(aiq_designer_editor_document_notify_cb),
			 self);
	g_signal_connect(self->document,
			 "notify::can-redo",
			 G_CALLBACK(aiq_designer_editor_document_notify_cb),
			 self);
	aiq_designer_canvas_set_document(self->canvas, document);
	aiq_designer_source_view_set_document(self->source_view, document);
	aiq_designer_step_form_set_document(self->step_form, document);
	aiq_designer_workflow_form_set_document(self->workflow_form, document);
	aiq_designer_workflow_form_set_webhook_url(self->workflow_form, NULL);
	g_hash_table_remove_all(self->step_states);
	g_clear_pointer(&self->last_execution_id, g_free);
	aiq_designer_canvas_set_step_states(self->canvas, self->step_states);
	aiq_designer_editor_selection_changed_cb(self->canvas, self);
	aiq_designer_editor_update_title(self);
	aiq_designer_editor_validate(self);
	aiq_designer_editor_update_actions(self);
}

static void
aiq_designer_editor_set_loading(AiqDesignerEditor *self, gboolean loading)
{
	if (self->loading == loading)
		return;
	self->loading = loading;
	gtk_widget_set_sensitive(GTK_WIDGET(self->view_stack), !loading);
	aiq_designer_editor_update_actions(self);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOADING]);
}

static void
aiq_designer_editor_set_workflow_id(AiqDesignerEditor *self, const gchar *workflow_id)
{
	if (g_strcmp0(self->workflow_id, workflow_id) == 0)
		return;
	g_free(self->workflow_id);
	self->workflow_id = g_strdup(workflow_id);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_WORKFLOW_ID]);
}

static void
aiq_designer_editor_reset_cancellable(AiqDesignerEditor *self)
{
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
}

/* the status of each step in the latest execution, on the nodes */

static void
aiq_designer_editor_get_execution_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerEditor) self = AIQ_DESIGNER_EDITOR(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonNode *steps;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		if (!aiq_designer_error_is_cancelled(error))
			g_debug("cannot get the latest execution: %s", error->message);
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return;
	steps = json_object_get_member(json_node_get_object(node), "steps");
	if (steps == NULL || !JSON_NODE_HOLDS_ARRAY(steps))
		return;
	for (guint i = 0; i < json_array_get_length(json_node_get_array(steps)); i++) {
		JsonObject *step = json_array_get_object_element(json_node_get_array(steps), i);
		const gchar *id;
		const gchar *status;
		if (step == NULL)
			continue;
		id = json_object_get_string_member_with_default(step, "id", NULL);
		status = json_object_get_string_member_with_default(step, "status", NULL);
		if (id == NULL || status == NULL)
			continue;
		/* a live event may already have said something newer */
		if (!g_hash_table_contains(self->step_states, id))
			g_hash_table_insert(self->step_states, g_strdup(id), g_strdup(status));
	}
	aiq_designer_canvas_set_step_states(self->canvas, self->step_states);
}

static void
aiq_designer_editor_list_executions_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerEditor) self = AIQ_DESIGNER_EDITOR(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonNode *items;
	JsonObject *item;
	const gchar *id;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		if (!aiq_designer_error_is_cancelled(error))
			g_debug("cannot list the executions: %s", error->message);
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return;
	items = json_object_get_member(json_node_get_object(node), "items");
	if (items == NULL || !JSON_NODE_HOLDS_ARRAY(items) ||
	    json_array_get_length(json_node_get_array(items)) == 0)
		return;
	item = json_array_get_object_element(json_node_get_array(items), 0);
	id = item != NULL ? json_object_get_string_member_with_default(item, "id", NULL) : NULL;
	if (id == NULL)
		return;
	/* a live event may already have named a newer one */
	if (self->last_execution_id != NULL && g_strcmp0(self->last_execution_id, id) != 0)
		return;
	g_free(self->last_execution_id);
	self->last_execution_id = g_strdup(id);
	aiq_client_get_execution_async(AIQ_CLIENT(source),
				       id,
				       self->cancellable,
				       aiq_designer_editor_get_execution_cb,
				       g_object_ref(self));
}

static void
aiq_designer_editor_load_step_states(AiqDesignerEditor *self)
{
	AiqClientExecutionQuery query = {
		.workflow_id = self->workflow_id,
		.limit = 1,
	};
	if (self->workflow_id == NULL)
		return;
	aiq_client_list_executions_async(aiq_designer_session_get_client(self->session),
					 &query,
					 self->cancellable,
					 aiq_designer_editor_list_executions_cb,
					 g_object_ref(self));
}

static void
aiq_designer_editor_execution_updated_cb(AiqDesignerSession *session,
					 const gchar *type,
					 JsonObject *data,
					 gpointer user_data)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(user_data);
	const gchar *workflow_id =
		json_object_get_string_member_with_default(data, "workflow_id", NULL);
	const gchar *id = json_object_get_string_member_with_default(data, "id", NULL);
	if (self->workflow_id == NULL || id == NULL ||
	    g_strcmp0(workflow_id, self->workflow_id) != 0)
		return;
	if (g_strcmp0(self->last_execution_id, id) == 0)
		return;
	/* a newer execution of this workflow: its steps start afresh */
	g_free(self->last_execution_id);
	self->last_execution_id = g_strdup(id);
	g_hash_table_remove_all(self->step_states);
	aiq_designer_canvas_set_step_states(self->canvas, self->step_states);
}

static void
aiq_designer_editor_step_updated_cb(AiqDesignerSession *session,
				    const gchar *type,
				    JsonObject *data,
				    gpointer user_data)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(user_data);
	const gchar *execution_id =
		json_object_get_string_member_with_default(data, "execution_id", NULL);
	const gchar *step_id = json_object_get_string_member_with_default(data, "step_id", NULL);
	const gchar *status = json_object_get_string_member_with_default(data, "status", NULL);
	if (self->last_execution_id == NULL || step_id == NULL || status == NULL ||
	    g_strcmp0(execution_id, self->last_execution_id) != 0)
		return;
	g_hash_table_insert(self->step_states, g_strdup(step_id), g_strdup(status));
	aiq_designer_canvas_set_step_states(self->canvas, self->step_states);
}

static void
aiq_designer_editor_reconnected_cb(AiqDesignerSession *session, gpointer user_data)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(user_data);
	if (self->loading || self->workflow_id == NULL)
		return;
	g_clear_pointer(&self->last_execution_id, g_free);
	g_hash_table_remove_all(self->step_states);
	aiq_designer_editor_load_step_states(self);
}

/* the webhook URL, for a workflow with a webhook trigger */

static gboolean
aiq_designer_editor_has_webhook_trigger(AiqDesignerEditor *self)
{
	JsonNode *triggers = aiq_designer_document_get_member(self->document, "triggers");
	if (triggers == NULL || !JSON_NODE_HOLDS_ARRAY(triggers))
		return FALSE;
	for (guint i = 0; i < json_array_get_length(json_node_get_array(triggers)); i++) {
		JsonObject *trigger =
			json_array_get_object_element(json_node_get_array(triggers), i);
		if (trigger != NULL && json_object_has_member(trigger, "webhook"))
			return TRUE;
	}
	return FALSE;
}

static void
aiq_designer_editor_webhook_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerEditor) self = AIQ_DESIGNER_EDITOR(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		if (!aiq_designer_error_is_cancelled(error))
			g_debug("cannot get the webhook: %s", error->message);
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return;
	aiq_designer_workflow_form_set_webhook_url(
		self->workflow_form,
		json_object_get_string_member_with_default(json_node_get_object(node),
							   "url",
							   NULL));
}

static void
aiq_designer_editor_load_webhook(AiqDesignerEditor *self)
{
	g_autofree gchar *path = NULL;
	if (self->workflow_id == NULL || !aiq_designer_editor_has_webhook_trigger(self) ||
	    !aiq_designer_session_has_role(self->session, "editor"))
		return;
	path = g_strdup_printf("/api/v1/workflows/%s/webhook", self->workflow_id);
	aiq_client_request_async(aiq_designer_session_get_client(self->session),
				 "GET",
				 path,
				 NULL,
				 NULL,
				 NULL,
				 self->cancellable,
				 aiq_designer_editor_webhook_cb,
				 g_object_ref(self));
}

/* loading */

static void
aiq_designer_editor_get_workflow_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerEditor) self = AIQ_DESIGNER_EDITOR(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(AiqDesignerDocument) document = aiq_designer_document_new();
	JsonObject *obj;
	JsonNode *definition;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		if (aiq_designer_error_is_cancelled(error))
			return;
		aiq_designer_editor_set_loading(self, FALSE);
		aiq_designer_show_error(GTK_WIDGET(self), error);
		return;
	}
	aiq_designer_editor_set_loading(self, FALSE);
	obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
	definition = obj != NULL ? json_object_get_member(obj, "definition") : NULL;
	if (definition == NULL || !aiq_designer_document_load(document, definition, &error)) {
		if (error == NULL)
			g_set_error_literal(&error,
					    G_IO_ERROR,
					    G_IO_ERROR_INVALID_DATA,
					    _("The server sent a workflow without a definition"));
		aiq_designer_show_error(GTK_WIDGET(self), error);
		return;
	}
	self->version = (gint)json_object_get_int_member_with_default(obj, "version", 0);
	aiq_designer_editor_set_workflow_id(
		self,
		json_object_get_string_member_with_default(obj, "id", self->workflow_id));
	aiq_designer_editor_set_document(self, document);
	aiq_designer_canvas_zoom_to_fit(self->canvas);
	aiq_designer_editor_load_webhook(self);
	aiq_designer_editor_load_step_states(self);
}

/**
 * aiq_designer_editor_load_workflow:
 *
 * Shows the latest version of a saved workflow, fetched from the server.
 */
void
aiq_designer_editor_load_workflow(AiqDesignerEditor *self, const gchar *workflow_id)
{
	g_autoptr(AiqDesignerDocument) document = aiq_designer_document_new();

	g_return_if_fail(AIQ_DESIGNER_IS_EDITOR(self));
	g_return_if_fail(workflow_id != NULL);

	aiq_designer_editor_reset_cancellable(self);
	aiq_designer_editor_set_workflow_id(self, workflow_id);
	self->version = 0;
	aiq_designer_editor_set_document(self, document);
	aiq_designer_editor_set_loading(self, TRUE);
	aiq_client_get_workflow_async(aiq_designer_session_get_client(self->session),
				      workflow_id,
				      0,
				      self->cancellable,
				      aiq_designer_editor_get_workflow_cb,
				      g_object_ref(self));
}

/**
 * aiq_designer_editor_new_workflow:
 *
 * Starts a new workflow, not saved until the user saves it.
 */
void
aiq_designer_editor_new_workflow(AiqDesignerEditor *self, const gchar *name)
{
	g_autoptr(AiqDesignerDocument) document = NULL;

	g_return_if_fail(AIQ_DESIGNER_IS_EDITOR(self));
	g_return_if_fail(name != NULL);

	aiq_designer_editor_reset_cancellable(self);
	aiq_designer_editor_set_loading(self, FALSE);
	aiq_designer_editor_set_workflow_id(self, NULL);
	self->version = 0;
	document = aiq_designer_document_new_empty(name);
	aiq_designer_editor_set_document(self, document);
	gtk_stack_set_visible_child_name(self->view_stack, "canvas");
}

/* saving */

static void
aiq_designer_editor_save_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerEditor) self = AIQ_DESIGNER_EDITOR(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqClientReply) reply = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *message = NULL;
	guint serial = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(self), "save-serial"));
	gboolean was_new = self->workflow_id == NULL;
	JsonObject *obj;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, &reply, &error);
	if (node == NULL && aiq_designer_error_is_cancelled(error))
		return;
	self->saving = FALSE;
	aiq_designer_editor_update_actions(self);
	if (node == NULL) {
		AiqProblems *problems = reply != NULL ? aiq_client_reply_get_problems(reply) : NULL;
		if (problems != NULL && aiq_problems_get_size(problems) > 0) {
			aiq_designer_editor_set_problems(self, problems);
			gtk_toggle_button_set_active(self->problems_button, TRUE);
			aiq_designer_show_toast(GTK_WIDGET(self),
						_("The workflow was not saved: it has problems"));
			return;
		}
		aiq_designer_show_error(GTK_WIDGET(self), error);
		return;
	}
	obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
	if (obj != NULL) {
		self->version = (gint)json_object_get_int_member_with_default(obj,
									      "version",
									      self->version);
		aiq_designer_editor_set_workflow_id(
			self,
			json_object_get_string_member_with_default(obj, "id", self->workflow_id));
	}
	/* edits made while saving are still unsaved */
	if (aiq_designer_document_get_serial(self->document) == serial)
		aiq_designer_document_set_modified(self->document, FALSE);
	aiq_designer_editor_update_actions(self);
	if (obj != NULL && json_object_has_member(obj, "changed") &&
	    !json_object_get_boolean_member(obj, "changed"))
		/* TRANSLATORS: %d is a version number */
		message = g_strdup_printf(_("No changes since version %d"), self->version);
	else
		/* TRANSLATORS: %d is a version number */
		message = g_strdup_printf(_("Saved version %d"), self->version);
	aiq_designer_show_toast(GTK_WIDGET(self), message);
	if (was_new) {
		aiq_designer_editor_load_webhook(self);
		aiq_designer_editor_load_step_states(self);
	}
	g_signal_emit(self, signals[SIGNAL_SAVED], 0, self->workflow_id);
}

static void
aiq_designer_editor_save_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(widget);
	AiqClient *client = aiq_designer_session_get_client(self->session);
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GBytes) bytes = NULL;
	gsize len = 0;
	gchar *data;

	if (self->saving || self->loading)
		return;
	aiq_designer_source_view_flush(self->source_view);
	root = aiq_designer_document_dup_root(self->document);
	data = json_to_string(root, FALSE);
	len = strlen(data);
	bytes = g_bytes_new_take(data, len);

	self->saving = TRUE;
	aiq_designer_editor_update_actions(self);
	g_object_set_data(G_OBJECT(self),
			  "save-serial",
			  GUINT_TO_POINTER(aiq_designer_document_get_serial(self->document)));
	g_cancellable_cancel(self->save_cancellable);
	g_clear_object(&self->save_cancellable);
	self->save_cancellable = g_cancellable_new();
	if (self->workflow_id == NULL)
		aiq_client_create_workflow_async(client,
						 bytes,
						 "application/json",
						 self->save_cancellable,
						 aiq_designer_editor_save_cb,
						 g_object_ref(self));
	else
		aiq_client_update_workflow_async(client,
						 self->workflow_id,
						 bytes,
						 "application/json",
						 self->save_cancellable,
						 aiq_designer_editor_save_cb,
						 g_object_ref(self));
}

/* the other actions */

static void
aiq_designer_editor_back_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	g_signal_emit(widget, signals[SIGNAL_BACK], 0);
}

static void
aiq_designer_editor_undo_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(widget);
	aiq_designer_source_view_flush(self->source_view);
	aiq_designer_document_undo(self->document);
}

static void
aiq_designer_editor_redo_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(widget);
	aiq_designer_source_view_flush(self->source_view);
	aiq_designer_document_redo(self->document);
}

static void
aiq_designer_editor_run_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(widget);
	GtkWidget *dialog;
	if (self->workflow_id == NULL)
		return;
	dialog = aiq_designer_run_dialog_new(widget,
					     self->session,
					     self->workflow_id,
					     aiq_designer_document_get_root(self->document),
					     NULL,
					     NULL);
	gtk_window_present(GTK_WINDOW(dialog));
}

static void
aiq_designer_editor_test_step_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(widget);
	g_auto(GStrv) selection = aiq_designer_editor_dup_selection(self);
	g_autoptr(JsonObject) inputs = json_object_new();
	JsonObject *step;
	GtkWidget *dialog;

	if (g_strv_length(selection) != 1)
		return;
	step = aiq_designer_document_find_step(self->document, selection[0], NULL);
	if (step == NULL)
		return;
	dialog = aiq_designer_test_step_dialog_new(widget, step, inputs);
	if (GTK_IS_WINDOW(dialog))
		gtk_window_present(GTK_WINDOW(dialog));
}

static void
aiq_designer_editor_toggle_source_action(GtkWidget *widget,
					 const gchar *action_name,
					 GVariant *param)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(widget);
	aiq_designer_editor_show_source(
		self,
		g_strcmp0(gtk_stack_get_visible_child_name(self->view_stack), "source") != 0);
}

static void
aiq_designer_editor_layout_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(widget);
	aiq_designer_document_auto_layout(self->document, TRUE);
	aiq_designer_canvas_zoom_to_fit(self->canvas);
}

static void
aiq_designer_editor_zoom_fit_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	aiq_designer_canvas_zoom_to_fit(AIQ_DESIGNER_EDITOR(widget)->canvas);
}

static void
aiq_designer_editor_versions_restored_cb(AiqDesignerVersionsDialog *dialog,
					 gint version,
					 gpointer user_data)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(user_data);
	g_autofree gchar *message = NULL;
	g_autofree gchar *workflow_id = g_strdup(self->workflow_id);
	if (workflow_id == NULL)
		return;
	/* TRANSLATORS: %d is a version number */
	message = g_strdup_printf(_("Restored as version %d"), version);
	aiq_designer_show_toast(GTK_WIDGET(self), message);
	aiq_designer_editor_load_workflow(self, workflow_id);
	g_signal_emit(self, signals[SIGNAL_SAVED], 0, workflow_id);
}

static void
aiq_designer_editor_versions_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(widget);
	GtkWidget *dialog;
	if (self->workflow_id == NULL)
		return;
	dialog = aiq_designer_versions_dialog_new(widget,
						  self->session,
						  self->workflow_id,
						  self->version);
	g_signal_connect_object(dialog,
				"restored",
				G_CALLBACK(aiq_designer_editor_versions_restored_cb),
				self,
				0);
	gtk_window_present(GTK_WINDOW(dialog));
}

/* palette and problems */

static void
aiq_designer_editor_palette_add_step_cb(AiqDesignerPalette *palette,
					const gchar *kind,
					AiqDesignerEditor *self)
{
	g_autofree gchar *id = NULL;
	if (self->loading)
		return;
	gtk_stack_set_visible_child_name(self->view_stack, "canvas");
	id = aiq_designer_canvas_add_step(self->canvas, kind);
	if (id != NULL) {
		const gchar *ids[] = { id, NULL };
		aiq_designer_canvas_select(self->canvas, ids);
		aiq_designer_editor_selection_changed_cb(self->canvas, self);
	}
}

static void
aiq_designer_editor_problem_activated_cb(AiqDesignerProblemsList *list,
					 const gchar *path,
					 AiqDesignerEditor *self)
{
	if (g_str_has_prefix(path, "steps[")) {
		gchar *end = NULL;
		guint64 idx = g_ascii_strtoull(path + strlen("steps["), &end, 10);
		JsonObject *step = NULL;
		if (end != NULL && *end == ']' &&
		    idx < aiq_designer_document_get_n_steps(self->document))
			step = aiq_designer_document_get_step(self->document, (guint)idx);
		if (step != NULL) {
			const gchar *ids[] = {
				json_object_get_string_member_with_default(step, "id", NULL),
				NULL,
			};
			if (ids[0] != NULL) {
				gtk_stack_set_visible_child_name(self->view_stack, "canvas");
				aiq_designer_canvas_select(self->canvas, ids);
				aiq_designer_editor_selection_changed_cb(self->canvas, self);
				aiq_designer_step_form_focus_path(self->step_form, path);
				return;
			}
		}
	}
	{
		const gchar *none[] = { NULL };
		aiq_designer_canvas_select(self->canvas, none);
	}
	aiq_designer_editor_selection_changed_cb(self->canvas, self);
	aiq_designer_workflow_form_focus_path(self->workflow_form, path);
}

static void
aiq_designer_editor_local_agent_notify_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	aiq_designer_editor_update_actions(AIQ_DESIGNER_EDITOR(user_data));
}

/* public */

void
aiq_designer_editor_show_source(AiqDesignerEditor *self, gboolean source)
{
	g_return_if_fail(AIQ_DESIGNER_IS_EDITOR(self));
	if (!source)
		aiq_designer_source_view_flush(self->source_view);
	gtk_stack_set_visible_child_name(self->view_stack, source ? "source" : "canvas");
}

AiqDesignerDocument *
aiq_designer_editor_get_document(AiqDesignerEditor *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EDITOR(self), NULL);
	return self->document;
}

/**
 * aiq_designer_editor_get_workflow_id:
 *
 * Returns: (nullable): the workflow's id, %NULL until a new one is saved
 */
const gchar *
aiq_designer_editor_get_workflow_id(AiqDesignerEditor *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EDITOR(self), NULL);
	return self->workflow_id;
}

gint
aiq_designer_editor_get_version(AiqDesignerEditor *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EDITOR(self), 0);
	return self->version;
}

gboolean
aiq_designer_editor_get_loading(AiqDesignerEditor *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EDITOR(self), FALSE);
	return self->loading;
}

AiqDesignerCanvas *
aiq_designer_editor_get_canvas(AiqDesignerEditor *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EDITOR(self), NULL);
	return self->canvas;
}

AiqDesignerPalette *
aiq_designer_editor_get_palette(AiqDesignerEditor *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EDITOR(self), NULL);
	return self->palette;
}

AiqDesignerSourceView *
aiq_designer_editor_get_source_view(AiqDesignerEditor *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EDITOR(self), NULL);
	return self->source_view;
}

AiqDesignerProblemsList *
aiq_designer_editor_get_problems_list(AiqDesignerEditor *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EDITOR(self), NULL);
	return self->problems_list;
}

GtkWidget *
aiq_designer_editor_get_step_form(AiqDesignerEditor *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EDITOR(self), NULL);
	return GTK_WIDGET(self->step_form);
}

static void
aiq_designer_editor_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(object);
	switch (prop_id) {
	case PROP_SESSION:
		g_value_set_object(value, self->session);
		break;
	case PROP_LOADING:
		g_value_set_boolean(value, self->loading);
		break;
	case PROP_WORKFLOW_ID:
		g_value_set_string(value, self->workflow_id);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_editor_set_property(GObject *object,
				 guint prop_id,
				 const GValue *value,
				 GParamSpec *pspec)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(object);
	switch (prop_id) {
	case PROP_SESSION:
		self->session = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_editor_constructed(GObject *object)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(object);
	G_OBJECT_CLASS(aiq_designer_editor_parent_class)->constructed(object);
	g_signal_connect_object(self->session,
				"event::execution.updated",
				G_CALLBACK(aiq_designer_editor_execution_updated_cb),
				self,
				0);
	g_signal_connect_object(self->session,
				"event::step.updated",
				G_CALLBACK(aiq_designer_editor_step_updated_cb),
				self,
				0);
	g_signal_connect_object(self->session,
				"reconnected",
				G_CALLBACK(aiq_designer_editor_reconnected_cb),
				self,
				0);
	aiq_designer_editor_update_actions(self);
}

static void
aiq_designer_editor_dispose(GObject *object)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_cancellable_cancel(self->save_cancellable);
	g_clear_object(&self->save_cancellable);
	g_clear_handle_id(&self->validate_id, g_source_remove);
	if (self->local_agent != NULL)
		g_signal_handlers_disconnect_by_data(self->local_agent, self);
	g_clear_object(&self->local_agent);
	if (self->document != NULL)
		g_signal_handlers_disconnect_by_data(self->document, self);
	gtk_widget_dispose_template(GTK_WIDGET(self), AIQ_DESIGNER_TYPE_EDITOR);
	g_clear_object(&self->document);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(aiq_designer_editor_parent_class)->dispose(object);
}

static void
aiq_designer_editor_finalize(GObject *object)
{
	AiqDesignerEditor *self = AIQ_DESIGNER_EDITOR(object);
	g_hash_table_unref(self->step_states);
	g_free(self->workflow_id);
	g_free(self->last_execution_id);
	G_OBJECT_CLASS(aiq_designer_editor_parent_class)->finalize(object);
}

static void
aiq_designer_editor_class_init(AiqDesignerEditorClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = aiq_designer_editor_get_property;
	object_class->set_property = aiq_designer_editor_set_property;
	object_class->constructed = aiq_designer_editor_constructed;
	object_class->dispose = aiq_designer_editor_dispose;
	object_class->finalize = aiq_designer_editor_finalize;

	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	props[PROP_LOADING] = g_param_spec_boolean("loading",
						   NULL,
						   NULL,
						   FALSE,
						   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_WORKFLOW_ID] = g_param_spec_string("workflow-id",
						      NULL,
						      NULL,
						      NULL,
						      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	/**
	 * AiqDesignerEditor::back:
	 *
	 * The user asks to go back to the list of workflows.
	 */
	signals[SIGNAL_BACK] = g_signal_new("back",
					    G_TYPE_FROM_CLASS(klass),
					    G_SIGNAL_RUN_LAST,
					    0,
					    NULL,
					    NULL,
					    NULL,
					    G_TYPE_NONE,
					    0);
	/**
	 * AiqDesignerEditor::saved:
	 * @workflow_id: the workflow saved
	 */
	signals[SIGNAL_SAVED] = g_signal_new("saved",
					     G_TYPE_FROM_CLASS(klass),
					     G_SIGNAL_RUN_LAST,
					     0,
					     NULL,
					     NULL,
					     NULL,
					     G_TYPE_NONE,
					     1,
					     G_TYPE_STRING);

	g_type_ensure(AIQ_DESIGNER_TYPE_CANVAS);
	g_type_ensure(AIQ_DESIGNER_TYPE_PALETTE);
	g_type_ensure(AIQ_DESIGNER_TYPE_PROBLEMS_LIST);
	g_type_ensure(AIQ_DESIGNER_TYPE_SOURCE_VIEW);
	g_type_ensure(AIQ_DESIGNER_TYPE_STEP_FORM);
	g_type_ensure(AIQ_DESIGNER_TYPE_WORKFLOW_FORM);
	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-editor.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, name_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, modified_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, problems_button);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, test_step_button);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, palette);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, view_stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, canvas);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, source_view);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, form_stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, workflow_form);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, step_form);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, problems_revealer);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEditor, problems_list);
	gtk_widget_class_bind_template_callback(widget_class,
						aiq_designer_editor_palette_add_step_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						aiq_designer_editor_selection_changed_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						aiq_designer_editor_problem_activated_cb);

	gtk_widget_class_install_action(widget_class,
					"editor.back",
					NULL,
					aiq_designer_editor_back_action);
	gtk_widget_class_install_action(widget_class,
					"editor.undo",
					NULL,
					aiq_designer_editor_undo_action);
	gtk_widget_class_install_action(widget_class,
					"editor.redo",
					NULL,
					aiq_designer_editor_redo_action);
	gtk_widget_class_install_action(widget_class,
					"editor.save",
					NULL,
					aiq_designer_editor_save_action);
	gtk_widget_class_install_action(widget_class,
					"editor.run",
					NULL,
					aiq_designer_editor_run_action);
	gtk_widget_class_install_action(widget_class,
					"editor.test-step",
					NULL,
					aiq_designer_editor_test_step_action);
	gtk_widget_class_install_action(widget_class,
					"editor.toggle-source",
					NULL,
					aiq_designer_editor_toggle_source_action);
	gtk_widget_class_install_action(widget_class,
					"editor.layout",
					NULL,
					aiq_designer_editor_layout_action);
	gtk_widget_class_install_action(widget_class,
					"editor.zoom-fit",
					NULL,
					aiq_designer_editor_zoom_fit_action);
	gtk_widget_class_install_action(widget_class,
					"editor.versions",
					NULL,
					aiq_designer_editor_versions_action);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_s,
					    GDK_CONTROL_MASK,
					    "editor.save",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_r,
					    GDK_CONTROL_MASK,
					    "editor.run",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_e,
					    GDK_CONTROL_MASK,
					    "editor.toggle-source",
					    NULL);
}

static void
aiq_designer_editor_init(AiqDesignerEditor *self)
{
	g_autoptr(AiqDesignerDocument) document = aiq_designer_document_new_empty("");

	self->step_states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gtk_widget_init_template(GTK_WIDGET(self));
	self->local_agent = g_object_ref(aiq_designer_local_agent_get_default());
	g_signal_connect(self->local_agent,
			 "notify::available",
			 G_CALLBACK(aiq_designer_editor_local_agent_notify_cb),
			 self);
	aiq_designer_editor_set_document(self, document);
}

GtkWidget *
aiq_designer_editor_new(AiqDesignerSession *session)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(session), NULL);
	return g_object_new(AIQ_DESIGNER_TYPE_EDITOR, "session", session, NULL);
}
