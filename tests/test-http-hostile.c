/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Hostile request bodies, on every route that takes one: over the size
 * limit, nested deeply, of the wrong media type, not JSON, not UTF-8, with
 * NUL bytes, not an object, with members of the wrong type or unknown ones.
 * Each is refused with the right status and code, quickly, and the server
 * goes on answering. Which routes take a body, their schemas and a valid
 * example of each come from docs/openapi.yaml; the routes, their roles and
 * body limits from the server's route table.
 */

#include "config.h"

#include <string.h>

#include "aiq-document.h"
#include "aiq-json.h"
#include "aiq-store-identity.h"
#include "aiq-test-server.h"

#define WORKFLOW_JSON                                                                 \
	"{\"name\":\"hostile-flow\",\"triggers\":[{\"webhook\":{}},{\"manual\":{}}]," \
	"\"inputs\":{\"who\":{\"type\":\"string\",\"default\":\"world\"}},"           \
	"\"steps\":[{\"id\":\"only\",\"uses\":\"transform\",\"with\":{\"value\":1}}]}"

/* deeper than any parser should go, and far deeper than 64 */
#define HOSTILE_DEPTH 10000

/* a refusal of nesting comes before parsing, so it is quick even under
 * sanitizers */
#define HOSTILE_QUICK_US (3 * G_USEC_PER_SEC)

typedef struct {
	AiqTestServer *ts;
	JsonNode *doc;
	GPtrArray *routes; /* of AiqRoute, owned by the server */
	gchar *workflow_id;
	gchar *execution_id;
	gchar *agent_token;
	gchar *user_id;
	gchar *hook_token;
	GString *failures;
	guint checks;
	guint routes_with_bodies;
	gboolean nesting; /* only the nesting checks, else all the others */
} Fixture;

/* requests */

static AiqTestResponse *
send_request(Fixture *fx,
	     const gchar *method,
	     const gchar *path,
	     const gchar *token,
	     const gchar *content_type,
	     const gchar *body,
	     gsize len)
{
	return aiq_test_request_lenient(fx->ts, method, path, token, content_type, body, len);
}

static AiqTestResponse *
send_json(Fixture *fx,
	  const gchar *method,
	  const gchar *path,
	  const gchar *token,
	  const gchar *json)
{
	return send_request(fx, method, path, token, "application/json", json, strlen(json));
}

static gchar *
answer_string(AiqTestResponse *resp, guint status, const gchar *member)
{
	aiq_test_assert_status(resp, status);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), member));
}

/* the document */

/* a `$ref` followed, in the document */
static JsonObject *
resolve(Fixture *fx, JsonNode *node)
{
	for (guint depth = 0; node != NULL && JSON_NODE_HOLDS_OBJECT(node) && depth < 16; depth++) {
		const gchar *ref = aiq_json_object_get_string(json_node_get_object(node), "$ref");
		g_auto(GStrv) parts = NULL;
		if (ref == NULL)
			return json_node_get_object(node);
		g_assert_true(g_str_has_prefix(ref, "#/"));
		parts = g_strsplit(ref + 2, "/", -1);
		node = fx->doc;
		for (guint i = 0; parts[i] != NULL && node != NULL; i++) {
			if (!JSON_NODE_HOLDS_OBJECT(node))
				return NULL;
			node = json_object_get_member(json_node_get_object(node), parts[i]);
		}
	}
	return NULL;
}

/* the documented request body of METHOD PATH: its content by media type */
static JsonObject *
doc_body(Fixture *fx, const AiqRoute *route, gboolean *required)
{
	JsonObject *paths = aiq_json_object_get_object(json_node_get_object(fx->doc), "paths");
	JsonObject *item = aiq_json_object_get_object(paths, route->path);
	g_autofree gchar *method = g_ascii_strdown(route->method, -1);
	JsonObject *op = aiq_json_object_get_object(item, method);
	JsonObject *body;
	JsonNode *req;

	if (op == NULL)
		g_error("%s %s is not in docs/openapi.yaml (test-http-openapi says more)",
			route->method,
			route->path);
	body = json_object_has_member(op, "requestBody")
		       ? resolve(fx, json_object_get_member(op, "requestBody"))
		       : NULL;
	if (body == NULL)
		return NULL;
	req = json_object_get_member(body, "required");
	*required = req != NULL && aiq_json_is_bool(req) && json_node_get_boolean(req);
	return aiq_json_object_get_object(body, "content");
}

