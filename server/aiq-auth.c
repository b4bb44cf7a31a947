/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "aiq-auth.h"
#include "aiq-error.h"
#include "aiq-util.h"

/* a principal is trusted this long before the store is asked again;
 * revocations clear the cache at once */
#define AIQ_AUTH_CACHE_US (5 * G_USEC_PER_SEC)
#define AIQ_AUTH_CACHE_MAX 100000
/* last-used times are written at most this often per token */
#define AIQ_AUTH_TOUCH_US (60 * G_USEC_PER_SEC)
/* login throttling: free attempts, then a doubling wait up to the cap */
#define AIQ_AUTH_FREE_FAILURES 5
#define AIQ_AUTH_MAX_WAIT_S (15 * 60)

static const gchar *const aiq_role_names[] = { "none",         "viewer",         "editor",
					       "tenant_admin", "platform_admin", "agent" };
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_role_names) == AIQ_ROLE_LAST);

static const gchar *const aiq_token_prefixes[] = { "aiqs", "aiqk", "aiqa", "aiqe" };
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_token_prefixes) == AIQ_TOKEN_KIND_LAST);

const gchar *
aiq_role_to_string(AiqRole role)
{
	g_return_val_if_fail((guint)role < AIQ_ROLE_LAST, "none");
	return aiq_role_names[role];
}

