/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "aiq-engine.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-sandbox.h"
#include "aiq-step-run.h"
#include "aiq-template.h"
#include "aiq-connectors.h"
#include "aiq-util.h"

/*
 * How the engine works
 *
 * Each execution has an AiqRun: how many unfinished dependencies each step
 * waits for, a queue of steps that are ready, and an AiqStepRuntime for each
 * running step. A running step has one AiqUnit, or one per for_each item; a
 * unit is one chain of attempts (retries included) and runs an AiqStepRun
 * per attempt.
 *
 * Nothing recurses: when an attempt finishes (maybe synchronously, inside
 * aiq_step_run_start()) its unit is queued, and one dispatcher on the main
 * context handles finished units and schedules ready steps, a bounded amount
 * per main loop iteration.
 *
 * Every state change is an AiqEvent, applied to the AiqExecution record and
 * appended to the journal by the same function (aiq_run_emit()), so the state
 * replayed from the journal after a crash is exactly the state the engine
 * had. Steps whose kind has outside effects wait until their step.started
 * is durable before the attempt starts; pure kinds (transform, delay, script)
 * run ahead of the journal, since running them again is harmless.
 */

#define AIQ_ENGINE_DISPATCH_BUDGET 512

typedef struct _AiqRun AiqRun;
typedef struct _AiqStepRuntime AiqStepRuntime;
typedef struct _AiqUnit AiqUnit;

struct _AiqUnit {
	AiqStepRuntime *srt;
	gint item;           /* -1 when not for_each */
	guint attempt;       /* the attempt running or last run, 1-based */
	AiqStepRun *run;     /* the current attempt */
	GError *early_error; /* the attempt failed before it could run */
	gint64 early_started;
	GSource *retry_source;
	gchar *step_key;
	gchar *circuit_key;
	AiqExprScope scope;
	JsonNode *item_node;
	JsonNode *execution_node;
	gint64 output_size; /* of the last attempt's output */
	gboolean queued;    /* in the engine's finished queue */
	gboolean waiting;   /* waiting for the journal */
	gboolean started;   /* an attempt is running */
};

struct _AiqStepRuntime {
	AiqRun *run;
	guint idx;
	gchar *step_key;
	guint64 start_lsn;
	JsonArray *items; /* for_each */
	AiqUnit **units;
	guint n_units;
	guint next_unit;
	guint active_units;
	guint done_units;
	guint failed_units;
	guint concurrency;
	gchar *first_error_code;
	gchar *first_error_message;
	gint64 last_attempt_started;
};

struct _AiqRun {
	AiqEngine *engine;
	AiqExecution *exec;
	AiqDefinition *def;
	guint n_steps;
	guint *waiting;
	GQueue ready;
	AiqStepRuntime **rt;
	guint running;
	guint n_final;
	gboolean dirty;
	gboolean finishing;
	gboolean cancelling;
	AiqExecutionStatus cancel_status;
	gchar *cancel_reason;
	GCancellable *cancellable;
	GSource *timeout_source;
	JsonNode *inputs_node;
	GList *waiters; /* of GTask */
};

struct _AiqEngine {
	GObject parent_instance;
	AiqConfig *config;
	AiqJournal *journal;
	AiqSecrets *secrets;
	AiqCircuitBreaker *breaker;
	AiqSandbox *sandbox;
	GMainContext *context;
	GHashTable *runs; /* id -> AiqRun */
	GQueue finished_units;
	GQueue dirty_runs;
	GSource *dispatch_source;
	AiqWorkflowResolver resolver;
	gpointer resolver_data;
	GDestroyNotify resolver_destroy;
	guint64 n_events;
};

enum {
	SIGNAL_EXECUTION_STARTED,
	SIGNAL_EXECUTION_FINISHED,
	SIGNAL_STEP_STARTED,
	SIGNAL_STEP_FINISHED,
	SIGNAL_STEP_LOG,
	SIGNAL_EVENT,
	SIGNAL_LAST
};

static guint signals[SIGNAL_LAST] = { 0 };

G_DEFINE_TYPE(AiqEngine, aiq_engine, G_TYPE_OBJECT)

static void
aiq_run_mark_dirty(AiqRun *run);
static void
aiq_unit_start_attempt(AiqUnit *unit);
static void
aiq_run_finish_step(AiqRun *run,
		    guint idx,
		    AiqStepStatus status,
		    JsonNode *output,
		    const gchar *error_code,
		    const gchar *error_message,
		    AiqUnit *unit);

/* events */

static AiqEvent *
aiq_run_event_new(AiqRun *run, AiqEventType type, const AiqStep *step)
{
	AiqEvent *event = aiq_event_new(type,
					aiq_execution_get_id(run->exec),
					aiq_execution_get_last_seq(run->exec) + 1);
	if (step != NULL)
		event->step_id = g_strdup(step->id);
	return event;
}

/* applies the event to the record, journals it and tells listeners */
static guint64
aiq_run_emit(AiqRun *run, AiqEvent *event)
{
	AiqEngine *self = run->engine;
	g_autoptr(GError) error_local = NULL;
	guint64 lsn = 0;

	if (!aiq_execution_apply_event(run->exec, event, &error_local))
		g_critical("engine produced an event it cannot apply: %s", error_local->message);
	if (self->journal != NULL)
		lsn = aiq_journal_append(self->journal, event);
	self->n_events++;
	if (g_signal_has_handler_pending(self, signals[SIGNAL_EVENT], 0, TRUE))
		g_signal_emit(self, signals[SIGNAL_EVENT], 0, event);
	aiq_event_unref(event);
	return lsn;
}

static JsonNode *
aiq_error_to_json(const gchar *code, const gchar *message)
{
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "code", code != NULL ? code : "failed");
	json_object_set_string_member(obj, "message", message != NULL ? message : "");
	return aiq_json_new_object(obj);
}

static void
aiq_data_set_time(JsonObject *data, const gchar *member, gint64 us)
{
	g_autofree gchar *str = aiq_time_to_iso8601(us);
	json_object_set_string_member(data, member, str);
}

/* expression scope */

static gboolean
aiq_run_lookup_step(gpointer user_data, const gchar *id, JsonNode **output, const gchar **status)
{
	AiqRun *run = user_data;
	AiqStepState *state = aiq_execution_find_step_state(run->exec, id);
	if (state == NULL)
		return FALSE;
	*output = state->output;
	*status = aiq_step_status_to_string(state->status);
	return TRUE;
}

static gboolean
aiq_step_dep_satisfied(AiqRun *run, guint dep)
{
	AiqStepState *state = aiq_execution_get_step_state(run->exec, dep);
	const AiqStep *step = aiq_definition_get_step(run->def, dep);
	return state->status == AIQ_STEP_STATUS_SUCCEEDED ||
	       (state->status == AIQ_STEP_STATUS_FAILED && step->continue_on_error);
}

static JsonNode *
aiq_run_execution_node(AiqRun *run, const gchar *step_key, guint attempt)
{
	JsonObject *obj = json_object_new();
	const gchar *trigger = aiq_execution_get_trigger(run->exec);
	json_object_set_string_member(obj, "id", aiq_execution_get_id(run->exec));
	json_object_set_string_member(obj, "workflow", aiq_definition_get_name(run->def));
	json_object_set_string_member(obj, "trigger", trigger != NULL ? trigger : "manual");
	if (step_key != NULL)
		json_object_set_string_member(obj, "step_key", step_key);
	if (attempt > 0)
		json_object_set_int_member(obj, "attempt", attempt);
	return aiq_json_new_object(obj);
}

static void
aiq_run_init_scope(AiqRun *run, const AiqStep *step, AiqExprScope *scope)
{
	memset(scope, 0, sizeof(*scope));
	scope->inputs = run->inputs_node;
	scope->index = -1;
	scope->lookup_step = aiq_run_lookup_step;
	scope->user_data = run;
	scope->secrets = run->engine->secrets;
	scope->cancelled = run->cancelling;
	scope->needs_succeeded = TRUE;
	if (step != NULL) {
		for (guint i = 0; i < step->n_deps; i++) {
			AiqStepState *state =
				aiq_execution_get_step_state(run->exec, step->deps[i]);
			if (!aiq_step_dep_satisfied(run, step->deps[i]))
				scope->needs_succeeded = FALSE;
			if (state->status == AIQ_STEP_STATUS_FAILED)
				scope->needs_failed = TRUE;
		}
	}
}

/* units */

static void
aiq_unit_durable_cb(gpointer user_data);

