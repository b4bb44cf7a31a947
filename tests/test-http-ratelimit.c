/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Rate limits over the real server: the token bucket's accuracy when
 * driven at twice its rate, the shape of a 429 and the RateLimit-*
 * headers, the buckets of a tenant, an API key, an agent credential, a
 * webhook and a source address, the routes that are never limited, changed
 * limits, and that refused requests leave no audit record.
 */

#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "aiq-json.h"
#include "aiq-test-agent.h"
#include "aiq-test-db.h"
#include "aiq-test-server.h"

/* a route every role may call, cheap, audited by no one */
#define PROBE_PATH "/api/v1/workflows?limit=1"

/* quotas out of the way: only the request rate is tested here */
#define ROOMY_QUOTAS "workflows=1000\nconcurrent-executions=1000\nexecutions-per-day=100000\n"

static AiqTestServer *
start_server(const gchar *limits, const gchar *config)
{
	AiqTestServerOptions options = { 0 };
	options.real_limits = TRUE;
	options.limits = limits;
	options.config = config;
	return aiq_test_server_new(&options);
}

static AiqTestResponse *
probe(AiqTestServer *ts, const gchar *token)
{
	return aiq_test_request(ts, "GET", PROBE_PATH, token, NULL, NULL, 0);
}

/* an integer header; fails when it is missing or not a whole number */
static gint64
header_int(AiqTestResponse *resp, const gchar *name)
{
	const gchar *value = soup_message_headers_get_one(resp->headers, name);
	g_autoptr(GError) error = NULL;
	gint64 result = 0;
	if (value == NULL)
		g_error("HTTP %u has no %s header: %s", resp->status, name, resp->body);
	if (!g_ascii_string_to_signed(value, 10, 0, G_MAXINT64, &result, &error))
		g_error("%s: “%s” is not a whole number ≥ 0: %s", name, value, error->message);
	return result;
}

/* checks a 2xx carries the RateLimit-* headers of @burst and @per_minute;
 * returns RateLimit-Remaining */
static gint64
assert_allowed(AiqTestResponse *resp, gint64 per_minute, gint64 burst)
{
	g_autofree gchar *policy =
		g_strdup_printf("%" PRId64 ";w=60;burst=%" PRId64, per_minute, burst);
	gint64 remaining;
	if (resp->status < 200 || resp->status > 299)
		g_error("expected a 2xx, got %u: %s", resp->status, resp->body);
	g_assert_cmpint(header_int(resp, "RateLimit-Limit"), ==, burst);
	remaining = header_int(resp, "RateLimit-Remaining");
	g_assert_cmpint(remaining, <, burst);
	g_assert_cmpint(header_int(resp, "RateLimit-Reset"), >=, 1);
	g_assert_cmpstr(soup_message_headers_get_one(resp->headers, "RateLimit-Policy"),
			==,
			policy);
	g_assert_null(soup_message_headers_get_one(resp->headers, "Retry-After"));
	return remaining;
}

/* checks the whole shape of a refusal by the rate limiter; returns
 * Retry-After */
static gint64
assert_rate_limited(AiqTestResponse *resp, const gchar *scope, gint64 per_minute, gint64 burst)
{
	g_autofree gchar *policy =
		g_strdup_printf("%" PRId64 ";w=60;burst=%" PRId64, per_minute, burst);
	JsonObject *error;
	JsonArray *details;
	JsonObject *detail;
	gint64 retry_after;

	aiq_test_assert_status(resp, 429);
	retry_after = header_int(resp, "Retry-After");
	g_assert_cmpint(retry_after, >=, 1);
	/* one request's worth of refill at most */
	g_assert_cmpint(retry_after, <=, (60 + per_minute - 1) / per_minute);
	g_assert_cmpint(header_int(resp, "RateLimit-Limit"), ==, burst);
	g_assert_cmpint(header_int(resp, "RateLimit-Remaining"), ==, 0);
	g_assert_cmpint(header_int(resp, "RateLimit-Reset"), >=, retry_after);
	g_assert_cmpstr(soup_message_headers_get_one(resp->headers, "RateLimit-Policy"),
			==,
			policy);

	g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "rate_limited");
	error = aiq_json_object_get_object(aiq_test_response_object(resp), "error");
	g_assert_nonnull(aiq_json_object_get_string(error, "message"));
	details = aiq_json_object_get_array(error, "details");
	g_assert_nonnull(details);
	g_assert_cmpuint(json_array_get_length(details), ==, 1);
	detail = json_array_get_object_element(details, 0);
	g_assert_nonnull(detail);
	g_assert_cmpstr(aiq_json_object_get_string(detail, "scope"), ==, scope);
	g_assert_cmpint(aiq_json_object_get_int(detail, "requests_per_minute", -1), ==, per_minute);
	g_assert_cmpint(aiq_json_object_get_int(detail, "burst", -1), ==, burst);
	return retry_after;
}

