/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-step-kind.h"
#include "aiq-template.h"
#include "aiq-util.h"

static const AiqStepKind *const aiq_step_kinds[] = {
	&aiq_step_kind_http,     &aiq_step_kind_sql,
	&aiq_step_kind_shell,    &aiq_step_kind_file,
	&aiq_step_kind_email,    &aiq_step_kind_transform,
	&aiq_step_kind_delay,    &aiq_step_kind_script,
	&aiq_step_kind_workflow, NULL,
};

/**
 * aiq_step_kind_list:
 *
 * Returns: (transfer none): the built-in step kinds, %NULL-terminated
 */
const AiqStepKind *const *
aiq_step_kind_list(void)
{
	return aiq_step_kinds;
}

/**
 * aiq_step_kind_list_names:
 *
 * Returns: (transfer container): the kind names, %NULL-terminated; free with g_free()
 */
const gchar **
aiq_step_kind_list_names(void)
{
	const gchar **names = g_new0(const gchar *, G_N_ELEMENTS(aiq_step_kinds));
	for (guint i = 0; aiq_step_kinds[i] != NULL; i++)
		names[i] = aiq_step_kinds[i]->name;
	return names;
}

const AiqStepKind *
aiq_step_kind_lookup(const gchar *name)
{
	g_return_val_if_fail(name != NULL, NULL);
	for (guint i = 0; aiq_step_kinds[i] != NULL; i++) {
		if (g_strcmp0(aiq_step_kinds[i]->name, name) == 0)
			return aiq_step_kinds[i];
	}
	return NULL;
}

const AiqParam *
aiq_step_kind_find_param(const AiqStepKind *kind, const gchar *name)
{
	g_return_val_if_fail(kind != NULL, NULL);
	for (guint i = 0; kind->params[i].name != NULL; i++) {
		if (g_strcmp0(kind->params[i].name, name) == 0)
			return &kind->params[i];
	}
	return NULL;
}

gboolean
aiq_step_kind_is_pure(const AiqStepKind *kind)
{
	return kind != NULL && (kind->flags & AIQ_STEP_KIND_FLAG_PURE) != 0;
}

const gchar *
aiq_param_type_to_string(AiqParamType type)
{
	switch (type) {
	case AIQ_PARAM_STRING:
		return "string";
	case AIQ_PARAM_TEXT:
		return "text";
	case AIQ_PARAM_INTEGER:
		return "integer";
	case AIQ_PARAM_NUMBER:
		return "number";
	case AIQ_PARAM_BOOLEAN:
		return "boolean";
	case AIQ_PARAM_DURATION:
		return "duration";
	case AIQ_PARAM_ENUM:
		return "enum";
	case AIQ_PARAM_STRING_LIST:
		return "string-list";
	case AIQ_PARAM_STRING_MAP:
		return "string-map";
	case AIQ_PARAM_ARRAY:
		return "array";
	case AIQ_PARAM_OBJECT:
		return "object";
	case AIQ_PARAM_JSON:
		return "json";
	default:
		return "unknown";
	}
}

static gboolean
aiq_is_expression(JsonNode *node)
{
	return aiq_json_is_string(node) &&
	       aiq_template_string_has_expressions(json_node_get_string(node));
}

static gboolean
aiq_is_scalar(JsonNode *node)
{
	return aiq_json_is_string(node) || aiq_json_is_number(node) || aiq_json_is_bool(node);
}

/*
 * Checks one value against its parameter. With @allow_expressions (at
 * validation time), strings holding ${{ }} are accepted for any type and
 * checked once rendered.
 */
