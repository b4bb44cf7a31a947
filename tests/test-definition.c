/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <string.h>

#include "aiq-definition.h"
#include "aiq-document.h"
#include "aiq-error.h"
#include "aiq-json.h"

static const gchar *sketch =
	"name: nightly-invoice-sync\n"
	"description: Copy invoices\n"
	"runs_on: { labels: [site-a] }\n"
	"triggers:\n"
	"  - schedule: { cron: \"0 2 * * 1-5\", timezone: Asia/Singapore }\n"
	"  - webhook: {}\n"
	"  - manual: {}\n"
	"inputs:\n"
	"  since: { type: string, default: \"yesterday\" }\n"
	"steps:\n"
	"  - id: fetch\n"
	"    uses: http\n"
	"    with: { method: GET, url: \"https://erp.internal/api/invoices?since=${{ inputs.since }}\" }\n"
	"    retry: { max_attempts: 5, backoff: exponential, initial: 500ms, max: 30s }\n"
	"    timeout: 10s\n"
	"  - id: store\n"
	"    uses: sql\n"
	"    if: ${{ steps.fetch.output.status == 200 }}\n"
	"    for_each: ${{ steps.fetch.output.body.items }}\n"
	"    concurrency: 4\n"
	"    with: { connection: erp, query: \"INSERT INTO inv(id, total) VALUES (?, ?)\",\n"
	"            params: [\"${{ item.id }}\", \"${{ item.total }}\"] }\n"
	"  - id: notify\n"
	"    uses: email\n"
	"    needs: [store]\n"
	"    continue_on_error: true\n"
	"    with: { to: ops@example.com, subject: \"Imported ${{ #steps.store.output }} invoices\",\n"
	"            text: done }\n";

static AiqDefinition *
parse(const gchar *text, AiqProblems *problems)
{
	g_autoptr(GError) error = NULL;
	return aiq_definition_new_from_data(text, strlen(text), NULL, problems, &error);
}

/* the problems of a document that must be invalid */
static AiqProblems *
problems_of(const gchar *text)
{
	AiqProblems *problems = aiq_problems_new();
	g_autoptr(AiqDefinition) def = parse(text, problems);
	g_assert_null(def);
	g_assert_cmpuint(aiq_problems_get_size(problems), >, 0);
	return problems;
}

/* asserts a problem at exactly @path whose message holds @needle */
static void
assert_problem(AiqProblems *problems, const gchar *path, const gchar *needle)
{
	for (guint i = 0; i < aiq_problems_get_size(problems); i++) {
		const AiqProblem *p = aiq_problems_index(problems, i);
		if (g_strcmp0(p->path, path) == 0 && strstr(p->message, needle) != NULL)
			return;
	}
	{
		g_autofree gchar *text = aiq_problems_to_string(problems, NULL);
		g_error("no problem at “%s” with “%s”; got:\n%s", path, needle, text);
	}
}

static void
test_definition_sketch(void)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqDefinition) def = parse(sketch, problems);
	const AiqStep *store;
	const AiqStep *notify;
	const AiqTrigger *schedule;

	g_assert_cmpuint(aiq_problems_get_size(problems), ==, 0);
	g_assert_nonnull(def);
	g_assert_cmpstr(aiq_definition_get_name(def), ==, "nightly-invoice-sync");
	g_assert_cmpstr(aiq_definition_get_labels(def)[0], ==, "site-a");
	g_assert_cmpuint(aiq_definition_get_n_triggers(def), ==, 3);
	schedule = aiq_definition_get_trigger(def, 0);
	g_assert_cmpint(schedule->kind, ==, AIQ_TRIGGER_KIND_SCHEDULE);
	g_assert_cmpstr(schedule->timezone, ==, "Asia/Singapore");
	g_assert_cmpint(schedule->catch_up, ==, AIQ_CATCH_UP_LAST);
	g_assert_cmpuint(aiq_definition_get_n_steps(def), ==, 3);
	store = aiq_definition_get_step(def, 1);
	g_assert_cmpstr(store->for_each_expr, ==, "steps.fetch.output.body.items");
	g_assert_cmpuint(store->concurrency, ==, 4);
	/* without needs a step follows the one before it */
	g_assert_cmpuint(store->n_deps, ==, 1);
	g_assert_cmpuint(store->deps[0], ==, 0);
	notify = aiq_definition_get_step(def, 2);
	g_assert_true(notify->continue_on_error);
	g_assert_cmpuint(aiq_definition_get_step(def, 0)->retry.max_attempts, ==, 5);
	g_assert_cmpint(aiq_definition_get_step(def, 0)->retry.initial_ms, ==, 500);
	g_assert_cmpint(aiq_definition_get_step(def, 0)->timeout_ms, ==, 10000);
}

