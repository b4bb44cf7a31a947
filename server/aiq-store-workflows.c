/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Workflows and their immutable, numbered versions in the store.
 *
 * A workflow row mirrors the name, description, runs_on labels and latest
 * version number of its newest definition, so lists need not read
 * definitions; each version keeps the canonical JSON and its digest.
 * Deleting is soft: the row stays with deleted = 1 (executions refer to
 * it), and its name is free again (the unique index covers live rows only).
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib/gi18n.h>

#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-limits.h"
#include "aiq-store-private.h"
#include "aiq-store-workflows.h"
#include "aiq-util.h"

void
aiq_workflow_row_free(AiqWorkflowRow *row)
{
	if (row == NULL)
		return;
	g_free(row->tenant_id);
	g_free(row->id);
	g_free(row->name);
	g_free(row->description);
	g_strfreev(row->labels);
	g_free(row);
}

void
aiq_workflow_version_free(AiqWorkflowVersion *version)
{
	if (version == NULL)
		return;
	g_free(version->tenant_id);
	g_free(version->workflow_id);
	g_free(version->definition);
	g_free(version->triggers);
	g_free(version->digest);
	g_free(version->author);
	g_free(version);
}

#define AIQ_WORKFLOW_COLUMNS                                                                    \
	"tenant_id, id, name, description, labels, enabled, latest_version, created, updated, " \
	"deleted"

#define AIQ_VERSION_COLUMNS "tenant_id, workflow_id, version, definition, digest, author, created"

static AiqWorkflowRow *
aiq_workflow_row_from_row(AiqStmt *stmt)
{
	AiqWorkflowRow *row = g_new0(AiqWorkflowRow, 1);
	row->tenant_id = aiq_store_column_text(stmt, 0);
	row->id = aiq_store_column_text(stmt, 1);
	row->name = aiq_store_column_text(stmt, 2);
	row->description = aiq_store_column_text(stmt, 3);
	row->labels = aiq_store_column_strv(stmt, 4);
	row->enabled = aiq_stmt_column_int(stmt, 5) != 0;
	row->latest_version = aiq_stmt_column_int(stmt, 6);
	row->created_us = aiq_stmt_column_int64(stmt, 7);
	row->updated_us = aiq_stmt_column_int64(stmt, 8);
	row->deleted = aiq_stmt_column_int(stmt, 9) != 0;
	return row;
}

static AiqWorkflowVersion *
aiq_workflow_version_from_row(AiqStmt *stmt)
{
	AiqWorkflowVersion *version = g_new0(AiqWorkflowVersion, 1);
	version->tenant_id = aiq_store_column_text(stmt, 0);
	version->workflow_id = aiq_store_column_text(stmt, 1);
	version->version = aiq_stmt_column_int(stmt, 2);
	version->definition = aiq_store_column_text(stmt, 3);
	version->digest = aiq_store_column_text(stmt, 4);
	version->author = aiq_store_column_text(stmt, 5);
	version->created_us = aiq_stmt_column_int64(stmt, 6);
	if (aiq_stmt_column_count(stmt) > 7)
		version->triggers = aiq_store_column_text(stmt, 7);
	return version;
}

static void
aiq_store_workflows_name_conflict(GError **error, const gchar *name)
{
	if (!g_error_matches(*error, AIQ_ERROR, AIQ_ERROR_CONFLICT))
		return;
	g_clear_error(error);
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_CONFLICT,
		    _("a workflow named “%s” exists already; choose another name or update that "
		      "workflow"),
		    name);
}

/* inside a write: the live row as it is now */
static AiqWorkflowRow *
aiq_store_workflows_tx_get(AiqStoreTx *tx, const gchar *tenant_id, const gchar *id, GError **error)
{
	g_autoptr(AiqStmt) stmt =
		aiq_store_tx_prepare(tx,
				     "SELECT " AIQ_WORKFLOW_COLUMNS " FROM workflows "
				     "WHERE tenant_id = ?1 AND id = ?2 AND deleted = 0",
				     error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, id);
	if (!aiq_store_step_row(stmt, "workflow", id, error))
		return NULL;
	return aiq_workflow_row_from_row(stmt);
}

