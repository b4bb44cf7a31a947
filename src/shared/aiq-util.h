/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gchar *
aiq_id_format(const guint8 *b);
gchar *
aiq_id_new(void);
gboolean
aiq_id_is_valid(const gchar *id);
gchar *
aiq_time_to_iso8601(gint64 unix_us);
gboolean
aiq_time_from_iso8601(const gchar *str, gint64 *unix_us, GError **error);
const gchar *
aiq_suggest(const gchar *word, const gchar *const *candidates);
gboolean
aiq_size_parse(const gchar *str, guint64 *bytes, GError **error);
gchar *
aiq_size_to_string(guint64 bytes);
gboolean
aiq_duration_parse(const gchar *str, gint64 *ms, GError **error);
gchar *
aiq_duration_to_string(gint64 ms);
gboolean
aiq_identifier_is_valid(const gchar *str);

G_END_DECLS
