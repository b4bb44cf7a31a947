/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "aiq-definition.h"
#include "aiq-document.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-sandbox.h"
#include "aiq-template.h"
#include "aiq-util.h"

struct _AiqDefinition {
	gint refcount;
	gchar *name;
	gchar *description;
	gchar **labels;
	GPtrArray *triggers;    /* of AiqTrigger */
	GPtrArray *inputs;      /* of AiqInput */
	GPtrArray *steps;       /* of AiqStep */
	GHashTable *step_index; /* id -> index + 1 */
	JsonNode *outputs;
	JsonNode *ui;
	gint64 timeout_ms;
	guint concurrency;
	gchar *filename;
	GMutex mutex;
	gchar *canonical_json; /* lazy */
	gchar *digest;         /* lazy */
};

G_DEFINE_BOXED_TYPE(AiqDefinition, aiq_definition, aiq_definition_ref, aiq_definition_unref)

enum {
	AIQ_RETRY_SET_MAX_ATTEMPTS = 1 << 0,
	AIQ_RETRY_SET_BACKOFF = 1 << 1,
	AIQ_RETRY_SET_INITIAL = 1 << 2,
	AIQ_RETRY_SET_MAX = 1 << 3,
	AIQ_RETRY_SET_JITTER = 1 << 4,
};

static const gchar *const aiq_definition_members[] = { "name",     "description", "runs_on",
						       "triggers", "inputs",      "steps",
						       "outputs",  "timeout",     "concurrency",
						       "ui",       NULL };
static const gchar *const aiq_step_members[] = { "id",       "name",        "description",
						 "uses",     "needs",       "if",
						 "for_each", "concurrency", "with",
						 "retry",    "timeout",     "continue_on_error",
						 NULL };
static const gchar *const aiq_retry_members[] = { "max_attempts", "backoff", "initial",
						  "max",          "jitter",  NULL };
static const gchar *const aiq_input_members[] = { "type",        "default", "required",
						  "description", "choices", NULL };
static const gchar *const aiq_trigger_kinds[] = { "schedule", "webhook", "manual", "api", NULL };
static const gchar *const aiq_schedule_members[] = { "cron", "timezone", "catch_up", NULL };
static const gchar *const aiq_webhook_members[] = { "respond",
						    "timeout",
						    "headers",
						    "signature_header",
						    NULL };
static const gchar *const aiq_runs_on_members[] = { "labels", NULL };
static const gchar *const aiq_input_types[] = { "string", "integer", "number", "boolean",
						"object", "array",   "any",    NULL };
static const gchar *const aiq_catch_up_names[] = { "none", "last", "all", NULL };
static const gchar *const aiq_respond_names[] = { "accepted", "on_finish", NULL };
static const gchar *const aiq_backoff_names[] = { "exponential", "constant", NULL };

static void
aiq_trigger_free(AiqTrigger *trigger)
{
	g_free(trigger->cron);
	if (trigger->cron_parsed != NULL)
		aiq_cron_unref(trigger->cron_parsed);
	g_free(trigger->timezone);
	g_strfreev(trigger->headers);
	g_free(trigger->signature_header);
	g_free(trigger);
}

static void
aiq_input_free(AiqInput *input)
{
	g_free(input->name);
	if (input->default_value != NULL)
		json_node_unref(input->default_value);
	g_free(input->description);
	g_strfreev(input->choices);
	g_free(input);
}

static void
aiq_step_free(AiqStep *step)
{
	g_free(step->id);
	g_free(step->name);
	g_free(step->description);
	g_free(step->uses);
	if (step->with != NULL)
		json_node_unref(step->with);
	g_strfreev(step->needs);
	g_free(step->deps);
	g_free(step->dependents);
	if (step->if_node != NULL)
		json_node_unref(step->if_node);
	g_free(step->if_expr);
	if (step->for_each != NULL)
		json_node_unref(step->for_each);
	g_free(step->for_each_expr);
	g_free(step);
}

static AiqDefinition *
aiq_definition_new(void)
{
	AiqDefinition *self = g_new0(AiqDefinition, 1);
	self->refcount = 1;
	self->triggers = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_trigger_free);
	self->inputs = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_input_free);
	self->steps = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_step_free);
	self->step_index = g_hash_table_new(g_str_hash, g_str_equal);
	g_mutex_init(&self->mutex);
	return self;
}

AiqDefinition *
aiq_definition_ref(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_int_inc(&self->refcount);
	return self;
}

void
aiq_definition_unref(AiqDefinition *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_int_dec_and_test(&self->refcount))
		return;
	g_free(self->name);
	g_free(self->description);
	g_strfreev(self->labels);
	g_ptr_array_unref(self->triggers);
	g_ptr_array_unref(self->inputs);
	g_hash_table_unref(self->step_index);
	g_ptr_array_unref(self->steps);
	if (self->outputs != NULL)
		json_node_unref(self->outputs);
	if (self->ui != NULL)
		json_node_unref(self->ui);
	g_free(self->filename);
	g_free(self->canonical_json);
	g_free(self->digest);
	g_mutex_clear(&self->mutex);
	g_free(self);
}

/* parsing helpers: each adds problems and returns what it could read */

typedef struct {
	AiqProblems *problems;
	AiqSandbox *sandbox;
	AiqConfig *config;
} AiqParseCtx;

static void
aiq_check_members(AiqParseCtx *ctx,
		  JsonObject *obj,
		  const gchar *path,
		  const gchar *const *known,
		  const gchar *what)
{
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *value;
	json_object_iter_init_ordered(&iter, obj);
	while (json_object_iter_next_ordered(&iter, &key, &value)) {
		g_autofree gchar *member_path = NULL;
		const gchar *suggestion;
		if (g_strv_contains(known, key))
			continue;
		member_path = aiq_path_member(path, key);
		suggestion = aiq_suggest(key, known);
		if (suggestion != NULL) {
			aiq_problems_add(
				ctx->problems,
				member_path,
				/* TRANSLATORS: unknown member “x” in a step; did you mean “y”? */
				_("unknown member “%s” in %s; did you mean “%s”?"),
				key,
				what,
				suggestion);
		} else {
			aiq_problems_add(ctx->problems,
					 member_path,
					 _("unknown member “%s” in %s"),
					 key,
					 what);
		}
	}
}

static void
aiq_problem_type(AiqParseCtx *ctx, const gchar *path, const gchar *expected, JsonNode *node)
{
	aiq_problems_add(ctx->problems,
			 path,
			 /* TRANSLATORS: expected a string, got array */
			 _("expected %s, got %s"),
			 expected,
			 aiq_json_type_name(node));
}

static const gchar *
aiq_get_string(AiqParseCtx *ctx,
	       JsonObject *obj,
	       const gchar *member,
	       const gchar *path,
	       gboolean required)
{
	g_autofree gchar *member_path = aiq_path_member(path, member);
	JsonNode *node = json_object_get_member(obj, member);
	if (node == NULL) {
		if (required)
			aiq_problems_add(ctx->problems,
					 member_path,
					 _("missing required member “%s”"),
					 member);
		return NULL;
	}
	if (!aiq_json_is_string(node)) {
		aiq_problem_type(ctx, member_path, _("a string"), node);
		return NULL;
	}
	return json_node_get_string(node);
}

static gboolean
aiq_get_bool(AiqParseCtx *ctx,
	     JsonObject *obj,
	     const gchar *member,
	     const gchar *path,
	     gboolean *value)
{
	JsonNode *node = json_object_get_member(obj, member);
	if (node == NULL)
		return FALSE;
	if (!aiq_json_is_bool(node)) {
		g_autofree gchar *member_path = aiq_path_member(path, member);
		aiq_problem_type(ctx, member_path, _("true or false"), node);
		return FALSE;
	}
	*value = json_node_get_boolean(node);
	return TRUE;
}

