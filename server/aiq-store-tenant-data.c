/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * A tenant's data as a whole: its export, read page by page, and its
 * erasure, in batches.
 *
 * The export names every column it takes (nothing is exported because it
 * exists: a column added later with a secret in it stays out), and reads
 * each table in pages by its key, a page at a time in memory, with no
 * statement open while the rows go out. The erasure finds the tables from
 * the schema instead: every table with a tenant_id column, whenever it was
 * added.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-store-private.h"
#include "aiq-store-tenant-data.h"
#include "aiq-util.h"

/* rows of a page, and the bytes of their columns, at most (a page stops
 * at the first row past the bytes) */
#define AIQ_EXPORT_PAGE_ROWS 200
#define AIQ_EXPORT_PAGE_BYTES (4 * 1024 * 1024)
/* rows deleted per write of an erasure */
#define AIQ_ERASE_BATCH 1000
/* passes over the tables, for rows written while the erasure ran */
#define AIQ_ERASE_PASSES 5

typedef enum {
	AIQ_EXPORT_TEXT,
	AIQ_EXPORT_INT,
	AIQ_EXPORT_BOOL,
	AIQ_EXPORT_TIME, /* microseconds → RFC 3339, null for none */
	AIQ_EXPORT_JSON, /* JSON text → the value */
} AiqExportKind;

typedef struct {
	const gchar *name;
	AiqExportKind kind;
} AiqExportColumn;

/**
 * AiqExportTable:
 * @type: the lines' type
 * @keys: the columns after tenant_id that order it and page it (a key)
 * @parent: (nullable): the column that ties a row to its parent's id (the
 *   execution of a step): then it is read once per parent, after it
 * @columns: what is exported, and how; @keys among them
 */
typedef struct {
	const gchar *type;
	const gchar *table;
	const gchar *keys[3];
	const gchar *parent;
	const AiqExportColumn *columns;
} AiqExportTable;

/* never users.password_hash, tokens.hash, webhooks.token_hash or
 * webhooks.secret */
static const AiqExportColumn aiq_export_user_columns[] = {
	{ "id", AIQ_EXPORT_TEXT },
	{ "username", AIQ_EXPORT_TEXT },
	{ "display_name", AIQ_EXPORT_TEXT },
	{ "role", AIQ_EXPORT_TEXT },
	{ "disabled", AIQ_EXPORT_BOOL },
	{ "created", AIQ_EXPORT_TIME },
	{ "updated", AIQ_EXPORT_TIME },
	{ "last_login", AIQ_EXPORT_TIME },
	{ NULL, 0 },
};

static const AiqExportColumn aiq_export_token_columns[] = {
	{ "id", AIQ_EXPORT_TEXT },
	{ "kind", AIQ_EXPORT_TEXT },
	{ "subject_id", AIQ_EXPORT_TEXT },
	{ "role", AIQ_EXPORT_TEXT },
	{ "name", AIQ_EXPORT_TEXT },
	{ "created", AIQ_EXPORT_TIME },
	{ "expires", AIQ_EXPORT_TIME },
	{ "last_used", AIQ_EXPORT_TIME },
	{ "revoked", AIQ_EXPORT_BOOL },
	{ "data", AIQ_EXPORT_JSON },
	{ NULL, 0 },
};

static const AiqExportColumn aiq_export_workflow_columns[] = {
	{ "id", AIQ_EXPORT_TEXT },          { "name", AIQ_EXPORT_TEXT },
	{ "description", AIQ_EXPORT_TEXT }, { "labels", AIQ_EXPORT_JSON },
	{ "enabled", AIQ_EXPORT_BOOL },     { "latest_version", AIQ_EXPORT_INT },
	{ "created", AIQ_EXPORT_TIME },     { "updated", AIQ_EXPORT_TIME },
	{ "deleted", AIQ_EXPORT_BOOL },     { NULL, 0 },
};

static const AiqExportColumn aiq_export_version_columns[] = {
	{ "workflow_id", AIQ_EXPORT_TEXT },
	{ "version", AIQ_EXPORT_INT },
	{ "definition", AIQ_EXPORT_JSON },
	{ "digest", AIQ_EXPORT_TEXT },
	{ "author", AIQ_EXPORT_TEXT },
	{ "created", AIQ_EXPORT_TIME },
	{ NULL, 0 },
};

static const AiqExportColumn aiq_export_webhook_columns[] = {
	{ "workflow_id", AIQ_EXPORT_TEXT },
	{ "created", AIQ_EXPORT_TIME },
	{ NULL, 0 },
};

