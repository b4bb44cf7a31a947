/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Executions, their steps and events, and the jobs of the queue, in the
 * store (SQLite or PostgreSQL).
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib/gi18n.h>

#include "aiq-api.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-store-executions.h"
#include "aiq-store-private.h"
#include "aiq-util.h"

void
aiq_execution_row_free(AiqExecutionRow *row)
{
	if (row == NULL)
		return;
	g_free(row->tenant_id);
	g_free(row->id);
	g_free(row->workflow_id);
	g_free(row->workflow_name);
	g_free(row->status);
	g_free(row->trigger);
	g_clear_pointer(&row->inputs, json_node_unref);
	g_free(row->idempotency_key);
	g_free(row->request_digest);
	g_free(row->retry_of);
	g_free(row->error_code);
	g_free(row->error_message);
	g_clear_pointer(&row->outputs, json_node_unref);
	g_free(row->agent_id);
	g_free(row);
}

void
aiq_step_row_free(AiqStepRow *row)
{
	if (row == NULL)
		return;
	g_free(row->step_id);
	g_free(row->status);
	g_clear_pointer(&row->output, json_node_unref);
	g_free(row->error_code);
	g_free(row->error_message);
	g_free(row->skip_reason);
	g_clear_pointer(&row->attempt_log, json_node_unref);
	g_free(row->output_json);
	g_free(row->attempt_log_json);
	g_free(row);
}

void
aiq_job_row_free(AiqJobRow *row)
{
	if (row == NULL)
		return;
	g_free(row->tenant_id);
	g_free(row->id);
	g_free(row->execution_id);
	g_strfreev(row->labels);
	g_free(row->state);
	g_free(row->agent_id);
	g_clear_pointer(&row->completed, json_node_unref);
	g_free(row);
}

void
aiq_lease_free(AiqLease *lease)
{
	if (lease == NULL)
		return;
	g_free(lease->tenant_id);
	g_free(lease->job_id);
	g_free(lease->execution_id);
	g_free(lease->workflow_id);
	g_free(lease->workflow_name);
	g_free(lease->trigger);
	g_clear_pointer(&lease->inputs, json_node_unref);
	g_clear_pointer(&lease->completed, json_node_unref);
	g_free(lease);
}

void
aiq_ingest_group_free(AiqIngestGroup *group)
{
	if (group == NULL)
		return;
	g_free(group->tenant_id);
	g_free(group->execution_id);
	g_clear_pointer(&group->events, g_ptr_array_unref);
	g_clear_pointer(&group->data, g_ptr_array_unref);
	g_free(group->reason);
	aiq_execution_row_free(group->after);
	g_clear_pointer(&group->steps, g_ptr_array_unref);
	g_free(group);
}

gboolean
aiq_execution_status_is_final_str(const gchar *status)
{
	return g_strcmp0(status, "succeeded") == 0 || g_strcmp0(status, "failed") == 0 ||
	       g_strcmp0(status, "cancelled") == 0 || g_strcmp0(status, "timed_out") == 0;
}

/* the API form */

static JsonNode *
aiq_error_node(const gchar *code, const gchar *message)
{
	JsonObject *obj;
	if (code == NULL && message == NULL)
		return json_node_new(JSON_NODE_NULL);
	obj = json_object_new();
	json_object_set_string_member(obj, "code", code != NULL ? code : "failed");
	json_object_set_string_member(obj, "message", message != NULL ? message : "");
	return aiq_json_new_object(obj);
}

static JsonNode *
aiq_nullable_string(const gchar *value)
{
	return value != NULL ? aiq_json_new_string(value) : json_node_new(JSON_NODE_NULL);
}

static JsonNode *
aiq_nullable_node(JsonNode *node)
{
	return node != NULL ? json_node_ref(node) : json_node_new(JSON_NODE_NULL);
}

JsonNode *
aiq_step_row_to_json(AiqStepRow *row)
{
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "id", row->step_id);
	json_object_set_string_member(obj, "status", row->status);
	json_object_set_int_member(obj, "attempt_count", row->attempts);
	json_object_set_member(obj,
			       "attempts",
			       row->attempt_log != NULL ? json_node_ref(row->attempt_log)
							: aiq_json_new_array(json_array_new()));
	aiq_api_set_time(obj, "started", row->started_us);
	aiq_api_set_time(obj, "finished", row->finished_us);
	json_object_set_member(obj, "output", aiq_nullable_node(row->output));
	if (row->output == NULL && row->output_size > AIQ_STORE_OUTPUT_CAP) {
		json_object_set_boolean_member(obj, "output_truncated", TRUE);
		json_object_set_int_member(obj, "output_size", row->output_size);
	}
	json_object_set_member(obj, "error", aiq_error_node(row->error_code, row->error_message));
	json_object_set_member(obj, "skip_reason", aiq_nullable_string(row->skip_reason));
	return aiq_json_new_object(obj);
}

/**
 * aiq_execution_row_to_json:
 * @steps: (nullable) (element-type AiqStepRow): the steps, in order; without
 *   them the summary (no steps, inputs or outputs) for lists and live events
 */
JsonNode *
aiq_execution_row_to_json(AiqExecutionRow *row, GPtrArray *steps)
{
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "id", row->id);
	json_object_set_string_member(obj, "workflow_id", row->workflow_id);
	json_object_set_string_member(obj, "workflow", row->workflow_name);
	json_object_set_int_member(obj, "version", row->version);
	json_object_set_string_member(obj, "status", row->status);
	json_object_set_string_member(obj, "trigger", row->trigger);
	json_object_set_member(obj, "error", aiq_error_node(row->error_code, row->error_message));
	aiq_api_set_time(obj, "created", row->created_us);
	aiq_api_set_time(obj, "started", row->started_us);
	aiq_api_set_time(obj, "finished", row->finished_us);
	if (row->started_us > 0 && row->finished_us > 0)
		json_object_set_int_member(obj,
					   "duration_ms",
					   (row->finished_us - row->started_us) / 1000);
	else
		json_object_set_null_member(obj, "duration_ms");
	json_object_set_member(obj, "agent_id", aiq_nullable_string(row->agent_id));
	json_object_set_member(obj, "retry_of", aiq_nullable_string(row->retry_of));
	json_object_set_int_member(obj, "lease_expiries", row->lease_expiries);
	if (row->cancel_requested && !aiq_execution_status_is_final_str(row->status))
		json_object_set_boolean_member(obj, "cancel_requested", TRUE);
	if (steps != NULL) {
		JsonArray *array = json_array_sized_new(steps->len);
		json_object_set_member(obj,
				       "inputs",
				       row->inputs != NULL
					       ? json_node_ref(row->inputs)
					       : aiq_json_new_object(json_object_new()));
		json_object_set_member(obj, "outputs", aiq_nullable_node(row->outputs));
		for (guint i = 0; i < steps->len; i++)
			json_array_add_element(array,
					       aiq_step_row_to_json(g_ptr_array_index(steps, i)));
		json_object_set_array_member(obj, "steps", array);
	}
	return aiq_json_new_object(obj);
}

/* rows */

static void
aiq_bind_time(AiqStmt *stmt, gint idx, gint64 us)
{
	if (us > 0)
		aiq_stmt_bind_int64(stmt, idx, us);
	else
		aiq_stmt_bind_null(stmt, idx);
}

#define AIQ_EXECUTION_COLUMNS                                                                 \
	"e.tenant_id, e.id, e.workflow_id, e.workflow_name, e.version, e.status, e.trigger, " \
	"e.inputs, e.idempotency_key, e.request_digest, e.retry_of, e.created, e.started, "   \
	"e.finished, e.error_code, e.error_message, e.outputs, e.agent_id, e.last_seq, "      \
	"e.cancel_requested, coalesce(j.expiries, 0)"
/* the same without inputs and outputs, which summaries do not show: the
 * rows of a list are not parsed for nothing */
#define AIQ_EXECUTION_SUMMARY_COLUMNS                                                         \
	"e.tenant_id, e.id, e.workflow_id, e.workflow_name, e.version, e.status, e.trigger, " \
	"NULL, e.idempotency_key, e.request_digest, e.retry_of, e.created, e.started, "       \
	"e.finished, e.error_code, e.error_message, NULL, e.agent_id, e.last_seq, "           \
	"e.cancel_requested, coalesce(j.expiries, 0)"
/* what the event ingest reads: all but the inputs, which it never needs */
#define AIQ_EXECUTION_INGEST_COLUMNS                                                          \
	"e.tenant_id, e.id, e.workflow_id, e.workflow_name, e.version, e.status, e.trigger, " \
	"NULL, e.idempotency_key, e.request_digest, e.retry_of, e.created, e.started, "       \
	"e.finished, e.error_code, e.error_message, e.outputs, e.agent_id, e.last_seq, "      \
	"e.cancel_requested, coalesce(j.expiries, 0)"
#define AIQ_EXECUTION_FROM                                                      \
	" FROM executions e LEFT JOIN jobs j ON j.tenant_id = e.tenant_id AND " \
	"j.execution_id = e.id "

static AiqExecutionRow *
aiq_execution_row_from_stmt(AiqStmt *stmt)
{
	AiqExecutionRow *row = g_new0(AiqExecutionRow, 1);
	row->tenant_id = aiq_store_column_text(stmt, 0);
	row->id = aiq_store_column_text(stmt, 1);
	row->workflow_id = aiq_store_column_text(stmt, 2);
	row->workflow_name = aiq_store_column_text(stmt, 3);
	row->version = aiq_stmt_column_int(stmt, 4);
	row->status = aiq_store_column_text(stmt, 5);
	row->trigger = aiq_store_column_text(stmt, 6);
	row->inputs = aiq_store_column_json(stmt, 7);
	row->idempotency_key = aiq_store_column_text(stmt, 8);
	row->request_digest = aiq_store_column_text(stmt, 9);
	row->retry_of = aiq_store_column_text(stmt, 10);
	row->created_us = aiq_stmt_column_int64(stmt, 11);
	row->started_us = aiq_stmt_column_int64(stmt, 12);
	row->finished_us = aiq_stmt_column_int64(stmt, 13);
	row->error_code = aiq_store_column_text(stmt, 14);
	row->error_message = aiq_store_column_text(stmt, 15);
	row->outputs = aiq_store_column_json(stmt, 16);
	row->agent_id = aiq_store_column_text(stmt, 17);
	row->last_seq = aiq_stmt_column_int64(stmt, 18);
	row->cancel_requested = aiq_stmt_column_int(stmt, 19) != 0;
	row->lease_expiries = (guint)aiq_stmt_column_int(stmt, 20);
	return row;
}

#define AIQ_STEP_COLUMNS                                                                \
	"step_id, position, status, attempts, started, finished, output, output_size, " \
	"error_code, error_message, skip_reason, attempt_log"

/* @raw: keep output and attempt log as their JSON text (AiqStepRow.raw) */
static AiqStepRow *
aiq_step_row_read(AiqStmt *stmt, gboolean raw)
{
	AiqStepRow *row = g_new0(AiqStepRow, 1);
	row->raw = raw;
	row->step_id = aiq_store_column_text(stmt, 0);
	row->position = aiq_stmt_column_int(stmt, 1);
	row->status = aiq_store_column_text(stmt, 2);
	row->attempts = (guint)aiq_stmt_column_int(stmt, 3);
	row->started_us = aiq_stmt_column_int64(stmt, 4);
	row->finished_us = aiq_stmt_column_int64(stmt, 5);
	row->output_size = aiq_stmt_column_int64(stmt, 7);
	row->error_code = aiq_store_column_text(stmt, 8);
	row->error_message = aiq_store_column_text(stmt, 9);
	row->skip_reason = aiq_store_column_text(stmt, 10);
	if (raw) {
		row->output_json = aiq_store_column_text(stmt, 6);
		row->attempt_log_json = aiq_store_column_text(stmt, 11);
	} else {
		row->output = aiq_store_column_json(stmt, 6);
		row->attempt_log = aiq_store_column_json(stmt, 11);
	}
	return row;
}

