/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The identity API over HTTPS: logging in and out, throttling, tenants,
 * users, API keys, tenancy and strict bodies.
 */

#include "config.h"

#include <string.h>

#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-store-identity.h"
#include "aiq-test-server.h"
#include "aiq-util.h"

/* the password aiq_test_server_add_user() gives */
#define TEST_PASSWORD "test-password-123"

static AiqTestResponse *
login(AiqTestServer *ts, const gchar *tenant, const gchar *username, const gchar *password)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *body = NULL;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "tenant");
	json_builder_add_string_value(builder, tenant);
	json_builder_set_member_name(builder, "username");
	json_builder_add_string_value(builder, username);
	json_builder_set_member_name(builder, "password");
	json_builder_add_string_value(builder, password);
	json_builder_end_object(builder);
	node = json_builder_get_root(builder);
	body = aiq_json_to_string(node, FALSE);
	return aiq_test_request_json(ts, "POST", "/api/v1/auth/login", NULL, body);
}

/* a session token, logging in as @username */
static gchar *
login_token(AiqTestServer *ts, const gchar *tenant, const gchar *username, const gchar *password)
{
	g_autoptr(AiqTestResponse) resp = login(ts, tenant, username, password);
	aiq_test_assert_status(resp, 200);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "token"));
}

static const gchar *
error_message(AiqTestResponse *resp)
{
	JsonObject *error = aiq_json_object_get_object(aiq_test_response_object(resp), "error");
	return aiq_json_object_get_string(error, "message");
}

static void
assert_error(AiqTestResponse *resp, guint status, const gchar *code, const gchar *fragment)
{
	aiq_test_assert_status(resp, status);
	g_assert_cmpstr(aiq_test_response_error_code(resp), ==, code);
	if (fragment != NULL && strstr(error_message(resp), fragment) == NULL)
		g_error("expected “%s” in the message: %s", fragment, resp->body);
}

static guint
status_of(AiqTestServer *ts,
	  const gchar *method,
	  const gchar *path,
	  const gchar *token,
	  const gchar *json)
{
	g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts, method, path, token, json);
	return resp->status;
}

static gchar *
me_role(AiqTestServer *ts, const gchar *token)
{
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(ts, "GET", "/api/v1/me", token, NULL, NULL, 0);
	aiq_test_assert_status(resp, 200);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "role"));
}

static gchar *
user_id_of(AiqTestServer *ts, const gchar *tenant_id, const gchar *username)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqUser) user = aiq_store_get_user_by_name(aiq_server_get_store(ts->server),
							     tenant_id,
							     username,
							     &error);
	g_assert_no_error(error);
	return g_strdup(user->id);
}

/* a user by the API; returns the id */
static gchar *
create_user(AiqTestServer *ts, const gchar *token, const gchar *username, const gchar *role)
{
	g_autofree gchar *body = g_strdup_printf(
		"{\"username\": \"%s\", \"display_name\": \"%s\", \"role\": \"%s\", "
		"\"password\": \"" TEST_PASSWORD "\"}",
		username,
		username,
		role);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(ts, "POST", "/api/v1/users", token, body);
	JsonObject *obj;
	aiq_test_assert_status(resp, 201);
	obj = aiq_test_response_object(resp);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "username"), ==, username);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "role"), ==, role);
	g_assert_false(json_object_has_member(obj, "password_hash"));
	g_assert_false(json_object_has_member(obj, "password"));
	return g_strdup(aiq_json_object_get_string(obj, "id"));
}

static void
test_identity_login(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	AiqStore *store = aiq_server_get_store(ts->server);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTestResponse) ok = login(ts, "acme", "vi", TEST_PASSWORD);
	g_autofree gchar *vi_id = user_id_of(ts, ts->tenant_id, "vi");
	g_autofree gchar *message = NULL;
	const gchar *token;
	JsonObject *obj;
	JsonObject *user;
	struct {
		const gchar *tenant;
		const gchar *username;
		const gchar *password;
	} bad[] = {
		{ "acme", "vi", "wrong-password-123" }, { "acme", "nobody", TEST_PASSWORD },
		{ "nowhere", "vi", TEST_PASSWORD },     { "acme", "", TEST_PASSWORD },
		{ "acme", "disabled", TEST_PASSWORD },
	};

	/* a good login: a session token, its expiry and the user */
	aiq_test_assert_status(ok, 200);
	obj = aiq_test_response_object(ok);
	token = aiq_json_object_get_string(obj, "token");
	g_assert_true(g_str_has_prefix(token, "aiqs_"));
	g_assert_nonnull(aiq_json_object_get_string(obj, "expires_at"));
	user = aiq_json_object_get_object(obj, "user");
	g_assert_cmpstr(aiq_json_object_get_string(user, "id"), ==, vi_id);
	g_assert_cmpstr(aiq_json_object_get_string(user, "username"), ==, "vi");
	g_assert_cmpstr(aiq_json_object_get_string(user, "role"), ==, "viewer");
	g_assert_nonnull(aiq_json_object_get_string(user, "last_login"));
	g_assert_false(json_object_has_member(user, "password_hash"));

	/* the token works, and says who it is */
	{
		g_autoptr(AiqTestResponse) me =
			aiq_test_request(ts, "GET", "/api/v1/me", token, NULL, NULL, 0);
		aiq_test_assert_status(me, 200);
		g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(me), "kind"),
				==,
				"session");
		g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(me), "name"),
				==,
				"vi");
	}
	/* the login was recorded */
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/users/%s", vi_id);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->admin_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 200);
		g_assert_nonnull(
			aiq_json_object_get_string(aiq_test_response_object(resp), "last_login"));
	}

	/* a disabled user, with the right password */
	g_free(aiq_test_server_add_user(ts, ts->tenant_id, "disabled", "editor", NULL));
	{
		g_autofree gchar *id = user_id_of(ts, ts->tenant_id, "disabled");
		g_assert_true(aiq_store_update_user(store,
						    ts->tenant_id,
						    id,
						    NULL,
						    NULL,
						    NULL,
						    1,
						    &error));
		g_assert_no_error(error);
	}

	/* every failure: 401, one code, one message */
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(AiqTestResponse) resp =
			login(ts, bad[i].tenant, bad[i].username, bad[i].password);
		assert_error(resp, 401, "invalid_credentials", NULL);
		g_assert_false(json_object_has_member(aiq_test_response_object(resp), "token"));
		if (message == NULL)
			message = g_strdup(error_message(resp));
		g_assert_cmpstr(error_message(resp), ==, message);
	}
}

