/*
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * The http step kind against the real aiq-test-peer over HTTPS on loopback,
 * run through the real AiqStepRun.
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "aiq-config.h"
#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-problems.h"
#include "aiq-step-kind.h"
#include "aiq-step-run.h"

/* generous: only to turn a hang into a failure */
#define AIQ_TEST_GUARD_MS (60 * 1000)
/* "promptly" for cancellation and timeouts, far above what they take */
#define AIQ_TEST_PROMPT_MS (10 * 1000)

typedef struct {
	GSubprocess *proc;
	GDataInputStream *stdout_stream;
	guint port;
	gchar *url; /* scheme://127.0.0.1:port */
} AiqPeer;

static AiqPeer *https_peer = NULL;
static AiqPeer *http_peer = NULL;
static AiqConfig *test_config = NULL;

/* ---------------------------------------------------------------------------
 * main-loop helpers
 */

static gboolean
aiq_test_guard_cb(gpointer user_data)
{
	g_error("test timed out after %d ms waiting for %s", AIQ_TEST_GUARD_MS, (gchar *)user_data);
	return G_SOURCE_REMOVE;
}

/* iterates the thread-default context until *@flag is set */
static void
aiq_test_wait_for(gboolean *flag, const gchar *what)
{
	GMainContext *context = g_main_context_get_thread_default();
	GSource *guard = g_timeout_source_new(AIQ_TEST_GUARD_MS);
	g_source_set_callback(guard, aiq_test_guard_cb, (gpointer)what, NULL);
	g_source_attach(guard, context);
	while (!*flag)
		g_main_context_iteration(context, TRUE);
	g_source_destroy(guard);
	g_source_unref(guard);
}

/* iterates until @pred holds or @timeout_ms pass; returns whether it held */
static gboolean
aiq_test_wait_until(gboolean (*pred)(gpointer), gpointer data, guint timeout_ms)
{
	GMainContext *context = g_main_context_get_thread_default();
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	while (!pred(data)) {
		if (g_get_monotonic_time() > deadline)
			return FALSE;
		g_main_context_iteration(context, FALSE);
		g_usleep(1000);
	}
	return TRUE;
}

/* ---------------------------------------------------------------------------
 * the peer
 */

typedef struct {
	gchar *line;
	gboolean done;
} AiqPeerLine;

static void
aiq_peer_read_line_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AiqPeerLine *line = user_data;
	g_autoptr(GError) error = NULL;
	line->line = g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source),
							       res,
							       NULL,
							       &error);
	g_assert_no_error(error);
	line->done = TRUE;
}

/* a peer must not outlive a test that aborts */
static void
aiq_peer_child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* starts the peer; @extra are more arguments, e.g. --state-file F */
static AiqPeer *
aiq_peer_start_full(const gchar *cert_name, const gchar *const *extra)
{
	AiqPeer *peer = g_new0(AiqPeer, 1);
	const gchar *binary = g_getenv("AIQ_TEST_PEER");
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GError) error = NULL;
	AiqPeerLine line = { NULL, FALSE };
	guint64 port = 0;

	g_assert_nonnull(binary);
	g_ptr_array_add(argv, g_strdup(binary));
	if (cert_name != NULL) {
		g_autofree gchar *cert = g_strdup_printf("%s.pem", cert_name);
		g_autofree gchar *key = g_strdup_printf("%s-key.pem", cert_name);
		g_ptr_array_add(argv, g_strdup("--tls"));
		g_ptr_array_add(argv, g_test_build_filename(G_TEST_DIST, "ca", cert, NULL));
		g_ptr_array_add(argv, g_test_build_filename(G_TEST_DIST, "ca", key, NULL));
	}
	for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(extra[i]));
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, aiq_peer_child_setup, NULL, NULL);
	peer->proc =
		g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	peer->stdout_stream = g_data_input_stream_new(g_subprocess_get_stdout_pipe(peer->proc));
	g_data_input_stream_read_line_async(peer->stdout_stream,
					    G_PRIORITY_DEFAULT,
					    NULL,
					    aiq_peer_read_line_cb,
					    &line);
	aiq_test_wait_for(&line.done, "the peer's port line");
	g_assert_nonnull(line.line);
	g_assert_true(g_str_has_prefix(line.line, "port="));
	g_assert_true(g_ascii_string_to_unsigned(line.line + 5, 10, 1, 65535, &port, NULL));
	g_free(line.line);
	peer->port = (guint)port;
	peer->url = g_strdup_printf("%s://127.0.0.1:%u",
				    cert_name != NULL ? "https" : "http",
				    peer->port);
	return peer;
}

static AiqPeer *
aiq_peer_start(const gchar *cert_name)
{
	const gchar *extra[] = { "--port=0", NULL };
	return aiq_peer_start_full(cert_name, extra);
}

static void
aiq_peer_stop(AiqPeer *peer)
{
	g_autoptr(GError) error = NULL;
	if (peer == NULL)
		return;
	g_subprocess_send_signal(peer->proc, SIGTERM);
	g_subprocess_wait(peer->proc, NULL, &error);
	g_assert_no_error(error);
	/* SIGTERM is a clean exit for the peer */
	if (!g_subprocess_get_successful(peer->proc)) {
		g_error("aiq-test-peer did not exit cleanly on SIGTERM (%s %d); under "
			"sanitizers, LeakSanitizer crashes on the dynamic TLS of "
			"glib-networking: run with ASAN_OPTIONS=detect_leaks=0",
			g_subprocess_get_if_signaled(peer->proc) ? "signal" : "status",
			g_subprocess_get_if_signaled(peer->proc)
				? g_subprocess_get_term_sig(peer->proc)
				: g_subprocess_get_exit_status(peer->proc));
	}
	g_object_unref(peer->stdout_stream);
	g_object_unref(peer->proc);
	g_free(peer->url);
	g_free(peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqPeer, aiq_peer_stop)

static AiqPeer *
aiq_test_https_peer(void)
{
	if (https_peer == NULL)
		https_peer = aiq_peer_start("server");
	return https_peer;
}

static AiqPeer *
aiq_test_http_peer(void)
{
	if (http_peer == NULL)
		http_peer = aiq_peer_start(NULL);
	return http_peer;
}

/* ---------------------------------------------------------------------------
 * running the step kind
 */

typedef struct {
	gboolean done;
	gint64 finished_us;
} AiqTestRunState;

static void
aiq_test_run_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AiqTestRunState *state = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) output = aiq_step_run_run_finish(AIQ_STEP_RUN(source), res, &error);
	/* the same result is read from the run itself */
	state->done = TRUE;
	state->finished_us = g_get_monotonic_time();
}

static JsonObject *
aiq_test_parse_object(const gchar *json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_json_parse(json, strlen(json), AIQ_JSON_MAX_DEPTH, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_object_ref(json_node_get_object(node));
}

static AiqStepRun *
aiq_test_new_run(const gchar *with_json, const gchar *step_key)
{
	g_autoptr(JsonObject) with = aiq_test_parse_object(with_json);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) params =
		aiq_step_kind_resolve_params(&aiq_step_kind_http, with, &error);
	AiqStepRun *run;

	g_assert_no_error(error);
	run = aiq_step_run_new(&aiq_step_kind_http, params, test_config);
	if (step_key != NULL)
		aiq_step_run_set_step_key(run, step_key);
	return run;
}

