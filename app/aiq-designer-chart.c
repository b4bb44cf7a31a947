/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The dashboard's charts, drawn with GtkSnapshot from the server's Stats
 * (GET /api/v1/stats): one widget, three kinds.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "aiq-designer-chart-private.h"
#include "aiq-designer-util.h"

#define AIQ_DESIGNER_CHART_MAX_SERIES 6
#define AIQ_DESIGNER_CHART_AXIS_WIDTH 48.f
#define AIQ_DESIGNER_CHART_AXIS_HEIGHT 22.f
#define AIQ_DESIGNER_CHART_LEGEND_HEIGHT 24.f
#define AIQ_DESIGNER_CHART_ROW_HEIGHT 30.f
#define AIQ_DESIGNER_CHART_PAD 8.f

typedef struct {
	gchar *label;
	gchar *tooltip_label;
	gdouble values[AIQ_DESIGNER_CHART_MAX_SERIES]; /* < 0: none */
} AiqDesignerChartItem;

typedef struct {
	const gchar *member;
	const gchar *color;
} AiqDesignerChartSeries;

static const AiqDesignerChartSeries aiq_designer_chart_executions_series[] = {
	{ "succeeded", "#2ec27e" }, { "failed", "#e01b24" },  { "timed_out", "#c64600" },
	{ "cancelled", "#9a9996" }, { "running", "#3584e4" }, { "queued", "#f6d32d" },
};
static const AiqDesignerChartSeries aiq_designer_chart_queue_series[] = {
	{ "queue_depth", "#3584e4" },
};
static const AiqDesignerChartSeries aiq_designer_chart_durations_series[] = {
	{ "p50_ms", "#3584e4" },
	{ "p95_ms", "#99c1f1" },
};

struct _AiqDesignerChart {
	GtkWidget parent_instance;
	AiqDesignerChartKind kind;
	GPtrArray *items; /* of AiqDesignerChartItem */
	gchar *summary;
};

G_DEFINE_TYPE(AiqDesignerChart, aiq_designer_chart, GTK_TYPE_WIDGET)

enum {
	PROP_0,
	PROP_KIND,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

GType
aiq_designer_chart_kind_get_type(void)
{
	static gsize type = 0;
	static const GEnumValue values[] = {
		{ AIQ_DESIGNER_CHART_KIND_EXECUTIONS,
		  "AIQ_DESIGNER_CHART_KIND_EXECUTIONS",
		  "executions" },
		{ AIQ_DESIGNER_CHART_KIND_QUEUE, "AIQ_DESIGNER_CHART_KIND_QUEUE", "queue" },
		{ AIQ_DESIGNER_CHART_KIND_DURATIONS,
		  "AIQ_DESIGNER_CHART_KIND_DURATIONS",
		  "durations" },
		{ 0, NULL, NULL },
	};
	if (g_once_init_enter(&type)) {
		GType t = g_enum_register_static("AiqDesignerChartKind", values);
		g_once_init_leave(&type, t);
	}
	return type;
}

static void
aiq_designer_chart_item_free(AiqDesignerChartItem *item)
{
	g_free(item->label);
	g_free(item->tooltip_label);
	g_free(item);
}

static const AiqDesignerChartSeries *
aiq_designer_chart_get_series(AiqDesignerChart *self, guint *n_series)
{
	switch (self->kind) {
	case AIQ_DESIGNER_CHART_KIND_EXECUTIONS:
		*n_series = G_N_ELEMENTS(aiq_designer_chart_executions_series);
		return aiq_designer_chart_executions_series;
	case AIQ_DESIGNER_CHART_KIND_QUEUE:
		*n_series = G_N_ELEMENTS(aiq_designer_chart_queue_series);
		return aiq_designer_chart_queue_series;
	case AIQ_DESIGNER_CHART_KIND_DURATIONS:
	default:
		*n_series = G_N_ELEMENTS(aiq_designer_chart_durations_series);
		return aiq_designer_chart_durations_series;
	}
}

static const gchar *
aiq_designer_chart_series_label(AiqDesignerChart *self, guint series)
{
	guint n_series = 0;
	const AiqDesignerChartSeries *all = aiq_designer_chart_get_series(self, &n_series);
	const gchar *member = all[series].member;

	if (g_strcmp0(member, "queue_depth") == 0)
		return _("Queue depth");
	if (g_strcmp0(member, "p50_ms") == 0)
		/* TRANSLATORS: the median duration */
		return _("p50");
	if (g_strcmp0(member, "p95_ms") == 0)
		/* TRANSLATORS: the 95th percentile of durations */
		return _("p95");
	return aiq_designer_status_to_label(member);
}

guint
aiq_designer_chart_get_n_items(AiqDesignerChart *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_CHART(self), 0);
	return self->items->len;
}

