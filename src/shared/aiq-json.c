/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-json.h"

/**
 * aiq_json_check_depth:
 *
 * Scans JSON text for its nesting depth without building anything, so that
 * json-glib's recursive parser never sees a document nested deeper than
 * @max_depth. Strings are skipped with their escapes.
 */
gboolean
aiq_json_check_depth(const gchar *data, gsize len, guint max_depth, GError **error)
{
	guint depth = 0;
	guint line = 1;
	gboolean in_string = FALSE;

	for (gsize i = 0; i < len; i++) {
		gchar c = data[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = FALSE;
			continue;
		}
		if (c == '"') {
			in_string = TRUE;
		} else if (c == '\n') {
			line++;
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_TOO_LARGE,
					    _("line %u: nested deeper than %u levels"),
					    line,
					    max_depth);
				return FALSE;
			}
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return TRUE;
}

/**
 * aiq_json_parse:
 * @data: JSON text, not necessarily nul-terminated
 * @max_depth: the deepest nesting allowed
 *
 * Returns: (transfer full): the root node
 */
JsonNode *
aiq_json_parse(const gchar *data, gsize len, guint max_depth, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) error_local = NULL;
	JsonNode *root;

	g_return_val_if_fail(data != NULL || len == 0, NULL);

	if (!aiq_json_check_depth(data, len, max_depth, error))
		return NULL;
	if (len > G_MAXSSIZE) {
		g_set_error_literal(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE, _("document too large"));
		return NULL;
	}
	if (!json_parser_load_from_data(parser, data, (gssize)len, &error_local)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    _("invalid JSON: %s"),
			    error_local->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DOCUMENT,
				    _("invalid JSON: the document is empty"));
		return NULL;
	}
	return json_node_ref(root);
}

gchar *
aiq_json_to_string(JsonNode *node, gboolean pretty)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_return_val_if_fail(node != NULL, NULL);
	json_generator_set_pretty(gen, pretty);
	if (pretty)
		json_generator_set_indent(gen, 2);
	json_generator_set_root(gen, node);
	return json_generator_to_data(gen, NULL);
}

gsize
aiq_json_get_serialized_size(JsonNode *node)
{
	g_autofree gchar *text = NULL;
	if (node == NULL)
		return 0;
	text = aiq_json_to_string(node, FALSE);
	return strlen(text);
}

/**
 * aiq_json_type_name:
 *
 * Returns: the type of @node as a user would name it: `string`, `integer`,
 * `number`, `boolean`, `null`, `object` or `array`
 */
const gchar *
aiq_json_type_name(JsonNode *node)
{
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return "null";
	if (JSON_NODE_HOLDS_OBJECT(node))
		return "object";
	if (JSON_NODE_HOLDS_ARRAY(node))
		return "array";
	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING:
		return "string";
	case G_TYPE_INT64:
		return "integer";
	case G_TYPE_DOUBLE:
		return "number";
	case G_TYPE_BOOLEAN:
		return "boolean";
	default:
		return "value";
	}
}

JsonNode *
aiq_json_new_string(const gchar *value)
{
	JsonNode *node = json_node_new(JSON_NODE_VALUE);
	json_node_set_string(node, value);
	return node;
}

JsonNode *
aiq_json_new_int(gint64 value)
{
	JsonNode *node = json_node_new(JSON_NODE_VALUE);
	json_node_set_int(node, value);
	return node;
}

JsonNode *
aiq_json_new_bool(gboolean value)
{
	JsonNode *node = json_node_new(JSON_NODE_VALUE);
	json_node_set_boolean(node, value);
	return node;
}

/* takes ownership of @object */
JsonNode *
aiq_json_new_object(JsonObject *object)
{
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, object);
	return node;
}

/* takes ownership of @array */
JsonNode *
aiq_json_new_array(JsonArray *array)
{
	JsonNode *node = json_node_new(JSON_NODE_ARRAY);
	json_node_take_array(node, array);
	return node;
}

gboolean
aiq_json_is_string(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
	       json_node_get_value_type(node) == G_TYPE_STRING;
}

gboolean
aiq_json_is_integer(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
	       json_node_get_value_type(node) == G_TYPE_INT64;
}

gboolean
aiq_json_is_number(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
	       (json_node_get_value_type(node) == G_TYPE_INT64 ||
		json_node_get_value_type(node) == G_TYPE_DOUBLE);
}

gboolean
aiq_json_is_bool(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
	       json_node_get_value_type(node) == G_TYPE_BOOLEAN;
}

/* these getters never warn: a missing member or another type gives NULL */
const gchar *
aiq_json_object_get_string(JsonObject *object, const gchar *member)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, member) : NULL;
	return aiq_json_is_string(node) ? json_node_get_string(node) : NULL;
}

JsonObject *
aiq_json_object_get_object(JsonObject *object, const gchar *member)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, member) : NULL;
	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

JsonArray *
aiq_json_object_get_array(JsonObject *object, const gchar *member)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, member) : NULL;
	return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

gint64
aiq_json_object_get_int(JsonObject *object, const gchar *member, gint64 fallback)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, member) : NULL;
	return aiq_json_is_integer(node) ? json_node_get_int(node) : fallback;
}
