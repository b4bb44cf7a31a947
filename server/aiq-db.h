/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * For the store's files only: the statements of both backends.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * AiqDbBackend:
 * @AIQ_DB_SQLITE: an SQLite file, one server
 * @AIQ_DB_POSTGRES: a PostgreSQL database shared by any number of replicas
 */
typedef enum {
	AIQ_DB_SQLITE,
	AIQ_DB_POSTGRES,
} AiqDbBackend;

/**
 * AiqStmt:
 *
 * A prepared statement of either backend, cached by its connection (SQLite)
 * or by its thread (PostgreSQL): never freed by its user, only reset
 * (`g_autoptr(AiqStmt) stmt = aiq_store_read_prepare (…)` does).
 *
 * SQL is written once for both backends: `?` parameters (numbered in the
 * order they appear; `?N` for the Nth), SQL both dialects accept (`IS NOT
 * DISTINCT FROM` for a NULL-safe compare, `ON CONFLICT … DO …` instead of
 * `INSERT OR …`, `CAST(? AS BIGINT)` where PostgreSQL cannot infer a
 * parameter's type); aiq_stmt_get_backend() where they cannot agree.
 */
typedef struct _AiqStmt AiqStmt;

/**
 * AiqStmtStep:
 * @AIQ_STMT_ERROR: failed: aiq_stmt_set_error() tells why
 * @AIQ_STMT_DONE: no (more) rows
 * @AIQ_STMT_ROW: a row is there to read
 */
typedef enum {
	AIQ_STMT_ERROR = -1,
	AIQ_STMT_DONE = 0,
	AIQ_STMT_ROW = 1,
} AiqStmtStep;

AiqDbBackend
aiq_stmt_get_backend(AiqStmt *stmt);
/* ready to be bound and run again; bindings cleared */
void
aiq_stmt_reset(AiqStmt *stmt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqStmt, aiq_stmt_reset)

/* parameters count from 1 */
void
aiq_stmt_bind_null(AiqStmt *stmt, gint idx);
void
aiq_stmt_bind_int64(AiqStmt *stmt, gint idx, gint64 value);
/* @text %NULL binds NULL */
void
aiq_stmt_bind_text(AiqStmt *stmt, gint idx, const gchar *text);
void
aiq_stmt_bind_blob(AiqStmt *stmt, gint idx, gconstpointer data, gsize len);

AiqStmtStep
aiq_stmt_step(AiqStmt *stmt);
/* the error of the last step, with @what in front; returns %FALSE. Unique
 * and other constraint violations are AIQ_ERROR_CONFLICT; a busy, full or
 * unreachable store AIQ_ERROR_UNAVAILABLE */
gboolean
aiq_stmt_set_error(AiqStmt *stmt, const gchar *what, GError **error);
/* rows the last INSERT, UPDATE or DELETE changed; kept across a reset */
gint64
aiq_stmt_changes(AiqStmt *stmt);

/* columns count from 0; valid until the next step or reset */
gint
aiq_stmt_column_count(AiqStmt *stmt);
gboolean
aiq_stmt_column_is_null(AiqStmt *stmt, gint col);
gint64
aiq_stmt_column_int64(AiqStmt *stmt, gint col);
gint
aiq_stmt_column_int(AiqStmt *stmt, gint col);
/* %NULL for NULL */
const gchar *
aiq_stmt_column_text(AiqStmt *stmt, gint col);
gconstpointer
aiq_stmt_column_blob(AiqStmt *stmt, gint col, gsize *len);

/**
 * AiqDbValue:
 *
 * A copy of one column's value (for keyset pagination over any table).
 */
typedef struct _AiqDbValue AiqDbValue;
AiqDbValue *
aiq_stmt_column_value(AiqStmt *stmt, gint col);
void
aiq_stmt_bind_value(AiqStmt *stmt, gint idx, const AiqDbValue *value);
void
aiq_db_value_free(AiqDbValue *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqDbValue, aiq_db_value_free)

G_END_DECLS
