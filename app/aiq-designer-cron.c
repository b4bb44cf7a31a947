/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include "aiq-cron.h"
#include "aiq-designer-cron.h"

/**
 * aiq_designer_cron_format_time:
 * @unix_s: Unix time in seconds
 * @tz: (nullable): the zone to show it in, %NULL for UTC
 *
 * Returns: (transfer full): e.g. `Mon 2026-11-23 02:00 +08`, or
 *   `+05:30` for an offset that is not whole hours
 */
gchar *
aiq_designer_cron_format_time(gint64 unix_s, GTimeZone *tz)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(unix_s);
	g_autoptr(GDateTime) local = NULL;
	g_autofree gchar *when = NULL;
	gint64 offset;
	gint64 abs_offset;

	if (utc == NULL)
		return g_strdup("?");
	local = tz != NULL ? g_date_time_to_timezone(utc, tz) : g_date_time_ref(utc);
	when = g_date_time_format(local, "%a %Y-%m-%d %H:%M");
	offset = g_date_time_get_utc_offset(local) / G_TIME_SPAN_SECOND;
	abs_offset = ABS(offset);
	if (abs_offset % 3600 == 0)
		return g_strdup_printf("%s %c%02d",
				       when,
				       offset < 0 ? '-' : '+',
				       (gint)(abs_offset / 3600));
	return g_strdup_printf("%s %c%02d:%02d",
			       when,
			       offset < 0 ? '-' : '+',
			       (gint)(abs_offset / 3600),
			       (gint)(abs_offset % 3600 / 60));
}

/**
 * aiq_designer_cron_preview:
 * @timezone: (nullable): an IANA name; %NULL or empty for UTC
 * @after: Unix time in seconds
 * @n: how many fire times
 * @description: (out) (optional): the schedule in words
 *
 * Returns: (transfer full): up to @n fire times after @after, formatted
 *   with aiq_designer_cron_format_time(), or %NULL with @error
 */
GStrv
aiq_designer_cron_preview(const gchar *expression,
			  const gchar *timezone,
			  gint64 after,
			  guint n,
			  gchar **description,
			  GError **error)
{
	g_autoptr(AiqCron) cron = NULL;
	g_autoptr(GTimeZone) tz = NULL;
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	gint64 t = after;

	cron = aiq_cron_new(expression != NULL ? expression : "", error);
	if (cron == NULL)
		return NULL;
	if (timezone == NULL || timezone[0] == '\0')
		tz = g_time_zone_new_utc();
	else
		tz = aiq_timezone_new(timezone, error);
	if (tz == NULL)
		return NULL;
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *text = NULL;
		t = aiq_cron_next(cron, tz, t);
		if (t < 0)
			break;
		text = aiq_designer_cron_format_time(t, tz);
		g_strv_builder_add(builder, text);
	}
	if (description != NULL)
		*description = aiq_cron_describe(cron);
	return g_strv_builder_end(builder);
}
