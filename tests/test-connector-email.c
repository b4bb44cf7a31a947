/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aiq-test-util.h"
#include "aiq-config.h"
#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-problems.h"
#include "aiq-step-kind.h"
#include "aiq-step-run.h"

/*
 * The email step against a real SMTP server: tests/aiq-smtp-sink, started
 * for each test on an ephemeral loopback port, with the test CA. Every
 * assertion on a delivered message reads what the sink wrote to disk.
 */

#define TEST_FROM "automation@example.com"
#define TEST_USER "sender"
#define TEST_PASSWORD "s3cret-Pass-0451"

typedef struct {
	gchar *tmpdir;
	gchar *maildir;
	gchar *filesdir;
	AiqConfig *config;
	GSubprocess *sink;
	guint16 port;
} Fixture;

typedef struct {
	gint64 timeout_ms;
	const gchar *step_key;
	GCancellable *cancellable;
	AiqSecrets *secrets;
	gchar *log;        /* out */
	GError *run_error; /* out: the error the run recorded */
} RunOptions;

static gchar *
test_ca_path(const gchar *name)
{
	return g_test_build_filename(G_TEST_DIST, "ca", name, NULL);
}

static void
fixture_setup(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ca = test_ca_path("ca.pem");
	f->tmpdir = g_dir_make_tmp("aiq-email-XXXXXX", &error);
	g_assert_no_error(error);
	f->maildir = g_build_filename(f->tmpdir, "mail", NULL);
	f->filesdir = g_build_filename(f->tmpdir, "files", NULL);
	g_assert_cmpint(g_mkdir(f->filesdir, 0700), ==, 0);
	f->config = aiq_config_new();
	aiq_config_add_ca_file(f->config, "test", ca);
	aiq_config_add_file_root(f->config, "files", f->filesdir);
}

static void
fixture_teardown(Fixture *f, gconstpointer user_data)
{
	if (f->sink != NULL) {
		g_autoptr(GError) error = NULL;
		g_subprocess_send_signal(f->sink, SIGTERM);
		g_subprocess_wait(f->sink, NULL, &error);
		g_assert_no_error(error);
		/* the sink shuts down cleanly, with no leak report under ASan */
		g_assert_true(g_subprocess_get_if_exited(f->sink));
		g_assert_cmpint(g_subprocess_get_exit_status(f->sink), ==, 0);
		g_clear_object(&f->sink);
	}
	g_clear_object(&f->config);
	aiq_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
	g_free(f->maildir);
	g_free(f->filesdir);
}

/* starts the sink with extra arguments, NULL-terminated */
static void
fixture_start_sink(Fixture *f, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autofree gchar *line = NULL;
	const gchar *sink = g_getenv("AIQ_SMTP_SINK");
	const gchar *arg;
	guint64 port = 0;
	va_list args;

	g_assert_nonnull(sink);
	g_ptr_array_add(argv, g_strdup(sink));
	g_ptr_array_add(argv, g_strdup("--dir"));
	g_ptr_array_add(argv, g_strdup(f->maildir));
	g_ptr_array_add(argv, g_strdup("--port"));
	g_ptr_array_add(argv, g_strdup("0"));
	va_start(args, f);
	while ((arg = va_arg(args, const gchar *)) != NULL) {
		/* cert names are looked up in tests/ca */
		if (g_str_has_suffix(arg, ".pem"))
			g_ptr_array_add(argv, test_ca_path(arg));
		else
			g_ptr_array_add(argv, g_strdup(arg));
	}
	va_end(args);
	g_ptr_array_add(argv, NULL);

	f->sink = g_subprocess_newv((const gchar *const *)argv->pdata,
				    G_SUBPROCESS_FLAGS_STDOUT_PIPE,
				    &error);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->sink));
	line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(line);
	g_assert_true(g_str_has_prefix(line, "port="));
	g_assert_true(g_ascii_string_to_unsigned(line + 5, 10, 1, 65535, &port, NULL));
	f->port = (guint16)port;
}

/* adds an SMTP server pointing at the sink */
static void
fixture_add_server(Fixture *f,
		   const gchar *name,
		   const gchar *scheme,
		   const gchar *starttls,
		   const gchar *username,
		   const gchar *password)
{
	g_autofree gchar *url = g_strdup_printf("%s://127.0.0.1:%u", scheme, f->port);
	AiqSmtpServer server = {
		.name = (gchar *)name,
		.url = url,
		.username = (gchar *)username,
		.password = (gchar *)password,
		.from = (gchar *)TEST_FROM,
		.starttls = (gchar *)starttls,
		.ca = (gchar *)"test",
	};
	aiq_config_add_smtp(f->config, &server);
}

static void
run_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = user_data;
	GError *error = NULL;
	JsonNode *output = aiq_step_run_run_finish(AIQ_STEP_RUN(source), res, &error);
	if (output == NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, output, (GDestroyNotify)json_node_unref);
}

static gboolean
fail_timeout_cb(gpointer user_data)
{
	g_error("%s", (const gchar *)user_data);
	return G_SOURCE_REMOVE;
}

static void
run_options_clear(RunOptions *options)
{
	g_clear_pointer(&options->log, g_free);
	g_clear_error(&options->run_error);
}

/* may be called on any thread */
static void
run_finalized_cb(gpointer user_data, GObject *where_the_object_was)
{
	g_atomic_int_set((gint *)user_data, 1);
	g_main_context_wakeup(NULL);
}

/* runs the email step through a real AiqStepRun on a main loop */
static JsonNode *
run_email_full(AiqConfig *config, const gchar *with_json, RunOptions *options, GError **error)
{
	g_autoptr(JsonNode) with = NULL;
	g_autoptr(JsonObject) params = NULL;
	g_autoptr(AiqStepRun) run = NULL;
	g_autoptr(GTask) task = NULL;
	gint finalized = 0;
	JsonNode *output;
	guint guard;

	with = aiq_json_parse(with_json, strlen(with_json), 16, error);
	g_assert_nonnull(with);
	params = aiq_step_kind_resolve_params(&aiq_step_kind_email,
					      json_node_get_object(with),
					      error);
	if (params == NULL)
		return NULL;
	run = aiq_step_run_new(&aiq_step_kind_email, params, config);
	aiq_step_run_set_timeout(run,
				 options != NULL && options->timeout_ms > 0 ? options->timeout_ms
									    : 30000);
	if (options != NULL && options->step_key != NULL)
		aiq_step_run_set_step_key(run, options->step_key);
	if (options != NULL && options->secrets != NULL)
		aiq_step_run_set_secrets(run, options->secrets);

	guard = g_timeout_add_seconds(60, fail_timeout_cb, (gpointer) "the step never finished");
	task = g_task_new(NULL, NULL, NULL, NULL);
	aiq_step_run_run_async(run,
			       options != NULL ? options->cancellable : NULL,
			       run_done_cb,
			       task);
	while (!g_task_get_completed(task))
		g_main_context_iteration(NULL, TRUE);
	output = g_task_propagate_pointer(task, error);
	if (options != NULL) {
		options->log = g_strdup(aiq_step_run_get_log(run));
		if (aiq_step_run_get_error(run) != NULL)
			options->run_error = g_error_copy(aiq_step_run_get_error(run));
	}

	/* the worker thread holds the run until it has finished too */
	g_object_weak_ref(G_OBJECT(run), run_finalized_cb, &finalized);
	g_clear_object(&run);
	while (!g_atomic_int_get(&finalized))
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(guard);
	return output;
}

