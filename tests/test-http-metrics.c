/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * GET /metrics over the real server: requests (answered, not found,
 * unmatched, rate-limited) counted by route template and code with their
 * latency histograms, queue depth per tier, executions by status, agents
 * online, events ingested, store timings; labels bounded; the whole output
 * checked by `promtool check metrics` (Debian's prometheus package); who may
 * read it: loopback, and a proxied (so remote) client with and without
 * the metrics token. Run with `-m perf` for a scrape over 100,000
 * executions.
 */

#include "config.h"

#include <string.h>

#include "aiq-json.h"
#include "aiq-limits.h"
#include "aiq-metrics.h"
#include "aiq-queue.h"
#include "aiq-test-agent.h"
#include "aiq-test-db.h"
#include "aiq-test-server.h"
#include "aiq-test-util.h"
#include "aiq-util.h"

#define METRICS_TOKEN "metrics-token-for-the-tests-0123"
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define UUID_RE "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

#define WORKFLOW_JSON                                         \
	"{\"name\":\"%s\",\"runs_on\":{\"labels\":[\"%s\"]}," \
	"\"steps\":[{\"id\":\"only\",\"uses\":\"transform\",\"with\":{\"value\":1}}]}"

/* a scrape: the text, and each sample by its name and labels as written */
typedef struct {
	gchar *text;
	GHashTable *samples; /* "name{labels}" -> gdouble * */
} Scrape;

static void
scrape_free(Scrape *scrape)
{
	g_free(scrape->text);
	g_hash_table_unref(scrape->samples);
	g_free(scrape);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Scrape, scrape_free)

/* promtool, the parser and linter of the Prometheus project: a missing
 * one fails the test rather than skipping it */
static void
assert_promtool_accepts(const gchar *text)
{
	g_autofree gchar *promtool = g_find_program_in_path("promtool");
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;

	if (promtool == NULL)
		g_error("promtool is not installed: it checks the /metrics output; install "
			"Debian's prometheus package (it is in AIQ_TEST_PACKAGES, tools/deps.sh)");
	proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					G_SUBPROCESS_FLAGS_STDERR_PIPE,
				&error,
				promtool,
				"check",
				"metrics",
				NULL);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_communicate_utf8(proc, text, NULL, &out, &err, &error));
	g_assert_no_error(error);
	if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0)
		g_error("promtool check metrics refused the output:\n%s%s\n--- the output:\n%s",
			out,
			err,
			text);
}

static GHashTable *
parse_samples(const gchar *text)
{
	GHashTable *samples = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const gchar *line = lines[i];
		const gchar *space;
		gchar *end = NULL;
		gdouble *value;
		if (line[0] == '\0' || line[0] == '#')
			continue;
		space = strrchr(line, ' ');
		g_assert_nonnull(space);
		value = g_new(gdouble, 1);
		*value = g_ascii_strtod(space + 1, &end);
		g_assert_true(end != space + 1 && *end == '\0');
		g_assert_false(g_hash_table_contains(samples, line));
		g_hash_table_insert(samples, g_strndup(line, space - line), value);
	}
	return samples;
}

static SoupMessage *
metrics_message(AiqTestServer *ts, const gchar *authorization, const gchar *forwarded)
{
	g_autofree gchar *url = g_strdup_printf("%s/metrics", ts->url);
	SoupMessage *msg = soup_message_new("GET", url);
	SoupMessageHeaders *headers = soup_message_get_request_headers(msg);
	if (authorization != NULL)
		soup_message_headers_replace(headers, "Authorization", authorization);
	if (forwarded != NULL)
		soup_message_headers_replace(headers, "Forwarded", forwarded);
	return msg;
}

static guint
get_metrics_status(SoupSession *session, SoupMessage *msg, gchar **body)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = soup_session_send_and_read(session, msg, NULL, &error);
	g_assert_no_error(error);
	if (body != NULL)
		*body = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	return soup_message_get_status(msg);
}

/* a scrape from loopback, checked by promtool */
static Scrape *
scrape(AiqTestServer *ts)
{
	g_autoptr(SoupMessage) msg = metrics_message(ts, NULL, NULL);
	Scrape *result = g_new0(Scrape, 1);
	guint status = get_metrics_status(ts->session, msg, &result->text);
	if (status != 200)
		g_error("GET /metrics: HTTP %u: %s", status, result->text);
	g_assert_cmpstr(soup_message_headers_get_one(soup_message_get_response_headers(msg),
						     "Content-Type"),
			==,
			CONTENT_TYPE);
	assert_promtool_accepts(result->text);
	result->samples = parse_samples(result->text);
	return result;
}

