/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiqctl"

#include "config.h"

#include <inttypes.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "aiq-definition.h"
#include "aiq-document.h"
#include "aiq-engine.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-util.h"
#include "aiqctl-remote.h"
#include "aiqctl.h"

typedef struct {
	GMainLoop *loop;
	AiqEngine *engine;
	AiqJournal *journal;
	gchar *state_dir;
	gboolean json;
	gboolean quiet;
	gboolean interrupted;
	GPtrArray *waiting; /* ids of executions being waited for */
	GPtrArray *results; /* AiqExecution */
} AiqctlRun;

static void
aiqctl_run_clear(AiqctlRun *run)
{
	g_clear_pointer(&run->loop, g_main_loop_unref);
	g_clear_object(&run->engine);
	if (run->journal != NULL)
		aiq_journal_close(run->journal, NULL);
	g_clear_object(&run->journal);
	g_clear_pointer(&run->state_dir, g_free);
	g_clear_pointer(&run->waiting, g_ptr_array_unref);
	g_clear_pointer(&run->results, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AiqctlRun, aiqctl_run_clear)

static gboolean
aiqctl_use_color(void)
{
	return isatty(STDERR_FILENO) && g_getenv("NO_COLOR") == NULL;
}

static void
aiqctl_print_problems(const gchar *filename, AiqProblems *problems)
{
	g_autofree gchar *text = aiq_problems_to_string(problems, filename);
	g_printerr("%s", text);
}

static AiqConfig *
aiqctl_load_config(const gchar *filename, GError **error)
{
	g_autoptr(AiqConfig) config = aiq_config_new();
	if (filename != NULL && !aiq_config_load_file(config, filename, error))
		return NULL;
	return g_steal_pointer(&config);
}

/* AIQ_SECRET_NAME=value in the environment becomes secrets.NAME */
static AiqSecrets *
aiqctl_secrets_from_environment(void)
{
	g_auto(GStrv) env = g_get_environ();
	AiqSecrets *secrets = aiq_secrets_new();
	for (guint i = 0; env[i] != NULL; i++) {
		const gchar *eq = strchr(env[i], '=');
		g_autofree gchar *name = NULL;
		if (!g_str_has_prefix(env[i], "AIQ_SECRET_") || eq == NULL)
			continue;
		name = g_strndup(env[i] + strlen("AIQ_SECRET_"),
				 eq - env[i] - strlen("AIQ_SECRET_"));
		if (name[0] != '\0')
			aiq_secrets_set(secrets, name, eq + 1);
	}
	return secrets;
}

/* sub-workflows: `path` relative to the calling file, `name` as NAME.yaml beside it */
static AiqDefinition *
aiqctl_resolve_workflow(AiqEngine *engine,
			AiqDefinition *parent,
			const gchar *name,
			const gchar *path,
			gpointer user_data,
			GError **error)
{
	AiqConfig *config = aiq_engine_get_config(engine);
	const gchar *parent_file = parent != NULL ? aiq_definition_get_filename(parent) : NULL;
	g_autofree gchar *dir =
		parent_file != NULL ? g_path_get_dirname(parent_file) : g_get_current_dir();
	g_autofree gchar *filename = NULL;
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	AiqDefinition *definition;

	if (path != NULL) {
		filename = g_path_is_absolute(path) ? g_strdup(path)
						    : g_build_filename(dir, path, NULL);
	} else {
		const gchar *exts[] = { ".yaml", ".yml", ".json" };
		for (guint i = 0; i < G_N_ELEMENTS(exts) && filename == NULL; i++) {
			g_autofree gchar *base = g_strconcat(name, exts[i], NULL);
			g_autofree gchar *candidate = g_build_filename(dir, base, NULL);
			if (g_file_test(candidate, G_FILE_TEST_IS_REGULAR))
				filename = g_steal_pointer(&candidate);
		}
		if (filename == NULL) {
			g_set_error(
				error,
				AIQ_ERROR,
				AIQ_ERROR_NOT_FOUND,
				_("no workflow named “%s” in %s (looked for %s.yaml, .yml, .json)"),
				name,
				dir,
				name);
			return NULL;
		}
	}
	definition = aiq_definition_new_from_file(filename, config, problems, error);
	if (definition == NULL && aiq_problems_get_size(problems) > 0) {
		g_autofree gchar *text = aiq_problems_to_string(problems, filename);
		g_strchomp(text);
		g_clear_error(error);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_DEFINITION,
			    _("invalid sub-workflow:\n%s"),
			    text);
	}
	return definition;
}

