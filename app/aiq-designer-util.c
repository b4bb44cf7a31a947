/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <inttypes.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "aiq-designer-util.h"

gboolean
aiq_designer_error_is_cancelled(const GError *error)
{
	return error != NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/**
 * aiq_designer_show_toast:
 * @widget: any widget inside the window's toast overlay
 */
void
aiq_designer_show_toast(GtkWidget *widget, const gchar *message)
{
	GtkWidget *overlay;
	AdwToast *toast;

	g_return_if_fail(GTK_IS_WIDGET(widget));
	g_return_if_fail(message != NULL);
	overlay = gtk_widget_get_ancestor(widget, ADW_TYPE_TOAST_OVERLAY);
	if (overlay == NULL) {
		g_message("%s", message);
		return;
	}
	toast = adw_toast_new(message);
	adw_toast_set_timeout(toast, 5);
	adw_toast_overlay_add_toast(ADW_TOAST_OVERLAY(overlay), toast);
}

/**
 * aiq_designer_show_error:
 *
 * Shows an error as a toast; a cancellation (the user went elsewhere) is
 * not an error and shows nothing.
 */
void
aiq_designer_show_error(GtkWidget *widget, const GError *error)
{
	g_return_if_fail(GTK_IS_WIDGET(widget));
	g_return_if_fail(error != NULL);
	if (aiq_designer_error_is_cancelled(error))
		return;
	aiq_designer_show_toast(widget, error->message);
}

const gchar *
aiq_designer_status_to_label(const gchar *status)
{
	if (g_strcmp0(status, "queued") == 0)
		return C_("status", "Queued");
	if (g_strcmp0(status, "running") == 0)
		return C_("status", "Running");
	if (g_strcmp0(status, "succeeded") == 0)
		return C_("status", "Succeeded");
	if (g_strcmp0(status, "failed") == 0)
		return C_("status", "Failed");
	if (g_strcmp0(status, "cancelled") == 0)
		return C_("status", "Cancelled");
	if (g_strcmp0(status, "timed_out") == 0)
		return C_("status", "Timed Out");
	if (g_strcmp0(status, "skipped") == 0)
		return C_("status", "Skipped");
	if (g_strcmp0(status, "pending") == 0)
		return C_("status", "Pending");
	if (g_strcmp0(status, "online") == 0)
		return C_("status", "Online");
	if (g_strcmp0(status, "offline") == 0)
		return C_("status", "Offline");
	if (g_strcmp0(status, "disabled") == 0)
		return C_("status", "Disabled");
	return C_("status", "Unknown");
}

const gchar *
aiq_designer_status_to_icon_name(const gchar *status)
{
	if (g_strcmp0(status, "queued") == 0 || g_strcmp0(status, "pending") == 0)
		return "content-loading-symbolic";
	if (g_strcmp0(status, "running") == 0)
		return "media-playback-start-symbolic";
	if (g_strcmp0(status, "succeeded") == 0 || g_strcmp0(status, "online") == 0)
		return "emblem-ok-symbolic";
	if (g_strcmp0(status, "failed") == 0 || g_strcmp0(status, "timed_out") == 0)
		return "dialog-error-symbolic";
	if (g_strcmp0(status, "cancelled") == 0 || g_strcmp0(status, "disabled") == 0)
		return "action-unavailable-symbolic";
	if (g_strcmp0(status, "skipped") == 0)
		return "media-skip-forward-symbolic";
	return "dialog-question-symbolic";
}

/* the style class data/ui/style.css colours a status with */
const gchar *
aiq_designer_status_to_css_class(const gchar *status)
{
	if (g_strcmp0(status, "succeeded") == 0 || g_strcmp0(status, "online") == 0)
		return "success";
	if (g_strcmp0(status, "failed") == 0 || g_strcmp0(status, "timed_out") == 0)
		return "error";
	if (g_strcmp0(status, "running") == 0)
		return "accent";
	if (g_strcmp0(status, "cancelled") == 0 || g_strcmp0(status, "queued") == 0)
		return "warning";
	return "dim-label";
}

gboolean
aiq_designer_status_is_final(const gchar *status)
{
	return g_strcmp0(status, "succeeded") == 0 || g_strcmp0(status, "failed") == 0 ||
	       g_strcmp0(status, "cancelled") == 0 || g_strcmp0(status, "timed_out") == 0 ||
	       g_strcmp0(status, "skipped") == 0;
}

/* µs since the epoch, 0 for a missing or bad time */
gint64
aiq_designer_parse_time(const gchar *rfc3339)
{
	g_autoptr(GDateTime) dt = NULL;
	if (rfc3339 == NULL || rfc3339[0] == '\0')
		return 0;
	dt = g_date_time_new_from_iso8601(rfc3339, NULL);
	return dt != NULL
		       ? g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt)
		       : 0;
}

/**
 * aiq_designer_format_time:
 *
 * Returns: (transfer full): a time for people, in local time: "14:03:12"
 *   today, "Mon 14:03" this week, "2026-11-02 14:03" before
 */
gchar *
aiq_designer_format_time(const gchar *rfc3339)
{
	g_autoptr(GDateTime) utc = NULL;
	g_autoptr(GDateTime) local = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	GTimeSpan age;

	if (rfc3339 == NULL || rfc3339[0] == '\0')
		return g_strdup("—");
	utc = g_date_time_new_from_iso8601(rfc3339, NULL);
	if (utc == NULL)
		return g_strdup(rfc3339);
	local = g_date_time_to_local(utc);
	age = g_date_time_difference(now, local);
	if (g_date_time_get_day_of_year(now) == g_date_time_get_day_of_year(local) &&
	    g_date_time_get_year(now) == g_date_time_get_year(local))
		return g_date_time_format(local, "%H:%M:%S");
	if (age >= 0 && age < 6 * G_TIME_SPAN_DAY)
		return g_date_time_format(local, "%a %H:%M");
	return g_date_time_format(local, "%Y-%m-%d %H:%M");
}

gchar *
aiq_designer_format_duration(gint64 ms)
{
	if (ms < 0)
		return g_strdup("—");
	if (ms < 1000)
		/* TRANSLATORS: a duration in milliseconds */
		return g_strdup_printf(_("%" PRId64 " ms"), ms);
	if (ms < 60 * 1000)
		/* TRANSLATORS: a duration in seconds */
		return g_strdup_printf(_("%.1f s"), ms / 1000.0);
	if (ms < 3600 * 1000)
		/* TRANSLATORS: a duration in minutes and seconds */
		return g_strdup_printf(_("%" PRId64 " min %" PRId64 " s"),
				       ms / 60000,
				       (ms / 1000) % 60);
	/* TRANSLATORS: a duration in hours and minutes */
	return g_strdup_printf(_("%" PRId64 " h %" PRId64 " min"), ms / 3600000, (ms / 60000) % 60);
}
