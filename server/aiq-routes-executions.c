/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Executions: starting them (for every trigger), reading, listing,
 * cancelling, retrying and re-running them, their events, and their
 * statistics for dashboards.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-api.h"
#include "aiq-broker.h"
#include "aiq-error.h"
#include "aiq-executions.h"
#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-queue.h"
#include "aiq-retention.h"
#include "aiq-routes.h"
#include "aiq-store-executions.h"
#include "aiq-store-workflows.h"
#include "aiq-util.h"

#define AIQ_IDEMPOTENCY_KEY_MAX 255
#define AIQ_EVENTS_PAGE_MAX 1000
/* statistics: the longest period, the most buckets, the busiest workflows */
#define AIQ_STATS_PERIOD_MAX_DAYS 366
#define AIQ_STATS_BUCKETS_MAX 2000
#define AIQ_STATS_WORKFLOWS_MAX 50

static const gchar *const aiq_execution_statuses[] = { "queued", "running",   "succeeded",
						       "failed", "cancelled", "timed_out",
						       NULL };
static const gchar *const aiq_execution_triggers[] = { "manual",  "api",      "schedule",
						       "webhook", "workflow", NULL };

/* JSON with object members sorted: equal values give equal text */
static void
aiq_json_append_canonical(GString *str, JsonNode *node)
{
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *obj = json_node_get_object(node);
		g_autoptr(GList) members =
			g_list_sort(json_object_get_members(obj), (GCompareFunc)g_strcmp0);
		g_string_append_c(str, '{');
		for (GList *l = members; l != NULL; l = l->next) {
			g_autoptr(JsonNode) key = aiq_json_new_string(l->data);
			if (l != members)
				g_string_append_c(str, ',');
			aiq_json_append(str, key);
			g_string_append_c(str, ':');
			aiq_json_append_canonical(str, json_object_get_member(obj, l->data));
		}
		g_string_append_c(str, '}');
	} else if (node != NULL && JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		g_string_append_c(str, '[');
		for (guint i = 0; i < json_array_get_length(array); i++) {
			if (i > 0)
				g_string_append_c(str, ',');
			aiq_json_append_canonical(str, json_array_get_element(array, i));
		}
		g_string_append_c(str, ']');
	} else if (node != NULL) {
		aiq_json_append(str, node);
	} else {
		g_string_append(str, "null");
	}
}

/* what makes two starts with one idempotency key the same request */
static gchar *
aiq_start_request_digest(const AiqStartRequest *request)
{
	g_autoptr(GString) str = g_string_new(NULL);
	g_autoptr(JsonNode) inputs = NULL;
	if (request->inputs != NULL)
		inputs = aiq_json_new_object(json_object_ref(request->inputs));
	g_string_append_printf(str,
			       "%s\n%d\n%s\n%s\n",
			       request->workflow_id,
			       request->version,
			       request->trigger,
			       request->retry_of != NULL ? request->retry_of : "");
	aiq_json_append_canonical(str, inputs);
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, str->str, (gssize)str->len);
}

static void
aiq_executions_publish(AiqServer *server, AiqExecutionRow *row)
{
	g_autoptr(JsonNode) summary = NULL;
	if (!aiq_broker_has_subscribers(server, row->tenant_id))
		return;
	summary = aiq_execution_row_to_json(row, NULL);
	aiq_broker_publish(server, row->tenant_id, "execution.updated", summary);
}

/* the execution, as the API shows it, with its steps */
static JsonNode *
aiq_executions_to_json(AiqStore *store, AiqExecutionRow *execution, GError **error)
{
	g_autoptr(GPtrArray) steps =
		aiq_store_list_execution_steps(store, execution->tenant_id, execution->id, error);
	if (steps == NULL)
		return NULL;
	return aiq_execution_row_to_json(execution, steps);
}

/* the tenant's quotas of starts now. The concurrency quota at its largest
 * is no bound, and the store does not count for it: the count costs a scan
 * of the tenant's unfinished executions, which only a quota needs */
