/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <string.h>

#include "aiq-test-util.h"
#include "aiq-error.h"
#include "aiq-document.h"
#include "aiq-json.h"
#include "aiq-store-identity.h"
#include "aiq-test-pg.h"
#include "aiq-test-server.h"

/* a strong password for test users */
#define AIQ_TEST_PASSWORD "test-password-123"

static gint64
aiq_test_server_clock(gpointer user_data)
{
	AiqTestServer *ts = user_data;
	return ts->now;
}

static void
aiq_test_server_start(AiqTestServer *ts, const AiqTestServerOptions *options)
{
	g_autoptr(GError) error = NULL;
	AiqServerConfig *config = aiq_server_config_new();
	const gchar *srcdir = g_getenv("G_TEST_SRCDIR");
	g_autofree gchar *extra = NULL;

	g_assert_nonnull(srcdir);
	if (options != NULL && options->config != NULL) {
		extra = g_strdup_printf("[server]\n%s\n", options->config);
		g_assert_true(
			aiq_server_config_load_data(config, extra, strlen(extra), NULL, &error));
		g_assert_no_error(error);
	}
	if (options == NULL || !options->real_limits) {
		for (guint t = 0; t < AIQ_TIER_LAST; t++) {
			for (guint l = 0; l < AIQ_LIMIT_LAST; l++) {
				if (l != AIQ_LIMIT_RETENTION_DAYS)
					config->tier_limits[t].values[l] = aiq_limit_max(l);
			}
		}
		config->address_requests_per_minute = G_MAXINT32;
		config->address_burst = G_MAXINT32;
	}
	if (options != NULL && options->limits != NULL) {
		g_assert_true(aiq_server_config_load_data(config,
							  options->limits,
							  strlen(options->limits),
							  NULL,
							  &error));
		g_assert_no_error(error);
	}
	g_free(config->listen);
	config->listen = g_strdup("127.0.0.1");
	config->port = 0;
	config->threads = 2;
	config->workers = 16;
	config->scheduler = options != NULL && options->scheduler;
	/* tests run retention passes themselves (aiq_retention_run) */
	config->retention = FALSE;
	config->data_dir = g_strdup(ts->dir);
	if (aiq_test_pg_enabled()) {
		g_autofree gchar *lines = aiq_test_pg_server_config(ts->dir);
		g_autofree gchar *pg = g_strdup_printf("[server]\n%s", lines);
		g_assert_true(aiq_server_config_load_data(config, pg, strlen(pg), NULL, &error));
		g_assert_no_error(error);
	}
	if (options != NULL && options->plain_http) {
		config->plain_http = TRUE;
	} else {
		config->tls_cert = g_build_filename(srcdir, "ca", "server.pem", NULL);
		config->tls_key = g_build_filename(srcdir, "ca", "server-key.pem", NULL);
	}
	ts->server = aiq_server_new(config, &error);
	g_assert_no_error(error);
	g_assert_nonnull(ts->server);
	if (options != NULL && options->fake_clock)
		aiq_server_set_clock(ts->server, aiq_test_server_clock, ts);
	g_assert_true(aiq_server_start(ts->server, &error));
	g_assert_no_error(error);
	g_free(ts->url);
	ts->url = g_strdup_printf("%s://127.0.0.1:%u",
				  options != NULL && options->plain_http ? "http" : "https",
				  aiq_server_get_port(ts->server));
}

/**
 * aiq_test_server_add_user:
 *
 * Returns: (transfer full): a session token of a new user with @role
 */
gchar *
aiq_test_server_add_user(AiqTestServer *ts,
			 const gchar *tenant_id,
			 const gchar *username,
			 const gchar *role,
			 const gchar *password)
{
	AiqStore *store = aiq_server_get_store(ts->server);
	AiqAuth *auth = aiq_server_get_auth(ts->server);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *hash =
		aiq_auth_hash_password(password != NULL ? password : AIQ_TEST_PASSWORD, &error);
	g_autoptr(AiqUser) user = NULL;
	gchar *token;

	g_assert_no_error(error);
	user = aiq_store_create_user(store, tenant_id, username, username, role, hash, &error);
	g_assert_no_error(error);
	token = aiq_auth_issue(auth,
			       AIQ_TOKEN_KIND_SESSION,
			       tenant_id,
			       user->id,
			       NULL,
			       username,
			       ts->token_ttl_us,
			       NULL,
			       NULL,
			       &error);
	g_assert_no_error(error);
	return token;
}

/**
 * aiq_test_server_add_tenant:
 *
 * Returns: (transfer full): the new tenant's id
 */