static gboolean
aiq_test_cancel_cb(gpointer user_data)
{
	g_cancellable_cancel(G_CANCELLABLE(user_data));
	return G_SOURCE_REMOVE;
}

/* runs @run to the end; cancels it after @cancel_after_ms when positive */
static gint64
aiq_test_run_full(AiqStepRun *run, guint cancel_after_ms)
{
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	AiqTestRunState state = { FALSE, 0 };
	gint64 started = g_get_monotonic_time();
	GSource *cancel_source = NULL;

	if (cancel_after_ms > 0) {
		cancel_source = g_timeout_source_new(cancel_after_ms);
		g_source_set_callback(cancel_source,
				      aiq_test_cancel_cb,
				      g_object_ref(cancellable),
				      g_object_unref);
		g_source_attach(cancel_source, g_main_context_get_thread_default());
	}
	aiq_step_run_run_async(run, cancellable, aiq_test_run_cb, &state);
	aiq_test_wait_for(&state.done, "the step to finish");
	if (cancel_source != NULL) {
		g_source_destroy(cancel_source);
		g_source_unref(cancel_source);
	}
	g_assert_true(aiq_step_run_is_finished(run));
	return (state.finished_us - started) / 1000;
}

/* runs `with` (a printf format of JSON) to the end */
static AiqStepRun *
aiq_test_run(const gchar *step_key, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static AiqStepRun *
aiq_test_run(const gchar *step_key, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *with_json = NULL;
	AiqStepRun *run;

	va_start(args, format);
	with_json = g_strdup_vprintf(format, args);
	va_end(args);
	run = aiq_test_new_run(with_json, step_key);
	aiq_test_run_full(run, 0);
	return run;
}

static JsonObject *
aiq_test_output(AiqStepRun *run)
{
	JsonNode *output = aiq_step_run_get_output(run);
	g_assert_nonnull(output);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(output));
	return json_node_get_object(output);
}

/* the output of a run that succeeded */
static JsonObject *
aiq_test_output_ok(AiqStepRun *run)
{
	const GError *error = aiq_step_run_get_error(run);
	if (error != NULL)
		g_error("step failed: %s\nlog:\n%s", error->message, aiq_step_run_get_log(run));
	return aiq_test_output(run);
}

/* the echo route's answer, parsed as JSON by the connector */
static JsonObject *
aiq_test_echo(AiqStepRun *run)
{
	JsonObject *output = aiq_test_output_ok(run);
	JsonObject *echo = aiq_json_object_get_object(output, "body");
	g_assert_nonnull(echo);
	return echo;
}

static const gchar *
aiq_test_echo_header(AiqStepRun *run, const gchar *name)
{
	JsonObject *headers = aiq_json_object_get_object(aiq_test_echo(run), "headers");
	g_assert_nonnull(headers);
	return aiq_json_object_get_string(headers, name);
}

static void
aiq_test_assert_error(AiqStepRun *run, AiqError code, const gchar *needle)
{
	const GError *error = aiq_step_run_get_error(run);
	if (error == NULL)
		g_error("expected %s, the step succeeded", aiq_error_code_to_string(code));
	if (!g_error_matches(error, AIQ_ERROR, (gint)code) ||
	    strstr(error->message, needle) == NULL)
		g_error("expected %s mentioning “%s”, got %s: %s",
			aiq_error_code_to_string(code),
			needle,
			g_quark_to_string(error->domain),
			error->message);
}

static gboolean
aiq_test_log_contains_cb(gpointer user_data)
{
	gpointer *pair = user_data;
	return strstr(aiq_step_run_get_log(pair[0]), pair[1]) != NULL;
}

/* ---------------------------------------------------------------------------
 * the tests
 */

static void
aiq_test_http_get_json(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run =
		aiq_test_run("", "{\"url\": \"%s/echo?x=1\", \"ca\": \"test\"}", peer->url);
	JsonObject *output = aiq_test_output_ok(run);
	JsonObject *echo = aiq_test_echo(run);
	JsonObject *headers = aiq_json_object_get_object(output, "headers");
	g_autofree gchar *url = g_strdup_printf("%s/echo?x=1", peer->url);
	g_autofree gchar *log_prefix = g_strdup_printf("GET %s → 200 (", url);
	g_autoptr(GList) names = NULL;

	g_assert_cmpint(json_object_get_int_member(output, "status"), ==, 200);
	g_assert_cmpstr(aiq_json_object_get_string(output, "url"), ==, url);
	g_assert_false(json_object_has_member(output, "body_encoding"));
	g_assert_cmpstr(aiq_json_object_get_string(echo, "method"), ==, "GET");
	g_assert_cmpstr(aiq_json_object_get_string(echo, "path"), ==, "/echo");
	g_assert_cmpstr(aiq_json_object_get_string(aiq_json_object_get_object(echo, "query"), "x"),
			==,
			"1");
	/* response header names are lower-case */
	g_assert_nonnull(headers);
	g_assert_cmpstr(aiq_json_object_get_string(headers, "content-type"),
			==,
			"application/json");
	names = json_object_get_members(headers);
	for (GList *l = names; l != NULL; l = l->next) {
		g_autofree gchar *lower = g_ascii_strdown(l->data, -1);
		g_assert_cmpstr(l->data, ==, lower);
	}
	/* one log line per request */
	g_assert_true(g_str_has_prefix(aiq_step_run_get_log(run), log_prefix));
	g_assert_true(g_str_has_suffix(aiq_step_run_get_log(run), " ms)\n"));
	/* who we are */
	g_assert_true(g_str_has_prefix(aiq_test_echo_header(run, "user-agent"), "AutomateIQ/"));
}

static void
aiq_test_http_query(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run =
		aiq_test_run(NULL,
			     "{\"url\": \"%s/echo?a=1\", \"ca\": \"test\","
			     " \"query\": {\"q\": \"a b&c=d/é?\", \"n\": 5, \"empty\": \"\"}}",
			     peer->url);
	JsonObject *echo = aiq_test_echo(run);
	JsonObject *query = aiq_json_object_get_object(echo, "query");
	const gchar *raw = aiq_json_object_get_string(echo, "raw_query");

	/* the URL's own query is kept, the parameters are appended encoded */
	g_assert_true(g_str_has_prefix(raw, "a=1&"));
	g_assert_nonnull(strstr(raw, "q=a%20b%26c%3Dd%2F%C3%A9%3F"));
	g_assert_nonnull(strstr(raw, "n=5"));
	g_assert_nonnull(strstr(raw, "empty="));
	g_assert_cmpstr(aiq_json_object_get_string(query, "a"), ==, "1");
	g_assert_cmpstr(aiq_json_object_get_string(query, "q"), ==, "a b&c=d/é?");
	g_assert_cmpstr(aiq_json_object_get_string(query, "n"), ==, "5");
	g_assert_cmpstr(aiq_json_object_get_string(query, "empty"), ==, "");
}