guint
aiq_designer_chart_get_n_series(AiqDesignerChart *self)
{
	guint n_series = 0;
	g_return_val_if_fail(AIQ_DESIGNER_IS_CHART(self), 0);
	aiq_designer_chart_get_series(self, &n_series);
	return n_series;
}

const gchar *
aiq_designer_chart_get_series_name(AiqDesignerChart *self, guint series)
{
	guint n_series = 0;
	const AiqDesignerChartSeries *all;
	g_return_val_if_fail(AIQ_DESIGNER_IS_CHART(self), NULL);
	all = aiq_designer_chart_get_series(self, &n_series);
	g_return_val_if_fail(series < n_series, NULL);
	return all[series].member;
}

const gchar *
aiq_designer_chart_get_item_label(AiqDesignerChart *self, guint item)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_CHART(self), NULL);
	g_return_val_if_fail(item < self->items->len, NULL);
	return ((AiqDesignerChartItem *)g_ptr_array_index(self->items, item))->label;
}

/* Returns: the value, or -1 for none (a workflow without a duration) */
gdouble
aiq_designer_chart_get_value(AiqDesignerChart *self, guint item, guint series)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_CHART(self), -1);
	g_return_val_if_fail(item < self->items->len, -1);
	g_return_val_if_fail(series < AIQ_DESIGNER_CHART_MAX_SERIES, -1);
	return ((AiqDesignerChartItem *)g_ptr_array_index(self->items, item))->values[series];
}

const gchar *
aiq_designer_chart_get_summary(AiqDesignerChart *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_CHART(self), NULL);
	return self->summary;
}

static gchar *
aiq_designer_chart_format_value(AiqDesignerChart *self, gdouble value)
{
	if (value < 0)
		return g_strdup("—");
	if (self->kind == AIQ_DESIGNER_CHART_KIND_DURATIONS)
		return aiq_designer_format_duration((gint64)value);
	if (value != floor(value))
		return g_strdup_printf("%.1f", value);
	return g_strdup_printf("%.0f", value);
}

/**
 * aiq_designer_chart_dup_tooltip:
 *
 * Returns: (transfer full): what hovering @item shows: its label and each
 *   series' value
 */
gchar *
aiq_designer_chart_dup_tooltip(AiqDesignerChart *self, guint item)
{
	AiqDesignerChartItem *it;
	GString *str;
	guint n_series = 0;

	g_return_val_if_fail(AIQ_DESIGNER_IS_CHART(self), NULL);
	g_return_val_if_fail(item < self->items->len, NULL);

	it = g_ptr_array_index(self->items, item);
	aiq_designer_chart_get_series(self, &n_series);
	str = g_string_new(it->tooltip_label != NULL ? it->tooltip_label : it->label);
	for (guint i = 0; i < n_series; i++) {
		g_autofree gchar *value = aiq_designer_chart_format_value(self, it->values[i]);
		/* an executions chart names only the statuses it has */
		if (self->kind == AIQ_DESIGNER_CHART_KIND_EXECUTIONS && it->values[i] <= 0)
			continue;
		g_string_append_printf(str,
				       "\n%s: %s",
				       aiq_designer_chart_series_label(self, i),
				       value);
	}
	if (self->kind == AIQ_DESIGNER_CHART_KIND_EXECUTIONS) {
		gdouble total = 0;
		for (guint i = 0; i < n_series; i++)
			total += MAX(it->values[i], 0);
		if (total == 0)
			g_string_append_printf(str, "\n%s", _("No executions"));
	}
	return g_string_free(str, FALSE);
}