static gboolean
aiq_store_workflows_tx_insert_version(AiqStoreTx *tx,
				      const gchar *tenant_id,
				      const gchar *workflow_id,
				      gint version,
				      AiqDefinition *definition,
				      const gchar *author,
				      gint64 now_us,
				      GError **error)
{
	g_autoptr(AiqStmt) stmt =
		aiq_store_tx_prepare(tx,
				     "INSERT INTO workflow_versions (" AIQ_VERSION_COLUMNS
				     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
				     error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, workflow_id);
	aiq_stmt_bind_int64(stmt, 3, version);
	aiq_stmt_bind_text(stmt, 4, aiq_definition_get_canonical_json(definition));
	aiq_stmt_bind_text(stmt, 5, aiq_definition_get_digest(definition));
	aiq_stmt_bind_text(stmt, 6, author);
	aiq_stmt_bind_int64(stmt, 7, now_us);
	return aiq_store_tx_exec(tx, stmt, "workflow version", error);
}

/* runs_on labels as stored: NULL when the definition has none */
static gchar **
aiq_store_workflows_labels(AiqDefinition *definition)
{
	const gchar *const *labels = aiq_definition_get_labels(definition);
	return labels != NULL ? g_strdupv((gchar **)labels) : NULL;
}

typedef struct {
	const gchar *tenant_id;
	const gchar *id; /* the workflow updated; NULL to create one */
	AiqDefinition *definition;
	const gchar *author;
	gint64 max_workflows; /* 0: no quota */
	gint64 used;
	gboolean changed;
	AiqWorkflowRow *row;
} AiqWriteWorkflow;

/* the tenant's live workflows, from the index of live names, at most ?2 */
#define AIQ_WORKFLOWS_COUNT_SQL                                                   \
	"SELECT count(*) FROM (SELECT 1 FROM workflows WHERE tenant_id = ?1 AND " \
	"deleted = 0 LIMIT ?2) AS live"

/* inside a write: at most @bound (0: all) of the tenant's live workflows */
static gboolean
aiq_store_workflows_tx_count(AiqStoreTx *tx,
			     const gchar *tenant_id,
			     gint64 bound,
			     gint64 *count,
			     GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(tx, AIQ_WORKFLOWS_COUNT_SQL, error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_int64(stmt, 2, bound > 0 ? bound : G_MAXINT64);
	return aiq_store_step_count(stmt, "workflows", count, error);
}

/* the quota of workflows, in the write that would add one: creates of the
 * tenant are serialised (the one writer; the tenant's lock on PostgreSQL),
 * so the count is exact */
static gboolean
aiq_store_workflows_tx_check_quota(AiqStoreTx *tx, AiqWriteWorkflow *op, GError **error)
{
	gint64 count = 0;
	if (op->max_workflows <= 0)
		return TRUE;
	if (!aiq_store_tx_lock_tenant(tx, op->tenant_id, error))
		return FALSE;
	if (!aiq_store_workflows_tx_count(tx, op->tenant_id, op->max_workflows, &count, error))
		return FALSE;
	if (count < op->max_workflows)
		return TRUE;
	/* the whole count, for the answer: only when refusing */
	if (!aiq_store_workflows_tx_count(tx, op->tenant_id, 0, &count, error))
		return FALSE;
	op->used = count;
	aiq_store_set_quota_error(error, AIQ_LIMIT_WORKFLOWS, op->max_workflows, count);
	return FALSE;
}

static gboolean
aiq_store_create_workflow_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqWriteWorkflow *op = user_data;
	g_autoptr(AiqWorkflowRow) row = NULL;
	g_autoptr(AiqStmt) stmt = NULL;

	/* run again after a serialization failure: nothing of the last run */
	g_clear_pointer(&op->row, aiq_workflow_row_free);
	op->used = 0;
	if (!aiq_store_workflows_tx_check_quota(tx, op, error))
		return FALSE;
	row = g_new0(AiqWorkflowRow, 1);
	row->tenant_id = g_strdup(op->tenant_id);
	row->id = aiq_id_new();
	row->name = g_strdup(aiq_definition_get_name(op->definition));
	row->description = g_strdup(aiq_definition_get_description(op->definition));
	row->labels = aiq_store_workflows_labels(op->definition);
	row->enabled = TRUE;
	row->latest_version = 1;
	row->created_us = row->updated_us = g_get_real_time();

	stmt = aiq_store_tx_prepare(tx,
				    "INSERT INTO workflows (" AIQ_WORKFLOW_COLUMNS
				    ") VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, ?6, ?6, 0)",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, row->tenant_id);
	aiq_stmt_bind_text(stmt, 2, row->id);
	aiq_stmt_bind_text(stmt, 3, row->name);
	aiq_stmt_bind_text(stmt, 4, row->description);
	aiq_store_bind_strv(stmt, 5, row->labels);
	aiq_stmt_bind_int64(stmt, 6, row->created_us);
	if (!aiq_store_tx_exec(tx, stmt, "workflow", error)) {
		aiq_store_workflows_name_conflict(error, row->name);
		return FALSE;
	}
	if (!aiq_store_workflows_tx_insert_version(tx,
						   row->tenant_id,
						   row->id,
						   1,
						   op->definition,
						   op->author,
						   row->created_us,
						   error))
		return FALSE;
	if (row->labels == NULL)
		row->labels = g_new0(gchar *, 1);
	op->row = g_steal_pointer(&row);
	return TRUE;
}