/* an unknown user costs an Argon2id verification like a wrong password */
static void
test_identity_login_timing(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	gint64 wrong_min = G_MAXINT64;
	gint64 unknown_min = G_MAXINT64;

	/* warm up (the dummy hash is made on the first login) */
	g_free(login_token(ts, "acme", "ed", TEST_PASSWORD));
	for (guint i = 0; i < 3; i++) {
		gint64 t0 = g_get_monotonic_time();
		g_autoptr(AiqTestResponse) wrong = login(ts, "acme", "ed", "wrong-password-123");
		gint64 t1 = g_get_monotonic_time();
		g_autoptr(AiqTestResponse) unknown =
			login(ts, "acme", "ghost", "wrong-password-123");
		gint64 t2 = g_get_monotonic_time();
		aiq_test_assert_status(wrong, 401);
		aiq_test_assert_status(unknown, 401);
		wrong_min = MIN(wrong_min, t1 - t0);
		unknown_min = MIN(unknown_min, t2 - t1);
	}
	g_test_message("wrong password %" G_GINT64_FORMAT "us, unknown user %" G_GINT64_FORMAT "us",
		       wrong_min,
		       unknown_min);
	/* a loose bound: without the dummy hash, it is a hundredth */
	g_assert_cmpint(unknown_min * 10, >=, wrong_min * 3);
}

static void
test_identity_logout(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *first = login_token(ts, "acme", "ed", TEST_PASSWORD);
	g_autofree gchar *second = login_token(ts, "acme", "ed", TEST_PASSWORD);
	g_autoptr(AiqTestResponse) out = NULL;
	g_autoptr(AiqTestResponse) after = NULL;

	/* cached first, so logging out must clear the cache */
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", first, NULL), ==, 200);
	out = aiq_test_request(ts, "POST", "/api/v1/auth/logout", first, NULL, NULL, 0);
	aiq_test_assert_status(out, 204);
	after = aiq_test_request(ts, "GET", "/api/v1/me", first, NULL, NULL, 0);
	aiq_test_assert_status(after, 401);
	g_assert_nonnull(strstr(after->body, "revoked"));
	/* only that session */
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", second, NULL), ==, 200);
	/* twice: the token is no longer valid */
	g_assert_cmpuint(status_of(ts, "POST", "/api/v1/auth/logout", first, NULL), ==, 401);
	g_assert_cmpuint(status_of(ts, "POST", "/api/v1/auth/logout", NULL, NULL), ==, 401);

	/* an API key does not log out; it is revoked */
	{
		g_autoptr(AiqTestResponse) key =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/api-keys",
					      ts->admin_token,
					      "{\"name\": \"ci\", \"role\": \"viewer\"}");
		g_autoptr(AiqTestResponse) resp = NULL;
		aiq_test_assert_status(key, 201);
		resp = aiq_test_request(
			ts,
			"POST",
			"/api/v1/auth/logout",
			aiq_json_object_get_string(aiq_test_response_object(key), "token"),
			NULL,
			NULL,
			0);
		assert_error(resp, 403, "forbidden", "API key");
	}
}

static void
test_identity_throttle(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(AiqTestResponse) blocked = NULL;
	const gchar *retry_after;
	guint64 wait_s = 0;
	guint failures = 0;

	/* five failures are free, the sixth starts a wait */
	for (guint i = 0; i < 6; i++) {
		g_autoptr(AiqTestResponse) resp = login(ts, "acme", "vi", "wrong-password-123");
		assert_error(resp, 401, "invalid_credentials", NULL);
		failures++;
	}
	/* now even the right password waits */
	blocked = login(ts, "acme", "vi", TEST_PASSWORD);
	assert_error(blocked, 429, "rate_limited", "try again");
	retry_after = soup_message_headers_get_one(blocked->headers, "Retry-After");
	g_assert_nonnull(retry_after);
	g_assert_true(g_ascii_string_to_unsigned(retry_after, 10, 1, 900, &wait_s, NULL));

	/* another account is not held up by it */
	g_free(login_token(ts, "acme", "ed", TEST_PASSWORD));

	/* after the wait, the right password works and clears the account */
	ts->now += (gint64)wait_s * G_USEC_PER_SEC;
	g_free(login_token(ts, "acme", "vi", TEST_PASSWORD));
	{
		g_autoptr(AiqTestResponse) resp = login(ts, "acme", "vi", "wrong-password-123");
		assert_error(resp, 401, "invalid_credentials", NULL);
		failures++;
	}

	/* one address trying many accounts is held up too, whatever the account */
	while (failures < 21) {
		g_autofree gchar *name = g_strdup_printf("guess%u", failures);
		g_autoptr(AiqTestResponse) resp = login(ts, "acme", name, "wrong-password-123");
		assert_error(resp, 401, "invalid_credentials", NULL);
		failures++;
	}
	{
		g_autoptr(AiqTestResponse) resp = login(ts, "other", "other-admin", TEST_PASSWORD);
		assert_error(resp, 429, "rate_limited", NULL);
		g_assert_nonnull(soup_message_headers_get_one(resp->headers, "Retry-After"));
	}
}

