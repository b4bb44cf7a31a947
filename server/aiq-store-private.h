/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * For the aiq-store-*.c files of the SQLite backend only.
 */

#pragma once

#include <sqlite3.h>

#include "aiq-limits.h"
#include "aiq-store.h"

G_BEGIN_DECLS

/* cached statements are reset, not finalized, when they go out of scope:
 * g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(...) */
typedef sqlite3_stmt AiqStmt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqStmt, sqlite3_reset)

typedef struct _AiqStoreTx AiqStoreTx;

/**
 * AiqStoreWriteFunc:
 *
 * One write, run by the writer thread inside a savepoint of a group
 * transaction. Return %FALSE with @error to undo this write only.
 */
typedef gboolean (*AiqStoreWriteFunc)(AiqStoreTx *tx, gpointer user_data, GError **error);

/* a cached statement of this thread's read connection; reset it when done
 * (g_autoptr(sqlite3_stmt) does) */
AiqStmt *
aiq_store_read_prepare(AiqStore *self, const gchar *sql, GError **error);
/* runs @func in the writer thread and blocks until it is committed */
gboolean
aiq_store_write(AiqStore *self, AiqStoreWriteFunc func, gpointer user_data, GError **error);
/* queues @func without waiting; @destroy frees @user_data after it ran */
void
aiq_store_write_detached(AiqStore *self,
			 AiqStoreWriteFunc func,
			 gpointer user_data,
			 GDestroyNotify destroy);
/* a cached statement of the writer's connection, inside a write */
AiqStmt *
aiq_store_tx_prepare(AiqStoreTx *tx, const gchar *sql, GError **error);
sqlite3 *
aiq_store_tx_get_db(AiqStoreTx *tx);
/* sqlite3_step() for statements that return no rows, with an error naming @what */
gboolean
aiq_store_tx_exec(AiqStoreTx *tx, sqlite3_stmt *stmt, const gchar *what, GError **error);
/* the same for an UPDATE or DELETE of one row: AIQ_ERROR_NOT_FOUND (“no @what
 * “@id””) when it changed none */
gboolean
aiq_store_tx_exec_existing(AiqStoreTx *tx,
			   sqlite3_stmt *stmt,
			   const gchar *what,
			   const gchar *id,
			   GError **error);
gboolean
aiq_store_set_sqlite_error(sqlite3 *db, gint rc, const gchar *what, GError **error);
/* sqlite3_step() to the one row of a `SELECT count(*)` */
gboolean
aiq_store_step_count(sqlite3_stmt *stmt, const gchar *what, gint64 *count, GError **error);
void
aiq_store_set_quota_error(GError **error, AiqLimit quota, gint64 limit, gint64 used);
/* sqlite3_step() to the one row a lookup wants: AIQ_ERROR_NOT_FOUND (“no @what
 * “@id””) when there is none */
gboolean
aiq_store_step_row(sqlite3_stmt *stmt, const gchar *what, const gchar *id, GError **error);

/* binding and reading helpers */
void
aiq_store_bind_text(sqlite3_stmt *stmt, gint idx, const gchar *text);
void
aiq_store_bind_json(sqlite3_stmt *stmt, gint idx, JsonNode *node);
void
aiq_store_bind_strv(sqlite3_stmt *stmt, gint idx, gchar **strv);
gchar *
aiq_store_column_text(sqlite3_stmt *stmt, gint idx);
JsonNode *
aiq_store_column_json(sqlite3_stmt *stmt, gint idx);
gchar **
aiq_store_column_strv(sqlite3_stmt *stmt, gint idx);

typedef gpointer (*AiqStoreRowFunc)(sqlite3_stmt *stmt);
/* every row of @stmt, made by @from_row, added to @result */
gboolean
aiq_store_step_rows(sqlite3_stmt *stmt,
		    AiqStoreRowFunc from_row,
		    GPtrArray *result,
		    const gchar *what,
		    GError **error);
gboolean
aiq_store_step_page(sqlite3_stmt *stmt,
		    guint limit,
		    AiqStoreRowFunc from_row,
		    glong created_offset,
		    glong id_offset,
		    GPtrArray *result,
		    const gchar *what,
		    gchar **next_cursor,
		    GError **error);

G_END_DECLS
