/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The statements of both backends, and PostgreSQL's pool of connections.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "aiq-db-private.h"
#include "aiq-error.h"

#define AIQ_PG_MAX_PARAMS 64

struct _AiqPg {
	gchar *conninfo;
	gchar *display_name;
	AiqPgOptions options;
	GMutex mutex;
	GCond cond;
	GQueue idle; /* of AiqPgConn */
	guint open;  /* idle + checked out */
	guint busy;
	guint64 waits;
	guint64 failures;
	gint64 said_us; /* when a failure to connect was last logged */
	/* prepared statements: sql -> name ("aiq_N"), the same on every connection */
	GHashTable *names;
};

struct _AiqPgConn {
	PGconn *conn;
	GHashTable *prepared; /* names prepared on this connection */
	gboolean broken;
	gchar sqlstate[6];
};

struct _AiqStmt {
	AiqDbBackend backend;
	gint64 changes;
	/* SQLite */
	sqlite3_stmt *sqlite;
	gint rc;
	/* PostgreSQL */
	AiqPg *pg;
	AiqPgConn *conn; /* the write's, or NULL */
	gchar *tenant_id;
	gchar *name;
	gchar *pg_sql;
	gint n_params;
	gchar *values[AIQ_PG_MAX_PARAMS];
	gint lengths[AIQ_PG_MAX_PARAMS];
	gint formats[AIQ_PG_MAX_PARAMS];
	PGresult *result;
	gint row; /* -1 before the first step */
	gint n_rows;
	gboolean ran;
	gchar *error_message;
	gchar sqlstate[6];
	GPtrArray *blobs; /* unescaped bytea of the current row */
};

struct _AiqDbValue {
	gboolean is_null;
	gboolean is_int;
	gint64 v_int;
	gchar *v_text;
};

/* ---- errors ---- */

gboolean
aiq_db_set_sqlite_error(sqlite3 *db, gint rc, const gchar *what, GError **error)
{
	AiqError code = AIQ_ERROR_FAILED;
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		code = AIQ_ERROR_CONFLICT;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
		code = AIQ_ERROR_UNAVAILABLE;
		break;
	default:
		break;
	}
	g_set_error(error,
		    AIQ_ERROR,
		    code,
		    "%s: %s",
		    what,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return FALSE;
}

/**
 * aiq_pg_set_error:
 * @sqlstate: PostgreSQL's code, or "" when the server was not reached
 *
 * Integrity violations (class 23) are conflicts; a lost or refused
 * connection, a server shutting down, out of resources, a lock or
 * statement timeout, a serialization failure or deadlock: unavailable
 * (the client may try again).
 */
gboolean
aiq_pg_set_error(const gchar *sqlstate, const gchar *message, const gchar *what, GError **error)
{
	AiqError code = AIQ_ERROR_FAILED;
	if (sqlstate == NULL || sqlstate[0] == '\0' || g_str_has_prefix(sqlstate, "08") ||
	    g_str_has_prefix(sqlstate, "53") || g_str_has_prefix(sqlstate, "57") ||
	    g_str_has_prefix(sqlstate, "40") || g_strcmp0(sqlstate, "55P03") == 0)
		code = AIQ_ERROR_UNAVAILABLE;
	else if (g_str_has_prefix(sqlstate, "23"))
		code = AIQ_ERROR_CONFLICT;
	g_set_error(error,
		    AIQ_ERROR,
		    code,
		    "%s: %s",
		    what,
		    message != NULL && message[0] != '\0' ? message
							  : _("the store is unreachable"));
	return FALSE;
}

/* ---- values ---- */

void
aiq_db_value_free(AiqDbValue *value)
{
	if (value == NULL)
		return;
	g_free(value->v_text);
	g_free(value);
}

AiqDbValue *
aiq_stmt_column_value(AiqStmt *stmt, gint col)
{
	AiqDbValue *value = g_new0(AiqDbValue, 1);
	if (aiq_stmt_column_is_null(stmt, col)) {
		value->is_null = TRUE;
	} else if (stmt->backend == AIQ_DB_SQLITE &&
		   sqlite3_column_type(stmt->sqlite, col) == SQLITE_INTEGER) {
		value->is_int = TRUE;
		value->v_int = sqlite3_column_int64(stmt->sqlite, col);
	} else {
		value->v_text = g_strdup(aiq_stmt_column_text(stmt, col));
	}
	return value;
}

