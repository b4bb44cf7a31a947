/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * GET /api/v1/stats over the real server: executions started through the
 * API on a fake clock and run by a test agent with event times it chooses,
 * then counted per bucket, status and workflow, with the queue's depth and
 * the durations' percentiles; tenancy, defaults, bad parameters and the
 * typed client. Run with `-m perf` for the time it takes over 100,000
 * executions.
 */

#include "config.h"

#include <string.h>

#include "aiq-client.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-test-agent.h"
#include "aiq-test-db.h"
#include "aiq-test-server.h"
#include "aiq-util.h"

#define WORKFLOW_JSON                                         \
	"{\"name\":\"%s\",\"runs_on\":{\"labels\":[\"%s\"]}," \
	"\"steps\":[{\"id\":\"only\",\"uses\":\"transform\",\"with\":{\"value\":1}}]}"

#define MINUTE G_TIME_SPAN_MINUTE
#define HOUR G_TIME_SPAN_HOUR
#define MS 1000

/* 2027-01-01T00:00:00Z, where the fake clock starts: the periods below
 * start here */
#define T0 ((gint64)1798761600 * G_USEC_PER_SEC)

static gchar *
create_workflow(AiqTestServer *ts, const gchar *token, const gchar *name, const gchar *label)
{
	g_autofree gchar *json = g_strdup_printf(WORKFLOW_JSON, name, label);
	return aiq_test_create_workflow(ts, token, json);
}

/* an execution started through the API at @created_us on the server's clock */
static gchar *
start_at(AiqTestServer *ts, const gchar *token, const gchar *workflow_id, gint64 created_us)
{
	return aiq_test_start_at(ts, token, workflow_id, NULL, created_us);
}

static gchar *
event_at(const gchar *execution_id, gint seq, const gchar *type, const gchar *status, gint64 us)
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
	if (status != NULL)
		g_string_append_printf(str, ",\"status\":\"%s\"", status);
	if (g_strcmp0(type, "execution.created") == 0)
		g_string_append(str, ",\"data\":{}");
	g_string_append_c(str, '}');
	return g_string_free(str, FALSE);
}

/**
 * run_at:
 * @started_us: when the agent says it started
 * @status: (nullable): how it finished, @duration_us after it started;
 *   %NULL to leave it running
 *
 * Starts an execution at @created_us, has @agent lease it at once and
 * send its events.
 */
static void
run_at(AiqTestServer *ts,
       AiqTestAgent *agent,
       const gchar *workflow_id,
       gint64 created_us,
       gint64 started_us,
       gint64 duration_us,
       const gchar *status)
{
	g_autofree gchar *id = start_at(ts, ts->editor_token, workflow_id, created_us);
	g_autofree gchar *leased = aiq_test_agent_lease_one(agent);
	g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(JsonObject) reply = NULL;

	g_assert_cmpstr(leased, ==, id);
	g_ptr_array_add(events, event_at(id, 1, "execution.created", NULL, created_us));
	g_ptr_array_add(events, event_at(id, 2, "execution.started", NULL, started_us));
	if (status != NULL)
		g_ptr_array_add(
			events,
			event_at(id, 3, "execution.finished", status, started_us + duration_us));
	reply = aiq_test_agent_send_events(agent, events, NULL, 0);
	g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(reply, "acks"), id, -1),
			==,
			events->len);
}

static AiqTestResponse *
get_stats(AiqTestServer *ts, const gchar *token, const gchar *query)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/stats%s", query);
	return aiq_test_request(ts, "GET", path, token, NULL, NULL, 0);
}

static JsonObject *
stats_ok(AiqTestServer *ts, const gchar *token, const gchar *query, AiqTestResponse **resp)
{
	*resp = get_stats(ts, token, query);
	aiq_test_assert_status(*resp, 200);
	return aiq_test_response_object(*resp);
}

/* ?from=…&to=…&bucket=… for [@from_us, @to_us) */
static gchar *
period_query(gint64 from_us, gint64 to_us, const gchar *bucket)
{
	g_autofree gchar *from = aiq_time_to_iso8601(from_us);
	g_autofree gchar *to = aiq_time_to_iso8601(to_us);
	return g_strdup_printf("?from=%s&to=%s&bucket=%s", from, to, bucket);
}

