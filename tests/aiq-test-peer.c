/*
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * aiq-test-peer: a small HTTP(S) server on 127.0.0.1 that stands in for the
 * partner APIs a workflow talks to. The http connector tests, the crash tests
 * and the example workflows use it. See usage() for the routes.
 */

#define G_LOG_DOMAIN "AiqTestPeer"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AIQ_TEST_PEER_MAX_SLOW_MS (10 * 60 * 1000)
#define AIQ_TEST_PEER_MAX_BIG (256 * 1024 * 1024)
#define AIQ_TEST_PEER_CHUNK (64 * 1024)
#define AIQ_TEST_PEER_N_INVOICES 20
#define AIQ_TEST_PEER_BASIC_USER "alice"
#define AIQ_TEST_PEER_BASIC_PASS "s3cret"
#define AIQ_TEST_PEER_BEARER_TOKEN "t0ken"

typedef struct {
	GMainLoop *loop;
	GHashTable *sink_counts; /* key → count, as GUINT_TO_POINTER */
	guint64 sink_requests;
	gint state_fd;
	guint health_fail; /* how many more /health requests answer 503 */
	gboolean health_down;
} AiqTestPeer;

static const gchar *usage_text =
	"Usage: aiq-test-peer [--tls CERT KEY] [--port N] [--state-file FILE] [--health-fail N]\n"
	"\n"
	"Listens on 127.0.0.1 (port 0 = ephemeral) and prints \"port=N\" once ready.\n"
	"\n"
	"Routes:\n"
	"  /echo[/...]            any method: {method, path, query, raw_query, headers, body}\n"
	"  /status/NNN            answers with status NNN\n"
	"  /slow?ms=N             answers after N ms\n"
	"  /big?bytes=N[&chunked=1]  N bytes of text\n"
	"  /invoices[?since=DATE] {items: [{id, customer, total, currency, issued}], count}\n"
	"  /health                200 {ok: true}, or 503 while down\n"
	"  POST /health/down|up   switch /health to 503 or back\n"
	"  POST /sink[/...]       counts the Idempotency-Key: {key, count, first}\n"
	"  GET /sink/stats        {requests, keys: {key: count}}\n"
	"  /redirect?to=URL[&status=N]  a redirect (302 by default)\n"
	"  /text, /binary, /json-bad     text, non-UTF-8 bytes, broken JSON\n"
	"  /auth/basic            200 for alice:s3cret, else 401\n"
	"  /auth/bearer           200 for token t0ken, else 401\n";

/* ---------------------------------------------------------------------------
 * helpers
 */

static void
aiq_test_peer_reply_json(SoupServerMessage *msg, guint status, JsonBuilder *builder)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	gsize len = 0;
	gchar *data;

	json_generator_set_root(gen, root);
	data = json_generator_to_data(gen, &len);
	soup_server_message_set_status(msg, status, NULL);
	if (status == SOUP_STATUS_NO_CONTENT || status == SOUP_STATUS_NOT_MODIFIED) {
		g_free(data);
		return;
	}
	soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, data, len);
}

static void
aiq_test_peer_reply_error(SoupServerMessage *msg, guint status, const gchar *message)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "error");
	json_builder_add_string_value(builder, message);
	json_builder_end_object(builder);
	aiq_test_peer_reply_json(msg, status, builder);
}

static const gchar *
aiq_test_peer_query_get(GHashTable *query, const gchar *name)
{
	return query != NULL ? g_hash_table_lookup(query, name) : NULL;
}

static gboolean
aiq_test_peer_parse_uint(const gchar *str, guint64 max, guint64 *value)
{
	return str != NULL && g_ascii_string_to_unsigned(str, 10, 0, max, value, NULL);
}

static gboolean
aiq_test_peer_is_method(SoupServerMessage *msg, const gchar *method)
{
	return g_strcmp0(soup_server_message_get_method(msg), method) == 0;
}

/* ---------------------------------------------------------------------------
 * /echo
 */