static void
test_identity_tenants(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqTestResponse) list = NULL;
	g_autoptr(AiqTestResponse) created = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *boss = NULL;
	JsonObject *obj;
	JsonObject *admin;
	JsonArray *items;

	/* the fixture's three */
	list = aiq_test_request(ts, "GET", "/api/v1/tenants", ts->platform_token, NULL, NULL, 0);
	aiq_test_assert_status(list, 200);
	items = aiq_json_object_get_array(aiq_test_response_object(list), "items");
	g_assert_cmpuint(json_array_get_length(items), ==, 3);
	obj = json_array_get_object_element(items, 1);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "slug"), ==, "acme");
	g_assert_cmpstr(aiq_json_object_get_string(obj, "tier"), ==, "standard");
	g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "active");
	g_assert_cmpint(aiq_json_object_get_int(obj, "retention_days", 0), ==, 30);
	g_assert_nonnull(aiq_json_object_get_string(obj, "created"));
	g_assert_true(json_node_is_null(
		json_object_get_member(aiq_test_response_object(list), "next_cursor")));

	/* a weak first admin: 422, and nothing is made */
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(
			ts,
			"POST",
			"/api/v1/tenants",
			ts->platform_token,
			"{\"slug\": \"globex\", \"name\": \"Globex\", \"tier\": \"premium\", "
			"\"admin\": {\"username\": \"boss\", \"password\": \"short\"}}");
		assert_error(resp, 422, "invalid_input", "admin.password");
	}
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(
			ts,
			"POST",
			"/api/v1/tenants",
			ts->platform_token,
			"{\"slug\": \"globex\", \"name\": \"Globex\", \"tier\": \"premium\"}");
		assert_error(resp, 422, "invalid_input", "admin: required");
	}
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/tenants", ts->platform_token, NULL),
			 ==,
			 200);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqTenant) none =
			aiq_store_get_tenant_by_slug(aiq_server_get_store(ts->server),
						     "globex",
						     &error);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
		g_assert_null(none);
	}

	/* a tenant and its first admin */
	created = aiq_test_request_json(
		ts,
		"POST",
		"/api/v1/tenants",
		ts->platform_token,
		"{\"slug\": \"globex\", \"name\": \"Globex Corp\", \"tier\": \"premium\", "
		"\"retention_days\": 90, \"admin\": {\"username\": \"boss\", \"password\": "
		"\"" TEST_PASSWORD "\", \"display_name\": \"The Boss\"}}");
	aiq_test_assert_status(created, 201);
	obj = aiq_test_response_object(created);
	id = g_strdup(aiq_json_object_get_string(obj, "id"));
	g_assert_cmpstr(aiq_json_object_get_string(obj, "slug"), ==, "globex");
	g_assert_cmpstr(aiq_json_object_get_string(obj, "name"), ==, "Globex Corp");
	g_assert_cmpstr(aiq_json_object_get_string(obj, "tier"), ==, "premium");
	g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "active");
	g_assert_cmpint(aiq_json_object_get_int(obj, "retention_days", 0), ==, 90);
	admin = aiq_json_object_get_object(obj, "admin");
	g_assert_cmpstr(aiq_json_object_get_string(admin, "username"), ==, "boss");
	g_assert_cmpstr(aiq_json_object_get_string(admin, "role"), ==, "tenant_admin");
	g_assert_cmpstr(aiq_json_object_get_string(admin, "display_name"), ==, "The Boss");

	/* the admin logs in and manages the new tenant */
	boss = login_token(ts, "globex", "boss", TEST_PASSWORD);
	{
		g_autoptr(AiqTestResponse) users =
			aiq_test_request(ts, "GET", "/api/v1/users", boss, NULL, NULL, 0);
		JsonArray *people;
		aiq_test_assert_status(users, 200);
		people = aiq_json_object_get_array(aiq_test_response_object(users), "items");
		g_assert_cmpuint(json_array_get_length(people), ==, 1);
	}
	g_free(create_user(ts, boss, "worker", "editor"));

	/* the same slug again */
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(
			ts,
			"POST",
			"/api/v1/tenants",
			ts->platform_token,
			"{\"slug\": \"globex\", \"name\": \"Again\", \"tier\": \"free\", "
			"\"admin\": {\"username\": \"boss\", \"password\": \"" TEST_PASSWORD
			"\"}}");
		assert_error(resp, 409, "conflict", "globex");
	}
	/* bad slugs, tiers, retention */
	{
		const gchar *bodies[] = {
			"{\"slug\": \"Globex\", \"name\": \"n\", \"tier\": \"free\", \"admin\": "
			"{\"username\": \"a\", \"password\": \"" TEST_PASSWORD "\"}}",
			"{\"slug\": \"-x\", \"name\": \"n\", \"tier\": \"free\", \"admin\": "
			"{\"username\": \"a\", \"password\": \"" TEST_PASSWORD "\"}}",
			"{\"slug\": \"x\", \"name\": \"n\", \"tier\": \"free\", \"admin\": "
			"{\"username\": \"a\", \"password\": \"" TEST_PASSWORD "\"}}",
			"{\"slug\": \"ok-slug\", \"name\": \"n\", \"tier\": \"gold\", \"admin\": "
			"{\"username\": \"a\", \"password\": \"" TEST_PASSWORD "\"}}",
			"{\"slug\": \"ok-slug\", \"name\": \"n\", \"tier\": \"free\", "
			"\"retention_days\": 0, \"admin\": {\"username\": \"a\", \"password\": "
			"\"" TEST_PASSWORD "\"}}",
			"{\"slug\": \"ok-slug\", \"name\": \"\", \"tier\": \"free\", \"admin\": "
			"{\"username\": \"a\", \"password\": \"" TEST_PASSWORD "\"}}",
			"{\"slug\": \"ok-slug\", \"name\": \"n\", \"tier\": \"free\", \"admin\": "
			"{\"username\": \"a b\", \"password\": \"" TEST_PASSWORD "\"}}",
			"{\"slug\": \"ok-slug\", \"name\": \"n\", \"tier\": \"free\", \"admin\": "
			"{\"username\": \"a\", \"password\": \"" TEST_PASSWORD
			"\", \"role\": \"x\"}}",
			"{\"slug\": \"ok-slug\", \"name\": \"n\", \"tier\": \"free\", \"admin\": 7}",
		};
		for (guint i = 0; i < G_N_ELEMENTS(bodies); i++) {
			g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
										"POST",
										"/api/v1/tenants",
										ts->platform_token,
										bodies[i]);
			assert_error(resp, 422, "invalid_input", NULL);
		}
	}

	/* read and change it */
	path = g_strdup_printf("/api/v1/tenants/%s", id);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->platform_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 200);
		g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(resp), "slug"),
				==,
				"globex");
	}
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(
			ts,
			"PATCH",
			path,
			ts->platform_token,
			"{\"name\": \"Globex\", \"tier\": \"enterprise\", \"retention_days\": 365}");
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpstr(aiq_json_object_get_string(obj, "name"), ==, "Globex");
		g_assert_cmpstr(aiq_json_object_get_string(obj, "tier"), ==, "enterprise");
		g_assert_cmpint(aiq_json_object_get_int(obj, "retention_days", 0), ==, 365);
		g_assert_cmpstr(aiq_json_object_get_string(obj, "slug"), ==, "globex");
	}
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
									"PATCH",
									path,
									ts->platform_token,
									"{\"status\": \"gone\"}");
		assert_error(resp, 422, "invalid_input", "status");
	}
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
									"PATCH",
									path,
									ts->platform_token,
									"{\"slug\": \"renamed\"}");
		assert_error(resp, 422, "invalid_input", "slug");
	}
	/* the new tenant's tier is seen at once */
	{
		g_autoptr(AiqTestResponse) me =
			aiq_test_request(ts, "GET", "/api/v1/me", boss, NULL, NULL, 0);
		aiq_test_assert_status(me, 200);
		g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(me), "tier"),
				==,
				"enterprise");
	}

	/* missing ones */
	g_assert_cmpuint(status_of(ts,
				   "GET",
				   "/api/v1/tenants/01900000-0000-7000-8000-000000000000",
				   ts->platform_token,
				   NULL),
			 ==,
			 404);
	g_assert_cmpuint(status_of(ts,
				   "PATCH",
				   "/api/v1/tenants/01900000-0000-7000-8000-000000000000",
				   ts->platform_token,
				   "{\"name\": \"x\"}"),
			 ==,
			 404);

	/* the platform tenant stays up */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqTenant) platform =
			aiq_store_get_tenant_by_slug(aiq_server_get_store(ts->server),
						     "platform",
						     &error);
		g_autofree gchar *ppath = g_strdup_printf("/api/v1/tenants/%s", platform->id);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts,
					      "PATCH",
					      ppath,
					      ts->platform_token,
					      "{\"status\": \"suspended\"}");
		assert_error(resp, 409, "conflict", "platform");
	}

	/* pages */
	{
		g_autoptr(AiqTestResponse) first = aiq_test_request(ts,
								    "GET",
								    "/api/v1/tenants?limit=2",
								    ts->platform_token,
								    NULL,
								    NULL,
								    0);
		g_autoptr(AiqTestResponse) second = NULL;
		g_autofree gchar *next_path = NULL;
		aiq_test_assert_status(first, 200);
		next_path = g_strdup_printf(
			"/api/v1/tenants?limit=2&cursor=%s",
			aiq_json_object_get_string(aiq_test_response_object(first), "next_cursor"));
		second = aiq_test_request(ts, "GET", next_path, ts->platform_token, NULL, NULL, 0);
		aiq_test_assert_status(second, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(second), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 2);
		g_assert_cmpstr(
			aiq_json_object_get_string(json_array_get_object_element(items, 1), "slug"),
			==,
			"globex");
	}

	/* only platform admins */
	for (guint i = 0; i < 3; i++) {
		const gchar *tokens[] = { ts->admin_token, ts->editor_token, boss };
		g_assert_cmpuint(status_of(ts, "GET", "/api/v1/tenants", tokens[i], NULL), ==, 403);
		g_assert_cmpuint(status_of(ts, "GET", path, tokens[i], NULL), ==, 403);
		g_assert_cmpuint(status_of(ts, "PATCH", path, tokens[i], "{\"name\": \"mine\"}"),
				 ==,
				 403);
		g_assert_cmpuint(
			status_of(ts,
				  "POST",
				  "/api/v1/tenants",
				  tokens[i],
				  "{\"slug\": \"mine\", \"name\": \"n\", \"tier\": \"free\", "
				  "\"admin\": {\"username\": \"a\", \"password\": \"" TEST_PASSWORD
				  "\"}}"),
			==,
			403);
	}
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/tenants", NULL, NULL), ==, 401);
}

