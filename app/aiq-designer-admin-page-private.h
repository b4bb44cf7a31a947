/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The administration page's dialogs, for the tests.
 */

#pragma once

#include "aiq-designer-admin-page.h"

G_BEGIN_DECLS

GtkWidget *
aiq_designer_admin_page_get_dialog(AiqDesignerAdminPage *self);
guint
aiq_designer_admin_page_get_loads(AiqDesignerAdminPage *self);

G_END_DECLS
