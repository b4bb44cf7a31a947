/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_WINDOW (aiq_designer_window_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerWindow,
		     aiq_designer_window,
		     AIQ_DESIGNER,
		     WINDOW,
		     AdwApplicationWindow)

AiqDesignerWindow *
aiq_designer_window_new(AdwApplication *application, AiqDesignerSession *session);
AiqDesignerSession *
aiq_designer_window_get_session(AiqDesignerWindow *self);
void
aiq_designer_window_show_page(AiqDesignerWindow *self, const gchar *name);
const gchar *
aiq_designer_window_get_visible_page(AiqDesignerWindow *self);
GtkWidget *
aiq_designer_window_get_page(AiqDesignerWindow *self, const gchar *name);
GtkWidget *
aiq_designer_window_get_login_view(AiqDesignerWindow *self);
void
aiq_designer_window_show_login(AiqDesignerWindow *self);

G_END_DECLS
