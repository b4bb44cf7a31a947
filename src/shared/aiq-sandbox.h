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
 *   %FALSE when there is no such step
 * @user_data: for @lookup_step
 * @secrets: (nullable): for `secrets.NAME`
 * @needs_succeeded: what `success()` returns
 * @needs_failed: what `failure()` returns
 * @cancelled: what `cancelled()` returns
 *
 * What an expression can see. Values are converted to Lua lazily, on access.
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
#define AIQ_SANDBOX_DEFAULT_MEMORY	 (16 * 1024 * 1024)

/**
 * AiqSandbox:
 *
 * A Lua 5.4 state with no io, os, package, require, load, loadstring,
 * dofile, loadfile, debug or string.dump, an instruction limit and a memory
 * limit. Not thread-safe: use one per thread (aiq_sandbox_get_default()).
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
JsonNode *
aiq_sandbox_run_chunk(AiqSandbox *self,
		      const gchar *code,
		      const AiqExprScope *scope,
		      gint64 max_instructions,
		      gsize max_memory,
		      GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqSandbox, aiq_sandbox_free)

G_END_DECLS
