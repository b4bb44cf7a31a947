/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-store-private.h"
#include "aiq-test-db.h"
#include "aiq-test-pg.h"

struct _AiqTestDb {
	AiqDbBackend backend;
	sqlite3 *sqlite;
	GHashTable *stmts; /* SQLite: sql -> sqlite3_stmt, of single statements */
	PGconn *pg;
};

/* the parameters of one statement */
typedef struct {
	GArray *types;   /* of AiqTestDbArg */
	GPtrArray *text; /* each one's text; %NULL for NULL */
	GArray *ints;    /* of gint64, for SQLite's binding */
} AiqTestDbParams;

/* what one statement did */
typedef struct {
	gchar *error; /* %NULL: it succeeded */
	gint64 changes;
	GPtrArray *rows; /* of GPtrArray of gchar * (or GBytes *, @binary) */
} AiqTestDbResult;

static void
aiq_test_db_finalize(gpointer stmt)
{
	sqlite3_finalize(stmt);
}

AiqDbBackend
aiq_test_db_backend(void)
{
	return aiq_test_pg_enabled() ? AIQ_DB_POSTGRES : AIQ_DB_SQLITE;
}

AiqTestDb *
aiq_test_db_open(AiqTestServer *ts)
{
	AiqStore *store = aiq_server_get_store(ts->server);
	g_autoptr(GError) error = NULL;
	AiqTestDb *db = g_new0(AiqTestDb, 1);

	g_assert_nonnull(store);
	/* a stopped server's store is closed, with every write in */
	if (!aiq_store_sync(store, &error))
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_UNAVAILABLE);
	db->backend = aiq_test_db_backend();
	g_assert_cmpint(aiq_store_get_backend(store), ==, db->backend);
	if (db->backend == AIQ_DB_POSTGRES) {
		db->pg = aiq_test_pg_connect_admin(ts->dir);
	} else {
		const gchar *filename = aiq_store_get_filename(store);
		gint rc = sqlite3_open_v2(filename, &db->sqlite, SQLITE_OPEN_READWRITE, NULL);
		if (rc != SQLITE_OK)
			g_error("%s: %s", filename, sqlite3_errstr(rc));
		sqlite3_busy_timeout(db->sqlite, 30000);
		db->stmts = g_hash_table_new_full(g_str_hash,
						  g_str_equal,
						  g_free,
						  aiq_test_db_finalize);
	}
	return db;
}

void
aiq_test_db_close(AiqTestDb *db)
{
	if (db == NULL)
		return;
	g_clear_pointer(&db->stmts, g_hash_table_unref);
	if (db->sqlite != NULL)
		g_assert_cmpint(sqlite3_close(db->sqlite), ==, SQLITE_OK);
	g_clear_pointer(&db->pg, PQfinish);
	g_free(db);
}

AiqDbBackend
aiq_test_db_get_backend(AiqTestDb *db)
{
	return db->backend;
}

static void
aiq_test_db_params_init(AiqTestDbParams *params, va_list ap)
{
	params->types = g_array_new(FALSE, FALSE, sizeof(AiqTestDbArg));
	params->text = g_ptr_array_new_with_free_func(g_free);
	params->ints = g_array_new(FALSE, TRUE, sizeof(gint64));
	for (;;) {
		AiqTestDbArg type = (AiqTestDbArg)va_arg(ap, int);
		gint64 value = 0;
		gchar *text = NULL;
		if (type == AIQ_TEST_DB_ARG_END)
			break;
		switch (type) {
		case AIQ_TEST_DB_ARG_TEXT:
			text = g_strdup(va_arg(ap, const gchar *));
			if (text == NULL)
				type = AIQ_TEST_DB_ARG_NULL;
			break;
		case AIQ_TEST_DB_ARG_INT:
			value = va_arg(ap, gint64);
			text = g_strdup_printf("%" G_GINT64_FORMAT, value);
			break;
		case AIQ_TEST_DB_ARG_INT_IF:
			if (va_arg(ap, int)) {
				type = AIQ_TEST_DB_ARG_INT;
				value = va_arg(ap, gint64);
				text = g_strdup_printf("%" G_GINT64_FORMAT, value);
			} else {
				type = AIQ_TEST_DB_ARG_NULL;
				(void)va_arg(ap, gint64);
			}
			break;
		case AIQ_TEST_DB_ARG_NULL:
			break;
		case AIQ_TEST_DB_ARG_END:
		default:
			g_error("parameter %u: not AIQ_TEST_DB_TEXT(), _INT(), _NULL or _INT_IF()",
				params->types->len + 1);
		}
		g_array_append_val(params->types, type);
		g_ptr_array_add(params->text, text);
		g_array_append_val(params->ints, value);
	}
}