void
aiq_stmt_bind_value(AiqStmt *stmt, gint idx, const AiqDbValue *value)
{
	if (value == NULL || value->is_null)
		aiq_stmt_bind_null(stmt, idx);
	else if (value->is_int)
		aiq_stmt_bind_int64(stmt, idx, value->v_int);
	else
		aiq_stmt_bind_text(stmt, idx, value->v_text);
}

/* ---- statements ---- */

AiqStmt *
aiq_stmt_new_sqlite(sqlite3 *db, const gchar *sql, GError **error)
{
	sqlite3_stmt *handle = NULL;
	AiqStmt *stmt;
	gint rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &handle, NULL);
	if (rc != SQLITE_OK) {
		aiq_db_set_sqlite_error(db, rc, "prepare", error);
		return NULL;
	}
	stmt = g_new0(AiqStmt, 1);
	stmt->backend = AIQ_DB_SQLITE;
	stmt->sqlite = handle;
	return stmt;
}

/* `?` and `?N` to `$N`, outside quotes and comments */
static gchar *
aiq_stmt_translate(const gchar *sql, gint *n_params)
{
	GString *out = g_string_sized_new(strlen(sql) + 16);
	gint next = 1;
	gint max = 0;
	for (const gchar *p = sql; *p != '\0'; p++) {
		if (*p == '\'' || *p == '"') {
			gchar quote = *p;
			g_string_append_c(out, *p++);
			while (*p != '\0' && *p != quote)
				g_string_append_c(out, *p++);
			if (*p == '\0')
				break;
			g_string_append_c(out, *p);
			continue;
		}
		if (*p == '?') {
			gint n;
			if (g_ascii_isdigit(p[1])) {
				gchar *end = NULL;
				n = (gint)g_ascii_strtoll(p + 1, &end, 10);
				p = end - 1;
			} else {
				n = next;
			}
			next = n + 1;
			max = MAX(max, n);
			g_string_append_printf(out, "$%d", n);
			continue;
		}
		g_string_append_c(out, *p);
	}
	*n_params = max;
	return g_string_free(out, FALSE);
}

AiqStmt *
aiq_stmt_new_pg(AiqPg *pg, const gchar *sql)
{
	AiqStmt *stmt = g_new0(AiqStmt, 1);
	stmt->backend = AIQ_DB_POSTGRES;
	stmt->pg = pg;
	stmt->pg_sql = aiq_stmt_translate(sql, &stmt->n_params);
	if (stmt->n_params > AIQ_PG_MAX_PARAMS)
		g_error("a statement with %d parameters: %s", stmt->n_params, sql);
	g_mutex_lock(&pg->mutex);
	stmt->name = g_strdup(g_hash_table_lookup(pg->names, sql));
	if (stmt->name == NULL) {
		stmt->name = g_strdup_printf("aiq_%u", g_hash_table_size(pg->names) + 1);
		g_hash_table_insert(pg->names, g_strdup(sql), g_strdup(stmt->name));
	}
	g_mutex_unlock(&pg->mutex);
	stmt->row = -1;
	return stmt;
}

void
aiq_stmt_set_pg_scope(AiqStmt *stmt, AiqPgConn *conn, const gchar *tenant_id)
{
	stmt->conn = conn;
	if (g_strcmp0(stmt->tenant_id, tenant_id) != 0) {
		g_free(stmt->tenant_id);
		stmt->tenant_id = g_strdup(tenant_id);
	}
}

AiqDbBackend
aiq_stmt_get_backend(AiqStmt *stmt)
{
	return stmt->backend;
}

static void
aiq_stmt_pg_clear_result(AiqStmt *stmt)
{
	g_clear_pointer(&stmt->result, PQclear);
	g_clear_pointer(&stmt->blobs, g_ptr_array_unref);
	g_clear_pointer(&stmt->error_message, g_free);
	stmt->sqlstate[0] = '\0';
	stmt->row = -1;
	stmt->n_rows = 0;
	stmt->ran = FALSE;
}

void
aiq_stmt_reset(AiqStmt *stmt)
{
	if (stmt == NULL)
		return;
	if (stmt->backend == AIQ_DB_SQLITE) {
		sqlite3_reset(stmt->sqlite);
		sqlite3_clear_bindings(stmt->sqlite);
		return;
	}
	aiq_stmt_pg_clear_result(stmt);
	for (gint i = 0; i < stmt->n_params; i++) {
		g_clear_pointer(&stmt->values[i], g_free);
		stmt->lengths[i] = 0;
		stmt->formats[i] = 0;
	}
}

