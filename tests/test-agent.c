/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The agent's core (AiqAgent) in process against the real server over
 * HTTPS: enrollment and its files, leased executions run and synced with
 * the outbox pruned, cancellation and lost leases carried by heartbeats, a
 * job this agent cannot run failed with the reason (a cloud worker without
 * shell), local secrets masked on the way to the server, TestStep, the
 * plain-HTTP refusal and the disk budget. Killing, partitions and full disks
 * with real processes are the e2e suite (test-e2e.c).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include "aiq-agent-secret-store.h"
#include "aiq-agent.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-test-agent.h"
#include "aiq-test-util.h"

typedef struct {
	AiqTestServer *ts;
	gchar *state_dir;
	gchar *config_file;
	gchar *ca_pem;
	AiqAgent *agent;
} Fixture;

static void
fixture_write_config(Fixture *f, const gchar *extra)
{
	/* 8 at once, heartbeats every 200 ms, unless @extra says otherwise */
	gboolean own_heartbeat = extra != NULL && strstr(extra, "heartbeat=") != NULL;
	gboolean own_capacity = extra != NULL && strstr(extra, "capacity=") != NULL;
	g_autofree gchar *text = g_strdup_printf("[agent]\n"
						 "%s"
						 "%s"
						 "%s",
						 own_capacity ? "" : "capacity=8\n",
						 own_heartbeat ? "" : "heartbeat=200ms\n",
						 extra != NULL ? extra : "");
	g_autoptr(GError) error = NULL;
	g_assert_true(g_file_set_contents(f->config_file, text, -1, &error));
	g_assert_no_error(error);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	const gchar *server_config = data;
	AiqTestServerOptions options = { .config = server_config };
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ca = g_test_build_filename(G_TEST_DIST, "ca", "ca.pem", NULL);

	f->ts = aiq_test_server_new(&options);
	f->state_dir = g_dir_make_tmp("aiq-agent-XXXXXX", &error);
	g_assert_no_error(error);
	f->config_file = g_build_filename(f->state_dir, "agent.conf", NULL);
	fixture_write_config(f, NULL);
	g_assert_true(g_file_get_contents(ca, &f->ca_pem, NULL, &error));
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	if (f->agent != NULL)
		aiq_agent_stop(f->agent);
	g_clear_object(&f->agent);
	aiq_test_server_free(f->ts);
	aiq_test_rm_rf(f->state_dir);
	g_free(f->state_dir);
	g_free(f->config_file);
	g_free(f->ca_pem);
}

static void
async_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	*(GAsyncResult **)user_data = g_object_ref(res);
}

static GAsyncResult *
wait_result(GAsyncResult **res)
{
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (*res == NULL) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
	return *res;
}

/* runs the main context (the agent and the server share it) until @func holds */
typedef gboolean (*Condition)(Fixture *f, gpointer data);

