/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Quotas over the real server with the tiers' own limits: each refused one
 * over its limit with `quota_exceeded`, which quota, its limit and the use,
 * and nothing half-created; every way an execution starts; idempotent
 * replays; per-tenant overrides; the usage report.
 */

#include "config.h"

#include <string.h>

#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-routes.h"
#include "aiq-store-executions.h"
#include "aiq-store-identity.h"
#include "aiq-store-schedules.h"
#include "aiq-test-agent.h"
#include "aiq-test-server.h"

#define MINUTE ((gint64)60 * G_USEC_PER_SEC)
#define HOUR (60 * MINUTE)

static AiqTestServer *
server_new(const gchar *limits)
{
	AiqTestServerOptions options = { .fake_clock = TRUE,
					 .lasting = TRUE,
					 .real_limits = TRUE,
					 .limits = limits };
	AiqTestServer *ts = aiq_test_server_new(&options);
	/* mid-morning, so that the day's end is not the clock's start */
	ts->now += 9 * HOUR + 30 * MINUTE;
	return ts;
}

/* a workflow of @n_steps transform steps, with an optional input `note`
 * and a webhook trigger */
static gchar *
workflow_yaml(const gchar *name, guint n_steps)
{
	GString *yaml = g_string_new(NULL);
	g_string_append_printf(yaml,
			       "name: %s\n"
			       "triggers:\n"
			       "  - webhook: {}\n"
			       "inputs:\n"
			       "  note: { type: string, default: \"\" }\n"
			       "steps:\n",
			       name);
	for (guint i = 0; i < n_steps; i++)
		g_string_append_printf(yaml,
				       "  - id: s%u\n"
				       "    uses: transform\n"
				       "    with: { value: %u }\n",
				       i,
				       i);
	return g_string_free(yaml, FALSE);
}

static AiqTestResponse *
post_workflow(AiqTestServer *ts, const gchar *token, const gchar *name, guint n_steps)
{
	g_autofree gchar *yaml = workflow_yaml(name, n_steps);
	return aiq_test_request(ts,
				"POST",
				"/api/v1/workflows",
				token,
				"application/yaml",
				yaml,
				-1);
}

static gchar *
create_workflow(AiqTestServer *ts, const gchar *token, const gchar *name, guint n_steps)
{
	g_autoptr(AiqTestResponse) resp = post_workflow(ts, token, name, n_steps);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

/* an answer `quota_exceeded` with exactly this quota, limit and use */
static void
assert_quota(AiqTestResponse *resp, guint status, const gchar *quota, gint64 limit, gint64 used)
{
	const gchar *retry_after = soup_message_headers_get_one(resp->headers, "Retry-After");
	JsonObject *error;
	JsonArray *details;
	JsonObject *detail;

	aiq_test_assert_status(resp, status);
	g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "quota_exceeded");
	error = aiq_json_object_get_object(aiq_test_response_object(resp), "error");
	g_assert_nonnull(strstr(aiq_json_object_get_string(error, "message"), quota));
	details = aiq_json_object_get_array(error, "details");
	g_assert_nonnull(details);
	g_assert_cmpuint(json_array_get_length(details), ==, 1);
	detail = json_array_get_object_element(details, 0);
	g_assert_cmpstr(aiq_json_object_get_string(detail, "quota"), ==, quota);
	g_assert_cmpint(aiq_json_object_get_int(detail, "limit", -1), ==, limit);
	g_assert_cmpint(aiq_json_object_get_int(detail, "used", -1), ==, used);
	if (status == 429) {
		g_assert_nonnull(retry_after);
		g_assert_cmpint(g_ascii_strtoll(retry_after, NULL, 10), >, 0);
	} else {
		g_assert_null(retry_after);
	}
}

/* GET /api/v1/usage, answered 200 */
static AiqTestResponse *
get_usage(AiqTestServer *ts, const gchar *token, const gchar *tenant_id)
{
	g_autofree gchar *path = tenant_id != NULL
					 ? g_strdup_printf("/api/v1/usage?tenant=%s", tenant_id)
					 : g_strdup("/api/v1/usage");
	AiqTestResponse *resp = aiq_test_request(ts, "GET", path, token, NULL, NULL, 0);
	aiq_test_assert_status(resp, 200);
	return resp;
}