/* the fixture */

static void
fixture_set_up(Fixture *fx, gconstpointer user_data)
{
	AiqTestServer *ts;
	g_autofree gchar *path = NULL;
	g_autoptr(GError) error = NULL;

	fx->ts = ts = aiq_test_server_new(NULL);
	fx->doc = aiq_test_load_openapi();
	fx->routes = aiq_server_list_routes(ts->server);
	fx->failures = g_string_new(NULL);
	{
		g_autoptr(AiqTestResponse) resp =
			send_json(fx, "POST", "/api/v1/workflows", ts->editor_token, WORKFLOW_JSON);
		fx->workflow_id = answer_string(resp, 201, "id");
	}
	path = g_strdup_printf("/api/v1/workflows/%s", fx->workflow_id);
	{
		g_autofree gchar *webhook = g_strdup_printf("%s/webhook", path);
		g_autoptr(AiqTestResponse) resp =
			send_request(fx, "GET", webhook, ts->editor_token, NULL, NULL, 0);
		g_autofree gchar *hook_path = answer_string(resp, 200, "path");
		fx->hook_token = g_strdup(hook_path + strlen("/api/v1/hooks/"));
	}
	{
		g_autofree gchar *start = g_strdup_printf("%s/executions", path);
		g_autoptr(AiqTestResponse) resp =
			send_json(fx, "POST", start, ts->editor_token, "{}");
		fx->execution_id = answer_string(resp, 201, "id");
	}
	{
		g_autoptr(AiqTestResponse) made =
			send_json(fx, "POST", "/api/v1/enrollment-tokens", ts->admin_token, "{}");
		g_autofree gchar *token = answer_string(made, 201, "token");
		g_autofree gchar *body =
			g_strdup_printf("{\"token\":\"%s\",\"name\":\"hostile-agent\"}", token);
		g_autoptr(AiqTestResponse) resp =
			send_json(fx, "POST", "/api/v1/agents/enroll", NULL, body);
		fx->agent_token = answer_string(resp, 201, "credential");
	}
	{
		g_autoptr(AiqUser) user =
			aiq_store_get_user_by_name(aiq_server_get_store(ts->server),
						   ts->tenant_id,
						   "vi",
						   &error);
		g_assert_no_error(error);
		fx->user_id = g_strdup(user->id);
	}
}

static void
fixture_tear_down(Fixture *fx, gconstpointer user_data)
{
	g_ptr_array_unref(fx->routes);
	json_node_unref(fx->doc);
	g_string_free(fx->failures, TRUE);
	g_free(fx->workflow_id);
	g_free(fx->execution_id);
	g_free(fx->agent_token);
	g_free(fx->user_id);
	g_free(fx->hook_token);
	aiq_test_server_free(fx->ts);
}

static const gchar *
fill_param(Fixture *fx, const gchar *collection, const gchar *name)
{
	struct {
		const gchar *collection;
		const gchar *name;
		const gchar *value;
	} params[] = {
		{ "workflows", "id", fx->workflow_id }, { "executions", "id", fx->execution_id },
		{ "users", "id", fx->user_id },         { "tenants", "id", fx->ts->tenant_id },
		{ "versions", "version", "1" },         { "hooks", "token", fx->hook_token },
	};
	for (guint i = 0; i < G_N_ELEMENTS(params); i++) {
		if (g_strcmp0(params[i].collection, collection) == 0 &&
		    g_strcmp0(params[i].name, name) == 0)
			return params[i].value;
	}
	return NULL;
}

static gchar *
fill_path(Fixture *fx, const AiqRoute *route)
{
	g_auto(GStrv) segments = g_strsplit(route->path, "/", -1);
	for (guint i = 1; segments[i] != NULL; i++) {
		g_autofree gchar *name = NULL;
		const gchar *value;
		if (segments[i][0] != '{')
			continue;
		name = g_strndup(segments[i] + 1, strlen(segments[i]) - 2);
		value = fill_param(fx, segments[i - 1], name);
		if (value == NULL)
			g_error("%s %s takes a body and has {%s} after /%s/: add a value to "
				"fill_param() in %s",
				route->method,
				route->path,
				name,
				segments[i - 1],
				__FILE__);
		g_free(segments[i]);
		segments[i] = g_strdup(value);
	}
	return g_strjoinv("/", segments);
}

