/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The agent's D-Bus API (io.automateiq.Agent1) on a private session bus
 * (GTestDBus): a real AiqAgent exported by AiqAgentDbus, driven through the
 * gdbus-codegen proxy the designer uses, enrolling against the real server in
 * process over HTTPS with the test CA.
 *
 * The agent's side runs on this thread's main context, so the client side
 * uses the async calls and runs the context until they finish (a _sync call
 * would block the very context that has to answer it).
 */

#include "config.h"

#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#include "aiq-agent-dbus.h"
#include "aiq-agent.h"
#include "aiq-dbus-agent1.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-test-agent.h"
#include "aiq-test-server.h"
#include "aiq-test-util.h"

#define WAIT_TIMEOUT_S 60

static gboolean
wake_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* runs the main context until @cond holds, failing the test after a minute */
#define WAIT_FOR(cond)                                                                       \
	G_STMT_START                                                                         \
	{                                                                                    \
		gint64 deadline_ = g_get_monotonic_time() + WAIT_TIMEOUT_S * G_USEC_PER_SEC; \
		guint wake_ = g_timeout_add(50, wake_cb, NULL);                              \
		while (!(cond)) {                                                            \
			if (g_get_monotonic_time() > deadline_)                              \
				g_error("timed out waiting for %s", #cond);                  \
			g_main_context_iteration(NULL, TRUE);                                \
		}                                                                            \
		g_source_remove(wake_);                                                      \
	}                                                                                    \
	G_STMT_END

static void
result_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **out = user_data;
	g_assert_null(*out);
	*out = g_object_ref(res);
}

typedef struct {
	gchar *state_dir;
	AiqAgent *agent;
	AiqAgentDbus *dbus;
	AiqDbusAgent1 *proxy;
	GHashTable *changed; /* property names seen in PropertiesChanged */
	guint n_properties_changed;
} Fixture;

static void
properties_changed_cb(GDBusProxy *proxy,
		      GVariant *changed,
		      const gchar *const *invalidated,
		      gpointer user_data)
{
	Fixture *f = user_data;
	GVariantIter iter;
	const gchar *name = NULL;

	f->n_properties_changed++;
	g_variant_iter_init(&iter, changed);
	while (g_variant_iter_next(&iter, "{&sv}", &name, NULL))
		g_hash_table_add(f->changed, g_strdup(name));
}

static AiqDbusAgent1 *
proxy_new(GDBusConnection *connection)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	AiqDbusAgent1 *proxy;

	if (connection != NULL) {
		/* a peer-to-peer connection: no bus names */
		aiq_dbus_agent1_proxy_new(connection,
					  G_DBUS_PROXY_FLAGS_NONE,
					  NULL,
					  AIQ_AGENT_DBUS_PATH,
					  NULL,
					  result_cb,
					  &res);
	} else {
		aiq_dbus_agent1_proxy_new_for_bus(G_BUS_TYPE_SESSION,
						  G_DBUS_PROXY_FLAGS_NONE,
						  AIQ_AGENT_DBUS_NAME,
						  AIQ_AGENT_DBUS_PATH,
						  NULL,
						  result_cb,
						  &res);
	}
	WAIT_FOR(res != NULL);
	proxy = connection != NULL ? aiq_dbus_agent1_proxy_new_finish(res, &error)
				   : aiq_dbus_agent1_proxy_new_for_bus_finish(res, &error);
	g_assert_no_error(error);
	g_assert_nonnull(proxy);
	return proxy;
}

static gboolean
call_test_step(AiqDbusAgent1 *proxy,
	       const gchar *step_json,
	       const gchar *inputs_json,
	       gchar **result_json,
	       gchar **log,
	       GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	aiq_dbus_agent1_call_test_step(proxy, step_json, inputs_json, NULL, result_cb, &res);
	WAIT_FOR(res != NULL);
	return aiq_dbus_agent1_call_test_step_finish(proxy, result_json, log, res, error);
}

static gboolean
call_enroll(AiqDbusAgent1 *proxy,
	    const gchar *server,
	    const gchar *token,
	    const gchar *name,
	    const gchar *const *labels,
	    const gchar *ca_pem,
	    gchar **agent_id,
	    GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	const gchar *const none[] = { NULL };
	aiq_dbus_agent1_call_enroll(proxy,
				    server,
				    token,
				    name,
				    labels != NULL ? labels : none,
				    ca_pem,
				    NULL,
				    result_cb,
				    &res);
	WAIT_FOR(res != NULL);
	return aiq_dbus_agent1_call_enroll_finish(proxy, agent_id, res, error);
}

