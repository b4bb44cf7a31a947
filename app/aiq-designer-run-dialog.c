/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The dialog that starts a workflow (or runs an execution again): one field
 * per input the definition declares, checked before anything is sent, and
 * the server's refusal shown in the dialog. On success the dialog closes
 * and the parent's window shows the new execution (`win.show-execution`).
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "aiq-designer-run-dialog.h"
#include "aiq-designer-util.h"
#include "aiq-json.h"

typedef struct {
	gchar *name;
	gchar *type;
	gchar *description;
	gboolean required;
	JsonArray *choices;
	JsonNode *default_value;
	GtkWidget *row;
	GtkWidget *widget; /* GtkEntry, GtkSwitch or the AdwComboRow */
	gchar *error;
} AiqDesignerRunField;

struct _AiqDesignerRunDialog {
	AdwWindow parent_instance;
	AdwPreferencesGroup *inputs_group;
	GtkLabel *error_label;
	GtkButton *run_button;
	GtkSpinner *spinner;

	GtkWidget *parent;
	AiqDesignerSession *session;
	gchar *workflow_id;
	gchar *rerun_of;
	GPtrArray *fields; /* of AiqDesignerRunField */
	GCancellable *cancellable;
	gchar *last_body;
	gchar *idempotency_key;
};

G_DEFINE_TYPE(AiqDesignerRunDialog, aiq_designer_run_dialog, ADW_TYPE_WINDOW)

static void
aiq_designer_run_field_free(AiqDesignerRunField *field)
{
	g_free(field->name);
	g_free(field->type);
	g_free(field->description);
	g_clear_pointer(&field->choices, json_array_unref);
	g_clear_pointer(&field->default_value, json_node_unref);
	g_free(field->error);
	g_free(field);
}

static AiqDesignerRunField *
aiq_designer_run_dialog_find_field(AiqDesignerRunDialog *self, const gchar *name)
{
	for (guint i = 0; i < self->fields->len; i++) {
		AiqDesignerRunField *field = g_ptr_array_index(self->fields, i);
		if (g_strcmp0(field->name, name) == 0)
			return field;
	}
	return NULL;
}

/**
 * aiq_designer_run_dialog_get_field:
 *
 * Returns: (transfer none) (nullable): the widget that edits an input: a
 *   GtkEntry, a GtkSwitch (boolean) or an AdwComboRow (choices)
 */
GtkWidget *
aiq_designer_run_dialog_get_field(AiqDesignerRunDialog *self, const gchar *name)
{
	AiqDesignerRunField *field;
	g_return_val_if_fail(AIQ_DESIGNER_IS_RUN_DIALOG(self), NULL);
	field = aiq_designer_run_dialog_find_field(self, name);
	return field != NULL ? field->widget : NULL;
}

/**
 * aiq_designer_run_dialog_get_field_error:
 *
 * Returns: (nullable): what is wrong with an input's value, as shown
 */
const gchar *
aiq_designer_run_dialog_get_field_error(AiqDesignerRunDialog *self, const gchar *name)
{
	AiqDesignerRunField *field;
	g_return_val_if_fail(AIQ_DESIGNER_IS_RUN_DIALOG(self), NULL);
	field = aiq_designer_run_dialog_find_field(self, name);
	return field != NULL ? field->error : NULL;
}

/**
 * aiq_designer_run_dialog_get_error:
 *
 * Returns: (nullable): the server's refusal, as shown
 */
const gchar *
aiq_designer_run_dialog_get_error(AiqDesignerRunDialog *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_RUN_DIALOG(self), NULL);
	if (!gtk_widget_get_visible(GTK_WIDGET(self->error_label)))
		return NULL;
	return gtk_label_get_text(self->error_label);
}

static void
aiq_designer_run_dialog_set_field_error(AiqDesignerRunField *field, const gchar *error)
{
	g_free(field->error);
	field->error = g_strdup(error);
	if (error != NULL) {
		gtk_widget_add_css_class(field->row, "error");
		adw_action_row_set_subtitle(ADW_ACTION_ROW(field->row), error);
	} else {
		gtk_widget_remove_css_class(field->row, "error");
		adw_action_row_set_subtitle(ADW_ACTION_ROW(field->row),
					    field->description != NULL ? field->description : "");
	}
}

static void
aiq_designer_run_dialog_set_error(AiqDesignerRunDialog *self, const gchar *message)
{
	gtk_label_set_text(self->error_label, message != NULL ? message : "");
	gtk_widget_set_visible(GTK_WIDGET(self->error_label), message != NULL);
}