/* a credential with the route's role */
static const gchar *
token_for(Fixture *fx, const AiqRoute *route)
{
	switch (route->role) {
	case AIQ_ROLE_NONE:
		return NULL;
	case AIQ_ROLE_VIEWER:
		return fx->ts->viewer_token;
	case AIQ_ROLE_EDITOR:
		return fx->ts->editor_token;
	case AIQ_ROLE_TENANT_ADMIN:
		return fx->ts->admin_token;
	case AIQ_ROLE_PLATFORM_ADMIN:
		return fx->ts->platform_token;
	case AIQ_ROLE_AGENT:
		return fx->agent_token;
	default:
		g_assert_not_reached();
	}
}

/* checks */

typedef struct {
	Fixture *fx;
	const AiqRoute *route;
	gchar *path;
	const gchar *token;
} Target;

static void
fail(Target *t, const gchar *what, const gchar *expected, AiqTestResponse *resp)
{
	g_string_append_printf(t->fx->failures,
			       "\n  %s %s, %s: expected %s, got %u: %.300s",
			       t->route->method,
			       t->route->path,
			       what,
			       expected,
			       resp->status,
			       resp->body);
}

static const gchar *
error_message(AiqTestResponse *resp)
{
	JsonObject *error;
	if (resp->json == NULL || !JSON_NODE_HOLDS_OBJECT(resp->json))
		return NULL;
	error = aiq_json_object_get_object(json_node_get_object(resp->json), "error");
	return aiq_json_object_get_string(error, "message");
}

/* whether the error names @member, in its message or in a problem's path */
static gboolean
error_names(AiqTestResponse *resp, const gchar *member)
{
	const gchar *message = error_message(resp);
	JsonObject *error;
	JsonArray *details;

	if (message != NULL && strstr(message, member) != NULL)
		return TRUE;
	error = aiq_json_object_get_object(json_node_get_object(resp->json), "error");
	details = aiq_json_object_get_array(error, "details");
	for (guint i = 0; details != NULL && i < json_array_get_length(details); i++) {
		JsonNode *node = json_array_get_element(details, i);
		const gchar *path =
			JSON_NODE_HOLDS_OBJECT(node)
				? aiq_json_object_get_string(json_node_get_object(node), "path")
				: NULL;
		if (path != NULL && g_str_has_prefix(path, member))
			return TRUE;
	}
	return FALSE;
}

/**
 * expect:
 * @codes: the codes that may come with @status, %NULL-terminated
 * @member: (nullable): a member the error must name
 *
 * Sends @body as @content_type and checks the refusal.
 */
static void
expect(Target *t,
       const gchar *what,
       const gchar *content_type,
       const gchar *body,
       gsize len,
       guint status,
       const gchar *const *codes,
       const gchar *member)
{
	gint64 start = g_get_monotonic_time();
	g_autoptr(AiqTestResponse) resp =
		send_request(t->fx, t->route->method, t->path, t->token, content_type, body, len);
	gint64 took = g_get_monotonic_time() - start;
	const gchar *code = aiq_test_response_error_code(resp);
	g_autofree gchar *list = g_strjoinv(" or ", (gchar **)codes);
	g_autofree gchar *expected =
		member != NULL ? g_strdup_printf("%u %s naming “%s”", status, list, member)
			       : g_strdup_printf("%u %s", status, list);

	t->fx->checks++;
	if (resp->status != status || code == NULL || !g_strv_contains(codes, code)) {
		fail(t, what, expected, resp);
		return;
	}
	if (member != NULL && !error_names(resp, member)) {
		fail(t, what, expected, resp);
		return;
	}
	if (took > HOSTILE_QUICK_US && len < 1024 * 1024) {
		g_autofree gchar *quick = g_strdup_printf("an answer within %d s, not %.1f s",
							  (gint)(HOSTILE_QUICK_US / G_USEC_PER_SEC),
							  took / (gdouble)G_USEC_PER_SEC);
		fail(t, what, quick, resp);
	}
}

