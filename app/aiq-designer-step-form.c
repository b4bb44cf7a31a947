/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-param-row.h"
#include "aiq-designer-step-form.h"
#include "aiq-json.h"
#include "aiq-step-kind.h"

/**
 * AiqDesignerStepForm:
 *
 * The form of one step: its kind, id, name and description, a field for
 * each parameter the kind declares, and how it runs (condition, loop,
 * retries, timeout). Every edit is written to the #AiqDesignerDocument as it
 * is made; the form rebuilds only when the step or its kind changes, and
 * otherwise refreshes the values of its fields, so typing keeps the focus.
 */

typedef enum {
	AIQ_STEP_FORM_TARGET_ID,
	AIQ_STEP_FORM_TARGET_MEMBER,
	AIQ_STEP_FORM_TARGET_PARAM,
	AIQ_STEP_FORM_TARGET_RETRY,
} AiqStepFormTarget;

struct _AiqDesignerStepForm {
	AdwBin parent_instance;
	AiqDesignerDocument *document;
	gulong changed_id;
	gchar *step_id;
	gchar *built_id;
	gchar *built_kind;
	gboolean built;
	guint writing;
	AiqProblems *problems;
	GtkWidget *page;
	GtkWidget *problems_label;
	GPtrArray *rows; /* of AiqDesignerParamRow */
};

G_DEFINE_TYPE(AiqDesignerStepForm, aiq_designer_step_form, ADW_TYPE_BIN)

static const AiqParam aiq_step_form_id_param = {
	"id",
	AIQ_PARAM_STRING,
	TRUE,
	NULL,
	N_("How other steps and expressions name this step (steps.ID); letters, digits and _."),
	NULL,
	AIQ_PARAM_FLAG_LITERAL,
};

static const AiqParam aiq_step_form_header_params[] = {
	{ "name",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("A name for people, shown instead of the id."),
	  NULL,
	  AIQ_PARAM_FLAG_RAW },
	{ "description",
	  AIQ_PARAM_TEXT,
	  FALSE,
	  NULL,
	  N_("What the step is for."),
	  NULL,
	  AIQ_PARAM_FLAG_RAW },
	{ NULL },
};

static const gchar *const aiq_step_form_backoffs[] = { "exponential", "constant", NULL };

