/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_AGENTS_PAGE (aiq_designer_agents_page_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerAgentsPage,
		     aiq_designer_agents_page,
		     AIQ_DESIGNER,
		     AGENTS_PAGE,
		     AdwBin)

GtkWidget *
aiq_designer_agents_page_new(AiqDesignerSession *session);
void
aiq_designer_agents_page_reload(AiqDesignerAgentsPage *self);

G_END_DECLS