static gboolean
aiq_executions_get_quota(AiqServer *server,
			 const gchar *tenant_id,
			 gint64 now,
			 AiqExecutionQuota *quota,
			 GError **error)
{
	AiqLimits limits;
	if (!aiq_governance_get_limits(aiq_governance_get(server), tenant_id, &limits, error))
		return FALSE;
	/* the UTC day of the server's clock */
	quota->day = now / G_TIME_SPAN_DAY;
	quota->per_day = limits.values[AIQ_LIMIT_EXECUTIONS_PER_DAY];
	quota->concurrent = limits.values[AIQ_LIMIT_CONCURRENT_EXECUTIONS];
	if (quota->concurrent >= aiq_limit_max(AIQ_LIMIT_CONCURRENT_EXECUTIONS))
		quota->concurrent = 0;
	return TRUE;
}

/**
 * aiq_executions_start:
 *
 * Loads the workflow (AIQ_ERROR_NOT_FOUND when missing or deleted,
 * AIQ_ERROR_CONFLICT when disabled), checks the inputs against the version
 * (AIQ_ERROR_INVALID_INPUT), then stores the execution, its job and its
 * steps in one write, with the quotas of the tenant's executions checked
 * and its day's count taken in the same write (AIQ_ERROR_QUOTA_EXCEEDED),
 * queues the job and wakes agents.
 */
JsonNode *
aiq_executions_start(AiqServer *server,
		     const AiqStartRequest *request,
		     gboolean *existing,
		     GError **error)
{
	AiqStore *store = aiq_server_get_store(server);
	AiqQueue *queue = aiq_queue_get(server);
	g_autoptr(AiqWorkflowRow) workflow = NULL;
	g_autoptr(AiqDefinition) definition = NULL;
	g_autoptr(JsonObject) inputs = NULL;
	g_autoptr(AiqExecutionRow) execution = NULL;
	g_autoptr(AiqJobRow) job = NULL;
	g_autoptr(GPtrArray) step_ids = NULL;
	g_autoptr(GPtrArray) steps = NULL;
	g_autofree gchar *existing_id = NULL;
	g_autoptr(GError) error_local = NULL;
	gint64 now = aiq_server_now(server);
	AiqExecutionQuota quota = { 0 };
	gint version;
	guint n_steps;

	g_return_val_if_fail(AIQ_IS_SERVER(server), NULL);
	g_return_val_if_fail(request->tenant_id != NULL && request->workflow_id != NULL, NULL);
	g_return_val_if_fail(request->trigger != NULL, NULL);

	if (existing != NULL)
		*existing = FALSE;
	workflow = aiq_store_get_workflow(store, request->tenant_id, request->workflow_id, error);
	if (workflow == NULL)
		return NULL;
	if (!workflow->enabled) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFLICT,
			    _("the workflow “%s” is disabled; enable it to start executions"),
			    workflow->name);
		return NULL;
	}
	version = request->version > 0 ? request->version : workflow->latest_version;
	definition =
		aiq_queue_get_definition(queue, request->tenant_id, workflow->id, version, error);
	if (definition == NULL)
		return NULL;
	inputs = aiq_definition_resolve_inputs(definition, request->inputs, error);
	if (inputs == NULL)
		return NULL;
	if (!aiq_executions_get_quota(server, request->tenant_id, now, &quota, error))
		return NULL;

	execution = g_new0(AiqExecutionRow, 1);
	execution->tenant_id = g_strdup(request->tenant_id);
	execution->id = aiq_id_new();
	execution->workflow_id = g_strdup(workflow->id);
	execution->workflow_name = g_strdup(workflow->name);
	execution->version = version;
	execution->status = g_strdup("queued");
	execution->trigger = g_strdup(request->trigger);
	execution->inputs = aiq_json_new_object(g_steal_pointer(&inputs));
	execution->retry_of = g_strdup(request->retry_of);
	execution->created_us = now;
	if (request->idempotency_key != NULL) {
		execution->idempotency_key = g_strdup(request->idempotency_key);
		execution->request_digest = aiq_start_request_digest(request);
	}

	job = g_new0(AiqJobRow, 1);
	job->tenant_id = g_strdup(request->tenant_id);
	job->id = aiq_id_new();
	job->execution_id = g_strdup(execution->id);
	job->labels = g_strdupv((gchar **)aiq_definition_get_labels(definition));
	job->tier_rank = aiq_queue_get_tier_rank(queue, request->tenant_id);
	job->state = g_strdup("queued");
	job->enqueued_us = now;
	if (request->completed != NULL)
		job->completed = aiq_json_new_object(json_object_ref(request->completed));

	n_steps = aiq_definition_get_n_steps(definition);
	step_ids = g_ptr_array_sized_new(n_steps + 1);
	steps = g_ptr_array_new_full(n_steps, (GDestroyNotify)aiq_step_row_free);
	for (guint i = 0; i < n_steps; i++) {
		const AiqStep *step = aiq_definition_get_step(definition, i);
		AiqStepRow *row = g_new0(AiqStepRow, 1);
		row->step_id = g_strdup(step->id);
		row->position = (gint)i;
		row->status = g_strdup("pending");
		g_ptr_array_add(step_ids, step->id);
		g_ptr_array_add(steps, row);
	}
	g_ptr_array_add(step_ids, NULL);

	if (!aiq_store_create_execution(store,
					execution,
					job,
					(const gchar *const *)step_ids->pdata,
					&quota,
					&existing_id,
					&error_local)) {
		if (request->quota != NULL &&
		    g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_QUOTA_EXCEEDED)) {
			request->quota->quota = quota.exceeded;
			request->quota->limit = quota.exceeded == AIQ_LIMIT_EXECUTIONS_PER_DAY
							? quota.per_day
							: quota.concurrent;
			request->quota->used = quota.used;
		}
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	if (existing_id != NULL) {
		if (existing != NULL)
			*existing = TRUE;
		return aiq_executions_get(server, request->tenant_id, existing_id, error);
	}
	aiq_queue_push(queue, job);
	aiq_executions_publish(server, execution);
	return aiq_execution_row_to_json(execution, steps);
}