void
aiq_stmt_free(AiqStmt *stmt)
{
	if (stmt == NULL)
		return;
	aiq_stmt_reset(stmt);
	if (stmt->sqlite != NULL)
		sqlite3_finalize(stmt->sqlite);
	g_free(stmt->tenant_id);
	g_free(stmt->name);
	g_free(stmt->pg_sql);
	g_free(stmt);
}

static gboolean
aiq_stmt_pg_param_ok(AiqStmt *stmt, gint idx)
{
	if (idx < 1 || idx > stmt->n_params) {
		g_critical("parameter %d of %d in: %s", idx, stmt->n_params, stmt->pg_sql);
		return FALSE;
	}
	g_clear_pointer(&stmt->values[idx - 1], g_free);
	stmt->lengths[idx - 1] = 0;
	stmt->formats[idx - 1] = 0;
	return TRUE;
}

void
aiq_stmt_bind_null(AiqStmt *stmt, gint idx)
{
	if (stmt->backend == AIQ_DB_SQLITE) {
		sqlite3_bind_null(stmt->sqlite, idx);
		return;
	}
	aiq_stmt_pg_param_ok(stmt, idx);
}

void
aiq_stmt_bind_int64(AiqStmt *stmt, gint idx, gint64 value)
{
	if (stmt->backend == AIQ_DB_SQLITE) {
		sqlite3_bind_int64(stmt->sqlite, idx, value);
		return;
	}
	if (aiq_stmt_pg_param_ok(stmt, idx))
		stmt->values[idx - 1] = g_strdup_printf("%" G_GINT64_FORMAT, value);
}

void
aiq_stmt_bind_text(AiqStmt *stmt, gint idx, const gchar *text)
{
	if (text == NULL) {
		aiq_stmt_bind_null(stmt, idx);
		return;
	}
	if (stmt->backend == AIQ_DB_SQLITE) {
		sqlite3_bind_text(stmt->sqlite, idx, text, -1, SQLITE_TRANSIENT);
		return;
	}
	if (aiq_stmt_pg_param_ok(stmt, idx))
		stmt->values[idx - 1] = g_strdup(text);
}

void
aiq_stmt_bind_blob(AiqStmt *stmt, gint idx, gconstpointer data, gsize len)
{
	if (stmt->backend == AIQ_DB_SQLITE) {
		sqlite3_bind_blob64(stmt->sqlite, idx, data, len, SQLITE_TRANSIENT);
		return;
	}
	if (aiq_stmt_pg_param_ok(stmt, idx)) {
		stmt->values[idx - 1] = g_malloc(MAX(len, 1));
		if (len > 0)
			memcpy(stmt->values[idx - 1], data, len);
		stmt->lengths[idx - 1] = (gint)len;
		stmt->formats[idx - 1] = 1;
	}
}

/* a failure on @conn (or before reaching PostgreSQL, @conn %NULL): its
 * SQLSTATE kept on the connection, which is marked broken when the server
 * was lost; returns the message, to free */
static gchar *
aiq_pg_conn_note_failure(AiqPgConn *conn, const PGresult *result, gchar sqlstate[6])
{
	const gchar *state = result != NULL ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
	const gchar *message =
		result != NULL ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (message == NULL && conn != NULL)
		message = PQerrorMessage(conn->conn);
	g_strlcpy(sqlstate, state != NULL ? state : "", 6);
	if (conn != NULL) {
		g_strlcpy(conn->sqlstate, sqlstate, sizeof(conn->sqlstate));
		if (PQstatus(conn->conn) != CONNECTION_OK || state == NULL ||
		    g_str_has_prefix(state, "08") || g_str_has_prefix(state, "57"))
			conn->broken = TRUE;
	}
	return g_strstrip(g_strdup(message != NULL ? message : ""));
}

static void
aiq_stmt_pg_fail(AiqStmt *stmt, AiqPgConn *conn, const PGresult *result)
{
	g_free(stmt->error_message);
	stmt->error_message = aiq_pg_conn_note_failure(conn, result, stmt->sqlstate);
}

