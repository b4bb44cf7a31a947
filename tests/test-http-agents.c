/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Agents and the agent protocol over the real server, with a small agent
 * client: enrollment, leases and long-polls, event sync (replays, reorders,
 * gaps), cancellation, retries, lease expiry, fair dispatch across tenants
 * and tiers, disabling, tenancy and roles. The ingest rate is measured by
 * bench/api.
 */

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "aiq-executions.h"
#include "aiq-json.h"
#include "aiq-store-identity.h"
#include "aiq-test-agent.h"
#include "aiq-util.h"

#define WORKFLOW_JSON                                                                  \
	"{\"name\":\"%s\",%s"                                                          \
	"\"inputs\":{\"who\":{\"type\":\"string\",\"required\":true},"                 \
	"\"count\":{\"type\":\"integer\",\"default\":3}},"                             \
	"\"steps\":[{\"id\":\"fetch\",\"uses\":\"transform\",\"with\":{\"value\":1}}," \
	"{\"id\":\"store\",\"uses\":\"transform\",\"with\":{\"value\":2}},"            \
	"{\"id\":\"notify\",\"uses\":\"transform\",\"with\":{\"value\":3}}]}"

#define SITE_A "\"runs_on\":{\"labels\":[\"site-a\"]},"

/* the small agent client is tests/aiq-test-agent.c */

static gboolean
strv_node_contains(JsonArray *array, const gchar *value)
{
	for (guint i = 0; array != NULL && i < json_array_get_length(array); i++) {
		if (g_strcmp0(json_array_get_string_element(array, i), value) == 0)
			return TRUE;
	}
	return FALSE;
}

/* the history of a run: fetch succeeds, store succeeds at its second
 * attempt (or fails), notify is skipped */
static GPtrArray *
run_events(const gchar *id, gboolean fail)
{
	GPtrArray *events = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(
		events,
		aiq_test_event(
			id,
			1,
			"execution.created",
			NULL,
			0,
			NULL,
			"{\"workflow\":\"w\",\"trigger\":\"manual\",\"inputs\":{\"who\":\"a\"}}"));
	g_ptr_array_add(events, aiq_test_event(id, 2, "execution.started", NULL, 0, NULL, NULL));
	g_ptr_array_add(events,
			aiq_test_event(id,
				       3,
				       "step.started",
				       "fetch",
				       0,
				       NULL,
				       "{\"step_key\":\"k/fetch\"}"));
	g_ptr_array_add(
		events,
		aiq_test_event(id,
			       4,
			       "step.finished",
			       "fetch",
			       1,
			       "succeeded",
			       "{\"started\":\"2027-01-01T00:00:03.500000Z\",\"output_size\":10,"
			       "\"output\":{\"rows\":3}}"));
	g_ptr_array_add(events, aiq_test_event(id, 5, "step.started", "store", 0, NULL, NULL));
	g_ptr_array_add(
		events,
		aiq_test_event(id,
			       6,
			       "attempt.finished",
			       "store",
			       1,
			       "failed",
			       "{\"error\":{\"code\":\"connection\",\"message\":\"refused\"},"
			       "\"output_size\":0,\"retry_in_ms\":500}"));
	if (fail) {
		g_ptr_array_add(
			events,
			aiq_test_event(
				id,
				7,
				"step.finished",
				"store",
				2,
				"failed",
				"{\"error\":{\"code\":\"step_failed\",\"message\":\"boom\"}}"));
		g_ptr_array_add(events,
				aiq_test_event(id,
					       8,
					       "step.skipped",
					       "notify",
					       0,
					       "skipped",
					       "{\"reason\":\"a step it needs failed\"}"));
		g_ptr_array_add(
			events,
			aiq_test_event(
				id,
				9,
				"execution.finished",
				NULL,
				0,
				"failed",
				"{\"error\":{\"code\":\"step_failed\",\"message\":\"store failed\"}}"));
	} else {
		g_ptr_array_add(events,
				aiq_test_event(id,
					       7,
					       "step.finished",
					       "store",
					       2,
					       "succeeded",
					       "{\"output_size\":12,\"output\":{\"stored\":3}}"));
		g_ptr_array_add(events,
				aiq_test_event(id,
					       8,
					       "step.skipped",
					       "notify",
					       0,
					       "skipped",
					       "{\"reason\":\"the condition is false\"}"));
		g_ptr_array_add(events,
				aiq_test_event(id,
					       9,
					       "execution.finished",
					       NULL,
					       0,
					       "succeeded",
					       "{\"outputs\":{\"n\":3}}"));
	}
	return events;
}

static gint64
ack_of(JsonObject *reply, const gchar *execution_id)
{
	return aiq_json_object_get_int(aiq_json_object_get_object(reply, "acks"), execution_id, -1);
}

/* the rest of the fixture */