/**
 * aiq_store_create_workflow_with_quota:
 * @definition: a valid definition; its canonical JSON and digest are kept
 * @author: (nullable): who made it, shown in the version list
 * @max_workflows: the tenant's quota of live workflows, or 0 for none
 * @used: (out) (optional): with %AIQ_ERROR_QUOTA_EXCEEDED, how many live
 *   workflows the tenant has
 *
 * Counts the tenant's live workflows and adds the new one in the same
 * transaction: over the quota, nothing is written.
 *
 * Returns: (transfer full): the new workflow, enabled, at version 1; %NULL
 * with %AIQ_ERROR_CONFLICT when a live workflow of the tenant has the name,
 * %AIQ_ERROR_QUOTA_EXCEEDED when it has @max_workflows already
 */
AiqWorkflowRow *
aiq_store_create_workflow_with_quota(AiqStore *self,
				     const gchar *tenant_id,
				     AiqDefinition *definition,
				     const gchar *author,
				     gint64 max_workflows,
				     gint64 *used,
				     GError **error)
{
	AiqWriteWorkflow op = { .tenant_id = tenant_id,
				.definition = definition,
				.author = author,
				.max_workflows = max_workflows };

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);
	g_return_val_if_fail(definition != NULL, NULL);

	if (!aiq_store_write(self, tenant_id, aiq_store_create_workflow_cb, &op, error)) {
		aiq_workflow_row_free(op.row);
		if (used != NULL)
			*used = op.used;
		return NULL;
	}
	aiq_store_schedules_changed(self);
	return op.row;
}

/**
 * aiq_store_create_workflow:
 *
 * aiq_store_create_workflow_with_quota() without a quota, for tools that
 * seed a store.
 */
AiqWorkflowRow *
aiq_store_create_workflow(AiqStore *self,
			  const gchar *tenant_id,
			  AiqDefinition *definition,
			  const gchar *author,
			  GError **error)
{
	return aiq_store_create_workflow_with_quota(self,
						    tenant_id,
						    definition,
						    author,
						    0,
						    NULL,
						    error);
}

/**
 * aiq_store_count_workflows:
 * @count: (out): the tenant's live (not deleted) workflows
 */
gboolean
aiq_store_count_workflows(AiqStore *self, const gchar *tenant_id, gint64 *count, GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL, FALSE);
	stmt = aiq_store_read_prepare(self, tenant_id, AIQ_WORKFLOWS_COUNT_SQL, error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_int64(stmt, 2, G_MAXINT64);
	return aiq_store_step_count(stmt, "workflows", count, error);
}