/* a sample's value; 0 when it is not there (a series not used yet) */
static gdouble
sample(Scrape *s, const gchar *key)
{
	gdouble *value = g_hash_table_lookup(s->samples, key);
	return value != NULL ? *value : 0;
}

static gdouble
sample_present(Scrape *s, const gchar *key)
{
	gdouble *value = g_hash_table_lookup(s->samples, key);
	if (value == NULL)
		g_error("no sample %s in:\n%s", key, s->text);
	return *value;
}

/* The executions by status: SQLite keeps them as of the last commit;
 * PostgreSQL, whose other replicas write too, counts them at most every
 * 5 s (AIQ_STORE_PG_COUNTS_US in aiq-store.c). A scrape in which @key is
 * @value, or else the last one tried: at once on SQLite, within that bound
 * on PostgreSQL. */
static Scrape *
scrape_counted(AiqTestServer *ts, const gchar *key, gdouble value)
{
	gint64 deadline = g_get_monotonic_time();
	if (aiq_test_db_backend() == AIQ_DB_POSTGRES)
		deadline += 7 * G_USEC_PER_SEC;
	for (;;) {
		Scrape *s = scrape(ts);
		if (sample_present(s, key) == value || g_get_monotonic_time() >= deadline)
			return s;
		scrape_free(s);
		g_usleep(250 * 1000);
	}
}

static gchar *
requests_key(const gchar *method, const gchar *route, const gchar *code)
{
	return g_strdup_printf(
		"automateiq_http_requests_total{method=\"%s\",route=\"%s\",code=\"%s\"}",
		method,
		route,
		code);
}

static gdouble
requests(Scrape *s, const gchar *method, const gchar *route, const gchar *code)
{
	g_autofree gchar *key = requests_key(method, route, code);
	return sample(s, key);
}

static gdouble
duration_count(Scrape *s, const gchar *method, const gchar *route)
{
	g_autofree gchar *key = g_strdup_printf(
		"automateiq_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"}",
		method,
		route);
	return sample(s, key);
}

/*
 * Every histogram: buckets in increasing `le`, cumulative (never
 * decreasing), the last one +Inf and equal to _count.
 */
static void
assert_histograms_cumulative(Scrape *s, const gchar *name)
{
	g_autofree gchar *pattern =
		g_strdup_printf("^%s_bucket\\{(.*?)le=\"([^\"]+)\"\\} (\\S+)$", name);
	g_autoptr(GRegex) regex = g_regex_new(pattern, G_REGEX_MULTILINE, 0, NULL);
	g_autoptr(GMatchInfo) match = NULL;
	g_autofree gchar *series = NULL;
	gdouble last_le = -1, last_count = -1;
	guint n_series = 0;

	g_assert_nonnull(regex);
	g_regex_match(regex, s->text, 0, &match);
	while (g_match_info_matches(match)) {
		g_autofree gchar *labels = g_match_info_fetch(match, 1);
		g_autofree gchar *le = g_match_info_fetch(match, 2);
		g_autofree gchar *count_str = g_match_info_fetch(match, 3);
		gdouble count = g_ascii_strtod(count_str, NULL);
		gdouble le_value =
			g_strcmp0(le, "+Inf") == 0 ? G_MAXDOUBLE : g_ascii_strtod(le, NULL);

		if (series == NULL || g_strcmp0(labels, series) != 0) {
			if (series != NULL)
				g_assert_cmpfloat(last_le, ==, G_MAXDOUBLE);
			g_free(series);
			series = g_strdup(labels);
			last_le = -1;
			last_count = -1;
			n_series++;
		}
		g_assert_cmpfloat(le_value, >, last_le);
		g_assert_cmpfloat(count, >=, last_count);
		last_le = le_value;
		last_count = count;
		if (le_value == G_MAXDOUBLE) {
			/* the labels end with a comma before le, or are empty */
			g_autofree gchar *bare = g_strndup(labels, MAX(strlen(labels), 1) - 1);
			g_autofree gchar *key =
				strlen(labels) > 0 ? g_strdup_printf("%s_count{%s}", name, bare)
						   : g_strdup_printf("%s_count", name);
			g_assert_cmpfloat(sample_present(s, key), ==, count);
		}
		g_match_info_next(match, NULL);
	}
	g_assert_cmpuint(n_series, >, 0);
	g_assert_cmpfloat(last_le, ==, G_MAXDOUBLE);
}

