/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * aiqctl as a user runs it: exit codes, output formats, state directories.
 */

#include "config.h"

#include <gio/gio.h>
#include <signal.h>
#include <string.h>

#include "aiq-test-util.h"
#include "aiq-json.h"
#include "aiq-util.h"

typedef struct {
	gchar *dir;
} Fixture;

typedef struct {
	gint status;
	gchar *out;
	gchar *err;
} Result;

static void
result_clear(Result *r)
{
	g_free(r->out);
	g_free(r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Result, result_clear)

static void
fixture_setup(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	f->dir = g_dir_make_tmp("aiqctl-XXXXXX", &error);
	g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer user_data)
{
	aiq_test_rm_rf(f->dir);
	g_free(f->dir);
}

static gchar *
write_file(Fixture *f, const gchar *name, const gchar *text)
{
	gchar *path = g_build_filename(f->dir, name, NULL);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

/* runs aiqctl with the NULL-terminated arguments */
static void
run(Result *r, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	va_list args;
	const gchar *arg;

	g_ptr_array_add(argv, (gpointer)g_getenv("AIQCTL"));
	va_start(args, r);
	while ((arg = va_arg(args, const gchar *)) != NULL)
		g_ptr_array_add(argv, (gpointer)arg);
	va_end(args);
	g_ptr_array_add(argv, NULL);
	proc = g_subprocess_newv((const gchar *const *)argv->pdata,
				 G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
				 &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &r->out, &r->err, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(proc));
	r->status = g_subprocess_get_exit_status(proc);
}

static JsonNode *
parse_json(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = aiq_json_parse(text, strlen(text), 64, &error);
	g_assert_no_error(error);
	return node;
}

static const gchar *good =
	"name: good\n"
	"inputs:\n"
	"  n: { type: integer, default: 2 }\n"
	"steps:\n"
	"  - { id: a, uses: transform, with: { value: '${{ inputs.n * 3 }}' } }\n"
	"  - id: b\n"
	"    uses: script\n"
	"    retry: { max_attempts: 2, initial: 1ms }\n"
	"    with: { code: 'if execution.attempt < 2 then error(\"once\") end return 1' }\n"
	"outputs: { six: '${{ steps.a.output }}' }\n";

static void
test_aiqctl_validate(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *ok = write_file(f, "ok.yaml", good);
	g_autofree gchar *bad = write_file(f,
					   "bad.yaml",
					   "name: bad\nsteps:\n  - { id: a, uses: htp }\n"
					   "  - { id: a, uses: transform, with: { value: 1 } }\n");
	g_autofree gchar *broken = write_file(f, "broken.yaml", "name: [\n");
	g_autofree gchar *expected = NULL;

	{
		g_auto(Result) r = { 0 };
		run(&r, "validate", ok, NULL);
		g_assert_cmpint(r.status, ==, 0);
		expected = g_strdup_printf("%s: valid\n", ok);
		g_assert_cmpstr(r.out, ==, expected);
	}
	{
		/* one line per problem: FILE:PATH: message */
		g_auto(Result) r = { 0 };
		g_autofree gchar *line1 =
			g_strdup_printf("%s:steps[0].uses: unknown step kind", bad);
		g_autofree gchar *line2 = g_strdup_printf("%s:steps[1].id: duplicate step id", bad);
		run(&r, "validate", ok, bad, NULL);
		g_assert_cmpint(r.status, ==, 1);
		g_assert_nonnull(strstr(r.err, line1));
		g_assert_nonnull(strstr(r.err, line2));
		g_assert_nonnull(strstr(r.out, "ok.yaml: valid"));
	}
	{
		g_auto(Result) r = { 0 };
		run(&r, "validate", broken, NULL);
		g_assert_cmpint(r.status, ==, 1);
		g_assert_nonnull(strstr(r.err, broken));
		g_assert_nonnull(strstr(r.err, "line"));
	}
	{
		g_auto(Result) r = { 0 };
		run(&r, "validate", NULL);
		g_assert_cmpint(r.status, ==, 2);
	}
	{
		g_auto(Result) r = { 0 };
		run(&r, "frobnicate", NULL);
		g_assert_cmpint(r.status, ==, 2);
		g_assert_nonnull(strstr(r.err, "unknown command"));
	}
}

static void
test_aiqctl_run_local(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *flow = write_file(f, "good.yaml", good);
	g_autofree gchar *state = g_build_filename(f->dir, "state", NULL);
	g_autoptr(JsonNode) record = NULL;
	JsonObject *obj;
	JsonArray *steps;

	{
		g_auto(Result) r = { 0 };
		run(&r, "run-local", flow, "--input", "n=5", "--state", state, "-o", "json", NULL);
		g_assert_cmpint(r.status, ==, 0);
		/* progress on stderr, the record on stdout */
		g_assert_nonnull(strstr(r.err, "▶ a"));
		record = parse_json(r.out);
	}
	obj = json_node_get_object(record);
	g_assert_true(aiq_id_is_valid(json_object_get_string_member(obj, "id")));
	g_assert_cmpstr(json_object_get_string_member(obj, "status"), ==, "succeeded");
	g_assert_nonnull(json_object_get_string_member(obj, "started"));
	g_assert_nonnull(json_object_get_string_member(obj, "finished"));
	g_assert_cmpint(
		json_object_get_int_member(json_object_get_object_member(obj, "outputs"), "six"),
		==,
		15);
	steps = json_object_get_array_member(obj, "steps");
	g_assert_cmpuint(json_array_get_length(steps), ==, 2);
	{
		JsonObject *b = json_array_get_object_element(steps, 1);
		JsonArray *attempts = json_object_get_array_member(b, "attempts");
		g_assert_cmpstr(json_object_get_string_member(b, "status"), ==, "succeeded");
		g_assert_cmpuint(json_array_get_length(attempts), ==, 2);
		g_assert_nonnull(strstr(json_object_get_string_member(
						json_object_get_object_member(
							json_array_get_object_element(attempts, 0),
							"error"),
						"message"),
					"once"));
		g_assert_cmpint(json_object_get_int_member(b, "output"), ==, 1);
	}

	/* show prints the same record from the journal */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) shown = NULL;
		run(&r, "show", "--state", state, "-o", "json", NULL);
		g_assert_cmpint(r.status, ==, 0);
		shown = parse_json(r.out);
		g_assert_true(json_node_equal(shown, record));
	}
	{
		g_auto(Result) r = { 0 };
		run(&r, "show", "--state", state, NULL);
		g_assert_cmpint(r.status, ==, 0);
		g_assert_nonnull(strstr(r.out, "good "));
		g_assert_nonnull(strstr(r.out, "succeeded"));
		g_assert_nonnull(strstr(r.out, "2 attempts"));
	}
	/* a second run in the same state directory is a second execution */
	{
		g_auto(Result) r = { 0 };
		g_auto(Result) all = { 0 };
		g_autoptr(JsonNode) list = NULL;
		run(&r, "run-local", flow, "--state", state, "--quiet", NULL);
		g_assert_cmpint(r.status, ==, 0);
		g_assert_cmpstr(r.err, ==, "");
		run(&all, "show", "--state", state, "--all", "-o", "json", NULL);
		list = parse_json(all.out);
		g_assert_cmpuint(json_array_get_length(json_node_get_array(list)), ==, 2);
	}
}

