/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-template.h"

/* templates nested deeper than this are not walked */
#define AIQ_TEMPLATE_MAX_DEPTH 128

#define AIQ_TEMPLATE_OPEN "${{"

/* scanning Lua text */

/* @p is at `[`: the level of a long bracket `[==[`, or -1 */
static gint
aiq_lua_long_bracket_level(const gchar *p)
{
	gint level = 0;
	if (*p != '[')
		return -1;
	p++;
	while (*p == '=') {
		level++;
		p++;
	}
	return *p == '[' ? level : -1;
}

/* @p is at the opening `[`: returns the end of `]==]`, or %NULL */
static const gchar *
aiq_lua_skip_long(const gchar *p, gint level)
{
	p += level + 2;
	for (; *p != '\0'; p++) {
		const gchar *q = p + 1;
		gint n = 0;
		if (*p != ']')
			continue;
		while (*q == '=') {
			n++;
			q++;
		}
		if (n == level && *q == ']')
			return q + 1;
	}
	return NULL;
}

/*
 * @p is at a quote: returns the end of the string literal, the newline
 * that ends an unfinished one (Lua reports it), or %NULL at the end of
 * the text.
 */
static const gchar *
aiq_lua_skip_quoted(const gchar *p)
{
	gchar quote = *p++;
	while (*p != '\0') {
		if (*p == '\\') {
			p++;
			if (*p == '\0')
				return NULL;
			if (*p == 'z') {
				p++;
				while (g_ascii_isspace(*p))
					p++;
				continue;
			}
		} else if (*p == quote) {
			return p + 1;
		} else if (*p == '\n') {
			return p;
		}
		p++;
	}
	return NULL;
}

/*
 * @p is just after `${{`: finds the `}}` that ends the expression, outside
 * string literals, long comments and table constructors. A line comment
 * does not hide the `}}`. Returns what follows it, or %NULL.
 */
static const gchar *
aiq_template_scan_expression(const gchar *p, const gchar **expr_end)
{
	guint depth = 0;

	while (*p != '\0') {
		gint level;
		if (*p == '"' || *p == '\'') {
			p = aiq_lua_skip_quoted(p);
			if (p == NULL)
				return NULL;
			continue;
		}
		if ((level = aiq_lua_long_bracket_level(p)) >= 0) {
			p = aiq_lua_skip_long(p, level);
			if (p == NULL)
				return NULL;
			continue;
		}
		if (p[0] == '-' && p[1] == '-') {
			p += 2;
			if ((level = aiq_lua_long_bracket_level(p)) >= 0) {
				p = aiq_lua_skip_long(p, level);
				if (p == NULL)
					return NULL;
				continue;
			}
			while (*p != '\0' && *p != '\n') {
				if (depth == 0 && p[0] == '}' && p[1] == '}')
					break;
				p++;
			}
			continue;
		}
		if (*p == '{') {
			depth++;
		} else if (*p == '}') {
			if (depth == 0 && p[1] == '}') {
				*expr_end = p;
				return p + 2;
			}
			if (depth > 0)
				depth--;
		}
		p++;
	}
	return NULL;
}

void
aiq_template_part_free(AiqTemplatePart *part)
{
	if (part == NULL)
		return;
	g_free(part->text);
	g_free(part);
}

static void
aiq_template_add_part(GPtrArray *parts,
		      AiqTemplatePartKind kind,
		      const gchar *start,
		      gsize len,
		      gsize offset)
{
	AiqTemplatePart *part = g_new0(AiqTemplatePart, 1);
	part->kind = kind;
	part->text = g_strndup(start, len);
	part->offset = offset;
	if (kind == AIQ_TEMPLATE_PART_EXPRESSION)
		g_strstrip(part->text);
	g_ptr_array_add(parts, part);
}

/**
 * aiq_template_split:
 * @str: a template string
 * @parts: (out) (element-type AiqTemplatePart) (transfer full): the pieces
 *   of @str in order, text and expressions; none for an empty string
 *
 * Returns: %FALSE with %AIQ_ERROR_EXPRESSION when a `${{` is not closed
 */