/* the value of a field, or NULL (with its error set when it is wrong, or
 * no error when it is empty and optional) */
static JsonNode *
aiq_designer_run_dialog_field_value(AiqDesignerRunField *field)
{
	const gchar *text;
	g_autofree gchar *stripped = NULL;

	aiq_designer_run_dialog_set_field_error(field, NULL);
	if (GTK_IS_SWITCH(field->widget)) {
		JsonNode *node = json_node_new(JSON_NODE_VALUE);
		json_node_set_boolean(node, gtk_switch_get_active(GTK_SWITCH(field->widget)));
		return node;
	}
	if (ADW_IS_COMBO_ROW(field->widget)) {
		guint selected = adw_combo_row_get_selected(ADW_COMBO_ROW(field->widget));
		/* the first entry is "no value" */
		if (selected == 0 || selected == GTK_INVALID_LIST_POSITION) {
			if (field->required)
				aiq_designer_run_dialog_set_field_error(field, _("Choose a value"));
			return NULL;
		}
		return json_node_copy(json_array_get_element(field->choices, selected - 1));
	}
	text = gtk_editable_get_text(GTK_EDITABLE(field->widget));
	stripped = g_strstrip(g_strdup(text));
	if (g_strcmp0(field->type, "string") != 0 && stripped[0] == '\0') {
		if (field->required)
			aiq_designer_run_dialog_set_field_error(field, _("A value is required"));
		return NULL;
	}
	if (g_strcmp0(field->type, "string") == 0) {
		JsonNode *node;
		if (text[0] == '\0') {
			if (field->required)
				aiq_designer_run_dialog_set_field_error(field,
									_("A value is required"));
			return NULL;
		}
		node = json_node_new(JSON_NODE_VALUE);
		json_node_set_string(node, text);
		return node;
	}
	if (g_strcmp0(field->type, "integer") == 0) {
		gint64 value = 0;
		JsonNode *node;
		if (!g_ascii_string_to_signed(stripped, 10, G_MININT64, G_MAXINT64, &value, NULL)) {
			aiq_designer_run_dialog_set_field_error(field, _("Not a whole number"));
			return NULL;
		}
		node = json_node_new(JSON_NODE_VALUE);
		json_node_set_int(node, value);
		return node;
	}
	if (g_strcmp0(field->type, "number") == 0) {
		gchar *end = NULL;
		gdouble value = g_ascii_strtod(stripped, &end);
		JsonNode *node;
		if (end == stripped || *end != '\0' || !isfinite(value)) {
			aiq_designer_run_dialog_set_field_error(field, _("Not a number"));
			return NULL;
		}
		node = json_node_new(JSON_NODE_VALUE);
		json_node_set_double(node, value);
		return node;
	}
	/* object, array, any: JSON */
	{
		g_autoptr(JsonParser) parser = json_parser_new();
		g_autoptr(GError) error = NULL;
		JsonNode *root;
		if (!json_parser_load_from_data(parser, stripped, -1, &error)) {
			g_autofree gchar *msg =
				g_strdup_printf(_("Not valid JSON: %s"), error->message);
			aiq_designer_run_dialog_set_field_error(field, msg);
			return NULL;
		}
		root = json_parser_get_root(parser);
		if (g_strcmp0(field->type, "object") == 0 && !JSON_NODE_HOLDS_OBJECT(root)) {
			aiq_designer_run_dialog_set_field_error(field, _("Not a JSON object"));
			return NULL;
		}
		if (g_strcmp0(field->type, "array") == 0 && !JSON_NODE_HOLDS_ARRAY(root)) {
			aiq_designer_run_dialog_set_field_error(field, _("Not a JSON array"));
			return NULL;
		}
		return json_node_copy(root);
	}
}

/**
 * aiq_designer_run_dialog_collect_inputs:
 *
 * Checks every field and shows what is wrong next to it.
 *
 * Returns: (transfer full) (nullable): the inputs, or %NULL when a field
 *   is wrong
 */
JsonObject *
aiq_designer_run_dialog_collect_inputs(AiqDesignerRunDialog *self)
{
	g_autoptr(JsonObject) inputs = json_object_new();
	gboolean ok = TRUE;

	g_return_val_if_fail(AIQ_DESIGNER_IS_RUN_DIALOG(self), NULL);
	for (guint i = 0; i < self->fields->len; i++) {
		AiqDesignerRunField *field = g_ptr_array_index(self->fields, i);
		JsonNode *value = aiq_designer_run_dialog_field_value(field);
		if (field->error != NULL)
			ok = FALSE;
		if (value != NULL)
			json_object_set_member(inputs, field->name, value);
	}
	return ok ? g_steal_pointer(&inputs) : NULL;
}

