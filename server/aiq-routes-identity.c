/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Identity: logging in and out, tenants (platform admins), users and API
 * keys (tenant admins).
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-api.h"
#include "aiq-error.h"
#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-routes.h"
#include "aiq-util.h"

#define AIQ_IDENTITY_LOGIN_MAX_BODY (16 * 1024)
#define AIQ_IDENTITY_NAME_MAX 200
#define AIQ_IDENTITY_USERNAME_MAX 64
#define AIQ_IDENTITY_KEY_NAME_MAX 100
#define AIQ_IDENTITY_RETENTION_MAX 3650

static const gchar *const aiq_identity_tiers[] = { "free",
						   "standard",
						   "premium",
						   "enterprise",
						   NULL };
static const gchar *const aiq_identity_statuses[] = { "active", "suspended", NULL };

/* wire forms */

/* with its limits now (`limits`, resolved from its tier, the server's
 * configuration and its own) and its own (`limit_overrides`) */
static JsonObject *
aiq_identity_tenant_to_json(AiqServer *server, const AiqTenant *tenant)
{
	g_autoptr(GError) error = NULL;
	JsonObject *obj = json_object_new();
	AiqLimits limits;
	json_object_set_string_member(obj, "id", tenant->id);
	json_object_set_string_member(obj, "slug", tenant->slug);
	json_object_set_string_member(obj, "name", tenant->name);
	json_object_set_string_member(obj, "tier", tenant->tier);
	json_object_set_int_member(obj, "retention_days", tenant->retention_days);
	json_object_set_string_member(obj, "status", tenant->status);
	aiq_api_set_time(obj, "created", tenant->created_us);
	aiq_api_set_time(obj, "updated", tenant->updated_us);
	if (aiq_governance_get_limits(aiq_governance_get(server), tenant->id, &limits, &error)) {
		json_object_set_object_member(obj, "limits", aiq_limits_to_json(&limits));
	} else {
		g_warning("failed to resolve the limits of tenant %s: %s",
			  tenant->id,
			  error->message);
		json_object_set_null_member(obj, "limits");
	}
	if (tenant->limits != NULL && JSON_NODE_HOLDS_OBJECT(tenant->limits))
		json_object_set_member(obj, "limit_overrides", json_node_copy(tenant->limits));
	else
		json_object_set_null_member(obj, "limit_overrides");
	return obj;
}

/* never the password hash */
static JsonObject *
aiq_identity_user_to_json(const AiqUser *user)
{
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "id", user->id);
	json_object_set_string_member(obj, "username", user->username);
	if (user->display_name != NULL)
		json_object_set_string_member(obj, "display_name", user->display_name);
	else
		json_object_set_null_member(obj, "display_name");
	json_object_set_string_member(obj, "role", user->role);
	json_object_set_boolean_member(obj, "disabled", user->disabled);
	aiq_api_set_time(obj, "created", user->created_us);
	aiq_api_set_time(obj, "updated", user->updated_us);
	aiq_api_set_time(obj, "last_login", user->last_login_us);
	return obj;
}

/* never the token, which only its creator saw once */
static JsonObject *
aiq_identity_key_to_json(const AiqTokenRow *row)
{
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "id", row->id);
	json_object_set_string_member(obj, "name", row->name != NULL ? row->name : "");
	json_object_set_string_member(obj, "role", row->role != NULL ? row->role : "viewer");
	aiq_api_set_time(obj, "created", row->created_us);
	aiq_api_set_time(obj, "expires_at", row->expires_us);
	aiq_api_set_time(obj, "last_used", row->last_used_us);
	if (row->data != NULL && JSON_NODE_HOLDS_OBJECT(row->data) &&
	    aiq_json_object_get_int(json_node_get_object(row->data), "requests_per_minute", 0) > 0)
		json_object_set_int_member(obj,
					   "requests_per_minute",
					   aiq_json_object_get_int(json_node_get_object(row->data),
								   "requests_per_minute",
								   0));
	else
		json_object_set_null_member(obj, "requests_per_minute");
	return obj;
}

/* the audit trail: what a change changed, never a secret */

/* @from and @to: (transfer full) (nullable): JSON null for %NULL */
static void
aiq_identity_audit_change(AiqRequest *req, const gchar *field, JsonNode *from, JsonNode *to)
{
	JsonObject *change = json_object_new();
	json_object_set_member(change, "from", from != NULL ? from : json_node_new(JSON_NODE_NULL));
	json_object_set_member(change, "to", to != NULL ? to : json_node_new(JSON_NODE_NULL));
	aiq_request_add_audit_detail(req, field, aiq_json_new_object(change));
}

static void
aiq_identity_audit_string_change(AiqRequest *req,
				 const gchar *field,
				 const gchar *from,
				 const gchar *to)
{
	if (to == NULL || g_strcmp0(from, to) == 0)
		return;
	aiq_identity_audit_change(req,
				  field,
				  from != NULL ? aiq_json_new_string(from) : NULL,
				  aiq_json_new_string(to));
}

/* reading bodies */

/* a string member of 1 to @max_chars characters without control characters */
static gboolean
aiq_identity_get_text(JsonObject *obj,
		      const gchar *member,
		      gboolean required,
		      glong max_chars,
		      const gchar **value,
		      GError **error)
{
	const gchar *str;
	glong len;
	if (!aiq_api_lookup_string(obj, member, required, &str, error))
		return FALSE;
	if (str == NULL) {
		*value = NULL;
		return TRUE;
	}
	len = g_utf8_strlen(str, -1);
	if (len < 1 || len > max_chars) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("%s: use 1 to %ld characters"),
			    member,
			    max_chars);
		return FALSE;
	}
	for (const gchar *p = str; *p != '\0'; p = g_utf8_next_char(p)) {
		if (g_unichar_iscntrl(g_utf8_get_char(p))) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("%s: control characters are not allowed"),
				    member);
			return FALSE;
		}
	}
	*value = str;
	return TRUE;
}