gboolean
aiq_template_split(const gchar *str, GPtrArray **parts, GError **error)
{
	g_autoptr(GPtrArray) result = NULL;
	const gchar *text = str;
	const gchar *open;

	g_return_val_if_fail(str != NULL, FALSE);
	g_return_val_if_fail(parts != NULL, FALSE);

	result = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_template_part_free);
	while ((open = strstr(text, AIQ_TEMPLATE_OPEN)) != NULL) {
		const gchar *body = open + strlen(AIQ_TEMPLATE_OPEN);
		const gchar *body_end = NULL;
		const gchar *next = aiq_template_scan_expression(body, &body_end);
		if (next == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_EXPRESSION,
				    _("“${{” at character %ld has no matching “}}”"),
				    g_utf8_pointer_to_offset(str, open) + 1);
			return FALSE;
		}
		if (open > text)
			aiq_template_add_part(result,
					      AIQ_TEMPLATE_PART_TEXT,
					      text,
					      (gsize)(open - text),
					      (gsize)(text - str));
		aiq_template_add_part(result,
				      AIQ_TEMPLATE_PART_EXPRESSION,
				      body,
				      (gsize)(body_end - body),
				      (gsize)(open - str));
		text = next;
	}
	if (*text != '\0')
		aiq_template_add_part(result,
				      AIQ_TEMPLATE_PART_TEXT,
				      text,
				      strlen(text),
				      (gsize)(text - str));
	*parts = g_steal_pointer(&result);
	return TRUE;
}

/**
 * aiq_template_get_single_expression:
 *
 * Returns: (transfer full) (nullable): the expression when @str, apart
 * from whitespace around it, is exactly one `${{ }}`
 */
gchar *
aiq_template_get_single_expression(const gchar *str)
{
	const gchar *p = str;
	const gchar *body;
	const gchar *body_end = NULL;
	const gchar *end;

	if (str == NULL)
		return NULL;
	while (g_ascii_isspace(*p))
		p++;
	if (!g_str_has_prefix(p, AIQ_TEMPLATE_OPEN))
		return NULL;
	body = p + strlen(AIQ_TEMPLATE_OPEN);
	end = aiq_template_scan_expression(body, &body_end);
	if (end == NULL)
		return NULL;
	while (g_ascii_isspace(*end))
		end++;
	if (*end != '\0')
		return NULL;
	return g_strstrip(g_strndup(body, (gsize)(body_end - body)));
}

gboolean
aiq_template_string_has_expressions(const gchar *str)
{
	return str != NULL && strstr(str, AIQ_TEMPLATE_OPEN) != NULL;
}

static gboolean
aiq_template_node_has_expressions(JsonNode *node, guint depth)
{
	if (node == NULL || depth > AIQ_TEMPLATE_MAX_DEPTH)
		return FALSE;
	if (aiq_json_is_string(node))
		return aiq_template_string_has_expressions(json_node_get_string(node));
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			if (aiq_template_node_has_expressions(json_array_get_element(array, i),
							      depth + 1))
				return TRUE;
		}
	} else if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *member;
		json_object_iter_init(&iter, json_node_get_object(node));
		while (json_object_iter_next(&iter, &name, &member)) {
			if (aiq_template_node_has_expressions(member, depth + 1))
				return TRUE;
		}
	}
	return FALSE;
}

/**
 * aiq_template_has_expressions:
 *
 * Returns: %TRUE when a string anywhere in @value (object keys aside)
 * holds `${{`
 */
gboolean
aiq_template_has_expressions(JsonNode *value)
{
	return aiq_template_node_has_expressions(value, 0);
}

/* text */