static void
aiq_designer_run_dialog_set_busy(AiqDesignerRunDialog *self, gboolean busy)
{
	gtk_widget_set_sensitive(GTK_WIDGET(self->run_button), !busy);
	gtk_widget_set_visible(GTK_WIDGET(self->spinner), busy);
	gtk_spinner_set_spinning(self->spinner, busy);
}

static void
aiq_designer_run_dialog_run_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerRunDialog) self = AIQ_DESIGNER_RUN_DIALOG(user_data);
	g_autoptr(AiqClientReply) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	const gchar *id = NULL;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, &reply, &error);
	if (aiq_designer_error_is_cancelled(error))
		return;
	aiq_designer_run_dialog_set_busy(self, FALSE);
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node))
		id = aiq_json_object_get_string(json_node_get_object(node), "id");
	if (id == NULL) {
		AiqProblems *problems = reply != NULL ? aiq_client_reply_get_problems(reply) : NULL;
		g_autofree gchar *message = NULL;
		if (problems != NULL && aiq_problems_get_size(problems) > 0) {
			g_autofree gchar *list = aiq_problems_to_string(problems, NULL);
			message = g_strdup_printf("%s\n%s",
						  error != NULL ? error->message : "",
						  list);
		} else {
			message =
				g_strdup(error != NULL ? error->message
						       : _("The server's answer has no execution"));
		}
		aiq_designer_run_dialog_set_error(self, message);
		return;
	}
	if (self->parent != NULL)
		gtk_widget_activate_action(self->parent, "win.show-execution", "s", id);
	gtk_window_destroy(GTK_WINDOW(self));
}

static void
aiq_designer_run_dialog_run_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerRunDialog *self = AIQ_DESIGNER_RUN_DIALOG(widget);
	AiqClient *client = aiq_designer_session_get_client(self->session);
	g_autoptr(JsonObject) inputs = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autofree gchar *body_text = NULL;

	aiq_designer_run_dialog_set_error(self, NULL);
	inputs = aiq_designer_run_dialog_collect_inputs(self);
	if (inputs == NULL) {
		aiq_designer_run_dialog_set_error(self, _("Some inputs need fixing"));
		return;
	}
	if (client == NULL) {
		aiq_designer_run_dialog_set_error(self, _("Not logged in"));
		return;
	}
	/* the same request twice (after a lost answer) starts one execution */
	body = json_node_init_object(json_node_alloc(), inputs);
	body_text = json_to_string(body, FALSE);
	if (self->idempotency_key == NULL || g_strcmp0(body_text, self->last_body) != 0) {
		g_free(self->idempotency_key);
		self->idempotency_key = g_uuid_string_random();
		g_free(self->last_body);
		self->last_body = g_steal_pointer(&body_text);
	}
	aiq_designer_run_dialog_set_busy(self, TRUE);
	if (self->rerun_of != NULL) {
		aiq_client_rerun_execution_async(client,
						 self->rerun_of,
						 inputs,
						 self->cancellable,
						 aiq_designer_run_dialog_run_cb,
						 g_object_ref(self));
	} else {
		aiq_client_start_execution_async(client,
						 self->workflow_id,
						 inputs,
						 self->idempotency_key,
						 self->cancellable,
						 aiq_designer_run_dialog_run_cb,
						 g_object_ref(self));
	}
}

static void
aiq_designer_run_dialog_cancel_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	gtk_window_destroy(GTK_WINDOW(widget));
}

static gchar *
aiq_designer_run_dialog_node_to_text(JsonNode *node, const gchar *type)
{
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	if (g_strcmp0(type, "string") == 0 && aiq_json_is_string(node))
		return g_strdup(json_node_get_string(node));
	return json_to_string(node, FALSE);
}

