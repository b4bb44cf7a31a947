/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_JSON_VIEW (aiq_designer_json_view_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerJsonView,
		     aiq_designer_json_view,
		     AIQ_DESIGNER,
		     JSON_VIEW,
		     GtkWidget)

GtkWidget *
aiq_designer_json_view_new(void);
void
aiq_designer_json_view_set_node(AiqDesignerJsonView *self, JsonNode *node);
JsonNode *
aiq_designer_json_view_get_node(AiqDesignerJsonView *self);
GListModel *
aiq_designer_json_view_get_model(AiqDesignerJsonView *self);

G_END_DECLS