static JsonNode *
run_email(Fixture *f, const gchar *with_json, GError **error)
{
	return run_email_full(f->config, with_json, NULL, error);
}

static JsonObject *
load_message(Fixture *f, guint id, gchar **eml)
{
	g_autofree gchar *json_path = g_strdup_printf("%s/%04u.json", f->maildir, id);
	g_autofree gchar *eml_path = g_strdup_printf("%s/%04u.eml", f->maildir, id);
	g_autofree gchar *data = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;

	/* the sink writes both before it accepts the message; wait a little anyway */
	for (guint i = 0; i < 250 && !g_file_test(json_path, G_FILE_TEST_EXISTS); i++)
		g_usleep(20 * 1000);
	g_file_get_contents(json_path, &data, &len, &error);
	g_assert_no_error(error);
	node = aiq_json_parse(data, len, 8, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	if (eml != NULL) {
		g_file_get_contents(eml_path, eml, NULL, &error);
		g_assert_no_error(error);
	}
	return json_object_ref(json_node_get_object(node));
}

static void
assert_nothing_delivered(Fixture *f)
{
	g_autofree gchar *json_path = g_strdup_printf("%s/0001.json", f->maildir);
	g_assert_false(g_file_test(json_path, G_FILE_TEST_EXISTS));
}

/* the header block of a message, up to the first empty line */
static gchar *
eml_get_header_block(const gchar *eml)
{
	const gchar *end = strstr(eml, "\r\n\r\n");
	g_assert_nonnull(end);
	return g_strndup(eml, (gsize)(end - eml) + 2);
}

/* the unfolded value of a top-level header field, or NULL */
static gchar *
eml_get_header(const gchar *eml, const gchar *name)
{
	g_autofree gchar *block = eml_get_header_block(eml);
	g_auto(GStrv) lines = g_strsplit(block, "\r\n", -1);
	GString *value = NULL;

	for (guint i = 0; lines[i] != NULL; i++) {
		const gchar *line = lines[i];
		if (value != NULL) {
			if (line[0] == ' ' || line[0] == '\t') {
				g_string_append(value, line);
				continue;
			}
			break;
		}
		if (g_ascii_strncasecmp(line, name, strlen(name)) == 0 &&
		    line[strlen(name)] == ':') {
			value = g_string_new(line + strlen(name) + 1);
		}
	}
	if (value == NULL)
		return NULL;
	return g_strstrip(g_string_free(value, FALSE));
}

/* decodes a value made of RFC 2047 UTF-8 base64 encoded words */
static gchar *
decode_encoded_words(const gchar *value)
{
	g_auto(GStrv) words = g_strsplit_set(value, " \t", -1);
	GString *out = g_string_new(NULL);
	for (guint i = 0; words[i] != NULL; i++) {
		g_autofree guchar *raw = NULL;
		g_autofree gchar *inner = NULL;
		gsize len = 0;
		if (words[i][0] == '\0')
			continue;
		g_assert_true(g_str_has_prefix(words[i], "=?UTF-8?B?"));
		g_assert_true(g_str_has_suffix(words[i], "?="));
		inner = g_strndup(words[i] + 10, strlen(words[i]) - 12);
		raw = g_base64_decode(inner, &len);
		g_string_append_len(out, (const gchar *)raw, (gssize)len);
	}
	return g_string_free(out, FALSE);
}

static guint
count_occurrences(const gchar *haystack, const gchar *needle)
{
	guint n = 0;
	for (const gchar *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* the boundary= parameter of a Content-Type value */
static gchar *
get_boundary(const gchar *content_type)
{
	const gchar *p = strstr(content_type, "boundary=");
	g_assert_nonnull(p);
	p += strlen("boundary=");
	if (*p == '"')
		return g_strndup(p + 1, strcspn(p + 1, "\""));
	return g_strndup(p, strcspn(p, "; \t"));
}

static void
assert_delivered_with_tls(Fixture *f, const gchar *auth_user)
{
	g_autoptr(JsonObject) msg = load_message(f, 1, NULL);
	g_assert_true(json_object_get_boolean_member(msg, "tls"));
	if (auth_user != NULL)
		g_assert_cmpstr(json_object_get_string_member(msg, "auth_user"), ==, auth_user);
	else
		g_assert_true(json_object_get_null_member(msg, "auth_user"));
}

static void
test_email_starttls_auth_plain(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonObject) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *eml = NULL;
	g_autofree gchar *message_id = NULL;
	g_autofree gchar *date = NULL;
	JsonObject *out;
	JsonArray *accepted;
	JsonArray *rcpt;
	RunOptions options = { 0 };

	fixture_start_sink(f,
			   "--tls",
			   "server.pem",
			   "server-key.pem",
			   "--user",
			   TEST_USER,
			   "--password",
			   TEST_PASSWORD,
			   "--require-tls",
			   "--auth",
			   "PLAIN",
			   NULL);
	fixture_add_server(f, NULL, "smtp", "required", TEST_USER, TEST_PASSWORD);
	output = run_email_full(f->config,
				"{\"to\": \"ops@example.com\", \"subject\": \"Nightly report\","
				" \"text\": \"All 42 invoices imported.\\n.leading dot\\nBye\"}",
				&options,
				&error);
	g_assert_no_error(error);

	/* the output */
	g_assert_true(JSON_NODE_HOLDS_OBJECT(output));
	out = json_node_get_object(output);
	g_assert_true(g_str_has_prefix(json_object_get_string_member(out, "message_id"), "<aiq."));
	g_assert_true(g_str_has_suffix(json_object_get_string_member(out, "message_id"),
				       "@example.com>"));
	accepted = json_object_get_array_member(out, "accepted");
	g_assert_cmpuint(json_array_get_length(accepted), ==, 1);
	g_assert_cmpstr(json_array_get_string_element(accepted, 0), ==, "ops@example.com");

	/* what the server got */
	msg = load_message(f, 1, &eml);
	g_assert_cmpstr(json_object_get_string_member(msg, "from"), ==, TEST_FROM);
	rcpt = json_object_get_array_member(msg, "rcpt");
	g_assert_cmpuint(json_array_get_length(rcpt), ==, 1);
	g_assert_cmpstr(json_array_get_string_element(rcpt, 0), ==, "ops@example.com");
	g_assert_true(json_object_get_boolean_member(msg, "tls"));
	g_assert_cmpstr(json_object_get_string_member(msg, "auth_user"), ==, TEST_USER);
	g_assert_cmpint(json_object_get_int_member(out, "size"),
			==,
			json_object_get_int_member(msg, "size"));

	message_id = eml_get_header(eml, "Message-ID");
	g_assert_cmpstr(message_id, ==, json_object_get_string_member(out, "message_id"));
	date = eml_get_header(eml, "Date");
	g_assert_nonnull(date);
	g_assert_true(g_regex_match_simple(
		"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
		"\\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4}$",
		date,
		0,
		0));
	g_assert_nonnull(strstr(eml, "\r\nFrom: " TEST_FROM "\r\n"));
	g_assert_nonnull(strstr(eml, "\r\nTo: ops@example.com\r\n"));
	g_assert_nonnull(strstr(eml, "\r\nSubject: Nightly report\r\n"));
	g_assert_nonnull(strstr(eml, "MIME-Version: 1.0\r\n"));
	g_assert_nonnull(strstr(eml, "All 42 invoices imported.\r\n"));
	/* SMTP dot-stuffing was undone by the server: the line is intact */
	g_assert_nonnull(strstr(eml, "\r\n.leading dot\r\n"));

	/* one log line for the send, without the password */
	g_assert_cmpuint(count_occurrences(options.log, "\n"), ==, 1);
	g_assert_nonnull(strstr(options.log, "sent"));
	g_assert_null(strstr(options.log, TEST_PASSWORD));
	run_options_clear(&options);
}

static void
test_email_starttls_auth_login(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	fixture_start_sink(f,
			   "--tls",
			   "server.pem",
			   "server-key.pem",
			   "--user",
			   TEST_USER,
			   "--password",
			   TEST_PASSWORD,
			   "--require-tls",
			   "--auth",
			   "LOGIN",
			   NULL);
	fixture_add_server(f, NULL, "smtp", "required", TEST_USER, TEST_PASSWORD);
	output = run_email(f,
			   "{\"to\": [\"ops@example.com\"], \"subject\": \"s\", \"text\": \"t\"}",
			   &error);
	g_assert_no_error(error);
	assert_delivered_with_tls(f, TEST_USER);
}

static void
test_email_implicit_tls(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	fixture_start_sink(f,
			   "--tls",
			   "server.pem",
			   "server-key.pem",
			   "--implicit-tls",
			   "--user",
			   TEST_USER,
			   "--password",
			   TEST_PASSWORD,
			   NULL);
	fixture_add_server(f, "secure", "smtps", NULL, TEST_USER, TEST_PASSWORD);
	output = run_email(f,
			   "{\"server\": \"secure\", \"to\": [\"ops@example.com\"],"
			   " \"subject\": \"s\", \"text\": \"t\"}",
			   &error);
	g_assert_no_error(error);
	assert_delivered_with_tls(f, TEST_USER);
}

static void
test_email_starttls_try(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonObject) msg = NULL;
	g_autoptr(GError) error = NULL;

	/* the server offers no STARTTLS: try sends in the clear */
	fixture_start_sink(f, NULL);
	fixture_add_server(f, NULL, "smtp", "try", NULL, NULL);
	output = run_email(f,
			   "{\"to\": [\"ops@example.com\"], \"subject\": \"s\", \"text\": \"t\"}",
			   &error);
	g_assert_no_error(error);
	msg = load_message(f, 1, NULL);
	g_assert_false(json_object_get_boolean_member(msg, "tls"));
}

static void
test_email_starttls_try_upgrades(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "try", NULL, NULL);
	output = run_email(f,
			   "{\"to\": [\"ops@example.com\"], \"subject\": \"s\", \"text\": \"t\"}",
			   &error);
	g_assert_no_error(error);
	assert_delivered_with_tls(f, NULL);
}

