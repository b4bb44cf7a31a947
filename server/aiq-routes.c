/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include "aiq-broker-private.h"
#include "aiq-cluster.h"
#include "aiq-routes.h"

gboolean
aiq_routes_register(AiqServer *server, GError **error)
{
	aiq_routes_system_register(server);
	aiq_routes_identity_register(server);
	aiq_routes_workflows_register(server);
	aiq_routes_executions_register(server);
	aiq_routes_agents_register(server);
	if (!aiq_routes_webhooks_register(server, error))
		return FALSE;
	aiq_routes_events_register(server);
	aiq_routes_usage_register(server);
	aiq_routes_audit_register(server);
	aiq_routes_metrics_register(server);
	aiq_routes_tenant_data_register(server);
	return TRUE;
}

void
aiq_routes_add_websocket_handlers(AiqServer *server, SoupServer *soup)
{
	aiq_routes_events_add_websocket(server, soup);
}

gboolean
aiq_routes_start(AiqServer *server, GError **error)
{
	if (!aiq_cluster_install(server, error))
		return FALSE;
	aiq_broker_listen_cluster(server);
	if (!aiq_queue_start(server, error))
		return FALSE;
	if (aiq_server_get_config(server)->scheduler && !aiq_scheduler_start(server, error))
		return FALSE;
	if (!aiq_retention_start(server, error))
		return FALSE;
	return TRUE;
}

void
aiq_routes_stop(AiqServer *server)
{
	/* subscribers hear 1001 while the threads still run */
	aiq_broker_shutdown(aiq_broker_get(server));
	aiq_retention_stop(server);
	aiq_scheduler_stop(server);
	aiq_queue_stop(server);
	aiq_cluster_stop(server);
}
