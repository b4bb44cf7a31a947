/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Prometheus metrics.
 *
 * The request path updates its series without a lock: each route gets its
 * series when it is added (at construction), and the request path adds to
 * them with relaxed atomics. A series counts requests by status code in a
 * small open-addressed table whose slots are claimed by compare-and-swap,
 * and keeps a latency histogram of per-bucket counts (made cumulative when
 * rendered). Gauges that live elsewhere (the queue, the store, the rate
 * limiter) are read when /metrics is scraped.
 *
 * Labels are bounded: a route is its template (`/api/v1/workflows/{id}`),
 * a request that matched no route is `unmatched`, and a method that is
 * not a known one is `other`.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "aiq-governance.h"
#include "aiq-limits.h"
#include "aiq-metrics.h"
#include "aiq-queue.h"

#define AIQ_METRICS_MODULE "metrics"
/* distinct status codes one route may answer; more are counted as code 0
 * and shown as "other" */
#define AIQ_METRICS_CODES 32
#define AIQ_METRICS_MAX_BUCKETS 16

/* request latency: 1 ms to 10 s */
static const gint64 aiq_metrics_request_buckets_us[] = {
	1000,   2500,   5000,    10000,   25000,   50000,    100000,
	250000, 500000, 1000000, 2500000, 5000000, 10000000,
};
/* store waits and commits: 100 µs to 10 s */
static const gint64 aiq_metrics_store_buckets_us[] = {
	100,   250,    500,    1000,   2500,    5000,    10000,   25000,
	50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_metrics_request_buckets_us) <= AIQ_METRICS_MAX_BUCKETS);
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_metrics_store_buckets_us) <= AIQ_METRICS_MAX_BUCKETS);

/* the methods a label may name; anything else is "other" */
static const gchar *const aiq_metrics_methods[] = { "GET",   "HEAD",   "POST",    "PUT",
						    "PATCH", "DELETE", "OPTIONS", "other" };
#define AIQ_METRICS_N_METHODS G_N_ELEMENTS(aiq_metrics_methods)

typedef struct {
	const gint64 *bounds_us;
	guint n_bounds;
	guint64 counts[AIQ_METRICS_MAX_BUCKETS + 1]; /* atomic; the last is +Inf */
	guint64 sum_us;                              /* atomic */
} AiqMetricsHistogram;

typedef struct {
	gint code; /* atomic; 0 while the slot is free */
	guint64 count;
} AiqMetricsCode;

struct _AiqMetricsRoute {
	gchar *method;
	gchar *path;
	AiqMetricsCode codes[AIQ_METRICS_CODES];
	guint64 other_codes; /* atomic: when the table is full */
	AiqMetricsHistogram duration;
};

struct _AiqMetrics {
	AiqServer *server; /* not a reference: the server owns this */
	AiqStore *store;
	GMutex routes_mutex;
	GPtrArray *routes; /* of AiqMetricsRoute, in the order they were added */
	AiqMetricsRoute *unmatched[AIQ_METRICS_N_METHODS];
	guint64 events_ingested; /* atomic */
	AiqMetricsHistogram store_write_wait;
	AiqMetricsHistogram store_commit;
};

/* histograms */

static void
aiq_metrics_histogram_init(AiqMetricsHistogram *h, const gint64 *bounds_us, guint n_bounds)
{
	g_assert(n_bounds <= AIQ_METRICS_MAX_BUCKETS);
	h->bounds_us = bounds_us;
	h->n_bounds = n_bounds;
}

static void
aiq_metrics_histogram_observe(AiqMetricsHistogram *h, gint64 value_us)
{
	guint i = 0;
	value_us = MAX(value_us, 0);
	while (i < h->n_bounds && value_us > h->bounds_us[i])
		i++;
	__atomic_fetch_add(&h->counts[i], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->sum_us, (guint64)value_us, __ATOMIC_RELAXED);
}

/* routes */

static AiqMetricsRoute *
aiq_metrics_route_new(const gchar *method, const gchar *path)
{
	AiqMetricsRoute *route = g_new0(AiqMetricsRoute, 1);
	route->method = g_strdup(method);
	route->path = g_strdup(path);
	aiq_metrics_histogram_init(&route->duration,
				   aiq_metrics_request_buckets_us,
				   G_N_ELEMENTS(aiq_metrics_request_buckets_us));
	return route;
}

