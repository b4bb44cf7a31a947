/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Workflows and their versions: create and update from a definition in
 * JSON or YAML, list, read a version, diff two versions, roll back,
 * enable, disable, delete.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-api.h"
#include "aiq-definition.h"
#include "aiq-error.h"
#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-routes.h"
#include "aiq-store-workflows.h"
#include "aiq-workflow-diff.h"

/* the largest definition body when the config does not say
 * (max-definition-body); the document parser's own limit is the same */
#define AIQ_WORKFLOWS_MAX_DEFINITION_BODY (4 * 1024 * 1024)

static AiqStore *
aiq_workflows_store(AiqRequest *req)
{
	return aiq_server_get_store(aiq_request_get_server(req));
}

/* who makes a version: the user name, or the API key's name */
static const gchar *
aiq_workflows_author(AiqRequest *req)
{
	AiqPrincipal *principal = aiq_request_get_principal(req);
	if (principal->subject_name != NULL)
		return principal->subject_name;
	return principal->subject_id;
}

static void
aiq_workflows_respond_problems(AiqRequest *req, AiqProblems *problems, const gchar *prefix)
{
	guint n = aiq_problems_get_size(problems);
	g_autofree gchar *count = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
							      "the definition has %u problem",
							      "the definition has %u problems",
							      n),
						  n);
	g_autofree gchar *message =
		prefix != NULL ? g_strdup_printf("%s: %s", prefix, count) : g_steal_pointer(&count);
	aiq_request_respond_error(req,
				  SOUP_STATUS_UNPROCESSABLE_ENTITY,
				  aiq_error_code_to_string(AIQ_ERROR_INVALID_DEFINITION),
				  message,
				  aiq_problems_to_json(problems));
}

/* the body as a valid definition; %NULL when the response is set */
static AiqDefinition *
aiq_workflows_parse_body(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = aiq_request_parse_document(req, &error);
	g_autoptr(AiqProblems) problems = NULL;
	AiqDefinition *definition;

	if (root == NULL) {
		aiq_request_respond_gerror(req, error);
		return NULL;
	}
	/* no config: the server stores every kind; agents check their own */
	problems = aiq_problems_new();
	definition = aiq_definition_new_from_node(root, NULL, problems);
	if (definition == NULL) {
		aiq_workflows_respond_problems(req, problems, NULL);
		return NULL;
	}
	return definition;
}

/* a stored canonical definition as a tree */
static JsonNode *
aiq_workflows_version_tree(AiqWorkflowVersion *version, GError **error)
{
	JsonNode *root = aiq_json_parse(version->definition,
					strlen(version->definition),
					2 * AIQ_JSON_MAX_DEPTH,
					error);
	if (root == NULL)
		g_prefix_error(error,
			       "workflow %s version %d: ",
			       version->workflow_id,
			       version->version);
	return root;
}

static JsonObject *
aiq_workflow_summary_to_json(AiqWorkflowRow *row)
{
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "id", row->id);
	json_object_set_string_member(obj, "name", row->name);
	if (row->description != NULL)
		json_object_set_string_member(obj, "description", row->description);
	else
		json_object_set_null_member(obj, "description");
	json_object_set_member(obj, "labels", aiq_api_strv_node(row->labels));
	json_object_set_boolean_member(obj, "enabled", row->enabled);
	json_object_set_int_member(obj, "version", row->latest_version);
	aiq_api_set_time(obj, "created", row->created_us);
	aiq_api_set_time(obj, "updated", row->updated_us);
	return obj;
}

/* the summary, and @version's number, triggers and definition */
static JsonObject *
aiq_workflow_to_json(AiqWorkflowRow *row, gint version, JsonNode *definition)
{
	JsonObject *obj = aiq_workflow_summary_to_json(row);
	JsonArray *triggers = NULL;
	if (JSON_NODE_HOLDS_OBJECT(definition))
		triggers = aiq_json_object_get_array(json_node_get_object(definition), "triggers");
	json_object_set_int_member(obj, "version", version);
	if (triggers != NULL)
		json_object_set_array_member(obj, "triggers", json_array_ref(triggers));
	else
		json_object_set_array_member(obj, "triggers", json_array_new());
	json_object_set_member(obj, "definition", json_node_copy(definition));
	return obj;
}

