/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "aiq-designer-execution-item.h"
#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_EXECUTION_LIST_MODEL (aiq_designer_execution_list_model_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerExecutionListModel,
		     aiq_designer_execution_list_model,
		     AIQ_DESIGNER,
		     EXECUTION_LIST_MODEL,
		     GObject)

#define AIQ_DESIGNER_EXECUTION_PAGE_SIZE 100

AiqDesignerExecutionListModel *
aiq_designer_execution_list_model_new(AiqDesignerSession *session);
void
aiq_designer_execution_list_model_set_filter(AiqDesignerExecutionListModel *self,
					     const gchar *status,
					     const gchar *workflow_id,
					     gint64 since_us,
					     gint64 until_us);
void
aiq_designer_execution_list_model_reload(AiqDesignerExecutionListModel *self);
void
aiq_designer_execution_list_model_handle_event(AiqDesignerExecutionListModel *self,
					       JsonObject *execution);
gboolean
aiq_designer_execution_list_model_get_loading(AiqDesignerExecutionListModel *self);
const GError *
aiq_designer_execution_list_model_get_error(AiqDesignerExecutionListModel *self);
guint
aiq_designer_execution_list_model_get_n_cached_pages(AiqDesignerExecutionListModel *self);

G_END_DECLS
