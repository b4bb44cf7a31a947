/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-cron.h"
#include "aiq-designer-cron.h"
#include "aiq-designer-param-row.h"
#include "aiq-designer-workflow-form.h"
#include "aiq-json.h"
#include "aiq-util.h"

/* how many fire times a schedule shows */
#define AIQ_WORKFLOW_FORM_N_FIRE_TIMES 5

/**
 * AiqDesignerWorkflowForm:
 *
 * The form of the workflow itself: name, description, where it runs, its
 * timeout and concurrency, its triggers (a schedule shows what its cron
 * expression means and when it fires next, a webhook its URL) and its
 * inputs. Edits go to the #AiqDesignerDocument as they are made; the form is
 * rebuilt when triggers or inputs are added, removed or renamed.
 */

typedef enum {
	AIQ_WORKFLOW_FORM_TARGET_MEMBER,
	AIQ_WORKFLOW_FORM_TARGET_RUNS_ON,
	AIQ_WORKFLOW_FORM_TARGET_TRIGGER,
	AIQ_WORKFLOW_FORM_TARGET_INPUT,
} AiqWorkflowFormTarget;

struct _AiqDesignerWorkflowForm {
	AdwBin parent_instance;
	AiqDesignerDocument *document;
	gulong changed_id;
	gchar *webhook_url;
	gchar *shape; /* trigger kinds and input names the widgets were built for */
	AiqProblems *problems;
	GtkWidget *problems_label;
	GPtrArray *rows;         /* of AiqDesignerParamRow, owned by the page */
	GPtrArray *schedules;    /* of GtkWidget: the schedule expander rows */
	GPtrArray *webhook_rows; /* of AdwActionRow */
	guint rebuild_id;
};

G_DEFINE_TYPE(AiqDesignerWorkflowForm, aiq_designer_workflow_form, ADW_TYPE_BIN)