static gchar *
create_workflow(AiqTestServer *ts, const gchar *token, const gchar *name, const gchar *runs_on)
{
	g_autofree gchar *json = g_strdup_printf(WORKFLOW_JSON, name, runs_on);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(ts, "POST", "/api/v1/workflows", token, json);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

static gchar *
start(AiqTestServer *ts, const gchar *token, const gchar *workflow_id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(ts, "POST", path, token, "{\"inputs\":{\"who\":\"a\"}}");
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

/* in process, for the many executions of the fairness tests */
static gchar *
start_direct(AiqTestServer *ts, const gchar *tenant_id, const gchar *workflow_id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) inputs = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	AiqStartRequest request = {
		.tenant_id = tenant_id,
		.workflow_id = workflow_id,
		.inputs = inputs,
		.trigger = "api",
	};
	json_object_set_string_member(inputs, "who", "x");
	node = aiq_executions_start(ts->server, &request, NULL, &error);
	g_assert_no_error(error);
	return g_strdup(aiq_json_object_get_string(json_node_get_object(node), "id"));
}

static AiqTestResponse *
get_execution(AiqTestServer *ts, const gchar *token, const gchar *id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", id);
	return aiq_test_request(ts, "GET", path, token, NULL, NULL, 0);
}

static JsonObject *
get_execution_ok(AiqTestServer *ts, const gchar *id)
{
	g_autoptr(AiqTestResponse) resp = get_execution(ts, ts->viewer_token, id);
	aiq_test_assert_status(resp, 200);
	return json_object_ref(aiq_test_response_object(resp));
}

static gchar *
get_execution_text(AiqTestServer *ts, const gchar *id)
{
	g_autoptr(AiqTestResponse) resp = get_execution(ts, ts->viewer_token, id);
	aiq_test_assert_status(resp, 200);
	return aiq_json_to_string(resp->json, FALSE);
}

static JsonObject *
find_step(JsonObject *execution, const gchar *id)
{
	JsonArray *steps = aiq_json_object_get_array(execution, "steps");
	for (guint i = 0; i < json_array_get_length(steps); i++) {
		JsonObject *step = json_array_get_object_element(steps, i);
		if (g_strcmp0(aiq_json_object_get_string(step, "id"), id) == 0)
			return step;
	}
	g_error("no step %s", id);
	return NULL;
}

/* a request on a thread of its own, with a session of its own */
typedef struct {
	gchar *url;
	gchar *token;
	gchar *body;
	guint status;
	gchar *reply;
	gint64 elapsed_us;
} ThreadCall;

static gpointer
thread_call_func(gpointer user_data)
{
	ThreadCall *call = user_data;
	g_autofree gchar *ca = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	g_autoptr(GTlsDatabase) db = g_tls_file_database_new(ca, NULL);
	g_autoptr(SoupSession) session =
		soup_session_new_with_options("tls-database", db, "timeout", 60, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new("POST", call->url);
	g_autoptr(GBytes) body = g_bytes_new(call->body, strlen(call->body));
	g_autofree gchar *auth = g_strdup_printf("Bearer %s", call->token);
	g_autoptr(GBytes) reply = NULL;
	gint64 t0 = g_get_monotonic_time();

	soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
	soup_message_set_request_body_from_bytes(msg, "application/json", body);
	reply = soup_session_send_and_read(session, msg, NULL, NULL);
	call->elapsed_us = g_get_monotonic_time() - t0;
	call->status = soup_message_get_status(msg);
	if (reply != NULL)
		call->reply = g_strndup(g_bytes_get_data(reply, NULL), g_bytes_get_size(reply));
	return NULL;
}

static GThread *
lease_in_thread(AiqTestAgent *agent, ThreadCall *call, guint wait_ms)
{
	call->url = g_strdup_printf("%s/api/v1/agent/lease", agent->ts->url);
	call->token = g_strdup(agent->token);
	call->body = g_strdup_printf("{\"capacity\":1,\"wait_ms\":%u}", wait_ms);
	return g_thread_new("lease", thread_call_func, call);
}

static guint
thread_call_n_jobs(ThreadCall *call)
{
	g_autoptr(JsonNode) node = NULL;
	g_assert_cmpuint(call->status, ==, 200);
	node = aiq_json_parse(call->reply, strlen(call->reply), 16, NULL);
	g_assert_nonnull(node);
	return json_array_get_length(aiq_json_object_get_array(json_node_get_object(node), "jobs"));
}

static void
thread_call_clear(ThreadCall *call)
{
	g_free(call->url);
	g_free(call->token);
	g_free(call->body);
	g_free(call->reply);
}

/* tests */

static void
test_enroll(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(AiqTestResponse) created = NULL;
	g_autoptr(AiqTestResponse) listed = NULL;
	g_autoptr(AiqTestResponse) enrolled = NULL;
	g_autoptr(AiqTestResponse) reused = NULL;
	g_autoptr(AiqTestResponse) me = NULL;
	JsonObject *obj;
	const gchar *token;
	const gchar *credential;

	created = aiq_test_request_json(ts,
					"POST",
					"/api/v1/enrollment-tokens",
					ts->admin_token,
					"{\"name\":\"edge-1\",\"labels\":[\"site-a\"],"
					"\"expires_in\":\"1h\"}");
	aiq_test_assert_status(created, 201);
	obj = aiq_test_response_object(created);
	token = aiq_json_object_get_string(obj, "token");
	g_assert_nonnull(token);
	g_assert_true(g_str_has_prefix(token, "aiqe_"));
	g_assert_cmpstr(aiq_json_object_get_string(obj, "name"), ==, "edge-1");
	g_assert_nonnull(aiq_json_object_get_string(obj, "expires_at"));

	/* listed without the token */
	listed = aiq_test_request(ts,
				  "GET",
				  "/api/v1/enrollment-tokens",
				  ts->admin_token,
				  NULL,
				  NULL,
				  0);
	aiq_test_assert_status(listed, 200);
	g_assert_cmpuint(
		json_array_get_length(
			aiq_json_object_get_array(aiq_test_response_object(listed), "items")),
		==,
		1);
	g_assert_null(strstr(listed->body, token));

	/* the token pins the name and labels */
	enrolled = aiq_test_agent_enroll_with(ts, token, "whatever", "[\"other\"]");
	aiq_test_assert_status(enrolled, 201);
	obj = aiq_test_response_object(enrolled);
	credential = aiq_json_object_get_string(obj, "credential");
	g_assert_true(g_str_has_prefix(credential, "aiqa_"));
	g_assert_cmpstr(aiq_json_object_get_string(obj, "tenant_id"), ==, ts->tenant_id);
	g_assert_cmpint(aiq_json_object_get_int(obj, "lease_ttl_ms", 0), ==, 30000);
	g_assert_cmpint(aiq_json_object_get_int(obj, "heartbeat_ms", 0), >, 0);
	g_assert_cmpint(aiq_json_object_get_int(obj, "long_poll_ms", 0), ==, 25000);
	{
		g_autofree gchar *path =
			g_strdup_printf("/api/v1/agents/%s",
					aiq_json_object_get_string(obj, "agent_id"));
		g_autoptr(AiqTestResponse) agent =
			aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
		JsonObject *a;
		aiq_test_assert_status(agent, 200);
		a = aiq_test_response_object(agent);
		g_assert_cmpstr(aiq_json_object_get_string(a, "name"), ==, "edge-1");
		g_assert_true(strv_node_contains(aiq_json_object_get_array(a, "labels"), "site-a"));
		g_assert_false(strv_node_contains(aiq_json_object_get_array(a, "labels"), "other"));
		g_assert_cmpstr(aiq_json_object_get_string(a, "status"), ==, "active");
		g_assert_cmpstr(aiq_json_object_get_string(a, "version"), ==, "1.0");
	}
	/* the credential is an agent's: the agent protocol, not the user API */
	me = aiq_test_request_json(ts, "POST", "/api/v1/agent/heartbeat", credential, "{}");
	aiq_test_assert_status(me, 200);

	/* single use */
	reused = aiq_test_agent_enroll_with(ts, token, "again", NULL);
	aiq_test_assert_status(reused, 401);
	g_assert_nonnull(strstr(reused->body, "used"));
	/* and gone from the list */
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "GET",
								   "/api/v1/enrollment-tokens",
								   ts->admin_token,
								   NULL,
								   NULL,
								   0);
		g_assert_cmpuint(
			json_array_get_length(
				aiq_json_object_get_array(aiq_test_response_object(resp), "items")),
			==,
			0);
	}
	/* expiry */
	{
		g_autofree gchar *short_lived =
			aiq_test_enrollment_token(ts, ts->admin_token, "{\"expires_in\":\"10m\"}");
		g_autoptr(AiqTestResponse) resp = NULL;
		ts->now += 11 * 60 * G_USEC_PER_SEC;
		resp = aiq_test_agent_enroll_with(ts, short_lived, "late", NULL);
		aiq_test_assert_status(resp, 401);
		g_assert_nonnull(strstr(resp->body, "expired"));
	}
	/* revoked */
	{
		g_autoptr(AiqTestResponse) made = aiq_test_request_json(ts,
									"POST",
									"/api/v1/enrollment-tokens",
									ts->admin_token,
									NULL);
		g_autofree gchar *path = NULL;
		g_autoptr(AiqTestResponse) del = NULL;
		g_autoptr(AiqTestResponse) resp = NULL;
		aiq_test_assert_status(made, 201);
		path = g_strdup_printf(
			"/api/v1/enrollment-tokens/%s",
			aiq_json_object_get_string(aiq_test_response_object(made), "id"));
		del = aiq_test_request(ts, "DELETE", path, ts->admin_token, NULL, NULL, 0);
		aiq_test_assert_status(del, 204);
		resp = aiq_test_agent_enroll_with(
			ts,
			aiq_json_object_get_string(aiq_test_response_object(made), "token"),
			"revoked",
			NULL);
		aiq_test_assert_status(resp, 401);
	}
	/* bad requests */
	{
		g_autoptr(AiqTestResponse) no_name = aiq_test_request_json(ts,
									   "POST",
									   "/api/v1/agents/enroll",
									   NULL,
									   "{\"token\":\"x\"}");
		g_autoptr(AiqTestResponse) session =
			aiq_test_agent_enroll_with(ts, ts->admin_token, "s", NULL);
		aiq_test_assert_status(no_name, 422);
		/* a session token is not an enrollment token */
		aiq_test_assert_status(session, 401);
	}
	/* only tenant admins make enrollment tokens */
	{
		g_autoptr(AiqTestResponse) viewer =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/enrollment-tokens",
					      ts->viewer_token,
					      "{}");
		g_autoptr(AiqTestResponse) editor =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/enrollment-tokens",
					      ts->editor_token,
					      "{}");
		g_autoptr(AiqTestResponse) bad = aiq_test_request_json(ts,
								       "POST",
								       "/api/v1/enrollment-tokens",
								       ts->admin_token,
								       "{\"expires_in\":\"90d\"}");
		aiq_test_assert_status(viewer, 403);
		aiq_test_assert_status(editor, 403);
		aiq_test_assert_status(bad, 422);
	}
	/* guessing is throttled per source address */
	{
		guint status = 0;
		for (guint i = 0; i < 30 && status != 429; i++) {
			g_autoptr(AiqTestResponse) resp = aiq_test_agent_enroll_with(
				ts,
				"aiqe_0123456789abcdef0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
				"guess",
				NULL);
			status = resp->status;
			if (status == 429)
				g_assert_nonnull(
					soup_message_headers_get_one(resp->headers, "Retry-After"));
			else
				aiq_test_assert_status(resp, 401);
		}
		g_assert_cmpuint(status, ==, 429);
	}
}