static void
test_definition_canonical(void)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqDefinition) def = parse(sketch, problems);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *yaml = aiq_definition_to_yaml(def, &error);
	g_autoptr(AiqDefinition) from_yaml = NULL;
	g_autoptr(AiqDefinition) from_json = NULL;
	g_autoptr(JsonNode) a = NULL;
	g_autoptr(JsonNode) b = NULL;

	g_assert_no_error(error);
	/* the canonical YAML reads back to the same definition */
	from_yaml = parse(yaml, problems);
	g_assert_nonnull(from_yaml);
	a = aiq_definition_to_json(def);
	b = aiq_definition_to_json(from_yaml);
	g_assert_true(json_node_equal(a, b));
	/* JSON and YAML of the same tree are the same definition */
	from_json = parse(aiq_definition_get_canonical_json(def), problems);
	g_assert_nonnull(from_json);
	g_assert_cmpstr(aiq_definition_get_digest(def), ==, aiq_definition_get_digest(from_json));
	g_assert_cmpstr(aiq_definition_get_digest(def), ==, aiq_definition_get_digest(from_yaml));
	g_assert_cmpuint(strlen(aiq_definition_get_digest(def)), ==, 64);
	/* canonical order: name first, steps before timeout */
	g_assert_true(g_str_has_prefix(yaml, "name: nightly-invoice-sync\n"));
}

static void
test_definition_canonical_durations(void)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqDefinition) def = parse(
		"{\"name\":\"d\",\"timeout\":\"90s\",\"steps\":[{\"id\":\"a\",\"uses\":\"delay\","
		"\"timeout\":\"1500ms\",\"with\":{\"duration\":\"1s\"}}]}",
		problems);
	g_autoptr(JsonNode) node = NULL;
	JsonObject *obj;
	g_assert_nonnull(def);
	node = aiq_definition_to_json(def);
	obj = json_node_get_object(node);
	g_assert_cmpstr(json_object_get_string_member(obj, "timeout"), ==, "1m30s");
	g_assert_cmpstr(
		json_object_get_string_member(
			json_array_get_object_element(json_object_get_array_member(obj, "steps"),
						      0),
			"timeout"),
		==,
		"1s500ms");
}

static void
test_definition_all_problems_at_once(void)
{
	g_autoptr(AiqProblems) problems =
		problems_of("name: broken\n"
			    "stpes: []\n"
			    "triggers:\n"
			    "  - schedule: { cron: \"61 * * * *\", timezone: Mars/Olympus_Mons }\n"
			    "  - hourly: {}\n"
			    "steps:\n"
			    "  - id: fetch\n"
			    "    uses: htp\n"
			    "    timeout: 10 seconds\n"
			    "  - id: fetch\n"
			    "    uses: transform\n"
			    "    neds: [x]\n"
			    "    with: { value: '${{ inputs.( }}' }\n"
			    "  - id: mail\n"
			    "    uses: email\n"
			    "    needs: [fetc]\n"
			    "    with: { to: a@b.c, subjet: hi }\n");
	assert_problem(problems, "stpes", "did you mean “steps”");
	assert_problem(problems, "triggers[0].schedule.cron", "minute");
	assert_problem(problems, "triggers[0].schedule.timezone", "Mars/Olympus_Mons");
	assert_problem(problems, "triggers[1].hourly", "unknown trigger");
	assert_problem(problems, "steps[0].uses", "did you mean “http”");
	assert_problem(problems, "steps[0].timeout", "not a duration");
	assert_problem(problems, "steps[1].id", "duplicate step id “fetch” (also steps[0])");
	assert_problem(problems, "steps[1].neds", "did you mean “needs”");
	assert_problem(problems, "steps[1].with.value", "expression");
	assert_problem(problems, "steps[2].needs", "did you mean “fetch”");
	assert_problem(problems, "steps[2].with.subjet", "did you mean “subject”");
	assert_problem(problems, "steps[2].with.subject", "missing required parameter");
	g_assert_cmpuint(aiq_problems_get_size(problems), >=, 12);
}