static gint64
usage_of(AiqTestServer *ts, const gchar *member)
{
	g_autoptr(AiqTestResponse) resp = get_usage(ts, ts->viewer_token, NULL);
	JsonObject *usage = aiq_json_object_get_object(aiq_test_response_object(resp), "usage");
	g_assert_true(json_object_has_member(usage, member));
	return aiq_json_object_get_int(usage, member, -1);
}

static gint64
limit_of(AiqTestResponse *usage, const gchar *member)
{
	JsonObject *limits = aiq_json_object_get_object(aiq_test_response_object(usage), "limits");
	g_assert_true(json_object_has_member(limits, member));
	return aiq_json_object_get_int(limits, member, -1);
}

/* the tenant's executions, as the API counts them */
static gint64
n_executions(AiqTestServer *ts, const gchar *token)
{
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(ts, "GET", "/api/v1/executions?count=true", token, NULL, NULL, 0);
	aiq_test_assert_status(resp, 200);
	return aiq_json_object_get_int(aiq_test_response_object(resp), "total", -1);
}

/* the tenant's jobs in the store, in any state */
static guint
n_jobs(AiqTestServer *ts, const gchar *tenant_id)
{
	const gchar *const states[] = { "queued", "leased", "done", "cancelled" };
	guint n = 0;
	for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) jobs = aiq_store_list_jobs(aiq_server_get_store(ts->server),
								tenant_id,
								states[i],
								&error);
		g_assert_no_error(error);
		n += jobs->len;
	}
	return n;
}

static AiqTestResponse *
start(AiqTestServer *ts, const gchar *workflow_id, const gchar *key, const gchar *body)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
	g_autofree gchar *url = g_strdup_printf("%s%s", ts->url, path);
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(GBytes) request = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *auth = g_strdup_printf("Bearer %s", ts->editor_token);
	AiqTestResponse *resp;
	gsize len = 0;
	const gchar *data;

	if (key == NULL)
		return aiq_test_request_json(ts,
					     "POST",
					     path,
					     ts->editor_token,
					     body != NULL ? body : "{}");
	msg = soup_message_new("POST", url);
	request = g_bytes_new(body != NULL ? body : "{}", strlen(body != NULL ? body : "{}"));
	soup_message_set_request_body_from_bytes(msg, "application/json", request);
	soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
	soup_message_headers_replace(soup_message_get_request_headers(msg), "Idempotency-Key", key);
	reply = soup_session_send_and_read(ts->session, msg, NULL, &error);
	g_assert_no_error(error);
	data = g_bytes_get_data(reply, &len);
	resp = g_new0(AiqTestResponse, 1);
	resp->status = soup_message_get_status(msg);
	resp->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	resp->body = g_strndup(data, len);
	resp->json = aiq_json_parse(resp->body, len, 64, NULL);
	return resp;
}

static gchar *
start_ok(AiqTestServer *ts, const gchar *workflow_id, const gchar *key)
{
	g_autoptr(AiqTestResponse) resp = start(ts, workflow_id, key, NULL);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

static AiqTestResponse *
post_execution(AiqTestServer *ts, const gchar *id, const gchar *action, const gchar *body)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/%s", id, action);
	return aiq_test_request_json(ts, "POST", path, ts->editor_token, body);
}

/* the path of a workflow's webhook */
static gchar *
hook_path(AiqTestServer *ts, const gchar *workflow_id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/webhook", workflow_id);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(ts, "GET", path, ts->editor_token, NULL, NULL, 0);
	aiq_test_assert_status(resp, 200);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "path"));
}

/* a webhook call: no credentials, the token is in the path */
static AiqTestResponse *
post_hook(AiqTestServer *ts, const gchar *path, const gchar *body)
{
	return aiq_test_request_json(ts, "POST", path, NULL, body);
}