/* no label value is an id, and every route label is a template the
 * server serves, or "unmatched" */
static void
assert_labels_bounded(AiqTestServer *ts, Scrape *s)
{
	g_autoptr(GRegex) labels = g_regex_new("(\\w+)=\"([^\"]*)\"", 0, 0, NULL);
	g_autoptr(GRegex) uuid = g_regex_new(UUID_RE, 0, 0, NULL);
	g_autoptr(GPtrArray) routes = aiq_server_list_routes(ts->server);
	g_autoptr(GHashTable) templates = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter iter;
	gpointer key;

	for (guint i = 0; i < routes->len; i++)
		g_hash_table_add(templates, (gpointer)((AiqRoute *)routes->pdata[i])->path);
	g_hash_table_add(templates, "unmatched");
	g_hash_table_iter_init(&iter, s->samples);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		g_autoptr(GMatchInfo) match = NULL;
		g_regex_match(labels, key, 0, &match);
		while (g_match_info_matches(match)) {
			g_autofree gchar *name = g_match_info_fetch(match, 1);
			g_autofree gchar *value = g_match_info_fetch(match, 2);
			if (g_regex_match(uuid, value, 0, NULL))
				g_error("an id in a label: %s", (const gchar *)key);
			if (g_strcmp0(name, "route") == 0 &&
			    !g_hash_table_contains(templates, value))
				g_error("a route label that is no template: %s",
					(const gchar *)key);
			if (g_strcmp0(name, "method") == 0)
				g_assert_true(g_strv_contains((const gchar *const[]){ "GET",
										      "HEAD",
										      "POST",
										      "PUT",
										      "PATCH",
										      "DELETE",
										      "OPTIONS",
										      "other",
										      NULL },
							      value));
			g_match_info_next(match, NULL);
		}
	}
}

static gchar *
create_workflow(AiqTestServer *ts, const gchar *token, const gchar *name, const gchar *label)
{
	g_autofree gchar *json = g_strdup_printf(WORKFLOW_JSON, name, label);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(ts, "POST", "/api/v1/workflows", token, json);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

static void
start_executions(AiqTestServer *ts, const gchar *token, const gchar *workflow_id, guint n)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
	for (guint i = 0; i < n; i++) {
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts, "POST", path, token, NULL);
		aiq_test_assert_status(resp, 201);
	}
}

static void
get_n(AiqTestServer *ts, const gchar *method, const gchar *path, guint n, guint status)
{
	for (guint i = 0; i < n; i++) {
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_lenient(ts, method, path, ts->viewer_token, NULL, NULL, 0);
		g_assert_cmpuint(resp->status, ==, status);
	}
}

