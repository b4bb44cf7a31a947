/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * One execution: its header (workflow, status, trigger, times, error), the
 * actions on it (cancel, retry from the failed step, run again with edited
 * inputs), a timeline of its steps' attempts and the steps with their
 * outputs and errors. It follows the live events of the execution (fetching
 * it again, debounced) and reloads after the server comes back.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-execution-view.h"
#include "aiq-designer-json-view.h"
#include "aiq-designer-run-dialog.h"
#include "aiq-designer-timeline.h"
#include "aiq-designer-util.h"
#include "aiq-json.h"

#define AIQ_DESIGNER_EXECUTION_VIEW_DEBOUNCE_MS 200
/* while it runs, fetched again now and then: an event lost while the stream
 * reconnects must not leave the view behind */
#define AIQ_DESIGNER_EXECUTION_VIEW_POLL_MS 3000

struct _AiqDesignerExecutionView {
	AdwBin parent_instance;
	GtkStack *stack;
	AdwStatusPage *error_page;
	GtkLabel *title_label;
	GtkLabel *status_label;
	AdwActionRow *trigger_row;
	AdwActionRow *created_row;
	AdwActionRow *started_row;
	AdwActionRow *finished_row;
	AdwActionRow *duration_row;
	AdwActionRow *error_row;
	GtkButton *cancel_button;
	GtkButton *retry_button;
	GtkButton *rerun_button;
	AiqDesignerTimeline *timeline;
	GtkListBox *steps_list;

	AiqDesignerSession *session;
	gchar *execution_id;
	JsonNode *execution;
	GCancellable *cancellable;        /* the fetch */
	GCancellable *action_cancellable; /* cancel, retry, rerun */
	guint refetch_id;
	gchar *status_class;
};

G_DEFINE_TYPE(AiqDesignerExecutionView, aiq_designer_execution_view, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_SESSION,
	PROP_STATUS,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

JsonObject *
aiq_designer_execution_view_get_execution(AiqDesignerExecutionView *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_VIEW(self), NULL);
	return self->execution != NULL ? json_node_get_object(self->execution) : NULL;
}

const gchar *
aiq_designer_execution_view_get_status(AiqDesignerExecutionView *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_VIEW(self), NULL);
	return aiq_json_object_get_string(aiq_designer_execution_view_get_execution(self),
					  "status");
}

const gchar *
aiq_designer_execution_view_get_execution_id(AiqDesignerExecutionView *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_VIEW(self), NULL);
	return self->execution_id;
}

static void
aiq_designer_execution_view_set_time_row(AdwActionRow *row, const gchar *rfc3339)
{
	g_autofree gchar *text = aiq_designer_format_time(rfc3339);
	adw_action_row_set_subtitle(row, text);
}

static GtkWidget *
aiq_designer_execution_view_make_badge(const gchar *status)
{
	GtkWidget *label = gtk_label_new(aiq_designer_status_to_label(status));
	gtk_widget_add_css_class(label, "status-badge");
	gtk_widget_add_css_class(label, aiq_designer_status_to_css_class(status));
	gtk_widget_set_valign(label, GTK_ALIGN_CENTER);
	return label;
}