static void
test_identity_suspend(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *path = g_strdup_printf("/api/v1/tenants/%s", ts->tenant_id);
	g_autoptr(AiqTestResponse) suspended = NULL;

	/* cached before the suspension */
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", ts->admin_token, NULL), ==, 200);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", ts->viewer_token, NULL), ==, 200);
	suspended = aiq_test_request_json(ts,
					  "PATCH",
					  path,
					  ts->platform_token,
					  "{\"status\": \"suspended\"}");
	aiq_test_assert_status(suspended, 200);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(suspended), "status"),
			==,
			"suspended");
	/* its tokens fail at once */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", "/api/v1/me", ts->admin_token, NULL, NULL, 0);
		assert_error(resp, 403, "forbidden", "suspended");
	}
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", ts->viewer_token, NULL), ==, 403);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/users", ts->admin_token, NULL), ==, 403);
	/* a login with the right password is told; others learn nothing */
	{
		g_autoptr(AiqTestResponse) right = login(ts, "acme", "ed", TEST_PASSWORD);
		g_autoptr(AiqTestResponse) wrong = login(ts, "acme", "ed", "wrong-password-123");
		assert_error(right, 403, "forbidden", "suspended");
		assert_error(wrong, 401, "invalid_credentials", NULL);
	}
	/* other tenants go on */
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", ts->other_admin_token, NULL), ==, 200);

	/* and back */
	g_assert_cmpuint(
		status_of(ts, "PATCH", path, ts->platform_token, "{\"status\": \"active\"}"),
		==,
		200);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", ts->admin_token, NULL), ==, 200);
	g_free(login_token(ts, "acme", "ed", TEST_PASSWORD));
}

