/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_EXECUTION_VIEW (aiq_designer_execution_view_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerExecutionView,
		     aiq_designer_execution_view,
		     AIQ_DESIGNER,
		     EXECUTION_VIEW,
		     AdwBin)

GtkWidget *
aiq_designer_execution_view_new(AiqDesignerSession *session);
void
aiq_designer_execution_view_set_execution_id(AiqDesignerExecutionView *self, const gchar *id);
const gchar *
aiq_designer_execution_view_get_execution_id(AiqDesignerExecutionView *self);
void
aiq_designer_execution_view_reload(AiqDesignerExecutionView *self);
JsonObject *
aiq_designer_execution_view_get_execution(AiqDesignerExecutionView *self);
const gchar *
aiq_designer_execution_view_get_status(AiqDesignerExecutionView *self);

G_END_DECLS
