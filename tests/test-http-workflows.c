/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Workflows and their versions over the real server: create from YAML and
 * JSON, problems, conflicts, versions, diff, rollback, enable, delete,
 * lists, roles, tenancy and request bodies.
 */

#include "config.h"

#include <string.h>

#include "aiq-json.h"
#include "aiq-store-workflows.h"
#include "aiq-test-server.h"

/* a workflow with two triggers, an input and two steps */
static const gchar *const yaml_v1 =
	"name: @NAME@\n"
	"description: Copy invoices\n"
	"runs_on: { labels: [site-a] }\n"
	"triggers:\n"
	"  - schedule: { cron: \"0 2 * * 1-5\", timezone: Asia/Singapore }\n"
	"  - manual: {}\n"
	"inputs:\n"
	"  since: { type: string, default: yesterday }\n"
	"steps:\n"
	"  - id: fetch\n"
	"    uses: http\n"
	"    with: { method: GET, url: \"https://erp.internal/a\" }\n"
	"  - id: store\n"
	"    uses: transform\n"
	"    with: { value: \"${{ steps.fetch.output }}\" }\n";

/* the same definition in JSON, its members in another order */
static const gchar *const json_v1 =
	"{\"steps\": [{\"uses\": \"http\", \"id\": \"fetch\", \"with\": {\"method\": \"GET\", "
	"\"url\": \"https://erp.internal/a\"}}, {\"id\": \"store\", \"uses\": \"transform\", "
	"\"with\": {\"value\": \"${{ steps.fetch.output }}\"}}], "
	"\"inputs\": {\"since\": {\"default\": \"yesterday\", \"type\": \"string\"}}, "
	"\"triggers\": [{\"schedule\": {\"timezone\": \"Asia/Singapore\", \"cron\": \"0 2 * * 1-5\"}}, "
	"{\"manual\": {}}], \"runs_on\": {\"labels\": [\"site-a\"]}, "
	"\"description\": \"Copy invoices\", \"name\": \"@NAME@\"}";

/* v1 with the schedule removed, fetch's url changed and a step inserted */
static const gchar *const yaml_v2 = "name: @NAME@\n"
				    "description: Copy invoices\n"
				    "runs_on: { labels: [site-a] }\n"
				    "triggers:\n"
				    "  - manual: {}\n"
				    "inputs:\n"
				    "  since: { type: string, default: yesterday }\n"
				    "steps:\n"
				    "  - id: fetch\n"
				    "    uses: http\n"
				    "    with: { method: GET, url: \"https://erp.internal/b\" }\n"
				    "  - id: check\n"
				    "    uses: transform\n"
				    "    with: { value: 1 }\n"
				    "  - id: store\n"
				    "    uses: transform\n"
				    "    with: { value: \"${{ steps.fetch.output }}\" }\n";

/* v2 with the last two steps swapped */
static const gchar *const yaml_v3 = "name: @NAME@\n"
				    "description: Copy invoices\n"
				    "runs_on: { labels: [site-a] }\n"
				    "triggers:\n"
				    "  - manual: {}\n"
				    "inputs:\n"
				    "  since: { type: string, default: yesterday }\n"
				    "steps:\n"
				    "  - id: fetch\n"
				    "    uses: http\n"
				    "    with: { method: GET, url: \"https://erp.internal/b\" }\n"
				    "  - id: store\n"
				    "    uses: transform\n"
				    "    with: { value: \"${{ steps.fetch.output }}\" }\n"
				    "  - id: check\n"
				    "    uses: transform\n"
				    "    with: { value: 1 }\n";

/* @template with its @NAME@ replaced by @name */
static gchar *
definition(const gchar *template, const gchar *name)
{
	g_auto(GStrv) parts = g_strsplit(template, "@NAME@", -1);
	return g_strjoinv(name, parts);
}

/*
 * Requests as aiq_test_request() makes them, each on a new connection: the
 * server sometimes drops an idle kept-alive connection, and libsoup then
 * resends a PUT or DELETE on another one, with the body lost (an empty PUT).
 * Until that is fixed in the server, these tests do not reuse connections.
 */
static AiqTestResponse *
request(AiqTestServer *ts,
	const gchar *method,
	const gchar *path,
	const gchar *token,
	const gchar *content_type,
	const gchar *body,
	gssize body_len)
{
	g_autofree gchar *url = g_strdup_printf("%s%s", ts->url, path);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) reply = NULL;
	AiqTestResponse *resp = g_new0(AiqTestResponse, 1);
	gsize len = 0;
	const gchar *data;

	g_assert_nonnull(msg);
	soup_message_add_flags(msg, SOUP_MESSAGE_NEW_CONNECTION);
	if (token != NULL) {
		g_autofree gchar *value = g_strdup_printf("Bearer %s", token);
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "Authorization",
					     value);
	}
	if (body != NULL) {
		g_autoptr(GBytes) bytes =
			g_bytes_new(body, body_len >= 0 ? (gsize)body_len : strlen(body));
		soup_message_set_request_body_from_bytes(msg, content_type, bytes);
	}
	reply = soup_session_send_and_read(ts->session, msg, NULL, &error);
	g_assert_no_error(error);
	resp->status = soup_message_get_status(msg);
	resp->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	data = g_bytes_get_data(reply, &len);
	resp->body = g_strndup(data, len);
	if (len > 0 && g_strcmp0(soup_message_headers_get_content_type(resp->headers, NULL),
				 "application/json") == 0) {
		resp->json = aiq_json_parse(resp->body, len, 256, &error);
		g_assert_no_error(error);
	}
	return resp;
}

static AiqTestResponse *
request_json(AiqTestServer *ts,
	     const gchar *method,
	     const gchar *path,
	     const gchar *token,
	     const gchar *json)
{
	return request(ts, method, path, token, "application/json", json, -1);
}

