/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_TIMELINE (aiq_designer_timeline_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerTimeline, aiq_designer_timeline, AIQ_DESIGNER, TIMELINE, GtkWidget)

GtkWidget *
aiq_designer_timeline_new(void);
void
aiq_designer_timeline_set_steps(AiqDesignerTimeline *self, JsonArray *steps);
guint
aiq_designer_timeline_get_n_rows(AiqDesignerTimeline *self);
guint
aiq_designer_timeline_get_n_bars(AiqDesignerTimeline *self);
gboolean
aiq_designer_timeline_get_running(AiqDesignerTimeline *self);

G_END_DECLS
