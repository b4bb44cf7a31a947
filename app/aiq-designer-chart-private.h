/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * What a chart shows, for the tests.
 */

#pragma once

#include "aiq-designer-chart.h"

G_BEGIN_DECLS

guint
aiq_designer_chart_get_n_items(AiqDesignerChart *self);
guint
aiq_designer_chart_get_n_series(AiqDesignerChart *self);
const gchar *
aiq_designer_chart_get_series_name(AiqDesignerChart *self, guint series);
const gchar *
aiq_designer_chart_get_item_label(AiqDesignerChart *self, guint item);
gdouble
aiq_designer_chart_get_value(AiqDesignerChart *self, guint item, guint series);
gchar *
aiq_designer_chart_dup_tooltip(AiqDesignerChart *self, guint item);
const gchar *
aiq_designer_chart_get_summary(AiqDesignerChart *self);

G_END_DECLS
