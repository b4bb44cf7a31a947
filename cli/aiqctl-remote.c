/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * aiqctl against a server: login, apply, workflows, run, executions,
 * agents, enrollment tokens, usage, the audit log. Every command talks through AiqClient's sync
 * calls (aiqctl has no UI to keep alive) and prints a table for people or,
 * with `-o json`, the server's JSON for scripts.
 */

#define G_LOG_DOMAIN "Aiqctl"

#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "aiq-client.h"
#include "aiq-definition.h"
#include "aiq-document.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-util.h"
#include "aiqctl-remote.h"

#define AIQCTL_MAX_PASSWORD 4096
#define AIQCTL_MAX_PAGES 10000
/* audit records asked for at once: the server's default page */
#define AIQCTL_AUDIT_PAGE 100

/* the saved login */

typedef struct {
	gchar *server;
	gchar *tenant;
	gchar *user;
	gchar *token;
	gchar *expires_at;
	gchar *ca;
	gchar *fingerprint;
} AiqctlConfig;

static void
aiqctl_config_free(AiqctlConfig *config)
{
	if (config == NULL)
		return;
	g_free(config->server);
	g_free(config->tenant);
	g_free(config->user);
	if (config->token != NULL)
		memset(config->token, 0, strlen(config->token));
	g_free(config->token);
	g_free(config->expires_at);
	g_free(config->ca);
	g_free(config->fingerprint);
	g_free(config);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqctlConfig, aiqctl_config_free)

/**
 * aiqctl_config_filename:
 *
 * Returns: `$XDG_CONFIG_HOME/automateiq/aiqctl.json`
 */
gchar *
aiqctl_config_filename(void)
{
	return g_build_filename(g_get_user_config_dir(), "automateiq", "aiqctl.json", NULL);
}

static gchar *
aiqctl_dup_member(JsonObject *obj, const gchar *member)
{
	const gchar *value = aiq_json_object_get_string(obj, member);
	return value != NULL && value[0] != '\0' ? g_strdup(value) : NULL;
}

/* the saved login; an empty one when there is none */
static AiqctlConfig *
aiqctl_config_load(GError **error)
{
	g_autoptr(AiqctlConfig) config = g_new0(AiqctlConfig, 1);
	g_autofree gchar *filename = aiqctl_config_filename();
	g_autofree gchar *data = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *obj;
	gsize len = 0;
	GStatBuf st;

	if (!g_file_get_contents(filename, &data, &len, &error_local)) {
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return g_steal_pointer(&config);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("cannot read %s: %s"),
			    filename,
			    error_local->message);
		return NULL;
	}
	if (g_stat(filename, &st) == 0 && (st.st_mode & 077) != 0)
		g_printerr(_("warning: %s can be read by other users; run “chmod 600 %s”\n"),
			   filename,
			   filename);
	root = aiq_json_parse(data, len, 8, &error_local);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("%s is damaged (%s); log in again with “aiqctl login”"),
			    filename,
			    error_local != NULL ? error_local->message : _("not an object"));
		return NULL;
	}
	obj = json_node_get_object(root);
	config->server = aiqctl_dup_member(obj, "server");
	config->tenant = aiqctl_dup_member(obj, "tenant");
	config->user = aiqctl_dup_member(obj, "user");
	config->token = aiqctl_dup_member(obj, "token");
	config->expires_at = aiqctl_dup_member(obj, "expires_at");
	config->ca = aiqctl_dup_member(obj, "ca");
	config->fingerprint = aiqctl_dup_member(obj, "fingerprint");
	return g_steal_pointer(&config);
}

static void
aiqctl_object_set_nullable(JsonObject *obj, const gchar *member, const gchar *value)
{
	if (value != NULL)
		json_object_set_string_member(obj, member, value);
	else
		json_object_set_null_member(obj, member);
}

/* written atomically, 0600 in a 0700 directory: it holds a token */
static gboolean
aiqctl_config_save(AiqctlConfig *config, GError **error)
{
	g_autofree gchar *filename = aiqctl_config_filename();
	g_autofree gchar *dir = g_path_get_dirname(filename);
	g_autoptr(JsonObject) obj = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error_local = NULL;
	gboolean ok;

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("cannot create %s: %s"),
			    dir,
			    g_strerror(errno));
		return FALSE;
	}
	aiqctl_object_set_nullable(obj, "server", config->server);
	aiqctl_object_set_nullable(obj, "tenant", config->tenant);
	aiqctl_object_set_nullable(obj, "user", config->user);
	aiqctl_object_set_nullable(obj, "token", config->token);
	aiqctl_object_set_nullable(obj, "expires_at", config->expires_at);
	aiqctl_object_set_nullable(obj, "ca", config->ca);
	aiqctl_object_set_nullable(obj, "fingerprint", config->fingerprint);
	node = aiq_json_new_object(json_object_ref(obj));
	text = aiq_json_to_string(node, TRUE);
	ok = g_file_set_contents_full(filename,
				      text,
				      -1,
				      G_FILE_SET_CONTENTS_CONSISTENT,
				      0600,
				      &error_local);
	memset(text, 0, strlen(text));
	if (!ok) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("cannot save the login in %s: %s"),
			    filename,
			    error_local->message);
		return FALSE;
	}
	return TRUE;
}

/* the connection of one command */

typedef struct {
	AiqClient *client;
	gchar *server;
	gboolean token_from_env;
	gboolean private_trust; /* a CA file or a pinned certificate */
} AiqctlRemote;

static void
aiqctl_remote_clear(AiqctlRemote *remote)
{
	g_clear_object(&remote->client);
	g_clear_pointer(&remote->server, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AiqctlRemote, aiqctl_remote_clear)

static const gchar *
aiqctl_getenv(const gchar *name)
{
	const gchar *value = g_getenv(name);
	return value != NULL && value[0] != '\0' ? value : NULL;
}

static AiqClient *
aiqctl_client_new(const gchar *server, const gchar *ca, const gchar *fingerprint, GError **error)
{
	g_autoptr(AiqClient) client = aiq_client_new(server, error);
	if (client == NULL)
		return NULL;
	aiq_client_set_user_agent(client, "aiqctl/" PACKAGE_VERSION);
	if (ca != NULL && !aiq_client_set_ca_file(client, ca, error))
		return NULL;
	if (fingerprint != NULL && !aiq_client_set_pinned_fingerprint(client, fingerprint, error))
		return NULL;
	return g_steal_pointer(&client);
}

/* the same server, written alike or not (a trailing slash, the case) */
static gboolean
aiqctl_same_server(const gchar *a, const gchar *b)
{
	g_autoptr(AiqClient) client_a = NULL;
	g_autoptr(AiqClient) client_b = NULL;
	if (a == NULL || b == NULL)
		return FALSE;
	client_a = aiq_client_new(a, NULL);
	client_b = aiq_client_new(b, NULL);
	if (client_a == NULL || client_b == NULL)
		return g_strcmp0(a, b) == 0;
	return g_strcmp0(aiq_client_get_base_url(client_a), aiq_client_get_base_url(client_b)) == 0;
}

static gboolean
aiqctl_token_expired(const gchar *expires_at)
{
	gint64 when = 0;
	if (expires_at == NULL || !aiq_time_from_iso8601(expires_at, &when, NULL))
		return FALSE;
	return when <= g_get_real_time();
}

/* the server and token: AIQ_SERVER and AIQ_TOKEN, else the saved login */
static gboolean
aiqctl_remote_open(AiqctlRemote *remote, GError **error)
{
	g_autoptr(AiqctlConfig) config = aiqctl_config_load(error);
	const gchar *env_server = aiqctl_getenv("AIQ_SERVER");
	const gchar *env_token = aiqctl_getenv("AIQ_TOKEN");
	const gchar *env_ca = aiqctl_getenv("AIQ_CA");
	const gchar *env_fingerprint = aiqctl_getenv("AIQ_TRUST_FINGERPRINT");
	const gchar *server;
	const gchar *token = NULL;
	const gchar *ca;
	const gchar *fingerprint;
	gboolean same_server;

	if (config == NULL)
		return FALSE;
	server = env_server != NULL ? env_server : config->server;
	if (server == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("not logged in: run “aiqctl login --server URL --tenant T "
				      "--user U”, or set AIQ_SERVER and AIQ_TOKEN"));
		return FALSE;
	}
	/* the saved token goes only to the server it was made by */
	same_server = aiqctl_same_server(server, config->server);
	if (env_token != NULL) {
		token = env_token;
		remote->token_from_env = TRUE;
	} else if (same_server && config->token != NULL) {
		if (aiqctl_token_expired(config->expires_at)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAUTHENTICATED,
				    _("your session on %s expired at %s: log in again with "
				      "“aiqctl login”"),
				    server,
				    config->expires_at);
			return FALSE;
		}
		token = config->token;
	}
	if (token == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_UNAUTHENTICATED,
			    _("not logged in to %s: run “aiqctl login”, or set AIQ_TOKEN"),
			    server);
		return FALSE;
	}
	ca = env_ca != NULL ? env_ca : (same_server ? config->ca : NULL);
	fingerprint = env_fingerprint != NULL ? env_fingerprint
					      : (same_server ? config->fingerprint : NULL);
	remote->private_trust = ca != NULL || fingerprint != NULL;
	remote->client = aiqctl_client_new(server, ca, fingerprint, error);
	if (remote->client == NULL)
		return FALSE;
	aiq_client_set_token(remote->client, token);
	remote->server = g_strdup(aiq_client_get_base_url(remote->client));
	return TRUE;
}

/* an error, with what to do about it */
static void
aiqctl_print_error(AiqClient *client, const GError *error, gboolean token_from_env)
{
	g_autoptr(GTlsCertificate) rejected =
		client != NULL ? aiq_client_dup_rejected_certificate(client, NULL) : NULL;

	g_printerr("aiqctl: %s\n", error->message);
	if (rejected != NULL) {
		g_autofree gchar *fingerprint = aiq_client_fingerprint_from_certificate(rejected);
		g_printerr(
			_("This is a certificate problem. If the server's certificate is issued by "
			  "a private CA, give that CA: “aiqctl login --ca FILE” (or AIQ_CA=FILE). "
			  "To trust this very certificate, first check with the server's "
			  "administrator that its SHA-256 fingerprint is %s (automateiq-server "
			  "prints it when it starts), then use “aiqctl login --trust-fingerprint "
			  "%s” (or AIQ_TRUST_FINGERPRINT).\n"),
			fingerprint,
			fingerprint);
		return;
	}
	if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED)) {
		if (token_from_env)
			g_printerr(_("The token in AIQ_TOKEN was refused; check it.\n"));
		else
			g_printerr(_("Log in again with “aiqctl login”.\n"));
	} else if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_FORBIDDEN)) {
		g_printerr(_("Your role does not allow this; ask a tenant admin.\n"));
	}
}

static gint
aiqctl_remote_fail(AiqctlRemote *remote, const GError *error)
{
	/* failed before any request: the message says what to do */
	if (remote->client == NULL)
		g_printerr("aiqctl: %s\n", error->message);
	else
		aiqctl_print_error(remote->client, error, remote->token_from_env);
	return AIQCTL_EXIT_FAILED;
}

/* output */

static void
aiqctl_print_json(JsonNode *node)
{
	g_autofree gchar *text = aiq_json_to_string(node, TRUE);
	g_print("%s\n", text);
}

/* @obj: (transfer none): an answer made here rather than by the server */
static void
aiqctl_print_json_object(JsonObject *obj)
{
	g_autoptr(JsonNode) node = aiq_json_new_object(json_object_ref(obj));
	aiqctl_print_json(node);
}

