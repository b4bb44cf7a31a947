/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_APPLICATION (aiq_designer_application_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerApplication,
		     aiq_designer_application,
		     AIQ_DESIGNER,
		     APPLICATION,
		     AdwApplication)

AiqDesignerApplication *
aiq_designer_application_new(void);
AiqDesignerSession *
aiq_designer_application_get_session(AiqDesignerApplication *self);
void
aiq_designer_application_set_start_time(gint64 monotonic_us);

G_END_DECLS