static void
test_email_starttls_none(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonObject) msg = NULL;
	g_autoptr(GError) error = NULL;
	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "none", NULL, NULL);
	output = run_email(f,
			   "{\"to\": [\"ops@example.com\"], \"subject\": \"s\", \"text\": \"t\"}",
			   &error);
	g_assert_no_error(error);
	msg = load_message(f, 1, NULL);
	g_assert_false(json_object_get_boolean_member(msg, "tls"));
}

static void
test_email_text_only(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonObject) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *eml = NULL;
	g_autofree gchar *content_type = NULL;

	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	output = run_email(f,
			   "{\"to\": \"ops@example.com\", \"subject\": \"s\","
			   " \"text\": \"Grüße aus Köln\\r\\nline two\"}",
			   &error);
	g_assert_no_error(error);
	msg = load_message(f, 1, &eml);
	content_type = eml_get_header(eml, "Content-Type");
	g_assert_true(g_str_has_prefix(content_type, "multipart/mixed"));
	g_assert_nonnull(strstr(eml, "Content-Type: text/plain; charset=utf-8\r\n"));
	g_assert_nonnull(strstr(eml, "Content-Transfer-Encoding: quoted-printable\r\n"));
	g_assert_nonnull(strstr(eml, "Gr=C3=BC=C3=9Fe aus K=C3=B6ln\r\nline two"));
	g_assert_null(strstr(eml, "text/html"));
	g_assert_null(strstr(eml, "Content-Disposition"));
}

static void
test_email_html_only(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonObject) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *eml = NULL;

	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	output = run_email(f,
			   "{\"to\": \"ops@example.com\", \"subject\": \"s\","
			   " \"html\": \"<p>Hello <b>ops</b></p>\"}",
			   &error);
	g_assert_no_error(error);
	msg = load_message(f, 1, &eml);
	g_assert_nonnull(strstr(eml, "Content-Type: text/html; charset=utf-8\r\n"));
	g_assert_nonnull(strstr(eml, "<p>Hello <b>ops</b></p>"));
	g_assert_null(strstr(eml, "text/plain"));
}

static void
test_email_alternative(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonObject) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *eml = NULL;
	g_autofree gchar *content_type = NULL;
	g_autofree gchar *boundary = NULL;
	g_autofree gchar *delimiter = NULL;
	g_autofree gchar *close = NULL;
	g_autofree gchar *campaign = NULL;
	g_autofree gchar *reply_to = NULL;
	const gchar *text;
	const gchar *html;

	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	output = run_email(f,
			   "{\"to\": \"ops@example.com\", \"subject\": \"s\","
			   " \"reply_to\": \"help@example.com\","
			   " \"headers\": {\"X-Campaign\": \"spring ✓\", \"X-Plain\": \"yes\"},"
			   " \"text\": \"Hello ops\", \"html\": \"<p>Hello ops</p>\"}",
			   &error);
	g_assert_no_error(error);
	msg = load_message(f, 1, &eml);

	/* text and html, nothing attached: the top level is the alternative */
	content_type = eml_get_header(eml, "Content-Type");
	g_assert_true(g_str_has_prefix(content_type, "multipart/alternative;"));
	g_assert_cmpuint(count_occurrences(eml, "Content-Type: multipart/"), ==, 1);
	boundary = get_boundary(content_type);
	delimiter = g_strdup_printf("\r\n--%s\r\n", boundary);
	close = g_strdup_printf("\r\n--%s--", boundary);
	g_assert_cmpuint(count_occurrences(eml, delimiter), ==, 2);
	g_assert_nonnull(strstr(eml, close));
	/* the preferred form comes last */
	text = strstr(eml, "Content-Type: text/plain; charset=utf-8");
	html = strstr(eml, "Content-Type: text/html; charset=utf-8");
	g_assert_nonnull(text);
	g_assert_nonnull(html);
	g_assert_true(text < html);

	/* extra headers, encoded when they are not ASCII */
	campaign = eml_get_header(eml, "X-Campaign");
	g_assert_true(g_str_has_prefix(campaign, "=?UTF-8?B?"));
	g_assert_nonnull(strstr(eml, "\r\nX-Plain: yes\r\n"));
	reply_to = eml_get_header(eml, "Reply-To");
	g_assert_cmpstr(reply_to, ==, "help@example.com");
}