static void
aiq_test_http_headers(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run = aiq_test_run(
		NULL,
		"{\"url\": \"%s/echo\", \"ca\": \"test\","
		" \"headers\": {\"X-Custom\": \"v1\", \"Accept\": \"application/json\","
		" \"X-Number\": 42}}",
		peer->url);

	g_assert_cmpstr(aiq_test_echo_header(run, "x-custom"), ==, "v1");
	g_assert_cmpstr(aiq_test_echo_header(run, "accept"), ==, "application/json");
	g_assert_cmpstr(aiq_test_echo_header(run, "x-number"), ==, "42");
}

static void
aiq_test_http_body_json(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run =
		aiq_test_run(NULL,
			     "{\"method\": \"POST\", \"url\": \"%s/echo\", \"ca\": \"test\","
			     " \"body\": {\"a\": 1, \"b\": [true, null, \"é\"]}}",
			     peer->url);
	JsonObject *echo = aiq_test_echo(run);
	const gchar *sent = aiq_json_object_get_string(echo, "body");
	g_autoptr(JsonNode) sent_node = aiq_json_parse(sent, strlen(sent), 8, NULL);
	g_autoptr(JsonNode) expected =
		aiq_json_parse("{\"a\": 1, \"b\": [true, null, \"é\"]}",
			       strlen("{\"a\": 1, \"b\": [true, null, \"é\"]}"),
			       8,
			       NULL);
	g_autoptr(AiqStepRun) run_array = NULL;
	g_autoptr(AiqStepRun) run_string = NULL;

	g_assert_cmpstr(aiq_json_object_get_string(echo, "method"), ==, "POST");
	g_assert_cmpstr(aiq_test_echo_header(run, "content-type"), ==, "application/json");
	g_assert_nonnull(sent_node);
	g_assert_true(json_node_equal(sent_node, expected));

	/* an array, with PATCH */
	run_array = aiq_test_run(NULL,
				 "{\"method\": \"PATCH\", \"url\": \"%s/echo\", \"ca\": \"test\","
				 " \"body\": [1, 2]}",
				 peer->url);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_echo(run_array), "body"), ==, "[1,2]");
	g_assert_cmpstr(aiq_test_echo_header(run_array, "content-type"), ==, "application/json");

	/* JSON text written by the user, sent as it is */
	run_string = aiq_test_run(NULL,
				  "{\"method\": \"PUT\", \"url\": \"%s/echo\", \"ca\": \"test\","
				  " \"body\": \"{\\\"x\\\": 1}\", \"body_type\": \"json\"}",
				  peer->url);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_echo(run_string), "body"),
			==,
			"{\"x\": 1}");
	g_assert_cmpstr(aiq_test_echo_header(run_string, "content-type"), ==, "application/json");
}

static void
aiq_test_http_body_text(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run =
		aiq_test_run(NULL,
			     "{\"method\": \"PUT\", \"url\": \"%s/echo\", \"ca\": \"test\","
			     " \"body\": \"hello ü\\nline 2\"}",
			     peer->url);
	g_autoptr(AiqStepRun) run_number = NULL;

	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_echo(run), "body"),
			==,
			"hello ü\nline 2");
	g_assert_cmpstr(aiq_test_echo_header(run, "content-type"), ==, "text/plain; charset=utf-8");

	/* a number as text; a user's Content-Type wins */
	run_number = aiq_test_run(NULL,
				  "{\"method\": \"POST\", \"url\": \"%s/echo\", \"ca\": \"test\","
				  " \"body\": 42, \"body_type\": \"text\","
				  " \"headers\": {\"content-type\": \"text/csv\"}}",
				  peer->url);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_echo(run_number), "body"), ==, "42");
	g_assert_cmpstr(aiq_test_echo_header(run_number, "content-type"), ==, "text/csv");
}

static void
aiq_test_http_body_form(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run = aiq_test_run(
		NULL,
		"{\"method\": \"POST\", \"url\": \"%s/echo\", \"ca\": \"test\","
		" \"body_type\": \"form\","
		" \"body\": {\"name\": \"a b\", \"n\": 3, \"amp\": \"x&y=z\", \"u\": \"é\"}}",
		peer->url);
	const gchar *sent = aiq_json_object_get_string(aiq_test_echo(run), "body");
	g_autoptr(GHashTable) form = soup_form_decode(sent);

	g_assert_cmpstr(aiq_test_echo_header(run, "content-type"),
			==,
			"application/x-www-form-urlencoded");
	g_assert_cmpstr(sent, ==, "name=a%20b&n=3&amp=x%26y%3Dz&u=%C3%A9");
	g_assert_cmpstr(g_hash_table_lookup(form, "name"), ==, "a b");
	g_assert_cmpstr(g_hash_table_lookup(form, "amp"), ==, "x&y=z");
	g_assert_cmpstr(g_hash_table_lookup(form, "u"), ==, "é");
}

static void
aiq_test_http_auth_basic(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run = aiq_test_run(
		NULL,
		"{\"url\": \"%s/auth/basic\", \"ca\": \"test\","
		" \"auth\": {\"type\": \"basic\", \"username\": \"alice\", \"password\": \"s3cret\"}}",
		peer->url);
	g_autoptr(AiqStepRun) run_bad = NULL;
	JsonObject *output = aiq_test_output_ok(run);

	g_assert_cmpstr(
		aiq_json_object_get_string(aiq_json_object_get_object(output, "body"), "user"),
		==,
		"alice");
	g_assert_null(strstr(aiq_step_run_get_log(run), "s3cret"));

	run_bad = aiq_test_run(
		NULL,
		"{\"url\": \"%s/auth/basic\", \"ca\": \"test\","
		" \"auth\": {\"type\": \"basic\", \"username\": \"alice\", \"password\": \"nope\"}}",
		peer->url);
	aiq_test_assert_error(run_bad,
			      AIQ_ERROR_STEP_FAILED,
			      "HTTP 401 Unauthorized from 127.0.0.1");
	g_assert_cmpint(json_object_get_int_member(aiq_test_output(run_bad), "status"), ==, 401);
}

static void
aiq_test_http_auth_bearer(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run =
		aiq_test_run(NULL,
			     "{\"url\": \"%s/auth/bearer\", \"ca\": \"test\","
			     " \"auth\": {\"type\": \"bearer\", \"token\": \"t0ken\"}}",
			     peer->url);
	g_autoptr(AiqStepRun) run_bad = NULL;

	g_assert_cmpint(json_object_get_int_member(aiq_test_output_ok(run), "status"), ==, 200);
	run_bad = aiq_test_run(NULL,
			       "{\"url\": \"%s/auth/bearer\", \"ca\": \"test\","
			       " \"auth\": {\"type\": \"bearer\", \"token\": \"wrong\"}}",
			       peer->url);
	aiq_test_assert_error(run_bad, AIQ_ERROR_STEP_FAILED, "HTTP 401");
}

