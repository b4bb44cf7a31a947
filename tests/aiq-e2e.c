/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The e2e harness: child processes with captured logs, the server and the
 * agent driven as their users drive them, an HTTP sink and a TCP proxy on a
 * thread of their own (the test thread blocks in sync calls and polls).
 */

#define G_LOG_DOMAIN "aiq-e2e"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aiq-e2e.h"
#include "aiq-json.h"
#include "aiq-test-pg.h"

#define AIQ_E2E_START_TIMEOUT_MS 60000
#define AIQ_E2E_CALL_DEADLINE_US (60 * G_USEC_PER_SEC)

guint
aiq_e2e_scale(const gchar *env, guint ci, guint full)
{
	const gchar *value = env != NULL ? g_getenv(env) : NULL;
	guint64 n = 0;
	if (value != NULL && g_ascii_string_to_unsigned(value, 10, 1, G_MAXUINT, &n, NULL))
		return (guint)n;
	return g_strcmp0(g_getenv("CI"), "true") == 0 ? ci : full;
}

gint64
aiq_e2e_parse_time(const gchar *iso)
{
	g_autoptr(GDateTime) dt = NULL;
	if (iso == NULL)
		return 0;
	dt = g_date_time_new_from_iso8601(iso, NULL);
	if (dt == NULL)
		return 0;
	return g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
}

gchar *
aiq_e2e_make_tmp_dir(const gchar *test_name)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *tmpl = g_strdup_printf("aiq-e2e-%s-XXXXXX", test_name);
	gchar *dir = g_dir_make_tmp(tmpl, &error);
	g_assert_no_error(error);
	g_test_message("logs and state in %s (kept when the test fails)", dir);
	return dir;
}

/* drops the PostgreSQL database of every server data directory under @dir */
static void
aiq_e2e_drop_databases(const gchar *dir)
{
	g_autoptr(GDir) entries = g_dir_open(dir, 0, NULL);
	const gchar *name;
	if (entries == NULL)
		return;
	aiq_test_pg_drop(dir);
	while ((name = g_dir_read_name(entries)) != NULL) {
		g_autofree gchar *path = g_build_filename(dir, name, NULL);
		if (!g_file_test(path, G_FILE_TEST_IS_SYMLINK) &&
		    g_file_test(path, G_FILE_TEST_IS_DIR))
			aiq_e2e_drop_databases(path);
	}
}

void
aiq_e2e_remove_tmp_dir(const gchar *dir)
{
	const gchar *argv[] = { "rm", "-rf", "--", dir, NULL };
	if (g_strcmp0(g_getenv("AIQ_E2E_KEEP"), "1") == 0) {
		g_test_message("kept %s (AIQ_E2E_KEEP=1)", dir);
		return;
	}
	/* a server's database goes with its data directory */
	if (aiq_test_pg_enabled())
		aiq_e2e_drop_databases(dir);
	g_assert_cmpint(aiq_e2e_run(argv, 60000, NULL, NULL, NULL), ==, 0);
}

/* ---------------------------------------------------------------------------
 * the I/O thread: the sink and the proxy live on its main context
 */

static GMainContext *aiq_e2e_io_ctx = NULL;

static gpointer
aiq_e2e_io_thread(gpointer user_data)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(aiq_e2e_io_ctx, FALSE);
	g_main_context_push_thread_default(aiq_e2e_io_ctx);
	g_main_loop_run(loop);
	return NULL;
}

static GMainContext *
aiq_e2e_io_context(void)
{
	static gsize once = 0;
	if (g_once_init_enter(&once)) {
		aiq_e2e_io_ctx = g_main_context_new();
		/* runs as long as the test process */
		g_thread_unref(g_thread_new("e2e-io", aiq_e2e_io_thread, NULL));
		g_once_init_leave(&once, 1);
	}
	return aiq_e2e_io_ctx;
}

typedef struct {
	GFunc func;
	gpointer data;
	gpointer arg;
	GMutex mutex;
	GCond cond;
	gboolean done;
} AiqE2eIoCall;

static gboolean
aiq_e2e_io_call_cb(gpointer user_data)
{
	AiqE2eIoCall *call = user_data;
	call->func(call->data, call->arg);
	g_mutex_lock(&call->mutex);
	call->done = TRUE;
	g_cond_signal(&call->cond);
	g_mutex_unlock(&call->mutex);
	return G_SOURCE_REMOVE;
}

/* runs @func(@data, @arg) on the I/O thread and waits for it */
static void
aiq_e2e_io_run(GFunc func, gpointer data, gpointer arg)
{
	AiqE2eIoCall call = { func, data, arg };
	g_mutex_init(&call.mutex);
	g_cond_init(&call.cond);
	g_main_context_invoke(aiq_e2e_io_context(), aiq_e2e_io_call_cb, &call);
	g_mutex_lock(&call.mutex);
	while (!call.done)
		g_cond_wait(&call.cond, &call.mutex);
	g_mutex_unlock(&call.mutex);
	g_mutex_clear(&call.mutex);
	g_cond_clear(&call.cond);
}

/* ---------------------------------------------------------------------------
 * processes
 */

struct _AiqE2eProcess {
	GSubprocess *proc;
	gint pid;
	GThread *pump;
	gint log_fd;
	GMutex mutex;
	GCond cond;
	GString *output;
	gboolean eof;
};

