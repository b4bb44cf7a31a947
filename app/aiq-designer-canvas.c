/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

#include "aiq-designer-canvas-private.h"
#include "aiq-designer-canvas.h"
#include "aiq-designer-util.h"
#include "aiq-step-kind.h"

/*
 * The workflow's steps as cards and their dependencies as curves, drawn
 * with GtkSnapshot in canvas units (the document's `ui.nodes` positions)
 * scaled by the zoom. Only what is visible is drawn; text layouts are kept
 * per node. Every edit goes through the document, so undo works.
 */

#define NODE_W AIQ_DESIGNER_NODE_WIDTH
#define NODE_H AIQ_DESIGNER_NODE_HEIGHT
#define NODE_RADIUS 10.0
#define PORT_RADIUS 6.0
#define PORT_HIT_PX 9.0
#define EDGE_HIT_PX 5.0
#define ICON_SIZE 24.0
#define TEXT_X 48.0
#define ZOOM_MIN 0.2
#define ZOOM_MAX 3.0
#define ZOOM_STEP 1.2
#define DETAIL_ZOOM 0.45 /* below it, cards without text or icons */
#define GRID_STEP 100.0
#define KEY_MOVE_STEP 20.0
#define SCROLL_WHEEL_STEP 50.0
#define FIT_MARGIN 40.0
#define EDGE_SAMPLES 16

typedef struct {
	gchar *id;
	gchar *kind;
	gdouble x;
	gdouble y;
	gboolean placed; /* the document has a position for it */
	GStrv needs;
	gdouble drag_x; /* at the start of a drag */
	gdouble drag_y;
	PangoLayout *title; /* lazily, see ensure_layouts */
	PangoLayout *subtitle;
} AiqDesignerCanvasNode;

typedef enum {
	DRAG_NONE,
	DRAG_MOVE,
	DRAG_CONNECT,
	DRAG_RUBBER,
	DRAG_PAN,
} AiqDesignerCanvasDrag;

struct _AiqDesignerCanvas {
	GtkWidget parent_instance;
	AiqDesignerDocument *document;
	gulong changed_id;
	GPtrArray *nodes;      /* of AiqDesignerCanvasNode, definition order */
	GHashTable *by_id;     /* id → node (borrowed from nodes) */
	GHashTable *selection; /* set of ids */
	gchar *cursor_id;      /* where keyboard navigation starts */
	gchar *edge_from;      /* the selected dependency */
	gchar *edge_to;
	GHashTable *states; /* id → status, nullable */
	GHashTable *icons;  /* "name@size" → GdkPaintable */
	gchar *description;
	gdouble zoom;
	gdouble origin_x; /* the canvas point at the widget's top left */
	gdouble origin_y;
	gboolean fit_pending;
	gboolean laying_out;

	/* the pointer */
	AiqDesignerCanvasDrag drag;
	gdouble drag_x; /* the press, widget pixels */
	gdouble drag_y;
	gdouble drag_dx;
	gdouble drag_dy;
	gchar *drag_id;
	gchar *connect_target;
	GHashTable *rubber_base;
	gboolean drag_grouped;
	gdouble pan_dx;
	gdouble pan_dy;
	gboolean space_held;
	gdouble pointer_x;
	gdouble pointer_y;
	gdouble gesture_zoom;
	AiqDesignerCanvasHit hover;

	guint snapshot_count;
	gint64 snapshot_us;
};

G_DEFINE_TYPE(AiqDesignerCanvas, aiq_designer_canvas, GTK_TYPE_WIDGET)

enum {
	PROP_0,
	PROP_DOCUMENT,
	PROP_ZOOM,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

enum {
	SIGNAL_SELECTION_CHANGED,
	SIGNAL_ACTIVATE_STEP,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

static void
aiq_designer_canvas_node_free(AiqDesignerCanvasNode *node)
{
	g_free(node->id);
	g_free(node->kind);
	g_strfreev(node->needs);
	g_clear_object(&node->title);
	g_clear_object(&node->subtitle);
	g_free(node);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqDesignerCanvasNode, aiq_designer_canvas_node_free)

/* geometry */

static void
aiq_designer_canvas_to_widget(AiqDesignerCanvas *self,
			      gdouble cx,
			      gdouble cy,
			      gdouble *wx,
			      gdouble *wy)
{
	*wx = (cx - self->origin_x) * self->zoom;
	*wy = (cy - self->origin_y) * self->zoom;
}

static void
aiq_designer_canvas_to_canvas(AiqDesignerCanvas *self,
			      gdouble wx,
			      gdouble wy,
			      gdouble *cx,
			      gdouble *cy)
{
	*cx = self->origin_x + wx / self->zoom;
	*cy = self->origin_y + wy / self->zoom;
}

static void
aiq_designer_canvas_get_visible(AiqDesignerCanvas *self, graphene_rect_t *rect)
{
	graphene_rect_init(rect,
			   self->origin_x,
			   self->origin_y,
			   gtk_widget_get_width(GTK_WIDGET(self)) / self->zoom,
			   gtk_widget_get_height(GTK_WIDGET(self)) / self->zoom);
}

/* the curve from @from's output port to @to's input port, canvas units */
static void
aiq_designer_canvas_edge_points(AiqDesignerCanvasNode *from,
				AiqDesignerCanvasNode *to,
				graphene_point_t pts[4])
{
	gdouble x0 = from->x + NODE_W, y0 = from->y + NODE_H / 2;
	gdouble x3 = to->x, y3 = to->y + NODE_H / 2;
	gdouble d = MAX(40.0, fabs(x3 - x0) / 2);
	graphene_point_init(&pts[0], x0, y0);
	graphene_point_init(&pts[1], x0 + d, y0);
	graphene_point_init(&pts[2], x3 - d, y3);
	graphene_point_init(&pts[3], x3, y3);
}

static void
aiq_designer_canvas_edge_bounds(const graphene_point_t pts[4], graphene_rect_t *bounds)
{
	gdouble x1 = pts[0].x, y1 = pts[0].y, x2 = pts[0].x, y2 = pts[0].y;
	for (guint i = 1; i < 4; i++) {
		x1 = MIN(x1, pts[i].x);
		y1 = MIN(y1, pts[i].y);
		x2 = MAX(x2, pts[i].x);
		y2 = MAX(y2, pts[i].y);
	}
	graphene_rect_init(bounds, x1, y1, x2 - x1, y2 - y1);
}

static void
aiq_designer_canvas_bezier(const graphene_point_t pts[4], gdouble t, gdouble *x, gdouble *y)
{
	gdouble u = 1 - t;
	gdouble a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
	*x = a * pts[0].x + b * pts[1].x + c * pts[2].x + d * pts[3].x;
	*y = a * pts[0].y + b * pts[1].y + c * pts[2].y + d * pts[3].y;
}

static gdouble
aiq_designer_segment_distance(gdouble px,
			      gdouble py,
			      gdouble ax,
			      gdouble ay,
			      gdouble bx,
			      gdouble by)
{
	gdouble dx = bx - ax, dy = by - ay;
	gdouble len2 = dx * dx + dy * dy;
	gdouble t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
	t = CLAMP(t, 0, 1);
	return hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/* the model: nodes from the document */

static AiqDesignerCanvasNode *
aiq_designer_canvas_lookup(AiqDesignerCanvas *self, const gchar *id)
{
	return id != NULL ? g_hash_table_lookup(self->by_id, id) : NULL;
}

/* the longest chain of dependencies before a node, as the document's
 * auto-layout computes it */
static guint
aiq_designer_canvas_get_layer(AiqDesignerCanvas *self,
			      AiqDesignerCanvasNode *node,
			      GHashTable *layers,
			      guint depth)
{
	gpointer value;
	guint layer = 0;
	if (g_hash_table_lookup_extended(layers, node, NULL, &value))
		return GPOINTER_TO_UINT(value);
	if (depth > 5000)
		return 0;
	g_hash_table_insert(layers, node, GUINT_TO_POINTER(0));
	for (guint i = 0; node->needs[i] != NULL; i++) {
		AiqDesignerCanvasNode *need = aiq_designer_canvas_lookup(self, node->needs[i]);
		if (need == NULL)
			continue;
		layer = MAX(layer,
			    aiq_designer_canvas_get_layer(self, need, layers, depth + 1) + 1);
	}
	g_hash_table_insert(layers, node, GUINT_TO_POINTER(layer));
	return layer;
}

/* steps without a position are shown where auto-layout would put them */
static void
aiq_designer_canvas_place_unplaced(AiqDesignerCanvas *self)
{
	g_autoptr(GHashTable) layers = NULL;
	g_autoptr(GArray) rows = NULL;
	gboolean any = FALSE;

	for (guint i = 0; i < self->nodes->len && !any; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		any = !node->placed;
	}
	if (!any)
		return;
	layers = g_hash_table_new(NULL, NULL);
	rows = g_array_new(FALSE, TRUE, sizeof(guint));
	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		guint layer = aiq_designer_canvas_get_layer(self, node, layers, 0);
		if (layer >= rows->len)
			g_array_set_size(rows, layer + 1);
		if (!node->placed) {
			node->x = 40 + layer * AIQ_DESIGNER_LAYOUT_COLUMN;
			node->y = 40 + g_array_index(rows, guint, layer) * AIQ_DESIGNER_LAYOUT_ROW;
		}
		g_array_index(rows, guint, layer)++;
	}
}

static void
aiq_designer_canvas_update_positions(AiqDesignerCanvas *self)
{
	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		node->placed = aiq_designer_document_get_position(self->document,
								  node->id,
								  &node->x,
								  &node->y);
	}
	aiq_designer_canvas_place_unplaced(self);
}

static void
aiq_designer_canvas_selection_changed(AiqDesignerCanvas *self);

/* drops what the document no longer has from the selection */
static void
aiq_designer_canvas_prune_selection(AiqDesignerCanvas *self)
{
	GHashTableIter iter;
	gpointer key;
	gboolean changed = FALSE;

	g_hash_table_iter_init(&iter, self->selection);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (aiq_designer_canvas_lookup(self, key) == NULL) {
			g_hash_table_iter_remove(&iter);
			changed = TRUE;
		}
	}
	if (self->edge_to != NULL) {
		AiqDesignerCanvasNode *to = aiq_designer_canvas_lookup(self, self->edge_to);
		if (to == NULL ||
		    !g_strv_contains((const gchar *const *)to->needs, self->edge_from)) {
			g_clear_pointer(&self->edge_from, g_free);
			g_clear_pointer(&self->edge_to, g_free);
			changed = TRUE;
		}
	}
	if (self->cursor_id != NULL && aiq_designer_canvas_lookup(self, self->cursor_id) == NULL)
		g_clear_pointer(&self->cursor_id, g_free);
	if (changed)
		aiq_designer_canvas_selection_changed(self);
}

static const gchar *
aiq_designer_canvas_get_string(JsonObject *obj, const gchar *member)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;
	if (node == NULL || json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

/* Returns: whether a step the canvas did not know has no position */
static gboolean
aiq_designer_canvas_rebuild(AiqDesignerCanvas *self)
{
	g_autoptr(GPtrArray) old_nodes = g_steal_pointer(&self->nodes);
	g_autoptr(GHashTable) old_by_id = g_steal_pointer(&self->by_id);
	gboolean new_unplaced = FALSE;
	guint n = self->document != NULL ? aiq_designer_document_get_n_steps(self->document) : 0;

	self->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_designer_canvas_node_free);
	self->by_id = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < n; i++) {
		JsonObject *step = aiq_designer_document_get_step(self->document, i);
		const gchar *id = aiq_designer_canvas_get_string(step, "id");
		const gchar *kind = aiq_designer_canvas_get_string(step, "uses");
		AiqDesignerCanvasNode *old;
		AiqDesignerCanvasNode *node;

		if (id == NULL || g_hash_table_contains(self->by_id, id))
			continue;
		node = g_new0(AiqDesignerCanvasNode, 1);
		node->id = g_strdup(id);
		node->kind = g_strdup(kind != NULL ? kind : "");
		node->needs = aiq_designer_document_dup_needs(self->document, id);
		node->placed =
			aiq_designer_document_get_position(self->document, id, &node->x, &node->y);
		old = g_hash_table_lookup(old_by_id, id);
		if (old != NULL && g_strcmp0(old->kind, kind) == 0) {
			node->title = g_steal_pointer(&old->title);
			node->subtitle = g_steal_pointer(&old->subtitle);
		}
		if (old == NULL && !node->placed)
			new_unplaced = TRUE;
		g_ptr_array_add(self->nodes, node);
		g_hash_table_insert(self->by_id, node->id, node);
	}
	aiq_designer_canvas_place_unplaced(self);
	aiq_designer_canvas_prune_selection(self);
	return new_unplaced;
}