/* a member that must be one of @choices */
static gboolean
aiq_identity_get_choice(JsonObject *obj,
			const gchar *member,
			gboolean required,
			const gchar *const *choices,
			const gchar **value,
			GError **error)
{
	const gchar *str;
	if (!aiq_api_lookup_string(obj, member, required, &str, error))
		return FALSE;
	if (str != NULL && !g_strv_contains(choices, str)) {
		g_autofree gchar *list = g_strjoinv(", ", (gchar **)choices);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("%s: expected one of %s"),
			    member,
			    list);
		return FALSE;
	}
	*value = str;
	return TRUE;
}

/* `[a-z0-9][a-z0-9-]{1,62}` */
static gboolean
aiq_identity_slug_is_valid(const gchar *slug)
{
	gsize len = strlen(slug);
	if (len < 2 || len > 63)
		return FALSE;
	if (!g_ascii_islower(slug[0]) && !g_ascii_isdigit(slug[0]))
		return FALSE;
	for (gsize i = 1; i < len; i++) {
		if (!g_ascii_islower(slug[i]) && !g_ascii_isdigit(slug[i]) && slug[i] != '-')
			return FALSE;
	}
	return TRUE;
}

/* 1 to 64 letters, digits and `.`, `_`, `-`, `@`, starting with a letter or
 * digit */
static gboolean
aiq_identity_username_is_valid(const gchar *username)
{
	gsize len = strlen(username);
	if (len < 1 || len > AIQ_IDENTITY_USERNAME_MAX || !g_ascii_isalnum(username[0]))
		return FALSE;
	for (gsize i = 1; i < len; i++) {
		gchar c = username[i];
		if (!g_ascii_isalnum(c) && c != '.' && c != '_' && c != '-' && c != '@')
			return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_identity_get_username(JsonObject *obj, const gchar **value, GError **error)
{
	if (!aiq_identity_get_text(obj, "username", TRUE, AIQ_IDENTITY_USERNAME_MAX, value, error))
		return FALSE;
	if (!aiq_identity_username_is_valid(*value)) {
		g_set_error_literal(
			error,
			AIQ_ERROR,
			AIQ_ERROR_INVALID_INPUT,
			_("username: use 1 to 64 letters, digits, “.”, “_”, “-” or “@”, "
			  "starting with a letter or digit"));
		return FALSE;
	}
	return TRUE;
}

/* a password member, strong enough; the strength rule answers 422 here */
static gboolean
aiq_identity_get_password(JsonObject *obj, gboolean required, const gchar **value, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	const gchar *password;
	if (!aiq_api_lookup_string(obj, "password", required, &password, error))
		return FALSE;
	if (password != NULL && !aiq_auth_check_password_strength(password, &error_local)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    error_local->message);
		return FALSE;
	}
	*value = password;
	return TRUE;
}

/**
 * aiq_identity_get_role:
 * @caller: who grants the role; nobody grants more than they have
 *
 * A role a person or key may be given: viewer, editor, tenant_admin, and
 * platform_admin only by a platform admin. 422 for something else, 403
 * for a role above the caller's.
 */
static gboolean
aiq_identity_get_role(JsonObject *obj,
		      gboolean required,
		      AiqPrincipal *caller,
		      AiqRole *role,
		      GError **error)
{
	const gchar *str;
	if (!aiq_api_lookup_string(obj, "role", required, &str, error))
		return FALSE;
	if (str == NULL) {
		*role = AIQ_ROLE_NONE;
		return TRUE;
	}
	if (!aiq_role_from_string(str, role) || *role == AIQ_ROLE_AGENT) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("role: expected viewer, editor or tenant_admin"));
		return FALSE;
	}
	if (!aiq_role_satisfies(caller->role, *role)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FORBIDDEN,
			    _("role: you can’t grant %s, which is above your own role"),
			    str);
		return FALSE;
	}
	return TRUE;
}

/* the principal's user acting on itself (sessions only: an API key is a
 * credential of its own, even when a user made it) */
static gboolean
aiq_identity_is_self(AiqPrincipal *p, const gchar *user_id)
{
	return p->kind == AIQ_TOKEN_KIND_SESSION && g_strcmp0(p->subject_id, user_id) == 0;
}

/* logging in */

/* a hash to verify against when there is no user, so that an unknown
 * tenant or user costs as much as a wrong password */
static const gchar *
aiq_identity_dummy_hash(void)
{
	static gchar *dummy = NULL;
	if (g_once_init_enter(&dummy)) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *random = g_uuid_string_random();
		gchar *hash = aiq_auth_hash_password(random, &error);
		if (hash == NULL) {
			g_warning("failed to make the dummy password hash: %s", error->message);
			hash = g_strdup("");
		}
		g_once_init_leave(&dummy, hash);
	}
	return dummy;
}

static void
aiq_identity_respond_bad_login(AiqRequest *req)
{
	aiq_request_respond_error(req,
				  SOUP_STATUS_UNAUTHORIZED,
				  "invalid_credentials",
				  _("the tenant, user name or password is wrong"),
				  NULL);
}