static GtkWidget *
aiq_designer_execution_view_make_step_row(JsonObject *step, GHashTable *expanded)
{
	const gchar *id = aiq_json_object_get_string(step, "id");
	const gchar *status = aiq_json_object_get_string(step, "status");
	gint64 attempts = aiq_json_object_get_int(step, "attempt_count", 0);
	gint64 started = aiq_designer_parse_time(aiq_json_object_get_string(step, "started"));
	gint64 finished = aiq_designer_parse_time(aiq_json_object_get_string(step, "finished"));
	g_autofree gchar *duration = aiq_designer_format_duration(
		started != 0 && finished != 0 ? (finished - started) / 1000 : -1);
	g_autofree gchar *subtitle = NULL;
	JsonNode *output = json_object_get_member(step, "output");
	JsonObject *error = aiq_json_object_get_object(step, "error");
	const gchar *skip_reason = aiq_json_object_get_string(step, "skip_reason");
	GtkWidget *row = adw_expander_row_new();

	/* TRANSLATORS: a step's attempts and duration */
	subtitle =
		g_strdup_printf(ngettext("%d attempt · %s", "%d attempts · %s", (gulong)attempts),
				(gint)attempts,
				duration);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), id != NULL ? id : "?");
	adw_expander_row_set_subtitle(ADW_EXPANDER_ROW(row), subtitle);
	adw_expander_row_add_action(ADW_EXPANDER_ROW(row),
				    aiq_designer_execution_view_make_badge(status));
	gtk_widget_set_name(row, id != NULL ? id : "");

	if (error != NULL) {
		GtkWidget *label = gtk_label_new(aiq_json_object_get_string(error, "message"));
		GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
		GtkWidget *json = aiq_designer_json_view_new();
		JsonNode *error_node = json_object_get_member(step, "error");
		gtk_label_set_wrap(GTK_LABEL(label), TRUE);
		gtk_label_set_xalign(GTK_LABEL(label), 0);
		gtk_label_set_selectable(GTK_LABEL(label), TRUE);
		gtk_widget_add_css_class(label, "error");
		aiq_designer_json_view_set_node(AIQ_DESIGNER_JSON_VIEW(json), error_node);
		gtk_box_append(GTK_BOX(box), label);
		gtk_box_append(GTK_BOX(box), json);
		gtk_widget_set_margin_start(box, 12);
		gtk_widget_set_margin_end(box, 12);
		gtk_widget_set_margin_top(box, 6);
		gtk_widget_set_margin_bottom(box, 6);
		adw_expander_row_add_row(ADW_EXPANDER_ROW(row), box);
	}
	if (skip_reason != NULL) {
		GtkWidget *label = gtk_label_new(skip_reason);
		gtk_label_set_wrap(GTK_LABEL(label), TRUE);
		gtk_label_set_xalign(GTK_LABEL(label), 0);
		gtk_widget_set_margin_start(label, 12);
		gtk_widget_set_margin_top(label, 6);
		gtk_widget_set_margin_bottom(label, 6);
		adw_expander_row_add_row(ADW_EXPANDER_ROW(row), label);
	}
	if (output != NULL && !JSON_NODE_HOLDS_NULL(output)) {
		GtkWidget *json = aiq_designer_json_view_new();
		aiq_designer_json_view_set_node(AIQ_DESIGNER_JSON_VIEW(json), output);
		gtk_widget_set_margin_start(json, 12);
		gtk_widget_set_margin_end(json, 12);
		gtk_widget_set_margin_top(json, 6);
		gtk_widget_set_margin_bottom(json, 6);
		adw_expander_row_add_row(ADW_EXPANDER_ROW(row), json);
	}
	if (error == NULL && skip_reason == NULL &&
	    (output == NULL || JSON_NODE_HOLDS_NULL(output)))
		adw_expander_row_set_enable_expansion(ADW_EXPANDER_ROW(row), FALSE);
	else if (id != NULL && g_hash_table_contains(expanded, id))
		adw_expander_row_set_expanded(ADW_EXPANDER_ROW(row), TRUE);
	return row;
}

static void
aiq_designer_execution_view_update_actions(AiqDesignerExecutionView *self)
{
	const gchar *status = aiq_designer_execution_view_get_status(self);
	gboolean editor = aiq_designer_session_has_role(self->session, "editor");
	gboolean busy = self->action_cancellable != NULL;
	gboolean active = g_strcmp0(status, "queued") == 0 || g_strcmp0(status, "running") == 0;
	gboolean retryable = g_strcmp0(status, "failed") == 0 ||
			     g_strcmp0(status, "timed_out") == 0 ||
			     g_strcmp0(status, "cancelled") == 0;
	gtk_widget_set_visible(GTK_WIDGET(self->cancel_button), active);
	gtk_widget_set_visible(GTK_WIDGET(self->retry_button), retryable);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "view.cancel", editor && active && !busy);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "view.retry", editor && retryable && !busy);
	gtk_widget_action_set_enabled(GTK_WIDGET(self),
				      "view.rerun",
				      editor && status != NULL && !busy);
}

