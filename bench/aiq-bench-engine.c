/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The engine's figures: durable throughput, orchestration overhead per step,
 * memory per pending step. Run through bench/engine.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aiq-engine.h"
#include "aiq-error.h"
#include "aiq-json.h"

typedef struct {
	GMainLoop *loop;
	guint finished;
	guint expected;
	guint failed;
} Ctx;

static void
finished_cb(AiqEngine *engine, AiqExecution *exec, gpointer user_data)
{
	Ctx *ctx = user_data;
	ctx->finished++;
	if (aiq_execution_get_status(exec) != AIQ_EXECUTION_STATUS_SUCCEEDED &&
	    aiq_execution_get_status(exec) != AIQ_EXECUTION_STATUS_CANCELLED)
		ctx->failed++;
	if (ctx->finished == ctx->expected)
		g_main_loop_quit(ctx->loop);
}

static AiqDefinition *
chain_new(guint n_steps, const gchar *first_step)
{
	g_autoptr(GString) yaml = g_string_new("name: bench\nsteps:\n");
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(GError) error = NULL;
	AiqDefinition *def;
	for (guint i = 0; i < n_steps; i++) {
		if (i == 0 && first_step != NULL)
			g_string_append(yaml, first_step);
		else
			g_string_append_printf(
				yaml,
				"  - { id: s%u, uses: transform, with: { value: %u } }\n",
				i,
				i);
	}
	def = aiq_definition_new_from_data(yaml->str, yaml->len, NULL, problems, &error);
	if (def == NULL)
		g_error("bench definition: %s", error->message);
	return def;
}

static gchar *
tmp_journal(gchar **dir)
{
	g_autoptr(GError) error = NULL;
	*dir = g_dir_make_tmp("aiq-bench-XXXXXX", &error);
	g_assert_no_error(error);
	return g_build_filename(*dir, "journal.db", NULL);
}

static void
rm_rf(const gchar *dir)
{
	g_autofree gchar *cmd = g_strdup_printf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		g_warning("could not remove %s", dir);
}

static gsize
rss_bytes(void)
{
	g_autofree gchar *statm = NULL;
	gulong size = 0;
	gulong resident = 0;
	if (!g_file_get_contents("/proc/self/statm", &statm, NULL, NULL))
		return 0;
	if (sscanf(statm, "%lu %lu", &size, &resident) != 2)
		return 0;
	return resident * (gsize)sysconf(_SC_PAGESIZE);
}

/* 1,000 concurrent executions of 10 no-op steps, journaled with fsync */
static void
bench_throughput(guint n_exec, guint n_steps, gboolean durability_all)
{
	g_autofree gchar *dir = NULL;
	g_autofree gchar *path = tmp_journal(&dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) journal = aiq_journal_new(path, &error);
	g_autoptr(AiqConfig) config = aiq_config_new();
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def = chain_new(n_steps, NULL);
	g_autoptr(GPtrArray) execs =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_execution_unref);
	Ctx ctx = { .loop = g_main_loop_new(NULL, FALSE), .expected = n_exec };
	gint64 t0;
	gdouble secs;
	guint64 events;
	guint64 transitions;

	g_assert_no_error(error);
	aiq_config_set_durability_all(config, durability_all);
	engine = aiq_engine_new(config, journal);
	g_signal_connect(engine, "execution-finished", G_CALLBACK(finished_cb), &ctx);
	t0 = g_get_monotonic_time();
	for (guint i = 0; i < n_exec; i++) {
		AiqExecution *exec = aiq_engine_start(engine, def, NULL, NULL, &error);
		g_assert_no_error(error);
		g_ptr_array_add(execs, exec);
	}
	g_main_loop_run(ctx.loop);
	secs = (g_get_monotonic_time() - t0) / 1e6;
	g_assert_true(aiq_journal_flush(journal, &error));
	g_assert_cmpuint(ctx.failed, ==, 0);
	events = aiq_engine_get_n_events(engine);
	g_assert_cmpuint(aiq_journal_get_durable(journal), ==, events);
	/* each step goes pending -> running -> succeeded; each execution
	 * queued -> running -> succeeded */
	transitions = (guint64)n_exec * n_steps * 2 + (guint64)n_exec * 2;
	printf("throughput (durability=%s): %u executions x %u steps in %.3f s\n",
	       durability_all ? "all" : "effects",
	       n_exec,
	       n_steps,
	       secs);
	printf("  step transitions/s:      %10.0f   (target >= 50000)\n", transitions / secs);
	printf("  journaled events/s:      %10.0f   (%" G_GUINT64_FORMAT " events, all durable)\n",
	       events / secs,
	       events);
	printf("  fsync'd commits:         %10" G_GUINT64_FORMAT "   (%.0f events per commit)\n",
	       aiq_journal_get_commits(journal),
	       (gdouble)events / MAX(aiq_journal_get_commits(journal), 1));
	aiq_journal_close(journal, NULL);
	g_main_loop_unref(ctx.loop);
	rm_rf(dir);
}

static gint
cmp_double(gconstpointer a, gconstpointer b)
{
	gdouble da = *(const gdouble *)a;
	gdouble db = *(const gdouble *)b;
	return da < db ? -1 : da > db ? 1 : 0;
}