/* answers the workflow at @version (0: the latest); @changed < 0 leaves it
 * out. The stored definition is canonical JSON written by the server, so it
 * goes into the answer as text, unparsed: most of the cost of a GET of a
 * workflow was parsing it again (bench/api) */
static void
aiq_workflows_respond_workflow(AiqRequest *req,
			       guint status,
			       AiqWorkflowRow *row,
			       gint version,
			       gint changed)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqWorkflowVersion) v = NULL;
	g_autoptr(JsonNode) summary = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(GBytes) bytes = NULL;
	GString *body;
	JsonObject *obj;

	v = aiq_store_get_workflow_version_with_triggers(aiq_workflows_store(req),
							 row->tenant_id,
							 row->id,
							 version > 0 ? version
								     : row->latest_version,
							 &error);
	if (v == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	obj = aiq_workflow_summary_to_json(row);
	json_object_set_int_member(obj, "version", v->version);
	if (changed >= 0)
		json_object_set_boolean_member(obj, "changed", changed != 0);
	summary = aiq_json_new_object(obj);
	text = aiq_json_to_string(summary, FALSE);
	body = g_string_sized_new(strlen(text) + strlen(v->definition) + 64);
	/* {…summary…} -> {…summary…,"triggers":[…],"definition":{…}} */
	g_string_append_len(body, text, (gssize)strlen(text) - 1);
	g_string_append(body, ",\"triggers\":");
	g_string_append(body, v->triggers != NULL ? v->triggers : "[]");
	g_string_append(body, ",\"definition\":");
	g_string_append(body, v->definition);
	g_string_append_c(body, '}');
	bytes = g_string_free_to_bytes(body);
	aiq_request_respond_bytes(req, status, "application/json", bytes);
}

/* a version number from @text, or %FALSE with an error naming @what */
static gboolean
aiq_workflows_parse_version(const gchar *text, const gchar *what, gint *version, GError **error)
{
	guint64 value = 0;
	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT, &value, NULL)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("%s: a version number (1, 2, …), not “%s”"),
			    what,
			    text);
		return FALSE;
	}
	*version = (gint)value;
	return TRUE;
}

/* the caller's tenant's limits; %FALSE when @req is answered */
static gboolean
aiq_workflows_get_limits(AiqRequest *req, AiqLimits *limits)
{
	g_autoptr(GError) error = NULL;
	if (!aiq_governance_get_limits(aiq_governance_get(aiq_request_get_server(req)),
				       aiq_request_get_tenant_id(req),
				       limits,
				       &error)) {
		aiq_request_respond_gerror(req, error);
		return FALSE;
	}
	return TRUE;
}

/* a definition within the tenant's quota of steps; else @req is answered
 * with `quota_exceeded` and nothing is stored */
static gboolean
aiq_workflows_check_steps(AiqRequest *req, const AiqLimits *limits, AiqDefinition *definition)
{
	gint64 n_steps = aiq_definition_get_n_steps(definition);
	gint64 limit = limits->values[AIQ_LIMIT_STEPS_PER_WORKFLOW];
	if (n_steps <= limit)
		return TRUE;
	aiq_governance_respond_quota(req, AIQ_LIMIT_STEPS_PER_WORKFLOW, limit, n_steps);
	return FALSE;
}

/* the live workflow of the {id} parameter in the caller's tenant */
static AiqWorkflowRow *
aiq_workflows_get_param(AiqRequest *req, GError **error)
{
	return aiq_store_get_workflow(aiq_workflows_store(req),
				      aiq_request_get_tenant_id(req),
				      aiq_request_get_param(req, "id"),
				      error);
}

static void
aiq_route_workflows_create(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqDefinition) definition = aiq_workflows_parse_body(req);
	g_autoptr(AiqWorkflowRow) row = NULL;
	g_autoptr(JsonNode) tree = NULL;
	AiqLimits limits;
	gint64 used = 0;

	if (definition == NULL || !aiq_workflows_get_limits(req, &limits) ||
	    !aiq_workflows_check_steps(req, &limits, definition))
		return;
	/* counted and created in one write: nothing is made over the quota */
	row = aiq_store_create_workflow_with_quota(aiq_workflows_store(req),
						   aiq_request_get_tenant_id(req),
						   definition,
						   aiq_workflows_author(req),
						   limits.values[AIQ_LIMIT_WORKFLOWS],
						   &used,
						   &error);
	if (row == NULL) {
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_QUOTA_EXCEEDED))
			aiq_governance_respond_quota(req,
						     AIQ_LIMIT_WORKFLOWS,
						     limits.values[AIQ_LIMIT_WORKFLOWS],
						     used);
		else
			aiq_request_respond_gerror(req, error);
		return;
	}
	tree = aiq_definition_to_json(definition);
	aiq_request_respond_json(req,
				 SOUP_STATUS_CREATED,
				 aiq_json_new_object(aiq_workflow_to_json(row, 1, tree)));
}