static void
test_identity_users(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *admin_id = user_id_of(ts, ts->tenant_id, "acme-admin");
	g_autofree gchar *admin_path = g_strdup_printf("/api/v1/users/%s", admin_id);
	g_autofree gchar *id = create_user(ts, ts->admin_token, "alice", "viewer");
	g_autofree gchar *path = g_strdup_printf("/api/v1/users/%s", id);
	g_autofree gchar *alice = login_token(ts, "acme", "alice", TEST_PASSWORD);
	g_autofree gchar *role = NULL;
	g_autofree gchar *second_admin = NULL;

	/* read it */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->admin_token, NULL, NULL, 0);
		JsonObject *obj;
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpstr(aiq_json_object_get_string(obj, "display_name"), ==, "alice");
		g_assert_false(json_object_get_boolean_member(obj, "disabled"));
		g_assert_false(json_object_has_member(obj, "password_hash"));
	}
	/* names are unique in a tenant, but not across tenants */
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(
			ts,
			"POST",
			"/api/v1/users",
			ts->admin_token,
			"{\"username\": \"alice\", \"role\": \"viewer\", \"password\": "
			"\"" TEST_PASSWORD "\"}");
		assert_error(resp, 409, "conflict", "alice");
	}
	g_free(create_user(ts, ts->other_admin_token, "alice", "editor"));

	/* roles a tenant admin can and can't grant */
	{
		struct {
			const gchar *body;
			guint status;
			const gchar *fragment;
		} cases[] = {
			{ "{\"username\": \"bob\", \"role\": \"platform_admin\", \"password\": "
			  "\"" TEST_PASSWORD "\"}",
			  403,
			  "platform_admin" },
			{ "{\"username\": \"bob\", \"role\": \"agent\", \"password\": "
			  "\"" TEST_PASSWORD "\"}",
			  422,
			  "role" },
			{ "{\"username\": \"bob\", \"role\": \"boss\", \"password\": "
			  "\"" TEST_PASSWORD "\"}",
			  422,
			  "role" },
			{ "{\"username\": \"bob\", \"password\": \"" TEST_PASSWORD "\"}",
			  422,
			  "role: required" },
			{ "{\"username\": \"bob\", \"role\": \"editor\", \"password\": \"short\"}",
			  422,
			  "password" },
			{ "{\"username\": \"bob\", \"role\": \"editor\"}",
			  422,
			  "password: required" },
			{ "{\"username\": \"bo b\", \"role\": \"editor\", \"password\": "
			  "\"" TEST_PASSWORD "\"}",
			  422,
			  "username" },
			{ "{\"username\": \"\", \"role\": \"editor\", \"password\": "
			  "\"" TEST_PASSWORD "\"}",
			  422,
			  "username" },
		};
		for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
			g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
										"POST",
										"/api/v1/users",
										ts->admin_token,
										cases[i].body);
			aiq_test_assert_status(resp, cases[i].status);
			if (strstr(error_message(resp), cases[i].fragment) == NULL)
				g_error("case %u: %s", i, resp->body);
		}
	}
	second_admin = create_user(ts, ts->admin_token, "admin2", "tenant_admin");

	/* a new role holds at once for a cached session */
	role = me_role(ts, alice);
	g_assert_cmpstr(role, ==, "viewer");
	g_clear_pointer(&role, g_free);
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(
			ts,
			"PATCH",
			path,
			ts->admin_token,
			"{\"role\": \"editor\", \"display_name\": \"Alice A.\"}");
		JsonObject *obj;
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpstr(aiq_json_object_get_string(obj, "role"), ==, "editor");
		g_assert_cmpstr(aiq_json_object_get_string(obj, "display_name"), ==, "Alice A.");
	}
	role = me_role(ts, alice);
	g_assert_cmpstr(role, ==, "editor");
	g_assert_cmpuint(
		status_of(ts, "PATCH", path, ts->admin_token, "{\"role\": \"platform_admin\"}"),
		==,
		403);

	/* disabled: the session fails at once, and so does a login */
	g_assert_cmpuint(status_of(ts, "PATCH", path, ts->admin_token, "{\"disabled\": true}"),
			 ==,
			 200);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", alice, NULL), ==, 401);
	{
		g_autoptr(AiqTestResponse) resp = login(ts, "acme", "alice", TEST_PASSWORD);
		assert_error(resp, 401, "invalid_credentials", NULL);
	}
	/* enabled again: a new login works, the old session stays revoked */
	g_assert_cmpuint(status_of(ts, "PATCH", path, ts->admin_token, "{\"disabled\": false}"),
			 ==,
			 200);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", alice, NULL), ==, 401);
	g_free(alice);
	alice = login_token(ts, "acme", "alice", TEST_PASSWORD);

	/* a password reset by an admin ends the sessions; the new one works */
	g_assert_cmpuint(status_of(ts,
				   "PATCH",
				   path,
				   ts->admin_token,
				   "{\"password\": \"another-password-456\"}"),
			 ==,
			 200);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", alice, NULL), ==, 401);
	{
		g_autoptr(AiqTestResponse) old = login(ts, "acme", "alice", TEST_PASSWORD);
		assert_error(old, 401, "invalid_credentials", NULL);
	}
	g_free(alice);
	alice = login_token(ts, "acme", "alice", "another-password-456");
	g_assert_cmpuint(status_of(ts, "PATCH", path, ts->admin_token, "{\"password\": \"short\"}"),
			 ==,
			 422);

	/* nobody disables, demotes or deletes themself */
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
									"PATCH",
									admin_path,
									ts->admin_token,
									"{\"disabled\": true}");
		assert_error(resp, 409, "conflict", "yourself");
	}
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
									"PATCH",
									admin_path,
									ts->admin_token,
									"{\"role\": \"editor\"}");
		assert_error(resp, 409, "conflict", "own role");
	}
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "DELETE", admin_path, ts->admin_token, NULL, NULL, 0);
		assert_error(resp, 409, "conflict", "yourself");
	}
	/* but changes their own name, keeps their role, and keeps the session
	 * through their own password change */
	g_assert_cmpuint(status_of(ts,
				   "PATCH",
				   admin_path,
				   ts->admin_token,
				   "{\"display_name\": \"Admin\", \"role\": \"tenant_admin\", "
				   "\"disabled\": false, \"password\": \"admin-password-789\"}"),
			 ==,
			 200);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", ts->admin_token, NULL), ==, 200);
	/* another admin may do it */
	{
		g_autofree gchar *token2 = login_token(ts, "acme", "admin2", TEST_PASSWORD);
		g_autofree gchar *admin2_path = g_strdup_printf("/api/v1/users/%s", second_admin);
		g_assert_cmpuint(
			status_of(ts, "PATCH", admin_path, token2, "{\"role\": \"editor\"}"),
			==,
			200);
		g_clear_pointer(&role, g_free);
		role = me_role(ts, ts->admin_token);
		g_assert_cmpstr(role, ==, "editor");
		/* acme-admin is an editor now: no more user routes */
		g_assert_cmpuint(status_of(ts, "GET", admin2_path, ts->admin_token, NULL), ==, 403);
		g_assert_cmpuint(
			status_of(ts, "PATCH", admin_path, token2, "{\"role\": \"tenant_admin\"}"),
			==,
			200);
	}

	/* deleted: gone, and so are the sessions */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "DELETE", path, ts->admin_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 204);
		/* no body (the fixture gives NULL for none) */
		g_assert_true(resp->body == NULL || resp->body[0] == '\0');
	}
	g_assert_cmpuint(status_of(ts, "GET", path, ts->admin_token, NULL), ==, 404);
	g_assert_cmpuint(status_of(ts, "DELETE", path, ts->admin_token, NULL), ==, 404);
	g_assert_cmpuint(status_of(ts, "PATCH", path, ts->admin_token, "{\"disabled\": true}"),
			 ==,
			 404);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", alice, NULL), ==, 401);
	{
		g_autoptr(AiqTestResponse) resp =
			login(ts, "acme", "alice", "another-password-456");
		assert_error(resp, 401, "invalid_credentials", NULL);
	}
	/* the name is free again */
	g_free(create_user(ts, ts->admin_token, "alice", "viewer"));
}

