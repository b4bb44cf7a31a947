/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * docs/openapi.yaml against the server's route table, both ways: every
 * route is documented, every documented operation is served, with the same
 * least role; and the document holds together (references resolve, path
 * parameters are declared, errors have the shared shape, examples of request
 * bodies fit their schemas).
 */

#include "config.h"

#include <string.h>

#include "aiq-document.h"
#include "aiq-json.h"
#include "aiq-retention.h"
#include "aiq-test-server.h"
#include "aiq-util.h"

static const gchar *const openapi_methods[] = { "get",  "put",   "post",  "delete", "options",
						"head", "patch", "trace", NULL };

typedef struct {
	AiqTestServer *ts;
	JsonNode *doc;
	GPtrArray *routes; /* of AiqRoute, owned by the server */
	GString *problems;
} Fixture;

static void
fixture_set_up(Fixture *fx, gconstpointer user_data)
{
	fx->ts = aiq_test_server_new(NULL);
	fx->doc = aiq_test_load_openapi();
	fx->routes = aiq_server_list_routes(fx->ts->server);
	fx->problems = g_string_new(NULL);
}

/* a server whose clock the test moves, with tokens that outlast it */
static void
fixture_set_up_clock(Fixture *fx, gconstpointer user_data)
{
	AiqTestServerOptions options = { .fake_clock = TRUE, .lasting = TRUE };
	fx->ts = aiq_test_server_new(&options);
	fx->doc = aiq_test_load_openapi();
	fx->routes = aiq_server_list_routes(fx->ts->server);
	fx->problems = g_string_new(NULL);
}

static void
fixture_tear_down(Fixture *fx, gconstpointer user_data)
{
	g_ptr_array_unref(fx->routes);
	json_node_unref(fx->doc);
	g_string_free(fx->problems, TRUE);
	aiq_test_server_free(fx->ts);
}