/* an error that came over the bus: in the AIQ_ERROR domain, with its message */
static void
assert_remote_error(GError *error, AiqError code, const gchar *message_part)
{
	g_assert_nonnull(error);
	g_assert_true(g_dbus_error_is_remote_error(error));
	g_dbus_error_strip_remote_error(error);
	g_test_message("%s: %s", aiq_error_code_to_string(error->code), error->message);
	g_assert_error(error, AIQ_ERROR, (gint)code);
	g_assert_false(g_str_has_prefix(error->message, "GDBus.Error"));
	if (message_part != NULL && strstr(error->message, message_part) == NULL)
		g_error("“%s” is not in the error “%s”", message_part, error->message);
}

static JsonObject *
parse_object(JsonNode **node, const gchar *json)
{
	g_autoptr(GError) error = NULL;
	g_assert_nonnull(json);
	*node = aiq_json_parse(json, strlen(json), 64, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(*node));
	return json_node_get_object(*node);
}

static gchar *
test_ca_pem(void)
{
	g_autofree gchar *path = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	g_autoptr(GError) error = NULL;
	gchar *pem = NULL;
	g_file_get_contents(path, &pem, NULL, &error);
	g_assert_no_error(error);
	return pem;
}

/* the fixture: an agent (with the config text of the test data, if any)
 * exported on the private bus, and a client proxy */

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	const gchar *config = data;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *config_file = NULL;

	f->state_dir = g_dir_make_tmp("aiq-agent-dbus-XXXXXX", &error);
	g_assert_no_error(error);
	if (config != NULL) {
		config_file = g_build_filename(f->state_dir, "agent.conf", NULL);
		g_file_set_contents(config_file, config, -1, &error);
		g_assert_no_error(error);
	}
	f->agent = aiq_agent_new(config_file, f->state_dir, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->agent);
	f->dbus = aiq_agent_dbus_new(f->agent);
	g_assert_true(aiq_agent_dbus_start(f->dbus, G_BUS_TYPE_SESSION, &error));
	g_assert_no_error(error);

	f->changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	f->proxy = proxy_new(NULL);
	g_signal_connect(f->proxy, "g-properties-changed", G_CALLBACK(properties_changed_cb), f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->proxy);
	aiq_agent_dbus_stop(f->dbus);
	g_clear_object(&f->dbus);
	g_clear_object(&f->agent);
	/* let the connections finish what they have queued */
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_clear_pointer(&f->changed, g_hash_table_unref);
	aiq_test_rm_rf(f->state_dir);
	g_free(f->state_dir);
}

/* the properties mirror the core */
static void
test_properties(Fixture *f, gconstpointer data)
{
	const gchar *const *labels = aiq_dbus_agent1_get_labels(f->proxy);
	const gchar *const *running = aiq_dbus_agent1_get_running_executions(f->proxy);
	g_autofree gchar *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(f->proxy));

	g_assert_nonnull(owner);
	g_assert_false(aiq_dbus_agent1_get_enrolled(f->proxy));
	g_assert_cmpstr(aiq_dbus_agent1_get_connection_state(f->proxy), ==, "unenrolled");
	g_assert_cmpstr(aiq_dbus_agent1_get_connection_state(f->proxy),
			==,
			aiq_agent_connection_to_string(aiq_agent_get_connection(f->agent)));
	g_assert_cmpstr(aiq_dbus_agent1_get_server(f->proxy), ==, "");
	g_assert_cmpstr(aiq_dbus_agent1_get_agent_id(f->proxy), ==, "");
	g_assert_nonnull(labels);
	g_assert_cmpuint(g_strv_length((gchar **)labels), ==, 0);
	g_assert_nonnull(running);
	g_assert_cmpuint(g_strv_length((gchar **)running), ==, 0);
	g_assert_cmpuint(aiq_dbus_agent1_get_outbox_depth(f->proxy), ==, 0);
	g_assert_false(aiq_dbus_agent1_get_outbox_full(f->proxy));
	g_assert_cmpuint(aiq_dbus_agent1_get_capacity(f->proxy),
			 ==,
			 aiq_agent_get_capacity(f->agent));
	g_assert_cmpuint(aiq_dbus_agent1_get_capacity(f->proxy), >, 0);
	g_assert_nonnull(aiq_dbus_agent1_get_version(f->proxy));
	g_assert_cmpstr(aiq_dbus_agent1_get_version(f->proxy), !=, "");
	g_assert_cmpstr(aiq_dbus_agent1_get_version(f->proxy), ==, aiq_agent_get_version(f->agent));
	g_assert_nonnull(aiq_dbus_agent1_get_last_error(f->proxy));
}

