/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Agents in the store: enrollment, listing, disabling, heartbeats.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib/gi18n.h>

#include "aiq-api.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-limits.h"
#include "aiq-store-agents.h"
#include "aiq-store-private.h"
#include "aiq-util.h"

void
aiq_agent_row_free(AiqAgentRow *row)
{
	if (row == NULL)
		return;
	g_free(row->tenant_id);
	g_free(row->id);
	g_free(row->name);
	g_strfreev(row->labels);
	g_free(row->version);
	g_free(row->status);
	g_clear_pointer(&row->running, json_node_unref);
	g_free(row);
}

/**
 * aiq_agent_row_to_json:
 * @offline_us: an agent not seen for this long is offline
 *
 * Returns: the API form of an agent
 */
JsonNode *
aiq_agent_row_to_json(AiqAgentRow *row, gint64 now_us, gint64 offline_us)
{
	JsonObject *obj = json_object_new();
	gboolean online = g_strcmp0(row->status, "active") == 0 && row->last_seen_us > 0 &&
			  now_us - row->last_seen_us <= offline_us;
	json_object_set_string_member(obj, "id", row->id);
	json_object_set_string_member(obj, "name", row->name);
	json_object_set_member(obj, "labels", aiq_api_strv_node(row->labels));
	if (row->version != NULL)
		json_object_set_string_member(obj, "version", row->version);
	else
		json_object_set_null_member(obj, "version");
	json_object_set_string_member(obj, "status", row->status);
	json_object_set_boolean_member(obj, "online", online);
	aiq_api_set_time(obj, "last_seen", row->last_seen_us);
	json_object_set_int_member(obj, "capacity", row->capacity);
	json_object_set_member(obj,
			       "running",
			       row->running != NULL && JSON_NODE_HOLDS_ARRAY(row->running)
				       ? json_node_ref(row->running)
				       : aiq_json_new_array(json_array_new()));
	aiq_api_set_time(obj, "created", row->created_us);
	return aiq_json_new_object(obj);
}

#define AIQ_AGENT_COLUMNS \
	"tenant_id, id, name, labels, version, status, capacity, running, created, last_seen"

static AiqAgentRow *
aiq_agent_row_from_stmt(AiqStmt *stmt)
{
	AiqAgentRow *row = g_new0(AiqAgentRow, 1);
	row->tenant_id = aiq_store_column_text(stmt, 0);
	row->id = aiq_store_column_text(stmt, 1);
	row->name = aiq_store_column_text(stmt, 2);
	row->labels = aiq_store_column_strv(stmt, 3);
	row->version = aiq_store_column_text(stmt, 4);
	row->status = aiq_store_column_text(stmt, 5);
	row->capacity = aiq_stmt_column_int(stmt, 6);
	row->running = aiq_store_column_json(stmt, 7);
	row->created_us = aiq_stmt_column_int64(stmt, 8);
	row->last_seen_us = aiq_stmt_column_int64(stmt, 9);
	return row;
}

/* enrolling */

typedef struct {
	const gchar *tenant_id;
	const guint8 *hash;
	AiqAgentRow *agent;
	AiqTokenRow *credential;
	gint64 now_us;
	gint64 max_agents; /* 0: no quota */
	gint64 used;
	/* what the agent said, put back at the start of each run (a run may be
	 * repeated and replaces them with what the token pins) */
	gchar *said_name;
	gchar **said_labels;
} AiqEnrollAgent;

/* the tenant's agents (disabled ones too: they hold their place until
 * removed) */
#define AIQ_AGENTS_COUNT_SQL "SELECT count(*) FROM agents WHERE tenant_id = ?1"

/* the quota of agents, in the enrollment's write: enrollments of a tenant
 * are serialised (aiq_store_tx_lock_tenant()), so the count is exact */
