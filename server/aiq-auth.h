/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-store-identity.h"

G_BEGIN_DECLS

typedef enum {
	AIQ_ROLE_NONE,
	AIQ_ROLE_VIEWER,
	AIQ_ROLE_EDITOR,
	AIQ_ROLE_TENANT_ADMIN,
	AIQ_ROLE_PLATFORM_ADMIN,
	AIQ_ROLE_AGENT, /* agent rights only: not above or below the others */
	AIQ_ROLE_LAST
} AiqRole;

const gchar *
aiq_role_to_string(AiqRole role);
gboolean
aiq_role_from_string(const gchar *str, AiqRole *role);
gboolean
aiq_role_satisfies(AiqRole have, AiqRole need);

/**
 * AiqPrincipal:
 *
 * Who makes a request: the tenant, the kind of token, the user or agent
 * behind it and its role. Immutable, shared by reference.
 */
typedef struct {
	gint refcount;
	gchar *tenant_id;
	gchar *tenant_slug;
	gchar *tenant_tier;
	AiqTokenKind kind;
	gchar *subject_id;
	gchar *subject_name;
	gchar *token_id;
	AiqRole role;
	gint64 requests_per_minute; /* an API key's own rate limit, or 0 */
	guint8 hash[32];
} AiqPrincipal;

AiqPrincipal *
aiq_principal_ref(AiqPrincipal *self);
void
aiq_principal_unref(AiqPrincipal *self);

/* tokens: PREFIX_TENANTHEX_RANDOM, e.g. aiqs_0196f3c25b1e7c3a9d2e4f5a6b7c8d9e_… */
gchar *
aiq_auth_token_new_with_prefix(const gchar *prefix, const gchar *tenant_id, guint8 hash[32]);
gboolean
aiq_auth_token_parse_with_prefix(const gchar *token,
				 const gchar *prefix,
				 gchar **tenant_id,
				 guint8 hash[32]);
gchar *
aiq_auth_token_generate(AiqTokenKind kind, const gchar *tenant_id, guint8 hash[32]);
gboolean
aiq_auth_token_parse(const gchar *token,
		     AiqTokenKind *kind,
		     gchar **tenant_id,
		     guint8 hash[32],
		     GError **error);
gchar *
aiq_auth_hash_password(const gchar *password, GError **error);
gboolean
aiq_auth_verify_password(const gchar *hash, const gchar *password);
gboolean
aiq_auth_check_password_strength(const gchar *password, GError **error);

/**
 * AiqAuth:
 *
 * Authenticates bearer tokens against the store with a short cache, issues
 * tokens, and throttles logins per account and per source address.
 * Thread-safe.
 */
#define AIQ_TYPE_AUTH (aiq_auth_get_type())
G_DECLARE_FINAL_TYPE(AiqAuth, aiq_auth, AIQ, AUTH, GObject)

typedef gint64 (*AiqAuthClockFunc)(gpointer user_data);

AiqAuth *
aiq_auth_new(AiqStore *store);
void
aiq_auth_set_clock(AiqAuth *self, AiqAuthClockFunc func, gpointer user_data);
AiqPrincipal *
aiq_auth_authenticate(AiqAuth *self, const gchar *authorization, GError **error);
gchar *
aiq_auth_issue(AiqAuth *self,
	       AiqTokenKind kind,
	       const gchar *tenant_id,
	       const gchar *subject_id,
	       const gchar *role,
	       const gchar *name,
	       gint64 ttl_us,
	       JsonNode *data,
	       AiqTokenRow **row_out,
	       GError **error);
void
aiq_auth_invalidate(AiqAuth *self);
void
aiq_auth_flush(AiqAuth *self);
gboolean
aiq_auth_login_allowed(AiqAuth *self,
		       const gchar *account,
		       const gchar *address,
		       gint64 *retry_after_s);
void
aiq_auth_login_failed(AiqAuth *self, const gchar *account, const gchar *address);
void
aiq_auth_login_succeeded(AiqAuth *self, const gchar *account, const gchar *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqPrincipal, aiq_principal_unref)

G_END_DECLS