static const AiqExportColumn aiq_export_agent_columns[] = {
	{ "id", AIQ_EXPORT_TEXT },        { "name", AIQ_EXPORT_TEXT },
	{ "labels", AIQ_EXPORT_JSON },    { "version", AIQ_EXPORT_TEXT },
	{ "status", AIQ_EXPORT_TEXT },    { "capacity", AIQ_EXPORT_INT },
	{ "running", AIQ_EXPORT_JSON },   { "created", AIQ_EXPORT_TIME },
	{ "last_seen", AIQ_EXPORT_TIME }, { NULL, 0 },
};

static const AiqExportColumn aiq_export_schedule_state_columns[] = {
	{ "workflow_id", AIQ_EXPORT_TEXT },
	{ "trigger_index", AIQ_EXPORT_INT },
	{ "last_fire", AIQ_EXPORT_TIME },
	{ NULL, 0 },
};

static const AiqExportColumn aiq_export_schedule_fire_columns[] = {
	{ "workflow_id", AIQ_EXPORT_TEXT },
	{ "trigger_index", AIQ_EXPORT_INT },
	{ "fire_time", AIQ_EXPORT_TIME },
	{ "execution_id", AIQ_EXPORT_TEXT },
	{ NULL, 0 },
};

static const AiqExportColumn aiq_export_execution_columns[] = {
	{ "id", AIQ_EXPORT_TEXT },
	{ "workflow_id", AIQ_EXPORT_TEXT },
	{ "workflow_name", AIQ_EXPORT_TEXT },
	{ "version", AIQ_EXPORT_INT },
	{ "status", AIQ_EXPORT_TEXT },
	{ "trigger", AIQ_EXPORT_TEXT },
	{ "inputs", AIQ_EXPORT_JSON },
	{ "idempotency_key", AIQ_EXPORT_TEXT },
	{ "request_digest", AIQ_EXPORT_TEXT },
	{ "retry_of", AIQ_EXPORT_TEXT },
	{ "created", AIQ_EXPORT_TIME },
	{ "started", AIQ_EXPORT_TIME },
	{ "finished", AIQ_EXPORT_TIME },
	{ "error_code", AIQ_EXPORT_TEXT },
	{ "error_message", AIQ_EXPORT_TEXT },
	{ "outputs", AIQ_EXPORT_JSON },
	{ "agent_id", AIQ_EXPORT_TEXT },
	{ "last_seq", AIQ_EXPORT_INT },
	{ "cancel_requested", AIQ_EXPORT_BOOL },
	{ NULL, 0 },
};

static const AiqExportColumn aiq_export_step_columns[] = {
	{ "execution_id", AIQ_EXPORT_TEXT },  { "step_id", AIQ_EXPORT_TEXT },
	{ "position", AIQ_EXPORT_INT },       { "status", AIQ_EXPORT_TEXT },
	{ "attempts", AIQ_EXPORT_INT },       { "started", AIQ_EXPORT_TIME },
	{ "finished", AIQ_EXPORT_TIME },      { "output", AIQ_EXPORT_JSON },
	{ "output_size", AIQ_EXPORT_INT },    { "error_code", AIQ_EXPORT_TEXT },
	{ "error_message", AIQ_EXPORT_TEXT }, { "skip_reason", AIQ_EXPORT_TEXT },
	{ "attempt_log", AIQ_EXPORT_JSON },   { NULL, 0 },
};

static const AiqExportColumn aiq_export_event_columns[] = {
	{ "execution_id", AIQ_EXPORT_TEXT }, { "seq", AIQ_EXPORT_INT },
	{ "type", AIQ_EXPORT_TEXT },         { "time", AIQ_EXPORT_TIME },
	{ "step_id", AIQ_EXPORT_TEXT },      { "item", AIQ_EXPORT_INT },
	{ "attempt", AIQ_EXPORT_INT },       { "status", AIQ_EXPORT_TEXT },
	{ "data", AIQ_EXPORT_JSON },         { NULL, 0 },
};

static const AiqExportColumn aiq_export_job_columns[] = {
	{ "id", AIQ_EXPORT_TEXT },
	{ "execution_id", AIQ_EXPORT_TEXT },
	{ "labels", AIQ_EXPORT_JSON },
	{ "tier_rank", AIQ_EXPORT_INT },
	{ "state", AIQ_EXPORT_TEXT },
	{ "agent_id", AIQ_EXPORT_TEXT },
	{ "lease_deadline", AIQ_EXPORT_TIME },
	{ "enqueued", AIQ_EXPORT_TIME },
	{ "leased_at", AIQ_EXPORT_TIME },
	{ "expiries", AIQ_EXPORT_INT },
	{ "completed", AIQ_EXPORT_JSON },
	{ NULL, 0 },
};

