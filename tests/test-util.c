/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <string.h>

#include "aiq-circuit-breaker.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-problems.h"
#include "aiq-secrets.h"
#include "aiq-util.h"

static void
test_util_duration(void)
{
	struct {
		const gchar *text;
		gint64 ms;
		const gchar *canonical;
	} good[] = {
		{ "500ms", 500, "500ms" },       { "30s", 30000, "30s" },
		{ "90s", 90000, "1m30s" },       { "1h30m", 5400000, "1h30m" },
		{ "1d", 86400000, "1d" },        { "0s", 0, "0s" },
		{ "1m1s1ms", 61001, "1m1s1ms" },
	};
	const gchar *bad[] = { "",   "10",  "s",    "10 seconds", "1s1m",
			       "1x", "-1s", "1.5s", "400d",       "9999999999999s" };
	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		gint64 ms = -1;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *back = NULL;
		g_assert_true(aiq_duration_parse(good[i].text, &ms, &error));
		g_assert_no_error(error);
		g_assert_cmpint(ms, ==, good[i].ms);
		back = aiq_duration_to_string(ms);
		g_assert_cmpstr(back, ==, good[i].canonical);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		gint64 ms = -1;
		g_autoptr(GError) error = NULL;
		g_assert_false(aiq_duration_parse(bad[i], &ms, &error));
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	}
}

static void
test_util_size(void)
{
	guint64 bytes = 0;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;
	g_assert_true(aiq_size_parse("1MiB", &bytes, NULL));
	g_assert_cmpuint(bytes, ==, 1048576);
	g_assert_true(aiq_size_parse("512KiB", &bytes, NULL));
	g_assert_cmpuint(bytes, ==, 524288);
	g_assert_true(aiq_size_parse("10MB", &bytes, NULL));
	g_assert_cmpuint(bytes, ==, 10000000);
	g_assert_true(aiq_size_parse("4096", &bytes, NULL));
	g_assert_cmpuint(bytes, ==, 4096);
	g_assert_false(aiq_size_parse("1 TB", &bytes, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(aiq_size_parse("99999999999999999999GiB", &bytes, &error));
	text = aiq_size_to_string(2 * 1024 * 1024);
	g_assert_cmpstr(text, ==, "2MiB");
}

static void
test_util_suggest(void)
{
	const gchar *const words[] = { "steps", "needs", "timeout", "with", "mode", NULL };
	g_assert_cmpstr(aiq_suggest("stpes", words), ==, "steps");
	g_assert_cmpstr(aiq_suggest("mdoe", words), ==, "mode");
	g_assert_cmpstr(aiq_suggest("timeuot", words), ==, "timeout");
	g_assert_cmpstr(aiq_suggest("wiht", words), ==, "with");
	g_assert_null(aiq_suggest("banana", words));
	g_assert_null(aiq_suggest("", words));
}

static void
test_util_ids(void)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree gchar *prev = NULL;
	for (guint i = 0; i < 10000; i++) {
		gchar *id = aiq_id_new();
		g_assert_true(aiq_id_is_valid(id));
		g_assert_cmpint(id[14], ==, '7'); /* version 7 */
		/* time ordered, even within one millisecond */
		if (prev != NULL)
			g_assert_cmpstr(prev, <, id);
		g_free(prev);
		prev = g_strdup(id);
		g_assert_true(g_hash_table_add(seen, id));
	}
	g_assert_false(aiq_id_is_valid("0196F3C2-5B1E-7C3A-9D2E-4F5A6B7C8D9E"));
	g_assert_false(aiq_id_is_valid("nope"));
	g_assert_true(aiq_identifier_is_valid("fetch_2"));
	g_assert_false(aiq_identifier_is_valid("2fetch"));
	g_assert_false(aiq_identifier_is_valid("my-step"));
}

static void
test_util_time(void)
{
	gint64 us = 0;
	g_autofree gchar *text = aiq_time_to_iso8601(1763808420123456);
	g_assert_cmpstr(text, ==, "2025-11-22T10:47:00.123456Z");
	g_assert_true(aiq_time_from_iso8601(text, &us, NULL));
	g_assert_cmpint(us, ==, 1763808420123456);
	g_assert_true(aiq_time_from_iso8601("2026-01-31T09:00:00+08:00", &us, NULL));
	g_assert_cmpint(us, ==, 1769821200000000);
	g_assert_false(aiq_time_from_iso8601("yesterday", &us, NULL));
}

static void
test_util_json_writer(void)
{
	const gchar *docs[] = {
		"{\"z\":1,\"a\":2,\"m\":{\"y\":[true,false,null],\"b\":\"x\"}}",
		"[19.99,0.1,1.0,-0.0,1e+300,123456789012345678]",
		"\"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007 é ☃\"",
	};
	const gchar *expected[] = {
		"{\"z\":1,\"a\":2,\"m\":{\"y\":[true,false,null],\"b\":\"x\"}}",
		"[19.99,0.1,1.0,-0.0,1e+300,123456789012345678]",
		"\"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007 é ☃\"",
	};
	for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = aiq_json_parse(docs[i], strlen(docs[i]), 8, &error);
		g_autoptr(JsonNode) back = NULL;
		g_autofree gchar *text = NULL;
		g_assert_no_error(error);
		text = aiq_json_to_string(node, FALSE);
		/* member order kept, shortest exact doubles, escapes */
		g_assert_cmpstr(text, ==, expected[i]);
		g_assert_cmpuint(aiq_json_get_serialized_size(node), ==, strlen(text));
		back = aiq_json_parse(text, strlen(text), 8, &error);
		g_assert_no_error(error);
		g_assert_true(json_node_equal(node, back));
	}
}

