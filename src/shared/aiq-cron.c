/*
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * Cron schedules.
 *
 * An expression is parsed into one bitmask per field. A field is
 * "unrestricted" when its mask covers the whole range of the field, however
 * it was written (`*`, `0-23`, `0-7`, or `*` with a step of 1); every rule
 * below that speaks of a field being `*` means exactly that.
 *
 * Day matching follows Vixie cron: when both day-of-month and day-of-week are
 * restricted, a day matches if either matches; when one is unrestricted, only
 * the other counts.
 *
 * Finding the next fire time works in local wall-clock time: the calendar
 * search skips whole months, days and hours that cannot match, and a matching
 * wall time is then mapped to a real instant with the offsets of the time
 * zone. The time zone's history is walked interval by interval (an interval
 * being a span of real time with one UTC offset), and inside one interval the
 * mapping from wall time to instant is a plain subtraction. Where the offset
 * changes, these rules apply:
 *
 *  1. Spring forward (a gap). Wall times inside the gap do not exist, e.g.
 *     02:00–02:59 on the day Europe/Berlin goes from 02:00 to 03:00. A
 *     matching wall time in the gap fires once, at the instant the gap ends
 *     (the transition instant, 03:00 new local time). All matching wall times
 *     of one gap collapse into that single fire, and a schedule that also
 *     matches the first wall time after the gap (03:00) fires only once there
 *     too. No fire is skipped and none is doubled: `30 2 * * *` fires at 03:00
 *     that day, and `0/15 * * * *` (every 15 minutes) fires at 01:45, 03:00,
 *     03:15 — 900 s apart in real time.
 *
 *  2. Fall back (an overlap). Wall times inside the overlap occur twice, e.g.
 *     02:00–02:59 on the day Europe/Berlin goes from 03:00 back to 02:00. A
 *     matching wall time fires once, at its first occurrence (`30 2 * * *`
 *     fires at 02:30 summer time only), EXCEPT when the hour field is
 *     unrestricted: then the schedule is interval-like and fires at both
 *     occurrences, so `0/15 * * * *` keeps firing every 900 s of real time
 *     through the repeated hour, and `0 * * * *` fires every real hour.
 *
 * Only the wall times that repeat right after a backwards transition are
 * treated as second occurrences; a zone whose offset goes back by more than
 * the length of the interval before it is not modelled (none exists).
 * Searches end after about eight years (8 × 366 days), which covers every
 * satisfiable expression, including `0 0 29 2 *` across a century year that
 * is not a leap year; aiq_cron_next() returns -1 beyond that.
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "aiq-cron.h"
#include "aiq-error.h"
#include "aiq-util.h"

#define AIQ_CRON_MAX_LENGTH 256
#define AIQ_CRON_HORIZON ((gint64)8 * 366 * 86400)
/* the largest backwards change of UTC offset looked for before a start instant */
#define AIQ_CRON_MAX_SHIFT ((gint64)48 * 3600)
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
#define AIQ_CRON_UNIX_MIN G_GINT64_CONSTANT(-62135596800)
#define AIQ_CRON_UNIX_MAX G_GINT64_CONSTANT(253402300799)

typedef enum {
	AIQ_CRON_FIELD_MINUTE,
	AIQ_CRON_FIELD_HOUR,
	AIQ_CRON_FIELD_DAY_OF_MONTH,
	AIQ_CRON_FIELD_MONTH,
	AIQ_CRON_FIELD_DAY_OF_WEEK,
	AIQ_CRON_FIELD_LAST
} AiqCronField;

static const gchar *const aiq_cron_month_abbrevs[] = { "JAN", "FEB", "MAR", "APR", "MAY",
						       "JUN", "JUL", "AUG", "SEP", "OCT",
						       "NOV", "DEC", NULL };
static const gchar *const aiq_cron_weekday_abbrevs[] = { "SUN", "MON", "TUE", "WED",
							 "THU", "FRI", "SAT", NULL };

static const struct {
	guint min;
	guint max;
	const gchar *const *names; /* abbreviations for min, min + 1, … */
} aiq_cron_fields[AIQ_CRON_FIELD_LAST] = {
	[AIQ_CRON_FIELD_MINUTE] = { 0, 59, NULL },
	[AIQ_CRON_FIELD_HOUR] = { 0, 23, NULL },
	[AIQ_CRON_FIELD_DAY_OF_MONTH] = { 1, 31, NULL },
	[AIQ_CRON_FIELD_MONTH] = { 1, 12, aiq_cron_month_abbrevs },
	[AIQ_CRON_FIELD_DAY_OF_WEEK] = { 0, 7, aiq_cron_weekday_abbrevs },
};

