/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Retention and archive over the real server on a fake clock: executions
 * run by a test agent, then passes of the retention job move those past
 * each tenant's hot retention into gzip JSON-lines files (read back here
 * line by line, member by member, and with gzip itself, and compared with
 * what the API answered before), out of the hot store (GET says 410
 * archived, lists no longer show them), leave running, queued and recent
 * ones alone, add to a day's file on a later pass, delete archives past the
 * cold retention and audit records past theirs; the API answers between
 * the batches of a pass over 5,000 executions; `automateiq-server retention
 * run` on a stopped server's data directory, and (SQLite, whose file the
 * running server locks) its refusal while the server runs.
 */

#include "config.h"

#include <string.h>

#include "aiq-json.h"
#include "aiq-retention.h"
#include "aiq-store-retention.h"
#include "aiq-test-agent.h"
#include "aiq-test-db.h"
#include "aiq-test-pg.h"
#include "aiq-test-server.h"
#include "aiq-test-util.h"
#include "aiq-util.h"

#define WORKFLOW_JSON                                                   \
	"{\"name\":\"%s\",\"runs_on\":{\"labels\":[\"site-a\"]},"       \
	"\"inputs\":{\"who\":{\"type\":\"string\",\"default\":\"x\"}}," \
	"\"steps\":[{\"id\":\"only\",\"uses\":\"transform\",\"with\":{\"value\":1}}]}"

#define DAY ((gint64)86400 * G_USEC_PER_SEC)
#define HOUR G_TIME_SPAN_HOUR
/* 2027-01-01T00:00:00Z, where the fake clock starts */
#define T0 ((gint64)1798761600 * G_USEC_PER_SEC)

static gchar *
create_workflow(AiqTestServer *ts, const gchar *token, const gchar *name)
{
	g_autofree gchar *json = g_strdup_printf(WORKFLOW_JSON, name);
	return aiq_test_create_workflow(ts, token, json);
}

/* an execution started through the API at @created_us on the server's clock */
static gchar *
start_at(AiqTestServer *ts, const gchar *token, const gchar *workflow_id, gint64 created_us)
{
	return aiq_test_start_at(ts,
				 token,
				 workflow_id,
				 "{\"inputs\":{\"who\":\"ann\"}}",
				 created_us);
}

static gchar *
event_at(const gchar *execution_id,
	 gint seq,
	 const gchar *type,
	 const gchar *step,
	 gint attempt,
	 const gchar *status,
	 const gchar *data,
	 gint64 us)
{
	g_autofree gchar *time = aiq_time_to_iso8601(us);
	GString *str = g_string_new(NULL);
	g_string_append_printf(
		str,
		"{\"execution_id\":\"%s\",\"seq\":%d,\"type\":\"%s\",\"time\":\"%s\"",
		execution_id,
		seq,
		type,
		time);
	if (step != NULL)
		g_string_append_printf(str, ",\"step\":\"%s\"", step);
	if (attempt > 0)
		g_string_append_printf(str, ",\"attempt\":%d", attempt);
	if (status != NULL)
		g_string_append_printf(str, ",\"status\":\"%s\"", status);
	if (data != NULL)
		g_string_append_printf(str, ",\"data\":%s", data);
	g_string_append_c(str, '}');
	return g_string_free(str, FALSE);
}

static void
send_events(AiqTestAgent *agent, const gchar *id, GPtrArray *events, gint64 acked)
{
	g_autoptr(JsonObject) reply = aiq_test_agent_send_events(agent, events, NULL, 0);
	g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(reply, "acks"), id, -1),
			==,
			acked);
}

/**
 * run_at:
 * @status: (nullable): how it finishes, an hour after it was created;
 *   %NULL to leave it running
 *
 * Starts an execution at @created_us; @agent leases it and reports it
 * started, its step run, and finished.
 */
static gchar *
run_at(AiqTestServer *ts,
       AiqTestAgent *agent,
       const gchar *token,
       const gchar *workflow_id,
       gint64 created_us,
       const gchar *status)
{
	gchar *id = start_at(ts, token, workflow_id, created_us);
	g_autofree gchar *leased = aiq_test_agent_lease_one(agent);
	g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);

	g_assert_cmpstr(leased, ==, id);
	g_ptr_array_add(events,
			event_at(id, 1, "execution.created", NULL, 0, NULL, "{}", created_us));
	g_ptr_array_add(events,
			event_at(id,
				 2,
				 "execution.started",
				 NULL,
				 0,
				 NULL,
				 NULL,
				 created_us + G_USEC_PER_SEC));
	g_ptr_array_add(events,
			event_at(id,
				 3,
				 "step.started",
				 "only",
				 0,
				 NULL,
				 NULL,
				 created_us + 2 * G_USEC_PER_SEC));
	g_ptr_array_add(events,
			event_at(id,
				 4,
				 "step.finished",
				 "only",
				 1,
				 "succeeded",
				 "{\"output_size\":12,\"output\":{\"value\":1}}",
				 created_us + 3 * G_USEC_PER_SEC));
	if (status != NULL)
		g_ptr_array_add(events,
				event_at(id,
					 5,
					 "execution.finished",
					 NULL,
					 0,
					 status,
					 g_strcmp0(status, "failed") == 0
						 ? "{\"error\":{\"code\":\"step_failed\","
						   "\"message\":\"it broke\"}}"
						 : "{\"outputs\":{\"answer\":42}}",
					 created_us + HOUR));
	send_events(agent, id, events, events->len);
	return id;
}