static gboolean
aiq_get_uint(AiqParseCtx *ctx,
	     JsonObject *obj,
	     const gchar *member,
	     const gchar *path,
	     guint min,
	     guint max,
	     guint *value)
{
	JsonNode *node = json_object_get_member(obj, member);
	g_autofree gchar *member_path = NULL;
	if (node == NULL)
		return FALSE;
	member_path = aiq_path_member(path, member);
	if (!aiq_json_is_integer(node)) {
		aiq_problem_type(ctx, member_path, _("a whole number"), node);
		return FALSE;
	}
	if (json_node_get_int(node) < min || json_node_get_int(node) > max) {
		aiq_problems_add(ctx->problems,
				 member_path,
				 _("%" PRId64 " is out of range %u to %u"),
				 json_node_get_int(node),
				 min,
				 max);
		return FALSE;
	}
	*value = (guint)json_node_get_int(node);
	return TRUE;
}

static gboolean
aiq_get_duration(AiqParseCtx *ctx,
		 JsonObject *obj,
		 const gchar *member,
		 const gchar *path,
		 gint64 *value)
{
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *member_path = aiq_path_member(path, member);
	JsonNode *node = json_object_get_member(obj, member);
	if (node == NULL)
		return FALSE;
	if (!aiq_json_is_string(node)) {
		aiq_problem_type(ctx, member_path, _("a duration such as 30s"), node);
		return FALSE;
	}
	if (!aiq_duration_parse(json_node_get_string(node), value, &error_local)) {
		aiq_problems_add_error(ctx->problems, member_path, error_local);
		return FALSE;
	}
	return TRUE;
}

static gchar **
aiq_get_string_list(AiqParseCtx *ctx, JsonObject *obj, const gchar *member, const gchar *path)
{
	g_autofree gchar *member_path = aiq_path_member(path, member);
	JsonNode *node = json_object_get_member(obj, member);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	JsonArray *array;

	if (node == NULL)
		return NULL;
	if (aiq_json_is_string(node)) {
		g_strv_builder_add(builder, json_node_get_string(node));
		return g_strv_builder_end(builder);
	}
	if (!JSON_NODE_HOLDS_ARRAY(node)) {
		aiq_problem_type(ctx, member_path, _("a list of strings"), node);
		return NULL;
	}
	array = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *elem = json_array_get_element(array, i);
		if (!aiq_json_is_string(elem)) {
			g_autofree gchar *elem_path = aiq_path_index(member_path, i);
			aiq_problem_type(ctx, elem_path, _("a string"), elem);
			continue;
		}
		g_strv_builder_add(builder, json_node_get_string(elem));
	}
	return g_strv_builder_end(builder);
}

static gboolean
aiq_get_enum(AiqParseCtx *ctx,
	     JsonObject *obj,
	     const gchar *member,
	     const gchar *path,
	     const gchar *const *names,
	     guint *value)
{
	const gchar *str = aiq_get_string(ctx, obj, member, path, FALSE);
	g_autofree gchar *member_path = NULL;
	g_autofree gchar *choices = NULL;
	const gchar *suggestion;
	if (str == NULL)
		return FALSE;
	for (guint i = 0; names[i] != NULL; i++) {
		if (g_strcmp0(names[i], str) == 0) {
			*value = i;
			return TRUE;
		}
	}
	member_path = aiq_path_member(path, member);
	choices = g_strjoinv(", ", (gchar **)names);
	suggestion = aiq_suggest(str, names);
	if (suggestion != NULL)
		aiq_problems_add(ctx->problems,
				 member_path,
				 _("“%s” is not one of %s; did you mean “%s”?"),
				 str,
				 choices,
				 suggestion);
	else
		aiq_problems_add(ctx->problems,
				 member_path,
				 _("“%s” is not one of %s"),
				 str,
				 choices);
	return FALSE;
}

static gboolean
aiq_name_is_valid(const gchar *name)
{
	gsize len = strlen(name);
	if (len == 0 || len > 128 || !g_ascii_isalnum(name[0]))
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return FALSE;
	}
	return TRUE;
}

/* a schedule, webhook, manual or api trigger */
static void
aiq_parse_trigger(AiqParseCtx *ctx, AiqDefinition *self, JsonNode *node, const gchar *path)
{
	JsonObject *obj;
	JsonObject *spec = NULL;
	const gchar *kind_name;
	JsonNode *spec_node;
	g_autoptr(GList) members = NULL;
	g_autofree gchar *spec_path = NULL;
	AiqTrigger *trigger;
	guint kind = 0;

	if (aiq_json_is_string(node)) {
		/* `- manual` is short for `- manual: {}` */
		kind_name = json_node_get_string(node);
		spec_node = NULL;
	} else if (JSON_NODE_HOLDS_OBJECT(node) &&
		   json_object_get_size(json_node_get_object(node)) == 1) {
		obj = json_node_get_object(node);
		members = json_object_get_members(obj);
		kind_name = members->data;
		spec_node = json_object_get_member(obj, kind_name);
	} else {
		aiq_problems_add(ctx->problems,
				 path,
				 _("a trigger is an object with one member: schedule, webhook, "
				   "manual or api"));
		return;
	}
	spec_path = aiq_path_member(path, kind_name);
	for (kind = 0; aiq_trigger_kinds[kind] != NULL; kind++) {
		if (g_strcmp0(aiq_trigger_kinds[kind], kind_name) == 0)
			break;
	}
	if (aiq_trigger_kinds[kind] == NULL) {
		const gchar *suggestion = aiq_suggest(kind_name, aiq_trigger_kinds);
		if (suggestion != NULL)
			aiq_problems_add(ctx->problems,
					 spec_path,
					 _("unknown trigger “%s”; did you mean “%s”?"),
					 kind_name,
					 suggestion);
		else
			aiq_problems_add(
				ctx->problems,
				spec_path,
				_("unknown trigger “%s”; use schedule, webhook, manual or api"),
				kind_name);
		return;
	}
	if (spec_node != NULL && !JSON_NODE_HOLDS_NULL(spec_node)) {
		if (!JSON_NODE_HOLDS_OBJECT(spec_node)) {
			aiq_problem_type(ctx, spec_path, _("an object"), spec_node);
			return;
		}
		spec = json_node_get_object(spec_node);
	}

	trigger = g_new0(AiqTrigger, 1);
	trigger->kind = (AiqTriggerKind)kind;
	trigger->catch_up = AIQ_CATCH_UP_LAST;
	trigger->respond_timeout_ms = 30 * 1000;
	g_ptr_array_add(self->triggers, trigger);

	switch (trigger->kind) {
	case AIQ_TRIGGER_KIND_SCHEDULE: {
		const gchar *cron = NULL;
		const gchar *tz = NULL;
		guint catch_up = 0;
		if (spec == NULL) {
			aiq_problems_add(ctx->problems,
					 spec_path,
					 _("a schedule needs a cron expression"));
			break;
		}
		aiq_check_members(ctx, spec, spec_path, aiq_schedule_members, _("a schedule"));
		cron = aiq_get_string(ctx, spec, "cron", spec_path, TRUE);
		if (cron != NULL) {
			g_autoptr(GError) error_local = NULL;
			g_autofree gchar *cron_path = aiq_path_member(spec_path, "cron");
			trigger->cron = g_strdup(cron);
			trigger->cron_parsed = aiq_cron_new(cron, &error_local);
			if (trigger->cron_parsed == NULL)
				aiq_problems_add_error(ctx->problems, cron_path, error_local);
		}
		tz = aiq_get_string(ctx, spec, "timezone", spec_path, FALSE);
		if (tz != NULL) {
			g_autoptr(GError) error_local = NULL;
			g_autoptr(GTimeZone) zone = aiq_timezone_new(tz, &error_local);
			g_autofree gchar *tz_path = aiq_path_member(spec_path, "timezone");
			if (zone == NULL)
				aiq_problems_add_error(ctx->problems, tz_path, error_local);
			trigger->timezone = g_strdup(tz);
		}
		if (aiq_get_enum(ctx, spec, "catch_up", spec_path, aiq_catch_up_names, &catch_up)) {
			trigger->catch_up = (AiqCatchUp)catch_up;
			trigger->catch_up_set = TRUE;
		}
		break;
	}
	case AIQ_TRIGGER_KIND_WEBHOOK: {
		guint respond = 0;
		const gchar *header;
		if (spec == NULL)
			break;
		aiq_check_members(ctx, spec, spec_path, aiq_webhook_members, _("a webhook"));
		if (aiq_get_enum(ctx, spec, "respond", spec_path, aiq_respond_names, &respond)) {
			trigger->respond = (AiqWebhookRespond)respond;
			trigger->respond_set = TRUE;
		}
		aiq_get_duration(ctx, spec, "timeout", spec_path, &trigger->respond_timeout_ms);
		trigger->headers = aiq_get_string_list(ctx, spec, "headers", spec_path);
		header = aiq_get_string(ctx, spec, "signature_header", spec_path, FALSE);
		trigger->signature_header = g_strdup(header);
		break;
	}
	case AIQ_TRIGGER_KIND_MANUAL:
	case AIQ_TRIGGER_KIND_API:
		if (spec != NULL)
			aiq_check_members(ctx,
					  spec,
					  spec_path,
					  (const gchar *const[]){ NULL },
					  aiq_trigger_kinds[kind]);
		break;
	default:
		g_assert_not_reached();
	}
}

