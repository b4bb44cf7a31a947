/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-canvas.h"
#include "aiq-designer-document.h"
#include "aiq-designer-palette.h"
#include "aiq-designer-problems-list.h"
#include "aiq-designer-session.h"
#include "aiq-designer-source-view.h"

G_BEGIN_DECLS

/**
 * AiqDesignerEditor:
 *
 * One workflow being edited: the palette of step kinds, the canvas or its
 * YAML, the form of the selected step (or of the workflow), the problems,
 * and saving as a new version. Emits #AiqDesignerEditor::back when the
 * user asks to go back to the list, #AiqDesignerEditor::saved after a save.
 */
#define AIQ_DESIGNER_TYPE_EDITOR (aiq_designer_editor_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerEditor, aiq_designer_editor, AIQ_DESIGNER, EDITOR, AdwBin)

GtkWidget *
aiq_designer_editor_new(AiqDesignerSession *session);
void
aiq_designer_editor_new_workflow(AiqDesignerEditor *self, const gchar *name);
void
aiq_designer_editor_load_workflow(AiqDesignerEditor *self, const gchar *workflow_id);
AiqDesignerDocument *
aiq_designer_editor_get_document(AiqDesignerEditor *self);
const gchar *
aiq_designer_editor_get_workflow_id(AiqDesignerEditor *self);
gint
aiq_designer_editor_get_version(AiqDesignerEditor *self);
gboolean
aiq_designer_editor_get_loading(AiqDesignerEditor *self);
AiqDesignerCanvas *
aiq_designer_editor_get_canvas(AiqDesignerEditor *self);
AiqDesignerPalette *
aiq_designer_editor_get_palette(AiqDesignerEditor *self);
AiqDesignerSourceView *
aiq_designer_editor_get_source_view(AiqDesignerEditor *self);
AiqDesignerProblemsList *
aiq_designer_editor_get_problems_list(AiqDesignerEditor *self);
GtkWidget *
aiq_designer_editor_get_step_form(AiqDesignerEditor *self);
void
aiq_designer_editor_show_source(AiqDesignerEditor *self, gboolean source);

G_END_DECLS