static void
aiq_test_peer_echo(SoupServerMessage *msg, const gchar *path, GHashTable *query)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GBytes) body =
		soup_message_body_flatten(soup_server_message_get_request_body(msg));
	g_autoptr(GHashTable) headers =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GList) names = NULL;
	g_autofree gchar *body_text = NULL;
	SoupMessageHeadersIter iter;
	const gchar *name;
	const gchar *value;
	gsize body_len = 0;
	const gchar *body_data = g_bytes_get_data(body, &body_len);
	const gchar *raw_query = g_uri_get_query(soup_server_message_get_uri(msg));

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "method");
	json_builder_add_string_value(builder, soup_server_message_get_method(msg));
	json_builder_set_member_name(builder, "path");
	json_builder_add_string_value(builder, path);

	json_builder_set_member_name(builder, "query");
	json_builder_begin_object(builder);
	if (query != NULL) {
		names = g_hash_table_get_keys(query);
		names = g_list_sort(names, (GCompareFunc)g_strcmp0);
		for (GList *l = names; l != NULL; l = l->next) {
			json_builder_set_member_name(builder, l->data);
			json_builder_add_string_value(builder, g_hash_table_lookup(query, l->data));
		}
	}
	json_builder_end_object(builder);
	json_builder_set_member_name(builder, "raw_query");
	json_builder_add_string_value(builder, raw_query != NULL ? raw_query : "");

	soup_message_headers_iter_init(&iter, soup_server_message_get_request_headers(msg));
	while (soup_message_headers_iter_next(&iter, &name, &value)) {
		gchar *lower = g_ascii_strdown(name, -1);
		const gchar *previous = g_hash_table_lookup(headers, lower);
		if (previous != NULL)
			g_hash_table_replace(headers,
					     lower,
					     g_strdup_printf("%s, %s", previous, value));
		else
			g_hash_table_replace(headers, lower, g_utf8_make_valid(value, -1));
	}
	g_clear_pointer(&names, g_list_free);
	names = g_list_sort(g_hash_table_get_keys(headers), (GCompareFunc)g_strcmp0);
	json_builder_set_member_name(builder, "headers");
	json_builder_begin_object(builder);
	for (GList *l = names; l != NULL; l = l->next) {
		json_builder_set_member_name(builder, l->data);
		json_builder_add_string_value(builder, g_hash_table_lookup(headers, l->data));
	}
	json_builder_end_object(builder);

	body_text = g_utf8_make_valid(body_data != NULL ? body_data : "", (gssize)body_len);
	json_builder_set_member_name(builder, "body");
	json_builder_add_string_value(builder, body_text);
	json_builder_end_object(builder);
	aiq_test_peer_reply_json(msg, SOUP_STATUS_OK, builder);
}

/* ---------------------------------------------------------------------------
 * /status/NNN
 */

static void
aiq_test_peer_status(SoupServerMessage *msg, const gchar *path)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	guint64 status = 0;

	if (!aiq_test_peer_parse_uint(path + strlen("/status/"), 599, &status) || status < 200) {
		aiq_test_peer_reply_error(msg,
					  SOUP_STATUS_BAD_REQUEST,
					  "status must be 200 to 599");
		return;
	}
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "status");
	json_builder_add_int_value(builder, (gint64)status);
	json_builder_set_member_name(builder, "reason");
	json_builder_add_string_value(builder, soup_status_get_phrase((guint)status));
	json_builder_end_object(builder);
	aiq_test_peer_reply_json(msg, (guint)status, builder);
}

/* ---------------------------------------------------------------------------
 * /slow?ms=N: answers later without blocking the loop
 */

typedef struct {
	SoupServerMessage *msg;
	GSource *timeout;
	guint64 ms;
} AiqTestPeerSlow;

static void
aiq_test_peer_slow_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	AiqTestPeerSlow *slow = user_data;
	g_source_destroy(slow->timeout);
	g_source_unref(slow->timeout);
	g_signal_handlers_disconnect_by_data(slow->msg, slow);
	g_object_unref(slow->msg);
	g_free(slow);
}

static gboolean
aiq_test_peer_slow_cb(gpointer user_data)
{
	AiqTestPeerSlow *slow = user_data;
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "slept_ms");
	json_builder_add_int_value(builder, (gint64)slow->ms);
	json_builder_end_object(builder);
	aiq_test_peer_reply_json(slow->msg, SOUP_STATUS_OK, builder);
	/* "finished" may free @slow from inside this call */
	soup_server_message_unpause(slow->msg);
	return G_SOURCE_REMOVE;
}