static gboolean
aiqctl_check_output(const gchar *output, gboolean yaml_ok, gboolean *json)
{
	if (output == NULL || g_strcmp0(output, "text") == 0) {
		*json = FALSE;
		return TRUE;
	}
	if (g_strcmp0(output, "json") == 0) {
		*json = TRUE;
		return TRUE;
	}
	if (yaml_ok && g_strcmp0(output, "yaml") == 0) {
		*json = FALSE;
		return TRUE;
	}
	if (yaml_ok)
		g_printerr(_("--output: use text, json or yaml\n"));
	else
		g_printerr(_("--output: use text or json\n"));
	return FALSE;
}

static JsonObject *
aiqctl_object(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static gboolean
aiqctl_get_bool(JsonObject *obj, const gchar *member)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;
	return aiq_json_is_bool(node) && json_node_get_boolean(node);
}

static const gchar *
aiqctl_or_dash(const gchar *value)
{
	return value != NULL && value[0] != '\0' ? value : "-";
}

/* a server time, in local time for people */
static gchar *
aiqctl_format_time(const gchar *iso)
{
	g_autoptr(GDateTime) dt = NULL;
	g_autoptr(GDateTime) local = NULL;
	if (iso == NULL)
		return g_strdup("-");
	dt = g_date_time_new_from_iso8601(iso, NULL);
	if (dt == NULL)
		return g_strdup(iso);
	local = g_date_time_to_local(dt);
	return g_date_time_format(local, "%Y-%m-%d %H:%M:%S");
}

/* an integer member, 0 when missing */
static gchar *
aiqctl_format_int(JsonObject *obj, const gchar *member)
{
	return g_strdup_printf("%" PRId64, aiq_json_object_get_int(obj, member, 0));
}

static gchar *
aiqctl_format_duration(JsonObject *obj)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, "duration_ms") : NULL;
	if (!aiq_json_is_number(node))
		return g_strdup("-");
	return g_strdup_printf("%.1f s", json_node_get_double(node) / 1000.0);
}

static gchar *
aiqctl_join_strings(JsonArray *array, const gchar *separator)
{
	GString *str = g_string_new(NULL);
	for (guint i = 0; array != NULL && i < json_array_get_length(array); i++) {
		JsonNode *node = json_array_get_element(array, i);
		if (!aiq_json_is_string(node))
			continue;
		if (str->len > 0)
			g_string_append(str, separator);
		g_string_append(str, json_node_get_string(node));
	}
	return g_string_free(str, FALSE);
}

/* the message of an `error` member that is {code, message} or a string */
static const gchar *
aiqctl_error_message(JsonObject *obj, const gchar *member)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;
	if (node == NULL)
		return NULL;
	if (aiq_json_is_string(node))
		return json_node_get_string(node);
	if (JSON_NODE_HOLDS_OBJECT(node))
		return aiq_json_object_get_string(json_node_get_object(node), "message");
	return NULL;
}

/* aligned columns; the last is not padded */
typedef struct {
	guint n_cols;
	GPtrArray *rows; /* of GStrv */
} AiqctlTable;

static AiqctlTable *
aiqctl_table_new(guint n_cols)
{
	AiqctlTable *table = g_new0(AiqctlTable, 1);
	table->n_cols = n_cols;
	table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	return table;
}

static void
aiqctl_table_free(AiqctlTable *table)
{
	g_ptr_array_unref(table->rows);
	g_free(table);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqctlTable, aiqctl_table_free)

/* n_cols strings, each nullable (shown as -) */
static void
aiqctl_table_add(AiqctlTable *table, ...)
{
	gchar **row = g_new0(gchar *, table->n_cols + 1);
	va_list args;
	va_start(args, table);
	for (guint i = 0; i < table->n_cols; i++)
		row[i] = g_strdup(aiqctl_or_dash(va_arg(args, const gchar *)));
	va_end(args);
	g_ptr_array_add(table->rows, row);
}

static void
aiqctl_table_print(AiqctlTable *table)
{
	g_autofree glong *widths = g_new0(glong, table->n_cols);
	for (guint r = 0; r < table->rows->len; r++) {
		gchar **row = g_ptr_array_index(table->rows, r);
		for (guint c = 0; c < table->n_cols; c++)
			widths[c] = MAX(widths[c], g_utf8_strlen(row[c], -1));
	}
	for (guint r = 0; r < table->rows->len; r++) {
		gchar **row = g_ptr_array_index(table->rows, r);
		GString *line = g_string_new(NULL);
		for (guint c = 0; c < table->n_cols; c++) {
			g_string_append(line, row[c]);
			if (c + 1 < table->n_cols) {
				for (glong pad = g_utf8_strlen(row[c], -1); pad < widths[c] + 2;
				     pad++)
					g_string_append_c(line, ' ');
			}
		}
		g_print("%s\n", line->str);
		g_string_free(line, TRUE);
	}
}

/* options every remote command has */

typedef struct {
	gchar *output;
	gboolean yaml_ok; /* set by the command: it also prints `-o yaml` */
	gboolean json;    /* `-o json`, once parsed */
} AiqctlCommon;

static void
aiqctl_common_clear(AiqctlCommon *common)
{
	g_clear_pointer(&common->output, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AiqctlCommon, aiqctl_common_clear)

static GOptionContext *
aiqctl_context_new(const gchar *parameters, const GOptionEntry *entries, AiqctlCommon *common)
{
	const GOptionEntry common_entries[] = { { "output",
						  'o',
						  0,
						  G_OPTION_ARG_STRING,
						  &common->output,
						  N_("json: print the server's JSON"),
						  N_("FORMAT") },
						{ NULL } };
	GOptionContext *ctx = g_option_context_new(parameters);
	g_option_context_add_main_entries(ctx, common_entries, GETTEXT_PACKAGE);
	if (entries != NULL)
		g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	return ctx;
}

/* the options and arguments, then --output; FALSE for a usage error */
static gboolean
aiqctl_parse(GOptionContext *ctx,
	     gint *argc,
	     gchar ***argv,
	     gint min_args,
	     gint max_args,
	     AiqctlCommon *common)
{
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		g_printerr("%s\n", error->message);
		return FALSE;
	}
	/* argv[0] is the command */
	if (*argc - 1 < min_args || (max_args >= 0 && *argc - 1 > max_args)) {
		g_autofree gchar *help = g_option_context_get_help(ctx, TRUE, NULL);
		g_printerr("%s", help);
		return FALSE;
	}
	return aiqctl_check_output(common->output, common->yaml_ok, &common->json);
}

/* subcommands of a command group */

typedef struct {
	const gchar *name;
	gint (*func)(gint argc, gchar **argv);
	const gchar *summary;
} AiqctlSubcommand;

static gint
aiqctl_dispatch(const gchar *group,
		const AiqctlSubcommand *subs,
		guint n_subs,
		gint argc,
		gchar **argv)
{
	gboolean help =
		argc >= 2 && (g_strcmp0(argv[1], "--help") == 0 || g_strcmp0(argv[1], "-h") == 0 ||
			      g_strcmp0(argv[1], "help") == 0);
	FILE *out = help ? stdout : stderr;

	if (argc >= 2 && !help) {
		for (guint i = 0; i < n_subs; i++) {
			if (g_strcmp0(argv[1], subs[i].name) == 0) {
				g_autofree gchar *prgname =
					g_strdup_printf("aiqctl %s %s", group, argv[1]);
				g_set_prgname(prgname);
				return subs[i].func(argc - 1, argv + 1);
			}
		}
		fprintf(stderr, _("aiqctl %s: unknown command “%s”\n"), group, argv[1]);
	}
	fprintf(out, _("Usage: aiqctl %s COMMAND [OPTION…]\n\n"), group);
	fprintf(out, "%s\n", _("Commands:"));
	for (guint i = 0; i < n_subs; i++)
		fprintf(out, "  %-10s %s\n", subs[i].name, _(subs[i].summary));
	return help ? AIQCTL_EXIT_OK : AIQCTL_EXIT_USAGE;
}

/* finding things */

/* a workflow's id from its name or id */
static gchar *
aiqctl_resolve_workflow(AiqctlRemote *remote, const gchar *ref, GError **error)
{
	AiqClientWorkflowQuery query = { .name = ref, .limit = 1 };
	g_autoptr(JsonNode) page = NULL;
	JsonArray *items;
	JsonObject *first;

	if (aiq_id_is_valid(ref))
		return g_strdup(ref);
	page = aiq_client_list_workflows_sync(remote->client, &query, NULL, error);
	if (page == NULL)
		return NULL;
	items = aiq_json_object_get_array(aiqctl_object(page), "items");
	if (items == NULL || json_array_get_length(items) == 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("no workflow named “%s” on %s"),
			    ref,
			    remote->server);
		return NULL;
	}
	first = aiqctl_object(json_array_get_element(items, 0));
	if (aiq_json_object_get_string(first, "id") == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    _("the server's answer for “%s” has no id"),
			    ref);
		return NULL;
	}
	return g_strdup(aiq_json_object_get_string(first, "id"));
}

/* the connection, and the id of the workflow the command is about */
static gchar *
aiqctl_remote_open_workflow(AiqctlRemote *remote, const gchar *ref, GError **error)
{
	if (!aiqctl_remote_open(remote, error))
		return NULL;
	return aiqctl_resolve_workflow(remote, ref, error);
}

/* every page of a list, as one `{items, next_cursor: null}` */
typedef JsonNode *(*AiqctlPageFunc)(AiqctlRemote *remote,
				    const gchar *cursor,
				    gpointer user_data,
				    GError **error);

/* the pages of a list until it ends or has @max_items, as one `{items,
 * next_cursor}` whose cursor is where a next call would go on (null at
 * the end); @func asks for pages no larger than what is left */
static JsonNode *
aiqctl_list_up_to(AiqctlRemote *remote,
		  AiqctlPageFunc func,
		  gpointer user_data,
		  guint max_items,
		  GError **error)
{
	g_autoptr(JsonArray) all = json_array_new();
	g_autofree gchar *cursor = NULL;
	JsonObject *result = json_object_new();
	gboolean more = FALSE;

	for (guint page_no = 0; page_no < AIQCTL_MAX_PAGES; page_no++) {
		g_autoptr(JsonNode) page = func(remote, cursor, user_data, error);
		JsonArray *items;
		const gchar *next;
		if (page == NULL) {
			json_object_unref(result);
			return NULL;
		}
		items = aiq_json_object_get_array(aiqctl_object(page), "items");
		for (guint i = 0; items != NULL && i < json_array_get_length(items); i++)
			json_array_add_element(all,
					       json_node_copy(json_array_get_element(items, i)));
		next = aiq_json_object_get_string(aiqctl_object(page), "next_cursor");
		more = FALSE;
		if (next == NULL || next[0] == '\0' || g_strcmp0(next, cursor) == 0)
			break;
		g_free(cursor);
		cursor = g_strdup(next);
		more = TRUE;
		if (json_array_get_length(all) >= max_items)
			break;
	}
	json_object_set_array_member(result, "items", json_array_ref(all));
	if (more)
		json_object_set_string_member(result, "next_cursor", cursor);
	else
		json_object_set_null_member(result, "next_cursor");
	return aiq_json_new_object(result);
}

static JsonNode *
aiqctl_list_all(AiqctlRemote *remote, AiqctlPageFunc func, gpointer user_data, GError **error)
{
	return aiqctl_list_up_to(remote, func, user_data, G_MAXUINT, error);
}

static void
aiqctl_tty_restore(gint fd, struct termios *saved)
{
	tcsetattr(fd, TCSAFLUSH, saved);
}

static gint aiqctl_tty_fd = -1;
static struct termios aiqctl_tty_saved;