static gboolean
aiq_store_update_workflow_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqWriteWorkflow *op = user_data;
	g_autoptr(AiqWorkflowRow) row = NULL;
	g_autoptr(AiqStmt) latest = NULL;
	g_autoptr(AiqStmt) update = NULL;
	g_auto(GStrv) labels = NULL;
	const gchar *name = aiq_definition_get_name(op->definition);
	gint64 now_us = g_get_real_time();
	AiqStmtStep rc;

	/* run again after a serialization failure: nothing of the last run */
	g_clear_pointer(&op->row, aiq_workflow_row_free);
	op->changed = FALSE;
	/* concurrent updates of the workflow number their versions one after
	 * the other: SQLite's one writer, the tenant's lock on PostgreSQL */
	if (!aiq_store_tx_lock_tenant(tx, op->tenant_id, error))
		return FALSE;
	row = aiq_store_workflows_tx_get(tx, op->tenant_id, op->id, error);
	if (row == NULL)
		return FALSE;

	/* the same canonical definition: nothing to do */
	latest = aiq_store_tx_prepare(tx,
				      "SELECT digest FROM workflow_versions "
				      "WHERE tenant_id = ?1 AND workflow_id = ?2 AND version = ?3",
				      error);
	if (latest == NULL)
		return FALSE;
	aiq_stmt_bind_text(latest, 1, op->tenant_id);
	aiq_stmt_bind_text(latest, 2, op->id);
	aiq_stmt_bind_int64(latest, 3, row->latest_version);
	rc = aiq_stmt_step(latest);
	if (rc == AIQ_STMT_ROW && g_strcmp0(aiq_stmt_column_text(latest, 0),
					    aiq_definition_get_digest(op->definition)) == 0) {
		op->changed = FALSE;
		op->row = g_steal_pointer(&row);
		return TRUE;
	}
	if (rc == AIQ_STMT_ERROR)
		return aiq_stmt_set_error(latest, "workflow version", error);
	aiq_stmt_reset(latest);

	labels = aiq_store_workflows_labels(op->definition);
	update = aiq_store_tx_prepare(
		tx,
		"UPDATE workflows SET name = ?3, description = ?4, labels = ?5, "
		"latest_version = ?6, updated = ?7 "
		"WHERE tenant_id = ?1 AND id = ?2 AND deleted = 0",
		error);
	if (update == NULL)
		return FALSE;
	aiq_stmt_bind_text(update, 1, op->tenant_id);
	aiq_stmt_bind_text(update, 2, op->id);
	aiq_stmt_bind_text(update, 3, name);
	aiq_stmt_bind_text(update, 4, aiq_definition_get_description(op->definition));
	aiq_store_bind_strv(update, 5, labels);
	aiq_stmt_bind_int64(update, 6, row->latest_version + 1);
	aiq_stmt_bind_int64(update, 7, now_us);
	if (!aiq_store_tx_exec(tx, update, "workflow", error)) {
		aiq_store_workflows_name_conflict(error, name);
		return FALSE;
	}
	if (!aiq_store_workflows_tx_insert_version(tx,
						   op->tenant_id,
						   op->id,
						   row->latest_version + 1,
						   op->definition,
						   op->author,
						   now_us,
						   error))
		return FALSE;

	g_free(row->name);
	row->name = g_strdup(name);
	g_free(row->description);
	row->description = g_strdup(aiq_definition_get_description(op->definition));
	g_strfreev(row->labels);
	row->labels = labels != NULL ? g_steal_pointer(&labels) : g_new0(gchar *, 1);
	row->latest_version++;
	row->updated_us = now_us;
	op->changed = TRUE;
	op->row = g_steal_pointer(&row);
	return TRUE;
}

/**
 * aiq_store_update_workflow:
 * @definition: a valid definition; it may rename the workflow
 * @author: (nullable): who made the new version
 * @changed: (out) (optional): whether a new version was made
 *
 * Makes a new version when the digest of @definition differs from the
 * latest one's; versions themselves are never modified. The check and the
 * insert are one transaction, so concurrent updates number their versions
 * one after the other.
 *
 * Returns: (transfer full): the workflow after the update; %NULL with
 * %AIQ_ERROR_NOT_FOUND (no live workflow) or %AIQ_ERROR_CONFLICT (the new
 * name is another live workflow's)
 */
