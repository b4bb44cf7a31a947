/* SPDX-License-Identifier: Apache-2.0 */
/* stub: being implemented */
#define G_LOG_DOMAIN "Aiq"
#include "config.h"
#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-step-run.h"

static const AiqParam aiq_email_params[] = { { NULL } };

static void
aiq_email_run(AiqStepRun *run)
{
	aiq_step_run_return_error(run, g_error_new_literal(AIQ_ERROR, AIQ_ERROR_FAILED, "not implemented"));
}

const AiqStepKind aiq_step_kind_email = {
    .name = "email",
    .title = "email",
    .description = "email",
    .icon_name = "system-run-symbolic",
    .params = aiq_email_params,
    .run = aiq_email_run,
};
