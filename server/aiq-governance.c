/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Limits, rate limits and the audit trail of requests.
 *
 * Rate limits are token buckets: a bucket holds up to `api_burst`
 * requests and refills at `api_requests_per_minute` / 60 a second, so over
 * a span T a client gets at most burst + rate × T. Every authenticated
 * request takes from its tenant's bucket, and an API key with its own
 * `requests_per_minute` from its own too; an agent's sync traffic takes
 * from a bucket of its credential instead, so that a tenant's users cannot
 * stall its agents' syncs or the other way round. Webhooks take from their
 * tenant's bucket; logins and enrollments from their source address's.
 * Buckets live in memory, in shards by key, and idle full ones are swept.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "aiq-error.h"
#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-request-private.h"
#include "aiq-store-audit.h"
#include "aiq-store-identity.h"
#include "aiq-util.h"

#define AIQ_GOVERNANCE_SHARDS 16
/* a shard is swept of idle full buckets past this many */
#define AIQ_GOVERNANCE_SWEEP_AT 4096
/* limits are read again after this long, or at once when changed here */
#define AIQ_GOVERNANCE_LIMITS_TTL_US (2 * G_USEC_PER_SEC)

typedef struct {
	gdouble tokens;
	gint64 updated_us; /* monotonic */
	gint64 per_minute;
	gint64 burst;
	gint64 refused_since_us; /* the second refusals are counted in */
	gint64 refused;
	gint64 tarpit_until_us; /* refusals are held until then (monotonic) */
} AiqBucket;

/* a bucket refused more than this many times its refill rate within a
 * second (and more than AIQ_GOVERNANCE_TARPIT_MIN) belongs to a client
 * that does not wait: from then on, as long as it keeps being refused
 * (AIQ_GOVERNANCE_TARPIT_KEEP_US after the last refusal), its refusals are
 * answered after about AIQ_GOVERNANCE_TARPIT_MS (± a quarter, so that held
 * connections do not come back together), so that a flood costs the
 * server timers instead of TLS writes and its neighbours' requests do not
 * queue behind it (bench/isolation) */
#define AIQ_GOVERNANCE_TARPIT_FACTOR 2
#define AIQ_GOVERNANCE_TARPIT_MIN 10
#define AIQ_GOVERNANCE_TARPIT_MS 1000
#define AIQ_GOVERNANCE_TARPIT_KEEP_US (2 * G_USEC_PER_SEC)

typedef struct {
	GMutex mutex;
	GHashTable *buckets; /* key -> AiqBucket */
} AiqBucketShard;

typedef struct {
	AiqLimits limits;
	gint64 checked_us; /* monotonic */
} AiqLimitsEntry;

struct _AiqGovernance {
	AiqServer *server; /* not a reference: the server owns this */
	GMutex limits_mutex;
	GHashTable *limits; /* tenant id -> AiqLimitsEntry */
	gchar *platform_tenant_id;
	AiqBucketShard shards[AIQ_GOVERNANCE_SHARDS];
	guint64 rejections[AIQ_RATE_SCOPE_LAST]; /* atomic */
	guint64 held;                            /* atomic: refusals answered late */
};

static const gchar *const aiq_rate_scope_names[] = { "tenant", "credential", "address", "webhook" };
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_rate_scope_names) == AIQ_RATE_SCOPE_LAST);

const gchar *
aiq_rate_scope_to_string(AiqRateScope scope)
{
	g_return_val_if_fail(scope < AIQ_RATE_SCOPE_LAST, NULL);
	return aiq_rate_scope_names[scope];
}

static void
aiq_governance_free(AiqGovernance *self)
{
	g_hash_table_unref(self->limits);
	g_mutex_clear(&self->limits_mutex);
	for (guint i = 0; i < AIQ_GOVERNANCE_SHARDS; i++) {
		g_hash_table_unref(self->shards[i].buckets);
		g_mutex_clear(&self->shards[i].mutex);
	}
	g_free(self->platform_tenant_id);
	g_free(self);
}

