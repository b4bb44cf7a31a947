/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * A tenant's export and erasure over the real server. The export is read
 * back line by line and compared with what the API says, searched for every
 * secret the store holds, refused to others, and streamed: a big one goes
 * out in chunks without the server's memory growing by its size, and stops
 * when its client goes away. The erasure is refused while the tenant is
 * active and for the platform; after it, the store is read table by table
 * (the SQLite file, or the PostgreSQL database as its superuser, whom
 * row-level security does not bind) and holds nothing of the tenant but
 * the platform's records about it.
 */

#include "config.h"

#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#include "aiq-json.h"
#include "aiq-store-tenant-data.h"
#include "aiq-test-agent.h"
#include "aiq-test-db.h"
#include "aiq-test-server.h"
#include "aiq-util.h"

#define PASSWORD "correct-horse-battery-9"

#define WORKFLOW_JSON                                                                   \
	"{\"name\":\"%s\",\"runs_on\":{\"labels\":[\"site-a\"]},"                       \
	"\"inputs\":{\"who\":{\"type\":\"string\",\"required\":true}},"                 \
	"\"steps\":[{\"id\":\"fetch\",\"uses\":\"transform\",\"with\":{\"value\":%d}}," \
	"{\"id\":\"store\",\"uses\":\"transform\",\"with\":{\"value\":2}},"             \
	"{\"id\":\"notify\",\"uses\":\"transform\",\"with\":{\"value\":3}}]}"

static const gchar *const hook_yaml = "name: hooked\n"
				      "triggers:\n"
				      "  - webhook: {}\n"
				      "steps:\n"
				      "  - id: a\n"
				      "    uses: transform\n"
				      "    with: { value: 1 }\n";

/* what a tenant was given, with every secret of it the test saw */
typedef struct {
	gchar *tenant_id;
	gchar *admin_token;
	gchar *user_id;
	gchar *api_key_id;
	gchar *api_key_token;
	gchar *workflow_id;
	gchar *hook_workflow_id;
	gchar *hook_token;
	gchar *hook_secret;
	AiqTestAgent *agent;
	GPtrArray *executions;
} TenantData;

static void
tenant_data_free(TenantData *td)
{
	g_free(td->tenant_id);
	g_free(td->admin_token);
	g_free(td->user_id);
	g_free(td->api_key_id);
	g_free(td->api_key_token);
	g_free(td->workflow_id);
	g_free(td->hook_workflow_id);
	g_free(td->hook_token);
	g_free(td->hook_secret);
	g_clear_pointer(&td->agent, aiq_test_agent_free);
	g_ptr_array_unref(td->executions);
	g_free(td);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TenantData, tenant_data_free)

static const gchar *
string_member(AiqTestResponse *resp, const gchar *member)
{
	return aiq_json_object_get_string(aiq_test_response_object(resp), member);
}

/* the events of a run: fetch succeeds, store at its second attempt (or
 * fails), notify is skipped */
static void
run_execution(AiqTestAgent *agent, const gchar *id, gboolean fail)
{
	g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(JsonObject) reply = NULL;
	g_ptr_array_add(events, aiq_test_event(id, 1, "execution.created", NULL, 0, NULL, "{}"));
	g_ptr_array_add(events, aiq_test_event(id, 2, "execution.started", NULL, 0, NULL, NULL));
	g_ptr_array_add(events, aiq_test_event(id, 3, "step.started", "fetch", 0, NULL, NULL));
	g_ptr_array_add(events,
			aiq_test_event(id,
				       4,
				       "step.finished",
				       "fetch",
				       1,
				       "succeeded",
				       "{\"output_size\":10,\"output\":{\"rows\":3}}"));
	g_ptr_array_add(events, aiq_test_event(id, 5, "step.started", "store", 0, NULL, NULL));
	g_ptr_array_add(events,
			aiq_test_event(id,
				       6,
				       "step.finished",
				       "store",
				       2,
				       fail ? "failed" : "succeeded",
				       fail ? "{\"error\":{\"code\":\"step_failed\",\"message\":"
					      "\"boom\"}}"
					    : "{\"output_size\":12,\"output\":{\"stored\":3}}"));
	g_ptr_array_add(events,
			aiq_test_event(id,
				       7,
				       "step.skipped",
				       "notify",
				       0,
				       "skipped",
				       "{\"reason\":\"the condition is false\"}"));
	g_ptr_array_add(events,
			aiq_test_event(id,
				       8,
				       "execution.finished",
				       NULL,
				       0,
				       fail ? "failed" : "succeeded",
				       fail ? "{\"error\":{\"code\":\"step_failed\",\"message\":"
					      "\"store failed\"}}"
					    : "{\"outputs\":{\"done\":true}}"));
	reply = aiq_test_agent_send_events(agent, events, NULL, 0);
	g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(reply, "acks"), id, -1),
			==,
			8);
}

/* a user, an API key, a workflow with two versions, a workflow with a
 * webhook, an agent, two executions it ran; each recorded in the audit log */
static TenantData *
tenant_data_build(AiqTestServer *ts, const gchar *tenant_id, const gchar *admin_token)
{
	TenantData *td = g_new0(TenantData, 1);
	g_autofree gchar *v1 = g_strdup_printf(WORKFLOW_JSON, "sync", 1);
	g_autofree gchar *v2 = g_strdup_printf(WORKFLOW_JSON, "sync", 7);
	g_autofree gchar *path = NULL;

	td->tenant_id = g_strdup(tenant_id);
	td->admin_token = g_strdup(admin_token);
	td->executions = g_ptr_array_new_with_free_func(g_free);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/users",
					      admin_token,
					      "{\"username\":\"carol\",\"display_name\":\"Carol\","
					      "\"role\":\"editor\",\"password\":\"" PASSWORD "\"}");
		aiq_test_assert_status(resp, 201);
		td->user_id = g_strdup(string_member(resp, "id"));
	}
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/api-keys",
					      admin_token,
					      "{\"name\":\"ci\",\"role\":\"editor\"}");
		aiq_test_assert_status(resp, 201);
		td->api_key_id = g_strdup(string_member(resp, "id"));
		td->api_key_token = g_strdup(string_member(resp, "token"));
		g_assert_nonnull(td->api_key_token);
	}
	{
		g_autoptr(AiqTestResponse) created =
			aiq_test_request_json(ts, "POST", "/api/v1/workflows", admin_token, v1);
		g_autoptr(AiqTestResponse) updated = NULL;
		aiq_test_assert_status(created, 201);
		td->workflow_id = g_strdup(string_member(created, "id"));
		path = g_strdup_printf("/api/v1/workflows/%s", td->workflow_id);
		updated = aiq_test_request_json(ts, "PUT", path, admin_token, v2);
		aiq_test_assert_status(updated, 200);
		g_clear_pointer(&path, g_free);
	}
	{
		g_autoptr(AiqTestResponse) created = aiq_test_request(ts,
								      "POST",
								      "/api/v1/workflows",
								      admin_token,
								      "application/yaml",
								      hook_yaml,
								      -1);
		g_autoptr(AiqTestResponse) hook = NULL;
		const gchar *hook_path;
		aiq_test_assert_status(created, 201);
		td->hook_workflow_id = g_strdup(string_member(created, "id"));
		path = g_strdup_printf("/api/v1/workflows/%s/webhook", td->hook_workflow_id);
		hook = aiq_test_request(ts, "GET", path, admin_token, NULL, NULL, 0);
		aiq_test_assert_status(hook, 200);
		hook_path = string_member(hook, "path");
		g_assert_true(g_str_has_prefix(hook_path, "/api/v1/hooks/"));
		td->hook_token = g_strdup(hook_path + strlen("/api/v1/hooks/"));
		td->hook_secret = g_strdup(string_member(hook, "secret"));
		g_clear_pointer(&path, g_free);
	}
	td->agent = aiq_test_agent_enroll(ts, admin_token, "runner-1", "[\"site-a\"]");
	path = g_strdup_printf("/api/v1/workflows/%s/executions", td->workflow_id);
	for (guint i = 0; i < 2; i++) {
		g_autoptr(AiqTestResponse) started =
			aiq_test_request_json(ts,
					      "POST",
					      path,
					      admin_token,
					      "{\"inputs\":{\"who\":\"ann\"}}");
		g_autofree gchar *leased = NULL;
		aiq_test_assert_status(started, 201);
		g_ptr_array_add(td->executions, g_strdup(string_member(started, "id")));
		leased = aiq_test_agent_lease_one(td->agent);
		g_assert_cmpstr(leased, ==, string_member(started, "id"));
		run_execution(td->agent, leased, i == 1);
	}
	return td;
}