static const AiqParam aiq_step_form_behaviour_params[] = {
	{ "if",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("Runs the step only when this is true, e.g. ${{ steps.fetch.output.status == 200 "
	     "}}; false or nil skips it."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "for_each",
	  AIQ_PARAM_JSON,
	  FALSE,
	  NULL,
	  N_("Runs the step once per item of this list (an expression or a JSON list); each "
	     "run sees item and index."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "concurrency",
	  AIQ_PARAM_INTEGER,
	  FALSE,
	  NULL,
	  N_("How many items of for_each run at once."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "timeout",
	  AIQ_PARAM_DURATION,
	  FALSE,
	  NULL,
	  N_("The longest one attempt may take; a timed-out attempt may be retried."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "continue_on_error",
	  AIQ_PARAM_BOOLEAN,
	  FALSE,
	  "false",
	  N_("The step may fail without failing the execution; the steps after it still run."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ NULL },
};

static const AiqParam aiq_step_form_retry_params[] = {
	{ "max_attempts",
	  AIQ_PARAM_INTEGER,
	  FALSE,
	  "3",
	  N_("How many attempts in all, the first one included."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "backoff",
	  AIQ_PARAM_ENUM,
	  FALSE,
	  "\"exponential\"",
	  N_("Whether the delay between attempts doubles each time or stays the same."),
	  aiq_step_form_backoffs,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "initial",
	  AIQ_PARAM_DURATION,
	  FALSE,
	  "\"1s\"",
	  N_("The delay before the second attempt."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "max",
	  AIQ_PARAM_DURATION,
	  FALSE,
	  "\"1m\"",
	  N_("The longest delay between attempts."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ NULL },
};

static JsonObject *
aiq_designer_step_form_get_step_object(AiqDesignerStepForm *self, guint *idx)
{
	if (self->document == NULL || self->step_id == NULL)
		return NULL;
	return aiq_designer_document_find_step(self->document, self->step_id, idx);
}

/* `retry` as an object: `retry: 5` is `{max_attempts: 5}` */
static JsonObject *
aiq_designer_step_form_dup_retry(JsonObject *step)
{
	JsonNode *retry = step != NULL ? json_object_get_member(step, "retry") : NULL;
	JsonObject *obj;
	if (retry != NULL && JSON_NODE_HOLDS_OBJECT(retry)) {
		g_autoptr(JsonNode) copy = aiq_json_deep_copy(retry);
		return json_object_ref(json_node_get_object(copy));
	}
	obj = json_object_new();
	if (retry != NULL && JSON_NODE_HOLDS_VALUE(retry))
		json_object_set_member(obj, "max_attempts", json_node_copy(retry));
	return obj;
}

static JsonNode *
aiq_designer_step_form_lookup_value(AiqDesignerStepForm *self,
				    JsonObject *step,
				    AiqDesignerParamRow *row)
{
	AiqStepFormTarget target = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "aiq-target"));
	const gchar *name = aiq_designer_param_row_get_param_name(row);
	JsonNode *node;

	switch (target) {
	case AIQ_STEP_FORM_TARGET_ID:
	case AIQ_STEP_FORM_TARGET_MEMBER:
		return json_object_get_member(step, name);
	case AIQ_STEP_FORM_TARGET_PARAM:
		node = json_object_get_member(step, "with");
		if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
			return NULL;
		return json_object_get_member(json_node_get_object(node), name);
	case AIQ_STEP_FORM_TARGET_RETRY:
		node = json_object_get_member(step, "retry");
		if (node != NULL && JSON_NODE_HOLDS_OBJECT(node))
			return json_object_get_member(json_node_get_object(node), name);
		if (node != NULL && g_strcmp0(name, "max_attempts") == 0)
			return node;
		return NULL;
	default:
		g_assert_not_reached();
	}
}

static gchar *
aiq_designer_step_form_row_path(AiqDesignerParamRow *row, guint idx)
{
	AiqStepFormTarget target = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "aiq-target"));
	const gchar *name = aiq_designer_param_row_get_param_name(row);
	switch (target) {
	case AIQ_STEP_FORM_TARGET_PARAM:
		return g_strdup_printf("steps[%u].with.%s", idx, name);
	case AIQ_STEP_FORM_TARGET_RETRY:
		return g_strdup_printf("steps[%u].retry.%s", idx, name);
	default:
		return g_strdup_printf("steps[%u].%s", idx, name);
	}
}

static void
aiq_designer_step_form_apply_problems(AiqDesignerStepForm *self)
{
	g_autofree gchar *prefix = NULL;
	g_autofree gchar *rest = NULL;
	guint idx = 0;

	if (self->problems_label == NULL)
		return;
	if (aiq_designer_step_form_get_step_object(self, &idx) != NULL)
		prefix = g_strdup_printf("steps[%u]", idx);
	rest = prefix != NULL
		       ? aiq_designer_param_rows_set_problems(self->rows, self->problems, prefix)
		       : NULL;
	gtk_label_set_text(GTK_LABEL(self->problems_label), rest != NULL ? rest : "");
	gtk_widget_set_visible(self->problems_label, rest != NULL);
}

/* shows the document's values without rebuilding */
static void
aiq_designer_step_form_refresh(AiqDesignerStepForm *self)
{
	guint idx = 0;
	JsonObject *step = aiq_designer_step_form_get_step_object(self, &idx);
	if (step == NULL)
		return;
	for (guint i = 0; i < self->rows->len; i++) {
		AiqDesignerParamRow *row = g_ptr_array_index(self->rows, i);
		g_autofree gchar *path = aiq_designer_step_form_row_path(row, idx);
		aiq_designer_param_row_set_path(row, path);
		aiq_designer_param_row_set_value(
			row,
			aiq_designer_step_form_lookup_value(self, step, row));
	}
	aiq_designer_step_form_apply_problems(self);
}

static void
aiq_designer_step_form_row_changed_cb(AiqDesignerParamRow *row,
				      JsonNode *value,
				      AiqDesignerStepForm *self)
{
	AiqStepFormTarget target = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "aiq-target"));
	const gchar *name = aiq_designer_param_row_get_param_name(row);

	if (self->document == NULL || self->step_id == NULL)
		return;
	self->writing++;
	switch (target) {
	case AIQ_STEP_FORM_TARGET_ID: {
		g_autoptr(GError) error = NULL;
		const gchar *new_id = value != NULL && aiq_json_is_string(value)
					      ? json_node_get_string(value)
					      : "";
		if (new_id[0] == '\0') {
			aiq_designer_param_row_set_error(row, _("A step needs an id"));
		} else if (aiq_designer_document_find_step(self->document, new_id, NULL) != NULL &&
			   g_strcmp0(new_id, self->step_id) != 0) {
			g_autofree gchar *msg =
				g_strdup_printf(_("There is already a step “%s”"), new_id);
			aiq_designer_param_row_set_error(row, msg);
		} else if (!aiq_designer_document_rename_step(self->document,
							      self->step_id,
							      new_id,
							      &error)) {
			aiq_designer_param_row_set_error(row, error->message);
		} else {
			g_free(self->step_id);
			self->step_id = g_strdup(new_id);
			g_free(self->built_id);
			self->built_id = g_strdup(new_id);
			aiq_designer_param_row_set_error(row, NULL);
		}
		break;
	}
	case AIQ_STEP_FORM_TARGET_MEMBER:
		aiq_designer_document_set_step_member(self->document, self->step_id, name, value);
		break;
	case AIQ_STEP_FORM_TARGET_PARAM:
		aiq_designer_document_set_step_param(self->document, self->step_id, name, value);
		break;
	case AIQ_STEP_FORM_TARGET_RETRY: {
		JsonObject *step = aiq_designer_step_form_get_step_object(self, NULL);
		g_autoptr(JsonObject) retry = aiq_designer_step_form_dup_retry(step);
		g_autoptr(JsonNode) node = NULL;
		if (value != NULL)
			json_object_set_member(retry, name, json_node_copy(value));
		else if (json_object_has_member(retry, name))
			json_object_remove_member(retry, name);
		if (json_object_get_size(retry) > 0)
			node = aiq_json_new_object(json_object_ref(retry));
		aiq_designer_document_set_step_member(self->document, self->step_id, "retry", node);
		break;
	}
	default:
		g_assert_not_reached();
	}
	self->writing--;
}

static GtkWidget *
aiq_designer_step_form_add_row(AiqDesignerStepForm *self,
			       const AiqParam *param,
			       const gchar *prefix,
			       AiqStepFormTarget target)
{
	g_autofree gchar *name = g_strdup_printf("%s-%s", prefix, param->name);
	GtkWidget *row = aiq_designer_param_row_new(param, name);
	g_object_set_data(G_OBJECT(row), "aiq-target", GINT_TO_POINTER(target));
	g_signal_connect(row,
			 "value-changed",
			 G_CALLBACK(aiq_designer_step_form_row_changed_cb),
			 self);
	g_ptr_array_add(self->rows, row);
	return row;
}

static void
aiq_designer_step_form_flush(AiqDesignerStepForm *self)
{
	for (guint i = 0; i < self->rows->len; i++)
		aiq_designer_param_row_flush(g_ptr_array_index(self->rows, i));
}

static void
aiq_designer_step_form_rebuild(AiqDesignerStepForm *self)
{
	JsonObject *step = aiq_designer_step_form_get_step_object(self, NULL);
	const gchar *uses;
	const AiqStepKind *kind;
	GtkWidget *group;
	GtkWidget *kind_row;
	GtkWidget *icon;
	GtkWidget *expander;

	g_ptr_array_set_size(self->rows, 0);
	self->problems_label = NULL;
	self->page = NULL;
	g_clear_pointer(&self->built_kind, g_free);
	g_clear_pointer(&self->built_id, g_free);
	self->built = step != NULL;

	if (step == NULL) {
		GtkWidget *status = adw_status_page_new();
		adw_status_page_set_icon_name(ADW_STATUS_PAGE(status), "document-edit-symbolic");
		adw_status_page_set_title(ADW_STATUS_PAGE(status),
					  self->step_id == NULL ? _("No Step Selected")
								: _("Step Not Found"));
		adw_status_page_set_description(ADW_STATUS_PAGE(status),
						_("Select a step on the canvas to edit it."));
		adw_bin_set_child(ADW_BIN(self), status);
		return;
	}

	uses = aiq_json_object_get_string(step, "uses");
	kind = uses != NULL ? aiq_step_kind_lookup(uses) : NULL;
	self->built_kind = g_strdup(uses != NULL ? uses : "");
	self->built_id = g_strdup(self->step_id);
	self->page = adw_preferences_page_new();

	/* the header: kind, id, name, description */
	group = adw_preferences_group_new();
	kind_row = adw_action_row_new();
	gtk_widget_set_name(kind_row, "step-kind");
	icon = gtk_image_new_from_icon_name(kind != NULL ? kind->icon_name
							 : "dialog-question-symbolic");
	gtk_image_set_pixel_size(GTK_IMAGE(icon), 32);
	adw_action_row_add_prefix(ADW_ACTION_ROW(kind_row), icon);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(kind_row),
				      kind != NULL ? _(kind->title) : _("Unknown Step Kind"));
	if (kind != NULL) {
		g_autofree gchar *subtitle = g_strdup_printf("%s — %s", uses, _(kind->description));
		adw_action_row_set_subtitle(ADW_ACTION_ROW(kind_row), subtitle);
	} else {
		g_autofree gchar *subtitle =
			g_strdup_printf(_("“%s” is not a step kind this version knows"),
					uses != NULL ? uses : "");
		adw_action_row_set_subtitle(ADW_ACTION_ROW(kind_row), subtitle);
	}
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), kind_row);
	{
		GtkWidget *row = aiq_designer_step_form_add_row(self,
								&aiq_step_form_id_param,
								"step",
								AIQ_STEP_FORM_TARGET_ID);
		aiq_designer_param_row_set_apply_on_activate(AIQ_DESIGNER_PARAM_ROW(row), TRUE);
		adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
	}
	for (guint i = 0; aiq_step_form_header_params[i].name != NULL; i++)
		adw_preferences_group_add(
			ADW_PREFERENCES_GROUP(group),
			aiq_designer_step_form_add_row(self,
						       &aiq_step_form_header_params[i],
						       "step",
						       AIQ_STEP_FORM_TARGET_MEMBER));
	self->problems_label = gtk_label_new(NULL);
	gtk_widget_set_name(self->problems_label, "step-problems");
	gtk_label_set_xalign(GTK_LABEL(self->problems_label), 0);
	gtk_label_set_wrap(GTK_LABEL(self->problems_label), TRUE);
	gtk_widget_add_css_class(self->problems_label, "error");
	gtk_widget_set_margin_top(self->problems_label, 6);
	gtk_widget_set_visible(self->problems_label, FALSE);
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), self->problems_label);
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(self->page), ADW_PREFERENCES_GROUP(group));

	/* the kind's parameters */
	group = adw_preferences_group_new();
	adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), _("Parameters"));
	if (kind != NULL) {
		for (guint i = 0; kind->params[i].name != NULL; i++)
			adw_preferences_group_add(
				ADW_PREFERENCES_GROUP(group),
				aiq_designer_step_form_add_row(self,
							       &kind->params[i],
							       "param",
							       AIQ_STEP_FORM_TARGET_PARAM));
		if (kind->params[0].name == NULL)
			adw_preferences_group_set_description(
				ADW_PREFERENCES_GROUP(group),
				_("This kind of step has no parameters."));
	} else {
		static const AiqParam with_param = {
			"with",
			AIQ_PARAM_OBJECT,
			FALSE,
			NULL,
			N_("The parameters, as a JSON object."),
			NULL,
			AIQ_PARAM_FLAG_NONE,
		};
		adw_preferences_group_add(
			ADW_PREFERENCES_GROUP(group),
			aiq_designer_step_form_add_row(self,
						       &with_param,
						       "step",
						       AIQ_STEP_FORM_TARGET_MEMBER));
	}
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(self->page), ADW_PREFERENCES_GROUP(group));

	/* how it runs */
	group = adw_preferences_group_new();
	adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), _("Behaviour"));
	for (guint i = 0; aiq_step_form_behaviour_params[i].name != NULL; i++)
		adw_preferences_group_add(
			ADW_PREFERENCES_GROUP(group),
			aiq_designer_step_form_add_row(self,
						       &aiq_step_form_behaviour_params[i],
						       "step",
						       AIQ_STEP_FORM_TARGET_MEMBER));
	expander = adw_expander_row_new();
	gtk_widget_set_name(expander, "step-retry");
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(expander), _("Retry"));
	adw_expander_row_set_subtitle(ADW_EXPANDER_ROW(expander),
				      _("Attempts again after a failure, with a delay"));
	for (guint i = 0; aiq_step_form_retry_params[i].name != NULL; i++)
		adw_expander_row_add_row(
			ADW_EXPANDER_ROW(expander),
			aiq_designer_step_form_add_row(self,
						       &aiq_step_form_retry_params[i],
						       "retry",
						       AIQ_STEP_FORM_TARGET_RETRY));
	if (json_object_has_member(step, "retry"))
		adw_expander_row_set_expanded(ADW_EXPANDER_ROW(expander), TRUE);
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), expander);
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(self->page), ADW_PREFERENCES_GROUP(group));

	adw_bin_set_child(ADW_BIN(self), self->page);
	aiq_designer_step_form_refresh(self);
}

