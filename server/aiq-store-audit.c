/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The audit log: appended to, read by filters and cursor, and trimmed only
 * by its retention or a tenant's erasure. A trigger refuses any UPDATE.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include "aiq-store-audit.h"
#include "aiq-store-private.h"

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
	aiq_store_bind_text(stmt, 1, record->tenant_id);
	aiq_store_bind_text(stmt, 2, record->id);
	sqlite3_bind_int64(stmt, 3, record->time_us);
	aiq_store_bind_text(stmt, 4, record->actor_type);
	aiq_store_bind_text(stmt, 5, record->actor_id);
	aiq_store_bind_text(stmt, 6, record->actor_name);
	aiq_store_bind_text(stmt, 7, record->action);
	aiq_store_bind_text(stmt, 8, record->target_type);
	aiq_store_bind_text(stmt, 9, record->target_id);
	aiq_store_bind_text(stmt, 10, record->request_id);
	aiq_store_bind_text(stmt, 11, record->source);
	aiq_store_bind_text(stmt, 12, record->outcome);
	sqlite3_bind_int(stmt, 13, record->status);
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
				 aiq_store_append_audit_cb,
				 record,
				 (GDestroyNotify)aiq_audit_record_free);
}
