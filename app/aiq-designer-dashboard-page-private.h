/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * What the dashboard shows, for the tests.
 */

#pragma once

#include "aiq-designer-chart.h"
#include "aiq-designer-dashboard-page.h"

G_BEGIN_DECLS

JsonObject *
aiq_designer_dashboard_page_get_stats(AiqDesignerDashboardPage *self);
AiqDesignerChart *
aiq_designer_dashboard_page_get_chart(AiqDesignerDashboardPage *self, AiqDesignerChartKind kind);
guint
aiq_designer_dashboard_page_get_loads(AiqDesignerDashboardPage *self);

G_END_DECLS
