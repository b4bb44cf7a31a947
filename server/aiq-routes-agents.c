/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Agents: enrollment tokens, enrollment, the agents of a tenant, and the
 * agent protocol (lease, heartbeat, events).
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-api.h"
#include "aiq-broker.h"
#include "aiq-error.h"
#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-metrics.h"
#include "aiq-queue.h"
#include "aiq-routes.h"
#include "aiq-store-agents.h"
#include "aiq-util.h"

#define AIQ_AGENT_NAME_MAX 200
#define AIQ_AGENT_VERSION_MAX 64
#define AIQ_AGENT_LABEL_MAX 64
#define AIQ_AGENT_LABELS_MAX 64
#define AIQ_AGENT_CAPACITY_MAX 1000
#define AIQ_ENROLLMENT_TTL_MAX_US ((gint64)30 * 24 * 3600 * G_USEC_PER_SEC)
#define AIQ_HEARTBEAT_RUNNING_MAX 10000
#define AIQ_EVENTS_BATCH_MAX 1000
#define AIQ_EVENTS_BODY_MAX (32 * 1024 * 1024)

static gboolean
aiq_agent_is_platform(AiqPrincipal *principal)
{
	return g_strcmp0(principal->tenant_slug, AIQ_PLATFORM_TENANT_SLUG) == 0;
}

static gboolean
aiq_check_labels(gchar **labels, const gchar *member, GError **error)
{
	guint n = labels != NULL ? g_strv_length(labels) : 0;
	if (n > AIQ_AGENT_LABELS_MAX) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("%s: at most %u labels"),
			    member,
			    (guint)AIQ_AGENT_LABELS_MAX);
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		gsize len = strlen(labels[i]);
		if (len == 0 || len > AIQ_AGENT_LABEL_MAX ||
		    !g_utf8_validate(labels[i], -1, NULL)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("%s[%u]: a label of 1 to %u characters"),
				    member,
				    i,
				    (guint)AIQ_AGENT_LABEL_MAX);
			return FALSE;
		}
	}
	return TRUE;
}

/* the "name" member: 1 to %AIQ_AGENT_NAME_MAX bytes */
static gboolean
aiq_agent_get_name(JsonObject *obj, gboolean required, const gchar **name, GError **error)
{
	if (!aiq_api_lookup_string(obj, "name", required, name, error))
		return FALSE;
	if (*name != NULL && (strlen(*name) == 0 || strlen(*name) > AIQ_AGENT_NAME_MAX)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("name: 1 to %u characters"),
			    (guint)AIQ_AGENT_NAME_MAX);
		return FALSE;
	}
	return TRUE;
}

/* the optional "version" an agent reports */
static gboolean
aiq_agent_get_version(JsonObject *obj, const gchar **version, GError **error)
{
	if (!aiq_api_lookup_string(obj, "version", FALSE, version, error))
		return FALSE;
	if (*version != NULL && strlen(*version) > AIQ_AGENT_VERSION_MAX) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("version: at most 64 characters"));
		return FALSE;
	}
	return TRUE;
}

static JsonNode *
aiq_agents_to_json(AiqServer *server, AiqAgentRow *row)
{
	return aiq_agent_row_to_json(row,
				     aiq_server_now(server),
				     aiq_server_get_config(server)->agent_offline_us);
}

/* @row: (nullable): the agent as stored now; %NULL once it is deleted */
static void
aiq_agents_publish(AiqServer *server,
		   const gchar *tenant_id,
		   const gchar *agent_id,
		   AiqAgentRow *row)
{
	g_autoptr(JsonNode) node = NULL;
	if (row == NULL) {
		JsonObject *obj = json_object_new();
		json_object_set_string_member(obj, "id", agent_id);
		json_object_set_string_member(obj, "status", "deleted");
		node = aiq_json_new_object(obj);
	} else {
		node = aiq_agents_to_json(server, row);
	}
	aiq_broker_publish(server, tenant_id, "agent.updated", node);
}

/* enrollment tokens */