static void
test_workflows(void)
{
	g_autoptr(AiqTestServer) ts = server_new("[tier.standard]\nworkflows=3\n");
	g_autofree gchar *first = NULL;
	g_autofree gchar *path = NULL;

	g_assert_cmpint(usage_of(ts, "workflows"), ==, 0);
	first = create_workflow(ts, ts->editor_token, "w1", 1);
	g_free(create_workflow(ts, ts->editor_token, "w2", 1));
	g_free(create_workflow(ts, ts->editor_token, "w3", 1));
	g_assert_cmpint(usage_of(ts, "workflows"), ==, 3);

	/* the fourth: refused, and not made */
	{
		g_autoptr(AiqTestResponse) resp = post_workflow(ts, ts->editor_token, "w4", 1);
		g_autoptr(AiqTestResponse) listed = NULL;
		assert_quota(resp, 403, "workflows", 3, 3);
		listed = aiq_test_request(ts,
					  "GET",
					  "/api/v1/workflows?name=w4",
					  ts->viewer_token,
					  NULL,
					  NULL,
					  0);
		aiq_test_assert_status(listed, 200);
		g_assert_cmpuint(json_array_get_length(
					 aiq_json_object_get_array(aiq_test_response_object(listed),
								   "items")),
				 ==,
				 0);
	}
	g_assert_cmpint(usage_of(ts, "workflows"), ==, 3);

	/* the other tenant has a count of its own */
	g_free(create_workflow(ts, ts->other_admin_token, "w1", 1));

	/* a deleted workflow no longer counts */
	path = g_strdup_printf("/api/v1/workflows/%s", first);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "DELETE", path, ts->editor_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 204);
	}
	g_assert_cmpint(usage_of(ts, "workflows"), ==, 2);
	g_free(create_workflow(ts, ts->editor_token, "w4", 1));
	{
		g_autoptr(AiqTestResponse) resp = post_workflow(ts, ts->editor_token, "w5", 1);
		assert_quota(resp, 403, "workflows", 3, 3);
	}
}

static guint
n_versions(AiqTestServer *ts, const gchar *workflow_id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/versions", workflow_id);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
	aiq_test_assert_status(resp, 200);
	return json_array_get_length(
		aiq_json_object_get_array(aiq_test_response_object(resp), "items"));
}

static void
test_steps(void)
{
	g_autoptr(AiqTestServer) ts = server_new(NULL);
	AiqStore *store = aiq_server_get_store(ts->server);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) overrides = json_object_new();
	g_autofree gchar *id = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *rollback = NULL;
	g_autofree gchar *four = workflow_yaml("small", 4);

	/* the standard tier allows 50 steps; this tenant now gets 3, as a
	 * platform admin may set */
	g_free(create_workflow(ts, ts->editor_token, "steps", 4));
	json_object_set_int_member(overrides, "steps_per_workflow", 3);
	g_assert_true(aiq_store_set_tenant_limits(store, ts->tenant_id, overrides, &error));
	g_assert_no_error(error);
	aiq_governance_invalidate(aiq_governance_get(ts->server), ts->tenant_id);

	/* created over it: refused, nothing made */
	{
		g_autoptr(AiqTestResponse) resp = post_workflow(ts, ts->editor_token, "big", 4);
		assert_quota(resp, 403, "steps_per_workflow", 3, 4);
	}
	g_assert_cmpint(usage_of(ts, "workflows"), ==, 1);
	{
		g_autoptr(AiqTestResponse) resp = post_workflow(ts, ts->editor_token, "small", 3);
		aiq_test_assert_status(resp, 201);
		id = g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
	}

	/* updated over it: refused, no new version */
	path = g_strdup_printf("/api/v1/workflows/%s", id);
	{
		g_autofree gchar *yaml = workflow_yaml("small", 4);
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "PUT",
								   path,
								   ts->editor_token,
								   "application/yaml",
								   yaml,
								   -1);
		assert_quota(resp, 403, "steps_per_workflow", 3, 4);
	}
	g_assert_cmpuint(n_versions(ts, id), ==, 1);

	/* rolled back to a version over it: refused; within it: fine */
	json_object_set_int_member(overrides, "steps_per_workflow", 4);
	g_assert_true(aiq_store_set_tenant_limits(store, ts->tenant_id, overrides, &error));
	aiq_governance_invalidate(aiq_governance_get(ts->server), ts->tenant_id);
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "PUT",
								   path,
								   ts->editor_token,
								   "application/yaml",
								   four,
								   -1);
		aiq_test_assert_status(resp, 200);
	}
	{
		g_autofree gchar *yaml = workflow_yaml("steps-small", 2);
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "PUT",
								   path,
								   ts->editor_token,
								   "application/yaml",
								   yaml,
								   -1);
		aiq_test_assert_status(resp, 200);
	}
	g_assert_cmpuint(n_versions(ts, id), ==, 3);
	json_object_set_int_member(overrides, "steps_per_workflow", 3);
	g_assert_true(aiq_store_set_tenant_limits(store, ts->tenant_id, overrides, &error));
	aiq_governance_invalidate(aiq_governance_get(ts->server), ts->tenant_id);
	rollback = g_strdup_printf("/api/v1/workflows/%s/rollback", id);
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
									"POST",
									rollback,
									ts->editor_token,
									"{\"version\":2}");
		assert_quota(resp, 403, "steps_per_workflow", 3, 4);
	}
	g_assert_cmpuint(n_versions(ts, id), ==, 3);
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
									"POST",
									rollback,
									ts->editor_token,
									"{\"version\":1}");
		aiq_test_assert_status(resp, 200);
	}
	g_assert_cmpuint(n_versions(ts, id), ==, 4);
}