static void
aiq_e2e_child_setup(gpointer user_data)
{
	/* the children die with the test, even when it aborts */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static gpointer
aiq_e2e_process_pump(gpointer user_data)
{
	AiqE2eProcess *self = user_data;
	GInputStream *stream = g_subprocess_get_stdout_pipe(self->proc);
	gchar buf[8192];

	for (;;) {
		gssize n = g_input_stream_read(stream, buf, sizeof(buf), NULL, NULL);
		if (n <= 0)
			break;
		if (self->log_fd >= 0) {
			gssize off = 0;
			while (off < n) {
				gssize w = write(self->log_fd, buf + off, (gsize)(n - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break;
				off += w;
			}
		}
		g_mutex_lock(&self->mutex);
		g_string_append_len(self->output, buf, n);
		g_cond_broadcast(&self->cond);
		g_mutex_unlock(&self->mutex);
	}
	g_mutex_lock(&self->mutex);
	self->eof = TRUE;
	g_cond_broadcast(&self->cond);
	g_mutex_unlock(&self->mutex);
	return NULL;
}

AiqE2eProcess *
aiq_e2e_process_spawn(const gchar *log_path, const gchar *const *argv, GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GSubprocess) proc = NULL;
	AiqE2eProcess *self;

	g_subprocess_launcher_set_child_setup(launcher, aiq_e2e_child_setup, NULL, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, argv, error);
	if (proc == NULL)
		return NULL;
	self = g_new0(AiqE2eProcess, 1);
	self->proc = g_steal_pointer(&proc);
	self->pid = (gint)g_ascii_strtoll(g_subprocess_get_identifier(self->proc), NULL, 10);
	self->output = g_string_new(NULL);
	g_mutex_init(&self->mutex);
	g_cond_init(&self->cond);
	self->log_fd = -1;
	if (log_path != NULL) {
		g_autofree gchar *cmd = g_strjoinv(" ", (gchar **)argv);
		g_autofree gchar *head = NULL;
		g_autoptr(GDateTime) now = g_date_time_new_now_local();
		g_autofree gchar *stamp = g_date_time_format(now, "%H:%M:%S.%f");
		self->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		head = g_strdup_printf("==== %s pid %d: %s\n", stamp, self->pid, cmd);
		if (self->log_fd >= 0 && write(self->log_fd, head, strlen(head)) < 0)
			g_warning("%s: %s", log_path, g_strerror(errno));
	}
	self->pump = g_thread_new("e2e-pump", aiq_e2e_process_pump, self);
	return self;
}

gint
aiq_e2e_process_get_pid(AiqE2eProcess *self)
{
	return self->pid;
}

gboolean
aiq_e2e_process_is_running(AiqE2eProcess *self)
{
	return g_subprocess_get_identifier(self->proc) != NULL;
}

gchar *
aiq_e2e_process_dup_output(AiqE2eProcess *self)
{
	gchar *text;
	g_mutex_lock(&self->mutex);
	text = g_strndup(self->output->str, self->output->len);
	g_mutex_unlock(&self->mutex);
	return text;
}

gboolean
aiq_e2e_process_wait_output(AiqE2eProcess *self, const gchar *needle, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	gboolean found = FALSE;

	g_mutex_lock(&self->mutex);
	for (;;) {
		found = strstr(self->output->str, needle) != NULL;
		if (found || self->eof)
			break;
		if (!g_cond_wait_until(&self->cond, &self->mutex, deadline)) {
			found = strstr(self->output->str, needle) != NULL;
			break;
		}
	}
	g_mutex_unlock(&self->mutex);
	return found;
}

static void
aiq_e2e_process_wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gboolean *done = user_data;
	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	*done = TRUE;
}

static gboolean
aiq_e2e_timeout_cb(gpointer user_data)
{
	gboolean *expired = user_data;
	*expired = TRUE;
	return G_SOURCE_REMOVE;
}

/* Returns: %TRUE when it exited within @timeout_ms */
static gboolean
aiq_e2e_process_wait(AiqE2eProcess *self, guint timeout_ms)
{
	g_autoptr(GMainContext) ctx = g_main_context_new();
	g_autoptr(GSource) timeout = g_timeout_source_new(timeout_ms);
	gboolean done = FALSE;
	gboolean expired = FALSE;

	g_main_context_push_thread_default(ctx);
	g_source_set_callback(timeout, aiq_e2e_timeout_cb, &expired, NULL);
	g_source_attach(timeout, ctx);
	g_subprocess_wait_async(self->proc, NULL, aiq_e2e_process_wait_cb, &done);
	while (!done && !expired)
		g_main_context_iteration(ctx, TRUE);
	g_source_destroy(timeout);
	if (!done) {
		/* the wait must end before its context goes */
		g_subprocess_force_exit(self->proc);
		while (!done)
			g_main_context_iteration(ctx, TRUE);
	}
	g_main_context_pop_thread_default(ctx);
	return !expired;
}

gboolean
aiq_e2e_process_kill(AiqE2eProcess *self)
{
	g_subprocess_send_signal(self->proc, SIGKILL);
	aiq_e2e_process_wait(self, 60000);
	return g_subprocess_get_if_signaled(self->proc) &&
	       g_subprocess_get_term_sig(self->proc) == SIGKILL;
}

gint
aiq_e2e_process_terminate(AiqE2eProcess *self, guint timeout_ms)
{
	g_subprocess_send_signal(self->proc, SIGTERM);
	if (!aiq_e2e_process_wait(self, timeout_ms))
		return -1;
	if (!g_subprocess_get_if_exited(self->proc))
		return -1;
	return g_subprocess_get_exit_status(self->proc);
}

gchar *
aiq_e2e_process_describe_exit(AiqE2eProcess *self)
{
	if (aiq_e2e_process_is_running(self))
		return g_strdup("running");
	if (g_subprocess_get_if_signaled(self->proc))
		return g_strdup_printf("killed by signal %d (%s)",
				       g_subprocess_get_term_sig(self->proc),
				       g_strsignal(g_subprocess_get_term_sig(self->proc)));
	return g_strdup_printf("exited with status %d", g_subprocess_get_exit_status(self->proc));
}

void
aiq_e2e_process_free(AiqE2eProcess *self)
{
	if (self == NULL)
		return;
	if (aiq_e2e_process_is_running(self))
		aiq_e2e_process_kill(self);
	else
		aiq_e2e_process_wait(self, 60000);
	g_thread_join(self->pump);
	if (self->log_fd >= 0)
		close(self->log_fd);
	g_string_free(self->output, TRUE);
	g_mutex_clear(&self->mutex);
	g_cond_clear(&self->cond);
	g_object_unref(self->proc);
	g_free(self);
}

typedef struct {
	gboolean done;
	gchar *out;
	gchar *err;
} AiqE2eRunResult;

static void
aiq_e2e_run_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AiqE2eRunResult *result = user_data;
	g_subprocess_communicate_utf8_finish(G_SUBPROCESS(source),
					     res,
					     &result->out,
					     &result->err,
					     NULL);
	result->done = TRUE;
}