/* finishes an execution run_at() left running */
static void
finish_at(AiqTestAgent *agent, const gchar *id, gint64 us)
{
	g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(events,
			event_at(id,
				 5,
				 "execution.finished",
				 NULL,
				 0,
				 "succeeded",
				 "{\"outputs\":{}}",
				 us));
	send_events(agent, id, events, 5);
}

static AiqTestResponse *
get(AiqTestServer *ts, const gchar *token, const gchar *path)
{
	return aiq_test_request(ts, "GET", path, token, NULL, NULL, 0);
}

/* what the API answers for an execution, with its events under "events" as
 * an archive line holds them */
static JsonNode *
get_whole(AiqTestServer *ts, const gchar *token, const gchar *id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", id);
	g_autofree gchar *events_path = g_strdup_printf("/api/v1/executions/%s/events", id);
	g_autoptr(AiqTestResponse) resp = get(ts, token, path);
	g_autoptr(AiqTestResponse) events = get(ts, token, events_path);
	JsonObject *obj;
	aiq_test_assert_status(resp, 200);
	aiq_test_assert_status(events, 200);
	obj = aiq_test_response_object(resp);
	g_assert_false(json_object_has_member(obj, "events"));
	json_object_set_array_member(
		obj,
		"events",
		json_array_ref(
			aiq_json_object_get_array(aiq_test_response_object(events), "items")));
	return json_node_ref(resp->json);
}

static void
assert_status_of(AiqTestServer *ts, const gchar *token, const gchar *id, const gchar *status)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", id);
	g_autoptr(AiqTestResponse) resp = get(ts, token, path);
	aiq_test_assert_status(resp, 200);
	g_assert_cmpstr(aiq_json_object_get_string(aiq_test_response_object(resp), "status"),
			==,
			status);
}

/* GET of an archived execution: 410 archived, and where it went */
static void
assert_archived(AiqTestServer *ts,
		const gchar *token,
		const gchar *id,
		const gchar *tenant_id,
		const gchar *day,
		gint64 archived_us)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", id);
	g_autofree gchar *archive = g_strdup_printf("%s/%s.jsonl.gz", tenant_id, day);
	g_autofree gchar *archived = aiq_time_to_iso8601(archived_us);
	g_autoptr(AiqTestResponse) resp = get(ts, token, path);
	JsonObject *error;
	JsonArray *details;
	JsonObject *detail;

	aiq_test_assert_status(resp, 410);
	g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "archived");
	error = aiq_json_object_get_object(aiq_test_response_object(resp), "error");
	g_assert_nonnull(strstr(aiq_json_object_get_string(error, "message"), archive));
	details = aiq_json_object_get_array(error, "details");
	g_assert_nonnull(details);
	g_assert_cmpuint(json_array_get_length(details), ==, 1);
	detail = json_array_get_object_element(details, 0);
	g_assert_cmpstr(aiq_json_object_get_string(detail, "archive"), ==, archive);
	g_assert_cmpstr(aiq_json_object_get_string(detail, "day"), ==, day);
	g_assert_cmpstr(aiq_json_object_get_string(detail, "archived"), ==, archived);

	/* aiqctl says where it went, and fails */
	{
		g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
			G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
		g_autofree gchar *ca =
			g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
		g_autofree gchar *home = g_dir_make_tmp("aiq-retention-cli-XXXXXX", NULL);
		g_autoptr(GSubprocess) proc = NULL;
		g_autoptr(GError) error_local = NULL;
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		g_subprocess_launcher_setenv(launcher, "HOME", home, TRUE);
		g_subprocess_launcher_setenv(launcher, "XDG_CONFIG_HOME", home, TRUE);
		g_subprocess_launcher_setenv(launcher, "AIQ_SERVER", ts->url, TRUE);
		g_subprocess_launcher_setenv(launcher, "AIQ_TOKEN", token, TRUE);
		g_subprocess_launcher_setenv(launcher, "AIQ_CA", ca, TRUE);
		g_subprocess_launcher_unsetenv(launcher, "AIQ_TRUST_FINGERPRINT");
		proc = g_subprocess_launcher_spawn(launcher,
						   &error_local,
						   g_getenv("AIQCTL"),
						   "executions",
						   "get",
						   id,
						   NULL);
		g_assert_no_error(error_local);
		g_assert_true(
			g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error_local));
		g_assert_no_error(error_local);
		g_assert_true(g_subprocess_get_if_exited(proc));
		g_assert_cmpint(g_subprocess_get_exit_status(proc), !=, 0);
		if (strstr(err, archive) == NULL)
			g_error("aiqctl executions get %s did not say where it went: %s", id, err);
		aiq_test_rm_rf(home);
	}
}

static void
assert_not_found(AiqTestServer *ts, const gchar *token, const gchar *id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", id);
	g_autoptr(AiqTestResponse) resp = get(ts, token, path);
	aiq_test_assert_status(resp, 404);
	g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "not_found");
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* the ids of a tenant's executions, as the list shows them, sorted */
static gchar *
list_ids(AiqTestServer *ts, const gchar *token)
{
	g_autoptr(AiqTestResponse) resp = get(ts, token, "/api/v1/executions?limit=500");
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	JsonArray *items;
	aiq_test_assert_status(resp, 200);
	items = aiq_json_object_get_array(aiq_test_response_object(resp), "items");
	for (guint i = 0; i < json_array_get_length(items); i++)
		g_ptr_array_add(ids,
				(gpointer)aiq_json_object_get_string(
					json_array_get_object_element(items, i),
					"id"));
	g_ptr_array_sort(ids, compare_strings);
	g_ptr_array_add(ids, NULL);
	return g_strjoinv(",", (gchar **)ids->pdata);
}

