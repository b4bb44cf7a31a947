/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-store.h"

G_BEGIN_DECLS

typedef struct {
	gchar *id;
	gchar *slug;
	gchar *name;
	gchar *tier;   /* free, standard, premium, enterprise */
	gchar *status; /* active, suspended */
	gint retention_days;
	gint64 created_us;
	gint64 updated_us;
	JsonNode *limits; /* nullable: its own limits over its tier's */
} AiqTenant;

typedef struct {
	gchar *tenant_id;
	gchar *id;
	gchar *username;
	gchar *display_name;
	gchar *role;
	gchar *password_hash;
	gboolean disabled;
	gint64 created_us;
	gint64 updated_us;
	gint64 last_login_us;
} AiqUser;

typedef enum {
	AIQ_TOKEN_KIND_SESSION,
	AIQ_TOKEN_KIND_API_KEY,
	AIQ_TOKEN_KIND_AGENT,
	AIQ_TOKEN_KIND_ENROLLMENT,
	AIQ_TOKEN_KIND_LAST
} AiqTokenKind;

/**
 * AiqTokenRow:
 * @hash: SHA-256 of the token (32 bytes); the token itself is never stored
 * @id: a public id, to list and revoke it
 * @subject_id: (nullable): the user of a session or API key, the agent of an
 *   agent credential
 * @role: (nullable): what the token may do
 * @expires_us: 0 when it does not expire
 * @data: (nullable): kind-specific (an enrollment token's agent name, labels)
 */
typedef struct {
	gchar *tenant_id;
	guint8 hash[32];
	gchar *id;
	AiqTokenKind kind;
	gchar *subject_id;
	gchar *role;
	gchar *name;
	gint64 created_us;
	gint64 expires_us;
	gint64 last_used_us;
	gboolean revoked;
	JsonNode *data;
} AiqTokenRow;

void
aiq_tenant_free(AiqTenant *tenant);
void
aiq_user_free(AiqUser *user);
void
aiq_token_row_free(AiqTokenRow *row);
const gchar *
aiq_token_kind_to_string(AiqTokenKind kind);

AiqTenant *
aiq_store_create_tenant(AiqStore *self,
			const gchar *slug,
			const gchar *name,
			const gchar *tier,
			gint retention_days,
			GError **error);
AiqTenant *
aiq_store_get_tenant(AiqStore *self, const gchar *id, GError **error);
AiqTenant *
aiq_store_get_tenant_by_slug(AiqStore *self, const gchar *slug, GError **error);
GPtrArray *
aiq_store_list_tenants(AiqStore *self,
		       const gchar *cursor,
		       guint limit,
		       gchar **next_cursor,
		       GError **error);
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
				   GError **error);
gboolean
aiq_store_update_tenant(AiqStore *self,
			const gchar *id,
			const gchar *name,
			const gchar *tier,
			gint retention_days,
			const gchar *status,
			GError **error);
gboolean
aiq_store_set_tenant_limits(AiqStore *self, const gchar *id, JsonObject *limits, GError **error);

AiqUser *
aiq_store_create_user(AiqStore *self,
		      const gchar *tenant_id,
		      const gchar *username,
		      const gchar *display_name,
		      const gchar *role,
		      const gchar *password_hash,
		      GError **error);
AiqUser *
aiq_store_get_user(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error);
AiqUser *
aiq_store_get_user_by_name(AiqStore *self,
			   const gchar *tenant_id,
			   const gchar *username,
			   GError **error);
GPtrArray *
aiq_store_list_users(AiqStore *self,
		     const gchar *tenant_id,
		     const gchar *cursor,
		     guint limit,
		     gchar **next_cursor,
		     GError **error);
gboolean
aiq_store_update_user(AiqStore *self,
		      const gchar *tenant_id,
		      const gchar *id,
		      const gchar *role,
		      const gchar *display_name,
		      const gchar *password_hash,
		      gint disabled,
		      GError **error);
gboolean
aiq_store_delete_user(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error);
gboolean
aiq_store_touch_user_login(AiqStore *self,
			   const gchar *tenant_id,
			   const gchar *id,
			   gint64 now_us,
			   GError **error);

gboolean
aiq_store_insert_token(AiqStore *self, const AiqTokenRow *row, GError **error);
AiqTokenRow *
aiq_store_lookup_token(AiqStore *self, const gchar *tenant_id, const guint8 *hash, GError **error);
gboolean
aiq_store_revoke_token(AiqStore *self,
		       const gchar *tenant_id,
		       const gchar *id,
		       AiqTokenKind kind,
		       GError **error);
gboolean
aiq_store_revoke_tokens_of(AiqStore *self,
			   const gchar *tenant_id,
			   const gchar *subject_id,
			   AiqTokenKind kind,
			   GError **error);
GPtrArray *
aiq_store_list_tokens(AiqStore *self,
		      const gchar *tenant_id,
		      AiqTokenKind kind,
		      const gchar *subject_id,
		      GError **error);
AiqTokenRow *
aiq_store_get_token(AiqStore *self,
		    const gchar *tenant_id,
		    const gchar *id,
		    AiqTokenKind kind,
		    GError **error);
GPtrArray *
aiq_store_list_tokens_page(AiqStore *self,
			   const gchar *tenant_id,
			   AiqTokenKind kind,
			   const gchar *cursor,
			   guint limit,
			   gchar **next_cursor,
			   GError **error);
gboolean
aiq_store_touch_tokens(AiqStore *self, GPtrArray *rows, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqTenant, aiq_tenant_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqUser, aiq_user_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqTokenRow, aiq_token_row_free)

G_END_DECLS
