/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * For aiq-store.c only: making statements, and PostgreSQL's connections.
 */

#pragma once

#include <libpq-fe.h>
#include <sqlite3.h>

#include "aiq-db.h"

G_BEGIN_DECLS

/* SQLite: prepared on @db and owned by the statement */
AiqStmt *
aiq_stmt_new_sqlite(sqlite3 *db, const gchar *sql, GError **error);
void
aiq_stmt_free(AiqStmt *stmt);
gboolean
aiq_db_set_sqlite_error(sqlite3 *db, gint rc, const gchar *what, GError **error);

/**
 * AiqPg:
 *
 * A bounded pool of connections to one PostgreSQL database. Connections
 * are opened when wanted (up to the size), checked out by one thread at a
 * time, and closed when they broke; a thread that finds none free waits up
 * to the pool's timeout and then fails with AIQ_ERROR_UNAVAILABLE.
 */
typedef struct _AiqPg AiqPg;
typedef struct _AiqPgConn AiqPgConn;

typedef struct {
	guint size;         /* connections at most */
	guint acquire_ms;   /* waiting for a free one at most */
	guint statement_ms; /* statement_timeout */
	guint connect_s;    /* connect_timeout */
} AiqPgOptions;

AiqPg *
aiq_pg_new(const gchar *conninfo, const AiqPgOptions *options, GError **error);
void
aiq_pg_free(AiqPg *pg);
/* the URI without its password, for messages */
const gchar *
aiq_pg_get_display_name(AiqPg *pg);
const gchar *
aiq_pg_get_conninfo(AiqPg *pg);
AiqPgConn *
aiq_pg_acquire(AiqPg *pg, GError **error);
void
aiq_pg_release(AiqPg *pg, AiqPgConn *conn);
PGconn *
aiq_pg_conn_get(AiqPgConn *conn);
/* whether the last failure on it looks like a lost server */
gboolean
aiq_pg_conn_is_broken(AiqPgConn *conn);
/* statements without results or parameters (BEGIN, DDL…) */
gboolean
aiq_pg_conn_exec(AiqPgConn *conn, const gchar *sql, GError **error);
/* the first column of the one row of @sql with one text parameter */
gboolean
aiq_pg_conn_query_text(AiqPgConn *conn,
		       const gchar *sql,
		       const gchar *param,
		       gchar **value,
		       GError **error);
/* BEGIN and the tenant of the transaction (NULL: none, AIQ_STORE_ALL_TENANTS "*") */
gboolean
aiq_pg_conn_begin(AiqPgConn *conn, const gchar *tenant_id, GError **error);
/* the error code of the last failure, e.g. "40001", or "" */
const gchar *
aiq_pg_conn_get_sqlstate(AiqPgConn *conn);
gboolean
aiq_pg_set_error(const gchar *sqlstate, const gchar *message, const gchar *what, GError **error);
/* counters for the metrics */
void
aiq_pg_get_stats(AiqPg *pg, guint *open, guint *busy, guint64 *waits, guint64 *failures);

/* PostgreSQL: a statement run on @conn (inside a write) or, when @conn is
 * %NULL, as its own transaction on a pooled connection with @tenant_id set */
AiqStmt *
aiq_stmt_new_pg(AiqPg *pg, const gchar *sql);
void
aiq_stmt_set_pg_scope(AiqStmt *stmt, AiqPgConn *conn, const gchar *tenant_id);

G_END_DECLS