static gchar *
sorted_ids(const gchar *first, ...)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	va_list args;
	va_start(args, first);
	for (const gchar *id = first; id != NULL; id = va_arg(args, const gchar *))
		g_ptr_array_add(ids, (gpointer)id);
	va_end(args);
	g_ptr_array_sort(ids, compare_strings);
	g_ptr_array_add(ids, NULL);
	return g_strjoinv(",", (gchar **)ids->pdata);
}

static gint64
total_executions(AiqTestServer *ts, const gchar *token)
{
	g_autoptr(AiqTestResponse) resp = get(ts, token, "/api/v1/executions?limit=1&count=true");
	aiq_test_assert_status(resp, 200);
	return aiq_json_object_get_int(aiq_test_response_object(resp), "total", -1);
}

/**
 * read_archive:
 * @n_members: (out): how many gzip members the file holds
 *
 * Decompresses every member of a gzip file, one after the other, as gzip
 * does, and checks that gzip itself reads the same.
 *
 * Returns: (transfer full): the decompressed text
 */
static gchar *
read_archive(const gchar *path, guint *n_members)
{
	g_autofree gchar *data = NULL;
	g_autofree gchar *buf = g_malloc(65536);
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree gchar *gzip = g_find_program_in_path("gzip");
	gsize len = 0;
	gsize pos = 0;

	g_assert_true(g_file_get_contents(path, &data, &len, &error));
	g_assert_no_error(error);
	*n_members = 0;
	while (pos < len) {
		g_autoptr(GZlibDecompressor) decompressor =
			g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
		GConverterResult result;
		do {
			gsize n_read = 0;
			gsize n_written = 0;
			result = g_converter_convert(G_CONVERTER(decompressor),
						     data + pos,
						     len - pos,
						     buf,
						     65536,
						     G_CONVERTER_INPUT_AT_END,
						     &n_read,
						     &n_written,
						     &error);
			g_assert_no_error(error);
			pos += n_read;
			g_string_append_len(out, buf, (gssize)n_written);
		} while (result != G_CONVERTER_FINISHED);
		(*n_members)++;
	}
	if (gzip != NULL) {
		const gchar *argv[] = { gzip, "-dc", path, NULL };
		g_autofree gchar *stdout_text = NULL;
		gint status = 0;
		g_assert_true(g_spawn_sync(NULL,
					   (gchar **)argv,
					   NULL,
					   G_SPAWN_DEFAULT,
					   NULL,
					   NULL,
					   &stdout_text,
					   NULL,
					   &status,
					   &error));
		g_assert_no_error(error);
		g_assert_true(g_spawn_check_wait_status(status, NULL));
		g_assert_cmpstr(stdout_text, ==, out->str);
	} else {
		g_test_message("no gzip here: the archive is read by GIO only");
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* the lines of an archive, each parsed */
static GPtrArray *
read_archive_lines(const gchar *path, guint *n_members)
{
	g_autofree gchar *text = read_archive(path, n_members);
	g_auto(GStrv) lines = NULL;
	GPtrArray *result = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
	guint n;

	g_assert_true(g_str_has_suffix(text, "\n"));
	lines = g_strsplit(text, "\n", -1);
	n = g_strv_length(lines);
	g_assert_cmpstr(lines[n - 1], ==, "");
	for (guint i = 0; i + 1 < n; i++) {
		g_autoptr(GError) error = NULL;
		JsonNode *node = aiq_json_parse(lines[i], strlen(lines[i]), 256, &error);
		g_assert_no_error(error);
		g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
		g_ptr_array_add(result, node);
	}
	return result;
}

static void
assert_same_json(JsonNode *got, JsonNode *expected)
{
	if (!json_node_equal(got, expected)) {
		g_autofree gchar *a = aiq_json_to_string(got, TRUE);
		g_autofree gchar *b = aiq_json_to_string(expected, TRUE);
		g_error("the archive line\n%s\nis not what the API answered\n%s", a, b);
	}
}

/* the archive holds these executions, as the API showed them, in order */
static void
assert_archive(const gchar *path, guint members, JsonNode *first, ...)
{
	guint n_members = 0;
	g_autoptr(GPtrArray) lines = read_archive_lines(path, &n_members);
	guint i = 0;
	va_list args;

	g_assert_cmpuint(n_members, ==, members);
	va_start(args, first);
	for (JsonNode *expected = first; expected != NULL; expected = va_arg(args, JsonNode *)) {
		g_assert_cmpuint(i, <, lines->len);
		assert_same_json(g_ptr_array_index(lines, i), expected);
		i++;
	}
	va_end(args);
	g_assert_cmpuint(i, ==, lines->len);
}

static gchar *
archive_path(AiqTestServer *ts, const gchar *tenant_id, const gchar *day)
{
	g_autofree gchar *name = g_strdup_printf("%s.jsonl.gz", day);
	return g_build_filename(ts->dir, "archive", tenant_id, name, NULL);
}

/* the names in a tenant's archive directory, sorted */
static gchar *
archive_names(AiqTestServer *ts, const gchar *tenant_id)
{
	g_autofree gchar *dir_path = g_build_filename(ts->dir, "archive", tenant_id, NULL);
	g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const gchar *name;
	if (dir == NULL)
		return g_strdup("");
	while ((name = g_dir_read_name(dir)) != NULL)
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, compare_strings);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(",", (gchar **)names->pdata);
}

/* read straight from the store: the audit log's records before and from
 * @cutoff_us, and the archive index rows of a tenant */
static gint64
count_rows(AiqTestServer *ts, const gchar *sql, const gchar *text, gint64 value)
{
	g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
	if (text != NULL)
		return aiq_test_db_count(db, sql, AIQ_TEST_DB_TEXT(text));
	return aiq_test_db_count(db, sql, AIQ_TEST_DB_INT(value));
}

static gint64
count_audit_before(AiqTestServer *ts, gint64 cutoff_us)
{
	return count_rows(ts, "SELECT count(*) FROM audit_log WHERE time < ?1", NULL, cutoff_us);
}

static gint64
count_audit_from(AiqTestServer *ts, gint64 cutoff_us)
{
	return count_rows(ts, "SELECT count(*) FROM audit_log WHERE time >= ?1", NULL, cutoff_us);
}

static gint64
count_archive_rows(AiqTestServer *ts, const gchar *tenant_id)
{
	return count_rows(ts,
			  "SELECT count(*) FROM execution_archive WHERE tenant_id = ?1",
			  tenant_id,
			  0);
}

/* the passes recorded in the platform's audit log, done by the system,
 * that archived executions */
static gint64
count_audit_passes(AiqTestServer *ts)
{
	g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
	g_autoptr(GPtrArray) rows =
		aiq_test_db_rows(db,
				 "SELECT details FROM audit_log WHERE action = 'retention.run' "
				 "AND actor_type = 'system' AND tenant_id = (SELECT id FROM "
				 "tenants WHERE slug = 'platform')");
	gint64 n = 0;
	for (guint i = 0; i < rows->len; i++) {
		g_autoptr(GError) error = NULL;
		const gchar *details = aiq_test_db_cell(rows, i, 0);
		g_autoptr(JsonNode) node = aiq_json_parse(details, strlen(details), 16, &error);
		g_assert_no_error(error);
		if (aiq_json_object_get_int(json_node_get_object(node), "executions_archived", 0) >
		    0)
			n++;
	}
	return n;
}

static void
set_retention_days(AiqTestServer *ts, const gchar *tenant_id, gint days)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/tenants/%s", tenant_id);
	g_autofree gchar *body = g_strdup_printf("{\"retention_days\":%d}", days);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(ts, "PATCH", path, ts->platform_token, body);
	aiq_test_assert_status(resp, 200);
	g_assert_cmpint(
		aiq_json_object_get_int(aiq_test_response_object(resp), "retention_days", -1),
		==,
		days);
}