static const AiqParam aiq_workflow_form_params[] = {
	{ "name",
	  AIQ_PARAM_STRING,
	  TRUE,
	  NULL,
	  N_("Letters, digits and - _ . (up to 128)."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "description",
	  AIQ_PARAM_TEXT,
	  FALSE,
	  NULL,
	  N_("What the workflow does, for people."),
	  NULL,
	  AIQ_PARAM_FLAG_RAW },
	{ "runs_on",
	  AIQ_PARAM_STRING_LIST,
	  FALSE,
	  NULL,
	  N_("Agent labels: an agent runs the workflow only if it has every one."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "timeout",
	  AIQ_PARAM_DURATION,
	  FALSE,
	  NULL,
	  N_("The longest a whole execution may take; running steps are then cancelled."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "concurrency",
	  AIQ_PARAM_INTEGER,
	  FALSE,
	  NULL,
	  N_("How many executions of this workflow may run at once."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ NULL },
};

static const gchar *const aiq_workflow_form_catch_up[] = { "none", "last", "all", NULL };
static const gchar *const aiq_workflow_form_respond[] = { "accepted", "on_finish", NULL };
static const gchar *const aiq_workflow_form_input_types[] = {
	"string", "integer", "number", "boolean", "object", "array", "any", NULL,
};

static const AiqParam aiq_workflow_form_schedule_params[] = {
	{ "cron",
	  AIQ_PARAM_STRING,
	  TRUE,
	  NULL,
	  N_("Minute, hour, day of month, month, day of week, e.g. 0 2 * * 1-5; or @daily."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "timezone",
	  AIQ_PARAM_STRING,
	  FALSE,
	  "\"UTC\"",
	  N_("The IANA time zone the times are in, e.g. Europe/Paris."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "catch_up",
	  AIQ_PARAM_ENUM,
	  FALSE,
	  "\"last\"",
	  N_("What happens to fire times missed while the server was down: none, the last "
	     "one, or all."),
	  aiq_workflow_form_catch_up,
	  AIQ_PARAM_FLAG_LITERAL },
	{ NULL },
};

static const AiqParam aiq_workflow_form_webhook_params[] = {
	{ "respond",
	  AIQ_PARAM_ENUM,
	  FALSE,
	  "\"accepted\"",
	  N_("Answer at once with the execution id (accepted), or with the result when it "
	     "finishes (on_finish)."),
	  aiq_workflow_form_respond,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "timeout",
	  AIQ_PARAM_DURATION,
	  FALSE,
	  "\"30s\"",
	  N_("With on_finish: how long to wait for the result before answering 202."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "headers",
	  AIQ_PARAM_STRING_LIST,
	  FALSE,
	  NULL,
	  N_("Request headers passed on to the workflow as inputs."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "signature_header",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("Require an HMAC-SHA256 of the body in this header."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ NULL },
};

static const AiqParam aiq_workflow_form_input_params[] = {
	{ "name",
	  AIQ_PARAM_STRING,
	  TRUE,
	  NULL,
	  N_("How expressions name it: inputs.NAME."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "type",
	  AIQ_PARAM_ENUM,
	  FALSE,
	  "\"string\"",
	  N_("The type of the value."),
	  aiq_workflow_form_input_types,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "default",
	  AIQ_PARAM_JSON,
	  FALSE,
	  NULL,
	  N_("The value when none is given, as JSON."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "required",
	  AIQ_PARAM_BOOLEAN,
	  FALSE,
	  "false",
	  N_("Whether every execution must give it."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "description",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("What it means, for people."),
	  NULL,
	  AIQ_PARAM_FLAG_RAW },
	{ "choices",
	  AIQ_PARAM_ARRAY,
	  FALSE,
	  NULL,
	  N_("The only values allowed, as a JSON list."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ NULL },
};

static void
aiq_designer_workflow_form_rebuild(AiqDesignerWorkflowForm *self);

/* ------------------------------------------------------------------------
 * reading the document
 */

static JsonArray *
aiq_designer_workflow_form_get_triggers(AiqDesignerWorkflowForm *self)
{
	JsonNode *node = self->document != NULL
				 ? aiq_designer_document_get_member(self->document, "triggers")
				 : NULL;
	return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

static JsonObject *
aiq_designer_workflow_form_get_inputs(AiqDesignerWorkflowForm *self)
{
	JsonNode *node = self->document != NULL
				 ? aiq_designer_document_get_member(self->document, "inputs")
				 : NULL;
	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

/* the one member of a trigger, e.g. "schedule", and its spec */
static const gchar *
aiq_designer_workflow_form_trigger_kind(JsonNode *trigger, JsonObject **spec)
{
	JsonObject *obj;
	g_autoptr(GList) members = NULL;
	JsonNode *node;
	const gchar *kind;
	if (spec != NULL)
		*spec = NULL;
	if (trigger == NULL || !JSON_NODE_HOLDS_OBJECT(trigger))
		return NULL;
	obj = json_node_get_object(trigger);
	members = json_object_get_members(obj);
	if (members == NULL || members->next != NULL)
		return NULL;
	kind = members->data;
	node = json_object_get_member(obj, kind);
	if (spec != NULL && node != NULL && JSON_NODE_HOLDS_OBJECT(node))
		*spec = json_node_get_object(node);
	return kind;
}

static gchar *
aiq_designer_workflow_form_dup_shape(AiqDesignerWorkflowForm *self)
{
	JsonArray *triggers = aiq_designer_workflow_form_get_triggers(self);
	JsonObject *inputs = aiq_designer_workflow_form_get_inputs(self);
	g_autoptr(GString) str = g_string_new(NULL);
	if (self->document == NULL)
		return g_strdup("");
	for (guint i = 0; triggers != NULL && i < json_array_get_length(triggers); i++) {
		const gchar *kind =
			aiq_designer_workflow_form_trigger_kind(json_array_get_element(triggers, i),
								NULL);
		g_string_append_printf(str, "%s,", kind != NULL ? kind : "?");
	}
	g_string_append_c(str, '|');
	if (inputs != NULL) {
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *member;
		json_object_iter_init_ordered(&iter, inputs);
		while (json_object_iter_next_ordered(&iter, &name, &member))
			g_string_append_printf(str, "%s,", name);
	}
	return g_string_free(g_steal_pointer(&str), FALSE);
}

static JsonNode *
aiq_designer_workflow_form_lookup_value(AiqDesignerWorkflowForm *self, AiqDesignerParamRow *row)
{
	AiqWorkflowFormTarget target =
		GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "aiq-target"));
	const gchar *name = aiq_designer_param_row_get_param_name(row);

	switch (target) {
	case AIQ_WORKFLOW_FORM_TARGET_MEMBER:
		return aiq_designer_document_get_member(self->document, name);
	case AIQ_WORKFLOW_FORM_TARGET_RUNS_ON: {
		JsonNode *runs_on = aiq_designer_document_get_member(self->document, "runs_on");
		if (runs_on == NULL || !JSON_NODE_HOLDS_OBJECT(runs_on))
			return NULL;
		return json_object_get_member(json_node_get_object(runs_on), "labels");
	}
	case AIQ_WORKFLOW_FORM_TARGET_TRIGGER: {
		JsonArray *triggers = aiq_designer_workflow_form_get_triggers(self);
		guint idx = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(row), "aiq-index"));
		JsonObject *spec = NULL;
		if (triggers == NULL || idx >= json_array_get_length(triggers))
			return NULL;
		aiq_designer_workflow_form_trigger_kind(json_array_get_element(triggers, idx),
							&spec);
		return spec != NULL ? json_object_get_member(spec, name) : NULL;
	}
	case AIQ_WORKFLOW_FORM_TARGET_INPUT: {
		JsonObject *inputs = aiq_designer_workflow_form_get_inputs(self);
		const gchar *input = g_object_get_data(G_OBJECT(row), "aiq-input");
		JsonNode *node = inputs != NULL ? json_object_get_member(inputs, input) : NULL;
		if (g_strcmp0(name, "name") == 0)
			return g_object_get_data(G_OBJECT(row), "aiq-input-node");
		if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
			return NULL;
		return json_object_get_member(json_node_get_object(node), name);
	}
	default:
		g_assert_not_reached();
	}
}

/* ------------------------------------------------------------------------
 * schedules and webhooks
 */

static void
aiq_designer_workflow_form_update_schedule(AiqDesignerWorkflowForm *self, GtkWidget *expander)
{
	JsonArray *triggers = aiq_designer_workflow_form_get_triggers(self);
	guint idx = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(expander), "aiq-index"));
	GtkWidget *label = g_object_get_data(G_OBJECT(expander), "aiq-next-label");
	JsonObject *spec = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *description = NULL;
	g_auto(GStrv) times = NULL;

	if (triggers == NULL || idx >= json_array_get_length(triggers))
		return;
	aiq_designer_workflow_form_trigger_kind(json_array_get_element(triggers, idx), &spec);
	times = aiq_designer_cron_preview(
		spec != NULL ? aiq_json_object_get_string(spec, "cron") : NULL,
		spec != NULL ? aiq_json_object_get_string(spec, "timezone") : NULL,
		g_get_real_time() / G_USEC_PER_SEC,
		AIQ_WORKFLOW_FORM_N_FIRE_TIMES,
		&description,
		&error);
	if (times == NULL) {
		adw_expander_row_set_subtitle(ADW_EXPANDER_ROW(expander), error->message);
		gtk_label_set_text(GTK_LABEL(label), "—");
		gtk_widget_add_css_class(label, "dim-label");
		return;
	}
	adw_expander_row_set_subtitle(ADW_EXPANDER_ROW(expander), description);
	if (times[0] == NULL) {
		gtk_label_set_text(GTK_LABEL(label), _("Never within the next eight years"));
	} else {
		g_autofree gchar *text = g_strjoinv("\n", times);
		gtk_label_set_text(GTK_LABEL(label), text);
	}
	gtk_widget_remove_css_class(label, "dim-label");
}

static void
aiq_designer_workflow_form_update_schedules(AiqDesignerWorkflowForm *self)
{
	for (guint i = 0; i < self->schedules->len; i++)
		aiq_designer_workflow_form_update_schedule(self,
							   g_ptr_array_index(self->schedules, i));
}

static gchar *
aiq_designer_workflow_form_validate_cron(JsonNode *value, gpointer user_data)
{
	g_autoptr(AiqCron) cron = NULL;
	g_autoptr(GError) error = NULL;
	if (value == NULL)
		return g_strdup(_("A schedule needs a cron expression"));
	if (!aiq_json_is_string(value))
		return g_strdup(_("A cron expression is text"));
	cron = aiq_cron_new(json_node_get_string(value), &error);
	return cron == NULL ? g_strdup(error->message) : NULL;
}

static gchar *
aiq_designer_workflow_form_validate_timezone(JsonNode *value, gpointer user_data)
{
	g_autoptr(GTimeZone) tz = NULL;
	g_autoptr(GError) error = NULL;
	if (value == NULL)
		return NULL;
	if (!aiq_json_is_string(value))
		return g_strdup(_("A time zone is a name such as Europe/Paris"));
	tz = aiq_timezone_new(json_node_get_string(value), &error);
	return tz == NULL ? g_strdup(error->message) : NULL;
}

static void
aiq_designer_workflow_form_update_webhook_rows(AiqDesignerWorkflowForm *self)
{
	for (guint i = 0; i < self->webhook_rows->len; i++) {
		GtkWidget *row = g_ptr_array_index(self->webhook_rows, i);
		GtkWidget *copy = g_object_get_data(G_OBJECT(row), "aiq-copy");
		adw_action_row_set_subtitle(ADW_ACTION_ROW(row),
					    self->webhook_url != NULL
						    ? self->webhook_url
						    : _("Save the workflow to get its URL"));
		gtk_widget_set_sensitive(copy, self->webhook_url != NULL);
	}
}

static void
aiq_designer_workflow_form_copy_cb(GtkButton *button, AiqDesignerWorkflowForm *self)
{
	if (self->webhook_url == NULL)
		return;
	gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(button)), self->webhook_url);
}

/* ------------------------------------------------------------------------
 * writing the document
 */

/* before an edit that rebuilds the form: what is being typed is kept */
static void
aiq_designer_workflow_form_flush(AiqDesignerWorkflowForm *self)
{
	for (guint i = 0; i < self->rows->len; i++)
		aiq_designer_param_row_flush(g_ptr_array_index(self->rows, i));
}

static void
aiq_designer_workflow_form_set_trigger_member(AiqDesignerWorkflowForm *self,
					      guint idx,
					      const gchar *member,
					      JsonNode *value)
{
	JsonArray *triggers = aiq_designer_workflow_form_get_triggers(self);
	g_autoptr(JsonNode) copy = NULL;
	JsonObject *spec = NULL;
	JsonNode *trigger;
	const gchar *kind;

	if (triggers == NULL || idx >= json_array_get_length(triggers))
		return;
	copy = aiq_json_deep_copy(aiq_designer_document_get_member(self->document, "triggers"));
	trigger = json_array_get_element(json_node_get_array(copy), idx);
	kind = aiq_designer_workflow_form_trigger_kind(trigger, &spec);
	if (kind == NULL)
		return;
	if (spec == NULL) {
		spec = json_object_new();
		json_object_set_object_member(json_node_get_object(trigger), kind, spec);
	}
	if (value != NULL)
		json_object_set_member(spec, member, json_node_copy(value));
	else if (json_object_has_member(spec, member))
		json_object_remove_member(spec, member);
	aiq_designer_document_set_member(self->document, "triggers", copy);
}

static void
aiq_designer_workflow_form_rename_input(AiqDesignerWorkflowForm *self,
					AiqDesignerParamRow *row,
					const gchar *old_name,
					JsonNode *value)
{
	JsonObject *inputs = aiq_designer_workflow_form_get_inputs(self);
	const gchar *new_name =
		value != NULL && aiq_json_is_string(value) ? json_node_get_string(value) : "";
	g_autoptr(JsonObject) renamed = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	JsonObjectIter iter;
	const gchar *name;
	JsonNode *member;

	if (inputs == NULL || g_strcmp0(old_name, new_name) == 0)
		return;
	aiq_designer_workflow_form_flush(self);
	inputs = aiq_designer_workflow_form_get_inputs(self);
	if (!aiq_identifier_is_valid(new_name)) {
		g_autofree gchar *msg = g_strdup_printf(
			_("“%s” is not a valid input name: use letters, digits and _, not starting "
			  "with a digit"),
			new_name);
		aiq_designer_param_row_set_error(row, msg);
		return;
	}
	if (json_object_has_member(inputs, new_name)) {
		g_autofree gchar *msg =
			g_strdup_printf(_("There is already an input “%s”"), new_name);
		aiq_designer_param_row_set_error(row, msg);
		return;
	}
	json_object_iter_init_ordered(&iter, inputs);
	while (json_object_iter_next_ordered(&iter, &name, &member))
		json_object_set_member(renamed,
				       g_strcmp0(name, old_name) == 0 ? new_name : name,
				       aiq_json_deep_copy(member));
	node = aiq_json_new_object(g_steal_pointer(&renamed));
	aiq_designer_document_set_member(self->document, "inputs", node);
}

static void
aiq_designer_workflow_form_set_input_member(AiqDesignerWorkflowForm *self,
					    const gchar *input,
					    const gchar *member,
					    JsonNode *value)
{
	JsonNode *inputs = aiq_designer_document_get_member(self->document, "inputs");
	g_autoptr(JsonNode) copy = NULL;
	JsonNode *node;
	JsonObject *obj;

	if (inputs == NULL || !JSON_NODE_HOLDS_OBJECT(inputs))
		return;
	copy = aiq_json_deep_copy(inputs);
	node = json_object_get_member(json_node_get_object(copy), input);
	if (node == NULL)
		return;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		json_object_set_object_member(json_node_get_object(copy), input, json_object_new());
		node = json_object_get_member(json_node_get_object(copy), input);
	}
	obj = json_node_get_object(node);
	if (value != NULL)
		json_object_set_member(obj, member, json_node_copy(value));
	else if (json_object_has_member(obj, member))
		json_object_remove_member(obj, member);
	aiq_designer_document_set_member(self->document, "inputs", copy);
}

static void
aiq_designer_workflow_form_row_changed_cb(AiqDesignerParamRow *row,
					  JsonNode *value,
					  AiqDesignerWorkflowForm *self)
{
	AiqWorkflowFormTarget target =
		GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "aiq-target"));
	const gchar *name = aiq_designer_param_row_get_param_name(row);

	if (self->document == NULL)
		return;
	switch (target) {
	case AIQ_WORKFLOW_FORM_TARGET_MEMBER:
		aiq_designer_document_set_member(self->document, name, value);
		break;
	case AIQ_WORKFLOW_FORM_TARGET_RUNS_ON: {
		JsonNode *runs_on = aiq_designer_document_get_member(self->document, "runs_on");
		g_autoptr(JsonObject) obj = NULL;
		g_autoptr(JsonNode) node = NULL;
		if (runs_on != NULL && JSON_NODE_HOLDS_OBJECT(runs_on)) {
			g_autoptr(JsonNode) copy = aiq_json_deep_copy(runs_on);
			obj = json_object_ref(json_node_get_object(copy));
		} else {
			obj = json_object_new();
		}
		if (value != NULL)
			json_object_set_member(obj, "labels", json_node_copy(value));
		else if (json_object_has_member(obj, "labels"))
			json_object_remove_member(obj, "labels");
		if (json_object_get_size(obj) > 0)
			node = aiq_json_new_object(json_object_ref(obj));
		aiq_designer_document_set_member(self->document, "runs_on", node);
		break;
	}
	case AIQ_WORKFLOW_FORM_TARGET_TRIGGER:
		aiq_designer_workflow_form_set_trigger_member(
			self,
			GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(row), "aiq-index")),
			name,
			value);
		aiq_designer_workflow_form_update_schedules(self);
		break;
	case AIQ_WORKFLOW_FORM_TARGET_INPUT: {
		const gchar *input = g_object_get_data(G_OBJECT(row), "aiq-input");
		if (g_strcmp0(name, "name") == 0)
			aiq_designer_workflow_form_rename_input(self, row, input, value);
		else
			aiq_designer_workflow_form_set_input_member(self, input, name, value);
		break;
	}
	default:
		g_assert_not_reached();
	}
}

/* ------------------------------------------------------------------------
 * building
 */

static GtkWidget *
aiq_designer_workflow_form_add_row(AiqDesignerWorkflowForm *self,
				   const AiqParam *param,
				   const gchar *widget_name,
				   const gchar *path,
				   AiqWorkflowFormTarget target)
{
	GtkWidget *row = aiq_designer_param_row_new(param, widget_name);
	g_object_set_data(G_OBJECT(row), "aiq-target", GINT_TO_POINTER(target));
	aiq_designer_param_row_set_path(AIQ_DESIGNER_PARAM_ROW(row), path);
	g_signal_connect(row,
			 "value-changed",
			 G_CALLBACK(aiq_designer_workflow_form_row_changed_cb),
			 self);
	g_ptr_array_add(self->rows, row);
	return row;
}

static void
aiq_designer_workflow_form_remove_trigger_cb(GtkButton *button, AiqDesignerWorkflowForm *self)
{
	guint idx = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(button), "aiq-index"));
	JsonArray *triggers = aiq_designer_workflow_form_get_triggers(self);
	g_autoptr(JsonNode) copy = NULL;
	if (triggers == NULL || idx >= json_array_get_length(triggers))
		return;
	aiq_designer_workflow_form_flush(self);
	copy = aiq_json_deep_copy(aiq_designer_document_get_member(self->document, "triggers"));
	json_array_remove_element(json_node_get_array(copy), idx);
	aiq_designer_document_set_member(self->document, "triggers", copy);
}

