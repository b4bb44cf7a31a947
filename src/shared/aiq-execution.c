/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n-lib.h>

#include "aiq-error.h"
#include "aiq-execution.h"
#include "aiq-json.h"
#include "aiq-util.h"

struct _AiqExecution {
	gint refcount;
	gchar *id;
	AiqDefinition *definition;
	AiqExecutionStatus status;
	JsonObject *inputs;
	gchar *trigger;
	gchar *parent_id;
	gint64 created_us;
	gint64 started_us;
	gint64 finished_us;
	gint64 last_seq;
	gchar *error_code;
	gchar *error_message;
	JsonNode *outputs;
	AiqStepState *steps;
	guint n_steps;
};

G_DEFINE_BOXED_TYPE(AiqExecution, aiq_execution, aiq_execution_ref, aiq_execution_unref)

static const gchar *aiq_execution_status_names[] = {
	[AIQ_EXECUTION_STATUS_QUEUED] = "queued",
	[AIQ_EXECUTION_STATUS_RUNNING] = "running",
	[AIQ_EXECUTION_STATUS_SUCCEEDED] = "succeeded",
	[AIQ_EXECUTION_STATUS_FAILED] = "failed",
	[AIQ_EXECUTION_STATUS_CANCELLED] = "cancelled",
	[AIQ_EXECUTION_STATUS_TIMED_OUT] = "timed_out",
};
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_execution_status_names) == AIQ_EXECUTION_STATUS_LAST);

static const gchar *aiq_step_status_names[] = {
	[AIQ_STEP_STATUS_PENDING] = "pending",     [AIQ_STEP_STATUS_RUNNING] = "running",
	[AIQ_STEP_STATUS_SUCCEEDED] = "succeeded", [AIQ_STEP_STATUS_FAILED] = "failed",
	[AIQ_STEP_STATUS_SKIPPED] = "skipped",     [AIQ_STEP_STATUS_CANCELLED] = "cancelled",
};
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_step_status_names) == AIQ_STEP_STATUS_LAST);

const gchar *
aiq_execution_status_to_string(AiqExecutionStatus status)
{
	g_return_val_if_fail((guint)status < AIQ_EXECUTION_STATUS_LAST, NULL);
	return aiq_execution_status_names[status];
}

gboolean
aiq_execution_status_from_string(const gchar *str, AiqExecutionStatus *status)
{
	for (guint i = 0; i < AIQ_EXECUTION_STATUS_LAST; i++) {
		if (g_strcmp0(str, aiq_execution_status_names[i]) == 0) {
			*status = (AiqExecutionStatus)i;
			return TRUE;
		}
	}
	return FALSE;
}

const gchar *
aiq_step_status_to_string(AiqStepStatus status)
{
	g_return_val_if_fail((guint)status < AIQ_STEP_STATUS_LAST, NULL);
	return aiq_step_status_names[status];
}

