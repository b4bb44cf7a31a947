/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Executions over the real server: starting (inputs, idempotency), reading,
 * listing with filters and pages, cancelling, re-running, tenancy and roles.
 * Run with `-m perf` for the throughput and list-latency measurements.
 */

#include "config.h"

#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "aiq-client.h"
#include "aiq-executions.h"
#include "aiq-json.h"
#include "aiq-store-identity.h"
#include "aiq-test-db.h"
#include "aiq-test-server.h"
#include "aiq-util.h"

#define WORKFLOW_JSON                                                                  \
	"{\"name\":\"%s\",\"runs_on\":{\"labels\":[\"site-a\"]},"                      \
	"\"inputs\":{\"who\":{\"type\":\"string\",\"required\":true},"                 \
	"\"count\":{\"type\":\"integer\",\"default\":3}},"                             \
	"\"steps\":[{\"id\":\"fetch\",\"uses\":\"transform\",\"with\":{\"value\":1}}," \
	"{\"id\":\"store\",\"uses\":\"transform\",\"with\":{\"value\":2}},"            \
	"{\"id\":\"notify\",\"uses\":\"transform\",\"with\":{\"value\":3}}]}"

static gchar *
create_workflow(AiqTestServer *ts, const gchar *token, const gchar *name)
{
	g_autofree gchar *json = g_strdup_printf(WORKFLOW_JSON, name);
	return aiq_test_create_workflow(ts, token, json);
}

static AiqTestResponse *
start_execution(AiqTestServer *ts,
		const gchar *token,
		const gchar *workflow_id,
		const gchar *body,
		const gchar *idempotency_key)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
	g_autofree gchar *url = g_strdup_printf("%s%s", ts->url, path);
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *auth = g_strdup_printf("Bearer %s", token);
	AiqTestResponse *resp;
	gsize len = 0;
	const gchar *data;

	if (idempotency_key == NULL)
		return aiq_test_request_json(ts, "POST", path, token, body);
	/* with a header the fixture does not set */
	msg = soup_message_new("POST", url);
	soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
	soup_message_headers_replace(soup_message_get_request_headers(msg),
				     "Idempotency-Key",
				     idempotency_key);
	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
		soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
	}
	reply = soup_session_send_and_read(ts->session, msg, NULL, &error);
	g_assert_no_error(error);
	resp = g_new0(AiqTestResponse, 1);
	resp->status = soup_message_get_status(msg);
	resp->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	data = g_bytes_get_data(reply, &len);
	resp->body = g_strndup(data, len);
	resp->json = aiq_json_parse(resp->body, len, 256, &error);
	g_assert_no_error(error);
	return resp;
}

static gchar *
start_ok(AiqTestServer *ts, const gchar *token, const gchar *workflow_id, const gchar *body)
{
	g_autoptr(AiqTestResponse) resp = start_execution(ts, token, workflow_id, body, NULL);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

static AiqTestResponse *
get_execution(AiqTestServer *ts, const gchar *token, const gchar *id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", id);
	return aiq_test_request(ts, "GET", path, token, NULL, NULL, 0);
}

static AiqTestResponse *
post_execution(AiqTestServer *ts,
	       const gchar *token,
	       const gchar *id,
	       const gchar *action,
	       const gchar *body)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/%s", id, action);
	return aiq_test_request_json(ts, "POST", path, token, body);
}

static void
test_start_get(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "sync");
	g_autoptr(AiqTestResponse) started = start_execution(ts,
							     ts->editor_token,
							     workflow_id,
							     "{\"inputs\":{\"who\":\"ann\"}}",
							     NULL);
	g_autoptr(AiqTestResponse) got = NULL;
	g_autofree gchar *started_text = NULL;
	g_autofree gchar *got_text = NULL;
	JsonObject *obj;
	JsonObject *inputs;
	JsonArray *steps;
	const gchar *order[] = { "fetch", "store", "notify" };

	aiq_test_assert_status(started, 201);
	obj = aiq_test_response_object(started);
	g_assert_true(aiq_id_is_valid(aiq_json_object_get_string(obj, "id")));
	g_assert_cmpstr(aiq_json_object_get_string(obj, "workflow_id"), ==, workflow_id);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "workflow"), ==, "sync");
	g_assert_cmpint(aiq_json_object_get_int(obj, "version", 0), ==, 1);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "queued");
	g_assert_cmpstr(aiq_json_object_get_string(obj, "trigger"), ==, "manual");
	g_assert_cmpint(aiq_json_object_get_int(obj, "lease_expiries", -1), ==, 0);
	g_assert_true(json_object_get_null_member(obj, "agent_id"));
	g_assert_true(json_object_get_null_member(obj, "retry_of"));
	g_assert_true(json_object_get_null_member(obj, "error"));
	g_assert_true(json_object_get_null_member(obj, "outputs"));
	g_assert_true(json_object_get_null_member(obj, "started"));
	g_assert_nonnull(aiq_json_object_get_string(obj, "created"));
	/* inputs after defaults */
	inputs = aiq_json_object_get_object(obj, "inputs");
	g_assert_cmpstr(aiq_json_object_get_string(inputs, "who"), ==, "ann");
	g_assert_cmpint(aiq_json_object_get_int(inputs, "count", 0), ==, 3);
	/* every step, pending, in the order of the definition */
	steps = aiq_json_object_get_array(obj, "steps");
	g_assert_cmpuint(json_array_get_length(steps), ==, 3);
	for (guint i = 0; i < 3; i++) {
		JsonObject *step = json_array_get_object_element(steps, i);
		g_assert_cmpstr(aiq_json_object_get_string(step, "id"), ==, order[i]);
		g_assert_cmpstr(aiq_json_object_get_string(step, "status"), ==, "pending");
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(step, "attempts")),
				 ==,
				 0);
	}

	/* what GET shows is what the start answered */
	got = get_execution(ts, ts->viewer_token, aiq_json_object_get_string(obj, "id"));
	aiq_test_assert_status(got, 200);
	started_text = aiq_json_to_string(started->json, FALSE);
	got_text = aiq_json_to_string(got->json, FALSE);
	g_assert_cmpstr(started_text, ==, got_text);

	/* an API key starts with the trigger "api" */
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *key = aiq_auth_issue(aiq_server_get_auth(ts->server),
						       AIQ_TOKEN_KIND_API_KEY,
						       ts->tenant_id,
						       NULL,
						       "editor",
						       "ci",
						       0,
						       NULL,
						       NULL,
						       &error);
		g_autoptr(AiqTestResponse) resp = NULL;
		g_assert_no_error(error);
		resp = start_execution(ts, key, workflow_id, "{\"inputs\":{\"who\":\"ci\"}}", NULL);
		aiq_test_assert_status(resp, 201);
		g_assert_cmpstr(
			aiq_json_object_get_string(aiq_test_response_object(resp), "trigger"),
			==,
			"api");
	}
	/* an unknown execution */
	{
		g_autofree gchar *missing = aiq_id_new();
		g_autoptr(AiqTestResponse) resp = get_execution(ts, ts->viewer_token, missing);
		aiq_test_assert_status(resp, 404);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "not_found");
	}
}