static void
aiq_designer_execution_view_show(AiqDesignerExecutionView *self)
{
	JsonObject *obj = aiq_designer_execution_view_get_execution(self);
	const gchar *status = aiq_json_object_get_string(obj, "status");
	const gchar *trigger = aiq_json_object_get_string(obj, "trigger");
	JsonObject *error = aiq_json_object_get_object(obj, "error");
	JsonArray *steps = aiq_json_object_get_array(obj, "steps");
	g_autofree gchar *duration =
		aiq_designer_format_duration(aiq_json_object_get_int(obj, "duration_ms", -1));
	g_autoptr(GHashTable) expanded =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GtkWidget *child;

	gtk_label_set_text(self->title_label,
			   aiq_json_object_get_string(obj, "workflow") != NULL
				   ? aiq_json_object_get_string(obj, "workflow")
				   : _("Execution"));
	gtk_label_set_text(self->status_label, aiq_designer_status_to_label(status));
	if (self->status_class != NULL)
		gtk_widget_remove_css_class(GTK_WIDGET(self->status_label), self->status_class);
	g_free(self->status_class);
	self->status_class = g_strdup(aiq_designer_status_to_css_class(status));
	gtk_widget_add_css_class(GTK_WIDGET(self->status_label), self->status_class);
	if (json_object_has_member(obj, "cancel_requested") &&
	    aiq_json_is_bool(json_object_get_member(obj, "cancel_requested")) &&
	    json_object_get_boolean_member(obj, "cancel_requested"))
		gtk_label_set_text(self->status_label, _("Cancelling"));

	adw_action_row_set_subtitle(self->trigger_row, trigger != NULL ? trigger : "—");
	aiq_designer_execution_view_set_time_row(self->created_row,
						 aiq_json_object_get_string(obj, "created"));
	aiq_designer_execution_view_set_time_row(self->started_row,
						 aiq_json_object_get_string(obj, "started"));
	aiq_designer_execution_view_set_time_row(self->finished_row,
						 aiq_json_object_get_string(obj, "finished"));
	adw_action_row_set_subtitle(self->duration_row, duration);
	gtk_widget_set_visible(GTK_WIDGET(self->error_row), error != NULL);
	if (error != NULL) {
		const gchar *message = aiq_json_object_get_string(error, "message");
		adw_action_row_set_subtitle(self->error_row, message != NULL ? message : "");
	}

	aiq_designer_timeline_set_steps(self->timeline, steps);

	/* the steps, keeping open what was open */
	while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->steps_list))) != NULL) {
		if (ADW_IS_EXPANDER_ROW(child) &&
		    adw_expander_row_get_expanded(ADW_EXPANDER_ROW(child)))
			g_hash_table_add(expanded, g_strdup(gtk_widget_get_name(child)));
		gtk_list_box_remove(self->steps_list, child);
	}
	for (guint i = 0; steps != NULL && i < json_array_get_length(steps); i++) {
		JsonNode *node = json_array_get_element(steps, i);
		if (!JSON_NODE_HOLDS_OBJECT(node))
			continue;
		gtk_list_box_append(
			self->steps_list,
			aiq_designer_execution_view_make_step_row(json_node_get_object(node),
								  expanded));
	}
	aiq_designer_execution_view_update_actions(self);
	gtk_stack_set_visible_child_name(self->stack, "content");
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATUS]);
}

static gboolean
aiq_designer_execution_view_refetch_cb(gpointer user_data);

static void
aiq_designer_execution_view_fetch_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerExecutionView) self = AIQ_DESIGNER_EXECUTION_VIEW(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (aiq_designer_error_is_cancelled(error))
		return;
	g_clear_object(&self->cancellable);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		if (error == NULL)
			error = g_error_new_literal(G_IO_ERROR,
						    G_IO_ERROR_INVALID_DATA,
						    _("The server's answer is not an object"));
		/* what is shown stays; the first load shows the error */
		if (self->execution != NULL) {
			aiq_designer_show_error(GTK_WIDGET(self), error);
			return;
		}
		adw_status_page_set_description(self->error_page, error->message);
		gtk_stack_set_visible_child_name(self->stack, "error");
		return;
	}
	g_clear_pointer(&self->execution, json_node_unref);
	self->execution = g_steal_pointer(&node);
	aiq_designer_execution_view_show(self);
	if (!aiq_designer_status_is_final(aiq_designer_execution_view_get_status(self)) &&
	    self->refetch_id == 0)
		self->refetch_id = g_timeout_add(AIQ_DESIGNER_EXECUTION_VIEW_POLL_MS,
						 aiq_designer_execution_view_refetch_cb,
						 self);
}