static void
assert_time(JsonObject *obj, const gchar *member, gint64 expected_us)
{
	gint64 us = 0;
	g_assert_true(aiq_time_from_iso8601(aiq_json_object_get_string(obj, member), &us, NULL));
	g_assert_cmpint(us, ==, expected_us);
}

/* queued, running, succeeded, failed, cancelled, timed_out */
static void
assert_counts(JsonObject *obj, const gint64 expected[6])
{
	const gchar *names[] = { "queued", "running",   "succeeded",
				 "failed", "cancelled", "timed_out" };
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if (aiq_json_object_get_int(obj, names[i], -1) != expected[i])
			g_error("%s: %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
				names[i],
				aiq_json_object_get_int(obj, names[i], -1),
				expected[i]);
	}
}

static void
assert_rate(JsonObject *obj, gdouble expected)
{
	JsonNode *node = json_object_get_member(obj, "success_rate");
	g_assert_nonnull(node);
	if (expected < 0) {
		g_assert_true(JSON_NODE_HOLDS_NULL(node));
		return;
	}
	g_assert_cmpint(json_node_get_value_type(node), ==, G_TYPE_DOUBLE);
	g_assert_cmpfloat_with_epsilon(json_node_get_double(node), expected, 1e-9);
}

static JsonObject *
find_workflow(JsonArray *workflows, const gchar *id)
{
	for (guint i = 0; i < json_array_get_length(workflows); i++) {
		JsonObject *workflow = json_array_get_object_element(workflows, i);
		if (g_strcmp0(aiq_json_object_get_string(workflow, "id"), id) == 0)
			return workflow;
	}
	return NULL;
}

static void
assert_ms(JsonObject *obj, const gchar *member, gint64 expected)
{
	JsonNode *node = json_object_get_member(obj, member);
	g_assert_nonnull(node);
	if (expected < 0)
		g_assert_true(JSON_NODE_HOLDS_NULL(node));
	else
		g_assert_cmpint(json_node_get_int(node), ==, expected);
}

/*
 * The data of test_stats, in [T0, T0 + 4 h), hourly:
 *
 * alpha: 20 executions, 10 in each of the first two hours, with durations
 *   of 100 ms to 2 s (each once, in a shuffled order): 15 succeeded, 4
 *   failed, 1 timed out. Nearest rank: p50 = the 10th = 1000 ms, p95 = the
 *   19th = 1900 ms (interpolation would give 1050 and 1905).
 * beta: 7 in the third hour, durations 5000, 100, 400, 300, 200, 1000 and
 *   500 ms, the last cancelled: p50 = the 4th of 7 = 400 ms, p95 = the 7th
 *   = 5000 ms.
 * gamma: the queue: Q1 created at 0:50, started 1:10 (2 s, succeeded); Q2
 *   created 0:30, started 2:30 (60 s, failed); C1 created at -0:30, before
 *   the period, started 1:30 (not counted but queued at 1:00); R1 created
 *   3:30, started 3:31, still running.
 * nowhere (no agent has its label): C2 created two days before, still
 *   queued; Q3 created 2:15, still queued; Q4 created 2:40, cancelled while
 *   queued at 3:20.
 *
 * Queue depth at the ends 1:00, 2:00, 3:00, 4:00: {Q1, Q2, C1, C2} = 4,
 * {Q2, C2} = 2, {Q3, Q4, C2} = 3, {Q3, C2} = 2.
 */
static const gint64 alpha_statuses_failed[] = { 3, 8, 13, 18 };
static const gint64 beta_ms[] = { 5000, 100, 400, 300, 200, 1000, 500 };

typedef struct {
	AiqTestServer *ts;
	gchar *alpha;
	gchar *beta;
	gchar *gamma;
	gchar *nowhere;
	gchar *other_wf;
} Data;

static void
data_free(Data *data)
{
	g_free(data->alpha);
	g_free(data->beta);
	g_free(data->gamma);
	g_free(data->nowhere);
	g_free(data->other_wf);
}

static const gchar *
alpha_status(guint i)
{
	for (guint j = 0; j < G_N_ELEMENTS(alpha_statuses_failed); j++)
		if (alpha_statuses_failed[j] == i)
			return "failed";
	return i == 19 ? "timed_out" : "succeeded";
}