static void
test_start_inputs(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "checked");
	struct {
		const gchar *body;
		const gchar *message;
	} bad[] = {
		{ NULL, "missing required input “who”" },
		{ "{\"inputs\":{}}", "missing required input “who”" },
		{ "{\"inputs\":{\"who\":\"a\",\"count\":\"three\"}}", "expected integer" },
		{ "{\"inputs\":{\"who\":\"a\",\"cuont\":1}}", "did you mean “count”" },
		{ "{\"inputs\":[]}", "inputs: expected an object" },
		{ "{\"inputs\":{\"who\":\"a\"},\"extra\":1}", "extra: unknown member" },
		{ "[1]", "must be a JSON object" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(AiqTestResponse) resp =
			start_execution(ts, ts->editor_token, workflow_id, bad[i].body, NULL);
		aiq_test_assert_status(resp, 422);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "invalid_input");
		if (strstr(resp->body, bad[i].message) == NULL)
			g_error("case %u: %s", i, resp->body);
	}
	/* not JSON */
	{
		g_autofree gchar *path =
			g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "POST",
								   path,
								   ts->editor_token,
								   "text/plain",
								   "who=a",
								   -1);
		aiq_test_assert_status(resp, 415);
	}
	/* no such workflow */
	{
		g_autofree gchar *missing = aiq_id_new();
		g_autoptr(AiqTestResponse) resp =
			start_execution(ts, ts->editor_token, missing, NULL, NULL);
		aiq_test_assert_status(resp, 404);
	}
	/* disabled: 409; enabled again: fine */
	{
		g_autofree gchar *path =
			g_strdup_printf("/api/v1/workflows/%s/disable", workflow_id);
		g_autofree gchar *enable =
			g_strdup_printf("/api/v1/workflows/%s/enable", workflow_id);
		g_autoptr(AiqTestResponse) off =
			aiq_test_request_json(ts, "POST", path, ts->editor_token, NULL);
		g_autoptr(AiqTestResponse) refused = NULL;
		g_autoptr(AiqTestResponse) on = NULL;
		g_autofree gchar *id = NULL;
		aiq_test_assert_status(off, 200);
		refused = start_execution(ts,
					  ts->editor_token,
					  workflow_id,
					  "{\"inputs\":{\"who\":\"a\"}}",
					  NULL);
		aiq_test_assert_status(refused, 409);
		g_assert_cmpstr(aiq_test_response_error_code(refused), ==, "conflict");
		on = aiq_test_request_json(ts, "POST", enable, ts->editor_token, NULL);
		aiq_test_assert_status(on, 200);
		id = start_ok(ts, ts->editor_token, workflow_id, "{\"inputs\":{\"who\":\"a\"}}");
	}
	/* deleted: 404, its executions are kept */
	{
		g_autofree gchar *id =
			start_ok(ts, ts->editor_token, workflow_id, "{\"inputs\":{\"who\":\"b\"}}");
		g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s", workflow_id);
		g_autoptr(AiqTestResponse) del =
			aiq_test_request(ts, "DELETE", path, ts->editor_token, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) refused = NULL;
		g_autoptr(AiqTestResponse) kept = NULL;
		aiq_test_assert_status(del, 204);
		refused = start_execution(ts,
					  ts->editor_token,
					  workflow_id,
					  "{\"inputs\":{\"who\":\"a\"}}",
					  NULL);
		aiq_test_assert_status(refused, 404);
		kept = get_execution(ts, ts->viewer_token, id);
		aiq_test_assert_status(kept, 200);
	}
}

static void
test_idempotency(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "once");
	const gchar *body = "{\"inputs\":{\"who\":\"ann\",\"count\":2}}";
	/* the same inputs, in another order */
	const gchar *same = "{\"inputs\":{\"count\":2,\"who\":\"ann\"}}";
	g_autoptr(AiqTestResponse) first =
		start_execution(ts, ts->editor_token, workflow_id, body, "k-1");
	g_autoptr(AiqTestResponse) again =
		start_execution(ts, ts->editor_token, workflow_id, same, "k-1");
	g_autoptr(AiqTestResponse) other = NULL;
	g_autoptr(AiqTestResponse) fresh = NULL;
	g_autoptr(AiqTestResponse) list = NULL;
	const gchar *id;

	aiq_test_assert_status(first, 201);
	aiq_test_assert_status(again, 200);
	id = aiq_json_object_get_string(aiq_test_response_object(first), "id");
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(again), "id"), ==, id);
	/* the same key with another body */
	other = start_execution(ts,
				ts->editor_token,
				workflow_id,
				"{\"inputs\":{\"who\":\"bob\"}}",
				"k-1");
	aiq_test_assert_status(other, 422);
	g_assert_cmpstr(aiq_test_response_error_code(other), ==, "invalid_input");
	g_assert_nonnull(strstr(other->body, "Idempotency-Key"));
	/* another key: another execution */
	fresh = start_execution(ts, ts->editor_token, workflow_id, body, "k-2");
	aiq_test_assert_status(fresh, 201);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(fresh), "id"), !=, id);
	list = aiq_test_request(ts, "GET", "/api/v1/executions", ts->viewer_token, NULL, NULL, 0);
	aiq_test_assert_status(list, 200);
	g_assert_cmpuint(
		json_array_get_length(
			aiq_json_object_get_array(aiq_test_response_object(list), "items")),
		==,
		2);
	/* a key too long */
	{
		g_autofree gchar *key = g_strnfill(300, 'k');
		g_autoptr(AiqTestResponse) resp =
			start_execution(ts, ts->editor_token, workflow_id, body, key);
		aiq_test_assert_status(resp, 400);
	}
	/* the key is per workflow */
	{
		g_autofree gchar *second = create_workflow(ts, ts->editor_token, "twice");
		g_autoptr(AiqTestResponse) resp =
			start_execution(ts, ts->editor_token, second, body, "k-1");
		aiq_test_assert_status(resp, 201);
	}
}