AiqWorkflowRow *
aiq_store_update_workflow(AiqStore *self,
			  const gchar *tenant_id,
			  const gchar *id,
			  AiqDefinition *definition,
			  const gchar *author,
			  gboolean *changed,
			  GError **error)
{
	AiqWriteWorkflow op = { .tenant_id = tenant_id,
				.id = id,
				.definition = definition,
				.author = author };

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);
	g_return_val_if_fail(id != NULL, NULL);
	g_return_val_if_fail(definition != NULL, NULL);

	if (!aiq_store_write(self, tenant_id, aiq_store_update_workflow_cb, &op, error)) {
		aiq_workflow_row_free(op.row);
		return NULL;
	}
	aiq_store_schedules_changed(self);
	if (changed != NULL)
		*changed = op.changed;
	return op.row;
}

/**
 * aiq_store_get_workflow:
 *
 * Returns: (transfer full): the live workflow; %NULL with
 * %AIQ_ERROR_NOT_FOUND when the tenant has no such workflow or it was
 * deleted
 */
AiqWorkflowRow *
aiq_store_get_workflow(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);
	g_return_val_if_fail(id != NULL, NULL);

	stmt = aiq_store_read_prepare(self,
				      tenant_id,
				      "SELECT " AIQ_WORKFLOW_COLUMNS " FROM workflows "
				      "WHERE tenant_id = ?1 AND id = ?2 AND deleted = 0",
				      error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, id);
	if (!aiq_store_step_row(stmt, "workflow", id, error))
		return NULL;
	return aiq_workflow_row_from_row(stmt);
}

/* `%text%` for LIKE … ESCAPE '\', with the wildcards of @text taken literally */
static gchar *
aiq_store_workflows_like_pattern(const gchar *text)
{
	GString *pattern = g_string_new("%");
	for (const gchar *p = text; *p != '\0'; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			g_string_append_c(pattern, '\\');
		g_string_append_c(pattern, *p);
	}
	g_string_append_c(pattern, '%');
	return g_string_free(pattern, FALSE);
}

/* the workflows of aiq_store_list_workflows(), with the test of the label ?4 */
#define AIQ_WORKFLOWS_LIST_SQL(has_label)                        \
	"SELECT " AIQ_WORKFLOW_COLUMNS " FROM workflows "        \
	"WHERE tenant_id = ?1 AND deleted = 0 "                  \
	"AND (CAST(?2 AS TEXT) IS NULL OR name = ?2) "           \
	"AND (CAST(?3 AS TEXT) IS NULL OR "                      \
	"lower(name) LIKE lower(CAST(?3 AS TEXT)) ESCAPE '\\') " \
	"AND (CAST(?4 AS TEXT) IS NULL OR " has_label ") "       \
	"AND (CAST(?5 AS BIGINT) < 0 OR enabled = ?5) "          \
	"AND (created, id) > (?6, ?7) ORDER BY created, id LIMIT ?8"

/**
 * aiq_store_list_workflows:
 * @filter: (nullable): which workflows; all live ones when %NULL
 * @cursor: (nullable): where the page starts (a @next_cursor given before)
 * @next_cursor: (out) (optional): where the next page starts, %NULL at the end
 *
 * Live workflows ordered by (created, id). @filter's search is a
 * case-insensitive substring of the name (ASCII case, which is what names
 * are made of); its label is one of the runs_on labels.
 *
 * Returns: (transfer container) (element-type AiqWorkflowRow): a page
 */