static void
aiq_route_workflows_list(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autofree gchar *next_cursor = NULL;
	AiqWorkflowFilter filter = { NULL, NULL, NULL, -1 };
	const gchar *enabled = aiq_request_get_query(req, "enabled");
	guint limit = AIQ_API_DEFAULT_LIMIT;
	JsonArray *items;

	if (!aiq_request_get_limit(req, &limit, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	filter.name = aiq_request_get_query(req, "name");
	filter.search = aiq_request_get_query(req, "search");
	filter.label = aiq_request_get_query(req, "label");
	if (enabled != NULL) {
		if (g_strcmp0(enabled, "true") == 0) {
			filter.enabled = 1;
		} else if (g_strcmp0(enabled, "false") == 0) {
			filter.enabled = 0;
		} else {
			aiq_request_respond_error(req,
						  SOUP_STATUS_BAD_REQUEST,
						  "invalid_argument",
						  _("enabled: true or false"),
						  NULL);
			return;
		}
	}
	rows = aiq_store_list_workflows(aiq_workflows_store(req),
					aiq_request_get_tenant_id(req),
					&filter,
					aiq_request_get_query(req, "cursor"),
					limit,
					&next_cursor,
					&error);
	if (rows == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	items = json_array_new();
	for (guint i = 0; i < rows->len; i++)
		json_array_add_object_element(
			items,
			aiq_workflow_summary_to_json(g_ptr_array_index(rows, i)));
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_api_page(items, next_cursor));
}

static void
aiq_route_workflows_get(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqWorkflowRow) row = NULL;
	const gchar *version_text = aiq_request_get_query(req, "version");
	gint version = 0;

	if (version_text != NULL &&
	    !aiq_workflows_parse_version(version_text, "version", &version, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	row = aiq_workflows_get_param(req, &error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_workflows_respond_workflow(req, SOUP_STATUS_OK, row, version, -1);
}

static void
aiq_route_workflows_update(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqDefinition) definition = NULL;
	g_autoptr(AiqWorkflowRow) row = NULL;
	gboolean changed = FALSE;
	AiqLimits limits;

	/* an unknown id is 404 before the body is looked at */
	row = aiq_workflows_get_param(req, &error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	g_clear_pointer(&row, aiq_workflow_row_free);
	definition = aiq_workflows_parse_body(req);
	if (definition == NULL || !aiq_workflows_get_limits(req, &limits) ||
	    !aiq_workflows_check_steps(req, &limits, definition))
		return;
	row = aiq_store_update_workflow(aiq_workflows_store(req),
					aiq_request_get_tenant_id(req),
					aiq_request_get_param(req, "id"),
					definition,
					aiq_workflows_author(req),
					&changed,
					&error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_workflows_respond_workflow(req, SOUP_STATUS_OK, row, 0, changed);
}

static void
aiq_route_workflows_delete(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	if (!aiq_store_delete_workflow(aiq_workflows_store(req),
				       aiq_request_get_tenant_id(req),
				       aiq_request_get_param(req, "id"),
				       &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_request_respond_json(req, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
aiq_workflows_set_enabled(AiqRequest *req, gboolean enabled)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqWorkflowRow) row = NULL;
	if (!aiq_store_set_workflow_enabled(aiq_workflows_store(req),
					    aiq_request_get_tenant_id(req),
					    aiq_request_get_param(req, "id"),
					    enabled,
					    &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	row = aiq_workflows_get_param(req, &error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_workflows_respond_workflow(req, SOUP_STATUS_OK, row, 0, -1);
}

static void
aiq_route_workflows_enable(AiqRequest *req)
{
	aiq_workflows_set_enabled(req, TRUE);
}

static void
aiq_route_workflows_disable(AiqRequest *req)
{
	aiq_workflows_set_enabled(req, FALSE);
}

static JsonObject *
aiq_workflow_version_to_json(AiqWorkflowVersion *version)
{
	JsonObject *obj = json_object_new();
	json_object_set_int_member(obj, "version", version->version);
	json_object_set_string_member(obj, "digest", version->digest);
	if (version->author != NULL)
		json_object_set_string_member(obj, "author", version->author);
	else
		json_object_set_null_member(obj, "author");
	aiq_api_set_time(obj, "created", version->created_us);
	return obj;
}

static void
aiq_route_workflows_versions(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqWorkflowRow) row = NULL;
	g_autoptr(GPtrArray) versions = NULL;
	JsonArray *items;

	row = aiq_workflows_get_param(req, &error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	versions = aiq_store_list_workflow_versions(aiq_workflows_store(req),
						    row->tenant_id,
						    row->id,
						    &error);
	if (versions == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	items = json_array_new();
	for (guint i = 0; i < versions->len; i++)
		json_array_add_object_element(
			items,
			aiq_workflow_version_to_json(g_ptr_array_index(versions, i)));
	/* every version at once: no cursor */
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_api_page(items, NULL));
}

/* a version of the live workflow {id} */
static AiqWorkflowVersion *
aiq_workflows_get_version(AiqRequest *req, AiqWorkflowRow *row, gint version, GError **error)
{
	return aiq_store_get_workflow_version(aiq_workflows_store(req),
					      row->tenant_id,
					      row->id,
					      version,
					      error);
}

static void
aiq_route_workflows_version(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqWorkflowRow) row = NULL;
	g_autoptr(AiqWorkflowVersion) version = NULL;
	g_autoptr(JsonNode) definition = NULL;
	JsonObject *obj;
	gint number = 0;

	row = aiq_workflows_get_param(req, &error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	if (!aiq_workflows_parse_version(aiq_request_get_param(req, "version"),
					 "version",
					 &number,
					 &error) ||
	    (version = aiq_workflows_get_version(req, row, number, &error)) == NULL ||
	    (definition = aiq_workflows_version_tree(version, &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	obj = aiq_workflow_version_to_json(version);
	json_object_set_member(obj, "definition", g_steal_pointer(&definition));
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(obj));
}

static void
aiq_route_workflows_diff(AiqRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqWorkflowRow) row = NULL;
	g_autoptr(AiqWorkflowVersion) from = NULL;
	g_autoptr(AiqWorkflowVersion) to = NULL;
	g_autoptr(JsonNode) from_tree = NULL;
	g_autoptr(JsonNode) to_tree = NULL;
	const gchar *from_text = aiq_request_get_query(req, "from");
	const gchar *to_text = aiq_request_get_query(req, "to");
	gint from_number = 0;
	gint to_number = 0;
	JsonObject *obj;

	if ((from_text != NULL &&
	     !aiq_workflows_parse_version(from_text, "from", &from_number, &error)) ||
	    (to_text != NULL && !aiq_workflows_parse_version(to_text, "to", &to_number, &error))) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	row = aiq_workflows_get_param(req, &error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	/* by default, what the latest version changed */
	if (to_number == 0)
		to_number = row->latest_version;
	if (from_number == 0)
		from_number = to_number - 1;
	if (from_number < 1) {
		aiq_request_respond_error(
			req,
			SOUP_STATUS_BAD_REQUEST,
			"invalid_argument",
			_("from: required, as version 1 has no version before it"),
			NULL);
		return;
	}
	if ((from = aiq_workflows_get_version(req, row, from_number, &error)) == NULL ||
	    (to = aiq_workflows_get_version(req, row, to_number, &error)) == NULL ||
	    (from_tree = aiq_workflows_version_tree(from, &error)) == NULL ||
	    (to_tree = aiq_workflows_version_tree(to, &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	obj = json_object_new();
	json_object_set_int_member(obj, "from", from_number);
	json_object_set_int_member(obj, "to", to_number);
	json_object_set_array_member(obj, "changes", aiq_workflow_diff_compute(from_tree, to_tree));
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(obj));
}

static void
aiq_route_workflows_rollback(AiqRequest *req)
{
	const gchar *const members[] = { "version", NULL };
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(AiqWorkflowRow) row = NULL;
	g_autoptr(AiqWorkflowVersion) version = NULL;
	g_autoptr(JsonNode) tree = NULL;
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqDefinition) definition = NULL;
	g_autoptr(AiqWorkflowRow) updated = NULL;
	JsonObject *obj;
	AiqLimits limits;
	gint64 number = 0;
	gboolean changed = FALSE;

	row = aiq_workflows_get_param(req, &error);
	if (row == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	if ((body = aiq_request_parse_json(req, &error)) == NULL ||
	    (obj = aiq_api_body_object(body, &error)) == NULL ||
	    !aiq_api_check_members(obj, members, &error) ||
	    !aiq_api_get_int(obj, "version", 1, G_MAXINT, &number, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	if (number == 0) {
		aiq_request_respond_error(req,
					  SOUP_STATUS_UNPROCESSABLE_ENTITY,
					  "invalid_input",
					  _("version: required"),
					  NULL);
		return;
	}
	if ((version = aiq_workflows_get_version(req, row, (gint)number, &error)) == NULL ||
	    (tree = aiq_workflows_version_tree(version, &error)) == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	/* checked again: a version the server now finds invalid is not revived */
	definition = aiq_definition_new_from_node(tree, NULL, problems);
	if (definition == NULL) {
		g_autofree gchar *prefix =
			g_strdup_printf(_("version %d is no longer valid"), (gint)number);
		aiq_workflows_respond_problems(req, problems, prefix);
		return;
	}
	/* nor one over the tenant's quota of steps now */
	if (!aiq_workflows_get_limits(req, &limits) ||
	    !aiq_workflows_check_steps(req, &limits, definition))
		return;
	updated = aiq_store_update_workflow(aiq_workflows_store(req),
					    row->tenant_id,
					    row->id,
					    definition,
					    aiq_workflows_author(req),
					    &changed,
					    &error);
	if (updated == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	aiq_workflows_respond_workflow(req, SOUP_STATUS_OK, updated, 0, changed);
}

static const AiqRoute aiq_workflows_routes[] = {
	{ "POST",
	  "/api/v1/workflows",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_workflows_create,
	  AIQ_WORKFLOWS_MAX_DEFINITION_BODY,
	  "create a workflow from a definition",
	  "workflow.create" },
	{ "GET",
	  "/api/v1/workflows",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_workflows_list,
	  0,
	  "list workflows" },
	{ "GET",
	  "/api/v1/workflows/{id}",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_INLINE,
	  aiq_route_workflows_get,
	  0,
	  "a workflow with its definition" },
	{ "PUT",
	  "/api/v1/workflows/{id}",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_workflows_update,
	  AIQ_WORKFLOWS_MAX_DEFINITION_BODY,
	  "update a workflow (a new version when the definition changed)",
	  "workflow.update" },
	{ "DELETE",
	  "/api/v1/workflows/{id}",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_workflows_delete,
	  0,
	  "delete a workflow (its executions are kept)",
	  "workflow.delete" },
	{ "GET",
	  "/api/v1/workflows/{id}/versions",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_workflows_versions,
	  0,
	  "the versions of a workflow" },
	{ "GET",
	  "/api/v1/workflows/{id}/versions/{version}",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_workflows_version,
	  0,
	  "one version of a workflow" },
	{ "GET",
	  "/api/v1/workflows/{id}/diff",
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_WORKER,
	  aiq_route_workflows_diff,
	  0,
	  "what changed between two versions" },
	{ "POST",
	  "/api/v1/workflows/{id}/rollback",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_workflows_rollback,
	  0,
	  "a new version equal to an earlier one",
	  "workflow.rollback" },
	{ "POST",
	  "/api/v1/workflows/{id}/enable",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_workflows_enable,
	  0,
	  "enable a workflow",
	  "workflow.enable" },
	{ "POST",
	  "/api/v1/workflows/{id}/disable",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_workflows_disable,
	  0,
	  "disable a workflow",
	  "workflow.disable" },
};

void
aiq_routes_workflows_register(AiqServer *server)
{
	AiqRoute routes[G_N_ELEMENTS(aiq_workflows_routes)];
	gsize max_definition_body = aiq_server_get_config(server)->max_definition_body;

	/* definitions may be larger than other bodies: max-definition-body */
	memcpy(routes, aiq_workflows_routes, sizeof(routes));
	for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
		if (routes[i].max_body == AIQ_WORKFLOWS_MAX_DEFINITION_BODY &&
		    max_definition_body > 0)
			routes[i].max_body = max_definition_body;
	}
	aiq_server_add_routes(server, routes, G_N_ELEMENTS(routes));
}