/* probes with @token until the first 429, which it returns; fails when more
 * than @most requests pass */
static AiqTestResponse *
exhaust(AiqTestServer *ts, const gchar *token, guint most, guint *allowed)
{
	*allowed = 0;
	for (guint i = 0; i <= most; i++) {
		AiqTestResponse *resp = probe(ts, token);
		if (resp->status == 429)
			return resp;
		aiq_test_assert_status(resp, 200);
		aiq_test_response_free(resp);
		(*allowed)++;
	}
	g_error("no 429 after %u requests", most + 1);
	return NULL;
}

/* accuracy: twice the rate from concurrent clients, paced */

#define ACCURACY_RATE 1200 /* a minute: 20/s */
#define ACCURACY_BURST 20
#define ACCURACY_CLIENTS 8
#define ACCURACY_SECONDS 8
#define ACCURACY_SENT_PER_S (2 * ACCURACY_RATE / 60)

typedef struct {
	AiqTestServer *ts;
	GTlsDatabase *db;
	gint64 start_us; /* monotonic: the schedule's origin */
	GMutex mutex;
	gint64 first_us; /* monotonic: the first request's send */
	gint64 last_us;  /* the last one's */
	guint allowed;
	guint refused;
	guint sent;
	GArray *sends;   /* gint64: every send, monotonic */
	GString *others; /* any other answer, to show */
} Accuracy;

typedef struct {
	Accuracy *acc;
	guint index;
} AccuracyClient;

/* one client: its own connection, warmed up, then requests at its slots of
 * a common schedule (the clients interleave, so that together they send at
 * an even ACCURACY_SENT_PER_S); a late one is sent at once */
static gpointer
accuracy_client(gpointer user_data)
{
	AccuracyClient *client = user_data;
	Accuracy *acc = client->acc;
	g_autoptr(SoupSession) session =
		soup_session_new_with_options("tls-database", acc->db, "timeout", 60, NULL);
	g_autofree gchar *url = g_strdup_printf("%s" PROBE_PATH, acc->ts->url);
	g_autofree gchar *health = g_strdup_printf("%s/healthz", acc->ts->url);
	g_autofree gchar *auth = g_strdup_printf("Bearer %s", acc->ts->admin_token);
	const guint total = ACCURACY_SENT_PER_S * ACCURACY_SECONDS;
	const gint64 interval_us = G_USEC_PER_SEC / ACCURACY_SENT_PER_S;

	/* the TLS handshake outside the measured span (never limited) */
	{
		g_autoptr(SoupMessage) msg = soup_message_new("GET", health);
		g_autoptr(GBytes) reply = soup_session_send_and_read(session, msg, NULL, NULL);
		g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
	}
	for (guint slot = client->index; slot < total; slot += ACCURACY_CLIENTS) {
		g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
		g_autoptr(GBytes) reply = NULL;
		g_autoptr(GError) error = NULL;
		gint64 due = acc->start_us + (gint64)slot * interval_us;
		gint64 now = g_get_monotonic_time();
		gint64 sent_us;
		guint status;

		if (due > now)
			g_usleep((gulong)(due - now));
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "Authorization",
					     auth);
		sent_us = g_get_monotonic_time();
		reply = soup_session_send_and_read(session, msg, NULL, &error);
		status = reply != NULL ? soup_message_get_status(msg) : 0;
		g_mutex_lock(&acc->mutex);
		acc->sent++;
		g_array_append_val(acc->sends, sent_us);
		if (acc->first_us == 0 || sent_us < acc->first_us)
			acc->first_us = sent_us;
		acc->last_us = MAX(acc->last_us, sent_us);
		if (status >= 200 && status <= 299)
			acc->allowed++;
		else if (status == 429)
			acc->refused++;
		else
			g_string_append_printf(acc->others,
					       " %u (%s)",
					       status,
					       error != NULL ? error->message : "");
		g_mutex_unlock(&acc->mutex);
	}
	return NULL;
}