static const AiqExportColumn aiq_export_usage_columns[] = {
	{ "day", AIQ_EXPORT_INT },
	{ "executions", AIQ_EXPORT_INT },
	{ NULL, 0 },
};

static const AiqExportColumn aiq_export_archive_columns[] = {
	{ "execution_id", AIQ_EXPORT_TEXT },
	{ "day", AIQ_EXPORT_INT },
	{ "archived", AIQ_EXPORT_TIME },
	{ NULL, 0 },
};

static const AiqExportColumn aiq_export_audit_columns[] = {
	{ "id", AIQ_EXPORT_TEXT },          { "time", AIQ_EXPORT_TIME },
	{ "actor_type", AIQ_EXPORT_TEXT },  { "actor_id", AIQ_EXPORT_TEXT },
	{ "actor_name", AIQ_EXPORT_TEXT },  { "action", AIQ_EXPORT_TEXT },
	{ "target_type", AIQ_EXPORT_TEXT }, { "target_id", AIQ_EXPORT_TEXT },
	{ "request_id", AIQ_EXPORT_TEXT },  { "source", AIQ_EXPORT_TEXT },
	{ "outcome", AIQ_EXPORT_TEXT },     { "status", AIQ_EXPORT_INT },
	{ "details", AIQ_EXPORT_JSON },     { NULL, 0 },
};

static const AiqExportColumn aiq_export_tenant_columns[] = {
	{ "id", AIQ_EXPORT_TEXT },
	{ "slug", AIQ_EXPORT_TEXT },
	{ "name", AIQ_EXPORT_TEXT },
	{ "tier", AIQ_EXPORT_TEXT },
	{ "retention_days", AIQ_EXPORT_INT },
	{ "status", AIQ_EXPORT_TEXT },
	{ "created", AIQ_EXPORT_TIME },
	{ "updated", AIQ_EXPORT_TIME },
	{ "limits", AIQ_EXPORT_JSON },
	{ NULL, 0 },
};

static const AiqExportTable aiq_export_step_table = {
	"execution_step", "execution_steps",       { "execution_id", "step_id", NULL },
	"execution_id",   aiq_export_step_columns,
};

static const AiqExportTable aiq_export_event_table = {
	"execution_event", "execution_events",       { "execution_id", "seq", NULL },
	"execution_id",    aiq_export_event_columns,
};

/* in the order of the export; executions bring their steps and events */
static const AiqExportTable aiq_export_tables[] = {
	{ "user", "users", { "id", NULL }, NULL, aiq_export_user_columns },
	{ "token", "tokens", { "id", NULL }, NULL, aiq_export_token_columns },
	{ "workflow", "workflows", { "id", NULL }, NULL, aiq_export_workflow_columns },
	{ "workflow_version",
	  "workflow_versions",
	  { "workflow_id", "version", NULL },
	  NULL,
	  aiq_export_version_columns },
	{ "webhook", "webhooks", { "workflow_id", NULL }, NULL, aiq_export_webhook_columns },
	{ "agent", "agents", { "id", NULL }, NULL, aiq_export_agent_columns },
	{ "schedule_state",
	  "schedule_state",
	  { "workflow_id", "trigger_index", NULL },
	  NULL,
	  aiq_export_schedule_state_columns },
	{ "schedule_fire",
	  "schedule_fires",
	  { "workflow_id", "trigger_index", "fire_time" },
	  NULL,
	  aiq_export_schedule_fire_columns },
	{ "execution", "executions", { "id", NULL }, NULL, aiq_export_execution_columns },
	{ "job", "jobs", { "id", NULL }, NULL, aiq_export_job_columns },
	{ "usage", "usage_daily", { "day", NULL }, NULL, aiq_export_usage_columns },
	{ "execution_archive",
	  "execution_archive",
	  { "execution_id", NULL },
	  NULL,
	  aiq_export_archive_columns },
	{ "audit", "audit_log", { "id", NULL }, NULL, aiq_export_audit_columns },
};

static const gchar *const aiq_export_table_names[] = {
	"users",
	"tokens",
	"workflows",
	"workflow_versions",
	"webhooks",
	"agents",
	"schedule_state",
	"schedule_fires",
	"executions",
	"execution_steps",
	"execution_events",
	"jobs",
	"usage_daily",
	"execution_archive",
	"audit_log",
	NULL,
};

/**
 * aiq_store_export_get_tables:
 *
 * Returns: (transfer none): the tables with a tenant_id column that
 * aiq_store_export_tenant() reads; a test checks that it is all of them
 */
const gchar *const *
aiq_store_export_get_tables(void)
{
	return aiq_export_table_names;
}