static JsonNode *
aiq_enrollment_token_to_json(AiqTokenRow *row)
{
	JsonObject *obj = json_object_new();
	JsonObject *data = row->data != NULL && JSON_NODE_HOLDS_OBJECT(row->data)
				   ? json_node_get_object(row->data)
				   : NULL;
	JsonNode *labels = data != NULL ? json_object_get_member(data, "labels") : NULL;
	const gchar *name = aiq_json_object_get_string(data, "name");
	json_object_set_string_member(obj, "id", row->id);
	if (name != NULL)
		json_object_set_string_member(obj, "name", name);
	else
		json_object_set_null_member(obj, "name");
	json_object_set_member(obj,
			       "labels",
			       labels != NULL ? json_node_ref(labels)
					      : aiq_json_new_array(json_array_new()));
	aiq_api_set_time(obj, "created", row->created_us);
	aiq_api_set_time(obj, "expires_at", row->expires_us);
	return aiq_json_new_object(obj);
}

static void
aiq_route_create_enrollment_token(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	const gchar *const known[] = { "name", "labels", "expires_in", NULL };
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(AiqTokenRow) row = NULL;
	g_auto(GStrv) labels = NULL;
	g_autofree gchar *token = NULL;
	JsonObject *obj;
	JsonObject *data;
	JsonNode *reply;
	const gchar *name = NULL;
	const gchar *expires_in;
	gint64 ttl_us = aiq_server_get_config(server)->enrollment_ttl_us;

	body = g_bytes_get_size(aiq_request_get_body(req)) > 0
		       ? aiq_request_parse_json(req, &error)
		       : aiq_json_new_object(json_object_new());
	if (body == NULL || (obj = aiq_api_body_object(body, &error)) == NULL ||
	    !aiq_api_check_members(obj, known, &error))
		goto fail;
	if (!aiq_agent_get_name(obj, FALSE, &name, &error))
		goto fail;
	labels = aiq_api_get_strv(obj, "labels", &error);
	if (error != NULL || !aiq_check_labels(labels, "labels", &error))
		goto fail;
	expires_in = aiq_api_get_string(obj, "expires_in", FALSE, &error);
	if (error != NULL)
		goto fail;
	if (expires_in != NULL) {
		gint64 ms = 0;
		if (!aiq_duration_parse(expires_in, &ms, NULL) || ms <= 0 ||
		    ms * 1000 > AIQ_ENROLLMENT_TTL_MAX_US) {
			g_set_error_literal(
				&error,
				AIQ_ERROR,
				AIQ_ERROR_INVALID_INPUT,
				_("expires_in: a duration up to 30 days, like 1h or 7d"));
			goto fail;
		}
		ttl_us = ms * 1000;
	}
	data = json_object_new();
	if (name != NULL)
		json_object_set_string_member(data, "name", name);
	if (labels != NULL)
		json_object_set_member(data, "labels", aiq_api_strv_node(labels));
	{
		g_autoptr(JsonNode) data_node = aiq_json_new_object(data);
		token = aiq_auth_issue(aiq_server_get_auth(server),
				       AIQ_TOKEN_KIND_ENROLLMENT,
				       aiq_request_get_tenant_id(req),
				       NULL,
				       NULL,
				       name != NULL ? name : "enrollment",
				       ttl_us,
				       data_node,
				       &row,
				       &error);
	}
	if (token == NULL)
		goto fail;
	reply = aiq_enrollment_token_to_json(row);
	json_object_set_string_member(json_node_get_object(reply), "token", token);
	aiq_request_respond_json(req, SOUP_STATUS_CREATED, reply);
	return;
fail:
	aiq_request_respond_gerror(req, error);
}

static void
aiq_route_list_enrollment_tokens(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = aiq_store_list_tokens(aiq_server_get_store(server),
							  aiq_request_get_tenant_id(req),
							  AIQ_TOKEN_KIND_ENROLLMENT,
							  NULL,
							  &error);
	gint64 now = aiq_server_now(server);
	JsonArray *items;
	if (rows == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	items = json_array_new();
	for (guint i = 0; i < rows->len; i++) {
		AiqTokenRow *row = g_ptr_array_index(rows, i);
		if (row->expires_us > 0 && row->expires_us <= now)
			continue;
		json_array_add_element(items, aiq_enrollment_token_to_json(row));
	}
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_api_page(items, NULL));
}

