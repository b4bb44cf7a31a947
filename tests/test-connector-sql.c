/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>

#include "aiq-config.h"
#include "aiq-connector-sql-private.h"
#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-problems.h"
#include "aiq-step-kind.h"
#include "aiq-step-run.h"

/*
 * The sql step kind against real databases: SQLite files in a temporary
 * directory always, and PostgreSQL when AIQ_TEST_PG_DSN names a server (the
 * `postgres` suite runs this program under tests/pg-test-cluster.sh). Each
 * PostgreSQL test works in a schema of its own, dropped afterwards.
 */

#define SERIES_20                                                                       \
	"WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 20) " \
	"SELECT x FROM s"
#define SERIES_15                                                                       \
	"WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 15) " \
	"SELECT x FROM s"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGconn, PQfinish)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGresult, PQclear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PQconninfoOption, PQconninfoFree)

typedef enum {
	BACKEND_SQLITE,
	BACKEND_POSTGRESQL,
} Backend;

static const Backend backend_sqlite = BACKEND_SQLITE;
static const Backend backend_postgresql = BACKEND_POSTGRESQL;

typedef struct {
	Backend backend;
	gchar *tmpdir;
	gchar *schema; /* postgresql: this test's schema */
	gchar *password;
	AiqConfig *config;
} Fixture;

/* ---- PostgreSQL helpers ---- */

static const gchar *
pg_base_dsn(void)
{
	return g_getenv("AIQ_TEST_PG_DSN");
}

static void
pg_notice_cb(void *user_data, const char *message)
{
}

static void
pg_admin_exec(const gchar *sql)
{
	g_autoptr(PGconn) conn = PQconnectdb(pg_base_dsn());
	g_autoptr(PGresult) res = NULL;
	g_assert_cmpint(PQstatus(conn), ==, CONNECTION_OK);
	PQsetNoticeProcessor(conn, pg_notice_cb, NULL);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		g_error("%s: %s", sql, PQresultErrorMessage(res));
}

static void
append_conninfo(GString *dsn, const gchar *key, const gchar *value)
{
	if (dsn->len > 0)
		g_string_append_c(dsn, ' ');
	g_string_append_printf(dsn, "%s='", key);
	for (const gchar *p = value; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			g_string_append_c(dsn, '\\');
		g_string_append_c(dsn, *p);
	}
	g_string_append_c(dsn, '\'');
}

/*
 * The base DSN with its search_path set to @schema, and with @password in
 * place of its own when given. Returns the original password in @orig.
 */
static gchar *
pg_dsn_for(const gchar *schema, const gchar *password, gchar **orig)
{
	g_autoptr(PQconninfoOption) options = PQconninfoParse(pg_base_dsn(), NULL);
	g_autoptr(GString) dsn = g_string_new(NULL);
	g_autofree gchar *search_path = g_strdup_printf("-c search_path=%s", schema);

	if (options == NULL)
		g_error("AIQ_TEST_PG_DSN is not a valid connection string");
	for (PQconninfoOption *opt = options; opt->keyword != NULL; opt++) {
		if (opt->val == NULL || g_strcmp0(opt->keyword, "options") == 0)
			continue;
		if (g_strcmp0(opt->keyword, "password") == 0) {
			if (orig != NULL)
				*orig = g_strdup(opt->val);
			if (password != NULL)
				continue;
		}
		append_conninfo(dsn, opt->keyword, opt->val);
	}
	if (password != NULL)
		append_conninfo(dsn, "password", password);
	append_conninfo(dsn, "options", search_path);
	return g_string_free(g_steal_pointer(&dsn), FALSE);
}

/* ---- fixture ---- */

static void
fixture_setup(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *db_path = NULL;
	g_autofree gchar *archive_path = NULL;

	f->backend = *(const Backend *)user_data;
	f->tmpdir = g_dir_make_tmp("aiq-test-sql-XXXXXX", &error);
	g_assert_no_error(error);
	f->config = aiq_config_new();

	/* the database file must exist: the connector does not create one */
	db_path = g_build_filename(f->tmpdir, "db.sqlite", NULL);
	archive_path = g_build_filename(f->tmpdir, "archive.sqlite", NULL);
	g_file_set_contents(db_path, "", 0, &error);
	g_assert_no_error(error);
	g_file_set_contents(archive_path, "", 0, &error);
	g_assert_no_error(error);
	aiq_config_add_connection(f->config, "archive", "sqlite", archive_path, NULL);

	if (f->backend == BACKEND_SQLITE) {
		aiq_config_add_connection(f->config, "db", "sqlite", db_path, NULL);
	} else {
		g_autofree gchar *sql = NULL;
		g_autofree gchar *dsn = NULL;
		g_autofree gchar *bad_dsn = NULL;
		f->schema = g_strdup_printf("aiq_t_%08x", g_random_int());
		sql = g_strdup_printf("CREATE SCHEMA %s", f->schema);
		pg_admin_exec(sql);
		dsn = pg_dsn_for(f->schema, NULL, &f->password);
		bad_dsn = pg_dsn_for(f->schema, "Wr0ng-Secret-Pa55", NULL);
		aiq_config_add_connection(f->config, "db", "postgresql", NULL, dsn);
		aiq_config_add_connection(f->config, "bad", "postgresql", NULL, bad_dsn);
	}
}

static void
fixture_teardown(Fixture *f, gconstpointer user_data)
{
	if (f->schema != NULL) {
		g_autofree gchar *sql = g_strdup_printf("DROP SCHEMA %s CASCADE", f->schema);
		pg_admin_exec(sql);
	}
	if (f->tmpdir != NULL) {
		g_autoptr(GDir) dir = g_dir_open(f->tmpdir, 0, NULL);
		const gchar *name;
		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *path = g_build_filename(f->tmpdir, name, NULL);
			g_unlink(path);
		}
		g_rmdir(f->tmpdir);
	}
	g_clear_object(&f->config);
	g_free(f->tmpdir);
	g_free(f->schema);
	g_free(f->password);
}

/* ---- running a step ---- */

typedef struct {
	GMainLoop *loop;
	JsonNode *output;
	GError *error;
	gboolean done;
} RunData;

static JsonObject *
parse_object(const gchar *json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_json_parse(json, strlen(json), 64, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_object_ref(json_node_get_object(node));
}

static void
run_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RunData *data = user_data;
	data->output = aiq_step_run_run_finish(AIQ_STEP_RUN(source), res, &data->error);
	data->done = TRUE;
	g_main_loop_quit(data->loop);
}

static gboolean
run_guard_cb(gpointer user_data)
{
	g_error("the step did not finish within 60 seconds");
	return G_SOURCE_REMOVE;
}

/* @with: (transfer full); connection defaults to "db" */
static AiqStepRun *
run_start(Fixture *f, JsonObject *with, GCancellable *cancellable, RunData *data, GError **error)
{
	g_autoptr(JsonObject) owned = with;
	g_autoptr(JsonObject) params = NULL;
	AiqStepRun *run;

	if (!json_object_has_member(owned, "connection"))
		json_object_set_string_member(owned, "connection", "db");
	params = aiq_step_kind_resolve_params(&aiq_step_kind_sql, owned, error);
	if (params == NULL)
		return NULL;
	run = aiq_step_run_new(&aiq_step_kind_sql, params, f->config);
	data->loop = g_main_loop_new(NULL, FALSE);
	aiq_step_run_run_async(run, cancellable, run_done_cb, data);
	return run;
}