static void
data_make(Data *data, AiqTestServer *ts)
{
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(ts, ts->admin_token, "a1", "[\"site-a\"]");
	g_autofree gchar *q4 = NULL;
	g_autoptr(AiqTestResponse) cancelled = NULL;

	data->ts = ts;
	data->alpha = create_workflow(ts, ts->editor_token, "alpha", "site-a");
	data->beta = create_workflow(ts, ts->editor_token, "beta", "site-a");
	data->gamma = create_workflow(ts, ts->editor_token, "gamma", "site-a");
	data->nowhere = create_workflow(ts, ts->editor_token, "nowhere", "nowhere");

	/* before the period */
	g_free(start_at(ts, ts->editor_token, data->nowhere, T0 - 48 * HOUR)); /* C2 */
	run_at(ts,
	       agent,
	       data->gamma,
	       T0 - 30 * MINUTE,
	       T0 + 90 * MINUTE,
	       60 * G_USEC_PER_SEC,
	       "succeeded"); /* C1 */
	/* hour 0 */
	run_at(ts, agent, data->gamma, T0 + 30 * MINUTE, T0 + 150 * MINUTE, 60000 * MS, "failed");
	run_at(ts, agent, data->gamma, T0 + 50 * MINUTE, T0 + 70 * MINUTE, 2000 * MS, "succeeded");
	/* hours 0 and 1; durations (i * 7 mod 20 + 1) * 100 ms: each of 100
	 * to 2000 once */
	for (guint i = 0; i < 20; i++) {
		gint64 created = T0 + (i / 10) * HOUR + (5 + (i % 10) * 3) * MINUTE;
		run_at(ts,
		       agent,
		       data->alpha,
		       created,
		       created + G_USEC_PER_SEC,
		       (gint64)((i * 7) % 20 + 1) * 100 * MS,
		       alpha_status(i));
	}
	/* hour 2 */
	for (guint i = 0; i < G_N_ELEMENTS(beta_ms); i++) {
		gint64 created = T0 + 2 * HOUR + (5 + i * 3) * MINUTE;
		run_at(ts,
		       agent,
		       data->beta,
		       created,
		       created + G_USEC_PER_SEC,
		       beta_ms[i] * MS,
		       i == G_N_ELEMENTS(beta_ms) - 1 ? "cancelled" : "succeeded");
	}
	g_free(start_at(ts, ts->editor_token, data->nowhere, T0 + 135 * MINUTE)); /* Q3 */
	q4 = start_at(ts, ts->editor_token, data->nowhere, T0 + 160 * MINUTE);
	/* hour 3 */
	ts->now = T0 + 200 * MINUTE;
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s/cancel", q4);
		cancelled = aiq_test_request_json(ts, "POST", path, ts->editor_token, NULL);
		aiq_test_assert_status(cancelled, 202);
	}
	/* last, so that the clock moves no further while its lease is held */
	run_at(ts, agent, data->gamma, T0 + 210 * MINUTE, T0 + 211 * MINUTE, 0, NULL); /* R1 */

	/* the other tenant's, in the same hours, with the same names: never
	 * counted for acme */
	data->other_wf = create_workflow(ts, ts->other_admin_token, "alpha", "site-a");
	for (guint i = 0; i < 5; i++)
		g_free(start_at(ts, ts->other_admin_token, data->other_wf, T0 + (10 + i) * MINUTE));
}