/* the ids of a list, and its next cursor */
static GPtrArray *
list_ids(AiqTestServer *ts, const gchar *query, gchar **next_cursor)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions%s", query);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	JsonArray *items;
	aiq_test_assert_status(resp, 200);
	items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *item = json_array_get_object_element(items, i);
		g_assert_null(json_object_get_member(item, "steps"));
		g_ptr_array_add(ids, g_strdup(aiq_json_object_get_string(item, "id")));
	}
	if (next_cursor != NULL)
		*next_cursor = g_strdup(
			aiq_json_object_get_string(aiq_test_response_object(resp), "next_cursor"));
	return ids;
}

static void
test_list(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *wf_a = create_workflow(ts, ts->editor_token, "alpha");
	g_autofree gchar *wf_b = create_workflow(ts, ts->editor_token, "beta");
	g_autoptr(GPtrArray) started = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *api_key = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *middle = NULL;
	g_autofree gchar *query = NULL;
	gint64 t0 = ts->now;

	api_key = aiq_auth_issue(aiq_server_get_auth(ts->server),
				 AIQ_TOKEN_KIND_API_KEY,
				 ts->tenant_id,
				 NULL,
				 "editor",
				 "ci",
				 0,
				 NULL,
				 NULL,
				 &error);
	g_assert_no_error(error);
	/* ten executions a minute apart: even ones of alpha, odd ones of beta
	 * (by API key) */
	for (guint i = 0; i < 10; i++) {
		ts->now = t0 + (gint64)i * 60 * G_USEC_PER_SEC;
		g_ptr_array_add(started,
				start_ok(ts,
					 i % 2 == 0 ? ts->editor_token : api_key,
					 i % 2 == 0 ? wf_a : wf_b,
					 "{\"inputs\":{\"who\":\"x\"}}"));
	}
	/* cancel two */
	for (guint i = 0; i < 2; i++) {
		g_autoptr(AiqTestResponse) resp = post_execution(ts,
								 ts->editor_token,
								 g_ptr_array_index(started, i),
								 "cancel",
								 NULL);
		aiq_test_assert_status(resp, 202);
	}

	/* newest first */
	{
		g_autoptr(GPtrArray) ids = list_ids(ts, "", NULL);
		g_assert_cmpuint(ids->len, ==, 10);
		for (guint i = 0; i < 10; i++)
			g_assert_cmpstr(g_ptr_array_index(ids, i),
					==,
					g_ptr_array_index(started, 9 - i));
	}
	/* pages of three */
	{
		g_autofree gchar *cursor = NULL;
		guint seen = 0;
		do {
			g_autofree gchar *q =
				cursor != NULL ? g_strdup_printf("?limit=3&cursor=%s", cursor)
					       : g_strdup("?limit=3");
			g_autoptr(GPtrArray) ids = NULL;
			g_clear_pointer(&cursor, g_free);
			ids = list_ids(ts, q, &cursor);
			for (guint i = 0; i < ids->len; i++, seen++)
				g_assert_cmpstr(g_ptr_array_index(ids, i),
						==,
						g_ptr_array_index(started, 9 - seen));
		} while (cursor != NULL);
		g_assert_cmpuint(seen, ==, 10);
	}
	/* by workflow */
	{
		g_autofree gchar *q = g_strdup_printf("?workflow_id=%s", wf_b);
		g_autoptr(GPtrArray) ids = list_ids(ts, q, NULL);
		g_assert_cmpuint(ids->len, ==, 5);
		g_assert_cmpstr(g_ptr_array_index(ids, 0), ==, g_ptr_array_index(started, 9));
	}
	/* by status */
	{
		g_autoptr(GPtrArray) cancelled = list_ids(ts, "?status=cancelled", NULL);
		g_autoptr(GPtrArray) queued = list_ids(ts, "?status=queued&limit=1000", NULL);
		g_assert_cmpuint(cancelled->len, ==, 2);
		g_assert_cmpstr(g_ptr_array_index(cancelled, 0), ==, g_ptr_array_index(started, 1));
		g_assert_cmpuint(queued->len, ==, 8);
	}
	/* by trigger */
	{
		g_autoptr(GPtrArray) api = list_ids(ts, "?trigger=api", NULL);
		g_autoptr(GPtrArray) manual = list_ids(ts, "?trigger=manual", NULL);
		g_assert_cmpuint(api->len, ==, 5);
		g_assert_cmpuint(manual->len, ==, 5);
	}
	/* by time: [t0 + 3 min, t0 + 6 min) */
	{
		g_autofree gchar *since = aiq_time_to_iso8601(t0 + 3 * 60 * G_USEC_PER_SEC);
		g_autofree gchar *until = aiq_time_to_iso8601(t0 + 6 * 60 * G_USEC_PER_SEC);
		g_autoptr(GPtrArray) ids = NULL;
		query = g_strdup_printf("?since=%s&until=%s", since, until);
		ids = list_ids(ts, query, NULL);
		g_assert_cmpuint(ids->len, ==, 3);
		g_assert_cmpstr(g_ptr_array_index(ids, 0), ==, g_ptr_array_index(started, 5));
		g_assert_cmpstr(g_ptr_array_index(ids, 2), ==, g_ptr_array_index(started, 3));
		middle = g_strdup_printf("?workflow_id=%s&status=queued&since=%s", wf_a, since);
	}
	/* several at once */
	{
		g_autoptr(GPtrArray) ids = list_ids(ts, middle, NULL);
		g_assert_cmpuint(ids->len, ==, 3); /* 4, 6, 8 */
	}
	/* bad filters */
	{
		const gchar *bad[] = { "?status=done",
				       "?trigger=cron",
				       "?since=yesterday",
				       "?limit=0",
				       "?cursor=%21%21" };
		for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_autofree gchar *path = g_strdup_printf("/api/v1/executions%s", bad[i]);
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
			aiq_test_assert_status(resp, 400);
		}
	}
	/* another tenant sees none of them */
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "GET",
								   "/api/v1/executions",
								   ts->other_admin_token,
								   NULL,
								   NULL,
								   0);
		aiq_test_assert_status(resp, 200);
		g_assert_cmpuint(
			json_array_get_length(
				aiq_json_object_get_array(aiq_test_response_object(resp), "items")),
			==,
			0);
	}
}