static void
aiq_designer_canvas_layout_new_steps(AiqDesignerCanvas *self, gboolean keep_unmodified)
{
	gboolean was_modified = aiq_designer_document_get_modified(self->document);
	self->laying_out = TRUE;
	aiq_designer_document_auto_layout(self->document, FALSE);
	self->laying_out = FALSE;
	/* placing the steps of a freshly loaded definition is no edit of the
	 * user's; undoing it changes nothing visible (see place_unplaced) */
	if (keep_unmodified && !was_modified)
		aiq_designer_document_set_modified(self->document, FALSE);
}

static void
aiq_designer_canvas_document_changed_cb(AiqDesignerDocument *document,
					guint change,
					AiqDesignerCanvas *self)
{
	if (change &
	    (AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE | AIQ_DESIGNER_DOCUMENT_CHANGE_CONTENT)) {
		/* (a load marks the document unmodified after this) */
		if (aiq_designer_canvas_rebuild(self) && !self->laying_out)
			aiq_designer_canvas_layout_new_steps(self, FALSE);
	} else if (change & AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS) {
		if (self->drag != DRAG_MOVE)
			aiq_designer_canvas_update_positions(self);
	}
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* selection */

/* the node keyboard navigation starts from */
static AiqDesignerCanvasNode *
aiq_designer_canvas_get_cursor(AiqDesignerCanvas *self)
{
	AiqDesignerCanvasNode *node = aiq_designer_canvas_lookup(self, self->cursor_id);
	if (node != NULL && g_hash_table_contains(self->selection, node->id))
		return node;
	for (guint i = 0; i < self->nodes->len; i++) {
		node = g_ptr_array_index(self->nodes, i);
		if (g_hash_table_contains(self->selection, node->id))
			return node;
	}
	return NULL;
}

static const gchar *
aiq_designer_canvas_get_state(AiqDesignerCanvas *self, const gchar *id)
{
	return self->states != NULL ? g_hash_table_lookup(self->states, id) : NULL;
}

static gchar *
aiq_designer_canvas_describe_node(AiqDesignerCanvas *self, AiqDesignerCanvasNode *node)
{
	const AiqStepKind *kind = aiq_step_kind_lookup(node->kind);
	const gchar *state = aiq_designer_canvas_get_state(self, node->id);
	GString *str = g_string_new(NULL);
	/* TRANSLATORS: the step's id, then its kind */
	g_string_append_printf(str,
			       _("Step %s, %s"),
			       node->id,
			       kind != NULL ? _(kind->title) : node->kind);
	if (state != NULL)
		g_string_append_printf(str, ", %s", aiq_designer_status_to_label(state));
	if (node->needs[0] != NULL) {
		g_autofree gchar *needs = g_strjoinv(", ", node->needs);
		/* TRANSLATORS: the ids of the steps this one waits for */
		g_string_append_printf(str, _("; needs: %s"), needs);
	}
	return g_string_free(str, FALSE);
}

static void
aiq_designer_canvas_update_accessible(AiqDesignerCanvas *self)
{
	guint n = g_hash_table_size(self->selection);
	gchar *text = NULL;

	if (n == 1) {
		AiqDesignerCanvasNode *node = aiq_designer_canvas_get_cursor(self);
		if (node != NULL)
			text = aiq_designer_canvas_describe_node(self, node);
	} else if (n > 1) {
		text = g_strdup_printf(ngettext("%u step selected", "%u steps selected", n), n);
	} else if (self->edge_to != NULL) {
		/* TRANSLATORS: a dependency between two steps */
		text = g_strdup_printf(_("Dependency: %s waits for %s"),
				       self->edge_to,
				       self->edge_from);
	}
	if (text == NULL)
		text = g_strdup(_("No step selected"));
	g_free(self->description);
	self->description = text;
	gtk_accessible_update_property(
		GTK_ACCESSIBLE(self),
		GTK_ACCESSIBLE_PROPERTY_LABEL,
		self->description,
		GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
		_("Workflow steps. Arrow keys move between steps, Enter edits "
		  "the step, Delete removes it."),
		-1);
}

static void
aiq_designer_canvas_update_actions(AiqDesignerCanvas *self)
{
	GtkWidget *widget = GTK_WIDGET(self);
	gboolean has_doc = self->document != NULL;
	gtk_widget_action_set_enabled(
		widget,
		"canvas.delete",
		has_doc && (g_hash_table_size(self->selection) > 0 || self->edge_to != NULL));
	gtk_widget_action_set_enabled(widget, "canvas.select-all", has_doc);
	gtk_widget_action_set_enabled(widget, "canvas.layout", has_doc);
}

static void
aiq_designer_canvas_selection_changed(AiqDesignerCanvas *self)
{
	aiq_designer_canvas_update_accessible(self);
	aiq_designer_canvas_update_actions(self);
	gtk_widget_queue_draw(GTK_WIDGET(self));
	g_signal_emit(self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

static gboolean
aiq_designer_canvas_clear_selection_quiet(AiqDesignerCanvas *self)
{
	gboolean changed = g_hash_table_size(self->selection) > 0 || self->edge_to != NULL;
	g_hash_table_remove_all(self->selection);
	g_clear_pointer(&self->edge_from, g_free);
	g_clear_pointer(&self->edge_to, g_free);
	return changed;
}

static void
aiq_designer_canvas_select_only(AiqDesignerCanvas *self, const gchar *id)
{
	if (g_hash_table_size(self->selection) == 1 && g_hash_table_contains(self->selection, id) &&
	    self->edge_to == NULL) {
		g_free(self->cursor_id);
		self->cursor_id = g_strdup(id);
		return;
	}
	aiq_designer_canvas_clear_selection_quiet(self);
	g_hash_table_add(self->selection, g_strdup(id));
	g_free(self->cursor_id);
	self->cursor_id = g_strdup(id);
	aiq_designer_canvas_selection_changed(self);
}

static void
aiq_designer_canvas_scroll_into_view(AiqDesignerCanvas *self, AiqDesignerCanvasNode *node)
{
	gdouble w = gtk_widget_get_width(GTK_WIDGET(self));
	gdouble h = gtk_widget_get_height(GTK_WIDGET(self));
	gdouble x1, y1, x2, y2;

	if (w <= 0 || h <= 0)
		return;
	aiq_designer_canvas_to_widget(self, node->x, node->y, &x1, &y1);
	aiq_designer_canvas_to_widget(self, node->x + NODE_W, node->y + NODE_H, &x2, &y2);
	if (x1 >= 0 && y1 >= 0 && x2 <= w && y2 <= h)
		return;
	self->origin_x = node->x + NODE_W / 2 - w / 2 / self->zoom;
	self->origin_y = node->y + NODE_H / 2 - h / 2 / self->zoom;
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

GStrv
aiq_designer_canvas_dup_selection(AiqDesignerCanvas *self)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_return_val_if_fail(AIQ_DESIGNER_IS_CANVAS(self), NULL);
	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		if (g_hash_table_contains(self->selection, node->id))
			g_strv_builder_add(builder, node->id);
	}
	return g_strv_builder_end(builder);
}

/**
 * aiq_designer_canvas_select:
 * @ids: (nullable): step ids; unknown ones are ignored
 *
 * Replaces the selection and scrolls the first step into view.
 */
void
aiq_designer_canvas_select(AiqDesignerCanvas *self, const gchar *const *ids)
{
	AiqDesignerCanvasNode *first = NULL;
	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	aiq_designer_canvas_clear_selection_quiet(self);
	for (guint i = 0; ids != NULL && ids[i] != NULL; i++) {
		AiqDesignerCanvasNode *node = aiq_designer_canvas_lookup(self, ids[i]);
		if (node == NULL)
			continue;
		g_hash_table_add(self->selection, g_strdup(node->id));
		if (first == NULL)
			first = node;
	}
	if (first != NULL) {
		g_free(self->cursor_id);
		self->cursor_id = g_strdup(first->id);
		aiq_designer_canvas_scroll_into_view(self, first);
	}
	aiq_designer_canvas_selection_changed(self);
}

void
aiq_designer_canvas_select_edge(AiqDesignerCanvas *self, const gchar *from_id, const gchar *to_id)
{
	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	g_return_if_fail(from_id != NULL && to_id != NULL);
	aiq_designer_canvas_clear_selection_quiet(self);
	self->edge_from = g_strdup(from_id);
	self->edge_to = g_strdup(to_id);
	aiq_designer_canvas_selection_changed(self);
}

/* zoom and pan */

static void
aiq_designer_canvas_zoom_at(AiqDesignerCanvas *self, gdouble zoom, gdouble wx, gdouble wy)
{
	gdouble cx, cy;
	zoom = CLAMP(zoom, ZOOM_MIN, ZOOM_MAX);
	if (zoom == self->zoom)
		return;
	aiq_designer_canvas_to_canvas(self, wx, wy, &cx, &cy);
	self->zoom = zoom;
	self->origin_x = cx - wx / zoom;
	self->origin_y = cy - wy / zoom;
	gtk_widget_queue_draw(GTK_WIDGET(self));
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ZOOM]);
}

gdouble
aiq_designer_canvas_get_zoom(AiqDesignerCanvas *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_CANVAS(self), 1);
	return self->zoom;
}

/**
 * aiq_designer_canvas_set_zoom:
 * @zoom: 1 is one widget pixel per canvas unit; clamped to 0.2 … 3
 *
 * Zooms around the middle of the widget.
 */
void
aiq_designer_canvas_set_zoom(AiqDesignerCanvas *self, gdouble zoom)
{
	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	aiq_designer_canvas_zoom_at(self,
				    zoom,
				    gtk_widget_get_width(GTK_WIDGET(self)) / 2.0,
				    gtk_widget_get_height(GTK_WIDGET(self)) / 2.0);
}

/**
 * aiq_designer_canvas_pan_by:
 * @dx: widget pixels
 *
 * Moves the contents by (@dx, @dy), as dragging the background does.
 */
void
aiq_designer_canvas_pan_by(AiqDesignerCanvas *self, gdouble dx, gdouble dy)
{
	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	self->origin_x -= dx / self->zoom;
	self->origin_y -= dy / self->zoom;
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

/**
 * aiq_designer_canvas_zoom_to_fit:
 *
 * Shows every step (at most at zoom 1); waits for the first allocation if
 * the widget has none yet.
 */
void
aiq_designer_canvas_zoom_to_fit(AiqDesignerCanvas *self)
{
	gdouble w, h, x1 = G_MAXDOUBLE, y1 = G_MAXDOUBLE, x2 = -G_MAXDOUBLE, y2 = -G_MAXDOUBLE;
	gdouble zoom;

	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	w = gtk_widget_get_width(GTK_WIDGET(self));
	h = gtk_widget_get_height(GTK_WIDGET(self));
	if (w <= 0 || h <= 0) {
		self->fit_pending = TRUE;
		return;
	}
	self->fit_pending = FALSE;
	if (self->nodes->len == 0) {
		x1 = y1 = 0;
		x2 = w;
		y2 = h;
	}
	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		x1 = MIN(x1, node->x - PORT_RADIUS);
		y1 = MIN(y1, node->y);
		x2 = MAX(x2, node->x + NODE_W + PORT_RADIUS);
		y2 = MAX(y2, node->y + NODE_H);
	}
	x1 -= FIT_MARGIN;
	y1 -= FIT_MARGIN;
	x2 += FIT_MARGIN;
	y2 += FIT_MARGIN;
	zoom = MIN(w / (x2 - x1), h / (y2 - y1));
	zoom = CLAMP(zoom, ZOOM_MIN, 1.0);
	self->origin_x = (x1 + x2) / 2 - w / 2 / zoom;
	self->origin_y = (y1 + y2) / 2 - h / 2 / zoom;
	if (zoom != self->zoom) {
		self->zoom = zoom;
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ZOOM]);
	}
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* hit testing */