static AiqStepRow *
aiq_step_row_from_stmt(AiqStmt *stmt)
{
	return aiq_step_row_read(stmt, FALSE);
}

#define AIQ_JOB_COLUMNS                                                                     \
	"tenant_id, id, execution_id, labels, tier_rank, state, agent_id, lease_deadline, " \
	"enqueued, leased_at, expiries, completed"

static AiqJobRow *
aiq_job_row_from_stmt(AiqStmt *stmt)
{
	AiqJobRow *row = g_new0(AiqJobRow, 1);
	row->tenant_id = aiq_store_column_text(stmt, 0);
	row->id = aiq_store_column_text(stmt, 1);
	row->execution_id = aiq_store_column_text(stmt, 2);
	row->labels = aiq_store_column_strv(stmt, 3);
	row->tier_rank = aiq_stmt_column_int(stmt, 4);
	row->state = aiq_store_column_text(stmt, 5);
	row->agent_id = aiq_store_column_text(stmt, 6);
	row->lease_deadline_us = aiq_stmt_column_int64(stmt, 7);
	row->enqueued_us = aiq_stmt_column_int64(stmt, 8);
	row->leased_at_us = aiq_stmt_column_int64(stmt, 9);
	row->expiries = (guint)aiq_stmt_column_int(stmt, 10);
	row->completed = aiq_store_column_json(stmt, 11);
	return row;
}

/* creating */

typedef struct {
	AiqExecutionRow *execution;
	AiqJobRow *job;
	const gchar *const *step_ids;
	AiqExecutionQuota *quota;
	gchar *existing_id;
} AiqCreateExecution;

/* the tenant's executions not yet finished (queued or running), from the
 * status index, led by the tenant; at most ?2 of them (PostgreSQL refuses a
 * negative LIMIT: G_MAXINT64 for all). PostgreSQL wants the subquery named */
#define AIQ_EXECUTIONS_ACTIVE_SQL                                                  \
	"SELECT count(*) FROM (SELECT 1 FROM executions WHERE tenant_id = ?1 AND " \
	"status IN ('queued', 'running') LIMIT ?2) active"

/* at most @bound (0: all) of the tenant's unfinished executions: a start
 * under the quota costs no more than the quota's size */
