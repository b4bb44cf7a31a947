/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <errno.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-step-run.h"
#include "aiq-template.h"

/*
 * The `shell` step kind runs one program (`command`, an argv list, no shell)
 * or one script (`script`, written to a private temporary file and given to
 * `interpreter`), asynchronously on the main context: g_spawn() with
 * G_SPAWN_DO_NOT_REAP_CHILD, non-blocking pipes read and written with
 * pollable streams, and a child watch that reaps the child, so no thread
 * ever blocks on it. (Not GSubprocess: it reaps the child on its own, so its
 * pid, which names the process group, may already be gone when asked for.)
 *
 * Process lifetime: the child starts its own process group. The step ends
 * the whole group with SIGTERM, then SIGKILL after a grace period, when
 *  - the attempt is cancelled or times out, and
 *  - the main process has exited: background processes it left behind in
 *    its group are ended with it, so a step never leaves anything running.
 *    A command that really means to outlive the step must start its own
 *    session (`setsid`) and redirect its output.
 * Once the main process has exited, output still held open by a process
 * outside the group is read for at most AIQ_SHELL_DRAIN_MS.
 */

/* bytes read from a pipe at a time */
#define AIQ_SHELL_READ_CHUNK (64 * 1024)
/* between SIGTERM and SIGKILL */
#define AIQ_SHELL_KILL_GRACE_MS 2000
/* how long output pipes may stay open once the main process has exited */
#define AIQ_SHELL_DRAIN_MS (AIQ_SHELL_KILL_GRACE_MS + 1000)
/* kept past max_output so that a secret cut by the cap is still masked */
#define AIQ_SHELL_MASK_SLACK (64 * 1024)
/* the largest max_output a step may ask for */
#define AIQ_SHELL_MAX_OUTPUT_LIMIT (64 * 1024 * 1024)
/* the environment variables a child inherits from the agent */
static const gchar *const aiq_shell_inherited_env[] = { "PATH", "HOME", "LANG", "TZ", NULL };
#define AIQ_SHELL_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static const AiqParam aiq_shell_params[] = {
	{ "command",
	  AIQ_PARAM_STRING_LIST,
	  FALSE,
	  NULL,
	  N_("The program and its arguments, run directly without a shell; the program is "
	     "looked up in PATH. Use either command or script."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "script",
	  AIQ_PARAM_TEXT,
	  FALSE,
	  NULL,
	  N_("A script body, written to a private temporary file and run with the interpreter. "
	     "Use either command or script."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "interpreter",
	  AIQ_PARAM_STRING_LIST,
	  FALSE,
	  "[\"/bin/sh\", \"-e\"]",
	  N_("The program and arguments that run script; the script file is added as the last "
	     "argument."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "env",
	  AIQ_PARAM_STRING_MAP,
	  FALSE,
	  NULL,
	  N_("Environment variables for the process, added to PATH, HOME, LANG and TZ, the only "
	     "ones inherited from the agent."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "cwd",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("The working directory; it must exist."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "stdin",
	  AIQ_PARAM_TEXT,
	  FALSE,
	  NULL,
	  N_("Text written to the standard input of the process."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "max_output",
	  AIQ_PARAM_INTEGER,
	  FALSE,
	  "1048576",
	  N_("Bytes kept of each of stdout and stderr, at most 64 MiB; the rest is read and "
	     "dropped, and stdout_truncated or stderr_truncated is set."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "success_codes",
	  AIQ_PARAM_ARRAY,
	  FALSE,
	  "[0]",
	  N_("The exit codes that mean success; any other fails the step."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ NULL }
};

/* validation: cross-parameter checks on literal values */

static gboolean
aiq_shell_node_is_set(JsonObject *with, const gchar *name)
{
	JsonNode *node = json_object_get_member(with, name);
	return node != NULL && !JSON_NODE_HOLDS_NULL(node);
}

static gboolean
aiq_shell_node_is_expression(JsonNode *node)
{
	return aiq_json_is_string(node) &&
	       aiq_template_string_has_expressions(json_node_get_string(node));
}

static gboolean
aiq_shell_env_name_is_valid(const gchar *name)
{
	return name[0] != '\0' && strchr(name, '=') == NULL;
}

/* an exit code as given: an integer, or a string of digits once rendered */
static gboolean
aiq_shell_parse_exit_code(JsonNode *node, gint *code)
{
	gint64 value;
	if (aiq_json_is_integer(node)) {
		value = json_node_get_int(node);
	} else if (aiq_json_is_string(node)) {
		guint64 tmp = 0;
		if (!g_ascii_string_to_unsigned(json_node_get_string(node), 10, 0, 255, &tmp, NULL))
			return FALSE;
		value = (gint64)tmp;
	} else {
		return FALSE;
	}
	if (value < 0 || value > 255)
		return FALSE;
	*code = (gint)value;
	return TRUE;
}

static void
aiq_shell_validate(JsonObject *with, const gchar *path, AiqProblems *problems)
{
	gboolean has_command = aiq_shell_node_is_set(with, "command");
	gboolean has_script = aiq_shell_node_is_set(with, "script");
	JsonNode *node;

	if (has_command && has_script) {
		g_autofree gchar *member_path = aiq_path_member(path, "script");
		aiq_problems_add(problems,
				 member_path,
				 _("use either “command” or “script”, not both"));
	} else if (!has_command && !has_script) {
		aiq_problems_add(problems, path, _("either “command” or “script” is required"));
	}
	if (!has_script && aiq_shell_node_is_set(with, "interpreter")) {
		g_autofree gchar *member_path = aiq_path_member(path, "interpreter");
		aiq_problems_add(problems,
				 member_path,
				 _("“interpreter” is only used with “script”"));
	}

	node = json_object_get_member(with, "command");
	if (node != NULL && JSON_NODE_HOLDS_ARRAY(node) &&
	    json_array_get_length(json_node_get_array(node)) == 0) {
		g_autofree gchar *member_path = aiq_path_member(path, "command");
		aiq_problems_add(problems, member_path, _("the command must name a program"));
	}
	/* a common slip: `command: "ls -l"` names a program called "ls -l" */
	if (aiq_json_is_string(node) && !aiq_shell_node_is_expression(node) &&
	    strpbrk(json_node_get_string(node), " \t") != NULL) {
		g_autofree gchar *member_path = aiq_path_member(path, "command");
		aiq_problems_add(problems,
				 member_path,
				 _("the command runs without a shell: give the program and its "
				   "arguments as a list, e.g. [\"ls\", \"-l\"], or use “script”"));
	}
	node = json_object_get_member(with, "interpreter");
	if (node != NULL && JSON_NODE_HOLDS_ARRAY(node) &&
	    json_array_get_length(json_node_get_array(node)) == 0) {
		g_autofree gchar *member_path = aiq_path_member(path, "interpreter");
		aiq_problems_add(problems, member_path, _("the interpreter must name a program"));
	}

	node = json_object_get_member(with, "max_output");
	if (aiq_json_is_integer(node) &&
	    (json_node_get_int(node) < 0 || json_node_get_int(node) > AIQ_SHELL_MAX_OUTPUT_LIMIT)) {
		g_autofree gchar *member_path = aiq_path_member(path, "max_output");
		aiq_problems_add(problems,
				 member_path,
				 _("must be between 0 and %d bytes"),
				 AIQ_SHELL_MAX_OUTPUT_LIMIT);
	}

	node = json_object_get_member(with, "success_codes");
	if (node != NULL && JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		g_autofree gchar *member_path = aiq_path_member(path, "success_codes");
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *elem = json_array_get_element(array, i);
			gint code = 0;
			if (aiq_shell_node_is_expression(elem))
				continue;
			if (!aiq_shell_parse_exit_code(elem, &code)) {
				g_autofree gchar *elem_path = aiq_path_index(member_path, i);
				aiq_problems_add(problems,
						 elem_path,
						 _("an exit code is a whole number from 0 to 255"));
			}
		}
	}

	node = json_object_get_member(with, "env");
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		g_autofree gchar *member_path = aiq_path_member(path, "env");
		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &key, &value)) {
			if (!aiq_shell_env_name_is_valid(key)) {
				aiq_problems_add(problems,
						 member_path,
						 _("“%s” is not a valid environment variable name"),
						 key);
			}
		}
	}
}

/* the running process */

typedef struct _AiqShellJob AiqShellJob;

typedef struct {
	AiqShellJob *job;
	GInputStream *stream;
	GByteArray *data; /* at most max_output + AIQ_SHELL_MASK_SLACK bytes */
	guint64 total;    /* every byte read */
	gboolean done;
	guint8 buf[AIQ_SHELL_READ_CHUNK];
} AiqShellStream;

struct _AiqShellJob {
	gint ref_count;
	AiqStepRun *run;
	GMainContext *context;
	GSource *child_watch;
	GPid pgid;
	GCancellable *cancellable; /* the run's: timeout and cancel */
	gulong cancelled_id;
	GCancellable *io_cancellable; /* ours: stops reading and writing */
	GSource *drain_source;
	gchar *script_path;
	GBytes *stdin_bytes;
	gsize max_output;
	GArray *success_codes;
	AiqShellStream out;
	AiqShellStream err;
	gboolean exited;
	gboolean returned;
	gint exit_code;
	gint term_sig;
};

static AiqShellJob *
aiq_shell_job_ref(AiqShellJob *job)
{
	g_assert(job->ref_count > 0);
	job->ref_count++;
	return job;
}

static void
aiq_shell_remove_script(AiqShellJob *job)
{
	if (job->script_path == NULL)
		return;
	if (g_unlink(job->script_path) != 0 && errno != ENOENT)
		g_warning("failed to remove %s: %s", job->script_path, g_strerror(errno));
	g_clear_pointer(&job->script_path, g_free);
}

static void
aiq_shell_job_unref(AiqShellJob *job)
{
	g_assert(job->ref_count > 0);
	if (--job->ref_count > 0)
		return;
	/* never called from the cancelled handler itself: it holds no reference */
	if (job->cancelled_id != 0)
		g_cancellable_disconnect(job->cancellable, job->cancelled_id);
	if (job->drain_source != NULL) {
		g_source_destroy(job->drain_source);
		g_source_unref(job->drain_source);
	}
	aiq_shell_remove_script(job);
	g_clear_object(&job->out.stream);
	g_clear_object(&job->err.stream);
	g_byte_array_unref(job->out.data);
	g_byte_array_unref(job->err.data);
	/* the child watch holds a reference until the child is reaped */
	g_assert(job->child_watch == NULL);
	g_clear_object(&job->cancellable);
	g_clear_object(&job->io_cancellable);
	g_clear_pointer(&job->stdin_bytes, g_bytes_unref);
	g_clear_pointer(&job->success_codes, g_array_unref);
	g_main_context_unref(job->context);
	g_object_unref(job->run);
	g_free(job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqShellJob, aiq_shell_job_unref)

static gboolean
aiq_shell_kill_group_hard_cb(gpointer user_data)
{
	GPid pgid = GPOINTER_TO_INT(user_data);
	/* still anyone in the group after the grace period? */
	if (kill(-pgid, 0) == 0)
		kill(-pgid, SIGKILL);
	return G_SOURCE_REMOVE;
}

/*
 * Ends every process of the group: SIGTERM now, SIGKILL after the grace
 * period for whatever is left. Safe from any thread.
 */
static void
aiq_shell_kill_group(GPid pgid, GMainContext *context)
{
	g_autoptr(GSource) source = NULL;
	g_assert(pgid > 1);
	if (kill(-pgid, SIGTERM) != 0)
		return; /* nobody left */
	/* a stopped process only acts on SIGTERM once continued */
	kill(-pgid, SIGCONT);
	source = g_timeout_source_new(AIQ_SHELL_KILL_GRACE_MS);
	g_source_set_callback(source, aiq_shell_kill_group_hard_cb, GINT_TO_POINTER(pgid), NULL);
	g_source_attach(source, context);
}

static void
aiq_shell_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	AiqShellJob *job = user_data;
	/* may run in another thread; the run has already finished itself */
	if (!g_atomic_int_get(&job->exited))
		aiq_shell_kill_group(job->pgid, job->context);
}

/* the text of one stream: valid UTF-8, secrets masked, at most max_output bytes */
static gchar *
aiq_shell_stream_to_text(AiqShellStream *stream,
			 gsize max_output,
			 AiqSecrets *secrets,
			 gboolean *truncated)
{
	g_autofree gchar *valid = NULL;
	g_autofree gchar *masked = NULL;
	gsize len;

	*truncated = stream->total > max_output;
	if (stream->data->len == 0)
		return g_strdup("");
	valid = g_utf8_make_valid((const gchar *)stream->data->data, stream->data->len);
	masked = aiq_secrets_mask_string(secrets, valid);
	len = strlen(masked);
	if (len > max_output) {
		gsize cut = max_output;
		/* do not split a character */
		while (cut > 0 && (masked[cut] & 0xC0) == 0x80)
			cut--;
		masked[cut] = '\0';
		*truncated = TRUE;
	}
	return g_steal_pointer(&masked);
}

static void
aiq_shell_job_maybe_return(AiqShellJob *job)
{
	g_autoptr(JsonBuilder) builder = NULL;
	g_autoptr(JsonNode) output = NULL;
	g_autofree gchar *out_text = NULL;
	g_autofree gchar *err_text = NULL;
	AiqSecrets *secrets = aiq_step_run_get_secrets(job->run);
	gboolean out_truncated = FALSE;
	gboolean err_truncated = FALSE;
	gboolean success = FALSE;

	if (job->returned || !job->exited || !job->out.done || !job->err.done)
		return;
	job->returned = TRUE;

	/* stop writing stdin to a process that is gone */
	g_cancellable_cancel(job->io_cancellable);
	if (job->drain_source != NULL) {
		g_source_destroy(job->drain_source);
		g_clear_pointer(&job->drain_source, g_source_unref);
	}
	/* a timeout or cancel has already finished the attempt */
	if (aiq_step_run_is_finished(job->run))
		return;

	out_text = aiq_shell_stream_to_text(&job->out, job->max_output, secrets, &out_truncated);
	err_text = aiq_shell_stream_to_text(&job->err, job->max_output, secrets, &err_truncated);

	builder = json_builder_new();
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "exit_code");
	json_builder_add_int_value(builder, job->exit_code);
	json_builder_set_member_name(builder, "stdout");
	json_builder_add_string_value(builder, out_text);
	json_builder_set_member_name(builder, "stderr");
	json_builder_add_string_value(builder, err_text);
	json_builder_set_member_name(builder, "stdout_truncated");
	json_builder_add_boolean_value(builder, out_truncated);
	json_builder_set_member_name(builder, "stderr_truncated");
	json_builder_add_boolean_value(builder, err_truncated);
	if (job->term_sig != 0) {
		json_builder_set_member_name(builder, "signal");
		json_builder_add_int_value(builder, job->term_sig);
	}
	json_builder_end_object(builder);
	output = json_builder_get_root(builder);

	for (guint i = 0; i < job->success_codes->len; i++) {
		if (g_array_index(job->success_codes, gint, i) == job->exit_code) {
			success = TRUE;
			break;
		}
	}
	if (success) {
		aiq_step_run_return_value(job->run, g_steal_pointer(&output));
	} else if (job->term_sig != 0) {
		aiq_step_run_return_error_with_output(
			job->run,
			g_error_new(AIQ_ERROR,
				    AIQ_ERROR_STEP_FAILED,
				    _("command was killed by signal %d (%s)"),
				    job->term_sig,
				    g_strsignal(job->term_sig)),
			g_steal_pointer(&output));
	} else {
		aiq_step_run_return_error_with_output(job->run,
						      g_error_new(AIQ_ERROR,
								  AIQ_ERROR_STEP_FAILED,
								  _("command exited with code %d"),
								  job->exit_code),
						      g_steal_pointer(&output));
	}
}

static void
aiq_shell_stream_read_next(AiqShellStream *stream);

static void
aiq_shell_stream_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AiqShellStream *stream = user_data;
	g_autoptr(AiqShellJob) job = stream->job; /* the reference taken by the read */
	g_autoptr(GError) error = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);

	if (n <= 0) {
		/* end of file, or the drain period is over */
		if (n < 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_debug("reading the output of process %d: %s", job->pgid, error->message);
		stream->done = TRUE;
		aiq_shell_job_maybe_return(job);
		return;
	}
	stream->total += (guint64)n;
	/* keep up to the cap (and some slack for masking); read and drop the rest */
	if (stream->data->len < job->max_output + AIQ_SHELL_MASK_SLACK) {
		gsize room = job->max_output + AIQ_SHELL_MASK_SLACK - stream->data->len;
		g_byte_array_append(stream->data, stream->buf, (guint)MIN((gsize)n, room));
	}
	aiq_shell_stream_read_next(stream);
}

static void
aiq_shell_stream_read_next(AiqShellStream *stream)
{
	AiqShellJob *job = stream->job;
	g_input_stream_read_async(stream->stream,
				  stream->buf,
				  sizeof(stream->buf),
				  G_PRIORITY_DEFAULT,
				  job->io_cancellable,
				  aiq_shell_stream_read_cb,
				  stream);
	aiq_shell_job_ref(job);
}

static void
aiq_shell_stdin_closed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	/* drops the reference taken for the close */
	g_output_stream_close_finish(G_OUTPUT_STREAM(source), res, NULL);
	aiq_shell_job_unref(user_data);
}