static const struct {
	const gchar *name;
	const gchar *fields;
} aiq_cron_shortcuts[] = {
	{ "@hourly", "0 * * * *" },   { "@daily", "0 0 * * *" },   { "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },   { "@monthly", "0 0 1 * *" }, { "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

#define AIQ_CRON_MASK_MINUTES ((G_GUINT64_CONSTANT(1) << 60) - 1)
#define AIQ_CRON_MASK_HOURS ((G_GUINT64_CONSTANT(1) << 24) - 1)
#define AIQ_CRON_MASK_DAYS (((G_GUINT64_CONSTANT(1) << 32) - 1) & ~G_GUINT64_CONSTANT(1))
#define AIQ_CRON_MASK_MONTHS (((G_GUINT64_CONSTANT(1) << 13) - 1) & ~G_GUINT64_CONSTANT(1))
#define AIQ_CRON_MASK_WEEKDAYS ((G_GUINT64_CONSTANT(1) << 7) - 1)

struct _AiqCron {
	gint refcount;
	gchar *expression;
	guint64 minutes; /* bits 0-59 */
	guint32 hours;   /* bits 0-23 */
	guint32 days;    /* bits 1-31 */
	guint16 months;  /* bits 1-12 */
	guint8 weekdays; /* bits 0-6, Sunday is 0 */
	gboolean any_hour;
	gboolean any_day;
	gboolean any_weekday;
};

G_DEFINE_BOXED_TYPE(AiqCron, aiq_cron, aiq_cron_ref, aiq_cron_unref)

/* parsing */

static const gchar *
aiq_cron_field_prefix(AiqCronField field)
{
	switch (field) {
	case AIQ_CRON_FIELD_MINUTE:
		/* TRANSLATORS: prefix of an error in the first field of a cron expression */
		return _("minute field: ");
	case AIQ_CRON_FIELD_HOUR:
		return _("hour field: ");
	case AIQ_CRON_FIELD_DAY_OF_MONTH:
		return _("day-of-month field: ");
	case AIQ_CRON_FIELD_MONTH:
		return _("month field: ");
	case AIQ_CRON_FIELD_DAY_OF_WEEK:
		return _("day-of-week field: ");
	case AIQ_CRON_FIELD_LAST:
	default:
		g_assert_not_reached();
	}
	return NULL;
}

static gboolean
aiq_cron_is_digits(const gchar *str)
{
	if (*str == '\0')
		return FALSE;
	for (const gchar *p = str; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p))
			return FALSE;
	}
	return TRUE;
}

/* digits only; values too large to be useful saturate to G_MAXUINT */
static guint
aiq_cron_parse_digits(const gchar *str)
{
	guint64 value = 0;
	for (const gchar *p = str; *p != '\0'; p++) {
		value = value * 10 + (guint)(*p - '0');
		if (value > G_MAXUINT)
			return G_MAXUINT;
	}
	return (guint)value;
}

/* a number or, in the month and day-of-week fields, a name such as JAN or MON */
static gboolean
aiq_cron_parse_value(AiqCronField field,
		     const gchar *token,
		     gboolean *is_name,
		     guint *value,
		     GError **error)
{
	guint min = aiq_cron_fields[field].min;
	guint max = aiq_cron_fields[field].max;
	const gchar *const *names = aiq_cron_fields[field].names;

	if (*token == '\0') {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("a value is missing"));
		return FALSE;
	}
	*is_name = FALSE;
	if (aiq_cron_is_digits(token)) {
		*value = aiq_cron_parse_digits(token);
		if (*value < min || *value > max) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("%s is out of range %u-%u"),
				    token,
				    min,
				    max);
			return FALSE;
		}
		return TRUE;
	}
	if (names != NULL && g_ascii_isalpha(token[0])) {
		const gchar *suggestion;
		for (guint i = 0; names[i] != NULL; i++) {
			if (g_ascii_strcasecmp(token, names[i]) == 0) {
				*value = min + i;
				*is_name = TRUE;
				return TRUE;
			}
		}
		suggestion = strlen(token) <= 16 ? aiq_suggest(token, names) : NULL;
		if (suggestion != NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("unknown name “%s”; did you mean “%s”?"),
				    token,
				    suggestion);
		} else {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("unknown name “%s”; expected %s to %s or a number"),
				    token,
				    names[0],
				    names[g_strv_length((gchar **)names) - 1]);
		}
		return FALSE;
	}
	g_set_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT, _("“%s” is not a number"), token);
	return FALSE;
}