/* the message of an error answer */
static const gchar *
error_message(AiqTestResponse *resp)
{
	return aiq_json_object_get_string(
		aiq_json_object_get_object(aiq_test_response_object(resp), "error"),
		"message");
}

/* the page of a list by offset: its ids, and its total when counted (-1
 * when the answer has none) */
static GPtrArray *
list_ids_total(AiqTestServer *ts, const gchar *query, gint64 *total)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions%s", query);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	JsonObject *obj;
	JsonArray *items;
	aiq_test_assert_status(resp, 200);
	obj = aiq_test_response_object(resp);
	items = aiq_json_object_get_array(obj, "items");
	for (guint i = 0; i < json_array_get_length(items); i++)
		g_ptr_array_add(
			ids,
			g_strdup(aiq_json_object_get_string(json_array_get_object_element(items, i),
							    "id")));
	*total = json_object_has_member(obj, "total") ? aiq_json_object_get_int(obj, "total", -2)
						      : -1;
	return ids;
}

static void
test_list_offset(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *wf_a = create_workflow(ts, ts->editor_token, "alpha");
	g_autofree gchar *wf_b = create_workflow(ts, ts->editor_token, "beta");
	g_autoptr(GPtrArray) newest_first = NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) cancelled = g_ptr_array_new_with_free_func(g_free);
	gint64 t0 = ts->now;
	gint64 total = 0;
	const guint n = 23;

	/* 23 executions, three to a second, so that pages must also order
	 * those created at the same instant (by id); every fourth one of
	 * alpha is cancelled */
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *id = NULL;
		ts->now = t0 + (gint64)(i / 3) * G_USEC_PER_SEC;
		id = start_ok(ts,
			      ts->editor_token,
			      i % 2 == 0 ? wf_a : wf_b,
			      "{\"inputs\":{\"who\":\"x\"}}");
		if (i % 4 == 0) {
			g_autoptr(AiqTestResponse) resp =
				post_execution(ts, ts->editor_token, id, "cancel", NULL);
			aiq_test_assert_status(resp, 202);
			g_ptr_array_add(cancelled, g_strdup(id));
		}
	}
	newest_first = list_ids(ts, "?limit=1000", NULL);
	g_assert_cmpuint(newest_first->len, ==, n);

	/* pages of five by offset: every execution exactly once, in the
	 * order of the whole list, with the total on each page asked for */
	for (guint offset = 0; offset < n + 5; offset += 5) {
		g_autofree gchar *q = g_strdup_printf("?limit=5&offset=%u&count=true", offset);
		g_autoptr(GPtrArray) ids = list_ids_total(ts, q, &total);
		g_assert_cmpint(total, ==, n);
		g_assert_cmpuint(ids->len, ==, MIN(5, n - MIN(offset, n)));
		for (guint i = 0; i < ids->len; i++) {
			g_assert_cmpstr(g_ptr_array_index(ids, i),
					==,
					g_ptr_array_index(newest_first, offset + i));
			g_assert_true(g_hash_table_add(seen, g_strdup(g_ptr_array_index(ids, i))));
		}
	}
	g_assert_cmpuint(g_hash_table_size(seen), ==, n);
	/* no total unless asked for; count=false is not asking */
	{
		g_autoptr(GPtrArray) ids = list_ids_total(ts, "?offset=20", &total);
		g_assert_cmpint(total, ==, -1);
		g_assert_cmpuint(ids->len, ==, 3);
		g_clear_pointer(&ids, g_ptr_array_unref);
		ids = list_ids_total(ts, "?limit=2&count=false", &total);
		g_assert_cmpint(total, ==, -1);
	}
	/* the total follows the filters, the page by offset too */
	{
		g_autofree gchar *q = NULL;
		g_autoptr(GPtrArray) ids =
			list_ids_total(ts, "?status=cancelled&count=true", &total);
		g_assert_cmpint(total, ==, cancelled->len);
		g_assert_cmpint(total, ==, 6);
		/* newest first: the last one cancelled is the first listed */
		g_assert_cmpstr(g_ptr_array_index(ids, 0), ==, g_ptr_array_index(cancelled, 5));
		g_clear_pointer(&ids, g_ptr_array_unref);
		ids = list_ids_total(ts, "?status=cancelled&offset=4&limit=10&count=true", &total);
		g_assert_cmpint(total, ==, 6);
		g_assert_cmpuint(ids->len, ==, 2);
		g_assert_cmpstr(g_ptr_array_index(ids, 0), ==, g_ptr_array_index(cancelled, 1));
		g_assert_cmpstr(g_ptr_array_index(ids, 1), ==, g_ptr_array_index(cancelled, 0));
		g_clear_pointer(&ids, g_ptr_array_unref);
		ids = list_ids_total(ts, "?status=queued&count=true&limit=1", &total);
		g_assert_cmpint(total, ==, n - 6);
		g_clear_pointer(&ids, g_ptr_array_unref);
		q = g_strdup_printf("?workflow_id=%s&status=queued&count=true&offset=1", wf_b);
		ids = list_ids_total(ts, q, &total);
		g_assert_cmpint(total, ==, 11); /* beta's are never cancelled */
		g_assert_cmpuint(ids->len, ==, 10);
		g_clear_pointer(&ids, g_ptr_array_unref);
	}
	/* and the time filters: [t0 + 2 s, t0 + 5 s) holds i = 6 to 14 */
	{
		g_autofree gchar *since = aiq_time_to_iso8601(t0 + 2 * G_USEC_PER_SEC);
		g_autofree gchar *until = aiq_time_to_iso8601(t0 + 5 * G_USEC_PER_SEC);
		g_autofree gchar *q =
			g_strdup_printf("?since=%s&until=%s&count=true&offset=8", since, until);
		g_autoptr(GPtrArray) ids = list_ids_total(ts, q, &total);
		g_assert_cmpint(total, ==, 9);
		g_assert_cmpuint(ids->len, ==, 1);
	}
	/* another tenant counts none of them */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts,
					 "GET",
					 "/api/v1/executions?count=true&offset=1",
					 ts->other_admin_token,
					 NULL,
					 NULL,
					 0);
		JsonObject *obj;
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpint(aiq_json_object_get_int(obj, "total", -1), ==, 0);
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(obj, "items")),
				 ==,
				 0);
	}
	/* offset with cursor, or a bad offset or count: 400 naming the field */
	{
		g_autofree gchar *cursor = NULL;
		g_autoptr(GPtrArray) first = list_ids(ts, "?limit=3", &cursor);
		/* those ending in `cursor=` get a real cursor */
		struct {
			const gchar *query;
			const gchar *field;
		} bad[] = {
			{ "?offset=3&cursor=", "offset" }, { "?offset=0&cursor=", "offset" },
			{ "?cursor=&offset=1", "offset" }, { "?offset=-1", "offset" },
			{ "?offset=ten", "offset" },       { "?offset=2147483648", "offset" },
			{ "?offset=", "offset" },          { "?count=yes", "count" },
		};
		g_assert_nonnull(cursor);
		for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_autofree gchar *path =
				g_strconcat("/api/v1/executions",
					    bad[i].query,
					    g_str_has_suffix(bad[i].query, "cursor=") ? cursor : "",
					    NULL);
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
			g_autofree gchar *prefix = g_strdup_printf("%s: ", bad[i].field);
			aiq_test_assert_status(resp, 400);
			g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "invalid_argument");
			g_assert_true(g_str_has_prefix(error_message(resp), prefix));
		}
	}
	/* the typed client sends offset and count, and leaves them out at 0 */
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *ca =
			g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
		g_autoptr(AiqClient) client = aiq_client_new(ts->url, &error);
		g_autoptr(JsonNode) page = NULL;
		AiqClientExecutionQuery query = {
			.status = "cancelled",
			.limit = 2,
			.offset = 3,
			.count = TRUE,
		};
		JsonArray *items;
		g_assert_no_error(error);
		g_assert_true(aiq_client_set_ca_file(client, ca, &error));
		aiq_client_set_token(client, ts->viewer_token);
		page = aiq_client_list_executions_sync(client, &query, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpint(aiq_json_object_get_int(json_node_get_object(page), "total", -1),
				==,
				6);
		items = aiq_json_object_get_array(json_node_get_object(page), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 2);
		g_assert_cmpstr(
			aiq_json_object_get_string(json_array_get_object_element(items, 0), "id"),
			==,
			g_ptr_array_index(cancelled, 2));
		g_clear_pointer(&page, json_node_unref);
		query = (AiqClientExecutionQuery){ .limit = 2 };
		page = aiq_client_list_executions_sync(client, &query, NULL, &error);
		g_assert_no_error(error);
		g_assert_false(json_object_has_member(json_node_get_object(page), "total"));
		g_assert_nonnull(
			aiq_json_object_get_string(json_node_get_object(page), "next_cursor"));
	}
}