gboolean
aiq_step_status_from_string(const gchar *str, AiqStepStatus *status)
{
	for (guint i = 0; i < AIQ_STEP_STATUS_LAST; i++) {
		if (g_strcmp0(str, aiq_step_status_names[i]) == 0) {
			*status = (AiqStepStatus)i;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
aiq_step_status_is_final(AiqStepStatus status)
{
	return status >= AIQ_STEP_STATUS_SUCCEEDED;
}

static void
aiq_attempt_clear(gpointer data)
{
	AiqAttempt *attempt = data;
	g_free(attempt->status);
	g_free(attempt->error_code);
	g_free(attempt->error_message);
}

static void
aiq_json_node_unref_nullable(gpointer node)
{
	if (node != NULL)
		json_node_unref(node);
}

static void
aiq_step_state_clear(AiqStepState *state)
{
	if (state->attempt_log != NULL)
		g_array_unref(state->attempt_log);
	if (state->output != NULL)
		json_node_unref(state->output);
	g_free(state->error_code);
	g_free(state->error_message);
	g_free(state->skip_reason);
	if (state->items != NULL)
		g_ptr_array_unref(state->items);
	if (state->item_done != NULL)
		g_array_unref(state->item_done);
}

AiqExecution *
aiq_execution_new(const gchar *id, AiqDefinition *definition)
{
	AiqExecution *self;
	g_return_val_if_fail(id != NULL, NULL);
	g_return_val_if_fail(definition != NULL, NULL);
	self = g_new0(AiqExecution, 1);
	self->refcount = 1;
	self->id = g_strdup(id);
	self->definition = aiq_definition_ref(definition);
	self->n_steps = aiq_definition_get_n_steps(definition);
	self->steps = g_new0(AiqStepState, self->n_steps);
	return self;
}

AiqExecution *
aiq_execution_ref(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_int_inc(&self->refcount);
	return self;
}

void
aiq_execution_unref(AiqExecution *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_int_dec_and_test(&self->refcount))
		return;
	for (guint i = 0; i < self->n_steps; i++)
		aiq_step_state_clear(&self->steps[i]);
	g_free(self->steps);
	g_free(self->id);
	aiq_definition_unref(self->definition);
	if (self->inputs != NULL)
		json_object_unref(self->inputs);
	g_free(self->trigger);
	g_free(self->parent_id);
	g_free(self->error_code);
	g_free(self->error_message);
	if (self->outputs != NULL)
		json_node_unref(self->outputs);
	g_free(self);
}

const gchar *
aiq_execution_get_id(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->id;
}

AiqDefinition *
aiq_execution_get_definition(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->definition;
}

AiqExecutionStatus
aiq_execution_get_status(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, AIQ_EXECUTION_STATUS_FAILED);
	return self->status;
}

gboolean
aiq_execution_is_finished(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, FALSE);
	return self->status >= AIQ_EXECUTION_STATUS_SUCCEEDED;
}

JsonObject *
aiq_execution_get_inputs(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->inputs;
}

const gchar *
aiq_execution_get_trigger(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->trigger;
}

const gchar *
aiq_execution_get_parent_id(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->parent_id;
}

gint64
aiq_execution_get_created(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->created_us;
}

gint64
aiq_execution_get_started(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->started_us;
}

gint64
aiq_execution_get_finished(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->finished_us;
}

gint64
aiq_execution_get_last_seq(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->last_seq;
}

void
aiq_execution_set_last_seq(AiqExecution *self, gint64 seq)
{
	g_return_if_fail(self != NULL);
	self->last_seq = seq;
}

void
aiq_execution_set_status(AiqExecution *self, AiqExecutionStatus status)
{
	g_return_if_fail(self != NULL);
	self->status = status;
}

const gchar *
aiq_execution_get_error_code(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->error_code;
}

const gchar *
aiq_execution_get_error_message(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->error_message;
}

JsonNode *
aiq_execution_get_outputs(AiqExecution *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->outputs;
}

AiqStepState *
aiq_execution_get_step_state(AiqExecution *self, guint idx)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(idx < self->n_steps, NULL);
	return &self->steps[idx];
}

AiqStepState *
aiq_execution_find_step_state(AiqExecution *self, const gchar *step_id)
{
	gint idx;
	g_return_val_if_fail(self != NULL, NULL);
	idx = aiq_definition_find_step(self->definition, step_id);
	return idx >= 0 ? &self->steps[idx] : NULL;
}

static void
aiq_read_error(JsonObject *data, gchar **code, gchar **message)
{
	JsonObject *error = aiq_json_object_get_object(data, "error");
	if (error == NULL)
		return;
	g_free(*code);
	g_free(*message);
	*code = g_strdup(aiq_json_object_get_string(error, "code"));
	*message = g_strdup(aiq_json_object_get_string(error, "message"));
}

static void
aiq_step_state_add_attempt(AiqStepState *state, AiqEvent *event, JsonObject *data)
{
	AiqAttempt attempt = { 0 };
	const gchar *started = aiq_json_object_get_string(data, "started");
	if (state->attempt_log == NULL) {
		state->attempt_log = g_array_new(FALSE, TRUE, sizeof(AiqAttempt));
		g_array_set_clear_func(state->attempt_log, aiq_attempt_clear);
	}
	attempt.item = event->item;
	attempt.number = event->attempt;
	attempt.finished_us = event->time_us;
	if (started == NULL || !aiq_time_from_iso8601(started, &attempt.started_us, NULL))
		attempt.started_us = event->time_us;
	attempt.status = g_strdup(event->status != NULL ? event->status : "failed");
	aiq_read_error(data, &attempt.error_code, &attempt.error_message);
	attempt.output_size = aiq_json_object_get_int(data, "output_size", 0);
	g_array_append_val(state->attempt_log, attempt);
	state->attempts++;
}

