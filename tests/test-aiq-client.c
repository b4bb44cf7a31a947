/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * AiqClient against the real server in process (HTTPS with the test CA),
 * and against a small local server for answers the real one never gives
 * (a proxy's 502, a huge body, a redirect).
 */

#include "config.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "aiq-client.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-test-server.h"
#include "aiq-util.h"

#define TEST_PASSWORD "correct horse battery staple"

static const gchar *workflow_yaml =
	"name: client-wf\n"
	"inputs:\n"
	"  n: { type: integer, default: 1 }\n"
	"steps:\n"
	"  - { id: a, uses: transform, with: { value: '${{ inputs.n }}' } }\n";

static const gchar *workflow_yaml_v2 =
	"name: client-wf\n"
	"inputs:\n"
	"  n: { type: integer, default: 1 }\n"
	"steps:\n"
	"  - { id: a, uses: transform, with: { value: '${{ inputs.n * 2 }}' } }\n";

static gchar *
test_file(const gchar *name)
{
	return g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", name, NULL);
}

static AiqClient *
client_new(AiqTestServer *ts, const gchar *token)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ca = test_file("ca.pem");
	g_autoptr(AiqClient) client = aiq_client_new(ts->url, &error);
	g_assert_no_error(error);
	g_assert_true(aiq_client_set_ca_file(client, ca, &error));
	g_assert_no_error(error);
	aiq_client_set_token(client, token);
	return g_steal_pointer(&client);
}

static GBytes *
bytes_new(const gchar *text)
{
	return g_bytes_new(text, strlen(text));
}

static JsonObject *
object(JsonNode *node)
{
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_node_get_object(node);
}

/* async calls, run to the end on the test's main context */

typedef struct {
	GMainLoop *loop;
	GAsyncResult *result;
} AsyncWait;

static void
async_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	AsyncWait *wait = user_data;
	wait->result = g_object_ref(result);
	g_main_loop_quit(wait->loop);
}

static JsonNode *
async_finish(AiqClient *client, AsyncWait *wait, AiqClientReply **reply, GError **error)
{
	JsonNode *node;
	g_main_loop_run(wait->loop);
	node = aiq_client_request_finish(client, wait->result, reply, error);
	g_clear_object(&wait->result);
	g_main_loop_unref(wait->loop);
	return node;
}

static JsonNode *
request_async(AiqClient *client,
	      const gchar *method,
	      const gchar *path,
	      GBytes *body,
	      const gchar *content_type,
	      AiqClientReply **reply,
	      GError **error)
{
	AsyncWait wait = { g_main_loop_new(NULL, FALSE), NULL };
	aiq_client_request_bytes_async(client,
				       method,
				       path,
				       body,
				       content_type,
				       NULL,
				       NULL,
				       async_done_cb,
				       &wait);
	return async_finish(client, &wait, reply, error);
}

/* a small local server */

typedef struct {
	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;
	GMutex mutex;
	GCond cond;
	GTlsCertificate *certificate;
	SoupServer *server;
	gchar *url;
	GString *last_request; /* method, headers and body of the last /echo */
} FakeServer;

static void
fake_server_cb(SoupServer *server,
	       SoupServerMessage *msg,
	       const char *path,
	       GHashTable *query,
	       gpointer user_data)
{
	FakeServer *fake = user_data;
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
	SoupMessageHeaders *req_headers = soup_server_message_get_request_headers(msg);

	if (g_strcmp0(path, "/bad-gateway") == 0) {
		const gchar *html = "<html><body>upstream down</body></html>";
		soup_server_message_set_response(msg,
						 "text/html",
						 SOUP_MEMORY_COPY,
						 html,
						 strlen(html));
		soup_server_message_set_status(msg, 502, NULL);
	} else if (g_strcmp0(path, "/weird") == 0) {
		const gchar *json =
			"{\"error\":{\"code\":\"weird_code\",\"message\":\"it clashed\","
			"\"details\":{\"x\":1}}}";
		soup_server_message_set_response(msg,
						 "application/json",
						 SOUP_MEMORY_COPY,
						 json,
						 strlen(json));
		soup_server_message_set_status(msg, 409, NULL);
	} else if (g_strcmp0(path, "/rate") == 0) {
		const gchar *json =
			"{\"error\":{\"code\":\"rate_limited\",\"message\":\"slow down\"}}";
		soup_message_headers_replace(headers, "Retry-After", "7");
		soup_server_message_set_response(msg,
						 "application/json",
						 SOUP_MEMORY_COPY,
						 json,
						 strlen(json));
		soup_server_message_set_status(msg, 429, NULL);
	} else if (g_strcmp0(path, "/big") == 0) {
		GString *json = g_string_new("[");
		while (json->len < 2 * 1024 * 1024)
			g_string_append(json, "1234567,");
		g_string_append(json, "0]");
		soup_server_message_set_response(msg,
						 "application/json",
						 SOUP_MEMORY_COPY,
						 json->str,
						 json->len);
		soup_server_message_set_status(msg, 200, NULL);
		g_string_free(json, TRUE);
	} else if (g_strcmp0(path, "/redirect") == 0) {
		soup_message_headers_replace(headers, "Location", "https://elsewhere.example/");
		soup_server_message_set_status(msg, 302, NULL);
	} else if (g_strcmp0(path, "/text") == 0) {
		soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, "hello", 5);
		soup_server_message_set_status(msg, 200, NULL);
	} else if (g_strcmp0(path, "/empty") == 0) {
		soup_server_message_set_status(msg, 204, NULL);
	} else if (g_strcmp0(path, "/broken") == 0) {
		soup_server_message_set_response(msg,
						 "application/json",
						 SOUP_MEMORY_STATIC,
						 "{nope",
						 5);
		soup_server_message_set_status(msg, 200, NULL);
	} else if (g_strcmp0(path, "/prefix/api/v1/me") == 0 || g_strcmp0(path, "/echo") == 0) {
		SoupMessageBody *body = soup_server_message_get_request_body(msg);
		g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
		const gchar *value;
		g_string_truncate(fake->last_request, 0);
		g_string_append_printf(fake->last_request,
				       "%s %s\n",
				       soup_server_message_get_method(msg),
				       path);
		value = soup_message_headers_get_one(req_headers, "Authorization");
		g_string_append_printf(fake->last_request, "authorization: %s\n", value);
		value = soup_message_headers_get_one(req_headers, "User-Agent");
		g_string_append_printf(fake->last_request, "user-agent: %s\n", value);
		value = soup_message_headers_get_one(req_headers, "Content-Type");
		g_string_append_printf(fake->last_request, "content-type: %s\n", value);
		value = soup_message_headers_get_one(req_headers, "Idempotency-Key");
		g_string_append_printf(fake->last_request, "idempotency-key: %s\n", value);
		g_string_append_len(fake->last_request,
				    g_bytes_get_data(bytes, NULL),
				    (gssize)g_bytes_get_size(bytes));
		soup_server_message_set_response(msg,
						 "application/json",
						 SOUP_MEMORY_STATIC,
						 "{\"ok\":true}",
						 11);
		soup_server_message_set_status(msg, 200, NULL);
	} else {
		soup_server_message_set_status(msg, 404, NULL);
	}
}