static void
test_cancel_queued(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "stop");
	g_autofree gchar *id =
		start_ok(ts, ts->editor_token, workflow_id, "{\"inputs\":{\"who\":\"a\"}}");
	g_autoptr(AiqTestResponse) cancelled =
		post_execution(ts, ts->editor_token, id, "cancel", NULL);
	g_autoptr(AiqTestResponse) again = NULL;
	JsonObject *obj;
	JsonArray *steps;

	aiq_test_assert_status(cancelled, 202);
	obj = aiq_test_response_object(cancelled);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "cancelled");
	g_assert_nonnull(aiq_json_object_get_string(obj, "finished"));
	g_assert_cmpstr(
		aiq_json_object_get_string(aiq_json_object_get_object(obj, "error"), "code"),
		==,
		"cancelled");
	steps = aiq_json_object_get_array(obj, "steps");
	for (guint i = 0; i < json_array_get_length(steps); i++)
		g_assert_cmpstr(aiq_json_object_get_string(json_array_get_object_element(steps, i),
							   "status"),
				==,
				"cancelled");
	/* a finished execution is not cancelled again */
	again = post_execution(ts, ts->editor_token, id, "cancel", NULL);
	aiq_test_assert_status(again, 409);
}

static void
test_rerun(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "again");
	g_autofree gchar *id =
		start_ok(ts, ts->editor_token, workflow_id, "{\"inputs\":{\"who\":\"a\"}}");
	g_autoptr(AiqTestResponse) rerun =
		post_execution(ts,
			       ts->editor_token,
			       id,
			       "rerun",
			       "{\"inputs\":{\"who\":\"b\",\"count\":9}}");
	g_autoptr(AiqTestResponse) same = post_execution(ts, ts->editor_token, id, "rerun", NULL);
	g_autoptr(AiqTestResponse) bad =
		post_execution(ts, ts->editor_token, id, "rerun", "{\"inputs\":{\"nobody\":1}}");
	g_autoptr(AiqTestResponse) retry = NULL;
	JsonObject *obj;
	JsonObject *inputs;

	aiq_test_assert_status(rerun, 201);
	obj = aiq_test_response_object(rerun);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "id"), !=, id);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "queued");
	g_assert_cmpint(aiq_json_object_get_int(obj, "version", 0), ==, 1);
	inputs = aiq_json_object_get_object(obj, "inputs");
	g_assert_cmpstr(aiq_json_object_get_string(inputs, "who"), ==, "b");
	g_assert_cmpint(aiq_json_object_get_int(inputs, "count", 0), ==, 9);
	/* without inputs: the same as before */
	aiq_test_assert_status(same, 201);
	inputs = aiq_json_object_get_object(aiq_test_response_object(same), "inputs");
	g_assert_cmpstr(aiq_json_object_get_string(inputs, "who"), ==, "a");
	aiq_test_assert_status(bad, 422);
	/* a queued execution is not retried */
	retry = post_execution(ts, ts->editor_token, id, "retry", NULL);
	aiq_test_assert_status(retry, 409);
	/* a re-run keeps the version it ran, not the latest */
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s", workflow_id);
		g_autofree gchar *json = g_strdup_printf(WORKFLOW_JSON, "again");
		g_autofree gchar *changed = NULL;
		g_autoptr(AiqTestResponse) put = NULL;
		g_autoptr(AiqTestResponse) resp = NULL;
		g_autoptr(AiqTestResponse) latest = NULL;
		/* version 2: one more step */
		changed = g_strdup(json);
		{
			gchar *end = strrchr(changed, ']');
			g_autofree gchar *head = g_strndup(changed, end - changed);
			g_free(changed);
			changed = g_strdup_printf("%s,{\"id\":\"extra\",\"uses\":\"transform\","
						  "\"with\":{\"value\":4}}]}",
						  head);
		}
		put = aiq_test_request_json(ts, "PUT", path, ts->editor_token, changed);
		aiq_test_assert_status(put, 200);
		resp = post_execution(ts, ts->editor_token, id, "rerun", NULL);
		aiq_test_assert_status(resp, 201);
		g_assert_cmpint(
			aiq_json_object_get_int(aiq_test_response_object(resp), "version", 0),
			==,
			1);
		g_assert_cmpuint(
			json_array_get_length(
				aiq_json_object_get_array(aiq_test_response_object(resp), "steps")),
			==,
			3);
		latest = start_execution(ts,
					 ts->editor_token,
					 workflow_id,
					 "{\"inputs\":{\"who\":\"c\"}}",
					 NULL);
		aiq_test_assert_status(latest, 201);
		g_assert_cmpint(
			aiq_json_object_get_int(aiq_test_response_object(latest), "version", 0),
			==,
			2);
		g_assert_cmpuint(json_array_get_length(
					 aiq_json_object_get_array(aiq_test_response_object(latest),
								   "steps")),
				 ==,
				 4);
	}
}