static gboolean
aiq_store_tx_count_active(AiqStoreTx *tx,
			  const gchar *tenant_id,
			  gint64 bound,
			  gint64 *count,
			  GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(tx, AIQ_EXECUTIONS_ACTIVE_SQL, error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_int64(stmt, 2, bound > 0 ? bound : G_MAXINT64);
	return aiq_store_step_count(stmt, "executions", count, error);
}

/* the quotas of a start, then its count in the day's usage; inside the
 * write, after the idempotency key (a replay is neither refused nor
 * counted again) and under aiq_store_tx_lock_tenant() */
static gboolean
aiq_store_tx_take_quota(AiqStoreTx *tx,
			const gchar *tenant_id,
			AiqExecutionQuota *quota,
			GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	gint64 today = 0;
	AiqStmtStep rc;

	stmt = aiq_store_tx_prepare(
		tx,
		"SELECT executions FROM usage_daily WHERE tenant_id = ?1 AND day = ?2",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_int64(stmt, 2, quota->day);
	rc = aiq_stmt_step(stmt);
	if (rc == AIQ_STMT_ROW)
		today = aiq_stmt_column_int64(stmt, 0);
	else if (rc != AIQ_STMT_DONE)
		return aiq_stmt_set_error(stmt, "usage", error);
	g_clear_pointer(&stmt, aiq_stmt_reset);
	if (quota->per_day > 0 && today >= quota->per_day) {
		quota->exceeded = AIQ_LIMIT_EXECUTIONS_PER_DAY;
		quota->used = today;
		aiq_store_set_quota_error(error, quota->exceeded, quota->per_day, today);
		return FALSE;
	}
	if (quota->concurrent > 0) {
		gint64 active = 0;
		if (!aiq_store_tx_count_active(tx, tenant_id, quota->concurrent, &active, error))
			return FALSE;
		if (active >= quota->concurrent) {
			/* the whole count, for the answer: only when refusing */
			if (!aiq_store_tx_count_active(tx, tenant_id, 0, &active, error))
				return FALSE;
			quota->exceeded = AIQ_LIMIT_CONCURRENT_EXECUTIONS;
			quota->used = active;
			aiq_store_set_quota_error(error,
						  quota->exceeded,
						  quota->concurrent,
						  active);
			return FALSE;
		}
	}
	stmt = aiq_store_tx_prepare(tx,
				    "INSERT INTO usage_daily (tenant_id, day, executions) "
				    "VALUES (?1, ?2, 1) ON CONFLICT (tenant_id, day) "
				    "DO UPDATE SET executions = usage_daily.executions + 1",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_int64(stmt, 2, quota->day);
	return aiq_store_tx_exec(tx, stmt, "usage", error);
}

static gboolean
aiq_store_create_execution_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqCreateExecution *op = user_data;
	AiqExecutionRow *e = op->execution;
	AiqJobRow *job = op->job;
	g_autoptr(AiqStmt) stmt = NULL;

	/* this write may run again (PostgreSQL): nothing of an earlier run */
	g_clear_pointer(&op->existing_id, g_free);
	if (op->quota != NULL) {
		op->quota->exceeded = 0;
		op->quota->used = 0;
	}
	/* the tenant's starts are serialised (SQLite's one writer, a lock on
	 * the tenant across PostgreSQL's replicas) before anything is counted
	 * or looked up: checking the key and the quotas here and inserting
	 * after them cannot race */
	if ((op->quota != NULL || e->idempotency_key != NULL) &&
	    !aiq_store_tx_lock_tenant(tx, e->tenant_id, error))
		return FALSE;
	if (e->idempotency_key != NULL) {
		AiqStmtStep rc;
		g_autoptr(AiqStmt) find = aiq_store_tx_prepare(
			tx,
			"SELECT id, request_digest FROM executions WHERE tenant_id = ?1 "
			"AND workflow_id = ?2 AND idempotency_key = ?3",
			error);
		if (find == NULL)
			return FALSE;
		aiq_stmt_bind_text(find, 1, e->tenant_id);
		aiq_stmt_bind_text(find, 2, e->workflow_id);
		aiq_stmt_bind_text(find, 3, e->idempotency_key);
		rc = aiq_stmt_step(find);
		if (rc == AIQ_STMT_ERROR)
			return aiq_stmt_set_error(find, "execution", error);
		if (rc == AIQ_STMT_ROW) {
			if (g_strcmp0(aiq_stmt_column_text(find, 1), e->request_digest) != 0) {
				g_set_error_literal(
					error,
					AIQ_ERROR,
					AIQ_ERROR_INVALID_INPUT,
					_("Idempotency-Key: this key was used with another "
					  "request; use a new key for a new execution"));
				return FALSE;
			}
			op->existing_id = aiq_store_column_text(find, 0);
			return TRUE;
		}
	}
	if (op->quota != NULL && !aiq_store_tx_take_quota(tx, e->tenant_id, op->quota, error))
		return FALSE;

	stmt = aiq_store_tx_prepare(
		tx,
		"INSERT INTO executions (tenant_id, id, workflow_id, workflow_name, version, "
		"status, trigger, inputs, idempotency_key, request_digest, retry_of, created) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, e->tenant_id);
	aiq_stmt_bind_text(stmt, 2, e->id);
	aiq_stmt_bind_text(stmt, 3, e->workflow_id);
	aiq_stmt_bind_text(stmt, 4, e->workflow_name);
	aiq_stmt_bind_int64(stmt, 5, e->version);
	aiq_stmt_bind_text(stmt, 6, e->status);
	aiq_stmt_bind_text(stmt, 7, e->trigger);
	aiq_store_bind_json(stmt, 8, e->inputs);
	aiq_stmt_bind_text(stmt, 9, e->idempotency_key);
	aiq_stmt_bind_text(stmt, 10, e->request_digest);
	aiq_stmt_bind_text(stmt, 11, e->retry_of);
	aiq_stmt_bind_int64(stmt, 12, e->created_us);
	if (!aiq_store_tx_exec(tx, stmt, "execution", error))
		return FALSE;

	g_clear_pointer(&stmt, aiq_stmt_reset);
	stmt = aiq_store_tx_prepare(tx,
				    "INSERT INTO jobs (tenant_id, id, execution_id, labels, "
				    "tier_rank, state, enqueued, completed) "
				    "VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7)",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, job->tenant_id);
	aiq_stmt_bind_text(stmt, 2, job->id);
	aiq_stmt_bind_text(stmt, 3, job->execution_id);
	aiq_store_bind_strv(stmt, 4, job->labels);
	aiq_stmt_bind_int64(stmt, 5, job->tier_rank);
	aiq_stmt_bind_int64(stmt, 6, job->enqueued_us);
	aiq_store_bind_json(stmt, 7, job->completed);
	if (!aiq_store_tx_exec(tx, stmt, "job", error))
		return FALSE;

	/* every step is there from the start, so the API shows them all */
	g_clear_pointer(&stmt, aiq_stmt_reset);
	stmt = aiq_store_tx_prepare(
		tx,
		"INSERT INTO execution_steps (tenant_id, execution_id, step_id, "
		"position, status) VALUES (?1, ?2, ?3, ?4, 'pending')",
		error);
	if (stmt == NULL)
		return FALSE;
	for (guint i = 0; op->step_ids != NULL && op->step_ids[i] != NULL; i++) {
		aiq_stmt_reset(stmt);
		aiq_stmt_bind_text(stmt, 1, e->tenant_id);
		aiq_stmt_bind_text(stmt, 2, e->id);
		aiq_stmt_bind_text(stmt, 3, op->step_ids[i]);
		aiq_stmt_bind_int64(stmt, 4, (gint)i);
		if (!aiq_store_tx_exec(tx, stmt, "execution step", error))
			return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_create_execution:
 * @step_ids: (nullable): the definition's steps, in order
 * @quota: (nullable) (inout): the tenant's quotas of starts, checked in the
 *   same transaction; the start is counted in the usage of @quota's day.
 *   %NULL checks and counts nothing
 * @existing_id: (out): with an idempotency key seen before (and the same
 *   request digest), the earlier execution; nothing is written then
 *
 * Writes an execution, its queued job and its pending steps in one
 * transaction. The same key with another digest is AIQ_ERROR_INVALID_INPUT;
 * a start over a quota is %AIQ_ERROR_QUOTA_EXCEEDED, with @quota saying
 * which, and writes nothing.
 */
gboolean
aiq_store_create_execution(AiqStore *self,
			   AiqExecutionRow *execution,
			   AiqJobRow *job,
			   const gchar *const *step_ids,
			   AiqExecutionQuota *quota,
			   gchar **existing_id,
			   GError **error)
{
	AiqCreateExecution op = { execution, job, step_ids, quota, NULL };
	gboolean serial = quota != NULL || execution->idempotency_key != NULL;
	gboolean ok;
	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(existing_id != NULL, FALSE);
	/* the callback takes the tenant's lock under the same condition */
	if (serial)
		aiq_store_tenant_serial_enter(self, execution->tenant_id);
	ok = aiq_store_write(self, execution->tenant_id, aiq_store_create_execution_cb, &op, error);
	if (serial)
		aiq_store_tenant_serial_leave(self, execution->tenant_id);
	if (!ok) {
		g_free(op.existing_id);
		return FALSE;
	}
	*existing_id = op.existing_id;
	return TRUE;
}

/**
 * aiq_store_get_execution_usage:
 * @day: a UTC day, in days since 1970-01-01
 * @executions: (out): the executions started in @day
 * @active: (out): the executions queued or running now
 *
 * What the tenant uses of its quotas of executions.
 */
gboolean
aiq_store_get_execution_usage(AiqStore *self,
			      const gchar *tenant_id,
			      gint64 day,
			      gint64 *executions,
			      gint64 *active,
			      GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	AiqStmtStep rc;

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL, FALSE);
	stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT executions FROM usage_daily WHERE tenant_id = ?1 AND day = ?2",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_int64(stmt, 2, day);
	rc = aiq_stmt_step(stmt);
	if (rc != AIQ_STMT_ROW && rc != AIQ_STMT_DONE)
		return aiq_stmt_set_error(stmt, "usage", error);
	*executions = rc == AIQ_STMT_ROW ? aiq_stmt_column_int64(stmt, 0) : 0;
	g_clear_pointer(&stmt, aiq_stmt_reset);

	stmt = aiq_store_read_prepare(self, tenant_id, AIQ_EXECUTIONS_ACTIVE_SQL, error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_int64(stmt, 2, G_MAXINT64);
	return aiq_store_step_count(stmt, "executions", active, error);
}

/* reading */

AiqExecutionRow *
aiq_store_get_execution(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	stmt = aiq_store_read_prepare(self,
				      tenant_id,
				      "SELECT " AIQ_EXECUTION_COLUMNS AIQ_EXECUTION_FROM
				      "WHERE e.tenant_id = ?1 AND e.id = ?2",
				      error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, id);
	if (!aiq_store_step_row(stmt, "execution", id, error))
		return NULL;
	return aiq_execution_row_from_stmt(stmt);
}

/**
 * aiq_store_list_execution_steps:
 *
 * Returns: (transfer container) (element-type AiqStepRow): in the order of
 * the definition
 */
GPtrArray *
aiq_store_list_execution_steps(AiqStore *self,
			       const gchar *tenant_id,
			       const gchar *execution_id,
			       GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_step_row_free);
	g_autoptr(AiqStmt) stmt = NULL;
	stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT " AIQ_STEP_COLUMNS " FROM execution_steps "
		"WHERE tenant_id = ?1 AND execution_id = ?2 ORDER BY position",
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, execution_id);
	if (!aiq_store_step_rows(stmt,
				 (AiqStoreRowFunc)aiq_step_row_from_stmt,
				 result,
				 "execution steps",
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

/* the conditions of @filter on the executions aliased @alias: only the
 * conditions given, so that the planner picks the index. Their parameters
 * are numbered from ?1 (the tenant) without a gap (PostgreSQL must know
 * the type of every parameter up to the last), in the order
 * aiq_store_bind_filter() binds them; returns how many there are */
static gint
aiq_store_append_filter(GString *sql, const gchar *alias, const AiqExecutionFilter *filter)
{
	gint n = 1;
	g_string_append_printf(sql, " WHERE %s.tenant_id = ?1", alias);
	if (filter->workflow_id != NULL)
		g_string_append_printf(sql, " AND %s.workflow_id = ?%d", alias, ++n);
	if (filter->status != NULL)
		g_string_append_printf(sql, " AND %s.status = ?%d", alias, ++n);
	if (filter->trigger != NULL)
		g_string_append_printf(sql, " AND %s.trigger = ?%d", alias, ++n);
	if (filter->since_us > 0)
		g_string_append_printf(sql, " AND %s.created >= ?%d", alias, ++n);
	if (filter->until_us > 0)
		g_string_append_printf(sql, " AND %s.created < ?%d", alias, ++n);
	return n;
}

/* the parameters of aiq_store_append_filter(); returns how many */
static gint
aiq_store_bind_filter(AiqStmt *stmt, const gchar *tenant_id, const AiqExecutionFilter *filter)
{
	gint n = 1;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	if (filter->workflow_id != NULL)
		aiq_stmt_bind_text(stmt, ++n, filter->workflow_id);
	if (filter->status != NULL)
		aiq_stmt_bind_text(stmt, ++n, filter->status);
	if (filter->trigger != NULL)
		aiq_stmt_bind_text(stmt, ++n, filter->trigger);
	if (filter->since_us > 0)
		aiq_stmt_bind_int64(stmt, ++n, filter->since_us);
	if (filter->until_us > 0)
		aiq_stmt_bind_int64(stmt, ++n, filter->until_us);
	return n;
}

/**
 * aiq_store_list_executions:
 * @cursor: (nullable): where the page starts; not with @offset
 * @offset: how many executions to skip from the newest; 0 with @cursor
 * @total: (out) (optional): how many executions match @filter, counted in
 *   the same snapshot as the page; %NULL to not count (it costs a scan of
 *   the matching entries of an index)
 *
 * Returns: (transfer container) (element-type AiqExecutionRow): one page of
 * summaries (no inputs or outputs),
 * newest first by (created, id); each filter uses an index led by the
 * tenant
 */
GPtrArray *
aiq_store_list_executions(AiqStore *self,
			  const gchar *tenant_id,
			  const AiqExecutionFilter *filter,
			  const gchar *cursor,
			  guint offset,
			  guint limit,
			  gint64 *total,
			  gchar **next_cursor,
			  GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_execution_row_free);
	g_autoptr(GString) sql = g_string_new("SELECT " AIQ_EXECUTION_SUMMARY_COLUMNS);
	g_autofree gchar *after_id = NULL;
	g_autoptr(AiqStmt) count = NULL;
	g_autoptr(AiqStmt) stmt = NULL;
	gint64 after_time = 0;
	gint n;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(cursor == NULL || offset == 0, NULL);
	if (cursor != NULL && !aiq_store_cursor_decode(cursor, &after_time, &after_id, error))
		return NULL;

	if (total != NULL) {
		g_autoptr(GString) count_sql = g_string_new("SELECT count(*) FROM executions e");
		AiqStmtStep rc;
		aiq_store_append_filter(count_sql, "e", filter);
		count = aiq_store_read_prepare(self, tenant_id, count_sql->str, error);
		if (count == NULL)
			return NULL;
		aiq_store_bind_filter(count, tenant_id, filter);
		rc = aiq_stmt_step(count);
		if (rc != AIQ_STMT_ROW) {
			aiq_stmt_set_error(count, "executions", error);
			return NULL;
		}
		*total = aiq_stmt_column_int64(count, 0);
		/* @count stays un-reset until the page is read: on SQLite the
		 * implicit read transaction it opened stays open, so the count
		 * and the page see one snapshot of the store (on PostgreSQL each
		 * read is a transaction of its own: they may differ by the
		 * writes in between) */
	}

	if (offset > 0) {
		/* the rows skipped are walked in the filter's index only, and
		 * only the page's rows are looked up and joined (a plain OFFSET
		 * looked up and joined every row it skipped: 100 times slower
		 * at 100,000 executions) */
		g_string_append(sql, " FROM (SELECT x.id FROM executions x");
		n = aiq_store_append_filter(sql, "x", filter);
		g_string_append_printf(
			sql,
			" ORDER BY x.created DESC, x.id DESC LIMIT ?%d OFFSET ?%d) p "
			"JOIN executions e ON e.tenant_id = ?1 AND e.id = p.id "
			"LEFT JOIN jobs j ON j.tenant_id = e.tenant_id AND "
			"j.execution_id = e.id ORDER BY e.created DESC, e.id DESC",
			n + 1,
			n + 2);
	} else {
		g_string_append(sql, AIQ_EXECUTION_FROM);
		n = aiq_store_append_filter(sql, "e", filter);
		if (after_id != NULL) {
			g_string_append_printf(sql,
					       " AND (e.created, e.id) < (?%d, ?%d)",
					       n + 1,
					       n + 2);
			n += 2;
		}
		g_string_append_printf(sql, " ORDER BY e.created DESC, e.id DESC LIMIT ?%d", n + 1);
	}
	stmt = aiq_store_read_prepare(self, tenant_id, sql->str, error);
	if (stmt == NULL)
		return NULL;
	/* in the order of the text above */
	n = aiq_store_bind_filter(stmt, tenant_id, filter);
	if (offset > 0) {
		aiq_stmt_bind_int64(stmt, n + 1, (gint64)limit + 1);
		aiq_stmt_bind_int64(stmt, n + 2, offset);
	} else {
		if (after_id != NULL) {
			aiq_stmt_bind_int64(stmt, n + 1, after_time);
			aiq_stmt_bind_text(stmt, n + 2, after_id);
			n += 2;
		}
		aiq_stmt_bind_int64(stmt, n + 1, (gint64)limit + 1);
	}
	if (!aiq_store_step_page(stmt,
				 limit,
				 (AiqStoreRowFunc)aiq_execution_row_from_stmt,
				 G_STRUCT_OFFSET(AiqExecutionRow, created_us),
				 G_STRUCT_OFFSET(AiqExecutionRow, id),
				 result,
				 "executions",
				 next_cursor,
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

#define AIQ_EVENT_COLUMNS "seq, type, time, step_id, item, attempt, status, data"

static AiqEvent *
aiq_event_from_stmt(AiqStmt *stmt, const gchar *execution_id)
{
	AiqEventType type = AIQ_EVENT_EXECUTION_CREATED;
	AiqEvent *event;
	aiq_event_type_from_string(aiq_stmt_column_text(stmt, 1), &type);
	event = aiq_event_new(type, execution_id, aiq_stmt_column_int64(stmt, 0));
	event->time_us = aiq_stmt_column_int64(stmt, 2);
	event->step_id = aiq_store_column_text(stmt, 3);
	event->item = aiq_stmt_column_is_null(stmt, 4) ? -1 : aiq_stmt_column_int(stmt, 4);
	event->attempt = (guint)aiq_stmt_column_int(stmt, 5);
	event->status = aiq_store_column_text(stmt, 6);
	event->data = aiq_store_column_json(stmt, 7);
	return event;
}

/**
 * aiq_store_list_execution_events:
 *
 * Returns: (transfer container) (element-type AiqEvent): the events after
 * @after_seq, in order, applied or not
 */
GPtrArray *
aiq_store_list_execution_events(AiqStore *self,
				const gchar *tenant_id,
				const gchar *execution_id,
				gint64 after_seq,
				guint limit,
				GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_event_unref);
	g_autoptr(AiqStmt) stmt = NULL;
	AiqStmtStep rc;
	stmt = aiq_store_read_prepare(self,
				      tenant_id,
				      "SELECT " AIQ_EVENT_COLUMNS " FROM execution_events "
				      "WHERE tenant_id = ?1 AND execution_id = ?2 AND seq > ?3 "
				      "ORDER BY seq LIMIT ?4",
				      error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, execution_id);
	aiq_stmt_bind_int64(stmt, 3, after_seq);
	aiq_stmt_bind_int64(stmt, 4, (gint64)limit);
	while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW)
		g_ptr_array_add(result, aiq_event_from_stmt(stmt, execution_id));
	if (rc != AIQ_STMT_DONE) {
		aiq_stmt_set_error(stmt, "execution events", error);
		return NULL;
	}
	return g_steal_pointer(&result);
}

static gboolean
aiq_store_collect_completed(AiqStmt *stmt, JsonObject *result, GError **error)
{
	AiqStmtStep rc;
	while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW) {
		JsonNode *output = aiq_store_column_json(stmt, 1);
		if (output != NULL)
			json_object_set_member(result, aiq_stmt_column_text(stmt, 0), output);
	}
	if (rc != AIQ_STMT_DONE)
		return aiq_stmt_set_error(stmt, "execution steps", error);
	return TRUE;
}

#define AIQ_COMPLETED_SQL                                                       \
	"SELECT step_id, output FROM execution_steps WHERE tenant_id = ?1 AND " \
	"execution_id = ?2 AND status = 'succeeded' AND output IS NOT NULL ORDER BY position"

/**
 * aiq_store_get_completed_outputs:
 *
 * Returns: (transfer full): step id → output of the steps that succeeded
 * (a step whose output was over the cap is not among them: it runs again)
 */
JsonObject *
aiq_store_get_completed_outputs(AiqStore *self,
				const gchar *tenant_id,
				const gchar *execution_id,
				GError **error)
{
	g_autoptr(JsonObject) result = json_object_new();
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(self, tenant_id, AIQ_COMPLETED_SQL, error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, execution_id);
	if (!aiq_store_collect_completed(stmt, result, error))
		return NULL;
	return g_steal_pointer(&result);
}

/* cancelling */

typedef struct {
	const gchar *tenant_id;
	const gchar *id;
	gint64 now_us;
	AiqCancelOutcome outcome;
	gchar *job_id;
} AiqCancelExecution;

/* steps that will not run any more */
static gboolean
aiq_store_cancel_steps(AiqStoreTx *tx,
		       const gchar *tenant_id,
		       const gchar *execution_id,
		       gint64 now_us,
		       GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(
		tx,
		"UPDATE execution_steps SET status = 'cancelled', finished = ?3 "
		"WHERE tenant_id = ?1 AND execution_id = ?2 AND status IN ('pending', 'running')",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, execution_id);
	aiq_stmt_bind_int64(stmt, 3, now_us);
	return aiq_store_tx_exec(tx, stmt, "execution steps", error);
}

static gboolean
aiq_store_finish_cancelled(AiqStoreTx *tx,
			   const gchar *tenant_id,
			   const gchar *execution_id,
			   const gchar *message,
			   gint64 now_us,
			   GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(
		tx,
		"UPDATE executions SET status = 'cancelled', finished = ?3, "
		"error_code = 'cancelled', error_message = ?4 WHERE tenant_id = ?1 AND id = ?2",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, execution_id);
	aiq_stmt_bind_int64(stmt, 3, now_us);
	aiq_stmt_bind_text(stmt, 4, message);
	if (!aiq_store_tx_exec(tx, stmt, "execution", error))
		return FALSE;
	return aiq_store_cancel_steps(tx, tenant_id, execution_id, now_us, error);
}

static gboolean
aiq_store_cancel_execution_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqCancelExecution *op = user_data;
	g_autoptr(AiqStmt) select = aiq_store_tx_prepare(
		tx,
		"SELECT e.status, j.state, j.id FROM executions e LEFT JOIN jobs j "
		"ON j.tenant_id = e.tenant_id AND j.execution_id = e.id "
		"WHERE e.tenant_id = ?1 AND e.id = ?2",
		error);
	g_autoptr(AiqStmt) stmt = NULL;
	g_autofree gchar *status = NULL;
	g_autofree gchar *state = NULL;
	g_autofree gchar *job_id = NULL;
	AiqStmtStep rc;

	/* this write may run again (PostgreSQL): nothing of an earlier run */
	op->outcome = AIQ_CANCEL_REQUESTED;
	g_clear_pointer(&op->job_id, g_free);
	if (select == NULL)
		return FALSE;
	aiq_stmt_bind_text(select, 1, op->tenant_id);
	aiq_stmt_bind_text(select, 2, op->id);
	rc = aiq_stmt_step(select);
	if (rc == AIQ_STMT_ERROR)
		return aiq_stmt_set_error(select, "execution", error);
	if (rc != AIQ_STMT_ROW) {
		g_set_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, _("no execution “%s”"), op->id);
		return FALSE;
	}
	status = aiq_store_column_text(select, 0);
	state = aiq_store_column_text(select, 1);
	job_id = aiq_store_column_text(select, 2);
	aiq_stmt_reset(select);
	if (aiq_execution_status_is_final_str(status)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFLICT,
			    _("the execution is %s already"),
			    status);
		return FALSE;
	}
	if (g_strcmp0(state, "queued") == 0) {
		stmt = aiq_store_tx_prepare(tx,
					    "UPDATE jobs SET state = 'cancelled' "
					    "WHERE tenant_id = ?1 AND id = ?2 AND state = 'queued'",
					    error);
		if (stmt == NULL)
			return FALSE;
		aiq_stmt_bind_text(stmt, 1, op->tenant_id);
		aiq_stmt_bind_text(stmt, 2, job_id);
		if (!aiq_store_tx_exec(tx, stmt, "job", error))
			return FALSE;
		/* leased meanwhile by another replica (PostgreSQL): its agent
		 * is asked, as for a running one */
		if (aiq_stmt_changes(stmt) > 0) {
			if (!aiq_store_finish_cancelled(tx,
							op->tenant_id,
							op->id,
							_("cancelled on request"),
							op->now_us,
							error))
				return FALSE;
			op->outcome = AIQ_CANCEL_DONE;
			op->job_id = g_steal_pointer(&job_id);
			return TRUE;
		}
		g_clear_pointer(&stmt, aiq_stmt_reset);
	}
	stmt = aiq_store_tx_prepare(tx,
				    "UPDATE executions SET cancel_requested = 1 "
				    "WHERE tenant_id = ?1 AND id = ?2",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	aiq_stmt_bind_text(stmt, 2, op->id);
	if (!aiq_store_tx_exec(tx, stmt, "execution", error))
		return FALSE;
	op->outcome = AIQ_CANCEL_REQUESTED;
	return TRUE;
}

/**
 * aiq_store_cancel_execution:
 * @outcome: (out): cancelled at once, or requested from its agent
 * @job_id: (out) (optional): the job taken off the queue, when cancelled
 *   at once
 *
 * Cancels a queued execution at once and asks the agent of a running one;
 * AIQ_ERROR_CONFLICT for a finished one.
 */
gboolean
aiq_store_cancel_execution(AiqStore *self,
			   const gchar *tenant_id,
			   const gchar *id,
			   gint64 now_us,
			   AiqCancelOutcome *outcome,
			   gchar **job_id,
			   GError **error)
{
	AiqCancelExecution op = { tenant_id, id, now_us, AIQ_CANCEL_REQUESTED, NULL };
	if (!aiq_store_write(self, tenant_id, aiq_store_cancel_execution_cb, &op, error)) {
		g_free(op.job_id);
		return FALSE;
	}
	*outcome = op.outcome;
	if (job_id != NULL)
		*job_id = g_steal_pointer(&op.job_id);
	g_free(op.job_id);
	return TRUE;
}

/* the queue */

/* every row of a query of AIQ_JOB_COLUMNS */
static GPtrArray *
aiq_store_step_jobs(AiqStmt *stmt, GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_job_row_free);
	if (!aiq_store_step_rows(stmt,
				 (AiqStoreRowFunc)aiq_job_row_from_stmt,
				 result,
				 "jobs",
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

/**
 * aiq_store_list_jobs:
 *
 * Returns: (transfer container) (element-type AiqJobRow): a tenant's jobs
 * in @state, oldest first
 */
GPtrArray *
aiq_store_list_jobs(AiqStore *self, const gchar *tenant_id, const gchar *state, GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	stmt = aiq_store_read_prepare(self,
				      tenant_id,
				      "SELECT " AIQ_JOB_COLUMNS " FROM jobs WHERE tenant_id = ?1 "
				      "AND state = ?2 ORDER BY enqueued, id",
				      error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, state);
	return aiq_store_step_jobs(stmt, error);
}

/**
 * aiq_store_list_expired_leases:
 *
 * Returns: (transfer container) (element-type AiqJobRow): up to @limit
 * leased jobs of every tenant whose lease ran out before @now_us — on
 * PostgreSQL, those of a replica that died are found by the others
 */
GPtrArray *
aiq_store_list_expired_leases(AiqStore *self, gint64 now_us, guint limit, GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	stmt = aiq_store_read_prepare(self,
				      AIQ_STORE_ALL_TENANTS,
				      "SELECT " AIQ_JOB_COLUMNS " FROM jobs WHERE state = 'leased' "
				      "AND lease_deadline < ?1 ORDER BY lease_deadline LIMIT ?2",
				      error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_int64(stmt, 1, now_us);
	aiq_stmt_bind_int64(stmt, 2, limit);
	return aiq_store_step_jobs(stmt, error);
}

/**
 * aiq_store_find_leased_tenant:
 *
 * Returns: (transfer full) (nullable): the tenant of @execution_id's job
 * when it is leased to @agent_id (a cloud worker's, in any tenant)
 */
gchar *
aiq_store_find_leased_tenant(AiqStore *self, const gchar *agent_id, const gchar *execution_id)
{
	g_autoptr(AiqStmt) stmt = NULL;
	stmt = aiq_store_read_prepare(self,
				      AIQ_STORE_ALL_TENANTS,
				      "SELECT tenant_id FROM jobs WHERE execution_id = ?1 "
				      "AND agent_id = ?2 AND state = 'leased' LIMIT 1",
				      NULL);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, execution_id);
	aiq_stmt_bind_text(stmt, 2, agent_id);
	if (aiq_stmt_step(stmt) != AIQ_STMT_ROW)
		return NULL;
	return aiq_store_column_text(stmt, 0);
}

/* the tenant of a write of @tenant_id's rows (%NULL: none) and those of
 * @items (structures with the tenant's id at @offset): the one tenant they
 * all have, else %AIQ_STORE_ALL_TENANTS (a platform agent's jobs) */
static const gchar *
aiq_store_write_tenant(const gchar *tenant_id, GPtrArray *items, goffset offset)
{
	for (guint i = 0; i < items->len; i++) {
		const gchar *item_tenant_id =
			G_STRUCT_MEMBER(const gchar *, g_ptr_array_index(items, i), offset);
		if (tenant_id == NULL)
			tenant_id = item_tenant_id;
		if (tenant_id == NULL || g_strcmp0(item_tenant_id, tenant_id) != 0)
			return AIQ_STORE_ALL_TENANTS;
	}
	return tenant_id != NULL ? tenant_id : AIQ_STORE_ALL_TENANTS;
}

typedef struct {
	const gchar *agent_tenant_id;
	const gchar *agent_id;
	GPtrArray *leases;
	gint64 now_us;
	gint64 deadline_us;
} AiqLeaseJobs;

static gboolean
aiq_store_lease_one(AiqStoreTx *tx, AiqLeaseJobs *op, AiqLease *lease, GError **error)
{
	/* guarded by the state, so a job is never leased twice; on
	 * PostgreSQL a job another replica is leasing right now (its row
	 * locked) is skipped at once rather than waited for, and the queue
	 * offers the next one */
	g_autoptr(AiqStmt) job = aiq_store_tx_prepare(
		tx,
		aiq_store_tx_get_backend(tx) == AIQ_DB_POSTGRES
			? "UPDATE jobs SET state = 'leased', agent_id = ?3, lease_deadline = ?4, "
			  "leased_at = ?5 WHERE tenant_id = ?1 AND id = (SELECT id FROM jobs "
			  "WHERE tenant_id = ?1 AND id = ?2 AND state = 'queued' "
			  "FOR UPDATE SKIP LOCKED) RETURNING completed"
			: "UPDATE jobs SET state = 'leased', agent_id = ?3, lease_deadline = ?4, "
			  "leased_at = ?5 WHERE tenant_id = ?1 AND id = ?2 AND state = 'queued' "
			  "RETURNING completed",
		error);
	g_autoptr(AiqStmt) exec = NULL;
	AiqStmtStep rc;

	if (job == NULL)
		return FALSE;
	aiq_stmt_bind_text(job, 1, lease->tenant_id);
	aiq_stmt_bind_text(job, 2, lease->job_id);
	aiq_stmt_bind_text(job, 3, op->agent_id);
	aiq_stmt_bind_int64(job, 4, op->deadline_us);
	aiq_stmt_bind_int64(job, 5, op->now_us);
	rc = aiq_stmt_step(job);
	if (rc == AIQ_STMT_DONE)
		return TRUE; /* cancelled meanwhile */
	if (rc != AIQ_STMT_ROW)
		return aiq_stmt_set_error(job, "job", error);
	lease->completed = aiq_store_column_json(job, 0);
	g_clear_pointer(&job, aiq_stmt_reset);

	exec = aiq_store_tx_prepare(
		tx,
		"UPDATE executions SET agent_id = ?3 WHERE tenant_id = ?1 AND "
		"id = ?2 RETURNING workflow_id, workflow_name, version, trigger, "
		"inputs, last_seq",
		error);
	if (exec == NULL)
		return FALSE;
	aiq_stmt_bind_text(exec, 1, lease->tenant_id);
	aiq_stmt_bind_text(exec, 2, lease->execution_id);
	aiq_stmt_bind_text(exec, 3, op->agent_id);
	rc = aiq_stmt_step(exec);
	if (rc == AIQ_STMT_DONE) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("no execution “%s”"),
			    lease->execution_id);
		return FALSE;
	}
	if (rc != AIQ_STMT_ROW)
		return aiq_stmt_set_error(exec, "execution", error);
	lease->workflow_id = aiq_store_column_text(exec, 0);
	lease->workflow_name = aiq_store_column_text(exec, 1);
	lease->version = aiq_stmt_column_int(exec, 2);
	lease->trigger = aiq_store_column_text(exec, 3);
	lease->inputs = aiq_store_column_json(exec, 4);
	lease->last_seq = aiq_stmt_column_int64(exec, 5);
	g_clear_pointer(&exec, aiq_stmt_reset);

	/* an execution that ran before (its agent was lost) resumes: the steps
	 * that succeeded keep their outputs */
	if (lease->last_seq > 0) {
		g_autoptr(AiqStmt) steps = aiq_store_tx_prepare(tx, AIQ_COMPLETED_SQL, error);
		g_autoptr(JsonObject) completed = NULL;
		if (steps == NULL)
			return FALSE;
		completed = lease->completed != NULL && JSON_NODE_HOLDS_OBJECT(lease->completed)
				    ? json_object_ref(json_node_get_object(lease->completed))
				    : json_object_new();
		aiq_stmt_bind_text(steps, 1, lease->tenant_id);
		aiq_stmt_bind_text(steps, 2, lease->execution_id);
		if (!aiq_store_collect_completed(steps, completed, error))
			return FALSE;
		g_clear_pointer(&lease->completed, json_node_unref);
		lease->completed = aiq_json_new_object(g_steal_pointer(&completed));
	}
	lease->leased = TRUE;
	return TRUE;
}

static gboolean
aiq_store_lease_jobs_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqLeaseJobs *op = user_data;
	/* once an agent is disabled (in a write before this one) it gets
	 * nothing more */
	g_autoptr(AiqStmt) agent = aiq_store_tx_prepare(
		tx,
		"SELECT 1 FROM agents WHERE tenant_id = ?1 AND id = ?2 AND status = 'active'",
		error);
	AiqStmtStep rc;

	/* this write may run again (PostgreSQL): nothing of an earlier run */
	for (guint i = 0; i < op->leases->len; i++) {
		AiqLease *lease = g_ptr_array_index(op->leases, i);
		lease->leased = FALSE;
		g_clear_pointer(&lease->workflow_id, g_free);
		g_clear_pointer(&lease->workflow_name, g_free);
		lease->version = 0;
		g_clear_pointer(&lease->trigger, g_free);
		g_clear_pointer(&lease->inputs, json_node_unref);
		g_clear_pointer(&lease->completed, json_node_unref);
		lease->last_seq = 0;
	}
	if (agent == NULL)
		return FALSE;
	aiq_stmt_bind_text(agent, 1, op->agent_tenant_id);
	aiq_stmt_bind_text(agent, 2, op->agent_id);
	rc = aiq_stmt_step(agent);
	if (rc == AIQ_STMT_ERROR)
		return aiq_stmt_set_error(agent, "agent", error);
	if (rc != AIQ_STMT_ROW) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the agent is disabled or gone"));
		return FALSE;
	}
	g_clear_pointer(&agent, aiq_stmt_reset);
	for (guint i = 0; i < op->leases->len; i++) {
		if (!aiq_store_lease_one(tx, op, g_ptr_array_index(op->leases, i), error))
			return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_lease_jobs:
 * @leases: (element-type AiqLease): the jobs to lease; each says whether
 *   it was
 *
 * Leases queued jobs to an active agent until @deadline_us, in one
 * transaction. A job that is no longer queued is left alone (@leased stays
 * %FALSE); an agent that is not active gets AIQ_ERROR_UNAUTHENTICATED.
 */
gboolean
aiq_store_lease_jobs(AiqStore *self,
		     const gchar *agent_tenant_id,
		     const gchar *agent_id,
		     GPtrArray *leases,
		     gint64 now_us,
		     gint64 deadline_us,
		     GError **error)
{
	AiqLeaseJobs op = { agent_tenant_id, agent_id, leases, now_us, deadline_us };
	if (leases->len == 0)
		return TRUE;
	return aiq_store_write(self,
			       aiq_store_write_tenant(agent_tenant_id,
						      leases,
						      G_STRUCT_OFFSET(AiqLease, tenant_id)),
			       aiq_store_lease_jobs_cb,
			       &op,
			       error);
}

typedef struct {
	GPtrArray *jobs;
	gboolean expired;
	gint64 now_us;
	GPtrArray *states; /* of gchar *: each job's state as given */
} AiqRequeueJobs;

static gboolean
aiq_store_requeue_one(AiqStoreTx *tx, AiqRequeueJobs *op, AiqJobRow *job, GError **error)
{
	g_autoptr(AiqStmt) select = aiq_store_tx_prepare(
		tx,
		"SELECT cancel_requested, last_seq FROM executions WHERE tenant_id = ?1 AND id = ?2",
		error);
	g_autoptr(AiqStmt) stmt = NULL;
	gboolean cancel;
	gint64 last_seq;
	AiqStmtStep rc;

	if (select == NULL)
		return FALSE;
	aiq_stmt_bind_text(select, 1, job->tenant_id);
	aiq_stmt_bind_text(select, 2, job->execution_id);
	rc = aiq_stmt_step(select);
	if (rc == AIQ_STMT_ERROR)
		return aiq_stmt_set_error(select, "execution", error);
	if (rc != AIQ_STMT_ROW)
		return TRUE;
	cancel = aiq_stmt_column_int(select, 0) != 0;
	last_seq = aiq_stmt_column_int64(select, 1);
	g_clear_pointer(&select, aiq_stmt_reset);

	/* guarded by state, agent and (for an expiry) the deadline, so that a
	 * lease renewed meanwhile stays; ?4 cast, for PostgreSQL, to the one
	 * type it is in both places */
	stmt = aiq_store_tx_prepare(
		tx,
		"UPDATE jobs SET state = ?6, agent_id = NULL, lease_deadline = NULL, "
		"leased_at = NULL, expiries = expiries + CAST(?4 AS BIGINT) WHERE tenant_id = ?1 "
		"AND id = ?2 AND state = 'leased' AND agent_id = ?3 AND "
		"(CAST(?4 AS BIGINT) = 0 OR lease_deadline <= ?5) "
		"RETURNING expiries, labels, tier_rank, enqueued",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, job->tenant_id);
	aiq_stmt_bind_text(stmt, 2, job->id);
	aiq_stmt_bind_text(stmt, 3, job->agent_id);
	aiq_stmt_bind_int64(stmt, 4, op->expired ? 1 : 0);
	aiq_stmt_bind_int64(stmt, 5, op->now_us);
	aiq_stmt_bind_text(stmt, 6, cancel ? "cancelled" : "queued");
	rc = aiq_stmt_step(stmt);
	if (rc == AIQ_STMT_DONE)
		return TRUE;
	if (rc != AIQ_STMT_ROW)
		return aiq_stmt_set_error(stmt, "job", error);
	job->expiries = (guint)aiq_stmt_column_int(stmt, 0);
	g_strfreev(job->labels);
	job->labels = aiq_store_column_strv(stmt, 1);
	job->tier_rank = aiq_stmt_column_int(stmt, 2);
	job->enqueued_us = aiq_stmt_column_int64(stmt, 3);
	g_free(job->state);
	job->state = g_strdup(cancel ? "cancelled" : "queued");
	g_clear_pointer(&stmt, aiq_stmt_reset);

	if (cancel)
		return aiq_store_finish_cancelled(tx,
						  job->tenant_id,
						  job->execution_id,
						  _("cancelled while its agent was lost"),
						  op->now_us,
						  error);

	/* the next agent continues after the last event applied; events the
	 * lost agent sent past a gap are dropped */
	stmt = aiq_store_tx_prepare(tx,
				    "DELETE FROM execution_events WHERE tenant_id = ?1 AND "
				    "execution_id = ?2 AND seq > ?3",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, job->tenant_id);
	aiq_stmt_bind_text(stmt, 2, job->execution_id);
	aiq_stmt_bind_int64(stmt, 3, last_seq);
	if (!aiq_store_tx_exec(tx, stmt, "execution events", error))
		return FALSE;
	g_clear_pointer(&stmt, aiq_stmt_reset);
	stmt = aiq_store_tx_prepare(tx,
				    "UPDATE executions SET agent_id = NULL "
				    "WHERE tenant_id = ?1 AND id = ?2",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, job->tenant_id);
	aiq_stmt_bind_text(stmt, 2, job->execution_id);
	return aiq_store_tx_exec(tx, stmt, "execution", error);
}

static gboolean
aiq_store_requeue_jobs_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqRequeueJobs *op = user_data;
	/* this write may run again (PostgreSQL): the states as given */
	for (guint i = 0; i < op->jobs->len; i++) {
		AiqJobRow *job = g_ptr_array_index(op->jobs, i);
		g_free(job->state);
		job->state = g_strdup(g_ptr_array_index(op->states, i));
	}
	for (guint i = 0; i < op->jobs->len; i++) {
		if (!aiq_store_requeue_one(tx, op, g_ptr_array_index(op->jobs, i), error))
			return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_requeue_jobs:
 * @jobs: (element-type AiqJobRow): tenant, id, execution and agent of
 *   leased jobs; on return the state of each is `queued` when it went back
 *   to the queue, `cancelled` when its execution had a cancel request (it is
 *   cancelled now), else unchanged
 * @expired: whether leases ran out (counted in expiries, and only those
 *   past their deadline), or were taken back (an agent disabled)
 */
gboolean
aiq_store_requeue_jobs(AiqStore *self,
		       GPtrArray *jobs,
		       gboolean expired,
		       gint64 now_us,
		       GError **error)
{
	g_autoptr(GPtrArray) states = NULL;
	AiqRequeueJobs op = { jobs, expired, now_us, NULL };
	if (jobs->len == 0)
		return TRUE;
	states = g_ptr_array_new_full(jobs->len, g_free);
	for (guint i = 0; i < jobs->len; i++)
		g_ptr_array_add(states, g_strdup(((AiqJobRow *)g_ptr_array_index(jobs, i))->state));
	op.states = states;
	return aiq_store_write(
		self,
		aiq_store_write_tenant(NULL, jobs, G_STRUCT_OFFSET(AiqJobRow, tenant_id)),
		aiq_store_requeue_jobs_cb,
		&op,
		error);
}

/* ingesting events */

typedef struct {
	AiqStoreTx *tx;
	AiqIngestGroup *group;
	AiqExecutionRow *execution;
	GHashTable *steps; /* step id → AiqStepRow; NULL (and an own key) when unknown */
	GPtrArray *changed;
	gboolean execution_changed;
} AiqIngestContext;

static AiqStepRow *
aiq_ingest_ensure_step(AiqIngestContext *ctx, const gchar *step_id, GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	gpointer value;
	AiqStmtStep rc;

	if (g_hash_table_lookup_extended(ctx->steps, step_id, NULL, &value))
		return value;
	stmt = aiq_store_tx_prepare(ctx->tx,
				    "SELECT " AIQ_STEP_COLUMNS " FROM execution_steps WHERE "
				    "tenant_id = ?1 AND execution_id = ?2 AND step_id = ?3",
				    error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, ctx->group->tenant_id);
	aiq_stmt_bind_text(stmt, 2, ctx->group->execution_id);
	aiq_stmt_bind_text(stmt, 3, step_id);
	rc = aiq_stmt_step(stmt);
	if (rc == AIQ_STMT_ROW) {
		AiqStepRow *row = aiq_step_row_read(stmt, TRUE);
		g_hash_table_insert(ctx->steps, row->step_id, row);
		return row;
	}
	if (rc != AIQ_STMT_DONE) {
		aiq_stmt_set_error(stmt, "step", error);
		return NULL;
	}
	/* not a step of the definition: the event is kept and changes nothing */
	g_hash_table_insert(ctx->steps, g_strdup(step_id), NULL);
	return NULL;
}

static void
aiq_ingest_mark_step(AiqIngestContext *ctx, AiqStepRow *row)
{
	if (!g_ptr_array_find(ctx->changed, row, NULL))
		g_ptr_array_add(ctx->changed, row);
}

static void
aiq_ingest_read_error(JsonObject *data, gchar **code, gchar **message)
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
aiq_ingest_add_attempt(AiqStepRow *row, AiqEvent *event, JsonObject *data)
{
	g_autoptr(JsonObject) attempt = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *text = NULL;
	JsonObject *error = aiq_json_object_get_object(data, "error");
	const gchar *started = aiq_json_object_get_string(data, "started");
	gint64 started_us = 0;
	gsize len;

	/* the log holds the first AIQ_STORE_ATTEMPT_LOG_MAX attempts: it is as
	 * long as the attempts counted before this one, up to that */
	if (row->attempts++ >= AIQ_STORE_ATTEMPT_LOG_MAX)
		return;
	attempt = json_object_new();
	json_object_set_int_member(attempt, "number", event->attempt);
	if (event->item >= 0)
		json_object_set_int_member(attempt, "item", event->item);
	json_object_set_string_member(attempt,
				      "status",
				      event->status != NULL ? event->status : "failed");
	if (started == NULL || !aiq_time_from_iso8601(started, &started_us, NULL))
		started_us = event->time_us;
	aiq_api_set_time(attempt, "started", started_us);
	aiq_api_set_time(attempt, "finished", event->time_us);
	if (error != NULL)
		json_object_set_object_member(attempt, "error", json_object_ref(error));
	json_object_set_int_member(attempt,
				   "output_size",
				   aiq_json_object_get_int(data, "output_size", 0));
	node = aiq_json_new_object(g_steal_pointer(&attempt));
	text = aiq_json_to_string(node, FALSE);
	/* appended to the stored text: "[a]" -> "[a,b]" */
	len = row->attempt_log_json != NULL ? strlen(row->attempt_log_json) : 0;
	if (len < 2 || row->attempt_log_json[len - 1] != ']') {
		g_free(row->attempt_log_json);
		row->attempt_log_json = g_strdup_printf("[%s]", text);
	} else {
		GString *str = g_string_new_len(row->attempt_log_json, (gssize)len - 1);
		if (len > 2)
			g_string_append_c(str, ',');
		g_string_append(str, text);
		g_string_append_c(str, ']');
		g_free(row->attempt_log_json);
		row->attempt_log_json = g_string_free(str, FALSE);
	}
}

static void
aiq_ingest_set_output(AiqStepRow *row, JsonNode *output)
{
	gchar *text = aiq_json_to_string(output, FALSE);
	row->output_size = (gint64)strlen(text);
	g_free(row->output_json);
	row->output_json = NULL;
	if (row->output_size <= AIQ_STORE_OUTPUT_CAP)
		row->output_json = text;
	else
		g_free(text);
}

/* one event moves the execution or one of its steps, as
 * aiq_execution_apply_event() does on the agent */
static gboolean
aiq_ingest_apply(AiqIngestContext *ctx, AiqEvent *event, GError **error)
{
	AiqExecutionRow *e = ctx->execution;
	JsonObject *data = NULL;
	AiqStepRow *step = NULL;
	JsonNode *output = NULL;

	if (event->data != NULL && JSON_NODE_HOLDS_OBJECT(event->data)) {
		data = json_node_get_object(event->data);
		output = json_object_get_member(data, "output");
	}
	if (event->step_id != NULL) {
		g_autoptr(GError) error_local = NULL;
		step = aiq_ingest_ensure_step(ctx, event->step_id, &error_local);
		if (error_local != NULL) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		}
	}
	switch (event->type) {
	case AIQ_EVENT_EXECUTION_CREATED:
		break;
	case AIQ_EVENT_EXECUTION_STARTED:
		if (!aiq_execution_status_is_final_str(e->status)) {
			g_free(e->status);
			e->status = g_strdup("running");
		}
		if (e->started_us == 0)
			e->started_us = event->time_us;
		ctx->execution_changed = TRUE;
		break;
	case AIQ_EVENT_STEP_STARTED:
		if (step == NULL)
			break;
		g_free(step->status);
		step->status = g_strdup("running");
		if (step->started_us == 0)
			step->started_us = event->time_us;
		aiq_ingest_mark_step(ctx, step);
		break;
	case AIQ_EVENT_ATTEMPT_FINISHED:
	case AIQ_EVENT_ITEM_FINISHED:
		if (step == NULL)
			break;
		if (event->type == AIQ_EVENT_ATTEMPT_FINISHED || event->attempt > 0)
			aiq_ingest_add_attempt(step, event, data);
		aiq_ingest_mark_step(ctx, step);
		break;
	case AIQ_EVENT_STEP_FINISHED:
	case AIQ_EVENT_STEP_SKIPPED:
		if (step == NULL)
			break;
		/* a job leased again re-announces the steps it reuses: the
		 * record of when they ran stays */
		if (data != NULL &&
		    json_object_get_boolean_member_with_default(data, "reused", FALSE) &&
		    g_strcmp0(step->status, "succeeded") == 0)
			break;
		if (event->type == AIQ_EVENT_STEP_FINISHED && event->attempt > 0)
			aiq_ingest_add_attempt(step, event, data);
		g_free(step->status);
		step->status = g_strdup(event->status);
		step->finished_us = event->time_us;
		if (output != NULL)
			aiq_ingest_set_output(step, output);
		aiq_ingest_read_error(data, &step->error_code, &step->error_message);
		if (event->type == AIQ_EVENT_STEP_SKIPPED) {
			g_free(step->skip_reason);
			step->skip_reason = g_strdup(aiq_json_object_get_string(data, "reason"));
		}
		aiq_ingest_mark_step(ctx, step);
		break;
	case AIQ_EVENT_EXECUTION_FINISHED: {
		JsonNode *outputs = data != NULL ? json_object_get_member(data, "outputs") : NULL;
		g_free(e->status);
		e->status = g_strdup(event->status);
		e->finished_us = event->time_us;
		aiq_ingest_read_error(data, &e->error_code, &e->error_message);
		if (outputs != NULL) {
			g_clear_pointer(&e->outputs, json_node_unref);
			e->outputs = json_node_ref(outputs);
		}
		ctx->execution_changed = TRUE;
		ctx->group->finished = TRUE;
		break;
	}
	default:
		g_assert_not_reached();
	}
	e->last_seq = event->seq;
	return TRUE;
}

static gboolean
aiq_ingest_insert_events(AiqIngestContext *ctx, GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(
		ctx->tx,
		"INSERT INTO execution_events (tenant_id, "
		"execution_id, seq, type, time, step_id, item, attempt, status, "
		"data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
		error);
	if (stmt == NULL)
		return FALSE;
	for (guint i = 0; i < ctx->group->events->len; i++) {
		AiqEvent *event = g_ptr_array_index(ctx->group->events, i);
		/* what was applied is never written again */
		if (event->seq <= ctx->execution->last_seq)
			continue;
		aiq_stmt_reset(stmt);
		aiq_stmt_bind_text(stmt, 1, ctx->group->tenant_id);
		aiq_stmt_bind_text(stmt, 2, ctx->group->execution_id);
		aiq_stmt_bind_int64(stmt, 3, event->seq);
		aiq_stmt_bind_text(stmt, 4, aiq_event_type_to_string(event->type));
		aiq_stmt_bind_int64(stmt, 5, event->time_us);
		aiq_stmt_bind_text(stmt, 6, event->step_id);
		if (event->item >= 0)
			aiq_stmt_bind_int64(stmt, 7, event->item);
		else
			aiq_stmt_bind_null(stmt, 7);
		if (event->attempt > 0)
			aiq_stmt_bind_int64(stmt, 8, (gint)event->attempt);
		else
			aiq_stmt_bind_null(stmt, 8);
		aiq_stmt_bind_text(stmt, 9, event->status);
		if (ctx->group->data != NULL && i < ctx->group->data->len) {
			const gchar *text = g_ptr_array_index(ctx->group->data, i);
			if (text != NULL)
				aiq_stmt_bind_text(stmt, 10, text);
			else
				aiq_stmt_bind_null(stmt, 10);
		} else
			aiq_store_bind_json(stmt, 10, event->data);
		if (!aiq_store_tx_exec(ctx->tx, stmt, "execution event", error))
			return FALSE;
	}
	return TRUE;
}

/* events stored by earlier batches, after a gap this batch may have filled */
static gboolean
aiq_ingest_apply_stored(AiqIngestContext *ctx, GError **error)
{
	for (;;) {
		g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(
			ctx->tx,
			"SELECT " AIQ_EVENT_COLUMNS " FROM execution_events WHERE tenant_id = ?1 "
			"AND execution_id = ?2 AND seq > ?3 ORDER BY seq LIMIT 500",
			error);
		g_autoptr(GPtrArray) stored =
			g_ptr_array_new_with_free_func((GDestroyNotify)aiq_event_unref);
		AiqStmtStep rc;

		if (stmt == NULL)
			return FALSE;
		aiq_stmt_bind_text(stmt, 1, ctx->group->tenant_id);
		aiq_stmt_bind_text(stmt, 2, ctx->group->execution_id);
		aiq_stmt_bind_int64(stmt, 3, ctx->execution->last_seq);
		while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW)
			g_ptr_array_add(stored,
					aiq_event_from_stmt(stmt, ctx->group->execution_id));
		if (rc != AIQ_STMT_DONE)
			return aiq_stmt_set_error(stmt, "execution events", error);
		g_clear_pointer(&stmt, aiq_stmt_reset);
		if (stored->len == 0)
			return TRUE;
		for (guint i = 0; i < stored->len; i++) {
			AiqEvent *event = g_ptr_array_index(stored, i);
			if (event->seq != ctx->execution->last_seq + 1)
				return TRUE; /* a gap: later */
			if (!aiq_ingest_apply(ctx, event, error))
				return FALSE;
		}
	}
}

static gboolean
aiq_ingest_write_back(AiqIngestContext *ctx, GError **error)
{
	AiqExecutionRow *e = ctx->execution;
	g_autoptr(AiqStmt) stmt = NULL;

	for (guint i = 0; i < ctx->changed->len; i++) {
		AiqStepRow *row = g_ptr_array_index(ctx->changed, i);
		g_autoptr(AiqStmt) step = aiq_store_tx_prepare(
			ctx->tx,
			"UPDATE execution_steps SET status = ?4, attempts = ?5, started = ?6, "
			"finished = ?7, output = ?8, output_size = ?9, error_code = ?10, "
			"error_message = ?11, skip_reason = ?12, attempt_log = ?13 "
			"WHERE tenant_id = ?1 AND execution_id = ?2 AND step_id = ?3",
			error);
		if (step == NULL)
			return FALSE;
		aiq_stmt_bind_text(step, 1, e->tenant_id);
		aiq_stmt_bind_text(step, 2, e->id);
		aiq_stmt_bind_text(step, 3, row->step_id);
		aiq_stmt_bind_text(step, 4, row->status);
		aiq_stmt_bind_int64(step, 5, (gint)row->attempts);
		aiq_bind_time(step, 6, row->started_us);
		aiq_bind_time(step, 7, row->finished_us);
		aiq_stmt_bind_text(step, 8, row->output_json);
		aiq_stmt_bind_int64(step, 9, row->output_size);
		aiq_stmt_bind_text(step, 10, row->error_code);
		aiq_stmt_bind_text(step, 11, row->error_message);
		aiq_stmt_bind_text(step, 12, row->skip_reason);
		aiq_stmt_bind_text(step, 13, row->attempt_log_json);
		if (!aiq_store_tx_exec(ctx->tx, step, "execution step", error))
			return FALSE;
	}
	stmt = aiq_store_tx_prepare(
		ctx->tx,
		"UPDATE executions SET status = ?3, started = ?4, finished = ?5, "
		"error_code = ?6, error_message = ?7, outputs = ?8, last_seq = ?9 "
		"WHERE tenant_id = ?1 AND id = ?2",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, e->tenant_id);
	aiq_stmt_bind_text(stmt, 2, e->id);
	aiq_stmt_bind_text(stmt, 3, e->status);
	aiq_bind_time(stmt, 4, e->started_us);
	aiq_bind_time(stmt, 5, e->finished_us);
	aiq_stmt_bind_text(stmt, 6, e->error_code);
	aiq_stmt_bind_text(stmt, 7, e->error_message);
	aiq_store_bind_json(stmt, 8, e->outputs);
	aiq_stmt_bind_int64(stmt, 9, e->last_seq);
	if (!aiq_store_tx_exec(ctx->tx, stmt, "execution", error))
		return FALSE;
	if (ctx->group->finished) {
		g_autoptr(AiqStmt) job = aiq_store_tx_prepare(
			ctx->tx,
			"UPDATE jobs SET state = 'done', lease_deadline = NULL "
			"WHERE tenant_id = ?1 AND execution_id = ?2",
			error);
		if (job == NULL)
			return FALSE;
		aiq_stmt_bind_text(job, 1, e->tenant_id);
		aiq_stmt_bind_text(job, 2, e->id);
		if (!aiq_store_tx_exec(ctx->tx, job, "job", error))
			return FALSE;
	}
	return TRUE;
}

/* the step rows an ingest read: step id → AiqStepRow, or NULL (with an own
 * key) for a step the definition does not have */
typedef GHashTable AiqIngestSteps;

static void
aiq_ingest_steps_free(AiqIngestSteps *steps)
{
	GHashTableIter iter;
	gpointer key, value;
	g_hash_table_iter_init(&iter, steps);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (value != NULL)
			aiq_step_row_free(value);
		else
			g_free(key);
	}
	g_hash_table_unref(steps);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqIngestSteps, aiq_ingest_steps_free)

static gboolean
aiq_ingest_group(AiqStoreTx *tx, const gchar *agent_id, AiqIngestGroup *group, GError **error)
{
	g_autoptr(AiqStmt) select = aiq_store_tx_prepare(tx,
							 "SELECT " AIQ_EXECUTION_INGEST_COLUMNS
							 ", j.agent_id" AIQ_EXECUTION_FROM
							 "WHERE e.tenant_id = ?1 AND e.id = ?2",
							 error);
	g_autoptr(AiqIngestSteps) steps = NULL;
	g_autoptr(GPtrArray) changed = g_ptr_array_new();
	g_autoptr(AiqExecutionRow) execution = NULL;
	AiqIngestContext ctx = { tx, group, NULL, NULL, changed, FALSE };
	gint64 before;
	AiqStmtStep rc;

	/* this write may run again (PostgreSQL): nothing of an earlier run */
	g_clear_pointer(&group->reason, g_free);
	group->last_seq = 0;
	g_clear_pointer(&group->after, aiq_execution_row_free);
	g_clear_pointer(&group->steps, g_ptr_array_unref);
	group->finished = FALSE;
	if (select == NULL)
		return FALSE;
	aiq_stmt_bind_text(select, 1, group->tenant_id);
	aiq_stmt_bind_text(select, 2, group->execution_id);
	rc = aiq_stmt_step(select);
	if (rc == AIQ_STMT_DONE) {
		group->reason = g_strdup(_("no such execution"));
		return TRUE;
	}
	if (rc != AIQ_STMT_ROW)
		return aiq_stmt_set_error(select, "execution", error);
	/* only the agent that holds (or finished) the job may tell its story */
	if (g_strcmp0(aiq_stmt_column_text(select, 21), agent_id) != 0) {
		group->reason = g_strdup(_("the execution is not leased to this agent"));
		return TRUE;
	}
	execution = aiq_execution_row_from_stmt(select);
	g_clear_pointer(&select, aiq_stmt_reset);

	ctx.execution = execution;
	steps = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
	ctx.steps = steps;
	before = execution->last_seq;
	if (!aiq_ingest_insert_events(&ctx, error))
		return FALSE;
	/* this batch's events, in order, as far as they are contiguous */
	for (guint i = 0; i < group->events->len; i++) {
		AiqEvent *event = g_ptr_array_index(group->events, i);
		if (event->seq <= execution->last_seq)
			continue;
		if (event->seq != execution->last_seq + 1)
			break;
		if (!aiq_ingest_apply(&ctx, event, error))
			return FALSE;
	}
	if (!aiq_ingest_apply_stored(&ctx, error))
		return FALSE;
	group->last_seq = execution->last_seq;
	if (execution->last_seq != before) {
		if (!aiq_ingest_write_back(&ctx, error))
			return FALSE;
		group->steps = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_step_row_free);
		for (guint i = 0; i < changed->len; i++) {
			AiqStepRow *row = g_ptr_array_index(changed, i);
			g_hash_table_steal(steps, row->step_id);
			g_ptr_array_add(group->steps, row);
		}
		if (ctx.execution_changed)
			group->after = g_steal_pointer(&execution);
	}
	return TRUE;
}

