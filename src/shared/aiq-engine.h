/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

#include "aiq-circuit-breaker.h"
#include "aiq-config.h"
#include "aiq-definition.h"
#include "aiq-execution.h"
#include "aiq-journal.h"
#include "aiq-secrets.h"

G_BEGIN_DECLS

/**
 * AiqEngine:
 *
 * Runs workflow executions as DAGs on the GLib main context it was created
 * on: independent steps in parallel up to a limit, for_each fan-out,
 * retries with backoff and jitter, timeouts, per-target circuit breakers,
 * cancellation, sub-workflows. Every transition is an #AiqEvent appended to
 * the journal; a step with outside effects starts only once its
 * `step.started` is durable. After a crash, aiq_engine_resume() continues
 * every unfinished execution without running finished steps again.
 *
 * The engine knows nothing of HTTP or D-Bus; the agent and aiqctl drive it
 * and listen to its signals.
 */
#define AIQ_TYPE_ENGINE (aiq_engine_get_type())
G_DECLARE_FINAL_TYPE(AiqEngine, aiq_engine, AIQ, ENGINE, GObject)

/**
 * AiqWorkflowResolver:
 * @parent: the definition that calls the sub-workflow
 * @name: (nullable): the `name` parameter of the workflow step
 * @path: (nullable): the `path` parameter of the workflow step
 *
 * Finds the definition a `workflow` step calls.
 */
typedef AiqDefinition *(*AiqWorkflowResolver)(AiqEngine *engine,
					      AiqDefinition *parent,
					      const gchar *name,
					      const gchar *path,
					      gpointer user_data,
					      GError **error);

/**
 * AiqStartOptions:
 * @id: (nullable): the execution id; a new UUIDv7 when %NULL
 * @trigger: (nullable): what started it: manual (default), schedule, webhook, api, workflow
 * @parent_id: (nullable): the calling execution of a sub-workflow
 * @completed: (nullable): step id → output of steps already done in an
 *   earlier execution (retry from the failed step): they are recorded as
 *   succeeded with that output and not run
 */
typedef struct {
	const gchar *id;
	const gchar *trigger;
	const gchar *parent_id;
	JsonObject *completed;
	gint64 last_seq; /* events continue after this (a job leased again) */
} AiqStartOptions;

AiqEngine *
aiq_engine_new(AiqConfig *config, AiqJournal *journal);
AiqConfig *
aiq_engine_get_config(AiqEngine *self);
AiqJournal *
aiq_engine_get_journal(AiqEngine *self);
AiqCircuitBreaker *
aiq_engine_get_circuit_breaker(AiqEngine *self);
void
aiq_engine_set_secrets(AiqEngine *self, AiqSecrets *secrets);
AiqSecrets *
aiq_engine_get_secrets(AiqEngine *self);
void
aiq_engine_set_workflow_resolver(AiqEngine *self,
				 AiqWorkflowResolver func,
				 gpointer user_data,
				 GDestroyNotify destroy);
AiqDefinition *
aiq_engine_resolve_workflow(AiqEngine *self,
			    AiqDefinition *parent,
			    const gchar *name,
			    const gchar *path,
			    GError **error);

AiqExecution *
aiq_engine_start(AiqEngine *self,
		 AiqDefinition *definition,
		 JsonObject *inputs,
		 const AiqStartOptions *options,
		 GError **error);
guint
aiq_engine_resume(AiqEngine *self, GError **error);
gboolean
aiq_engine_cancel(AiqEngine *self, const gchar *execution_id, const gchar *reason);
AiqExecution *
aiq_engine_lookup(AiqEngine *self, const gchar *execution_id);
AiqExecution *
aiq_engine_load(AiqEngine *self, const gchar *execution_id, GError **error);
guint
aiq_engine_get_n_running(AiqEngine *self);
guint64
aiq_engine_get_n_events(AiqEngine *self);
void
aiq_engine_wait_async(AiqEngine *self,
		      const gchar *execution_id,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data);
AiqExecution *
aiq_engine_wait_finish(AiqEngine *self, GAsyncResult *res, GError **error);
gchar *
aiq_engine_child_id(const gchar *step_key);

G_END_DECLS
