/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_DASHBOARD_PAGE (aiq_designer_dashboard_page_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerDashboardPage,
		     aiq_designer_dashboard_page,
		     AIQ_DESIGNER,
		     DASHBOARD_PAGE,
		     AdwBin)

GtkWidget *
aiq_designer_dashboard_page_new(AiqDesignerSession *session);
void
aiq_designer_dashboard_page_reload(AiqDesignerDashboardPage *self);

G_END_DECLS
