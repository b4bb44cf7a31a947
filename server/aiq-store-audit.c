/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The audit log: appended to, read by filters and cursor, and trimmed only
 * by its retention or a tenant's erasure. A trigger refuses any UPDATE.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <string.h>

#include "aiq-api.h"
#include "aiq-json.h"
#include "aiq-store-audit.h"
#include "aiq-store-private.h"

#define AIQ_AUDIT_COLUMNS                                                                         \
	"tenant_id, id, time, actor_type, actor_id, actor_name, action, target_type, target_id, " \
	"request_id, source, outcome, status, details"

void
aiq_audit_record_free(AiqAuditRecord *record)
{
	if (record == NULL)
		return;
	g_free(record->tenant_id);
	g_free(record->id);
	g_free(record->actor_type);
	g_free(record->actor_id);
	g_free(record->actor_name);
	g_free(record->action);
	g_free(record->target_type);
	g_free(record->target_id);
	g_free(record->request_id);
	g_free(record->source);
	g_free(record->outcome);
	if (record->details != NULL)
		json_node_unref(record->details);
	g_free(record);
}

static gboolean
aiq_store_append_audit_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqAuditRecord *record = user_data;
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(
		tx,
		"INSERT INTO audit_log (tenant_id, id, time, actor_type, actor_id, actor_name, "
		"action, target_type, target_id, request_id, source, outcome, status, details) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, record->tenant_id);
	aiq_stmt_bind_text(stmt, 2, record->id);
	aiq_stmt_bind_int64(stmt, 3, record->time_us);
	aiq_stmt_bind_text(stmt, 4, record->actor_type);
	aiq_stmt_bind_text(stmt, 5, record->actor_id);
	aiq_stmt_bind_text(stmt, 6, record->actor_name);
	aiq_stmt_bind_text(stmt, 7, record->action);
	aiq_stmt_bind_text(stmt, 8, record->target_type);
	aiq_stmt_bind_text(stmt, 9, record->target_id);
	aiq_stmt_bind_text(stmt, 10, record->request_id);
	aiq_stmt_bind_text(stmt, 11, record->source);
	aiq_stmt_bind_text(stmt, 12, record->outcome);
	aiq_stmt_bind_int64(stmt, 13, record->status);
	aiq_store_bind_json(stmt, 14, record->details);
	return aiq_store_tx_exec(tx, stmt, "audit_log", error);
}

/**
 * aiq_store_append_audit:
 * @record: (transfer full): with its id and time set
 *
 * Queues @record for the next group commit without waiting: an audited
 * request does not pay for a second commit. aiq_store_sync() before a read
 * sees it.
 */
void
aiq_store_append_audit(AiqStore *self, AiqAuditRecord *record)
{
	aiq_store_write_detached(self,
				 record->tenant_id,
				 aiq_store_append_audit_cb,
				 record,
				 (GDestroyNotify)aiq_audit_record_free);
}

static AiqAuditRecord *
aiq_audit_record_from_stmt(AiqStmt *stmt)
{
	AiqAuditRecord *record = g_new0(AiqAuditRecord, 1);
	record->tenant_id = aiq_store_column_text(stmt, 0);
	record->id = aiq_store_column_text(stmt, 1);
	record->time_us = aiq_stmt_column_int64(stmt, 2);
	record->actor_type = aiq_store_column_text(stmt, 3);
	record->actor_id = aiq_store_column_text(stmt, 4);
	record->actor_name = aiq_store_column_text(stmt, 5);
	record->action = aiq_store_column_text(stmt, 6);
	record->target_type = aiq_store_column_text(stmt, 7);
	record->target_id = aiq_store_column_text(stmt, 8);
	record->request_id = aiq_store_column_text(stmt, 9);
	record->source = aiq_store_column_text(stmt, 10);
	record->outcome = aiq_store_column_text(stmt, 11);
	record->status = aiq_stmt_column_int(stmt, 12);
	record->details = aiq_store_column_json(stmt, 13);
	return record;
}

/**
 * aiq_store_list_audit:
 * @filter: (nullable): which records
 * @cursor: (nullable): where the page starts (a `next_cursor`)
 *
 * Waits for the records queued so far (aiq_store_sync()), so that the
 * records of requests already answered are there.
 *
 * Returns: (transfer container) (element-type AiqAuditRecord): one page of
 * @tenant_id's log, newest first by (time, id)
 */
