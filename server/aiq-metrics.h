/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-server.h"

G_BEGIN_DECLS

/**
 * AiqMetrics:
 *
 * The server's Prometheus metrics: counters and histograms fed by the
 * request path, the queue and the store, rendered by `GET /metrics`.
 * Thread-safe; labels are bounded (route templates, never ids).
 */
typedef struct _AiqMetrics AiqMetrics;

/**
 * AiqMetricsRoute:
 *
 * The series of one route (a method and a path template): its requests by
 * status code and its latency histogram. Made once per route when the
 * route is added, then updated without locks.
 */
typedef struct _AiqMetricsRoute AiqMetricsRoute;

/**
 * AiqMetricsAccess:
 * @AIQ_METRICS_ACCESS_ALLOWED: may read the metrics
 * @AIQ_METRICS_ACCESS_FORBIDDEN: not from loopback, and no token given or
 *   none configured (403)
 * @AIQ_METRICS_ACCESS_UNAUTHORIZED: a token was given and it is wrong (401)
 */
typedef enum {
	AIQ_METRICS_ACCESS_ALLOWED,
	AIQ_METRICS_ACCESS_FORBIDDEN,
	AIQ_METRICS_ACCESS_UNAUTHORIZED,
} AiqMetricsAccess;

void
aiq_metrics_install(AiqServer *server);
AiqMetrics *
aiq_metrics_get(AiqServer *server);
void
aiq_metrics_add_events_ingested(AiqMetrics *self, guint n);

AiqMetricsRoute *
aiq_metrics_add_route(AiqMetrics *self, const gchar *method, const gchar *path);
void
aiq_metrics_observe_request(AiqMetrics *self,
			    AiqMetricsRoute *route,
			    const gchar *method,
			    guint status,
			    gint64 duration_us);

AiqMetricsAccess
aiq_metrics_check_access(const gchar *remote_address,
			 gboolean forwarded,
			 const gchar *authorization,
			 const gchar *token);
GBytes *
aiq_metrics_render(AiqMetrics *self);

G_END_DECLS