static guint
aiq_export_table_n_keys(const AiqExportTable *table)
{
	guint n = 0;
	while (n < G_N_ELEMENTS(table->keys) && table->keys[n] != NULL)
		n++;
	return n;
}

/* the number of the first key's parameter in aiq_export_table_sql(): the
 * parameters are numbered without a gap (PostgreSQL cannot type one that
 * does not appear) */
static guint
aiq_export_table_first_key_param(const AiqExportTable *table)
{
	return table->parent != NULL ? 3 : 2;
}

/* SELECT keys…, columns… FROM table WHERE tenant_id = ?1 [AND parent = ?2]
 * [AND (keys…) > (?k…)] ORDER BY keys… LIMIT n */
static gchar *
aiq_export_table_sql(const AiqExportTable *table, gboolean after)
{
	GString *sql = g_string_new("SELECT ");
	guint n_keys = aiq_export_table_n_keys(table);
	guint first_param = aiq_export_table_first_key_param(table);
	for (guint i = 0; i < n_keys; i++)
		g_string_append_printf(sql, "%s, ", table->keys[i]);
	for (guint i = 0; table->columns[i].name != NULL; i++)
		g_string_append_printf(sql, "%s%s", i > 0 ? ", " : "", table->columns[i].name);
	g_string_append_printf(sql, " FROM %s WHERE tenant_id = ?1", table->table);
	if (table->parent != NULL)
		g_string_append_printf(sql, " AND %s = ?2", table->parent);
	if (after) {
		g_string_append(sql, " AND (");
		for (guint i = 0; i < n_keys; i++)
			g_string_append_printf(sql, "%s%s", i > 0 ? ", " : "", table->keys[i]);
		g_string_append(sql, ") > (");
		for (guint i = 0; i < n_keys; i++)
			g_string_append_printf(sql, "%s?%u", i > 0 ? ", " : "", i + first_param);
		g_string_append(sql, ")");
	}
	g_string_append(sql, " ORDER BY ");
	for (guint i = 0; i < n_keys; i++)
		g_string_append_printf(sql, "%s%s", i > 0 ? ", " : "", table->keys[i]);
	g_string_append_printf(sql, " LIMIT %d", AIQ_EXPORT_PAGE_ROWS);
	return g_string_free(sql, FALSE);
}

/* one row in the export's form, from column @first on; adds the bytes read
 * to @bytes */
static JsonObject *
aiq_export_row_to_json(AiqStmt *stmt, const AiqExportColumn *columns, gint first, gsize *bytes)
{
	JsonObject *obj = json_object_new();
	for (gint i = 0; columns[i].name != NULL; i++) {
		gint col = first + i;
		const gchar *name = columns[i].name;
		if (aiq_stmt_column_is_null(stmt, col)) {
			json_object_set_null_member(obj, name);
			continue;
		}
		/* text by its length, numbers as the 8 bytes they take */
		if (columns[i].kind == AIQ_EXPORT_TEXT || columns[i].kind == AIQ_EXPORT_JSON)
			*bytes += strlen(aiq_stmt_column_text(stmt, col));
		else
			*bytes += sizeof(gint64);
		switch (columns[i].kind) {
		case AIQ_EXPORT_TEXT:
			json_object_set_string_member(obj, name, aiq_stmt_column_text(stmt, col));
			break;
		case AIQ_EXPORT_INT:
			json_object_set_int_member(obj, name, aiq_stmt_column_int64(stmt, col));
			break;
		case AIQ_EXPORT_BOOL:
			json_object_set_boolean_member(obj,
						       name,
						       aiq_stmt_column_int(stmt, col) != 0);
			break;
		case AIQ_EXPORT_TIME: {
			gint64 us = aiq_stmt_column_int64(stmt, col);
			if (us > 0) {
				g_autofree gchar *text = aiq_time_to_iso8601(us);
				json_object_set_string_member(obj, name, text);
			} else {
				json_object_set_null_member(obj, name);
			}
			break;
		}
		case AIQ_EXPORT_JSON: {
			JsonNode *node = aiq_store_column_json(stmt, col);
			/* what does not parse goes as the text it is */
			if (node == NULL)
				node = aiq_json_new_string(aiq_stmt_column_text(stmt, col));
			json_object_set_member(obj, name, node);
			break;
		}
		default:
			g_assert_not_reached();
		}
	}
	return obj;
}

typedef struct {
	AiqStore *store;
	const gchar *tenant_id;
	AiqStoreExportFunc func;
	gpointer user_data;
} AiqExportContext;

static gboolean
aiq_export_table(AiqExportContext *ctx,
		 const AiqExportTable *table,
		 const gchar *parent_id,
		 GError **error);