static void
aiq_designer_step_form_document_changed_cb(AiqDesignerDocument *document,
					   guint change,
					   AiqDesignerStepForm *self)
{
	JsonObject *step;
	const gchar *uses;

	/* its own edit: the widgets show it already */
	if (self->writing > 0)
		return;
	if (change == AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS)
		return;
	step = aiq_designer_step_form_get_step_object(self, NULL);
	uses = step != NULL ? aiq_json_object_get_string(step, "uses") : NULL;
	if (!self->built || step == NULL ||
	    g_strcmp0(uses != NULL ? uses : "", self->built_kind) != 0 ||
	    g_strcmp0(self->built_id, self->step_id) != 0) {
		aiq_designer_step_form_rebuild(self);
		return;
	}
	aiq_designer_step_form_refresh(self);
}

void
aiq_designer_step_form_set_document(AiqDesignerStepForm *self, AiqDesignerDocument *document)
{
	g_return_if_fail(AIQ_DESIGNER_IS_STEP_FORM(self));
	g_return_if_fail(document == NULL || AIQ_DESIGNER_IS_DOCUMENT(document));
	if (self->document == document)
		return;
	aiq_designer_step_form_flush(self);
	if (self->document != NULL) {
		g_clear_signal_handler(&self->changed_id, self->document);
		g_clear_object(&self->document);
	}
	if (document != NULL) {
		self->document = g_object_ref(document);
		self->changed_id =
			g_signal_connect(document,
					 "changed",
					 G_CALLBACK(aiq_designer_step_form_document_changed_cb),
					 self);
	}
	aiq_designer_step_form_rebuild(self);
}

