/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every route the server registers, under every kind of credential: none,
 * malformed, forged, expired, revoked, another tenant's, each role, an
 * agent's. The routes and their least roles come from the route table, so a
 * new route is covered without touching this file; the ids in paths are real
 * ones of tenant "acme", made in the fixture. Every request carries an
 * X-Request-Id of its own, so that an audit record can be traced to the
 * request it records.
 */

#include "config.h"

#include <string.h>

#include "aiq-json.h"
#include "aiq-store-identity.h"
#include "aiq-test-server.h"

/* the password aiq_test_server_add_user() gives */
#define TEST_PASSWORD "test-password-123"

#define WORKFLOW_JSON                                                       \
	"{\"name\":\"%s\",\"description\":\"%s\","                          \
	"\"triggers\":[{\"webhook\":{}},{\"manual\":{}}],"                  \
	"\"inputs\":{\"who\":{\"type\":\"string\",\"default\":\"world\"}}," \
	"\"steps\":[{\"id\":\"only\",\"uses\":\"transform\",\"with\":{\"value\":1}}]}"

typedef struct {
	AiqTestServer *ts;
	GPtrArray *routes; /* of AiqRoute, owned by the server */

	/* things of tenant acme, whose ids fill the paths */
	gchar *workflow_id;
	gchar *execution_id;
	gchar *agent_id;
	gchar *agent_token;
	gchar *user_id;
	gchar *api_key_id;
	gchar *api_key_token; /* role editor */
	gchar *enrollment_id;
	gchar *hook_token;

	/* what no other tenant may ever see: acme's ids and names */
	GPtrArray *secrets;

	/* every request sent, by its X-Request-Id */
	GHashTable *sent; /* id -> Sent */
	guint n_sent;

	GString *failures;
	guint checks;
} Fixture;

/* requests */

/* a request as it was sent: who sent it and what it said */
typedef struct {
	gchar *authorization; /* nullable */
	gchar *text;          /* the method, the path with its query, the body */
} Sent;

static void
sent_free(Sent *sent)
{
	g_free(sent->authorization);
	g_free(sent->text);
	g_free(sent);
}

/**
 * send_request:
 * @authorization: (nullable): the whole Authorization header
 *
 * Like aiq_test_request(), with any Authorization header; a transport error
 * is status 0 with the error as the body. The request is remembered by the
 * X-Request-Id it is sent with.
 */
static AiqTestResponse *
send_request(Fixture *fx,
	     const gchar *method,
	     const gchar *path,
	     const gchar *authorization,
	     const gchar *content_type,
	     const gchar *body)
{
	g_autofree gchar *url = g_strdup_printf("%s%s", fx->ts->url, path);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) reply = NULL;
	AiqTestResponse *resp = g_new0(AiqTestResponse, 1);
	gchar *request_id = g_strdup_printf("matrix-%u", ++fx->n_sent);
	Sent *sent = g_new0(Sent, 1);
	const gchar *ct;
	gsize len = 0;
	const gchar *data;

	g_assert_nonnull(msg);
	sent->authorization = g_strdup(authorization);
	sent->text = g_strdup_printf("%s %s\n%s", method, path, body != NULL ? body : "");
	g_hash_table_insert(fx->sent, request_id, sent);
	soup_message_headers_replace(soup_message_get_request_headers(msg),
				     "X-Request-Id",
				     request_id);
	if (authorization != NULL)
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "Authorization",
					     authorization);
	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
		soup_message_set_request_body_from_bytes(msg, content_type, bytes);
	}
	reply = soup_session_send_and_read(fx->ts->session, msg, NULL, &error);
	resp->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	if (reply == NULL) {
		resp->body = g_strdup_printf("(no answer: %s)", error->message);
		return resp;
	}
	resp->status = soup_message_get_status(msg);
	data = g_bytes_get_data(reply, &len);
	resp->body = len > 0 ? g_strndup(data, len) : g_strdup("");
	ct = soup_message_headers_get_content_type(resp->headers, NULL);
	if (len > 0 && g_strcmp0(ct, "application/json") == 0)
		resp->json = aiq_json_parse(resp->body, len, 256, NULL);
	return resp;
}

static AiqTestResponse *
send_bearer(Fixture *fx, const gchar *method, const gchar *path, const gchar *token)
{
	g_autofree gchar *authorization =
		token != NULL ? g_strdup_printf("Bearer %s", token) : NULL;
	return send_request(fx, method, path, authorization, NULL, NULL);
}

static AiqTestResponse *
send_json(Fixture *fx,
	  const gchar *method,
	  const gchar *path,
	  const gchar *token,
	  const gchar *json)
{
	g_autofree gchar *authorization =
		token != NULL ? g_strdup_printf("Bearer %s", token) : NULL;
	return send_request(fx, method, path, authorization, "application/json", json);
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

/* a member of a JSON answer that must be there */
static gchar *
answer_string(AiqTestResponse *resp, guint status, const gchar *member)
{
	aiq_test_assert_status(resp, status);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), member));
}

static gchar *
login(Fixture *fx, const gchar *tenant, const gchar *username)
{
	g_autofree gchar *body = g_strdup_printf(
		"{\"tenant\":\"%s\",\"username\":\"%s\",\"password\":\"" TEST_PASSWORD "\"}",
		tenant,
		username);
	g_autoptr(AiqTestResponse) resp = send_json(fx, "POST", "/api/v1/auth/login", NULL, body);
	return answer_string(resp, 200, "token");
}

/* a fresh session of @username without a login (no password hashing) */
static gchar *
issue_session(Fixture *fx, const gchar *tenant_id, const gchar *username)
{
	AiqServer *server = fx->ts->server;
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqUser) user = aiq_store_get_user_by_name(aiq_server_get_store(server),
							     tenant_id,
							     username,
							     &error);
	gchar *token;
	g_assert_no_error(error);
	token = aiq_auth_issue(aiq_server_get_auth(server),
			       AIQ_TOKEN_KIND_SESSION,
			       tenant_id,
			       user->id,
			       NULL,
			       username,
			       (gint64)3600 * G_USEC_PER_SEC,
			       NULL,
			       NULL,
			       &error);
	g_assert_no_error(error);
	return token;
}

/* an API key by the API */
static void
create_api_key(Fixture *fx, const gchar *body, gchar **id, gchar **token)
{
	g_autoptr(AiqTestResponse) resp =
		send_json(fx, "POST", "/api/v1/api-keys", fx->ts->admin_token, body);
	*id = answer_string(resp, 201, "id");
	*token = g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "token"));
}

/* an agent of acme by the API: the credential and the id */
static gchar *
enroll_agent(Fixture *fx, const gchar *name, gchar **agent_id)
{
	g_autoptr(AiqTestResponse) made = send_json(fx,
						    "POST",
						    "/api/v1/enrollment-tokens",
						    fx->ts->admin_token,
						    "{\"name\":\"matrix-enrollment\"}");
	g_autofree gchar *token = answer_string(made, 201, "token");
	g_autofree gchar *body = g_strdup_printf(
		"{\"token\":\"%s\",\"name\":\"%s\",\"labels\":[\"matrix\"],\"capacity\":1}",
		token,
		name);
	g_autoptr(AiqTestResponse) resp =
		send_json(fx, "POST", "/api/v1/agents/enroll", NULL, body);
	*agent_id = answer_string(resp, 201, "agent_id");
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "credential"));
}