static void
aiqctl_tty_signal_cb(gint signum)
{
	/* async-signal-safe: put the echo back and die of the signal */
	if (aiqctl_tty_fd >= 0)
		tcsetattr(aiqctl_tty_fd, TCSAFLUSH, &aiqctl_tty_saved);
	signal(signum, SIG_DFL);
	raise(signum);
}

/* a line from the terminal, without echo */
static gchar *
aiqctl_read_password(const gchar *prompt, GError **error)
{
	GString *password = g_string_new(NULL);
	struct termios noecho;
	struct sigaction action = { 0 };
	struct sigaction old_int, old_term;
	gboolean too_long = FALSE;
	gint fd;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || tcgetattr(fd, &aiqctl_tty_saved) != 0) {
		if (fd >= 0)
			close(fd);
		g_string_free(password, TRUE);
		g_set_error_literal(
			error,
			AIQ_ERROR,
			AIQ_ERROR_INVALID_ARGUMENT,
			_("no terminal to ask for the password on: use --password-stdin"));
		return NULL;
	}
	aiqctl_tty_fd = fd;
	action.sa_handler = aiqctl_tty_signal_cb;
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, &old_int);
	sigaction(SIGTERM, &action, &old_term);

	if (write(fd, prompt, strlen(prompt)) < 0)
		g_debug("cannot write the prompt: %s", g_strerror(errno));
	noecho = aiqctl_tty_saved;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ECHONL;
	tcsetattr(fd, TCSAFLUSH, &noecho);
	for (;;) {
		gchar c;
		gssize n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n' || c == '\r')
			break;
		if (password->len >= AIQCTL_MAX_PASSWORD)
			too_long = TRUE;
		else
			g_string_append_c(password, c);
	}
	aiqctl_tty_restore(fd, &aiqctl_tty_saved);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	aiqctl_tty_fd = -1;
	close(fd);
	if (too_long) {
		memset(password->str, 0, password->len);
		g_string_free(password, TRUE);
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("the password is too long"));
		return NULL;
	}
	return g_string_free(password, FALSE);
}

/* the first line of stdin */
static gchar *
aiqctl_read_password_stdin(GError **error)
{
	GString *password = g_string_new(NULL);
	gint c;
	while ((c = getchar()) != EOF && c != '\n') {
		if (password->len >= AIQCTL_MAX_PASSWORD) {
			memset(password->str, 0, password->len);
			g_string_free(password, TRUE);
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("the password is too long"));
			return NULL;
		}
		g_string_append_c(password, (gchar)c);
	}
	if (password->len > 0 && password->str[password->len - 1] == '\r')
		g_string_truncate(password, password->len - 1);
	return g_string_free(password, FALSE);
}

static void
aiqctl_password_free(gchar *password)
{
	if (password == NULL)
		return;
	memset(password, 0, strlen(password));
	g_free(password);
}

static gboolean
aiqctl_url_is_insecure(const gchar *url)
{
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	const gchar *host;
	if (uri == NULL || g_strcmp0(g_uri_get_scheme(uri), "http") != 0)
		return FALSE;
	host = g_uri_get_host(uri);
	return g_strcmp0(host, "localhost") != 0 && g_strcmp0(host, "127.0.0.1") != 0 &&
	       g_strcmp0(host, "::1") != 0;
}

gint
aiqctl_cmd_login(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_autofree gchar *server = NULL;
	g_autofree gchar *tenant = NULL;
	g_autofree gchar *user = NULL;
	g_autofree gchar *ca = NULL;
	g_autofree gchar *fingerprint = NULL;
	gboolean password_stdin = FALSE;
	const GOptionEntry entries[] = {
		{ "server",
		  's',
		  0,
		  G_OPTION_ARG_STRING,
		  &server,
		  N_("The server, e.g. https://aiq.example.com"),
		  N_("URL") },
		{ "tenant", 't', 0, G_OPTION_ARG_STRING, &tenant, N_("Your tenant"), N_("TENANT") },
		{ "user", 'u', 0, G_OPTION_ARG_STRING, &user, N_("Your user name"), N_("USER") },
		{ "password-stdin",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &password_stdin,
		  N_("Read the password from the first line of stdin"),
		  NULL },
		{ "ca",
		  0,
		  0,
		  G_OPTION_ARG_FILENAME,
		  &ca,
		  N_("Also trust the CA certificates in FILE (PEM) for the server"),
		  N_("FILE") },
		{ "trust-fingerprint",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &fingerprint,
		  N_("Trust the server's certificate if its SHA-256 fingerprint is this one"),
		  N_("SHA256") },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("— log in to a server and keep the session"),
				   entries,
				   &common);
	g_autoptr(AiqctlConfig) saved = NULL;
	g_autoptr(AiqctlConfig) config = g_new0(AiqctlConfig, 1);
	g_autoptr(AiqClient) client = NULL;
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *filename = aiqctl_config_filename();
	g_autofree gchar *expires = NULL;
	gchar *password = NULL;
	JsonObject *obj;

	if (!aiqctl_parse(ctx, &argc, &argv, 0, 0, &common))
		return AIQCTL_EXIT_USAGE;
	saved = aiqctl_config_load(&error);
	if (saved == NULL) {
		/* a damaged file is replaced by this login */
		g_printerr("%s\n", error->message);
		g_clear_error(&error);
		saved = g_new0(AiqctlConfig, 1);
	}
	/* what is not given comes from the environment or the last login */
	if (server == NULL) {
		const gchar *env_server = aiqctl_getenv("AIQ_SERVER");
		server = g_strdup(env_server != NULL ? env_server : saved->server);
	}
	if (tenant == NULL)
		tenant = g_strdup(saved->tenant);
	if (user == NULL)
		user = g_strdup(saved->user);
	if (server == NULL || tenant == NULL || user == NULL) {
		g_printerr(_("login: give --server URL, --tenant TENANT and --user USER\n"));
		return AIQCTL_EXIT_USAGE;
	}
	if (fingerprint != NULL && !aiq_client_fingerprint_is_valid(fingerprint)) {
		g_printerr(_("--trust-fingerprint: “%s” is not a SHA-256 fingerprint (64 hex "
			     "digits, like AB:CD:…)\n"),
			   fingerprint);
		return AIQCTL_EXIT_USAGE;
	}
	if (ca != NULL) {
		gchar *absolute = g_canonicalize_filename(ca, NULL);
		g_free(ca);
		ca = absolute;
	} else if (fingerprint == NULL && aiqctl_same_server(server, saved->server)) {
		/* logging in again to the same server keeps what it trusted */
		ca = g_strdup(saved->ca);
		fingerprint = g_strdup(saved->fingerprint);
	}
	client = aiqctl_client_new(server, ca, fingerprint, &error);
	if (client == NULL) {
		g_printerr("%s\n", error->message);
		return AIQCTL_EXIT_USAGE;
	}
	if (aiqctl_url_is_insecure(server))
		g_printerr(_("warning: %s is not HTTPS; the password and the token cross the "
			     "network unencrypted\n"),
			   server);

	if (password_stdin) {
		password = aiqctl_read_password_stdin(&error);
	} else {
		g_autofree gchar *prompt = g_strdup_printf(_("Password for %s@%s: "), user, tenant);
		password = aiqctl_read_password(prompt, &error);
	}
	if (password == NULL) {
		g_printerr("%s\n", error->message);
		return AIQCTL_EXIT_USAGE;
	}
	answer = aiq_client_login_sync(client, tenant, user, password, NULL, &error);
	aiqctl_password_free(password);
	if (answer == NULL) {
		aiqctl_print_error(client, error, FALSE);
		return AIQCTL_EXIT_FAILED;
	}
	obj = aiqctl_object(answer);
	if (aiq_json_object_get_string(obj, "token") == NULL) {
		g_printerr(_("aiqctl: the server's answer has no token\n"));
		return AIQCTL_EXIT_FAILED;
	}
	config->server = g_strdup(aiq_client_get_base_url(client));
	config->tenant = g_strdup(tenant);
	config->user = g_strdup(user);
	config->token = g_strdup(aiq_json_object_get_string(obj, "token"));
	config->expires_at = g_strdup(aiq_json_object_get_string(obj, "expires_at"));
	config->ca = g_strdup(ca);
	config->fingerprint = g_strdup(fingerprint);
	if (!aiqctl_config_save(config, &error)) {
		g_printerr("aiqctl: %s\n", error->message);
		return AIQCTL_EXIT_FAILED;
	}
	if (common.json) {
		/* the answer without the token, which stays in the file */
		g_autoptr(JsonObject) out = json_object_new();
		json_object_set_string_member(out, "server", config->server);
		json_object_set_string_member(out, "tenant", config->tenant);
		aiqctl_object_set_nullable(out, "expires_at", config->expires_at);
		if (json_object_has_member(obj, "user"))
			json_object_set_member(out,
					       "user",
					       json_node_copy(json_object_get_member(obj, "user")));
		json_object_set_string_member(out, "config", filename);
		aiqctl_print_json_object(out);
		return AIQCTL_EXIT_OK;
	}
	expires = aiqctl_format_time(config->expires_at);
	g_print(_("Logged in to %s as %s (tenant %s); the session lasts until %s.\n"),
		config->server,
		user,
		tenant,
		expires);
	return AIQCTL_EXIT_OK;
}

gint
aiqctl_cmd_logout(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("— end the session and forget its token"), NULL, &common);
	g_autoptr(AiqctlConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	gboolean revoked = FALSE;

	if (!aiqctl_parse(ctx, &argc, &argv, 0, 0, &common))
		return AIQCTL_EXIT_USAGE;
	config = aiqctl_config_load(&error);
	if (config == NULL) {
		g_printerr("aiqctl: %s\n", error->message);
		return AIQCTL_EXIT_FAILED;
	}
	if (config->server != NULL && config->token != NULL) {
		g_autoptr(AiqClient) client =
			aiqctl_client_new(config->server, config->ca, config->fingerprint, &error);
		g_autoptr(JsonNode) answer = NULL;
		if (client != NULL) {
			aiq_client_set_token(client, config->token);
			answer = aiq_client_logout_sync(client, NULL, &error);
		}
		revoked = answer != NULL;
		/* an expired or revoked session is as good as ended */
		if (answer == NULL && !g_error_matches(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED))
			g_printerr(_("warning: the server did not end the session (%s); the token "
				     "is forgotten here and expires on its own\n"),
				   error->message);
		g_clear_pointer(&config->token, g_free);
		g_clear_pointer(&config->expires_at, g_free);
		if (!aiqctl_config_save(config, &error)) {
			g_printerr("aiqctl: %s\n", error->message);
			return AIQCTL_EXIT_FAILED;
		}
	}
	if (aiqctl_getenv("AIQ_TOKEN") != NULL)
		g_printerr(_("note: AIQ_TOKEN is still set in the environment\n"));
	if (common.json) {
		g_autoptr(JsonObject) out = json_object_new();
		aiqctl_object_set_nullable(out, "server", config->server);
		json_object_set_boolean_member(out, "revoked", revoked);
		aiqctl_print_json_object(out);
	} else if (config->server != NULL) {
		g_print(_("Logged out of %s.\n"), config->server);
	} else {
		g_print(_("Not logged in.\n"));
	}
	return AIQCTL_EXIT_OK;
}

/* apply */

typedef enum {
	AIQCTL_APPLY_CREATED,
	AIQCTL_APPLY_UPDATED,
	AIQCTL_APPLY_UNCHANGED,
} AiqctlApplyResult;

static const gchar *
aiqctl_content_type_for(const gchar *filename, const gchar *data, gsize len)
{
	AiqDocumentFormat format = aiq_document_format_from_filename(filename);
	if (format == AIQ_DOCUMENT_FORMAT_AUTO)
		format = aiq_document_format_guess(data, len);
	return format == AIQ_DOCUMENT_FORMAT_JSON ? "application/json" : "application/yaml";
}

