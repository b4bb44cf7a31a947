/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Kills `aiqctl run-local` and `aiqctl resume` with SIGKILL at random
 * moments, many times, resumes until each execution finishes, and checks:
 *   - every execution succeeded and its journal is one gapless history;
 *   - every step finished exactly once (one step.finished each);
 *   - the side effects at the HTTP sink are exactly one per step: each step
 *     key arrived, and repeats of a key (a request in flight when the process
 *     died, sent again with the same Idempotency-Key) are no more than kills.
 */

#include "config.h"

#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "aiq-test-util.h"
#include "aiq-journal.h"
#include "aiq-json.h"

static const gchar *workflow =
	"name: crash-test\n"
	"inputs: { base: { type: string } }\n"
	"steps:\n"
	"  - { id: s1, uses: http, with: { method: POST, url: '${{ inputs.base }}/sink/s1', body: { n: 1 } } }\n"
	"  - { id: s2, uses: http, with: { method: POST, url: '${{ inputs.base }}/sink/s2' } }\n"
	"  - { id: s3, uses: http, with: { method: POST, url: '${{ inputs.base }}/sink/s3' } }\n"
	"  - { id: s4, uses: http, with: { method: POST, url: '${{ inputs.base }}/sink/s4' } }\n"
	"  - { id: s5, uses: http, with: { method: POST, url: '${{ inputs.base }}/sink/s5' } }\n";

typedef struct {
	GSubprocess *peer;
	guint16 port;
	gchar *dir;
	gchar *flow;
	guint kills;
	GRand *rand;
} Fixture;

static guint16
read_port(GSubprocess *proc)
{
	GInputStream *out = g_subprocess_get_stdout_pipe(proc);
	g_autoptr(GDataInputStream) data = g_data_input_stream_new(out);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *line = g_data_input_stream_read_line(data, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(line);
	g_assert_true(g_str_has_prefix(line, "port="));
	return (guint16)g_ascii_strtoull(line + 5, NULL, 10);
}

static void
die_with_parent(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
fixture_setup(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *state = NULL;
	const gchar *seed = g_getenv("AIQ_CRASH_SEED");

	f->dir = g_dir_make_tmp("aiq-crash-XXXXXX", &error);
	g_assert_no_error(error);
	f->flow = g_build_filename(f->dir, "crash.yaml", NULL);
	g_assert_true(g_file_set_contents(f->flow, workflow, -1, NULL));
	state = g_build_filename(f->dir, "sink.log", NULL);
	g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
	f->peer = g_subprocess_launcher_spawn(launcher,
					      &error,
					      g_getenv("AIQ_TEST_PEER"),
					      "--port",
					      "0",
					      "--state-file",
					      state,
					      NULL);
	g_assert_no_error(error);
	f->port = read_port(f->peer);
	f->rand = seed != NULL ? g_rand_new_with_seed((guint32)g_ascii_strtoull(seed, NULL, 10))
			       : g_rand_new();
}

static void
fixture_teardown(Fixture *f, gconstpointer user_data)
{
	g_subprocess_send_signal(f->peer, SIGTERM);
	g_subprocess_wait(f->peer, NULL, NULL);
	g_object_unref(f->peer);
	aiq_test_rm_rf(f->dir);
	g_free(f->dir);
	g_free(f->flow);
	g_rand_free(f->rand);
}

/* runs aiqctl; with @kill_after_us >= 0 it gets SIGKILL then, if still running;
 * its output goes to @log, shown when a run fails */
static gint
run_aiqctl(Fixture *f,
	   gint64 kill_after_us,
	   const gchar *const *argv,
	   const gchar *log,
	   gboolean *killed)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GSubprocess) proc = NULL;
	gint rc;

	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	if (kill_after_us >= 0) {
		g_usleep((gulong)kill_after_us);
		/* does nothing when it has exited already */
		g_subprocess_force_exit(proc);
	}
	g_subprocess_wait(proc, NULL, &error);
	g_assert_no_error(error);
	*killed = g_subprocess_get_if_signaled(proc) && g_subprocess_get_term_sig(proc) == SIGKILL;
	if (*killed) {
		f->kills++;
		return -1;
	}
	rc = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
	if (rc != 0 && kill_after_us < 0) {
		g_autofree gchar *text = NULL;
		g_file_get_contents(log, &text, NULL, NULL);
		g_printerr("%s %s exited with %d:\n%s\n", argv[0], argv[1], rc, text);
	}
	return rc;
}

static JsonObject *
sink_stats(Fixture *f)
{
	g_autoptr(SoupSession) session = soup_session_new();
	g_autofree gchar *url = g_strdup_printf("http://127.0.0.1:%u/sink/stats", f->port);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = soup_session_send_and_read(session, msg, NULL, &error);
	gsize len = 0;
	const gchar *data;
	JsonNode *node;
	g_assert_no_error(error);
	g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
	data = g_bytes_get_data(body, &len);
	node = aiq_json_parse(data, len, 8, &error);
	g_assert_no_error(error);
	return json_object_ref(json_node_get_object(node));
}

static guint
count_step_finished(GPtrArray *events, const gchar *step)
{
	guint n = 0;
	for (guint i = 0; i < events->len; i++) {
		AiqEvent *event = g_ptr_array_index(events, i);
		if (event->type == AIQ_EVENT_STEP_FINISHED && g_strcmp0(event->step_id, step) == 0)
			n++;
	}
	return n;
}

