/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Tenants, users and tokens (sessions, API keys, agent credentials,
 * enrollment tokens) in the store.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-store-identity.h"
#include "aiq-store-private.h"
#include "aiq-util.h"

static const gchar *const aiq_token_kinds[] = { "session", "api_key", "agent", "enrollment" };
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_token_kinds) == AIQ_TOKEN_KIND_LAST);

const gchar *
aiq_token_kind_to_string(AiqTokenKind kind)
{
	g_return_val_if_fail((guint)kind < AIQ_TOKEN_KIND_LAST, NULL);
	return aiq_token_kinds[kind];
}

static AiqTokenKind
aiq_token_kind_from_string(const gchar *str)
{
	for (guint i = 0; i < AIQ_TOKEN_KIND_LAST; i++) {
		if (g_strcmp0(str, aiq_token_kinds[i]) == 0)
			return (AiqTokenKind)i;
	}
	return AIQ_TOKEN_KIND_SESSION;
}

void
aiq_tenant_free(AiqTenant *tenant)
{
	if (tenant == NULL)
		return;
	g_free(tenant->id);
	g_free(tenant->slug);
	g_free(tenant->name);
	g_free(tenant->tier);
	g_free(tenant->status);
	if (tenant->limits != NULL)
		json_node_unref(tenant->limits);
	g_free(tenant);
}

void
aiq_user_free(AiqUser *user)
{
	if (user == NULL)
		return;
	g_free(user->tenant_id);
	g_free(user->id);
	g_free(user->username);
	g_free(user->display_name);
	g_free(user->role);
	if (user->password_hash != NULL)
		memset(user->password_hash, 0, strlen(user->password_hash));
	g_free(user->password_hash);
	g_free(user);
}

void
aiq_token_row_free(AiqTokenRow *row)
{
	if (row == NULL)
		return;
	g_free(row->tenant_id);
	g_free(row->id);
	g_free(row->subject_id);
	g_free(row->role);
	g_free(row->name);
	if (row->data != NULL)
		json_node_unref(row->data);
	g_free(row);
}

/* tenants */

#define AIQ_TENANT_COLUMNS "id, slug, name, tier, retention_days, status, created, updated"
#define AIQ_TENANT_SELECT AIQ_TENANT_COLUMNS ", limits"

static AiqTenant *
aiq_tenant_from_row(AiqStmt *stmt)
{
	AiqTenant *tenant = g_new0(AiqTenant, 1);
	tenant->id = aiq_store_column_text(stmt, 0);
	tenant->slug = aiq_store_column_text(stmt, 1);
	tenant->name = aiq_store_column_text(stmt, 2);
	tenant->tier = aiq_store_column_text(stmt, 3);
	tenant->retention_days = aiq_stmt_column_int(stmt, 4);
	tenant->status = aiq_store_column_text(stmt, 5);
	tenant->created_us = aiq_stmt_column_int64(stmt, 6);
	tenant->updated_us = aiq_stmt_column_int64(stmt, 7);
	tenant->limits = aiq_store_column_json(stmt, 8);
	return tenant;
}

static AiqTenant *
aiq_tenant_new(const gchar *slug,
	       const gchar *name,
	       const gchar *tier,
	       gint retention_days,
	       gint64 now_us)
{
	AiqTenant *tenant = g_new0(AiqTenant, 1);
	tenant->id = aiq_id_new();
	tenant->slug = g_strdup(slug);
	tenant->name = g_strdup(name);
	tenant->tier = g_strdup(tier);
	tenant->retention_days = retention_days;
	tenant->status = g_strdup("active");
	tenant->created_us = tenant->updated_us = now_us;
	return tenant;
}