/* progress, on stderr */

static gboolean
aiqctl_is_root(AiqctlRun *run, const gchar *execution_id)
{
	AiqExecution *exec = aiq_engine_lookup(run->engine, execution_id);
	return exec == NULL || aiq_execution_get_parent_id(exec) == NULL;
}

static void
aiqctl_event_cb(AiqEngine *engine, AiqEvent *event, gpointer user_data)
{
	AiqctlRun *run = user_data;
	JsonObject *data = event->data != NULL ? json_node_get_object(event->data) : NULL;
	JsonObject *error = aiq_json_object_get_object(data, "error");
	const gchar *message = aiq_json_object_get_string(error, "message");
	gboolean color = aiqctl_use_color();
	const gchar *indent = aiqctl_is_root(run, event->execution_id) ? "" : "    ";
	g_autofree gchar *item =
		event->item >= 0 ? g_strdup_printf("[%d]", event->item) : g_strdup("");

	if (run->quiet)
		return;
	switch (event->type) {
	case AIQ_EVENT_STEP_STARTED:
		g_printerr("%s%s▶%s %s\n",
			   indent,
			   color ? "\033[1;34m" : "",
			   color ? "\033[0m" : "",
			   event->step_id);
		break;
	case AIQ_EVENT_ATTEMPT_FINISHED:
		g_printerr("%s%s↻%s %s%s: ",
			   indent,
			   color ? "\033[1;33m" : "",
			   color ? "\033[0m" : "",
			   event->step_id,
			   item);
		g_printerr(_("attempt %u failed: %s; retrying in %" PRId64 " ms"),
			   event->attempt,
			   message != NULL ? message : "",
			   aiq_json_object_get_int(data, "retry_in_ms", 0));
		g_printerr("\n");
		break;
	case AIQ_EVENT_ITEM_FINISHED:
		if (message != NULL)
			g_printerr("%s  %s✗%s %s%s: %s\n",
				   indent,
				   color ? "\033[1;31m" : "",
				   color ? "\033[0m" : "",
				   event->step_id,
				   item,
				   message);
		break;
	case AIQ_EVENT_STEP_FINISHED:
		if (g_strcmp0(event->status, "succeeded") == 0)
			g_printerr("%s%s✓%s %s\n",
				   indent,
				   color ? "\033[1;32m" : "",
				   color ? "\033[0m" : "",
				   event->step_id);
		else
			g_printerr("%s%s✗%s %s %s: %s\n",
				   indent,
				   color ? "\033[1;31m" : "",
				   color ? "\033[0m" : "",
				   event->step_id,
				   event->status,
				   message != NULL ? message : "");
		break;
	case AIQ_EVENT_STEP_SKIPPED:
		g_printerr("%s- %s %s: %s\n",
			   indent,
			   event->step_id,
			   event->status,
			   aiq_json_object_get_string(data, "reason"));
		break;
	default:
		break;
	}
}

static void
aiqctl_step_log_cb(AiqEngine *engine,
		   AiqExecution *exec,
		   const gchar *step_id,
		   const gchar *line,
		   gpointer user_data)
{
	AiqctlRun *run = user_data;
	if (!run->quiet)
		g_printerr("  │ %s: %s\n", step_id, line);
}

static void
aiqctl_execution_finished_cb(AiqEngine *engine, AiqExecution *exec, gpointer user_data)
{
	AiqctlRun *run = user_data;
	guint idx = 0;
	if (g_ptr_array_find_with_equal_func(run->waiting,
					     aiq_execution_get_id(exec),
					     g_str_equal,
					     &idx)) {
		g_ptr_array_remove_index(run->waiting, idx);
		g_ptr_array_add(run->results, aiq_execution_ref(exec));
	}
	/* sub-workflows finish before their callers; all of them before we stop */
	if (run->waiting->len == 0 && aiq_engine_get_n_running(engine) == 0)
		g_main_loop_quit(run->loop);
}