static void
aiq_shell_stdin_written_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqShellJob) job = user_data;
	g_autoptr(GError) error = NULL;

	/* a process that exits without reading all of stdin is not an error */
	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error))
		g_debug("writing the input of process %d: %s", job->pgid, error->message);
	g_output_stream_close_async(G_OUTPUT_STREAM(source),
				    G_PRIORITY_DEFAULT,
				    NULL,
				    aiq_shell_stdin_closed_cb,
				    aiq_shell_job_ref(job));
}

static gboolean
aiq_shell_drain_timeout_cb(gpointer user_data)
{
	AiqShellJob *job = user_data;
	g_clear_pointer(&job->drain_source, g_source_unref);
	/* a process outside the group holds a pipe open: stop reading */
	g_cancellable_cancel(job->io_cancellable);
	return G_SOURCE_REMOVE;
}

static void
aiq_shell_child_exited_cb(GPid pid, gint wait_status, gpointer user_data)
{
	AiqShellJob *job = user_data; /* the watch's reference is dropped after */
	gboolean running;

	g_clear_pointer(&job->child_watch, g_source_unref);
	/* after a timeout or cancel the attempt is over: its log too */
	running = !aiq_step_run_is_finished(job->run);
	if (WIFSIGNALED(wait_status)) {
		job->term_sig = WTERMSIG(wait_status);
		job->exit_code = 128 + job->term_sig; /* as shells report it */
		if (running)
			aiq_step_run_log(job->run,
					 "process %d was killed by signal %d",
					 job->pgid,
					 job->term_sig);
	} else {
		job->exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 255;
		if (running)
			aiq_step_run_log(job->run,
					 "process %d exited with code %d",
					 job->pgid,
					 job->exit_code);
	}
	g_spawn_close_pid(pid);
	g_atomic_int_set(&job->exited, TRUE);
	aiq_shell_remove_script(job);

	/* end what the process left behind in its group (only now that the
	 * leader is reaped could its pid, the group's id, be reused) */
	if (kill(-job->pgid, 0) == 0) {
		if (running)
			aiq_step_run_log(job->run,
					 "ending the processes left in group %d",
					 job->pgid);
		aiq_shell_kill_group(job->pgid, job->context);
	}
	if (!job->out.done || !job->err.done) {
		job->drain_source = g_timeout_source_new(AIQ_SHELL_DRAIN_MS);
		g_source_set_callback(job->drain_source, aiq_shell_drain_timeout_cb, job, NULL);
		g_source_attach(job->drain_source, job->context);
	}
	aiq_shell_job_maybe_return(job);
}