static void
aiq_route_login(AiqRequest *req)
{
	const gchar *const known[] = { "tenant", "username", "password", NULL };
	AiqServer *server = aiq_request_get_server(req);
	AiqStore *store = aiq_server_get_store(server);
	AiqAuth *auth = aiq_server_get_auth(server);
	const gchar *address = aiq_request_get_remote_address(req);
	const gchar *dummy = aiq_identity_dummy_hash();
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(AiqTenant) tenant = NULL;
	g_autoptr(AiqUser) user = NULL;
	g_autoptr(AiqTokenRow) row = NULL;
	g_autofree gchar *account = NULL;
	g_autofree gchar *token = NULL;
	const gchar *slug;
	const gchar *username;
	const gchar *password;
	gboolean verified;
	gint64 retry_after_s = 1;
	gint64 now;
	JsonObject *obj;
	JsonObject *answer;

	obj = aiq_api_read_body(req, known, &body, &error);
	if (obj == NULL || (slug = aiq_api_get_string(obj, "tenant", TRUE, &error)) == NULL ||
	    (username = aiq_api_get_string(obj, "username", TRUE, &error)) == NULL ||
	    (password = aiq_api_get_string(obj, "password", TRUE, &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}

	/* throttled per account and per source address */
	account = g_strdup_printf("%s/%s", slug, username);
	if (!aiq_auth_login_allowed(auth, account, address, &retry_after_s)) {
		g_autofree gchar *value = g_strdup_printf("%" G_GINT64_FORMAT, retry_after_s);
		guint wait_s = (guint)MIN(retry_after_s, G_MAXUINT);
		g_autofree gchar *message =
			g_strdup_printf(ngettext("too many failed logins; try again in %u second",
						 "too many failed logins; try again in %u seconds",
						 wait_s),
					wait_s);
		aiq_request_set_header(req, "Retry-After", value);
		aiq_request_respond_error(req, 429, "rate_limited", message, NULL);
		return;
	}

	tenant = aiq_store_get_tenant_by_slug(store, slug, &error);
	if (tenant == NULL && !g_error_matches(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	g_clear_error(&error);
	if (tenant != NULL) {
		user = aiq_store_get_user_by_name(store, tenant->id, username, &error);
		if (user == NULL && !g_error_matches(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND)) {
			aiq_request_respond_gerror(req, error);
			return;
		}
		g_clear_error(&error);
	}

	/* the attempt goes to the tenant's audit log (the platform's when there
	 * is no such tenant) */
	if (tenant != NULL)
		aiq_request_set_audit_tenant(req, tenant->id);
	aiq_request_set_audit_actor(req, "user", user != NULL ? user->id : NULL, username);
	aiq_request_set_audit_target(req, "user", user != NULL ? user->id : NULL);

	/* always one Argon2id verification, whether there is a user or not */
	verified = aiq_auth_verify_password(user != NULL ? user->password_hash : dummy, password);
	if (!verified || user == NULL || user->disabled) {
		g_autofree gchar *shown = g_strescape(account, NULL);
		aiq_auth_login_failed(auth, account, address);
		g_info("failed login for \"%s\" from %s: %s",
		       shown,
		       address,
		       tenant == NULL ? "no such tenant"
		       : user == NULL ? "no such user"
		       : !verified    ? "wrong password"
				      : "user disabled");
		aiq_identity_respond_bad_login(req);
		return;
	}
	aiq_auth_login_succeeded(auth, account, address);

	/* only who knows the password learns the tenant is suspended */
	if (g_strcmp0(tenant->status, "active") != 0) {
		g_autofree gchar *message =
			g_strdup_printf(_("the tenant “%s” is %s"), tenant->slug, tenant->status);
		aiq_request_respond_error(req, SOUP_STATUS_FORBIDDEN, "forbidden", message, NULL);
		return;
	}

	token = aiq_auth_issue(auth,
			       AIQ_TOKEN_KIND_SESSION,
			       tenant->id,
			       user->id,
			       NULL,
			       user->username,
			       aiq_server_get_config(server)->session_ttl_us,
			       NULL,
			       &row,
			       &error);
	if (token == NULL) {
		g_prefix_error(&error, "failed to issue a session: ");
		aiq_request_respond_gerror(req, error);
		return;
	}
	now = aiq_server_now(server);
	if (!aiq_store_touch_user_login(store, tenant->id, user->id, now, &error)) {
		/* the login stands; only its time is missing */
		g_warning("failed to record the login of %s: %s", user->id, error->message);
		g_clear_error(&error);
	} else {
		user->last_login_us = now;
	}

	answer = json_object_new();
	json_object_set_string_member(answer, "token", token);
	aiq_api_set_time(answer, "expires_at", row->expires_us);
	json_object_set_object_member(answer, "user", aiq_identity_user_to_json(user));
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(answer));
}

static void
aiq_route_logout(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqPrincipal *p = aiq_request_get_principal(req);
	g_autoptr(GError) error = NULL;

	if (p->kind != AIQ_TOKEN_KIND_SESSION) {
		aiq_request_respond_error(
			req,
			SOUP_STATUS_FORBIDDEN,
			"forbidden",
			_("only a session logs out; revoke an API key with DELETE /api/v1/api-keys/ID"),
			NULL);
		return;
	}
	if (!aiq_store_revoke_token(aiq_server_get_store(server),
				    p->tenant_id,
				    p->token_id,
				    AIQ_TOKEN_KIND_SESSION,
				    &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_auth_invalidate(aiq_server_get_auth(server));
	aiq_request_respond_json(req, SOUP_STATUS_NO_CONTENT, NULL);
}

/* tenants, for platform admins */

static void
aiq_route_tenants_list(AiqRequest *req)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) tenants = NULL;
	g_autofree gchar *next = NULL;
	guint limit = AIQ_API_DEFAULT_LIMIT;
	JsonArray *items;

	if (!aiq_request_get_limit(req, &limit, &error) ||
	    (tenants = aiq_store_list_tenants(store,
					      aiq_request_get_query(req, "cursor"),
					      limit,
					      &next,
					      &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	items = json_array_new();
	for (guint i = 0; i < tenants->len; i++)
		json_array_add_object_element(
			items,
			aiq_identity_tenant_to_json(aiq_request_get_server(req),
						    g_ptr_array_index(tenants, i)));
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_api_page(items, next));
}

static void
aiq_route_tenants_create(AiqRequest *req)
{
	const gchar *const known[] = { "slug", "name", "tier", "retention_days", "admin", NULL };
	const gchar *const admin_known[] = { "username", "password", "display_name", NULL };
	AiqServer *server = aiq_request_get_server(req);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(AiqTenant) tenant = NULL;
	g_autoptr(AiqUser) admin_user = NULL;
	g_autofree gchar *hash = NULL;
	const gchar *slug = NULL;
	const gchar *name = NULL;
	const gchar *tier = NULL;
	const gchar *username = NULL;
	const gchar *password = NULL;
	const gchar *display_name = NULL;
	gint64 retention_days = 0;
	AiqTier tier_id = AIQ_TIER_FREE;
	JsonObject *obj;
	JsonObject *admin;
	JsonObject *answer;

	obj = aiq_api_read_body(req, known, &body, &error);
	if (obj == NULL || !aiq_identity_get_text(obj, "slug", TRUE, 63, &slug, &error) ||
	    !aiq_identity_get_text(obj, "name", TRUE, AIQ_IDENTITY_NAME_MAX, &name, &error) ||
	    !aiq_identity_get_choice(obj, "tier", TRUE, aiq_identity_tiers, &tier, &error) ||
	    !aiq_api_get_int(obj,
			     "retention_days",
			     1,
			     AIQ_IDENTITY_RETENTION_MAX,
			     &retention_days,
			     &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	if (!aiq_identity_slug_is_valid(slug)) {
		aiq_request_respond_error(req,
					  SOUP_STATUS_UNPROCESSABLE_ENTITY,
					  "invalid_input",
					  _("slug: use 2 to 63 lower-case letters, digits and “-”, "
					    "starting with a letter or digit"),
					  NULL);
		return;
	}
	/* the first tenant admin, checked in full before anything is made */
	admin = aiq_api_get_object(obj, "admin", &error);
	if (admin == NULL && error == NULL)
		g_set_error_literal(&error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("admin: required"));
	if (admin == NULL || !aiq_api_check_members(admin, admin_known, &error) ||
	    !aiq_identity_get_username(admin, &username, &error) ||
	    !aiq_identity_get_password(admin, TRUE, &password, &error) ||
	    !aiq_identity_get_text(admin,
				   "display_name",
				   FALSE,
				   AIQ_IDENTITY_NAME_MAX,
				   &display_name,
				   &error)) {
		if (admin != NULL)
			g_prefix_error(&error, "admin.");
		aiq_request_respond_gerror(req, error);
		return;
	}

	/* the hot retention of its tier, unless given */
	if (retention_days == 0 && aiq_tier_from_string(tier, &tier_id))
		retention_days = aiq_server_get_config(server)
					 ->tier_limits[tier_id]
					 .values[AIQ_LIMIT_RETENTION_DAYS];
	retention_days = CLAMP(retention_days, 1, AIQ_IDENTITY_RETENTION_MAX);

	hash = aiq_auth_hash_password(password, &error);
	if (hash == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	tenant = aiq_store_create_tenant_with_admin(aiq_server_get_store(server),
						    slug,
						    name,
						    tier,
						    (gint)retention_days,
						    username,
						    display_name,
						    hash,
						    aiq_server_now(server),
						    &admin_user,
						    &error);
	if (tenant == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	g_info("tenant %s (%s) created with admin %s", tenant->slug, tenant->id, admin_user->id);
	aiq_request_add_audit_detail(req, "slug", aiq_json_new_string(tenant->slug));
	aiq_request_add_audit_detail(req, "tier", aiq_json_new_string(tenant->tier));
	aiq_request_add_audit_detail(req, "admin", aiq_json_new_string(admin_user->username));
	answer = aiq_identity_tenant_to_json(server, tenant);
	json_object_set_object_member(answer, "admin", aiq_identity_user_to_json(admin_user));
	aiq_request_respond_json(req, SOUP_STATUS_CREATED, aiq_json_new_object(answer));
}

static void
aiq_route_tenants_get(AiqRequest *req)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTenant) tenant =
		aiq_store_get_tenant(store, aiq_request_get_param(req, "id"), &error);
	if (tenant == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_respond_json(
		req,
		SOUP_STATUS_OK,
		aiq_json_new_object(
			aiq_identity_tenant_to_json(aiq_request_get_server(req), tenant)));
}

/* `limits` of a PATCH: null (every override removed) or an object whose
 * members set an override, or remove it when null; checked in full */
static gboolean
aiq_identity_get_limits_patch(JsonObject *obj,
			      gboolean *present,
			      JsonObject **patch,
			      GError **error)
{
	JsonNode *node = json_object_get_member(obj, "limits");
	*present = node != NULL;
	*patch = NULL;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_INPUT,
			    _("limits: expected an object of limits or null, got %s"),
			    aiq_json_type_name(node));
		return FALSE;
	}
	if (!aiq_limits_check_overrides(json_node_get_object(node), error))
		return FALSE;
	/* the hot retention is the tenant's own retention_days */
	if (json_object_has_member(json_node_get_object(node),
				   aiq_limit_to_string(AIQ_LIMIT_RETENTION_DAYS))) {
		g_set_error_literal(
			error,
			AIQ_ERROR,
			AIQ_ERROR_INVALID_INPUT,
			_("limits.retention_days: set the tenant's retention_days instead"));
		return FALSE;
	}
	*patch = json_node_get_object(node);
	return TRUE;
}

/* the tenant's overrides after @patch: %NULL when none is left */
static JsonObject *
aiq_identity_merge_limits(const AiqTenant *tenant, JsonObject *patch)
{
	g_autoptr(JsonObject) merged = json_object_new();
	JsonObjectIter iter;
	const gchar *name;
	JsonNode *value;

	if (patch == NULL)
		return NULL;
	if (tenant->limits != NULL && JSON_NODE_HOLDS_OBJECT(tenant->limits)) {
		json_object_iter_init_ordered(&iter, json_node_get_object(tenant->limits));
		while (json_object_iter_next_ordered(&iter, &name, &value))
			json_object_set_member(merged, name, json_node_copy(value));
	}
	json_object_iter_init_ordered(&iter, patch);
	while (json_object_iter_next_ordered(&iter, &name, &value)) {
		if (JSON_NODE_HOLDS_NULL(value))
			json_object_remove_member(merged, name);
		else
			json_object_set_member(merged, name, json_node_copy(value));
	}
	if (json_object_get_size(merged) == 0)
		return NULL;
	return g_steal_pointer(&merged);
}

static gboolean
aiq_identity_limits_equal(JsonNode *a, JsonObject *b)
{
	g_autoptr(JsonNode) b_node = b != NULL ? aiq_json_new_object(json_object_ref(b)) : NULL;
	g_autofree gchar *a_text = a != NULL ? aiq_json_to_string(a, FALSE) : NULL;
	g_autofree gchar *b_text = b_node != NULL ? aiq_json_to_string(b_node, FALSE) : NULL;
	return g_strcmp0(a_text, b_text) == 0;
}

static void
aiq_route_tenants_update(AiqRequest *req)
{
	const gchar *const known[] = { "name", "tier", "retention_days", "status", "limits", NULL };
	AiqServer *server = aiq_request_get_server(req);
	AiqStore *store = aiq_server_get_store(server);
	AiqPrincipal *p = aiq_request_get_principal(req);
	const gchar *id = aiq_request_get_param(req, "id");
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(AiqTenant) tenant = NULL;
	g_autoptr(AiqTenant) updated = NULL;
	g_autoptr(JsonObject) limits = NULL;
	const gchar *name = NULL;
	const gchar *tier = NULL;
	const gchar *status = NULL;
	gint64 retention_days = 0;
	gboolean has_limits = FALSE;
	gboolean limits_changed = FALSE;
	JsonObject *limits_patch = NULL;
	JsonObject *obj;

	obj = aiq_api_read_body(req, known, &body, &error);
	if (obj == NULL ||
	    !aiq_identity_get_text(obj, "name", FALSE, AIQ_IDENTITY_NAME_MAX, &name, &error) ||
	    !aiq_identity_get_choice(obj, "tier", FALSE, aiq_identity_tiers, &tier, &error) ||
	    !aiq_api_get_int(obj,
			     "retention_days",
			     1,
			     AIQ_IDENTITY_RETENTION_MAX,
			     &retention_days,
			     &error) ||
	    !aiq_identity_get_choice(obj,
				     "status",
				     FALSE,
				     aiq_identity_statuses,
				     &status,
				     &error) ||
	    !aiq_identity_get_limits_patch(obj, &has_limits, &limits_patch, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	tenant = aiq_store_get_tenant(store, id, &error);
	if (tenant == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	/* platform admins would lock themselves out */
	if (g_strcmp0(status, "suspended") == 0 &&
	    (g_strcmp0(tenant->id, p->tenant_id) == 0 ||
	     g_strcmp0(tenant->slug, AIQ_PLATFORM_TENANT_SLUG) == 0)) {
		aiq_request_respond_error(req,
					  SOUP_STATUS_CONFLICT,
					  "conflict",
					  _("the platform tenant can’t be suspended"),
					  NULL);
		return;
	}
	if (has_limits) {
		limits = aiq_identity_merge_limits(tenant, limits_patch);
		limits_changed = !aiq_identity_limits_equal(tenant->limits, limits);
	}

	/* the record says what changed, and a change of status is its own
	 * action */
	if (status != NULL && g_strcmp0(status, tenant->status) != 0)
		aiq_request_set_audit_action(
			req,
			g_strcmp0(status, "suspended") == 0 ? "tenant.suspend" : "tenant.activate");
	aiq_identity_audit_string_change(req, "name", tenant->name, name);
	aiq_identity_audit_string_change(req, "tier", tenant->tier, tier);
	aiq_identity_audit_string_change(req, "status", tenant->status, status);
	if (retention_days > 0 && retention_days != tenant->retention_days)
		aiq_identity_audit_change(req,
					  "retention_days",
					  aiq_json_new_int(tenant->retention_days),
					  aiq_json_new_int(retention_days));
	if (limits_changed)
		aiq_identity_audit_change(
			req,
			"limits",
			tenant->limits != NULL ? json_node_copy(tenant->limits) : NULL,
			limits != NULL ? aiq_json_new_object(json_object_ref(limits)) : NULL);

	if (!aiq_store_update_tenant(store,
				     tenant->id,
				     name,
				     tier,
				     (gint)retention_days,
				     status,
				     &error) ||
	    (limits_changed && !aiq_store_set_tenant_limits(store, tenant->id, limits, &error))) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	/* new limits hold at once */
	if (tier != NULL || retention_days > 0 || limits_changed)
		aiq_governance_invalidate(aiq_governance_get(server), tenant->id);
	/* a suspension (or a new tier) holds from the next request on */
	if (status != NULL || tier != NULL)
		aiq_auth_invalidate(aiq_server_get_auth(server));
	if (status != NULL && g_strcmp0(status, tenant->status) != 0)
		g_info("tenant %s (%s) is now %s", tenant->slug, tenant->id, status);
	updated = aiq_store_get_tenant(store, tenant->id, &error);
	if (updated == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_respond_json(req,
				 SOUP_STATUS_OK,
				 aiq_json_new_object(aiq_identity_tenant_to_json(server, updated)));
}

/* users, for tenant admins, in their own tenant */

static void
aiq_route_users_list(AiqRequest *req)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) users = NULL;
	g_autofree gchar *next = NULL;
	guint limit = AIQ_API_DEFAULT_LIMIT;
	JsonArray *items;

	if (!aiq_request_get_limit(req, &limit, &error) ||
	    (users = aiq_store_list_users(store,
					  aiq_request_get_tenant_id(req),
					  aiq_request_get_query(req, "cursor"),
					  limit,
					  &next,
					  &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	items = json_array_new();
	for (guint i = 0; i < users->len; i++)
		json_array_add_object_element(
			items,
			aiq_identity_user_to_json(g_ptr_array_index(users, i)));
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_api_page(items, next));
}

static void
aiq_route_users_create(AiqRequest *req)
{
	const gchar *const known[] = { "username", "display_name", "role", "password", NULL };
	AiqServer *server = aiq_request_get_server(req);
	AiqPrincipal *p = aiq_request_get_principal(req);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(AiqUser) user = NULL;
	g_autofree gchar *hash = NULL;
	const gchar *username = NULL;
	const gchar *display_name = NULL;
	const gchar *password = NULL;
	AiqRole role = AIQ_ROLE_NONE;
	JsonObject *obj;

	obj = aiq_api_read_body(req, known, &body, &error);
	if (obj == NULL || !aiq_identity_get_username(obj, &username, &error) ||
	    !aiq_identity_get_text(obj,
				   "display_name",
				   FALSE,
				   AIQ_IDENTITY_NAME_MAX,
				   &display_name,
				   &error) ||
	    !aiq_identity_get_role(obj, TRUE, p, &role, &error) ||
	    !aiq_identity_get_password(obj, TRUE, &password, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	hash = aiq_auth_hash_password(password, &error);
	if (hash == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	user = aiq_store_create_user(aiq_server_get_store(server),
				     aiq_request_get_tenant_id(req),
				     username,
				     display_name,
				     aiq_role_to_string(role),
				     hash,
				     &error);
	if (user == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_add_audit_detail(req, "username", aiq_json_new_string(user->username));
	aiq_request_add_audit_detail(req, "role", aiq_json_new_string(user->role));
	aiq_request_respond_json(req,
				 SOUP_STATUS_CREATED,
				 aiq_json_new_object(aiq_identity_user_to_json(user)));
}

/* the user of the path, in the caller's tenant (another tenant's: 404),
 * whom the caller may manage: nobody manages a user above their own role */
static AiqUser *
aiq_identity_load_user(AiqRequest *req, GError **error)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	AiqPrincipal *p = aiq_request_get_principal(req);
	g_autoptr(AiqUser) user = aiq_store_get_user(store,
						     aiq_request_get_tenant_id(req),
						     aiq_request_get_param(req, "id"),
						     error);
	AiqRole role = AIQ_ROLE_NONE;
	if (user == NULL)
		return NULL;
	if (!aiq_role_from_string(user->role, &role) || !aiq_role_satisfies(p->role, role)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FORBIDDEN,
			    _("the user “%s” is a %s, above your own role"),
			    user->username,
			    user->role);
		return NULL;
	}
	return g_steal_pointer(&user);
}

/* their sessions fail at once; their API keys are the tenant's and stay */
static gboolean
aiq_identity_end_sessions(AiqServer *server,
			  const gchar *tenant_id,
			  const gchar *user_id,
			  GError **error)
{
	if (!aiq_store_revoke_tokens_of(aiq_server_get_store(server),
					tenant_id,
					user_id,
					AIQ_TOKEN_KIND_SESSION,
					error)) {
		g_prefix_error(error, "failed to revoke the sessions of %s: ", user_id);
		return FALSE;
	}
	aiq_auth_invalidate(aiq_server_get_auth(server));
	return TRUE;
}

static void
aiq_route_users_get(AiqRequest *req)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqUser) user = aiq_store_get_user(store,
						     aiq_request_get_tenant_id(req),
						     aiq_request_get_param(req, "id"),
						     &error);
	if (user == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_respond_json(req,
				 SOUP_STATUS_OK,
				 aiq_json_new_object(aiq_identity_user_to_json(user)));
}

static void
aiq_route_users_update(AiqRequest *req)
{
	const gchar *const known[] = { "display_name", "role", "password", "disabled", NULL };
	AiqServer *server = aiq_request_get_server(req);
	AiqStore *store = aiq_server_get_store(server);
	AiqPrincipal *p = aiq_request_get_principal(req);
	const gchar *tenant_id = aiq_request_get_tenant_id(req);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(AiqUser) user = NULL;
	g_autoptr(AiqUser) updated = NULL;
	g_autofree gchar *hash = NULL;
	const gchar *display_name = NULL;
	const gchar *password = NULL;
	AiqRole role = AIQ_ROLE_NONE;
	AiqRole current = AIQ_ROLE_NONE;
	gboolean disabled = FALSE;
	gboolean has_disabled;
	gboolean self;
	JsonObject *obj;

	obj = aiq_api_read_body(req, known, &body, &error);
	if (obj == NULL ||
	    !aiq_identity_get_text(obj,
				   "display_name",
				   FALSE,
				   AIQ_IDENTITY_NAME_MAX,
				   &display_name,
				   &error) ||
	    !aiq_identity_get_role(obj, FALSE, p, &role, &error) ||
	    !aiq_identity_get_password(obj, FALSE, &password, &error) ||
	    !aiq_api_get_bool(obj, "disabled", &disabled, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	has_disabled = json_object_has_member(obj, "disabled") &&
		       !json_object_get_null_member(obj, "disabled");
	user = aiq_identity_load_user(req, &error);
	if (user == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_role_from_string(user->role, &current);
	self = aiq_identity_is_self(p, user->id);
	if (self && has_disabled && disabled) {
		aiq_request_respond_error(req,
					  SOUP_STATUS_CONFLICT,
					  "conflict",
					  _("you can’t disable yourself; ask another tenant admin"),
					  NULL);
		return;
	}
	if (self && role != AIQ_ROLE_NONE && role < current) {
		aiq_request_respond_error(
			req,
			SOUP_STATUS_CONFLICT,
			"conflict",
			_("you can’t lower your own role; ask another tenant admin"),
			NULL);
		return;
	}
	if (password != NULL) {
		hash = aiq_auth_hash_password(password, &error);
		if (hash == NULL) {
			aiq_request_respond_gerror(req, error);
			return;
		}
	}
	/* the record says what changed: a password only that it did */
	aiq_request_add_audit_detail(req, "username", aiq_json_new_string(user->username));
	if (role != AIQ_ROLE_NONE)
		aiq_identity_audit_string_change(req, "role", user->role, aiq_role_to_string(role));
	aiq_identity_audit_string_change(req, "display_name", user->display_name, display_name);
	if (has_disabled && disabled != user->disabled)
		aiq_identity_audit_change(req,
					  "disabled",
					  aiq_json_new_bool(user->disabled),
					  aiq_json_new_bool(disabled));
	if (password != NULL)
		aiq_request_add_audit_detail(req, "password", aiq_json_new_string("changed"));
	if (!aiq_store_update_user(store,
				   tenant_id,
				   user->id,
				   role != AIQ_ROLE_NONE ? aiq_role_to_string(role) : NULL,
				   display_name,
				   hash,
				   has_disabled ? (disabled ? 1 : 0) : -1,
				   &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	/* disabled, or a password reset by an admin: their sessions end now;
	 * people changing their own password keep their sessions */
	if ((has_disabled && disabled) || (hash != NULL && !self)) {
		if (!aiq_identity_end_sessions(server, tenant_id, user->id, &error)) {
			aiq_request_respond_gerror(req, error);
			return;
		}
	} else if (role != AIQ_ROLE_NONE || has_disabled) {
		/* sessions carry the user's current role */
		aiq_auth_invalidate(aiq_server_get_auth(server));
	}
	updated = aiq_store_get_user(store, tenant_id, user->id, &error);
	if (updated == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_respond_json(req,
				 SOUP_STATUS_OK,
				 aiq_json_new_object(aiq_identity_user_to_json(updated)));
}

static void
aiq_route_users_delete(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqPrincipal *p = aiq_request_get_principal(req);
	const gchar *tenant_id = aiq_request_get_tenant_id(req);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqUser) user = NULL;

	user = aiq_identity_load_user(req, &error);
	if (user == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	if (aiq_identity_is_self(p, user->id)) {
		aiq_request_respond_error(req,
					  SOUP_STATUS_CONFLICT,
					  "conflict",
					  _("you can’t delete yourself; ask another tenant admin"),
					  NULL);
		return;
	}
	/* sessions first: a user that is gone has no sessions left behind */
	if (!aiq_identity_end_sessions(server, tenant_id, user->id, &error) ||
	    !aiq_store_delete_user(aiq_server_get_store(server), tenant_id, user->id, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	g_info("user %s (%s) of tenant %s deleted", user->username, user->id, tenant_id);
	aiq_request_add_audit_detail(req, "username", aiq_json_new_string(user->username));
	aiq_request_respond_json(req, SOUP_STATUS_NO_CONTENT, NULL);
}

/* API keys, for tenant admins */

static void
aiq_route_keys_list(AiqRequest *req)
{
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) keys = NULL;
	g_autofree gchar *next = NULL;
	guint limit = AIQ_API_DEFAULT_LIMIT;
	JsonArray *items;

	if (!aiq_request_get_limit(req, &limit, &error) ||
	    (keys = aiq_store_list_tokens_page(store,
					       aiq_request_get_tenant_id(req),
					       AIQ_TOKEN_KIND_API_KEY,
					       aiq_request_get_query(req, "cursor"),
					       limit,
					       &next,
					       &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	items = json_array_new();
	for (guint i = 0; i < keys->len; i++)
		json_array_add_object_element(items,
					      aiq_identity_key_to_json(g_ptr_array_index(keys, i)));
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_api_page(items, next));
}

static void
aiq_route_keys_create(AiqRequest *req)
{
	const gchar *const known[] = { "name", "role", "expires_in", "requests_per_minute", NULL };
	AiqServer *server = aiq_request_get_server(req);
	AiqPrincipal *p = aiq_request_get_principal(req);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(AiqTokenRow) row = NULL;
	g_autoptr(JsonNode) data = NULL;
	g_autofree gchar *token = NULL;
	const gchar *name = NULL;
	const gchar *expires_in = NULL;
	AiqRole role = AIQ_ROLE_NONE;
	gint64 ttl_ms = 0;
	gint64 requests_per_minute = 0;
	JsonObject *obj;
	JsonObject *answer;

	obj = aiq_api_read_body(req, known, &body, &error);
	if (obj == NULL ||
	    !aiq_identity_get_text(obj, "name", TRUE, AIQ_IDENTITY_KEY_NAME_MAX, &name, &error) ||
	    !aiq_identity_get_role(obj, TRUE, p, &role, &error) ||
	    !aiq_api_lookup_string(obj, "expires_in", FALSE, &expires_in, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	if (expires_in != NULL &&
	    (!aiq_duration_parse(expires_in, &ttl_ms, NULL) || ttl_ms < 1000)) {
		aiq_request_respond_error(
			req,
			SOUP_STATUS_UNPROCESSABLE_ENTITY,
			"invalid_input",
			_("expires_in: a duration from 1s to 365d, such as “90d”"),
			NULL);
		return;
	}
	/* a key's own rate limit, within its tenant's */
	if (json_object_has_member(obj, "requests_per_minute") &&
	    !json_object_get_null_member(obj, "requests_per_minute")) {
		AiqLimits limits;
		gint64 most;
		JsonObject *data_obj;
		if (!aiq_governance_get_limits(aiq_governance_get(server),
					       aiq_request_get_tenant_id(req),
					       &limits,
					       &error)) {
			aiq_request_respond_gerror(req, error);
			return;
		}
		most = limits.values[AIQ_LIMIT_API_REQUESTS_PER_MINUTE];
		requests_per_minute = -1;
		if (!aiq_api_get_int(obj,
				     "requests_per_minute",
				     1,
				     most,
				     &requests_per_minute,
				     NULL)) {
			g_autofree gchar *message =
				g_strdup_printf(_("requests_per_minute: expected a whole number "
						  "from 1 to %" PRId64 " (the tenant's "
						  "api_requests_per_minute)"),
						most);
			aiq_request_respond_error(req,
						  SOUP_STATUS_UNPROCESSABLE_ENTITY,
						  "invalid_input",
						  message,
						  NULL);
			return;
		}
		data_obj = json_object_new();
		json_object_set_int_member(data_obj, "requests_per_minute", requests_per_minute);
		data = aiq_json_new_object(data_obj);
	}
	token = aiq_auth_issue(aiq_server_get_auth(server),
			       AIQ_TOKEN_KIND_API_KEY,
			       aiq_request_get_tenant_id(req),
			       p->subject_id,
			       aiq_role_to_string(role),
			       name,
			       ttl_ms * 1000,
			       data,
			       &row,
			       &error);
	if (token == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_add_audit_detail(req, "name", aiq_json_new_string(name));
	aiq_request_add_audit_detail(req, "role", aiq_json_new_string(aiq_role_to_string(role)));
	if (requests_per_minute > 0)
		aiq_request_add_audit_detail(req,
					     "requests_per_minute",
					     aiq_json_new_int(requests_per_minute));
	answer = aiq_identity_key_to_json(row);
	json_object_set_string_member(answer, "token", token);
	aiq_request_respond_json(req, SOUP_STATUS_CREATED, aiq_json_new_object(answer));
}

static void
aiq_route_keys_delete(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqStore *store = aiq_server_get_store(server);
	const gchar *tenant_id = aiq_request_get_tenant_id(req);
	const gchar *id = aiq_request_get_param(req, "id");
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTokenRow) row = NULL;

	row = aiq_store_get_token(store, tenant_id, id, AIQ_TOKEN_KIND_API_KEY, &error);
	if (row == NULL || row->revoked) {
		if (row != NULL)
			g_set_error(&error,
				    AIQ_ERROR,
				    AIQ_ERROR_NOT_FOUND,
				    _("no API key “%s”"),
				    id);
		aiq_request_respond_gerror(req, error);
		return;
	}
	if (!aiq_store_revoke_token(store, tenant_id, row->id, AIQ_TOKEN_KIND_API_KEY, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	/* the key fails from the next request on */
	aiq_auth_invalidate(aiq_server_get_auth(server));
	aiq_request_respond_json(req, SOUP_STATUS_NO_CONTENT, NULL);
}

static const AiqRoute aiq_identity_routes[] = {
	{ "POST",
	  "/api/v1/auth/login",
	  AIQ_ROLE_NONE,
	  AIQ_ROUTE_WORKER,
	  aiq_route_login,
	  AIQ_IDENTITY_LOGIN_MAX_BODY,
	  "log in: a session token",
	  "auth.login",
	  AIQ_ROUTE_LIMIT_ADDRESS },
	{ "POST",
	  "/api/v1/auth/logout",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_logout,
	  0,
	  "log out: revoke this session",
	  "auth.logout" },
	{ "GET",
	  "/api/v1/tenants",
	  AIQ_ROLE_PLATFORM_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_tenants_list,
	  0,
	  "list tenants" },
	{ "POST",
	  "/api/v1/tenants",
	  AIQ_ROLE_PLATFORM_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_tenants_create,
	  0,
	  "create a tenant and its first admin",
	  "tenant.create" },
	{ "GET",
	  "/api/v1/tenants/{id}",
	  AIQ_ROLE_PLATFORM_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_tenants_get,
	  0,
	  "a tenant" },
	{ "PATCH",
	  "/api/v1/tenants/{id}",
	  AIQ_ROLE_PLATFORM_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_tenants_update,
	  0,
	  "change or suspend a tenant",
	  "tenant.update" },
	{ "GET",
	  "/api/v1/users",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_users_list,
	  0,
	  "list users" },
	{ "POST",
	  "/api/v1/users",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_users_create,
	  0,
	  "create a user",
	  "user.create" },
	{ "GET",
	  "/api/v1/users/{id}",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_users_get,
	  0,
	  "a user" },
	{ "PATCH",
	  "/api/v1/users/{id}",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_users_update,
	  0,
	  "change or disable a user",
	  "user.update" },
	{ "DELETE",
	  "/api/v1/users/{id}",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_users_delete,
	  0,
	  "delete a user",
	  "user.delete" },
	{ "GET",
	  "/api/v1/api-keys",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_keys_list,
	  0,
	  "list API keys" },
	{ "POST",
	  "/api/v1/api-keys",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_keys_create,
	  0,
	  "create an API key",
	  "api_key.create" },
	{ "DELETE",
	  "/api/v1/api-keys/{id}",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_keys_delete,
	  0,
	  "revoke an API key",
	  "api_key.revoke" },
};

void
aiq_routes_identity_register(AiqServer *server)
{
	aiq_server_add_routes(server, aiq_identity_routes, G_N_ELEMENTS(aiq_identity_routes));
}