/* requests by route and code, their latency, the bounds of the labels */
static void
test_metrics_requests(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *missing = aiq_id_new();
	g_autofree gchar *missing_path = g_strdup_printf("/api/v1/workflows/%s", missing);
	g_autoptr(Scrape) before = NULL;
	g_autoptr(Scrape) after = NULL;

	before = scrape(ts);
	get_n(ts, "GET", "/api/v1/workflows", 3, 200);
	get_n(ts, "GET", missing_path, 2, 404);
	get_n(ts, "GET", "/no/such/path", 2, 404);
	get_n(ts, "BREW", "/no/such/pot", 1, 404);
	/* a method the route does not take: 405, counted as unmatched */
	get_n(ts, "PUT", "/api/v1/workflows", 1, 405);
	after = scrape(ts);

	g_assert_cmpfloat(requests(after, "GET", "/api/v1/workflows", "200") -
				  requests(before, "GET", "/api/v1/workflows", "200"),
			  ==,
			  3);
	g_assert_cmpfloat(requests(after, "GET", "/api/v1/workflows/{id}", "404") -
				  requests(before, "GET", "/api/v1/workflows/{id}", "404"),
			  ==,
			  2);
	g_assert_cmpfloat(requests(after, "GET", "unmatched", "404") -
				  requests(before, "GET", "unmatched", "404"),
			  ==,
			  2);
	g_assert_cmpfloat(requests(after, "other", "unmatched", "404"), ==, 1);
	g_assert_cmpfloat(requests(after, "PUT", "unmatched", "405"), ==, 1);
	/* the first scrape, counted once it was answered */
	g_assert_cmpfloat(requests(after, "GET", "/metrics", "200") -
				  requests(before, "GET", "/metrics", "200"),
			  ==,
			  1);
	/* nothing else was asked of the workflows route */
	g_assert_cmpfloat(duration_count(after, "GET", "/api/v1/workflows") -
				  duration_count(before, "GET", "/api/v1/workflows"),
			  ==,
			  3);
	g_assert_cmpfloat(duration_count(after, "GET", "/api/v1/workflows/{id}"), ==, 2);
	g_assert_cmpfloat(duration_count(after, "GET", "unmatched"), ==, 2);
	assert_histograms_cumulative(after, "automateiq_http_request_duration_seconds");
	/* the requests came back within the largest bucket (10 s) */
	g_assert_cmpfloat(
		sample_present(after,
			       "automateiq_http_request_duration_seconds_bucket{method=\"GET\","
			       "route=\"/api/v1/workflows\",le=\"10\"}"),
		==,
		duration_count(after, "GET", "/api/v1/workflows"));
	g_assert_nonnull(strstr(after->text,
				"automateiq_http_request_duration_seconds_bucket{method=\"GET\","
				"route=\"/api/v1/workflows\",le=\"0.001\"}"));
	/* this scrape is in flight while it is rendered */
	g_assert_cmpfloat(sample_present(after, "automateiq_http_requests_in_flight"), >=, 1);
	g_assert_cmpfloat(
		sample_present(after, "automateiq_build_info{version=\"" PACKAGE_VERSION "\"}"),
		==,
		1);
	g_assert_null(strstr(after->text, missing));
	assert_labels_bounded(ts, after);

	/* every family has its HELP and TYPE */
	g_assert_nonnull(strstr(after->text, "# HELP automateiq_http_requests_total "));
	g_assert_nonnull(strstr(after->text, "# TYPE automateiq_http_requests_total counter\n"));
	g_assert_nonnull(
		strstr(after->text, "# TYPE automateiq_http_request_duration_seconds histogram\n"));
}

