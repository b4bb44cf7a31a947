/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void
aiq_designer_show_toast(GtkWidget *widget, const gchar *message);
void
aiq_designer_show_error(GtkWidget *widget, const GError *error);
gboolean
aiq_designer_error_is_cancelled(const GError *error);

const gchar *
aiq_designer_status_to_label(const gchar *status);
const gchar *
aiq_designer_status_to_icon_name(const gchar *status);
const gchar *
aiq_designer_status_to_css_class(const gchar *status);
gboolean
aiq_designer_status_is_final(const gchar *status);

gchar *
aiq_designer_format_time(const gchar *rfc3339);
gchar *
aiq_designer_format_duration(gint64 ms);
gint64
aiq_designer_parse_time(const gchar *rfc3339);

G_END_DECLS
