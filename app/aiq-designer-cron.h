/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gchar *
aiq_designer_cron_format_time(gint64 unix_s, GTimeZone *tz);
GStrv
aiq_designer_cron_preview(const gchar *expression,
			  const gchar *timezone,
			  gint64 after,
			  guint n,
			  gchar **description,
			  GError **error);

G_END_DECLS
