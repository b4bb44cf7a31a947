/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "aiq-test-util.h"
#include "aiq-engine.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-util.h"

/* a definition from YAML text; the test fails on any problem */
static AiqDefinition *
def_new(const gchar *yaml)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(GError) error = NULL;
	AiqDefinition *def =
		aiq_definition_new_from_data(yaml, strlen(yaml), NULL, problems, &error);
	if (def == NULL) {
		g_autofree gchar *text = aiq_problems_to_string(problems, NULL);
		g_error("definition: %s\n%s", error != NULL ? error->message : "", text);
	}
	return def;
}

typedef struct {
	GMainLoop *loop;
	AiqExecution *result;
	GPtrArray *events; /* AiqEvent, all of them */
	guint running;
	guint max_running;
	guint finished;
	guint expected;
} Ctx;

static void
ctx_init(Ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->loop = g_main_loop_new(NULL, FALSE);
	ctx->events = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_event_unref);
}

static void
ctx_clear(Ctx *ctx)
{
	g_main_loop_unref(ctx->loop);
	if (ctx->result != NULL)
		aiq_execution_unref(ctx->result);
	g_ptr_array_unref(ctx->events);
}

static void
event_cb(AiqEngine *engine, AiqEvent *event, gpointer user_data)
{
	Ctx *ctx = user_data;
	g_ptr_array_add(ctx->events, aiq_event_ref(event));
	if (event->type == AIQ_EVENT_STEP_STARTED) {
		ctx->running++;
		ctx->max_running = MAX(ctx->max_running, ctx->running);
	} else if (event->type == AIQ_EVENT_STEP_FINISHED) {
		ctx->running--;
	}
}

static void
finished_cb(AiqEngine *engine, AiqExecution *exec, gpointer user_data)
{
	Ctx *ctx = user_data;
	ctx->finished++;
	if (ctx->result == NULL && aiq_execution_get_parent_id(exec) == NULL)
		ctx->result = aiq_execution_ref(exec);
	if (ctx->finished >= MAX(ctx->expected, 1))
		g_main_loop_quit(ctx->loop);
}

static gboolean
timeout_cb(gpointer user_data)
{
	g_error("test timed out");
	return G_SOURCE_REMOVE;
}

static AiqEngine *
engine_new(Ctx *ctx, AiqConfig *config, AiqJournal *journal)
{
	AiqEngine *engine = aiq_engine_new(config, journal);
	g_signal_connect(engine, "event", G_CALLBACK(event_cb), ctx);
	g_signal_connect(engine, "execution-finished", G_CALLBACK(finished_cb), ctx);
	return engine;
}

/* runs one definition to the end */
static AiqExecution *
run_one(Ctx *ctx, AiqEngine *engine, AiqDefinition *def, JsonObject *inputs)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqExecution) exec = aiq_engine_start(engine, def, inputs, NULL, &error);
	guint id;
	g_assert_no_error(error);
	g_assert_nonnull(exec);
	id = g_timeout_add_seconds(60, timeout_cb, NULL);
	g_main_loop_run(ctx->loop);
	g_source_remove(id);
	g_assert_nonnull(ctx->result);
	return ctx->result;
}

static AiqStepState *
state_of(AiqExecution *exec, const gchar *id)
{
	AiqStepState *state = aiq_execution_find_step_state(exec, id);
	g_assert_nonnull(state);
	return state;
}

static guint
count_events(GPtrArray *events, AiqEventType type, const gchar *step_id)
{
	guint n = 0;
	for (guint i = 0; i < events->len; i++) {
		AiqEvent *event = g_ptr_array_index(events, i);
		if (event->type == type && g_strcmp0(event->step_id, step_id) == 0)
			n++;
	}
	return n;
}

static void
test_engine_chain(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def =
		def_new("name: chain\n"
			"inputs:\n"
			"  n: { type: integer, default: 1 }\n"
			"steps:\n"
			"  - id: a\n"
			"    uses: transform\n"
			"    with: { value: '${{ inputs.n + 1 }}' }\n"
			"  - id: b\n"
			"    uses: transform\n"
			"    with: { value: '${{ steps.a.output * 10 }}' }\n"
			"  - id: c\n"
			"    uses: transform\n"
			"    with: { value: 'b was ${{ steps.b.output }}' }\n"
			"outputs:\n"
			"  result: '${{ steps.c.output }}'\n");
	g_autoptr(JsonObject) inputs = json_object_new();
	AiqExecution *exec;
	JsonNode *outputs;

	ctx_init(&ctx);
	engine = engine_new(&ctx, NULL, NULL);
	json_object_set_int_member(inputs, "n", 4);
	exec = run_one(&ctx, engine, def, inputs);
	g_assert_cmpint(aiq_execution_get_status(exec), ==, AIQ_EXECUTION_STATUS_SUCCEEDED);
	g_assert_cmpint(json_node_get_int(state_of(exec, "a")->output), ==, 5);
	g_assert_cmpint(json_node_get_int(state_of(exec, "b")->output), ==, 50);
	g_assert_cmpstr(json_node_get_string(state_of(exec, "c")->output), ==, "b was 50");
	outputs = aiq_execution_get_outputs(exec);
	g_assert_cmpstr(aiq_json_object_get_string(json_node_get_object(outputs), "result"),
			==,
			"b was 50");
	/* a strict sequence: each step started after the one before finished */
	g_assert_cmpuint(ctx.max_running, ==, 1);
	ctx_clear(&ctx);
}

