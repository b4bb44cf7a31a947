/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>

#include "aiq-api.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-util.h"

/**
 * aiq_api_page:
 * @items: (transfer full): one page of a list
 * @next_cursor: (nullable): where the next page starts; none at the end
 *
 * Returns: `{ "items": […], "next_cursor": "…" | null }`
 */
JsonNode *
aiq_api_page(JsonArray *items, const gchar *next_cursor)
{
	JsonObject *obj = json_object_new();
	json_object_set_array_member(obj, "items", items);
	if (next_cursor != NULL)
		json_object_set_string_member(obj, "next_cursor", next_cursor);
	else
		json_object_set_null_member(obj, "next_cursor");
	return aiq_json_new_object(obj);
}

JsonNode *
aiq_api_time(gint64 us)
{
	g_autofree gchar *text = NULL;
	if (us <= 0)
		return json_node_new(JSON_NODE_NULL);
	text = aiq_time_to_iso8601(us);
	return aiq_json_new_string(text);
}

void
aiq_api_set_time(JsonObject *obj, const gchar *member, gint64 us)
{
	json_object_set_member(obj, member, aiq_api_time(us));
}

JsonObject *
aiq_api_body_object(JsonNode *body, GError **error)
{
	if (body == NULL || !JSON_NODE_HOLDS_OBJECT(body)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("the body must be a JSON object, not %s"),
			    aiq_json_type_name(body));
		return NULL;
	}
	return json_node_get_object(body);
}

gboolean
aiq_api_check_members(JsonObject *obj, const gchar *const *known, GError **error)
{
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *value;
	json_object_iter_init_ordered(&iter, obj);
	while (json_object_iter_next_ordered(&iter, &key, &value)) {
		const gchar *suggestion;
		if (g_strv_contains(known, key))
			continue;
		suggestion = aiq_suggest(key, known);
		if (suggestion != NULL)
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("%s: unknown member; did you mean “%s”?"),
				    key,
				    suggestion);
		else
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("%s: unknown member"),
				    key);
		return FALSE;
	}
	return TRUE;
}

/**
 * aiq_api_read_body:
 * @known: the members the body may have
 * @body: (out) (transfer full): the parsed body, which owns the object
 *
 * Returns: (transfer none) (nullable): the body as a JSON object with only
 * @known members, or %NULL with an error: 415, 400 or 422
 */
JsonObject *
aiq_api_read_body(AiqRequest *req, const gchar *const *known, JsonNode **body, GError **error)
{
	JsonObject *obj;
	*body = aiq_request_parse_json(req, error);
	if (*body == NULL)
		return NULL;
	obj = aiq_api_body_object(*body, error);
	if (obj == NULL || !aiq_api_check_members(obj, known, error))
		return NULL;
	return obj;
}

/**
 * aiq_api_get_string:
 *
 * Returns: (nullable): the member, or %NULL when absent (an error when
 * @required) or not a string (an error)
 */
const gchar *
aiq_api_get_string(JsonObject *obj, const gchar *member, gboolean required, GError **error)
{
	JsonNode *node = json_object_get_member(obj, member);
	if (node == NULL || JSON_NODE_HOLDS_NULL(node)) {
		if (required)
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("%s: required"),
				    member);
		return NULL;
	}
	if (!aiq_json_is_string(node)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("%s: expected a string, got %s"),
			    member,
			    aiq_json_type_name(node));
		return NULL;
	}
	return json_node_get_string(node);
}

/**
 * aiq_api_lookup_string:
 * @value: (out) (nullable): the member; %NULL when absent
 *
 * aiq_api_get_string() for checks that go on with the value.
 *
 * Returns: %FALSE with an error when the member is not a string, or is
 * absent and @required
 */
gboolean
aiq_api_lookup_string(JsonObject *obj,
		      const gchar *member,
		      gboolean required,
		      const gchar **value,
		      GError **error)
{
	g_autoptr(GError) error_local = NULL;
	*value = aiq_api_get_string(obj, member, required, &error_local);
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	return TRUE;
}

/**
 * aiq_api_get_int:
 *
 * Returns: %FALSE with an error when the member is there but not a whole
 * number in range; @value is untouched when it is absent
 */