static void
test_definition_cycles(void)
{
	g_autoptr(AiqProblems) problems =
		problems_of("name: loop\n"
			    "steps:\n"
			    "  - { id: a, uses: transform, needs: [c], with: { value: 1 } }\n"
			    "  - { id: b, uses: transform, needs: [a], with: { value: 1 } }\n"
			    "  - { id: c, uses: transform, needs: [b], with: { value: 1 } }\n"
			    "  - { id: d, uses: transform, needs: [d], with: { value: 1 } }\n");
	g_autoptr(AiqProblems) implicit = NULL;
	g_autofree gchar *text = aiq_problems_to_string(problems, NULL);

	g_assert_nonnull(strstr(text, "steps form a cycle: "));
	/* the cycle is named, step by step, back to where it began */
	g_assert_true(strstr(text, "a → c → b → a") != NULL ||
		      strstr(text, "c → b → a → c") != NULL ||
		      strstr(text, "b → a → c → b") != NULL);
	assert_problem(problems, "steps[3].needs", "needs itself");
	/* an implicit dependency (on the step before) can close a cycle too */
	implicit = problems_of("name: implicit\n"
			       "steps:\n"
			       "  - { id: a, uses: transform, with: { value: 1 } }\n"
			       "  - { id: b, uses: transform, needs: [c], with: { value: 1 } }\n"
			       "  - { id: c, uses: transform, with: { value: 1 } }\n");
	g_clear_pointer(&text, g_free);
	text = aiq_problems_to_string(implicit, NULL);
	g_assert_nonnull(strstr(text, "cycle"));
}

static void
test_definition_types(void)
{
	g_autoptr(AiqProblems) problems =
		problems_of("name: types\n"
			    "inputs:\n"
			    "  n: { type: integer, default: ten }\n"
			    "  m: { type: nummber }\n"
			    "steps:\n"
			    "  - id: call\n"
			    "    uses: http\n"
			    "    with: { url: 5, method: FETCH, headers: [a], timeout: soon }\n"
			    "    retry: { max_attempts: 0, initial: 10s, max: 1s, jitter: 2 }\n"
			    "    concurrency: 3\n"
			    "    continue_on_error: yes\n"
			    "  - id: each\n"
			    "    uses: transform\n"
			    "    for_each: 12\n"
			    "    if: [1]\n"
			    "    with: { value: 1 }\n"
			    "  - id: '2bad'\n"
			    "    uses: transform\n"
			    "    with: 7\n");
	assert_problem(problems, "inputs.n.default", "expected integer, got string");
	assert_problem(problems, "inputs.m.type", "did you mean “number”");
	assert_problem(problems, "steps[0].with.url", "expected string, got integer");
	assert_problem(problems, "steps[0].with.method", "“FETCH” is not one of");
	assert_problem(problems, "steps[0].with.headers", "expected string-map, got array");
	assert_problem(problems, "steps[0].with.timeout", "not a duration");
	assert_problem(problems, "steps[0].retry.max_attempts", "out of range");
	assert_problem(problems, "steps[0].retry.max", "shorter than initial");
	assert_problem(problems, "steps[0].retry.jitter", "fraction");
	assert_problem(problems, "steps[0].concurrency", "no for_each");
	assert_problem(problems, "steps[0].continue_on_error", "true or false");
	assert_problem(problems, "steps[1].for_each", "a list or an expression");
	assert_problem(problems, "steps[1].if", "an expression or true/false");
	assert_problem(problems, "steps[2].id", "must start with a letter");
	assert_problem(problems, "steps[2].with", "expected an object of parameters");
}

static void
test_definition_expressions(void)
{
	g_autoptr(AiqProblems) problems =
		problems_of("name: exprs\n"
			    "steps:\n"
			    "  - id: a\n"
			    "    uses: transform\n"
			    "    if: steps.x.output ==\n"
			    "    with: { value: { nested: ['ok', '${{ 1 + }}'] } }\n"
			    "  - id: b\n"
			    "    uses: transform\n"
			    "    for_each: '${{ {1, 2 }}'\n"
			    "    with: { value: 'text ${{ unterminated' }\n"
			    "  - id: c\n"
			    "    uses: script\n"
			    "    with: { code: 'return (' }\n"
			    "  - id: d\n"
			    "    uses: transform\n"
			    "    if: 'a ${{ x }} b'\n"
			    "    with: { value: 1 }\n"
			    "outputs: { r: '${{ ) }}' }\n");
	assert_problem(problems, "steps[0].if", "");
	assert_problem(problems, "steps[0].with.value.nested[1]", "");
	assert_problem(problems, "steps[1].for_each", "");
	assert_problem(problems, "steps[1].with.value", "");
	assert_problem(problems, "steps[2].with.code", "");
	assert_problem(problems, "steps[3].if", "one ${{ }} expression");
	assert_problem(problems, "outputs.r", "");
}