gboolean
aiq_role_from_string(const gchar *str, AiqRole *role)
{
	for (guint i = AIQ_ROLE_VIEWER; i < AIQ_ROLE_LAST; i++) {
		if (g_strcmp0(str, aiq_role_names[i]) == 0) {
			*role = (AiqRole)i;
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * aiq_role_satisfies:
 *
 * Returns: whether a principal with @have may do what needs @need: viewer <
 * editor < tenant admin < platform admin; the agent role satisfies only
 * itself
 */
gboolean
aiq_role_satisfies(AiqRole have, AiqRole need)
{
	if (have == AIQ_ROLE_AGENT || need == AIQ_ROLE_AGENT)
		return have == need;
	return have >= need && have != AIQ_ROLE_NONE;
}

AiqPrincipal *
aiq_principal_ref(AiqPrincipal *self)
{
	g_atomic_int_inc(&self->refcount);
	return self;
}

void
aiq_principal_unref(AiqPrincipal *self)
{
	if (!g_atomic_int_dec_and_test(&self->refcount))
		return;
	g_free(self->tenant_id);
	g_free(self->tenant_slug);
	g_free(self->tenant_tier);
	g_free(self->subject_id);
	g_free(self->subject_name);
	g_free(self->token_id);
	g_free(self);
}

static gchar *
aiq_auth_b64url(const guint8 *data, gsize len)
{
	gchar *text = g_base64_encode(data, len);
	for (gchar *p = text; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=') {
			*p = '\0';
			break;
		}
	}
	return text;
}

static void
aiq_auth_sha256(const gchar *text, guint8 hash[32])
{
	crypto_hash_sha256(hash, (const guchar *)text, strlen(text));
}

/**
 * aiq_auth_token_new_with_prefix:
 * @prefix: what the token is for, e.g. `aiqs` or `whk`
 * @hash: (out): the SHA-256 of the token, the only thing stored
 *
 * Returns: a new token `PREFIX_TENANTHEX_RANDOM`: the prefix, the tenant
 * (so that even the lookup of a token is scoped by tenant) and 256 random
 * bits
 */
gchar *
aiq_auth_token_new_with_prefix(const gchar *prefix, const gchar *tenant_id, guint8 hash[32])
{
	guint8 random[32];
	g_autofree gchar *secret = NULL;
	g_autoptr(GString) tenant = g_string_new(NULL);
	gchar *token;

	for (const gchar *p = tenant_id; *p != '\0'; p++) {
		if (*p != '-')
			g_string_append_c(tenant, *p);
	}
	randombytes_buf(random, sizeof(random));
	secret = aiq_auth_b64url(random, sizeof(random));
	sodium_memzero(random, sizeof(random));
	token = g_strdup_printf("%s_%s_%s", prefix, tenant->str, secret);
	aiq_auth_sha256(token, hash);
	return token;
}

/**
 * aiq_auth_token_generate:
 *
 * Returns: a new token of @kind; see aiq_auth_token_new_with_prefix()
 */
gchar *
aiq_auth_token_generate(AiqTokenKind kind, const gchar *tenant_id, guint8 hash[32])
{
	return aiq_auth_token_new_with_prefix(aiq_token_prefixes[kind], tenant_id, hash);
}

/**
 * aiq_auth_token_parse_with_prefix:
 * @token: (nullable): what was sent
 *
 * Returns: whether @token has the form of a token made with @prefix, and
 * if so its tenant and hash
 */
gboolean
aiq_auth_token_parse_with_prefix(const gchar *token,
				 const gchar *prefix,
				 gchar **tenant_id,
				 guint8 hash[32])
{
	gsize plen = strlen(prefix);
	gsize len = token != NULL ? strlen(token) : 0;
	const gchar *hex;

	/* prefix _ tenant (32) _ secret (43) */
	if (len != plen + 1 + 32 + 1 + 43 || strncmp(token, prefix, plen) != 0 ||
	    token[plen] != '_' || token[plen + 33] != '_')
		return FALSE;
	hex = token + plen + 1;
	for (guint i = 0; i < 32; i++) {
		if (!g_ascii_isxdigit(hex[i]) || g_ascii_isupper(hex[i]))
			return FALSE;
	}
	for (gsize i = plen + 34; i < len; i++) {
		if (!g_ascii_isalnum(token[i]) && token[i] != '-' && token[i] != '_')
			return FALSE;
	}
	*tenant_id = g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s",
				     hex,
				     hex + 8,
				     hex + 12,
				     hex + 16,
				     hex + 20);
	aiq_auth_sha256(token, hash);
	return TRUE;
}

/**
 * aiq_auth_token_parse:
 *
 * Checks the form of a token and gives its kind, tenant and hash. It says
 * nothing about whether the token is valid; the store does.
 */
gboolean
aiq_auth_token_parse(const gchar *token,
		     AiqTokenKind *kind,
		     gchar **tenant_id,
		     guint8 hash[32],
		     GError **error)
{
	for (guint k = 0; k < AIQ_TOKEN_KIND_LAST; k++) {
		if (aiq_auth_token_parse_with_prefix(token,
						     aiq_token_prefixes[k],
						     tenant_id,
						     hash)) {
			*kind = (AiqTokenKind)k;
			return TRUE;
		}
	}
	g_set_error_literal(error,
			    AIQ_ERROR,
			    AIQ_ERROR_UNAUTHENTICATED,
			    _("the token is malformed"));
	return FALSE;
}

/**
 * aiq_auth_hash_password:
 *
 * Returns: an Argon2id hash of @password in the standard encoded form
 */
gchar *
aiq_auth_hash_password(const gchar *password, GError **error)
{
	gchar out[crypto_pwhash_STRBYTES];
	if (crypto_pwhash_str_alg(out,
				  password,
				  strlen(password),
				  crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE,
				  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAVAILABLE,
				    _("not enough memory to hash the password"));
		return NULL;
	}
	return g_strdup(out);
}

gboolean
aiq_auth_verify_password(const gchar *hash, const gchar *password)
{
	if (hash == NULL || password == NULL)
		return FALSE;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

gboolean
aiq_auth_check_password_strength(const gchar *password, GError **error)
{
	glong len = password != NULL ? g_utf8_strlen(password, -1) : 0;
	if (password == NULL || !g_utf8_validate(password, -1, NULL) || len < 10 || len > 1024) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_INPUT,
				    _("password: use 10 to 1024 characters"));
		return FALSE;
	}
	return TRUE;
}

typedef struct {
	AiqPrincipal *principal;
	gint64 cached_us;
	gint64 expires_us; /* of the token, 0 = never */
} AiqAuthCacheEntry;

typedef struct {
	guint failures;
	gint64 blocked_until_us;
	gint64 last_failure_us;
} AiqAuthThrottle;

struct _AiqAuth {
	GObject parent_instance;
	AiqStore *store;
	GMutex mutex;
	GHashTable *cache;    /* hash (32 bytes) -> AiqAuthCacheEntry */
	GHashTable *touched;  /* hash -> AiqTokenRow (tenant, hash, last used) to write */
	GHashTable *throttle; /* "a:ACCOUNT" or "s:ADDRESS" -> AiqAuthThrottle */
	AiqAuthClockFunc clock;
	gpointer clock_data;
};

G_DEFINE_TYPE(AiqAuth, aiq_auth, G_TYPE_OBJECT)

static guint
aiq_hash_bytes32(gconstpointer key)
{
	guint h;
	memcpy(&h, key, sizeof(h));
	return h;
}

static gboolean
aiq_equal_bytes32(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, 32) == 0;
}

static void
aiq_auth_cache_entry_free(AiqAuthCacheEntry *entry)
{
	aiq_principal_unref(entry->principal);
	g_free(entry);
}

