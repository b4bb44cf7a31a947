/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-problems.h"
#include "aiq-sandbox.h"
#include "aiq-secrets.h"
#include "aiq-template.h"

#define TEST_SECRET "s3cr3t-t0ken-value"

typedef struct {
	GHashTable *outputs; /* step id -> JsonNode */
	guint calls;
} FakeSteps;

typedef struct {
	AiqSandbox *sandbox;
	AiqExprScope scope;
	FakeSteps steps;
} Fixture;

static JsonNode *
parse(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = aiq_json_parse(text, strlen(text), AIQ_JSON_MAX_DEPTH, &error);
	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

static gboolean
fake_lookup_step(gpointer user_data, const gchar *id, JsonNode **output, const gchar **status)
{
	FakeSteps *steps = user_data;
	JsonNode *node;
	steps->calls++;
	node = g_hash_table_lookup(steps->outputs, id);
	if (node == NULL)
		return FALSE;
	*output = node;
	*status = "succeeded";
	return TRUE;
}

static void
fixture_setup(Fixture *fx, gconstpointer user_data)
{
	fx->sandbox = aiq_sandbox_new();
	fx->steps.outputs = g_hash_table_new_full(g_str_hash,
						  g_str_equal,
						  NULL,
						  (GDestroyNotify)json_node_unref);
	g_hash_table_insert(fx->steps.outputs,
			    "fetch",
			    parse("{\"status\": 200, \"body\": {\"items\": [{\"id\": \"a\", "
				  "\"total\": 1.5}, {\"id\": \"b\", \"total\": 2}]}}"));
	g_hash_table_insert(fx->steps.outputs, "count", parse("3"));
	fx->scope.inputs = parse("{\"n\": 41, \"name\": \"Ada\", \"list\": [1, 2, 3], "
				 "\"nested\": {\"a\": {\"b\": [10, 20]}}, \"flag\": true, "
				 "\"nothing\": null, \"pi\": 3.5, \"empty\": [], \"one\": [1], "
				 "\"holes\": [1, null, 3], \"obj\": {}}");
	fx->scope.item = parse("{\"id\": \"x1\", \"total\": 9}");
	fx->scope.index = 0;
	fx->scope.execution = parse("{\"id\": \"e-1\", \"attempt\": 2, \"step_key\": \"k\"}");
	fx->scope.lookup_step = fake_lookup_step;
	fx->scope.user_data = &fx->steps;
	fx->scope.secrets = aiq_secrets_new();
	aiq_secrets_set(fx->scope.secrets, "TOKEN", TEST_SECRET);
	fx->scope.needs_succeeded = TRUE;
	fx->scope.needs_failed = FALSE;
	fx->scope.cancelled = FALSE;
}

static void
fixture_teardown(Fixture *fx, gconstpointer user_data)
{
	aiq_sandbox_free(fx->sandbox);
	g_hash_table_unref(fx->steps.outputs);
	json_node_unref(fx->scope.inputs);
	json_node_unref(fx->scope.item);
	json_node_unref(fx->scope.execution);
	aiq_secrets_unref(fx->scope.secrets);
}

static JsonNode *
eval(Fixture *fx, const gchar *expr)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = aiq_sandbox_eval(fx->sandbox, expr, &fx->scope, &error);
	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

static void
assert_eval(Fixture *fx, const gchar *expr, const gchar *expected)
{
	g_autoptr(JsonNode) node = eval(fx, expr);
	g_autofree gchar *text = aiq_json_to_string(node, FALSE);
	g_test_message("%s → %s", expr, text);
	g_assert_cmpstr(text, ==, expected);
}

static void
assert_message_contains(const GError *error, const gchar *part)
{
	if (strstr(error->message, part) == NULL)
		g_test_message("“%s” does not contain “%s”", error->message, part);
	g_assert_nonnull(strstr(error->message, part));
}

static void
assert_eval_error(Fixture *fx, const gchar *expr, gint code, const gchar *part)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_sandbox_eval(fx->sandbox, expr, &fx->scope, &error);
	g_test_message("%s → %s", expr, error != NULL ? error->message : "(no error)");
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, code);
	assert_message_contains(error, part);
}

static JsonNode *
run_chunk(Fixture *fx, const gchar *code)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = aiq_sandbox_run_chunk(fx->sandbox, code, &fx->scope, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

static void
assert_chunk_error(Fixture *fx, const gchar *code, gint code_expected, const gchar *part)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		aiq_sandbox_run_chunk(fx->sandbox, code, &fx->scope, 0, 0, &error);
	g_test_message("%s → %s", code, error != NULL ? error->message : "(no error)");
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, code_expected);
	assert_message_contains(error, part);
}

/* the sandbox */

static void
test_sandbox_types(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(JsonNode) i = eval(fx, "1 + 1");
	g_autoptr(JsonNode) d = eval(fx, "1 / 2");
	g_autoptr(JsonNode) b = eval(fx, "1 < 2");
	g_autoptr(JsonNode) n = eval(fx, "nil");
	g_autoptr(JsonNode) s = eval(fx, "'a' .. 'b'");

	g_assert_true(aiq_json_is_integer(i));
	g_assert_cmpint(json_node_get_int(i), ==, 2);
	g_assert_cmpint(json_node_get_value_type(d), ==, G_TYPE_DOUBLE);
	g_assert_cmpfloat(json_node_get_double(d), ==, 0.5);
	g_assert_true(aiq_json_is_bool(b));
	g_assert_true(json_node_get_boolean(b));
	g_assert_true(JSON_NODE_HOLDS_NULL(n));
	g_assert_cmpstr(json_node_get_string(s), ==, "ab");

	assert_eval(fx, "{1, 2, 'x'}", "[1,2,\"x\"]");
	assert_eval(fx, "{b = 1, a = {c = true}}", "{\"a\":{\"c\":true},\"b\":1}");
	assert_eval(fx, "{}", "{}");
	assert_eval(fx, "{{}, {1}}", "[{},[1]]");
	assert_eval(fx, "math.floor(3.7)", "3");
	assert_eval(fx, "2^53", "9007199254740992.0");
	assert_eval(fx, "'ünïcode'", "\"ünïcode\"");
	assert_eval(fx, "string.format('%05.1f', 3.14159)", "\"003.1\"");
	assert_eval(fx, "#'hello' + utf8.len('ü')", "6");
	assert_eval(fx, "table.concat({1, 2, 3}, '-')", "\"1-2-3\"");
	assert_eval(fx, "math.type(math.random(1, 6))", "\"integer\"");
	assert_eval(fx, "print('ignored')", "null");
	/* several values: the first one */
	assert_eval(fx, "1), (2", "1");
}

static void
test_sandbox_results(Fixture *fx, gconstpointer user_data)
{
	assert_eval_error(fx,
			  "0/0",
			  AIQ_ERROR_EXPRESSION,
			  "expression returned a number JSON cannot hold");
	assert_eval_error(fx, "math.huge", AIQ_ERROR_EXPRESSION, "number JSON cannot hold");
	assert_eval_error(fx, "{x = -math.huge}", AIQ_ERROR_EXPRESSION, "number JSON cannot hold");
	assert_eval_error(fx, "print", AIQ_ERROR_EXPRESSION, "expression returned a function");
	assert_eval_error(fx, "{f = function() end}", AIQ_ERROR_EXPRESSION, "returned a function");
	assert_eval_error(fx, "'\\xff'", AIQ_ERROR_EXPRESSION, "not valid UTF-8");
	assert_eval_error(fx, "'a\\0b'", AIQ_ERROR_EXPRESSION, "not valid UTF-8");
	assert_eval_error(fx, "{['\\xff'] = 1}", AIQ_ERROR_EXPRESSION, "not valid UTF-8");
	assert_eval_error(fx, "{1, 2, x = 3}", AIQ_ERROR_EXPRESSION, "neither all strings nor 1…n");
	assert_eval_error(fx, "{[1] = 1, [3] = 3}", AIQ_ERROR_EXPRESSION, "neither");
	assert_eval_error(fx, "{[true] = 1}", AIQ_ERROR_EXPRESSION, "neither");
	assert_eval_error(fx, "{[1.5] = 1}", AIQ_ERROR_EXPRESSION, "neither");
	assert_eval_error(fx, "{[0] = 1}", AIQ_ERROR_EXPRESSION, "neither");

	/* cycles and depth */
	assert_eval_error(fx,
			  "(function() local t = {} t.self = t return t end)()",
			  AIQ_ERROR_EXPRESSION,
			  "contains itself");
	assert_eval_error(fx,
			  "(function() local t = {} t[1] = {t} return t end)()",
			  AIQ_ERROR_EXPRESSION,
			  "contains itself");
	assert_eval_error(fx,
			  "(function() local t = {} for i = 1, 100 do t = {t} end return t end)()",
			  AIQ_ERROR_EXPRESSION,
			  "nested deeper than 64 levels");
	assert_eval(fx,
		    "(function() local t = 1 for i = 1, 63 do t = {t} end return #t end)()",
		    "1");
	/* shared subtables: fine when small, bounded when exponential */
	assert_eval(fx, "(function() local s = {1} return {s, s} end)()", "[[1],[1]]");
	assert_eval_error(
		fx,
		"(function() local t = {1} for i = 1, 50 do t = {t, t} end return t end)()",
		AIQ_ERROR_LIMIT_EXCEEDED,
		"expression returned a value larger than 16 MiB");

	/* the sandbox is still fine */
	assert_eval(fx, "1 + 1", "2");
}