/* a token that looks right: a prefix, a tenant, 43 random characters */
static gchar *
random_token(const gchar *prefix, const gchar *tenant_id)
{
	const gchar *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	g_autoptr(GString) token = g_string_new(prefix);
	g_string_append_c(token, '_');
	for (const gchar *p = tenant_id; *p != '\0'; p++) {
		if (*p != '-')
			g_string_append_c(token, *p);
	}
	g_string_append_c(token, '_');
	for (guint i = 0; i < 43; i++)
		g_string_append_c(token, alphabet[g_random_int_range(0, 64)]);
	return g_string_free(g_steal_pointer(&token), FALSE);
}

/* the fixture */

static void
add_secret(Fixture *fx, const gchar *secret)
{
	g_assert_nonnull(secret);
	g_ptr_array_add(fx->secrets, g_strdup(secret));
}

static void
fixture_set_up(Fixture *fx, gconstpointer user_data)
{
	AiqTestServerOptions options = { .fake_clock = TRUE };
	AiqTestServer *ts;
	g_autofree gchar *definition =
		g_strdup_printf(WORKFLOW_JSON, "matrix-acme-flow", "acme-private-description");
	g_autofree gchar *changed =
		g_strdup_printf(WORKFLOW_JSON, "matrix-acme-flow", "acme-private-description-2");
	g_autofree gchar *other = g_strdup_printf(WORKFLOW_JSON, "matrix-other-flow", "other");
	g_autofree gchar *path = NULL;
	g_autofree gchar *hook_path = NULL;
	g_autoptr(GError) error = NULL;

	fx->ts = ts = aiq_test_server_new(&options);
	fx->routes = aiq_server_list_routes(ts->server);
	fx->secrets = g_ptr_array_new_with_free_func(g_free);
	fx->sent =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)sent_free);
	fx->failures = g_string_new(NULL);

	/* a workflow with two versions and a webhook, and an execution */
	{
		g_autoptr(AiqTestResponse) resp =
			send_json(fx, "POST", "/api/v1/workflows", ts->editor_token, definition);
		fx->workflow_id = answer_string(resp, 201, "id");
	}
	path = g_strdup_printf("/api/v1/workflows/%s", fx->workflow_id);
	{
		g_autoptr(AiqTestResponse) resp =
			send_json(fx, "PUT", path, ts->editor_token, changed);
		aiq_test_assert_status(resp, 200);
	}
	{
		g_autofree gchar *webhook = g_strdup_printf("%s/webhook", path);
		g_autoptr(AiqTestResponse) resp = send_bearer(fx, "GET", webhook, ts->editor_token);
		hook_path = answer_string(resp, 200, "path");
		g_assert_true(g_str_has_prefix(hook_path, "/api/v1/hooks/"));
		fx->hook_token = g_strdup(hook_path + strlen("/api/v1/hooks/"));
	}
	{
		g_autofree gchar *start = g_strdup_printf("%s/executions", path);
		g_autoptr(AiqTestResponse) resp =
			send_json(fx, "POST", start, ts->editor_token, "{}");
		fx->execution_id = answer_string(resp, 201, "id");
	}
	/* an agent, an unused enrollment token, an API key */
	fx->agent_token = enroll_agent(fx, "matrix-acme-agent", &fx->agent_id);
	{
		g_autoptr(AiqTestResponse) resp =
			send_json(fx,
				  "POST",
				  "/api/v1/enrollment-tokens",
				  ts->admin_token,
				  "{\"name\":\"matrix-unused-enrollment\"}");
		fx->enrollment_id = answer_string(resp, 201, "id");
	}
	create_api_key(fx,
		       "{\"name\":\"matrix-acme-key\",\"role\":\"editor\"}",
		       &fx->api_key_id,
		       &fx->api_key_token);
	/* a user: the viewer */
	{
		g_autoptr(AiqUser) user =
			aiq_store_get_user_by_name(aiq_server_get_store(ts->server),
						   ts->tenant_id,
						   "vi",
						   &error);
		g_assert_no_error(error);
		fx->user_id = g_strdup(user->id);
	}
	/* the other tenant has something of its own to list */
	{
		g_autoptr(AiqTestResponse) resp =
			send_json(fx, "POST", "/api/v1/workflows", ts->other_admin_token, other);
		aiq_test_assert_status(resp, 201);
	}

	add_secret(fx, ts->tenant_id);
	add_secret(fx, fx->workflow_id);
	add_secret(fx, "matrix-acme-flow");
	add_secret(fx, "acme-private-description");
	add_secret(fx, fx->execution_id);
	add_secret(fx, fx->agent_id);
	add_secret(fx, "matrix-acme-agent");
	add_secret(fx, fx->user_id);
	add_secret(fx, fx->api_key_id);
	add_secret(fx, "matrix-acme-key");
	add_secret(fx, fx->enrollment_id);
	add_secret(fx, "matrix-unused-enrollment");
	add_secret(fx, fx->hook_token);
	add_secret(fx, fx->agent_token);
	add_secret(fx, fx->api_key_token);
	add_secret(fx, ts->admin_token);
}

static void
fixture_tear_down(Fixture *fx, gconstpointer user_data)
{
	g_ptr_array_unref(fx->routes);
	g_ptr_array_unref(fx->secrets);
	g_hash_table_unref(fx->sent);
	g_string_free(fx->failures, TRUE);
	g_free(fx->workflow_id);
	g_free(fx->execution_id);
	g_free(fx->agent_id);
	g_free(fx->agent_token);
	g_free(fx->user_id);
	g_free(fx->api_key_id);
	g_free(fx->api_key_token);
	g_free(fx->enrollment_id);
	g_free(fx->hook_token);
	aiq_test_server_free(fx->ts);
}

/* routes */

/* the value of a path parameter, by the collection it names */
static const gchar *
fill_param(Fixture *fx, const gchar *collection, const gchar *name)
{
	struct {
		const gchar *collection;
		const gchar *name;
		const gchar *value;
	} params[] = {
		{ "workflows", "id", fx->workflow_id },
		{ "executions", "id", fx->execution_id },
		{ "agents", "id", fx->agent_id },
		{ "users", "id", fx->user_id },
		{ "api-keys", "id", fx->api_key_id },
		{ "enrollment-tokens", "id", fx->enrollment_id },
		{ "tenants", "id", fx->ts->tenant_id },
		{ "versions", "version", "1" },
		{ "hooks", "token", fx->hook_token },
	};
	for (guint i = 0; i < G_N_ELEMENTS(params); i++) {
		if (g_strcmp0(params[i].collection, collection) == 0 &&
		    g_strcmp0(params[i].name, name) == 0)
			return params[i].value;
	}
	return NULL;
}

/* the route's path with real ids of acme */
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
			g_error("%s %s: the matrix has no value for {%s} after /%s/; add one to "
				"fill_param() in %s",
				route->method,
				route->path,
				name,
				segments[i - 1],
				__FILE__);
		g_free(segments[i]);
		segments[i] = g_uri_escape_string(value, NULL, FALSE);
	}
	return g_strjoinv("/", segments);
}

static gboolean
route_has_params(const AiqRoute *route)
{
	return strchr(route->path, '{') != NULL;
}

static gboolean
route_is_get(const AiqRoute *route)
{
	return g_strcmp0(route->method, "GET") == 0;
}

/* routes whose data belongs to the caller's tenant */
static gboolean
route_is_tenant_scoped(const AiqRoute *route)
{
	return route->role == AIQ_ROLE_VIEWER || route->role == AIQ_ROLE_EDITOR ||
	       route->role == AIQ_ROLE_TENANT_ADMIN;
}

/* checks and their report */

static void
fail(Fixture *fx,
     const AiqRoute *route,
     const gchar *path,
     const gchar *who,
     const gchar *expected,
     AiqTestResponse *resp)
{
	g_string_append_printf(fx->failures,
			       "\n  %s %s (%s) with %s: expected %s, got %u: %.300s",
			       route->method,
			       route->path,
			       path,
			       who,
			       expected,
			       resp->status,
			       resp->body);
}