gint
aiq_e2e_run(const gchar *const *argv,
	    guint timeout_ms,
	    gchar **out,
	    gchar **err,
	    gint64 *elapsed_us)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainContext) ctx = g_main_context_new();
	g_autoptr(GSource) timeout = g_timeout_source_new(timeout_ms);
	AiqE2eRunResult result = { 0 };
	gboolean expired = FALSE;
	gint64 start = g_get_monotonic_time();

	g_subprocess_launcher_set_child_setup(launcher, aiq_e2e_child_setup, NULL, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	g_main_context_push_thread_default(ctx);
	g_source_set_callback(timeout, aiq_e2e_timeout_cb, &expired, NULL);
	g_source_attach(timeout, ctx);
	g_subprocess_communicate_utf8_async(proc, NULL, NULL, aiq_e2e_run_cb, &result);
	while (!result.done && !expired)
		g_main_context_iteration(ctx, TRUE);
	if (!result.done) {
		g_subprocess_force_exit(proc);
		while (!result.done)
			g_main_context_iteration(ctx, TRUE);
	}
	g_source_destroy(timeout);
	g_subprocess_wait(proc, NULL, NULL);
	g_main_context_pop_thread_default(ctx);
	if (elapsed_us != NULL)
		*elapsed_us = g_get_monotonic_time() - start;
	if (expired)
		g_test_message("%s %s: no end within %u ms; killed", argv[0], argv[1], timeout_ms);
	if (out != NULL)
		*out = g_steal_pointer(&result.out);
	if (err != NULL)
		*err = g_steal_pointer(&result.err);
	g_free(result.out);
	g_free(result.err);
	if (expired || !g_subprocess_get_if_exited(proc))
		return -1;
	return g_subprocess_get_exit_status(proc);
}

/* ---------------------------------------------------------------------------
 * the server
 */

void
aiq_e2e_server_set_config(AiqE2eServer *self, const gchar *conf_text)
{
	g_autofree gchar *unlimited_path = g_build_filename(g_getenv("AIQ_SOURCE_ROOT"),
							    "bench",
							    "unlimited-tiers.conf",
							    NULL);
	g_autofree gchar *unlimited = NULL;
	g_autofree gchar *text = NULL;

	/* tests of other things run with every limit at its largest (the http
	 * suite tests the limits) */
	g_assert_nonnull(g_getenv("AIQ_SOURCE_ROOT"));
	g_assert_true(g_file_get_contents(unlimited_path, &unlimited, NULL, NULL));
	text = g_strconcat(conf_text != NULL ? conf_text : "[server]\n", "\n", unlimited, NULL);
	if (!aiq_test_pg_enabled()) {
		g_assert_true(g_file_set_contents(self->conf, text, -1, NULL));
		return;
	}
	/* on PostgreSQL: the database of the data directory, the same at every
	 * start, in the [server] group */
	{
		static const gchar *const keys[] = { "store", "store-admin" };
		g_autoptr(GKeyFile) kf = g_key_file_new();
		g_autoptr(GKeyFile) pg = g_key_file_new();
		g_autoptr(GError) error = NULL;
		g_autofree gchar *lines = NULL;
		g_autofree gchar *pg_text = NULL;
		g_autofree gchar *data = NULL;
		g_assert_cmpint(g_mkdir_with_parents(self->dir, 0700), ==, 0);
		lines = aiq_test_pg_server_config(self->dir);
		pg_text = g_strconcat("[server]\n", lines, NULL);
		g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_KEEP_COMMENTS, &error);
		g_assert_no_error(error);
		g_key_file_load_from_data(pg, pg_text, -1, G_KEY_FILE_NONE, &error);
		g_assert_no_error(error);
		for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
			g_autofree gchar *value =
				g_key_file_get_value(pg, "server", keys[i], &error);
			g_assert_no_error(error);
			g_key_file_set_value(kf, "server", keys[i], value);
		}
		data = g_key_file_to_data(kf, NULL, NULL);
		g_assert_true(g_file_set_contents(self->conf, data, -1, NULL));
	}
}

/* on PostgreSQL, no SQLite store may appear in the data directory: the
 * tests would pass on the wrong store */
static void
aiq_e2e_server_check_store(AiqE2eServer *self)
{
	g_autofree gchar *sqlite = g_build_filename(self->dir, "automateiq.db", NULL);
	if (aiq_test_pg_enabled() && g_file_test(sqlite, G_FILE_TEST_EXISTS))
		g_error("the server %s made %s: it does not use the store in %s",
			self->name,
			sqlite,
			self->conf);
}

AiqE2eServer *
aiq_e2e_server_new(const gchar *root, const gchar *name, const gchar *conf_text)
{
	AiqE2eServer *self = g_new0(AiqE2eServer, 1);
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	gint rc;

	self->name = g_strdup(name);
	self->dir = g_strdup_printf("%s/%s-data", root, name);
	self->conf = g_strdup_printf("%s/%s.conf", root, name);
	self->log_path = g_strdup_printf("%s/%s.log", root, name);
	aiq_e2e_server_set_config(self, conf_text);
	{
		const gchar *argv[] = { g_getenv("AIQ_SERVER"),
					"init",
					"--data-dir",
					self->dir,
					"-c",
					self->conf,
					"--admin",
					"admin",
					"--demo",
					"demo",
					NULL };
		rc = aiq_e2e_run(argv, 120000, &out, &err, NULL);
	}
	if (rc != 0)
		g_error("automateiq-server init failed (%d): %s%s", rc, out, err);
	aiq_e2e_server_check_store(self);
	self->ca_file = g_build_filename(self->dir, "tls.crt", NULL);
	return self;
}

void
aiq_e2e_server_set_ca_file(AiqE2eServer *self, const gchar *ca_file)
{
	g_free(self->ca_file);
	self->ca_file = g_strdup(ca_file);
}

static void
aiq_e2e_server_connect(AiqE2eServer *self)
{
	g_autoptr(GError) error = NULL;
	g_clear_object(&self->client);
	self->client = aiq_client_new(self->url, &error);
	g_assert_no_error(error);
	aiq_client_set_ca_file(self->client, self->ca_file, &error);
	g_assert_no_error(error);
	aiq_client_set_timeout(self->client, 120);
	if (self->token == NULL) {
		g_autoptr(JsonNode) reply = aiq_client_login_sync(self->client,
								  "demo",
								  "demo",
								  g_getenv("AIQ_DEMO_PASSWORD"),
								  NULL,
								  &error);
		g_assert_no_error(error);
		self->token =
			g_strdup(aiq_json_object_get_string(json_node_get_object(reply), "token"));
		g_assert_nonnull(self->token);
	}
	aiq_client_set_token(self->client, self->token);
}