static void
name_owner_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	guint *n_changes = user_data;
	(*n_changes)++;
}

/* one owner of the name per bus; stop gives it up */
static void
test_name_taken(Fixture *f, gconstpointer data)
{
	g_autoptr(AiqAgentDbus) second = aiq_agent_dbus_new(f->agent);
	g_autoptr(GDBusConnection) shared = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(f->proxy));
	guint n_owner_changes = 0;

	g_assert_nonnull(owner);
	g_assert_false(aiq_agent_dbus_start(second, G_BUS_TYPE_SESSION, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONFLICT);
	g_assert_cmpstr(error->message,
			==,
			"another agent already owns io.automateiq.Agent1 on the session bus");
	g_clear_error(&error);

	/* the same on a bus connection of the caller's */
	shared = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	g_assert_no_error(error);
	g_assert_false(aiq_agent_dbus_start_on_connection(second, shared, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONFLICT);
	g_assert_cmpstr(error->message,
			==,
			"another agent already owns io.automateiq.Agent1 on this bus");
	g_clear_error(&error);

	/* the first one still answers */
	{
		g_autofree gchar *owner_now = NULL;
		g_autofree gchar *result = NULL;
		g_autofree gchar *log = NULL;
		g_assert_true(call_test_step(
			f->proxy,
			"{\"id\":\"t\",\"uses\":\"transform\",\"with\":{\"value\":1}}",
			"",
			&result,
			&log,
			&error));
		g_assert_no_error(error);
		owner_now = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(f->proxy));
		g_assert_cmpstr(owner_now, ==, owner);
	}

	/* stopped, the name is free for another */
	g_signal_connect(f->proxy,
			 "notify::g-name-owner",
			 G_CALLBACK(name_owner_cb),
			 &n_owner_changes);
	aiq_agent_dbus_stop(f->dbus);
	WAIT_FOR(n_owner_changes == 1);
	g_assert_null(g_dbus_proxy_get_name_owner(G_DBUS_PROXY(f->proxy)));
	g_assert_true(aiq_agent_dbus_start(second, G_BUS_TYPE_SESSION, &error));
	g_assert_no_error(error);
	WAIT_FOR(n_owner_changes == 2);
	g_assert_cmpstr(aiq_dbus_agent1_get_version(f->proxy), ==, aiq_agent_get_version(f->agent));
	aiq_agent_dbus_stop(second);
	WAIT_FOR(n_owner_changes == 3);
	g_signal_handlers_disconnect_by_func(f->proxy, name_owner_cb, &n_owner_changes);
}

/* TestStep runs one step with the agent's configuration */
static void
test_test_step(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *result = NULL;
	g_autofree gchar *log = NULL;
	JsonObject *obj;
	JsonNode *output;

	g_assert_true(call_test_step(
		f->proxy,
		"{\"id\":\"t\",\"uses\":\"transform\",\"with\":{\"value\":\"${{ inputs.who }}\"}}",
		"{\"who\":\"dbus\"}",
		&result,
		&log,
		&error));
	g_assert_no_error(error);
	g_assert_nonnull(log);
	obj = parse_object(&node, result);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "succeeded");
	output = json_object_get_member(obj, "output");
	g_assert_nonnull(output);
	g_assert_true(aiq_json_is_string(output));
	g_assert_cmpstr(json_node_get_string(output), ==, "dbus");
	g_assert_cmpint(aiq_json_object_get_int(obj, "attempts", 0), ==, 1);
	g_assert_true(json_object_has_member(obj, "duration_ms"));
}