static void
aiq_test_peer_slow(SoupServerMessage *msg, GHashTable *query)
{
	AiqTestPeerSlow *slow;
	guint64 ms = 0;

	if (!aiq_test_peer_parse_uint(aiq_test_peer_query_get(query, "ms"),
				      AIQ_TEST_PEER_MAX_SLOW_MS,
				      &ms)) {
		aiq_test_peer_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "ms must be 0 to 600000");
		return;
	}
	slow = g_new0(AiqTestPeerSlow, 1);
	slow->msg = g_object_ref(msg);
	slow->ms = ms;
	slow->timeout = g_timeout_source_new((guint)ms);
	g_source_set_callback(slow->timeout, aiq_test_peer_slow_cb, slow, NULL);
	g_source_attach(slow->timeout, NULL);
	g_signal_connect(msg, "finished", G_CALLBACK(aiq_test_peer_slow_finished_cb), slow);
	soup_server_message_pause(msg);
}

/* ---------------------------------------------------------------------------
 * /big?bytes=N
 */

static void
aiq_test_peer_big(SoupServerMessage *msg, GHashTable *query)
{
	static const gchar pattern[] =
		"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU\n";
	SoupMessageBody *body = soup_server_message_get_response_body(msg);
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
	gboolean chunked = g_strcmp0(aiq_test_peer_query_get(query, "chunked"), "1") == 0;
	g_autofree gchar *buf = NULL;
	guint64 bytes = 0;

	if (!aiq_test_peer_parse_uint(aiq_test_peer_query_get(query, "bytes"),
				      AIQ_TEST_PEER_MAX_BIG,
				      &bytes)) {
		aiq_test_peer_reply_error(msg,
					  SOUP_STATUS_BAD_REQUEST,
					  "bytes must be 0 to 256 MiB");
		return;
	}
	buf = g_malloc(AIQ_TEST_PEER_CHUNK);
	for (gsize i = 0; i < AIQ_TEST_PEER_CHUNK; i++)
		buf[i] = pattern[i % (sizeof(pattern) - 1)];
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_message_headers_set_content_type(headers, "text/plain", NULL);
	soup_message_headers_set_encoding(headers,
					  chunked ? SOUP_ENCODING_CHUNKED
						  : SOUP_ENCODING_CONTENT_LENGTH);
	if (!chunked)
		soup_message_headers_set_content_length(headers, (goffset)bytes);
	for (guint64 done = 0; done < bytes;) {
		gsize n = (gsize)MIN(bytes - done, AIQ_TEST_PEER_CHUNK);
		soup_message_body_append(body, SOUP_MEMORY_COPY, buf, n);
		done += n;
	}
	soup_message_body_complete(body);
}

/* ---------------------------------------------------------------------------
 * /invoices: deterministic data for the example workflows
 */

static void
aiq_test_peer_invoices(SoupServerMessage *msg, GHashTable *query)
{
	static const gchar *const customers[] = { "Acme GmbH",
						  "Globex Ltd",
						  "Initech Inc",
						  "Umbrella Pte Ltd",
						  "Stark Industries" };
	static const gchar *const currencies[] = { "EUR", "USD", "SGD" };
	const gchar *since = aiq_test_peer_query_get(query, "since");
	g_autoptr(JsonBuilder) builder = json_builder_new();
	guint count = 0;

	/* a date filters by issue date; anything else ("yesterday") returns all */
	if (since != NULL && (strlen(since) != 10 || since[4] != '-' || since[7] != '-'))
		since = NULL;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "items");
	json_builder_begin_array(builder);
	for (guint i = 0; i < AIQ_TEST_PEER_N_INVOICES; i++) {
		g_autofree gchar *id = g_strdup_printf("INV-%04u", 1001 + i);
		g_autofree gchar *issued = g_strdup_printf("2024-03-%02u", i + 1);
		/* quarters are exact in binary, so totals print as written */
		gdouble total = 50.0 + (gdouble)((i * 37) % 400) + 0.25 * (gdouble)(i % 4);
		if (since != NULL && g_strcmp0(issued, since) < 0)
			continue;
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "id");
		json_builder_add_string_value(builder, id);
		json_builder_set_member_name(builder, "customer");
		json_builder_add_string_value(builder, customers[i % G_N_ELEMENTS(customers)]);
		json_builder_set_member_name(builder, "total");
		json_builder_add_double_value(builder, total);
		json_builder_set_member_name(builder, "currency");
		json_builder_add_string_value(builder, currencies[i % G_N_ELEMENTS(currencies)]);
		json_builder_set_member_name(builder, "issued");
		json_builder_add_string_value(builder, issued);
		json_builder_end_object(builder);
		count++;
	}
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "count");
	json_builder_add_int_value(builder, count);
	json_builder_end_object(builder);
	aiq_test_peer_reply_json(msg, SOUP_STATUS_OK, builder);
}