void
aiq_e2e_server_start(AiqE2eServer *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *port = g_strdup_printf("%u", self->port);
	g_autofree gchar *output = NULL;
	const gchar *argv[] = { g_getenv("AIQ_SERVER"),
				"run",
				"--data-dir",
				self->dir,
				"-c",
				self->conf,
				"--listen",
				"127.0.0.1",
				"--port",
				port,
				NULL };
	const gchar *line;
	const gchar *end;
	g_autoptr(GUri) uri = NULL;

	g_assert_null(self->proc);
	self->proc = aiq_e2e_process_spawn(self->log_path, argv, &error);
	g_assert_no_error(error);
	if (!aiq_e2e_process_wait_output(self->proc,
					 "\nTLS certificate",
					 AIQ_E2E_START_TIMEOUT_MS) &&
	    !aiq_e2e_process_wait_output(self->proc, "listening on http://", 10)) {
		g_autofree gchar *how = aiq_e2e_process_describe_exit(self->proc);
		output = aiq_e2e_process_dup_output(self->proc);
		g_error("the server %s did not start (%s):\n%s", self->name, how, output);
	}
	output = aiq_e2e_process_dup_output(self->proc);
	/* the URL, not the info line before it (G_MESSAGES_DEBUG=AiqServer) */
	line = strstr(output, "listening on http");
	g_assert_nonnull(line);
	line += strlen("listening on ");
	end = strchr(line, '\n');
	g_assert_nonnull(end);
	g_free(self->url);
	self->url = g_strndup(line, (gsize)(end - line));
	uri = g_uri_parse(self->url, G_URI_FLAGS_NONE, &error);
	g_assert_no_error(error);
	self->port = (guint16)g_uri_get_port(uri);
	self->starts++;
	aiq_e2e_server_check_store(self);
	aiq_e2e_server_connect(self);
}

void
aiq_e2e_server_kill(AiqE2eServer *self)
{
	g_assert_nonnull(self->proc);
	if (!aiq_e2e_process_kill(self->proc)) {
		g_autofree gchar *how = aiq_e2e_process_describe_exit(self->proc);
		g_error("the server %s had died before it was killed: %s (log: %s)",
			self->name,
			how,
			self->log_path);
	}
	self->kills++;
	g_clear_pointer(&self->proc, aiq_e2e_process_free);
}

/* SIGTERM, and a failed test unless it exits 0 */
static void
aiq_e2e_stop_process(AiqE2eProcess **proc, const gchar *name)
{
	gint64 start = g_get_monotonic_time();
	gint rc;
	if (*proc == NULL)
		return;
	rc = aiq_e2e_process_terminate(*proc, 30000);
	g_test_message("%s: SIGTERM: exit status %d after %.2f s",
		       name,
		       rc,
		       (g_get_monotonic_time() - start) / 1e6);
	if (rc != 0) {
		g_autofree gchar *how = aiq_e2e_process_describe_exit(*proc);
		g_test_message("%s did not stop cleanly on SIGTERM: %s", name, how);
		g_test_fail();
	}
	g_clear_pointer(proc, aiq_e2e_process_free);
}

void
aiq_e2e_server_stop(AiqE2eServer *self)
{
	aiq_e2e_stop_process(&self->proc, self->name);
}

void
aiq_e2e_server_free(AiqE2eServer *self)
{
	if (self == NULL)
		return;
	if (self->proc != NULL) {
		aiq_e2e_process_kill(self->proc);
		g_clear_pointer(&self->proc, aiq_e2e_process_free);
	}
	g_clear_object(&self->client);
	g_free(self->token);
	g_free(self->name);
	g_free(self->dir);
	g_free(self->conf);
	g_free(self->log_path);
	g_free(self->ca_file);
	g_free(self->url);
	g_free(self);
}

/* a request, retried while the server cannot be reached */
static JsonNode *
aiq_e2e_server_request(AiqE2eServer *self,
		       const gchar *method,
		       const gchar *path,
		       JsonNode *body,
		       GBytes *bytes,
		       const gchar *content_type,
		       GHashTable *headers,
		       guint *status)
{
	gint64 deadline = g_get_monotonic_time() + AIQ_E2E_CALL_DEADLINE_US;

	for (;;) {
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqClientReply) reply = NULL;
		JsonNode *root;
		guint code;

		g_assert_nonnull(self->client);
		if (bytes != NULL)
			root = aiq_client_request_bytes_sync(self->client,
							     method,
							     path,
							     bytes,
							     content_type,
							     headers,
							     NULL,
							     &reply,
							     &error);
		else
			root = aiq_client_request_sync(self->client,
						       method,
						       path,
						       body,
						       NULL,
						       headers,
						       NULL,
						       &reply,
						       &error);
		code = reply != NULL ? aiq_client_reply_get_status(reply) : 0;
		if (root != NULL) {
			if (status != NULL)
				*status = code;
			return root;
		}
		if ((code == 0 || code == 503) && g_get_monotonic_time() < deadline) {
			g_usleep(200 * 1000);
			continue;
		}
		g_error("%s %s on %s: %u %s", method, path, self->name, code, error->message);
	}
}

JsonNode *
aiq_e2e_server_call(AiqE2eServer *self, const gchar *method, const gchar *path, JsonNode *body)
{
	return aiq_e2e_server_request(self, method, path, body, NULL, NULL, NULL, NULL);
}

gchar *
aiq_e2e_server_create_workflow(AiqE2eServer *self, const gchar *yaml)
{
	g_autoptr(GBytes) bytes = g_bytes_new(yaml, strlen(yaml));
	g_autoptr(JsonNode) root = aiq_e2e_server_request(self,
							  "POST",
							  "/api/v1/workflows",
							  NULL,
							  bytes,
							  "application/yaml",
							  NULL,
							  NULL);
	const gchar *id = aiq_json_object_get_string(json_node_get_object(root), "id");
	g_assert_nonnull(id);
	return g_strdup(id);
}

