/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n-lib.h>
#include <string.h>

#include "aiq-config.h"
#include "aiq-error.h"
#include "aiq-sandbox.h"
#include "aiq-util.h"

struct _AiqConfig {
	GObject parent_instance;
	GHashTable *disabled_kinds; /* set of names */
	guint max_parallel_steps;
	gsize output_cap;
	guint max_items;
	gint64 expression_instructions;
	gsize expression_memory;
	gint64 script_instructions;
	gsize script_memory;
	gboolean durability_all;
	guint breaker_threshold;
	gint64 breaker_open_ms;
	GHashTable *connections; /* name -> AiqConnection */
	GHashTable *file_roots;  /* name -> path */
	GHashTable *ca_files;    /* name -> path */
	GHashTable *smtp;        /* name ("" = default) -> AiqSmtpServer */
};

G_DEFINE_TYPE(AiqConfig, aiq_config, G_TYPE_OBJECT)

static void
aiq_connection_free(AiqConnection *conn)
{
	g_free(conn->name);
	g_free(conn->driver);
	g_free(conn->path);
	g_free(conn->dsn);
	g_free(conn);
}

static void
aiq_smtp_server_free(AiqSmtpServer *server)
{
	g_free(server->name);
	g_free(server->url);
	g_free(server->username);
	g_free(server->password);
	g_free(server->from);
	g_free(server->starttls);
	g_free(server->ca);
	g_free(server);
}

static void
aiq_config_finalize(GObject *object)
{
	AiqConfig *self = AIQ_CONFIG(object);
	g_hash_table_unref(self->disabled_kinds);
	g_hash_table_unref(self->connections);
	g_hash_table_unref(self->file_roots);
	g_hash_table_unref(self->ca_files);
	g_hash_table_unref(self->smtp);
	G_OBJECT_CLASS(aiq_config_parent_class)->finalize(object);
}

static void
aiq_config_class_init(AiqConfigClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = aiq_config_finalize;
}

static void
aiq_config_init(AiqConfig *self)
{
	self->disabled_kinds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->max_parallel_steps = 16;
	self->output_cap = 1024 * 1024;
	self->max_items = 10000;
	self->expression_instructions = AIQ_SANDBOX_DEFAULT_INSTRUCTIONS;
	self->expression_memory = AIQ_SANDBOX_DEFAULT_MEMORY;
	self->script_instructions = 50 * AIQ_SANDBOX_DEFAULT_INSTRUCTIONS;
	self->script_memory = 64 * 1024 * 1024;
	self->breaker_threshold = 5;
	self->breaker_open_ms = 30 * 1000;
	self->connections = g_hash_table_new_full(g_str_hash,
						  g_str_equal,
						  NULL,
						  (GDestroyNotify)aiq_connection_free);
	self->file_roots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->ca_files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->smtp = g_hash_table_new_full(g_str_hash,
					   g_str_equal,
					   NULL,
					   (GDestroyNotify)aiq_smtp_server_free);
}

AiqConfig *
aiq_config_new(void)
{
	return g_object_new(AIQ_TYPE_CONFIG, NULL);
}

static gchar *
aiq_config_resolve_path(const gchar *base_dir, const gchar *path)
{
	if (g_path_is_absolute(path) || base_dir == NULL)
		return g_strdup(path);
	return g_build_filename(base_dir, path, NULL);
}

typedef struct {
	const gchar *group;
	const gchar *const *keys;
} AiqConfigGroupKeys;

static const gchar *const aiq_config_engine_keys[] = {
	"max-parallel-steps", "output-cap",
	"max-items",          "expression-instructions",
	"expression-memory",  "script-instructions",
	"script-memory",      "disabled-kinds",
	"durability",         NULL
};
static const gchar *const aiq_config_breaker_keys[] = { "failure-threshold", "open-for", NULL };
static const gchar *const aiq_config_connection_keys[] = { "driver", "path", "dsn", NULL };
static const gchar *const aiq_config_smtp_keys[] = { "url",      "username", "password", "from",
						     "starttls", "ca",       NULL };
static const gchar *const aiq_config_groups[] = { "engine",    "circuit-breaker", "file-roots",
						  "ca",        "connection.NAME", "smtp",
						  "smtp.NAME", "agent",           NULL };