/**
 * aiq_execution_apply_event:
 *
 * Moves the record forward by one event. Events at or before the last
 * applied sequence number change nothing (a replay is harmless); a gap is an
 * error.
 */
gboolean
aiq_execution_apply_event(AiqExecution *self, AiqEvent *event, GError **error)
{
	JsonObject *data = NULL;
	AiqStepState *state = NULL;
	AiqStepStatus step_status;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(event != NULL, FALSE);

	if (g_strcmp0(event->execution_id, self->id) != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("event of execution %s applied to execution %s"),
			    event->execution_id,
			    self->id);
		return FALSE;
	}
	if (event->seq <= self->last_seq)
		return TRUE;
	if (event->seq != self->last_seq + 1) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("execution %s: event %" PRId64 " follows %" PRId64),
			    self->id,
			    event->seq,
			    self->last_seq);
		return FALSE;
	}
	if (event->data != NULL && JSON_NODE_HOLDS_OBJECT(event->data))
		data = json_node_get_object(event->data);
	if (event->step_id != NULL) {
		state = aiq_execution_find_step_state(self, event->step_id);
		if (state == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("execution %s: event %" PRId64 " names unknown step “%s”"),
				    self->id,
				    event->seq,
				    event->step_id);
			return FALSE;
		}
	} else if (event->type >= AIQ_EVENT_STEP_STARTED && event->type <= AIQ_EVENT_STEP_SKIPPED) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("execution %s: event %" PRId64 " has no step"),
			    self->id,
			    event->seq);
		return FALSE;
	}

	switch (event->type) {
	case AIQ_EVENT_EXECUTION_CREATED: {
		JsonObject *inputs = aiq_json_object_get_object(data, "inputs");
		self->status = AIQ_EXECUTION_STATUS_QUEUED;
		self->created_us = event->time_us;
		if (inputs != NULL) {
			if (self->inputs != NULL)
				json_object_unref(self->inputs);
			self->inputs = json_object_ref(inputs);
		}
		g_free(self->trigger);
		self->trigger = g_strdup(aiq_json_object_get_string(data, "trigger"));
		g_free(self->parent_id);
		self->parent_id = g_strdup(aiq_json_object_get_string(data, "parent_id"));
		break;
	}
	case AIQ_EVENT_EXECUTION_STARTED:
		self->status = AIQ_EXECUTION_STATUS_RUNNING;
		self->started_us = event->time_us;
		break;
	case AIQ_EVENT_STEP_STARTED: {
		gint64 n_items = aiq_json_object_get_int(data, "items", -1);
		state->status = AIQ_STEP_STATUS_RUNNING;
		if (state->started_us == 0)
			state->started_us = event->time_us;
		if (n_items >= 0 && state->items == NULL) {
			state->items =
				g_ptr_array_new_full((guint)n_items, aiq_json_node_unref_nullable);
			g_ptr_array_set_size(state->items, (guint)n_items);
			state->item_done = g_array_sized_new(FALSE, TRUE, 1, (guint)n_items);
			g_array_set_size(state->item_done, (guint)n_items);
		}
		break;
	}
	case AIQ_EVENT_ATTEMPT_FINISHED:
		aiq_step_state_add_attempt(state, event, data);
		break;
	case AIQ_EVENT_ITEM_FINISHED: {
		JsonNode *output = data != NULL ? json_object_get_member(data, "output") : NULL;
		if (state->items == NULL || event->item < 0 ||
		    (guint)event->item >= state->items->len) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("execution %s: item %d of step “%s” is out of range"),
				    self->id,
				    event->item,
				    event->step_id);
			return FALSE;
		}
		if (event->attempt > 0)
			aiq_step_state_add_attempt(state, event, data);
		aiq_json_node_unref_nullable(g_ptr_array_index(state->items, event->item));
		g_ptr_array_index(state->items, event->item) =
			output != NULL ? json_node_ref(output) : json_node_new(JSON_NODE_NULL);
		g_array_index(state->item_done, guint8, event->item) =
			g_strcmp0(event->status, "succeeded") == 0 ? 1 : 2;
		break;
	}
	case AIQ_EVENT_STEP_FINISHED:
	case AIQ_EVENT_STEP_SKIPPED: {
		JsonNode *output = data != NULL ? json_object_get_member(data, "output") : NULL;
		if (!aiq_step_status_from_string(event->status, &step_status) ||
		    !aiq_step_status_is_final(step_status)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("execution %s: event %" PRId64 " has status “%s”"),
				    self->id,
				    event->seq,
				    event->status != NULL ? event->status : "");
			return FALSE;
		}
		if (event->type == AIQ_EVENT_STEP_FINISHED && event->attempt > 0)
			aiq_step_state_add_attempt(state, event, data);
		state->status = step_status;
		state->finished_us = event->time_us;
		if (output != NULL) {
			if (state->output != NULL)
				json_node_unref(state->output);
			state->output = json_node_ref(output);
		}
		aiq_read_error(data, &state->error_code, &state->error_message);
		if (event->type == AIQ_EVENT_STEP_SKIPPED) {
			g_free(state->skip_reason);
			state->skip_reason = g_strdup(aiq_json_object_get_string(data, "reason"));
		}
		break;
	}
	case AIQ_EVENT_EXECUTION_FINISHED: {
		AiqExecutionStatus status;
		JsonNode *outputs = data != NULL ? json_object_get_member(data, "outputs") : NULL;
		if (!aiq_execution_status_from_string(event->status, &status) ||
		    status < AIQ_EXECUTION_STATUS_SUCCEEDED) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("execution %s: event %" PRId64 " has status “%s”"),
				    self->id,
				    event->seq,
				    event->status != NULL ? event->status : "");
			return FALSE;
		}
		self->status = status;
		self->finished_us = event->time_us;
		aiq_read_error(data, &self->error_code, &self->error_message);
		if (outputs != NULL) {
			if (self->outputs != NULL)
				json_node_unref(self->outputs);
			self->outputs = json_node_ref(outputs);
		}
		break;
	}
	default:
		g_assert_not_reached();
	}
	self->last_seq = event->seq;
	return TRUE;
}

