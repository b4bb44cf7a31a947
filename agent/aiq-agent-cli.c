/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "aiq-agent"

#include "config.h"

#include <inttypes.h>

#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <signal.h>
#include <unistd.h>

#include "aiq-agent-cli.h"
#include "aiq-agent-dbus.h"
#include "aiq-agent-secret-store.h"
#include "aiq-agent.h"
#include "aiq-dbus-agent1.h"
#include "aiq-error.h"
#include "aiq-journal.h"
#include "aiq-json.h"

#define AIQ_AGENT_DEFAULT_STATE_DIR "/var/lib/automateiq-agent"
#define AIQ_AGENT_DEFAULT_CONFIG SYSCONFDIR "/automateiq/agent.conf"
#define AIQ_AGENT_USER "automateiq-agent"

typedef struct {
	gchar *config;
	gchar *state_dir;
	gboolean session;
	gboolean verbose;
} AiqAgentCliOptions;

static void
aiq_agent_cli_options_clear(AiqAgentCliOptions *o)
{
	g_free(o->config);
	g_free(o->state_dir);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AiqAgentCliOptions, aiq_agent_cli_options_clear)

static GOptionEntry *
aiq_agent_cli_common_entries(AiqAgentCliOptions *o)
{
	GOptionEntry entries[] = {
		{ "config",
		  'c',
		  0,
		  G_OPTION_ARG_FILENAME,
		  &o->config,
		  N_("The configuration file (default: " AIQ_AGENT_DEFAULT_CONFIG
		     " when it exists)"),
		  N_("FILE") },
		{ "state-dir",
		  0,
		  0,
		  G_OPTION_ARG_FILENAME,
		  &o->state_dir,
		  N_("The state directory (default: $STATE_DIRECTORY or " AIQ_AGENT_DEFAULT_STATE_DIR
		     ")"),
		  N_("DIR") },
		{ "session",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &o->session,
		  N_("Use the session bus instead of the system bus (development)"),
		  NULL },
		{ "verbose",
		  'v',
		  0,
		  G_OPTION_ARG_NONE,
		  &o->verbose,
		  N_("Log debug messages too"),
		  NULL },
		{ NULL },
	};
	return g_memdup2(entries, sizeof(entries));
}

static const gchar *
aiq_agent_cli_state_dir(AiqAgentCliOptions *o)
{
	const gchar *env;
	if (o->state_dir != NULL)
		return o->state_dir;
	/* systemd's StateDirectory= */
	env = g_getenv("STATE_DIRECTORY");
	if (env != NULL && env[0] != '\0' && strchr(env, ':') == NULL)
		return env;
	return AIQ_AGENT_DEFAULT_STATE_DIR;
}

static const gchar *
aiq_agent_cli_config(AiqAgentCliOptions *o)
{
	if (o->config != NULL)
		return o->config;
	if (g_file_test(AIQ_AGENT_DEFAULT_CONFIG, G_FILE_TEST_EXISTS))
		return AIQ_AGENT_DEFAULT_CONFIG;
	return NULL;
}

static gboolean
aiq_agent_cli_parse(GOptionContext *ctx,
		    AiqAgentCliOptions *o,
		    gint *argc,
		    gchar ***argv,
		    gint n_args,
		    const gchar *usage)
{
	g_autoptr(GError) error = NULL;
	g_autofree GOptionEntry *common = aiq_agent_cli_common_entries(o);
	g_option_context_add_main_entries(ctx, common, GETTEXT_PACKAGE);
	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		g_printerr("%s\n", error->message);
		return FALSE;
	}
	if (n_args >= 0 && *argc != n_args + 1) {
		g_printerr(_("usage: automateiq-agent %s\n"), usage);
		return FALSE;
	}
	return TRUE;
}

