/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "aiq-connector-sql-private.h"
#include "aiq-connectors.h"
#include "aiq-engine.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-problems.h"
#include "aiq-step-run.h"
#include "aiq-template.h"
#include "aiq-util.h"

/*
 * The `sql` step kind: one transaction per attempt against a named connection
 * from the agent configuration (`[connection.NAME]`, SQLite or PostgreSQL).
 *
 * Everything that blocks (opening, querying, committing) runs on a GTask
 * worker thread with its own connection, opened for this attempt only; the
 * result comes back to the main context. Values are always bound, never put
 * into the SQL text: `query` is literal (no `${{ }}`), only `params` may hold
 * expressions.
 *
 * Output: `{ "rows": [{column: value}…], "row_count": n, "changes": n }` for the
 * last statement; with `statements` also `"results": [{rows, row_count,
 * changes}…]`, one per statement, in order.
 */

#define AIQ_SQL_MAX_ROWS_LIMIT 1000000
#define AIQ_SQL_MAX_STATEMENTS 1000
#define AIQ_SQL_BUSY_TIMEOUT_MS 5000
#define AIQ_SQL_CONNECT_TIMEOUT_S 10
#define AIQ_SQL_CANCEL_GRACE_MS 5000

/* fixed OIDs of the built-in PostgreSQL types (pg_type.dat) */
#define AIQ_PG_BOOLOID 16
#define AIQ_PG_BYTEAOID 17
#define AIQ_PG_INT8OID 20
#define AIQ_PG_INT2OID 21
#define AIQ_PG_INT4OID 23
#define AIQ_PG_OIDOID 26
#define AIQ_PG_JSONOID 114
#define AIQ_PG_FLOAT4OID 700
#define AIQ_PG_FLOAT8OID 701
#define AIQ_PG_NUMERICOID 1700
#define AIQ_PG_JSONBOID 3802

#define AIQ_PG_SQLSTATE_QUERY_CANCELED "57014"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3, sqlite3_close_v2)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGconn, PQfinish)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGresult, PQclear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PQconninfoOption, PQconninfoFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGcancel, PQfreeCancel)

static const AiqParam aiq_sql_params[] = {
	{
		.name = "connection",
		.type = AIQ_PARAM_STRING,
		.required = TRUE,
		.description = N_("The name of a connection configured on the agent as "
				  "[connection.NAME]; definitions never hold paths or DSNs."),
		.flags = AIQ_PARAM_FLAG_LITERAL,
	},
	{
		.name = "query",
		.type = AIQ_PARAM_TEXT,
		.description =
			N_("One SQL statement, written literally (no ${{ }}). Values go in params "
			   "and are bound to placeholders: ? in order, or $1, $2… by number, on "
			   "SQLite and PostgreSQL alike. On PostgreSQL, when params are given and "
			   "the query has no $n, each ? outside literals and comments becomes $n: "
			   "a query using the jsonb ? operators with params must use $n. Give "
			   "query or statements."),
		.flags = AIQ_PARAM_FLAG_LITERAL,
	},
	{
		.name = "params",
		.type = AIQ_PARAM_ARRAY,
		.description =
			N_("Values bound to the placeholders of query, never put into its text: "
			   "strings, numbers, booleans and null with their own type; arrays and "
			   "objects as JSON text."),
	},
	{
		.name = "statements",
		.type = AIQ_PARAM_ARRAY,
		.description =
			N_("Several statements as {query, params} objects, run in order in one "
			   "transaction; the output has a result for each. Give query or "
			   "statements."),
	},
	{
		.name = "max_rows",
		.type = AIQ_PARAM_INTEGER,
		.default_json = "10000",
		.description =
			N_("The most rows the step may return, in all statements together; more "
			   "fail the step and roll it back rather than being cut off."),
	},
	{
		.name = "read_only",
		.type = AIQ_PARAM_BOOLEAN,
		.default_json = "false",
		.description = N_("Run in a read-only transaction: any write fails the step."),
	},
	{ NULL },
};

static const gchar *const aiq_sql_statement_members[] = { "query", "params", NULL };

/* the work of one attempt, handed to the worker thread */

typedef struct {
	gchar *query;
	JsonArray *params; /* (nullable) */
} AiqSqlStatement;

typedef struct {
	gchar *name;
	gboolean postgresql;
	gchar *path;
	gchar *dsn;              /* with its secrets in place: never shown */
	AiqSecrets *dsn_secrets; /* the secrets in it, masked in messages */
	GPtrArray *statements;   /* of AiqSqlStatement */
	gboolean multi;          /* from `statements`: the output has `results` */
	guint max_rows;
	gboolean read_only;
	guint n_rows; /* rows returned so far, for max_rows */
} AiqSqlJob;

static void
aiq_sql_statement_free(AiqSqlStatement *stmt)
{
	g_free(stmt->query);
	if (stmt->params != NULL)
		json_array_unref(stmt->params);
	g_free(stmt);
}

static void
aiq_sql_job_free(AiqSqlJob *job)
{
	g_free(job->name);
	g_free(job->path);
	if (job->dsn != NULL)
		memset(job->dsn, 0, strlen(job->dsn));
	g_free(job->dsn);
	g_clear_pointer(&job->dsn_secrets, aiq_secrets_unref);
	g_ptr_array_unref(job->statements);
	g_free(job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqSqlJob, aiq_sql_job_free)

/*
 * A deep copy, so that the worker thread shares no refcounted JSON with the
 * main thread (json_node_copy() shares containers and values).
 */
static JsonNode *
aiq_sql_json_deep_copy(JsonNode *node)
{
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *copy = json_object_new();
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &key, &value))
			json_object_set_member(copy, key, aiq_sql_json_deep_copy(value));
		return aiq_json_new_object(copy);
	}
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		JsonArray *copy = json_array_sized_new(json_array_get_length(array));
		for (guint i = 0; i < json_array_get_length(array); i++)
			json_array_add_element(
				copy,
				aiq_sql_json_deep_copy(json_array_get_element(array, i)));
		return aiq_json_new_array(copy);
	}
	if (JSON_NODE_HOLDS_VALUE(node)) {
		JsonNode *copy = json_node_alloc();
		switch (json_node_get_value_type(node)) {
		case G_TYPE_INT64:
			json_node_init_int(copy, json_node_get_int(node));
			break;
		case G_TYPE_DOUBLE:
			json_node_init_double(copy, json_node_get_double(node));
			break;
		case G_TYPE_BOOLEAN:
			json_node_init_boolean(copy, json_node_get_boolean(node));
			break;
		default:
			json_node_init_string(copy, json_node_get_string(node));
			break;
		}
		return copy;
	}
	return json_node_new(JSON_NODE_NULL);
}

static void
aiq_sql_job_add_statement(AiqSqlJob *job, const gchar *query, JsonArray *params)
{
	AiqSqlStatement *stmt = g_new0(AiqSqlStatement, 1);
	stmt->query = g_strdup(query);
	if (params != NULL) {
		g_autoptr(JsonNode) node = json_node_alloc();
		g_autoptr(JsonNode) copy = NULL;
		json_node_init_array(node, params);
		copy = aiq_sql_json_deep_copy(node);
		stmt->params = json_array_ref(json_node_get_array(copy));
	}
	g_ptr_array_add(job->statements, stmt);
}

/*
 * Errors: every message names the connection (never its path or DSN) and,
 * with several statements, the statement.
 */
static void
aiq_sql_set_error(GError **error,
		  AiqSqlJob *job,
		  guint stmt_idx,
		  AiqError code,
		  const gchar *format,
		  ...) G_GNUC_PRINTF(5, 6);

static void
aiq_sql_set_error(GError **error,
		  AiqSqlJob *job,
		  guint stmt_idx,
		  AiqError code,
		  const gchar *format,
		  ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	if (job->multi && stmt_idx > 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    code,
			    /* TRANSLATORS: sql connection “NAME”: statement N: MESSAGE */
			    _("sql connection “%s”: statement %u: %s"),
			    job->name,
			    stmt_idx,
			    message);
	} else {
		g_set_error(error,
			    AIQ_ERROR,
			    code,
			    /* TRANSLATORS: sql connection “NAME”: MESSAGE */
			    _("sql connection “%s”: %s"),
			    job->name,
			    message);
	}
}

static void
aiq_sql_set_cancelled(GError **error, AiqSqlJob *job)
{
	g_clear_error(error);
	aiq_sql_set_error(error, job, 0, AIQ_ERROR_CANCELLED, "%s", _("cancelled"));
}

/* ---- checks shared by validation and run time ---- */

/*
 * Statements that end or start the step's own transaction would break its
 * all-or-nothing promise; savepoints (and ROLLBACK TO) are fine.
 */
static const gchar *
aiq_sql_skip_space_and_comments(const gchar *p)
{
	for (;;) {
		while (g_ascii_isspace(*p))
			p++;
		if (p[0] == '-' && p[1] == '-') {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const gchar *end = strstr(p + 2, "*/");
			p = end != NULL ? end + 2 : p + strlen(p);
		} else {
			return p;
		}
	}
}

static gchar *
aiq_sql_next_word(const gchar **pp)
{
	const gchar *p = aiq_sql_skip_space_and_comments(*pp);
	const gchar *start = p;
	while (g_ascii_isalpha(*p) || *p == '_')
		p++;
	*pp = p;
	return g_ascii_strdown(start, p - start);
}