static gboolean
aiq_input_value_matches(AiqInputType type, JsonNode *value)
{
	switch (type) {
	case AIQ_INPUT_TYPE_STRING:
		return aiq_json_is_string(value);
	case AIQ_INPUT_TYPE_INTEGER:
		return aiq_json_is_integer(value);
	case AIQ_INPUT_TYPE_NUMBER:
		return aiq_json_is_number(value);
	case AIQ_INPUT_TYPE_BOOLEAN:
		return aiq_json_is_bool(value);
	case AIQ_INPUT_TYPE_OBJECT:
		return JSON_NODE_HOLDS_OBJECT(value);
	case AIQ_INPUT_TYPE_ARRAY:
		return JSON_NODE_HOLDS_ARRAY(value);
	case AIQ_INPUT_TYPE_ANY:
	default:
		return TRUE;
	}
}

static void
aiq_parse_input(AiqParseCtx *ctx,
		AiqDefinition *self,
		const gchar *name,
		JsonNode *node,
		const gchar *path)
{
	AiqInput *input = g_new0(AiqInput, 1);
	JsonObject *spec;
	guint type = 0;
	JsonNode *def;

	input->name = g_strdup(name);
	input->type = AIQ_INPUT_TYPE_STRING;
	g_ptr_array_add(self->inputs, input);
	if (!aiq_identifier_is_valid(name))
		aiq_problems_add(ctx->problems,
				 path,
				 _("input name “%s” must start with a letter or _ and hold only "
				   "letters, digits and _"),
				 name);
	if (JSON_NODE_HOLDS_NULL(node))
		return;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		aiq_problem_type(ctx, path, _("an object with type, default, required"), node);
		return;
	}
	spec = json_node_get_object(node);
	aiq_check_members(ctx, spec, path, aiq_input_members, _("an input"));
	if (aiq_get_enum(ctx, spec, "type", path, aiq_input_types, &type))
		input->type = (AiqInputType)type;
	if (aiq_get_bool(ctx, spec, "required", path, &input->required))
		input->required_set = TRUE;
	input->description = g_strdup(aiq_get_string(ctx, spec, "description", path, FALSE));
	input->choices = aiq_get_string_list(ctx, spec, "choices", path);
	def = json_object_get_member(spec, "default");
	if (def != NULL) {
		g_autofree gchar *def_path = aiq_path_member(path, "default");
		if (!aiq_input_value_matches(input->type, def))
			aiq_problem_type(ctx, def_path, aiq_input_types[input->type], def);
		else if (input->choices != NULL && aiq_json_is_string(def) &&
			 !g_strv_contains((const gchar *const *)input->choices,
					  json_node_get_string(def)))
			aiq_problems_add(ctx->problems,
					 def_path,
					 _("the default is not one of the choices"));
		input->default_value = json_node_copy(def);
	}
}

/* `if`: a boolean, a bare expression or exactly one ${{ }} */
static void
aiq_parse_if(AiqParseCtx *ctx, AiqStep *step, JsonNode *node, const gchar *path)
{
	g_autoptr(GError) error_local = NULL;
	const gchar *str;
	if (aiq_json_is_bool(node)) {
		step->if_node = json_node_copy(node);
		return;
	}
	if (!aiq_json_is_string(node)) {
		aiq_problem_type(ctx, path, _("an expression or true/false"), node);
		return;
	}
	step->if_node = json_node_copy(node);
	str = json_node_get_string(node);
	step->if_expr = aiq_template_get_single_expression(str);
	if (step->if_expr == NULL) {
		if (aiq_template_string_has_expressions(str)) {
			aiq_problems_add(ctx->problems,
					 path,
					 _("write the condition as one ${{ }} expression"));
			return;
		}
		step->if_expr = g_strdup(str);
	}
	if (!aiq_sandbox_compile(ctx->sandbox, step->if_expr, &error_local))
		aiq_problems_add_error(ctx->problems, path, error_local);
	step->if_status_fn = aiq_template_uses_status_function(step->if_expr);
}

static void
aiq_parse_for_each(AiqParseCtx *ctx, AiqStep *step, JsonNode *node, const gchar *path)
{
	step->for_each = json_node_copy(node);
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		aiq_template_check(ctx->sandbox, node, path, ctx->problems);
		return;
	}
	if (aiq_json_is_string(node)) {
		g_autoptr(GError) error_local = NULL;
		step->for_each_expr =
			aiq_template_get_single_expression(json_node_get_string(node));
		if (step->for_each_expr == NULL) {
			aiq_problems_add(
				ctx->problems,
				path,
				_("for_each takes a list or one ${{ }} expression that gives "
				  "a list"));
			return;
		}
		if (!aiq_sandbox_compile(ctx->sandbox, step->for_each_expr, &error_local))
			aiq_problems_add_error(ctx->problems, path, error_local);
		return;
	}
	aiq_problem_type(ctx, path, _("a list or an expression"), node);
}