/* the first secret of acme in @text that is not in @sent (what the caller
 * itself sent: the path, or the request an audit record is of) */
static const gchar *
find_secret(Fixture *fx, const gchar *text, const gchar *sent)
{
	for (guint i = 0; i < fx->secrets->len; i++) {
		const gchar *secret = g_ptr_array_index(fx->secrets, i);
		if (sent != NULL && strstr(sent, secret) != NULL)
			continue;
		if (strstr(text, secret) != NULL)
			return secret;
	}
	return NULL;
}

/* the first secret of acme in @resp that is not in @path */
static const gchar *
find_leak(Fixture *fx, AiqTestResponse *resp, const gchar *path)
{
	return find_secret(fx, resp->body, path);
}

/* an error answer with @status and @code (and @fragment in its message) */
static gboolean
expect_error(Fixture *fx,
	     const AiqRoute *route,
	     const gchar *path,
	     const gchar *who,
	     AiqTestResponse *resp,
	     guint status,
	     const gchar *code,
	     const gchar *fragment)
{
	const gchar *message = error_message(resp);
	g_autofree gchar *expected = g_strdup_printf("%u %s%s%s%s",
						     status,
						     code,
						     fragment != NULL ? " (“" : "",
						     fragment != NULL ? fragment : "",
						     fragment != NULL ? "”)" : "");
	fx->checks++;
	if (resp->status != status || g_strcmp0(aiq_test_response_error_code(resp), code) != 0 ||
	    (fragment != NULL && (message == NULL || strstr(message, fragment) == NULL))) {
		fail(fx, route, path, who, expected, resp);
		return FALSE;
	}
	/* errors are errors, never data */
	if (json_object_get_size(json_node_get_object(resp->json)) != 1) {
		fail(fx, route, path, who, "an answer with only the error member", resp);
		return FALSE;
	}
	if (status == 401 &&
	    g_strcmp0(soup_message_headers_get_one(resp->headers, "WWW-Authenticate"), "Bearer") !=
		    0) {
		fail(fx, route, path, who, "401 with WWW-Authenticate: Bearer", resp);
		return FALSE;
	}
	return TRUE;
}

/* the router let it through: not refused for the credential */
static void
expect_allowed(Fixture *fx,
	       const AiqRoute *route,
	       const gchar *path,
	       const gchar *who,
	       AiqTestResponse *resp)
{
	fx->checks++;
	if (resp->status == 0 || resp->status == 401 || resp->status == 403 ||
	    resp->status >= 500) {
		fail(fx, route, path, who, "to be let through (not 401, 403 or 5xx)", resp);
		return;
	}
	/* a read answers 200, or 426 for a WebSocket without the upgrade */
	if (route_is_get(route) && resp->status != 200 &&
	    !(resp->status == 426 &&
	      g_strcmp0(aiq_test_response_error_code(resp), "upgrade_required") == 0))
		fail(fx, route, path, who, "200", resp);
}

static void
fixture_report(Fixture *fx, const gchar *what)
{
	g_test_message("%u checks of %u routes", fx->checks, fx->routes->len);
	if (fx->failures->len > 0)
		g_test_fail_printf("%s:%s", what, fx->failures->str);
}

/* every non-public route refuses @authorization with @status and @code */
static void
expect_all_refused(Fixture *fx,
		   const gchar *who,
		   const gchar *authorization,
		   guint status,
		   const gchar *code,
		   const gchar *fragment)
{
	for (guint i = 0; i < fx->routes->len; i++) {
		const AiqRoute *route = g_ptr_array_index(fx->routes, i);
		g_autofree gchar *path = NULL;
		g_autoptr(AiqTestResponse) resp = NULL;
		if (route->role == AIQ_ROLE_NONE)
			continue;
		path = fill_path(fx, route);
		resp = send_request(fx, route->method, path, authorization, NULL, NULL);
		expect_error(fx, route, path, who, resp, status, code, fragment);
	}
}

static void
expect_all_unauthenticated(Fixture *fx,
			   const gchar *who,
			   const gchar *authorization,
			   const gchar *fragment)
{
	expect_all_refused(fx, who, authorization, 401, "unauthenticated", fragment);
}

/* no credential, and credentials that are not credentials */
static void
test_matrix_unauthenticated(Fixture *fx, gconstpointer user_data)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *forged = g_strdup(ts->admin_token);
	g_autofree gchar *session = random_token("aiqs", ts->tenant_id);
	g_autofree gchar *key = random_token("aiqk", ts->tenant_id);
	g_autofree gchar *agent = random_token("aiqa", ts->tenant_id);
	g_autofree gchar *enrollment = random_token("aiqe", ts->tenant_id);
	g_autofree gchar *nowhere = random_token("aiqs", "0196f3c2-5b1e-7c3a-9d2e-4f5a6b7c8d9e");
	struct {
		const gchar *who;
		const gchar *authorization;
	} cases[] = {
		{ "no token", NULL },
		{ "an empty bearer", "Bearer " },
		{ "Basic credentials", "Basic dmk6dGVzdC1wYXNzd29yZC0xMjM=" },
		{ "aiqs_garbage", "Bearer aiqs_garbage" },
		{ "a token of another form", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." },
		{ "a random session token", NULL },
		{ "a random API key", NULL },
		{ "a random agent credential", NULL },
		{ "an enrollment token as bearer", NULL },
		{ "a token of no tenant", NULL },
		{ "acme's admin token with other's tenant in it", NULL },
	};
	g_autofree gchar *b_session = g_strdup_printf("Bearer %s", session);
	g_autofree gchar *b_key = g_strdup_printf("Bearer %s", key);
	g_autofree gchar *b_agent = g_strdup_printf("Bearer %s", agent);
	g_autofree gchar *b_enrollment = g_strdup_printf("Bearer %s", enrollment);
	g_autofree gchar *b_nowhere = g_strdup_printf("Bearer %s", nowhere);
	g_autofree gchar *b_forged = NULL;

	/* the tenant part of a real token swapped for another tenant's */
	memcpy(forged + 5, ts->other_admin_token + 5, 32);
	b_forged = g_strdup_printf("Bearer %s", forged);
	cases[5].authorization = b_session;
	cases[6].authorization = b_key;
	cases[7].authorization = b_agent;
	cases[8].authorization = b_enrollment;
	cases[9].authorization = b_nowhere;
	cases[10].authorization = b_forged;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		expect_all_unauthenticated(fx, cases[i].who, cases[i].authorization, NULL);
	fixture_report(fx, "routes that let in a request without a valid credential");
}

/* a session past its expiry, and an API key past its own */
static void
test_matrix_expired(Fixture *fx, gconstpointer user_data)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *session = login(fx, "acme", "acme-admin");
	g_autofree gchar *key_id = NULL;
	g_autofree gchar *key = NULL;
	g_autofree gchar *b_session = g_strdup_printf("Bearer %s", session);
	g_autofree gchar *b_key = NULL;
	gint64 ttl_us = aiq_server_get_config(ts->server)->session_ttl_us;
	gint64 then = ts->now;

	create_api_key(
		fx,
		"{\"name\":\"matrix-short-key\",\"role\":\"tenant_admin\",\"expires_in\":\"1h\"}",
		&key_id,
		&key);
	b_key = g_strdup_printf("Bearer %s", key);
	/* both work now */
	{
		g_autoptr(AiqTestResponse) a = send_bearer(fx, "GET", "/api/v1/me", session);
		g_autoptr(AiqTestResponse) b = send_bearer(fx, "GET", "/api/v1/me", key);
		aiq_test_assert_status(a, 200);
		aiq_test_assert_status(b, 200);
	}
	ts->now += MAX(ttl_us, (gint64)3600 * G_USEC_PER_SEC) + 60 * G_USEC_PER_SEC;
	expect_all_unauthenticated(fx, "an expired session", b_session, "expired");
	expect_all_unauthenticated(fx, "an expired API key", b_key, "expired");
	ts->now = then;
	fixture_report(fx, "routes that let in an expired credential");
}