static gint64
aiq_auth_now(AiqAuth *self)
{
	return self->clock != NULL ? self->clock(self->clock_data) : g_get_real_time();
}

static void
aiq_auth_finalize(GObject *object)
{
	AiqAuth *self = AIQ_AUTH(object);
	g_hash_table_unref(self->cache);
	g_hash_table_unref(self->touched);
	g_hash_table_unref(self->throttle);
	g_clear_object(&self->store);
	g_mutex_clear(&self->mutex);
	G_OBJECT_CLASS(aiq_auth_parent_class)->finalize(object);
}

static void
aiq_auth_class_init(AiqAuthClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = aiq_auth_finalize;
}

static void
aiq_auth_init(AiqAuth *self)
{
	g_mutex_init(&self->mutex);
	self->cache = g_hash_table_new_full(aiq_hash_bytes32,
					    aiq_equal_bytes32,
					    g_free,
					    (GDestroyNotify)aiq_auth_cache_entry_free);
	self->touched = g_hash_table_new_full(aiq_hash_bytes32,
					      aiq_equal_bytes32,
					      NULL,
					      (GDestroyNotify)aiq_token_row_free);
	self->throttle = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

AiqAuth *
aiq_auth_new(AiqStore *store)
{
	AiqAuth *self = g_object_new(AIQ_TYPE_AUTH, NULL);
	self->store = g_object_ref(store);
	return self;
}

void
aiq_auth_set_clock(AiqAuth *self, AiqAuthClockFunc func, gpointer user_data)
{
	g_return_if_fail(AIQ_IS_AUTH(self));
	self->clock = func;
	self->clock_data = user_data;
}

/* the principal of a token from the store, checking everything */
static AiqPrincipal *
aiq_auth_load_principal(AiqAuth *self,
			const gchar *tenant_id,
			const guint8 *hash,
			AiqTokenKind kind,
			gint64 now,
			gint64 *expires_us,
			GError **error)
{
	g_autoptr(AiqTokenRow) row = NULL;
	g_autoptr(AiqTenant) tenant = NULL;
	g_autoptr(GError) error_local = NULL;
	AiqPrincipal *principal;
	AiqRole role = AIQ_ROLE_NONE;

	row = aiq_store_lookup_token(self->store, tenant_id, hash, &error_local);
	if (row == NULL) {
		if (g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_NOT_FOUND)) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_UNAUTHENTICATED,
					    _("the token is not valid"));
		} else {
			g_propagate_error(error, g_steal_pointer(&error_local));
		}
		return NULL;
	}
	/* constant time, as a second check of what the index found */
	if (sodium_memcmp(row->hash, hash, 32) != 0 || row->kind != kind) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the token is not valid"));
		return NULL;
	}
	if (row->revoked) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the token was revoked"));
		return NULL;
	}
	if (row->expires_us > 0 && row->expires_us <= now) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the token expired"));
		return NULL;
	}
	tenant = aiq_store_get_tenant(self->store, tenant_id, NULL);
	if (tenant == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the token is not valid"));
		return NULL;
	}
	if (g_strcmp0(tenant->status, "active") != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FORBIDDEN,
			    _("the tenant “%s” is %s"),
			    tenant->slug,
			    tenant->status);
		return NULL;
	}
	principal = g_new0(AiqPrincipal, 1);
	principal->refcount = 1;
	principal->tenant_id = g_strdup(tenant->id);
	principal->tenant_slug = g_strdup(tenant->slug);
	principal->tenant_tier = g_strdup(tenant->tier);
	principal->kind = row->kind;
	principal->subject_id = g_strdup(row->subject_id);
	principal->token_id = g_strdup(row->id);
	memcpy(principal->hash, hash, 32);
	if (kind == AIQ_TOKEN_KIND_SESSION) {
		/* a session carries its user's current role */
		g_autoptr(AiqUser) user =
			aiq_store_get_user(self->store, tenant_id, row->subject_id, NULL);
		if (user == NULL || user->disabled) {
			aiq_principal_unref(principal);
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_UNAUTHENTICATED,
					    _("the user is disabled or gone"));
			return NULL;
		}
		aiq_role_from_string(user->role, &role);
		principal->subject_name = g_strdup(user->username);
	} else if (kind == AIQ_TOKEN_KIND_AGENT) {
		role = AIQ_ROLE_AGENT;
		principal->subject_name = g_strdup(row->name);
	} else if (kind == AIQ_TOKEN_KIND_API_KEY) {
		aiq_role_from_string(row->role, &role);
		principal->subject_name = g_strdup(row->name);
		if (row->data != NULL && JSON_NODE_HOLDS_OBJECT(row->data))
			principal->requests_per_minute = json_object_get_int_member_with_default(
				json_node_get_object(row->data),
				"requests_per_minute",
				0);
	} else {
		/* enrollment tokens are used in a request body, never as bearer */
		aiq_principal_unref(principal);
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the token is not valid"));
		return NULL;
	}
	principal->role = role;
	*expires_us = row->expires_us;
	return principal;
}

