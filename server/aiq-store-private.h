/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * For the aiq-store-*.c files only: what both backends (SQLite and
 * PostgreSQL) offer the domain functions.
 */

#pragma once

#include "aiq-db.h"
#include "aiq-limits.h"
#include "aiq-store.h"

G_BEGIN_DECLS

/**
 * AIQ_STORE_ALL_TENANTS:
 *
 * The tenant of a read or write that scans every tenant's rows on purpose
 * (the scheduler, the queue, retention, metrics, cloud workers). On
 * PostgreSQL it sets `app.all_tenants` for its transaction, which the
 * row-level security policies let through; every other read or write sees
 * only the rows of the tenant it names (and none when it names none).
 */
#define AIQ_STORE_ALL_TENANTS "*"

typedef struct _AiqStoreTx AiqStoreTx;

/**
 * AiqStoreWriteFunc:
 *
 * One write. SQLite: run by the writer thread inside a savepoint of a group
 * transaction; PostgreSQL: run by the calling thread in a transaction of
 * its own (run again when PostgreSQL reports a serialization failure or a
 * deadlock, so it must not keep state across runs except its results).
 * Return %FALSE with @error to undo this write only.
 */
typedef gboolean (*AiqStoreWriteFunc)(AiqStoreTx *tx, gpointer user_data, GError **error);

AiqDbBackend
aiq_store_get_backend(AiqStore *self);

/* a statement for one read of @tenant_id's rows (%AIQ_STORE_ALL_TENANTS,
 * or %NULL for the tenants table only); reset it when done (g_autoptr(AiqStmt)
 * does). Each statement is a transaction of its own. */
AiqStmt *
aiq_store_read_prepare(AiqStore *self, const gchar *tenant_id, const gchar *sql, GError **error);
/* runs @func as one write of @tenant_id's rows and blocks until it is
 * committed */
gboolean
aiq_store_write(AiqStore *self,
		const gchar *tenant_id,
		AiqStoreWriteFunc func,
		gpointer user_data,
		GError **error);
/* queues @func without waiting; @destroy frees @user_data after it ran */
void
aiq_store_write_detached(AiqStore *self,
			 const gchar *tenant_id,
			 AiqStoreWriteFunc func,
			 gpointer user_data,
			 GDestroyNotify destroy);
/* a cached statement of the write's connection, inside a write */
AiqStmt *
aiq_store_tx_prepare(AiqStoreTx *tx, const gchar *sql, GError **error);
AiqDbBackend
aiq_store_tx_get_backend(AiqStoreTx *tx);
/* the write's tenant, as given to aiq_store_write() */
const gchar *
aiq_store_tx_get_tenant(AiqStoreTx *tx);
/* serialises the writes that count a tenant's rows before adding one (the
 * quotas) across replicas: PostgreSQL takes a transaction-scoped advisory
 * lock on the tenant; SQLite's single writer needs none */
gboolean
aiq_store_tx_lock_tenant(AiqStoreTx *tx, const gchar *tenant_id, GError **error);
/* PostgreSQL: around a write that will take aiq_store_tx_lock_tenant(), so
 * that this replica's writes of one tenant wait for it one at a time here,
 * without each holding a pooled connection (which starved every other
 * request of connections under a burst of one tenant's starts); no-ops on
 * SQLite */
void
aiq_store_tenant_serial_enter(AiqStore *self, const gchar *tenant_id);
void
aiq_store_tenant_serial_leave(AiqStore *self, const gchar *tenant_id);
/* aiq_stmt_step() for statements that return no rows (or whose rows are
 * not wanted), then a reset, with an error naming @what */
gboolean
aiq_store_tx_exec(AiqStoreTx *tx, AiqStmt *stmt, const gchar *what, GError **error);
/* the same for an UPDATE or DELETE of one row: AIQ_ERROR_NOT_FOUND (“no @what
 * “@id””) when it changed none */
gboolean
aiq_store_tx_exec_existing(AiqStoreTx *tx,
			   AiqStmt *stmt,
			   const gchar *what,
			   const gchar *id,
			   GError **error);
/* aiq_stmt_step() to the one row of a `SELECT count(*)` */
gboolean
aiq_store_step_count(AiqStmt *stmt, const gchar *what, gint64 *count, GError **error);
void
aiq_store_set_quota_error(GError **error, AiqLimit quota, gint64 limit, gint64 used);
/* aiq_stmt_step() to the one row a lookup wants: AIQ_ERROR_NOT_FOUND (“no @what
 * “@id””) when there is none */
gboolean
aiq_store_step_row(AiqStmt *stmt, const gchar *what, const gchar *id, GError **error);

/* binding and reading helpers */
void
aiq_store_bind_json(AiqStmt *stmt, gint idx, JsonNode *node);
void
aiq_store_bind_strv(AiqStmt *stmt, gint idx, gchar **strv);
gchar *
aiq_store_column_text(AiqStmt *stmt, gint idx);
JsonNode *
aiq_store_column_json(AiqStmt *stmt, gint idx);
gchar **
aiq_store_column_strv(AiqStmt *stmt, gint idx);

typedef gpointer (*AiqStoreRowFunc)(AiqStmt *stmt);
/* every row of @stmt, made by @from_row, added to @result */
gboolean
aiq_store_step_rows(AiqStmt *stmt,
		    AiqStoreRowFunc from_row,
		    GPtrArray *result,
		    const gchar *what,
		    GError **error);
gboolean
aiq_store_step_page(AiqStmt *stmt,
		    guint limit,
		    AiqStoreRowFunc from_row,
		    glong created_offset,
		    glong id_offset,
		    GPtrArray *result,
		    const gchar *what,
		    gchar **next_cursor,
		    GError **error);

G_END_DECLS