GPtrArray *
aiq_store_list_workflows(AiqStore *self,
			 const gchar *tenant_id,
			 const AiqWorkflowFilter *filter,
			 const gchar *cursor,
			 guint limit,
			 gchar **next_cursor,
			 GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_workflow_row_free);
	g_autofree gchar *after_id = NULL;
	g_autofree gchar *pattern = NULL;
	gint64 after_time = G_MININT64;
	g_autoptr(AiqStmt) stmt = NULL;
	AiqWorkflowFilter all = { NULL, NULL, NULL, -1 };

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);
	g_return_val_if_fail(limit > 0, NULL);

	if (next_cursor != NULL)
		*next_cursor = NULL;
	if (filter == NULL)
		filter = &all;
	if (cursor != NULL && !aiq_store_cursor_decode(cursor, &after_time, &after_id, error))
		return NULL;
	if (filter->search != NULL)
		pattern = aiq_store_workflows_like_pattern(filter->search);
	/* lower() on both sides: LIKE is case-sensitive on PostgreSQL */
	stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		aiq_store_get_backend(self) == AIQ_DB_POSTGRES
			? AIQ_WORKFLOWS_LIST_SQL("EXISTS (SELECT 1 FROM jsonb_array_elements_text("
						 "CAST(workflows.labels AS jsonb)) AS l (label) "
						 "WHERE l.label = ?4)")
			: AIQ_WORKFLOWS_LIST_SQL(
				  "EXISTS (SELECT 1 FROM json_each(workflows.labels) "
				  "WHERE json_each.value = ?4)"),
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, filter->name);
	aiq_stmt_bind_text(stmt, 3, pattern);
	aiq_stmt_bind_text(stmt, 4, filter->label);
	aiq_stmt_bind_int64(stmt, 5, filter->enabled < 0 ? -1 : filter->enabled != 0);
	aiq_stmt_bind_int64(stmt, 6, after_time);
	aiq_stmt_bind_text(stmt, 7, after_id != NULL ? after_id : "");
	aiq_stmt_bind_int64(stmt, 8, (gint64)limit + 1);
	if (!aiq_store_step_page(stmt,
				 limit,
				 (AiqStoreRowFunc)aiq_workflow_row_from_row,
				 G_STRUCT_OFFSET(AiqWorkflowRow, created_us),
				 G_STRUCT_OFFSET(AiqWorkflowRow, id),
				 result,
				 "workflows",
				 next_cursor,
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

/* binds a version query's ?1 tenant, ?2 workflow and ?3 version and steps
 * to its row: %AIQ_ERROR_NOT_FOUND when there is none (@version 0 is the
 * latest) */
static gboolean
aiq_store_workflows_step_version(AiqStmt *stmt,
				 const gchar *tenant_id,
				 const gchar *workflow_id,
				 gint version,
				 GError **error)
{
	AiqStmtStep rc;

	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, workflow_id);
	aiq_stmt_bind_int64(stmt, 3, version);
	rc = aiq_stmt_step(stmt);
	if (rc == AIQ_STMT_ROW)
		return TRUE;
	if (rc == AIQ_STMT_ERROR)
		aiq_stmt_set_error(stmt, "workflow version", error);
	else if (version == 0)
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("no workflow “%s”"),
			    workflow_id);
	else
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("workflow “%s” has no version %d"),
			    workflow_id,
			    version);
	return FALSE;
}

/* the version numbered ?3, or the latest when ?3 is 0 */
#define AIQ_VERSION_WHERE                                                    \
	" FROM workflow_versions WHERE tenant_id = ?1 AND workflow_id = ?2 " \
	"AND (CAST(?3 AS BIGINT) = 0 OR version = ?3) ORDER BY version DESC LIMIT 1"

static AiqWorkflowVersion *
aiq_store_workflows_get_version(AiqStore *self,
				const gchar *tenant_id,
				const gchar *workflow_id,
				gint version,
				gboolean with_triggers,
				GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;

	/* the triggers cost a JSON parse of the definition in the database;
	 * PostgreSQL's json (not jsonb) keeps their text as it is in the
	 * canonical definition, as SQLite's json_extract() does */
	if (!with_triggers)
		stmt = aiq_store_read_prepare(self,
					      tenant_id,
					      "SELECT " AIQ_VERSION_COLUMNS AIQ_VERSION_WHERE,
					      error);
	else if (aiq_store_get_backend(self) == AIQ_DB_POSTGRES)
		stmt = aiq_store_read_prepare(
			self,
			tenant_id,
			"SELECT " AIQ_VERSION_COLUMNS
			", CAST(CAST(definition AS json) -> 'triggers' AS TEXT)" AIQ_VERSION_WHERE,
			error);
	else
		stmt = aiq_store_read_prepare(
			self,
			tenant_id,
			"SELECT " AIQ_VERSION_COLUMNS
			", json_extract(definition, '$.triggers')" AIQ_VERSION_WHERE,
			error);
	if (stmt == NULL ||
	    !aiq_store_workflows_step_version(stmt, tenant_id, workflow_id, version, error))
		return NULL;
	return aiq_workflow_version_from_row(stmt);
}