/* the daemon on the bus, or %NULL when none runs */
static AiqDbusAgent1 *
aiq_agent_cli_proxy(AiqAgentCliOptions *o)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqDbusAgent1) proxy = NULL;
	g_autofree gchar *owner = NULL;

	proxy = aiq_dbus_agent1_proxy_new_for_bus_sync(o->session ? G_BUS_TYPE_SESSION
								  : G_BUS_TYPE_SYSTEM,
						       G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
						       AIQ_AGENT_DBUS_NAME,
						       AIQ_AGENT_DBUS_PATH,
						       NULL,
						       &error);
	if (proxy == NULL) {
		g_debug("no bus: %s", error->message);
		return NULL;
	}
	owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(proxy));
	if (owner == NULL)
		return NULL;
	return g_steal_pointer(&proxy);
}

/* logging: the journal when stderr is connected to it, stderr otherwise */

static gboolean aiq_agent_cli_verbose = FALSE;
static gboolean aiq_agent_cli_quiet = TRUE;

static GLogWriterOutput
aiq_agent_cli_log_writer(GLogLevelFlags level,
			 const GLogField *fields,
			 gsize n_fields,
			 gpointer user_data)
{
	const gchar *domain = NULL;
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
			domain = fields[i].value;
	}
	/* debug lines of our own domains with --verbose; G_MESSAGES_DEBUG for the rest */
	if ((level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) != 0 &&
	    !(aiq_agent_cli_verbose && domain != NULL && g_str_has_prefix(domain, "aiq")) &&
	    g_log_writer_default_would_drop(level, domain))
		return G_LOG_WRITER_HANDLED;
	/* the commands other than run say what they did on stdout */
	if ((level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) != 0 && aiq_agent_cli_quiet)
		return G_LOG_WRITER_HANDLED;
	if (g_log_writer_is_journald(fileno(stderr)) &&
	    g_log_writer_journald(level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;
	return g_log_writer_standard_streams(level, fields, n_fields, user_data);
}

static gboolean
aiq_agent_cli_signal_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_CONTINUE;
}

static gint
aiq_agent_cli_run(gint argc, gchar **argv)
{
	g_auto(AiqAgentCliOptions) o = { 0 };
	g_autoptr(GOptionContext) ctx = g_option_context_new(_("— run the agent"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqAgent) agent = NULL;
	g_autoptr(AiqAgentDbus) dbus = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	gboolean no_dbus = FALSE;
	GOptionEntry entries[] = {
		{ "no-dbus",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &no_dbus,
		  N_("Do not export the D-Bus interface"),
		  NULL },
		{ NULL },
	};

	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	if (!aiq_agent_cli_parse(ctx, &o, &argc, &argv, 0, "run [OPTION…]"))
		return 2;
	aiq_agent_cli_quiet = FALSE;
	aiq_agent_cli_verbose = o.verbose;
	/* a file size limit (ulimit -f) is a full disk to the journal, which
	 * waits and retries; the signal would kill the agent instead */
	signal(SIGXFSZ, SIG_IGN);

	agent = aiq_agent_new(aiq_agent_cli_config(&o), aiq_agent_cli_state_dir(&o), &error);
	if (agent == NULL) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	/* the bus name first: a second agent stops before it touches anything */
	if (!no_dbus) {
		dbus = aiq_agent_dbus_new(agent);
		if (!aiq_agent_dbus_start(dbus,
					  o.session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
					  &error)) {
			g_printerr("%s\n", error->message);
			return 1;
		}
	}
	if (!aiq_agent_start(agent, &error)) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	if (!aiq_agent_get_enrolled(agent))
		g_message("not enrolled yet: run `automateiq-agent enroll --server URL --token T`");
	g_message("automateiq-agent %s running (state in %s)",
		  PACKAGE_VERSION,
		  aiq_agent_get_state_dir(agent));
	g_unix_signal_add(SIGTERM, aiq_agent_cli_signal_cb, loop);
	g_unix_signal_add(SIGINT, aiq_agent_cli_signal_cb, loop);
	g_main_loop_run(loop);
	g_message("stopping; unfinished executions continue at the next start");
	if (dbus != NULL)
		aiq_agent_dbus_stop(dbus);
	aiq_agent_stop(agent);
	return 0;
}

static void
aiq_agent_cli_async_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **out = user_data;
	*out = g_object_ref(res);
}

