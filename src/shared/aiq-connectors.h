/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-step-kind.h"

G_BEGIN_DECLS

/* each built-in step kind, defined in its aiq-connector-*.c */
extern const AiqStepKind aiq_step_kind_http;
extern const AiqStepKind aiq_step_kind_sql;
extern const AiqStepKind aiq_step_kind_shell;
extern const AiqStepKind aiq_step_kind_file;
extern const AiqStepKind aiq_step_kind_email;
extern const AiqStepKind aiq_step_kind_transform;
extern const AiqStepKind aiq_step_kind_delay;
extern const AiqStepKind aiq_step_kind_script;
extern const AiqStepKind aiq_step_kind_workflow;

G_END_DECLS
