/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"
#include "aiq-connectors.h"
static const AiqParam aiq_stub_params[] = { { NULL } };
const AiqStepKind aiq_step_kind_workflow = { .name = "workflow", .params = aiq_stub_params };