static void
aiq_template_append_double(GString *out, gdouble value)
{
	/* the shortest form that reads back as the same number */
	static const gchar *formats[] = { "%.15g", "%.16g", "%.17g" };
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (!isfinite(value)) {
		g_string_append(out, "null");
		return;
	}
	for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
		g_ascii_formatd(buf, sizeof(buf), formats[i], value);
		if (g_ascii_strtod(buf, NULL) == value)
			break;
	}
	g_string_append(out, buf);
}

static void
aiq_template_append_json_string(GString *out, const gchar *str)
{
	g_string_append_c(out, '"');
	for (const guchar *p = (const guchar *)str; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\b':
			g_string_append(out, "\\b");
			break;
		case '\f':
			g_string_append(out, "\\f");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (*p < 0x20)
				g_string_append_printf(out, "\\u%04x", (guint)*p);
			else
				g_string_append_c(out, (gchar)*p);
			break;
		}
	}
	g_string_append_c(out, '"');
}

/* compact JSON, numbers in their shortest form */
static void
aiq_template_append_json(GString *out, JsonNode *node)
{
	switch (JSON_NODE_TYPE(node)) {
	case JSON_NODE_OBJECT: {
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *member;
		gboolean first = TRUE;
		g_string_append_c(out, '{');
		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &name, &member)) {
			if (!first)
				g_string_append_c(out, ',');
			first = FALSE;
			aiq_template_append_json_string(out, name);
			g_string_append_c(out, ':');
			aiq_template_append_json(out, member);
		}
		g_string_append_c(out, '}');
		break;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *array = json_node_get_array(node);
		g_string_append_c(out, '[');
		for (guint i = 0; i < json_array_get_length(array); i++) {
			if (i > 0)
				g_string_append_c(out, ',');
			aiq_template_append_json(out, json_array_get_element(array, i));
		}
		g_string_append_c(out, ']');
		break;
	}
	case JSON_NODE_VALUE:
		switch (json_node_get_value_type(node)) {
		case G_TYPE_STRING:
			aiq_template_append_json_string(out, json_node_get_string(node));
			return;
		case G_TYPE_INT64:
			g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
			return;
		case G_TYPE_DOUBLE:
			aiq_template_append_double(out, json_node_get_double(node));
			return;
		case G_TYPE_BOOLEAN:
			g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
			return;
		default:
			break;
		}
		g_string_append(out, "null");
		break;
	case JSON_NODE_NULL:
	default:
		g_string_append(out, "null");
		break;
	}
}

static void
aiq_template_append_text(GString *out, JsonNode *node)
{
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return;
	if (aiq_json_is_string(node))
		g_string_append(out, json_node_get_string(node));
	else
		aiq_template_append_json(out, node);
}

/**
 * aiq_template_node_to_text:
 *
 * Returns: (transfer full): @node as it reads inside a longer string:
 * strings as they are, numbers in their shortest form (`2`, `0.1`),
 * `true` and `false`, the empty string for null, and compact JSON for
 * objects and arrays
 */
gchar *
aiq_template_node_to_text(JsonNode *node)
{
	GString *out = g_string_new(NULL);
	aiq_template_append_text(out, node);
	return g_string_free(out, FALSE);
}

/* rendering */

typedef struct {
	const gchar *member; /* %NULL for an array index */
	guint index;
} AiqTemplateSegment;

typedef struct {
	AiqSandbox *sandbox;
	const AiqExprScope *scope;
	guint depth;
	AiqTemplateSegment path[AIQ_TEMPLATE_MAX_DEPTH];
} AiqTemplateRender;

/* `headers.Authorization: expression: …` */
static void
aiq_template_prefix_error(AiqTemplateRender *ctx, GError **error)
{
	g_autofree gchar *path = g_strdup("");
	for (guint i = 0; i < ctx->depth; i++) {
		gchar *next = ctx->path[i].member != NULL
				      ? aiq_path_member(path, ctx->path[i].member)
				      : aiq_path_index(path, ctx->path[i].index);
		g_free(path);
		path = next;
	}
	if (path[0] != '\0')
		g_prefix_error(error, "%s: ", path);
}

