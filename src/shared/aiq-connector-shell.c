/* SPDX-License-Identifier: Apache-2.0 */
/* stub: being implemented */
#define G_LOG_DOMAIN "Aiq"
#include "config.h"
#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-step-run.h"

static const AiqParam aiq_shell_params[] = { { NULL } };

static void
aiq_shell_run(AiqStepRun *run)
{
	aiq_step_run_return_error(run, g_error_new_literal(AIQ_ERROR, AIQ_ERROR_FAILED, "not implemented"));
}

const AiqStepKind aiq_step_kind_shell = {
    .name = "shell",
    .title = "shell",
    .description = "shell",
    .icon_name = "system-run-symbolic",
    .params = aiq_shell_params,
    .run = aiq_shell_run,
};
