/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_EXECUTIONS_PAGE (aiq_designer_executions_page_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerExecutionsPage,
		     aiq_designer_executions_page,
		     AIQ_DESIGNER,
		     EXECUTIONS_PAGE,
		     AdwBin)

GtkWidget *
aiq_designer_executions_page_new(AiqDesignerSession *session);
void
aiq_designer_executions_page_reload(AiqDesignerExecutionsPage *self);
void
aiq_designer_executions_page_show_execution(AiqDesignerExecutionsPage *self,
					    const gchar *execution_id);
GListModel *
aiq_designer_executions_page_get_model(AiqDesignerExecutionsPage *self);
GtkWidget *
aiq_designer_executions_page_get_execution_view(AiqDesignerExecutionsPage *self);

G_END_DECLS