static gboolean
aiq_store_create_tenant_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	const AiqTenant *tenant = user_data;
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(tx,
						       "INSERT INTO tenants (" AIQ_TENANT_COLUMNS
						       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
						       error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant->id);
	aiq_stmt_bind_text(stmt, 2, tenant->slug);
	aiq_stmt_bind_text(stmt, 3, tenant->name);
	aiq_stmt_bind_text(stmt, 4, tenant->tier);
	aiq_stmt_bind_int64(stmt, 5, tenant->retention_days);
	aiq_stmt_bind_text(stmt, 6, tenant->status);
	aiq_stmt_bind_int64(stmt, 7, tenant->created_us);
	if (!aiq_store_tx_exec(tx, stmt, "tenant", error)) {
		if (g_error_matches(*error, AIQ_ERROR, AIQ_ERROR_CONFLICT)) {
			g_clear_error(error);
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFLICT,
				    _("a tenant with slug “%s” exists already"),
				    tenant->slug);
		}
		return FALSE;
	}
	return TRUE;
}

AiqTenant *
aiq_store_create_tenant(AiqStore *self,
			const gchar *slug,
			const gchar *name,
			const gchar *tier,
			gint retention_days,
			GError **error)
{
	g_autoptr(AiqTenant) tenant = NULL;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	tenant = aiq_tenant_new(slug, name, tier, retention_days, g_get_real_time());
	if (!aiq_store_write(self, NULL, aiq_store_create_tenant_cb, tenant, error))
		return NULL;
	return g_steal_pointer(&tenant);
}

AiqTenant *
aiq_store_get_tenant(AiqStore *self, const gchar *id, GError **error)
{
	g_autoptr(AiqStmt) stmt =
		aiq_store_read_prepare(self,
				       NULL,
				       "SELECT " AIQ_TENANT_SELECT " FROM tenants WHERE id = ?1",
				       error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, id);
	if (!aiq_store_step_row(stmt, "tenant", id, error))
		return NULL;
	return aiq_tenant_from_row(stmt);
}

AiqTenant *
aiq_store_get_tenant_by_slug(AiqStore *self, const gchar *slug, GError **error)
{
	g_autoptr(AiqStmt) stmt =
		aiq_store_read_prepare(self,
				       NULL,
				       "SELECT " AIQ_TENANT_SELECT " FROM tenants WHERE slug = ?1",
				       error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, slug);
	if (!aiq_store_step_row(stmt, "tenant", slug, error))
		return NULL;
	return aiq_tenant_from_row(stmt);
}

