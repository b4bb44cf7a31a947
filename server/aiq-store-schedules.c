/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Schedule state and webhooks in the store.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-store-private.h"
#include "aiq-store-schedules.h"

void
aiq_webhook_row_free(AiqWebhookRow *row)
{
	if (row == NULL)
		return;
	g_free(row->tenant_id);
	g_free(row->workflow_id);
	g_free(row->sealed);
	g_free(row);
}

gboolean
aiq_store_get_schedule_last_fire(AiqStore *self,
				 const gchar *tenant_id,
				 const gchar *workflow_id,
				 guint trigger_index,
				 gint64 *last_fire_us,
				 GError **error)
{
	g_autoptr(AiqStmt) stmt =
		aiq_store_read_prepare(self,
				       tenant_id,
				       "SELECT last_fire FROM schedule_state WHERE "
				       "tenant_id = ?1 AND workflow_id = ?2 AND "
				       "trigger_index = ?3",
				       error);
	AiqStmtStep rc;
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, workflow_id);
	aiq_stmt_bind_int64(stmt, 3, trigger_index);
	rc = aiq_stmt_step(stmt);
	if (rc == AIQ_STMT_ROW) {
		*last_fire_us = aiq_stmt_column_int64(stmt, 0);
		return TRUE;
	}
	if (rc == AIQ_STMT_DONE) {
		g_set_error_literal(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, "no schedule state");
		return FALSE;
	}
	return aiq_stmt_set_error(stmt, "schedule_state", error);
}

typedef struct {
	const gchar *tenant_id;
	const gchar *workflow_id;
	guint trigger_index;
	gint64 fire_us;
	const gchar *execution_id;
} AiqRecordFire;