static void
run_pass(AiqTestServer *ts, AiqRetentionReport *report)
{
	g_autoptr(GError) error = NULL;
	g_assert_true(aiq_retention_run(ts->server, report, &error));
	g_assert_no_error(error);
}

static void
test_archive(void)
{
	AiqTestServerOptions options = {
		.fake_clock = TRUE,
		.lasting = TRUE,
		/* leases outlast the jumps of the clock */
		.config = "audit-retention-days=30\narchive-retention-days=60\nlease-ttl=100d",
	};
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(AiqTestAgent) agent = NULL;
	g_autoptr(AiqTestAgent) other_agent = NULL;
	g_autofree gchar *wf = NULL;
	g_autofree gchar *other_wf = NULL;
	g_autofree gchar *old1 = NULL;
	g_autofree gchar *old2 = NULL;
	g_autofree gchar *day20 = NULL;
	g_autofree gchar *recent = NULL;
	g_autofree gchar *running = NULL;
	g_autofree gchar *queued = NULL;
	g_autofree gchar *other_old = NULL;
	g_autofree gchar *other_day20 = NULL;
	g_autoptr(JsonNode) old1_json = NULL;
	g_autoptr(JsonNode) old2_json = NULL;
	g_autoptr(JsonNode) day20_json = NULL;
	g_autoptr(JsonNode) running_json = NULL;
	g_autoptr(JsonNode) recent_json = NULL;
	g_autoptr(JsonNode) other_old_json = NULL;
	g_autoptr(JsonNode) other_day20_json = NULL;
	g_autofree gchar *acme_day0 = archive_path(ts, ts->tenant_id, "2027-01-01");
	g_autofree gchar *acme_day20 = archive_path(ts, ts->tenant_id, "2027-01-21");
	g_autofree gchar *acme_day36 = archive_path(ts, ts->tenant_id, "2027-02-06");
	g_autofree gchar *other_day0 = archive_path(ts, ts->other_tenant_id, "2027-01-01");
	g_autofree gchar *other_day20_path = archive_path(ts, ts->other_tenant_id, "2027-01-21");
	g_autofree gchar *stale = NULL;
	g_autofree gchar *ids = NULL;
	g_autofree gchar *expected = NULL;
	g_autofree gchar *names = NULL;
	AiqRetentionReport report = { 0 };
	gint64 now = T0 + 40 * DAY;
	gint64 audit_before;

	/* acme keeps 7 days hot, other the 30 it was made with */
	set_retention_days(ts, ts->tenant_id, 7);
	wf = create_workflow(ts, ts->editor_token, "kept");
	other_wf = create_workflow(ts, ts->other_admin_token, "theirs");
	agent = aiq_test_agent_enroll(ts, ts->admin_token, "a1", "[\"site-a\"]");
	other_agent = aiq_test_agent_enroll(ts, ts->other_admin_token, "o1", "[\"site-a\"]");

	/* 40 days before the pass, 20, 4; one still running, one queued */
	old1 = run_at(ts, agent, ts->editor_token, wf, T0 + HOUR, "succeeded");
	old2 = run_at(ts, agent, ts->editor_token, wf, T0 + 2 * HOUR, "failed");
	running = run_at(ts, agent, ts->editor_token, wf, T0 + 3 * HOUR, NULL);
	day20 = run_at(ts, agent, ts->editor_token, wf, T0 + 20 * DAY, "succeeded");
	recent = run_at(ts, agent, ts->editor_token, wf, T0 + 36 * DAY, "succeeded");
	other_old =
		run_at(ts, other_agent, ts->other_admin_token, other_wf, T0 + HOUR, "succeeded");
	other_day20 = run_at(ts,
			     other_agent,
			     ts->other_admin_token,
			     other_wf,
			     T0 + 20 * DAY,
			     "cancelled");
	queued = start_at(ts, ts->editor_token, wf, T0 + 4 * HOUR);

	ts->now = now;
	old1_json = get_whole(ts, ts->viewer_token, old1);
	old2_json = get_whole(ts, ts->viewer_token, old2);
	day20_json = get_whole(ts, ts->viewer_token, day20);
	other_old_json = get_whole(ts, ts->other_admin_token, other_old);
	/* the audit log has records on both sides of its 30 days */
	audit_before = count_audit_before(ts, now - 30 * DAY);
	g_assert_cmpint(audit_before, >, 0);
	g_assert_cmpint(count_audit_from(ts, now - 30 * DAY), >, 0);

	run_pass(ts, &report);
	g_assert_cmpuint(report.executions_archived, ==, 4);
	g_assert_cmpuint(report.files_written, ==, 3);
	g_assert_cmpuint(report.archives_deleted, ==, 0);
	g_assert_cmpuint(report.archive_rows_deleted, ==, 0);
	g_assert_cmpuint(report.audit_pruned, ==, (guint64)audit_before);

	/* one file per tenant per day of creation, each line an execution as
	 * GET showed it, with its events */
	names = archive_names(ts, ts->tenant_id);
	g_assert_cmpstr(names, ==, "2027-01-01.jsonl.gz,2027-01-21.jsonl.gz");
	g_clear_pointer(&names, g_free);
	names = archive_names(ts, ts->other_tenant_id);
	g_assert_cmpstr(names, ==, "2027-01-01.jsonl.gz");
	g_clear_pointer(&names, g_free);
	assert_archive(acme_day0, 1, old1_json, old2_json, NULL);
	assert_archive(acme_day20, 1, day20_json, NULL);
	assert_archive(other_day0, 1, other_old_json, NULL);
	g_assert_cmpuint(
		json_array_get_length(
			aiq_json_object_get_array(json_node_get_object(old1_json), "events")),
		==,
		5);

	/* gone from the hot store: GET says where, lists do not show them */
	assert_archived(ts, ts->viewer_token, old1, ts->tenant_id, "2027-01-01", now);
	assert_archived(ts, ts->viewer_token, old2, ts->tenant_id, "2027-01-01", now);
	assert_archived(ts, ts->viewer_token, day20, ts->tenant_id, "2027-01-21", now);
	assert_archived(ts,
			ts->other_admin_token,
			other_old,
			ts->other_tenant_id,
			"2027-01-01",
			now);
	/* not across tenants */
	assert_not_found(ts, ts->other_admin_token, old1);
	ids = list_ids(ts, ts->viewer_token);
	expected = sorted_ids(running, recent, queued, NULL);
	g_assert_cmpstr(ids, ==, expected);
	g_clear_pointer(&ids, g_free);
	g_clear_pointer(&expected, g_free);
	ids = list_ids(ts, ts->other_admin_token);
	g_assert_cmpstr(ids, ==, other_day20);
	g_clear_pointer(&ids, g_free);
	/* running, queued and recent ones as they were; other's 20 days are
	 * within its 30 */
	assert_status_of(ts, ts->viewer_token, running, "running");
	assert_status_of(ts, ts->viewer_token, queued, "queued");
	assert_status_of(ts, ts->viewer_token, recent, "succeeded");
	assert_status_of(ts, ts->other_admin_token, other_day20, "cancelled");
	g_assert_cmpint(count_audit_before(ts, now - 30 * DAY), ==, 0);
	g_assert_cmpint(count_audit_from(ts, now - 30 * DAY), >, 0);
	g_assert_cmpint(count_archive_rows(ts, ts->tenant_id), ==, 3);
	g_assert_cmpint(count_archive_rows(ts, ts->other_tenant_id), ==, 1);
	g_assert_cmpint(count_audit_passes(ts), ==, 1);

	/* the running one finishes; the next pass adds it to its day's file
	 * as a second gzip member, the lines before kept */
	finish_at(agent, running, now - HOUR);
	running_json = get_whole(ts, ts->viewer_token, running);
	run_pass(ts, &report);
	g_assert_cmpuint(report.executions_archived, ==, 1);
	g_assert_cmpuint(report.files_written, ==, 1);
	assert_archive(acme_day0, 2, old1_json, old2_json, running_json, NULL);
	assert_archived(ts, ts->viewer_token, running, ts->tenant_id, "2027-01-01", now);

	/* nothing new: nothing written */
	run_pass(ts, &report);
	g_assert_cmpuint(report.executions_archived, ==, 0);
	g_assert_cmpuint(report.files_written, ==, 0);
	g_assert_cmpuint(report.audit_pruned, ==, 0);
	g_assert_cmpint(count_audit_passes(ts), ==, 2);

	/* 61 days on, the archives of the first day are past the cold
	 * retention of 60: files and index rows go, and GET says not found;
	 * those of day 20 stay. What a dead pass left half-written goes too. */
	stale = g_build_filename(ts->dir,
				 "archive",
				 ts->tenant_id,
				 "2027-01-05.jsonl.gz.tmp",
				 NULL);
	g_assert_true(g_file_set_contents(stale, "half", -1, NULL));
	ts->now = now = T0 + 61 * DAY;
	recent_json = get_whole(ts, ts->viewer_token, recent);
	other_day20_json = get_whole(ts, ts->other_admin_token, other_day20);
	audit_before = count_audit_before(ts, now - 30 * DAY);
	g_assert_cmpint(audit_before, >, 0);
	run_pass(ts, &report);
	g_assert_cmpuint(report.executions_archived, ==, 2);
	g_assert_cmpuint(report.files_written, ==, 2);
	g_assert_cmpuint(report.archives_deleted, ==, 2);
	g_assert_cmpuint(report.archive_rows_deleted, ==, 4);
	g_assert_cmpuint(report.audit_pruned, ==, (guint64)audit_before);
	names = archive_names(ts, ts->tenant_id);
	g_assert_cmpstr(names, ==, "2027-01-21.jsonl.gz,2027-02-06.jsonl.gz");
	g_clear_pointer(&names, g_free);
	names = archive_names(ts, ts->other_tenant_id);
	g_assert_cmpstr(names, ==, "2027-01-21.jsonl.gz");
	g_assert_false(g_file_test(acme_day0, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(other_day0, G_FILE_TEST_EXISTS));
	assert_archive(acme_day20, 1, day20_json, NULL);
	assert_archive(acme_day36, 1, recent_json, NULL);
	assert_archive(other_day20_path, 1, other_day20_json, NULL);
	assert_not_found(ts, ts->viewer_token, old1);
	assert_not_found(ts, ts->viewer_token, running);
	assert_not_found(ts, ts->other_admin_token, other_old);
	assert_archived(ts, ts->viewer_token, day20, ts->tenant_id, "2027-01-21", T0 + 40 * DAY);
	assert_archived(ts, ts->viewer_token, recent, ts->tenant_id, "2027-02-06", now);
	g_assert_cmpint(count_archive_rows(ts, ts->tenant_id), ==, 2);
	g_assert_cmpint(count_archive_rows(ts, ts->other_tenant_id), ==, 1);
	g_assert_cmpint(count_audit_before(ts, now - 30 * DAY), ==, 0);
	ids = list_ids(ts, ts->viewer_token);
	expected = sorted_ids(queued, NULL);
	g_assert_cmpstr(ids, ==, expected);
}

/* a pass over many executions, interleaved with requests */

#define BIG_N 5000

typedef struct {
	AiqTestServer *ts;
	GMutex mutex;
	GCond cond;
	guint64 archived; /* as of the last batch */
	guint batches;    /* batches reported */
	guint answered;   /* batches the test thread has answered after */
	gboolean done;
	AiqRetentionReport report;
	GError *error;
} BigPass;

/* on the pass's thread: after each batch, wait until the test thread has
 * had its requests answered */
static void
big_pass_batch_cb(const AiqRetentionReport *report, gpointer user_data)
{
	BigPass *big = user_data;
	g_mutex_lock(&big->mutex);
	big->archived = report->executions_archived;
	big->batches++;
	g_cond_broadcast(&big->cond);
	while (big->answered < big->batches)
		g_cond_wait(&big->cond, &big->mutex);
	g_mutex_unlock(&big->mutex);
}

static gpointer
big_pass_thread(gpointer user_data)
{
	BigPass *big = user_data;
	gboolean ok;
	big->report.batch_func = big_pass_batch_cb;
	big->report.batch_data = big;
	ok = aiq_retention_run(big->ts->server, &big->report, &big->error);
	g_mutex_lock(&big->mutex);
	big->done = TRUE;
	g_cond_broadcast(&big->cond);
	g_mutex_unlock(&big->mutex);
	return GINT_TO_POINTER(ok);
}

/* @n finished executions over two days before T0, each with a step, three
 * events and a done job, written straight into the store */
static GPtrArray *
insert_executions(AiqTestServer *ts, const gchar *workflow_id, guint n)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
	const gchar *types[] = { "execution.created", "execution.started", "execution.finished" };

	aiq_test_db_exec(db, "BEGIN");
	for (guint i = 0; i < n; i++) {
		gchar *id = aiq_id_new();
		g_autofree gchar *job_id = aiq_id_new();
		/* half on each of the two days before T0 */
		gint64 created = T0 - 2 * DAY + (gint64)i * (2 * DAY / n);
		aiq_test_db_exec(db,
				 "INSERT INTO executions (tenant_id, id, workflow_id, "
				 "workflow_name, version, status, trigger, inputs, created, "
				 "started, finished, outputs, last_seq) VALUES (?1, ?2, ?3, "
				 "'bulk', 1, 'succeeded', 'api', '{\"who\":\"someone\"}', ?4, "
				 "?4, ?5, '{\"n\":1}', 3)",
				 AIQ_TEST_DB_TEXT(ts->tenant_id),
				 AIQ_TEST_DB_TEXT(id),
				 AIQ_TEST_DB_TEXT(workflow_id),
				 AIQ_TEST_DB_INT(created),
				 AIQ_TEST_DB_INT(created + G_USEC_PER_SEC));
		aiq_test_db_exec(db,
				 "INSERT INTO execution_steps (tenant_id, execution_id, "
				 "step_id, position, status, attempts, started, finished, "
				 "output, output_size) VALUES (?1, ?2, 'only', 0, "
				 "'succeeded', 1, ?3, ?3, '{\"value\":1}', 11)",
				 AIQ_TEST_DB_TEXT(ts->tenant_id),
				 AIQ_TEST_DB_TEXT(id),
				 AIQ_TEST_DB_INT(created));
		for (gint seq = 1; seq <= 3; seq++)
			aiq_test_db_exec(db,
					 "INSERT INTO execution_events (tenant_id, execution_id, "
					 "seq, type, time, data) VALUES (?1, ?2, ?3, ?4, ?5, '{}')",
					 AIQ_TEST_DB_TEXT(ts->tenant_id),
					 AIQ_TEST_DB_TEXT(id),
					 AIQ_TEST_DB_INT(seq),
					 AIQ_TEST_DB_TEXT(types[seq - 1]),
					 AIQ_TEST_DB_INT(created + seq));
		aiq_test_db_exec(db,
				 "INSERT INTO jobs (tenant_id, id, execution_id, labels, "
				 "tier_rank, state, enqueued) VALUES (?1, ?2, ?3, "
				 "'[\"site-a\"]', 2, 'done', ?4)",
				 AIQ_TEST_DB_TEXT(ts->tenant_id),
				 AIQ_TEST_DB_TEXT(job_id),
				 AIQ_TEST_DB_TEXT(id),
				 AIQ_TEST_DB_INT(created));
		g_ptr_array_add(ids, id);
	}
	aiq_test_db_exec(db, "COMMIT");
	return ids;
}