static void
aiq_metrics_route_free(AiqMetricsRoute *route)
{
	g_free(route->method);
	g_free(route->path);
	g_free(route);
}

static void
aiq_metrics_route_count(AiqMetricsRoute *route, guint status)
{
	gint code = (gint)CLAMP(status, 1, 999);
	/* start where the code hashes to, so the usual few codes of a route
	 * find their slot in one or two steps */
	for (guint n = 0, i = (guint)code % AIQ_METRICS_CODES; n < AIQ_METRICS_CODES;
	     n++, i = (i + 1) % AIQ_METRICS_CODES) {
		AiqMetricsCode *slot = &route->codes[i];
		gint seen = __atomic_load_n(&slot->code, __ATOMIC_ACQUIRE);
		if (seen == 0) {
			gint expected = 0;
			if (__atomic_compare_exchange_n(&slot->code,
							&expected,
							code,
							FALSE,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				seen = code;
			else
				seen = expected;
		}
		if (seen == code) {
			__atomic_fetch_add(&slot->count, 1, __ATOMIC_RELAXED);
			return;
		}
	}
	__atomic_fetch_add(&route->other_codes, 1, __ATOMIC_RELAXED);
}

static guint
aiq_metrics_method_index(const gchar *method)
{
	for (guint i = 0; i + 1 < AIQ_METRICS_N_METHODS; i++) {
		if (g_strcmp0(method, aiq_metrics_methods[i]) == 0)
			return i;
	}
	return AIQ_METRICS_N_METHODS - 1;
}

/**
 * aiq_metrics_add_route:
 *
 * Returns: (transfer none): the series of a route, kept as long as the
 * server; the server adds one for each route it serves
 */
AiqMetricsRoute *
aiq_metrics_add_route(AiqMetrics *self, const gchar *method, const gchar *path)
{
	AiqMetricsRoute *route;
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(method != NULL && path != NULL, NULL);
	route = aiq_metrics_route_new(method, path);
	g_mutex_lock(&self->routes_mutex);
	g_ptr_array_add(self->routes, route);
	g_mutex_unlock(&self->routes_mutex);
	return route;
}

/**
 * aiq_metrics_observe_request:
 * @route: (nullable): the route it matched; %NULL for none
 * @method: the request's method, for a request that matched no route
 * @duration_us: from received to answered
 *
 * Counts one answered request. Lock-free.
 */
void
aiq_metrics_observe_request(AiqMetrics *self,
			    AiqMetricsRoute *route,
			    const gchar *method,
			    guint status,
			    gint64 duration_us)
{
	g_return_if_fail(self != NULL);
	if (route == NULL)
		route = self->unmatched[aiq_metrics_method_index(method)];
	aiq_metrics_route_count(route, status);
	aiq_metrics_histogram_observe(&route->duration, duration_us);
}

/**
 * aiq_metrics_add_events_ingested:
 *
 * Counts execution events accepted from agents.
 */
void
aiq_metrics_add_events_ingested(AiqMetrics *self, guint n)
{
	g_return_if_fail(self != NULL);
	__atomic_fetch_add(&self->events_ingested, n, __ATOMIC_RELAXED);
}

static void
aiq_metrics_store_timing_cb(AiqStoreTiming timing, gint64 duration_us, gpointer user_data)
{
	AiqMetrics *self = user_data;
	aiq_metrics_histogram_observe(timing == AIQ_STORE_TIMING_COMMIT ? &self->store_commit
									: &self->store_write_wait,
				      duration_us);
}

/* access */

static gboolean
aiq_metrics_address_is_loopback(const gchar *address)
{
	g_autoptr(GInetAddress) inet = NULL;
	if (address == NULL)
		return FALSE;
	inet = g_inet_address_new_from_string(address);
	if (inet == NULL)
		return FALSE;
	if (g_inet_address_get_is_loopback(inet))
		return TRUE;
	/* ::ffff:127.x.y.z, an IPv4 loopback address on a dual-stack socket */
	if (g_inet_address_get_family(inet) == G_SOCKET_FAMILY_IPV6) {
		const guint8 *b = g_inet_address_to_bytes(inet);
		static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		return memcmp(b, mapped, sizeof(mapped)) == 0 && b[12] == 127;
	}
	return FALSE;
}

/* compares digests, so that neither the content nor the length of the
 * token leaks through the time taken */
static gboolean
aiq_metrics_token_equal(const gchar *given, const gchar *token)
{
	guint8 a[crypto_generichash_BYTES];
	guint8 b[crypto_generichash_BYTES];
	crypto_generichash(a, sizeof(a), (const guint8 *)given, strlen(given), NULL, 0);
	crypto_generichash(b, sizeof(b), (const guint8 *)token, strlen(token), NULL, 0);
	return sodium_memcmp(a, b, sizeof(a)) == 0;
}

/**
 * aiq_metrics_check_access:
 * @remote_address: the client's address
 * @forwarded: the request carries `Forwarded` or `X-Forwarded-For`: it
 *   came through a proxy, so its loopback address says nothing
 * @authorization: (nullable): the `Authorization` header
 * @token: (nullable): the configured metrics token
 *
 * Loopback may read the metrics; any other client needs
 * `Authorization: Bearer <token>`, compared in constant time.
 */
AiqMetricsAccess
aiq_metrics_check_access(const gchar *remote_address,
			 gboolean forwarded,
			 const gchar *authorization,
			 const gchar *token)
{
	const gchar *given;
	if (!forwarded && aiq_metrics_address_is_loopback(remote_address))
		return AIQ_METRICS_ACCESS_ALLOWED;
	/* without a token configured, no credential could help */
	if (authorization == NULL || token == NULL || *token == '\0')
		return AIQ_METRICS_ACCESS_FORBIDDEN;
	if (g_ascii_strncasecmp(authorization, "Bearer ", 7) != 0)
		return AIQ_METRICS_ACCESS_UNAUTHORIZED;
	given = authorization + 7;
	while (*given == ' ')
		given++;
	if (!aiq_metrics_token_equal(given, token))
		return AIQ_METRICS_ACCESS_UNAUTHORIZED;
	return AIQ_METRICS_ACCESS_ALLOWED;
}

/* rendering, in the text exposition format 0.0.4 */

static void
aiq_metrics_append_escaped(GString *out, const gchar *value)
{
	for (const gchar *p = value; *p != '\0'; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '"')
			g_string_append(out, "\\\"");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
}

static void
aiq_metrics_append_header(GString *out, const gchar *name, const gchar *type, const gchar *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* @labels: name, value, name, value…, %NULL */
static void
aiq_metrics_append_labels(GString *out, const gchar *const *labels, const gchar *extra)
{
	gboolean first = TRUE;
	if ((labels == NULL || labels[0] == NULL) && extra == NULL)
		return;
	g_string_append_c(out, '{');
	for (guint i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		g_string_append_printf(out, "%s%s=\"", first ? "" : ",", labels[i]);
		aiq_metrics_append_escaped(out, labels[i + 1]);
		g_string_append_c(out, '"');
		first = FALSE;
	}
	if (extra != NULL)
		g_string_append_printf(out, "%s%s", first ? "" : ",", extra);
	g_string_append_c(out, '}');
}

static void
aiq_metrics_append_sample(GString *out,
			  const gchar *name,
			  const gchar *const *labels,
			  guint64 value)
{
	g_string_append(out, name);
	aiq_metrics_append_labels(out, labels, NULL);
	g_string_append_printf(out, " %" PRIu64 "\n", value);
}

static void
aiq_metrics_append_histogram(GString *out,
			     const gchar *name,
			     const gchar *const *labels,
			     AiqMetricsHistogram *h)
{
	guint64 counts[AIQ_METRICS_MAX_BUCKETS + 1];
	guint64 cumulative = 0;
	guint64 sum_us;

	/* one snapshot, so that the buckets are cumulative and _count is
	 * the +Inf bucket even while requests are counted */
	for (guint i = 0; i <= h->n_bounds; i++)
		counts[i] = __atomic_load_n(&h->counts[i], __ATOMIC_RELAXED);
	sum_us = __atomic_load_n(&h->sum_us, __ATOMIC_RELAXED);
	for (guint i = 0; i <= h->n_bounds; i++) {
		gchar le[G_ASCII_DTOSTR_BUF_SIZE];
		g_autofree gchar *extra = NULL;
		cumulative += counts[i];
		if (i < h->n_bounds)
			g_ascii_formatd(le, sizeof(le), "%g", h->bounds_us[i] / 1e6);
		else
			g_strlcpy(le, "+Inf", sizeof(le));
		extra = g_strdup_printf("le=\"%s\"", le);
		g_string_append_printf(out, "%s_bucket", name);
		aiq_metrics_append_labels(out, labels, extra);
		g_string_append_printf(out, " %" PRIu64 "\n", cumulative);
	}
	g_string_append_printf(out, "%s_sum", name);
	aiq_metrics_append_labels(out, labels, NULL);
	g_string_append_printf(out,
			       " %" PRIu64 ".%06" PRIu64 "\n",
			       sum_us / G_USEC_PER_SEC,
			       sum_us % G_USEC_PER_SEC);
	g_string_append_printf(out, "%s_count", name);
	aiq_metrics_append_labels(out, labels, NULL);
	g_string_append_printf(out, " %" PRIu64 "\n", cumulative);
}

static gboolean
aiq_metrics_route_is_used(AiqMetricsRoute *route)
{
	for (guint i = 0; i <= route->duration.n_bounds; i++) {
		if (__atomic_load_n(&route->duration.counts[i], __ATOMIC_RELAXED) > 0)
			return TRUE;
	}
	return FALSE;
}

static void
aiq_metrics_render_requests(AiqMetrics *self, GString *out, GPtrArray *routes)
{
	aiq_metrics_append_header(
		out,
		"automateiq_http_requests_total",
		"counter",
		"HTTP requests answered, by method, route template and status code.");
	for (guint r = 0; r < routes->len; r++) {
		AiqMetricsRoute *route = g_ptr_array_index(routes, r);
		guint64 other = __atomic_load_n(&route->other_codes, __ATOMIC_RELAXED);
		for (guint i = 0; i < AIQ_METRICS_CODES; i++) {
			gint code = __atomic_load_n(&route->codes[i].code, __ATOMIC_ACQUIRE);
			g_autofree gchar *code_str = NULL;
			if (code == 0)
				continue;
			code_str = g_strdup_printf("%d", code);
			aiq_metrics_append_sample(
				out,
				"automateiq_http_requests_total",
				(const gchar *const[]){ "method",
							route->method,
							"route",
							route->path,
							"code",
							code_str,
							NULL },
				__atomic_load_n(&route->codes[i].count, __ATOMIC_RELAXED));
		}
		if (other > 0)
			aiq_metrics_append_sample(out,
						  "automateiq_http_requests_total",
						  (const gchar *const[]){ "method",
									  route->method,
									  "route",
									  route->path,
									  "code",
									  "other",
									  NULL },
						  other);
	}

	aiq_metrics_append_header(
		out,
		"automateiq_http_request_duration_seconds",
		"histogram",
		"Time from a request's arrival to its answer, by method and route "
		"template.");
	for (guint r = 0; r < routes->len; r++) {
		AiqMetricsRoute *route = g_ptr_array_index(routes, r);
		aiq_metrics_append_histogram(out,
					     "automateiq_http_request_duration_seconds",
					     (const gchar *const[]){ "method",
								     route->method,
								     "route",
								     route->path,
								     NULL },
					     &route->duration);
	}

	aiq_metrics_append_header(out,
				  "automateiq_http_requests_in_flight",
				  "gauge",
				  "HTTP requests being handled now.");
	aiq_metrics_append_sample(out,
				  "automateiq_http_requests_in_flight",
				  NULL,
				  aiq_server_get_in_flight(self->server));
}

static void
aiq_metrics_render_queue(AiqMetrics *self, GString *out)
{
	AiqQueueStats stats = { 0 };

	aiq_queue_get_stats(aiq_queue_get(self->server), &stats);
	aiq_metrics_append_header(out,
				  "automateiq_queue_depth",
				  "gauge",
				  "Jobs queued and not yet leased, by the tier of their tenant.");
	for (guint t = 0; t < AIQ_TIER_LAST; t++) {
		const gchar *tier = aiq_tier_to_string((AiqTier)t);
		aiq_metrics_append_sample(out,
					  "automateiq_queue_depth",
					  (const gchar *const[]){ "tier", tier, NULL },
					  stats.queued[aiq_queue_tier_rank(tier)]);
	}
	aiq_metrics_append_header(out,
				  "automateiq_queue_leased_jobs",
				  "gauge",
				  "Jobs leased to agents now.");
	aiq_metrics_append_sample(out, "automateiq_queue_leased_jobs", NULL, stats.leased);
	aiq_metrics_append_header(out,
				  "automateiq_lease_expiries_total",
				  "counter",
				  "Leases that ran out before their agent finished or renewed "
				  "them; their jobs went back to the queue.");
	aiq_metrics_append_sample(out,
				  "automateiq_lease_expiries_total",
				  NULL,
				  stats.lease_expiries);
}

static void
aiq_metrics_render_store(AiqMetrics *self, GString *out)
{
	AiqServerConfig *config = aiq_server_get_config(self->server);
	gint64 counts[AIQ_EXECUTION_STATUS_LAST];
	gint64 online = 0;
	g_autoptr(GError) error = NULL;

	aiq_store_get_execution_counts(self->store, counts);
	aiq_metrics_append_header(out,
				  "automateiq_executions",
				  "gauge",
				  "Executions in the store (every tenant, archived ones excepted), "
				  "by status.");
	for (guint s = 0; s < AIQ_EXECUTION_STATUS_LAST; s++)
		aiq_metrics_append_sample(out,
					  "automateiq_executions",
					  (const gchar *const[]){ "status",
								  aiq_execution_status_to_string(
									  (AiqExecutionStatus)s),
								  NULL },
					  (guint64)MAX(counts[s], 0));

	/* a failed count leaves the gauge out rather than saying 0 */
	if (aiq_store_count_agents_online(self->store,
					  aiq_server_now(self->server) - config->agent_offline_us,
					  &online,
					  &error)) {
		aiq_metrics_append_header(out,
					  "automateiq_agents_online",
					  "gauge",
					  "Active agents of every tenant that were seen within the "
					  "offline interval.");
		aiq_metrics_append_sample(out, "automateiq_agents_online", NULL, (guint64)online);
	} else {
		g_warning("metrics: cannot count the agents online: %s", error->message);
	}

	aiq_metrics_append_header(
		out,
		"automateiq_store_write_wait_seconds",
		"histogram",
		"Time from a store write being queued to the commit of its group.");
	aiq_metrics_append_histogram(out,
				     "automateiq_store_write_wait_seconds",
				     NULL,
				     &self->store_write_wait);
	aiq_metrics_append_header(out,
				  "automateiq_store_commit_duration_seconds",
				  "histogram",
				  "Time one group transaction of the store took, from its BEGIN to "
				  "the end of its COMMIT.");
	aiq_metrics_append_histogram(out,
				     "automateiq_store_commit_duration_seconds",
				     NULL,
				     &self->store_commit);
	aiq_metrics_append_header(out,
				  "automateiq_store_commits_total",
				  "counter",
				  "Group transactions the store committed.");
	aiq_metrics_append_sample(out,
				  "automateiq_store_commits_total",
				  NULL,
				  aiq_store_get_commits(self->store));
	aiq_metrics_append_header(out,
				  "automateiq_store_writes_total",
				  "counter",
				  "Writes the store committed (each a savepoint of a group).");
	aiq_metrics_append_sample(out,
				  "automateiq_store_writes_total",
				  NULL,
				  aiq_store_get_writes(self->store));
}

/**
 * aiq_metrics_render:
 *
 * Returns: (transfer full): every metric, in the Prometheus text format
 */
GBytes *
aiq_metrics_render(AiqMetrics *self)
{
	GString *out;
	g_autoptr(GPtrArray) routes = NULL;
	AiqGovernance *governance;

	g_return_val_if_fail(self != NULL, NULL);
	out = g_string_sized_new(64 * 1024);
	routes = g_ptr_array_new();
	governance = aiq_governance_get(self->server);

	/* the routes that were used, then the unmatched requests */
	g_mutex_lock(&self->routes_mutex);
	for (guint i = 0; i < self->routes->len; i++) {
		AiqMetricsRoute *route = g_ptr_array_index(self->routes, i);
		if (aiq_metrics_route_is_used(route))
			g_ptr_array_add(routes, route);
	}
	g_mutex_unlock(&self->routes_mutex);
	for (guint i = 0; i < AIQ_METRICS_N_METHODS; i++) {
		if (aiq_metrics_route_is_used(self->unmatched[i]))
			g_ptr_array_add(routes, self->unmatched[i]);
	}

	aiq_metrics_append_header(out,
				  "automateiq_build_info",
				  "gauge",
				  "The server's version; always 1.");
	aiq_metrics_append_sample(out,
				  "automateiq_build_info",
				  (const gchar *const[]){ "version", PACKAGE_VERSION, NULL },
				  1);
	aiq_metrics_render_requests(self, out, routes);

	aiq_metrics_append_header(out,
				  "automateiq_rate_limit_rejections_total",
				  "counter",
				  "Requests refused with 429 by a rate limit, by whose bucket was "
				  "empty.");
	for (guint s = 0; s < AIQ_RATE_SCOPE_LAST; s++)
		aiq_metrics_append_sample(
			out,
			"automateiq_rate_limit_rejections_total",
			(const gchar *const[]){ "scope",
						aiq_rate_scope_to_string((AiqRateScope)s),
						NULL },
			governance != NULL
				? aiq_governance_get_rejections(governance, (AiqRateScope)s)
				: 0);

	aiq_metrics_append_header(
		out,
		"automateiq_rate_limit_held_total",
		"counter",
		"Refusals answered a second late, to clients that kept sending far "
		"over their rate.");
	aiq_metrics_append_sample(out,
				  "automateiq_rate_limit_held_total",
				  NULL,
				  governance != NULL ? aiq_governance_get_held(governance) : 0);

	aiq_metrics_render_queue(self, out);
	aiq_metrics_append_header(out,
				  "automateiq_events_ingested_total",
				  "counter",
				  "Execution events accepted from agents.");
	aiq_metrics_append_sample(out,
				  "automateiq_events_ingested_total",
				  NULL,
				  __atomic_load_n(&self->events_ingested, __ATOMIC_RELAXED));
	aiq_metrics_render_store(self, out);
	return g_string_free_to_bytes(out);
}

/* the module */

static void
aiq_metrics_free(AiqMetrics *self)
{
	aiq_store_set_timing_func(self->store, NULL, NULL);
	g_object_unref(self->store);
	g_ptr_array_unref(self->routes);
	g_mutex_clear(&self->routes_mutex);
	for (guint i = 0; i < AIQ_METRICS_N_METHODS; i++)
		aiq_metrics_route_free(self->unmatched[i]);
	g_free(self);
}

/**
 * aiq_metrics_install:
 *
 * Makes the server's metrics (its "metrics" module), before its routes are
 * added, and has the store report its timings to it.
 */
void
aiq_metrics_install(AiqServer *server)
{
	AiqMetrics *self = g_new0(AiqMetrics, 1);
	self->server = server;
	self->store = g_object_ref(aiq_server_get_store(server));
	g_mutex_init(&self->routes_mutex);
	self->routes = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_metrics_route_free);
	for (guint i = 0; i < AIQ_METRICS_N_METHODS; i++)
		self->unmatched[i] = aiq_metrics_route_new(aiq_metrics_methods[i], "unmatched");
	aiq_metrics_histogram_init(&self->store_write_wait,
				   aiq_metrics_store_buckets_us,
				   G_N_ELEMENTS(aiq_metrics_store_buckets_us));
	aiq_metrics_histogram_init(&self->store_commit,
				   aiq_metrics_store_buckets_us,
				   G_N_ELEMENTS(aiq_metrics_store_buckets_us));
	aiq_store_set_timing_func(self->store, aiq_metrics_store_timing_cb, self);
	aiq_server_set_module(server, AIQ_METRICS_MODULE, self, (GDestroyNotify)aiq_metrics_free);
}

/**
 * aiq_metrics_get:
 *
 * Returns: (transfer none) (nullable): the server's metrics
 */
AiqMetrics *
aiq_metrics_get(AiqServer *server)
{
	return aiq_server_get_module(server, AIQ_METRICS_MODULE);
}