static void
problem(Fixture *fx, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
problem(Fixture *fx, const gchar *format, ...)
{
	va_list args;
	va_start(args, format);
	g_string_append(fx->problems, "\n  ");
	g_string_append_vprintf(fx->problems, format, args);
	va_end(args);
}

/* every problem at once, so one run shows everything out of sync */
static void
fixture_check(Fixture *fx)
{
	if (fx->problems->len > 0)
		g_test_fail_printf("docs/openapi.yaml and the server disagree:%s",
				   fx->problems->str);
}

/* the role as x-aiq-role spells it */
static const gchar *
role_name(AiqRole role)
{
	return role == AIQ_ROLE_NONE ? "public" : aiq_role_to_string(role);
}

static JsonObject *
doc_object(Fixture *fx)
{
	return json_node_get_object(fx->doc);
}

/* a local JSON pointer such as `#/components/schemas/Error` */
static JsonNode *
resolve_pointer(Fixture *fx, const gchar *ref)
{
	g_auto(GStrv) parts = NULL;
	JsonNode *node = fx->doc;

	if (!g_str_has_prefix(ref, "#/"))
		return NULL;
	parts = g_strsplit(ref + 2, "/", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		g_autoptr(GString) key = g_string_new(parts[i]);
		g_string_replace(key, "~1", "/", 0);
		g_string_replace(key, "~0", "~", 0);
		if (!JSON_NODE_HOLDS_OBJECT(node))
			return NULL;
		node = json_object_get_member(json_node_get_object(node), key->str);
		if (node == NULL)
			return NULL;
	}
	return node;
}

/* @node, or what its `$ref` points at (refs of refs followed) */
static JsonNode *
resolve(Fixture *fx, JsonNode *node)
{
	for (guint i = 0; i < 16 && node != NULL && JSON_NODE_HOLDS_OBJECT(node); i++) {
		const gchar *ref = aiq_json_object_get_string(json_node_get_object(node), "$ref");
		if (ref == NULL)
			return node;
		node = resolve_pointer(fx, ref);
	}
	return node;
}

static JsonObject *
resolve_object(Fixture *fx, JsonNode *node)
{
	node = resolve(fx, node);
	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static JsonObject *
doc_paths(Fixture *fx)
{
	JsonObject *paths = aiq_json_object_get_object(doc_object(fx), "paths");
	g_assert_nonnull(paths);
	return paths;
}

/* the operation of METHOD PATH in the document, or %NULL */
static JsonObject *
doc_operation(Fixture *fx, const gchar *method, const gchar *path)
{
	JsonObject *item = aiq_json_object_get_object(doc_paths(fx), path);
	g_autofree gchar *lower = g_ascii_strdown(method, -1);
	return item != NULL ? aiq_json_object_get_object(item, lower) : NULL;
}

static const AiqRoute *
find_route(Fixture *fx, const gchar *method, const gchar *path)
{
	for (guint i = 0; i < fx->routes->len; i++) {
		const AiqRoute *route = g_ptr_array_index(fx->routes, i);
		if (g_ascii_strcasecmp(route->method, method) == 0 &&
		    g_strcmp0(route->path, path) == 0)
			return route;
	}
	return NULL;
}

typedef void (*OperationFunc)(Fixture *fx,
			      const gchar *method,
			      const gchar *path,
			      JsonObject *item,
			      JsonObject *op);

/* calls @func for every operation of the document; METHOD in upper case */
static void
foreach_operation(Fixture *fx, OperationFunc func)
{
	JsonObjectIter iter;
	const gchar *path;
	JsonNode *node;

	json_object_iter_init_ordered(&iter, doc_paths(fx));
	while (json_object_iter_next_ordered(&iter, &path, &node)) {
		JsonObject *item = resolve_object(fx, node);
		if (item == NULL) {
			problem(fx, "%s: not an object", path);
			continue;
		}
		for (guint i = 0; openapi_methods[i] != NULL; i++) {
			JsonObject *op = aiq_json_object_get_object(item, openapi_methods[i]);
			g_autofree gchar *upper = NULL;
			if (op == NULL)
				continue;
			upper = g_ascii_strup(openapi_methods[i], -1);
			func(fx, upper, path, item, op);
		}
	}
}

static gboolean
path_has_params(const gchar *path)
{
	return strchr(path, '{') != NULL;
}

/* routes whose path ids are looked up in the caller's tenant */
static gboolean
role_is_tenant_scoped(AiqRole role)
{
	return role == AIQ_ROLE_VIEWER || role == AIQ_ROLE_EDITOR || role == AIQ_ROLE_TENANT_ADMIN;
}

/* every registered route is documented, with its role */
static void
test_openapi_routes_documented(Fixture *fx, gconstpointer user_data)
{
	g_assert_cmpuint(fx->routes->len, >, 0);
	for (guint i = 0; i < fx->routes->len; i++) {
		const AiqRoute *route = g_ptr_array_index(fx->routes, i);
		JsonObject *op = doc_operation(fx, route->method, route->path);
		const gchar *role;
		if (op == NULL) {
			problem(fx,
				"%s %s (%s, role %s) is served but not documented",
				route->method,
				route->path,
				route->summary,
				role_name(route->role));
			continue;
		}
		role = aiq_json_object_get_string(op, "x-aiq-role");
		if (g_strcmp0(role, role_name(route->role)) != 0)
			problem(fx,
				"%s %s: x-aiq-role is %s but the server asks for %s",
				route->method,
				route->path,
				role != NULL ? role : "(missing)",
				role_name(route->role));
	}
	fixture_check(fx);
}

static void
check_served(Fixture *fx, const gchar *method, const gchar *path, JsonObject *item, JsonObject *op)
{
	if (find_route(fx, method, path) == NULL)
		problem(fx, "%s %s is documented but the server has no such route", method, path);
}

/* every documented operation is served */
static void
test_openapi_documented_served(Fixture *fx, gconstpointer user_data)
{
	foreach_operation(fx, check_served);
	fixture_check(fx);
}

/* a response of @op that must be there, with the shared error shape */
static void
check_error_response(Fixture *fx,
		     const gchar *method,
		     const gchar *path,
		     JsonObject *responses,
		     const gchar *status)
{
	JsonObject *resp = resolve_object(fx, json_object_get_member(responses, status));
	JsonObject *content;
	JsonObject *json;
	JsonNode *schema;
	JsonNode *error_schema = resolve_pointer(fx, "#/components/schemas/Error");

	if (resp == NULL) {
		problem(fx, "%s %s: no %s response", method, path, status);
		return;
	}
	content = aiq_json_object_get_object(resp, "content");
	json = aiq_json_object_get_object(content, "application/json");
	schema = json != NULL ? json_object_get_member(json, "schema") : NULL;
	if (schema == NULL || resolve(fx, schema) != error_schema)
		problem(fx, "%s %s: the %s response is not the Error schema", method, path, status);
}

static void
check_operation(Fixture *fx,
		const gchar *method,
		const gchar *path,
		JsonObject *item,
		JsonObject *op)
{
	const gchar *role = aiq_json_object_get_string(op, "x-aiq-role");
	const gchar *const roles[] = { "public",         "viewer", "editor", "tenant_admin",
				       "platform_admin", "agent",  NULL };
	JsonObject *responses = aiq_json_object_get_object(op, "responses");
	JsonNode *security = json_object_get_member(op, "security");
	const AiqRoute *route = find_route(fx, method, path);
	gboolean success = FALSE;

	if (role == NULL || !g_strv_contains(roles, role)) {
		problem(fx,
			"%s %s: x-aiq-role must be one of public, viewer, editor, tenant_admin, "
			"platform_admin, agent",
			method,
			path);
		return;
	}
	if (aiq_json_object_get_string(op, "operationId") == NULL)
		problem(fx, "%s %s: no operationId", method, path);
	if (responses == NULL) {
		problem(fx, "%s %s: no responses", method, path);
		return;
	}
	/* at least one success */
	{
		JsonObjectIter iter;
		const gchar *status;
		JsonNode *node;
		json_object_iter_init_ordered(&iter, responses);
		while (json_object_iter_next_ordered(&iter, &status, &node)) {
			if (status[0] == '2' || g_strcmp0(status, "101") == 0)
				success = TRUE;
			else if (status[0] == '4' || status[0] == '5')
				if (resolve_object(fx, node) == NULL)
					problem(fx,
						"%s %s: response %s does not resolve",
						method,
						path,
						status);
		}
	}
	if (!success)
		problem(fx, "%s %s: no success response", method, path);

	if (g_strcmp0(role, "public") == 0) {
		/* the document's default is bearer: public ones say they need nothing */
		if (security == NULL || !JSON_NODE_HOLDS_ARRAY(security) ||
		    json_array_get_length(json_node_get_array(security)) != 0)
			problem(fx, "%s %s: public, so it needs `security: []`", method, path);
	} else {
		if (security != NULL && JSON_NODE_HOLDS_ARRAY(security) &&
		    json_array_get_length(json_node_get_array(security)) == 0)
			problem(fx, "%s %s: role %s but `security: []`", method, path, role);
		/* a missing or bad token, and a token of too low a role (or of an
		 * agent, or of a user on an agent route) */
		check_error_response(fx, method, path, responses, "401");
		check_error_response(fx, method, path, responses, "403");
		/* every authenticated request is rate-limited */
		check_error_response(fx, method, path, responses, "429");
	}
	if (route != NULL && (route->flags & AIQ_ROUTE_LIMIT_ADDRESS) != 0)
		check_error_response(fx, method, path, responses, "429");

	/* bodies: the limits and the strict reading of them */
	if (json_object_has_member(op, "requestBody")) {
		JsonObject *body = resolve_object(fx, json_object_get_member(op, "requestBody"));
		JsonObject *content =
			body != NULL ? aiq_json_object_get_object(body, "content") : NULL;
		if (content == NULL || json_object_get_size(content) == 0) {
			problem(fx, "%s %s: a requestBody without content", method, path);
		} else {
			check_error_response(fx, method, path, responses, "400");
			check_error_response(fx, method, path, responses, "413");
			check_error_response(fx, method, path, responses, "415");
			check_error_response(fx, method, path, responses, "422");
		}
	}

	/* ids in the path: declared, and said whose they are */
	if (path_has_params(path)) {
		JsonNode *scoped = json_object_get_member(op, "x-aiq-tenant-scoped");
		g_auto(GStrv) segments = g_strsplit(path, "/", -1);
		if (scoped == NULL || !aiq_json_is_bool(scoped)) {
			problem(fx,
				"%s %s: path parameters but no x-aiq-tenant-scoped",
				method,
				path);
		} else if (route != NULL &&
			   json_node_get_boolean(scoped) != role_is_tenant_scoped(route->role)) {
			problem(fx,
				"%s %s: x-aiq-tenant-scoped should be %s for a %s route",
				method,
				path,
				role_is_tenant_scoped(route->role) ? "true" : "false",
				role_name(route->role));
		}
		for (guint i = 0; segments[i] != NULL; i++) {
			g_autofree gchar *name = NULL;
			gboolean declared = FALSE;
			JsonArray *lists[2] = { aiq_json_object_get_array(item, "parameters"),
						aiq_json_object_get_array(op, "parameters") };
			if (segments[i][0] != '{')
				continue;
			name = g_strndup(segments[i] + 1, strlen(segments[i]) - 2);
			for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
				for (guint j = 0;
				     lists[l] != NULL && j < json_array_get_length(lists[l]);
				     j++) {
					JsonObject *param =
						resolve_object(fx,
							       json_array_get_element(lists[l], j));
					JsonNode *required =
						param != NULL
							? json_object_get_member(param, "required")
							: NULL;
					if (param == NULL ||
					    g_strcmp0(aiq_json_object_get_string(param, "in"),
						      "path") != 0 ||
					    g_strcmp0(aiq_json_object_get_string(param, "name"),
						      name) != 0)
						continue;
					declared = TRUE;
					if (required == NULL || !aiq_json_is_bool(required) ||
					    !json_node_get_boolean(required))
						problem(fx,
							"%s %s: path parameter %s is not required: true",
							method,
							path,
							name);
				}
			}
			if (!declared)
				problem(fx,
					"%s %s: path parameter %s is not declared",
					method,
					path,
					name);
		}
	} else if (json_object_has_member(op, "x-aiq-tenant-scoped")) {
		problem(fx, "%s %s: x-aiq-tenant-scoped without path parameters", method, path);
	}
}

/* every operation: a role, the error responses its role and body bring,
 * declared path parameters */
static void
test_openapi_operations(Fixture *fx, gconstpointer user_data)
{
	foreach_operation(fx, check_operation);
	fixture_check(fx);
}

/* every `$ref` in the document points at something */
static void
check_refs(Fixture *fx, JsonNode *node, const gchar *where)
{
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &key, &value)) {
			g_autofree gchar *child = g_strdup_printf("%s/%s", where, key);
			if (g_strcmp0(key, "$ref") == 0) {
				const gchar *ref = aiq_json_is_string(value)
							   ? json_node_get_string(value)
							   : NULL;
				if (ref == NULL || resolve_pointer(fx, ref) == NULL)
					problem(fx,
						"%s: $ref %s does not resolve",
						where,
						ref != NULL ? ref : "(not a string)");
				continue;
			}
			check_refs(fx, value, child);
		}
	} else if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			g_autofree gchar *child = g_strdup_printf("%s[%u]", where, i);
			check_refs(fx, json_array_get_element(array, i), child);
		}
	}
}