static gint
compare_int64(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a;
	gint64 y = *(const gint64 *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

/* what an ideal token bucket lets through of requests at @sends (sorted);
 * sets the longest gap between two, in seconds */
static guint
ideal_bucket(GArray *sends, gdouble per_s, gdouble burst, gdouble *longest_gap_s)
{
	gdouble tokens = burst;
	guint allowed = 0;
	*longest_gap_s = 0;
	for (guint i = 0; i < sends->len; i++) {
		if (i > 0) {
			gdouble gap_s = (gdouble)(g_array_index(sends, gint64, i) -
						  g_array_index(sends, gint64, i - 1)) /
					G_USEC_PER_SEC;
			*longest_gap_s = MAX(*longest_gap_s, gap_s);
			tokens = MIN(burst, tokens + gap_s * per_s);
		}
		if (tokens >= 1.0) {
			tokens -= 1.0;
			allowed++;
		}
	}
	return allowed;
}

static void
test_accuracy(void)
{
	g_autofree gchar *limits =
		g_strdup_printf("[tier.standard]\napi-requests-per-minute=%d\napi-burst=%d\n",
				ACCURACY_RATE,
				ACCURACY_BURST);
	g_autoptr(AiqTestServer) ts = start_server(limits, NULL);
	g_autofree gchar *ca = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	g_autoptr(GError) error = NULL;
	AccuracyClient clients[ACCURACY_CLIENTS];
	GThread *threads[ACCURACY_CLIENTS];
	Accuracy acc = { 0 };
	gdouble span_s;
	gdouble sent_per_s;
	gdouble expected;
	gdouble deviation;
	gdouble longest_gap_s;
	guint ideal;

	acc.ts = ts;
	acc.db = g_tls_file_database_new(ca, &error);
	g_assert_no_error(error);
	acc.others = g_string_new(NULL);
	acc.sends = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_mutex_init(&acc.mutex);
	/* half a second for the clients to connect before their first slot */
	acc.start_us = g_get_monotonic_time() + G_USEC_PER_SEC / 2;
	for (guint i = 0; i < ACCURACY_CLIENTS; i++) {
		clients[i].acc = &acc;
		clients[i].index = i;
		threads[i] = g_thread_new("accuracy-client", accuracy_client, &clients[i]);
	}
	for (guint i = 0; i < ACCURACY_CLIENTS; i++)
		g_thread_join(threads[i]);

	if (acc.others->len > 0)
		g_error("answers other than 2xx and 429:%s", acc.others->str);
	/* the bucket was full at the first request and refilled at the rate
	 * until the last: it let through burst + rate × the time between
	 * them, measured here, whatever the load of the machine made of the
	 * schedule */
	span_s = (gdouble)(acc.last_us - acc.first_us) / G_USEC_PER_SEC;
	sent_per_s = (acc.sent - 1) / span_s;
	expected = ACCURACY_BURST + ACCURACY_RATE / 60.0 * span_s;
	deviation = ((gdouble)acc.allowed - expected) / expected;
	/* and an ideal bucket fed the same send times */
	g_array_sort(acc.sends, compare_int64);
	ideal = ideal_bucket(acc.sends, ACCURACY_RATE / 60.0, ACCURACY_BURST, &longest_gap_s);
	g_test_message("sent %u in %.3f s (%.1f/s, the limit is %d/s), at most %.3f s apart: "
		       "%u allowed, %u refused; expected %.1f allowed, off by %+.2f %%; an ideal "
		       "bucket allows %u",
		       acc.sent,
		       span_s,
		       sent_per_s,
		       ACCURACY_RATE / 60,
		       longest_gap_s,
		       acc.allowed,
		       acc.refused,
		       expected,
		       deviation * 100,
		       ideal);
	g_assert_cmpuint(acc.sent, ==, ACCURACY_SENT_PER_S * ACCURACY_SECONDS);
	/* the clients did drive well over the limit */
	g_assert_cmpfloat(sent_per_s, >=, 1.5 * ACCURACY_RATE / 60.0);
	g_assert_cmpuint(acc.refused, >, 0);
	g_assert_cmpfloat(ABS((gdouble)acc.allowed - ideal), <=, 0.05 * ideal);
	/* burst + rate × T holds while the bucket never filled up again, which
	 * a stall of the whole machine longer than burst / rate would let it
	 * do (its refill is then lost, as it should be) */
	if (longest_gap_s < (gdouble)ACCURACY_BURST / (ACCURACY_RATE / 60.0))
		g_assert_cmpfloat(ABS(deviation), <=, 0.05);
	else
		g_test_message("the clients stalled for %.3f s: only the ideal bucket's count "
			       "applies",
			       longest_gap_s);

	g_mutex_clear(&acc.mutex);
	g_string_free(acc.others, TRUE);
	g_array_unref(acc.sends);
	g_object_unref(acc.db);
}

/* the shape of answers, and that Retry-After is to be trusted */
static void
test_shape(void)
{
	/* one request a second: Retry-After is 1 s */
	g_autoptr(AiqTestServer) ts =
		start_server("[tier.standard]\napi-requests-per-minute=60\napi-burst=5\n", NULL);
	g_autoptr(AiqTestResponse) refused = NULL;
	g_autoptr(AiqTestResponse) after = NULL;
	gint64 retry_after;
	guint allowed = 0;

	/* every answer tells the bucket; a new one is full, so the first has
	 * burst - 1 left */
	for (;;) {
		g_autoptr(AiqTestResponse) resp = probe(ts, ts->admin_token);
		gint64 remaining;
		if (resp->status == 429) {
			refused = g_steal_pointer(&resp);
			break;
		}
		remaining = assert_allowed(resp, 60, 5);
		if (allowed == 0)
			g_assert_cmpint(remaining, ==, 4);
		allowed++;
		/* (more than 5 only as it refills, one a second) */
		g_assert_cmpuint(allowed, <=, 100);
	}
	g_assert_cmpuint(allowed, >=, 5);
	retry_after = assert_rate_limited(refused, "tenant", 60, 5);
	g_assert_cmpint(retry_after, ==, 1);
	/* the message says when */
	g_assert_nonnull(strstr(refused->body, "retry in 1 s"));

	/* the refused request took nothing: after Retry-After one fits */
	g_usleep((gulong)retry_after * G_USEC_PER_SEC);
	after = probe(ts, ts->admin_token);
	aiq_test_assert_status(after, 200);
	assert_allowed(after, 60, 5);
}

/* one tenant's bucket is its own: every user of acme shares it, other
 * tenants do not */
static void
test_per_tenant(void)
{
	/* a request a minute: nothing refills during the test */
	g_autoptr(AiqTestServer) ts =
		start_server("[tier.standard]\napi-requests-per-minute=1\napi-burst=5\n", NULL);
	g_autoptr(AiqTestResponse) refused = NULL;
	g_autoptr(AiqTestResponse) editor = NULL;
	g_autoptr(AiqTestResponse) other = NULL;
	g_autoptr(AiqTestResponse) platform = NULL;
	guint allowed = 0;

	/* counted down one by one */
	for (guint i = 0; i < 5; i++) {
		g_autoptr(AiqTestResponse) resp = probe(ts, ts->admin_token);
		g_assert_cmpint(assert_allowed(resp, 1, 5), ==, 4 - (gint64)i);
	}
	refused = exhaust(ts, ts->admin_token, 0, &allowed);
	g_assert_cmpint(assert_rate_limited(refused, "tenant", 1, 5), ==, 60);
	g_assert_nonnull(strstr(refused->body, "tenant"));

	/* acme's other users: the same bucket, empty */
	editor = probe(ts, ts->editor_token);
	assert_rate_limited(editor, "tenant", 1, 5);

	/* tenant other: a full bucket of its own */
	other = probe(ts, ts->other_admin_token);
	g_assert_cmpint(assert_allowed(other, 1, 5), ==, 4);

	/* the platform tenant (enterprise): its own tier's limits */
	platform =
		aiq_test_request(ts, "GET", "/api/v1/tenants", ts->platform_token, NULL, NULL, 0);
	aiq_test_assert_status(platform, 200);
	g_assert_cmpint(header_int(platform, "RateLimit-Limit"), ==, 10000);
}

/* a client that keeps sending far over its rate: past 10 refusals within a
 * second (twice a rate of 1/min rounds to 0) its refusals come 0.75 to 1.25 s
 * late, and the metrics count them; a lower bound only, which load cannot
 * break */
static void
test_tarpit(void)
{
	g_autoptr(AiqTestServer) ts =
		start_server("[tier.standard]\napi-requests-per-minute=1\napi-burst=2\n", NULL);
	g_autoptr(AiqTestResponse) metrics = NULL;
	guint quick = 0;
	gint64 start;
	gint64 elapsed;

	for (guint i = 0; i < 2; i++) {
		g_autoptr(AiqTestResponse) resp = probe(ts, ts->admin_token);
		aiq_test_assert_status(resp, 200);
	}
	/* the first refusals are answered at once (their timing is not
	 * asserted: only that they are refusals) */
	for (guint i = 0; i < 10; i++) {
		g_autoptr(AiqTestResponse) resp = probe(ts, ts->admin_token);
		assert_rate_limited(resp, "tenant", 1, 2);
		quick++;
	}
	g_assert_cmpuint(quick, ==, 10);
	/* the eleventh within the second is held — unless the ten took over a
	 * second, when the count starts again: send until one is held */
	for (guint i = 0; i < 50; i++) {
		g_autoptr(AiqTestResponse) resp = NULL;
		start = g_get_monotonic_time();
		resp = probe(ts, ts->admin_token);
		elapsed = g_get_monotonic_time() - start;
		assert_rate_limited(resp, "tenant", 1, 2);
		if (elapsed >= 700 * 1000)
			break;
	}
	g_assert_cmpint(elapsed, >=, 700 * 1000);
	/* counted, and healthz is never held */
	metrics = aiq_test_request(ts, "GET", "/metrics", NULL, NULL, NULL, 0);
	aiq_test_assert_status(metrics, 200);
	g_assert_null(strstr(metrics->body, "\nautomateiq_rate_limit_held_total 0\n"));
	g_assert_nonnull(strstr(metrics->body, "\nautomateiq_rate_limit_held_total "));
}

/* an API key made with requests_per_minute: a bucket of its own (its burst
 * the smaller of the tenant's and its rate), inside the tenant's */
static AiqTestResponse *
create_key(AiqTestServer *ts, const gchar *body)
{
	AiqTestResponse *resp =
		aiq_test_request_json(ts, "POST", "/api/v1/api-keys", ts->admin_token, body);
	aiq_test_assert_status(resp, 201);
	return resp;
}

static void
test_per_api_key(void)
{
	/* the tenant's bucket refills by one every 10 s: not during the test */
	g_autoptr(AiqTestServer) ts =
		start_server("[tier.standard]\napi-requests-per-minute=6\napi-burst=50\n", NULL);
	g_autoptr(AiqTestResponse) limited = NULL;
	g_autoptr(AiqTestResponse) plain = NULL;
	g_autoptr(AiqTestResponse) refused = NULL;
	g_autoptr(AiqTestResponse) tenant = NULL;
	g_autoptr(AiqTestResponse) other_key = NULL;
	const gchar *key;
	gint64 expected;
	guint allowed = 0;

	/* 5 a minute: a burst of 5, and one more every 12 s */
	limited = create_key(ts,
			     "{\"name\": \"ci\", \"role\": \"editor\", "
			     "\"requests_per_minute\": 5}");
	g_assert_cmpint(aiq_json_object_get_int(aiq_test_response_object(limited),
						"requests_per_minute",
						-1),
			==,
			5);
	key = aiq_json_object_get_string(aiq_test_response_object(limited), "token");
	/* and a key with only the tenant's */
	plain = create_key(ts, "{\"name\": \"dashboard\", \"role\": \"viewer\"}");

	/* the key's answers tell its own bucket, the tighter */
	for (guint i = 0; i < 5; i++) {
		g_autoptr(AiqTestResponse) resp = probe(ts, key);
		g_assert_cmpint(assert_allowed(resp, 5, 5), ==, 4 - (gint64)i);
	}
	refused = exhaust(ts, key, 2, &allowed);
	assert_rate_limited(refused, "credential", 5, 5);
	g_assert_nonnull(strstr(refused->body, "credential"));

	/* the tenant still has budget: the admin's two creates and the key's
	 * requests came out of its 50, the refused one did not */
	tenant = probe(ts, ts->admin_token);
	expected = 50 - 2 - 5 - (gint64)allowed - 1;
	g_assert_cmpint(assert_allowed(tenant, 6, 50), >=, expected);
	g_assert_cmpint(header_int(tenant, "RateLimit-Remaining"), <=, expected + 1);
	/* a key without a rate of its own has the tenant's bucket */
	other_key = probe(ts, aiq_json_object_get_string(aiq_test_response_object(plain), "token"));
	g_assert_cmpint(assert_allowed(other_key, 6, 50), >=, expected - 1);
	g_assert_cmpint(header_int(other_key, "RateLimit-Remaining"), <=, expected);
}

/* agents' syncs take from their credential's bucket, not the tenant's */
static void
test_agent(void)
{
	g_autoptr(AiqTestServer) ts =
		start_server("[tier.standard]\napi-requests-per-minute=1\napi-burst=5\n", NULL);
	g_autoptr(AiqTestAgent) agent = NULL;
	g_autoptr(AiqTestAgent) second = NULL;
	g_autoptr(AiqTestResponse) refused = NULL;
	g_autoptr(AiqTestResponse) tenant = NULL;
	g_autoptr(AiqTestResponse) other_agent = NULL;
	const gchar *heartbeat = "{\"running\":[],\"capacity\":4}";
	guint allowed = 0;

	/* two of the tenant's five: the enrollment tokens */
	agent = aiq_test_agent_enroll(ts, ts->admin_token, "one", NULL);
	second = aiq_test_agent_enroll(ts, ts->admin_token, "two", NULL);
	for (guint i = 0; i < 5; i++) {
		g_autoptr(AiqTestResponse) resp =
			aiq_test_agent_post(agent, "/api/v1/agent/heartbeat", heartbeat);
		g_assert_cmpint(assert_allowed(resp, 1, 5), ==, 4 - (gint64)i);
	}
	for (guint i = 0; i < 10 && refused == NULL; i++) {
		AiqTestResponse *resp =
			aiq_test_agent_post(agent, "/api/v1/agent/heartbeat", heartbeat);
		if (resp->status == 429)
			refused = resp;
		else
			aiq_test_response_free(resp);
		allowed++;
	}
	g_assert_nonnull(refused);
	assert_rate_limited(refused, "credential", 1, 5);

	/* the tenant's bucket still has its three */
	tenant = probe(ts, ts->admin_token);
	g_assert_cmpint(assert_allowed(tenant, 1, 5), ==, 2);
	/* and each agent has its own */
	other_agent = aiq_test_agent_post(second, "/api/v1/agent/heartbeat", heartbeat);
	g_assert_cmpint(assert_allowed(other_agent, 1, 5), ==, 4);
}

static const gchar *const hook_yaml = "name: hooked\n"
				      "triggers:\n"
				      "  - webhook: {}\n"
				      "steps:\n"
				      "  - id: a\n"
				      "    uses: transform\n"
				      "    with: { value: 1 }\n";

static AiqTestResponse *
post_hook(AiqTestServer *ts, const gchar *path)
{
	return aiq_test_request_json(ts, "POST", path, NULL, "{}");
}

/* webhooks take from their tenant's bucket */
static void
test_webhook(void)
{
	g_autoptr(AiqTestServer) ts = start_server(
		"[tier.standard]\napi-requests-per-minute=1\napi-burst=6\n" ROOMY_QUOTAS,
		NULL);
	g_autoptr(AiqTestResponse) created = NULL;
	g_autoptr(AiqTestResponse) hook = NULL;
	g_autoptr(AiqTestResponse) refused = NULL;
	g_autoptr(AiqTestResponse) tenant = NULL;
	g_autoptr(AiqTestResponse) other = NULL;
	g_autofree gchar *hook_path = NULL;
	g_autofree gchar *path = NULL;
	guint allowed = 0;

	created = aiq_test_request(ts,
				   "POST",
				   "/api/v1/workflows",
				   ts->editor_token,
				   "application/yaml",
				   hook_yaml,
				   -1);
	aiq_test_assert_status(created, 201);
	path = g_strdup_printf("/api/v1/workflows/%s/webhook",
			       aiq_json_object_get_string(aiq_test_response_object(created), "id"));
	hook = aiq_test_request(ts, "GET", path, ts->editor_token, NULL, NULL, 0);
	aiq_test_assert_status(hook, 200);
	hook_path = g_strdup(aiq_json_object_get_string(aiq_test_response_object(hook), "path"));

	/* the tenant had 6, the editor took 2: the webhooks get the other 4,
	 * counted down in their answers */
	for (guint i = 0; i < 10 && refused == NULL; i++) {
		AiqTestResponse *resp = post_hook(ts, hook_path);
		if (resp->status == 429) {
			refused = resp;
			break;
		}
		g_assert_cmpint(assert_allowed(resp, 1, 6), ==, 3 - (gint64)i);
		aiq_test_response_free(resp);
		allowed++;
	}
	g_assert_cmpuint(allowed, ==, 4);
	g_assert_nonnull(refused);
	assert_rate_limited(refused, "webhook", 1, 6);

	/* the tenant's users find the bucket empty */
	tenant = probe(ts, ts->viewer_token);
	assert_rate_limited(tenant, "tenant", 1, 6);
	other = probe(ts, ts->other_admin_token);
	assert_allowed(other, 1, 6);
}

static AiqTestResponse *
login(AiqTestServer *ts, const gchar *username, const gchar *password)
{
	g_autofree gchar *body = g_strdup_printf(
		"{\"tenant\": \"acme\", \"username\": \"%s\", \"password\": \"%s\"}",
		username,
		password);
	return aiq_test_request_json(ts, "POST", "/api/v1/auth/login", NULL, body);
}

/* logins and enrollments: a budget per source address, whatever the
 * outcome */
static void
test_address(void)
{
	g_autoptr(AiqTestServer) ts =
		start_server(NULL, "address-requests-per-minute=1\naddress-burst=3");
	g_autofree gchar *enrollment = aiq_test_enrollment_token(ts, ts->admin_token, "{}");
	g_autoptr(AiqTestResponse) refused = NULL;
	g_autoptr(AiqTestResponse) right = NULL;
	g_autoptr(AiqTestResponse) enroll = NULL;
	g_autoptr(AiqTestResponse) api = NULL;
	g_autofree gchar *user = aiq_test_server_add_user(ts, ts->tenant_id, "pat", "viewer", NULL);

	/* three wrong passwords, answered as such */
	for (guint i = 0; i < 3; i++) {
		g_autoptr(AiqTestResponse) resp = login(ts, "pat", "not-the-password");
		aiq_test_assert_status(resp, 401);
		g_assert_cmpint(header_int(resp, "RateLimit-Limit"), ==, 3);
		g_assert_cmpint(header_int(resp, "RateLimit-Remaining"), ==, 2 - (gint64)i);
	}
	/* the fourth is refused before its password is looked at */
	refused = login(ts, "pat", "not-the-password");
	assert_rate_limited(refused, "address", 1, 3);
	g_assert_nonnull(strstr(refused->body, "127.0.0.1"));
	right = login(ts, "pat", "test-password-123");
	assert_rate_limited(right, "address", 1, 3);
	/* enrollments share the address's budget, and the token is not spent */
	enroll = aiq_test_agent_enroll_with(ts, enrollment, "late", NULL);
	assert_rate_limited(enroll, "address", 1, 3);

	/* the API itself is the tenant's budget, not the address's */
	api = probe(ts, user);
	aiq_test_assert_status(api, 200);
	g_assert_cmpint(header_int(api, "RateLimit-Limit"), ==, 200);
}

/* what load balancers and orchestrators poll is never limited */
static void
test_health(void)
{
	g_autoptr(AiqTestServer) ts =
		start_server("[tier.standard]\napi-requests-per-minute=1\napi-burst=1\n",
			     "address-requests-per-minute=1\naddress-burst=1");
	g_autoptr(AiqTestResponse) first = probe(ts, ts->admin_token);
	g_autoptr(AiqTestResponse) second = probe(ts, ts->admin_token);
	g_autoptr(AiqTestResponse) first_login = login(ts, "acme-admin", "wrong-password");
	g_autoptr(AiqTestResponse) second_login = login(ts, "acme-admin", "wrong-password");

	/* the tenant and the address are spent */
	aiq_test_assert_status(first, 200);
	assert_rate_limited(second, "tenant", 1, 1);
	aiq_test_assert_status(first_login, 401);
	assert_rate_limited(second_login, "address", 1, 1);
	for (guint i = 0; i < 50; i++) {
		const gchar *path = i % 2 == 0 ? "/healthz" : "/readyz";
		/* with or without a token of the spent tenant */
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts,
					 "GET",
					 path,
					 i % 4 < 2 ? NULL : ts->admin_token,
					 NULL,
					 NULL,
					 0);
		aiq_test_assert_status(resp, 200);
		g_assert_null(soup_message_headers_get_one(resp->headers, "RateLimit-Limit"));
		g_assert_null(soup_message_headers_get_one(resp->headers, "Retry-After"));
	}
}

/* sets a tenant's rate as a platform admin does (@json: its `limits`) */
static void
patch_limits(AiqTestServer *ts, const gchar *tenant_id, const gchar *json)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/tenants/%s", tenant_id);
	g_autofree gchar *body = g_strdup_printf("{\"limits\": %s}", json);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(ts, "PATCH", path, ts->platform_token, body);
	aiq_test_assert_status(resp, 200);
}