/* one list item: `*`, `a`, `a-b`, each optionally followed by `/step` */
static gboolean
aiq_cron_parse_item(AiqCronField field, const gchar *item, guint64 *mask, GError **error)
{
	guint min = aiq_cron_fields[field].min;
	guint max = aiq_cron_fields[field].max;
	guint lo;
	guint hi;
	guint step = 1;
	const gchar *slash;
	const gchar *dash;
	g_autofree gchar *base = NULL;

	if (*item == '\0') {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("empty item in list"));
		return FALSE;
	}

	slash = strchr(item, '/');
	if (slash != NULL) {
		const gchar *step_str = slash + 1;
		if (*step_str == '\0') {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("a step is missing after “/”"));
			return FALSE;
		}
		if (!aiq_cron_is_digits(step_str)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("step “%s” is not a number"),
				    step_str);
			return FALSE;
		}
		step = aiq_cron_parse_digits(step_str);
		if (step == 0) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("a step of 0 is not allowed"));
			return FALSE;
		}
		if (step > max - min + 1) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("step %s is out of range 1-%u"),
				    step_str,
				    max - min + 1);
			return FALSE;
		}
		base = g_strndup(item, slash - item);
	} else {
		base = g_strdup(item);
	}

	if (g_strcmp0(base, "*") == 0) {
		lo = min;
		hi = max;
	} else {
		gboolean lo_is_name = FALSE;
		gboolean hi_is_name = FALSE;
		dash = strchr(base, '-');
		if (dash != NULL) {
			g_autofree gchar *lo_str = g_strndup(base, dash - base);
			const gchar *hi_str = dash + 1;
			if (*lo_str == '\0' || *hi_str == '\0' || strchr(hi_str, '-') != NULL) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("“%s” is not a range such as 1-5"),
					    base);
				return FALSE;
			}
			if (!aiq_cron_parse_value(field, lo_str, &lo_is_name, &lo, error))
				return FALSE;
			if (!aiq_cron_parse_value(field, hi_str, &hi_is_name, &hi, error))
				return FALSE;
			/* FRI-SUN: Sunday ends a range as 7 */
			if (field == AIQ_CRON_FIELD_DAY_OF_WEEK && hi_is_name && hi == 0)
				hi = 7;
			if (lo > hi) {
				g_set_error(
					error,
					AIQ_ERROR,
					AIQ_ERROR_INVALID_ARGUMENT,
					_("range %s is reversed; write the smaller value first"),
					base);
				return FALSE;
			}
		} else {
			if (!aiq_cron_parse_value(field, base, &lo_is_name, &lo, error))
				return FALSE;
			/* `a/n` means from a to the end of the range */
			hi = slash != NULL ? max : lo;
		}
	}

	for (guint v = lo; v <= hi; v += step) {
		/* 0 and 7 are both Sunday */
		if (field == AIQ_CRON_FIELD_DAY_OF_WEEK && v == 7)
			*mask |= 1;
		else
			*mask |= G_GUINT64_CONSTANT(1) << v;
	}
	return TRUE;
}

static gboolean
aiq_cron_parse_field(AiqCronField field, const gchar *text, guint64 *mask, GError **error)
{
	g_auto(GStrv) items = g_strsplit(text, ",", -1);
	*mask = 0;
	for (guint i = 0; items[i] != NULL; i++) {
		if (!aiq_cron_parse_item(field, items[i], mask, error)) {
			g_prefix_error(error, "%s", aiq_cron_field_prefix(field));
			return FALSE;
		}
	}
	return TRUE;
}

static const gchar *
aiq_cron_lookup_shortcut(const gchar *name, GError **error)
{
	const gchar *names[G_N_ELEMENTS(aiq_cron_shortcuts) + 1] = { NULL };
	const gchar *suggestion;

	for (guint i = 0; i < G_N_ELEMENTS(aiq_cron_shortcuts); i++) {
		if (g_ascii_strcasecmp(name, aiq_cron_shortcuts[i].name) == 0)
			return aiq_cron_shortcuts[i].fields;
		names[i] = aiq_cron_shortcuts[i].name;
	}
	suggestion = strlen(name) <= 32 ? aiq_suggest(name, names) : NULL;
	if (suggestion != NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("unknown shortcut “%s”; did you mean “%s”?"),
			    name,
			    suggestion);
	} else {
		g_set_error(
			error,
			AIQ_ERROR,
			AIQ_ERROR_INVALID_ARGUMENT,
			_("unknown shortcut “%s”; expected @hourly, @daily, @midnight, @weekly, "
			  "@monthly, @yearly or @annually"),
			name);
	}
	return NULL;
}

static guint64
aiq_cron_mask_for(AiqCronField field)
{
	switch (field) {
	case AIQ_CRON_FIELD_MINUTE:
		return AIQ_CRON_MASK_MINUTES;
	case AIQ_CRON_FIELD_HOUR:
		return AIQ_CRON_MASK_HOURS;
	case AIQ_CRON_FIELD_DAY_OF_MONTH:
		return AIQ_CRON_MASK_DAYS;
	case AIQ_CRON_FIELD_MONTH:
		return AIQ_CRON_MASK_MONTHS;
	case AIQ_CRON_FIELD_DAY_OF_WEEK:
		return AIQ_CRON_MASK_WEEKDAYS;
	case AIQ_CRON_FIELD_LAST:
	default:
		g_assert_not_reached();
	}
	return 0;
}