static void
test_stats(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE, .lasting = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(AiqTestResponse) resp = NULL;
	g_autofree gchar *query = period_query(T0, T0 + 4 * HOUR, "hour");
	Data data = { 0 };
	JsonObject *obj;
	JsonArray *buckets;
	JsonArray *workflows;
	const gint64 total_counts[6] = { 1, 1, 22, 5, 2, 1 };
	const gint64 bucket_counts[4][6] = {
		{ 0, 0, 9, 3, 0, 0 },
		{ 0, 0, 7, 2, 0, 1 },
		{ 1, 0, 6, 0, 2, 0 },
		{ 0, 1, 0, 0, 0, 0 },
	};
	const gint64 bucket_totals[] = { 12, 10, 9, 1 };
	const gint64 queue_depths[] = { 4, 2, 3, 2 };

	data_make(&data, ts);
	/* any role of the tenant reads it: a viewer here */
	obj = stats_ok(ts, ts->viewer_token, query, &resp);
	assert_time(obj, "from", T0);
	assert_time(obj, "to", T0 + 4 * HOUR);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "bucket"), ==, "hour");
	g_assert_cmpint(aiq_json_object_get_int(obj, "total", -1), ==, 32);
	assert_counts(aiq_json_object_get_object(obj, "counts"), total_counts);
	/* succeeded / finished, finished counting cancelled and timed out */
	assert_rate(obj, 22.0 / 30.0);

	buckets = aiq_json_object_get_array(obj, "buckets");
	g_assert_cmpuint(json_array_get_length(buckets), ==, 4);
	for (guint i = 0; i < 4; i++) {
		JsonObject *bucket = json_array_get_object_element(buckets, i);
		assert_time(bucket, "start", T0 + i * HOUR);
		assert_time(bucket, "end", T0 + (i + 1) * HOUR);
		assert_counts(bucket, bucket_counts[i]);
		g_assert_cmpint(aiq_json_object_get_int(bucket, "total", -1), ==, bucket_totals[i]);
		if (aiq_json_object_get_int(bucket, "queue_depth", -1) != queue_depths[i])
			g_error("bucket %u: queue_depth %" G_GINT64_FORMAT
				", expected %" G_GINT64_FORMAT,
				i,
				aiq_json_object_get_int(bucket, "queue_depth", -1),
				queue_depths[i]);
	}

	/* by count, most first */
	workflows = aiq_json_object_get_array(obj, "workflows");
	g_assert_cmpuint(json_array_get_length(workflows), ==, 4);
	{
		const gchar *order[] = { data.alpha, data.beta, data.gamma, data.nowhere };
		for (guint i = 0; i < G_N_ELEMENTS(order); i++)
			g_assert_cmpstr(aiq_json_object_get_string(
						json_array_get_object_element(workflows, i),
						"id"),
					==,
					order[i]);
	}
	{
		JsonObject *alpha = find_workflow(workflows, data.alpha);
		JsonObject *beta = find_workflow(workflows, data.beta);
		JsonObject *gamma = find_workflow(workflows, data.gamma);
		JsonObject *nowhere = find_workflow(workflows, data.nowhere);

		g_assert_cmpstr(aiq_json_object_get_string(alpha, "name"), ==, "alpha");
		g_assert_cmpint(aiq_json_object_get_int(alpha, "count", -1), ==, 20);
		g_assert_cmpint(aiq_json_object_get_int(alpha, "succeeded", -1), ==, 15);
		g_assert_cmpint(aiq_json_object_get_int(alpha, "failed", -1), ==, 4);
		assert_rate(alpha, 0.75);
		assert_ms(alpha, "p50_ms", 1000);
		assert_ms(alpha, "p95_ms", 1900);

		g_assert_cmpint(aiq_json_object_get_int(beta, "count", -1), ==, 7);
		g_assert_cmpint(aiq_json_object_get_int(beta, "succeeded", -1), ==, 6);
		g_assert_cmpint(aiq_json_object_get_int(beta, "failed", -1), ==, 0);
		assert_rate(beta, 6.0 / 7.0);
		assert_ms(beta, "p50_ms", 400);
		assert_ms(beta, "p95_ms", 5000);

		/* C1 was created before the period: not counted; R1 runs */
		g_assert_cmpint(aiq_json_object_get_int(gamma, "count", -1), ==, 3);
		g_assert_cmpint(aiq_json_object_get_int(gamma, "succeeded", -1), ==, 1);
		g_assert_cmpint(aiq_json_object_get_int(gamma, "failed", -1), ==, 1);
		assert_rate(gamma, 0.5);
		assert_ms(gamma, "p50_ms", 2000);
		assert_ms(gamma, "p95_ms", 60000);

		/* one cancelled while queued (never started: no duration), one queued */
		g_assert_cmpint(aiq_json_object_get_int(nowhere, "count", -1), ==, 2);
		assert_rate(nowhere, 0.0);
		assert_ms(nowhere, "p50_ms", -1);
		assert_ms(nowhere, "p95_ms", -1);
	}

	/* the queue now: C2 and Q3 queued, R1 running */
	g_assert_cmpint(
		aiq_json_object_get_int(aiq_json_object_get_object(obj, "queue"), "queued", -1),
		==,
		2);
	g_assert_cmpint(
		aiq_json_object_get_int(aiq_json_object_get_object(obj, "queue"), "running", -1),
		==,
		1);

	/* by day: one bucket of the whole day, the same totals */
	{
		g_autoptr(AiqTestResponse) day = NULL;
		g_autofree gchar *q = period_query(T0, T0 + 24 * HOUR, "day");
		JsonObject *d = stats_ok(ts, ts->viewer_token, q, &day);
		JsonArray *b = aiq_json_object_get_array(d, "buckets");
		g_assert_cmpuint(json_array_get_length(b), ==, 1);
		assert_counts(json_array_get_object_element(b, 0), total_counts);
		/* at the day's end: still queued, C2 and Q3 */
		g_assert_cmpint(aiq_json_object_get_int(json_array_get_object_element(b, 0),
							"queue_depth",
							-1),
				==,
				2);
	}

	/* a period that is not a whole number of buckets: the last is short */
	{
		g_autoptr(AiqTestResponse) part = NULL;
		g_autofree gchar *q =
			period_query(T0 + 30 * MINUTE, T0 + 2 * HOUR + 10 * MINUTE, "hour");
		JsonObject *p = stats_ok(ts, ts->viewer_token, q, &part);
		JsonArray *b = aiq_json_object_get_array(p, "buckets");
		JsonObject *last;
		g_assert_cmpuint(json_array_get_length(b), ==, 2);
		last = json_array_get_object_element(b, 1);
		assert_time(last, "start", T0 + 90 * MINUTE);
		assert_time(last, "end", T0 + 130 * MINUTE);
		/* [0:30, 1:30): Q2, Q1, alpha 0 to 9 (created 0:05 to 0:32:
		 * only 0:32 is in), alpha 10 to 19 (1:05 to 1:32: all but
		 * 1:32) */
		g_assert_cmpint(
			aiq_json_object_get_int(json_array_get_object_element(b, 0), "total", -1),
			==,
			2 + 1 + 9);
		/* at 1:30: Q2, C2 and C1, which started at 1:30 exactly (a
		 * bucket's depth counts what had not left the queue before its
		 * end); at 2:10, Q2 and C2 */
		g_assert_cmpint(aiq_json_object_get_int(json_array_get_object_element(b, 0),
							"queue_depth",
							-1),
				==,
				3);
		g_assert_cmpint(aiq_json_object_get_int(last, "queue_depth", -1), ==, 2);
	}

	/* nothing in the period: no rate, no workflows, and the queue depth is
	 * what waits still */
	{
		g_autoptr(AiqTestResponse) empty = NULL;
		g_autofree gchar *q = period_query(T0 + 10 * HOUR, T0 + 12 * HOUR, "hour");
		JsonObject *e = stats_ok(ts, ts->viewer_token, q, &empty);
		const gint64 zero[6] = { 0 };
		g_assert_cmpint(aiq_json_object_get_int(e, "total", -1), ==, 0);
		assert_counts(aiq_json_object_get_object(e, "counts"), zero);
		assert_rate(e, -1);
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(e, "workflows")),
				 ==,
				 0);
		g_assert_cmpint(
			aiq_json_object_get_int(json_array_get_object_element(
							aiq_json_object_get_array(e, "buckets"),
							1),
						"queue_depth",
						-1),
			==,
			2);
	}

	/* the other tenant sees its own five queued executions only */
	{
		g_autoptr(AiqTestResponse) other = NULL;
		JsonObject *o = stats_ok(ts, ts->other_admin_token, query, &other);
		const gint64 queued[6] = { 5, 0, 0, 0, 0, 0 };
		JsonArray *w = aiq_json_object_get_array(o, "workflows");
		g_autofree gchar *text = aiq_json_to_string(other->json, FALSE);
		g_assert_cmpint(aiq_json_object_get_int(o, "total", -1), ==, 5);
		assert_counts(aiq_json_object_get_object(o, "counts"), queued);
		/* nothing finished: no rate */
		assert_rate(o, -1);
		g_assert_cmpuint(json_array_get_length(w), ==, 1);
		g_assert_cmpstr(
			aiq_json_object_get_string(json_array_get_object_element(w, 0), "id"),
			==,
			data.other_wf);
		assert_rate(json_array_get_object_element(w, 0), -1);
		g_assert_cmpint(
			aiq_json_object_get_int(json_array_get_object_element(
							aiq_json_object_get_array(o, "buckets"),
							0),
						"queue_depth",
						-1),
			==,
			5);
		g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(o, "queue"),
							"queued",
							-1),
				==,
				5);
		g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(o, "queue"),
							"running",
							-1),
				==,
				0);
		/* and no id of acme's */
		g_assert_null(strstr(text, data.alpha));
		g_assert_null(strstr(text, data.gamma));
	}
	data_free(&data);
}