static gboolean
aiq_store_record_fire_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqRecordFire *op = user_data;
	g_autoptr(AiqStmt) state = aiq_store_tx_prepare(
		tx,
		"INSERT INTO schedule_state (tenant_id, workflow_id, trigger_index, "
		"last_fire) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (tenant_id, workflow_id, "
		"trigger_index) DO UPDATE SET last_fire = CASE WHEN excluded.last_fire > "
		"schedule_state.last_fire THEN excluded.last_fire ELSE schedule_state.last_fire "
		"END",
		error);
	if (state == NULL)
		return FALSE;
	aiq_stmt_bind_text(state, 1, op->tenant_id);
	aiq_stmt_bind_text(state, 2, op->workflow_id);
	aiq_stmt_bind_int64(state, 3, op->trigger_index);
	aiq_stmt_bind_int64(state, 4, op->fire_us);
	if (!aiq_store_tx_exec(tx, state, "schedule_state", error))
		return FALSE;
	if (op->execution_id != NULL) {
		g_autoptr(AiqStmt) fire = aiq_store_tx_prepare(
			tx,
			"INSERT INTO schedule_fires (tenant_id, workflow_id, trigger_index, "
			"fire_time, execution_id) VALUES (?1, ?2, ?3, ?4, ?5) "
			"ON CONFLICT DO NOTHING",
			error);
		if (fire == NULL)
			return FALSE;
		aiq_stmt_bind_text(fire, 1, op->tenant_id);
		aiq_stmt_bind_text(fire, 2, op->workflow_id);
		aiq_stmt_bind_int64(fire, 3, op->trigger_index);
		aiq_stmt_bind_int64(fire, 4, op->fire_us);
		aiq_stmt_bind_text(fire, 5, op->execution_id);
		if (!aiq_store_tx_exec(tx, fire, "schedule_fires", error))
			return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_record_schedule_fire:
 * @execution_id: (nullable): the execution started; %NULL when the fire
 *   was skipped (catch-up none) or the schedule is new
 */
gboolean
aiq_store_record_schedule_fire(AiqStore *self,
			       const gchar *tenant_id,
			       const gchar *workflow_id,
			       guint trigger_index,
			       gint64 fire_us,
			       const gchar *execution_id,
			       GError **error)
{
	AiqRecordFire op = { tenant_id, workflow_id, trigger_index, fire_us, execution_id };
	return aiq_store_write(self, tenant_id, aiq_store_record_fire_cb, &op, error);
}

typedef struct {
	const AiqScheduleKey *keys;
	guint n_keys;
	gint64 now_us;
} AiqStartSchedules;

static gboolean
aiq_store_start_schedules_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqStartSchedules *op = user_data;
	for (guint i = 0; i < op->n_keys; i++) {
		AiqRecordFire fire = { op->keys[i].tenant_id,
				       op->keys[i].workflow_id,
				       op->keys[i].trigger_index,
				       op->now_us,
				       NULL };
		if (!aiq_store_record_fire_cb(tx, &fire, error))
			return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_start_schedules:
 *
 * Records @now_us as the last fire of each new schedule, in one
 * transaction: a server that finds 10,000 new schedules at start writes
 * them in one commit, not 10,000.
 */
gboolean
aiq_store_start_schedules(AiqStore *self,
			  const AiqScheduleKey *keys,
			  guint n_keys,
			  gint64 now_us,
			  GError **error)
{
	AiqStartSchedules op = { keys, n_keys, now_us };
	if (n_keys == 0)
		return TRUE;
	/* the new schedules of every tenant */
	return aiq_store_write(self,
			       AIQ_STORE_ALL_TENANTS,
			       aiq_store_start_schedules_cb,
			       &op,
			       error);
}

#define AIQ_WEBHOOK_COLUMNS "tenant_id, workflow_id, token_hash, secret, created"

static AiqWebhookRow *
aiq_webhook_row_from_row(AiqStmt *stmt)
{
	AiqWebhookRow *row = g_new0(AiqWebhookRow, 1);
	gsize len = 0;
	gconstpointer hash;
	row->tenant_id = aiq_store_column_text(stmt, 0);
	row->workflow_id = aiq_store_column_text(stmt, 1);
	hash = aiq_stmt_column_blob(stmt, 2, &len);
	if (hash != NULL && len == 32)
		memcpy(row->token_hash, hash, 32);
	row->sealed = aiq_store_column_text(stmt, 3);
	row->created_us = aiq_stmt_column_int64(stmt, 4);
	return row;
}

/* to the one webhook a lookup wants */
static gboolean
aiq_webhook_step(AiqStmt *stmt, GError **error)
{
	AiqStmtStep rc = aiq_stmt_step(stmt);
	if (rc == AIQ_STMT_ROW)
		return TRUE;
	if (rc == AIQ_STMT_ERROR)
		return aiq_stmt_set_error(stmt, "webhooks", error);
	g_set_error_literal(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, _("no webhook"));
	return FALSE;
}

AiqWebhookRow *
aiq_store_get_webhook(AiqStore *self,
		      const gchar *tenant_id,
		      const gchar *workflow_id,
		      GError **error)
{
	g_autoptr(AiqStmt) stmt =
		aiq_store_read_prepare(self,
				       tenant_id,
				       "SELECT " AIQ_WEBHOOK_COLUMNS
				       " FROM webhooks WHERE tenant_id = ?1 AND workflow_id = ?2",
				       error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, workflow_id);
	if (!aiq_webhook_step(stmt, error))
		return NULL;
	return aiq_webhook_row_from_row(stmt);
}

AiqWebhookRow *
aiq_store_lookup_webhook(AiqStore *self,
			 const gchar *tenant_id,
			 const guint8 *token_hash,
			 GError **error)
{
	g_autoptr(AiqStmt) stmt =
		aiq_store_read_prepare(self,
				       tenant_id,
				       "SELECT " AIQ_WEBHOOK_COLUMNS
				       " FROM webhooks WHERE tenant_id = ?1 AND token_hash = ?2",
				       error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_blob(stmt, 2, token_hash, 32);
	if (!aiq_webhook_step(stmt, error))
		return NULL;
	return aiq_webhook_row_from_row(stmt);
}

static gboolean
aiq_store_set_webhook_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	const AiqWebhookRow *row = user_data;
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(
		tx,
		"INSERT INTO webhooks (" AIQ_WEBHOOK_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5) "
		"ON CONFLICT (tenant_id, workflow_id) DO UPDATE SET token_hash = "
		"excluded.token_hash, secret = excluded.secret, created = excluded.created",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, row->tenant_id);
	aiq_stmt_bind_text(stmt, 2, row->workflow_id);
	aiq_stmt_bind_blob(stmt, 3, row->token_hash, 32);
	aiq_stmt_bind_text(stmt, 4, row->sealed);
	aiq_stmt_bind_int64(stmt, 5, row->created_us);
	return aiq_store_tx_exec(tx, stmt, "webhooks", error);
}

gboolean
aiq_store_set_webhook(AiqStore *self, const AiqWebhookRow *row, GError **error)
{
	return aiq_store_write(self,
			       row->tenant_id,
			       aiq_store_set_webhook_cb,
			       (gpointer)row,
			       error);
}