/* the export */

typedef struct {
	guint status;
	gchar *content_type;
	gchar *disposition;
	SoupEncoding encoding;
	GBytes *compressed;
	GBytes *text;
	GPtrArray *lines; /* JsonObject: {type, data} */
} Export;

static void
export_free(Export *ex)
{
	g_free(ex->content_type);
	g_free(ex->disposition);
	g_clear_pointer(&ex->compressed, g_bytes_unref);
	g_clear_pointer(&ex->text, g_bytes_unref);
	g_clear_pointer(&ex->lines, g_ptr_array_unref);
	g_free(ex);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Export, export_free)

static GBytes *
gunzip(GBytes *compressed)
{
	g_autoptr(GInputStream) memory = g_memory_input_stream_new_from_bytes(compressed);
	g_autoptr(GConverter) decompressor =
		G_CONVERTER(g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP));
	g_autoptr(GInputStream) input = g_converter_input_stream_new(memory, decompressor);
	g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable();
	g_autoptr(GError) error = NULL;
	g_output_stream_splice(output,
			       input,
			       G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE |
				       G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
			       NULL,
			       &error);
	g_assert_no_error(error);
	return g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(output));
}

static Export *
export_get(AiqTestServer *ts, const gchar *tenant_id, const gchar *token)
{
	g_autofree gchar *url = g_strdup_printf("%s/api/v1/tenants/%s/export", ts->url, tenant_id);
	g_autofree gchar *auth = g_strdup_printf("Bearer %s", token);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GError) error = NULL;
	SoupMessageHeaders *headers;
	Export *ex = g_new0(Export, 1);
	gsize len = 0;
	const gchar *text;

	soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
	ex->compressed = soup_session_send_and_read(ts->session, msg, NULL, &error);
	g_assert_no_error(error);
	headers = soup_message_get_response_headers(msg);
	ex->status = soup_message_get_status(msg);
	ex->content_type = g_strdup(soup_message_headers_get_content_type(headers, NULL));
	ex->disposition = g_strdup(soup_message_headers_get_one(headers, "Content-Disposition"));
	ex->encoding = soup_message_headers_get_encoding(headers);
	if (ex->status != SOUP_STATUS_OK)
		return ex;
	g_assert_cmpstr(ex->content_type, ==, "application/gzip");
	ex->text = gunzip(ex->compressed);
	ex->lines = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
	text = g_bytes_get_data(ex->text, &len);
	g_assert_cmpuint(len, >, 0);
	g_assert_cmpint(text[len - 1], ==, '\n');
	for (const gchar *p = text; p < text + len;) {
		const gchar *nl = memchr(p, '\n', text + len - p);
		g_autoptr(JsonNode) node = NULL;
		JsonObject *line;
		g_assert_nonnull(nl);
		node = aiq_json_parse(p, nl - p, 256, &error);
		g_assert_no_error(error);
		g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
		line = json_node_get_object(node);
		g_assert_nonnull(aiq_json_object_get_string(line, "type"));
		g_assert_nonnull(aiq_json_object_get_object(line, "data"));
		g_ptr_array_add(ex->lines, json_object_ref(line));
		p = nl + 1;
	}
	return ex;
}

static guint
export_count(Export *ex, const gchar *type)
{
	guint n = 0;
	for (guint i = 0; i < ex->lines->len; i++) {
		JsonObject *line = g_ptr_array_index(ex->lines, i);
		n += g_strcmp0(aiq_json_object_get_string(line, "type"), type) == 0;
	}
	return n;
}

/* the data of the line of @type whose @member is @value (and whose
 * @member2 is @value2, when given) */
static JsonObject *
export_find(Export *ex,
	    const gchar *type,
	    const gchar *member,
	    const gchar *value,
	    const gchar *member2,
	    gint64 value2)
{
	for (guint i = 0; i < ex->lines->len; i++) {
		JsonObject *line = g_ptr_array_index(ex->lines, i);
		JsonObject *data = aiq_json_object_get_object(line, "data");
		if (g_strcmp0(aiq_json_object_get_string(line, "type"), type) != 0 ||
		    g_strcmp0(aiq_json_object_get_string(data, member), value) != 0)
			continue;
		if (member2 != NULL && aiq_json_object_get_int(data, member2, -1) != value2)
			continue;
		return data;
	}
	return NULL;
}

static gboolean
bytes_contain(GBytes *haystack, gconstpointer needle, gsize len)
{
	gsize size = 0;
	gconstpointer data = g_bytes_get_data(haystack, &size);
	return len > 0 && memmem(data, size, needle, len) != NULL;
}

static void
assert_secret_absent(GBytes *text, const gchar *what, gconstpointer secret, gsize len)
{
	if (bytes_contain(text, secret, len))
		g_error("the export holds %s", what);
}

/* a binary hash, raw, in hex and in base64 */
static void
assert_hash_absent(GBytes *text, const gchar *what, const guint8 *hash, gsize len)
{
	g_autoptr(GString) hex = g_string_new(NULL);
	g_autofree gchar *b64 = g_base64_encode(hash, len);
	for (gsize i = 0; i < len; i++)
		g_string_append_printf(hex, "%02x", hash[i]);
	assert_secret_absent(text, what, hash, len);
	assert_secret_absent(text, what, hex->str, hex->len);
	assert_secret_absent(text, what, b64, strlen(b64));
}