/* without from and to: the 24 hours (or 30 days) up to the end of the
 * current hour (or UTC day) */
static void
test_stats_defaults(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE, .lasting = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(AiqTestResponse) hourly = NULL;
	g_autoptr(AiqTestResponse) daily = NULL;
	g_autoptr(AiqTestResponse) until = NULL;
	g_autofree gchar *wf = create_workflow(ts, ts->editor_token, "now", "site-a");
	g_autofree gchar *to = NULL;
	g_autofree gchar *q = NULL;
	JsonObject *obj;
	JsonArray *buckets;

	g_free(start_at(ts, ts->editor_token, wf, T0 + 3 * HOUR + 40 * MINUTE));
	obj = stats_ok(ts, ts->viewer_token, "", &hourly);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "bucket"), ==, "hour");
	assert_time(obj, "to", T0 + 4 * HOUR);
	assert_time(obj, "from", T0 - 20 * HOUR);
	buckets = aiq_json_object_get_array(obj, "buckets");
	g_assert_cmpuint(json_array_get_length(buckets), ==, 24);
	/* the execution of now is in the last bucket, and queued at its end */
	g_assert_cmpint(
		aiq_json_object_get_int(json_array_get_object_element(buckets, 23), "queued", -1),
		==,
		1);
	g_assert_cmpint(aiq_json_object_get_int(json_array_get_object_element(buckets, 23),
						"queue_depth",
						-1),
			==,
			1);
	g_assert_cmpint(aiq_json_object_get_int(obj, "total", -1), ==, 1);

	obj = stats_ok(ts, ts->viewer_token, "?bucket=day", &daily);
	g_assert_cmpstr(aiq_json_object_get_string(obj, "bucket"), ==, "day");
	assert_time(obj, "to", T0 + 24 * HOUR);
	assert_time(obj, "from", T0 + 24 * HOUR - 30 * 24 * HOUR);
	g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(obj, "buckets")), ==, 30);

	/* with only to: the 24 hours before it */
	to = aiq_time_to_iso8601(T0 + 2 * HOUR);
	q = g_strdup_printf("?to=%s", to);
	obj = stats_ok(ts, ts->viewer_token, q, &until);
	assert_time(obj, "from", T0 - 22 * HOUR);
	g_assert_cmpint(aiq_json_object_get_int(obj, "total", -1), ==, 0);
}