static gboolean
aiq_param_check_value(const AiqParam *param,
		      JsonNode *node,
		      gboolean allow_expressions,
		      GError **error)
{
	const gchar *type_name = aiq_json_type_name(node);

	if (allow_expressions && aiq_is_expression(node)) {
		if (param->flags & AIQ_PARAM_FLAG_LITERAL) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_DEFINITION,
					    _("must be a literal value, not an expression"));
			return FALSE;
		}
		return TRUE;
	}

	switch (param->type) {
	case AIQ_PARAM_STRING:
	case AIQ_PARAM_TEXT:
		if (aiq_json_is_string(node))
			return TRUE;
		/* a rendered expression may give a number where text is wanted */
		if (!allow_expressions && aiq_is_scalar(node))
			return TRUE;
		break;
	case AIQ_PARAM_INTEGER:
		if (aiq_json_is_integer(node))
			return TRUE;
		break;
	case AIQ_PARAM_NUMBER:
		if (aiq_json_is_number(node))
			return TRUE;
		break;
	case AIQ_PARAM_BOOLEAN:
		if (aiq_json_is_bool(node))
			return TRUE;
		break;
	case AIQ_PARAM_DURATION: {
		gint64 ms = 0;
		if (aiq_json_is_string(node))
			return aiq_duration_parse(json_node_get_string(node), &ms, error);
		break;
	}
	case AIQ_PARAM_ENUM: {
		const gchar *value;
		const gchar *suggestion;
		g_autofree gchar *choices = NULL;
		if (!aiq_json_is_string(node))
			break;
		value = json_node_get_string(node);
		if (g_strv_contains(param->choices, value))
			return TRUE;
		choices = g_strjoinv(", ", (gchar **)param->choices);
		suggestion = aiq_suggest(value, param->choices);
		if (suggestion != NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DEFINITION,
				    _("“%s” is not one of %s; did you mean “%s”?"),
				    value,
				    choices,
				    suggestion);
		} else {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DEFINITION,
				    _("“%s” is not one of %s"),
				    value,
				    choices);
		}
		return FALSE;
	}
	case AIQ_PARAM_STRING_LIST:
		if (aiq_json_is_string(node))
			return TRUE;
		if (JSON_NODE_HOLDS_ARRAY(node)) {
			JsonArray *array = json_node_get_array(node);
			for (guint i = 0; i < json_array_get_length(array); i++) {
				JsonNode *elem = json_array_get_element(array, i);
				if (!aiq_is_scalar(elem) ||
				    (allow_expressions && !aiq_json_is_string(elem))) {
					g_set_error(error,
						    AIQ_ERROR,
						    AIQ_ERROR_INVALID_DEFINITION,
						    _("item %u: expected a string, got %s"),
						    i,
						    aiq_json_type_name(elem));
					return FALSE;
				}
			}
			return TRUE;
		}
		type_name = aiq_json_type_name(node);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_DEFINITION,
			    _("expected a string or a list of strings, got %s"),
			    type_name);
		return FALSE;
	case AIQ_PARAM_STRING_MAP:
		if (JSON_NODE_HOLDS_OBJECT(node)) {
			JsonObject *obj = json_node_get_object(node);
			JsonObjectIter iter;
			const gchar *key;
			JsonNode *value;
			json_object_iter_init_ordered(&iter, obj);
			while (json_object_iter_next_ordered(&iter, &key, &value)) {
				if (!aiq_is_scalar(value)) {
					g_set_error(error,
						    AIQ_ERROR,
						    AIQ_ERROR_INVALID_DEFINITION,
						    _("“%s”: expected a string, got %s"),
						    key,
						    aiq_json_type_name(value));
					return FALSE;
				}
			}
			return TRUE;
		}
		break;
	case AIQ_PARAM_ARRAY:
		if (JSON_NODE_HOLDS_ARRAY(node))
			return TRUE;
		break;
	case AIQ_PARAM_OBJECT:
		if (JSON_NODE_HOLDS_OBJECT(node))
			return TRUE;
		break;
	case AIQ_PARAM_JSON:
		return TRUE;
	default:
		break;
	}
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_INVALID_DEFINITION,
		    /* TRANSLATORS: expected a TYPE, got TYPE */
		    _("expected %s, got %s"),
		    aiq_param_type_to_string(param->type),
		    type_name);
	return FALSE;
}

/**
 * aiq_step_kind_validate_with:
 * @with: (nullable): the step's `with` member as written
 * @path: the path of the `with` member, e.g. `steps[1].with`
 *
 * Adds a problem for each unknown parameter (with a suggestion), each missing
 * required one and each literal value of the wrong type.
 */
void
aiq_step_kind_validate_with(const AiqStepKind *kind,
			    JsonNode *with,
			    const gchar *path,
			    AiqProblems *problems)
{
	JsonObject *obj = NULL;

	g_return_if_fail(kind != NULL);
	g_return_if_fail(problems != NULL);

	if (with != NULL && !JSON_NODE_HOLDS_NULL(with)) {
		if (!JSON_NODE_HOLDS_OBJECT(with)) {
			aiq_problems_add(problems,
					 path,
					 _("expected an object of parameters, got %s"),
					 aiq_json_type_name(with));
			return;
		}
		obj = json_node_get_object(with);
	}

	/* unknown and mistyped members */
	if (obj != NULL) {
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		json_object_iter_init_ordered(&iter, obj);
		while (json_object_iter_next_ordered(&iter, &key, &value)) {
			const AiqParam *param = aiq_step_kind_find_param(kind, key);
			g_autofree gchar *member_path = aiq_path_member(path, key);
			g_autoptr(GError) error_local = NULL;
			if (param == NULL) {
				g_autofree const gchar **names = NULL;
				const gchar *suggestion;
				guint n = 0;
				while (kind->params[n].name != NULL)
					n++;
				names = g_new0(const gchar *, n + 1);
				for (guint i = 0; i < n; i++)
					names[i] = kind->params[i].name;
				suggestion = aiq_suggest(key, names);
				if (suggestion != NULL) {
					aiq_problems_add(
						problems,
						member_path,
						_("unknown parameter “%s” for step kind “%s”; did you mean “%s”?"),
						key,
						kind->name,
						suggestion);
				} else {
					aiq_problems_add(
						problems,
						member_path,
						_("unknown parameter “%s” for step kind “%s”"),
						key,
						kind->name);
				}
				continue;
			}
			if (!aiq_param_check_value(param, value, TRUE, &error_local))
				aiq_problems_add_error(problems, member_path, error_local);
		}
	}

	/* required members */
	for (guint i = 0; kind->params[i].name != NULL; i++) {
		const AiqParam *param = &kind->params[i];
		if (param->required && (obj == NULL || !json_object_has_member(obj, param->name))) {
			g_autofree gchar *member_path = aiq_path_member(path, param->name);
			aiq_problems_add(problems,
					 member_path,
					 _("missing required parameter “%s” for step kind “%s”"),
					 param->name,
					 kind->name);
		}
	}

	if (kind->validate != NULL && obj != NULL)
		kind->validate(obj, path, problems);
}