static void
aiq_route_delete_enrollment_token(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	if (!aiq_store_revoke_token(aiq_server_get_store(aiq_request_get_server(req)),
				    aiq_request_get_tenant_id(req),
				    aiq_request_get_param(req, "id"),
				    AIQ_TOKEN_KIND_ENROLLMENT,
				    &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_respond_json(req, SOUP_STATUS_NO_CONTENT, NULL);
}

/* enrollment */

static void
aiq_route_enroll(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqServerConfig *config = aiq_server_get_config(server);
	AiqAuth *auth = aiq_server_get_auth(server);
	const gchar *const known[] = { "token", "name", "labels", "version", "capacity", NULL };
	const gchar *address = aiq_request_get_remote_address(req);
	g_autofree gchar *account = g_strdup_printf("enroll/%s", address);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(AiqAgentRow) agent = g_new0(AiqAgentRow, 1);
	g_autoptr(AiqTokenRow) credential = g_new0(AiqTokenRow, 1);
	g_autofree gchar *tenant_id = NULL;
	g_autofree gchar *secret = NULL;
	JsonObject *obj;
	JsonObject *reply;
	const gchar *token;
	const gchar *name;
	const gchar *version;
	AiqTokenKind kind;
	guint8 hash[32];
	gint64 capacity = 1;
	gint64 retry_after = 0;
	gint64 now = aiq_server_now(server);
	gint64 max_agents = 0;
	gint64 used = 0;
	AiqLimits limits;

	/* throttled per source address: a guessing client waits, others not */
	if (!aiq_auth_login_allowed(auth, account, address, &retry_after)) {
		g_autofree gchar *value = g_strdup_printf("%" G_GINT64_FORMAT, retry_after);
		aiq_request_set_header(req, "Retry-After", value);
		aiq_request_respond_error(req,
					  429,
					  "rate_limited",
					  _("too many failed enrollments; try again later"),
					  NULL);
		return;
	}
	obj = aiq_api_read_body(req, known, &body, &error);
	if (obj == NULL || (token = aiq_api_get_string(obj, "token", TRUE, &error)) == NULL ||
	    !aiq_agent_get_name(obj, TRUE, &name, &error) ||
	    !aiq_agent_get_version(obj, &version, &error) ||
	    !aiq_api_get_int(obj, "capacity", 0, AIQ_AGENT_CAPACITY_MAX, &capacity, &error))
		goto fail;
	agent->labels = aiq_api_get_strv(obj, "labels", &error);
	if (error != NULL || !aiq_check_labels(agent->labels, "labels", &error))
		goto fail;

	if (!aiq_auth_token_parse(token, &kind, &tenant_id, hash, &error) ||
	    kind != AIQ_TOKEN_KIND_ENROLLMENT) {
		g_clear_error(&error);
		g_set_error_literal(&error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the enrollment token is not valid"));
		aiq_auth_login_failed(auth, account, address);
		goto fail;
	}
	agent->tenant_id = g_strdup(tenant_id);
	agent->id = aiq_id_new();
	agent->name = g_strdup(name);
	agent->version = g_strdup(version);
	agent->capacity = (gint)capacity;
	agent->status = g_strdup("active");
	agent->created_us = now;
	credential->tenant_id = g_strdup(tenant_id);
	credential->id = aiq_id_new();
	credential->kind = AIQ_TOKEN_KIND_AGENT;
	credential->subject_id = g_strdup(agent->id);
	credential->created_us = now;
	secret = aiq_auth_token_generate(AIQ_TOKEN_KIND_AGENT, tenant_id, credential->hash);
	/* the quota of agents: counted in the enrollment's own write. A
	 * tenant that is not there has no limits; the store refuses its token */
	if (aiq_governance_get_limits(aiq_governance_get(server), tenant_id, &limits, &error))
		max_agents = limits.values[AIQ_LIMIT_AGENTS];
	else if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND))
		g_clear_error(&error);
	else
		goto fail;
	if (!aiq_store_enroll_agent(aiq_server_get_store(server),
				    tenant_id,
				    hash,
				    agent,
				    credential,
				    now,
				    max_agents,
				    &used,
				    &error)) {
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED))
			aiq_auth_login_failed(auth, account, address);
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_QUOTA_EXCEEDED)) {
			/* a valid token: the tenant's log has the refusal */
			aiq_request_set_audit_tenant(req, tenant_id);
			aiq_governance_respond_quota(req, AIQ_LIMIT_AGENTS, max_agents, used);
			return;
		}
		goto fail;
	}
	aiq_auth_login_succeeded(auth, account, address);
	/* only a valid token names the tenant whose log records it */
	aiq_request_set_audit_tenant(req, tenant_id);
	aiq_request_set_audit_actor(req, "agent", agent->id, agent->name);
	aiq_request_set_audit_target(req, "agent", agent->id);
	g_info("agent %s (%s) enrolled in tenant %s", agent->id, agent->name, tenant_id);
	/* the store took @agent as it is */
	aiq_agents_publish(server, tenant_id, agent->id, agent);

	reply = json_object_new();
	json_object_set_string_member(reply, "agent_id", agent->id);
	json_object_set_string_member(reply, "tenant_id", tenant_id);
	json_object_set_string_member(reply, "credential", secret);
	json_object_set_string_member(reply, "name", agent->name);
	json_object_set_member(reply, "labels", aiq_api_strv_node(agent->labels));
	json_object_set_int_member(reply, "lease_ttl_ms", config->lease_ttl_us / 1000);
	json_object_set_int_member(reply, "heartbeat_ms", config->lease_ttl_us / 3000);
	json_object_set_int_member(reply, "long_poll_ms", config->long_poll_us / 1000);
	aiq_request_respond_json(req, SOUP_STATUS_CREATED, aiq_json_new_object(reply));
	return;
