/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The server's foundation: TLS, routing, authentication, limits, restarts.
 */

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "aiq-test-util.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-server-config.h"
#include "aiq-store-identity.h"
#include "aiq-store-private.h"
#include "aiq-test-db.h"
#include "aiq-test-server.h"

static void
test_server_health(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqTestResponse) health =
		aiq_test_request(ts, "GET", "/healthz", NULL, NULL, NULL, 0);
	g_autoptr(AiqTestResponse) ready =
		aiq_test_request(ts, "GET", "/readyz", NULL, NULL, NULL, 0);
	g_autoptr(AiqTestResponse) root =
		aiq_test_request(ts, "GET", "/api/v1", NULL, NULL, NULL, 0);

	aiq_test_assert_status(health, 200);
	aiq_test_assert_status(ready, 200);
	aiq_test_assert_status(root, 200);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(root), "api"),
			==,
			"v1");
	/* every answer carries a request id */
	g_assert_nonnull(soup_message_headers_get_one(health->headers, "X-Request-Id"));
}

static void
test_server_request_id(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *url = g_strdup_printf("%s/api/v1/nope", ts->url);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(JsonNode) node = NULL;

	soup_message_headers_replace(soup_message_get_request_headers(msg),
				     "X-Request-Id",
				     "trace-42");
	body = soup_session_send_and_read(ts->session, msg, NULL, NULL);
	g_assert_cmpuint(soup_message_get_status(msg), ==, 404);
	g_assert_cmpstr(soup_message_headers_get_one(soup_message_get_response_headers(msg),
						     "X-Request-Id"),
			==,
			"trace-42");
	node = aiq_json_parse(g_bytes_get_data(body, NULL), g_bytes_get_size(body), 8, NULL);
	g_assert_cmpstr(aiq_json_object_get_string(
				aiq_json_object_get_object(json_node_get_object(node), "error"),
				"request_id"),
			==,
			"trace-42");
}

static void
test_server_auth(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	AiqAuth *auth = aiq_server_get_auth(ts->server);
	AiqStore *store = aiq_server_get_store(ts->server);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTokenRow) row = NULL;
	g_autofree gchar *short_lived = NULL;
	g_autofree gchar *revoked = NULL;
	g_autofree gchar *forged = NULL;
	struct {
		const gchar *token;
		guint status;
		const gchar *code;
	} cases[] = {
		{ NULL, 401, "unauthenticated" },
		{ "garbage", 401, "unauthenticated" },
		{ "aiqs_0123456789abcdef0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		  401,
		  "unauthenticated" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", "/api/v1/me", cases[i].token, NULL, NULL, 0);
		aiq_test_assert_status(resp, cases[i].status);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, cases[i].code);
		g_assert_cmpstr(soup_message_headers_get_one(resp->headers, "WWW-Authenticate"),
				==,
				"Bearer");
	}
	/* a session works and says who it is */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", "/api/v1/me", ts->editor_token, NULL, NULL, 0);
		JsonObject *obj;
		aiq_test_assert_status(resp, 200);
		obj = aiq_test_response_object(resp);
		g_assert_cmpstr(json_object_get_string_member(obj, "role"), ==, "editor");
		g_assert_cmpstr(json_object_get_string_member(obj, "tenant"), ==, "acme");
		g_assert_cmpstr(json_object_get_string_member(obj, "name"), ==, "ed");
	}
	/* a revoked token fails at once */
	revoked = aiq_auth_issue(auth,
				 AIQ_TOKEN_KIND_API_KEY,
				 ts->tenant_id,
				 NULL,
				 "viewer",
				 "ci",
				 0,
				 NULL,
				 &row,
				 &error);
	g_assert_no_error(error);
	{
		g_autoptr(AiqTestResponse) ok =
			aiq_test_request(ts, "GET", "/api/v1/me", revoked, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) gone = NULL;
		aiq_test_assert_status(ok, 200);
		g_assert_true(aiq_store_revoke_token(store,
						     ts->tenant_id,
						     row->id,
						     AIQ_TOKEN_KIND_API_KEY,
						     &error));
		aiq_auth_invalidate(auth);
		gone = aiq_test_request(ts, "GET", "/api/v1/me", revoked, NULL, NULL, 0);
		aiq_test_assert_status(gone, 401);
		g_assert_nonnull(strstr(gone->body, "revoked"));
	}
	/* an expired one fails */
	short_lived = aiq_auth_issue(auth,
				     AIQ_TOKEN_KIND_API_KEY,
				     ts->tenant_id,
				     NULL,
				     "viewer",
				     "short",
				     1,
				     NULL,
				     NULL,
				     &error);
	g_assert_no_error(error);
	g_usleep(2000);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", "/api/v1/me", short_lived, NULL, NULL, 0);
		aiq_test_assert_status(resp, 401);
		g_assert_nonnull(strstr(resp->body, "expired"));
	}
	/* a token of one tenant with another tenant's id in it is not valid */
	forged = g_strdup(ts->admin_token);
	memcpy(forged + 5, ts->other_admin_token + 5, 32);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", "/api/v1/me", forged, NULL, NULL, 0);
		aiq_test_assert_status(resp, 401);
	}
	/* a suspended tenant's tokens are refused */
	g_assert_true(aiq_store_update_tenant(store,
					      ts->other_tenant_id,
					      NULL,
					      NULL,
					      0,
					      "suspended",
					      &error));
	aiq_auth_invalidate(auth);
	{
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "GET",
								   "/api/v1/me",
								   ts->other_admin_token,
								   NULL,
								   NULL,
								   0);
		aiq_test_assert_status(resp, 403);
		g_assert_nonnull(strstr(resp->body, "suspended"));
	}
}