static void
aiq_designer_run_dialog_add_field(AiqDesignerRunDialog *self,
				  const gchar *name,
				  JsonObject *spec,
				  JsonNode *initial)
{
	AiqDesignerRunField *field = g_new0(AiqDesignerRunField, 1);
	const gchar *type = spec != NULL ? aiq_json_object_get_string(spec, "type") : NULL;
	JsonArray *choices = spec != NULL ? aiq_json_object_get_array(spec, "choices") : NULL;
	JsonNode *default_value = spec != NULL ? json_object_get_member(spec, "default") : NULL;
	g_autofree gchar *title = NULL;

	field->name = g_strdup(name);
	field->type = g_strdup(type != NULL ? type : "string");
	field->description =
		g_strdup(spec != NULL ? aiq_json_object_get_string(spec, "description") : NULL);
	field->required = spec != NULL && json_object_has_member(spec, "required") &&
			  aiq_json_is_bool(json_object_get_member(spec, "required")) &&
			  json_object_get_boolean_member(spec, "required");
	field->default_value = default_value != NULL ? json_node_copy(default_value) : NULL;
	/* TRANSLATORS: the title of a required input of the run dialog */
	title = field->required ? g_strdup_printf(_("%s (required)"), name) : g_strdup(name);

	if (choices != NULL && json_array_get_length(choices) > 0) {
		g_autoptr(GtkStringList) list = gtk_string_list_new(NULL);
		guint selected = 0;
		field->choices = json_array_ref(choices);
		gtk_string_list_append(list, field->required ? _("Choose…") : _("Default"));
		for (guint i = 0; i < json_array_get_length(choices); i++) {
			JsonNode *choice = json_array_get_element(choices, i);
			g_autofree gchar *text =
				aiq_designer_run_dialog_node_to_text(choice, "string");
			gtk_string_list_append(list, text != NULL ? text : "null");
			if (initial != NULL && json_node_equal(initial, choice))
				selected = i + 1;
		}
		field->row = adw_combo_row_new();
		adw_combo_row_set_model(ADW_COMBO_ROW(field->row), G_LIST_MODEL(list));
		adw_combo_row_set_selected(ADW_COMBO_ROW(field->row), selected);
		field->widget = field->row;
	} else if (g_strcmp0(field->type, "boolean") == 0) {
		JsonNode *value = initial != NULL ? initial : default_value;
		field->row = adw_action_row_new();
		field->widget = gtk_switch_new();
		gtk_widget_set_valign(field->widget, GTK_ALIGN_CENTER);
		gtk_switch_set_active(GTK_SWITCH(field->widget),
				      value != NULL && aiq_json_is_bool(value) &&
					      json_node_get_boolean(value));
		adw_action_row_add_suffix(ADW_ACTION_ROW(field->row), field->widget);
		adw_action_row_set_activatable_widget(ADW_ACTION_ROW(field->row), field->widget);
	} else {
		g_autofree gchar *text = aiq_designer_run_dialog_node_to_text(initial, field->type);
		g_autofree gchar *placeholder =
			aiq_designer_run_dialog_node_to_text(default_value, field->type);
		field->row = adw_action_row_new();
		field->widget = gtk_entry_new();
		gtk_widget_set_valign(field->widget, GTK_ALIGN_CENTER);
		gtk_widget_set_hexpand(field->widget, TRUE);
		gtk_entry_set_activates_default(GTK_ENTRY(field->widget), TRUE);
		if (text != NULL)
			gtk_editable_set_text(GTK_EDITABLE(field->widget), text);
		if (placeholder != NULL)
			gtk_entry_set_placeholder_text(GTK_ENTRY(field->widget), placeholder);
		if (g_strcmp0(field->type, "integer") == 0 || g_strcmp0(field->type, "number") == 0)
			gtk_entry_set_input_purpose(GTK_ENTRY(field->widget),
						    g_strcmp0(field->type, "integer") == 0
							    ? GTK_INPUT_PURPOSE_DIGITS
							    : GTK_INPUT_PURPOSE_NUMBER);
		else if (g_strcmp0(field->type, "string") != 0)
			gtk_widget_add_css_class(field->widget, "monospace");
		gtk_accessible_update_property(GTK_ACCESSIBLE(field->widget),
					       GTK_ACCESSIBLE_PROPERTY_LABEL,
					       name,
					       -1);
		adw_action_row_add_suffix(ADW_ACTION_ROW(field->row), field->widget);
	}
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(field->row), title);
	if (field->description != NULL)
		adw_action_row_set_subtitle(ADW_ACTION_ROW(field->row), field->description);
	adw_preferences_group_add(self->inputs_group, field->row);
	g_ptr_array_add(self->fields, field);
}

