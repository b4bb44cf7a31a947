/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_JSON_ITEM (aiq_designer_json_item_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerJsonItem, aiq_designer_json_item, AIQ_DESIGNER, JSON_ITEM, GObject)

AiqDesignerJsonItem *
aiq_designer_json_item_new(const gchar *key, JsonNode *node);
AiqDesignerJsonItem *
aiq_designer_json_item_new_range(JsonNode *array, guint start, guint end);
const gchar *
aiq_designer_json_item_get_key(AiqDesignerJsonItem *self);
JsonNode *
aiq_designer_json_item_get_node(AiqDesignerJsonItem *self);
gboolean
aiq_designer_json_item_is_range(AiqDesignerJsonItem *self);
gchar *
aiq_designer_json_item_dup_summary(AiqDesignerJsonItem *self);
GListModel *
aiq_designer_json_item_dup_children(AiqDesignerJsonItem *self);
GListModel *
aiq_designer_json_item_dup_children_of(JsonNode *node, guint start, guint end);

G_END_DECLS