/* runs in the child between fork and exec: async-signal-safe calls only */
static void
aiq_shell_child_setup(gpointer user_data)
{
	sigset_t mask;
	/* a group of its own, so that it can be ended as a whole */
	setpgid(0, 0);
	/* undo what the agent changed: SIGPIPE is ignored in here */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&mask);
	sigprocmask(SIG_SETMASK, &mask, NULL);
}

/*
 * Writing stdin to a process that has exited must give EPIPE, not kill the
 * agent. GIO ignores SIGPIPE as soon as it uses a socket, which the agent
 * always does; do the same here for when it has not yet. The child gets the
 * default action back in aiq_shell_child_setup().
 */
static void
aiq_shell_ensure_sigpipe_ignored(void)
{
	static gsize once = 0;
	if (g_once_init_enter(&once)) {
		struct sigaction action;
		if (sigaction(SIGPIPE, NULL, &action) == 0 && action.sa_handler == SIG_DFL)
			signal(SIGPIPE, SIG_IGN);
		g_once_init_leave(&once, 1);
	}
}

static gchar **
aiq_shell_build_environ(AiqStepRun *run, GError **error)
{
	g_auto(GStrv) envp = NULL;
	JsonObject *env = aiq_step_run_get_object(run, "env");

	for (guint i = 0; aiq_shell_inherited_env[i] != NULL; i++) {
		const gchar *value = g_getenv(aiq_shell_inherited_env[i]);
		if (value == NULL && g_strcmp0(aiq_shell_inherited_env[i], "PATH") == 0)
			value = AIQ_SHELL_DEFAULT_PATH;
		if (value != NULL)
			envp = g_environ_setenv(envp, aiq_shell_inherited_env[i], value, TRUE);
	}
	if (env != NULL) {
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		json_object_iter_init_ordered(&iter, env);
		while (json_object_iter_next_ordered(&iter, &key, &value)) {
			if (!aiq_shell_env_name_is_valid(key)) {
				g_set_error(
					error,
					AIQ_ERROR,
					AIQ_ERROR_INVALID_ARGUMENT,
					_("with.env: “%s” is not a valid environment variable name"),
					key);
				return NULL;
			}
			if (!aiq_json_is_string(value)) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("with.env: “%s” must be a string"),
					    key);
				return NULL;
			}
			envp = g_environ_setenv(envp, key, json_node_get_string(value), TRUE);
		}
	}
	if (envp == NULL)
		envp = g_new0(gchar *, 1);
	return g_steal_pointer(&envp);
}