/**
 * aiq_governance_install:
 *
 * Makes the server's governance module; once, at construction.
 */
void
aiq_governance_install(AiqServer *server)
{
	AiqGovernance *self = g_new0(AiqGovernance, 1);
	self->server = server;
	g_mutex_init(&self->limits_mutex);
	self->limits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < AIQ_GOVERNANCE_SHARDS; i++) {
		g_mutex_init(&self->shards[i].mutex);
		self->shards[i].buckets =
			g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	}
	aiq_server_set_module(server, "governance", self, (GDestroyNotify)aiq_governance_free);
}

AiqGovernance *
aiq_governance_get(AiqServer *server)
{
	return aiq_server_get_module(server, "governance");
}

/* limits */

static void
aiq_governance_resolve(AiqGovernance *self, const AiqTenant *tenant, AiqLimits *limits)
{
	AiqServerConfig *config = aiq_server_get_config(self->server);
	AiqTier tier = AIQ_TIER_FREE;
	JsonObject *overrides;

	/* an unknown tier (none should be stored) gets the least */
	aiq_tier_from_string(tenant->tier, &tier);
	*limits = config->tier_limits[tier];
	overrides = g_hash_table_lookup(config->tenant_limits, tenant->slug);
	if (overrides != NULL)
		aiq_limits_apply_json(limits, overrides, "", NULL);
	if (tenant->limits != NULL && JSON_NODE_HOLDS_OBJECT(tenant->limits))
		aiq_limits_apply_json(limits, json_node_get_object(tenant->limits), "", NULL);
	/* the tenant's hot retention is its own column, set at creation from
	 * its tier and changed with PATCH /tenants/{id} */
	if (tenant->retention_days > 0)
		limits->values[AIQ_LIMIT_RETENTION_DAYS] = tenant->retention_days;
}

/**
 * aiq_governance_get_limits:
 *
 * The tenant's limits now: its tier's, then the server configuration's
 * `[tenant.SLUG]`, then those stored on the tenant. Cached for 2 s.
 */
gboolean
aiq_governance_get_limits(AiqGovernance *self,
			  const gchar *tenant_id,
			  AiqLimits *limits,
			  GError **error)
{
	gint64 now = g_get_monotonic_time();
	g_autoptr(AiqTenant) tenant = NULL;
	AiqLimitsEntry *entry;

	g_mutex_lock(&self->limits_mutex);
	entry = g_hash_table_lookup(self->limits, tenant_id);
	if (entry != NULL && now - entry->checked_us < AIQ_GOVERNANCE_LIMITS_TTL_US) {
		*limits = entry->limits;
		g_mutex_unlock(&self->limits_mutex);
		return TRUE;
	}
	g_mutex_unlock(&self->limits_mutex);

	tenant = aiq_store_get_tenant(aiq_server_get_store(self->server), tenant_id, error);
	if (tenant == NULL)
		return FALSE;
	aiq_governance_resolve(self, tenant, limits);
	g_mutex_lock(&self->limits_mutex);
	if (g_hash_table_size(self->limits) > 100000)
		g_hash_table_remove_all(self->limits);
	entry = g_new0(AiqLimitsEntry, 1);
	entry->limits = *limits;
	entry->checked_us = now;
	g_hash_table_replace(self->limits, g_strdup(tenant_id), entry);
	g_mutex_unlock(&self->limits_mutex);
	return TRUE;
}

/**
 * aiq_governance_invalidate:
 * @tenant_id: (nullable): one tenant, or %NULL for all
 *
 * Forgets cached limits after a change.
 */
void
aiq_governance_invalidate(AiqGovernance *self, const gchar *tenant_id)
{
	g_mutex_lock(&self->limits_mutex);
	if (tenant_id != NULL)
		g_hash_table_remove(self->limits, tenant_id);
	else
		g_hash_table_remove_all(self->limits);
	g_mutex_unlock(&self->limits_mutex);
}