static void
test_email_attachments(Fixture *f, gconstpointer user_data)
{
	static const gchar csv[] = "id,total\r\n1,9.50\r\n";
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonObject) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *eml = NULL;
	g_autofree gchar *content_type = NULL;
	g_autofree gchar *boundary = NULL;
	g_autofree gchar *delimiter = NULL;
	g_autofree gchar *close = NULL;
	g_autofree gchar *csv_path = NULL;
	g_autofree gchar *csv_b64 = g_base64_encode((const guchar *)csv, strlen(csv));
	g_autofree gchar *note_b64 = g_base64_encode((const guchar *)"plain note ✓", 14);
	g_autofree gchar *subdir = g_build_filename(f->filesdir, "exports", NULL);

	g_assert_cmpint(g_mkdir(subdir, 0700), ==, 0);
	csv_path = g_build_filename(subdir, "report.csv", NULL);
	g_file_set_contents(csv_path, csv, -1, &error);
	g_assert_no_error(error);

	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	output = run_email(
		f,
		"{\"to\": \"ops@example.com\", \"subject\": \"s\","
		" \"text\": \"See attached\", \"html\": \"<p>See attached</p>\","
		" \"attachments\": ["
		"  {\"root\": \"files\", \"path\": \"exports/report.csv\","
		"   \"content_type\": \"text/csv\"},"
		"  {\"filename\": \"notes.txt\", \"content\": \"plain note ✓\"},"
		"  {\"filename\": \"hello.bin\", \"content\": \"aGVsbG8gd29ybGQ=\","
		"   \"encoding\": \"base64\", \"content_type\": \"application/octet-stream\"}"
		"]}",
		&error);
	g_assert_no_error(error);
	msg = load_message(f, 1, &eml);

	/* mixed: the alternative body, then three attachments */
	content_type = eml_get_header(eml, "Content-Type");
	g_assert_true(g_str_has_prefix(content_type, "multipart/mixed;"));
	boundary = get_boundary(content_type);
	delimiter = g_strdup_printf("\r\n--%s\r\n", boundary);
	close = g_strdup_printf("\r\n--%s--", boundary);
	g_assert_cmpuint(count_occurrences(eml, delimiter), ==, 4);
	g_assert_nonnull(strstr(eml, close));
	g_assert_nonnull(strstr(eml, "Content-Type: multipart/alternative; boundary="));

	g_assert_nonnull(strstr(eml, "Content-Disposition: attachment; filename=\"report.csv\""));
	g_assert_nonnull(strstr(eml, "Content-Type: text/csv\r\n"));
	g_assert_nonnull(strstr(eml, csv_b64));
	g_assert_nonnull(strstr(eml, "Content-Disposition: attachment; filename=\"notes.txt\""));
	g_assert_nonnull(strstr(eml, note_b64));
	g_assert_nonnull(strstr(eml, "Content-Disposition: attachment; filename=\"hello.bin\""));
	g_assert_nonnull(strstr(eml, "aGVsbG8gd29ybGQ="));
	g_assert_cmpuint(count_occurrences(eml, "Content-Transfer-Encoding: base64"), ==, 3);
}

static void
test_email_utf8_subject(Fixture *f, gconstpointer user_data)
{
	const gchar *subject = "Grüße ✓ — 日本語のレポート, with a tail long enough to fold";
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonObject) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *eml = NULL;
	g_autofree gchar *block = NULL;
	g_autofree gchar *value = NULL;
	g_autofree gchar *decoded = NULL;
	g_autofree gchar *with = NULL;
	g_auto(GStrv) lines = NULL;

	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	with = g_strdup_printf(
		"{\"to\": \"ops@example.com\", \"subject\": \"%s\", \"text\": \"t\"}",
		subject);
	output = run_email(f, with, &error);
	g_assert_no_error(error);
	msg = load_message(f, 1, &eml);

	/* the header is 7-bit, and the subject's lines are at most 76 characters */
	block = eml_get_header_block(eml);
	for (const gchar *p = block; *p != '\0'; p++)
		g_assert_cmpint((guchar)*p, <, 0x80);
	lines = g_strsplit(block, "\r\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "Subject:") ||
		    g_str_has_prefix(lines[i], " =?UTF-8?B?"))
			g_assert_cmpuint(strlen(lines[i]), <=, 76);
	}
	value = eml_get_header(eml, "Subject");
	g_assert_true(g_str_has_prefix(value, "=?UTF-8?B?"));
	g_assert_nonnull(strstr(block, "?=\r\n =?UTF-8?B?"));
	decoded = decode_encoded_words(value);
	g_assert_cmpstr(decoded, ==, subject);
}

static void
test_email_bcc(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonObject) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *eml = NULL;
	g_autofree gchar *cc = NULL;
	JsonArray *rcpt;
	JsonArray *accepted;

	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	output =
		run_email(f,
			  "{\"to\": [\"ops@example.com\"],"
			  " \"cc\": [\"lead@example.com\", \"OPS@example.com\"],"
			  " \"bcc\": [\"audit@example.com\"], \"subject\": \"s\", \"text\": \"t\"}",
			  &error);
	g_assert_no_error(error);
	msg = load_message(f, 1, &eml);

	/* every recipient once in the envelope */
	rcpt = json_object_get_array_member(msg, "rcpt");
	g_assert_cmpuint(json_array_get_length(rcpt), ==, 3);
	g_assert_cmpstr(json_array_get_string_element(rcpt, 0), ==, "ops@example.com");
	g_assert_cmpstr(json_array_get_string_element(rcpt, 1), ==, "lead@example.com");
	g_assert_cmpstr(json_array_get_string_element(rcpt, 2), ==, "audit@example.com");
	accepted = json_object_get_array_member(json_node_get_object(output), "accepted");
	g_assert_cmpuint(json_array_get_length(accepted), ==, 3);

	/* the blind copy is in no header */
	cc = eml_get_header(eml, "Cc");
	g_assert_cmpstr(cc, ==, "lead@example.com, OPS@example.com");
	g_assert_null(eml_get_header(eml, "Bcc"));
	g_assert_null(strstr(eml, "audit@"));
}

static void
test_email_header_injection(Fixture *f, gconstpointer user_data)
{
	const struct {
		const gchar *with;
		const gchar *field;
	} cases[] = {
		{ "\"headers\": {\"X-Note\": \"hi\\r\\nBcc: victim@example.com\"}",
		  "with.headers.X-Note" },
		{ "\"headers\": {\"X-Note\": \"hi\\nBcc: victim@example.com\"}",
		  "with.headers.X-Note" },
		{ "\"headers\": {\"bcc\": \"victim@example.com\"}", "with.headers.bcc" },
		{ "\"headers\": {\"Message-ID\": \"<x@example.com>\"}", "with.headers.Message-ID" },
		{ "\"headers\": {\"X Bad\": \"v\"}", "with.headers[\"X Bad\"]" },
		{ "\"subject\": \"Hi\\r\\nBcc: victim@example.com\"", "with.subject" },
	};

	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(JsonNode) output = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *with = NULL;
		g_autofree gchar *prefix = g_strdup_printf("%s: ", cases[i].field);
		with = g_strdup_printf(
			"{\"to\": \"ops@example.com\", \"text\": \"t\", %s%s}",
			cases[i].with,
			strstr(cases[i].with, "subject") == NULL ? ", \"subject\": \"s\"" : "");
		output = run_email(f, with, &error);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
		g_assert_null(output);
		g_assert_true(g_str_has_prefix(error->message, prefix));
		g_assert_null(strchr(error->message, '\n'));
	}
	assert_nothing_delivered(f);
}