static GArray *
aiq_shell_get_success_codes(AiqStepRun *run, GError **error)
{
	g_autoptr(GArray) codes = g_array_new(FALSE, FALSE, sizeof(gint));
	JsonArray *array = aiq_json_object_get_array(aiq_step_run_get_params(run), "success_codes");

	if (array == NULL) {
		gint zero = 0;
		g_array_append_val(codes, zero);
		return g_steal_pointer(&codes);
	}
	for (guint i = 0; i < json_array_get_length(array); i++) {
		gint code = 0;
		if (!aiq_shell_parse_exit_code(json_array_get_element(array, i), &code)) {
			g_set_error(
				error,
				AIQ_ERROR,
				AIQ_ERROR_INVALID_ARGUMENT,
				_("with.success_codes[%u]: an exit code is a whole number from 0 to 255"),
				i);
			return NULL;
		}
		g_array_append_val(codes, code);
	}
	return g_steal_pointer(&codes);
}

/* writes the script to a private file (mode 0600) */
static gchar *
aiq_shell_write_script(const gchar *script, GError **error)
{
	g_autofree gchar *path = NULL;
	gsize len = strlen(script);
	gsize done = 0;
	gint fd = g_file_open_tmp("aiq-script-XXXXXX", &path, error);

	if (fd < 0) {
		g_prefix_error(error, _("could not write the script: "));
		return NULL;
	}
	while (done < len) {
		gssize n = write(fd, script + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			gint errsv = errno;
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("could not write the script: %s"),
				    g_strerror(errsv));
			close(fd);
			g_unlink(path);
			return NULL;
		}
		done += (gsize)n;
	}
	if (!g_close(fd, error)) {
		g_prefix_error(error, _("could not write the script: "));
		g_unlink(path);
		return NULL;
	}
	return g_steal_pointer(&path);
}