/* ---------------------------------------------------------------------------
 * /health
 */

static void
aiq_test_peer_health(AiqTestPeer *self, SoupServerMessage *msg, const gchar *path)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	gboolean ok;

	if (g_strcmp0(path, "/health/down") == 0 || g_strcmp0(path, "/health/up") == 0) {
		if (!aiq_test_peer_is_method(msg, SOUP_METHOD_POST)) {
			aiq_test_peer_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
			return;
		}
		self->health_down = g_strcmp0(path, "/health/down") == 0;
		self->health_fail = 0;
		ok = !self->health_down;
	} else if (g_strcmp0(path, "/health") == 0) {
		ok = !self->health_down && self->health_fail == 0;
		if (self->health_fail > 0)
			self->health_fail--;
	} else {
		aiq_test_peer_reply_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
		return;
	}
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "ok");
	json_builder_add_boolean_value(builder, ok);
	json_builder_end_object(builder);
	aiq_test_peer_reply_json(msg,
				 ok ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE,
				 builder);
}

/* ---------------------------------------------------------------------------
 * /sink: counts requests per Idempotency-Key, durably with --state-file
 */

static void
aiq_test_peer_sink_count(AiqTestPeer *self, const gchar *key)
{
	self->sink_requests++;
	if (key != NULL && *key != '\0') {
		guint count = GPOINTER_TO_UINT(g_hash_table_lookup(self->sink_counts, key));
		g_hash_table_replace(self->sink_counts, g_strdup(key), GUINT_TO_POINTER(count + 1));
	}
}

static gboolean
aiq_test_peer_sink_load(AiqTestPeer *self, const gchar *filename, GError **error)
{
	g_autofree gchar *data = NULL;
	gsize len = 0;
	const gchar *p;

	if (!g_file_get_contents(filename, &data, &len, error)) {
		if (g_error_matches(*error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_clear_error(error);
			return TRUE;
		}
		return FALSE;
	}
	p = data;
	/* one line per request; a last line without its newline was never
	 * acknowledged and does not count */
	while (p < data + len) {
		const gchar *nl = memchr(p, '\n', (gsize)(data + len - p));
		g_autofree gchar *key = NULL;
		if (nl == NULL)
			break;
		key = g_strndup(p, (gsize)(nl - p));
		aiq_test_peer_sink_count(self, key);
		p = nl + 1;
	}
	return TRUE;
}

static gboolean
aiq_test_peer_sink_append(AiqTestPeer *self, const gchar *key, GError **error)
{
	g_autofree gchar *line = g_strdup_printf("%s\n", key != NULL ? key : "");
	gsize len = strlen(line);
	gsize done = 0;

	if (self->state_fd < 0)
		return TRUE;
	while (done < len) {
		gssize n = write(self->state_fd, line + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(errno),
				    "cannot write the state file: %s",
				    g_strerror(errno));
			return FALSE;
		}
		done += (gsize)n;
	}
	if (fsync(self->state_fd) < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "cannot sync the state file: %s",
			    g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static void
aiq_test_peer_sink_stats(AiqTestPeer *self, SoupServerMessage *msg)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GList) keys =
		g_list_sort(g_hash_table_get_keys(self->sink_counts), (GCompareFunc)g_strcmp0);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "requests");
	json_builder_add_int_value(builder, (gint64)self->sink_requests);
	json_builder_set_member_name(builder, "keys");
	json_builder_begin_object(builder);
	for (GList *l = keys; l != NULL; l = l->next) {
		json_builder_set_member_name(builder, l->data);
		json_builder_add_int_value(
			builder,
			GPOINTER_TO_UINT(g_hash_table_lookup(self->sink_counts, l->data)));
	}
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	aiq_test_peer_reply_json(msg, SOUP_STATUS_OK, builder);
}