static void
wait_until(Fixture *f, Condition func, gpointer data, const gchar *what)
{
	gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
	while (!func(f, data)) {
		if (g_get_monotonic_time() > deadline)
			g_error("timed out waiting until %s", what);
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
}

static gboolean
enroll(Fixture *f, const gchar *name, const gchar *const *labels, GError **error)
{
	g_autofree gchar *token = aiq_test_enrollment_token(f->ts, f->ts->admin_token, "{}");
	g_autoptr(GAsyncResult) res = NULL;
	if (f->agent == NULL) {
		f->agent = aiq_agent_new(f->config_file, f->state_dir, error);
		if (f->agent == NULL)
			return FALSE;
	}
	aiq_agent_enroll_async(f->agent,
			       f->ts->url,
			       token,
			       name,
			       labels,
			       f->ca_pem,
			       NULL,
			       async_cb,
			       &res);
	return aiq_agent_enroll_finish(f->agent, wait_result(&res), error);
}

static void
start_agent(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	const gchar *const labels[] = { "linux", NULL };
	g_assert_true(enroll(f, "host-1", labels, &error));
	g_assert_no_error(error);
	g_assert_true(aiq_agent_start(f->agent, &error));
	g_assert_no_error(error);
}

static gchar *
create_workflow(Fixture *f, const gchar *json)
{
	g_autoptr(AiqTestResponse) resp = aiq_test_request_json(f->ts,
								"POST",
								"/api/v1/workflows",
								f->ts->editor_token,
								json);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

static gchar *
start_execution(Fixture *f, const gchar *workflow_id, const gchar *inputs)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
	g_autofree gchar *body = g_strdup_printf("{\"inputs\":%s}", inputs != NULL ? inputs : "{}");
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(f->ts, "POST", path, f->ts->editor_token, body);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

static JsonObject *
get_execution(Fixture *f, const gchar *id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", id);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(f->ts, "GET", path, f->ts->viewer_token, NULL);
	aiq_test_assert_status(resp, 200);
	return json_object_ref(aiq_test_response_object(resp));
}

static gboolean
execution_has_status(Fixture *f, gpointer data)
{
	const gchar *const *want = data; /* id, status */
	g_autoptr(JsonObject) obj = get_execution(f, want[0]);
	return g_strcmp0(aiq_json_object_get_string(obj, "status"), want[1]) == 0;
}

static void
wait_status(Fixture *f, const gchar *id, const gchar *status)
{
	const gchar *want[] = { id, status };
	g_autofree gchar *what = g_strdup_printf("execution %s is %s", id, status);
	wait_until(f, execution_has_status, want, what);
}

static gboolean
outbox_empty(Fixture *f, gpointer data)
{
	return aiq_agent_get_outbox_depth(f->agent) == 0;
}

static gboolean
running_here(Fixture *f, gpointer data)
{
	g_auto(GStrv) running = aiq_agent_dup_running(f->agent);
	return g_strv_contains((const gchar *const *)running, data);
}

static gboolean
nothing_running(Fixture *f, gpointer data)
{
	g_auto(GStrv) running = aiq_agent_dup_running(f->agent);
	return running[0] == NULL;
}

static gint64
count_journal_rows(Fixture *f, const gchar *table)
{
	g_autofree gchar *path = g_build_filename(f->state_dir, "journal.db", NULL);
	g_autoptr(AiqJournal) journal = aiq_journal_new_read_only(path, NULL);
	g_autoptr(GPtrArray) outbox = NULL;
	gint64 n = 0;
	g_assert_nonnull(journal);
	outbox = aiq_journal_list_outbox(journal, NULL);
	g_assert_nonnull(outbox);
	if (g_strcmp0(table, "executions") == 0)
		return outbox->len;
	for (guint i = 0; i < outbox->len; i++)
		n += ((AiqJournalOutboxEntry *)g_ptr_array_index(outbox, i))->last_seq;
	return n;
}

static gboolean
journal_empty(Fixture *f, gpointer data)
{
	return count_journal_rows(f, "executions") == 0;
}

#define THREE_STEPS                                                                          \
	"{\"name\":\"three\",\"runs_on\":{\"labels\":[\"linux\"]},"                          \
	"\"inputs\":{\"who\":{\"type\":\"string\",\"default\":\"world\"}},"                  \
	"\"steps\":[{\"id\":\"a\",\"uses\":\"transform\",\"with\":{\"value\":\"hi "          \
	"${{ inputs.who }}\"}},"                                                             \
	"{\"id\":\"b\",\"uses\":\"transform\",\"needs\":[\"a\"],\"with\":{\"value\":\"${{ "  \
	"steps.a.output }}!\"}},"                                                            \
	"{\"id\":\"c\",\"uses\":\"transform\",\"needs\":[\"b\"],\"with\":{\"value\":{\"n\":" \
	"\"${{ steps.b.output }}\"}}}]}"

static void
test_enroll(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = g_build_filename(f->state_dir, "enrollment.json", NULL);
	g_autofree gchar *first_id = NULL;
	g_autofree gchar *token = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	const gchar *const labels[] = { "linux", "site-a", NULL };
	GStatBuf st;

	f->agent = aiq_agent_new(f->config_file, f->state_dir, &error);
	g_assert_no_error(error);
	g_assert_false(aiq_agent_get_enrolled(f->agent));
	g_assert_cmpint(aiq_agent_get_connection(f->agent), ==, AIQ_AGENT_CONNECTION_UNENROLLED);

	g_assert_true(enroll(f, "host-1", labels, &error));
	g_assert_no_error(error);
	g_assert_true(aiq_agent_get_enrolled(f->agent));
	g_assert_cmpstr(aiq_agent_get_name(f->agent), ==, "host-1");
	g_assert_cmpstr(aiq_agent_get_server(f->agent), ==, f->ts->url);
	g_assert_true(g_strv_equal(aiq_agent_get_labels(f->agent), labels));
	first_id = g_strdup(aiq_agent_get_agent_id(f->agent));
	/* the credential: the agent's alone */
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);

	/* a new agent object reads the enrollment back */
	g_clear_object(&f->agent);
	f->agent = aiq_agent_new(f->config_file, f->state_dir, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(aiq_agent_get_agent_id(f->agent), ==, first_id);

	/* enrolling again replaces it */
	g_assert_true(enroll(f, "host-2", NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(aiq_agent_get_name(f->agent), ==, "host-2");
	g_assert_cmpstr(aiq_agent_get_agent_id(f->agent), !=, first_id);

	/* a used token is refused with the server's reason; nothing changes */
	token = aiq_test_enrollment_token(f->ts, f->ts->admin_token, "{}");
	{
		g_autoptr(AiqTestResponse) used =
			aiq_test_agent_enroll_with(f->ts, token, "x", NULL);
		aiq_test_assert_status(used, 201);
	}
	aiq_agent_enroll_async(f->agent,
			       f->ts->url,
			       token,
			       "host-3",
			       NULL,
			       f->ca_pem,
			       NULL,
			       async_cb,
			       &res);
	g_assert_false(aiq_agent_enroll_finish(f->agent, wait_result(&res), &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED);
	g_assert_nonnull(strstr(error->message, f->ts->url));
	g_assert_cmpstr(aiq_agent_get_name(f->agent), ==, "host-2");
}

static void
test_enroll_refusals(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GAsyncResult) res2 = NULL;
	g_autofree gchar *token = aiq_test_enrollment_token(f->ts, f->ts->admin_token, "{}");

	f->agent = aiq_agent_new(f->config_file, f->state_dir, &error);
	g_assert_no_error(error);
	/* plain HTTP only to this machine: refused before any connection */
	aiq_agent_enroll_async(f->agent,
			       "http://192.0.2.1:8080",
			       token,
			       NULL,
			       NULL,
			       NULL,
			       NULL,
			       async_cb,
			       &res);
	g_assert_false(aiq_agent_enroll_finish(f->agent, wait_result(&res), &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_PERMISSION_DENIED);
	g_assert_nonnull(strstr(error->message, "plain HTTP"));
	g_clear_error(&error);

	/* without the CA, the test server's certificate is not trusted */
	aiq_agent_enroll_async(f->agent,
			       f->ts->url,
			       token,
			       NULL,
			       NULL,
			       NULL,
			       NULL,
			       async_cb,
			       &res2);
	g_assert_false(aiq_agent_enroll_finish(f->agent, wait_result(&res2), &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONNECTION);
	g_test_message("untrusted: %s", error->message);
	g_assert_false(aiq_agent_get_enrolled(f->agent));
}

static void
test_run_and_sync(Fixture *f, gconstpointer data)
{
	g_autofree gchar *workflow_id = create_workflow(f, THREE_STEPS);
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(JsonObject) obj = NULL;
	JsonArray *steps;
	const guint n = 40;

	start_agent(f);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(ids, start_execution(f, workflow_id, "{\"who\":\"agent\"}"));
	for (guint i = 0; i < n; i++)
		wait_status(f, g_ptr_array_index(ids, i), "succeeded");
	g_assert_cmpint(aiq_agent_get_connection(f->agent), ==, AIQ_AGENT_CONNECTION_ONLINE);

	/* every step's output reached the server */
	obj = get_execution(f, g_ptr_array_index(ids, 0));
	g_assert_cmpstr(aiq_json_object_get_string(obj, "agent_id"),
			==,
			aiq_agent_get_agent_id(f->agent));
	steps = aiq_json_object_get_array(obj, "steps");
	g_assert_cmpuint(json_array_get_length(steps), ==, 3);
	g_assert_cmpstr(
		aiq_json_object_get_string(json_array_get_object_element(steps, 1), "output"),
		==,
		"hi agent!");

	/* what the server acknowledged left the journal */
	wait_until(f, outbox_empty, NULL, "the outbox is empty");
	wait_until(f, journal_empty, NULL, "the synced executions left the journal");
}

static void
test_cancel_and_lost(Fixture *f, gconstpointer data)
{
	g_autofree gchar *workflow_id = create_workflow(
		f,
		"{\"name\":\"slow\",\"steps\":[{\"id\":\"wait\",\"uses\":\"delay\",\"with\":{"
		"\"duration\":\"60s\"}}]}");
	g_autofree gchar *first = NULL;
	g_autofree gchar *second = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr(JsonObject) obj = NULL;

	start_agent(f);
	first = start_execution(f, workflow_id, NULL);
	wait_until(f, running_here, first, "the execution runs on the agent");

	/* a user cancels: the next heartbeat carries it */
	path = g_strdup_printf("/api/v1/executions/%s/cancel", first);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(f->ts, "POST", path, f->ts->editor_token, NULL);
		g_assert_cmpuint(resp->status, <, 300);
	}
	wait_status(f, first, "cancelled");
	wait_until(f, nothing_running, NULL, "nothing runs");

	/* the agent is disabled while it runs one: its credential is refused,
	 * and the job goes back to the queue */
	second = start_execution(f, workflow_id, NULL);
	wait_until(f, running_here, second, "the second execution runs on the agent");
	g_free(path);
	path = g_strdup_printf("/api/v1/agents/%s/disable", aiq_agent_get_agent_id(f->agent));
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(f->ts, "POST", path, f->ts->admin_token, NULL);
		aiq_test_assert_status(resp, 200);
	}
	while (aiq_agent_get_connection(f->agent) != AIQ_AGENT_CONNECTION_REFUSED)
		g_main_context_iteration(NULL, TRUE);
	g_assert_nonnull(aiq_agent_get_last_error(f->agent));
	obj = get_execution(f, second);
	g_assert_true(json_object_get_null_member(obj, "agent_id"));
}

static void
test_lease_lost(Fixture *f, gconstpointer data)
{
	g_autofree gchar *workflow_id = create_workflow(
		f,
		"{\"name\":\"slow\",\"steps\":[{\"id\":\"wait\",\"uses\":\"delay\",\"with\":{"
		"\"duration\":\"60s\"}}]}");
	g_autofree gchar *id = NULL;
	g_autoptr(AiqTestAgent) other = NULL;
	g_autoptr(JsonArray) jobs = NULL;

	/* heartbeats every 10 s with a 2 s lease: the lease runs out while
	 * the agent still runs the execution (and, full, it does not ask for
	 * the job again) */
	fixture_write_config(f, "heartbeat=10s\ncapacity=1\n");
	start_agent(f);
	id = start_execution(f, workflow_id, NULL);
	wait_until(f, running_here, id, "the execution runs on the agent");
	other = aiq_test_agent_enroll(f->ts, f->ts->admin_token, "other", NULL);
	/* the sweeper requeues it; another agent takes it */
	{
		gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
		while (jobs == NULL || json_array_get_length(jobs) == 0) {
			g_assert_cmpint(g_get_monotonic_time(), <, deadline);
			g_clear_pointer(&jobs, json_array_unref);
			g_main_context_iteration(NULL, FALSE);
			jobs = aiq_test_agent_lease(other, 1, 0);
			g_usleep(20000);
		}
	}
	g_assert_cmpstr(
		aiq_json_object_get_string(json_array_get_object_element(jobs, 0), "execution_id"),
		==,
		id);
	/* the next heartbeat says it is lost: the agent stops it, and drops its events */
	wait_until(f, nothing_running, NULL, "the lost execution stopped");
	wait_until(f, outbox_empty, NULL, "the lost execution's events are dropped");
	{
		/* (the other agent does not heartbeat either: its lease runs out too) */
		g_autoptr(JsonObject) obj = get_execution(f, id);
		g_assert_cmpstr(aiq_json_object_get_string(obj, "agent_id"),
				!=,
				aiq_agent_get_agent_id(f->agent));
		g_assert_cmpint(aiq_json_object_get_int(obj, "lease_expiries", 0), >=, 1);
		g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "running");
	}
}

static void
test_cloud_worker_refuses_shell(Fixture *f, gconstpointer data)
{
	g_autofree gchar *workflow_id = create_workflow(
		f,
		"{\"name\":\"sh\",\"steps\":[{\"id\":\"s\",\"uses\":\"shell\",\"with\":{"
		"\"command\":[\"true\"]}}]}");
	g_autofree gchar *id = NULL;
	g_autoptr(JsonObject) obj = NULL;
	const gchar *message;

	fixture_write_config(f, "[engine]\ndisabled-kinds=shell;file;sql\n");
	start_agent(f);
	id = start_execution(f, workflow_id, NULL);
	wait_status(f, id, "failed");
	obj = get_execution(f, id);
	message = aiq_json_object_get_string(aiq_json_object_get_object(obj, "error"), "message");
	g_test_message("failed: %s", message);
	g_assert_nonnull(strstr(message, "shell"));
	wait_until(f, outbox_empty, NULL, "the outbox is empty");
}

static void
test_secrets_masked(Fixture *f, gconstpointer data)
{
	g_autoptr(AiqAgentSecretStore) store = aiq_agent_secret_store_new(f->state_dir);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *workflow_id = create_workflow(
		f,
		"{\"name\":\"secretive\",\"steps\":[{\"id\":\"s\",\"uses\":\"transform\",\"with\":{"
		"\"value\":\"token=${{ secrets.API_TOKEN }}\"}}]}");
	g_autofree gchar *id = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr(AiqTestResponse) resp = NULL;

	g_assert_true(aiq_agent_secret_store_set(store, "API_TOKEN", "s3cr3t-v4lue", &error));
	g_assert_no_error(error);
	start_agent(f);
	id = start_execution(f, workflow_id, NULL);
	wait_status(f, id, "succeeded");
	/* the server never sees the value: not in the record, not in the events */
	path = g_strdup_printf("/api/v1/executions/%s", id);
	resp = aiq_test_request_json(f->ts, "GET", path, f->ts->viewer_token, NULL);
	g_assert_null(strstr(resp->body, "s3cr3t-v4lue"));
	g_assert_nonnull(strstr(resp->body, "token=***"));

	/* `secret set` while the agent runs: the next job sees the new value */
	{
		g_autofree gchar *length_id = create_workflow(
			f,
			"{\"name\":\"length\",\"steps\":[{\"id\":\"n\",\"uses\":\"transform\","
			"\"with\":{\"value\":\"${{ string.len(secrets.API_TOKEN) }}\"}}]}");
		g_autofree gchar *second = NULL;
		g_autoptr(JsonObject) obj = NULL;
		JsonArray *steps;
		g_assert_true(aiq_agent_secret_store_set(store, "API_TOKEN", "short", &error));
		g_assert_no_error(error);
		second = start_execution(f, length_id, NULL);
		wait_status(f, second, "succeeded");
		obj = get_execution(f, second);
		steps = aiq_json_object_get_array(obj, "steps");
		g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(steps, 0),
							   "output"),
				==,
				5);
	}
}

static void
test_test_step(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GAsyncResult) res2 = NULL;
	g_autoptr(GAsyncResult) res3 = NULL;
	g_autofree gchar *result = NULL;
	g_autofree gchar *log = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonObject *obj;

	/* no enrollment needed: the designer tests steps on a fresh agent too */
	f->agent = aiq_agent_new(f->config_file, f->state_dir, &error);
	g_assert_no_error(error);
	g_assert_true(aiq_agent_start(f->agent, &error));
	g_assert_no_error(error);
	aiq_agent_test_step_async(
		f->agent,
		"{\"id\":\"t\",\"needs\":[\"x\"],\"uses\":\"transform\",\"with\":{\"value\":\"${{ "
		"inputs.who }}\"}}",
		"{\"who\":\"designer\"}",
		NULL,
		async_cb,
		&res);
	g_assert_true(
		aiq_agent_test_step_finish(f->agent, wait_result(&res), &result, &log, &error));
	g_assert_no_error(error);
	node = aiq_json_parse(result, strlen(result), 16, &error);
	g_assert_no_error(error);
	obj = json_node_get_object(node);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "status"), ==, "succeeded");
	g_assert_cmpstr(aiq_json_object_get_string(obj, "output"), ==, "designer");
	g_clear_pointer(&result, g_free);
	g_clear_pointer(&log, g_free);

	/* a step that logs */
	aiq_agent_test_step_async(
		f->agent,
		"{\"id\":\"sh\",\"uses\":\"shell\",\"with\":{\"script\":\"echo one; echo two >&2; "
		"exit 3\"}}",
		NULL,
		NULL,
		async_cb,
		&res2);
	g_assert_true(
		aiq_agent_test_step_finish(f->agent, wait_result(&res2), &result, &log, &error));
	g_assert_no_error(error);
	g_test_message("result %s, log: %s", result, log);
	g_assert_nonnull(strstr(result, "\"failed\""));

	/* an invalid step: the definition's problems, with a path */
	aiq_agent_test_step_async(f->agent,
				  "{\"id\":\"x\",\"uses\":\"nope\"}",
				  NULL,
				  NULL,
				  async_cb,
				  &res3);
	g_assert_false(
		aiq_agent_test_step_finish(f->agent, wait_result(&res3), NULL, NULL, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DEFINITION);
	g_assert_nonnull(strstr(error->message, "nope"));
	/* nothing of it went to the journal */
	g_assert_cmpuint(aiq_agent_get_outbox_depth(f->agent), ==, 0);
}

