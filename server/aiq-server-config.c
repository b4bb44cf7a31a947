/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-server-config.h"
#include "aiq-store.h"
#include "aiq-util.h"

AiqServerConfig *
aiq_server_config_new(void)
{
	AiqServerConfig *self = g_new0(AiqServerConfig, 1);
	self->listen = g_strdup("127.0.0.1");
	self->port = 8443;
	self->threads = MAX(g_get_num_processors(), 1);
	self->workers = 64;
	self->max_body = 1024 * 1024;
	self->max_definition_body = 4 * 1024 * 1024;
	self->session_ttl_us = (gint64)12 * 3600 * G_USEC_PER_SEC;
	self->enrollment_ttl_us = (gint64)24 * 3600 * G_USEC_PER_SEC;
	self->lease_ttl_us = 30 * G_USEC_PER_SEC;
	self->agent_offline_us = 30 * G_USEC_PER_SEC;
	self->long_poll_us = 25 * G_USEC_PER_SEC;
	self->store_pool_size = 16;
	self->store_pool_timeout_us = 5 * G_USEC_PER_SEC;
	self->store_statement_timeout_us = 30 * G_USEC_PER_SEC;
	self->idle_timeout_s = 30;
	self->scheduler = TRUE;
	for (guint i = 0; i < AIQ_TIER_LAST; i++)
		aiq_limits_init_tier(&self->tier_limits[i], (AiqTier)i);
	self->tenant_limits = g_hash_table_new_full(g_str_hash,
						    g_str_equal,
						    g_free,
						    (GDestroyNotify)json_object_unref);
	self->audit_retention_days = 365;
	self->archive_retention_days = 7 * 365 + 2;
	self->retention = TRUE;
	self->address_requests_per_minute = 60;
	self->address_burst = 20;
	return self;
}

void
aiq_server_config_free(AiqServerConfig *self)
{
	if (self == NULL)
		return;
	g_free(self->listen);
	g_free(self->tls_cert);
	g_free(self->tls_key);
	g_strfreev(self->hostnames);
	g_free(self->data_dir);
	g_free(self->store);
	g_free(self->store_admin);
	g_free(self->public_url);
	g_free(self->metrics_token);
	g_hash_table_unref(self->tenant_limits);
	g_free(self);
}

/**
 * aiq_server_config_default_data_dir:
 * @system: as a system service
 *
 * Returns: /var/lib/automateiq-server as a service, else
 * $XDG_DATA_HOME/automateiq
 */
gchar *
aiq_server_config_default_data_dir(gboolean system)
{
	if (system)
		return g_strdup("/var/lib/automateiq-server");
	return g_build_filename(g_get_user_data_dir(), "automateiq", NULL);
}

static const gchar *const aiq_server_keys[] = { "listen",
						"port",
						"plain-http",
						"allow-insecure-http",
						"tls-cert",
						"tls-key",
						"hostnames",
						"data-dir",
						"store",
						"store-admin",
						"store-pool-size",
						"store-pool-timeout",
						"store-statement-timeout",
						"threads",
						"workers",
						"max-body",
						"max-definition-body",
						"session-ttl",
						"enrollment-ttl",
						"lease-ttl",
						"agent-offline",
						"long-poll",
						"idle-timeout",
						"public-url",
						"scheduler",
						"metrics-token",
						"audit-retention-days",
						"archive-retention-days",
						"retention",
						"address-requests-per-minute",
						"address-burst",
						NULL };

static gboolean
aiq_server_config_duration(GKeyFile *kf, const gchar *key, gint64 *value_us, GError **error)
{
	g_autofree gchar *str = g_key_file_get_string(kf, "server", key, NULL);
	gint64 ms = 0;
	if (str == NULL)
		return TRUE;
	if (!aiq_duration_parse(g_strstrip(str), &ms, error) || ms <= 0) {
		g_clear_error(error);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("[server] %s: “%s” is not a duration such as 30s"),
			    key,
			    str);
		return FALSE;
	}
	*value_us = ms * 1000;
	return TRUE;
}

static gboolean
aiq_server_config_size(GKeyFile *kf, const gchar *key, gsize *value, GError **error)
{
	g_autofree gchar *str = g_key_file_get_string(kf, "server", key, NULL);
	guint64 bytes = 0;
	if (str == NULL)
		return TRUE;
	if (!aiq_size_parse(g_strstrip(str), &bytes, NULL) || bytes == 0 ||
	    bytes > 1024 * 1024 * 1024) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("[server] %s: “%s” is not a size such as 1MiB"),
			    key,
			    str);
		return FALSE;
	}
	*value = (gsize)bytes;
	return TRUE;
}