static void
aiq_parse_retry(AiqParseCtx *ctx, AiqStep *step, JsonNode *node, const gchar *path)
{
	JsonObject *obj;
	guint backoff = 0;
	step->retry_set = TRUE;
	step->retry.max_attempts = 3;
	if (aiq_json_is_integer(node)) {
		/* `retry: 5` is short for `retry: { max_attempts: 5 }` */
		gint64 n = json_node_get_int(node);
		if (n < 1 || n > 100)
			aiq_problems_add(ctx->problems,
					 path,
					 _("%" PRId64 " is out of range 1 to 100"),
					 n);
		else
			step->retry.max_attempts = (guint)n;
		step->retry.set = AIQ_RETRY_SET_MAX_ATTEMPTS;
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		aiq_problem_type(ctx,
				 path,
				 _("an object with max_attempts, backoff, initial, max"),
				 node);
		return;
	}
	obj = json_node_get_object(node);
	aiq_check_members(ctx, obj, path, aiq_retry_members, _("retry"));
	if (aiq_get_uint(ctx, obj, "max_attempts", path, 1, 100, &step->retry.max_attempts))
		step->retry.set |= AIQ_RETRY_SET_MAX_ATTEMPTS;
	if (aiq_get_enum(ctx, obj, "backoff", path, aiq_backoff_names, &backoff)) {
		step->retry.backoff = (AiqBackoff)backoff;
		step->retry.set |= AIQ_RETRY_SET_BACKOFF;
	}
	if (aiq_get_duration(ctx, obj, "initial", path, &step->retry.initial_ms))
		step->retry.set |= AIQ_RETRY_SET_INITIAL;
	if (aiq_get_duration(ctx, obj, "max", path, &step->retry.max_ms))
		step->retry.set |= AIQ_RETRY_SET_MAX;
	if (json_object_has_member(obj, "jitter")) {
		JsonNode *jitter = json_object_get_member(obj, "jitter");
		g_autofree gchar *jitter_path = aiq_path_member(path, "jitter");
		if (!aiq_json_is_number(jitter)) {
			aiq_problem_type(ctx, jitter_path, _("a number from 0 to 1"), jitter);
		} else if (json_node_get_double(jitter) < 0 || json_node_get_double(jitter) > 1) {
			aiq_problems_add(ctx->problems,
					 jitter_path,
					 _("jitter is a fraction from 0 to 1"));
		} else {
			step->retry.jitter = json_node_get_double(jitter);
			step->retry.set |= AIQ_RETRY_SET_JITTER;
		}
	}
	if ((step->retry.set & AIQ_RETRY_SET_MAX) && step->retry.max_ms < step->retry.initial_ms) {
		g_autofree gchar *max_path = aiq_path_member(path, "max");
		aiq_problems_add(ctx->problems, max_path, _("max is shorter than initial"));
	}
}

static void
aiq_parse_step(AiqParseCtx *ctx, AiqDefinition *self, JsonNode *node, guint idx, const gchar *path)
{
	AiqStep *step = g_new0(AiqStep, 1);
	JsonObject *obj;
	const gchar *id;
	const gchar *uses;
	JsonNode *member;

	/* defaults */
	step->retry.max_attempts = 1;
	step->retry.backoff = AIQ_BACKOFF_EXPONENTIAL;
	step->retry.initial_ms = 1000;
	step->retry.max_ms = 60 * 1000;
	step->retry.jitter = 0.2;
	g_ptr_array_add(self->steps, step);

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		aiq_problem_type(ctx, path, _("a step object with id and uses"), node);
		step->id = g_strdup_printf("#%u", idx);
		step->with = aiq_json_new_object(json_object_new());
		return;
	}
	obj = json_node_get_object(node);
	aiq_check_members(ctx, obj, path, aiq_step_members, _("a step"));

	id = aiq_get_string(ctx, obj, "id", path, TRUE);
	if (id != NULL) {
		g_autofree gchar *id_path = aiq_path_member(path, "id");
		gpointer other = g_hash_table_lookup(self->step_index, id);
		if (!aiq_identifier_is_valid(id)) {
			aiq_problems_add(
				ctx->problems,
				id_path,
				_("step id “%s” must start with a letter or _ and hold only "
				  "letters, digits and _ (it is used as steps.ID in "
				  "expressions)"),
				id);
		} else if (other != NULL) {
			aiq_problems_add(ctx->problems,
					 id_path,
					 _("duplicate step id “%s” (also steps[%u])"),
					 id,
					 GPOINTER_TO_UINT(other) - 1);
		}
		step->id = g_strdup(id);
		if (other == NULL)
			g_hash_table_insert(self->step_index, step->id, GUINT_TO_POINTER(idx + 1));
	} else {
		step->id = g_strdup_printf("#%u", idx);
	}
	step->name = g_strdup(aiq_get_string(ctx, obj, "name", path, FALSE));
	step->description = g_strdup(aiq_get_string(ctx, obj, "description", path, FALSE));

	uses = aiq_get_string(ctx, obj, "uses", path, TRUE);
	if (uses != NULL) {
		g_autofree gchar *uses_path = aiq_path_member(path, "uses");
		step->uses = g_strdup(uses);
		step->kind = aiq_step_kind_lookup(uses);
		if (step->kind == NULL) {
			g_autofree const gchar **names = aiq_step_kind_list_names();
			g_autofree gchar *all = g_strjoinv(", ", (gchar **)names);
			const gchar *suggestion = aiq_suggest(uses, names);
			if (suggestion != NULL)
				aiq_problems_add(ctx->problems,
						 uses_path,
						 _("unknown step kind “%s”; did you mean “%s”?"),
						 uses,
						 suggestion);
			else
				aiq_problems_add(ctx->problems,
						 uses_path,
						 _("unknown step kind “%s”; the kinds are %s"),
						 uses,
						 all);
		} else if (ctx->config != NULL && !aiq_config_is_kind_enabled(ctx->config, uses)) {
			aiq_problems_add(ctx->problems,
					 uses_path,
					 _("step kind “%s” is switched off in this configuration"),
					 uses);
		}
	}

	member = json_object_get_member(obj, "with");
	if (member != NULL && !JSON_NODE_HOLDS_NULL(member))
		step->with = json_node_copy(member);
	else
		step->with = aiq_json_new_object(json_object_new());
	{
		g_autofree gchar *with_path = aiq_path_member(path, "with");
		if (step->kind != NULL)
			aiq_step_kind_validate_with(step->kind,
						    step->with,
						    with_path,
						    ctx->problems);
		if (JSON_NODE_HOLDS_OBJECT(step->with)) {
			/* raw parameters (Lua source) are not templates */
			JsonObjectIter iter;
			const gchar *key;
			JsonNode *value;
			json_object_iter_init_ordered(&iter, json_node_get_object(step->with));
			while (json_object_iter_next_ordered(&iter, &key, &value)) {
				const AiqParam *param =
					step->kind != NULL
						? aiq_step_kind_find_param(step->kind, key)
						: NULL;
				g_autofree gchar *param_path = aiq_path_member(with_path, key);
				if (param != NULL && (param->flags & AIQ_PARAM_FLAG_RAW)) {
					if (aiq_json_is_string(value)) {
						g_autoptr(GError) error_local = NULL;
						if (!aiq_sandbox_compile_chunk(
							    ctx->sandbox,
							    json_node_get_string(value),
							    &error_local))
							aiq_problems_add_error(ctx->problems,
									       param_path,
									       error_local);
					}
					continue;
				}
				aiq_template_check(ctx->sandbox, value, param_path, ctx->problems);
				if (aiq_template_has_expressions(value))
					step->with_has_expressions = TRUE;
			}
		}
	}

	member = json_object_get_member(obj, "needs");
	if (member != NULL) {
		step->needs = aiq_get_string_list(ctx, obj, "needs", path);
		if (step->needs == NULL)
			step->needs = g_new0(gchar *, 1);
	}
	member = json_object_get_member(obj, "if");
	if (member != NULL) {
		g_autofree gchar *if_path = aiq_path_member(path, "if");
		aiq_parse_if(ctx, step, member, if_path);
	}
	member = json_object_get_member(obj, "for_each");
	if (member != NULL) {
		g_autofree gchar *fe_path = aiq_path_member(path, "for_each");
		aiq_parse_for_each(ctx, step, member, fe_path);
	}
	if (aiq_get_uint(ctx, obj, "concurrency", path, 1, 1000, &step->concurrency) &&
	    step->for_each == NULL) {
		g_autofree gchar *c_path = aiq_path_member(path, "concurrency");
		aiq_problems_add(ctx->problems,
				 c_path,
				 _("concurrency limits for_each items; this step has no for_each"));
	}
	member = json_object_get_member(obj, "retry");
	if (member != NULL) {
		g_autofree gchar *retry_path = aiq_path_member(path, "retry");
		aiq_parse_retry(ctx, step, member, retry_path);
	}
	aiq_get_duration(ctx, obj, "timeout", path, &step->timeout_ms);
	if (aiq_get_bool(ctx, obj, "continue_on_error", path, &step->continue_on_error))
		step->continue_on_error_set = TRUE;
}