static void
test_util_json_depth(void)
{
	g_autoptr(GString) deep = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	for (guint i = 0; i < 65; i++)
		g_string_append_c(deep, '[');
	/* brackets inside strings do not count */
	node = aiq_json_parse("[\"[[[[[[[[[[\"]", 14, 2, &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);
	node = aiq_json_parse(deep->str, deep->len, 64, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_assert_nonnull(strstr(error->message, "64 levels"));
}

static void
test_util_problems(void)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *path = aiq_path_member("steps[0].with", "Content-Type");
	g_autofree gchar *odd = aiq_path_member("env", "a b");
	g_autoptr(JsonNode) json = NULL;

	g_assert_cmpstr(path, ==, "steps[0].with.Content-Type");
	g_assert_cmpstr(odd, ==, "env[\"a b\"]");
	aiq_problems_add(problems, "steps[1].uses", "second");
	aiq_problems_add(problems, "name", "first");
	aiq_problems_add(problems, "name", "first"); /* no duplicates */
	g_assert_cmpuint(aiq_problems_get_size(problems), ==, 2);
	aiq_problems_sort(problems);
	text = aiq_problems_to_string(problems, "flow.yaml");
	g_assert_cmpstr(text, ==, "flow.yaml:name: first\nflow.yaml:steps[1].uses: second\n");
	json = aiq_problems_to_json(problems);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(json)), ==, 2);
	g_assert_false(aiq_problems_to_error(problems, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DEFINITION);
}

static void
test_util_secrets(void)
{
	g_autoptr(AiqSecrets) secrets = aiq_secrets_new();
	g_autofree gchar *masked = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(JsonNode) masked_node = NULL;
	g_autoptr(JsonNode) plain = NULL;
	g_autoptr(JsonNode) same = NULL;
	g_autofree gchar *text = NULL;
	g_auto(GStrv) names = NULL;
	const gchar *doc = "{\"a\":\"Bearer hunter22\",\"b\":[\"x\",\"hunter22\"],\"hunter22\":1}";

	aiq_secrets_set(secrets, "PW", "hunter22");
	aiq_secrets_set(secrets, "SHORT", "ab");
	masked = aiq_secrets_mask_string(secrets, "login hunter22 then hunter22 again, ab");
	/* two-letter values would mask ordinary text, so they are left */
	g_assert_cmpstr(masked, ==, "login *** then *** again, ab");
	node = aiq_json_parse(doc, strlen(doc), 8, NULL);
	masked_node = aiq_secrets_mask_node(secrets, node);
	text = aiq_json_to_string(masked_node, FALSE);
	g_assert_cmpstr(text, ==, "{\"a\":\"Bearer ***\",\"b\":[\"x\",\"***\"],\"***\":1}");
	/* nothing to mask: the same node comes back */
	plain = aiq_json_parse("[1,\"x\"]", 7, 8, NULL);
	same = aiq_secrets_mask_node(secrets, plain);
	g_assert_true(same == plain);
	names = aiq_secrets_list_names(secrets);
	g_assert_cmpstr(names[0], ==, "PW");
	g_assert_cmpstr(names[1], ==, "SHORT");
	g_assert_true(aiq_secrets_remove(secrets, "PW"));
	g_clear_pointer(&masked, g_free);
	masked = aiq_secrets_mask_string(secrets, "hunter22");
	g_assert_cmpstr(masked, ==, "hunter22");
}