static void
aiq_test_http_idempotency_key(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	const gchar *key = "exec-7f3a/fetch/0";
	g_autoptr(AiqStepRun) run =
		aiq_test_run(key,
			     "{\"method\": \"POST\", \"url\": \"%s/echo\", \"ca\": \"test\"}",
			     peer->url);
	g_autoptr(AiqStepRun) run_off = NULL;
	g_autoptr(AiqStepRun) run_nokey = NULL;
	g_autoptr(AiqStepRun) sink1 = NULL;
	g_autoptr(AiqStepRun) sink2 = NULL;
	JsonObject *body;

	g_assert_cmpstr(aiq_test_echo_header(run, "idempotency-key"), ==, key);

	run_off = aiq_test_run(key,
			       "{\"method\": \"POST\", \"url\": \"%s/echo\", \"ca\": \"test\","
			       " \"idempotency_key\": false}",
			       peer->url);
	g_assert_null(aiq_test_echo_header(run_off, "idempotency-key"));

	run_nokey = aiq_test_run(NULL,
				 "{\"method\": \"POST\", \"url\": \"%s/echo\", \"ca\": \"test\"}",
				 peer->url);
	g_assert_null(aiq_test_echo_header(run_nokey, "idempotency-key"));

	/* the same step key twice: the server sees the repeat */
	sink1 = aiq_test_run("exec-sink/step/1",
			     "{\"method\": \"POST\", \"url\": \"%s/sink/orders\", \"ca\": \"test\","
			     " \"body\": {\"order\": 1}}",
			     peer->url);
	body = aiq_json_object_get_object(aiq_test_output_ok(sink1), "body");
	g_assert_cmpint(json_object_get_int_member(body, "count"), ==, 1);
	g_assert_true(json_object_get_boolean_member(body, "first"));
	sink2 = aiq_test_run("exec-sink/step/1",
			     "{\"method\": \"POST\", \"url\": \"%s/sink/orders\", \"ca\": \"test\","
			     " \"body\": {\"order\": 1}}",
			     peer->url);
	body = aiq_json_object_get_object(aiq_test_output_ok(sink2), "body");
	g_assert_cmpstr(aiq_json_object_get_string(body, "key"), ==, "exec-sink/step/1");
	g_assert_cmpint(json_object_get_int_member(body, "count"), ==, 2);
	g_assert_false(json_object_get_boolean_member(body, "first"));
}

static void
aiq_test_http_fail_on_default(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run_503 =
		aiq_test_run(NULL, "{\"url\": \"%s/status/503\", \"ca\": \"test\"}", peer->url);
	g_autoptr(AiqStepRun) run_404 =
		aiq_test_run(NULL, "{\"url\": \"%s/status/404\", \"ca\": \"test\"}", peer->url);
	g_autoptr(AiqStepRun) run_302 = NULL;
	JsonObject *output;

	aiq_test_assert_error(run_503,
			      AIQ_ERROR_STEP_FAILED,
			      "HTTP 503 Service Unavailable from 127.0.0.1");
	/* the response is kept for inspection */
	output = aiq_test_output(run_503);
	g_assert_cmpint(json_object_get_int_member(output, "status"), ==, 503);
	g_assert_cmpint(
		json_object_get_int_member(aiq_json_object_get_object(output, "body"), "status"),
		==,
		503);
	aiq_test_assert_error(run_404, AIQ_ERROR_STEP_FAILED, "HTTP 404 Not Found from 127.0.0.1");

	/* 3xx is not a failure */
	run_302 = aiq_test_run(
		NULL,
		"{\"url\": \"%s/status/302\", \"ca\": \"test\", \"follow_redirects\": false}",
		peer->url);
	g_assert_cmpint(json_object_get_int_member(aiq_test_output_ok(run_302), "status"), ==, 302);
}

static void
aiq_test_http_fail_on_custom(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run_503 = aiq_test_run(
		NULL,
		"{\"url\": \"%s/status/503\", \"ca\": \"test\", \"fail_on\": [\"404\"]}",
		peer->url);
	g_autoptr(AiqStepRun) run_404 = aiq_test_run(
		NULL,
		"{\"url\": \"%s/status/404\", \"ca\": \"test\", \"fail_on\": [\"404\"]}",
		peer->url);
	g_autoptr(AiqStepRun) run_200 =
		aiq_test_run(NULL,
			     "{\"url\": \"%s/status/200\", \"ca\": \"test\", \"fail_on\": \"2XX\"}",
			     peer->url);

	g_assert_cmpint(json_object_get_int_member(aiq_test_output_ok(run_503), "status"), ==, 503);
	aiq_test_assert_error(run_404, AIQ_ERROR_STEP_FAILED, "HTTP 404");
	aiq_test_assert_error(run_200, AIQ_ERROR_STEP_FAILED, "HTTP 200 OK from 127.0.0.1");
}

static void
aiq_test_http_fail_on_empty(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run =
		aiq_test_run(NULL,
			     "{\"url\": \"%s/status/500\", \"ca\": \"test\", \"fail_on\": []}",
			     peer->url);
	g_assert_cmpint(json_object_get_int_member(aiq_test_output_ok(run), "status"), ==, 500);
}

static void
aiq_test_http_size_cap(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	/* declared too large by Content-Length */
	g_autoptr(AiqStepRun) run_big =
		aiq_test_run(NULL,
			     "{\"url\": \"%s/big?bytes=2000000\", \"ca\": \"test\"}",
			     peer->url);
	g_autoptr(AiqStepRun) run_chunked = NULL;
	g_autoptr(AiqStepRun) run_exact = NULL;
	JsonObject *output;

	aiq_test_assert_error(run_big,
			      AIQ_ERROR_TOO_LARGE,
			      "response body is over the 1 MiB limit");

	/* found too large while streaming */
	run_chunked = aiq_test_run(NULL,
				   "{\"url\": \"%s/big?bytes=300000&chunked=1\", \"ca\": \"test\","
				   " \"max_response_size\": 204800}",
				   peer->url);
	aiq_test_assert_error(run_chunked,
			      AIQ_ERROR_TOO_LARGE,
			      "response body is over the 200 KiB limit");

	/* exactly at the limit is fine */
	run_exact = aiq_test_run(NULL,
				 "{\"url\": \"%s/big?bytes=4096&chunked=1\", \"ca\": \"test\","
				 " \"max_response_size\": 4096}",
				 peer->url);
	output = aiq_test_output_ok(run_exact);
	g_assert_cmpint(strlen(aiq_json_object_get_string(output, "body")), ==, 4096);
}

static void
aiq_test_http_timeout(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autofree gchar *with = g_strdup_printf(
		"{\"url\": \"%s/slow?ms=60000\", \"ca\": \"test\", \"timeout\": \"300ms\"}",
		peer->url);
	g_autoptr(AiqStepRun) run = aiq_test_new_run(with, NULL);
	gint64 ms = aiq_test_run_full(run, 0);
	gpointer pair[] = { run, (gpointer) "→ stopped: no complete response" };

	aiq_test_assert_error(run, AIQ_ERROR_TIMED_OUT, "within 300ms");
	g_assert_cmpint(ms, >=, 250);
	g_assert_cmpint(ms, <, AIQ_TEST_PROMPT_MS);
	/* and the transfer itself stopped */
	g_assert_true(aiq_test_wait_until(aiq_test_log_contains_cb, pair, AIQ_TEST_PROMPT_MS));
}

