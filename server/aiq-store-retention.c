/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Retention in the store: the finished executions old enough to
 * leave the hot store, read whole for their archive line, then recorded in
 * execution_archive and deleted with their steps, events and job, a batch
 * per write; and the archive index rows past the cold retention.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include "aiq-error.h"
#include "aiq-store-private.h"
#include "aiq-store-retention.h"

/* the statuses an execution ends in (aiq_execution_status_is_final_str) */
#define AIQ_FINAL_STATUSES "('succeeded', 'failed', 'cancelled', 'timed_out')"

/* the rest of aiq_store_list_archive_candidates()'s SELECT */
#define AIQ_ARCHIVE_CANDIDATES_WHERE                                                   \
	"WHERE e.tenant_id = ?1 AND e.created < ?2 AND (e.created, e.id) > (?3, ?4) "  \
	"AND e.status IN " AIQ_FINAL_STATUSES " AND NOT EXISTS (SELECT 1 FROM jobs j " \
	"WHERE j.tenant_id = e.tenant_id AND j.execution_id = e.id "                   \
	"AND j.state IN ('queued', 'leased')) "                                        \
	"ORDER BY e.created, e.id LIMIT ?5"

void
aiq_archive_candidate_free(AiqArchiveCandidate *candidate)
{
	if (candidate == NULL)
		return;
	g_free(candidate->id);
	g_free(candidate);
}

void
aiq_execution_record_free(AiqExecutionRecord *record)
{
	if (record == NULL)
		return;
	aiq_execution_row_free(record->execution);
	g_clear_pointer(&record->steps, g_ptr_array_unref);
	g_clear_pointer(&record->events, g_ptr_array_unref);
	g_free(record);
}

static AiqArchiveCandidate *
aiq_archive_candidate_from_stmt(AiqStmt *stmt)
{
	AiqArchiveCandidate *candidate = g_new0(AiqArchiveCandidate, 1);
	candidate->id = aiq_store_column_text(stmt, 0);
	candidate->created_us = aiq_stmt_column_int64(stmt, 1);
	return candidate;
}

/**
 * aiq_store_list_archive_candidates:
 * @before_us: created before this
 * @after_created_us: the page starts after (@after_created_us, @after_id);
 *   %G_MININT64 and "" for the first page
 *
 * Walks the tenant's executions by the executions_created index, oldest
 * first. A candidate is finished (a final status) and has no job queued or
 * leased: a running or queued execution is never archived.
 *
 * Returns: (transfer container) (element-type AiqArchiveCandidate): up to
 * @limit, by (created, id)
 */