/**
 * aiq_governance_get_platform_tenant_id:
 *
 * Returns: (nullable): the id of the tenant that holds platform admins and
 * the platform's audit log; %NULL before `automateiq-server init`
 */
const gchar *
aiq_governance_get_platform_tenant_id(AiqGovernance *self)
{
	const gchar *result;
	g_mutex_lock(&self->limits_mutex);
	if (self->platform_tenant_id == NULL) {
		g_autoptr(AiqTenant) tenant =
			aiq_store_get_tenant_by_slug(aiq_server_get_store(self->server),
						     AIQ_PLATFORM_TENANT_SLUG,
						     NULL);
		if (tenant != NULL)
			self->platform_tenant_id = g_strdup(tenant->id);
	}
	result = self->platform_tenant_id;
	g_mutex_unlock(&self->limits_mutex);
	return result;
}

/* rate limits */

static AiqBucketShard *
aiq_governance_shard(AiqGovernance *self, const gchar *key)
{
	return &self->shards[g_str_hash(key) % AIQ_GOVERNANCE_SHARDS];
}

static void
aiq_bucket_refill(AiqBucket *bucket, gint64 now)
{
	gdouble elapsed_s = (gdouble)(now - bucket->updated_us) / G_USEC_PER_SEC;
	bucket->tokens =
		MIN((gdouble)bucket->burst, bucket->tokens + elapsed_s * bucket->per_minute / 60.0);
	bucket->updated_us = now;
}

static void
aiq_bucket_decide(AiqBucket *bucket, gboolean allowed, AiqRateDecision *decision)
{
	gdouble rate_s = bucket->per_minute / 60.0;
	decision->allowed = allowed;
	decision->limit = bucket->burst;
	decision->per_minute = bucket->per_minute;
	decision->remaining = (gint64)floor(MAX(bucket->tokens, 0.0));
	decision->reset_s = (gint64)ceil((bucket->burst - bucket->tokens) / rate_s);
	decision->retry_after_s =
		allowed ? 0 : MAX((gint64)ceil((1.0 - bucket->tokens) / rate_s), 1);
}

/* drops buckets that have refilled to the brim: nothing to remember */
static void
aiq_governance_sweep(AiqBucketShard *shard, gint64 now)
{
	GHashTableIter iter;
	AiqBucket *bucket;
	g_hash_table_iter_init(&iter, shard->buckets);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&bucket)) {
		aiq_bucket_refill(bucket, now);
		if (bucket->tokens >= bucket->burst)
			g_hash_table_iter_remove(&iter);
	}
}

static gboolean
aiq_governance_bucket(AiqGovernance *self,
		      const gchar *key,
		      gint64 per_minute,
		      gint64 burst,
		      gboolean take,
		      AiqRateDecision *decision)
{
	AiqBucketShard *shard = aiq_governance_shard(self, key);
	gint64 now = g_get_monotonic_time();
	gboolean allowed;
	AiqBucket *bucket;

	per_minute = MAX(per_minute, 1);
	burst = MAX(burst, 1);
	g_mutex_lock(&shard->mutex);
	bucket = g_hash_table_lookup(shard->buckets, key);
	if (bucket == NULL) {
		if (g_hash_table_size(shard->buckets) >= AIQ_GOVERNANCE_SWEEP_AT)
			aiq_governance_sweep(shard, now);
		bucket = g_new0(AiqBucket, 1);
		bucket->tokens = (gdouble)burst;
		bucket->updated_us = now;
		g_hash_table_insert(shard->buckets, g_strdup(key), bucket);
	}
	/* a changed limit applies from now on */
	bucket->per_minute = per_minute;
	bucket->burst = burst;
	aiq_bucket_refill(bucket, now);
	allowed = bucket->tokens >= 1.0;
	if (allowed && take)
		bucket->tokens -= 1.0;
	aiq_bucket_decide(bucket, allowed, decision);
	decision->hold_ms = 0;
	if (!allowed && take) {
		gint64 threshold = MAX(AIQ_GOVERNANCE_TARPIT_FACTOR * per_minute / 60,
				       AIQ_GOVERNANCE_TARPIT_MIN);
		if (now - bucket->refused_since_us >= G_USEC_PER_SEC) {
			bucket->refused_since_us = now;
			bucket->refused = 0;
		}
		if (++bucket->refused > threshold || now < bucket->tarpit_until_us) {
			bucket->tarpit_until_us = now + AIQ_GOVERNANCE_TARPIT_KEEP_US;
			decision->hold_ms =
				(guint)g_random_int_range(AIQ_GOVERNANCE_TARPIT_MS * 3 / 4,
							  AIQ_GOVERNANCE_TARPIT_MS * 5 / 4 + 1);
		}
	}
	g_mutex_unlock(&shard->mutex);
	return allowed;
}