static gboolean
aiq_stmt_pg_result_ok(PGresult *result)
{
	ExecStatusType status = PQresultStatus(result);
	return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

/* inside a write: one statement on the write's connection */
static gboolean
aiq_stmt_pg_run_on(AiqStmt *stmt, AiqPgConn *conn)
{
	PGresult *result;
	if (!g_hash_table_contains(conn->prepared, stmt->name)) {
		result = PQprepare(conn->conn, stmt->name, stmt->pg_sql, 0, NULL);
		if (!aiq_stmt_pg_result_ok(result)) {
			aiq_stmt_pg_fail(stmt, conn, result);
			PQclear(result);
			return FALSE;
		}
		PQclear(result);
		g_hash_table_add(conn->prepared, g_strdup(stmt->name));
	}
	result = PQexecPrepared(conn->conn,
				stmt->name,
				stmt->n_params,
				(const gchar *const *)stmt->values,
				stmt->lengths,
				stmt->formats,
				0);
	if (!aiq_stmt_pg_result_ok(result)) {
		aiq_stmt_pg_fail(stmt, conn, result);
		PQclear(result);
		return FALSE;
	}
	stmt->result = result;
	return TRUE;
}

/* a read: the tenant set, the statement and the end of the transaction in
 * one round trip (a pipeline runs up to its sync in one implicit
 * transaction, so set_config(…, true) holds for the statement only) */
static gboolean
aiq_stmt_pg_run_read(AiqStmt *stmt, AiqPgConn *conn)
{
	const gchar *scope[2] = {
		g_strcmp0(stmt->tenant_id, "*") == 0 ? "" : stmt->tenant_id,
		g_strcmp0(stmt->tenant_id, "*") == 0 ? "on" : "",
	};
	gboolean prepare = !g_hash_table_contains(conn->prepared, stmt->name);
	gboolean ok = TRUE;
	guint n_queries = prepare ? 3 : 2;
	PGconn *pc = conn->conn;

	if (scope[0] == NULL)
		scope[0] = "";
	if (PQenterPipelineMode(pc) != 1) {
		aiq_stmt_pg_fail(stmt, conn, NULL);
		return FALSE;
	}
	if (PQsendQueryParams(pc,
			      "SELECT set_config('app.tenant_id', $1, true), "
			      "set_config('app.all_tenants', $2, true)",
			      2,
			      NULL,
			      scope,
			      NULL,
			      NULL,
			      0) != 1 ||
	    (prepare && PQsendPrepare(pc, stmt->name, stmt->pg_sql, 0, NULL) != 1) ||
	    PQsendQueryPrepared(pc,
				stmt->name,
				stmt->n_params,
				(const gchar *const *)stmt->values,
				stmt->lengths,
				stmt->formats,
				0) != 1 ||
	    PQpipelineSync(pc) != 1) {
		aiq_stmt_pg_fail(stmt, conn, NULL);
		conn->broken = TRUE;
		return FALSE;
	}
	for (guint i = 0; i < n_queries; i++) {
		PGresult *result;
		while ((result = PQgetResult(pc)) != NULL) {
			if (!aiq_stmt_pg_result_ok(result)) {
				if (ok)
					aiq_stmt_pg_fail(stmt, conn, result);
				ok = FALSE;
				PQclear(result);
			} else if (i == n_queries - 1 && stmt->result == NULL) {
				stmt->result = result;
			} else {
				PQclear(result);
			}
		}
		if (PQstatus(pc) != CONNECTION_OK) {
			if (ok)
				aiq_stmt_pg_fail(stmt, conn, NULL);
			conn->broken = TRUE;
			return FALSE;
		}
	}
	/* the sync */
	for (;;) {
		PGresult *result = PQgetResult(pc);
		ExecStatusType status;
		if (result == NULL) {
			if (PQstatus(pc) != CONNECTION_OK) {
				conn->broken = TRUE;
				if (ok)
					aiq_stmt_pg_fail(stmt, conn, NULL);
				return FALSE;
			}
			continue;
		}
		status = PQresultStatus(result);
		PQclear(result);
		if (status == PGRES_PIPELINE_SYNC)
			break;
	}
	if (PQexitPipelineMode(pc) != 1)
		conn->broken = TRUE;
	if (ok && prepare)
		g_hash_table_add(conn->prepared, g_strdup(stmt->name));
	if (!ok)
		g_clear_pointer(&stmt->result, PQclear);
	return ok;
}

static AiqStmtStep
aiq_stmt_pg_step(AiqStmt *stmt)
{
	if (!stmt->ran) {
		gboolean ok;
		stmt->ran = TRUE;
		g_clear_pointer(&stmt->result, PQclear);
		if (stmt->conn != NULL) {
			ok = aiq_stmt_pg_run_on(stmt, stmt->conn);
		} else {
			/* a connection that broke before its answer (the server
			 * restarted) is tried once more on a new one: reads are safe
			 * to repeat */
			ok = FALSE;
			for (guint attempt = 0; attempt < 2 && !ok; attempt++) {
				g_autoptr(GError) error = NULL;
				AiqPgConn *conn = aiq_pg_acquire(stmt->pg, &error);
				gboolean broken;
				if (conn == NULL) {
					g_free(stmt->error_message);
					stmt->error_message = g_strdup(error->message);
					stmt->sqlstate[0] = '\0';
					return AIQ_STMT_ERROR;
				}
				g_clear_pointer(&stmt->error_message, g_free);
				ok = aiq_stmt_pg_run_read(stmt, conn);
				broken = conn->broken;
				aiq_pg_release(stmt->pg, conn);
				if (!broken)
					break;
			}
		}
		if (!ok)
			return AIQ_STMT_ERROR;
		stmt->n_rows = PQntuples(stmt->result);
		stmt->row = -1;
		/* rows an INSERT, UPDATE or DELETE (… RETURNING too) changed; a
		 * SELECT's count is not a change */
		if (!g_str_has_prefix(PQcmdStatus(stmt->result), "SELECT"))
			stmt->changes = g_ascii_strtoll(PQcmdTuples(stmt->result), NULL, 10);
	}
	if (stmt->result == NULL)
		return AIQ_STMT_ERROR;
	g_clear_pointer(&stmt->blobs, g_ptr_array_unref);
	if (stmt->row + 1 < stmt->n_rows) {
		stmt->row++;
		return AIQ_STMT_ROW;
	}
	stmt->row = stmt->n_rows;
	return AIQ_STMT_DONE;
}

AiqStmtStep
aiq_stmt_step(AiqStmt *stmt)
{
	if (stmt->backend == AIQ_DB_SQLITE) {
		stmt->rc = sqlite3_step(stmt->sqlite);
		if (stmt->rc == SQLITE_ROW)
			return AIQ_STMT_ROW;
		if (stmt->rc == SQLITE_DONE) {
			stmt->changes = sqlite3_changes64(sqlite3_db_handle(stmt->sqlite));
			return AIQ_STMT_DONE;
		}
		return AIQ_STMT_ERROR;
	}
	return aiq_stmt_pg_step(stmt);
}

gboolean
aiq_stmt_set_error(AiqStmt *stmt, const gchar *what, GError **error)
{
	if (stmt->backend == AIQ_DB_SQLITE)
		return aiq_db_set_sqlite_error(
			sqlite3_db_handle(stmt->sqlite),
			stmt->rc == SQLITE_ROW || stmt->rc == SQLITE_DONE ? SQLITE_ERROR : stmt->rc,
			what,
			error);
	/* no failure: the caller did not get what it stepped for */
	if (stmt->error_message == NULL && stmt->sqlstate[0] == '\0' && stmt->ran) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    stmt->row < stmt->n_rows ? _("%s: a row where none was expected")
						     : _("%s: no row where one was expected"),
			    what);
		return FALSE;
	}
	return aiq_pg_set_error(stmt->sqlstate, stmt->error_message, what, error);
}