AiqDesignerCanvasHit
aiq_designer_canvas_hit_test(AiqDesignerCanvas *self,
			     gdouble x,
			     gdouble y,
			     gchar **id,
			     gchar **to_id)
{
	gdouble cx, cy;
	gdouble port_hit;
	gdouble best = EDGE_HIT_PX;
	AiqDesignerCanvasNode *best_from = NULL, *best_to = NULL;

	g_return_val_if_fail(AIQ_DESIGNER_IS_CANVAS(self), AIQ_DESIGNER_CANVAS_HIT_NONE);
	aiq_designer_canvas_to_canvas(self, x, y, &cx, &cy);
	port_hit = MAX(PORT_HIT_PX / self->zoom, PORT_RADIUS + 2);

	/* the last drawn is on top */
	for (guint i = self->nodes->len; i > 0; i--) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i - 1);
		AiqDesignerCanvasHit hit = AIQ_DESIGNER_CANVAS_HIT_NONE;
		if (hypot(cx - (node->x + NODE_W), cy - (node->y + NODE_H / 2)) <= port_hit)
			hit = AIQ_DESIGNER_CANVAS_HIT_OUTPUT;
		else if (hypot(cx - node->x, cy - (node->y + NODE_H / 2)) <= port_hit)
			hit = AIQ_DESIGNER_CANVAS_HIT_INPUT;
		else if (cx >= node->x && cx <= node->x + NODE_W && cy >= node->y &&
			 cy <= node->y + NODE_H)
			hit = AIQ_DESIGNER_CANVAS_HIT_NODE;
		if (hit != AIQ_DESIGNER_CANVAS_HIT_NONE) {
			if (id != NULL)
				*id = g_strdup(node->id);
			if (to_id != NULL)
				*to_id = NULL;
			return hit;
		}
	}

	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *to = g_ptr_array_index(self->nodes, i);
		for (guint j = 0; to->needs[j] != NULL; j++) {
			AiqDesignerCanvasNode *from =
				aiq_designer_canvas_lookup(self, to->needs[j]);
			graphene_point_t pts[4];
			graphene_rect_t bounds;
			gdouble px, py;
			if (from == NULL)
				continue;
			aiq_designer_canvas_edge_points(from, to, pts);
			aiq_designer_canvas_edge_bounds(pts, &bounds);
			graphene_rect_inset(&bounds, -best / self->zoom, -best / self->zoom);
			if (!graphene_rect_contains_point(&bounds, &GRAPHENE_POINT_INIT(cx, cy)))
				continue;
			aiq_designer_canvas_bezier(pts, 0, &px, &py);
			for (guint k = 1; k <= EDGE_SAMPLES; k++) {
				gdouble qx, qy, d;
				aiq_designer_canvas_bezier(pts,
							   (gdouble)k / EDGE_SAMPLES,
							   &qx,
							   &qy);
				d = aiq_designer_segment_distance(cx, cy, px, py, qx, qy) *
				    self->zoom;
				if (d <= best) {
					best = d;
					best_from = from;
					best_to = to;
				}
				px = qx;
				py = qy;
			}
		}
	}
	if (best_to != NULL) {
		if (id != NULL)
			*id = g_strdup(best_from->id);
		if (to_id != NULL)
			*to_id = g_strdup(best_to->id);
		return AIQ_DESIGNER_CANVAS_HIT_EDGE;
	}
	if (id != NULL)
		*id = NULL;
	if (to_id != NULL)
		*to_id = NULL;
	return AIQ_DESIGNER_CANVAS_HIT_NONE;
}

/**
 * aiq_designer_canvas_get_node_bounds:
 * @bounds: (out): the card in widget pixels
 */
gboolean
aiq_designer_canvas_get_node_bounds(AiqDesignerCanvas *self,
				    const gchar *id,
				    graphene_rect_t *bounds)
{
	AiqDesignerCanvasNode *node;
	gdouble x, y;
	g_return_val_if_fail(AIQ_DESIGNER_IS_CANVAS(self), FALSE);
	node = aiq_designer_canvas_lookup(self, id);
	if (node == NULL)
		return FALSE;
	aiq_designer_canvas_to_widget(self, node->x, node->y, &x, &y);
	graphene_rect_init(bounds, x, y, NODE_W * self->zoom, NODE_H * self->zoom);
	return TRUE;
}

/* edits */

static gboolean
aiq_designer_canvas_overlaps(AiqDesignerCanvas *self, gdouble x, gdouble y)
{
	graphene_rect_t rect = GRAPHENE_RECT_INIT(x - 10, y - 10, NODE_W + 20, NODE_H + 20);
	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		if (graphene_rect_intersection(
			    &rect,
			    &GRAPHENE_RECT_INIT(node->x, node->y, NODE_W, NODE_H),
			    NULL))
			return TRUE;
	}
	return FALSE;
}

/**
 * aiq_designer_canvas_add_step_at:
 * @x: where the card's middle goes, widget pixels
 *
 * Adds a step of @kind there or, if a card is in the way, at the nearest
 * free spot below, and selects it.
 *
 * Returns: (transfer full): the step's id
 */
gchar *
aiq_designer_canvas_add_step_at(AiqDesignerCanvas *self, const gchar *kind, gdouble x, gdouble y)
{
	g_autofree gchar *id = NULL;
	const gchar *ids[2] = { NULL, NULL };
	gdouble cx, cy;

	g_return_val_if_fail(AIQ_DESIGNER_IS_CANVAS(self), NULL);
	g_return_val_if_fail(kind != NULL, NULL);
	g_return_val_if_fail(self->document != NULL, NULL);

	aiq_designer_canvas_to_canvas(self, x, y, &cx, &cy);
	cx = round(cx - NODE_W / 2);
	cy = round(cy - NODE_H / 2);
	for (guint i = 0; i < 200 && aiq_designer_canvas_overlaps(self, cx, cy); i++)
		cy += NODE_H + 20;
	id = aiq_designer_document_add_step(self->document, kind, cx, cy);
	ids[0] = id;
	aiq_designer_canvas_select(self, ids);
	return g_steal_pointer(&id);
}

/**
 * aiq_designer_canvas_add_step:
 * @kind: a step kind, as `uses:` names it
 *
 * Adds a step and selects it. A new step follows the last one (it has no
 * `needs`), so it goes to the right of the last step, the way the chain
 * reads; the first step goes in the middle of what is visible. Either
 * moves down to the nearest free spot.
 *
 * Returns: (transfer full): the new step's id
 */
gchar *
aiq_designer_canvas_add_step(AiqDesignerCanvas *self, const gchar *kind)
{
	guint n;
	g_return_val_if_fail(AIQ_DESIGNER_IS_CANVAS(self), NULL);
	g_return_val_if_fail(kind != NULL, NULL);
	g_return_val_if_fail(self->document != NULL, NULL);

	n = aiq_designer_document_get_n_steps(self->document);
	if (n > 0) {
		JsonObject *last = aiq_designer_document_get_step(self->document, n - 1);
		const gchar *last_id =
			last != NULL ? json_object_get_string_member_with_default(last, "id", NULL)
				     : NULL;
		gdouble lx, ly;
		if (last_id != NULL &&
		    aiq_designer_document_get_position(self->document, last_id, &lx, &ly)) {
			g_autofree gchar *id = NULL;
			const gchar *ids[2] = { NULL, NULL };
			gdouble cx = lx + AIQ_DESIGNER_LAYOUT_COLUMN, cy = ly;
			for (guint i = 0; i < 200 && aiq_designer_canvas_overlaps(self, cx, cy);
			     i++)
				cy += NODE_H + 20;
			id = aiq_designer_document_add_step(self->document, kind, cx, cy);
			ids[0] = id;
			aiq_designer_canvas_select(self, ids);
			return g_steal_pointer(&id);
		}
	}
	return aiq_designer_canvas_add_step_at(self,
					       kind,
					       gtk_widget_get_width(GTK_WIDGET(self)) / 2.0,
					       gtk_widget_get_height(GTK_WIDGET(self)) / 2.0);
}

/**
 * aiq_designer_canvas_finish_connect:
 * @from_id: the step whose output port the drag started on
 * @x: where it ended, widget pixels
 *
 * Makes the step under (@x, @y) wait for @from_id; a refused dependency
 * (a cycle) is shown as a toast.
 *
 * Returns: whether a dependency was added (or was there already)
 */
gboolean
aiq_designer_canvas_finish_connect(AiqDesignerCanvas *self,
				   const gchar *from_id,
				   gdouble x,
				   gdouble y)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *to_id = NULL;
	AiqDesignerCanvasHit hit;

	g_return_val_if_fail(AIQ_DESIGNER_IS_CANVAS(self), FALSE);
	g_return_val_if_fail(from_id != NULL, FALSE);
	if (self->document == NULL)
		return FALSE;
	hit = aiq_designer_canvas_hit_test(self, x, y, &to_id, NULL);
	if (hit == AIQ_DESIGNER_CANVAS_HIT_NONE || hit == AIQ_DESIGNER_CANVAS_HIT_EDGE ||
	    g_strcmp0(to_id, from_id) == 0)
		return FALSE;
	if (!aiq_designer_document_add_dependency(self->document, from_id, to_id, &error)) {
		aiq_designer_show_error(GTK_WIDGET(self), error);
		return FALSE;
	}
	return TRUE;
}

/* positions at the start of a move */
static void
aiq_designer_canvas_mark_drag_start(AiqDesignerCanvas *self)
{
	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		node->drag_x = node->x;
		node->drag_y = node->y;
	}
}

/* moves the selected nodes to their start position + (dx, dy) canvas units */
static void
aiq_designer_canvas_move_from_start(AiqDesignerCanvas *self, gdouble dx, gdouble dy)
{
	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		if (!g_hash_table_contains(self->selection, node->id))
			continue;
		node->x = node->drag_x + dx;
		node->y = node->drag_y + dy;
		node->placed = TRUE;
		aiq_designer_document_set_position(self->document, node->id, node->x, node->y);
	}
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

/**
 * aiq_designer_canvas_move_selection:
 * @dx: canvas units
 *
 * Moves the selected steps, as one undoable edit.
 */
void
aiq_designer_canvas_move_selection(AiqDesignerCanvas *self, gdouble dx, gdouble dy)
{
	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	if (self->document == NULL || g_hash_table_size(self->selection) == 0)
		return;
	aiq_designer_canvas_mark_drag_start(self);
	aiq_designer_document_begin_group(self->document);
	aiq_designer_canvas_move_from_start(self, dx, dy);
	aiq_designer_document_end_group(self->document);
}

/**
 * aiq_designer_canvas_navigate:
 * @direction: %GTK_DIR_TAB_FORWARD/BACKWARD go by definition order, the
 *   arrows to the nearest card that way
 *
 * Selects the next step, or the first if none is selected.
 *
 * Returns: %FALSE if there is no step that way (Tab then leaves the canvas)
 */
