/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * A test's own connection to a test server's database, on either backend:
 * the SQLite file, or (with AIQ_TEST_STORE=postgresql) the server's
 * PostgreSQL database as the cluster's superuser, which row-level security
 * does not bind, so every tenant's rows are there. For reading what the
 * server stored and for writing behind its back.
 *
 * SQL is written once, valid on both: parameters `?1`, `?2`… (`$1`… on
 * PostgreSQL), bound from the arguments that follow it, each one of
 * AIQ_TEST_DB_TEXT(), AIQ_TEST_DB_INT(), AIQ_TEST_DB_NULL or AIQ_TEST_DB_INT_IF():
 *
 *   n = aiq_test_db_count(db, "SELECT count(*) FROM audit_log WHERE "
 *                         "tenant_id = ?1 AND time < ?2",
 *                         AIQ_TEST_DB_TEXT(id), AIQ_TEST_DB_INT(cutoff));
 *
 * Values come back as text (integers in decimal). The tables have
 * PostgreSQL's types there (BIGINT for INTEGER, BYTEA for BLOB); where
 * PostgreSQL cannot infer a parameter's type, say it (`CAST(?1 AS BIGINT)`).
 * A statement without parameters may be several, separated by `;`.
 */

#pragma once

#include <glib.h>

#include "aiq-db.h"
#include "aiq-test-server.h"

G_BEGIN_DECLS

typedef struct _AiqTestDb AiqTestDb;

typedef enum {
	AIQ_TEST_DB_ARG_END,
	AIQ_TEST_DB_ARG_TEXT,
	AIQ_TEST_DB_ARG_INT,
	AIQ_TEST_DB_ARG_NULL,
	AIQ_TEST_DB_ARG_INT_IF,
} AiqTestDbArg;

/* a parameter: text (%NULL binds NULL), an integer, NULL, and an integer
 * when @cond holds, else NULL (these are several arguments each: not for
 * the branches of a `? :`) */
#define AIQ_TEST_DB_TEXT(text) AIQ_TEST_DB_ARG_TEXT, (const gchar *)(text)
#define AIQ_TEST_DB_INT(value) AIQ_TEST_DB_ARG_INT, (gint64)(value)
#define AIQ_TEST_DB_NULL AIQ_TEST_DB_ARG_NULL
#define AIQ_TEST_DB_INT_IF(cond, value) \
	AIQ_TEST_DB_ARG_INT_IF, (gint)((cond) ? 1 : 0), (gint64)(value)

/* the backend of this run's test servers (AIQ_TEST_STORE), for registering
 * the subtests of one backend's own machinery */
AiqDbBackend
aiq_test_db_backend(void);
/* the database of @ts, once the writes the server queued are committed
 * (the audit log is written behind the answers); of a stopped server too */
AiqTestDb *
aiq_test_db_open(AiqTestServer *ts);
void
aiq_test_db_close(AiqTestDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqTestDb, aiq_test_db_close)
AiqDbBackend
aiq_test_db_get_backend(AiqTestDb *db);

/* runs a statement, which must succeed: the rows it changed */
gint64
aiq_test_db_exec_args(AiqTestDb *db, const gchar *sql, ...);
#define aiq_test_db_exec(db, ...) aiq_test_db_exec_args(db, __VA_ARGS__, AIQ_TEST_DB_ARG_END)
/* runs a statement that must fail: the database's message (without
 * PostgreSQL's "ERROR:" and context), or %NULL when it succeeded */
gchar *
aiq_test_db_exec_error_args(AiqTestDb *db, const gchar *sql, ...);
#define aiq_test_db_exec_error(db, ...) \
	aiq_test_db_exec_error_args(db, __VA_ARGS__, AIQ_TEST_DB_ARG_END)
/* the integer of the one row and column a query returns (a count) */
gint64
aiq_test_db_count_args(AiqTestDb *db, const gchar *sql, ...);
#define aiq_test_db_count(db, ...) aiq_test_db_count_args(db, __VA_ARGS__, AIQ_TEST_DB_ARG_END)
/* the first column of the one row a query returns, or %NULL when it
 * returns none (or NULL) */
gchar *
aiq_test_db_value_args(AiqTestDb *db, const gchar *sql, ...);
#define aiq_test_db_value(db, ...) aiq_test_db_value_args(db, __VA_ARGS__, AIQ_TEST_DB_ARG_END)
/* every row of a query: a GPtrArray of rows, each a GPtrArray of its
 * columns' text (%NULL for NULL); see aiq_test_db_cell() */
GPtrArray *
aiq_test_db_rows_args(AiqTestDb *db, const gchar *sql, ...);
#define aiq_test_db_rows(db, ...) aiq_test_db_rows_args(db, __VA_ARGS__, AIQ_TEST_DB_ARG_END)
const gchar *
aiq_test_db_cell(GPtrArray *rows, guint row, guint column);
/* every row of a query as a line, its columns separated by a space (NULL
 * as "NULL"), for comparing a whole result at once */
gchar *
aiq_test_db_lines_args(AiqTestDb *db, const gchar *sql, ...);
#define aiq_test_db_lines(db, ...) aiq_test_db_lines_args(db, __VA_ARGS__, AIQ_TEST_DB_ARG_END)
/* the first column of every row as its bytes (a BLOB's, or a text's):
 * a GPtrArray of GBytes, NULL for NULL */
GPtrArray *
aiq_test_db_bytes_args(AiqTestDb *db, const gchar *sql, ...);
#define aiq_test_db_bytes(db, ...) aiq_test_db_bytes_args(db, __VA_ARGS__, AIQ_TEST_DB_ARG_END)

/* the schema: the store's tables and indexes, sorted (not the backend's
 * own), and a table's columns in their order */
GPtrArray *
aiq_test_db_tables(AiqTestDb *db);
GPtrArray *
aiq_test_db_indexes(AiqTestDb *db);
GPtrArray *
aiq_test_db_columns(AiqTestDb *db, const gchar *table);

G_END_DECLS