/* a changed limit holds from the next request on */
static void
test_changed_limits(void)
{
	const gchar *before = "[tier.standard]\napi-requests-per-minute=1\napi-burst=3\n";
	g_autoptr(AiqTestServer) ts = start_server(before, NULL);
	AiqTestServerOptions options = { 0 };
	g_autoptr(AiqTestResponse) refused = NULL;
	g_autoptr(AiqTestResponse) raised = NULL;
	g_autoptr(AiqTestResponse) lowered = NULL;
	g_autoptr(AiqTestResponse) other = NULL;
	g_autoptr(AiqTestResponse) restarted = NULL;
	g_autoptr(AiqTestResponse) acme = NULL;
	g_autoptr(AiqTestResponse) reverted = NULL;
	guint allowed = 0;

	refused = exhaust(ts, ts->admin_token, 3, &allowed);
	g_assert_cmpuint(allowed, ==, 3);
	assert_rate_limited(refused, "tenant", 1, 3);

	/* raised through the platform admin API: the same bucket, refilling
	 * at the new rate from now on */
	patch_limits(ts, ts->tenant_id, "{\"api_requests_per_minute\": 60000, \"api_burst\": 100}");
	raised = probe(ts, ts->admin_token);
	g_assert_cmpint(header_int(raised, "RateLimit-Limit"), ==, 100);
	g_assert_cmpstr(soup_message_headers_get_one(raised->headers, "RateLimit-Policy"),
			==,
			"60000;w=60;burst=100");
	/* lowered: a full bucket is cut to the new burst */
	patch_limits(ts, ts->tenant_id, "{\"api_requests_per_minute\": 1, \"api_burst\": 2}");
	lowered = probe(ts, ts->admin_token);
	g_assert_cmpint(header_int(lowered, "RateLimit-Limit"), ==, 2);
	g_assert_cmpint(header_int(lowered, "RateLimit-Remaining"), <=, 1);
	/* the other tenant kept the tier's */
	other = probe(ts, ts->other_admin_token);
	g_assert_cmpint(assert_allowed(other, 1, 3), ==, 2);

	/* a new configuration, read at start */
	options.real_limits = TRUE;
	options.limits = "[tier.standard]\napi-requests-per-minute=120\napi-burst=7\n";
	aiq_test_server_restart(ts, &options);
	restarted = probe(ts, ts->other_admin_token);
	g_assert_cmpint(assert_allowed(restarted, 120, 7), ==, 6);
	/* acme's own limits still win over the tier's, until they are removed */
	acme = probe(ts, ts->admin_token);
	g_assert_cmpint(header_int(acme, "RateLimit-Limit"), ==, 2);
	patch_limits(ts, ts->tenant_id, "null");
	reverted = probe(ts, ts->admin_token);
	assert_allowed(reverted, 120, 7);
}

