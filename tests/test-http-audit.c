/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The audit log over the real server: the record of each kind of change
 * (who, in which tenant's log, what on which target, the request id the
 * client sent, from where, how it ended), reading it with filters and
 * cursors, tenant isolation, the append-only store and the retention's
 * pruning; and the tenant-limits and API-key changes of the identity API.
 */

#include "config.h"

#include <string.h>

#include "aiq-json.h"
#include "aiq-store-audit.h"
#include "aiq-test-agent.h"
#include "aiq-test-db.h"
#include "aiq-test-server.h"
#include "aiq-util.h"

#define TEST_PASSWORD "correct horse battery staple"

#define WORKFLOW_YAML                             \
	"name: %s\n"                              \
	"triggers:\n"                             \
	"  - webhook: {}\n"                       \
	"inputs:\n"                               \
	"  who: { type: string, default: ann }\n" \
	"steps:\n"                                \
	"  - { id: a, uses: transform, with: { value: %d } }\n"

static guint request_serial;

/* a request id of this test run, as a client would send it */
static gchar *
new_request_id(const gchar *what)
{
	return g_strdup_printf("t-%s-%u", what, ++request_serial);
}

/* a request with an X-Request-Id, which the fixture does not send */
static AiqTestResponse *
send_with_id(AiqTestServer *ts,
	     const gchar *method,
	     const gchar *path,
	     const gchar *token,
	     const gchar *content_type,
	     const gchar *body,
	     const gchar *request_id)
{
	g_autofree gchar *url = g_strdup_printf("%s%s", ts->url, path);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	AiqTestResponse *resp = g_new0(AiqTestResponse, 1);
	SoupMessageHeaders *headers;
	const gchar *ct;
	gsize len = 0;
	const gchar *data;

	g_assert_nonnull(msg);
	headers = soup_message_get_request_headers(msg);
	soup_message_headers_replace(headers, "X-Request-Id", request_id);
	if (token != NULL) {
		g_autofree gchar *value = g_strdup_printf("Bearer %s", token);
		soup_message_headers_replace(headers, "Authorization", value);
	}
	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
		soup_message_set_request_body_from_bytes(msg,
							 content_type != NULL ? content_type
									      : "application/json",
							 bytes);
	}
	reply = soup_session_send_and_read(ts->session, msg, NULL, &error);
	g_assert_no_error(error);
	resp->status = soup_message_get_status(msg);
	resp->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	data = g_bytes_get_data(reply, &len);
	resp->body = g_strndup(data, len);
	ct = soup_message_headers_get_content_type(resp->headers, NULL);
	if (len > 0 && g_strcmp0(ct, "application/json") == 0) {
		resp->json = aiq_json_parse(resp->body, len, 256, &error);
		g_assert_no_error(error);
	}
	/* the server answers with the id it was given */
	g_assert_cmpstr(soup_message_headers_get_one(resp->headers, "X-Request-Id"),
			==,
			request_id);
	return resp;
}

static AiqTestResponse *
send_json(AiqTestServer *ts,
	  const gchar *method,
	  const gchar *path,
	  const gchar *token,
	  const gchar *body,
	  const gchar *request_id)
{
	return send_with_id(ts, method, path, token, "application/json", body, request_id);
}

static const gchar *
resp_string(AiqTestResponse *resp, const gchar *member)
{
	return aiq_json_object_get_string(aiq_test_response_object(resp), member);
}

/* every record @token may read with @query, following the cursors */
static JsonArray *
list_all(AiqTestServer *ts, const gchar *token, const gchar *query)
{
	JsonArray *all = json_array_new();
	g_autofree gchar *cursor = NULL;

	for (guint page = 0; page < 1000; page++) {
		g_autofree gchar *escaped =
			cursor != NULL ? g_uri_escape_string(cursor, NULL, FALSE) : NULL;
		g_autofree gchar *path = g_strdup_printf("/api/v1/audit?limit=500%s%s%s%s",
							 query != NULL ? "&" : "",
							 query != NULL ? query : "",
							 escaped != NULL ? "&cursor=" : "",
							 escaped != NULL ? escaped : "");
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, token, NULL, NULL, 0);
		JsonArray *items;
		JsonNode *next;
		aiq_test_assert_status(resp, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
		g_assert_nonnull(items);
		for (guint i = 0; i < json_array_get_length(items); i++)
			json_array_add_element(all,
					       json_node_copy(json_array_get_element(items, i)));
		next = json_object_get_member(aiq_test_response_object(resp), "next_cursor");
		g_assert_nonnull(next);
		if (JSON_NODE_HOLDS_NULL(next))
			return all;
		g_free(cursor);
		cursor = g_strdup(json_node_get_string(next));
	}
	g_assert_not_reached();
}

static guint
count_request(JsonArray *items, const gchar *request_id)
{
	guint n = 0;
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *rec = json_array_get_object_element(items, i);
		if (g_strcmp0(aiq_json_object_get_string(rec, "request_id"), request_id) == 0)
			n++;
	}
	return n;
}

/* the one record of @request_id in the log @token reads with @query */
static JsonObject *
find_record(AiqTestServer *ts, const gchar *token, const gchar *query, const gchar *request_id)
{
	g_autoptr(JsonArray) items = list_all(ts, token, query);
	JsonObject *found = NULL;
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *rec = json_array_get_object_element(items, i);
		if (g_strcmp0(aiq_json_object_get_string(rec, "request_id"), request_id) != 0)
			continue;
		if (found != NULL)
			g_error("two records of request %s", request_id);
		found = json_object_ref(rec);
	}
	if (found == NULL)
		g_error("no record of request %s in the log read with %s",
			request_id,
			query != NULL ? query : "(no query)");
	return found;
}

/* checks a record; a %NULL id or name, a status below 0, is not checked */
static void
assert_record(JsonObject *rec,
	      const gchar *tenant_id,
	      const gchar *actor_type,
	      const gchar *actor_id,
	      const gchar *actor_name,
	      const gchar *action,
	      const gchar *target_type,
	      const gchar *target_id,
	      const gchar *outcome,
	      gint64 status)
{
	JsonObject *actor = aiq_json_object_get_object(rec, "actor");
	JsonObject *target = aiq_json_object_get_object(rec, "target");
	gint64 time_us = 0;

	g_assert_true(aiq_id_is_valid(aiq_json_object_get_string(rec, "id")));
	g_assert_true(
		aiq_time_from_iso8601(aiq_json_object_get_string(rec, "time"), &time_us, NULL));
	g_assert_cmpstr(aiq_json_object_get_string(rec, "tenant_id"), ==, tenant_id);
	g_assert_nonnull(actor);
	g_assert_cmpstr(aiq_json_object_get_string(actor, "type"), ==, actor_type);
	if (actor_id != NULL)
		g_assert_cmpstr(aiq_json_object_get_string(actor, "id"), ==, actor_id);
	if (actor_name != NULL)
		g_assert_cmpstr(aiq_json_object_get_string(actor, "name"), ==, actor_name);
	g_assert_cmpstr(aiq_json_object_get_string(rec, "action"), ==, action);
	g_assert_nonnull(target);
	g_assert_cmpstr(aiq_json_object_get_string(target, "type"), ==, target_type);
	if (target_id != NULL)
		g_assert_cmpstr(aiq_json_object_get_string(target, "id"), ==, target_id);
	g_assert_cmpstr(aiq_json_object_get_string(rec, "source"), ==, "127.0.0.1");
	g_assert_cmpstr(aiq_json_object_get_string(rec, "outcome"), ==, outcome);
	if (status >= 0)
		g_assert_cmpint(aiq_json_object_get_int(rec, "status", 0), ==, status);
	g_assert_true(json_object_has_member(rec, "details"));
}