static gdouble
aiq_designer_chart_json_number(JsonObject *obj, const gchar *member)
{
	JsonNode *node = json_object_get_member(obj, member);
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return -1;
	return json_node_get_double(node);
}

/* a bucket's start as its axis label: "14:00" for hours, "Mar 3" for days */
static void
aiq_designer_chart_bucket_labels(const gchar *start,
				 gboolean daily,
				 gchar **label,
				 gchar **tooltip_label)
{
	g_autoptr(GDateTime) utc = NULL;
	g_autoptr(GDateTime) local = NULL;

	utc = start != NULL ? g_date_time_new_from_iso8601(start, NULL) : NULL;
	if (utc == NULL) {
		*label = g_strdup(start != NULL ? start : "");
		*tooltip_label = g_strdup(*label);
		return;
	}
	local = g_date_time_to_local(utc);
	if (daily) {
		*label = g_date_time_format(local, "%b %e");
		*tooltip_label = g_date_time_format(local, "%a %x");
	} else {
		*label = g_date_time_format(local, "%H:%M");
		*tooltip_label = g_date_time_format(local, "%a %x %H:%M");
	}
}

static void
aiq_designer_chart_update_summary(AiqDesignerChart *self, gboolean daily)
{
	GString *str = g_string_new(NULL);

	if (self->kind == AIQ_DESIGNER_CHART_KIND_EXECUTIONS) {
		gdouble totals[AIQ_DESIGNER_CHART_MAX_SERIES] = { 0 };
		gdouble total = 0;
		for (guint i = 0; i < self->items->len; i++) {
			AiqDesignerChartItem *it = g_ptr_array_index(self->items, i);
			for (guint j = 0; j < G_N_ELEMENTS(aiq_designer_chart_executions_series);
			     j++) {
				totals[j] += MAX(it->values[j], 0);
				total += MAX(it->values[j], 0);
			}
		}
		g_string_append_printf(str,
				       daily ? _("Executions per day: %.0f in %u days")
					     : _("Executions per hour: %.0f in %u hours"),
				       total,
				       self->items->len);
		for (guint j = 0; j < G_N_ELEMENTS(aiq_designer_chart_executions_series); j++) {
			if (totals[j] > 0)
				g_string_append_printf(str,
						       ", %s %.0f",
						       aiq_designer_chart_series_label(self, j),
						       totals[j]);
		}
	} else if (self->kind == AIQ_DESIGNER_CHART_KIND_QUEUE) {
		gdouble max = 0, last = 0;
		for (guint i = 0; i < self->items->len; i++) {
			AiqDesignerChartItem *it = g_ptr_array_index(self->items, i);
			max = MAX(max, it->values[0]);
			last = MAX(it->values[0], 0);
		}
		g_string_append_printf(
			str,
			_("Queue depth: at most %.0f, %.0f at the end of the period"),
			max,
			last);
	} else {
		g_string_append(str, _("Duration per workflow"));
		for (guint i = 0; i < self->items->len && i < 10; i++) {
			AiqDesignerChartItem *it = g_ptr_array_index(self->items, i);
			g_autofree gchar *p50 =
				aiq_designer_chart_format_value(self, it->values[0]);
			g_autofree gchar *p95 =
				aiq_designer_chart_format_value(self, it->values[1]);
			/* TRANSLATORS: a workflow's median and 95th percentile durations */
			g_string_append_printf(str, _("; %s: p50 %s, p95 %s"), it->label, p50, p95);
		}
	}
	if (self->items->len == 0) {
		g_string_append(str, ". ");
		g_string_append(str, _("No data"));
	}
	g_free(self->summary);
	self->summary = g_string_free(str, FALSE);
	gtk_accessible_update_property(GTK_ACCESSIBLE(self),
				       GTK_ACCESSIBLE_PROPERTY_LABEL,
				       self->summary,
				       -1);
}

/**
 * aiq_designer_chart_set_stats:
 * @stats: (nullable): the server's Stats
 *
 * Shows the part of @stats the chart's kind draws.
 */