static AiqTestResponse *
send_yaml(AiqTestServer *ts,
	  const gchar *method,
	  const gchar *path,
	  const gchar *token,
	  const gchar *yaml)
{
	return request(ts, method, path, token, "application/yaml", yaml, -1);
}

static AiqTestResponse *
get(AiqTestServer *ts, const gchar *path, const gchar *token)
{
	return request(ts, "GET", path, token, NULL, NULL, 0);
}

/* creates a workflow from @format and @name; returns its id */
static gchar *
create(AiqTestServer *ts, const gchar *format, const gchar *name)
{
	g_autofree gchar *text = definition(format, name);
	g_autoptr(AiqTestResponse) resp =
		send_yaml(ts, "POST", "/api/v1/workflows", ts->editor_token, text);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

static gchar *
path_of(const gchar *id, const gchar *rest)
{
	return g_strdup_printf("/api/v1/workflows/%s%s", id, rest != NULL ? rest : "");
}

/* the digest of @version of workflow @id */
static gchar *
version_digest(AiqTestServer *ts, const gchar *token, const gchar *id, gint version)
{
	g_autofree gchar *suffix = g_strdup_printf("/versions/%d", version);
	g_autofree gchar *path = path_of(id, suffix);
	g_autoptr(AiqTestResponse) resp = get(ts, path, token);
	aiq_test_assert_status(resp, 200);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "digest"));
}

static JsonObject *
find_change(JsonArray *changes, const gchar *path)
{
	for (guint i = 0; i < json_array_get_length(changes); i++) {
		JsonObject *change = json_array_get_object_element(changes, i);
		if (g_strcmp0(aiq_json_object_get_string(change, "path"), path) == 0)
			return change;
	}
	return NULL;
}

static void
test_workflows_create(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *yaml = definition(yaml_v1, "invoice-sync");
	g_autofree gchar *json = definition(json_v1, "invoice-sync");
	g_autoptr(AiqTestResponse) from_yaml =
		send_yaml(ts, "POST", "/api/v1/workflows", ts->editor_token, yaml);
	g_autoptr(AiqTestResponse) from_json = NULL;
	g_autofree gchar *digest_yaml = NULL;
	g_autofree gchar *digest_json = NULL;
	JsonObject *obj;
	JsonObject *def;
	JsonArray *labels;
	JsonArray *triggers;

	aiq_test_assert_status(from_yaml, 201);
	obj = aiq_test_response_object(from_yaml);
	g_assert_nonnull(aiq_json_object_get_string(obj, "id"));
	g_assert_cmpstr(aiq_json_object_get_string(obj, "name"), ==, "invoice-sync");
	g_assert_cmpstr(aiq_json_object_get_string(obj, "description"), ==, "Copy invoices");
	labels = aiq_json_object_get_array(obj, "labels");
	g_assert_cmpuint(json_array_get_length(labels), ==, 1);
	g_assert_cmpstr(json_array_get_string_element(labels, 0), ==, "site-a");
	g_assert_true(json_object_get_boolean_member(obj, "enabled"));
	g_assert_cmpint(json_object_get_int_member(obj, "version"), ==, 1);
	g_assert_nonnull(aiq_json_object_get_string(obj, "created"));
	g_assert_nonnull(aiq_json_object_get_string(obj, "updated"));
	triggers = aiq_json_object_get_array(obj, "triggers");
	g_assert_cmpuint(json_array_get_length(triggers), ==, 2);
	g_assert_true(
		json_object_has_member(json_array_get_object_element(triggers, 0), "schedule"));
	def = aiq_json_object_get_object(obj, "definition");
	g_assert_nonnull(def);
	g_assert_cmpstr(aiq_json_object_get_string(def, "name"), ==, "invoice-sync");
	g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(def, "steps")), ==, 2);

	/* the same definition in JSON, in another tenant (where the name is free) */
	from_json = request(ts,
			    "POST",
			    "/api/v1/workflows",
			    ts->other_admin_token,
			    "application/json",
			    json,
			    -1);
	aiq_test_assert_status(from_json, 201);
	digest_yaml =
		version_digest(ts, ts->viewer_token, aiq_json_object_get_string(obj, "id"), 1);
	digest_json = version_digest(
		ts,
		ts->other_admin_token,
		aiq_json_object_get_string(aiq_test_response_object(from_json), "id"),
		1);
	g_assert_cmpuint(strlen(digest_yaml), ==, 64);
	g_assert_cmpstr(digest_yaml, ==, digest_json);

	/* and the JSON one, sent again to the first tenant, changes nothing */
	{
		g_autofree gchar *path = path_of(aiq_json_object_get_string(obj, "id"), NULL);
		g_autoptr(AiqTestResponse) resp =
			request(ts, "PUT", path, ts->editor_token, "application/json", json, -1);
		aiq_test_assert_status(resp, 200);
		g_assert_false(
			json_object_get_boolean_member(aiq_test_response_object(resp), "changed"));
		g_assert_cmpint(
			json_object_get_int_member(aiq_test_response_object(resp), "version"),
			==,
			1);
	}
}

