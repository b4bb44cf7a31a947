/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
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

static void
aiq_json_write_string(GString *str, const gchar *value)
{
	static const gchar hex[] = "0123456789abcdef";
	const guchar *p = (const guchar *)value;
	const guchar *run = p;
	g_string_append_c(str, '"');
	for (; *p != '\0'; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		g_string_append_len(str, (const gchar *)run, p - run);
		run = p + 1;
		switch (*p) {
		case '"':
			g_string_append(str, "\\\"");
			break;
		case '\\':
			g_string_append(str, "\\\\");
			break;
		case '\n':
			g_string_append(str, "\\n");
			break;
		case '\r':
			g_string_append(str, "\\r");
			break;
		case '\t':
			g_string_append(str, "\\t");
			break;
		default:
			g_string_append(str, "\\u00");
			g_string_append_c(str, hex[*p >> 4]);
			g_string_append_c(str, hex[*p & 0xf]);
			break;
		}
	}
	g_string_append_len(str, (const gchar *)run, p - run);
	g_string_append_c(str, '"');
}

/* the shortest text that reads back as the same double: 19.99, not 19.989999999999998 */
static void
aiq_json_write_double(GString *str, gdouble value)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
	if (!isfinite(value)) {
		g_string_append(str, "null");
		return;
	}
	for (gint precision = 15; precision <= 17; precision++) {
		g_ascii_formatd(buf,
				sizeof(buf),
				precision == 15   ? "%.15g"
				: precision == 16 ? "%.16g"
						  : "%.17g",
				value);
		if (g_ascii_strtod(buf, NULL) == value)
			break;
	}
	g_string_append(str, buf);
	/* keep it a double when read back */
	if (strpbrk(buf, ".eEn") == NULL)
		g_string_append(str, ".0");
}

static void
aiq_json_newline(GString *str, gint indent, guint depth)
{
	if (indent <= 0)
		return;
	g_string_append_c(str, '\n');
	for (guint i = 0; i < depth * (guint)indent; i++)
		g_string_append_c(str, ' ');
}

/* @indent: spaces per level for pretty output, or 0 for compact */
static void
aiq_json_write(GString *str, JsonNode *node, gint indent, guint depth)
{
	if (node == NULL || JSON_NODE_HOLDS_NULL(node) || depth > 4 * AIQ_JSON_MAX_DEPTH) {
		g_string_append(str, "null");
		return;
	}
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT: {
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		gboolean first = TRUE;
		g_string_append_c(str, '{');
		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &key, &value)) {
			if (!first)
				g_string_append_c(str, ',');
			first = FALSE;
			aiq_json_newline(str, indent, depth + 1);
			aiq_json_write_string(str, key);
			g_string_append(str, indent > 0 ? ": " : ":");
			aiq_json_write(str, value, indent, depth + 1);
		}
		if (!first)
			aiq_json_newline(str, indent, depth);
		g_string_append_c(str, '}');
		return;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *array = json_node_get_array(node);
		guint n = json_array_get_length(array);
		g_string_append_c(str, '[');
		for (guint i = 0; i < n; i++) {
			if (i > 0)
				g_string_append_c(str, ',');
			aiq_json_newline(str, indent, depth + 1);
			aiq_json_write(str, json_array_get_element(array, i), indent, depth + 1);
		}
		if (n > 0)
			aiq_json_newline(str, indent, depth);
		g_string_append_c(str, ']');
		return;
	}
	case JSON_NODE_VALUE:
		switch (json_node_get_value_type(node)) {
		case G_TYPE_STRING:
			aiq_json_write_string(str, json_node_get_string(node));
			return;
		case G_TYPE_INT64:
			g_string_append_printf(str, "%" G_GINT64_FORMAT, json_node_get_int(node));
			return;
		case G_TYPE_DOUBLE:
			aiq_json_write_double(str, json_node_get_double(node));
			return;
		case G_TYPE_BOOLEAN:
			g_string_append(str, json_node_get_boolean(node) ? "true" : "false");
			return;
		default:
			g_string_append(str, "null");
			return;
		}
	case JSON_NODE_NULL:
	default:
		g_string_append(str, "null");
		return;
	}
}

/**
 * aiq_json_append:
 *
 * Appends the compact JSON text of @node. Events and outputs are written on
 * the engine's hot path: this walks the tree directly instead of through
 * json-glib's generator (GValues), and writes doubles in their shortest
 * exact form.
 */
void
aiq_json_append(GString *str, JsonNode *node)
{
	aiq_json_write(str, node, 0, 0);
}

/**
 * aiq_json_to_string:
 * @pretty: indented by two spaces, or compact
 *
 * Members keep their order; doubles are written in their shortest exact form.
 */
gchar *
aiq_json_to_string(JsonNode *node, gboolean pretty)
{
	GString *str;
	g_return_val_if_fail(node != NULL, NULL);
	str = g_string_sized_new(128);
	aiq_json_write(str, node, pretty ? 2 : 0, 0);
	return g_string_free(str, FALSE);
}

/**
 * aiq_json_get_serialized_size:
 *
 * Returns: the length of @node's compact JSON text
 */
gsize
aiq_json_get_serialized_size(JsonNode *node)
{
	g_autoptr(GString) str = NULL;
	if (node == NULL)
		return 0;
	str = g_string_sized_new(128);
	aiq_json_write(str, node, 0, 0);
	return str->len;
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

/**
 * aiq_json_deep_copy:
 *
 * json_node_copy() shares the objects and arrays of a tree; this copies
 * them too, so the copy can be changed without touching the original.
 *
 * Returns: (transfer full): a tree of its own
 */
JsonNode *
aiq_json_deep_copy(JsonNode *node)
{
	g_auto(GValue) value = G_VALUE_INIT;
	JsonNode *result;

	g_return_val_if_fail(node != NULL, NULL);
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *copy = json_object_new();
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *member;
		json_object_iter_init(&iter, json_node_get_object(node));
		while (json_object_iter_next(&iter, &name, &member))
			json_object_set_member(copy, name, aiq_json_deep_copy(member));
		result = json_node_init_object(json_node_alloc(), copy);
		json_object_unref(copy);
		return result;
	}
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *arr = json_node_get_array(node);
		guint n = json_array_get_length(arr);
		JsonArray *copy = json_array_sized_new(n);
		for (guint i = 0; i < n; i++)
			json_array_add_element(copy,
					       aiq_json_deep_copy(json_array_get_element(arr, i)));
		result = json_node_init_array(json_node_alloc(), copy);
		json_array_unref(copy);
		return result;
	}
	if (JSON_NODE_HOLDS_NULL(node))
		return json_node_init_null(json_node_alloc());
	/* a new node: a copy of an immutable one would be immutable too */
	json_node_get_value(node, &value);
	result = json_node_new(JSON_NODE_VALUE);
	json_node_set_value(result, &value);
	return result;
}