static gboolean
aiq_config_check_keys(GKeyFile *kf, const gchar *group, const gchar *const *known, GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		const gchar *suggestion;
		if (g_strv_contains(known, keys[i]))
			continue;
		suggestion = aiq_suggest(keys[i], known);
		if (suggestion != NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("[%s] %s: unknown key; did you mean “%s”?"),
				    group,
				    keys[i],
				    suggestion);
		} else {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("[%s] %s: unknown key"),
				    group,
				    keys[i]);
		}
		return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_config_get_uint(GKeyFile *kf,
		    const gchar *group,
		    const gchar *key,
		    guint64 min,
		    guint64 max,
		    guint64 *value,
		    GError **error)
{
	g_autofree gchar *str = g_key_file_get_string(kf, group, key, NULL);
	guint64 tmp = 0;
	if (str == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(g_strstrip(str), 10, min, max, &tmp, NULL)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("[%s] %s: “%s” is not a whole number from %" PRIu64 " to %" PRIu64),
			    group,
			    key,
			    str,
			    min,
			    max);
		return FALSE;
	}
	*value = tmp;
	return TRUE;
}

static gboolean
aiq_config_get_size(GKeyFile *kf,
		    const gchar *group,
		    const gchar *key,
		    gsize *value,
		    GError **error)
{
	g_autofree gchar *str = g_key_file_get_string(kf, group, key, NULL);
	g_autoptr(GError) error_local = NULL;
	guint64 tmp = 0;
	if (str == NULL)
		return TRUE;
	if (!aiq_size_parse(g_strstrip(str), &tmp, &error_local) || tmp == 0 || tmp > G_MAXSIZE) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("[%s] %s: “%s” is not a size such as 512KiB or 1MiB"),
			    group,
			    key,
			    str);
		return FALSE;
	}
	*value = (gsize)tmp;
	return TRUE;
}