static void
aiq_designer_workflow_form_remove_input_cb(GtkButton *button, AiqDesignerWorkflowForm *self)
{
	const gchar *input = g_object_get_data(G_OBJECT(button), "aiq-input");
	JsonNode *inputs;
	g_autoptr(JsonNode) copy = NULL;
	aiq_designer_workflow_form_flush(self);
	inputs = aiq_designer_document_get_member(self->document, "inputs");
	if (inputs == NULL || !JSON_NODE_HOLDS_OBJECT(inputs))
		return;
	copy = aiq_json_deep_copy(inputs);
	json_object_remove_member(json_node_get_object(copy), input);
	aiq_designer_document_set_member(
		self->document,
		"inputs",
		json_object_get_size(json_node_get_object(copy)) > 0 ? copy : NULL);
}

static GtkWidget *
aiq_designer_workflow_form_new_remove_button(const gchar *name, const gchar *tooltip)
{
	GtkWidget *button = gtk_button_new_from_icon_name("user-trash-symbolic");
	gtk_widget_set_name(button, name);
	gtk_widget_set_valign(button, GTK_ALIGN_CENTER);
	gtk_widget_add_css_class(button, "flat");
	gtk_widget_set_tooltip_text(button, tooltip);
	return button;
}

static const gchar *
aiq_designer_workflow_form_trigger_title(const gchar *kind)
{
	if (g_strcmp0(kind, "schedule") == 0)
		return _("Schedule");
	if (g_strcmp0(kind, "webhook") == 0)
		return _("Webhook");
	if (g_strcmp0(kind, "manual") == 0)
		return _("Manual");
	if (g_strcmp0(kind, "api") == 0)
		return _("API");
	return _("Unknown Trigger");
}