static void
aiq_test_db_params_clear(AiqTestDbParams *params)
{
	g_array_unref(params->types);
	g_ptr_array_unref(params->text);
	g_array_unref(params->ints);
}

static void
aiq_test_db_result_clear(AiqTestDbResult *result)
{
	g_free(result->error);
	g_ptr_array_unref(result->rows);
}

/* `?N` as `$N` (a bare `?` as the next number), outside literals and
 * quoted names */
static gchar *
aiq_test_db_pg_sql(const gchar *sql)
{
	GString *out = g_string_sized_new(strlen(sql) + 8);
	gchar quote = 0;
	guint64 highest = 0;

	for (const gchar *p = sql; *p != '\0'; p++) {
		if (quote != 0) {
			if (*p == quote)
				quote = 0;
			g_string_append_c(out, *p);
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			g_string_append_c(out, *p);
		} else if (*p == '?') {
			if (g_ascii_isdigit(p[1])) {
				gchar *end = NULL;
				guint64 n = g_ascii_strtoull(p + 1, &end, 10);
				highest = MAX(highest, n);
				g_string_append_printf(out, "$%" G_GUINT64_FORMAT, n);
				p = end - 1;
			} else {
				g_string_append_printf(out, "$%" G_GUINT64_FORMAT, ++highest);
			}
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

static void
aiq_test_db_run_pg(AiqTestDb *db,
		   const gchar *sql,
		   AiqTestDbParams *params,
		   gboolean binary,
		   AiqTestDbResult *result)
{
	g_autofree gchar *pg_sql = aiq_test_db_pg_sql(sql);
	g_autoptr(PGresult) res = NULL;
	ExecStatusType status;

	if (params->text->len == 0 && !binary)
		/* perhaps several statements */
		res = PQexec(db->pg, pg_sql);
	else
		res = PQexecParams(db->pg,
				   pg_sql,
				   (gint)params->text->len,
				   NULL,
				   (const gchar *const *)params->text->pdata,
				   NULL,
				   NULL,
				   binary ? 1 : 0);
	status = PQresultStatus(res);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
		const gchar *message =
			res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		result->error = g_strdup(message != NULL ? message : PQerrorMessage(db->pg));
		g_strchomp(result->error);
		return;
	}
	result->changes = g_ascii_strtoll(PQcmdTuples(res), NULL, 10);
	for (gint r = 0; r < PQntuples(res); r++) {
		GPtrArray *row = g_ptr_array_new_with_free_func(
			binary ? (GDestroyNotify)g_bytes_unref : g_free);
		for (gint c = 0; c < PQnfields(res); c++) {
			if (PQgetisnull(res, r, c))
				g_ptr_array_add(row, NULL);
			else if (binary)
				g_ptr_array_add(row,
						g_bytes_new(PQgetvalue(res, r, c),
							    (gsize)PQgetlength(res, r, c)));
			else
				g_ptr_array_add(row, g_strdup(PQgetvalue(res, r, c)));
		}
		g_ptr_array_add(result->rows, row);
	}
}

/* one statement of SQLite, stepped to its end */
static void
aiq_test_db_step_sqlite(AiqTestDb *db,
			sqlite3_stmt *stmt,
			AiqTestDbParams *params,
			gboolean binary,
			AiqTestDbResult *result)
{
	gint rc;

	if (sqlite3_bind_parameter_count(stmt) != (gint)params->types->len)
		g_error("“%s”: %d parameters, %u given",
			sqlite3_sql(stmt),
			sqlite3_bind_parameter_count(stmt),
			params->types->len);
	for (guint i = 0; i < params->types->len; i++) {
		gint idx = (gint)i + 1;
		switch (g_array_index(params->types, AiqTestDbArg, i)) {
		case AIQ_TEST_DB_ARG_TEXT:
			rc = sqlite3_bind_text(stmt,
					       idx,
					       g_ptr_array_index(params->text, i),
					       -1,
					       SQLITE_TRANSIENT);
			break;
		case AIQ_TEST_DB_ARG_INT:
			rc = sqlite3_bind_int64(stmt, idx, g_array_index(params->ints, gint64, i));
			break;
		case AIQ_TEST_DB_ARG_NULL:
		case AIQ_TEST_DB_ARG_INT_IF:
		case AIQ_TEST_DB_ARG_END:
		default:
			rc = sqlite3_bind_null(stmt, idx);
			break;
		}
		g_assert_cmpint(rc, ==, SQLITE_OK);
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		gint n = sqlite3_column_count(stmt);
		GPtrArray *row = g_ptr_array_new_with_free_func(
			binary ? (GDestroyNotify)g_bytes_unref : g_free);
		for (gint c = 0; c < n; c++) {
			if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
				g_ptr_array_add(row, NULL);
			} else if (binary) {
				gconstpointer data = sqlite3_column_blob(stmt, c);
				g_ptr_array_add(
					row,
					g_bytes_new(data, (gsize)sqlite3_column_bytes(stmt, c)));
			} else {
				g_ptr_array_add(
					row,
					g_strdup((const gchar *)sqlite3_column_text(stmt, c)));
			}
		}
		g_ptr_array_add(result->rows, row);
	}
	if (rc == SQLITE_DONE)
		result->changes = sqlite3_changes64(db->sqlite);
	else
		result->error = g_strdup(sqlite3_errmsg(db->sqlite));
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

static void
aiq_test_db_run_sqlite(AiqTestDb *db,
		       const gchar *sql,
		       AiqTestDbParams *params,
		       gboolean binary,
		       AiqTestDbResult *result)
{
	sqlite3_stmt *stmt = g_hash_table_lookup(db->stmts, sql);
	const gchar *tail = NULL;
	gboolean first = TRUE;

	if (stmt != NULL) {
		aiq_test_db_step_sqlite(db, stmt, params, binary, result);
		return;
	}
	/* each statement of @sql in order, until one fails */
	for (tail = sql; *tail != '\0';) {
		gint rc = sqlite3_prepare_v2(db->sqlite, tail, -1, &stmt, &tail);
		if (rc != SQLITE_OK) {
			result->error = g_strdup(sqlite3_errmsg(db->sqlite));
			return;
		}
		if (stmt == NULL) /* nothing left but spaces and comments */
			return;
		while (g_ascii_isspace(*tail))
			tail++;
		if (first && *tail == '\0') {
			/* one statement: kept for the next time (bulk inserts) */
			g_hash_table_insert(db->stmts, g_strdup(sql), stmt);
			aiq_test_db_step_sqlite(db, stmt, params, binary, result);
			return;
		}
		first = FALSE;
		aiq_test_db_step_sqlite(db, stmt, params, binary, result);
		sqlite3_finalize(stmt);
		if (result->error != NULL)
			return;
	}
}

static void
aiq_test_db_run(AiqTestDb *db,
		const gchar *sql,
		va_list ap,
		gboolean binary,
		AiqTestDbResult *result)
{
	AiqTestDbParams params;

	g_assert_nonnull(db);
	aiq_test_db_params_init(&params, ap);
	result->error = NULL;
	result->changes = 0;
	result->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	if (db->backend == AIQ_DB_POSTGRES)
		aiq_test_db_run_pg(db, sql, &params, binary, result);
	else
		aiq_test_db_run_sqlite(db, sql, &params, binary, result);
	aiq_test_db_params_clear(&params);
}

/* the same, failing the test when the statement fails */
static void
aiq_test_db_run_ok(AiqTestDb *db,
		   const gchar *sql,
		   va_list ap,
		   gboolean binary,
		   AiqTestDbResult *result)
{
	aiq_test_db_run(db, sql, ap, binary, result);
	if (result->error != NULL)
		g_error("“%s”: %s", sql, result->error);
}

gint64
aiq_test_db_exec_args(AiqTestDb *db, const gchar *sql, ...)
{
	AiqTestDbResult result;
	va_list ap;
	gint64 changes;

	va_start(ap, sql);
	aiq_test_db_run_ok(db, sql, ap, FALSE, &result);
	va_end(ap);
	changes = result.changes;
	aiq_test_db_result_clear(&result);
	return changes;
}

gchar *
aiq_test_db_exec_error_args(AiqTestDb *db, const gchar *sql, ...)
{
	AiqTestDbResult result;
	va_list ap;
	gchar *message;

	va_start(ap, sql);
	aiq_test_db_run(db, sql, ap, FALSE, &result);
	va_end(ap);
	message = g_steal_pointer(&result.error);
	aiq_test_db_result_clear(&result);
	return message;
}

gint64
aiq_test_db_count_args(AiqTestDb *db, const gchar *sql, ...)
{
	AiqTestDbResult result;
	va_list ap;
	const gchar *text;
	gchar *end = NULL;
	gint64 n;

	va_start(ap, sql);
	aiq_test_db_run_ok(db, sql, ap, FALSE, &result);
	va_end(ap);
	if (result.rows->len != 1)
		g_error("“%s”: %u rows, not one", sql, result.rows->len);
	text = aiq_test_db_cell(result.rows, 0, 0);
	if (text == NULL)
		g_error("“%s”: NULL, not a number", sql);
	n = g_ascii_strtoll(text, &end, 10);
	if (end == text || *end != '\0')
		g_error("“%s”: “%s”, not an integer", sql, text);
	aiq_test_db_result_clear(&result);
	return n;
}

gchar *
aiq_test_db_value_args(AiqTestDb *db, const gchar *sql, ...)
{
	AiqTestDbResult result;
	va_list ap;
	gchar *value = NULL;

	va_start(ap, sql);
	aiq_test_db_run_ok(db, sql, ap, FALSE, &result);
	va_end(ap);
	if (result.rows->len > 1)
		g_error("“%s”: %u rows, not one at most", sql, result.rows->len);
	if (result.rows->len == 1)
		value = g_strdup(aiq_test_db_cell(result.rows, 0, 0));
	aiq_test_db_result_clear(&result);
	return value;
}

GPtrArray *
aiq_test_db_rows_args(AiqTestDb *db, const gchar *sql, ...)
{
	AiqTestDbResult result;
	va_list ap;
	GPtrArray *rows;

	va_start(ap, sql);
	aiq_test_db_run_ok(db, sql, ap, FALSE, &result);
	va_end(ap);
	rows = g_steal_pointer(&result.rows);
	result.rows = g_ptr_array_new();
	aiq_test_db_result_clear(&result);
	return rows;
}

const gchar *
aiq_test_db_cell(GPtrArray *rows, guint row, guint column)
{
	GPtrArray *cells;
	g_assert_cmpuint(row, <, rows->len);
	cells = g_ptr_array_index(rows, row);
	g_assert_cmpuint(column, <, cells->len);
	return g_ptr_array_index(cells, column);
}

gchar *
aiq_test_db_lines_args(AiqTestDb *db, const gchar *sql, ...)
{
	AiqTestDbResult result;
	va_list ap;
	GString *lines = g_string_new(NULL);

	va_start(ap, sql);
	aiq_test_db_run_ok(db, sql, ap, FALSE, &result);
	va_end(ap);
	for (guint r = 0; r < result.rows->len; r++) {
		GPtrArray *cells = g_ptr_array_index(result.rows, r);
		for (guint c = 0; c < cells->len; c++) {
			const gchar *cell = g_ptr_array_index(cells, c);
			if (c > 0)
				g_string_append_c(lines, ' ');
			g_string_append(lines, cell != NULL ? cell : "NULL");
		}
		g_string_append_c(lines, '\n');
	}
	aiq_test_db_result_clear(&result);
	return g_string_free(lines, FALSE);
}

GPtrArray *
aiq_test_db_bytes_args(AiqTestDb *db, const gchar *sql, ...)
{
	AiqTestDbResult result;
	va_list ap;
	GPtrArray *values = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);

	va_start(ap, sql);
	aiq_test_db_run_ok(db, sql, ap, TRUE, &result);
	va_end(ap);
	for (guint r = 0; r < result.rows->len; r++) {
		GPtrArray *cells = g_ptr_array_index(result.rows, r);
		GBytes *value;
		g_assert_cmpuint(cells->len, >, 0);
		value = g_ptr_array_index(cells, 0);
		g_ptr_array_add(values, value != NULL ? g_bytes_ref(value) : NULL);
	}
	aiq_test_db_result_clear(&result);
	return values;
}

/* the first column of every row, as a GPtrArray of strings */
static GPtrArray *
aiq_test_db_column_of(GPtrArray *rows)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	for (guint r = 0; r < rows->len; r++)
		g_ptr_array_add(names, g_strdup(aiq_test_db_cell(rows, r, 0)));
	return names;
}