gchar *
aiq_e2e_server_start_execution(AiqE2eServer *self, const gchar *workflow_id, JsonObject *inputs)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
	g_autoptr(GHashTable) headers = g_hash_table_new(g_str_hash, g_str_equal);
	/* a retry after a lost answer must not start a second one */
	g_autofree gchar *key = g_strdup_printf("e2e-%s-%s-%u",
						self->name,
						workflow_id,
						(guint)g_atomic_int_add(&self->n_started, 1));
	g_autoptr(JsonObject) body = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(JsonNode) root = NULL;
	const gchar *id;

	json_object_set_object_member(body,
				      "inputs",
				      inputs != NULL ? json_object_ref(inputs) : json_object_new());
	node = aiq_json_new_object(g_steal_pointer(&body));
	g_hash_table_insert(headers, (gpointer) "Idempotency-Key", key);
	root = aiq_e2e_server_request(self, "POST", path, node, NULL, NULL, headers, NULL);
	id = aiq_json_object_get_string(json_node_get_object(root), "id");
	g_assert_nonnull(id);
	return g_strdup(id);
}

JsonObject *
aiq_e2e_server_get_execution(AiqE2eServer *self, const gchar *id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", id);
	g_autoptr(JsonNode) root = aiq_e2e_server_call(self, "GET", path, NULL);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
	return json_object_ref(json_node_get_object(root));
}

/**
 * aiq_e2e_assert_succeeded:
 * @exec: an execution as GET answers it, with @steps its "steps"
 *
 * Fails the test, printing the whole execution, unless it succeeded with
 * @n_steps steps.
 */
void
aiq_e2e_assert_succeeded(JsonObject *exec, const gchar *id, JsonArray *steps, guint n_steps)
{
	if (g_strcmp0(aiq_json_object_get_string(exec, "status"), "succeeded") != 0) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
		g_autofree gchar *text = NULL;
		json_node_set_object(node, exec);
		text = aiq_json_to_string(node, TRUE);
		g_error("execution %s did not succeed:\n%s", id, text);
	}
	g_assert_nonnull(steps);
	g_assert_cmpuint(json_array_get_length(steps), ==, n_steps);
}

JsonArray *
aiq_e2e_server_get_events(AiqE2eServer *self, const gchar *id)
{
	JsonArray *all = json_array_new();
	gint64 after = 0;

	for (;;) {
		g_autofree gchar *path = g_strdup_printf(
			"/api/v1/executions/%s/events?after=%" G_GINT64_FORMAT "&limit=1000",
			id,
			after);
		g_autoptr(JsonNode) root = aiq_e2e_server_call(self, "GET", path, NULL);
		JsonArray *items = aiq_json_object_get_array(json_node_get_object(root), "items");
		guint n;
		g_assert_nonnull(items);
		n = json_array_get_length(items);
		for (guint i = 0; i < n; i++) {
			JsonNode *event = json_array_get_element(items, i);
			json_array_add_element(all, json_node_copy(event));
			after = MAX(after,
				    aiq_json_object_get_int(json_node_get_object(event), "seq", 0));
		}
		if (n < 1000)
			break;
	}
	return all;
}

gchar *
aiq_e2e_server_create_enrollment_token(AiqE2eServer *self)
{
	g_autoptr(JsonObject) body = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(JsonNode) root = NULL;
	json_object_set_string_member(body, "expires_in", "1h");
	node = aiq_json_new_object(g_steal_pointer(&body));
	root = aiq_e2e_server_call(self, "POST", "/api/v1/enrollment-tokens", node);
	return g_strdup(aiq_json_object_get_string(json_node_get_object(root), "token"));
}

static GHashTable *
aiq_e2e_server_list(AiqE2eServer *self, const gchar *workflow_id, const gchar *status)
{
	GHashTable *result = g_hash_table_new_full(g_str_hash,
						   g_str_equal,
						   g_free,
						   (GDestroyNotify)json_object_unref);
	g_autofree gchar *cursor = NULL;

	do {
		g_autoptr(GString) path = g_string_new("/api/v1/executions?limit=1000");
		g_autoptr(JsonNode) root = NULL;
		JsonObject *page;
		JsonArray *items;
		if (workflow_id != NULL)
			g_string_append_printf(path, "&workflow_id=%s", workflow_id);
		if (status != NULL)
			g_string_append_printf(path, "&status=%s", status);
		if (cursor != NULL) {
			g_autofree gchar *escaped = g_uri_escape_string(cursor, NULL, FALSE);
			g_string_append_printf(path, "&cursor=%s", escaped);
		}
		root = aiq_e2e_server_call(self, "GET", path->str, NULL);
		page = json_node_get_object(root);
		items = aiq_json_object_get_array(page, "items");
		g_assert_nonnull(items);
		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonObject *item = json_array_get_object_element(items, i);
			g_hash_table_replace(result,
					     g_strdup(aiq_json_object_get_string(item, "id")),
					     json_object_ref(item));
		}
		g_free(cursor);
		cursor = g_strdup(aiq_json_object_get_string(page, "next_cursor"));
	} while (cursor != NULL);
	return result;
}

GHashTable *
aiq_e2e_server_list_executions(AiqE2eServer *self, const gchar *workflow_id)
{
	return aiq_e2e_server_list(self, workflow_id, NULL);
}

guint
aiq_e2e_server_count(AiqE2eServer *self, const gchar *workflow_id, const gchar *status)
{
	g_autoptr(GHashTable) list = aiq_e2e_server_list(self, workflow_id, status);
	return g_hash_table_size(list);
}

/* ---------------------------------------------------------------------------
 * the agent
 */

AiqE2eAgent *
aiq_e2e_agent_new(const gchar *root, const gchar *name, const gchar *conf_text)
{
	AiqE2eAgent *self = g_new0(AiqE2eAgent, 1);
	self->name = g_strdup(name);
	self->dir = g_strdup_printf("%s/%s-state", root, name);
	self->conf = g_strdup_printf("%s/%s.conf", root, name);
	self->log_path = g_strdup_printf("%s/%s.log", root, name);
	g_assert_true(g_file_set_contents(self->conf,
					  conf_text != NULL ? conf_text : "[agent]\n",
					  -1,
					  NULL));
	return self;
}