static void
test_agents_list(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(AiqTestAgent) one =
		aiq_test_agent_enroll(ts, ts->admin_token, "one", "[\"site-a\"]");
	g_autoptr(AiqTestAgent) two = aiq_test_agent_enroll(ts, ts->admin_token, "two", NULL);
	g_autoptr(AiqTestAgent) theirs =
		aiq_test_agent_enroll(ts, ts->other_admin_token, "theirs", NULL);
	g_autofree gchar *path = g_strdup_printf("/api/v1/agents/%s", one->id);
	g_autoptr(JsonObject) beat = NULL;

	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "GET",
								   "/api/v1/agents",
								   ts->viewer_token,
								   NULL,
								   NULL,
								   0);
		JsonArray *items;
		aiq_test_assert_status(resp, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 2);
		g_assert_false(
			json_object_get_boolean_member(json_array_get_object_element(items, 0),
						       "online"));
	}
	/* pages */
	{
		g_autoptr(AiqTestResponse) first = aiq_test_request(ts,
								    "GET",
								    "/api/v1/agents?limit=1",
								    ts->viewer_token,
								    NULL,
								    NULL,
								    0);
		const gchar *cursor;
		g_autofree gchar *next = NULL;
		g_autoptr(AiqTestResponse) second = NULL;
		aiq_test_assert_status(first, 200);
		cursor = aiq_json_object_get_string(aiq_test_response_object(first), "next_cursor");
		g_assert_nonnull(cursor);
		next = g_strdup_printf("/api/v1/agents?limit=1&cursor=%s", cursor);
		second = aiq_test_request(ts, "GET", next, ts->viewer_token, NULL, NULL, 0);
		aiq_test_assert_status(second, 200);
		g_assert_cmpstr(
			aiq_json_object_get_string(
				json_array_get_object_element(
					aiq_json_object_get_array(aiq_test_response_object(second),
								  "items"),
					0),
				"id"),
			==,
			two->id);
	}
	/* a heartbeat: online */
	beat = aiq_test_agent_heartbeat(one, "");
	g_assert_nonnull(aiq_json_object_get_string(beat, "lease_deadline"));
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
		JsonObject *obj;
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_true(json_object_get_boolean_member(obj, "online"));
		g_assert_nonnull(aiq_json_object_get_string(obj, "last_seen"));
		g_assert_cmpint(aiq_json_object_get_int(obj, "capacity", 0), ==, 4);
	}
	/* quiet for longer than agent-offline: offline */
	ts->now += 31 * G_USEC_PER_SEC;
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 200);
		g_assert_false(
			json_object_get_boolean_member(aiq_test_response_object(resp), "online"));
	}
	/* another tenant's agent is not there */
	{
		g_autofree gchar *theirs_path = g_strdup_printf("/api/v1/agents/%s", theirs->id);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", theirs_path, ts->viewer_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 404);
	}
}

static void
test_lease(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "leased", SITE_A);
	g_autofree gchar *id = start(ts, ts->editor_token, workflow_id);
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "a", "[\"site-a\"]");
	g_autoptr(AiqTestAgent) theirs =
		aiq_test_agent_enroll(ts, ts->other_admin_token, "t", "[\"site-a\"]");
	g_autoptr(JsonArray) nothing = aiq_test_agent_lease(theirs, 1, 0);
	g_autoptr(JsonArray) jobs = NULL;
	g_autoptr(JsonArray) empty = NULL;
	g_autoptr(JsonObject) execution = NULL;
	JsonObject *job;
	JsonObject *workflow;
	JsonObject *definition;
	JsonObject *inputs;

	/* another tenant's agent gets none of our jobs */
	g_assert_cmpuint(json_array_get_length(nothing), ==, 0);

	jobs = aiq_test_agent_lease(agent, 2, 0);
	g_assert_cmpuint(json_array_get_length(jobs), ==, 1);
	job = json_array_get_object_element(jobs, 0);
	g_assert_cmpstr(aiq_json_object_get_string(job, "execution_id"), ==, id);
	g_assert_true(aiq_id_is_valid(aiq_json_object_get_string(job, "job_id")));
	g_assert_cmpstr(aiq_json_object_get_string(job, "trigger"), ==, "manual");
	g_assert_nonnull(aiq_json_object_get_string(job, "lease_deadline"));
	g_assert_null(json_object_get_member(job, "completed"));
	workflow = aiq_json_object_get_object(job, "workflow");
	g_assert_cmpstr(aiq_json_object_get_string(workflow, "id"), ==, workflow_id);
	g_assert_cmpstr(aiq_json_object_get_string(workflow, "name"), ==, "leased");
	g_assert_cmpint(aiq_json_object_get_int(workflow, "version", 0), ==, 1);
	definition = aiq_json_object_get_object(job, "definition");
	g_assert_nonnull(definition);
	g_assert_cmpstr(aiq_json_object_get_string(definition, "name"), ==, "leased");
	g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(definition, "steps")),
			 ==,
			 3);
	inputs = aiq_json_object_get_object(job, "inputs");
	g_assert_cmpstr(aiq_json_object_get_string(inputs, "who"), ==, "a");
	g_assert_cmpint(aiq_json_object_get_int(inputs, "count", 0), ==, 3);

	/* leased once */
	empty = aiq_test_agent_lease(agent, 1, 0);
	g_assert_cmpuint(json_array_get_length(empty), ==, 0);
	execution = get_execution_ok(ts, id);
	g_assert_cmpstr(aiq_json_object_get_string(execution, "agent_id"), ==, agent->id);

	/* capacity: several at once, capacity 0 none */
	{
		g_autofree gchar *b = start(ts, ts->editor_token, workflow_id);
		g_autofree gchar *c = start(ts, ts->editor_token, workflow_id);
		g_autoptr(JsonArray) zero = aiq_test_agent_lease(agent, 0, 1000);
		g_autoptr(JsonArray) two = NULL;
		g_assert_cmpuint(json_array_get_length(zero), ==, 0);
		two = aiq_test_agent_lease(agent, 5, 0);
		g_assert_cmpuint(json_array_get_length(two), ==, 2);
	}
	/* bad lease requests */
	{
		g_autoptr(AiqTestResponse) bad =
			aiq_test_agent_post(agent, "/api/v1/agent/lease", "{\"capacity\":-1}");
		g_autoptr(AiqTestResponse) unknown =
			aiq_test_agent_post(agent, "/api/v1/agent/lease", "{\"capcity\":1}");
		aiq_test_assert_status(bad, 422);
		aiq_test_assert_status(unknown, 422);
	}
}

static void
test_labels(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "labelled", SITE_A);
	g_autofree gchar *anywhere = create_workflow(ts, ts->editor_token, "anywhere", "");
	g_autofree gchar *id = start(ts, ts->editor_token, workflow_id);
	g_autoptr(AiqTestAgent) wrong =
		aiq_test_agent_enroll(ts, ts->admin_token, "b", "[\"site-b\"]");
	g_autoptr(AiqTestAgent) right =
		aiq_test_agent_enroll(ts, ts->admin_token, "a", "[\"linux\",\"site-a\"]");
	g_autoptr(JsonArray) none = aiq_test_agent_lease(wrong, 1, 0);
	g_autofree gchar *got = NULL;
	g_autofree gchar *free_id = NULL;
	g_autofree gchar *got_free = NULL;

	g_assert_cmpuint(json_array_get_length(none), ==, 0);
	/* a lease may narrow the agent's labels, never add one it did not
	 * enroll with (an enrollment token may pin them) */
	{
		g_autoptr(AiqTestResponse) widen =
			aiq_test_agent_post(wrong,
					    "/api/v1/agent/lease",
					    "{\"capacity\":1,\"labels\":[\"site-a\"]}");
		aiq_test_assert_status(widen, 422);
		g_assert_nonnull(strstr(widen->body, "site-a"));
	}
	{
		g_autoptr(AiqTestResponse) narrow =
			aiq_test_agent_post(right,
					    "/api/v1/agent/lease",
					    "{\"capacity\":1,\"labels\":[\"linux\"]}");
		aiq_test_assert_status(narrow, 200);
		g_assert_cmpuint(json_array_get_length(
					 aiq_json_object_get_array(aiq_test_response_object(narrow),
								   "jobs")),
				 ==,
				 0);
	}
	got = aiq_test_agent_lease_one(right);
	g_assert_cmpstr(got, ==, id);
	/* a job without labels runs anywhere */
	free_id = start(ts, ts->editor_token, anywhere);
	got_free = aiq_test_agent_lease_one(wrong);
	g_assert_cmpstr(got_free, ==, free_id);
}