gboolean
aiq_designer_canvas_navigate(AiqDesignerCanvas *self, GtkDirectionType direction)
{
	AiqDesignerCanvasNode *cur;
	AiqDesignerCanvasNode *target = NULL;
	gdouble best = G_MAXDOUBLE;

	g_return_val_if_fail(AIQ_DESIGNER_IS_CANVAS(self), FALSE);
	if (self->nodes->len == 0)
		return FALSE;
	cur = aiq_designer_canvas_get_cursor(self);
	if (cur == NULL) {
		target = direction == GTK_DIR_TAB_BACKWARD
				 ? g_ptr_array_index(self->nodes, self->nodes->len - 1)
				 : g_ptr_array_index(self->nodes, 0);
	} else if (direction == GTK_DIR_TAB_FORWARD || direction == GTK_DIR_TAB_BACKWARD) {
		guint idx = 0;
		g_ptr_array_find(self->nodes, cur, &idx);
		if (direction == GTK_DIR_TAB_FORWARD && idx + 1 < self->nodes->len)
			target = g_ptr_array_index(self->nodes, idx + 1);
		else if (direction == GTK_DIR_TAB_BACKWARD && idx > 0)
			target = g_ptr_array_index(self->nodes, idx - 1);
	} else {
		for (guint i = 0; i < self->nodes->len; i++) {
			AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
			gdouble dx = node->x - cur->x, dy = node->y - cur->y;
			gdouble along, across, score;
			switch (direction) {
			case GTK_DIR_RIGHT:
				along = dx;
				across = dy;
				break;
			case GTK_DIR_LEFT:
				along = -dx;
				across = dy;
				break;
			case GTK_DIR_DOWN:
				along = dy;
				across = dx;
				break;
			case GTK_DIR_UP:
			default:
				along = -dy;
				across = dx;
				break;
			}
			/* ahead, within a 60° cone either side */
			if (node == cur || along < 1 || fabs(across) > along * 2)
				continue;
			score = along + 2 * fabs(across);
			if (score < best) {
				best = score;
				target = node;
			}
		}
	}
	if (target == NULL)
		return FALSE;
	aiq_designer_canvas_select_only(self, target->id);
	aiq_designer_canvas_scroll_into_view(self, target);
	return TRUE;
}

/* the primary button */

static gboolean
aiq_designer_canvas_update_rubber(AiqDesignerCanvas *self)
{
	g_autoptr(GHashTable) sel = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gdouble x1, y1, x2, y2;
	graphene_rect_t rect;
	GHashTableIter iter;
	gpointer key;
	gboolean changed;

	aiq_designer_canvas_to_canvas(self,
				      MIN(self->drag_x, self->drag_x + self->drag_dx),
				      MIN(self->drag_y, self->drag_y + self->drag_dy),
				      &x1,
				      &y1);
	aiq_designer_canvas_to_canvas(self,
				      MAX(self->drag_x, self->drag_x + self->drag_dx),
				      MAX(self->drag_y, self->drag_y + self->drag_dy),
				      &x2,
				      &y2);
	graphene_rect_init(&rect, x1, y1, x2 - x1, y2 - y1);
	if (self->rubber_base != NULL) {
		g_hash_table_iter_init(&iter, self->rubber_base);
		while (g_hash_table_iter_next(&iter, &key, NULL))
			g_hash_table_add(sel, g_strdup(key));
	}
	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		if (graphene_rect_intersection(
			    &rect,
			    &GRAPHENE_RECT_INIT(node->x, node->y, NODE_W, NODE_H),
			    NULL))
			g_hash_table_add(sel, g_strdup(node->id));
	}
	changed = g_hash_table_size(sel) != g_hash_table_size(self->selection);
	g_hash_table_iter_init(&iter, sel);
	while (!changed && g_hash_table_iter_next(&iter, &key, NULL))
		changed = !g_hash_table_contains(self->selection, key);
	if (changed) {
		g_hash_table_unref(self->selection);
		self->selection = g_steal_pointer(&sel);
		aiq_designer_canvas_selection_changed(self);
	}
	return changed;
}

/**
 * aiq_designer_canvas_pointer_begin:
 * @state: the modifiers: Control or Shift toggle
 *
 * A press of the primary button: selects, and starts moving cards,
 * connecting a port, a rubber band or (Space held) panning.
 */
void
aiq_designer_canvas_pointer_begin(AiqDesignerCanvas *self,
				  gdouble x,
				  gdouble y,
				  GdkModifierType state)
{
	g_autofree gchar *id = NULL;
	g_autofree gchar *to_id = NULL;
	gboolean toggle = (state & (GDK_CONTROL_MASK | GDK_SHIFT_MASK)) != 0;
	AiqDesignerCanvasHit hit;

	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	self->drag = DRAG_NONE;
	self->drag_x = x;
	self->drag_y = y;
	self->drag_dx = 0;
	self->drag_dy = 0;
	self->drag_grouped = FALSE;
	self->pan_dx = 0;
	self->pan_dy = 0;
	g_clear_pointer(&self->drag_id, g_free);
	g_clear_pointer(&self->connect_target, g_free);
	g_clear_pointer(&self->rubber_base, g_hash_table_unref);

	if (self->space_held) {
		self->drag = DRAG_PAN;
		return;
	}
	hit = self->document != NULL ? aiq_designer_canvas_hit_test(self, x, y, &id, &to_id)
				     : AIQ_DESIGNER_CANVAS_HIT_NONE;
	switch (hit) {
	case AIQ_DESIGNER_CANVAS_HIT_OUTPUT:
		self->drag = DRAG_CONNECT;
		self->drag_id = g_steal_pointer(&id);
		break;
	case AIQ_DESIGNER_CANVAS_HIT_NODE:
	case AIQ_DESIGNER_CANVAS_HIT_INPUT:
		if (toggle) {
			if (!g_hash_table_remove(self->selection, id))
				g_hash_table_add(self->selection, g_strdup(id));
			g_clear_pointer(&self->edge_from, g_free);
			g_clear_pointer(&self->edge_to, g_free);
			aiq_designer_canvas_selection_changed(self);
			if (!g_hash_table_contains(self->selection, id))
				break;
			g_free(self->cursor_id);
			self->cursor_id = g_strdup(id);
		} else if (!g_hash_table_contains(self->selection, id)) {
			aiq_designer_canvas_select_only(self, id);
		} else {
			g_free(self->cursor_id);
			self->cursor_id = g_strdup(id);
		}
		self->drag = DRAG_MOVE;
		self->drag_id = g_steal_pointer(&id);
		aiq_designer_canvas_mark_drag_start(self);
		break;
	case AIQ_DESIGNER_CANVAS_HIT_EDGE:
		aiq_designer_canvas_select_edge(self, id, to_id);
		break;
	case AIQ_DESIGNER_CANVAS_HIT_NONE:
	default:
		self->drag = DRAG_RUBBER;
		if (toggle) {
			GHashTableIter iter;
			gpointer key;
			self->rubber_base =
				g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
			g_hash_table_iter_init(&iter, self->selection);
			while (g_hash_table_iter_next(&iter, &key, NULL))
				g_hash_table_add(self->rubber_base, g_strdup(key));
		} else if (aiq_designer_canvas_clear_selection_quiet(self)) {
			aiq_designer_canvas_selection_changed(self);
		}
		break;
	}
}

/**
 * aiq_designer_canvas_pointer_update:
 * @dx: the offset from the press, widget pixels
 */
void
aiq_designer_canvas_pointer_update(AiqDesignerCanvas *self, gdouble dx, gdouble dy)
{
	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	self->drag_dx = dx;
	self->drag_dy = dy;
	switch (self->drag) {
	case DRAG_MOVE:
		if (!self->drag_grouped) {
			if (dx == 0 && dy == 0)
				break;
			aiq_designer_document_begin_group(self->document);
			self->drag_grouped = TRUE;
		}
		aiq_designer_canvas_move_from_start(self, dx / self->zoom, dy / self->zoom);
		break;
	case DRAG_CONNECT: {
		g_autofree gchar *id = NULL;
		AiqDesignerCanvasHit hit = aiq_designer_canvas_hit_test(self,
									self->drag_x + dx,
									self->drag_y + dy,
									&id,
									NULL);
		g_clear_pointer(&self->connect_target, g_free);
		if (hit != AIQ_DESIGNER_CANVAS_HIT_NONE && hit != AIQ_DESIGNER_CANVAS_HIT_EDGE &&
		    g_strcmp0(id, self->drag_id) != 0)
			self->connect_target = g_steal_pointer(&id);
		gtk_widget_queue_draw(GTK_WIDGET(self));
		break;
	}
	case DRAG_RUBBER:
		aiq_designer_canvas_update_rubber(self);
		gtk_widget_queue_draw(GTK_WIDGET(self));
		break;
	case DRAG_PAN:
		aiq_designer_canvas_pan_by(self, dx - self->pan_dx, dy - self->pan_dy);
		self->pan_dx = dx;
		self->pan_dy = dy;
		break;
	case DRAG_NONE:
	default:
		break;
	}
}