void
aiq_designer_chart_set_stats(AiqDesignerChart *self, JsonObject *stats)
{
	JsonArray *array = NULL;
	gboolean daily = FALSE;
	guint n_series = 0;
	const AiqDesignerChartSeries *series;

	g_return_if_fail(AIQ_DESIGNER_IS_CHART(self));

	g_ptr_array_set_size(self->items, 0);
	series = aiq_designer_chart_get_series(self, &n_series);
	if (stats != NULL) {
		const gchar *member =
			self->kind == AIQ_DESIGNER_CHART_KIND_DURATIONS ? "workflows" : "buckets";
		JsonNode *node = json_object_get_member(stats, member);
		if (node != NULL && JSON_NODE_HOLDS_ARRAY(node))
			array = json_node_get_array(node);
		daily = g_strcmp0(json_object_get_string_member_with_default(stats, "bucket", ""),
				  "day") == 0;
	}
	for (guint i = 0; array != NULL && i < json_array_get_length(array); i++) {
		JsonNode *node = json_array_get_element(array, i);
		JsonObject *obj;
		AiqDesignerChartItem *item;

		if (!JSON_NODE_HOLDS_OBJECT(node))
			continue;
		obj = json_node_get_object(node);
		item = g_new0(AiqDesignerChartItem, 1);
		if (self->kind == AIQ_DESIGNER_CHART_KIND_DURATIONS) {
			item->label = g_strdup(
				json_object_get_string_member_with_default(obj, "name", ""));
		} else {
			aiq_designer_chart_bucket_labels(
				json_object_get_string_member_with_default(obj, "start", NULL),
				daily,
				&item->label,
				&item->tooltip_label);
		}
		for (guint j = 0; j < n_series; j++)
			item->values[j] = aiq_designer_chart_json_number(obj, series[j].member);
		g_ptr_array_add(self->items, item);
	}
	aiq_designer_chart_update_summary(self, daily);
	if (self->kind == AIQ_DESIGNER_CHART_KIND_DURATIONS)
		gtk_widget_queue_resize(GTK_WIDGET(self));
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

AiqDesignerChartKind
aiq_designer_chart_get_kind(AiqDesignerChart *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_CHART(self), AIQ_DESIGNER_CHART_KIND_EXECUTIONS);
	return self->kind;
}

/* drawing */

static void
aiq_designer_chart_get_fg(AiqDesignerChart *self, GdkRGBA *fg)
{
	G_GNUC_BEGIN_IGNORE_DEPRECATIONS
	gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(self)), fg);
	G_GNUC_END_IGNORE_DEPRECATIONS
}

/* a round maximum for the value axis: 1, 2, 5 × 10ⁿ */
static gdouble
aiq_designer_chart_nice_max(gdouble max)
{
	gdouble magnitude;
	if (max <= 0)
		return 1;
	magnitude = pow(10, floor(log10(max)));
	if (max <= magnitude)
		return magnitude;
	if (max <= 2 * magnitude)
		return 2 * magnitude;
	if (max <= 5 * magnitude)
		return 5 * magnitude;
	return 10 * magnitude;
}

static void
aiq_designer_chart_draw_text(AiqDesignerChart *self,
			     GtkSnapshot *snapshot,
			     const gchar *text,
			     gfloat x,
			     gfloat y,
			     gfloat xalign,
			     gfloat yalign,
			     const GdkRGBA *color)
{
	g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
	gint width = 0, height = 0;

	pango_layout_get_pixel_size(layout, &width, &height);
	gtk_snapshot_save(snapshot);
	gtk_snapshot_translate(snapshot,
			       &GRAPHENE_POINT_INIT(x - xalign * width, y - yalign * height));
	gtk_snapshot_append_layout(snapshot, layout, color);
	gtk_snapshot_restore(snapshot);
}

static gfloat
aiq_designer_chart_text_width(AiqDesignerChart *self, const gchar *text)
{
	g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
	gint width = 0;
	pango_layout_get_pixel_size(layout, &width, NULL);
	return width;
}