static JsonNode *
aiq_param_normalize(const AiqParam *param, JsonNode *node)
{
	if (param->type == AIQ_PARAM_STRING_LIST && aiq_json_is_string(node)) {
		JsonArray *array = json_array_new();
		json_array_add_element(array, json_node_copy(node));
		return aiq_json_new_array(array);
	}
	if (param->type == AIQ_PARAM_STRING_LIST && JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *src = json_node_get_array(node);
		JsonArray *array = json_array_new();
		for (guint i = 0; i < json_array_get_length(src); i++) {
			JsonNode *elem = json_array_get_element(src, i);
			if (aiq_json_is_string(elem)) {
				json_array_add_element(array, json_node_copy(elem));
			} else {
				g_autofree gchar *text = aiq_json_to_string(elem, FALSE);
				json_array_add_string_element(array, text);
			}
		}
		return aiq_json_new_array(array);
	}
	if (param->type == AIQ_PARAM_STRING_MAP && JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *obj = json_object_new();
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &key, &value)) {
			if (aiq_json_is_string(value)) {
				json_object_set_member(obj, key, json_node_copy(value));
			} else {
				g_autofree gchar *text = aiq_json_to_string(value, FALSE);
				json_object_set_string_member(obj, key, text);
			}
		}
		return aiq_json_new_object(obj);
	}
	if ((param->type == AIQ_PARAM_STRING || param->type == AIQ_PARAM_TEXT) &&
	    !aiq_json_is_string(node)) {
		g_autofree gchar *text = aiq_json_to_string(node, FALSE);
		return aiq_json_new_string(text);
	}
	return json_node_ref(node);
}

/**
 * aiq_step_kind_resolve_params:
 * @rendered: the `with` object after its expressions were rendered
 *
 * Checks the rendered values, applies defaults and normalizes lists and maps.
 *
 * Returns: (transfer full): the parameters a step kind reads
 */
JsonObject *
aiq_step_kind_resolve_params(const AiqStepKind *kind, JsonObject *rendered, GError **error)
{
	g_autoptr(JsonObject) result = json_object_new();

	g_return_val_if_fail(kind != NULL, NULL);

	if (rendered != NULL) {
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		json_object_iter_init_ordered(&iter, rendered);
		while (json_object_iter_next_ordered(&iter, &key, &value)) {
			const AiqParam *param = aiq_step_kind_find_param(kind, key);
			g_autoptr(GError) error_local = NULL;
			if (param == NULL) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("with.%s: unknown parameter for step kind “%s”"),
					    key,
					    kind->name);
				return NULL;
			}
			if (JSON_NODE_HOLDS_NULL(value) && !param->required)
				continue;
			if (!aiq_param_check_value(param, value, FALSE, &error_local)) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    "with.%s: %s",
					    key,
					    error_local->message);
				return NULL;
			}
			json_object_set_member(result, key, aiq_param_normalize(param, value));
		}
	}
	for (guint i = 0; kind->params[i].name != NULL; i++) {
		const AiqParam *param = &kind->params[i];
		if (json_object_has_member(result, param->name))
			continue;
		if (param->required) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with.%s: missing required parameter for step kind “%s”"),
				    param->name,
				    kind->name);
			return NULL;
		}
		if (param->default_json != NULL) {
			g_autoptr(JsonNode) def = aiq_json_parse(param->default_json,
								 strlen(param->default_json),
								 8,
								 NULL);
			g_assert(def != NULL);
			json_object_set_member(result,
					       param->name,
					       aiq_param_normalize(param, def));
		}
	}
	return g_steal_pointer(&result);
}