static void
aiq_test_http_cancel(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autofree gchar *with =
		g_strdup_printf("{\"url\": \"%s/slow?ms=60000\", \"ca\": \"test\"}", peer->url);
	g_autoptr(AiqStepRun) run = aiq_test_new_run(with, NULL);
	gint64 ms = aiq_test_run_full(run, 200);
	gpointer pair[] = { run, (gpointer) "→ stopped: cancelled" };

	aiq_test_assert_error(run, AIQ_ERROR_CANCELLED, "cancelled");
	g_assert_cmpint(ms, <, AIQ_TEST_PROMPT_MS);
	/* the request was aborted, not left running */
	g_assert_true(aiq_test_wait_until(aiq_test_log_contains_cb, pair, AIQ_TEST_PROMPT_MS));
}

static void
aiq_test_http_redirect(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run =
		aiq_test_run(NULL,
			     "{\"url\": \"%s/redirect?to=/echo\", \"ca\": \"test\"}",
			     peer->url);
	g_autoptr(AiqStepRun) run_no = NULL;
	g_autofree gchar *final_url = g_strdup_printf("%s/echo", peer->url);
	JsonObject *output = aiq_test_output_ok(run);

	g_assert_cmpint(json_object_get_int_member(output, "status"), ==, 200);
	g_assert_cmpstr(aiq_json_object_get_string(output, "url"), ==, final_url);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_echo(run), "path"), ==, "/echo");

	run_no = aiq_test_run(NULL,
			      "{\"url\": \"%s/redirect?to=/echo\", \"ca\": \"test\","
			      " \"follow_redirects\": false}",
			      peer->url);
	output = aiq_test_output_ok(run_no);
	g_assert_cmpint(json_object_get_int_member(output, "status"), ==, 302);
	g_assert_true(g_str_has_suffix(
		aiq_json_object_get_string(aiq_json_object_get_object(output, "headers"),
					   "location"),
		"/echo"));
}

static void
aiq_test_http_redirect_credentials(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	AiqPeer *other = aiq_test_http_peer();
	g_autoptr(AiqStepRun) run_same = NULL;
	g_autoptr(AiqStepRun) run_other = NULL;
	g_autofree gchar *to = NULL;
	g_autofree gchar *to_escaped = NULL;

	/* same origin: the credentials follow */
	run_same = aiq_test_run(NULL,
				"{\"url\": \"%s/redirect?to=/echo\", \"ca\": \"test\","
				" \"auth\": {\"type\": \"bearer\", \"token\": \"t0ken\"}}",
				peer->url);
	g_assert_cmpstr(aiq_test_echo_header(run_same, "authorization"), ==, "Bearer t0ken");

	/* another origin: they do not */
	to = g_strdup_printf("%s/echo", other->url);
	to_escaped = g_uri_escape_string(to, NULL, FALSE);
	run_other = aiq_test_run(NULL,
				 "{\"url\": \"%s/redirect?to=%s\", \"ca\": \"test\","
				 " \"auth\": {\"type\": \"bearer\", \"token\": \"t0ken\"}}",
				 peer->url,
				 to_escaped);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_output_ok(run_other), "url"), ==, to);
	g_assert_null(aiq_test_echo_header(run_other, "authorization"));
}

static void
aiq_test_http_tls_untrusted(void)
{
	g_autoptr(AiqPeer) peer = aiq_peer_start("untrusted");
	g_autoptr(AiqStepRun) run = aiq_test_run(NULL, "{\"url\": \"%s/echo\"}", peer->url);
	g_autoptr(AiqStepRun) run_ca = NULL;
	g_autoptr(AiqStepRun) run_private = NULL;

	aiq_test_assert_error(run, AIQ_ERROR_CONNECTION, "certificate");
	aiq_test_assert_error(run, AIQ_ERROR_CONNECTION, "not signed by a trusted CA");
	g_assert_null(aiq_step_run_get_output(run));

	/* a CA that did not sign it does not help */
	run_ca = aiq_test_run(NULL, "{\"url\": \"%s/echo\", \"ca\": \"test\"}", peer->url);
	aiq_test_assert_error(run_ca, AIQ_ERROR_CONNECTION, "certificate problem");

	/* the test CA is not in the system store: without `ca` the main peer is refused */
	run_private = aiq_test_run(NULL, "{\"url\": \"%s/echo\"}", aiq_test_https_peer()->url);
	aiq_test_assert_error(run_private, AIQ_ERROR_CONNECTION, "certificate");
}

static void
aiq_test_http_tls_wrong_host(void)
{
	g_autoptr(AiqPeer) peer = aiq_peer_start("wronghost");
	g_autoptr(AiqStepRun) run =
		aiq_test_run(NULL, "{\"url\": \"%s/echo\", \"ca\": \"test\"}", peer->url);

	aiq_test_assert_error(run, AIQ_ERROR_CONNECTION, "certificate");
	aiq_test_assert_error(run, AIQ_ERROR_CONNECTION, "not valid for the host name 127.0.0.1");
}

static void
aiq_test_http_ca_unknown(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run =
		aiq_test_run(NULL, "{\"url\": \"%s/echo\", \"ca\": \"nope\"}", peer->url);
	aiq_test_assert_error(run, AIQ_ERROR_CONFIG, "no CA named “nope”");
}

static void
aiq_test_http_plain(void)
{
	AiqPeer *peer = aiq_test_http_peer();
	g_autoptr(AiqStepRun) run = aiq_test_run(NULL, "{\"url\": \"%s/text\"}", peer->url);
	JsonObject *output = aiq_test_output_ok(run);

	g_assert_true(g_str_has_prefix(peer->url, "http://127.0.0.1:"));
	g_assert_cmpstr(aiq_json_object_get_string(output, "body"), ==, "hello, world\n");
	g_assert_false(json_object_has_member(output, "body_encoding"));
}

static void
aiq_test_http_connection_refused(void)
{
	g_autoptr(GSocketListener) listener = g_socket_listener_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqStepRun) run = NULL;
	g_autofree gchar *host_port = NULL;
	guint16 port;

	/* a port that was free a moment ago */
	port = g_socket_listener_add_any_inet_port(listener, NULL, &error);
	g_assert_no_error(error);
	g_socket_listener_close(listener);
	host_port = g_strdup_printf("127.0.0.1:%u", port);

	run = aiq_test_run(NULL, "{\"url\": \"http://%s/echo\"}", host_port);
	aiq_test_assert_error(run, AIQ_ERROR_CONNECTION, host_port);
	aiq_test_assert_error(run, AIQ_ERROR_CONNECTION, "cannot connect");
}