/* every secret the store holds for @tenant_id is nowhere in @text */
static void
assert_store_secrets_absent(AiqTestDb *db, const gchar *tenant_id, GBytes *text)
{
	const struct {
		const gchar *sql;
		gboolean binary; /* a hash, as bytes */
	} queries[] = {
		{ "SELECT password_hash FROM users WHERE tenant_id = ?1", FALSE },
		{ "SELECT hash FROM tokens WHERE tenant_id = ?1", TRUE },
		{ "SELECT token_hash FROM webhooks WHERE tenant_id = ?1", TRUE },
		{ "SELECT secret FROM webhooks WHERE tenant_id = ?1", FALSE },
	};
	guint n_secrets = 0;
	for (guint i = 0; i < G_N_ELEMENTS(queries); i++) {
		g_autoptr(GPtrArray) values =
			aiq_test_db_bytes(db, queries[i].sql, AIQ_TEST_DB_TEXT(tenant_id));
		for (guint j = 0; j < values->len; j++) {
			GBytes *value = g_ptr_array_index(values, j);
			gsize len = 0;
			gconstpointer data = value != NULL ? g_bytes_get_data(value, &len) : NULL;
			if (queries[i].binary)
				assert_hash_absent(text, queries[i].sql, data, len);
			else
				assert_secret_absent(text, queries[i].sql, data, len);
			n_secrets++;
		}
	}
	/* four users' hashes, their sessions, a key, an agent's credential, an
	 * enrollment token, a webhook's token hash and its sealed secret */
	g_assert_cmpuint(n_secrets, >=, 10);
}

static void
assert_export_header_and_end(Export *ex, AiqTestServer *ts, const gchar *tenant_id)
{
	JsonObject *first = g_ptr_array_index(ex->lines, 0);
	JsonObject *last = g_ptr_array_index(ex->lines, ex->lines->len - 1);
	JsonObject *header = aiq_json_object_get_object(first, "data");
	JsonObject *end = aiq_json_object_get_object(last, "data");
	JsonObject *counts = aiq_json_object_get_object(end, "counts");
	g_autofree gchar *exported = aiq_time_to_iso8601(ts->now);

	g_assert_cmpstr(aiq_json_object_get_string(first, "type"), ==, "header");
	g_assert_cmpstr(aiq_json_object_get_string(header, "format"),
			==,
			"automateiq-tenant-export");
	g_assert_cmpint(aiq_json_object_get_int(header, "version", 0), ==, 1);
	g_assert_cmpstr(aiq_json_object_get_string(header, "tenant"), ==, tenant_id);
	g_assert_cmpstr(aiq_json_object_get_string(header, "exported"), ==, exported);
	/* the end line counts every line between */
	g_assert_cmpstr(aiq_json_object_get_string(last, "type"), ==, "end");
	g_assert_cmpint(aiq_json_object_get_int(end, "lines", -1), ==, (gint64)ex->lines->len - 2);
	g_assert_nonnull(counts);
	for (guint i = 1; i + 1 < ex->lines->len; i++) {
		JsonObject *line = g_ptr_array_index(ex->lines, i);
		const gchar *type = aiq_json_object_get_string(line, "type");
		g_assert_cmpint(aiq_json_object_get_int(counts, type, -1),
				==,
				export_count(ex, type));
	}
	/* one tenant line, its own */
	g_assert_cmpuint(export_count(ex, "tenant"), ==, 1);
	g_assert_nonnull(export_find(ex, "tenant", "id", tenant_id, NULL, 0));
}

/* the users, workflows with their versions, and executions with their
 * steps are what the API says they are */