/**
 * aiq_execution_new_from_events:
 * @events: (element-type AiqEvent): every event of one execution, in order,
 *   starting with execution.created
 *
 * Returns: (transfer full): the record the events describe
 */
AiqExecution *
aiq_execution_new_from_events(GPtrArray *events, AiqDefinition *definition, GError **error)
{
	g_autoptr(AiqExecution) self = NULL;
	AiqEvent *first;

	g_return_val_if_fail(events != NULL, NULL);
	g_return_val_if_fail(definition != NULL, NULL);
	if (events->len == 0) {
		g_set_error_literal(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, _("no events"));
		return NULL;
	}
	first = g_ptr_array_index(events, 0);
	if (first->type != AIQ_EVENT_EXECUTION_CREATED) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("execution %s: the first event is %s, not execution.created"),
			    first->execution_id,
			    aiq_event_type_to_string(first->type));
		return NULL;
	}
	self = aiq_execution_new(first->execution_id, definition);
	/* a job leased again numbers its events on from where the server was */
	self->last_seq = first->seq - 1;
	for (guint i = 0; i < events->len; i++) {
		if (!aiq_execution_apply_event(self, g_ptr_array_index(events, i), error))
			return NULL;
	}
	return g_steal_pointer(&self);
}

static void
aiq_json_set_time(JsonObject *obj, const gchar *member, gint64 us)
{
	g_autofree gchar *str = NULL;
	if (us <= 0)
		return;
	str = aiq_time_to_iso8601(us);
	json_object_set_string_member(obj, member, str);
}