static gboolean
aiq_config_load_keyfile(AiqConfig *self, GKeyFile *kf, const gchar *base_dir, GError **error)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
	guint64 tmp;

	for (guint i = 0; groups[i] != NULL; i++) {
		const gchar *group = groups[i];
		/* the agent's own settings (automateiq-agent reads and checks them) */
		if (g_strcmp0(group, "agent") == 0)
			continue;
		if (g_strcmp0(group, "engine") == 0) {
			g_auto(GStrv) kinds = NULL;
			if (!aiq_config_check_keys(kf, group, aiq_config_engine_keys, error))
				return FALSE;
			tmp = self->max_parallel_steps;
			if (!aiq_config_get_uint(kf,
						 group,
						 "max-parallel-steps",
						 1,
						 10000,
						 &tmp,
						 error))
				return FALSE;
			self->max_parallel_steps = (guint)tmp;
			tmp = self->max_items;
			if (!aiq_config_get_uint(kf, group, "max-items", 1, 1000000, &tmp, error))
				return FALSE;
			self->max_items = (guint)tmp;
			tmp = (guint64)self->expression_instructions;
			if (!aiq_config_get_uint(kf,
						 group,
						 "expression-instructions",
						 1000,
						 G_MAXINT32,
						 &tmp,
						 error))
				return FALSE;
			self->expression_instructions = (gint64)tmp;
			tmp = (guint64)self->script_instructions;
			if (!aiq_config_get_uint(kf,
						 group,
						 "script-instructions",
						 1000,
						 G_MAXINT64,
						 &tmp,
						 error))
				return FALSE;
			self->script_instructions = (gint64)tmp;
			if (!aiq_config_get_size(kf, group, "output-cap", &self->output_cap, error))
				return FALSE;
			if (!aiq_config_get_size(kf,
						 group,
						 "expression-memory",
						 &self->expression_memory,
						 error))
				return FALSE;
			if (!aiq_config_get_size(kf,
						 group,
						 "script-memory",
						 &self->script_memory,
						 error))
				return FALSE;
			{
				g_autofree gchar *durability =
					g_key_file_get_string(kf, group, "durability", NULL);
				if (durability != NULL) {
					g_strstrip(durability);
					if (g_strcmp0(durability, "all") == 0) {
						self->durability_all = TRUE;
					} else if (g_strcmp0(durability, "effects") == 0) {
						self->durability_all = FALSE;
					} else {
						g_set_error(error,
							    AIQ_ERROR,
							    AIQ_ERROR_CONFIG,
							    _("[engine] durability: “%s” is not "
							      "effects or all"),
							    durability);
						return FALSE;
					}
				}
			}
			kinds = g_key_file_get_string_list(kf, group, "disabled-kinds", NULL, NULL);
			for (guint j = 0; kinds != NULL && kinds[j] != NULL; j++) {
				g_strstrip(kinds[j]);
				if (kinds[j][0] != '\0')
					aiq_config_set_kind_enabled(self, kinds[j], FALSE);
			}
		} else if (g_strcmp0(group, "circuit-breaker") == 0) {
			g_autofree gchar *open_for = NULL;
			if (!aiq_config_check_keys(kf, group, aiq_config_breaker_keys, error))
				return FALSE;
			tmp = self->breaker_threshold;
			if (!aiq_config_get_uint(kf,
						 group,
						 "failure-threshold",
						 1,
						 1000,
						 &tmp,
						 error))
				return FALSE;
			self->breaker_threshold = (guint)tmp;
			open_for = g_key_file_get_string(kf, group, "open-for", NULL);
			if (open_for != NULL && !aiq_duration_parse(g_strstrip(open_for),
								    &self->breaker_open_ms,
								    error)) {
				g_prefix_error(error, "[%s] open-for: ", group);
				if (error != NULL && *error != NULL)
					(*error)->code = AIQ_ERROR_CONFIG;
				return FALSE;
			}
		} else if (g_strcmp0(group, "file-roots") == 0 || g_strcmp0(group, "ca") == 0) {
			gboolean roots = g_strcmp0(group, "file-roots") == 0;
			g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
			for (guint j = 0; keys != NULL && keys[j] != NULL; j++) {
				g_autofree gchar *value =
					g_key_file_get_string(kf, group, keys[j], NULL);
				g_autofree gchar *path = NULL;
				if (value == NULL || g_strstrip(value)[0] == '\0') {
					g_set_error(error,
						    AIQ_ERROR,
						    AIQ_ERROR_CONFIG,
						    _("[%s] %s: a path is required"),
						    group,
						    keys[j]);
					return FALSE;
				}
				path = aiq_config_resolve_path(base_dir, value);
				if (roots)
					aiq_config_add_file_root(self, keys[j], path);
				else
					aiq_config_add_ca_file(self, keys[j], path);
			}
		} else if (g_str_has_prefix(group, "connection.")) {
			const gchar *name = group + strlen("connection.");
			g_autofree gchar *driver = g_key_file_get_string(kf, group, "driver", NULL);
			g_autofree gchar *path = g_key_file_get_string(kf, group, "path", NULL);
			g_autofree gchar *dsn = g_key_file_get_string(kf, group, "dsn", NULL);
			g_autofree gchar *full_path = NULL;
			if (!aiq_config_check_keys(kf, group, aiq_config_connection_keys, error))
				return FALSE;
			if (name[0] == '\0' || driver == NULL ||
			    (g_strcmp0(driver, "sqlite") != 0 &&
			     g_strcmp0(driver, "postgresql") != 0)) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_CONFIG,
					    _("[%s] driver: must be “sqlite” or “postgresql”"),
					    group);
				return FALSE;
			}
			if (g_strcmp0(driver, "sqlite") == 0 && path == NULL) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_CONFIG,
					    _("[%s] path: required for the sqlite driver"),
					    group);
				return FALSE;
			}
			if (g_strcmp0(driver, "postgresql") == 0 && dsn == NULL) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_CONFIG,
					    _("[%s] dsn: required for the postgresql driver"),
					    group);
				return FALSE;
			}
			if (path != NULL)
				full_path = aiq_config_resolve_path(base_dir, path);
			aiq_config_add_connection(self, name, driver, full_path, dsn);
		} else if (g_strcmp0(group, "smtp") == 0 || g_str_has_prefix(group, "smtp.")) {
			AiqSmtpServer server = { 0 };
			g_autofree gchar *url = g_key_file_get_string(kf, group, "url", NULL);
			g_autofree gchar *username =
				g_key_file_get_string(kf, group, "username", NULL);
			g_autofree gchar *password =
				g_key_file_get_string(kf, group, "password", NULL);
			g_autofree gchar *from = g_key_file_get_string(kf, group, "from", NULL);
			g_autofree gchar *starttls =
				g_key_file_get_string(kf, group, "starttls", NULL);
			g_autofree gchar *ca = g_key_file_get_string(kf, group, "ca", NULL);
			if (!aiq_config_check_keys(kf, group, aiq_config_smtp_keys, error))
				return FALSE;
			if (url == NULL || (!g_str_has_prefix(url, "smtp://") &&
					    !g_str_has_prefix(url, "smtps://"))) {
				g_set_error(
					error,
					AIQ_ERROR,
					AIQ_ERROR_CONFIG,
					_("[%s] url: must be smtp://HOST:PORT or smtps://HOST:PORT"),
					group);
				return FALSE;
			}
			if (starttls != NULL &&
			    !g_strv_contains(
				    (const gchar *const[]){ "required", "try", "none", NULL },
				    starttls)) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_CONFIG,
					    _("[%s] starttls: must be required, try or none"),
					    group);
				return FALSE;
			}
			server.name = (gchar *)(g_strcmp0(group, "smtp") == 0 ? "" : group + 5);
			server.url = url;
			server.username = username;
			server.password = password;
			server.from = from;
			server.starttls = starttls;
			server.ca = ca;
			aiq_config_add_smtp(self, &server);
		} else {
			const gchar *suggestion = aiq_suggest(group, aiq_config_groups);
			if (suggestion != NULL) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_CONFIG,
					    _("[%s]: unknown group; did you mean [%s]?"),
					    group,
					    suggestion);
			} else {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_CONFIG,
					    _("[%s]: unknown group"),
					    group);
			}
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * aiq_config_load_data:
 * @base_dir: (nullable): relative paths in the file are taken from here
 */
