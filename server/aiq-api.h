/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Small helpers shared by the route handlers: strict reading of request
 * bodies (every problem named by its member, 422), pages of lists.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "aiq-request.h"

G_BEGIN_DECLS

#define AIQ_API_DEFAULT_LIMIT 50

JsonNode *
aiq_api_page(JsonArray *items, const gchar *next_cursor);
JsonNode *
aiq_api_time(gint64 us);
void
aiq_api_set_time(JsonObject *obj, const gchar *member, gint64 us);
JsonObject *
aiq_api_body_object(JsonNode *body, GError **error);
JsonObject *
aiq_api_read_body(AiqRequest *req, const gchar *const *known, JsonNode **body, GError **error);
gboolean
aiq_api_check_members(JsonObject *obj, const gchar *const *known, GError **error);
const gchar *
aiq_api_get_string(JsonObject *obj, const gchar *member, gboolean required, GError **error);
gboolean
aiq_api_lookup_string(JsonObject *obj,
		      const gchar *member,
		      gboolean required,
		      const gchar **value,
		      GError **error);
gboolean
aiq_api_get_int(JsonObject *obj,
		const gchar *member,
		gint64 min,
		gint64 max,
		gint64 *value,
		GError **error);
gboolean
aiq_api_get_bool(JsonObject *obj, const gchar *member, gboolean *value, GError **error);
JsonObject *
aiq_api_get_object(JsonObject *obj, const gchar *member, GError **error);
gchar **
aiq_api_get_strv(JsonObject *obj, const gchar *member, GError **error);
JsonNode *
aiq_api_strv_node(gchar **strv);
gboolean
aiq_api_query_choice(AiqRequest *req,
		     const gchar *name,
		     const gchar *const *choices,
		     const gchar **value,
		     GError **error);
gboolean
aiq_api_query_time(AiqRequest *req, const gchar *name, gint64 *value, GError **error);

G_END_DECLS