static void
test_executions_per_day(void)
{
	g_autoptr(AiqTestServer) ts =
		server_new("[tier.standard]\nexecutions-per-day=3\nconcurrent-executions=100\n");
	g_autofree gchar *id = create_workflow(ts, ts->editor_token, "daily", 1);
	g_autofree gchar *hook = hook_path(ts, id);
	g_autofree gchar *first = NULL;
	g_autofree gchar *second = NULL;
	g_autofree gchar *retry_after = NULL;
	g_autoptr(AiqTestResponse) usage = NULL;
	gint64 now_s;

	first = start_ok(ts, id, "key-1");
	second = start_ok(ts, id, NULL);
	/* a cancelled execution still counted for its day */
	{
		g_autoptr(AiqTestResponse) resp = post_execution(ts, first, "cancel", "{}");
		aiq_test_assert_status(resp, 202);
	}
	g_free(start_ok(ts, id, NULL));
	g_assert_cmpint(usage_of(ts, "executions_today"), ==, 3);
	g_assert_cmpint(n_executions(ts, ts->viewer_token), ==, 3);
	g_assert_cmpuint(n_jobs(ts, ts->tenant_id), ==, 3);

	/* every way to start one is refused now, until the next UTC day */
	now_s = ts->now / G_USEC_PER_SEC;
	retry_after = g_strdup_printf("%" G_GINT64_FORMAT, 86400 - now_s % 86400);
	{
		g_autoptr(AiqTestResponse) resp = start(ts, id, NULL, NULL);
		assert_quota(resp, 429, "executions_per_day", 3, 3);
		g_assert_cmpstr(soup_message_headers_get_one(resp->headers, "Retry-After"),
				==,
				retry_after);
	}
	{
		g_autoptr(AiqTestResponse) resp = post_execution(ts, first, "retry", "{}");
		assert_quota(resp, 429, "executions_per_day", 3, 3);
	}
	{
		g_autoptr(AiqTestResponse) resp = post_execution(ts, second, "rerun", "{}");
		assert_quota(resp, 429, "executions_per_day", 3, 3);
	}
	{
		g_autoptr(AiqTestResponse) resp = post_hook(ts, hook, "{\"note\":\"x\"}");
		assert_quota(resp, 429, "executions_per_day", 3, 3);
	}
	/* nothing half-made: no execution, no job, no count */
	g_assert_cmpint(n_executions(ts, ts->viewer_token), ==, 3);
	g_assert_cmpuint(n_jobs(ts, ts->tenant_id), ==, 3);
	g_assert_cmpint(usage_of(ts, "executions_today"), ==, 3);

	/* an idempotent replay is the same execution: neither refused nor
	 * counted again */
	{
		g_autoptr(AiqTestResponse) resp = start(ts, id, "key-1", NULL);
		aiq_test_assert_status(resp, 200);
		g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(resp), "id"),
				==,
				first);
	}
	g_assert_cmpint(usage_of(ts, "executions_today"), ==, 3);

	/* the other tenant starts its own */
	{
		g_autofree gchar *other = create_workflow(ts, ts->other_admin_token, "daily", 1);
		g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/executions", other);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts, "POST", path, ts->other_admin_token, "{}");
		aiq_test_assert_status(resp, 201);
	}

	/* the next UTC day has a count of its own */
	ts->now += (gint64)86400 * G_USEC_PER_SEC;
	usage = get_usage(ts, ts->viewer_token, NULL);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(usage), "day"),
			==,
			"2027-01-02");
	g_assert_cmpint(usage_of(ts, "executions_today"), ==, 0);
	g_free(start_ok(ts, id, NULL));
	g_assert_cmpint(usage_of(ts, "executions_today"), ==, 1);
}