/* details.FIELD = {from, to}, as strings */
static void
assert_change(JsonObject *rec, const gchar *field, const gchar *from, const gchar *to)
{
	JsonObject *details = aiq_json_object_get_object(rec, "details");
	JsonObject *change = aiq_json_object_get_object(details, field);
	g_assert_nonnull(change);
	g_assert_cmpstr(aiq_json_object_get_string(change, "from"), ==, from);
	g_assert_cmpstr(aiq_json_object_get_string(change, "to"), ==, to);
}

static const gchar *
detail_string(JsonObject *rec, const gchar *member)
{
	return aiq_json_object_get_string(aiq_json_object_get_object(rec, "details"), member);
}

/* a record as text, to look for what it must never hold */
static gchar *
record_text(JsonObject *rec)
{
	g_autoptr(JsonNode) node = aiq_json_new_object(json_object_ref(rec));
	return aiq_json_to_string(node, FALSE);
}

static void
assert_not_in_record(JsonObject *rec, const gchar *secret)
{
	g_autofree gchar *text = record_text(rec);
	if (strstr(text, secret) != NULL)
		g_error("a record holds a secret: %s", text);
}

static gchar *
tenant_id_of(AiqTestServer *ts, const gchar *slug)
{
	g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
							   "GET",
							   "/api/v1/tenants?limit=1000",
							   ts->platform_token,
							   NULL,
							   NULL,
							   0);
	JsonArray *items;
	aiq_test_assert_status(resp, 200);
	items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *t = json_array_get_object_element(items, i);
		if (g_strcmp0(aiq_json_object_get_string(t, "slug"), slug) == 0)
			return g_strdup(aiq_json_object_get_string(t, "id"));
	}
	g_error("no tenant %s", slug);
}

/* @rid: (nullable): the request id to send; %NULL for one of its own */
static gchar *
create_workflow(AiqTestServer *ts, const gchar *token, const gchar *name, const gchar *rid)
{
	g_autofree gchar *yaml = g_strdup_printf(WORKFLOW_YAML, name, 1);
	g_autofree gchar *own = rid == NULL ? new_request_id("wf") : NULL;
	g_autoptr(AiqTestResponse) resp = send_with_id(ts,
						       "POST",
						       "/api/v1/workflows",
						       token,
						       "application/yaml",
						       yaml,
						       rid != NULL ? rid : own);
	aiq_test_assert_status(resp, 201);
	return g_strdup(resp_string(resp, "id"));
}

/* logins, logouts, users, roles and API keys */
static void
test_identity(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *platform_id = tenant_id_of(ts, "platform");
	g_autofree gchar *alice_token =
		aiq_test_server_add_user(ts, ts->tenant_id, "alice", "viewer", TEST_PASSWORD);
	g_autofree gchar *alice_id = NULL;
	g_autofree gchar *session = NULL;
	g_autofree gchar *bob_id = NULL;
	g_autofree gchar *key_id = NULL;
	g_autofree gchar *key_token = NULL;

	/* a login, good and bad */
	{
		g_autofree gchar *rid = new_request_id("login");
		g_autoptr(AiqTestResponse) resp = send_json(
			ts,
			"POST",
			"/api/v1/auth/login",
			NULL,
			"{\"tenant\":\"acme\",\"username\":\"alice\",\"password\":\"" TEST_PASSWORD
			"\"}",
			rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 200);
		session = g_strdup(resp_string(resp, "token"));
		alice_id = g_strdup(aiq_json_object_get_string(
			aiq_json_object_get_object(aiq_test_response_object(resp), "user"),
			"id"));
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      alice_id,
			      "alice",
			      "auth.login",
			      "user",
			      alice_id,
			      "success",
			      200);
		g_assert_cmpstr(aiq_json_object_get_string(rec, "request_id"), ==, rid);
		/* never the password */
		assert_not_in_record(rec, TEST_PASSWORD);
	}
	{
		g_autofree gchar *rid = new_request_id("login-bad");
		g_autoptr(AiqTestResponse) resp = send_json(
			ts,
			"POST",
			"/api/v1/auth/login",
			NULL,
			"{\"tenant\":\"acme\",\"username\":\"alice\",\"password\":\"wrong one "
			"entirely\"}",
			rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 401);
		/* in the tenant's log */
		rec = find_record(ts, ts->admin_token, "action=auth.login", rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      alice_id,
			      "alice",
			      "auth.login",
			      "user",
			      alice_id,
			      "denied",
			      401);
		g_assert_cmpstr(detail_string(rec, "error"), ==, "invalid_credentials");
	}
	{
		/* no such tenant: the platform's log */
		g_autofree gchar *rid = new_request_id("login-nowhere");
		g_autoptr(AiqTestResponse) resp = send_json(
			ts,
			"POST",
			"/api/v1/auth/login",
			NULL,
			"{\"tenant\":\"nowhere\",\"username\":\"mallory\",\"password\":\"x\"}",
			rid);
		g_autoptr(JsonObject) rec = NULL;
		g_autoptr(JsonArray) acme = NULL;
		aiq_test_assert_status(resp, 401);
		rec = find_record(ts, ts->platform_token, "scope=platform", rid);
		assert_record(rec,
			      platform_id,
			      "user",
			      NULL,
			      "mallory",
			      "auth.login",
			      "user",
			      NULL,
			      "denied",
			      401);
		acme = list_all(ts, ts->admin_token, NULL);
		g_assert_cmpuint(count_request(acme, rid), ==, 0);
	}
	/* a logout */
	{
		g_autofree gchar *rid = new_request_id("logout");
		g_autoptr(AiqTestResponse) resp =
			send_json(ts, "POST", "/api/v1/auth/logout", session, NULL, rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 204);
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      alice_id,
			      "alice",
			      "auth.logout",
			      "auth",
			      NULL,
			      "success",
			      204);
	}
	/* a user made, given another role, deleted */
	{
		g_autofree gchar *rid = new_request_id("user-create");
		g_autoptr(AiqTestResponse) resp = send_json(
			ts,
			"POST",
			"/api/v1/users",
			ts->admin_token,
			"{\"username\":\"bob\",\"role\":\"viewer\",\"password\":\"" TEST_PASSWORD
			"\"}",
			rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 201);
		bob_id = g_strdup(resp_string(resp, "id"));
		rec = find_record(ts, ts->admin_token, "action=user.create", rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "acme-admin",
			      "user.create",
			      "user",
			      bob_id,
			      "success",
			      201);
		g_assert_cmpstr(detail_string(rec, "username"), ==, "bob");
		g_assert_cmpstr(detail_string(rec, "role"), ==, "viewer");
		assert_not_in_record(rec, "horse");
	}
	{
		g_autofree gchar *rid = new_request_id("user-role");
		g_autofree gchar *path = g_strdup_printf("/api/v1/users/%s", bob_id);
		g_autoptr(AiqTestResponse) resp =
			send_json(ts,
				  "PATCH",
				  path,
				  ts->admin_token,
				  "{\"role\":\"editor\",\"password\":\"another good password\"}",
				  rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 200);
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "acme-admin",
			      "user.update",
			      "user",
			      bob_id,
			      "success",
			      200);
		assert_change(rec, "role", "viewer", "editor");
		/* that the password changed, not what it is */
		g_assert_cmpstr(detail_string(rec, "password"), ==, "changed");
		assert_not_in_record(rec, "another good password");
	}
	{
		g_autofree gchar *rid = new_request_id("user-delete");
		g_autofree gchar *path = g_strdup_printf("/api/v1/users/%s", bob_id);
		g_autoptr(AiqTestResponse) resp =
			send_json(ts, "DELETE", path, ts->admin_token, NULL, rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 204);
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "acme-admin",
			      "user.delete",
			      "user",
			      bob_id,
			      "success",
			      204);
	}
	/* an API key made, used, revoked */
	{
		g_autofree gchar *rid = new_request_id("key-create");
		g_autoptr(AiqTestResponse) resp = send_json(
			ts,
			"POST",
			"/api/v1/api-keys",
			ts->admin_token,
			"{\"name\":\"ci\",\"role\":\"editor\",\"requests_per_minute\":600}",
			rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 201);
		key_id = g_strdup(resp_string(resp, "id"));
		key_token = g_strdup(resp_string(resp, "token"));
		rec = find_record(ts, ts->admin_token, "action=api_key.", rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "acme-admin",
			      "api_key.create",
			      "api_key",
			      key_id,
			      "success",
			      201);
		g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(rec, "details"),
							"requests_per_minute",
							0),
				==,
				600);
		assert_not_in_record(rec, key_token);
	}
	{
		g_autofree gchar *rid = new_request_id("key-use");
		g_autofree gchar *wf = create_workflow(ts, key_token, "by-key", rid);
		g_autoptr(JsonObject) rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "api_key",
			      key_id,
			      "ci",
			      "workflow.create",
			      "workflow",
			      wf,
			      "success",
			      201);
	}
	{
		g_autofree gchar *rid = new_request_id("key-revoke");
		g_autofree gchar *path = g_strdup_printf("/api/v1/api-keys/%s", key_id);
		g_autoptr(AiqTestResponse) resp =
			send_json(ts, "DELETE", path, ts->admin_token, NULL, rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 204);
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "acme-admin",
			      "api_key.revoke",
			      "api_key",
			      key_id,
			      "success",
			      204);
	}
	g_assert_nonnull(alice_token);
}