static void
aiq_designer_workflow_form_add_trigger_rows(AiqDesignerWorkflowForm *self,
					    GtkWidget *group,
					    guint idx,
					    JsonNode *trigger)
{
	const gchar *kind = aiq_designer_workflow_form_trigger_kind(trigger, NULL);
	const AiqParam *params = NULL;
	g_autofree gchar *remove_name = g_strdup_printf("trigger-%u-remove", idx);
	g_autofree gchar *row_name = g_strdup_printf("trigger-%u", idx);
	GtkWidget *remove =
		aiq_designer_workflow_form_new_remove_button(remove_name, _("Remove this trigger"));
	GtkWidget *row;

	g_object_set_data(G_OBJECT(remove), "aiq-index", GUINT_TO_POINTER(idx));
	g_signal_connect(remove,
			 "clicked",
			 G_CALLBACK(aiq_designer_workflow_form_remove_trigger_cb),
			 self);
	if (g_strcmp0(kind, "schedule") == 0)
		params = aiq_workflow_form_schedule_params;
	else if (g_strcmp0(kind, "webhook") == 0)
		params = aiq_workflow_form_webhook_params;

	if (params == NULL) {
		row = adw_action_row_new();
		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row),
					      aiq_designer_workflow_form_trigger_title(kind));
		if (g_strcmp0(kind, "manual") == 0)
			adw_action_row_set_subtitle(ADW_ACTION_ROW(row),
						    _("Run from the designer or aiqctl"));
		else if (g_strcmp0(kind, "api") == 0)
			adw_action_row_set_subtitle(ADW_ACTION_ROW(row),
						    _("Run through the REST API"));
		adw_action_row_add_suffix(ADW_ACTION_ROW(row), remove);
		gtk_widget_set_name(row, row_name);
		adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
		return;
	}

	row = adw_expander_row_new();
	gtk_widget_set_name(row, row_name);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row),
				      aiq_designer_workflow_form_trigger_title(kind));
	adw_expander_row_add_action(ADW_EXPANDER_ROW(row), remove);
	g_object_set_data(G_OBJECT(row), "aiq-index", GUINT_TO_POINTER(idx));

	if (g_strcmp0(kind, "webhook") == 0) {
		GtkWidget *url_row = adw_action_row_new();
		GtkWidget *copy = gtk_button_new_from_icon_name("edit-copy-symbolic");
		g_autofree gchar *url_name = g_strdup_printf("trigger-%u-url", idx);
		g_autofree gchar *copy_name = g_strdup_printf("trigger-%u-copy", idx);
		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(url_row), _("URL"));
		gtk_widget_set_name(url_row, url_name);
		gtk_widget_set_name(copy, copy_name);
		gtk_widget_set_valign(copy, GTK_ALIGN_CENTER);
		gtk_widget_add_css_class(copy, "flat");
		gtk_widget_set_tooltip_text(copy, _("Copy the URL"));
		g_signal_connect(copy,
				 "clicked",
				 G_CALLBACK(aiq_designer_workflow_form_copy_cb),
				 self);
		adw_action_row_add_suffix(ADW_ACTION_ROW(url_row), copy);
		g_object_set_data(G_OBJECT(url_row), "aiq-copy", copy);
		g_ptr_array_add(self->webhook_rows, url_row);
		adw_expander_row_add_row(ADW_EXPANDER_ROW(row), url_row);
		adw_expander_row_set_subtitle(ADW_EXPANDER_ROW(row),
					      _("Runs on an HTTP POST to its URL"));
	}
	for (guint i = 0; params[i].name != NULL; i++) {
		g_autofree gchar *widget_name =
			g_strdup_printf("trigger-%u-%s", idx, params[i].name);
		g_autofree gchar *path =
			g_strdup_printf("triggers[%u].%s.%s", idx, kind, params[i].name);
		GtkWidget *param_row =
			aiq_designer_workflow_form_add_row(self,
							   &params[i],
							   widget_name,
							   path,
							   AIQ_WORKFLOW_FORM_TARGET_TRIGGER);
		g_object_set_data(G_OBJECT(param_row), "aiq-index", GUINT_TO_POINTER(idx));
		if (g_strcmp0(params[i].name, "cron") == 0)
			aiq_designer_param_row_set_validate_func(
				AIQ_DESIGNER_PARAM_ROW(param_row),
				aiq_designer_workflow_form_validate_cron,
				self);
		else if (g_strcmp0(params[i].name, "timezone") == 0)
			aiq_designer_param_row_set_validate_func(
				AIQ_DESIGNER_PARAM_ROW(param_row),
				aiq_designer_workflow_form_validate_timezone,
				self);
		adw_expander_row_add_row(ADW_EXPANDER_ROW(row), param_row);
	}
	if (g_strcmp0(kind, "schedule") == 0) {
		GtkWidget *next_row = adw_action_row_new();
		GtkWidget *label = gtk_label_new(NULL);
		g_autofree gchar *label_name = g_strdup_printf("trigger-%u-next", idx);
		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(next_row), _("Next Runs"));
		gtk_widget_set_name(label, label_name);
		gtk_label_set_xalign(GTK_LABEL(label), 1);
		gtk_label_set_selectable(GTK_LABEL(label), TRUE);
		gtk_widget_add_css_class(label, "numeric");
		gtk_widget_set_margin_top(label, 6);
		gtk_widget_set_margin_bottom(label, 6);
		adw_action_row_add_suffix(ADW_ACTION_ROW(next_row), label);
		adw_expander_row_add_row(ADW_EXPANDER_ROW(row), next_row);
		g_object_set_data(G_OBJECT(row), "aiq-next-label", label);
		g_ptr_array_add(self->schedules, row);
	}
	adw_expander_row_set_expanded(ADW_EXPANDER_ROW(row), TRUE);
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
}