static gboolean
aiq_store_enroll_check_quota(AiqStoreTx *tx, AiqEnrollAgent *op, GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	gint64 count = 0;

	if (op->max_agents <= 0)
		return TRUE;
	stmt = aiq_store_tx_prepare(tx, AIQ_AGENTS_COUNT_SQL, error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	if (!aiq_store_step_count(stmt, "agents", &count, error))
		return FALSE;
	if (count < op->max_agents)
		return TRUE;
	op->used = count;
	aiq_store_set_quota_error(error, AIQ_LIMIT_AGENTS, op->max_agents, count);
	return FALSE;
}

/* the enrollment token: unrevoked, unexpired, of the right kind; it is
 * revoked in the same transaction, so it works once */
static gboolean
aiq_store_enroll_consume(AiqStoreTx *tx, AiqEnrollAgent *op, JsonNode **data, GError **error)
{
	g_autoptr(AiqStmt) select = aiq_store_tx_prepare(
		tx,
		"SELECT kind, revoked, expires, data FROM tokens WHERE tenant_id = ?1 AND hash = ?2",
		error);
	g_autoptr(AiqStmt) update = NULL;
	AiqStmtStep rc;
	gint64 expires;
	if (select == NULL)
		return FALSE;
	aiq_stmt_bind_text(select, 1, op->tenant_id);
	aiq_stmt_bind_blob(select, 2, op->hash, 32);
	rc = aiq_stmt_step(select);
	if (rc == AIQ_STMT_ERROR)
		return aiq_stmt_set_error(select, "token", error);
	if (rc != AIQ_STMT_ROW ||
	    g_strcmp0(aiq_stmt_column_text(select, 0),
		      aiq_token_kind_to_string(AIQ_TOKEN_KIND_ENROLLMENT)) != 0) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the enrollment token is not valid"));
		return FALSE;
	}
	if (aiq_stmt_column_int(select, 1) != 0) {
		g_set_error_literal(
			error,
			AIQ_ERROR,
			AIQ_ERROR_UNAUTHENTICATED,
			_("the enrollment token was used or revoked; ask for a new one"));
		return FALSE;
	}
	expires = aiq_stmt_column_int64(select, 2);
	if (expires > 0 && expires <= op->now_us) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the enrollment token expired; ask for a new one"));
		return FALSE;
	}
	*data = aiq_store_column_json(select, 3);
	g_clear_pointer(&select, aiq_stmt_reset);
	update = aiq_store_tx_prepare(tx,
				      "UPDATE tokens SET revoked = 1, last_used = ?3 "
				      "WHERE tenant_id = ?1 AND hash = ?2 AND revoked = 0",
				      error);
	if (update == NULL)
		return FALSE;
	aiq_stmt_bind_text(update, 1, op->tenant_id);
	aiq_stmt_bind_blob(update, 2, op->hash, 32);
	aiq_stmt_bind_int64(update, 3, op->now_us);
	return aiq_store_tx_exec(tx, update, "token", error);
}