/* the core's errors reach the client as AIQ_ERROR errors */
static void
test_test_step_errors(Fixture *f, gconstpointer data)
{
	/* an unknown step kind */
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *result = NULL;
		g_autofree gchar *log = NULL;
		g_assert_false(
			call_test_step(f->proxy,
				       "{\"id\":\"x\",\"uses\":\"no-such-kind\",\"with\":{}}",
				       "",
				       &result,
				       &log,
				       &error));
		assert_remote_error(error, AIQ_ERROR_INVALID_DEFINITION, "no-such-kind");
		g_assert_null(result);
	}
	/* not JSON at all */
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *result = NULL;
		g_autofree gchar *log = NULL;
		g_assert_false(call_test_step(f->proxy, "{\"id\":", "", &result, &log, &error));
		assert_remote_error(error, AIQ_ERROR_INVALID_DOCUMENT, NULL);
	}
	/* inputs that are not an object */
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *result = NULL;
		g_autofree gchar *log = NULL;
		g_assert_false(call_test_step(
			f->proxy,
			"{\"id\":\"t\",\"uses\":\"transform\",\"with\":{\"value\":1}}",
			"[1]",
			&result,
			&log,
			&error));
		g_assert_nonnull(error);
		g_assert_true(g_dbus_error_is_remote_error(error));
		g_assert_true(error->domain == AIQ_ERROR);
	}
}

/* a shell step's log comes back line by line */
static void
test_test_step_shell(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *result = NULL;
	g_autofree gchar *log = NULL;
	g_auto(GStrv) lines = NULL;
	gboolean found = FALSE;
	JsonObject *obj;
	JsonObject *output;

	g_assert_true(call_test_step(
		f->proxy,
		"{\"id\":\"sh\",\"uses\":\"shell\",\"with\":{\"command\":[\"echo\",\"dbus-log-line\"]}}",
		"{}",
		&result,
		&log,
		&error));
	g_assert_no_error(error);
	obj = parse_object(&node, result);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "succeeded");
	output = aiq_json_object_get_object(obj, "output");
	g_assert_nonnull(output);
	g_assert_cmpstr(aiq_json_object_get_string(output, "stdout"), ==, "dbus-log-line\n");
	/* the shell connector logs the command it runs and how it ended */
	g_assert_nonnull(log);
	lines = g_strsplit(log, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (strstr(lines[i], "running echo dbus-log-line") != NULL)
			found = TRUE;
	}
	if (!found)
		g_error("the command line is not in the log:\n%s", log);
	g_assert_nonnull(strstr(log, "exited with code 0"));
}

/* a kind switched off in the configuration stays off over D-Bus */
static void
test_test_step_disabled(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *result = NULL;
	g_autofree gchar *log = NULL;

	g_assert_false(call_test_step(
		f->proxy,
		"{\"id\":\"sh\",\"uses\":\"shell\",\"with\":{\"command\":[\"true\"]}}",
		"",
		&result,
		&log,
		&error));
	assert_remote_error(error, AIQ_ERROR_INVALID_DEFINITION, "switched off");
	g_assert_null(result);
}

static gboolean
changed_has_all(Fixture *f, const gchar *const *names)
{
	for (guint i = 0; names[i] != NULL; i++) {
		if (!g_hash_table_contains(f->changed, names[i]))
			return FALSE;
	}
	return TRUE;
}