/**
 * aiq_executions_check_payload:
 * @tenant_id: whose quota
 *
 * The body of a request that starts an execution (its inputs, a webhook's
 * payload) against the tenant's `payload_bytes` quota; over it, @req is
 * answered with 413 `quota_exceeded`.
 *
 * Returns: whether @req may go on
 */
gboolean
aiq_executions_check_payload(AiqRequest *req, const gchar *tenant_id)
{
	AiqServer *server = aiq_request_get_server(req);
	gint64 size = (gint64)g_bytes_get_size(aiq_request_get_body(req));
	g_autoptr(GError) error = NULL;
	AiqLimits limits;

	if (size == 0)
		return TRUE;
	if (!aiq_governance_get_limits(aiq_governance_get(server), tenant_id, &limits, &error)) {
		aiq_request_respond_gerror(req, error);
		return FALSE;
	}
	if (size > limits.values[AIQ_LIMIT_PAYLOAD_BYTES]) {
		aiq_governance_respond_quota(req,
					     AIQ_LIMIT_PAYLOAD_BYTES,
					     limits.values[AIQ_LIMIT_PAYLOAD_BYTES],
					     size);
		return FALSE;
	}
	return TRUE;
}

/**
 * aiq_executions_respond_error:
 * @quota: (nullable): what aiq_executions_start() said of a quota
 *
 * Answers a start that failed: a quota with its `quota_exceeded` answer
 * (which quota, its limit and the use), anything else as usual.
 */
void
aiq_executions_respond_error(AiqRequest *req, const GError *error, const AiqQuotaUse *quota)
{
	if (quota != NULL && g_error_matches(error, AIQ_ERROR, AIQ_ERROR_QUOTA_EXCEEDED)) {
		aiq_governance_respond_quota(req, quota->quota, quota->limit, quota->used);
		return;
	}
	aiq_request_respond_gerror(req, error);
}

JsonNode *
aiq_executions_get(AiqServer *server,
		   const gchar *tenant_id,
		   const gchar *execution_id,
		   GError **error)
{
	AiqStore *store = aiq_server_get_store(server);
	g_autoptr(AiqExecutionRow) execution = NULL;

	g_return_val_if_fail(AIQ_IS_SERVER(server), NULL);
	execution = aiq_store_get_execution(store, tenant_id, execution_id, error);
	if (execution == NULL)
		return NULL;
	return aiq_executions_to_json(store, execution, error);
}