/**
 * aiq_step_kind_to_json:
 *
 * Returns: the kind's declaration: name, title, description, icon, flags and
 * its parameters with types, defaults and descriptions
 */
JsonNode *
aiq_step_kind_to_json(const AiqStepKind *kind)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "name");
	json_builder_add_string_value(builder, kind->name);
	json_builder_set_member_name(builder, "title");
	json_builder_add_string_value(builder, _(kind->title));
	json_builder_set_member_name(builder, "description");
	json_builder_add_string_value(builder, _(kind->description));
	json_builder_set_member_name(builder, "icon");
	json_builder_add_string_value(builder, kind->icon_name);
	json_builder_set_member_name(builder, "pure");
	json_builder_add_boolean_value(builder, (kind->flags & AIQ_STEP_KIND_FLAG_PURE) != 0);
	json_builder_set_member_name(builder, "host_access");
	json_builder_add_boolean_value(builder,
				       (kind->flags & AIQ_STEP_KIND_FLAG_HOST_ACCESS) != 0);
	json_builder_set_member_name(builder, "params");
	json_builder_begin_array(builder);
	for (guint i = 0; kind->params[i].name != NULL; i++) {
		const AiqParam *param = &kind->params[i];
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "name");
		json_builder_add_string_value(builder, param->name);
		json_builder_set_member_name(builder, "type");
		json_builder_add_string_value(builder, aiq_param_type_to_string(param->type));
		json_builder_set_member_name(builder, "required");
		json_builder_add_boolean_value(builder, param->required);
		if (param->default_json != NULL) {
			json_builder_set_member_name(builder, "default");
			json_builder_add_value(builder,
					       aiq_json_parse(param->default_json,
							      strlen(param->default_json),
							      8,
							      NULL));
		}
		if (param->choices != NULL) {
			json_builder_set_member_name(builder, "choices");
			json_builder_begin_array(builder);
			for (guint j = 0; param->choices[j] != NULL; j++)
				json_builder_add_string_value(builder, param->choices[j]);
			json_builder_end_array(builder);
		}
		json_builder_set_member_name(builder, "expressions");
		json_builder_add_boolean_value(
			builder,
			(param->flags & (AIQ_PARAM_FLAG_RAW | AIQ_PARAM_FLAG_LITERAL)) == 0);
		json_builder_set_member_name(builder, "description");
		json_builder_add_string_value(builder, _(param->description));
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/**
 * aiq_step_kind_list_to_markdown:
 *
 * Returns: the reference of every step kind, as committed in docs/step-kinds.md
 */
gchar *
aiq_step_kind_list_to_markdown(void)
{
	GString *str = g_string_new(NULL);
	g_string_append(
		str,
		"# Step kinds\n\n"
		"Generated by `aiqctl kinds --output markdown` from the declarations in\n"
		"`src/shared/aiq-connector-*.c`; a test keeps this file current.\n"
		"Every parameter not marked *literal* or *raw* may be a `${{ }}` expression.\n");
	for (guint i = 0; aiq_step_kinds[i] != NULL; i++) {
		const AiqStepKind *kind = aiq_step_kinds[i];
		g_string_append_printf(str,
				       "\n## `%s` — %s\n\n%s\n",
				       kind->name,
				       kind->title,
				       kind->description);
		if (kind->flags & AIQ_STEP_KIND_FLAG_HOST_ACCESS)
			g_string_append(
				str,
				"\nReaches the agent's host; switched off on cloud workers.\n");
		g_string_append(str,
				"\n| parameter | type | required | default | description |\n"
				"|---|---|---|---|---|\n");
		for (guint j = 0; kind->params[j].name != NULL; j++) {
			const AiqParam *param = &kind->params[j];
			g_autofree gchar *type = NULL;
			if (param->choices != NULL) {
				g_autofree gchar *choices =
					g_strjoinv(" \\| ", (gchar **)param->choices);
				type = g_strdup_printf("enum: %s", choices);
			} else {
				type = g_strdup(aiq_param_type_to_string(param->type));
			}
			if (param->flags & AIQ_PARAM_FLAG_LITERAL) {
				gchar *tmp = g_strdup_printf("%s, literal", type);
				g_free(type);
				type = tmp;
			}
			if (param->flags & AIQ_PARAM_FLAG_RAW) {
				gchar *tmp = g_strdup_printf("%s, raw", type);
				g_free(type);
				type = tmp;
			}
			g_string_append_printf(str,
					       "| `%s` | %s | %s | %s%s%s | %s |\n",
					       param->name,
					       type,
					       param->required ? "yes" : "no",
					       param->default_json != NULL ? "`" : "",
					       param->default_json != NULL ? param->default_json
									   : "",
					       param->default_json != NULL ? "`" : "",
					       param->description);
		}
	}
	return g_string_free(str, FALSE);
}
