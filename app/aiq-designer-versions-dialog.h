/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-designer-session.h"

G_BEGIN_DECLS

/**
 * AiqDesignerVersionsDialog:
 *
 * The versions of a workflow: who saved each and when, what changed from
 * a selected version to the current one, and a way back to it (a new
 * version equal to the old one). Emits #AiqDesignerVersionsDialog::restored
 * after a rollback.
 */
#define AIQ_DESIGNER_TYPE_VERSIONS_DIALOG (aiq_designer_versions_dialog_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerVersionsDialog,
		     aiq_designer_versions_dialog,
		     AIQ_DESIGNER,
		     VERSIONS_DIALOG,
		     AdwWindow)

GtkWidget *
aiq_designer_versions_dialog_new(GtkWidget *parent,
				 AiqDesignerSession *session,
				 const gchar *workflow_id,
				 gint current_version);
guint
aiq_designer_versions_dialog_get_n_versions(AiqDesignerVersionsDialog *self);
gboolean
aiq_designer_versions_dialog_select_version(AiqDesignerVersionsDialog *self, gint version);
gchar *
aiq_designer_versions_dialog_dup_diff(AiqDesignerVersionsDialog *self);

G_END_DECLS
