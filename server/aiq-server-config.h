/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

#include "aiq-limits.h"

G_BEGIN_DECLS

/**
 * AiqServerConfig:
 * @listen: the address to listen on (default 127.0.0.1)
 * @port: 8443 by default; 0 picks a free port
 * @plain_http: serve HTTP instead of HTTPS (only on loopback, unless
 *   @allow_insecure_http)
 * @tls_cert: (nullable): PEM certificate; without it a self-signed one is
 *   made in @data_dir
 * @tls_key: (nullable): PEM key of @tls_cert
 * @hostnames: (nullable): names for the self-signed certificate
 * @data_dir: where the store and generated keys live
 * @store: the SQLite file (DATA_DIR/automateiq.db) or a postgresql:// URI
 * @store_admin: (nullable): PostgreSQL: the tables' owner, to migrate
 * @store_pool_size: PostgreSQL: connections per server at most
 * @store_pool_timeout_us: waiting for a free connection at most
 * @store_statement_timeout_us: one statement at most
 * @threads: HTTP threads (default: one per core)
 * @workers: threads running blocking handlers
 * @max_body: the default largest request body
 * @public_url: (nullable): the URL clients see, for webhook URLs
 * @tier_limits: each tier's limits: the built-in defaults, then
 *   `[tier.NAME]` groups
 * @tenant_limits: `[tenant.SLUG]` groups: slug -> JsonObject of overrides
 * @metrics_token: (nullable): a bearer token that may read /metrics from
 *   beyond loopback
 * @audit_retention_days: how long audit records are kept (365)
 * @archive_retention_days: how long execution archives are kept (7 years)
 * @retention: run the daily retention job
 * @address_requests_per_minute: logins and enrollments per source address
 * @address_burst: of those at once
 */
typedef struct {
	gchar *listen;
	guint16 port;
	gboolean plain_http;
	gboolean allow_insecure_http;
	gchar *tls_cert;
	gchar *tls_key;
	gchar **hostnames;
	gchar *data_dir;
	gchar *store;
	gchar *store_admin;
	guint store_pool_size;
	gint64 store_pool_timeout_us;
	gint64 store_statement_timeout_us;
	guint threads;
	guint workers;
	gsize max_body;
	gsize max_definition_body;
	gint64 session_ttl_us;
	gint64 enrollment_ttl_us;
	gint64 lease_ttl_us;
	gint64 agent_offline_us;
	gint64 long_poll_us;
	gint64 idle_timeout_s;
	gchar *public_url;
	gboolean scheduler;
	AiqLimits tier_limits[AIQ_TIER_LAST];
	GHashTable *tenant_limits;
	gchar *metrics_token;
	gint64 audit_retention_days;
	gint64 archive_retention_days;
	gboolean retention;
	gint64 address_requests_per_minute;
	gint64 address_burst;
} AiqServerConfig;

AiqServerConfig *
aiq_server_config_new(void);
void
aiq_server_config_free(AiqServerConfig *self);
gboolean
aiq_server_config_load_file(AiqServerConfig *self, const gchar *filename, GError **error);
gboolean
aiq_server_config_load_data(AiqServerConfig *self,
			    const gchar *data,
			    gsize len,
			    const gchar *base_dir,
			    GError **error);
gboolean
aiq_server_config_check(AiqServerConfig *self, GError **error);
gchar *
aiq_server_config_default_data_dir(gboolean system);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqServerConfig, aiq_server_config_free)

G_END_DECLS
