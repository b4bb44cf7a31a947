/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Live events over WebSocket: authentication before the upgrade, tenancy,
 * order, fan-out over both HTTP threads, subscribers that fall behind,
 * closing, publishing from several threads.
 *
 * The clients run on a GMainLoop in the test thread; the server runs on its
 * own threads.
 */

#include "config.h"

#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>

#include "aiq-broker-private.h"
#include "aiq-json.h"
#include "aiq-store-identity.h"
#include "aiq-test-server.h"
#include "aiq-util.h"

#define EV_TIMEOUT_S 60

/* waiting, with the test thread's main loop running the clients */

typedef gboolean (*EvCondFunc)(gpointer data);

typedef struct {
	GMainLoop *loop;
	EvCondFunc func;
	gpointer data;
	gint64 deadline;
	gboolean timed_out;
} EvWait;

static gboolean
ev_wait_check_cb(gpointer user_data)
{
	EvWait *wait = user_data;
	if (wait->func != NULL && wait->func(wait->data)) {
		g_main_loop_quit(wait->loop);
		return G_SOURCE_REMOVE;
	}
	if (g_get_monotonic_time() >= wait->deadline) {
		wait->timed_out = wait->func != NULL;
		g_main_loop_quit(wait->loop);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* runs the loop until @func is true, or for @seconds with no @func */
static void
ev_run(EvCondFunc func, gpointer data, guint seconds, const gchar *what)
{
	EvWait wait = { .func = func, .data = data };
	GSource *source;

	if (func != NULL && func(data))
		return;
	wait.loop = g_main_loop_new(NULL, FALSE);
	wait.deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
	source = g_timeout_source_new(2);
	g_source_set_callback(source, ev_wait_check_cb, &wait, NULL);
	g_source_attach(source, NULL);
	g_main_loop_run(wait.loop);
	g_source_destroy(source);
	g_source_unref(source);
	g_main_loop_unref(wait.loop);
	if (wait.timed_out)
		g_error("timed out waiting for %s", what);
}

static void
ev_wait(EvCondFunc func, gpointer data, const gchar *what)
{
	ev_run(func, data, EV_TIMEOUT_S, what);
}

/* a WebSocket client, libsoup's */

typedef struct {
	SoupMessage *msg;
	SoupWebsocketConnection *conn;
	GError *error;
	gboolean done;
	GPtrArray *messages; /* of JsonNode */
	gboolean closed;
	gushort close_code;
	gchar *close_data;
	guint want; /* for ev_client_wait_messages() */
} EvClient;

static void
ev_client_free(EvClient *client)
{
	if (client == NULL)
		return;
	if (client->conn != NULL) {
		g_signal_handlers_disconnect_by_data(client->conn, client);
		g_object_unref(client->conn);
	}
	g_clear_object(&client->msg);
	g_clear_error(&client->error);
	g_ptr_array_unref(client->messages);
	g_free(client->close_data);
	g_free(client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(EvClient, ev_client_free)

static void
ev_client_message_cb(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer user_data)
{
	EvClient *client = user_data;
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const gchar *data = g_bytes_get_data(message, &len);
	JsonNode *node;

	g_assert_cmpint(type, ==, SOUP_WEBSOCKET_DATA_TEXT);
	node = aiq_json_parse(data, len, 64, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	g_ptr_array_add(client->messages, node);
}

static void
ev_client_closed_cb(SoupWebsocketConnection *conn, gpointer user_data)
{
	EvClient *client = user_data;
	client->closed = TRUE;
	client->close_code = soup_websocket_connection_get_close_code(conn);
	client->close_data = g_strdup(soup_websocket_connection_get_close_data(conn));
}

static void
ev_client_connect_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	EvClient *client = user_data;
	client->conn =
		soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &client->error);
	client->done = TRUE;
	if (client->conn == NULL)
		return;
	g_signal_connect(client->conn, "message", G_CALLBACK(ev_client_message_cb), client);
	g_signal_connect(client->conn, "closed", G_CALLBACK(ev_client_closed_cb), client);
}

static gboolean
ev_client_is_done(gpointer data)
{
	return ((EvClient *)data)->done;
}

/**
 * ev_client_start:
 * @token: (nullable): sent as a bearer token, in the header or as
 *   `?access_token=` with @in_query
 *
 * Returns: a client whose handshake is finished, well or not (@conn, or
 * @error and the status of @msg)
 */
static EvClient *
ev_client_start(AiqTestServer *ts, const gchar *token, gboolean in_query)
{
	EvClient *client = g_new0(EvClient, 1);
	g_autofree gchar *url = NULL;

	if (token != NULL && in_query) {
		g_autofree gchar *escaped = g_uri_escape_string(token, NULL, TRUE);
		url = g_strdup_printf("%s/api/v1/events?access_token=%s", ts->url, escaped);
	} else {
		url = g_strdup_printf("%s/api/v1/events", ts->url);
	}
	client->messages = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
	client->msg = soup_message_new("GET", url);
	if (token != NULL && !in_query) {
		g_autofree gchar *value = g_strdup_printf("Bearer %s", token);
		soup_message_headers_replace(soup_message_get_request_headers(client->msg),
					     "Authorization",
					     value);
	}
	soup_session_websocket_connect_async(ts->session,
					     client->msg,
					     NULL,
					     NULL,
					     G_PRIORITY_DEFAULT,
					     NULL,
					     ev_client_connect_cb,
					     client);
	ev_wait(ev_client_is_done, client, "the WebSocket handshake");
	return client;
}

/* a client that must connect */
static EvClient *
ev_client_new(AiqTestServer *ts, const gchar *token, gboolean in_query)
{
	EvClient *client = ev_client_start(ts, token, in_query);
	g_assert_no_error(client->error);
	g_assert_nonnull(client->conn);
	g_assert_cmpuint(soup_message_get_status(client->msg), ==, 101);
	return client;
}

static gboolean
ev_client_has_wanted(gpointer data)
{
	EvClient *client = data;
	return client->messages->len >= client->want || client->closed;
}

static void
ev_client_wait_messages(EvClient *client, guint n)
{
	client->want = n;
	ev_wait(ev_client_has_wanted, client, "events");
	if (client->messages->len < n)
		g_error("the client was closed (%u %s) after %u of %u events",
			client->close_code,
			client->close_data,
			client->messages->len,
			n);
}

static gboolean
ev_client_is_closed(gpointer data)
{
	return ((EvClient *)data)->closed;
}

static void
ev_client_wait_closed(EvClient *client)
{
	ev_wait(ev_client_is_closed, client, "the connection to close");
}

static JsonObject *
ev_client_get(EvClient *client, guint i)
{
	g_assert_cmpuint(i, <, client->messages->len);
	return json_node_get_object(g_ptr_array_index(client->messages, i));
}

static gint64
ev_client_get_seq(EvClient *client, guint i)
{
	JsonObject *data = aiq_json_object_get_object(ev_client_get(client, i), "data");
	g_assert_nonnull(data);
	return aiq_json_object_get_int(data, "seq", -1);
}

/* the server's side */

typedef struct {
	AiqTestServer *ts;
	const gchar *tenant_id;
	guint n;
} EvCount;

static gboolean
ev_count_reached(gpointer data)
{
	EvCount *count = data;
	return aiq_broker_count_subscribers(aiq_broker_get(count->ts->server),
					    count->tenant_id,
					    NULL) == count->n;
}

/* the server runs the WebSocket callback after writing the 101, so a client
 * can see the 101 before it is subscribed */
static void
ev_wait_subscribers(AiqTestServer *ts, const gchar *tenant_id, guint n)
{
	EvCount count = { ts, tenant_id, n };
	ev_wait(ev_count_reached, &count, "subscribers");
}

static guint
ev_count_subscribers(AiqTestServer *ts, const gchar *tenant_id)
{
	return aiq_broker_count_subscribers(aiq_broker_get(ts->server), tenant_id, NULL);
}

/* an event with data {seq, pad?} */
static void
ev_publish(AiqTestServer *ts, const gchar *tenant_id, gint64 seq, gsize pad)
{
	JsonObject *obj = json_object_new();
	g_autoptr(JsonNode) data = NULL;

	json_object_set_int_member(obj, "seq", seq);
	if (pad > 0) {
		g_autofree gchar *text = g_malloc(pad + 1);
		memset(text, 'x', pad);
		text[pad] = '\0';
		json_object_set_string_member(obj, "pad", text);
	}
	data = aiq_json_new_object(obj);
	aiq_broker_publish(ts->server, tenant_id, "execution.updated", data);
}

/* a raw client: TLS and the handshake by hand, for what libsoup's client
 * will not do (show a refused handshake's body, never read) */

typedef struct {
	GSocketConnection *tcp;
	GIOStream *tls;
	guint status;
	gchar **headers; /* lines */
	gchar *body;
} EvRaw;

static void
ev_raw_free(EvRaw *raw)
{
	if (raw == NULL)
		return;
	if (raw->tls != NULL)
		g_io_stream_close(raw->tls, NULL, NULL);
	g_clear_object(&raw->tls);
	g_clear_object(&raw->tcp);
	g_strfreev(raw->headers);
	g_free(raw->body);
	g_free(raw);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(EvRaw, ev_raw_free)

static const gchar *
ev_raw_get_header(EvRaw *raw, const gchar *name)
{
	gsize len = strlen(name);
	for (guint i = 0; raw->headers[i] != NULL; i++) {
		if (g_ascii_strncasecmp(raw->headers[i], name, len) == 0 &&
		    raw->headers[i][len] == ':')
			return g_strchug(raw->headers[i] + len + 1);
	}
	return NULL;
}

/**
 * ev_raw_connect:
 * @path_query: e.g. `/api/v1/events`
 * @headers: more request headers, each ending in CRLF
 *
 * Sends the request and reads the answer's head (and its body, when it is
 * not a 101).
 */
static EvRaw *
ev_raw_connect(AiqTestServer *ts, const gchar *path_query, const gchar *headers)
{
	guint16 port = aiq_server_get_port(ts->server);
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GSocketAddress) address =
		g_inet_socket_address_new_from_string("127.0.0.1", port);
	g_autofree gchar *ca = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	g_autoptr(GTlsDatabase) db = NULL;
	g_autofree gchar *request = NULL;
	g_autoptr(GString) head = g_string_new(NULL);
	EvRaw *raw = g_new0(EvRaw, 1);
	GInputStream *in;
	const gchar *length;

	socket = g_socket_new(G_SOCKET_FAMILY_IPV4,
			      G_SOCKET_TYPE_STREAM,
			      G_SOCKET_PROTOCOL_TCP,
			      &error);
	g_assert_no_error(error);
	/* a small window, so a client that does not read is full soon; and no
	 * test hangs on a read */
	g_assert_true(g_socket_set_option(socket, SOL_SOCKET, SO_RCVBUF, 4096, &error));
	g_socket_set_timeout(socket, EV_TIMEOUT_S);
	g_assert_true(g_socket_connect(socket, address, NULL, &error));
	g_assert_no_error(error);
	raw->tcp = g_socket_connection_factory_create_connection(socket);
	raw->tls = g_tls_client_connection_new(G_IO_STREAM(raw->tcp),
					       G_SOCKET_CONNECTABLE(address),
					       &error);
	g_assert_no_error(error);
	db = g_tls_file_database_new(ca, &error);
	g_assert_no_error(error);
	g_tls_connection_set_database(G_TLS_CONNECTION(raw->tls), db);
	g_assert_true(g_tls_connection_handshake(G_TLS_CONNECTION(raw->tls), NULL, &error));

	request = g_strdup_printf("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s\r\n",
				  path_query,
				  port,
				  headers);
	g_assert_true(g_output_stream_write_all(g_io_stream_get_output_stream(raw->tls),
						request,
						strlen(request),
						NULL,
						NULL,
						&error));
	in = g_io_stream_get_input_stream(raw->tls);
	/* the head, a byte at a time: not one byte of a frame after it */
	while (!g_str_has_suffix(head->str, "\r\n\r\n")) {
		gchar c;
		gssize n = g_input_stream_read(in, &c, 1, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpint(n, ==, 1);
		g_string_append_c(head, c);
		g_assert_cmpuint(head->len, <, 16384);
	}
	g_string_truncate(head, head->len - 4);
	raw->headers = g_strsplit(head->str, "\r\n", -1);
	g_assert_true(g_str_has_prefix(raw->headers[0], "HTTP/1.1 "));
	raw->status = (guint)g_ascii_strtoull(raw->headers[0] + 9, NULL, 10);
	length = ev_raw_get_header(raw, "Content-Length");
	if (raw->status != 101 && length != NULL) {
		gsize len = (gsize)g_ascii_strtoull(length, NULL, 10);
		raw->body = g_malloc0(len + 1);
		g_assert_true(g_input_stream_read_all(in, raw->body, len, NULL, NULL, &error));
	}
	return raw;
}

/* the upgrade request of a browser, less its token */
static gchar *
ev_raw_upgrade_headers(const gchar *token)
{
	return g_strdup_printf("Upgrade: websocket\r\n"
			       "Connection: Upgrade\r\n"
			       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			       "Sec-WebSocket-Version: 13\r\n"
			       "%s%s%s",
			       token != NULL ? "Authorization: Bearer " : "",
			       token != NULL ? token : "",
			       token != NULL ? "\r\n" : "");
}

static const gchar *
ev_raw_error_code(EvRaw *raw)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonObject *obj;
	static gchar code[64];

	g_assert_nonnull(raw->body);
	g_assert_cmpstr(ev_raw_get_header(raw, "Content-Type"), ==, "application/json");
	node = aiq_json_parse(raw->body, strlen(raw->body), 8, &error);
	g_assert_no_error(error);
	obj = aiq_json_object_get_object(json_node_get_object(node), "error");
	g_assert_nonnull(obj);
	g_assert_nonnull(aiq_json_object_get_string(obj, "request_id"));
	g_strlcpy(code, aiq_json_object_get_string(obj, "code"), sizeof(code));
	return code;
}

/* the next frame from the server: its opcode; its payload in @payload */
static guint8
ev_raw_read_frame(EvRaw *raw, GByteArray *payload)
{
	GInputStream *in = g_io_stream_get_input_stream(raw->tls);
	g_autoptr(GError) error = NULL;
	guint8 head[2];
	guint8 ext[8];
	guint64 len;

	g_assert_true(g_input_stream_read_all(in, head, 2, NULL, NULL, &error));
	g_assert_no_error(error);
	/* a server does not mask */
	g_assert_cmpuint(head[1] & 0x80, ==, 0);
	len = head[1] & 0x7f;
	if (len == 126) {
		g_assert_true(g_input_stream_read_all(in, ext, 2, NULL, NULL, &error));
		len = (guint64)ext[0] << 8 | ext[1];
	} else if (len == 127) {
		g_assert_true(g_input_stream_read_all(in, ext, 8, NULL, NULL, &error));
		len = 0;
		for (guint i = 0; i < 8; i++)
			len = len << 8 | ext[i];
	}
	g_assert_cmpuint(len, <, 1024 * 1024);
	g_byte_array_set_size(payload, (guint)len);
	g_assert_true(g_input_stream_read_all(in, payload->data, (gsize)len, NULL, NULL, &error));
	g_assert_no_error(error);
	return head[0] & 0x0f;
}

/* tests */

/* a subscriber with the token in the header gets its tenant's events, in
 * the documented shape */
static void
test_events_header(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(EvClient) client = ev_client_new(ts, ts->viewer_token, FALSE);
	g_autofree gchar *time = NULL;
	JsonObject *msg;
	JsonObject *data;
	JsonObject *obj = json_object_new();
	g_autoptr(JsonNode) node = NULL;

	/* the 101 carries a request id, as every answer does */
	g_assert_nonnull(
		soup_message_headers_get_one(soup_message_get_response_headers(client->msg),
					     "X-Request-Id"));
	/* no permessage-deflate, which libsoup's client offers */
	g_assert_null(soup_websocket_connection_get_extensions(client->conn));
	ev_wait_subscribers(ts, ts->tenant_id, 1);

	json_object_set_string_member(obj, "id", "0196f3c2-0000-7000-8000-000000000001");
	json_object_set_string_member(obj, "status", "running");
	node = aiq_json_new_object(obj);
	ts->now += 1234567;
	aiq_broker_publish(ts->server, ts->tenant_id, "execution.updated", node);
	ev_client_wait_messages(client, 1);

	msg = ev_client_get(client, 0);
	g_assert_cmpuint(json_object_get_size(msg), ==, 4);
	g_assert_cmpstr(aiq_json_object_get_string(msg, "type"), ==, "execution.updated");
	g_assert_cmpstr(aiq_json_object_get_string(msg, "tenant_id"), ==, ts->tenant_id);
	time = aiq_time_to_iso8601(ts->now);
	g_assert_cmpstr(aiq_json_object_get_string(msg, "time"), ==, time);
	data = aiq_json_object_get_object(msg, "data");
	g_assert_nonnull(data);
	g_assert_cmpstr(aiq_json_object_get_string(data, "status"), ==, "running");
	g_assert_cmpstr(aiq_json_object_get_string(data, "id"),
			==,
			"0196f3c2-0000-7000-8000-000000000001");

	/* data may be absent */
	aiq_broker_publish(ts->server, ts->tenant_id, "agent.updated", NULL);
	ev_client_wait_messages(client, 2);
	g_assert_true(json_object_get_null_member(ev_client_get(client, 1), "data"));
}

/* browsers cannot set headers: ?access_token= works too, for every role
 * from viewer up */
static void
test_events_access_token(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	const gchar *tokens[] = { ts->viewer_token, ts->editor_token, ts->admin_token };
	EvClient *clients[G_N_ELEMENTS(tokens)];

	for (guint i = 0; i < G_N_ELEMENTS(tokens); i++)
		clients[i] = ev_client_new(ts, tokens[i], TRUE);
	ev_wait_subscribers(ts, ts->tenant_id, G_N_ELEMENTS(tokens));
	ev_publish(ts, ts->tenant_id, 7, 0);
	for (guint i = 0; i < G_N_ELEMENTS(tokens); i++) {
		ev_client_wait_messages(clients[i], 1);
		g_assert_cmpint(ev_client_get_seq(clients[i], 0), ==, 7);
		ev_client_free(clients[i]);
	}
}

/* refusals are HTTP answers before the upgrade, in the API's error shape */
static void
test_events_refused(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	AiqAuth *auth = aiq_server_get_auth(ts->server);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *agent_token = NULL;
	struct {
		const gchar *token;
		gboolean in_query;
		guint status;
	} cases[] = {
		{ NULL, FALSE, 401 },     { "garbage", FALSE, 401 },
		{ "garbage", TRUE, 401 }, { NULL, FALSE, 403 }, /* the agent's */
		{ NULL, TRUE, 403 },
	};

	agent_token = aiq_auth_issue(auth,
				     AIQ_TOKEN_KIND_AGENT,
				     ts->tenant_id,
				     NULL,
				     NULL,
				     "agent-1",
				     0,
				     NULL,
				     NULL,
				     &error);
	g_assert_no_error(error);
	cases[3].token = agent_token;
	cases[4].token = agent_token;
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(EvClient) client = ev_client_start(ts, cases[i].token, cases[i].in_query);
		g_assert_null(client->conn);
		g_assert_error(client->error,
			       SOUP_WEBSOCKET_ERROR,
			       SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET);
		g_assert_cmpuint(soup_message_get_status(client->msg), ==, cases[i].status);
	}

	/* the body of a refused upgrade, which libsoup's client does not show */
	{
		g_autofree gchar *headers = ev_raw_upgrade_headers(NULL);
		g_autoptr(EvRaw) raw = ev_raw_connect(ts, "/api/v1/events", headers);
		g_assert_cmpuint(raw->status, ==, 401);
		g_assert_cmpstr(ev_raw_error_code(raw), ==, "unauthenticated");
		g_assert_cmpstr(ev_raw_get_header(raw, "WWW-Authenticate"), ==, "Bearer");
		g_assert_nonnull(strstr(raw->body, "access_token"));
	}
	{
		g_autofree gchar *headers = ev_raw_upgrade_headers(agent_token);
		g_autoptr(EvRaw) raw = ev_raw_connect(ts, "/api/v1/events", headers);
		g_assert_cmpuint(raw->status, ==, 403);
		g_assert_cmpstr(ev_raw_error_code(raw), ==, "forbidden");
	}
	/* a broken handshake */
	{
		g_autofree gchar *headers =
			g_strdup_printf("Upgrade: websocket\r\n"
					"Connection: Upgrade\r\n"
					"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
					"Sec-WebSocket-Version: 8\r\n"
					"Authorization: Bearer %s\r\n",
					ts->viewer_token);
		g_autoptr(EvRaw) raw = ev_raw_connect(ts, "/api/v1/events", headers);
		g_assert_cmpuint(raw->status, ==, 400);
		g_assert_cmpstr(ev_raw_error_code(raw), ==, "invalid_argument");
		g_assert_cmpstr(ev_raw_get_header(raw, "Sec-WebSocket-Version"), ==, "13");
	}

	/* plain HTTP: 426 through the route table's entry, after authentication */
	{
		g_autoptr(AiqTestResponse) plain = aiq_test_request(ts,
								    "GET",
								    "/api/v1/events",
								    ts->viewer_token,
								    NULL,
								    NULL,
								    0);
		g_autoptr(AiqTestResponse) anonymous =
			aiq_test_request(ts, "GET", "/api/v1/events", NULL, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) post =
			aiq_test_request_json(ts, "POST", "/api/v1/events", ts->viewer_token, "{}");
		g_autoptr(AiqTestResponse) below = aiq_test_request(ts,
								    "GET",
								    "/api/v1/events/x",
								    ts->viewer_token,
								    NULL,
								    NULL,
								    0);
		g_autoptr(AiqTestResponse) beside = aiq_test_request(ts,
								     "GET",
								     "/api/v1/eventsx",
								     ts->viewer_token,
								     NULL,
								     NULL,
								     0);

		aiq_test_assert_status(plain, 426);
		g_assert_cmpstr(aiq_test_response_error_code(plain), ==, "upgrade_required");
		g_assert_cmpstr(soup_message_headers_get_one(plain->headers, "Upgrade"),
				==,
				"websocket");
		g_assert_nonnull(soup_message_headers_get_one(plain->headers, "X-Request-Id"));
		aiq_test_assert_status(anonymous, 401);
		g_assert_cmpstr(aiq_test_response_error_code(anonymous), ==, "unauthenticated");
		aiq_test_assert_status(post, 405);
		g_assert_cmpstr(aiq_test_response_error_code(post), ==, "method_not_allowed");
		aiq_test_assert_status(below, 404);
		g_assert_cmpstr(aiq_test_response_error_code(below), ==, "not_found");
		aiq_test_assert_status(beside, 404);
	}

	/* listed with the other routes */
	{
		g_autoptr(GPtrArray) routes = aiq_server_list_routes(ts->server);
		gboolean found = FALSE;
		for (guint i = 0; i < routes->len; i++) {
			AiqRoute *route = g_ptr_array_index(routes, i);
			if (g_strcmp0(route->path, "/api/v1/events") != 0)
				continue;
			g_assert_cmpstr(route->method, ==, "GET");
			g_assert_cmpint(route->role, ==, AIQ_ROLE_VIEWER);
			found = TRUE;
		}
		g_assert_true(found);
	}
	g_assert_cmpuint(ev_count_subscribers(ts, NULL), ==, 0);
}

/* a tenant's events go to that tenant's subscribers only */
static void
test_events_tenants(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(EvClient) acme = ev_client_new(ts, ts->viewer_token, FALSE);
	g_autoptr(EvClient) other = ev_client_new(ts, ts->other_admin_token, TRUE);

	ev_wait_subscribers(ts, ts->tenant_id, 1);
	ev_wait_subscribers(ts, ts->other_tenant_id, 1);
	for (gint64 i = 0; i < 3; i++) {
		ev_publish(ts, ts->tenant_id, i, 0);
		ev_publish(ts, ts->other_tenant_id, 100 + i, 0);
	}
	/* and a tenant nobody listens to */
	ev_publish(ts, "0196f3c2-0000-7000-8000-00000000dead", 999, 0);
	/* a last event each: an event of the wrong tenant would come before it */
	ev_publish(ts, ts->tenant_id, 3, 0);
	ev_publish(ts, ts->other_tenant_id, 103, 0);
	ev_client_wait_messages(acme, 4);
	ev_client_wait_messages(other, 4);
	g_assert_cmpuint(acme->messages->len, ==, 4);
	g_assert_cmpuint(other->messages->len, ==, 4);
	for (guint i = 0; i < 4; i++) {
		g_assert_cmpstr(aiq_json_object_get_string(ev_client_get(acme, i), "tenant_id"),
				==,
				ts->tenant_id);
		g_assert_cmpint(ev_client_get_seq(acme, i), ==, i);
		g_assert_cmpstr(aiq_json_object_get_string(ev_client_get(other, i), "tenant_id"),
				==,
				ts->other_tenant_id);
		g_assert_cmpint(ev_client_get_seq(other, i), ==, 100 + i);
	}
}

/* many events at once arrive all, in order */
static void
test_events_order(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(EvClient) client = ev_client_new(ts, ts->viewer_token, FALSE);
	const guint n = AIQ_BROKER_MAX_QUEUE / 2;

	ev_wait_subscribers(ts, ts->tenant_id, 1);
	for (guint i = 0; i < n; i++)
		ev_publish(ts, ts->tenant_id, i, 0);
	ev_client_wait_messages(client, n);
	for (guint i = 0; i < n; i++)
		g_assert_cmpint(ev_client_get_seq(client, i), ==, i);
	g_assert_false(client->closed);
}

/* many subscribers, over both HTTP threads, each get every event */
static void
test_events_fan_out(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(GPtrArray) clients =
		g_ptr_array_new_with_free_func((GDestroyNotify)ev_client_free);
	const gchar *tokens[] = { ts->viewer_token, ts->editor_token, ts->admin_token };
	const guint n_clients = 16;
	const guint n_events = 100;
	guint n_contexts = 0;

	for (guint i = 0; i < n_clients; i++)
		g_ptr_array_add(clients,
				ev_client_new(ts, tokens[i % G_N_ELEMENTS(tokens)], i % 2 == 0));
	ev_wait_subscribers(ts, ts->tenant_id, n_clients);
	/* the kernel spreads connections over the threads' sockets: all 16 on
	 * one of two threads would be a 1 in 32768 chance */
	g_assert_cmpuint(aiq_broker_count_subscribers(aiq_broker_get(ts->server),
						      ts->tenant_id,
						      &n_contexts),
			 ==,
			 n_clients);
	g_assert_cmpuint(n_contexts, ==, 2);

	for (guint i = 0; i < n_events; i++)
		ev_publish(ts, ts->tenant_id, i, 0);
	for (guint c = 0; c < n_clients; c++) {
		EvClient *client = g_ptr_array_index(clients, c);
		ev_client_wait_messages(client, n_events);
		for (guint i = 0; i < n_events; i++)
			g_assert_cmpint(ev_client_get_seq(client, i), ==, i);
	}
}

/* a subscriber that never reads is closed when its queue is full, while
 * the others go on receiving */
static void
test_events_slow(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(EvClient) good = ev_client_new(ts, ts->viewer_token, FALSE);
	g_autofree gchar *headers = ev_raw_upgrade_headers(ts->viewer_token);
	g_autoptr(EvRaw) slow = ev_raw_connect(ts, "/api/v1/events", headers);
	g_autoptr(GByteArray) payload = g_byte_array_new();
	const gsize pad = 8 * 1024;
	guint published = 0;
	guint received = 0;
	guint8 opcode;

	g_assert_cmpuint(slow->status, ==, 101);
	ev_wait_subscribers(ts, ts->tenant_id, 2);

	/* in batches the good client keeps up with, until the slow one is
	 * dropped: its socket's buffers, then its queue fill up */
	while (ev_count_subscribers(ts, ts->tenant_id) == 2) {
		for (guint i = 0; i < 50; i++)
			ev_publish(ts, ts->tenant_id, published++, pad);
		ev_client_wait_messages(good, published);
		g_assert_cmpuint(published, <, 100000);
	}
	g_assert_cmpuint(published, >, AIQ_BROKER_MAX_QUEUE);
	g_assert_false(good->closed);

	/* the good one goes on */
	for (guint i = 0; i < 10; i++)
		ev_publish(ts, ts->tenant_id, published++, 0);
	ev_client_wait_messages(good, published);
	for (guint i = 0; i < published; i++)
		g_assert_cmpint(ev_client_get_seq(good, i), ==, i);
	g_assert_false(good->closed);

	/* the slow one has what its buffers held, in order, then the close */
	while ((opcode = ev_raw_read_frame(slow, payload)) == 0x1) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node =
			aiq_json_parse((const gchar *)payload->data, payload->len, 8, &error);
		JsonObject *data;
		g_assert_no_error(error);
		data = aiq_json_object_get_object(json_node_get_object(node), "data");
		g_assert_cmpint(aiq_json_object_get_int(data, "seq", -1), ==, received);
		received++;
	}
	g_assert_cmpuint(opcode, ==, 0x8);
	g_assert_cmpuint(payload->len, >, 2);
	g_assert_cmpuint((guint)payload->data[0] << 8 | payload->data[1],
			 ==,
			 SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
	g_assert_cmpuint(received, <, published);
	g_test_message("the slow subscriber got %u of %u events", received, published);
}

/* the client closes: the server answers and forgets it */
static void
test_events_close(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(EvClient) client = ev_client_new(ts, ts->viewer_token, FALSE);

	ev_wait_subscribers(ts, ts->tenant_id, 1);
	soup_websocket_connection_close(client->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, "bye");
	ev_client_wait_closed(client);
	g_assert_cmpuint(client->close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
	ev_wait_subscribers(ts, ts->tenant_id, 0);
	/* publishing to nobody is fine */
	ev_publish(ts, ts->tenant_id, 1, 0);
}

/* a graceful stop closes subscribers with 1001 and refuses new ones (503) */
static void
test_events_shutdown(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(EvClient) a = ev_client_new(ts, ts->viewer_token, FALSE);
	g_autoptr(EvClient) b = ev_client_new(ts, ts->other_admin_token, FALSE);
	g_autoptr(EvClient) late = NULL;

	ev_wait_subscribers(ts, NULL, 2);
	aiq_broker_shutdown(aiq_broker_get(ts->server));
	ev_client_wait_closed(a);
	ev_client_wait_closed(b);
	g_assert_cmpuint(a->close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
	g_assert_cmpuint(b->close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
	late = ev_client_start(ts, ts->viewer_token, FALSE);
	g_assert_null(late->conn);
	g_assert_cmpuint(soup_message_get_status(late->msg), ==, 503);
	ev_wait_subscribers(ts, NULL, 0);
}

/* a subscriber still open when the server stops is dropped with it */
static void
test_events_stop_open(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(EvClient) client = ev_client_new(ts, ts->viewer_token, FALSE);

	ev_wait_subscribers(ts, ts->tenant_id, 1);
	for (guint i = 0; i < 10; i++)
		ev_publish(ts, ts->tenant_id, i, 0);
	aiq_server_stop(ts->server);
	g_clear_object(&ts->server);
}

typedef struct {
	AiqTestServer *ts;
	guint index;
	guint n;
} EvPublisher;

static gpointer
ev_publisher_thread(gpointer user_data)
{
	EvPublisher *publisher = user_data;
	for (guint i = 0; i < publisher->n; i++)
		ev_publish(publisher->ts,
			   publisher->ts->tenant_id,
			   (gint64)publisher->index * 100000 + i,
			   0);
	return NULL;
}

/* several threads publish at once: nothing is lost, each thread's events
 * keep their order, and every subscriber sees the same order */
static void
test_events_threads(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	EvClient *clients[3];
	EvPublisher publishers[4];
	GThread *threads[G_N_ELEMENTS(publishers)];
	const guint per_thread = 200;
	const guint total = per_thread * G_N_ELEMENTS(publishers);

	/* under the queue bound however the threads interleave */
	g_assert_cmpuint(total, <, AIQ_BROKER_MAX_QUEUE);
	for (guint c = 0; c < G_N_ELEMENTS(clients); c++)
		clients[c] = ev_client_new(ts, ts->viewer_token, c % 2 == 1);
	ev_wait_subscribers(ts, ts->tenant_id, G_N_ELEMENTS(clients));
	for (guint t = 0; t < G_N_ELEMENTS(publishers); t++) {
		publishers[t] = (EvPublisher){ ts, t, per_thread };
		threads[t] = g_thread_new("publisher", ev_publisher_thread, &publishers[t]);
	}
	for (guint t = 0; t < G_N_ELEMENTS(publishers); t++)
		g_thread_join(threads[t]);

	for (guint c = 0; c < G_N_ELEMENTS(clients); c++) {
		gint64 next[G_N_ELEMENTS(publishers)] = { 0 };
		ev_client_wait_messages(clients[c], total);
		g_assert_cmpuint(clients[c]->messages->len, ==, total);
		for (guint i = 0; i < total; i++) {
			gint64 seq = ev_client_get_seq(clients[c], i);
			guint t = (guint)(seq / 100000);
			g_assert_cmpuint(t, <, G_N_ELEMENTS(publishers));
			g_assert_cmpint(seq % 100000, ==, next[t]);
			next[t]++;
			if (c > 0)
				g_assert_cmpint(seq, ==, ev_client_get_seq(clients[0], i));
		}
	}
	for (guint c = 0; c < G_N_ELEMENTS(clients); c++)
		ev_client_free(clients[c]);
}

/* clients may send text, which is ignored; binary and oversized messages
 * close the connection */
static void
test_events_client_messages(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(EvClient) chatty = ev_client_new(ts, ts->viewer_token, FALSE);
	g_autoptr(EvClient) binary = ev_client_new(ts, ts->viewer_token, FALSE);
	g_autoptr(EvClient) big = ev_client_new(ts, ts->viewer_token, FALSE);
	g_autofree gchar *text = g_strnfill(64 * 1024, 'a');

	ev_wait_subscribers(ts, ts->tenant_id, 3);
	soup_websocket_connection_send_text(chatty->conn, "{\"subscribe\": \"everything\"}");
	soup_websocket_connection_send_binary(binary->conn, "\x01\x02", 2);
	soup_websocket_connection_send_text(big->conn, text);
	ev_client_wait_closed(binary);
	g_assert_cmpuint(binary->close_code, ==, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA);
	ev_client_wait_closed(big);
	ev_wait_subscribers(ts, ts->tenant_id, 1);

	ev_publish(ts, ts->tenant_id, 1, 0);
	ev_client_wait_messages(chatty, 1);
	g_assert_false(chatty->closed);
}

/* pings keep a quiet subscriber past the idle timeout */
static void
test_events_keepalive(void)
{
	AiqTestServerOptions options = { .config = "idle-timeout=2" };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(EvClient) client = ev_client_new(ts, ts->viewer_token, FALSE);

	ev_wait_subscribers(ts, ts->tenant_id, 1);
	ev_run(NULL, NULL, 5, "time to pass");
	g_assert_false(client->closed);
	g_assert_cmpuint(ev_count_subscribers(ts, ts->tenant_id), ==, 1);
	ev_publish(ts, ts->tenant_id, 1, 0);
	ev_client_wait_messages(client, 1);
}

/* a token revoked while its stream is open ends the stream */
static void
test_events_revoked(void)
{
	AiqTestServerOptions options = { .config = "idle-timeout=2" };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	AiqAuth *auth = aiq_server_get_auth(ts->server);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTokenRow) row = NULL;
	g_autofree gchar *token = aiq_auth_issue(auth,
						 AIQ_TOKEN_KIND_API_KEY,
						 ts->tenant_id,
						 NULL,
						 "viewer",
						 "dashboard",
						 0,
						 NULL,
						 &row,
						 &error);
	g_autoptr(EvClient) client = NULL;
	g_autoptr(EvClient) other = NULL;

	g_assert_no_error(error);
	client = ev_client_new(ts, token, TRUE);
	other = ev_client_new(ts, ts->viewer_token, FALSE);
	ev_wait_subscribers(ts, ts->tenant_id, 2);
	g_assert_true(aiq_store_revoke_token(aiq_server_get_store(ts->server),
					     ts->tenant_id,
					     row->id,
					     AIQ_TOKEN_KIND_API_KEY,
					     &error));
	g_assert_no_error(error);
	aiq_auth_invalidate(auth);
	ev_client_wait_closed(client);
	g_assert_cmpuint(client->close_code, ==, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
	g_assert_nonnull(strstr(client->close_data, "revoked"));
	ev_wait_subscribers(ts, ts->tenant_id, 1);
	g_assert_false(other->closed);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/http/events/header", test_events_header);
	g_test_add_func("/aiq/http/events/access-token", test_events_access_token);
	g_test_add_func("/aiq/http/events/refused", test_events_refused);
	g_test_add_func("/aiq/http/events/tenants", test_events_tenants);
	g_test_add_func("/aiq/http/events/order", test_events_order);
	g_test_add_func("/aiq/http/events/fan-out", test_events_fan_out);
	g_test_add_func("/aiq/http/events/slow", test_events_slow);
	g_test_add_func("/aiq/http/events/close", test_events_close);
	g_test_add_func("/aiq/http/events/shutdown", test_events_shutdown);
	g_test_add_func("/aiq/http/events/stop-open", test_events_stop_open);
	g_test_add_func("/aiq/http/events/threads", test_events_threads);
	g_test_add_func("/aiq/http/events/client-messages", test_events_client_messages);
	g_test_add_func("/aiq/http/events/keepalive", test_events_keepalive);
	g_test_add_func("/aiq/http/events/revoked", test_events_revoked);
	return g_test_run();
}