static void
test_workflows_problems(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	const gchar *bad = "name: \"bad name!\"\n"
			   "steps:\n"
			   "  - id: fetch\n"
			   "    uses: http\n"
			   "    with: { method: GET, url: \"https://erp.internal/a\" }\n"
			   "    timeout: ten seconds\n"
			   "  - id: store\n"
			   "    uses: transform\n"
			   "    needs: [nowhere]\n"
			   "    with: { value: 1 }\n";
	g_autoptr(AiqTestResponse) resp =
		send_yaml(ts, "POST", "/api/v1/workflows", ts->editor_token, bad);
	JsonObject *error;
	JsonArray *details;
	const gchar *expected[] = { "name", "steps[0].timeout", "steps[1].needs" };

	aiq_test_assert_status(resp, 422);
	g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "invalid_definition");
	error = aiq_json_object_get_object(aiq_test_response_object(resp), "error");
	details = aiq_json_object_get_array(error, "details");
	g_assert_nonnull(details);
	if (json_array_get_length(details) != G_N_ELEMENTS(expected))
		g_error("expected %u problems: %s", (guint)G_N_ELEMENTS(expected), resp->body);
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		gboolean found = FALSE;
		for (guint j = 0; j < json_array_get_length(details); j++) {
			JsonObject *problem = json_array_get_object_element(details, j);
			g_assert_nonnull(aiq_json_object_get_string(problem, "message"));
			if (g_strcmp0(aiq_json_object_get_string(problem, "path"), expected[i]) ==
			    0)
				found = TRUE;
		}
		if (!found)
			g_error("no problem at %s: %s", expected[i], resp->body);
	}
	g_assert_nonnull(strstr(aiq_json_object_get_string(error, "message"), "3 problems"));

	/* not an object at all */
	{
		g_autoptr(AiqTestResponse) list =
			request_json(ts, "POST", "/api/v1/workflows", ts->editor_token, "[1, 2]");
		aiq_test_assert_status(list, 422);
		g_assert_cmpstr(aiq_test_response_error_code(list), ==, "invalid_definition");
	}
	/* nothing was stored */
	{
		g_autoptr(AiqTestResponse) all = get(ts, "/api/v1/workflows", ts->viewer_token);
		aiq_test_assert_status(all, 200);
		g_assert_cmpuint(
			json_array_get_length(
				aiq_json_object_get_array(aiq_test_response_object(all), "items")),
			==,
			0);
	}
}

static void
test_workflows_conflict(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *first = create(ts, yaml_v1, "nightly");
	g_autofree gchar *second = create(ts, yaml_v1, "weekly");
	g_autofree gchar *text = definition(yaml_v1, "nightly");
	g_autofree gchar *path = path_of(second, NULL);
	g_autoptr(AiqTestResponse) again =
		send_yaml(ts, "POST", "/api/v1/workflows", ts->editor_token, text);
	g_autoptr(AiqTestResponse) rename = NULL;
	g_autoptr(AiqTestResponse) renamed = NULL;
	g_autofree gchar *fresh = definition(yaml_v1, "monthly");

	aiq_test_assert_status(again, 409);
	g_assert_cmpstr(aiq_test_response_error_code(again), ==, "conflict");
	g_assert_nonnull(strstr(again->body, "nightly"));

	/* renaming onto another workflow's name is a conflict too */
	rename = send_yaml(ts, "PUT", path, ts->editor_token, text);
	aiq_test_assert_status(rename, 409);
	/* and to a free name works, with a new version */
	renamed = send_yaml(ts, "PUT", path, ts->editor_token, fresh);
	aiq_test_assert_status(renamed, 200);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(renamed), "name"),
			==,
			"monthly");
	g_assert_cmpint(json_object_get_int_member(aiq_test_response_object(renamed), "version"),
			==,
			2);
	g_assert_true(json_object_get_boolean_member(aiq_test_response_object(renamed), "changed"));
}

static void
test_workflows_versions(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create(ts, yaml_v1, "versioned");
	g_autofree gchar *path = path_of(id, NULL);
	g_autofree gchar *v1 = definition(yaml_v1, "versioned");
	g_autofree gchar *v2 = definition(yaml_v2, "versioned");
	JsonObject *obj;

	/* unchanged: the same version */
	{
		g_autoptr(AiqTestResponse) resp = send_yaml(ts, "PUT", path, ts->editor_token, v1);
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_false(json_object_get_boolean_member(obj, "changed"));
		g_assert_cmpint(json_object_get_int_member(obj, "version"), ==, 1);
	}
	/* changed: version 2 */
	{
		g_autoptr(AiqTestResponse) resp = send_yaml(ts, "PUT", path, ts->editor_token, v2);
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_true(json_object_get_boolean_member(obj, "changed"));
		g_assert_cmpint(json_object_get_int_member(obj, "version"), ==, 2);
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(obj, "triggers")),
				 ==,
				 1);
	}
	/* the latest, and an earlier one */
	{
		g_autoptr(AiqTestResponse) latest = get(ts, path, ts->viewer_token);
		g_autofree gchar *old_path = g_strdup_printf("%s?version=1", path);
		g_autoptr(AiqTestResponse) old = get(ts, old_path, ts->viewer_token);
		JsonObject *def;
		aiq_test_assert_status(latest, 200);
		obj = aiq_test_response_object(latest);
		g_assert_cmpint(json_object_get_int_member(obj, "version"), ==, 2);
		def = aiq_json_object_get_object(obj, "definition");
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(def, "steps")),
				 ==,
				 3);
		aiq_test_assert_status(old, 200);
		obj = aiq_test_response_object(old);
		g_assert_cmpint(json_object_get_int_member(obj, "version"), ==, 1);
		def = aiq_json_object_get_object(obj, "definition");
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(def, "steps")),
				 ==,
				 2);
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(obj, "triggers")),
				 ==,
				 2);
	}
	/* the list of versions */
	{
		g_autofree gchar *versions_path = path_of(id, "/versions");
		g_autoptr(AiqTestResponse) resp = get(ts, versions_path, ts->viewer_token);
		JsonArray *items;
		JsonObject *first;
		aiq_test_assert_status(resp, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 2);
		first = json_array_get_object_element(items, 0);
		g_assert_cmpint(json_object_get_int_member(first, "version"), ==, 1);
		g_assert_cmpstr(aiq_json_object_get_string(first, "author"), ==, "ed");
		g_assert_cmpuint(strlen(aiq_json_object_get_string(first, "digest")), ==, 64);
		g_assert_nonnull(aiq_json_object_get_string(first, "created"));
		g_assert_false(json_object_has_member(first, "definition"));
		g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(items, 1),
							   "version"),
				==,
				2);
	}
	/* one version, with its definition */
	{
		g_autofree gchar *one_path = path_of(id, "/versions/1");
		g_autoptr(AiqTestResponse) resp = get(ts, one_path, ts->viewer_token);
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpint(json_object_get_int_member(obj, "version"), ==, 1);
		g_assert_cmpstr(
			aiq_json_object_get_string(aiq_json_object_get_object(obj, "definition"),
						   "name"),
			==,
			"versioned");
	}
	/* versions that are not there, and that are not numbers */
	{
		struct {
			const gchar *suffix;
			guint status;
		} cases[] = {
			{ "/versions/3", 404 }, { "/versions/0", 400 }, { "/versions/x", 400 },
			{ "?version=9", 404 },  { "?version=-1", 400 }, { "?version=1x", 400 },
		};
		for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
			g_autofree gchar *p = path_of(id, cases[i].suffix);
			g_autoptr(AiqTestResponse) resp = get(ts, p, ts->viewer_token);
			aiq_test_assert_status(resp, cases[i].status);
		}
	}
}