static void
test_email_bad_address(Fixture *f, gconstpointer user_data)
{
	const struct {
		const gchar *with;
		const gchar *field;
	} cases[] = {
		{ "\"to\": [\"ops@example.com\", \"not an address\"]", "with.to[1]" },
		{ "\"to\": \"ops@example.com\", \"cc\": \"a@@example.com\"", "with.cc[0]" },
		{ "\"to\": \"ops@example.com\", \"bcc\": [\"audit.example.com\"]", "with.bcc[0]" },
		{ "\"to\": \"x@example.com>\\r\\nRCPT TO:<evil@example.com\"", "with.to[0]" },
		{ "\"to\": \"ops@example.com\", \"from\": \"nobody\"", "with.from" },
		{ "\"to\": \"ops@example.com\", \"reply_to\": \"@example.com\"", "with.reply_to" },
		{ "\"to\": []", "with.to" },
	};

	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(JsonNode) output = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *with = NULL;
		g_autofree gchar *prefix = g_strdup_printf("%s: ", cases[i].field);
		with = g_strdup_printf("{%s, \"subject\": \"s\", \"text\": \"t\"}", cases[i].with);
		output = run_email(f, with, &error);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
		g_assert_true(g_str_has_prefix(error->message, prefix));
		g_assert_null(strchr(error->message, '\r'));
		g_assert_null(strchr(error->message, '\n'));
	}
	assert_nothing_delivered(f);
}

static void
test_email_no_body(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	fixture_start_sink(f, NULL);
	fixture_add_server(f, NULL, "smtp", "none", NULL, NULL);
	output = run_email(f, "{\"to\": \"ops@example.com\", \"subject\": \"s\"}", &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "text, html or both"));
	assert_nothing_delivered(f);
}

static void
test_email_wrong_password(Fixture *f, gconstpointer user_data)
{
	const gchar *wrong = "Wr0ng-Secret-Value";
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	RunOptions options = { 0 };

	fixture_start_sink(f,
			   "--tls",
			   "server.pem",
			   "server-key.pem",
			   "--user",
			   TEST_USER,
			   "--password",
			   TEST_PASSWORD,
			   "--require-tls",
			   NULL);
	fixture_add_server(f, NULL, "smtp", "required", TEST_USER, wrong);
	output =
		run_email_full(f->config,
			       "{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\"}",
			       &options,
			       &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_PERMISSION_DENIED);
	g_assert_nonnull(strstr(error->message, "SMTP login failed"));
	g_assert_nonnull(strstr(error->message, TEST_USER));
	g_assert_null(strstr(error->message, wrong));
	g_assert_null(strstr(options.log, wrong));
	run_options_clear(&options);
	assert_nothing_delivered(f);
}