fail:
	if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED))
		aiq_request_set_header(req, "WWW-Authenticate", "Bearer");
	aiq_request_respond_gerror(req, error);
}

/* the agents of a tenant */

static void
aiq_route_list_agents(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autofree gchar *next = NULL;
	guint limit = AIQ_API_DEFAULT_LIMIT;
	gint64 now = aiq_server_now(server);
	gint64 offline = aiq_server_get_config(server)->agent_offline_us;
	JsonArray *items;

	if (!aiq_request_get_limit(req, &limit, &error) ||
	    (rows = aiq_store_list_agents(aiq_server_get_store(server),
					  aiq_request_get_tenant_id(req),
					  aiq_request_get_query(req, "cursor"),
					  limit,
					  &next,
					  &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	items = json_array_sized_new(rows->len);
	for (guint i = 0; i < rows->len; i++)
		json_array_add_element(
			items,
			aiq_agent_row_to_json(g_ptr_array_index(rows, i), now, offline));
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_api_page(items, next));
}

static void
aiq_route_get_agent(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqAgentRow) row = aiq_store_get_agent(aiq_server_get_store(server),
							 aiq_request_get_tenant_id(req),
							 aiq_request_get_param(req, "id"),
							 &error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_agents_to_json(server, row));
}

/* disabled or deleted: no more leases, the credential fails at once, the
 * jobs it held go back to the queue */
static void
aiq_route_disable_or_delete(AiqRequest *req, gboolean remove)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqStore *store = aiq_server_get_store(server);
	AiqPrincipal *principal = aiq_request_get_principal(req);
	const gchar *tenant_id = aiq_request_get_tenant_id(req);
	const gchar *id = aiq_request_get_param(req, "id");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) leased = NULL;
	g_autoptr(AiqAgentRow) row = NULL;
	AiqAgentScope scope = {
		.tenant_id = tenant_id,
		.agent_id = id,
		.platform = aiq_agent_is_platform(principal),
	};

	if (!aiq_store_disable_agent(store, tenant_id, id, remove, &leased, &error) ||
	    !aiq_store_revoke_tokens_of(store, tenant_id, id, AIQ_TOKEN_KIND_AGENT, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_auth_invalidate(aiq_server_get_auth(server));
	if (!aiq_queue_take_back(aiq_queue_get(server), &scope, leased, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	g_info("agent %s %s", id, remove ? "deleted" : "disabled");
	if (remove) {
		aiq_agents_publish(server, tenant_id, id, NULL);
		aiq_request_respond_json(req, SOUP_STATUS_NO_CONTENT, NULL);
		return;
	}
	/* read once, for the event and the answer */
	row = aiq_store_get_agent(store, tenant_id, id, &error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_agents_publish(server, tenant_id, id, row);
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_agents_to_json(server, row));
}

static void
aiq_route_disable_agent(AiqRequest *req)
{
	aiq_route_disable_or_delete(req, FALSE);
}

static void
aiq_route_delete_agent(AiqRequest *req)
{
	aiq_route_disable_or_delete(req, TRUE);
}

/* the agent protocol */

static void
aiq_route_lease(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqPrincipal *principal = aiq_request_get_principal(req);
	const gchar *const known[] = { "capacity", "labels", "wait_ms", NULL };
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(AiqAgentRow) agent = NULL;
	g_auto(GStrv) labels = NULL;
	JsonObject *obj;
	gint64 capacity = 1;
	gint64 wait_ms = 0;
	AiqAgentScope scope = {
		.tenant_id = principal->tenant_id,
		.agent_id = principal->subject_id,
		.platform = aiq_agent_is_platform(principal),
	};

	agent = aiq_store_get_agent(aiq_server_get_store(server),
				    principal->tenant_id,
				    principal->subject_id,
				    &error);
	if (agent == NULL)
		goto fail;
	/* by default, as many as it said it runs at once */
	capacity = MAX(agent->capacity, 1);
	obj = aiq_api_read_body(req, known, &body, &error);
	if (obj == NULL ||
	    !aiq_api_get_int(obj, "capacity", 0, AIQ_AGENT_CAPACITY_MAX, &capacity, &error) ||
	    !aiq_api_get_int(obj, "wait_ms", 0, G_MAXINT32, &wait_ms, &error))
		goto fail;
	labels = aiq_api_get_strv(obj, "labels", &error);
	if (error != NULL || !aiq_check_labels(labels, "labels", &error))
		goto fail;
	/* labels in the request narrow those it enrolled with, never widen
	 * them: an enrollment token may pin an agent's labels */
	for (guint i = 0; labels != NULL && labels[i] != NULL; i++) {
		if (agent->labels == NULL ||
		    !g_strv_contains((const gchar *const *)agent->labels, labels[i])) {
			g_set_error(&error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("labels[%u]: “%s” is not one of this agent's labels"),
				    i,
				    labels[i]);
			goto fail;
		}
	}
	if (labels == NULL)
		labels = g_steal_pointer(&agent->labels);
	scope.labels = labels;
	aiq_queue_lease(aiq_queue_get(server), req, &scope, (guint)capacity, wait_ms);
	return;
fail:
	aiq_request_respond_gerror(req, error);
	aiq_request_finish(req);
}

static gboolean
aiq_get_execution_ids(JsonObject *obj, const gchar *member, gchar ***ids, GError **error)
{
	g_auto(GStrv) strv = aiq_api_get_strv(obj, member, error);
	guint n;
	if (strv == NULL)
		return error == NULL || *error == NULL;
	n = g_strv_length(strv);
	if (n > AIQ_HEARTBEAT_RUNNING_MAX) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("%s: at most %u executions"),
			    member,
			    (guint)AIQ_HEARTBEAT_RUNNING_MAX);
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		if (!aiq_id_is_valid(strv[i])) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("%s[%u]: expected an execution id"),
				    member,
				    i);
			return FALSE;
		}
	}
	*ids = g_steal_pointer(&strv);
	return TRUE;
}