static void
test_engine_parallel_limit(void)
{
	Ctx ctx;
	g_autoptr(AiqConfig) config = aiq_config_new();
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(GString) yaml = g_string_new("name: fan\nsteps:\n");
	g_autoptr(AiqDefinition) def = NULL;
	AiqExecution *exec;

	for (guint i = 0; i < 8; i++)
		g_string_append_printf(yaml,
				       "  - id: s%u\n    uses: delay\n    needs: []\n"
				       "    with: { duration: 30ms }\n",
				       i);
	g_string_append(
		yaml,
		"  - id: join\n    uses: transform\n    needs: [s0, s1, s2, s3, s4, s5, s6, s7]\n"
		"    with: { value: done }\n");
	def = def_new(yaml->str);
	ctx_init(&ctx);
	aiq_config_set_max_parallel_steps(config, 3);
	engine = engine_new(&ctx, config, NULL);
	exec = run_one(&ctx, engine, def, NULL);
	g_assert_cmpint(aiq_execution_get_status(exec), ==, AIQ_EXECUTION_STATUS_SUCCEEDED);
	/* independent steps ran side by side, never more than the limit */
	g_assert_cmpuint(ctx.max_running, ==, 3);
	g_assert_cmpstr(json_node_get_string(state_of(exec, "join")->output), ==, "done");
	ctx_clear(&ctx);
}

static void
test_engine_if_and_skip(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def =
		def_new("name: branches\n"
			"inputs:\n"
			"  go: { type: boolean, default: false }\n"
			"steps:\n"
			"  - id: gate\n"
			"    uses: transform\n"
			"    if: ${{ inputs.go }}\n"
			"    with: { value: 1 }\n"
			"  - id: after_gate\n"
			"    uses: transform\n"
			"    with: { value: 2 }\n"
			"  - id: always_runs\n"
			"    uses: transform\n"
			"    needs: [after_gate]\n"
			"    if: ${{ always() }}\n"
			"    with: { value: '${{ steps.after_gate.status }}' }\n"
			"  - id: bare\n"
			"    uses: transform\n"
			"    needs: []\n"
			"    if: inputs.go == false\n"
			"    with: { value: bare }\n");
	AiqExecution *exec;

	ctx_init(&ctx);
	engine = engine_new(&ctx, NULL, NULL);
	exec = run_one(&ctx, engine, def, NULL);
	g_assert_cmpint(aiq_execution_get_status(exec), ==, AIQ_EXECUTION_STATUS_SUCCEEDED);
	g_assert_cmpint(state_of(exec, "gate")->status, ==, AIQ_STEP_STATUS_SKIPPED);
	g_assert_cmpstr(state_of(exec, "gate")->skip_reason, ==, "its condition is false");
	/* a skipped step's dependents are skipped unless they opt in */
	g_assert_cmpint(state_of(exec, "after_gate")->status, ==, AIQ_STEP_STATUS_SKIPPED);
	g_assert_cmpint(state_of(exec, "always_runs")->status, ==, AIQ_STEP_STATUS_SUCCEEDED);
	g_assert_cmpstr(json_node_get_string(state_of(exec, "always_runs")->output), ==, "skipped");
	g_assert_cmpint(state_of(exec, "bare")->status, ==, AIQ_STEP_STATUS_SUCCEEDED);
	ctx_clear(&ctx);
}