/* workflows and their versions, and an attempt the role forbids */
static void
test_workflows(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *rid = new_request_id("wf-create");
	g_autofree gchar *id = create_workflow(ts, ts->editor_token, "flow", rid);
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s", id);
	struct {
		const gchar *method;
		const gchar *suffix;
		const gchar *content_type;
		const gchar *body;
		const gchar *action;
		guint status;
	} changes[] = {
		{ "PUT", "", "application/yaml", NULL, "workflow.update", 200 },
		{ "POST",
		  "/rollback",
		  "application/json",
		  "{\"version\":1}",
		  "workflow.rollback",
		  200 },
		{ "POST", "/disable", NULL, NULL, "workflow.disable", 200 },
		{ "POST", "/enable", NULL, NULL, "workflow.enable", 200 },
		{ "DELETE", "", NULL, NULL, "workflow.delete", 204 },
	};
	g_autofree gchar *v2 = g_strdup_printf(WORKFLOW_YAML, "flow", 2);
	JsonObject *rec;

	rec = find_record(ts, ts->admin_token, NULL, rid);
	assert_record(rec,
		      ts->tenant_id,
		      "user",
		      NULL,
		      "ed",
		      "workflow.create",
		      "workflow",
		      id,
		      "success",
		      201);
	json_object_unref(rec);

	for (guint i = 0; i < G_N_ELEMENTS(changes); i++) {
		g_autofree gchar *change_rid = new_request_id(changes[i].action);
		g_autofree gchar *change_path = g_strconcat(path, changes[i].suffix, NULL);
		g_autoptr(AiqTestResponse) resp = send_with_id(ts,
							       changes[i].method,
							       change_path,
							       ts->editor_token,
							       changes[i].content_type,
							       i == 0 ? v2 : changes[i].body,
							       change_rid);
		g_autoptr(JsonObject) change = NULL;
		aiq_test_assert_status(resp, changes[i].status);
		if (i == 0)
			g_assert_cmpint(aiq_json_object_get_int(aiq_test_response_object(resp),
								"version",
								0),
					==,
					2);
		if (i == 1)
			g_assert_cmpint(aiq_json_object_get_int(aiq_test_response_object(resp),
								"version",
								0),
					==,
					3);
		change = find_record(ts, ts->admin_token, "action=workflow.", change_rid);
		assert_record(change,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "ed",
			      changes[i].action,
			      "workflow",
			      id,
			      "success",
			      changes[i].status);
	}

	/* a viewer may not: denied, and recorded */
	{
		g_autofree gchar *denied_rid = new_request_id("wf-denied");
		g_autofree gchar *yaml = g_strdup_printf(WORKFLOW_YAML, "nope", 1);
		g_autoptr(AiqTestResponse) resp = send_with_id(ts,
							       "POST",
							       "/api/v1/workflows",
							       ts->viewer_token,
							       "application/yaml",
							       yaml,
							       denied_rid);
		g_autoptr(JsonObject) denied = NULL;
		aiq_test_assert_status(resp, 403);
		denied = find_record(ts, ts->admin_token, "outcome=denied", denied_rid);
		assert_record(denied,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "vi",
			      "workflow.create",
			      "workflow",
			      NULL,
			      "denied",
			      403);
		g_assert_cmpstr(detail_string(denied, "error"), ==, "forbidden");
	}
}

/* executions: started by the API and by a webhook, cancelled, retried,
 * run again */
static void
test_executions(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *wf = create_workflow(ts, ts->editor_token, "runs", NULL);
	g_autofree gchar *start_path = g_strdup_printf("/api/v1/workflows/%s/executions", wf);
	g_autofree gchar *exec_id = NULL;

	{
		g_autofree gchar *rid = new_request_id("start");
		g_autoptr(AiqTestResponse) resp =
			send_json(ts, "POST", start_path, ts->editor_token, "{}", rid);
		g_autoptr(JsonObject) rec = NULL;
		const gchar *target_id;
		aiq_test_assert_status(resp, 201);
		exec_id = g_strdup(resp_string(resp, "id"));
		rec = find_record(ts, ts->admin_token, "action=execution.start", rid);
		target_id =
			aiq_json_object_get_string(aiq_json_object_get_object(rec, "target"), "id");
		/* the path's {id} is the workflow's: the record names the
		 * execution started, and the workflow in its details */
		g_assert_cmpstr(target_id, ==, exec_id);
		g_assert_cmpstr(
			aiq_json_object_get_string(aiq_json_object_get_object(rec, "details"),
						   "workflow_id"),
			==,
			wf);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "ed",
			      "execution.start",
			      "execution",
			      NULL,
			      "success",
			      201);
	}
	/* by a webhook: no principal, the tenant's log all the same */
	{
		g_autofree gchar *rid = new_request_id("hook");
		g_autofree gchar *hook_path = g_strdup_printf("/api/v1/workflows/%s/webhook", wf);
		g_autoptr(AiqTestResponse) hook =
			aiq_test_request(ts, "GET", hook_path, ts->editor_token, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) resp = NULL;
		g_autoptr(JsonObject) rec = NULL;
		JsonNode *status;
		aiq_test_assert_status(hook, 200);
		resp = send_json(ts,
				 "POST",
				 resp_string(hook, "path"),
				 NULL,
				 "{\"who\":\"x\"}",
				 rid);
		aiq_test_assert_status(resp, 202);
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "webhook",
			      wf,
			      "runs",
			      "execution.start",
			      "execution",
			      resp_string(resp, "execution_id"),
			      "success",
			      -1);
		/* recorded when started, which may be before the answer (a hook
		 * that answers when the execution finishes) */
		status = json_object_get_member(rec, "status");
		g_assert_true(JSON_NODE_HOLDS_NULL(status) || json_node_get_int(status) == 202);
	}
	{
		g_autofree gchar *rid = new_request_id("cancel");
		g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/cancel", exec_id);
		g_autoptr(AiqTestResponse) resp =
			send_json(ts, "POST", path, ts->editor_token, NULL, rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 202);
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "ed",
			      "execution.cancel",
			      "execution",
			      exec_id,
			      "success",
			      202);
	}
	{
		g_autofree gchar *rid = new_request_id("retry");
		g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/retry", exec_id);
		g_autoptr(AiqTestResponse) resp =
			send_json(ts, "POST", path, ts->editor_token, NULL, rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 201);
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "ed",
			      "execution.retry",
			      "execution",
			      exec_id,
			      "success",
			      201);
	}
	{
		g_autofree gchar *rid = new_request_id("rerun");
		g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/rerun", exec_id);
		g_autoptr(AiqTestResponse) resp = send_json(ts,
							    "POST",
							    path,
							    ts->editor_token,
							    "{\"inputs\":{\"who\":\"z\"}}",
							    rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 201);
		rec = find_record(ts, ts->admin_token, "action=execution.", rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "ed",
			      "execution.rerun",
			      "execution",
			      exec_id,
			      "success",
			      201);
	}
	/* a retry refused: a failure */
	{
		g_autofree gchar *rid = new_request_id("retry-refused");
		g_autoptr(AiqTestResponse) started =
			aiq_test_request_json(ts, "POST", start_path, ts->editor_token, "{}");
		g_autofree gchar *path = NULL;
		g_autoptr(AiqTestResponse) resp = NULL;
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(started, 201);
		path = g_strdup_printf("/api/v1/executions/%s/retry", resp_string(started, "id"));
		resp = send_json(ts, "POST", path, ts->editor_token, NULL, rid);
		aiq_test_assert_status(resp, 409);
		rec = find_record(ts, ts->admin_token, "outcome=failure", rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "ed",
			      "execution.retry",
			      "execution",
			      resp_string(started, "id"),
			      "failure",
			      409);
		g_assert_cmpstr(detail_string(rec, "error"), ==, "conflict");
	}
}

