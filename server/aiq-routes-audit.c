/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The audit log, read: GET /api/v1/audit. Tenant admins read their own
 * tenant's log; platform admins the platform's (`scope=platform`, their
 * default) or any tenant's (`tenant=ID`). There is no route that changes or
 * deletes a record.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-api.h"
#include "aiq-error.h"
#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-routes.h"
#include "aiq-store-audit.h"
#include "aiq-store-identity.h"
#include "aiq-util.h"

#define AIQ_AUDIT_DEFAULT_LIMIT 100
#define AIQ_AUDIT_MAX_LIMIT 500
/* the longest actor, target or action a filter takes */
#define AIQ_AUDIT_MAX_FILTER 200

static const gchar *const aiq_audit_outcomes[] = { "success", "failure", "denied", NULL };
static const gchar *const aiq_audit_scopes[] = { "platform", "tenant", NULL };

static gboolean
aiq_audit_query_limit(AiqRequest *req, guint *limit, GError **error)
{
	const gchar *str = aiq_request_get_query(req, "limit");
	guint64 value = 0;
	*limit = AIQ_AUDIT_DEFAULT_LIMIT;
	if (str == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(str, 10, 1, AIQ_AUDIT_MAX_LIMIT, &value, NULL)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("limit: a whole number from 1 to %d"),
			    AIQ_AUDIT_MAX_LIMIT);
		return FALSE;
	}
	*limit = (guint)value;
	return TRUE;
}

/* a filter of printable text, not too long */
static gboolean
aiq_audit_query_text(AiqRequest *req, const gchar *name, const gchar **value, GError **error)
{
	const gchar *str = aiq_request_get_query(req, name);
	*value = NULL;
	if (str == NULL)
		return TRUE;
	if (str[0] == '\0' || !g_utf8_validate(str, -1, NULL) ||
	    g_utf8_strlen(str, -1) > AIQ_AUDIT_MAX_FILTER) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("%s: give 1 to %d characters"),
			    name,
			    AIQ_AUDIT_MAX_FILTER);
		return FALSE;
	}
	*value = str;
	return TRUE;
}

/* `workflow.create`, or a prefix `workflow.` */
static gboolean
aiq_audit_query_action(AiqRequest *req, const gchar **value, GError **error)
{
	if (!aiq_audit_query_text(req, "action", value, error))
		return FALSE;
	if (*value == NULL)
		return TRUE;
	for (const gchar *p = *value; *p != '\0'; p++) {
		if (!g_ascii_islower(*p) && *p != '_' && *p != '.') {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("action: an action such as workflow.create, or a "
					      "prefix such as workflow."));
			return FALSE;
		}
	}
	return TRUE;
}

/* whose log: the caller's tenant, or for a platform admin the platform's
 * or the one `tenant` names (by id or slug) */
static gchar *
aiq_audit_resolve_tenant(AiqRequest *req, GError **error)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqPrincipal *p = aiq_request_get_principal(req);
	const gchar *tenant = aiq_request_get_query(req, "tenant");
	const gchar *scope = NULL;
	g_autoptr(AiqTenant) row = NULL;
	g_autoptr(GError) error_local = NULL;

	if (!aiq_api_query_choice(req, "scope", aiq_audit_scopes, &scope, error))
		return NULL;
	if (p->role != AIQ_ROLE_PLATFORM_ADMIN) {
		if (tenant != NULL || g_strcmp0(scope, "platform") == 0) {
			g_set_error_literal(
				error,
				AIQ_ERROR,
				AIQ_ERROR_FORBIDDEN,
				tenant != NULL ? _("tenant: only a platform admin reads another "
						   "tenant's audit log")
					       : _("scope: only a platform admin reads the "
						   "platform's audit log"));
			return NULL;
		}
		return g_strdup(p->tenant_id);
	}
	if (tenant == NULL) {
		if (g_strcmp0(scope, "tenant") == 0) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("tenant: give the tenant whose log to read"));
			return NULL;
		}
		return g_strdup(p->tenant_id);
	}
	if (g_strcmp0(scope, "platform") == 0) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("scope: give either scope=platform or tenant, not both"));
		return NULL;
	}
	if (aiq_id_is_valid(tenant))
		row = aiq_store_get_tenant(aiq_server_get_store(server), tenant, &error_local);
	else
		row = aiq_store_get_tenant_by_slug(aiq_server_get_store(server),
						   tenant,
						   &error_local);
	if (row == NULL) {
		if (g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_NOT_FOUND))
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_NOT_FOUND,
				    _("tenant: no tenant “%s”"),
				    tenant);
		else
			g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	return g_strdup(row->id);
}

static void
aiq_route_audit_list(AiqRequest *req)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) records = NULL;
	g_autofree gchar *tenant_id = NULL;
	g_autofree gchar *next = NULL;
	AiqAuditFilter filter = { 0 };
	guint limit = AIQ_AUDIT_DEFAULT_LIMIT;
	JsonArray *items;

	if (!aiq_audit_query_limit(req, &limit, &error) ||
	    !aiq_audit_query_action(req, &filter.action, &error) ||
	    !aiq_audit_query_text(req, "actor", &filter.actor, &error) ||
	    !aiq_audit_query_text(req, "target", &filter.target, &error) ||
	    !aiq_api_query_choice(req, "outcome", aiq_audit_outcomes, &filter.outcome, &error) ||
	    !aiq_api_query_time(req, "since", &filter.since_us, &error) ||
	    !aiq_api_query_time(req, "until", &filter.until_us, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	if (filter.since_us > 0 && filter.until_us > 0 && filter.until_us <= filter.since_us) {
		aiq_request_respond_error(req,
					  SOUP_STATUS_BAD_REQUEST,
					  "invalid_argument",
					  _("until: must be after since"),
					  NULL);
		return;
	}
	tenant_id = aiq_audit_resolve_tenant(req, &error);
	if (tenant_id == NULL ||
	    (records = aiq_store_list_audit(store,
					    tenant_id,
					    &filter,
					    aiq_request_get_query(req, "cursor"),
					    limit,
					    &next,
					    &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	items = json_array_sized_new(records->len);
	for (guint i = 0; i < records->len; i++)
		json_array_add_object_element(
			items,
			aiq_audit_record_to_json(g_ptr_array_index(records, i)));
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_api_page(items, next));
}

static const AiqRoute aiq_audit_routes[] = {
	{ "GET",
	  "/api/v1/audit",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_audit_list,
	  0,
	  "the audit log, newest first" },
};

void
aiq_routes_audit_register(AiqServer *server)
{
	aiq_server_add_routes(server, aiq_audit_routes, G_N_ELEMENTS(aiq_audit_routes));
}