gboolean
aiq_api_get_int(JsonObject *obj,
		const gchar *member,
		gint64 min,
		gint64 max,
		gint64 *value,
		GError **error)
{
	JsonNode *node = json_object_get_member(obj, member);
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!aiq_json_is_integer(node) || json_node_get_int(node) < min ||
	    json_node_get_int(node) > max) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("%s: expected a whole number from %" PRId64 " to %" PRId64),
			    member,
			    min,
			    max);
		return FALSE;
	}
	*value = json_node_get_int(node);
	return TRUE;
}

gboolean
aiq_api_get_bool(JsonObject *obj, const gchar *member, gboolean *value, GError **error)
{
	JsonNode *node = json_object_get_member(obj, member);
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!aiq_json_is_bool(node)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("%s: expected true or false, got %s"),
			    member,
			    aiq_json_type_name(node));
		return FALSE;
	}
	*value = json_node_get_boolean(node);
	return TRUE;
}

/**
 * aiq_api_get_object:
 *
 * Returns: (nullable): the member when it is an object; %NULL when absent,
 * or with an error when it is something else
 */
JsonObject *
aiq_api_get_object(JsonObject *obj, const gchar *member, GError **error)
{
	JsonNode *node = json_object_get_member(obj, member);
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("%s: expected an object, got %s"),
			    member,
			    aiq_json_type_name(node));
		return NULL;
	}
	return json_node_get_object(node);
}

/**
 * aiq_api_get_strv:
 *
 * Returns: (transfer full) (nullable): a list of strings; %NULL when absent,
 * or with an error
 */
gchar **
aiq_api_get_strv(JsonObject *obj, const gchar *member, GError **error)
{
	JsonNode *node = json_object_get_member(obj, member);
	g_autoptr(GStrvBuilder) builder = NULL;
	JsonArray *array;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	if (!JSON_NODE_HOLDS_ARRAY(node)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("%s: expected a list of strings, got %s"),
			    member,
			    aiq_json_type_name(node));
		return NULL;
	}
	array = json_node_get_array(node);
	builder = g_strv_builder_new();
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *elem = json_array_get_element(array, i);
		if (!aiq_json_is_string(elem)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("%s[%u]: expected a string, got %s"),
				    member,
				    i,
				    aiq_json_type_name(elem));
			return NULL;
		}
		g_strv_builder_add(builder, json_node_get_string(elem));
	}
	return g_strv_builder_end(builder);
}

JsonNode *
aiq_api_strv_node(gchar **strv)
{
	JsonArray *array = json_array_new();
	for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
		json_array_add_string_element(array, strv[i]);
	return aiq_json_new_array(array);
}

/**
 * aiq_api_query_choice:
 * @value: (out): the parameter, or %NULL when absent
 *
 * Returns: %FALSE with an error naming the parameter when it is not one of
 * @choices
 */
gboolean
aiq_api_query_choice(AiqRequest *req,
		     const gchar *name,
		     const gchar *const *choices,
		     const gchar **value,
		     GError **error)
{
	const gchar *str = aiq_request_get_query(req, name);
	*value = NULL;
	if (str == NULL)
		return TRUE;
	if (!g_strv_contains(choices, str)) {
		g_autofree gchar *list = g_strjoinv(", ", (gchar **)choices);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("%s: one of %s"),
			    name,
			    list);
		return FALSE;
	}
	*value = str;
	return TRUE;
}

/**
 * aiq_api_query_time:
 * @value: (out): the time in microseconds, or 0 when absent
 *
 * Returns: %FALSE with an error naming the parameter when it is not an
 * RFC 3339 time
 */
gboolean
aiq_api_query_time(AiqRequest *req, const gchar *name, gint64 *value, GError **error)
{
	const gchar *str = aiq_request_get_query(req, name);
	*value = 0;
	if (str == NULL)
		return TRUE;
	if (!aiq_time_from_iso8601(str, value, NULL) || *value <= 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("%s: a time like 2026-01-31T12:00:00Z"),
			    name);
		return FALSE;
	}
	return TRUE;
}
