/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gstdio.h>
#include <fcntl.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "aiq-document.h"
#include "aiq-error.h"
#include "aiq-json.h"

/* helpers */

static JsonNode *
parse_yaml(const gchar *text, GError **error)
{
	return aiq_yaml_parse(text, strlen(text), NULL, error);
}

static JsonNode *
parse_yaml_ok(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = parse_yaml(text, &error);
	if (node == NULL)
		g_error("parsing %s failed: %s", text, error->message);
	return node;
}

static JsonNode *
parse_json_ok(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node =
		aiq_document_parse(text, strlen(text), AIQ_DOCUMENT_FORMAT_JSON, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

/* the member "v" of a parsed mapping, for scalar tables */
static JsonNode *
parse_value(const gchar *yaml, GError **error)
{
	g_autoptr(JsonNode) root = parse_yaml(yaml, error);
	if (root == NULL)
		return NULL;
	g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
	return json_object_dup_member(json_node_get_object(root), "v");
}

static void
assert_error_prefix(GError *error, gint code, const gchar *prefix)
{
	g_assert_nonnull(error);
	if (!g_str_has_prefix(error->message, prefix))
		g_error("expected an error starting with “%s”, got “%s”", prefix, error->message);
	g_assert_error(error, AIQ_ERROR, code);
}

/*
 * json_node_equal() compares 1 and 1.0 as equal and ignores member order;
 * this is stricter: same types, same order, same bits for doubles.
 */
static gboolean
nodes_identical(JsonNode *a, JsonNode *b, guint depth)
{
	g_assert_cmpuint(depth, <, 1000);
	if (JSON_NODE_TYPE(a) != JSON_NODE_TYPE(b))
		return FALSE;
	switch (JSON_NODE_TYPE(a)) {
	case JSON_NODE_NULL:
		return TRUE;
	case JSON_NODE_VALUE:
		if (json_node_get_value_type(a) != json_node_get_value_type(b))
			return FALSE;
		switch (json_node_get_value_type(a)) {
		case G_TYPE_STRING:
			return g_strcmp0(json_node_get_string(a), json_node_get_string(b)) == 0;
		case G_TYPE_INT64:
			return json_node_get_int(a) == json_node_get_int(b);
		case G_TYPE_BOOLEAN:
			return json_node_get_boolean(a) == json_node_get_boolean(b);
		case G_TYPE_DOUBLE: {
			gdouble x = json_node_get_double(a);
			gdouble y = json_node_get_double(b);
			return memcmp(&x, &y, sizeof(x)) == 0;
		}
		default:
			return FALSE;
		}
	case JSON_NODE_ARRAY: {
		JsonArray *x = json_node_get_array(a);
		JsonArray *y = json_node_get_array(b);
		if (json_array_get_length(x) != json_array_get_length(y))
			return FALSE;
		for (guint i = 0; i < json_array_get_length(x); i++) {
			if (!nodes_identical(json_array_get_element(x, i),
					     json_array_get_element(y, i),
					     depth + 1))
				return FALSE;
		}
		return TRUE;
	}
	case JSON_NODE_OBJECT: {
		g_autoptr(GList) mx = json_object_get_members(json_node_get_object(a));
		g_autoptr(GList) my = json_object_get_members(json_node_get_object(b));
		GList *ly = my;
		if (g_list_length(mx) != g_list_length(my))
			return FALSE;
		for (GList *lx = mx; lx != NULL; lx = lx->next, ly = ly->next) {
			if (g_strcmp0(lx->data, ly->data) != 0)
				return FALSE;
			if (!nodes_identical(
				    json_object_get_member(json_node_get_object(a), lx->data),
				    json_object_get_member(json_node_get_object(b), ly->data),
				    depth + 1))
				return FALSE;
		}
		return TRUE;
	}
	default:
		return FALSE;
	}
}

/* emit, parse back, and check both equalities */
static void
assert_round_trip(JsonNode *node)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *yaml = aiq_yaml_emit(node, &error);
	g_autoptr(JsonNode) back = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(yaml);
	back = aiq_yaml_parse(yaml, strlen(yaml), NULL, &error);
	if (back == NULL) {
		g_autofree gchar *json = aiq_json_to_string(node, FALSE);
		g_error("%s was written as:\n%s\nwhich does not parse: %s",
			json,
			yaml,
			error->message);
	}
	if (!json_node_equal(node, back) || !nodes_identical(node, back, 0)) {
		g_autofree gchar *json = aiq_json_to_string(node, FALSE);
		g_autofree gchar *json_back = aiq_json_to_string(back, FALSE);
		g_error("%s was written as:\n%s\nwhich reads back as %s", json, yaml, json_back);
	}
}

static JsonNode *
new_string(const gchar *str)
{
	return aiq_json_new_string(str);
}

static JsonNode *
new_double(gdouble value)
{
	JsonNode *node = json_node_new(JSON_NODE_VALUE);
	json_node_set_double(node, value);
	return node;
}

static gchar *
emit_value(JsonNode *value)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) object = json_object_new();
	g_autoptr(JsonNode) root = NULL;
	gchar *yaml;

	json_object_set_member(object, "v", value);
	root = aiq_json_new_object(g_steal_pointer(&object));
	yaml = aiq_yaml_emit(root, &error);
	g_assert_no_error(error);
	return yaml;
}

/* scalars */

typedef enum {
	T_NULL,
	T_BOOL,
	T_INT,
	T_DOUBLE,
	T_STRING,
	T_ERROR,
} ScalarType;

typedef struct {
	const gchar *yaml;
	ScalarType type;
	gint64 i;
	gdouble d;
	const gchar *s;
} ScalarCase;

static void
check_scalar_case(const ScalarCase *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = parse_value(c->yaml, &error);

	if (c->type == T_ERROR) {
		g_assert_null(node);
		assert_error_prefix(error, AIQ_ERROR_INVALID_DOCUMENT, c->s);
		return;
	}
	if (node == NULL)
		g_error("%s: %s", c->yaml, error->message);
	switch (c->type) {
	case T_NULL:
		g_assert_true(JSON_NODE_HOLDS_NULL(node));
		break;
	case T_BOOL:
		g_assert_true(aiq_json_is_bool(node));
		g_assert_cmpint(json_node_get_boolean(node), ==, c->i);
		break;
	case T_INT:
		if (!aiq_json_is_integer(node))
			g_error("%s: expected an integer, got %s",
				c->yaml,
				aiq_json_type_name(node));
		g_assert_cmpint(json_node_get_int(node), ==, c->i);
		break;
	case T_DOUBLE:
		if (json_node_get_value_type(node) != G_TYPE_DOUBLE)
			g_error("%s: expected a double, got %s", c->yaml, aiq_json_type_name(node));
		g_assert_cmpfloat(json_node_get_double(node), ==, c->d);
		break;
	case T_STRING:
		if (!aiq_json_is_string(node))
			g_error("%s: expected a string, got %s", c->yaml, aiq_json_type_name(node));
		g_assert_cmpstr(json_node_get_string(node), ==, c->s);
		break;
	case T_ERROR:
	default:
		g_assert_not_reached();
	}
}