static void
aiq_route_heartbeat(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqPrincipal *principal = aiq_request_get_principal(req);
	const gchar *const known[] = { "running", "capacity", "version", NULL };
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_auto(GStrv) running = NULL;
	JsonNode *reply = NULL;
	JsonObject *obj;
	const gchar *version;
	gint64 capacity = -1;
	AiqAgentScope scope = {
		.tenant_id = principal->tenant_id,
		.agent_id = principal->subject_id,
		.platform = aiq_agent_is_platform(principal),
	};

	obj = aiq_api_read_body(req, known, &body, &error);
	if (obj == NULL || !aiq_get_execution_ids(obj, "running", &running, &error) ||
	    !aiq_api_get_int(obj, "capacity", 0, AIQ_AGENT_CAPACITY_MAX, &capacity, &error) ||
	    !aiq_agent_get_version(obj, &version, &error))
		goto fail;
	if (!aiq_queue_heartbeat(aiq_queue_get(server),
				 &scope,
				 running,
				 (gint)capacity,
				 version,
				 &reply,
				 &error))
		goto fail;
	aiq_request_respond_json(req, SOUP_STATUS_OK, reply);
	return;
fail:
	aiq_request_respond_gerror(req, error);
}

/* the status each kind of event may carry */
static gboolean
aiq_event_check(AiqEvent *event, GError **error)
{
	static const gchar *const step_finished[] = { "succeeded", "failed", "cancelled", NULL };
	static const gchar *const step_skipped[] = { "skipped", "cancelled", NULL };
	static const gchar *const attempt[] = { "failed", "timed_out", "cancelled", NULL };
	static const gchar *const item[] = { "succeeded",
					     "failed",
					     "timed_out",
					     "cancelled",
					     NULL };
	static const gchar *const execution[] = { "succeeded",
						  "failed",
						  "cancelled",
						  "timed_out",
						  NULL };
	const gchar *const *statuses = NULL;

	switch (event->type) {
	case AIQ_EVENT_STEP_FINISHED:
		statuses = step_finished;
		break;
	case AIQ_EVENT_STEP_SKIPPED:
		statuses = step_skipped;
		break;
	case AIQ_EVENT_ATTEMPT_FINISHED:
		statuses = attempt;
		break;
	case AIQ_EVENT_ITEM_FINISHED:
		statuses = item;
		break;
	case AIQ_EVENT_EXECUTION_FINISHED:
		statuses = execution;
		break;
	default:
		break;
	}
	if (event->type >= AIQ_EVENT_STEP_STARTED && event->type <= AIQ_EVENT_STEP_SKIPPED &&
	    event->step_id == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("step: required for step events"));
		return FALSE;
	}
	if (statuses != NULL &&
	    (event->status == NULL || !g_strv_contains(statuses, event->status))) {
		g_autofree gchar *list = g_strjoinv(", ", (gchar **)statuses);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("status: one of %s for %s"),
			    list,
			    aiq_event_type_to_string(event->type));
		return FALSE;
	}
	return TRUE;
}