static gboolean
aiqctl_interrupt_cb(gpointer user_data)
{
	AiqctlRun *run = user_data;
	run->interrupted = TRUE;
	g_main_loop_quit(run->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
aiqctl_run_open(AiqctlRun *run, const gchar *config_file, gboolean create, GError **error)
{
	g_autoptr(AiqConfig) config = aiqctl_load_config(config_file, error);
	g_autoptr(AiqSecrets) secrets = NULL;
	g_autofree gchar *journal_file = NULL;

	if (config == NULL)
		return FALSE;
	if (create && g_mkdir_with_parents(run->state_dir, 0700) != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("cannot create the state directory %s: %s"),
			    run->state_dir,
			    g_strerror(errno));
		return FALSE;
	}
	journal_file = g_build_filename(run->state_dir, "journal.db", NULL);
	if (!create && !g_file_test(journal_file, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("%s holds no journal (expected %s)"),
			    run->state_dir,
			    journal_file);
		return FALSE;
	}
	run->journal = aiq_journal_new(journal_file, error);
	if (run->journal == NULL)
		return FALSE;
	run->engine = aiq_engine_new(config, run->journal);
	secrets = aiqctl_secrets_from_environment();
	aiq_engine_set_secrets(run->engine, secrets);
	aiq_engine_set_workflow_resolver(run->engine, aiqctl_resolve_workflow, NULL, NULL);
	run->loop = g_main_loop_new(NULL, FALSE);
	run->waiting = g_ptr_array_new_with_free_func(g_free);
	run->results = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_execution_unref);
	g_signal_connect(run->engine, "event", G_CALLBACK(aiqctl_event_cb), run);
	g_signal_connect(run->engine, "step-log", G_CALLBACK(aiqctl_step_log_cb), run);
	g_signal_connect(run->engine,
			 "execution-finished",
			 G_CALLBACK(aiqctl_execution_finished_cb),
			 run);
	return TRUE;
}

static void
aiqctl_print_execution(AiqExecution *exec)
{
	AiqDefinition *definition = aiq_execution_get_definition(exec);
	gint64 started = aiq_execution_get_started(exec);
	gint64 finished = aiq_execution_get_finished(exec);
	const gchar *error_message = aiq_execution_get_error_message(exec);

	g_print("%s %s: %s",
		aiq_definition_get_name(definition),
		aiq_execution_get_id(exec),
		aiq_execution_status_to_string(aiq_execution_get_status(exec)));
	if (started > 0 && finished > 0)
		g_print(" (%.3f s)", (finished - started) / 1e6);
	g_print("\n");
	for (guint i = 0; i < aiq_definition_get_n_steps(definition); i++) {
		const AiqStep *step = aiq_definition_get_step(definition, i);
		AiqStepState *state = aiq_execution_get_step_state(exec, i);
		g_print("  %-20s %-10s %-10s",
			step->id,
			step->uses,
			aiq_step_status_to_string(state->status));
		if (state->started_us > 0 && state->finished_us > 0)
			g_print(" %8.1f ms", (state->finished_us - state->started_us) / 1000.0);
		if (state->items != NULL)
			g_print(ngettext("  %u item", "  %u items", state->items->len),
				state->items->len);
		else if (state->attempts > 1)
			g_print(_("  %u attempts"), state->attempts);
		if (state->error_message != NULL)
			g_print("  %s", state->error_message);
		else if (state->skip_reason != NULL)
			g_print("  (%s)", state->skip_reason);
		g_print("\n");
	}
	if (error_message != NULL)
		g_print(_("error: %s\n"), error_message);
}