static void
test_big_pass(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE, .lasting = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *wf = create_workflow(ts, ts->editor_token, "bulk");
	g_autoptr(GPtrArray) ids = insert_executions(ts, wf, BIG_N);
	const gchar *newest = g_ptr_array_index(ids, BIG_N - 1);
	g_autofree gchar *newest_path = g_strdup_printf("/api/v1/executions/%s", newest);
	g_autofree gchar *day1 = archive_path(ts, ts->tenant_id, "2026-12-30");
	g_autofree gchar *day2 = archive_path(ts, ts->tenant_id, "2026-12-31");
	BigPass big = { .ts = ts };
	GThread *thread;
	guint n_members = 0;
	guint n_lines = 0;

	g_mutex_init(&big.mutex);
	g_cond_init(&big.cond);
	ts->now = T0 + 40 * DAY;
	g_assert_cmpint(total_executions(ts, ts->viewer_token), ==, BIG_N);

	/* after each batch the pass waits while the API answers: the hot
	 * store shrinks by batches, and what is not archived yet is served */
	thread = g_thread_new("big-pass", big_pass_thread, &big);
	g_mutex_lock(&big.mutex);
	for (;;) {
		guint64 archived;
		while (!big.done && big.batches == big.answered)
			g_cond_wait(&big.cond, &big.mutex);
		if (big.done && big.batches == big.answered)
			break;
		archived = big.archived;
		g_mutex_unlock(&big.mutex);
		g_assert_cmpuint(archived, >, 0);
		g_assert_cmpuint(archived % AIQ_RETENTION_BATCH, ==, 0);
		g_assert_cmpint(total_executions(ts, ts->viewer_token),
				==,
				BIG_N - (gint64)archived);
		if (archived < BIG_N) {
			g_autoptr(AiqTestResponse) resp = get(ts, ts->viewer_token, newest_path);
			aiq_test_assert_status(resp, 200);
		}
		g_mutex_lock(&big.mutex);
		big.answered++;
		g_cond_broadcast(&big.cond);
	}
	g_mutex_unlock(&big.mutex);
	g_assert_true(GPOINTER_TO_INT(g_thread_join(thread)));
	g_assert_no_error(big.error);
	g_assert_cmpuint(big.batches, ==, BIG_N / AIQ_RETENTION_BATCH);
	g_assert_cmpuint(big.report.executions_archived, ==, BIG_N);
	g_assert_cmpuint(big.report.files_written, ==, 2);
	g_assert_cmpint(total_executions(ts, ts->viewer_token), ==, 0);
	g_assert_cmpint(count_archive_rows(ts, ts->tenant_id), ==, BIG_N);
	assert_archived(ts, ts->viewer_token, newest, ts->tenant_id, "2026-12-31", ts->now);

	/* every execution in its day's file, once, in order */
	for (guint d = 0; d < 2; d++) {
		g_autoptr(GPtrArray) lines = read_archive_lines(d == 0 ? day1 : day2, &n_members);
		g_assert_cmpuint(n_members, ==, 1);
		for (guint i = 0; i < lines->len; i++) {
			JsonObject *obj = json_node_get_object(g_ptr_array_index(lines, i));
			g_assert_cmpstr(aiq_json_object_get_string(obj, "id"),
					==,
					g_ptr_array_index(ids, n_lines + i));
			g_assert_cmpuint(
				json_array_get_length(aiq_json_object_get_array(obj, "events")),
				==,
				3);
			g_assert_cmpuint(
				json_array_get_length(aiq_json_object_get_array(obj, "steps")),
				==,
				1);
		}
		n_lines += lines->len;
	}
	g_assert_cmpuint(n_lines, ==, BIG_N);
	g_mutex_clear(&big.mutex);
	g_cond_clear(&big.cond);
}