static gchar *
node_to_string(JsonNode *node)
{
	return aiq_json_to_string(node, FALSE);
}

/* a mutable copy of @node that shares nothing with it (json_node_copy()
 * shares objects and arrays, and the document's tree is immutable) */
static JsonNode *
deep_copy(JsonNode *node)
{
	g_autofree gchar *text = node_to_string(node);
	g_autoptr(GError) error = NULL;
	JsonNode *copy = json_from_string(text, &error);
	g_assert_no_error(error);
	return copy;
}

/* a value of another type than @type */
static JsonNode *
wrong_value(const gchar *type)
{
	if (g_strcmp0(type, "string") == 0)
		return aiq_json_new_int(12345);
	if (g_strcmp0(type, "integer") == 0 || g_strcmp0(type, "number") == 0)
		return aiq_json_new_string("not a number");
	if (g_strcmp0(type, "boolean") == 0)
		return aiq_json_new_string("yes");
	if (g_strcmp0(type, "array") == 0)
		return aiq_json_new_string("not a list");
	if (g_strcmp0(type, "object") == 0)
		return aiq_json_new_string("not an object");
	return NULL;
}

/* the example with the member at @path (a.b) replaced by @value */
static gchar *
example_with(JsonNode *example, const gchar *const *path, JsonNode *value)
{
	g_autoptr(JsonNode) copy = deep_copy(example);
	JsonObject *obj = json_node_get_object(copy);
	for (guint i = 0; path[i + 1] != NULL; i++)
		obj = aiq_json_object_get_object(obj, path[i]);
	g_assert_nonnull(obj);
	json_object_set_member(obj, path[g_strv_length((gchar **)path) - 1], json_node_ref(value));
	return node_to_string(copy);
}

/* each member of the example, and each of its object members, of a wrong
 * type: 422 naming it (`admin.username` for a nested one) */
static void
expect_member_types(Target *t,
		    JsonNode *example,
		    JsonObject *schema,
		    GPtrArray *prefix,
		    JsonObject *example_obj)
{
	JsonObject *properties = aiq_json_object_get_object(schema, "properties");
	const gchar *const invalid[] = { "invalid_input", "invalid_definition", NULL };
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *value;

	if (properties == NULL)
		return;
	json_object_iter_init_ordered(&iter, example_obj);
	while (json_object_iter_next_ordered(&iter, &key, &value)) {
		JsonObject *prop = resolve(t->fx, json_object_get_member(properties, key));
		JsonArray *all_of = prop != NULL ? aiq_json_object_get_array(prop, "allOf") : NULL;
		const gchar *type = NULL;
		g_autoptr(JsonNode) wrong = NULL;
		g_autofree gchar *body = NULL;
		g_autofree gchar *dotted = NULL;
		g_autofree gchar *what = NULL;

		/* `allOf: [one]` is how a $ref gets a description of its own */
		if (all_of != NULL && json_array_get_length(all_of) == 1)
			prop = resolve(t->fx, json_array_get_element(all_of, 0));
		type = prop != NULL ? aiq_json_object_get_string(prop, "type") : NULL;
		wrong = wrong_value(type);
		if (wrong == NULL)
			continue;
		g_ptr_array_add(prefix, (gpointer)key);
		g_ptr_array_add(prefix, NULL);
		body = example_with(example, (const gchar *const *)prefix->pdata, wrong);
		dotted = g_strjoinv(".", (gchar **)prefix->pdata);
		what = g_strdup_printf("%s of the wrong type", dotted);
		expect(t, what, "application/json", body, strlen(body), 422, invalid, dotted);
		g_ptr_array_remove_index(prefix, prefix->len - 1);
		/* one level down into objects of the example */
		if (g_strcmp0(type, "object") == 0 && JSON_NODE_HOLDS_OBJECT(value))
			expect_member_types(t, example, prop, prefix, json_node_get_object(value));
		g_ptr_array_remove_index(prefix, prefix->len - 1);
	}
}

/* nested far too deep, as JSON and (where taken) YAML: a refusal of the
 * document, not of its size (these are far under every limit), before any
 * parser recurses */
