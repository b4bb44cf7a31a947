/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_EXECUTION_ITEM (aiq_designer_execution_item_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerExecutionItem,
		     aiq_designer_execution_item,
		     AIQ_DESIGNER,
		     EXECUTION_ITEM,
		     GObject)

AiqDesignerExecutionItem *
aiq_designer_execution_item_new(void);
void
aiq_designer_execution_item_update_from_json(AiqDesignerExecutionItem *self, JsonObject *obj);
void
aiq_designer_execution_item_clear(AiqDesignerExecutionItem *self);

const gchar *
aiq_designer_execution_item_get_id(AiqDesignerExecutionItem *self);
const gchar *
aiq_designer_execution_item_get_workflow_id(AiqDesignerExecutionItem *self);
const gchar *
aiq_designer_execution_item_get_workflow_name(AiqDesignerExecutionItem *self);
const gchar *
aiq_designer_execution_item_get_status(AiqDesignerExecutionItem *self);
const gchar *
aiq_designer_execution_item_get_trigger(AiqDesignerExecutionItem *self);
const gchar *
aiq_designer_execution_item_get_created(AiqDesignerExecutionItem *self);
const gchar *
aiq_designer_execution_item_get_started(AiqDesignerExecutionItem *self);
const gchar *
aiq_designer_execution_item_get_finished(AiqDesignerExecutionItem *self);
gint64
aiq_designer_execution_item_get_duration_ms(AiqDesignerExecutionItem *self);
const gchar *
aiq_designer_execution_item_get_error(AiqDesignerExecutionItem *self);
gboolean
aiq_designer_execution_item_get_loaded(AiqDesignerExecutionItem *self);

G_END_DECLS