/* automateiq-server retention run */

static gint
run_cli(AiqTestServer *ts, gchar **out, gchar **err)
{
	const gchar *server = g_getenv("AIQ_SERVER");
	g_autofree gchar *conf = g_build_filename(ts->dir, "retention-cli.conf", NULL);
	const gchar *argv[] = {
		server, "retention", "run", "--data-dir", ts->dir, NULL, NULL, NULL
	};
	g_autoptr(GError) error = NULL;
	gint status = 0;

	g_assert_nonnull(server);
	/* a PostgreSQL store is not in the data directory: the command is
	 * told where it is, as the server was */
	if (aiq_test_pg_enabled()) {
		g_autofree gchar *lines = aiq_test_pg_server_config(ts->dir);
		g_autofree gchar *text = g_strdup_printf("[server]\n%s", lines);
		g_assert_true(g_file_set_contents(conf, text, -1, &error));
		g_assert_no_error(error);
		argv[5] = "-c";
		argv[6] = conf;
	}
	g_assert_true(g_spawn_sync(NULL,
				   (gchar **)argv,
				   NULL,
				   G_SPAWN_DEFAULT,
				   NULL,
				   NULL,
				   out,
				   err,
				   &status,
				   &error));
	g_assert_no_error(error);
	if (g_spawn_check_wait_status(status, &error))
		return 0;
	g_assert_error(error, G_SPAWN_EXIT_ERROR, error->code);
	return error->code;
}