typedef struct {
	const gchar *agent_id;
	GPtrArray *groups;
} AiqIngestEvents;

static gint
aiq_ingest_group_compare(gconstpointer a, gconstpointer b)
{
	const AiqIngestGroup *x = *(const AiqIngestGroup *const *)a;
	const AiqIngestGroup *y = *(const AiqIngestGroup *const *)b;
	gint cmp = g_strcmp0(x->tenant_id, y->tenant_id);
	return cmp != 0 ? cmp : g_strcmp0(x->execution_id, y->execution_id);
}

static gboolean
aiq_store_ingest_events_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqIngestEvents *op = user_data;
	/* rows locked in execution id order, as heartbeats renew leases: two
	 * writes of one agent's executions do not deadlock on PostgreSQL */
	g_autoptr(GPtrArray) order = g_ptr_array_copy(op->groups, NULL, NULL);
	g_ptr_array_sort(order, aiq_ingest_group_compare);
	for (guint i = 0; i < order->len; i++) {
		if (!aiq_ingest_group(tx, op->agent_id, g_ptr_array_index(order, i), error))
			return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_ingest_events:
 * @groups: (element-type AiqIngestGroup): the events of a batch, by
 *   execution, each group's in seq order
 *
 * Stores each event once (by execution and seq) and applies, per
 * execution, those that follow the last applied one without a gap, in one
 * transaction. Each group says how far its execution got (@last_seq), or
 * why it was refused (@reason: unknown, or not leased to @agent_id).
 */
gboolean
aiq_store_ingest_events(AiqStore *self, const gchar *agent_id, GPtrArray *groups, GError **error)
{
	AiqIngestEvents op = { agent_id, groups };
	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	if (groups->len == 0)
		return TRUE;
	return aiq_store_write(
		self,
		aiq_store_write_tenant(NULL, groups, G_STRUCT_OFFSET(AiqIngestGroup, tenant_id)),
		aiq_store_ingest_events_cb,
		&op,
		error);
}

/* statistics */

void
aiq_stats_workflow_free(AiqStatsWorkflow *workflow)
{
	if (workflow == NULL)
		return;
	g_free(workflow->workflow_id);
	g_free(workflow->name);
	g_free(workflow);
}

void
aiq_execution_stats_free(AiqExecutionStats *stats)
{
	if (stats == NULL)
		return;
	g_clear_pointer(&stats->buckets, g_array_unref);
	g_clear_pointer(&stats->workflows, g_ptr_array_unref);
	g_free(stats);
}

/**
 * aiq_percentile_nearest_rank:
 * @sorted: (array length=n): values, ascending
 * @percent: 1 to 100
 *
 * Returns: the value of rank ⌈@percent / 100 × @n⌉ (the smallest value with
 * at least @percent % of the values at or below it), or -1 when @n is 0
 */
static gint64
aiq_percentile_nearest_rank(const gint64 *sorted, gsize n, guint percent)
{
	g_assert(percent >= 1 && percent <= 100);
	if (n == 0)
		return -1;
	return sorted[(percent * n + 99) / 100 - 1];
}

/* how far before the period executions are looked for, for the ones
 * already queued when it starts: as long as the period, within these
 * bounds (see aiq_store_get_execution_stats()) */
#define AIQ_STATS_LOOKBACK_MIN_US G_TIME_SPAN_DAY
#define AIQ_STATS_LOOKBACK_MAX_US (7 * G_TIME_SPAN_DAY)

typedef struct {
	AiqStatsWorkflow *workflow;
	GArray *durations; /* of gint64 µs */
	gint64 latest_us;  /* the creation of the execution whose name it has */
} AiqStatsAccum;

static void
aiq_stats_accum_free(AiqStatsAccum *accum)
{
	aiq_stats_workflow_free(accum->workflow);
	g_array_unref(accum->durations);
	g_free(accum);
}

typedef struct {
	AiqExecutionStats *stats;
	GHashTable *accums;  /* workflow id -> AiqStatsAccum */
	gint64 *depth_delta; /* per bucket, + where a wait starts counting, - after it stops */
} AiqStatsContext;

static gint
aiq_stats_compare_duration(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a;
	gint64 y = *(const gint64 *)b;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/* by count, most first; ties by name, then id, so that the order is stable */
static gint
aiq_stats_compare_workflows(gconstpointer a, gconstpointer b)
{
	const AiqStatsAccum *x = *(AiqStatsAccum *const *)a;
	const AiqStatsAccum *y = *(AiqStatsAccum *const *)b;
	if (x->workflow->total != y->workflow->total)
		return x->workflow->total > y->workflow->total ? -1 : 1;
	if (g_strcmp0(x->workflow->name, y->workflow->name) != 0)
		return g_strcmp0(x->workflow->name, y->workflow->name);
	return g_strcmp0(x->workflow->workflow_id, y->workflow->workflow_id);
}

/* when an execution left the queue: it started, or it finished without
 * starting (cancelled while queued); G_MAXINT64 while it is still there */
static gint64
aiq_stats_left_queue(AiqStmt *stmt, gint started_col, gint finished_col)
{
	gint64 left = G_MAXINT64;
	if (!aiq_stmt_column_is_null(stmt, started_col))
		left = aiq_stmt_column_int64(stmt, started_col);
	if (!aiq_stmt_column_is_null(stmt, finished_col))
		left = MIN(left, aiq_stmt_column_int64(stmt, finished_col));
	return left;
}

/* counts an execution in the queue depth of the buckets whose end e has
 * created < e <= left */
static void
aiq_stats_add_wait(AiqStatsContext *ctx, gint64 created_us, gint64 left_us)
{
	AiqExecutionStats *stats = ctx->stats;
	gint64 n = stats->buckets->len;
	gint64 first;
	gint64 last;

	if (created_us >= stats->to_us || left_us < stats->from_us)
		return;
	/* the first bucket that ends after it was created */
	first = created_us < stats->from_us ? 0 : (created_us - stats->from_us) / stats->bucket_us;
	/* the last that ends before it left, or at that instant */
	if (left_us >= stats->to_us)
		last = n - 1;
	else
		last = (left_us - stats->from_us) / stats->bucket_us - 1;
	if (first > last)
		return;
	ctx->depth_delta[first]++;
	ctx->depth_delta[last + 1]--;
}

/* columns: created, status, started, finished, workflow_id, workflow_name */
static gboolean
aiq_stats_add_execution(AiqStatsContext *ctx, AiqStmt *stmt)
{
	AiqExecutionStats *stats = ctx->stats;
	gint64 created_us = aiq_stmt_column_int64(stmt, 0);
	const gchar *status_str = aiq_stmt_column_text(stmt, 1);
	const gchar *workflow_id = aiq_stmt_column_text(stmt, 4);
	AiqExecutionStatus status;
	AiqStatsBucket *bucket;
	AiqStatsAccum *accum;

	g_assert(created_us >= stats->from_us && created_us < stats->to_us);
	aiq_stats_add_wait(ctx, created_us, aiq_stats_left_queue(stmt, 2, 3));
	if (!aiq_execution_status_from_string(status_str, &status) || workflow_id == NULL)
		return TRUE; /* not of this schema: not counted */

	bucket = &g_array_index(stats->buckets,
				AiqStatsBucket,
				(created_us - stats->from_us) / stats->bucket_us);
	bucket->counts[status]++;
	stats->counts[status]++;
	stats->total++;

	accum = g_hash_table_lookup(ctx->accums, workflow_id);
	if (accum == NULL) {
		accum = g_new0(AiqStatsAccum, 1);
		accum->workflow = g_new0(AiqStatsWorkflow, 1);
		accum->workflow->workflow_id = g_strdup(workflow_id);
		accum->durations = g_array_new(FALSE, FALSE, sizeof(gint64));
		accum->latest_us = G_MININT64;
		g_hash_table_insert(ctx->accums, accum->workflow->workflow_id, accum);
	}
	accum->workflow->total++;
	accum->workflow->counts[status]++;
	if (created_us >= accum->latest_us) {
		const gchar *name = aiq_stmt_column_text(stmt, 5);
		if (g_strcmp0(accum->workflow->name, name) != 0) {
			g_free(accum->workflow->name);
			accum->workflow->name = g_strdup(name);
		}
		accum->latest_us = created_us;
	}
	if (status >= AIQ_EXECUTION_STATUS_SUCCEEDED && !aiq_stmt_column_is_null(stmt, 2) &&
	    !aiq_stmt_column_is_null(stmt, 3)) {
		/* clocks of agents may disagree a little: never below 0 */
		gint64 duration =
			MAX(aiq_stmt_column_int64(stmt, 3) - aiq_stmt_column_int64(stmt, 2), 0);
		g_array_append_val(accum->durations, duration);
	}
	return TRUE;
}

/* the steps of a statement, each row handed to @func */
static gboolean
aiq_stats_step_all(AiqStmt *stmt,
		   AiqStatsContext *ctx,
		   gboolean (*func)(AiqStatsContext *ctx, AiqStmt *stmt),
		   GError **error)
{
	AiqStmtStep rc;
	while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW) {
		if (!func(ctx, stmt))
			return FALSE;
	}
	if (rc != AIQ_STMT_DONE)
		return aiq_stmt_set_error(stmt, "execution statistics", error);
	return TRUE;
}

/* columns: created, started, finished */
static gboolean
aiq_stats_add_earlier(AiqStatsContext *ctx, AiqStmt *stmt)
{
	aiq_stats_add_wait(ctx, aiq_stmt_column_int64(stmt, 0), aiq_stats_left_queue(stmt, 1, 2));
	return TRUE;
}

/* the busiest @max workflows, with their percentiles and names of now */
static gboolean
aiq_stats_finish_workflows(AiqStore *self,
			   const gchar *tenant_id,
			   AiqStatsContext *ctx,
			   guint max,
			   GError **error)
{
	g_autoptr(GPtrArray) accums = g_ptr_array_sized_new(g_hash_table_size(ctx->accums));
	g_autoptr(AiqStmt) stmt = NULL;
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, ctx->accums);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(accums, value);
	g_ptr_array_sort(accums, aiq_stats_compare_workflows);
	stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT name FROM workflows WHERE tenant_id = ?1 AND id = ?2 AND deleted = 0",
		error);
	if (stmt == NULL)
		return FALSE;
	for (guint i = 0; i < MIN(accums->len, max); i++) {
		AiqStatsAccum *accum = g_ptr_array_index(accums, i);
		AiqStatsWorkflow *workflow = accum->workflow;
		AiqStmtStep rc;

		g_array_sort(accum->durations, aiq_stats_compare_duration);
		workflow->p50_us = aiq_percentile_nearest_rank((gint64 *)accum->durations->data,
							       accum->durations->len,
							       50);
		workflow->p95_us = aiq_percentile_nearest_rank((gint64 *)accum->durations->data,
							       accum->durations->len,
							       95);
		aiq_stmt_reset(stmt);
		aiq_stmt_bind_text(stmt, 1, tenant_id);
		aiq_stmt_bind_text(stmt, 2, workflow->workflow_id);
		rc = aiq_stmt_step(stmt);
		if (rc == AIQ_STMT_ROW) {
			g_free(workflow->name);
			workflow->name = aiq_store_column_text(stmt, 0);
		} else if (rc != AIQ_STMT_DONE) {
			return aiq_stmt_set_error(stmt, "workflows", error);
		}
		/* the table owns the accumulators: take the workflow out */
		g_ptr_array_add(ctx->stats->workflows, g_steal_pointer(&accum->workflow));
	}
	return TRUE;
}