static void
test_long_poll(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "wake", SITE_A);
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "a", "[\"site-a\"]");
	ThreadCall call = { 0 };
	ThreadCall quiet = { 0 };
	GThread *thread;
	g_autofree gchar *id = NULL;

	/* the lease waits; a start wakes it long before its wait ends */
	thread = lease_in_thread(agent, &call, 10000);
	g_usleep(300 * 1000);
	id = start(ts, ts->editor_token, workflow_id);
	g_thread_join(thread);
	g_assert_cmpuint(thread_call_n_jobs(&call), ==, 1);
	g_assert_nonnull(strstr(call.reply, id));
	g_assert_cmpint(call.elapsed_us, >=, 250 * 1000);
	g_assert_cmpint(call.elapsed_us, <, 3 * G_USEC_PER_SEC);
	g_test_message("woken after %.0f ms", call.elapsed_us / 1000.0);

	/* nothing comes: empty when the wait ends */
	thread = lease_in_thread(agent, &quiet, 400);
	g_thread_join(thread);
	g_assert_cmpuint(thread_call_n_jobs(&quiet), ==, 0);
	g_assert_cmpint(quiet.elapsed_us, >=, 350 * 1000);
	g_assert_cmpint(quiet.elapsed_us, <, 3 * G_USEC_PER_SEC);

	/* several waiters: each job wakes one */
	{
		ThreadCall calls[3] = { 0 };
		GThread *threads[3];
		guint total = 0;
		for (guint i = 0; i < 3; i++)
			threads[i] = lease_in_thread(agent, &calls[i], 5000);
		g_usleep(300 * 1000);
		for (guint i = 0; i < 2; i++) {
			g_autofree gchar *other = start(ts, ts->editor_token, workflow_id);
		}
		for (guint i = 0; i < 3; i++) {
			g_thread_join(threads[i]);
			total += thread_call_n_jobs(&calls[i]);
			thread_call_clear(&calls[i]);
		}
		g_assert_cmpuint(total, ==, 2);
	}
	thread_call_clear(&call);
	thread_call_clear(&quiet);

	/* a parked lease is answered when the server stops */
	{
		ThreadCall parked = { 0 };
		thread = lease_in_thread(agent, &parked, 20000);
		g_usleep(300 * 1000);
		aiq_server_stop(ts->server);
		g_thread_join(thread);
		g_assert_cmpint(parked.elapsed_us, <, 10 * G_USEC_PER_SEC);
		thread_call_clear(&parked);
	}
}

static void
test_ingest(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "sync", SITE_A);
	g_autofree gchar *id = start(ts, ts->editor_token, workflow_id);
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "a", "[\"site-a\"]");
	g_autofree gchar *leased = aiq_test_agent_lease_one(agent);
	g_autoptr(GPtrArray) events = run_events(id, FALSE);
	const gint first[] = { 0, 1 };
	const gint rest[] = { 2, 3, 4, 5, 6, 7, 8 };
	g_autoptr(JsonObject) reply = NULL;
	g_autoptr(JsonObject) running = NULL;
	g_autoptr(JsonObject) done = NULL;
	JsonObject *fetch;
	JsonObject *store;
	JsonObject *notify;
	JsonArray *attempts;

	reply = aiq_test_agent_send_events(agent, events, first, G_N_ELEMENTS(first));
	g_assert_cmpint(ack_of(reply, id), ==, 2);
	g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(reply, "rejected")),
			 ==,
			 0);
	running = get_execution_ok(ts, id);
	g_assert_cmpstr(aiq_json_object_get_string(running, "status"), ==, "running");
	g_assert_cmpstr(aiq_json_object_get_string(running, "started"),
			==,
			"2027-01-01T00:00:02.000000Z");
	g_assert_cmpstr(aiq_json_object_get_string(find_step(running, "fetch"), "status"),
			==,
			"pending");

	g_clear_pointer(&reply, json_object_unref);
	reply = aiq_test_agent_send_events(agent, events, rest, G_N_ELEMENTS(rest));
	g_assert_cmpint(ack_of(reply, id), ==, 9);
	done = get_execution_ok(ts, id);
	g_assert_cmpstr(aiq_json_object_get_string(done, "status"), ==, "succeeded");
	g_assert_cmpint(
		aiq_json_object_get_int(aiq_json_object_get_object(done, "outputs"), "n", 0),
		==,
		3);
	g_assert_true(json_object_get_null_member(done, "error"));
	g_assert_cmpstr(aiq_json_object_get_string(done, "finished"),
			==,
			"2027-01-01T00:00:09.000000Z");
	g_assert_cmpint(aiq_json_object_get_int(done, "duration_ms", 0), ==, 7000);
	fetch = find_step(done, "fetch");
	g_assert_cmpstr(aiq_json_object_get_string(fetch, "status"), ==, "succeeded");
	g_assert_cmpint(
		aiq_json_object_get_int(aiq_json_object_get_object(fetch, "output"), "rows", 0),
		==,
		3);
	attempts = aiq_json_object_get_array(fetch, "attempts");
	g_assert_cmpuint(json_array_get_length(attempts), ==, 1);
	g_assert_cmpstr(
		aiq_json_object_get_string(json_array_get_object_element(attempts, 0), "started"),
		==,
		"2027-01-01T00:00:03.500000Z");
	store = find_step(done, "store");
	g_assert_cmpstr(aiq_json_object_get_string(store, "status"), ==, "succeeded");
	attempts = aiq_json_object_get_array(store, "attempts");
	g_assert_cmpuint(json_array_get_length(attempts), ==, 2);
	g_assert_cmpstr(
		aiq_json_object_get_string(json_array_get_object_element(attempts, 0), "status"),
		==,
		"failed");
	g_assert_cmpstr(
		aiq_json_object_get_string(
			aiq_json_object_get_object(json_array_get_object_element(attempts, 0),
						   "error"),
			"code"),
		==,
		"connection");
	g_assert_cmpint(
		aiq_json_object_get_int(json_array_get_object_element(attempts, 1), "number", 0),
		==,
		2);
	notify = find_step(done, "notify");
	g_assert_cmpstr(aiq_json_object_get_string(notify, "status"), ==, "skipped");
	g_assert_cmpstr(aiq_json_object_get_string(notify, "skip_reason"),
			==,
			"the condition is false");

	/* the events are kept, in the wire form */
	{
		g_autofree gchar *path =
			g_strdup_printf("/api/v1/executions/%s/events?after=3", id);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
		JsonArray *items;
		aiq_test_assert_status(resp, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 6);
		g_assert_cmpint(
			aiq_json_object_get_int(json_array_get_object_element(items, 0), "seq", 0),
			==,
			4);
		g_assert_cmpstr(
			aiq_json_object_get_string(json_array_get_object_element(items, 0), "type"),
			==,
			"step.finished");
	}
	/* finished: the agent no longer holds a lease, and loses nothing */
	{
		g_autofree gchar *running_ids = g_strdup_printf("\"%s\"", id);
		g_autoptr(JsonObject) beat = aiq_test_agent_heartbeat(agent, running_ids);
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(beat, "lost")),
				 ==,
				 0);
	}
}