/* a session logged out, an API key revoked, an agent disabled, a user
 * disabled */
static void
test_matrix_revoked(Fixture *fx, gconstpointer user_data)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *session = login(fx, "acme", "acme-admin");
	g_autofree gchar *key_id = NULL;
	g_autofree gchar *key = NULL;
	g_autofree gchar *agent_id = NULL;
	g_autofree gchar *agent = enroll_agent(fx, "matrix-doomed-agent", &agent_id);
	g_autofree gchar *disabled = NULL;
	g_autofree gchar *b_session = g_strdup_printf("Bearer %s", session);
	g_autofree gchar *b_key = NULL;
	g_autofree gchar *b_agent = g_strdup_printf("Bearer %s", agent);
	g_autofree gchar *b_disabled = NULL;

	create_api_key(fx,
		       "{\"name\":\"matrix-doomed-key\",\"role\":\"tenant_admin\"}",
		       &key_id,
		       &key);
	b_key = g_strdup_printf("Bearer %s", key);
	g_free(aiq_test_server_add_user(ts, ts->tenant_id, "doomed", "tenant_admin", NULL));
	disabled = issue_session(fx, ts->tenant_id, "doomed");
	b_disabled = g_strdup_printf("Bearer %s", disabled);

	/* each works, then is revoked by the API */
	{
		g_autoptr(AiqTestResponse) me = send_bearer(fx, "GET", "/api/v1/me", session);
		g_autoptr(AiqTestResponse) out =
			send_bearer(fx, "POST", "/api/v1/auth/logout", session);
		aiq_test_assert_status(me, 200);
		aiq_test_assert_status(out, 204);
	}
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/api-keys/%s", key_id);
		g_autoptr(AiqTestResponse) me = send_bearer(fx, "GET", "/api/v1/me", key);
		g_autoptr(AiqTestResponse) del = send_bearer(fx, "DELETE", path, ts->admin_token);
		aiq_test_assert_status(me, 200);
		aiq_test_assert_status(del, 204);
	}
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/agents/%s/disable", agent_id);
		g_autoptr(AiqTestResponse) hb =
			send_json(fx, "POST", "/api/v1/agent/heartbeat", agent, "{\"running\":[]}");
		g_autoptr(AiqTestResponse) off = send_bearer(fx, "POST", path, ts->admin_token);
		aiq_test_assert_status(hb, 200);
		aiq_test_assert_status(off, 200);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqUser) user =
			aiq_store_get_user_by_name(aiq_server_get_store(ts->server),
						   ts->tenant_id,
						   "doomed",
						   &error);
		g_autofree gchar *path = NULL;
		g_autoptr(AiqTestResponse) me = send_bearer(fx, "GET", "/api/v1/me", disabled);
		g_autoptr(AiqTestResponse) off = NULL;
		g_assert_no_error(error);
		path = g_strdup_printf("/api/v1/users/%s", user->id);
		aiq_test_assert_status(me, 200);
		off = send_json(fx, "PATCH", path, ts->admin_token, "{\"disabled\":true}");
		aiq_test_assert_status(off, 200);
	}

	expect_all_unauthenticated(fx, "a logged-out session", b_session, "revoked");
	expect_all_unauthenticated(fx, "a revoked API key", b_key, "revoked");
	expect_all_unauthenticated(fx, "a disabled agent's credential", b_agent, "revoked");
	expect_all_unauthenticated(fx, "a disabled user's session", b_disabled, NULL);

	/* a suspended tenant's tokens: 403, saying so */
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/tenants/%s", ts->other_tenant_id);
		g_autofree gchar *b_other = g_strdup_printf("Bearer %s", ts->other_admin_token);
		g_autoptr(AiqTestResponse) resp = send_json(fx,
							    "PATCH",
							    path,
							    ts->platform_token,
							    "{\"status\":\"suspended\"}");
		aiq_test_assert_status(resp, 200);
		expect_all_refused(fx,
				   "a suspended tenant's admin",
				   b_other,
				   403,
				   "forbidden",
				   "suspended");
	}
	fixture_report(fx, "routes that let in a revoked credential");
}

/* routes whose {id} is a tenant: a platform admin names any tenant there */
static gboolean
route_names_a_tenant(const AiqRoute *route)
{
	return g_str_has_prefix(route->path, "/api/v1/tenants/{id}");
}

/*
 * Another tenant's admin (and the platform admin, who is in a tenant of its
 * own): an id of acme in the path is 404, never 403 and never data; a list
 * holds only the caller's own things. @with_ids: the routes with ids in
 * their paths, else those without (the lists, read before any request with
 * acme's ids: the audit log of the caller's tenant records those, ids and
 * all; expect_audit_isolated() checks it afterwards).
 *
 * A platform admin may name any tenant in /api/v1/tenants/{id}/…: the
 * export of acme is let through (by design), and another tenant's admin
 * gets 404.
 */
static void
expect_tenant_isolation(Fixture *fx,
			const gchar *who,
			const gchar *token,
			AiqRole role,
			gboolean platform_admin,
			gboolean with_ids)
{
	g_autofree gchar *authorization = g_strdup_printf("Bearer %s", token);
	for (guint i = 0; i < fx->routes->len; i++) {
		const AiqRoute *route = g_ptr_array_index(fx->routes, i);
		g_autofree gchar *path = NULL;
		g_autoptr(AiqTestResponse) resp = NULL;
		const gchar *leak;

		if (route->role == AIQ_ROLE_NONE || !aiq_role_satisfies(role, route->role))
			continue;
		if (!route_is_tenant_scoped(route))
			continue;
		if (route_has_params(route) != with_ids)
			continue;
		path = fill_path(fx, route);
		if (route_has_params(route) && platform_admin && route_names_a_tenant(route)) {
			/* by design; the role test skips these for the platform admin */
			resp = send_request(fx, route->method, path, authorization, NULL, NULL);
			expect_allowed(fx, route, path, who, resp);
			continue;
		}
		if (route_has_params(route)) {
			/* a body the handler takes, so that it gets to the id */
			resp = route_is_get(route) || g_strcmp0(route->method, "DELETE") == 0
				       ? send_request(fx,
						      route->method,
						      path,
						      authorization,
						      NULL,
						      NULL)
				       : send_request(fx,
						      route->method,
						      path,
						      authorization,
						      "application/json",
						      "{}");
			if (!expect_error(fx, route, path, who, resp, 404, "not_found", NULL))
				continue;
			leak = find_leak(fx, resp, path);
		} else if (route_is_get(route)) {
			resp = send_request(fx, route->method, path, authorization, NULL, NULL);
			expect_allowed(fx, route, path, who, resp);
			leak = find_leak(fx, resp, NULL);
		} else {
			/* creating things in one's own tenant is no test of isolation */
			continue;
		}
		fx->checks++;
		if (leak != NULL) {
			g_autofree gchar *expected =
				g_strdup_printf("nothing of acme, but the answer holds “%s”", leak);
			fail(fx, route, path, who, expected, resp);
		}
	}
}