/* resolves needs into dependency indexes and reports missing ids and cycles */
static void
aiq_resolve_dependencies(AiqParseCtx *ctx, AiqDefinition *self)
{
	guint n = self->steps->len;
	g_autofree guint *n_dependents = g_new0(guint, n);
	g_autofree guint8 *color = NULL;
	g_autofree guint *stack = NULL;
	g_autofree guint *edge = NULL;
	g_autofree gint *parent = NULL;
	g_autofree const gchar **ids = g_new0(const gchar *, n + 1);

	for (guint i = 0; i < n; i++)
		ids[i] = ((AiqStep *)g_ptr_array_index(self->steps, i))->id;

	for (guint i = 0; i < n; i++) {
		AiqStep *step = g_ptr_array_index(self->steps, i);
		g_autoptr(GArray) deps = g_array_new(FALSE, FALSE, sizeof(guint));
		if (step->needs == NULL) {
			/* without needs, a step follows the one before it */
			if (i > 0) {
				guint prev = i - 1;
				g_array_append_val(deps, prev);
			}
		} else {
			for (guint j = 0; step->needs[j] != NULL; j++) {
				const gchar *need = step->needs[j];
				gpointer found = g_hash_table_lookup(self->step_index, need);
				g_autofree gchar *step_path = aiq_path_index("steps", i);
				g_autofree gchar *needs_path = aiq_path_member(step_path, "needs");
				guint dep;
				gboolean dup = FALSE;
				if (found == NULL) {
					const gchar *suggestion = aiq_suggest(need, ids);
					if (suggestion != NULL)
						aiq_problems_add(
							ctx->problems,
							needs_path,
							_("needs “%s”, which is not a step id; "
							  "did you mean “%s”?"),
							need,
							suggestion);
					else
						aiq_problems_add(
							ctx->problems,
							needs_path,
							_("needs “%s”, which is not a step id"),
							need);
					continue;
				}
				dep = GPOINTER_TO_UINT(found) - 1;
				if (dep == i) {
					aiq_problems_add(ctx->problems,
							 needs_path,
							 _("step “%s” needs itself"),
							 step->id);
					continue;
				}
				for (guint k = 0; k < deps->len; k++)
					dup |= g_array_index(deps, guint, k) == dep;
				if (!dup)
					g_array_append_val(deps, dep);
			}
		}
		step->n_deps = deps->len;
		step->deps = (guint *)g_array_free(g_steal_pointer(&deps), FALSE);
		for (guint j = 0; j < step->n_deps; j++)
			n_dependents[step->deps[j]]++;
	}
	for (guint i = 0; i < n; i++) {
		AiqStep *step = g_ptr_array_index(self->steps, i);
		step->dependents = g_new0(guint, MAX(n_dependents[i], 1));
	}
	for (guint i = 0; i < n; i++) {
		AiqStep *step = g_ptr_array_index(self->steps, i);
		for (guint j = 0; j < step->n_deps; j++) {
			AiqStep *dep = g_ptr_array_index(self->steps, step->deps[j]);
			dep->dependents[dep->n_dependents++] = i;
		}
	}

	/* cycles: iterative depth-first search over deps, naming each cycle once */
	color = g_new0(guint8, n); /* 0 white, 1 on stack, 2 done */
	stack = g_new0(guint, n);
	edge = g_new0(guint, n);
	parent = g_new0(gint, n);
	for (guint root = 0; root < n; root++) {
		guint sp = 0;
		if (color[root] != 0)
			continue;
		stack[sp++] = root;
		color[root] = 1;
		edge[root] = 0;
		while (sp > 0) {
			guint v = stack[sp - 1];
			AiqStep *step = g_ptr_array_index(self->steps, v);
			if (edge[v] < step->n_deps) {
				guint w = step->deps[edge[v]++];
				if (color[w] == 0) {
					color[w] = 1;
					edge[w] = 0;
					parent[w] = (gint)v;
					stack[sp++] = w;
				} else if (color[w] == 1) {
					/* the stack from w up to v is the cycle, in needs order */
					g_autoptr(GString) names = g_string_new(NULL);
					g_autofree gchar *step_path = aiq_path_index("steps", w);
					g_autofree gchar *needs_path =
						aiq_path_member(step_path, "needs");
					guint start = 0;
					while (stack[start] != w)
						start++;
					for (guint k = start; k < sp; k++) {
						AiqStep *s =
							g_ptr_array_index(self->steps, stack[k]);
						g_string_append_printf(names, "%s → ", s->id);
					}
					g_string_append(
						names,
						((AiqStep *)g_ptr_array_index(self->steps, w))->id);
					aiq_problems_add(ctx->problems,
							 needs_path,
							 _("steps form a cycle: %s"),
							 names->str);
				}
			} else {
				color[v] = 2;
				sp--;
			}
		}
	}
}

/**
 * aiq_definition_new_from_node:
 * @root: the parsed document
 * @config: (nullable): when given, step kinds it switches off are problems
 * @problems: receives every problem found
 *
 * Returns: (transfer full) (nullable): the definition, or %NULL when
 * @problems is not empty
 */