static void
test_events_empty(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "quiet");
	g_autofree gchar *id =
		start_ok(ts, ts->editor_token, workflow_id, "{\"inputs\":{\"who\":\"a\"}}");
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/events?after=0", id);
	g_autofree gchar *bad = g_strdup_printf("/api/v1/executions/%s/events?after=-1", id);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
	g_autoptr(AiqTestResponse) refused =
		aiq_test_request(ts, "GET", bad, ts->viewer_token, NULL, NULL, 0);
	aiq_test_assert_status(resp, 200);
	g_assert_cmpuint(
		json_array_get_length(
			aiq_json_object_get_array(aiq_test_response_object(resp), "items")),
		==,
		0);
	aiq_test_assert_status(refused, 400);
}

/* another tenant's execution is not there: 404 on every route */
static void
test_tenancy(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "mine");
	g_autofree gchar *id =
		start_ok(ts, ts->editor_token, workflow_id, "{\"inputs\":{\"who\":\"a\"}}");
	const gchar *token = ts->other_admin_token;
	struct {
		const gchar *method;
		const gchar *suffix;
		const gchar *body;
	} routes[] = {
		{ "GET", "", NULL },
		{ "GET", "/events", NULL },
		{ "POST", "/cancel", NULL },
		{ "POST", "/retry", NULL },
		{ "POST", "/rerun", "{\"inputs\":{\"who\":\"x\"}}" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
		g_autofree gchar *path =
			g_strconcat("/api/v1/executions/", id, routes[i].suffix, NULL);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts, routes[i].method, path, token, routes[i].body);
		aiq_test_assert_status(resp, 404);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "not_found");
	}
	/* nor can it start an execution of our workflow */
	{
		g_autoptr(AiqTestResponse) resp = start_execution(ts,
								  token,
								  workflow_id,
								  "{\"inputs\":{\"who\":\"a\"}}",
								  NULL);
		aiq_test_assert_status(resp, 404);
	}
	/* and ours is untouched */
	{
		g_autoptr(AiqTestResponse) resp = get_execution(ts, ts->viewer_token, id);
		aiq_test_assert_status(resp, 200);
		g_assert_cmpstr(
			aiq_json_object_get_string(aiq_test_response_object(resp), "status"),
			==,
			"queued");
	}
}

static void
test_roles(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "roles");
	g_autofree gchar *id =
		start_ok(ts, ts->editor_token, workflow_id, "{\"inputs\":{\"who\":\"a\"}}");
	const gchar *writes[] = { "cancel", "retry", "rerun" };

	{
		g_autoptr(AiqTestResponse) resp = start_execution(ts,
								  ts->viewer_token,
								  workflow_id,
								  "{\"inputs\":{\"who\":\"a\"}}",
								  NULL);
		aiq_test_assert_status(resp, 403);
	}
	for (guint i = 0; i < G_N_ELEMENTS(writes); i++) {
		g_autoptr(AiqTestResponse) resp =
			post_execution(ts, ts->viewer_token, id, writes[i], "{}");
		aiq_test_assert_status(resp, 403);
	}
	{
		g_autoptr(AiqTestResponse) get = get_execution(ts, ts->viewer_token, id);
		g_autoptr(AiqTestResponse) none = get_execution(ts, NULL, id);
		aiq_test_assert_status(get, 200);
		aiq_test_assert_status(none, 401);
	}
}

/* measurements, with -m perf */

static gint
compare_double(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a;
	gdouble y = *(const gdouble *)b;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/* the client side of a measurement sends without Nagle's delay, as a
 * real agent should: else each small POST waits for a delayed ACK */
static void
nodelay_network_event_cb(SoupMessage *msg,
			 GSocketClientEvent event,
			 GIOStream *connection,
			 gpointer user_data)
{
	if (event == G_SOCKET_CLIENT_CONNECTED && G_IS_SOCKET_CONNECTION(connection))
		g_socket_set_option(g_socket_connection_get_socket(G_SOCKET_CONNECTION(connection)),
				    IPPROTO_TCP,
				    TCP_NODELAY,
				    1,
				    NULL);
}

typedef struct {
	AiqTestServer *ts;
	const gchar *workflow_id;
	guint n;
	guint failures;
} StartWorker;

static gpointer
start_worker_func(gpointer user_data)
{
	StartWorker *w = user_data;
	g_autofree gchar *ca = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	g_autoptr(GTlsDatabase) db = g_tls_file_database_new(ca, NULL);
	g_autoptr(SoupSession) session = soup_session_new_with_options("tls-database", db, NULL);
	g_autofree gchar *url =
		g_strdup_printf("%s/api/v1/workflows/%s/executions", w->ts->url, w->workflow_id);
	g_autofree gchar *auth = g_strdup_printf("Bearer %s", w->ts->editor_token);
	for (guint i = 0; i < w->n; i++) {
		g_autoptr(SoupMessage) msg = soup_message_new("POST", url);
		const gchar *text = "{\"inputs\":{\"who\":\"p\"}}";
		g_autoptr(GBytes) body = g_bytes_new_static(text, strlen(text));
		g_autoptr(GBytes) reply = NULL;
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "Authorization",
					     auth);
		soup_message_set_request_body_from_bytes(msg, "application/json", body);
		/* libsoup opens a new connection for every POST unless told
		 * that it may reuse one */
		soup_message_add_flags(msg, SOUP_MESSAGE_IDEMPOTENT);
		g_signal_connect(msg, "network-event", G_CALLBACK(nodelay_network_event_cb), NULL);
		reply = soup_session_send_and_read(session, msg, NULL, NULL);
		if (soup_message_get_status(msg) != 201)
			w->failures++;
	}
	return NULL;
}