/* handlers */

static const gchar *
aiq_route_trigger(AiqRequest *req)
{
	AiqPrincipal *principal = aiq_request_get_principal(req);
	return principal->kind == AIQ_TOKEN_KIND_API_KEY ? "api" : "manual";
}

static gboolean
aiq_route_idempotency_key(AiqRequest *req, const gchar **key, GError **error)
{
	const gchar *value = aiq_request_get_header(req, "Idempotency-Key");
	*key = NULL;
	if (value == NULL)
		return TRUE;
	if (strlen(value) == 0 || strlen(value) > AIQ_IDEMPOTENCY_KEY_MAX ||
	    !g_utf8_validate(value, -1, NULL)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("Idempotency-Key: use 1 to %u characters"),
			    (guint)AIQ_IDEMPOTENCY_KEY_MAX);
		return FALSE;
	}
	*key = value;
	return TRUE;
}

/* an optional JSON body: %NULL when there is none */
static JsonNode *
aiq_route_optional_body(AiqRequest *req, GError **error)
{
	if (g_bytes_get_size(aiq_request_get_body(req)) == 0)
		return NULL;
	return aiq_request_parse_json(req, error);
}

static gboolean
aiq_route_inputs(JsonNode *body, const gchar *const *known, JsonObject **inputs, GError **error)
{
	JsonObject *obj;
	g_autoptr(GError) error_local = NULL;
	*inputs = NULL;
	if (body == NULL)
		return TRUE;
	obj = aiq_api_body_object(body, error);
	if (obj == NULL || !aiq_api_check_members(obj, known, error))
		return FALSE;
	*inputs = aiq_api_get_object(obj, "inputs", &error_local);
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	return TRUE;
}

static void
aiq_route_respond_started(AiqRequest *req, AiqStartRequest *start)
{
	g_autoptr(GError) error = NULL;
	AiqQuotaUse quota = { 0 };
	gboolean existing = FALSE;
	const gchar *new_id;
	JsonNode *node;

	start->quota = &quota;
	node = aiq_executions_start(aiq_request_get_server(req), start, &existing, &error);
	if (node == NULL) {
		aiq_executions_respond_error(req, error, &quota);
		return;
	}
	/* the audit record of a start names the execution started (the path
	 * names the workflow); a retry's or re-run's names the execution it
	 * came from, and the new one in its details */
	new_id = json_object_get_string_member(json_node_get_object(node), "id");
	if (g_strcmp0(aiq_request_get_param(req, "id"), start->workflow_id) == 0) {
		aiq_request_set_audit_target(req, "execution", new_id);
		aiq_request_add_audit_detail(req,
					     "workflow_id",
					     aiq_json_new_string(start->workflow_id));
	} else {
		aiq_request_add_audit_detail(req, "execution_id", aiq_json_new_string(new_id));
	}
	if (existing)
		aiq_request_add_audit_detail(req,
					     "replayed",
					     json_node_init_boolean(json_node_alloc(), TRUE));
	aiq_request_respond_json(req, existing ? SOUP_STATUS_OK : SOUP_STATUS_CREATED, node);
}