/**
 * aiq_cron_new:
 * @expression: five fields `minute hour day-of-month month day-of-week`, or a
 *   shortcut such as `@daily`
 * @error: return location for an error
 *
 * Parses a cron expression. Fields are separated by spaces or tabs; each field
 * is a comma-separated list of `*`, `a` and `a-b`, each optionally followed by
 * a step `/n`; `a/n` runs from a to the end of the range. Months may be written JAN–DEC and
 * days of the week SUN–SAT, in any case; 0 and 7 are both Sunday.
 *
 * Returns: (transfer full): a new #AiqCron, or %NULL with @error set
 */
AiqCron *
aiq_cron_new(const gchar *expression, GError **error)
{
	g_autoptr(AiqCron) self = NULL;
	g_autofree gchar *copy = NULL;
	g_auto(GStrv) tokens = NULL;
	g_autoptr(GPtrArray) fields = g_ptr_array_new();
	guint64 masks[AIQ_CRON_FIELD_LAST] = { 0 };
	const gchar *text;

	if (expression == NULL || *expression == '\0') {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("the cron expression is empty"));
		return NULL;
	}
	if (strlen(expression) > AIQ_CRON_MAX_LENGTH) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("the cron expression is longer than %u characters"),
			    (guint)AIQ_CRON_MAX_LENGTH);
		return NULL;
	}
	if (!g_utf8_validate(expression, -1, NULL)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("the cron expression is not valid UTF-8"));
		return NULL;
	}

	copy = g_strstrip(g_strdup(expression));
	if (*copy == '\0') {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("the cron expression is empty"));
		return NULL;
	}
	text = copy;
	if (copy[0] == '@') {
		text = aiq_cron_lookup_shortcut(copy, error);
		if (text == NULL)
			return NULL;
	}

	tokens = g_strsplit_set(text, " \t", -1);
	for (guint i = 0; tokens[i] != NULL; i++) {
		if (tokens[i][0] != '\0')
			g_ptr_array_add(fields, tokens[i]);
	}
	if (fields->len != AIQ_CRON_FIELD_LAST) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    g_dngettext(GETTEXT_PACKAGE,
					"expected 5 fields, got %u; the fields are minute, hour, "
					"day-of-month, month and day-of-week",
					"expected 5 fields, got %u; the fields are minute, hour, "
					"day-of-month, month and day-of-week",
					fields->len),
			    fields->len);
		return NULL;
	}
	for (guint i = 0; i < AIQ_CRON_FIELD_LAST; i++) {
		if (!aiq_cron_parse_field(i, g_ptr_array_index(fields, i), &masks[i], error))
			return NULL;
	}

	self = g_new0(AiqCron, 1);
	self->refcount = 1;
	self->expression = g_strdup(expression);
	self->minutes = masks[AIQ_CRON_FIELD_MINUTE];
	self->hours = (guint32)masks[AIQ_CRON_FIELD_HOUR];
	self->days = (guint32)masks[AIQ_CRON_FIELD_DAY_OF_MONTH];
	self->months = (guint16)masks[AIQ_CRON_FIELD_MONTH];
	self->weekdays = (guint8)masks[AIQ_CRON_FIELD_DAY_OF_WEEK];
	self->any_hour = self->hours == aiq_cron_mask_for(AIQ_CRON_FIELD_HOUR);
	self->any_day = self->days == aiq_cron_mask_for(AIQ_CRON_FIELD_DAY_OF_MONTH);
	self->any_weekday = self->weekdays == aiq_cron_mask_for(AIQ_CRON_FIELD_DAY_OF_WEEK);
	return g_steal_pointer(&self);
}

AiqCron *
aiq_cron_ref(AiqCron *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_int_inc(&self->refcount);
	return self;
}

void
aiq_cron_unref(AiqCron *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_int_dec_and_test(&self->refcount))
		return;
	g_free(self->expression);
	g_free(self);
}

/**
 * aiq_cron_get_expression:
 *
 * Returns: the expression exactly as it was given to aiq_cron_new()
 */
const gchar *
aiq_cron_get_expression(AiqCron *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->expression;
}

/* calendar arithmetic on a proleptic Gregorian calendar, days since 1970-01-01 */

