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
 *
 * An expression ends at the first `}}` that is outside Lua string
 * literals (quoted or long brackets), long comments and table
 * constructors, so `${{ {a={b=1}} }}` and `${{ "}}" }}` work. A `${{`
 * without its `}}` is an error. There is no escape for a literal `${{`.
 */

/**
 * AiqTemplatePartKind:
 * @AIQ_TEMPLATE_PART_TEXT: literal text
 * @AIQ_TEMPLATE_PART_EXPRESSION: the Lua expression of one `${{ }}`
 */
typedef enum {
	AIQ_TEMPLATE_PART_TEXT,
	AIQ_TEMPLATE_PART_EXPRESSION,
} AiqTemplatePartKind;

/**
 * AiqTemplatePart:
 * @kind: text or expression
 * @text: the literal text, or the expression without `${{`, `}}` and the
 *   whitespace around it
 * @offset: where the part starts in the template, in bytes (for an
 *   expression, the offset of its `${{`)
 *
 * One piece of a template, as given by aiq_template_split().
 */
typedef struct {
	AiqTemplatePartKind kind;
	gchar *text;
	gsize offset;
} AiqTemplatePart;

void
aiq_template_part_free(AiqTemplatePart *part);
gchar *
aiq_template_node_to_text(JsonNode *node);
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqTemplatePart, aiq_template_part_free)

G_END_DECLS
