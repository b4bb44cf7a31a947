/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AIQ_JSON_MAX_DEPTH 64

gboolean
aiq_json_check_depth(const gchar *data, gsize len, guint max_depth, GError **error);
JsonNode *
aiq_json_parse(const gchar *data, gsize len, guint max_depth, GError **error);
JsonNode *
aiq_json_deep_copy(JsonNode *node);
gchar *
aiq_json_to_string(JsonNode *node, gboolean pretty);
void
aiq_json_append(GString *str, JsonNode *node);
gsize
aiq_json_get_serialized_size(JsonNode *node);
const gchar *
aiq_json_type_name(JsonNode *node);
JsonNode *
aiq_json_new_string(const gchar *value);
JsonNode *
aiq_json_new_int(gint64 value);
JsonNode *
aiq_json_new_bool(gboolean value);
JsonNode *
aiq_json_new_object(JsonObject *object);
JsonNode *
aiq_json_new_array(JsonArray *array);
gboolean
aiq_json_is_string(JsonNode *node);
gboolean
aiq_json_is_integer(JsonNode *node);
gboolean
aiq_json_is_number(JsonNode *node);
gboolean
aiq_json_is_bool(JsonNode *node);
const gchar *
aiq_json_object_get_string(JsonObject *object, const gchar *member);
JsonObject *
aiq_json_object_get_object(JsonObject *object, const gchar *member);
JsonArray *
aiq_json_object_get_array(JsonObject *object, const gchar *member);
gint64
aiq_json_object_get_int(JsonObject *object, const gchar *member, gint64 fallback);

G_END_DECLS