/*
 * The audit log @token reads by default (its tenant's; the platform's for
 * the platform admin), every page: no record holds anything of acme, but
 * for the records of requests one of @senders made itself (by their
 * X-Request-Id), which may hold the ids of acme that request sent and
 * nothing else of acme.
 */
static void
expect_audit_isolated(Fixture *fx,
		      const gchar *who,
		      const gchar *token,
		      const gchar *expected_tenant_id,
		      const gchar *const *senders)
{
	const AiqRoute route = { .method = "GET", .path = "/api/v1/audit" };
	g_autofree gchar *cursor = NULL;
	guint n_records = 0;
	guint n_own = 0;

	for (guint page = 0; page < 100; page++) {
		g_autofree gchar *escaped =
			cursor != NULL ? g_uri_escape_string(cursor, NULL, FALSE) : NULL;
		g_autofree gchar *path =
			escaped != NULL
				? g_strdup_printf("/api/v1/audit?limit=500&cursor=%s", escaped)
				: g_strdup("/api/v1/audit?limit=500");
		g_autoptr(AiqTestResponse) resp = send_bearer(fx, "GET", path, token);
		JsonObject *obj = NULL;
		JsonArray *items = NULL;

		fx->checks++;
		if (resp->status == 200 && resp->json != NULL && JSON_NODE_HOLDS_OBJECT(resp->json))
			obj = json_node_get_object(resp->json);
		items = obj != NULL ? aiq_json_object_get_array(obj, "items") : NULL;
		if (items == NULL) {
			fail(fx, &route, path, who, "200 with a page of records", resp);
			return;
		}
		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonNode *node = json_array_get_element(items, i);
			JsonObject *record =
				JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
			const gchar *request_id = aiq_json_object_get_string(record, "request_id");
			Sent *sent = request_id != NULL ? g_hash_table_lookup(fx->sent, request_id)
							: NULL;
			g_autofree gchar *text = aiq_json_to_string(node, FALSE);
			const gchar *leak;

			n_records++;
			if (sent != NULL && (sent->authorization == NULL ||
					     !g_strv_contains(senders, sent->authorization)))
				sent = NULL;
			n_own += sent != NULL;
			fx->checks++;
			if (g_strcmp0(aiq_json_object_get_string(record, "tenant_id"),
				      expected_tenant_id) != 0) {
				g_autofree gchar *expected = g_strdup_printf(
					"records of its own log (tenant %s), not %s",
					expected_tenant_id,
					text);
				fail(fx, &route, path, who, expected, resp);
				return;
			}
			leak = find_secret(fx, text, sent != NULL ? sent->text : NULL);
			if (leak != NULL) {
				g_autofree gchar *expected = g_strdup_printf(
					"nothing of acme but what its own requests sent, but the "
					"record %s holds “%s”",
					text,
					leak);
				fail(fx, &route, path, who, expected, resp);
			}
		}
		g_free(cursor);
		cursor = g_strdup(aiq_json_object_get_string(obj, "next_cursor"));
		if (cursor == NULL)
			break;
	}
	g_test_message("%s: %u audit records, %u of its own probes", who, n_records, n_own);
	/* the probes with acme's ids were recorded: the check saw them */
	fx->checks++;
	if (n_own == 0) {
		g_autoptr(AiqTestResponse) resp = send_bearer(fx, "GET", "/api/v1/audit", token);
		fail(fx, &route, "/api/v1/audit", who, "records of its own probes", resp);
	}
}

/* the platform admin's own tenant */
static gchar *
platform_tenant_id(Fixture *fx)
{
	g_autoptr(AiqTestResponse) resp =
		send_bearer(fx, "GET", "/api/v1/me", fx->ts->platform_token);
	return answer_string(resp, 200, "tenant_id");
}

/* what the platform admin may ask of any tenant by a query parameter, and
 * another tenant's admin may not */
static void
expect_tenant_parameters(Fixture *fx)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *usage = g_strdup_printf("/api/v1/usage?tenant=%s", ts->tenant_id);
	g_autofree gchar *audit = g_strdup_printf("/api/v1/audit?tenant=%s", ts->tenant_id);
	const gchar *paths[] = { usage,
				 audit,
				 "/api/v1/audit?tenant=acme",
				 "/api/v1/audit?scope=platform" };
	const AiqRoute route = { .method = "GET", .path = "(another tenant by parameter)" };

	for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
		const gchar *tokens[] = { ts->other_admin_token, ts->admin_token };
		const gchar *whos[] = { "other's admin", "acme's admin" };
		for (guint t = 0; t < G_N_ELEMENTS(tokens); t++) {
			g_autoptr(AiqTestResponse) resp = NULL;
			/* acme's own usage is acme's to read */
			if (tokens[t] == ts->admin_token && paths[i] == usage)
				continue;
			resp = send_bearer(fx, "GET", paths[i], tokens[t]);
			if (expect_error(fx,
					 &route,
					 paths[i],
					 whos[t],
					 resp,
					 403,
					 "forbidden",
					 NULL) &&
			    tokens[t] == ts->other_admin_token) {
				const gchar *leak = find_leak(fx, resp, paths[i]);
				if (leak != NULL)
					fail(fx,
					     &route,
					     paths[i],
					     whos[t],
					     "an error without anything of acme",
					     resp);
			}
		}
	}
}

/* list filters naming acme's things find nothing for another tenant */
static void
expect_filters_isolated(Fixture *fx)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *by_workflow =
		g_strdup_printf("/api/v1/executions?workflow_id=%s", fx->workflow_id);
	const gchar *paths[] = {
		by_workflow,
		"/api/v1/workflows?name=matrix-acme-flow",
		"/api/v1/workflows?search=acme-private-description",
		"/api/v1/executions?trigger=manual",
		"/api/v1/executions?status=queued",
	};
	const AiqRoute route = { .method = "GET", .path = "(a list, filtered)" };

	for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
		g_autoptr(AiqTestResponse) resp =
			send_bearer(fx, "GET", paths[i], ts->other_admin_token);
		JsonArray *items = NULL;
		fx->checks++;
		if (resp->status == 200 && resp->json != NULL && JSON_NODE_HOLDS_OBJECT(resp->json))
			items = aiq_json_object_get_array(json_node_get_object(resp->json),
							  "items");
		if (items == NULL || json_array_get_length(items) != 0)
			fail(fx, &route, paths[i], "other's admin", "200 with no items", resp);
	}
}

