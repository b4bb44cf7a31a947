/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-problems.h"
#include "aiq-sandbox.h"

G_BEGIN_DECLS

/**
 * Templates are JSON values whose strings may hold `${{ expr }}`. A string
 * that is exactly one `${{ }}` keeps the value's type (number, table,
 * boolean); inside a longer string each one interpolates as text (tables as
 * compact JSON, nil as the empty string).
 */
gboolean
aiq_template_has_expressions(JsonNode *value);
gboolean
aiq_template_string_has_expressions(const gchar *str);
gchar *
aiq_template_get_single_expression(const gchar *str);
gboolean
aiq_template_split(const gchar *str, GPtrArray **parts, GError **error);
void
aiq_template_check(AiqSandbox *sandbox, JsonNode *value, const gchar *path, AiqProblems *problems);
JsonNode *
aiq_template_render(AiqSandbox *sandbox,
		    JsonNode *value,
		    const AiqExprScope *scope,
		    GError **error);
gboolean
aiq_template_uses_status_function(const gchar *str);

G_END_DECLS
