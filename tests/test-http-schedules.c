/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The scheduler over the real server with an injected clock: exactly one
 * execution per fire time, across restarts; catch-up of fires missed while
 * the server was down; daylight-saving changes.
 */

#include "config.h"

#include <string.h>

#include "aiq-json.h"
#include "aiq-routes.h"
#include "aiq-test-server.h"

#define MINUTE (60 * G_USEC_PER_SEC)
#define HOUR (60 * MINUTE)

static const AiqTestServerOptions clock_options = { .fake_clock = TRUE,
						    .scheduler = TRUE,
						    .lasting = TRUE };

static gint64
utc(const gchar *iso)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);
	g_assert_nonnull(dt);
	return g_date_time_to_unix(dt) * G_USEC_PER_SEC;
}

static gchar *
create_scheduled(AiqTestServer *ts, const gchar *name, const gchar *schedule)
{
	g_autofree gchar *yaml = g_strdup_printf("name: %s\n"
						 "triggers:\n"
						 "  - schedule: %s\n"
						 "steps:\n"
						 "  - id: a\n"
						 "    uses: transform\n"
						 "    with: { value: 1 }\n",
						 name,
						 schedule);
	g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
							   "POST",
							   "/api/v1/workflows",
							   ts->editor_token,
							   "application/yaml",
							   yaml,
							   -1);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

static void
tick(AiqTestServer *ts)
{
	g_autoptr(GError) error = NULL;
	g_assert_true(aiq_scheduler_tick(ts->server, &error));
	g_assert_no_error(error);
}

/* the creation times of a workflow's executions, oldest first */
static GArray *
executions_of(AiqTestServer *ts, const gchar *workflow_id)
{
	g_autofree gchar *path =
		g_strdup_printf("/api/v1/executions?workflow_id=%s&limit=1000", workflow_id);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
	GArray *times = g_array_new(FALSE, FALSE, sizeof(gint64));
	JsonArray *items;
	aiq_test_assert_status(resp, 200);
	items = json_object_get_array_member(aiq_test_response_object(resp), "items");
	for (guint i = json_array_get_length(items); i > 0; i--) {
		JsonObject *item = json_array_get_object_element(items, i - 1);
		gint64 created = utc(json_object_get_string_member(item, "created"));
		g_assert_cmpstr(json_object_get_string_member(item, "trigger"), ==, "schedule");
		g_array_append_val(times, created);
	}
	return times;
}

static guint
n_executions(AiqTestServer *ts, const gchar *workflow_id)
{
	g_autoptr(GArray) times = executions_of(ts, workflow_id);
	return times->len;
}

/* moves the clock to @until in steps of @step, with a scheduler pass at each */
static void
run_clock(AiqTestServer *ts, gint64 until, gint64 step)
{
	while (ts->now < until) {
		ts->now = MIN(ts->now + step, until);
		tick(ts);
	}
}

static void
test_exactly_once(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&clock_options);
	g_autofree gchar *id = NULL;
	g_autofree gchar *dir = g_strdup(ts->dir);
	AiqTestServerOptions restart = clock_options;

	ts->now = utc("2027-01-01T00:00:00Z");
	id = create_scheduled(ts, "quarterly", "{ cron: \"*/15 * * * *\" }");
	/* a new schedule starts from now: 00:00 itself is not a fire */
	tick(ts);
	g_assert_cmpuint(n_executions(ts, id), ==, 0);
	ts->now = utc("2027-01-01T00:14:59Z");
	tick(ts);
	g_assert_cmpuint(n_executions(ts, id), ==, 0);
	ts->now = utc("2027-01-01T00:15:02Z");
	tick(ts);
	tick(ts);
	g_assert_cmpuint(n_executions(ts, id), ==, 1);
	ts->now += 20 * G_USEC_PER_SEC;
	tick(ts);
	g_assert_cmpuint(n_executions(ts, id), ==, 1);

	/* a restart does not fire it again */
	restart.data_dir = dir;
	aiq_test_server_restart(ts, &restart);
	tick(ts);
	g_assert_cmpuint(n_executions(ts, id), ==, 1);
	ts->now = utc("2027-01-01T00:30:00Z");
	tick(ts);
	g_assert_cmpuint(n_executions(ts, id), ==, 2);
	{
		g_autoptr(GArray) times = executions_of(ts, id);
		g_assert_cmpint(g_array_index(times, gint64, 0), ==, utc("2027-01-01T00:15:02Z"));
		g_assert_cmpint(g_array_index(times, gint64, 1), ==, utc("2027-01-01T00:30:00Z"));
	}
}