/* a command line for the log: arguments quoted only where a shell needs it */
static gchar *
aiq_shell_argv_to_string(gchar **argv)
{
	GString *str = g_string_new(NULL);
	for (guint i = 0; argv[i] != NULL; i++) {
		const gchar *arg = argv[i];
		gboolean plain = arg[0] != '\0';
		if (i > 0)
			g_string_append_c(str, ' ');
		for (const gchar *p = arg; *p != '\0' && plain; p++) {
			if (!g_ascii_isalnum(*p) && strchr("_-./:=@%+,", *p) == NULL)
				plain = FALSE;
		}
		if (plain) {
			g_string_append(str, arg);
		} else {
			g_autofree gchar *quoted = g_shell_quote(arg);
			g_string_append(str, quoted);
		}
	}
	return g_string_free(str, FALSE);
}

static void
aiq_shell_set_nonblocking(gint fd)
{
	g_autoptr(GError) error = NULL;
	if (!g_unix_set_fd_nonblocking(fd, TRUE, &error))
		g_warning("failed to make a pipe non-blocking: %s", error->message);
}

static void
aiq_shell_return_error_literal(AiqStepRun *run, AiqError code, const gchar *message)
{
	aiq_step_run_return_error(run, g_error_new_literal(AIQ_ERROR, code, message));
}