/**
 * aiq_auth_authenticate:
 * @authorization: (nullable): the Authorization header
 *
 * Returns: (transfer full): who is asking, or %NULL with
 * %AIQ_ERROR_UNAUTHENTICATED (or %AIQ_ERROR_FORBIDDEN for a suspended tenant)
 */
AiqPrincipal *
aiq_auth_authenticate(AiqAuth *self, const gchar *authorization, GError **error)
{
	g_autofree gchar *tenant_id = NULL;
	AiqAuthCacheEntry *entry;
	AiqPrincipal *principal;
	AiqTokenKind kind;
	guint8 hash[32];
	gint64 now = aiq_auth_now(self);
	gint64 expires_us = 0;

	g_return_val_if_fail(AIQ_IS_AUTH(self), NULL);

	if (authorization == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("authentication required: send Authorization: Bearer TOKEN"));
		return NULL;
	}
	if (g_ascii_strncasecmp(authorization, "Bearer ", 7) != 0) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("the Authorization header must be “Bearer TOKEN”"));
		return NULL;
	}
	if (!aiq_auth_token_parse(authorization + 7, &kind, &tenant_id, hash, error))
		return NULL;

	g_mutex_lock(&self->mutex);
	entry = g_hash_table_lookup(self->cache, hash);
	if (entry != NULL && now - entry->cached_us < AIQ_AUTH_CACHE_US &&
	    (entry->expires_us == 0 || entry->expires_us > now)) {
		principal = aiq_principal_ref(entry->principal);
		g_mutex_unlock(&self->mutex);
		return principal;
	}
	g_mutex_unlock(&self->mutex);

	principal = aiq_auth_load_principal(self, tenant_id, hash, kind, now, &expires_us, error);
	if (principal == NULL)
		return NULL;

	g_mutex_lock(&self->mutex);
	if (g_hash_table_size(self->cache) >= AIQ_AUTH_CACHE_MAX)
		g_hash_table_remove_all(self->cache);
	entry = g_new0(AiqAuthCacheEntry, 1);
	entry->principal = aiq_principal_ref(principal);
	entry->cached_us = now;
	entry->expires_us = expires_us;
	g_hash_table_replace(self->cache, g_memdup2(hash, 32), entry);
	/* remember when an API key or agent credential was last used */
	if (kind != AIQ_TOKEN_KIND_SESSION) {
		AiqTokenRow *touch = g_hash_table_lookup(self->touched, principal->hash);
		if (touch == NULL) {
			touch = g_new0(AiqTokenRow, 1);
			touch->tenant_id = g_strdup(tenant_id);
			memcpy(touch->hash, hash, 32);
			g_hash_table_insert(self->touched, touch->hash, touch);
		}
		touch->last_used_us = now;
	}
	g_mutex_unlock(&self->mutex);
	return principal;
}

/**
 * aiq_auth_issue:
 * @ttl_us: how long the token lives, or 0 for ever
 * @row_out: (out) (optional): the stored row (id, times)
 *
 * Returns: (transfer full): the token, to show once; only its hash is stored
 */
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
	       GError **error)
{
	g_autoptr(AiqTokenRow) row = g_new0(AiqTokenRow, 1);
	g_autofree gchar *token = NULL;

	g_return_val_if_fail(AIQ_IS_AUTH(self), NULL);
	row->tenant_id = g_strdup(tenant_id);
	row->id = aiq_id_new();
	row->kind = kind;
	row->subject_id = g_strdup(subject_id);
	row->role = g_strdup(role);
	row->name = g_strdup(name);
	row->created_us = aiq_auth_now(self);
	row->expires_us = ttl_us > 0 ? row->created_us + ttl_us : 0;
	row->data = data != NULL ? json_node_ref(data) : NULL;
	token = aiq_auth_token_generate(kind, tenant_id, row->hash);
	if (!aiq_store_insert_token(self->store, row, error))
		return NULL;
	if (row_out != NULL)
		*row_out = g_steal_pointer(&row);
	return g_steal_pointer(&token);
}