static void
aiq_designer_workflow_form_add_input_rows(AiqDesignerWorkflowForm *self,
					  GtkWidget *group,
					  guint idx,
					  const gchar *input)
{
	GtkWidget *row = adw_expander_row_new();
	g_autofree gchar *row_name = g_strdup_printf("input-%u", idx);
	g_autofree gchar *remove_name = g_strdup_printf("input-%u-remove", idx);
	GtkWidget *remove =
		aiq_designer_workflow_form_new_remove_button(remove_name, _("Remove this input"));

	gtk_widget_set_name(row, row_name);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), input);
	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
	g_object_set_data_full(G_OBJECT(remove), "aiq-input", g_strdup(input), g_free);
	g_signal_connect(remove,
			 "clicked",
			 G_CALLBACK(aiq_designer_workflow_form_remove_input_cb),
			 self);
	adw_expander_row_add_action(ADW_EXPANDER_ROW(row), remove);
	for (guint i = 0; aiq_workflow_form_input_params[i].name != NULL; i++) {
		const AiqParam *param = &aiq_workflow_form_input_params[i];
		g_autofree gchar *widget_name = g_strdup_printf("input-%u-%s", idx, param->name);
		g_autofree gchar *path = NULL;
		GtkWidget *param_row;
		if (g_strcmp0(param->name, "name") == 0)
			path = g_strdup_printf("inputs.%s", input);
		else
			path = g_strdup_printf("inputs.%s.%s", input, param->name);
		param_row = aiq_designer_workflow_form_add_row(self,
							       param,
							       widget_name,
							       path,
							       AIQ_WORKFLOW_FORM_TARGET_INPUT);
		g_object_set_data_full(G_OBJECT(param_row), "aiq-input", g_strdup(input), g_free);
		if (g_strcmp0(param->name, "name") == 0) {
			g_object_set_data_full(G_OBJECT(param_row),
					       "aiq-input-node",
					       aiq_json_new_string(input),
					       (GDestroyNotify)json_node_unref);
			aiq_designer_param_row_set_apply_on_activate(
				AIQ_DESIGNER_PARAM_ROW(param_row),
				TRUE);
		}
		adw_expander_row_add_row(ADW_EXPANDER_ROW(row), param_row);
	}
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
}