static void
aiq_designer_run_dialog_build(AiqDesignerRunDialog *self,
			      JsonNode *definition,
			      JsonObject *initial_inputs)
{
	JsonObject *inputs = NULL;
	if (definition != NULL && JSON_NODE_HOLDS_OBJECT(definition))
		inputs = aiq_json_object_get_object(json_node_get_object(definition), "inputs");
	if (inputs == NULL || json_object_get_size(inputs) == 0) {
		adw_preferences_group_set_description(self->inputs_group,
						      _("This workflow takes no inputs."));
		return;
	}
	{
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *spec;
		json_object_iter_init(&iter, inputs);
		while (json_object_iter_next(&iter, &name, &spec)) {
			JsonNode *initial = initial_inputs != NULL
						    ? json_object_get_member(initial_inputs, name)
						    : NULL;
			aiq_designer_run_dialog_add_field(
				self,
				name,
				JSON_NODE_HOLDS_OBJECT(spec) ? json_node_get_object(spec) : NULL,
				initial);
		}
	}
}

static void
aiq_designer_run_dialog_dispose(GObject *object)
{
	AiqDesignerRunDialog *self = AIQ_DESIGNER_RUN_DIALOG(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->parent);
	g_clear_object(&self->session);
	gtk_widget_dispose_template(GTK_WIDGET(self), AIQ_DESIGNER_TYPE_RUN_DIALOG);
	G_OBJECT_CLASS(aiq_designer_run_dialog_parent_class)->dispose(object);
}

static void
aiq_designer_run_dialog_finalize(GObject *object)
{
	AiqDesignerRunDialog *self = AIQ_DESIGNER_RUN_DIALOG(object);
	g_ptr_array_unref(self->fields);
	g_free(self->workflow_id);
	g_free(self->rerun_of);
	g_free(self->last_body);
	g_free(self->idempotency_key);
	G_OBJECT_CLASS(aiq_designer_run_dialog_parent_class)->finalize(object);
}

static void
aiq_designer_run_dialog_class_init(AiqDesignerRunDialogClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	object_class->dispose = aiq_designer_run_dialog_dispose;
	object_class->finalize = aiq_designer_run_dialog_finalize;
	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-run-dialog.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerRunDialog, inputs_group);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerRunDialog, error_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerRunDialog, run_button);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerRunDialog, spinner);
	gtk_widget_class_install_action(widget_class,
					"run.run",
					NULL,
					aiq_designer_run_dialog_run_action);
	gtk_widget_class_install_action(widget_class,
					"run.cancel",
					NULL,
					aiq_designer_run_dialog_cancel_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "run.cancel", NULL);
}

static void
aiq_designer_run_dialog_init(AiqDesignerRunDialog *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->fields = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_designer_run_field_free);
	self->cancellable = g_cancellable_new();
}

/**
 * aiq_designer_run_dialog_new:
 * @parent: the widget whose window the dialog is for, and on which
 *   `win.show-execution` is activated with the new execution
 * @definition: the workflow's definition, for its `inputs`
 * @initial_inputs: (nullable): values to start with
 * @rerun_of: (nullable): an execution to run again with the inputs, rather
 *   than a new start of @workflow_id
 */
GtkWidget *
aiq_designer_run_dialog_new(GtkWidget *parent,
			    AiqDesignerSession *session,
			    const gchar *workflow_id,
			    JsonNode *definition,
			    JsonObject *initial_inputs,
			    const gchar *rerun_of)
{
	AiqDesignerRunDialog *self;
	GtkRoot *root;

	g_return_val_if_fail(parent == NULL || GTK_IS_WIDGET(parent), NULL);
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(session), NULL);
	g_return_val_if_fail(workflow_id != NULL || rerun_of != NULL, NULL);

	self = g_object_new(AIQ_DESIGNER_TYPE_RUN_DIALOG, NULL);
	self->parent = parent != NULL ? g_object_ref(parent) : NULL;
	self->session = g_object_ref(session);
	self->workflow_id = g_strdup(workflow_id);
	self->rerun_of = g_strdup(rerun_of);
	root = parent != NULL ? gtk_widget_get_root(parent) : NULL;
	if (root != NULL && GTK_IS_WINDOW(root))
		gtk_window_set_transient_for(GTK_WINDOW(self), GTK_WINDOW(root));
	gtk_window_set_title(GTK_WINDOW(self),
			     rerun_of != NULL ? _("Run Again") : _("Run Workflow"));
	aiq_designer_run_dialog_build(self, definition, initial_inputs);
	return GTK_WIDGET(self);
}
