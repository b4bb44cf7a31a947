/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * AiqConnection:
 * @driver: `sqlite` or `postgresql`
 * @path: the database file for sqlite
 * @dsn: the libpq connection string for postgresql
 */
typedef struct {
	gchar *name;
	gchar *driver;
	gchar *path;
	gchar *dsn;
} AiqConnection;

/**
 * AiqSmtpServer:
 * @url: `smtp://host:587` (STARTTLS) or `smtps://host:465` (TLS)
 * @starttls: `required` (default), `try` or `none` for smtp:// URLs
 * @ca: (nullable): the name of a CA from the `[ca]` group
 */
typedef struct {
	gchar *name;
	gchar *url;
	gchar *username;
	gchar *password;
	gchar *from;
	gchar *starttls;
	gchar *ca;
} AiqSmtpServer;

#define AIQ_TYPE_CONFIG (aiq_config_get_type())
G_DECLARE_FINAL_TYPE(AiqConfig, aiq_config, AIQ, CONFIG, GObject)

AiqConfig *
aiq_config_new(void);
gboolean
aiq_config_load_file(AiqConfig *self, const gchar *filename, GError **error);
gboolean
aiq_config_load_data(AiqConfig *self,
		     const gchar *data,
		     gsize len,
		     const gchar *base_dir,
		     GError **error);

gboolean
aiq_config_is_kind_enabled(AiqConfig *self, const gchar *kind);
void
aiq_config_set_kind_enabled(AiqConfig *self, const gchar *kind, gboolean enabled);
gchar **
aiq_config_get_disabled_kinds(AiqConfig *self);

guint
aiq_config_get_max_parallel_steps(AiqConfig *self);
void
aiq_config_set_max_parallel_steps(AiqConfig *self, guint value);
gsize
aiq_config_get_output_cap(AiqConfig *self);
void
aiq_config_set_output_cap(AiqConfig *self, gsize value);
guint
aiq_config_get_max_items(AiqConfig *self);
gint64
aiq_config_get_expression_instructions(AiqConfig *self);
gsize
aiq_config_get_expression_memory(AiqConfig *self);
gint64
aiq_config_get_script_instructions(AiqConfig *self);
gsize
aiq_config_get_script_memory(AiqConfig *self);
gboolean
aiq_config_get_durability_all(AiqConfig *self);
void
aiq_config_set_durability_all(AiqConfig *self, gboolean all);
guint
aiq_config_get_breaker_threshold(AiqConfig *self);
gint64
aiq_config_get_breaker_open_ms(AiqConfig *self);
void
aiq_config_set_breaker(AiqConfig *self, guint threshold, gint64 open_ms);

const AiqConnection *
aiq_config_get_connection(AiqConfig *self, const gchar *name);
void
aiq_config_add_connection(AiqConfig *self,
			  const gchar *name,
			  const gchar *driver,
			  const gchar *path,
			  const gchar *dsn);
gchar **
aiq_config_list_connections(AiqConfig *self);

const gchar *
aiq_config_get_file_root(AiqConfig *self, const gchar *name);
void
aiq_config_add_file_root(AiqConfig *self, const gchar *name, const gchar *path);
gchar **
aiq_config_list_file_roots(AiqConfig *self);

const gchar *
aiq_config_get_ca_file(AiqConfig *self, const gchar *name);
void
aiq_config_add_ca_file(AiqConfig *self, const gchar *name, const gchar *path);

const AiqSmtpServer *
aiq_config_get_smtp(AiqConfig *self, const gchar *name);
void
aiq_config_add_smtp(AiqConfig *self, const AiqSmtpServer *server);

G_END_DECLS
