/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AIQ_DESIGNER_TYPE_TEST_STEP_DIALOG (aiq_designer_test_step_dialog_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerTestStepDialog,
		     aiq_designer_test_step_dialog,
		     AIQ_DESIGNER,
		     TEST_STEP_DIALOG,
		     AdwWindow)

GtkWidget *
aiq_designer_test_step_dialog_new(GtkWidget *parent, JsonObject *step, JsonObject *inputs);

G_END_DECLS