static gint64 fake_now = 0;

static gint64
fake_clock(gpointer user_data)
{
	return fake_now;
}

static void
test_util_circuit_breaker(void)
{
	g_autoptr(AiqCircuitBreaker) breaker = aiq_circuit_breaker_new(3, 1000);
	g_autoptr(GError) error = NULL;
	const gchar *target = "http:erp.internal:443";

	aiq_circuit_breaker_set_clock(breaker, fake_clock, NULL);
	fake_now = 1000000;
	for (guint i = 0; i < 3; i++) {
		g_assert_true(aiq_circuit_breaker_allow(breaker, target, NULL));
		aiq_circuit_breaker_record(breaker, target, FALSE);
	}
	/* open: fail fast with a clear error, other targets unaffected */
	g_assert_cmpint(aiq_circuit_breaker_get_state(breaker, target), ==, AIQ_CIRCUIT_OPEN);
	g_assert_false(aiq_circuit_breaker_allow(breaker, target, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CIRCUIT_OPEN);
	g_assert_nonnull(strstr(error->message, "after 3 consecutive failures"));
	g_assert_nonnull(strstr(error->message, target));
	g_clear_error(&error);
	g_assert_true(aiq_circuit_breaker_allow(breaker, "http:other:80", NULL));
	/* after the open period: one probe; a failed probe opens it again */
	fake_now += 1000 * 1000;
	g_assert_cmpint(aiq_circuit_breaker_get_state(breaker, target), ==, AIQ_CIRCUIT_HALF_OPEN);
	g_assert_true(aiq_circuit_breaker_allow(breaker, target, NULL));
	g_assert_false(aiq_circuit_breaker_allow(breaker, target, &error));
	g_assert_nonnull(strstr(error->message, "probe"));
	g_clear_error(&error);
	aiq_circuit_breaker_record(breaker, target, FALSE);
	g_assert_cmpint(aiq_circuit_breaker_get_state(breaker, target), ==, AIQ_CIRCUIT_OPEN);
	/* a successful probe closes it */
	fake_now += 1000 * 1000;
	g_assert_true(aiq_circuit_breaker_allow(breaker, target, NULL));
	aiq_circuit_breaker_record(breaker, target, TRUE);
	g_assert_cmpint(aiq_circuit_breaker_get_state(breaker, target), ==, AIQ_CIRCUIT_CLOSED);
	g_assert_true(aiq_circuit_breaker_allow(breaker, target, NULL));
	/* successes reset the count */
	aiq_circuit_breaker_record(breaker, target, FALSE);
	aiq_circuit_breaker_record(breaker, target, FALSE);
	aiq_circuit_breaker_record(breaker, target, TRUE);
	aiq_circuit_breaker_record(breaker, target, FALSE);
	g_assert_cmpint(aiq_circuit_breaker_get_state(breaker, target), ==, AIQ_CIRCUIT_CLOSED);
}

static void
test_util_error_codes(void)
{
	g_autoptr(GError) error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "slow");
	for (guint i = 0; i < AIQ_ERROR_LAST; i++)
		g_assert_cmpint(aiq_error_code_from_string(aiq_error_code_to_string(i)), ==, i);
	aiq_error_convert(&error);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TIMED_OUT);
	g_assert_cmpstr(aiq_error_code_to_string(AIQ_ERROR_CIRCUIT_OPEN), ==, "circuit_open");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/util/duration", test_util_duration);
	g_test_add_func("/aiq/util/size", test_util_size);
	g_test_add_func("/aiq/util/suggest", test_util_suggest);
	g_test_add_func("/aiq/util/ids", test_util_ids);
	g_test_add_func("/aiq/util/time", test_util_time);
	g_test_add_func("/aiq/util/json-writer", test_util_json_writer);
	g_test_add_func("/aiq/util/json-depth", test_util_json_depth);
	g_test_add_func("/aiq/util/problems", test_util_problems);
	g_test_add_func("/aiq/util/secrets", test_util_secrets);
	g_test_add_func("/aiq/util/circuit-breaker", test_util_circuit_breaker);
	g_test_add_func("/aiq/util/error-codes", test_util_error_codes);
	return g_test_run();
}