static void
aiq_unit_free(AiqUnit *unit)
{
	AiqEngine *self = unit->srt->run->engine;
	if (unit->retry_source != NULL) {
		g_source_destroy(unit->retry_source);
		g_source_unref(unit->retry_source);
	}
	if (unit->waiting && self->journal != NULL)
		aiq_journal_cancel_wait(self->journal, aiq_unit_durable_cb, unit);
	if (unit->queued)
		g_queue_remove(&self->finished_units, unit);
	if (unit->run != NULL)
		aiq_step_run_abandon(unit->run);
	g_clear_object(&unit->run);
	g_clear_error(&unit->early_error);
	g_free(unit->step_key);
	g_free(unit->circuit_key);
	if (unit->item_node != NULL)
		json_node_unref(unit->item_node);
	if (unit->execution_node != NULL)
		json_node_unref(unit->execution_node);
	g_free(unit);
}

static void
aiq_step_runtime_free(AiqStepRuntime *srt)
{
	for (guint i = 0; i < srt->n_units; i++) {
		if (srt->units[i] != NULL)
			aiq_unit_free(srt->units[i]);
	}
	g_free(srt->units);
	if (srt->items != NULL)
		json_array_unref(srt->items);
	g_free(srt->step_key);
	g_free(srt->first_error_code);
	g_free(srt->first_error_message);
	g_free(srt);
}

static gboolean
aiq_engine_dispatch_cb(gpointer user_data);

static void
aiq_engine_ensure_dispatch(AiqEngine *self)
{
	if (self->dispatch_source != NULL)
		return;
	self->dispatch_source = g_idle_source_new();
	g_source_set_priority(self->dispatch_source, G_PRIORITY_DEFAULT);
	g_source_set_callback(self->dispatch_source, aiq_engine_dispatch_cb, self, NULL);
	g_source_set_static_name(self->dispatch_source, "[aiq] engine dispatch");
	g_source_attach(self->dispatch_source, self->context);
}

static void
aiq_run_mark_dirty(AiqRun *run)
{
	if (run->dirty)
		return;
	run->dirty = TRUE;
	g_queue_push_tail(&run->engine->dirty_runs, run);
	aiq_engine_ensure_dispatch(run->engine);
}

static void
aiq_unit_queue_finished(AiqUnit *unit)
{
	AiqEngine *self = unit->srt->run->engine;
	g_assert(!unit->queued);
	unit->queued = TRUE;
	unit->started = FALSE;
	g_queue_push_tail(&self->finished_units, unit);
	aiq_engine_ensure_dispatch(self);
}

static void
aiq_unit_run_done_cb(AiqStepRun *run, gpointer user_data)
{
	aiq_unit_queue_finished(user_data);
}

static void
aiq_unit_log_cb(AiqStepRun *run, const gchar *line, gpointer user_data)
{
	AiqUnit *unit = user_data;
	AiqRun *r = unit->srt->run;
	const AiqStep *step = aiq_definition_get_step(r->def, unit->srt->idx);
	g_signal_emit(r->engine, signals[SIGNAL_STEP_LOG], 0, r->exec, step->id, line);
}

/* fails the attempt without running it, e.g. when rendering fails */
static void
aiq_unit_fail_now(AiqUnit *unit, GError *error)
{
	g_clear_object(&unit->run);
	g_clear_error(&unit->early_error);
	unit->early_error = error;
	unit->early_started = g_get_real_time();
	aiq_unit_queue_finished(unit);
}

static void
aiq_unit_durable_cb(gpointer user_data)
{
	AiqUnit *unit = user_data;
	AiqRun *r = unit->srt->run;
	unit->waiting = FALSE;
	if (r->cancelling) {
		aiq_unit_fail_now(unit,
				  g_error_new_literal(AIQ_ERROR,
						      AIQ_ERROR_CANCELLED,
						      r->cancel_reason != NULL ? r->cancel_reason
									       : _("cancelled")));
		return;
	}
	unit->started = TRUE;
	aiq_step_run_start(unit->run, r->cancellable, aiq_unit_run_done_cb, unit);
}

/* renders `with`, except raw parameters, which are taken as written */
static JsonObject *
aiq_unit_render_with(AiqUnit *unit, const AiqStep *step, GError **error)
{
	AiqEngine *self = unit->srt->run->engine;
	JsonObject *with = json_node_get_object(step->with);
	g_autoptr(JsonObject) rendered = NULL;
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *value;

	if (!step->with_has_expressions)
		return json_object_ref(with);
	rendered = json_object_new();
	json_object_iter_init_ordered(&iter, with);
	while (json_object_iter_next_ordered(&iter, &key, &value)) {
		const AiqParam *param = aiq_step_kind_find_param(step->kind, key);
		g_autoptr(GError) error_local = NULL;
		JsonNode *node;
		if (param != NULL && (param->flags & AIQ_PARAM_FLAG_RAW)) {
			json_object_set_member(rendered, key, json_node_ref(value));
			continue;
		}
		node = aiq_template_render(self->sandbox, value, &unit->scope, &error_local);
		if (node == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    error_local->code == AIQ_ERROR_LIMIT_EXCEEDED
					    ? AIQ_ERROR_LIMIT_EXCEEDED
					    : AIQ_ERROR_EXPRESSION,
				    "with.%s: %s",
				    key,
				    error_local->message);
			return NULL;
		}
		json_object_set_member(rendered, key, node);
	}
	return g_steal_pointer(&rendered);
}

static void
aiq_unit_start_attempt(AiqUnit *unit)
{
	AiqStepRuntime *srt = unit->srt;
	AiqRun *r = srt->run;
	AiqEngine *self = r->engine;
	const AiqStep *step = aiq_definition_get_step(r->def, srt->idx);
	g_autoptr(JsonObject) rendered = NULL;
	g_autoptr(JsonObject) params = NULL;
	g_autoptr(GError) error_local = NULL;

	unit->attempt++;
	g_clear_object(&unit->run);
	g_clear_error(&unit->early_error);
	if (r->cancelling) {
		aiq_unit_fail_now(unit,
				  g_error_new_literal(AIQ_ERROR,
						      AIQ_ERROR_CANCELLED,
						      r->cancel_reason != NULL ? r->cancel_reason
									       : _("cancelled")));
		return;
	}

	/* the scope: what expressions of this attempt can see */
	aiq_run_init_scope(r, step, &unit->scope);
	unit->scope.item = unit->item_node;
	unit->scope.index = unit->item;
	if (step->with_has_expressions || step->kind == &aiq_step_kind_script ||
	    step->kind == &aiq_step_kind_workflow) {
		if (unit->execution_node != NULL)
			json_node_unref(unit->execution_node);
		unit->execution_node = aiq_run_execution_node(r, unit->step_key, unit->attempt);
		unit->scope.execution = unit->execution_node;
	}

	aiq_sandbox_set_limits(self->sandbox,
			       aiq_config_get_expression_instructions(self->config),
			       aiq_config_get_expression_memory(self->config));
	rendered = aiq_unit_render_with(unit, step, &error_local);
	if (rendered == NULL) {
		aiq_unit_fail_now(unit, g_steal_pointer(&error_local));
		return;
	}
	params = aiq_step_kind_resolve_params(step->kind, rendered, &error_local);
	if (params == NULL) {
		aiq_unit_fail_now(unit, g_steal_pointer(&error_local));
		return;
	}

	unit->run = aiq_step_run_new(step->kind, params, self->config);
	aiq_step_run_set_step_key(unit->run, unit->step_key);
	aiq_step_run_set_execution_id(unit->run, aiq_execution_get_id(r->exec));
	aiq_step_run_set_attempt(unit->run, unit->attempt);
	aiq_step_run_set_timeout(unit->run, step->timeout_ms);
	aiq_step_run_set_secrets(unit->run, self->secrets);
	aiq_step_run_set_scope(unit->run, self->sandbox, &unit->scope);
	aiq_step_run_set_engine(unit->run, self);
	if (g_signal_has_handler_pending(self, signals[SIGNAL_STEP_LOG], 0, TRUE))
		aiq_step_run_set_log_func(unit->run, aiq_unit_log_cb, unit, NULL);

	/* fail fast while the target's circuit is open */
	g_clear_pointer(&unit->circuit_key, g_free);
	if (step->kind->get_circuit_key != NULL)
		unit->circuit_key = step->kind->get_circuit_key(unit->run);
	if (unit->circuit_key != NULL &&
	    !aiq_circuit_breaker_allow(self->breaker, unit->circuit_key, &error_local)) {
		g_clear_pointer(&unit->circuit_key, g_free);
		aiq_unit_fail_now(unit, g_steal_pointer(&error_local));
		return;
	}

	if ((!aiq_step_kind_is_pure(step->kind) || aiq_config_get_durability_all(self->config)) &&
	    self->journal != NULL && srt->start_lsn > 0) {
		/* outside effects wait for step.started to be on disk */
		unit->waiting = TRUE;
		aiq_journal_wait_durable(self->journal, srt->start_lsn, aiq_unit_durable_cb, unit);
		return;
	}
	unit->started = TRUE;
	aiq_step_run_start(unit->run, r->cancellable, aiq_unit_run_done_cb, unit);
}