static void
test_email_untrusted_certificate(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	fixture_start_sink(f, "--tls", "untrusted.pem", "untrusted-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	output = run_email(f,
			   "{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\"}",
			   &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
	g_assert_nonnull(strstr(error->message, "certificate"));
	assert_nothing_delivered(f);
}

static void
test_email_untrusted_certificate_implicit(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	fixture_start_sink(f,
			   "--tls",
			   "untrusted.pem",
			   "untrusted-key.pem",
			   "--implicit-tls",
			   NULL);
	fixture_add_server(f, NULL, "smtps", NULL, NULL, NULL);
	output = run_email(f,
			   "{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\"}",
			   &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
	g_assert_nonnull(strstr(error->message, "certificate"));
	assert_nothing_delivered(f);
}

static void
test_email_starttls_unavailable(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	fixture_start_sink(f, "--user", TEST_USER, "--password", TEST_PASSWORD, NULL);
	fixture_add_server(f, NULL, "smtp", "required", TEST_USER, TEST_PASSWORD);
	output = run_email(f,
			   "{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\"}",
			   &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
	g_assert_nonnull(strstr(error->message, "STARTTLS"));
	assert_nothing_delivered(f);
}

static void
test_email_attachment_confined(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *outside = g_build_filename(f->tmpdir, "outside.txt", NULL);
	g_autofree gchar *link = g_build_filename(f->filesdir, "link.txt", NULL);
	g_autofree gchar *dirlink = g_build_filename(f->filesdir, "up", NULL);
	g_autofree gchar *inside = g_build_filename(f->filesdir, "inside.txt", NULL);
	g_autofree gchar *inlink = g_build_filename(f->filesdir, "inlink.txt", NULL);
	g_autofree gchar *fifo = g_build_filename(f->filesdir, "fifo", NULL);
	const struct {
		const gchar *attachment;
		gint code;
		const gchar *field;
	} cases[] = {
		{ "{\"root\": \"files\", \"path\": \"../outside.txt\"}",
		  AIQ_ERROR_PERMISSION_DENIED,
		  "with.attachments[0].path" },
		{ "{\"root\": \"files\", \"path\": \"a/../../outside.txt\"}",
		  AIQ_ERROR_PERMISSION_DENIED,
		  "with.attachments[0].path" },
		{ "{\"root\": \"files\", \"path\": \"/etc/passwd\"}",
		  AIQ_ERROR_PERMISSION_DENIED,
		  "with.attachments[0].path" },
		{ "{\"root\": \"files\", \"path\": \"link.txt\"}",
		  AIQ_ERROR_PERMISSION_DENIED,
		  "with.attachments[0].path" },
		{ "{\"root\": \"files\", \"path\": \"up/outside.txt\"}",
		  AIQ_ERROR_PERMISSION_DENIED,
		  "with.attachments[0].path" },
		{ "{\"root\": \"files\", \"path\": \"missing.txt\"}",
		  AIQ_ERROR_NOT_FOUND,
		  "with.attachments[0].path" },
		{ "{\"root\": \"files\", \"path\": \"fifo\"}",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "with.attachments[0].path" },
		{ "{\"root\": \"elsewhere\", \"path\": \"inside.txt\"}",
		  AIQ_ERROR_NOT_FOUND,
		  "with.attachments[0].root" },
		{ "{\"root\": \"files\"}", AIQ_ERROR_INVALID_ARGUMENT, "with.attachments[0].path" },
		{ "{\"root\": \"files\", \"path\": \"inside.txt\", \"content\": \"x\"}",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "with.attachments[0].content" },
		{ "{\"filename\": \"a/b.txt\", \"content\": \"x\"}",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "with.attachments[0].filename" },
		{ "{\"filename\": \"b.txt\", \"content\": \"%%%\", \"encoding\": \"base64\"}",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "with.attachments[0].content" },
		{ "{\"filename\": \"b.txt\", \"content\": \"x\", \"encoding\": \"hex\"}",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "with.attachments[0].encoding" },
		{ "{\"filename\": \"b.txt\", \"conent\": \"x\"}",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "with.attachments[0].conent" },
		{ "\"just a string\"", AIQ_ERROR_INVALID_ARGUMENT, "with.attachments[0]" },
	};

	g_file_set_contents(outside, "secret", -1, &error);
	g_assert_no_error(error);
	g_file_set_contents(inside, "fine", -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(symlink(outside, link), ==, 0);
	g_assert_cmpint(symlink(f->tmpdir, dirlink), ==, 0);
	g_assert_cmpint(symlink("inside.txt", inlink), ==, 0);
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);

	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(JsonNode) output = NULL;
		g_autoptr(GError) error_local = NULL;
		g_autofree gchar *with = NULL;
		g_autofree gchar *prefix = g_strdup_printf("%s: ", cases[i].field);
		with = g_strdup_printf("{\"to\": \"ops@example.com\", \"subject\": \"s\","
				       " \"text\": \"t\", \"attachments\": [%s]}",
				       cases[i].attachment);
		output = run_email(f, with, &error_local);
		g_assert_error(error_local, AIQ_ERROR, cases[i].code);
		g_assert_true(g_str_has_prefix(error_local->message, prefix));
		g_assert_null(strstr(error_local->message, "secret"));
	}
	assert_nothing_delivered(f);

	/* not where the file kind is switched off */
	{
		g_autoptr(JsonNode) output = NULL;
		g_autoptr(GError) error_local = NULL;
		aiq_config_set_kind_enabled(f->config, "file", FALSE);
		output = run_email(
			f,
			"{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\","
			" \"attachments\": [{\"root\": \"files\", \"path\": \"inside.txt\"}]}",
			&error_local);
		g_assert_error(error_local, AIQ_ERROR, AIQ_ERROR_PERMISSION_DENIED);
		g_assert_true(g_str_has_prefix(error_local->message, "with.attachments[0].root: "));
		aiq_config_set_kind_enabled(f->config, "file", TRUE);
	}
	assert_nothing_delivered(f);

	/* a link that stays inside the root is fine */
	{
		g_autoptr(JsonNode) output = NULL;
		g_autofree gchar *eml = NULL;
		g_autoptr(JsonObject) msg = NULL;
		g_autofree gchar *fine_b64 = g_base64_encode((const guchar *)"fine", 4);
		output = run_email(
			f,
			"{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\","
			" \"attachments\": [{\"root\": \"files\", \"path\": \"inlink.txt\"}]}",
			&error);
		g_assert_no_error(error);
		msg = load_message(f, 1, &eml);
		g_assert_nonnull(strstr(eml, "filename=\"inlink.txt\""));
		g_assert_nonnull(strstr(eml, fine_b64));
	}
}

static void
test_email_unknown_server(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error2 = NULL;

	/* no [smtp] at all */
	output = run_email(f,
			   "{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\"}",
			   &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(error->message, "[smtp]"));

	/* a name that is not configured */
	aiq_config_add_smtp(f->config,
			    &(AiqSmtpServer){ .url = (gchar *)"smtp://127.0.0.1:25",
					      .from = (gchar *)TEST_FROM });
	output = run_email(f,
			   "{\"server\": \"marketing\", \"to\": \"ops@example.com\","
			   " \"subject\": \"s\", \"text\": \"t\"}",
			   &error2);
	g_assert_error(error2, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	g_assert_true(g_str_has_prefix(error2->message, "with.server: "));
	g_assert_nonnull(strstr(error2->message, "“marketing”"));
	g_assert_nonnull(strstr(error2->message, "[smtp.marketing]"));
}

static guint16
get_unused_port(void)
{
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	g_autoptr(GError) error = NULL;
	guint16 port;

	socket = g_socket_new(G_SOCKET_FAMILY_IPV4,
			      G_SOCKET_TYPE_STREAM,
			      G_SOCKET_PROTOCOL_TCP,
			      &error);
	g_assert_no_error(error);
	g_socket_bind(socket, address, FALSE, &error);
	g_assert_no_error(error);
	bound = g_socket_get_local_address(socket, &error);
	g_assert_no_error(error);
	port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
	g_socket_close(socket, NULL);
	return port;
}

static void
test_email_connection_refused(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *target = NULL;

	f->port = get_unused_port();
	fixture_add_server(f, NULL, "smtp", "required", TEST_USER, TEST_PASSWORD);
	output = run_email(f,
			   "{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\"}",
			   &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
	target = g_strdup_printf("127.0.0.1:%u", f->port);
	g_assert_nonnull(strstr(error->message, target));
	g_assert_null(strstr(error->message, TEST_PASSWORD));
}

/* a server that accepts connections and never says a word */
static GSocketListener *
start_silent_server(guint16 *port)
{
	g_autoptr(GSocketListener) listener = g_socket_listener_new();
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) effective = NULL;
	g_autoptr(GError) error = NULL;
	g_socket_listener_add_address(listener,
				      address,
				      G_SOCKET_TYPE_STREAM,
				      G_SOCKET_PROTOCOL_TCP,
				      NULL,
				      &effective,
				      &error);
	g_assert_no_error(error);
	*port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
	return g_steal_pointer(&listener);
}

static gboolean
cancel_cb(gpointer user_data)
{
	g_cancellable_cancel(G_CANCELLABLE(user_data));
	return G_SOURCE_REMOVE;
}

static void
test_email_cancel(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GSocketListener) listener = start_silent_server(&f->port);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	RunOptions options = { .cancellable = cancellable };
	gint64 start = g_get_monotonic_time();

	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	g_timeout_add(200, cancel_cb, cancellable);
	output =
		run_email_full(f->config,
			       "{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\"}",
			       &options,
			       &error);
	/* GTask may report the caller's cancellation in its own words */
	g_assert_true(g_error_matches(error, AIQ_ERROR, AIQ_ERROR_CANCELLED) ||
		      g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
	g_assert_error(options.run_error, AIQ_ERROR, AIQ_ERROR_CANCELLED);
	/* the worker thread saw the cancellation too, and quickly */
	g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
	run_options_clear(&options);
}

static void
test_email_timeout(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GSocketListener) listener = start_silent_server(&f->port);
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	RunOptions options = { .timeout_ms = 300 };
	gint64 start = g_get_monotonic_time();

	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	output =
		run_email_full(f->config,
			       "{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\"}",
			       &options,
			       &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TIMED_OUT);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
	run_options_clear(&options);
}

static void
test_email_message_id_stable(Fixture *f, gconstpointer user_data)
{
	const gchar *with = "{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\"}";
	g_autoptr(JsonNode) first = NULL;
	g_autoptr(JsonNode) again = NULL;
	g_autoptr(JsonNode) other = NULL;
	g_autoptr(GError) error = NULL;
	RunOptions options1 = { .step_key = "exec-1/notify" };
	RunOptions options2 = { .step_key = "exec-1/notify" };
	RunOptions options3 = { .step_key = "exec-2/notify" };

	fixture_start_sink(f, "--tls", "server.pem", "server-key.pem", NULL);
	fixture_add_server(f, NULL, "smtp", "required", NULL, NULL);
	first = run_email_full(f->config, with, &options1, &error);
	g_assert_no_error(error);
	again = run_email_full(f->config, with, &options2, &error);
	g_assert_no_error(error);
	other = run_email_full(f->config, with, &options3, &error);
	g_assert_no_error(error);
	/* a step run again after a crash sends the same Message-ID */
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(first), "message_id"),
			==,
			json_object_get_string_member(json_node_get_object(again), "message_id"));
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(first), "message_id"),
			!=,
			json_object_get_string_member(json_node_get_object(other), "message_id"));
	run_options_clear(&options1);
	run_options_clear(&options2);
	run_options_clear(&options3);
}