gint
aiq_e2e_agent_try_enroll(AiqE2eAgent *self,
			 const gchar *url,
			 const gchar *token,
			 const gchar *ca_file,
			 gchar **output,
			 gint64 *elapsed_us)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	gint rc;

	g_ptr_array_add(argv, (gpointer)g_getenv("AIQ_AGENT"));
	g_ptr_array_add(argv, (gpointer) "enroll");
	g_ptr_array_add(argv, (gpointer) "--state-dir");
	g_ptr_array_add(argv, self->dir);
	g_ptr_array_add(argv, (gpointer) "-c");
	g_ptr_array_add(argv, self->conf);
	g_ptr_array_add(argv, (gpointer) "--server");
	g_ptr_array_add(argv, (gpointer)url);
	g_ptr_array_add(argv, (gpointer) "--token");
	g_ptr_array_add(argv, (gpointer)token);
	g_ptr_array_add(argv, (gpointer) "--name");
	g_ptr_array_add(argv, self->name);
	if (ca_file != NULL) {
		g_ptr_array_add(argv, (gpointer) "--ca");
		g_ptr_array_add(argv, (gpointer)ca_file);
	}
	if (self->session_bus)
		g_ptr_array_add(argv, (gpointer) "--session");
	g_ptr_array_add(argv, NULL);
	rc = aiq_e2e_run((const gchar *const *)argv->pdata, 120000, &out, &err, elapsed_us);
	if (output != NULL)
		*output = g_strconcat(out != NULL ? out : "", err != NULL ? err : "", NULL);
	return rc;
}

void
aiq_e2e_agent_enroll(AiqE2eAgent *self, AiqE2eServer *server, const gchar *url)
{
	g_autofree gchar *token = aiq_e2e_server_create_enrollment_token(server);
	g_autofree gchar *output = NULL;
	gint rc = aiq_e2e_agent_try_enroll(self,
					   url != NULL ? url : server->url,
					   token,
					   server->ca_file,
					   &output,
					   NULL);
	if (rc != 0)
		g_error("enrolling agent %s failed (%d): %s", self->name, rc, output);
}

void
aiq_e2e_agent_start(AiqE2eAgent *self)
{
	g_autoptr(GError) error = NULL;
	const gchar *argv[] = { g_getenv("AIQ_AGENT"),
				"run",
				self->session_bus ? "--session" : "--no-dbus",
				"--state-dir",
				self->dir,
				"-c",
				self->conf,
				"-v",
				NULL };
	g_assert_null(self->proc);
	self->proc = aiq_e2e_process_spawn(self->log_path, argv, &error);
	g_assert_no_error(error);
	self->starts++;
}

gboolean
aiq_e2e_agent_is_running(AiqE2eAgent *self)
{
	return self->proc != NULL && aiq_e2e_process_is_running(self->proc);
}

void
aiq_e2e_agent_kill(AiqE2eAgent *self)
{
	g_assert_nonnull(self->proc);
	if (!aiq_e2e_process_kill(self->proc)) {
		g_autofree gchar *how = aiq_e2e_process_describe_exit(self->proc);
		g_autofree gchar *output = aiq_e2e_process_dup_output(self->proc);
		g_error("agent %s (start %u) had died before it was killed: %s\n%s",
			self->name,
			self->starts,
			how,
			output);
	}
	self->kills++;
	g_clear_pointer(&self->proc, aiq_e2e_process_free);
}

void
aiq_e2e_agent_stop(AiqE2eAgent *self)
{
	aiq_e2e_stop_process(&self->proc, self->name);
}

JsonObject *
aiq_e2e_agent_status(AiqE2eAgent *self)
{
	const gchar *argv[] = { g_getenv("AIQ_AGENT"),
				"status",
				"--json",
				"--state-dir",
				self->dir,
				"-c",
				self->conf,
				self->session_bus ? "--session" : NULL,
				NULL };
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	gint rc = aiq_e2e_run(argv, 60000, &out, &err, NULL);

	if (rc != 0)
		g_error("automateiq-agent status failed (%d): %s%s", rc, out, err);
	root = aiq_json_parse(out, strlen(out), 16, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
	return json_object_ref(json_node_get_object(root));
}

gboolean
aiq_e2e_agent_log_contains(AiqE2eAgent *self, const gchar *needle)
{
	g_autofree gchar *text = NULL;
	if (!g_file_get_contents(self->log_path, &text, NULL, NULL))
		return FALSE;
	return strstr(text, needle) != NULL;
}

void
aiq_e2e_agent_free(AiqE2eAgent *self)
{
	if (self == NULL)
		return;
	if (self->proc != NULL) {
		aiq_e2e_process_kill(self->proc);
		g_clear_pointer(&self->proc, aiq_e2e_process_free);
	}
	g_free(self->name);
	g_free(self->dir);
	g_free(self->conf);
	g_free(self->log_path);
	g_free(self);
}

/* ---------------------------------------------------------------------------
 * the sink
 */

struct _AiqE2eSink {
	SoupServer *server;
	gchar *url;
	guint delay_min_ms;
	guint delay_max_ms;
	GMutex mutex;
	GHashTable *keys; /* key → AiqE2eSinkKey */
	guint64 requests;
	guint64 no_key;
};

typedef struct {
	SoupServerMessage *msg;
	GSource *timeout;
} AiqE2eSinkDelay;

static void
aiq_e2e_sink_delay_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	AiqE2eSinkDelay *delay = user_data;
	g_source_destroy(delay->timeout);
	g_source_unref(delay->timeout);
	g_signal_handlers_disconnect_by_data(delay->msg, delay);
	g_object_unref(delay->msg);
	g_free(delay);
}

static gboolean
aiq_e2e_sink_delay_cb(gpointer user_data)
{
	AiqE2eSinkDelay *delay = user_data;
	/* "finished" may free @delay from inside this call */
	soup_server_message_unpause(delay->msg);
	return G_SOURCE_REMOVE;
}