gchar *
aiq_test_server_add_tenant(AiqTestServer *ts,
			   const gchar *slug,
			   const gchar *tier,
			   gchar **admin_token)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTenant) tenant = aiq_store_create_tenant(aiq_server_get_store(ts->server),
							      slug,
							      slug,
							      tier,
							      30,
							      &error);
	g_autofree gchar *username = g_strdup_printf("%s-admin", slug);
	g_assert_no_error(error);
	if (admin_token != NULL)
		*admin_token =
			aiq_test_server_add_user(ts, tenant->id, username, "tenant_admin", NULL);
	return g_strdup(tenant->id);
}

/**
 * aiq_test_server_new:
 * @options: (nullable): a fake clock, the scheduler, a data directory
 *
 * Starts the server and makes: the platform tenant with a platform admin;
 * tenant "acme" with an admin, an editor and a viewer; tenant "other" with
 * an admin.
 */
AiqTestServer *
aiq_test_server_new(const AiqTestServerOptions *options)
{
	AiqTestServer *ts = g_new0(AiqTestServer, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsDatabase) db = NULL;
	g_autofree gchar *ca = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	gboolean fresh = options == NULL || options->data_dir == NULL;

	ts->now = (gint64)1798761600 * G_USEC_PER_SEC; /* 2027-01-01T00:00:00Z */
	ts->token_ttl_us = options != NULL && options->lasting ? 0 : (gint64)3600 * G_USEC_PER_SEC;
	if (fresh) {
		ts->dir = g_dir_make_tmp("aiq-server-XXXXXX", &error);
		g_assert_no_error(error);
		ts->own_dir = TRUE;
	} else {
		ts->dir = g_strdup(options->data_dir);
	}
	aiq_test_server_start(ts, options);

	db = g_tls_file_database_new(ca, &error);
	g_assert_no_error(error);
	ts->session = soup_session_new_with_options("tls-database", db, "timeout", 60, NULL);

	if (fresh) {
		g_autofree gchar *platform_id =
			aiq_test_server_add_tenant(ts, "platform", "enterprise", NULL);
		ts->platform_token =
			aiq_test_server_add_user(ts, platform_id, "root", "platform_admin", NULL);
		ts->tenant_id =
			aiq_test_server_add_tenant(ts, "acme", "standard", &ts->admin_token);
		ts->editor_token =
			aiq_test_server_add_user(ts, ts->tenant_id, "ed", "editor", NULL);
		ts->viewer_token =
			aiq_test_server_add_user(ts, ts->tenant_id, "vi", "viewer", NULL);
		ts->other_tenant_id =
			aiq_test_server_add_tenant(ts, "other", "standard", &ts->other_admin_token);
	}
	return ts;
}

/**
 * aiq_test_server_restart:
 *
 * Stops the server and starts it again on the same data directory (and a
 * new port); tokens stay valid.
 */
void
aiq_test_server_restart(AiqTestServer *ts, const AiqTestServerOptions *options)
{
	aiq_server_stop(ts->server);
	g_clear_object(&ts->server);
	aiq_test_server_start(ts, options);
}

void
aiq_test_server_free(AiqTestServer *ts)
{
	if (ts == NULL)
		return;
	if (ts->server != NULL)
		aiq_server_stop(ts->server);
	g_clear_object(&ts->server);
	g_clear_object(&ts->session);
	if (ts->own_dir) {
		aiq_test_pg_drop(ts->dir);
		aiq_test_rm_rf(ts->dir);
	}
	g_free(ts->dir);
	g_free(ts->url);
	g_free(ts->platform_token);
	g_free(ts->tenant_id);
	g_free(ts->admin_token);
	g_free(ts->editor_token);
	g_free(ts->viewer_token);
	g_free(ts->other_tenant_id);
	g_free(ts->other_admin_token);
	g_free(ts);
}

static AiqTestResponse *
aiq_test_send(AiqTestServer *ts,
	      const gchar *method,
	      const gchar *path,
	      const gchar *token,
	      const gchar *content_type,
	      const gchar *body,
	      gsize body_len,
	      gboolean lenient)
{
	g_autofree gchar *url = g_strdup_printf("%s%s", ts->url, path);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) reply = NULL;
	AiqTestResponse *resp = g_new0(AiqTestResponse, 1);
	gsize len = 0;
	const gchar *data;

	g_assert_nonnull(msg);
	if (token != NULL) {
		g_autofree gchar *value = g_strdup_printf("Bearer %s", token);
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "Authorization",
					     value);
	}
	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new(body, body_len);
		soup_message_set_request_body_from_bytes(msg, content_type, bytes);
		if (content_type == NULL && lenient)
			soup_message_headers_remove(soup_message_get_request_headers(msg),
						    "Content-Type");
	}
	reply = soup_session_send_and_read(ts->session, msg, NULL, &error);
	resp->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	if (reply == NULL && lenient) {
		resp->body = g_strdup_printf("(no answer: %s)", error->message);
		return resp;
	}
	g_assert_no_error(error);
	resp->status = soup_message_get_status(msg);
	data = g_bytes_get_data(reply, &len);
	resp->body = g_strndup(data, len);
	if (len > 0) {
		const gchar *ct = soup_message_headers_get_content_type(resp->headers, NULL);
		if (g_strcmp0(ct, "application/json") == 0) {
			resp->json = aiq_json_parse(resp->body, len, 256, lenient ? NULL : &error);
			g_assert_no_error(error);
		}
	}
	return resp;
}