static void
test_identity_platform_users(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *root_id = NULL;
	g_autofree gchar *root_path = NULL;
	g_autofree gchar *ops = NULL;
	g_autofree gchar *ops_token = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTenant) platform =
		aiq_store_get_tenant_by_slug(aiq_server_get_store(ts->server), "platform", &error);

	/* a platform admin grants platform_admin in the platform tenant */
	g_free(create_user(ts, ts->platform_token, "second-root", "platform_admin"));
	/* a tenant admin of the platform tenant does not, and can't touch them */
	ops = create_user(ts, ts->platform_token, "ops", "tenant_admin");
	ops_token = login_token(ts, "platform", "ops", TEST_PASSWORD);
	root_id = user_id_of(ts, platform->id, "root");
	root_path = g_strdup_printf("/api/v1/users/%s", root_id);
	g_assert_cmpuint(
		status_of(ts,
			  "POST",
			  "/api/v1/users",
			  ops_token,
			  "{\"username\": \"x\", \"role\": \"platform_admin\", \"password\": "
			  "\"" TEST_PASSWORD "\"}"),
		==,
		403);
	g_assert_cmpuint(status_of(ts, "PATCH", root_path, ops_token, "{\"disabled\": true}"),
			 ==,
			 403);
	g_assert_cmpuint(status_of(ts, "DELETE", root_path, ops_token, NULL), ==, 403);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", ts->platform_token, NULL), ==, 200);
}

static void
test_identity_cross_tenant(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *ed_id = user_id_of(ts, ts->tenant_id, "ed");
	g_autofree gchar *path = g_strdup_printf("/api/v1/users/%s", ed_id);
	g_autoptr(AiqTestResponse) key = NULL;
	g_autofree gchar *key_path = NULL;

	/* acme's user ids are not found from "other" */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->other_admin_token, NULL, NULL, 0);
		assert_error(resp, 404, "not_found", NULL);
		g_assert_null(strstr(resp->body, "\"ed\""));
	}
	g_assert_cmpuint(
		status_of(ts, "PATCH", path, ts->other_admin_token, "{\"disabled\": true}"),
		==,
		404);
	g_assert_cmpuint(status_of(ts, "DELETE", path, ts->other_admin_token, NULL), ==, 404);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/me", ts->editor_token, NULL), ==, 200);
	/* and are not listed there */
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "GET",
								   "/api/v1/users",
								   ts->other_admin_token,
								   NULL,
								   NULL,
								   0);
		JsonArray *items;
		aiq_test_assert_status(resp, 200);
		items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		g_assert_cmpstr(aiq_json_object_get_string(json_array_get_object_element(items, 0),
							   "username"),
				==,
				"other-admin");
	}
	/* nor are acme's API keys */
	key = aiq_test_request_json(ts,
				    "POST",
				    "/api/v1/api-keys",
				    ts->admin_token,
				    "{\"name\": \"acme-ci\", \"role\": \"viewer\"}");
	aiq_test_assert_status(key, 201);
	key_path = g_strdup_printf("/api/v1/api-keys/%s",
				   aiq_json_object_get_string(aiq_test_response_object(key), "id"));
	g_assert_cmpuint(status_of(ts, "DELETE", key_path, ts->other_admin_token, NULL), ==, 404);
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "GET",
								   "/api/v1/api-keys",
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
	g_assert_cmpuint(
		status_of(ts,
			  "GET",
			  "/api/v1/me",
			  aiq_json_object_get_string(aiq_test_response_object(key), "token"),
			  NULL),
		==,
		200);

	/* viewers and editors get no user or key routes */
	for (guint i = 0; i < 2; i++) {
		const gchar *token = i == 0 ? ts->viewer_token : ts->editor_token;
		g_assert_cmpuint(status_of(ts, "GET", "/api/v1/users", token, NULL), ==, 403);
		g_assert_cmpuint(status_of(ts, "GET", path, token, NULL), ==, 403);
		g_assert_cmpuint(
			status_of(ts, "PATCH", path, token, "{\"role\": \"tenant_admin\"}"),
			==,
			403);
		g_assert_cmpuint(status_of(ts, "DELETE", path, token, NULL), ==, 403);
		g_assert_cmpuint(
			status_of(ts,
				  "POST",
				  "/api/v1/users",
				  token,
				  "{\"username\": \"x\", \"role\": \"viewer\", \"password\": "
				  "\"" TEST_PASSWORD "\"}"),
			==,
			403);
		g_assert_cmpuint(status_of(ts, "GET", "/api/v1/api-keys", token, NULL), ==, 403);
		g_assert_cmpuint(status_of(ts,
					   "POST",
					   "/api/v1/api-keys",
					   token,
					   "{\"name\": \"x\", \"role\": \"viewer\"}"),
				 ==,
				 403);
		g_assert_cmpuint(status_of(ts, "DELETE", key_path, token, NULL), ==, 403);
	}
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/users", NULL, NULL), ==, 401);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/api-keys", NULL, NULL), ==, 401);
}

static JsonObject *
find_key(JsonArray *items, const gchar *id)
{
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *obj = json_array_get_object_element(items, i);
		if (g_strcmp0(aiq_json_object_get_string(obj, "id"), id) == 0)
			return obj;
	}
	return NULL;
}

