/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-editor.h"
#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_WORKFLOWS_PAGE (aiq_designer_workflows_page_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerWorkflowsPage,
		     aiq_designer_workflows_page,
		     AIQ_DESIGNER,
		     WORKFLOWS_PAGE,
		     AdwBin)

GtkWidget *
aiq_designer_workflows_page_new(AiqDesignerSession *session);
void
aiq_designer_workflows_page_reload(AiqDesignerWorkflowsPage *self);
void
aiq_designer_workflows_page_open_workflow(AiqDesignerWorkflowsPage *self, const gchar *workflow_id);

AiqDesignerEditor *
aiq_designer_workflows_page_get_editor(AiqDesignerWorkflowsPage *self);
gboolean
aiq_designer_workflows_page_get_editing(AiqDesignerWorkflowsPage *self);
guint
aiq_designer_workflows_page_get_n_workflows(AiqDesignerWorkflowsPage *self);
GtkListBoxRow *
aiq_designer_workflows_page_get_row(AiqDesignerWorkflowsPage *self, const gchar *workflow_id);

G_END_DECLS