static void
test_server_routes(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqTestResponse) missing =
		aiq_test_request(ts, "GET", "/api/v1/nothing", NULL, NULL, NULL, 0);
	g_autoptr(AiqTestResponse) method =
		aiq_test_request(ts, "DELETE", "/healthz", NULL, NULL, NULL, 0);
	g_autoptr(AiqTestResponse) dotdot =
		aiq_test_request(ts, "GET", "/api/v1/../healthz", NULL, NULL, NULL, 0);
	aiq_test_assert_status(missing, 404);
	g_assert_cmpstr(aiq_test_response_error_code(missing), ==, "not_found");
	aiq_test_assert_status(method, 405);
	g_assert_cmpuint(dotdot->status, !=, 500);
}

static void
test_server_body_limit(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	gsize size = 2 * 1024 * 1024;
	g_autofree gchar *big = g_malloc(size);
	g_autoptr(AiqTestResponse) resp = NULL;

	memset(big, ' ', size);
	resp = aiq_test_request(ts,
				"POST",
				"/api/v1/me",
				ts->admin_token,
				"application/json",
				big,
				(gssize)size);
	aiq_test_assert_status(resp, 413);
	g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "too_large");
	if (strstr(resp->body, "MiB limit") == NULL)
		g_error("body: %s", resp->body);
}

/* a chunked body, which gives no length up front, is cut at the limit too */
static void
test_server_body_limit_chunked(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *url = g_strdup_printf("%s/api/v1/me", ts->url);
	g_autoptr(SoupMessage) msg = soup_message_new("POST", url);
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GMemoryInputStream) stream = G_MEMORY_INPUT_STREAM(g_memory_input_stream_new());
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < 40; i++)
		g_memory_input_stream_add_data(stream, g_malloc0(64 * 1024), 64 * 1024, g_free);
	/* -1: unknown length, so libsoup sends it chunked */
	soup_message_set_request_body(msg, "application/json", G_INPUT_STREAM(stream), -1);
	reply = soup_session_send_and_read(ts->session, msg, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(soup_message_get_status(msg), ==, 413);
}