GPtrArray *
aiq_store_list_tenants(AiqStore *self,
		       const gchar *cursor,
		       guint limit,
		       gchar **next_cursor,
		       GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_tenant_free);
	g_autofree gchar *after_id = NULL;
	gint64 after_time = G_MININT64;
	g_autoptr(AiqStmt) stmt = NULL;

	if (cursor != NULL && !aiq_store_cursor_decode(cursor, &after_time, &after_id, error))
		return NULL;
	stmt = aiq_store_read_prepare(
		self,
		NULL,
		"SELECT " AIQ_TENANT_SELECT " FROM tenants "
		"WHERE (created, id) > (?1, ?2) ORDER BY created, id LIMIT ?3",
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_int64(stmt, 1, after_time);
	aiq_stmt_bind_text(stmt, 2, after_id != NULL ? after_id : "");
	aiq_stmt_bind_int64(stmt, 3, (gint)limit + 1);
	if (!aiq_store_step_page(stmt,
				 limit,
				 (AiqStoreRowFunc)aiq_tenant_from_row,
				 G_STRUCT_OFFSET(AiqTenant, created_us),
				 G_STRUCT_OFFSET(AiqTenant, id),
				 result,
				 "tenants",
				 next_cursor,
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

typedef struct {
	const gchar *id;
	const gchar *name;
	const gchar *tier;
	gint retention_days;
	const gchar *status;
} AiqUpdateTenant;

static gboolean
aiq_store_update_tenant_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqUpdateTenant *op = user_data;
	g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(
		tx,
		"UPDATE tenants SET name = coalesce(?2, name), tier = coalesce(?3, tier), "
		"retention_days = CASE WHEN CAST(?4 AS BIGINT) > 0 THEN CAST(?4 AS BIGINT) "
		"ELSE retention_days END, "
		"status = coalesce(?5, status), updated = ?6 WHERE id = ?1",
		error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->id);
	aiq_stmt_bind_text(stmt, 2, op->name);
	aiq_stmt_bind_text(stmt, 3, op->tier);
	aiq_stmt_bind_int64(stmt, 4, op->retention_days);
	aiq_stmt_bind_text(stmt, 5, op->status);
	aiq_stmt_bind_int64(stmt, 6, g_get_real_time());
	return aiq_store_tx_exec_existing(tx, stmt, "tenant", op->id, error);
}

/**
 * aiq_store_update_tenant:
 * @name: (nullable): unchanged when %NULL
 * @tier: (nullable): unchanged when %NULL
 * @retention_days: unchanged when 0 or less
 * @status: (nullable): unchanged when %NULL
 */
gboolean
aiq_store_update_tenant(AiqStore *self,
			const gchar *id,
			const gchar *name,
			const gchar *tier,
			gint retention_days,
			const gchar *status,
			GError **error)
{
	AiqUpdateTenant op = { id, name, tier, retention_days, status };
	if (!aiq_store_write(self, NULL, aiq_store_update_tenant_cb, &op, error))
		return FALSE;
	aiq_store_schedules_changed(self);
	return TRUE;
}

typedef struct {
	const gchar *id;
	JsonNode *limits;
} AiqSetTenantLimits;

static gboolean
aiq_store_set_tenant_limits_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqSetTenantLimits *op = user_data;
	g_autoptr(AiqStmt) stmt =
		aiq_store_tx_prepare(tx,
				     "UPDATE tenants SET limits = ?2, updated = ?3 WHERE id = ?1",
				     error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->id);
	aiq_store_bind_json(stmt, 2, op->limits);
	aiq_stmt_bind_int64(stmt, 3, g_get_real_time());
	return aiq_store_tx_exec_existing(tx, stmt, "tenant", op->id, error);
}

/**
 * aiq_store_set_tenant_limits:
 * @limits: (nullable): the tenant's own limits over its tier's, an object
 *   of aiq_limit_to_string() names (checked by the caller); %NULL for none
 */
gboolean
aiq_store_set_tenant_limits(AiqStore *self, const gchar *id, JsonObject *limits, GError **error)
{
	g_autoptr(JsonNode) node =
		limits != NULL ? aiq_json_new_object(json_object_ref(limits)) : NULL;
	AiqSetTenantLimits op = { id, node };
	return aiq_store_write(self, NULL, aiq_store_set_tenant_limits_cb, &op, error);
}

/* users */

#define AIQ_USER_COLUMNS                                                                           \
	"tenant_id, id, username, display_name, role, password_hash, disabled, created, updated, " \
	"last_login"

static AiqUser *
aiq_user_from_row(AiqStmt *stmt)
{
	AiqUser *user = g_new0(AiqUser, 1);
	user->tenant_id = aiq_store_column_text(stmt, 0);
	user->id = aiq_store_column_text(stmt, 1);
	user->username = aiq_store_column_text(stmt, 2);
	user->display_name = aiq_store_column_text(stmt, 3);
	user->role = aiq_store_column_text(stmt, 4);
	user->password_hash = aiq_store_column_text(stmt, 5);
	user->disabled = aiq_stmt_column_int(stmt, 6) != 0;
	user->created_us = aiq_stmt_column_int64(stmt, 7);
	user->updated_us = aiq_stmt_column_int64(stmt, 8);
	user->last_login_us = aiq_stmt_column_int64(stmt, 9);
	return user;
}

static AiqUser *
aiq_user_new(const gchar *tenant_id,
	     const gchar *username,
	     const gchar *display_name,
	     const gchar *role,
	     const gchar *password_hash,
	     gint64 now_us)
{
	AiqUser *user = g_new0(AiqUser, 1);
	user->tenant_id = g_strdup(tenant_id);
	user->id = aiq_id_new();
	user->username = g_strdup(username);
	user->display_name = g_strdup(display_name);
	user->role = g_strdup(role);
	user->password_hash = g_strdup(password_hash);
	user->created_us = user->updated_us = now_us;
	return user;
}

static gboolean
aiq_store_create_user_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqUser *user = user_data;
	g_autoptr(AiqStmt) stmt =
		aiq_store_tx_prepare(tx,
				     "INSERT INTO users (" AIQ_USER_COLUMNS
				     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7, NULL)",
				     error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, user->tenant_id);
	aiq_stmt_bind_text(stmt, 2, user->id);
	aiq_stmt_bind_text(stmt, 3, user->username);
	aiq_stmt_bind_text(stmt, 4, user->display_name);
	aiq_stmt_bind_text(stmt, 5, user->role);
	aiq_stmt_bind_text(stmt, 6, user->password_hash);
	aiq_stmt_bind_int64(stmt, 7, user->created_us);
	if (!aiq_store_tx_exec(tx, stmt, "user", error)) {
		if (g_error_matches(*error, AIQ_ERROR, AIQ_ERROR_CONFLICT)) {
			g_clear_error(error);
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFLICT,
				    _("a user named “%s” exists already"),
				    user->username);
		}
		return FALSE;
	}
	return TRUE;
}