static void
aiq_test_peer_sink(AiqTestPeer *self, SoupServerMessage *msg, const gchar *path)
{
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	const gchar *key = soup_message_headers_get_one(headers, "Idempotency-Key");
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GError) error = NULL;
	guint count = 0;

	if (g_strcmp0(path, "/sink/stats") == 0 && aiq_test_peer_is_method(msg, SOUP_METHOD_GET)) {
		aiq_test_peer_sink_stats(self, msg);
		return;
	}
	if (!aiq_test_peer_is_method(msg, SOUP_METHOD_POST)) {
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "Allow",
					     "POST");
		aiq_test_peer_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
		return;
	}
	if (key != NULL && strpbrk(key, "\r\n") != NULL) {
		aiq_test_peer_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "bad Idempotency-Key");
		return;
	}
	/* durable before it is acknowledged */
	if (!aiq_test_peer_sink_append(self, key, &error)) {
		g_warning("%s", error->message);
		aiq_test_peer_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
		return;
	}
	aiq_test_peer_sink_count(self, key);
	if (key != NULL && *key != '\0')
		count = GPOINTER_TO_UINT(g_hash_table_lookup(self->sink_counts, key));

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "key");
	if (key != NULL && *key != '\0')
		json_builder_add_string_value(builder, key);
	else
		json_builder_add_null_value(builder);
	json_builder_set_member_name(builder, "count");
	json_builder_add_int_value(builder, count);
	json_builder_set_member_name(builder, "first");
	json_builder_add_boolean_value(builder, count <= 1);
	json_builder_end_object(builder);
	aiq_test_peer_reply_json(msg, SOUP_STATUS_OK, builder);
}

/* ---------------------------------------------------------------------------
 * the small routes
 */

static void
aiq_test_peer_redirect(SoupServerMessage *msg, GHashTable *query)
{
	const gchar *to = aiq_test_peer_query_get(query, "to");
	const gchar *status_str = aiq_test_peer_query_get(query, "status");
	guint64 status = SOUP_STATUS_FOUND;

	if (to == NULL || *to == '\0') {
		aiq_test_peer_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "to is missing");
		return;
	}
	if (status_str != NULL &&
	    (!aiq_test_peer_parse_uint(status_str, 399, &status) || status < 300)) {
		aiq_test_peer_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "status must be 3xx");
		return;
	}
	soup_server_message_set_redirect(msg, (guint)status, to);
}

static void
aiq_test_peer_auth_basic(SoupServerMessage *msg)
{
	const gchar *header =
		soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
					     "Authorization");
	g_autoptr(JsonBuilder) builder = json_builder_new();

	if (header != NULL && g_str_has_prefix(header, "Basic ")) {
		gsize len = 0;
		g_autofree guchar *decoded = g_base64_decode(header + strlen("Basic "), &len);
		g_autofree gchar *pair = g_strndup((const gchar *)decoded, len);
		if (g_strcmp0(pair, AIQ_TEST_PEER_BASIC_USER ":" AIQ_TEST_PEER_BASIC_PASS) == 0) {
			json_builder_begin_object(builder);
			json_builder_set_member_name(builder, "user");
			json_builder_add_string_value(builder, AIQ_TEST_PEER_BASIC_USER);
			json_builder_end_object(builder);
			aiq_test_peer_reply_json(msg, SOUP_STATUS_OK, builder);
			return;
		}
	}
	soup_message_headers_replace(soup_server_message_get_response_headers(msg),
				     "WWW-Authenticate",
				     "Basic realm=\"aiq-test-peer\"");
	aiq_test_peer_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "bad credentials");
}