static void
test_workflows_diff(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create(ts, yaml_v1, "diffed");
	g_autofree gchar *path = path_of(id, NULL);
	g_autofree gchar *v2 = definition(yaml_v2, "diffed");
	g_autofree gchar *v3 = definition(yaml_v3, "diffed");
	JsonObject *obj;
	JsonArray *changes;
	JsonObject *change;

	{
		g_autoptr(AiqTestResponse) resp = send_yaml(ts, "PUT", path, ts->editor_token, v2);
		aiq_test_assert_status(resp, 200);
	}
	{
		g_autoptr(AiqTestResponse) resp = send_yaml(ts, "PUT", path, ts->editor_token, v3);
		aiq_test_assert_status(resp, 200);
	}

	/* 1 → 2: a changed parameter, an inserted step, a removed trigger */
	{
		g_autofree gchar *diff_path = path_of(id, "/diff?from=1&to=2");
		g_autoptr(AiqTestResponse) resp = get(ts, diff_path, ts->viewer_token);
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpint(json_object_get_int_member(obj, "from"), ==, 1);
		g_assert_cmpint(json_object_get_int_member(obj, "to"), ==, 2);
		changes = aiq_json_object_get_array(obj, "changes");
		if (json_array_get_length(changes) != 3)
			g_error("expected 3 changes: %s", resp->body);

		change = find_change(changes, "steps.fetch.with.url");
		g_assert_nonnull(change);
		g_assert_cmpstr(aiq_json_object_get_string(change, "op"), ==, "changed");
		g_assert_cmpstr(aiq_json_object_get_string(change, "from"),
				==,
				"https://erp.internal/a");
		g_assert_cmpstr(aiq_json_object_get_string(change, "to"),
				==,
				"https://erp.internal/b");

		change = find_change(changes, "steps.check");
		g_assert_nonnull(change);
		g_assert_cmpstr(aiq_json_object_get_string(change, "op"), ==, "added");
		g_assert_false(json_object_has_member(change, "from"));
		g_assert_cmpstr(aiq_json_object_get_string(aiq_json_object_get_object(change, "to"),
							   "uses"),
				==,
				"transform");

		change = find_change(changes, "triggers[0]");
		g_assert_nonnull(change);
		g_assert_cmpstr(aiq_json_object_get_string(change, "op"), ==, "removed");
		g_assert_true(json_object_has_member(aiq_json_object_get_object(change, "from"),
						     "schedule"));
		g_assert_false(json_object_has_member(change, "to"));
	}
	/* 2 → 3 (the default: what the latest changed): a reordering, by id */
	{
		g_autofree gchar *diff_path = path_of(id, "/diff");
		g_autoptr(AiqTestResponse) resp = get(ts, diff_path, ts->viewer_token);
		JsonArray *before;
		JsonArray *after;
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpint(json_object_get_int_member(obj, "from"), ==, 2);
		g_assert_cmpint(json_object_get_int_member(obj, "to"), ==, 3);
		changes = aiq_json_object_get_array(obj, "changes");
		if (json_array_get_length(changes) != 1)
			g_error("expected 1 change: %s", resp->body);
		change = find_change(changes, "steps");
		g_assert_nonnull(change);
		g_assert_cmpstr(aiq_json_object_get_string(change, "op"), ==, "changed");
		before = aiq_json_object_get_array(change, "from");
		after = aiq_json_object_get_array(change, "to");
		g_assert_cmpstr(json_array_get_string_element(before, 1), ==, "check");
		g_assert_cmpstr(json_array_get_string_element(after, 1), ==, "store");
	}
	/* 3 → 1: backwards works too */
	{
		g_autofree gchar *diff_path = path_of(id, "/diff?from=3&to=1");
		g_autoptr(AiqTestResponse) resp = get(ts, diff_path, ts->viewer_token);
		aiq_test_assert_status(resp, 200);
		changes = aiq_json_object_get_array(aiq_test_response_object(resp), "changes");
		change = find_change(changes, "steps.check");
		g_assert_nonnull(change);
		g_assert_cmpstr(aiq_json_object_get_string(change, "op"), ==, "removed");
		change = find_change(changes, "triggers[0]");
		g_assert_nonnull(change);
		g_assert_cmpstr(aiq_json_object_get_string(change, "op"), ==, "added");
	}
	/* the same version: no changes */
	{
		g_autofree gchar *diff_path = path_of(id, "/diff?from=2&to=2");
		g_autoptr(AiqTestResponse) resp = get(ts, diff_path, ts->viewer_token);
		aiq_test_assert_status(resp, 200);
		changes = aiq_json_object_get_array(aiq_test_response_object(resp), "changes");
		g_assert_cmpuint(json_array_get_length(changes), ==, 0);
	}
	/* versions that are not there */
	{
		const gchar *suffixes[] = { "/diff?from=1&to=7",
					    "/diff?from=0&to=1",
					    "/diff?to=1" };
		const guint statuses[] = { 404, 400, 400 };
		for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
			g_autofree gchar *p = path_of(id, suffixes[i]);
			g_autoptr(AiqTestResponse) resp = get(ts, p, ts->viewer_token);
			aiq_test_assert_status(resp, statuses[i]);
		}
	}
}

