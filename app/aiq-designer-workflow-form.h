/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-document.h"
#include "aiq-problems.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_WORKFLOW_FORM (aiq_designer_workflow_form_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerWorkflowForm,
		     aiq_designer_workflow_form,
		     AIQ_DESIGNER,
		     WORKFLOW_FORM,
		     AdwBin)

GtkWidget *
aiq_designer_workflow_form_new(void);
void
aiq_designer_workflow_form_set_document(AiqDesignerWorkflowForm *self,
					AiqDesignerDocument *document);
void
aiq_designer_workflow_form_set_webhook_url(AiqDesignerWorkflowForm *self, const gchar *url);
void
aiq_designer_workflow_form_set_problems(AiqDesignerWorkflowForm *self, AiqProblems *problems);
gboolean
aiq_designer_workflow_form_focus_path(AiqDesignerWorkflowForm *self, const gchar *path);

G_END_DECLS