static void
aiq_add_rejected(JsonArray *rejected, JsonNode *node, const gchar *reason)
{
	JsonObject *obj = json_object_new();
	JsonObject *src =
		node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
	const gchar *execution_id = aiq_json_object_get_string(src, "execution_id");
	gint64 seq = aiq_json_object_get_int(src, "seq", -1);
	if (execution_id != NULL)
		json_object_set_string_member(obj, "execution_id", execution_id);
	else
		json_object_set_null_member(obj, "execution_id");
	if (seq >= 0)
		json_object_set_int_member(obj, "seq", seq);
	else
		json_object_set_null_member(obj, "seq");
	json_object_set_string_member(obj, "reason", reason);
	json_array_add_object_element(rejected, obj);
}

static gint
aiq_event_compare_seq(gconstpointer a, gconstpointer b)
{
	const AiqEvent *x = *(AiqEvent *const *)a;
	const AiqEvent *y = *(AiqEvent *const *)b;
	return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/* the tenant of a cloud worker's execution: the queue knows those leased
 * now; one finished a while ago (a replayed batch) is looked for in the
 * store */
static gchar *
aiq_find_execution_tenant(AiqServer *server, const gchar *execution_id)
{
	AiqStore *store = aiq_server_get_store(server);
	g_autofree gchar *cursor = NULL;
	gchar *tenant_id = aiq_queue_lookup_tenant(aiq_queue_get(server), execution_id);
	if (tenant_id != NULL)
		return tenant_id;
	do {
		g_autofree gchar *next = NULL;
		g_autoptr(GPtrArray) tenants =
			aiq_store_list_tenants(store, cursor, 500, &next, NULL);
		if (tenants == NULL)
			return NULL;
		for (guint i = 0; i < tenants->len; i++) {
			AiqTenant *tenant = g_ptr_array_index(tenants, i);
			g_autoptr(AiqExecutionRow) row =
				aiq_store_get_execution(store, tenant->id, execution_id, NULL);
			if (row != NULL)
				return g_strdup(tenant->id);
		}
		g_free(cursor);
		cursor = g_steal_pointer(&next);
	} while (cursor != NULL);
	return NULL;
}

static void
aiq_publish_ingested(AiqServer *server, AiqIngestGroup *group)
{
	/* the hot path of ingest: no events made for nobody */
	if (!aiq_broker_has_subscribers(server, group->tenant_id))
		return;
	if (group->after != NULL) {
		g_autoptr(JsonNode) summary = aiq_execution_row_to_json(group->after, NULL);
		aiq_broker_publish(server, group->tenant_id, "execution.updated", summary);
	}
	for (guint i = 0; group->steps != NULL && i < group->steps->len; i++) {
		AiqStepRow *step = g_ptr_array_index(group->steps, i);
		g_autoptr(JsonNode) node = aiq_step_row_to_json(step);
		JsonObject *obj = json_node_get_object(node);
		/* the output can be large; who wants it reads the execution */
		json_object_remove_member(obj, "output");
		json_object_remove_member(obj, "attempts");
		json_object_set_string_member(obj, "execution_id", group->execution_id);
		json_object_set_string_member(obj, "step_id", step->step_id);
		aiq_broker_publish(server, group->tenant_id, "step.updated", node);
	}
}

static void
aiq_route_events(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqPrincipal *principal = aiq_request_get_principal(req);
	const gchar *const known[] = { "events", NULL };
	gboolean platform = aiq_agent_is_platform(principal);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(GHashTable) by_execution =
		g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
	g_autoptr(GPtrArray) groups =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_ingest_group_free);
	JsonArray *events;
	JsonArray *rejected;
	JsonObject *acks;
	JsonObject *obj;
	JsonObject *reply;
	guint n_ingested = 0;

	obj = aiq_api_read_body(req, known, &body, &error);
	if (obj == NULL)
		goto fail;
	events = aiq_json_object_get_array(obj, "events");
	if (events == NULL) {
		g_set_error_literal(&error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("events: required, a list of events"));
		goto fail;
	}
	if (json_array_get_length(events) > AIQ_EVENTS_BATCH_MAX) {
		g_set_error(&error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("events: at most %u in a batch"),
			    (guint)AIQ_EVENTS_BATCH_MAX);
		goto fail;
	}

	/* each event on its own: a bad one is refused, the others go on */
	rejected = json_array_new();
	for (guint i = 0; i < json_array_get_length(events); i++) {
		JsonNode *node = json_array_get_element(events, i);
		g_autoptr(GError) error_local = NULL;
		g_autoptr(AiqEvent) event = aiq_event_new_from_json(node, &error_local);
		AiqIngestGroup *group;
		if (event == NULL || !aiq_event_check(event, &error_local)) {
			aiq_add_rejected(rejected, node, error_local->message);
			continue;
		}
		group = g_hash_table_lookup(by_execution, event->execution_id);
		if (group == NULL) {
			group = g_new0(AiqIngestGroup, 1);
			group->execution_id = g_strdup(event->execution_id);
			group->events =
				g_ptr_array_new_with_free_func((GDestroyNotify)aiq_event_unref);
			g_hash_table_insert(by_execution, group->execution_id, group);
			g_ptr_array_add(groups, group);
		}
		g_ptr_array_add(group->events, g_steal_pointer(&event));
	}
	/* the tenant of each execution: the agent's, or for a cloud worker the
	 * one whose job it holds */
	for (guint i = 0; i < groups->len; i++) {
		AiqIngestGroup *group = g_ptr_array_index(groups, i);
		g_ptr_array_sort(group->events, aiq_event_compare_seq);
		/* serialised here, on a worker, not on the store's one writer */
		group->data = g_ptr_array_new_full(group->events->len, g_free);
		for (guint j = 0; j < group->events->len; j++) {
			AiqEvent *event = g_ptr_array_index(group->events, j);
			g_ptr_array_add(group->data,
					event->data != NULL ? aiq_json_to_string(event->data, FALSE)
							    : NULL);
		}
		group->tenant_id = platform ? aiq_find_execution_tenant(server, group->execution_id)
					    : g_strdup(principal->tenant_id);
		if (group->tenant_id == NULL)
			group->reason = g_strdup(_("no such execution"));
	}
	{
		g_autoptr(GPtrArray) known_groups = g_ptr_array_new();
		for (guint i = 0; i < groups->len; i++) {
			AiqIngestGroup *group = g_ptr_array_index(groups, i);
			if (group->reason == NULL)
				g_ptr_array_add(known_groups, group);
		}
		if (!aiq_store_ingest_events(aiq_server_get_store(server),
					     principal->subject_id,
					     known_groups,
					     &error)) {
			json_array_unref(rejected);
			g_prefix_error(&error, _("failed to store events: "));
			goto fail;
		}
	}

	acks = json_object_new();
	for (guint i = 0; i < groups->len; i++) {
		AiqIngestGroup *group = g_ptr_array_index(groups, i);
		if (group->reason != NULL) {
			for (guint j = 0; j < group->events->len; j++) {
				g_autoptr(JsonNode) node =
					aiq_event_to_json(g_ptr_array_index(group->events, j));
				aiq_add_rejected(rejected, node, group->reason);
			}
			continue;
		}
		n_ingested += group->events->len;
		json_object_set_int_member(acks, group->execution_id, group->last_seq);
		if (group->finished)
			aiq_queue_finished(aiq_queue_get(server), group->execution_id);
		aiq_publish_ingested(server, group);
	}
	aiq_metrics_add_events_ingested(aiq_metrics_get(server), n_ingested);
	reply = json_object_new();
	json_object_set_object_member(reply, "acks", acks);
	json_object_set_array_member(reply, "rejected", rejected);
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(reply));
	return;