/* Enroll trades a token for a credential; the properties follow */
static void
test_enroll(Fixture *f, gconstpointer data)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *token = aiq_test_enrollment_token(ts, ts->admin_token, "{}");
	g_autofree gchar *ca_pem = test_ca_pem();
	g_autofree gchar *agent_id = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTestResponse) agents = NULL;
	const gchar *const labels[] = { "linux", "site-a", NULL };
	const gchar *const changed[] = { "Enrolled", "Server", "AgentId", "Name", "Labels", NULL };
	const gchar *const *labels_now;
	JsonArray *items;
	gboolean listed = FALSE;

	g_assert_true(call_enroll(f->proxy,
				  ts->url,
				  token,
				  "dbus-agent",
				  labels,
				  ca_pem,
				  &agent_id,
				  &error));
	g_assert_no_error(error);
	g_assert_nonnull(agent_id);
	g_assert_cmpstr(agent_id, !=, "");
	g_assert_cmpstr(agent_id, ==, aiq_agent_get_agent_id(f->agent));

	/* the change reaches the client as PropertiesChanged */
	WAIT_FOR(changed_has_all(f, changed));
	g_assert_cmpuint(f->n_properties_changed, >, 0);
	g_assert_true(aiq_dbus_agent1_get_enrolled(f->proxy));
	g_assert_cmpstr(aiq_dbus_agent1_get_agent_id(f->proxy), ==, agent_id);
	g_assert_cmpstr(aiq_dbus_agent1_get_name(f->proxy), ==, "dbus-agent");
	g_assert_cmpstr(aiq_dbus_agent1_get_server(f->proxy), ==, ts->url);
	labels_now = aiq_dbus_agent1_get_labels(f->proxy);
	g_assert_nonnull(labels_now);
	g_assert_cmpuint(g_strv_length((gchar **)labels_now), ==, 2);
	g_assert_true(g_strv_contains(labels_now, "linux"));
	g_assert_true(g_strv_contains(labels_now, "site-a"));

	/* the server knows it by that id */
	agents = aiq_test_request(ts, "GET", "/api/v1/agents", ts->admin_token, NULL, NULL, 0);
	aiq_test_assert_status(agents, 200);
	items = aiq_json_object_get_array(aiq_test_response_object(agents), "items");
	g_assert_nonnull(items);
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *item = json_array_get_object_element(items, i);
		if (g_strcmp0(aiq_json_object_get_string(item, "id"), agent_id) == 0) {
			g_assert_cmpstr(aiq_json_object_get_string(item, "name"), ==, "dbus-agent");
			listed = TRUE;
		}
	}
	g_assert_true(listed);
}

typedef struct {
	gchar *started_id;
	gchar *started_workflow;
	gchar *finished_id;
	gchar *finished_status;
} Signals;

static void
execution_started_cb(AiqDbusAgent1 *proxy,
		     const gchar *id,
		     const gchar *workflow,
		     gpointer user_data)
{
	Signals *s = user_data;
	g_free(s->started_id);
	g_free(s->started_workflow);
	s->started_id = g_strdup(id);
	s->started_workflow = g_strdup(workflow);
}

static void
execution_finished_cb(AiqDbusAgent1 *proxy,
		      const gchar *id,
		      const gchar *status,
		      gpointer user_data)
{
	Signals *s = user_data;
	g_free(s->finished_id);
	g_free(s->finished_status);
	s->finished_id = g_strdup(id);
	s->finished_status = g_strdup(status);
}

static void
signals_clear(Signals *s)
{
	g_free(s->started_id);
	g_free(s->started_workflow);
	g_free(s->finished_id);
	g_free(s->finished_status);
}

/* a running agent, enrolled over D-Bus, goes online and runs a leased
 * execution: the client sees the state and the execution's signals */
static void
test_enroll_running(Fixture *f, gconstpointer data)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *token = aiq_test_enrollment_token(ts, ts->admin_token, "{}");
	g_autofree gchar *ca_pem = test_ca_pem();
	g_autofree gchar *agent_id = NULL;
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *execution_id = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTestResponse) made = NULL;
	g_autoptr(AiqTestResponse) started = NULL;
	const gchar *const labels[] = { "dbus-site", NULL };
	Signals s = { NULL };

	g_signal_connect(f->proxy, "execution-started", G_CALLBACK(execution_started_cb), &s);
	g_signal_connect(f->proxy, "execution-finished", G_CALLBACK(execution_finished_cb), &s);
	g_assert_true(aiq_agent_start(f->agent, &error));
	g_assert_no_error(error);
	g_assert_true(call_enroll(f->proxy,
				  ts->url,
				  token,
				  "dbus-runner",
				  labels,
				  ca_pem,
				  &agent_id,
				  &error));
	g_assert_no_error(error);
	WAIT_FOR(g_strcmp0(aiq_dbus_agent1_get_connection_state(f->proxy), "online") == 0);
	g_assert_true(g_hash_table_contains(f->changed, "ConnectionState"));
	g_assert_cmpstr(aiq_dbus_agent1_get_last_error(f->proxy), ==, "");

	made = aiq_test_request_json(
		ts,
		"POST",
		"/api/v1/workflows",
		ts->editor_token,
		"{\"name\":\"dbus-wf\",\"runs_on\":{\"labels\":[\"dbus-site\"]},"
		"\"steps\":[{\"id\":\"a\",\"uses\":\"transform\",\"with\":{\"value\":1}}]}");
	aiq_test_assert_status(made, 201);
	workflow_id = g_strdup(aiq_json_object_get_string(aiq_test_response_object(made), "id"));
	path = g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
	started = aiq_test_request_json(ts, "POST", path, ts->editor_token, "{\"inputs\":{}}");
	aiq_test_assert_status(started, 201);
	execution_id =
		g_strdup(aiq_json_object_get_string(aiq_test_response_object(started), "id"));

	WAIT_FOR(s.finished_id != NULL);
	g_assert_cmpstr(s.started_id, ==, execution_id);
	g_assert_cmpstr(s.started_workflow, ==, "dbus-wf");
	g_assert_cmpstr(s.finished_id, ==, execution_id);
	g_assert_cmpstr(s.finished_status, ==, "succeeded");
	WAIT_FOR(aiq_agent_get_outbox_depth(f->agent) == 0 &&
		 aiq_dbus_agent1_get_outbox_depth(f->proxy) == 0);

	g_signal_handlers_disconnect_by_data(f->proxy, &s);
	signals_clear(&s);
	aiq_agent_stop(f->agent);
}