static GAsyncResult *
aiq_agent_cli_wait(GAsyncResult **res)
{
	while (*res == NULL)
		g_main_context_iteration(NULL, TRUE);
	return *res;
}

/* files written by root for the service's user */
static void
aiq_agent_cli_chown_state(const gchar *state_dir)
{
	struct passwd *pw;
	const gchar *names[] = { "",
				 "enrollment.json",
				 "server-ca.pem",
				 "secrets.key",
				 "secrets.enc" };
	if (getuid() != 0)
		return;
	pw = getpwnam(AIQ_AGENT_USER);
	if (pw == NULL)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree gchar *path = g_build_filename(state_dir, names[i], NULL);
		if (g_file_test(path, G_FILE_TEST_EXISTS) &&
		    chown(path, pw->pw_uid, pw->pw_gid) != 0)
			g_printerr(_("%s: cannot hand it to user %s: %s\n"),
				   path,
				   AIQ_AGENT_USER,
				   g_strerror(errno));
	}
}

static gint
aiq_agent_cli_enroll(gint argc, gchar **argv)
{
	g_auto(AiqAgentCliOptions) o = { 0 };
	g_autoptr(GOptionContext) ctx =
		g_option_context_new(_("— trade an enrollment token for this agent's credential"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqDbusAgent1) proxy = NULL;
	g_autofree gchar *server = NULL;
	g_autofree gchar *token = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *labels_str = NULL;
	g_autofree gchar *ca_file = NULL;
	g_autofree gchar *ca_pem = NULL;
	g_auto(GStrv) labels = NULL;
	GOptionEntry entries[] = {
		{ "server",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &server,
		  N_("The server, https://… (default: [agent] server)"),
		  N_("URL") },
		{ "token",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &token,
		  N_("The one-time enrollment token"),
		  N_("TOKEN") },
		{ "name",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &name,
		  N_("The agent's name (default: the host name)"),
		  N_("NAME") },
		{ "labels",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &labels_str,
		  N_("Labels, separated by commas"),
		  N_("A,B") },
		{ "ca",
		  0,
		  0,
		  G_OPTION_ARG_FILENAME,
		  &ca_file,
		  N_("Trust the server's certificate with this CA (PEM)"),
		  N_("FILE") },
		{ NULL },
	};

	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	if (!aiq_agent_cli_parse(
		    ctx,
		    &o,
		    &argc,
		    &argv,
		    0,
		    "enroll --server URL --token T [--name N] [--labels a,b] [--ca FILE]"))
		return 2;
	if (token == NULL) {
		g_printerr(_("--token is required\n"));
		return 2;
	}
	if (labels_str != NULL) {
		labels = g_strsplit(labels_str, ",", -1);
		for (guint i = 0; labels[i] != NULL; i++)
			g_strstrip(labels[i]);
	}
	if (ca_file != NULL && !g_file_get_contents(ca_file, &ca_pem, NULL, &error)) {
		g_printerr("%s\n", error->message);
		return 1;
	}

	/* a running agent enrolls itself (checked with polkit) and reconnects */
	proxy = aiq_agent_cli_proxy(&o);
	if (proxy != NULL) {
		const gchar *agent_id = NULL;
		const gchar *const empty[] = { NULL };
		g_autoptr(GVariant) reply = NULL;
		/* interactive: polkit may ask for an administrator's password */
		reply = g_dbus_proxy_call_sync(
			G_DBUS_PROXY(proxy),
			"Enroll",
			g_variant_new("(sss^ass)",
				      server != NULL ? server : "",
				      token,
				      name != NULL ? name : "",
				      labels != NULL ? (const gchar *const *)labels : empty,
				      ca_pem != NULL ? ca_pem : ""),
			G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
			-1,
			NULL,
			&error);
		if (reply == NULL) {
			g_dbus_error_strip_remote_error(error);
			g_printerr("%s\n", error->message);
			return 1;
		}
		g_variant_get(reply, "(&s)", &agent_id);
		g_print(_("Enrolled as agent %s; the daemon connects to the server now\n"),
			agent_id);
		return 0;
	} else {
		g_autoptr(AiqAgent) agent = NULL;
		g_autoptr(GAsyncResult) res = NULL;
		agent = aiq_agent_new(aiq_agent_cli_config(&o),
				      aiq_agent_cli_state_dir(&o),
				      &error);
		if (agent == NULL) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		aiq_agent_enroll_async(agent,
				       server,
				       token,
				       name,
				       (const gchar *const *)labels,
				       ca_pem,
				       NULL,
				       aiq_agent_cli_async_cb,
				       &res);
		if (!aiq_agent_enroll_finish(agent, aiq_agent_cli_wait(&res), &error)) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		aiq_agent_cli_chown_state(aiq_agent_get_state_dir(agent));
		g_print(_("Enrolled with %s as %s (agent %s)\n"),
			aiq_agent_get_server(agent),
			aiq_agent_get_name(agent),
			aiq_agent_get_agent_id(agent));
	}
	return 0;
}

static void
aiq_agent_cli_print_status(gboolean running,
			   gboolean enrolled,
			   const gchar *server,
			   const gchar *name,
			   const gchar *agent_id,
			   const gchar *const *labels,
			   const gchar *connection,
			   const gchar *last_error,
			   const gchar *const *executions,
			   guint64 depth,
			   gboolean full,
			   gboolean json)
{
	guint n_running = executions != NULL ? g_strv_length((gchar **)executions) : 0;
	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;
		g_autofree gchar *text = NULL;
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "daemon_running");
		json_builder_add_boolean_value(b, running);
		json_builder_set_member_name(b, "enrolled");
		json_builder_add_boolean_value(b, enrolled);
		json_builder_set_member_name(b, "server");
		json_builder_add_string_value(b, server);
		json_builder_set_member_name(b, "name");
		json_builder_add_string_value(b, name);
		json_builder_set_member_name(b, "agent_id");
		json_builder_add_string_value(b, agent_id);
		json_builder_set_member_name(b, "labels");
		json_builder_begin_array(b);
		for (guint i = 0; labels != NULL && labels[i] != NULL; i++)
			json_builder_add_string_value(b, labels[i]);
		json_builder_end_array(b);
		json_builder_set_member_name(b, "connection");
		json_builder_add_string_value(b, connection);
		json_builder_set_member_name(b, "last_error");
		json_builder_add_string_value(b, last_error);
		json_builder_set_member_name(b, "running");
		json_builder_begin_array(b);
		for (guint i = 0; i < n_running; i++)
			json_builder_add_string_value(b, executions[i]);
		json_builder_end_array(b);
		json_builder_set_member_name(b, "outbox_depth");
		json_builder_add_int_value(b, (gint64)depth);
		json_builder_set_member_name(b, "outbox_full");
		json_builder_add_boolean_value(b, full);
		json_builder_end_object(b);
		root = json_builder_get_root(b);
		text = aiq_json_to_string(root, TRUE);
		g_print("%s\n", text);
		return;
	}
	g_print(_("Daemon:      %s\n"), running ? _("running") : _("not running"));
	if (!enrolled) {
		g_print(_(
			"Enrolled:    no (run `automateiq-agent enroll --server URL --token T`)\n"));
	} else {
		g_autofree gchar *labels_str =
			labels != NULL ? g_strjoinv(", ", (gchar **)labels) : g_strdup("");
		g_print(_("Enrolled:    yes, as %s (agent %s)\n"), name, agent_id);
		g_print(_("Server:      %s\n"), server);
		g_print(_("Labels:      %s\n"), labels_str);
	}
	g_print(_("Connection:  %s\n"), connection);
	if (last_error != NULL && last_error[0] != '\0')
		g_print(_("Last error:  %s\n"), last_error);
	g_print(_("Running:     %u executions\n"), n_running);
	for (guint i = 0; i < n_running; i++)
		g_print("             %s\n", executions[i]);
	g_print(_("Outbox:      %" PRIu64 " events not yet acknowledged%s\n"),
		depth,
		full ? _(" (FULL: no new work is taken)") : "");
}