gint64
aiq_stmt_changes(AiqStmt *stmt)
{
	return stmt->changes;
}

static gboolean
aiq_stmt_pg_has_row(AiqStmt *stmt, gint col)
{
	return stmt->result != NULL && stmt->row >= 0 && stmt->row < stmt->n_rows && col >= 0 &&
	       col < PQnfields(stmt->result);
}

gint
aiq_stmt_column_count(AiqStmt *stmt)
{
	if (stmt->backend == AIQ_DB_SQLITE)
		return sqlite3_column_count(stmt->sqlite);
	return stmt->result != NULL ? PQnfields(stmt->result) : 0;
}

gboolean
aiq_stmt_column_is_null(AiqStmt *stmt, gint col)
{
	if (stmt->backend == AIQ_DB_SQLITE)
		return sqlite3_column_type(stmt->sqlite, col) == SQLITE_NULL;
	return !aiq_stmt_pg_has_row(stmt, col) || PQgetisnull(stmt->result, stmt->row, col);
}

const gchar *
aiq_stmt_column_text(AiqStmt *stmt, gint col)
{
	if (stmt->backend == AIQ_DB_SQLITE)
		return (const gchar *)sqlite3_column_text(stmt->sqlite, col);
	if (aiq_stmt_column_is_null(stmt, col))
		return NULL;
	return PQgetvalue(stmt->result, stmt->row, col);
}