/**
 * aiq_store_get_workflow_version:
 * @version: a version number, or 0 for the latest
 *
 * Versions outlive the deletion of their workflow (executions refer to
 * them); callers that serve a workflow check it with
 * aiq_store_get_workflow() first.
 *
 * Returns: (transfer full): the version with its canonical definition
 */
AiqWorkflowVersion *
aiq_store_get_workflow_version(AiqStore *self,
			       const gchar *tenant_id,
			       const gchar *workflow_id,
			       gint version,
			       GError **error)
{
	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);
	g_return_val_if_fail(workflow_id != NULL, NULL);
	g_return_val_if_fail(version >= 0, NULL);

	return aiq_store_workflows_get_version(self, tenant_id, workflow_id, version, FALSE, error);
}

/**
 * aiq_store_get_workflow_version_with_triggers:
 * @version: a version number, or 0 for the latest
 *
 * The same as aiq_store_get_workflow_version(), with the definition's
 * triggers also filled in (@triggers, as JSON), for the callers that show
 * them.
 *
 * Returns: (transfer full): the version with its canonical definition and
 * triggers
 */
AiqWorkflowVersion *
aiq_store_get_workflow_version_with_triggers(AiqStore *self,
					     const gchar *tenant_id,
					     const gchar *workflow_id,
					     gint version,
					     GError **error)
{
	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);
	g_return_val_if_fail(workflow_id != NULL, NULL);
	g_return_val_if_fail(version >= 0, NULL);

	return aiq_store_workflows_get_version(self, tenant_id, workflow_id, version, TRUE, error);
}

/**
 * aiq_store_get_workflow_version_digest:
 * @version: a version number (not 0)
 *
 * Returns: (transfer full): the digest of the version's canonical JSON,
 * without reading the definition itself
 */
gchar *
aiq_store_get_workflow_version_digest(AiqStore *self,
				      const gchar *tenant_id,
				      const gchar *workflow_id,
				      gint version,
				      GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(version > 0, NULL);
	stmt = aiq_store_read_prepare(self,
				      tenant_id,
				      "SELECT digest FROM workflow_versions WHERE tenant_id = ?1 "
				      "AND workflow_id = ?2 AND version = ?3",
				      error);
	if (stmt == NULL ||
	    !aiq_store_workflows_step_version(stmt, tenant_id, workflow_id, version, error))
		return NULL;
	return aiq_store_column_text(stmt, 0);
}

/**
 * aiq_store_list_workflow_versions:
 *
 * Returns: (transfer container) (element-type AiqWorkflowVersion): every
 * version, oldest first, without their definitions (%NULL)
 */