/* enrollment tokens and agents */
static void
test_agents(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *token = NULL;
	g_autofree gchar *token_id = NULL;
	g_autofree gchar *agent_id = NULL;

	{
		g_autofree gchar *rid = new_request_id("enroll-token");
		g_autoptr(AiqTestResponse) resp = send_json(ts,
							    "POST",
							    "/api/v1/enrollment-tokens",
							    ts->admin_token,
							    "{\"name\":\"edge-1\"}",
							    rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 201);
		token = g_strdup(resp_string(resp, "token"));
		token_id = g_strdup(resp_string(resp, "id"));
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "acme-admin",
			      "enrollment_token.create",
			      "enrollment_token",
			      token_id,
			      "success",
			      201);
		assert_not_in_record(rec, token);
	}
	{
		g_autofree gchar *rid = new_request_id("enroll");
		g_autofree gchar *body = g_strdup_printf(
			"{\"token\":\"%s\",\"name\":\"edge-1\",\"version\":\"1.0\",\"capacity\":2}",
			token);
		g_autoptr(AiqTestResponse) resp =
			send_json(ts, "POST", "/api/v1/agents/enroll", NULL, body, rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 201);
		agent_id = g_strdup(resp_string(resp, "agent_id"));
		/* the tenant's log, though the request had no principal */
		rec = find_record(ts, ts->admin_token, "action=agent.enroll", rid);
		assert_record(rec,
			      ts->tenant_id,
			      "agent",
			      agent_id,
			      "edge-1",
			      "agent.enroll",
			      "agent",
			      NULL,
			      "success",
			      201);
	}
	{
		g_autofree gchar *rid = new_request_id("agent-disable");
		g_autofree gchar *path = g_strdup_printf("/api/v1/agents/%s/disable", agent_id);
		g_autoptr(AiqTestResponse) resp =
			send_json(ts, "POST", path, ts->admin_token, NULL, rid);
		g_autoptr(JsonObject) rec = NULL;
		g_assert_cmpuint(resp->status, <, 300);
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "acme-admin",
			      "agent.disable",
			      "agent",
			      agent_id,
			      "success",
			      resp->status);
	}
	{
		g_autofree gchar *rid = new_request_id("agent-delete");
		g_autofree gchar *path = g_strdup_printf("/api/v1/agents/%s", agent_id);
		g_autoptr(AiqTestResponse) resp =
			send_json(ts, "DELETE", path, ts->admin_token, NULL, rid);
		g_autoptr(JsonObject) rec = NULL;
		g_assert_cmpuint(resp->status, <, 300);
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(rec,
			      ts->tenant_id,
			      "user",
			      NULL,
			      "acme-admin",
			      "agent.delete",
			      "agent",
			      agent_id,
			      "success",
			      resp->status);
	}
	{
		g_autofree gchar *other = aiq_test_enrollment_token(ts, ts->admin_token, "{}");
		g_autoptr(AiqTestResponse) list = aiq_test_request(ts,
								   "GET",
								   "/api/v1/enrollment-tokens",
								   ts->admin_token,
								   NULL,
								   NULL,
								   0);
		g_autofree gchar *rid = new_request_id("enroll-token-revoke");
		g_autofree gchar *path = NULL;
		g_autoptr(AiqTestResponse) resp = NULL;
		g_autoptr(JsonObject) rec = NULL;
		JsonArray *items;
		aiq_test_assert_status(list, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(list), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		path = g_strdup_printf(
			"/api/v1/enrollment-tokens/%s",
			aiq_json_object_get_string(json_array_get_object_element(items, 0), "id"));
		resp = send_json(ts, "DELETE", path, ts->admin_token, NULL, rid);
		g_assert_cmpuint(resp->status, <, 300);
		rec = find_record(ts, ts->admin_token, NULL, rid);
		assert_record(
			rec,
			ts->tenant_id,
			"user",
			NULL,
			"acme-admin",
			"enrollment_token.revoke",
			"enrollment_token",
			aiq_json_object_get_string(json_array_get_object_element(items, 0), "id"),
			"success",
			resp->status);
	}
}

/* tenants: made, changed, suspended and activated, at platform scope */
static void
test_tenants(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *platform_id = tenant_id_of(ts, "platform");
	g_autofree gchar *root_id = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *path = NULL;

	{
		g_autofree gchar *rid = new_request_id("tenant-create");
		g_autoptr(AiqTestResponse) resp = send_json(
			ts,
			"POST",
			"/api/v1/tenants",
			ts->platform_token,
			"{\"slug\":\"globex\",\"name\":\"Globex\",\"tier\":\"free\","
			"\"admin\":{\"username\":\"hank\",\"password\":\"" TEST_PASSWORD "\"}}",
			rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 201);
		id = g_strdup(resp_string(resp, "id"));
		path = g_strdup_printf("/api/v1/tenants/%s", id);
		/* the hot retention of its tier */
		g_assert_cmpint(aiq_json_object_get_int(aiq_test_response_object(resp),
							"retention_days",
							0),
				==,
				7);
		rec = find_record(ts, ts->platform_token, "scope=platform", rid);
		assert_record(rec,
			      platform_id,
			      "user",
			      NULL,
			      "root",
			      "tenant.create",
			      "tenant",
			      id,
			      "success",
			      201);
		root_id = g_strdup(
			aiq_json_object_get_string(aiq_json_object_get_object(rec, "actor"), "id"));
		g_assert_true(aiq_id_is_valid(root_id));
		g_assert_cmpstr(detail_string(rec, "slug"), ==, "globex");
		assert_not_in_record(rec, "horse");
	}
	{
		g_autofree gchar *rid = new_request_id("tenant-update");
		g_autoptr(AiqTestResponse) resp =
			send_json(ts,
				  "PATCH",
				  path,
				  ts->platform_token,
				  "{\"name\":\"Globex Corp\",\"tier\":\"free\"}",
				  rid);
		g_autoptr(JsonObject) rec = NULL;
		JsonObject *details;
		aiq_test_assert_status(resp, 200);
		rec = find_record(ts, ts->platform_token, NULL, rid);
		assert_record(rec,
			      platform_id,
			      "user",
			      root_id,
			      "root",
			      "tenant.update",
			      "tenant",
			      id,
			      "success",
			      200);
		assert_change(rec, "name", "Globex", "Globex Corp");
		/* only what changed */
		details = aiq_json_object_get_object(rec, "details");
		g_assert_false(json_object_has_member(details, "tier"));
		g_assert_false(json_object_has_member(details, "status"));
	}
	{
		g_autofree gchar *rid = new_request_id("tenant-suspend");
		g_autoptr(AiqTestResponse) resp = send_json(ts,
							    "PATCH",
							    path,
							    ts->platform_token,
							    "{\"status\":\"suspended\"}",
							    rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 200);
		rec = find_record(ts, ts->platform_token, "action=tenant.", rid);
		assert_record(rec,
			      platform_id,
			      "user",
			      root_id,
			      "root",
			      "tenant.suspend",
			      "tenant",
			      id,
			      "success",
			      200);
		assert_change(rec, "status", "active", "suspended");
	}
	{
		g_autofree gchar *rid = new_request_id("tenant-activate");
		g_autoptr(AiqTestResponse) resp = send_json(ts,
							    "PATCH",
							    path,
							    ts->platform_token,
							    "{\"status\":\"active\"}",
							    rid);
		g_autoptr(JsonObject) rec = NULL;
		aiq_test_assert_status(resp, 200);
		rec = find_record(ts, ts->platform_token, "action=tenant.activate", rid);
		assert_record(rec,
			      platform_id,
			      "user",
			      root_id,
			      "root",
			      "tenant.activate",
			      "tenant",
			      id,
			      "success",
			      200);
		assert_change(rec, "status", "suspended", "active");
	}
	/* the tenant's own admins do not see the platform's records */
	{
		g_autoptr(JsonArray) acme = list_all(ts, ts->admin_token, NULL);
		for (guint i = 0; i < json_array_get_length(acme); i++)
			g_assert_false(g_str_has_prefix(
				aiq_json_object_get_string(json_array_get_object_element(acme, i),
							   "action"),
				"tenant."));
	}
}