static gboolean
aiq_sql_controls_transaction(const gchar *query)
{
	const gchar *p = query;
	g_autofree gchar *word = aiq_sql_next_word(&p);
	g_autofree gchar *next = aiq_sql_next_word(&p);
	const gchar *const control[] = { "begin", "commit", "end", "abort", NULL };

	if (g_strv_contains(control, word))
		return TRUE;
	/* START TRANSACTION, PREPARE TRANSACTION (but not PREPARE name AS …) */
	if (g_strcmp0(word, "start") == 0 || g_strcmp0(word, "prepare") == 0)
		return g_strcmp0(next, "transaction") == 0;
	/* ROLLBACK [TRANSACTION | WORK], but not ROLLBACK … TO [SAVEPOINT] name */
	if (g_strcmp0(word, "rollback") == 0) {
		if (g_strcmp0(next, "transaction") == 0 || g_strcmp0(next, "work") == 0) {
			g_free(next);
			next = aiq_sql_next_word(&p);
		}
		return g_strcmp0(next, "to") != 0;
	}
	return FALSE;
}

static gboolean
aiq_sql_is_blank(const gchar *query)
{
	return *aiq_sql_skip_space_and_comments(query) == '\0';
}

/* ---- validation (literal values only) ---- */

static gboolean
aiq_sql_is_expression(JsonNode *node)
{
	return aiq_json_is_string(node) &&
	       aiq_template_string_has_expressions(json_node_get_string(node));
}

static void
aiq_sql_validate_statement(JsonNode *node, const gchar *path, AiqProblems *problems)
{
	JsonObject *obj;
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *value;
	JsonNode *query;
	JsonNode *params;

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		aiq_problems_add(problems,
				 path,
				 _("expected an object with query and params, got %s"),
				 aiq_json_type_name(node));
		return;
	}
	obj = json_node_get_object(node);
	json_object_iter_init_ordered(&iter, obj);
	while (json_object_iter_next_ordered(&iter, &key, &value)) {
		g_autofree gchar *member_path = NULL;
		const gchar *suggestion;
		if (g_strv_contains(aiq_sql_statement_members, key))
			continue;
		member_path = aiq_path_member(path, key);
		suggestion = aiq_suggest(key, aiq_sql_statement_members);
		if (suggestion != NULL) {
			aiq_problems_add(
				problems,
				member_path,
				_("unknown member “%s” of a statement; did you mean “%s”?"),
				key,
				suggestion);
		} else {
			aiq_problems_add(
				problems,
				member_path,
				_("unknown member “%s” of a statement; expected query or params"),
				key);
		}
	}

	query = json_object_get_member(obj, "query");
	if (query == NULL) {
		aiq_problems_add(problems, path, "%s", _("missing query"));
	} else {
		g_autofree gchar *query_path = aiq_path_member(path, "query");
		if (!aiq_json_is_string(query)) {
			aiq_problems_add(problems,
					 query_path,
					 _("expected a string, got %s"),
					 aiq_json_type_name(query));
		} else if (aiq_sql_is_expression(query)) {
			aiq_problems_add(problems,
					 query_path,
					 "%s",
					 _("a query must be written literally; bind values with "
					   "params instead of ${{ }} in the query"));
		} else if (aiq_sql_is_blank(json_node_get_string(query))) {
			aiq_problems_add(problems, query_path, "%s", _("the query is empty"));
		} else if (aiq_sql_controls_transaction(json_node_get_string(query))) {
			aiq_problems_add(problems,
					 query_path,
					 "%s",
					 _("the step runs its statements in one transaction; "
					   "BEGIN, COMMIT and ROLLBACK are not allowed"));
		}
	}
	params = json_object_get_member(obj, "params");
	if (params != NULL && !JSON_NODE_HOLDS_NULL(params) && !JSON_NODE_HOLDS_ARRAY(params) &&
	    !aiq_sql_is_expression(params)) {
		g_autofree gchar *params_path = aiq_path_member(path, "params");
		aiq_problems_add(problems,
				 params_path,
				 _("expected an array, got %s"),
				 aiq_json_type_name(params));
	}
}

static void
aiq_sql_validate(JsonObject *with, const gchar *path, AiqProblems *problems)
{
	JsonNode *query = json_object_get_member(with, "query");
	JsonNode *statements = json_object_get_member(with, "statements");
	JsonNode *params = json_object_get_member(with, "params");
	JsonNode *max_rows = json_object_get_member(with, "max_rows");

	if (query != NULL && JSON_NODE_HOLDS_NULL(query))
		query = NULL;
	if (statements != NULL && JSON_NODE_HOLDS_NULL(statements))
		statements = NULL;
	if (params != NULL && JSON_NODE_HOLDS_NULL(params))
		params = NULL;

	if (query != NULL && statements != NULL) {
		g_autofree gchar *member_path = aiq_path_member(path, "statements");
		aiq_problems_add(problems,
				 member_path,
				 "%s",
				 _("give either query or statements, not both"));
	} else if (query == NULL && statements == NULL) {
		aiq_problems_add(problems, path, "%s", _("give a query or a list of statements"));
	}
	if (statements != NULL && params != NULL) {
		g_autofree gchar *member_path = aiq_path_member(path, "params");
		aiq_problems_add(problems,
				 member_path,
				 "%s",
				 _("with statements, give params inside each statement"));
	}

	/* the generic check already rejects expressions here (the flag is literal) */
	if (aiq_json_is_string(query) && !aiq_sql_is_expression(query)) {
		const gchar *text = json_node_get_string(query);
		g_autofree gchar *member_path = aiq_path_member(path, "query");
		if (aiq_sql_is_blank(text)) {
			aiq_problems_add(problems, member_path, "%s", _("the query is empty"));
		} else if (aiq_sql_controls_transaction(text)) {
			aiq_problems_add(problems,
					 member_path,
					 "%s",
					 _("the step runs its statements in one transaction; "
					   "BEGIN, COMMIT and ROLLBACK are not allowed"));
		}
	}

	if (aiq_json_is_integer(max_rows) &&
	    (json_node_get_int(max_rows) < 1 ||
	     json_node_get_int(max_rows) > AIQ_SQL_MAX_ROWS_LIMIT)) {
		g_autofree gchar *member_path = aiq_path_member(path, "max_rows");
		aiq_problems_add(problems,
				 member_path,
				 _("must be between 1 and %u"),
				 (guint)AIQ_SQL_MAX_ROWS_LIMIT);
	}

	if (statements != NULL) {
		g_autofree gchar *member_path = aiq_path_member(path, "statements");
		if (aiq_sql_is_expression(statements)) {
			aiq_problems_add(problems,
					 member_path,
					 "%s",
					 _("statements must be written literally; bind values with "
					   "each statement's params"));
		} else if (JSON_NODE_HOLDS_ARRAY(statements)) {
			JsonArray *array = json_node_get_array(statements);
			guint n = json_array_get_length(array);
			if (n == 0) {
				aiq_problems_add(problems,
						 member_path,
						 "%s",
						 _("expected at least one statement"));
			} else if (n > AIQ_SQL_MAX_STATEMENTS) {
				aiq_problems_add(problems,
						 member_path,
						 _("more than %u statements"),
						 (guint)AIQ_SQL_MAX_STATEMENTS);
			}
			for (guint i = 0; i < n && i < AIQ_SQL_MAX_STATEMENTS; i++) {
				g_autofree gchar *item_path = aiq_path_index(member_path, i);
				JsonNode *item = json_array_get_element(array, i);
				if (aiq_sql_is_expression(item)) {
					aiq_problems_add(
						problems,
						item_path,
						"%s",
						_("a statement must be written literally; bind "
						  "values with its params"));
					continue;
				}
				aiq_sql_validate_statement(item, item_path, problems);
			}
		}
	}
}

/* ---- secrets in the dsn (main thread) ---- */

/*
 * A PostgreSQL dsn may take passwords and the like from the agent's secrets as
 * `${{ secrets.NAME }}`, and nothing else: it is configuration, not a template.
 * Every message here names the connection and the secret, never a value.
 */

static void
aiq_sql_dsn_set_error(GError **error,
		      const gchar *connection,
		      AiqError code,
		      const gchar *format,
		      ...) G_GNUC_PRINTF(4, 5);

static void
aiq_sql_dsn_set_error(GError **error,
		      const gchar *connection,
		      AiqError code,
		      const gchar *format,
		      ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	/* TRANSLATORS: sql connection “NAME”: MESSAGE */
	g_set_error(error, AIQ_ERROR, code, _("sql connection “%s”: %s"), connection, message);
}

static void
aiq_sql_dsn_set_invalid(GError **error, const gchar *connection)
{
	aiq_sql_dsn_set_error(error,
			      connection,
			      AIQ_ERROR_CONFIG,
			      _("the dsn of [connection.%s] on the agent is not a valid "
				"PostgreSQL connection string"),
			      connection);
}

/* a GString that may hold a secret, wiped when freed */
typedef GString AiqSqlWipedString;

static void
aiq_sql_wipe_string(AiqSqlWipedString *str)
{
	memset(str->str, 0, str->allocated_len);
	g_string_free(str, TRUE);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqSqlWipedString, aiq_sql_wipe_string)

static gboolean
aiq_sql_dsn_is_blank(gchar c)
{
	return c == ' ' || c == '\t';
}

/* at `${{`: the NAME of `${{ secrets.NAME }}`, with @end after the `}}`; or NULL */
static gchar *
aiq_sql_dsn_parse_ref(const gchar *p, const gchar **end)
{
	const gchar *name;
	const gchar *name_end;

	g_assert(g_str_has_prefix(p, "${{"));
	p += 3;
	while (aiq_sql_dsn_is_blank(*p))
		p++;
	if (!g_str_has_prefix(p, "secrets."))
		return NULL;
	p += strlen("secrets.");
	name = p;
	if (!g_ascii_isalpha(*p) && *p != '_')
		return NULL;
	while (g_ascii_isalnum(*p) || *p == '_')
		p++;
	name_end = p;
	while (aiq_sql_dsn_is_blank(*p))
		p++;
	if (!g_str_has_prefix(p, "}}"))
		return NULL;
	*end = p + 2;
	return g_strndup(name, name_end - name);
}