static void
assert_export_matches_api(Export *ex, AiqTestServer *ts, TenantData *td)
{
	g_autoptr(AiqTestResponse) users = aiq_test_request(ts,
							    "GET",
							    "/api/v1/users?limit=100",
							    td->admin_token,
							    NULL,
							    NULL,
							    0);
	g_autoptr(AiqTestResponse) workflows =
		aiq_test_request(ts, "GET", "/api/v1/workflows", td->admin_token, NULL, NULL, 0);
	JsonArray *items;

	aiq_test_assert_status(users, 200);
	items = aiq_json_object_get_array(aiq_test_response_object(users), "items");
	g_assert_cmpuint(json_array_get_length(items), ==, export_count(ex, "user"));
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *user = json_array_get_object_element(items, i);
		JsonObject *row = export_find(ex,
					      "user",
					      "id",
					      aiq_json_object_get_string(user, "id"),
					      NULL,
					      0);
		g_assert_nonnull(row);
		g_assert_false(json_object_has_member(row, "password_hash"));
		for (guint m = 0; m < 4; m++) {
			const gchar *member =
				(const gchar *[]){ "username", "role", "created", "updated" }[m];
			g_assert_cmpstr(aiq_json_object_get_string(row, member),
					==,
					aiq_json_object_get_string(user, member));
		}
		g_assert_cmpint(json_object_get_boolean_member(row, "disabled"),
				==,
				json_object_get_boolean_member(user, "disabled"));
	}
	g_assert_nonnull(export_find(ex, "user", "id", td->user_id, NULL, 0));
	g_assert_cmpstr(
		aiq_json_object_get_string(export_find(ex, "user", "id", td->user_id, NULL, 0),
					   "display_name"),
		==,
		"Carol");

	aiq_test_assert_status(workflows, 200);
	items = aiq_json_object_get_array(aiq_test_response_object(workflows), "items");
	g_assert_cmpuint(json_array_get_length(items), ==, export_count(ex, "workflow"));
	for (guint i = 0; i < json_array_get_length(items); i++) {
		const gchar *id =
			aiq_json_object_get_string(json_array_get_object_element(items, i), "id");
		g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/versions", id);
		g_autoptr(AiqTestResponse) versions =
			aiq_test_request(ts, "GET", path, td->admin_token, NULL, NULL, 0);
		JsonObject *row = export_find(ex, "workflow", "id", id, NULL, 0);
		JsonArray *list;
		g_assert_nonnull(row);
		aiq_test_assert_status(versions, 200);
		list = aiq_json_object_get_array(aiq_test_response_object(versions), "items");
		g_assert_cmpint(aiq_json_object_get_int(row, "latest_version", 0),
				==,
				(gint64)json_array_get_length(list));
		for (guint v = 0; v < json_array_get_length(list); v++) {
			gint64 number =
				aiq_json_object_get_int(json_array_get_object_element(list, v),
							"version",
							0);
			g_autofree gchar *vpath =
				g_strdup_printf("/api/v1/workflows/%s/versions/%" G_GINT64_FORMAT,
						id,
						number);
			g_autoptr(AiqTestResponse) version =
				aiq_test_request(ts, "GET", vpath, td->admin_token, NULL, NULL, 0);
			JsonObject *vrow = export_find(ex,
						       "workflow_version",
						       "workflow_id",
						       id,
						       "version",
						       number);
			JsonObject *api;
			aiq_test_assert_status(version, 200);
			api = aiq_test_response_object(version);
			g_assert_nonnull(vrow);
			g_assert_cmpstr(aiq_json_object_get_string(vrow, "digest"),
					==,
					aiq_json_object_get_string(api, "digest"));
			g_assert_cmpstr(aiq_json_object_get_string(vrow, "created"),
					==,
					aiq_json_object_get_string(api, "created"));
			g_assert_true(json_node_equal(json_object_get_member(vrow, "definition"),
						      json_object_get_member(api, "definition")));
		}
	}
	/* the workflow updated once has both its versions */
	g_assert_nonnull(
		export_find(ex, "workflow_version", "workflow_id", td->workflow_id, "version", 1));
	g_assert_nonnull(
		export_find(ex, "workflow_version", "workflow_id", td->workflow_id, "version", 2));

	g_assert_cmpuint(td->executions->len, ==, export_count(ex, "execution"));
	for (guint i = 0; i < td->executions->len; i++) {
		const gchar *id = g_ptr_array_index(td->executions, i);
		g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", id);
		g_autoptr(AiqTestResponse) got =
			aiq_test_request(ts, "GET", path, td->admin_token, NULL, NULL, 0);
		JsonObject *row = export_find(ex, "execution", "id", id, NULL, 0);
		JsonObject *api;
		JsonArray *steps;
		aiq_test_assert_status(got, 200);
		api = aiq_test_response_object(got);
		g_assert_nonnull(row);
		g_assert_cmpstr(aiq_json_object_get_string(row, "status"),
				==,
				aiq_json_object_get_string(api, "status"));
		g_assert_cmpstr(aiq_json_object_get_string(row, "workflow_id"),
				==,
				aiq_json_object_get_string(api, "workflow_id"));
		g_assert_cmpint(aiq_json_object_get_int(row, "version", 0),
				==,
				aiq_json_object_get_int(api, "version", -1));
		g_assert_cmpstr(aiq_json_object_get_string(row, "created"),
				==,
				aiq_json_object_get_string(api, "created"));
		g_assert_cmpstr(aiq_json_object_get_string(row, "finished"),
				==,
				aiq_json_object_get_string(api, "finished"));
		g_assert_true(json_node_equal(json_object_get_member(row, "outputs"),
					      json_object_get_member(api, "outputs")));
		g_assert_true(json_node_equal(json_object_get_member(row, "inputs"),
					      json_object_get_member(api, "inputs")));
		steps = aiq_json_object_get_array(api, "steps");
		g_assert_cmpuint(json_array_get_length(steps), ==, 3);
		for (guint s = 0; s < json_array_get_length(steps); s++) {
			JsonObject *step = json_array_get_object_element(steps, s);
			const gchar *step_id = aiq_json_object_get_string(step, "id");
			JsonObject *srow = NULL;
			for (guint l = 0; l < ex->lines->len && srow == NULL; l++) {
				JsonObject *line = g_ptr_array_index(ex->lines, l);
				JsonObject *data = aiq_json_object_get_object(line, "data");
				if (g_strcmp0(aiq_json_object_get_string(line, "type"),
					      "execution_step") == 0 &&
				    g_strcmp0(aiq_json_object_get_string(data, "execution_id"),
					      id) == 0 &&
				    g_strcmp0(aiq_json_object_get_string(data, "step_id"),
					      step_id) == 0)
					srow = data;
			}
			g_assert_nonnull(srow);
			g_assert_cmpstr(aiq_json_object_get_string(srow, "status"),
					==,
					aiq_json_object_get_string(step, "status"));
			g_assert_cmpint(aiq_json_object_get_int(srow, "attempts", -1),
					==,
					aiq_json_object_get_int(step, "attempt_count", -2));
			g_assert_true(json_node_equal(json_object_get_member(srow, "output"),
						      json_object_get_member(step, "output")));
		}
	}
	/* each execution's 8 events, each right after its execution and steps */
	g_assert_cmpuint(export_count(ex, "execution_event"), ==, 8 * td->executions->len);
	for (guint i = 0; i + 1 < ex->lines->len; i++) {
		JsonObject *line = g_ptr_array_index(ex->lines, i);
		JsonObject *next = g_ptr_array_index(ex->lines, i + 1);
		if (g_strcmp0(aiq_json_object_get_string(line, "type"), "execution") != 0)
			continue;
		g_assert_cmpstr(aiq_json_object_get_string(next, "type"), ==, "execution_step");
		g_assert_cmpstr(
			aiq_json_object_get_string(aiq_json_object_get_object(next, "data"),
						   "execution_id"),
			==,
			aiq_json_object_get_string(aiq_json_object_get_object(line, "data"), "id"));
	}
}

/* DATA_DIR/archive/TENANT/@name, as the retention job writes it */
static void
write_archive(AiqTestServer *ts, const gchar *tenant_id, const gchar *name, const gchar *text)
{
	g_autofree gchar *dir = g_build_filename(ts->dir, "archive", tenant_id, NULL);
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	g_autoptr(GFile) file = g_file_new_for_path(path);
	g_autoptr(GError) error = NULL;
	g_autoptr(GFileOutputStream) output = NULL;
	g_autoptr(GConverter) compressor =
		G_CONVERTER(g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1));
	g_autoptr(GOutputStream) gz = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	output = g_file_replace(file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
	g_assert_no_error(error);
	gz = g_converter_output_stream_new(G_OUTPUT_STREAM(output), compressor);
	g_assert_true(g_output_stream_write_all(gz, text, strlen(text), NULL, NULL, &error));
	g_assert_true(g_output_stream_close(gz, NULL, &error));
	g_assert_no_error(error);
}

static const gchar *const archived_lines =
	"{\"id\":\"0arch1\",\"status\":\"succeeded\",\"steps\":[{\"id\":\"a\"}],\"events\":[]}\n"
	"{\"id\":\"0arch2\",\"status\":\"failed\",\"steps\":[],\"events\":[{\"seq\":1}]}\n";