static void
test_email_secrets_masked(Fixture *f, gconstpointer user_data)
{
	g_autoptr(AiqSecrets) secrets = aiq_secrets_new();
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(GError) error = NULL;
	RunOptions options = { 0 };

	/* the user name is a secret too: it must not show in the error */
	aiq_secrets_set(secrets, "smtp_user", "secret-user-name");
	options.secrets = secrets;
	fixture_start_sink(f,
			   "--tls",
			   "server.pem",
			   "server-key.pem",
			   "--user",
			   TEST_USER,
			   "--password",
			   TEST_PASSWORD,
			   NULL);
	fixture_add_server(f, NULL, "smtp", "required", "secret-user-name", "nope");
	output =
		run_email_full(f->config,
			       "{\"to\": \"ops@example.com\", \"subject\": \"s\", \"text\": \"t\"}",
			       &options,
			       &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_PERMISSION_DENIED);
	g_assert_null(strstr(error->message, "secret-user-name"));
	g_assert_nonnull(strstr(error->message, AIQ_SECRETS_MASK));
	g_assert_null(strstr(options.log, "secret-user-name"));
	run_options_clear(&options);
}

static void
test_email_validate(void)
{
	const gchar *definition =
		"{\"to\": [\"ok@example.com\", \"${{ inputs.to }}\", \"bad address\"],"
		" \"cc\": \"also bad\", \"from\": \"${{ inputs.from }}\", \"subject\": \"s\","
		" \"headers\": {\"From\": \"a@example.com\", \"X-Ok\": \"fine\","
		"               \"X-Bad\": \"a\\nb\", \"X-Expr\": \"${{ inputs.h }}\"},"
		" \"attachments\": [{\"root\": \"files\", \"path\": \"../x\"},"
		"                   {\"filename\": \"a.txt\"},"
		"                   \"${{ inputs.attachment }}\","
		"                   {\"root\": \"files\", \"path\": \"${{ inputs.path }}\"}]}";
	const gchar *good_definition =
		"{\"to\": \"${{ inputs.to }}\", \"subject\": \"s\", \"html\": \"h\"}";
	g_autoptr(JsonNode) with = aiq_json_parse(definition, strlen(definition), 16, NULL);
	g_autoptr(JsonNode) good = NULL;
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqProblems) none = aiq_problems_new();
	g_autofree gchar *text = NULL;

	g_assert_nonnull(with);
	aiq_step_kind_validate_with(&aiq_step_kind_email, with, "steps[2].with", problems);
	text = aiq_problems_to_string(problems, NULL);
	g_test_message("%s", text);
	g_assert_true(aiq_problems_has_path(problems, "steps[2].with"));
	g_assert_true(aiq_problems_has_path(problems, "steps[2].with.to[2]"));
	g_assert_true(aiq_problems_has_path(problems, "steps[2].with.cc"));
	g_assert_true(aiq_problems_has_path(problems, "steps[2].with.headers.From"));
	g_assert_true(aiq_problems_has_path(problems, "steps[2].with.headers.X-Bad"));
	g_assert_true(aiq_problems_has_path(problems, "steps[2].with.attachments[0].path"));
	g_assert_true(aiq_problems_has_path(problems, "steps[2].with.attachments[1].content"));
	g_assert_cmpuint(aiq_problems_get_size(problems), ==, 7);

	/* expressions are checked once rendered, not before */
	good = aiq_json_parse(good_definition, strlen(good_definition), 16, NULL);
	aiq_step_kind_validate_with(&aiq_step_kind_email, good, "with", none);
	g_assert_cmpuint(aiq_problems_get_size(none), ==, 0);
}

static void
test_email_circuit_key(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(JsonObject) named = json_object_new();
	g_autoptr(AiqStepRun) run = NULL;
	g_autoptr(AiqStepRun) run_named = NULL;
	g_autofree gchar *key = NULL;
	g_autofree gchar *key_named = NULL;

	aiq_config_add_smtp(f->config,
			    &(AiqSmtpServer){ .url = (gchar *)"smtp://mail.example.com:587" });
	aiq_config_add_smtp(f->config,
			    &(AiqSmtpServer){ .name = (gchar *)"bulk",
					      .url = (gchar *)"smtps://[2001:db8::25]" });
	run = aiq_step_run_new(&aiq_step_kind_email, params, f->config);
	key = aiq_step_kind_email.get_circuit_key(run);
	g_assert_cmpstr(key, ==, "smtp:mail.example.com:587");
	json_object_set_string_member(named, "server", "bulk");
	run_named = aiq_step_run_new(&aiq_step_kind_email, named, f->config);
	key_named = aiq_step_kind_email.get_circuit_key(run_named);
	g_assert_cmpstr(key_named, ==, "smtp:[2001:db8::25]:465");
}

/* one raw SMTP conversation with the sink */
typedef struct {
	GSocketConnection *connection;
	GDataInputStream *in;
} SmtpPeer;

static void
smtp_peer_connect(SmtpPeer *peer, guint16 port)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GError) error = NULL;
	peer->connection = g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, &error);
	g_assert_no_error(error);
	peer->in = g_data_input_stream_new(
		g_io_stream_get_input_stream(G_IO_STREAM(peer->connection)));
	g_data_input_stream_set_newline_type(peer->in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
}

static void
smtp_peer_close(SmtpPeer *peer)
{
	g_clear_object(&peer->in);
	g_clear_object(&peer->connection);
}

static void
smtp_peer_send(SmtpPeer *peer, const gchar *line)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *data = g_strconcat(line, "\r\n", NULL);
	g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(peer->connection)),
				  data,
				  strlen(data),
				  NULL,
				  NULL,
				  &error);
	g_assert_no_error(error);
}

/* the whole reply, multi-line replies joined with \n; NULL at the end of the stream */
static gchar *
smtp_peer_read_reply(SmtpPeer *peer)
{
	g_autoptr(GString) reply = g_string_new(NULL);
	for (;;) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *line =
			g_data_input_stream_read_line(peer->in, NULL, NULL, &error);
		if (line == NULL)
			return reply->len > 0 ? g_string_free(g_steal_pointer(&reply), FALSE)
					      : NULL;
		if (reply->len > 0)
			g_string_append_c(reply, '\n');
		g_string_append(reply, line);
		if (strlen(line) < 4 || line[3] != '-')
			return g_string_free(g_steal_pointer(&reply), FALSE);
	}
}

static void
smtp_peer_expect(SmtpPeer *peer, const gchar *line, const gchar *code)
{
	g_autofree gchar *reply = NULL;
	if (line != NULL)
		smtp_peer_send(peer, line);
	reply = smtp_peer_read_reply(peer);
	g_assert_nonnull(reply);
	if (!g_str_has_prefix(reply, code))
		g_error("after “%s”: expected %s, got “%s”", line, code, reply);
}

static gchar *
b64(const gchar *data, gsize len)
{
	return g_base64_encode((const guchar *)data, len);
}