static void
test_sandbox_inputs(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(JsonNode) nested = NULL;

	assert_eval(fx, "inputs.n + 1", "42");
	assert_eval(fx, "inputs.name", "\"Ada\"");
	assert_eval(fx, "inputs.pi", "3.5");
	assert_eval(fx, "math.type(inputs.n)", "\"integer\"");
	assert_eval(fx, "math.type(inputs.pi)", "\"float\"");
	assert_eval(fx, "inputs.flag", "true");
	assert_eval(fx, "inputs.nothing == nil", "true");
	assert_eval(fx, "inputs.missing", "null");
	assert_eval(fx, "#inputs.list", "3");
	assert_eval(fx, "inputs.list[1]", "1");
	assert_eval(fx, "inputs.list[0]", "null");
	assert_eval(fx, "inputs.list['1']", "null");
	assert_eval(fx, "inputs.list[4]", "null");
	assert_eval(fx, "inputs.nested.a.b[2]", "20");
	assert_eval(fx, "inputs.nested == inputs.nested", "true");
	assert_eval(fx, "#inputs.nested", "0");
	assert_eval(fx, "type(inputs.nested)", "\"table\"");
	assert_eval(fx,
		    "(function() local s = 0 for _, v in ipairs(inputs.list) do s = s + v end "
		    "return s end)()",
		    "6");
	assert_eval(
		fx,
		"(function() local n = 0 for k in pairs(inputs) do n = n + 1 end return n end)()",
		"10");
	assert_eval(fx, "next(inputs.obj)", "null");
	assert_eval(fx, "next(inputs.list)", "1");
	assert_eval(fx, "table.concat(inputs.list, ',')", "\"1,2,3\"");
	assert_eval(fx, "select('#', table.unpack(inputs.list))", "3");
	assert_eval(fx, "inputs.holes", "[1,null,3]");
	assert_eval(fx, "inputs.empty", "[]");
	assert_eval(fx, "inputs.obj", "{}");
	assert_eval(fx, "getmetatable(inputs)", "false");

	/* values that came in unchanged go back as the same nodes */
	list = eval(fx, "inputs.list");
	g_assert_true(list ==
		      json_object_get_member(json_node_get_object(fx->scope.inputs), "list"));
	nested = eval(fx, "inputs.nested.a");
	g_assert_true(nested ==
		      json_object_get_member(
			      aiq_json_object_get_object(json_node_get_object(fx->scope.inputs),
							 "nested"),
			      "a"));
}

static void
test_sandbox_inputs_modified(Fixture *fx, gconstpointer user_data)
{
	assert_eval(fx, "(function() local t = inputs.list t[4] = 4 return t end)()", "[1,2,3,4]");
	assert_eval(fx,
		    "(function() local t = inputs.list local first = t[1] t[1] = 9 "
		    "return {t[1], first, #t} end)()",
		    "[9,1,3]");
	assert_eval(fx,
		    "(function() table.insert(inputs.list, 1, 0) return inputs.list end)()",
		    "[0,1,2,3]");
	assert_eval(fx,
		    "(function() table.sort(inputs.list, function(a, b) return a > b end) "
		    "return inputs.list end)()",
		    "[3,2,1]");
	assert_eval(fx, "(function() local t = inputs.one table.remove(t) return t end)()", "[]");
	assert_eval(fx,
		    "(function() local t = inputs.holes t[4] = 4 return t end)()",
		    "[1,null,3,4]");
	assert_eval(fx,
		    "(function() local o = inputs.nested o.c = 'x' return o end)()",
		    "{\"a\":{\"b\":[10,20]},\"c\":\"x\"}");
	assert_eval(fx,
		    "(function() local a = inputs.nested.a local o = inputs.nested o.c = 1 "
		    "return rawequal(a, o.a) end)()",
		    "true");
	assert_eval(fx, "(function() inputs.name = nil return inputs end)().name", "null");
	/* modifications do not reach the next evaluation */
	assert_eval(fx, "inputs.list", "[1,2,3]");
	assert_eval(fx, "inputs.name", "\"Ada\"");
}

static void
test_sandbox_item_execution(Fixture *fx, gconstpointer user_data)
{
	assert_eval(fx, "item.id", "\"x1\"");
	assert_eval(fx, "item.total * 2", "18");
	assert_eval(fx, "index", "0");
	assert_eval(fx, "math.type(index)", "\"integer\"");
	fx->scope.index = 4;
	assert_eval(fx, "index + 1", "5");
	fx->scope.index = -1;
	assert_eval(fx, "index", "null");
	assert_eval(fx, "execution.id .. '/' .. execution.attempt", "\"e-1/2\"");
	assert_eval(fx, "execution.step_key", "\"k\"");

	/* an empty scope */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = aiq_sandbox_eval(fx->sandbox,
							    "{inputs == nil, steps.x == nil, "
							    "success(), always()}",
							    NULL,
							    &error);
		g_autofree gchar *text = NULL;
		g_assert_no_error(error);
		text = aiq_json_to_string(node, FALSE);
		g_assert_cmpstr(text, ==, "[true,true,false,true]");
	}
}

static void
test_sandbox_steps(Fixture *fx, gconstpointer user_data)
{
	fx->steps.calls = 0;
	assert_eval(fx, "1 + 1", "2");
	assert_eval(fx, "inputs.n", "41");
	g_assert_cmpuint(fx->steps.calls, ==, 0);

	assert_eval(fx, "steps.fetch.output.status == 200", "true");
	g_assert_cmpuint(fx->steps.calls, ==, 1);
	assert_eval(fx, "steps.fetch.status", "\"succeeded\"");
	assert_eval(
		fx,
		"steps.fetch.output.body.items[1].total + steps.fetch.output.body.items[2].total",
		"3.5");
	g_assert_cmpuint(fx->steps.calls, ==, 3);
	assert_eval(fx, "steps.count.output", "3");
	assert_eval(fx, "#steps.fetch.output.body.items", "2");
	assert_eval(fx, "steps.nope", "null");
	assert_eval_error(fx,
			  "steps.nope.output",
			  AIQ_ERROR_EXPRESSION,
			  "expression: attempt to index a nil value (field 'nope')");
	assert_eval_error(fx,
			  "steps.fetch.outputs.status",
			  AIQ_ERROR_EXPRESSION,
			  "attempt to index a nil value (field 'outputs')");

	/* a whole output is handed back without a copy */
	{
		g_autoptr(JsonNode) body = eval(fx, "steps.fetch.output.body");
		JsonNode *fetch = g_hash_table_lookup(fx->steps.outputs, "fetch");
		g_assert_true(body == json_object_get_member(json_node_get_object(fetch), "body"));
	}
}

