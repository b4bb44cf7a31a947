/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-problems.h"
#include "aiq-secrets.h"
#include "aiq-step-kind.h"
#include "aiq-step-run.h"

#define TEST_CANARY_NAME "AIQ_TEST_CANARY"
#define TEST_CANARY_VALUE "agent-environment-must-not-leak"

typedef struct {
	gboolean done;
	JsonNode *output;
	GError *error;
} TestResult;

static void
test_result_clear(TestResult *result)
{
	g_clear_pointer(&result->output, json_node_unref);
	g_clear_error(&result->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TestResult, test_result_clear)

static void
test_set_strv(JsonObject *with, const gchar *name, ...)
{
	JsonArray *array = json_array_new();
	va_list args;
	const gchar *value;
	va_start(args, name);
	while ((value = va_arg(args, const gchar *)) != NULL)
		json_array_add_string_element(array, value);
	va_end(args);
	json_object_set_array_member(with, name, array);
}

static AiqStepRun *
test_new_run(JsonObject *with)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) params =
		aiq_step_kind_resolve_params(&aiq_step_kind_shell, with, &error);
	g_assert_no_error(error);
	g_assert_nonnull(params);
	return aiq_step_run_new(&aiq_step_kind_shell, params, NULL);
}

static void
test_run_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	TestResult *result = user_data;
	result->output = aiq_step_run_run_finish(AIQ_STEP_RUN(source), res, &result->error);
	result->done = TRUE;
}

static void
test_run(AiqStepRun *run, GCancellable *cancellable, TestResult *result)
{
	aiq_step_run_run_async(run, cancellable, test_run_done_cb, result);
	while (!result->done)
		g_main_context_iteration(NULL, TRUE);
}

/*
 * Drops the run and waits until the kind has let go of it too: the process
 * has been reaped and its pipes closed. Bounded, so a leak fails the test.
 */
static void
test_run_free_and_drain(AiqStepRun *run)
{
	gpointer weak = run;
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	g_object_add_weak_pointer(G_OBJECT(run), &weak);
	g_object_unref(run);
	while (weak != NULL && g_get_monotonic_time() < deadline) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(5000);
	}
	g_assert_null(weak);
}

/* runs with @with and returns the run (for its log and output) */
static AiqStepRun *
test_run_with(JsonObject *with, TestResult *result)
{
	AiqStepRun *run = test_new_run(with);
	test_run(run, NULL, result);
	return run;
}

static const gchar *
test_get_string(JsonNode *output, const gchar *name)
{
	g_assert_nonnull(output);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(output));
	g_assert_true(json_object_has_member(json_node_get_object(output), name));
	return json_object_get_string_member(json_node_get_object(output), name);
}

static gint64
test_get_int(JsonNode *output, const gchar *name)
{
	g_assert_nonnull(output);
	g_assert_true(json_object_has_member(json_node_get_object(output), name));
	return json_object_get_int_member(json_node_get_object(output), name);
}

static gboolean
test_get_bool(JsonNode *output, const gchar *name)
{
	g_assert_nonnull(output);
	g_assert_true(json_object_has_member(json_node_get_object(output), name));
	return json_object_get_boolean_member(json_node_get_object(output), name);
}

/*
 * Whether @pid is gone within @timeout_ms, iterating the main context (the
 * SIGKILL escalation runs there). The test process is a child subreaper, so
 * an orphaned grandchild becomes its child and is reaped here.
 */
static gboolean
test_wait_for_pid_gone(GPid pid, gint64 timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;
	while (g_get_monotonic_time() < deadline) {
		gint status = 0;
		waitpid(pid, &status, WNOHANG);
		if (kill(pid, 0) != 0 && errno == ESRCH)
			return TRUE;
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(10000);
	}
	return FALSE;
}

static GPid
test_read_pid_file(const gchar *path)
{
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error = NULL;
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	/* written by a process that may still be starting up */
	while (!g_file_get_contents(path, &contents, NULL, &error)) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_clear_error(&error);
		g_usleep(10000);
	}
	return (GPid)g_ascii_strtoll(contents, NULL, 10);
}