/* the shared error shape of DESIGN.md */
static void
test_openapi_document(Fixture *fx, gconstpointer user_data)
{
	JsonObject *root = doc_object(fx);
	JsonObject *error = resolve_object(fx, resolve_pointer(fx, "#/components/schemas/Error"));
	JsonObject *inner = NULL;
	JsonArray *required;

	g_assert_true(g_str_has_prefix(aiq_json_object_get_string(root, "openapi"), "3.0."));
	check_refs(fx, fx->doc, "#");
	g_assert_nonnull(resolve_pointer(fx, "#/components/securitySchemes/bearer"));
	g_assert_nonnull(error);
	inner = aiq_json_object_get_object(aiq_json_object_get_object(error, "properties"),
					   "error");
	g_assert_nonnull(inner);
	required = aiq_json_object_get_array(inner, "required");
	g_assert_nonnull(required);
	for (guint i = 0; i < 3; i++) {
		const gchar *const members[] = { "code", "message", "request_id" };
		gboolean found = FALSE;
		for (guint j = 0; j < json_array_get_length(required); j++)
			found |= g_strcmp0(json_array_get_string_element(required, j),
					   members[i]) == 0;
		if (!found)
			problem(fx, "Error: error.%s is not required", members[i]);
		if (aiq_json_object_get_object(aiq_json_object_get_object(inner, "properties"),
					       members[i]) == NULL)
			problem(fx, "Error: no error.%s", members[i]);
	}
	if (aiq_json_object_get_object(aiq_json_object_get_object(inner, "properties"),
				       "details") == NULL)
		problem(fx, "Error: no error.details");
	fixture_check(fx);
}

/* an example of a request body fits its schema: required members there,
 * no unknown ones where the server refuses them, top-level types right */
static void
check_example(Fixture *fx,
	      const gchar *method,
	      const gchar *path,
	      const gchar *media,
	      JsonObject *schema)
{
	JsonNode *example = json_object_get_member(schema, "example");
	JsonObject *properties = aiq_json_object_get_object(schema, "properties");
	JsonArray *required = aiq_json_object_get_array(schema, "required");
	JsonNode *additional = json_object_get_member(schema, "additionalProperties");
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *value;

	if (example == NULL) {
		problem(fx, "%s %s (%s): the body schema has no example", method, path, media);
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(example)) {
		problem(fx, "%s %s: the example is not an object", method, path);
		return;
	}
	for (guint i = 0; required != NULL && i < json_array_get_length(required); i++) {
		const gchar *name = json_array_get_string_element(required, i);
		if (!json_object_has_member(json_node_get_object(example), name))
			problem(fx, "%s %s: the example lacks the required %s", method, path, name);
	}
	json_object_iter_init_ordered(&iter, json_node_get_object(example));
	while (json_object_iter_next_ordered(&iter, &key, &value)) {
		JsonObject *prop =
			properties != NULL
				? resolve_object(fx, json_object_get_member(properties, key))
				: NULL;
		const gchar *type = prop != NULL ? aiq_json_object_get_string(prop, "type") : NULL;
		const gchar *actual;
		if (prop == NULL) {
			if (additional != NULL && aiq_json_is_bool(additional) &&
			    !json_node_get_boolean(additional))
				problem(fx,
					"%s %s: the example has %s, which the schema does not allow",
					method,
					path,
					key);
			continue;
		}
		if (type == NULL)
			continue;
		actual = JSON_NODE_HOLDS_OBJECT(value)  ? "object"
			 : JSON_NODE_HOLDS_ARRAY(value) ? "array"
			 : aiq_json_is_string(value)    ? "string"
			 : aiq_json_is_bool(value)      ? "boolean"
			 : aiq_json_is_integer(value)   ? "integer"
			 : aiq_json_is_number(value)    ? "number"
							: "null";
		if (g_strcmp0(type, actual) != 0 &&
		    !(g_strcmp0(type, "number") == 0 && g_strcmp0(actual, "integer") == 0))
			problem(fx,
				"%s %s: the example's %s is a %s, the schema says %s",
				method,
				path,
				key,
				actual,
				type);
	}
}