static gboolean
outbox_full(Fixture *f, gpointer data)
{
	return aiq_agent_get_outbox_full(f->agent) == GPOINTER_TO_INT(data);
}

static void
test_budget(Fixture *f, gconstpointer data)
{
	g_autofree gchar *workflow_id = create_workflow(f, THREE_STEPS);
	g_autofree gchar *queued = NULL;
	g_autoptr(JsonObject) obj = NULL;
	g_autoptr(AiqJournal) journal = NULL;
	g_autofree gchar *path = g_build_filename(f->state_dir, "journal.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) big = g_string_new(NULL);

	/* the smallest budget, filled by an unrelated big execution before start */
	fixture_write_config(f, "outbox-budget=1MiB\n");
	journal = aiq_journal_new(path, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 3000; i++)
		g_string_append(big, "0123456789abcdefghijklmnopqrstuvwxyz");
	for (gint64 seq = 1; seq <= 40; seq++) {
		g_autoptr(AiqEvent) event = aiq_event_new(seq == 1 ? AIQ_EVENT_EXECUTION_CREATED
								   : AIQ_EVENT_EXECUTION_STARTED,
							  "01a20397-79e9-7035-b86b-3177cb5cf726",
							  seq);
		JsonObject *d = json_object_new();
		json_object_set_string_member(d, "workflow", "big");
		json_object_set_string_member(d, "padding", big->str);
		event->data = aiq_json_new_object(d);
		event->time_us = g_get_real_time();
		aiq_journal_append(journal, event);
	}
	g_assert_true(aiq_journal_close(journal, &error));
	g_clear_object(&journal);

	/* not enrolled yet: nothing drains */
	f->agent = aiq_agent_new(f->config_file, f->state_dir, &error);
	g_assert_no_error(error);
	g_assert_true(aiq_agent_start(f->agent, &error));
	g_assert_no_error(error);
	wait_until(f, outbox_full, GINT_TO_POINTER(TRUE), "the outbox is full");
	g_assert_cmpuint(aiq_agent_get_outbox_depth(f->agent), ==, 40);

	/* enrolled: the server knows nothing of that execution, so the agent
	 * drops it, the budget has room again, and new work runs */
	{
		const gchar *const labels[] = { "linux", NULL };
		g_assert_true(enroll(f, "host-1", labels, &error));
		g_assert_no_error(error);
	}
	wait_until(f, outbox_full, GINT_TO_POINTER(FALSE), "the outbox has room again");
	wait_until(f, outbox_empty, NULL, "the unknown execution is dropped");
	queued = start_execution(f, workflow_id, NULL);
	wait_status(f, queued, "succeeded");
	obj = get_execution(f, queued);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "agent_id"),
			==,
			aiq_agent_get_agent_id(f->agent));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* the agent warns when the server refuses or drops it, as these tests
	 * make it do; criticals stay fatal */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	g_test_add("/aiq/agent/enroll",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_enroll,
		   fixture_teardown);
	g_test_add("/aiq/agent/enroll-refusals",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_enroll_refusals,
		   fixture_teardown);
	g_test_add("/aiq/agent/run-and-sync",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_run_and_sync,
		   fixture_teardown);
	g_test_add("/aiq/agent/cancel-and-disable",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_cancel_and_lost,
		   fixture_teardown);
	g_test_add("/aiq/agent/lease-lost",
		   Fixture,
		   "lease-ttl=2s\n",
		   fixture_setup,
		   test_lease_lost,
		   fixture_teardown);
	g_test_add("/aiq/agent/cloud-worker-refuses-shell",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_cloud_worker_refuses_shell,
		   fixture_teardown);
	g_test_add("/aiq/agent/secrets-masked",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_secrets_masked,
		   fixture_teardown);
	g_test_add("/aiq/agent/test-step",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_test_step,
		   fixture_teardown);
	g_test_add("/aiq/agent/budget",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_budget,
		   fixture_teardown);
	return g_test_run();
}