static void
run_wait(RunData *data)
{
	guint guard = g_timeout_add_seconds(60, run_guard_cb, NULL);
	if (!data->done)
		g_main_loop_run(data->loop);
	g_source_remove(guard);
	g_clear_pointer(&data->loop, g_main_loop_unref);
}

/* @with: (transfer full) */
static JsonNode *
run_with(Fixture *f, JsonObject *with, GError **error)
{
	RunData data = { 0 };
	g_autoptr(AiqStepRun) run = run_start(f, with, NULL, &data, error);
	if (run == NULL)
		return NULL;
	run_wait(&data);
	if (data.error != NULL) {
		g_propagate_error(error, data.error);
		return NULL;
	}
	return data.output;
}

static JsonNode *
run_json(Fixture *f, const gchar *json, GError **error)
{
	return run_with(f, parse_object(json), error);
}

/* @params_json: (nullable): a JSON array */
static JsonNode *
run_query(Fixture *f, const gchar *query, const gchar *params_json, GError **error)
{
	JsonObject *with = json_object_new();
	json_object_set_string_member(with, "query", query);
	if (params_json != NULL) {
		g_autoptr(JsonNode) params =
			aiq_json_parse(params_json, strlen(params_json), 64, NULL);
		g_assert_nonnull(params);
		json_object_set_member(with, "params", json_node_ref(params));
	}
	return run_with(f, with, error);
}

static JsonNode *
run_ok(Fixture *f, const gchar *query, const gchar *params_json)
{
	g_autoptr(GError) error = NULL;
	JsonNode *output = run_query(f, query, params_json, &error);
	g_assert_no_error(error);
	g_assert_nonnull(output);
	return output;
}

static JsonObject *
output_row(JsonNode *output, guint idx)
{
	JsonArray *rows = json_object_get_array_member(json_node_get_object(output), "rows");
	g_assert_cmpuint(json_array_get_length(rows), >, idx);
	return json_array_get_object_element(rows, idx);
}

static gint64
output_int(JsonNode *output, const gchar *member)
{
	return json_object_get_int_member(json_node_get_object(output), member);
}

/* the single value of the single row of a query */
static gint64
query_int(Fixture *f, const gchar *query, const gchar *params_json)
{
	g_autoptr(JsonNode) output = run_ok(f, query, params_json);
	JsonObject *row = output_row(output, 0);
	g_autoptr(GList) members = json_object_get_members(row);
	g_assert_cmpuint(g_list_length(members), ==, 1);
	return json_object_get_int_member(row, members->data);
}

static void
assert_message_prefix(const GError *error, const gchar *connection)
{
	g_autofree gchar *prefix = g_strdup_printf("sql connection “%s”: ", connection);
	g_assert_nonnull(error);
	if (!g_str_has_prefix(error->message, prefix))
		g_error("“%s” does not start with “%s”", error->message, prefix);
}

static void
create_inv(Fixture *f)
{
	g_autoptr(JsonNode) output = run_ok(
		f,
		"CREATE TABLE inv (id INTEGER PRIMARY KEY, name TEXT, total DOUBLE PRECISION)",
		NULL);
	g_assert_cmpint(output_int(output, "changes"), ==, 0);
	g_assert_cmpint(output_int(output, "row_count"), ==, 0);
}

/* ---- tests ---- */

static void
test_declaration(void)
{
	const AiqParam *connection = aiq_step_kind_find_param(&aiq_step_kind_sql, "connection");
	const AiqParam *max_rows = aiq_step_kind_find_param(&aiq_step_kind_sql, "max_rows");
	g_autoptr(AiqConfig) config = aiq_config_new();
	g_autoptr(JsonObject) with =
		parse_object("{\"connection\": \"erp\", \"query\": \"SELECT 1\"}");
	g_autoptr(JsonObject) params = NULL;
	g_autoptr(AiqStepRun) run = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *key = NULL;
	g_autoptr(JsonNode) json = NULL;

	g_assert_true(aiq_step_kind_lookup("sql") == &aiq_step_kind_sql);
	g_assert_true(aiq_step_kind_sql.flags & AIQ_STEP_KIND_FLAG_HOST_ACCESS);
	g_assert_nonnull(connection);
	g_assert_true(connection->required);
	g_assert_true(connection->flags & AIQ_PARAM_FLAG_LITERAL);
	g_assert_nonnull(max_rows);
	g_assert_cmpstr(max_rows->default_json, ==, "10000");
	for (guint i = 0; aiq_step_kind_sql.params[i].name != NULL; i++)
		g_assert_nonnull(aiq_step_kind_sql.params[i].description);

	params = aiq_step_kind_resolve_params(&aiq_step_kind_sql, with, &error);
	g_assert_no_error(error);
	g_assert_cmpint(json_object_get_int_member(params, "max_rows"), ==, 10000);
	g_assert_false(json_object_get_boolean_member(params, "read_only"));
	run = aiq_step_run_new(&aiq_step_kind_sql, params, config);
	key = aiq_step_kind_sql.get_circuit_key(run);
	g_assert_cmpstr(key, ==, "sql:erp");

	json = aiq_step_kind_to_json(&aiq_step_kind_sql);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(json));
}

static void
assert_problem(const gchar *with_json, const gchar *path, const gchar *needle)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(JsonNode) with = aiq_json_parse(with_json, strlen(with_json), 64, NULL);
	g_autofree gchar *text = NULL;

	g_assert_nonnull(with);
	aiq_step_kind_validate_with(&aiq_step_kind_sql, with, "steps[0].with", problems);
	text = aiq_problems_to_string(problems, NULL);
	if (path == NULL) {
		if (aiq_problems_get_size(problems) != 0)
			g_error("%s: unexpected problems: %s", with_json, text);
		return;
	}
	if (!aiq_problems_has_path(problems, path))
		g_error("%s: no problem at %s: %s", with_json, path, text);
	for (guint i = 0; i < aiq_problems_get_size(problems); i++) {
		const AiqProblem *problem = aiq_problems_index(problems, i);
		if (g_strcmp0(problem->path, path) == 0 && strstr(problem->message, needle) != NULL)
			return;
	}
	g_error("%s: no problem at %s says “%s”: %s", with_json, path, needle, text);
}