/* a client that stops talking is dropped, not waited for */
static void
test_server_slow_client(void)
{
	AiqTestServerOptions options = { .config = "idle-timeout=1" };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketConnection) conn = NULL;
	g_autoptr(GError) error = NULL;
	GOutputStream *out;
	GInputStream *in;
	gchar buf[64];
	gssize n;
	gint64 t0;

	/* plain TCP, never starting the TLS handshake */
	conn = g_socket_client_connect_to_host(client,
					       "127.0.0.1",
					       aiq_server_get_port(ts->server),
					       NULL,
					       &error);
	g_assert_no_error(error);
	out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
	g_output_stream_write_all(out, "\x16\x03", 2, NULL, NULL, NULL);
	t0 = g_get_monotonic_time();
	n = g_input_stream_read(in, buf, sizeof(buf), NULL, &error);
	/* closed (0 or an error) within a few seconds, not held open */
	g_assert_cmpint(n, <=, 0);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 10 * G_USEC_PER_SEC);
	/* and the server still answers others */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", "/healthz", NULL, NULL, NULL, 0);
		aiq_test_assert_status(resp, 200);
	}
}

/* a connection serves request after request: one TLS handshake, not one per
 * request (libsoup closes connections it was handed without listeners) */
static void
test_server_keepalive(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(SoupSession) session = soup_session_new_with_options("max-conns", 1, NULL);
	g_autoptr(GTlsDatabase) ca = NULL;
	g_autofree gchar *url = g_strdup_printf("%s/healthz", ts->url);
	g_autofree gchar *wf = g_strdup_printf("%s/api/v1/workflows", ts->url);
	g_autofree gchar *ca_path =
		g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	g_autoptr(GError) error = NULL;
	guint64 first = 0;

	ca = g_tls_file_database_new(ca_path, &error);
	g_assert_no_error(error);
	soup_session_set_tls_database(session, ca);
	/* GETs and POSTs with bodies, alternating: every body arrives whole */
	for (guint i = 0; i < 50; i++) {
		g_autoptr(SoupMessage) msg =
			soup_message_new(i % 2 ? "POST" : "GET", i % 2 ? wf : url);
		g_autoptr(GBytes) body = NULL;
		if (i % 2) {
			g_autoptr(GBytes) request = g_bytes_new_static("{\"name\": 1}", 11);
			g_autofree gchar *auth = g_strdup_printf("Bearer %s", ts->editor_token);
			soup_message_set_request_body_from_bytes(msg, "application/json", request);
			/* else libsoup sends a POST on a new connection */
			soup_message_add_flags(msg, SOUP_MESSAGE_IDEMPOTENT);
			soup_message_headers_replace(soup_message_get_request_headers(msg),
						     "Authorization",
						     auth);
		}
		body = soup_session_send_and_read(session, msg, NULL, &error);
		g_assert_no_error(error);
		/* the bad definition's problems, not "no body" */
		g_assert_cmpuint(soup_message_get_status(msg), ==, i % 2 ? 422 : 200);
		if (i == 0)
			first = soup_message_get_connection_id(msg);
		g_assert_cmpuint(soup_message_get_connection_id(msg), ==, first);
	}
}

static void
test_server_restart(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqTestResponse) before =
		aiq_test_request(ts, "GET", "/api/v1/me", ts->viewer_token, NULL, NULL, 0);
	g_autoptr(AiqTestResponse) after = NULL;
	aiq_test_assert_status(before, 200);
	aiq_test_server_restart(ts, NULL);
	after = aiq_test_request(ts, "GET", "/api/v1/me", ts->viewer_token, NULL, NULL, 0);
	aiq_test_assert_status(after, 200);
}

static void
test_server_concurrent(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	/* many requests on several connections, over both HTTP threads */
	for (guint i = 0; i < 200; i++) {
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts,
					 "GET",
					 "/api/v1/me",
					 i % 2 ? ts->admin_token : ts->viewer_token,
					 NULL,
					 NULL,
					 0);
		aiq_test_assert_status(resp, 200);
	}
}

/* a write of many rows in one savepoint: a big WAL quickly */
static gboolean
store_big_write_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	const gchar *sqls[] = {
		"CREATE TABLE IF NOT EXISTS filler (v BLOB)",
		"DELETE FROM filler",
		"INSERT INTO filler SELECT randomblob(2000) FROM "
		"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
		"WHERE i < 500) SELECT i FROM n)",
	};
	guint *round = user_data;
	for (guint i = 0; i < G_N_ELEMENTS(sqls); i++) {
		AiqStmt *stmt = aiq_store_tx_prepare(tx, sqls[i], error);
		if (stmt == NULL || !aiq_store_tx_exec(tx, stmt, "filler", error))
			return FALSE;
	}
	(*round)++;
	return TRUE;
}