void
aiq_designer_canvas_pointer_end(AiqDesignerCanvas *self, gdouble dx, gdouble dy)
{
	AiqDesignerCanvasDrag drag;
	g_autofree gchar *drag_id = NULL;

	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	if (dx != self->drag_dx || dy != self->drag_dy)
		aiq_designer_canvas_pointer_update(self, dx, dy);
	drag = self->drag;
	drag_id = g_steal_pointer(&self->drag_id);
	self->drag = DRAG_NONE;
	g_clear_pointer(&self->connect_target, g_free);
	g_clear_pointer(&self->rubber_base, g_hash_table_unref);
	if (drag == DRAG_MOVE && self->drag_grouped) {
		self->drag_grouped = FALSE;
		aiq_designer_document_end_group(self->document);
	} else if (drag == DRAG_CONNECT) {
		aiq_designer_canvas_finish_connect(self,
						   drag_id,
						   self->drag_x + dx,
						   self->drag_y + dy);
	}
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* drawing */

typedef struct {
	GdkRGBA fg;
	GdkRGBA dim;
	GdkRGBA bg;
	GdkRGBA grid;
	GdkRGBA card;
	GdkRGBA border;
	GdkRGBA accent;
	GdkRGBA accent_soft;
	GdkRGBA edge;
	GdkRGBA error;
	GdkRGBA warning;
	GdkRGBA success;
} AiqDesignerCanvasColors;

static void
aiq_designer_canvas_get_colors(AiqDesignerCanvas *self, AiqDesignerCanvasColors *c)
{
	G_GNUC_BEGIN_IGNORE_DEPRECATIONS
	GtkStyleContext *context = gtk_widget_get_style_context(GTK_WIDGET(self));
	gboolean dark = adw_style_manager_get_dark(adw_style_manager_get_default());

	gtk_style_context_get_color(context, &c->fg);
	if (!gtk_style_context_lookup_color(context, "accent_bg_color", &c->accent))
		gdk_rgba_parse(&c->accent, "#3584e4");
	if (!gtk_style_context_lookup_color(context, "error_color", &c->error))
		gdk_rgba_parse(&c->error, "#e01b24");
	if (!gtk_style_context_lookup_color(context, "warning_color", &c->warning))
		gdk_rgba_parse(&c->warning, "#e5a50a");
	if (!gtk_style_context_lookup_color(context, "success_color", &c->success))
		gdk_rgba_parse(&c->success, "#2ec27e");
	G_GNUC_END_IGNORE_DEPRECATIONS
	c->dim = c->fg;
	c->dim.alpha *= 0.6f;
	c->grid = c->fg;
	c->grid.alpha *= 0.06f;
	c->edge = c->fg;
	c->edge.alpha *= 0.45f;
	c->accent_soft = c->accent;
	c->accent_soft.alpha = 0.15f;
	gdk_rgba_parse(&c->bg, dark ? "#242424" : "#f6f5f4");
	gdk_rgba_parse(&c->card, dark ? "#383838" : "#ffffff");
	gdk_rgba_parse(&c->border, dark ? "rgba(255,255,255,0.15)" : "rgba(0,0,0,0.18)");
}

static gboolean
aiq_designer_canvas_state_color(const gchar *state, GdkRGBA *color)
{
	const gchar *spec = NULL;
	if (state == NULL)
		return FALSE;
	if (g_strcmp0(state, "succeeded") == 0)
		spec = "#2ec27e";
	else if (g_strcmp0(state, "failed") == 0)
		spec = "#e01b24";
	else if (g_strcmp0(state, "timed_out") == 0)
		spec = "#e66100";
	else if (g_strcmp0(state, "running") == 0)
		spec = "#3584e4";
	else if (g_strcmp0(state, "skipped") == 0 || g_strcmp0(state, "cancelled") == 0)
		spec = "#9a9996";
	else if (g_strcmp0(state, "queued") == 0 || g_strcmp0(state, "pending") == 0)
		spec = "#c0bfbc";
	return spec != NULL && gdk_rgba_parse(color, spec);
}

static void
aiq_designer_canvas_ensure_layouts(AiqDesignerCanvas *self, AiqDesignerCanvasNode *node)
{
	const gint width = (gint)((NODE_W - TEXT_X - 24) * PANGO_SCALE);
	if (node->title == NULL) {
		PangoAttrList *attrs = pango_attr_list_new();
		pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
		node->title = gtk_widget_create_pango_layout(GTK_WIDGET(self), node->id);
		pango_layout_set_attributes(node->title, attrs);
		pango_layout_set_width(node->title, width);
		pango_layout_set_ellipsize(node->title, PANGO_ELLIPSIZE_END);
		pango_layout_set_single_paragraph_mode(node->title, TRUE);
		pango_attr_list_unref(attrs);
	}
	if (node->subtitle == NULL) {
		const AiqStepKind *kind = aiq_step_kind_lookup(node->kind);
		PangoAttrList *attrs = pango_attr_list_new();
		pango_attr_list_insert(attrs, pango_attr_scale_new(0.85));
		node->subtitle =
			gtk_widget_create_pango_layout(GTK_WIDGET(self),
						       kind != NULL ? _(kind->title) : node->kind);
		pango_layout_set_attributes(node->subtitle, attrs);
		pango_layout_set_width(node->subtitle, width);
		pango_layout_set_ellipsize(node->subtitle, PANGO_ELLIPSIZE_END);
		pango_layout_set_single_paragraph_mode(node->subtitle, TRUE);
		pango_attr_list_unref(attrs);
	}
}

static void
aiq_designer_canvas_clear_layouts(AiqDesignerCanvas *self)
{
	for (guint i = 0; self->nodes != NULL && i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		g_clear_object(&node->title);
		g_clear_object(&node->subtitle);
	}
}

static GdkPaintable *
aiq_designer_canvas_get_icon(AiqDesignerCanvas *self, const gchar *kind_name)
{
	const AiqStepKind *kind = aiq_step_kind_lookup(kind_name);
	const gchar *icon_name = kind != NULL ? kind->icon_name : "dialog-question-symbolic";
	/* sharp at high zoom without loading an icon per frame */
	gint size = self->zoom <= 1 ? 24 : self->zoom <= 2 ? 48 : 72;
	g_autofree gchar *key = g_strdup_printf("%s@%d", icon_name, size);
	GdkPaintable *icon = g_hash_table_lookup(self->icons, key);

	if (icon == NULL) {
		GtkIconTheme *theme =
			gtk_icon_theme_get_for_display(gtk_widget_get_display(GTK_WIDGET(self)));
		GtkIconPaintable *paintable =
			gtk_icon_theme_lookup_icon(theme,
						   icon_name,
						   NULL,
						   size,
						   gtk_widget_get_scale_factor(GTK_WIDGET(self)),
						   gtk_widget_get_direction(GTK_WIDGET(self)),
						   0);
		icon = GDK_PAINTABLE(paintable);
		g_hash_table_insert(self->icons, g_steal_pointer(&key), icon);
	}
	return icon;
}

static void
aiq_designer_canvas_snapshot_circle(GtkSnapshot *snapshot,
				    gdouble cx,
				    gdouble cy,
				    gdouble r,
				    const GdkRGBA *fill,
				    const GdkRGBA *stroke,
				    gdouble width)
{
	GskRoundedRect rr;
	const gfloat widths[4] = { width, width, width, width };
	const GdkRGBA colors[4] = { *stroke, *stroke, *stroke, *stroke };
	gsk_rounded_rect_init_from_rect(&rr, &GRAPHENE_RECT_INIT(cx - r, cy - r, 2 * r, 2 * r), r);
	gtk_snapshot_push_rounded_clip(snapshot, &rr);
	gtk_snapshot_append_color(snapshot, fill, &rr.bounds);
	gtk_snapshot_pop(snapshot);
	gtk_snapshot_append_border(snapshot, &rr, widths, colors);
}

/* the layers of a card; drawing each layer of all the cards in turn lets the
 * renderer batch the draws, which is what costs with software GL */
typedef enum {
	PASS_CARD = 1 << 0,
	PASS_ICON = 1 << 1,
	PASS_TEXT = 1 << 2,
	PASS_DECOR = 1 << 3,
	PASS_ALL = PASS_CARD | PASS_ICON | PASS_TEXT | PASS_DECOR,
} AiqDesignerCanvasPass;

/* @top painted over @bottom, as blending two color nodes would */
static void
aiq_designer_canvas_blend(const GdkRGBA *bottom, const GdkRGBA *top, GdkRGBA *out)
{
	gfloat a = top->alpha + bottom->alpha * (1 - top->alpha);
	if (a <= 0) {
		*out = (GdkRGBA){ 0, 0, 0, 0 };
		return;
	}
	out->red = (top->red * top->alpha + bottom->red * bottom->alpha * (1 - top->alpha)) / a;
	out->green =
		(top->green * top->alpha + bottom->green * bottom->alpha * (1 - top->alpha)) / a;
	out->blue = (top->blue * top->alpha + bottom->blue * bottom->alpha * (1 - top->alpha)) / a;
	out->alpha = a;
}

static void
aiq_designer_canvas_snapshot_node(AiqDesignerCanvas *self,
				  GtkSnapshot *snapshot,
				  AiqDesignerCanvasNode *node,
				  const AiqDesignerCanvasColors *c,
				  gboolean detail,
				  AiqDesignerCanvasPass passes)
{
	gboolean selected = g_hash_table_contains(self->selection, node->id);
	gboolean target = g_strcmp0(node->id, self->connect_target) == 0;
	gboolean focused = detail && g_strcmp0(node->id, self->cursor_id) == 0 &&
			   gtk_widget_has_visible_focus(GTK_WIDGET(self));
	const gchar *state = aiq_designer_canvas_get_state(self, node->id);
	GdkRGBA state_color = c->fg;
	gboolean has_state = aiq_designer_canvas_state_color(state, &state_color);
	/* at least a pixel wide, so cards stay apart at low zoom */
	gfloat bw = MAX(selected || target ? 2.5f : 1.0f, 1.0f / self->zoom);
	const GdkRGBA *bc = selected || target ? &c->accent : &c->border;
	const gfloat widths[4] = { bw, bw, bw, bw };
	const GdkRGBA colors[4] = { *bc, *bc, *bc, *bc };
	GskRoundedRect rr;
	GdkRGBA fill = c->card;

	gtk_snapshot_save(snapshot);
	gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(node->x, node->y));
	/* square corners when they would be a pixel or two: no clip to render */
	gsk_rounded_rect_init_from_rect(&rr,
					&GRAPHENE_RECT_INIT(0, 0, NODE_W, NODE_H),
					detail ? NODE_RADIUS : 0);
	/* one color node in the clip, then the border of the same outline: GSK
	 * draws that pair as a single filled border */
	if (selected || target)
		aiq_designer_canvas_blend(&c->card, &c->accent_soft, &fill);
	if ((passes & PASS_CARD) && detail) {
		gtk_snapshot_push_rounded_clip(snapshot, &rr);
		gtk_snapshot_append_color(snapshot, &fill, &rr.bounds);
		gtk_snapshot_pop(snapshot);
		gtk_snapshot_append_border(snapshot, &rr, widths, colors);
	} else if (passes & PASS_CARD) {
		gtk_snapshot_append_color(snapshot, &fill, &rr.bounds);
		if (has_state)
			gtk_snapshot_append_color(snapshot,
						  &state_color,
						  &GRAPHENE_RECT_INIT(0, 0, 16, NODE_H));
		gtk_snapshot_append_border(snapshot, &rr, widths, colors);
	}

	if (detail) {
		GdkPaintable *icon = (passes & PASS_ICON)
					     ? aiq_designer_canvas_get_icon(self, node->kind)
					     : NULL;
		if (icon != NULL) {
			gtk_snapshot_save(snapshot);
			gtk_snapshot_translate(snapshot,
					       &GRAPHENE_POINT_INIT(14, (NODE_H - ICON_SIZE) / 2));
			if (GTK_IS_SYMBOLIC_PAINTABLE(icon)) {
				const GdkRGBA sym[4] = { c->fg, c->error, c->warning, c->success };
				gtk_symbolic_paintable_snapshot_symbolic(
					GTK_SYMBOLIC_PAINTABLE(icon),
					snapshot,
					ICON_SIZE,
					ICON_SIZE,
					sym,
					G_N_ELEMENTS(sym));
			} else {
				gdk_paintable_snapshot(icon, snapshot, ICON_SIZE, ICON_SIZE);
			}
			gtk_snapshot_restore(snapshot);
		}
		if (passes & PASS_TEXT) {
			aiq_designer_canvas_ensure_layouts(self, node);
			gtk_snapshot_save(snapshot);
			gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(TEXT_X, 12));
			gtk_snapshot_append_layout(snapshot, node->title, &c->fg);
			gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(0, 22));
			gtk_snapshot_append_layout(snapshot, node->subtitle, &c->dim);
			gtk_snapshot_restore(snapshot);
		}
	}
	if (detail && (passes & PASS_DECOR)) {
		if (has_state)
			aiq_designer_canvas_snapshot_circle(snapshot,
							    NODE_W - 16,
							    16,
							    5,
							    &state_color,
							    &state_color,
							    0);
		if (focused) {
			GskRoundedRect ring;
			const gfloat fw[4] = { 2, 2, 2, 2 };
			const GdkRGBA fc = { c->accent.red, c->accent.green, c->accent.blue, 0.5f };
			const GdkRGBA fcs[4] = { fc, fc, fc, fc };
			gsk_rounded_rect_init_from_rect(
				&ring,
				&GRAPHENE_RECT_INIT(-4, -4, NODE_W + 8, NODE_H + 8),
				NODE_RADIUS + 4);
			gtk_snapshot_append_border(snapshot, &ring, fw, fcs);
		}
		/* the ports */
		aiq_designer_canvas_snapshot_circle(snapshot,
						    0,
						    NODE_H / 2,
						    PORT_RADIUS,
						    &c->card,
						    &c->edge,
						    1.5);
		aiq_designer_canvas_snapshot_circle(snapshot,
						    NODE_W,
						    NODE_H / 2,
						    PORT_RADIUS,
						    g_strcmp0(node->id, self->drag_id) == 0 &&
								    self->drag == DRAG_CONNECT
							    ? &c->accent
							    : &c->card,
						    &c->edge,
						    1.5);
	}
	gtk_snapshot_restore(snapshot);
}

static void
aiq_designer_canvas_curve(AiqDesignerCanvas *self, cairo_t *cr, const graphene_point_t pts[4])
{
	gdouble x[4], y[4];
	for (guint i = 0; i < 4; i++)
		aiq_designer_canvas_to_widget(self, pts[i].x, pts[i].y, &x[i], &y[i]);
	cairo_move_to(cr, x[0], y[0]);
	cairo_curve_to(cr, x[1], y[1], x[2], y[2], x[3], y[3]);
}

static void
aiq_designer_canvas_arrow(AiqDesignerCanvas *self, cairo_t *cr, const graphene_point_t *tip)
{
	gdouble x, y, s = 7 * MAX(self->zoom, 0.5);
	aiq_designer_canvas_to_widget(self, tip->x - PORT_RADIUS, tip->y, &x, &y);
	cairo_move_to(cr, x, y);
	cairo_line_to(cr, x - s, y - s * 0.6);
	cairo_line_to(cr, x - s, y + s * 0.6);
	cairo_close_path(cr);
}