/* the queue per tier, executions by status, agents, events, the store */
static void
test_metrics_queue_executions(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *premium_token = NULL;
	g_autofree gchar *premium_id =
		aiq_test_server_add_tenant(ts, "bigco", "premium", &premium_token);
	g_autofree gchar *wf = create_workflow(ts, ts->editor_token, "queued", "site-a");
	g_autofree gchar *wf_premium = create_workflow(ts, premium_token, "queued", "site-b");
	g_autoptr(AiqTestAgent) agent = NULL;
	g_autoptr(JsonObject) hb = NULL;
	g_autofree gchar *leased = NULL;
	g_autoptr(Scrape) empty = NULL;
	g_autoptr(Scrape) queued = NULL;
	g_autoptr(Scrape) ran = NULL;
	g_autoptr(GError) error = NULL;

	empty = scrape(ts);
	for (guint t = 0; t < AIQ_TIER_LAST; t++) {
		g_autofree gchar *key = g_strdup_printf("automateiq_queue_depth{tier=\"%s\"}",
							aiq_tier_to_string((AiqTier)t));
		g_assert_cmpfloat(sample_present(empty, key), ==, 0);
	}
	g_assert_cmpfloat(sample_present(empty, "automateiq_executions{status=\"queued\"}"), ==, 0);
	g_assert_cmpfloat(sample_present(empty, "automateiq_agents_online"), ==, 0);
	g_assert_cmpfloat(sample_present(empty, "automateiq_lease_expiries_total"), ==, 0);

	start_executions(ts, ts->editor_token, wf, 3);
	start_executions(ts, premium_token, wf_premium, 2);
	queued = scrape_counted(ts, "automateiq_executions{status=\"queued\"}", 5);
	g_assert_cmpfloat(sample_present(queued, "automateiq_queue_depth{tier=\"standard\"}"),
			  ==,
			  3);
	g_assert_cmpfloat(sample_present(queued, "automateiq_queue_depth{tier=\"premium\"}"),
			  ==,
			  2);
	g_assert_cmpfloat(sample_present(queued, "automateiq_queue_depth{tier=\"free\"}"), ==, 0);
	g_assert_cmpfloat(sample_present(queued, "automateiq_queue_depth{tier=\"enterprise\"}"),
			  ==,
			  0);
	g_assert_cmpfloat(sample_present(queued, "automateiq_executions{status=\"queued\"}"),
			  ==,
			  5);
	g_assert_cmpfloat(sample_present(queued, "automateiq_executions{status=\"succeeded\"}"),
			  ==,
			  0);
	g_assert_cmpfloat(sample_present(queued, "automateiq_queue_leased_jobs"), ==, 0);

	/* an agent of acme syncs: online, one job leased, run, its events in */
	agent = aiq_test_agent_enroll(ts, ts->admin_token, "worker", "[\"site-a\"]");
	hb = aiq_test_agent_heartbeat(agent, "");
	leased = aiq_test_agent_lease_one(agent);
	g_assert_nonnull(leased);
	ran = scrape(ts);
	g_assert_cmpfloat(sample_present(ran, "automateiq_agents_online"), ==, 1);
	g_assert_cmpfloat(sample_present(ran, "automateiq_queue_depth{tier=\"standard\"}"), ==, 2);
	g_assert_cmpfloat(sample_present(ran, "automateiq_queue_leased_jobs"), ==, 1);
	g_clear_pointer(&ran, scrape_free);

	aiq_test_agent_finish(agent, leased, "{}");
	ran = scrape_counted(ts, "automateiq_executions{status=\"succeeded\"}", 1);
	g_assert_cmpfloat(sample_present(ran, "automateiq_executions{status=\"queued\"}"), ==, 4);
	g_assert_cmpfloat(sample_present(ran, "automateiq_executions{status=\"succeeded\"}"),
			  ==,
			  1);
	g_assert_cmpfloat(sample_present(ran, "automateiq_executions{status=\"running\"}"), ==, 0);
	g_assert_cmpfloat(sample_present(ran, "automateiq_queue_leased_jobs"), ==, 0);
	/* created, started, finished */
	g_assert_cmpfloat(sample_present(ran, "automateiq_events_ingested_total") -
				  sample_present(queued, "automateiq_events_ingested_total"),
			  ==,
			  3);

	/* the store: every write waited and was committed in a group */
	g_assert_true(aiq_store_sync(aiq_server_get_store(ts->server), &error));
	g_assert_no_error(error);
	g_clear_pointer(&ran, scrape_free);
	ran = scrape(ts);
	g_assert_cmpfloat(sample_present(ran, "automateiq_store_commits_total"),
			  >,
			  sample_present(empty, "automateiq_store_commits_total"));
	g_assert_cmpfloat(sample_present(ran, "automateiq_store_writes_total"),
			  >,
			  sample_present(empty, "automateiq_store_writes_total"));
	/* the histograms are read before the totals, and move with them */
	g_assert_cmpfloat(sample_present(ran, "automateiq_store_commit_duration_seconds_count"),
			  >,
			  0);
	g_assert_cmpfloat(sample_present(ran, "automateiq_store_commit_duration_seconds_count"),
			  <=,
			  sample_present(ran, "automateiq_store_commits_total"));
	g_assert_cmpfloat(sample_present(ran, "automateiq_store_write_wait_seconds_count"),
			  <=,
			  sample_present(ran, "automateiq_store_writes_total"));
	g_assert_cmpfloat(sample_present(ran, "automateiq_store_write_wait_seconds_count"),
			  >=,
			  sample_present(ran, "automateiq_store_commit_duration_seconds_count"));
	assert_histograms_cumulative(ran, "automateiq_store_commit_duration_seconds");
	assert_histograms_cumulative(ran, "automateiq_store_write_wait_seconds");
	assert_labels_bounded(ts, ran);
}