static void
test_replay(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "replay", SITE_A);
	g_autofree gchar *id = start(ts, ts->editor_token, workflow_id);
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "a", "[\"site-a\"]");
	g_autofree gchar *leased = aiq_test_agent_lease_one(agent);
	g_autoptr(GPtrArray) events = run_events(id, FALSE);
	const gint partial[] = { 0, 1, 2, 3, 4 };
	const gint reversed[] = { 8, 7, 6, 5, 4, 3, 2, 1, 0 };
	const gint shuffled[] = { 4, 0, 3, 1, 2, 4, 0 };
	g_autoptr(JsonObject) reply = NULL;
	g_autofree gchar *before = NULL;

	/* half a run, then the same again reordered: nothing changes */
	reply = aiq_test_agent_send_events(agent, events, partial, G_N_ELEMENTS(partial));
	g_assert_cmpint(ack_of(reply, id), ==, 5);
	before = get_execution_text(ts, id);
	for (guint round = 0; round < 2; round++) {
		g_autoptr(JsonObject) again =
			aiq_test_agent_send_events(agent, events, shuffled, G_N_ELEMENTS(shuffled));
		g_autofree gchar *after = get_execution_text(ts, id);
		g_assert_cmpint(ack_of(again, id), ==, 5);
		g_assert_cmpstr(after, ==, before);
	}
	/* the whole run, reversed, lands as if in order */
	{
		g_autoptr(JsonObject) whole =
			aiq_test_agent_send_events(agent, events, reversed, G_N_ELEMENTS(reversed));
		g_autoptr(JsonObject) obj = get_execution_ok(ts, id);
		g_assert_cmpint(ack_of(whole, id), ==, 9);
		g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "succeeded");
		g_assert_cmpuint(
			json_array_get_length(
				aiq_json_object_get_array(find_step(obj, "store"), "attempts")),
			==,
			2);
	}
	g_free(before);
	before = get_execution_text(ts, id);
	/* and replaying all of it, in order or not, changes nothing */
	{
		g_autoptr(JsonObject) again = aiq_test_agent_send_events(agent, events, NULL, 0);
		g_autoptr(JsonObject) backwards =
			aiq_test_agent_send_events(agent, events, reversed, G_N_ELEMENTS(reversed));
		g_autofree gchar *after = get_execution_text(ts, id);
		g_assert_cmpint(ack_of(again, id), ==, 9);
		g_assert_cmpint(ack_of(backwards, id), ==, 9);
		g_assert_cmpstr(after, ==, before);
	}
	/* nine events stored, once each */
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/events", id);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
		g_assert_cmpuint(
			json_array_get_length(
				aiq_json_object_get_array(aiq_test_response_object(resp), "items")),
			==,
			9);
	}
}

static void
test_gap(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "gap", SITE_A);
	g_autofree gchar *id = start(ts, ts->editor_token, workflow_id);
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "a", "[\"site-a\"]");
	g_autofree gchar *leased = aiq_test_agent_lease_one(agent);
	g_autoptr(GPtrArray) events = run_events(id, FALSE);
	const gint head[] = { 0, 1 };
	const gint after_gap[] = { 3, 4 };
	const gint fill[] = { 2 };
	g_autoptr(JsonObject) r1 =
		aiq_test_agent_send_events(agent, events, head, G_N_ELEMENTS(head));
	g_autoptr(JsonObject) r2 = NULL;
	g_autoptr(JsonObject) r3 = NULL;
	g_autoptr(JsonObject) waiting = NULL;
	g_autoptr(JsonObject) filled = NULL;

	g_assert_cmpint(ack_of(r1, id), ==, 2);
	/* 4 and 5 wait for 3 */
	r2 = aiq_test_agent_send_events(agent, events, after_gap, G_N_ELEMENTS(after_gap));
	g_assert_cmpint(ack_of(r2, id), ==, 2);
	waiting = get_execution_ok(ts, id);
	g_assert_cmpstr(aiq_json_object_get_string(find_step(waiting, "fetch"), "status"),
			==,
			"pending");
	/* 3 comes: 3, 4 and 5 apply */
	r3 = aiq_test_agent_send_events(agent, events, fill, G_N_ELEMENTS(fill));
	g_assert_cmpint(ack_of(r3, id), ==, 5);
	filled = get_execution_ok(ts, id);
	g_assert_cmpstr(aiq_json_object_get_string(find_step(filled, "fetch"), "status"),
			==,
			"succeeded");
	g_assert_cmpstr(aiq_json_object_get_string(find_step(filled, "store"), "status"),
			==,
			"running");
}

static void
test_bad_events(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "bad", SITE_A);
	g_autofree gchar *id = start(ts, ts->editor_token, workflow_id);
	g_autofree gchar *unleased = start(ts, ts->editor_token, workflow_id);
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "a", "[\"site-a\"]");
	g_autoptr(AiqTestAgent) peer =
		aiq_test_agent_enroll(ts, ts->admin_token, "p", "[\"site-b\"]");
	g_autoptr(AiqTestAgent) theirs =
		aiq_test_agent_enroll(ts, ts->other_admin_token, "t", "[\"site-a\"]");
	g_autofree gchar *leased = aiq_test_agent_lease_one(agent);
	g_autofree gchar *unknown = aiq_id_new();
	g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(JsonObject) reply = NULL;
	JsonArray *rejected;

	g_ptr_array_add(events, aiq_test_event(id, 1, "execution.created", NULL, 0, NULL, "{}"));
	g_ptr_array_add(events, g_strdup("{\"execution_id\":\"x\",\"seq\":1}"));
	g_ptr_array_add(events, g_strdup("42"));
	g_ptr_array_add(events, aiq_test_event(id, 2, "execution.exploded", NULL, 0, NULL, NULL));
	g_ptr_array_add(events, aiq_test_event(id, 2, "step.started", NULL, 0, NULL, NULL));
	g_ptr_array_add(events, aiq_test_event(id, 2, "step.finished", "fetch", 1, "great", NULL));
	g_ptr_array_add(events, aiq_test_event(id, 0, "execution.started", NULL, 0, NULL, NULL));
	g_ptr_array_add(events,
			aiq_test_event(unknown, 1, "execution.created", NULL, 0, NULL, NULL));
	g_ptr_array_add(events,
			aiq_test_event(unleased, 1, "execution.created", NULL, 0, NULL, NULL));
	g_ptr_array_add(events, aiq_test_event(id, 2, "execution.started", NULL, 0, NULL, NULL));
	reply = aiq_test_agent_send_events(agent, events, NULL, 0);
	/* the good ones of the batch are taken */
	g_assert_cmpint(ack_of(reply, id), ==, 2);
	g_assert_cmpint(ack_of(reply, unknown), ==, -1);
	rejected = aiq_json_object_get_array(reply, "rejected");
	g_assert_cmpuint(json_array_get_length(rejected), ==, 8);
	for (guint i = 0; i < json_array_get_length(rejected); i++)
		g_assert_nonnull(
			aiq_json_object_get_string(json_array_get_object_element(rejected, i),
						   "reason"));
	g_assert_nonnull(strstr(json_node_get_string(json_object_get_member(
					json_array_get_object_element(rejected, 6),
					"reason")),
				"no such execution"));

	/* events of an execution another agent holds, or of another tenant */
	{
		g_autoptr(GPtrArray) more = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(JsonObject) from_peer = NULL;
		g_autoptr(JsonObject) from_theirs = NULL;
		g_autofree gchar *before = get_execution_text(ts, id);
		g_autofree gchar *after = NULL;
		g_ptr_array_add(more,
				aiq_test_event(id, 3, "step.started", "fetch", 0, NULL, NULL));
		from_peer = aiq_test_agent_send_events(peer, more, NULL, 0);
		g_assert_cmpint(ack_of(from_peer, id), ==, -1);
		g_assert_cmpuint(
			json_array_get_length(aiq_json_object_get_array(from_peer, "rejected")),
			==,
			1);
		from_theirs = aiq_test_agent_send_events(theirs, more, NULL, 0);
		g_assert_cmpuint(
			json_array_get_length(aiq_json_object_get_array(from_theirs, "rejected")),
			==,
			1);
		after = get_execution_text(ts, id);
		g_assert_cmpstr(after, ==, before);
	}
	/* a batch too large, a body without events */
	{
		g_autoptr(GString) big = g_string_new("{\"events\":[");
		g_autoptr(AiqTestResponse) resp = NULL;
		g_autoptr(AiqTestResponse) none = NULL;
		for (guint i = 0; i < 1001; i++)
			g_string_append(big, i > 0 ? ",{}" : "{}");
		g_string_append(big, "]}");
		resp = aiq_test_agent_post(agent, "/api/v1/agent/events", big->str);
		aiq_test_assert_status(resp, 413);
		none = aiq_test_agent_post(agent, "/api/v1/agent/events", "{}");
		aiq_test_assert_status(none, 422);
	}
	/* a step output over the cap is kept as its size */
	{
		g_autoptr(GPtrArray) more = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GString) data = g_string_new("{\"output\":[");
		g_autofree gchar *kib = g_strnfill(1024, 'x');
		g_autoptr(JsonObject) r = NULL;
		g_autoptr(JsonObject) obj = NULL;
		JsonObject *fetch;
		/* strings are bounded on their own: many of a KiB */
		for (guint i = 0; i < 1100; i++)
			g_string_append_printf(data, "%s\"%s\"", i > 0 ? "," : "", kib);
		g_string_append(data, "]}");
		g_ptr_array_add(more,
				aiq_test_event(id, 3, "step.started", "fetch", 0, NULL, NULL));
		g_ptr_array_add(
			more,
			aiq_test_event(id, 4, "step.finished", "fetch", 1, "succeeded", data->str));
		r = aiq_test_agent_send_events(agent, more, NULL, 0);
		g_assert_cmpint(ack_of(r, id), ==, 4);
		obj = get_execution_ok(ts, id);
		fetch = find_step(obj, "fetch");
		g_assert_true(json_object_get_null_member(fetch, "output"));
		g_assert_true(json_object_get_boolean_member(fetch, "output_truncated"));
	}
}