static void
aiq_designer_workflow_form_refresh(AiqDesignerWorkflowForm *self)
{
	for (guint i = 0; i < self->rows->len; i++) {
		AiqDesignerParamRow *row = g_ptr_array_index(self->rows, i);
		aiq_designer_param_row_set_value(
			row,
			aiq_designer_workflow_form_lookup_value(self, row));
	}
	aiq_designer_workflow_form_update_schedules(self);
	aiq_designer_workflow_form_set_problems(self, self->problems);
}

static void
aiq_designer_workflow_form_rebuild(AiqDesignerWorkflowForm *self)
{
	GtkWidget *page;
	GtkWidget *group;
	GtkWidget *add;
	GtkWidget *header;
	JsonArray *triggers;
	JsonObject *inputs;
	g_autoptr(GMenu) menu = g_menu_new();

	g_clear_handle_id(&self->rebuild_id, g_source_remove);
	g_ptr_array_set_size(self->rows, 0);
	g_ptr_array_set_size(self->schedules, 0);
	g_ptr_array_set_size(self->webhook_rows, 0);
	g_free(self->shape);
	self->shape = aiq_designer_workflow_form_dup_shape(self);
	self->problems_label = NULL;

	if (self->document == NULL) {
		adw_bin_set_child(ADW_BIN(self), NULL);
		return;
	}
	page = adw_preferences_page_new();

	/* the workflow */
	group = adw_preferences_group_new();
	adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), _("Workflow"));
	for (guint i = 0; aiq_workflow_form_params[i].name != NULL; i++) {
		const AiqParam *param = &aiq_workflow_form_params[i];
		g_autofree gchar *widget_name = g_strdup_printf("workflow-%s", param->name);
		gboolean runs_on = g_strcmp0(param->name, "runs_on") == 0;
		adw_preferences_group_add(ADW_PREFERENCES_GROUP(group),
					  aiq_designer_workflow_form_add_row(
						  self,
						  param,
						  widget_name,
						  runs_on ? "runs_on.labels" : param->name,
						  runs_on ? AIQ_WORKFLOW_FORM_TARGET_RUNS_ON
							  : AIQ_WORKFLOW_FORM_TARGET_MEMBER));
	}
	self->problems_label = gtk_label_new(NULL);
	gtk_widget_set_name(self->problems_label, "workflow-problems");
	gtk_label_set_xalign(GTK_LABEL(self->problems_label), 0);
	gtk_label_set_wrap(GTK_LABEL(self->problems_label), TRUE);
	gtk_widget_add_css_class(self->problems_label, "error");
	gtk_widget_set_margin_top(self->problems_label, 6);
	gtk_widget_set_visible(self->problems_label, FALSE);
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), self->problems_label);
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(page), ADW_PREFERENCES_GROUP(group));

	/* triggers */
	group = adw_preferences_group_new();
	adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), _("Triggers"));
	g_menu_append(menu, _("Schedule"), "workflow-form.add-trigger::schedule");
	g_menu_append(menu, _("Webhook"), "workflow-form.add-trigger::webhook");
	g_menu_append(menu, _("Manual"), "workflow-form.add-trigger::manual");
	g_menu_append(menu, _("API"), "workflow-form.add-trigger::api");
	add = gtk_menu_button_new();
	gtk_widget_set_name(add, "trigger-add");
	gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(add), G_MENU_MODEL(menu));
	header = adw_button_content_new();
	adw_button_content_set_icon_name(ADW_BUTTON_CONTENT(header), "list-add-symbolic");
	adw_button_content_set_label(ADW_BUTTON_CONTENT(header), _("Add Trigger"));
	gtk_menu_button_set_child(GTK_MENU_BUTTON(add), header);
	gtk_widget_add_css_class(add, "flat");
	adw_preferences_group_set_header_suffix(ADW_PREFERENCES_GROUP(group), add);
	triggers = aiq_designer_workflow_form_get_triggers(self);
	if (triggers == NULL || json_array_get_length(triggers) == 0)
		adw_preferences_group_set_description(
			ADW_PREFERENCES_GROUP(group),
			_("Without a trigger the workflow runs only as a sub-workflow."));
	for (guint i = 0; triggers != NULL && i < json_array_get_length(triggers); i++)
		aiq_designer_workflow_form_add_trigger_rows(self,
							    group,
							    i,
							    json_array_get_element(triggers, i));
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(page), ADW_PREFERENCES_GROUP(group));

	/* inputs */
	group = adw_preferences_group_new();
	adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), _("Inputs"));
	add = gtk_button_new();
	gtk_widget_set_name(add, "input-add");
	header = adw_button_content_new();
	adw_button_content_set_icon_name(ADW_BUTTON_CONTENT(header), "list-add-symbolic");
	adw_button_content_set_label(ADW_BUTTON_CONTENT(header), _("Add Input"));
	gtk_button_set_child(GTK_BUTTON(add), header);
	gtk_widget_add_css_class(add, "flat");
	gtk_actionable_set_action_name(GTK_ACTIONABLE(add), "workflow-form.add-input");
	adw_preferences_group_set_header_suffix(ADW_PREFERENCES_GROUP(group), add);
	inputs = aiq_designer_workflow_form_get_inputs(self);
	if (inputs == NULL || json_object_get_size(inputs) == 0) {
		adw_preferences_group_set_description(
			ADW_PREFERENCES_GROUP(group),
			_("Values given to each execution, seen as inputs.NAME."));
	} else {
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *member;
		guint idx = 0;
		json_object_iter_init_ordered(&iter, inputs);
		while (json_object_iter_next_ordered(&iter, &name, &member))
			aiq_designer_workflow_form_add_input_rows(self, group, idx++, name);
	}
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(page), ADW_PREFERENCES_GROUP(group));

	adw_bin_set_child(ADW_BIN(self), page);
	aiq_designer_workflow_form_update_webhook_rows(self);
	aiq_designer_workflow_form_refresh(self);
}