/* the fake server runs on a thread of its own, so that sync calls from the
 * test's thread can reach it */
static gpointer
fake_server_thread(gpointer user_data)
{
	FakeServer *fake = user_data;
	g_autoptr(GError) error = NULL;
	GSList *uris;

	g_main_context_push_thread_default(fake->context);
	fake->server = soup_server_new(NULL, NULL);
	if (fake->certificate != NULL)
		soup_server_set_tls_certificate(fake->server, fake->certificate);
	soup_server_add_handler(fake->server, NULL, fake_server_cb, fake, NULL);
	soup_server_listen_local(fake->server,
				 0,
				 SOUP_SERVER_LISTEN_IPV4_ONLY |
					 (fake->certificate != NULL ? SOUP_SERVER_LISTEN_HTTPS : 0),
				 &error);
	g_assert_no_error(error);
	uris = soup_server_get_uris(fake->server);
	g_assert_nonnull(uris);
	g_mutex_lock(&fake->mutex);
	fake->url = g_strdup_printf("%s://127.0.0.1:%d",
				    fake->certificate != NULL ? "https" : "http",
				    g_uri_get_port(uris->data));
	g_cond_signal(&fake->cond);
	g_mutex_unlock(&fake->mutex);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);

	g_main_loop_run(fake->loop);
	soup_server_disconnect(fake->server);
	g_clear_object(&fake->server);
	g_main_context_pop_thread_default(fake->context);
	return NULL;
}

static FakeServer *
fake_server_new(GTlsCertificate *certificate)
{
	FakeServer *fake = g_new0(FakeServer, 1);
	fake->last_request = g_string_new(NULL);
	fake->certificate = certificate != NULL ? g_object_ref(certificate) : NULL;
	fake->context = g_main_context_new();
	fake->loop = g_main_loop_new(fake->context, FALSE);
	g_mutex_init(&fake->mutex);
	g_cond_init(&fake->cond);
	fake->thread = g_thread_new("fake-server", fake_server_thread, fake);
	g_mutex_lock(&fake->mutex);
	while (fake->url == NULL)
		g_cond_wait(&fake->cond, &fake->mutex);
	g_mutex_unlock(&fake->mutex);
	return fake;
}

static gboolean
fake_server_quit_cb(gpointer user_data)
{
	FakeServer *fake = user_data;
	g_main_loop_quit(fake->loop);
	return G_SOURCE_REMOVE;
}

static void
fake_server_free(FakeServer *fake)
{
	GSource *source = g_idle_source_new();
	g_source_set_callback(source, fake_server_quit_cb, fake, NULL);
	g_source_attach(source, fake->context);
	g_source_unref(source);
	g_thread_join(fake->thread);
	g_main_loop_unref(fake->loop);
	g_main_context_unref(fake->context);
	g_clear_object(&fake->certificate);
	g_mutex_clear(&fake->mutex);
	g_cond_clear(&fake->cond);
	g_string_free(fake->last_request, TRUE);
	g_free(fake->url);
	g_free(fake);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeServer, fake_server_free)

/* tests */

static void
test_client_new(void)
{
	const gchar *bad[] = { "ftp://host", "not a url", "https://", "https://h/?q=1", "h:1" };
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqClient) client = aiq_client_new(bad[i], &error);
		g_assert_null(client);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqClient) client =
			aiq_client_new("https://aiq.example.com:8443/", &error);
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_client_get_base_url(client),
				==,
				"https://aiq.example.com:8443");
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqClient) client = aiq_client_new("http://proxy.local/aiq//", &error);
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_client_get_base_url(client), ==, "http://proxy.local/aiq");
	}
}