/* the lease sweeper gives back a job whose lease ran out: counted */
static void
test_metrics_lease_expiry(void)
{
	AiqTestServerOptions options = { .fake_clock = TRUE };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *wf = create_workflow(ts, ts->editor_token, "expiring", "site-a");
	g_autoptr(AiqTestAgent) agent = NULL;
	g_autofree gchar *leased = NULL;
	g_autoptr(Scrape) s = NULL;

	start_executions(ts, ts->editor_token, wf, 1);
	agent = aiq_test_agent_enroll(ts, ts->admin_token, "lost", "[\"site-a\"]");
	leased = aiq_test_agent_lease_one(agent);
	g_assert_nonnull(leased);
	s = scrape(ts);
	g_assert_cmpfloat(sample_present(s, "automateiq_lease_expiries_total"), ==, 0);
	g_assert_cmpfloat(sample_present(s, "automateiq_queue_depth{tier=\"standard\"}"), ==, 0);
	g_clear_pointer(&s, scrape_free);

	/* past the lease, and the agent long offline */
	ts->now += (gint64)3600 * G_USEC_PER_SEC;
	aiq_queue_sweep(aiq_queue_get(ts->server));
	s = scrape(ts);
	g_assert_cmpfloat(sample_present(s, "automateiq_lease_expiries_total"), ==, 1);
	g_assert_cmpfloat(sample_present(s, "automateiq_queue_depth{tier=\"standard\"}"), ==, 1);
	g_assert_cmpfloat(sample_present(s, "automateiq_agents_online"), ==, 0);
}

/* a tiny [tier.standard] rate: the 429s are counted by route and scope,
 * and the scrapes themselves are not rate-limited */
static void
test_metrics_rate_limited(void)
{
	AiqTestServerOptions options = {
		.real_limits = TRUE,
		.limits = "[tier.standard]\napi-requests-per-minute=1\napi-burst=3\n",
	};
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autoptr(Scrape) before = NULL;
	g_autoptr(Scrape) after = NULL;
	guint ok = 0, refused = 0;

	before = scrape(ts);
	for (guint i = 0; i < 6; i++) {
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "GET",
								   "/api/v1/workflows",
								   ts->viewer_token,
								   NULL,
								   NULL,
								   0);
		if (resp->status == 200)
			ok++;
		else if (resp->status == 429)
			refused++;
		else
			g_error("HTTP %u: %s", resp->status, resp->body);
	}
	g_assert_cmpuint(ok + refused, ==, 6);
	g_assert_cmpuint(refused, >=, 2);
	/* far more scrapes than the tenant's burst */
	for (guint i = 0; i < 5; i++) {
		g_autoptr(Scrape) s = scrape(ts);
	}
	after = scrape(ts);
	g_assert_cmpfloat(requests(after, "GET", "/api/v1/workflows", "429") -
				  requests(before, "GET", "/api/v1/workflows", "429"),
			  ==,
			  refused);
	g_assert_cmpfloat(requests(after, "GET", "/api/v1/workflows", "200") -
				  requests(before, "GET", "/api/v1/workflows", "200"),
			  ==,
			  ok);
	g_assert_cmpfloat(
		sample_present(after, "automateiq_rate_limit_rejections_total{scope=\"tenant\"}") -
			sample_present(before,
				       "automateiq_rate_limit_rejections_total{scope=\"tenant\"}"),
		==,
		refused);
	g_assert_cmpfloat(
		sample_present(after, "automateiq_rate_limit_rejections_total{scope=\"address\"}"),
		==,
		0);
	g_assert_cmpfloat(requests(after, "GET", "/metrics", "429"), ==, 0);
}