static void
test_workflows_rollback(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create(ts, yaml_v1, "rolled");
	g_autofree gchar *path = path_of(id, NULL);
	g_autofree gchar *rollback = path_of(id, "/rollback");
	g_autofree gchar *v2 = definition(yaml_v2, "rolled");
	g_autofree gchar *digest1 = NULL;
	g_autofree gchar *digest3 = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *api_key = NULL;
	JsonObject *obj;

	{
		g_autoptr(AiqTestResponse) resp = send_yaml(ts, "PUT", path, ts->editor_token, v2);
		aiq_test_assert_status(resp, 200);
	}
	/* made by an API key, whose name is the author */
	api_key = aiq_auth_issue(aiq_server_get_auth(ts->server),
				 AIQ_TOKEN_KIND_API_KEY,
				 ts->tenant_id,
				 NULL,
				 "editor",
				 "ci-bot",
				 0,
				 NULL,
				 NULL,
				 &error);
	g_assert_no_error(error);
	{
		g_autoptr(AiqTestResponse) resp =
			request_json(ts, "POST", rollback, api_key, "{\"version\": 1}");
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpint(json_object_get_int_member(obj, "version"), ==, 3);
		g_assert_true(json_object_get_boolean_member(obj, "changed"));
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(obj, "triggers")),
				 ==,
				 2);
	}
	digest1 = version_digest(ts, ts->viewer_token, id, 1);
	digest3 = version_digest(ts, ts->viewer_token, id, 3);
	g_assert_cmpstr(digest1, ==, digest3);
	{
		g_autofree gchar *versions_path = path_of(id, "/versions");
		g_autoptr(AiqTestResponse) resp = get(ts, versions_path, ts->viewer_token);
		JsonArray *items;
		aiq_test_assert_status(resp, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 3);
		g_assert_cmpstr(aiq_json_object_get_string(json_array_get_object_element(items, 2),
							   "author"),
				==,
				"ci-bot");
	}
	/* to the version it is already equal to: nothing new */
	{
		g_autoptr(AiqTestResponse) resp =
			request_json(ts, "POST", rollback, ts->editor_token, "{\"version\": 1}");
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpint(json_object_get_int_member(obj, "version"), ==, 3);
		g_assert_false(json_object_get_boolean_member(obj, "changed"));
	}
	/* bad bodies and versions */
	{
		struct {
			const gchar *body;
			guint status;
		} cases[] = {
			{ "{\"version\": 9}", 404 },     { "{\"version\": 0}", 422 },
			{ "{\"version\": \"1\"}", 422 }, { "{}", 422 },
			{ "{\"versoin\": 1}", 422 },     { "[1]", 422 },
			{ "{\"version\": ", 400 },
		};
		for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
			g_autoptr(AiqTestResponse) resp =
				request_json(ts, "POST", rollback, ts->editor_token, cases[i].body);
			aiq_test_assert_status(resp, cases[i].status);
		}
	}
}

static void
test_workflows_enable(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create(ts, yaml_v1, "toggled");
	g_autofree gchar *disable = path_of(id, "/disable");
	g_autofree gchar *enable = path_of(id, "/enable");
	g_autofree gchar *path = path_of(id, NULL);

	{
		g_autoptr(AiqTestResponse) resp =
			request(ts, "POST", disable, ts->editor_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 200);
		g_assert_false(
			json_object_get_boolean_member(aiq_test_response_object(resp), "enabled"));
	}
	{
		g_autoptr(AiqTestResponse) resp = get(ts, path, ts->viewer_token);
		aiq_test_assert_status(resp, 200);
		g_assert_false(
			json_object_get_boolean_member(aiq_test_response_object(resp), "enabled"));
	}
	/* disabled workflows are not scheduled */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) scheduled =
			aiq_store_list_scheduled_workflows(aiq_server_get_store(ts->server),
							   ts->tenant_id,
							   &error);
		g_assert_no_error(error);
		g_assert_cmpuint(scheduled->len, ==, 0);
	}
	/* updating keeps it disabled */
	{
		g_autofree gchar *v2 = definition(yaml_v2, "toggled");
		g_autoptr(AiqTestResponse) resp = send_yaml(ts, "PUT", path, ts->editor_token, v2);
		aiq_test_assert_status(resp, 200);
		g_assert_false(
			json_object_get_boolean_member(aiq_test_response_object(resp), "enabled"));
	}
	{
		g_autoptr(AiqTestResponse) resp =
			request(ts, "POST", enable, ts->editor_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 200);
		g_assert_true(
			json_object_get_boolean_member(aiq_test_response_object(resp), "enabled"));
	}
}