/* the sink itself: protocol errors, both AUTH mechanisms, limits and idle timeout */
static void
test_email_sink_protocol(Fixture *f, gconstpointer user_data)
{
	SmtpPeer peer = { 0 };
	g_autofree gchar *plain = b64("\0u\0p", 4);
	g_autofree gchar *user = b64("u", 1);
	g_autofree gchar *password = b64("p", 1);
	g_autofree gchar *wrong = b64("nope", 4);
	g_autofree gchar *auth_plain = g_strdup_printf("AUTH PLAIN %s", plain);
	g_autofree gchar *auth_login = g_strdup_printf("AUTH LOGIN %s", user);
	g_autofree gchar *long_line = g_strnfill(5000, 'x');
	g_autofree gchar *ehlo = NULL;
	g_autofree gchar *eml = NULL;
	g_autoptr(JsonObject) msg = NULL;
	gint64 start;

	fixture_start_sink(f, "--user", "u", "--password", "p", "--idle-timeout", "1", NULL);

	/* order of commands, AUTH PLAIN, a line that is too long */
	smtp_peer_connect(&peer, f->port);
	smtp_peer_expect(&peer, NULL, "220 ");
	smtp_peer_expect(&peer, "MAIL FROM:<a@example.com>", "503 ");
	smtp_peer_send(&peer, "EHLO test");
	ehlo = smtp_peer_read_reply(&peer);
	g_assert_nonnull(strstr(ehlo, "250-AUTH PLAIN LOGIN"));
	g_assert_null(strstr(ehlo, "STARTTLS"));
	smtp_peer_expect(&peer, "MAIL FROM:<a@example.com>", "530 ");
	smtp_peer_expect(&peer, "AUTH CRAM-MD5", "504 ");
	smtp_peer_expect(&peer, auth_plain, "235 ");
	smtp_peer_expect(&peer, "DATA", "503 ");
	smtp_peer_expect(&peer, "MAIL FROM:<a@example.com> SIZE=99999999", "552 ");
	smtp_peer_expect(&peer, "MAIL FROM:<a@example.com>", "250 ");
	smtp_peer_expect(&peer, "MAIL FROM:<a@example.com>", "503 ");
	smtp_peer_expect(&peer, "RCPT TO:<>", "501 ");
	smtp_peer_expect(&peer, "RCPT TO:<b@example.com>", "250 ");
	smtp_peer_expect(&peer, "RSET", "250 ");
	smtp_peer_expect(&peer, "DATA", "503 ");
	smtp_peer_expect(&peer, "NOOP", "250 ");
	smtp_peer_expect(&peer, "BOGUS", "500 ");
	smtp_peer_expect(&peer, long_line, "500 ");
	g_assert_null(smtp_peer_read_reply(&peer));
	smtp_peer_close(&peer);

	/* AUTH LOGIN, a failed attempt first, then a message with dot-stuffing */
	smtp_peer_connect(&peer, f->port);
	smtp_peer_expect(&peer, NULL, "220 ");
	smtp_peer_expect(&peer, "HELO test", "250 ");
	smtp_peer_expect(&peer, "AUTH LOGIN", "334 VXNlcm5hbWU6");
	smtp_peer_expect(&peer, user, "334 UGFzc3dvcmQ6");
	smtp_peer_expect(&peer, wrong, "535 ");
	smtp_peer_expect(&peer, auth_login, "334 UGFzc3dvcmQ6");
	smtp_peer_expect(&peer, password, "235 ");
	smtp_peer_expect(&peer, "MAIL FROM:<a@example.com>", "250 ");
	smtp_peer_expect(&peer, "RCPT TO:<b@example.com>", "250 ");
	smtp_peer_expect(&peer, "RCPT TO:<c@example.com>", "250 ");
	smtp_peer_expect(&peer, "DATA", "354 ");
	smtp_peer_send(&peer, "Subject: raw");
	smtp_peer_send(&peer, "");
	smtp_peer_send(&peer, "..starts with a dot");
	smtp_peer_expect(&peer, ".", "250 ");
	smtp_peer_expect(&peer, "QUIT", "221 ");
	g_assert_null(smtp_peer_read_reply(&peer));
	smtp_peer_close(&peer);
	msg = load_message(f, 1, &eml);
	g_assert_cmpstr(eml, ==, "Subject: raw\r\n\r\n.starts with a dot\r\n");
	g_assert_cmpint(json_object_get_int_member(msg, "size"), ==, (gint64)strlen(eml));
	g_assert_cmpstr(json_object_get_string_member(msg, "auth_user"), ==, "u");
	g_assert_false(json_object_get_boolean_member(msg, "tls"));
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(msg, "rcpt")), ==, 2);

	/* an idle client is told and dropped */
	smtp_peer_connect(&peer, f->port);
	smtp_peer_expect(&peer, NULL, "220 ");
	start = g_get_monotonic_time();
	smtp_peer_expect(&peer, NULL, "421 ");
	g_assert_null(smtp_peer_read_reply(&peer));
	g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
	smtp_peer_close(&peer);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/aiq/connector/email/starttls-auth-plain", test_email_starttls_auth_plain);
	ADD("/aiq/connector/email/starttls-auth-login", test_email_starttls_auth_login);
	ADD("/aiq/connector/email/implicit-tls", test_email_implicit_tls);
	ADD("/aiq/connector/email/starttls-try-plain", test_email_starttls_try);
	ADD("/aiq/connector/email/starttls-try-upgrades", test_email_starttls_try_upgrades);
	ADD("/aiq/connector/email/starttls-none", test_email_starttls_none);
	ADD("/aiq/connector/email/text-only", test_email_text_only);
	ADD("/aiq/connector/email/html-only", test_email_html_only);
	ADD("/aiq/connector/email/alternative", test_email_alternative);
	ADD("/aiq/connector/email/attachments", test_email_attachments);
	ADD("/aiq/connector/email/utf8-subject", test_email_utf8_subject);
	ADD("/aiq/connector/email/bcc", test_email_bcc);
	ADD("/aiq/connector/email/header-injection", test_email_header_injection);
	ADD("/aiq/connector/email/bad-address", test_email_bad_address);
	ADD("/aiq/connector/email/no-body", test_email_no_body);
	ADD("/aiq/connector/email/wrong-password", test_email_wrong_password);
	ADD("/aiq/connector/email/secrets-masked", test_email_secrets_masked);
	ADD("/aiq/connector/email/untrusted-certificate", test_email_untrusted_certificate);
	ADD("/aiq/connector/email/untrusted-certificate-implicit",
	    test_email_untrusted_certificate_implicit);
	ADD("/aiq/connector/email/starttls-unavailable", test_email_starttls_unavailable);
	ADD("/aiq/connector/email/attachment-confined", test_email_attachment_confined);
	ADD("/aiq/connector/email/unknown-server", test_email_unknown_server);
	ADD("/aiq/connector/email/connection-refused", test_email_connection_refused);
	ADD("/aiq/connector/email/cancel", test_email_cancel);
	ADD("/aiq/connector/email/timeout", test_email_timeout);
	ADD("/aiq/connector/email/message-id-stable", test_email_message_id_stable);
	ADD("/aiq/connector/email/circuit-key", test_email_circuit_key);
	ADD("/aiq/connector/email/sink-protocol", test_email_sink_protocol);
#undef ADD
	g_test_add_func("/aiq/connector/email/validate", test_email_validate);
	return g_test_run();
}