/* after an execution: its steps, then its events */
static gboolean
aiq_export_children(AiqExportContext *ctx,
		    const AiqExportTable *table,
		    JsonObject *row,
		    GError **error)
{
	const gchar *id;
	if (g_strcmp0(table->table, "executions") != 0)
		return TRUE;
	id = aiq_json_object_get_string(row, "id");
	return aiq_export_table(ctx, &aiq_export_step_table, id, error) &&
	       aiq_export_table(ctx, &aiq_export_event_table, id, error);
}

/* every row of @table in @ctx's tenant (and of @parent_id), a page at a
 * time: the page is read, its statement reset, then its rows go out */
static gboolean
aiq_export_table(AiqExportContext *ctx,
		 const AiqExportTable *table,
		 const gchar *parent_id,
		 GError **error)
{
	g_autofree gchar *first_sql = aiq_export_table_sql(table, FALSE);
	g_autofree gchar *next_sql = aiq_export_table_sql(table, TRUE);
	guint n_keys = aiq_export_table_n_keys(table);
	guint first_param = aiq_export_table_first_key_param(table);
	AiqDbValue *last[G_N_ELEMENTS(table->keys)] = { NULL };
	gboolean after = FALSE;
	gboolean more = TRUE;
	gboolean ok = TRUE;

	while (more && ok) {
		g_autoptr(GPtrArray) rows =
			g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
		g_autoptr(AiqStmt) stmt = NULL;
		gsize bytes = 0;
		AiqStmtStep rc = AIQ_STMT_DONE;

		stmt = aiq_store_read_prepare(ctx->store,
					      ctx->tenant_id,
					      after ? next_sql : first_sql,
					      error);
		if (stmt == NULL) {
			ok = FALSE;
			break;
		}
		aiq_stmt_bind_text(stmt, 1, ctx->tenant_id);
		if (table->parent != NULL)
			aiq_stmt_bind_text(stmt, 2, parent_id);
		for (guint i = 0; i < n_keys && after; i++)
			aiq_stmt_bind_value(stmt, (gint)(i + first_param), last[i]);
		while (bytes < AIQ_EXPORT_PAGE_BYTES &&
		       (rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW) {
			g_ptr_array_add(
				rows,
				aiq_export_row_to_json(stmt, table->columns, (gint)n_keys, &bytes));
			for (guint i = 0; i < n_keys; i++) {
				g_clear_pointer(&last[i], aiq_db_value_free);
				last[i] = aiq_stmt_column_value(stmt, (gint)i);
			}
			after = TRUE;
		}
		if (bytes < AIQ_EXPORT_PAGE_BYTES && rc != AIQ_STMT_DONE) {
			ok = aiq_stmt_set_error(stmt, table->table, error);
			break;
		}
		/* a page stopped short by its bytes has more after it */
		more = rows->len == AIQ_EXPORT_PAGE_ROWS || bytes >= AIQ_EXPORT_PAGE_BYTES;
		g_clear_pointer(&stmt, aiq_stmt_reset);

		for (guint i = 0; i < rows->len && ok; i++) {
			JsonObject *row = g_ptr_array_index(rows, i);
			ok = ctx->func(table->type, row, ctx->user_data, error) &&
			     aiq_export_children(ctx, table, row, error);
		}
	}
	for (guint i = 0; i < n_keys; i++)
		g_clear_pointer(&last[i], aiq_db_value_free);
	return ok;
}

static gboolean
aiq_export_tenant_row(AiqExportContext *ctx, GError **error)
{
	g_autoptr(JsonObject) row = NULL;
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(ctx->store,
							 NULL,
							 "SELECT id, slug, name, tier, "
							 "retention_days, status, created, "
							 "updated, limits FROM tenants "
							 "WHERE id = ?1",
							 error);
	gsize bytes = 0;
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, ctx->tenant_id);
	if (!aiq_store_step_row(stmt, "tenant", ctx->tenant_id, error))
		return FALSE;
	row = aiq_export_row_to_json(stmt, aiq_export_tenant_columns, 0, &bytes);
	g_clear_pointer(&stmt, aiq_stmt_reset);
	return ctx->func("tenant", row, ctx->user_data, error);
}

/**
 * aiq_store_export_tenant:
 * @func: called for each row, in order: the tenant, its users, tokens
 *   (API keys, sessions, agent credentials, enrollment tokens: what they
 *   are, not their hashes), workflows and their versions, webhooks (not
 *   their secrets), agents, schedule state and fires, executions each
 *   followed by its steps and its events, jobs, daily usage, the index of
 *   archived executions and the audit log
 *
 * Reads every row of the tenant, a page at a time (at most 200 rows or
 * 4 MiB of them in memory), each page in a read transaction of its own.
 */