static void
test_identity_api_keys(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqTestResponse) created = NULL;
	g_autoptr(AiqTestResponse) list = NULL;
	g_autoptr(AiqTestResponse) after = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *token = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *role = NULL;
	JsonObject *obj;
	gint64 created_us = 0;
	gint64 expires_us = 0;

	created = aiq_test_request_json(
		ts,
		"POST",
		"/api/v1/api-keys",
		ts->admin_token,
		"{\"name\": \"ci\", \"role\": \"editor\", \"expires_in\": \"30d\"}");
	aiq_test_assert_status(created, 201);
	obj = aiq_test_response_object(created);
	id = g_strdup(aiq_json_object_get_string(obj, "id"));
	token = g_strdup(aiq_json_object_get_string(obj, "token"));
	path = g_strdup_printf("/api/v1/api-keys/%s", id);
	g_assert_true(g_str_has_prefix(token, "aiqk_"));
	g_assert_cmpstr(aiq_json_object_get_string(obj, "name"), ==, "ci");
	g_assert_cmpstr(aiq_json_object_get_string(obj, "role"), ==, "editor");
	g_assert_true(json_node_is_null(json_object_get_member(obj, "last_used")));
	g_assert_true(aiq_time_from_iso8601(aiq_json_object_get_string(obj, "created"),
					    &created_us,
					    NULL));
	g_assert_true(aiq_time_from_iso8601(aiq_json_object_get_string(obj, "expires_at"),
					    &expires_us,
					    NULL));
	g_assert_cmpint(expires_us - created_us, ==, (gint64)30 * 24 * 3600 * G_USEC_PER_SEC);

	/* it works with its role */
	role = me_role(ts, token);
	g_assert_cmpstr(role, ==, "editor");

	/* listed without the token; last used once the auth flushes */
	aiq_auth_flush(aiq_server_get_auth(ts->server));
	list = aiq_test_request(ts, "GET", "/api/v1/api-keys", ts->admin_token, NULL, NULL, 0);
	aiq_test_assert_status(list, 200);
	obj = find_key(aiq_json_object_get_array(aiq_test_response_object(list), "items"), id);
	g_assert_nonnull(obj);
	g_assert_false(json_object_has_member(obj, "token"));
	g_assert_false(json_object_has_member(obj, "hash"));
	g_assert_nonnull(aiq_json_object_get_string(obj, "last_used"));
	g_assert_nonnull(aiq_json_object_get_string(obj, "expires_at"));
	g_assert_cmpstr(aiq_json_object_get_string(obj, "created"),
			==,
			aiq_json_object_get_string(aiq_test_response_object(created), "created"));
	g_assert_null(strstr(list->body, token));

	/* no more than the creator's role; real roles only */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts,
					      "POST",
					      "/api/v1/api-keys",
					      ts->admin_token,
					      "{\"name\": \"root\", \"role\": \"platform_admin\"}");
		assert_error(resp, 403, "forbidden", "platform_admin");
	}
	g_assert_cmpuint(status_of(ts,
				   "POST",
				   "/api/v1/api-keys",
				   ts->admin_token,
				   "{\"name\": \"admin\", \"role\": \"tenant_admin\"}"),
			 ==,
			 201);
	g_assert_cmpuint(status_of(ts,
				   "POST",
				   "/api/v1/api-keys",
				   ts->platform_token,
				   "{\"name\": \"root\", \"role\": \"platform_admin\"}"),
			 ==,
			 201);
	{
		const gchar *bodies[] = {
			"{\"name\": \"x\", \"role\": \"agent\"}",
			"{\"name\": \"x\", \"role\": \"none\"}",
			"{\"name\": \"x\"}",
			"{\"role\": \"viewer\"}",
			"{\"name\": \"\", \"role\": \"viewer\"}",
			"{\"name\": \"x\", \"role\": \"viewer\", \"expires_in\": \"soon\"}",
			"{\"name\": \"x\", \"role\": \"viewer\", \"expires_in\": \"0s\"}",
			"{\"name\": \"x\", \"role\": \"viewer\", \"expires_in\": \"400d\"}",
			"{\"name\": \"x\", \"role\": \"viewer\", \"expires_in\": 3600}",
		};
		for (guint i = 0; i < G_N_ELEMENTS(bodies); i++) {
			g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
										"POST",
										"/api/v1/api-keys",
										ts->admin_token,
										bodies[i]);
			assert_error(resp, 422, "invalid_input", NULL);
		}
	}

	/* revoked: fails at once, though cached; gone from the list */
	after = aiq_test_request(ts, "DELETE", path, ts->admin_token, NULL, NULL, 0);
	aiq_test_assert_status(after, 204);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", "/api/v1/me", token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 401);
	}
	g_assert_cmpuint(status_of(ts, "DELETE", path, ts->admin_token, NULL), ==, 404);
	g_assert_cmpuint(status_of(ts,
				   "DELETE",
				   "/api/v1/api-keys/01900000-0000-7000-8000-000000000000",
				   ts->admin_token,
				   NULL),
			 ==,
			 404);
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "GET",
								   "/api/v1/api-keys",
								   ts->admin_token,
								   NULL,
								   NULL,
								   0);
		aiq_test_assert_status(resp, 200);
		g_assert_null(
			find_key(aiq_json_object_get_array(aiq_test_response_object(resp), "items"),
				 id));
	}
	/* a session's id is not an API key's */
	{
		g_autoptr(GPtrArray) sessions =
			aiq_store_list_tokens(aiq_server_get_store(ts->server),
					      ts->tenant_id,
					      AIQ_TOKEN_KIND_SESSION,
					      NULL,
					      NULL);
		AiqTokenRow *session = g_ptr_array_index(sessions, 0);
		g_autofree gchar *spath = g_strdup_printf("/api/v1/api-keys/%s", session->id);
		g_assert_cmpuint(status_of(ts, "DELETE", spath, ts->admin_token, NULL), ==, 404);
	}

	/* an admin key manages keys too, within its own role */
	{
		g_autoptr(AiqTestResponse) admin_key = aiq_test_request_json(
			ts,
			"POST",
			"/api/v1/api-keys",
			ts->admin_token,
			"{\"name\": \"automation\", \"role\": \"tenant_admin\"}");
		const gchar *admin_token;
		aiq_test_assert_status(admin_key, 201);
		admin_token =
			aiq_json_object_get_string(aiq_test_response_object(admin_key), "token");
		g_assert_cmpuint(status_of(ts,
					   "POST",
					   "/api/v1/api-keys",
					   admin_token,
					   "{\"name\": \"child\", \"role\": \"viewer\"}"),
				 ==,
				 201);
		g_assert_cmpuint(status_of(ts,
					   "POST",
					   "/api/v1/api-keys",
					   admin_token,
					   "{\"name\": \"child\", \"role\": \"platform_admin\"}"),
				 ==,
				 403);
	}
}