static void
test_engine_error_path(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def = def_new("name: errors\n"
					       "steps:\n"
					       "  - id: risky\n"
					       "    uses: script\n"
					       "    with: { code: 'error(\"no luck\")' }\n"
					       "  - id: normal\n"
					       "    uses: transform\n"
					       "    with: { value: 1 }\n"
					       "  - id: on_failure\n"
					       "    uses: transform\n"
					       "    needs: [risky]\n"
					       "    if: ${{ failure() }}\n"
					       "    with: { value: handled }\n"
					       "  - id: soft\n"
					       "    uses: script\n"
					       "    needs: []\n"
					       "    continue_on_error: true\n"
					       "    with: { code: 'error(\"ignored\")' }\n"
					       "  - id: after_soft\n"
					       "    uses: transform\n"
					       "    needs: [soft]\n"
					       "    with: { value: '${{ steps.soft.status }}' }\n");
	AiqExecution *exec;

	ctx_init(&ctx);
	engine = engine_new(&ctx, NULL, NULL);
	exec = run_one(&ctx, engine, def, NULL);
	g_assert_cmpint(aiq_execution_get_status(exec), ==, AIQ_EXECUTION_STATUS_FAILED);
	g_assert_cmpint(state_of(exec, "risky")->status, ==, AIQ_STEP_STATUS_FAILED);
	g_assert_nonnull(strstr(state_of(exec, "risky")->error_message, "no luck"));
	g_assert_cmpint(state_of(exec, "normal")->status, ==, AIQ_STEP_STATUS_SKIPPED);
	g_assert_cmpint(state_of(exec, "on_failure")->status, ==, AIQ_STEP_STATUS_SUCCEEDED);
	/* continue_on_error: failed, but its dependents go on and the run does not fail for it */
	g_assert_cmpint(state_of(exec, "soft")->status, ==, AIQ_STEP_STATUS_FAILED);
	g_assert_cmpstr(json_node_get_string(state_of(exec, "after_soft")->output), ==, "failed");
	g_assert_nonnull(strstr(aiq_execution_get_error_message(exec), "“risky”"));
	ctx_clear(&ctx);
}

static void
test_engine_for_each(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	/* later items finish first; outputs stay in input order */
	g_autoptr(AiqDefinition) def = def_new("name: fanout\n"
					       "steps:\n"
					       "  - id: list\n"
					       "    uses: transform\n"
					       "    with: { value: [50, 40, 30, 20, 10, 0] }\n"
					       "  - id: each\n"
					       "    uses: delay\n"
					       "    for_each: ${{ steps.list.output }}\n"
					       "    concurrency: 2\n"
					       "    with: { duration: '${{ item }}ms' }\n"
					       "  - id: doubled\n"
					       "    uses: transform\n"
					       "    for_each: ${{ steps.list.output }}\n"
					       "    with: { value: '${{ item * 2 + index }}' }\n"
					       "  - id: empty\n"
					       "    uses: transform\n"
					       "    for_each: []\n"
					       "    with: { value: 1 }\n");
	AiqExecution *exec;
	JsonArray *out;
	guint max_items_running = 0;
	guint items_running = 0;

	ctx_init(&ctx);
	engine = engine_new(&ctx, NULL, NULL);
	exec = run_one(&ctx, engine, def, NULL);
	g_assert_cmpint(aiq_execution_get_status(exec), ==, AIQ_EXECUTION_STATUS_SUCCEEDED);
	out = json_node_get_array(state_of(exec, "each")->output);
	g_assert_cmpuint(json_array_get_length(out), ==, 6);
	for (guint i = 0; i < 6; i++) {
		JsonObject *o = json_array_get_object_element(out, i);
		g_assert_cmpint(json_object_get_int_member(o, "waited_ms"), ==, 50 - 10 * (gint)i);
	}
	out = json_node_get_array(state_of(exec, "doubled")->output);
	for (guint i = 0; i < 6; i++)
		g_assert_cmpint(json_array_get_int_element(out, i),
				==,
				(50 - 10 * (gint)i) * 2 + (gint)i);
	g_assert_cmpuint(
		json_array_get_length(json_node_get_array(state_of(exec, "empty")->output)),
		==,
		0);
	/* the concurrency limit holds: count items in flight from the event order */
	for (guint i = 0; i < ctx.events->len; i++) {
		AiqEvent *event = g_ptr_array_index(ctx.events, i);
		if (g_strcmp0(event->step_id, "each") != 0)
			continue;
		if (event->type == AIQ_EVENT_STEP_STARTED)
			items_running = 2; /* two start at once */
		else if (event->type == AIQ_EVENT_ITEM_FINISHED && items_running > 0)
			max_items_running = MAX(max_items_running, items_running);
	}
	g_assert_cmpuint(max_items_running, ==, 2);
	g_assert_cmpuint(count_events(ctx.events, AIQ_EVENT_ITEM_FINISHED, "each"), ==, 6);
	ctx_clear(&ctx);
}