/* checkpoints run off the writer, and still keep the WAL small */
static void
test_server_store_checkpoints(void)
{
	g_autofree gchar *dir = g_dir_make_tmp("aiq-store-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "store.db", NULL);
	g_autofree gchar *wal = g_strconcat(path, "-wal", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqStore) store = aiq_store_new(path, &error);
	GStatBuf st = { 0 };
	guint round = 0;

	g_assert_no_error(error);
	/* one process, one store: a second opener is refused while it is open */
	{
		g_autoptr(GError) busy = NULL;
		g_autoptr(AiqStore) second = aiq_store_new(path, &busy);
		g_assert_null(second);
		g_assert_error(busy, AIQ_ERROR, AIQ_ERROR_CONFLICT);
		g_assert_nonnull(strstr(busy->message, "in use"));
	}
	/* 60 rounds of ~1 MiB each: 60 MiB through the WAL */
	for (guint i = 0; i < 60; i++) {
		g_assert_true(aiq_store_write(store, NULL, store_big_write_cb, &round, &error));
		g_assert_no_error(error);
		/* the checkpointer gets its turn now and then, as under load */
		if (i % 10 == 9)
			g_usleep(200 * 1000);
	}
	g_assert_cmpuint(round, ==, 60);
	g_assert_cmpint(g_stat(wal, &st), ==, 0);
	/* without checkpoints the WAL would hold every round */
	g_assert_cmpint(st.st_size, <, 30 * 1024 * 1024);
	/* writes without a pause: the writer finishes a checkpoint itself
	 * before the WAL passes 16,000 pages (64 MiB) */
	for (guint i = 0; i < 120; i++) {
		g_assert_true(aiq_store_write(store, NULL, store_big_write_cb, &round, &error));
		g_assert_no_error(error);
	}
	g_assert_cmpint(g_stat(wal, &st), ==, 0);
	g_assert_cmpint(st.st_size, <, 80 * 1024 * 1024);
	g_assert_true(aiq_store_close(store, &error));
	g_assert_no_error(error);
	/* closing leaves a small WAL, and frees the store for the next one */
	g_assert_cmpint(g_stat(wal, &st) == 0 ? st.st_size : 0, <, 1024 * 1024);
	{
		g_autoptr(AiqStore) next = aiq_store_new(path, &error);
		g_assert_no_error(error);
		g_assert_nonnull(next);
	}
	aiq_test_rm_rf(dir);
}

/* the [server] configuration: every bad value is an error naming its key */
static void
test_server_config(void)
{
	const struct {
		const gchar *text;
		const gchar *error; /* NULL: loads */
	} cases[] = {
		{ "[server]\nscheduler=false\nplain-http=true\nthreads=3\n", NULL },
		{ "[server]\nscheduler=yes\n", "[server] scheduler: “yes” is not true or false" },
		{ "[server]\nplain-http=1x\n", "[server] plain-http: “1x” is not true or false" },
		{ "[server]\nthreads=0\n", "[server] threads: “0”" },
		{ "[server]\nthreds=2\n", "threds" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(AiqServerConfig) config = aiq_server_config_new();
		g_autoptr(GError) error = NULL;
		gboolean ok = aiq_server_config_load_data(config,
							  cases[i].text,
							  strlen(cases[i].text),
							  NULL,
							  &error);
		if (cases[i].error == NULL) {
			g_assert_no_error(error);
			g_assert_true(ok);
			g_assert_false(config->scheduler);
			g_assert_true(config->plain_http);
			g_assert_cmpuint(config->threads, ==, 3);
		} else {
			g_assert_false(ok);
			g_assert_nonnull(error);
			if (strstr(error->message, cases[i].error) == NULL)
				g_error("case %u: “%s” lacks “%s”",
					i,
					error->message,
					cases[i].error);
		}
	}
}

/* a store of an older schema is brought up to date at open, in order */
static void
test_server_store_migrate(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqTestDb) db = NULL;
	g_autoptr(GPtrArray) tables = NULL;
	g_autoptr(GPtrArray) indexes = NULL;
	g_autoptr(GPtrArray) columns = NULL;
	g_autofree gchar *message = NULL;

	/* back to schema 1, as a server of the first release left it */
	aiq_server_stop(ts->server);
	db = aiq_test_db_open(ts);
	aiq_test_db_exec(db,
			 "DROP INDEX executions_workflow_status;"
			 "DROP INDEX jobs_leased;"
			 "DROP INDEX jobs_leased_execution;"
			 "DROP TABLE audit_log;"
			 "DROP TABLE usage_daily;"
			 "DROP TABLE execution_archive;"
			 "ALTER TABLE tenants DROP COLUMN limits;"
			 "UPDATE schema_version SET version = 1");
	/* PostgreSQL's trigger calls a function, which outlives the table */
	if (aiq_test_db_get_backend(db) == AIQ_DB_POSTGRES)
		aiq_test_db_exec(db, "DROP FUNCTION audit_log_append_only()");
	g_clear_pointer(&db, aiq_test_db_close);

	aiq_test_server_restart(ts, NULL);
	db = aiq_test_db_open(ts);
	g_assert_cmpint(aiq_test_db_count(db, "SELECT version FROM schema_version"), >=, 4);
	indexes = aiq_test_db_indexes(db);
	g_assert_true(g_ptr_array_find_with_equal_func(indexes,
						       "executions_workflow_status",
						       g_str_equal,
						       NULL));
	g_assert_true(g_ptr_array_find_with_equal_func(indexes, "jobs_leased", g_str_equal, NULL));
	g_assert_true(g_ptr_array_find_with_equal_func(indexes,
						       "jobs_leased_execution",
						       g_str_equal,
						       NULL));
	tables = aiq_test_db_tables(db);
	g_assert_true(g_ptr_array_find_with_equal_func(tables, "audit_log", g_str_equal, NULL));
	g_assert_true(g_ptr_array_find_with_equal_func(tables, "usage_daily", g_str_equal, NULL));
	g_assert_true(
		g_ptr_array_find_with_equal_func(tables, "execution_archive", g_str_equal, NULL));
	columns = aiq_test_db_columns(db, "tenants");
	g_assert_true(g_ptr_array_find_with_equal_func(columns, "limits", g_str_equal, NULL));
	/* the audit log is append-only again */
	aiq_test_db_exec(db,
			 "INSERT INTO audit_log (tenant_id, id, time, actor_type, action, outcome) "
			 "VALUES (?1, 'migrated', 0, 'system', 'test', 'success')",
			 AIQ_TEST_DB_TEXT(ts->tenant_id));
	message = aiq_test_db_exec_error(db, "UPDATE audit_log SET outcome = 'denied'");
	g_assert_cmpstr(message, ==, "the audit log is append-only");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/server/config", test_server_config);
	g_test_add_func("/aiq/server/health", test_server_health);
	g_test_add_func("/aiq/server/request-id", test_server_request_id);
	g_test_add_func("/aiq/server/auth", test_server_auth);
	g_test_add_func("/aiq/server/routes", test_server_routes);
	g_test_add_func("/aiq/server/body-limit", test_server_body_limit);
	g_test_add_func("/aiq/server/body-limit-chunked", test_server_body_limit_chunked);
	g_test_add_func("/aiq/server/slow-client", test_server_slow_client);
	g_test_add_func("/aiq/server/keepalive", test_server_keepalive);
	g_test_add_func("/aiq/server/restart", test_server_restart);
	g_test_add_func("/aiq/server/concurrent", test_server_concurrent);
	/* SQLite's own: its WAL's checkpoints and the store file's lock */
	if (aiq_test_db_backend() == AIQ_DB_SQLITE)
		g_test_add_func("/aiq/server/store-checkpoints", test_server_store_checkpoints);
	g_test_add_func("/aiq/server/store-migrate", test_server_store_migrate);
	return g_test_run();
}
