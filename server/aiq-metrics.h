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

void
aiq_metrics_install(AiqServer *server);
AiqMetrics *
aiq_metrics_get(AiqServer *server);
void
aiq_metrics_add_events_ingested(AiqMetrics *self, guint n);

G_END_DECLS
