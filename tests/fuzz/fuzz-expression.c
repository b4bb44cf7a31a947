/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: the expression sandbox and templates. Any input must give a
 * value or an error within the limits, never a crash or an escape.
 */

#include "config.h"

#include <string.h>

#include "aiq-json.h"
#include "aiq-sandbox.h"
#include "aiq-template.h"

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

static gboolean
lookup_step(gpointer user_data, const gchar *id, JsonNode **output, const gchar **status)
{
	static JsonNode *node = NULL;
	if (node == NULL)
		node = aiq_json_parse("{\"status\":200,\"body\":{\"items\":[1,2,3]}}", 40, 8, NULL);
	*output = node;
	*status = "succeeded";
	return g_strcmp0(id, "fetch") == 0;
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
	AiqSandbox *sandbox = aiq_sandbox_get_default();
	g_autofree gchar *text = NULL;
	g_autoptr(JsonNode) inputs = aiq_json_parse("{\"n\":3,\"s\":\"x\"}", 15, 8, NULL);
	g_autoptr(JsonNode) value = NULL;
	g_autoptr(JsonNode) rendered = NULL;
	AiqExprScope scope = {
		.inputs = inputs,
		.index = -1,
		.lookup_step = lookup_step,
		.needs_succeeded = TRUE,
	};

	if (size > 4096 || memchr(data, '\0', size) != NULL)
		return 0;
	text = g_strndup((const gchar *)data, size);
	aiq_sandbox_set_limits(sandbox, 100000, 2 * 1024 * 1024);
	/* as an expression */
	if (aiq_sandbox_compile(sandbox, text, NULL)) {
		g_autoptr(JsonNode) result = aiq_sandbox_eval(sandbox, text, &scope, NULL);
		(void)result;
	}
	/* as a chunk */
	value = aiq_sandbox_run_chunk(sandbox, text, &scope, 100000, 2 * 1024 * 1024, NULL);
	/* as a template string */
	{
		g_autoptr(JsonNode) tmpl = aiq_json_new_string(text);
		rendered = aiq_template_render(sandbox, tmpl, &scope, NULL);
	}
	return 0;
}