static void
aiq_test_peer_auth_bearer(SoupServerMessage *msg)
{
	const gchar *header =
		soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
					     "Authorization");
	g_autoptr(JsonBuilder) builder = json_builder_new();

	if (g_strcmp0(header, "Bearer " AIQ_TEST_PEER_BEARER_TOKEN) == 0) {
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "token");
		json_builder_add_string_value(builder, "ok");
		json_builder_end_object(builder);
		aiq_test_peer_reply_json(msg, SOUP_STATUS_OK, builder);
		return;
	}
	soup_message_headers_replace(soup_server_message_get_response_headers(msg),
				     "WWW-Authenticate",
				     "Bearer realm=\"aiq-test-peer\"");
	aiq_test_peer_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "bad token");
}

static void
aiq_test_peer_handler(SoupServer *server,
		      SoupServerMessage *msg,
		      const gchar *path,
		      GHashTable *query,
		      gpointer user_data)
{
	AiqTestPeer *self = user_data;
	static const guchar binary[] = { 0x00, 0xff, 0xfe, 0x80, 0x81, 'a', 0xc3, 0x28, 0x0a };
	static const gchar bad_json[] = "{\"broken\": tru";

	g_debug("%s %s", soup_server_message_get_method(msg), path);

	if (g_strcmp0(path, "/echo") == 0 || g_str_has_prefix(path, "/echo/")) {
		aiq_test_peer_echo(msg, path, query);
	} else if (g_str_has_prefix(path, "/status/")) {
		aiq_test_peer_status(msg, path);
	} else if (g_strcmp0(path, "/slow") == 0) {
		aiq_test_peer_slow(msg, query);
	} else if (g_strcmp0(path, "/big") == 0) {
		aiq_test_peer_big(msg, query);
	} else if (g_strcmp0(path, "/invoices") == 0) {
		aiq_test_peer_invoices(msg, query);
	} else if (g_strcmp0(path, "/health") == 0 || g_str_has_prefix(path, "/health/")) {
		aiq_test_peer_health(self, msg, path);
	} else if (g_strcmp0(path, "/sink") == 0 || g_str_has_prefix(path, "/sink/")) {
		aiq_test_peer_sink(self, msg, path);
	} else if (g_strcmp0(path, "/redirect") == 0) {
		aiq_test_peer_redirect(msg, query);
	} else if (g_strcmp0(path, "/text") == 0) {
		soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
		soup_server_message_set_response(msg,
						 "text/plain; charset=utf-8",
						 SOUP_MEMORY_STATIC,
						 "hello, world\n",
						 strlen("hello, world\n"));
	} else if (g_strcmp0(path, "/binary") == 0) {
		soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
		soup_server_message_set_response(msg,
						 "application/octet-stream",
						 SOUP_MEMORY_STATIC,
						 (const gchar *)binary,
						 sizeof(binary));
	} else if (g_strcmp0(path, "/json-bad") == 0) {
		soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
		soup_server_message_set_response(msg,
						 "application/json",
						 SOUP_MEMORY_STATIC,
						 bad_json,
						 strlen(bad_json));
	} else if (g_strcmp0(path, "/auth/basic") == 0) {
		aiq_test_peer_auth_basic(msg);
	} else if (g_strcmp0(path, "/auth/bearer") == 0) {
		aiq_test_peer_auth_bearer(msg);
	} else {
		aiq_test_peer_reply_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
	}
}

/* ---------------------------------------------------------------------------
 * main
 */

static gboolean
aiq_test_peer_quit_cb(gpointer user_data)
{
	AiqTestPeer *self = user_data;
	g_main_loop_quit(self->loop);
	return G_SOURCE_CONTINUE;
}

static int
aiq_test_peer_usage_error(const gchar *message)
{
	g_printerr("aiq-test-peer: %s\n\n%s", message, usage_text);
	return 2;
}

/* "--name VALUE" or "--name=VALUE" */
static gboolean
aiq_test_peer_take_arg(gchar **argv, gint argc, gint *i, const gchar *name, const gchar **value)
{
	gsize len = strlen(name);
	if (strncmp(argv[*i], name, len) != 0)
		return FALSE;
	if (argv[*i][len] == '=') {
		*value = argv[*i] + len + 1;
		return TRUE;
	}
	if (argv[*i][len] != '\0')
		return FALSE;
	*value = *i + 1 < argc ? argv[++*i] : NULL;
	return TRUE;
}