GPtrArray *
aiq_store_list_archive_candidates(AiqStore *self,
				  const gchar *tenant_id,
				  gint64 before_us,
				  gint64 after_created_us,
				  const gchar *after_id,
				  guint limit,
				  GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_archive_candidate_free);
	g_autoptr(AiqStmt) stmt = NULL;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL && after_id != NULL, NULL);
	g_return_val_if_fail(limit > 0, NULL);

	/* INDEXED BY is SQLite's: PostgreSQL's planner picks the index */
	stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		aiq_store_get_backend(self) == AIQ_DB_POSTGRES
			? "SELECT e.id, e.created FROM executions e " AIQ_ARCHIVE_CANDIDATES_WHERE
			: "SELECT e.id, e.created FROM executions e "
			  "INDEXED BY executions_created " AIQ_ARCHIVE_CANDIDATES_WHERE,
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_int64(stmt, 2, before_us);
	aiq_stmt_bind_int64(stmt, 3, after_created_us);
	aiq_stmt_bind_text(stmt, 4, after_id);
	aiq_stmt_bind_int64(stmt, 5, limit);
	if (!aiq_store_step_rows(stmt,
				 (AiqStoreRowFunc)aiq_archive_candidate_from_stmt,
				 result,
				 "executions",
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

static gboolean
aiq_store_read_exec(AiqStore *self, const gchar *tenant_id, const gchar *sql, GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(self, tenant_id, sql, error);
	if (stmt == NULL)
		return FALSE;
	if (aiq_stmt_step(stmt) != AIQ_STMT_DONE)
		return aiq_stmt_set_error(stmt, sql, error);
	return TRUE;
}

static AiqExecutionRecord *
aiq_store_read_execution_record_in(AiqStore *self,
				   const gchar *tenant_id,
				   const gchar *execution_id,
				   GError **error)
{
	g_autoptr(AiqExecutionRecord) record = g_new0(AiqExecutionRecord, 1);
	record->execution = aiq_store_get_execution(self, tenant_id, execution_id, error);
	if (record->execution == NULL)
		return NULL;
	record->steps = aiq_store_list_execution_steps(self, tenant_id, execution_id, error);
	if (record->steps == NULL)
		return NULL;
	record->events =
		aiq_store_list_execution_events(self, tenant_id, execution_id, 0, G_MAXINT, error);
	if (record->events == NULL)
		return NULL;
	return g_steal_pointer(&record);
}

/* PostgreSQL: each read is a transaction of its own, so the three reads
 * are no snapshot; the record holds when the execution read again after
 * them has not moved on (its status and its last event are the same) */
static AiqExecutionRecord *
aiq_store_read_execution_record_checked(AiqStore *self,
					const gchar *tenant_id,
					const gchar *execution_id,
					GError **error)
{
	for (guint attempt = 0; attempt < 3; attempt++) {
		g_autoptr(AiqExecutionRecord) record =
			aiq_store_read_execution_record_in(self, tenant_id, execution_id, error);
		g_autoptr(AiqExecutionRow) again = NULL;
		if (record == NULL)
			return NULL;
		again = aiq_store_get_execution(self, tenant_id, execution_id, error);
		if (again == NULL)
			return NULL;
		if (again->last_seq == record->execution->last_seq &&
		    g_strcmp0(again->status, record->execution->status) == 0)
			return g_steal_pointer(&record);
	}
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_CONFLICT,
		    "execution “%s” kept changing while it was read",
		    execution_id);
	return NULL;
}

/**
 * aiq_store_read_execution_record:
 *
 * Reads an execution, its steps and all its events in one snapshot of the
 * store; AIQ_ERROR_NOT_FOUND when it is not there.
 *
 * Returns: (transfer full): the record
 */
AiqExecutionRecord *
aiq_store_read_execution_record(AiqStore *self,
				const gchar *tenant_id,
				const gchar *execution_id,
				GError **error)
{
	AiqExecutionRecord *record;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL && execution_id != NULL, NULL);

	if (aiq_store_get_backend(self) == AIQ_DB_POSTGRES)
		return aiq_store_read_execution_record_checked(self,
							       tenant_id,
							       execution_id,
							       error);

	/* the three reads share this thread's read connection: one
	 * transaction makes them one snapshot */
	if (!aiq_store_read_exec(self, tenant_id, "BEGIN", error))
		return NULL;
	record = aiq_store_read_execution_record_in(self, tenant_id, execution_id, error);
	if (!aiq_store_read_exec(self, tenant_id, "COMMIT", record != NULL ? error : NULL)) {
		aiq_execution_record_free(record);
		return NULL;
	}
	return record;
}

typedef struct {
	const gchar *tenant_id;
	GPtrArray *ids;
	gint64 day;
	gint64 archived_us;
	guint n_archived;
} AiqArchiveExecutions;

static gboolean
aiq_store_delete_execution_rows(AiqStoreTx *tx,
				const gchar *sql,
				const gchar *tenant_id,
				const gchar *execution_id,
				const gchar *what,
				GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(tx, sql, error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, execution_id);
	return aiq_store_tx_exec(tx, stmt, what, error);
}