static void
hostile_nesting(Target *t, JsonObject *content, gsize max_body)
{
	const gchar *const document[] = { "invalid_document", NULL };
	gsize depth = MIN(HOSTILE_DEPTH, (max_body - 1) / strlen("{\"a\":"));
	g_autofree gchar *deep = g_strnfill(HOSTILE_DEPTH, '[');
	g_autoptr(GString) objects = g_string_new(NULL);
	g_autofree gchar *what = g_strdup_printf("%" G_GSIZE_FORMAT " nested objects", depth);

	for (gsize i = 0; i < depth; i++)
		g_string_append(objects, "{\"a\":");
	expect(t, "10,000 [", "application/json", deep, HOSTILE_DEPTH, 400, document, NULL);
	expect(t, what, "application/json", objects->str, objects->len, 400, document, NULL);
	if (json_object_has_member(content, "application/yaml"))
		expect(t,
		       "10,000 [ as YAML",
		       "application/yaml",
		       deep,
		       HOSTILE_DEPTH,
		       400,
		       document,
		       NULL);
}

/* every hostile body for one route */
static void
hostile_route(Fixture *fx, const AiqRoute *route, JsonObject *content, gboolean required)
{
	const gchar *const document[] = { "invalid_document", NULL };
	const gchar *const invalid[] = { "invalid_input", "invalid_definition", NULL };
	const gchar *const bad_document[] = { "invalid_document", "invalid_input", NULL };
	const gchar *const too_large[] = { "too_large", NULL };
	const gchar *const media[] = { "unsupported_media_type", NULL };
	JsonObject *json = aiq_json_object_get_object(content, "application/json");
	JsonObject *schema =
		json != NULL ? resolve(fx, json_object_get_member(json, "schema")) : NULL;
	JsonNode *example = schema != NULL ? json_object_get_member(schema, "example") : NULL;
	JsonNode *additional =
		schema != NULL ? json_object_get_member(schema, "additionalProperties") : NULL;
	gsize max_body = route->max_body > 0 ? route->max_body
					     : aiq_server_get_config(fx->ts->server)->max_body;
	g_autofree gchar *text = NULL;
	Target t = { fx, route, fill_path(fx, route), token_for(fx, route) };

	if (json == NULL || example == NULL || !JSON_NODE_HOLDS_OBJECT(example)) {
		g_string_append_printf(
			fx->failures,
			"\n  %s %s: no JSON body with an example in docs/openapi.yaml",
			route->method,
			route->path);
		g_free(t.path);
		return;
	}
	text = node_to_string(example);
	fx->routes_with_bodies++;

	if (fx->nesting) {
		hostile_nesting(&t, content, max_body);
		goto out;
	}
	/* over the limit: refused from the length, before it is read */
	{
		g_autofree gchar *big = g_malloc(max_body + 1);
		memset(big, ' ', max_body + 1);
		big[0] = '{';
		big[max_body] = '}';
		expect(&t,
		       "a body over its limit",
		       "application/json",
		       big,
		       max_body + 1,
		       413,
		       too_large,
		       NULL);
	}
	/* a good body, but not said to be JSON */
	expect(&t, "text/plain", "text/plain", text, strlen(text), 415, media, NULL);
	expect(&t, "no Content-Type", NULL, text, strlen(text), 415, media, NULL);
	expect(&t,
	       "application/xml",
	       "application/xml",
	       "<inputs/>",
	       strlen("<inputs/>"),
	       415,
	       media,
	       NULL);
	/* not JSON */
	{
		gsize half = strlen(text) / 2;
		const gchar utf8[] = "{\"name\": \"\xff\xfe\xc0\x80\"}";
		const gchar nul[] = "{\"name\": \"a\0b\"}";
		const gchar nul_after[] = "{}\0{}";
		expect(&t, "truncated JSON", "application/json", text, half, 400, document, NULL);
		expect(&t,
		       "JSON with trailing garbage",
		       "application/json",
		       "{} x",
		       4,
		       400,
		       document,
		       NULL);
		expect(&t,
		       "invalid UTF-8",
		       "application/json",
		       utf8,
		       sizeof(utf8) - 1,
		       400,
		       bad_document,
		       NULL);
		expect(&t,
		       "a NUL byte in a string",
		       "application/json",
		       nul,
		       sizeof(nul) - 1,
		       400,
		       bad_document,
		       NULL);
		expect(&t,
		       "a NUL byte after the JSON",
		       "application/json",
		       nul_after,
		       sizeof(nul_after) - 1,
		       400,
		       bad_document,
		       NULL);
		expect(&t,
		       "a UTF-16 body",
		       "application/json",
		       "\xff\xfe{\0}\0",
		       6,
		       400,
		       bad_document,
		       NULL);
		if (required)
			expect(&t, "an empty body", "application/json", "", 0, 400, document, NULL);
	}
	/* JSON, but not an object */
	expect(&t, "a list", "application/json", "[]", 2, 422, invalid, NULL);
	expect(&t, "a string", "application/json", "\"x\"", 3, 422, invalid, NULL);
	expect(&t, "null", "application/json", "null", 4, 422, invalid, NULL);
	/* members of the wrong type, and unknown ones where the server refuses them */
	{
		g_autoptr(GPtrArray) prefix = g_ptr_array_new();
		expect_member_types(&t, example, schema, prefix, json_node_get_object(example));
	}
	if (additional != NULL && aiq_json_is_bool(additional) &&
	    !json_node_get_boolean(additional)) {
		g_autoptr(JsonNode) copy = deep_copy(example);
		g_autofree gchar *body = NULL;
		json_object_set_int_member(json_node_get_object(copy), "zz_unknown_member", 1);
		body = node_to_string(copy);
		expect(&t,
		       "an unknown member",
		       "application/json",
		       body,
		       strlen(body),
		       422,
		       invalid,
		       "zz_unknown_member");
	}

out:
	/* and the server goes on */
	{
		g_autoptr(AiqTestResponse) health =
			send_request(fx, "GET", "/healthz", NULL, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) me =
			send_request(fx, "GET", "/api/v1/me", fx->ts->admin_token, NULL, NULL, 0);
		fx->checks++;
		if (health->status != 200 || me->status != 200)
			fail(&t,
			     "then /healthz and /api/v1/me",
			     "200 and 200",
			     health->status != 200 ? health : me);
	}
	g_free(t.path);
}