/* a workflow with an execution 60 days old (past acme's 30, on the real
 * clock the command runs on) and a fresh one; the server's clock is then
 * the real one */
static void
cli_prepare(AiqTestServer *ts, gint64 old_created, gchar **old, gchar **fresh)
{
	gint64 real_now = g_get_real_time();
	g_autofree gchar *wf = create_workflow(ts, ts->editor_token, "offline");
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "a1", "[\"site-a\"]");
	*old = run_at(ts, agent, ts->editor_token, wf, old_created, "succeeded");
	*fresh = run_at(ts, agent, ts->editor_token, wf, real_now - DAY, "succeeded");
	ts->now = real_now;
}

/* SQLite only: the running server holds the store file's lock, and the
 * command is refused with a clear message (PostgreSQL's replicas share
 * their database, and nothing holds it) */
static void
test_cli_refused(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE, .lasting = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *old = NULL;
	g_autofree gchar *fresh = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *archive_dir = g_build_filename(ts->dir, "archive", NULL);

	cli_prepare(ts, g_get_real_time() - 60 * DAY, &old, &fresh);
	g_assert_cmpint(run_cli(ts, &out, &err), ==, 1);
	g_assert_nonnull(strstr(err, "in use by another process"));
	g_assert_nonnull(strstr(err, "stop the server first"));
	g_assert_false(g_file_test(archive_dir, G_FILE_TEST_EXISTS));
	/* nothing was archived */
	assert_status_of(ts, ts->viewer_token, old, "succeeded");
}