AiqUser *
aiq_store_create_user(AiqStore *self,
		      const gchar *tenant_id,
		      const gchar *username,
		      const gchar *display_name,
		      const gchar *role,
		      const gchar *password_hash,
		      GError **error)
{
	g_autoptr(AiqUser) user = NULL;
	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL, NULL);
	user = aiq_user_new(tenant_id,
			    username,
			    display_name,
			    role,
			    password_hash,
			    g_get_real_time());
	if (!aiq_store_write(self, tenant_id, aiq_store_create_user_cb, user, error))
		return NULL;
	return g_steal_pointer(&user);
}

typedef struct {
	AiqTenant *tenant;
	AiqUser *admin;
} AiqCreateTenantWithAdmin;

static gboolean
aiq_store_create_tenant_with_admin_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqCreateTenantWithAdmin *op = user_data;
	/* one savepoint: when the admin fails, the tenant is undone with it */
	if (!aiq_store_create_tenant_cb(tx, op->tenant, error))
		return FALSE;
	if (!aiq_store_create_user_cb(tx, op->admin, error)) {
		g_prefix_error(error, _("failed to create the tenant’s first admin: "));
		return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_create_tenant_with_admin:
 * @admin_display_name: (nullable): the admin's display name
 * @admin_password_hash: an Argon2id hash (aiq_auth_hash_password())
 * @now_us: the creation time of both
 * @admin: (out) (optional): the new tenant admin
 *
 * Creates a tenant and its first tenant admin in one transaction: either
 * both exist afterwards or neither does.
 *
 * Returns: (transfer full): the new tenant
 */
AiqTenant *
aiq_store_create_tenant_with_admin(AiqStore *self,
				   const gchar *slug,
				   const gchar *name,
				   const gchar *tier,
				   gint retention_days,
				   const gchar *admin_username,
				   const gchar *admin_display_name,
				   const gchar *admin_password_hash,
				   gint64 now_us,
				   AiqUser **admin,
				   GError **error)
{
	g_autoptr(AiqTenant) tenant = NULL;
	g_autoptr(AiqUser) user = NULL;
	AiqCreateTenantWithAdmin op;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(slug != NULL && name != NULL && tier != NULL, NULL);
	g_return_val_if_fail(admin_username != NULL && admin_password_hash != NULL, NULL);

	tenant = aiq_tenant_new(slug, name, tier, retention_days, now_us);
	user = aiq_user_new(tenant->id,
			    admin_username,
			    admin_display_name,
			    "tenant_admin",
			    admin_password_hash,
			    now_us);
	op.tenant = tenant;
	op.admin = user;
	/* the new tenant's: the admin is its first row */
	if (!aiq_store_write(self, tenant->id, aiq_store_create_tenant_with_admin_cb, &op, error))
		return NULL;
	if (admin != NULL)
		*admin = g_steal_pointer(&user);
	return g_steal_pointer(&tenant);
}

AiqUser *
aiq_store_get_user(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT " AIQ_USER_COLUMNS " FROM users WHERE tenant_id = ?1 AND id = ?2",
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, id);
	if (!aiq_store_step_row(stmt, "user", id, error))
		return NULL;
	return aiq_user_from_row(stmt);
}