gboolean
aiq_config_load_data(AiqConfig *self,
		     const gchar *data,
		     gsize len,
		     const gchar *base_dir,
		     GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_return_val_if_fail(AIQ_IS_CONFIG(self), FALSE);
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, error)) {
		aiq_error_convert(error);
		if (error != NULL && *error != NULL)
			(*error)->code = AIQ_ERROR_CONFIG;
		return FALSE;
	}
	return aiq_config_load_keyfile(self, kf, base_dir, error);
}

/**
 * aiq_config_load_file:
 *
 * Loads a GKeyFile INI file; errors name the file, the group and the key.
 */
gboolean
aiq_config_load_file(AiqConfig *self, const gchar *filename, GError **error)
{
	g_autofree gchar *data = NULL;
	g_autofree gchar *base_dir = NULL;
	gsize len = 0;
	g_return_val_if_fail(AIQ_IS_CONFIG(self), FALSE);
	if (!g_file_get_contents(filename, &data, &len, error)) {
		aiq_error_convert(error);
		if (error != NULL && *error != NULL)
			(*error)->code = AIQ_ERROR_CONFIG;
		return FALSE;
	}
	base_dir = g_path_get_dirname(filename);
	if (!aiq_config_load_data(self, data, len, base_dir, error)) {
		g_prefix_error(error, "%s: ", filename);
		return FALSE;
	}
	return TRUE;
}

gboolean
aiq_config_is_kind_enabled(AiqConfig *self, const gchar *kind)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), FALSE);
	return !g_hash_table_contains(self->disabled_kinds, kind);
}

void
aiq_config_set_kind_enabled(AiqConfig *self, const gchar *kind, gboolean enabled)
{
	g_return_if_fail(AIQ_IS_CONFIG(self));
	if (enabled)
		g_hash_table_remove(self->disabled_kinds, kind);
	else
		g_hash_table_add(self->disabled_kinds, g_strdup(kind));
}

static gint
aiq_config_strcmp(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar **)a, *(const gchar **)b);
}

static gchar **
aiq_config_sorted_keys(GHashTable *table)
{
	g_autoptr(GPtrArray) keys = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;
	g_hash_table_iter_init(&iter, table);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(keys, g_strdup(key));
	g_ptr_array_sort(keys, aiq_config_strcmp);
	g_ptr_array_add(keys, NULL);
	return (gchar **)g_ptr_array_free(g_steal_pointer(&keys), FALSE);
}

gchar **
aiq_config_get_disabled_kinds(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), NULL);
	return aiq_config_sorted_keys(self->disabled_kinds);
}

guint
aiq_config_get_max_parallel_steps(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), 1);
	return self->max_parallel_steps;
}

void
aiq_config_set_max_parallel_steps(AiqConfig *self, guint value)
{
	g_return_if_fail(AIQ_IS_CONFIG(self));
	self->max_parallel_steps = MAX(value, 1);
}

gsize
aiq_config_get_output_cap(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), 0);
	return self->output_cap;
}

void
aiq_config_set_output_cap(AiqConfig *self, gsize value)
{
	g_return_if_fail(AIQ_IS_CONFIG(self));
	self->output_cap = value;
}

guint
aiq_config_get_max_items(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), 0);
	return self->max_items;
}

gint64
aiq_config_get_expression_instructions(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), 0);
	return self->expression_instructions;
}

gsize
aiq_config_get_expression_memory(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), 0);
	return self->expression_memory;
}

gint64
aiq_config_get_script_instructions(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), 0);
	return self->script_instructions;
}