/**
 * aiq_governance_take:
 * @key: the bucket, e.g. `t:TENANT`
 *
 * Takes one request from a bucket, made full when new.
 *
 * Returns: whether there was one
 */
gboolean
aiq_governance_take(AiqGovernance *self,
		    const gchar *key,
		    gint64 per_minute,
		    gint64 burst,
		    AiqRateDecision *decision)
{
	return aiq_governance_bucket(self, key, per_minute, burst, TRUE, decision);
}

/**
 * aiq_governance_peek:
 *
 * What aiq_governance_take() would decide, taking nothing; for the usage
 * report.
 */
gboolean
aiq_governance_peek(AiqGovernance *self,
		    const gchar *key,
		    gint64 per_minute,
		    gint64 burst,
		    AiqRateDecision *decision)
{
	return aiq_governance_bucket(self, key, per_minute, burst, FALSE, decision);
}

static void
aiq_governance_set_headers(AiqRequest *req, const AiqRateDecision *d)
{
	g_autofree gchar *limit = g_strdup_printf("%" PRId64, d->limit);
	g_autofree gchar *remaining = g_strdup_printf("%" PRId64, d->remaining);
	g_autofree gchar *reset = g_strdup_printf("%" PRId64, d->reset_s);
	g_autofree gchar *policy =
		g_strdup_printf("%" PRId64 ";w=60;burst=%" PRId64, d->per_minute, d->limit);
	aiq_request_set_header(req, "RateLimit-Limit", limit);
	aiq_request_set_header(req, "RateLimit-Remaining", remaining);
	aiq_request_set_header(req, "RateLimit-Reset", reset);
	aiq_request_set_header(req, "RateLimit-Policy", policy);
}

static void
aiq_governance_refuse(AiqGovernance *self,
		      AiqRequest *req,
		      AiqRateScope scope,
		      const AiqRateDecision *d)
{
	g_autofree gchar *retry = g_strdup_printf("%" PRId64, d->retry_after_s);
	g_autofree gchar *message = NULL;
	JsonObject *detail = json_object_new();
	JsonArray *details = json_array_new();

	__atomic_fetch_add(&self->rejections[scope], 1, __ATOMIC_RELAXED);
	switch (scope) {
	case AIQ_RATE_SCOPE_CREDENTIAL:
		message =
			g_strdup_printf(_("this credential's rate limit of %" PRId64
					  " requests a minute is reached; retry in %" PRId64 " s"),
					d->per_minute,
					d->retry_after_s);
		break;
	case AIQ_RATE_SCOPE_ADDRESS:
		message = g_strdup_printf(_("too many requests from %s; retry in %" PRId64 " s"),
					  aiq_request_get_remote_address(req),
					  d->retry_after_s);
		break;
	case AIQ_RATE_SCOPE_TENANT:
	case AIQ_RATE_SCOPE_WEBHOOK:
	default:
		message =
			g_strdup_printf(_("the tenant's rate limit of %" PRId64
					  " requests a minute is reached; retry in %" PRId64 " s"),
					d->per_minute,
					d->retry_after_s);
		break;
	}
	json_object_set_string_member(detail, "scope", aiq_rate_scope_names[scope]);
	json_object_set_int_member(detail, "requests_per_minute", d->per_minute);
	json_object_set_int_member(detail, "burst", d->limit);
	json_array_add_object_element(details, detail);
	aiq_governance_set_headers(req, d);
	aiq_request_set_header(req, "Retry-After", retry);
	if (d->hold_ms > 0) {
		__atomic_fetch_add(&self->held, 1, __ATOMIC_RELAXED);
		aiq_request_hold(req, d->hold_ms);
	}
	aiq_request_respond_error(req, 429, "rate_limited", message, aiq_json_new_array(details));
}