gint64
aiq_stmt_column_int64(AiqStmt *stmt, gint col)
{
	const gchar *text;
	if (stmt->backend == AIQ_DB_SQLITE)
		return sqlite3_column_int64(stmt->sqlite, col);
	text = aiq_stmt_column_text(stmt, col);
	if (text == NULL)
		return 0;
	/* numeric sums come as "12" or "12.0"; booleans as t/f */
	if (text[0] == 't' && text[1] == '\0')
		return 1;
	return g_ascii_strtoll(text, NULL, 10);
}

gint
aiq_stmt_column_int(AiqStmt *stmt, gint col)
{
	return (gint)aiq_stmt_column_int64(stmt, col);
}

gconstpointer
aiq_stmt_column_blob(AiqStmt *stmt, gint col, gsize *len)
{
	const gchar *text;
	guchar *data;
	size_t n = 0;
	if (stmt->backend == AIQ_DB_SQLITE) {
		gconstpointer blob = sqlite3_column_blob(stmt->sqlite, col);
		*len = (gsize)sqlite3_column_bytes(stmt->sqlite, col);
		return blob;
	}
	*len = 0;
	text = aiq_stmt_column_text(stmt, col);
	if (text == NULL)
		return NULL;
	data = PQunescapeBytea((const guchar *)text, &n);
	if (data == NULL)
		return NULL;
	if (stmt->blobs == NULL)
		stmt->blobs = g_ptr_array_new_with_free_func(PQfreemem);
	g_ptr_array_add(stmt->blobs, data);
	*len = n;
	return data;
}

/* ---- PostgreSQL's pool ---- */

static void
aiq_pg_conn_free(AiqPgConn *conn)
{
	if (conn == NULL)
		return;
	if (conn->conn != NULL)
		PQfinish(conn->conn);
	g_clear_pointer(&conn->prepared, g_hash_table_unref);
	g_free(conn);
}

static gchar *
aiq_pg_make_display_name(const gchar *conninfo)
{
	PQconninfoOption *options = PQconninfoParse(conninfo, NULL);
	g_autoptr(GString) str = g_string_new("postgresql://");
	const gchar *user = NULL, *host = NULL, *port = NULL, *dbname = NULL;
	if (options == NULL)
		return g_strdup("postgresql");
	for (PQconninfoOption *o = options; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (g_strcmp0(o->keyword, "user") == 0)
			user = o->val;
		else if (g_strcmp0(o->keyword, "host") == 0)
			host = o->val;
		else if (g_strcmp0(o->keyword, "port") == 0)
			port = o->val;
		else if (g_strcmp0(o->keyword, "dbname") == 0)
			dbname = o->val;
	}
	if (user != NULL)
		g_string_append_printf(str, "%s@", user);
	g_string_append(str, host != NULL && host[0] != '/' ? host : "localhost");
	if (port != NULL)
		g_string_append_printf(str, ":%s", port);
	if (dbname != NULL)
		g_string_append_printf(str, "/%s", dbname);
	PQconninfoFree(options);
	return g_string_free(g_steal_pointer(&str), FALSE);
}

static AiqPgConn *
aiq_pg_connect(AiqPg *pg, GError **error)
{
	g_autofree gchar *connect_timeout = g_strdup_printf("%u", pg->options.connect_s);
	g_autofree gchar *pg_options = g_strdup_printf("-c statement_timeout=%u -c lock_timeout=%u "
						       "-c idle_in_transaction_session_timeout=%u",
						       pg->options.statement_ms,
						       pg->options.statement_ms,
						       MAX(pg->options.statement_ms * 2, 60000u));
	/* the URI first; what follows overrides it (expand_dbname) */
	const gchar *keywords[] = { "dbname",
				    "connect_timeout",
				    "application_name",
				    "options",
				    "keepalives",
				    "keepalives_idle",
				    "keepalives_interval",
				    "keepalives_count",
				    "tcp_user_timeout",
				    NULL };
	const gchar *values[] = { pg->conninfo,
				  connect_timeout,
				  "automateiq-server",
				  pg_options,
				  "1",
				  "10",
				  "3",
				  "3",
				  "30000",
				  NULL };
	AiqPgConn *conn = g_new0(AiqPgConn, 1);
	conn->conn = PQconnectdbParams(keywords, values, 1);
	if (conn->conn == NULL || PQstatus(conn->conn) != CONNECTION_OK) {
		g_autofree gchar *message =
			g_strstrip(g_strdup(conn->conn != NULL ? PQerrorMessage(conn->conn) : ""));
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_UNAVAILABLE,
			    _("%s: cannot connect: %s"),
			    pg->display_name,
			    message);
		aiq_pg_conn_free(conn);
		return NULL;
	}
	conn->prepared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return conn;
}