static void
aiq_test_http_bodies(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run_bin =
		aiq_test_run(NULL, "{\"url\": \"%s/binary\", \"ca\": \"test\"}", peer->url);
	g_autoptr(AiqStepRun) run_bad =
		aiq_test_run(NULL, "{\"url\": \"%s/json-bad\", \"ca\": \"test\"}", peer->url);
	g_autoptr(AiqStepRun) run_head =
		aiq_test_run(NULL,
			     "{\"method\": \"HEAD\", \"url\": \"%s/echo\", \"ca\": \"test\"}",
			     peer->url);
	static const guchar binary[] = { 0x00, 0xff, 0xfe, 0x80, 0x81, 'a', 0xc3, 0x28, 0x0a };
	JsonObject *output = aiq_test_output_ok(run_bin);
	g_autofree guchar *decoded = NULL;
	gsize len = 0;

	/* bytes that are not UTF-8 come as base64 */
	g_assert_cmpstr(aiq_json_object_get_string(output, "body_encoding"), ==, "base64");
	decoded = g_base64_decode(aiq_json_object_get_string(output, "body"), &len);
	g_assert_cmpmem(decoded, len, binary, sizeof(binary));

	/* a server claiming JSON that is not: kept as text and logged, not failed */
	output = aiq_test_output_ok(run_bad);
	g_assert_cmpstr(aiq_json_object_get_string(output, "body"), ==, "{\"broken\": tru");
	g_assert_nonnull(strstr(aiq_step_run_get_log(run_bad), "not valid JSON"));

	/* no body at all */
	output = aiq_test_output_ok(run_head);
	g_assert_cmpint(json_object_get_int_member(output, "status"), ==, 200);
	g_assert_cmpstr(aiq_json_object_get_string(output, "body"), ==, "");
}

static void
aiq_test_http_invoices(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autoptr(AiqStepRun) run = aiq_test_run(
		NULL,
		"{\"url\": \"%s/invoices\", \"ca\": \"test\", \"query\": {\"since\": \"2024-03-11\"}}",
		peer->url);
	JsonObject *body = aiq_json_object_get_object(aiq_test_output_ok(run), "body");
	JsonArray *items = aiq_json_object_get_array(body, "items");
	JsonObject *first;

	g_assert_nonnull(items);
	g_assert_cmpint(json_array_get_length(items), ==, 10);
	g_assert_cmpint(json_object_get_int_member(body, "count"), ==, 10);
	first = json_array_get_object_element(items, 0);
	g_assert_cmpstr(aiq_json_object_get_string(first, "id"), ==, "INV-1011");
	g_assert_cmpstr(aiq_json_object_get_string(first, "issued"), ==, "2024-03-11");
	g_assert_true(json_object_has_member(first, "customer"));
	g_assert_true(json_object_has_member(first, "total"));
	g_assert_true(json_object_has_member(first, "currency"));
}

static gchar *
aiq_test_circuit_key(const gchar *url)
{
	g_autofree gchar *with = g_strdup_printf("{\"url\": \"%s\"}", url);
	g_autoptr(AiqStepRun) run = aiq_test_new_run(with, NULL);
	return aiq_step_kind_http.get_circuit_key(run);
}

static void
aiq_test_http_circuit_key(void)
{
	g_autofree gchar *https_key = aiq_test_circuit_key("https://ERP.internal/api/x?y=1");
	g_autofree gchar *http_key = aiq_test_circuit_key("http://erp.internal:8080/");
	g_autofree gchar *v6_key = aiq_test_circuit_key("http://[::1]/");
	g_autofree gchar *bad_key = aiq_test_circuit_key("ftp://erp.internal/");

	g_assert_cmpstr(https_key, ==, "https://erp.internal:443");
	g_assert_cmpstr(http_key, ==, "http://erp.internal:8080");
	g_assert_cmpstr(v6_key, ==, "http://[::1]:80");
	g_assert_null(bad_key);
}

static void
aiq_test_http_runtime_checks(void)
{
	/* what an expression rendered is checked when the step runs */
	g_autoptr(AiqStepRun) run_scheme = aiq_test_run(NULL, "{\"url\": \"ftp://x/y\"}");
	g_autoptr(AiqStepRun) run_auth =
		aiq_test_run(NULL, "{\"url\": \"https://x/\", \"auth\": {\"type\": \"basic\"}}");
	g_autoptr(AiqStepRun) run_form =
		aiq_test_run(NULL,
			     "{\"url\": \"https://x/\", \"body\": [1], \"body_type\": \"form\"}");
	g_autoptr(AiqStepRun) run_header =
		aiq_test_run(NULL,
			     "{\"url\": \"https://x/\", \"headers\": {\"X\": \"a\\r\\nB: c\"}}");
	g_autoptr(AiqStepRun) run_creds = aiq_test_run(NULL, "{\"url\": \"https://u:p@x/\"}");

	aiq_test_assert_error(run_scheme, AIQ_ERROR_INVALID_ARGUMENT, "with.url");
	aiq_test_assert_error(run_auth, AIQ_ERROR_INVALID_ARGUMENT, "with.auth");
	aiq_test_assert_error(run_form, AIQ_ERROR_INVALID_ARGUMENT, "form needs an object");
	aiq_test_assert_error(run_header, AIQ_ERROR_INVALID_ARGUMENT, "line break");
	aiq_test_assert_error(run_creds, AIQ_ERROR_INVALID_ARGUMENT, "credentials");
}

/* validates `with` and returns the problems as one string */
static gchar *
aiq_test_validate(const gchar *with_json, guint *n_problems)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) with = aiq_json_parse(with_json, strlen(with_json), 16, &error);

	g_assert_no_error(error);
	aiq_step_kind_validate_with(&aiq_step_kind_http, with, "steps[0].with", problems);
	*n_problems = aiq_problems_get_size(problems);
	return aiq_problems_to_string(problems, "");
}

static void
aiq_test_assert_problem(const gchar *with_json, const gchar *path, const gchar *needle)
{
	guint n = 0;
	g_autofree gchar *text = aiq_test_validate(with_json, &n);
	if (n == 0 || strstr(text, path) == NULL || strstr(text, needle) == NULL)
		g_error("%s: expected a problem at %s mentioning “%s”, got:\n%s",
			with_json,
			path,
			needle,
			text);
}

static void
aiq_test_assert_no_problem(const gchar *with_json)
{
	guint n = 0;
	g_autofree gchar *text = aiq_test_validate(with_json, &n);
	if (n != 0)
		g_error("%s: expected no problem, got:\n%s", with_json, text);
}