static void
aiq_designer_chart_draw_value_axis(AiqDesignerChart *self,
				   GtkSnapshot *snapshot,
				   const graphene_rect_t *plot,
				   gdouble max,
				   const GdkRGBA *fg)
{
	GdkRGBA grid = *fg;
	grid.alpha = 0.15f;
	for (guint i = 0; i <= 2; i++) {
		gfloat y = plot->origin.y + plot->size.height * (1 - i / 2.f);
		g_autofree gchar *label = aiq_designer_chart_format_value(self, max * i / 2);
		gtk_snapshot_append_color(
			snapshot,
			&grid,
			&GRAPHENE_RECT_INIT(plot->origin.x, y, plot->size.width, 1));
		aiq_designer_chart_draw_text(self,
					     snapshot,
					     label,
					     plot->origin.x - 6,
					     y,
					     1,
					     .5f,
					     fg);
	}
}

static void
aiq_designer_chart_draw_bucket_axis(AiqDesignerChart *self,
				    GtkSnapshot *snapshot,
				    const graphene_rect_t *plot,
				    const GdkRGBA *fg)
{
	gfloat slot = plot->size.width / self->items->len;
	guint every = MAX(1, (guint)ceil(self->items->len * 60.f / MAX(plot->size.width, 1)));

	for (guint i = 0; i < self->items->len; i += every) {
		AiqDesignerChartItem *it = g_ptr_array_index(self->items, i);
		aiq_designer_chart_draw_text(self,
					     snapshot,
					     it->label,
					     plot->origin.x + slot * (i + .5f),
					     plot->origin.y + plot->size.height + 4,
					     .5f,
					     0,
					     fg);
	}
}

static void
aiq_designer_chart_draw_legend(AiqDesignerChart *self,
			       GtkSnapshot *snapshot,
			       gfloat x,
			       gfloat y,
			       const GdkRGBA *fg)
{
	guint n_series = 0;
	const AiqDesignerChartSeries *series = aiq_designer_chart_get_series(self, &n_series);

	for (guint i = 0; i < n_series; i++) {
		const gchar *label = aiq_designer_chart_series_label(self, i);
		GdkRGBA color;
		gdk_rgba_parse(&color, series[i].color);
		gtk_snapshot_append_color(snapshot, &color, &GRAPHENE_RECT_INIT(x, y + 4, 10, 10));
		aiq_designer_chart_draw_text(self, snapshot, label, x + 14, y + 9, 0, .5f, fg);
		x += 14 + aiq_designer_chart_text_width(self, label) + 16;
	}
}

static void
aiq_designer_chart_snapshot_executions(AiqDesignerChart *self,
				       GtkSnapshot *snapshot,
				       gfloat width,
				       gfloat height,
				       const GdkRGBA *fg)
{
	graphene_rect_t plot;
	gdouble max = 0;
	gfloat slot;
	guint n_series = 0;
	const AiqDesignerChartSeries *series = aiq_designer_chart_get_series(self, &n_series);

	aiq_designer_chart_draw_legend(self, snapshot, AIQ_DESIGNER_CHART_AXIS_WIDTH, 0, fg);
	graphene_rect_init(&plot,
			   AIQ_DESIGNER_CHART_AXIS_WIDTH,
			   AIQ_DESIGNER_CHART_LEGEND_HEIGHT + AIQ_DESIGNER_CHART_PAD,
			   width - AIQ_DESIGNER_CHART_AXIS_WIDTH - AIQ_DESIGNER_CHART_PAD,
			   height - AIQ_DESIGNER_CHART_LEGEND_HEIGHT - AIQ_DESIGNER_CHART_PAD -
				   AIQ_DESIGNER_CHART_AXIS_HEIGHT);
	if (plot.size.width <= 0 || plot.size.height <= 0)
		return;
	for (guint i = 0; i < self->items->len; i++) {
		AiqDesignerChartItem *it = g_ptr_array_index(self->items, i);
		gdouble total = 0;
		for (guint j = 0; j < n_series; j++)
			total += MAX(it->values[j], 0);
		max = MAX(max, total);
	}
	max = aiq_designer_chart_nice_max(max);
	aiq_designer_chart_draw_value_axis(self, snapshot, &plot, max, fg);
	slot = plot.size.width / self->items->len;
	for (guint i = 0; i < self->items->len; i++) {
		AiqDesignerChartItem *it = g_ptr_array_index(self->items, i);
		gfloat bar_width = MAX(1, slot * .7f);
		gfloat x = plot.origin.x + slot * i + (slot - bar_width) / 2;
		gfloat y = plot.origin.y + plot.size.height;
		for (guint j = 0; j < n_series; j++) {
			gfloat h;
			GdkRGBA color;
			if (it->values[j] <= 0)
				continue;
			h = plot.size.height * it->values[j] / max;
			gdk_rgba_parse(&color, series[j].color);
			y -= h;
			gtk_snapshot_append_color(snapshot,
						  &color,
						  &GRAPHENE_RECT_INIT(x, y, bar_width, h));
		}
	}
	aiq_designer_chart_draw_bucket_axis(self, snapshot, &plot, fg);
}