static gboolean
aiq_unit_retry_cb(gpointer user_data)
{
	AiqUnit *unit = user_data;
	g_clear_pointer(&unit->retry_source, g_source_unref);
	aiq_unit_start_attempt(unit);
	return G_SOURCE_REMOVE;
}

static gboolean
aiq_error_is_retryable(const GError *error)
{
	if (error->domain != AIQ_ERROR)
		return TRUE;
	switch (error->code) {
	case AIQ_ERROR_CANCELLED:
	case AIQ_ERROR_INVALID_ARGUMENT:
	case AIQ_ERROR_INVALID_DOCUMENT:
	case AIQ_ERROR_INVALID_DEFINITION:
	case AIQ_ERROR_INVALID_INPUT:
	case AIQ_ERROR_EXPRESSION:
	case AIQ_ERROR_LIMIT_EXCEEDED:
	case AIQ_ERROR_KIND_DISABLED:
	case AIQ_ERROR_PERMISSION_DENIED:
	case AIQ_ERROR_NOT_FOUND:
	case AIQ_ERROR_TOO_LARGE:
	case AIQ_ERROR_CONFIG:
		return FALSE;
	default:
		return TRUE;
	}
}

/* the failures that count against a target's circuit */
static gboolean
aiq_error_counts_for_circuit(const GError *error)
{
	return error->domain == AIQ_ERROR &&
	       (error->code == AIQ_ERROR_CONNECTION || error->code == AIQ_ERROR_TIMED_OUT ||
		error->code == AIQ_ERROR_STEP_FAILED || error->code == AIQ_ERROR_FAILED);
}

static gint64
aiq_retry_delay_ms(const AiqRetry *retry, guint attempt)
{
	gdouble delay = (gdouble)retry->initial_ms;
	if (retry->backoff == AIQ_BACKOFF_EXPONENTIAL)
		delay = retry->initial_ms * pow(2.0, (gdouble)MIN(attempt - 1, 40));
	delay = MIN(delay, (gdouble)MAX(retry->max_ms, retry->initial_ms));
	/* jitter spreads retries of many executions over time */
	delay *= 1.0 - retry->jitter * g_random_double();
	return (gint64)MAX(delay, 0.0);
}

static AiqStepStatus
aiq_run_failure_status(AiqRun *r, const GError *error)
{
	if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_CANCELLED) && r->cancelling)
		return AIQ_STEP_STATUS_CANCELLED;
	return AIQ_STEP_STATUS_FAILED;
}

static const gchar *
aiq_attempt_status_for_error(const GError *error)
{
	if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_TIMED_OUT))
		return "timed_out";
	if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_CANCELLED))
		return "cancelled";
	return "failed";
}

static void
aiq_step_runtime_start_units(AiqStepRuntime *srt)
{
	while (srt->next_unit < srt->n_units && srt->active_units < srt->concurrency) {
		AiqUnit *unit = srt->units[srt->next_unit++];
		if (unit == NULL)
			continue; /* finished before a restart */
		srt->active_units++;
		aiq_unit_start_attempt(unit);
	}
}

static void
aiq_engine_process_unit(AiqEngine *self, AiqUnit *unit)
{
	AiqStepRuntime *srt = unit->srt;
	AiqRun *r = srt->run;
	const AiqStep *step = aiq_definition_get_step(r->def, srt->idx);
	const GError *run_error =
		unit->run != NULL ? aiq_step_run_get_error(unit->run) : unit->early_error;
	g_autoptr(GError) error = run_error != NULL ? g_error_copy(run_error) : NULL;
	g_autoptr(JsonNode) output = NULL;
	JsonNode *raw_output = unit->run != NULL ? aiq_step_run_get_output(unit->run) : NULL;
	gint64 output_size = 0;
	gint64 started =
		unit->run != NULL ? aiq_step_run_get_started(unit->run) : unit->early_started;
	JsonObject *data;
	AiqEvent *event;

	unit->queued = FALSE;
	if (unit->circuit_key != NULL)
		aiq_circuit_breaker_record(self->breaker,
					   unit->circuit_key,
					   error == NULL || !aiq_error_counts_for_circuit(error));

	if (raw_output != NULL) {
		output = aiq_secrets_mask_node(self->secrets, raw_output);
		output_size = (gint64)aiq_json_get_serialized_size(output);
		if ((gsize)output_size > aiq_config_get_output_cap(self->config)) {
			g_autofree gchar *size = g_format_size((guint64)output_size);
			g_autofree gchar *cap =
				g_format_size(aiq_config_get_output_cap(self->config));
			g_clear_pointer(&output, json_node_unref);
			if (error == NULL)
				error = g_error_new(AIQ_ERROR,
						    AIQ_ERROR_TOO_LARGE,
						    _("the output is %s, over the %s cap"),
						    size,
						    cap);
		}
	}

	if (error != NULL && aiq_error_is_retryable(error) && !r->cancelling &&
	    unit->attempt < step->retry.max_attempts) {
		gint64 delay = aiq_retry_delay_ms(&step->retry, unit->attempt);
		event = aiq_run_event_new(r, AIQ_EVENT_ATTEMPT_FINISHED, step);
		event->item = unit->item;
		event->attempt = unit->attempt;
		event->status = g_strdup(aiq_attempt_status_for_error(error));
		data = json_object_new();
		aiq_data_set_time(data, "started", started);
		json_object_set_member(
			data,
			"error",
			aiq_error_to_json(aiq_error_code_to_string(error->code), error->message));
		json_object_set_int_member(data, "output_size", output_size);
		json_object_set_int_member(data, "retry_in_ms", delay);
		event->data = aiq_json_new_object(data);
		aiq_run_emit(r, event);
		unit->retry_source = g_timeout_source_new((guint)delay);
		g_source_set_callback(unit->retry_source, aiq_unit_retry_cb, unit, NULL);
		g_source_attach(unit->retry_source, self->context);
		return;
	}

	srt->last_attempt_started = started;
	unit->output_size = output_size;
	if (srt->items == NULL) {
		AiqStepStatus status = error == NULL ? AIQ_STEP_STATUS_SUCCEEDED
						     : aiq_run_failure_status(r, error);
		aiq_run_finish_step(r,
				    srt->idx,
				    status,
				    output,
				    error != NULL ? aiq_error_code_to_string(error->code) : NULL,
				    error != NULL ? error->message : NULL,
				    unit);
		return;
	}

	/* one for_each item is final */
	event = aiq_run_event_new(r, AIQ_EVENT_ITEM_FINISHED, step);
	event->item = unit->item;
	event->attempt = unit->attempt;
	event->status = g_strdup(error == NULL ? "succeeded" : aiq_attempt_status_for_error(error));
	data = json_object_new();
	aiq_data_set_time(data, "started", started);
	json_object_set_int_member(data, "output_size", output_size);
	if (output != NULL)
		json_object_set_member(data, "output", json_node_ref(output));
	if (error != NULL)
		json_object_set_member(
			data,
			"error",
			aiq_error_to_json(aiq_error_code_to_string(error->code), error->message));
	event->data = aiq_json_new_object(data);
	aiq_run_emit(r, event);
	if (error != NULL) {
		srt->failed_units++;
		if (srt->first_error_message == NULL) {
			srt->first_error_code = g_strdup(aiq_error_code_to_string(error->code));
			srt->first_error_message =
				g_strdup_printf(_("item %d: %s"), unit->item, error->message);
		}
	}
	srt->units[unit->item] = NULL;
	aiq_unit_free(unit);
	srt->active_units--;
	srt->done_units++;
	if (srt->done_units < srt->n_units) {
		aiq_step_runtime_start_units(srt);
		return;
	}

	/* every item is final: the step's output is the items' outputs in order */
	{
		AiqStepState *state = aiq_execution_get_step_state(r->exec, srt->idx);
		JsonArray *outputs = json_array_sized_new(srt->n_units);
		g_autoptr(JsonNode) step_output = NULL;
		g_autofree gchar *message = NULL;
		guint failed = 0;
		for (guint i = 0; i < srt->n_units; i++) {
			JsonNode *node = g_ptr_array_index(state->items, i);
			json_array_add_element(outputs,
					       node != NULL ? json_node_ref(node)
							    : json_node_new(JSON_NODE_NULL));
			if (g_array_index(state->item_done, guint8, i) != 1)
				failed++;
		}
		step_output = aiq_json_new_array(outputs);
		if (failed == 0) {
			aiq_run_finish_step(r,
					    srt->idx,
					    AIQ_STEP_STATUS_SUCCEEDED,
					    step_output,
					    NULL,
					    NULL,
					    NULL);
			return;
		}
		message = g_strdup_printf(_("%u of %u items failed; first: %s"),
					  failed,
					  srt->n_units,
					  srt->first_error_message != NULL
						  ? srt->first_error_message
						  : _("failed before a restart"));
		aiq_run_finish_step(
			r,
			srt->idx,
			r->cancelling ? AIQ_STEP_STATUS_CANCELLED : AIQ_STEP_STATUS_FAILED,
			step_output,
			srt->first_error_code != NULL ? srt->first_error_code : "step_failed",
			message,
			NULL);
	}
}