static void
test_definition_structure(void)
{
	g_autoptr(AiqProblems) a = problems_of("[1, 2]");
	g_autoptr(AiqProblems) b = problems_of("description: no name and no steps\n");
	g_autoptr(AiqProblems) c = problems_of("name: empty\nsteps: []\n");
	g_autoptr(AiqProblems) d =
		problems_of("name: 'bad name!'\nsteps: [ { id: a, uses: delay, "
			    "with: { duration: 1s, until: '2026-01-01T00:00:00Z' } } ]\n");
	assert_problem(a, "", "got array");
	assert_problem(b, "name", "missing required member");
	assert_problem(b, "steps", "missing required member");
	assert_problem(c, "steps", "at least one step");
	assert_problem(d, "name", "workflow name");
	assert_problem(d, "steps[0].with", "either duration or until");
}

static void
test_definition_disabled_kind(void)
{
	g_autoptr(AiqConfig) config = aiq_config_new();
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(GError) error = NULL;
	const gchar *text =
		"name: s\nsteps:\n  - { id: a, uses: shell, with: { command: [ls] } }\n";
	g_autoptr(AiqDefinition) def = NULL;

	aiq_config_set_kind_enabled(config, "shell", FALSE);
	def = aiq_definition_new_from_data(text, strlen(text), config, problems, &error);
	g_assert_null(def);
	assert_problem(problems, "steps[0].uses", "switched off");
}

static void
test_definition_bad_documents(void)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqDefinition) def = NULL;
	g_autoptr(GString) deep = g_string_new(NULL);

	def = aiq_definition_new_from_data("name: x\nsteps: [\n", 17, NULL, problems, &error);
	g_assert_null(def);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
	g_assert_nonnull(strstr(error->message, "line"));
	g_clear_error(&error);

	for (guint i = 0; i < 100000; i++)
		g_string_append_c(deep, '[');
	def = aiq_definition_new_from_data(deep->str, deep->len, NULL, problems, &error);
	g_assert_null(def);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_clear_error(&error);

	def = aiq_definition_new_from_file("/nonexistent/flow.yaml", NULL, problems, &error);
	g_assert_null(def);
	g_assert_nonnull(strstr(error->message, "/nonexistent/flow.yaml"));
	g_assert_cmpuint(aiq_problems_get_size(problems), ==, 0);
}

static void
test_definition_input_values(void)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqDefinition) def =
		parse("name: in\n"
		      "inputs:\n"
		      "  n: { type: integer }\n  x: { type: number }\n  b: { type: boolean }\n"
		      "  o: { type: object }\n  s: {}\n  a: { type: any }\n"
		      "steps: [ { id: t, uses: transform, with: { value: 1 } } ]\n",
		      problems);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) n = aiq_definition_parse_input_value(def, "n", "42", &error);
	g_autoptr(JsonNode) x = aiq_definition_parse_input_value(def, "x", "2.5", &error);
	g_autoptr(JsonNode) b = aiq_definition_parse_input_value(def, "b", "yes", &error);
	g_autoptr(JsonNode) o = aiq_definition_parse_input_value(def, "o", "{\"k\":1}", &error);
	g_autoptr(JsonNode) s = aiq_definition_parse_input_value(def, "s", "42", &error);
	g_autoptr(JsonNode) a = aiq_definition_parse_input_value(def, "a", "not json", &error);
	g_autoptr(JsonNode) bad = NULL;

	g_assert_no_error(error);
	g_assert_cmpint(json_node_get_int(n), ==, 42);
	g_assert_cmpfloat(json_node_get_double(x), ==, 2.5);
	g_assert_true(json_node_get_boolean(b));
	g_assert_true(JSON_NODE_HOLDS_OBJECT(o));
	g_assert_cmpstr(json_node_get_string(s), ==, "42");
	g_assert_cmpstr(json_node_get_string(a), ==, "not json");
	bad = aiq_definition_parse_input_value(def, "n", "4x", &error);
	g_assert_null(bad);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_INPUT);
	g_assert_nonnull(strstr(error->message, "inputs.n"));
	g_clear_error(&error);
	bad = aiq_definition_parse_input_value(def, "zzz", "1", &error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_INPUT);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/definition/sketch", test_definition_sketch);
	g_test_add_func("/aiq/definition/canonical", test_definition_canonical);
	g_test_add_func("/aiq/definition/canonical-durations", test_definition_canonical_durations);
	g_test_add_func("/aiq/definition/all-problems-at-once",
			test_definition_all_problems_at_once);
	g_test_add_func("/aiq/definition/cycles", test_definition_cycles);
	g_test_add_func("/aiq/definition/types", test_definition_types);
	g_test_add_func("/aiq/definition/expressions", test_definition_expressions);
	g_test_add_func("/aiq/definition/structure", test_definition_structure);
	g_test_add_func("/aiq/definition/disabled-kind", test_definition_disabled_kind);
	g_test_add_func("/aiq/definition/bad-documents", test_definition_bad_documents);
	g_test_add_func("/aiq/definition/input-values", test_definition_input_values);
	return g_test_run();
}