static void
aiq_designer_chart_snapshot_queue(AiqDesignerChart *self,
				  GtkSnapshot *snapshot,
				  gfloat width,
				  gfloat height,
				  const GdkRGBA *fg)
{
	graphene_rect_t plot;
	gdouble max = 0;
	gfloat slot;
	cairo_t *cr;
	GdkRGBA color;

	graphene_rect_init(&plot,
			   AIQ_DESIGNER_CHART_AXIS_WIDTH,
			   AIQ_DESIGNER_CHART_PAD,
			   width - AIQ_DESIGNER_CHART_AXIS_WIDTH - AIQ_DESIGNER_CHART_PAD,
			   height - AIQ_DESIGNER_CHART_PAD - AIQ_DESIGNER_CHART_AXIS_HEIGHT);
	if (plot.size.width <= 0 || plot.size.height <= 0)
		return;
	for (guint i = 0; i < self->items->len; i++) {
		AiqDesignerChartItem *it = g_ptr_array_index(self->items, i);
		max = MAX(max, it->values[0]);
	}
	max = aiq_designer_chart_nice_max(max);
	aiq_designer_chart_draw_value_axis(self, snapshot, &plot, max, fg);
	slot = plot.size.width / self->items->len;

	gdk_rgba_parse(&color, aiq_designer_chart_queue_series[0].color);
	cr = gtk_snapshot_append_cairo(snapshot, &plot);
	for (guint i = 0; i < self->items->len; i++) {
		AiqDesignerChartItem *it = g_ptr_array_index(self->items, i);
		gdouble x = plot.origin.x + slot * (i + .5);
		gdouble y = plot.origin.y + plot.size.height * (1 - MAX(it->values[0], 0) / max);
		if (i == 0)
			cairo_move_to(cr, x, y);
		else
			cairo_line_to(cr, x, y);
	}
	cairo_set_line_width(cr, 2);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	gdk_cairo_set_source_rgba(cr, &color);
	cairo_stroke_preserve(cr);
	/* a light fill below the line */
	cairo_line_to(cr,
		      plot.origin.x + slot * (self->items->len - .5),
		      plot.origin.y + plot.size.height);
	cairo_line_to(cr, plot.origin.x + slot * .5, plot.origin.y + plot.size.height);
	cairo_close_path(cr);
	color.alpha = 0.2f;
	gdk_cairo_set_source_rgba(cr, &color);
	cairo_fill(cr);
	cairo_destroy(cr);
	aiq_designer_chart_draw_bucket_axis(self, snapshot, &plot, fg);
}

