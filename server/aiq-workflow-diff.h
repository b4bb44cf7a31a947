/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

JsonArray *
aiq_workflow_diff_compute(JsonNode *from, JsonNode *to);

G_END_DECLS