/* the dependencies, in one cairo node over the widget */
static void
aiq_designer_canvas_snapshot_edges(AiqDesignerCanvas *self,
				   GtkSnapshot *snapshot,
				   const graphene_rect_t *visible,
				   const AiqDesignerCanvasColors *c)
{
	gdouble w = gtk_widget_get_width(GTK_WIDGET(self));
	gdouble h = gtk_widget_get_height(GTK_WIDGET(self));
	g_autoptr(GArray) edges = g_array_new(FALSE, FALSE, sizeof(graphene_point_t) * 4);
	gboolean have_selected = FALSE;
	graphene_point_t selected[4];
	cairo_t *cr;

	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *to = g_ptr_array_index(self->nodes, i);
		for (guint j = 0; to->needs[j] != NULL; j++) {
			AiqDesignerCanvasNode *from =
				aiq_designer_canvas_lookup(self, to->needs[j]);
			graphene_point_t pts[4];
			graphene_rect_t bounds;
			if (from == NULL)
				continue;
			aiq_designer_canvas_edge_points(from, to, pts);
			aiq_designer_canvas_edge_bounds(pts, &bounds);
			graphene_rect_inset(&bounds, -10, -10);
			if (!graphene_rect_intersection(&bounds, visible, NULL))
				continue;
			if (g_strcmp0(self->edge_from, from->id) == 0 &&
			    g_strcmp0(self->edge_to, to->id) == 0) {
				memcpy(selected, pts, sizeof(pts));
				have_selected = TRUE;
				continue;
			}
			g_array_append_vals(edges, pts, 1);
		}
	}
	if (edges->len == 0 && !have_selected && self->drag != DRAG_CONNECT)
		return;
	cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
	gdk_cairo_set_source_rgba(cr, &c->edge);
	for (guint i = 0; i < edges->len; i++)
		aiq_designer_canvas_curve(self, cr, &g_array_index(edges, graphene_point_t, i * 4));
	cairo_set_line_width(cr, MAX(1.0, 1.5 * self->zoom));
	cairo_stroke(cr);
	for (guint i = 0; i < edges->len; i++)
		aiq_designer_canvas_arrow(self,
					  cr,
					  &g_array_index(edges, graphene_point_t, i * 4 + 3));
	cairo_fill(cr);
	if (have_selected) {
		gdk_cairo_set_source_rgba(cr, &c->accent);
		aiq_designer_canvas_curve(self, cr, selected);
		cairo_set_line_width(cr, MAX(2.0, 3 * self->zoom));
		cairo_stroke(cr);
		aiq_designer_canvas_arrow(self, cr, &selected[3]);
		cairo_fill(cr);
	}
	/* the rubber edge of a connection being dragged */
	if (self->drag == DRAG_CONNECT) {
		AiqDesignerCanvasNode *from = aiq_designer_canvas_lookup(self, self->drag_id);
		if (from != NULL) {
			const double dash[2] = { 6, 4 };
			gdouble x0, y0, x3 = self->drag_x + self->drag_dx;
			gdouble y3 = self->drag_y + self->drag_dy;
			gdouble d;
			aiq_designer_canvas_to_widget(self,
						      from->x + NODE_W,
						      from->y + NODE_H / 2,
						      &x0,
						      &y0);
			d = MAX(40 * self->zoom, fabs(x3 - x0) / 2);
			cairo_set_line_width(cr, MAX(1.5, 2 * self->zoom));
			cairo_set_dash(cr, dash, 2, 0);
			gdk_cairo_set_source_rgba(cr, &c->accent);
			cairo_move_to(cr, x0, y0);
			cairo_curve_to(cr, x0 + d, y0, x3 - d, y3, x3, y3);
			cairo_stroke(cr);
		}
	}
	cairo_destroy(cr);
}

static void
aiq_designer_canvas_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(widget);
	gint64 start = g_get_monotonic_time();
	gdouble w = gtk_widget_get_width(widget);
	gdouble h = gtk_widget_get_height(widget);
	gboolean detail = self->zoom >= DETAIL_ZOOM;
	AiqDesignerCanvasColors c;
	graphene_rect_t visible;
	g_autoptr(GPtrArray) shown = NULL;
	gboolean layered = TRUE;

	aiq_designer_canvas_get_colors(self, &c);
	aiq_designer_canvas_get_visible(self, &visible);
	gtk_snapshot_append_color(snapshot, &c.bg, &GRAPHENE_RECT_INIT(0, 0, w, h));

	/* the grid */
	for (gdouble gx = floor(visible.origin.x / GRID_STEP) * GRID_STEP;
	     gx <= visible.origin.x + visible.size.width;
	     gx += GRID_STEP) {
		gdouble x, y;
		aiq_designer_canvas_to_widget(self, gx, 0, &x, &y);
		gtk_snapshot_append_color(snapshot,
					  &c.grid,
					  &GRAPHENE_RECT_INIT(round(x), 0, 1, h));
	}
	for (gdouble gy = floor(visible.origin.y / GRID_STEP) * GRID_STEP;
	     gy <= visible.origin.y + visible.size.height;
	     gy += GRID_STEP) {
		gdouble x, y;
		aiq_designer_canvas_to_widget(self, 0, gy, &x, &y);
		gtk_snapshot_append_color(snapshot,
					  &c.grid,
					  &GRAPHENE_RECT_INIT(0, round(y), w, 1));
	}

	gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
	aiq_designer_canvas_snapshot_edges(self, snapshot, &visible, &c);

	gtk_snapshot_save(snapshot);
	gtk_snapshot_scale(snapshot, self->zoom, self->zoom);
	gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(-self->origin_x, -self->origin_y));
	shown = g_ptr_array_new();
	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		graphene_rect_t rect = GRAPHENE_RECT_INIT(node->x - PORT_RADIUS - 6,
							  node->y - 6,
							  NODE_W + 2 * PORT_RADIUS + 12,
							  NODE_H + 12);
		if (!graphene_rect_intersection(&rect, &visible, NULL))
			continue;
		/* cards drawn layer by layer must not overlap, or the stacking
		 * order would change */
		for (guint j = 0; layered && detail && j < shown->len; j++) {
			AiqDesignerCanvasNode *other = g_ptr_array_index(shown, j);
			if (fabs(other->x - node->x) < NODE_W + 2 * PORT_RADIUS + 12 &&
			    fabs(other->y - node->y) < NODE_H + 12)
				layered = FALSE;
		}
		g_ptr_array_add(shown, node);
	}
	if (layered) {
		const AiqDesignerCanvasPass passes[] = { PASS_CARD,
							 PASS_ICON,
							 PASS_TEXT,
							 PASS_DECOR };
		for (guint p = 0; p < (detail ? G_N_ELEMENTS(passes) : 1); p++) {
			for (guint i = 0; i < shown->len; i++)
				aiq_designer_canvas_snapshot_node(self,
								  snapshot,
								  g_ptr_array_index(shown, i),
								  &c,
								  detail,
								  passes[p]);
		}
	} else {
		for (guint i = 0; i < shown->len; i++)
			aiq_designer_canvas_snapshot_node(self,
							  snapshot,
							  g_ptr_array_index(shown, i),
							  &c,
							  detail,
							  PASS_ALL);
	}
	gtk_snapshot_restore(snapshot);

	/* the rubber band */
	if (self->drag == DRAG_RUBBER && (self->drag_dx != 0 || self->drag_dy != 0)) {
		GskRoundedRect rr;
		const gfloat widths[4] = { 1, 1, 1, 1 };
		const GdkRGBA colors[4] = { c.accent, c.accent, c.accent, c.accent };
		graphene_rect_t band = GRAPHENE_RECT_INIT(self->drag_x,
							  self->drag_y,
							  self->drag_dx,
							  self->drag_dy);
		graphene_rect_normalize(&band);
		gsk_rounded_rect_init_from_rect(&rr, &band, 0);
		gtk_snapshot_append_color(snapshot, &c.accent_soft, &band);
		gtk_snapshot_append_border(snapshot, &rr, widths, colors);
	}
	gtk_snapshot_pop(snapshot);

	self->snapshot_count++;
	self->snapshot_us += g_get_monotonic_time() - start;
}

void
aiq_designer_canvas_get_snapshot_stats(AiqDesignerCanvas *self, guint *count, gint64 *total_us)
{
	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	if (count != NULL)
		*count = self->snapshot_count;
	if (total_us != NULL)
		*total_us = self->snapshot_us;
}

/* GtkWidget */

static void
aiq_designer_canvas_measure(GtkWidget *widget,
			    GtkOrientation orientation,
			    int for_size,
			    int *minimum,
			    int *natural,
			    int *minimum_baseline,
			    int *natural_baseline)
{
	*minimum = 100;
	*natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 600 : 400;
}

static void
aiq_designer_canvas_size_allocate(GtkWidget *widget, int width, int height, int baseline)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(widget);
	if (self->fit_pending && width > 0 && height > 0)
		aiq_designer_canvas_zoom_to_fit(self);
}

static void
aiq_designer_canvas_css_changed(GtkWidget *widget, GtkCssStyleChange *change)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(widget);
	GTK_WIDGET_CLASS(aiq_designer_canvas_parent_class)->css_changed(widget, change);
	aiq_designer_canvas_clear_layouts(self);
	g_hash_table_remove_all(self->icons);
	gtk_widget_queue_draw(widget);
}

static void
aiq_designer_canvas_system_setting_changed(GtkWidget *widget, GtkSystemSetting setting)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(widget);
	GTK_WIDGET_CLASS(aiq_designer_canvas_parent_class)->system_setting_changed(widget, setting);
	aiq_designer_canvas_clear_layouts(self);
	g_hash_table_remove_all(self->icons);
	gtk_widget_queue_draw(widget);
}

static gboolean
aiq_designer_canvas_query_tooltip(GtkWidget *widget,
				  int x,
				  int y,
				  gboolean keyboard_mode,
				  GtkTooltip *tooltip)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(widget);
	AiqDesignerCanvasNode *node = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *to_id = NULL;
	AiqDesignerCanvasHit hit;
	const AiqStepKind *kind;
	const gchar *state;
	graphene_rect_t bounds;
	g_autoptr(GString) text = g_string_new(NULL);

	if (keyboard_mode) {
		node = aiq_designer_canvas_get_cursor(self);
	} else {
		hit = aiq_designer_canvas_hit_test(self, x, y, &id, &to_id);
		if (hit == AIQ_DESIGNER_CANVAS_HIT_EDGE) {
			/* TRANSLATORS: a dependency between two steps */
			g_autofree gchar *tip = g_strdup_printf(_("%s waits for %s"), to_id, id);
			gtk_tooltip_set_text(tooltip, tip);
			return TRUE;
		}
		if (hit == AIQ_DESIGNER_CANVAS_HIT_OUTPUT) {
			gtk_tooltip_set_text(
				tooltip,
				_("Drag to another step to make it wait for this one"));
			return TRUE;
		}
		node = aiq_designer_canvas_lookup(self, id);
	}
	if (node == NULL)
		return FALSE;
	kind = aiq_step_kind_lookup(node->kind);
	state = aiq_designer_canvas_get_state(self, node->id);
	g_string_append(text, node->id);
	g_string_append_c(text, '\n');
	g_string_append(text, kind != NULL ? _(kind->title) : node->kind);
	if (state != NULL) {
		g_string_append_c(text, '\n');
		g_string_append(text, aiq_designer_status_to_label(state));
	}
	gtk_tooltip_set_text(tooltip, text->str);
	if (aiq_designer_canvas_get_node_bounds(self, node->id, &bounds)) {
		GdkRectangle area = { (gint)bounds.origin.x,
				      (gint)bounds.origin.y,
				      (gint)ceil(bounds.size.width),
				      (gint)ceil(bounds.size.height) };
		gtk_tooltip_set_tip_area(tooltip, &area);
	}
	return TRUE;
}

/* controllers */

static void
aiq_designer_canvas_drag_begin_cb(GtkGestureDrag *gesture,
				  gdouble x,
				  gdouble y,
				  AiqDesignerCanvas *self)
{
	GdkModifierType state =
		gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(gesture));
	if (gtk_widget_get_focusable(GTK_WIDGET(self)))
		gtk_widget_grab_focus(GTK_WIDGET(self));
	aiq_designer_canvas_pointer_begin(self, x, y, state);
}