static void
aiq_route_start(AiqRequest *req)
{
	const gchar *const known[] = { "inputs", NULL };
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	AiqStartRequest start = {
		.tenant_id = aiq_request_get_tenant_id(req),
		.workflow_id = aiq_request_get_param(req, "id"),
		.trigger = aiq_route_trigger(req),
	};

	if (!aiq_executions_check_payload(req, start.tenant_id))
		return;
	body = aiq_route_optional_body(req, &error);
	if (error != NULL || !aiq_route_inputs(body, known, &start.inputs, &error) ||
	    !aiq_route_idempotency_key(req, &start.idempotency_key, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_route_respond_started(req, &start);
}

static void
aiq_route_get(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = aiq_executions_get(aiq_request_get_server(req),
					    aiq_request_get_tenant_id(req),
					    aiq_request_get_param(req, "id"),
					    &error);
	if (node == NULL) {
		/* past the hot retention: 410 and where it went */
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND) &&
		    aiq_retention_respond_archived(req,
						   aiq_request_get_tenant_id(req),
						   aiq_request_get_param(req, "id")))
			return;
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_respond_json(req, SOUP_STATUS_OK, node);
}

static gboolean
aiq_route_query_bool(AiqRequest *req, const gchar *name, gboolean *value, GError **error)
{
	const gchar *str = aiq_request_get_query(req, name);
	*value = FALSE;
	if (str == NULL || g_strcmp0(str, "false") == 0)
		return TRUE;
	if (g_strcmp0(str, "true") == 0) {
		*value = TRUE;
		return TRUE;
	}
	g_set_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT, _("%s: true or false"), name);
	return FALSE;
}

/* `offset`, which pages by position instead of by `cursor` */
static gboolean
aiq_route_query_offset(AiqRequest *req, guint *offset, GError **error)
{
	const gchar *str = aiq_request_get_query(req, "offset");
	guint64 value = 0;
	*offset = 0;
	if (str == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(str, 10, 0, G_MAXINT32, &value, NULL)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("offset: a whole number from 0 to %d"),
			    G_MAXINT32);
		return FALSE;
	}
	if (aiq_request_get_query(req, "cursor") != NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("offset: give either offset or cursor, not both"));
		return FALSE;
	}
	*offset = (guint)value;
	return TRUE;
}