typedef struct {
	AiqTestServer *ts;
	const gchar *workflow_id;
	guint n;
} DirectWorker;

static gpointer
direct_worker_func(gpointer user_data)
{
	DirectWorker *w = user_data;
	for (guint i = 0; i < w->n; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonObject) inputs = json_object_new();
		g_autoptr(JsonNode) node = NULL;
		AiqStartRequest request = {
			.tenant_id = w->ts->tenant_id,
			.workflow_id = w->workflow_id,
			.inputs = inputs,
			.trigger = "api",
		};
		json_object_set_string_member(inputs, "who", "p");
		node = aiq_executions_start(w->ts->server, &request, NULL, &error);
		g_assert_no_error(error);
	}
	return NULL;
}

/* the same in process: what the server does without HTTP and TLS */
static void
test_perf_starts_direct(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "direct");
	const guint n_threads = 64, per_thread = 250;
	DirectWorker workers[64];
	GThread *threads[64];
	gint64 t0 = g_get_monotonic_time();
	gdouble seconds;

	for (guint i = 0; i < n_threads; i++) {
		workers[i] = (DirectWorker){ ts, workflow_id, per_thread };
		threads[i] = g_thread_new("direct", direct_worker_func, &workers[i]);
	}
	for (guint i = 0; i < n_threads; i++)
		g_thread_join(threads[i]);
	seconds = (g_get_monotonic_time() - t0) / 1e6;
	g_test_minimized_result(seconds,
				"%u starts in process from %u threads (the default worker pool) in "
				"%.2f s: %.0f starts/s (%" G_GUINT64_FORMAT " commits)",
				n_threads * per_thread,
				n_threads,
				seconds,
				n_threads * per_thread / seconds,
				aiq_store_get_commits(aiq_server_get_store(ts->server)));
}

static void
test_perf_starts(void)
{
	AiqTestServerOptions options = { .config = "workers=64" };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "busy");
	const guint n_threads =
		MIN(g_ascii_strtoull(g_getenv("AIQ_PERF_THREADS") ?: "32", NULL, 10), 32);
	const guint per_thread =
		g_ascii_strtoull(g_getenv("AIQ_PERF_PER_THREAD") ?: "200", NULL, 10);
	StartWorker workers[32];
	GThread *threads[32];
	gint64 t0;
	gdouble seconds;

	t0 = g_get_monotonic_time();
	for (guint i = 0; i < n_threads; i++) {
		workers[i] = (StartWorker){ ts, workflow_id, per_thread, 0 };
		threads[i] = g_thread_new("start", start_worker_func, &workers[i]);
	}
	for (guint i = 0; i < n_threads; i++) {
		g_thread_join(threads[i]);
		g_assert_cmpuint(workers[i].failures, ==, 0);
	}
	seconds = (g_get_monotonic_time() - t0) / 1e6;
	g_test_minimized_result(seconds,
				"%u starts over HTTPS in %.2f s: %.0f starts/s (%" G_GUINT64_FORMAT
				" commits)",
				n_threads * per_thread,
				seconds,
				n_threads * per_thread / seconds,
				aiq_store_get_commits(aiq_server_get_store(ts->server)));
}

/* a million executions written straight into the store, then filtered
 * pages over HTTPS */
static void
test_perf_list(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "many");
	g_autofree gchar *other_wf = create_workflow(ts, ts->editor_token, "others");
	g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(gdouble));
	const gchar *statuses[] = { "succeeded", "succeeded", "succeeded", "failed", "running" };
	const gchar *queries[] = { "",
				   "?status=failed",
				   "?status=running&limit=100",
				   "?workflow_id=",
				   "?trigger=webhook",
				   "?since=2026-12-31T23:00:00Z" };
	gint64 base = (gint64)1798761600 * G_USEC_PER_SEC;
	const guint n = 1000000;

	{
		g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
		aiq_test_db_exec(db, "BEGIN");
		for (guint i = 0; i < n; i++) {
			g_autofree gchar *id = aiq_id_new();
			aiq_test_db_exec(
				db,
				"INSERT INTO executions (tenant_id, id, workflow_id, "
				"workflow_name, version, status, trigger, inputs, created) "
				"VALUES (?1, ?2, ?3, 'many', 1, ?4, ?5, '{}', ?6)",
				AIQ_TEST_DB_TEXT(i % 10 == 0 ? ts->other_tenant_id : ts->tenant_id),
				AIQ_TEST_DB_TEXT(id),
				AIQ_TEST_DB_TEXT(i % 3 == 0 ? other_wf : workflow_id),
				AIQ_TEST_DB_TEXT(statuses[i % G_N_ELEMENTS(statuses)]),
				AIQ_TEST_DB_TEXT(i % 100 == 0 ? "webhook" : "schedule"),
				AIQ_TEST_DB_INT(base - (gint64)(n - i) * 1000000));
		}
		aiq_test_db_exec(db, "COMMIT");
	}

	for (guint round = 0; round < 20; round++) {
		for (guint q = 0; q < G_N_ELEMENTS(queries); q++) {
			g_autofree gchar *path =
				g_strconcat("/api/v1/executions",
					    queries[q],
					    g_str_has_suffix(queries[q], "=") ? workflow_id : "",
					    NULL);
			gint64 t0 = g_get_monotonic_time();
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
			gdouble ms = (g_get_monotonic_time() - t0) / 1000.0;
			aiq_test_assert_status(resp, 200);
			g_array_append_val(times, ms);
		}
	}
	g_array_sort(times, compare_double);
	g_test_maximized_result(g_array_index(times, gdouble, times->len * 99 / 100),
				"filtered pages over %u executions: p50 %.1f ms, p99 %.1f ms",
				n,
				g_array_index(times, gdouble, times->len / 2),
				g_array_index(times, gdouble, times->len * 99 / 100));
	g_assert_cmpfloat(g_array_index(times, gdouble, times->len * 99 / 100), <=, 50.0);
}