static void
test_hostile_bodies(Fixture *fx, gconstpointer user_data)
{
	fx->nesting = GPOINTER_TO_INT(user_data);
	for (guint i = 0; i < fx->routes->len; i++) {
		const AiqRoute *route = g_ptr_array_index(fx->routes, i);
		gboolean required = FALSE;
		JsonObject *content = doc_body(fx, route, &required);
		if (content == NULL)
			continue;
		hostile_route(fx, route, content, required);
	}
	g_test_message("%u checks on %u routes with bodies", fx->checks, fx->routes_with_bodies);
	g_assert_cmpuint(fx->routes_with_bodies, >, 10);
	if (fx->failures->len > 0)
		g_test_fail_printf("hostile bodies not refused as they should be:%s",
				   fx->failures->str);
}

/* an Idempotency-Key header that is too long: 400 naming it */
static void
expect_idempotency_key(Fixture *fx, const gchar *path)
{
	g_autofree gchar *url = g_strdup_printf("%s%s", fx->ts->url, path);
	g_autoptr(SoupMessage) msg = soup_message_new("POST", url);
	g_autofree gchar *authorization = g_strdup_printf("Bearer %s", fx->ts->editor_token);
	g_autofree gchar *key = g_strnfill(300, 'k');
	g_autoptr(GBytes) body = g_bytes_new_static("{}", 2);
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) error = NULL;
	SoupMessageHeaders *headers = soup_message_get_request_headers(msg);

	soup_message_headers_replace(headers, "Authorization", authorization);
	soup_message_headers_replace(headers, "Idempotency-Key", key);
	soup_message_set_request_body_from_bytes(msg, "application/json", body);
	reply = soup_session_send_and_read(fx->ts->session, msg, NULL, &error);
	g_assert_no_error(error);
	fx->checks++;
	node = aiq_json_parse(g_bytes_get_data(reply, NULL), g_bytes_get_size(reply), 8, NULL);
	if (soup_message_get_status(msg) != 400 || node == NULL ||
	    strstr(g_bytes_get_data(reply, NULL), "Idempotency-Key") == NULL)
		g_string_append_printf(
			fx->failures,
			"\n  POST %s with a 300-character Idempotency-Key: expected 400 "
			"naming it, got %u",
			path,
			soup_message_get_status(msg));
}

