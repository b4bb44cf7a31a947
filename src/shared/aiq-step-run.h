/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "aiq-config.h"
#include "aiq-sandbox.h"
#include "aiq-secrets.h"
#include "aiq-step-kind.h"

G_BEGIN_DECLS

/**
 * AiqStepRun:
 *
 * One attempt of one step (or of one for_each item). The engine creates it
 * with the rendered, resolved parameters, and the step kind finishes it with
 * a value or an error. It can also run on its own, without an engine (the
 * agent's "test step" and the connector tests do that).
 */
#define AIQ_TYPE_STEP_RUN (aiq_step_run_get_type())
G_DECLARE_FINAL_TYPE(AiqStepRun, aiq_step_run, AIQ, STEP_RUN, GObject)

typedef void (*AiqStepRunDoneFunc)(AiqStepRun *run, gpointer user_data);
typedef void (*AiqStepRunLogFunc)(AiqStepRun *run, const gchar *line, gpointer user_data);

AiqStepRun *
aiq_step_run_new(const AiqStepKind *kind, JsonObject *params, AiqConfig *config);

/* set by whoever runs the attempt */
void
aiq_step_run_set_step_key(AiqStepRun *self, const gchar *step_key);
void
aiq_step_run_set_attempt(AiqStepRun *self, guint attempt);
void
aiq_step_run_set_timeout(AiqStepRun *self, gint64 timeout_ms);
void
aiq_step_run_set_secrets(AiqStepRun *self, AiqSecrets *secrets);
void
aiq_step_run_set_scope(AiqStepRun *self, AiqSandbox *sandbox, const AiqExprScope *scope);
void
aiq_step_run_set_engine(AiqStepRun *self, gpointer engine);
void
aiq_step_run_set_execution_id(AiqStepRun *self, const gchar *execution_id);
void
aiq_step_run_set_log_func(AiqStepRun *self,
			  AiqStepRunLogFunc func,
			  gpointer user_data,
			  GDestroyNotify destroy);
void
aiq_step_run_start(AiqStepRun *self,
		   GCancellable *cancellable,
		   AiqStepRunDoneFunc done,
		   gpointer user_data);
void
aiq_step_run_run_async(AiqStepRun *self,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);
JsonNode *
aiq_step_run_run_finish(AiqStepRun *self, GAsyncResult *res, GError **error);

void
aiq_step_run_abandon(AiqStepRun *self);

/* read by the step kind */
const AiqStepKind *
aiq_step_run_get_kind(AiqStepRun *self);
JsonObject *
aiq_step_run_get_params(AiqStepRun *self);
JsonNode *
aiq_step_run_get_param(AiqStepRun *self, const gchar *name);
const gchar *
aiq_step_run_get_string(AiqStepRun *self, const gchar *name);
gint64
aiq_step_run_get_int(AiqStepRun *self, const gchar *name);
gdouble
aiq_step_run_get_double(AiqStepRun *self, const gchar *name);
gboolean
aiq_step_run_get_bool(AiqStepRun *self, const gchar *name);
gint64
aiq_step_run_get_duration(AiqStepRun *self, const gchar *name);
gchar **
aiq_step_run_get_strv(AiqStepRun *self, const gchar *name);
JsonObject *
aiq_step_run_get_object(AiqStepRun *self, const gchar *name);
const gchar *
aiq_step_run_get_step_key(AiqStepRun *self);
const gchar *
aiq_step_run_get_execution_id(AiqStepRun *self);
guint
aiq_step_run_get_attempt(AiqStepRun *self);
gint64
aiq_step_run_get_timeout(AiqStepRun *self);
GCancellable *
aiq_step_run_get_cancellable(AiqStepRun *self);
AiqConfig *
aiq_step_run_get_config(AiqStepRun *self);
AiqSecrets *
aiq_step_run_get_secrets(AiqStepRun *self);
AiqSandbox *
aiq_step_run_get_sandbox(AiqStepRun *self);
const AiqExprScope *
aiq_step_run_get_scope(AiqStepRun *self);
gpointer
aiq_step_run_get_engine(AiqStepRun *self);
void
aiq_step_run_log(AiqStepRun *self, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

/* finish the attempt, exactly once; later calls are ignored */
void
aiq_step_run_return_value(AiqStepRun *self, JsonNode *output);
void
aiq_step_run_return_error(AiqStepRun *self, GError *error);
void
aiq_step_run_return_error_with_output(AiqStepRun *self, GError *error, JsonNode *output);

/* the result */
gboolean
aiq_step_run_is_finished(AiqStepRun *self);
JsonNode *
aiq_step_run_get_output(AiqStepRun *self);
const GError *
aiq_step_run_get_error(AiqStepRun *self);
const gchar *
aiq_step_run_get_log(AiqStepRun *self);
gint64
aiq_step_run_get_started(AiqStepRun *self);
gint64
aiq_step_run_get_finished(AiqStepRun *self);

G_END_DECLS