/* an empty name and an empty label list mean "not given": the configured ones */
static void
test_enroll_defaults(Fixture *f, gconstpointer data)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *token = aiq_test_enrollment_token(ts, ts->admin_token, "{}");
	g_autofree gchar *ca_pem = test_ca_pem();
	g_autofree gchar *agent_id = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *const *labels_now;

	g_assert_true(call_enroll(f->proxy, ts->url, token, "", NULL, ca_pem, &agent_id, &error));
	g_assert_no_error(error);
	WAIT_FOR(aiq_dbus_agent1_get_enrolled(f->proxy) &&
		 g_strcmp0(aiq_dbus_agent1_get_agent_id(f->proxy), agent_id) == 0);
	g_assert_cmpstr(aiq_dbus_agent1_get_name(f->proxy), ==, "configured-name");
	labels_now = aiq_dbus_agent1_get_labels(f->proxy);
	g_assert_nonnull(labels_now);
	g_assert_cmpuint(g_strv_length((gchar **)labels_now), ==, 2);
	g_assert_true(g_strv_contains(labels_now, "conf-a"));
	g_assert_true(g_strv_contains(labels_now, "conf-b"));
}

/* a refused enrollment says why, in the server's words, and changes nothing */
static void
test_enroll_errors(Fixture *f, gconstpointer data)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *ca_pem = test_ca_pem();

	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *agent_id = NULL;
		g_assert_false(call_enroll(f->proxy,
					   ts->url,
					   "not-a-token",
					   "dbus-agent",
					   NULL,
					   ca_pem,
					   &agent_id,
					   &error));
		assert_remote_error(error,
				    AIQ_ERROR_UNAUTHENTICATED,
				    "the enrollment token is not valid");
		g_assert_null(agent_id);
	}
	/* a CA that is not PEM */
	{
		g_autofree gchar *token = aiq_test_enrollment_token(ts, ts->admin_token, "{}");
		g_autoptr(GError) error = NULL;
		g_autofree gchar *agent_id = NULL;
		g_assert_false(call_enroll(f->proxy,
					   ts->url,
					   token,
					   "",
					   NULL,
					   "not a certificate",
					   &agent_id,
					   &error));
		g_assert_nonnull(error);
		g_assert_true(g_dbus_error_is_remote_error(error));
		g_dbus_error_strip_remote_error(error);
		g_test_message("%s: %s", aiq_error_code_to_string(error->code), error->message);
		g_assert_true(error->domain == AIQ_ERROR);
		g_assert_nonnull(strstr(error->message, "not a PEM certificate"));
	}
	/* an empty CA means the system's trust store, which does not know the test CA */
	{
		g_autofree gchar *token = aiq_test_enrollment_token(ts, ts->admin_token, "{}");
		g_autoptr(GError) error = NULL;
		g_autofree gchar *agent_id = NULL;
		g_assert_false(
			call_enroll(f->proxy, ts->url, token, "", NULL, "", &agent_id, &error));
		g_assert_nonnull(error);
		g_assert_true(g_dbus_error_is_remote_error(error));
		g_dbus_error_strip_remote_error(error);
		g_test_message("%s: %s", aiq_error_code_to_string(error->code), error->message);
		g_assert_true(error->domain == AIQ_ERROR);
	}
	g_assert_false(aiq_agent_get_enrolled(f->agent));
	g_assert_false(aiq_dbus_agent1_get_enrolled(f->proxy));
	g_assert_cmpstr(aiq_dbus_agent1_get_connection_state(f->proxy), ==, "unenrolled");
}