static gint
aiqctl_report(AiqctlRun *run)
{
	gint rc = AIQCTL_EXIT_OK;
	g_autoptr(GError) error_local = NULL;

	if (!aiq_journal_flush(run->journal, &error_local)) {
		g_printerr("%s\n", error_local->message);
		return AIQCTL_EXIT_FAILED;
	}
	if (run->interrupted) {
		g_printerr(_("interrupted; finish it with: aiqctl resume --state %s\n"),
			   run->state_dir);
		return AIQCTL_EXIT_INTERRUPTED;
	}
	for (guint i = 0; i < run->results->len; i++) {
		AiqExecution *exec = g_ptr_array_index(run->results, i);
		if (run->json) {
			g_autoptr(JsonNode) node = aiq_execution_to_json(exec);
			g_autofree gchar *text = aiq_json_to_string(node, TRUE);
			g_print("%s\n", text);
		} else {
			aiqctl_print_execution(exec);
		}
		if (aiq_execution_get_status(exec) != AIQ_EXECUTION_STATUS_SUCCEEDED)
			rc = AIQCTL_EXIT_FAILED;
	}
	return rc;
}

static void
aiqctl_run_loop(AiqctlRun *run)
{
	guint sigint = g_unix_signal_add(SIGINT, aiqctl_interrupt_cb, run);
	guint sigterm = g_unix_signal_add(SIGTERM, aiqctl_interrupt_cb, run);
	g_main_loop_run(run->loop);
	g_source_remove(sigint);
	g_source_remove(sigterm);
}

static gchar *
aiqctl_default_state_dir(void)
{
	g_autofree gchar *id = aiq_id_new();
	return g_build_filename(g_get_user_state_dir(), "automateiq", "runs", id, NULL);
}

/* commands */

static gint
aiqctl_cmd_validate(gint argc, gchar **argv)
{
	g_autofree gchar *config_file = NULL;
	const GOptionEntry entries[] = { { "config",
					   'c',
					   0,
					   G_OPTION_ARG_FILENAME,
					   &config_file,
					   N_("Configuration file (switched-off step kinds)"),
					   N_("FILE") },
					 { NULL } };
	g_autoptr(GOptionContext) ctx =
		g_option_context_new(_("FILE… — check workflow definitions"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqConfig) config = NULL;
	gint rc = AIQCTL_EXIT_OK;

	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc < 2) {
		g_printerr("%s\n",
			   error != NULL ? error->message : _("validate: give one or more files"));
		return AIQCTL_EXIT_USAGE;
	}
	if (config_file != NULL) {
		config = aiqctl_load_config(config_file, &error);
		if (config == NULL) {
			g_printerr("%s\n", error->message);
			return AIQCTL_EXIT_USAGE;
		}
	}
	for (gint i = 1; i < argc; i++) {
		g_autoptr(AiqProblems) problems = aiq_problems_new();
		g_autoptr(AiqDefinition) definition = NULL;
		g_autoptr(GError) error_local = NULL;
		definition = aiq_definition_new_from_file(argv[i], config, problems, &error_local);
		if (definition != NULL) {
			g_print(_("%s: valid\n"), argv[i]);
			continue;
		}
		rc = AIQCTL_EXIT_FAILED;
		if (aiq_problems_get_size(problems) > 0)
			aiqctl_print_problems(argv[i], problems);
		else
			g_printerr("%s\n", error_local->message);
	}
	return rc;
}

static gint
aiqctl_cmd_fmt(gint argc, gchar **argv)
{
	g_autofree gchar *output = NULL;
	const GOptionEntry entries[] = { { "output",
					   'o',
					   0,
					   G_OPTION_ARG_STRING,
					   &output,
					   N_("yaml (default) or json"),
					   N_("FORMAT") },
					 { NULL } };
	g_autoptr(GOptionContext) ctx =
		g_option_context_new(_("FILE — print a definition in canonical form"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqDefinition) definition = NULL;
	g_autofree gchar *text = NULL;

	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2) {
		g_printerr("%s\n", error != NULL ? error->message : _("fmt: give one file"));
		return AIQCTL_EXIT_USAGE;
	}
	if (output != NULL && g_strcmp0(output, "yaml") != 0 && g_strcmp0(output, "json") != 0) {
		g_printerr(_("--output: use yaml or json\n"));
		return AIQCTL_EXIT_USAGE;
	}
	definition = aiq_definition_new_from_file(argv[1], NULL, problems, &error);
	if (definition == NULL) {
		if (aiq_problems_get_size(problems) > 0)
			aiqctl_print_problems(argv[1], problems);
		else
			g_printerr("%s\n", error->message);
		return AIQCTL_EXIT_FAILED;
	}
	if (g_strcmp0(output, "json") == 0) {
		g_autoptr(JsonNode) node = aiq_definition_to_json(definition);
		text = aiq_json_to_string(node, TRUE);
		g_print("%s\n", text);
		return AIQCTL_EXIT_OK;
	}
	text = aiq_definition_to_yaml(definition, &error);
	if (text == NULL) {
		g_printerr("%s\n", error->message);
		return AIQCTL_EXIT_FAILED;
	}
	g_print("%s", text);
	return AIQCTL_EXIT_OK;
}