gboolean
aiq_store_export_tenant(AiqStore *self,
			const gchar *tenant_id,
			AiqStoreExportFunc func,
			gpointer user_data,
			GError **error)
{
	AiqExportContext ctx = { self, tenant_id, func, user_data };

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL, FALSE);
	g_return_val_if_fail(func != NULL, FALSE);

	if (!aiq_export_tenant_row(&ctx, error))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(aiq_export_tables); i++) {
		if (!aiq_export_table(&ctx, &aiq_export_tables[i], NULL, error))
			return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_foreach_open_job:
 * @func: called for each job of the tenant that is queued or leased
 */
gboolean
aiq_store_foreach_open_job(AiqStore *self,
			   const gchar *tenant_id,
			   AiqStoreJobFunc func,
			   gpointer user_data,
			   GError **error)
{
	g_autofree gchar *after = g_strdup("");

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL, FALSE);
	g_return_val_if_fail(func != NULL, FALSE);

	for (;;) {
		g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(AiqStmt) stmt = NULL;
		guint n = 0;
		AiqStmtStep rc;

		stmt = aiq_store_read_prepare(
			self,
			tenant_id,
			"SELECT id, execution_id, state FROM jobs "
			"WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
			error);
		if (stmt == NULL)
			return FALSE;
		aiq_stmt_bind_text(stmt, 1, tenant_id);
		aiq_stmt_bind_text(stmt, 2, after);
		aiq_stmt_bind_int64(stmt, 3, AIQ_ERASE_BATCH);
		while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW) {
			const gchar *state = aiq_stmt_column_text(stmt, 2);
			n++;
			g_free(after);
			after = aiq_store_column_text(stmt, 0);
			if (g_strcmp0(state, "queued") != 0 && g_strcmp0(state, "leased") != 0)
				continue;
			g_ptr_array_add(jobs, aiq_store_column_text(stmt, 0));
			g_ptr_array_add(jobs, aiq_store_column_text(stmt, 1));
			g_ptr_array_add(jobs, g_strdup(state));
		}
		if (rc != AIQ_STMT_DONE)
			return aiq_stmt_set_error(stmt, "jobs", error);
		g_clear_pointer(&stmt, aiq_stmt_reset);
		for (guint i = 0; i + 2 < jobs->len; i += 3)
			func(g_ptr_array_index(jobs, i),
			     g_ptr_array_index(jobs, i + 1),
			     g_ptr_array_index(jobs, i + 2),
			     user_data);
		if (n < AIQ_ERASE_BATCH)
			return TRUE;
	}
}

/* erasure */

/* "name", for SQL built from names the schema gave */
static gchar *
aiq_store_quote_name(const gchar *name)
{
	g_autoptr(GString) str = g_string_new("\"");
	for (const gchar *p = name; *p != '\0'; p++) {
		if (*p == '"')
			g_string_append_c(str, '"');
		g_string_append_c(str, *p);
	}
	g_string_append_c(str, '"');
	return g_string_free(g_steal_pointer(&str), FALSE);
}

/* the columns that pick one row of @table: tenant_id and its primary key,
 * or, when it has none, SQLite's rowid or PostgreSQL's ctid */
static gchar *
aiq_store_table_row_key(AiqStore *self, const gchar *table, GError **error)
{
	gboolean postgres = aiq_store_get_backend(self) == AIQ_DB_POSTGRES;
	/* the schema only: no tenant's rows */
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(
		self,
		NULL,
		postgres ? "SELECT k.column_name FROM information_schema.table_constraints AS c "
			   "JOIN information_schema.key_column_usage AS k "
			   "ON k.constraint_schema = c.constraint_schema "
			   "AND k.constraint_name = c.constraint_name "
			   "AND k.table_schema = c.table_schema AND k.table_name = c.table_name "
			   "WHERE c.constraint_type = 'PRIMARY KEY' "
			   "AND c.table_schema = current_schema() AND c.table_name = ?1 "
			   "ORDER BY k.ordinal_position"
			 : "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
		error);
	g_autoptr(GString) key = g_string_new("\"tenant_id\"");
	guint n = 0;
	AiqStmtStep rc;
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, table);
	while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW) {
		const gchar *name = aiq_stmt_column_text(stmt, 0);
		g_autofree gchar *quoted = aiq_store_quote_name(name);
		n++;
		if (g_strcmp0(name, "tenant_id") != 0)
			g_string_append_printf(key, ", %s", quoted);
	}
	if (rc != AIQ_STMT_DONE) {
		aiq_stmt_set_error(stmt, table, error);
		return NULL;
	}
	if (n == 0)
		return g_strdup(postgres ? "ctid" : "rowid");
	return g_string_free(g_steal_pointer(&key), FALSE);
}