/**
 * aiq_designer_step_form_set_step:
 * @step_id: (nullable): the step to edit
 */
void
aiq_designer_step_form_set_step(AiqDesignerStepForm *self, const gchar *step_id)
{
	g_return_if_fail(AIQ_DESIGNER_IS_STEP_FORM(self));
	if (g_strcmp0(self->step_id, step_id) == 0 && self->built)
		return;
	/* an edit still waiting belongs to the step it was typed in */
	aiq_designer_step_form_flush(self);
	g_free(self->step_id);
	self->step_id = g_strdup(step_id);
	aiq_designer_step_form_rebuild(self);
}

const gchar *
aiq_designer_step_form_get_step(AiqDesignerStepForm *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_STEP_FORM(self), NULL);
	return self->step_id;
}

/**
 * aiq_designer_step_form_set_problems:
 * @problems: (nullable): the whole document's problems; those of this step
 *   are shown at their fields
 */
void
aiq_designer_step_form_set_problems(AiqDesignerStepForm *self, AiqProblems *problems)
{
	g_return_if_fail(AIQ_DESIGNER_IS_STEP_FORM(self));
	g_clear_pointer(&self->problems, aiq_problems_unref);
	if (problems != NULL)
		self->problems = aiq_problems_ref(problems);
	aiq_designer_step_form_apply_problems(self);
}