static void
test_client_fingerprint(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *pem = test_file("server.pem");
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_file(pem, &error);
	g_autofree gchar *fingerprint = NULL;
	g_autofree gchar *lower = NULL;
	g_autoptr(AiqClient) client = aiq_client_new(ts->url, &error);

	g_assert_no_error(error);
	fingerprint = aiq_client_fingerprint_from_certificate(cert);
	/* the form the server prints */
	g_assert_cmpstr(fingerprint, ==, aiq_server_get_fingerprint(ts->server));
	g_assert_cmpuint(strlen(fingerprint), ==, 95);
	g_assert_true(aiq_client_fingerprint_is_valid(fingerprint));
	/* without colons, in lower case */
	lower = g_ascii_strdown(fingerprint, -1);
	for (gchar *src = lower, *dst = lower;; src++) {
		if (*src != ':')
			*dst++ = *src;
		if (*src == '\0')
			break;
	}
	g_assert_cmpuint(strlen(lower), ==, 64);
	g_assert_true(aiq_client_fingerprint_is_valid(lower));
	g_assert_true(aiq_client_set_pinned_fingerprint(client, lower, &error));
	g_assert_no_error(error);

	g_assert_false(aiq_client_fingerprint_is_valid("AB:CD"));
	g_assert_false(aiq_client_fingerprint_is_valid(""));
	g_assert_false(aiq_client_set_pinned_fingerprint(client, "zz", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
}

static void
test_client_tls(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *ca = test_file("ca.pem");
	g_autofree gchar *untrusted = test_file("untrusted.pem");
	const gchar *fingerprint = aiq_server_get_fingerprint(ts->server);

	/* no CA, no pin: the test CA is not a system CA */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqClient) client = aiq_client_new(ts->url, &error);
		g_autoptr(AiqClientReply) reply = NULL;
		g_autoptr(JsonNode) node = NULL;
		g_autoptr(GTlsCertificate) rejected = NULL;
		g_autofree gchar *seen = NULL;
		GTlsCertificateFlags errors = 0;

		aiq_client_set_token(client, ts->viewer_token);
		node = aiq_client_request_sync(client,
					       "GET",
					       "/api/v1/me",
					       NULL,
					       NULL,
					       NULL,
					       NULL,
					       &reply,
					       &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
		g_assert_nonnull(strstr(error->message, fingerprint));
		g_assert_cmpuint(aiq_client_reply_get_status(reply), ==, 0);
		g_assert_true(aiq_client_reply_get_tls_errors(reply) &
			      G_TLS_CERTIFICATE_UNKNOWN_CA);
		g_assert_nonnull(aiq_client_reply_get_peer_certificate(reply));
		rejected = aiq_client_dup_rejected_certificate(client, &errors);
		g_assert_nonnull(rejected);
		g_assert_true(errors & G_TLS_CERTIFICATE_UNKNOWN_CA);
		seen = aiq_client_fingerprint_from_certificate(rejected);
		g_assert_cmpstr(seen, ==, fingerprint);
		g_clear_error(&error);

		/* trusting that very certificate makes it work */
		g_assert_true(aiq_client_set_pinned_fingerprint(client, seen, &error));
		node = aiq_client_get_me_sync(client, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_json_object_get_string(object(node), "role"), ==, "viewer");
		g_clear_object(&rejected);
		rejected = aiq_client_dup_rejected_certificate(client, NULL);
		g_assert_null(rejected);
	}
	/* another pin does not */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqClient) client = aiq_client_new(ts->url, &error);
		g_autoptr(GTlsCertificate) other =
			g_tls_certificate_new_from_file(untrusted, &error);
		g_autofree gchar *other_fingerprint =
			aiq_client_fingerprint_from_certificate(other);
		g_autoptr(JsonNode) node = NULL;
		g_assert_no_error(error);
		g_assert_true(aiq_client_set_pinned_fingerprint(client, other_fingerprint, &error));
		aiq_client_set_token(client, ts->viewer_token);
		node = aiq_client_get_me_sync(client, NULL, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
	}
	/* the CA file */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqClient) client = aiq_client_new(ts->url, &error);
		g_autoptr(JsonNode) node = NULL;
		g_assert_true(aiq_client_set_ca_file(client, ca, &error));
		aiq_client_set_token(client, ts->viewer_token);
		node = aiq_client_get_me_sync(client, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_json_object_get_string(object(node), "tenant"), ==, "acme");
	}
	/* a CA file that is not one */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqClient) client = aiq_client_new(ts->url, &error);
		g_assert_false(aiq_client_set_ca_file(client, "/nonexistent/ca.pem", &error));
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	}
}