/* without polkit only the agent's own user may call Enroll and TestStep */
static void
test_denied(Fixture *f, gconstpointer data)
{
	guint other = getuid() + 1;
	guint allowed = 0;
	g_autofree gchar *expected =
		g_strdup_printf("user %u may not call TestStep: only the agent's own user (%u) may",
				getuid(),
				other);

	g_object_get(f->dbus, "allowed-uid", &allowed, NULL);
	g_assert_cmpuint(allowed, ==, getuid());
	g_object_set(f->dbus, "allowed-uid", other, NULL);
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *result = NULL;
		g_autofree gchar *log = NULL;
		g_assert_false(call_test_step(
			f->proxy,
			"{\"id\":\"sh\",\"uses\":\"shell\",\"with\":{\"command\":[\"true\"]}}",
			"",
			&result,
			&log,
			&error));
		assert_remote_error(error, AIQ_ERROR_PERMISSION_DENIED, NULL);
		g_assert_cmpstr(error->message, ==, expected);
	}
	/* refused before anything is sent anywhere (nothing listens on port 9) */
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *agent_id = NULL;
		g_assert_false(call_enroll(f->proxy,
					   "https://127.0.0.1:9",
					   "token",
					   "x",
					   NULL,
					   "",
					   &agent_id,
					   &error));
		assert_remote_error(error, AIQ_ERROR_PERMISSION_DENIED, "may not call Enroll");
	}
	g_assert_false(aiq_dbus_agent1_get_enrolled(f->proxy));

	/* and allowed again */
	g_object_set(f->dbus, "allowed-uid", (guint)getuid(), NULL);
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *result = NULL;
		g_autofree gchar *log = NULL;
		g_assert_true(call_test_step(
			f->proxy,
			"{\"id\":\"t\",\"uses\":\"transform\",\"with\":{\"value\":1}}",
			"",
			&result,
			&log,
			&error));
		g_assert_no_error(error);
	}
}

/* the core's signals become D-Bus signals */
static void
test_signals(Fixture *f, gconstpointer data)
{
	Signals s = { NULL };

	g_signal_connect(f->proxy, "execution-started", G_CALLBACK(execution_started_cb), &s);
	g_signal_connect(f->proxy, "execution-finished", G_CALLBACK(execution_finished_cb), &s);
	g_signal_emit_by_name(f->agent, "execution-started", "exec-1", "nightly-sync");
	g_signal_emit_by_name(f->agent, "execution-finished", "exec-1", "succeeded");
	WAIT_FOR(s.started_id != NULL && s.finished_id != NULL);
	g_assert_cmpstr(s.started_id, ==, "exec-1");
	g_assert_cmpstr(s.started_workflow, ==, "nightly-sync");
	g_assert_cmpstr(s.finished_id, ==, "exec-1");
	g_assert_cmpstr(s.finished_status, ==, "succeeded");
	g_signal_handlers_disconnect_by_data(f->proxy, &s);
	signals_clear(&s);
}

static gboolean
new_connection_cb(GDBusServer *server, GDBusConnection *connection, gpointer user_data)
{
	GDBusConnection **out = user_data;
	g_assert_null(*out);
	*out = g_object_ref(connection);
	return TRUE;
}