AiqUser *
aiq_store_get_user_by_name(AiqStore *self,
			   const gchar *tenant_id,
			   const gchar *username,
			   GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT " AIQ_USER_COLUMNS " FROM users WHERE tenant_id = ?1 AND username = ?2",
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, username);
	if (!aiq_store_step_row(stmt, "user", username, error))
		return NULL;
	return aiq_user_from_row(stmt);
}

GPtrArray *
aiq_store_list_users(AiqStore *self,
		     const gchar *tenant_id,
		     const gchar *cursor,
		     guint limit,
		     gchar **next_cursor,
		     GError **error)
{
	g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_user_free);
	g_autofree gchar *after_id = NULL;
	gint64 after_time = G_MININT64;
	g_autoptr(AiqStmt) stmt = NULL;

	if (cursor != NULL && !aiq_store_cursor_decode(cursor, &after_time, &after_id, error))
		return NULL;
	stmt = aiq_store_read_prepare(self,
				      tenant_id,
				      "SELECT " AIQ_USER_COLUMNS " FROM users WHERE tenant_id = ?1 "
				      "AND (created, id) > (?2, ?3) ORDER BY created, id LIMIT ?4",
				      error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_int64(stmt, 2, after_time);
	aiq_stmt_bind_text(stmt, 3, after_id != NULL ? after_id : "");
	aiq_stmt_bind_int64(stmt, 4, (gint)limit + 1);
	if (!aiq_store_step_page(stmt,
				 limit,
				 (AiqStoreRowFunc)aiq_user_from_row,
				 G_STRUCT_OFFSET(AiqUser, created_us),
				 G_STRUCT_OFFSET(AiqUser, id),
				 result,
				 "users",
				 next_cursor,
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

typedef struct {
	const gchar *tenant_id;
	const gchar *id;
	const gchar *role;
	const gchar *display_name;
	const gchar *password_hash;
	gint disabled;
	gint64 login_us;
	gboolean delete;
} AiqUpdateUser;

static gboolean
aiq_store_update_user_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqUpdateUser *op = user_data;
	g_autoptr(AiqStmt) stmt = NULL;
	if (op->delete) {
		stmt = aiq_store_tx_prepare(tx,
					    "DELETE FROM users WHERE tenant_id = ?1 AND id = ?2",
					    error);
	} else if (op->login_us > 0) {
		stmt = aiq_store_tx_prepare(tx,
					    "UPDATE users SET last_login = ?3 "
					    "WHERE tenant_id = ?1 AND id = ?2",
					    error);
	} else {
		stmt = aiq_store_tx_prepare(
			tx,
			"UPDATE users SET role = coalesce(?3, role), "
			"display_name = coalesce(?4, display_name), "
			"password_hash = coalesce(?5, password_hash), "
			"disabled = CASE WHEN CAST(?6 AS BIGINT) >= 0 THEN CAST(?6 AS BIGINT) "
			"ELSE disabled END, updated = ?7 "
			"WHERE tenant_id = ?1 AND id = ?2",
			error);
	}
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	aiq_stmt_bind_text(stmt, 2, op->id);
	if (op->login_us > 0) {
		aiq_stmt_bind_int64(stmt, 3, op->login_us);
	} else if (!op->delete) {
		aiq_stmt_bind_text(stmt, 3, op->role);
		aiq_stmt_bind_text(stmt, 4, op->display_name);
		aiq_stmt_bind_text(stmt, 5, op->password_hash);
		aiq_stmt_bind_int64(stmt, 6, op->disabled);
		aiq_stmt_bind_int64(stmt, 7, g_get_real_time());
	}
	return aiq_store_tx_exec_existing(tx, stmt, "user", op->id, error);
}

/**
 * aiq_store_update_user:
 * @role: (nullable): unchanged when %NULL
 * @display_name: (nullable): unchanged when %NULL
 * @password_hash: (nullable): unchanged when %NULL
 * @disabled: 1 or 0, or -1 for unchanged
 */
gboolean
aiq_store_update_user(AiqStore *self,
		      const gchar *tenant_id,
		      const gchar *id,
		      const gchar *role,
		      const gchar *display_name,
		      const gchar *password_hash,
		      gint disabled,
		      GError **error)
{
	AiqUpdateUser op = { tenant_id, id, role, display_name, password_hash, disabled, 0, FALSE };
	return aiq_store_write(self, tenant_id, aiq_store_update_user_cb, &op, error);
}

gboolean
aiq_store_delete_user(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error)
{
	AiqUpdateUser op = { tenant_id, id, NULL, NULL, NULL, -1, 0, TRUE };
	return aiq_store_write(self, tenant_id, aiq_store_update_user_cb, &op, error);
}

gboolean
aiq_store_touch_user_login(AiqStore *self,
			   const gchar *tenant_id,
			   const gchar *id,
			   gint64 now_us,
			   GError **error)
{
	AiqUpdateUser op = { tenant_id, id, NULL, NULL, NULL, -1, MAX(now_us, 1), FALSE };
	return aiq_store_write(self, tenant_id, aiq_store_update_user_cb, &op, error);
}

/* tokens */

#define AIQ_TOKEN_COLUMNS                                                                           \
	"tenant_id, hash, id, kind, subject_id, role, name, created, expires, last_used, revoked, " \
	"data"

static AiqTokenRow *
aiq_token_row_from_row(AiqStmt *stmt)
{
	AiqTokenRow *row = g_new0(AiqTokenRow, 1);
	gsize hash_len = 0;
	gconstpointer hash = aiq_stmt_column_blob(stmt, 1, &hash_len);
	row->tenant_id = aiq_store_column_text(stmt, 0);
	if (hash != NULL && hash_len == 32)
		memcpy(row->hash, hash, 32);
	row->id = aiq_store_column_text(stmt, 2);
	row->kind = aiq_token_kind_from_string(aiq_stmt_column_text(stmt, 3));
	row->subject_id = aiq_store_column_text(stmt, 4);
	row->role = aiq_store_column_text(stmt, 5);
	row->name = aiq_store_column_text(stmt, 6);
	row->created_us = aiq_stmt_column_int64(stmt, 7);
	row->expires_us = aiq_stmt_column_int64(stmt, 8);
	row->last_used_us = aiq_stmt_column_int64(stmt, 9);
	row->revoked = aiq_stmt_column_int(stmt, 10) != 0;
	row->data = aiq_store_column_json(stmt, 11);
	return row;
}

static gboolean
aiq_store_insert_token_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	const AiqTokenRow *row = user_data;
	g_autoptr(AiqStmt) stmt =
		aiq_store_tx_prepare(tx,
				     "INSERT INTO tokens (" AIQ_TOKEN_COLUMNS
				     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, 0, ?10)",
				     error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, row->tenant_id);
	aiq_stmt_bind_blob(stmt, 2, row->hash, 32);
	aiq_stmt_bind_text(stmt, 3, row->id);
	aiq_stmt_bind_text(stmt, 4, aiq_token_kind_to_string(row->kind));
	aiq_stmt_bind_text(stmt, 5, row->subject_id);
	aiq_stmt_bind_text(stmt, 6, row->role);
	aiq_stmt_bind_text(stmt, 7, row->name);
	aiq_stmt_bind_int64(stmt, 8, row->created_us);
	if (row->expires_us > 0)
		aiq_stmt_bind_int64(stmt, 9, row->expires_us);
	else
		aiq_stmt_bind_null(stmt, 9);
	aiq_store_bind_json(stmt, 10, row->data);
	return aiq_store_tx_exec(tx, stmt, "token", error);
}