static void
test_concurrent(void)
{
	g_autoptr(AiqTestServer) ts = server_new("[tier.standard]\nconcurrent-executions=2\n");
	g_autofree gchar *id = create_workflow(ts, ts->editor_token, "busy", 1);
	g_autoptr(AiqTestAgent) agent = aiq_test_agent_enroll(ts, ts->admin_token, "a1", NULL);
	g_autofree gchar *first = NULL;
	g_autofree gchar *second = NULL;
	g_autofree gchar *leased = NULL;

	first = start_ok(ts, id, "key-1");
	second = start_ok(ts, id, NULL);
	g_assert_cmpint(usage_of(ts, "concurrent_executions"), ==, 2);
	{
		g_autoptr(AiqTestResponse) resp = start(ts, id, NULL, NULL);
		assert_quota(resp, 429, "concurrent_executions", 2, 2);
	}
	/* nothing half-made */
	g_assert_cmpint(n_executions(ts, ts->viewer_token), ==, 2);
	g_assert_cmpuint(n_jobs(ts, ts->tenant_id), ==, 2);
	g_assert_cmpint(usage_of(ts, "executions_today"), ==, 2);
	/* a replay at the limit is not refused */
	{
		g_autoptr(AiqTestResponse) resp = start(ts, id, "key-1", NULL);
		aiq_test_assert_status(resp, 200);
	}

	/* a running execution still counts; a finished one does not */
	leased = aiq_test_agent_lease_one(agent);
	g_assert_nonnull(leased);
	{
		g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(JsonObject) reply = NULL;
		g_ptr_array_add(
			events,
			aiq_test_event(leased, 1, "execution.created", NULL, 0, NULL, "{}"));
		g_ptr_array_add(
			events,
			aiq_test_event(leased, 2, "execution.started", NULL, 0, NULL, NULL));
		reply = aiq_test_agent_send_events(agent, events, NULL, 0);
		g_assert_nonnull(reply);
	}
	{
		g_autoptr(AiqTestResponse) resp = start(ts, id, NULL, NULL);
		assert_quota(resp, 429, "concurrent_executions", 2, 2);
	}
	{
		g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(JsonObject) reply = NULL;
		g_ptr_array_add(events,
				aiq_test_event(leased,
					       3,
					       "execution.finished",
					       NULL,
					       0,
					       "succeeded",
					       "{\"outputs\":{}}"));
		reply = aiq_test_agent_send_events(agent, events, NULL, 0);
		g_assert_nonnull(reply);
	}
	g_assert_cmpint(usage_of(ts, "concurrent_executions"), ==, 1);
	g_free(start_ok(ts, id, NULL));
	g_assert_cmpint(usage_of(ts, "concurrent_executions"), ==, 2);

	/* a queued one cancelled frees its place at once */
	{
		const gchar *queued = g_strcmp0(leased, first) == 0 ? second : first;
		g_autoptr(AiqTestResponse) resp = post_execution(ts, queued, "cancel", "{}");
		aiq_test_assert_status(resp, 202);
	}
	g_free(start_ok(ts, id, NULL));

	/* the other tenant is not held back by this one */
	{
		g_autofree gchar *other = create_workflow(ts, ts->other_admin_token, "busy", 1);
		g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/executions", other);
		for (guint i = 0; i < 2; i++) {
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request_json(ts,
						      "POST",
						      path,
						      ts->other_admin_token,
						      "{}");
			aiq_test_assert_status(resp, 201);
		}
	}
}

static guint
n_agents(AiqTestServer *ts)
{
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(ts, "GET", "/api/v1/agents", ts->viewer_token, NULL, NULL, 0);
	aiq_test_assert_status(resp, 200);
	return json_array_get_length(
		aiq_json_object_get_array(aiq_test_response_object(resp), "items"));
}