static void
test_aiqctl_exit_codes(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *flow = write_file(f, "good.yaml", good);
	g_autofree gchar *failing =
		write_file(f,
			   "failing.yaml",
			   "name: failing\nsteps:\n"
			   "  - { id: x, uses: script, with: { code: 'error(\"no\")' } }\n");
	g_autofree gchar *bad_config = write_file(f, "bad.conf", "[engin]\n");
	g_autofree gchar *state = g_build_filename(f->dir, "s", NULL);
	struct {
		const gchar *a1;
		const gchar *a2;
		const gchar *a3;
		gint status;
		const gchar *needle;
	} cases[] = {
		{ failing, NULL, NULL, 1, "failed" },
		{ flow, "--input", "n=five", 2, "inputs.n" },
		{ flow, "--input", "nope", 2, "NAME=VALUE" },
		{ flow, "--input", "zz=1", 2, "no input named" },
		{ flow, "--config", bad_config, 2, "did you mean [engine]" },
		{ flow, "-o", "xml", 2, "--output" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_auto(Result) r = { 0 };
		run(&r,
		    "run-local",
		    cases[i].a1,
		    "--state",
		    state,
		    "--quiet",
		    cases[i].a2,
		    cases[i].a3,
		    NULL);
		if (r.status != cases[i].status || (strstr(r.err, cases[i].needle) == NULL &&
						    strstr(r.out, cases[i].needle) == NULL))
			g_error("case %u: exit %d\nout: %s\nerr: %s", i, r.status, r.out, r.err);
	}
}

static void
test_aiqctl_interrupt_resume(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *flow =
		write_file(f,
			   "slow.yaml",
			   "name: slow\nsteps:\n"
			   "  - { id: first, uses: transform, with: { value: 1 } }\n"
			   "  - { id: nap, uses: delay, with: { duration: 400ms } }\n"
			   "  - { id: last, uses: transform, with: { value: 2 } }\n");
	g_autofree gchar *state = g_build_filename(f->dir, "state", NULL);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *err = NULL;

	proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
				&error,
				g_getenv("AIQCTL"),
				"run-local",
				flow,
				"--state",
				state,
				NULL);
	g_assert_no_error(error);
	g_usleep(200 * 1000);
	g_subprocess_send_signal(proc, SIGINT);
	g_subprocess_communicate_utf8(proc, NULL, NULL, NULL, &err, &error);
	g_assert_no_error(error);
	/* interrupted, not cancelled: the journal keeps it for resume */
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 130);
	g_assert_nonnull(strstr(err, "aiqctl resume --state"));
	{
		g_auto(Result) r = { 0 };
		run(&r, "show", "--state", state, NULL);
		g_assert_nonnull(strstr(r.out, "running"));
	}
	{
		g_auto(Result) r = { 0 };
		run(&r, "resume", "--state", state, NULL);
		g_assert_cmpint(r.status, ==, 0);
		g_assert_nonnull(strstr(r.err, "resuming 1 execution"));
		g_assert_nonnull(strstr(r.out, "slow "));
		g_assert_nonnull(strstr(r.out, "succeeded"));
		/* the finished step did not run again */
		g_assert_null(strstr(r.err, "▶ first"));
		g_assert_nonnull(strstr(r.err, "▶ last"));
	}
	{
		g_auto(Result) r = { 0 };
		run(&r, "resume", "--state", state, NULL);
		g_assert_cmpint(r.status, ==, 0);
		g_assert_nonnull(strstr(r.err, "nothing to resume"));
	}
	{
		g_auto(Result) r = { 0 };
		g_autofree gchar *empty = g_build_filename(f->dir, "empty", NULL);
		run(&r, "resume", "--state", empty, NULL);
		g_assert_cmpint(r.status, ==, 1);
		g_assert_nonnull(strstr(r.err, "holds no journal"));
	}
}