gsize
aiq_config_get_script_memory(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), 0);
	return self->script_memory;
}

/**
 * aiq_config_get_durability_all:
 *
 * Returns: %TRUE when every step, pure or not, starts only once its start is
 * on disk (`[engine] durability = all`); by default only steps with outside
 * effects wait (`effects`)
 */
gboolean
aiq_config_get_durability_all(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), FALSE);
	return self->durability_all;
}

void
aiq_config_set_durability_all(AiqConfig *self, gboolean all)
{
	g_return_if_fail(AIQ_IS_CONFIG(self));
	self->durability_all = all;
}

guint
aiq_config_get_breaker_threshold(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), 0);
	return self->breaker_threshold;
}

gint64
aiq_config_get_breaker_open_ms(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), 0);
	return self->breaker_open_ms;
}

void
aiq_config_set_breaker(AiqConfig *self, guint threshold, gint64 open_ms)
{
	g_return_if_fail(AIQ_IS_CONFIG(self));
	self->breaker_threshold = MAX(threshold, 1);
	self->breaker_open_ms = MAX(open_ms, 0);
}

const AiqConnection *
aiq_config_get_connection(AiqConfig *self, const gchar *name)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), NULL);
	return name != NULL ? g_hash_table_lookup(self->connections, name) : NULL;
}

void
aiq_config_add_connection(AiqConfig *self,
			  const gchar *name,
			  const gchar *driver,
			  const gchar *path,
			  const gchar *dsn)
{
	AiqConnection *conn;
	g_return_if_fail(AIQ_IS_CONFIG(self));
	g_return_if_fail(name != NULL);
	g_return_if_fail(driver != NULL);
	conn = g_new0(AiqConnection, 1);
	conn->name = g_strdup(name);
	conn->driver = g_strdup(driver);
	conn->path = g_strdup(path);
	conn->dsn = g_strdup(dsn);
	g_hash_table_replace(self->connections, conn->name, conn);
}

gchar **
aiq_config_list_connections(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), NULL);
	return aiq_config_sorted_keys(self->connections);
}

const gchar *
aiq_config_get_file_root(AiqConfig *self, const gchar *name)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), NULL);
	return name != NULL ? g_hash_table_lookup(self->file_roots, name) : NULL;
}

void
aiq_config_add_file_root(AiqConfig *self, const gchar *name, const gchar *path)
{
	g_return_if_fail(AIQ_IS_CONFIG(self));
	g_return_if_fail(name != NULL);
	g_return_if_fail(path != NULL);
	g_hash_table_replace(self->file_roots, g_strdup(name), g_strdup(path));
}

gchar **
aiq_config_list_file_roots(AiqConfig *self)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), NULL);
	return aiq_config_sorted_keys(self->file_roots);
}

const gchar *
aiq_config_get_ca_file(AiqConfig *self, const gchar *name)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), NULL);
	return name != NULL ? g_hash_table_lookup(self->ca_files, name) : NULL;
}

void
aiq_config_add_ca_file(AiqConfig *self, const gchar *name, const gchar *path)
{
	g_return_if_fail(AIQ_IS_CONFIG(self));
	g_return_if_fail(name != NULL);
	g_return_if_fail(path != NULL);
	g_hash_table_replace(self->ca_files, g_strdup(name), g_strdup(path));
}

/**
 * aiq_config_get_smtp:
 * @name: (nullable): a named server from `[smtp.NAME]`, or %NULL for `[smtp]`
 */
const AiqSmtpServer *
aiq_config_get_smtp(AiqConfig *self, const gchar *name)
{
	g_return_val_if_fail(AIQ_IS_CONFIG(self), NULL);
	return g_hash_table_lookup(self->smtp, name != NULL ? name : "");
}

void
aiq_config_add_smtp(AiqConfig *self, const AiqSmtpServer *server)
{
	AiqSmtpServer *copy;
	g_return_if_fail(AIQ_IS_CONFIG(self));
	g_return_if_fail(server != NULL);
	copy = g_new0(AiqSmtpServer, 1);
	copy->name = g_strdup(server->name != NULL ? server->name : "");
	copy->url = g_strdup(server->url);
	copy->username = g_strdup(server->username);
	copy->password = g_strdup(server->password);
	copy->from = g_strdup(server->from);
	copy->starttls = g_strdup(server->starttls != NULL ? server->starttls : "required");
	copy->ca = g_strdup(server->ca);
	g_hash_table_replace(self->smtp, copy->name, copy);
}