static void
check_body_examples(Fixture *fx,
		    const gchar *method,
		    const gchar *path,
		    JsonObject *item,
		    JsonObject *op)
{
	JsonObject *body = resolve_object(fx, json_object_get_member(op, "requestBody"));
	JsonObject *content = body != NULL ? aiq_json_object_get_object(body, "content") : NULL;
	JsonObjectIter iter;
	const gchar *media;
	JsonNode *node;

	if (content == NULL)
		return;
	json_object_iter_init_ordered(&iter, content);
	while (json_object_iter_next_ordered(&iter, &media, &node)) {
		JsonObject *schema;
		if (g_strcmp0(media, "application/x-www-form-urlencoded") == 0)
			continue;
		schema = resolve_object(
			fx,
			json_object_get_member(json_node_get_object(node), "schema"));
		if (schema == NULL) {
			problem(fx, "%s %s (%s): no schema", method, path, media);
			continue;
		}
		if (g_strcmp0(aiq_json_object_get_string(schema, "type"), "object") != 0) {
			problem(fx, "%s %s (%s): the body is not an object", method, path, media);
			continue;
		}
		check_example(fx, method, path, media, schema);
	}
}

/* the hostile-body test builds its requests from these examples */
static void
test_openapi_body_examples(Fixture *fx, gconstpointer user_data)
{
	foreach_operation(fx, check_body_examples);
	fixture_check(fx);
}

/*
 * The answers of the real handlers against the documented schemas: a small
 * validator for the part of JSON Schema the document uses ($ref, allOf,
 * type, nullable, enum, required, properties, additionalProperties, items,
 * format date-time). A member the server sends that the schema does not
 * name is a problem too: the document must say everything a client gets.
 */

/* the members an object schema names, through $ref and allOf */
static void
collect_object_schema(Fixture *fx,
		      JsonObject *schema,
		      GHashTable *properties,
		      GPtrArray *required,
		      gboolean *open)
{
	JsonArray *all_of = aiq_json_object_get_array(schema, "allOf");
	JsonObject *props = aiq_json_object_get_object(schema, "properties");
	JsonArray *req = aiq_json_object_get_array(schema, "required");
	JsonNode *additional = json_object_get_member(schema, "additionalProperties");

	for (guint i = 0; all_of != NULL && i < json_array_get_length(all_of); i++) {
		JsonObject *part = resolve_object(fx, json_array_get_element(all_of, i));
		if (part != NULL)
			collect_object_schema(fx, part, properties, required, open);
	}
	if (props != NULL) {
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		json_object_iter_init_ordered(&iter, props);
		while (json_object_iter_next_ordered(&iter, &key, &value))
			g_hash_table_insert(properties, (gpointer)key, value);
	}
	for (guint i = 0; req != NULL && i < json_array_get_length(req); i++)
		g_ptr_array_add(required, (gpointer)json_array_get_string_element(req, i));
	/* additionalProperties: true or a schema, or an object with no
	 * properties at all (free-form) */
	if (additional != NULL &&
	    !(aiq_json_is_bool(additional) && !json_node_get_boolean(additional)))
		*open = TRUE;
}

static const gchar *
json_type_of(JsonNode *value)
{
	if (JSON_NODE_HOLDS_OBJECT(value))
		return "object";
	if (JSON_NODE_HOLDS_ARRAY(value))
		return "array";
	if (JSON_NODE_HOLDS_NULL(value))
		return "null";
	if (aiq_json_is_string(value))
		return "string";
	if (aiq_json_is_bool(value))
		return "boolean";
	if (aiq_json_is_integer(value))
		return "integer";
	return "number";
}

static void
validate(Fixture *fx, JsonNode *schema_node, JsonNode *value, const gchar *where);

static void
validate_object(Fixture *fx, JsonObject *schema, JsonObject *obj, const gchar *where)
{
	g_autoptr(GHashTable) properties = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) required = g_ptr_array_new();
	gboolean open = FALSE;
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *value;

	collect_object_schema(fx, schema, properties, required, &open);
	if (g_hash_table_size(properties) == 0 && !json_object_has_member(schema, "allOf"))
		open = TRUE;
	for (guint i = 0; i < required->len; i++) {
		const gchar *name = g_ptr_array_index(required, i);
		if (!json_object_has_member(obj, name))
			problem(fx, "%s: the required member %s is missing", where, name);
	}
	json_object_iter_init_ordered(&iter, obj);
	while (json_object_iter_next_ordered(&iter, &key, &value)) {
		JsonNode *prop = g_hash_table_lookup(properties, key);
		g_autofree gchar *child = g_strdup_printf("%s.%s", where, key);
		if (prop != NULL) {
			validate(fx, prop, value, child);
		} else if (!open) {
			problem(fx,
				"%s: the server sends %s, which the schema does not name",
				where,
				key);
		} else {
			JsonNode *additional =
				json_object_get_member(schema, "additionalProperties");
			if (additional != NULL && JSON_NODE_HOLDS_OBJECT(additional))
				validate(fx, additional, value, child);
		}
	}
}

