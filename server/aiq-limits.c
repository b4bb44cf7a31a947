/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Tiers and what they bound: built-in defaults, overridden per tier in
 * server.conf, and per tenant in server.conf or through the platform-admin
 * API (see AiqGovernance for the resolution).
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>

#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-limits.h"
#include "aiq-util.h"

static const gchar *const aiq_limit_names[] = {
	"api_requests_per_minute",
	"api_burst",
	"concurrent_executions",
	"executions_per_day",
	"workflows",
	"agents",
	"steps_per_workflow",
	"payload_bytes",
	"retention_days",
	NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_limit_names) == AIQ_LIMIT_LAST + 1);

/* the largest value each may take: requests are counted in 32 bits of a
 * minute, payloads are bounded by the server's own largest body (checked
 * where the request is read), retention by ten years */
static const gint64 aiq_limit_maxima[] = {
	G_MAXINT32, G_MAXINT32,         1000000, G_MAXINT32, 10000000, 1000000,
	10000,      1024 * 1024 * 1024, 3650,
};
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_limit_maxima) == AIQ_LIMIT_LAST);

static const gchar *const aiq_tier_names_[] = { "free", "standard", "premium", "enterprise", NULL };
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_tier_names_) == AIQ_TIER_LAST + 1);

/* the defaults of each tier, in the order of #AiqLimit */
static const gint64 aiq_tier_defaults[AIQ_TIER_LAST][AIQ_LIMIT_LAST] = {
	/* free */
	{ 120, 30, 2, 200, 10, 1, 20, 64 * 1024, 7 },
	/* standard */
	{ 1200, 200, 10, 5000, 100, 5, 50, 256 * 1024, 30 },
	/* premium */
	{ 6000, 1000, 50, 50000, 500, 25, 100, 512 * 1024, 90 },
	/* enterprise */
	{ 60000, 10000, 500, 1000000, 5000, 250, 250, 1024 * 1024, 365 },
};

const gchar *
aiq_limit_to_string(AiqLimit limit)
{
	g_return_val_if_fail(limit < AIQ_LIMIT_LAST, NULL);
	return aiq_limit_names[limit];
}

gboolean
aiq_limit_from_string(const gchar *name, AiqLimit *limit)
{
	for (guint i = 0; i < AIQ_LIMIT_LAST; i++) {
		if (g_strcmp0(name, aiq_limit_names[i]) == 0) {
			*limit = (AiqLimit)i;
			return TRUE;
		}
	}
	return FALSE;
}

gint64
aiq_limit_max(AiqLimit limit)
{
	g_return_val_if_fail(limit < AIQ_LIMIT_LAST, 0);
	return aiq_limit_maxima[limit];
}

const gchar *
aiq_tier_to_string(AiqTier tier)
{
	g_return_val_if_fail(tier < AIQ_TIER_LAST, NULL);
	return aiq_tier_names_[tier];
}

gboolean
aiq_tier_from_string(const gchar *name, AiqTier *tier)
{
	for (guint i = 0; i < AIQ_TIER_LAST; i++) {
		if (g_strcmp0(name, aiq_tier_names_[i]) == 0) {
			*tier = (AiqTier)i;
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * aiq_tier_names:
 *
 * Returns: (transfer none): free, standard, premium, enterprise
 */
const gchar *const *
aiq_tier_names(void)
{
	return aiq_tier_names_;
}

void
aiq_limits_init_tier(AiqLimits *self, AiqTier tier)
{
	g_return_if_fail(tier < AIQ_TIER_LAST);
	for (guint i = 0; i < AIQ_LIMIT_LAST; i++)
		self->values[i] = aiq_tier_defaults[tier][i];
}

/* one member of an override object: a whole number in range, or null
 * (which keeps what is below) */
static gboolean
aiq_limits_read_member(const gchar *prefix,
		       const gchar *key,
		       JsonNode *node,
		       AiqLimit *limit,
		       gint64 *value,
		       GError **error)
{
	if (!aiq_limit_from_string(key, limit)) {
		const gchar *suggestion = aiq_suggest(key, aiq_limit_names);
		if (suggestion != NULL)
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("%s%s: unknown limit; did you mean “%s”?"),
				    prefix,
				    key,
				    suggestion);
		else
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("%s%s: unknown limit"),
				    prefix,
				    key);
		return FALSE;
	}
	if (JSON_NODE_HOLDS_NULL(node)) {
		*value = 0;
		return TRUE;
	}
	if (!aiq_json_is_integer(node) || json_node_get_int(node) < 1 ||
	    json_node_get_int(node) > aiq_limit_maxima[*limit]) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("%s%s: expected a whole number from 1 to %" PRId64),
			    prefix,
			    key,
			    aiq_limit_maxima[*limit]);
		return FALSE;
	}
	*value = json_node_get_int(node);
	return TRUE;
}

/**
 * aiq_limits_check_overrides:
 * @obj: `{ "workflows": 20, "agents": null, … }`
 *
 * Returns: %TRUE when every member names a limit and is a whole number in
 * its range or null; else an error naming the member (`limits.NAME`)
 */
gboolean
aiq_limits_check_overrides(JsonObject *obj, GError **error)
{
	AiqLimits scratch = { 0 };
	/* the hot retention is the tenant's own retention_days */
	if (json_object_has_member(obj, aiq_limit_names[AIQ_LIMIT_RETENTION_DAYS])) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("limits.retention_days: set the tenant's retention_days "
				      "instead"));
		return FALSE;
	}
	return aiq_limits_apply_json(&scratch, obj, "limits.", error);
}

/**
 * aiq_limits_apply_json:
 * @prefix: put before member names in errors
 *
 * Sets each limit @obj names; null members are skipped.
 */
gboolean
aiq_limits_apply_json(AiqLimits *self, JsonObject *obj, const gchar *prefix, GError **error)
{
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *node;
	json_object_iter_init_ordered(&iter, obj);
	while (json_object_iter_next_ordered(&iter, &key, &node)) {
		AiqLimit limit;
		gint64 value = 0;
		if (!aiq_limits_read_member(prefix, key, node, &limit, &value, error))
			return FALSE;
		if (value > 0)
			self->values[limit] = value;
	}
	return TRUE;
}

JsonObject *
aiq_limits_to_json(const AiqLimits *self)
{
	JsonObject *obj = json_object_new();
	for (guint i = 0; i < AIQ_LIMIT_LAST; i++)
		json_object_set_int_member(obj, aiq_limit_names[i], self->values[i]);
	return obj;
}
