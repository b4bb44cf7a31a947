/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-limits.h"
#include "aiq-server.h"

G_BEGIN_DECLS

/**
 * AiqGovernance:
 *
 * What bounds a tenant: its resolved limits (built-in tier defaults, then
 * `[tier.NAME]` and `[tenant.SLUG]` in server.conf, then the overrides a
 * platform admin stored on the tenant), the token buckets of the rate
 * limiter, and the audit trail of requests. One per server, thread-safe.
 */
typedef struct _AiqGovernance AiqGovernance;

/**
 * AiqRateDecision:
 * @allowed: whether the request may go on
 * @limit: the bucket's size (the burst)
 * @remaining: whole requests left in it now
 * @reset_s: seconds until it is full again
 * @retry_after_s: when not @allowed, seconds until one request fits
 * @per_minute: the refill rate
 * @hold_ms: when not @allowed, how long the refusal waits: set for a
 *   client that keeps sending far over its rate
 */
typedef struct {
	gboolean allowed;
	gint64 limit;
	gint64 remaining;
	gint64 reset_s;
	gint64 retry_after_s;
	gint64 per_minute;
	guint hold_ms;
} AiqRateDecision;

/**
 * AiqRateScope:
 *
 * Whose bucket a rejection came from; for the metrics.
 */
typedef enum {
	AIQ_RATE_SCOPE_TENANT,
	AIQ_RATE_SCOPE_CREDENTIAL,
	AIQ_RATE_SCOPE_ADDRESS,
	AIQ_RATE_SCOPE_WEBHOOK,
	AIQ_RATE_SCOPE_LAST
} AiqRateScope;

const gchar *
aiq_rate_scope_to_string(AiqRateScope scope);

AiqGovernance *
aiq_governance_get(AiqServer *server);
void
aiq_governance_install(AiqServer *server);

/* limits */
gboolean
aiq_governance_get_limits(AiqGovernance *self,
			  const gchar *tenant_id,
			  AiqLimits *limits,
			  GError **error);
void
aiq_governance_invalidate(AiqGovernance *self, const gchar *tenant_id);
const gchar *
aiq_governance_get_platform_tenant_id(AiqGovernance *self);

/* rate limits: each takes one request from a bucket, and on refusal
 * answers @req with 429 and its headers; on success the RateLimit-*
 * headers of the tightest bucket are set */
gboolean
aiq_governance_take(AiqGovernance *self,
		    const gchar *key,
		    gint64 per_minute,
		    gint64 burst,
		    AiqRateDecision *decision);
gboolean
aiq_governance_check_principal(AiqGovernance *self, AiqRequest *req, AiqPrincipal *principal);
gboolean
aiq_governance_check_tenant(AiqGovernance *self,
			    AiqRequest *req,
			    const gchar *tenant_id,
			    AiqRateScope scope);
gboolean
aiq_governance_check_address(AiqGovernance *self, AiqRequest *req);
guint64
aiq_governance_get_rejections(AiqGovernance *self, AiqRateScope scope);
guint64
aiq_governance_get_held(AiqGovernance *self);
gboolean
aiq_governance_peek(AiqGovernance *self,
		    const gchar *key,
		    gint64 per_minute,
		    gint64 burst,
		    AiqRateDecision *decision);

/* quotas: an answer for a refused create or start */
void
aiq_governance_respond_quota(AiqRequest *req, AiqLimit quota, gint64 limit, gint64 used);

/* the audit trail: called by the server after each audited request */
void
aiq_governance_audit_request(AiqGovernance *self, AiqRequest *req, const gchar *action);

G_END_DECLS