static void
validate(Fixture *fx, JsonNode *schema_node, JsonNode *value, const gchar *where)
{
	JsonObject *schema = resolve_object(fx, schema_node);
	JsonArray *all_of;
	JsonArray *choices;
	JsonNode *nullable;
	const gchar *type;
	const gchar *actual = json_type_of(value);

	if (schema == NULL) {
		problem(fx, "%s: the schema does not resolve", where);
		return;
	}
	nullable = json_object_get_member(schema, "nullable");
	if (JSON_NODE_HOLDS_NULL(value) && nullable != NULL && aiq_json_is_bool(nullable) &&
	    json_node_get_boolean(nullable))
		return;
	all_of = aiq_json_object_get_array(schema, "allOf");
	/* `allOf: [one]` with nullable beside it: the one, or null */
	type = aiq_json_object_get_string(schema, "type");
	if (type == NULL && all_of != NULL && JSON_NODE_HOLDS_OBJECT(value))
		type = "object";
	if (type == NULL && all_of != NULL) {
		for (guint i = 0; i < json_array_get_length(all_of); i++)
			validate(fx, json_array_get_element(all_of, i), value, where);
		return;
	}
	if (type == NULL) {
		/* no type: anything (output, ui) */
		return;
	}
	if (g_strcmp0(type, actual) != 0 &&
	    !(g_strcmp0(type, "number") == 0 && g_strcmp0(actual, "integer") == 0)) {
		problem(fx, "%s: a %s where the schema says %s", where, actual, type);
		return;
	}
	choices = aiq_json_object_get_array(schema, "enum");
	if (choices != NULL && aiq_json_is_string(value)) {
		gboolean found = FALSE;
		for (guint i = 0; i < json_array_get_length(choices); i++)
			found |= g_strcmp0(json_array_get_string_element(choices, i),
					   json_node_get_string(value)) == 0;
		if (!found)
			problem(fx,
				"%s: “%s” is not one of the schema's enum",
				where,
				json_node_get_string(value));
	}
	if (g_strcmp0(aiq_json_object_get_string(schema, "format"), "date-time") == 0) {
		gint64 us = 0;
		if (!aiq_time_from_iso8601(json_node_get_string(value), &us, NULL))
			problem(fx,
				"%s: “%s” is not a date-time",
				where,
				json_node_get_string(value));
	}
	if (g_strcmp0(type, "object") == 0) {
		validate_object(fx, schema, json_node_get_object(value), where);
	} else if (g_strcmp0(type, "array") == 0) {
		JsonNode *items = json_object_get_member(schema, "items");
		JsonArray *array = json_node_get_array(value);
		for (guint i = 0; items != NULL && i < json_array_get_length(array); i++) {
			g_autofree gchar *child = g_strdup_printf("%s[%u]", where, i);
			validate(fx, items, json_array_get_element(array, i), child);
		}
	}
}

/* the Content-Type of @resp (without its parameters) is a media type of
 * @content, whose keys may have parameters (`text/plain; version=0.0.4`) */
static void
check_media_type(Fixture *fx, JsonObject *content, AiqTestResponse *resp, const gchar *where)
{
	const gchar *type = soup_message_headers_get_content_type(resp->headers, NULL);
	JsonObjectIter iter;
	const gchar *media;
	JsonNode *node;

	json_object_iter_init_ordered(&iter, content);
	while (json_object_iter_next_ordered(&iter, &media, &node)) {
		const gchar *end = strchr(media, ';');
		g_autofree gchar *essence = g_strstrip(
			end != NULL ? g_strndup(media, (gsize)(end - media)) : g_strdup(media));
		if (type != NULL && g_ascii_strcasecmp(essence, type) == 0)
			return;
	}
	problem(fx,
		"%s: Content-Type %s, which the document does not list",
		where,
		type != NULL ? type : "(none)");
}

/* @resp against the schema the document gives METHOD PATTERN for its status */
static void
validate_response(Fixture *fx,
		  const gchar *method,
		  const gchar *pattern,
		  AiqTestResponse *resp,
		  guint expected)
{
	JsonObject *op = doc_operation(fx, method, pattern);
	JsonObject *responses = op != NULL ? aiq_json_object_get_object(op, "responses") : NULL;
	g_autofree gchar *status = g_strdup_printf("%u", resp->status);
	g_autofree gchar *where = g_strdup_printf("%s %s %u", method, pattern, resp->status);
	JsonObject *documented;
	JsonObject *content;
	JsonObject *json;

	if (expected != 0 && resp->status != expected) {
		problem(fx,
			"%s %s: expected %u, got %u: %.300s",
			method,
			pattern,
			expected,
			resp->status,
			resp->body);
		return;
	}
	if (responses == NULL) {
		problem(fx, "%s %s: not documented", method, pattern);
		return;
	}
	documented = resolve_object(fx, json_object_get_member(responses, status));
	if (documented == NULL) {
		problem(fx, "%s: the server answers %s, which is not documented", where, status);
		return;
	}
	content = aiq_json_object_get_object(documented, "content");
	json = aiq_json_object_get_object(content, "application/json");
	if (content == NULL || json_object_get_size(content) == 0) {
		if (resp->body != NULL && resp->body[0] != '\0')
			problem(fx, "%s: a body, where the document has none", where);
		return;
	}
	if (json == NULL) {
		/* another media type (the metrics' text, an export's gzip): the
		 * answer is one the document lists */
		check_media_type(fx, content, resp, where);
		return;
	}
	if (resp->json == NULL) {
		problem(fx, "%s: not JSON: %.200s", where, resp->body);
		return;
	}
	validate(fx, json_object_get_member(json, "schema"), resp->json, where);
}

/* a request, its answer checked against the document */
static JsonObject *
call(Fixture *fx,
     const gchar *method,
     const gchar *path,
     const gchar *pattern,
     const gchar *token,
     const gchar *json,
     guint expected)
{
	g_autoptr(AiqTestResponse) resp = aiq_test_request_json(fx->ts, method, path, token, json);
	validate_response(fx, method, pattern, resp, expected);
	if (resp->json != NULL && JSON_NODE_HOLDS_OBJECT(resp->json))
		return json_object_ref(json_node_get_object(resp->json));
	return json_object_new();
}

#define RESPONSE_WORKFLOW                                                            \
	"{\"name\":\"doc-flow\",\"description\":\"%s\","                             \
	"\"runs_on\":{\"labels\":[\"doc\"]},"                                        \
	"\"triggers\":[{\"webhook\":{}},{\"manual\":{}}],"                           \
	"\"inputs\":{\"who\":{\"type\":\"string\",\"default\":\"world\"}},"          \
	"\"steps\":[{\"id\":\"one\",\"uses\":\"transform\",\"with\":{\"value\":1}}," \
	"{\"id\":\"two\",\"uses\":\"transform\",\"with\":{\"value\":2}}]}"

