/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_RUN_DIALOG (aiq_designer_run_dialog_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerRunDialog,
		     aiq_designer_run_dialog,
		     AIQ_DESIGNER,
		     RUN_DIALOG,
		     AdwWindow)

GtkWidget *
aiq_designer_run_dialog_new(GtkWidget *parent,
			    AiqDesignerSession *session,
			    const gchar *workflow_id,
			    JsonNode *definition,
			    JsonObject *initial_inputs,
			    const gchar *rerun_of);
GtkWidget *
aiq_designer_run_dialog_get_field(AiqDesignerRunDialog *self, const gchar *name);
const gchar *
aiq_designer_run_dialog_get_field_error(AiqDesignerRunDialog *self, const gchar *name);
JsonObject *
aiq_designer_run_dialog_collect_inputs(AiqDesignerRunDialog *self);
const gchar *
aiq_designer_run_dialog_get_error(AiqDesignerRunDialog *self);

G_END_DECLS