static gboolean
aiq_server_config_uint(GKeyFile *kf,
		       const gchar *key,
		       guint64 min,
		       guint64 max,
		       guint64 *value,
		       GError **error)
{
	g_autofree gchar *str = g_key_file_get_string(kf, "server", key, NULL);
	if (str == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(g_strstrip(str), 10, min, max, value, NULL)) {
		g_set_error(
			error,
			AIQ_ERROR,
			AIQ_ERROR_CONFIG,
			_("[server] %s: “%s” is not a whole number from %" PRIu64 " to %" PRIu64),
			key,
			str,
			min,
			max);
		return FALSE;
	}
	return TRUE;
}

/* true or false, as GKeyFile reads them; anything else is an error, not
 * a silent false */
static gboolean
aiq_server_config_bool(GKeyFile *kf, const gchar *key, gboolean *value, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	gboolean result;
	if (!g_key_file_has_key(kf, "server", key, NULL))
		return TRUE;
	result = g_key_file_get_boolean(kf, "server", key, &error_local);
	if (error_local != NULL) {
		g_autofree gchar *str = g_key_file_get_string(kf, "server", key, NULL);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("[server] %s: “%s” is not true or false"),
			    key,
			    str != NULL ? str : "");
		return FALSE;
	}
	*value = result;
	return TRUE;
}

static gchar *
aiq_server_config_path(GKeyFile *kf, const gchar *key, const gchar *base_dir)
{
	g_autofree gchar *str = g_key_file_get_string(kf, "server", key, NULL);
	if (str == NULL)
		return NULL;
	g_strstrip(str);
	if (g_path_is_absolute(str) || base_dir == NULL)
		return g_steal_pointer(&str);
	return g_build_filename(base_dir, str, NULL);
}

/* [tier.NAME] or [tenant.SLUG]: limits with dashes for underscores,
 * e.g. api-requests-per-minute=600 */
static gboolean
aiq_server_config_load_limits(AiqServerConfig *self,
			      GKeyFile *kf,
			      const gchar *group,
			      GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
	g_autoptr(JsonObject) obj = json_object_new();
	g_autofree gchar *prefix = g_strdup_printf("[%s] ", group);
	const gchar *name = strchr(group, '.') + 1;
	AiqTier tier = AIQ_TIER_FREE;
	gboolean is_tier = g_str_has_prefix(group, "tier.");

	if (is_tier && !aiq_tier_from_string(name, &tier)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("[%s]: unknown tier; the tiers are free, standard, premium and "
			      "enterprise"),
			    group);
		return FALSE;
	}
	if (!is_tier && name[0] == '\0') {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("[%s]: a tenant slug is missing"),
			    group);
		return FALSE;
	}
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		g_autofree gchar *member = g_strdelimit(g_strdup(keys[i]), "-", '_');
		g_autofree gchar *str = g_strstrip(g_key_file_get_string(kf, group, keys[i], NULL));
		guint64 value = 0;
		AiqLimit limit;
		if (!aiq_limit_from_string(member, &limit)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("[%s] %s: unknown limit"),
				    group,
				    keys[i]);
			return FALSE;
		}
		/* a tenant's hot retention is its own setting, not an override */
		if (!is_tier && limit == AIQ_LIMIT_RETENTION_DAYS) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("[%s] %s: set it on the tenant (retention_days of PATCH "
				      "/api/v1/tenants/{id}); [tier.NAME] retention-days is the "
				      "default of new tenants"),
				    group,
				    keys[i]);
			return FALSE;
		}
		if (!g_ascii_string_to_unsigned(str,
						10,
						1,
						(guint64)aiq_limit_max(limit),
						&value,
						NULL)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("[%s] %s: “%s” is not a whole number from 1 to %" PRId64),
				    group,
				    keys[i],
				    str,
				    aiq_limit_max(limit));
			return FALSE;
		}
		json_object_set_int_member(obj, member, (gint64)value);
	}
	if (is_tier) {
		if (!aiq_limits_apply_json(&self->tier_limits[tier], obj, prefix, error)) {
			(*error)->code = AIQ_ERROR_CONFIG;
			return FALSE;
		}
		return TRUE;
	}
	g_hash_table_replace(self->tenant_limits, g_strdup(name), g_steal_pointer(&obj));
	return TRUE;
}