/**
 * aiq_test_request:
 * @token: (nullable): sent as a bearer token
 * @body: (nullable): the body, @body_len bytes (-1: a string)
 */
AiqTestResponse *
aiq_test_request(AiqTestServer *ts,
		 const gchar *method,
		 const gchar *path,
		 const gchar *token,
		 const gchar *content_type,
		 const gchar *body,
		 gssize body_len)
{
	gsize len = body == NULL ? 0 : body_len >= 0 ? (gsize)body_len : strlen(body);
	return aiq_test_send(ts, method, path, token, content_type, body, len, FALSE);
}

AiqTestResponse *
aiq_test_request_lenient(AiqTestServer *ts,
			 const gchar *method,
			 const gchar *path,
			 const gchar *token,
			 const gchar *content_type,
			 const gchar *body,
			 gsize body_len)
{
	return aiq_test_send(ts, method, path, token, content_type, body, body_len, TRUE);
}

/* docs/openapi.yaml, from the source tree */
JsonNode *
aiq_test_load_openapi(void)
{
	g_autofree gchar *path =
		g_build_filename(g_getenv("G_TEST_SRCDIR"), "..", "docs", "openapi.yaml", NULL);
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	JsonNode *doc;

	if (!g_file_get_contents(path, &text, &len, &error))
		g_error("cannot read %s: %s", path, error->message);
	doc = aiq_document_parse(text, len, AIQ_DOCUMENT_FORMAT_YAML, NULL, &error);
	if (doc == NULL)
		g_error("%s does not parse: %s", path, error->message);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(doc));
	return doc;
}

AiqTestResponse *
aiq_test_request_json(AiqTestServer *ts,
		      const gchar *method,
		      const gchar *path,
		      const gchar *token,
		      const gchar *json)
{
	return aiq_test_request(ts,
				method,
				path,
				token,
				json != NULL ? "application/json" : NULL,
				json,
				-1);
}

void
aiq_test_response_free(AiqTestResponse *resp)
{
	if (resp == NULL)
		return;
	soup_message_headers_unref(resp->headers);
	g_free(resp->body);
	if (resp->json != NULL)
		json_node_unref(resp->json);
	g_free(resp);
}

/**
 * aiq_test_response_error_code:
 *
 * Returns: (nullable): error.code of an error response
 */
const gchar *
aiq_test_response_error_code(AiqTestResponse *resp)
{
	JsonObject *error;
	if (resp->json == NULL || !JSON_NODE_HOLDS_OBJECT(resp->json))
		return NULL;
	error = aiq_json_object_get_object(json_node_get_object(resp->json), "error");
	return aiq_json_object_get_string(error, "code");
}

JsonObject *
aiq_test_response_object(AiqTestResponse *resp)
{
	g_assert_nonnull(resp->json);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(resp->json));
	return json_node_get_object(resp->json);
}

/* fails with the body shown, which is what one wants to see */
void
aiq_test_assert_status(AiqTestResponse *resp, guint status)
{
	if (resp->status != status)
		g_error("expected HTTP %u, got %u: %s", status, resp->status, resp->body);
}

/**
 * aiq_test_create_workflow:
 * @json: a definition
 *
 * Returns: (transfer full): the id of the workflow made (asserted 201)
 */
gchar *
aiq_test_create_workflow(AiqTestServer *ts, const gchar *token, const gchar *json)
{
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(ts, "POST", "/api/v1/workflows", token, json);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

/**
 * aiq_test_start_at:
 * @body: (nullable): the start's body
 * @created_us: the server's (fake) clock at the start
 *
 * Returns: (transfer full): the id of the execution started (asserted 201)
 */
gchar *
aiq_test_start_at(AiqTestServer *ts,
		  const gchar *token,
		  const gchar *workflow_id,
		  const gchar *body,
		  gint64 created_us)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
	g_autoptr(AiqTestResponse) resp = NULL;
	ts->now = created_us;
	resp = aiq_test_request_json(ts, "POST", path, token, body);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}