/* another tenant's agent can't lease, renew or report acme's executions */
static void
expect_agent_protocol_isolated(Fixture *fx)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *agent_id = NULL;
	g_autofree gchar *agent = NULL;
	g_autofree gchar *running = g_strdup_printf("{\"running\":[\"%s\"]}", fx->execution_id);
	g_autofree gchar *events = g_strdup_printf(
		"{\"events\":[{\"execution_id\":\"%s\",\"seq\":1,"
		"\"type\":\"execution.started\",\"time\":\"2027-01-01T00:00:01Z\"}]}",
		fx->execution_id);
	const AiqRoute lease = { .method = "POST", .path = "/api/v1/agent/lease" };
	const AiqRoute heartbeat = { .method = "POST", .path = "/api/v1/agent/heartbeat" };
	const AiqRoute sync = { .method = "POST", .path = "/api/v1/agent/events" };

	/* an agent of the other tenant */
	{
		g_autoptr(AiqTestResponse) made = send_json(fx,
							    "POST",
							    "/api/v1/enrollment-tokens",
							    ts->other_admin_token,
							    "{}");
		g_autofree gchar *token = answer_string(made, 201, "token");
		g_autofree gchar *body =
			g_strdup_printf("{\"token\":\"%s\",\"name\":\"other-agent\"}", token);
		g_autoptr(AiqTestResponse) resp =
			send_json(fx, "POST", "/api/v1/agents/enroll", NULL, body);
		agent_id = answer_string(resp, 201, "agent_id");
		agent = g_strdup(
			aiq_json_object_get_string(aiq_test_response_object(resp), "credential"));
	}
	{
		g_autoptr(AiqTestResponse) resp =
			send_json(fx, "POST", lease.path, agent, "{\"capacity\":10,\"wait_ms\":0}");
		fx->checks++;
		if (resp->status != 200 || find_leak(fx, resp, NULL) != NULL)
			fail(fx,
			     &lease,
			     lease.path,
			     "other's agent",
			     "200 without acme's jobs",
			     resp);
	}
	{
		g_autoptr(AiqTestResponse) resp =
			send_json(fx, "POST", heartbeat.path, agent, running);
		JsonArray *lost = NULL;
		fx->checks++;
		if (resp->status == 200 && resp->json != NULL)
			lost = aiq_json_object_get_array(aiq_test_response_object(resp), "lost");
		if (lost == NULL || json_array_get_length(lost) != 1 ||
		    g_strcmp0(json_array_get_string_element(lost, 0), fx->execution_id) != 0)
			fail(fx,
			     &heartbeat,
			     heartbeat.path,
			     "other's agent, running acme's execution",
			     "200 with the execution lost",
			     resp);
	}
	{
		g_autoptr(AiqTestResponse) resp = send_json(fx, "POST", sync.path, agent, events);
		JsonObject *acks = NULL;
		JsonArray *rejected = NULL;
		fx->checks++;
		if (resp->status == 200 && resp->json != NULL) {
			acks = aiq_json_object_get_object(aiq_test_response_object(resp), "acks");
			rejected = aiq_json_object_get_array(aiq_test_response_object(resp),
							     "rejected");
		}
		if (acks == NULL || json_object_get_size(acks) != 0 || rejected == NULL ||
		    json_array_get_length(rejected) != 1)
			fail(fx,
			     &sync,
			     sync.path,
			     "other's agent, with an event of acme's execution",
			     "200 with the event rejected and nothing acknowledged",
			     resp);
	}
	/* and acme's execution is as it was */
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", fx->execution_id);
		g_autoptr(AiqTestResponse) resp = send_bearer(fx, "GET", path, ts->viewer_token);
		const AiqRoute get = { .method = "GET", .path = "/api/v1/executions/{id}" };
		JsonObject *obj = NULL;
		fx->checks++;
		if (resp->status == 200 && resp->json != NULL)
			obj = aiq_test_response_object(resp);
		if (obj == NULL ||
		    g_strcmp0(aiq_json_object_get_string(obj, "status"), "queued") != 0 ||
		    !json_object_get_null_member(obj, "agent_id"))
			fail(fx,
			     &get,
			     path,
			     "acme's viewer, after other's agent tried it",
			     "200, still queued and with no agent",
			     resp);
	}
}

static void
test_matrix_other_tenant(Fixture *fx, gconstpointer user_data)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *other_key_id = NULL;
	g_autofree gchar *other_key = NULL;
	g_autofree gchar *b_other = NULL;
	g_autofree gchar *b_other_key = NULL;
	g_autofree gchar *b_platform = NULL;

	/* an API key of the other tenant too */
	{
		g_autoptr(AiqTestResponse) resp =
			send_json(fx,
				  "POST",
				  "/api/v1/api-keys",
				  ts->other_admin_token,
				  "{\"name\":\"matrix-other-key\",\"role\":\"tenant_admin\"}");
		other_key_id = answer_string(resp, 201, "id");
		other_key = g_strdup(
			aiq_json_object_get_string(aiq_test_response_object(resp), "token"));
	}
	b_other = g_strdup_printf("Bearer %s", ts->other_admin_token);
	b_other_key = g_strdup_printf("Bearer %s", other_key);
	b_platform = g_strdup_printf("Bearer %s", ts->platform_token);
	/* the lists first, the audit log among them, while it holds only
	 * what the tenant did itself; then acme's ids */
	for (guint pass = 0; pass < 2; pass++) {
		expect_tenant_isolation(fx,
					"other's admin",
					ts->other_admin_token,
					AIQ_ROLE_TENANT_ADMIN,
					FALSE,
					pass == 1);
		expect_tenant_isolation(fx,
					"other's admin API key",
					other_key,
					AIQ_ROLE_TENANT_ADMIN,
					FALSE,
					pass == 1);
		expect_tenant_isolation(fx,
					"the platform admin",
					ts->platform_token,
					AIQ_ROLE_TENANT_ADMIN,
					TRUE,
					pass == 1);
	}
	expect_tenant_parameters(fx);

	/* the lists are not empty for the other tenant: it sees its own */
	{
		g_autoptr(AiqTestResponse) resp =
			send_bearer(fx, "GET", "/api/v1/workflows", ts->other_admin_token);
		aiq_test_assert_status(resp, 200);
		g_assert_nonnull(strstr(resp->body, "matrix-other-flow"));
	}
	expect_filters_isolated(fx);
	expect_agent_protocol_isolated(fx);
	/* and after all that, the audit logs of other and of the platform
	 * hold nothing of acme but the ids their own requests sent */
	{
		const gchar *others[] = { b_other, b_other_key, NULL };
		const gchar *platform[] = { b_platform, NULL };
		g_autofree gchar *platform_id = platform_tenant_id(fx);
		expect_audit_isolated(fx,
				      "other's admin",
				      ts->other_admin_token,
				      ts->other_tenant_id,
				      others);
		expect_audit_isolated(fx,
				      "the platform admin",
				      ts->platform_token,
				      platform_id,
				      platform);
	}
	fixture_report(fx, "routes that cross tenants");
}

/*
 * Each role of acme on every route: below the route's role, 403; at or
 * above it, let through. Writes are let through only for routes every user
 * may call (a throwaway session each time), so the fixture's things stay.
 */