static gboolean
aiq_store_enroll_agent_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqEnrollAgent *op = user_data;
	AiqAgentRow *agent = op->agent;
	AiqTokenRow *cred = op->credential;
	g_autoptr(JsonNode) data = NULL;
	g_autoptr(AiqStmt) tenant = NULL;
	g_autoptr(AiqStmt) stmt = NULL;
	JsonObject *pinned = NULL;
	AiqStmtStep rc;

	/* a run may be repeated: start from what the agent said */
	op->used = 0;
	g_free(agent->name);
	agent->name = g_strdup(op->said_name);
	g_strfreev(agent->labels);
	agent->labels = g_strdupv(op->said_labels);

	/* counts the tenant's agents and adds one: one enrollment of the
	 * tenant at a time */
	if (!aiq_store_tx_lock_tenant(tx, op->tenant_id, error))
		return FALSE;
	tenant = aiq_store_tx_prepare(tx, "SELECT status FROM tenants WHERE id = ?1", error);
	if (tenant == NULL)
		return FALSE;
	aiq_stmt_bind_text(tenant, 1, op->tenant_id);
	rc = aiq_stmt_step(tenant);
	if (rc == AIQ_STMT_ERROR)
		return aiq_stmt_set_error(tenant, "tenant", error);
	if (rc != AIQ_STMT_ROW) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the enrollment token is not valid"));
		return FALSE;
	}
	if (g_strcmp0(aiq_stmt_column_text(tenant, 0), "active") != 0) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FORBIDDEN,
				    _("the tenant is suspended"));
		return FALSE;
	}
	g_clear_pointer(&tenant, aiq_stmt_reset);
	/* the token first, so that only its holder learns of the quota; a
	 * refusal undoes its use with the rest of this write */
	if (!aiq_store_enroll_consume(tx, op, &data, error) ||
	    !aiq_store_enroll_check_quota(tx, op, error))
		return FALSE;

	/* what the tenant admin set in the token wins over what the agent says */
	if (data != NULL && JSON_NODE_HOLDS_OBJECT(data))
		pinned = json_node_get_object(data);
	if (aiq_json_object_get_string(pinned, "name") != NULL) {
		g_free(agent->name);
		agent->name = g_strdup(aiq_json_object_get_string(pinned, "name"));
	}
	if (agent->name == NULL)
		agent->name = g_strdup(agent->id);
	if (pinned != NULL && json_object_has_member(pinned, "labels")) {
		g_autoptr(GError) error_local = NULL;
		g_auto(GStrv) labels = aiq_api_get_strv(pinned, "labels", &error_local);
		if (labels != NULL) {
			g_strfreev(agent->labels);
			agent->labels = g_steal_pointer(&labels);
		}
	}
	if (agent->labels == NULL)
		agent->labels = g_new0(gchar *, 1);

	stmt = aiq_store_tx_prepare(tx,
				    "INSERT INTO agents (" AIQ_AGENT_COLUMNS
				    ") VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, NULL, ?7, NULL)",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, agent->tenant_id);
	aiq_stmt_bind_text(stmt, 2, agent->id);
	aiq_stmt_bind_text(stmt, 3, agent->name);
	aiq_store_bind_strv(stmt, 4, agent->labels);
	aiq_stmt_bind_text(stmt, 5, agent->version);
	aiq_stmt_bind_int64(stmt, 6, agent->capacity);
	aiq_stmt_bind_int64(stmt, 7, agent->created_us);
	if (!aiq_store_tx_exec(tx, stmt, "agent", error))
		return FALSE;
	g_clear_pointer(&stmt, aiq_stmt_reset);

	/* its credential, in the same transaction: a consumed token always
	 * gives a working agent */
	stmt = aiq_store_tx_prepare(
		tx,
		"INSERT INTO tokens (tenant_id, hash, id, kind, subject_id, role, "
		"name, created, expires, last_used, revoked, data) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL, 0, NULL)",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, cred->tenant_id);
	aiq_stmt_bind_blob(stmt, 2, cred->hash, 32);
	aiq_stmt_bind_text(stmt, 3, cred->id);
	aiq_stmt_bind_text(stmt, 4, aiq_token_kind_to_string(AIQ_TOKEN_KIND_AGENT));
	aiq_stmt_bind_text(stmt, 5, agent->id);
	aiq_stmt_bind_text(stmt, 6, "agent");
	aiq_stmt_bind_text(stmt, 7, agent->name);
	aiq_stmt_bind_int64(stmt, 8, cred->created_us);
	return aiq_store_tx_exec(tx, stmt, "token", error);
}

/**
 * aiq_store_enroll_agent:
 * @token_hash: the SHA-256 of the enrollment token
 * @agent: (inout): id, tenant, what the agent said (name, labels, version,
 *   capacity) and created; the name and labels set in the token replace
 *   the agent's
 * @credential: tenant, id, hash and created of the agent's credential
 * @max_agents: the tenant's quota of agents, or 0 for none
 * @used: (out) (optional): with %AIQ_ERROR_QUOTA_EXCEEDED, how many agents
 *   the tenant has
 *
 * In one transaction: uses the enrollment token (once), counts the
 * tenant's agents, adds the agent and its credential. Over the quota
 * (%AIQ_ERROR_QUOTA_EXCEEDED) nothing is written: the token stays unused.
 */