void
aiq_designer_execution_view_reload(AiqDesignerExecutionView *self)
{
	AiqClient *client;

	g_return_if_fail(AIQ_DESIGNER_IS_EXECUTION_VIEW(self));
	g_clear_handle_id(&self->refetch_id, g_source_remove);
	if (self->execution_id == NULL)
		return;
	client = aiq_designer_session_get_client(self->session);
	if (client == NULL)
		return;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	if (self->execution == NULL)
		gtk_stack_set_visible_child_name(self->stack, "loading");
	aiq_client_get_execution_async(client,
				       self->execution_id,
				       self->cancellable,
				       aiq_designer_execution_view_fetch_cb,
				       g_object_ref(self));
}

/**
 * aiq_designer_execution_view_set_execution_id:
 * @id: (nullable): the execution to show
 */
void
aiq_designer_execution_view_set_execution_id(AiqDesignerExecutionView *self, const gchar *id)
{
	g_return_if_fail(AIQ_DESIGNER_IS_EXECUTION_VIEW(self));
	if (g_strcmp0(self->execution_id, id) == 0 && self->execution != NULL) {
		aiq_designer_execution_view_reload(self);
		return;
	}
	g_free(self->execution_id);
	self->execution_id = g_strdup(id);
	g_clear_pointer(&self->execution, json_node_unref);
	g_cancellable_cancel(self->action_cancellable);
	g_clear_object(&self->action_cancellable);
	aiq_designer_execution_view_reload(self);
}

static gboolean
aiq_designer_execution_view_refetch_cb(gpointer user_data)
{
	AiqDesignerExecutionView *self = AIQ_DESIGNER_EXECUTION_VIEW(user_data);
	self->refetch_id = 0;
	aiq_designer_execution_view_reload(self);
	return G_SOURCE_REMOVE;
}

static void
aiq_designer_execution_view_event_cb(AiqDesignerExecutionView *self,
				     const gchar *type,
				     JsonObject *data)
{
	const gchar *id = g_strcmp0(type, "step.updated") == 0
				  ? aiq_json_object_get_string(data, "execution_id")
				  : aiq_json_object_get_string(data, "id");
	if (self->execution_id == NULL || g_strcmp0(id, self->execution_id) != 0)
		return;
	/* a burst of step events makes one fetch */
	if (self->refetch_id == 0)
		self->refetch_id = g_timeout_add(AIQ_DESIGNER_EXECUTION_VIEW_DEBOUNCE_MS,
						 aiq_designer_execution_view_refetch_cb,
						 self);
}

/* actions */

static void
aiq_designer_execution_view_action_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerExecutionView) self = AIQ_DESIGNER_EXECUTION_VIEW(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	const gchar *id;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (aiq_designer_error_is_cancelled(error))
		return;
	g_clear_object(&self->action_cancellable);
	aiq_designer_execution_view_update_actions(self);
	if (node == NULL) {
		aiq_designer_show_error(GTK_WIDGET(self), error);
		return;
	}
	id = JSON_NODE_HOLDS_OBJECT(node)
		     ? aiq_json_object_get_string(json_node_get_object(node), "id")
		     : NULL;
	/* a retry is a new execution: show it; a cancel is this one */
	if (id != NULL && g_strcmp0(id, self->execution_id) != 0) {
		if (!gtk_widget_activate_action(GTK_WIDGET(self), "win.show-execution", "s", id))
			aiq_designer_execution_view_set_execution_id(self, id);
		return;
	}
	if (JSON_NODE_HOLDS_OBJECT(node) &&
	    json_object_has_member(json_node_get_object(node), "steps")) {
		g_clear_pointer(&self->execution, json_node_unref);
		self->execution = g_steal_pointer(&node);
		aiq_designer_execution_view_show(self);
		return;
	}
	aiq_designer_execution_view_reload(self);
}