static void
aiqctl_apply_print_problems(const gchar *filename, AiqProblems *problems, const GError *error)
{
	if (aiq_problems_get_size(problems) > 0) {
		g_autofree gchar *text = aiq_problems_to_string(problems, filename);
		g_printerr("%s", text);
	} else {
		g_printerr("%s: %s\n", filename, error->message);
	}
}

/* one file: created, a new version when it changed, or unchanged */
static JsonNode *
aiqctl_apply_file(AiqctlRemote *remote,
		  const gchar *filename,
		  AiqctlApplyResult *result,
		  GError **error)
{
	g_autofree gchar *data = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(JsonNode) document = NULL;
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *id = NULL;
	const gchar *name;
	const gchar *content_type;
	JsonNode *answer;
	gsize len = 0;

	if (!g_file_get_contents(filename, &data, &len, &error_local)) {
		g_set_error_literal(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, error_local->message);
		return NULL;
	}
	if (!aiq_document_check_size(len, aiq_document_limits_default(), error))
		return NULL;
	/* read here only for the name; the server validates */
	document = aiq_document_parse(data,
				      len,
				      aiq_document_format_from_filename(filename),
				      aiq_document_limits_default(),
				      error);
	if (document == NULL)
		return NULL;
	name = aiq_json_object_get_string(aiqctl_object(document), "name");
	content_type = aiqctl_content_type_for(filename, data, len);
	bytes = g_bytes_new_take(g_steal_pointer(&data), len);

	if (name != NULL) {
		id = aiqctl_resolve_workflow(remote, name, &error_local);
		if (id == NULL && !g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_NOT_FOUND)) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		g_clear_error(&error_local);
	}
	if (id == NULL) {
		answer = aiq_client_create_workflow_sync(remote->client,
							 bytes,
							 content_type,
							 problems,
							 NULL,
							 &error_local);
		if (answer != NULL) {
			*result = AIQCTL_APPLY_CREATED;
			return answer;
		}
		/* made by someone else meanwhile: update it instead */
		if (!g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_CONFLICT) || name == NULL) {
			aiqctl_apply_print_problems(filename, problems, error_local);
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		g_clear_error(&error_local);
		id = aiqctl_resolve_workflow(remote, name, error);
		if (id == NULL)
			return NULL;
	}
	answer = aiq_client_update_workflow_sync(remote->client,
						 id,
						 bytes,
						 content_type,
						 problems,
						 NULL,
						 &error_local);
	if (answer == NULL) {
		aiqctl_apply_print_problems(filename, problems, error_local);
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	*result = aiqctl_get_bool(aiqctl_object(answer), "changed") ? AIQCTL_APPLY_UPDATED
								    : AIQCTL_APPLY_UNCHANGED;
	return answer;
}

gint
aiqctl_cmd_apply(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_auto(GStrv) files = NULL;
	const GOptionEntry entries[] = { { "filename",
					   'f',
					   0,
					   G_OPTION_ARG_FILENAME_ARRAY,
					   &files,
					   N_("A workflow definition, YAML or JSON (repeatable)"),
					   N_("FILE") },
					 { NULL } };
	g_autoptr(GOptionContext) ctx = aiqctl_context_new(
		_("[FILE…] — create workflows, or a new version of those that changed"),
		entries,
		&common);
	g_autoptr(GPtrArray) all = g_ptr_array_new();
	g_autoptr(JsonArray) answers = json_array_new();
	g_autoptr(GError) error = NULL;
	gint rc = AIQCTL_EXIT_OK;

	if (!aiqctl_parse(ctx, &argc, &argv, 0, -1, &common))
		return AIQCTL_EXIT_USAGE;
	for (guint i = 0; files != NULL && files[i] != NULL; i++)
		g_ptr_array_add(all, files[i]);
	for (gint i = 1; i < argc; i++)
		g_ptr_array_add(all, argv[i]);
	if (all->len == 0) {
		g_printerr(_("apply: give one or more files with -f FILE\n"));
		return AIQCTL_EXIT_USAGE;
	}
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);

	for (guint i = 0; i < all->len; i++) {
		const gchar *filename = g_ptr_array_index(all, i);
		g_autoptr(GError) error_local = NULL;
		AiqctlApplyResult result = AIQCTL_APPLY_UNCHANGED;
		g_autoptr(JsonNode) answer =
			aiqctl_apply_file(&remote, filename, &result, &error_local);
		JsonObject *obj = aiqctl_object(answer);
		const gchar *name = aiq_json_object_get_string(obj, "name");
		gint64 version = aiq_json_object_get_int(obj, "version", 0);

		if (answer == NULL) {
			rc = AIQCTL_EXIT_FAILED;
			/* definition problems are printed already */
			if (g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_INVALID_DEFINITION) ||
			    g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_INVALID_INPUT))
				continue;
			if (error_local->domain == AIQ_ERROR &&
			    (error_local->code == AIQ_ERROR_CONNECTION ||
			     error_local->code == AIQ_ERROR_UNAUTHENTICATED ||
			     error_local->code == AIQ_ERROR_FORBIDDEN)) {
				aiqctl_print_error(remote.client,
						   error_local,
						   remote.token_from_env);
				break;
			}
			g_printerr("%s: %s\n", filename, error_local->message);
			continue;
		}
		json_array_add_element(answers, json_node_ref(answer));
		if (common.json)
			continue;
		switch (result) {
		case AIQCTL_APPLY_CREATED:
			g_print(_("%s: %s created (version %" PRId64 ")\n"),
				filename,
				aiqctl_or_dash(name),
				version);
			break;
		case AIQCTL_APPLY_UPDATED:
			g_print(_("%s: %s updated to version %" PRId64 "\n"),
				filename,
				aiqctl_or_dash(name),
				version);
			break;
		case AIQCTL_APPLY_UNCHANGED:
			g_print(_("%s: %s unchanged (version %" PRId64 ")\n"),
				filename,
				aiqctl_or_dash(name),
				version);
			break;
		default:
			g_assert_not_reached();
		}
	}
	if (common.json) {
		g_autoptr(JsonNode) node = aiq_json_new_array(json_array_ref(answers));
		aiqctl_print_json(node);
	}
	return rc;
}

/* workflows */

typedef struct {
	const gchar *search;
	const gchar *label;
	guint limit;
} AiqctlWorkflowsPage;

static JsonNode *
aiqctl_workflows_page(AiqctlRemote *remote, const gchar *cursor, gpointer user_data, GError **error)
{
	AiqctlWorkflowsPage *page = user_data;
	AiqClientWorkflowQuery query = { .search = page->search,
					 .label = page->label,
					 .cursor = cursor,
					 .limit = page->limit };
	return aiq_client_list_workflows_sync(remote->client, &query, NULL, error);
}

static gint
aiqctl_workflows_list(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autofree gchar *search = NULL;
	g_autofree gchar *label = NULL;
	const GOptionEntry entries[] = { { "search",
					   0,
					   0,
					   G_OPTION_ARG_STRING,
					   &search,
					   N_("Only names containing TEXT"),
					   N_("TEXT") },
					 { "label",
					   0,
					   0,
					   G_OPTION_ARG_STRING,
					   &label,
					   N_("Only workflows for agents with LABEL"),
					   N_("LABEL") },
					 { NULL } };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("— list the workflows"), entries, &common);
	AiqctlWorkflowsPage page = { 0 };
	g_autoptr(AiqctlTable) table = aiqctl_table_new(5);
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(GError) error = NULL;
	JsonArray *items;

	if (!aiqctl_parse(ctx, &argc, &argv, 0, 0, &common))
		return AIQCTL_EXIT_USAGE;
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);
	page.search = search;
	page.label = label;
	page.limit = 1000;
	list = aiqctl_list_all(&remote, aiqctl_workflows_page, &page, &error);
	if (list == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(list);
		return AIQCTL_EXIT_OK;
	}
	items = aiq_json_object_get_array(aiqctl_object(list), "items");
	aiqctl_table_add(table, _("NAME"), _("VERSION"), _("ENABLED"), _("UPDATED"), _("ID"));
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *obj = aiqctl_object(json_array_get_element(items, i));
		g_autofree gchar *version = aiqctl_format_int(obj, "version");
		g_autofree gchar *updated =
			aiqctl_format_time(aiq_json_object_get_string(obj, "updated"));
		aiqctl_table_add(table,
				 aiq_json_object_get_string(obj, "name"),
				 version,
				 aiqctl_get_bool(obj, "enabled") ? _("yes") : _("no"),
				 updated,
				 aiq_json_object_get_string(obj, "id"));
	}
	if (json_array_get_length(items) == 0)
		g_printerr(_("No workflows.\n"));
	else
		aiqctl_table_print(table);
	return AIQCTL_EXIT_OK;
}

static void
aiqctl_print_field(const gchar *label, const gchar *value)
{
	g_print("%-13s %s\n", label, aiqctl_or_dash(value));
}

static gint
aiqctl_workflows_get(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { .yaml_ok = TRUE };
	g_auto(AiqctlRemote) remote = { 0 };
	gint version = 0;
	const GOptionEntry entries[] = { { "version",
					   0,
					   0,
					   G_OPTION_ARG_INT,
					   &version,
					   N_("This version instead of the latest"),
					   N_("N") },
					 { NULL } };
	g_autoptr(GOptionContext) ctx = aiqctl_context_new(
		_("NAME — show a workflow and its definition (-o yaml: the definition only)"),
		entries,
		&common);
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *yaml = NULL;
	JsonObject *obj;
	JsonNode *definition;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	if (version < 0) {
		g_printerr(_("--version: give a version number\n"));
		return AIQCTL_EXIT_USAGE;
	}
	id = aiqctl_remote_open_workflow(&remote, argv[1], &error);
	if (id == NULL)
		return aiqctl_remote_fail(&remote, error);
	answer = aiq_client_get_workflow_sync(remote.client, id, version, NULL, &error);
	if (answer == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(answer);
		return AIQCTL_EXIT_OK;
	}
	obj = aiqctl_object(answer);
	definition = obj != NULL ? json_object_get_member(obj, "definition") : NULL;
	if (definition != NULL) {
		yaml = aiq_yaml_emit(definition, &error);
		if (yaml == NULL)
			return aiqctl_remote_fail(&remote, error);
	}
	if (g_strcmp0(common.output, "yaml") == 0) {
		g_print("%s", yaml != NULL ? yaml : "");
		return AIQCTL_EXIT_OK;
	}
	{
		g_autofree gchar *ver = aiqctl_format_int(obj, "version");
		g_autofree gchar *labels =
			aiqctl_join_strings(aiq_json_object_get_array(obj, "labels"), ", ");
		g_autofree gchar *created =
			aiqctl_format_time(aiq_json_object_get_string(obj, "created"));
		g_autofree gchar *updated =
			aiqctl_format_time(aiq_json_object_get_string(obj, "updated"));
		aiqctl_print_field(_("name:"), aiq_json_object_get_string(obj, "name"));
		aiqctl_print_field(_("id:"), aiq_json_object_get_string(obj, "id"));
		aiqctl_print_field(_("version:"), ver);
		aiqctl_print_field(_("enabled:"),
				   aiqctl_get_bool(obj, "enabled") ? _("yes") : _("no"));
		aiqctl_print_field(_("labels:"), labels);
		aiqctl_print_field(_("description:"),
				   aiq_json_object_get_string(obj, "description"));
		aiqctl_print_field(_("created:"), created);
		aiqctl_print_field(_("updated:"), updated);
	}
	if (yaml != NULL)
		g_print("\n%s", yaml);
	return AIQCTL_EXIT_OK;
}

