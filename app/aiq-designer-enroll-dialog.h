/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_ENROLL_DIALOG (aiq_designer_enroll_dialog_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerEnrollDialog,
		     aiq_designer_enroll_dialog,
		     AIQ_DESIGNER,
		     ENROLL_DIALOG,
		     AdwWindow)

GtkWidget *
aiq_designer_enroll_dialog_new(GtkWidget *parent, AiqDesignerSession *session);
const gchar *
aiq_designer_enroll_dialog_get_command(AiqDesignerEnrollDialog *self);

G_END_DECLS