static void
test_export(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(TenantData) td = tenant_data_build(ts, ts->tenant_id, ts->admin_token);
	g_autoptr(Export) ex = NULL;
	g_autoptr(AiqTestDb) db = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *broken_archive = NULL;
	JsonObject *end;
	JsonArray *errors;
	const gchar *const tokens[] = { ts->admin_token,   ts->editor_token, ts->viewer_token,
					td->api_key_token, td->hook_token,   td->hook_secret,
					td->agent->token,  PASSWORD };

	write_archive(ts, ts->tenant_id, "2026-11-30.jsonl.gz", archived_lines);
	/* a broken archive is named in the end line, and the rest goes on */
	{
		g_autofree gchar *broken = g_build_filename(ts->dir,
							    "archive",
							    ts->tenant_id,
							    "2026-12-01.jsonl.gz",
							    NULL);
		g_assert_true(g_file_set_contents(broken, "not gzip", -1, &error));
		g_assert_no_error(error);
	}

	ex = export_get(ts, ts->tenant_id, ts->admin_token);
	g_assert_cmpuint(ex->status, ==, 200);
	g_assert_cmpstr(ex->disposition, ==, "attachment; filename=\"acme-2027-01-01.jsonl.gz\"");
	g_assert_cmpint(ex->encoding, ==, SOUP_ENCODING_CHUNKED);
	assert_export_header_and_end(ex, ts, ts->tenant_id);
	assert_export_matches_api(ex, ts, td);

	/* the rest of what it owns */
	g_assert_nonnull(export_find(ex, "token", "id", td->api_key_id, NULL, 0));
	g_assert_cmpstr(
		aiq_json_object_get_string(export_find(ex, "token", "id", td->api_key_id, NULL, 0),
					   "kind"),
		==,
		"api_key");
	g_assert_nonnull(export_find(ex, "agent", "id", td->agent->id, NULL, 0));
	g_assert_nonnull(export_find(ex, "webhook", "workflow_id", td->hook_workflow_id, NULL, 0));
	g_assert_cmpuint(
		json_object_get_size(
			export_find(ex, "webhook", "workflow_id", td->hook_workflow_id, NULL, 0)),
		==,
		2);
	g_assert_cmpuint(export_count(ex, "job"), ==, td->executions->len);
	g_assert_nonnull(export_find(ex, "audit", "action", "workflow.create", NULL, 0));
	g_assert_nonnull(export_find(ex, "audit", "action", "user.create", NULL, 0));
	g_assert_nonnull(export_find(ex, "audit", "action", "api_key.create", NULL, 0));
	g_assert_cmpuint(export_count(ex, "archived_execution"), ==, 2);
	g_assert_nonnull(export_find(ex, "archived_execution", "id", "0arch2", NULL, 0));
	end = aiq_json_object_get_object(g_ptr_array_index(ex->lines, ex->lines->len - 1), "data");
	errors = aiq_json_object_get_array(end, "errors");
	g_assert_cmpuint(json_array_get_length(errors), ==, 1);
	broken_archive = g_strdup_printf("%s/2026-12-01.jsonl.gz", ts->tenant_id);
	g_assert_cmpstr(
		aiq_json_object_get_string(json_array_get_object_element(errors, 0), "archive"),
		==,
		broken_archive);
	/* nothing of the other tenant */
	g_assert_false(bytes_contain(ex->text, ts->other_tenant_id, strlen(ts->other_tenant_id)));

	/* no secret: not the hashes the store keeps, nor the tokens */
	db = aiq_test_db_open(ts);
	assert_store_secrets_absent(db, ts->tenant_id, ex->text);
	for (guint i = 0; i < G_N_ELEMENTS(tokens); i++)
		assert_secret_absent(ex->text, "a token", tokens[i], strlen(tokens[i]));

	/* the export is in the tenant's audit log */
	{
		g_autoptr(GPtrArray) rows =
			aiq_test_db_rows(db,
					 "SELECT target_type, target_id, outcome, "
					 "details FROM audit_log WHERE tenant_id = ?1 "
					 "AND action = 'tenant.export'",
					 AIQ_TEST_DB_TEXT(ts->tenant_id));
		g_assert_cmpuint(rows->len, ==, 1);
		g_assert_cmpstr(aiq_test_db_cell(rows, 0, 0), ==, "tenant");
		g_assert_cmpstr(aiq_test_db_cell(rows, 0, 1), ==, ts->tenant_id);
		g_assert_cmpstr(aiq_test_db_cell(rows, 0, 2), ==, "success");
		g_assert_nonnull(strstr(aiq_test_db_cell(rows, 0, 3), "\"complete\":true"));
	}
}

/* the records of @action in @tenant_id's audit log about @target_id */
static guint
count_audit(AiqTestDb *db, const gchar *tenant_id, const gchar *action, const gchar *target_id)
{
	return (guint)aiq_test_db_count(db,
					"SELECT count(*) FROM audit_log WHERE tenant_id = ?1 "
					"AND action = ?2 AND target_id = ?3",
					AIQ_TEST_DB_TEXT(tenant_id),
					AIQ_TEST_DB_TEXT(action),
					AIQ_TEST_DB_TEXT(target_id));
}

static gchar *
platform_tenant_id(AiqTestDb *db)
{
	gchar *id = aiq_test_db_value(db, "SELECT id FROM tenants WHERE slug = 'platform'");
	g_assert_nonnull(id);
	return id;
}

static void
test_export_access(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(Export) own = NULL;
	g_autoptr(Export) other = NULL;
	g_autoptr(Export) editor = NULL;
	g_autoptr(Export) platform = NULL;
	g_autoptr(Export) unknown = NULL;
	g_autoptr(AiqTestDb) db = NULL;
	g_autofree gchar *platform_id = NULL;

	/* another tenant's admin does not learn that it exists */
	other = export_get(ts, ts->tenant_id, ts->other_admin_token);
	g_assert_cmpuint(other->status, ==, 404);
	editor = export_get(ts, ts->tenant_id, ts->editor_token);
	g_assert_cmpuint(editor->status, ==, 403);
	unknown = export_get(ts, "00000000000000000000000000", ts->platform_token);
	g_assert_cmpuint(unknown->status, ==, 404);
	own = export_get(ts, ts->other_tenant_id, ts->other_admin_token);
	g_assert_cmpuint(own->status, ==, 200);
	g_assert_nonnull(export_find(own, "tenant", "slug", "other", NULL, 0));

	/* a platform admin exports any tenant; the record is the platform's */
	platform = export_get(ts, ts->tenant_id, ts->platform_token);
	g_assert_cmpuint(platform->status, ==, 200);
	g_assert_nonnull(export_find(platform, "tenant", "slug", "acme", NULL, 0));
	g_assert_cmpuint(export_count(platform, "user"), ==, 3);
	g_assert_false(
		bytes_contain(platform->text, ts->other_tenant_id, strlen(ts->other_tenant_id)));

	db = aiq_test_db_open(ts);
	platform_id = platform_tenant_id(db);
	g_assert_cmpuint(count_audit(db, platform_id, "tenant.export", ts->tenant_id), ==, 1);
	/* in the tenant's own log only the editor's refusal */
	g_assert_cmpuint(count_audit(db, ts->tenant_id, "tenant.export", ts->tenant_id), ==, 1);
	g_assert_cmpuint(count_audit(db, ts->other_tenant_id, "tenant.export", ts->other_tenant_id),
			 ==,
			 1);
	/* the refusals are recorded too */
	g_assert_cmpuint(count_audit(db, ts->other_tenant_id, "tenant.export", ts->tenant_id),
			 ==,
			 1);
}

/* streaming: a big export */

#define BULK_EXECUTIONS 20000

/* AddressSanitizer keeps freed memory in quarantine (256 MiB), so the
 * resident memory of a sanitized build says nothing of what is held */
#if defined(__SANITIZE_ADDRESS__)
#define AIQ_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AIQ_TEST_ASAN 1
#endif
#endif
#ifndef AIQ_TEST_ASAN
#define AIQ_TEST_ASAN 0
#endif

/* the resident memory of this process, which runs the server */
static gsize
resident_bytes(void)
{
	g_autofree gchar *statm = NULL;
	g_auto(GStrv) fields = NULL;
	g_assert_true(g_file_get_contents("/proc/self/statm", &statm, NULL, NULL));
	fields = g_strsplit(statm, " ", -1);
	return (gsize)g_ascii_strtoull(fields[1], NULL, 10) * (gsize)sysconf(_SC_PAGESIZE);
}

/* executions with 4 KiB of random inputs each (which gzip cannot shrink),
 * written straight into the store (through the API they would take
 * minutes) */