/* a daemon holds the journal's lock while it runs */
static gboolean
aiq_agent_cli_journal_in_use(const gchar *journal_path)
{
	g_autofree gchar *lock_path = g_strdup_printf("%s.lock", journal_path);
	gint fd = g_open(lock_path, O_RDONLY | O_CLOEXEC, 0);
	gboolean in_use = FALSE;
	if (fd < 0)
		return FALSE;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
		in_use = TRUE;
	close(fd);
	return in_use;
}

static gint
aiq_agent_cli_status(gint argc, gchar **argv)
{
	g_auto(AiqAgentCliOptions) o = { 0 };
	g_autoptr(GOptionContext) ctx = g_option_context_new(_("— show the agent's state"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqDbusAgent1) proxy = NULL;
	g_autoptr(AiqAgent) agent = NULL;
	g_autoptr(AiqJournal) journal = NULL;
	g_autofree gchar *journal_path = NULL;
	gboolean json = FALSE;
	gboolean running;
	guint64 depth = 0;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
		{ NULL },
	};

	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	if (!aiq_agent_cli_parse(ctx, &o, &argc, &argv, 0, "status [--json]"))
		return 2;
	proxy = aiq_agent_cli_proxy(&o);
	if (proxy != NULL) {
		aiq_agent_cli_print_status(TRUE,
					   aiq_dbus_agent1_get_enrolled(proxy),
					   aiq_dbus_agent1_get_server(proxy),
					   aiq_dbus_agent1_get_name(proxy),
					   aiq_dbus_agent1_get_agent_id(proxy),
					   aiq_dbus_agent1_get_labels(proxy),
					   aiq_dbus_agent1_get_connection_state(proxy),
					   aiq_dbus_agent1_get_last_error(proxy),
					   aiq_dbus_agent1_get_running_executions(proxy),
					   aiq_dbus_agent1_get_outbox_depth(proxy),
					   aiq_dbus_agent1_get_outbox_full(proxy),
					   json);
		return 0;
	}
	/* no daemon: what the state directory says */
	agent = aiq_agent_new(aiq_agent_cli_config(&o), aiq_agent_cli_state_dir(&o), &error);
	if (agent == NULL) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	journal_path = g_build_filename(aiq_agent_get_state_dir(agent), "journal.db", NULL);
	running = aiq_agent_cli_journal_in_use(journal_path);
	if (g_file_test(journal_path, G_FILE_TEST_EXISTS)) {
		g_autoptr(GPtrArray) outbox = NULL;
		journal = aiq_journal_new_read_only(journal_path, &error);
		outbox = journal != NULL ? aiq_journal_list_outbox(journal, &error) : NULL;
		if (outbox == NULL) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		for (guint i = 0; i < outbox->len; i++) {
			AiqJournalOutboxEntry *entry = g_ptr_array_index(outbox, i);
			if (entry->last_seq > entry->acked_seq)
				depth += (guint64)(entry->last_seq - entry->acked_seq);
		}
	}
	aiq_agent_cli_print_status(running,
				   aiq_agent_get_enrolled(agent),
				   aiq_agent_get_server(agent),
				   aiq_agent_get_name(agent),
				   aiq_agent_get_agent_id(agent),
				   aiq_agent_get_labels(agent),
				   !aiq_agent_get_enrolled(agent) ? "unenrolled"
				   : running ? _("unknown (the daemon is not on D-Bus)")
					     : _("not connected (no daemon)"),
				   NULL,
				   NULL,
				   depth,
				   FALSE,
				   json);
	return 0;
}