/**
 * aiq_store_list_tenant_tables:
 *
 * Returns: (transfer full) (element-type utf8): every table with a
 * tenant_id column, from the schema as it is (PostgreSQL: the tables of
 * the current schema, not its views)
 */
GPtrArray *
aiq_store_list_tenant_tables(AiqStore *self, GError **error)
{
	g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(AiqStmt) stmt = NULL;
	AiqStmtStep rc;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);

	/* the schema only: no tenant's rows */
	if (aiq_store_get_backend(self) == AIQ_DB_POSTGRES)
		stmt = aiq_store_read_prepare(
			self,
			NULL,
			"SELECT c.table_name FROM information_schema.columns AS c "
			"JOIN information_schema.tables AS t ON t.table_schema = c.table_schema "
			"AND t.table_name = c.table_name "
			"WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' "
			"AND t.table_type = 'BASE TABLE' ORDER BY c.table_name",
			error);
	else
		stmt = aiq_store_read_prepare(
			self,
			NULL,
			"SELECT s.name FROM sqlite_schema AS s "
			"WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\\_%' "
			"ESCAPE '\\' AND EXISTS (SELECT 1 FROM "
			"pragma_table_info(s.name) AS c WHERE c.name = 'tenant_id') "
			"ORDER BY s.name",
			error);
	if (stmt == NULL)
		return NULL;
	while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW)
		g_ptr_array_add(tables, aiq_store_column_text(stmt, 0));
	if (rc != AIQ_STMT_DONE) {
		aiq_stmt_set_error(stmt, "tables", error);
		return NULL;
	}
	return g_steal_pointer(&tables);
}

typedef struct {
	const gchar *tenant_id;
	GPtrArray *sql; /* DELETE statements, each taking the tenant as ?1 */
	gboolean tenant_row;
	gint64 changes;
} AiqEraseOp;

/* one write of an erasure: only while the tenant is suspended (or gone) */
static gboolean
aiq_store_erase_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqEraseOp *op = user_data;
	g_autoptr(AiqStmt) status = NULL;
	AiqStmtStep rc;

	/* counted anew when PostgreSQL runs the write again */
	op->changes = 0;

	/* PostgreSQL: the row stays locked until the commit, so that no other
	 * replica takes the tenant out of suspension meanwhile */
	status = aiq_store_tx_prepare(tx,
				      aiq_store_tx_get_backend(tx) == AIQ_DB_POSTGRES
					      ? "SELECT status FROM tenants WHERE id = ?1 FOR SHARE"
					      : "SELECT status FROM tenants WHERE id = ?1",
				      error);
	if (status == NULL)
		return FALSE;
	aiq_stmt_bind_text(status, 1, op->tenant_id);
	rc = aiq_stmt_step(status);
	if (rc == AIQ_STMT_ROW && g_strcmp0(aiq_stmt_column_text(status, 0), "suspended") != 0) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFLICT,
				    _("the tenant is no longer suspended; its erasure stopped"));
		return FALSE;
	}
	if (rc != AIQ_STMT_ROW && rc != AIQ_STMT_DONE)
		return aiq_stmt_set_error(status, "tenant", error);
	g_clear_pointer(&status, aiq_stmt_reset);

	for (guint i = 0; i < op->sql->len; i++) {
		AiqStmt *stmt = aiq_store_tx_prepare(tx, g_ptr_array_index(op->sql, i), error);
		if (stmt == NULL)
			return FALSE;
		aiq_stmt_bind_text(stmt, 1, op->tenant_id);
		if (!aiq_store_tx_exec(tx, stmt, "erase", error))
			return FALSE;
		op->changes += aiq_stmt_changes(stmt);
	}
	if (op->tenant_row) {
		AiqStmt *stmt =
			aiq_store_tx_prepare(tx, "DELETE FROM tenants WHERE id = ?1", error);
		if (stmt == NULL)
			return FALSE;
		aiq_stmt_bind_text(stmt, 1, op->tenant_id);
		if (!aiq_store_tx_exec_existing(tx, stmt, "tenant", op->tenant_id, error))
			return FALSE;
	}
	return TRUE;
}