static void
aiq_designer_chart_snapshot_durations(AiqDesignerChart *self,
				      GtkSnapshot *snapshot,
				      gfloat width,
				      gfloat height,
				      const GdkRGBA *fg)
{
	gfloat label_width = MIN(200, width * .3f);
	gfloat bars_x = label_width + AIQ_DESIGNER_CHART_PAD;
	gfloat bars_width = width - bars_x - 80;
	gdouble max = 0;

	aiq_designer_chart_draw_legend(self, snapshot, bars_x, 0, fg);
	if (bars_width <= 0)
		return;
	for (guint i = 0; i < self->items->len; i++) {
		AiqDesignerChartItem *it = g_ptr_array_index(self->items, i);
		max = MAX(max, MAX(it->values[0], it->values[1]));
	}
	max = aiq_designer_chart_nice_max(max);
	for (guint i = 0; i < self->items->len; i++) {
		AiqDesignerChartItem *it = g_ptr_array_index(self->items, i);
		gfloat y = AIQ_DESIGNER_CHART_LEGEND_HEIGHT + i * AIQ_DESIGNER_CHART_ROW_HEIGHT;
		g_autofree gchar *p95 = aiq_designer_chart_format_value(self, it->values[1]);
		g_autoptr(PangoLayout) layout =
			gtk_widget_create_pango_layout(GTK_WIDGET(self), it->label);

		/* the name, ellipsized to its column */
		pango_layout_set_width(layout, (gint)(label_width * PANGO_SCALE));
		pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
		pango_layout_set_alignment(layout, PANGO_ALIGN_RIGHT);
		gtk_snapshot_save(snapshot);
		gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(0, y + 6));
		gtk_snapshot_append_layout(snapshot, layout, fg);
		gtk_snapshot_restore(snapshot);

		/* p95 as the full bar, p50 inside it */
		for (guint j = 2; j-- > 0;) {
			GdkRGBA color;
			gfloat w;
			if (it->values[j] < 0)
				continue;
			gdk_rgba_parse(&color, aiq_designer_chart_durations_series[j].color);
			w = MAX(1, bars_width * it->values[j] / max);
			gtk_snapshot_append_color(
				snapshot,
				&color,
				&GRAPHENE_RECT_INIT(bars_x,
						    y + 5 + (j == 0 ? 5 : 0),
						    w,
						    AIQ_DESIGNER_CHART_ROW_HEIGHT - 10 -
							    (j == 0 ? 10 : 0)));
		}
		aiq_designer_chart_draw_text(
			self,
			snapshot,
			p95,
			bars_x + MAX(0, bars_width * MAX(it->values[1], 0) / max) + 6,
			y + AIQ_DESIGNER_CHART_ROW_HEIGHT / 2,
			0,
			.5f,
			fg);
	}
}

static void
aiq_designer_chart_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
	AiqDesignerChart *self = AIQ_DESIGNER_CHART(widget);
	gfloat width = gtk_widget_get_width(widget);
	gfloat height = gtk_widget_get_height(widget);
	GdkRGBA fg;

	aiq_designer_chart_get_fg(self, &fg);
	if (self->items->len == 0) {
		GdkRGBA dim = fg;
		dim.alpha = 0.55f;
		aiq_designer_chart_draw_text(self,
					     snapshot,
					     _("No data for this period"),
					     width / 2,
					     height / 2,
					     .5f,
					     .5f,
					     &dim);
		return;
	}
	switch (self->kind) {
	case AIQ_DESIGNER_CHART_KIND_EXECUTIONS:
		aiq_designer_chart_snapshot_executions(self, snapshot, width, height, &fg);
		break;
	case AIQ_DESIGNER_CHART_KIND_QUEUE:
		aiq_designer_chart_snapshot_queue(self, snapshot, width, height, &fg);
		break;
	case AIQ_DESIGNER_CHART_KIND_DURATIONS:
	default:
		aiq_designer_chart_snapshot_durations(self, snapshot, width, height, &fg);
		break;
	}
}

/* the item under a point, or -1 */
static gint
aiq_designer_chart_item_at(AiqDesignerChart *self, gdouble x, gdouble y)
{
	gint width = gtk_widget_get_width(GTK_WIDGET(self));
	gdouble plot_width = width - AIQ_DESIGNER_CHART_AXIS_WIDTH - AIQ_DESIGNER_CHART_PAD;
	gint item;

	if (self->items->len == 0)
		return -1;
	if (self->kind == AIQ_DESIGNER_CHART_KIND_DURATIONS) {
		if (y < AIQ_DESIGNER_CHART_LEGEND_HEIGHT)
			return -1;
		item = (gint)((y - AIQ_DESIGNER_CHART_LEGEND_HEIGHT) /
			      AIQ_DESIGNER_CHART_ROW_HEIGHT);
	} else {
		if (x < AIQ_DESIGNER_CHART_AXIS_WIDTH || plot_width <= 0)
			return -1;
		item = (gint)((x - AIQ_DESIGNER_CHART_AXIS_WIDTH) /
			      (plot_width / self->items->len));
	}
	return item >= 0 && (guint)item < self->items->len ? item : -1;
}