static AiqClient *
aiq_designer_execution_view_begin_action(AiqDesignerExecutionView *self)
{
	AiqClient *client = aiq_designer_session_get_client(self->session);
	if (client == NULL || self->execution_id == NULL || self->action_cancellable != NULL)
		return NULL;
	self->action_cancellable = g_cancellable_new();
	aiq_designer_execution_view_update_actions(self);
	return client;
}

static void
aiq_designer_execution_view_cancel_action(GtkWidget *widget,
					  const gchar *action_name,
					  GVariant *param)
{
	AiqDesignerExecutionView *self = AIQ_DESIGNER_EXECUTION_VIEW(widget);
	AiqClient *client = aiq_designer_execution_view_begin_action(self);
	if (client == NULL)
		return;
	aiq_client_cancel_execution_async(client,
					  self->execution_id,
					  self->action_cancellable,
					  aiq_designer_execution_view_action_cb,
					  g_object_ref(self));
}

static void
aiq_designer_execution_view_retry_action(GtkWidget *widget,
					 const gchar *action_name,
					 GVariant *param)
{
	AiqDesignerExecutionView *self = AIQ_DESIGNER_EXECUTION_VIEW(widget);
	AiqClient *client = aiq_designer_execution_view_begin_action(self);
	if (client == NULL)
		return;
	aiq_client_retry_execution_async(client,
					 self->execution_id,
					 self->action_cancellable,
					 aiq_designer_execution_view_action_cb,
					 g_object_ref(self));
}

static void
aiq_designer_execution_view_workflow_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerExecutionView) self = AIQ_DESIGNER_EXECUTION_VIEW(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonObject *execution = aiq_designer_execution_view_get_execution(self);
	JsonNode *definition = NULL;
	GtkWidget *dialog;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (aiq_designer_error_is_cancelled(error))
		return;
	g_clear_object(&self->action_cancellable);
	aiq_designer_execution_view_update_actions(self);
	if (node == NULL) {
		aiq_designer_show_error(GTK_WIDGET(self), error);
		return;
	}
	if (execution == NULL)
		return;
	if (JSON_NODE_HOLDS_OBJECT(node))
		definition = json_object_get_member(json_node_get_object(node), "definition");
	dialog = aiq_designer_run_dialog_new(GTK_WIDGET(self),
					     self->session,
					     aiq_json_object_get_string(execution, "workflow_id"),
					     definition,
					     aiq_json_object_get_object(execution, "inputs"),
					     self->execution_id);
	gtk_window_present(GTK_WINDOW(dialog));
}

static void
aiq_designer_execution_view_rerun_action(GtkWidget *widget,
					 const gchar *action_name,
					 GVariant *param)
{
	AiqDesignerExecutionView *self = AIQ_DESIGNER_EXECUTION_VIEW(widget);
	JsonObject *execution = aiq_designer_execution_view_get_execution(self);
	AiqClient *client;
	if (execution == NULL)
		return;
	client = aiq_designer_execution_view_begin_action(self);
	if (client == NULL)
		return;
	/* the inputs the execution's own version declares */
	aiq_client_get_workflow_async(client,
				      aiq_json_object_get_string(execution, "workflow_id"),
				      (gint)aiq_json_object_get_int(execution, "version", 0),
				      self->action_cancellable,
				      aiq_designer_execution_view_workflow_cb,
				      g_object_ref(self));
}

static void
aiq_designer_execution_view_reload_action(GtkWidget *widget,
					  const gchar *action_name,
					  GVariant *param)
{
	aiq_designer_execution_view_reload(AIQ_DESIGNER_EXECUTION_VIEW(widget));
}