static JsonNode *
aiq_template_render_string(AiqTemplateRender *ctx, JsonNode *node, GError **error)
{
	const gchar *str = json_node_get_string(node);
	g_autofree gchar *single = NULL;
	g_autoptr(GPtrArray) parts = NULL;
	g_autoptr(GString) out = NULL;

	if (!aiq_template_string_has_expressions(str))
		return json_node_ref(node);

	/* one expression: the value keeps its type */
	single = aiq_template_get_single_expression(str);
	if (single != NULL) {
		JsonNode *result = aiq_sandbox_eval(ctx->sandbox, single, ctx->scope, error);
		if (result == NULL)
			aiq_template_prefix_error(ctx, error);
		return result;
	}

	if (!aiq_template_split(str, &parts, error)) {
		aiq_template_prefix_error(ctx, error);
		return NULL;
	}
	out = g_string_sized_new(strlen(str));
	for (guint i = 0; i < parts->len; i++) {
		AiqTemplatePart *part = g_ptr_array_index(parts, i);
		g_autoptr(JsonNode) value = NULL;
		if (part->kind == AIQ_TEMPLATE_PART_TEXT) {
			g_string_append(out, part->text);
			continue;
		}
		value = aiq_sandbox_eval(ctx->sandbox, part->text, ctx->scope, error);
		if (value == NULL) {
			aiq_template_prefix_error(ctx, error);
			return NULL;
		}
		aiq_template_append_text(out, value);
	}
	return aiq_json_new_string(out->str);
}

static JsonNode *
aiq_template_render_node(AiqTemplateRender *ctx, JsonNode *node, GError **error);

static JsonNode *
aiq_template_render_array(AiqTemplateRender *ctx, JsonNode *node, GError **error)
{
	JsonArray *array = json_node_get_array(node);
	guint len = json_array_get_length(array);
	JsonArray *copy = NULL;

	for (guint i = 0; i < len; i++) {
		JsonNode *elem = json_array_get_element(array, i);
		JsonNode *rendered;
		ctx->path[ctx->depth].member = NULL;
		ctx->path[ctx->depth].index = i;
		ctx->depth++;
		rendered = aiq_template_render_node(ctx, elem, error);
		ctx->depth--;
		if (rendered == NULL) {
			g_clear_pointer(&copy, json_array_unref);
			return NULL;
		}
		/* copy only when something changed */
		if (copy == NULL && rendered != elem) {
			copy = json_array_sized_new(len);
			for (guint j = 0; j < i; j++)
				json_array_add_element(
					copy,
					json_node_ref(json_array_get_element(array, j)));
		}
		if (copy != NULL)
			json_array_add_element(copy, rendered);
		else
			json_node_unref(rendered);
	}
	return copy != NULL ? aiq_json_new_array(copy) : json_node_ref(node);
}

static JsonNode *
aiq_template_render_object(AiqTemplateRender *ctx, JsonNode *node, GError **error)
{
	JsonObject *object = json_node_get_object(node);
	JsonObject *copy = NULL;
	JsonObjectIter iter;
	const gchar *name;
	JsonNode *member;
	guint i = 0;

	json_object_iter_init_ordered(&iter, object);
	while (json_object_iter_next_ordered(&iter, &name, &member)) {
		JsonNode *rendered;
		ctx->path[ctx->depth].member = name;
		ctx->depth++;
		rendered = aiq_template_render_node(ctx, member, error);
		ctx->depth--;
		if (rendered == NULL) {
			g_clear_pointer(&copy, json_object_unref);
			return NULL;
		}
		if (copy == NULL && rendered != member) {
			JsonObjectIter prev;
			const gchar *prev_name;
			JsonNode *prev_member;
			copy = json_object_new();
			json_object_iter_init_ordered(&prev, object);
			for (guint j = 0; j < i; j++) {
				if (!json_object_iter_next_ordered(&prev, &prev_name, &prev_member))
					break;
				json_object_set_member(copy, prev_name, json_node_ref(prev_member));
			}
		}
		if (copy != NULL)
			json_object_set_member(copy, name, rendered);
		else
			json_node_unref(rendered);
		i++;
	}
	return copy != NULL ? aiq_json_new_object(copy) : json_node_ref(node);
}