static void
aiq_test_http_validate(void)
{
	/* the generic checks from the parameter table */
	aiq_test_assert_problem("{}", "steps[0].with.url", "missing required parameter");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"hedaers\": {}}",
				"steps[0].with.hedaers",
				"did you mean “headers”?");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"timeout\": 5}",
				"steps[0].with.timeout",
				"expected duration");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"max_response_size\": \"big\"}",
				"steps[0].with.max_response_size",
				"expected integer");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"method\": \"GETT\"}",
				"steps[0].with.method",
				"did you mean “GET”?");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"ca\": \"${{ inputs.ca }}\"}",
				"steps[0].with.ca",
				"literal");

	/* the kind's own checks */
	aiq_test_assert_problem("{\"url\": \"ftp://a/\"}", "steps[0].with.url", "http://");
	aiq_test_assert_problem("{\"url\": \"https://u:p@a/\"}",
				"steps[0].with.url",
				"credentials");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"headers\": {\"Bad Name\": \"x\"}}",
				"steps[0].with.headers",
				"not a valid header name");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"headers\": {\"Authorization\": \"x\"},"
				" \"auth\": {\"type\": \"bearer\", \"token\": \"t\"}}",
				"steps[0].with.headers",
				"keep one");
	aiq_test_assert_problem(
		"{\"url\": \"https://a/\", \"auth\": {\"type\": \"basic\", \"username\": \"u\"}}",
		"steps[0].with.auth",
		"“password” is missing");
	aiq_test_assert_problem(
		"{\"url\": \"https://a/\", \"auth\": {\"type\": \"bearer\", \"token\": \"t\","
		" \"tokne\": \"x\"}}",
		"steps[0].with.auth",
		"did you mean “token”?");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"auth\": {\"type\": \"basci\"}}",
				"steps[0].with.auth",
				"did you mean “basic”?");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"auth\": {\"token\": \"t\"}}",
				"steps[0].with.auth",
				"“type” is missing");
	aiq_test_assert_problem(
		"{\"url\": \"https://a/\", \"body\": \"x=1\", \"body_type\": \"form\"}",
		"steps[0].with.body",
		"form needs an object");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"body\": {\"a\": {\"b\": 1}},"
				" \"body_type\": \"form\"}",
				"steps[0].with.body",
				"form field “a”");
	aiq_test_assert_problem(
		"{\"url\": \"https://a/\", \"body\": \"{not json\", \"body_type\": \"json\"}",
		"steps[0].with.body",
		"body_type” is json");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"body\": [1], \"body_type\": \"text\"}",
				"steps[0].with.body",
				"text needs a string");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"body_type\": \"json\"}",
				"steps[0].with.body_type",
				"without a “body”");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"fail_on\": [\"404\", \"6xx\"]}",
				"steps[0].with.fail_on",
				"“6xx” is not a status pattern");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"fail_on\": \"50\"}",
				"steps[0].with.fail_on",
				"not a status pattern");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"max_response_size\": 0}",
				"steps[0].with.max_response_size",
				"between 1 byte");
	aiq_test_assert_problem("{\"url\": \"https://a/\", \"timeout\": \"0s\"}",
				"steps[0].with.timeout",
				"longer than 0s");

	/* a body with GET is allowed; expressions are left for run time */
	aiq_test_assert_no_problem("{\"url\": \"https://a/\", \"body\": {\"q\": 1}}");
	aiq_test_assert_no_problem(
		"{\"method\": \"POST\", \"url\": \"${{ inputs.base }}/x\","
		" \"headers\": {\"X-Trace\": \"${{ execution.id }}\"},"
		" \"auth\": {\"type\": \"basic\", \"username\": \"${{ secrets.user }}\","
		" \"password\": \"${{ secrets.password }}\"},"
		" \"body\": \"${{ steps.a.output }}\", \"body_type\": \"form\","
		" \"fail_on\": [\"${{ inputs.code }}\", \"5xx\"], \"timeout\": \"${{ inputs.t }}\"}");
	aiq_test_assert_no_problem(
		"{\"method\": \"PUT\", \"url\": \"https://erp.internal/api\", \"ca\": \"erp\","
		" \"headers\": {\"X-A\": \"1\"}, \"query\": {\"since\": \"2024-01-01\"},"
		" \"body\": {\"a\": \"${{ item.id }}\"}, \"body_type\": \"form\","
		" \"auth\": {\"type\": \"bearer\", \"token\": \"${{ secrets.erp }}\"},"
		" \"timeout\": \"5s\", \"fail_on\": [], \"max_response_size\": 4096,"
		" \"follow_redirects\": false, \"idempotency_key\": false}");
}

static void
aiq_test_http_declaration(void)
{
	const AiqStepKind *kind = aiq_step_kind_lookup("http");
	const AiqParam *ca;
	g_autoptr(JsonNode) json = NULL;

	g_assert_true(kind == &aiq_step_kind_http);
	g_assert_cmpint(kind->flags, ==, AIQ_STEP_KIND_FLAG_NONE);
	g_assert_false(aiq_step_kind_is_pure(kind));
	g_assert_nonnull(kind->validate);
	g_assert_nonnull(kind->get_circuit_key);
	for (guint i = 0; kind->params[i].name != NULL; i++) {
		g_assert_nonnull(kind->params[i].description);
		g_assert_cmpstr(kind->params[i].description, !=, "");
	}
	ca = aiq_step_kind_find_param(kind, "ca");
	g_assert_nonnull(ca);
	g_assert_true(ca->flags & AIQ_PARAM_FLAG_LITERAL);
	g_assert_true(aiq_step_kind_find_param(kind, "url")->required);
	json = aiq_step_kind_to_json(kind);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(json));
}

/* POSTs to the sink with @key as the step key; returns the sink's answer */
static JsonObject *
aiq_test_sink_post(AiqPeer *peer, const gchar *key)
{
	g_autoptr(AiqStepRun) run =
		aiq_test_run(key, "{\"method\": \"POST\", \"url\": \"%s/sink/x\"}", peer->url);
	return json_object_ref(aiq_json_object_get_object(aiq_test_output_ok(run), "body"));
}

static gint64
aiq_test_sink_count(AiqPeer *peer, const gchar *key)
{
	g_autoptr(JsonObject) body = aiq_test_sink_post(peer, key);
	return json_object_get_int_member(body, "count");
}