/**
 * aiq_pg_new:
 *
 * Opens one connection to check @conninfo; more are opened when wanted.
 */
AiqPg *
aiq_pg_new(const gchar *conninfo, const AiqPgOptions *options, GError **error)
{
	AiqPg *pg = g_new0(AiqPg, 1);
	AiqPgConn *conn;
	g_autofree gchar *parse_error = NULL;
	PQconninfoOption *parsed = PQconninfoParse(conninfo, &parse_error);

	if (parsed == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("store: not a PostgreSQL connection string: %s"),
			    parse_error != NULL ? g_strstrip(parse_error) : "");
		g_free(pg);
		return NULL;
	}
	PQconninfoFree(parsed);
	pg->conninfo = g_strdup(conninfo);
	pg->display_name = aiq_pg_make_display_name(conninfo);
	pg->options = *options;
	if (pg->options.size == 0)
		pg->options.size = 16;
	g_mutex_init(&pg->mutex);
	g_cond_init(&pg->cond);
	pg->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	conn = aiq_pg_connect(pg, error);
	if (conn == NULL) {
		aiq_pg_free(pg);
		return NULL;
	}
	pg->open = 1;
	g_queue_push_head(&pg->idle, conn);
	return pg;
}

void
aiq_pg_free(AiqPg *pg)
{
	if (pg == NULL)
		return;
	g_queue_clear_full(&pg->idle, (GDestroyNotify)aiq_pg_conn_free);
	g_mutex_clear(&pg->mutex);
	g_cond_clear(&pg->cond);
	g_hash_table_unref(pg->names);
	g_free(pg->display_name);
	g_free(pg->conninfo);
	g_free(pg);
}

const gchar *
aiq_pg_get_display_name(AiqPg *pg)
{
	return pg->display_name;
}

const gchar *
aiq_pg_get_conninfo(AiqPg *pg)
{
	return pg->conninfo;
}

/**
 * aiq_pg_acquire:
 *
 * Returns: a connection for this thread alone until aiq_pg_release(), or
 * %NULL with AIQ_ERROR_UNAVAILABLE when none became free in time or
 * PostgreSQL cannot be reached
 */
AiqPgConn *
aiq_pg_acquire(AiqPg *pg, GError **error)
{
	g_autoptr(GError) local = NULL;
	gint64 deadline = g_get_monotonic_time() + (gint64)pg->options.acquire_ms * 1000;
	AiqPgConn *conn;

	g_mutex_lock(&pg->mutex);
	while (g_queue_is_empty(&pg->idle) && pg->open >= pg->options.size) {
		pg->waits++;
		if (!g_cond_wait_until(&pg->cond, &pg->mutex, deadline) &&
		    g_queue_is_empty(&pg->idle) && pg->open >= pg->options.size) {
			g_mutex_unlock(&pg->mutex);
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAVAILABLE,
				    _("the store is busy: all %u connections are in use"),
				    pg->options.size);
			return NULL;
		}
	}
	conn = g_queue_pop_head(&pg->idle);
	if (conn != NULL) {
		pg->busy++;
		g_mutex_unlock(&pg->mutex);
		return conn;
	}
	/* open one more, outside the lock */
	pg->open++;
	pg->busy++;
	g_mutex_unlock(&pg->mutex);
	conn = aiq_pg_connect(pg, &local);
	if (conn == NULL) {
		gboolean say;
		g_mutex_lock(&pg->mutex);
		pg->open--;
		pg->busy--;
		pg->failures++;
		/* the server log has the details, at most every 10 s while
		 * PostgreSQL is away; the client (or the unauthenticated /readyz)
		 * does not learn the database's user, name or address */
		say = g_get_monotonic_time() - pg->said_us > 10 * G_USEC_PER_SEC;
		if (say)
			pg->said_us = g_get_monotonic_time();
		g_cond_signal(&pg->cond);
		g_mutex_unlock(&pg->mutex);
		if (say)
			g_warning("%s", local->message);
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAVAILABLE,
				    _("the store is unreachable"));
	}
	return conn;
}