static void
test_engine_retry_backoff(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def = def_new(
		"name: retries\n"
		"steps:\n"
		"  - id: flaky\n"
		"    uses: script\n"
		"    retry: { max_attempts: 4, backoff: exponential, initial: 20ms, max: 50ms, jitter: 0.5 }\n"
		"    with:\n"
		"      code: |\n"
		"        if execution.attempt < 4 then error('try ' .. execution.attempt) end\n"
		"        return execution.attempt\n"
		"  - id: hopeless\n"
		"    uses: script\n"
		"    needs: []\n"
		"    retry: { max_attempts: 2, backoff: constant, initial: 10ms }\n"
		"    with: { code: 'error(\"never\")' }\n");
	AiqExecution *exec;
	AiqStepState *flaky;
	guint n_retry = 0;

	ctx_init(&ctx);
	engine = engine_new(&ctx, NULL, NULL);
	exec = run_one(&ctx, engine, def, NULL);
	flaky = state_of(exec, "flaky");
	g_assert_cmpint(flaky->status, ==, AIQ_STEP_STATUS_SUCCEEDED);
	g_assert_cmpint(json_node_get_int(flaky->output), ==, 4);
	g_assert_cmpuint(flaky->attempts, ==, 4);
	g_assert_cmpuint(flaky->attempt_log->len, ==, 4);
	for (guint i = 0; i < 3; i++) {
		AiqAttempt *a = &g_array_index(flaky->attempt_log, AiqAttempt, i);
		g_assert_cmpuint(a->number, ==, i + 1);
		g_assert_cmpstr(a->status, ==, "failed");
		g_assert_nonnull(strstr(a->error_message, "try"));
	}
	/* delays: 20, 40, then capped at 50; jitter takes up to half of each */
	for (guint i = 0; i < ctx.events->len; i++) {
		AiqEvent *event = g_ptr_array_index(ctx.events, i);
		gint64 delay;
		gint64 base;
		if (event->type != AIQ_EVENT_ATTEMPT_FINISHED ||
		    g_strcmp0(event->step_id, "flaky") != 0)
			continue;
		delay = aiq_json_object_get_int(json_node_get_object(event->data),
						"retry_in_ms",
						-1);
		base = MIN(20 << (event->attempt - 1), 50);
		g_assert_cmpint(delay, <=, base);
		g_assert_cmpint(delay, >=, base / 2);
		n_retry++;
	}
	g_assert_cmpuint(n_retry, ==, 3);
	g_assert_cmpint(state_of(exec, "hopeless")->status, ==, AIQ_STEP_STATUS_FAILED);
	g_assert_cmpuint(state_of(exec, "hopeless")->attempts, ==, 2);
	g_assert_cmpint(aiq_execution_get_status(exec), ==, AIQ_EXECUTION_STATUS_FAILED);
	ctx_clear(&ctx);
}

static void
test_engine_step_timeout(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def = def_new("name: slow\n"
					       "steps:\n"
					       "  - id: nap\n"
					       "    uses: delay\n"
					       "    timeout: 50ms\n"
					       "    retry: { max_attempts: 2, initial: 10ms }\n"
					       "    with: { duration: 1h }\n");
	AiqExecution *exec;
	AiqStepState *nap;
	gint64 t0 = g_get_monotonic_time();

	ctx_init(&ctx);
	engine = engine_new(&ctx, NULL, NULL);
	exec = run_one(&ctx, engine, def, NULL);
	nap = state_of(exec, "nap");
	g_assert_cmpint(nap->status, ==, AIQ_STEP_STATUS_FAILED);
	g_assert_cmpstr(nap->error_code, ==, "timed_out");
	g_assert_cmpuint(nap->attempts, ==, 2);
	g_assert_cmpstr(g_array_index(nap->attempt_log, AiqAttempt, 0).status, ==, "timed_out");
	/* the hour-long delay was really stopped */
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 30 * G_USEC_PER_SEC);
	ctx_clear(&ctx);
}

static void
test_engine_execution_timeout(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def = def_new("name: too-long\n"
					       "timeout: 100ms\n"
					       "steps:\n"
					       "  - id: first\n"
					       "    uses: delay\n"
					       "    with: { duration: 1h }\n"
					       "  - id: second\n"
					       "    uses: transform\n"
					       "    with: { value: 1 }\n");
	AiqExecution *exec;

	ctx_init(&ctx);
	engine = engine_new(&ctx, NULL, NULL);
	exec = run_one(&ctx, engine, def, NULL);
	g_assert_cmpint(aiq_execution_get_status(exec), ==, AIQ_EXECUTION_STATUS_TIMED_OUT);
	g_assert_cmpint(state_of(exec, "first")->status, ==, AIQ_STEP_STATUS_CANCELLED);
	g_assert_cmpint(state_of(exec, "second")->status, ==, AIQ_STEP_STATUS_CANCELLED);
	g_assert_nonnull(strstr(aiq_execution_get_error_message(exec), "timed out after 100ms"));
	ctx_clear(&ctx);
}

static gboolean
cancel_cb(gpointer user_data)
{
	gpointer *args = user_data;
	g_assert_true(aiq_engine_cancel(args[0], args[1], "stop it"));
	return G_SOURCE_REMOVE;
}