/* the sink's counts survive a restart of the peer on the same port */
static void
aiq_test_peer_state_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("aiq-test-peer-XXXXXX", &error);
	g_autofree gchar *state = NULL;
	g_autofree gchar *port_arg = NULL;
	g_autoptr(AiqStepRun) stats = NULL;
	g_autoptr(JsonObject) last = NULL;
	AiqPeer *peer;
	JsonObject *body;
	JsonObject *keys;

	g_assert_no_error(error);
	state = g_build_filename(dir, "sink.state", NULL);
	{
		const gchar *extra[] = { "--port=0", "--state-file", state, NULL };
		peer = aiq_peer_start_full(NULL, extra);
	}
	g_assert_cmpint(aiq_test_sink_count(peer, "k1"), ==, 1);
	g_assert_cmpint(aiq_test_sink_count(peer, "k1"), ==, 2);
	g_assert_cmpint(aiq_test_sink_count(peer, "k2"), ==, 1);
	port_arg = g_strdup_printf("--port=%u", peer->port);
	aiq_peer_stop(peer);

	{
		const gchar *extra[] = { port_arg, "--state-file", state, NULL };
		peer = aiq_peer_start_full(NULL, extra);
	}
	stats = aiq_test_run(NULL, "{\"url\": \"%s/sink/stats\"}", peer->url);
	body = aiq_json_object_get_object(aiq_test_output_ok(stats), "body");
	g_assert_cmpint(json_object_get_int_member(body, "requests"), ==, 3);
	keys = aiq_json_object_get_object(body, "keys");
	g_assert_cmpint(json_object_get_int_member(keys, "k1"), ==, 2);
	g_assert_cmpint(json_object_get_int_member(keys, "k2"), ==, 1);
	last = aiq_test_sink_post(peer, "k1");
	g_assert_cmpint(json_object_get_int_member(last, "count"), ==, 3);
	g_assert_false(json_object_get_boolean_member(last, "first"));
	aiq_peer_stop(peer);

	g_assert_cmpint(g_unlink(state), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static gint64
aiq_test_health_status(AiqPeer *peer, const gchar *method, const gchar *path)
{
	g_autoptr(AiqStepRun) run =
		aiq_test_run(NULL,
			     "{\"method\": \"%s\", \"url\": \"%s%s\", \"fail_on\": []}",
			     method,
			     peer->url,
			     path);
	return json_object_get_int_member(aiq_test_output_ok(run), "status");
}

static void
aiq_test_peer_health(void)
{
	const gchar *extra[] = { "--port=0", "--health-fail", "2", NULL };
	g_autoptr(AiqPeer) peer = aiq_peer_start_full(NULL, extra);

	/* the first two checks fail, then it recovers */
	g_assert_cmpint(aiq_test_health_status(peer, "GET", "/health"), ==, 503);
	g_assert_cmpint(aiq_test_health_status(peer, "GET", "/health"), ==, 503);
	g_assert_cmpint(aiq_test_health_status(peer, "GET", "/health"), ==, 200);
	/* and it can be switched */
	g_assert_cmpint(aiq_test_health_status(peer, "POST", "/health/down"), ==, 503);
	g_assert_cmpint(aiq_test_health_status(peer, "GET", "/health"), ==, 503);
	g_assert_cmpint(aiq_test_health_status(peer, "POST", "/health/up"), ==, 200);
	g_assert_cmpint(aiq_test_health_status(peer, "GET", "/health"), ==, 200);
}

/* several main contexts at once: a worker thread with its own */
static gpointer
aiq_test_http_thread_cb(gpointer user_data)
{
	const gchar *url = user_data;
	g_autoptr(GMainContext) context = g_main_context_new();
	g_autoptr(AiqStepRun) run = NULL;
	gint64 status;

	g_main_context_push_thread_default(context);
	run = aiq_test_run(NULL, "{\"url\": \"%s/echo?thread=1\", \"ca\": \"test\"}", url);
	status = json_object_get_int_member(aiq_test_output_ok(run), "status");
	g_clear_object(&run);
	g_main_context_pop_thread_default(context);
	return GINT_TO_POINTER((gint)status);
}

static void
aiq_test_http_contexts(void)
{
	AiqPeer *peer = aiq_test_https_peer();
	g_autofree gchar *with =
		g_strdup_printf("{\"url\": \"%s/slow?ms=300\", \"ca\": \"test\"}", peer->url);
	g_autoptr(AiqStepRun) run = aiq_test_new_run(with, NULL);
	GThread *threads[3];

	/* the main context has a request in flight while the threads run theirs */
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		threads[i] = g_thread_new("http-test", aiq_test_http_thread_cb, peer->url);
	aiq_test_run_full(run, 0);
	g_assert_cmpint(json_object_get_int_member(aiq_test_output_ok(run), "status"), ==, 200);
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		g_assert_cmpint(GPOINTER_TO_INT(g_thread_join(threads[i])), ==, 200);
}

int
main(int argc, char **argv)
{
	g_autofree gchar *ca = NULL;
	int rc;

	g_test_init(&argc, &argv, NULL);
	/* never pick up a proxy from the environment for loopback tests */
	g_setenv("no_proxy", "127.0.0.1,localhost", TRUE);

	ca = g_test_build_filename(G_TEST_DIST, "ca", "ca.pem", NULL);
	test_config = aiq_config_new();
	aiq_config_add_ca_file(test_config, "test", ca);

	g_test_add_func("/aiq/connector/http/declaration", aiq_test_http_declaration);
	g_test_add_func("/aiq/connector/http/validate", aiq_test_http_validate);
	g_test_add_func("/aiq/connector/http/circuit-key", aiq_test_http_circuit_key);
	g_test_add_func("/aiq/connector/http/runtime-checks", aiq_test_http_runtime_checks);
	g_test_add_func("/aiq/connector/http/get-json", aiq_test_http_get_json);
	g_test_add_func("/aiq/connector/http/query", aiq_test_http_query);
	g_test_add_func("/aiq/connector/http/headers", aiq_test_http_headers);
	g_test_add_func("/aiq/connector/http/body-json", aiq_test_http_body_json);
	g_test_add_func("/aiq/connector/http/body-text", aiq_test_http_body_text);
	g_test_add_func("/aiq/connector/http/body-form", aiq_test_http_body_form);
	g_test_add_func("/aiq/connector/http/auth-basic", aiq_test_http_auth_basic);
	g_test_add_func("/aiq/connector/http/auth-bearer", aiq_test_http_auth_bearer);
	g_test_add_func("/aiq/connector/http/idempotency-key", aiq_test_http_idempotency_key);
	g_test_add_func("/aiq/connector/http/fail-on-default", aiq_test_http_fail_on_default);
	g_test_add_func("/aiq/connector/http/fail-on-custom", aiq_test_http_fail_on_custom);
	g_test_add_func("/aiq/connector/http/fail-on-empty", aiq_test_http_fail_on_empty);
	g_test_add_func("/aiq/connector/http/size-cap", aiq_test_http_size_cap);
	g_test_add_func("/aiq/connector/http/timeout", aiq_test_http_timeout);
	g_test_add_func("/aiq/connector/http/cancel", aiq_test_http_cancel);
	g_test_add_func("/aiq/connector/http/redirect", aiq_test_http_redirect);
	g_test_add_func("/aiq/connector/http/redirect-credentials",
			aiq_test_http_redirect_credentials);
	g_test_add_func("/aiq/connector/http/tls-untrusted", aiq_test_http_tls_untrusted);
	g_test_add_func("/aiq/connector/http/tls-wrong-host", aiq_test_http_tls_wrong_host);
	g_test_add_func("/aiq/connector/http/ca-unknown", aiq_test_http_ca_unknown);
	g_test_add_func("/aiq/connector/http/plain-http", aiq_test_http_plain);
	g_test_add_func("/aiq/connector/http/connection-refused", aiq_test_http_connection_refused);
	g_test_add_func("/aiq/connector/http/bodies", aiq_test_http_bodies);
	g_test_add_func("/aiq/connector/http/invoices", aiq_test_http_invoices);
	g_test_add_func("/aiq/connector/http/contexts", aiq_test_http_contexts);
	g_test_add_func("/aiq/connector/http/peer-state-file", aiq_test_peer_state_file);
	g_test_add_func("/aiq/connector/http/peer-health", aiq_test_peer_health);

	rc = g_test_run();

	aiq_peer_stop(https_peer);
	aiq_peer_stop(http_peer);
	g_clear_object(&test_config);
	return rc;
}
