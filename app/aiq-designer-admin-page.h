/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_ADMIN_PAGE (aiq_designer_admin_page_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerAdminPage,
		     aiq_designer_admin_page,
		     AIQ_DESIGNER,
		     ADMIN_PAGE,
		     AdwBin)

GtkWidget *
aiq_designer_admin_page_new(AiqDesignerSession *session);
void
aiq_designer_admin_page_reload(AiqDesignerAdminPage *self);

G_END_DECLS