/* a connection that broke, or was left inside a transaction or a
 * pipeline, is closed instead of going back */
void
aiq_pg_release(AiqPg *pg, AiqPgConn *conn)
{
	gboolean keep;
	if (conn == NULL)
		return;
	keep = !conn->broken && PQstatus(conn->conn) == CONNECTION_OK &&
	       PQtransactionStatus(conn->conn) == PQTRANS_IDLE &&
	       PQpipelineStatus(conn->conn) == PQ_PIPELINE_OFF;
	g_mutex_lock(&pg->mutex);
	pg->busy--;
	if (keep) {
		g_queue_push_head(&pg->idle, conn);
	} else {
		pg->open--;
		pg->failures++;
	}
	g_cond_signal(&pg->cond);
	g_mutex_unlock(&pg->mutex);
	if (!keep)
		aiq_pg_conn_free(conn);
}

void
aiq_pg_get_stats(AiqPg *pg, guint *open, guint *busy, guint64 *waits, guint64 *failures)
{
	g_mutex_lock(&pg->mutex);
	*open = pg->open;
	*busy = pg->busy;
	*waits = pg->waits;
	*failures = pg->failures;
	g_mutex_unlock(&pg->mutex);
}

PGconn *
aiq_pg_conn_get(AiqPgConn *conn)
{
	return conn->conn;
}

gboolean
aiq_pg_conn_is_broken(AiqPgConn *conn)
{
	return conn->broken || PQstatus(conn->conn) != CONNECTION_OK;
}

const gchar *
aiq_pg_conn_get_sqlstate(AiqPgConn *conn)
{
	return conn->sqlstate;
}

static gboolean
aiq_pg_conn_check(AiqPgConn *conn, PGresult *result, const gchar *what, GError **error)
{
	g_autofree gchar *message = NULL;
	gchar sqlstate[6];
	if (aiq_stmt_pg_result_ok(result)) {
		conn->sqlstate[0] = '\0';
		PQclear(result);
		return TRUE;
	}
	message = aiq_pg_conn_note_failure(conn, result, sqlstate);
	aiq_pg_set_error(sqlstate, message, what, error);
	PQclear(result);
	return FALSE;
}

gboolean
aiq_pg_conn_exec(AiqPgConn *conn, const gchar *sql, GError **error)
{
	return aiq_pg_conn_check(conn, PQexec(conn->conn, sql), "store", error);
}

gboolean
aiq_pg_conn_query_text(AiqPgConn *conn,
		       const gchar *sql,
		       const gchar *param,
		       gchar **value,
		       GError **error)
{
	const gchar *params[] = { param };
	PGresult *result =
		PQexecParams(conn->conn, sql, param != NULL ? 1 : 0, NULL, params, NULL, NULL, 0);
	if (aiq_stmt_pg_result_ok(result) && PQntuples(result) > 0 && PQnfields(result) > 0)
		*value = PQgetisnull(result, 0, 0) ? NULL : g_strdup(PQgetvalue(result, 0, 0));
	else if (aiq_stmt_pg_result_ok(result))
		*value = NULL;
	return aiq_pg_conn_check(conn, result, "store", error);
}

gboolean
aiq_pg_conn_begin(AiqPgConn *conn, const gchar *tenant_id, GError **error)
{
	const gchar *params[2] = {
		g_strcmp0(tenant_id, "*") == 0 || tenant_id == NULL ? "" : tenant_id,
		g_strcmp0(tenant_id, "*") == 0 ? "on" : "",
	};
	if (!aiq_pg_conn_exec(conn, "BEGIN", error))
		return FALSE;
	return aiq_pg_conn_check(conn,
				 PQexecParams(conn->conn,
					      "SELECT set_config('app.tenant_id', $1, true), "
					      "set_config('app.all_tenants', $2, true)",
					      2,
					      NULL,
					      params,
					      NULL,
					      NULL,
					      0),
				 "store",
				 error);
}