/* 100,000 executions (and their jobs) of one tenant written straight into
 * the store, then pages by offset and totals over HTTPS: what a scrolled
 * list of all of them costs */
static void
test_perf_offset(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *workflow_id = create_workflow(ts, ts->editor_token, "scrolled");
	g_autofree gchar *other_wf = create_workflow(ts, ts->editor_token, "others");
	const gchar *statuses[] = { "succeeded", "succeeded", "succeeded", "failed", "running" };
	gint64 base = (gint64)1798761600 * G_USEC_PER_SEC;
	const guint n = 100000;
	g_autofree gchar *by_workflow = NULL;
	g_autofree gchar *by_workflow_deep = NULL;
	struct {
		const gchar *what;
		const gchar *query;
	} queries[] = {
		{ "first page", "?limit=50" },
		{ "first page, counted", "?limit=50&count=true" },
		{ "offset 50,000", "?limit=50&offset=50000" },
		{ "offset 99,950 (the last page)", "?limit=50&offset=99950" },
		{ "offset 99,950, counted", "?limit=50&offset=99950&count=true" },
		{ "failed (20,000): counted", "?status=failed&limit=50&count=true" },
		{ "failed: offset 19,950", "?status=failed&limit=50&offset=19950" },
		{ "a workflow (66,666): counted", NULL },
		{ "a workflow: offset 66,600", NULL },
		{ "a day: counted", "?since=2026-12-31T00:00:00Z&limit=50&count=true" },
		{ "webhook (1,000, no index): offset 950, counted",
		  "?trigger=webhook&limit=50&offset=950&count=true" },
	};

	{
		g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
		aiq_test_db_exec(db, "BEGIN");
		for (guint i = 0; i < n + n / 10; i++) {
			g_autofree gchar *id = aiq_id_new();
			g_autofree gchar *job_id = aiq_id_new();
			/* every eleventh is the other tenant's */
			const gchar *tenant_id = i % 11 == 10 ? ts->other_tenant_id : ts->tenant_id;
			const gchar *status = statuses[i % G_N_ELEMENTS(statuses)];
			gint64 created = base - (gint64)(n + n / 10 - i) * G_USEC_PER_SEC;
			aiq_test_db_exec(
				db,
				"INSERT INTO executions (tenant_id, id, workflow_id, "
				"workflow_name, version, status, trigger, inputs, created, "
				"started, finished) VALUES (?1, ?2, ?3, 'scrolled', 1, ?4, "
				"?5, '{\"who\":\"someone\"}', ?6, ?6, ?7)",
				AIQ_TEST_DB_TEXT(tenant_id),
				AIQ_TEST_DB_TEXT(id),
				AIQ_TEST_DB_TEXT(i % 3 == 0 ? other_wf : workflow_id),
				AIQ_TEST_DB_TEXT(status),
				AIQ_TEST_DB_TEXT(i % 110 == 0 ? "webhook" : "schedule"),
				AIQ_TEST_DB_INT(created),
				AIQ_TEST_DB_INT_IF(g_strcmp0(status, "running") != 0,
						   created + G_USEC_PER_SEC));
			aiq_test_db_exec(db,
					 "INSERT INTO jobs (tenant_id, id, execution_id, labels, "
					 "tier_rank, state, enqueued) VALUES (?1, ?2, ?3, "
					 "'[\"site-a\"]', 2, 'done', ?4)",
					 AIQ_TEST_DB_TEXT(tenant_id),
					 AIQ_TEST_DB_TEXT(job_id),
					 AIQ_TEST_DB_TEXT(id),
					 AIQ_TEST_DB_INT(created));
		}
		aiq_test_db_exec(db, "COMMIT");
	}

	by_workflow = g_strdup_printf("?workflow_id=%s&limit=50&count=true", workflow_id);
	by_workflow_deep = g_strdup_printf("?workflow_id=%s&limit=50&offset=66600", workflow_id);
	queries[7].query = by_workflow;
	queries[8].query = by_workflow_deep;
	for (guint q = 0; q < G_N_ELEMENTS(queries); q++) {
		g_autofree gchar *path = g_strconcat("/api/v1/executions", queries[q].query, NULL);
		gdouble best = G_MAXDOUBLE;
		gint64 total = -1;
		guint items = 0;
		for (guint round = 0; round < 5; round++) {
			gint64 t0 = g_get_monotonic_time();
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
			JsonObject *obj;
			best = MIN(best, (g_get_monotonic_time() - t0) / 1000.0);
			aiq_test_assert_status(resp, 200);
			obj = aiq_test_response_object(resp);
			total = aiq_json_object_get_int(obj, "total", -1);
			items = json_array_get_length(aiq_json_object_get_array(obj, "items"));
		}
		g_test_message("%s over %u executions: %u items, total %" G_GINT64_FORMAT
			       ", best of 5 over HTTPS: %.1f ms",
			       queries[q].what,
			       n,
			       items,
			       total,
			       best);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/http/executions/start-get", test_start_get);
	g_test_add_func("/aiq/http/executions/inputs", test_start_inputs);
	g_test_add_func("/aiq/http/executions/idempotency", test_idempotency);
	g_test_add_func("/aiq/http/executions/list", test_list);
	g_test_add_func("/aiq/http/executions/list-offset", test_list_offset);
	g_test_add_func("/aiq/http/executions/cancel-queued", test_cancel_queued);
	g_test_add_func("/aiq/http/executions/rerun", test_rerun);
	g_test_add_func("/aiq/http/executions/events-empty", test_events_empty);
	g_test_add_func("/aiq/http/executions/tenancy", test_tenancy);
	g_test_add_func("/aiq/http/executions/roles", test_roles);
	if (g_test_perf()) {
		g_test_add_func("/aiq/http/executions/perf/starts", test_perf_starts);
		g_test_add_func("/aiq/http/executions/perf/starts-direct", test_perf_starts_direct);
		g_test_add_func("/aiq/http/executions/perf/list", test_perf_list);
		g_test_add_func("/aiq/http/executions/perf/offset", test_perf_offset);
	}
	return g_test_run();
}