static void
insert_bulk_executions(AiqTestServer *ts, const gchar *tenant_id)
{
	g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
	g_autoptr(GString) inputs = g_string_sized_new(4200);

	aiq_test_db_exec(db, "BEGIN");
	for (guint i = 1; i <= BULK_EXECUTIONS; i++) {
		g_autofree gchar *id = g_strdup_printf("bulk%022u", i);
		g_string_assign(inputs, "{\"blob\":\"");
		for (guint j = 0; j < 2048 / 4; j++)
			g_string_append_printf(inputs, "%08X", g_random_int());
		g_string_append(inputs, "\"}");
		aiq_test_db_exec(db,
				 "INSERT INTO executions (tenant_id, id, workflow_id, "
				 "workflow_name, version, status, trigger, inputs, created, "
				 "finished) VALUES (?1, ?2, 'wf', 'bulk', 1, 'succeeded', 'api', "
				 "?3, ?4, 1798761600000000)",
				 AIQ_TEST_DB_TEXT(tenant_id),
				 AIQ_TEST_DB_TEXT(id),
				 AIQ_TEST_DB_TEXT(inputs->str),
				 AIQ_TEST_DB_INT(G_GINT64_CONSTANT(1798761600000000) - i));
	}
	aiq_test_db_exec(db, "COMMIT");
}

typedef struct {
	GInputStream *body;
	GConverter *decompressor;
	GString *pending;
	guint64 compressed;
	guint executions;
	guint lines;
	gboolean ended;
} StreamReader;

/* reads one piece of the body; FALSE at its end */
static gboolean
stream_reader_step(StreamReader *r)
{
	g_autoptr(GError) error = NULL;
	guint8 in[64 * 1024];
	guint8 out[256 * 1024];
	gssize n = g_input_stream_read(r->body, in, sizeof(in), NULL, &error);
	gsize offset = 0;
	const gchar *line;
	const gchar *nl;

	g_assert_no_error(error);
	if (n == 0)
		return FALSE;
	r->compressed += (guint64)n;
	while (offset < (gsize)n) {
		gsize n_read = 0;
		gsize n_written = 0;
		GConverterResult result = g_converter_convert(r->decompressor,
							      in + offset,
							      (gsize)n - offset,
							      out,
							      sizeof(out),
							      G_CONVERTER_NO_FLAGS,
							      &n_read,
							      &n_written,
							      &error);
		g_assert_no_error(error);
		g_assert_cmpint(result, !=, G_CONVERTER_ERROR);
		g_string_append_len(r->pending, (const gchar *)out, (gssize)n_written);
		offset += n_read;
		if (result == G_CONVERTER_FINISHED)
			break;
	}
	/* whole lines, parsed */
	line = r->pending->str;
	while ((nl = memchr(line, '\n', r->pending->str + r->pending->len - line)) != NULL) {
		g_autoptr(JsonNode) node = aiq_json_parse(line, nl - line, 256, &error);
		const gchar *type;
		g_assert_no_error(error);
		type = aiq_json_object_get_string(json_node_get_object(node), "type");
		r->lines++;
		r->executions += g_strcmp0(type, "execution") == 0;
		r->ended = r->ended || g_strcmp0(type, "end") == 0;
		line = nl + 1;
	}
	g_string_erase(r->pending, 0, line - r->pending->str);
	return TRUE;
}

static SoupMessage *
export_message(AiqTestServer *ts, const gchar *tenant_id, const gchar *token)
{
	g_autofree gchar *url = g_strdup_printf("%s/api/v1/tenants/%s/export", ts->url, tenant_id);
	g_autofree gchar *auth = g_strdup_printf("Bearer %s", token);
	SoupMessage *msg = soup_message_new("GET", url);
	soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
	return msg;
}

/* the export's audit record, once written: whether it says complete */
static gboolean
wait_export_record(AiqTestServer *ts, const gchar *tenant_id, guint n, gboolean *complete)
{
	for (guint attempt = 0; attempt < 6000; attempt++) {
		g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
		g_autoptr(GPtrArray) rows =
			aiq_test_db_rows(db,
					 "SELECT details FROM audit_log WHERE tenant_id = ?1 "
					 "AND action = 'tenant.export' ORDER BY time, id",
					 AIQ_TEST_DB_TEXT(tenant_id));
		if (rows->len >= n) {
			*complete = strstr(aiq_test_db_cell(rows, n - 1, 0), "\"complete\":true") !=
				    NULL;
			return TRUE;
		}
		g_usleep(10000);
	}
	return FALSE;
}

static void
test_export_streams(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *admin = NULL;
	g_autofree gchar *bulk_id = aiq_test_server_add_tenant(ts, "bulk", "standard", &admin);
	g_autoptr(GError) error = NULL;
	gboolean complete = TRUE;
	gsize before;
	gsize most;

	insert_bulk_executions(ts, bulk_id);

	/* the whole export, read a piece at a time, while the memory of the
	 * process is watched: it must not take in the export */
	{
		g_autoptr(SoupMessage) msg = export_message(ts, bulk_id, admin);
		g_autoptr(GInputStream) body = NULL;
		g_autoptr(GConverter) decompressor =
			G_CONVERTER(g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP));
		g_autoptr(GString) pending = g_string_new(NULL);
		StreamReader r = { NULL, decompressor, pending, 0, 0, 0, FALSE };
		SoupMessageHeaders *headers;
		guint64 next_sample = 0;

		before = most = resident_bytes();
		body = soup_session_send(ts->session, msg, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
		headers = soup_message_get_response_headers(msg);
		g_assert_cmpint(soup_message_headers_get_encoding(headers),
				==,
				SOUP_ENCODING_CHUNKED);
		g_assert_null(soup_message_headers_get_one(headers, "Content-Length"));
		r.body = body;
		while (stream_reader_step(&r)) {
			if (r.compressed >= next_sample) {
				most = MAX(most, resident_bytes());
				next_sample = r.compressed + 512 * 1024;
			}
		}
		most = MAX(most, resident_bytes());
		g_test_message("export of %u executions: %" G_GUINT64_FORMAT
			       " bytes compressed; resident memory grew by %" G_GSIZE_FORMAT
			       " bytes",
			       r.executions,
			       r.compressed,
			       most > before ? most - before : 0);
		g_assert_cmpuint(r.executions, ==, BULK_EXECUTIONS);
		g_assert_true(r.ended);
		g_assert_cmpuint(r.pending->len, ==, 0);
		/* 20,000 executions of 4 KiB of random hex: some 40 MB compressed;
		 * the server holds a few pages of it at a time */
		g_assert_cmpuint(r.compressed, >, 32 * 1024 * 1024);
		if (AIQ_TEST_ASAN)
			g_test_message("AddressSanitizer: the memory growth is not checked");
		else
			g_assert_cmpuint(most - before, <, r.compressed / 4);
		g_assert_true(wait_export_record(ts, bulk_id, 1, &complete));
		g_assert_true(complete);
	}

	/* a client that goes away half-way: the server stops, says so in the
	 * audit log, and has no request left in flight */
	{
		g_autoptr(SoupMessage) msg = export_message(ts, bulk_id, admin);
		g_autoptr(GInputStream) body = soup_session_send(ts->session, msg, NULL, &error);
		g_autoptr(GConverter) decompressor =
			G_CONVERTER(g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP));
		g_autoptr(GString) pending = g_string_new(NULL);
		StreamReader r = { body, decompressor, pending, 0, 0, 0, FALSE };

		g_assert_no_error(error);
		g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
		while (r.compressed < 1024 * 1024)
			g_assert_true(stream_reader_step(&r));
		g_assert_true(g_input_stream_close(body, NULL, NULL));
		g_clear_object(&body);
		g_clear_object(&msg);
		g_assert_true(wait_export_record(ts, bulk_id, 2, &complete));
		g_assert_false(complete);
		for (guint attempt = 0; attempt < 6000 && aiq_server_get_in_flight(ts->server) > 0;
		     attempt++)
			g_usleep(10000);
		g_assert_cmpuint(aiq_server_get_in_flight(ts->server), ==, 0);
	}

	/* and the erasure of so many rows, in batches */
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/tenants/%s", bulk_id);
		g_autoptr(AiqTestResponse) suspended =
			aiq_test_request_json(ts,
					      "PATCH",
					      path,
					      ts->platform_token,
					      "{\"status\":\"suspended\"}");
		g_autoptr(AiqTestResponse) erased =
			aiq_test_request(ts, "DELETE", path, ts->platform_token, NULL, NULL, 0);
		g_autoptr(AiqTestDb) db = NULL;
		aiq_test_assert_status(suspended, 200);
		aiq_test_assert_status(erased, 204);
		db = aiq_test_db_open(ts);
		g_assert_cmpint(
			aiq_test_db_count(db,
					  "SELECT count(*) FROM executions WHERE tenant_id = ?1",
					  AIQ_TEST_DB_TEXT(bulk_id)),
			==,
			0);
	}
}