static gboolean
aiq_designer_workflow_form_rebuild_cb(gpointer user_data)
{
	AiqDesignerWorkflowForm *self = AIQ_DESIGNER_WORKFLOW_FORM(user_data);
	self->rebuild_id = 0;
	aiq_designer_workflow_form_rebuild(self);
	return G_SOURCE_REMOVE;
}

static void
aiq_designer_workflow_form_document_changed_cb(AiqDesignerDocument *document,
					       guint change,
					       AiqDesignerWorkflowForm *self)
{
	g_autofree gchar *shape = NULL;
	if (change == AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS)
		return;
	shape = aiq_designer_workflow_form_dup_shape(self);
	if (g_strcmp0(shape, self->shape) != 0) {
		/* triggers or inputs came or went: not now, a row may be emitting */
		if (self->rebuild_id == 0)
			self->rebuild_id = g_idle_add(aiq_designer_workflow_form_rebuild_cb, self);
		return;
	}
	if (self->rebuild_id == 0)
		aiq_designer_workflow_form_refresh(self);
}

static void
aiq_designer_workflow_form_add_trigger_action(GtkWidget *widget,
					      const gchar *action_name,
					      GVariant *parameter)
{
	AiqDesignerWorkflowForm *self = AIQ_DESIGNER_WORKFLOW_FORM(widget);
	const gchar *kind = g_variant_get_string(parameter, NULL);
	JsonNode *triggers;
	g_autoptr(JsonNode) copy = NULL;
	g_autoptr(JsonObject) trigger = json_object_new();
	JsonObject *spec = json_object_new();

	if (self->document == NULL)
		return;
	aiq_designer_workflow_form_flush(self);
	if (g_strcmp0(kind, "schedule") == 0) {
		json_object_set_string_member(spec, "cron", "0 * * * *");
		json_object_set_string_member(spec, "timezone", "UTC");
	}
	json_object_set_object_member(trigger, kind, spec);
	triggers = aiq_designer_document_get_member(self->document, "triggers");
	if (triggers != NULL && JSON_NODE_HOLDS_ARRAY(triggers))
		copy = aiq_json_deep_copy(triggers);
	else
		copy = aiq_json_new_array(json_array_new());
	json_array_add_object_element(json_node_get_array(copy), g_steal_pointer(&trigger));
	aiq_designer_document_set_member(self->document, "triggers", copy);
}

static void
aiq_designer_workflow_form_add_input_action(GtkWidget *widget,
					    const gchar *action_name,
					    GVariant *parameter)
{
	AiqDesignerWorkflowForm *self = AIQ_DESIGNER_WORKFLOW_FORM(widget);
	JsonNode *inputs;
	g_autoptr(JsonNode) copy = NULL;
	g_autoptr(JsonObject) input = json_object_new();
	g_autofree gchar *name = NULL;
	JsonObject *obj;

	if (self->document == NULL)
		return;
	aiq_designer_workflow_form_flush(self);
	inputs = aiq_designer_document_get_member(self->document, "inputs");
	if (inputs != NULL && JSON_NODE_HOLDS_OBJECT(inputs))
		copy = aiq_json_deep_copy(inputs);
	else
		copy = aiq_json_new_object(json_object_new());
	obj = json_node_get_object(copy);
	for (guint n = 1;; n++) {
		g_free(name);
		name = g_strdup_printf("input_%u", n);
		if (!json_object_has_member(obj, name))
			break;
	}
	json_object_set_string_member(input, "type", "string");
	json_object_set_object_member(obj, name, g_steal_pointer(&input));
	aiq_designer_document_set_member(self->document, "inputs", copy);
}

void
aiq_designer_workflow_form_set_document(AiqDesignerWorkflowForm *self,
					AiqDesignerDocument *document)
{
	g_return_if_fail(AIQ_DESIGNER_IS_WORKFLOW_FORM(self));
	g_return_if_fail(document == NULL || AIQ_DESIGNER_IS_DOCUMENT(document));
	if (self->document == document)
		return;
	for (guint i = 0; i < self->rows->len; i++)
		aiq_designer_param_row_flush(g_ptr_array_index(self->rows, i));
	if (self->document != NULL) {
		g_clear_signal_handler(&self->changed_id, self->document);
		g_clear_object(&self->document);
	}
	if (document != NULL) {
		self->document = g_object_ref(document);
		self->changed_id =
			g_signal_connect(document,
					 "changed",
					 G_CALLBACK(aiq_designer_workflow_form_document_changed_cb),
					 self);
	}
	aiq_designer_workflow_form_rebuild(self);
}