GPtrArray *
aiq_store_list_audit(AiqStore *self,
		     const gchar *tenant_id,
		     const AiqAuditFilter *filter,
		     const gchar *cursor,
		     guint limit,
		     gchar **next_cursor,
		     GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_audit_record_free);
	g_autoptr(GString) sql =
		g_string_new("SELECT " AIQ_AUDIT_COLUMNS " FROM audit_log WHERE tenant_id = ?1");
	g_autofree gchar *after_id = NULL;
	g_autoptr(AiqStmt) stmt = NULL;
	AiqAuditFilter none = { 0 };
	gint64 after_time = 0;
	gint n = 1; /* the parameters, numbered as they appear */

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);
	g_return_val_if_fail(limit > 0, NULL);

	if (filter == NULL)
		filter = &none;
	if (cursor != NULL && !aiq_store_cursor_decode(cursor, &after_time, &after_id, error))
		return NULL;
	if (!aiq_store_sync(self, error))
		return NULL;

	/* the filters, on the rows of the tenant's time index; only the
	 * parameters used are in the text (PostgreSQL must know the type of
	 * each), numbered in order: the binding below follows the same tests */
	if (filter->action != NULL) {
		n++;
		if (g_str_has_suffix(filter->action, "."))
			g_string_append_printf(
				sql,
				" AND substr(action, 1, length(CAST(?%d AS TEXT))) = ?%d",
				n,
				n);
		else
			g_string_append_printf(sql, " AND action = ?%d", n);
	}
	if (filter->actor != NULL) {
		n++;
		g_string_append_printf(sql, " AND (actor_id = ?%d OR actor_name = ?%d)", n, n);
	}
	if (filter->target != NULL)
		g_string_append_printf(sql, " AND target_id = ?%d", ++n);
	if (filter->outcome != NULL)
		g_string_append_printf(sql, " AND outcome = ?%d", ++n);
	if (filter->since_us > 0)
		g_string_append_printf(sql, " AND time >= ?%d", ++n);
	if (filter->until_us > 0)
		g_string_append_printf(sql, " AND time < ?%d", ++n);
	if (after_id != NULL) {
		g_string_append_printf(sql, " AND (time, id) < (?%d, ?%d)", n + 1, n + 2);
		n += 2;
	}
	g_string_append_printf(sql, " ORDER BY time DESC, id DESC LIMIT ?%d", ++n);

	stmt = aiq_store_read_prepare(self, tenant_id, sql->str, error);
	if (stmt == NULL)
		return NULL;
	n = 1;
	aiq_stmt_bind_text(stmt, n, tenant_id);
	if (filter->action != NULL)
		aiq_stmt_bind_text(stmt, ++n, filter->action);
	if (filter->actor != NULL)
		aiq_stmt_bind_text(stmt, ++n, filter->actor);
	if (filter->target != NULL)
		aiq_stmt_bind_text(stmt, ++n, filter->target);
	if (filter->outcome != NULL)
		aiq_stmt_bind_text(stmt, ++n, filter->outcome);
	if (filter->since_us > 0)
		aiq_stmt_bind_int64(stmt, ++n, filter->since_us);
	if (filter->until_us > 0)
		aiq_stmt_bind_int64(stmt, ++n, filter->until_us);
	if (after_id != NULL) {
		aiq_stmt_bind_int64(stmt, ++n, after_time);
		aiq_stmt_bind_text(stmt, ++n, after_id);
	}
	aiq_stmt_bind_int64(stmt, ++n, (gint64)limit + 1);
	if (!aiq_store_step_page(stmt,
				 limit,
				 (AiqStoreRowFunc)aiq_audit_record_from_stmt,
				 G_STRUCT_OFFSET(AiqAuditRecord, time_us),
				 G_STRUCT_OFFSET(AiqAuditRecord, id),
				 result,
				 "audit_log",
				 next_cursor,
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

typedef struct {
	const gchar *tenant_id;
	gint64 before_us;
	guint batch;
	guint64 deleted;
} AiqPruneAudit;

static gboolean
aiq_store_prune_audit_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqPruneAudit *op = user_data;
	g_autoptr(AiqStmt) stmt = NULL;

	op->deleted = 0; /* a run may be repeated */
	stmt = aiq_store_tx_prepare(tx,
				    "DELETE FROM audit_log WHERE tenant_id = ?1 AND id IN "
				    "(SELECT id FROM audit_log WHERE tenant_id = ?1 AND time < ?2 "
				    "ORDER BY time LIMIT ?3)",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	aiq_stmt_bind_int64(stmt, 2, op->before_us);
	aiq_stmt_bind_int64(stmt, 3, op->batch);
	if (!aiq_store_tx_exec(tx, stmt, "audit_log", error))
		return FALSE;
	op->deleted = (guint64)aiq_stmt_changes(stmt);
	return TRUE;
}

static gpointer
aiq_audit_first_column(AiqStmt *stmt)
{
	return aiq_store_column_text(stmt, 0);
}

/* the tenants that have records, one index lookup each (the loose index
 * scan of the SQLite documentation and the PostgreSQL wiki) rather than a
 * walk of every record */
static GPtrArray *
aiq_store_list_audit_tenants(AiqStore *self, GError **error)
{
	g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(
		self,
		AIQ_STORE_ALL_TENANTS,
		"WITH RECURSIVE t(id) AS (SELECT min(tenant_id) FROM audit_log "
		"UNION ALL SELECT (SELECT min(tenant_id) FROM audit_log WHERE tenant_id > t.id) "
		"FROM t WHERE t.id IS NOT NULL) SELECT id FROM t WHERE id IS NOT NULL",
		error);
	if (stmt == NULL)
		return NULL;
	if (!aiq_store_step_rows(stmt, aiq_audit_first_column, result, "audit_log", error))
		return NULL;
	return g_steal_pointer(&result);
}

/**
 * aiq_store_prune_audit:
 * @before_us: records older than this go
 * @batch: rows deleted per write, so that other writes get their turn
 *   between batches and no write holds the store for long
 * @n_deleted: (out) (optional): how many went
 *
 * The audit log's retention: deletes the records of every tenant older
 * than @before_us. The only way records leave the log besides a tenant's
 * erasure.
 */
gboolean
aiq_store_prune_audit(AiqStore *self,
		      gint64 before_us,
		      guint batch,
		      guint64 *n_deleted,
		      GError **error)
{
	g_autoptr(GPtrArray) tenants = NULL;
	guint64 total = 0;

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(batch > 0, FALSE);

	if (n_deleted != NULL)
		*n_deleted = 0;
	tenants = aiq_store_list_audit_tenants(self, error);
	if (tenants == NULL)
		return FALSE;
	for (guint i = 0; i < tenants->len; i++) {
		AiqPruneAudit op = { g_ptr_array_index(tenants, i), before_us, batch, 0 };
		do {
			op.deleted = 0;
			if (!aiq_store_write(self,
					     op.tenant_id,
					     aiq_store_prune_audit_cb,
					     &op,
					     error)) {
				g_prefix_error(error, "failed to prune the audit log: ");
				if (n_deleted != NULL)
					*n_deleted = total;
				return FALSE;
			}
			total += op.deleted;
		} while (op.deleted == batch);
	}
	if (n_deleted != NULL)
		*n_deleted = total;
	return TRUE;
}

static JsonNode *
aiq_audit_string_or_null(const gchar *value)
{
	return value != NULL ? aiq_json_new_string(value) : json_node_new(JSON_NODE_NULL);
}

/**
 * aiq_audit_record_to_json:
 *
 * Returns: (transfer full): the wire form: `{ id, tenant_id, time, actor:
 * {type, id, name}, action, target: {type, id}, request_id, source,
 * outcome, status, details }`
 */
JsonObject *
aiq_audit_record_to_json(const AiqAuditRecord *record)
{
	JsonObject *obj = json_object_new();
	JsonObject *actor = json_object_new();
	JsonObject *target = json_object_new();

	g_return_val_if_fail(record != NULL, obj);

	json_object_set_string_member(obj, "id", record->id);
	json_object_set_string_member(obj, "tenant_id", record->tenant_id);
	aiq_api_set_time(obj, "time", record->time_us);
	json_object_set_member(actor, "type", aiq_audit_string_or_null(record->actor_type));
	json_object_set_member(actor, "id", aiq_audit_string_or_null(record->actor_id));
	json_object_set_member(actor, "name", aiq_audit_string_or_null(record->actor_name));
	json_object_set_object_member(obj, "actor", actor);
	json_object_set_string_member(obj, "action", record->action);
	json_object_set_member(target, "type", aiq_audit_string_or_null(record->target_type));
	json_object_set_member(target, "id", aiq_audit_string_or_null(record->target_id));
	json_object_set_object_member(obj, "target", target);
	json_object_set_member(obj, "request_id", aiq_audit_string_or_null(record->request_id));
	json_object_set_member(obj, "source", aiq_audit_string_or_null(record->source));
	json_object_set_string_member(obj, "outcome", record->outcome);
	if (record->status > 0)
		json_object_set_int_member(obj, "status", record->status);
	else
		json_object_set_null_member(obj, "status");
	if (record->details != NULL)
		json_object_set_member(obj, "details", json_node_copy(record->details));
	else
		json_object_set_null_member(obj, "details");
	return obj;
}
