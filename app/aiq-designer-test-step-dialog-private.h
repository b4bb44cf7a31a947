/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * What the test step dialog shows, for the tests.
 */

#pragma once

#include "aiq-designer-test-step-dialog.h"

G_BEGIN_DECLS

const gchar *
aiq_designer_test_step_dialog_get_state(AiqDesignerTestStepDialog *self);
gchar *
aiq_designer_test_step_dialog_dup_output(AiqDesignerTestStepDialog *self);
gchar *
aiq_designer_test_step_dialog_dup_log(AiqDesignerTestStepDialog *self);
const gchar *
aiq_designer_test_step_dialog_get_status(AiqDesignerTestStepDialog *self);
const gchar *
aiq_designer_test_step_dialog_get_error(AiqDesignerTestStepDialog *self);

G_END_DECLS