/**
 * aiq_governance_check_tenant:
 *
 * Takes one request of @tenant_id's budget (a webhook's, say); on refusal
 * answers @req with 429.
 *
 * Returns: whether @req may go on
 */
gboolean
aiq_governance_check_tenant(AiqGovernance *self,
			    AiqRequest *req,
			    const gchar *tenant_id,
			    AiqRateScope scope)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *key = g_strconcat("t:", tenant_id, NULL);
	AiqRateDecision d = { 0 };
	AiqLimits limits;

	if (!aiq_governance_get_limits(self, tenant_id, &limits, &error)) {
		/* the request fails on its own (the tenant is gone) */
		g_debug("rate limit of %s: %s", tenant_id, error->message);
		return TRUE;
	}
	if (!aiq_governance_take(self,
				 key,
				 limits.values[AIQ_LIMIT_API_REQUESTS_PER_MINUTE],
				 limits.values[AIQ_LIMIT_API_BURST],
				 &d)) {
		aiq_governance_refuse(self, req, scope, &d);
		return FALSE;
	}
	aiq_governance_set_headers(req, &d);
	return TRUE;
}

/**
 * aiq_governance_check_principal:
 *
 * The rate limits of an authenticated request: its tenant's and its API
 * key's, or its agent credential's.
 *
 * Returns: whether @req may go on; else it is answered with 429
 */
gboolean
aiq_governance_check_principal(AiqGovernance *self, AiqRequest *req, AiqPrincipal *principal)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *key = NULL;
	AiqRateDecision own = { 0 };
	AiqRateDecision tenant = { 0 };
	AiqLimits limits;
	gint64 rate;
	gint64 burst;

	if (!aiq_governance_get_limits(self, principal->tenant_id, &limits, &error)) {
		g_debug("rate limit of %s: %s", principal->tenant_id, error->message);
		return TRUE;
	}
	rate = limits.values[AIQ_LIMIT_API_REQUESTS_PER_MINUTE];
	burst = limits.values[AIQ_LIMIT_API_BURST];
	if (principal->kind == AIQ_TOKEN_KIND_AGENT) {
		key = g_strconcat("c:", principal->token_id, NULL);
		if (!aiq_governance_take(self, key, rate, burst, &own)) {
			aiq_governance_refuse(self, req, AIQ_RATE_SCOPE_CREDENTIAL, &own);
			return FALSE;
		}
		aiq_governance_set_headers(req, &own);
		return TRUE;
	}
	if (principal->requests_per_minute > 0) {
		key = g_strconcat("c:", principal->token_id, NULL);
		if (!aiq_governance_take(self,
					 key,
					 principal->requests_per_minute,
					 MIN(burst, principal->requests_per_minute),
					 &own)) {
			aiq_governance_refuse(self, req, AIQ_RATE_SCOPE_CREDENTIAL, &own);
			return FALSE;
		}
	}
	g_free(key);
	key = g_strconcat("t:", principal->tenant_id, NULL);
	if (!aiq_governance_take(self, key, rate, burst, &tenant)) {
		aiq_governance_refuse(self, req, AIQ_RATE_SCOPE_TENANT, &tenant);
		return FALSE;
	}
	/* the headers tell the tighter of the two */
	if (principal->requests_per_minute > 0 && own.remaining < tenant.remaining)
		aiq_governance_set_headers(req, &own);
	else
		aiq_governance_set_headers(req, &tenant);
	return TRUE;
}