static void
test_workflows_scheduled(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	AiqStore *store = aiq_server_get_store(ts->server);
	g_autofree gchar *with_schedule = create(ts, yaml_v1, "with-schedule");
	g_autofree gchar *without = create(ts, yaml_v2, "without-schedule");
	g_autofree gchar *dropped = create(ts, yaml_v1, "schedule-dropped");
	g_autofree gchar *v2 = definition(yaml_v2, "schedule-dropped");
	g_autofree gchar *path = path_of(dropped, NULL);
	g_autoptr(AiqTestResponse) resp = send_yaml(ts, "PUT", path, ts->editor_token, v2);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) scheduled = NULL;
	g_autoptr(GPtrArray) other = NULL;

	aiq_test_assert_status(resp, 200);
	scheduled = aiq_store_list_scheduled_workflows(store, ts->tenant_id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(scheduled->len, ==, 1);
	g_assert_cmpstr(((AiqWorkflowRow *)g_ptr_array_index(scheduled, 0))->id, ==, with_schedule);
	other = aiq_store_list_scheduled_workflows(store, ts->other_tenant_id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(other->len, ==, 0);
	(void)without;
}

static void
test_workflows_delete(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create(ts, yaml_v1, "doomed");
	g_autofree gchar *path = path_of(id, NULL);
	g_autofree gchar *versions = path_of(id, "/versions");
	g_autofree gchar *again = NULL;

	{
		g_autoptr(AiqTestResponse) resp =
			request(ts, "DELETE", path, ts->editor_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 204);
		g_assert_true(resp->body == NULL || resp->body[0] == '\0');
	}
	{
		g_autoptr(AiqTestResponse) resp = get(ts, path, ts->viewer_token);
		g_autoptr(AiqTestResponse) list = get(ts, versions, ts->viewer_token);
		g_autoptr(AiqTestResponse) twice =
			request(ts, "DELETE", path, ts->editor_token, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) all = get(ts, "/api/v1/workflows", ts->viewer_token);
		aiq_test_assert_status(resp, 404);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "not_found");
		aiq_test_assert_status(list, 404);
		aiq_test_assert_status(twice, 404);
		g_assert_cmpuint(
			json_array_get_length(
				aiq_json_object_get_array(aiq_test_response_object(all), "items")),
			==,
			0);
	}
	/* the name is free again; the old versions are still kept for executions */
	again = create(ts, yaml_v2, "doomed");
	g_assert_cmpstr(again, !=, id);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqWorkflowVersion) old =
			aiq_store_get_workflow_version(aiq_server_get_store(ts->server),
						       ts->tenant_id,
						       id,
						       1,
						       &error);
		g_assert_no_error(error);
		g_assert_cmpint(old->version, ==, 1);
	}
}

static void
test_workflows_list(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *cursor = NULL;
	guint pages = 0;
	guint n_disabled = 0;

	for (guint i = 0; i < 120; i++) {
		g_autofree gchar *name = g_strdup_printf("wf-%03u", i);
		g_autofree gchar *text = NULL;
		g_autoptr(AiqTestResponse) resp = NULL;
		if (i % 2 == 0)
			text = g_strdup_printf(
				"name: %s\n"
				"runs_on: { labels: [even, all] }\n"
				"steps:\n"
				"  - { id: a, uses: transform, with: { value: 1 } }\n",
				name);
		else
			text = g_strdup_printf(
				"name: %s\n"
				"runs_on: { labels: [all] }\n"
				"steps:\n"
				"  - { id: a, uses: transform, with: { value: 1 } }\n",
				name);
		resp = send_yaml(ts, "POST", "/api/v1/workflows", ts->editor_token, text);
		aiq_test_assert_status(resp, 201);
		g_ptr_array_add(
			ids,
			g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id")));
		if (i % 10 == 3) {
			g_autofree gchar *p = path_of(g_ptr_array_index(ids, i), "/disable");
			g_autoptr(AiqTestResponse) off =
				request(ts, "POST", p, ts->editor_token, NULL, NULL, 0);
			aiq_test_assert_status(off, 200);
			n_disabled++;
		}
	}

	/* every page, in creation order, without duplicates or gaps */
	do {
		g_autofree gchar *path =
			cursor != NULL
				? g_strdup_printf("/api/v1/workflows?limit=7&cursor=%s", cursor)
				: g_strdup("/api/v1/workflows?limit=7");
		g_autoptr(AiqTestResponse) resp = get(ts, path, ts->viewer_token);
		JsonObject *obj;
		JsonArray *items;
		JsonNode *next;
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		items = aiq_json_object_get_array(obj, "items");
		g_assert_cmpuint(json_array_get_length(items), <=, 7);
		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonObject *item = json_array_get_object_element(items, i);
			const gchar *id = aiq_json_object_get_string(item, "id");
			guint position = g_hash_table_size(seen);
			g_assert_false(g_hash_table_contains(seen, id));
			g_assert_cmpstr(id, ==, g_ptr_array_index(ids, position));
			g_assert_false(json_object_has_member(item, "definition"));
			g_hash_table_add(seen, g_strdup(id));
		}
		next = json_object_get_member(obj, "next_cursor");
		g_assert_nonnull(next);
		g_free(cursor);
		cursor = JSON_NODE_HOLDS_NULL(next) ? NULL : g_strdup(json_node_get_string(next));
		g_assert_cmpuint(++pages, <=, 18);
	} while (cursor != NULL);
	g_assert_cmpuint(g_hash_table_size(seen), ==, 120);
	g_assert_cmpuint(pages, ==, 18);

	/* filters */
	{
		struct {
			const gchar *query;
			guint count;
		} cases[] = {
			{ "name=wf-007", 1 },
			{ "name=wf-7", 0 },
			{ "search=WF-01", 10 },
			{ "search=f-11", 10 },
			{ "search=_", 0 },
			{ "search=%25", 0 },
			{ "label=even", 60 },
			{ "label=all", 120 },
			{ "label=ev", 0 },
			{ "enabled=false", n_disabled },
			{ "enabled=true", 120 - n_disabled },
			{ "label=even&enabled=false", 0 },
			{ "search=wf-00&enabled=false", 1 },
		};
		for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
			g_autofree gchar *path =
				g_strdup_printf("/api/v1/workflows?limit=1000&%s", cases[i].query);
			g_autoptr(AiqTestResponse) resp = get(ts, path, ts->viewer_token);
			JsonArray *items;
			aiq_test_assert_status(resp, 200);
			items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
			if (json_array_get_length(items) != cases[i].count)
				g_error("%s: expected %u, got %u",
					cases[i].query,
					cases[i].count,
					json_array_get_length(items));
		}
	}
	/* wildcards of LIKE are taken literally */
	{
		g_autofree gchar *underscore = create(ts, yaml_v1, "x_y");
		g_autofree gchar *plain = create(ts, yaml_v1, "xay");
		g_autoptr(AiqTestResponse) resp =
			get(ts, "/api/v1/workflows?search=x_", ts->viewer_token);
		JsonArray *items;
		aiq_test_assert_status(resp, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		g_assert_cmpstr(
			aiq_json_object_get_string(json_array_get_object_element(items, 0), "id"),
			==,
			underscore);
		(void)plain;
	}
	/* bad queries */
	{
		const gchar *queries[] = { "enabled=yes", "limit=0", "limit=1001", "cursor=!!" };
		for (guint i = 0; i < G_N_ELEMENTS(queries); i++) {
			g_autofree gchar *path =
				g_strdup_printf("/api/v1/workflows?%s", queries[i]);
			g_autoptr(AiqTestResponse) resp = get(ts, path, ts->viewer_token);
			aiq_test_assert_status(resp, 400);
		}
	}
	/* another tenant sees none of them */
	{
		g_autoptr(AiqTestResponse) resp =
			get(ts, "/api/v1/workflows", ts->other_admin_token);
		aiq_test_assert_status(resp, 200);
		g_assert_cmpuint(
			json_array_get_length(
				aiq_json_object_get_array(aiq_test_response_object(resp), "items")),
			==,
			0);
	}
}