gboolean
aiq_store_insert_token(AiqStore *self, const AiqTokenRow *row, GError **error)
{
	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(row->tenant_id != NULL && row->id != NULL, FALSE);
	return aiq_store_write(self,
			       row->tenant_id,
			       aiq_store_insert_token_cb,
			       (gpointer)row,
			       error);
}

/**
 * aiq_store_lookup_token:
 *
 * Returns: (transfer full): the token with this hash, revoked or not; the
 * caller checks expiry and revocation
 */
AiqTokenRow *
aiq_store_lookup_token(AiqStore *self, const gchar *tenant_id, const guint8 *hash, GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT " AIQ_TOKEN_COLUMNS " FROM tokens WHERE tenant_id = ?1 AND hash = ?2",
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_blob(stmt, 2, hash, 32);
	if (!aiq_store_step_row(stmt, "token", "…", error))
		return NULL;
	return aiq_token_row_from_row(stmt);
}

typedef struct {
	const gchar *tenant_id;
	const gchar *id;
	const gchar *subject_id;
	AiqTokenKind kind;
} AiqRevokeToken;

static gboolean
aiq_store_revoke_token_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	AiqRevokeToken *op = user_data;
	g_autoptr(AiqStmt) stmt = NULL;
	if (op->id != NULL)
		stmt = aiq_store_tx_prepare(tx,
					    "UPDATE tokens SET revoked = 1 "
					    "WHERE tenant_id = ?1 AND id = ?2 AND kind = ?3",
					    error);
	else
		stmt = aiq_store_tx_prepare(
			tx,
			"UPDATE tokens SET revoked = 1 "
			"WHERE tenant_id = ?1 AND subject_id = ?2 AND kind = ?3",
			error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, op->tenant_id);
	aiq_stmt_bind_text(stmt, 2, op->id != NULL ? op->id : op->subject_id);
	aiq_stmt_bind_text(stmt, 3, aiq_token_kind_to_string(op->kind));
	/* revoking all of a subject's tokens finds none when it has none */
	if (op->id == NULL)
		return aiq_store_tx_exec(tx, stmt, "token", error);
	return aiq_store_tx_exec_existing(tx, stmt, "token", op->id, error);
}