static void
test_agents(void)
{
	g_autoptr(AiqTestServer) ts = server_new("[tier.standard]\nagents=2\n");
	g_autoptr(AiqTestAgent) a1 = aiq_test_agent_enroll(ts, ts->admin_token, "a1", NULL);
	g_autoptr(AiqTestAgent) a2 = aiq_test_agent_enroll(ts, ts->admin_token, "a2", NULL);
	g_autofree gchar *token = aiq_test_enrollment_token(ts, ts->admin_token, "{}");
	g_autofree gchar *path = NULL;

	g_assert_cmpint(usage_of(ts, "agents"), ==, 2);
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_agent_enroll_with(ts, token, "a3", NULL);
		assert_quota(resp, 403, "agents", 2, 2);
		/* no credential handed out */
		g_assert_null(strstr(resp->body, "credential"));
	}
	g_assert_cmpuint(n_agents(ts), ==, 2);
	g_assert_cmpint(usage_of(ts, "agents"), ==, 2);

	/* a disabled agent keeps its place; a deleted one frees it, and the
	 * refused token was not used up */
	path = g_strdup_printf("/api/v1/agents/%s/disable", a1->id);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts, "POST", path, ts->admin_token, "{}");
		aiq_test_assert_status(resp, 200);
	}
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_agent_enroll_with(ts, token, "a3", NULL);
		assert_quota(resp, 403, "agents", 2, 2);
	}
	g_free(path);
	path = g_strdup_printf("/api/v1/agents/%s", a1->id);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "DELETE", path, ts->admin_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 204);
	}
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_agent_enroll_with(ts, token, "a3", NULL);
		aiq_test_assert_status(resp, 201);
	}
	g_assert_cmpuint(n_agents(ts), ==, 2);

	/* the other tenant enrolls its own */
	{
		g_autoptr(AiqTestAgent) other =
			aiq_test_agent_enroll(ts, ts->other_admin_token, "o1", NULL);
		g_assert_nonnull(other->token);
	}
}

static void
test_payload(void)
{
	g_autoptr(AiqTestServer) ts = server_new("[tier.standard]\npayload-bytes=200\n");
	g_autofree gchar *id = create_workflow(ts, ts->editor_token, "payload", 1);
	g_autofree gchar *hook = hook_path(ts, id);
	g_autofree gchar *note = g_strnfill(300, 'x');
	g_autofree gchar *big = g_strdup_printf("{\"inputs\":{\"note\":\"%s\"}}", note);
	g_autofree gchar *big_hook = g_strdup_printf("{\"note\":\"%s\"}", note);
	g_autofree gchar *first = NULL;

	/* at the limit is fine */
	{
		g_autofree gchar *fits =
			g_strnfill(200 - strlen("{\"inputs\":{\"note\":\"\"}}"), 'y');
		g_autofree gchar *body = g_strdup_printf("{\"inputs\":{\"note\":\"%s\"}}", fits);
		g_autoptr(AiqTestResponse) resp = start(ts, id, NULL, body);
		g_assert_cmpuint(strlen(body), ==, 200);
		aiq_test_assert_status(resp, 201);
		first = g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
	}
	{
		g_autoptr(AiqTestResponse) resp = start(ts, id, NULL, big);
		assert_quota(resp, 413, "payload_bytes", 200, (gint64)strlen(big));
	}
	{
		g_autoptr(AiqTestResponse) resp = post_execution(ts, first, "rerun", big);
		assert_quota(resp, 413, "payload_bytes", 200, (gint64)strlen(big));
	}
	{
		g_autoptr(AiqTestResponse) resp = post_hook(ts, hook, big_hook);
		assert_quota(resp, 413, "payload_bytes", 200, (gint64)strlen(big_hook));
	}
	/* a webhook within it starts one */
	{
		g_autoptr(AiqTestResponse) resp = post_hook(ts, hook, "{\"note\":\"small\"}");
		aiq_test_assert_status(resp, 202);
	}
	g_assert_cmpint(n_executions(ts, ts->viewer_token), ==, 2);
	g_assert_cmpint(usage_of(ts, "executions_today"), ==, 2);
}

static void
tick(AiqTestServer *ts)
{
	g_autoptr(GError) error = NULL;
	g_assert_true(aiq_scheduler_tick(ts->server, &error));
	g_assert_no_error(error);
}