/**
 * aiq_designer_workflow_form_set_webhook_url:
 * @url: (nullable): the URL of the workflow's webhook; %NULL until it is saved
 */
void
aiq_designer_workflow_form_set_webhook_url(AiqDesignerWorkflowForm *self, const gchar *url)
{
	g_return_if_fail(AIQ_DESIGNER_IS_WORKFLOW_FORM(self));
	if (g_strcmp0(self->webhook_url, url) == 0)
		return;
	g_free(self->webhook_url);
	self->webhook_url = g_strdup(url);
	aiq_designer_workflow_form_update_webhook_rows(self);
}

/**
 * aiq_designer_workflow_form_set_problems:
 * @problems: (nullable): the whole document's problems; those outside
 *   `steps` are shown at their fields
 */
void
aiq_designer_workflow_form_set_problems(AiqDesignerWorkflowForm *self, AiqProblems *problems)
{
	g_autoptr(AiqProblems) mine = aiq_problems_new();
	g_autofree gchar *rest = NULL;

	g_return_if_fail(AIQ_DESIGNER_IS_WORKFLOW_FORM(self));
	if (problems != self->problems) {
		if (problems != NULL)
			aiq_problems_ref(problems);
		g_clear_pointer(&self->problems, aiq_problems_unref);
		self->problems = problems;
	}
	for (guint i = 0; problems != NULL && i < aiq_problems_get_size(problems); i++) {
		const AiqProblem *problem = aiq_problems_index(problems, i);
		if (g_str_has_prefix(problem->path, "steps[") ||
		    g_str_has_prefix(problem->path, "outputs") ||
		    g_str_has_prefix(problem->path, "ui"))
			continue;
		aiq_problems_add(mine, problem->path, "%s", problem->message);
	}
	rest = aiq_designer_param_rows_set_problems(self->rows, mine, NULL);
	if (self->problems_label != NULL) {
		gtk_label_set_text(GTK_LABEL(self->problems_label), rest != NULL ? rest : "");
		gtk_widget_set_visible(self->problems_label, rest != NULL);
	}
}

/**
 * aiq_designer_workflow_form_focus_path:
 * @path: e.g. `triggers[0].schedule.cron`
 *
 * Returns: %TRUE if the form has a field for @path, now focused
 */
gboolean
aiq_designer_workflow_form_focus_path(AiqDesignerWorkflowForm *self, const gchar *path)
{
	AiqDesignerParamRow *row;
	GtkWidget *expander;
	g_return_val_if_fail(AIQ_DESIGNER_IS_WORKFLOW_FORM(self), FALSE);
	g_return_val_if_fail(path != NULL, FALSE);
	if (self->rebuild_id != 0)
		aiq_designer_workflow_form_rebuild(self);
	row = aiq_designer_param_rows_find(self->rows, path);
	if (row == NULL)
		return FALSE;
	expander = gtk_widget_get_ancestor(GTK_WIDGET(row), ADW_TYPE_EXPANDER_ROW);
	if (expander != NULL)
		adw_expander_row_set_expanded(ADW_EXPANDER_ROW(expander), TRUE);
	return aiq_designer_param_row_focus(row);
}

static void
aiq_designer_workflow_form_dispose(GObject *object)
{
	AiqDesignerWorkflowForm *self = AIQ_DESIGNER_WORKFLOW_FORM(object);
	g_clear_handle_id(&self->rebuild_id, g_source_remove);
	if (self->rows != NULL) {
		for (guint i = 0; i < self->rows->len; i++)
			aiq_designer_param_row_cancel(g_ptr_array_index(self->rows, i));
		g_ptr_array_set_size(self->rows, 0);
		g_ptr_array_set_size(self->schedules, 0);
		g_ptr_array_set_size(self->webhook_rows, 0);
	}
	if (self->document != NULL) {
		g_clear_signal_handler(&self->changed_id, self->document);
		g_clear_object(&self->document);
	}
	G_OBJECT_CLASS(aiq_designer_workflow_form_parent_class)->dispose(object);
}

static void
aiq_designer_workflow_form_finalize(GObject *object)
{
	AiqDesignerWorkflowForm *self = AIQ_DESIGNER_WORKFLOW_FORM(object);
	g_clear_pointer(&self->problems, aiq_problems_unref);
	g_clear_pointer(&self->rows, g_ptr_array_unref);
	g_clear_pointer(&self->schedules, g_ptr_array_unref);
	g_clear_pointer(&self->webhook_rows, g_ptr_array_unref);
	g_free(self->webhook_url);
	g_free(self->shape);
	G_OBJECT_CLASS(aiq_designer_workflow_form_parent_class)->finalize(object);
}

static void
aiq_designer_workflow_form_class_init(AiqDesignerWorkflowFormClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	object_class->dispose = aiq_designer_workflow_form_dispose;
	object_class->finalize = aiq_designer_workflow_form_finalize;
	gtk_widget_class_set_css_name(widget_class, "aiqworkflowform");
	gtk_widget_class_install_action(widget_class,
					"workflow-form.add-trigger",
					"s",
					aiq_designer_workflow_form_add_trigger_action);
	gtk_widget_class_install_action(widget_class,
					"workflow-form.add-input",
					NULL,
					aiq_designer_workflow_form_add_input_action);
}

static void
aiq_designer_workflow_form_init(AiqDesignerWorkflowForm *self)
{
	self->rows = g_ptr_array_new();
	self->schedules = g_ptr_array_new();
	self->webhook_rows = g_ptr_array_new();
}

GtkWidget *
aiq_designer_workflow_form_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_WORKFLOW_FORM, NULL);
}