/**
 * aiq_designer_step_form_focus_path:
 * @path: e.g. `steps[1].with.url`
 *
 * Scrolls to the field @path is about and focuses it.
 *
 * Returns: %TRUE if the form has such a field
 */
gboolean
aiq_designer_step_form_focus_path(AiqDesignerStepForm *self, const gchar *path)
{
	AiqDesignerParamRow *row;
	GtkWidget *expander;
	g_return_val_if_fail(AIQ_DESIGNER_IS_STEP_FORM(self), FALSE);
	g_return_val_if_fail(path != NULL, FALSE);
	row = aiq_designer_param_rows_find(self->rows, path);
	if (row == NULL)
		return FALSE;
	expander = gtk_widget_get_ancestor(GTK_WIDGET(row), ADW_TYPE_EXPANDER_ROW);
	if (expander != NULL)
		adw_expander_row_set_expanded(ADW_EXPANDER_ROW(expander), TRUE);
	return aiq_designer_param_row_focus(row);
}

static void
aiq_designer_step_form_dispose(GObject *object)
{
	AiqDesignerStepForm *self = AIQ_DESIGNER_STEP_FORM(object);
	if (self->rows != NULL) {
		for (guint i = 0; i < self->rows->len; i++)
			aiq_designer_param_row_cancel(g_ptr_array_index(self->rows, i));
		g_ptr_array_set_size(self->rows, 0);
	}
	if (self->document != NULL) {
		g_clear_signal_handler(&self->changed_id, self->document);
		g_clear_object(&self->document);
	}
	G_OBJECT_CLASS(aiq_designer_step_form_parent_class)->dispose(object);
}

static void
aiq_designer_step_form_finalize(GObject *object)
{
	AiqDesignerStepForm *self = AIQ_DESIGNER_STEP_FORM(object);
	g_clear_pointer(&self->problems, aiq_problems_unref);
	g_clear_pointer(&self->rows, g_ptr_array_unref);
	g_free(self->step_id);
	g_free(self->built_id);
	g_free(self->built_kind);
	G_OBJECT_CLASS(aiq_designer_step_form_parent_class)->finalize(object);
}

static void
aiq_designer_step_form_class_init(AiqDesignerStepFormClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = aiq_designer_step_form_dispose;
	object_class->finalize = aiq_designer_step_form_finalize;
	gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "aiqstepform");
}

static void
aiq_designer_step_form_init(AiqDesignerStepForm *self)
{
	/* rows are owned by the page; this only lists them */
	self->rows = g_ptr_array_new();
	aiq_designer_step_form_rebuild(self);
}

GtkWidget *
aiq_designer_step_form_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_STEP_FORM, NULL);
}