AiqDefinition *
aiq_definition_new_from_node(JsonNode *root, AiqConfig *config, AiqProblems *problems)
{
	g_autoptr(AiqDefinition) self = aiq_definition_new();
	AiqParseCtx ctx = { .problems = problems,
			    .sandbox = aiq_sandbox_get_default(),
			    .config = config };
	JsonObject *obj;
	JsonNode *member;
	const gchar *name;
	guint before;

	g_return_val_if_fail(root != NULL, NULL);
	g_return_val_if_fail(problems != NULL, NULL);
	before = aiq_problems_get_size(problems);

	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		aiq_problems_add(
			problems,
			"",
			_("a workflow definition is an object with name and steps, got %s"),
			aiq_json_type_name(root));
		return NULL;
	}
	obj = json_node_get_object(root);
	aiq_check_members(&ctx, obj, "", aiq_definition_members, _("the workflow"));

	name = aiq_get_string(&ctx, obj, "name", "", TRUE);
	if (name != NULL) {
		if (!aiq_name_is_valid(name))
			aiq_problems_add(problems,
					 "name",
					 _("workflow name “%s” must be 1 to 128 letters, digits, "
					   "“-”, “_” or “.”, starting with a letter or digit"),
					 name);
		self->name = g_strdup(name);
	}
	self->description = g_strdup(aiq_get_string(&ctx, obj, "description", "", FALSE));

	member = json_object_get_member(obj, "runs_on");
	if (member != NULL) {
		if (!JSON_NODE_HOLDS_OBJECT(member)) {
			aiq_problem_type(&ctx, "runs_on", _("an object with labels"), member);
		} else {
			aiq_check_members(&ctx,
					  json_node_get_object(member),
					  "runs_on",
					  aiq_runs_on_members,
					  "runs_on");
			self->labels = aiq_get_string_list(&ctx,
							   json_node_get_object(member),
							   "labels",
							   "runs_on");
		}
	}

	member = json_object_get_member(obj, "triggers");
	if (member != NULL) {
		if (!JSON_NODE_HOLDS_ARRAY(member)) {
			aiq_problem_type(&ctx, "triggers", _("a list"), member);
		} else {
			JsonArray *array = json_node_get_array(member);
			for (guint i = 0; i < json_array_get_length(array); i++) {
				g_autofree gchar *path = aiq_path_index("triggers", i);
				aiq_parse_trigger(&ctx,
						  self,
						  json_array_get_element(array, i),
						  path);
			}
		}
	}

	member = json_object_get_member(obj, "inputs");
	if (member != NULL && !JSON_NODE_HOLDS_NULL(member)) {
		if (!JSON_NODE_HOLDS_OBJECT(member)) {
			aiq_problem_type(&ctx, "inputs", _("an object of inputs by name"), member);
		} else {
			JsonObjectIter iter;
			const gchar *key;
			JsonNode *value;
			json_object_iter_init_ordered(&iter, json_node_get_object(member));
			while (json_object_iter_next_ordered(&iter, &key, &value)) {
				g_autofree gchar *path = aiq_path_member("inputs", key);
				aiq_parse_input(&ctx, self, key, value, path);
			}
		}
	}

	member = json_object_get_member(obj, "steps");
	if (member == NULL) {
		aiq_problems_add(problems, "steps", _("missing required member “steps”"));
	} else if (!JSON_NODE_HOLDS_ARRAY(member)) {
		aiq_problem_type(&ctx, "steps", _("a list of steps"), member);
	} else {
		JsonArray *array = json_node_get_array(member);
		guint n = json_array_get_length(array);
		if (n == 0) {
			aiq_problems_add(problems,
					 "steps",
					 _("a workflow needs at least one step"));
		} else if (n > AIQ_DEFINITION_MAX_STEPS) {
			aiq_problems_add(problems,
					 "steps",
					 _("%u steps is over the limit of %u"),
					 n,
					 (guint)AIQ_DEFINITION_MAX_STEPS);
		} else {
			for (guint i = 0; i < n; i++) {
				g_autofree gchar *path = aiq_path_index("steps", i);
				aiq_parse_step(&ctx,
					       self,
					       json_array_get_element(array, i),
					       i,
					       path);
			}
			aiq_resolve_dependencies(&ctx, self);
		}
	}

	member = json_object_get_member(obj, "outputs");
	if (member != NULL && !JSON_NODE_HOLDS_NULL(member)) {
		if (!JSON_NODE_HOLDS_OBJECT(member)) {
			aiq_problem_type(&ctx, "outputs", _("an object of named values"), member);
		} else {
			aiq_template_check(ctx.sandbox, member, "outputs", problems);
			self->outputs = json_node_copy(member);
		}
	}
	aiq_get_duration(&ctx, obj, "timeout", "", &self->timeout_ms);
	aiq_get_uint(&ctx, obj, "concurrency", "", 1, 100000, &self->concurrency);
	member = json_object_get_member(obj, "ui");
	if (member != NULL)
		self->ui = json_node_copy(member);

	if (aiq_problems_get_size(problems) > before)
		return NULL;
	return g_steal_pointer(&self);
}

/**
 * aiq_definition_new_from_data:
 * @error: set only when the document itself cannot be read (malformed,
 *   too large); definition problems go to @problems
 *
 * Returns: (transfer full) (nullable): the definition, or %NULL
 */
AiqDefinition *
aiq_definition_new_from_data(const gchar *data,
			     gsize len,
			     AiqConfig *config,
			     AiqProblems *problems,
			     GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	AiqDefinition *self;
	root = aiq_document_parse(data, len, AIQ_DOCUMENT_FORMAT_AUTO, NULL, error);
	if (root == NULL)
		return NULL;
	self = aiq_definition_new_from_node(root, config, problems);
	if (self == NULL)
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DEFINITION,
				    _("the workflow definition is not valid"));
	return self;
}

AiqDefinition *
aiq_definition_new_from_file(const gchar *filename,
			     AiqConfig *config,
			     AiqProblems *problems,
			     GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	AiqDefinition *self;
	root = aiq_document_load_file(filename,
				      aiq_document_format_from_filename(filename),
				      NULL,
				      error);
	if (root == NULL)
		return NULL;
	self = aiq_definition_new_from_node(root, config, problems);
	if (self == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_DEFINITION,
			    _("%s: the workflow definition is not valid"),
			    filename);
		return NULL;
	}
	aiq_definition_set_filename(self, filename);
	return self;
}

const gchar *
aiq_definition_get_name(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->name;
}

const gchar *
aiq_definition_get_description(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->description;
}

const gchar *const *
aiq_definition_get_labels(AiqDefinition *self)
{
	static const gchar *const none[] = { NULL };
	g_return_val_if_fail(self != NULL, NULL);
	return self->labels != NULL ? (const gchar *const *)self->labels : none;
}

guint
aiq_definition_get_n_triggers(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->triggers->len;
}

const AiqTrigger *
aiq_definition_get_trigger(AiqDefinition *self, guint idx)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(idx < self->triggers->len, NULL);
	return g_ptr_array_index(self->triggers, idx);
}

guint
aiq_definition_get_n_inputs(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->inputs->len;
}

const AiqInput *
aiq_definition_get_input(AiqDefinition *self, guint idx)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(idx < self->inputs->len, NULL);
	return g_ptr_array_index(self->inputs, idx);
}

const AiqInput *
aiq_definition_find_input(AiqDefinition *self, const gchar *name)
{
	g_return_val_if_fail(self != NULL, NULL);
	for (guint i = 0; i < self->inputs->len; i++) {
		AiqInput *input = g_ptr_array_index(self->inputs, i);
		if (g_strcmp0(input->name, name) == 0)
			return input;
	}
	return NULL;
}

guint
aiq_definition_get_n_steps(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->steps->len;
}

const AiqStep *
aiq_definition_get_step(AiqDefinition *self, guint idx)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(idx < self->steps->len, NULL);
	return g_ptr_array_index(self->steps, idx);
}

/**
 * aiq_definition_find_step:
 *
 * Returns: the index of the step with @id, or -1
 */
gint
aiq_definition_find_step(AiqDefinition *self, const gchar *id)
{
	gpointer found;
	g_return_val_if_fail(self != NULL, -1);
	found = id != NULL ? g_hash_table_lookup(self->step_index, id) : NULL;
	return found != NULL ? (gint)GPOINTER_TO_UINT(found) - 1 : -1;
}

JsonNode *
aiq_definition_get_outputs(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->outputs;
}

gint64
aiq_definition_get_timeout(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->timeout_ms;
}

guint
aiq_definition_get_concurrency(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->concurrency;
}

JsonNode *
aiq_definition_get_ui(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->ui;
}

const gchar *
aiq_definition_get_filename(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->filename;
}

void
aiq_definition_set_filename(AiqDefinition *self, const gchar *filename)
{
	g_return_if_fail(self != NULL);
	g_free(self->filename);
	self->filename = g_strdup(filename);
}

const gchar *
aiq_input_type_to_string(AiqInputType type)
{
	return (guint)type < G_N_ELEMENTS(aiq_input_types) - 1 ? aiq_input_types[type] : "any";
}