static void
test_engine_cancel(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def = def_new("name: cancel-me\n"
					       "steps:\n"
					       "  - id: wait\n"
					       "    uses: delay\n"
					       "    with: { duration: 1h }\n"
					       "  - id: never\n"
					       "    uses: transform\n"
					       "    with: { value: 1 }\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqExecution) exec = NULL;
	gpointer args[2];

	ctx_init(&ctx);
	engine = engine_new(&ctx, NULL, NULL);
	exec = aiq_engine_start(engine, def, NULL, NULL, &error);
	g_assert_no_error(error);
	args[0] = engine;
	args[1] = (gpointer)aiq_execution_get_id(exec);
	g_timeout_add(50, cancel_cb, args);
	g_main_loop_run(ctx.loop);
	g_assert_cmpint(aiq_execution_get_status(ctx.result), ==, AIQ_EXECUTION_STATUS_CANCELLED);
	g_assert_cmpstr(aiq_execution_get_error_message(ctx.result), ==, "stop it");
	g_assert_cmpint(state_of(ctx.result, "wait")->status, ==, AIQ_STEP_STATUS_CANCELLED);
	g_assert_cmpint(state_of(ctx.result, "never")->status, ==, AIQ_STEP_STATUS_CANCELLED);
	g_assert_false(aiq_engine_cancel(engine, aiq_execution_get_id(exec), NULL));
	ctx_clear(&ctx);
}

static void
test_engine_many(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def = def_new(
		"name: many\n"
		"inputs: { i: { type: integer } }\n"
		"steps:\n"
		"  - { id: a, uses: transform, with: { value: '${{ inputs.i }}' } }\n"
		"  - { id: b, uses: transform, with: { value: '${{ steps.a.output + 1 }}' } }\n"
		"  - { id: c, uses: delay, with: { duration: 1ms } }\n"
		"  - { id: d, uses: transform, with: { value: '${{ steps.b.output * 2 }}' } }\n"
		"outputs: { d: '${{ steps.d.output }}' }\n");
	g_autoptr(GPtrArray) execs =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_execution_unref);

	ctx_init(&ctx);
	ctx.expected = 300;
	engine = engine_new(&ctx, NULL, NULL);
	for (guint i = 0; i < ctx.expected; i++) {
		g_autoptr(JsonObject) inputs = json_object_new();
		g_autoptr(GError) error = NULL;
		AiqExecution *exec;
		json_object_set_int_member(inputs, "i", i);
		exec = aiq_engine_start(engine, def, inputs, NULL, &error);
		g_assert_no_error(error);
		g_ptr_array_add(execs, exec);
	}
	g_assert_cmpuint(aiq_engine_get_n_running(engine), ==, ctx.expected);
	g_main_loop_run(ctx.loop);
	for (guint i = 0; i < execs->len; i++) {
		AiqExecution *exec = g_ptr_array_index(execs, i);
		JsonObject *outputs = json_node_get_object(aiq_execution_get_outputs(exec));
		g_assert_cmpint(aiq_execution_get_status(exec), ==, AIQ_EXECUTION_STATUS_SUCCEEDED);
		g_assert_cmpint(json_object_get_int_member(outputs, "d"), ==, ((gint)i + 1) * 2);
	}
	g_assert_cmpuint(aiq_engine_get_n_running(engine), ==, 0);
	ctx_clear(&ctx);
}

static void
test_engine_inputs(void)
{
	g_autoptr(AiqEngine) engine = aiq_engine_new(NULL, NULL);
	g_autoptr(AiqDefinition) def =
		def_new("name: in\n"
			"inputs:\n"
			"  count: { type: integer, required: true }\n"
			"  mode: { type: string, choices: [fast, slow], default: fast }\n"
			"steps:\n"
			"  - { id: a, uses: transform, with: { value: 1 } }\n");
	g_autoptr(JsonObject) inputs = json_object_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqExecution) exec = NULL;

	exec = aiq_engine_start(engine, def, inputs, NULL, &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_INPUT);
	g_assert_nonnull(strstr(error->message, "inputs.count: missing required input"));
	g_clear_error(&error);
	json_object_set_string_member(inputs, "count", "five");
	json_object_set_string_member(inputs, "mdoe", "fast");
	exec = aiq_engine_start(engine, def, inputs, NULL, &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_INPUT);
	g_assert_nonnull(strstr(error->message, "inputs.count: expected integer, got string"));
	g_assert_nonnull(strstr(error->message, "did you mean “mode”"));
	g_assert_null(exec);
}