static void
test_validate(void)
{
	/* fine: expressions in params only */
	assert_problem("{\"connection\": \"db\", \"query\": \"SELECT 1\"}", NULL, NULL);
	assert_problem("{\"connection\": \"db\", \"query\": \"SELECT ?\", "
		       "\"params\": [\"${{ inputs.id }}\"]}",
		       NULL,
		       NULL);
	assert_problem("{\"connection\": \"db\", \"statements\": [{\"query\": \"SELECT ?\", "
		       "\"params\": [\"${{ item.id }}\"]}, {\"query\": \"SELECT 2\"}]}",
		       NULL,
		       NULL);

	/* query and statements: one or the other */
	assert_problem("{\"connection\": \"db\", \"query\": \"SELECT 1\", "
		       "\"statements\": [{\"query\": \"SELECT 2\"}]}",
		       "steps[0].with.statements",
		       "not both");
	assert_problem("{\"connection\": \"db\"}", "steps[0].with", "query");
	assert_problem("{\"connection\": \"db\", \"statements\": [{\"query\": \"SELECT 2\"}], "
		       "\"params\": [1]}",
		       "steps[0].with.params",
		       "inside each statement");

	/* unknown parameters and members, with a suggestion */
	assert_problem("{\"connection\": \"db\", \"querry\": \"SELECT 1\"}",
		       "steps[0].with.querry",
		       "did you mean “query”");
	assert_problem("{\"connection\": \"db\", \"statements\": [{\"query\": \"SELECT ?\", "
		       "\"parms\": [1]}]}",
		       "steps[0].with.statements[0].parms",
		       "did you mean “params”");

	/* the connection names configuration, the query is fixed text */
	assert_problem("{\"connection\": \"${{ inputs.db }}\", \"query\": \"SELECT 1\"}",
		       "steps[0].with.connection",
		       "literal");
	assert_problem("{\"connection\": \"db\", \"query\": \"SELECT * FROM t WHERE id = ${{ "
		       "inputs.id }}\"}",
		       "steps[0].with.query",
		       "literal");
	assert_problem("{\"connection\": \"db\", \"statements\": [{\"query\": \"DELETE FROM t "
		       "WHERE id = ${{ item }}\"}]}",
		       "steps[0].with.statements[0].query",
		       "params");
	assert_problem("{\"connection\": \"db\", \"statements\": \"${{ inputs.sql }}\"}",
		       "steps[0].with.statements",
		       "literally");

	/* the step owns the transaction */
	assert_problem("{\"connection\": \"db\", \"query\": \"COMMIT\"}",
		       "steps[0].with.query",
		       "transaction");
	assert_problem("{\"connection\": \"db\", \"statements\": [{\"query\": \"SAVEPOINT a\"}, "
		       "{\"query\": \"ROLLBACK\"}]}",
		       "steps[0].with.statements[1].query",
		       "transaction");
	assert_problem("{\"connection\": \"db\", \"statements\": [{\"query\": \"SAVEPOINT a\"}, "
		       "{\"query\": \"ROLLBACK TO SAVEPOINT a\"}]}",
		       NULL,
		       NULL);

	/* shapes and ranges */
	assert_problem("{\"connection\": \"db\", \"query\": \"  \"}",
		       "steps[0].with.query",
		       "empty");
	assert_problem("{\"connection\": \"db\", \"statements\": []}",
		       "steps[0].with.statements",
		       "at least one");
	assert_problem("{\"connection\": \"db\", \"statements\": [\"SELECT 1\"]}",
		       "steps[0].with.statements[0]",
		       "expected an object");
	assert_problem("{\"connection\": \"db\", \"query\": \"SELECT 1\", \"max_rows\": 0}",
		       "steps[0].with.max_rows",
		       "between 1 and");
}

static void
test_basic(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) insert = NULL;
	g_autoptr(JsonNode) select = NULL;
	JsonObject *row;

	create_inv(f);
	insert = run_ok(f,
			"INSERT INTO inv (id, name, total) VALUES (?, ?, ?), (?, ?, ?)",
			"[1, \"one\", 2.5, 2, \"two\", 10]");
	g_assert_cmpint(output_int(insert, "changes"), ==, 2);
	g_assert_cmpint(output_int(insert, "row_count"), ==, 0);
	g_assert_false(json_object_has_member(json_node_get_object(insert), "results"));

	select = run_ok(f, "SELECT id, name, total FROM inv ORDER BY id", NULL);
	g_assert_cmpint(output_int(select, "row_count"), ==, 2);
	g_assert_cmpint(output_int(select, "changes"), ==, 0);
	row = output_row(select, 0);
	g_assert_cmpint(json_object_get_int_member(row, "id"), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(row, "name"), ==, "one");
	g_assert_cmpfloat(json_object_get_double_member(row, "total"), ==, 2.5);
	row = output_row(select, 1);
	g_assert_cmpstr(json_object_get_string_member(row, "name"), ==, "two");
	g_assert_cmpfloat(json_object_get_double_member(row, "total"), ==, 10.0);

	/* an UPDATE counts the rows it changed, a SELECT none */
	{
		g_autoptr(JsonNode) update =
			run_ok(f, "UPDATE inv SET total = total + 1 WHERE id > ?", "[0]");
		g_assert_cmpint(output_int(update, "changes"), ==, 2);
	}
}