static void
aiq_json_set_error(JsonObject *obj, const gchar *code, const gchar *message)
{
	JsonObject *error;
	if (code == NULL && message == NULL)
		return;
	error = json_object_new();
	json_object_set_string_member(error, "code", code != NULL ? code : "failed");
	json_object_set_string_member(error, "message", message != NULL ? message : "");
	json_object_set_object_member(obj, "error", error);
}

/**
 * aiq_execution_to_json:
 *
 * Returns: (transfer full): the execution record: id, workflow, status,
 * times, inputs, outputs, error and per step its status, attempts (with
 * errors) and output
 */
JsonNode *
aiq_execution_to_json(AiqExecution *self)
{
	JsonObject *obj = json_object_new();
	JsonArray *steps = json_array_new();

	g_return_val_if_fail(self != NULL, NULL);

	json_object_set_string_member(obj, "id", self->id);
	json_object_set_string_member(obj, "workflow", aiq_definition_get_name(self->definition));
	json_object_set_string_member(obj, "status", aiq_execution_status_to_string(self->status));
	if (self->trigger != NULL)
		json_object_set_string_member(obj, "trigger", self->trigger);
	if (self->parent_id != NULL)
		json_object_set_string_member(obj, "parent_id", self->parent_id);
	aiq_json_set_time(obj, "created", self->created_us);
	aiq_json_set_time(obj, "started", self->started_us);
	aiq_json_set_time(obj, "finished", self->finished_us);
	if (self->started_us > 0 && self->finished_us > 0)
		json_object_set_int_member(obj,
					   "duration_ms",
					   (self->finished_us - self->started_us) / 1000);
	json_object_set_object_member(obj,
				      "inputs",
				      self->inputs != NULL ? json_object_ref(self->inputs)
							   : json_object_new());
	if (self->outputs != NULL)
		json_object_set_member(obj, "outputs", json_node_ref(self->outputs));
	aiq_json_set_error(obj, self->error_code, self->error_message);

	for (guint i = 0; i < self->n_steps; i++) {
		const AiqStep *step = aiq_definition_get_step(self->definition, i);
		AiqStepState *state = &self->steps[i];
		JsonObject *s = json_object_new();
		JsonArray *attempts = json_array_new();
		json_object_set_string_member(s, "id", step->id);
		json_object_set_string_member(s, "uses", step->uses);
		json_object_set_string_member(s,
					      "status",
					      aiq_step_status_to_string(state->status));
		aiq_json_set_time(s, "started", state->started_us);
		aiq_json_set_time(s, "finished", state->finished_us);
		if (state->started_us > 0 && state->finished_us > 0)
			json_object_set_int_member(s,
						   "duration_ms",
						   (state->finished_us - state->started_us) / 1000);
		for (guint j = 0; state->attempt_log != NULL && j < state->attempt_log->len; j++) {
			AiqAttempt *attempt = &g_array_index(state->attempt_log, AiqAttempt, j);
			JsonObject *a = json_object_new();
			json_object_set_int_member(a, "number", attempt->number);
			if (attempt->item >= 0)
				json_object_set_int_member(a, "item", attempt->item);
			json_object_set_string_member(a, "status", attempt->status);
			aiq_json_set_time(a, "started", attempt->started_us);
			aiq_json_set_time(a, "finished", attempt->finished_us);
			json_object_set_int_member(a,
						   "duration_ms",
						   (attempt->finished_us - attempt->started_us) /
							   1000);
			aiq_json_set_error(a, attempt->error_code, attempt->error_message);
			json_object_set_int_member(a, "output_size", attempt->output_size);
			json_array_add_object_element(attempts, a);
		}
		json_object_set_array_member(s, "attempts", attempts);
		if (state->items != NULL)
			json_object_set_int_member(s, "items", state->items->len);
		if (state->output != NULL)
			json_object_set_member(s, "output", json_node_ref(state->output));
		aiq_json_set_error(s, state->error_code, state->error_message);
		if (state->skip_reason != NULL)
			json_object_set_string_member(s, "skip_reason", state->skip_reason);
		json_array_add_object_element(steps, s);
	}
	json_object_set_array_member(obj, "steps", steps);
	return aiq_json_new_object(obj);
}