static void
test_identity_strict_bodies(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *tenant_path = g_strdup_printf("/api/v1/tenants/%s", ts->tenant_id);
	g_autofree gchar *ed_id = user_id_of(ts, ts->tenant_id, "ed");
	g_autofree gchar *user_path = g_strdup_printf("/api/v1/users/%s", ed_id);
	struct {
		const gchar *method;
		const gchar *path;
		const gchar *token;
	} routes[] = {
		{ "POST", "/api/v1/auth/login", NULL },
		{ "POST", "/api/v1/tenants", ts->platform_token },
		{ "PATCH", tenant_path, ts->platform_token },
		{ "POST", "/api/v1/users", ts->admin_token },
		{ "PATCH", user_path, ts->admin_token },
		{ "POST", "/api/v1/api-keys", ts->admin_token },
	};

	for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
		const gchar *m = routes[i].method;
		const gchar *p = routes[i].path;
		const gchar *t = routes[i].token;
		/* an unknown member, named */
		{
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request_json(ts, m, p, t, "{\"surprise\": 1}");
			assert_error(resp, 422, "invalid_input", "surprise");
		}
		/* not JSON */
		{
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request(ts, m, p, t, "text/plain", "name=x", -1);
			assert_error(resp, 415, "unsupported_media_type", NULL);
		}
		/* malformed JSON */
		{
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request_json(ts, m, p, t, "{\"name\": ");
			aiq_test_assert_status(resp, 400);
		}
		/* not an object */
		{
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request_json(ts, m, p, t, "[1, 2]");
			assert_error(resp, 422, "invalid_input", NULL);
		}
	}
	/* wrong types, named */
	{
		struct {
			const gchar *method;
			const gchar *path;
			const gchar *token;
			const gchar *body;
			const gchar *member;
		} cases[] = {
			{ "POST",
			  "/api/v1/auth/login",
			  NULL,
			  "{\"tenant\": \"acme\", \"username\": 5, \"password\": \"x\"}",
			  "username" },
			{ "PATCH", tenant_path, ts->platform_token, "{\"name\": true}", "name" },
			{ "PATCH",
			  tenant_path,
			  ts->platform_token,
			  "{\"retention_days\": \"30\"}",
			  "retention_days" },
			{ "PATCH",
			  user_path,
			  ts->admin_token,
			  "{\"disabled\": \"yes\"}",
			  "disabled" },
			{ "PATCH", user_path, ts->admin_token, "{\"role\": [\"editor\"]}", "role" },
			{ "POST",
			  "/api/v1/users",
			  ts->admin_token,
			  "{\"username\": \"x\", \"role\": \"viewer\", \"password\": 1234567890123}",
			  "password" },
			{ "POST", "/api/v1/api-keys", ts->admin_token, "{\"name\": {}}", "name" },
		};
		for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
			g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
										cases[i].method,
										cases[i].path,
										cases[i].token,
										cases[i].body);
			assert_error(resp, 422, "invalid_input", cases[i].member);
		}
	}
	/* a login body past its small limit */
	{
		gsize size = 64 * 1024;
		g_autofree gchar *big = g_malloc(size + 1);
		g_autoptr(AiqTestResponse) resp = NULL;
		memset(big, ' ', size);
		big[size] = '\0';
		resp = aiq_test_request_json(ts, "POST", "/api/v1/auth/login", NULL, big);
		aiq_test_assert_status(resp, 413);
	}
	/* none of it changed anything */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", user_path, ts->admin_token, NULL, NULL, 0);
		JsonObject *obj = aiq_test_response_object(resp);
		g_assert_cmpstr(aiq_json_object_get_string(obj, "role"), ==, "editor");
		g_assert_false(json_object_get_boolean_member(obj, "disabled"));
	}
}

static void
test_identity_users_pagination(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	AiqStore *store = aiq_server_get_store(ts->server);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *hash = aiq_auth_hash_password(TEST_PASSWORD, &error);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree gchar *cursor = NULL;
	guint pages = 0;
	guint expected = 0;

	g_assert_no_error(error);
	/* 120 more, on top of the fixture's three */
	for (guint i = 0; i < 120; i++) {
		g_autofree gchar *name = g_strdup_printf("user%03u", i);
		g_autoptr(AiqUser) user = aiq_store_create_user(store,
								ts->tenant_id,
								name,
								NULL,
								"viewer",
								hash,
								&error);
		g_assert_no_error(error);
		g_assert_nonnull(user);
	}
	/* and some in another tenant, which never show */
	for (guint i = 0; i < 5; i++) {
		g_autofree gchar *name = g_strdup_printf("stranger%u", i);
		g_autoptr(AiqUser) user = aiq_store_create_user(store,
								ts->other_tenant_id,
								name,
								NULL,
								"viewer",
								hash,
								&error);
		g_assert_no_error(error);
	}

	do {
		g_autofree gchar *path =
			cursor != NULL ? g_strdup_printf("/api/v1/users?cursor=%s", cursor)
				       : g_strdup("/api/v1/users");
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->admin_token, NULL, NULL, 0);
		JsonObject *obj;
		JsonArray *items;
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		items = aiq_json_object_get_array(obj, "items");
		g_assert_cmpuint(json_array_get_length(items), ==, pages < 2 ? 50 : 23);
		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonObject *user = json_array_get_object_element(items, i);
			const gchar *id = aiq_json_object_get_string(user, "id");
			const gchar *name = aiq_json_object_get_string(user, "username");
			g_assert_false(g_str_has_prefix(name, "stranger"));
			g_assert_false(g_hash_table_contains(seen, id));
			g_hash_table_add(seen, g_strdup(id));
			if (g_str_has_prefix(name, "user"))
				expected++;
		}
		g_free(cursor);
		cursor = g_strdup(aiq_json_object_get_string(obj, "next_cursor"));
		pages++;
	} while (cursor != NULL);
	g_assert_cmpuint(pages, ==, 3);
	g_assert_cmpuint(g_hash_table_size(seen), ==, 123);
	g_assert_cmpuint(expected, ==, 120);

	/* other page sizes */
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "GET",
								   "/api/v1/users?limit=1000",
								   ts->admin_token,
								   NULL,
								   NULL,
								   0);
		aiq_test_assert_status(resp, 200);
		g_assert_cmpuint(
			json_array_get_length(
				aiq_json_object_get_array(aiq_test_response_object(resp), "items")),
			==,
			123);
	}
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/users?limit=0", ts->admin_token, NULL),
			 ==,
			 400);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/users?limit=1001", ts->admin_token, NULL),
			 ==,
			 400);
	g_assert_cmpuint(status_of(ts, "GET", "/api/v1/users?cursor=%21%21", ts->admin_token, NULL),
			 ==,
			 400);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/http/identity/login", test_identity_login);
	g_test_add_func("/aiq/http/identity/login-timing", test_identity_login_timing);
	g_test_add_func("/aiq/http/identity/logout", test_identity_logout);
	g_test_add_func("/aiq/http/identity/throttle", test_identity_throttle);
	g_test_add_func("/aiq/http/identity/tenants", test_identity_tenants);
	g_test_add_func("/aiq/http/identity/suspend", test_identity_suspend);
	g_test_add_func("/aiq/http/identity/users", test_identity_users);
	g_test_add_func("/aiq/http/identity/platform-users", test_identity_platform_users);
	g_test_add_func("/aiq/http/identity/cross-tenant", test_identity_cross_tenant);
	g_test_add_func("/aiq/http/identity/api-keys", test_identity_api_keys);
	g_test_add_func("/aiq/http/identity/strict-bodies", test_identity_strict_bodies);
	g_test_add_func("/aiq/http/identity/users-pagination", test_identity_users_pagination);
	return g_test_run();
}