/**
 * aiq_governance_check_address:
 *
 * The rate limit of logins and enrollments per source address.
 */
gboolean
aiq_governance_check_address(AiqGovernance *self, AiqRequest *req)
{
	AiqServerConfig *config = aiq_server_get_config(self->server);
	g_autofree gchar *key = g_strconcat("a:", aiq_request_get_remote_address(req), NULL);
	AiqRateDecision d = { 0 };
	if (!aiq_governance_take(self,
				 key,
				 config->address_requests_per_minute,
				 config->address_burst,
				 &d)) {
		aiq_governance_refuse(self, req, AIQ_RATE_SCOPE_ADDRESS, &d);
		return FALSE;
	}
	aiq_governance_set_headers(req, &d);
	return TRUE;
}

/**
 * aiq_governance_get_held:
 *
 * Returns: how many refusals were answered late, to clients that kept
 * sending far over their rate
 */
guint64
aiq_governance_get_held(AiqGovernance *self)
{
	return __atomic_load_n(&self->held, __ATOMIC_RELAXED);
}

guint64
aiq_governance_get_rejections(AiqGovernance *self, AiqRateScope scope)
{
	g_return_val_if_fail(scope < AIQ_RATE_SCOPE_LAST, 0);
	return __atomic_load_n(&self->rejections[scope], __ATOMIC_RELAXED);
}

/* quotas */

/**
 * aiq_governance_respond_quota:
 * @used: what the tenant has now
 *
 * Answers a create or start over a quota: `quota_exceeded` with the quota,
 * its limit and the use in `details`. 413 for a payload, 429 (with
 * Retry-After) for the executions of a day or at once, 403 for counts.
 */
void
aiq_governance_respond_quota(AiqRequest *req, AiqLimit quota, gint64 limit, gint64 used)
{
	AiqServer *server = aiq_request_get_server(req);
	g_autofree gchar *message = NULL;
	JsonObject *detail = json_object_new();
	JsonArray *details = json_array_new();
	guint status = SOUP_STATUS_FORBIDDEN;

	json_object_set_string_member(detail, "quota", aiq_limit_to_string(quota));
	json_object_set_int_member(detail, "limit", limit);
	json_object_set_int_member(detail, "used", used);
	json_array_add_object_element(details, detail);
	if (quota == AIQ_LIMIT_PAYLOAD_BYTES) {
		status = SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
		message = g_strdup_printf(_("quota “%s” exceeded: the payload has %" PRId64
					    " bytes, the tenant's limit is %" PRId64),
					  aiq_limit_to_string(quota),
					  used,
					  limit);
	} else {
		message = g_strdup_printf(_("quota “%s” reached: %" PRId64 " of %" PRId64 " used"),
					  aiq_limit_to_string(quota),
					  used,
					  limit);
	}
	if (quota == AIQ_LIMIT_EXECUTIONS_PER_DAY) {
		/* until the next day starts, in UTC */
		gint64 now_s = aiq_server_now(server) / G_USEC_PER_SEC;
		g_autofree gchar *retry = g_strdup_printf("%" PRId64, 86400 - now_s % 86400);
		status = 429;
		aiq_request_set_header(req, "Retry-After", retry);
	} else if (quota == AIQ_LIMIT_CONCURRENT_EXECUTIONS) {
		status = 429;
		aiq_request_set_header(req, "Retry-After", "5");
	}
	aiq_request_respond_error(req,
				  status,
				  "quota_exceeded",
				  message,
				  aiq_json_new_array(details));
}

/* the audit trail */

