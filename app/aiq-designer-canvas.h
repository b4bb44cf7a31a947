/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gtk/gtk.h>

#include "aiq-designer-document.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_CANVAS (aiq_designer_canvas_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerCanvas, aiq_designer_canvas, AIQ_DESIGNER, CANVAS, GtkWidget)

GtkWidget *
aiq_designer_canvas_new(void);
void
aiq_designer_canvas_set_document(AiqDesignerCanvas *self, AiqDesignerDocument *document);
AiqDesignerDocument *
aiq_designer_canvas_get_document(AiqDesignerCanvas *self);
GStrv
aiq_designer_canvas_dup_selection(AiqDesignerCanvas *self);
void
aiq_designer_canvas_select(AiqDesignerCanvas *self, const gchar *const *ids);
void
aiq_designer_canvas_set_step_states(AiqDesignerCanvas *self, GHashTable *states);
gdouble
aiq_designer_canvas_get_zoom(AiqDesignerCanvas *self);
void
aiq_designer_canvas_set_zoom(AiqDesignerCanvas *self, gdouble zoom);
void
aiq_designer_canvas_zoom_to_fit(AiqDesignerCanvas *self);
void
aiq_designer_canvas_pan_by(AiqDesignerCanvas *self, gdouble dx, gdouble dy);
gchar *
aiq_designer_canvas_add_step(AiqDesignerCanvas *self, const gchar *kind);

G_END_DECLS
