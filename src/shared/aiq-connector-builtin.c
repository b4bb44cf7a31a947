/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"
#include "aiq-connectors.h"
static const AiqParam aiq_stub_params[] = { { NULL } };
const AiqStepKind aiq_step_kind_transform = { .name = "transform", .params = aiq_stub_params };
const AiqStepKind aiq_step_kind_delay = { .name = "delay", .params = aiq_stub_params };
const AiqStepKind aiq_step_kind_script = { .name = "script", .params = aiq_stub_params };
