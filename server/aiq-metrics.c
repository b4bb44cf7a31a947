/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include "aiq-metrics.h"

void
aiq_metrics_install(AiqServer *server)
{
}

AiqMetrics *
aiq_metrics_get(AiqServer *server)
{
	return aiq_server_get_module(server, "metrics");
}

void
aiq_metrics_add_events_ingested(AiqMetrics *self, guint n)
{
}