/* the CA vouches for the certificate, but it is for another host name */
static void
test_client_tls_wrong_host(void)
{
	g_autofree gchar *cert_file = test_file("wronghost.pem");
	g_autofree gchar *key_file = test_file("wronghost-key.pem");
	g_autofree gchar *ca = test_file("ca.pem");
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsCertificate) cert =
		g_tls_certificate_new_from_files(cert_file, key_file, &error);
	g_autoptr(FakeServer) fake = NULL;
	g_autofree gchar *fingerprint = NULL;

	g_assert_no_error(error);
	fake = fake_server_new(cert);
	fingerprint = aiq_client_fingerprint_from_certificate(cert);
	{
		g_autoptr(AiqClient) client = aiq_client_new(fake->url, &error);
		g_autoptr(AiqClientReply) reply = NULL;
		g_autoptr(JsonNode) node = NULL;
		g_assert_true(aiq_client_set_ca_file(client, ca, &error));
		node = request_async(client, "GET", "/text", NULL, NULL, &reply, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
		g_assert_true(aiq_client_reply_get_tls_errors(reply) &
			      G_TLS_CERTIFICATE_BAD_IDENTITY);
		g_assert_nonnull(strstr(error->message, "another host name"));
		g_clear_error(&error);
	}
	{
		g_autoptr(AiqClient) client = aiq_client_new(fake->url, &error);
		g_autoptr(JsonNode) node = NULL;
		g_assert_true(aiq_client_set_pinned_fingerprint(client, fingerprint, &error));
		node = request_async(client, "GET", "/text", NULL, NULL, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(json_node_get_string(node), ==, "hello");
	}
}

static void
test_client_fake_answers(void)
{
	g_autoptr(FakeServer) fake = fake_server_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqClient) client = aiq_client_new(fake->url, &error);

	g_assert_no_error(error);
	aiq_client_set_token(client, "tok-1");
	aiq_client_set_user_agent(client, "test-agent/1");

	/* a proxy's error page: the status says what it is */
	{
		g_autoptr(AiqClientReply) reply = NULL;
		g_autoptr(JsonNode) node =
			request_async(client, "GET", "/bad-gateway", NULL, NULL, &reply, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_UNAVAILABLE);
		g_assert_nonnull(strstr(error->message, "502"));
		g_assert_cmpuint(aiq_client_reply_get_status(reply), ==, 502);
		g_assert_null(aiq_client_reply_get_error_code(reply));
		g_clear_error(&error);
	}
	/* a code libaiq does not know: mapped by the status, kept as written */
	{
		g_autoptr(AiqClientReply) reply = NULL;
		g_autoptr(JsonNode) node = NULL;
		node = aiq_client_request_sync(client,
					       "GET",
					       "/weird",
					       NULL,
					       NULL,
					       NULL,
					       NULL,
					       &reply,
					       &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONFLICT);
		g_assert_cmpstr(error->message, ==, "it clashed");
		g_assert_cmpstr(aiq_client_reply_get_error_code(reply), ==, "weird_code");
		g_assert_true(JSON_NODE_HOLDS_OBJECT(aiq_client_reply_get_error_details(reply)));
		g_assert_null(aiq_client_reply_get_problems(reply));
		g_clear_error(&error);
	}
	/* 429 with Retry-After */
	{
		g_autoptr(AiqClientReply) reply = NULL;
		g_autoptr(JsonNode) node =
			request_async(client, "GET", "/rate", NULL, NULL, &reply, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_RATE_LIMITED);
		g_assert_cmpint(aiq_client_reply_get_retry_after(reply), ==, 7);
		g_clear_error(&error);
	}
	/* a body over the limit is not read to the end */
	{
		g_autoptr(JsonNode) node = NULL;
		aiq_client_set_max_response_size(client, 1024 * 1024);
		node = request_async(client, "GET", "/big", NULL, NULL, NULL, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
		g_clear_error(&error);
		node = aiq_client_request_sync(client,
					       "GET",
					       "/big",
					       NULL,
					       NULL,
					       NULL,
					       NULL,
					       NULL,
					       &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
		g_clear_error(&error);
		aiq_client_set_max_response_size(client, AIQ_CLIENT_DEFAULT_MAX_RESPONSE_SIZE);
		node = request_async(client, "GET", "/big", NULL, NULL, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(JSON_NODE_HOLDS_ARRAY(node));
	}
	/* redirects are not followed: the token would go with them */
	{
		g_autoptr(AiqClientReply) reply = NULL;
		g_autoptr(JsonNode) node =
			request_async(client, "GET", "/redirect", NULL, NULL, &reply, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_FAILED);
		g_assert_nonnull(strstr(error->message, "https://elsewhere.example/"));
		g_assert_cmpuint(aiq_client_reply_get_status(reply), ==, 302);
		g_clear_error(&error);
	}
	/* text, empty and broken answers */
	{
		g_autoptr(JsonNode) text =
			request_async(client, "GET", "/text", NULL, NULL, NULL, &error);
		g_autoptr(JsonNode) empty = NULL;
		g_autoptr(JsonNode) broken = NULL;
		g_assert_no_error(error);
		g_assert_cmpstr(json_node_get_string(text), ==, "hello");
		empty = request_async(client, "DELETE", "/empty", NULL, NULL, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(JSON_NODE_HOLDS_NULL(empty));
		broken = request_async(client, "GET", "/broken", NULL, NULL, NULL, &error);
		g_assert_null(broken);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
		g_clear_error(&error);
	}
	/* what goes out: token, user agent, content type, idempotency key */
	{
		g_autoptr(GBytes) yaml = bytes_new("name: x\n");
		g_autoptr(JsonNode) node = NULL;
		g_autoptr(JsonObject) inputs = json_object_new();
		node = request_async(client,
				     "PUT",
				     "/echo",
				     yaml,
				     "application/yaml",
				     NULL,
				     &error);
		g_assert_no_error(error);
		g_assert_cmpstr(fake->last_request->str,
				==,
				"PUT /echo\n"
				"authorization: Bearer tok-1\n"
				"user-agent: test-agent/1\n"
				"content-type: application/yaml\n"
				"idempotency-key: (null)\n"
				"name: x\n");
		g_clear_pointer(&node, json_node_unref);
		json_object_set_int_member(inputs, "n", 3);
		aiq_client_set_token(client, NULL);
		node = aiq_client_request_sync(client,
					       "POST",
					       "/echo",
					       NULL,
					       NULL,
					       NULL,
					       NULL,
					       NULL,
					       &error);
		g_assert_no_error(error);
		g_assert_nonnull(strstr(fake->last_request->str, "authorization: (null)\n"));
	}
	/* a base URL with a path prefix */
	{
		g_autofree gchar *prefixed = g_strdup_printf("%s/prefix/", fake->url);
		g_autoptr(AiqClient) proxied = aiq_client_new(prefixed, &error);
		g_autoptr(JsonNode) node = aiq_client_get_me_sync(proxied, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(g_str_has_prefix(fake->last_request->str, "GET /prefix/api/v1/me\n"));
	}
	/* nobody listening */
	{
		g_autoptr(AiqClient) nowhere = aiq_client_new("http://127.0.0.1:1", &error);
		g_autoptr(JsonNode) node = aiq_client_get_me_sync(nowhere, NULL, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
		g_assert_nonnull(strstr(error->message, "cannot reach http://127.0.0.1:1"));
	}
}

static void
test_client_cancel(void)
{
	g_autoptr(FakeServer) fake = fake_server_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqClient) client = aiq_client_new(fake->url, &error);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(AiqClientReply) reply = NULL;
	AsyncWait wait = { g_main_loop_new(NULL, FALSE), NULL };

	aiq_client_get_me_async(client, cancellable, async_done_cb, &wait);
	g_cancellable_cancel(cancellable);
	node = async_finish(client, &wait, &reply, &error);
	g_assert_null(node);
	/* GIO's convention, so that a UI can ignore it */
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_nonnull(reply);
	g_clear_error(&error);
	g_clear_pointer(&reply, aiq_client_reply_unref);

	node = aiq_client_get_me_sync(client, cancellable, &error);
	g_assert_null(node);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_client_me_errors(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqClient) client = client_new(ts, ts->editor_token);
	g_autoptr(AiqClient) anonymous = client_new(ts, NULL);
	g_autoptr(AiqClient) viewer = client_new(ts, ts->viewer_token);
	g_autoptr(GError) error = NULL;

	/* sync and async */
	{
		g_autoptr(JsonNode) me = aiq_client_get_me_sync(client, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_json_object_get_string(object(me), "role"), ==, "editor");
		g_assert_cmpstr(aiq_json_object_get_string(object(me), "tenant"), ==, "acme");
		g_assert_cmpstr(aiq_json_object_get_string(object(me), "name"), ==, "ed");
	}
	{
		AsyncWait wait = { g_main_loop_new(NULL, FALSE), NULL };
		g_autoptr(AiqClientReply) reply = NULL;
		g_autoptr(JsonNode) me = NULL;
		aiq_client_get_me_async(client, NULL, async_done_cb, &wait);
		me = async_finish(client, &wait, &reply, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(aiq_client_reply_get_status(reply), ==, 200);
		g_assert_nonnull(aiq_client_reply_get_request_id(reply));
		g_assert_nonnull(aiq_client_reply_get_peer_certificate(reply));
		g_assert_true(aiq_client_reply_get_body(reply) != NULL);
		g_assert_cmpstr(aiq_json_object_get_string(object(me), "role"), ==, "editor");
	}
	/* no token: 401 */
	{
		g_autoptr(AiqClientReply) reply = NULL;
		g_autoptr(JsonNode) node = aiq_client_request_sync(anonymous,
								   "GET",
								   "/api/v1/me",
								   NULL,
								   NULL,
								   NULL,
								   NULL,
								   &reply,
								   &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED);
		g_assert_cmpuint(aiq_client_reply_get_status(reply), ==, 401);
		g_assert_cmpstr(aiq_client_reply_get_error_code(reply), ==, "unauthenticated");
		g_assert_nonnull(aiq_client_reply_get_request_id(reply));
		g_assert_cmpuint(aiq_client_reply_get_tls_errors(reply), ==, 0);
		g_clear_error(&error);
	}
	/* an unknown path: 404 */
	{
		g_autoptr(JsonNode) node = aiq_client_request_sync(client,
								   "GET",
								   "/api/v1/nothing-here",
								   NULL,
								   NULL,
								   NULL,
								   NULL,
								   NULL,
								   &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
		g_clear_error(&error);
	}
	/* a role too low: 403 */
	{
		g_autoptr(JsonNode) node = aiq_client_request_sync(viewer,
								   "GET",
								   "/api/v1/users",
								   NULL,
								   NULL,
								   NULL,
								   NULL,
								   NULL,
								   &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_FORBIDDEN);
		g_clear_error(&error);
	}
}

/* several threads share one client with sync calls */
static gpointer
me_thread(gpointer user_data)
{
	AiqClient *client = user_data;
	for (guint i = 0; i < 20; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) me = aiq_client_get_me_sync(client, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_json_object_get_string(object(me), "role"), ==, "viewer");
	}
	return NULL;
}

static void
test_client_threads(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqClient) client = client_new(ts, ts->viewer_token);
	GThread *threads[4];
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		threads[i] = g_thread_new("me", me_thread, client);
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		g_thread_join(threads[i]);
}

static void
test_client_login(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqClient) client = client_new(ts, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) answer = NULL;
	g_autofree gchar *token = NULL;
	g_free(aiq_test_server_add_user(ts, ts->tenant_id, "carol", "editor", TEST_PASSWORD));

	answer = aiq_client_login_sync(client, "acme", "carol", TEST_PASSWORD, NULL, &error);
	g_assert_no_error(error);
	token = g_strdup(aiq_json_object_get_string(object(answer), "token"));
	g_assert_nonnull(token);
	g_assert_nonnull(aiq_json_object_get_string(object(answer), "expires_at"));
	g_assert_nonnull(aiq_json_object_get_object(object(answer), "user"));
	aiq_client_set_token(client, token);
	{
		g_autoptr(JsonNode) me = aiq_client_get_me_sync(client, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_json_object_get_string(object(me), "name"), ==, "carol");
	}
	/* a wrong password: 401 invalid_credentials */
	{
		AsyncWait wait = { g_main_loop_new(NULL, FALSE), NULL };
		g_autoptr(AiqClientReply) reply = NULL;
		g_autoptr(JsonNode) node = NULL;
		aiq_client_login_async(client,
				       "acme",
				       "carol",
				       "wrong",
				       NULL,
				       async_done_cb,
				       &wait);
		node = async_finish(client, &wait, &reply, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED);
		g_assert_cmpuint(aiq_client_reply_get_status(reply), ==, 401);
		g_assert_cmpstr(aiq_client_reply_get_error_code(reply), ==, "invalid_credentials");
		g_clear_error(&error);
	}
	/* logout revokes the session */
	{
		g_autoptr(JsonNode) node = aiq_client_logout_sync(client, NULL, &error);
		g_autoptr(JsonNode) me = NULL;
		g_assert_no_error(error);
		g_assert_true(JSON_NODE_HOLDS_NULL(node));
		me = aiq_client_get_me_sync(client, NULL, &error);
		g_assert_null(me);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED);
	}
}

static void
test_client_workflows(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqClient) client = client_new(ts, ts->editor_token);
	g_autoptr(AiqClient) viewer = client_new(ts, ts->viewer_token);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) v1 = bytes_new(workflow_yaml);
	g_autoptr(GBytes) v2 = bytes_new(workflow_yaml_v2);
	g_autoptr(JsonNode) created = NULL;
	g_autofree gchar *id = NULL;

	/* create from YAML, the content type guessed */
	created = aiq_client_create_workflow_sync(client, v1, NULL, NULL, NULL, &error);
	g_assert_no_error(error);
	id = g_strdup(aiq_json_object_get_string(object(created), "id"));
	g_assert_true(aiq_id_is_valid(id));
	g_assert_cmpstr(aiq_json_object_get_string(object(created), "name"), ==, "client-wf");
	g_assert_cmpint(aiq_json_object_get_int(object(created), "version", 0), ==, 1);

	/* the same name again: 409 */
	{
		g_autoptr(JsonNode) node =
			aiq_client_create_workflow_sync(client, v1, NULL, NULL, NULL, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONFLICT);
		g_clear_error(&error);
	}
	/* a viewer may not create */
	{
		g_autoptr(JsonNode) node = aiq_client_create_workflow_sync(viewer,
									   v2,
									   "application/yaml",
									   NULL,
									   NULL,
									   &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_FORBIDDEN);
		g_clear_error(&error);
	}
	/* find it by name, get it */
	{
		AiqClientWorkflowQuery query = { .name = "client-wf" };
		g_autoptr(JsonNode) page =
			aiq_client_list_workflows_sync(client, &query, NULL, &error);
		g_autoptr(JsonNode) workflow = NULL;
		JsonArray *items;
		JsonObject *definition;
		g_assert_no_error(error);
		items = aiq_json_object_get_array(object(page), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		g_assert_cmpstr(
			aiq_json_object_get_string(json_array_get_object_element(items, 0), "id"),
			==,
			id);
		workflow = aiq_client_get_workflow_sync(viewer, id, 0, NULL, &error);
		g_assert_no_error(error);
		definition = aiq_json_object_get_object(object(workflow), "definition");
		g_assert_nonnull(definition);
		g_assert_cmpstr(aiq_json_object_get_string(definition, "name"), ==, "client-wf");
	}
	{
		AiqClientWorkflowQuery query = { .name = "nope" };
		g_autoptr(JsonNode) page =
			aiq_client_list_workflows_sync(client, &query, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(
			json_array_get_length(aiq_json_object_get_array(object(page), "items")),
			==,
			0);
	}
	/* unchanged, then changed */
	{
		g_autoptr(JsonNode) same =
			aiq_client_update_workflow_sync(client, id, v1, NULL, NULL, NULL, &error);
		g_autoptr(JsonNode) changed = NULL;
		g_assert_no_error(error);
		g_assert_false(json_object_get_boolean_member(object(same), "changed"));
		g_assert_cmpint(aiq_json_object_get_int(object(same), "version", 0), ==, 1);
		changed = aiq_client_update_workflow_sync(client,
							  id,
							  v2,
							  "application/yaml",
							  NULL,
							  NULL,
							  &error);
		g_assert_no_error(error);
		g_assert_true(json_object_get_boolean_member(object(changed), "changed"));
		g_assert_cmpint(aiq_json_object_get_int(object(changed), "version", 0), ==, 2);
	}
	/* versions, a version, the diff */
	{
		g_autoptr(JsonNode) versions =
			aiq_client_list_workflow_versions_sync(client, id, NULL, &error);
		g_autoptr(JsonNode) first = NULL;
		g_autoptr(JsonNode) diff = NULL;
		JsonArray *changes;
		g_assert_no_error(error);
		g_assert_cmpuint(
			json_array_get_length(aiq_json_object_get_array(object(versions), "items")),
			==,
			2);
		first = aiq_client_get_workflow_sync(client, id, 1, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpint(aiq_json_object_get_int(object(first), "version", 0), ==, 1);
		diff = aiq_client_diff_workflow_sync(client, id, 1, 2, NULL, &error);
		g_assert_no_error(error);
		changes = aiq_json_object_get_array(object(diff), "changes");
		g_assert_nonnull(changes);
		g_assert_cmpuint(json_array_get_length(changes), >=, 1);
		/* the path's form is the server's business; it names the member */
		g_assert_true(g_str_has_suffix(
			aiq_json_object_get_string(json_array_get_object_element(changes, 0),
						   "path"),
			"with.value"));
	}
	/* rollback: a new version equal to 1 */
	{
		g_autoptr(JsonNode) node =
			aiq_client_rollback_workflow_sync(client, id, 1, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpint(aiq_json_object_get_int(object(node), "version", 0), ==, 3);
	}
	/* disable, enable */
	{
		g_autoptr(JsonNode) off =
			aiq_client_set_workflow_enabled_sync(client, id, FALSE, NULL, &error);
		g_autoptr(JsonNode) on = NULL;
		g_assert_no_error(error);
		g_assert_false(json_object_get_boolean_member(object(off), "enabled"));
		on = aiq_client_set_workflow_enabled_sync(client, id, TRUE, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(json_object_get_boolean_member(object(on), "enabled"));
	}
	/* definition problems: 422 with the paths, sync and async */
	{
		g_autoptr(GBytes) bad =
			bytes_new("name: bad-wf\nsteps:\n  - { id: a, uses: htp }\n"
				  "  - { id: a, uses: transform, with: { value: 1 } }\n");
		g_autoptr(AiqProblems) problems = aiq_problems_new();
		g_autoptr(AiqProblems) from_reply = NULL;
		g_autoptr(AiqClientReply) reply = NULL;
		g_autoptr(JsonNode) node = NULL;
		g_autofree gchar *text = NULL;
		node = aiq_client_create_workflow_sync(client, bad, NULL, problems, NULL, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DEFINITION);
		g_clear_error(&error);
		g_assert_cmpuint(aiq_problems_get_size(problems), >=, 2);
		g_assert_true(aiq_problems_has_path(problems, "steps[0].uses"));
		g_assert_true(aiq_problems_has_path(problems, "steps[1].id"));
		text = aiq_problems_to_string(problems, "bad.yaml");
		g_assert_nonnull(strstr(text, "bad.yaml:steps[0].uses: "));

		node = request_async(client,
				     "POST",
				     "/api/v1/workflows",
				     bad,
				     "application/yaml",
				     &reply,
				     &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DEFINITION);
		g_assert_cmpuint(aiq_client_reply_get_status(reply), ==, 422);
		from_reply = aiq_client_reply_get_problems(reply);
		g_assert_nonnull(from_reply);
		g_assert_cmpuint(aiq_problems_get_size(from_reply),
				 ==,
				 aiq_problems_get_size(problems));
		g_clear_error(&error);
	}
	/* delete: 204, then 404 */
	{
		g_autoptr(JsonNode) node =
			aiq_client_delete_workflow_sync(client, id, NULL, &error);
		g_autoptr(JsonNode) gone = NULL;
		g_assert_no_error(error);
		g_assert_true(JSON_NODE_HOLDS_NULL(node));
		gone = aiq_client_get_workflow_sync(client, id, 0, NULL, &error);
		g_assert_null(gone);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
		g_clear_error(&error);
	}
	/* another tenant's workflow is not found */
	{
		g_autoptr(AiqClient) other = client_new(ts, ts->other_admin_token);
		g_autoptr(JsonNode) mine =
			aiq_client_create_workflow_sync(client, v1, NULL, NULL, NULL, &error);
		g_autoptr(JsonNode) node = NULL;
		g_assert_no_error(error);
		node = aiq_client_get_workflow_sync(other,
						    aiq_json_object_get_string(object(mine), "id"),
						    0,
						    NULL,
						    &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	}
}

static void
test_client_executions(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqClient) client = client_new(ts, ts->editor_token);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) v1 = bytes_new(workflow_yaml);
	g_autoptr(JsonNode) workflow = NULL;
	g_autoptr(JsonNode) exec = NULL;
	g_autoptr(JsonObject) inputs = json_object_new();
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *exec_id = NULL;
	gboolean created = FALSE;

	workflow = aiq_client_create_workflow_sync(client, v1, NULL, NULL, NULL, &error);
	g_assert_no_error(error);
	workflow_id = g_strdup(aiq_json_object_get_string(object(workflow), "id"));
	json_object_set_int_member(inputs, "n", 4);

	/* start, with an idempotency key */
	exec = aiq_client_start_execution_sync(client,
					       workflow_id,
					       inputs,
					       "key-1",
					       &created,
					       NULL,
					       &error);
	g_assert_no_error(error);
	g_assert_true(created);
	exec_id = g_strdup(aiq_json_object_get_string(object(exec), "id"));
	g_assert_true(aiq_id_is_valid(exec_id));
	g_assert_cmpstr(aiq_json_object_get_string(object(exec), "status"), ==, "queued");
	g_assert_cmpstr(aiq_json_object_get_string(object(exec), "trigger"), ==, "manual");
	/* the same key and body: the same execution */
	{
		g_autoptr(JsonNode) again = aiq_client_start_execution_sync(client,
									    workflow_id,
									    inputs,
									    "key-1",
									    &created,
									    NULL,
									    &error);
		g_assert_no_error(error);
		g_assert_false(created);
		g_assert_cmpstr(aiq_json_object_get_string(object(again), "id"), ==, exec_id);
	}
	/* the same key with other inputs: 422 */
	{
		g_autoptr(JsonObject) other = json_object_new();
		g_autoptr(JsonNode) node = NULL;
		json_object_set_int_member(other, "n", 5);
		node = aiq_client_start_execution_sync(client,
						       workflow_id,
						       other,
						       "key-1",
						       &created,
						       NULL,
						       &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_INPUT);
		g_clear_error(&error);
	}
	/* inputs of the wrong type: 422 */
	{
		g_autoptr(JsonObject) wrong = json_object_new();
		g_autoptr(JsonNode) node = NULL;
		json_object_set_string_member(wrong, "n", "four");
		node = aiq_client_start_execution_sync(client,
						       workflow_id,
						       wrong,
						       NULL,
						       NULL,
						       NULL,
						       &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_INPUT);
		g_clear_error(&error);
	}
	/* get, list */
	{
		g_autoptr(JsonNode) got =
			aiq_client_get_execution_sync(client, exec_id, NULL, &error);
		AiqClientExecutionQuery query = { .workflow_id = workflow_id, .limit = 10 };
		g_autoptr(JsonNode) page = NULL;
		JsonArray *items;
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_json_object_get_string(object(got), "workflow_id"),
				==,
				workflow_id);
		g_assert_cmpint(
			aiq_json_object_get_int(aiq_json_object_get_object(object(got), "inputs"),
						"n",
						0),
			==,
			4);
		page = aiq_client_list_executions_sync(client, &query, NULL, &error);
		g_assert_no_error(error);
		items = aiq_json_object_get_array(object(page), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		query.status = "succeeded";
		g_clear_pointer(&page, json_node_unref);
		page = aiq_client_list_executions_sync(client, &query, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(
			json_array_get_length(aiq_json_object_get_array(object(page), "items")),
			==,
			0);
	}
	/* events */
	{
		g_autoptr(JsonNode) events =
			aiq_client_list_execution_events_sync(client, exec_id, 0, NULL, &error);
		g_assert_no_error(error);
		g_assert_nonnull(aiq_json_object_get_array(object(events), "items"));
	}
	/* cancel a queued one: at once */
	{
		g_autoptr(AiqClientReply) reply = NULL;
		g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/cancel", exec_id);
		g_autoptr(JsonNode) node = aiq_client_request_sync(client,
								   "POST",
								   path,
								   NULL,
								   NULL,
								   NULL,
								   NULL,
								   &reply,
								   &error);
		g_assert_no_error(error);
		g_assert_cmpuint(aiq_client_reply_get_status(reply), ==, 202);
		g_assert_cmpstr(aiq_json_object_get_string(object(node), "status"),
				==,
				"cancelled");
	}
	/* retry the cancelled one; rerun it with other inputs */
	{
		g_autoptr(JsonNode) retry =
			aiq_client_retry_execution_sync(client, exec_id, NULL, &error);
		g_autoptr(JsonObject) other = json_object_new();
		g_autoptr(JsonNode) rerun = NULL;
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_json_object_get_string(object(retry), "retry_of"), ==, exec_id);
		g_assert_cmpstr(aiq_json_object_get_string(object(retry), "status"), ==, "queued");
		json_object_set_int_member(other, "n", 9);
		rerun = aiq_client_rerun_execution_sync(client, exec_id, other, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_json_object_get_string(object(rerun), "id"), !=, exec_id);
	}
	/* a disabled workflow: 409 */
	{
		g_autoptr(JsonNode) off = aiq_client_set_workflow_enabled_sync(client,
									       workflow_id,
									       FALSE,
									       NULL,
									       &error);
		g_autoptr(JsonNode) node = NULL;
		g_assert_no_error(error);
		node = aiq_client_start_execution_sync(client,
						       workflow_id,
						       NULL,
						       NULL,
						       NULL,
						       NULL,
						       &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONFLICT);
		g_clear_error(&error);
	}
	/* an unknown execution */
	{
		g_autofree gchar *nobody = aiq_id_new();
		g_autoptr(JsonNode) node =
			aiq_client_get_execution_sync(client, nobody, NULL, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	}
}

static void
test_client_agents(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autoptr(AiqClient) admin = client_new(ts, ts->admin_token);
	g_autoptr(AiqClient) editor = client_new(ts, ts->editor_token);
	g_autoptr(GError) error = NULL;
	const gchar *labels[] = { "site-a", "linux", NULL };

	{
		g_autoptr(JsonNode) page =
			aiq_client_list_agents_sync(editor, NULL, 0, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(
			json_array_get_length(aiq_json_object_get_array(object(page), "items")),
			==,
			0);
	}
	{
		g_autoptr(JsonNode) token = aiq_client_create_enrollment_token_sync(admin,
										    "agent-1",
										    labels,
										    "1h",
										    NULL,
										    &error);
		JsonArray *got_labels;
		g_assert_no_error(error);
		g_assert_nonnull(aiq_json_object_get_string(object(token), "token"));
		g_assert_nonnull(aiq_json_object_get_string(object(token), "expires_at"));
		g_assert_cmpstr(aiq_json_object_get_string(object(token), "name"), ==, "agent-1");
		got_labels = aiq_json_object_get_array(object(token), "labels");
		g_assert_cmpuint(json_array_get_length(got_labels), ==, 2);
	}
	/* only tenant admins make them */
	{
		g_autoptr(JsonNode) token = aiq_client_create_enrollment_token_sync(editor,
										    NULL,
										    NULL,
										    NULL,
										    NULL,
										    &error);
		g_assert_null(token);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_FORBIDDEN);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/client/new", test_client_new);
	g_test_add_func("/aiq/client/fingerprint", test_client_fingerprint);
	g_test_add_func("/aiq/client/tls", test_client_tls);
	g_test_add_func("/aiq/client/tls-wrong-host", test_client_tls_wrong_host);
	g_test_add_func("/aiq/client/fake-answers", test_client_fake_answers);
	g_test_add_func("/aiq/client/cancel", test_client_cancel);
	g_test_add_func("/aiq/client/me-errors", test_client_me_errors);
	g_test_add_func("/aiq/client/threads", test_client_threads);
	g_test_add_func("/aiq/client/login", test_client_login);
	g_test_add_func("/aiq/client/workflows", test_client_workflows);
	g_test_add_func("/aiq/client/executions", test_client_executions);
	g_test_add_func("/aiq/client/agents", test_client_agents);
	return g_test_run();
}