static void
test_crash_kill_resume(Fixture *f, gconstpointer user_data)
{
	const gchar *aiqctl = g_getenv("AIQCTL");
	guint runs = (guint)g_ascii_strtoull(g_getenv("AIQ_CRASH_RUNS") ? g_getenv("AIQ_CRASH_RUNS")
									: "100",
					     NULL,
					     10);
	g_autofree gchar *base = g_strdup_printf("base=http://127.0.0.1:%u", f->port);
	g_autoptr(GPtrArray) exec_ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(JsonObject) stats = NULL;
	JsonObject *keys;
	gint64 repeats = 0;
	gint64 duration_us = 0;

	for (guint r = 0; r < runs; r++) {
		g_autofree gchar *state = g_strdup_printf("%s/run-%u", f->dir, r);
		g_autofree gchar *journal_file = g_build_filename(state, "journal.db", NULL);
		g_autofree gchar *log = g_strdup_printf("%s/run-%u.log", f->dir, r);
		const gchar *run_argv[] = { aiqctl, "run-local", f->flow, "--quiet", "--state",
					    state,  "--input",   base,    NULL };
		const gchar *resume_argv[] = {
			aiqctl, "resume", "--quiet", "--state", state, NULL
		};
		gboolean killed = FALSE;
		gboolean done = FALSE;
		guint kills_here = 0;

		if (r == 0) {
			/* the first run is not killed: its length sets when later ones die */
			gint64 t0 = g_get_monotonic_time();
			g_assert_cmpint(run_aiqctl(f, -1, run_argv, log, &killed), ==, 0);
			duration_us = MAX(g_get_monotonic_time() - t0, 5000);
			g_test_message("an unkilled run takes %.1f ms", duration_us / 1000.0);
		} else {
			run_aiqctl(f,
				   g_rand_int_range(f->rand, 0, (gint32)duration_us),
				   run_argv,
				   log,
				   &killed);
			kills_here += killed;
		}
		while (!done && r > 0) {
			g_autoptr(AiqJournal) journal = NULL;
			g_autoptr(GPtrArray) list = NULL;
			gint rc;

			/* killed before anything was journaled: start again */
			if (!g_file_test(journal_file, G_FILE_TEST_EXISTS)) {
				rc = run_aiqctl(f, -1, run_argv, log, &killed);
				g_assert_cmpint(rc, ==, 0);
				done = TRUE;
				break;
			}
			journal = aiq_journal_new_read_only(journal_file, NULL);
			list = journal != NULL
				       ? aiq_journal_list_executions(journal, FALSE, 0, NULL)
				       : NULL;
			if (list == NULL || list->len == 0) {
				rc = run_aiqctl(f, -1, run_argv, log, &killed);
				g_assert_cmpint(rc, ==, 0);
				done = TRUE;
				break;
			}
			/* resume, killed again half of the time, a few times at most */
			if (kills_here < 4 && g_rand_boolean(f->rand)) {
				run_aiqctl(f,
					   g_rand_int_range(f->rand, 0, (gint32)duration_us),
					   resume_argv,
					   log,
					   &killed);
				kills_here += killed;
				continue;
			}
			rc = run_aiqctl(f, -1, resume_argv, log, &killed);
			g_assert_cmpint(rc, ==, 0);
			done = TRUE;
		}

		/* the journal: one successful execution, each step finished once */
		{
			g_autoptr(GError) error = NULL;
			g_autoptr(AiqJournal) journal =
				aiq_journal_new_read_only(journal_file, &error);
			g_autoptr(GPtrArray) list = NULL;
			g_autoptr(GPtrArray) events = NULL;
			AiqJournalExecution *row;
			g_assert_no_error(error);
			list = aiq_journal_list_executions(journal, FALSE, 0, &error);
			g_assert_no_error(error);
			g_assert_cmpuint(list->len, ==, 1);
			row = g_ptr_array_index(list, 0);
			g_assert_cmpstr(row->status, ==, "succeeded");
			events = aiq_journal_load_events(journal, row->id, &error);
			g_assert_no_error(error);
			for (guint i = 0; i < events->len; i++)
				g_assert_cmpint(((AiqEvent *)g_ptr_array_index(events, i))->seq,
						==,
						i + 1);
			for (guint s = 1; s <= 5; s++) {
				g_autofree gchar *step = g_strdup_printf("s%u", s);
				g_assert_cmpuint(count_step_finished(events, step), ==, 1);
			}
			g_ptr_array_add(exec_ids, g_strdup(row->id));
		}
	}

	/* the sink: exactly one side effect per step */
	stats = sink_stats(f);
	keys = json_object_get_object_member(stats, "keys");
	for (guint i = 0; i < exec_ids->len; i++) {
		for (guint s = 1; s <= 5; s++) {
			g_autofree gchar *key =
				g_strdup_printf("%s/s%u", (gchar *)exec_ids->pdata[i], s);
			gint64 count = json_object_has_member(keys, key)
					       ? json_object_get_int_member(keys, key)
					       : 0;
			if (count < 1)
				g_error("step key %s never reached the sink", key);
			repeats += count - 1;
		}
	}
	g_assert_cmpuint(json_object_get_size(keys), ==, exec_ids->len * 5);
	g_test_message(
		"%u executions, %u kills, %" G_GINT64_FORMAT
		" requests repeated with the same Idempotency-Key (deduplicated by the sink)",
		runs,
		f->kills,
		repeats);
	/* a repeat is a request in flight at a kill; finished steps never repeat */
	g_assert_cmpint(repeats, <=, f->kills);
	/* the kills landed: most runs died at least once */
	if (runs >= 20)
		g_assert_cmpuint(f->kills, >=, runs / 2);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/aiq/crash/kill-resume",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_crash_kill_resume,
		   fixture_teardown);
	return g_test_run();
}