static void
test_catch_up(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&clock_options);
	g_autofree gchar *dir = g_strdup(ts->dir);
	g_autofree gchar *none = NULL;
	g_autofree gchar *last = NULL;
	g_autofree gchar *all = NULL;
	g_autofree gchar *dflt = NULL;
	AiqTestServerOptions restart = clock_options;

	ts->now = utc("2027-01-01T00:00:00Z");
	none = create_scheduled(ts, "none", "{ cron: \"0 * * * *\", catch_up: none }");
	last = create_scheduled(ts, "last", "{ cron: \"0 * * * *\", catch_up: last }");
	all = create_scheduled(ts, "all", "{ cron: \"0 * * * *\", catch_up: all }");
	dflt = create_scheduled(ts, "default", "{ cron: \"@hourly\" }");
	tick(ts);

	/* down from 00:00:10 to 05:30: fires at 01:00 … 05:00 are missed */
	ts->now = utc("2027-01-01T00:00:10Z");
	aiq_server_stop(ts->server);
	ts->now = utc("2027-01-01T05:30:00Z");
	restart.data_dir = dir;
	aiq_test_server_restart(ts, &restart);
	tick(ts);
	tick(ts);
	g_assert_cmpuint(n_executions(ts, none), ==, 0);
	g_assert_cmpuint(n_executions(ts, last), ==, 1);
	g_assert_cmpuint(n_executions(ts, all), ==, 5);
	g_assert_cmpuint(n_executions(ts, dflt), ==, 1); /* last is the default */

	/* and on time again from then on */
	ts->now = utc("2027-01-01T06:00:01Z");
	tick(ts);
	g_assert_cmpuint(n_executions(ts, none), ==, 1);
	g_assert_cmpuint(n_executions(ts, last), ==, 2);
	g_assert_cmpuint(n_executions(ts, all), ==, 6);
}

/* a fire a little late (the server busy, a tick delayed) is not "missed" */
static void
test_late_tick(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&clock_options);
	g_autofree gchar *id = NULL;
	ts->now = utc("2027-01-01T00:00:00Z");
	id = create_scheduled(ts, "late", "{ cron: \"0 * * * *\", catch_up: none }");
	tick(ts);
	ts->now = utc("2027-01-01T01:00:30Z");
	tick(ts);
	g_assert_cmpuint(n_executions(ts, id), ==, 1);
}

static void
assert_fires(GArray *times, const gchar *const *expected, gint64 step)
{
	g_assert_cmpuint(times->len, ==, g_strv_length((gchar **)expected));
	for (guint i = 0; i < times->len; i++) {
		gint64 fire = utc(expected[i]);
		gint64 created = g_array_index(times, gint64, i);
		/* run at the first scheduler pass at or after the fire time */
		if (created < fire || created >= fire + step)
			g_error("fire %u at %" G_GINT64_FORMAT ", expected within %s + step",
				i,
				created / G_USEC_PER_SEC,
				expected[i]);
	}
}

static void
test_dst_spring(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&clock_options);
	g_autofree gchar *daily = NULL;
	g_autofree gchar *hourly = NULL;
	g_autoptr(GArray) daily_times = NULL;
	g_autoptr(GArray) hourly_times = NULL;
	/* Europe/Berlin leaves 02:00–03:00 out on 2027-03-28 (01:00Z) */
	const gchar *const daily_expected[] = { "2027-03-27T01:30:00Z", /* 02:30 CET */
						"2027-03-28T01:00:00Z", /* the gap's end */
						"2027-03-29T00:30:00Z", /* 02:30 CEST */
						NULL };
	const gchar *const hourly_expected[] = { "2027-03-27T23:45:00Z", /* 00:45 CET */
						 "2027-03-28T00:45:00Z", /* 01:45 CET */
						 "2027-03-28T01:00:00Z", /* 02:45: the gap's end */
						 "2027-03-28T01:45:00Z", /* 03:45 CEST */
						 "2027-03-28T02:45:00Z", /* 04:45 CEST */
						 NULL };

	ts->now = utc("2027-03-26T12:00:00Z");
	daily = create_scheduled(
		ts,
		"daily",
		"{ cron: \"30 2 * * *\", timezone: Europe/Berlin, catch_up: all }");
	hourly = create_scheduled(
		ts,
		"hourly",
		"{ cron: \"45 * * * *\", timezone: Europe/Berlin, catch_up: all }");
	tick(ts);
	run_clock(ts, utc("2027-03-27T23:30:00Z"), 5 * MINUTE);
	g_assert_cmpuint(n_executions(ts, daily), ==, 1);
	/* the hourly one: only the fires of the four hours watched below */
	{
		g_autoptr(GArray) before = executions_of(ts, hourly);
		g_assert_cmpuint(before->len, ==, 35);
	}
	run_clock(ts, utc("2027-03-28T03:00:00Z"), 5 * MINUTE);
	hourly_times = executions_of(ts, hourly);
	g_array_remove_range(hourly_times, 0, 35);
	assert_fires(hourly_times, hourly_expected, 5 * MINUTE);
	run_clock(ts, utc("2027-03-29T12:00:00Z"), 5 * MINUTE);
	daily_times = executions_of(ts, daily);
	assert_fires(daily_times, daily_expected, 5 * MINUTE);
}