/* DELETE of a batch of @table's rows of the tenant ?1, or of all of them */
static gchar *
aiq_store_erase_sql(AiqStore *self, const gchar *table, gboolean batch, GError **error)
{
	g_autofree gchar *quoted = aiq_store_quote_name(table);
	g_autofree gchar *key = NULL;
	if (!batch)
		return g_strdup_printf("DELETE FROM %s WHERE tenant_id = ?1", quoted);
	key = aiq_store_table_row_key(self, table, error);
	if (key == NULL)
		return NULL;
	return g_strdup_printf("DELETE FROM %s WHERE (%s) IN (SELECT %s FROM %s "
			       "WHERE tenant_id = ?1 LIMIT %d)",
			       quoted,
			       key,
			       key,
			       quoted,
			       AIQ_ERASE_BATCH);
}

/* tokens first (nothing of the tenant authenticates from then on), then
 * jobs (nothing of it is leased), then the rest */
static gint
aiq_store_erase_order(gconstpointer a, gconstpointer b)
{
	const gchar *ta = *(const gchar *const *)a;
	const gchar *tb = *(const gchar *const *)b;
	gint ra = g_strcmp0(ta, "tokens") == 0 ? 0 : g_strcmp0(ta, "jobs") == 0 ? 1 : 2;
	gint rb = g_strcmp0(tb, "tokens") == 0 ? 0 : g_strcmp0(tb, "jobs") == 0 ? 1 : 2;
	return ra != rb ? ra - rb : g_strcmp0(ta, tb);
}

/**
 * aiq_store_erase_tenant_rows:
 * @n_rows: (out) (optional): the rows deleted
 *
 * Deletes every row of a suspended tenant in every table with a tenant_id
 * column (found in the schema), in writes of at most 1,000 rows so that
 * other writes go on between them, and passes over the tables again while
 * rows turn up. Leaves its row in tenants (aiq_store_delete_erased_tenant()).
 * Stops with %AIQ_ERROR_CONFLICT when the tenant is no longer suspended.
 */
gboolean
aiq_store_erase_tenant_rows(AiqStore *self, const gchar *tenant_id, guint64 *n_rows, GError **error)
{
	g_autoptr(GPtrArray) tables = NULL;
	g_autoptr(GPtrArray) sql = g_ptr_array_new_with_free_func(g_free);
	guint64 total = 0;

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL, FALSE);

	tables = aiq_store_list_tenant_tables(self, error);
	if (tables == NULL)
		return FALSE;
	g_ptr_array_sort(tables, aiq_store_erase_order);
	for (guint i = 0; i < tables->len; i++) {
		gchar *text = aiq_store_erase_sql(self, g_ptr_array_index(tables, i), TRUE, error);
		if (text == NULL)
			return FALSE;
		g_ptr_array_add(sql, text);
	}
	for (guint pass = 0; pass < AIQ_ERASE_PASSES; pass++) {
		guint64 deleted = 0;
		for (guint i = 0; i < sql->len; i++) {
			g_autoptr(GPtrArray) one = g_ptr_array_new();
			AiqEraseOp op = { tenant_id, one, FALSE, 0 };
			g_ptr_array_add(one, g_ptr_array_index(sql, i));
			do {
				if (!aiq_store_write(self,
						     tenant_id,
						     aiq_store_erase_cb,
						     &op,
						     error))
					return FALSE;
				deleted += (guint64)op.changes;
			} while (op.changes >= AIQ_ERASE_BATCH);
		}
		total += deleted;
		if (deleted == 0)
			break;
	}
	if (n_rows != NULL)
		*n_rows = total;
	return TRUE;
}

/**
 * aiq_store_delete_erased_tenant:
 * @n_rows: (out) (optional): the rows of its data still deleted with it
 *
 * The end of an erasure: in one transaction, whatever rows of the tenant
 * are left (written since aiq_store_erase_tenant_rows()) and its row in
 * tenants, if it is still suspended.
 */
gboolean
aiq_store_delete_erased_tenant(AiqStore *self,
			       const gchar *tenant_id,
			       guint64 *n_rows,
			       GError **error)
{
	g_autoptr(GPtrArray) tables = NULL;
	g_autoptr(GPtrArray) sql = g_ptr_array_new_with_free_func(g_free);
	AiqEraseOp op = { tenant_id, sql, TRUE, 0 };

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL, FALSE);

	tables = aiq_store_list_tenant_tables(self, error);
	if (tables == NULL)
		return FALSE;
	for (guint i = 0; i < tables->len; i++)
		g_ptr_array_add(
			sql,
			aiq_store_erase_sql(self, g_ptr_array_index(tables, i), FALSE, NULL));
	if (!aiq_store_write(self, tenant_id, aiq_store_erase_cb, &op, error))
		return FALSE;
	if (n_rows != NULL)
		*n_rows = (guint64)op.changes;
	return TRUE;
}