fail:
	aiq_request_respond_gerror(req, error);
}

static const AiqRoute aiq_agent_routes[] = {
	{ "POST",
	  "/api/v1/enrollment-tokens",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_create_enrollment_token,
	  0,
	  "make a one-time enrollment token",
	  "enrollment_token.create" },
	{ "GET",
	  "/api/v1/enrollment-tokens",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_list_enrollment_tokens,
	  0,
	  "unused enrollment tokens" },
	{ "DELETE",
	  "/api/v1/enrollment-tokens/{id}",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_delete_enrollment_token,
	  0,
	  "revoke an enrollment token",
	  "enrollment_token.revoke" },
	{ "POST",
	  "/api/v1/agents/enroll",
	  AIQ_ROLE_NONE,
	  AIQ_ROUTE_WORKER,
	  aiq_route_enroll,
	  0,
	  "trade an enrollment token for an agent credential",
	  "agent.enroll",
	  AIQ_ROUTE_LIMIT_ADDRESS },
	{ "GET",
	  "/api/v1/agents",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_list_agents,
	  0,
	  "list agents" },
	{ "GET",
	  "/api/v1/agents/{id}",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_get_agent,
	  0,
	  "an agent" },
	{ "POST",
	  "/api/v1/agents/{id}/disable",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_disable_agent,
	  0,
	  "disable an agent",
	  "agent.disable" },
	{ "DELETE",
	  "/api/v1/agents/{id}",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_delete_agent,
	  0,
	  "delete an agent",
	  "agent.delete" },
	{ "POST",
	  "/api/v1/agent/lease",
	  AIQ_ROLE_AGENT,
	  AIQ_ROUTE_ASYNC,
	  aiq_route_lease,
	  0,
	  "lease jobs (long-poll)" },
	{ "POST",
	  "/api/v1/agent/heartbeat",
	  AIQ_ROLE_AGENT,
	  AIQ_ROUTE_WORKER,
	  aiq_route_heartbeat,
	  0,
	  "renew leases, learn of cancellations" },
	{ "POST",
	  "/api/v1/agent/events",
	  AIQ_ROLE_AGENT,
	  AIQ_ROUTE_WORKER,
	  aiq_route_events,
	  AIQ_EVENTS_BODY_MAX,
	  "sync execution events" },
};

void
aiq_routes_agents_register(AiqServer *server)
{
	aiq_server_add_routes(server, aiq_agent_routes, G_N_ELEMENTS(aiq_agent_routes));
}