static void
test_params(Fixture *f, gconstpointer user_data)
{
	const gchar *attack = "x'); DROP TABLE inv; --";
	g_autofree gchar *params = g_strdup_printf("[1, \"%s\"]", attack);
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonNode) literal = NULL;
	g_autoptr(GError) error = NULL;
	JsonObject *row;

	create_inv(f);
	g_clear_pointer(&output, json_node_unref);
	output = run_ok(f, "INSERT INTO inv (id, name) VALUES (?, ?)", params);
	g_assert_cmpint(output_int(output, "changes"), ==, 1);
	g_clear_pointer(&output, json_node_unref);

	/* stored as written; the table is still there */
	output = run_ok(f, "SELECT name FROM inv WHERE id = ?", "[1]");
	g_assert_cmpstr(json_object_get_string_member(output_row(output, 0), "name"), ==, attack);
	g_assert_cmpint(query_int(f, "SELECT count(*) AS n FROM inv", NULL), ==, 1);
	g_clear_pointer(&output, json_node_unref);

	/* $n placeholders bind by number on both drivers */
	output = run_ok(f, "INSERT INTO inv (name, id) VALUES ($2, $1)", "[7, \"seven\"]");
	g_clear_pointer(&output, json_node_unref);
	output = run_ok(f, "SELECT name FROM inv WHERE id = $1", "[7]");
	g_assert_cmpstr(json_object_get_string_member(output_row(output, 0), "name"), ==, "seven");

	/* a ? in a string literal or a comment is no placeholder */
	literal = run_ok(f, "SELECT '?' AS q, /* ? */ ? AS v -- ?\n", "[5]");
	row = output_row(literal, 0);
	g_assert_cmpstr(json_object_get_string_member(row, "q"), ==, "?");
	g_assert_cmpint(json_object_get_int_member(row, "v"), ==, 5);
	if (f->backend == BACKEND_POSTGRESQL) {
		g_autoptr(JsonNode) quoted = NULL;
		g_autoptr(JsonNode) jsonb = NULL;
		/* nor in dollar quotes, escape strings or quoted names */
		quoted = run_ok(f,
				"SELECT $$?$$ AS d, $t$ ' ? $t$ AS t, E'\\'?' AS e, "
				"? AS \"?\", 'it''s ?' AS s",
				"[\"v\"]");
		row = output_row(quoted, 0);
		g_assert_cmpstr(json_object_get_string_member(row, "d"), ==, "?");
		g_assert_cmpstr(json_object_get_string_member(row, "t"), ==, " ' ? ");
		g_assert_cmpstr(json_object_get_string_member(row, "e"), ==, "'?");
		g_assert_cmpstr(json_object_get_string_member(row, "?"), ==, "v");
		g_assert_cmpstr(json_object_get_string_member(row, "s"), ==, "it's ?");
		/* without params a ? stays an operator; with params, $n leaves it be */
		jsonb = run_ok(f, "SELECT '{\"a\": 1}'::jsonb ? 'a' AS has", NULL);
		g_assert_true(json_object_get_boolean_member(output_row(jsonb, 0), "has"));
		g_clear_pointer(&jsonb, json_node_unref);
		jsonb = run_ok(f, "SELECT '{\"a\": 1}'::jsonb ? $1 AS has", "[\"b\"]");
		g_assert_false(json_object_get_boolean_member(output_row(jsonb, 0), "has"));
	}

	/* placeholders and params must match */
	g_assert_null(run_query(f, "SELECT id FROM inv WHERE id = ? OR id = ?", "[1]", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	assert_message_prefix(error, "db");
	g_assert_nonnull(strstr(error->message, "placeholders in the query: 2; params given: 1"));
	g_clear_error(&error);
	g_assert_null(run_query(f, "SELECT 1 AS one", "[1]", &error));
	g_assert_nonnull(error);
	assert_message_prefix(error, "db");
}

static void
test_types_sqlite(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	JsonObject *row;

	output = run_ok(f,
			"CREATE TABLE t (i INTEGER, r REAL, s TEXT, n TEXT, b BLOB, j TEXT)",
			NULL);
	g_clear_pointer(&output, json_node_unref);
	output = run_ok(f,
			"INSERT INTO t VALUES (?, ?, ?, ?, x'00ff10', ?)",
			"[42, 0.25, \"héllo\", null, {\"a\": [1, true]}]");
	g_clear_pointer(&output, json_node_unref);

	output = run_ok(f,
			"SELECT i, r, s, n, b, j, ? AS yes, ? AS no, ? AS big FROM t",
			"[true, false, 9007199254740993]");
	row = output_row(output, 0);
	g_assert_cmpstr(aiq_json_type_name(json_object_get_member(row, "i")), ==, "integer");
	g_assert_cmpint(json_object_get_int_member(row, "i"), ==, 42);
	g_assert_cmpstr(aiq_json_type_name(json_object_get_member(row, "r")), ==, "number");
	g_assert_cmpfloat(json_object_get_double_member(row, "r"), ==, 0.25);
	g_assert_cmpstr(json_object_get_string_member(row, "s"), ==, "héllo");
	g_assert_true(json_object_get_null_member(row, "n"));
	g_assert_cmpstr(json_object_get_string_member(row, "b"), ==, "AP8Q");
	g_assert_cmpstr(json_object_get_string_member(row, "j"), ==, "{\"a\":[1,true]}");
	g_assert_cmpint(json_object_get_int_member(row, "yes"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(row, "no"), ==, 0);
	g_assert_cmpint(json_object_get_int_member(row, "big"),
			==,
			G_GINT64_CONSTANT(9007199254740993));
	g_clear_pointer(&output, json_node_unref);

	/* not-a-number and infinities have no JSON number */
	output = run_ok(f, "SELECT 1e999 AS inf, -1e999 AS ninf", NULL);
	row = output_row(output, 0);
	g_assert_cmpstr(json_object_get_string_member(row, "inf"), ==, "Infinity");
	g_assert_cmpstr(json_object_get_string_member(row, "ninf"), ==, "-Infinity");
}

static void
test_types_postgresql(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	JsonObject *row;
	JsonObject *obj;
	JsonNode *node;

	output = run_ok(f,
			"SELECT 1::int2 AS a, 2::int4 AS b, 9007199254740993::int8 AS c, "
			"1.5::float8 AS d, 0.25::float4 AS d4, 12.34::numeric AS e, "
			"123456789012345678901234.5::numeric AS f, 42::numeric(10,2) AS e2, "
			"true AS g, false AS g2, '{\"x\": [1, 2]}'::json AS h, "
			"'{\"y\": null}'::jsonb AS i, 'txt'::text AS j, NULL::text AS k, "
			"'\\x00ff10'::bytea AS l, 'NaN'::float8 AS m, 'NaN'::numeric AS m2, "
			"'2024-01-02'::date AS o, ARRAY[1, 2] AS p",
			NULL);
	row = output_row(output, 0);
	g_assert_cmpint(json_object_get_int_member(row, "a"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(row, "b"), ==, 2);
	g_assert_cmpint(json_object_get_int_member(row, "c"),
			==,
			G_GINT64_CONSTANT(9007199254740993));
	g_assert_cmpstr(aiq_json_type_name(json_object_get_member(row, "d")), ==, "number");
	g_assert_cmpfloat(json_object_get_double_member(row, "d"), ==, 1.5);
	g_assert_cmpfloat(json_object_get_double_member(row, "d4"), ==, 0.25);
	/* numeric: a number while a double holds it exactly, else its exact text */
	g_assert_cmpstr(aiq_json_type_name(json_object_get_member(row, "e")), ==, "number");
	g_assert_cmpfloat(json_object_get_double_member(row, "e"), ==, 12.34);
	g_assert_cmpstr(json_object_get_string_member(row, "f"), ==, "123456789012345678901234.5");
	g_assert_cmpstr(aiq_json_type_name(json_object_get_member(row, "e2")), ==, "integer");
	g_assert_cmpint(json_object_get_int_member(row, "e2"), ==, 42);
	g_assert_true(json_object_get_boolean_member(row, "g"));
	g_assert_false(json_object_get_boolean_member(row, "g2"));
	/* json and jsonb arrive parsed */
	obj = json_object_get_object_member(row, "h");
	g_assert_nonnull(obj);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj, "x")), ==, 2);
	obj = json_object_get_object_member(row, "i");
	g_assert_nonnull(obj);
	g_assert_true(json_object_get_null_member(obj, "y"));
	g_assert_cmpstr(json_object_get_string_member(row, "j"), ==, "txt");
	g_assert_true(json_object_get_null_member(row, "k"));
	g_assert_cmpstr(json_object_get_string_member(row, "l"), ==, "AP8Q");
	g_assert_cmpstr(json_object_get_string_member(row, "m"), ==, "NaN");
	g_assert_cmpstr(json_object_get_string_member(row, "m2"), ==, "NaN");
	g_assert_cmpstr(json_object_get_string_member(row, "o"), ==, "2024-01-02");
	g_assert_cmpstr(json_object_get_string_member(row, "p"), ==, "{1,2}");
	g_clear_pointer(&output, json_node_unref);

	/* params carry their JSON type; strings, arrays and objects take the column's */
	output = run_ok(f,
			"SELECT pg_typeof($1)::text AS t1, pg_typeof($2)::text AS t2, "
			"pg_typeof($3)::text AS t3, $1 + 1 AS sum, $4::jsonb AS obj, "
			"$5::date AS day, $6::int AS null_int",
			"[41, 1.5, true, {\"k\": [\"v\"]}, \"2024-02-29\", null]");
	row = output_row(output, 0);
	g_assert_cmpstr(json_object_get_string_member(row, "t1"), ==, "bigint");
	g_assert_cmpstr(json_object_get_string_member(row, "t2"), ==, "double precision");
	g_assert_cmpstr(json_object_get_string_member(row, "t3"), ==, "boolean");
	g_assert_cmpint(json_object_get_int_member(row, "sum"), ==, 42);
	node = json_object_get_member(row, "obj");
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	g_assert_cmpuint(json_array_get_length(
				 json_object_get_array_member(json_node_get_object(node), "k")),
			 ==,
			 1);
	g_assert_cmpstr(json_object_get_string_member(row, "day"), ==, "2024-02-29");
	g_assert_true(json_object_get_null_member(row, "null_int"));
	g_clear_pointer(&output, json_node_unref);

	/* into typed columns, including json from an object */
	output = run_ok(f, "CREATE TABLE t (n numeric, j jsonb, b boolean, ts timestamptz)", NULL);
	g_clear_pointer(&output, json_node_unref);
	output =
		run_ok(f,
		       "INSERT INTO t VALUES (?, ?, ?, ?) RETURNING n, j, b",
		       "[19.99, {\"deep\": {\"er\": [1, 2, 3]}}, false, \"2024-01-02T03:04:05Z\"]");
	g_assert_cmpint(output_int(output, "changes"), ==, 1);
	g_assert_cmpint(output_int(output, "row_count"), ==, 1);
	row = output_row(output, 0);
	g_assert_cmpfloat(json_object_get_double_member(row, "n"), ==, 19.99);
	obj = json_object_get_object_member(json_object_get_object_member(row, "j"), "deep");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj, "er")), ==, 3);
	g_assert_false(json_object_get_boolean_member(row, "b"));
}