/**
 * aiq_store_get_execution_stats:
 * @from_us: the period is [@from_us, @to_us)
 * @bucket_us: the width of each bucket; the caller bounds their number
 * @max_workflows: how many workflows to give at most, the busiest
 *
 * Counts the tenant's executions created in the period by bucket, status
 * and workflow, with the durations of each workflow's finished executions
 * (percentiles by nearest rank) and the queue's depth at the end of each
 * bucket; and the executions queued and running now. All from one snapshot
 * of the store on SQLite; on PostgreSQL each of its reads is a transaction
 * of its own.
 *
 * The cost is a scan of the executions created in the period, and of those
 * created in as long a time before it (at least a day, at most a week), for
 * the ones that were already queued when it started. An execution that
 * waited longer than that before starting is counted in the queue depth
 * while it is still queued or running, but no longer once it has finished
 * (the store has no index on when executions started).
 *
 * Returns: (transfer full): the statistics
 */
AiqExecutionStats *
aiq_store_get_execution_stats(AiqStore *self,
			      const gchar *tenant_id,
			      gint64 from_us,
			      gint64 to_us,
			      gint64 bucket_us,
			      guint max_workflows,
			      GError **error)
{
	g_autoptr(AiqExecutionStats) stats = g_new0(AiqExecutionStats, 1);
	g_autoptr(GHashTable) accums = g_hash_table_new_full(g_str_hash,
							     g_str_equal,
							     NULL,
							     (GDestroyNotify)aiq_stats_accum_free);
	g_autofree gint64 *depth_delta = NULL;
	g_autoptr(AiqStmt) now = NULL;
	g_autoptr(AiqStmt) period = NULL;
	g_autoptr(AiqStmt) earlier = NULL;
	g_autoptr(AiqStmt) waiting = NULL;
	AiqStatsContext ctx = { stats, accums, NULL };
	gint64 lookback_us =
		CLAMP(to_us - from_us, AIQ_STATS_LOOKBACK_MIN_US, AIQ_STATS_LOOKBACK_MAX_US);
	gint64 n_buckets;
	gint64 depth = 0;
	AiqStmtStep rc;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);
	g_return_val_if_fail(from_us < to_us && bucket_us > 0, NULL);

	n_buckets = (to_us - from_us + bucket_us - 1) / bucket_us;
	g_return_val_if_fail(n_buckets <= G_MAXUINT, NULL);
	stats->from_us = from_us;
	stats->to_us = to_us;
	stats->bucket_us = bucket_us;
	stats->buckets = g_array_sized_new(FALSE, TRUE, sizeof(AiqStatsBucket), (guint)n_buckets);
	g_array_set_size(stats->buckets, (guint)n_buckets);
	for (guint i = 0; i < n_buckets; i++) {
		AiqStatsBucket *bucket = &g_array_index(stats->buckets, AiqStatsBucket, i);
		bucket->start_us = from_us + i * bucket_us;
		bucket->end_us = MIN(bucket->start_us + bucket_us, to_us);
	}
	stats->workflows = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_stats_workflow_free);
	depth_delta = g_new0(gint64, n_buckets + 1);
	ctx.depth_delta = depth_delta;

	/* the queue now; this statement's one row is not stepped past until
	 * the end, so on SQLite the implicit read transaction it opened stays
	 * open and every statement after it reads the same snapshot */
	now = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT (SELECT count(*) FROM executions WHERE tenant_id = ?1 AND "
		"status = 'queued'), (SELECT count(*) FROM executions WHERE tenant_id = ?1 AND "
		"status = 'running')",
		error);
	if (now == NULL)
		return NULL;
	aiq_stmt_bind_text(now, 1, tenant_id);
	rc = aiq_stmt_step(now);
	if (rc != AIQ_STMT_ROW) {
		aiq_stmt_set_error(now, "executions", error);
		return NULL;
	}
	stats->queued = (guint64)aiq_stmt_column_int64(now, 0);
	stats->running = (guint64)aiq_stmt_column_int64(now, 1);

	/* the period */
	period = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT created, status, started, finished, workflow_id, workflow_name "
		"FROM executions WHERE tenant_id = ?1 AND created >= ?2 AND created < ?3",
		error);
	if (period == NULL)
		return NULL;
	aiq_stmt_bind_text(period, 1, tenant_id);
	aiq_stmt_bind_int64(period, 2, from_us);
	aiq_stmt_bind_int64(period, 3, to_us);
	if (!aiq_stats_step_all(period, &ctx, aiq_stats_add_execution, error))
		return NULL;

	/* executions created before the period and still queued when it
	 * started: those of the lookback, by a scan of it ... */
	earlier = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT created, started, finished FROM executions WHERE tenant_id = ?1 AND "
		"created >= ?2 AND created < ?3 AND (started IS NULL OR started >= ?3) AND "
		"(finished IS NULL OR finished >= ?3)",
		error);
	if (earlier == NULL)
		return NULL;
	aiq_stmt_bind_text(earlier, 1, tenant_id);
	aiq_stmt_bind_int64(earlier, 2, from_us - lookback_us);
	aiq_stmt_bind_int64(earlier, 3, from_us);
	if (!aiq_stats_step_all(earlier, &ctx, aiq_stats_add_earlier, error))
		return NULL;
	/* ... and older ones that are still queued or running, from the
	 * status index (one status at a time: with `status IN (…)` the
	 * planner scanned the tenant's whole table) */
	waiting = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT created, started, finished FROM executions WHERE tenant_id = ?1 AND "
		"status = 'queued' AND created < ?2 AND (started IS NULL OR started >= ?3) AND "
		"(finished IS NULL OR finished >= ?3) "
		"UNION ALL "
		"SELECT created, started, finished FROM executions WHERE tenant_id = ?1 AND "
		"status = 'running' AND created < ?2 AND (started IS NULL OR started >= ?3) AND "
		"(finished IS NULL OR finished >= ?3)",
		error);
	if (waiting == NULL)
		return NULL;
	aiq_stmt_bind_text(waiting, 1, tenant_id);
	aiq_stmt_bind_int64(waiting, 2, from_us - lookback_us);
	aiq_stmt_bind_int64(waiting, 3, from_us);
	if (!aiq_stats_step_all(waiting, &ctx, aiq_stats_add_earlier, error))
		return NULL;

	for (guint i = 0; i < n_buckets; i++) {
		depth += depth_delta[i];
		g_array_index(stats->buckets, AiqStatsBucket, i).queue_depth = (guint64)depth;
	}
	if (!aiq_stats_finish_workflows(self, tenant_id, &ctx, max_workflows, error))
		return NULL;
	return g_steal_pointer(&stats);
}