static void
test_shell_argv(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	AiqStepRun *run;

	/* no shell: spaces and $ are passed through as they are */
	test_set_strv(with, "command", "printf", "%s|", "a b", "$HOME", "*", NULL);
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	g_assert_cmpstr(test_get_string(result.output, "stdout"), ==, "a b|$HOME|*|");
	g_assert_cmpstr(test_get_string(result.output, "stderr"), ==, "");
	g_assert_cmpint(test_get_int(result.output, "exit_code"), ==, 0);
	g_assert_false(test_get_bool(result.output, "stdout_truncated"));
	g_assert_false(test_get_bool(result.output, "stderr_truncated"));
	g_assert_false(json_object_has_member(json_node_get_object(result.output), "signal"));
	/* the command line is logged, quoted where needed */
	g_assert_nonnull(strstr(aiq_step_run_get_log(run), "running printf '%s|' 'a b' '$HOME'"));
	test_run_free_and_drain(run);
}

static void
test_shell_script(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	g_auto(GStrv) lines = NULL;
	AiqStepRun *run;

	/* the default interpreter, sh -e; the script is a private file, gone afterwards */
	json_object_set_string_member(with,
				      "script",
				      "echo one\n"
				      "echo two >&2\n"
				      "stat -c %a \"$0\"\n"
				      "echo \"$0\"\n");
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	lines = g_strsplit(test_get_string(result.output, "stdout"), "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 4);
	g_assert_cmpstr(lines[0], ==, "one");
	g_assert_cmpstr(lines[1], ==, "600");
	g_assert_true(g_path_is_absolute(lines[2]));
	g_assert_false(g_file_test(lines[2], G_FILE_TEST_EXISTS));
	g_assert_cmpstr(test_get_string(result.output, "stderr"), ==, "two\n");
	test_run_free_and_drain(run);
}

static void
test_shell_script_errexit(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	AiqStepRun *run;

	json_object_set_string_member(with, "script", "echo before\nfalse\necho after\n");
	run = test_run_with(with, &result);
	g_assert_error(result.error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	g_assert_cmpstr(result.error->message, ==, "command exited with code 1");
	g_assert_cmpstr(test_get_string(aiq_step_run_get_output(run), "stdout"), ==, "before\n");
	test_run_free_and_drain(run);
}

static void
test_shell_script_interpreter(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	g_autofree gchar *bash = g_find_program_in_path("bash");
	AiqStepRun *run;

	if (bash == NULL) {
		g_test_skip("bash is not installed");
		return;
	}
	/* looked up in PATH like a command; stdin stays free for the stdin parameter */
	test_set_strv(with, "interpreter", "bash", "-eu", NULL);
	json_object_set_string_member(
		with,
		"script",
		"if [[ 2 -gt 1 ]]; then echo \"bash ${BASH_VERSINFO[0]}\"; fi\n"
		"read -r line\n"
		"echo \"read: $line\"\n");
	json_object_set_string_member(with, "stdin", "from stdin\n");
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	g_assert_true(g_str_has_prefix(test_get_string(result.output, "stdout"), "bash "));
	g_assert_nonnull(strstr(test_get_string(result.output, "stdout"), "read: from stdin\n"));
	test_run_free_and_drain(run);
}

static void
test_shell_env(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_autoptr(JsonObject) env = json_object_new();
	g_auto(TestResult) result = { 0 };
	const gchar *out;
	AiqStepRun *run;

	g_assert_cmpstr(g_getenv(TEST_CANARY_NAME), ==, TEST_CANARY_VALUE);
	test_set_strv(with, "command", "env", NULL);
	json_object_set_string_member(env, "FOO", "bar baz");
	json_object_set_string_member(env, "LANG", "C");
	json_object_set_object_member(with, "env", g_steal_pointer(&env));
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	out = test_get_string(result.output, "stdout");
	g_assert_nonnull(strstr(out, "FOO=bar baz\n"));
	g_assert_nonnull(strstr(out, "PATH="));
	/* env overrides what is inherited */
	g_assert_nonnull(strstr(out, "LANG=C\n"));
	g_assert_null(strstr(out, "LANG=C.UTF-8"));
	/* nothing else of the agent's environment */
	g_assert_null(strstr(out, TEST_CANARY_NAME));
	g_assert_null(strstr(out, TEST_CANARY_VALUE));
	g_assert_null(strstr(out, "G_DEBUG="));
	test_run_free_and_drain(run);
}

static void
test_shell_cwd(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("aiq-shell-XXXXXX", &error);
	g_autofree gchar *real = NULL;
	g_autofree gchar *expected = NULL;
	g_autofree gchar *missing = NULL;
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	g_auto(TestResult) result2 = { 0 };
	AiqStepRun *run;

	g_assert_no_error(error);
	real = realpath(dir, NULL);
	g_assert_nonnull(real);
	expected = g_strconcat(real, "\n", NULL);
	test_set_strv(with, "command", "pwd", "-P", NULL);
	json_object_set_string_member(with, "cwd", dir);
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	g_assert_cmpstr(test_get_string(result.output, "stdout"), ==, expected);
	test_run_free_and_drain(run);

	/* a working directory that does not exist */
	missing = g_build_filename(dir, "missing", NULL);
	json_object_set_string_member(with, "cwd", missing);
	run = test_run_with(with, &result2);
	g_assert_error(result2.error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(result2.error->message, missing));
	test_run_free_and_drain(run);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_shell_stdin(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	AiqStepRun *run;

	test_set_strv(with, "command", "cat", NULL);
	json_object_set_string_member(with, "stdin", "abc\nxyz");
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	g_assert_cmpstr(test_get_string(result.output, "stdout"), ==, "abc\nxyz");
	test_run_free_and_drain(run);
}

static void
test_shell_stdin_large(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	g_autofree gchar *input = g_malloc(4 * 1024 * 1024 + 1);
	AiqStepRun *run;

	/* more than any pipe buffer, in and out at once: neither side may block */
	for (gsize i = 0; i < 4 * 1024 * 1024; i++)
		input[i] = (i % 64 == 63) ? '\n' : (gchar)('a' + i % 26);
	input[4 * 1024 * 1024] = '\0';
	test_set_strv(with, "command", "cat", NULL);
	json_object_set_string_member(with, "stdin", input);
	json_object_set_int_member(with, "max_output", 8 * 1024 * 1024);
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	g_assert_cmpstr(test_get_string(result.output, "stdout"), ==, input);
	test_run_free_and_drain(run);
}

static void
test_shell_stdin_unread(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	g_autofree gchar *input = g_strnfill(4 * 1024 * 1024, 'x');
	AiqStepRun *run;

	/* the child exits without reading: EPIPE, not SIGPIPE, and no error */
	test_set_strv(with, "command", "true", NULL);
	json_object_set_string_member(with, "stdin", input);
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	g_assert_cmpint(test_get_int(result.output, "exit_code"), ==, 0);
	test_run_free_and_drain(run);
}

static void
test_shell_output_cap(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	const gchar *out;
	AiqStepRun *run;

	/* 10 MiB on each stream: kept up to the cap, the rest read and dropped */
	json_object_set_string_member(with,
				      "script",
				      "yes | head -c 10485760\n"
				      "yes | head -c 10485760 >&2\n"
				      "echo done >&2\n");
	json_object_set_int_member(with, "max_output", 1024);
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	out = test_get_string(result.output, "stdout");
	g_assert_cmpuint(strlen(out), ==, 1024);
	g_assert_true(g_str_has_prefix(out, "y\ny\n"));
	g_assert_cmpuint(strlen(test_get_string(result.output, "stderr")), ==, 1024);
	g_assert_true(test_get_bool(result.output, "stdout_truncated"));
	g_assert_true(test_get_bool(result.output, "stderr_truncated"));
	g_assert_cmpint(test_get_int(result.output, "exit_code"), ==, 0);
	test_run_free_and_drain(run);
}

static void
test_shell_success_codes(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	JsonArray *codes = json_array_new();
	AiqStepRun *run;

	test_set_strv(with, "command", "sh", "-c", "exit 3", NULL);
	json_array_add_int_element(codes, 0);
	json_array_add_int_element(codes, 3);
	json_object_set_array_member(with, "success_codes", codes);
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	g_assert_cmpint(test_get_int(result.output, "exit_code"), ==, 3);
	test_run_free_and_drain(run);
}

static void
test_shell_exit_failure(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	JsonNode *output;
	AiqStepRun *run;

	test_set_strv(with, "command", "sh", "-c", "echo out; echo err >&2; exit 3", NULL);
	run = test_run_with(with, &result);
	g_assert_error(result.error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	g_assert_cmpstr(result.error->message, ==, "command exited with code 3");
	/* the output is kept with the error */
	output = aiq_step_run_get_output(run);
	g_assert_cmpint(test_get_int(output, "exit_code"), ==, 3);
	g_assert_cmpstr(test_get_string(output, "stdout"), ==, "out\n");
	g_assert_cmpstr(test_get_string(output, "stderr"), ==, "err\n");
	test_run_free_and_drain(run);
}

static void
test_shell_signal(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	JsonNode *output;
	AiqStepRun *run;

	test_set_strv(with, "command", "sh", "-c", "echo dying; kill -KILL $$", NULL);
	run = test_run_with(with, &result);
	g_assert_error(result.error, AIQ_ERROR, AIQ_ERROR_STEP_FAILED);
	g_assert_nonnull(strstr(result.error->message, "signal 9"));
	output = aiq_step_run_get_output(run);
	g_assert_cmpint(test_get_int(output, "signal"), ==, SIGKILL);
	g_assert_cmpint(test_get_int(output, "exit_code"), ==, 128 + SIGKILL);
	g_assert_cmpstr(test_get_string(output, "stdout"), ==, "dying\n");
	test_run_free_and_drain(run);
}

static void
test_shell_missing_program(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	g_auto(TestResult) result2 = { 0 };
	AiqStepRun *run;

	test_set_strv(with, "command", "aiq-no-such-program", "--version", NULL);
	run = test_run_with(with, &result);
	g_assert_error(result.error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(result.error->message, "“aiq-no-such-program”"));
	test_run_free_and_drain(run);

	/* a command line in one string: a hint about the list form */
	json_object_set_string_member(with, "command", "ls -l");
	run = test_run_with(with, &result2);
	g_assert_error(result2.error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(result2.error->message, "without a shell"));
	test_run_free_and_drain(run);
}

/*
 * A script whose grandchild writes its pid to $PIDFILE, then both wait
 * forever; with @ignore_term, SIGTERM is ignored by all of them.
 */
static JsonObject *
test_new_group_script(const gchar *pid_file, gboolean ignore_term)
{
	JsonObject *with = json_object_new();
	JsonObject *env = json_object_new();
	g_autofree gchar *script = g_strdup_printf(
		"%s"
		"sh -c 'echo $$ > \"$PIDFILE.tmp\"; mv \"$PIDFILE.tmp\" \"$PIDFILE\"; "
		"exec sleep 1000' &\n"
		"sleep 1000\n",
		ignore_term ? "trap '' TERM\n" : "");
	json_object_set_string_member(with, "script", script);
	json_object_set_string_member(env, "PIDFILE", pid_file);
	json_object_set_object_member(with, "env", env);
	return with;
}

static void
test_shell_timeout_kills_group_common(gboolean ignore_term)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("aiq-shell-XXXXXX", &error);
	g_autofree gchar *pid_file = g_build_filename(dir, "pid", NULL);
	g_autoptr(JsonObject) with = test_new_group_script(pid_file, ignore_term);
	g_auto(TestResult) result = { 0 };
	AiqStepRun *run = test_new_run(with);
	gint64 started = g_get_monotonic_time();
	GPid pid;

	g_assert_no_error(error);
	aiq_step_run_set_timeout(run, 1000);
	test_run(run, NULL, &result);
	g_assert_error(result.error, AIQ_ERROR, AIQ_ERROR_TIMED_OUT);
	/* the attempt ends at its timeout, not when the processes are gone */
	g_assert_cmpint(g_get_monotonic_time() - started, <, 5 * G_USEC_PER_SEC);

	pid = test_read_pid_file(pid_file);
	g_assert_cmpint(pid, >, 1);
	/* SIGTERM to the whole group, SIGKILL 2 s later for what ignores it */
	g_assert_true(test_wait_for_pid_gone(pid, ignore_term ? 8000 : 4000));
	test_run_free_and_drain(run);
	g_unlink(pid_file);
	g_rmdir(dir);
}

static void
test_shell_timeout_kills_group(void)
{
	test_shell_timeout_kills_group_common(FALSE);
}

static void
test_shell_timeout_kills_group_ignoring_term(void)
{
	test_shell_timeout_kills_group_common(TRUE);
}

static gboolean
test_cancel_cb(gpointer user_data)
{
	g_cancellable_cancel(G_CANCELLABLE(user_data));
	return G_SOURCE_REMOVE;
}

static void
test_shell_cancel(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("aiq-shell-XXXXXX", &error);
	g_autofree gchar *pid_file = g_build_filename(dir, "pid", NULL);
	g_autoptr(JsonObject) with = test_new_group_script(pid_file, FALSE);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_auto(TestResult) result = { 0 };
	AiqStepRun *run = test_new_run(with);
	GPid pid;

	g_assert_no_error(error);
	/* cancel once the grandchild is there */
	aiq_step_run_run_async(run, cancellable, test_run_done_cb, &result);
	pid = test_read_pid_file(pid_file);
	g_assert_false(result.done);
	g_timeout_add(50, test_cancel_cb, cancellable);
	while (!result.done)
		g_main_context_iteration(NULL, TRUE);
	/* the GTask of run_async reports its cancellable; the attempt has its own error */
	g_assert_nonnull(result.error);
	g_assert_error(aiq_step_run_get_error(run), AIQ_ERROR, AIQ_ERROR_CANCELLED);
	g_assert_true(test_wait_for_pid_gone(pid, 4000));
	test_run_free_and_drain(run);
	g_unlink(pid_file);
	g_rmdir(dir);
}

static void
test_shell_background_ended(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	gint64 started = g_get_monotonic_time();
	AiqStepRun *run;
	GPid pid;

	/* a background process holding stdout neither keeps the step running
	 * (it ends well before the drain period of 3 s) nor outlives it */
	test_set_strv(with, "command", "sh", "-c", "sleep 1000 & echo $!", NULL);
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	g_assert_cmpint(g_get_monotonic_time() - started, <, 2500 * 1000);
	pid = (GPid)g_ascii_strtoll(test_get_string(result.output, "stdout"), NULL, 10);
	g_assert_cmpint(pid, >, 1);
	g_assert_true(test_wait_for_pid_gone(pid, 4000));
	g_assert_nonnull(strstr(aiq_step_run_get_log(run), "ending the processes left in group"));
	test_run_free_and_drain(run);
}

static void
test_shell_secrets_masked(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_autoptr(AiqSecrets) secrets = aiq_secrets_new();
	g_auto(TestResult) result = { 0 };
	AiqStepRun *run;

	aiq_secrets_set(secrets, "token", "s3cr3t-value");
	test_set_strv(with,
		      "command",
		      "sh",
		      "-c",
		      "echo token=s3cr3t-value; echo s3cr3t-value >&2",
		      NULL);
	run = test_new_run(with);
	aiq_step_run_set_secrets(run, secrets);
	test_run(run, NULL, &result);
	g_assert_no_error(result.error);
	g_assert_cmpstr(test_get_string(result.output, "stdout"), ==, "token=***\n");
	g_assert_cmpstr(test_get_string(result.output, "stderr"), ==, "***\n");
	/* the command line is logged masked */
	g_assert_null(strstr(aiq_step_run_get_log(run), "s3cr3t-value"));
	g_assert_nonnull(strstr(aiq_step_run_get_log(run), "token=***"));
	test_run_free_and_drain(run);
}

static void
test_shell_secrets_masked_at_cap(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_autoptr(AiqSecrets) secrets = aiq_secrets_new();
	g_auto(TestResult) result = { 0 };
	const gchar *out;
	AiqStepRun *run;

	/* a secret that straddles max_output is masked, not cut in half */
	aiq_secrets_set(secrets, "token", "s3cr3t-value");
	test_set_strv(with, "command", "printf", "0123456789s3cr3t-value-and-more", NULL);
	json_object_set_int_member(with, "max_output", 15);
	run = test_new_run(with);
	aiq_step_run_set_secrets(run, secrets);
	test_run(run, NULL, &result);
	g_assert_no_error(result.error);
	out = test_get_string(result.output, "stdout");
	g_assert_cmpstr(out, ==, "0123456789***-a");
	g_assert_true(test_get_bool(result.output, "stdout_truncated"));
	test_run_free_and_drain(run);
}

static void
test_shell_invalid_utf8(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	const gchar *out;
	AiqStepRun *run;

	test_set_strv(with, "command", "printf", "a\\377b\\000c\\n", NULL);
	run = test_run_with(with, &result);
	g_assert_no_error(result.error);
	out = test_get_string(result.output, "stdout");
	g_assert_true(g_utf8_validate(out, -1, NULL));
	g_assert_cmpstr(out,
			==,
			"a\xef\xbf\xbd"
			"b\xef\xbf\xbd"
			"c\n");
	test_run_free_and_drain(run);
}

static void
test_shell_both_command_and_script(void)
{
	g_autoptr(JsonObject) with = json_object_new();
	g_auto(TestResult) result = { 0 };
	g_auto(TestResult) result2 = { 0 };
	g_autoptr(JsonObject) empty = json_object_new();
	AiqStepRun *run;

	/* checked at run time too: expressions may hide it from validation */
	test_set_strv(with, "command", "true", NULL);
	json_object_set_string_member(with, "script", "true");
	run = test_run_with(with, &result);
	g_assert_error(result.error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	test_run_free_and_drain(run);

	run = test_run_with(empty, &result2);
	g_assert_error(result2.error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	test_run_free_and_drain(run);
}

static AiqProblems *
test_validate(const gchar *json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = json_from_string(json, &error);
	AiqProblems *problems = aiq_problems_new();
	g_assert_no_error(error);
	aiq_step_kind_validate_with(&aiq_step_kind_shell, node, "steps[0].with", problems);
	return problems;
}

static gboolean
test_problems_contain(AiqProblems *problems, const gchar *path, const gchar *needle)
{
	for (guint i = 0; i < aiq_problems_get_size(problems); i++) {
		const AiqProblem *problem = aiq_problems_index(problems, i);
		if (g_strcmp0(problem->path, path) == 0 && strstr(problem->message, needle) != NULL)
			return TRUE;
	}
	return FALSE;
}

static void
test_shell_validate(void)
{
	g_autoptr(AiqProblems) ok = NULL;
	g_autoptr(AiqProblems) both = NULL;
	g_autoptr(AiqProblems) neither = NULL;
	g_autoptr(AiqProblems) bad = NULL;
	g_autoptr(AiqProblems) expr = NULL;

	ok = test_validate("{\"command\": [\"ls\", \"-l\"], \"success_codes\": [0, 1], "
			   "\"env\": {\"A\": \"b\"}, \"max_output\": 100}");
	g_assert_cmpuint(aiq_problems_get_size(ok), ==, 0);

	both = test_validate("{\"command\": \"ls\", \"script\": \"ls\"}");
	g_assert_true(test_problems_contain(both, "steps[0].with.script", "not both"));

	neither = test_validate("{\"interpreter\": [\"bash\"]}");
	g_assert_true(test_problems_contain(neither, "steps[0].with", "is required"));
	g_assert_true(test_problems_contain(neither, "steps[0].with.interpreter", "only used"));

	bad = test_validate("{\"command\": [], \"success_codes\": [0, 300, \"x\"], "
			    "\"max_output\": -1, \"env\": {\"A=B\": \"c\"}}");
	g_assert_true(test_problems_contain(bad, "steps[0].with.command", "name a program"));
	g_assert_true(test_problems_contain(bad, "steps[0].with.success_codes[1]", "0 to 255"));
	g_assert_true(test_problems_contain(bad, "steps[0].with.success_codes[2]", "0 to 255"));
	g_assert_true(test_problems_contain(bad, "steps[0].with.max_output", "between"));
	g_assert_true(test_problems_contain(bad, "steps[0].with.env", "A=B"));

	g_clear_pointer(&bad, aiq_problems_unref);
	bad = test_validate("{\"command\": \"ls -l\"}");
	g_assert_true(test_problems_contain(bad, "steps[0].with.command", "without a shell"));

	/* expressions are checked once rendered */
	expr = test_validate("{\"script\": \"${{ inputs.script }}\", "
			     "\"success_codes\": [\"${{ inputs.code }}\"]}");
	g_assert_cmpuint(aiq_problems_get_size(expr), ==, 0);
}

static void
test_shell_declaration(void)
{
	g_assert_true(aiq_step_kind_lookup("shell") == &aiq_step_kind_shell);
	g_assert_true((aiq_step_kind_shell.flags & AIQ_STEP_KIND_FLAG_HOST_ACCESS) != 0);
	for (guint i = 0; aiq_step_kind_shell.params[i].name != NULL; i++)
		g_assert_nonnull(aiq_step_kind_shell.params[i].description);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	/* orphaned grandchildren come to us, so that the tests can reap them */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/* must not reach a step's process */
	g_setenv(TEST_CANARY_NAME, TEST_CANARY_VALUE, TRUE);

	g_test_add_func("/aiq/connector/shell/declaration", test_shell_declaration);
	g_test_add_func("/aiq/connector/shell/argv", test_shell_argv);
	g_test_add_func("/aiq/connector/shell/script", test_shell_script);
	g_test_add_func("/aiq/connector/shell/script-errexit", test_shell_script_errexit);
	g_test_add_func("/aiq/connector/shell/script-interpreter", test_shell_script_interpreter);
	g_test_add_func("/aiq/connector/shell/env", test_shell_env);
	g_test_add_func("/aiq/connector/shell/cwd", test_shell_cwd);
	g_test_add_func("/aiq/connector/shell/stdin", test_shell_stdin);
	g_test_add_func("/aiq/connector/shell/stdin-large", test_shell_stdin_large);
	g_test_add_func("/aiq/connector/shell/stdin-unread", test_shell_stdin_unread);
	g_test_add_func("/aiq/connector/shell/output-cap", test_shell_output_cap);
	g_test_add_func("/aiq/connector/shell/success-codes", test_shell_success_codes);
	g_test_add_func("/aiq/connector/shell/exit-failure", test_shell_exit_failure);
	g_test_add_func("/aiq/connector/shell/signal", test_shell_signal);
	g_test_add_func("/aiq/connector/shell/missing-program", test_shell_missing_program);
	g_test_add_func("/aiq/connector/shell/timeout-kills-group", test_shell_timeout_kills_group);
	g_test_add_func("/aiq/connector/shell/timeout-kills-group-ignoring-term",
			test_shell_timeout_kills_group_ignoring_term);
	g_test_add_func("/aiq/connector/shell/cancel", test_shell_cancel);
	g_test_add_func("/aiq/connector/shell/background-ended", test_shell_background_ended);
	g_test_add_func("/aiq/connector/shell/secrets-masked", test_shell_secrets_masked);
	g_test_add_func("/aiq/connector/shell/secrets-masked-at-cap",
			test_shell_secrets_masked_at_cap);
	g_test_add_func("/aiq/connector/shell/invalid-utf8", test_shell_invalid_utf8);
	g_test_add_func("/aiq/connector/shell/command-xor-script",
			test_shell_both_command_and_script);
	g_test_add_func("/aiq/connector/shell/validate", test_shell_validate);
	return g_test_run();
}