gboolean
aiq_store_revoke_token(AiqStore *self,
		       const gchar *tenant_id,
		       const gchar *id,
		       AiqTokenKind kind,
		       GError **error)
{
	AiqRevokeToken op = { tenant_id, id, NULL, kind };
	g_return_val_if_fail(id != NULL, FALSE);
	return aiq_store_write(self, tenant_id, aiq_store_revoke_token_cb, &op, error);
}

gboolean
aiq_store_revoke_tokens_of(AiqStore *self,
			   const gchar *tenant_id,
			   const gchar *subject_id,
			   AiqTokenKind kind,
			   GError **error)
{
	AiqRevokeToken op = { tenant_id, NULL, subject_id, kind };
	g_return_val_if_fail(subject_id != NULL, FALSE);
	return aiq_store_write(self, tenant_id, aiq_store_revoke_token_cb, &op, error);
}

/**
 * aiq_store_list_tokens:
 * @subject_id: (nullable): only the tokens of this user or agent
 *
 * Returns: (element-type AiqTokenRow): unrevoked tokens of one kind, newest first
 */
GPtrArray *
aiq_store_list_tokens(AiqStore *self,
		      const gchar *tenant_id,
		      AiqTokenKind kind,
		      const gchar *subject_id,
		      GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_token_row_free);
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(
		self,
		tenant_id,
		"SELECT " AIQ_TOKEN_COLUMNS " FROM tokens WHERE tenant_id = ?1 "
		"AND kind = ?2 AND revoked = 0 AND (CAST(?3 AS TEXT) IS NULL OR subject_id = ?3) "
		"ORDER BY created DESC LIMIT 1000",
		error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, aiq_token_kind_to_string(kind));
	aiq_stmt_bind_text(stmt, 3, subject_id);
	if (!aiq_store_step_rows(stmt,
				 (AiqStoreRowFunc)aiq_token_row_from_row,
				 result,
				 "tokens",
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

/**
 * aiq_store_get_token:
 * @id: the public id of the token
 *
 * Returns: (transfer full): the token of @kind with this id, revoked or not
 */
AiqTokenRow *
aiq_store_get_token(AiqStore *self,
		    const gchar *tenant_id,
		    const gchar *id,
		    AiqTokenKind kind,
		    GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL && id != NULL, NULL);
	stmt = aiq_store_read_prepare(self,
				      tenant_id,
				      "SELECT " AIQ_TOKEN_COLUMNS " FROM tokens "
				      "WHERE tenant_id = ?1 AND id = ?2 AND kind = ?3",
				      error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, id);
	aiq_stmt_bind_text(stmt, 3, aiq_token_kind_to_string(kind));
	if (!aiq_store_step_row(stmt, "token", id, error))
		return NULL;
	return aiq_token_row_from_row(stmt);
}

/**
 * aiq_store_list_tokens_page:
 * @cursor: (nullable): where the page starts, from @next_cursor
 * @next_cursor: (out) (optional): where the next page starts; %NULL at the end
 *
 * Returns: (element-type AiqTokenRow) (transfer full): a page of the
 * unrevoked tokens of one kind, oldest first
 */
GPtrArray *
aiq_store_list_tokens_page(AiqStore *self,
			   const gchar *tenant_id,
			   AiqTokenKind kind,
			   const gchar *cursor,
			   guint limit,
			   gchar **next_cursor,
			   GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_token_row_free);
	g_autofree gchar *after_id = NULL;
	gint64 after_time = G_MININT64;
	g_autoptr(AiqStmt) stmt = NULL;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	g_return_val_if_fail(tenant_id != NULL && limit > 0, NULL);
	if (cursor != NULL && !aiq_store_cursor_decode(cursor, &after_time, &after_id, error))
		return NULL;
	stmt = aiq_store_read_prepare(self,
				      tenant_id,
				      "SELECT " AIQ_TOKEN_COLUMNS
				      " FROM tokens WHERE tenant_id = ?1 "
				      "AND kind = ?2 AND revoked = 0 AND (created, id) > (?3, ?4) "
				      "ORDER BY created, id LIMIT ?5",
				      error);
	if (stmt == NULL)
		return NULL;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	aiq_stmt_bind_text(stmt, 2, aiq_token_kind_to_string(kind));
	aiq_stmt_bind_int64(stmt, 3, after_time);
	aiq_stmt_bind_text(stmt, 4, after_id != NULL ? after_id : "");
	aiq_stmt_bind_int64(stmt, 5, (gint)limit + 1);
	if (!aiq_store_step_page(stmt,
				 limit,
				 (AiqStoreRowFunc)aiq_token_row_from_row,
				 G_STRUCT_OFFSET(AiqTokenRow, created_us),
				 G_STRUCT_OFFSET(AiqTokenRow, id),
				 result,
				 "tokens",
				 next_cursor,
				 error))
		return NULL;
	return g_steal_pointer(&result);
}