static JsonNode *
aiq_template_render_node(AiqTemplateRender *ctx, JsonNode *node, GError **error)
{
	if (ctx->depth >= AIQ_TEMPLATE_MAX_DEPTH) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("nested deeper than %u levels"),
			    (guint)AIQ_TEMPLATE_MAX_DEPTH);
		return NULL;
	}
	if (aiq_json_is_string(node))
		return aiq_template_render_string(ctx, node, error);
	if (JSON_NODE_HOLDS_ARRAY(node))
		return aiq_template_render_array(ctx, node, error);
	if (JSON_NODE_HOLDS_OBJECT(node))
		return aiq_template_render_object(ctx, node, error);
	return json_node_ref(node);
}

/**
 * aiq_template_render:
 * @sandbox: (nullable): the sandbox, or %NULL for the thread's default
 * @value: a template
 * @scope: (nullable): what the expressions can see
 *
 * Renders every string of @value; object keys are left alone. Parts of
 * @value without expressions are shared with it, not copied. An error
 * message starts with the path inside @value, e.g. `headers.Authorization:
 * expression: …`.
 *
 * Returns: (transfer full): the rendered value, or %NULL with an error
 */
JsonNode *
aiq_template_render(AiqSandbox *sandbox, JsonNode *value, const AiqExprScope *scope, GError **error)
{
	AiqTemplateRender ctx = {
		.sandbox = sandbox != NULL ? sandbox : aiq_sandbox_get_default(),
		.scope = scope,
	};
	g_return_val_if_fail(value != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	return aiq_template_render_node(&ctx, value, error);
}

/* checking */

static void
aiq_template_check_string(AiqSandbox *sandbox,
			  const gchar *str,
			  const gchar *path,
			  AiqProblems *problems)
{
	g_autoptr(GPtrArray) parts = NULL;
	g_autoptr(GError) error_local = NULL;

	if (!aiq_template_string_has_expressions(str))
		return;
	if (!aiq_template_split(str, &parts, &error_local)) {
		aiq_problems_add_error(problems, path, error_local);
		return;
	}
	for (guint i = 0; i < parts->len; i++) {
		AiqTemplatePart *part = g_ptr_array_index(parts, i);
		g_autoptr(GError) error_compile = NULL;
		if (part->kind != AIQ_TEMPLATE_PART_EXPRESSION)
			continue;
		if (!aiq_sandbox_compile(sandbox, part->text, &error_compile))
			aiq_problems_add_error(problems, path, error_compile);
	}
}

static void
aiq_template_check_node(AiqSandbox *sandbox,
			JsonNode *node,
			const gchar *path,
			AiqProblems *problems,
			guint depth)
{
	if (depth > AIQ_TEMPLATE_MAX_DEPTH) {
		aiq_problems_add(problems,
				 path,
				 _("nested deeper than %u levels"),
				 (guint)AIQ_TEMPLATE_MAX_DEPTH);
		return;
	}
	if (aiq_json_is_string(node)) {
		aiq_template_check_string(sandbox, json_node_get_string(node), path, problems);
	} else if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *elem = json_array_get_element(array, i);
			g_autofree gchar *child = NULL;
			if (!aiq_template_node_has_expressions(elem, 0))
				continue;
			child = aiq_path_index(path, i);
			aiq_template_check_node(sandbox, elem, child, problems, depth + 1);
		}
	} else if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *member;
		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &name, &member)) {
			g_autofree gchar *child = NULL;
			if (!aiq_template_node_has_expressions(member, 0))
				continue;
			child = aiq_path_member(path, name);
			aiq_template_check_node(sandbox, member, child, problems, depth + 1);
		}
	}
}