static void
test_engine_kind_disabled(void)
{
	g_autoptr(AiqConfig) config = aiq_config_new();
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def =
		def_new("name: sh\n"
			"steps:\n"
			"  - { id: a, uses: shell, with: { command: [/bin/true] } }\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqExecution) exec = NULL;

	aiq_config_set_kind_enabled(config, "shell", FALSE);
	engine = aiq_engine_new(config, NULL);
	exec = aiq_engine_start(engine, def, NULL, NULL, &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_KIND_DISABLED);
	g_assert_nonnull(strstr(error->message, "steps[0].uses"));
	g_assert_null(exec);
}

static void
test_engine_secrets_and_cap(void)
{
	Ctx ctx;
	g_autoptr(AiqConfig) config = aiq_config_new();
	g_autoptr(AiqSecrets) secrets = aiq_secrets_new();
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def =
		def_new("name: secret\n"
			"steps:\n"
			"  - id: leak\n"
			"    uses: transform\n"
			"    with: { value: 'token=${{ secrets.API_TOKEN }}' }\n"
			"  - id: big\n"
			"    uses: script\n"
			"    needs: []\n"
			"    with: { code: 'return string.rep(\"x\", 5000)' }\n"
			"  - id: err\n"
			"    uses: script\n"
			"    needs: []\n"
			"    with: { code: 'error(\"bad \" .. secrets.API_TOKEN)' }\n");
	AiqExecution *exec;

	ctx_init(&ctx);
	aiq_config_set_output_cap(config, 4096);
	aiq_secrets_set(secrets, "API_TOKEN", "s3cr3t-value");
	engine = engine_new(&ctx, config, NULL);
	aiq_engine_set_secrets(engine, secrets);
	exec = run_one(&ctx, engine, def, NULL);
	g_assert_cmpstr(json_node_get_string(state_of(exec, "leak")->output), ==, "token=***");
	g_assert_cmpint(state_of(exec, "big")->status, ==, AIQ_STEP_STATUS_FAILED);
	g_assert_cmpstr(state_of(exec, "big")->error_code, ==, "too_large");
	g_assert_null(strstr(state_of(exec, "err")->error_message, "s3cr3t-value"));
	g_assert_nonnull(strstr(state_of(exec, "err")->error_message, "***"));
	/* nothing recorded anywhere holds the value */
	for (guint i = 0; i < ctx.events->len; i++) {
		g_autoptr(JsonNode) node = aiq_event_to_json(g_ptr_array_index(ctx.events, i));
		g_autofree gchar *text = aiq_json_to_string(node, FALSE);
		g_assert_null(strstr(text, "s3cr3t-value"));
	}
	ctx_clear(&ctx);
}

static AiqDefinition *
resolve_child_cb(AiqEngine *engine,
		 AiqDefinition *parent,
		 const gchar *name,
		 const gchar *path,
		 gpointer user_data,
		 GError **error)
{
	if (g_strcmp0(name, "child") != 0) {
		g_set_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, "no workflow %s", name);
		return NULL;
	}
	return def_new(
		"name: child\n"
		"inputs: { x: { type: integer } }\n"
		"steps:\n"
		"  - { id: sq, uses: transform, with: { value: '${{ inputs.x * inputs.x }}' } }\n"
		"outputs: { square: '${{ steps.sq.output }}' }\n");
}

static void
test_engine_sub_workflow(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def =
		def_new("name: parent\n"
			"steps:\n"
			"  - id: call\n"
			"    uses: workflow\n"
			"    with: { name: child, inputs: { x: 7 } }\n"
			"  - id: use\n"
			"    uses: transform\n"
			"    with: { value: '${{ steps.call.output.outputs.square }}' }\n"
			"  - id: missing\n"
			"    uses: workflow\n"
			"    needs: []\n"
			"    continue_on_error: true\n"
			"    with: { name: nope }\n");
	AiqExecution *exec;
	AiqStepState *call;

	ctx_init(&ctx);
	ctx.expected = 2; /* the child finishes first */
	engine = engine_new(&ctx, NULL, NULL);
	aiq_engine_set_workflow_resolver(engine, resolve_child_cb, NULL, NULL);
	exec = run_one(&ctx, engine, def, NULL);
	g_assert_cmpint(aiq_execution_get_status(exec), ==, AIQ_EXECUTION_STATUS_SUCCEEDED);
	call = state_of(exec, "call");
	g_assert_cmpstr(aiq_json_object_get_string(json_node_get_object(call->output), "status"),
			==,
			"succeeded");
	g_assert_cmpint(json_node_get_int(state_of(exec, "use")->output), ==, 49);
	g_assert_cmpint(state_of(exec, "missing")->status, ==, AIQ_STEP_STATUS_FAILED);
	g_assert_nonnull(strstr(state_of(exec, "missing")->error_message, "no workflow nope"));
	ctx_clear(&ctx);
}

static void
test_engine_child_id(void)
{
	g_autofree gchar *a = aiq_engine_child_id("exec/step");
	g_autofree gchar *b = aiq_engine_child_id("exec/step");
	g_autofree gchar *c = aiq_engine_child_id("exec/other");
	g_assert_true(aiq_id_is_valid(a));
	g_assert_cmpstr(a, ==, b);
	g_assert_cmpstr(a, !=, c);
}