static void
test_aiqctl_fmt_kinds(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *flow =
		write_file(f,
			   "messy.json",
			   "{\"steps\":[{\"with\":{\"duration\":\"90s\"},\"uses\":\"delay\","
			   "\"id\":\"w\"}],\"name\":\"messy\"}");
	g_autofree gchar *again = NULL;

	{
		g_auto(Result) r = { 0 };
		run(&r, "fmt", flow, NULL);
		g_assert_cmpint(r.status, ==, 0);
		g_assert_cmpstr(r.out,
				==,
				"name: messy\n"
				"steps:\n"
				"- id: w\n"
				"  uses: delay\n"
				"  with:\n"
				"    duration: 90s\n");
		/* the canonical form is a fixed point */
		again = write_file(f, "again.yaml", r.out);
	}
	{
		g_auto(Result) r = { 0 };
		g_auto(Result) r2 = { 0 };
		run(&r, "fmt", again, NULL);
		run(&r2, "fmt", flow, NULL);
		g_assert_cmpstr(r.out, ==, r2.out);
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) kinds = NULL;
		run(&r, "kinds", "-o", "json", NULL);
		g_assert_cmpint(r.status, ==, 0);
		kinds = parse_json(r.out);
		g_assert_cmpuint(json_array_get_length(json_node_get_array(kinds)), ==, 9);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/aiqctl/validate",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_aiqctl_validate,
		   fixture_teardown);
	g_test_add("/aiqctl/run-local",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_aiqctl_run_local,
		   fixture_teardown);
	g_test_add("/aiqctl/exit-codes",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_aiqctl_exit_codes,
		   fixture_teardown);
	g_test_add("/aiqctl/interrupt-resume",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_aiqctl_interrupt_resume,
		   fixture_teardown);
	g_test_add("/aiqctl/fmt-kinds",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_aiqctl_fmt_kinds,
		   fixture_teardown);
	return g_test_run();
}