/* one execution of a 100-step sequential chain, many times; median per step */
static void
bench_chain(guint n_steps, guint rounds, gboolean with_journal, gboolean durability_all)
{
	g_autofree gchar *dir = NULL;
	g_autofree gchar *path = tmp_journal(&dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) journal = with_journal ? aiq_journal_new(path, &error) : NULL;
	g_autoptr(AiqConfig) config = aiq_config_new();
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def = chain_new(n_steps, NULL);
	g_autoptr(GArray) per_step = g_array_new(FALSE, FALSE, sizeof(gdouble));
	Ctx ctx = { .loop = g_main_loop_new(NULL, FALSE) };

	g_assert_no_error(error);
	aiq_config_set_durability_all(config, durability_all);
	engine = aiq_engine_new(config, journal);
	g_signal_connect(engine, "execution-finished", G_CALLBACK(finished_cb), &ctx);
	for (guint r = 0; r < rounds; r++) {
		g_autoptr(AiqExecution) exec = NULL;
		gint64 t0 = g_get_monotonic_time();
		gdouble us;
		ctx.finished = 0;
		ctx.expected = 1;
		exec = aiq_engine_start(engine, def, NULL, NULL, &error);
		g_assert_no_error(error);
		g_main_loop_run(ctx.loop);
		us = (gdouble)(g_get_monotonic_time() - t0) / n_steps;
		g_array_append_val(per_step, us);
	}
	g_array_sort(per_step, cmp_double);
	printf("chain of %u steps (%s): median %.1f us per step, best %.1f, worst %.1f   "
	       "(target <= 200)\n",
	       n_steps,
	       !with_journal    ? "no journal"
	       : durability_all ? "journal, durability=all: an fsync before every step"
				: "journal, durability=effects",
	       g_array_index(per_step, gdouble, per_step->len / 2),
	       g_array_index(per_step, gdouble, 0),
	       g_array_index(per_step, gdouble, per_step->len - 1));
	g_assert_cmpuint(ctx.failed, ==, 0);
	if (journal != NULL)
		aiq_journal_close(journal, NULL);
	g_main_loop_unref(ctx.loop);
	rm_rf(dir);
}

/* 10,000 executions waiting in their first step: RAM per pending step */
static void
bench_memory(guint n_exec, guint n_steps)
{
	g_autofree gchar *dir = NULL;
	g_autofree gchar *path = tmp_journal(&dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) journal = aiq_journal_new(path, &error);
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def =
		chain_new(n_steps, "  - { id: s0, uses: delay, with: { duration: 1h } }\n");
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	Ctx ctx = { .loop = g_main_loop_new(NULL, FALSE), .expected = n_exec };
	gsize before;
	gsize after;
	guint64 pending = (guint64)n_exec * n_steps;

	g_assert_no_error(error);
	engine = aiq_engine_new(NULL, journal);
	g_signal_connect(engine, "execution-finished", G_CALLBACK(finished_cb), &ctx);
	/* warm up allocators, the sandbox and the definition's caches */
	{
		g_autoptr(AiqExecution) exec = aiq_engine_start(engine, def, NULL, NULL, &error);
		g_assert_no_error(error);
		while (g_main_context_iteration(NULL, FALSE))
			;
		aiq_engine_cancel(engine, aiq_execution_get_id(exec), NULL);
		ctx.expected = 1;
		g_main_loop_run(ctx.loop);
		ctx.finished = 0;
		ctx.expected = n_exec;
	}
	g_assert_true(aiq_journal_flush(journal, &error));
	before = rss_bytes();
	for (guint i = 0; i < n_exec; i++) {
		g_autoptr(AiqExecution) exec = aiq_engine_start(engine, def, NULL, NULL, &error);
		g_assert_no_error(error);
		g_ptr_array_add(ids, g_strdup(aiq_execution_get_id(exec)));
	}
	/* let every execution start its first step and the journal catch up */
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_true(aiq_journal_flush(journal, &error));
	while (g_main_context_iteration(NULL, FALSE))
		;
	after = rss_bytes();
	printf("memory: %u executions x %u steps pending: RSS +%.1f MiB, %.2f KiB per pending step "
	       "(target <= 4)\n",
	       n_exec,
	       n_steps,
	       (after - before) / 1048576.0,
	       (gdouble)(after - before) / pending / 1024.0);
	for (guint i = 0; i < ids->len; i++)
		aiq_engine_cancel(engine, ids->pdata[i], NULL);
	g_main_loop_run(ctx.loop);
	aiq_journal_close(journal, NULL);
	g_main_loop_unref(ctx.loop);
	rm_rf(dir);
}

int
main(int argc, char **argv)
{
	const gchar *only = argc > 1 ? argv[1] : NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("AutomateIQ engine benchmark, %ld cores, journal on %s\n",
	       sysconf(_SC_NPROCESSORS_ONLN),
	       g_get_tmp_dir());
	if (only == NULL || g_strcmp0(only, "throughput") == 0) {
		bench_throughput(1000, 10, FALSE);
		bench_throughput(1000, 10, TRUE);
	}
	if (only == NULL || g_strcmp0(only, "chain") == 0) {
		bench_chain(100, 30, FALSE, FALSE);
		bench_chain(100, 30, TRUE, FALSE);
		bench_chain(100, 10, TRUE, TRUE);
	}
	if (only == NULL || g_strcmp0(only, "memory") == 0)
		bench_memory(10000, 10);
	return 0;
}
