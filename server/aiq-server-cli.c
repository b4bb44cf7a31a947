/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * automateiq-server [run] | init | retention run | version
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include "aiq-auth.h"
#include "aiq-error.h"
#include "aiq-retention.h"
#include "aiq-server-cli.h"
#include "aiq-server.h"
#include "aiq-store-identity.h"

#define AIQ_SYSTEM_CONFIG "/etc/automateiq/server.conf"

typedef struct {
	gchar *config_file;
	gboolean system;
	gchar *data_dir;
	gchar *listen;
	gint port;
	gboolean plain_http;
} AiqServerCliOptions;

static void
aiq_server_cli_options_clear(AiqServerCliOptions *o)
{
	g_free(o->config_file);
	g_free(o->data_dir);
	g_free(o->listen);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AiqServerCliOptions, aiq_server_cli_options_clear)

static AiqServerConfig *
aiq_server_cli_config(AiqServerCliOptions *o, GError **error)
{
	g_autoptr(AiqServerConfig) config = aiq_server_config_new();
	const gchar *file = o->config_file;
	if (file == NULL && o->system)
		file = AIQ_SYSTEM_CONFIG;
	if (file != NULL && !aiq_server_config_load_file(config, file, error))
		return NULL;
	if (config->data_dir == NULL)
		config->data_dir = aiq_server_config_default_data_dir(o->system);
	/* the command line wins over the file */
	if (o->data_dir != NULL) {
		g_free(config->data_dir);
		config->data_dir = g_strdup(o->data_dir);
		/* a file store goes with the data directory; a PostgreSQL one
		 * is not in it */
		if (!aiq_store_location_is_postgres(config->store))
			g_clear_pointer(&config->store, g_free);
	}
	if (o->listen != NULL) {
		g_free(config->listen);
		config->listen = g_strdup(o->listen);
	}
	if (o->port >= 0) {
		if (o->port > 65535) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_CONFIG,
					    _("--port: 0 to 65535"));
			return NULL;
		}
		config->port = (guint16)o->port;
	}
	if (o->plain_http)
		config->plain_http = TRUE;
	if (!aiq_server_config_check(config, error))
		return NULL;
	return g_steal_pointer(&config);
}

/* @serve: with the options of a serving server (address, port, HTTP) */
static GOptionEntry *
aiq_server_cli_common_entries(AiqServerCliOptions *o, gboolean serve)
{
	GOptionEntry entries[] = {
		{ "config",
		  'c',
		  0,
		  G_OPTION_ARG_FILENAME,
		  &o->config_file,
		  N_("Configuration file (default with --system: " AIQ_SYSTEM_CONFIG ")"),
		  N_("FILE") },
		{ "system",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &o->system,
		  N_("Run as the system service: system config and /var/lib/automateiq-server"),
		  NULL },
		{ "data-dir",
		  'd',
		  0,
		  G_OPTION_ARG_FILENAME,
		  &o->data_dir,
		  N_("Data directory"),
		  N_("DIR") },
		{ "listen",
		  'l',
		  0,
		  G_OPTION_ARG_STRING,
		  &o->listen,
		  N_("Address to listen on"),
		  N_("ADDRESS") },
		{ "port",
		  'p',
		  0,
		  G_OPTION_ARG_INT,
		  &o->port,
		  N_("Port (0: any free port)"),
		  N_("PORT") },
		{ "plain-http",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &o->plain_http,
		  N_("Serve HTTP, not HTTPS (loopback only)"),
		  NULL },
		{ NULL }
	};
	/* the first three say where the store is */
	if (!serve)
		memset(&entries[3], 0, sizeof(GOptionEntry));
	return g_memdup2(entries, sizeof(entries));
}