static guint
count_action(JsonArray *items, const gchar *action)
{
	guint n = 0;
	for (guint i = 0; i < json_array_get_length(items); i++)
		if (g_strcmp0(aiq_json_object_get_string(json_array_get_object_element(items, i),
							 "action"),
			      action) == 0)
			n++;
	return n;
}

static void
assert_bad_query(AiqTestServer *ts, const gchar *query, guint status, const gchar *parameter)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/audit?%s", query);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(ts, "GET", path, ts->admin_token, NULL, NULL, 0);
	const gchar *message;
	aiq_test_assert_status(resp, status);
	message = aiq_json_object_get_string(
		aiq_json_object_get_object(aiq_test_response_object(resp), "error"),
		"message");
	g_assert_nonnull(message);
	if (!g_str_has_prefix(message, parameter))
		g_error("the error for %s does not name %s: %s", query, parameter, message);
}

/* filters, pages, who reads which log, and that nothing changes it */
static void
test_query(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE, .lasting = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *platform_id = tenant_id_of(ts, "platform");
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *early_rid = new_request_id("early");
	g_autofree gchar *other_rid = new_request_id("other");
	g_autofree gchar *denied_rid = new_request_id("denied");
	g_autofree gchar *since = NULL;
	gint64 middle;

	/* one record early, then seven an hour later */
	g_ptr_array_add(ids, create_workflow(ts, ts->editor_token, "early", early_rid));
	ts->now += (gint64)3600 * G_USEC_PER_SEC;
	middle = ts->now - (gint64)1800 * G_USEC_PER_SEC;
	for (guint i = 0; i < 7; i++) {
		g_autofree gchar *name = g_strdup_printf("wf-%u", i);
		ts->now += G_USEC_PER_SEC;
		g_ptr_array_add(ids,
				create_workflow(ts,
						i % 2 == 0 ? ts->editor_token : ts->admin_token,
						name,
						NULL));
	}
	ts->now += G_USEC_PER_SEC;
	{
		g_autofree gchar *yaml = g_strdup_printf(WORKFLOW_YAML, "no", 1);
		g_autoptr(AiqTestResponse) resp = send_with_id(ts,
							       "POST",
							       "/api/v1/workflows",
							       ts->viewer_token,
							       "application/yaml",
							       yaml,
							       denied_rid);
		aiq_test_assert_status(resp, 403);
	}
	g_free(create_workflow(ts, ts->other_admin_token, "theirs", other_rid));

	/* by action, exact and by prefix */
	{
		g_autoptr(JsonArray) items =
			list_all(ts, ts->admin_token, "action=workflow.create");
		g_assert_cmpuint(json_array_get_length(items), ==, 9);
		g_assert_cmpuint(count_action(items, "workflow.create"), ==, 9);
	}
	{
		g_autoptr(JsonArray) items = list_all(ts, ts->admin_token, "action=workflow.");
		g_assert_cmpuint(json_array_get_length(items), ==, 9);
	}
	{
		g_autoptr(JsonArray) items = list_all(ts, ts->admin_token, "action=workflow.c");
		g_assert_cmpuint(json_array_get_length(items), ==, 0);
	}
	/* by actor: name or id */
	{
		g_autoptr(JsonArray) items = list_all(ts, ts->admin_token, "actor=ed");
		g_autofree gchar *query = NULL;
		g_autoptr(JsonArray) by_id = NULL;
		const gchar *ed_id;
		g_assert_cmpuint(json_array_get_length(items), ==, 5);
		ed_id = aiq_json_object_get_string(
			aiq_json_object_get_object(json_array_get_object_element(items, 0),
						   "actor"),
			"id");
		query = g_strdup_printf("actor=%s", ed_id);
		by_id = list_all(ts, ts->admin_token, query);
		g_assert_cmpuint(json_array_get_length(by_id), ==, 5);
	}
	/* by target */
	{
		g_autofree gchar *query =
			g_strdup_printf("target=%s", (gchar *)g_ptr_array_index(ids, 3));
		g_autoptr(JsonArray) items = list_all(ts, ts->admin_token, query);
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		g_assert_cmpstr(
			aiq_json_object_get_string(
				aiq_json_object_get_object(json_array_get_object_element(items, 0),
							   "target"),
				"id"),
			==,
			g_ptr_array_index(ids, 3));
	}
	/* by outcome */
	{
		g_autoptr(JsonArray) items = list_all(ts, ts->admin_token, "outcome=denied");
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		g_assert_cmpuint(count_request(items, denied_rid), ==, 1);
	}
	/* by time */
	{
		g_autofree gchar *time = aiq_time_to_iso8601(middle);
		g_autofree gchar *escaped = g_uri_escape_string(time, NULL, FALSE);
		g_autofree gchar *after =
			g_strdup_printf("since=%s&action=workflow.create", escaped);
		g_autofree gchar *before = g_strdup_printf("until=%s", escaped);
		g_autoptr(JsonArray) late = list_all(ts, ts->admin_token, after);
		g_autoptr(JsonArray) early = list_all(ts, ts->admin_token, before);
		g_assert_cmpuint(json_array_get_length(late), ==, 8);
		g_assert_cmpuint(count_request(late, early_rid), ==, 0);
		g_assert_cmpuint(json_array_get_length(early), ==, 1);
		g_assert_cmpuint(count_request(early, early_rid), ==, 1);
		since = g_steal_pointer(&escaped);
	}

	/* pages of 2, newest first, each record once */
	{
		g_autoptr(JsonArray) all = list_all(ts, ts->admin_token, NULL);
		g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
		g_autofree gchar *cursor = NULL;
		guint n = 0;
		guint pages = 0;
		gint64 last = G_MAXINT64;
		g_assert_cmpuint(json_array_get_length(all), ==, 9);
		do {
			g_autofree gchar *path =
				cursor != NULL
					? g_strdup_printf("/api/v1/audit?limit=2&cursor=%s", cursor)
					: g_strdup("/api/v1/audit?limit=2");
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request(ts, "GET", path, ts->admin_token, NULL, NULL, 0);
			JsonArray *items;
			aiq_test_assert_status(resp, 200);
			items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
			g_assert_cmpuint(json_array_get_length(items), <=, 2);
			for (guint i = 0; i < json_array_get_length(items); i++) {
				JsonObject *rec = json_array_get_object_element(items, i);
				JsonObject *expected = json_array_get_object_element(all, n);
				const gchar *id = aiq_json_object_get_string(rec, "id");
				gint64 time_us = 0;
				g_assert_true(aiq_time_from_iso8601(
					aiq_json_object_get_string(rec, "time"),
					&time_us,
					NULL));
				g_assert_cmpint(time_us, <=, last);
				last = time_us;
				g_assert_false(g_hash_table_contains(seen, id));
				g_hash_table_add(seen, (gpointer)id);
				g_assert_cmpstr(id, ==, aiq_json_object_get_string(expected, "id"));
				n++;
			}
			g_free(cursor);
			cursor = g_strdup(resp_string(resp, "next_cursor"));
			pages++;
		} while (cursor != NULL);
		g_assert_cmpuint(n, ==, 9);
		g_assert_cmpuint(pages, ==, 5);
		/* the newest is the denied attempt, the oldest the early one */
		g_assert_cmpstr(aiq_json_object_get_string(json_array_get_object_element(all, 0),
							   "request_id"),
				==,
				denied_rid);
		g_assert_cmpstr(aiq_json_object_get_string(json_array_get_object_element(all, 8),
							   "request_id"),
				==,
				early_rid);
	}

	/* bad queries name their parameter */
	assert_bad_query(ts, "limit=0", 400, "limit");
	assert_bad_query(ts, "limit=501", 400, "limit");
	assert_bad_query(ts, "outcome=maybe", 400, "outcome");
	assert_bad_query(ts, "since=yesterday", 400, "since");
	assert_bad_query(ts, "until=2027-13-01", 400, "until");
	assert_bad_query(ts, "cursor=%21%21", 400, "cursor");
	assert_bad_query(ts, "action=Workflow%20Create", 400, "action");
	assert_bad_query(ts, "scope=galaxy", 400, "scope");
	{
		g_autofree gchar *query = g_strdup_printf("since=%s&until=%s", since, since);
		assert_bad_query(ts, query, 400, "until");
	}
	/* another tenant's log, or the platform's, is not for a tenant admin */
	{
		g_autofree gchar *query = g_strdup_printf("tenant=%s", ts->other_tenant_id);
		assert_bad_query(ts, query, 403, "tenant");
		assert_bad_query(ts, "scope=platform", 403, "scope");
	}

	/* each tenant's log holds its own */
	{
		g_autoptr(JsonArray) acme = list_all(ts, ts->admin_token, NULL);
		g_autoptr(JsonArray) other = list_all(ts, ts->other_admin_token, NULL);
		g_assert_cmpuint(count_request(acme, other_rid), ==, 0);
		g_assert_cmpuint(json_array_get_length(other), ==, 1);
		g_assert_cmpuint(count_request(other, other_rid), ==, 1);
		for (guint i = 0; i < json_array_get_length(acme); i++)
			g_assert_cmpstr(
				aiq_json_object_get_string(json_array_get_object_element(acme, i),
							   "tenant_id"),
				==,
				ts->tenant_id);
	}
	/* editors and viewers do not read the log */
	{
		g_autoptr(AiqTestResponse) viewer = aiq_test_request(ts,
								     "GET",
								     "/api/v1/audit",
								     ts->viewer_token,
								     NULL,
								     NULL,
								     0);
		g_autoptr(AiqTestResponse) editor = aiq_test_request(ts,
								     "GET",
								     "/api/v1/audit",
								     ts->editor_token,
								     NULL,
								     NULL,
								     0);
		g_autoptr(AiqTestResponse) nobody =
			aiq_test_request(ts, "GET", "/api/v1/audit", NULL, NULL, NULL, 0);
		aiq_test_assert_status(viewer, 403);
		aiq_test_assert_status(editor, 403);
		aiq_test_assert_status(nobody, 401);
	}
	/* a platform admin: the platform's by default, any tenant's on demand */
	{
		g_autofree gchar *by_id = g_strdup_printf("tenant=%s", ts->other_tenant_id);
		g_autoptr(JsonArray) platform = list_all(ts, ts->platform_token, NULL);
		g_autoptr(JsonArray) other = list_all(ts, ts->platform_token, by_id);
		g_autoptr(JsonArray) by_slug = list_all(ts, ts->platform_token, "tenant=other");
		g_autoptr(AiqTestResponse) unknown =
			aiq_test_request(ts,
					 "GET",
					 "/api/v1/audit?tenant=nowhere",
					 ts->platform_token,
					 NULL,
					 NULL,
					 0);
		g_autoptr(AiqTestResponse) both =
			aiq_test_request(ts,
					 "GET",
					 "/api/v1/audit?tenant=other&scope=platform",
					 ts->platform_token,
					 NULL,
					 NULL,
					 0);
		for (guint i = 0; i < json_array_get_length(platform); i++)
			g_assert_cmpstr(aiq_json_object_get_string(
						json_array_get_object_element(platform, i),
						"tenant_id"),
					==,
					platform_id);
		g_assert_cmpuint(count_request(other, other_rid), ==, 1);
		g_assert_cmpuint(count_request(by_slug, other_rid), ==, 1);
		aiq_test_assert_status(unknown, 404);
		aiq_test_assert_status(both, 400);
	}
	/* nothing changes or deletes a record */
	{
		const gchar *methods[] = { "PUT", "PATCH", "DELETE", "POST" };
		g_autoptr(JsonArray) before = list_all(ts, ts->admin_token, NULL);
		g_autoptr(JsonArray) after = NULL;
		const gchar *id =
			aiq_json_object_get_string(json_array_get_object_element(before, 0), "id");
		g_autofree gchar *item = g_strdup_printf("/api/v1/audit/%s", id);
		for (guint i = 0; i < G_N_ELEMENTS(methods); i++) {
			g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
										methods[i],
										"/api/v1/audit",
										ts->platform_token,
										"{}");
			g_autoptr(AiqTestResponse) one = aiq_test_request_json(ts,
									       methods[i],
									       item,
									       ts->platform_token,
									       "{}");
			aiq_test_assert_status(resp, 405);
			g_assert_cmpuint(one->status, ==, 404);
		}
		after = list_all(ts, ts->admin_token, NULL);
		g_assert_cmpuint(json_array_get_length(after), ==, json_array_get_length(before));
	}
}

