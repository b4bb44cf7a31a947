/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib.h>
#include <string.h>
#include <time.h>

#include "aiq-cron.h"
#include "aiq-error.h"

/* Unix time of an ISO 8601 string with an explicit offset */
static gint64
ts(const gchar *iso)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);
	g_assert_nonnull(dt);
	return g_date_time_to_unix(dt);
}

static GTimeZone *
zone(const gchar *identifier)
{
	g_autoptr(GError) error = NULL;
	GTimeZone *tz = aiq_timezone_new(identifier, &error);
	g_assert_no_error(error);
	g_assert_nonnull(tz);
	return tz;
}

/* e.g. "2026-03-29T03:00:00+02:00", or "never" for -1 */
static gchar *
local_iso(gint64 instant, GTimeZone *tz)
{
	g_autoptr(GDateTime) utc = NULL;
	g_autoptr(GDateTime) local = NULL;
	if (instant == -1)
		return g_strdup("never");
	utc = g_date_time_new_from_unix_utc(instant);
	g_assert_nonnull(utc);
	local = g_date_time_to_timezone(utc, tz);
	return g_date_time_format(local, "%Y-%m-%dT%H:%M:%S%:z");
}

static AiqCron *
cron(const gchar *expression)
{
	g_autoptr(GError) error = NULL;
	AiqCron *self = aiq_cron_new(expression, &error);
	g_assert_no_error(error);
	g_assert_nonnull(self);
	return self;
}

/* asserts the fires that follow @after, as local times with offsets */
static void
assert_fires(const gchar *expression,
	     const gchar *tz_name,
	     const gchar *after,
	     const gchar *const *expected)
{
	g_autoptr(AiqCron) self = cron(expression);
	g_autoptr(GTimeZone) tz = zone(tz_name);
	gint64 t = ts(after);
	for (guint i = 0; expected[i] != NULL; i++) {
		g_autofree gchar *got = NULL;
		gint64 next = aiq_cron_next(self, tz, t);
		got = local_iso(next, tz);
		if (g_strcmp0(got, expected[i]) != 0)
			g_test_message("%s in %s, fire %u after %s", expression, tz_name, i, after);
		g_assert_cmpstr(got, ==, expected[i]);
		if (next == -1)
			break;
		g_assert_cmpint(next, >, t);
		t = next;
	}
}

/* two expressions fire at the same times, in UTC and in a DST zone */
static void
assert_same_schedule(const gchar *a, const gchar *b)
{
	g_autoptr(AiqCron) ca = cron(a);
	g_autoptr(AiqCron) cb = cron(b);
	const gchar *zones[] = { "UTC", "Europe/Berlin" };
	for (guint z = 0; z < G_N_ELEMENTS(zones); z++) {
		g_autoptr(GTimeZone) tz = zone(zones[z]);
		gint64 ta = ts("2026-01-01T00:00:00Z");
		gint64 tb = ta;
		for (guint i = 0; i < 150; i++) {
			ta = aiq_cron_next(ca, tz, ta);
			tb = aiq_cron_next(cb, tz, tb);
			if (ta != tb)
				g_test_message("“%s” and “%s” differ at fire %u in %s",
					       a,
					       b,
					       i,
					       zones[z]);
			g_assert_cmpint(ta, ==, tb);
			if (ta == -1)
				break;
		}
	}
}

static void
test_cron_parse_valid(void)
{
	const gchar *valid[] = {
		"* * * * *",
		"0 0 1 1 0",
		"59 23 31 12 7",
		"*/15 * * * *",
		"0-59/5 0-23/2 1-31/3 1-12/4 0-7/2",
		"5/10 1/6 2/10 3/3 1/2",
		"1,2,3-5,10-20/5 * * * *",
		"0 9 * JAN-MAR,jul,Dec mon-fri",
		"0 9 * * Sun,sAt",
		"  0   9\t* *  *  ",
		"@hourly",
		"@daily",
		"@midnight",
		"@weekly",
		"@monthly",
		"@yearly",
		"@annually",
		"@DAILY",
		" @daily ",
		"00 09 01 01 00",
	};
	for (guint i = 0; i < G_N_ELEMENTS(valid); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(AiqCron) self = aiq_cron_new(valid[i], &error);
		g_assert_no_error(error);
		g_assert_nonnull(self);
		/* the original text, not a normalised form */
		g_assert_cmpstr(aiq_cron_get_expression(self), ==, valid[i]);
	}
}

static void
test_cron_parse_names(void)
{
	assert_same_schedule("0 0 * JAN-MAR MON", "0 0 * 1-3 1");
	assert_same_schedule("0 0 * jan,Feb,mAR * ", "0 0 * 1,2,3 *");
	assert_same_schedule("0 0 * * MON-FRI", "0 0 * * 1-5");
	assert_same_schedule("0 0 * * SUN", "0 0 * * 0");
	assert_same_schedule("0 0 * * 7", "0 0 * * 0");
	/* Sunday at the end of a range is 7 */
	assert_same_schedule("0 0 * * FRI-SUN", "0 0 * * 5-7");
	assert_same_schedule("0 0 * * 5-7", "0 0 * * 0,5,6");
	assert_same_schedule("0 0 * * 0-7", "0 0 * * *");
	assert_same_schedule("0 0 * SEP-DEC *", "0 0 * 9,10,11,12 *");
	assert_same_schedule("0 0 1 * thu", "0 0 1 * 4");
}

static void
test_cron_parse_ranges_steps_lists(void)
{
	assert_same_schedule("*/15 * * * *", "0,15,30,45 * * * *");
	assert_same_schedule("0/15 * * * *", "*/15 * * * *");
	assert_same_schedule("10-20/5 * * * *", "10,15,20 * * * *");
	assert_same_schedule("50/5 * * * *", "50,55 * * * *");
	assert_same_schedule("0 1-5,10,20-22 * * *", "0 1,2,3,4,5,10,20,21,22 * * *");
	assert_same_schedule("0 */6 * * *", "0 0,6,12,18 * * *");
	assert_same_schedule("0 0 */10 * *", "0 0 1,11,21,31 * *");
	assert_same_schedule("0 0 1 */3 *", "0 0 1 1,4,7,10 *");
	assert_same_schedule("0 0 * * */2", "0 0 * * 0,2,4,6");
	assert_same_schedule("*/60 * * * *", "0 * * * *");
	assert_same_schedule("*/1 * * * *", "* * * * *");
	assert_same_schedule("0-59 0-23 1-31 1-12 0-6", "* * * * *");
	assert_same_schedule("5-5 * * * *", "5 * * * *");
	assert_same_schedule("1,1,1 * * * *", "1 * * * *");
}