static void
test_cancel_running(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "stop", SITE_A);
	g_autofree gchar *id = start(ts, ts->editor_token, workflow_id);
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "a", "[\"site-a\"]");
	g_autofree gchar *leased = aiq_test_agent_lease_one(agent);
	g_autofree gchar *running = g_strdup_printf("\"%s\"", id);
	g_autoptr(GPtrArray) events = run_events(id, FALSE);
	const gint begin[] = { 0, 1, 2 };
	g_autoptr(JsonObject) r1 =
		aiq_test_agent_send_events(agent, events, begin, G_N_ELEMENTS(begin));
	g_autoptr(JsonObject) quiet = aiq_test_agent_heartbeat(agent, running);
	g_autoptr(AiqTestResponse) cancel = NULL;
	g_autoptr(JsonObject) told = NULL;
	g_autoptr(GPtrArray) ending = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(JsonObject) r2 = NULL;
	g_autoptr(JsonObject) obj = NULL;
	JsonObject *cancelled;

	g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(quiet, "cancel")), ==, 0);
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/cancel", id);
		cancel = aiq_test_request_json(ts, "POST", path, ts->editor_token, NULL);
	}
	aiq_test_assert_status(cancel, 202);
	cancelled = aiq_test_response_object(cancel);
	/* still running until the agent stops it */
	g_assert_cmpstr(aiq_json_object_get_string(cancelled, "status"), ==, "running");
	g_assert_true(json_object_get_boolean_member(cancelled, "cancel_requested"));

	/* the next heartbeat says so */
	told = aiq_test_agent_heartbeat(agent, running);
	g_assert_true(strv_node_contains(aiq_json_object_get_array(told, "cancel"), id));
	g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(told, "lost")), ==, 0);

	/* the agent cancels and says so */
	g_ptr_array_add(
		ending,
		aiq_test_event(id,
			       4,
			       "step.finished",
			       "fetch",
			       1,
			       "cancelled",
			       "{\"error\":{\"code\":\"cancelled\",\"message\":\"cancelled\"}}"));
	g_ptr_array_add(ending,
			aiq_test_event(id,
				       5,
				       "step.skipped",
				       "store",
				       0,
				       "cancelled",
				       "{\"reason\":\"cancelled\"}"));
	g_ptr_array_add(ending,
			aiq_test_event(id,
				       6,
				       "step.skipped",
				       "notify",
				       0,
				       "cancelled",
				       "{\"reason\":\"cancelled\"}"));
	g_ptr_array_add(
		ending,
		aiq_test_event(
			id,
			7,
			"execution.finished",
			NULL,
			0,
			"cancelled",
			"{\"error\":{\"code\":\"cancelled\",\"message\":\"cancelled on request\"}}"));
	r2 = aiq_test_agent_send_events(agent, ending, NULL, 0);
	g_assert_cmpint(ack_of(r2, id), ==, 7);
	obj = get_execution_ok(ts, id);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "cancelled");
	g_assert_null(json_object_get_member(obj, "cancel_requested"));
	g_assert_cmpstr(aiq_json_object_get_string(find_step(obj, "store"), "status"),
			==,
			"cancelled");
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/cancel", id);
		g_autoptr(AiqTestResponse) again =
			aiq_test_request_json(ts, "POST", path, ts->editor_token, NULL);
		aiq_test_assert_status(again, 409);
	}
}

static void
test_retry(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "flaky", SITE_A);
	g_autofree gchar *id = start(ts, ts->editor_token, workflow_id);
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "a", "[\"site-a\"]");
	g_autofree gchar *leased = aiq_test_agent_lease_one(agent);
	g_autoptr(GPtrArray) events = run_events(id, TRUE);
	g_autoptr(JsonObject) reply = aiq_test_agent_send_events(agent, events, NULL, 0);
	g_autoptr(JsonObject) failed = get_execution_ok(ts, id);
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/retry", id);
	g_autoptr(AiqTestResponse) retry = NULL;
	g_autoptr(JsonArray) jobs = NULL;
	JsonObject *obj;
	JsonObject *job;
	JsonObject *completed;
	const gchar *retry_id;

	g_assert_cmpint(ack_of(reply, id), ==, 9);
	g_assert_cmpstr(aiq_json_object_get_string(failed, "status"), ==, "failed");
	g_assert_cmpstr(
		aiq_json_object_get_string(aiq_json_object_get_object(failed, "error"), "code"),
		==,
		"step_failed");
	g_assert_cmpstr(aiq_json_object_get_string(find_step(failed, "store"), "status"),
			==,
			"failed");
	g_assert_cmpstr(aiq_json_object_get_string(
				aiq_json_object_get_object(find_step(failed, "store"), "error"),
				"message"),
			==,
			"boom");

	retry = aiq_test_request_json(ts, "POST", path, ts->editor_token, NULL);
	aiq_test_assert_status(retry, 201);
	obj = aiq_test_response_object(retry);
	retry_id = aiq_json_object_get_string(obj, "id");
	g_assert_cmpstr(retry_id, !=, id);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "retry_of"), ==, id);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "queued");
	g_assert_cmpint(aiq_json_object_get_int(obj, "version", 0), ==, 1);
	g_assert_cmpstr(
		aiq_json_object_get_string(aiq_json_object_get_object(obj, "inputs"), "who"),
		==,
		"a");
	/* the job carries the outputs of the steps that succeeded */
	jobs = aiq_test_agent_lease(agent, 1, 0);
	g_assert_cmpuint(json_array_get_length(jobs), ==, 1);
	job = json_array_get_object_element(jobs, 0);
	g_assert_cmpstr(aiq_json_object_get_string(job, "execution_id"), ==, retry_id);
	completed = aiq_json_object_get_object(job, "completed");
	g_assert_nonnull(completed);
	g_assert_cmpuint(json_object_get_size(completed), ==, 1);
	g_assert_cmpint(
		aiq_json_object_get_int(aiq_json_object_get_object(completed, "fetch"), "rows", 0),
		==,
		3);
	/* a succeeded execution is not retried */
	{
		g_autofree gchar *ok_id = start(ts, ts->editor_token, workflow_id);
		g_autofree gchar *got = aiq_test_agent_lease_one(agent);
		g_autoptr(GPtrArray) ok_events = run_events(ok_id, FALSE);
		g_autoptr(JsonObject) r = aiq_test_agent_send_events(agent, ok_events, NULL, 0);
		g_autofree gchar *ok_path = g_strdup_printf("/api/v1/executions/%s/retry", ok_id);
		g_autoptr(AiqTestResponse) refused =
			aiq_test_request_json(ts, "POST", ok_path, ts->editor_token, NULL);
		aiq_test_assert_status(refused, 409);
	}
}

/* runs the server's main context (where the sweeper runs) until @id shows
 * @expiries lease expiries */
static JsonObject *
wait_for_expiry(AiqTestServer *ts, const gchar *id, gint64 expiries)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < deadline) {
		g_autoptr(JsonObject) obj = NULL;
		while (g_main_context_iteration(NULL, FALSE))
			;
		obj = get_execution_ok(ts, id);
		if (aiq_json_object_get_int(obj, "lease_expiries", 0) == expiries)
			return g_steal_pointer(&obj);
		g_usleep(50 * 1000);
	}
	g_error("the lease of %s did not expire", id);
	return NULL;
}