static gint
aiqctl_cmd_run_local(gint argc, gchar **argv)
{
	g_auto(AiqctlRun) run = { 0 };
	g_auto(GStrv) inputs = NULL;
	g_autofree gchar *state_dir = NULL;
	g_autofree gchar *config_file = NULL;
	g_autofree gchar *output = NULL;
	gboolean quiet = FALSE;
	const GOptionEntry entries[] = {
		{ "input",
		  'i',
		  0,
		  G_OPTION_ARG_STRING_ARRAY,
		  &inputs,
		  N_("An input, as NAME=VALUE"),
		  N_("NAME=VALUE") },
		{ "state",
		  's',
		  0,
		  G_OPTION_ARG_FILENAME,
		  &state_dir,
		  N_("State directory for the journal (default: a new one under "
		     "$XDG_STATE_HOME/automateiq/runs)"),
		  N_("DIR") },
		{ "config",
		  'c',
		  0,
		  G_OPTION_ARG_FILENAME,
		  &config_file,
		  N_("Configuration file: connections, file roots, SMTP, limits"),
		  N_("FILE") },
		{ "output",
		  'o',
		  0,
		  G_OPTION_ARG_STRING,
		  &output,
		  N_("json: print the execution record as JSON"),
		  N_("FORMAT") },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_("No progress on stderr"), NULL },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new(_("FILE — run a workflow here, without a server"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqDefinition) definition = NULL;
	g_autoptr(JsonObject) input_obj = json_object_new();
	g_autoptr(AiqExecution) exec = NULL;
	g_autoptr(AiqConfig) config = NULL;

	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2) {
		g_printerr("%s\n", error != NULL ? error->message : _("run-local: give one file"));
		return AIQCTL_EXIT_USAGE;
	}
	if (output != NULL && g_strcmp0(output, "json") != 0 && g_strcmp0(output, "text") != 0) {
		g_printerr(_("--output: use json or text\n"));
		return AIQCTL_EXIT_USAGE;
	}
	config = aiqctl_load_config(config_file, &error);
	if (config == NULL) {
		g_printerr("%s\n", error->message);
		return AIQCTL_EXIT_USAGE;
	}
	definition = aiq_definition_new_from_file(argv[1], config, problems, &error);
	if (definition == NULL) {
		if (aiq_problems_get_size(problems) > 0)
			aiqctl_print_problems(argv[1], problems);
		else
			g_printerr("%s\n", error->message);
		return AIQCTL_EXIT_FAILED;
	}
	for (guint i = 0; inputs != NULL && inputs[i] != NULL; i++) {
		const gchar *eq = strchr(inputs[i], '=');
		g_autofree gchar *name = NULL;
		JsonNode *value;
		if (eq == NULL || eq == inputs[i]) {
			g_printerr(_("--input %s: use NAME=VALUE\n"), inputs[i]);
			return AIQCTL_EXIT_USAGE;
		}
		name = g_strndup(inputs[i], eq - inputs[i]);
		value = aiq_definition_parse_input_value(definition, name, eq + 1, &error);
		if (value == NULL) {
			g_printerr("%s\n", error->message);
			return AIQCTL_EXIT_USAGE;
		}
		json_object_set_member(input_obj, name, value);
	}

	run.json = g_strcmp0(output, "json") == 0;
	run.quiet = quiet;
	run.state_dir = state_dir != NULL ? g_strdup(state_dir) : aiqctl_default_state_dir();
	if (!aiqctl_run_open(&run, config_file, TRUE, &error)) {
		g_printerr("%s\n", error->message);
		return AIQCTL_EXIT_FAILED;
	}
	if (state_dir == NULL && !quiet)
		g_printerr(_("state: %s\n"), run.state_dir);
	exec = aiq_engine_start(run.engine, definition, input_obj, NULL, &error);
	if (exec == NULL) {
		g_printerr("%s\n", error->message);
		return error->code == AIQ_ERROR_INVALID_INPUT ? AIQCTL_EXIT_USAGE
							      : AIQCTL_EXIT_FAILED;
	}
	g_ptr_array_add(run.waiting, g_strdup(aiq_execution_get_id(exec)));
	aiqctl_run_loop(&run);
	return aiqctl_report(&run);
}