/* steps */

static void
aiq_run_step_final(AiqRun *r, guint idx)
{
	const AiqStep *step = aiq_definition_get_step(r->def, idx);
	r->n_final++;
	for (guint i = 0; i < step->n_dependents; i++) {
		guint dep = step->dependents[i];
		g_assert(r->waiting[dep] > 0);
		if (--r->waiting[dep] == 0)
			g_queue_push_tail(&r->ready, GUINT_TO_POINTER(dep));
	}
	aiq_run_mark_dirty(r);
}

static void
aiq_run_finish_step(AiqRun *r,
		    guint idx,
		    AiqStepStatus status,
		    JsonNode *output,
		    const gchar *error_code,
		    const gchar *error_message,
		    AiqUnit *unit)
{
	AiqEngine *self = r->engine;
	const AiqStep *step = aiq_definition_get_step(r->def, idx);
	AiqStepRuntime *srt = r->rt[idx];
	AiqEvent *event = aiq_run_event_new(r, AIQ_EVENT_STEP_FINISHED, step);
	JsonObject *data = json_object_new();

	event->status = g_strdup(aiq_step_status_to_string(status));
	if (unit != NULL) {
		/* the final attempt rides on step.finished */
		event->attempt = unit->attempt;
		aiq_data_set_time(data, "started", srt->last_attempt_started);
		json_object_set_int_member(data, "output_size", unit->output_size);
	}
	if (output != NULL)
		json_object_set_member(data, "output", json_node_ref(output));
	if (error_code != NULL || error_message != NULL)
		json_object_set_member(data, "error", aiq_error_to_json(error_code, error_message));
	event->data = aiq_json_new_object(data);
	aiq_run_emit(r, event);

	if (srt != NULL) {
		r->rt[idx] = NULL;
		aiq_step_runtime_free(srt);
		r->running--;
	}
	g_signal_emit(self, signals[SIGNAL_STEP_FINISHED], 0, r->exec, step->id);
	aiq_run_step_final(r, idx);
}

static void
aiq_run_skip_step(AiqRun *r, guint idx, AiqStepStatus status, const gchar *reason)
{
	const AiqStep *step = aiq_definition_get_step(r->def, idx);
	AiqEvent *event = aiq_run_event_new(r, AIQ_EVENT_STEP_SKIPPED, step);
	JsonObject *data = json_object_new();
	event->status = g_strdup(aiq_step_status_to_string(status));
	json_object_set_string_member(data, "reason", reason);
	event->data = aiq_json_new_object(data);
	aiq_run_emit(r, event);
	g_signal_emit(r->engine, signals[SIGNAL_STEP_FINISHED], 0, r->exec, step->id);
	aiq_run_step_final(r, idx);
}

/* evaluates for_each into the list of items */
static JsonArray *
aiq_run_eval_items(AiqRun *r, const AiqStep *step, GError **error)
{
	AiqEngine *self = r->engine;
	AiqExprScope scope;
	g_autoptr(JsonNode) value = NULL;
	g_autoptr(JsonNode) execution = aiq_run_execution_node(r, NULL, 0);

	aiq_run_init_scope(r, step, &scope);
	scope.execution = execution;
	if (step->for_each_expr != NULL)
		value = aiq_sandbox_eval(self->sandbox, step->for_each_expr, &scope, error);
	else
		value = aiq_template_render(self->sandbox, step->for_each, &scope, error);
	if (value == NULL) {
		g_prefix_error(error, "for_each: ");
		return NULL;
	}
	if (JSON_NODE_HOLDS_NULL(value))
		return json_array_new();
	if (!JSON_NODE_HOLDS_ARRAY(value)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_EXPRESSION,
			    _("for_each: expected a list, got %s"),
			    aiq_json_type_name(value));
		return NULL;
	}
	if (json_array_get_length(json_node_get_array(value)) >
	    aiq_config_get_max_items(self->config)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_LIMIT_EXCEEDED,
			    _("for_each: %u items is over the limit of %u"),
			    json_array_get_length(json_node_get_array(value)),
			    aiq_config_get_max_items(self->config));
		return NULL;
	}
	return json_array_ref(json_node_get_array(value));
}

static AiqUnit *
aiq_unit_new(AiqStepRuntime *srt, gint item)
{
	AiqRun *r = srt->run;
	AiqStepState *state = aiq_execution_get_step_state(r->exec, srt->idx);
	AiqUnit *unit = g_new0(AiqUnit, 1);
	unit->srt = srt;
	unit->item = item;
	if (item >= 0) {
		unit->step_key = g_strdup_printf("%s/%d", srt->step_key, item);
		unit->item_node = json_node_ref(json_array_get_element(srt->items, (guint)item));
	} else {
		unit->step_key = g_strdup(srt->step_key);
	}
	/* after a restart, attempts go on from the last recorded one */
	for (guint i = 0; state->attempt_log != NULL && i < state->attempt_log->len; i++) {
		AiqAttempt *attempt = &g_array_index(state->attempt_log, AiqAttempt, i);
		if (attempt->item == item)
			unit->attempt = MAX(unit->attempt, attempt->number);
	}
	return unit;
}

static void
aiq_run_start_step(AiqRun *r, guint idx)
{
	AiqEngine *self = r->engine;
	const AiqStep *step = aiq_definition_get_step(r->def, idx);
	AiqStepState *state = aiq_execution_get_step_state(r->exec, idx);
	gboolean resumed = state->status == AIQ_STEP_STATUS_RUNNING;
	AiqStepRuntime *srt = g_new0(AiqStepRuntime, 1);
	g_autoptr(GError) error_local = NULL;

	srt->run = r;
	srt->idx = idx;
	srt->step_key = g_strdup_printf("%s/%s", aiq_execution_get_id(r->exec), step->id);
	r->rt[idx] = srt;
	r->running++;

	if (step->for_each != NULL) {
		srt->items = aiq_run_eval_items(r, step, &error_local);
		if (srt->items != NULL && resumed && state->items != NULL &&
		    state->items->len != json_array_get_length(srt->items)) {
			g_set_error(&error_local,
				    AIQ_ERROR,
				    AIQ_ERROR_EXPRESSION,
				    _("for_each gave %u items after a restart, %u before"),
				    json_array_get_length(srt->items),
				    state->items->len);
			g_clear_pointer(&srt->items, json_array_unref);
		}
	}

	if (!resumed) {
		AiqEvent *event = aiq_run_event_new(r, AIQ_EVENT_STEP_STARTED, step);
		JsonObject *data = json_object_new();
		json_object_set_string_member(data, "step_key", srt->step_key);
		if (srt->items != NULL)
			json_object_set_int_member(data,
						   "items",
						   json_array_get_length(srt->items));
		event->data = aiq_json_new_object(data);
		srt->start_lsn = aiq_run_emit(r, event);
	}
	g_signal_emit(self, signals[SIGNAL_STEP_STARTED], 0, r->exec, step->id);

	if (step->for_each != NULL && srt->items == NULL) {
		aiq_run_finish_step(r,
				    idx,
				    AIQ_STEP_STATUS_FAILED,
				    NULL,
				    aiq_error_code_to_string(error_local->code),
				    error_local->message,
				    NULL);
		return;
	}
	if (srt->items != NULL) {
		srt->n_units = json_array_get_length(srt->items);
		srt->units = g_new0(AiqUnit *, MAX(srt->n_units, 1));
		srt->concurrency = step->concurrency > 0
					   ? step->concurrency
					   : aiq_config_get_max_parallel_steps(self->config);
		for (guint i = 0; i < srt->n_units; i++) {
			if (state->item_done != NULL &&
			    g_array_index(state->item_done, guint8, i) != 0) {
				srt->done_units++;
				continue;
			}
			srt->units[i] = aiq_unit_new(srt, (gint)i);
		}
		if (srt->done_units == srt->n_units) {
			/* no items, or all finished before a restart */
			JsonArray *outputs = json_array_sized_new(srt->n_units);
			g_autoptr(JsonNode) output = NULL;
			for (guint i = 0; i < srt->n_units; i++) {
				JsonNode *node = g_ptr_array_index(state->items, i);
				json_array_add_element(outputs,
						       node != NULL
							       ? json_node_ref(node)
							       : json_node_new(JSON_NODE_NULL));
			}
			output = aiq_json_new_array(outputs);
			aiq_run_finish_step(r,
					    idx,
					    AIQ_STEP_STATUS_SUCCEEDED,
					    output,
					    NULL,
					    NULL,
					    NULL);
			return;
		}
	} else {
		srt->n_units = 1;
		srt->concurrency = 1;
		srt->units = g_new0(AiqUnit *, 1);
		srt->units[0] = aiq_unit_new(srt, -1);
	}
	aiq_step_runtime_start_units(srt);
}