static gint
aiqctl_workflows_versions(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("NAME — list the versions of a workflow"), NULL, &common);
	g_autoptr(AiqctlTable) table = aiqctl_table_new(4);
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	JsonArray *items;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	id = aiqctl_remote_open_workflow(&remote, argv[1], &error);
	if (id == NULL)
		return aiqctl_remote_fail(&remote, error);
	answer = aiq_client_list_workflow_versions_sync(remote.client, id, NULL, &error);
	if (answer == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(answer);
		return AIQCTL_EXIT_OK;
	}
	items = aiq_json_object_get_array(aiqctl_object(answer), "items");
	aiqctl_table_add(table, _("VERSION"), _("CREATED"), _("AUTHOR"), _("DIGEST"));
	for (guint i = 0; items != NULL && i < json_array_get_length(items); i++) {
		JsonObject *obj = aiqctl_object(json_array_get_element(items, i));
		g_autofree gchar *version = aiqctl_format_int(obj, "version");
		g_autofree gchar *created =
			aiqctl_format_time(aiq_json_object_get_string(obj, "created"));
		g_autofree gchar *digest =
			g_strndup(aiqctl_or_dash(aiq_json_object_get_string(obj, "digest")), 12);
		aiqctl_table_add(table,
				 version,
				 created,
				 aiq_json_object_get_string(obj, "author"),
				 digest);
	}
	aiqctl_table_print(table);
	return AIQCTL_EXIT_OK;
}

static gchar *
aiqctl_json_short(JsonObject *obj, const gchar *member)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;
	g_autofree gchar *text = NULL;
	if (node == NULL)
		return g_strdup("");
	text = aiq_json_to_string(node, FALSE);
	if (g_utf8_strlen(text, -1) > 120) {
		g_autofree gchar *head = g_utf8_substring(text, 0, 117);
		return g_strconcat(head, "…", NULL);
	}
	return g_steal_pointer(&text);
}

static gint
aiqctl_workflows_diff(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	gint from = 0;
	gint to = 0;
	const GOptionEntry entries[] = {
		{ "from", 0, 0, G_OPTION_ARG_INT, &from, N_("The older version"), N_("N") },
		{ "to", 0, 0, G_OPTION_ARG_INT, &to, N_("The newer version"), N_("M") },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("NAME --from N --to M — what changed between two versions"),
				   entries,
				   &common);
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	JsonArray *changes;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	if (from <= 0 || to <= 0) {
		g_printerr(_("diff: give --from N and --to M, two version numbers\n"));
		return AIQCTL_EXIT_USAGE;
	}
	id = aiqctl_remote_open_workflow(&remote, argv[1], &error);
	if (id == NULL)
		return aiqctl_remote_fail(&remote, error);
	answer = aiq_client_diff_workflow_sync(remote.client, id, from, to, NULL, &error);
	if (answer == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(answer);
		return AIQCTL_EXIT_OK;
	}
	changes = aiq_json_object_get_array(aiqctl_object(answer), "changes");
	if (changes == NULL || json_array_get_length(changes) == 0) {
		g_print(_("Versions %d and %d are the same.\n"), from, to);
		return AIQCTL_EXIT_OK;
	}
	g_print(_("%s: version %d → %d\n"), argv[1], from, to);
	for (guint i = 0; i < json_array_get_length(changes); i++) {
		JsonObject *obj = aiqctl_object(json_array_get_element(changes, i));
		const gchar *op = aiq_json_object_get_string(obj, "op");
		const gchar *path = aiqctl_or_dash(aiq_json_object_get_string(obj, "path"));
		g_autofree gchar *before = aiqctl_json_short(obj, "from");
		g_autofree gchar *after = aiqctl_json_short(obj, "to");
		if (g_strcmp0(op, "added") == 0)
			g_print("  + %s: %s\n", path, after);
		else if (g_strcmp0(op, "removed") == 0)
			g_print("  - %s: %s\n", path, before);
		else
			g_print("  ~ %s: %s → %s\n", path, before, after);
	}
	return AIQCTL_EXIT_OK;
}

static gint
aiqctl_workflows_rollback(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	gint version = 0;
	const GOptionEntry entries[] = { { "version",
					   0,
					   0,
					   G_OPTION_ARG_INT,
					   &version,
					   N_("The version to go back to"),
					   N_("N") },
					 { NULL } };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("NAME --version N — make a new version equal to version N"),
				   entries,
				   &common);
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	if (version <= 0) {
		g_printerr(_("rollback: give --version N\n"));
		return AIQCTL_EXIT_USAGE;
	}
	id = aiqctl_remote_open_workflow(&remote, argv[1], &error);
	if (id == NULL)
		return aiqctl_remote_fail(&remote, error);
	answer = aiq_client_rollback_workflow_sync(remote.client, id, version, NULL, &error);
	if (answer == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json)
		aiqctl_print_json(answer);
	else
		g_print(_("%s rolled back to version %d (now version %" PRId64 ")\n"),
			argv[1],
			version,
			aiq_json_object_get_int(aiqctl_object(answer), "version", 0));
	return AIQCTL_EXIT_OK;
}

static gint
aiqctl_workflows_set_enabled(gint argc, gchar **argv, gboolean enabled)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(enabled ? _("NAME — let a workflow be started again")
					   : _("NAME — stop a workflow from being started"),
				   NULL,
				   &common);
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	id = aiqctl_remote_open_workflow(&remote, argv[1], &error);
	if (id == NULL)
		return aiqctl_remote_fail(&remote, error);
	answer = aiq_client_set_workflow_enabled_sync(remote.client, id, enabled, NULL, &error);
	if (answer == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json)
		aiqctl_print_json(answer);
	else
		g_print(enabled ? _("%s enabled\n") : _("%s disabled\n"), argv[1]);
	return AIQCTL_EXIT_OK;
}

static gint
aiqctl_workflows_enable(gint argc, gchar **argv)
{
	return aiqctl_workflows_set_enabled(argc, argv, TRUE);
}

static gint
aiqctl_workflows_disable(gint argc, gchar **argv)
{
	return aiqctl_workflows_set_enabled(argc, argv, FALSE);
}

static gint
aiqctl_workflows_delete(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("NAME — delete a workflow (its executions are kept)"),
				   NULL,
				   &common);
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	id = aiqctl_remote_open_workflow(&remote, argv[1], &error);
	if (id == NULL)
		return aiqctl_remote_fail(&remote, error);
	answer = aiq_client_delete_workflow_sync(remote.client, id, NULL, &error);
	if (answer == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		/* 204 has no body; say what was done */
		g_autoptr(JsonObject) out = json_object_new();
		json_object_set_string_member(out, "id", id);
		json_object_set_boolean_member(out, "deleted", TRUE);
		aiqctl_print_json_object(out);
	} else {
		g_print(_("%s deleted\n"), argv[1]);
	}
	return AIQCTL_EXIT_OK;
}

gint
aiqctl_cmd_workflows(gint argc, gchar **argv)
{
	static const AiqctlSubcommand subs[] = {
		{ "list", aiqctl_workflows_list, N_("List the workflows") },
		{ "get", aiqctl_workflows_get, N_("Show a workflow and its definition") },
		{ "versions", aiqctl_workflows_versions, N_("List the versions of a workflow") },
		{ "diff", aiqctl_workflows_diff, N_("Show what changed between two versions") },
		{ "rollback", aiqctl_workflows_rollback, N_("Make an older version the latest") },
		{ "enable", aiqctl_workflows_enable, N_("Let a workflow be started") },
		{ "disable", aiqctl_workflows_disable, N_("Stop a workflow from being started") },
		{ "delete", aiqctl_workflows_delete, N_("Delete a workflow") },
	};
	return aiqctl_dispatch("workflows", subs, G_N_ELEMENTS(subs), argc, argv);
}

/* executions */

static gboolean
aiqctl_status_is_final(const gchar *status)
{
	return g_strcmp0(status, "succeeded") == 0 || g_strcmp0(status, "failed") == 0 ||
	       g_strcmp0(status, "cancelled") == 0 || g_strcmp0(status, "timed_out") == 0;
}

static gboolean
aiqctl_use_color(void)
{
	return isatty(STDERR_FILENO) && g_getenv("NO_COLOR") == NULL;
}

/* an execution as `aiqctl run-local` prints one */
static void
aiqctl_print_execution(JsonObject *obj)
{
	JsonArray *steps = aiq_json_object_get_array(obj, "steps");
	const gchar *error_message = aiqctl_error_message(obj, "error");
	g_autofree gchar *duration = aiqctl_format_duration(obj);
	g_autofree gchar *created = aiqctl_format_time(aiq_json_object_get_string(obj, "created"));

	g_print("%s %s: %s",
		aiqctl_or_dash(aiq_json_object_get_string(obj, "workflow")),
		aiqctl_or_dash(aiq_json_object_get_string(obj, "id")),
		aiqctl_or_dash(aiq_json_object_get_string(obj, "status")));
	if (g_strcmp0(duration, "-") != 0)
		g_print(" (%s)", duration);
	g_print("\n");
	g_print(_("  version %" PRId64 ", %s, created %s"),
		aiq_json_object_get_int(obj, "version", 0),
		aiqctl_or_dash(aiq_json_object_get_string(obj, "trigger")),
		created);
	if (aiq_json_object_get_string(obj, "agent_id") != NULL)
		g_print(_(", agent %s"), aiq_json_object_get_string(obj, "agent_id"));
	if (aiq_json_object_get_string(obj, "retry_of") != NULL)
		g_print(_(", retry of %s"), aiq_json_object_get_string(obj, "retry_of"));
	g_print("\n");
	for (guint i = 0; steps != NULL && i < json_array_get_length(steps); i++) {
		JsonObject *step = aiqctl_object(json_array_get_element(steps, i));
		JsonArray *attempts = aiq_json_object_get_array(step, "attempts");
		const gchar *message = aiqctl_error_message(step, "error");
		const gchar *skip_reason = aiq_json_object_get_string(step, "skip_reason");
		gint64 started = 0;
		gint64 finished = 0;

		g_print("  %-20s %-10s",
			aiqctl_or_dash(aiq_json_object_get_string(step, "id")),
			aiqctl_or_dash(aiq_json_object_get_string(step, "status")));
		if (aiq_time_from_iso8601(aiq_json_object_get_string(step, "started"),
					  &started,
					  NULL) &&
		    aiq_time_from_iso8601(aiq_json_object_get_string(step, "finished"),
					  &finished,
					  NULL))
			g_print(" %8.1f ms", (finished - started) / 1000.0);
		if (attempts != NULL && json_array_get_length(attempts) > 1)
			g_print(_("  %u attempts"), json_array_get_length(attempts));
		if (message != NULL)
			g_print("  %s", message);
		else if (skip_reason != NULL)
			g_print("  (%s)", skip_reason);
		g_print("\n");
	}
	if (error_message != NULL)
		g_print(_("error: %s\n"), error_message);
}