static void
aiq_shell_run(AiqStepRun *run)
{
	JsonObject *params = aiq_step_run_get_params(run);
	g_auto(GStrv) argv = NULL;
	g_auto(GStrv) envp = NULL;
	g_autofree gchar *script_path = NULL;
	g_autofree gchar *cmdline = NULL;
	g_autoptr(GArray) success_codes = NULL;
	GPid pid = 0;
	gint stdin_fd = -1;
	gint stdout_fd = -1;
	gint stderr_fd = -1;
	g_autoptr(AiqShellJob) job = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *script = aiq_step_run_get_string(run, "script");
	const gchar *cwd = aiq_step_run_get_string(run, "cwd");
	const gchar *stdin_text = aiq_step_run_get_string(run, "stdin");
	gboolean has_command = json_object_has_member(params, "command");
	gint64 max_output = aiq_json_object_get_int(params, "max_output", 1024 * 1024);
	g_autoptr(GOutputStream) stdin_pipe = NULL;

	/* what validation checked for literal values, checked again once rendered */
	if (has_command && script != NULL) {
		aiq_shell_return_error_literal(run,
					       AIQ_ERROR_INVALID_ARGUMENT,
					       _("use either “command” or “script”, not both"));
		return;
	}
	if (!has_command && script == NULL) {
		aiq_shell_return_error_literal(run,
					       AIQ_ERROR_INVALID_ARGUMENT,
					       _("either “command” or “script” is required"));
		return;
	}
	if (max_output < 0 || max_output > AIQ_SHELL_MAX_OUTPUT_LIMIT) {
		aiq_step_run_return_error(
			run,
			g_error_new(AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with.max_output: must be between 0 and %d bytes"),
				    AIQ_SHELL_MAX_OUTPUT_LIMIT));
		return;
	}
	success_codes = aiq_shell_get_success_codes(run, &error);
	if (success_codes == NULL) {
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}
	envp = aiq_shell_build_environ(run, &error);
	if (envp == NULL) {
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}
	if (cwd != NULL && !g_file_test(cwd, G_FILE_TEST_IS_DIR)) {
		aiq_step_run_return_error(
			run,
			g_error_new(
				AIQ_ERROR,
				AIQ_ERROR_NOT_FOUND,
				_("the working directory “%s” does not exist or is not a directory"),
				cwd));
		return;
	}

	if (has_command) {
		argv = aiq_step_run_get_strv(run, "command");
		if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
			aiq_shell_return_error_literal(
				run,
				AIQ_ERROR_INVALID_ARGUMENT,
				_("with.command: the command must name a program"));
			return;
		}
		cmdline = aiq_shell_argv_to_string(argv);
		aiq_step_run_log(run, "running %s", cmdline);
	} else {
		g_auto(GStrv) interpreter = aiq_step_run_get_strv(run, "interpreter");
		g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
		if (interpreter == NULL || interpreter[0] == NULL || interpreter[0][0] == '\0') {
			aiq_shell_return_error_literal(
				run,
				AIQ_ERROR_INVALID_ARGUMENT,
				_("with.interpreter: the interpreter must name a program"));
			return;
		}
		script_path = aiq_shell_write_script(script, &error);
		if (script_path == NULL) {
			aiq_step_run_return_error(run, g_steal_pointer(&error));
			return;
		}
		g_strv_builder_addv(builder, (const gchar **)interpreter);
		g_strv_builder_add(builder, script_path);
		argv = g_strv_builder_end(builder);
		cmdline = aiq_shell_argv_to_string(interpreter);
		aiq_step_run_log(run,
				 "running a script of %zu bytes with %s",
				 strlen(script),
				 cmdline);
	}

	aiq_shell_ensure_sigpipe_ignored();
	/* with a child setup function GLib forks and waits for the exec, so the
	 * child is in its own group by the time this returns */
	if (!g_spawn_async_with_pipes_and_fds(cwd,
					      (const gchar *const *)argv,
					      (const gchar *const *)envp,
					      G_SPAWN_DO_NOT_REAP_CHILD |
						      G_SPAWN_SEARCH_PATH_FROM_ENVP |
						      G_SPAWN_CLOEXEC_PIPES,
					      aiq_shell_child_setup,
					      NULL,
					      -1,
					      -1,
					      -1,
					      NULL,
					      NULL,
					      0,
					      &pid,
					      &stdin_fd,
					      &stdout_fd,
					      &stderr_fd,
					      &error)) {
		if (script_path != NULL)
			g_unlink(script_path);
		if (g_error_matches(error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT)) {
			aiq_step_run_return_error(
				run,
				g_error_new(
					AIQ_ERROR,
					AIQ_ERROR_NOT_FOUND,
					_("could not start “%s”: no such program in PATH (%s)%s"),
					argv[0],
					g_environ_getenv(envp, "PATH"),
					strchr(argv[0], ' ') != NULL
						? _("; the command runs without a shell, so give its "
						    "arguments as separate list items")
						: ""));
		} else {
			aiq_step_run_return_error(run,
						  g_error_new(AIQ_ERROR,
							      AIQ_ERROR_FAILED,
							      _("could not start “%s”: %s"),
							      argv[0],
							      error->message));
		}
		return;
	}

	/* our ends of the pipes must not block: a big write to stdin would stop
	 * the main context (and the child, with nobody reading its output) */
	aiq_shell_set_nonblocking(stdin_fd);
	aiq_shell_set_nonblocking(stdout_fd);
	aiq_shell_set_nonblocking(stderr_fd);
	stdin_pipe = g_unix_output_stream_new(stdin_fd, TRUE);

	job = g_new0(AiqShellJob, 1);
	job->ref_count = 1;
	job->run = g_object_ref(run);
	job->context = g_main_context_ref_thread_default();
	job->pgid = pid;
	job->cancellable = g_object_ref(aiq_step_run_get_cancellable(run));
	job->io_cancellable = g_cancellable_new();
	job->script_path = g_steal_pointer(&script_path);
	job->max_output = (gsize)max_output;
	job->success_codes = g_steal_pointer(&success_codes);
	job->out.job = job;
	job->out.stream = g_unix_input_stream_new(stdout_fd, TRUE);
	job->out.data = g_byte_array_new();
	job->err.job = job;
	job->err.stream = g_unix_input_stream_new(stderr_fd, TRUE);
	job->err.data = g_byte_array_new();
	aiq_step_run_log(run, "started process %d", job->pgid);

	/* reap the child and collect its status */
	job->child_watch = g_child_watch_source_new(pid);
	g_source_set_callback(job->child_watch,
			      G_SOURCE_FUNC(aiq_shell_child_exited_cb),
			      aiq_shell_job_ref(job),
			      (GDestroyNotify)aiq_shell_job_unref);
	g_source_attach(job->child_watch, job->context);

	/* both pipes at once, so that neither can fill up and block the child */
	aiq_shell_stream_read_next(&job->out);
	aiq_shell_stream_read_next(&job->err);

	if (stdin_text != NULL && stdin_text[0] != '\0') {
		job->stdin_bytes = g_bytes_new(stdin_text, strlen(stdin_text));
		g_output_stream_write_all_async(stdin_pipe,
						g_bytes_get_data(job->stdin_bytes, NULL),
						g_bytes_get_size(job->stdin_bytes),
						G_PRIORITY_DEFAULT,
						job->io_cancellable,
						aiq_shell_stdin_written_cb,
						aiq_shell_job_ref(job));
	} else {
		g_output_stream_close_async(stdin_pipe,
					    G_PRIORITY_DEFAULT,
					    NULL,
					    aiq_shell_stdin_closed_cb,
					    aiq_shell_job_ref(job));
	}

	/* last: this calls back at once when the run is already cancelled */
	job->cancelled_id = g_cancellable_connect(job->cancellable,
						  G_CALLBACK(aiq_shell_cancelled_cb),
						  job,
						  NULL);
}

const AiqStepKind aiq_step_kind_shell = {
	.name = "shell",
	.title = N_("Run a command"),
	.description = N_("Runs a program or a script on the agent's host and records its exit "
			  "code and output."),
	.icon_name = "utilities-terminal-symbolic",
	.params = aiq_shell_params,
	.flags = AIQ_STEP_KIND_FLAG_HOST_ACCESS,
	.validate = aiq_shell_validate,
	.run = aiq_shell_run,
};
