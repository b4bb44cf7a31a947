/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

#include "aiq-secrets.h"

G_BEGIN_DECLS

/**
 * AiqExprScope:
 * @inputs: (nullable): the execution's inputs, an object
 * @item: (nullable): the current item inside for_each
 * @index: the current item's index (0-based) inside for_each, or -1
 * @execution: (nullable): object with id, attempt, step_key, trigger, workflow
 * @lookup_step: (nullable): returns the output and status of a step by id;
 *   %FALSE when there is no such step. Both out values are (transfer none)
 *   and must stay valid until the evaluation returns. Called at most once
 *   per step id and evaluation, only when the expression reads `steps.ID`,
 *   from inside the evaluation: it must not use the same sandbox.
 * @user_data: for @lookup_step
 * @secrets: (nullable): for `secrets.NAME`
 * @needs_succeeded: what `success()` returns
 * @needs_failed: what `failure()` returns
 * @cancelled: what `cancelled()` returns
 *
 * What an expression can see. Values are converted to Lua lazily, on access.
 *
 * In Lua: `inputs`, `item` and `execution` are the JSON values (objects and
 * arrays as tables, arrays 1-based, null as nil); `index` is the 0-based
 * @index (nil when @index is negative); `steps.ID` is `{ output = …,
 * status = "…" }` or nil; `secrets.NAME` is the secret's text or nil;
 * `success()`, `failure()`, `cancelled()` return @needs_succeeded,
 * @needs_failed and @cancelled, `always()` returns true.
 *
 * Values returned to C: nil is null; booleans; integers stay integers;
 * floats are doubles (NaN and infinities are an error); strings must be
 * valid UTF-8 without NUL; a table whose keys are exactly 1..n is an array;
 * a table whose keys are all strings is an object (members sorted by key);
 * an empty table is an empty array if it came from a JSON array, else an
 * empty object; a JSON array that came in may have holes, which become
 * null; any other table is an error, as are functions, userdata and tables
 * nested deeper than 64 levels or containing themselves. A JSON value that
 * came in and was not modified is returned as the same node (a new
 * reference). Integer keys are never turned into strings.
 */
typedef struct {
	JsonNode *inputs;
	JsonNode *item;
	gint64 index;
	JsonNode *execution;
	gboolean (*lookup_step)(gpointer user_data,
				const gchar *id,
				JsonNode **output,
				const gchar **status);
	gpointer user_data;
	AiqSecrets *secrets;
	gboolean needs_succeeded;
	gboolean needs_failed;
	gboolean cancelled;
} AiqExprScope;

#define AIQ_SANDBOX_DEFAULT_INSTRUCTIONS 1000000
#define AIQ_SANDBOX_DEFAULT_MEMORY (16 * 1024 * 1024)

/**
 * AiqSandbox:
 *
 * A Lua 5.4 state with no io, os, package, require, load, loadstring,
 * dofile, loadfile, debug or string.dump, an instruction limit and a memory
 * limit. Not thread-safe: use one per thread (aiq_sandbox_get_default()).
 *
 * Each evaluation starts with fresh globals and its own budget: the
 * instruction limit (pattern matching and some table functions count
 * their work in C against it), the memory limit (growth of the state during
 * the evaluation), and a time limit of 2 µs per allowed instruction, at
 * least 2 s, for instructions that cost far more than others. Compiled code
 * is kept per sandbox (1024 entries, least recently used dropped).
 */
typedef struct _AiqSandbox AiqSandbox;

AiqSandbox *
aiq_sandbox_new(void);
void
aiq_sandbox_free(AiqSandbox *self);
AiqSandbox *
aiq_sandbox_get_default(void);
void
aiq_sandbox_set_limits(AiqSandbox *self, gint64 max_instructions, gsize max_memory);
gboolean
aiq_sandbox_compile(AiqSandbox *self, const gchar *expr, GError **error);
gboolean
aiq_sandbox_compile_chunk(AiqSandbox *self, const gchar *code, GError **error);
JsonNode *
aiq_sandbox_eval(AiqSandbox *self, const gchar *expr, const AiqExprScope *scope, GError **error);
gboolean
aiq_sandbox_eval_boolean(AiqSandbox *self,
			 const gchar *expr,
			 const AiqExprScope *scope,
			 gboolean *result,
			 GError **error);
JsonNode *
aiq_sandbox_run_chunk(AiqSandbox *self,
		      const gchar *code,
		      const AiqExprScope *scope,
		      gint64 max_instructions,
		      gsize max_memory,
		      GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqSandbox, aiq_sandbox_free)

G_END_DECLS