int
main(int argc, char **argv)
{
	AiqTestPeer self = { 0 };
	const gchar *cert_file = NULL;
	const gchar *key_file = NULL;
	const gchar *state_file = NULL;
	guint64 port = 0;
	guint64 health_fail = 0;
	g_autoptr(SoupServer) server = NULL;
	g_autoptr(GTlsCertificate) certificate = NULL;
	g_autoptr(GError) error = NULL;
	GSList *uris;
	SoupServerListenOptions options = SOUP_SERVER_LISTEN_IPV4_ONLY;
	guint sigterm_id;
	guint sigint_id;

	for (gint i = 1; i < argc; i++) {
		const gchar *value = NULL;
		if (g_strcmp0(argv[i], "--help") == 0 || g_strcmp0(argv[i], "-h") == 0) {
			g_print("%s", usage_text);
			return 0;
		} else if (g_strcmp0(argv[i], "--tls") == 0) {
			if (i + 2 >= argc)
				return aiq_test_peer_usage_error("--tls needs CERT and KEY");
			cert_file = argv[++i];
			key_file = argv[++i];
		} else if (aiq_test_peer_take_arg(argv, argc, &i, "--port", &value)) {
			if (!aiq_test_peer_parse_uint(value, 65535, &port))
				return aiq_test_peer_usage_error(
					"--port needs a number 0 to 65535");
		} else if (aiq_test_peer_take_arg(argv, argc, &i, "--state-file", &value)) {
			if (value == NULL || *value == '\0')
				return aiq_test_peer_usage_error("--state-file needs a file name");
			state_file = value;
		} else if (aiq_test_peer_take_arg(argv, argc, &i, "--health-fail", &value)) {
			if (!aiq_test_peer_parse_uint(value, G_MAXUINT, &health_fail))
				return aiq_test_peer_usage_error("--health-fail needs a number");
		} else {
			g_autofree gchar *message =
				g_strdup_printf("unknown argument “%s”", argv[i]);
			return aiq_test_peer_usage_error(message);
		}
	}

	self.state_fd = -1;
	self.health_fail = (guint)health_fail;
	self.sink_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (state_file != NULL) {
		if (!aiq_test_peer_sink_load(&self, state_file, &error)) {
			g_printerr("aiq-test-peer: %s\n", error->message);
			return 1;
		}
		self.state_fd = open(state_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (self.state_fd < 0) {
			g_printerr("aiq-test-peer: cannot open %s: %s\n",
				   state_file,
				   g_strerror(errno));
			return 1;
		}
	}

	if (cert_file != NULL) {
		certificate = g_tls_certificate_new_from_files(cert_file, key_file, &error);
		if (certificate == NULL) {
			g_printerr("aiq-test-peer: cannot load %s and %s: %s\n",
				   cert_file,
				   key_file,
				   error->message);
			return 1;
		}
		options |= SOUP_SERVER_LISTEN_HTTPS;
		server = soup_server_new("tls-certificate", certificate, NULL);
	} else {
		server = soup_server_new(NULL, NULL);
	}
	soup_server_add_handler(server, NULL, aiq_test_peer_handler, &self, NULL);
	if (!soup_server_listen_local(server, (guint)port, options, &error)) {
		g_printerr("aiq-test-peer: cannot listen on 127.0.0.1:%u: %s\n",
			   (guint)port,
			   error->message);
		return 1;
	}
	uris = soup_server_get_uris(server);
	if (uris == NULL) {
		g_printerr("aiq-test-peer: not listening\n");
		return 1;
	}
	port = (guint64)g_uri_get_port(uris->data);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);

	self.loop = g_main_loop_new(NULL, FALSE);
	sigterm_id = g_unix_signal_add(SIGTERM, aiq_test_peer_quit_cb, &self);
	sigint_id = g_unix_signal_add(SIGINT, aiq_test_peer_quit_cb, &self);

	g_print("port=%u\n", (guint)port);
	fflush(stdout);
	g_main_loop_run(self.loop);

	g_source_remove(sigterm_id);
	g_source_remove(sigint_id);
	soup_server_disconnect(server);
	g_clear_object(&server);
	g_main_loop_unref(self.loop);
	g_hash_table_unref(self.sink_counts);
	if (self.state_fd >= 0)
		close(self.state_fd);
	return 0;
}