/* on a private peer-to-peer connection the peer's credentials decide */
static void
test_peer(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("aiq-agent-peer-XXXXXX", &error);
	g_autofree gchar *address = NULL;
	g_autofree gchar *guid = g_dbus_generate_guid();
	g_autoptr(GDBusServer) server = NULL;
	g_autoptr(GDBusConnection) server_side = NULL;
	g_autoptr(GDBusConnection) client_side = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(AiqAgentDbus) peer = aiq_agent_dbus_new(f->agent);
	g_autoptr(AiqDbusAgent1) proxy = NULL;

	g_assert_no_error(error);
	address = g_strdup_printf("unix:path=%s/bus", dir);
	server =
		g_dbus_server_new_sync(address, G_DBUS_SERVER_FLAGS_NONE, guid, NULL, NULL, &error);
	g_assert_no_error(error);
	g_signal_connect(server, "new-connection", G_CALLBACK(new_connection_cb), &server_side);
	g_dbus_server_start(server);
	g_dbus_connection_new_for_address(g_dbus_server_get_client_address(server),
					  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
					  NULL,
					  NULL,
					  result_cb,
					  &res);
	WAIT_FOR(res != NULL && server_side != NULL);
	client_side = g_dbus_connection_new_for_address_finish(res, &error);
	g_assert_no_error(error);

	g_assert_true(aiq_agent_dbus_start_on_connection(peer, server_side, &error));
	g_assert_no_error(error);
	proxy = proxy_new(client_side);
	g_assert_cmpstr(aiq_dbus_agent1_get_connection_state(proxy), ==, "unenrolled");
	{
		g_autofree gchar *result = NULL;
		g_autofree gchar *log = NULL;
		g_autoptr(JsonNode) node = NULL;
		g_assert_true(call_test_step(
			proxy,
			"{\"id\":\"t\",\"uses\":\"transform\",\"with\":{\"value\":\"${{ inputs.who }}\"}}",
			"{\"who\":\"peer\"}",
			&result,
			&log,
			&error));
		g_assert_no_error(error);
		g_assert_cmpstr(aiq_json_object_get_string(parse_object(&node, result), "output"),
				==,
				"peer");
	}
	g_object_set(peer, "allowed-uid", (guint)getuid() + 1, NULL);
	{
		g_autofree gchar *result = NULL;
		g_autofree gchar *log = NULL;
		g_assert_false(call_test_step(
			proxy,
			"{\"id\":\"t\",\"uses\":\"transform\",\"with\":{\"value\":1}}",
			"",
			&result,
			&log,
			&error));
		assert_remote_error(error, AIQ_ERROR_PERMISSION_DENIED, "may not call TestStep");
		g_clear_error(&error);
	}

	aiq_agent_dbus_stop(peer);
	g_clear_object(&proxy);
	g_dbus_connection_close_sync(client_side, NULL, NULL);
	g_dbus_server_stop(server);
	aiq_test_rm_rf(dir);
}

int
main(int argc, char **argv)
{
	g_autoptr(GTestDBus) bus = NULL;
	int rc;

	g_test_init(&argc, &argv, NULL);
	/* a client registers the error domain before it calls, so that the
	 * io.automateiq.Agent1.Error.* names become AIQ_ERROR codes */
	(void)AIQ_ERROR;

#define ADD(path, config, func) \
	g_test_add(path, Fixture, config, fixture_setup, func, fixture_teardown)
	ADD("/aiq/agent-dbus/properties", NULL, test_properties);
	ADD("/aiq/agent-dbus/name-taken", NULL, test_name_taken);
	ADD("/aiq/agent-dbus/test-step", NULL, test_test_step);
	ADD("/aiq/agent-dbus/test-step-errors", NULL, test_test_step_errors);
	ADD("/aiq/agent-dbus/test-step-shell", NULL, test_test_step_shell);
	ADD("/aiq/agent-dbus/test-step-disabled",
	    "[engine]\ndisabled-kinds=shell\n",
	    test_test_step_disabled);
	ADD("/aiq/agent-dbus/enroll", NULL, test_enroll);
	ADD("/aiq/agent-dbus/enroll-defaults",
	    "[agent]\nname=configured-name\nlabels=conf-a;conf-b\n",
	    test_enroll_defaults);
	ADD("/aiq/agent-dbus/enroll-running", NULL, test_enroll_running);
	ADD("/aiq/agent-dbus/enroll-errors", NULL, test_enroll_errors);
	ADD("/aiq/agent-dbus/denied", NULL, test_denied);
	ADD("/aiq/agent-dbus/signals", NULL, test_signals);
	ADD("/aiq/agent-dbus/peer", NULL, test_peer);
#undef ADD

	/* one private bus for all the tests: GLib 2.74 leaks GTestDBus's
	 * watcher pipe into the dbus-daemons it starts after the first, so
	 * that after a failed test the watcher would wait for ever, keeping
	 * the test's output open */
	bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(bus);
	rc = g_test_run();
	g_test_dbus_down(bus);
	return rc;
}