/**
 * aiq_template_check:
 * @sandbox: (nullable): the sandbox, or %NULL for the thread's default
 * @value: a template
 * @path: (nullable): where @value is, e.g. `steps[1].with`
 * @problems: where to add a problem for each `${{` that is not closed and
 *   each expression that does not compile, at its path (`steps[1].with.url`)
 */
void
aiq_template_check(AiqSandbox *sandbox, JsonNode *value, const gchar *path, AiqProblems *problems)
{
	g_return_if_fail(value != NULL);
	g_return_if_fail(problems != NULL);
	aiq_template_check_node(sandbox != NULL ? sandbox : aiq_sandbox_get_default(),
				value,
				path != NULL ? path : "",
				problems,
				0);
}

/* status functions */

static gboolean
aiq_template_is_status_function(const gchar *word, gsize len)
{
	static const gchar *names[] = { "success", "failure", "always", "cancelled" };
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if (strlen(names[i]) == len && memcmp(word, names[i], len) == 0)
			return TRUE;
	}
	return FALSE;
}

/* a call of a status function outside strings, comments and field access */
static gboolean
aiq_template_code_uses_status_function(const gchar *code)
{
	const gchar *p = code;
	gchar prev = '\0';  /* the last character that is not a space */
	gchar prev2 = '\0'; /* the one before it */

	while (p != NULL && *p != '\0') {
		gint level;
		if (*p == '"' || *p == '\'') {
			p = aiq_lua_skip_quoted(p);
			prev2 = prev;
			prev = '"';
			continue;
		}
		if ((level = aiq_lua_long_bracket_level(p)) >= 0) {
			p = aiq_lua_skip_long(p, level);
			prev2 = prev;
			prev = ']';
			continue;
		}
		if (p[0] == '-' && p[1] == '-') {
			p += 2;
			if ((level = aiq_lua_long_bracket_level(p)) >= 0) {
				p = aiq_lua_skip_long(p, level);
				continue;
			}
			while (*p != '\0' && *p != '\n')
				p++;
			continue;
		}
		if (g_ascii_isalpha(*p) || *p == '_') {
			const gchar *word = p;
			/* `t.success()` and `t:success()` are not ours; `"x"..success()` is */
			gboolean field = (prev == '.' && prev2 != '.') || prev == ':';
			while (g_ascii_isalnum(*p) || *p == '_')
				p++;
			if (!field && aiq_template_is_status_function(word, (gsize)(p - word))) {
				const gchar *q = p;
				while (g_ascii_isspace(*q))
					q++;
				if (*q == '(')
					return TRUE;
			}
			prev2 = prev;
			prev = 'a';
			continue;
		}
		if (g_ascii_isdigit(*p)) {
			/* numbers such as 1e5 or 0xff: not identifiers */
			while (g_ascii_isalnum(*p) || *p == '.')
				p++;
			prev2 = prev;
			prev = '0';
			continue;
		}
		if (!g_ascii_isspace(*p)) {
			prev2 = prev;
			prev = *p;
		}
		p++;
	}
	return FALSE;
}

/**
 * aiq_template_uses_status_function:
 * @str: (nullable): an `if:` condition, either with `${{ }}` or a bare
 *   expression
 *
 * Returns: %TRUE when the condition calls success(), failure(), always()
 * or cancelled(), so that the engine knows it decides for itself whether
 * to run after a failure
 */
gboolean
aiq_template_uses_status_function(const gchar *str)
{
	g_autoptr(GPtrArray) parts = NULL;

	if (str == NULL)
		return FALSE;
	if (!aiq_template_string_has_expressions(str) || !aiq_template_split(str, &parts, NULL))
		return aiq_template_code_uses_status_function(str);
	for (guint i = 0; i < parts->len; i++) {
		AiqTemplatePart *part = g_ptr_array_index(parts, i);
		if (part->kind == AIQ_TEMPLATE_PART_EXPRESSION &&
		    aiq_template_code_uses_status_function(part->text))
			return TRUE;
	}
	return FALSE;
}