/* the answers of every route, made with real things, fit the document */
static void
test_openapi_responses(Fixture *fx, gconstpointer user_data)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *v1 = g_strdup_printf(RESPONSE_WORKFLOW, "first");
	g_autofree gchar *v2 = g_strdup_printf(RESPONSE_WORKFLOW, "second");
	g_autoptr(GHashTable) ids = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_autofree gchar *agent_token = NULL;
	g_autofree gchar *hook_path = NULL;
	g_autofree gchar *wf = NULL;
	g_autofree gchar *ex = NULL;
	g_autoptr(JsonObject) obj = NULL;

	/* things to read, each answer checked as it is made */
	obj = call(fx, "POST", "/api/v1/workflows", "/api/v1/workflows", ts->editor_token, v1, 201);
	wf = g_strdup(aiq_json_object_get_string(obj, "id"));
	g_assert_nonnull(wf);
	g_hash_table_insert(ids, "workflows", g_strdup(wf));
	{
		g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s", wf);
		g_autofree gchar *rollback = g_strdup_printf("%s/rollback", path);
		g_autofree gchar *disable = g_strdup_printf("%s/disable", path);
		g_autofree gchar *enable = g_strdup_printf("%s/enable", path);
		g_autofree gchar *webhook = g_strdup_printf("%s/webhook", path);
		g_autofree gchar *rotate = g_strdup_printf("%s/webhook/rotate", path);
		g_autoptr(JsonObject) hook = NULL;
		g_clear_pointer(&obj, json_object_unref);
		obj = call(fx, "PUT", path, "/api/v1/workflows/{id}", ts->editor_token, v2, 200);
		g_clear_pointer(&obj, json_object_unref);
		obj = call(fx,
			   "POST",
			   rollback,
			   "/api/v1/workflows/{id}/rollback",
			   ts->editor_token,
			   "{\"version\":2}",
			   200);
		g_clear_pointer(&obj, json_object_unref);
		obj = call(fx,
			   "POST",
			   disable,
			   "/api/v1/workflows/{id}/disable",
			   ts->editor_token,
			   NULL,
			   200);
		g_clear_pointer(&obj, json_object_unref);
		obj = call(fx,
			   "POST",
			   enable,
			   "/api/v1/workflows/{id}/enable",
			   ts->editor_token,
			   NULL,
			   200);
		g_clear_pointer(&obj, json_object_unref);
		obj = call(fx,
			   "POST",
			   rotate,
			   "/api/v1/workflows/{id}/webhook/rotate",
			   ts->editor_token,
			   NULL,
			   200);
		hook = call(fx,
			    "GET",
			    webhook,
			    "/api/v1/workflows/{id}/webhook",
			    ts->editor_token,
			    NULL,
			    200);
		hook_path = g_strdup(aiq_json_object_get_string(hook, "path"));
		g_assert_nonnull(hook_path);
	}
	{
		g_autofree gchar *start = g_strdup_printf("/api/v1/workflows/%s/executions", wf);
		g_autofree gchar *cancel = NULL;
		g_autofree gchar *retry = NULL;
		g_autofree gchar *rerun = NULL;
		g_autoptr(JsonObject) other = NULL;
		g_clear_pointer(&obj, json_object_unref);
		obj = call(fx,
			   "POST",
			   start,
			   "/api/v1/workflows/{id}/executions",
			   ts->editor_token,
			   "{\"inputs\":{\"who\":\"doc\"}}",
			   201);
		ex = g_strdup(aiq_json_object_get_string(obj, "id"));
		g_assert_nonnull(ex);
		g_hash_table_insert(ids, "executions", g_strdup(ex));
		/* another one, cancelled, retried and re-run */
		other = call(fx,
			     "POST",
			     start,
			     "/api/v1/workflows/{id}/executions",
			     ts->editor_token,
			     NULL,
			     201);
		cancel = g_strdup_printf("/api/v1/executions/%s/cancel",
					 aiq_json_object_get_string(other, "id"));
		retry = g_strdup_printf("/api/v1/executions/%s/retry",
					aiq_json_object_get_string(other, "id"));
		rerun = g_strdup_printf("/api/v1/executions/%s/rerun",
					aiq_json_object_get_string(other, "id"));
		g_clear_pointer(&obj, json_object_unref);
		obj = call(fx,
			   "POST",
			   cancel,
			   "/api/v1/executions/{id}/cancel",
			   ts->editor_token,
			   NULL,
			   202);
		g_clear_pointer(&obj, json_object_unref);
		obj = call(fx,
			   "POST",
			   retry,
			   "/api/v1/executions/{id}/retry",
			   ts->editor_token,
			   NULL,
			   201);
		g_clear_pointer(&obj, json_object_unref);
		obj = call(fx,
			   "POST",
			   rerun,
			   "/api/v1/executions/{id}/rerun",
			   ts->editor_token,
			   "{\"inputs\":{\"who\":\"again\"}}",
			   201);
	}
	{
		g_autoptr(JsonObject) hooked = call(fx,
						    "POST",
						    hook_path,
						    "/api/v1/hooks/{token}",
						    NULL,
						    "{\"who\":\"hook\"}",
						    202);
	}
	/* an agent that leases, heartbeats and syncs */
	{
		g_autoptr(JsonObject) made =
			call(fx,
			     "POST",
			     "/api/v1/enrollment-tokens",
			     "/api/v1/enrollment-tokens",
			     ts->admin_token,
			     "{\"name\":\"doc\",\"labels\":[\"doc\"],\"expires_in\":\"1h\"}",
			     201);
		g_autofree gchar *enroll = g_strdup_printf(
			"{\"token\":\"%s\",\"name\":\"doc-agent\",\"labels\":[\"doc\"],"
			"\"version\":\"1.0\",\"capacity\":4}",
			aiq_json_object_get_string(made, "token"));
		g_autoptr(JsonObject) agent = call(fx,
						   "POST",
						   "/api/v1/agents/enroll",
						   "/api/v1/agents/enroll",
						   NULL,
						   enroll,
						   201);
		g_autofree gchar *running = NULL;
		g_autofree gchar *events = NULL;
		g_autoptr(JsonObject) leased = NULL;
		g_autoptr(JsonObject) beat = NULL;
		g_autoptr(JsonObject) synced = NULL;
		g_autoptr(JsonObject) unused = NULL;

		agent_token = g_strdup(aiq_json_object_get_string(agent, "credential"));
		g_hash_table_insert(ids,
				    "agents",
				    g_strdup(aiq_json_object_get_string(agent, "agent_id")));
		leased = call(fx,
			      "POST",
			      "/api/v1/agent/lease",
			      "/api/v1/agent/lease",
			      agent_token,
			      "{\"capacity\":1,\"wait_ms\":0}",
			      200);
		g_assert_cmpuint(json_array_get_length(aiq_json_object_get_array(leased, "jobs")),
				 ==,
				 1);
		running =
			g_strdup_printf("{\"running\":[\"%s\"],\"capacity\":4,\"version\":\"1.0\"}",
					ex);
		beat = call(fx,
			    "POST",
			    "/api/v1/agent/heartbeat",
			    "/api/v1/agent/heartbeat",
			    agent_token,
			    running,
			    200);
		events = g_strdup_printf(
			"{\"events\":[{\"execution_id\":\"%s\",\"seq\":1,\"type\":\"execution.created\","
			"\"time\":\"2027-01-01T00:00:01Z\",\"data\":{}},"
			"{\"execution_id\":\"%s\",\"seq\":2,\"type\":\"execution.started\","
			"\"time\":\"2027-01-01T00:00:02Z\"},"
			"{\"execution_id\":\"%s\",\"seq\":3,\"type\":\"step.started\","
			"\"time\":\"2027-01-01T00:00:03Z\",\"step\":\"one\"},"
			"{\"execution_id\":\"%s\",\"seq\":4,\"type\":\"attempt.finished\","
			"\"time\":\"2027-01-01T00:00:04Z\",\"step\":\"one\",\"attempt\":1,"
			"\"status\":\"failed\",\"data\":{\"error\":{\"code\":\"failed\",\"message\":\"x\"},"
			"\"output_size\":0,\"retry_in_ms\":10}},"
			"{\"execution_id\":\"%s\",\"seq\":5,\"type\":\"step.finished\","
			"\"time\":\"2027-01-01T00:00:05Z\",\"step\":\"one\",\"attempt\":2,"
			"\"status\":\"succeeded\",\"data\":{\"output\":{\"value\":1},\"output_size\":11}},"
			"{\"execution_id\":\"nope\",\"seq\":1,\"type\":\"execution.started\","
			"\"time\":\"2027-01-01T00:00:05Z\"}]}",
			ex,
			ex,
			ex,
			ex,
			ex);
		synced = call(fx,
			      "POST",
			      "/api/v1/agent/events",
			      "/api/v1/agent/events",
			      agent_token,
			      events,
			      200);
		/* an unused enrollment token to list and to revoke */
		unused = call(fx,
			      "POST",
			      "/api/v1/enrollment-tokens",
			      "/api/v1/enrollment-tokens",
			      ts->admin_token,
			      NULL,
			      201);
		g_hash_table_insert(ids,
				    "enrollment-tokens",
				    g_strdup(aiq_json_object_get_string(unused, "id")));
	}
	/* identity */
	{
		g_autoptr(JsonObject) key =
			call(fx,
			     "POST",
			     "/api/v1/api-keys",
			     "/api/v1/api-keys",
			     ts->admin_token,
			     "{\"name\":\"doc\",\"role\":\"viewer\",\"expires_in\":\"90d\","
			     "\"requests_per_minute\":60}",
			     201);
		g_autoptr(JsonObject) user = call(fx,
						  "POST",
						  "/api/v1/users",
						  "/api/v1/users",
						  ts->admin_token,
						  "{\"username\":\"doc-user\",\"role\":\"viewer\","
						  "\"password\":\"doc-password-123\"}",
						  201);
		g_autoptr(JsonObject) session =
			call(fx,
			     "POST",
			     "/api/v1/auth/login",
			     "/api/v1/auth/login",
			     NULL,
			     "{\"tenant\":\"acme\",\"username\":\"doc-user\","
			     "\"password\":\"doc-password-123\"}",
			     200);
		g_autoptr(JsonObject) tenant =
			call(fx,
			     "POST",
			     "/api/v1/tenants",
			     "/api/v1/tenants",
			     ts->platform_token,
			     "{\"slug\":\"doc-co\",\"name\":\"Doc\",\"tier\":\"free\","
			     "\"admin\":{\"username\":\"boss\",\"password\":\"doc-password-123\"}}",
			     201);
		g_autofree gchar *user_path =
			g_strdup_printf("/api/v1/users/%s", aiq_json_object_get_string(user, "id"));
		g_autofree gchar *tenant_path =
			g_strdup_printf("/api/v1/tenants/%s",
					aiq_json_object_get_string(tenant, "id"));
		g_autoptr(JsonObject) patched_user = call(fx,
							  "PATCH",
							  user_path,
							  "/api/v1/users/{id}",
							  ts->admin_token,
							  "{\"display_name\":\"Doc\"}",
							  200);
		g_autoptr(JsonObject) patched_tenant = call(fx,
							    "PATCH",
							    tenant_path,
							    "/api/v1/tenants/{id}",
							    ts->platform_token,
							    "{\"tier\":\"standard\","
							    "\"limits\":{\"workflows\":200}}",
							    200);
		g_hash_table_insert(ids,
				    "api-keys",
				    g_strdup(aiq_json_object_get_string(key, "id")));
		g_hash_table_insert(ids, "users", g_strdup(aiq_json_object_get_string(user, "id")));
		g_hash_table_insert(ids, "tenants", g_strdup(ts->tenant_id));
	}

	/* every GET route, and every route without a token */
	for (guint i = 0; i < fx->routes->len; i++) {
		const AiqRoute *route = g_ptr_array_index(fx->routes, i);
		g_auto(GStrv) segments = g_strsplit(route->path, "/", -1);
		g_autofree gchar *path = NULL;
		/* public routes as their clients call them: without a token (the
		 * metrics take none but their own) */
		const gchar *token = route->role == AIQ_ROLE_NONE             ? NULL
				     : route->role == AIQ_ROLE_PLATFORM_ADMIN ? ts->platform_token
				     : route->role == AIQ_ROLE_AGENT          ? agent_token
									      : ts->admin_token;
		gboolean filled = TRUE;

		for (guint s = 1; segments[s] != NULL; s++) {
			const gchar *value = NULL;
			if (segments[s][0] != '{')
				continue;
			if (g_strcmp0(segments[s], "{version}") == 0)
				value = "1";
			else if (g_strcmp0(segments[s], "{token}") == 0)
				value = hook_path + strlen("/api/v1/hooks/");
			else
				value = g_hash_table_lookup(ids, segments[s - 1]);
			if (value == NULL) {
				problem(fx,
					"%s %s: no id for %s here",
					route->method,
					route->path,
					segments[s]);
				filled = FALSE;
				break;
			}
			g_free(segments[s]);
			segments[s] = g_strdup(value);
		}
		if (!filled)
			continue;
		path = g_strjoinv("/", segments);
		if (route->role != AIQ_ROLE_NONE) {
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request(ts, route->method, path, NULL, NULL, NULL, 0);
			validate_response(fx, route->method, route->path, resp, 401);
		}
		if (g_strcmp0(route->method, "GET") == 0) {
			g_autoptr(AiqTestResponse) resp =
				aiq_test_request(ts, route->method, path, token, NULL, NULL, 0);
			validate_response(fx, route->method, route->path, resp, 0);
			if (resp->status >= 300 && resp->status != 426)
				problem(fx, "GET %s: %u: %.300s", path, resp->status, resp->body);
		}
	}
	/* a few refusals */
	{
		g_autoptr(JsonObject) bad = call(fx,
						 "POST",
						 "/api/v1/workflows",
						 "/api/v1/workflows",
						 ts->editor_token,
						 "{\"name\":5}",
						 422);
		g_autoptr(JsonObject) conflict = call(fx,
						      "POST",
						      "/api/v1/workflows",
						      "/api/v1/workflows",
						      ts->editor_token,
						      v1,
						      409);
		g_autoptr(JsonObject) forbidden = call(fx,
						       "GET",
						       "/api/v1/users",
						       "/api/v1/users",
						       ts->viewer_token,
						       NULL,
						       403);
		g_autoptr(JsonObject) logout = call(fx,
						    "POST",
						    "/api/v1/auth/logout",
						    "/api/v1/auth/logout",
						    ts->viewer_token,
						    NULL,
						    204);
	}
	fixture_check(fx);
}