static gint64
count_rows(AiqTestServer *ts, const gchar *where, gint64 cutoff)
{
	g_autofree gchar *sql = g_strdup_printf("SELECT count(*) FROM audit_log WHERE %s", where);
	g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
	return aiq_test_db_count(db, sql, AIQ_TEST_DB_INT(cutoff));
}

/* an UPDATE of the log fails in the store itself, whoever sends it */
static void
test_append_only(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *rid = new_request_id("kept");
	g_autofree gchar *wf = create_workflow(ts, ts->editor_token, "kept", rid);
	g_autoptr(JsonObject) rec = NULL;

	{
		/* the database's superuser on PostgreSQL, whom row-level
		 * security lets through: the trigger refuses all the same */
		g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
		g_autofree gchar *message = aiq_test_db_exec_error(
			db,
			"UPDATE audit_log SET outcome = 'denied', actor_name = 'someone else'");
		g_assert_cmpstr(message, ==, "the audit log is append-only");
		g_assert_cmpint(aiq_test_db_count(db,
						  "SELECT count(*) FROM audit_log WHERE "
						  "request_id = ?1 AND outcome = 'success'",
						  AIQ_TEST_DB_TEXT(rid)),
				==,
				1);
	}

	rec = find_record(ts, ts->admin_token, NULL, rid);
	assert_record(rec,
		      ts->tenant_id,
		      "user",
		      NULL,
		      "ed",
		      "workflow.create",
		      "workflow",
		      wf,
		      "success",
		      201);
}