gboolean
aiq_server_config_load_data(AiqServerConfig *self,
			    const gchar *data,
			    gsize len,
			    const gchar *base_dir,
			    GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_auto(GStrv) groups = NULL;
	g_auto(GStrv) keys = NULL;
	guint64 tmp;

	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, error)) {
		aiq_error_convert(error);
		(*error)->code = AIQ_ERROR_CONFIG;
		return FALSE;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		if (g_str_has_prefix(groups[i], "tier.") ||
		    g_str_has_prefix(groups[i], "tenant.")) {
			if (!aiq_server_config_load_limits(self, kf, groups[i], error))
				return FALSE;
			continue;
		}
		if (g_strcmp0(groups[i], "server") != 0) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("[%s]: unknown group; the server reads [server], [tier.NAME] "
				      "and [tenant.SLUG]"),
				    groups[i]);
			return FALSE;
		}
	}
	keys = g_key_file_get_keys(kf, "server", NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains(aiq_server_keys, keys[i])) {
			const gchar *suggestion = aiq_suggest(keys[i], aiq_server_keys);
			if (suggestion != NULL)
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_CONFIG,
					    _("[server] %s: unknown key; did you mean “%s”?"),
					    keys[i],
					    suggestion);
			else
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_CONFIG,
					    _("[server] %s: unknown key"),
					    keys[i]);
			return FALSE;
		}
	}
	if (g_key_file_has_key(kf, "server", "listen", NULL)) {
		g_free(self->listen);
		self->listen = g_strstrip(g_key_file_get_string(kf, "server", "listen", NULL));
	}
	tmp = self->port;
	if (!aiq_server_config_uint(kf, "port", 0, 65535, &tmp, error))
		return FALSE;
	self->port = (guint16)tmp;
	if (!aiq_server_config_bool(kf, "plain-http", &self->plain_http, error) ||
	    !aiq_server_config_bool(kf, "allow-insecure-http", &self->allow_insecure_http, error) ||
	    !aiq_server_config_bool(kf, "scheduler", &self->scheduler, error))
		return FALSE;
	if (g_key_file_has_key(kf, "server", "tls-cert", NULL)) {
		g_free(self->tls_cert);
		self->tls_cert = aiq_server_config_path(kf, "tls-cert", base_dir);
	}
	if (g_key_file_has_key(kf, "server", "tls-key", NULL)) {
		g_free(self->tls_key);
		self->tls_key = aiq_server_config_path(kf, "tls-key", base_dir);
	}
	if (g_key_file_has_key(kf, "server", "data-dir", NULL)) {
		g_free(self->data_dir);
		self->data_dir = aiq_server_config_path(kf, "data-dir", base_dir);
	}
	if (g_key_file_has_key(kf, "server", "store", NULL)) {
		g_autofree gchar *store = g_key_file_get_string(kf, "server", "store", NULL);
		g_free(self->store);
		/* a PostgreSQL URI stays as it is; a file is relative to the config */
		if (aiq_store_location_is_postgres(g_strstrip(store)))
			self->store = g_steal_pointer(&store);
		else
			self->store = aiq_server_config_path(kf, "store", base_dir);
	}
	if (g_key_file_has_key(kf, "server", "store-admin", NULL)) {
		g_free(self->store_admin);
		self->store_admin =
			g_strstrip(g_key_file_get_string(kf, "server", "store-admin", NULL));
		if (!aiq_store_location_is_postgres(self->store_admin)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("[server] store-admin: not a postgresql:// URI"));
			return FALSE;
		}
	}
	tmp = self->store_pool_size;
	if (!aiq_server_config_uint(kf, "store-pool-size", 1, 1024, &tmp, error))
		return FALSE;
	self->store_pool_size = (guint)tmp;
	if (!aiq_server_config_duration(kf,
					"store-pool-timeout",
					&self->store_pool_timeout_us,
					error) ||
	    !aiq_server_config_duration(kf,
					"store-statement-timeout",
					&self->store_statement_timeout_us,
					error))
		return FALSE;
	if (g_key_file_has_key(kf, "server", "hostnames", NULL)) {
		g_strfreev(self->hostnames);
		self->hostnames = g_key_file_get_string_list(kf, "server", "hostnames", NULL, NULL);
	}
	if (g_key_file_has_key(kf, "server", "public-url", NULL)) {
		g_free(self->public_url);
		self->public_url =
			g_strstrip(g_key_file_get_string(kf, "server", "public-url", NULL));
	}
	tmp = self->threads;
	if (!aiq_server_config_uint(kf, "threads", 1, 256, &tmp, error))
		return FALSE;
	self->threads = (guint)tmp;
	tmp = self->workers;
	if (!aiq_server_config_uint(kf, "workers", 1, 4096, &tmp, error))
		return FALSE;
	self->workers = (guint)tmp;
	tmp = (guint64)self->idle_timeout_s;
	if (!aiq_server_config_uint(kf, "idle-timeout", 1, 3600, &tmp, error))
		return FALSE;
	self->idle_timeout_s = (gint64)tmp;
	if (!aiq_server_config_size(kf, "max-body", &self->max_body, error) ||
	    !aiq_server_config_size(kf, "max-definition-body", &self->max_definition_body, error) ||
	    !aiq_server_config_duration(kf, "session-ttl", &self->session_ttl_us, error) ||
	    !aiq_server_config_duration(kf, "enrollment-ttl", &self->enrollment_ttl_us, error) ||
	    !aiq_server_config_duration(kf, "lease-ttl", &self->lease_ttl_us, error) ||
	    !aiq_server_config_duration(kf, "agent-offline", &self->agent_offline_us, error) ||
	    !aiq_server_config_duration(kf, "long-poll", &self->long_poll_us, error) ||
	    !aiq_server_config_bool(kf, "retention", &self->retention, error))
		return FALSE;
	tmp = (guint64)self->audit_retention_days;
	if (!aiq_server_config_uint(kf, "audit-retention-days", 1, 36500, &tmp, error))
		return FALSE;
	self->audit_retention_days = (gint64)tmp;
	tmp = (guint64)self->archive_retention_days;
	if (!aiq_server_config_uint(kf, "archive-retention-days", 1, 36500, &tmp, error))
		return FALSE;
	self->archive_retention_days = (gint64)tmp;
	tmp = (guint64)self->address_requests_per_minute;
	if (!aiq_server_config_uint(kf, "address-requests-per-minute", 1, G_MAXINT32, &tmp, error))
		return FALSE;
	self->address_requests_per_minute = (gint64)tmp;
	tmp = (guint64)self->address_burst;
	if (!aiq_server_config_uint(kf, "address-burst", 1, G_MAXINT32, &tmp, error))
		return FALSE;
	self->address_burst = (gint64)tmp;
	if (g_key_file_has_key(kf, "server", "metrics-token", NULL)) {
		g_free(self->metrics_token);
		self->metrics_token =
			g_strstrip(g_key_file_get_string(kf, "server", "metrics-token", NULL));
		if (strlen(self->metrics_token) < 16) {
			g_set_error_literal(
				error,
				AIQ_ERROR,
				AIQ_ERROR_CONFIG,
				_("[server] metrics-token: use at least 16 characters"));
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
aiq_server_config_load_file(AiqServerConfig *self, const gchar *filename, GError **error)
{
	g_autofree gchar *data = NULL;
	g_autofree gchar *base_dir = NULL;
	gsize len = 0;
	if (!g_file_get_contents(filename, &data, &len, error)) {
		aiq_error_convert(error);
		(*error)->code = AIQ_ERROR_CONFIG;
		return FALSE;
	}
	base_dir = g_path_get_dirname(filename);
	if (!aiq_server_config_load_data(self, data, len, base_dir, error)) {
		g_prefix_error(error, "%s: ", filename);
		return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_server_config_is_loopback(const gchar *listen)
{
	g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(listen);
	if (g_strcmp0(listen, "localhost") == 0)
		return TRUE;
	return addr != NULL && g_inet_address_get_is_loopback(addr);
}

/**
 * aiq_server_config_check:
 *
 * Refuses what would be unsafe: plain HTTP beyond loopback unless allowed,
 * half a TLS key pair.
 */
gboolean
aiq_server_config_check(AiqServerConfig *self, GError **error)
{
	g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(self->listen);
	if (addr == NULL && g_strcmp0(self->listen, "localhost") != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("[server] listen: “%s” is not an IP address"),
			    self->listen);
		return FALSE;
	}
	if (self->plain_http && !self->allow_insecure_http &&
	    !aiq_server_config_is_loopback(self->listen)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("plain HTTP on %s would send passwords and tokens in clear; it is "
			      "allowed on loopback only, unless allow-insecure-http=true"),
			    self->listen);
		return FALSE;
	}
	if ((self->tls_cert == NULL) != (self->tls_key == NULL)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("[server] tls-cert and tls-key go together"));
		return FALSE;
	}
	if (self->data_dir == NULL)
		self->data_dir = aiq_server_config_default_data_dir(FALSE);
	if (self->store == NULL)
		self->store = g_build_filename(self->data_dir, "automateiq.db", NULL);
	return TRUE;
}