static void
test_dst_autumn(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&clock_options);
	g_autofree gchar *daily = NULL;
	g_autofree gchar *hourly = NULL;
	g_autoptr(GArray) daily_times = NULL;
	g_autoptr(GArray) hourly_times = NULL;
	/* Europe/Berlin has 02:00–03:00 twice on 2027-10-31 (00:00Z–02:00Z) */
	const gchar *const daily_expected[] = { "2027-10-31T00:30:00Z", /* first 02:30 only */
						"2027-11-01T01:30:00Z",
						NULL };
	/* with `*` as the hour it runs every hour that passes, both 02:30s too */
	const gchar *const hourly_expected[] = { "2027-10-30T22:30:00Z",
						 "2027-10-30T23:30:00Z",
						 "2027-10-31T00:30:00Z",
						 "2027-10-31T01:30:00Z",
						 "2027-10-31T02:30:00Z",
						 "2027-10-31T03:30:00Z",
						 NULL };

	ts->now = utc("2027-10-30T22:00:00Z");
	daily = create_scheduled(
		ts,
		"daily",
		"{ cron: \"30 2 * * *\", timezone: Europe/Berlin, catch_up: all }");
	hourly = create_scheduled(
		ts,
		"hourly",
		"{ cron: \"30 * * * *\", timezone: Europe/Berlin, catch_up: all }");
	tick(ts);
	run_clock(ts, utc("2027-10-31T04:00:00Z"), 5 * MINUTE);
	hourly_times = executions_of(ts, hourly);
	assert_fires(hourly_times, hourly_expected, 5 * MINUTE);
	run_clock(ts, utc("2027-11-01T12:00:00Z"), 30 * MINUTE);
	daily_times = executions_of(ts, daily);
	assert_fires(daily_times, daily_expected, 30 * MINUTE);
}

/* a disabled workflow does not fire; enabled again, it does not make up for
 * the time it was off beyond its catch-up policy */
static void
test_disabled(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&clock_options);
	g_autofree gchar *id = NULL;
	g_autofree gchar *disable = NULL;
	g_autofree gchar *enable = NULL;
	ts->now = utc("2027-01-01T00:00:00Z");
	id = create_scheduled(ts, "switch", "{ cron: \"0 * * * *\", catch_up: none }");
	tick(ts);
	disable = g_strdup_printf("/api/v1/workflows/%s/disable", id);
	enable = g_strdup_printf("/api/v1/workflows/%s/enable", id);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "POST", disable, ts->editor_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 200);
	}
	run_clock(ts, utc("2027-01-01T03:30:00Z"), 10 * MINUTE);
	g_assert_cmpuint(n_executions(ts, id), ==, 0);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "POST", enable, ts->editor_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 200);
	}
	tick(ts);
	g_assert_cmpuint(n_executions(ts, id), ==, 0);
	run_clock(ts, utc("2027-01-01T04:05:00Z"), 10 * MINUTE);
	g_assert_cmpuint(n_executions(ts, id), ==, 1);
}

/* tenants are scheduled apart; a suspended tenant's schedules stop */
static void
test_tenants(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(&clock_options);
	g_autofree gchar *acme = NULL;
	g_autofree gchar *path = NULL;
	ts->now = utc("2027-01-01T00:00:00Z");
	acme = create_scheduled(ts, "acme-hourly", "{ cron: \"0 * * * *\" }");
	tick(ts);
	run_clock(ts, utc("2027-01-01T01:00:00Z"), 10 * MINUTE);
	g_assert_cmpuint(n_executions(ts, acme), ==, 1);
	/* the other tenant does not see acme's executions */
	path = g_strdup_printf("/api/v1/executions?workflow_id=%s", acme);
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->other_admin_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 200);
		g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
					 aiq_test_response_object(resp),
					 "items")),
				 ==,
				 0);
	}
	/* suspended: no fires (counted once active again, before a pass) */
	{
		g_autofree gchar *tenant = g_strdup_printf("/api/v1/tenants/%s", ts->tenant_id);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request_json(ts,
					      "PATCH",
					      tenant,
					      ts->platform_token,
					      "{\"status\": \"suspended\"}");
		aiq_test_assert_status(resp, 200);
	}
	run_clock(ts, utc("2027-01-01T02:00:00Z"), 10 * MINUTE);
	{
		g_autofree gchar *tenant = g_strdup_printf("/api/v1/tenants/%s", ts->tenant_id);
		g_autoptr(AiqTestResponse) resp = aiq_test_request_json(ts,
									"PATCH",
									tenant,
									ts->platform_token,
									"{\"status\": \"active\"}");
		aiq_test_assert_status(resp, 200);
	}
	g_assert_cmpuint(n_executions(ts, acme), ==, 1);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/schedules/exactly-once", test_exactly_once);
	g_test_add_func("/aiq/schedules/catch-up", test_catch_up);
	g_test_add_func("/aiq/schedules/late-tick", test_late_tick);
	g_test_add_func("/aiq/schedules/dst-spring", test_dst_spring);
	g_test_add_func("/aiq/schedules/dst-autumn", test_dst_autumn);
	g_test_add_func("/aiq/schedules/disabled", test_disabled);
	g_test_add_func("/aiq/schedules/tenants", test_tenants);
	return g_test_run();
}