/* decides whether a ready step runs, is skipped, or fails its condition */
static void
aiq_run_consider_step(AiqRun *r, guint idx)
{
	AiqEngine *self = r->engine;
	const AiqStep *step = aiq_definition_get_step(r->def, idx);
	AiqStepState *state = aiq_execution_get_step_state(r->exec, idx);
	gboolean satisfied = TRUE;

	if (state->status == AIQ_STEP_STATUS_RUNNING) {
		/* started before a restart: its condition was already true */
		aiq_run_start_step(r, idx);
		return;
	}
	for (guint i = 0; i < step->n_deps; i++) {
		if (!aiq_step_dep_satisfied(r, step->deps[i]))
			satisfied = FALSE;
	}
	if (!satisfied && !step->if_status_fn) {
		aiq_run_skip_step(r,
				  idx,
				  AIQ_STEP_STATUS_SKIPPED,
				  _("a step it needs did not succeed"));
		return;
	}
	if (step->if_node != NULL) {
		gboolean truth;
		if (step->if_expr != NULL) {
			AiqExprScope scope;
			g_autoptr(GError) error_local = NULL;
			g_autoptr(JsonNode) value = NULL;
			g_autoptr(JsonNode) execution = aiq_run_execution_node(r, NULL, 0);
			aiq_run_init_scope(r, step, &scope);
			scope.execution = execution;
			aiq_sandbox_set_limits(self->sandbox,
					       aiq_config_get_expression_instructions(self->config),
					       aiq_config_get_expression_memory(self->config));
			value = aiq_sandbox_eval(self->sandbox,
						 step->if_expr,
						 &scope,
						 &error_local);
			if (value == NULL) {
				g_autofree gchar *message =
					g_strdup_printf("if: %s", error_local->message);
				r->rt[idx] = NULL;
				aiq_run_finish_step(r,
						    idx,
						    AIQ_STEP_STATUS_FAILED,
						    NULL,
						    aiq_error_code_to_string(error_local->code),
						    message,
						    NULL);
				return;
			}
			truth = !(JSON_NODE_HOLDS_NULL(value) ||
				  (aiq_json_is_bool(value) && !json_node_get_boolean(value)));
		} else {
			truth = json_node_get_boolean(step->if_node);
		}
		if (!truth) {
			aiq_run_skip_step(r,
					  idx,
					  AIQ_STEP_STATUS_SKIPPED,
					  _("its condition is false"));
			return;
		}
	}
	aiq_run_start_step(r, idx);
}

/* executions */

static void
aiq_run_free(AiqRun *r)
{
	if (r->dirty)
		g_queue_remove(&r->engine->dirty_runs, r);
	g_list_free_full(r->waiters, g_object_unref);
	if (r->timeout_source != NULL) {
		g_source_destroy(r->timeout_source);
		g_source_unref(r->timeout_source);
	}
	for (guint i = 0; i < r->n_steps; i++) {
		if (r->rt[i] != NULL)
			aiq_step_runtime_free(r->rt[i]);
	}
	g_free(r->rt);
	g_free(r->waiting);
	g_queue_clear(&r->ready);
	g_clear_object(&r->cancellable);
	g_free(r->cancel_reason);
	if (r->inputs_node != NULL)
		json_node_unref(r->inputs_node);
	aiq_execution_unref(r->exec);
	g_free(r);
}

static void
aiq_run_cancel(AiqRun *r, AiqExecutionStatus status, const gchar *reason)
{
	if (r->cancelling || r->finishing)
		return;
	r->cancelling = TRUE;
	r->cancel_status = status;
	r->cancel_reason = g_strdup(reason);
	/* running attempts end with a cancelled error */
	g_cancellable_cancel(r->cancellable);
	/* attempts waiting to be retried end now */
	for (guint i = 0; i < r->n_steps; i++) {
		AiqStepRuntime *srt = r->rt[i];
		for (guint j = 0; srt != NULL && j < srt->n_units; j++) {
			AiqUnit *unit = srt->units[j];
			if (unit == NULL || unit->retry_source == NULL)
				continue;
			g_source_destroy(unit->retry_source);
			g_clear_pointer(&unit->retry_source, g_source_unref);
			aiq_unit_fail_now(
				unit,
				g_error_new_literal(AIQ_ERROR, AIQ_ERROR_CANCELLED, reason));
		}
	}
	aiq_run_mark_dirty(r);
}

static gboolean
aiq_run_timeout_cb(gpointer user_data)
{
	AiqRun *r = user_data;
	g_autofree gchar *duration = aiq_duration_to_string(aiq_definition_get_timeout(r->def));
	g_autofree gchar *reason = g_strdup_printf(_("the execution timed out after %s"), duration);
	g_clear_pointer(&r->timeout_source, g_source_unref);
	aiq_run_cancel(r, AIQ_EXECUTION_STATUS_TIMED_OUT, reason);
	return G_SOURCE_REMOVE;
}

typedef struct {
	AiqEngine *engine;
	gchar *id;
} AiqRunDone;

static void
aiq_run_durable_finish_cb(gpointer user_data)
{
	AiqRunDone *done = user_data;
	AiqEngine *self = done->engine;
	AiqRun *r = g_hash_table_lookup(self->runs, done->id);
	g_autoptr(AiqExecution) exec = NULL;
	GList *waiters;

	g_free(done->id);
	g_free(done);
	if (r == NULL)
		return;
	exec = aiq_execution_ref(r->exec);
	waiters = g_steal_pointer(&r->waiters);
	g_hash_table_remove(self->runs, aiq_execution_get_id(exec));
	g_signal_emit(self, signals[SIGNAL_EXECUTION_FINISHED], 0, exec);
	for (GList *l = waiters; l != NULL; l = l->next)
		g_task_return_pointer(l->data,
				      aiq_execution_ref(exec),
				      (GDestroyNotify)aiq_execution_unref);
	g_list_free_full(waiters, g_object_unref);
	g_object_unref(self);
}

static void
aiq_run_finish(AiqRun *r)
{
	AiqEngine *self = r->engine;
	AiqExecutionStatus status = AIQ_EXECUTION_STATUS_SUCCEEDED;
	g_autofree gchar *error_code = NULL;
	g_autofree gchar *error_message = NULL;
	g_autoptr(JsonNode) outputs = NULL;
	JsonNode *outputs_tmpl = aiq_definition_get_outputs(r->def);
	AiqEvent *event;
	JsonObject *data;
	AiqRunDone *done;
	guint64 lsn;

	r->finishing = TRUE;
	if (r->timeout_source != NULL) {
		g_source_destroy(r->timeout_source);
		g_clear_pointer(&r->timeout_source, g_source_unref);
	}
	for (guint i = 0; i < r->n_steps; i++) {
		const AiqStep *step = aiq_definition_get_step(r->def, i);
		AiqStepState *state = aiq_execution_get_step_state(r->exec, i);
		if (state->status == AIQ_STEP_STATUS_FAILED && !step->continue_on_error &&
		    error_message == NULL) {
			status = AIQ_EXECUTION_STATUS_FAILED;
			error_code = g_strdup(state->error_code != NULL ? state->error_code
									: "step_failed");
			error_message = g_strdup_printf(
				_("step “%s” failed: %s"),
				step->id,
				state->error_message != NULL ? state->error_message : "");
		}
	}
	if (r->cancelling) {
		status = r->cancel_status;
		g_free(error_code);
		g_free(error_message);
		error_code = g_strdup(aiq_error_code_to_string(
			status == AIQ_EXECUTION_STATUS_TIMED_OUT ? AIQ_ERROR_TIMED_OUT
								 : AIQ_ERROR_CANCELLED));
		error_message = g_strdup(r->cancel_reason);
	}
	if (status == AIQ_EXECUTION_STATUS_SUCCEEDED && outputs_tmpl != NULL) {
		AiqExprScope scope;
		g_autoptr(GError) error_local = NULL;
		g_autoptr(JsonNode) execution = aiq_run_execution_node(r, NULL, 0);
		aiq_run_init_scope(r, NULL, &scope);
		scope.execution = execution;
		outputs = aiq_template_render(self->sandbox, outputs_tmpl, &scope, &error_local);
		if (outputs == NULL) {
			status = AIQ_EXECUTION_STATUS_FAILED;
			error_code = g_strdup(aiq_error_code_to_string(error_local->code));
			error_message = g_strdup_printf("outputs: %s", error_local->message);
		} else {
			JsonNode *masked = aiq_secrets_mask_node(self->secrets, outputs);
			json_node_unref(outputs);
			outputs = masked;
		}
	}

	event = aiq_run_event_new(r, AIQ_EVENT_EXECUTION_FINISHED, NULL);
	event->status = g_strdup(aiq_execution_status_to_string(status));
	data = json_object_new();
	if (outputs != NULL)
		json_object_set_member(data, "outputs", json_node_ref(outputs));
	if (error_message != NULL)
		json_object_set_member(data, "error", aiq_error_to_json(error_code, error_message));
	event->data = aiq_json_new_object(data);
	lsn = aiq_run_emit(r, event);

	/* the execution is reported finished once that is durable */
	done = g_new0(AiqRunDone, 1);
	done->engine = g_object_ref(self);
	done->id = g_strdup(aiq_execution_get_id(r->exec));
	if (self->journal != NULL)
		aiq_journal_wait_durable(self->journal, lsn, aiq_run_durable_finish_cb, done);
	else
		aiq_run_durable_finish_cb(done);
}