static gint
aiqctl_cmd_resume(gint argc, gchar **argv)
{
	g_auto(AiqctlRun) run = { 0 };
	g_autofree gchar *state_dir = NULL;
	g_autofree gchar *config_file = NULL;
	g_autofree gchar *output = NULL;
	gboolean quiet = FALSE;
	const GOptionEntry entries[] = {
		{ "state",
		  's',
		  0,
		  G_OPTION_ARG_FILENAME,
		  &state_dir,
		  N_("State directory"),
		  N_("DIR") },
		{ "config",
		  'c',
		  0,
		  G_OPTION_ARG_FILENAME,
		  &config_file,
		  N_("Configuration file"),
		  N_("FILE") },
		{ "output",
		  'o',
		  0,
		  G_OPTION_ARG_STRING,
		  &output,
		  N_("json: print the execution records as JSON"),
		  N_("FORMAT") },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_("No progress on stderr"), NULL },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new(_("— finish the interrupted executions of a state directory"));
	g_autoptr(GError) error = NULL;
	GHashTableIter iter;
	guint n;

	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1 || state_dir == NULL) {
		g_printerr("%s\n", error != NULL ? error->message : _("resume: give --state DIR"));
		return AIQCTL_EXIT_USAGE;
	}
	run.json = g_strcmp0(output, "json") == 0;
	run.quiet = quiet;
	run.state_dir = g_strdup(state_dir);
	if (!aiqctl_run_open(&run, config_file, FALSE, &error)) {
		g_printerr("%s\n", error->message);
		return AIQCTL_EXIT_FAILED;
	}
	n = aiq_engine_resume(run.engine, &error);
	if (error != NULL) {
		g_printerr("%s\n", error->message);
		return AIQCTL_EXIT_FAILED;
	}
	if (n == 0) {
		if (!quiet)
			g_printerr(_("nothing to resume in %s\n"), state_dir);
		return AIQCTL_EXIT_OK;
	}
	(void)iter;
	{
		g_autoptr(GPtrArray) list =
			aiq_journal_list_executions(run.journal, TRUE, 0, &error);
		for (guint i = 0; list != NULL && i < list->len; i++) {
			AiqJournalExecution *row = g_ptr_array_index(list, i);
			AiqExecution *exec = aiq_engine_lookup(run.engine, row->id);
			if (exec != NULL && aiq_execution_get_parent_id(exec) == NULL)
				g_ptr_array_add(run.waiting, g_strdup(row->id));
		}
	}
	if (!quiet)
		g_printerr(ngettext("resuming %u execution\n", "resuming %u executions\n", n), n);
	aiqctl_run_loop(&run);
	return aiqctl_report(&run);
}