GPtrArray *
aiq_test_db_tables(AiqTestDb *db)
{
	g_autoptr(GPtrArray) rows = NULL;
	if (db->backend == AIQ_DB_POSTGRES)
		/* the base tables of the schema the store made them in */
		rows = aiq_test_db_rows(
			db,
			"SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n "
			"ON n.oid = c.relnamespace WHERE n.nspname = "
			"current_schema() AND c.relkind IN ('r', 'p') AND NOT "
			"c.relispartition ORDER BY c.relname");
	else
		rows = aiq_test_db_rows(db,
					"SELECT name FROM sqlite_schema WHERE type = 'table' "
					"AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
	return aiq_test_db_column_of(rows);
}

GPtrArray *
aiq_test_db_indexes(AiqTestDb *db)
{
	g_autoptr(GPtrArray) rows = NULL;
	if (db->backend == AIQ_DB_POSTGRES)
		rows = aiq_test_db_rows(db,
					"SELECT indexname FROM pg_indexes WHERE schemaname = "
					"current_schema() ORDER BY indexname");
	else
		rows = aiq_test_db_rows(db,
					"SELECT name FROM sqlite_schema WHERE type = 'index' "
					"AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
	return aiq_test_db_column_of(rows);
}

GPtrArray *
aiq_test_db_columns(AiqTestDb *db, const gchar *table)
{
	g_autoptr(GPtrArray) rows = NULL;
	if (db->backend == AIQ_DB_POSTGRES)
		rows = aiq_test_db_rows(db,
					"SELECT column_name FROM information_schema.columns "
					"WHERE table_schema = current_schema() AND table_name = ?1 "
					"ORDER BY ordinal_position",
					AIQ_TEST_DB_TEXT(table));
	else
		rows = aiq_test_db_rows(db,
					"SELECT name FROM pragma_table_info(?1) ORDER BY cid",
					AIQ_TEST_DB_TEXT(table));
	g_assert_cmpuint(rows->len, >, 0);
	return aiq_test_db_column_of(rows);
}
