/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * AiqLimit:
 *
 * What a tier bounds. Each has a name on the wire and in configuration
 * (aiq_limit_to_string(): `api_requests_per_minute`; in server.conf with
 * dashes: `api-requests-per-minute`).
 */
typedef enum {
	AIQ_LIMIT_API_REQUESTS_PER_MINUTE,
	AIQ_LIMIT_API_BURST,
	AIQ_LIMIT_CONCURRENT_EXECUTIONS,
	AIQ_LIMIT_EXECUTIONS_PER_DAY,
	AIQ_LIMIT_WORKFLOWS,
	AIQ_LIMIT_AGENTS,
	AIQ_LIMIT_STEPS_PER_WORKFLOW,
	AIQ_LIMIT_PAYLOAD_BYTES,
	AIQ_LIMIT_RETENTION_DAYS,
	AIQ_LIMIT_LAST
} AiqLimit;

typedef enum {
	AIQ_TIER_FREE,
	AIQ_TIER_STANDARD,
	AIQ_TIER_PREMIUM,
	AIQ_TIER_ENTERPRISE,
	AIQ_TIER_LAST
} AiqTier;

/**
 * AiqLimits:
 * @values: one per #AiqLimit; every one is at least 1
 */
typedef struct {
	gint64 values[AIQ_LIMIT_LAST];
} AiqLimits;

const gchar *
aiq_limit_to_string(AiqLimit limit);
gboolean
aiq_limit_from_string(const gchar *name, AiqLimit *limit);
gint64
aiq_limit_max(AiqLimit limit);
const gchar *
aiq_tier_to_string(AiqTier tier);
gboolean
aiq_tier_from_string(const gchar *name, AiqTier *tier);
const gchar *const *
aiq_tier_names(void);

void
aiq_limits_init_tier(AiqLimits *self, AiqTier tier);
gboolean
aiq_limits_apply_json(AiqLimits *self, JsonObject *obj, const gchar *prefix, GError **error);
gboolean
aiq_limits_check_overrides(JsonObject *obj, GError **error);
JsonObject *
aiq_limits_to_json(const AiqLimits *self);

G_END_DECLS