static void
test_cli(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE, .lasting = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *old = NULL;
	g_autofree gchar *fresh = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *day = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr(JsonNode) old_json = NULL;
	/* the command runs on the real clock: 60 days ago is past acme's 30 */
	gint64 old_created = g_get_real_time() - 60 * DAY;
	gint64 archived_after;

	cli_prepare(ts, old_created, &old, &fresh);
	old_json = get_whole(ts, ts->viewer_token, old);

	/* stopped: one pass, its report printed */
	aiq_server_stop(ts->server);
	archived_after = g_get_real_time();
	if (run_cli(ts, &out, &err) != 0)
		g_error("automateiq-server retention run: %s", err);
	g_assert_nonnull(strstr(out, "executions archived:    1\n"));
	g_assert_nonnull(strstr(out, "archive files written:  1\n"));
	g_assert_nonnull(strstr(out, "archives deleted:       0\n"));
	g_assert_nonnull(strstr(out, "audit records pruned:   0\n"));
	{
		g_autoptr(GDateTime) dt =
			g_date_time_new_from_unix_utc(old_created / G_USEC_PER_SEC);
		day = g_date_time_format(dt, "%Y-%m-%d");
	}
	path = archive_path(ts, ts->tenant_id, day);
	assert_archive(path, 1, old_json, NULL);

	/* served again: the archived one is gone, the fresh one is there */
	aiq_test_server_restart(ts, &options);
	ts->now = g_get_real_time();
	assert_status_of(ts, ts->viewer_token, fresh, "succeeded");
	{
		g_autofree gchar *get_path = g_strdup_printf("/api/v1/executions/%s", old);
		g_autoptr(AiqTestResponse) resp = get(ts, ts->viewer_token, get_path);
		JsonObject *detail;
		gint64 archived_us = 0;
		aiq_test_assert_status(resp, 410);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "archived");
		detail = json_array_get_object_element(
			aiq_json_object_get_array(
				aiq_json_object_get_object(aiq_test_response_object(resp), "error"),
				"details"),
			0);
		g_assert_cmpstr(aiq_json_object_get_string(detail, "day"), ==, day);
		g_assert_true(aiq_time_from_iso8601(aiq_json_object_get_string(detail, "archived"),
						    &archived_us,
						    NULL));
		g_assert_cmpint(archived_us, >=, archived_after / G_USEC_PER_SEC * G_USEC_PER_SEC);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/http/retention/archive", test_archive);
	g_test_add_func("/aiq/http/retention/big-pass", test_big_pass);
	g_test_add_func("/aiq/http/retention/cli", test_cli);
	/* the store file's lock: SQLite's own */
	if (aiq_test_db_backend() == AIQ_DB_SQLITE)
		g_test_add_func("/aiq/http/retention/cli-refused", test_cli_refused);
	return g_test_run();
}