static void
aiq_run_schedule(AiqRun *r)
{
	AiqEngine *self = r->engine;
	guint max_parallel = aiq_config_get_max_parallel_steps(self->config);

	if (r->finishing)
		return;
	while (!g_queue_is_empty(&r->ready)) {
		guint idx;
		if (r->cancelling) {
			idx = GPOINTER_TO_UINT(g_queue_pop_head(&r->ready));
			aiq_run_skip_step(r,
					  idx,
					  AIQ_STEP_STATUS_CANCELLED,
					  r->cancel_reason != NULL ? r->cancel_reason
								   : _("cancelled"));
			continue;
		}
		if (r->running >= max_parallel)
			break;
		idx = GPOINTER_TO_UINT(g_queue_pop_head(&r->ready));
		aiq_run_consider_step(r, idx);
	}
	if (r->n_final == r->n_steps && r->running == 0)
		aiq_run_finish(r);
}

static gboolean
aiq_engine_dispatch_cb(gpointer user_data)
{
	AiqEngine *self = AIQ_ENGINE(user_data);
	guint budget = AIQ_ENGINE_DISPATCH_BUDGET;

	while (budget-- > 0) {
		AiqUnit *unit = g_queue_pop_head(&self->finished_units);
		AiqRun *r;
		if (unit != NULL) {
			aiq_engine_process_unit(self, unit);
			continue;
		}
		r = g_queue_pop_head(&self->dirty_runs);
		if (r == NULL)
			break;
		r->dirty = FALSE;
		aiq_run_schedule(r);
	}
	if (g_queue_is_empty(&self->finished_units) && g_queue_is_empty(&self->dirty_runs)) {
		g_clear_pointer(&self->dispatch_source, g_source_unref);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static AiqRun *
aiq_run_new(AiqEngine *self, AiqExecution *exec)
{
	AiqRun *r = g_new0(AiqRun, 1);
	JsonObject *inputs = aiq_execution_get_inputs(exec);
	r->engine = self;
	r->exec = aiq_execution_ref(exec);
	r->def = aiq_execution_get_definition(exec);
	r->n_steps = aiq_definition_get_n_steps(r->def);
	r->waiting = g_new0(guint, r->n_steps);
	r->rt = g_new0(AiqStepRuntime *, r->n_steps);
	g_queue_init(&r->ready);
	r->cancellable = g_cancellable_new();
	for (guint i = 0; i < r->n_steps; i++)
		r->waiting[i] = aiq_definition_get_step(r->def, i)->n_deps;
	if (inputs != NULL)
		r->inputs_node = aiq_json_new_object(json_object_ref(inputs));
	return r;
}

static void
aiq_run_arm_timeout(AiqRun *r)
{
	gint64 timeout_ms = aiq_definition_get_timeout(r->def);
	gint64 started = aiq_execution_get_started(r->exec);
	gint64 left_ms;
	if (timeout_ms <= 0)
		return;
	left_ms = timeout_ms - (g_get_real_time() - started) / 1000;
	r->timeout_source = g_timeout_source_new((guint)CLAMP(left_ms, 0, G_MAXUINT));
	g_source_set_callback(r->timeout_source, aiq_run_timeout_cb, r, NULL);
	g_source_attach(r->timeout_source, r->engine->context);
}

/**
 * aiq_engine_start:
 * @definition: a valid definition
 * @inputs: (nullable): checked against the definition's inputs
 * @options: (nullable): id, trigger and parent
 *
 * Starts an execution. It runs on the engine's main context; listen to
 * #AiqEngine::execution-finished or use aiq_engine_wait_async().
 *
 * Returns: (transfer full): the execution's record, updated as it runs
 */
AiqExecution *
aiq_engine_start(AiqEngine *self,
		 AiqDefinition *definition,
		 JsonObject *inputs,
		 const AiqStartOptions *options,
		 GError **error)
{
	g_autoptr(JsonObject) resolved = NULL;
	g_autoptr(AiqExecution) exec = NULL;
	g_autofree gchar *id = NULL;
	AiqRun *r;
	AiqEvent *event;
	JsonObject *data;
	const gchar *const *labels;

	g_return_val_if_fail(AIQ_IS_ENGINE(self), NULL);
	g_return_val_if_fail(definition != NULL, NULL);

	if (!aiq_definition_check_kinds(definition, self->config, error))
		return NULL;
	resolved = aiq_definition_resolve_inputs(definition, inputs, error);
	if (resolved == NULL)
		return NULL;
	id = g_strdup(options != NULL && options->id != NULL ? options->id : NULL);
	if (id == NULL)
		id = aiq_id_new();
	if (!aiq_id_is_valid(id)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not an execution id (a UUID)"),
			    id);
		return NULL;
	}
	if (g_hash_table_contains(self->runs, id)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("execution %s is already running"),
			    id);
		return NULL;
	}

	exec = aiq_execution_new(id, definition);
	if (options != NULL && options->last_seq > 0)
		aiq_execution_set_last_seq(exec, options->last_seq);
	r = aiq_run_new(self, exec);
	g_hash_table_insert(self->runs, g_strdup(id), r);

	event = aiq_run_event_new(r, AIQ_EVENT_EXECUTION_CREATED, NULL);
	data = json_object_new();
	json_object_set_string_member(data, "workflow", aiq_definition_get_name(definition));
	json_object_set_string_member(data, "digest", aiq_definition_get_digest(definition));
	json_object_set_object_member(data, "inputs", json_object_ref(resolved));
	json_object_set_string_member(data,
				      "trigger",
				      options != NULL && options->trigger != NULL ? options->trigger
										  : "manual");
	if (options != NULL && options->parent_id != NULL)
		json_object_set_string_member(data, "parent_id", options->parent_id);
	if (aiq_definition_get_filename(definition) != NULL)
		json_object_set_string_member(data,
					      "source",
					      aiq_definition_get_filename(definition));
	labels = aiq_definition_get_labels(definition);
	if (labels[0] != NULL) {
		JsonArray *array = json_array_new();
		for (guint i = 0; labels[i] != NULL; i++)
			json_array_add_string_element(array, labels[i]);
		json_object_set_array_member(data, "labels", array);
	}
	event->data = aiq_json_new_object(data);
	event->definition_json = g_strdup(aiq_definition_get_canonical_json(definition));
	event->definition_digest = g_strdup(aiq_definition_get_digest(definition));
	aiq_run_emit(r, event);
	if (r->inputs_node == NULL)
		r->inputs_node = aiq_json_new_object(json_object_ref(resolved));

	aiq_run_emit(r, aiq_run_event_new(r, AIQ_EVENT_EXECUTION_STARTED, NULL));

	/* steps finished by an earlier execution keep their outputs */
	if (options != NULL && options->completed != NULL) {
		JsonObjectIter iter;
		const gchar *step_id;
		JsonNode *output;
		json_object_iter_init_ordered(&iter, options->completed);
		while (json_object_iter_next_ordered(&iter, &step_id, &output)) {
			gint idx = aiq_definition_find_step(definition, step_id);
			const AiqStep *step;
			JsonObject *step_data;
			if (idx < 0)
				continue;
			step = aiq_definition_get_step(definition, (guint)idx);
			event = aiq_run_event_new(r, AIQ_EVENT_STEP_FINISHED, step);
			event->status = g_strdup("succeeded");
			step_data = json_object_new();
			json_object_set_member(step_data, "output", json_node_ref(output));
			json_object_set_boolean_member(step_data, "reused", TRUE);
			event->data = aiq_json_new_object(step_data);
			aiq_run_emit(r, event);
			r->n_final++;
			for (guint k = 0; k < step->n_dependents; k++)
				r->waiting[step->dependents[k]]--;
		}
	}
	for (guint i = 0; i < r->n_steps; i++) {
		AiqStepState *state = aiq_execution_get_step_state(exec, i);
		if (r->waiting[i] == 0 && state->status == AIQ_STEP_STATUS_PENDING)
			g_queue_push_tail(&r->ready, GUINT_TO_POINTER(i));
	}
	aiq_run_arm_timeout(r);
	aiq_run_mark_dirty(r);
	g_signal_emit(self, signals[SIGNAL_EXECUTION_STARTED], 0, exec);
	return g_steal_pointer(&exec);
}