static void
test_matrix_roles(Fixture *fx, gconstpointer user_data)
{
	AiqTestServer *ts = fx->ts;
	struct {
		const gchar *who;
		const gchar *token;
		AiqRole role;
		const gchar *username; /* for throwaway sessions */
		const gchar *tenant_id;
	} principals[] = {
		{ "acme's viewer", ts->viewer_token, AIQ_ROLE_VIEWER, "vi", ts->tenant_id },
		{ "acme's editor", ts->editor_token, AIQ_ROLE_EDITOR, "ed", ts->tenant_id },
		{ "acme's editor API key",
		  fx->api_key_token,
		  AIQ_ROLE_EDITOR,
		  NULL,
		  ts->tenant_id },
		{ "acme's admin",
		  ts->admin_token,
		  AIQ_ROLE_TENANT_ADMIN,
		  "acme-admin",
		  ts->tenant_id },
		{ "the platform admin", ts->platform_token, AIQ_ROLE_PLATFORM_ADMIN, NULL, NULL },
		{ "acme's agent", fx->agent_token, AIQ_ROLE_AGENT, NULL, ts->tenant_id },
	};
	guint skipped = 0;

	for (guint p = 0; p < G_N_ELEMENTS(principals); p++) {
		g_autofree gchar *authorization = g_strdup_printf("Bearer %s", principals[p].token);
		for (guint i = 0; i < fx->routes->len; i++) {
			const AiqRoute *route = g_ptr_array_index(fx->routes, i);
			g_autofree gchar *path = NULL;
			g_autoptr(AiqTestResponse) resp = NULL;
			g_autofree gchar *message = NULL;

			if (route->role == AIQ_ROLE_NONE)
				continue;
			path = fill_path(fx, route);
			if (!aiq_role_satisfies(principals[p].role, route->role)) {
				resp = send_request(fx,
						    route->method,
						    path,
						    authorization,
						    NULL,
						    NULL);
				message = g_strdup_printf("needs the %s role",
							  aiq_role_to_string(route->role));
				expect_error(fx,
					     route,
					     path,
					     principals[p].who,
					     resp,
					     403,
					     "forbidden",
					     message);
				continue;
			}
			/* acme's ids are not the platform tenant's: see other-tenant */
			if (principals[p].tenant_id == NULL && route_has_params(route) &&
			    route_is_tenant_scoped(route))
				continue;
			if (route_is_get(route)) {
				resp = send_request(fx,
						    route->method,
						    path,
						    authorization,
						    NULL,
						    NULL);
				expect_allowed(fx, route, path, principals[p].who, resp);
			} else if (route->role == AIQ_ROLE_AGENT) {
				/* no body: the handler refuses it, after the router let it in */
				resp = send_request(fx,
						    route->method,
						    path,
						    authorization,
						    NULL,
						    NULL);
				expect_allowed(fx, route, path, principals[p].who, resp);
			} else if (route->role == AIQ_ROLE_VIEWER &&
				   principals[p].username != NULL) {
				g_autofree gchar *throwaway = issue_session(fx,
									    principals[p].tenant_id,
									    principals[p].username);
				g_autofree gchar *b_throwaway =
					g_strdup_printf("Bearer %s", throwaway);
				resp = send_request(fx,
						    route->method,
						    path,
						    b_throwaway,
						    NULL,
						    NULL);
				expect_allowed(fx, route, path, principals[p].who, resp);
			} else {
				skipped++;
			}
		}
	}
	g_test_message("%u writes at or above their role not sent (they would change the "
		       "fixture)",
		       skipped);
	fixture_report(fx, "routes that get roles wrong");
}

/* the principals of the governance test, in the order of its columns */
enum { GOV_VIEWER, GOV_EDITOR, GOV_KEY, GOV_ADMIN, GOV_PLATFORM, GOV_AGENT, GOV_OTHER, GOV_N };

/* what a 200 of a governance route must be about */
static void
expect_governance_answer(Fixture *fx,
			 const AiqRoute *route,
			 const gchar *path,
			 const gchar *who,
			 AiqTestResponse *resp,
			 const gchar *tenant_id,
			 const gchar *slug)
{
	JsonObject *obj = resp->json != NULL && JSON_NODE_HOLDS_OBJECT(resp->json)
				  ? json_node_get_object(resp->json)
				  : NULL;
	g_autofree gchar *expected = NULL;

	fx->checks++;
	if (g_str_has_prefix(route->path, "/api/v1/usage")) {
		if (g_strcmp0(aiq_json_object_get_string(obj, "tenant_id"), tenant_id) == 0)
			return;
		expected = g_strdup_printf("200 with the usage of tenant %s", tenant_id);
	} else if (g_str_has_prefix(route->path, "/api/v1/audit")) {
		JsonArray *items = aiq_json_object_get_array(obj, "items");
		gboolean mine = items != NULL;
		for (guint i = 0; mine && i < json_array_get_length(items); i++)
			mine = g_strcmp0(aiq_json_object_get_string(
						 json_array_get_object_element(items, i),
						 "tenant_id"),
					 tenant_id) == 0;
		if (mine)
			return;
		expected = g_strdup_printf("200 with records of tenant %s only", tenant_id);
	} else {
		/* an export: the tenant's, by its file name */
		const gchar *disposition =
			soup_message_headers_get_one(resp->headers, "Content-Disposition");
		g_autofree gchar *name = g_strdup_printf("filename=\"%s-", slug);
		if (g_strcmp0(soup_message_headers_get_content_type(resp->headers, NULL),
			      "application/gzip") == 0 &&
		    disposition != NULL && strstr(disposition, name) != NULL)
			return;
		expected = g_strdup_printf("200, the export of %s (application/gzip, %s…)",
					   slug,
					   name);
	}
	fail(fx, route, path, who, expected, resp);
}

/*
 * The governance routes by role: the usage (every user and key, of their
 * own tenant; another tenant's only for the platform admin), the audit log
 * (tenant admins, of their own tenant; the platform's and any tenant's for
 * the platform admin), a tenant's export (its own admins; any tenant for
 * the platform admin; another tenant's id is 404) and its erasure (the
 * platform admin only; an active tenant is 409 and stays). The metrics are
 * public: see the public test.
 */
static void
test_matrix_governance(Fixture *fx, gconstpointer user_data)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *platform_id = platform_tenant_id(fx);
	g_autofree gchar *usage_acme = g_strdup_printf("/api/v1/usage?tenant=%s", ts->tenant_id);
	g_autofree gchar *audit_acme = g_strdup_printf("/api/v1/audit?tenant=%s", ts->tenant_id);
	g_autofree gchar *export_acme = g_strdup_printf("/api/v1/tenants/%s/export", ts->tenant_id);
	g_autofree gchar *export_other =
		g_strdup_printf("/api/v1/tenants/%s/export", ts->other_tenant_id);
	g_autofree gchar *erase_acme = g_strdup_printf("/api/v1/tenants/%s", ts->tenant_id);
	const struct {
		const gchar *who;
		const gchar *token;
		const gchar *tenant_id; /* their own */
		const gchar *slug;
	} principals[GOV_N] = {
		[GOV_VIEWER] = { "acme's viewer", ts->viewer_token, ts->tenant_id, "acme" },
		[GOV_EDITOR] = { "acme's editor", ts->editor_token, ts->tenant_id, "acme" },
		[GOV_KEY] = { "acme's editor API key", fx->api_key_token, ts->tenant_id, "acme" },
		[GOV_ADMIN] = { "acme's admin", ts->admin_token, ts->tenant_id, "acme" },
		[GOV_PLATFORM] = { "the platform admin", ts->platform_token, platform_id, NULL },
		[GOV_AGENT] = { "acme's agent", fx->agent_token, ts->tenant_id, "acme" },
		[GOV_OTHER] = { "other's admin",
				ts->other_admin_token,
				ts->other_tenant_id,
				"other" },
	};
	const struct {
		const gchar *method;
		const gchar *pattern;
		const gchar *path;
		const gchar *tenant_id; /* whose data a 200 holds; NULL: the caller's */
		const gchar *slug;
		/* the answer to each principal: viewer, editor, editor API key,
		 * admin, platform admin, agent, other's admin */
		guint status[GOV_N];
	} cases[] = {
		{ "GET",
		  "/api/v1/usage",
		  "/api/v1/usage",
		  NULL,
		  NULL,
		  { 200, 200, 200, 200, 200, 403, 200 } },
		{ "GET",
		  "/api/v1/usage?tenant=ACME",
		  usage_acme,
		  ts->tenant_id,
		  "acme",
		  { 200, 200, 200, 200, 200, 403, 403 } },
		{ "GET",
		  "/api/v1/audit",
		  "/api/v1/audit",
		  NULL,
		  NULL,
		  { 403, 403, 403, 200, 200, 403, 200 } },
		{ "GET",
		  "/api/v1/audit?tenant=ACME",
		  audit_acme,
		  ts->tenant_id,
		  "acme",
		  { 403, 403, 403, 403, 200, 403, 403 } },
		{ "GET",
		  "/api/v1/audit?tenant=acme (a slug)",
		  "/api/v1/audit?tenant=acme",
		  ts->tenant_id,
		  "acme",
		  { 403, 403, 403, 403, 200, 403, 403 } },
		{ "GET",
		  "/api/v1/audit?scope=platform",
		  "/api/v1/audit?scope=platform",
		  platform_id,
		  NULL,
		  { 403, 403, 403, 403, 200, 403, 403 } },
		{ "GET",
		  "/api/v1/tenants/ACME/export",
		  export_acme,
		  ts->tenant_id,
		  "acme",
		  { 403, 403, 403, 200, 200, 403, 404 } },
		{ "GET",
		  "/api/v1/tenants/OTHER/export",
		  export_other,
		  ts->other_tenant_id,
		  "other",
		  { 403, 403, 403, 404, 200, 403, 200 } },
		{ "DELETE",
		  "/api/v1/tenants/ACME",
		  erase_acme,
		  NULL,
		  NULL,
		  { 403, 403, 403, 403, 409, 403, 403 } },
	};

	for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
		const AiqRoute route = { .method = cases[c].method, .path = cases[c].pattern };
		for (guint p = 0; p < GOV_N; p++) {
			g_autoptr(AiqTestResponse) resp = send_bearer(fx,
								      cases[c].method,
								      cases[c].path,
								      principals[p].token);
			guint status = cases[c].status[p];
			const gchar *code = status == 403   ? "forbidden"
					    : status == 404 ? "not_found"
							    : "conflict";
			if (status == 200) {
				fx->checks++;
				if (resp->status != 200)
					fail(fx,
					     &route,
					     cases[c].path,
					     principals[p].who,
					     "200",
					     resp);
				else
					expect_governance_answer(fx,
								 &route,
								 cases[c].path,
								 principals[p].who,
								 resp,
								 cases[c].tenant_id != NULL
									 ? cases[c].tenant_id
									 : principals[p].tenant_id,
								 cases[c].slug != NULL
									 ? cases[c].slug
									 : principals[p].slug);
			} else {
				expect_error(fx,
					     &route,
					     cases[c].path,
					     principals[p].who,
					     resp,
					     status,
					     code,
					     NULL);
			}
		}
	}
	/* the refused erasure left acme as it was */
	{
		g_autoptr(AiqTestResponse) me =
			send_bearer(fx, "GET", "/api/v1/me", ts->admin_token);
		g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s", fx->workflow_id);
		g_autoptr(AiqTestResponse) wf = send_bearer(fx, "GET", path, ts->viewer_token);
		aiq_test_assert_status(me, 200);
		aiq_test_assert_status(wf, 200);
	}
	fixture_report(fx, "governance routes that get roles or tenants wrong");
}