/* a password: from the environment, from stdin, or typed without echo */
static gchar *
aiq_server_cli_read_password(const gchar *env,
			     gboolean from_stdin,
			     const gchar *prompt,
			     GError **error)
{
	const gchar *value = env != NULL ? g_getenv(env) : NULL;
	gchar buf[1100];
	gboolean tty;
	struct termios old, noecho;

	/* --password-stdin wins over the environment */
	if (!from_stdin && value != NULL && value[0] != '\0')
		return g_strdup(value);
	tty = !from_stdin && isatty(STDIN_FILENO);
	if (!from_stdin && !tty) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("give the password with --password-stdin or $%s"),
			    env);
		return NULL;
	}
	if (tty) {
		g_print("%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &noecho);
	}
	if (fgets(buf, sizeof(buf), stdin) == NULL)
		buf[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		g_print("\n");
	}
	g_strchomp(buf);
	value = g_strdup(buf);
	sodium_memzero(buf, sizeof(buf));
	return (gchar *)value;
}

static AiqTenant *
aiq_server_cli_ensure_tenant(AiqStore *store,
			     const gchar *slug,
			     const gchar *name,
			     const gchar *tier,
			     gboolean *created,
			     GError **error)
{
	g_autoptr(GError) error_local = NULL;
	AiqTenant *tenant = aiq_store_get_tenant_by_slug(store, slug, &error_local);
	*created = FALSE;
	if (tenant != NULL)
		return tenant;
	if (!g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	*created = TRUE;
	return aiq_store_create_tenant(store, slug, name, tier, 30, error);
}

static gboolean
aiq_server_cli_ensure_user(AiqStore *store,
			   AiqTenant *tenant,
			   const gchar *username,
			   const gchar *role,
			   const gchar *password,
			   gboolean *created,
			   GError **error)
{
	g_autoptr(AiqUser) user = aiq_store_get_user_by_name(store, tenant->id, username, NULL);
	g_autofree gchar *hash = NULL;
	*created = FALSE;
	if (user != NULL)
		return TRUE;
	if (!aiq_auth_check_password_strength(password, error))
		return FALSE;
	hash = aiq_auth_hash_password(password, error);
	if (hash == NULL)
		return FALSE;
	user = aiq_store_create_user(store, tenant->id, username, username, role, hash, error);
	*created = user != NULL;
	return user != NULL;
}

static gint
aiq_server_cli_init(gint argc, gchar **argv)
{
	g_auto(AiqServerCliOptions) o = { .port = -1 };
	g_autofree GOptionEntry *common = aiq_server_cli_common_entries(&o, TRUE);
	g_autofree gchar *admin = NULL;
	g_autofree gchar *demo = NULL;
	gboolean password_stdin = FALSE;
	const GOptionEntry entries[] = {
		{ "admin",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &admin,
		  N_("Platform admin user name (default: admin)"),
		  N_("NAME") },
		{ "password-stdin",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &password_stdin,
		  N_("Read the admin password from stdin (else $AIQ_ADMIN_PASSWORD, or a prompt)"),
		  NULL },
		{ "demo",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &demo,
		  N_("Also make a tenant with this slug and an admin “demo” (password "
		     "$AIQ_DEMO_PASSWORD)"),
		  N_("SLUG") },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new(_("— create the store and the first platform admin"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqServerConfig) config = NULL;
	g_autoptr(AiqStore) store = NULL;
	g_autoptr(AiqTenant) platform = NULL;
	g_autofree gchar *password = NULL;
	gboolean created = FALSE;

	g_option_context_add_main_entries(ctx, common, GETTEXT_PACKAGE);
	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1) {
		g_printerr("%s\n", error != NULL ? error->message : _("init takes no arguments"));
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	config = aiq_server_cli_config(&o, &error);
	if (config == NULL || g_mkdir_with_parents(config->data_dir, 0700) != 0) {
		g_printerr("%s\n", error != NULL ? error->message : g_strerror(errno));
		return 1;
	}
	store = aiq_store_open(config->store,
			       &(AiqStoreOptions){ .admin_uri = config->store_admin },
			       &error);
	if (store == NULL) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	platform = aiq_server_cli_ensure_tenant(store,
						AIQ_PLATFORM_TENANT_SLUG,
						"Platform",
						"enterprise",
						&created,
						&error);
	if (platform == NULL) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	if (admin == NULL)
		admin = g_strdup("admin");
	{
		g_autoptr(AiqUser) existing =
			aiq_store_get_user_by_name(store, platform->id, admin, NULL);
		if (existing != NULL) {
			g_print(_("platform admin “%s” exists already\n"), admin);
		} else {
			password =
				aiq_server_cli_read_password("AIQ_ADMIN_PASSWORD",
							     password_stdin,
							     _("Password for the platform admin: "),
							     &error);
			if (password == NULL || !aiq_server_cli_ensure_user(store,
									    platform,
									    admin,
									    "platform_admin",
									    password,
									    &created,
									    &error)) {
				g_printerr("%s\n", error->message);
				return 1;
			}
			g_print(_("created platform admin “%s” (log in to tenant “%s”)\n"),
				admin,
				AIQ_PLATFORM_TENANT_SLUG);
		}
	}
	if (demo != NULL) {
		g_autoptr(AiqTenant) tenant = NULL;
		g_autofree gchar *demo_password = NULL;
		tenant = aiq_server_cli_ensure_tenant(store,
						      demo,
						      "Demo",
						      "standard",
						      &created,
						      &error);
		if (tenant == NULL) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		demo_password = g_strdup(g_getenv("AIQ_DEMO_PASSWORD"));
		if (demo_password == NULL) {
			g_printerr(_("set $AIQ_DEMO_PASSWORD for the demo admin\n"));
			return 2;
		}
		if (!aiq_server_cli_ensure_user(store,
						tenant,
						"demo",
						"tenant_admin",
						demo_password,
						&created,
						&error)) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		g_print(created ? _("created tenant “%s” with admin “demo”\n")
				: _("tenant “%s” and admin “demo” exist already\n"),
			demo);
	}
	if (password != NULL)
		sodium_memzero(password, strlen(password));
	aiq_store_close(store, NULL);
	/* a PostgreSQL URI without its password */
	g_print(_("store: %s\n"), aiq_store_get_filename(store));
	return 0;
}

static gboolean
aiq_server_cli_signal_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

/* every connection is a descriptor: take the hard limit so that a burst of
 * clients does not make accept() fail */
static void
aiq_server_cli_raise_fd_limit(void)
{
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
			g_debug("cannot raise the descriptor limit: %s", g_strerror(errno));
	}
}

static gint
aiq_server_cli_run(gint argc, gchar **argv)
{
	g_auto(AiqServerCliOptions) o = { .port = -1 };
	g_autofree GOptionEntry *common = aiq_server_cli_common_entries(&o, TRUE);
	g_autoptr(GOptionContext) ctx = g_option_context_new(_("— serve the AutomateIQ API"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqServer) server = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autofree gchar *url = NULL;
	AiqServerConfig *config;

	g_option_context_add_main_entries(ctx, common, GETTEXT_PACKAGE);
	g_option_context_set_summary(
		ctx,
		_("Commands:\n"
		  "  run            serve the API (the default)\n"
		  "  init           create the store and the first platform admin (init --help)\n"
		  "  retention run  archive old executions now, with the server stopped\n"
		  "                 (retention run --help)\n"
		  "  version        print the version"));
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1) {
		g_printerr("%s\n", error != NULL ? error->message : _("run takes no arguments"));
		return 2;
	}
	config = aiq_server_cli_config(&o, &error);
	if (config == NULL) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	aiq_server_cli_raise_fd_limit();
	server = aiq_server_new(config, &error);
	if (server == NULL || !aiq_server_start(server, &error)) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	url = aiq_server_get_url(server);
	g_print(_("AutomateIQ server %s listening on %s\n"), PACKAGE_VERSION, url);
	if (aiq_server_get_fingerprint(server) != NULL)
		g_print(_("TLS certificate SHA-256 fingerprint: %s\n"),
			aiq_server_get_fingerprint(server));
	fflush(stdout);
	g_unix_signal_add(SIGTERM, aiq_server_cli_signal_cb, loop);
	g_unix_signal_add(SIGINT, aiq_server_cli_signal_cb, loop);
	g_main_loop_run(loop);
	g_print(_("stopping: finishing requests in flight\n"));
	aiq_server_stop(server);
	return 0;
}

/* automateiq-server retention run: one pass of the daily job, offline */
static gint
aiq_server_cli_retention(gint argc, gchar **argv)
{
	g_auto(AiqServerCliOptions) o = { .port = -1 };
	g_autofree GOptionEntry *common = aiq_server_cli_common_entries(&o, FALSE);
	g_autoptr(GOptionContext) ctx =
		g_option_context_new(_("run — archive old executions and prune old records now"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqServer) server = NULL;
	AiqRetentionReport report = { 0 };
	AiqServerConfig *config;

	g_option_context_add_main_entries(ctx, common, GETTEXT_PACKAGE);
	g_option_context_set_summary(
		ctx,
		_("One pass of the server's daily retention job: the executions past each "
		  "tenant's hot retention go to DATA_DIR/archive/TENANT/DAY.jsonl.gz and leave "
		  "the store, archives past archive-retention-days are deleted, and audit "
		  "records past audit-retention-days.\n\n"
		  "It opens the store itself, so the server must be stopped: a running server "
		  "holds the store, and runs the same job every day on its own."));
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (argc != 2 || g_strcmp0(argv[1], "run") != 0) {
		g_printerr(
			_("usage: automateiq-server retention run [--data-dir DIR] [-c FILE]\n"));
		return 2;
	}
	config = aiq_server_cli_config(&o, &error);
	if (config == NULL) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	if (!aiq_store_location_is_postgres(config->store) &&
	    !g_file_test(config->store, G_FILE_TEST_EXISTS)) {
		g_printerr(_("%s: no store here; give the server's --data-dir or -c\n"),
			   config->store);
		aiq_server_config_free(config);
		return 1;
	}
	/* it never listens: no certificate is loaded or made */
	config->plain_http = TRUE;
	config->allow_insecure_http = TRUE;
	config->scheduler = FALSE;
	server = aiq_server_new(config, &error);
	if (server == NULL) {
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_CONFLICT))
			g_printerr(_("%s\nstop the server first; while it runs, it runs this job "
				     "every day itself\n"),
				   error->message);
		else
			g_printerr("%s\n", error->message);
		return 1;
	}
	if (!aiq_retention_run(server, &report, &error)) {
		g_printerr(_("retention: %s\n"), error->message);
		return 1;
	}
	g_print(_("executions archived:    %" PRIu64 "\n"), report.executions_archived);
	g_print(_("archive files written:  %" PRIu64 "\n"), report.files_written);
	g_print(_("archives deleted:       %" PRIu64 "\n"), report.archives_deleted);
	g_print(_("audit records pruned:   %" PRIu64 "\n"), report.audit_pruned);
	return 0;
}

gint
aiq_server_cli_main(gint argc, gchar **argv)
{
	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	if (argc >= 2 && g_strcmp0(argv[1], "init") == 0)
		return aiq_server_cli_init(argc - 1, argv + 1);
	if (argc >= 2 && g_strcmp0(argv[1], "retention") == 0)
		return aiq_server_cli_retention(argc - 1, argv + 1);
	if (argc >= 2 &&
	    (g_strcmp0(argv[1], "version") == 0 || g_strcmp0(argv[1], "--version") == 0)) {
		g_print("automateiq-server %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc >= 2 && g_strcmp0(argv[1], "run") == 0)
		return aiq_server_cli_run(argc - 1, argv + 1);
	return aiq_server_cli_run(argc, argv);
}
