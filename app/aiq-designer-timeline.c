/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The steps of an execution in time: one row per step, one bar per attempt
 * from its start to its end, coloured by its status, under a time axis. An
 * attempt still going extends to now, and the widget redraws itself (with
 * a tick callback) while one is.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-timeline.h"
#include "aiq-designer-util.h"
#include "aiq-json.h"

#define ROW_HEIGHT 24
#define AXIS_HEIGHT 22
#define LABEL_WIDTH 140
#define MARGIN 8
#define MAX_ROWS 500

typedef struct {
	gint64 start; /* µs */
	gint64 end;   /* µs; 0 while going on */
	gchar *status;
} AiqDesignerTimelineBar;

typedef struct {
	gchar *id;
	GArray *bars; /* of AiqDesignerTimelineBar */
} AiqDesignerTimelineRow;

struct _AiqDesignerTimeline {
	GtkWidget parent_instance;
	GPtrArray *rows; /* of AiqDesignerTimelineRow */
	gint64 t0;
	gint64 t1;
	gboolean running;
	guint tick_id;
	gint64 last_draw;
};

G_DEFINE_TYPE(AiqDesignerTimeline, aiq_designer_timeline, GTK_TYPE_WIDGET)

static void
aiq_designer_timeline_bar_clear(AiqDesignerTimelineBar *bar)
{
	g_free(bar->status);
}

static void
aiq_designer_timeline_row_free(AiqDesignerTimelineRow *row)
{
	g_free(row->id);
	g_array_unref(row->bars);
	g_free(row);
}

static void
aiq_designer_timeline_add_bar(AiqDesignerTimeline *self,
			      AiqDesignerTimelineRow *row,
			      gint64 start,
			      gint64 end,
			      const gchar *status)
{
	AiqDesignerTimelineBar bar = { start, end, g_strdup(status) };
	if (start == 0)
		return;
	g_array_append_val(row->bars, bar);
	if (self->t0 == 0 || start < self->t0)
		self->t0 = start;
	if (end == 0)
		self->running = TRUE;
	else if (end > self->t1)
		self->t1 = end;
}

static gboolean
aiq_designer_timeline_tick_cb(GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
	AiqDesignerTimeline *self = AIQ_DESIGNER_TIMELINE(widget);
	gint64 now = gdk_frame_clock_get_frame_time(clock);
	/* ten frames a second are enough for bars that grow by seconds */
	if (now - self->last_draw >= 100000) {
		self->last_draw = now;
		gtk_widget_queue_draw(widget);
	}
	return G_SOURCE_CONTINUE;
}

/**
 * aiq_designer_timeline_set_steps:
 * @steps: (nullable): the `steps` of an `ExecutionDetail`
 */
void
aiq_designer_timeline_set_steps(AiqDesignerTimeline *self, JsonArray *steps)
{
	guint n;

	g_return_if_fail(AIQ_DESIGNER_IS_TIMELINE(self));

	g_ptr_array_set_size(self->rows, 0);
	self->t0 = 0;
	self->t1 = 0;
	self->running = FALSE;
	n = steps != NULL ? MIN(json_array_get_length(steps), MAX_ROWS) : 0;
	for (guint i = 0; i < n; i++) {
		JsonNode *node = json_array_get_element(steps, i);
		JsonObject *step;
		JsonArray *attempts;
		AiqDesignerTimelineRow *row;
		const gchar *status;
		gint64 last_end = 0;
		gboolean ongoing = FALSE;

		if (!JSON_NODE_HOLDS_OBJECT(node))
			continue;
		step = json_node_get_object(node);
		status = aiq_json_object_get_string(step, "status");
		row = g_new0(AiqDesignerTimelineRow, 1);
		row->id = g_strdup(aiq_json_object_get_string(step, "id"));
		row->bars = g_array_new(FALSE, TRUE, sizeof(AiqDesignerTimelineBar));
		g_array_set_clear_func(row->bars, (GDestroyNotify)aiq_designer_timeline_bar_clear);
		g_ptr_array_add(self->rows, row);

		attempts = aiq_json_object_get_array(step, "attempts");
		for (guint j = 0; attempts != NULL && j < json_array_get_length(attempts); j++) {
			JsonNode *anode = json_array_get_element(attempts, j);
			JsonObject *attempt;
			gint64 start, end;
			if (!JSON_NODE_HOLDS_OBJECT(anode))
				continue;
			attempt = json_node_get_object(anode);
			start = aiq_designer_parse_time(
				aiq_json_object_get_string(attempt, "started"));
			end = aiq_designer_parse_time(
				aiq_json_object_get_string(attempt, "finished"));
			if (end == 0)
				ongoing = TRUE;
			aiq_designer_timeline_add_bar(
				self,
				row,
				start,
				end,
				aiq_json_object_get_string(attempt, "status"));
			last_end = MAX(last_end, end);
		}
		/* the attempt going on now is not in the list until it ends */
		if (g_strcmp0(status, "running") == 0 && !ongoing) {
			gint64 start =
				last_end != 0
					? last_end
					: aiq_designer_parse_time(
						  aiq_json_object_get_string(step, "started"));
			aiq_designer_timeline_add_bar(self, row, start, 0, "running");
		} else if (row->bars->len == 0) {
			/* a step without attempts that still ran (e.g. a transform) */
			gint64 start = aiq_designer_parse_time(
				aiq_json_object_get_string(step, "started"));
			gint64 end = aiq_designer_parse_time(
				aiq_json_object_get_string(step, "finished"));
			if (start != 0 && end != 0)
				aiq_designer_timeline_add_bar(self, row, start, end, status);
		}
	}
	if (self->running && self->tick_id == 0)
		self->tick_id = gtk_widget_add_tick_callback(GTK_WIDGET(self),
							     aiq_designer_timeline_tick_cb,
							     NULL,
							     NULL);
	else if (!self->running && self->tick_id != 0) {
		gtk_widget_remove_tick_callback(GTK_WIDGET(self), self->tick_id);
		self->tick_id = 0;
	}
	gtk_widget_queue_resize(GTK_WIDGET(self));
}