/* the access rule itself, for every kind of address */
static void
test_metrics_access_rule(void)
{
	const gchar *token = METRICS_TOKEN;
	struct {
		const gchar *address;
		gboolean forwarded;
		const gchar *authorization;
		const gchar *token;
		AiqMetricsAccess access;
	} cases[] = {
		{ "127.0.0.1", FALSE, NULL, NULL, AIQ_METRICS_ACCESS_ALLOWED },
		{ "127.3.2.1", FALSE, NULL, token, AIQ_METRICS_ACCESS_ALLOWED },
		{ "::1", FALSE, NULL, token, AIQ_METRICS_ACCESS_ALLOWED },
		{ "::ffff:127.0.0.1", FALSE, NULL, token, AIQ_METRICS_ACCESS_ALLOWED },
		/* through a proxy on this host: remote */
		{ "127.0.0.1", TRUE, NULL, token, AIQ_METRICS_ACCESS_FORBIDDEN },
		{ "127.0.0.1", TRUE, "Bearer " METRICS_TOKEN, token, AIQ_METRICS_ACCESS_ALLOWED },
		{ "192.0.2.10", FALSE, NULL, token, AIQ_METRICS_ACCESS_FORBIDDEN },
		{ "::ffff:192.0.2.10", FALSE, NULL, token, AIQ_METRICS_ACCESS_FORBIDDEN },
		{ "2001:db8::1", FALSE, NULL, token, AIQ_METRICS_ACCESS_FORBIDDEN },
		{ "unknown", FALSE, NULL, token, AIQ_METRICS_ACCESS_FORBIDDEN },
		{ "192.0.2.10", FALSE, "Bearer " METRICS_TOKEN, token, AIQ_METRICS_ACCESS_ALLOWED },
		{ "192.0.2.10", FALSE, "bearer " METRICS_TOKEN, token, AIQ_METRICS_ACCESS_ALLOWED },
		{ "2001:db8::1",
		  FALSE,
		  "Bearer " METRICS_TOKEN,
		  token,
		  AIQ_METRICS_ACCESS_ALLOWED },
		{ "192.0.2.10", FALSE, "Bearer wrong", token, AIQ_METRICS_ACCESS_UNAUTHORIZED },
		{ "192.0.2.10",
		  FALSE,
		  "Bearer " METRICS_TOKEN "x",
		  token,
		  AIQ_METRICS_ACCESS_UNAUTHORIZED },
		{ "192.0.2.10", FALSE, "Bearer ", token, AIQ_METRICS_ACCESS_UNAUTHORIZED },
		{ "192.0.2.10",
		  FALSE,
		  "Basic Zm9vOmJhcg==",
		  token,
		  AIQ_METRICS_ACCESS_UNAUTHORIZED },
		/* no token configured: nothing but loopback */
		{ "192.0.2.10", FALSE, "Bearer anything", NULL, AIQ_METRICS_ACCESS_FORBIDDEN },
		{ "192.0.2.10", FALSE, "Bearer ", "", AIQ_METRICS_ACCESS_FORBIDDEN },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("%s%s, %s",
			       cases[i].address,
			       cases[i].forwarded ? " (forwarded)" : "",
			       cases[i].authorization != NULL ? cases[i].authorization : "-");
		g_assert_cmpint(aiq_metrics_check_access(cases[i].address,
							 cases[i].forwarded,
							 cases[i].authorization,
							 cases[i].token),
				==,
				cases[i].access);
	}
}

static void
assert_refused(guint status, const gchar *body, SoupMessage *msg, guint expected)
{
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) error = NULL;
	JsonObject *err;
	const gchar *www = soup_message_headers_get_one(soup_message_get_response_headers(msg),
							"WWW-Authenticate");
	g_assert_cmpuint(status, ==, expected);
	node = aiq_json_parse(body, strlen(body), 64, &error);
	g_assert_no_error(error);
	err = aiq_json_object_get_object(json_node_get_object(node), "error");
	g_assert_nonnull(err);
	g_assert_cmpstr(aiq_json_object_get_string(err, "code"),
			==,
			expected == 401 ? "unauthenticated" : "forbidden");
	g_assert_null(strstr(body, "automateiq_"));
	if (expected == 401)
		g_assert_cmpstr(www, ==, "Bearer");
	else
		g_assert_null(www);
}

/* over HTTP from loopback, through a proxy on this host (Forwarded): the
 * token is needed, a wrong one is 401 */
static void
test_metrics_access_forwarded(void)
{
	AiqTestServerOptions options = { .config = "metrics-token=" METRICS_TOKEN };
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&options);
	g_autofree gchar *tenant_bearer = g_strdup_printf("Bearer %s", ts->admin_token);
	struct {
		const gchar *authorization;
		guint status;
	} cases[] = {
		{ NULL, 403 },
		{ "Bearer not-the-token-at-all-000000", 401 },
		{ "Bearer " METRICS_TOKEN, 200 },
		/* a tenant's token is no metrics token */
		{ tenant_bearer, 401 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(SoupMessage) msg =
			metrics_message(ts, cases[i].authorization, "for=203.0.113.7");
		g_autofree gchar *body = NULL;
		guint status = get_metrics_status(ts->session, msg, &body);
		if (cases[i].status == 200) {
			g_assert_cmpuint(status, ==, 200);
			assert_promtool_accepts(body);
		} else {
			assert_refused(status, body, msg, cases[i].status);
		}
	}

	/* X-Forwarded-For too */
	{
		g_autoptr(SoupMessage) msg = metrics_message(ts, NULL, NULL);
		g_autofree gchar *body = NULL;
		guint status;
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "X-Forwarded-For",
					     "203.0.113.7");
		status = get_metrics_status(ts->session, msg, &body);
		assert_refused(status, body, msg, 403);
	}
}

