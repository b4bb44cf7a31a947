/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * What the canvas's gestures do, as functions the tests call directly
 * (GTK 4 has no API to synthesize pointer events).
 */

#pragma once

#include "aiq-designer-canvas.h"

G_BEGIN_DECLS

/**
 * AiqDesignerCanvasHit:
 * @AIQ_DESIGNER_CANVAS_HIT_NONE: empty space
 * @AIQ_DESIGNER_CANVAS_HIT_NODE: a step's card
 * @AIQ_DESIGNER_CANVAS_HIT_INPUT: the input port on a card's left edge
 * @AIQ_DESIGNER_CANVAS_HIT_OUTPUT: the output port on a card's right edge
 * @AIQ_DESIGNER_CANVAS_HIT_EDGE: a dependency (id is the step needed, to_id
 *   the step that waits)
 */
typedef enum {
	AIQ_DESIGNER_CANVAS_HIT_NONE,
	AIQ_DESIGNER_CANVAS_HIT_NODE,
	AIQ_DESIGNER_CANVAS_HIT_INPUT,
	AIQ_DESIGNER_CANVAS_HIT_OUTPUT,
	AIQ_DESIGNER_CANVAS_HIT_EDGE,
} AiqDesignerCanvasHit;

/* all coordinates here are widget pixels */
AiqDesignerCanvasHit
aiq_designer_canvas_hit_test(AiqDesignerCanvas *self,
			     gdouble x,
			     gdouble y,
			     gchar **id,
			     gchar **to_id);
gboolean
aiq_designer_canvas_get_node_bounds(AiqDesignerCanvas *self,
				    const gchar *id,
				    graphene_rect_t *bounds);

/* the primary button's drag: press, motion (offsets from the press), release */
void
aiq_designer_canvas_pointer_begin(AiqDesignerCanvas *self,
				  gdouble x,
				  gdouble y,
				  GdkModifierType state);
void
aiq_designer_canvas_pointer_update(AiqDesignerCanvas *self, gdouble dx, gdouble dy);
void
aiq_designer_canvas_pointer_end(AiqDesignerCanvas *self, gdouble dx, gdouble dy);

gboolean
aiq_designer_canvas_finish_connect(AiqDesignerCanvas *self,
				   const gchar *from_id,
				   gdouble x,
				   gdouble y);
void
aiq_designer_canvas_move_selection(AiqDesignerCanvas *self, gdouble dx, gdouble dy);
gboolean
aiq_designer_canvas_navigate(AiqDesignerCanvas *self, GtkDirectionType direction);
void
aiq_designer_canvas_select_edge(AiqDesignerCanvas *self, const gchar *from_id, const gchar *to_id);
gchar *
aiq_designer_canvas_add_step_at(AiqDesignerCanvas *self, const gchar *kind, gdouble x, gdouble y);
const gchar *
aiq_designer_canvas_get_description(AiqDesignerCanvas *self);
void
aiq_designer_canvas_get_snapshot_stats(AiqDesignerCanvas *self, guint *count, gint64 *total_us);

G_END_DECLS