static void
aiq_designer_canvas_drag_update_cb(GtkGestureDrag *gesture,
				   gdouble dx,
				   gdouble dy,
				   AiqDesignerCanvas *self)
{
	aiq_designer_canvas_pointer_update(self, dx, dy);
}

static void
aiq_designer_canvas_drag_end_cb(GtkGestureDrag *gesture,
				gdouble dx,
				gdouble dy,
				AiqDesignerCanvas *self)
{
	aiq_designer_canvas_pointer_end(self, dx, dy);
}

static void
aiq_designer_canvas_drag_cancel_cb(GtkGesture *gesture,
				   GdkEventSequence *sequence,
				   AiqDesignerCanvas *self)
{
	if (self->drag == DRAG_MOVE && self->drag_grouped) {
		self->drag_grouped = FALSE;
		aiq_designer_document_end_group(self->document);
	}
	self->drag = DRAG_NONE;
	g_clear_pointer(&self->connect_target, g_free);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void
aiq_designer_canvas_pan_begin_cb(GtkGestureDrag *gesture,
				 gdouble x,
				 gdouble y,
				 AiqDesignerCanvas *self)
{
	self->pan_dx = 0;
	self->pan_dy = 0;
}

static void
aiq_designer_canvas_pan_update_cb(GtkGestureDrag *gesture,
				  gdouble dx,
				  gdouble dy,
				  AiqDesignerCanvas *self)
{
	aiq_designer_canvas_pan_by(self, dx - self->pan_dx, dy - self->pan_dy);
	self->pan_dx = dx;
	self->pan_dy = dy;
}

static void
aiq_designer_canvas_click_pressed_cb(GtkGestureClick *gesture,
				     gint n_press,
				     gdouble x,
				     gdouble y,
				     AiqDesignerCanvas *self)
{
	g_autofree gchar *id = NULL;
	if (n_press != 2)
		return;
	if (aiq_designer_canvas_hit_test(self, x, y, &id, NULL) == AIQ_DESIGNER_CANVAS_HIT_NODE)
		g_signal_emit(self, signals[SIGNAL_ACTIVATE_STEP], 0, id);
}

static gboolean
aiq_designer_canvas_scroll_cb(GtkEventControllerScroll *controller,
			      gdouble dx,
			      gdouble dy,
			      AiqDesignerCanvas *self)
{
	GdkModifierType state =
		gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(controller));
	gboolean wheel = gtk_event_controller_scroll_get_unit(controller) == GDK_SCROLL_UNIT_WHEEL;

	if (state & GDK_CONTROL_MASK) {
		gdouble factor = wheel ? pow(ZOOM_STEP, -dy) : exp(-dy * 0.01);
		aiq_designer_canvas_zoom_at(self,
					    self->zoom * factor,
					    self->pointer_x,
					    self->pointer_y);
		return TRUE;
	}
	if ((state & GDK_SHIFT_MASK) && dx == 0) {
		dx = dy;
		dy = 0;
	}
	if (wheel) {
		dx *= SCROLL_WHEEL_STEP;
		dy *= SCROLL_WHEEL_STEP;
	}
	aiq_designer_canvas_pan_by(self, -dx, -dy);
	return TRUE;
}

static void
aiq_designer_canvas_zoom_begin_cb(GtkGesture *gesture,
				  GdkEventSequence *sequence,
				  AiqDesignerCanvas *self)
{
	self->gesture_zoom = self->zoom;
}

static void
aiq_designer_canvas_zoom_scale_cb(GtkGestureZoom *gesture, gdouble scale, AiqDesignerCanvas *self)
{
	gdouble x = gtk_widget_get_width(GTK_WIDGET(self)) / 2.0;
	gdouble y = gtk_widget_get_height(GTK_WIDGET(self)) / 2.0;
	gtk_gesture_get_bounding_box_center(GTK_GESTURE(gesture), &x, &y);
	aiq_designer_canvas_zoom_at(self, self->gesture_zoom * scale, x, y);
}

static void
aiq_designer_canvas_motion_cb(GtkEventControllerMotion *controller,
			      gdouble x,
			      gdouble y,
			      AiqDesignerCanvas *self)
{
	AiqDesignerCanvasHit hit;
	self->pointer_x = x;
	self->pointer_y = y;
	if (self->drag != DRAG_NONE)
		return;
	hit = aiq_designer_canvas_hit_test(self, x, y, NULL, NULL);
	if (hit == self->hover)
		return;
	self->hover = hit;
	switch (hit) {
	case AIQ_DESIGNER_CANVAS_HIT_OUTPUT:
		gtk_widget_set_cursor_from_name(GTK_WIDGET(self), "crosshair");
		break;
	case AIQ_DESIGNER_CANVAS_HIT_NODE:
	case AIQ_DESIGNER_CANVAS_HIT_INPUT:
	case AIQ_DESIGNER_CANVAS_HIT_EDGE:
		gtk_widget_set_cursor_from_name(GTK_WIDGET(self), "pointer");
		break;
	case AIQ_DESIGNER_CANVAS_HIT_NONE:
	default:
		gtk_widget_set_cursor(GTK_WIDGET(self), NULL);
		break;
	}
}

static gboolean
aiq_designer_canvas_key_pressed_cb(GtkEventControllerKey *controller,
				   guint keyval,
				   guint keycode,
				   GdkModifierType state,
				   AiqDesignerCanvas *self)
{
	GdkModifierType mods = state & gtk_accelerator_get_default_mod_mask();
	GtkDirectionType dir;
	gdouble dx = 0, dy = 0;

	switch (keyval) {
	case GDK_KEY_space:
		if (mods != 0)
			return FALSE;
		if (!self->space_held)
			gtk_widget_set_cursor_from_name(GTK_WIDGET(self), "grab");
		self->space_held = TRUE;
		return TRUE;
	case GDK_KEY_Tab:
	case GDK_KEY_KP_Tab:
	case GDK_KEY_ISO_Left_Tab:
		if (mods & ~GDK_SHIFT_MASK)
			return FALSE;
		return aiq_designer_canvas_navigate(self,
						    mods & GDK_SHIFT_MASK ||
								    keyval == GDK_KEY_ISO_Left_Tab
							    ? GTK_DIR_TAB_BACKWARD
							    : GTK_DIR_TAB_FORWARD);
	case GDK_KEY_Return:
	case GDK_KEY_KP_Enter:
	case GDK_KEY_ISO_Enter: {
		AiqDesignerCanvasNode *node = aiq_designer_canvas_get_cursor(self);
		if (node == NULL || mods != 0)
			return FALSE;
		g_signal_emit(self, signals[SIGNAL_ACTIVATE_STEP], 0, node->id);
		return TRUE;
	}
	case GDK_KEY_Escape:
		if (self->drag == DRAG_CONNECT) {
			self->drag = DRAG_NONE;
			g_clear_pointer(&self->drag_id, g_free);
			gtk_widget_queue_draw(GTK_WIDGET(self));
			return TRUE;
		}
		if (aiq_designer_canvas_clear_selection_quiet(self)) {
			aiq_designer_canvas_selection_changed(self);
			return TRUE;
		}
		return FALSE;
	case GDK_KEY_Left:
	case GDK_KEY_KP_Left:
		dir = GTK_DIR_LEFT;
		dx = -KEY_MOVE_STEP;
		break;
	case GDK_KEY_Right:
	case GDK_KEY_KP_Right:
		dir = GTK_DIR_RIGHT;
		dx = KEY_MOVE_STEP;
		break;
	case GDK_KEY_Up:
	case GDK_KEY_KP_Up:
		dir = GTK_DIR_UP;
		dy = -KEY_MOVE_STEP;
		break;
	case GDK_KEY_Down:
	case GDK_KEY_KP_Down:
		dir = GTK_DIR_DOWN;
		dy = KEY_MOVE_STEP;
		break;
	default:
		return FALSE;
	}
	if (mods == GDK_SHIFT_MASK) {
		aiq_designer_canvas_move_selection(self, dx, dy);
		return TRUE;
	}
	if (mods != 0)
		return FALSE;
	aiq_designer_canvas_navigate(self, dir);
	/* arrows never leave the canvas */
	return TRUE;
}

static void
aiq_designer_canvas_key_released_cb(GtkEventControllerKey *controller,
				    guint keyval,
				    guint keycode,
				    GdkModifierType state,
				    AiqDesignerCanvas *self)
{
	if (keyval == GDK_KEY_space && self->space_held) {
		self->space_held = FALSE;
		gtk_widget_set_cursor(GTK_WIDGET(self), NULL);
		self->hover = AIQ_DESIGNER_CANVAS_HIT_NONE;
	}
}

static void
aiq_designer_canvas_focus_leave_cb(GtkEventControllerFocus *controller, AiqDesignerCanvas *self)
{
	self->space_held = FALSE;
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

static gboolean
aiq_designer_canvas_drop_cb(GtkDropTarget *target,
			    const GValue *value,
			    gdouble x,
			    gdouble y,
			    AiqDesignerCanvas *self)
{
	const gchar *kind = g_value_get_string(value);
	g_autofree gchar *id = NULL;
	if (self->document == NULL || kind == NULL || aiq_step_kind_lookup(kind) == NULL)
		return FALSE;
	id = aiq_designer_canvas_add_step_at(self, kind, x, y);
	gtk_widget_grab_focus(GTK_WIDGET(self));
	return id != NULL;
}

/* actions */

static void
aiq_designer_canvas_action_delete(GtkWidget *widget, const gchar *name, GVariant *param)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(widget);
	g_auto(GStrv) ids = NULL;
	if (self->document == NULL)
		return;
	ids = aiq_designer_canvas_dup_selection(self);
	if (ids[0] != NULL) {
		aiq_designer_document_remove_steps(self->document, (const gchar *const *)ids);
	} else if (self->edge_to != NULL) {
		g_autofree gchar *from = g_strdup(self->edge_from);
		g_autofree gchar *to = g_strdup(self->edge_to);
		aiq_designer_document_remove_dependency(self->document, from, to);
	}
}

static void
aiq_designer_canvas_action_select_all(GtkWidget *widget, const gchar *name, GVariant *param)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(widget);
	aiq_designer_canvas_clear_selection_quiet(self);
	for (guint i = 0; i < self->nodes->len; i++) {
		AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
		g_hash_table_add(self->selection, g_strdup(node->id));
	}
	aiq_designer_canvas_selection_changed(self);
}

static void
aiq_designer_canvas_action_zoom(GtkWidget *widget, const gchar *name, GVariant *param)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(widget);
	if (g_strcmp0(name, "canvas.zoom-in") == 0)
		aiq_designer_canvas_set_zoom(self, self->zoom * ZOOM_STEP);
	else if (g_strcmp0(name, "canvas.zoom-out") == 0)
		aiq_designer_canvas_set_zoom(self, self->zoom / ZOOM_STEP);
	else if (g_strcmp0(name, "canvas.zoom-reset") == 0)
		aiq_designer_canvas_set_zoom(self, 1.0);
	else
		aiq_designer_canvas_zoom_to_fit(self);
}

static void
aiq_designer_canvas_action_layout(GtkWidget *widget, const gchar *name, GVariant *param)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(widget);
	if (self->document == NULL)
		return;
	aiq_designer_document_auto_layout(self->document, TRUE);
	aiq_designer_canvas_zoom_to_fit(self);
}

/* document */

AiqDesignerDocument *
aiq_designer_canvas_get_document(AiqDesignerCanvas *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_CANVAS(self), NULL);
	return self->document;
}

/**
 * aiq_designer_canvas_set_document:
 * @document: (nullable): the workflow to show
 *
 * Shows @document, placing its steps that have no position, and zooms to
 * fit it.
 */
