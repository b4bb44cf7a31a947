/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * AiqDesignerChartKind:
 * @AIQ_DESIGNER_CHART_KIND_EXECUTIONS: stacked bars of executions per bucket by status
 * @AIQ_DESIGNER_CHART_KIND_QUEUE: a line of the queue depth at the end of each bucket
 * @AIQ_DESIGNER_CHART_KIND_DURATIONS: horizontal bars of p50 and p95 duration per workflow
 */
typedef enum {
	AIQ_DESIGNER_CHART_KIND_EXECUTIONS,
	AIQ_DESIGNER_CHART_KIND_QUEUE,
	AIQ_DESIGNER_CHART_KIND_DURATIONS,
} AiqDesignerChartKind;

#define AIQ_DESIGNER_TYPE_CHART_KIND (aiq_designer_chart_kind_get_type())
GType
aiq_designer_chart_kind_get_type(void);

#define AIQ_DESIGNER_TYPE_CHART (aiq_designer_chart_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerChart, aiq_designer_chart, AIQ_DESIGNER, CHART, GtkWidget)

GtkWidget *
aiq_designer_chart_new(AiqDesignerChartKind kind);
AiqDesignerChartKind
aiq_designer_chart_get_kind(AiqDesignerChart *self);
void
aiq_designer_chart_set_stats(AiqDesignerChart *self, JsonObject *stats);

G_END_DECLS