/* the retention deletes what is older than its cutoff, and only that */
static void
test_prune(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE, .lasting = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	AiqStore *store = aiq_server_get_store(ts->server);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) new_rids = g_ptr_array_new_with_free_func(g_free);
	gint64 cutoff;
	gint64 old_rows;
	gint64 new_rows;
	guint64 deleted = 0;

	/* old records in two tenants and the platform's log, then new ones */
	for (guint i = 0; i < 5; i++) {
		g_autofree gchar *name = g_strdup_printf("old-%u", i);
		g_free(create_workflow(ts, ts->editor_token, name, NULL));
		g_free(create_workflow(ts, ts->other_admin_token, name, NULL));
	}
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(
			ts,
			"POST",
			"/api/v1/auth/login",
			NULL,
			"{\"tenant\":\"nowhere\",\"username\":\"x\",\"password\":\"y\"}");
		aiq_test_assert_status(resp, 401);
	}
	ts->now += (gint64)400 * 24 * 3600 * G_USEC_PER_SEC;
	cutoff = ts->now - (gint64)365 * 24 * 3600 * G_USEC_PER_SEC;
	for (guint i = 0; i < 3; i++) {
		g_autofree gchar *name = g_strdup_printf("new-%u", i);
		g_autofree gchar *rid = new_request_id("new");
		g_free(create_workflow(ts, ts->editor_token, name, rid));
		g_ptr_array_add(new_rids, g_steal_pointer(&rid));
	}
	g_assert_true(aiq_store_sync(store, &error));
	g_assert_no_error(error);
	old_rows = count_rows(ts, "time < ?1", cutoff);
	new_rows = count_rows(ts, "time >= ?1", cutoff);
	g_assert_cmpint(old_rows, ==, 11);
	g_assert_cmpint(new_rows, ==, 3);

	/* in batches of 2 rows */
	g_assert_true(aiq_store_prune_audit(store, cutoff, 2, &deleted, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(deleted, ==, (guint64)old_rows);
	g_assert_cmpint(count_rows(ts, "time < ?1", cutoff), ==, 0);
	g_assert_cmpint(count_rows(ts, "time >= ?1", cutoff), ==, new_rows);
	{
		g_autoptr(JsonArray) acme = list_all(ts, ts->admin_token, NULL);
		g_autoptr(JsonArray) other = list_all(ts, ts->other_admin_token, NULL);
		g_assert_cmpuint(json_array_get_length(acme), ==, 3);
		for (guint i = 0; i < new_rids->len; i++)
			g_assert_cmpuint(count_request(acme, g_ptr_array_index(new_rids, i)),
					 ==,
					 1);
		g_assert_cmpuint(json_array_get_length(other), ==, 0);
	}
	/* again: nothing left to do */
	g_assert_true(aiq_store_prune_audit(store, cutoff, 2, &deleted, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(deleted, ==, 0);
}

static JsonObject *
get_tenant(AiqTestServer *ts, const gchar *id, AiqTestResponse **keep)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/tenants/%s", id);
	*keep = aiq_test_request(ts, "GET", path, ts->platform_token, NULL, NULL, 0);
	aiq_test_assert_status(*keep, 200);
	return aiq_test_response_object(*keep);
}

static void
assert_patch_refused(AiqTestServer *ts, const gchar *id, const gchar *body, const gchar *member)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/tenants/%s", id);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(ts, "PATCH", path, ts->platform_token, body);
	const gchar *message;
	aiq_test_assert_status(resp, 422);
	g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "invalid_input");
	message = aiq_json_object_get_string(
		aiq_json_object_get_object(aiq_test_response_object(resp), "error"),
		"message");
	if (!g_str_has_prefix(message, member))
		g_error("the error for %s does not name %s: %s", body, member, message);
}

/* a tenant's own limits through the platform-admin API */
static void
test_tenant_limits(void)
{
	AiqTestServerOptions options = { .real_limits = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *path = g_strdup_printf("/api/v1/tenants/%s", ts->tenant_id);
	JsonObject *obj;
	JsonObject *limits;
	JsonObject *overrides;

	{
		g_autoptr(AiqTestResponse) keep = NULL;
		obj = get_tenant(ts, ts->tenant_id, &keep);
		limits = aiq_json_object_get_object(obj, "limits");
		g_assert_cmpint(aiq_json_object_get_int(limits, "workflows", 0), ==, 100);
		g_assert_cmpint(aiq_json_object_get_int(limits, "agents", 0), ==, 5);
		g_assert_cmpint(aiq_json_object_get_int(limits, "api_requests_per_minute", 0),
				==,
				1200);
		g_assert_cmpint(aiq_json_object_get_int(limits, "retention_days", 0), ==, 30);
		g_assert_true(json_object_get_null_member(obj, "limit_overrides"));
	}
	{
		g_autofree gchar *rid = new_request_id("limits");
		g_autoptr(AiqTestResponse) resp =
			send_json(ts,
				  "PATCH",
				  path,
				  ts->platform_token,
				  "{\"limits\":{\"workflows\":7,\"agents\":2}}",
				  rid);
		g_autoptr(AiqTestResponse) keep = NULL;
		g_autoptr(JsonObject) rec = NULL;
		JsonObject *change;
		aiq_test_assert_status(resp, 200);
		limits = aiq_json_object_get_object(aiq_test_response_object(resp), "limits");
		g_assert_cmpint(aiq_json_object_get_int(limits, "workflows", 0), ==, 7);
		g_assert_cmpint(aiq_json_object_get_int(limits, "agents", 0), ==, 2);
		g_assert_cmpint(aiq_json_object_get_int(limits, "concurrent_executions", 0),
				==,
				10);
		overrides = aiq_json_object_get_object(aiq_test_response_object(resp),
						       "limit_overrides");
		g_assert_cmpuint(json_object_get_size(overrides), ==, 2);
		g_assert_cmpint(aiq_json_object_get_int(overrides, "workflows", 0), ==, 7);
		/* and when read again */
		obj = get_tenant(ts, ts->tenant_id, &keep);
		g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(obj, "limits"),
							"workflows",
							0),
				==,
				7);
		rec = find_record(ts, ts->platform_token, NULL, rid);
		assert_record(rec,
			      aiq_json_object_get_string(rec, "tenant_id"),
			      "user",
			      NULL,
			      "root",
			      "tenant.update",
			      "tenant",
			      ts->tenant_id,
			      "success",
			      200);
		change = aiq_json_object_get_object(aiq_json_object_get_object(rec, "details"),
						    "limits");
		g_assert_true(json_object_get_null_member(change, "from"));
		g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(change, "to"),
							"agents",
							0),
				==,
				2);
	}
	/* the quota holds at once: the tenant's list shows it too */
	{
		g_autoptr(AiqTestResponse) list = aiq_test_request(ts,
								   "GET",
								   "/api/v1/tenants?limit=1000",
								   ts->platform_token,
								   NULL,
								   NULL,
								   0);
		JsonArray *items;
		gboolean found = FALSE;
		aiq_test_assert_status(list, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(list), "items");
		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonObject *t = json_array_get_object_element(items, i);
			if (g_strcmp0(aiq_json_object_get_string(t, "id"), ts->tenant_id) != 0)
				continue;
			found = TRUE;
			g_assert_cmpint(
				aiq_json_object_get_int(aiq_json_object_get_object(t, "limits"),
							"agents",
							0),
				==,
				2);
		}
		g_assert_true(found);
	}
	/* mistakes name the member, and change nothing */
	assert_patch_refused(ts, ts->tenant_id, "{\"limits\":{\"workflow\":3}}", "limits.workflow");
	assert_patch_refused(ts, ts->tenant_id, "{\"limits\":{\"agents\":0}}", "limits.agents");
	assert_patch_refused(ts,
			     ts->tenant_id,
			     "{\"limits\":{\"workflows\":5,\"payload_bytes\":\"big\"}}",
			     "limits.payload_bytes");
	assert_patch_refused(ts,
			     ts->tenant_id,
			     "{\"limits\":{\"retention_days\":3}}",
			     "limits.retention_days");
	assert_patch_refused(ts, ts->tenant_id, "{\"limits\":12}", "limits");
	assert_patch_refused(ts,
			     ts->tenant_id,
			     "{\"name\":\"Acme\",\"limits\":{\"agents\":-1}}",
			     "limits.agents");
	{
		g_autoptr(AiqTestResponse) keep = NULL;
		obj = get_tenant(ts, ts->tenant_id, &keep);
		overrides = aiq_json_object_get_object(obj, "limit_overrides");
		g_assert_cmpuint(json_object_get_size(overrides), ==, 2);
		g_assert_cmpstr(aiq_json_object_get_string(obj, "name"), ==, "acme");
	}
	/* a null member removes that override */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts,
					      "PATCH",
					      path,
					      ts->platform_token,
					      "{\"limits\":{\"workflows\":null,\"api_burst\":50}}");
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		limits = aiq_json_object_get_object(obj, "limits");
		overrides = aiq_json_object_get_object(obj, "limit_overrides");
		g_assert_cmpint(aiq_json_object_get_int(limits, "workflows", 0), ==, 100);
		g_assert_cmpint(aiq_json_object_get_int(limits, "api_burst", 0), ==, 50);
		g_assert_false(json_object_has_member(overrides, "workflows"));
		g_assert_cmpint(aiq_json_object_get_int(overrides, "agents", 0), ==, 2);
	}
	/* null removes them all */
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
									"PATCH",
									path,
									ts->platform_token,
									"{\"limits\":null}");
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_true(json_object_get_null_member(obj, "limit_overrides"));
		g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(obj, "limits"),
							"agents",
							0),
				==,
				5);
	}
	/* a tenant admin may not set its own */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts,
					      "PATCH",
					      path,
					      ts->admin_token,
					      "{\"limits\":{\"workflows\":100000}}");
		aiq_test_assert_status(resp, 403);
	}
	/* a new tenant's hot retention is its tier's unless given */
	{
		g_autoptr(AiqTestResponse) premium = aiq_test_request_json(
			ts,
			"POST",
			"/api/v1/tenants",
			ts->platform_token,
			"{\"slug\":\"initech\",\"name\":\"Initech\",\"tier\":\"premium\","
			"\"admin\":{\"username\":\"bill\",\"password\":\"" TEST_PASSWORD "\"}}");
		g_autoptr(AiqTestResponse) given = aiq_test_request_json(
			ts,
			"POST",
			"/api/v1/tenants",
			ts->platform_token,
			"{\"slug\":\"hooli\",\"name\":\"Hooli\",\"tier\":\"premium\","
			"\"retention_days\":12,"
			"\"admin\":{\"username\":\"gavin\",\"password\":\"" TEST_PASSWORD "\"}}");
		aiq_test_assert_status(premium, 201);
		aiq_test_assert_status(given, 201);
		g_assert_cmpint(aiq_json_object_get_int(aiq_test_response_object(premium),
							"retention_days",
							0),
				==,
				90);
		g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(
								aiq_test_response_object(premium),
								"limits"),
							"workflows",
							0),
				==,
				500);
		g_assert_cmpint(aiq_json_object_get_int(aiq_test_response_object(given),
							"retention_days",
							0),
				==,
				12);
	}
}