const gchar *
aiq_trigger_kind_to_string(AiqTriggerKind kind)
{
	return (guint)kind < G_N_ELEMENTS(aiq_trigger_kinds) - 1 ? aiq_trigger_kinds[kind]
								 : "manual";
}

const gchar *
aiq_catch_up_to_string(AiqCatchUp catch_up)
{
	return (guint)catch_up < G_N_ELEMENTS(aiq_catch_up_names) - 1 ? aiq_catch_up_names[catch_up]
								      : "none";
}

static void
aiq_builder_add_duration(JsonBuilder *builder, const gchar *member, gint64 ms)
{
	g_autofree gchar *str = aiq_duration_to_string(ms);
	json_builder_set_member_name(builder, member);
	json_builder_add_string_value(builder, str);
}

static void
aiq_builder_add_strv(JsonBuilder *builder, const gchar *member, gchar **strv)
{
	json_builder_set_member_name(builder, member);
	json_builder_begin_array(builder);
	for (guint i = 0; strv[i] != NULL; i++)
		json_builder_add_string_value(builder, strv[i]);
	json_builder_end_array(builder);
}

static void
aiq_builder_add_node(JsonBuilder *builder, const gchar *member, JsonNode *node)
{
	json_builder_set_member_name(builder, member);
	json_builder_add_value(builder, json_node_copy(node));
}

/**
 * aiq_definition_to_json:
 *
 * Returns: (transfer full): the canonical tree: members in a fixed order,
 * durations in canonical form, what was not written left out
 */