static void
test_stats_bad(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *t0 = aiq_time_to_iso8601(T0);
	g_autofree gchar *t1 = aiq_time_to_iso8601(T0 + HOUR);
	g_autofree gchar *d2000h = aiq_time_to_iso8601(T0 + 2000 * HOUR);
	g_autofree gchar *d2001h = aiq_time_to_iso8601(T0 + 2001 * HOUR);
	g_autofree gchar *d366 = aiq_time_to_iso8601(T0 + 366 * 24 * HOUR);
	g_autofree gchar *d367 = aiq_time_to_iso8601(T0 + 366 * 24 * HOUR + HOUR);
	struct {
		gchar *query;
		const gchar *field;
	} bad[] = {
		{ g_strdup_printf("?from=%s&to=%s", t1, t0), "from" },
		{ g_strdup_printf("?from=%s&to=%s", t0, t0), "from" },
		{ g_strdup_printf("?from=%s&to=%s&bucket=hour", t0, d2001h), "bucket" },
		{ g_strdup_printf("?from=%s&to=%s&bucket=day", t0, d367), "from" },
		{ g_strdup("?from=yesterday"), "from" },
		{ g_strdup("?from=1798761600000"), "from" },
		{ g_strdup("?from="), "from" },
		{ g_strdup("?to=2027-13-01T00:00:00Z"), "to" },
		{ g_strdup("?to=2027-01-01T00:00:00"), "to" }, /* no time zone */
		{ g_strdup("?bucket=week"), "bucket" },
		{ g_strdup("?bucket="), "bucket" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(AiqTestResponse) resp = get_stats(ts, ts->viewer_token, bad[i].query);
		g_autofree gchar *prefix = g_strdup_printf("%s: ", bad[i].field);
		const gchar *message = aiq_json_object_get_string(
			aiq_json_object_get_object(aiq_test_response_object(resp), "error"),
			"message");
		if (resp->status != 400 || !g_str_has_prefix(message, prefix))
			g_error("%s: %u %s, expected 400 naming %s",
				bad[i].query,
				resp->status,
				resp->body,
				bad[i].field);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "invalid_argument");
		g_free(bad[i].query);
	}
	/* the limits themselves are fine: 2,000 hours, 366 days */
	for (guint i = 0; i < 2; i++) {
		g_autofree gchar *q = g_strdup_printf("?from=%s&to=%s&bucket=%s",
						      t0,
						      i == 0 ? d2000h : d366,
						      i == 0 ? "hour" : "day");
		g_autoptr(AiqTestResponse) resp = get_stats(ts, ts->viewer_token, q);
		aiq_test_assert_status(resp, 200);
		g_assert_cmpuint(json_array_get_length(
					 aiq_json_object_get_array(aiq_test_response_object(resp),
								   "buckets")),
				 ==,
				 i == 0 ? 2000 : 366);
	}
	/* a token is needed */
	{
		g_autoptr(AiqTestResponse) resp = get_stats(ts, NULL, "");
		aiq_test_assert_status(resp, 401);
	}
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

/* the typed client's calls give what the server answers */
static void
test_stats_client(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE, .lasting = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *ca = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	g_autofree gchar *wf = create_workflow(ts, ts->editor_token, "typed", "site-a");
	g_autofree gchar *query = period_query(T0, T0 + 2 * HOUR, "hour");
	g_autoptr(AiqTestResponse) raw = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqClient) client = aiq_client_new(ts->url, &error);
	g_autoptr(JsonNode) sync_node = NULL;
	g_autoptr(JsonNode) async_node = NULL;
	g_autofree gchar *raw_text = NULL;
	g_autofree gchar *sync_text = NULL;
	g_autofree gchar *async_text = NULL;
	AiqClientStatsQuery q = { .from = T0, .to = T0 + 2 * HOUR, .bucket = "hour" };
	AsyncWait wait = { g_main_loop_new(NULL, FALSE), NULL };

	g_assert_no_error(error);
	g_assert_true(aiq_client_set_ca_file(client, ca, &error));
	aiq_client_set_token(client, ts->viewer_token);
	for (guint i = 0; i < 3; i++)
		g_free(start_at(ts, ts->editor_token, wf, T0 + (20 + 40 * i) * MINUTE));

	raw = get_stats(ts, ts->viewer_token, query);
	aiq_test_assert_status(raw, 200);
	sync_node = aiq_client_get_stats_sync(client, &q, NULL, &error);
	g_assert_no_error(error);
	aiq_client_get_stats_async(client, &q, NULL, async_done_cb, &wait);
	g_main_loop_run(wait.loop);
	async_node = aiq_client_request_finish(client, wait.result, NULL, &error);
	g_assert_no_error(error);
	g_clear_object(&wait.result);
	g_main_loop_unref(wait.loop);

	raw_text = aiq_json_to_string(raw->json, FALSE);
	sync_text = aiq_json_to_string(sync_node, FALSE);
	async_text = aiq_json_to_string(async_node, FALSE);
	g_assert_cmpstr(sync_text, ==, raw_text);
	g_assert_cmpstr(async_text, ==, raw_text);
	g_assert_cmpint(aiq_json_object_get_int(json_node_get_object(sync_node), "total", -1),
			==,
			3);

	/* a bad query is an AIQ_ERROR_INVALID_ARGUMENT naming the parameter */
	{
		g_autoptr(JsonNode) node = NULL;
		AiqClientStatsQuery backwards = { .from = T0 + HOUR, .to = T0 };
		node = aiq_client_get_stats_sync(client, &backwards, NULL, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
		g_assert_true(g_str_has_prefix(error->message, "from: "));
	}
}

/* measurements, with -m perf */

/* 100,000 executions of 20 workflows over 100 days, written straight into
 * the store, then statistics of a day, a month and the whole period (each
 * also scans as long a time before it, at least a day, for the queue) */
static void
test_perf_stats(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *wf = create_workflow(ts, ts->editor_token, "many", "site-a");
	const guint n = 100000;
	const gint64 spacing = 100 * 24 * HOUR / n;
	const gint64 end = T0;
	struct {
		const gchar *name;
		gint64 span;
		const gchar *bucket;
	} periods[] = {
		{ "a day by hour", 24 * HOUR, "hour" },
		{ "30 days by day", 30 * 24 * HOUR, "day" },
		{ "the 100 days by day", 100 * 24 * HOUR, "day" },
	};

	{
		g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
		aiq_test_db_exec(db, "BEGIN");
		for (guint i = 0; i < n; i++) {
			g_autofree gchar *id = aiq_id_new();
			g_autofree gchar *workflow_id = g_strdup_printf("%s-%02u", wf, i % 20);
			/* the newest 20 queued, 50 running before them, a quarter
			 * of the rest failed */
			const gchar *status = i >= n - 20   ? "queued"
					      : i >= n - 70 ? "running"
					      : i % 4 == 3  ? "failed"
							    : "succeeded";
			gboolean queued = g_strcmp0(status, "queued") == 0;
			gboolean finished = !queued && g_strcmp0(status, "running") != 0;
			gint64 created = end - (gint64)(n - i) * spacing;
			aiq_test_db_exec(
				db,
				"INSERT INTO executions (tenant_id, id, workflow_id, "
				"workflow_name, version, status, trigger, inputs, created, "
				"started, finished) VALUES (?1, ?2, ?3, 'many', 1, ?4, "
				"'schedule', '{\"who\":\"someone\"}', ?5, ?6, ?7)",
				AIQ_TEST_DB_TEXT(ts->tenant_id),
				AIQ_TEST_DB_TEXT(id),
				AIQ_TEST_DB_TEXT(workflow_id),
				AIQ_TEST_DB_TEXT(status),
				AIQ_TEST_DB_INT(created),
				AIQ_TEST_DB_INT_IF(!queued,
						   created + (gint64)(i % 7) * G_USEC_PER_SEC),
				AIQ_TEST_DB_INT_IF(finished,
						   created + (gint64)(i % 7 + i % 97) *
								     G_USEC_PER_SEC));
		}
		aiq_test_db_exec(db, "COMMIT");
	}

	for (guint p = 0; p < G_N_ELEMENTS(periods); p++) {
		g_autofree gchar *q = period_query(end - periods[p].span, end, periods[p].bucket);
		gdouble best = G_MAXDOUBLE;
		gint64 total = 0;
		for (guint round = 0; round < 5; round++) {
			gint64 t0 = g_get_monotonic_time();
			g_autoptr(AiqTestResponse) resp = get_stats(ts, ts->viewer_token, q);
			aiq_test_assert_status(resp, 200);
			best = MIN(best, (g_get_monotonic_time() - t0) / 1000.0);
			total = aiq_json_object_get_int(aiq_test_response_object(resp),
							"total",
							-1);
		}
		g_test_message("stats of %s over %u executions: %" G_GINT64_FORMAT
			       " executions in it, best of 5: %.1f ms",
			       periods[p].name,
			       n,
			       total,
			       best);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/http/stats/buckets-workflows-queue", test_stats);
	g_test_add_func("/aiq/http/stats/defaults", test_stats_defaults);
	g_test_add_func("/aiq/http/stats/bad-parameters", test_stats_bad);
	g_test_add_func("/aiq/http/stats/client", test_stats_client);
	if (g_test_perf())
		g_test_add_func("/aiq/http/stats/perf", test_perf_stats);
	return g_test_run();
}
