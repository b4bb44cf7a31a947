/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

#include "aiq-definition.h"
#include "aiq-event.h"

G_BEGIN_DECLS

typedef enum {
	AIQ_EXECUTION_STATUS_QUEUED,
	AIQ_EXECUTION_STATUS_RUNNING,
	AIQ_EXECUTION_STATUS_SUCCEEDED,
	AIQ_EXECUTION_STATUS_FAILED,
	AIQ_EXECUTION_STATUS_CANCELLED,
	AIQ_EXECUTION_STATUS_TIMED_OUT,
	AIQ_EXECUTION_STATUS_LAST
} AiqExecutionStatus;

typedef enum {
	AIQ_STEP_STATUS_PENDING,
	AIQ_STEP_STATUS_RUNNING,
	AIQ_STEP_STATUS_SUCCEEDED,
	AIQ_STEP_STATUS_FAILED,
	AIQ_STEP_STATUS_SKIPPED,
	AIQ_STEP_STATUS_CANCELLED,
	AIQ_STEP_STATUS_LAST
} AiqStepStatus;

/**
 * AiqAttempt:
 *
 * One finished attempt of a step, or of one for_each item.
 */
typedef struct {
	gint item;
	guint number;
	gint64 started_us;
	gint64 finished_us;
	gchar *status; /* succeeded, failed, timed_out, cancelled */
	gchar *error_code;
	gchar *error_message;
	gint64 output_size;
} AiqAttempt;

/**
 * AiqStepState:
 *
 * What is known of one step of an execution. Kept small: thousands of
 * executions of many steps live in one engine.
 */
typedef struct {
	AiqStepStatus status;
	guint attempts;      /* attempts finished, all items together */
	GArray *attempt_log; /* of AiqAttempt; nullable */
	gint64 started_us;
	gint64 finished_us;
	JsonNode *output;
	gchar *error_code;
	gchar *error_message;
	gchar *skip_reason;
	GPtrArray *items;  /* for_each: JsonNode outputs by index (NULL = not finished) */
	GArray *item_done; /* for_each: guint8 per index: 0 not done, 1 succeeded, 2 failed */
} AiqStepState;

/**
 * AiqExecution:
 *
 * The record of one execution: its definition, inputs, status and every
 * step's state. It is built by applying events in order
 * (aiq_execution_apply_event()), so the engine, `aiqctl show` and the server
 * all read one history the same way.
 */
typedef struct _AiqExecution AiqExecution;

#define AIQ_TYPE_EXECUTION (aiq_execution_get_type())
GType
aiq_execution_get_type(void);

AiqExecution *
aiq_execution_new(const gchar *id, AiqDefinition *definition);
AiqExecution *
aiq_execution_ref(AiqExecution *self);
void
aiq_execution_unref(AiqExecution *self);

const gchar *
aiq_execution_get_id(AiqExecution *self);
AiqDefinition *
aiq_execution_get_definition(AiqExecution *self);
AiqExecutionStatus
aiq_execution_get_status(AiqExecution *self);
gboolean
aiq_execution_is_finished(AiqExecution *self);
JsonObject *
aiq_execution_get_inputs(AiqExecution *self);
const gchar *
aiq_execution_get_trigger(AiqExecution *self);
const gchar *
aiq_execution_get_parent_id(AiqExecution *self);
gint64
aiq_execution_get_created(AiqExecution *self);
gint64
aiq_execution_get_started(AiqExecution *self);
gint64
aiq_execution_get_finished(AiqExecution *self);
gint64
aiq_execution_get_last_seq(AiqExecution *self);
const gchar *
aiq_execution_get_error_code(AiqExecution *self);
const gchar *
aiq_execution_get_error_message(AiqExecution *self);
JsonNode *
aiq_execution_get_outputs(AiqExecution *self);
AiqStepState *
aiq_execution_get_step_state(AiqExecution *self, guint idx);
AiqStepState *
aiq_execution_find_step_state(AiqExecution *self, const gchar *step_id);

gboolean
aiq_execution_apply_event(AiqExecution *self, AiqEvent *event, GError **error);
AiqExecution *
aiq_execution_new_from_events(GPtrArray *events, AiqDefinition *definition, GError **error);
JsonNode *
aiq_execution_to_json(AiqExecution *self);

const gchar *
aiq_execution_status_to_string(AiqExecutionStatus status);
gboolean
aiq_execution_status_from_string(const gchar *str, AiqExecutionStatus *status);
const gchar *
aiq_step_status_to_string(AiqStepStatus status);
gboolean
aiq_step_status_from_string(const gchar *str, AiqStepStatus *status);
gboolean
aiq_step_status_is_final(AiqStepStatus status);

/* for the engine: state changes that also come from events */
void
aiq_execution_set_status(AiqExecution *self, AiqExecutionStatus status);
void
aiq_execution_set_last_seq(AiqExecution *self, gint64 seq);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqExecution, aiq_execution_unref)

G_END_DECLS
