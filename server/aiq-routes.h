/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every domain of the API registers its routes here, and may run background
 * work (the scheduler, lease expiry) between start and stop.
 */

#pragma once

#include "aiq-server.h"

G_BEGIN_DECLS

gboolean
aiq_routes_register(AiqServer *server, GError **error);
void
aiq_routes_add_websocket_handlers(AiqServer *server, SoupServer *soup);
gboolean
aiq_routes_start(AiqServer *server, GError **error);
void
aiq_routes_stop(AiqServer *server);

/* one per domain, in aiq-routes-DOMAIN.c */
void
aiq_routes_system_register(AiqServer *server);
void
aiq_routes_identity_register(AiqServer *server);
void
aiq_routes_workflows_register(AiqServer *server);
void
aiq_routes_executions_register(AiqServer *server);
void
aiq_routes_agents_register(AiqServer *server);
gboolean
aiq_routes_webhooks_register(AiqServer *server, GError **error);
void
aiq_routes_events_register(AiqServer *server);
void
aiq_routes_events_add_websocket(AiqServer *server, SoupServer *soup);
void
aiq_routes_usage_register(AiqServer *server);
void
aiq_routes_audit_register(AiqServer *server);
void
aiq_routes_metrics_register(AiqServer *server);
void
aiq_routes_tenant_data_register(AiqServer *server);

/* background work of domains */
gboolean
aiq_queue_start(AiqServer *server, GError **error);
void
aiq_queue_stop(AiqServer *server);
gboolean
aiq_scheduler_start(AiqServer *server, GError **error);
gboolean
aiq_scheduler_tick(AiqServer *server, GError **error);
void
aiq_scheduler_stop(AiqServer *server);
gboolean
aiq_retention_start(AiqServer *server, GError **error);
void
aiq_retention_stop(AiqServer *server);

G_END_DECLS