static void
test_schedule(void)
{
	AiqTestServerOptions options = {
		.fake_clock = TRUE,
		.lasting = TRUE,
		.real_limits = TRUE,
		.scheduler = TRUE,
		.limits = "[tier.standard]\nexecutions-per-day=2\n",
	};
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	AiqStore *store = aiq_server_get_store(ts->server);
	g_autofree gchar *id = NULL;
	gint64 start_us = ts->now;
	gint64 last = 0;

	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts,
					 "POST",
					 "/api/v1/workflows",
					 ts->editor_token,
					 "application/yaml",
					 "name: minutely\n"
					 "triggers:\n"
					 "  - schedule: { cron: \"* * * * *\" }\n"
					 "steps:\n"
					 "  - id: a\n"
					 "    uses: transform\n"
					 "    with: { value: 1 }\n",
					 -1);
		aiq_test_assert_status(resp, 201);
		id = g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
	}
	tick(ts);
	/* two fires within the quota */
	for (guint i = 1; i <= 2; i++) {
		ts->now = start_us + i * MINUTE;
		tick(ts);
	}
	g_assert_cmpint(n_executions(ts, ts->viewer_token), ==, 2);

	/* the third and fourth: not started, a warning each, and the schedule
	 * moves on past them */
	for (guint i = 3; i <= 4; i++) {
		g_test_expect_message("AiqServer",
				      G_LOG_LEVEL_WARNING,
				      "schedule of workflow * not started: "
				      "quota “executions_per_day” reached: 2 of 2 used");
		ts->now = start_us + i * MINUTE;
		tick(ts);
		g_test_assert_expected_messages();
		g_assert_true(
			aiq_store_get_schedule_last_fire(store, ts->tenant_id, id, 0, &last, NULL));
		g_assert_cmpint(last, ==, ts->now);
	}
	/* not tried again */
	tick(ts);
	tick(ts);
	g_assert_cmpint(n_executions(ts, ts->viewer_token), ==, 2);
	g_assert_cmpint(usage_of(ts, "executions_today"), ==, 2);
}

static void
test_usage(void)
{
	/* a bucket that refills one request a minute: what the requests of
	 * this test take shows */
	g_autoptr(AiqTestServer) ts =
		server_new("[tier.standard]\napi-requests-per-minute=1\napi-burst=100\n");
	g_autoptr(AiqTestResponse) before = get_usage(ts, ts->viewer_token, NULL);
	g_autoptr(AiqTestResponse) after = NULL;
	g_autoptr(AiqTestAgent) agent = NULL;
	g_autofree gchar *id = NULL;
	JsonObject *obj = aiq_test_response_object(before);
	JsonObject *usage = aiq_json_object_get_object(obj, "usage");
	JsonObject *limits = aiq_json_object_get_object(obj, "limits");
	gint64 remaining;

	g_assert_cmpstr(aiq_json_object_get_string(obj, "tenant_id"), ==, ts->tenant_id);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "tier"), ==, "standard");
	g_assert_cmpstr(aiq_json_object_get_string(obj, "day"), ==, "2027-01-01");
	/* all nine limits, the standard tier's */
	g_assert_cmpuint(json_object_get_size(limits), ==, AIQ_LIMIT_LAST);
	g_assert_cmpint(limit_of(before, "workflows"), ==, 100);
	g_assert_cmpint(limit_of(before, "agents"), ==, 5);
	g_assert_cmpint(limit_of(before, "executions_per_day"), ==, 5000);
	g_assert_cmpint(limit_of(before, "concurrent_executions"), ==, 10);
	g_assert_cmpint(limit_of(before, "steps_per_workflow"), ==, 50);
	g_assert_cmpint(limit_of(before, "payload_bytes"), ==, 256 * 1024);
	g_assert_cmpint(limit_of(before, "api_requests_per_minute"), ==, 1);
	g_assert_cmpint(limit_of(before, "api_burst"), ==, 100);
	g_assert_cmpint(limit_of(before, "retention_days"), >, 0);
	g_assert_cmpuint(json_object_get_size(usage), ==, 5);
	g_assert_cmpint(aiq_json_object_get_int(usage, "workflows", -1), ==, 0);
	g_assert_cmpint(aiq_json_object_get_int(usage, "agents", -1), ==, 0);
	g_assert_cmpint(aiq_json_object_get_int(usage, "executions_today", -1), ==, 0);
	g_assert_cmpint(aiq_json_object_get_int(usage, "concurrent_executions", -1), ==, 0);
	/* the first request of the tenant took one */
	remaining = aiq_json_object_get_int(usage, "api_requests_remaining", -1);
	g_assert_cmpint(remaining, ==, 99);

	id = create_workflow(ts, ts->editor_token, "used", 1);
	g_free(create_workflow(ts, ts->editor_token, "used-2", 1));
	agent = aiq_test_agent_enroll(ts, ts->admin_token, "a1", NULL);
	g_free(start_ok(ts, id, NULL));
	g_free(start_ok(ts, id, NULL));
	after = get_usage(ts, ts->viewer_token, NULL);
	usage = aiq_json_object_get_object(aiq_test_response_object(after), "usage");
	g_assert_cmpint(aiq_json_object_get_int(usage, "workflows", -1), ==, 2);
	g_assert_cmpint(aiq_json_object_get_int(usage, "agents", -1), ==, 1);
	g_assert_cmpint(aiq_json_object_get_int(usage, "executions_today", -1), ==, 2);
	g_assert_cmpint(aiq_json_object_get_int(usage, "concurrent_executions", -1), ==, 2);
	/* the seven requests since took from the bucket, which refills one
	 * a minute */
	g_assert_cmpint(aiq_json_object_get_int(usage, "api_requests_remaining", -1), <, remaining);
	g_assert_cmpint(aiq_json_object_get_int(usage, "api_requests_remaining", -1),
			>=,
			remaining - 7);

	/* only a platform admin reads another tenant's */
	{
		g_autofree gchar *path =
			g_strdup_printf("/api/v1/usage?tenant=%s", ts->other_tenant_id);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->admin_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 403);
	}
	{
		g_autoptr(AiqTestResponse) resp = get_usage(ts, ts->viewer_token, ts->tenant_id);
		g_assert_cmpstr(
			aiq_json_object_get_string(aiq_test_response_object(resp), "tenant_id"),
			==,
			ts->tenant_id);
	}
	{
		g_autoptr(AiqTestResponse) resp = get_usage(ts, ts->platform_token, ts->tenant_id);
		JsonObject *other = aiq_test_response_object(resp);
		g_assert_cmpstr(aiq_json_object_get_string(other, "tenant_id"), ==, ts->tenant_id);
		g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(other, "usage"),
							"workflows",
							-1),
				==,
				2);
	}
	{
		g_autoptr(AiqTestResponse) resp =
			get_usage(ts, ts->platform_token, ts->other_tenant_id);
		JsonObject *other =
			aiq_json_object_get_object(aiq_test_response_object(resp), "usage");
		g_assert_cmpint(aiq_json_object_get_int(other, "workflows", -1), ==, 0);
		g_assert_cmpint(aiq_json_object_get_int(other, "executions_today", -1), ==, 0);
	}
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts,
					 "GET",
					 "/api/v1/usage?tenant=no-such-tenant",
					 ts->platform_token,
					 NULL,
					 NULL,
					 0);
		aiq_test_assert_status(resp, 404);
	}
	/* a tenant's usage needs a login */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", "/api/v1/usage", NULL, NULL, NULL, 0);
		aiq_test_assert_status(resp, 401);
	}
}