/* erasure */

static AiqTestResponse *
erase(AiqTestServer *ts, const gchar *tenant_id, const gchar *token)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/tenants/%s", tenant_id);
	return aiq_test_request(ts, "DELETE", path, token, NULL, NULL, 0);
}

static void
test_erase_refused(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqTestResponse) active = erase(ts, ts->tenant_id, ts->platform_token);
	g_autoptr(AiqTestResponse) admin = erase(ts, ts->tenant_id, ts->admin_token);
	g_autoptr(AiqTestResponse) unknown =
		erase(ts, "00000000000000000000000000", ts->platform_token);
	g_autoptr(AiqTestResponse) platform = NULL;
	g_autoptr(AiqTestResponse) still = NULL;
	g_autoptr(AiqTestDb) db = NULL;
	g_autofree gchar *platform_id = NULL;

	aiq_test_assert_status(active, 409);
	g_assert_cmpstr(aiq_test_response_error_code(active), ==, "conflict");
	g_assert_nonnull(strstr(
		aiq_json_object_get_string(
			aiq_json_object_get_object(aiq_test_response_object(active), "error"),
			"message"),
		"suspend"));
	aiq_test_assert_status(admin, 403);
	aiq_test_assert_status(unknown, 404);

	db = aiq_test_db_open(ts);
	platform_id = platform_tenant_id(db);
	platform = erase(ts, platform_id, ts->platform_token);
	aiq_test_assert_status(platform, 409);
	g_assert_nonnull(strstr(
		aiq_json_object_get_string(
			aiq_json_object_get_object(aiq_test_response_object(platform), "error"),
			"message"),
		"platform"));

	/* nothing happened to either */
	still = aiq_test_request(ts, "GET", "/api/v1/me", ts->admin_token, NULL, NULL, 0);
	aiq_test_assert_status(still, 200);
	g_clear_pointer(&db, aiq_test_db_close);
	db = aiq_test_db_open(ts);
	g_assert_cmpuint(count_audit(db, platform_id, "tenant.erase", ts->tenant_id), ==, 1);
	g_assert_cmpuint(count_audit(db, platform_id, "tenant.erase", platform_id), ==, 1);
}

/* the tables with a tenant_id column, read from the database's schema */
static GPtrArray *
list_tenant_tables(AiqTestDb *db)
{
	GPtrArray *tables = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) all = aiq_test_db_tables(db);
	for (guint i = 0; i < all->len; i++) {
		const gchar *table = g_ptr_array_index(all, i);
		g_autoptr(GPtrArray) columns = aiq_test_db_columns(db, table);
		if (g_ptr_array_find_with_equal_func(columns, "tenant_id", g_str_equal, NULL))
			g_ptr_array_add(tables, g_strdup(table));
	}
	return tables;
}

static gint64
count_rows(AiqTestDb *db, const gchar *table, const gchar *tenant_id)
{
	g_autofree gchar *sql =
		g_strdup_printf("SELECT count(*) FROM \"%s\" WHERE tenant_id = ?1", table);
	return aiq_test_db_count(db, sql, AIQ_TEST_DB_TEXT(tenant_id));
}

/* every row of every table in which any column holds @id, as
 * "table.column"; the platform's audit records about the tenant apart */
static GPtrArray *
find_id_anywhere(AiqTestDb *db, const gchar *id, const gchar *platform_id)
{
	GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) tables = aiq_test_db_tables(db);
	for (guint t = 0; t < tables->len; t++) {
		const gchar *table = g_ptr_array_index(tables, t);
		g_autoptr(GPtrArray) columns = aiq_test_db_columns(db, table);
		gboolean audit = g_strcmp0(table, "audit_log") == 0;
		for (guint c = 0; c < columns->len; c++) {
			const gchar *column = g_ptr_array_index(columns, c);
			/* the column's text holds @id: replace() is exact, and
			 * the same, on both backends (instr() and strpos() are
			 * one backend's each) */
			g_autofree gchar *sql = g_strdup_printf(
				"SELECT count(*) FROM \"%s\" WHERE replace(CAST(\"%s\" AS TEXT), "
				"?1, '') <> CAST(\"%s\" AS TEXT)%s",
				table,
				column,
				column,
				audit ? " AND NOT (tenant_id = ?2 AND target_type = 'tenant' AND "
					"target_id = ?1)"
				      : "");
			gint64 n = audit ? aiq_test_db_count(db,
							     sql,
							     AIQ_TEST_DB_TEXT(id),
							     AIQ_TEST_DB_TEXT(platform_id))
					 : aiq_test_db_count(db, sql, AIQ_TEST_DB_TEXT(id));
			if (n > 0)
				g_ptr_array_add(found, g_strdup_printf("%s.%s", table, column));
		}
	}
	return found;
}