/*
 * At `${{`: appends the secret's value (percent-encoded for a URI) to @out.
 * Returns where the reference ends, or NULL with @error set.
 */
static const gchar *
aiq_sql_dsn_append_secret(const gchar *connection,
			  const gchar *p,
			  AiqSecrets *secrets,
			  AiqSecrets *used,
			  gboolean uri,
			  GString *out,
			  GError **error)
{
	const gchar *end = NULL;
	g_autofree gchar *name = aiq_sql_dsn_parse_ref(p, &end);
	gchar *value;

	/* aiq_sql_dsn_expand_secrets() checked every reference first */
	g_assert(name != NULL);
	value = secrets != NULL ? aiq_secrets_lookup(secrets, name) : NULL;
	if (value == NULL) {
		aiq_sql_dsn_set_error(error,
				      connection,
				      AIQ_ERROR_NOT_FOUND,
				      _("the dsn of [connection.%s] uses secret “%s”, which is not "
					"set on this agent; set it with “automateiq-agent secret "
					"set %s”"),
				      connection,
				      name,
				      name);
		return NULL;
	}
	if (used != NULL)
		aiq_secrets_set(used, name, value);
	if (uri) {
		gchar *escaped = g_uri_escape_string(value, NULL, FALSE);
		g_string_append(out, escaped);
		memset(escaped, 0, strlen(escaped));
		g_free(escaped);
	} else {
		g_string_append(out, value);
	}
	memset(value, 0, strlen(value));
	g_free(value);
	return end;
}

/* a keyword=value value as libpq reads it back: '…' with \ and \' escaped */
static void
aiq_sql_dsn_append_quoted(GString *out, const gchar *value)
{
	g_string_append_c(out, '\'');
	for (const gchar *p = value; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			g_string_append_c(out, '\\');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '\'');
}

/* libpq's conninfo_parse(), with `${{ secrets.NAME }}` inside values */
static gchar *
aiq_sql_dsn_expand_keywords(const gchar *connection,
			    const gchar *dsn,
			    AiqSecrets *secrets,
			    AiqSecrets *used,
			    GError **error)
{
	g_autoptr(AiqSqlWipedString) out = g_string_new(NULL);
	const gchar *p = dsn;

	for (;;) {
		g_autoptr(AiqSqlWipedString) value = g_string_new(NULL);
		const gchar *keyword;
		gsize keyword_len;

		while (g_ascii_isspace(*p))
			p++;
		if (*p == '\0')
			break;
		keyword = p;
		while (*p != '\0' && *p != '=' && !g_ascii_isspace(*p))
			p++;
		keyword_len = p - keyword;
		while (g_ascii_isspace(*p))
			p++;
		if (*p != '=' || keyword_len == 0) {
			aiq_sql_dsn_set_invalid(error, connection);
			return NULL;
		}
		if (g_strstr_len(keyword, keyword_len, "${{") != NULL) {
			aiq_sql_dsn_set_error(error,
					      connection,
					      AIQ_ERROR_CONFIG,
					      _("the dsn of [connection.%s] on the agent may use "
						"${{ secrets.NAME }} in values only"),
					      connection);
			return NULL;
		}
		p++;
		while (g_ascii_isspace(*p))
			p++;

		if (*p == '\'') {
			for (p++;;) {
				if (*p == '\0') {
					aiq_sql_dsn_set_invalid(error, connection);
					return NULL;
				}
				if (*p == '\'') {
					p++;
					break;
				}
				if (g_str_has_prefix(p, "${{")) {
					p = aiq_sql_dsn_append_secret(connection,
								      p,
								      secrets,
								      used,
								      FALSE,
								      value,
								      error);
					if (p == NULL)
						return NULL;
					continue;
				}
				if (*p == '\\' && p[1] != '\0')
					p++;
				g_string_append_c(value, *p++);
			}
		} else {
			while (*p != '\0' && !g_ascii_isspace(*p)) {
				if (g_str_has_prefix(p, "${{")) {
					p = aiq_sql_dsn_append_secret(connection,
								      p,
								      secrets,
								      used,
								      FALSE,
								      value,
								      error);
					if (p == NULL)
						return NULL;
					continue;
				}
				if (*p == '\\') {
					p++;
					if (*p == '\0')
						break;
				}
				g_string_append_c(value, *p++);
			}
		}
		if (out->len > 0)
			g_string_append_c(out, ' ');
		g_string_append_len(out, keyword, keyword_len);
		g_string_append_c(out, '=');
		aiq_sql_dsn_append_quoted(out, value->str);
	}
	return g_strdup(out->str);
}

gchar *
aiq_sql_dsn_expand_secrets(const gchar *connection,
			   const gchar *dsn,
			   AiqSecrets *secrets,
			   AiqSecrets *used,
			   GError **error)
{
	const gchar *p = dsn;
	const gchar *end = NULL;
	g_autofree gchar *whole = NULL;

	g_return_val_if_fail(connection != NULL, NULL);
	g_return_val_if_fail(dsn != NULL, NULL);

	if (strstr(dsn, "${{") == NULL)
		return g_strdup(dsn);

	/* wherever it is, each `${{` must be a `${{ secrets.NAME }}` */
	for (const gchar *ref = strstr(dsn, "${{"); ref != NULL; ref = strstr(ref + 3, "${{")) {
		g_autofree gchar *name = aiq_sql_dsn_parse_ref(ref, &end);
		if (name == NULL) {
			aiq_sql_dsn_set_error(error,
					      connection,
					      AIQ_ERROR_CONFIG,
					      _("the dsn of [connection.%s] on the agent may use "
						"${{ secrets.NAME }} and no other ${{ }}"),
					      connection);
			return NULL;
		}
	}

	/* the whole dsn from one secret */
	while (g_ascii_isspace(*p))
		p++;
	if (g_str_has_prefix(p, "${{"))
		whole = aiq_sql_dsn_parse_ref(p, &end);
	if (whole != NULL) {
		while (g_ascii_isspace(*end))
			end++;
		if (*end == '\0') {
			g_autoptr(AiqSqlWipedString) out = g_string_new(NULL);
			if (aiq_sql_dsn_append_secret(connection,
						      p,
						      secrets,
						      used,
						      FALSE,
						      out,
						      error) == NULL)
				return NULL;
			return g_strdup(out->str);
		}
	}

	/* a URI (libpq's prefixes, at the very start): values percent-encoded */
	if (g_str_has_prefix(dsn, "postgresql://") || g_str_has_prefix(dsn, "postgres://")) {
		g_autoptr(AiqSqlWipedString) out = g_string_new(NULL);
		for (p = dsn; *p != '\0';) {
			if (g_str_has_prefix(p, "${{")) {
				p = aiq_sql_dsn_append_secret(connection,
							      p,
							      secrets,
							      used,
							      TRUE,
							      out,
							      error);
				if (p == NULL)
					return NULL;
				continue;
			}
			g_string_append_c(out, *p++);
		}
		return g_strdup(out->str);
	}

	return aiq_sql_dsn_expand_keywords(connection, dsn, secrets, used, error);
}

/* the engine's secrets, as the run was given them */
static AiqSecrets *
aiq_sql_get_secrets(AiqStepRun *run)
{
	AiqSecrets *secrets = aiq_step_run_get_secrets(run);
	gpointer engine = aiq_step_run_get_engine(run);
	if (secrets == NULL && engine != NULL)
		secrets = aiq_engine_get_secrets(AIQ_ENGINE(engine));
	return secrets;
}

/* ---- the job, from the resolved parameters (main thread) ---- */