static void
test_lease_expiry(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "lost", SITE_A);
	g_autofree gchar *id = start(ts, ts->editor_token, workflow_id);
	g_autoptr(AiqTestAgent) first =
		aiq_test_agent_enroll(ts, ts->admin_token, "first", "[\"site-a\"]");
	g_autoptr(AiqTestAgent) second =
		aiq_test_agent_enroll(ts, ts->admin_token, "second", "[\"site-a\"]");
	g_autofree gchar *running = g_strdup_printf("\"%s\"", id);
	g_autofree gchar *leased = aiq_test_agent_lease_one(first);
	g_autoptr(GPtrArray) events = run_events(id, FALSE);
	const gint begin[] = { 0, 1, 2, 3, 4 };
	const gint stray[] = { 6 };
	g_autoptr(JsonObject) r1 =
		aiq_test_agent_send_events(first, events, begin, G_N_ELEMENTS(begin));
	g_autoptr(JsonObject) r2 =
		aiq_test_agent_send_events(first, events, stray, G_N_ELEMENTS(stray));
	g_autoptr(JsonObject) renewed = NULL;
	g_autoptr(JsonObject) requeued = NULL;
	g_autoptr(JsonObject) lost = NULL;
	g_autoptr(JsonArray) jobs = NULL;
	g_autoptr(JsonObject) after = NULL;
	JsonObject *job;

	g_assert_cmpint(ack_of(r1, id), ==, 5);
	g_assert_cmpint(ack_of(r2, id), ==, 5);
	/* heartbeats keep the lease */
	ts->now += 20 * G_USEC_PER_SEC;
	renewed = aiq_test_agent_heartbeat(first, running);
	g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(renewed, "lost")), ==, 0);
	ts->now += 20 * G_USEC_PER_SEC;
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_usleep(1100 * 1000);
	while (g_main_context_iteration(NULL, FALSE))
		;
	{
		g_autoptr(JsonObject) obj = get_execution_ok(ts, id);
		g_assert_cmpint(aiq_json_object_get_int(obj, "lease_expiries", -1), ==, 0);
		g_assert_cmpstr(aiq_json_object_get_string(obj, "agent_id"), ==, first->id);
	}

	/* silence past the deadline: the sweeper gives the job back */
	ts->now += 31 * G_USEC_PER_SEC;
	requeued = wait_for_expiry(ts, id, 1);
	g_assert_true(json_object_get_null_member(requeued, "agent_id"));
	g_assert_cmpstr(aiq_json_object_get_string(requeued, "status"), ==, "running");

	/* another agent takes it, and continues after what was applied */
	jobs = aiq_test_agent_lease(second, 1, 0);
	g_assert_cmpuint(json_array_get_length(jobs), ==, 1);
	job = json_array_get_object_element(jobs, 0);
	g_assert_cmpstr(aiq_json_object_get_string(job, "execution_id"), ==, id);
	g_assert_cmpint(aiq_json_object_get_int(job, "last_seq", 0), ==, 5);
	g_assert_cmpint(
		aiq_json_object_get_int(
			aiq_json_object_get_object(aiq_json_object_get_object(job, "completed"),
						   "fetch"),
			"rows",
			0),
		==,
		3);
	after = get_execution_ok(ts, id);
	g_assert_cmpstr(aiq_json_object_get_string(after, "agent_id"), ==, second->id);
	g_assert_cmpint(aiq_json_object_get_int(after, "lease_expiries", 0), ==, 1);

	/* the first agent comes back: it lost the execution, and its events
	 * are refused */
	lost = aiq_test_agent_heartbeat(first, running);
	g_assert_true(strv_node_contains(aiq_json_object_get_array(lost, "lost"), id));
	{
		const gint next[] = { 5 };
		g_autoptr(JsonObject) refused =
			aiq_test_agent_send_events(first, events, next, G_N_ELEMENTS(next));
		g_autoptr(JsonObject) accepted = NULL;
		g_assert_cmpint(ack_of(refused, id), ==, -1);
		/* the event the first agent sent past its gap (7) was dropped: the
		 * second agent's 6 and 7 count */
		accepted = aiq_test_agent_send_events(second, events, (const gint[]){ 5, 6 }, 2);
		g_assert_cmpint(ack_of(accepted, id), ==, 7);
	}
}

/* the tenant of each job leased, one lease at a time */
static gchar *
lease_tenant(AiqTestAgent *agent, GHashTable *tenant_of)
{
	g_autofree gchar *id = aiq_test_agent_lease_one(agent);
	const gchar *tenant = g_hash_table_lookup(tenant_of, id);
	g_assert_nonnull(tenant);
	return g_strdup(tenant);
}

static void
test_fair_dispatch(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *wf_a = create_workflow(ts, ts->admin_token, "bulk", "");
	g_autofree gchar *wf_b = create_workflow(ts, ts->other_admin_token, "single", "");
	g_autoptr(AiqTestAgent) cloud =
		aiq_test_agent_enroll(ts, ts->platform_token, "cloud-1", "[\"cloud\"]");
	g_autoptr(GHashTable) tenant_of =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gboolean b_seen = FALSE;
	gint64 t0 = g_get_monotonic_time();

	/* tenant A: a backlog of ten thousand; tenant B: one job, later */
	for (guint i = 0; i < 10000; i++)
		g_hash_table_insert(tenant_of, start_direct(ts, ts->tenant_id, wf_a), "A");
	g_test_message("10000 starts in process: %.1f s", (g_get_monotonic_time() - t0) / 1e6);
	g_hash_table_insert(tenant_of, start_direct(ts, ts->other_tenant_id, wf_b), "B");

	/* a cloud worker serves both: B's job within the first two leases */
	for (guint i = 0; i < 2; i++) {
		g_autofree gchar *tenant = lease_tenant(cloud, tenant_of);
		b_seen = b_seen || g_strcmp0(tenant, "B") == 0;
	}
	g_assert_true(b_seen);
	/* and then A's backlog, in order */
	{
		g_autofree gchar *tenant = lease_tenant(cloud, tenant_of);
		g_assert_cmpstr(tenant, ==, "A");
	}
	/* B again, while A still has thousands: B's next job comes at once */
	g_hash_table_insert(tenant_of, start_direct(ts, ts->other_tenant_id, wf_b), "B");
	{
		g_autofree gchar *t1 = lease_tenant(cloud, tenant_of);
		g_autofree gchar *t2 = lease_tenant(cloud, tenant_of);
		g_assert_true(g_strcmp0(t1, "B") == 0 || g_strcmp0(t2, "B") == 0);
	}
	/* a tenant's own agent serves only its tenant */
	{
		g_autoptr(AiqTestAgent) own =
			aiq_test_agent_enroll(ts, ts->other_admin_token, "own", NULL);
		g_autoptr(JsonArray) jobs = aiq_test_agent_lease(own, 10, 0);
		g_assert_cmpuint(json_array_get_length(jobs), ==, 0);
	}
}

static void
test_tier_priority(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *premium_admin = NULL;
	g_autofree gchar *free_admin = NULL;
	g_autofree gchar *premium =
		aiq_test_server_add_tenant(ts, "prem", "premium", &premium_admin);
	g_autofree gchar *free_tenant =
		aiq_test_server_add_tenant(ts, "cheap", "free", &free_admin);
	g_autofree gchar *wf_p = create_workflow(ts, premium_admin, "p", "");
	g_autofree gchar *wf_f = create_workflow(ts, free_admin, "f", "");
	g_autoptr(AiqTestAgent) cloud =
		aiq_test_agent_enroll(ts, ts->platform_token, "cloud", NULL);
	g_autoptr(GHashTable) tenant_of =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint n_premium = 0, n_free = 0, first_free = 0;
	g_autoptr(GString) order = g_string_new(NULL);

	/* the free tenant queued first, even */
	for (guint i = 0; i < 30; i++)
		g_hash_table_insert(tenant_of, start_direct(ts, free_tenant, wf_f), "F");
	for (guint i = 0; i < 30; i++)
		g_hash_table_insert(tenant_of, start_direct(ts, premium, wf_p), "P");
	/* short of capacity: one job at a time */
	for (guint i = 0; i < 25; i++) {
		g_autofree gchar *tenant = lease_tenant(cloud, tenant_of);
		g_string_append(order, tenant);
		if (g_strcmp0(tenant, "P") == 0) {
			n_premium++;
		} else {
			n_free++;
			if (first_free == 0)
				first_free = i + 1;
		}
	}
	g_test_message("lease order: %s", order->str);
	/* premium first, four to one, and free is not starved */
	g_assert_cmpint(order->str[0], ==, 'P');
	g_assert_cmpuint(first_free, >, 0);
	g_assert_cmpuint(first_free, <=, 5);
	g_assert_cmpuint(n_premium, ==, 20);
	g_assert_cmpuint(n_free, ==, 5);
}