static gint
aiqctl_cmd_show(gint argc, gchar **argv)
{
	g_autofree gchar *state_dir = NULL;
	g_autofree gchar *execution_id = NULL;
	g_autofree gchar *output = NULL;
	gboolean all = FALSE;
	const GOptionEntry entries[] = { { "state",
					   's',
					   0,
					   G_OPTION_ARG_FILENAME,
					   &state_dir,
					   N_("State directory"),
					   N_("DIR") },
					 { "execution",
					   'e',
					   0,
					   G_OPTION_ARG_STRING,
					   &execution_id,
					   N_("Execution id (default: the latest)"),
					   N_("ID") },
					 { "all",
					   'a',
					   0,
					   G_OPTION_ARG_NONE,
					   &all,
					   N_("Every execution in the journal"),
					   NULL },
					 { "output",
					   'o',
					   0,
					   G_OPTION_ARG_STRING,
					   &output,
					   N_("json: print JSON"),
					   N_("FORMAT") },
					 { NULL } };
	g_autoptr(GOptionContext) ctx =
		g_option_context_new(_("— print recorded executions of a state directory"));
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) journal = NULL;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *journal_file = NULL;
	g_autoptr(JsonArray) json_all = json_array_new();

	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1 || state_dir == NULL) {
		g_printerr("%s\n", error != NULL ? error->message : _("show: give --state DIR"));
		return AIQCTL_EXIT_USAGE;
	}
	journal_file = g_build_filename(state_dir, "journal.db", NULL);
	journal = aiq_journal_new_read_only(journal_file, &error);
	if (journal == NULL) {
		g_printerr("%s\n", error->message);
		return AIQCTL_EXIT_FAILED;
	}
	engine = aiq_engine_new(NULL, journal);
	if (execution_id != NULL) {
		g_ptr_array_add(ids, g_strdup(execution_id));
	} else {
		g_autoptr(GPtrArray) list = aiq_journal_list_executions(journal, FALSE, 0, &error);
		if (list == NULL) {
			g_printerr("%s\n", error->message);
			return AIQCTL_EXIT_FAILED;
		}
		/* newest first; top-level executions only unless --all */
		for (guint i = 0; i < list->len; i++) {
			AiqJournalExecution *row = g_ptr_array_index(list, i);
			g_autoptr(AiqExecution) exec = aiq_engine_load(engine, row->id, NULL);
			if (exec == NULL || (!all && aiq_execution_get_parent_id(exec) != NULL))
				continue;
			g_ptr_array_add(ids, g_strdup(row->id));
			if (!all)
				break;
		}
		if (ids->len == 0) {
			g_printerr(_("%s: no executions recorded\n"), journal_file);
			return AIQCTL_EXIT_FAILED;
		}
	}
	for (guint i = 0; i < ids->len; i++) {
		g_autoptr(AiqExecution) exec = aiq_engine_load(engine, ids->pdata[i], &error);
		if (exec == NULL) {
			g_printerr("%s\n", error->message);
			return AIQCTL_EXIT_FAILED;
		}
		if (g_strcmp0(output, "json") == 0)
			json_array_add_element(json_all, aiq_execution_to_json(exec));
		else
			aiqctl_print_execution(exec);
	}
	if (g_strcmp0(output, "json") == 0) {
		g_autoptr(JsonNode) node = NULL;
		g_autofree gchar *text = NULL;
		if (all)
			node = aiq_json_new_array(json_array_ref(json_all));
		else
			node = json_node_ref(json_array_get_element(json_all, 0));
		text = aiq_json_to_string(node, TRUE);
		g_print("%s\n", text);
	}
	return AIQCTL_EXIT_OK;
}

static gint
aiqctl_cmd_kinds(gint argc, gchar **argv)
{
	g_autofree gchar *output = NULL;
	const GOptionEntry entries[] = { { "output",
					   'o',
					   0,
					   G_OPTION_ARG_STRING,
					   &output,
					   N_("text (default), json or markdown"),
					   N_("FORMAT") },
					 { NULL } };
	g_autoptr(GOptionContext) ctx =
		g_option_context_new(_("— list the step kinds and their parameters"));
	g_autoptr(GError) error = NULL;
	const AiqStepKind *const *kinds = aiq_step_kind_list();

	g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1) {
		g_printerr("%s\n", error != NULL ? error->message : _("kinds takes no arguments"));
		return AIQCTL_EXIT_USAGE;
	}
	if (g_strcmp0(output, "markdown") == 0) {
		g_autofree gchar *text = aiq_step_kind_list_to_markdown();
		g_print("%s", text);
	} else if (g_strcmp0(output, "json") == 0) {
		g_autoptr(JsonArray) array = json_array_new();
		g_autoptr(JsonNode) node = NULL;
		g_autofree gchar *text = NULL;
		for (guint i = 0; kinds[i] != NULL; i++)
			json_array_add_element(array, aiq_step_kind_to_json(kinds[i]));
		node = aiq_json_new_array(json_array_ref(array));
		text = aiq_json_to_string(node, TRUE);
		g_print("%s\n", text);
	} else if (output == NULL || g_strcmp0(output, "text") == 0) {
		for (guint i = 0; kinds[i] != NULL; i++) {
			g_print("%-10s %s\n", kinds[i]->name, _(kinds[i]->description));
			for (guint j = 0; kinds[i]->params[j].name != NULL; j++) {
				const AiqParam *param = &kinds[i]->params[j];
				g_print("    %-18s %-12s %s%s\n",
					param->name,
					aiq_param_type_to_string(param->type),
					param->required ? _("(required) ") : "",
					_(param->description));
			}
		}
	} else {
		g_printerr(_("--output: use text, json or markdown\n"));
		return AIQCTL_EXIT_USAGE;
	}
	return AIQCTL_EXIT_OK;
}