static AiqSqlJob *
aiq_sql_job_new(AiqStepRun *run, GError **error)
{
	JsonObject *params = aiq_step_run_get_params(run);
	AiqConfig *config = aiq_step_run_get_config(run);
	const gchar *name = aiq_step_run_get_string(run, "connection");
	const AiqConnection *conn = aiq_config_get_connection(config, name);
	JsonNode *query = json_object_get_member(params, "query");
	JsonNode *statements = json_object_get_member(params, "statements");
	JsonNode *values = json_object_get_member(params, "params");
	JsonNode *max_rows = json_object_get_member(params, "max_rows");
	g_autoptr(AiqSqlJob) job = NULL;

	if (conn == NULL) {
		g_auto(GStrv) names = aiq_config_list_connections(config);
		g_autofree gchar *known = g_strjoinv(", ", names);
		if (names[0] == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_NOT_FOUND,
				    _("no sql connection named “%s” is configured (none are: add "
				      "[connection.%s] to the agent configuration)"),
				    name != NULL ? name : "",
				    name != NULL ? name : "NAME");
		} else {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_NOT_FOUND,
				    _("no sql connection named “%s” is configured (known: %s)"),
				    name != NULL ? name : "",
				    known);
		}
		return NULL;
	}

	job = g_new0(AiqSqlJob, 1);
	job->name = g_strdup(conn->name);
	job->statements = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_sql_statement_free);
	job->read_only = aiq_step_run_get_bool(run, "read_only");
	job->max_rows = 10000;
	if (max_rows != NULL && !JSON_NODE_HOLDS_NULL(max_rows)) {
		gint64 value = aiq_json_is_integer(max_rows) ? json_node_get_int(max_rows) : 0;
		if (value < 1 || value > AIQ_SQL_MAX_ROWS_LIMIT) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with.max_rows: must be between 1 and %u"),
				    (guint)AIQ_SQL_MAX_ROWS_LIMIT);
			return NULL;
		}
		job->max_rows = (guint)value;
	}

	if (g_strcmp0(conn->driver, "sqlite") == 0 && conn->path != NULL) {
		job->path = g_strdup(conn->path);
	} else if (g_strcmp0(conn->driver, "postgresql") == 0 && conn->dsn != NULL) {
		job->postgresql = TRUE;
		job->dsn_secrets = aiq_secrets_new();
		job->dsn = aiq_sql_dsn_expand_secrets(conn->name,
						      conn->dsn,
						      aiq_sql_get_secrets(run),
						      job->dsn_secrets,
						      error);
		if (job->dsn == NULL)
			return NULL;
	} else {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("sql connection “%s”: driver must be “sqlite” with a path or "
			      "“postgresql” with a dsn"),
			    conn->name);
		return NULL;
	}

	if (query != NULL && statements != NULL) {
		g_set_error_literal(
			error,
			AIQ_ERROR,
			AIQ_ERROR_INVALID_ARGUMENT,
			_("with.statements: give either query or statements, not both"));
		return NULL;
	}
	if (query != NULL) {
		if (!aiq_json_is_string(query)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with.query: expected a string, got %s"),
				    aiq_json_type_name(query));
			return NULL;
		}
		aiq_sql_job_add_statement(job,
					  json_node_get_string(query),
					  values != NULL && JSON_NODE_HOLDS_ARRAY(values)
						  ? json_node_get_array(values)
						  : NULL);
	} else if (statements != NULL) {
		JsonArray *array;
		if (values != NULL) {
			g_set_error_literal(
				error,
				AIQ_ERROR,
				AIQ_ERROR_INVALID_ARGUMENT,
				_("with.params: with statements, give params inside each "
				  "statement"));
			return NULL;
		}
		if (!JSON_NODE_HOLDS_ARRAY(statements) ||
		    json_array_get_length(json_node_get_array(statements)) == 0 ||
		    json_array_get_length(json_node_get_array(statements)) >
			    AIQ_SQL_MAX_STATEMENTS) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with.statements: expected 1 to %u statements"),
				    (guint)AIQ_SQL_MAX_STATEMENTS);
			return NULL;
		}
		array = json_node_get_array(statements);
		job->multi = TRUE;
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *item = json_array_get_element(array, i);
			JsonObject *obj =
				JSON_NODE_HOLDS_OBJECT(item) ? json_node_get_object(item) : NULL;
			JsonNode *item_query =
				obj != NULL ? json_object_get_member(obj, "query") : NULL;
			JsonNode *item_params =
				obj != NULL ? json_object_get_member(obj, "params") : NULL;
			gboolean extra = FALSE;
			if (obj != NULL) {
				JsonObjectIter iter;
				const gchar *key;
				json_object_iter_init_ordered(&iter, obj);
				while (json_object_iter_next_ordered(&iter, &key, NULL))
					extra |= !g_strv_contains(aiq_sql_statement_members, key);
			}
			if (item_params != NULL && JSON_NODE_HOLDS_NULL(item_params))
				item_params = NULL;
			if (!aiq_json_is_string(item_query) || extra ||
			    (item_params != NULL && !JSON_NODE_HOLDS_ARRAY(item_params))) {
				g_set_error(
					error,
					AIQ_ERROR,
					AIQ_ERROR_INVALID_ARGUMENT,
					_("with.statements[%u]: expected an object with a query "
					  "string and a params array"),
					i);
				return NULL;
			}
			aiq_sql_job_add_statement(
				job,
				json_node_get_string(item_query),
				item_params != NULL ? json_node_get_array(item_params) : NULL);
		}
	} else {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with.query: give a query or a list of statements"));
		return NULL;
	}

	for (guint i = 0; i < job->statements->len; i++) {
		AiqSqlStatement *stmt = g_ptr_array_index(job->statements, i);
		if (aiq_sql_is_blank(stmt->query)) {
			aiq_sql_set_error(error,
					  job,
					  i + 1,
					  AIQ_ERROR_INVALID_ARGUMENT,
					  "%s",
					  _("the query is empty"));
			return NULL;
		}
		if (aiq_sql_controls_transaction(stmt->query)) {
			aiq_sql_set_error(error,
					  job,
					  i + 1,
					  AIQ_ERROR_INVALID_ARGUMENT,
					  "%s",
					  _("the step runs its statements in one transaction; "
					    "BEGIN, COMMIT and ROLLBACK are not allowed"));
			return NULL;
		}
	}
	return g_steal_pointer(&job);
}

/* ---- results, shared by both drivers (worker thread) ---- */

static JsonObject *
aiq_sql_result_new(JsonArray *rows, gint64 changes)
{
	JsonObject *result = json_object_new();
	json_object_set_array_member(result, "rows", json_array_ref(rows));
	json_object_set_int_member(result, "row_count", json_array_get_length(rows));
	json_object_set_int_member(result, "changes", changes);
	return result;
}

static JsonNode *
aiq_sql_output_new(AiqSqlJob *job, GPtrArray *results)
{
	JsonObject *last = g_ptr_array_index(results, results->len - 1);
	JsonObject *output = json_object_new();

	json_object_set_member(output, "rows", json_object_dup_member(last, "rows"));
	json_object_set_member(output, "row_count", json_object_dup_member(last, "row_count"));
	json_object_set_member(output, "changes", json_object_dup_member(last, "changes"));
	if (job->multi) {
		JsonArray *array = json_array_new();
		for (guint i = 0; i < results->len; i++)
			json_array_add_object_element(
				array,
				json_object_ref(g_ptr_array_index(results, i)));
		json_object_set_array_member(output, "results", array);
	}
	return aiq_json_new_object(output);
}

static gboolean
aiq_sql_count_row(AiqSqlJob *job, guint stmt_idx, GError **error)
{
	if (++job->n_rows <= job->max_rows)
		return TRUE;
	aiq_sql_set_error(error,
			  job,
			  stmt_idx,
			  AIQ_ERROR_TOO_LARGE,
			  _("more than %u rows (max_rows); add a LIMIT or raise max_rows"),
			  job->max_rows);
	return FALSE;
}

/* column names become object members, so each must be distinct */
static gboolean
aiq_sql_check_columns(AiqSqlJob *job, guint stmt_idx, gchar **names, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; names[i] != NULL; i++) {
		if (!g_hash_table_add(seen, names[i])) {
			aiq_sql_set_error(
				error,
				job,
				stmt_idx,
				AIQ_ERROR_STEP_FAILED,
				_("the column name “%s” appears more than once; give each "
				  "column its own name with AS"),
				names[i]);
			return FALSE;
		}
	}
	return TRUE;
}

static JsonNode *
aiq_sql_text_node(const gchar *text, gsize len)
{
	if (g_utf8_validate_len(text, len, NULL)) {
		g_autofree gchar *copy = g_strndup(text, len);
		return aiq_json_new_string(copy);
	} else {
		g_autofree gchar *valid = g_utf8_make_valid(text, (gssize)len);
		return aiq_json_new_string(valid);
	}
}

static JsonNode *
aiq_sql_double_node(gdouble value)
{
	JsonNode *node;
	if (isnan(value))
		return aiq_json_new_string("NaN");
	if (isinf(value))
		return aiq_json_new_string(value > 0 ? "Infinity" : "-Infinity");
	node = json_node_alloc();
	json_node_init_double(node, value);
	return node;
}

static JsonNode *
aiq_sql_blob_node(const guchar *data, gsize len)
{
	g_autofree gchar *encoded = g_base64_encode(data, len);
	return aiq_json_new_string(encoded);
}

/* the JSON text of a bound array or object */
static gchar *
aiq_sql_param_to_json_text(JsonNode *node)
{
	return aiq_json_to_string(node, FALSE);
}

/* ---- SQLite (worker thread) ---- */

typedef struct {
	GCancellable *cancellable;
	gint64 busy_deadline;
} AiqSqliteWatch;

/* polled every few thousand VM steps: stops a long query once cancelled */
static int
aiq_sqlite_progress_cb(void *user_data)
{
	AiqSqliteWatch *watch = user_data;
	return g_cancellable_is_cancelled(watch->cancellable) ? 1 : 0;
}

/* sqlite3_busy_timeout(), but one that stops waiting once cancelled */
static int
aiq_sqlite_busy_cb(void *user_data, int count)
{
	AiqSqliteWatch *watch = user_data;
	if (count == 0)
		watch->busy_deadline = g_get_monotonic_time() + AIQ_SQL_BUSY_TIMEOUT_MS * 1000;
	if (g_cancellable_is_cancelled(watch->cancellable) ||
	    g_get_monotonic_time() >= watch->busy_deadline)
		return 0;
	g_usleep(MIN(2 + count, 20) * 1000);
	return 1;
}

/* a connection reaches its own database only: no ATTACH of other files */
static int
aiq_sqlite_authorizer_cb(void *user_data,
			 int action,
			 const char *arg1,
			 const char *arg2,
			 const char *db_name,
			 const char *trigger)
{
	if (action == SQLITE_ATTACH || action == SQLITE_DETACH)
		return SQLITE_DENY;
	return SQLITE_OK;
}

static void
aiq_sqlite_set_error(GError **error,
		     AiqSqlJob *job,
		     guint stmt_idx,
		     sqlite3 *db,
		     AiqSqliteWatch *watch)
{
	int rc = sqlite3_extended_errcode(db);
	AiqError code = AIQ_ERROR_STEP_FAILED;

	if (g_cancellable_is_cancelled(watch->cancellable)) {
		aiq_sql_set_cancelled(error, job);
		return;
	}
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		code = AIQ_ERROR_TIMED_OUT;
	aiq_sql_set_error(error, job, stmt_idx, code, "%s", sqlite3_errmsg(db));
}