/* step transitions since the last poll, on stderr */
static void
aiqctl_print_progress(JsonObject *obj, GHashTable *seen)
{
	JsonArray *steps = aiq_json_object_get_array(obj, "steps");
	gboolean color = aiqctl_use_color();
	const gchar *status = aiq_json_object_get_string(obj, "status");

	if (g_strcmp0(g_hash_table_lookup(seen, ""), status) != 0) {
		if (!aiqctl_status_is_final(status))
			g_printerr(_("execution %s: %s\n"),
				   aiqctl_or_dash(aiq_json_object_get_string(obj, "id")),
				   aiqctl_or_dash(status));
		g_hash_table_insert(seen, g_strdup(""), g_strdup(status));
	}
	for (guint i = 0; steps != NULL && i < json_array_get_length(steps); i++) {
		JsonObject *step = aiqctl_object(json_array_get_element(steps, i));
		const gchar *id = aiq_json_object_get_string(step, "id");
		const gchar *step_status = aiq_json_object_get_string(step, "status");
		const gchar *message = aiqctl_error_message(step, "error");

		if (id == NULL || step_status == NULL ||
		    g_strcmp0(g_hash_table_lookup(seen, id), step_status) == 0)
			continue;
		g_hash_table_insert(seen, g_strdup(id), g_strdup(step_status));
		if (g_strcmp0(step_status, "running") == 0)
			g_printerr("%s▶%s %s\n",
				   color ? "\033[1;34m" : "",
				   color ? "\033[0m" : "",
				   id);
		else if (g_strcmp0(step_status, "succeeded") == 0)
			g_printerr("%s✓%s %s\n",
				   color ? "\033[1;32m" : "",
				   color ? "\033[0m" : "",
				   id);
		else if (g_strcmp0(step_status, "skipped") == 0)
			g_printerr("- %s %s: %s\n",
				   id,
				   step_status,
				   aiqctl_or_dash(aiq_json_object_get_string(step, "skip_reason")));
		else if (g_strcmp0(step_status, "pending") != 0)
			g_printerr("%s✗%s %s %s: %s\n",
				   color ? "\033[1;31m" : "",
				   color ? "\033[0m" : "",
				   id,
				   step_status,
				   aiqctl_or_dash(message));
	}
}

/* polls until the execution is final; transient errors are retried */
static JsonNode *
aiqctl_wait_execution(AiqctlRemote *remote,
		      const gchar *id,
		      gint64 timeout_ms,
		      gboolean quiet,
		      GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gint64 deadline = timeout_ms > 0 ? g_get_monotonic_time() + timeout_ms * 1000 : 0;
	gulong interval_ms = 250;
	guint failures = 0;

	for (;;) {
		g_autoptr(GError) error_local = NULL;
		g_autoptr(JsonNode) exec =
			aiq_client_get_execution_sync(remote->client, id, NULL, &error_local);
		const gchar *status;

		if (exec == NULL) {
			gboolean transient =
				g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_CONNECTION) ||
				g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_UNAVAILABLE) ||
				g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_RATE_LIMITED) ||
				g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_TIMED_OUT);
			if (!transient || ++failures > 10) {
				g_propagate_error(error, g_steal_pointer(&error_local));
				return NULL;
			}
			g_debug("polling %s: %s", id, error_local->message);
		} else {
			failures = 0;
			status = aiq_json_object_get_string(aiqctl_object(exec), "status");
			if (!quiet)
				aiqctl_print_progress(aiqctl_object(exec), seen);
			if (aiqctl_status_is_final(status))
				return g_steal_pointer(&exec);
		}
		if (deadline > 0 && g_get_monotonic_time() >= deadline) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_TIMED_OUT,
				    _("execution %s is not finished after the --timeout; follow it "
				      "with “aiqctl executions get %s”"),
				    id,
				    id);
			return NULL;
		}
		g_usleep(interval_ms * 1000);
		interval_ms = MIN(interval_ms * 2, 2000);
	}
}

gint
aiqctl_cmd_run(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_auto(GStrv) inputs = NULL;
	g_autofree gchar *idempotency_key = NULL;
	g_autofree gchar *timeout = NULL;
	gboolean wait = FALSE;
	gboolean quiet = FALSE;
	const GOptionEntry entries[] = {
		{ "input",
		  'i',
		  0,
		  G_OPTION_ARG_STRING_ARRAY,
		  &inputs,
		  N_("An input, as NAME=VALUE (typed as the workflow declares it)"),
		  N_("NAME=VALUE") },
		{ "wait",
		  'w',
		  0,
		  G_OPTION_ARG_NONE,
		  &wait,
		  N_("Wait until it finishes, showing its steps; the exit status says how it "
		     "ended"),
		  NULL },
		{ "timeout",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &timeout,
		  N_("With --wait: give up waiting after DURATION (e.g. 10m)"),
		  N_("DURATION") },
		{ "idempotency-key",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &idempotency_key,
		  N_("Start it only once for this key (a retried command gets the same execution)"),
		  N_("KEY") },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_("No progress on stderr"), NULL },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("NAME — start a workflow on the server"), entries, &common);
	g_autoptr(JsonObject) input_obj = json_object_new();
	g_autoptr(JsonNode) exec = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *exec_id = NULL;
	gint64 timeout_ms = 0;
	gboolean created = TRUE;
	const gchar *status;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	if (timeout != NULL && !aiq_duration_parse(timeout, &timeout_ms, &error)) {
		g_printerr("--timeout: %s\n", error->message);
		return AIQCTL_EXIT_USAGE;
	}
	for (guint i = 0; inputs != NULL && inputs[i] != NULL; i++) {
		const gchar *eq = strchr(inputs[i], '=');
		if (eq == NULL || eq == inputs[i]) {
			g_printerr(_("--input %s: use NAME=VALUE\n"), inputs[i]);
			return AIQCTL_EXIT_USAGE;
		}
	}
	workflow_id = aiqctl_remote_open_workflow(&remote, argv[1], &error);
	if (workflow_id == NULL)
		return aiqctl_remote_fail(&remote, error);

	/* inputs are typed by the workflow's declaration, as run-local does */
	if (inputs != NULL) {
		g_autoptr(JsonNode) workflow =
			aiq_client_get_workflow_sync(remote.client, workflow_id, 0, NULL, &error);
		g_autoptr(AiqProblems) problems = aiq_problems_new();
		g_autoptr(AiqDefinition) definition = NULL;
		JsonObject *wobj = aiqctl_object(workflow);
		JsonNode *def_node =
			wobj != NULL ? json_object_get_member(wobj, "definition") : NULL;

		if (workflow == NULL)
			return aiqctl_remote_fail(&remote, error);
		if (def_node != NULL)
			definition = aiq_definition_new_from_node(def_node, NULL, problems);
		if (definition == NULL)
			g_printerr(_("warning: cannot read the inputs the workflow declares (this "
				     "aiqctl may be older than the server); sending them as "
				     "text\n"));
		for (guint i = 0; inputs[i] != NULL; i++) {
			const gchar *eq = strchr(inputs[i], '=');
			g_autofree gchar *name = g_strndup(inputs[i], eq - inputs[i]);
			JsonNode *value;
			if (definition == NULL) {
				json_object_set_member(input_obj,
						       name,
						       aiq_json_new_string(eq + 1));
				continue;
			}
			value = aiq_definition_parse_input_value(definition, name, eq + 1, &error);
			if (value == NULL) {
				g_printerr("%s\n", error->message);
				return AIQCTL_EXIT_USAGE;
			}
			json_object_set_member(input_obj, name, value);
		}
	}
	exec = aiq_client_start_execution_sync(remote.client,
					       workflow_id,
					       inputs != NULL ? input_obj : NULL,
					       idempotency_key,
					       &created,
					       NULL,
					       &error);
	if (exec == NULL) {
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_INVALID_INPUT)) {
			g_printerr("aiqctl: %s\n", error->message);
			return AIQCTL_EXIT_USAGE;
		}
		return aiqctl_remote_fail(&remote, error);
	}
	exec_id = g_strdup(aiq_json_object_get_string(aiqctl_object(exec), "id"));
	status = aiq_json_object_get_string(aiqctl_object(exec), "status");
	if (exec_id == NULL) {
		g_printerr(_("aiqctl: the server's answer has no execution id\n"));
		return AIQCTL_EXIT_FAILED;
	}
	if (!wait) {
		if (common.json)
			aiqctl_print_json(exec);
		else if (created)
			g_print(_("Started execution %s of %s (%s).\n"),
				exec_id,
				argv[1],
				aiqctl_or_dash(status));
		else
			g_print(_("Execution %s of %s was started before with this idempotency "
				  "key (%s).\n"),
				exec_id,
				argv[1],
				aiqctl_or_dash(status));
		return AIQCTL_EXIT_OK;
	}
	if (!quiet && !common.json)
		g_printerr(created ? _("started execution %s\n")
				   : _("execution %s was started before with this key\n"),
			   exec_id);
	g_clear_pointer(&exec, json_node_unref);
	exec = aiqctl_wait_execution(&remote, exec_id, timeout_ms, quiet, &error);
	if (exec == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json)
		aiqctl_print_json(exec);
	else
		aiqctl_print_execution(aiqctl_object(exec));
	status = aiq_json_object_get_string(aiqctl_object(exec), "status");
	return g_strcmp0(status, "succeeded") == 0 ? AIQCTL_EXIT_OK : AIQCTL_EXIT_FAILED;
}

static gint
aiqctl_executions_list(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autofree gchar *workflow = NULL;
	g_autofree gchar *status = NULL;
	gint limit = 20;
	const GOptionEntry entries[] = {
		{ "workflow",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &workflow,
		  N_("Only executions of this workflow"),
		  N_("NAME") },
		{ "status",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &status,
		  N_("Only executions in this state: queued, running, succeeded, failed, "
		     "cancelled, timed_out"),
		  N_("STATUS") },
		{ "limit",
		  'n',
		  0,
		  G_OPTION_ARG_INT,
		  &limit,
		  N_("At most N, newest first (default 20)"),
		  N_("N") },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("— list executions, newest first"), entries, &common);
	g_autoptr(AiqctlTable) table = aiqctl_table_new(7);
	g_autoptr(JsonNode) page = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *workflow_id = NULL;
	AiqClientExecutionQuery query = { 0 };
	JsonArray *items;

	if (!aiqctl_parse(ctx, &argc, &argv, 0, 0, &common))
		return AIQCTL_EXIT_USAGE;
	if (limit < 1 || limit > 1000) {
		g_printerr(_("--limit: give a number from 1 to 1000\n"));
		return AIQCTL_EXIT_USAGE;
	}
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);
	if (workflow != NULL) {
		workflow_id = aiqctl_resolve_workflow(&remote, workflow, &error);
		if (workflow_id == NULL)
			return aiqctl_remote_fail(&remote, error);
	}
	query.workflow_id = workflow_id;
	query.status = status;
	query.limit = (guint)limit;
	page = aiq_client_list_executions_sync(remote.client, &query, NULL, &error);
	if (page == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(page);
		return AIQCTL_EXIT_OK;
	}
	items = aiq_json_object_get_array(aiqctl_object(page), "items");
	if (items == NULL || json_array_get_length(items) == 0) {
		g_printerr(_("No executions.\n"));
		return AIQCTL_EXIT_OK;
	}
	aiqctl_table_add(table,
			 _("ID"),
			 _("WORKFLOW"),
			 _("VERSION"),
			 _("STATUS"),
			 _("TRIGGER"),
			 _("CREATED"),
			 _("DURATION"));
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *obj = aiqctl_object(json_array_get_element(items, i));
		g_autofree gchar *version = aiqctl_format_int(obj, "version");
		g_autofree gchar *created =
			aiqctl_format_time(aiq_json_object_get_string(obj, "created"));
		g_autofree gchar *duration = aiqctl_format_duration(obj);
		aiqctl_table_add(table,
				 aiq_json_object_get_string(obj, "id"),
				 aiq_json_object_get_string(obj, "workflow"),
				 version,
				 aiq_json_object_get_string(obj, "status"),
				 aiq_json_object_get_string(obj, "trigger"),
				 created,
				 duration);
	}
	aiqctl_table_print(table);
	return AIQCTL_EXIT_OK;
}