static void
test_yaml_scalar_typing(void)
{
	static const ScalarCase cases[] = {
		{ "v: ~", T_NULL },
		{ "v: null", T_NULL },
		{ "v: Null", T_NULL },
		{ "v: NULL", T_NULL },
		{ "v:", T_NULL },
		{ "v: nULL", T_STRING, 0, 0, "nULL" },
		{ "v: true", T_BOOL, TRUE },
		{ "v: True", T_BOOL, TRUE },
		{ "v: TRUE", T_BOOL, TRUE },
		{ "v: false", T_BOOL, FALSE },
		{ "v: False", T_BOOL, FALSE },
		{ "v: FALSE", T_BOOL, FALSE },
		{ "v: tRUE", T_STRING, 0, 0, "tRUE" },
		/* YAML 1.1 booleans are strings under the 1.2 core schema */
		{ "v: yes", T_STRING, 0, 0, "yes" },
		{ "v: no", T_STRING, 0, 0, "no" },
		{ "v: on", T_STRING, 0, 0, "on" },
		{ "v: off", T_STRING, 0, 0, "off" },
		{ "v: y", T_STRING, 0, 0, "y" },
		{ "v: 0", T_INT, 0 },
		{ "v: -0", T_INT, 0 },
		{ "v: 42", T_INT, 42 },
		{ "v: +12", T_INT, 12 },
		{ "v: -17", T_INT, -17 },
		{ "v: 007", T_INT, 7 },
		{ "v: 0x1F", T_INT, 31 },
		{ "v: 0xff", T_INT, 255 },
		{ "v: 0o17", T_INT, 15 },
		{ "v: 0X1F", T_STRING, 0, 0, "0X1F" },
		{ "v: 0x", T_STRING, 0, 0, "0x" },
		{ "v: 0o8", T_STRING, 0, 0, "0o8" },
		{ "v: -0x1", T_STRING, 0, 0, "-0x1" },
		{ "v: 9223372036854775807", T_INT, G_MAXINT64 },
		{ "v: -9223372036854775808", T_INT, G_MININT64 },
		{ "v: 9223372036854775808", T_DOUBLE, 0, 9223372036854775808.0 },
		{ "v: -9223372036854775809", T_DOUBLE, 0, -9223372036854775809.0 },
		{ "v: 0x7FFFFFFFFFFFFFFF", T_INT, G_MAXINT64 },
		{ "v: 0xFFFFFFFFFFFFFFFF", T_DOUBLE, 0, 18446744073709551615.0 },
		{ "v: 0x10000000000000000", T_DOUBLE, 0, 18446744073709551616.0 },
		{ "v: 1.5", T_DOUBLE, 0, 1.5 },
		{ "v: -1.5", T_DOUBLE, 0, -1.5 },
		{ "v: .5", T_DOUBLE, 0, 0.5 },
		{ "v: -.5", T_DOUBLE, 0, -0.5 },
		{ "v: 1.", T_DOUBLE, 0, 1.0 },
		{ "v: 1.0", T_DOUBLE, 0, 1.0 },
		{ "v: 1e3", T_DOUBLE, 0, 1000.0 },
		{ "v: 1E-3", T_DOUBLE, 0, 0.001 },
		{ "v: +1.5e+10", T_DOUBLE, 0, 1.5e10 },
		{ "v: 1e300", T_DOUBLE, 0, 1e300 },
		{ "v: 1_000", T_STRING, 0, 0, "1_000" },
		{ "v: 1.2.3", T_STRING, 0, 0, "1.2.3" },
		{ "v: 0b101", T_STRING, 0, 0, "0b101" },
		{ "v: 12:30", T_STRING, 0, 0, "12:30" },
		{ "v: 2024-01-31", T_STRING, 0, 0, "2024-01-31" },
		{ "v: 1e", T_STRING, 0, 0, "1e" },
		{ "v: e3", T_STRING, 0, 0, "e3" },
		{ "v: .", T_STRING, 0, 0, "." },
		{ "v: nan", T_STRING, 0, 0, "nan" },
		{ "v: inf", T_STRING, 0, 0, "inf" },
		{ "v: hello world", T_STRING, 0, 0, "hello world" },
		{ "v: a:b", T_STRING, 0, 0, "a:b" },
		{ "v: ${{ inputs.x }}", T_STRING, 0, 0, "${{ inputs.x }}" },
		{ "v: héllo", T_STRING, 0, 0, "héllo" },
		{ "v: .inf",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: “.inf” is not a number JSON can hold" },
		{ "v: -.Inf",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: “-.Inf” is not a number JSON can hold" },
		{ "v: .NaN",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: “.NaN” is not a number JSON can hold" },
		{ "x: 1\nv: 1e400", T_ERROR, 0, 0, "line 2, column 4: “1e400” is not a number" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		check_scalar_case(&cases[i]);
}

static void
test_yaml_quoted(void)
{
	static const ScalarCase cases[] = {
		{ "v: \"123\"", T_STRING, 0, 0, "123" },
		{ "v: '123'", T_STRING, 0, 0, "123" },
		{ "v: \"true\"", T_STRING, 0, 0, "true" },
		{ "v: 'null'", T_STRING, 0, 0, "null" },
		{ "v: \"~\"", T_STRING, 0, 0, "~" },
		{ "v: \"\"", T_STRING, 0, 0, "" },
		{ "v: ''", T_STRING, 0, 0, "" },
		{ "v: \".inf\"", T_STRING, 0, 0, ".inf" },
		{ "v: \"1.5\"", T_STRING, 0, 0, "1.5" },
		{ "v: 'it''s'", T_STRING, 0, 0, "it's" },
		{ "v: \"tab\\there\\n\"", T_STRING, 0, 0, "tab\there\n" },
		{ "v: \"\\u00e9\\U0001F600\"", T_STRING, 0, 0, "é😀" },
		{ "v: \"a: b\"", T_STRING, 0, 0, "a: b" },
		{ "v: \"a\\0b\"",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: the string contains a NUL character" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		check_scalar_case(&cases[i]);
}

static void
test_yaml_block_scalars(void)
{
	static const ScalarCase cases[] = {
		{ "v: |\n  a\n  b\n", T_STRING, 0, 0, "a\nb\n" },
		{ "v: |\n  a\n  b", T_STRING, 0, 0, "a\nb" },
		{ "v: |-\n  a\n  b\n", T_STRING, 0, 0, "a\nb" },
		{ "v: |+\n  a\n  b\n\n", T_STRING, 0, 0, "a\nb\n\n" },
		{ "v: |\n  a\n\n  b\n", T_STRING, 0, 0, "a\n\nb\n" },
		{ "v: |\n    indented\n  less\n", T_ERROR, 0, 0, "line 3" },
		{ "v: |2\n   x\n  y\n", T_STRING, 0, 0, " x\ny\n" },
		{ "v: >\n  a\n  b\n\n  c\n", T_STRING, 0, 0, "a b\nc\n" },
		{ "v: >-\n  folded\n  text\n", T_STRING, 0, 0, "folded text" },
		{ "v: |\n  123\n", T_STRING, 0, 0, "123\n" },
		{ "v: >-\n  true\n", T_STRING, 0, 0, "true" },
		{ "v: |-\n  null\n", T_STRING, 0, 0, "null" },
		{ "v: |\n  # not a comment\n", T_STRING, 0, 0, "# not a comment\n" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		check_scalar_case(&cases[i]);
}

static void
test_yaml_tags(void)
{
	static const ScalarCase cases[] = {
		{ "v: !!str 123", T_STRING, 0, 0, "123" },
		{ "v: !!str true", T_STRING, 0, 0, "true" },
		{ "v: !!str", T_STRING, 0, 0, "" },
		{ "v: ! 12", T_STRING, 0, 0, "12" },
		{ "v: !!int \"42\"", T_INT, 42 },
		{ "v: !!int 0x10", T_INT, 16 },
		{ "v: !!float 1", T_DOUBLE, 0, 1.0 },
		{ "v: !!float '2.5'", T_DOUBLE, 0, 2.5 },
		{ "v: !!bool 'true'", T_BOOL, TRUE },
		{ "v: !!null ''", T_NULL },
		{ "v: !!null ~", T_NULL },
		{ "v: !<tag:yaml.org,2002:str> 5", T_STRING, 0, 0, "5" },
		{ "v: !!int abc",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: “abc” is tagged !!int but is not an integer" },
		{ "v: !!int 1.5", T_ERROR, 0, 0, "line 1, column 4: “1.5” is tagged !!int" },
		{ "v: !!bool yes", T_ERROR, 0, 0, "line 1, column 4: “yes” is tagged !!bool" },
		{ "v: !!null 0", T_ERROR, 0, 0, "line 1, column 4: “0” is tagged !!null" },
		{ "v: !!float x", T_ERROR, 0, 0, "line 1, column 4: “x” is tagged !!float" },
		{ "v: !!float .inf", T_ERROR, 0, 0, "line 1, column 4: “.inf” is not a number" },
		{ "v: !foo 1", T_ERROR, 0, 0, "line 1, column 4: the tag “!foo” is not supported" },
		{ "v: !!binary aGk=",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: the tag “!!binary” is not supported" },
		{ "v: !!timestamp 2001-12-14",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: the tag “!!timestamp”" },
		{ "v: !!set {a}",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: the tag “!!set” is not supported here" },
		{ "v: !!seq {a: 1}",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: the tag “!!seq” is not supported here" },
		{ "v: !!map [1]",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: the tag “!!map” is not supported here" },
		{ "v: !!str [1]",
		  T_ERROR,
		  0,
		  0,
		  "line 1, column 4: the tag “!!str” is not supported here" },
		{ "v: !!map {a: 1}\n!foo k: 1", T_ERROR, 0, 0, "line 2, column 1: the tag “!foo”" },
	};
	g_autoptr(JsonNode) seq = parse_yaml_ok("!!seq [1, !!map {a: 1}]");
	g_assert_true(JSON_NODE_HOLDS_ARRAY(seq));
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		check_scalar_case(&cases[i]);
}

static void
test_yaml_keys(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(JsonNode) expected = NULL;

	/* keys are strings as written, never typed */
	node = parse_yaml_ok("1: a\ntrue: b\n~: c\n0x10: d\n\"quoted\": e\n? long\n: f\n.inf: g\n");
	expected = parse_json_ok("{\"1\": \"a\", \"true\": \"b\", \"~\": \"c\", \"0x10\": \"d\", "
				 "\"quoted\": \"e\", \"long\": \"f\", \".inf\": \"g\"}");
	g_assert_true(nodes_identical(node, expected, 0));
	g_clear_pointer(&node, json_node_unref);

	node = parse_yaml("a: 1\n? [x, y]\n: 2\n", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 2, column 3: a mapping key must be a string, not a sequence");
	g_clear_error(&error);

	node = parse_yaml("{a: 1, {b: 2}: 3}", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 1, column 8: a mapping key must be a string, not a mapping");
	g_clear_error(&error);

	node = parse_yaml("base: &b {x: 1}\n*b : 2\n", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 2, column 1: a mapping key must be a string, not a mapping");
	g_clear_error(&error);

	node = parse_yaml("!!int x: 1\n", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 1, column 1: “x” is tagged !!int");
}

static void
test_yaml_duplicate_keys(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	node = parse_yaml("name: x\njob:\n  steps: []\n  steps: []\n", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 4, column 3: duplicate key “steps”");
	g_assert_cmpstr(error->message, ==, "line 4, column 3: duplicate key “steps”");
	g_clear_error(&error);

	/* the same key written differently is still the same key */
	node = parse_yaml("{a: 1, \"a\": 2}", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 1, column 8: duplicate key “a”");
	g_clear_error(&error);

	node = parse_yaml("k: &k a\nm:\n  a: 1\n  *k : 2\n", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 4, column 3: duplicate key “a”");
	g_clear_error(&error);

	/* equal keys in different mappings are fine */
	node = parse_yaml_ok("a: {x: 1}\nb: {x: 2}\n");
	g_assert_nonnull(node);
}

static void
test_yaml_anchors(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(JsonNode) expected = NULL;
	JsonObject *root;

	node = parse_yaml_ok("defaults: &d\n"
			     "  retries: 3\n"
			     "  timeout: 10s\n"
			     "name: &n build\n"
			     "steps:\n"
			     "  - with: *d\n"
			     "    id: *n\n"
			     "  - with: *d\n"
			     "*n : key from alias\n"
			     "list: &l [1, [2, 3]]\n"
			     "again: *l\n");
	expected = parse_json_ok("{\"defaults\": {\"retries\": 3, \"timeout\": \"10s\"},"
				 " \"name\": \"build\","
				 " \"steps\": [{\"with\": {\"retries\": 3, \"timeout\": \"10s\"},"
				 " \"id\": \"build\"},"
				 " {\"with\": {\"retries\": 3, \"timeout\": \"10s\"}}],"
				 " \"build\": \"key from alias\","
				 " \"list\": [1, [2, 3]], \"again\": [1, [2, 3]]}");
	g_assert_true(nodes_identical(node, expected, 0));
	g_assert_true(json_node_equal(node, expected));

	/* the tree is immutable, so aliases can share their node */
	g_assert_true(json_node_is_immutable(node));
	root = json_node_get_object(node);
	g_assert_true(json_object_get_member(root, "list") ==
		      json_object_get_member(root, "again"));
	g_clear_pointer(&node, json_node_unref);

	/* a scalar alias keeps the anchored scalar's type */
	node = parse_yaml_ok("a: &x 12\nb: *x\nc: &y '12'\nd: *y\n");
	g_assert_true(aiq_json_is_integer(json_object_get_member(json_node_get_object(node), "b")));
	g_assert_true(aiq_json_is_string(json_object_get_member(json_node_get_object(node), "d")));
	g_clear_pointer(&node, json_node_unref);

	/* an anchor may be defined again; an alias takes the latest */
	node = parse_yaml_ok("- &a 1\n- *a\n- &a 2\n- *a\n");
	expected = parse_json_ok("[1, 1, 2, 2]");
	g_assert_true(nodes_identical(node, expected, 0));
	g_clear_pointer(&node, json_node_unref);

	node = parse_yaml("a: *nope\n", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 1, column 4: the alias “*nope” has no anchor “&nope” before it");
	g_clear_error(&error);

	node = parse_yaml("a: &a\n  b: [1, *a]\n", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 2, column 10: the alias “*a” is inside the node it refers to");
}

static gchar *
billion_laughs(guint levels)
{
	GString *str = g_string_new("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (guint i = 1; i < levels; i++) {
		g_string_append_printf(str, "l%u: &l%u [", i, i);
		for (guint j = 0; j < 9; j++)
			g_string_append_printf(str, "%s*l%u", j > 0 ? ", " : "", i - 1);
		g_string_append(str, "]\n");
	}
	return g_string_free(str, FALSE);
}

static void
test_yaml_billion_laughs(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *small = billion_laughs(3);
	g_autofree gchar *bomb = billion_laughs(10);
	g_autofree gchar *big_string = g_strnfill(512 * 1024, 'x');
	g_autofree gchar *wide = NULL;
	gint64 start;

	/* a few levels are fine, and expand as copies would */
	node = parse_yaml_ok(small);
	{
		JsonArray *l2 = json_object_get_array_member(json_node_get_object(node), "l2");
		JsonArray *l1 = json_array_get_array_element(l2, 8);
		g_assert_cmpuint(json_array_get_length(l2), ==, 9);
		g_assert_cmpuint(json_array_get_length(l1), ==, 9);
		g_assert_cmpstr(
			json_array_get_string_element(json_array_get_array_element(l1, 8), 8),
			==,
			"lol");
	}
	g_clear_pointer(&node, json_node_unref);

	/* 9^10 values: refused as soon as the count passes the limit */
	start = g_get_monotonic_time();
	node = parse_yaml(bomb, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_assert_nonnull(
		strstr(error->message, "aliases expand the document to more than 200000 values"));
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
	g_clear_error(&error);

	/* few values, but a lot of text: half a MiB used 20 times */
	wide = g_strdup_printf("a: &a %s\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a,"
			       " *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
			       big_string);
	node = parse_yaml(wide, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_assert_nonnull(
		strstr(error->message, "aliases expand the document to more than 4 MiB of text"));
}

static gchar *
nested_block(guint levels)
{
	GString *str = g_string_new(NULL);
	for (guint i = 0; i < levels; i++) {
		for (guint j = 0; j < i; j++)
			g_string_append(str, "  ");
		g_string_append(str, "a:\n");
	}
	for (guint j = 0; j < levels; j++)
		g_string_append(str, "  ");
	g_string_append(str, "leaf\n");
	return g_string_free(str, FALSE);
}

static gchar *
nested_flow(guint levels)
{
	GString *str = g_string_new(NULL);
	for (guint i = 0; i < levels; i++)
		g_string_append_c(str, '[');
	for (guint i = 0; i < levels; i++)
		g_string_append_c(str, ']');
	return g_string_free(str, FALSE);
}

static void
test_yaml_depth(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *ok_block = nested_block(AIQ_DOCUMENT_DEFAULT_MAX_DEPTH);
	g_autofree gchar *deep_block = nested_block(100);
	g_autofree gchar *ok_flow = nested_flow(AIQ_DOCUMENT_DEFAULT_MAX_DEPTH);
	g_autofree gchar *deep_flow = nested_flow(10000);
	g_autofree gchar *deep_seq = NULL;
	AiqDocumentLimits limits = *aiq_document_limits_default();

	node = parse_yaml_ok(ok_block);
	g_clear_pointer(&node, json_node_unref);
	node = parse_yaml_ok(ok_flow);
	g_clear_pointer(&node, json_node_unref);

	node = parse_yaml(deep_block, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_TOO_LARGE,
			    "line 65, column 129: nested deeper than 64 levels");
	g_clear_error(&error);

	node = parse_yaml(deep_flow, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_TOO_LARGE,
			    "line 1, column 65: nested deeper than 64 levels");
	g_clear_error(&error);

	/* block sequences of sequences: "- - - - x" */
	{
		GString *str = g_string_new(NULL);
		for (guint i = 0; i < 5000; i++)
			g_string_append(str, "- ");
		g_string_append(str, "x\n");
		deep_seq = g_string_free(str, FALSE);
	}
	node = parse_yaml(deep_seq, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_TOO_LARGE,
			    "line 1, column 129: nested deeper than 64 levels");
	g_clear_error(&error);

	/* aliases cannot build a tree deeper than the limit either */
	limits.max_depth = 4;
	node = aiq_yaml_parse("a: &a [[1]]\nb: [*a]\n", 20, &limits, &error);
	g_assert_no_error(error);
	g_assert_cmpint(json_array_get_length(
				json_object_get_array_member(json_node_get_object(node), "b")),
			==,
			1);
	g_clear_pointer(&node, json_node_unref);
	node = aiq_yaml_parse("a: &a [[1]]\nb: [[*a]]\n", 22, &limits, &error);
	g_assert_null(node);
	assert_error_prefix(
		error,
		AIQ_ERROR_TOO_LARGE,
		"line 2, column 6: the alias “*a” nests the document deeper than 4 levels");
	g_clear_error(&error);
	{
		/* each anchor wraps the one before: a chain of aliases */
		GString *str = g_string_new(NULL);
		g_autofree gchar *chain = NULL;
		g_string_append(str, "a0: &a0 [x]\n");
		for (guint i = 1; i < 200; i++)
			g_string_append_printf(str,
					       "a%u: &a%u [[[[[[[[[[*a%u]]]]]]]]]]\n",
					       i,
					       i,
					       i - 1);
		chain = g_string_free(str, FALSE);
		node = parse_yaml(chain, &error);
		g_assert_null(node);
		assert_error_prefix(error,
				    AIQ_ERROR_TOO_LARGE,
				    "line 8, column 19: the alias “*a6” nests");
		g_clear_error(&error);
	}

	/* a limit of its own */
	limits.max_depth = 2;
	node = aiq_yaml_parse("a: {b: 1}", 9, &limits, &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);
	node = aiq_yaml_parse("a: {b: []}", 10, &limits, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_TOO_LARGE,
			    "line 1, column 8: nested deeper than 2 levels");
}

static void
test_yaml_limits(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	AiqDocumentLimits limits = *aiq_document_limits_default();
	g_autofree gchar *long_value = NULL;
	g_autofree gchar *long_key = NULL;
	g_autofree gchar *padding = g_strnfill(100, '#');

	/* the size is checked before libyaml runs, even on broken text */
	limits.max_size = 64;
	node = aiq_yaml_parse(padding, 100, &limits, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_TOO_LARGE,
			    "the document is 100 bytes, over the 64 bytes limit");
	g_clear_error(&error);

	limits = *aiq_document_limits_default();
	limits.max_scalar = 8;
	node = aiq_yaml_parse("a: 12345678", 11, &limits, &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);
	node = aiq_yaml_parse("a: 123\nb: \"123456789\"", 21, &limits, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_TOO_LARGE,
			    "line 2, column 4: the string is 9 bytes, over the 8 bytes limit");
	g_clear_error(&error);
	node = aiq_yaml_parse("123456789: a", 12, &limits, &error);
	g_assert_null(node);
	assert_error_prefix(error, AIQ_ERROR_TOO_LARGE, "line 1, column 1: the string is 9 bytes");
	g_clear_error(&error);

	limits = *aiq_document_limits_default();
	{
		g_autofree gchar *body = g_strnfill(AIQ_DOCUMENT_DEFAULT_MAX_SCALAR + 1, 'x');
		long_value = g_strdup_printf("v: %s\n", body);
		long_key = g_strdup_printf("? %s\n: 1\n", body);
	}
	node = parse_yaml(long_value, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_TOO_LARGE,
			    "line 1, column 4: the string is 1.1 MiB, over the 1 MiB limit");
	g_clear_error(&error);
	node = parse_yaml(long_key, &error);
	g_assert_null(node);
	assert_error_prefix(error, AIQ_ERROR_TOO_LARGE, "line 1, column 3: the string is 1.1 MiB");
	g_clear_error(&error);

	limits.max_nodes = 5;
	node = aiq_yaml_parse("[1, 2, 3, 4]", 12, &limits, &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);
	node = aiq_yaml_parse("[1, 2, 3, 4, 5]", 15, &limits, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_TOO_LARGE,
			    "line 1, column 14: the document has more than 5 values");
	g_clear_error(&error);
	node = aiq_yaml_parse("a: &a [1, 2]\nb: *a", 18, &limits, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_TOO_LARGE,
			    "line 2, column 4: aliases expand the document to more than 5 values");
}

static void
test_yaml_documents(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	const gchar *empty[] = { "",      "   \n\n",    "# only a comment\n",
				 "---\n", "---\n...\n", "\xef\xbb\xbf" };

	for (guint i = 0; i < G_N_ELEMENTS(empty); i++) {
		node = parse_yaml(empty[i], &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
		g_assert_cmpstr(error->message, ==, "the document is empty");
		g_clear_error(&error);
	}

	node = parse_yaml("a: 1\n---\nb: 2\n", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 2, column 1: a second document starts here; only one is allowed");
	g_clear_error(&error);

	node = parse_yaml("--- 1\n--- 2\n", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 2, column 1: a second document");
	g_clear_error(&error);

	/* explicit markers, directives, a null or scalar root are all fine */
	node = parse_yaml_ok("%YAML 1.2\n---\na: 1\n...\n");
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	g_clear_pointer(&node, json_node_unref);
	node = parse_yaml_ok("~");
	g_assert_true(JSON_NODE_HOLDS_NULL(node));
	g_clear_pointer(&node, json_node_unref);
	node = parse_yaml_ok("--- hello\n");
	g_assert_cmpstr(json_node_get_string(node), ==, "hello");
	g_clear_pointer(&node, json_node_unref);
	node = parse_yaml_ok("\xef\xbb\xbf"
			     "a: 1\n");
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	g_clear_pointer(&node, json_node_unref);

	/* not nul-terminated: only @len bytes are read */
	node = aiq_yaml_parse("a: 1garbage", 4, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(node), "a"), ==, 1);
}

static void
test_yaml_syntax_errors(void)
{
	static const struct {
		const gchar *yaml;
		const gchar *message;
	} cases[] = {
		{ "a: 1\nb: [1, 2\nc: 3\n",
		  "line 3, column 2: did not find expected ',' or ']' while parsing a flow sequence "
		  "(started at line 2, column 4)" },
		{ "a: b: c\n", "line 1, column 5: mapping values are not allowed in this context" },
		{ "a:\n  - x\n - y\n",
		  "line 3, column 2: did not find expected key while parsing a block mapping "
		  "(started at line 1, column 1)" },
		{ "a: \"unterminated\n",
		  "line 2, column 1: found unexpected end of stream while scanning a quoted scalar "
		  "(started at line 1, column 4)" },
		{ "a: 1\n\tb: 2\n",
		  "line 2, column 1: found a tab character that violates indentation while scanning a "
		  "plain scalar (started at line 1, column 4)" },
		{ "a: @x\n",
		  "line 1, column 4: found character that cannot start any token while scanning for the next token" },
		{ "a: &\n",
		  "line 1, column 5: did not find expected alphabetic or numeric character while scanning an anchor (started at line 1, column 4)" },
		{ "key: [a, b]]\n",
		  "line 1, column 12: did not find expected key while parsing a block mapping "
		  "(started at line 1, column 1)" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = parse_yaml(cases[i].yaml, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
		g_assert_cmpstr(error->message, ==, cases[i].message);
	}
}

static void
test_yaml_utf8(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	node = aiq_yaml_parse("a: 1\nbé: x\xff\n", 12, NULL, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
	g_assert_cmpstr(error->message,
			==,
			"line 2, column 6: the document is not valid UTF-8 (byte 0xFF)");
	g_clear_error(&error);

	/* overlong and truncated sequences */
	node = aiq_yaml_parse("a: \xc0\xaf", 5, NULL, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 1, column 4: the document is not valid UTF-8");
	g_clear_error(&error);
	node = aiq_yaml_parse("a: \xe2\x82", 5, NULL, &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 1, column 4: the document is not valid UTF-8");
	g_clear_error(&error);

	node = aiq_yaml_parse("a: x\0y", 6, NULL, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
	g_assert_cmpstr(error->message, ==, "line 1, column 5: the document contains a NUL byte");
	g_clear_error(&error);

	node = aiq_yaml_parse("\xff\xfe"
			      "a\0:\0",
			      6,
			      NULL,
			      &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
	g_assert_cmpstr(error->message, ==, "the document is UTF-16; save it as UTF-8");
	g_clear_error(&error);

	/* valid UTF-8 but not allowed in YAML */
	node = parse_yaml("a: 1\nb: x\x01y\n", &error);
	g_assert_null(node);
	assert_error_prefix(error,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    "line 2, column 5: control characters are not allowed");
	g_clear_error(&error);

	node = parse_yaml_ok("ключ: значение 😀\n");
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "ключ"),
			==,
			"значение 😀");
}

/* emitter */

static const gchar *workflow_json =
	"{\n"
	"  \"name\": \"nightly-report\",\n"
	"  \"description\": \"Builds the nightly report:\\nfetches sales, renders, mails.\\n\",\n"
	"  \"version\": 3,\n"
	"  \"enabled\": true,\n"
	"  \"on\": {\"schedule\": \"0 2 * * *\", \"timezone\": \"Europe/Paris\"},\n"
	"  \"inputs\": {\n"
	"    \"threshold\": {\"type\": \"number\", \"default\": 0.75},\n"
	"    \"factor\": {\"type\": \"number\", \"default\": 2.0},\n"
	"    \"recipients\": {\"type\": \"array\", \"default\": []}\n"
	"  },\n"
	"  \"steps\": [\n"
	"    {\"id\": \"fetch\", \"kind\": \"http\",\n"
	"     \"with\": {\"url\": \"https://api.example.com/sales?day=${{ inputs.day }}\",\n"
	"              \"method\": \"GET\", \"headers\": {}},\n"
	"     \"retry\": {\"attempts\": 3, \"backoff\": \"10s\"}},\n"
	"    {\"id\": \"render\", \"kind\": \"shell\", \"needs\": [\"fetch\"],\n"
	"     \"run\": \"python3 render.py \\\\\\n  --input sales.json\\n\",\n"
	"     \"env\": {\"MODE\": \"yes\", \"EMPTY\": \"\", \"NULLISH\": \"null\", \"PORT\": \"8080\"}},\n"
	"    {\"id\": \"mail\", \"kind\": \"email\", \"needs\": [\"render\"],\n"
	"     \"when\": \"steps.render.exit_code == 0\",\n"
	"     \"with\": {\"to\": \"ops@example.com\", \"subject\": \"Report: ${{ date }}\",\n"
	"              \"body\": \"# Nightly\\n\\nDone.\"}}\n"
	"  ],\n"
	"  \"timeout\": null\n"
	"}\n";

static const gchar *workflow_yaml = "name: nightly-report\n"
				    "description: |\n"
				    "  Builds the nightly report:\n"
				    "  fetches sales, renders, mails.\n"
				    "version: 3\n"
				    "enabled: true\n"
				    "\"on\":\n"
				    "  schedule: 0 2 * * *\n"
				    "  timezone: Europe/Paris\n"
				    "inputs:\n"
				    "  threshold:\n"
				    "    type: number\n"
				    "    default: 0.75\n"
				    "  factor:\n"
				    "    type: number\n"
				    "    default: 2.0\n"
				    "  recipients:\n"
				    "    type: array\n"
				    "    default: []\n"
				    "steps:\n"
				    "- id: fetch\n"
				    "  kind: http\n"
				    "  with:\n"
				    "    url: https://api.example.com/sales?day=${{ inputs.day }}\n"
				    "    method: GET\n"
				    "    headers: {}\n"
				    "  retry:\n"
				    "    attempts: 3\n"
				    "    backoff: 10s\n"
				    "- id: render\n"
				    "  kind: shell\n"
				    "  needs:\n"
				    "  - fetch\n"
				    "  run: |\n"
				    "    python3 render.py \\\n"
				    "      --input sales.json\n"
				    "  env:\n"
				    "    MODE: \"yes\"\n"
				    "    EMPTY: \"\"\n"
				    "    NULLISH: \"null\"\n"
				    "    PORT: \"8080\"\n"
				    "- id: mail\n"
				    "  kind: email\n"
				    "  needs:\n"
				    "  - render\n"
				    "  when: steps.render.exit_code == 0\n"
				    "  with:\n"
				    "    to: ops@example.com\n"
				    "    subject: \"Report: ${{ date }}\"\n"
				    "    body: |-\n"
				    "      # Nightly\n"
				    "\n"
				    "      Done.\n"
				    "timeout: null\n";

static void
test_yaml_emit_workflow(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = parse_json_ok(workflow_json);
	g_autofree gchar *yaml = aiq_yaml_emit(node, &error);
	g_autoptr(JsonNode) back = NULL;

	g_assert_no_error(error);
	g_assert_cmpstr(yaml, ==, workflow_yaml);
	back = parse_yaml_ok(yaml);
	g_assert_true(nodes_identical(node, back, 0));
}

static void
test_yaml_emit_quoting(void)
{
	static const struct {
		const gchar *value;
		const gchar *yaml;
	} cases[] = {
		{ "hello", "v: hello\n" },
		{ "hello world", "v: hello world\n" },
		{ "héllo", "v: héllo\n" },
		{ "a#b", "v: a#b\n" },
		{ "a:b", "v: a:b\n" },
		{ "x-y", "v: x-y\n" },
		{ "$HOME/bin", "v: $HOME/bin\n" },
		{ "yes", "v: \"yes\"\n" },
		{ "No", "v: \"No\"\n" },
		{ "on", "v: \"on\"\n" },
		{ "y", "v: \"y\"\n" },
		{ "true", "v: \"true\"\n" },
		{ "null", "v: \"null\"\n" },
		{ "~", "v: \"~\"\n" },
		{ "", "v: \"\"\n" },
		{ "123", "v: \"123\"\n" },
		{ "1.5", "v: \"1.5\"\n" },
		{ "1.2.3", "v: \"1.2.3\"\n" },
		{ "2024-01-31", "v: \"2024-01-31\"\n" },
		{ "2024-01-31T10:00:00Z", "v: \"2024-01-31T10:00:00Z\"\n" },
		{ "12:30", "v: \"12:30\"\n" },
		{ "1_000", "v: \"1_000\"\n" },
		{ "0777", "v: \"0777\"\n" },
		{ "0b101", "v: \"0b101\"\n" },
		{ "-1.5e3", "v: \"-1.5e3\"\n" },
		{ "10s", "v: 10s\n" },
		{ "1h30m", "v: 1h30m\n" },
		{ "0 2 * * *", "v: 0 2 * * *\n" },
		{ "3 days", "v: 3 days\n" },
		{ "0x1F", "v: \"0x1F\"\n" },
		{ ".inf", "v: \".inf\"\n" },
		{ ".5x", "v: \".5x\"\n" },
		{ "+1", "v: \"+1\"\n" },
		{ "-1", "v: \"-1\"\n" },
		{ "-x", "v: \"-x\"\n" },
		{ "- x", "v: \"- x\"\n" },
		{ " lead", "v: \" lead\"\n" },
		{ "trail ", "v: \"trail \"\n" },
		{ "a: b", "v: \"a: b\"\n" },
		{ "ends:", "v: \"ends:\"\n" },
		{ "#x", "v: \"#x\"\n" },
		{ "a #b", "v: \"a #b\"\n" },
		{ "&x", "v: \"&x\"\n" },
		{ "*x", "v: \"*x\"\n" },
		{ "!x", "v: \"!x\"\n" },
		{ "%x", "v: \"%x\"\n" },
		{ "@x", "v: \"@x\"\n" },
		{ "`x", "v: \"`x\"\n" },
		{ "'x'", "v: \"'x'\"\n" },
		{ "\"x\"", "v: \"\\\"x\\\"\"\n" },
		{ "[x]", "v: \"[x]\"\n" },
		{ "{x}", "v: \"{x}\"\n" },
		{ "|x", "v: \"|x\"\n" },
		{ ">x", "v: \">x\"\n" },
		{ "---", "v: \"---\"\n" },
		{ "...x", "v: \"...x\"\n" },
		{ "<<", "v: \"<<\"\n" },
		{ "tab\there", "v: \"tab\\there\"\n" },
		{ "back\\slash", "v: back\\slash\n" },
		{ "a\nb", "v: |-\n  a\n  b\n" },
		{ "a\nb\n", "v: |\n  a\n  b\n" },
		/* libyaml ends the document after a kept final break */
		{ "a\nb\n\n", "v: |+\n  a\n  b\n\n...\n" },
		{ " a\nb\n", "v: |2\n   a\n  b\n" },
		{ "a\r\nb", "v: \"a\\r\\nb\"\n" },
		{ "a \nb", "v: \"a \\nb\"\n" },
		{ "bell\x07", "v: \"bell\\a\"\n" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(JsonNode) value = new_string(cases[i].value);
		g_autofree gchar *yaml = emit_value(json_node_ref(value));
		g_autoptr(JsonNode) back = parse_value(yaml, NULL);
		g_assert_cmpstr(yaml, ==, cases[i].yaml);
		g_assert_nonnull(back);
		g_assert_cmpstr(json_node_get_string(back), ==, cases[i].value);
	}
}

static void
test_yaml_emit_scalars(void)
{
	static const struct {
		const gchar *json;
		const gchar *yaml;
	} cases[] = {
		{ "{\"v\": 1}", "v: 1\n" },
		{ "{\"v\": -42}", "v: -42\n" },
		{ "{\"v\": 9223372036854775807}", "v: 9223372036854775807\n" },
		{ "{\"v\": 1.0}", "v: 1.0\n" },
		{ "{\"v\": 1.5}", "v: 1.5\n" },
		{ "{\"v\": 0.1}", "v: 0.1\n" },
		{ "{\"v\": 1e300}", "v: 1.0e+300\n" },
		{ "{\"v\": 1.5e-7}", "v: 1.5e-07\n" },
		{ "{\"v\": true}", "v: true\n" },
		{ "{\"v\": false}", "v: false\n" },
		{ "{\"v\": null}", "v: null\n" },
		{ "{\"v\": {}}", "v: {}\n" },
		{ "{\"v\": []}", "v: []\n" },
		{ "{\"v\": [[], {}, [[]]]}", "v:\n- []\n- {}\n- - []\n" },
		{ "{}", "{}\n" },
		{ "[]", "[]\n" },
		{ "\"text\"", "text\n" },
		{ "12", "12\n" },
	};
	g_autoptr(JsonNode) minus_zero = new_double(-0.0);
	g_autofree gchar *yaml = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = parse_json_ok(cases[i].json);
		g_autofree gchar *text = aiq_yaml_emit(node, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(text, ==, cases[i].yaml);
	}
	yaml = aiq_yaml_emit(minus_zero, NULL);
	g_assert_cmpstr(yaml, ==, "-0.0\n");
}

static void
test_yaml_emit_errors(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) nan = new_double(NAN);
	g_autoptr(JsonNode) inf = new_double(-INFINITY);
	g_autoptr(JsonNode) bad = new_string("bad \xff utf-8");
	g_autofree gchar *yaml = NULL;

	yaml = aiq_yaml_emit(nan, &error);
	g_assert_null(yaml);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	yaml = aiq_yaml_emit(inf, &error);
	g_assert_null(yaml);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	yaml = aiq_yaml_emit(bad, &error);
	g_assert_null(yaml);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
}

static void
test_yaml_emit_deep(void)
{
	/* the emitter does not recurse: a tree deeper than any parser allows
	 * is still written */
	g_autoptr(JsonNode) root = aiq_json_new_array(json_array_new());
	g_autofree gchar *yaml = NULL;
	JsonArray *cur = json_node_get_array(root);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) back = NULL;
	AiqDocumentLimits limits = *aiq_document_limits_default();

	for (guint i = 0; i < 2000; i++) {
		JsonArray *next = json_array_new();
		json_array_add_element(cur, aiq_json_new_array(json_array_ref(next)));
		cur = next;
		json_array_unref(next);
	}
	yaml = aiq_yaml_emit(root, &error);
	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(yaml, "- - - - "));
	limits.max_depth = 3000;
	back = aiq_yaml_parse(yaml, strlen(yaml), &limits, &error);
	g_assert_no_error(error);
	g_assert_true(json_node_equal(root, back));
}

static void
test_yaml_round_trip(void)
{
	static const gchar *strings[] = {
		"yes",
		"no",
		"null",
		"Null",
		"~",
		"true",
		"FALSE",
		"123",
		"-0",
		"0x1F",
		"0o7",
		"1.5",
		"1e3",
		".inf",
		"-.inf",
		".nan",
		"",
		" ",
		" lead",
		"trail ",
		"a: b",
		"a:",
		"#x",
		"a #x",
		"- x",
		"-",
		"?",
		"? x",
		":",
		"x:y",
		"[a, b]",
		"{a: b}",
		"&a",
		"*a",
		"!tag",
		"%x",
		"@x",
		"`x",
		"'",
		"\"",
		"\\",
		"|",
		">",
		"---",
		"...",
		"--- x",
		"<<",
		"=",
		"\t",
		"\ttab",
		"tab\t",
		"a\nb",
		"a\nb\n",
		"a\nb\n\n",
		"\n",
		"\n\n",
		"\nx",
		" a\nb",
		"a\n b",
		"a\n\n\nb",
		"a \nb",
		"a\n ",
		"a\r\nb",
		"a\rb",
		"\x01\x02",
		"x\x7f",
		"é",
		"日本語",
		"😀",
		"a😀b",
		"\xc2\x85",
		"\xe2\x80\xa8",
		"\357\273\277bom", /* a byte order mark inside */
		"$x ${{ y }}",
		"C:\\path",
		"1:30",
		"2024-01-31",
		"12:30:00",
		"0b1010",
		"1_000",
		"+.5",
		".5",
		"+1",
		"1.0",
		"1.",
		"-",
		"- ",
		"a\t#b",
		"key: value\nother: x\n",
		"# comment\n",
		"  indented\n  block\n",
	};
	static const gdouble doubles[] = {
		1.0,
		-0.0,
		0.0,
		1.5,
		-1.5,
		1e300,
		-1e-300,
		0.1,
		1.0 / 3,
		5e-324,
		DBL_MAX,
		-DBL_MAX,
		DBL_MIN,
		123456789012345678.0,
		9007199254740993.0,
		1e21,
		1e-7,
		100.0,
	};
	static const gint64 ints[] = { 0, 1, -1, 42, G_MAXINT64, G_MININT64, 1000000 };
	g_autoptr(JsonArray) array = json_array_new();
	g_autoptr(JsonObject) keys = json_object_new();
	g_autoptr(JsonNode) all = NULL;
	g_autoptr(JsonNode) nested =
		parse_json_ok("{\"a\": {}, \"b\": [], \"c\": [{}], \"d\": [[]],"
			      " \"e\": {\"f\": {\"g\": {}}}, \"h\": [[[], {}], {}]}");

	for (guint i = 0; i < G_N_ELEMENTS(strings); i++) {
		g_autoptr(JsonNode) node = new_string(strings[i]);
		g_autofree gchar *long_key = g_strnfill(200, 'k');
		assert_round_trip(node);
		json_array_add_element(array, json_node_ref(node));
		json_object_set_member(keys, strings[i], json_node_ref(node));
		json_object_set_member(keys, long_key, new_string(strings[i]));
	}
	for (guint i = 0; i < G_N_ELEMENTS(doubles); i++) {
		g_autoptr(JsonNode) node = new_double(doubles[i]);
		assert_round_trip(node);
		json_array_add_element(array, json_node_ref(node));
	}
	for (guint i = 0; i < G_N_ELEMENTS(ints); i++) {
		g_autoptr(JsonNode) node = aiq_json_new_int(ints[i]);
		assert_round_trip(node);
		json_array_add_element(array, json_node_ref(node));
	}
	json_array_add_element(array, aiq_json_new_bool(TRUE));
	json_array_add_element(array, json_node_new(JSON_NODE_NULL));
	json_array_add_element(array, json_node_ref(nested));
	assert_round_trip(nested);

	all = aiq_json_new_array(json_array_ref(array));
	assert_round_trip(all);
	g_clear_pointer(&all, json_node_unref);
	all = aiq_json_new_object(json_object_ref(keys));
	assert_round_trip(all);
}

/* random trees from tricky pieces */
static JsonNode *
random_tree(guint depth)
{
	static const gchar *pieces[] = {
		"yes",      "null",
		"~",        "-",
		"? ",       ": ",
		":",        "#",
		" #",       " ",
		"\n",       "\t",
		"\r",       "'",
		"\"",       "\\",
		"é",        "😀",
		"0",        "1.5",
		"e",        "x",
		"---",      "...",
		"|",        ">",
		"&",        "*",
		"!",        "%",
		"@",        "`",
		"{",        "}",
		"[",        "]",
		",",        "\xe2\x80\xa8",
		"\xc2\x85", "true",
		".inf",     "0x",
		"\x01",     "abc",
	};
	gint kind = g_test_rand_int_range(0, depth < 4 ? 8 : 6);

	switch (kind) {
	case 0: {
		GString *str = g_string_new(NULL);
		gint n = g_test_rand_int_range(0, 6);
		for (gint i = 0; i < n; i++)
			g_string_append(str,
					pieces[g_test_rand_int_range(0, G_N_ELEMENTS(pieces))]);
		{
			JsonNode *node = new_string(str->str);
			g_string_free(str, TRUE);
			return node;
		}
	}
	case 1:
		if (g_test_rand_bit())
			return aiq_json_new_int(g_test_rand_int_range(-10, 10));
		return aiq_json_new_int((gint64)(((guint64)(guint32)g_test_rand_int() << 32) |
						 (guint32)g_test_rand_int()));
	case 2: {
		gdouble d = g_test_rand_double_range(-1e6, 1e6) *
			    pow(10, g_test_rand_int_range(-300, 300));
		return new_double(isfinite(d) ? d : 0.5);
	}
	case 3:
		return aiq_json_new_bool(g_test_rand_bit());
	case 4:
		return json_node_new(JSON_NODE_NULL);
	case 5:
		return new_string(pieces[g_test_rand_int_range(0, G_N_ELEMENTS(pieces))]);
	case 6: {
		JsonArray *array = json_array_new();
		gint n = g_test_rand_int_range(0, 5);
		for (gint i = 0; i < n; i++)
			json_array_add_element(array, random_tree(depth + 1));
		return aiq_json_new_array(array);
	}
	default: {
		JsonObject *object = json_object_new();
		gint n = g_test_rand_int_range(0, 5);
		for (gint i = 0; i < n; i++) {
			g_autoptr(JsonNode) key = random_tree(4);
			const gchar *name =
				aiq_json_is_string(key) ? json_node_get_string(key) : "k";
			json_object_set_member(object, name, random_tree(depth + 1));
		}
		return aiq_json_new_object(object);
	}
	}
}

static void
test_yaml_round_trip_random(void)
{
	guint n = g_test_thorough() ? 20000 : 2000;
	for (guint i = 0; i < n; i++) {
		g_autoptr(JsonNode) node = random_tree(0);
		assert_round_trip(node);
	}
}

/* mutated documents, YAML and JSON, must give a tree or an error, never a crash */
static void
test_yaml_mutations(void)
{
	g_autofree gchar *laughs = billion_laughs(4);
	const gchar *seeds[] = { workflow_yaml,
				 workflow_json,
				 laughs,
				 "a: &a [1, {b: *a}]\n",
				 "- [a, {b: c}]\n- |\n  x\n",
				 "[1, -2.5e3, \"\\u00e9\\n\", {\"a\": [true, null]}]" };
	guint n = g_test_thorough() ? 50000 : 5000;
	guint parsed = 0;

	for (guint i = 0; i < n; i++) {
		const gchar *seed = seeds[g_test_rand_int_range(0, G_N_ELEMENTS(seeds))];
		g_autofree gchar *doc = g_strdup(seed);
		gsize len = strlen(doc);
		gint edits = g_test_rand_int_range(1, 8);
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = NULL;

		for (gint e = 0; e < edits && len > 0; e++) {
			static const gchar bytes[] = "-:?[]{},#&*!|>'\"%@` \t\n\r\\x0.~";
			gsize pos = (gsize)g_test_rand_int_range(0, (gint)len);
			if (g_test_rand_bit())
				doc[pos] = bytes[g_test_rand_int_range(0, sizeof(bytes) - 1)];
			else if (g_test_rand_bit())
				doc[pos] = (gchar)g_test_rand_int_range(1, 256);
			else
				len = pos; /* truncate */
		}
		node = aiq_document_parse(doc, len, AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
		g_assert_true((node == NULL) != (error == NULL));
		if (node != NULL) {
			/* whatever was read must round-trip, unless it holds text
			 * the emitter refuses */
			g_autoptr(GError) error_emit = NULL;
			g_autofree gchar *yaml = aiq_yaml_emit(node, &error_emit);
			parsed++;
			if (yaml != NULL)
				assert_round_trip(node);
		} else {
			g_assert_true(error->domain == AIQ_ERROR);
			g_assert_true(error->code == AIQ_ERROR_INVALID_DOCUMENT ||
				      error->code == AIQ_ERROR_TOO_LARGE);
			g_assert_true(g_utf8_validate(error->message, -1, NULL));
		}
	}
	g_test_message("%u of %u mutated documents parsed", parsed, n);
	g_assert_cmpuint(parsed, >, 0);
}

/* documents */

static void
test_document_limits_default(void)
{
	const AiqDocumentLimits *limits = aiq_document_limits_default();
	g_assert_true(limits == aiq_document_limits_default());
	g_assert_cmpuint(limits->max_size, ==, 4 * 1024 * 1024);
	g_assert_cmpuint(limits->max_depth, ==, 64);
	g_assert_cmpuint(limits->max_nodes, ==, 200000);
	g_assert_cmpuint(limits->max_scalar, ==, 1024 * 1024);
}

static void
test_document_format(void)
{
	g_assert_cmpint(aiq_document_format_from_filename("x.json"), ==, AIQ_DOCUMENT_FORMAT_JSON);
	g_assert_cmpint(aiq_document_format_from_filename("dir/X.JSON"),
			==,
			AIQ_DOCUMENT_FORMAT_JSON);
	g_assert_cmpint(aiq_document_format_from_filename("x.yaml"), ==, AIQ_DOCUMENT_FORMAT_YAML);
	g_assert_cmpint(aiq_document_format_from_filename("a.b/x.yml"),
			==,
			AIQ_DOCUMENT_FORMAT_YAML);
	g_assert_cmpint(aiq_document_format_from_filename("x.txt"), ==, AIQ_DOCUMENT_FORMAT_AUTO);
	g_assert_cmpint(aiq_document_format_from_filename("yaml"), ==, AIQ_DOCUMENT_FORMAT_AUTO);
	g_assert_cmpint(aiq_document_format_from_filename("x.json.bak"),
			==,
			AIQ_DOCUMENT_FORMAT_AUTO);

	g_assert_cmpint(aiq_document_format_guess("{\"a\": 1}", 8), ==, AIQ_DOCUMENT_FORMAT_JSON);
	g_assert_cmpint(aiq_document_format_guess(" \r\n\t[1]", 7), ==, AIQ_DOCUMENT_FORMAT_JSON);
	g_assert_cmpint(aiq_document_format_guess("\xef\xbb\xbf{}", 5),
			==,
			AIQ_DOCUMENT_FORMAT_JSON);
	g_assert_cmpint(aiq_document_format_guess("a: 1", 4), ==, AIQ_DOCUMENT_FORMAT_YAML);
	g_assert_cmpint(aiq_document_format_guess("# {x}\n{}", 8), ==, AIQ_DOCUMENT_FORMAT_YAML);
	g_assert_cmpint(aiq_document_format_guess("", 0), ==, AIQ_DOCUMENT_FORMAT_YAML);
	g_assert_cmpint(aiq_document_format_guess(NULL, 0), ==, AIQ_DOCUMENT_FORMAT_YAML);
	g_assert_cmpint(aiq_document_format_guess("  {", 2), ==, AIQ_DOCUMENT_FORMAT_YAML);
}

static void
test_document_json_yaml_equal(void)
{
	const gchar *json = "{\"name\": \"x\", \"n\": 3, \"f\": 2.5, \"whole\": 2.0, \"ok\": true,"
			    " \"none\": null, \"s\": \"yes\", \"list\": [1, \"two\", [], {}],"
			    " \"text\": \"line 1\\nline 2\\n\", \"u\": \"é😀\"}";
	const gchar *yaml = "name: x\n"
			    "n: 3\n"
			    "f: 2.5\n"
			    "whole: 2.0\n"
			    "ok: true\n"
			    "none: ~\n"
			    "s: yes\n"
			    "list: [1, two, [], {}]\n"
			    "text: |\n"
			    "  line 1\n"
			    "  line 2\n"
			    "u: é😀\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) a = NULL;
	g_autoptr(JsonNode) b = NULL;
	g_autoptr(JsonNode) c = NULL;
	g_autofree gchar *emitted = NULL;

	a = aiq_document_parse(json, strlen(json), AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_no_error(error);
	b = aiq_document_parse(yaml, strlen(yaml), AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(json_node_equal(a, b));
	g_assert_true(nodes_identical(a, b, 0));
	/* both kinds of tree are immutable */
	g_assert_true(json_node_is_immutable(a));
	g_assert_true(json_node_is_immutable(b));

	/* JSON is YAML too */
	c = aiq_document_parse(json, strlen(json), AIQ_DOCUMENT_FORMAT_YAML, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(nodes_identical(a, c, 0));
	g_clear_pointer(&c, json_node_unref);

	emitted = aiq_yaml_emit(a, &error);
	g_assert_no_error(error);
	c = aiq_document_parse(emitted, strlen(emitted), AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(nodes_identical(a, c, 0));
}

static void
test_document_json_limits(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *deep = nested_flow(10000);
	g_autofree gchar *ok = nested_flow(64);
	g_autofree gchar *long_string = NULL;
	AiqDocumentLimits limits = *aiq_document_limits_default();

	node = aiq_document_parse(deep, strlen(deep), AIQ_DOCUMENT_FORMAT_JSON, NULL, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_assert_nonnull(strstr(error->message, "nested deeper than 64 levels"));
	g_clear_error(&error);
	node = aiq_document_parse(ok, strlen(ok), AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);

	limits.max_nodes = 4;
	node = aiq_document_parse("[1, 2, 3]", 9, AIQ_DOCUMENT_FORMAT_JSON, &limits, &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);
	node = aiq_document_parse("[1, [2], 3]", 11, AIQ_DOCUMENT_FORMAT_JSON, &limits, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_assert_cmpstr(error->message, ==, "the document has more than 4 values");
	g_clear_error(&error);
	node = aiq_document_parse("{\"a\": {\"b\": {\"c\": {\"d\": 1}}}}",
				  29,
				  AIQ_DOCUMENT_FORMAT_JSON,
				  &limits,
				  &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_clear_error(&error);

	limits = *aiq_document_limits_default();
	limits.max_scalar = 4;
	node = aiq_document_parse("{\"abcd\": \"wxyz\"}",
				  16,
				  AIQ_DOCUMENT_FORMAT_JSON,
				  &limits,
				  &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);
	node = aiq_document_parse("[\"abcde\"]", 9, AIQ_DOCUMENT_FORMAT_JSON, &limits, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_assert_cmpstr(error->message, ==, "a string is 5 bytes, over the 4 bytes limit");
	g_clear_error(&error);
	node = aiq_document_parse("{\"abcde\": 1}", 12, AIQ_DOCUMENT_FORMAT_JSON, &limits, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_clear_error(&error);

	/* default max_scalar on a real document */
	{
		g_autofree gchar *body = g_strnfill(AIQ_DOCUMENT_DEFAULT_MAX_SCALAR + 1, 'x');
		long_string = g_strdup_printf("{\"v\": \"%s\"}", body);
	}
	node = aiq_document_parse(long_string,
				  strlen(long_string),
				  AIQ_DOCUMENT_FORMAT_AUTO,
				  NULL,
				  &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	g_assert_cmpstr(error->message, ==, "a string is 1.1 MiB, over the 1 MiB limit");
	g_clear_error(&error);

	/* json-glib would cut the string at the NUL */
	node = aiq_document_parse("{\"a\": \"x\\u0000y\"}",
				  17,
				  AIQ_DOCUMENT_FORMAT_JSON,
				  NULL,
				  &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
	g_assert_cmpstr(error->message, ==, "line 1, column 9: a string contains a NUL character");
	g_clear_error(&error);
	node = aiq_document_parse("{\"a\": \"x\\\\u0000y\"}",
				  18,
				  AIQ_DOCUMENT_FORMAT_JSON,
				  NULL,
				  &error);
	g_assert_no_error(error);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "a"),
			==,
			"x\\u0000y");
	g_clear_pointer(&node, json_node_unref);

	/* json-glib would wrap the integer around and make 1e400 infinite */
	node = aiq_document_parse("[1,\n 12345678901234567890]",
				  26,
				  AIQ_DOCUMENT_FORMAT_JSON,
				  NULL,
				  &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
	g_assert_true(g_str_has_prefix(
		error->message,
		"line 2, column 2: the integer 12345678901234567890 is too large"));
	g_clear_error(&error);
	node = aiq_document_parse("{\"a\": -1e400}", 13, AIQ_DOCUMENT_FORMAT_JSON, NULL, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
	g_assert_cmpstr(error->message,
			==,
			"line 1, column 7: “-1e400” is not a number JSON can hold");
	g_clear_error(&error);
	node = aiq_document_parse(
		"[9223372036854775807, -9223372036854775808, 1e300, \"1e400\", 123456789012345678901234.5]",
		87,
		AIQ_DOCUMENT_FORMAT_JSON,
		NULL,
		&error);
	g_assert_no_error(error);
	g_assert_cmpint(json_array_get_int_element(json_node_get_array(node), 0), ==, G_MAXINT64);
	g_assert_cmpint(json_array_get_int_element(json_node_get_array(node), 1), ==, G_MININT64);
	g_assert_cmpstr(json_array_get_string_element(json_node_get_array(node), 3), ==, "1e400");
	g_clear_pointer(&node, json_node_unref);

	node = aiq_document_parse("{\"a\": 1,\n \"b\": x}",
				  17,
				  AIQ_DOCUMENT_FORMAT_JSON,
				  NULL,
				  &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
	g_assert_true(g_str_has_prefix(error->message, "line 2, column 7: "));
	g_clear_error(&error);

	node = aiq_document_parse("{\"a\": \"\xff\"}", 10, AIQ_DOCUMENT_FORMAT_JSON, NULL, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
	g_assert_cmpstr(error->message,
			==,
			"line 1, column 8: the document is not valid UTF-8 (byte 0xFF)");
	g_clear_error(&error);

	node = aiq_document_parse("\xef\xbb\xbf{\"a\": 1}",
				  11,
				  AIQ_DOCUMENT_FORMAT_AUTO,
				  NULL,
				  &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	g_clear_pointer(&node, json_node_unref);

	node = aiq_document_parse(NULL, 0, AIQ_DOCUMENT_FORMAT_JSON, NULL, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
}

static void
test_document_size(void)
{
	gsize len = 5452595; /* 5.2 MiB */
	g_autofree gchar *big = g_malloc(len);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	const AiqDocumentFormat formats[] = {
		AIQ_DOCUMENT_FORMAT_AUTO,
		AIQ_DOCUMENT_FORMAT_JSON,
		AIQ_DOCUMENT_FORMAT_YAML,
	};

	/* not even valid text: the size is all that is looked at */
	memset(big, 0xff, len);
	for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
		node = aiq_document_parse(big, len, formats[i], NULL, &error);
		g_assert_null(node);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
		g_assert_cmpstr(error->message,
				==,
				"the document is 5.2 MiB, over the 4 MiB limit");
		g_clear_error(&error);
	}

	{
		g_autofree gchar *s1 = aiq_document_size_to_string(0);
		g_autofree gchar *s2 = aiq_document_size_to_string(1);
		g_autofree gchar *s3 = aiq_document_size_to_string(1024);
		g_autofree gchar *s4 = aiq_document_size_to_string(4 * 1024 * 1024 + 1);
		g_autofree gchar *s5 = aiq_document_size_to_string(G_GUINT64_CONSTANT(10) << 30);
		g_assert_cmpstr(s1, ==, "0 bytes");
		g_assert_cmpstr(s2, ==, "1 byte");
		g_assert_cmpstr(s3, ==, "1 KiB");
		g_assert_cmpstr(s4, ==, "4.1 MiB");
		g_assert_cmpstr(s5, ==, "10 GiB");
	}
}

static gchar *
write_file(const gchar *dir, const gchar *name, const gchar *contents)
{
	g_autoptr(GError) error = NULL;
	gchar *path = g_build_filename(dir, name, NULL);
	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
	return path;
}

static void
test_document_load_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *tmp = g_dir_make_tmp("aiq-test-yaml-XXXXXX", &error);
	g_autofree gchar *good_yaml = NULL;
	g_autofree gchar *good_json = NULL;
	g_autofree gchar *json_as_txt = NULL;
	g_autofree gchar *bad_yaml = NULL;
	g_autofree gchar *bad_json = NULL;
	g_autofree gchar *yaml_named_json = NULL;
	g_autofree gchar *huge = NULL;
	g_autofree gchar *missing = NULL;
	g_autofree gchar *prefix = NULL;
	gint64 start;
	gint fd;

	g_assert_no_error(error);
	good_yaml = write_file(tmp, "good.yaml", "name: x\nsteps: []\n");
	good_json = write_file(tmp, "good.json", "{\"name\": \"x\", \"steps\": []}");
	json_as_txt = write_file(tmp, "good.txt", "  {\"name\": \"x\", \"steps\": []}");
	bad_yaml = write_file(tmp, "x.yaml", "name: x\nsteps:\n- a\n  b: c\n");
	bad_json = write_file(tmp, "x.json", "{\"name\": \"x\",\n\n  \"steps\" []}");
	yaml_named_json = write_file(tmp, "yaml.json", "name: x\n");

	node = aiq_document_load_file(good_yaml, AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_no_error(error);
	{
		g_autoptr(JsonNode) json =
			aiq_document_load_file(good_json, AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
		g_autoptr(JsonNode) txt =
			aiq_document_load_file(json_as_txt, AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(nodes_identical(node, json, 0));
		g_assert_true(nodes_identical(node, txt, 0));
	}
	g_clear_pointer(&node, json_node_unref);

	node = aiq_document_load_file(bad_yaml, AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_null(node);
	prefix = g_strdup_printf("%s: line 4, column 4: mapping values are not allowed", bad_yaml);
	assert_error_prefix(error, AIQ_ERROR_INVALID_DOCUMENT, prefix);
	g_clear_pointer(&prefix, g_free);
	g_clear_error(&error);

	node = aiq_document_load_file(bad_json, AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_null(node);
	prefix = g_strdup_printf("%s: line 3, column 9: ", bad_json);
	assert_error_prefix(error, AIQ_ERROR_INVALID_DOCUMENT, prefix);
	g_clear_pointer(&prefix, g_free);
	g_clear_error(&error);

	/* the extension wins over the content when the format is AUTO... */
	node = aiq_document_load_file(yaml_named_json, AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_null(node);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DOCUMENT);
	g_clear_error(&error);
	/* ...and an explicit format over the extension */
	node = aiq_document_load_file(yaml_named_json, AIQ_DOCUMENT_FORMAT_YAML, NULL, &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);

	missing = g_build_filename(tmp, "missing.yaml", NULL);
	node = aiq_document_load_file(missing, AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_null(node);
	prefix = g_strdup_printf("%s: cannot open the file: ", missing);
	assert_error_prefix(error, AIQ_ERROR_NOT_FOUND, prefix);
	g_clear_pointer(&prefix, g_free);
	g_clear_error(&error);

	node = aiq_document_load_file(tmp, AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_null(node);
	prefix = g_strdup_printf("%s: this is a directory", tmp);
	assert_error_prefix(error, AIQ_ERROR_INVALID_ARGUMENT, prefix);
	g_clear_pointer(&prefix, g_free);
	g_clear_error(&error);

	/* a sparse 10 GiB file is refused by its size, without reading it */
	huge = g_build_filename(tmp, "huge.yaml", NULL);
	fd = g_open(huge, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)10 << 30), ==, 0);
	g_close(fd, NULL);
	start = g_get_monotonic_time();
	node = aiq_document_load_file(huge, AIQ_DOCUMENT_FORMAT_AUTO, NULL, &error);
	g_assert_null(node);
	prefix = g_strdup_printf("%s: the document is 10 GiB, over the 4 MiB limit", huge);
	assert_error_prefix(error, AIQ_ERROR_TOO_LARGE, prefix);
	g_assert_cmpstr(error->message, ==, prefix);
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
	g_clear_pointer(&prefix, g_free);
	g_clear_error(&error);

	/* a file without a size is read up to the limit only */
	if (g_file_test("/dev/zero", G_FILE_TEST_EXISTS)) {
		AiqDocumentLimits limits = *aiq_document_limits_default();
		limits.max_size = 100000;
		node = aiq_document_load_file("/dev/zero",
					      AIQ_DOCUMENT_FORMAT_YAML,
					      &limits,
					      &error);
		g_assert_null(node);
		assert_error_prefix(error,
				    AIQ_ERROR_TOO_LARGE,
				    "/dev/zero: the document is over the 97.7 KiB limit");
		g_clear_error(&error);
	}

	g_assert_cmpint(g_unlink(huge), ==, 0);
	g_assert_cmpint(g_unlink(good_yaml), ==, 0);
	g_assert_cmpint(g_unlink(good_json), ==, 0);
	g_assert_cmpint(g_unlink(json_as_txt), ==, 0);
	g_assert_cmpint(g_unlink(bad_yaml), ==, 0);
	g_assert_cmpint(g_unlink(bad_json), ==, 0);
	g_assert_cmpint(g_unlink(yaml_named_json), ==, 0);
	g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

int
main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/aiq/yaml/scalar-typing", test_yaml_scalar_typing);
	g_test_add_func("/aiq/yaml/quoted", test_yaml_quoted);
	g_test_add_func("/aiq/yaml/block-scalars", test_yaml_block_scalars);
	g_test_add_func("/aiq/yaml/tags", test_yaml_tags);
	g_test_add_func("/aiq/yaml/keys", test_yaml_keys);
	g_test_add_func("/aiq/yaml/duplicate-keys", test_yaml_duplicate_keys);
	g_test_add_func("/aiq/yaml/anchors", test_yaml_anchors);
	g_test_add_func("/aiq/yaml/billion-laughs", test_yaml_billion_laughs);
	g_test_add_func("/aiq/yaml/depth", test_yaml_depth);
	g_test_add_func("/aiq/yaml/limits", test_yaml_limits);
	g_test_add_func("/aiq/yaml/documents", test_yaml_documents);
	g_test_add_func("/aiq/yaml/syntax-errors", test_yaml_syntax_errors);
	g_test_add_func("/aiq/yaml/utf8", test_yaml_utf8);
	g_test_add_func("/aiq/yaml/emit-workflow", test_yaml_emit_workflow);
	g_test_add_func("/aiq/yaml/emit-quoting", test_yaml_emit_quoting);
	g_test_add_func("/aiq/yaml/emit-scalars", test_yaml_emit_scalars);
	g_test_add_func("/aiq/yaml/emit-errors", test_yaml_emit_errors);
	g_test_add_func("/aiq/yaml/emit-deep", test_yaml_emit_deep);
	g_test_add_func("/aiq/yaml/round-trip", test_yaml_round_trip);
	g_test_add_func("/aiq/yaml/round-trip-random", test_yaml_round_trip_random);
	g_test_add_func("/aiq/yaml/mutations", test_yaml_mutations);
	g_test_add_func("/aiq/document/limits-default", test_document_limits_default);
	g_test_add_func("/aiq/document/format", test_document_format);
	g_test_add_func("/aiq/document/json-yaml-equal", test_document_json_yaml_equal);
	g_test_add_func("/aiq/document/json-limits", test_document_json_limits);
	g_test_add_func("/aiq/document/size", test_document_size);
	g_test_add_func("/aiq/document/load-file", test_document_load_file);

	return g_test_run();
}