/*
 * Executions written beside the server are counted when the store opens;
 * then the scrape costs no count. With `-m perf`, over 100,000.
 */
static void
test_metrics_executions_at_open(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *wf = create_workflow(ts, ts->editor_token, "many", "site-a");
	g_autofree gchar *dir = g_strdup(ts->dir);
	const guint n = g_test_perf() ? 100000 : 2000;
	const gchar *statuses[] = { "succeeded", "failed", "cancelled", "timed_out" };
	guint expected[G_N_ELEMENTS(statuses)] = { 0 };
	AiqTestServerOptions options = { .data_dir = dir };
	gint64 t0;
	gdouble best = G_MAXDOUBLE;

	{
		g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
		aiq_test_db_exec(db, "BEGIN");
		for (guint i = 0; i < n; i++) {
			g_autofree gchar *id = aiq_id_new();
			guint s = (i * 7) % G_N_ELEMENTS(statuses);
			expected[s]++;
			aiq_test_db_exec(
				db,
				"INSERT INTO executions (tenant_id, id, workflow_id, "
				"workflow_name, version, status, trigger, inputs, "
				"created) VALUES (?1, ?2, ?3, 'many', 1, ?4, 'schedule', "
				"'{\"who\":\"someone\"}', ?5)",
				AIQ_TEST_DB_TEXT(i % 2 == 0 ? ts->tenant_id : ts->other_tenant_id),
				AIQ_TEST_DB_TEXT(id),
				AIQ_TEST_DB_TEXT(wf),
				AIQ_TEST_DB_TEXT(statuses[s]),
				AIQ_TEST_DB_INT(g_get_real_time()));
		}
		aiq_test_db_exec(db, "COMMIT");
	}

	t0 = g_get_monotonic_time();
	aiq_test_server_restart(ts, &options);
	g_test_message("restart over %u executions: %.1f ms",
		       n,
		       (g_get_monotonic_time() - t0) / 1000.0);
	for (guint round = 0; round < 5; round++) {
		g_autofree gchar *url = g_strdup_printf("%s/metrics", ts->url);
		g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
		gint64 start = g_get_monotonic_time();
		g_assert_cmpuint(get_metrics_status(ts->session, msg, NULL), ==, 200);
		best = MIN(best, (g_get_monotonic_time() - start) / 1000.0);
	}
	g_test_message("a scrape over %u executions: %.2f ms (best of 5)", n, best);
	{
		g_autoptr(Scrape) s = scrape(ts);
		for (guint i = 0; i < G_N_ELEMENTS(statuses); i++) {
			g_autofree gchar *key =
				g_strdup_printf("automateiq_executions{status=\"%s\"}",
						statuses[i]);
			g_assert_cmpfloat(sample_present(s, key), ==, expected[i]);
		}
		g_assert_cmpfloat(sample_present(s, "automateiq_executions{status=\"queued\"}"),
				  ==,
				  0);
	}
	/* and they move with the writes that follow */
	start_executions(ts, ts->editor_token, wf, 2);
	{
		g_autoptr(Scrape) s =
			scrape_counted(ts, "automateiq_executions{status=\"queued\"}", 2);
		g_assert_cmpfloat(sample_present(s, "automateiq_executions{status=\"queued\"}"),
				  ==,
				  2);
	}
}

gint
main(gint argc, gchar **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/http/metrics/requests", test_metrics_requests);
	g_test_add_func("/aiq/http/metrics/queue-executions", test_metrics_queue_executions);
	g_test_add_func("/aiq/http/metrics/lease-expiry", test_metrics_lease_expiry);
	g_test_add_func("/aiq/http/metrics/rate-limited", test_metrics_rate_limited);
	g_test_add_func("/aiq/http/metrics/access-rule", test_metrics_access_rule);
	g_test_add_func("/aiq/http/metrics/access-forwarded", test_metrics_access_forwarded);
	g_test_add_func("/aiq/http/metrics/executions-at-open", test_metrics_executions_at_open);
	return g_test_run();
}