/* durability and resume */

static gchar *
make_tmpdir(void)
{
	g_autoptr(GError) error = NULL;
	gchar *dir = g_dir_make_tmp("aiq-engine-XXXXXX", &error);
	g_assert_no_error(error);
	return dir;
}

static gboolean
quit_when_step_done_cb(gpointer user_data)
{
	Ctx *ctx = user_data;
	if (count_events(ctx->events, AIQ_EVENT_STEP_FINISHED, "one") > 0) {
		g_main_loop_quit(ctx->loop);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void
test_engine_resume(void)
{
	g_autofree gchar *dir = make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "journal.db", NULL);
	g_autoptr(AiqDefinition) def = def_new(
		"name: resumable\n"
		"steps:\n"
		"  - { id: one, uses: transform, with: { value: first } }\n"
		"  - id: two\n"
		"    uses: script\n"
		"    with: { code: 'return steps.one.output .. \"+\" .. execution.step_key' }\n"
		"  - id: fan\n"
		"    uses: delay\n"
		"    needs: []\n"
		"    for_each: [0, 0, 0, 2000]\n"
		"    concurrency: 4\n"
		"    with: { duration: '${{ item }}ms' }\n");
	g_autofree gchar *exec_id = NULL;
	g_autoptr(GError) error = NULL;
	Ctx ctx;

	/* first life: step one finishes, the long for_each item is still running */
	{
		g_autoptr(AiqJournal) journal = aiq_journal_new(path, &error);
		g_autoptr(AiqEngine) engine = NULL;
		g_autoptr(AiqExecution) exec = NULL;
		g_assert_no_error(error);
		ctx_init(&ctx);
		engine = engine_new(&ctx, NULL, journal);
		exec = aiq_engine_start(engine, def, NULL, NULL, &error);
		g_assert_no_error(error);
		exec_id = g_strdup(aiq_execution_get_id(exec));
		g_timeout_add(5, quit_when_step_done_cb, &ctx);
		g_main_loop_run(ctx.loop);
		/* give the three short items time to finish */
		while (count_events(ctx.events, AIQ_EVENT_ITEM_FINISHED, "fan") < 3)
			g_main_context_iteration(NULL, TRUE);
		g_assert_true(aiq_journal_flush(journal, &error));
		g_assert_cmpuint(count_events(ctx.events, AIQ_EVENT_EXECUTION_FINISHED, NULL),
				 ==,
				 0);
		/* the process "dies": nothing more is written */
		g_assert_true(aiq_journal_close(journal, &error));
		ctx_clear(&ctx);
	}

	/* second life: resume */
	{
		g_autoptr(AiqJournal) journal = aiq_journal_new(path, &error);
		g_autoptr(AiqEngine) engine = NULL;
		g_autoptr(GPtrArray) events = NULL;
		AiqExecution *exec;
		g_assert_no_error(error);
		ctx_init(&ctx);
		engine = engine_new(&ctx, NULL, journal);
		g_assert_cmpuint(aiq_engine_resume(engine, &error), ==, 1);
		g_assert_no_error(error);
		g_main_loop_run(ctx.loop);
		exec = ctx.result;
		g_assert_cmpstr(aiq_execution_get_id(exec), ==, exec_id);
		g_assert_cmpint(aiq_execution_get_status(exec), ==, AIQ_EXECUTION_STATUS_SUCCEEDED);
		/* finished steps and items were not run again */
		g_assert_cmpuint(count_events(ctx.events, AIQ_EVENT_STEP_STARTED, "one"), ==, 0);
		g_assert_cmpuint(count_events(ctx.events, AIQ_EVENT_ITEM_FINISHED, "fan"), ==, 1);
		g_assert_cmpuint(
			json_array_get_length(json_node_get_array(state_of(exec, "fan")->output)),
			==,
			4);
		/* the pure step finished in the first life and kept its output */
		g_assert_cmpuint(count_events(ctx.events, AIQ_EVENT_STEP_STARTED, "two"), ==, 0);
		{
			g_autofree gchar *expected = g_strdup_printf("first+%s/two", exec_id);
			g_assert_cmpstr(json_node_get_string(state_of(exec, "two")->output),
					==,
					expected);
		}
		g_assert_true(aiq_journal_flush(journal, &error));
		/* the journal holds one history without gaps or duplicates */
		events = aiq_journal_load_events(journal, exec_id, &error);
		g_assert_no_error(error);
		for (guint i = 0; i < events->len; i++)
			g_assert_cmpint(((AiqEvent *)g_ptr_array_index(events, i))->seq,
					==,
					(gint64)i + 1);
		g_assert_cmpuint(count_events(events, AIQ_EVENT_STEP_FINISHED, "one"), ==, 1);
		g_assert_cmpuint(count_events(events, AIQ_EVENT_STEP_FINISHED, "fan"), ==, 1);
		g_assert_cmpuint(count_events(events, AIQ_EVENT_ITEM_FINISHED, "fan"), ==, 4);
		/* nothing left to resume */
		g_assert_cmpuint(aiq_engine_resume(engine, &error), ==, 0);
		ctx_clear(&ctx);
	}
	aiq_test_rm_rf(dir);
}

static void
test_engine_load_record(void)
{
	g_autofree gchar *dir = make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "journal.db", NULL);
	g_autoptr(AiqDefinition) def =
		def_new("name: rec\n"
			"steps:\n"
			"  - { id: a, uses: transform, with: { value: { k: [1, 2] } } }\n"
			"  - { id: b, uses: script, retry: { max_attempts: 2, initial: 1ms }, "
			"      with: { code: 'error(\"x\")' } }\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) journal = aiq_journal_new(path, &error);
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqExecution) loaded = NULL;
	g_autoptr(JsonNode) live_json = NULL;
	g_autoptr(JsonNode) loaded_json = NULL;
	Ctx ctx;

	g_assert_no_error(error);
	ctx_init(&ctx);
	engine = engine_new(&ctx, NULL, journal);
	run_one(&ctx, engine, def, NULL);
	/* once finished, the record rebuilt from the journal equals the live one */
	loaded = aiq_engine_load(engine, aiq_execution_get_id(ctx.result), &error);
	g_assert_no_error(error);
	live_json = aiq_execution_to_json(ctx.result);
	loaded_json = aiq_execution_to_json(loaded);
	g_assert_true(json_node_equal(live_json, loaded_json));
	g_assert_cmpuint(state_of(loaded, "b")->attempts, ==, 2);
	ctx_clear(&ctx);
	g_clear_object(&engine);
	aiq_journal_close(journal, NULL);
	aiq_test_rm_rf(dir);
}