static void
test_statements(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	JsonArray *results;
	JsonObject *result;

	create_inv(f);
	output = run_json(f,
			  "{\"statements\": ["
			  "{\"query\": \"INSERT INTO inv (id, name) VALUES (?, ?)\", "
			  "\"params\": [1, \"one\"]},"
			  "{\"query\": \"INSERT INTO inv (id, name) VALUES (?, ?), (?, ?)\", "
			  "\"params\": [2, \"two\", 3, \"three\"]},"
			  "{\"query\": \"SELECT id FROM inv ORDER BY id\"}]}",
			  &error);
	g_assert_no_error(error);
	results = json_object_get_array_member(json_node_get_object(output), "results");
	g_assert_cmpuint(json_array_get_length(results), ==, 3);
	result = json_array_get_object_element(results, 0);
	g_assert_cmpint(json_object_get_int_member(result, "changes"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(result, "row_count"), ==, 0);
	result = json_array_get_object_element(results, 1);
	g_assert_cmpint(json_object_get_int_member(result, "changes"), ==, 2);
	result = json_array_get_object_element(results, 2);
	g_assert_cmpint(json_object_get_int_member(result, "row_count"), ==, 3);
	g_assert_cmpint(json_object_get_int_member(result, "changes"), ==, 0);
	/* the top level is the last statement */
	g_assert_cmpint(output_int(output, "row_count"), ==, 3);
	g_assert_cmpint(json_object_get_int_member(output_row(output, 2), "id"), ==, 3);
	g_clear_pointer(&output, json_node_unref);

	/* a failure in the second statement rolls back the first */
	g_assert_null(run_json(f,
			       "{\"statements\": ["
			       "{\"query\": \"INSERT INTO inv (id, name) VALUES (?, ?)\", "
			       "\"params\": [4, \"four\"]},"
			       "{\"query\": \"INSERT INTO missing_table (id) VALUES (?)\", "
			       "\"params\": [4]}]}",
			       &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	assert_message_prefix(error, "db");
	g_assert_nonnull(strstr(error->message, "statement 2: "));
	g_assert_nonnull(strstr(error->message, "missing_table"));
	g_clear_error(&error);
	g_assert_cmpint(query_int(f, "SELECT count(*) AS n FROM inv WHERE id = 4", NULL), ==, 0);

	/* and so does a constraint violation */
	g_assert_null(run_json(f,
			       "{\"statements\": ["
			       "{\"query\": \"INSERT INTO inv (id) VALUES (5)\"},"
			       "{\"query\": \"INSERT INTO inv (id) VALUES (1)\"}]}",
			       &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	g_clear_error(&error);
	g_assert_cmpint(query_int(f, "SELECT count(*) AS n FROM inv", NULL), ==, 3);

	/* savepoints are the statements' own business */
	output = run_json(f,
			  "{\"statements\": ["
			  "{\"query\": \"SAVEPOINT a\"},"
			  "{\"query\": \"INSERT INTO inv (id) VALUES (6)\"},"
			  "{\"query\": \"ROLLBACK TO SAVEPOINT a\"},"
			  "{\"query\": \"INSERT INTO inv (id) VALUES (7)\"}]}",
			  &error);
	g_assert_no_error(error);
	g_assert_cmpint(query_int(f, "SELECT count(*) AS n FROM inv WHERE id >= 6", NULL), ==, 1);
}

static void
test_run_checks(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	/* what validation reports is checked again when the step runs */
	g_assert_null(run_json(f,
			       "{\"query\": \"SELECT 1\", "
			       "\"statements\": [{\"query\": \"SELECT 2\"}]}",
			       &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "not both"));
	g_clear_error(&error);

	g_assert_null(run_json(f, "{}", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	g_assert_null(run_json(f, "{\"statements\": [{\"query\": 1}]}", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "statements[0]"));
	g_clear_error(&error);

	g_assert_null(run_query(f, "COMMIT", NULL, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	assert_message_prefix(error, "db");
	g_clear_error(&error);

	/* one statement per query */
	g_assert_null(run_query(f, "SELECT 1; SELECT 2", NULL, &error));
	g_assert_nonnull(error);
	assert_message_prefix(error, "db");
	g_clear_error(&error);

	/* column names become members: each must be distinct */
	g_assert_null(run_query(f, "SELECT 1 AS a, 2 AS a", NULL, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	g_assert_nonnull(strstr(error->message, "“a” appears more than once"));
}

static void
test_max_rows(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_null(run_json(f, "{\"query\": \"" SERIES_20 "\", \"max_rows\": 10}", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	assert_message_prefix(error, "db");
	g_assert_nonnull(strstr(error->message, "more than 10 rows"));
	g_clear_error(&error);

	output = run_json(f, "{\"query\": \"" SERIES_20 "\", \"max_rows\": 20}", &error);
	g_assert_no_error(error);
	g_assert_cmpint(output_int(output, "row_count"), ==, 20);
	g_assert_cmpint(json_object_get_int_member(output_row(output, 19), "x"), ==, 20);

	/* the bound is for the whole step */
	g_assert_null(run_json(f,
			       "{\"statements\": [{\"query\": \"" SERIES_15 "\"}, "
			       "{\"query\": \"" SERIES_15 "\"}], \"max_rows\": 20}",
			       &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_assert_nonnull(strstr(error->message, "statement 2: "));
	g_clear_error(&error);

	/* a large result is stopped early, not read whole */
	g_assert_null(
		run_json(f,
			 "{\"query\": \"WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
			 "FROM s WHERE x < 100000000) SELECT x FROM s\", \"max_rows\": 5}",
			 &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
}

static void
test_read_only(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;

	create_inv(f);
	output = run_ok(f, "INSERT INTO inv (id, name) VALUES (1, 'one')", NULL);
	g_clear_pointer(&output, json_node_unref);

	g_assert_null(run_json(f,
			       "{\"query\": \"INSERT INTO inv (id, name) VALUES (2, 'two')\", "
			       "\"read_only\": true}",
			       &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	assert_message_prefix(error, "db");
	g_clear_error(&error);
	g_assert_null(run_json(f, "{\"query\": \"DELETE FROM inv\", \"read_only\": true}", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	g_clear_error(&error);

	output = run_json(f,
			  "{\"query\": \"SELECT count(*) AS n FROM inv\", \"read_only\": true}",
			  &error);
	g_assert_no_error(error);
	g_assert_cmpint(json_object_get_int_member(output_row(output, 0), "n"), ==, 1);
}

static void
test_unknown_connection(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	const gchar *expected = f->backend == BACKEND_SQLITE
					? "no sql connection named “nope” is configured (known: "
					  "archive, db)"
					: "no sql connection named “nope” is configured (known: "
					  "archive, bad, db)";

	g_assert_null(run_json(f, "{\"connection\": \"nope\", \"query\": \"SELECT 1\"}", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, expected);
}

static void
test_sql_error(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	g_assert_null(run_query(f, "SELEC 1", NULL, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	assert_message_prefix(error, "db");
	g_assert_nonnull(strstr(error->message, "syntax error"));
	g_clear_error(&error);

	g_assert_null(run_query(f, "SELECT * FROM inv", NULL, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	assert_message_prefix(error, "db");
	g_assert_nonnull(strstr(error->message, "inv"));
}

static void
finalized_cb(gpointer user_data, GObject *where)
{
	*(gboolean *)user_data = TRUE;
}

static gboolean
wake_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/*
 * The worker thread holds the run until it has rolled back and closed its
 * connection: the run going away shows that the database work has stopped,
 * not just that the attempt was reported as ended.
 */
static void
assert_worker_stops(AiqStepRun *run, gdouble max_seconds)
{
	gboolean finalized = FALSE;
	gint64 deadline = g_get_monotonic_time() + (gint64)(max_seconds * G_USEC_PER_SEC);
	guint wake = g_timeout_add(20, wake_cb, NULL);

	g_object_weak_ref(G_OBJECT(run), finalized_cb, &finalized);
	g_object_unref(run);
	while (!finalized && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(wake);
	if (!finalized)
		g_error("the database work did not stop within %.1f s", max_seconds);
}

static gboolean
cancel_cb(gpointer user_data)
{
	g_cancellable_cancel(G_CANCELLABLE(user_data));
	return G_SOURCE_REMOVE;
}

static const gchar *
long_query(Fixture *f)
{
	if (f->backend == BACKEND_SQLITE) {
		/* hours of work */
		return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
		       "WHERE x < 100000000000) SELECT count(*) AS n FROM c";
	}
	return "SELECT pg_sleep(600)";
}

static void
assert_database_usable(Fixture *f)
{
	g_autoptr(JsonNode) output = NULL;
	create_inv(f);
	output = run_ok(f, "INSERT INTO inv (id) VALUES (1)", NULL);
	g_assert_cmpint(output_int(output, "changes"), ==, 1);
	if (f->backend == BACKEND_POSTGRESQL) {
		g_assert_cmpint(
			query_int(f,
				  "SELECT count(*) AS n FROM pg_stat_activity "
				  "WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'",
				  NULL),
			==,
			0);
	}
}

static void
test_cancel(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	JsonObject *with = json_object_new();
	RunData data = { 0 };
	AiqStepRun *run;
	gint64 started;

	json_object_set_string_member(with, "query", long_query(f));
	run = run_start(f, with, cancellable, &data, NULL);
	g_assert_nonnull(run);
	g_timeout_add(300, cancel_cb, cancellable);
	started = g_get_monotonic_time();
	run_wait(&data);
	/* run_finish() reports the caller's own cancellation as G_IO_ERROR_CANCELLED;
	 * the attempt itself records the AIQ_ERROR the engine journals */
	g_assert_nonnull(data.error);
	g_assert_null(data.output);
	g_clear_error(&data.error);
	g_assert_error((GError *)aiq_step_run_get_error(run), AIQ_ERROR, AIQ_ERROR_CANCELLED);
	assert_worker_stops(run, 5.0);
	g_assert_cmpint(g_get_monotonic_time() - started, <, 6 * G_USEC_PER_SEC);
	assert_database_usable(f);
}

static void
test_timeout(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_autoptr(JsonObject) params = NULL;
	g_autoptr(GError) error = NULL;
	RunData data = { 0 };
	AiqStepRun *run;

	json_object_set_string_member(with, "connection", "db");
	json_object_set_string_member(with, "query", long_query(f));
	params = aiq_step_kind_resolve_params(&aiq_step_kind_sql, with, &error);
	g_assert_no_error(error);
	run = aiq_step_run_new(&aiq_step_kind_sql, params, f->config);
	aiq_step_run_set_timeout(run, 300);
	data.loop = g_main_loop_new(NULL, FALSE);
	aiq_step_run_run_async(run, NULL, run_done_cb, &data);
	run_wait(&data);
	g_assert_error(data.error, AIQ_ERROR, AIQ_ERROR_TIMED_OUT);
	g_clear_error(&data.error);
	assert_worker_stops(run, 5.0);
	assert_database_usable(f);
}

static void
test_sqlite_open(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *missing = g_build_filename(f->tmpdir, "missing.sqlite", NULL);
	g_autofree gchar *other = g_build_filename(f->tmpdir, "other.sqlite", NULL);
	g_autofree gchar *attach = g_strdup_printf("ATTACH DATABASE '%s' AS other", other);
	g_autoptr(GError) error = NULL;

	/* a mistyped path is an error, not a new database; the message keeps the path */
	aiq_config_add_connection(f->config, "typo", "sqlite", missing, NULL);
	g_assert_null(run_json(f, "{\"connection\": \"typo\", \"query\": \"SELECT 1\"}", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
	assert_message_prefix(error, "typo");
	g_assert_null(strstr(error->message, f->tmpdir));
	g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
	g_clear_error(&error);

	/* a connection reaches its own file only */
	g_assert_null(run_query(f, attach, NULL, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	g_assert_false(g_file_test(other, G_FILE_TEST_EXISTS));
}

/* a step waiting for another writer's lock still stops when cancelled */
static void
test_sqlite_busy(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *path = g_build_filename(f->tmpdir, "db.sqlite", NULL);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	JsonObject *with = json_object_new();
	sqlite3 *db = NULL;
	RunData data = { 0 };
	AiqStepRun *run;

	create_inv(f);
	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), ==, SQLITE_OK);

	json_object_set_string_member(with, "query", "INSERT INTO inv (id) VALUES (1)");
	run = run_start(f, with, cancellable, &data, NULL);
	g_assert_nonnull(run);
	g_timeout_add(300, cancel_cb, cancellable);
	run_wait(&data);
	g_assert_nonnull(data.error);
	g_clear_error(&data.error);
	g_assert_error((GError *)aiq_step_run_get_error(run), AIQ_ERROR, AIQ_ERROR_CANCELLED);
	assert_worker_stops(run, 2.0);

	g_assert_cmpint(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	g_assert_cmpint(query_int(f, "SELECT count(*) AS n FROM inv", NULL), ==, 0);
}

static void
test_pg_bad_password(Fixture *f, gconstpointer user_data)
{
	g_autoptr(AiqSecrets) secrets = aiq_secrets_new();
	g_autoptr(JsonObject) with = NULL;
	g_autoptr(JsonObject) params = NULL;
	g_autoptr(AiqStepRun) run = NULL;
	g_autoptr(GError) error = NULL;
	RunData data = { 0 };

	g_assert_null(run_json(f, "{\"connection\": \"bad\", \"query\": \"SELECT 1\"}", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
	assert_message_prefix(error, "bad");
	g_assert_nonnull(strstr(error->message, "cannot connect"));
	g_assert_nonnull(strstr(error->message, "password authentication failed"));
	g_assert_null(strstr(error->message, "Wr0ng-Secret-Pa55"));
	if (f->password != NULL)
		g_assert_null(strstr(error->message, f->password));
	g_clear_error(&error);

	/* and a run with secrets masks them in its error as well */
	aiq_secrets_set(secrets, "DB_USER_HINT", "password authentication");
	with = parse_object("{\"connection\": \"bad\", \"query\": \"SELECT 1\"}");
	params = aiq_step_kind_resolve_params(&aiq_step_kind_sql, with, &error);
	g_assert_no_error(error);
	run = aiq_step_run_new(&aiq_step_kind_sql, params, f->config);
	aiq_step_run_set_secrets(run, secrets);
	data.loop = g_main_loop_new(NULL, FALSE);
	aiq_step_run_run_async(run, NULL, run_done_cb, &data);
	run_wait(&data);
	g_assert_error(data.error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
	g_assert_null(strstr(data.error->message, "password authentication"));
	g_assert_nonnull(strstr(data.error->message, AIQ_SECRETS_MASK));
	g_clear_error(&data.error);
}

/* ---- secrets in a PostgreSQL dsn ---- */

#define SECRET_PW "it's a \\ pass word"
#define SECRET_USER "aiq user"
#define SECRET_URI_PW "p@ss:w/rd %?#&"

static AiqSecrets *
dsn_secrets_new(void)
{
	AiqSecrets *secrets = aiq_secrets_new();
	aiq_secrets_set(secrets, "PG_PASSWORD", SECRET_PW);
	aiq_secrets_set(secrets, "PG_USER", SECRET_USER);
	aiq_secrets_set(secrets, "URI_PW", SECRET_URI_PW);
	aiq_secrets_set(secrets, "PG_DSN", "host=h1 password='x y'");
	return secrets;
}

/* what libpq reads from @dsn for @keyword */
static gchar *
conninfo_get(const gchar *dsn, const gchar *keyword)
{
	g_autoptr(PQconninfoOption) options = PQconninfoParse(dsn, NULL);
	if (options == NULL)
		g_error("libpq cannot parse the expanded dsn");
	for (PQconninfoOption *opt = options; opt->keyword != NULL; opt++) {
		if (g_strcmp0(opt->keyword, keyword) == 0)
			return g_strdup(opt->val);
	}
	return NULL;
}

static gchar *
expand_ok(AiqSecrets *secrets, const gchar *dsn)
{
	g_autoptr(GError) error = NULL;
	gchar *expanded = aiq_sql_dsn_expand_secrets("db", dsn, secrets, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(expanded);
	return expanded;
}

static void
assert_conninfo(const gchar *dsn, const gchar *keyword, const gchar *expected)
{
	g_autofree gchar *value = conninfo_get(dsn, keyword);
	g_assert_cmpstr(value, ==, expected);
}

/* the message names the connection, and holds no secret value */
static void
assert_no_secret_values(const GError *error)
{
	const gchar *values[] = { SECRET_PW, SECRET_USER, SECRET_URI_PW, "x y", NULL };
	assert_message_prefix(error, "db");
	for (guint i = 0; values[i] != NULL; i++) {
		if (strstr(error->message, values[i]) != NULL)
			g_error("“%s” shows a secret value", error->message);
	}
}

static void
test_dsn_secrets(void)
{
	g_autoptr(AiqSecrets) secrets = dsn_secrets_new();
	g_autoptr(AiqSecrets) used = aiq_secrets_new();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) used_names = NULL;
	gchar *dsn;

	/* without ${{ the dsn is left as it is */
	dsn = expand_ok(secrets, "host=x  port=5432 password=pa\\ ss");
	g_assert_cmpstr(dsn, ==, "host=x  port=5432 password=pa\\ ss");
	g_free(dsn);

	/* a whole value: quoted for libpq, other values kept */
	dsn = aiq_sql_dsn_expand_secrets("db",
					 "host=db.example password=${{ secrets.PG_PASSWORD }} "
					 "dbname=app",
					 secrets,
					 used,
					 &error);
	g_assert_no_error(error);
	g_assert_cmpstr(dsn,
			==,
			"host='db.example' password='it\\'s a \\\\ pass word' dbname='app'");
	assert_conninfo(dsn, "password", SECRET_PW);
	assert_conninfo(dsn, "host", "db.example");
	assert_conninfo(dsn, "dbname", "app");
	g_free(dsn);

	/* the spaces inside the braces are optional */
	dsn = expand_ok(secrets, "password=${{secrets.PG_PASSWORD}} user = ${{ secrets.PG_USER}}");
	assert_conninfo(dsn, "password", SECRET_PW);
	assert_conninfo(dsn, "user", SECRET_USER);
	g_free(dsn);

	/* part of a quoted value, and of an unquoted one with libpq's escapes */
	dsn = expand_ok(secrets,
			"password='pre \\'${{ secrets.PG_PASSWORD }}\\' post' "
			"user=a\\ b${{ secrets.PG_USER }}c options='-c x=1'");
	assert_conninfo(dsn, "password", "pre '" SECRET_PW "' post");
	assert_conninfo(dsn, "user", "a b" SECRET_USER "c");
	assert_conninfo(dsn, "options", "-c x=1");
	g_free(dsn);

	/* a URI: percent-encoded */
	dsn = expand_ok(secrets, "postgresql://app:${{ secrets.URI_PW }}@db.example:5432/app");
	assert_conninfo(dsn, "password", SECRET_URI_PW);
	assert_conninfo(dsn, "user", "app");
	assert_conninfo(dsn, "host", "db.example");
	g_free(dsn);

	/* the whole dsn from one secret */
	dsn = expand_ok(secrets, " ${{ secrets.PG_DSN }} ");
	g_assert_cmpstr(dsn, ==, "host=h1 password='x y'");
	g_free(dsn);

	/* the secrets used, to mask them in messages */
	used_names = aiq_secrets_list_names(used);
	g_assert_cmpuint(g_strv_length(used_names), ==, 1);
	g_assert_cmpstr(used_names[0], ==, "PG_PASSWORD");
}

static void
test_dsn_secrets_errors(void)
{
	g_autoptr(AiqSecrets) secrets = dsn_secrets_new();
	const gchar *not_secrets[] = {
		"password=${{ inputs.pw }}",
		"password=${{ secrets.PG_PASSWORD",
		"password=${{ secrets.PG_PASSWORD | upper }}",
		"password=${{ secrets['PG_PASSWORD'] }}",
		"password=${{ secrets.1X }}",
		"password=${{ secrets.PG_PASSWORD }} host=${{ env.HOST }}",
		"postgresql://u:${{ secret.PG_PASSWORD }}@h/db",
		"${{ steps.x.output }}",
		NULL,
	};
	const gchar *invalid[] = {
		"${{ secrets.PG_USER }}=x",
		"host x password=${{ secrets.PG_PASSWORD }}",
		"host='x password=${{ secrets.PG_PASSWORD }}",
		"password=${{ secrets.PG_PASSWORD }} =x",
		NULL,
	};

	for (guint i = 0; not_secrets[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *dsn =
			aiq_sql_dsn_expand_secrets("db", not_secrets[i], secrets, NULL, &error);
		g_assert_null(dsn);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONFIG);
		assert_no_secret_values(error);
		g_assert_nonnull(strstr(error->message, "${{ secrets.NAME }}"));
	}
	for (guint i = 0; invalid[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *dsn =
			aiq_sql_dsn_expand_secrets("db", invalid[i], secrets, NULL, &error);
		g_assert_null(dsn);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONFIG);
		assert_no_secret_values(error);
		g_assert_nonnull(strstr(error->message, "[connection.db]"));
	}

	/* a secret that is not set: named, with the connection */
	for (guint i = 0; i < 2; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *dsn = aiq_sql_dsn_expand_secrets(
			"db",
			"password=${{ secrets.NOT_SET }} user=${{ secrets.PG_USER }}",
			i == 0 ? secrets : NULL,
			NULL,
			&error);
		g_assert_null(dsn);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
		assert_no_secret_values(error);
		g_assert_nonnull(strstr(error->message, "“NOT_SET”"));
		g_assert_nonnull(strstr(error->message, "[connection.db]"));
	}
}

/* @with_json: the step's parameters; @secrets: (nullable): the engine's */
static JsonNode *
run_json_with_secrets(Fixture *f, const gchar *with_json, AiqSecrets *secrets, GError **error)
{
	g_autoptr(JsonObject) with = parse_object(with_json);
	g_autoptr(JsonObject) params = NULL;
	g_autoptr(AiqStepRun) run = NULL;
	RunData data = { 0 };

	params = aiq_step_kind_resolve_params(&aiq_step_kind_sql, with, error);
	if (params == NULL)
		return NULL;
	run = aiq_step_run_new(&aiq_step_kind_sql, params, f->config);
	if (secrets != NULL)
		aiq_step_run_set_secrets(run, secrets);
	data.loop = g_main_loop_new(NULL, FALSE);
	aiq_step_run_run_async(run, NULL, run_done_cb, &data);
	run_wait(&data);
	if (data.error != NULL) {
		g_propagate_error(error, data.error);
		return NULL;
	}
	return data.output;
}

/* a step on a connection whose dsn uses a secret the agent does not have */
static void
test_dsn_unknown_secret_step(Fixture *f, gconstpointer user_data)
{
	g_autoptr(AiqSecrets) secrets = dsn_secrets_new();

	/* port 1: were the dsn used, the step would fail differently */
	aiq_config_add_connection(f->config,
				  "pgsecret",
				  "postgresql",
				  NULL,
				  "host=127.0.0.1 port=1 password=${{ secrets.PG_PASSWORD_TYPO }} "
				  "user=${{ secrets.PG_USER }}");
	for (guint i = 0; i < 2; i++) {
		g_autoptr(GError) error = NULL;
		g_assert_null(run_json_with_secrets(
			f,
			"{\"connection\": \"pgsecret\", \"query\": \"SELECT 1\"}",
			i == 0 ? secrets : NULL,
			&error));
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
		assert_message_prefix(error, "pgsecret");
		g_assert_nonnull(strstr(error->message, "“PG_PASSWORD_TYPO”"));
		g_assert_null(strstr(error->message, SECRET_USER));
	}
}

/*
 * Against the server: a role of its own whose password needs quoting, taken
 * from the secrets at connect time.
 */
static void
test_pg_dsn_secret(Fixture *f, gconstpointer user_data)
{
	const gchar *admin_dsn = g_getenv("AIQ_TEST_PG_ADMIN_DSN");
	const gchar *password = "it's \\ a 'pass' word";
	g_autofree gchar *role = g_strdup_printf("aiq_r_%08x", g_random_int());
	g_autoptr(PGconn) admin = NULL;
	g_autoptr(PGresult) res = NULL;
	g_autoptr(AiqSecrets) secrets = aiq_secrets_new();
	g_autoptr(GString) dsn = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) output = NULL;
	g_autofree gchar *literal = NULL;
	g_autofree gchar *sql = NULL;
	g_autofree gchar *base = NULL;

	if (admin_dsn == NULL) {
		g_test_skip(
			"AIQ_TEST_PG_ADMIN_DSN is not set (run under tests/pg-test-cluster.sh)");
		return;
	}
	admin = PQconnectdb(admin_dsn);
	g_assert_cmpint(PQstatus(admin), ==, CONNECTION_OK);
	literal = PQescapeLiteral(admin, password, strlen(password));
	sql = g_strdup_printf("CREATE ROLE %s LOGIN PASSWORD %s", role, literal);
	res = PQexec(admin, sql);
	g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
	g_clear_pointer(&res, PQclear);

	/* the base dsn as another user, and the password left to the secret */
	base = pg_dsn_for(f->schema, "PLACEHOLDER", NULL);
	dsn = g_string_new(base);
	g_string_replace(dsn, "password='PLACEHOLDER'", "password=${{ secrets.PG_PASSWORD }}", 1);
	g_string_replace(dsn, "user='aiq_test'", "", 1);
	g_string_append_printf(dsn, " user=%s", role);
	g_assert_nonnull(strstr(dsn->str, "${{ secrets.PG_PASSWORD }}"));
	aiq_config_add_connection(f->config, "secretpw", "postgresql", NULL, dsn->str);

	aiq_secrets_set(secrets, "PG_PASSWORD", password);
	output = run_json_with_secrets(
		f,
		"{\"connection\": \"secretpw\", \"query\": \"SELECT current_user::text AS u\"}",
		secrets,
		&error);
	g_assert_no_error(error);
	g_assert_cmpstr(json_object_get_string_member(output_row(output, 0), "u"), ==, role);

	/* a wrong value: the server says no, and the message does not show it */
	aiq_secrets_set(secrets, "PG_PASSWORD", "Wr0ng 'secret' \\ value");
	g_assert_null(
		run_json_with_secrets(f,
				      "{\"connection\": \"secretpw\", \"query\": \"SELECT 1\"}",
				      NULL,
				      &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_null(
		run_json_with_secrets(f,
				      "{\"connection\": \"secretpw\", \"query\": \"SELECT 1\"}",
				      secrets,
				      &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
	assert_message_prefix(error, "secretpw");
	g_assert_nonnull(strstr(error->message, "password authentication failed"));
	g_assert_null(strstr(error->message, "Wr0ng"));

	g_clear_pointer(&sql, g_free);
	sql = g_strdup_printf("DROP ROLE %s", role);
	res = PQexec(admin, sql);
	g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
}

static void
add_backend_tests(const gchar *name, const Backend *backend)
{
	static const struct {
		const gchar *path;
		void (*func)(Fixture *, gconstpointer);
	} tests[] = {
		{ "basic", test_basic },
		{ "params", test_params },
		{ "statements", test_statements },
		{ "run-checks", test_run_checks },
		{ "max-rows", test_max_rows },
		{ "read-only", test_read_only },
		{ "unknown-connection", test_unknown_connection },
		{ "sql-error", test_sql_error },
		{ "cancel", test_cancel },
		{ "timeout", test_timeout },
	};
	for (guint i = 0; i < G_N_ELEMENTS(tests); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/aiq/connector/sql/%s/%s", name, tests[i].path);
		g_test_add(path, Fixture, backend, fixture_setup, tests[i].func, fixture_teardown);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/aiq/connector/sql/declaration", test_declaration);
	g_test_add_func("/aiq/connector/sql/validate", test_validate);
	g_test_add_func("/aiq/connector/sql/dsn-secrets", test_dsn_secrets);
	g_test_add_func("/aiq/connector/sql/dsn-secrets-errors", test_dsn_secrets_errors);
	g_test_add("/aiq/connector/sql/dsn-unknown-secret",
		   Fixture,
		   &backend_sqlite,
		   fixture_setup,
		   test_dsn_unknown_secret_step,
		   fixture_teardown);

	add_backend_tests("sqlite", &backend_sqlite);
	g_test_add("/aiq/connector/sql/sqlite/types",
		   Fixture,
		   &backend_sqlite,
		   fixture_setup,
		   test_types_sqlite,
		   fixture_teardown);
	g_test_add("/aiq/connector/sql/sqlite/open",
		   Fixture,
		   &backend_sqlite,
		   fixture_setup,
		   test_sqlite_open,
		   fixture_teardown);
	g_test_add("/aiq/connector/sql/sqlite/busy",
		   Fixture,
		   &backend_sqlite,
		   fixture_setup,
		   test_sqlite_busy,
		   fixture_teardown);

	/* only with a server to talk to: no stand-in passes */
	if (pg_base_dsn() != NULL && pg_base_dsn()[0] != '\0') {
		add_backend_tests("postgresql", &backend_postgresql);
		g_test_add("/aiq/connector/sql/postgresql/types",
			   Fixture,
			   &backend_postgresql,
			   fixture_setup,
			   test_types_postgresql,
			   fixture_teardown);
		g_test_add("/aiq/connector/sql/postgresql/bad-password",
			   Fixture,
			   &backend_postgresql,
			   fixture_setup,
			   test_pg_bad_password,
			   fixture_teardown);
		g_test_add("/aiq/connector/sql/postgresql/dsn-secret",
			   Fixture,
			   &backend_postgresql,
			   fixture_setup,
			   test_pg_dsn_secret,
			   fixture_teardown);
	}
	return g_test_run();
}
