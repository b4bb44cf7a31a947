/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Health, readiness, the API root and who-am-I.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-api.h"
#include "aiq-json.h"
#include "aiq-routes.h"

static void
aiq_route_healthz(AiqRequest *req)
{
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "status", "ok");
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(obj));
}

static void
aiq_route_readyz(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	JsonObject *obj = json_object_new();
	if (!aiq_store_check(aiq_server_get_store(aiq_request_get_server(req)), &error)) {
		json_object_set_string_member(obj, "status", "unavailable");
		json_object_set_string_member(obj, "reason", error->message);
		aiq_request_set_header(req, "Retry-After", "5");
		aiq_request_respond_json(req,
					 SOUP_STATUS_SERVICE_UNAVAILABLE,
					 aiq_json_new_object(obj));
		return;
	}
	json_object_set_string_member(obj, "status", "ready");
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(obj));
}

static void
aiq_route_root(AiqRequest *req)
{
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "name", "AutomateIQ");
	json_object_set_string_member(obj, "version", PACKAGE_VERSION);
	json_object_set_string_member(obj, "api", "v1");
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(obj));
}

static void
aiq_route_me(AiqRequest *req)
{
	AiqPrincipal *p = aiq_request_get_principal(req);
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "tenant_id", p->tenant_id);
	json_object_set_string_member(obj, "tenant", p->tenant_slug);
	json_object_set_string_member(obj, "tier", p->tenant_tier);
	json_object_set_string_member(obj, "kind", aiq_token_kind_to_string(p->kind));
	json_object_set_string_member(obj, "role", aiq_role_to_string(p->role));
	if (p->subject_id != NULL)
		json_object_set_string_member(obj, "id", p->subject_id);
	if (p->subject_name != NULL)
		json_object_set_string_member(obj, "name", p->subject_name);
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(obj));
}

static const AiqRoute aiq_system_routes[] = {
	{ "GET", "/healthz", AIQ_ROLE_NONE, AIQ_ROUTE_INLINE, aiq_route_healthz, 0, "liveness" },
	{ "GET", "/readyz", AIQ_ROLE_NONE, AIQ_ROUTE_INLINE, aiq_route_readyz, 0, "readiness" },
	{ "GET", "/api/v1", AIQ_ROLE_NONE, AIQ_ROUTE_INLINE, aiq_route_root, 0, "the API" },
	{ "GET", "/api/v1/me", AIQ_ROLE_VIEWER, AIQ_ROUTE_INLINE, aiq_route_me, 0, "who am I" },
};

void
aiq_routes_system_register(AiqServer *server)
{
	aiq_server_add_routes(server, aiq_system_routes, G_N_ELEMENTS(aiq_system_routes));
}