static void
test_engine_completed_steps(void)
{
	Ctx ctx;
	g_autoptr(AiqEngine) engine = NULL;
	g_autoptr(AiqDefinition) def = def_new(
		"name: retry-from\n"
		"steps:\n"
		"  - { id: a, uses: transform, with: { value: fresh } }\n"
		"  - { id: b, uses: transform, with: { value: '${{ steps.a.output }}!' } }\n");
	g_autoptr(JsonObject) completed = json_object_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqExecution) exec = NULL;
	AiqStartOptions options = { .completed = completed };

	ctx_init(&ctx);
	engine = engine_new(&ctx, NULL, NULL);
	json_object_set_string_member(completed, "a", "kept");
	exec = aiq_engine_start(engine, def, NULL, &options, &error);
	g_assert_no_error(error);
	g_main_loop_run(ctx.loop);
	/* a was not run again: its earlier output was used */
	g_assert_cmpstr(json_node_get_string(state_of(ctx.result, "a")->output), ==, "kept");
	g_assert_cmpuint(count_events(ctx.events, AIQ_EVENT_STEP_STARTED, "a"), ==, 0);
	g_assert_cmpstr(json_node_get_string(state_of(ctx.result, "b")->output), ==, "kept!");
	ctx_clear(&ctx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/engine/chain", test_engine_chain);
	g_test_add_func("/aiq/engine/parallel-limit", test_engine_parallel_limit);
	g_test_add_func("/aiq/engine/if-and-skip", test_engine_if_and_skip);
	g_test_add_func("/aiq/engine/error-path", test_engine_error_path);
	g_test_add_func("/aiq/engine/for-each", test_engine_for_each);
	g_test_add_func("/aiq/engine/retry-backoff", test_engine_retry_backoff);
	g_test_add_func("/aiq/engine/step-timeout", test_engine_step_timeout);
	g_test_add_func("/aiq/engine/execution-timeout", test_engine_execution_timeout);
	g_test_add_func("/aiq/engine/cancel", test_engine_cancel);
	g_test_add_func("/aiq/engine/many", test_engine_many);
	g_test_add_func("/aiq/engine/inputs", test_engine_inputs);
	g_test_add_func("/aiq/engine/kind-disabled", test_engine_kind_disabled);
	g_test_add_func("/aiq/engine/secrets-and-cap", test_engine_secrets_and_cap);
	g_test_add_func("/aiq/engine/sub-workflow", test_engine_sub_workflow);
	g_test_add_func("/aiq/engine/child-id", test_engine_child_id);
	g_test_add_func("/aiq/engine/resume", test_engine_resume);
	g_test_add_func("/aiq/engine/load-record", test_engine_load_record);
	g_test_add_func("/aiq/engine/completed-steps", test_engine_completed_steps);
	return g_test_run();
}