static void
test_sandbox_secrets(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	assert_eval(fx, "secrets.TOKEN", "\"" TEST_SECRET "\"");
	assert_eval(fx, "'Bearer ' .. secrets.TOKEN", "\"Bearer " TEST_SECRET "\"");
	/* a secret that is not set is an error, not a nil that fails later */
	assert_eval_error(fx,
			  "secrets.MISSING",
			  AIQ_ERROR_EXPRESSION,
			  "secret “MISSING” is not set");
	assert_eval(fx, "next(secrets)", "null");

	/* never in an error message */
	node = aiq_sandbox_eval(fx->sandbox,
				"error('token is ' .. secrets.TOKEN)",
				&fx->scope,
				&error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
	g_assert_null(strstr(error->message, TEST_SECRET));
	g_assert_cmpstr(error->message, ==, "expression: token is ***");
	g_clear_error(&error);

	node = aiq_sandbox_eval(fx->sandbox, "secrets.TOKEN + 1", &fx->scope, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
	g_assert_null(strstr(error->message, TEST_SECRET));
	g_test_message("%s", error->message);
	g_clear_error(&error);

	node = aiq_sandbox_run_chunk(fx->sandbox,
				     "local t = secrets.TOKEN\nerror({})\n",
				     &fx->scope,
				     0,
				     0,
				     &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
	g_assert_cmpstr(error->message, ==, "script: error object is a table value");
}

static void
test_sandbox_status_functions(Fixture *fx, gconstpointer user_data)
{
	gboolean result = FALSE;
	g_autoptr(GError) error = NULL;

	assert_eval(fx, "{success(), failure(), always(), cancelled()}", "[true,false,true,false]");
	fx->scope.needs_succeeded = FALSE;
	fx->scope.needs_failed = TRUE;
	fx->scope.cancelled = TRUE;
	assert_eval(fx, "{success(), failure(), always(), cancelled()}", "[false,true,true,true]");

	/* conditions */
	g_assert_true(
		aiq_sandbox_eval_boolean(fx->sandbox, "failure()", &fx->scope, &result, &error));
	g_assert_no_error(error);
	g_assert_true(result);
	g_assert_true(
		aiq_sandbox_eval_boolean(fx->sandbox, "success()", &fx->scope, &result, &error));
	g_assert_false(result);
	g_assert_true(aiq_sandbox_eval_boolean(fx->sandbox, "nil", &fx->scope, &result, &error));
	g_assert_false(result);
	g_assert_true(aiq_sandbox_eval_boolean(fx->sandbox, "0", &fx->scope, &result, &error));
	g_assert_true(result);
	g_assert_true(aiq_sandbox_eval_boolean(fx->sandbox, "''", &fx->scope, &result, &error));
	g_assert_true(result);
	/* no conversion: a function is true */
	g_assert_true(aiq_sandbox_eval_boolean(fx->sandbox, "print", &fx->scope, &result, &error));
	g_assert_true(result);
	g_assert_false(
		aiq_sandbox_eval_boolean(fx->sandbox, "nil + 1", &fx->scope, &result, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
}

static void
test_sandbox_compile_errors(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(aiq_sandbox_compile(fx->sandbox, "+", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
	g_assert_cmpstr(error->message, ==, "expression: unexpected symbol near '+'");
	g_clear_error(&error);

	g_assert_false(aiq_sandbox_compile(fx->sandbox, "inputs.", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
	g_assert_nonnull(g_str_has_prefix(error->message, "expression: ") ? error->message : NULL);
	g_assert_null(strstr(error->message, "expression:1"));
	g_clear_error(&error);

	g_assert_false(aiq_sandbox_compile(fx->sandbox, "  ", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
	g_assert_cmpstr(error->message, ==, "expression is empty");
	g_clear_error(&error);

	/* statements are not expressions */
	g_assert_false(aiq_sandbox_compile(fx->sandbox, "x = 1", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
	g_clear_error(&error);

	/* a multi-line expression says where */
	g_assert_false(aiq_sandbox_compile(fx->sandbox, "1 +\n2 +\n* 3", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
	g_assert_cmpstr(error->message, ==, "expression: line 3: unexpected symbol near '*'");
	g_clear_error(&error);

	/* compiling twice gives the same answer (failures are not cached) */
	g_assert_false(aiq_sandbox_compile(fx->sandbox, "+", &error));
	g_assert_cmpstr(error->message, ==, "expression: unexpected symbol near '+'");
	g_clear_error(&error);

	g_assert_true(aiq_sandbox_compile(fx->sandbox, "inputs.n + 1 -- a comment", &error));
	g_assert_no_error(error);
	assert_eval(fx, "inputs.n + 1 -- a comment", "42");
	g_assert_true(aiq_sandbox_compile_chunk(fx->sandbox, "local x = 1\nreturn x", &error));
	g_assert_no_error(error);
	g_assert_false(aiq_sandbox_compile_chunk(fx->sandbox, "local x = \nreturn x", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
	g_assert_true(g_str_has_prefix(error->message, "script: line 2: "));
}

static void
test_sandbox_runtime_errors(Fixture *fx, gconstpointer user_data)
{
	assert_eval_error(fx,
			  "nil + 1",
			  AIQ_ERROR_EXPRESSION,
			  "expression: attempt to perform arithmetic on a nil value");
	assert_eval_error(fx,
			  "string.upper()",
			  AIQ_ERROR_EXPRESSION,
			  "expression: bad argument #1 to 'upper'");
	assert_eval_error(fx, "error('boom')", AIQ_ERROR_EXPRESSION, "expression: boom");
	assert_eval_error(fx, "error('boom', 0)", AIQ_ERROR_EXPRESSION, "expression: boom");
	assert_eval_error(fx, "error(42)", AIQ_ERROR_EXPRESSION, "expression: 42");
	assert_eval_error(
		fx,
		"error(setmetatable({}, {__tostring = function() while true do end end}))",
		AIQ_ERROR_EXPRESSION,
		"expression: error object is a table value");
	assert_chunk_error(
		fx,
		"local a = 1\nlocal b = nil\nreturn a + b\n",
		AIQ_ERROR_EXPRESSION,
		"script: line 3: attempt to perform arithmetic on a nil value (local 'b')");
}

/* each of these must fail, with an error that says why */
static void
test_sandbox_escapes(Fixture *fx, gconstpointer user_data)
{
	static const struct {
		const gchar *expr;
		const gchar *message;
	} escapes[] = {
		{ "io.open('/etc/passwd')", "attempt to index a nil value (global 'io')" },
		{ "os.execute('true')", "attempt to index a nil value (global 'os')" },
		{ "os.getenv('HOME')", "(global 'os')" },
		{ "require('os')", "attempt to call a nil value (global 'require')" },
		{ "load('return 1')", "attempt to call a nil value (global 'load')" },
		{ "loadstring('return 1')", "(global 'loadstring')" },
		{ "dofile('/etc/passwd')", "(global 'dofile')" },
		{ "loadfile('/etc/passwd')", "(global 'loadfile')" },
		{ "debug.getinfo(1)", "attempt to index a nil value (global 'debug')" },
		{ "debug.sethook()", "(global 'debug')" },
		{ "string.dump(print)", "attempt to call a nil value (field 'dump')" },
		{ "('').dump(print)", "attempt to call a nil value (field 'dump')" },
		{ "package.loaded", "attempt to index a nil value (global 'package')" },
		{ "getmetatable('').__index", "attempt to index a boolean value" },
		{ "getmetatable('').__index.rep", "attempt to index a boolean value" },
		{ "_G.io.open('/etc/passwd')", "attempt to index a nil value (field 'io')" },
		{ "_ENV.os.exit()", "attempt to index a nil value (global 'os')" },
		{ "collectgarbage('count')", "(global 'collectgarbage')" },
		{ "rawset(string, 'upper', 1)", "(global 'rawset')" },
		{ "rawget(_G, 'io')", "(global 'rawget')" },
		{ "coroutine.create(print)", "(global 'coroutine')" },
		{ "math.randomseed(42)", "attempt to call a nil value (field 'randomseed')" },
		{ "setmetatable(_G, nil)", "cannot change a protected metatable" },
		{ "setmetatable(inputs, nil)", "cannot change a protected metatable" },
		{ "setmetatable(steps, nil)", "cannot change a protected metatable" },
		{ "setmetatable({}, {__gc = function() end})", "__gc metamethods are not allowed" },
		{ "setmetatable({}, {__gc = true})", "__gc metamethods are not allowed" },
		{ "warn('@on')", "(global 'warn')" },
		{ "(function() string.upper = nil end)()",
		  "attempt to modify read-only table 'string'" },
		{ "(function() math.pi = 3 end)()", "read-only table 'math'" },
		{ "table.insert(string, 1)", "read-only table 'string'" },
		{ "(function() local f, t = pairs(string) t.upper = nil end)()",
		  "read-only table 'string'" },
		{ "(function() local _, real = next, nil for k, v in pairs(table) do end "
		  "table.concat = nil end)()",
		  "read-only table 'table'" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(escapes); i++)
		assert_eval_error(fx, escapes[i].expr, AIQ_ERROR_EXPRESSION, escapes[i].message);

	/* what exists is harmless */
	assert_eval(fx, "{_G == _ENV, _ENV.os == nil, _G.string ~= nil}", "[true,true,true]");
	assert_eval(fx, "getmetatable('')", "false");
	assert_eval(fx, "getmetatable(string)", "false");
	assert_eval(
		fx,
		"(function() local n = 0 for k in pairs(string) do n = n + 1 end return n > 10 end)()",
		"true");
	assert_eval(fx, "string.dump", "null");

	/* binary chunks are refused */
	assert_chunk_error(fx,
			   "\x1bLua\x54\x00\x19\x93\r\n\x1a\n",
			   AIQ_ERROR_EXPRESSION,
			   "attempt to load a binary chunk");
	assert_eval_error(fx, "\x1bLua", AIQ_ERROR_EXPRESSION, "expression: ");
}

static void
test_sandbox_isolation(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(JsonNode) node = NULL;

	/* globals do not leak from one evaluation to the next */
	node = run_chunk(
		fx,
		"leak = 'x'\n_G.leak2 = 'y'\n_ENV.leak3 = 'z'\nreturn leak .. leak2 .. leak3");
	g_assert_cmpstr(json_node_get_string(node), ==, "xyz");
	assert_eval(fx, "{leak, leak2, leak3}", "{}");
	assert_eval(fx, "leak", "null");
	g_clear_pointer(&node, json_node_unref);

	/* the same code twice starts afresh each time */
	node = run_chunk(fx, "counter = (counter or 0) + 1\nreturn counter");
	g_assert_cmpint(json_node_get_int(node), ==, 1);
	g_clear_pointer(&node, json_node_unref);
	node = run_chunk(fx, "counter = (counter or 0) + 1\nreturn counter");
	g_assert_cmpint(json_node_get_int(node), ==, 1);
	g_clear_pointer(&node, json_node_unref);

	/* shadowing a library is local to the evaluation */
	node = run_chunk(fx,
			 "string = {upper = function() return 'hacked' end}\n"
			 "tostring = nil\nreturn string.upper('a')");
	g_assert_cmpstr(json_node_get_string(node), ==, "hacked");
	g_clear_pointer(&node, json_node_unref);
	assert_eval(fx, "string.upper('a') .. ('b'):upper() .. tostring(1)", "\"AB1\"");

	/* the string library cannot be changed */
	assert_chunk_error(fx,
			   "string.upper = nil",
			   AIQ_ERROR_EXPRESSION,
			   "read-only table 'string'");
	assert_chunk_error(fx,
			   "local mt = getmetatable('')\nmt.__index = {}",
			   AIQ_ERROR_EXPRESSION,
			   "attempt to index a boolean value");
	assert_eval(fx, "('abc'):upper()", "\"ABC\"");
	assert_eval(fx, "string.upper('abc')", "\"ABC\"");

	/* _ENV tricks stay inside the chunk */
	node = run_chunk(fx, "local print = print\n_ENV = {x = 1}\nreturn x");
	g_assert_cmpint(json_node_get_int(node), ==, 1);
	g_clear_pointer(&node, json_node_unref);
	assert_eval(fx, "x", "null");

	/* metatables on user tables work, finalizers do not */
	assert_eval(fx,
		    "setmetatable({}, {__index = function(t, k) return k .. '!' end}).hi",
		    "\"hi!\"");
	assert_chunk_error(
		fx,
		"local mt = {}\nlocal t = setmetatable({}, mt)\nmt.__gc = function() end\n"
		"t = nil\nreturn nil + 1",
		AIQ_ERROR_EXPRESSION,
		"arithmetic");
}

static void
test_sandbox_limit_instructions(Fixture *fx, gconstpointer user_data)
{
	assert_eval_error(fx,
			  "(function() while true do end end)()",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "expression ran more than 1000000 instructions");
	assert_eval(fx, "1 + 1", "2");

	/* catching the error does not help */
	assert_eval_error(
		fx,
		"(function() while true do pcall(function() while true do end end) end end)()",
		AIQ_ERROR_LIMIT_EXCEEDED,
		"instructions");
	assert_eval_error(
		fx,
		"(function() local function f() while true do pcall(f) end end f() end)()",
		AIQ_ERROR_LIMIT_EXCEEDED,
		"instructions");
	assert_eval_error(fx,
			  "select(2, xpcall(function() while true do end end, "
			  "function() while true do end end)) or 1",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "instructions");
	assert_eval_error(
		fx,
		"(function() local ok = pcall(function() while true do end end) return 1 end)()",
		AIQ_ERROR_LIMIT_EXCEEDED,
		"instructions");
	/* the message handler runs after a limit error only if it is ours */
	assert_eval_error(fx,
			  "(function() while true do xpcall(function() while true do end end, "
			  "function(e) while true do end end) end end)()",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "instructions");
	assert_eval(
		fx,
		"select(2, xpcall(function() error('x', 0) end, function(e) return e .. '!' end))",
		"\"x!\"");
	assert_chunk_error(
		fx,
		"local c <close> = setmetatable({}, {__close = function() while true do end end})\n"
		"while true do end",
		AIQ_ERROR_LIMIT_EXCEEDED,
		"instructions");
	/* in metamethods and callbacks too */
	assert_eval_error(
		fx,
		"tostring(setmetatable({}, {__tostring = function() while true do end end}))",
		AIQ_ERROR_LIMIT_EXCEEDED,
		"instructions");
	assert_eval_error(fx,
			  "string.gsub('aaa', 'a', function() while true do end end)",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "instructions");
	assert_chunk_error(fx,
			   "while true do end",
			   AIQ_ERROR_LIMIT_EXCEEDED,
			   "script ran more than 1000000 instructions");
	assert_eval(fx, "inputs.n + 1", "42");

	/* the limit is per evaluation */
	for (guint i = 0; i < 5; i++)
		assert_eval(
			fx,
			"(function() local s = 0 for i = 1, 100000 do s = s + i end return s end)()",
			"5000050000");

	/* other limits */
	aiq_sandbox_set_limits(fx->sandbox, 1000, AIQ_SANDBOX_DEFAULT_MEMORY);
	assert_eval_error(fx,
			  "(function() for i = 1, 10000 do end end)()",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "expression ran more than 1000 instructions");
	assert_eval(fx, "(function() for i = 1, 10 do end return 1 end)()", "1");
	aiq_sandbox_set_limits(fx->sandbox,
			       AIQ_SANDBOX_DEFAULT_INSTRUCTIONS,
			       AIQ_SANDBOX_DEFAULT_MEMORY);

	/* chunks have their own */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = aiq_sandbox_run_chunk(fx->sandbox,
								 "for i = 1, 1000 do end\nreturn 1",
								 &fx->scope,
								 100,
								 0,
								 &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_LIMIT_EXCEEDED);
		g_assert_cmpstr(error->message, ==, "script ran more than 100 instructions");
		g_clear_error(&error);
		node = aiq_sandbox_run_chunk(
			fx->sandbox,
			"local s = 0\nfor i = 1, 3000000 do s = s + 1 end\nreturn s",
			&fx->scope,
			20000000,
			0,
			&error);
		g_assert_no_error(error);
		g_assert_cmpint(json_node_get_int(node), ==, 3000000);
	}
}

static void
test_sandbox_limit_memory(Fixture *fx, gconstpointer user_data)
{
	assert_eval_error(fx,
			  "string.rep('x', 1e9)",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "expression used more than 16 MiB of memory");
	assert_eval(fx, "1 + 1", "2");
	assert_eval_error(fx,
			  "#string.rep('x', 20 * 1024 * 1024)",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "16 MiB");
	/* below the limit is fine, also right after a failure */
	assert_eval(fx, "#string.rep('x', 4 * 1024 * 1024)", "4194304");
	assert_eval(fx, "#string.rep('x', 4 * 1024 * 1024)", "4194304");

	/* catching the error does not help */
	assert_eval_error(fx,
			  "(pcall(string.rep, 'x', 1e9)) or 1",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "16 MiB");
	assert_chunk_error(fx,
			   "local t = {}\nfor i = 1, 1e8 do t[i] = string.rep('x', 1000) .. i end",
			   AIQ_ERROR_LIMIT_EXCEEDED,
			   "script used more than 16 MiB of memory");
	assert_chunk_error(fx,
			   "local t = {}\nwhile true do t[#t + 1] = {} end",
			   AIQ_ERROR_LIMIT_EXCEEDED,
			   "");
	assert_chunk_error(fx,
			   "local s = 'x'\nwhile true do s = s .. s end",
			   AIQ_ERROR_LIMIT_EXCEEDED,
			   "memory");
	/* deep recursion ends one way or another */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = aiq_sandbox_eval(
			fx->sandbox,
			"(function() local function f(n) return f(n + 1) + 1 end return f(1) end)()",
			&fx->scope,
			&error);
		g_assert_null(node);
		g_assert_nonnull(error);
		g_test_message("%s", error->message);
		g_assert_true(g_error_matches(error, AIQ_ERROR, AIQ_ERROR_LIMIT_EXCEEDED) ||
			      g_error_matches(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION));
	}
	assert_eval(fx, "inputs.n + 1", "42");

	/* chunks have their own */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node =
			aiq_sandbox_run_chunk(fx->sandbox,
					      "return #string.rep('x', 1024 * 1024)",
					      &fx->scope,
					      0,
					      512 * 1024,
					      &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_LIMIT_EXCEEDED);
		g_assert_cmpstr(error->message, ==, "script used more than 512 KiB of memory");
		g_clear_error(&error);
		node = aiq_sandbox_run_chunk(fx->sandbox,
					     "return #string.rep('x', 24 * 1024 * 1024)",
					     &fx->scope,
					     0,
					     64 * 1024 * 1024,
					     &error);
		g_assert_no_error(error);
		g_assert_cmpint(json_node_get_int(node), ==, 24 * 1024 * 1024);
	}
}

static void
test_sandbox_chunk(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *text = NULL;

	node = run_chunk(fx,
			 "local out = {}\n"
			 "for i, it in ipairs(steps.fetch.output.body.items) do\n"
			 "  out[#out + 1] = {id = it.id, double = it.total * 2, n = i}\n"
			 "end\n"
			 "return {items = out, count = #out, who = inputs.name}\n");
	text = aiq_json_to_string(node, FALSE);
	g_assert_cmpstr(text,
			==,
			"{\"count\":2,\"items\":[{\"double\":3.0,\"id\":\"a\",\"n\":1},"
			"{\"double\":4,\"id\":\"b\",\"n\":2}],\"who\":\"Ada\"}");
	g_clear_pointer(&node, json_node_unref);

	node = run_chunk(fx, "local x = 1");
	g_assert_true(JSON_NODE_HOLDS_NULL(node));
	g_clear_pointer(&node, json_node_unref);
	node = run_chunk(fx, "");
	g_assert_true(JSON_NODE_HOLDS_NULL(node));
	g_clear_pointer(&node, json_node_unref);
	node = run_chunk(fx, "return 1, 2, 3");
	g_assert_cmpint(json_node_get_int(node), ==, 1);
	g_clear_pointer(&node, json_node_unref);
	node = run_chunk(fx, "return success() and item.id");
	g_assert_cmpstr(json_node_get_string(node), ==, "x1");
}

/* the same source runs with whatever scope it is given */
static void
test_sandbox_cache(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(JsonNode) a = parse("{\"n\": 1}");
	g_autoptr(JsonNode) b = parse("{\"n\": 2}");
	AiqExprScope scope_a = { .inputs = a, .index = -1 };
	AiqExprScope scope_b = { .inputs = b, .index = 7 };

	for (guint round = 0; round < 3; round++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) ra = aiq_sandbox_eval(fx->sandbox,
							  "inputs.n * 10 + (index or 0)",
							  &scope_a,
							  &error);
		g_autoptr(JsonNode) rb = aiq_sandbox_eval(fx->sandbox,
							  "inputs.n * 10 + (index or 0)",
							  &scope_b,
							  &error);
		g_assert_no_error(error);
		g_assert_cmpint(json_node_get_int(ra), ==, 10);
		g_assert_cmpint(json_node_get_int(rb), ==, 27);
	}

	/* more expressions than the cache holds: all still right */
	for (guint round = 0; round < 2; round++) {
		for (guint i = 0; i < 1500; i++) {
			g_autofree gchar *expr = g_strdup_printf("inputs.n + %u", i);
			g_autoptr(GError) error = NULL;
			g_autoptr(JsonNode) r =
				aiq_sandbox_eval(fx->sandbox, expr, &scope_b, &error);
			g_assert_no_error(error);
			g_assert_cmpint(json_node_get_int(r), ==, 2 + i);
		}
	}
}

static void
test_sandbox_cache_chunk_vs_expression(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	assert_eval(fx, "inputs.n", "41");
	node = aiq_sandbox_run_chunk(fx->sandbox, "inputs.n", &fx->scope, 0, 0, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
	g_assert_true(g_str_has_prefix(error->message, "script: line 1: "));
	g_clear_error(&error);
	node = aiq_sandbox_run_chunk(fx->sandbox, "return inputs.n", &fx->scope, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpint(json_node_get_int(node), ==, 41);
}

static gboolean
reentrant_lookup_step(gpointer user_data, const gchar *id, JsonNode **output, const gchar **status)
{
	AiqSandbox *sandbox = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_sandbox_eval(sandbox, "1", NULL, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_FAILED);
	return FALSE;
}

static void
test_sandbox_reentrant(Fixture *fx, gconstpointer user_data)
{
	AiqExprScope scope = { .lookup_step = reentrant_lookup_step, .user_data = fx->sandbox };
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_sandbox_eval(fx->sandbox, "steps.x", &scope, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_NULL(node));
}

/* patterns: the sandbox's own matcher must agree with Lua's */

static void
append_lua_string(GString *code, const gchar *str)
{
	g_string_append_c(code, '"');
	for (const guchar *p = (const guchar *)str; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\' || *p < 0x20 || *p >= 0x7f)
			g_string_append_printf(code, "\\%03u", (guint)*p);
		else
			g_string_append_c(code, (gchar)*p);
	}
	g_string_append_c(code, '"');
}

static gchar *
pattern_chunk(const gchar *subject, const gchar *pattern)
{
	GString *code = g_string_new("local s, p = ");
	append_lua_string(code, subject);
	g_string_append(code, ", ");
	append_lua_string(code, pattern);
	g_string_append(
		code,
		"\n"
		"local function ser(ok, ...)\n"
		"  if not ok then return 'E:' .. tostring((...)) end\n"
		"  local t = {}\n"
		"  for i = 1, select('#', ...) do\n"
		"    local v = select(i, ...)\n"
		"    t[#t + 1] = type(v) .. ':' .. tostring(v)\n"
		"  end\n"
		"  return table.concat(t, ',')\n"
		"end\n"
		"local function all(...)\n"
		"  local r = {}\n"
		"  for a, b in string.gmatch(...) do\n"
		"    r[#r + 1] = tostring(a) .. '|' .. tostring(b)\n"
		"    if #r > 40 then break end\n"
		"  end\n"
		"  return table.concat(r, ';')\n"
		"end\n"
		"local out = {\n"
		"  ser(pcall(string.find, s, p)),\n"
		"  ser(pcall(string.find, s, p, 2)),\n"
		"  ser(pcall(string.find, s, p, -2)),\n"
		"  ser(pcall(string.find, s, p, 1, true)),\n"
		"  ser(pcall(string.match, s, p)),\n"
		"  ser(pcall(string.match, s, p, 3)),\n"
		"  ser(pcall(all, s, p)),\n"
		"  ser(pcall(all, s, p, -3)),\n"
		"  ser(pcall(string.gsub, s, p, '<%0>')),\n"
		"  ser(pcall(string.gsub, s, p, '[%1]', 2)),\n"
		"  ser(pcall(string.gsub, s, p, '%%%2')),\n"
		"  ser(pcall(string.gsub, s, p, function(a, b) if b then return a .. '/' .. "
		"tostring(b) end end)),\n"
		"  ser(pcall(string.gsub, s, p, {a = 'A', b = false, [''] = 'E', x = 1})),\n"
		"  ser(pcall(string.gsub, s, p, 7)),\n"
		"}\n"
		"return table.concat(out, '\\n')\n");
	return g_string_free(code, FALSE);
}

static gchar *
reference_run(lua_State *L, const gchar *code)
{
	gchar *result;
	if (luaL_loadbuffer(L, code, strlen(code), "=script") != LUA_OK ||
	    lua_pcall(L, 0, 1, 0) != LUA_OK)
		result = g_strdup_printf("failed: %s", lua_tostring(L, -1));
	else
		result = g_strdup(lua_tostring(L, -1));
	lua_settop(L, 0);
	return result;
}

static void
assert_pattern_agrees(Fixture *fx, lua_State *ref, const gchar *subject, const gchar *pattern)
{
	g_autofree gchar *code = pattern_chunk(subject, pattern);
	g_autofree gchar *expected = reference_run(ref, code);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_sandbox_run_chunk(fx->sandbox,
							 code,
							 NULL,
							 G_GINT64_CONSTANT(1000000000),
							 0,
							 &error);
	g_assert_no_error(error);
	if (g_strcmp0(json_node_get_string(node), expected) != 0) {
		g_test_message("subject “%s”, pattern “%s”:\nLua:\n%s\nsandbox:\n%s",
			       subject,
			       pattern,
			       expected,
			       json_node_get_string(node));
	}
	g_assert_cmpstr(json_node_get_string(node), ==, expected);
}

static void
test_sandbox_patterns_agree(Fixture *fx, gconstpointer user_data)
{
	static const gchar *atoms[] = {
		"a",      "b",      "x",    ".",     "%a",    "%d",    "%s",   "%w",   "%A",
		"%p",     "[ab]",   "[^a]", "[a-c]", "[%d)]", "[]]",   "[^]]", "%b()", "%bab",
		"%f[%w]", "%f[%W]", "(",    ")",     "()",    "%1",    "%2",   "%0",   "^",
		"$",      "%",      "[",    "]",     "%%",    "%.",    "*",    "+",    "-",
		"?",      "%f",     "%b",   "[%a-]", "(a)",   "(%w+)", "(.-)", "(b*)", "%x",
		"%S",     "[a-]",   "%z",   "%g",    "%u",
	};
	static const gchar *quantifiers[] = { "", "", "", "*", "+", "-", "?" };
	static const gchar subject_chars[] = "ab()1 x.]^$%A\t";
	static const struct {
		const gchar *subject;
		const gchar *pattern;
	} fixed[] = {
		{ "hello world from Lua", "(%w+)" },
		{ "hello world", "^(%w+)" },
		{ "  trim me  ", "^%s*(.-)%s*$" },
		{ "key = value", "(%w+)%s*=%s*(%w+)" },
		{ "THE (quick) fox", "%f[%a]%a+" },
		{ "f(a(b)c)d", "%b()" },
		{ "abc", "" },
		{ "", "" },
		{ "", "a*" },
		{ "abc", "()" },
		{ "abc", "()b()" },
		{ "aaa", "a-" },
		{ "aaa", "a-b" },
		{ "a.b.c", "%." },
		{ "a.b.c", "." },
		{ "x=1, y=2", "(%w+)=(%w+)" },
		{ "abab", "(ab)%1" },
		{ "abc", "[%a" },
		{ "abc", "(()" },
		{ "abc", "%" },
		{ "abc", "(a" },
		{ "abc", "a)" },
		{ "abc", "%g+" },
		{ "a\tb\vc", "%s" },
		{ "hello", "l+" },
		{ "hello", "$" },
		{ "hello", "^" },
		{ "he$llo", "e$l" },
		{ "a^b", "a^b" },
		{ "((()))", "%b()" },
		{ "[x]", "[]]" },
		{ "[x]", "[^]]+" },
		{ "a-b", "[a-]+" },
		{ "2024-01-31", "(%d+)-(%d+)-(%d+)" },
		{ "one two  three", "%S+" },
		{ "aaa", "%f[a]" },
		{ "THE END", "%f[%z]" },
		{ "abc", "(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))" },
	};
	lua_State *ref = luaL_newstate();
	g_autoptr(GRand) rand = g_rand_new_with_seed(20261122);

	luaL_openlibs(ref);
	for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
		assert_pattern_agrees(fx, ref, fixed[i].subject, fixed[i].pattern);
	for (guint i = 0; i < 2500; i++) {
		g_autoptr(GString) pattern = g_string_new(NULL);
		g_autoptr(GString) subject = g_string_new(NULL);
		guint n_atoms = (guint)g_rand_int_range(rand, 1, 6);
		guint n_chars = (guint)g_rand_int_range(rand, 0, 11);
		for (guint j = 0; j < n_atoms; j++) {
			g_string_append(pattern,
					atoms[g_rand_int_range(rand, 0, G_N_ELEMENTS(atoms))]);
			g_string_append(
				pattern,
				quantifiers[g_rand_int_range(rand, 0, G_N_ELEMENTS(quantifiers))]);
		}
		for (guint j = 0; j < n_chars; j++)
			g_string_append_c(
				subject,
				subject_chars[g_rand_int_range(rand,
							       0,
							       sizeof(subject_chars) - 1)]);
		assert_pattern_agrees(fx, ref, subject->str, pattern->str);
	}
	lua_close(ref);
}

/* work done in C counts too */
static void
test_sandbox_limit_library(Fixture *fx, gconstpointer user_data)
{
	assert_eval(fx, "#string.rep('', 1e12)", "0");
	assert_eval(fx, "#string.rep('', 1e12, '')", "0");
	assert_eval(fx, "string.rep('ab', 3, ',')", "\"ab,ab,ab\"");
	assert_eval_error(fx,
			  "(function() table.move({}, 1, 1e12, 2) end)()",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "expression ran more than 1000000 instructions");
	assert_eval_error(
		fx,
		"(function() local t = setmetatable({}, {__len = function() return 1e12 end}) "
		"table.insert(t, 1, 'x') end)()",
		AIQ_ERROR_LIMIT_EXCEEDED,
		"instructions");
	assert_eval_error(
		fx,
		"(function() local t = setmetatable({}, {__len = function() return 1e12 end}) "
		"table.remove(t, 1) end)()",
		AIQ_ERROR_LIMIT_EXCEEDED,
		"instructions");
	/* ordinary use is not affected */
	assert_eval(fx,
		    "(function() local t = {} for i = 1, 300 do table.insert(t, 1, i) end "
		    "table.remove(t, 1) table.insert(t, 'x') return {t[1], #t, t[#t]} end)()",
		    "[299,300,\"x\"]");
	assert_eval(fx, "table.move({1, 2, 3}, 1, 3, 2)", "[1,1,2,3]");
	assert_eval(fx, "table.concat(table.move({1, 2, 3}, 2, 3, 1, {}), ',')", "\"2,3\"");

	/* instructions that cost far more than others: a time limit stops them */
	assert_eval_error(fx,
			  "(function() local a, b = string.rep('x', 4e6), string.rep('x', 4e6) "
			  "while a == b do end end)()",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "expression ran for more than 2 seconds");
	assert_eval(fx, "inputs.n + 1", "42");
}

/* matching in C counts against the instruction limit */
static void
test_sandbox_patterns_limit(Fixture *fx, gconstpointer user_data)
{
	assert_eval_error(fx,
			  "(string.rep('a', 40000)):find('.-b')",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "expression ran more than 1000000 instructions");
	assert_eval_error(fx,
			  "(string.rep('a', 3000)):find('.-.-.-b')",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "instructions");
	assert_eval_error(fx,
			  "(string.rep('(', 20000)):gsub('%b()', '')",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "instructions");
	assert_eval_error(
		fx,
		"(function() for w in (string.rep('a', 20000)):gmatch('a-b') do end end)()",
		AIQ_ERROR_LIMIT_EXCEEDED,
		"instructions");
	assert_eval_error(fx,
			  "pcall(string.match, string.rep('a', 40000), '.-b') or 1",
			  AIQ_ERROR_LIMIT_EXCEEDED,
			  "instructions");
	/* ordinary work on large text fits */
	assert_eval(fx, "select(2, (string.rep('ab ', 100000)):gsub('%s+', '_'))", "100000");
	assert_eval(fx,
		    "(string.rep('x', 1000000) .. 'needle'):find('needle', 1, true)",
		    "1000001");
	assert_eval(fx, "(string.rep('x', 1000000) .. '<b>hi</b>'):match('<b>(.-)</b>')", "\"hi\"");
}

/* the default sandbox, one per thread */

typedef struct {
	GMutex mutex;
	GCond cond;
	guint arrived;
} Barrier;

static void
barrier_wait(Barrier *barrier, guint count)
{
	g_mutex_lock(&barrier->mutex);
	barrier->arrived++;
	g_cond_broadcast(&barrier->cond);
	while (barrier->arrived < count)
		g_cond_wait(&barrier->cond, &barrier->mutex);
	g_mutex_unlock(&barrier->mutex);
}

static gpointer
default_sandbox_thread(gpointer user_data)
{
	Barrier *barrier = user_data;
	AiqSandbox *sandbox = aiq_sandbox_get_default();
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	g_assert_true(aiq_sandbox_get_default() == sandbox);
	for (guint i = 0; i < 200; i++) {
		g_autofree gchar *expr =
			g_strdup_printf("(function() x = %u return x * 2 end)()", i);
		g_clear_pointer(&node, json_node_unref);
		node = aiq_sandbox_eval(sandbox, expr, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpint(json_node_get_int(node), ==, i * 2);
	}
	/* both threads hold their sandbox at the same time */
	barrier_wait(barrier, 2);
	return sandbox;
}

static void
test_sandbox_default_threads(void)
{
	Barrier barrier = { 0 };
	GThread *t1;
	GThread *t2;
	gpointer s1;
	gpointer s2;
	AiqSandbox *main_sandbox = aiq_sandbox_get_default();

	g_mutex_init(&barrier.mutex);
	g_cond_init(&barrier.cond);
	t1 = g_thread_new("sandbox-1", default_sandbox_thread, &barrier);
	t2 = g_thread_new("sandbox-2", default_sandbox_thread, &barrier);
	s1 = g_thread_join(t1);
	s2 = g_thread_join(t2);
	g_assert_true(s1 != s2);
	g_assert_true(s1 != main_sandbox);
	g_assert_true(s2 != main_sandbox);
	g_assert_true(aiq_sandbox_get_default() == main_sandbox);
	g_mutex_clear(&barrier.mutex);
	g_cond_clear(&barrier.cond);
}

/* templates */

static void
assert_parts(const gchar *str, const gchar *const *expected)
{
	g_autoptr(GPtrArray) parts = NULL;
	g_autoptr(GError) error = NULL;
	guint n = g_strv_length((gchar **)expected);

	g_assert_true(aiq_template_split(str, &parts, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(parts->len, ==, n);
	for (guint i = 0; i < n; i++) {
		AiqTemplatePart *part = g_ptr_array_index(parts, i);
		/* "=" marks an expression */
		if (expected[i][0] == '=') {
			g_assert_cmpint(part->kind, ==, AIQ_TEMPLATE_PART_EXPRESSION);
			g_assert_cmpstr(part->text, ==, expected[i] + 1);
		} else {
			g_assert_cmpint(part->kind, ==, AIQ_TEMPLATE_PART_TEXT);
			g_assert_cmpstr(part->text, ==, expected[i]);
		}
	}
}

static void
test_template_split(void)
{
	g_autoptr(GPtrArray) parts = NULL;
	g_autoptr(GError) error = NULL;
	AiqTemplatePart *part;

	assert_parts("a ${{ x }} b ${{y}}", (const gchar *[]){ "a ", "=x", " b ", "=y", NULL });
	assert_parts("${{ x }}${{ y }}", (const gchar *[]){ "=x", "=y", NULL });
	assert_parts("no expressions", (const gchar *[]){ "no expressions", NULL });
	assert_parts("", (const gchar *[]){ NULL });
	assert_parts("$ {{ x }} ${ x } }}", (const gchar *[]){ "$ {{ x }} ${ x } }}", NULL });
	assert_parts("${{ {a={b=1}} }}", (const gchar *[]){ "={a={b=1}}", NULL });
	assert_parts("${{ {a={b=1}}}}", (const gchar *[]){ "={a={b=1}}", NULL });
	assert_parts("${{ \"}}\" }}!", (const gchar *[]){ "=\"}}\"", "!", NULL });
	assert_parts("${{ '}}' .. \"'\" }}", (const gchar *[]){ "='}}' .. \"'\"", NULL });
	assert_parts("${{ 'it\\'s }}' }}", (const gchar *[]){ "='it\\'s }}'", NULL });
	assert_parts("${{ [[}}]] }}", (const gchar *[]){ "=[[}}]]", NULL });
	assert_parts("${{ [==[ ]] }} ]=] ]==] }}",
		     (const gchar *[]){ "=[==[ ]] }} ]=] ]==]", NULL });
	assert_parts("${{ t[ [[k]] ] }}", (const gchar *[]){ "=t[ [[k]] ]", NULL });
	assert_parts("${{ --[[ }} ]] 1 }}", (const gchar *[]){ "=--[[ }} ]] 1", NULL });
	assert_parts("${{ x -- it's }} y", (const gchar *[]){ "=x -- it's", " y", NULL });
	assert_parts("${{ \"${{\" }}", (const gchar *[]){ "=\"${{\"", NULL });

	/* offsets */
	g_assert_true(aiq_template_split("ab${{ x }}cd", &parts, &error));
	g_assert_cmpuint(parts->len, ==, 3);
	part = g_ptr_array_index(parts, 1);
	g_assert_cmpuint(part->offset, ==, 2);
	part = g_ptr_array_index(parts, 2);
	g_assert_cmpuint(part->offset, ==, 10);
}

static void
test_template_unterminated(void)
{
	static const gchar *bad[] = {
		"${{ x",       "a ${{ x } b",   "${{ '}} }}",
		"${{ [[ }} ",  "${{ {a = 1 }}", "ok ${{ 1 }} then ${{ 2",
		"${{ --[[ }}",
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GPtrArray) parts = NULL;
		g_autoptr(GError) error = NULL;
		g_test_message("%s", bad[i]);
		g_assert_false(aiq_template_split(bad[i], &parts, &error));
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION);
		g_assert_null(parts);
		g_assert_null(aiq_template_get_single_expression(bad[i]));
		g_assert_true(aiq_template_string_has_expressions(bad[i]));
	}
	{
		g_autoptr(GPtrArray) parts = NULL;
		g_autoptr(GError) error = NULL;
		g_assert_false(aiq_template_split("héllo ${{ x", &parts, &error));
		g_assert_cmpstr(error->message, ==, "“${{” at character 7 has no matching “}}”");
	}
}

static void
test_template_single(void)
{
	g_autofree gchar *a = aiq_template_get_single_expression("${{ x }}");
	g_autofree gchar *b = aiq_template_get_single_expression("  ${{  inputs.n + 1 }}\n");
	g_autofree gchar *c = aiq_template_get_single_expression("${{ {a={b=1}} }}");

	g_assert_cmpstr(a, ==, "x");
	g_assert_cmpstr(b, ==, "inputs.n + 1");
	g_assert_cmpstr(c, ==, "{a={b=1}}");
	g_assert_null(aiq_template_get_single_expression("a ${{ x }}"));
	g_assert_null(aiq_template_get_single_expression("${{ x }} b"));
	g_assert_null(aiq_template_get_single_expression("${{ x }}${{ y }}"));
	g_assert_null(aiq_template_get_single_expression("plain"));
	g_assert_null(aiq_template_get_single_expression(""));
	g_assert_null(aiq_template_get_single_expression(NULL));
}

static void
test_template_has_expressions(void)
{
	g_autoptr(JsonNode) with = parse("{\"a\": [1, {\"b\": \"x ${{ y }}\"}]}");
	g_autoptr(JsonNode) without = parse("{\"${{ key }}\": [1, {\"b\": \"x\"}], \"c\": true}");

	g_assert_true(aiq_template_string_has_expressions("a ${{ b }}"));
	g_assert_false(aiq_template_string_has_expressions("a ${ b }"));
	g_assert_false(aiq_template_string_has_expressions(NULL));
	g_assert_true(aiq_template_has_expressions(with));
	g_assert_false(aiq_template_has_expressions(without));
}

static void
assert_render(Fixture *fx, const gchar *template_json, const gchar *expected)
{
	g_autoptr(JsonNode) value = parse(template_json);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) rendered = aiq_template_render(fx->sandbox, value, &fx->scope, &error);
	g_autofree gchar *text = NULL;
	g_assert_no_error(error);
	text = aiq_json_to_string(rendered, FALSE);
	g_test_message("%s → %s", template_json, text);
	g_assert_cmpstr(text, ==, expected);
}

static void
test_template_render_typed(Fixture *fx, gconstpointer user_data)
{
	assert_render(fx, "\"${{ 1 + 1 }}\"", "2");
	assert_render(fx, "\" ${{ 1 + 1 }} \"", "2");
	assert_render(fx, "\"${{ 0.5 }}\"", "0.5");
	assert_render(fx, "\"${{ true }}\"", "true");
	assert_render(fx, "\"${{ nil }}\"", "null");
	assert_render(fx, "\"${{ inputs.list }}\"", "[1,2,3]");
	assert_render(fx, "\"${{ {a = {b = 1}} }}\"", "{\"a\":{\"b\":1}}");
	assert_render(fx, "\"${{ \\\"}}\\\" }}\"", "\"}}\"");
	assert_render(
		fx,
		"{\"a\": \"${{ inputs.n }}\", \"b\": [\"${{ item.id }}\", 5, null], \"c\": {}}",
		"{\"a\":41,\"b\":[\"x1\",5,null],\"c\":{}}");
	assert_render(fx, "[\"${{ index }}\", \"${{ #steps.fetch.output.body.items }}\"]", "[0,2]");
}

static void
test_template_render_interpolate(Fixture *fx, gconstpointer user_data)
{
	assert_render(fx,
		      "\"n=${{ inputs.n }} pi=${{ inputs.pi }} half=${{ 1/2 }} two=${{ 4/2 }} "
		      "big=${{ 2^63 }} tenth=${{ 0.1 + 0.2 }} t=${{ true }} f=${{ 1 > 2 }} "
		      "nil=[${{ nil }}] s=${{ inputs.name }}\"",
		      "\"n=41 pi=3.5 half=0.5 two=2 big=9.223372036854776e+18 "
		      "tenth=0.30000000000000004 t=true f=false nil=[] s=Ada\"");
	assert_render(fx,
		      "\"list=${{ inputs.list }} obj=${{ {b = 'x\\\"y', a = 0.25} }} e=${{ {} }}\"",
		      "\"list=[1,2,3] obj={\\\"a\\\":0.25,\\\"b\\\":\\\"x\\\\\\\"y\\\"} e={}\"");
	assert_render(fx,
		      "\"https://erp/api?since=${{ inputs.name }}&n=${{ inputs.n }}\"",
		      "\"https://erp/api?since=Ada&n=41\"");
	assert_render(fx, "\"${{ 1 }}${{ 2 }}\"", "\"12\"");
	assert_render(fx, "\"${{ 'a' }} ${{ \\\"}}\\\" }}\"", "\"a }}\"");
	assert_render(fx,
		      "\"Imported ${{ #steps.fetch.output.body.items }} invoices\"",
		      "\"Imported 2 invoices\"");
	assert_render(fx,
		      "\"nested ${{ inputs.nested }}\"",
		      "\"nested {\\\"a\\\":{\\\"b\\\":[10,20]}}\"");
}

static void
test_template_render_shares(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(JsonNode) value = parse("{\"static\": {\"deep\": [1, 2, {\"x\": \"y\"}]}, "
					  "\"list\": [\"a\", \"${{ inputs.n }}\", \"c\"], "
					  "\"keep\": \"text\"}");
	g_autoptr(JsonNode) plain = parse("{\"a\": [1, \"b\"], \"c\": \"d\"}");
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) rendered = aiq_template_render(fx->sandbox, value, &fx->scope, &error);
	g_autoptr(JsonNode) rendered_plain =
		aiq_template_render(fx->sandbox, plain, &fx->scope, &error);
	JsonObject *in = json_node_get_object(value);
	JsonObject *out;
	JsonArray *in_list;
	JsonArray *out_list;
	g_autofree gchar *text = NULL;

	g_assert_no_error(error);
	/* nothing to render: the same node */
	g_assert_true(rendered_plain == plain);

	g_assert_true(rendered != value);
	out = json_node_get_object(rendered);
	g_assert_true(json_object_get_member(out, "static") ==
		      json_object_get_member(in, "static"));
	g_assert_true(json_object_get_member(out, "keep") == json_object_get_member(in, "keep"));
	in_list = json_object_get_array_member(in, "list");
	out_list = json_object_get_array_member(out, "list");
	g_assert_true(json_array_get_element(out_list, 0) == json_array_get_element(in_list, 0));
	g_assert_true(json_array_get_element(out_list, 2) == json_array_get_element(in_list, 2));
	g_assert_cmpint(json_array_get_int_element(out_list, 1), ==, 41);

	/* member order is kept, and the template itself is not changed */
	text = aiq_json_to_string(rendered, FALSE);
	g_assert_cmpstr(text,
			==,
			"{\"static\":{\"deep\":[1,2,{\"x\":\"y\"}]},\"list\":[\"a\",41,\"c\"],"
			"\"keep\":\"text\"}");
	g_assert_cmpstr(json_array_get_string_element(in_list, 1), ==, "${{ inputs.n }}");
}

static void
assert_render_error(Fixture *fx, const gchar *template_json, gint code, const gchar *message)
{
	g_autoptr(JsonNode) value = parse(template_json);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) rendered = aiq_template_render(fx->sandbox, value, &fx->scope, &error);
	g_assert_null(rendered);
	g_assert_error(error, AIQ_ERROR, code);
	g_assert_cmpstr(error->message, ==, message);
}

static void
test_template_render_errors(Fixture *fx, gconstpointer user_data)
{
	g_hash_table_remove(fx->steps.outputs, "fetch");
	assert_render_error(fx,
			    "{\"url\": \"${{ steps.fetch.output.url }}\"}",
			    AIQ_ERROR_EXPRESSION,
			    "url: expression: attempt to index a nil value (field 'fetch')");
	assert_render_error(
		fx,
		"{\"headers\": {\"Authorization\": \"Bearer ${{ steps.fetch.output.token }}\"}}",
		AIQ_ERROR_EXPRESSION,
		"headers.Authorization: expression: attempt to index a nil value (field "
		"'fetch')");
	assert_render_error(fx,
			    "{\"params\": [\"ok\", \"${{ item.id }} ${{ print }}\"]}",
			    AIQ_ERROR_EXPRESSION,
			    "params[1]: expression returned a function");
	assert_render_error(fx,
			    "{\"a b\": \"${{ x\"}",
			    AIQ_ERROR_EXPRESSION,
			    "[\"a b\"]: “${{” at character 1 has no matching “}}”");
	assert_render_error(fx,
			    "\"${{ error(secrets.TOKEN) }}\"",
			    AIQ_ERROR_EXPRESSION,
			    "expression: ***");
	assert_render_error(fx,
			    "[\"${{ (function() while true do end end)() }}\"]",
			    AIQ_ERROR_LIMIT_EXCEEDED,
			    "[0]: expression ran more than 1000000 instructions");
}

static void
test_template_check(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(JsonNode) value =
		parse("{\"steps\": ["
		      "{\"with\": {\"url\": \"ok ${{ inputs.x }}\", \"${{ key + }}\": 1}},"
		      "{\"with\": {\"url\": \"${{ inputs. + 1 }}\", "
		      "\"list\": [\"fine\", \"${{ 1 +\", \"${{ }} ${{ ok }} ${{ ) }}\"]}}"
		      "]}");
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqProblems) problems_sub = aiq_problems_new();
	const AiqProblem *problem;

	aiq_template_check(fx->sandbox, value, NULL, problems);
	for (guint i = 0; i < aiq_problems_get_size(problems); i++) {
		problem = aiq_problems_index(problems, i);
		g_test_message("%s: %s", problem->path, problem->message);
	}
	g_assert_cmpuint(aiq_problems_get_size(problems), ==, 4);
	problem = aiq_problems_index(problems, 0);
	g_assert_cmpstr(problem->path, ==, "steps[1].with.url");
	g_assert_true(g_str_has_prefix(problem->message, "expression: "));
	problem = aiq_problems_index(problems, 1);
	g_assert_cmpstr(problem->path, ==, "steps[1].with.list[1]");
	g_assert_cmpstr(problem->message, ==, "“${{” at character 1 has no matching “}}”");
	problem = aiq_problems_index(problems, 2);
	g_assert_cmpstr(problem->path, ==, "steps[1].with.list[2]");
	g_assert_cmpstr(problem->message, ==, "expression is empty");
	problem = aiq_problems_index(problems, 3);
	g_assert_cmpstr(problem->path, ==, "steps[1].with.list[2]");
	g_assert_cmpstr(problem->message, ==, "expression: unexpected symbol near ')'");

	/* under a given path */
	aiq_template_check(
		fx->sandbox,
		json_object_get_member(
			json_array_get_object_element(
				json_object_get_array_member(json_node_get_object(value), "steps"),
				1),
			"with"),
		"steps[1].with",
		problems_sub);
	g_assert_cmpuint(aiq_problems_get_size(problems_sub), ==, 4);
	g_assert_true(aiq_problems_has_path(problems_sub, "steps[1].with.url"));
	g_assert_true(aiq_problems_has_path(problems_sub, "steps[1].with.list[1]"));
}

static void
test_template_status_functions(void)
{
	static const struct {
		const gchar *str;
		gboolean uses;
	} cases[] = {
		{ "${{ success() }}", TRUE },
		{ "${{ failure() and steps.a.status == 'failed' }}", TRUE },
		{ "${{ always() }}", TRUE },
		{ "${{ cancelled() }}", TRUE },
		{ "${{ success () }}", TRUE },
		{ "${{ not failure() }}", TRUE },
		{ "${{ 'x' .. tostring(success()) }}", TRUE },
		{ "${{ inputs.n .. success() }}", TRUE },
		{ "failure()", TRUE },
		{ "${{ 'success()' }}", FALSE },
		{ "${{ [[failure()]] }}", FALSE },
		{ "${{ x.success() }}", FALSE },
		{ "${{ x:failure() }}", FALSE },
		{ "${{ steps.a.status == 'failure' }}", FALSE },
		{ "${{ success }}", FALSE },
		{ "${{ successful() }}", FALSE },
		{ "${{ my_always() }}", FALSE },
		{ "${{ --[[ always() ]] true }}", FALSE },
		{ "${{ true -- always()\n }}", FALSE },
		{ "${{ inputs.go }} always()", FALSE },
		{ "", FALSE },
		{ NULL, FALSE },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("%s", cases[i].str != NULL ? cases[i].str : "(null)");
		g_assert_cmpint(aiq_template_uses_status_function(cases[i].str), ==, cases[i].uses);
	}
}

static void
test_template_node_to_text(void)
{
	static const struct {
		const gchar *json;
		const gchar *text;
	} cases[] = {
		{ "null", "" },
		{ "\"a\\nb\"", "a\nb" },
		{ "12", "12" },
		{ "-0.5", "-0.5" },
		{ "1e100", "1e+100" },
		{ "true", "true" },
		{ "[1, \"two\", null, {\"k\": false}]", "[1,\"two\",null,{\"k\":false}]" },
		{ "{\"ctl\": \"\\u0001\\t\\\"\"}", "{\"ctl\":\"\\u0001\\t\\\"\"}" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(JsonNode) node = parse(cases[i].json);
		g_autofree gchar *text = aiq_template_node_to_text(node);
		g_assert_cmpstr(text, ==, cases[i].text);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/aiq/sandbox/types", test_sandbox_types);
	ADD("/aiq/sandbox/results", test_sandbox_results);
	ADD("/aiq/sandbox/inputs", test_sandbox_inputs);
	ADD("/aiq/sandbox/inputs-modified", test_sandbox_inputs_modified);
	ADD("/aiq/sandbox/item-execution", test_sandbox_item_execution);
	ADD("/aiq/sandbox/steps", test_sandbox_steps);
	ADD("/aiq/sandbox/secrets", test_sandbox_secrets);
	ADD("/aiq/sandbox/status-functions", test_sandbox_status_functions);
	ADD("/aiq/sandbox/compile-errors", test_sandbox_compile_errors);
	ADD("/aiq/sandbox/runtime-errors", test_sandbox_runtime_errors);
	ADD("/aiq/sandbox/escapes", test_sandbox_escapes);
	ADD("/aiq/sandbox/isolation", test_sandbox_isolation);
	ADD("/aiq/sandbox/limit-instructions", test_sandbox_limit_instructions);
	ADD("/aiq/sandbox/limit-memory", test_sandbox_limit_memory);
	ADD("/aiq/sandbox/chunk", test_sandbox_chunk);
	ADD("/aiq/sandbox/cache", test_sandbox_cache);
	ADD("/aiq/sandbox/cache-chunk-vs-expression", test_sandbox_cache_chunk_vs_expression);
	ADD("/aiq/sandbox/reentrant", test_sandbox_reentrant);
	ADD("/aiq/sandbox/patterns-agree", test_sandbox_patterns_agree);
	ADD("/aiq/sandbox/patterns-limit", test_sandbox_patterns_limit);
	ADD("/aiq/sandbox/limit-library", test_sandbox_limit_library);
	g_test_add_func("/aiq/sandbox/default-per-thread", test_sandbox_default_threads);

	g_test_add_func("/aiq/template/split", test_template_split);
	g_test_add_func("/aiq/template/unterminated", test_template_unterminated);
	g_test_add_func("/aiq/template/single-expression", test_template_single);
	g_test_add_func("/aiq/template/has-expressions", test_template_has_expressions);
	g_test_add_func("/aiq/template/node-to-text", test_template_node_to_text);
	ADD("/aiq/template/render-typed", test_template_render_typed);
	ADD("/aiq/template/render-interpolate", test_template_render_interpolate);
	ADD("/aiq/template/render-shares", test_template_render_shares);
	ADD("/aiq/template/render-errors", test_template_render_errors);
	ADD("/aiq/template/check", test_template_check);
	g_test_add_func("/aiq/template/status-functions", test_template_status_functions);
#undef ADD

	return g_test_run();
}