guint
aiq_designer_timeline_get_n_rows(AiqDesignerTimeline *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_TIMELINE(self), 0);
	return self->rows->len;
}

guint
aiq_designer_timeline_get_n_bars(AiqDesignerTimeline *self)
{
	guint n = 0;
	g_return_val_if_fail(AIQ_DESIGNER_IS_TIMELINE(self), 0);
	for (guint i = 0; i < self->rows->len; i++) {
		AiqDesignerTimelineRow *row = g_ptr_array_index(self->rows, i);
		n += row->bars->len;
	}
	return n;
}

gboolean
aiq_designer_timeline_get_running(AiqDesignerTimeline *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_TIMELINE(self), FALSE);
	return self->running;
}

static void
aiq_designer_timeline_status_color(const gchar *status, GdkRGBA *color)
{
	const gchar *spec = "#9a9996"; /* pending, skipped, unknown */
	if (g_strcmp0(status, "succeeded") == 0)
		spec = "#26a269";
	else if (g_strcmp0(status, "failed") == 0 || g_strcmp0(status, "timed_out") == 0)
		spec = "#c01c28";
	else if (g_strcmp0(status, "running") == 0)
		spec = "#3584e4";
	else if (g_strcmp0(status, "cancelled") == 0)
		spec = "#e5a50a";
	gdk_rgba_parse(color, spec);
}

static void
aiq_designer_timeline_measure(GtkWidget *widget,
			      GtkOrientation orientation,
			      int for_size,
			      int *minimum,
			      int *natural,
			      int *minimum_baseline,
			      int *natural_baseline)
{
	AiqDesignerTimeline *self = AIQ_DESIGNER_TIMELINE(widget);
	if (orientation == GTK_ORIENTATION_HORIZONTAL) {
		*minimum = LABEL_WIDTH + 120;
		*natural = LABEL_WIDTH + 600;
	} else {
		*minimum = *natural = AXIS_HEIGHT + MARGIN + (gint)self->rows->len * ROW_HEIGHT;
	}
}

/* a step for the axis: 1, 2 or 5 times a power of ten of ms, some 100 px
 * apart */
static gint64
aiq_designer_timeline_axis_step(gint64 span_us, gint width)
{
	gint64 target = span_us * 100 / MAX(width, 1);
	gint64 step = 1000; /* 1 ms */
	static const gint mult[] = { 1, 2, 5 };
	for (;;) {
		for (guint i = 0; i < G_N_ELEMENTS(mult); i++) {
			if (step * mult[i] >= target)
				return step * mult[i];
		}
		step *= 10;
	}
}