static gchar *
aiq_agent_cli_read_stdin(GError **error)
{
	g_autoptr(GString) value = g_string_new(NULL);
	gchar buf[4096];
	gsize n;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		g_string_append_len(value, buf, (gssize)n);
		if (value->len > 64 * 1024) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_TOO_LARGE,
					    _("the value is larger than 64 KiB"));
			return NULL;
		}
	}
	/* `echo value | …` and a typed line end with one newline that is not the value's */
	if (value->len > 0 && value->str[value->len - 1] == '\n')
		g_string_truncate(value, value->len - 1);
	if (value->len > 0 && value->str[value->len - 1] == '\r')
		g_string_truncate(value, value->len - 1);
	return g_string_free(g_steal_pointer(&value), FALSE);
}

static gint
aiq_agent_cli_secret(gint argc, gchar **argv)
{
	g_auto(AiqAgentCliOptions) o = { 0 };
	g_autoptr(GOptionContext) ctx = g_option_context_new(_("set NAME | list | delete NAME"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqAgentSecretStore) store = NULL;
	const gchar *command;

	g_option_context_set_summary(
		ctx,
		_("Secrets stay on this machine, encrypted in the state directory; workflows read\n"
		  "them as ${{ secrets.NAME }}. `set` reads the value from standard input."));
	if (!aiq_agent_cli_parse(ctx, &o, &argc, &argv, -1, NULL))
		return 2;
	command = argc >= 2 ? argv[1] : NULL;
	store = aiq_agent_secret_store_new(aiq_agent_cli_state_dir(&o));
	if (g_strcmp0(command, "set") == 0 && argc == 3) {
		g_autofree gchar *value = NULL;
		if (isatty(fileno(stdin)))
			g_printerr(_("Value of %s (end with Ctrl-D): "), argv[2]);
		value = aiq_agent_cli_read_stdin(&error);
		if (value == NULL || !aiq_agent_secret_store_set(store, argv[2], value, &error)) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		aiq_agent_cli_chown_state(aiq_agent_cli_state_dir(&o));
		g_print(_("Secret %s set\n"), argv[2]);
		return 0;
	}
	if (g_strcmp0(command, "list") == 0 && argc == 2) {
		g_auto(GStrv) names = aiq_agent_secret_store_list(store, &error);
		if (names == NULL) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		for (guint i = 0; names[i] != NULL; i++)
			g_print("%s\n", names[i]);
		return 0;
	}
	if (g_strcmp0(command, "delete") == 0 && argc == 3) {
		if (!aiq_agent_secret_store_delete(store, argv[2], &error)) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		g_print(_("Secret %s deleted\n"), argv[2]);
		return 0;
	}
	g_printerr(
		_("usage: automateiq-agent secret set NAME | secret list | secret delete NAME\n"));
	return 2;
}

static void
aiq_agent_cli_usage(void)
{
	g_printerr(_("usage: automateiq-agent COMMAND [OPTION…]\n"
		     "\n"
		     "Commands:\n"
		     "  run        run the agent in the foreground (what the service runs)\n"
		     "  enroll     trade an enrollment token for this agent's credential\n"
		     "  status     show enrollment, connection, running executions and the outbox\n"
		     "  secret     set, list or delete local secrets\n"
		     "  version    print the version\n"
		     "\n"
		     "`automateiq-agent COMMAND --help` describes each command.\n"));
}

gint
aiq_agent_cli_main(gint argc, gchar **argv)
{
	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	g_log_set_writer_func(aiq_agent_cli_log_writer, NULL, NULL);
	if (argc < 2) {
		aiq_agent_cli_usage();
		return 2;
	}
	if (g_strcmp0(argv[1], "run") == 0)
		return aiq_agent_cli_run(argc - 1, argv + 1);
	if (g_strcmp0(argv[1], "enroll") == 0)
		return aiq_agent_cli_enroll(argc - 1, argv + 1);
	if (g_strcmp0(argv[1], "status") == 0)
		return aiq_agent_cli_status(argc - 1, argv + 1);
	if (g_strcmp0(argv[1], "secret") == 0)
		return aiq_agent_cli_secret(argc - 1, argv + 1);
	if (g_strcmp0(argv[1], "version") == 0 || g_strcmp0(argv[1], "--version") == 0) {
		g_print("automateiq-agent %s\n", PACKAGE_VERSION);
		return 0;
	}
	aiq_agent_cli_usage();
	return 2;
}