static gint64
aiq_cron_floor_div(gint64 a, gint64 b)
{
	gint64 q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static gint64
aiq_cron_days_from_civil(gint64 y, guint m, guint d)
{
	gint64 era;
	gint64 yoe;
	gint64 doy;
	gint64 doe;

	y -= m <= 2;
	era = aiq_cron_floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
aiq_cron_civil_from_days(gint64 z, gint64 *y, guint *m, guint *d)
{
	gint64 era;
	gint64 doe;
	gint64 yoe;
	gint64 doy;
	gint64 mp;

	z += 719468;
	era = aiq_cron_floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (guint)(doy - (153 * mp + 2) / 5 + 1);
	*m = (guint)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* 0 is Sunday; 1970-01-01 was a Thursday */
static guint
aiq_cron_weekday_from_days(gint64 z)
{
	return (guint)(aiq_cron_floor_div(z, 7) * -7 + z + 4) % 7;
}

static gint
aiq_cron_next_bit(guint64 mask, guint from, guint max)
{
	for (guint v = from; v <= max; v++) {
		if (mask & (G_GUINT64_CONSTANT(1) << v))
			return (gint)v;
	}
	return -1;
}

static gboolean
aiq_cron_day_matches(AiqCron *self, gint64 day, guint dom)
{
	gboolean dom_ok = (self->days & (1u << dom)) != 0;
	gboolean dow_ok = (self->weekdays & (1u << aiq_cron_weekday_from_days(day))) != 0;
	if (!self->any_day && !self->any_weekday)
		return dom_ok || dow_ok;
	if (!self->any_day)
		return dom_ok;
	if (!self->any_weekday)
		return dow_ok;
	return TRUE;
}

/*
 * Finds the first matching wall time in [lo, hi). Wall times are seconds since
 * 1970-01-01T00:00 on a clock that never changes offset; results are whole
 * minutes. Skips whole months, days and hours that cannot match.
 */
static gboolean
aiq_cron_find_wall(AiqCron *self, gint64 lo, gint64 hi, gint64 *result)
{
	gint64 w = -aiq_cron_floor_div(-lo, 60) * 60;

	while (w < hi) {
		gint64 day = aiq_cron_floor_div(w, 86400);
		gint64 sec = w - day * 86400;
		guint hour = (guint)(sec / 3600);
		guint minute = (guint)(sec % 3600 / 60);
		gint64 year;
		guint month;
		guint dom;
		gint next;

		aiq_cron_civil_from_days(day, &year, &month, &dom);
		if ((self->months & (1u << month)) == 0) {
			/* the first day of the next month */
			w = aiq_cron_days_from_civil(month == 12 ? year + 1 : year,
						     month == 12 ? 1 : month + 1,
						     1) *
			    86400;
			continue;
		}
		if (!aiq_cron_day_matches(self, day, dom)) {
			w = (day + 1) * 86400;
			continue;
		}
		next = aiq_cron_next_bit(self->hours, hour, 23);
		if (next < 0) {
			w = (day + 1) * 86400;
			continue;
		}
		if ((guint)next != hour) {
			w = day * 86400 + next * 3600;
			continue;
		}
		next = aiq_cron_next_bit(self->minutes, minute, 59);
		if (next < 0) {
			w = day * 86400 + (hour + 1) * 3600;
			continue;
		}
		w = day * 86400 + hour * 3600 + next * 60;
		if (w >= hi)
			return FALSE;
		*result = w;
		return TRUE;
	}
	return FALSE;
}

/* time zone intervals */

static gint
aiq_cron_interval(GTimeZone *tz, gint64 instant)
{
	return g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, instant);
}

static gint64
aiq_cron_offset(GTimeZone *tz, gint64 instant)
{
	return g_time_zone_get_offset(tz, aiq_cron_interval(tz, instant));
}

/*
 * The first instant in (lo, hi] whose interval is @target or later, where the
 * interval of @lo is before @target and that of @hi is not. Intervals only
 * grow with time, so this is a bisection.
 */
static gint64
aiq_cron_find_interval_start(GTimeZone *tz, gint64 lo, gint64 hi, gint target)
{
	g_assert(aiq_cron_interval(tz, lo) < target);
	g_assert(aiq_cron_interval(tz, hi) >= target);
	while (hi - lo > 1) {
		gint64 mid = lo + (hi - lo) / 2;
		if (aiq_cron_interval(tz, mid) >= target)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/**
 * aiq_cron_next:
 * @self: a #AiqCron
 * @tz: (nullable): the time zone the expression is read in, %NULL for UTC
 * @after: Unix time in seconds
 *
 * Finds the first time the schedule fires strictly after @after. Wall times
 * that fall in a daylight-saving gap fire once when the gap ends; wall times
 * that occur twice fire at their first occurrence, or at both when the hour
 * field is `*`.
 *
 * Returns: Unix time in seconds, or -1 if the schedule does not fire within
 * about eight years of @after
 */
gint64
aiq_cron_next(AiqCron *self, GTimeZone *tz, gint64 after)
{
	g_autoptr(GTimeZone) utc = NULL;
	gint64 t;
	gint64 limit;
	gint64 seg_start;
	gint64 prev_offset;
	gint64 offset;
	gint64 window = 86400;
	gint idx;

	g_return_val_if_fail(self != NULL, -1);

	if (tz == NULL)
		tz = utc = g_time_zone_new_utc();
	if (after < AIQ_CRON_UNIX_MIN || after >= AIQ_CRON_UNIX_MAX)
		return -1;
	t = after + 1;
	limit = MIN(after + AIQ_CRON_HORIZON, AIQ_CRON_UNIX_MAX);

	/* the segment of constant offset that holds t: where it started and the
	 * offset before it, as far as the rules above need to know */
	idx = aiq_cron_interval(tz, t);
	offset = g_time_zone_get_offset(tz, idx);
	seg_start = t;
	prev_offset = offset;
	if (aiq_cron_interval(tz, t - 1) != idx) {
		prev_offset = aiq_cron_offset(tz, t - 1);
	} else if (!self->any_hour && aiq_cron_interval(tz, t - AIQ_CRON_MAX_SHIFT) != idx) {
		seg_start = aiq_cron_find_interval_start(tz, t - AIQ_CRON_MAX_SHIFT, t, idx);
		prev_offset = aiq_cron_offset(tz, seg_start - 1);
	}

	while (t <= limit) {
		gint64 probe = MIN(t + window, limit + 1);
		gint64 chunk_end = probe;
		gint64 wall;
		gint64 wall_lo;
		gint next_idx;

		/* [t, chunk_end) has one offset */
		if (aiq_cron_interval(tz, probe) != idx)
			chunk_end = aiq_cron_find_interval_start(tz, t, probe, idx + 1);

		/* rule 1: matching wall times in a gap fire when the gap ends */
		if (seg_start == t && prev_offset < offset &&
		    aiq_cron_find_wall(self, seg_start + prev_offset, seg_start + offset, &wall))
			return t;

		/* rule 2: wall times repeated after a fall back fire again only
		 * for an unrestricted hour field */
		wall_lo = t + offset;
		if (prev_offset > offset && !self->any_hour)
			wall_lo = MAX(wall_lo, seg_start + prev_offset);
		if (aiq_cron_find_wall(self, wall_lo, chunk_end + offset, &wall))
			return wall - offset <= limit ? wall - offset : -1;

		next_idx = aiq_cron_interval(tz, chunk_end);
		if (next_idx != idx) {
			seg_start = chunk_end;
			prev_offset = offset;
			idx = next_idx;
			offset = g_time_zone_get_offset(tz, idx);
			window = 86400;
		} else {
			window = MIN(window * 2, (gint64)64 * 86400);
		}
		t = chunk_end;
	}
	return -1;
}

/* descriptions */

static const gchar *const aiq_cron_month_names[] = {
	NC_("month", "January"), NC_("month", "February"), NC_("month", "March"),
	NC_("month", "April"),   NC_("month", "May"),      NC_("month", "June"),
	NC_("month", "July"),    NC_("month", "August"),   NC_("month", "September"),
	NC_("month", "October"), NC_("month", "November"), NC_("month", "December")
};

static const gchar *const aiq_cron_weekday_names[] = {
	NC_("weekday", "Sunday"),    NC_("weekday", "Monday"),   NC_("weekday", "Tuesday"),
	NC_("weekday", "Wednesday"), NC_("weekday", "Thursday"), NC_("weekday", "Friday"),
	NC_("weekday", "Saturday")
};

typedef enum {
	AIQ_CRON_NAMES_NUMBER,
	AIQ_CRON_NAMES_MONTH,
	AIQ_CRON_NAMES_WEEKDAY,
} AiqCronNames;

static gchar *
aiq_cron_value_to_string(guint value, AiqCronNames names)
{
	switch (names) {
	case AIQ_CRON_NAMES_MONTH:
		return g_strdup(
			g_dpgettext2(GETTEXT_PACKAGE, "month", aiq_cron_month_names[value - 1]));
	case AIQ_CRON_NAMES_WEEKDAY:
		return g_strdup(
			g_dpgettext2(GETTEXT_PACKAGE, "weekday", aiq_cron_weekday_names[value]));
	case AIQ_CRON_NAMES_NUMBER:
	default:
		return g_strdup_printf("%u", value);
	}
}

static guint
aiq_cron_count_bits(guint64 mask)
{
	guint n = 0;
	for (; mask != 0; mask &= mask - 1)
		n++;
	return n;
}

/* "1, 5 and 10 through 20", "Monday through Friday", "January and July" */
static gchar *
aiq_cron_format_set(guint64 mask, guint min, guint max, AiqCronNames names)
{
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *head = NULL;
	guint v = min;

	while (v <= max) {
		guint end;
		if ((mask & (G_GUINT64_CONSTANT(1) << v)) == 0) {
			v++;
			continue;
		}
		end = v;
		while (end + 1 <= max && (mask & (G_GUINT64_CONSTANT(1) << (end + 1))) != 0)
			end++;
		if (end >= v + 2) {
			g_autofree gchar *a = aiq_cron_value_to_string(v, names);
			g_autofree gchar *b = aiq_cron_value_to_string(end, names);
			/* TRANSLATORS: a range of values, e.g. "Monday through Friday" */
			g_ptr_array_add(items, g_strdup_printf(_("%s through %s"), a, b));
		} else {
			for (guint i = v; i <= end; i++)
				g_ptr_array_add(items, aiq_cron_value_to_string(i, names));
		}
		v = end + 1;
	}

	if (items->len == 0)
		return g_strdup("");
	head = g_strdup(g_ptr_array_index(items, 0));
	for (guint i = 1; i < items->len; i++) {
		g_autofree gchar *tmp = g_steal_pointer(&head);
		if (i + 1 == items->len) {
			/* TRANSLATORS: the last two items of a list, e.g. "1, 5 and 9" */
			head = g_strdup_printf(_("%s and %s"),
					       tmp,
					       (const gchar *)g_ptr_array_index(items, i));
		} else {
			/* TRANSLATORS: items of a list, e.g. "1, 5 and 9" */
			head = g_strdup_printf(_("%s, %s"),
					       tmp,
					       (const gchar *)g_ptr_array_index(items, i));
		}
	}
	return g_steal_pointer(&head);
}

/*
 * The step n when @mask is exactly first, first + n, first + 2n, … last, with
 * n > 1 and at least three values (or two that split the range evenly); 0
 * otherwise.
 */
static guint
aiq_cron_step_of(guint64 mask, guint max, guint *first, guint *last)
{
	gint lo = aiq_cron_next_bit(mask, 0, max);
	gint second;
	guint step;
	guint64 expected = 0;
	guint v;

	if (lo < 0)
		return 0;
	second = aiq_cron_next_bit(mask, (guint)lo + 1, max);
	if (second < 0)
		return 0;
	step = (guint)(second - lo);
	if (step < 2)
		return 0;
	for (v = (guint)lo; v <= max && (mask & (G_GUINT64_CONSTANT(1) << v)) != 0; v += step)
		expected |= G_GUINT64_CONSTANT(1) << v;
	if (expected != mask)
		return 0;
	/* two values only make a step when they split the range evenly: 0,30 */
	if (aiq_cron_count_bits(mask) < 3 && !(lo == 0 && v == max + 1))
		return 0;
	*first = (guint)lo;
	*last = v - step;
	return step;
}

/**
 * aiq_cron_describe:
 *
 * Returns: (transfer full): a short description in the user's language, such
 * as "At 02:00 on Monday through Friday" or "Every 15 minutes"
 */
gchar *
aiq_cron_describe(AiqCron *self)
{
	GString *str;
	guint n_minutes;
	guint n_hours;
	guint minute_step;
	guint minute_first = 0;
	guint minute_last = 0;
	gboolean any_minute;
	gboolean at_minute = FALSE;
	gboolean times_done = FALSE;

	g_return_val_if_fail(self != NULL, NULL);

	str = g_string_new(NULL);
	any_minute = self->minutes == AIQ_CRON_MASK_MINUTES;
	n_minutes = aiq_cron_count_bits(self->minutes);
	n_hours = aiq_cron_count_bits(self->hours);
	minute_step = aiq_cron_step_of(self->minutes, 59, &minute_first, &minute_last);

	/* minutes, and hours where they fold into times of day */
	if (any_minute) {
		g_string_append(str, _("Every minute"));
	} else if (!self->any_hour && n_minutes * n_hours <= 4) {
		g_autoptr(GPtrArray) times = g_ptr_array_new_with_free_func(g_free);
		g_autofree gchar *list = NULL;
		for (guint h = 0; h < 24; h++) {
			if ((self->hours & (1u << h)) == 0)
				continue;
			for (guint m = 0; m < 60; m++) {
				if (self->minutes & (G_GUINT64_CONSTANT(1) << m))
					g_ptr_array_add(times, g_strdup_printf("%02u:%02u", h, m));
			}
		}
		list = g_strdup(g_ptr_array_index(times, 0));
		for (guint i = 1; i < times->len; i++) {
			g_autofree gchar *tmp = g_steal_pointer(&list);
			list = g_strdup_printf(i + 1 == times->len ? _("%s and %s") : _("%s, %s"),
					       tmp,
					       (const gchar *)g_ptr_array_index(times, i));
		}
		/* TRANSLATORS: %s is one or more times of day, e.g. "At 02:00" */
		g_string_append_printf(str, _("At %s"), list);
		times_done = TRUE;
	} else if (minute_step != 0 && minute_first == 0 && 60 % minute_step == 0 &&
		   minute_last + minute_step == 60) {
		g_string_append_printf(str,
				       g_dngettext(GETTEXT_PACKAGE,
						   "Every %u minute",
						   "Every %u minutes",
						   minute_step),
				       minute_step);
	} else if (minute_step != 0) {
		/* TRANSLATORS: e.g. "Every 2 minutes from minute 1 through 59" */
		g_string_append_printf(str,
				       g_dngettext(GETTEXT_PACKAGE,
						   "Every %u minute from minute %u through %u",
						   "Every %u minutes from minute %u through %u",
						   minute_step),
				       minute_step,
				       minute_first,
				       minute_last);
		at_minute = TRUE;
	} else {
		g_autofree gchar *list =
			aiq_cron_format_set(self->minutes, 0, 59, AIQ_CRON_NAMES_NUMBER);
		g_string_append_printf(
			str,
			g_dngettext(GETTEXT_PACKAGE, "At minute %s", "At minutes %s", n_minutes),
			list);
		at_minute = TRUE;
	}

	/* hours */
	if (!times_done) {
		guint hour_first = 0;
		guint hour_last = 0;
		guint hour_step = aiq_cron_step_of(self->hours, 23, &hour_first, &hour_last);
		gint first = aiq_cron_next_bit(self->hours, 0, 23);
		guint last = (guint)first + n_hours - 1;
		gboolean contiguous = first >= 0 && (self->hours >> first) ==
							    (G_GUINT64_CONSTANT(1) << n_hours) - 1;
		if (self->any_hour) {
			if (at_minute)
				g_string_append(str, _(" of every hour"));
		} else if (hour_step != 0 && hour_first == 0 && 24 % hour_step == 0 &&
			   hour_last + hour_step == 24) {
			g_string_append_printf(str,
					       g_dngettext(GETTEXT_PACKAGE,
							   ", every %u hour",
							   ", every %u hours",
							   hour_step),
					       hour_step);
		} else if (contiguous && n_hours >= 2) {
			/* TRANSLATORS: a span of the day, e.g. " between 09:00 and 17:59" */
			g_string_append_printf(str,
					       _(" between %02u:00 and %02u:59"),
					       (guint)first,
					       last);
		} else {
			g_autofree gchar *list =
				aiq_cron_format_set(self->hours, 0, 23, AIQ_CRON_NAMES_NUMBER);
			g_string_append_printf(str,
					       g_dngettext(GETTEXT_PACKAGE,
							   " during hour %s",
							   " during hours %s",
							   n_hours),
					       list);
		}
	}

	/* days */
	if (!self->any_day) {
		g_autofree gchar *list =
			aiq_cron_format_set(self->days, 1, 31, AIQ_CRON_NAMES_NUMBER);
		g_string_append_printf(str,
				       g_dngettext(GETTEXT_PACKAGE,
						   " on day %s of the month",
						   " on days %s of the month",
						   aiq_cron_count_bits(self->days)),
				       list);
	}
	if (!self->any_weekday) {
		g_autofree gchar *list =
			aiq_cron_format_set(self->weekdays, 0, 6, AIQ_CRON_NAMES_WEEKDAY);
		if (!self->any_day) {
			/* TRANSLATORS: after " on day 1 of the month", e.g. " or on Monday" */
			g_string_append_printf(str, _(" or on %s"), list);
		} else {
			/* TRANSLATORS: days of the week, e.g. " on Monday through Friday" */
			g_string_append_printf(str, _(" on %s"), list);
		}
	}

	/* months */
	if (self->months != AIQ_CRON_MASK_MONTHS) {
		g_autofree gchar *list =
			aiq_cron_format_set(self->months, 1, 12, AIQ_CRON_NAMES_MONTH);
		/* TRANSLATORS: months, e.g. " in January and July" */
		g_string_append_printf(str, _(" in %s"), list);
	}

	return g_string_free(str, FALSE);
}

/**
 * aiq_timezone_new:
 * @identifier: `UTC`, an IANA name such as `Europe/Berlin`, or a fixed offset
 *   such as `+05:30`
 * @error: return location for an error
 *
 * Unlike g_time_zone_new_identifier(), file paths are refused: a time zone
 * names an entry of the system database, never an arbitrary file.
 *
 * Returns: (transfer full): a time zone, or %NULL with @error set
 */
GTimeZone *
aiq_timezone_new(const gchar *identifier, GError **error)
{
	GTimeZone *tz = NULL;

	if (identifier == NULL || *identifier == '\0') {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("no time zone was given"));
		return NULL;
	}
	if (strlen(identifier) <= 64 && g_utf8_validate(identifier, -1, NULL) &&
	    identifier[0] != '/' && identifier[0] != ':' && strstr(identifier, "..") == NULL)
		tz = g_time_zone_new_identifier(identifier);
	if (tz == NULL) {
		g_autofree gchar *shown =
			g_utf8_make_valid(identifier, MIN(strlen(identifier), 64));
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("unknown time zone “%s”"),
			    shown);
		return NULL;
	}
	return tz;
}