static void
aiq_designer_timeline_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
	AiqDesignerTimeline *self = AIQ_DESIGNER_TIMELINE(widget);
	gint width = gtk_widget_get_width(widget);
	gint plot_x = LABEL_WIDTH;
	gint plot_w = MAX(width - LABEL_WIDTH - MARGIN, 1);
	gint64 t0 = self->t0;
	gint64 t1 = self->running ? MAX(self->t1, g_get_real_time()) : self->t1;
	gint64 span;
	GdkRGBA fg, grid;

	gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
	grid = fg;
	grid.alpha = 0.15f;
	if (t0 == 0) {
		g_autoptr(PangoLayout) layout =
			gtk_widget_create_pango_layout(widget, _("No step has started yet"));
		gtk_snapshot_save(snapshot);
		gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(plot_x, 2));
		gtk_snapshot_append_layout(snapshot, layout, &fg);
		gtk_snapshot_restore(snapshot);
		t0 = t1 = 0;
	}
	span = MAX(t1 - t0, 1000);

	/* the axis */
	if (self->t0 != 0) {
		gint64 step = aiq_designer_timeline_axis_step(span, plot_w);
		for (gint64 t = 0; t <= span; t += step) {
			gfloat x = plot_x + (gfloat)((gdouble)t / span * plot_w);
			g_autofree gchar *label = aiq_designer_format_duration(t / 1000);
			g_autoptr(PangoLayout) layout =
				gtk_widget_create_pango_layout(widget, label);
			gtk_snapshot_append_color(
				snapshot,
				&grid,
				&GRAPHENE_RECT_INIT(x,
						    AXIS_HEIGHT - 4,
						    1,
						    4 + (gfloat)self->rows->len * ROW_HEIGHT));
			gtk_snapshot_save(snapshot);
			gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(x + 2, 0));
			gtk_snapshot_append_layout(snapshot, layout, &fg);
			gtk_snapshot_restore(snapshot);
		}
	}

	/* the rows */
	for (guint i = 0; i < self->rows->len; i++) {
		AiqDesignerTimelineRow *row = g_ptr_array_index(self->rows, i);
		gfloat y = AXIS_HEIGHT + MARGIN / 2 + (gfloat)i * ROW_HEIGHT;
		g_autoptr(PangoLayout) layout =
			gtk_widget_create_pango_layout(widget, row->id != NULL ? row->id : "?");
		pango_layout_set_width(layout, (LABEL_WIDTH - MARGIN * 2) * PANGO_SCALE);
		pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
		gtk_snapshot_save(snapshot);
		gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(MARGIN, y + 3));
		gtk_snapshot_append_layout(snapshot, layout, &fg);
		gtk_snapshot_restore(snapshot);
		if (i % 2 == 1) {
			GdkRGBA band = fg;
			band.alpha = 0.04f;
			gtk_snapshot_append_color(
				snapshot,
				&band,
				&GRAPHENE_RECT_INIT(0, y, (gfloat)width, ROW_HEIGHT));
		}
		for (guint j = 0; j < row->bars->len && self->t0 != 0; j++) {
			AiqDesignerTimelineBar *bar =
				&g_array_index(row->bars, AiqDesignerTimelineBar, j);
			gint64 end = bar->end != 0 ? bar->end : t1;
			gfloat x = plot_x + (gfloat)((gdouble)(bar->start - t0) / span * plot_w);
			gfloat w = (gfloat)((gdouble)(end - bar->start) / span * plot_w);
			GdkRGBA color;
			GskRoundedRect rect;
			aiq_designer_timeline_status_color(bar->status, &color);
			gsk_rounded_rect_init_from_rect(
				&rect,
				&GRAPHENE_RECT_INIT(x, y + 5, MAX(w, 3), ROW_HEIGHT - 10),
				3);
			gtk_snapshot_push_rounded_clip(snapshot, &rect);
			gtk_snapshot_append_color(snapshot, &color, &rect.bounds);
			gtk_snapshot_pop(snapshot);
		}
	}
}

static void
aiq_designer_timeline_dispose(GObject *object)
{
	AiqDesignerTimeline *self = AIQ_DESIGNER_TIMELINE(object);
	if (self->tick_id != 0) {
		gtk_widget_remove_tick_callback(GTK_WIDGET(self), self->tick_id);
		self->tick_id = 0;
	}
	G_OBJECT_CLASS(aiq_designer_timeline_parent_class)->dispose(object);
}

static void
aiq_designer_timeline_finalize(GObject *object)
{
	AiqDesignerTimeline *self = AIQ_DESIGNER_TIMELINE(object);
	g_ptr_array_unref(self->rows);
	G_OBJECT_CLASS(aiq_designer_timeline_parent_class)->finalize(object);
}

static void
aiq_designer_timeline_class_init(AiqDesignerTimelineClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	object_class->dispose = aiq_designer_timeline_dispose;
	object_class->finalize = aiq_designer_timeline_finalize;
	widget_class->measure = aiq_designer_timeline_measure;
	widget_class->snapshot = aiq_designer_timeline_snapshot;
	gtk_widget_class_set_css_name(widget_class, "timeline");
	gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
aiq_designer_timeline_init(AiqDesignerTimeline *self)
{
	self->rows = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_designer_timeline_row_free);
}

GtkWidget *
aiq_designer_timeline_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_TIMELINE, NULL);
}