/*
 * Public routes answer a request with any Authorization header, good or
 * bad, as they answer one without: no 401, no other tenant's data.
 */
static void
test_matrix_public(Fixture *fx, gconstpointer user_data)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *random = random_token("aiqs", ts->tenant_id);
	const gchar *tokens[] = { "aiqs_garbage",  random,          ts->other_admin_token,
				  ts->admin_token, fx->agent_token, ts->platform_token };
	guint n_public = 0;

	for (guint i = 0; i < fx->routes->len; i++) {
		const AiqRoute *route = g_ptr_array_index(fx->routes, i);
		g_autofree gchar *path = NULL;
		g_autoptr(AiqTestResponse) baseline = NULL;

		if (route->role != AIQ_ROLE_NONE)
			continue;
		n_public++;
		path = fill_path(fx, route);
		baseline = send_request(fx, route->method, path, NULL, NULL, NULL);
		fx->checks++;
		if (baseline->status == 0 || baseline->status == 401 || baseline->status >= 500)
			fail(fx, route, path, "no token", "an answer (not 401 or 5xx)", baseline);
		for (guint t = 0; t < G_N_ELEMENTS(tokens); t++) {
			g_autoptr(AiqTestResponse) resp =
				send_bearer(fx, route->method, path, tokens[t]);
			g_autofree gchar *who = g_strdup_printf("the bearer %.12s…", tokens[t]);
			const gchar *leak = NULL;
			fx->checks++;
			if (resp->status != baseline->status ||
			    g_strcmp0(aiq_test_response_error_code(resp),
				      aiq_test_response_error_code(baseline)) != 0) {
				g_autofree gchar *expected = g_strdup_printf(
					"the same answer as without a token (%u %s)",
					baseline->status,
					aiq_test_response_error_code(baseline));
				fail(fx, route, path, who, expected, resp);
				continue;
			}
			if (soup_message_headers_get_one(resp->headers, "WWW-Authenticate") != NULL)
				fail(fx, route, path, who, "no WWW-Authenticate", resp);
			leak = find_leak(fx, resp, path);
			if (leak != NULL) {
				g_autofree gchar *expected = g_strdup_printf(
					"nothing of acme, but the answer holds “%s”",
					leak);
				fail(fx, route, path, who, expected, resp);
			}
		}
	}
	g_assert_cmpuint(n_public, >, 0);

	/* a webhook token that is not one, or is one no more */
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/hooks/whk_%s", random + 5);
		g_autoptr(AiqTestResponse) resp = send_json(fx, "POST", path, NULL, "{}");
		const AiqRoute route = { .method = "POST",
					 .path = "/api/v1/hooks/{token}",
					 .role = AIQ_ROLE_NONE };
		expect_error(fx, &route, path, "no token", resp, 404, "not_found", NULL);
	}
	/* acme's webhook token with the other tenant in it */
	{
		g_autofree gchar *forged = g_strdup(fx->hook_token);
		g_autofree gchar *path = NULL;
		g_autoptr(AiqTestResponse) resp = NULL;
		const AiqRoute route = { .method = "POST",
					 .path = "/api/v1/hooks/{token}",
					 .role = AIQ_ROLE_NONE };
		memcpy(forged + 4, ts->other_admin_token + 5, 32);
		path = g_strdup_printf("/api/v1/hooks/%s", forged);
		resp = send_json(fx, "POST", path, NULL, "{}");
		expect_error(fx, &route, path, "no token", resp, 404, "not_found", NULL);
	}
	/* the live events take the token in the query too, and check it as well */
	{
		const AiqRoute route = { .method = "GET", .path = "/api/v1/events" };
		const gchar *queries[] = { "aiqs_garbage", random, fx->agent_token };
		for (guint i = 0; i < G_N_ELEMENTS(queries); i++) {
			g_autofree gchar *path =
				g_strdup_printf("/api/v1/events?access_token=%s", queries[i]);
			g_autoptr(AiqTestResponse) resp =
				send_request(fx, "GET", path, NULL, NULL, NULL);
			if (queries[i] == fx->agent_token)
				expect_error(fx,
					     &route,
					     path,
					     "?access_token of an agent",
					     resp,
					     403,
					     "forbidden",
					     NULL);
			else
				expect_error(fx,
					     &route,
					     path,
					     "a bad ?access_token",
					     resp,
					     401,
					     "unauthenticated",
					     NULL);
		}
	}
	fixture_report(fx, "public routes that answer differently with a token");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/aiq/http-auth-matrix/unauthenticated",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_matrix_unauthenticated,
		   fixture_tear_down);
	g_test_add("/aiq/http-auth-matrix/expired",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_matrix_expired,
		   fixture_tear_down);
	g_test_add("/aiq/http-auth-matrix/revoked",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_matrix_revoked,
		   fixture_tear_down);
	g_test_add("/aiq/http-auth-matrix/other-tenant",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_matrix_other_tenant,
		   fixture_tear_down);
	g_test_add("/aiq/http-auth-matrix/roles",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_matrix_roles,
		   fixture_tear_down);
	g_test_add("/aiq/http-auth-matrix/governance",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_matrix_governance,
		   fixture_tear_down);
	g_test_add("/aiq/http-auth-matrix/public",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_matrix_public,
		   fixture_tear_down);
	return g_test_run();
}