/**
 * aiq_auth_invalidate:
 *
 * Forgets every cached principal: after a revocation, a disabled user or
 * agent, or a suspended tenant, their tokens fail at the next request.
 */
void
aiq_auth_invalidate(AiqAuth *self)
{
	g_return_if_fail(AIQ_IS_AUTH(self));
	g_mutex_lock(&self->mutex);
	g_hash_table_remove_all(self->cache);
	g_mutex_unlock(&self->mutex);
}

/**
 * aiq_auth_flush:
 *
 * Writes the last-used times collected since the last flush.
 */
void
aiq_auth_flush(AiqAuth *self)
{
	g_autoptr(GPtrArray) rows =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_token_row_free);
	g_autoptr(GError) error = NULL;
	GHashTableIter iter;
	gpointer value;

	g_mutex_lock(&self->mutex);
	g_hash_table_iter_init(&iter, self->touched);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		g_ptr_array_add(rows, value);
		g_hash_table_iter_steal(&iter);
	}
	g_mutex_unlock(&self->mutex);
	if (!aiq_store_touch_tokens(self->store, rows, &error))
		g_warning("failed to record when tokens were used: %s", error->message);
}

static gboolean
aiq_auth_throttle_check(AiqAuth *self, const gchar *key, gint64 now, gint64 *retry_after_s)
{
	AiqAuthThrottle *t = g_hash_table_lookup(self->throttle, key);
	if (t == NULL || t->blocked_until_us <= now)
		return TRUE;
	*retry_after_s = MAX((t->blocked_until_us - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1);
	return FALSE;
}

/**
 * aiq_auth_login_allowed:
 * @account: tenant and user name
 * @address: the source address
 * @retry_after_s: (out): when refused, how long to wait
 *
 * After a few failed logins an account, or a source address, waits twice as
 * long after each further failure, up to 15 minutes.
 */
gboolean
aiq_auth_login_allowed(AiqAuth *self,
		       const gchar *account,
		       const gchar *address,
		       gint64 *retry_after_s)
{
	g_autofree gchar *akey = g_strdup_printf("a:%s", account);
	g_autofree gchar *skey = g_strdup_printf("s:%s", address);
	gint64 now = aiq_auth_now(self);
	gboolean ok;
	g_mutex_lock(&self->mutex);
	ok = aiq_auth_throttle_check(self, akey, now, retry_after_s) &&
	     aiq_auth_throttle_check(self, skey, now, retry_after_s);
	g_mutex_unlock(&self->mutex);
	return ok;
}

static void
aiq_auth_throttle_fail(AiqAuth *self, const gchar *key, guint free_failures, gint64 now)
{
	AiqAuthThrottle *t = g_hash_table_lookup(self->throttle, key);
	if (t == NULL) {
		if (g_hash_table_size(self->throttle) > 100000)
			g_hash_table_remove_all(self->throttle);
		t = g_new0(AiqAuthThrottle, 1);
		g_hash_table_insert(self->throttle, g_strdup(key), t);
	}
	/* failures an hour apart start over */
	if (now - t->last_failure_us > (gint64)3600 * G_USEC_PER_SEC)
		t->failures = 0;
	t->failures++;
	t->last_failure_us = now;
	if (t->failures > free_failures) {
		guint shift = MIN(t->failures - free_failures - 1, 10);
		gint64 wait_s = MIN((gint64)1 << shift, AIQ_AUTH_MAX_WAIT_S);
		t->blocked_until_us = now + wait_s * G_USEC_PER_SEC;
	}
}

void
aiq_auth_login_failed(AiqAuth *self, const gchar *account, const gchar *address)
{
	g_autofree gchar *akey = g_strdup_printf("a:%s", account);
	g_autofree gchar *skey = g_strdup_printf("s:%s", address);
	gint64 now = aiq_auth_now(self);
	g_mutex_lock(&self->mutex);
	aiq_auth_throttle_fail(self, akey, AIQ_AUTH_FREE_FAILURES, now);
	/* one address may try several accounts */
	aiq_auth_throttle_fail(self, skey, 4 * AIQ_AUTH_FREE_FAILURES, now);
	g_mutex_unlock(&self->mutex);
}

void
aiq_auth_login_succeeded(AiqAuth *self, const gchar *account, const gchar *address)
{
	g_autofree gchar *akey = g_strdup_printf("a:%s", account);
	g_mutex_lock(&self->mutex);
	g_hash_table_remove(self->throttle, akey);
	g_mutex_unlock(&self->mutex);
}