/* refusals by the rate limiter leave no audit record; what was answered
 * does */
static void
test_not_audited(void)
{
	g_autoptr(AiqTestServer) ts = start_server(
		"[tier.standard]\napi-requests-per-minute=1\napi-burst=4\n" ROOMY_QUOTAS,
		"address-requests-per-minute=1\naddress-burst=2");
	guint created = 0;
	guint refused = 0;
	guint logins = 0;

	for (guint i = 0; i < 8; i++) {
		g_autofree gchar *yaml =
			g_strdup_printf("name: wf-%u\nsteps:\n  - id: a\n    uses: transform\n"
					"    with: { value: 1 }\n",
					i);
		g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
								   "POST",
								   "/api/v1/workflows",
								   ts->editor_token,
								   "application/yaml",
								   yaml,
								   -1);
		if (resp->status == 429) {
			assert_rate_limited(resp, "tenant", 1, 4);
			refused++;
		} else {
			aiq_test_assert_status(resp, 201);
			created++;
		}
	}
	g_assert_cmpuint(created, ==, 4);
	g_assert_cmpuint(refused, ==, 4);
	for (guint i = 0; i < 5; i++) {
		g_autoptr(AiqTestResponse) resp = login(ts, "ed", "wrong-password");
		if (resp->status == 429) {
			assert_rate_limited(resp, "address", 1, 2);
		} else {
			aiq_test_assert_status(resp, 401);
			logins++;
		}
	}
	g_assert_cmpuint(logins, ==, 2);

	/* the audit log as stored (records are written detached: opening
	 * waits for them) */
	{
		g_autoptr(AiqTestDb) db = aiq_test_db_open(ts);
		g_autofree gchar *rows =
			aiq_test_db_lines(db,
					  "SELECT action, outcome, status, COUNT(*) FROM audit_log "
					  "WHERE tenant_id = ?1 GROUP BY action, outcome, status "
					  "ORDER BY action, status",
					  AIQ_TEST_DB_TEXT(ts->tenant_id));
		g_assert_cmpstr(rows,
				==,
				"auth.login denied 401 2\n"
				"workflow.create success 201 4\n");
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/ratelimit/accuracy", test_accuracy);
	g_test_add_func("/aiq/ratelimit/shape", test_shape);
	g_test_add_func("/aiq/ratelimit/per-tenant", test_per_tenant);
	g_test_add_func("/aiq/ratelimit/tarpit", test_tarpit);
	g_test_add_func("/aiq/ratelimit/per-api-key", test_per_api_key);
	g_test_add_func("/aiq/ratelimit/agent", test_agent);
	g_test_add_func("/aiq/ratelimit/webhook", test_webhook);
	g_test_add_func("/aiq/ratelimit/address", test_address);
	g_test_add_func("/aiq/ratelimit/health", test_health);
	g_test_add_func("/aiq/ratelimit/changed-limits", test_changed_limits);
	g_test_add_func("/aiq/ratelimit/not-audited", test_not_audited);
	return g_test_run();
}