static void
test_cron_parse_shortcuts(void)
{
	assert_same_schedule("@hourly", "0 * * * *");
	assert_same_schedule("@daily", "0 0 * * *");
	assert_same_schedule("@midnight", "0 0 * * *");
	assert_same_schedule("@weekly", "0 0 * * 0");
	assert_same_schedule("@monthly", "0 0 1 * *");
	assert_same_schedule("@yearly", "0 0 1 1 *");
	assert_same_schedule("@annually", "0 0 1 1 *");
	assert_same_schedule("@Hourly", "0 * * * *");
}

static void
test_cron_parse_errors(void)
{
	const struct {
		const gchar *expression;
		gint code;
		const gchar *message; /* a part of it */
	} cases[] = {
		{ "", AIQ_ERROR_INVALID_ARGUMENT, "empty" },
		{ " \t ", AIQ_ERROR_INVALID_ARGUMENT, "empty" },
		{ "* * * *", AIQ_ERROR_INVALID_ARGUMENT, "expected 5 fields, got 4" },
		{ "* * * * * *", AIQ_ERROR_INVALID_ARGUMENT, "expected 5 fields, got 6" },
		{ "*", AIQ_ERROR_INVALID_ARGUMENT, "expected 5 fields, got 1" },
		{ "61 * * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "minute field: 61 is out of range 0-59" },
		{ "60 * * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "minute field: 60 is out of range 0-59" },
		{ "* 24 * * *", AIQ_ERROR_INVALID_ARGUMENT, "hour field: 24 is out of range 0-23" },
		{ "* * 0 * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "day-of-month field: 0 is out of range 1-31" },
		{ "* * 32 * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "day-of-month field: 32 is out of range 1-31" },
		{ "* * * 0 *", AIQ_ERROR_INVALID_ARGUMENT, "month field: 0 is out of range 1-12" },
		{ "* * * 13 *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "month field: 13 is out of range 1-12" },
		{ "* * * * 8",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "day-of-week field: 8 is out of range 0-7" },
		{ "99999999999 * * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "minute field: 99999999999 is out of range 0-59" },
		{ "* * * * MOX",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "day-of-week field: unknown name “MOX”" },
		{ "* * * * MOX", AIQ_ERROR_INVALID_ARGUMENT, "did you mean “MON”?" },
		{ "* * * FOOBAR *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "month field: unknown name “FOOBAR”" },
		{ "* * * * MONDAY", AIQ_ERROR_INVALID_ARGUMENT, "unknown name “MONDAY”" },
		{ "* * * * MON-XYZ", AIQ_ERROR_INVALID_ARGUMENT, "unknown name “XYZ”" },
		{ "MON * * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "minute field: “MON” is not a number" },
		{ "* * JAN * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "day-of-month field: “JAN” is not a number" },
		{ "1x * * * *", AIQ_ERROR_INVALID_ARGUMENT, "minute field: “1x” is not a number" },
		{ "*/0 * * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "minute field: a step of 0 is not allowed" },
		{ "* 1-5/0 * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "hour field: a step of 0 is not allowed" },
		{ "*/61 * * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "minute field: step 61 is out of range 1-60" },
		{ "*/ * * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "minute field: a step is missing after “/”" },
		{ "*/x * * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "minute field: step “x” is not a number" },
		{ "*/5/2 * * * *", AIQ_ERROR_INVALID_ARGUMENT, "step “5/2” is not a number" },
		{ "30-10 * * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "minute field: range 30-10 is reversed" },
		{ "* * * DEC-JAN *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "month field: range DEC-JAN is reversed" },
		{ "* * * * FRI-MON", AIQ_ERROR_INVALID_ARGUMENT, "range FRI-MON is reversed" },
		{ "1,,2 * * * *", AIQ_ERROR_INVALID_ARGUMENT, "minute field: empty item in list" },
		{ "1, * * * *", AIQ_ERROR_INVALID_ARGUMENT, "minute field: empty item in list" },
		{ "-5 * * * *", AIQ_ERROR_INVALID_ARGUMENT, "minute field: “-5” is not a range" },
		{ "5- * * * *", AIQ_ERROR_INVALID_ARGUMENT, "minute field: “5-” is not a range" },
		{ "1-2-3 * * * *",
		  AIQ_ERROR_INVALID_ARGUMENT,
		  "minute field: “1-2-3” is not a range" },
		{ "*-5 * * * *", AIQ_ERROR_INVALID_ARGUMENT, "minute field: “*” is not a number" },
		{ "@reboot", AIQ_ERROR_INVALID_ARGUMENT, "unknown shortcut “@reboot”" },
		{ "@dialy", AIQ_ERROR_INVALID_ARGUMENT, "did you mean “@daily”?" },
		{ "@daily 5", AIQ_ERROR_INVALID_ARGUMENT, "unknown shortcut “@daily 5”" },
		{ "\xff * * * *", AIQ_ERROR_INVALID_ARGUMENT, "not valid UTF-8" },
		{ "* * * * * # comment", AIQ_ERROR_INVALID_ARGUMENT, "expected 5 fields, got 7" },
	};
	g_autofree gchar *overlong = g_strnfill(257, '1');
	g_autofree gchar *longest = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqCron) ok = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) err = NULL;
		g_autoptr(AiqCron) self = aiq_cron_new(cases[i].expression, &err);
		g_assert_null(self);
		g_assert_error(err, AIQ_ERROR, cases[i].code);
		if (strstr(err->message, cases[i].message) == NULL)
			g_test_message("“%s” gave “%s”", cases[i].expression, err->message);
		g_assert_nonnull(strstr(err->message, cases[i].message));
	}

	/* the field error names the field first */
	{
		g_autoptr(GError) err = NULL;
		g_autoptr(AiqCron) self = aiq_cron_new("61 * * * *", &err);
		g_assert_null(self);
		g_assert_true(g_str_has_prefix(err->message, "minute field: "));
	}

	/* NULL is an error, not a critical */
	{
		g_autoptr(GError) err = NULL;
		g_autoptr(AiqCron) self = aiq_cron_new(NULL, &err);
		g_assert_null(self);
		g_assert_error(err, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	}

	/* too long: checked before anything else */
	{
		g_autoptr(AiqCron) self = aiq_cron_new(overlong, &error);
		g_assert_null(self);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
		g_assert_nonnull(strstr(error->message, "256"));
	}

	/* exactly 256 characters is allowed */
	longest = g_strdup_printf("%-249s* * * *", "0");
	g_assert_cmpuint(strlen(longest), ==, 256);
	ok = aiq_cron_new(longest, NULL);
	g_assert_nonnull(ok);
}

static void
test_cron_next_basic(void)
{
	const gchar *every_minute[] = { "2026-05-10T12:01:00+00:00",
					"2026-05-10T12:02:00+00:00",
					NULL };
	const gchar *quarter[] = { "2026-05-10T12:15:00+00:00",
				   "2026-05-10T12:30:00+00:00",
				   "2026-05-10T12:45:00+00:00",
				   "2026-05-10T13:00:00+00:00",
				   NULL };
	const gchar *weekdays[] = { "2026-05-11T02:00:00+00:00", /* Monday */
				    "2026-05-12T02:00:00+00:00", "2026-05-13T02:00:00+00:00",
				    "2026-05-14T02:00:00+00:00", "2026-05-15T02:00:00+00:00",
				    "2026-05-18T02:00:00+00:00", NULL };
	const gchar *yearly[] = { "2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", NULL };
	const gchar *year_end[] = { "2026-12-31T23:59:00+00:00",
				    "2027-12-31T23:59:00+00:00",
				    NULL };
	const gchar *office[] = { "2026-05-11T09:00:00+00:00",
				  "2026-05-11T09:30:00+00:00",
				  "2026-05-11T10:00:00+00:00",
				  NULL };
	const gchar *sparse[] = { "2026-07-04T12:05:00+00:00", "2027-07-04T12:05:00+00:00", NULL };
	/* a fire exactly at `after` is not returned */
	const gchar *strict[] = { "2026-05-11T00:00:00+00:00", NULL };
	const gchar *seconds[] = { "2026-05-10T12:01:00+00:00", NULL };
	const gchar *offset[] = { "2026-05-10T09:00:00+05:30", "2026-05-11T09:00:00+05:30", NULL };

	assert_fires("* * * * *", "UTC", "2026-05-10T12:00:00Z", every_minute);
	assert_fires("*/15 * * * *", "UTC", "2026-05-10T12:00:00Z", quarter);
	assert_fires("0 2 * * MON-FRI", "UTC", "2026-05-10T12:00:00Z", weekdays);
	assert_fires("@yearly", "UTC", "2026-05-10T12:00:00Z", yearly);
	assert_fires("59 23 31 12 *", "UTC", "2026-05-10T12:00:00Z", year_end);
	assert_fires("0,30 9-17 * * 1-5", "UTC", "2026-05-09T12:00:00Z", office);
	assert_fires("5 12 4 JUL *", "UTC", "2026-05-10T12:00:00Z", sparse);
	assert_fires("@daily", "UTC", "2026-05-10T00:00:00Z", strict);
	assert_fires("* * * * *", "UTC", "2026-05-10T12:00:59Z", seconds);
	assert_fires("0 9 * * *", "+05:30", "2026-05-10T00:00:00Z", offset);

	/* NULL means UTC */
	{
		g_autoptr(AiqCron) self = cron("30 6 * * *");
		g_assert_cmpint(aiq_cron_next(self, NULL, ts("2026-05-10T00:00:00Z")),
				==,
				ts("2026-05-10T06:30:00Z"));
	}
}

static void
test_cron_next_month_ends(void)
{
	const gchar *day31[] = { "2026-03-31T00:00:00+00:00",
				 "2026-05-31T00:00:00+00:00",
				 "2026-07-31T00:00:00+00:00",
				 "2026-08-31T00:00:00+00:00",
				 NULL };
	const gchar *leap[] = { "2028-02-29T00:00:00+00:00",
				"2032-02-29T00:00:00+00:00",
				"2036-02-29T00:00:00+00:00",
				NULL };
	/* 2100 is not a leap year: eight years between two 29ths */
	const gchar *century[] = { "2104-02-29T00:00:00+00:00", NULL };
	const gchar *never[] = { "never", NULL };
	const gchar *day30[] = { "2026-01-30T00:00:00+00:00",
				 "2026-03-30T00:00:00+00:00",
				 "2026-04-30T00:00:00+00:00",
				 NULL };
	const gchar *last_feb[] = { "2027-02-28T00:00:00+00:00",
				    "2028-02-28T00:00:00+00:00",
				    NULL };

	assert_fires("0 0 31 * *", "UTC", "2026-01-31T00:00:00Z", day31);
	assert_fires("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", leap);
	assert_fires("0 0 29 2 *", "UTC", "2096-02-29T00:00:00Z", century);
	assert_fires("0 0 30 2 *", "UTC", "2026-01-01T00:00:00Z", never);
	assert_fires("0 0 31 4,6,9,11 *", "Europe/Berlin", "2026-01-01T00:00:00Z", never);
	assert_fires("0 0 30 * *", "UTC", "2026-01-01T00:00:00Z", day30);
	assert_fires("0 0 28 2 *", "UTC", "2026-03-01T00:00:00Z", last_feb);

	/* times that are out of range give -1, never a crash */
	{
		g_autoptr(AiqCron) self = cron("* * * * *");
		g_assert_cmpint(aiq_cron_next(self, NULL, G_MAXINT64), ==, -1);
		g_assert_cmpint(aiq_cron_next(self, NULL, G_MININT64), ==, -1);
		g_assert_cmpint(aiq_cron_next(self, NULL, ts("9999-12-31T23:59:00Z")), ==, -1);
		g_assert_cmpint(aiq_cron_next(self, NULL, ts("9999-12-31T23:58:00Z")),
				==,
				ts("9999-12-31T23:59:00Z"));
		g_assert_cmpint(aiq_cron_next(self, NULL, ts("1969-12-31T23:59:30Z")), ==, 0);
		g_assert_cmpint(aiq_cron_next(self, NULL, ts("0001-01-01T00:00:00Z")),
				==,
				ts("0001-01-01T00:01:00Z"));
	}
}

static void
test_cron_next_day_or(void)
{
	/* both restricted: the 13th OR a Friday */
	const gchar *either[] = { "2026-01-02T00:00:00+00:00", "2026-01-09T00:00:00+00:00",
				  "2026-01-13T00:00:00+00:00", /* a Tuesday */
				  "2026-01-16T00:00:00+00:00", "2026-01-23T00:00:00+00:00",
				  "2026-01-30T00:00:00+00:00", "2026-02-06T00:00:00+00:00",
				  "2026-02-13T00:00:00+00:00", /* a Friday, once */
				  "2026-02-20T00:00:00+00:00", NULL };
	const gchar *dom_only[] = { "2026-01-13T00:00:00+00:00",
				    "2026-02-13T00:00:00+00:00",
				    NULL };
	const gchar *dow_only[] = { "2026-01-02T00:00:00+00:00",
				    "2026-01-09T00:00:00+00:00",
				    NULL };
	/* a month restriction applies to both day fields */
	const gchar *in_march[] = { "2026-03-01T00:00:00+00:00", /* the 1st, a Sunday */
				    "2026-03-02T00:00:00+00:00", /* Monday */
				    "2026-03-09T00:00:00+00:00", "2026-03-16T00:00:00+00:00",
				    "2026-03-23T00:00:00+00:00", "2026-03-30T00:00:00+00:00",
				    "2027-03-01T00:00:00+00:00", NULL };

	assert_fires("0 0 13 * FRI", "UTC", "2026-01-01T00:00:00Z", either);
	assert_fires("0 0 13 * *", "UTC", "2026-01-01T00:00:00Z", dom_only);
	assert_fires("0 0 * * 5", "UTC", "2026-01-01T00:00:00Z", dow_only);
	assert_fires("0 0 1 3 MON", "UTC", "2026-01-01T00:00:00Z", in_march);

	/* a field that covers its whole range counts as unrestricted, however written */
	assert_same_schedule("0 0 1-31 * 5", "0 0 * * 5");
	assert_same_schedule("0 0 */1 * 5", "0 0 * * 5");
	assert_same_schedule("0 0 13 * 0-6", "0 0 13 * *");
	assert_same_schedule("0 0 13 * SUN-SAT", "0 0 13 * *");
	/* a day-of-week list that is every day ORs with the day of month: every day */
	assert_same_schedule("0 0 13 * 1-5,6,7", "0 0 13 * *");
	/* a step in the day of month is a restriction */
	assert_same_schedule("0 0 */2 * 1", "0 0 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 * 1");
}

static void
test_cron_dst_berlin_spring(void)
{
	/* 2026-03-29 02:00 CET → 03:00 CEST; 02:00–02:59 does not exist */
	const gchar *daily[] = { "2026-03-28T02:30:00+01:00",
				 "2026-03-29T03:00:00+02:00", /* collapsed into the gap's end */
				 "2026-03-30T02:30:00+02:00",
				 NULL };
	const gchar *quarter[] = { "2026-03-29T01:45:00+01:00",
				   "2026-03-29T03:00:00+02:00", /* 02:00–02:45 and 03:00 */
				   "2026-03-29T03:15:00+02:00",
				   "2026-03-29T03:30:00+02:00",
				   NULL };
	/* 02:00 and 03:00 both map to 03:00: one fire, not two */
	const gchar *two_and_three[] = { "2026-03-29T03:00:00+02:00",
					 "2026-03-30T02:00:00+02:00",
					 NULL };
	/* 02:30 collapses to 03:00, 03:30 is real */
	const gchar *half_past[] = { "2026-03-29T03:00:00+02:00",
				     "2026-03-29T03:30:00+02:00",
				     "2026-03-30T02:30:00+02:00",
				     NULL };
	/* hourly at :15; 02:15 fires when the gap ends, then 03:15 */
	const gchar *hourly[] = { "2026-03-29T01:15:00+01:00",
				  "2026-03-29T03:00:00+02:00",
				  "2026-03-29T03:15:00+02:00",
				  "2026-03-29T04:15:00+02:00",
				  NULL };
	const gchar *every_minute[] = { "2026-03-29T01:59:00+01:00",
					"2026-03-29T03:00:00+02:00",
					"2026-03-29T03:01:00+02:00",
					NULL };
	/* a weekly Sunday job in the gap */
	const gchar *weekly[] = { "2026-03-22T02:30:00+01:00",
				  "2026-03-29T03:00:00+02:00",
				  "2026-04-05T02:30:00+02:00",
				  NULL };

	assert_fires("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00+01:00", daily);
	assert_fires("*/15 * * * *", "Europe/Berlin", "2026-03-29T01:30:00+01:00", quarter);
	assert_fires("0 2,3 * * *", "Europe/Berlin", "2026-03-29T00:00:00+01:00", two_and_three);
	assert_fires("30 2,3 * * *", "Europe/Berlin", "2026-03-29T00:00:00+01:00", half_past);
	assert_fires("15 * * * *", "Europe/Berlin", "2026-03-29T01:00:00+01:00", hourly);
	assert_fires("* * * * *", "Europe/Berlin", "2026-03-29T01:58:00+01:00", every_minute);
	assert_fires("30 2 * * SUN", "Europe/Berlin", "2026-03-20T00:00:00+01:00", weekly);

	/* the gap fire is the transition instant itself */
	{
		g_autoptr(AiqCron) self = cron("30 2 * * *");
		g_autoptr(GTimeZone) tz = zone("Europe/Berlin");
		gint64 transition = ts("2026-03-29T01:00:00Z");
		g_assert_cmpint(aiq_cron_next(self, tz, transition - 1), ==, transition);
		g_assert_cmpint(aiq_cron_next(self, tz, transition - 3600), ==, transition);
		g_assert_cmpint(aiq_cron_next(self, tz, transition),
				==,
				ts("2026-03-30T02:30:00+02:00"));
	}
}

static void
test_cron_dst_berlin_fall(void)
{
	/* 2026-10-25 03:00 CEST → 02:00 CET; 02:00–02:59 happens twice */
	const gchar *daily[] = { "2026-10-25T02:30:00+02:00", /* the first 02:30 only */
				 "2026-10-26T02:30:00+01:00",
				 NULL };
	const gchar *quarter[] = { "2026-10-25T02:00:00+02:00", "2026-10-25T02:15:00+02:00",
				   "2026-10-25T02:30:00+02:00", "2026-10-25T02:45:00+02:00",
				   "2026-10-25T02:00:00+01:00", "2026-10-25T02:15:00+01:00",
				   "2026-10-25T02:30:00+01:00", "2026-10-25T02:45:00+01:00",
				   "2026-10-25T03:00:00+01:00", NULL };
	const gchar *hourly[] = { "2026-10-25T01:30:00+02:00",
				  "2026-10-25T02:30:00+02:00",
				  "2026-10-25T02:30:00+01:00",
				  "2026-10-25T03:30:00+01:00",
				  NULL };
	/* the hour is restricted: the repeated 02:xx fires once */
	const gchar *in_two[] = { "2026-10-25T02:00:00+02:00",
				  "2026-10-25T02:30:00+02:00",
				  "2026-10-26T02:00:00+01:00",
				  NULL };
	const gchar *two_and_three[] = { "2026-10-25T02:00:00+02:00",
					 "2026-10-25T03:00:00+01:00",
					 "2026-10-26T02:00:00+01:00",
					 NULL };
	/* starting inside the second 02:xx: the repeated minutes do not fire */
	const gchar *from_second[] = { "2026-10-26T02:30:00+01:00", NULL };
	const gchar *from_first_late[] = { "2026-10-26T02:40:00+01:00", NULL };
	const gchar *from_second_any[] = { "2026-10-25T02:30:00+01:00", NULL };
	/* starting inside the first 02:xx */
	const gchar *from_first[] = { "2026-10-25T02:30:00+02:00",
				      "2026-10-26T02:30:00+01:00",
				      NULL };

	assert_fires("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00+02:00", daily);
	assert_fires("*/15 * * * *", "Europe/Berlin", "2026-10-25T01:50:00+02:00", quarter);
	assert_fires("30 * * * *", "Europe/Berlin", "2026-10-25T01:00:00+02:00", hourly);
	assert_fires("*/30 2 * * *", "Europe/Berlin", "2026-10-25T00:00:00+02:00", in_two);
	assert_fires("0 2,3 * * *", "Europe/Berlin", "2026-10-25T00:00:00+02:00", two_and_three);
	assert_fires("30 2 * * *", "Europe/Berlin", "2026-10-25T02:10:00+01:00", from_second);
	assert_fires("40 2 * * *", "Europe/Berlin", "2026-10-25T02:50:00+02:00", from_first_late);
	assert_fires("30 * * * *", "Europe/Berlin", "2026-10-25T02:10:00+01:00", from_second_any);
	assert_fires("30 2 * * *", "Europe/Berlin", "2026-10-25T02:10:00+02:00", from_first);
}

static void
test_cron_dst_new_york(void)
{
	/* 2026-03-08 02:00 EST → 03:00 EDT */
	const gchar *spring[] = { "2026-03-07T02:30:00-05:00",
				  "2026-03-08T03:00:00-04:00",
				  "2026-03-09T02:30:00-04:00",
				  NULL };
	const gchar *spring_quarter[] = { "2026-03-08T01:45:00-05:00",
					  "2026-03-08T03:00:00-04:00",
					  "2026-03-08T03:15:00-04:00",
					  NULL };
	/* 2026-11-01 02:00 EDT → 01:00 EST; 01:00–01:59 happens twice */
	const gchar *fall[] = { "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", NULL };
	const gchar *fall_hourly[] = { "2026-11-01T00:00:00-04:00",
				       "2026-11-01T01:00:00-04:00",
				       "2026-11-01T01:00:00-05:00",
				       "2026-11-01T02:00:00-05:00",
				       NULL };
	const gchar *fall_weekly[] = { "2026-11-01T01:30:00-04:00",
				       "2026-11-08T01:30:00-05:00",
				       NULL };

	assert_fires("30 2 * * *", "America/New_York", "2026-03-07T00:00:00-05:00", spring);
	assert_fires("*/15 * * * *",
		     "America/New_York",
		     "2026-03-08T01:40:00-05:00",
		     spring_quarter);
	assert_fires("30 1 * * *", "America/New_York", "2026-11-01T00:00:00-04:00", fall);
	assert_fires("0 * * * *", "America/New_York", "2026-10-31T23:30:00-04:00", fall_hourly);
	assert_fires("30 1 * * 0", "America/New_York", "2026-10-31T00:00:00-04:00", fall_weekly);
}

static void
test_cron_dst_lord_howe(void)
{
	/* 2026-10-04 02:00 +10:30 → 02:30 +11:00: a 30 minute gap */
	const gchar *spring[] = { "2026-10-03T02:15:00+10:30",
				  "2026-10-04T02:30:00+11:00",
				  "2026-10-05T02:15:00+11:00",
				  NULL };
	const gchar *spring_quarter[] = { "2026-10-04T01:45:00+10:30",
					  "2026-10-04T02:30:00+11:00", /* 02:00, 02:15, 02:30 */
					  "2026-10-04T02:45:00+11:00",
					  NULL };
	/* 02:45 exists: not moved */
	const gchar *after_gap[] = { "2026-10-04T02:45:00+11:00", NULL };
	/* 2026-04-05 02:00 +11:00 → 01:30 +10:30: 01:30–01:59 happens twice */
	const gchar *fall[] = { "2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30", NULL };
	const gchar *fall_quarter[] = { "2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00",
					"2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30",
					"2026-04-05T02:00:00+10:30", NULL };
	/* 01:15 is not repeated */
	const gchar *not_repeated[] = { "2026-04-05T01:15:00+11:00",
					"2026-04-06T01:15:00+10:30",
					NULL };

	assert_fires("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00+10:30", spring);
	assert_fires("*/15 * * * *",
		     "Australia/Lord_Howe",
		     "2026-10-04T01:40:00+10:30",
		     spring_quarter);
	assert_fires("45 2 * * *", "Australia/Lord_Howe", "2026-10-04T00:00:00+10:30", after_gap);
	assert_fires("45 1 * * *", "Australia/Lord_Howe", "2026-04-05T00:00:00+11:00", fall);
	assert_fires("*/15 * * * *",
		     "Australia/Lord_Howe",
		     "2026-04-05T01:20:00+11:00",
		     fall_quarter);
	assert_fires("15 1 * * *",
		     "Australia/Lord_Howe",
		     "2026-04-05T00:00:00+11:00",
		     not_repeated);
}

static void
test_cron_dst_singapore(void)
{
	g_autoptr(AiqCron) self = cron("30 2 * * *");
	g_autoptr(GTimeZone) tz = zone("Asia/Singapore");
	gint64 t = ts("2026-01-01T00:00:00+08:00");
	gint64 first = ts("2026-01-01T02:30:00+08:00");

	for (guint i = 0; i < 365; i++) {
		gint64 next = aiq_cron_next(self, tz, t);
		g_assert_cmpint(next, ==, first + (gint64)i * 86400);
		t = next;
	}
}

/* local calendar day number of an instant */
static guint32
local_julian_day(gint64 instant, GTimeZone *tz)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(instant);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(utc, tz);
	GDate date;
	g_date_clear(&date, 1);
	g_date_set_dmy(&date,
		       g_date_time_get_day_of_month(local),
		       g_date_time_get_month(local),
		       g_date_time_get_year(local));
	return g_date_get_julian(&date);
}

static gint
local_minute_of_day(gint64 instant, GTimeZone *tz)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(instant);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(utc, tz);
	return g_date_time_get_hour(local) * 60 + g_date_time_get_minute(local);
}

static gint64
utc_offset(gint64 instant, GTimeZone *tz)
{
	return g_time_zone_get_offset(
		tz,
		g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, instant));
}

static void
test_cron_dst_property(void)
{
	const gchar *zones[] = { "UTC",
				 "Europe/Berlin",
				 "America/New_York",
				 "Australia/Lord_Howe",
				 "Asia/Singapore",
				 "America/Havana", /* DST changes at midnight */
				 "America/Santiago" };
	const struct {
		const gchar *expression;
		gint minute_of_day; /* for daily jobs, else -1 */
	} daily[] = {
		{ "30 2 * * *", 2 * 60 + 30 },   { "0 2 * * *", 2 * 60 },
		{ "45 1 * * *", 60 + 45 },       { "0 0 * * *", 0 },
		{ "59 23 * * *", 23 * 60 + 59 }, { "15 3 * * *", 3 * 60 + 15 },
	};
	const struct {
		const gchar *expression;
		gint64 spacing;
	} intervals[] = {
		{ "*/15 * * * *", 900 },
		{ "* * * * *", 60 },
		{ "*/30 * * * *", 1800 },
		{ "*/5 * * * *", 300 },
	};

	for (guint z = 0; z < G_N_ELEMENTS(zones); z++) {
		g_autoptr(GTimeZone) tz = zone(zones[z]);
		g_autoptr(GDateTime) start_local = g_date_time_new(tz, 2026, 1, 1, 0, 0, 0);
		g_autoptr(GDateTime) end_local = g_date_time_new(tz, 2027, 1, 1, 0, 0, 0);
		gint64 start = g_date_time_to_unix(start_local);
		gint64 end = g_date_time_to_unix(end_local);

		/* fixed-time daily jobs: exactly one fire per local calendar day */
		for (guint e = 0; e < G_N_ELEMENTS(daily); e++) {
			g_autoptr(AiqCron) self = cron(daily[e].expression);
			gint64 t = start - 1;
			gint64 prev = -1;
			guint n = 0;
			while (TRUE) {
				gint64 next = aiq_cron_next(self, tz, t);
				gint minute_of_day;
				g_assert_cmpint(next, >, t);
				if (next >= end)
					break;
				minute_of_day = local_minute_of_day(next, tz);
				if (minute_of_day != daily[e].minute_of_day) {
					/* only when the wall time fell in a gap: at its end */
					g_assert_cmpint(utc_offset(next - 1, tz),
							<,
							utc_offset(next, tz));
					g_assert_cmpint(minute_of_day, >, daily[e].minute_of_day);
				}
				if (prev != -1) {
					g_assert_cmpuint(local_julian_day(next, tz),
							 ==,
							 local_julian_day(prev, tz) + 1);
					g_assert_cmpint(next - prev, >=, 86400 - 3600);
					g_assert_cmpint(next - prev, <=, 86400 + 3600);
				}
				/* consistent when asked from anywhere in between */
				if (prev != -1)
					g_assert_cmpint(aiq_cron_next(self, tz, (prev + next) / 2),
							==,
							next);
				g_assert_cmpint(aiq_cron_next(self, tz, next - 1), ==, next);
				prev = next;
				t = next;
				n++;
			}
			g_assert_cmpuint(n, ==, 365);
		}

		/* interval-like jobs: exact real-time spacing through both transitions */
		for (guint e = 0; e < G_N_ELEMENTS(intervals); e++) {
			g_autoptr(AiqCron) self = cron(intervals[e].expression);
			gint64 t = start - 1;
			gint64 prev = -1;
			guint n = 0;
			while (TRUE) {
				gint64 next = aiq_cron_next(self, tz, t);
				if (next >= end)
					break;
				if (prev != -1)
					g_assert_cmpint(next - prev, ==, intervals[e].spacing);
				else
					g_assert_cmpint(next, ==, start);
				prev = next;
				t = next;
				n++;
			}
			/* a local year of 2026 is 365 days of real time in every zone here */
			g_assert_cmpuint(n, ==, 365 * 86400 / intervals[e].spacing);
		}

		/* hourly: every real hour, except around Lord Howe's half-hour shifts */
		{
			g_autoptr(AiqCron) self = cron("0 * * * *");
			gint64 t = start - 1;
			gint64 prev = -1;
			while (TRUE) {
				gint64 next = aiq_cron_next(self, tz, t);
				if (next >= end)
					break;
				if (prev != -1 && g_strcmp0(zones[z], "Australia/Lord_Howe") != 0)
					g_assert_cmpint(next - prev, ==, 3600);
				else if (prev != -1)
					g_assert_true(next - prev == 1800 || next - prev == 3600 ||
						      next - prev == 5400);
				prev = next;
				t = next;
			}
		}
	}
}

/* random expressions against a minute-by-minute reference */

typedef struct {
	GString *text;
	guint64 masks[5];
} RandomCron;

static const guint field_min[5] = { 0, 0, 1, 1, 0 };
static const guint field_max[5] = { 59, 23, 31, 12, 7 };

static void
random_cron_field(GRand *rand, guint field, GString *text, guint64 *mask)
{
	guint min = field_min[field];
	guint max = field_max[field];
	guint n_items;

	*mask = 0;
	/* mostly `*` in the day and month fields so that schedules fire often */
	if (g_rand_int_range(rand, 0, 100) < (field >= 2 ? 60 : 20)) {
		guint step = g_rand_int_range(rand, 0, 3) == 0 ? g_rand_int_range(rand, 1, 8) : 1;
		if (step == 1)
			g_string_append(text, "*");
		else
			g_string_append_printf(text, "*/%u", step);
		for (guint v = min; v <= max; v += step)
			*mask |= G_GUINT64_CONSTANT(1) << (field == 4 && v == 7 ? 0 : v);
		return;
	}
	n_items = g_rand_int_range(rand, 1, 4);
	for (guint i = 0; i < n_items; i++) {
		guint a = g_rand_int_range(rand, min, max + 1);
		guint b = g_rand_int_range(rand, a, max + 1);
		guint step = g_rand_int_range(rand, 1, MIN(12, max - min + 2));
		guint lo = a;
		guint hi = a;
		if (i > 0)
			g_string_append_c(text, ',');
		switch (g_rand_int_range(rand, 0, 4)) {
		case 0:
			g_string_append_printf(text, "%u", a);
			step = 1;
			break;
		case 1:
			g_string_append_printf(text, "%u-%u", a, b);
			hi = b;
			step = 1;
			break;
		case 2:
			g_string_append_printf(text, "%u-%u/%u", a, b, step);
			hi = b;
			break;
		default:
			g_string_append_printf(text, "%u/%u", a, step);
			hi = max;
			break;
		}
		for (guint v = lo; v <= hi; v += step)
			*mask |= G_GUINT64_CONSTANT(1) << (field == 4 && v == 7 ? 0 : v);
	}
}

static void
random_cron(GRand *rand, RandomCron *rc)
{
	rc->text = g_string_new(NULL);
	for (guint f = 0; f < 5; f++) {
		if (f > 0)
			g_string_append_c(rc->text, ' ');
		random_cron_field(rand, f, rc->text, &rc->masks[f]);
	}
}

/* an independent matcher: gmtime_r() on the wall time */
static gboolean
reference_matches(const RandomCron *rc, gint64 wall)
{
	time_t tt = (time_t)wall;
	struct tm tm;
	gboolean any_dom = rc->masks[2] == 0xfffffffe;
	gboolean any_dow = rc->masks[4] == 0x7f;
	gboolean dom_ok;
	gboolean dow_ok;
	gboolean day_ok;

	g_assert_nonnull(gmtime_r(&tt, &tm));
	dom_ok = (rc->masks[2] >> tm.tm_mday) & 1;
	dow_ok = (rc->masks[4] >> tm.tm_wday) & 1;
	if (!any_dom && !any_dow)
		day_ok = dom_ok || dow_ok;
	else
		day_ok = dom_ok && dow_ok;
	return ((rc->masks[0] >> tm.tm_min) & 1) && ((rc->masks[1] >> tm.tm_hour) & 1) &&
	       ((rc->masks[3] >> (tm.tm_mon + 1)) & 1) && day_ok;
}

/* the rules, spelled out minute by minute over [start, end) */
static GArray *
reference_fires(const RandomCron *rc, GTimeZone *tz, gint64 start, gint64 end)
{
	GArray *fires = g_array_new(FALSE, FALSE, sizeof(gint64));
	gboolean any_hour = rc->masks[1] == 0xffffff;
	gint64 repeat_until = G_MININT64; /* second occurrences run up to here */

	for (gint64 i = start; i < end; i += 60) {
		gint64 offset = utc_offset(i, tz);
		gint64 prev_offset = utc_offset(i - 60, tz);
		gboolean fire = FALSE;
		if (offset > prev_offset) {
			for (gint64 w = i + prev_offset; w < i + offset; w += 60)
				fire = fire || reference_matches(rc, w);
		}
		if (offset < prev_offset)
			repeat_until = i + (prev_offset - offset);
		if (reference_matches(rc, i + offset) && (any_hour || i >= repeat_until))
			fire = TRUE;
		if (fire)
			g_array_append_val(fires, i);
	}
	return fires;
}

static void
test_cron_random_reference(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(20260329);
	const struct {
		const gchar *zone;
		const gchar *around;
	} windows[] = {
		{ "UTC", "2026-02-28T00:00:00Z" },
		{ "Europe/Berlin", "2026-03-29T01:00:00Z" },
		{ "Europe/Berlin", "2026-10-25T01:00:00Z" },
		{ "America/New_York", "2026-03-08T07:00:00Z" },
		{ "America/New_York", "2026-11-01T06:00:00Z" },
		{ "Australia/Lord_Howe", "2026-10-03T15:30:00Z" },
		{ "Australia/Lord_Howe", "2026-04-04T15:00:00Z" },
		{ "America/Santiago", "2026-09-06T04:00:00Z" },
		{ "America/Santiago", "2026-04-05T03:00:00Z" },
	};
	guint n_expressions = g_test_slow() ? 300 : 60;
	guint n_fires = 0;

	for (guint n = 0; n < n_expressions; n++) {
		RandomCron rc = { 0 };
		g_autoptr(AiqCron) self = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *description = NULL;

		random_cron(rand, &rc);
		self = aiq_cron_new(rc.text->str, &error);
		g_assert_no_error(error);
		description = aiq_cron_describe(self);
		g_assert_nonnull(description);
		g_assert_cmpstr(description, !=, "");

		for (guint w = 0; w < G_N_ELEMENTS(windows); w++) {
			g_autoptr(GTimeZone) tz = zone(windows[w].zone);
			gint64 start = ts(windows[w].around) - 36 * 3600;
			gint64 end = ts(windows[w].around) + 36 * 3600;
			g_autoptr(GArray) expected = reference_fires(&rc, tz, start, end);
			gint64 t = start - 1;

			for (guint i = 0; i <= expected->len; i++) {
				gint64 next = aiq_cron_next(self, tz, t);
				gint64 want =
					i < expected->len ? g_array_index(expected, gint64, i) : -1;
				if (want == -1) {
					/* past the window, or never */
					g_assert_true(next == -1 || next >= end);
					break;
				}
				if (next != want) {
					g_autofree gchar *got_str = local_iso(next, tz);
					g_autofree gchar *want_str = local_iso(want, tz);
					g_test_message("“%s” in %s: got %s, want %s",
						       rc.text->str,
						       windows[w].zone,
						       got_str,
						       want_str);
				}
				g_assert_cmpint(next, ==, want);
				/* and from a point between the previous fire and this one */
				if (want - t > 2) {
					gint64 between =
						g_rand_int_range(rand,
								 0,
								 MIN(want - t - 1, G_MAXINT32));
					g_assert_cmpint(aiq_cron_next(self, tz, t + between),
							==,
							want);
				}
				t = next;
				n_fires++;
			}
		}
		g_string_free(rc.text, TRUE);
	}
	g_test_message("%u fires compared", n_fires);
	g_assert_cmpuint(n_fires, >, 1000);
}

static void
test_cron_random_garbage(void)
{
	static const gchar alphabet[] = "0123456789*/-,  \t@JANMONFRIjanmonsatdailyhourly#\xc3\xa9";
	static const gchar *const seeds[] = {
		"*/15 9-17 * * MON-FRI",
		"0 0 1,15 JAN-JUN/2 *",
		"30 2 * * *",
		"5/10 1-5 */3 * 0,7",
		"@daily",
		"0 12 29 2 *",
	};
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);
	g_autoptr(GTimeZone) tz = zone("Australia/Lord_Howe");
	guint n_valid = 0;

	for (guint n = 0; n < 20000; n++) {
		g_autoptr(GString) str = g_string_new(NULL);
		g_autoptr(AiqCron) self = NULL;
		g_autoptr(GError) error = NULL;
		if (g_rand_boolean(rand)) {
			guint len = g_rand_int_range(rand, 0, 40);
			for (guint i = 0; i < len; i++)
				g_string_append_c(
					str,
					alphabet[g_rand_int_range(rand, 0, sizeof(alphabet) - 1)]);
		} else {
			/* a few edits to a valid expression */
			guint edits = g_rand_int_range(rand, 1, 4);
			g_string_append(str, seeds[g_rand_int_range(rand, 0, G_N_ELEMENTS(seeds))]);
			for (guint i = 0; i < edits; i++) {
				guint pos = g_rand_int_range(rand, 0, str->len + 1);
				gchar c = alphabet[g_rand_int_range(rand, 0, sizeof(alphabet) - 1)];
				switch (g_rand_int_range(rand, 0, 3)) {
				case 0:
					g_string_insert_c(str, pos, c);
					break;
				case 1:
					if (pos < str->len)
						g_string_erase(str, pos, 1);
					break;
				default:
					if (pos < str->len)
						str->str[pos] = c;
					break;
				}
			}
		}
		self = aiq_cron_new(str->str, &error);
		if (self == NULL) {
			g_assert_nonnull(error);
			g_assert_true(g_utf8_validate(error->message, -1, NULL));
			continue;
		}
		{
			g_autofree gchar *description = aiq_cron_describe(self);
			gint64 after = ts("2026-03-28T12:00:00Z");
			gint64 next = aiq_cron_next(self, tz, after);
			g_assert_true(next == -1 || next > after);
			g_assert_nonnull(description);
			n_valid++;
		}
	}
	g_test_message("%u valid expressions", n_valid);
	g_assert_cmpuint(n_valid, >, 300);
}

static void
test_cron_describe(void)
{
	const struct {
		const gchar *expression;
		const gchar *description;
	} cases[] = {
		{ "0 2 * * 1-5", "At 02:00 on Monday through Friday" },
		{ "*/15 * * * *", "Every 15 minutes" },
		{ "0 * * * *", "At minute 0 of every hour" },
		{ "@hourly", "At minute 0 of every hour" },
		{ "0 0 1 * *", "At 00:00 on day 1 of the month" },
		{ "@monthly", "At 00:00 on day 1 of the month" },
		{ "* * * * *", "Every minute" },
		{ "@daily", "At 00:00" },
		{ "@weekly", "At 00:00 on Sunday" },
		{ "@yearly", "At 00:00 on day 1 of the month in January" },
		{ "0 0 13 * 5", "At 00:00 on day 13 of the month or on Friday" },
		{ "*/15 9-17 * * 1-5",
		  "Every 15 minutes between 09:00 and 17:59 on Monday through Friday" },
		{ "0 9,17 * * *", "At 09:00 and 17:00" },
		{ "0,30 9 * * *", "At 09:00 and 09:30" },
		{ "5,10 */2 * JAN,JUL *",
		  "At minutes 5 and 10, every 2 hours in January and July" },
		{ "0 0 * * 0,6", "At 00:00 on Sunday and Saturday" },
		{ "0 0 * * 6,7", "At 00:00 on Sunday and Saturday" },
		{ "0 0 1,15 * *", "At 00:00 on days 1 and 15 of the month" },
		{ "0 0 1-10 * *", "At 00:00 on days 1 through 10 of the month" },
		{ "0 0 1,2,5-7 * *", "At 00:00 on days 1, 2 and 5 through 7 of the month" },
		{ "5 * * * *", "At minute 5 of every hour" },
		{ "* 3 * * *", "Every minute during hour 3" },
		{ "0 1,3,7 * * *", "At 01:00, 03:00 and 07:00" },
		{ "0 1,3,7,9,11 * * *", "At minute 0 during hours 1, 3, 7, 9 and 11" },
		{ "*/7 * * * *", "Every 7 minutes from minute 0 through 56 of every hour" },
		{ "1-59/2 * * * *", "Every 2 minutes from minute 1 through 59 of every hour" },
		{ "*/30 * * * *", "Every 30 minutes" },
		{ "0 */12 * * *", "At 00:00 and 12:00" },
		{ "0 */3 * * *", "At minute 0, every 3 hours" },
		{ "0,1,2,3,4 0 * * *", "At minutes 0 through 4 during hour 0" },
		{ "0 0 * 1-12/3 *", "At 00:00 in January, April, July and October" },
		{ "0 0 */2 * *",
		  "At 00:00 on days 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29 and 31 of the month" },
		{ "0 12 * MAR-MAY *", "At 12:00 in March through May" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(AiqCron) self = cron(cases[i].expression);
		g_autofree gchar *description = aiq_cron_describe(self);
		if (g_strcmp0(description, cases[i].description) != 0)
			g_test_message("for “%s”", cases[i].expression);
		g_assert_cmpstr(description, ==, cases[i].description);
	}
}

static void
test_cron_timezone(void)
{
	const gchar *good[] = { "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe" };
	const gchar *bad[] = {
		"Mars/Base",           "/usr/share/zoneinfo/Europe/Berlin", ":Europe/Berlin",
		"../../../etc/passwd", "Europe/../Europe/Berlin",           "\xff\xfe"
	};

	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GTimeZone) tz = aiq_timezone_new(good[i], &error);
		g_assert_no_error(error);
		g_assert_nonnull(tz);
		g_assert_cmpstr(g_time_zone_get_identifier(tz), ==, good[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GTimeZone) tz = aiq_timezone_new(bad[i], &error);
		g_assert_null(tz);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
		g_assert_true(g_utf8_validate(error->message, -1, NULL));
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GTimeZone) tz = aiq_timezone_new("Mars/Base", &error);
		g_assert_null(tz);
		g_assert_cmpstr(error->message, ==, "unknown time zone “Mars/Base”");
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GTimeZone) tz = aiq_timezone_new(NULL, &error);
		g_assert_null(tz);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GTimeZone) tz = aiq_timezone_new("", &error);
		g_assert_null(tz);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	}
}

static void
test_cron_boxed(void)
{
	g_autoptr(AiqCron) self = cron("@daily");
	AiqCron *copy;

	g_assert_true(G_TYPE_IS_BOXED(AIQ_TYPE_CRON));
	copy = g_boxed_copy(AIQ_TYPE_CRON, self);
	g_assert_true(copy == self);
	g_boxed_free(AIQ_TYPE_CRON, copy);
	aiq_cron_unref(aiq_cron_ref(self));
	g_assert_cmpstr(aiq_cron_get_expression(self), ==, "@daily");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/cron/parse/valid", test_cron_parse_valid);
	g_test_add_func("/aiq/cron/parse/names", test_cron_parse_names);
	g_test_add_func("/aiq/cron/parse/ranges-steps-lists", test_cron_parse_ranges_steps_lists);
	g_test_add_func("/aiq/cron/parse/shortcuts", test_cron_parse_shortcuts);
	g_test_add_func("/aiq/cron/parse/errors", test_cron_parse_errors);
	g_test_add_func("/aiq/cron/parse/random-garbage", test_cron_random_garbage);
	g_test_add_func("/aiq/cron/next/basic", test_cron_next_basic);
	g_test_add_func("/aiq/cron/next/month-ends", test_cron_next_month_ends);
	g_test_add_func("/aiq/cron/next/day-or", test_cron_next_day_or);
	g_test_add_func("/aiq/cron/dst/berlin-spring", test_cron_dst_berlin_spring);
	g_test_add_func("/aiq/cron/dst/berlin-fall", test_cron_dst_berlin_fall);
	g_test_add_func("/aiq/cron/dst/new-york", test_cron_dst_new_york);
	g_test_add_func("/aiq/cron/dst/lord-howe", test_cron_dst_lord_howe);
	g_test_add_func("/aiq/cron/dst/singapore", test_cron_dst_singapore);
	g_test_add_func("/aiq/cron/dst/property", test_cron_dst_property);
	g_test_add_func("/aiq/cron/dst/random-reference", test_cron_random_reference);
	g_test_add_func("/aiq/cron/describe", test_cron_describe);
	g_test_add_func("/aiq/cron/timezone", test_cron_timezone);
	g_test_add_func("/aiq/cron/boxed", test_cron_boxed);
	return g_test_run();
}