gboolean
aiq_store_enroll_agent(AiqStore *self,
		       const gchar *tenant_id,
		       const guint8 *token_hash,
		       AiqAgentRow *agent,
		       AiqTokenRow *credential,
		       gint64 now_us,
		       gint64 max_agents,
		       gint64 *used,
		       GError **error)
{
	g_autofree gchar *said_name = NULL;
	g_auto(GStrv) said_labels = NULL;
	AiqEnrollAgent op = { tenant_id, token_hash, agent, credential, now_us, max_agents, 0 };
	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(g_strcmp0(agent->tenant_id, tenant_id) == 0, FALSE);
	op.said_name = said_name = g_strdup(agent->name);
	op.said_labels = said_labels = g_strdupv(agent->labels);
	if (!aiq_store_write(self, tenant_id, aiq_store_enroll_agent_cb, &op, error)) {
		if (used != NULL)
			*used = op.used;
		return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_count_agents:
 * @count: (out): the tenant's agents, disabled ones too
 */
gboolean
aiq_store_count_agents(AiqStore *self, const gchar *tenant_id, gint64 *count, GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(tenant_id != NULL, FALSE);
	stmt = aiq_store_read_prepare(self, tenant_id, AIQ_AGENTS_COUNT_SQL, error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	return aiq_store_step_count(stmt, "agents", count, error);
}

AiqAgentRow *
aiq_store_get_agent(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT " AIQ_AGENT_COLUMNS " FROM agents WHERE tenant_id = ?1 AND id = ?2",
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, id);
	if (!aiq_store_step_row(stmt, "agent", id, error))
		return NULL;
	return aiq_agent_row_from_stmt(stmt);
}

/**
 * aiq_store_list_agents:
 *
 * Returns: (transfer container) (element-type AiqAgentRow): one page, by
 * (created, id)
 */
GPtrArray *
aiq_store_list_agents(AiqStore *self,
		      const gchar *tenant_id,
		      const gchar *cursor,
		      guint limit,
		      gchar **next_cursor,
		      GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_agent_row_free);
	g_autofree gchar *after_id = NULL;
	gint64 after_time = G_MININT64;
	g_autoptr(AiqStmt) stmt = NULL;

	if (cursor != NULL && !aiq_store_cursor_decode(cursor, &after_time, &after_id, error))
		return NULL;
	/* a tenant has few agents: the primary key finds them, sorting is cheap */
	stmt = aiq_store_read_prepare(self,
				      tenant_id,
				      "SELECT " AIQ_AGENT_COLUMNS
				      " FROM agents WHERE tenant_id = ?1 "
				      "AND (created, id) > (?2, ?3) ORDER BY created, id LIMIT ?4",
				      error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_int64(stmt, 2, after_time);
	aiq_stmt_bind_text(stmt, 3, after_id != NULL ? after_id : "");
	aiq_stmt_bind_int64(stmt, 4, (gint64)limit + 1);
	if (!aiq_store_step_page(stmt,
				 limit,
				 (AiqStoreRowFunc)aiq_agent_row_from_stmt,
				 G_STRUCT_OFFSET(AiqAgentRow, created_us),
				 G_STRUCT_OFFSET(AiqAgentRow, id),
				 result,
				 "agents",
				 next_cursor,
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

typedef struct {
	const gchar *tenant_id;
	const gchar *id;
	gboolean remove;
	GPtrArray *requeued;
} AiqDisableAgent;

static gboolean
aiq_store_disable_agent_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqDisableAgent *op = user_data;
	g_autoptr(AiqStmt) stmt = NULL;
	AiqStmtStep rc;

	/* a run may be repeated */
	g_ptr_array_set_size(op->requeued, 0);
	if (op->remove)
		stmt = aiq_store_tx_prepare(tx,
					    "DELETE FROM agents WHERE tenant_id = ?1 AND id = ?2",
					    error);
	else
		stmt = aiq_store_tx_prepare(tx,
					    "UPDATE agents SET status = 'disabled' "
					    "WHERE tenant_id = ?1 AND id = ?2",
					    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	aiq_stmt_bind_text(stmt, 2, op->id);
	if (!aiq_store_tx_exec_existing(tx, stmt, "agent", op->id, error))
		return FALSE;
	g_clear_pointer(&stmt, aiq_stmt_reset);

	/* its leased jobs in its own tenant; a cloud worker's jobs of other
	 * tenants are known to the queue */
	stmt = aiq_store_tx_prepare(tx,
				    "SELECT id, execution_id FROM jobs WHERE tenant_id = ?1 AND "
				    "agent_id = ?2 AND state = 'leased'",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	aiq_stmt_bind_text(stmt, 2, op->id);
	while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW) {
		AiqJobRow *job = g_new0(AiqJobRow, 1);
		job->tenant_id = g_strdup(op->tenant_id);
		job->id = aiq_store_column_text(stmt, 0);
		job->execution_id = aiq_store_column_text(stmt, 1);
		job->agent_id = g_strdup(op->id);
		job->state = g_strdup("leased");
		g_ptr_array_add(op->requeued, job);
	}
	if (rc != AIQ_STMT_DONE)
		return aiq_stmt_set_error(stmt, "jobs", error);
	return TRUE;
}

/**
 * aiq_store_disable_agent:
 * @remove: delete the agent rather than disable it
 * @leased: (out) (transfer container) (element-type AiqJobRow): the jobs
 *   leased to it in its tenant, to give back with aiq_store_requeue_jobs()
 *
 * Once this returns no job can be leased to the agent any more. Its
 * credential is revoked separately (aiq_store_revoke_tokens_of()).
 */
gboolean
aiq_store_disable_agent(AiqStore *self,
			const gchar *tenant_id,
			const gchar *id,
			gboolean remove,
			GPtrArray **leased,
			GError **error)
{
	g_autoptr(GPtrArray) jobs =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_job_row_free);
	AiqDisableAgent op = { tenant_id, id, remove, jobs };
	if (!aiq_store_write(self, tenant_id, aiq_store_disable_agent_cb, &op, error))
		return FALSE;
	*leased = g_steal_pointer(&jobs);
	return TRUE;
}

/* heartbeats */

static gboolean
aiq_store_heartbeat_one(AiqStoreTx *tx, AiqHeartbeat *hb, AiqJobRow *job, GError **error)
{
	g_autoptr(AiqStmt) renew = aiq_store_tx_prepare(
		tx,
		"UPDATE jobs SET lease_deadline = ?4 WHERE tenant_id = ?1 AND execution_id = ?2 "
		"AND agent_id = ?3 AND state = 'leased' RETURNING id",
		error);
	g_autoptr(AiqStmt) select = NULL;
	AiqStmtStep rc;

	if (renew == NULL)
		return FALSE;
	aiq_stmt_bind_text(renew, 1, job->tenant_id);
	aiq_stmt_bind_text(renew, 2, job->execution_id);
	aiq_stmt_bind_text(renew, 3, hb->agent_id);
	aiq_stmt_bind_int64(renew, 4, hb->deadline_us);
	rc = aiq_stmt_step(renew);
	if (rc == AIQ_STMT_ERROR)
		return aiq_stmt_set_error(renew, "job", error);
	g_clear_pointer(&renew, aiq_stmt_reset);
	if (rc == AIQ_STMT_DONE) {
		/* finished by this agent a moment ago is not lost */
		g_autoptr(AiqStmt) done = aiq_store_tx_prepare(
			tx,
			"SELECT 1 FROM jobs WHERE tenant_id = ?1 AND execution_id = ?2 AND "
			"agent_id = ?3 AND state = 'done'",
			error);
		if (done == NULL)
			return FALSE;
		aiq_stmt_bind_text(done, 1, job->tenant_id);
		aiq_stmt_bind_text(done, 2, job->execution_id);
		aiq_stmt_bind_text(done, 3, hb->agent_id);
		rc = aiq_stmt_step(done);
		if (rc == AIQ_STMT_ERROR)
			return aiq_stmt_set_error(done, "job", error);
		if (rc != AIQ_STMT_ROW)
			g_ptr_array_add(hb->lost, g_strdup(job->execution_id));
		return TRUE;
	}
	g_ptr_array_add(hb->renewed, g_strdup(job->execution_id));
	select = aiq_store_tx_prepare(tx,
				      "SELECT cancel_requested FROM executions "
				      "WHERE tenant_id = ?1 AND id = ?2",
				      error);
	if (select == NULL)
		return FALSE;
	aiq_stmt_bind_text(select, 1, job->tenant_id);
	aiq_stmt_bind_text(select, 2, job->execution_id);
	rc = aiq_stmt_step(select);
	if (rc == AIQ_STMT_ERROR)
		return aiq_stmt_set_error(select, "execution", error);
	if (rc == AIQ_STMT_ROW && aiq_stmt_column_int(select, 0) != 0)
		g_ptr_array_add(hb->cancel, g_strdup(job->execution_id));
	return TRUE;
}

typedef struct {
	AiqHeartbeat *hb;
	/* what the caller put in the answers before the write */
	guint n_lost;
	guint n_cancel;
	guint n_renewed;
} AiqHeartbeatOp;

static gboolean
aiq_store_agent_heartbeat_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqHeartbeatOp *op = user_data;
	AiqHeartbeat *hb = op->hb;
	g_autoptr(AiqStmt) stmt = NULL;

	/* a run may be repeated: only the caller's answers stay */
	g_ptr_array_set_size(hb->lost, op->n_lost);
	g_ptr_array_set_size(hb->cancel, op->n_cancel);
	if (hb->renewed != NULL)
		g_ptr_array_set_size(hb->renewed, op->n_renewed);
	stmt = aiq_store_tx_prepare(
		tx,
		"UPDATE agents SET last_seen = ?3, capacity = CASE WHEN "
		"CAST(?4 AS BIGINT) >= 0 THEN CAST(?4 AS BIGINT) ELSE capacity "
		"END, version = coalesce(CAST(?5 AS TEXT), version), running = ?6 "
		"WHERE tenant_id = ?1 AND id = ?2 AND status = 'active'",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, hb->tenant_id);
	aiq_stmt_bind_text(stmt, 2, hb->agent_id);
	aiq_stmt_bind_int64(stmt, 3, hb->now_us);
	aiq_stmt_bind_int64(stmt, 4, hb->capacity);
	aiq_stmt_bind_text(stmt, 5, hb->version);
	aiq_store_bind_json(stmt, 6, hb->running);
	if (!aiq_store_tx_exec(tx, stmt, "agent", error))
		return FALSE;
	if (aiq_stmt_changes(stmt) == 0) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the agent is disabled or gone"));
		return FALSE;
	}
	for (guint i = 0; i < hb->executions->len; i++) {
		if (!aiq_store_heartbeat_one(tx, hb, g_ptr_array_index(hb->executions, i), error))
			return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_agent_heartbeat:
 *
 * Records that an agent is alive and what it runs, renews the leases of
 * the executions it runs until @deadline_us, and fills @lost (no longer
 * leased to it) and @cancel (cancel requested).
 */
gboolean
aiq_store_agent_heartbeat(AiqStore *self, AiqHeartbeat *heartbeat, GError **error)
{
	AiqHeartbeatOp op = { heartbeat, 0, 0, 0 };
	const gchar *tenant_id;
	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(heartbeat->lost != NULL && heartbeat->cancel != NULL, FALSE);
	op.n_lost = heartbeat->lost->len;
	op.n_cancel = heartbeat->cancel->len;
	op.n_renewed = heartbeat->renewed != NULL ? heartbeat->renewed->len : 0;
	/* a cloud worker runs the executions of other tenants */
	tenant_id = heartbeat->tenant_id;
	for (guint i = 0; i < heartbeat->executions->len; i++) {
		AiqJobRow *job = g_ptr_array_index(heartbeat->executions, i);
		if (g_strcmp0(job->tenant_id, heartbeat->tenant_id) != 0) {
			tenant_id = AIQ_STORE_ALL_TENANTS;
			break;
		}
	}
	return aiq_store_write(self, tenant_id, aiq_store_agent_heartbeat_cb, &op, error);
}
