/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-document.h"
#include "aiq-problems.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_STEP_FORM (aiq_designer_step_form_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerStepForm, aiq_designer_step_form, AIQ_DESIGNER, STEP_FORM, AdwBin)

GtkWidget *
aiq_designer_step_form_new(void);
void
aiq_designer_step_form_set_document(AiqDesignerStepForm *self, AiqDesignerDocument *document);
void
aiq_designer_step_form_set_step(AiqDesignerStepForm *self, const gchar *step_id);
const gchar *
aiq_designer_step_form_get_step(AiqDesignerStepForm *self);
void
aiq_designer_step_form_set_problems(AiqDesignerStepForm *self, AiqProblems *problems);
gboolean
aiq_designer_step_form_focus_path(AiqDesignerStepForm *self, const gchar *path);

G_END_DECLS