JsonNode *
aiq_definition_to_json(AiqDefinition *self)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	g_return_val_if_fail(self != NULL, NULL);

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "name");
	json_builder_add_string_value(b, self->name);
	if (self->description != NULL) {
		json_builder_set_member_name(b, "description");
		json_builder_add_string_value(b, self->description);
	}
	if (self->labels != NULL) {
		json_builder_set_member_name(b, "runs_on");
		json_builder_begin_object(b);
		aiq_builder_add_strv(b, "labels", self->labels);
		json_builder_end_object(b);
	}
	if (self->triggers->len > 0) {
		json_builder_set_member_name(b, "triggers");
		json_builder_begin_array(b);
		for (guint i = 0; i < self->triggers->len; i++) {
			AiqTrigger *t = g_ptr_array_index(self->triggers, i);
			json_builder_begin_object(b);
			json_builder_set_member_name(b, aiq_trigger_kind_to_string(t->kind));
			json_builder_begin_object(b);
			if (t->kind == AIQ_TRIGGER_KIND_SCHEDULE) {
				json_builder_set_member_name(b, "cron");
				json_builder_add_string_value(b, t->cron);
				if (t->timezone != NULL) {
					json_builder_set_member_name(b, "timezone");
					json_builder_add_string_value(b, t->timezone);
				}
				if (t->catch_up_set) {
					json_builder_set_member_name(b, "catch_up");
					json_builder_add_string_value(
						b,
						aiq_catch_up_to_string(t->catch_up));
				}
			} else if (t->kind == AIQ_TRIGGER_KIND_WEBHOOK) {
				if (t->respond_set) {
					json_builder_set_member_name(b, "respond");
					json_builder_add_string_value(
						b,
						aiq_respond_names[t->respond]);
				}
				if (t->respond_timeout_ms != 30 * 1000)
					aiq_builder_add_duration(b,
								 "timeout",
								 t->respond_timeout_ms);
				if (t->headers != NULL)
					aiq_builder_add_strv(b, "headers", t->headers);
				if (t->signature_header != NULL) {
					json_builder_set_member_name(b, "signature_header");
					json_builder_add_string_value(b, t->signature_header);
				}
			}
			json_builder_end_object(b);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
	}
	if (self->inputs->len > 0) {
		json_builder_set_member_name(b, "inputs");
		json_builder_begin_object(b);
		for (guint i = 0; i < self->inputs->len; i++) {
			AiqInput *input = g_ptr_array_index(self->inputs, i);
			json_builder_set_member_name(b, input->name);
			json_builder_begin_object(b);
			json_builder_set_member_name(b, "type");
			json_builder_add_string_value(b, aiq_input_type_to_string(input->type));
			if (input->default_value != NULL)
				aiq_builder_add_node(b, "default", input->default_value);
			if (input->required_set) {
				json_builder_set_member_name(b, "required");
				json_builder_add_boolean_value(b, input->required);
			}
			if (input->choices != NULL)
				aiq_builder_add_strv(b, "choices", input->choices);
			if (input->description != NULL) {
				json_builder_set_member_name(b, "description");
				json_builder_add_string_value(b, input->description);
			}
			json_builder_end_object(b);
		}
		json_builder_end_object(b);
	}
	json_builder_set_member_name(b, "steps");
	json_builder_begin_array(b);
	for (guint i = 0; i < self->steps->len; i++) {
		AiqStep *step = g_ptr_array_index(self->steps, i);
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "id");
		json_builder_add_string_value(b, step->id);
		if (step->name != NULL) {
			json_builder_set_member_name(b, "name");
			json_builder_add_string_value(b, step->name);
		}
		if (step->description != NULL) {
			json_builder_set_member_name(b, "description");
			json_builder_add_string_value(b, step->description);
		}
		json_builder_set_member_name(b, "uses");
		json_builder_add_string_value(b, step->uses);
		if (step->needs != NULL)
			aiq_builder_add_strv(b, "needs", step->needs);
		if (step->if_node != NULL)
			aiq_builder_add_node(b, "if", step->if_node);
		if (step->for_each != NULL)
			aiq_builder_add_node(b, "for_each", step->for_each);
		if (step->concurrency > 0) {
			json_builder_set_member_name(b, "concurrency");
			json_builder_add_int_value(b, step->concurrency);
		}
		if (json_object_get_size(json_node_get_object(step->with)) > 0)
			aiq_builder_add_node(b, "with", step->with);
		if (step->retry_set) {
			json_builder_set_member_name(b, "retry");
			json_builder_begin_object(b);
			json_builder_set_member_name(b, "max_attempts");
			json_builder_add_int_value(b, step->retry.max_attempts);
			if (step->retry.set & AIQ_RETRY_SET_BACKOFF) {
				json_builder_set_member_name(b, "backoff");
				json_builder_add_string_value(
					b,
					aiq_backoff_names[step->retry.backoff]);
			}
			if (step->retry.set & AIQ_RETRY_SET_INITIAL)
				aiq_builder_add_duration(b, "initial", step->retry.initial_ms);
			if (step->retry.set & AIQ_RETRY_SET_MAX)
				aiq_builder_add_duration(b, "max", step->retry.max_ms);
			if (step->retry.set & AIQ_RETRY_SET_JITTER) {
				json_builder_set_member_name(b, "jitter");
				json_builder_add_double_value(b, step->retry.jitter);
			}
			json_builder_end_object(b);
		}
		if (step->timeout_ms > 0)
			aiq_builder_add_duration(b, "timeout", step->timeout_ms);
		if (step->continue_on_error_set) {
			json_builder_set_member_name(b, "continue_on_error");
			json_builder_add_boolean_value(b, step->continue_on_error);
		}
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	if (self->outputs != NULL)
		aiq_builder_add_node(b, "outputs", self->outputs);
	if (self->timeout_ms > 0)
		aiq_builder_add_duration(b, "timeout", self->timeout_ms);
	if (self->concurrency > 0) {
		json_builder_set_member_name(b, "concurrency");
		json_builder_add_int_value(b, self->concurrency);
	}
	if (self->ui != NULL)
		aiq_builder_add_node(b, "ui", self->ui);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

static void
aiq_definition_ensure_canonical(AiqDefinition *self)
{
	g_mutex_lock(&self->mutex);
	if (self->canonical_json == NULL) {
		g_autoptr(JsonNode) root = aiq_definition_to_json(self);
		self->canonical_json = aiq_json_to_string(root, FALSE);
		self->digest =
			g_compute_checksum_for_string(G_CHECKSUM_SHA256, self->canonical_json, -1);
	}
	g_mutex_unlock(&self->mutex);
}

/**
 * aiq_definition_get_canonical_json:
 *
 * Returns: the canonical tree as compact JSON text, computed once
 */
const gchar *
aiq_definition_get_canonical_json(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	aiq_definition_ensure_canonical(self);
	return self->canonical_json;
}

/**
 * aiq_definition_get_digest:
 *
 * Returns: the SHA-256 of the canonical JSON, in hex: equal definitions
 * have equal digests however they were written
 */
const gchar *
aiq_definition_get_digest(AiqDefinition *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	aiq_definition_ensure_canonical(self);
	return self->digest;
}

gchar *
aiq_definition_to_yaml(AiqDefinition *self, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	g_return_val_if_fail(self != NULL, NULL);
	root = aiq_definition_to_json(self);
	return aiq_yaml_emit(root, error);
}

/**
 * aiq_definition_check_kinds:
 *
 * Returns: %FALSE with %AIQ_ERROR_KIND_DISABLED when a step uses a kind that
 * @config switches off
 */
gboolean
aiq_definition_check_kinds(AiqDefinition *self, AiqConfig *config, GError **error)
{
	g_return_val_if_fail(self != NULL, FALSE);
	if (config == NULL)
		return TRUE;
	for (guint i = 0; i < self->steps->len; i++) {
		AiqStep *step = g_ptr_array_index(self->steps, i);
		if (!aiq_config_is_kind_enabled(config, step->uses)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_KIND_DISABLED,
				    _("steps[%u].uses: step kind “%s” is switched off on this "
				      "agent"),
				    i,
				    step->uses);
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * aiq_definition_resolve_inputs:
 * @given: (nullable): the inputs a caller passed
 *
 * Checks names, types, choices and required inputs, and applies defaults.
 *
 * Returns: (transfer full): the inputs the execution sees
 */
JsonObject *
aiq_definition_resolve_inputs(AiqDefinition *self, JsonObject *given, GError **error)
{
	g_autoptr(JsonObject) result = json_object_new();
	g_autoptr(AiqProblems) problems = aiq_problems_new();

	g_return_val_if_fail(self != NULL, NULL);

	if (given != NULL) {
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		json_object_iter_init_ordered(&iter, given);
		while (json_object_iter_next_ordered(&iter, &key, &value)) {
			const AiqInput *input = aiq_definition_find_input(self, key);
			g_autofree gchar *path = aiq_path_member("inputs", key);
			if (input == NULL) {
				g_autofree const gchar **names =
					g_new0(const gchar *, self->inputs->len + 1);
				const gchar *suggestion;
				for (guint i = 0; i < self->inputs->len; i++)
					names[i] = ((AiqInput *)g_ptr_array_index(self->inputs, i))
							   ->name;
				suggestion = aiq_suggest(key, names);
				if (suggestion != NULL)
					aiq_problems_add(
						problems,
						path,
						_("unknown input “%s”; did you mean “%s”?"),
						key,
						suggestion);
				else
					aiq_problems_add(problems,
							 path,
							 _("unknown input “%s”"),
							 key);
				continue;
			}
			if (!aiq_input_value_matches(input->type, value)) {
				aiq_problems_add(problems,
						 path,
						 _("expected %s, got %s"),
						 aiq_input_type_to_string(input->type),
						 aiq_json_type_name(value));
				continue;
			}
			if (input->choices != NULL &&
			    (!aiq_json_is_string(value) ||
			     !g_strv_contains((const gchar *const *)input->choices,
					      json_node_get_string(value)))) {
				g_autofree gchar *choices = g_strjoinv(", ", input->choices);
				aiq_problems_add(problems, path, _("must be one of %s"), choices);
				continue;
			}
			json_object_set_member(result, key, json_node_copy(value));
		}
	}
	for (guint i = 0; i < self->inputs->len; i++) {
		AiqInput *input = g_ptr_array_index(self->inputs, i);
		if (json_object_has_member(result, input->name))
			continue;
		if (given != NULL && json_object_has_member(given, input->name))
			continue; /* already a problem */
		if (input->default_value != NULL) {
			json_object_set_member(result,
					       input->name,
					       json_node_copy(input->default_value));
		} else if (input->required) {
			g_autofree gchar *path = aiq_path_member("inputs", input->name);
			aiq_problems_add(problems,
					 path,
					 _("missing required input “%s”"),
					 input->name);
		}
	}
	if (aiq_problems_get_size(problems) > 0) {
		g_autofree gchar *text = aiq_problems_to_string(problems, NULL);
		g_strchomp(text);
		g_set_error_literal(error, AIQ_ERROR, AIQ_ERROR_INVALID_INPUT, text);
		return NULL;
	}
	return g_steal_pointer(&result);
}

/**
 * aiq_definition_parse_input_value:
 * @text: a value from a command line, e.g. `--input count=5`
 *
 * Returns: (transfer full): @text read as the type the input declares
 */
JsonNode *
aiq_definition_parse_input_value(AiqDefinition *self,
				 const gchar *name,
				 const gchar *text,
				 GError **error)
{
	const AiqInput *input;
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(text != NULL, NULL);

	input = aiq_definition_find_input(self, name);
	if (input == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("the workflow has no input named “%s”"),
			    name);
		return NULL;
	}
	switch (input->type) {
	case AIQ_INPUT_TYPE_STRING:
		return aiq_json_new_string(text);
	case AIQ_INPUT_TYPE_INTEGER: {
		gint64 value = 0;
		if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &value, NULL)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("inputs.%s: “%s” is not a whole number"),
				    name,
				    text);
			return NULL;
		}
		return aiq_json_new_int(value);
	}
	case AIQ_INPUT_TYPE_NUMBER: {
		gchar *end = NULL;
		gdouble value = g_ascii_strtod(text, &end);
		JsonNode *node;
		if (text[0] == '\0' || end == NULL || *end != '\0' || !isfinite(value)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("inputs.%s: “%s” is not a number"),
				    name,
				    text);
			return NULL;
		}
		node = json_node_new(JSON_NODE_VALUE);
		json_node_set_double(node, value);
		return node;
	}
	case AIQ_INPUT_TYPE_BOOLEAN:
		if (g_strcmp0(text, "true") == 0 || g_strcmp0(text, "yes") == 0 ||
		    g_strcmp0(text, "1") == 0)
			return aiq_json_new_bool(TRUE);
		if (g_strcmp0(text, "false") == 0 || g_strcmp0(text, "no") == 0 ||
		    g_strcmp0(text, "0") == 0)
			return aiq_json_new_bool(FALSE);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("inputs.%s: “%s” is not true or false"),
			    name,
			    text);
		return NULL;
	case AIQ_INPUT_TYPE_OBJECT:
	case AIQ_INPUT_TYPE_ARRAY:
	case AIQ_INPUT_TYPE_ANY:
	default: {
		g_autoptr(GError) error_local = NULL;
		JsonNode *node =
			aiq_json_parse(text, strlen(text), AIQ_JSON_MAX_DEPTH, &error_local);
		if (node == NULL && input->type == AIQ_INPUT_TYPE_ANY)
			return aiq_json_new_string(text);
		if (node == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("inputs.%s: %s"),
				    name,
				    error_local->message);
			return NULL;
		}
		return node;
	}
	}
}