static gboolean
aiq_sqlite_exec(sqlite3 *db,
		const gchar *sql,
		AiqSqlJob *job,
		AiqSqliteWatch *watch,
		GError **error)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		aiq_sqlite_set_error(error, job, 0, db, watch);
		return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_sqlite_bind(sqlite3_stmt *stmt,
		AiqSqlJob *job,
		guint stmt_idx,
		JsonArray *params,
		GError **error)
{
	guint n_params = params != NULL ? json_array_get_length(params) : 0;
	gint count = sqlite3_bind_parameter_count(stmt);
	guint64 n_used = 0;

	for (gint i = 1; i <= count; i++) {
		const gchar *name = sqlite3_bind_parameter_name(stmt, i);
		guint64 which = (guint64)i;
		JsonNode *node;
		int rc = SQLITE_OK;

		/* ? and ?NNN bind by position; $N, :N and @N by number, as on PostgreSQL */
		if (name != NULL && name[0] != '?' &&
		    !g_ascii_string_to_unsigned(name + 1, 10, 1, G_MAXINT, &which, NULL)) {
			aiq_sql_set_error(
				error,
				job,
				stmt_idx,
				AIQ_ERROR_INVALID_ARGUMENT,
				_("named placeholders such as %s are not supported; use ? "
				  "or $1, $2…"),
				name);
			return FALSE;
		}
		n_used = MAX(n_used, which);
		if (which > n_params)
			continue; /* reported below */
		node = json_array_get_element(params, (guint)which - 1);
		if (JSON_NODE_HOLDS_NULL(node)) {
			rc = sqlite3_bind_null(stmt, i);
		} else if (JSON_NODE_HOLDS_VALUE(node)) {
			switch (json_node_get_value_type(node)) {
			case G_TYPE_INT64:
				rc = sqlite3_bind_int64(stmt, i, json_node_get_int(node));
				break;
			case G_TYPE_DOUBLE:
				rc = sqlite3_bind_double(stmt, i, json_node_get_double(node));
				break;
			case G_TYPE_BOOLEAN:
				rc = sqlite3_bind_int(stmt, i, json_node_get_boolean(node) ? 1 : 0);
				break;
			default:
				rc = sqlite3_bind_text(stmt,
						       i,
						       json_node_get_string(node),
						       -1,
						       SQLITE_TRANSIENT);
				break;
			}
		} else {
			g_autofree gchar *text = aiq_sql_param_to_json_text(node);
			rc = sqlite3_bind_text(stmt, i, text, -1, SQLITE_TRANSIENT);
		}
		if (rc != SQLITE_OK) {
			aiq_sql_set_error(error,
					  job,
					  stmt_idx,
					  AIQ_ERROR_STEP_FAILED,
					  _("cannot bind params[%u]: %s"),
					  (guint)which - 1,
					  sqlite3_errstr(rc));
			return FALSE;
		}
	}
	if (n_used != n_params) {
		aiq_sql_set_error(error,
				  job,
				  stmt_idx,
				  AIQ_ERROR_INVALID_ARGUMENT,
				  _("placeholders in the query: %u; params given: %u"),
				  (guint)n_used,
				  n_params);
		return FALSE;
	}
	return TRUE;
}

static JsonNode *
aiq_sqlite_value_node(sqlite3_stmt *stmt, gint col)
{
	switch (sqlite3_column_type(stmt, col)) {
	case SQLITE_INTEGER:
		return aiq_json_new_int(sqlite3_column_int64(stmt, col));
	case SQLITE_FLOAT:
		return aiq_sql_double_node(sqlite3_column_double(stmt, col));
	case SQLITE_TEXT: {
		const gchar *text = (const gchar *)sqlite3_column_text(stmt, col);
		return aiq_sql_text_node(text != NULL ? text : "",
					 (gsize)sqlite3_column_bytes(stmt, col));
	}
	case SQLITE_BLOB: {
		const guchar *data = sqlite3_column_blob(stmt, col);
		return aiq_sql_blob_node(data, (gsize)sqlite3_column_bytes(stmt, col));
	}
	case SQLITE_NULL:
	default:
		return json_node_new(JSON_NODE_NULL);
	}
}

static JsonObject *
aiq_sqlite_run_statement(sqlite3 *db,
			 AiqSqlJob *job,
			 guint stmt_idx,
			 AiqSqlStatement *statement,
			 AiqSqliteWatch *watch,
			 GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	g_autoptr(JsonArray) rows = json_array_new();
	g_auto(GStrv) names = NULL;
	const gchar *tail = NULL;
	gint n_cols;
	sqlite3_int64 total_before;
	gint64 changes = 0;

	if (sqlite3_prepare_v2(db, statement->query, -1, &stmt, &tail) != SQLITE_OK) {
		aiq_sqlite_set_error(error, job, stmt_idx, db, watch);
		return NULL;
	}
	if (stmt == NULL) {
		aiq_sql_set_error(error,
				  job,
				  stmt_idx,
				  AIQ_ERROR_INVALID_ARGUMENT,
				  "%s",
				  _("the query is empty"));
		return NULL;
	}
	/* one statement per query: what follows may only be blanks and comments */
	while (tail != NULL && *tail != '\0') {
		g_autoptr(sqlite3_stmt) extra = NULL;
		const gchar *next = NULL;
		if (sqlite3_prepare_v2(db, tail, -1, &extra, &next) != SQLITE_OK || extra != NULL) {
			aiq_sql_set_error(error,
					  job,
					  stmt_idx,
					  AIQ_ERROR_INVALID_ARGUMENT,
					  "%s",
					  _("a query holds one statement; use statements to run "
					    "several"));
			return NULL;
		}
		if (next == tail)
			break;
		tail = next;
	}
	if (!aiq_sqlite_bind(stmt, job, stmt_idx, statement->params, error))
		return NULL;

	n_cols = sqlite3_column_count(stmt);
	names = g_new0(gchar *, n_cols + 1);
	for (gint i = 0; i < n_cols; i++) {
		const gchar *name = sqlite3_column_name(stmt, i);
		names[i] = g_strdup(name != NULL ? name : "");
	}
	if (!aiq_sql_check_columns(job, stmt_idx, names, error))
		return NULL;

	total_before = sqlite3_total_changes64(db);
	for (;;) {
		int rc = sqlite3_step(stmt);
		JsonObject *row;
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			aiq_sqlite_set_error(error, job, stmt_idx, db, watch);
			return NULL;
		}
		if (!aiq_sql_count_row(job, stmt_idx, error))
			return NULL;
		row = json_object_new();
		for (gint i = 0; i < n_cols; i++)
			json_object_set_member(row, names[i], aiq_sqlite_value_node(stmt, i));
		json_array_add_object_element(rows, row);
	}
	/* sqlite3_changes64() keeps the count of the last INSERT, UPDATE or DELETE */
	if (sqlite3_total_changes64(db) != total_before)
		changes = sqlite3_changes64(db);
	if (sqlite3_get_autocommit(db)) {
		aiq_sql_set_error(error,
				  job,
				  stmt_idx,
				  AIQ_ERROR_STEP_FAILED,
				  "%s",
				  _("the statement ended the step's transaction"));
		return NULL;
	}
	return aiq_sql_result_new(rows, changes);
}