static void
test_tenant_override(void)
{
	g_autoptr(AiqTestServer) ts =
		server_new("[tier.standard]\nworkflows=2\n\n[tenant.acme]\nworkflows=4\n");
	g_autoptr(AiqTestResponse) usage = NULL;

	/* acme's own group beats its tier */
	for (guint i = 0; i < 4; i++) {
		g_autofree gchar *name = g_strdup_printf("acme-%u", i);
		g_free(create_workflow(ts, ts->editor_token, name, 1));
	}
	{
		g_autoptr(AiqTestResponse) resp = post_workflow(ts, ts->editor_token, "acme-4", 1);
		assert_quota(resp, 403, "workflows", 4, 4);
	}
	usage = get_usage(ts, ts->viewer_token, NULL);
	g_assert_cmpint(limit_of(usage, "workflows"), ==, 4);

	/* the other tenant of the same tier has the tier's */
	g_free(create_workflow(ts, ts->other_admin_token, "other-0", 1));
	g_free(create_workflow(ts, ts->other_admin_token, "other-1", 1));
	{
		g_autoptr(AiqTestResponse) resp =
			post_workflow(ts, ts->other_admin_token, "other-2", 1);
		assert_quota(resp, 403, "workflows", 2, 2);
	}
	g_clear_pointer(&usage, aiq_test_response_free);
	usage = get_usage(ts, ts->platform_token, ts->other_tenant_id);
	g_assert_cmpint(limit_of(usage, "workflows"), ==, 2);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/http-quotas/workflows", test_workflows);
	g_test_add_func("/aiq/http-quotas/steps", test_steps);
	g_test_add_func("/aiq/http-quotas/executions-per-day", test_executions_per_day);
	g_test_add_func("/aiq/http-quotas/concurrent", test_concurrent);
	g_test_add_func("/aiq/http-quotas/agents", test_agents);
	g_test_add_func("/aiq/http-quotas/payload", test_payload);
	g_test_add_func("/aiq/http-quotas/schedule", test_schedule);
	g_test_add_func("/aiq/http-quotas/usage", test_usage);
	g_test_add_func("/aiq/http-quotas/tenant-override", test_tenant_override);
	return g_test_run();
}