static AiqDefinition *
aiq_engine_load_definition(AiqEngine *self, const gchar *digest, GError **error)
{
	g_autofree gchar *json = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	AiqDefinition *definition;

	json = aiq_journal_load_definition(self->journal, digest, error);
	if (json == NULL)
		return NULL;
	root = aiq_json_parse(json, strlen(json), AIQ_JSON_MAX_DEPTH, error);
	if (root == NULL)
		return NULL;
	definition = aiq_definition_new_from_node(root, NULL, problems);
	if (definition == NULL) {
		g_autofree gchar *text = aiq_problems_to_string(problems, NULL);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("the journaled definition %s is no longer valid: %s"),
			    digest,
			    text);
		return NULL;
	}
	return definition;
}

/**
 * aiq_engine_load:
 *
 * Returns: (transfer full): the execution's record: the live one while it
 * runs, otherwise rebuilt from the journal
 */
AiqExecution *
aiq_engine_load(AiqEngine *self, const gchar *execution_id, GError **error)
{
	AiqRun *r;
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(AiqDefinition) definition = NULL;
	AiqEvent *first;
	const gchar *digest;

	g_return_val_if_fail(AIQ_IS_ENGINE(self), NULL);
	g_return_val_if_fail(execution_id != NULL, NULL);

	r = g_hash_table_lookup(self->runs, execution_id);
	if (r != NULL)
		return aiq_execution_ref(r->exec);
	if (self->journal == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("no execution %s"),
			    execution_id);
		return NULL;
	}
	events = aiq_journal_load_events(self->journal, execution_id, error);
	if (events == NULL)
		return NULL;
	if (events->len == 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("no execution %s in %s"),
			    execution_id,
			    aiq_journal_get_filename(self->journal));
		return NULL;
	}
	first = g_ptr_array_index(events, 0);
	digest = first->data != NULL
			 ? aiq_json_object_get_string(json_node_get_object(first->data), "digest")
			 : NULL;
	if (digest == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("execution %s has no definition digest"),
			    execution_id);
		return NULL;
	}
	definition = aiq_engine_load_definition(self, digest, error);
	if (definition == NULL)
		return NULL;
	/* sub-workflow paths are relative to where the definition came from */
	aiq_definition_set_filename(
		definition,
		aiq_json_object_get_string(json_node_get_object(first->data), "source"));
	return aiq_execution_new_from_events(events, definition, error);
}

/**
 * aiq_engine_resume:
 *
 * Continues every unfinished execution in the journal: finished steps keep
 * their outputs and do not run again; a step that had started runs again
 * with the same step key.
 *
 * Returns: how many executions were resumed, or 0 with @error set
 */
guint
aiq_engine_resume(AiqEngine *self, GError **error)
{
	g_autoptr(GPtrArray) list = NULL;
	guint n = 0;

	g_return_val_if_fail(AIQ_IS_ENGINE(self), 0);
	if (self->journal == NULL)
		return 0;
	list = aiq_journal_list_executions(self->journal, TRUE, 0, error);
	if (list == NULL)
		return 0;
	for (guint i = 0; i < list->len; i++) {
		AiqJournalExecution *row = g_ptr_array_index(list, i);
		g_autoptr(AiqExecution) exec = NULL;
		AiqRun *r;

		if (g_hash_table_contains(self->runs, row->id))
			continue;
		exec = aiq_engine_load(self, row->id, error);
		if (exec == NULL) {
			g_prefix_error(error, _("cannot resume execution %s: "), row->id);
			return 0;
		}
		r = aiq_run_new(self, exec);
		g_hash_table_insert(self->runs, g_strdup(row->id), r);
		if (aiq_execution_get_status(exec) == AIQ_EXECUTION_STATUS_QUEUED)
			aiq_run_emit(r, aiq_run_event_new(r, AIQ_EVENT_EXECUTION_STARTED, NULL));

		/* steps that had started first, then those whose needs are final */
		for (guint j = 0; j < r->n_steps; j++) {
			AiqStepState *state = aiq_execution_get_step_state(exec, j);
			const AiqStep *step = aiq_definition_get_step(r->def, j);
			if (!aiq_step_status_is_final(state->status))
				continue;
			r->n_final++;
			for (guint k = 0; k < step->n_dependents; k++)
				r->waiting[step->dependents[k]]--;
		}
		for (guint j = 0; j < r->n_steps; j++) {
			AiqStepState *state = aiq_execution_get_step_state(exec, j);
			if (state->status == AIQ_STEP_STATUS_RUNNING)
				g_queue_push_tail(&r->ready, GUINT_TO_POINTER(j));
		}
		for (guint j = 0; j < r->n_steps; j++) {
			AiqStepState *state = aiq_execution_get_step_state(exec, j);
			if (state->status == AIQ_STEP_STATUS_PENDING && r->waiting[j] == 0)
				g_queue_push_tail(&r->ready, GUINT_TO_POINTER(j));
		}
		aiq_run_arm_timeout(r);
		aiq_run_mark_dirty(r);
		g_signal_emit(self, signals[SIGNAL_EXECUTION_STARTED], 0, exec);
		n++;
	}
	return n;
}

/**
 * aiq_engine_cancel:
 * @reason: (nullable): recorded as the execution's error
 *
 * Cancels a running execution: running attempts are cancelled (a shell
 * step's process group is killed), pending steps are marked cancelled.
 *
 * Returns: %FALSE when no such execution is running
 */
gboolean
aiq_engine_cancel(AiqEngine *self, const gchar *execution_id, const gchar *reason)
{
	AiqRun *r;
	g_return_val_if_fail(AIQ_IS_ENGINE(self), FALSE);
	r = g_hash_table_lookup(self->runs, execution_id);
	if (r == NULL || r->finishing)
		return FALSE;
	aiq_run_cancel(r, AIQ_EXECUTION_STATUS_CANCELLED, reason != NULL ? reason : _("cancelled"));
	return TRUE;
}

/**
 * aiq_engine_lookup:
 *
 * Returns: (transfer none) (nullable): a running execution
 */
AiqExecution *
aiq_engine_lookup(AiqEngine *self, const gchar *execution_id)
{
	AiqRun *r;
	g_return_val_if_fail(AIQ_IS_ENGINE(self), NULL);
	r = g_hash_table_lookup(self->runs, execution_id);
	return r != NULL ? r->exec : NULL;
}

guint
aiq_engine_get_n_running(AiqEngine *self)
{
	g_return_val_if_fail(AIQ_IS_ENGINE(self), 0);
	return g_hash_table_size(self->runs);
}

guint64
aiq_engine_get_n_events(AiqEngine *self)
{
	g_return_val_if_fail(AIQ_IS_ENGINE(self), 0);
	return self->n_events;
}

/**
 * aiq_engine_wait_async:
 *
 * Finishes when the execution has finished and that is durable; at once for
 * one that finished before.
 */
void
aiq_engine_wait_async(AiqEngine *self,
		      const gchar *execution_id,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(GError) error_local = NULL;
	AiqExecution *exec;
	AiqRun *r;

	g_task_set_source_tag(task, aiq_engine_wait_async);
	r = g_hash_table_lookup(self->runs, execution_id);
	if (r != NULL) {
		r->waiters = g_list_append(r->waiters, g_steal_pointer(&task));
		return;
	}
	exec = aiq_engine_load(self, execution_id, &error_local);
	if (exec == NULL) {
		g_task_return_error(task, g_steal_pointer(&error_local));
		return;
	}
	if (!aiq_execution_is_finished(exec)) {
		aiq_execution_unref(exec);
		g_task_return_new_error(task,
					AIQ_ERROR,
					AIQ_ERROR_NOT_FOUND,
					_("execution %s is unfinished and not running here; "
					  "resume it first"),
					execution_id);
		return;
	}
	g_task_return_pointer(task, exec, (GDestroyNotify)aiq_execution_unref);
}