static JsonNode *
aiq_sqlite_run(AiqSqlJob *job, GCancellable *cancellable, GError **error)
{
	g_autoptr(sqlite3) db = NULL;
	g_autoptr(GPtrArray) results =
		g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
	AiqSqliteWatch watch = { .cancellable = cancellable };
	int flags = SQLITE_OPEN_NOMUTEX |
		    (job->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	int rc;

	/* the file must exist: a mistyped path is an error, not a new empty database */
	rc = sqlite3_open_v2(job->path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		aiq_sql_set_error(error,
				  job,
				  0,
				  AIQ_ERROR_CONNECTION,
				  _("cannot open the database: %s (check the path of "
				    "[connection.%s] on the agent)"),
				  db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
				  job->name);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_handler(db, aiq_sqlite_busy_cb, &watch);
	sqlite3_progress_handler(db, 1000, aiq_sqlite_progress_cb, &watch);
	sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	sqlite3_set_authorizer(db, aiq_sqlite_authorizer_cb, NULL);

	if (job->read_only && !aiq_sqlite_exec(db, "PRAGMA query_only = ON", job, &watch, error))
		return NULL;
	/* IMMEDIATE takes the write lock up front, so a write never fails half-way
	 * on a lock upgrade that waiting cannot resolve */
	if (!aiq_sqlite_exec(db, job->read_only ? "BEGIN" : "BEGIN IMMEDIATE", job, &watch, error))
		return NULL;
	for (guint i = 0; i < job->statements->len; i++) {
		JsonObject *result = aiq_sqlite_run_statement(db,
							      job,
							      i + 1,
							      g_ptr_array_index(job->statements, i),
							      &watch,
							      error);
		if (result == NULL)
			break;
		g_ptr_array_add(results, result);
	}
	if (results->len == job->statements->len &&
	    aiq_sqlite_exec(db, "COMMIT", job, &watch, error))
		return aiq_sql_output_new(job, results);

	/* roll back without the cancel check, which would interrupt the rollback too
	 * (closing the connection would roll back as well) */
	sqlite3_progress_handler(db, 0, NULL, NULL);
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return NULL;
}

/* ---- PostgreSQL (worker thread) ---- */

typedef struct {
	AiqSqlJob *job;
	PGconn *conn;
	GCancellable *cancellable;
	GPollFD cancel_fd;
	gboolean has_cancel_fd;
	gboolean cancel_sent; /* for the cancellable, or to stop rows past max_rows */
	gboolean cancelled;   /* the cancellable fired */
	gboolean broken;      /* the connection cannot be used any more */
	gchar *password;      /* masked in messages, in case a server echoes it */
} AiqPg;

typedef enum {
	AIQ_PG_WAIT_READY,
	AIQ_PG_WAIT_CANCELLED,
	AIQ_PG_WAIT_TIMED_OUT,
	AIQ_PG_WAIT_FAILED,
} AiqPgWait;

static void
aiq_pg_clear(AiqPg *pg)
{
	if (pg->has_cancel_fd)
		g_cancellable_release_fd(pg->cancellable);
	g_clear_pointer(&pg->conn, PQfinish);
	if (pg->password != NULL)
		memset(pg->password, 0, strlen(pg->password));
	g_free(pg->password);
}

/* a libpq message as one line, without the password or the dsn's secrets */
static gchar *
aiq_pg_clean_message(AiqPg *pg, const gchar *message)
{
	g_autofree gchar *text = g_strstrip(g_strdup(message != NULL ? message : ""));
	g_auto(GStrv) lines = NULL;

	if (pg->password != NULL && strlen(pg->password) >= 3) {
		g_auto(GStrv) parts = g_strsplit(text, pg->password, -1);
		g_free(text);
		text = g_strjoinv(AIQ_SECRETS_MASK, parts);
	}
	if (pg->job->dsn_secrets != NULL) {
		gchar *masked = aiq_secrets_mask_string(pg->job->dsn_secrets, text);
		g_free(text);
		text = masked;
	}
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		g_strstrip(lines[i]);
	return g_strjoinv("; ", lines);
}

static AiqPgWait
aiq_pg_wait(AiqPg *pg, gboolean for_write, gint64 deadline_us, gboolean watch_cancel)
{
	GPollFD fds[2];
	guint n_fds = 1;

	fds[0].fd = PQsocket(pg->conn);
	fds[0].events = (for_write ? G_IO_OUT : G_IO_IN) | G_IO_ERR | G_IO_HUP;
	fds[0].revents = 0;
	if (fds[0].fd < 0)
		return AIQ_PG_WAIT_FAILED;
	if (watch_cancel && pg->has_cancel_fd) {
		fds[1] = pg->cancel_fd;
		fds[1].revents = 0;
		n_fds = 2;
	}
	for (;;) {
		gint timeout_ms = -1;
		gint rc;
		if (watch_cancel && g_cancellable_is_cancelled(pg->cancellable))
			return AIQ_PG_WAIT_CANCELLED;
		if (deadline_us > 0) {
			gint64 left = deadline_us - g_get_monotonic_time();
			if (left <= 0)
				return AIQ_PG_WAIT_TIMED_OUT;
			timeout_ms = (gint)MIN(left / 1000 + 1, G_MAXINT);
		}
		rc = g_poll(fds, n_fds, timeout_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return AIQ_PG_WAIT_FAILED;
		if (n_fds == 2 && fds[1].revents != 0)
			return AIQ_PG_WAIT_CANCELLED;
		if (fds[0].revents != 0)
			return AIQ_PG_WAIT_READY;
	}
}

/* asks the server to stop the running command; its result then says so */
static void
aiq_pg_send_cancel(AiqPg *pg)
{
	g_autoptr(PGcancel) cancel = NULL;
	gchar errbuf[256];

	if (pg->cancel_sent)
		return;
	pg->cancel_sent = TRUE;
	cancel = PQgetCancel(pg->conn);
	if (cancel == NULL || !PQcancel(cancel, errbuf, sizeof(errbuf)))
		pg->broken = TRUE;
}

/* libpq prints notices (e.g. from DROP … IF EXISTS) on stderr unless told not to */
static void
aiq_pg_notice_cb(void *user_data, const char *message)
{
	g_debug("PostgreSQL: %s", message);
}

static gboolean
aiq_pg_connect(AiqPg *pg, GError **error)
{
	AiqSqlJob *job = pg->job;
	g_autoptr(PQconninfoOption) options = NULL;
	gint64 timeout_s = AIQ_SQL_CONNECT_TIMEOUT_S;
	gint64 deadline = 0;
	gchar *parse_error = NULL;
	PostgresPollingStatusType status = PGRES_POLLING_WRITING;
	/* the DSN's own settings win over the first two; client_encoding always applies */
	const gchar *const keywords[] = {
		"connect_timeout", "application_name", "dbname", "client_encoding", NULL,
	};
	const gchar *values[] = { NULL, "automateiq-agent", job->dsn, "UTF8", NULL };
	g_autofree gchar *timeout_str = NULL;

	options = PQconninfoParse(job->dsn, &parse_error);
	if (options == NULL) {
		/* libpq's message may quote the DSN, password and all: leave it out */
		PQfreemem(parse_error);
		aiq_sql_set_error(error,
				  job,
				  0,
				  AIQ_ERROR_CONFIG,
				  _("the dsn of [connection.%s] on the agent is not a valid "
				    "PostgreSQL connection string"),
				  job->name);
		return FALSE;
	}
	for (PQconninfoOption *opt = options; opt->keyword != NULL; opt++) {
		if (opt->val == NULL)
			continue;
		if (g_strcmp0(opt->keyword, "password") == 0) {
			pg->password = g_strdup(opt->val);
		} else if (g_strcmp0(opt->keyword, "connect_timeout") == 0) {
			guint64 value = 0;
			if (g_ascii_string_to_unsigned(opt->val, 10, 0, 3600, &value, NULL))
				timeout_s = (gint64)value;
		}
	}
	/* libpq does not apply connect_timeout to PQconnectPoll(): we do */
	if (timeout_s > 0) {
		timeout_s = MAX(timeout_s, 2);
		deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
	}
	timeout_str = g_strdup_printf("%" G_GINT64_FORMAT, timeout_s);
	values[0] = timeout_str;

	pg->conn = PQconnectStartParams(keywords, values, 1);
	if (pg->conn == NULL) {
		aiq_sql_set_error(error, job, 0, AIQ_ERROR_FAILED, "%s", _("out of memory"));
		return FALSE;
	}
	PQsetNoticeProcessor(pg->conn, aiq_pg_notice_cb, NULL);
	while (PQstatus(pg->conn) != CONNECTION_BAD && status != PGRES_POLLING_OK &&
	       status != PGRES_POLLING_FAILED) {
		AiqPgWait wait = aiq_pg_wait(pg, status == PGRES_POLLING_WRITING, deadline, TRUE);
		if (wait == AIQ_PG_WAIT_CANCELLED) {
			pg->cancelled = TRUE;
			aiq_sql_set_cancelled(error, job);
			return FALSE;
		}
		if (wait == AIQ_PG_WAIT_TIMED_OUT) {
			aiq_sql_set_error(error,
					  job,
					  0,
					  AIQ_ERROR_CONNECTION,
					  _("cannot connect: no answer within %u seconds"),
					  (guint)timeout_s);
			return FALSE;
		}
		if (wait == AIQ_PG_WAIT_FAILED)
			break;
		status = PQconnectPoll(pg->conn);
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		g_autofree gchar *message = aiq_pg_clean_message(pg, PQerrorMessage(pg->conn));
		aiq_sql_set_error(error,
				  job,
				  0,
				  AIQ_ERROR_CONNECTION,
				  _("cannot connect: %s"),
				  message);
		return FALSE;
	}
	return TRUE;
}

/*
 * `?` placeholders become `$1`, `$2`… outside string literals, quoted names,
 * dollar-quoted strings and comments, unless the query already uses `$n`.
 * @n_placeholders is how many values the query takes: the number of `?`, or
 * the highest `$n` (then @numbered_out is set and the query is unchanged).
 */
static gboolean
aiq_pg_is_ident_char(gchar c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '$' || (guchar)c >= 0x80;
}

static gchar *
aiq_pg_translate_placeholders(const gchar *query, guint *n_placeholders, gboolean *numbered_out)
{
	g_autoptr(GString) out = g_string_sized_new(strlen(query) + 16);
	const gchar *p = query;
	guint n = 0;
	guint64 highest = 0;
	gboolean numbered = FALSE;

	while (*p != '\0') {
		const gchar *start = p;
		gboolean after_ident = p > query && aiq_pg_is_ident_char(p[-1]);
		if (*p == '\'') {
			gboolean escapes = p > query && (p[-1] == 'E' || p[-1] == 'e') &&
					   (p - 1 == query || !aiq_pg_is_ident_char(p[-2]));
			for (p++; *p != '\0'; p++) {
				if (escapes && *p == '\\' && p[1] != '\0') {
					p++;
				} else if (*p == '\'') {
					if (p[1] != '\'')
						break;
					p++;
				}
			}
			if (*p != '\0')
				p++;
		} else if (*p == '"') {
			for (p++; *p != '\0'; p++) {
				if (*p == '"') {
					if (p[1] != '"')
						break;
					p++;
				}
			}
			if (*p != '\0')
				p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			guint depth = 0;
			while (*p != '\0') {
				if (p[0] == '/' && p[1] == '*') {
					depth++;
					p += 2;
				} else if (p[0] == '*' && p[1] == '/') {
					p += 2;
					if (--depth == 0)
						break;
				} else {
					p++;
				}
			}
		} else if (*p == '$' && !after_ident && g_ascii_isdigit(p[1])) {
			guint64 number = g_ascii_strtoull(p + 1, NULL, 10);
			numbered = TRUE;
			highest = MAX(highest, MIN(number, G_MAXUINT));
			for (p++; g_ascii_isdigit(*p); p++)
				;
		} else if (*p == '$' && !after_ident) {
			/* a dollar quote $tag$ … $tag$ */
			const gchar *q = p + 1;
			while (*q != '\0' && *q != '$' && aiq_pg_is_ident_char(*q))
				q++;
			if (*q == '$' && !g_ascii_isdigit(p[1])) {
				g_autofree gchar *tag = g_strndup(p, q - p + 1);
				const gchar *end = strstr(q + 1, tag);
				p = end != NULL ? end + strlen(tag) : p + strlen(p);
			} else {
				p++;
			}
		} else if (*p == '?') {
			g_string_append_printf(out, "$%u", ++n);
			p++;
			continue;
		} else {
			p++;
		}
		g_string_append_len(out, start, p - start);
	}
	*numbered_out = numbered;
	if (numbered) {
		*n_placeholders = (guint)highest;
		return g_strdup(query);
	}
	*n_placeholders = n;
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/*
 * Numeric values stay exact: a number when a double holds them (integers up
 * to 18 digits, others up to 15 significant digits), else the decimal text.
 */
static JsonNode *
aiq_pg_numeric_node(const gchar *text)
{
	const gchar *p = text;
	guint int_digits = 0;
	guint significant = 0;
	guint pending_zeros = 0;
	gboolean seen_nonzero = FALSE;
	gboolean fraction_nonzero = FALSE;

	if (*p == '-')
		p++;
	for (; g_ascii_isdigit(*p); p++) {
		if (*p != '0')
			seen_nonzero = TRUE;
		if (seen_nonzero) {
			int_digits++;
			significant++;
		}
	}
	if (*p == '.') {
		for (p++; g_ascii_isdigit(*p); p++) {
			if (*p == '0') {
				pending_zeros++;
				continue;
			}
			fraction_nonzero = TRUE;
			if (seen_nonzero)
				significant += pending_zeros;
			seen_nonzero = TRUE;
			significant++;
			pending_zeros = 0;
		}
	}
	if (*p != '\0' || p == text)
		return aiq_json_new_string(text); /* NaN, Infinity */
	if (!fraction_nonzero && int_digits <= 18) {
		g_autofree gchar *integer = g_strndup(text, strcspn(text, "."));
		gint64 value = g_ascii_strtoll(integer, NULL, 10);
		return aiq_json_new_int(value);
	}
	if (significant <= 15)
		return aiq_sql_double_node(g_ascii_strtod(text, NULL));
	return aiq_json_new_string(text);
}

static JsonNode *
aiq_pg_value_node(const PGresult *res, gint row, gint col)
{
	const gchar *text;
	gsize len;

	if (PQgetisnull(res, row, col))
		return json_node_new(JSON_NODE_NULL);
	text = PQgetvalue(res, row, col);
	len = (gsize)PQgetlength(res, row, col);
	switch (PQftype(res, col)) {
	case AIQ_PG_INT2OID:
	case AIQ_PG_INT4OID:
	case AIQ_PG_INT8OID:
	case AIQ_PG_OIDOID: {
		gint64 value = 0;
		if (g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &value, NULL))
			return aiq_json_new_int(value);
		return aiq_sql_text_node(text, len);
	}
	case AIQ_PG_FLOAT4OID:
	case AIQ_PG_FLOAT8OID:
		return aiq_sql_double_node(g_ascii_strtod(text, NULL));
	case AIQ_PG_NUMERICOID:
		return aiq_pg_numeric_node(text);
	case AIQ_PG_BOOLOID:
		return aiq_json_new_bool(text[0] == 't');
	case AIQ_PG_JSONOID:
	case AIQ_PG_JSONBOID: {
		JsonNode *node = aiq_json_parse(text, len, AIQ_JSON_MAX_DEPTH, NULL);
		return node != NULL ? node : aiq_sql_text_node(text, len);
	}
	case AIQ_PG_BYTEAOID: {
		size_t n = 0;
		guchar *data = PQunescapeBytea((const guchar *)text, &n);
		JsonNode *node;
		if (data == NULL)
			return aiq_sql_text_node(text, len);
		node = aiq_sql_blob_node(data, n);
		PQfreemem(data);
		return node;
	}
	default:
		return aiq_sql_text_node(text, len);
	}
}

static gboolean
aiq_pg_result_columns(AiqPg *pg, guint stmt_idx, const PGresult *res, GStrv *names, GError **error)
{
	gint n = PQnfields(res);
	if (*names != NULL)
		return TRUE;
	*names = g_new0(gchar *, n + 1);
	for (gint i = 0; i < n; i++)
		(*names)[i] = g_strdup(PQfname(res, i));
	return aiq_sql_check_columns(pg->job, stmt_idx, *names, error);
}

/* how many rows a command changed: only INSERT, UPDATE, DELETE and MERGE count */
static gint64
aiq_pg_changes(const PGresult *res)
{
	const gchar *status = PQcmdStatus((PGresult *)res);
	const gchar *const counted[] = { "INSERT", "UPDATE", "DELETE", "MERGE", NULL };
	g_autofree gchar *verb = g_strndup(status, strcspn(status, " "));
	if (!g_strv_contains(counted, verb))
		return 0;
	return g_ascii_strtoll(PQcmdTuples((PGresult *)res), NULL, 10);
}

static void
aiq_pg_set_result_error(AiqPg *pg, guint stmt_idx, const PGresult *res, GError **error)
{
	const gchar *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const gchar *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const gchar *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	g_autofree gchar *message = NULL;
	g_autofree gchar *clean = NULL;

	if (pg->cancelled && g_strcmp0(sqlstate, AIQ_PG_SQLSTATE_QUERY_CANCELED) == 0) {
		aiq_sql_set_cancelled(error, pg->job);
		return;
	}
	if (primary == NULL)
		primary = PQresultErrorMessage(res);
	if (detail != NULL)
		message = g_strdup_printf("%s (%s)", primary, detail);
	else
		message = g_strdup(primary);
	clean = aiq_pg_clean_message(pg, message);
	if (sqlstate != NULL) {
		aiq_sql_set_error(error,
				  pg->job,
				  stmt_idx,
				  AIQ_ERROR_STEP_FAILED,
				  "%s [SQLSTATE %s]",
				  clean,
				  sqlstate);
	} else {
		aiq_sql_set_error(error, pg->job, stmt_idx, AIQ_ERROR_STEP_FAILED, "%s", clean);
	}
}

static void
aiq_pg_set_connection_error(AiqPg *pg, guint stmt_idx, GError **error)
{
	g_autofree gchar *message = aiq_pg_clean_message(pg, PQerrorMessage(pg->conn));
	pg->broken = TRUE;
	if (pg->cancelled) {
		aiq_sql_set_cancelled(error, pg->job);
		return;
	}
	aiq_sql_set_error(error,
			  pg->job,
			  stmt_idx,
			  AIQ_ERROR_CONNECTION,
			  _("connection lost: %s"),
			  message);
}

/*
 * Runs one command and reads its results, in single-row mode when @rows is
 * set so that max_rows stops a large result early. With @watch_cancel the
 * cancellable sends a cancel request, and the command ends with an error.
 */
static gboolean
aiq_pg_exec(AiqPg *pg,
	    guint stmt_idx,
	    const gchar *query,
	    JsonArray *params,
	    gboolean watch_cancel,
	    JsonArray *rows,
	    gint64 *changes,
	    GError **error)
{
	guint n_params = params != NULL ? json_array_get_length(params) : 0;
	g_autofree Oid *types = g_new0(Oid, MAX(n_params, 1));
	g_autofree const gchar **values = g_new0(const gchar *, MAX(n_params, 1));
	g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error_local = NULL;
	g_auto(GStrv) names = NULL;
	/* without the cancel watch (ROLLBACK), a bounded wait */
	gint64 cancel_deadline =
		watch_cancel ? 0 : g_get_monotonic_time() + AIQ_SQL_CANCEL_GRACE_MS * 1000;

	for (guint i = 0; i < n_params; i++) {
		JsonNode *node = json_array_get_element(params, i);
		gchar *text = NULL;
		if (JSON_NODE_HOLDS_NULL(node)) {
			types[i] = 0;
		} else if (JSON_NODE_HOLDS_VALUE(node)) {
			switch (json_node_get_value_type(node)) {
			case G_TYPE_INT64:
				types[i] = AIQ_PG_INT8OID;
				text = g_strdup_printf("%" G_GINT64_FORMAT,
						       json_node_get_int(node));
				break;
			case G_TYPE_DOUBLE:
				types[i] = AIQ_PG_FLOAT8OID;
				text = g_malloc(G_ASCII_DTOSTR_BUF_SIZE);
				g_ascii_dtostr(text,
					       G_ASCII_DTOSTR_BUF_SIZE,
					       json_node_get_double(node));
				break;
			case G_TYPE_BOOLEAN:
				types[i] = AIQ_PG_BOOLOID;
				text = g_strdup(json_node_get_boolean(node) ? "true" : "false");
				break;
			default:
				/* unknown: the server infers the type from the context */
				types[i] = 0;
				text = g_strdup(json_node_get_string(node));
				break;
			}
		} else {
			types[i] = 0;
			text = aiq_sql_param_to_json_text(node);
		}
		if (text != NULL)
			g_ptr_array_add(owned, text);
		values[i] = text;
	}

	if (!PQsendQueryParams(pg->conn, query, (int)n_params, types, values, NULL, NULL, 0)) {
		aiq_pg_set_connection_error(pg, stmt_idx, error);
		return FALSE;
	}
	if (rows != NULL)
		PQsetSingleRowMode(pg->conn);

	for (;;) {
		g_autoptr(PGresult) res = NULL;
		while (PQisBusy(pg->conn)) {
			AiqPgWait wait = aiq_pg_wait(pg,
						     FALSE,
						     cancel_deadline,
						     watch_cancel && !pg->cancel_sent);
			if (wait == AIQ_PG_WAIT_CANCELLED) {
				pg->cancelled = TRUE;
				aiq_pg_send_cancel(pg);
				cancel_deadline =
					g_get_monotonic_time() + AIQ_SQL_CANCEL_GRACE_MS * 1000;
				continue;
			}
			if (wait == AIQ_PG_WAIT_TIMED_OUT || pg->broken) {
				/* the server did not stop in time: drop the connection */
				pg->broken = TRUE;
				if (error_local == NULL)
					aiq_sql_set_cancelled(&error_local, pg->job);
				g_propagate_error(error, g_steal_pointer(&error_local));
				return FALSE;
			}
			if (wait == AIQ_PG_WAIT_FAILED || !PQconsumeInput(pg->conn)) {
				if (error_local != NULL) {
					pg->broken = TRUE;
					g_propagate_error(error, g_steal_pointer(&error_local));
				} else {
					aiq_pg_set_connection_error(pg, stmt_idx, error);
				}
				return FALSE;
			}
		}
		res = PQgetResult(pg->conn);
		if (res == NULL)
			break;
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE: {
			JsonObject *row;
			gint n_cols = PQnfields(res);
			if (error_local != NULL)
				break; /* draining after an error */
			if (!aiq_pg_result_columns(pg, stmt_idx, res, &names, &error_local) ||
			    !aiq_sql_count_row(pg->job, stmt_idx, &error_local)) {
				/* stop the server sending the rest */
				aiq_pg_send_cancel(pg);
				cancel_deadline =
					g_get_monotonic_time() + AIQ_SQL_CANCEL_GRACE_MS * 1000;
				break;
			}
			row = json_object_new();
			for (gint i = 0; i < n_cols; i++)
				json_object_set_member(row, names[i], aiq_pg_value_node(res, 0, i));
			json_array_add_object_element(rows, row);
			break;
		}
		case PGRES_TUPLES_OK:
			if (error_local == NULL)
				aiq_pg_result_columns(pg, stmt_idx, res, &names, &error_local);
			if (changes != NULL)
				*changes = aiq_pg_changes(res);
			break;
		case PGRES_COMMAND_OK:
			if (changes != NULL)
				*changes = aiq_pg_changes(res);
			break;
		case PGRES_EMPTY_QUERY:
			if (error_local == NULL)
				aiq_sql_set_error(&error_local,
						  pg->job,
						  stmt_idx,
						  AIQ_ERROR_INVALID_ARGUMENT,
						  "%s",
						  _("the query is empty"));
			break;
		case PGRES_COPY_IN:
		case PGRES_COPY_OUT:
		case PGRES_COPY_BOTH:
			/* no way to feed or drain COPY here: the connection is given up */
			pg->broken = TRUE;
			if (error_local == NULL)
				aiq_sql_set_error(
					&error_local,
					pg->job,
					stmt_idx,
					AIQ_ERROR_INVALID_ARGUMENT,
					"%s",
					_("COPY from standard input or to standard output is "
					  "not supported; use INSERT or SELECT"));
			g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		default:
			if (error_local == NULL)
				aiq_pg_set_result_error(pg, stmt_idx, res, &error_local);
			break;
		}
	}
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (pg->cancelled) {
		/* the command finished before the cancel request reached it */
		aiq_sql_set_cancelled(error, pg->job);
		return FALSE;
	}
	return TRUE;
}

static JsonObject *
aiq_pg_run_statement(AiqPg *pg, guint stmt_idx, AiqSqlStatement *statement, GError **error)
{
	g_autoptr(JsonArray) rows = json_array_new();
	g_autofree gchar *query = NULL;
	g_autofree gchar *translated = NULL;
	guint n_params = statement->params != NULL ? json_array_get_length(statement->params) : 0;
	guint n_placeholders = 0;
	gboolean numbered = FALSE;
	gint64 changes = 0;

	translated = aiq_pg_translate_placeholders(statement->query, &n_placeholders, &numbered);
	/* without params a ? is left alone: it may be a jsonb operator */
	if (n_params > 0 || numbered) {
		if (n_placeholders != n_params) {
			aiq_sql_set_error(error,
					  pg->job,
					  stmt_idx,
					  AIQ_ERROR_INVALID_ARGUMENT,
					  _("placeholders in the query: %u; params given: %u"),
					  n_placeholders,
					  n_params);
			return NULL;
		}
		query = g_steal_pointer(&translated);
	} else {
		query = g_strdup(statement->query);
	}
	if (!aiq_pg_exec(pg, stmt_idx, query, statement->params, TRUE, rows, &changes, error))
		return NULL;
	if (PQtransactionStatus(pg->conn) != PQTRANS_INTRANS) {
		aiq_sql_set_error(error,
				  pg->job,
				  stmt_idx,
				  AIQ_ERROR_STEP_FAILED,
				  "%s",
				  _("the statement ended the step's transaction"));
		return NULL;
	}
	return aiq_sql_result_new(rows, changes);
}

static JsonNode *
aiq_pg_run(AiqSqlJob *job, GCancellable *cancellable, GError **error)
{
	AiqPg pg = { .job = job, .cancellable = cancellable };
	g_autoptr(GPtrArray) results =
		g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
	JsonNode *output = NULL;

	if (cancellable != NULL)
		pg.has_cancel_fd = g_cancellable_make_pollfd(cancellable, &pg.cancel_fd);

	if (!aiq_pg_connect(&pg, error))
		goto out;
	if (!aiq_pg_exec(&pg,
			 0,
			 job->read_only ? "BEGIN READ ONLY" : "BEGIN",
			 NULL,
			 TRUE,
			 NULL,
			 NULL,
			 error))
		goto out;
	for (guint i = 0; i < job->statements->len; i++) {
		JsonObject *result = aiq_pg_run_statement(&pg,
							  i + 1,
							  g_ptr_array_index(job->statements, i),
							  error);
		if (result == NULL)
			goto out;
		g_ptr_array_add(results, result);
	}
	if (!aiq_pg_exec(&pg, 0, "COMMIT", NULL, TRUE, NULL, NULL, error))
		goto out;
	output = aiq_sql_output_new(job, results);
out:
	/* closing the connection rolls back too; ROLLBACK says so sooner */
	if (output == NULL && pg.conn != NULL && !pg.broken && PQstatus(pg.conn) == CONNECTION_OK &&
	    PQtransactionStatus(pg.conn) != PQTRANS_IDLE) {
		pg.cancel_sent = TRUE; /* no cancel watch while rolling back */
		aiq_pg_exec(&pg, 0, "ROLLBACK", NULL, FALSE, NULL, NULL, NULL);
	}
	aiq_pg_clear(&pg);
	return output;
}

/* ---- the step kind (main thread) ---- */

static void
aiq_sql_thread(GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
	AiqSqlJob *job = task_data;
	GError *error = NULL;
	JsonNode *output;

	if (job->postgresql)
		output = aiq_pg_run(job, cancellable, &error);
	else
		output = aiq_sqlite_run(job, cancellable, &error);
	if (output == NULL) {
		if (g_cancellable_is_cancelled(cancellable))
			aiq_sql_set_cancelled(&error, job);
		g_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, output, (GDestroyNotify)json_node_unref);
}

static void
aiq_sql_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AiqStepRun *run = AIQ_STEP_RUN(source);
	AiqSqlJob *job = g_task_get_task_data(G_TASK(res));
	GError *error = NULL;
	JsonNode *output = g_task_propagate_pointer(G_TASK(res), &error);
	g_autofree gchar *changes = NULL;

	if (output == NULL) {
		aiq_step_run_return_error(run, error);
		return;
	}
	changes = g_strdup_printf(
		"%" G_GINT64_FORMAT,
		json_object_get_int_member(json_node_get_object(output), "changes"));
	aiq_step_run_log(run,
			 _("sql connection “%s”: statements: %u, rows returned: %u, changes: %s"),
			 job->name,
			 job->statements->len,
			 job->n_rows,
			 changes);
	aiq_step_run_return_value(run, output);
}

static void
aiq_sql_run(AiqStepRun *run)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqSqlJob) job = aiq_sql_job_new(run, &error);
	g_autoptr(GTask) task = NULL;

	if (job == NULL) {
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}
	task = g_task_new(run, aiq_step_run_get_cancellable(run), aiq_sql_done_cb, NULL);
	g_task_set_source_tag(task, aiq_sql_run);
	g_task_set_task_data(task, g_steal_pointer(&job), (GDestroyNotify)aiq_sql_job_free);
	/* the worker always finishes its own cleanup (rollback, close) before returning */
	g_task_set_check_cancellable(task, FALSE);
	g_task_run_in_thread(task, aiq_sql_thread);
}

static gchar *
aiq_sql_get_circuit_key(AiqStepRun *run)
{
	const gchar *name = aiq_step_run_get_string(run, "connection");
	return name != NULL ? g_strdup_printf("sql:%s", name) : NULL;
}

const AiqStepKind aiq_step_kind_sql = {
	.name = "sql",
	.title = N_("SQL"),
	.description = N_("Run SQL in one transaction on a SQLite or PostgreSQL connection "
			  "configured on the agent."),
	.icon_name = "network-server-symbolic",
	.params = aiq_sql_params,
	.flags = AIQ_STEP_KIND_FLAG_HOST_ACCESS,
	.validate = aiq_sql_validate,
	.get_circuit_key = aiq_sql_get_circuit_key,
	.run = aiq_sql_run,
};