static gint
aiqctl_executions_get(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("ID — show an execution and its steps"), NULL, &common);
	g_autoptr(JsonNode) exec = NULL;
	g_autoptr(GError) error = NULL;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);
	exec = aiq_client_get_execution_sync(remote.client, argv[1], NULL, &error);
	if (exec == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json)
		aiqctl_print_json(exec);
	else
		aiqctl_print_execution(aiqctl_object(exec));
	return AIQCTL_EXIT_OK;
}

static gint
aiqctl_executions_cancel(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("ID — cancel an execution"), NULL, &common);
	g_autoptr(JsonNode) exec = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *status;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);
	exec = aiq_client_cancel_execution_sync(remote.client, argv[1], NULL, &error);
	if (exec == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(exec);
		return AIQCTL_EXIT_OK;
	}
	status = aiq_json_object_get_string(aiqctl_object(exec), "status");
	if (g_strcmp0(status, "cancelled") == 0)
		g_print(_("Execution %s cancelled.\n"), argv[1]);
	else if (aiqctl_status_is_final(status))
		g_print(_("Execution %s had finished already (%s).\n"), argv[1], status);
	else
		g_print(_("Cancelling execution %s: its agent stops it at its next heartbeat.\n"),
			argv[1]);
	return AIQCTL_EXIT_OK;
}

static gint
aiqctl_executions_retry(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("ID — run a failed execution again from its failed step"),
				   NULL,
				   &common);
	g_autoptr(JsonNode) exec = NULL;
	g_autoptr(GError) error = NULL;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);
	exec = aiq_client_retry_execution_sync(remote.client, argv[1], NULL, &error);
	if (exec == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json)
		aiqctl_print_json(exec);
	else
		g_print(_("Retrying %s as execution %s (%s).\n"),
			argv[1],
			aiqctl_or_dash(aiq_json_object_get_string(aiqctl_object(exec), "id")),
			aiqctl_or_dash(aiq_json_object_get_string(aiqctl_object(exec), "status")));
	return AIQCTL_EXIT_OK;
}

static gint
aiqctl_executions_events(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	gint after = 0;
	const GOptionEntry entries[] = { { "after",
					   0,
					   0,
					   G_OPTION_ARG_INT,
					   &after,
					   N_("Only events after sequence number N"),
					   N_("N") },
					 { NULL } };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("ID — list the events of an execution"), entries, &common);
	g_autoptr(AiqctlTable) table = aiqctl_table_new(6);
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) error = NULL;
	JsonArray *items;

	if (!aiqctl_parse(ctx, &argc, &argv, 1, 1, &common))
		return AIQCTL_EXIT_USAGE;
	if (after < 0) {
		g_printerr(_("--after: give a sequence number\n"));
		return AIQCTL_EXIT_USAGE;
	}
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);
	answer = aiq_client_list_execution_events_sync(remote.client, argv[1], after, NULL, &error);
	if (answer == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(answer);
		return AIQCTL_EXIT_OK;
	}
	items = aiq_json_object_get_array(aiqctl_object(answer), "items");
	aiqctl_table_add(table,
			 _("SEQ"),
			 _("TIME"),
			 _("TYPE"),
			 _("STEP"),
			 _("STATUS"),
			 _("DETAIL"));
	for (guint i = 0; items != NULL && i < json_array_get_length(items); i++) {
		JsonObject *obj = aiqctl_object(json_array_get_element(items, i));
		JsonObject *data = aiq_json_object_get_object(obj, "data");
		g_autofree gchar *seq = aiqctl_format_int(obj, "seq");
		g_autofree gchar *time =
			aiqctl_format_time(aiq_json_object_get_string(obj, "time"));
		g_autofree gchar *step = NULL;
		const gchar *detail = aiqctl_error_message(data, "error");

		if (detail == NULL)
			detail = aiq_json_object_get_string(data, "reason");
		if (aiq_json_object_get_string(obj, "step") != NULL) {
			JsonNode *item = json_object_get_member(obj, "item");
			if (aiq_json_is_integer(item))
				step = g_strdup_printf("%s[%" PRId64 "]",
						       aiq_json_object_get_string(obj, "step"),
						       json_node_get_int(item));
			else
				step = g_strdup(aiq_json_object_get_string(obj, "step"));
		}
		aiqctl_table_add(table,
				 seq,
				 time,
				 aiq_json_object_get_string(obj, "type"),
				 step,
				 aiq_json_object_get_string(obj, "status"),
				 detail);
	}
	aiqctl_table_print(table);
	return AIQCTL_EXIT_OK;
}

gint
aiqctl_cmd_executions(gint argc, gchar **argv)
{
	static const AiqctlSubcommand subs[] = {
		{ "list", aiqctl_executions_list, N_("List executions, newest first") },
		{ "get", aiqctl_executions_get, N_("Show an execution and its steps") },
		{ "cancel", aiqctl_executions_cancel, N_("Cancel an execution") },
		{ "retry",
		  aiqctl_executions_retry,
		  N_("Run a failed execution again from its failed "
		     "step") },
		{ "events", aiqctl_executions_events, N_("List the events of an execution") },
	};
	return aiqctl_dispatch("executions", subs, G_N_ELEMENTS(subs), argc, argv);
}

/* agents */

typedef struct {
	guint limit;
} AiqctlAgentsPage;

static JsonNode *
aiqctl_agents_page(AiqctlRemote *remote, const gchar *cursor, gpointer user_data, GError **error)
{
	AiqctlAgentsPage *page = user_data;
	return aiq_client_list_agents_sync(remote->client, cursor, page->limit, NULL, error);
}

static gint
aiqctl_agents_list(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("— list the tenant's agents"), NULL, &common);
	g_autoptr(AiqctlTable) table = aiqctl_table_new(7);
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(GError) error = NULL;
	AiqctlAgentsPage page = { .limit = 1000 };
	JsonArray *items;

	if (!aiqctl_parse(ctx, &argc, &argv, 0, 0, &common))
		return AIQCTL_EXIT_USAGE;
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);
	list = aiqctl_list_all(&remote, aiqctl_agents_page, &page, &error);
	if (list == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(list);
		return AIQCTL_EXIT_OK;
	}
	items = aiq_json_object_get_array(aiqctl_object(list), "items");
	if (json_array_get_length(items) == 0) {
		g_printerr(_("No agents. Enroll one with “aiqctl enrollment-tokens create”.\n"));
		return AIQCTL_EXIT_OK;
	}
	aiqctl_table_add(table,
			 _("NAME"),
			 _("STATE"),
			 _("LABELS"),
			 _("RUNNING"),
			 _("VERSION"),
			 _("LAST SEEN"),
			 _("ID"));
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *obj = aiqctl_object(json_array_get_element(items, i));
		g_autofree gchar *labels =
			aiqctl_join_strings(aiq_json_object_get_array(obj, "labels"), ",");
		g_autofree gchar *running =
			g_strdup_printf("%" PRId64 "/%" PRId64,
					aiq_json_object_get_int(obj, "running", 0),
					aiq_json_object_get_int(obj, "capacity", 0));
		g_autofree gchar *last_seen =
			aiqctl_format_time(aiq_json_object_get_string(obj, "last_seen"));
		const gchar *state;
		if (g_strcmp0(aiq_json_object_get_string(obj, "status"), "disabled") == 0)
			state = _("disabled");
		else if (aiqctl_get_bool(obj, "online"))
			state = _("online");
		else
			state = _("offline");
		aiqctl_table_add(table,
				 aiq_json_object_get_string(obj, "name"),
				 state,
				 labels,
				 running,
				 aiq_json_object_get_string(obj, "version"),
				 last_seen,
				 aiq_json_object_get_string(obj, "id"));
	}
	aiqctl_table_print(table);
	return AIQCTL_EXIT_OK;
}

gint
aiqctl_cmd_agents(gint argc, gchar **argv)
{
	static const AiqctlSubcommand subs[] = {
		{ "list", aiqctl_agents_list, N_("List the tenant's agents") },
	};
	return aiqctl_dispatch("agents", subs, G_N_ELEMENTS(subs), argc, argv);
}

/* enrollment tokens */

static gchar **
aiqctl_split_labels(const gchar *text)
{
	g_auto(GStrv) parts = g_strsplit(text, ",", -1);
	GPtrArray *labels = g_ptr_array_new();
	for (guint i = 0; parts[i] != NULL; i++) {
		g_strstrip(parts[i]);
		if (parts[i][0] != '\0')
			g_ptr_array_add(labels, g_strdup(parts[i]));
	}
	g_ptr_array_add(labels, NULL);
	return (gchar **)g_ptr_array_free(labels, FALSE);
}

static gint
aiqctl_enrollment_tokens_create(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autofree gchar *name = NULL;
	g_autofree gchar *labels_text = NULL;
	g_autofree gchar *expires_in = NULL;
	const GOptionEntry entries[] = {
		{ "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("The agent's name"), N_("NAME") },
		{ "labels",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &labels_text,
		  N_("The agent's labels, separated by commas"),
		  N_("A,B") },
		{ "expires-in",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &expires_in,
		  N_("How long the token can be used, e.g. 1h"),
		  N_("DURATION") },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("— make a one-time token to enroll an agent with"),
				   entries,
				   &common);
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) labels = NULL;
	g_autofree gchar *expires = NULL;
	GString *command = NULL;
	JsonObject *obj;
	const gchar *token;
	gint64 ms = 0;

	if (!aiqctl_parse(ctx, &argc, &argv, 0, 0, &common))
		return AIQCTL_EXIT_USAGE;
	if (expires_in != NULL && !aiq_duration_parse(expires_in, &ms, &error)) {
		g_printerr("--expires-in: %s\n", error->message);
		return AIQCTL_EXIT_USAGE;
	}
	if (labels_text != NULL)
		labels = aiqctl_split_labels(labels_text);
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);
	answer = aiq_client_create_enrollment_token_sync(remote.client,
							 name,
							 (const gchar *const *)labels,
							 expires_in,
							 NULL,
							 &error);
	if (answer == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(answer);
		return AIQCTL_EXIT_OK;
	}
	obj = aiqctl_object(answer);
	token = aiq_json_object_get_string(obj, "token");
	if (token == NULL) {
		g_printerr(_("aiqctl: the server's answer has no token\n"));
		return AIQCTL_EXIT_FAILED;
	}
	command = g_string_new("automateiq-agent enroll --server ");
	{
		g_autofree gchar *quoted_server = g_shell_quote(remote.server);
		g_autofree gchar *quoted_token = g_shell_quote(token);
		g_string_append_printf(command, "%s --token %s", quoted_server, quoted_token);
	}
	if (name != NULL) {
		g_autofree gchar *quoted = g_shell_quote(name);
		g_string_append_printf(command, " --name %s", quoted);
	}
	if (labels != NULL && labels[0] != NULL) {
		g_autofree gchar *joined = g_strjoinv(",", labels);
		g_autofree gchar *quoted = g_shell_quote(joined);
		g_string_append_printf(command, " --labels %s", quoted);
	}
	expires = aiqctl_format_time(aiq_json_object_get_string(obj, "expires_at"));
	g_print(_("Enrollment token (shown only now; usable once, until %s):\n"), expires);
	g_print("  %s\n\n", token);
	g_print(_("On the agent's machine, run:\n"));
	g_print("  %s\n", command->str);
	g_string_free(command, TRUE);
	if (remote.private_trust)
		g_printerr(_("note: the agent must trust the server's certificate too (its CA, or "
			     "its fingerprint)\n"));
	return AIQCTL_EXIT_OK;
}

gint
aiqctl_cmd_enrollment_tokens(gint argc, gchar **argv)
{
	static const AiqctlSubcommand subs[] = {
		{ "create",
		  aiqctl_enrollment_tokens_create,
		  N_("Make a one-time token to enroll an agent with") },
	};
	return aiqctl_dispatch("enrollment-tokens", subs, G_N_ELEMENTS(subs), argc, argv);
}