static void
aiq_route_list(AiqRequest *req)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autofree gchar *next = NULL;
	AiqExecutionFilter filter = { .workflow_id = aiq_request_get_query(req, "workflow_id") };
	guint limit = AIQ_API_DEFAULT_LIMIT;
	guint offset = 0;
	gboolean count = FALSE;
	gint64 total = 0;
	JsonArray *items;
	JsonNode *page;

	if (!aiq_request_get_limit(req, &limit, &error) ||
	    !aiq_route_query_offset(req, &offset, &error) ||
	    !aiq_route_query_bool(req, "count", &count, &error) ||
	    !aiq_api_query_choice(req, "status", aiq_execution_statuses, &filter.status, &error) ||
	    !aiq_api_query_choice(req,
				  "trigger",
				  aiq_execution_triggers,
				  &filter.trigger,
				  &error) ||
	    !aiq_api_query_time(req, "since", &filter.since_us, &error) ||
	    !aiq_api_query_time(req, "until", &filter.until_us, &error) ||
	    (rows = aiq_store_list_executions(store,
					      aiq_request_get_tenant_id(req),
					      &filter,
					      aiq_request_get_query(req, "cursor"),
					      offset,
					      limit,
					      count ? &total : NULL,
					      &next,
					      &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	items = json_array_sized_new(rows->len);
	for (guint i = 0; i < rows->len; i++)
		json_array_add_element(items,
				       aiq_execution_row_to_json(g_ptr_array_index(rows, i), NULL));
	page = aiq_api_page(items, next);
	if (count)
		json_object_set_int_member(json_node_get_object(page), "total", total);
	aiq_request_respond_json(req, SOUP_STATUS_OK, page);
}

static void
aiq_route_cancel(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqStore *store = aiq_server_get_store(server);
	const gchar *tenant_id = aiq_request_get_tenant_id(req);
	const gchar *id = aiq_request_get_param(req, "id");
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqExecutionRow) row = NULL;
	g_autofree gchar *job_id = NULL;
	AiqCancelOutcome outcome;
	JsonNode *node;

	if (!aiq_store_cancel_execution(store,
					tenant_id,
					id,
					aiq_server_now(server),
					&outcome,
					&job_id,
					&error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	if (outcome == AIQ_CANCEL_DONE && job_id != NULL)
		aiq_queue_remove(aiq_queue_get(server), job_id);
	/* read once, for the event and the answer */
	row = aiq_store_get_execution(store, tenant_id, id, &error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_executions_publish(server, row);
	node = aiq_executions_to_json(store, row, &error);
	if (node == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_respond_json(req, SOUP_STATUS_ACCEPTED, node);
}

/* a new execution of the same version: a retry keeps the outputs of the
 * steps that succeeded, a re-run takes new inputs */
static void
aiq_route_run_again(AiqRequest *req, gboolean retry)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqStore *store = aiq_server_get_store(server);
	const gchar *tenant_id = aiq_request_get_tenant_id(req);
	const gchar *const known[] = { "inputs", NULL };
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqExecutionRow) original = NULL;
	g_autoptr(JsonObject) completed = NULL;
	g_autoptr(JsonNode) body = NULL;
	AiqStartRequest start = {
		.tenant_id = tenant_id,
		.trigger = aiq_route_trigger(req),
	};

	original =
		aiq_store_get_execution(store, tenant_id, aiq_request_get_param(req, "id"), &error);
	if (original == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	start.workflow_id = original->workflow_id;
	start.version = original->version;
	if (original->inputs != NULL && JSON_NODE_HOLDS_OBJECT(original->inputs))
		start.inputs = json_node_get_object(original->inputs);
	if (!aiq_route_idempotency_key(req, &start.idempotency_key, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	if (retry) {
		if (g_strcmp0(original->status, "failed") != 0 &&
		    g_strcmp0(original->status, "cancelled") != 0 &&
		    g_strcmp0(original->status, "timed_out") != 0) {
			g_set_error(&error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFLICT,
				    _("the execution is %s; only a failed, cancelled or timed-out "
				      "execution can be retried"),
				    original->status);
			aiq_request_respond_gerror(req, error);
			return;
		}
		completed = aiq_store_get_completed_outputs(store, tenant_id, original->id, &error);
		if (completed == NULL) {
			aiq_request_respond_gerror(req, error);
			return;
		}
		start.retry_of = original->id;
		start.completed = completed;
	} else {
		JsonObject *inputs = NULL;
		if (!aiq_executions_check_payload(req, tenant_id))
			return;
		body = aiq_route_optional_body(req, &error);
		if (error != NULL || !aiq_route_inputs(body, known, &inputs, &error)) {
			aiq_request_respond_gerror(req, error);
			return;
		}
		if (inputs != NULL)
			start.inputs = inputs;
	}
	aiq_route_respond_started(req, &start);
}

static void
aiq_route_retry(AiqRequest *req)
{
	aiq_route_run_again(req, TRUE);
}

static void
aiq_route_rerun(AiqRequest *req)
{
	aiq_route_run_again(req, FALSE);
}

static void
aiq_route_events(AiqRequest *req)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	const gchar *tenant_id = aiq_request_get_tenant_id(req);
	const gchar *id = aiq_request_get_param(req, "id");
	const gchar *after_str = aiq_request_get_query(req, "after");
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqExecutionRow) execution = NULL;
	g_autoptr(GPtrArray) events = NULL;
	guint64 after = 0;
	guint limit = AIQ_EVENTS_PAGE_MAX;
	JsonObject *obj;
	JsonArray *items;

	if (after_str != NULL &&
	    !g_ascii_string_to_unsigned(after_str, 10, 0, G_MAXINT64, &after, NULL)) {
		g_set_error_literal(&error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("after: a sequence number (0 or more)"));
		aiq_request_respond_gerror(req, error);
		return;
	}
	if (!aiq_request_get_limit(req, &limit, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	execution = aiq_store_get_execution(store, tenant_id, id, &error);
	if (execution == NULL) {
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND) &&
		    aiq_retention_respond_archived(req, tenant_id, id))
			return;
		aiq_request_respond_gerror(req, error);
		return;
	}
	events =
		aiq_store_list_execution_events(store, tenant_id, id, (gint64)after, limit, &error);
	if (events == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	items = json_array_sized_new(events->len);
	for (guint i = 0; i < events->len; i++)
		json_array_add_element(items, aiq_event_to_json(g_ptr_array_index(events, i)));
	obj = json_object_new();
	json_object_set_array_member(obj, "items", items);
	json_object_set_int_member(obj, "last_applied", execution->last_seq);
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(obj));
}

/* statistics */

static void
aiq_stats_set_counts(JsonObject *obj, const guint64 *counts)
{
	for (guint i = 0; i < AIQ_EXECUTION_STATUS_LAST; i++)
		json_object_set_int_member(obj,
					   aiq_execution_status_to_string(i),
					   (gint64)counts[i]);
}

/* succeeded / finished, or null when none finished */
static void
aiq_stats_set_success_rate(JsonObject *obj, const guint64 *counts)
{
	guint64 finished = 0;
	for (guint i = AIQ_EXECUTION_STATUS_SUCCEEDED; i < AIQ_EXECUTION_STATUS_LAST; i++)
		finished += counts[i];
	if (finished == 0)
		json_object_set_null_member(obj, "success_rate");
	else
		json_object_set_double_member(obj,
					      "success_rate",
					      (gdouble)counts[AIQ_EXECUTION_STATUS_SUCCEEDED] /
						      (gdouble)finished);
}

static void
aiq_stats_set_ms(JsonObject *obj, const gchar *member, gint64 us)
{
	if (us < 0)
		json_object_set_null_member(obj, member);
	else
		json_object_set_int_member(obj, member, us / 1000);
}

static JsonNode *
aiq_execution_stats_to_json(AiqExecutionStats *stats, const gchar *bucket_name)
{
	JsonObject *obj = json_object_new();
	JsonObject *counts = json_object_new();
	JsonObject *queue = json_object_new();
	JsonArray *buckets = json_array_sized_new(stats->buckets->len);
	JsonArray *workflows = json_array_sized_new(stats->workflows->len);

	aiq_api_set_time(obj, "from", stats->from_us);
	aiq_api_set_time(obj, "to", stats->to_us);
	json_object_set_string_member(obj, "bucket", bucket_name);
	json_object_set_int_member(obj, "total", (gint64)stats->total);
	aiq_stats_set_counts(counts, stats->counts);
	json_object_set_object_member(obj, "counts", counts);
	aiq_stats_set_success_rate(obj, stats->counts);
	for (guint i = 0; i < stats->buckets->len; i++) {
		AiqStatsBucket *bucket = &g_array_index(stats->buckets, AiqStatsBucket, i);
		JsonObject *item = json_object_new();
		guint64 total = 0;
		for (guint j = 0; j < AIQ_EXECUTION_STATUS_LAST; j++)
			total += bucket->counts[j];
		aiq_api_set_time(item, "start", bucket->start_us);
		aiq_api_set_time(item, "end", bucket->end_us);
		json_object_set_int_member(item, "total", (gint64)total);
		aiq_stats_set_counts(item, bucket->counts);
		json_object_set_int_member(item, "queue_depth", (gint64)bucket->queue_depth);
		json_array_add_object_element(buckets, item);
	}
	json_object_set_array_member(obj, "buckets", buckets);
	for (guint i = 0; i < stats->workflows->len; i++) {
		AiqStatsWorkflow *workflow = g_ptr_array_index(stats->workflows, i);
		JsonObject *item = json_object_new();
		json_object_set_string_member(item, "id", workflow->workflow_id);
		json_object_set_string_member(item, "name", workflow->name);
		json_object_set_int_member(item, "count", (gint64)workflow->total);
		json_object_set_int_member(
			item,
			"succeeded",
			(gint64)workflow->counts[AIQ_EXECUTION_STATUS_SUCCEEDED]);
		json_object_set_int_member(item,
					   "failed",
					   (gint64)workflow->counts[AIQ_EXECUTION_STATUS_FAILED]);
		aiq_stats_set_success_rate(item, workflow->counts);
		aiq_stats_set_ms(item, "p50_ms", workflow->p50_us);
		aiq_stats_set_ms(item, "p95_ms", workflow->p95_us);
		json_array_add_object_element(workflows, item);
	}
	json_object_set_array_member(obj, "workflows", workflows);
	json_object_set_int_member(queue, "queued", (gint64)stats->queued);
	json_object_set_int_member(queue, "running", (gint64)stats->running);
	json_object_set_object_member(obj, "queue", queue);
	return aiq_json_new_object(obj);
}

/* the period and buckets of a stats request, checked and with defaults:
 * hourly, or daily, buckets; to: the end of the current hour (or UTC day);
 * from: 24 hours (or 30 days) before to */
static gboolean
aiq_route_stats_period(AiqRequest *req,
		       const gchar **bucket,
		       gint64 *from_us,
		       gint64 *to_us,
		       gint64 *bucket_us,
		       GError **error)
{
	static const gchar *const buckets[] = { "hour", "day", NULL };
	gint64 n_buckets;

	if (!aiq_api_query_choice(req, "bucket", buckets, bucket, error) ||
	    !aiq_api_query_time(req, "from", from_us, error) ||
	    !aiq_api_query_time(req, "to", to_us, error))
		return FALSE;
	if (*bucket == NULL)
		*bucket = "hour";
	*bucket_us = g_str_equal(*bucket, "day") ? G_TIME_SPAN_DAY : G_TIME_SPAN_HOUR;
	if (*to_us == 0) {
		gint64 now = aiq_server_now(aiq_request_get_server(req));
		*to_us = (now / *bucket_us + 1) * *bucket_us;
	}
	if (*from_us == 0)
		*from_us = *to_us - (*bucket_us == G_TIME_SPAN_DAY ? 30 * G_TIME_SPAN_DAY
								   : 24 * G_TIME_SPAN_HOUR);
	if (*from_us >= *to_us) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("from: must be before to"));
		return FALSE;
	}
	if (*to_us - *from_us > AIQ_STATS_PERIOD_MAX_DAYS * G_TIME_SPAN_DAY) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("from: at most %d days before to"),
			    AIQ_STATS_PERIOD_MAX_DAYS);
		return FALSE;
	}
	n_buckets = (*to_us - *from_us + *bucket_us - 1) / *bucket_us;
	if (n_buckets > AIQ_STATS_BUCKETS_MAX) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("bucket: the period has %u buckets, more than %d; use bucket=day "
			      "or a shorter period"),
			    (guint)n_buckets,
			    AIQ_STATS_BUCKETS_MAX);
		return FALSE;
	}
	return TRUE;
}