/* an API key's own rate limit */
static void
test_key_rate(void)
{
	AiqTestServerOptions options = { .real_limits = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *key = NULL;
	g_autofree gchar *key_id = NULL;

	{
		g_autoptr(AiqTestResponse) over =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/api-keys",
					      ts->admin_token,
					      "{\"name\":\"fast\",\"role\":\"viewer\","
					      "\"requests_per_minute\":1201}");
		g_autoptr(AiqTestResponse) zero =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/api-keys",
					      ts->admin_token,
					      "{\"name\":\"zero\",\"role\":\"viewer\","
					      "\"requests_per_minute\":0}");
		g_autoptr(AiqTestResponse) text =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/api-keys",
					      ts->admin_token,
					      "{\"name\":\"text\",\"role\":\"viewer\","
					      "\"requests_per_minute\":\"10\"}");
		const gchar *message;
		aiq_test_assert_status(over, 422);
		message = aiq_json_object_get_string(
			aiq_json_object_get_object(aiq_test_response_object(over), "error"),
			"message");
		g_assert_true(g_str_has_prefix(message, "requests_per_minute"));
		g_assert_nonnull(strstr(message, "1200"));
		aiq_test_assert_status(zero, 422);
		aiq_test_assert_status(text, 422);
	}
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/api-keys",
					      ts->admin_token,
					      "{\"name\":\"slow\",\"role\":\"viewer\","
					      "\"requests_per_minute\":1}");
		g_autoptr(AiqTestResponse) plain =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/api-keys",
					      ts->admin_token,
					      "{\"name\":\"plain\",\"role\":\"viewer\"}");
		aiq_test_assert_status(resp, 201);
		aiq_test_assert_status(plain, 201);
		g_assert_cmpint(aiq_json_object_get_int(aiq_test_response_object(resp),
							"requests_per_minute",
							0),
				==,
				1);
		g_assert_true(json_object_get_null_member(aiq_test_response_object(plain),
							  "requests_per_minute"));
		key = g_strdup(resp_string(resp, "token"));
		key_id = g_strdup(resp_string(resp, "id"));
	}
	/* listed with it */
	{
		g_autoptr(AiqTestResponse) list = aiq_test_request(ts,
								   "GET",
								   "/api/v1/api-keys",
								   ts->admin_token,
								   NULL,
								   NULL,
								   0);
		JsonArray *items;
		guint seen = 0;
		aiq_test_assert_status(list, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(list), "items");
		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonObject *k = json_array_get_object_element(items, i);
			if (g_strcmp0(aiq_json_object_get_string(k, "id"), key_id) == 0) {
				g_assert_cmpint(
					aiq_json_object_get_int(k, "requests_per_minute", 0),
					==,
					1);
				seen++;
			} else {
				g_assert_true(
					json_object_get_null_member(k, "requests_per_minute"));
			}
		}
		g_assert_cmpuint(seen, ==, 1);
	}
	/* one request a minute: the second at once is refused, for this key only */
	{
		g_autoptr(AiqTestResponse) first =
			aiq_test_request(ts, "GET", "/api/v1/workflows", key, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) second =
			aiq_test_request(ts, "GET", "/api/v1/workflows", key, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) others = aiq_test_request(ts,
								     "GET",
								     "/api/v1/workflows",
								     ts->viewer_token,
								     NULL,
								     NULL,
								     0);
		aiq_test_assert_status(first, 200);
		aiq_test_assert_status(second, 429);
		g_assert_cmpstr(aiq_test_response_error_code(second), ==, "rate_limited");
		aiq_test_assert_status(others, 200);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/http/audit/identity", test_identity);
	g_test_add_func("/aiq/http/audit/workflows", test_workflows);
	g_test_add_func("/aiq/http/audit/executions", test_executions);
	g_test_add_func("/aiq/http/audit/agents", test_agents);
	g_test_add_func("/aiq/http/audit/tenants", test_tenants);
	g_test_add_func("/aiq/http/audit/query", test_query);
	g_test_add_func("/aiq/http/audit/append-only", test_append_only);
	g_test_add_func("/aiq/http/audit/prune", test_prune);
	g_test_add_func("/aiq/http/audit/tenant-limits", test_tenant_limits);
	g_test_add_func("/aiq/http/audit/key-rate", test_key_rate);
	return g_test_run();
}