static const gchar *
aiq_governance_actor_type(AiqTokenKind kind)
{
	switch (kind) {
	case AIQ_TOKEN_KIND_API_KEY:
		return "api_key";
	case AIQ_TOKEN_KIND_AGENT:
		return "agent";
	case AIQ_TOKEN_KIND_SESSION:
	default:
		return "user";
	}
}

/**
 * aiq_governance_audit_request:
 * @action: the route's action, e.g. `workflow.create`
 *
 * Appends the record of an audited request, once it is answered: who (the
 * principal, or what the handler named), in which tenant's log (the
 * platform's for platform admins and for requests that named no tenant),
 * what on which target (the handler's, or the path's `{id}`, or the `id`
 * of the answer), from where, and how it ended. Requests refused by the
 * rate limiter are counted in the metrics instead.
 */
void
aiq_governance_audit_request(AiqGovernance *self, AiqRequest *req, const gchar *action)
{
	AiqRequestAudit a = aiq_request_get_audit(req);
	AiqPrincipal *principal = aiq_request_get_principal(req);
	guint status = aiq_request_get_status(req);
	const gchar *tenant_id = a.tenant_id;
	g_autofree gchar *target_type = NULL;
	AiqAuditRecord *record;

	if (a.skip || (status == 429 && g_strcmp0(a.error_code, "rate_limited") == 0))
		return;
	if (tenant_id == NULL && principal != NULL)
		tenant_id = principal->tenant_id;
	if (tenant_id == NULL)
		tenant_id = aiq_governance_get_platform_tenant_id(self);
	if (tenant_id == NULL)
		return;

	record = g_new0(AiqAuditRecord, 1);
	record->tenant_id = g_strdup(tenant_id);
	record->id = aiq_id_new();
	record->time_us = aiq_server_now(self->server);
	if (a.actor_type != NULL) {
		record->actor_type = g_strdup(a.actor_type);
		record->actor_id = g_strdup(a.actor_id);
		record->actor_name = g_strdup(a.actor_name);
	} else if (principal != NULL) {
		record->actor_type = g_strdup(aiq_governance_actor_type(principal->kind));
		record->actor_id =
			g_strdup(principal->kind == AIQ_TOKEN_KIND_API_KEY ? principal->token_id
									   : principal->subject_id);
		record->actor_name = g_strdup(principal->subject_name);
	} else {
		record->actor_type = g_strdup("anonymous");
	}
	record->action = g_strdup(a.action != NULL ? a.action : action);
	if (a.target_type != NULL) {
		record->target_type = g_strdup(a.target_type);
		record->target_id = g_strdup(a.target_id);
	} else {
		const gchar *dot = strchr(record->action, '.');
		record->target_type = dot != NULL ? g_strndup(record->action, dot - record->action)
						  : g_strdup(record->action);
		record->target_id = g_strdup(aiq_request_get_param(req, "id") != NULL
						     ? aiq_request_get_param(req, "id")
						     : a.response_id);
	}
	record->request_id = g_strdup(aiq_request_get_id(req));
	record->source = g_strdup(aiq_request_get_remote_address(req));
	record->status = (gint)status;
	if (status < 400)
		record->outcome = g_strdup("success");
	else if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
		record->outcome = g_strdup("denied");
	else
		record->outcome = g_strdup("failure");
	if (a.details != NULL || (status >= 400 && a.error_code != NULL)) {
		JsonObject *details = json_object_new();
		if (a.details != NULL) {
			JsonObjectIter iter;
			const gchar *name;
			JsonNode *value;
			json_object_iter_init(&iter, a.details);
			while (json_object_iter_next(&iter, &name, &value))
				json_object_set_member(details, name, json_node_copy(value));
		}
		if (status >= 400 && a.error_code != NULL)
			json_object_set_string_member(details, "error", a.error_code);
		record->details = aiq_json_new_object(details);
	}
	aiq_store_append_audit(aiq_server_get_store(self->server), record);
}