/* writes of every route, for the role and tenancy tests */
typedef struct {
	const gchar *method;
	const gchar *suffix;
	const gchar *content_type;
	const gchar *body; /* a format with the workflow's name */
} AiqWorkflowCall;

static const AiqWorkflowCall write_calls[] = {
	{ "PUT", "", "application/yaml", NULL },
	{ "POST", "/rollback", "application/json", "{\"version\": 1}" },
	{ "POST", "/enable", NULL, NULL },
	{ "POST", "/disable", NULL, NULL },
	{ "DELETE", "", NULL, NULL },
};

static const AiqWorkflowCall read_calls[] = {
	{ "GET", "", NULL, NULL },
	{ "GET", "?version=1", NULL, NULL },
	{ "GET", "/versions", NULL, NULL },
	{ "GET", "/versions/1", NULL, NULL },
	{ "GET", "/diff?from=1&to=1", NULL, NULL },
};

static AiqTestResponse *
call(AiqTestServer *ts, const AiqWorkflowCall *c, const gchar *id, const gchar *token)
{
	g_autofree gchar *path = path_of(id, c->suffix);
	g_autofree gchar *body = NULL;
	if (c->content_type != NULL && c->body == NULL)
		body = definition(yaml_v2, "shared");
	else
		body = g_strdup(c->body);
	return request(ts, c->method, path, token, c->content_type, body, -1);
}

static void
test_workflows_roles(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create(ts, yaml_v1, "shared");
	g_autofree gchar *text = definition(yaml_v1, "from-viewer");

	for (guint i = 0; i < G_N_ELEMENTS(read_calls); i++) {
		g_autoptr(AiqTestResponse) resp = call(ts, &read_calls[i], id, ts->viewer_token);
		aiq_test_assert_status(resp, 200);
	}
	for (guint i = 0; i < G_N_ELEMENTS(write_calls); i++) {
		g_autoptr(AiqTestResponse) resp = call(ts, &write_calls[i], id, ts->viewer_token);
		aiq_test_assert_status(resp, 403);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "forbidden");
	}
	{
		g_autoptr(AiqTestResponse) resp =
			send_yaml(ts, "POST", "/api/v1/workflows", ts->viewer_token, text);
		g_autoptr(AiqTestResponse) anonymous =
			send_yaml(ts, "POST", "/api/v1/workflows", NULL, text);
		g_autoptr(AiqTestResponse) list = get(ts, "/api/v1/workflows", NULL);
		aiq_test_assert_status(resp, 403);
		aiq_test_assert_status(anonymous, 401);
		aiq_test_assert_status(list, 401);
	}
	/* nothing changed */
	{
		g_autofree gchar *path = path_of(id, NULL);
		g_autoptr(AiqTestResponse) resp = get(ts, path, ts->viewer_token);
		aiq_test_assert_status(resp, 200);
		g_assert_cmpint(
			json_object_get_int_member(aiq_test_response_object(resp), "version"),
			==,
			1);
		g_assert_true(
			json_object_get_boolean_member(aiq_test_response_object(resp), "enabled"));
	}
}

static void
test_workflows_tenancy(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create(ts, yaml_v1, "shared");

	for (guint i = 0; i < G_N_ELEMENTS(read_calls); i++) {
		g_autoptr(AiqTestResponse) resp =
			call(ts, &read_calls[i], id, ts->other_admin_token);
		aiq_test_assert_status(resp, 404);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "not_found");
		g_assert_null(strstr(resp->body, "erp.internal"));
	}
	for (guint i = 0; i < G_N_ELEMENTS(write_calls); i++) {
		g_autoptr(AiqTestResponse) resp =
			call(ts, &write_calls[i], id, ts->other_admin_token);
		aiq_test_assert_status(resp, 404);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "not_found");
	}
	/* the other tenant may use the name, and its workflow is its own */
	{
		g_autofree gchar *text = definition(yaml_v2, "shared");
		g_autoptr(AiqTestResponse) resp =
			send_yaml(ts, "POST", "/api/v1/workflows", ts->other_admin_token, text);
		aiq_test_assert_status(resp, 201);
		g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(resp), "id"),
				!=,
				id);
	}
	/* the first tenant's workflow is untouched */
	{
		g_autofree gchar *path = path_of(id, NULL);
		g_autoptr(AiqTestResponse) resp = get(ts, path, ts->viewer_token);
		JsonObject *obj;
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpint(json_object_get_int_member(obj, "version"), ==, 1);
		g_assert_true(json_object_get_boolean_member(obj, "enabled"));
	}
	/* and an id that exists nowhere */
	{
		g_autoptr(AiqTestResponse) resp =
			get(ts, "/api/v1/workflows/no-such-workflow", ts->viewer_token);
		aiq_test_assert_status(resp, 404);
	}
}