/* an execution moved to the archive: its GET and its events answer 410
 * `archived` as documented */
static void
test_openapi_archived(Fixture *fx, gconstpointer user_data)
{
	AiqTestServer *ts = fx->ts;
	g_autofree gchar *definition = g_strdup_printf(RESPONSE_WORKFLOW, "archived");
	g_autofree gchar *tenant_path = g_strdup_printf("/api/v1/tenants/%s", ts->tenant_id);
	g_autofree gchar *start = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *cancel = NULL;
	g_autofree gchar *events = NULL;
	g_autoptr(JsonObject) workflow = NULL;
	g_autoptr(JsonObject) execution = NULL;
	g_autoptr(JsonObject) cancelled = NULL;
	g_autoptr(JsonObject) tenant = NULL;
	g_autoptr(JsonObject) gone = NULL;
	g_autoptr(JsonObject) gone_events = NULL;
	g_autoptr(GError) error = NULL;
	AiqRetentionReport report = { 0 };

	tenant = call(fx,
		      "PATCH",
		      tenant_path,
		      "/api/v1/tenants/{id}",
		      ts->platform_token,
		      "{\"retention_days\":1}",
		      200);
	workflow = call(fx,
			"POST",
			"/api/v1/workflows",
			"/api/v1/workflows",
			ts->editor_token,
			definition,
			201);
	start = g_strdup_printf("/api/v1/workflows/%s/executions",
				aiq_json_object_get_string(workflow, "id"));
	execution = call(fx,
			 "POST",
			 start,
			 "/api/v1/workflows/{id}/executions",
			 ts->editor_token,
			 NULL,
			 201);
	path = g_strdup_printf("/api/v1/executions/%s",
			       aiq_json_object_get_string(execution, "id"));
	cancel = g_strdup_printf("%s/cancel", path);
	events = g_strdup_printf("%s/events", path);
	/* finished, so that the retention job takes it */
	cancelled = call(fx,
			 "POST",
			 cancel,
			 "/api/v1/executions/{id}/cancel",
			 ts->editor_token,
			 NULL,
			 202);
	g_assert_cmpstr(aiq_json_object_get_string(cancelled, "status"), ==, "cancelled");

	ts->now += 3 * G_TIME_SPAN_DAY;
	g_assert_true(aiq_retention_run(ts->server, &report, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(report.executions_archived, ==, 1);

	gone = call(fx, "GET", path, "/api/v1/executions/{id}", ts->viewer_token, NULL, 410);
	gone_events = call(fx,
			   "GET",
			   events,
			   "/api/v1/executions/{id}/events",
			   ts->viewer_token,
			   NULL,
			   410);
	g_assert_cmpstr(
		aiq_json_object_get_string(aiq_json_object_get_object(gone, "error"), "code"),
		==,
		"archived");
	g_assert_cmpstr(aiq_json_object_get_string(aiq_json_object_get_object(gone_events, "error"),
						   "code"),
			==,
			"archived");
	fixture_check(fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/aiq/http-openapi/routes-documented",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_openapi_routes_documented,
		   fixture_tear_down);
	g_test_add("/aiq/http-openapi/documented-served",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_openapi_documented_served,
		   fixture_tear_down);
	g_test_add("/aiq/http-openapi/operations",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_openapi_operations,
		   fixture_tear_down);
	g_test_add("/aiq/http-openapi/document",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_openapi_document,
		   fixture_tear_down);
	g_test_add("/aiq/http-openapi/body-examples",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_openapi_body_examples,
		   fixture_tear_down);
	g_test_add("/aiq/http-openapi/responses",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_openapi_responses,
		   fixture_tear_down);
	g_test_add("/aiq/http-openapi/archived",
		   Fixture,
		   NULL,
		   fixture_set_up_clock,
		   test_openapi_archived,
		   fixture_tear_down);
	return g_test_run();
}