static void
aiq_e2e_sink_handler(SoupServer *server,
		     SoupServerMessage *msg,
		     const char *path,
		     GHashTable *query,
		     gpointer user_data)
{
	AiqE2eSink *self = user_data;
	const gchar *key =
		soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
					     "Idempotency-Key");
	gint64 now = g_get_real_time();
	guint count = 0;
	gchar *body;

	g_mutex_lock(&self->mutex);
	self->requests++;
	if (key != NULL) {
		AiqE2eSinkKey *entry = g_hash_table_lookup(self->keys, key);
		if (entry == NULL) {
			entry = g_new0(AiqE2eSinkKey, 1);
			entry->first_us = now;
			g_hash_table_insert(self->keys, g_strdup(key), entry);
		}
		entry->count++;
		entry->last_us = now;
		count = entry->count;
	} else {
		self->no_key++;
	}
	g_mutex_unlock(&self->mutex);

	body = g_strdup_printf("{\"count\": %u}", count);
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(msg,
					 "application/json",
					 SOUP_MEMORY_TAKE,
					 body,
					 strlen(body));
	if (self->delay_max_ms > 0) {
		AiqE2eSinkDelay *delay = g_new0(AiqE2eSinkDelay, 1);
		guint ms = (guint)g_random_int_range((gint32)self->delay_min_ms,
						     (gint32)self->delay_max_ms + 1);
		delay->msg = g_object_ref(msg);
		delay->timeout = g_timeout_source_new(ms);
		g_source_set_callback(delay->timeout, aiq_e2e_sink_delay_cb, delay, NULL);
		g_source_attach(delay->timeout, g_main_context_get_thread_default());
		g_signal_connect(msg,
				 "finished",
				 G_CALLBACK(aiq_e2e_sink_delay_finished_cb),
				 delay);
		soup_server_message_pause(msg);
	}
}

static void
aiq_e2e_sink_start_io(gpointer data, gpointer arg)
{
	AiqE2eSink *self = data;
	g_autoptr(GError) error = NULL;
	GSList *uris;

	self->server = soup_server_new(NULL, NULL);
	soup_server_add_handler(self->server, NULL, aiq_e2e_sink_handler, self, NULL);
	soup_server_listen_local(self->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
	g_assert_no_error(error);
	uris = soup_server_get_uris(self->server);
	g_assert_nonnull(uris);
	self->url = g_strdup_printf("http://127.0.0.1:%d", g_uri_get_port(uris->data));
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
}

static void
aiq_e2e_sink_stop_io(gpointer data, gpointer arg)
{
	AiqE2eSink *self = data;
	soup_server_disconnect(self->server);
	g_clear_object(&self->server);
}

AiqE2eSink *
aiq_e2e_sink_new(guint delay_min_ms, guint delay_max_ms)
{
	AiqE2eSink *self = g_new0(AiqE2eSink, 1);
	g_mutex_init(&self->mutex);
	self->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->delay_min_ms = delay_min_ms;
	self->delay_max_ms = MAX(delay_min_ms, delay_max_ms);
	aiq_e2e_io_run(aiq_e2e_sink_start_io, self, NULL);
	return self;
}

void
aiq_e2e_sink_free(AiqE2eSink *self)
{
	if (self == NULL)
		return;
	aiq_e2e_io_run(aiq_e2e_sink_stop_io, self, NULL);
	g_hash_table_unref(self->keys);
	g_mutex_clear(&self->mutex);
	g_free(self->url);
	g_free(self);
}

const gchar *
aiq_e2e_sink_get_url(AiqE2eSink *self)
{
	return self->url;
}

guint64
aiq_e2e_sink_get_requests(AiqE2eSink *self)
{
	guint64 n;
	g_mutex_lock(&self->mutex);
	n = self->requests;
	g_mutex_unlock(&self->mutex);
	return n;
}

guint64
aiq_e2e_sink_get_requests_without_key(AiqE2eSink *self)
{
	guint64 n;
	g_mutex_lock(&self->mutex);
	n = self->no_key;
	g_mutex_unlock(&self->mutex);
	return n;
}

GHashTable *
aiq_e2e_sink_dup_keys(AiqE2eSink *self)
{
	GHashTable *copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTableIter iter;
	gpointer key;
	gpointer value;
	g_mutex_lock(&self->mutex);
	g_hash_table_iter_init(&iter, self->keys);
	while (g_hash_table_iter_next(&iter, &key, &value))
		g_hash_table_insert(copy, g_strdup(key), g_memdup2(value, sizeof(AiqE2eSinkKey)));
	g_mutex_unlock(&self->mutex);
	return copy;
}

/* ---------------------------------------------------------------------------
 * the proxy
 */

struct _AiqE2eProxy {
	GSocketService *service;
	guint16 port;
	/* the rest is used on the I/O thread only, but read from the test thread */
	GMutex mutex;
	guint16 target_port;
	gboolean connected;
	GPtrArray *links; /* of AiqE2eProxyLink, borrowed: each frees itself */
	guint64 accepted;
	guint64 refused;
	guint64 cut;
};

typedef struct {
	AiqE2eProxy *proxy;
	GSocketConnection *client;
	GSocketConnection *upstream;
	GCancellable *cancellable;
} AiqE2eProxyLink;

/* closes at once, with a reset: what a peer behind a cut sees */
static void
aiq_e2e_socket_abort(GSocketConnection *connection)
{
	GSocket *socket = g_socket_connection_get_socket(connection);
	struct linger linger = { 1, 0 };
	if (g_socket_is_closed(socket))
		return;
	setsockopt(g_socket_get_fd(socket), SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
	g_socket_shutdown(socket, TRUE, TRUE, NULL);
}

static void
aiq_e2e_proxy_link_free(AiqE2eProxyLink *link)
{
	g_mutex_lock(&link->proxy->mutex);
	g_ptr_array_remove_fast(link->proxy->links, link);
	g_mutex_unlock(&link->proxy->mutex);
	g_clear_object(&link->client);
	g_clear_object(&link->upstream);
	g_clear_object(&link->cancellable);
	g_free(link);
}

static void
aiq_e2e_proxy_splice_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AiqE2eProxyLink *link = user_data;
	g_io_stream_splice_finish(res, NULL);
	aiq_e2e_proxy_link_free(link);
}

static void
aiq_e2e_proxy_upstream_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AiqE2eProxyLink *link = user_data;
	g_autoptr(GError) error = NULL;
	gboolean connected;

	link->upstream = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);
	g_mutex_lock(&link->proxy->mutex);
	connected = link->proxy->connected && !g_cancellable_is_cancelled(link->cancellable);
	g_mutex_unlock(&link->proxy->mutex);
	if (link->upstream == NULL || !connected) {
		aiq_e2e_socket_abort(link->client);
		if (link->upstream != NULL)
			aiq_e2e_socket_abort(link->upstream);
		aiq_e2e_proxy_link_free(link);
		return;
	}
	g_io_stream_splice_async(G_IO_STREAM(link->client),
				 G_IO_STREAM(link->upstream),
				 G_IO_STREAM_SPLICE_CLOSE_STREAM1 |
					 G_IO_STREAM_SPLICE_CLOSE_STREAM2,
				 G_PRIORITY_DEFAULT,
				 link->cancellable,
				 aiq_e2e_proxy_splice_cb,
				 link);
}