void
aiq_designer_canvas_set_document(AiqDesignerCanvas *self, AiqDesignerDocument *document)
{
	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	g_return_if_fail(document == NULL || AIQ_DESIGNER_IS_DOCUMENT(document));
	if (self->document == document)
		return;
	if (self->document != NULL) {
		if (self->drag == DRAG_MOVE && self->drag_grouped)
			aiq_designer_document_end_group(self->document);
		g_clear_signal_handler(&self->changed_id, self->document);
		g_clear_object(&self->document);
	}
	self->drag = DRAG_NONE;
	self->drag_grouped = FALSE;
	aiq_designer_canvas_clear_selection_quiet(self);
	g_clear_pointer(&self->cursor_id, g_free);
	if (document != NULL) {
		self->document = g_object_ref(document);
		self->changed_id =
			g_signal_connect(document,
					 "changed",
					 G_CALLBACK(aiq_designer_canvas_document_changed_cb),
					 self);
	}
	aiq_designer_canvas_rebuild(self);
	if (self->document != NULL) {
		gboolean unplaced = FALSE;
		for (guint i = 0; i < self->nodes->len && !unplaced; i++) {
			AiqDesignerCanvasNode *node = g_ptr_array_index(self->nodes, i);
			unplaced = !node->placed;
		}
		if (unplaced)
			aiq_designer_canvas_layout_new_steps(self, TRUE);
	}
	aiq_designer_canvas_zoom_to_fit(self);
	aiq_designer_canvas_selection_changed(self);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DOCUMENT]);
}

/**
 * aiq_designer_canvas_set_step_states:
 * @states: (nullable): step id → status of the last run; %NULL clears
 */
void
aiq_designer_canvas_set_step_states(AiqDesignerCanvas *self, GHashTable *states)
{
	g_return_if_fail(AIQ_DESIGNER_IS_CANVAS(self));
	if (states != NULL)
		g_hash_table_ref(states);
	g_clear_pointer(&self->states, g_hash_table_unref);
	self->states = states;
	aiq_designer_canvas_update_accessible(self);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* GObject */

static void
aiq_designer_canvas_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(object);
	switch (prop_id) {
	case PROP_DOCUMENT:
		g_value_set_object(value, self->document);
		break;
	case PROP_ZOOM:
		g_value_set_double(value, self->zoom);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
aiq_designer_canvas_set_property(GObject *object,
				 guint prop_id,
				 const GValue *value,
				 GParamSpec *pspec)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(object);
	switch (prop_id) {
	case PROP_DOCUMENT:
		aiq_designer_canvas_set_document(self, g_value_get_object(value));
		break;
	case PROP_ZOOM:
		aiq_designer_canvas_set_zoom(self, g_value_get_double(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
aiq_designer_canvas_dispose(GObject *object)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(object);
	if (self->document != NULL) {
		if (self->drag == DRAG_MOVE && self->drag_grouped)
			aiq_designer_document_end_group(self->document);
		self->drag_grouped = FALSE;
		g_clear_signal_handler(&self->changed_id, self->document);
		g_clear_object(&self->document);
	}
	g_clear_pointer(&self->states, g_hash_table_unref);
	g_hash_table_remove_all(self->icons);
	G_OBJECT_CLASS(aiq_designer_canvas_parent_class)->dispose(object);
}

static void
aiq_designer_canvas_finalize(GObject *object)
{
	AiqDesignerCanvas *self = AIQ_DESIGNER_CANVAS(object);
	g_hash_table_unref(self->by_id);
	g_ptr_array_unref(self->nodes);
	g_hash_table_unref(self->selection);
	g_hash_table_unref(self->icons);
	g_clear_pointer(&self->rubber_base, g_hash_table_unref);
	g_free(self->cursor_id);
	g_free(self->edge_from);
	g_free(self->edge_to);
	g_free(self->drag_id);
	g_free(self->connect_target);
	g_free(self->description);
	G_OBJECT_CLASS(aiq_designer_canvas_parent_class)->finalize(object);
}

static void
aiq_designer_canvas_class_init(AiqDesignerCanvasClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = aiq_designer_canvas_get_property;
	object_class->set_property = aiq_designer_canvas_set_property;
	object_class->dispose = aiq_designer_canvas_dispose;
	object_class->finalize = aiq_designer_canvas_finalize;
	widget_class->snapshot = aiq_designer_canvas_snapshot;
	widget_class->measure = aiq_designer_canvas_measure;
	widget_class->size_allocate = aiq_designer_canvas_size_allocate;
	widget_class->css_changed = aiq_designer_canvas_css_changed;
	widget_class->system_setting_changed = aiq_designer_canvas_system_setting_changed;
	widget_class->query_tooltip = aiq_designer_canvas_query_tooltip;

	props[PROP_DOCUMENT] = g_param_spec_object("document",
						   NULL,
						   NULL,
						   AIQ_DESIGNER_TYPE_DOCUMENT,
						   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
							   G_PARAM_STATIC_STRINGS);
	props[PROP_ZOOM] = g_param_spec_double("zoom",
					       NULL,
					       NULL,
					       ZOOM_MIN,
					       ZOOM_MAX,
					       1.0,
					       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
						       G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	/**
	 * AiqDesignerCanvas::selection-changed:
	 *
	 * The selected steps (or dependency) changed.
	 */
	signals[SIGNAL_SELECTION_CHANGED] = g_signal_new("selection-changed",
							 G_TYPE_FROM_CLASS(klass),
							 G_SIGNAL_RUN_LAST,
							 0,
							 NULL,
							 NULL,
							 NULL,
							 G_TYPE_NONE,
							 0);
	/**
	 * AiqDesignerCanvas::activate-step:
	 * @id: the step
	 *
	 * Enter or a double click on a step: the editor shows its form.
	 */
	signals[SIGNAL_ACTIVATE_STEP] = g_signal_new("activate-step",
						     G_TYPE_FROM_CLASS(klass),
						     G_SIGNAL_RUN_LAST,
						     0,
						     NULL,
						     NULL,
						     NULL,
						     G_TYPE_NONE,
						     1,
						     G_TYPE_STRING);

	gtk_widget_class_install_action(widget_class,
					"canvas.delete",
					NULL,
					aiq_designer_canvas_action_delete);
	gtk_widget_class_install_action(widget_class,
					"canvas.select-all",
					NULL,
					aiq_designer_canvas_action_select_all);
	gtk_widget_class_install_action(widget_class,
					"canvas.zoom-in",
					NULL,
					aiq_designer_canvas_action_zoom);
	gtk_widget_class_install_action(widget_class,
					"canvas.zoom-out",
					NULL,
					aiq_designer_canvas_action_zoom);
	gtk_widget_class_install_action(widget_class,
					"canvas.zoom-reset",
					NULL,
					aiq_designer_canvas_action_zoom);
	gtk_widget_class_install_action(widget_class,
					"canvas.zoom-fit",
					NULL,
					aiq_designer_canvas_action_zoom);
	gtk_widget_class_install_action(widget_class,
					"canvas.layout",
					NULL,
					aiq_designer_canvas_action_layout);

	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Delete, 0, "canvas.delete", NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_KP_Delete,
					    0,
					    "canvas.delete",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_BackSpace,
					    0,
					    "canvas.delete",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_a,
					    GDK_CONTROL_MASK,
					    "canvas.select-all",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_plus,
					    GDK_CONTROL_MASK,
					    "canvas.zoom-in",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_equal,
					    GDK_CONTROL_MASK,
					    "canvas.zoom-in",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_KP_Add,
					    GDK_CONTROL_MASK,
					    "canvas.zoom-in",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_minus,
					    GDK_CONTROL_MASK,
					    "canvas.zoom-out",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_KP_Subtract,
					    GDK_CONTROL_MASK,
					    "canvas.zoom-out",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_0,
					    GDK_CONTROL_MASK,
					    "canvas.zoom-reset",
					    NULL);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_KP_0,
					    GDK_CONTROL_MASK,
					    "canvas.zoom-reset",
					    NULL);

	gtk_widget_class_set_css_name(widget_class, "aiqcanvas");
	gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
aiq_designer_canvas_init(AiqDesignerCanvas *self)
{
	GtkWidget *widget = GTK_WIDGET(self);
	GtkGesture *gesture;
	GtkEventController *controller;
	GtkDropTarget *drop;

	self->zoom = 1.0;
	self->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_designer_canvas_node_free);
	self->by_id = g_hash_table_new(g_str_hash, g_str_equal);
	self->selection = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->icons = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);

	gtk_widget_set_focusable(widget, TRUE);
	gtk_widget_set_focus_on_click(widget, TRUE);
	gtk_widget_set_overflow(widget, GTK_OVERFLOW_HIDDEN);
	gtk_widget_set_has_tooltip(widget, TRUE);

	gesture = gtk_gesture_drag_new();
	gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(gesture), GDK_BUTTON_PRIMARY);
	g_signal_connect(gesture,
			 "drag-begin",
			 G_CALLBACK(aiq_designer_canvas_drag_begin_cb),
			 self);
	g_signal_connect(gesture,
			 "drag-update",
			 G_CALLBACK(aiq_designer_canvas_drag_update_cb),
			 self);
	g_signal_connect(gesture, "drag-end", G_CALLBACK(aiq_designer_canvas_drag_end_cb), self);
	g_signal_connect(gesture, "cancel", G_CALLBACK(aiq_designer_canvas_drag_cancel_cb), self);
	gtk_widget_add_controller(widget, GTK_EVENT_CONTROLLER(gesture));

	gesture = gtk_gesture_drag_new();
	gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(gesture), GDK_BUTTON_MIDDLE);
	g_signal_connect(gesture, "drag-begin", G_CALLBACK(aiq_designer_canvas_pan_begin_cb), self);
	g_signal_connect(gesture,
			 "drag-update",
			 G_CALLBACK(aiq_designer_canvas_pan_update_cb),
			 self);
	gtk_widget_add_controller(widget, GTK_EVENT_CONTROLLER(gesture));

	gesture = gtk_gesture_click_new();
	gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(gesture), GDK_BUTTON_PRIMARY);
	g_signal_connect(gesture,
			 "pressed",
			 G_CALLBACK(aiq_designer_canvas_click_pressed_cb),
			 self);
	gtk_widget_add_controller(widget, GTK_EVENT_CONTROLLER(gesture));

	gesture = gtk_gesture_zoom_new();
	g_signal_connect(gesture, "begin", G_CALLBACK(aiq_designer_canvas_zoom_begin_cb), self);
	g_signal_connect(gesture,
			 "scale-changed",
			 G_CALLBACK(aiq_designer_canvas_zoom_scale_cb),
			 self);
	gtk_widget_add_controller(widget, GTK_EVENT_CONTROLLER(gesture));

	controller = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
	g_signal_connect(controller, "scroll", G_CALLBACK(aiq_designer_canvas_scroll_cb), self);
	gtk_widget_add_controller(widget, controller);

	controller = gtk_event_controller_motion_new();
	g_signal_connect(controller, "motion", G_CALLBACK(aiq_designer_canvas_motion_cb), self);
	gtk_widget_add_controller(widget, controller);

	controller = gtk_event_controller_key_new();
	g_signal_connect(controller,
			 "key-pressed",
			 G_CALLBACK(aiq_designer_canvas_key_pressed_cb),
			 self);
	g_signal_connect(controller,
			 "key-released",
			 G_CALLBACK(aiq_designer_canvas_key_released_cb),
			 self);
	gtk_widget_add_controller(widget, controller);

	controller = gtk_event_controller_focus_new();
	g_signal_connect(controller, "leave", G_CALLBACK(aiq_designer_canvas_focus_leave_cb), self);
	gtk_widget_add_controller(widget, controller);

	drop = gtk_drop_target_new(G_TYPE_STRING, GDK_ACTION_COPY);
	g_signal_connect(drop, "drop", G_CALLBACK(aiq_designer_canvas_drop_cb), self);
	gtk_widget_add_controller(widget, GTK_EVENT_CONTROLLER(drop));

	g_signal_connect_object(adw_style_manager_get_default(),
				"notify::dark",
				G_CALLBACK(gtk_widget_queue_draw),
				self,
				G_CONNECT_SWAPPED);

	aiq_designer_canvas_update_accessible(self);
	aiq_designer_canvas_update_actions(self);
}

GtkWidget *
aiq_designer_canvas_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_CANVAS, NULL);
}

/* what the canvas tells assistive technologies about the selection */
const gchar *
aiq_designer_canvas_get_description(AiqDesignerCanvas *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_CANVAS(self), NULL);
	return self->description;
}