static void
aiq_route_stats(AiqRequest *req)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqExecutionStats) stats = NULL;
	const gchar *bucket = NULL;
	gint64 from_us = 0;
	gint64 to_us = 0;
	gint64 bucket_us = 0;

	if (!aiq_route_stats_period(req, &bucket, &from_us, &to_us, &bucket_us, &error) ||
	    (stats = aiq_store_get_execution_stats(store,
						   aiq_request_get_tenant_id(req),
						   from_us,
						   to_us,
						   bucket_us,
						   AIQ_STATS_WORKFLOWS_MAX,
						   &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_execution_stats_to_json(stats, bucket));
}

static const AiqRoute aiq_execution_routes[] = {
	{ "POST",
	  "/api/v1/workflows/{id}/executions",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_start,
	  0,
	  "start an execution",
	  "execution.start" },
	{ "GET",
	  "/api/v1/executions",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_list,
	  0,
	  "list executions" },
	{ "GET",
	  "/api/v1/executions/{id}",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_get,
	  0,
	  "an execution with its steps" },
	{ "POST",
	  "/api/v1/executions/{id}/cancel",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_cancel,
	  0,
	  "cancel an execution",
	  "execution.cancel" },
	{ "POST",
	  "/api/v1/executions/{id}/retry",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_retry,
	  0,
	  "retry from the failed step",
	  "execution.retry" },
	{ "POST",
	  "/api/v1/executions/{id}/rerun",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_rerun,
	  0,
	  "run again with new inputs",
	  "execution.rerun" },
	{ "GET",
	  "/api/v1/executions/{id}/events",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_events,
	  0,
	  "the events of an execution" },
	{ "GET",
	  "/api/v1/stats",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_stats,
	  0,
	  "execution statistics for dashboards" },
};

void
aiq_routes_executions_register(AiqServer *server)
{
	aiq_queue_new(server);
	aiq_server_add_routes(server, aiq_execution_routes, G_N_ELEMENTS(aiq_execution_routes));
}