static void
test_erase(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(TenantData) td = tenant_data_build(ts, ts->tenant_id, ts->admin_token);
	g_autoptr(TenantData) other = NULL;
	g_autoptr(Export) exported = NULL;
	g_autoptr(AiqTestDb) db = NULL;
	g_autoptr(GPtrArray) tables = NULL;
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GHashTable) other_counts = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree gchar *platform_id = NULL;
	g_autofree gchar *archive_dir = g_build_filename(ts->dir, "archive", ts->tenant_id, NULL);
	g_autofree gchar *path = g_strdup_printf("/api/v1/tenants/%s", ts->tenant_id);
	const gchar *const *exported_tables = aiq_store_export_get_tables();
	const gchar *const tokens[] = { ts->admin_token,
					ts->editor_token,
					td->api_key_token,
					td->agent->token };

	/* the other tenant has data of its own, which must stay */
	other = tenant_data_build(ts, ts->other_tenant_id, ts->other_admin_token);
	write_archive(ts, ts->tenant_id, "2026-11-30.jsonl.gz", archived_lines);
	write_archive(ts, ts->other_tenant_id, "2026-11-30.jsonl.gz", archived_lines);
	/* a platform admin takes its export first, as one would */
	exported = export_get(ts, ts->tenant_id, ts->platform_token);
	g_assert_cmpuint(exported->status, ==, 200);

	db = aiq_test_db_open(ts);
	platform_id = platform_tenant_id(db);
	tables = list_tenant_tables(db);
	/* every table with a tenant_id: the export reads it, the erasure
	 * empties it (a table added without a thought for either fails here) */
	for (guint i = 0; i < tables->len; i++) {
		const gchar *table = g_ptr_array_index(tables, i);
		if (!g_strv_contains(exported_tables, table))
			g_error("the export does not cover table %s", table);
		g_hash_table_insert(
			other_counts,
			(gpointer)table,
			GINT_TO_POINTER((gint)count_rows(db, table, ts->other_tenant_id)));
	}
	g_assert_cmpint(count_rows(db, "users", ts->tenant_id), >, 0);
	g_assert_cmpint(count_rows(db, "execution_events", ts->tenant_id), >, 0);
	g_assert_cmpint(count_rows(db, "audit_log", ts->tenant_id), >, 0);
	g_clear_pointer(&db, aiq_test_db_close);

	/* suspended first, then erased */
	{
		g_autoptr(AiqTestResponse) suspended =
			aiq_test_request_json(ts,
					      "PATCH",
					      path,
					      ts->platform_token,
					      "{\"status\":\"suspended\"}");
		g_autoptr(AiqTestResponse) erased =
			aiq_test_request(ts, "DELETE", path, ts->platform_token, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) gone =
			aiq_test_request(ts, "GET", path, ts->platform_token, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) again =
			aiq_test_request(ts, "DELETE", path, ts->platform_token, NULL, NULL, 0);
		aiq_test_assert_status(suspended, 200);
		aiq_test_assert_status(erased, 204);
		aiq_test_assert_status(gone, 404);
		aiq_test_assert_status(again, 404);
	}

	db = aiq_test_db_open(ts);
	/* table by table: none of its rows */
	for (guint i = 0; i < tables->len; i++) {
		const gchar *table = g_ptr_array_index(tables, i);
		gint64 n = count_rows(db, table, ts->tenant_id);
		if (n != 0)
			g_error("table %s still has %" G_GINT64_FORMAT " rows of the tenant",
				table,
				n);
		/* and the other tenant's, all of them */
		g_assert_cmpint(count_rows(db, table, ts->other_tenant_id),
				==,
				GPOINTER_TO_INT(g_hash_table_lookup(other_counts, table)));
	}
	/* its id in no column of any table, but in the platform's records
	 * about it: its suspension, its export and its erasure */
	found = find_id_anywhere(db, ts->tenant_id, platform_id);
	for (guint i = 0; i < found->len; i++)
		g_test_message("still there: %s", (const gchar *)g_ptr_array_index(found, i));
	g_assert_cmpuint(found->len, ==, 0);
	/* the erasure and the second attempt, which found nothing */
	g_assert_cmpuint(count_audit(db, platform_id, "tenant.erase", ts->tenant_id), ==, 2);
	/* its suspension (a tenant.update, or tenant.suspend where it is told apart) */
	g_assert_cmpuint(count_audit(db, platform_id, "tenant.update", ts->tenant_id) +
				 count_audit(db, platform_id, "tenant.suspend", ts->tenant_id),
			 ==,
			 1);
	g_assert_cmpuint(count_audit(db, platform_id, "tenant.export", ts->tenant_id), ==, 1);
	{
		g_autoptr(GPtrArray) rows =
			aiq_test_db_rows(db,
					 "SELECT outcome, status, actor_type, details "
					 "FROM audit_log WHERE tenant_id = ?1 AND "
					 "action = 'tenant.erase' AND target_id = ?2 "
					 "AND status = 204",
					 AIQ_TEST_DB_TEXT(platform_id),
					 AIQ_TEST_DB_TEXT(ts->tenant_id));
		g_assert_cmpuint(rows->len, ==, 1);
		g_assert_cmpstr(aiq_test_db_cell(rows, 0, 0), ==, "success");
		g_assert_cmpstr(aiq_test_db_cell(rows, 0, 1), ==, "204");
		g_assert_cmpstr(aiq_test_db_cell(rows, 0, 2), ==, "user");
		g_assert_nonnull(strstr(aiq_test_db_cell(rows, 0, 3), "\"slug\":\"acme\""));
	}

	/* its archives are gone, the other tenant's are not */
	g_assert_false(g_file_test(archive_dir, G_FILE_TEST_EXISTS));
	{
		g_autofree gchar *kept = g_build_filename(ts->dir,
							  "archive",
							  ts->other_tenant_id,
							  "2026-11-30.jsonl.gz",
							  NULL);
		g_assert_true(g_file_test(kept, G_FILE_TEST_IS_REGULAR));
	}

	/* its tokens open nothing */
	for (guint i = 0; i < G_N_ELEMENTS(tokens); i++) {
		g_autoptr(AiqTestResponse) me =
			aiq_test_request(ts, "GET", "/api/v1/me", tokens[i], NULL, NULL, 0);
		aiq_test_assert_status(me, 401);
	}
	{
		g_autoptr(AiqTestResponse) beat = aiq_test_agent_post(td->agent,
								      "/api/v1/agent/heartbeat",
								      "{\"running\":[]}");
		aiq_test_assert_status(beat, 401);
	}

	/* the other tenant works as before */
	{
		g_autoptr(AiqTestResponse) workflows = aiq_test_request(ts,
									"GET",
									"/api/v1/workflows",
									ts->other_admin_token,
									NULL,
									NULL,
									0);
		g_autofree gchar *epath =
			g_strdup_printf("/api/v1/executions/%s",
					(const gchar *)g_ptr_array_index(other->executions, 0));
		g_autoptr(AiqTestResponse) execution =
			aiq_test_request(ts, "GET", epath, ts->other_admin_token, NULL, NULL, 0);
		aiq_test_assert_status(workflows, 200);
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(
					 aiq_test_response_object(workflows),
					 "items")),
				 ==,
				 2);
		aiq_test_assert_status(execution, 200);
		g_assert_cmpstr(string_member(execution, "status"), ==, "succeeded");
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/tenant-data/export", test_export);
	g_test_add_func("/aiq/tenant-data/export-access", test_export_access);
	g_test_add_func("/aiq/tenant-data/export-streams", test_export_streams);
	g_test_add_func("/aiq/tenant-data/erase-refused", test_erase_refused);
	g_test_add_func("/aiq/tenant-data/erase", test_erase);
	return g_test_run();
}
