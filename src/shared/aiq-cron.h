/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * AiqCron:
 *
 * A five-field cron expression (minute hour day-of-month month day-of-week)
 * with ranges, steps, lists and names (JAN, MON), or one of `@hourly`,
 * `@daily`/`@midnight`, `@weekly`, `@monthly`, `@yearly`/`@annually`.
 * When both day fields are restricted, a day matches if either does.
 */
typedef struct _AiqCron AiqCron;

#define AIQ_TYPE_CRON (aiq_cron_get_type())
GType
aiq_cron_get_type(void);

AiqCron *
aiq_cron_new(const gchar *expression, GError **error);
AiqCron *
aiq_cron_ref(AiqCron *self);
void
aiq_cron_unref(AiqCron *self);
const gchar *
aiq_cron_get_expression(AiqCron *self);
gint64
aiq_cron_next(AiqCron *self, GTimeZone *tz, gint64 after);
gchar *
aiq_cron_describe(AiqCron *self);

GTimeZone *
aiq_timezone_new(const gchar *identifier, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqCron, aiq_cron_unref)

G_END_DECLS