static gboolean
aiq_designer_chart_query_tooltip(GtkWidget *widget,
				 gint x,
				 gint y,
				 gboolean keyboard,
				 GtkTooltip *tooltip)
{
	AiqDesignerChart *self = AIQ_DESIGNER_CHART(widget);
	g_autofree gchar *text = NULL;
	gint item;

	if (keyboard) {
		gtk_tooltip_set_text(tooltip, self->summary);
		return self->summary != NULL;
	}
	item = aiq_designer_chart_item_at(self, x, y);
	if (item < 0)
		return FALSE;
	text = aiq_designer_chart_dup_tooltip(self, item);
	gtk_tooltip_set_text(tooltip, text);
	return TRUE;
}

static void
aiq_designer_chart_measure(GtkWidget *widget,
			   GtkOrientation orientation,
			   gint for_size,
			   gint *minimum,
			   gint *natural,
			   gint *minimum_baseline,
			   gint *natural_baseline)
{
	AiqDesignerChart *self = AIQ_DESIGNER_CHART(widget);

	if (orientation == GTK_ORIENTATION_HORIZONTAL) {
		*minimum = 200;
		*natural = 600;
	} else if (self->kind == AIQ_DESIGNER_CHART_KIND_DURATIONS) {
		*minimum = *natural =
			(gint)(AIQ_DESIGNER_CHART_LEGEND_HEIGHT +
			       MAX(self->items->len, 2) * AIQ_DESIGNER_CHART_ROW_HEIGHT);
	} else {
		*minimum = 160;
		*natural = 220;
	}
}

static void
aiq_designer_chart_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	AiqDesignerChart *self = AIQ_DESIGNER_CHART(object);
	switch (prop_id) {
	case PROP_KIND:
		g_value_set_enum(value, self->kind);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_chart_set_property(GObject *object,
				guint prop_id,
				const GValue *value,
				GParamSpec *pspec)
{
	AiqDesignerChart *self = AIQ_DESIGNER_CHART(object);
	switch (prop_id) {
	case PROP_KIND:
		self->kind = g_value_get_enum(value);
		aiq_designer_chart_set_stats(self, NULL);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_chart_finalize(GObject *object)
{
	AiqDesignerChart *self = AIQ_DESIGNER_CHART(object);
	g_ptr_array_unref(self->items);
	g_free(self->summary);
	G_OBJECT_CLASS(aiq_designer_chart_parent_class)->finalize(object);
}

static void
aiq_designer_chart_class_init(AiqDesignerChartClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = aiq_designer_chart_get_property;
	object_class->set_property = aiq_designer_chart_set_property;
	object_class->finalize = aiq_designer_chart_finalize;
	widget_class->snapshot = aiq_designer_chart_snapshot;
	widget_class->measure = aiq_designer_chart_measure;
	widget_class->query_tooltip = aiq_designer_chart_query_tooltip;

	props[PROP_KIND] = g_param_spec_enum("kind",
					     NULL,
					     NULL,
					     AIQ_DESIGNER_TYPE_CHART_KIND,
					     AIQ_DESIGNER_CHART_KIND_EXECUTIONS,
					     G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
						     G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	gtk_widget_class_set_css_name(widget_class, "chart");
	gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
aiq_designer_chart_init(AiqDesignerChart *self)
{
	self->items = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_designer_chart_item_free);
	gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
}

GtkWidget *
aiq_designer_chart_new(AiqDesignerChartKind kind)
{
	return g_object_new(AIQ_DESIGNER_TYPE_CHART, "kind", kind, NULL);
}