static void
test_workflows_bodies(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *text = definition(yaml_v1, "bodies");

	/* a content type that is neither JSON nor YAML */
	{
		g_autoptr(AiqTestResponse) resp = request(ts,
							  "POST",
							  "/api/v1/workflows",
							  ts->editor_token,
							  "text/plain",
							  text,
							  -1);
		aiq_test_assert_status(resp, 415);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "unsupported_media_type");
	}
	/* malformed YAML: 400 naming the line */
	{
		const gchar *bad = "name: x\nsteps:\n  - id: a\n    with: { value: [1, 2 }\n";
		g_autoptr(AiqTestResponse) resp =
			send_yaml(ts, "POST", "/api/v1/workflows", ts->editor_token, bad);
		aiq_test_assert_status(resp, 400);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "invalid_document");
		if (strstr(resp->body, "line 4") == NULL)
			g_error("no line in: %s", resp->body);
	}
	/* malformed JSON and an empty body */
	{
		g_autoptr(AiqTestResponse) resp = request_json(ts,
							       "POST",
							       "/api/v1/workflows",
							       ts->editor_token,
							       "{\"name\": ");
		g_autoptr(AiqTestResponse) empty = request(ts,
							   "POST",
							   "/api/v1/workflows",
							   ts->editor_token,
							   "application/yaml",
							   "",
							   0);
		aiq_test_assert_status(resp, 400);
		aiq_test_assert_status(empty, 400);
	}
	/* deeply nested JSON and YAML: refused, not a crash */
	{
		gsize depth = 100000;
		GString *json = g_string_new(NULL);
		GString *yaml = g_string_new("name: deep\nsteps: ");
		g_autoptr(AiqTestResponse) resp = NULL;
		g_autoptr(AiqTestResponse) yaml_resp = NULL;
		for (gsize i = 0; i < depth; i++)
			g_string_append_c(json, '[');
		for (gsize i = 0; i < depth; i++)
			g_string_append_c(json, ']');
		for (gsize i = 0; i < depth; i++)
			g_string_append_c(yaml, '[');
		for (gsize i = 0; i < depth; i++)
			g_string_append_c(yaml, ']');
		g_string_append_c(yaml, '\n');
		resp = request(ts,
			       "POST",
			       "/api/v1/workflows",
			       ts->editor_token,
			       "application/json",
			       json->str,
			       (gssize)json->len);
		aiq_test_assert_status(resp, 400);
		yaml_resp = send_yaml(ts, "POST", "/api/v1/workflows", ts->editor_token, yaml->str);
		aiq_test_assert_status(yaml_resp, 400);
		g_string_free(json, TRUE);
		g_string_free(yaml, TRUE);
	}
	/* a definition over the general body limit (1 MiB) but within
	 * max-definition-body (4 MiB) is taken… */
	{
		gsize pad = 2 * 1024 * 1024;
		g_autofree gchar *json = definition(json_v1, "padded");
		g_autofree gchar *spaces = g_strnfill(pad, ' ');
		GString *body = g_string_new(json);
		g_autoptr(AiqTestResponse) resp = NULL;
		g_string_append_len(body, spaces, (gssize)pad);
		resp = request(ts,
			       "POST",
			       "/api/v1/workflows",
			       ts->editor_token,
			       "application/json",
			       body->str,
			       (gssize)body->len);
		aiq_test_assert_status(resp, 201);
		g_string_free(body, TRUE);
	}
	/* …and one over it is not */
	{
		gsize size = 5 * 1024 * 1024;
		g_autofree gchar *big = g_strnfill(size, ' ');
		g_autoptr(AiqTestResponse) resp = request(ts,
							  "POST",
							  "/api/v1/workflows",
							  ts->editor_token,
							  "application/yaml",
							  big,
							  (gssize)size);
		aiq_test_assert_status(resp, 413);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "too_large");
	}
}

/* max-definition-body from the config sets the limit of definition routes */
static void
test_workflows_body_limit_config(void)
{
	AiqTestServerOptions options = { .config = "max-definition-body=64KiB" };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	gsize pad = 100 * 1024;
	g_autofree gchar *json = definition(json_v1, "padded");
	GString *body = g_string_new(json);
	g_autoptr(AiqTestResponse) resp = NULL;
	g_autoptr(AiqTestResponse) small = NULL;
	g_autofree gchar *spaces = g_strnfill(pad, ' ');

	small = request_json(ts, "POST", "/api/v1/workflows", ts->editor_token, json);
	aiq_test_assert_status(small, 201);
	g_string_append_len(body, spaces, (gssize)pad);
	resp = request(ts,
		       "POST",
		       "/api/v1/workflows",
		       ts->editor_token,
		       "application/json",
		       body->str,
		       (gssize)body->len);
	aiq_test_assert_status(resp, 413);
	g_string_free(body, TRUE);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/http/workflows/create", test_workflows_create);
	g_test_add_func("/aiq/http/workflows/problems", test_workflows_problems);
	g_test_add_func("/aiq/http/workflows/conflict", test_workflows_conflict);
	g_test_add_func("/aiq/http/workflows/versions", test_workflows_versions);
	g_test_add_func("/aiq/http/workflows/diff", test_workflows_diff);
	g_test_add_func("/aiq/http/workflows/rollback", test_workflows_rollback);
	g_test_add_func("/aiq/http/workflows/enable", test_workflows_enable);
	g_test_add_func("/aiq/http/workflows/scheduled", test_workflows_scheduled);
	g_test_add_func("/aiq/http/workflows/delete", test_workflows_delete);
	g_test_add_func("/aiq/http/workflows/list", test_workflows_list);
	g_test_add_func("/aiq/http/workflows/roles", test_workflows_roles);
	g_test_add_func("/aiq/http/workflows/tenancy", test_workflows_tenancy);
	g_test_add_func("/aiq/http/workflows/bodies", test_workflows_bodies);
	g_test_add_func("/aiq/http/workflows/body-limit-config", test_workflows_body_limit_config);
	return g_test_run();
}