GPtrArray *
aiq_store_list_workflow_versions(AiqStore *self,
				 const gchar *tenant_id,
				 const gchar *workflow_id,
				 GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_workflow_version_free);
	g_autoptr(AiqStmt) stmt = NULL;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);
	g_return_val_if_fail(workflow_id != NULL, NULL);

	stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT tenant_id, workflow_id, version, NULL, digest, author, "
		"created FROM workflow_versions "
		"WHERE tenant_id = ?1 AND workflow_id = ?2 ORDER BY version",
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, workflow_id);
	if (!aiq_store_step_rows(stmt,
				 (AiqStoreRowFunc)aiq_workflow_version_from_row,
				 result,
				 "workflow versions",
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

typedef struct {
	const gchar *tenant_id;
	const gchar *id;
	gboolean enabled;
	gboolean delete;
} AiqSetWorkflow;

static gboolean
aiq_store_set_workflow_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqSetWorkflow *op = user_data;
	g_autoptr(AiqStmt) stmt = NULL;

	if (op->delete)
		stmt = aiq_store_tx_prepare(tx,
					    "UPDATE workflows SET deleted = 1, updated = ?3 "
					    "WHERE tenant_id = ?1 AND id = ?2 AND deleted = 0",
					    error);
	else
		stmt = aiq_store_tx_prepare(tx,
					    "UPDATE workflows SET enabled = ?4, updated = ?3 "
					    "WHERE tenant_id = ?1 AND id = ?2 AND deleted = 0",
					    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	aiq_stmt_bind_text(stmt, 2, op->id);
	aiq_stmt_bind_int64(stmt, 3, g_get_real_time());
	if (!op->delete)
		aiq_stmt_bind_int64(stmt, 4, op->enabled ? 1 : 0);
	return aiq_store_tx_exec_existing(tx, stmt, "workflow", op->id, error);
}

gboolean
aiq_store_set_workflow_enabled(AiqStore *self,
			       const gchar *tenant_id,
			       const gchar *id,
			       gboolean enabled,
			       GError **error)
{
	AiqSetWorkflow op = { tenant_id, id, enabled, FALSE };
	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL && id != NULL, FALSE);
	if (!aiq_store_write(self, tenant_id, aiq_store_set_workflow_cb, &op, error))
		return FALSE;
	aiq_store_schedules_changed(self);
	return TRUE;
}

/**
 * aiq_store_delete_workflow:
 *
 * Marks the workflow deleted: it is gone for every function here but
 * aiq_store_get_workflow_version(), its name is free again, and its
 * versions and executions stay.
 */
gboolean
aiq_store_delete_workflow(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error)
{
	AiqSetWorkflow op = { tenant_id, id, FALSE, TRUE };
	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL && id != NULL, FALSE);
	if (!aiq_store_write(self, tenant_id, aiq_store_set_workflow_cb, &op, error))
		return FALSE;
	aiq_store_schedules_changed(self);
	return TRUE;
}

/* whether a canonical definition has a schedule trigger */
static gboolean
aiq_store_workflows_has_schedule(const gchar *definition)
{
	g_autoptr(JsonNode) root = NULL;
	JsonArray *triggers;

	if (definition == NULL)
		return FALSE;
	root = aiq_json_parse(definition, strlen(definition), 2 * AIQ_JSON_MAX_DEPTH, NULL);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
		return FALSE;
	triggers = aiq_json_object_get_array(json_node_get_object(root), "triggers");
	for (guint i = 0; triggers != NULL && i < json_array_get_length(triggers); i++) {
		JsonNode *trigger = json_array_get_element(triggers, i);
		if (JSON_NODE_HOLDS_OBJECT(trigger) &&
		    json_object_has_member(json_node_get_object(trigger), "schedule"))
			return TRUE;
	}
	return FALSE;
}

/**
 * aiq_store_list_scheduled_workflows:
 *
 * Returns: (transfer container) (element-type AiqWorkflowRow): the enabled,
 * live workflows of the tenant whose latest version has a schedule trigger,
 * ordered by (created, id)
 */
GPtrArray *
aiq_store_list_scheduled_workflows(AiqStore *self, const gchar *tenant_id, GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_workflow_row_free);
	g_autoptr(AiqStmt) stmt = NULL;
	AiqStmtStep rc;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);

	/* the text test skips most definitions without parsing them; the JSON
	 * test below decides */
	stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT w.tenant_id, w.id, w.name, w.description, w.labels, w.enabled, "
		"w.latest_version, w.created, w.updated, w.deleted, v.definition "
		"FROM workflows w JOIN workflow_versions v ON v.tenant_id = w.tenant_id "
		"AND v.workflow_id = w.id AND v.version = w.latest_version "
		"WHERE w.tenant_id = ?1 AND w.deleted = 0 AND w.enabled = 1 "
		"AND v.definition LIKE '%\"schedule\"%' ORDER BY w.created, w.id",
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW) {
		if (aiq_store_workflows_has_schedule(aiq_stmt_column_text(stmt, 10)))
			g_ptr_array_add(result, aiq_workflow_row_from_row(stmt));
	}
	if (rc == AIQ_STMT_ERROR) {
		aiq_stmt_set_error(stmt, "workflows", error);
		return NULL;
	}
	return g_steal_pointer(&result);
}