/* inputs of the wrong type, by hand and by webhook: 422 naming the input */
static void
test_hostile_inputs(Fixture *fx, gconstpointer user_data)
{
	g_autofree gchar *start =
		g_strdup_printf("/api/v1/workflows/%s/executions", fx->workflow_id);
	g_autofree gchar *hook = g_strdup_printf("/api/v1/hooks/%s", fx->hook_token);
	const AiqRoute start_route = { .method = "POST",
				       .path = "/api/v1/workflows/{id}/executions",
				       .role = AIQ_ROLE_EDITOR };
	const AiqRoute hook_route = { .method = "POST",
				      .path = "/api/v1/hooks/{token}",
				      .role = AIQ_ROLE_NONE };
	const gchar *const invalid[] = { "invalid_input", NULL };
	Target by_hand = { fx, &start_route, start, fx->ts->editor_token };
	Target by_hook = { fx, &hook_route, hook, NULL };
	const gchar *inputs = "{\"inputs\":{\"who\":5}}";
	const gchar *hooked = "{\"who\":5}";
	const gchar *unknown = "{\"inputs\":{\"nobody\":\"x\"}}";

	expect(&by_hand,
	       "an input of the wrong type",
	       "application/json",
	       inputs,
	       strlen(inputs),
	       422,
	       invalid,
	       "who");
	expect(&by_hook,
	       "an input of the wrong type",
	       "application/json",
	       hooked,
	       strlen(hooked),
	       422,
	       invalid,
	       "who");
	expect_idempotency_key(fx, start);
	expect(&by_hand,
	       "an unknown input",
	       "application/json",
	       unknown,
	       strlen(unknown),
	       422,
	       invalid,
	       "nobody");
	if (fx->failures->len > 0)
		g_test_fail_printf("inputs not refused as they should be:%s", fx->failures->str);
}

/* many hostile bodies one after the other: each is refused, none takes
 * the server down or leaks a worker */
static void
test_hostile_repeated(Fixture *fx, gconstpointer user_data)
{
	g_autofree gchar *deep = g_strnfill(HOSTILE_DEPTH, '[');
	g_autofree gchar *bad = g_strdup("{\"name\": \"\xff\"}");

	for (guint i = 0; i < 60; i++) {
		const gchar *type = i % 3 == 0   ? "application/json"
				    : i % 3 == 1 ? "application/yaml"
						 : "text/plain";
		const gchar *body = i % 2 == 0 ? deep : bad;
		gsize len = i % 2 == 0 ? HOSTILE_DEPTH : strlen(bad);
		g_autoptr(AiqTestResponse) resp = send_request(fx,
							       "POST",
							       "/api/v1/workflows",
							       fx->ts->editor_token,
							       type,
							       body,
							       len);
		if (resp->status < 400 || resp->status >= 500)
			g_error("hostile body %u (%s): got %u: %s",
				i,
				type,
				resp->status,
				resp->body);
	}
	g_assert_cmpuint(aiq_server_get_in_flight(fx->ts->server), ==, 0);
	{
		g_autoptr(AiqTestResponse) resp = send_request(fx,
							       "GET",
							       "/api/v1/workflows",
							       fx->ts->viewer_token,
							       NULL,
							       NULL,
							       0);
		aiq_test_assert_status(resp, 200);
		g_assert_cmpuint(
			json_array_get_length(
				aiq_json_object_get_array(aiq_test_response_object(resp), "items")),
			==,
			1);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/aiq/http-hostile/bodies",
		   Fixture,
		   GINT_TO_POINTER(FALSE),
		   fixture_set_up,
		   test_hostile_bodies,
		   fixture_tear_down);
	g_test_add("/aiq/http-hostile/inputs",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_hostile_inputs,
		   fixture_tear_down);
	g_test_add("/aiq/http-hostile/repeated",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_hostile_repeated,
		   fixture_tear_down);
	g_test_add("/aiq/http-hostile/deep-nesting",
		   Fixture,
		   GINT_TO_POINTER(TRUE),
		   fixture_set_up,
		   test_hostile_bodies,
		   fixture_tear_down);
	return g_test_run();
}
