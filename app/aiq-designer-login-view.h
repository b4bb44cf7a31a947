/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_LOGIN_VIEW (aiq_designer_login_view_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerLoginView,
		     aiq_designer_login_view,
		     AIQ_DESIGNER,
		     LOGIN_VIEW,
		     AdwBin)

GtkWidget *
aiq_designer_login_view_new(AiqDesignerSession *session);
void
aiq_designer_login_view_fill(AiqDesignerLoginView *self,
			     const gchar *server_url,
			     const gchar *tenant,
			     const gchar *username,
			     const gchar *password);
void
aiq_designer_login_view_log_in(AiqDesignerLoginView *self);

G_END_DECLS