static void
test_disable(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "held", SITE_A);
	g_autofree gchar *id = start(ts, ts->editor_token, workflow_id);
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "bad", "[\"site-a\"]");
	g_autoptr(AiqTestAgent) spare =
		aiq_test_agent_enroll(ts, ts->admin_token, "spare", "[\"site-a\"]");
	g_autofree gchar *leased = aiq_test_agent_lease_one(agent);
	g_autofree gchar *path = g_strdup_printf("/api/v1/agents/%s/disable", agent->id);
	g_autoptr(AiqTestResponse) disabled = NULL;
	g_autoptr(AiqTestResponse) refused = NULL;
	g_autoptr(JsonObject) obj = NULL;
	g_autofree gchar *again = NULL;
	ThreadCall parked = { 0 };
	GThread *thread;

	/* a parked lease of the agent is answered when it is disabled */
	thread = lease_in_thread(agent, &parked, 20000);
	g_usleep(300 * 1000);

	disabled = aiq_test_request_json(ts, "POST", path, ts->admin_token, NULL);
	aiq_test_assert_status(disabled, 200);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(disabled), "status"),
			==,
			"disabled");
	g_thread_join(thread);
	g_assert_cmpint(parked.elapsed_us, <, 5 * G_USEC_PER_SEC);
	thread_call_clear(&parked);

	/* its credential fails at once */
	refused = aiq_test_agent_post(agent, "/api/v1/agent/heartbeat", "{\"running\":[]}");
	aiq_test_assert_status(refused, 401);
	/* its job is back in the queue */
	obj = get_execution_ok(ts, id);
	g_assert_true(json_object_get_null_member(obj, "agent_id"));
	again = aiq_test_agent_lease_one(spare);
	g_assert_cmpstr(again, ==, id);

	/* deleted: gone */
	{
		g_autofree gchar *agent_path = g_strdup_printf("/api/v1/agents/%s", spare->id);
		g_autoptr(AiqTestResponse) del =
			aiq_test_request(ts, "DELETE", agent_path, ts->admin_token, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) gone = NULL;
		g_autoptr(AiqTestResponse) dead = NULL;
		g_autoptr(JsonObject) back = NULL;
		aiq_test_assert_status(del, 204);
		gone = aiq_test_request(ts, "GET", agent_path, ts->admin_token, NULL, NULL, 0);
		aiq_test_assert_status(gone, 404);
		dead = aiq_test_agent_post(spare, "/api/v1/agent/lease", "{\"capacity\":1}");
		aiq_test_assert_status(dead, 401);
		back = get_execution_ok(ts, id);
		g_assert_true(json_object_get_null_member(back, "agent_id"));
	}
	/* a cloud worker disabled gives back jobs of every tenant */
	{
		g_autofree gchar *anywhere = create_workflow(ts, ts->other_admin_token, "any", "");
		g_autofree gchar *theirs = start(ts, ts->other_admin_token, anywhere);
		g_autoptr(AiqTestAgent) cloud =
			aiq_test_agent_enroll(ts, ts->platform_token, "cloud", "[\"site-a\"]");
		g_autoptr(JsonArray) jobs = aiq_test_agent_lease(cloud, 10, 0);
		g_autofree gchar *cloud_path =
			g_strdup_printf("/api/v1/agents/%s/disable", cloud->id);
		g_autoptr(AiqTestResponse) off = NULL;
		g_autoptr(AiqTestResponse) resp = NULL;
		g_assert_cmpuint(json_array_get_length(jobs), ==, 2);
		off = aiq_test_request_json(ts, "POST", cloud_path, ts->platform_token, NULL);
		aiq_test_assert_status(off, 200);
		resp = get_execution(ts, ts->other_admin_token, theirs);
		aiq_test_assert_status(resp, 200);
		g_assert_true(
			json_object_get_null_member(aiq_test_response_object(resp), "agent_id"));
	}
}

static void
test_tenancy_roles(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqTestAgent) agent = aiq_test_agent_enroll(ts, ts->admin_token, "mine", NULL);
	g_autoptr(AiqTestResponse) made = aiq_test_request_json(ts,
								"POST",
								"/api/v1/enrollment-tokens",
								ts->admin_token,
								"{}");
	const gchar *token_id = aiq_json_object_get_string(aiq_test_response_object(made), "id");
	struct {
		const gchar *method;
		const gchar *suffix;
	} routes[] = {
		{ "GET", "" },
		{ "POST", "/disable" },
		{ "DELETE", "" },
	};

	/* another tenant's admin: 404 on every agent route */
	for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
		g_autofree gchar *path =
			g_strconcat("/api/v1/agents/", agent->id, routes[i].suffix, NULL);
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
									routes[i].method,
									path,
									ts->other_admin_token,
									NULL);
		aiq_test_assert_status(resp, 404);
	}
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/enrollment-tokens/%s", token_id);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "DELETE", path, ts->other_admin_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 404);
	}
	/* viewers and editors do not manage agents */
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/agents/%s/disable", agent->id);
		g_autofree gchar *del = g_strdup_printf("/api/v1/agents/%s", agent->id);
		g_autoptr(AiqTestResponse) viewer =
			aiq_test_request_json(ts, "POST", path, ts->viewer_token, NULL);
		g_autoptr(AiqTestResponse) editor =
			aiq_test_request_json(ts, "POST", path, ts->editor_token, NULL);
		g_autoptr(AiqTestResponse) viewer_del =
			aiq_test_request(ts, "DELETE", del, ts->viewer_token, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) list = aiq_test_request(ts,
								   "GET",
								   "/api/v1/enrollment-tokens",
								   ts->viewer_token,
								   NULL,
								   NULL,
								   0);
		aiq_test_assert_status(viewer, 403);
		aiq_test_assert_status(editor, 403);
		aiq_test_assert_status(viewer_del, 403);
		aiq_test_assert_status(list, 403);
	}
	/* users are not agents, agents are not users */
	{
		g_autoptr(AiqTestResponse) user = aiq_test_request_json(ts,
									"POST",
									"/api/v1/agent/lease",
									ts->admin_token,
									"{}");
		g_autoptr(AiqTestResponse) as_user = aiq_test_request(ts,
								      "GET",
								      "/api/v1/executions",
								      agent->token,
								      NULL,
								      NULL,
								      0);
		g_autoptr(AiqTestResponse) none =
			aiq_test_request_json(ts, "POST", "/api/v1/agent/heartbeat", NULL, "{}");
		aiq_test_assert_status(user, 403);
		aiq_test_assert_status(as_user, 403);
		aiq_test_assert_status(none, 401);
	}
	/* a heartbeat naming something that is not an id */
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_agent_post(agent,
								      "/api/v1/agent/heartbeat",
								      "{\"running\":[\"nope\"]}");
		aiq_test_assert_status(resp, 422);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/http/agents/enroll", test_enroll);
	g_test_add_func("/aiq/http/agents/list", test_agents_list);
	g_test_add_func("/aiq/http/agents/lease", test_lease);
	g_test_add_func("/aiq/http/agents/labels", test_labels);
	g_test_add_func("/aiq/http/agents/long-poll", test_long_poll);
	g_test_add_func("/aiq/http/agents/ingest", test_ingest);
	g_test_add_func("/aiq/http/agents/replay", test_replay);
	g_test_add_func("/aiq/http/agents/gap", test_gap);
	g_test_add_func("/aiq/http/agents/bad-events", test_bad_events);
	g_test_add_func("/aiq/http/agents/cancel-running", test_cancel_running);
	g_test_add_func("/aiq/http/agents/retry", test_retry);
	g_test_add_func("/aiq/http/agents/lease-expiry", test_lease_expiry);
	g_test_add_func("/aiq/http/agents/fair-dispatch", test_fair_dispatch);
	g_test_add_func("/aiq/http/agents/tier-priority", test_tier_priority);
	g_test_add_func("/aiq/http/agents/disable", test_disable);
	g_test_add_func("/aiq/http/agents/tenancy-roles", test_tenancy_roles);
	return g_test_run();
}