static gboolean
aiq_store_touch_tokens_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	GPtrArray *rows = user_data;
	for (guint i = 0; i < rows->len; i++) {
		AiqTokenRow *row = g_ptr_array_index(rows, i);
		g_autoptr(AiqStmt) stmt = aiq_store_tx_prepare(
			tx,
			"UPDATE tokens SET last_used = CASE WHEN coalesce(last_used, 0) < ?3 THEN ?3 "
			"ELSE coalesce(last_used, 0) END "
			"WHERE tenant_id = ?1 AND hash = ?2",
			error);
		if (stmt == NULL)
			return FALSE;
		aiq_stmt_bind_text(stmt, 1, row->tenant_id);
		aiq_stmt_bind_blob(stmt, 2, row->hash, 32);
		aiq_stmt_bind_int64(stmt, 3, row->last_used_us);
		if (!aiq_store_tx_exec(tx, stmt, "token", error))
			return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_touch_tokens:
 * @rows: (element-type AiqTokenRow): tenant_id, hash and last_used of each
 *
 * Records when tokens were last used, many at once.
 */
gboolean
aiq_store_touch_tokens(AiqStore *self, GPtrArray *rows, GError **error)
{
	if (rows->len == 0)
		return TRUE;
	/* the tokens used since the last flush, of any tenant */
	return aiq_store_write(self, AIQ_STORE_ALL_TENANTS, aiq_store_touch_tokens_cb, rows, error);
}