static void
aiq_designer_execution_view_constructed(GObject *object)
{
	AiqDesignerExecutionView *self = AIQ_DESIGNER_EXECUTION_VIEW(object);
	G_OBJECT_CLASS(aiq_designer_execution_view_parent_class)->constructed(object);
	g_signal_connect_object(self->session,
				"event::execution.updated",
				G_CALLBACK(aiq_designer_execution_view_event_cb),
				self,
				G_CONNECT_SWAPPED);
	g_signal_connect_object(self->session,
				"event::step.updated",
				G_CALLBACK(aiq_designer_execution_view_event_cb),
				self,
				G_CONNECT_SWAPPED);
	g_signal_connect_object(self->session,
				"reconnected",
				G_CALLBACK(aiq_designer_execution_view_reload),
				self,
				G_CONNECT_SWAPPED);
	aiq_designer_execution_view_update_actions(self);
}

static void
aiq_designer_execution_view_get_property(GObject *object,
					 guint prop_id,
					 GValue *value,
					 GParamSpec *pspec)
{
	AiqDesignerExecutionView *self = AIQ_DESIGNER_EXECUTION_VIEW(object);
	switch (prop_id) {
	case PROP_SESSION:
		g_value_set_object(value, self->session);
		break;
	case PROP_STATUS:
		g_value_set_string(value, aiq_designer_execution_view_get_status(self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_execution_view_set_property(GObject *object,
					 guint prop_id,
					 const GValue *value,
					 GParamSpec *pspec)
{
	AiqDesignerExecutionView *self = AIQ_DESIGNER_EXECUTION_VIEW(object);
	switch (prop_id) {
	case PROP_SESSION:
		self->session = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_execution_view_dispose(GObject *object)
{
	AiqDesignerExecutionView *self = AIQ_DESIGNER_EXECUTION_VIEW(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_cancellable_cancel(self->action_cancellable);
	g_clear_object(&self->action_cancellable);
	g_clear_handle_id(&self->refetch_id, g_source_remove);
	/* AdwBin unparents its child itself: before the template lets go of it */
	adw_bin_set_child(ADW_BIN(self), NULL);
	gtk_widget_dispose_template(GTK_WIDGET(self), AIQ_DESIGNER_TYPE_EXECUTION_VIEW);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(aiq_designer_execution_view_parent_class)->dispose(object);
}

static void
aiq_designer_execution_view_finalize(GObject *object)
{
	AiqDesignerExecutionView *self = AIQ_DESIGNER_EXECUTION_VIEW(object);
	g_free(self->execution_id);
	g_free(self->status_class);
	g_clear_pointer(&self->execution, json_node_unref);
	G_OBJECT_CLASS(aiq_designer_execution_view_parent_class)->finalize(object);
}

static void
aiq_designer_execution_view_class_init(AiqDesignerExecutionViewClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	object_class->constructed = aiq_designer_execution_view_constructed;
	object_class->get_property = aiq_designer_execution_view_get_property;
	object_class->set_property = aiq_designer_execution_view_set_property;
	object_class->dispose = aiq_designer_execution_view_dispose;
	object_class->finalize = aiq_designer_execution_view_finalize;
	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	props[PROP_STATUS] = g_param_spec_string("status",
						 NULL,
						 NULL,
						 NULL,
						 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	g_type_ensure(AIQ_DESIGNER_TYPE_TIMELINE);
	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-execution-view.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, error_page);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, title_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, status_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, trigger_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, created_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, started_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, finished_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, duration_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, error_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, cancel_button);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, retry_button);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, rerun_button);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, timeline);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionView, steps_list);
	gtk_widget_class_install_action(widget_class,
					"view.cancel",
					NULL,
					aiq_designer_execution_view_cancel_action);
	gtk_widget_class_install_action(widget_class,
					"view.retry",
					NULL,
					aiq_designer_execution_view_retry_action);
	gtk_widget_class_install_action(widget_class,
					"view.rerun",
					NULL,
					aiq_designer_execution_view_rerun_action);
	gtk_widget_class_install_action(widget_class,
					"view.reload",
					NULL,
					aiq_designer_execution_view_reload_action);
}

static void
aiq_designer_execution_view_init(AiqDesignerExecutionView *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

GtkWidget *
aiq_designer_execution_view_new(AiqDesignerSession *session)
{
	return g_object_new(AIQ_DESIGNER_TYPE_EXECUTION_VIEW, "session", session, NULL);
}