static gboolean
aiq_store_archive_execution(AiqStoreTx *tx,
			    AiqArchiveExecutions *op,
			    const gchar *execution_id,
			    GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;

	/* still finished, with no job queued or leased: else it stays */
	stmt = aiq_store_tx_prepare(tx,
				    "DELETE FROM executions WHERE tenant_id = ?1 AND id = ?2 "
				    "AND status IN " AIQ_FINAL_STATUSES " AND NOT EXISTS "
				    "(SELECT 1 FROM jobs j WHERE j.tenant_id = ?1 AND "
				    "j.execution_id = ?2 AND j.state IN ('queued', 'leased'))",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	aiq_stmt_bind_text(stmt, 2, execution_id);
	if (!aiq_store_tx_exec(tx, stmt, "execution", error))
		return FALSE;
	if (aiq_stmt_changes(stmt) == 0)
		return TRUE;
	g_clear_pointer(&stmt, aiq_stmt_reset);

	stmt = aiq_store_tx_prepare(tx,
				    "INSERT INTO execution_archive (tenant_id, execution_id, day, "
				    "archived) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (tenant_id, "
				    "execution_id) DO UPDATE SET day = excluded.day, "
				    "archived = excluded.archived",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	aiq_stmt_bind_text(stmt, 2, execution_id);
	aiq_stmt_bind_int64(stmt, 3, op->day);
	aiq_stmt_bind_int64(stmt, 4, op->archived_us);
	if (!aiq_store_tx_exec(tx, stmt, "execution archive", error))
		return FALSE;

	if (!aiq_store_delete_execution_rows(tx,
					     "DELETE FROM execution_steps WHERE tenant_id = ?1 "
					     "AND execution_id = ?2",
					     op->tenant_id,
					     execution_id,
					     "execution steps",
					     error) ||
	    !aiq_store_delete_execution_rows(tx,
					     "DELETE FROM execution_events WHERE tenant_id = ?1 "
					     "AND execution_id = ?2",
					     op->tenant_id,
					     execution_id,
					     "execution events",
					     error) ||
	    !aiq_store_delete_execution_rows(tx,
					     "DELETE FROM jobs WHERE tenant_id = ?1 "
					     "AND execution_id = ?2",
					     op->tenant_id,
					     execution_id,
					     "job",
					     error))
		return FALSE;
	op->n_archived++;
	return TRUE;
}

static gboolean
aiq_store_archive_executions_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqArchiveExecutions *op = user_data;
	op->n_archived = 0;
	for (guint i = 0; i < op->ids->len; i++) {
		if (!aiq_store_archive_execution(tx, op, g_ptr_array_index(op->ids, i), error))
			return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_archive_executions:
 * @execution_ids: (element-type utf8): one batch; the caller keeps it small
 *   (hundreds), as the store's writer does nothing else meanwhile
 * @day: the UTC day of their archive file, in days since the epoch
 * @n_archived: (out): how many were still finished and are now archived
 *
 * In one write: each execution that is still finished is recorded in
 * execution_archive and deleted with its steps, events and job. Call it
 * once the archive file holding them is on disk.
 */
gboolean
aiq_store_archive_executions(AiqStore *self,
			     const gchar *tenant_id,
			     GPtrArray *execution_ids,
			     gint64 day,
			     gint64 archived_us,
			     guint *n_archived,
			     GError **error)
{
	AiqArchiveExecutions op = { tenant_id, execution_ids, day, archived_us, 0 };

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL && execution_ids != NULL, FALSE);

	if (!aiq_store_write(self, tenant_id, aiq_store_archive_executions_cb, &op, error))
		return FALSE;
	if (n_archived != NULL)
		*n_archived = op.n_archived;
	return TRUE;
}

/**
 * aiq_store_get_execution_archive:
 * @day: (out): the UTC day of its archive file, in days since the epoch
 * @archived_us: (out): when it was archived
 *
 * Where an archived execution went; AIQ_ERROR_NOT_FOUND when it was not
 * archived (or its archive is gone past the cold retention).
 */
gboolean
aiq_store_get_execution_archive(AiqStore *self,
				const gchar *tenant_id,
				const gchar *execution_id,
				gint64 *day,
				gint64 *archived_us,
				GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL && execution_id != NULL, FALSE);

	stmt = aiq_store_read_prepare(self,
				      tenant_id,
				      "SELECT day, archived FROM execution_archive "
				      "WHERE tenant_id = ?1 AND execution_id = ?2",
				      error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, execution_id);
	if (!aiq_store_step_row(stmt, "archived execution", execution_id, error))
		return FALSE;
	if (day != NULL)
		*day = aiq_stmt_column_int64(stmt, 0);
	if (archived_us != NULL)
		*archived_us = aiq_stmt_column_int64(stmt, 1);
	return TRUE;
}

typedef struct {
	const gchar *tenant_id;
	gint64 before_day;
	guint batch;
	guint64 n_deleted;
} AiqDeleteArchiveRows;

static gboolean
aiq_store_delete_archive_rows_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqDeleteArchiveRows *op = user_data;
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(
		tx,
		"DELETE FROM execution_archive WHERE tenant_id = ?1 AND execution_id IN "
		"(SELECT execution_id FROM execution_archive WHERE tenant_id = ?1 AND day < ?2 "
		"LIMIT ?3)",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	aiq_stmt_bind_int64(stmt, 2, op->before_day);
	aiq_stmt_bind_int64(stmt, 3, op->batch);
	if (!aiq_store_tx_exec(tx, stmt, "execution archive", error))
		return FALSE;
	op->n_deleted = (guint64)aiq_stmt_changes(stmt);
	return TRUE;
}

/**
 * aiq_store_delete_archive_rows:
 * @before_day: rows of days before this one go (days since the epoch)
 * @batch: rows deleted per write
 * @n_deleted: (out): how many went in all
 *
 * Forgets the archived executions of the tenant's archive files past the
 * cold retention, @batch rows per write until none is left.
 */
gboolean
aiq_store_delete_archive_rows(AiqStore *self,
			      const gchar *tenant_id,
			      gint64 before_day,
			      guint batch,
			      guint64 *n_deleted,
			      GError **error)
{
	AiqDeleteArchiveRows op = { tenant_id, before_day, batch, 0 };
	guint64 total = 0;

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL && batch > 0, FALSE);

	do {
		if (!aiq_store_write(self, tenant_id, aiq_store_delete_archive_rows_cb, &op, error))
			return FALSE;
		total += op.n_deleted;
	} while (op.n_deleted >= batch);
	if (n_deleted != NULL)
		*n_deleted = total;
	return TRUE;
}
