/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Usage: a tenant's limits and what it uses of them now, for `aiqctl
 * usage` and dashboards.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-error.h"
#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-routes.h"
#include "aiq-store-agents.h"
#include "aiq-store-executions.h"
#include "aiq-store-workflows.h"

/* the tenant asked about: the caller's, or for a platform admin the one
 * of `?tenant=ID`; %NULL when @req is answered */
static AiqTenant *
aiq_usage_get_tenant(AiqRequest *req)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	AiqPrincipal *principal = aiq_request_get_principal(req);
	const gchar *tenant_id = aiq_request_get_query(req, "tenant");
	g_autoptr(GError) error = NULL;
	AiqTenant *tenant;

	if (tenant_id == NULL) {
		tenant_id = principal->tenant_id;
	} else if (g_strcmp0(tenant_id, principal->tenant_id) != 0 &&
		   principal->role != AIQ_ROLE_PLATFORM_ADMIN) {
		aiq_request_respond_error(
			req,
			SOUP_STATUS_FORBIDDEN,
			aiq_error_code_to_string(AIQ_ERROR_FORBIDDEN),
			_("tenant: only a platform admin may read another tenant's usage"),
			NULL);
		return NULL;
	}
	tenant = aiq_store_get_tenant(store, tenant_id, &error);
	if (tenant == NULL)
		aiq_request_respond_gerror(req, error);
	return tenant;
}

static void
aiq_route_usage(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqStore *store = aiq_server_get_store(server);
	AiqGovernance *gov = aiq_governance_get(server);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTenant) tenant = NULL;
	g_autoptr(GDateTime) now = NULL;
	g_autofree gchar *bucket = NULL;
	g_autofree gchar *day = NULL;
	gint64 now_us = aiq_server_now(server);
	gint64 workflows = 0;
	gint64 agents = 0;
	gint64 today = 0;
	gint64 active = 0;
	AiqRateDecision requests = { 0 };
	AiqLimits limits;
	JsonObject *usage;
	JsonObject *obj;

	tenant = aiq_usage_get_tenant(req);
	if (tenant == NULL)
		return;
	if (!aiq_governance_get_limits(gov, tenant->id, &limits, &error) ||
	    !aiq_store_count_workflows(store, tenant->id, &workflows, &error) ||
	    !aiq_store_count_agents(store, tenant->id, &agents, &error) ||
	    !aiq_store_get_execution_usage(store,
					   tenant->id,
					   now_us / G_TIME_SPAN_DAY,
					   &today,
					   &active,
					   &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	/* what is left of the tenant's bucket, this request taken */
	bucket = g_strconcat("t:", tenant->id, NULL);
	aiq_governance_peek(gov,
			    bucket,
			    limits.values[AIQ_LIMIT_API_REQUESTS_PER_MINUTE],
			    limits.values[AIQ_LIMIT_API_BURST],
			    &requests);
	now = g_date_time_new_from_unix_utc(now_us / G_USEC_PER_SEC);
	day = g_date_time_format(now, "%Y-%m-%d");

	obj = json_object_new();
	json_object_set_string_member(obj, "tenant_id", tenant->id);
	json_object_set_string_member(obj, "tier", tenant->tier);
	json_object_set_string_member(obj, "day", day);
	json_object_set_object_member(obj, "limits", aiq_limits_to_json(&limits));
	usage = json_object_new();
	json_object_set_int_member(usage, "workflows", workflows);
	json_object_set_int_member(usage, "agents", agents);
	json_object_set_int_member(usage, "executions_today", today);
	json_object_set_int_member(usage, "concurrent_executions", active);
	json_object_set_int_member(usage, "api_requests_remaining", requests.remaining);
	json_object_set_object_member(obj, "usage", usage);
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(obj));
}

static const AiqRoute aiq_usage_routes[] = {
	{ "GET",
	  "/api/v1/usage",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_usage,
	  0,
	  "the tenant's limits and its use of them" },
};

void
aiq_routes_usage_register(AiqServer *server)
{
	aiq_server_add_routes(server, aiq_usage_routes, G_N_ELEMENTS(aiq_usage_routes));
}