static gboolean
aiq_e2e_proxy_incoming_cb(GSocketService *service,
			  GSocketConnection *connection,
			  GObject *source_object,
			  gpointer user_data)
{
	AiqE2eProxy *self = user_data;
	g_autoptr(GSocketClient) client = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	AiqE2eProxyLink *link;
	guint16 target;

	g_mutex_lock(&self->mutex);
	if (!self->connected) {
		self->refused++;
		g_mutex_unlock(&self->mutex);
		aiq_e2e_socket_abort(connection);
		return TRUE;
	}
	self->accepted++;
	target = self->target_port;
	link = g_new0(AiqE2eProxyLink, 1);
	link->proxy = self;
	link->client = g_object_ref(connection);
	link->cancellable = g_cancellable_new();
	g_ptr_array_add(self->links, link);
	g_mutex_unlock(&self->mutex);

	client = g_socket_client_new();
	address = g_inet_socket_address_new_from_string("127.0.0.1", target);
	g_socket_client_connect_async(client,
				      G_SOCKET_CONNECTABLE(address),
				      link->cancellable,
				      aiq_e2e_proxy_upstream_cb,
				      link);
	return TRUE;
}

static void
aiq_e2e_proxy_start_io(gpointer data, gpointer arg)
{
	AiqE2eProxy *self = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) effective = NULL;

	self->service = g_socket_service_new();
	g_socket_listener_add_address(G_SOCKET_LISTENER(self->service),
				      address,
				      G_SOCKET_TYPE_STREAM,
				      G_SOCKET_PROTOCOL_TCP,
				      NULL,
				      &effective,
				      &error);
	g_assert_no_error(error);
	self->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
	g_signal_connect(self->service, "incoming", G_CALLBACK(aiq_e2e_proxy_incoming_cb), self);
	g_socket_service_start(self->service);
}

static void
aiq_e2e_proxy_cut_io(gpointer data, gpointer arg)
{
	AiqE2eProxy *self = data;
	g_autoptr(GPtrArray) links = NULL;

	g_mutex_lock(&self->mutex);
	links = g_ptr_array_copy(self->links, NULL, NULL);
	g_mutex_unlock(&self->mutex);
	for (guint i = 0; i < links->len; i++) {
		AiqE2eProxyLink *link = g_ptr_array_index(links, i);
		if (g_cancellable_is_cancelled(link->cancellable))
			continue;
		g_mutex_lock(&self->mutex);
		self->cut++;
		g_mutex_unlock(&self->mutex);
		aiq_e2e_socket_abort(link->client);
		if (link->upstream != NULL)
			aiq_e2e_socket_abort(link->upstream);
		g_cancellable_cancel(link->cancellable);
	}
}

static void
aiq_e2e_proxy_stop_io(gpointer data, gpointer arg)
{
	AiqE2eProxy *self = data;
	g_socket_service_stop(self->service);
	g_socket_listener_close(G_SOCKET_LISTENER(self->service));
	aiq_e2e_proxy_cut_io(self, NULL);
	g_clear_object(&self->service);
}

AiqE2eProxy *
aiq_e2e_proxy_new(guint16 target_port)
{
	AiqE2eProxy *self = g_new0(AiqE2eProxy, 1);
	g_mutex_init(&self->mutex);
	self->links = g_ptr_array_new();
	self->target_port = target_port;
	self->connected = TRUE;
	aiq_e2e_io_run(aiq_e2e_proxy_start_io, self, NULL);
	return self;
}

static gboolean
aiq_e2e_proxy_drained(AiqE2eProxy *self)
{
	gboolean drained;
	g_mutex_lock(&self->mutex);
	drained = self->links->len == 0;
	g_mutex_unlock(&self->mutex);
	return drained;
}

void
aiq_e2e_proxy_free(AiqE2eProxy *self)
{
	gint64 deadline;
	if (self == NULL)
		return;
	g_mutex_lock(&self->mutex);
	self->connected = FALSE;
	g_mutex_unlock(&self->mutex);
	aiq_e2e_io_run(aiq_e2e_proxy_stop_io, self, NULL);
	/* the links end on the I/O thread and point at @self until then */
	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (!aiq_e2e_proxy_drained(self) && g_get_monotonic_time() < deadline)
		g_usleep(10 * 1000);
	g_assert_true(aiq_e2e_proxy_drained(self));
	g_ptr_array_unref(self->links);
	g_mutex_clear(&self->mutex);
	g_free(self);
}

guint16
aiq_e2e_proxy_get_port(AiqE2eProxy *self)
{
	return self->port;
}

gchar *
aiq_e2e_proxy_dup_url(AiqE2eProxy *self)
{
	return g_strdup_printf("https://127.0.0.1:%u", self->port);
}

void
aiq_e2e_proxy_set_target(AiqE2eProxy *self, guint16 target_port)
{
	g_mutex_lock(&self->mutex);
	self->target_port = target_port;
	g_mutex_unlock(&self->mutex);
}

void
aiq_e2e_proxy_set_connected(AiqE2eProxy *self, gboolean connected)
{
	g_mutex_lock(&self->mutex);
	self->connected = connected;
	g_mutex_unlock(&self->mutex);
	if (!connected)
		aiq_e2e_io_run(aiq_e2e_proxy_cut_io, self, NULL);
}

guint64
aiq_e2e_proxy_get_refused(AiqE2eProxy *self)
{
	guint64 n;
	g_mutex_lock(&self->mutex);
	n = self->refused;
	g_mutex_unlock(&self->mutex);
	return n;
}

guint64
aiq_e2e_proxy_get_cut(AiqE2eProxy *self)
{
	guint64 n;
	g_mutex_lock(&self->mutex);
	n = self->cut;
	g_mutex_unlock(&self->mutex);
	return n;
}