AiqExecution *
aiq_engine_wait_finish(AiqEngine *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/**
 * aiq_engine_child_id:
 * @step_key: the step key of a `workflow` step
 *
 * Returns: the id of the sub-workflow execution that step runs: derived
 * from the step key, so a step run again after a restart finds the same
 * child instead of starting another
 */
gchar *
aiq_engine_child_id(const gchar *step_key)
{
	guint8 digest[32];
	gsize len = sizeof(digest);
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(checksum, (const guchar *)step_key, -1);
	g_checksum_get_digest(checksum, digest, &len);
	digest[6] = 0x80 | (digest[6] & 0x0f); /* version 8: custom */
	digest[8] = 0x80 | (digest[8] & 0x3f);
	return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			       "%02x%02x%02x%02x%02x%02x",
			       digest[0],
			       digest[1],
			       digest[2],
			       digest[3],
			       digest[4],
			       digest[5],
			       digest[6],
			       digest[7],
			       digest[8],
			       digest[9],
			       digest[10],
			       digest[11],
			       digest[12],
			       digest[13],
			       digest[14],
			       digest[15]);
}

AiqConfig *
aiq_engine_get_config(AiqEngine *self)
{
	g_return_val_if_fail(AIQ_IS_ENGINE(self), NULL);
	return self->config;
}

AiqJournal *
aiq_engine_get_journal(AiqEngine *self)
{
	g_return_val_if_fail(AIQ_IS_ENGINE(self), NULL);
	return self->journal;
}

AiqCircuitBreaker *
aiq_engine_get_circuit_breaker(AiqEngine *self)
{
	g_return_val_if_fail(AIQ_IS_ENGINE(self), NULL);
	return self->breaker;
}

void
aiq_engine_set_secrets(AiqEngine *self, AiqSecrets *secrets)
{
	g_return_if_fail(AIQ_IS_ENGINE(self));
	g_return_if_fail(secrets != NULL);
	aiq_secrets_unref(self->secrets);
	self->secrets = aiq_secrets_ref(secrets);
}

AiqSecrets *
aiq_engine_get_secrets(AiqEngine *self)
{
	g_return_val_if_fail(AIQ_IS_ENGINE(self), NULL);
	return self->secrets;
}

void
aiq_engine_set_workflow_resolver(AiqEngine *self,
				 AiqWorkflowResolver func,
				 gpointer user_data,
				 GDestroyNotify destroy)
{
	g_return_if_fail(AIQ_IS_ENGINE(self));
	if (self->resolver_destroy != NULL)
		self->resolver_destroy(self->resolver_data);
	self->resolver = func;
	self->resolver_data = user_data;
	self->resolver_destroy = destroy;
}

AiqDefinition *
aiq_engine_resolve_workflow(AiqEngine *self,
			    AiqDefinition *parent,
			    const gchar *name,
			    const gchar *path,
			    GError **error)
{
	g_return_val_if_fail(AIQ_IS_ENGINE(self), NULL);
	if (self->resolver == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("sub-workflow “%s” cannot be found: nothing resolves workflows here"),
			    name != NULL ? name : path);
		return NULL;
	}
	return self->resolver(self, parent, name, path, self->resolver_data, error);
}

static void
aiq_engine_dispose(GObject *object)
{
	AiqEngine *self = AIQ_ENGINE(object);
	if (self->dispatch_source != NULL) {
		g_source_destroy(self->dispatch_source);
		g_clear_pointer(&self->dispatch_source, g_source_unref);
	}
	g_queue_clear(&self->finished_units);
	g_queue_clear(&self->dirty_runs);
	g_hash_table_remove_all(self->runs);
	if (self->resolver_destroy != NULL)
		self->resolver_destroy(self->resolver_data);
	self->resolver_destroy = NULL;
	G_OBJECT_CLASS(aiq_engine_parent_class)->dispose(object);
}

static void
aiq_engine_finalize(GObject *object)
{
	AiqEngine *self = AIQ_ENGINE(object);
	g_hash_table_unref(self->runs);
	g_clear_object(&self->config);
	g_clear_object(&self->journal);
	g_clear_object(&self->breaker);
	aiq_secrets_unref(self->secrets);
	g_main_context_unref(self->context);
	G_OBJECT_CLASS(aiq_engine_parent_class)->finalize(object);
}

static void
aiq_engine_class_init(AiqEngineClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = aiq_engine_dispose;
	object_class->finalize = aiq_engine_finalize;

	/**
	 * AiqEngine::execution-started:
	 *
	 * An execution started or was resumed.
	 */
	signals[SIGNAL_EXECUTION_STARTED] =
		g_signal_new("execution-started",
			     G_TYPE_FROM_CLASS(klass),
			     G_SIGNAL_RUN_LAST,
			     0,
			     NULL,
			     NULL,
			     NULL,
			     G_TYPE_NONE,
			     1,
			     AIQ_TYPE_EXECUTION | G_SIGNAL_TYPE_STATIC_SCOPE);
	/**
	 * AiqEngine::execution-finished:
	 *
	 * An execution finished, and its last event is durable.
	 */
	signals[SIGNAL_EXECUTION_FINISHED] =
		g_signal_new("execution-finished",
			     G_TYPE_FROM_CLASS(klass),
			     G_SIGNAL_RUN_LAST,
			     0,
			     NULL,
			     NULL,
			     NULL,
			     G_TYPE_NONE,
			     1,
			     AIQ_TYPE_EXECUTION | G_SIGNAL_TYPE_STATIC_SCOPE);
	signals[SIGNAL_STEP_STARTED] = g_signal_new("step-started",
						    G_TYPE_FROM_CLASS(klass),
						    G_SIGNAL_RUN_LAST,
						    0,
						    NULL,
						    NULL,
						    NULL,
						    G_TYPE_NONE,
						    2,
						    AIQ_TYPE_EXECUTION | G_SIGNAL_TYPE_STATIC_SCOPE,
						    G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
	signals[SIGNAL_STEP_FINISHED] =
		g_signal_new("step-finished",
			     G_TYPE_FROM_CLASS(klass),
			     G_SIGNAL_RUN_LAST,
			     0,
			     NULL,
			     NULL,
			     NULL,
			     G_TYPE_NONE,
			     2,
			     AIQ_TYPE_EXECUTION | G_SIGNAL_TYPE_STATIC_SCOPE,
			     G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
	/**
	 * AiqEngine::step-log:
	 *
	 * A step's connector logged a line (secrets already masked).
	 */
	signals[SIGNAL_STEP_LOG] = g_signal_new("step-log",
						G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST,
						0,
						NULL,
						NULL,
						NULL,
						G_TYPE_NONE,
						3,
						AIQ_TYPE_EXECUTION | G_SIGNAL_TYPE_STATIC_SCOPE,
						G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
						G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
	/**
	 * AiqEngine::event:
	 *
	 * Every event, as it is appended to the journal (not yet durable).
	 */
	signals[SIGNAL_EVENT] = g_signal_new("event",
					     G_TYPE_FROM_CLASS(klass),
					     G_SIGNAL_RUN_LAST,
					     0,
					     NULL,
					     NULL,
					     NULL,
					     G_TYPE_NONE,
					     1,
					     AIQ_TYPE_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
aiq_engine_init(AiqEngine *self)
{
	self->runs = g_hash_table_new_full(g_str_hash,
					   g_str_equal,
					   g_free,
					   (GDestroyNotify)aiq_run_free);
	g_queue_init(&self->finished_units);
	g_queue_init(&self->dirty_runs);
	self->secrets = aiq_secrets_new();
	self->sandbox = aiq_sandbox_get_default();
	self->context = g_main_context_ref_thread_default();
}

/**
 * aiq_engine_new:
 * @config: (nullable): limits, connections, switched-off kinds
 * @journal: (nullable): the durable journal; without one nothing survives a
 *   restart (for tests and one-off runs)
 */
AiqEngine *
aiq_engine_new(AiqConfig *config, AiqJournal *journal)
{
	AiqEngine *self = g_object_new(AIQ_TYPE_ENGINE, NULL);
	self->config = config != NULL ? g_object_ref(config) : aiq_config_new();
	self->journal = journal != NULL ? g_object_ref(journal) : NULL;
	self->breaker = aiq_circuit_breaker_new(aiq_config_get_breaker_threshold(self->config),
						aiq_config_get_breaker_open_ms(self->config));
	return self;
}