/* usage */

/* one row of the usage table: a limit, and what is used of it when the
 * server counts that */
static void
aiqctl_usage_add(AiqctlTable *table,
		 JsonObject *limits,
		 const gchar *quota,
		 JsonObject *usage,
		 const gchar *used_member)
{
	JsonNode *limit = limits != NULL ? json_object_get_member(limits, quota) : NULL;
	JsonNode *used = usage != NULL && used_member != NULL
				 ? json_object_get_member(usage, used_member)
				 : NULL;
	g_autofree gchar *limit_text =
		aiq_json_is_integer(limit) ? g_strdup_printf("%" PRId64, json_node_get_int(limit))
					   : NULL;
	g_autofree gchar *used_text = aiq_json_is_integer(used)
					      ? g_strdup_printf("%" PRId64, json_node_get_int(used))
					      : NULL;
	aiqctl_table_add(table, quota, used_text, limit_text);
}

gint
aiqctl_cmd_usage(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autofree gchar *tenant = NULL;
	const GOptionEntry entries[] = { { "tenant",
					   0,
					   0,
					   G_OPTION_ARG_STRING,
					   &tenant,
					   N_("Another tenant's usage, by id (platform admins)"),
					   N_("ID") },
					 { NULL } };
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("— the tenant's quotas: what is used of each limit"),
				   entries,
				   &common);
	g_autoptr(AiqctlTable) table = aiqctl_table_new(3);
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) error = NULL;
	JsonObject *obj;
	JsonObject *limits;
	JsonObject *usage;
	JsonNode *remaining;
	gint64 burst;

	if (!aiqctl_parse(ctx, &argc, &argv, 0, 0, &common))
		return AIQCTL_EXIT_USAGE;
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);
	answer = aiq_client_get_usage_sync(remote.client, tenant, NULL, &error);
	if (answer == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(answer);
		return AIQCTL_EXIT_OK;
	}
	obj = aiqctl_object(answer);
	limits = aiq_json_object_get_object(obj, "limits");
	usage = aiq_json_object_get_object(obj, "usage");
	if (limits == NULL || usage == NULL) {
		g_printerr(_("aiqctl: the server's answer has no limits or usage\n"));
		return AIQCTL_EXIT_FAILED;
	}
	/* TRANSLATORS: the first line of `aiqctl usage`: the tenant's tier and
	 * the UTC day the daily counts are of */
	g_print(_("Tier %s, day %s (UTC)\n\n"),
		aiqctl_or_dash(aiq_json_object_get_string(obj, "tier")),
		aiqctl_or_dash(aiq_json_object_get_string(obj, "day")));
	aiqctl_table_add(table, _("QUOTA"), _("USED"), _("LIMIT"));
	aiqctl_usage_add(table, limits, "workflows", usage, "workflows");
	aiqctl_usage_add(table, limits, "agents", usage, "agents");
	aiqctl_usage_add(table, limits, "executions_per_day", usage, "executions_today");
	aiqctl_usage_add(table, limits, "concurrent_executions", usage, "concurrent_executions");
	aiqctl_usage_add(table, limits, "api_requests_per_minute", NULL, NULL);
	/* what the burst has left is what is used of it now */
	burst = aiq_json_object_get_int(limits, "api_burst", 0);
	remaining = json_object_get_member(usage, "api_requests_remaining");
	if (aiq_json_is_integer(remaining) && burst > 0) {
		g_autofree gchar *used =
			g_strdup_printf("%" PRId64, MAX(burst - json_node_get_int(remaining), 0));
		g_autofree gchar *limit = g_strdup_printf("%" PRId64, burst);
		aiqctl_table_add(table, "api_burst", used, limit);
	} else {
		aiqctl_usage_add(table, limits, "api_burst", NULL, NULL);
	}
	aiqctl_usage_add(table, limits, "steps_per_workflow", NULL, NULL);
	aiqctl_usage_add(table, limits, "payload_bytes", NULL, NULL);
	aiqctl_usage_add(table, limits, "retention_days", NULL, NULL);
	aiqctl_table_print(table);
	return AIQCTL_EXIT_OK;
}

/* the audit log */

typedef struct {
	AiqClientAuditQuery query;
	guint remaining; /* records still wanted */
} AiqctlAuditPage;

static JsonNode *
aiqctl_audit_page(AiqctlRemote *remote, const gchar *cursor, gpointer user_data, GError **error)
{
	AiqctlAuditPage *page = user_data;
	JsonNode *answer;
	JsonArray *items;

	page->query.cursor = cursor;
	page->query.limit = MIN(page->remaining, AIQCTL_AUDIT_PAGE);
	answer = aiq_client_list_audit_sync(remote->client, &page->query, NULL, error);
	items = aiq_json_object_get_array(aiqctl_object(answer), "items");
	if (items != NULL)
		page->remaining -= MIN(page->remaining, json_array_get_length(items));
	page->query.cursor = NULL;
	return answer;
}

/* RFC 3339, or a duration before now (`24h`) */
static gboolean
aiqctl_parse_since(const gchar *option, const gchar *text, gint64 *value)
{
	gint64 ms = 0;
	if (text == NULL)
		return TRUE;
	if (aiq_time_from_iso8601(text, value, NULL) && *value > 0)
		return TRUE;
	if (aiq_duration_parse(text, &ms, NULL) && ms > 0) {
		*value = g_get_real_time() - ms * 1000;
		return TRUE;
	}
	g_printerr(_("%s: give a time such as 2026-01-31T12:00:00Z, or a duration before now "
		     "such as 24h\n"),
		   option);
	return FALSE;
}

/* `type:name` (or `type:id`) */
static gchar *
aiqctl_audit_who(JsonObject *obj, const gchar *member, const gchar *name_member)
{
	JsonObject *who = aiq_json_object_get_object(obj, member);
	const gchar *type = aiq_json_object_get_string(who, "type");
	const gchar *name =
		name_member != NULL ? aiq_json_object_get_string(who, name_member) : NULL;
	if (name == NULL)
		name = aiq_json_object_get_string(who, "id");
	if (type == NULL)
		return NULL;
	if (name == NULL)
		return g_strdup(type);
	return g_strdup_printf("%s:%s", type, name);
}

gint
aiqctl_cmd_audit(gint argc, gchar **argv)
{
	g_auto(AiqctlCommon) common = { 0 };
	g_auto(AiqctlRemote) remote = { 0 };
	g_autofree gchar *action = NULL;
	g_autofree gchar *actor = NULL;
	g_autofree gchar *target = NULL;
	g_autofree gchar *outcome = NULL;
	g_autofree gchar *since = NULL;
	g_autofree gchar *until = NULL;
	g_autofree gchar *tenant = NULL;
	g_autofree gchar *scope = NULL;
	gint limit = 100;
	const GOptionEntry entries[] = {
		{ "action",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &action,
		  N_("Only this action (workflow.create), or those starting with it (workflow.)"),
		  N_("ACTION") },
		{ "actor",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &actor,
		  N_("Only what this user, key or agent did (its name or id)"),
		  N_("WHO") },
		{ "target",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &target,
		  N_("Only what was done to this id"),
		  N_("ID") },
		{ "outcome",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &outcome,
		  N_("Only success, failure or denied"),
		  N_("OUTCOME") },
		{ "since",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &since,
		  N_("Only from this time on (2026-01-31T12:00:00Z, or 24h for the last 24 hours)"),
		  N_("TIME") },
		{ "until",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &until,
		  N_("Only before this time"),
		  N_("TIME") },
		{ "limit",
		  'n',
		  0,
		  G_OPTION_ARG_INT,
		  &limit,
		  N_("At most N records, newest first (default 100)"),
		  N_("N") },
		{ "tenant",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &tenant,
		  N_("Another tenant's log, by id or slug (platform admins)"),
		  N_("TENANT") },
		{ "scope",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &scope,
		  N_("platform: the platform's own log (platform admins)"),
		  N_("SCOPE") },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx =
		aiqctl_context_new(_("[list] — the audit log: who changed what, newest first"),
				   entries,
				   &common);
	g_autoptr(AiqctlTable) table = aiqctl_table_new(7);
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(GError) error = NULL;
	AiqctlAuditPage page = { 0 };
	JsonArray *items;

	/* `aiqctl audit list` is `aiqctl audit` */
	if (argc >= 2 && g_strcmp0(argv[1], "list") == 0) {
		g_set_prgname("aiqctl audit list");
		argc--;
		argv++;
	}
	if (!aiqctl_parse(ctx, &argc, &argv, 0, 0, &common))
		return AIQCTL_EXIT_USAGE;
	if (limit < 1 || limit > 100000) {
		g_printerr(_("--limit: give a number from 1 to 100000\n"));
		return AIQCTL_EXIT_USAGE;
	}
	if (outcome != NULL && !g_str_equal(outcome, "success") &&
	    !g_str_equal(outcome, "failure") && !g_str_equal(outcome, "denied")) {
		g_printerr(_("--outcome: use success, failure or denied\n"));
		return AIQCTL_EXIT_USAGE;
	}
	if (scope != NULL && !g_str_equal(scope, "platform")) {
		g_printerr(_("--scope: use platform, or --tenant for a tenant's log\n"));
		return AIQCTL_EXIT_USAGE;
	}
	if (scope != NULL && tenant != NULL) {
		g_printerr(_("--scope: give either --scope platform or --tenant, not both\n"));
		return AIQCTL_EXIT_USAGE;
	}
	if (!aiqctl_parse_since("--since", since, &page.query.since) ||
	    !aiqctl_parse_since("--until", until, &page.query.until))
		return AIQCTL_EXIT_USAGE;
	page.query.action = action;
	page.query.actor = actor;
	page.query.target = target;
	page.query.outcome = outcome;
	page.query.tenant = tenant;
	page.query.scope = scope;
	page.remaining = (guint)limit;
	if (!aiqctl_remote_open(&remote, &error))
		return aiqctl_remote_fail(&remote, error);
	list = aiqctl_list_up_to(&remote, aiqctl_audit_page, &page, (guint)limit, &error);
	if (list == NULL)
		return aiqctl_remote_fail(&remote, error);
	if (common.json) {
		aiqctl_print_json(list);
		return AIQCTL_EXIT_OK;
	}
	items = aiq_json_object_get_array(aiqctl_object(list), "items");
	if (items == NULL || json_array_get_length(items) == 0) {
		g_printerr(_("No audit records.\n"));
		return AIQCTL_EXIT_OK;
	}
	aiqctl_table_add(table,
			 _("TIME"),
			 _("ACTION"),
			 _("OUTCOME"),
			 _("ACTOR"),
			 _("TARGET"),
			 _("SOURCE"),
			 _("REQUEST"));
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *obj = aiqctl_object(json_array_get_element(items, i));
		g_autofree gchar *time =
			aiqctl_format_time(aiq_json_object_get_string(obj, "time"));
		g_autofree gchar *who = aiqctl_audit_who(obj, "actor", "name");
		g_autofree gchar *what = aiqctl_audit_who(obj, "target", NULL);
		aiqctl_table_add(table,
				 time,
				 aiq_json_object_get_string(obj, "action"),
				 aiq_json_object_get_string(obj, "outcome"),
				 who,
				 what,
				 aiq_json_object_get_string(obj, "source"),
				 aiq_json_object_get_string(obj, "request_id"));
	}
	aiqctl_table_print(table);
	if (aiq_json_object_get_string(aiqctl_object(list), "next_cursor") != NULL)
		g_printerr(_("More records are older than these; give a larger --limit, or "
			     "--until the oldest time shown.\n"));
	return AIQCTL_EXIT_OK;
}