typedef struct {
	const gchar *name;
	gint (*func)(gint argc, gchar **argv);
	const gchar *summary;
} AiqctlCommand;

static const AiqctlCommand aiqctl_commands[] = {
	{ "validate", aiqctl_cmd_validate, N_("Check workflow definitions") },
	{ "run-local", aiqctl_cmd_run_local, N_("Run a workflow here, without a server") },
	{ "resume", aiqctl_cmd_resume, N_("Finish interrupted local runs") },
	{ "show", aiqctl_cmd_show, N_("Print recorded local executions") },
	{ "fmt", aiqctl_cmd_fmt, N_("Print a definition in canonical YAML or JSON") },
	{ "kinds", aiqctl_cmd_kinds, N_("List step kinds and their parameters") },
	{ "login", aiqctl_cmd_login, N_("Log in to a server") },
	{ "logout", aiqctl_cmd_logout, N_("End the session with the server") },
	{ "apply", aiqctl_cmd_apply, N_("Create or update workflows on the server from files") },
	{ "workflows", aiqctl_cmd_workflows, N_("List, show, diff, roll back, enable, delete") },
	{ "run", aiqctl_cmd_run, N_("Start a workflow on the server, and wait for it") },
	{ "executions", aiqctl_cmd_executions, N_("List, show, cancel, retry executions") },
	{ "agents", aiqctl_cmd_agents, N_("List the agents") },
	{ "enrollment-tokens",
	  aiqctl_cmd_enrollment_tokens,
	  N_("Make tokens to enroll agents with") },
	{ "usage", aiqctl_cmd_usage, N_("Show the tenant's quotas and what is used of them") },
	{ "audit", aiqctl_cmd_audit, N_("List the audit log: who changed what, and when") },
};

static void
aiqctl_usage(FILE *out)
{
	fprintf(out, "%s\n\n", _("Usage: aiqctl COMMAND [OPTION…]"));
	fprintf(out, "%s\n", _("Commands:"));
	for (guint i = 0; i < G_N_ELEMENTS(aiqctl_commands); i++)
		fprintf(out,
			"  %-18s %s\n",
			aiqctl_commands[i].name,
			_(aiqctl_commands[i].summary));
	fprintf(out, "\n%s\n", _("Run “aiqctl COMMAND --help” for a command's options."));
}

gint
aiqctl_main(gint argc, gchar **argv)
{
	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	if (argc < 2) {
		aiqctl_usage(stderr);
		return AIQCTL_EXIT_USAGE;
	}
	if (g_strcmp0(argv[1], "--help") == 0 || g_strcmp0(argv[1], "-h") == 0 ||
	    g_strcmp0(argv[1], "help") == 0) {
		aiqctl_usage(stdout);
		return AIQCTL_EXIT_OK;
	}
	if (g_strcmp0(argv[1], "--version") == 0 || g_strcmp0(argv[1], "version") == 0) {
		g_print("aiqctl %s\n", PACKAGE_VERSION);
		return AIQCTL_EXIT_OK;
	}
	for (guint i = 0; i < G_N_ELEMENTS(aiqctl_commands); i++) {
		if (g_strcmp0(argv[1], aiqctl_commands[i].name) == 0) {
			g_autofree gchar *prgname = g_strdup_printf("aiqctl %s", argv[1]);
			g_set_prgname(prgname);
			return aiqctl_commands[i].func(argc - 1, argv + 1);
		}
	}
	g_printerr(_("aiqctl: unknown command “%s”\n"), argv[1]);
	aiqctl_usage(stderr);
	return AIQCTL_EXIT_USAGE;
}
