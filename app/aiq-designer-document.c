/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "aiq-definition.h"
#include "aiq-designer-document.h"
#include "aiq-document.h"
#include "aiq-error.h"
#include "aiq-json.h"

/* undo keeps whole trees: cheap to get right, and 100 of a 500-step
 * definition are a few MiB */
#define AIQ_DESIGNER_UNDO_MAX 100

struct _AiqDesignerDocument {
	GObject parent_instance;
	JsonNode *root;  /* always an object */
	GPtrArray *undo; /* of JsonNode, oldest first */
	GPtrArray *redo;
	guint group_depth;
	gboolean group_saved;
	AiqDesignerDocumentChange group_change;
	gboolean modified;
	guint serial;
};

G_DEFINE_TYPE(AiqDesignerDocument, aiq_designer_document, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_NAME,
	PROP_MODIFIED,
	PROP_CAN_UNDO,
	PROP_CAN_REDO,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

enum {
	SIGNAL_CHANGED,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

static JsonObject *
aiq_designer_document_get_object(AiqDesignerDocument *self)
{
	return json_node_get_object(self->root);
}

static JsonArray *
aiq_designer_document_get_steps(AiqDesignerDocument *self)
{
	JsonNode *steps = json_object_get_member(aiq_designer_document_get_object(self), "steps");
	if (steps == NULL || !JSON_NODE_HOLDS_ARRAY(steps))
		return NULL;
	return json_node_get_array(steps);
}

static JsonArray *
aiq_designer_document_ensure_steps(AiqDesignerDocument *self)
{
	JsonArray *steps = aiq_designer_document_get_steps(self);
	if (steps == NULL) {
		steps = json_array_new();
		json_object_set_array_member(aiq_designer_document_get_object(self),
					     "steps",
					     steps);
	}
	return steps;
}

static void
aiq_designer_document_emit(AiqDesignerDocument *self, AiqDesignerDocumentChange change)
{
	gboolean was_modified = self->modified;
	self->serial++;
	self->modified = TRUE;
	if (self->group_depth > 0) {
		self->group_change |= change;
		return;
	}
	g_object_freeze_notify(G_OBJECT(self));
	if (!was_modified)
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_MODIFIED]);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CAN_UNDO]);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CAN_REDO]);
	if (change & AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE ||
	    change & AIQ_DESIGNER_DOCUMENT_CHANGE_CONTENT)
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_NAME]);
	g_object_thaw_notify(G_OBJECT(self));
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0, (guint)change);
}

/* before every edit: keep the tree as it was, once per group */
static void
aiq_designer_document_save_undo(AiqDesignerDocument *self)
{
	if (self->group_depth > 0) {
		if (self->group_saved)
			return;
		self->group_saved = TRUE;
	}
	g_ptr_array_add(self->undo, aiq_json_deep_copy(self->root));
	if (self->undo->len > AIQ_DESIGNER_UNDO_MAX)
		g_ptr_array_remove_index(self->undo, 0);
	g_ptr_array_set_size(self->redo, 0);
}

/**
 * aiq_designer_document_begin_group:
 *
 * Edits until the matching aiq_designer_document_end_group() are undone
 * together, and #AiqDesignerDocument::changed is emitted once at the end.
 */
void
aiq_designer_document_begin_group(AiqDesignerDocument *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self));
	if (self->group_depth++ == 0) {
		self->group_saved = FALSE;
		self->group_change = 0;
	}
}

void
aiq_designer_document_end_group(AiqDesignerDocument *self)
{
	AiqDesignerDocumentChange change;
	g_return_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self));
	g_return_if_fail(self->group_depth > 0);
	if (--self->group_depth > 0)
		return;
	change = self->group_change;
	self->group_change = 0;
	if (change != 0) {
		self->serial--; /* emit counts it again */
		aiq_designer_document_emit(self, change);
	}
}

static gboolean
aiq_designer_document_swap(AiqDesignerDocument *self, GPtrArray *from, GPtrArray *to)
{
	JsonNode *node;
	g_return_val_if_fail(self->group_depth == 0, FALSE);
	if (from->len == 0)
		return FALSE;
	node = g_ptr_array_steal_index(from, from->len - 1);
	g_ptr_array_add(to, self->root);
	self->root = node;
	aiq_designer_document_emit(self,
				   AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE |
					   AIQ_DESIGNER_DOCUMENT_CHANGE_CONTENT |
					   AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS);
	return TRUE;
}

gboolean
aiq_designer_document_undo(AiqDesignerDocument *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	return aiq_designer_document_swap(self, self->undo, self->redo);
}

gboolean
aiq_designer_document_redo(AiqDesignerDocument *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	return aiq_designer_document_swap(self, self->redo, self->undo);
}

gboolean
aiq_designer_document_can_undo(AiqDesignerDocument *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	return self->undo->len > 0;
}

gboolean
aiq_designer_document_can_redo(AiqDesignerDocument *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	return self->redo->len > 0;
}

/**
 * aiq_designer_document_load:
 * @root: a definition tree (an object); copied
 *
 * Replaces the document, forgets undo history and marks it unmodified.
 */
gboolean
aiq_designer_document_load(AiqDesignerDocument *self, JsonNode *root, GError **error)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	g_return_val_if_fail(root != NULL, FALSE);
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DEFINITION,
				    _("A workflow definition must be a mapping at its top level"));
		return FALSE;
	}
	json_node_unref(self->root);
	self->root = aiq_json_deep_copy(root);
	g_ptr_array_set_size(self->undo, 0);
	g_ptr_array_set_size(self->redo, 0);
	aiq_designer_document_emit(self,
				   AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE |
					   AIQ_DESIGNER_DOCUMENT_CHANGE_CONTENT |
					   AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS);
	aiq_designer_document_set_modified(self, FALSE);
	return TRUE;
}

/**
 * aiq_designer_document_load_data:
 * @data: YAML or JSON, within the definition limits
 */
gboolean
aiq_designer_document_load_data(AiqDesignerDocument *self,
				const gchar *data,
				gssize len,
				GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	g_return_val_if_fail(data != NULL, FALSE);
	root = aiq_document_parse(data,
				  len < 0 ? strlen(data) : (gsize)len,
				  AIQ_DOCUMENT_FORMAT_AUTO,
				  NULL,
				  error);
	if (root == NULL)
		return FALSE;
	return aiq_designer_document_load(self, root, error);
}

/**
 * aiq_designer_document_get_root:
 *
 * Returns: (transfer none): the tree; do not change it, use the setters
 */
JsonNode *
aiq_designer_document_get_root(AiqDesignerDocument *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), NULL);
	return self->root;
}

JsonNode *
aiq_designer_document_dup_root(AiqDesignerDocument *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), NULL);
	return aiq_json_deep_copy(self->root);
}

gchar *
aiq_designer_document_to_yaml(AiqDesignerDocument *self, GError **error)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), NULL);
	return aiq_yaml_emit(self->root, error);
}

/**
 * aiq_designer_document_set_yaml:
 *
 * Replaces the tree with edited YAML (or JSON), as one undoable edit. On a
 * parse error nothing changes and @error names the line.
 */
gboolean
aiq_designer_document_set_yaml(AiqDesignerDocument *self, const gchar *yaml, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	g_return_val_if_fail(yaml != NULL, FALSE);
	root = aiq_document_parse(yaml, strlen(yaml), AIQ_DOCUMENT_FORMAT_AUTO, NULL, error);
	if (root == NULL)
		return FALSE;
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DEFINITION,
				    _("A workflow definition must be a mapping at its top level"));
		return FALSE;
	}
	if (json_node_equal(root, self->root))
		return TRUE;
	aiq_designer_document_save_undo(self);
	json_node_unref(self->root);
	self->root = g_steal_pointer(&root);
	aiq_designer_document_emit(self,
				   AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE |
					   AIQ_DESIGNER_DOCUMENT_CHANGE_CONTENT |
					   AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS);
	return TRUE;
}

const gchar *
aiq_designer_document_get_name(AiqDesignerDocument *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), NULL);
	return json_object_get_string_member_with_default(aiq_designer_document_get_object(self),
							  "name",
							  "");
}

gboolean
aiq_designer_document_get_modified(AiqDesignerDocument *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	return self->modified;
}

void
aiq_designer_document_set_modified(AiqDesignerDocument *self, gboolean modified)
{
	g_return_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self));
	if (self->modified == modified)
		return;
	self->modified = modified;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_MODIFIED]);
}

/* counts every change: a view that rendered serial N need not render it again */
guint
aiq_designer_document_get_serial(AiqDesignerDocument *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), 0);
	return self->serial;
}

/**
 * aiq_designer_document_get_member:
 *
 * Returns: (transfer none) (nullable): a top-level member
 */
JsonNode *
aiq_designer_document_get_member(AiqDesignerDocument *self, const gchar *member)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), NULL);
	g_return_val_if_fail(member != NULL, NULL);
	return json_object_get_member(aiq_designer_document_get_object(self), member);
}

/**
 * aiq_designer_document_set_member:
 * @value: (nullable) (transfer none): copied; %NULL removes the member
 */
void
aiq_designer_document_set_member(AiqDesignerDocument *self, const gchar *member, JsonNode *value)
{
	JsonObject *obj;
	JsonNode *old;
	g_return_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self));
	g_return_if_fail(member != NULL);

	obj = aiq_designer_document_get_object(self);
	old = json_object_get_member(obj, member);
	if (value == NULL ? old == NULL : old != NULL && json_node_equal(old, value))
		return;
	aiq_designer_document_save_undo(self);
	if (value == NULL)
		json_object_remove_member(obj, member);
	else
		json_object_set_member(obj, member, aiq_json_deep_copy(value));
	aiq_designer_document_emit(
		self,
		g_strcmp0(member, "steps") == 0 ? AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE
		: g_strcmp0(member, "ui") == 0  ? AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS
						: AIQ_DESIGNER_DOCUMENT_CHANGE_CONTENT);
}

guint
aiq_designer_document_get_n_steps(AiqDesignerDocument *self)
{
	JsonArray *steps;
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), 0);
	steps = aiq_designer_document_get_steps(self);
	return steps != NULL ? json_array_get_length(steps) : 0;
}

/**
 * aiq_designer_document_get_step:
 *
 * Returns: (transfer none) (nullable): the step, %NULL if it is not an
 *   object (the validation lists it)
 */
JsonObject *
aiq_designer_document_get_step(AiqDesignerDocument *self, guint idx)
{
	JsonArray *steps;
	JsonNode *node;
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), NULL);
	steps = aiq_designer_document_get_steps(self);
	if (steps == NULL || idx >= json_array_get_length(steps))
		return NULL;
	node = json_array_get_element(steps, idx);
	return JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static const gchar *
aiq_designer_step_get_id(JsonObject *step)
{
	JsonNode *id = step != NULL ? json_object_get_member(step, "id") : NULL;
	if (id == NULL || json_node_get_value_type(id) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(id);
}

JsonObject *
aiq_designer_document_find_step(AiqDesignerDocument *self, const gchar *id, guint *idx)
{
	guint n;
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	n = aiq_designer_document_get_n_steps(self);
	for (guint i = 0; i < n; i++) {
		JsonObject *step = aiq_designer_document_get_step(self, i);
		if (g_strcmp0(aiq_designer_step_get_id(step), id) == 0) {
			if (idx != NULL)
				*idx = i;
			return step;
		}
	}
	return NULL;
}

static gboolean
aiq_designer_id_is_valid(const gchar *id)
{
	if (id == NULL || !(g_ascii_isalpha(id[0]) || id[0] == '_'))
		return FALSE;
	for (const gchar *p = id; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '_')
			return FALSE;
	}
	return strlen(id) <= 128;
}

/**
 * aiq_designer_document_add_step:
 * @kind: what `uses:` says
 *
 * Appends a step of @kind with a fresh id (`http_2`) at (@x, @y). It has no
 * `needs`, so, as the definition format says, it follows the step before it.
 *
 * Returns: (transfer full): the new step's id
 */
gchar *
aiq_designer_document_add_step(AiqDesignerDocument *self, const gchar *kind, gdouble x, gdouble y)
{
	g_autoptr(JsonObject) step = json_object_new();
	g_autoptr(GString) base = g_string_new(NULL);
	g_autofree gchar *id = NULL;

	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), NULL);
	g_return_val_if_fail(kind != NULL, NULL);

	for (const gchar *p = kind; *p != '\0'; p++)
		g_string_append_c(base, g_ascii_isalnum(*p) ? *p : '_');
	if (base->len == 0 || g_ascii_isdigit(base->str[0]))
		g_string_prepend(base, "step_");
	for (guint n = 1;; n++) {
		g_free(id);
		id = g_strdup_printf("%s_%u", base->str, n);
		if (aiq_designer_document_find_step(self, id, NULL) == NULL)
			break;
	}

	aiq_designer_document_begin_group(self);
	aiq_designer_document_save_undo(self);
	json_object_set_string_member(step, "id", id);
	json_object_set_string_member(step, "uses", kind);
	json_object_set_object_member(step, "with", json_object_new());
	json_array_add_object_element(aiq_designer_document_ensure_steps(self),
				      g_steal_pointer(&step));
	aiq_designer_document_emit(self, AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE);
	aiq_designer_document_set_position(self, id, x, y);
	aiq_designer_document_end_group(self);
	return g_steal_pointer(&id);
}

static JsonObject *
aiq_designer_document_get_ui_nodes(AiqDesignerDocument *self, gboolean create)
{
	JsonObject *obj = aiq_designer_document_get_object(self);
	JsonNode *ui = json_object_get_member(obj, "ui");
	JsonNode *nodes;
	if (ui == NULL || !JSON_NODE_HOLDS_OBJECT(ui)) {
		if (!create)
			return NULL;
		json_object_set_object_member(obj, "ui", json_object_new());
		ui = json_object_get_member(obj, "ui");
	}
	nodes = json_object_get_member(json_node_get_object(ui), "nodes");
	if (nodes == NULL || !JSON_NODE_HOLDS_OBJECT(nodes)) {
		if (!create)
			return NULL;
		json_object_set_object_member(json_node_get_object(ui), "nodes", json_object_new());
		nodes = json_object_get_member(json_node_get_object(ui), "nodes");
	}
	return json_node_get_object(nodes);
}

/* the explicit `needs` of a step as strings, or NULL when it has none */
static GPtrArray *
aiq_designer_step_dup_explicit_needs(JsonObject *step)
{
	JsonNode *needs = json_object_get_member(step, "needs");
	GPtrArray *result;
	if (needs == NULL)
		return NULL;
	result = g_ptr_array_new_with_free_func(g_free);
	if (JSON_NODE_HOLDS_ARRAY(needs)) {
		JsonArray *arr = json_node_get_array(needs);
		for (guint i = 0; i < json_array_get_length(arr); i++) {
			JsonNode *el = json_array_get_element(arr, i);
			if (json_node_get_value_type(el) == G_TYPE_STRING)
				g_ptr_array_add(result, g_strdup(json_node_get_string(el)));
		}
	} else if (json_node_get_value_type(needs) == G_TYPE_STRING) {
		g_ptr_array_add(result, g_strdup(json_node_get_string(needs)));
	}
	return result;
}

static GPtrArray *
aiq_designer_document_dup_needs_array(AiqDesignerDocument *self, guint idx)
{
	JsonObject *step = aiq_designer_document_get_step(self, idx);
	GPtrArray *needs = step != NULL ? aiq_designer_step_dup_explicit_needs(step) : NULL;
	if (needs != NULL)
		return needs;
	needs = g_ptr_array_new_with_free_func(g_free);
	if (idx > 0) {
		const gchar *prev =
			aiq_designer_step_get_id(aiq_designer_document_get_step(self, idx - 1));
		if (prev != NULL)
			g_ptr_array_add(needs, g_strdup(prev));
	}
	return needs;
}

static void
aiq_designer_step_set_needs(JsonObject *step, GPtrArray *needs)
{
	JsonArray *arr = json_array_new();
	for (guint i = 0; i < needs->len; i++)
		json_array_add_string_element(arr, g_ptr_array_index(needs, i));
	json_object_set_array_member(step, "needs", arr);
}

/**
 * aiq_designer_document_dup_needs:
 *
 * Returns: (transfer full): the ids the step waits for: its `needs`, or the
 *   step before it when it has none
 */
GStrv
aiq_designer_document_dup_needs(AiqDesignerDocument *self, const gchar *id)
{
	g_autoptr(GPtrArray) needs = NULL;
	guint idx;
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	if (aiq_designer_document_find_step(self, id, &idx) == NULL)
		return g_new0(gchar *, 1);
	needs = aiq_designer_document_dup_needs_array(self, idx);
	g_ptr_array_add(needs, NULL);
	return (GStrv)g_ptr_array_steal(needs, NULL);
}

/**
 * aiq_designer_document_remove_steps:
 *
 * Removes the steps, their positions and every `needs` entry naming them.
 */
void
aiq_designer_document_remove_steps(AiqDesignerDocument *self, const gchar *const *ids)
{
	JsonArray *steps;
	JsonObject *nodes;
	gboolean any = FALSE;

	g_return_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self));
	g_return_if_fail(ids != NULL);
	steps = aiq_designer_document_get_steps(self);
	if (steps == NULL)
		return;
	for (guint i = 0; ids[i] != NULL; i++)
		any |= aiq_designer_document_find_step(self, ids[i], NULL) != NULL;
	if (!any)
		return;
	aiq_designer_document_save_undo(self);
	for (guint i = json_array_get_length(steps); i > 0; i--) {
		JsonObject *step = aiq_designer_document_get_step(self, i - 1);
		if (step != NULL && g_strv_contains(ids, aiq_designer_step_get_id(step) ?: ""))
			json_array_remove_element(steps, i - 1);
	}
	for (guint i = 0; i < json_array_get_length(steps); i++) {
		JsonObject *step = aiq_designer_document_get_step(self, i);
		g_autoptr(GPtrArray) needs =
			step != NULL ? aiq_designer_step_dup_explicit_needs(step) : NULL;
		gboolean changed = FALSE;
		if (needs == NULL)
			continue;
		for (guint j = needs->len; j > 0; j--) {
			if (g_strv_contains(ids, g_ptr_array_index(needs, j - 1))) {
				g_ptr_array_remove_index(needs, j - 1);
				changed = TRUE;
			}
		}
		if (changed)
			aiq_designer_step_set_needs(step, needs);
	}
	nodes = aiq_designer_document_get_ui_nodes(self, FALSE);
	for (guint i = 0; nodes != NULL && ids[i] != NULL; i++)
		json_object_remove_member(nodes, ids[i]);
	aiq_designer_document_emit(self, AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE);
}

/* `steps.OLD` → `steps.NEW` in every string below @node */
static void
aiq_designer_rename_in_strings(JsonNode *node, GRegex *regex, const gchar *replacement)
{
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObjectIter iter;
		JsonNode *member;
		json_object_iter_init(&iter, json_node_get_object(node));
		while (json_object_iter_next(&iter, NULL, &member))
			aiq_designer_rename_in_strings(member, regex, replacement);
	} else if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *arr = json_node_get_array(node);
		for (guint i = 0; i < json_array_get_length(arr); i++)
			aiq_designer_rename_in_strings(json_array_get_element(arr, i),
						       regex,
						       replacement);
	} else if (json_node_get_value_type(node) == G_TYPE_STRING) {
		const gchar *str = json_node_get_string(node);
		if (strstr(str, "${{") != NULL) {
			g_autofree gchar *renamed =
				g_regex_replace(regex, str, -1, 0, replacement, 0, NULL);
			if (renamed != NULL && g_strcmp0(renamed, str) != 0)
				json_node_set_string(node, renamed);
		}
	}
}

/**
 * aiq_designer_document_rename_step:
 *
 * Renames a step and every reference to it: `needs`, its position, and
 * `steps.ID` in expressions.
 */
gboolean
aiq_designer_document_rename_step(AiqDesignerDocument *self,
				  const gchar *id,
				  const gchar *new_id,
				  GError **error)
{
	g_autoptr(GRegex) regex = NULL;
	g_autofree gchar *pattern = NULL;
	g_autofree gchar *replacement = NULL;
	JsonObject *step;
	JsonObject *nodes;
	guint idx;

	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	g_return_val_if_fail(id != NULL && new_id != NULL, FALSE);

	step = aiq_designer_document_find_step(self, id, &idx);
	if (step == NULL) {
		g_set_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, _("There is no step “%s”"), id);
		return FALSE;
	}
	if (g_strcmp0(id, new_id) == 0)
		return TRUE;
	if (!aiq_designer_id_is_valid(new_id)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a valid step id: use letters, digits and _, not "
			      "starting with a digit"),
			    new_id);
		return FALSE;
	}
	if (aiq_designer_document_find_step(self, new_id, NULL) != NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFLICT,
			    _("There is already a step “%s”"),
			    new_id);
		return FALSE;
	}
	aiq_designer_document_save_undo(self);
	json_object_set_string_member(step, "id", new_id);
	for (guint i = 0; i < aiq_designer_document_get_n_steps(self); i++) {
		JsonObject *other = aiq_designer_document_get_step(self, i);
		g_autoptr(GPtrArray) needs =
			other != NULL ? aiq_designer_step_dup_explicit_needs(other) : NULL;
		gboolean changed = FALSE;
		for (guint j = 0; needs != NULL && j < needs->len; j++) {
			if (g_strcmp0(g_ptr_array_index(needs, j), id) == 0) {
				g_free(g_ptr_array_index(needs, j));
				g_ptr_array_index(needs, j) = g_strdup(new_id);
				changed = TRUE;
			}
		}
		if (changed)
			aiq_designer_step_set_needs(other, needs);
	}
	nodes = aiq_designer_document_get_ui_nodes(self, FALSE);
	if (nodes != NULL && json_object_has_member(nodes, id)) {
		JsonNode *pos = aiq_json_deep_copy(json_object_get_member(nodes, id));
		json_object_remove_member(nodes, id);
		json_object_set_member(nodes, new_id, pos);
	}
	pattern = g_strdup_printf("\\bsteps\\.%s\\b", id);
	replacement = g_strdup_printf("steps.%s", new_id);
	regex = g_regex_new(pattern, G_REGEX_OPTIMIZE, 0, NULL);
	if (regex != NULL) {
		aiq_designer_rename_in_strings(
			json_object_get_member(aiq_designer_document_get_object(self), "steps"),
			regex,
			replacement);
		if (json_object_has_member(aiq_designer_document_get_object(self), "outputs"))
			aiq_designer_rename_in_strings(
				json_object_get_member(aiq_designer_document_get_object(self),
						       "outputs"),
				regex,
				replacement);
	}
	aiq_designer_document_emit(self, AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE);
	return TRUE;
}

/**
 * aiq_designer_document_set_step_member:
 * @member: `name`, `if`, `for_each`, `retry`, `timeout`, … (not `id`: see
 *   aiq_designer_document_rename_step())
 * @value: (nullable) (transfer none): copied; %NULL removes the member
 */
void
aiq_designer_document_set_step_member(AiqDesignerDocument *self,
				      const gchar *id,
				      const gchar *member,
				      JsonNode *value)
{
	JsonObject *step;
	JsonNode *old;
	g_return_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self));
	g_return_if_fail(id != NULL && member != NULL);
	g_return_if_fail(g_strcmp0(member, "id") != 0);

	step = aiq_designer_document_find_step(self, id, NULL);
	if (step == NULL)
		return;
	old = json_object_get_member(step, member);
	if (value == NULL ? old == NULL : old != NULL && json_node_equal(old, value))
		return;
	aiq_designer_document_save_undo(self);
	if (value == NULL)
		json_object_remove_member(step, member);
	else
		json_object_set_member(step, member, aiq_json_deep_copy(value));
	aiq_designer_document_emit(self,
				   g_strcmp0(member, "needs") == 0 || g_strcmp0(member, "uses") == 0
					   ? AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE
					   : AIQ_DESIGNER_DOCUMENT_CHANGE_CONTENT);
}

/**
 * aiq_designer_document_set_step_param:
 * @value: (nullable) (transfer none): copied; %NULL removes the parameter
 *
 * Sets one member of the step's `with`.
 */
void
aiq_designer_document_set_step_param(AiqDesignerDocument *self,
				     const gchar *id,
				     const gchar *param,
				     JsonNode *value)
{
	JsonObject *step;
	JsonNode *with;
	JsonNode *old = NULL;
	g_return_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self));
	g_return_if_fail(id != NULL && param != NULL);

	step = aiq_designer_document_find_step(self, id, NULL);
	if (step == NULL)
		return;
	with = json_object_get_member(step, "with");
	if (with != NULL && JSON_NODE_HOLDS_OBJECT(with))
		old = json_object_get_member(json_node_get_object(with), param);
	if (value == NULL ? old == NULL : old != NULL && json_node_equal(old, value))
		return;
	aiq_designer_document_save_undo(self);
	if (with == NULL || !JSON_NODE_HOLDS_OBJECT(with)) {
		json_object_set_object_member(step, "with", json_object_new());
		with = json_object_get_member(step, "with");
	}
	if (value == NULL)
		json_object_remove_member(json_node_get_object(with), param);
	else
		json_object_set_member(json_node_get_object(with),
				       param,
				       aiq_json_deep_copy(value));
	aiq_designer_document_emit(self, AIQ_DESIGNER_DOCUMENT_CHANGE_CONTENT);
}

/* is @target among the steps @id waits for, directly or not? */
static gboolean
aiq_designer_document_depends_on(AiqDesignerDocument *self,
				 const gchar *id,
				 const gchar *target,
				 GHashTable *seen)
{
	g_auto(GStrv) needs = NULL;
	if (g_strcmp0(id, target) == 0)
		return TRUE;
	if (!g_hash_table_add(seen, g_strdup(id)))
		return FALSE;
	needs = aiq_designer_document_dup_needs(self, id);
	for (guint i = 0; needs[i] != NULL; i++) {
		if (aiq_designer_document_depends_on(self, needs[i], target, seen))
			return TRUE;
	}
	return FALSE;
}

/**
 * aiq_designer_document_add_dependency:
 * @from_id: the step that must finish first
 * @to_id: the step that waits for it
 *
 * Adds @from_id to the `needs` of @to_id (which keeps the steps it waited
 * for already). Refuses a dependency that would make a cycle.
 */
gboolean
aiq_designer_document_add_dependency(AiqDesignerDocument *self,
				     const gchar *from_id,
				     const gchar *to_id,
				     GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) needs = NULL;
	JsonObject *to;
	guint idx;

	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	g_return_val_if_fail(from_id != NULL && to_id != NULL, FALSE);

	to = aiq_designer_document_find_step(self, to_id, &idx);
	if (to == NULL || aiq_designer_document_find_step(self, from_id, NULL) == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("There is no step “%s”"),
			    to == NULL ? to_id : from_id);
		return FALSE;
	}
	if (aiq_designer_document_depends_on(self, from_id, to_id, seen)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” cannot wait for “%s”: “%s” already waits for it, which would "
			      "make a cycle"),
			    to_id,
			    from_id,
			    from_id);
		return FALSE;
	}
	needs = aiq_designer_document_dup_needs_array(self, idx);
	for (guint i = 0; i < needs->len; i++) {
		if (g_strcmp0(g_ptr_array_index(needs, i), from_id) == 0) {
			/* already there; make an implicit one explicit all the same? no:
			 * nothing changes */
			return TRUE;
		}
	}
	aiq_designer_document_save_undo(self);
	g_ptr_array_add(needs, g_strdup(from_id));
	aiq_designer_step_set_needs(to, needs);
	aiq_designer_document_emit(self, AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE);
	return TRUE;
}

void
aiq_designer_document_remove_dependency(AiqDesignerDocument *self,
					const gchar *from_id,
					const gchar *to_id)
{
	g_autoptr(GPtrArray) needs = NULL;
	JsonObject *to;
	guint idx;
	gboolean found = FALSE;

	g_return_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self));
	g_return_if_fail(from_id != NULL && to_id != NULL);
	to = aiq_designer_document_find_step(self, to_id, &idx);
	if (to == NULL)
		return;
	needs = aiq_designer_document_dup_needs_array(self, idx);
	for (guint i = needs->len; i > 0; i--) {
		if (g_strcmp0(g_ptr_array_index(needs, i - 1), from_id) == 0) {
			g_ptr_array_remove_index(needs, i - 1);
			found = TRUE;
		}
	}
	if (!found)
		return;
	aiq_designer_document_save_undo(self);
	aiq_designer_step_set_needs(to, needs);
	aiq_designer_document_emit(self, AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE);
}

gboolean
aiq_designer_document_get_position(AiqDesignerDocument *self,
				   const gchar *id,
				   gdouble *x,
				   gdouble *y)
{
	JsonObject *nodes;
	JsonNode *pos;
	JsonObject *obj;
	JsonNode *px, *py;

	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), FALSE);
	g_return_val_if_fail(id != NULL, FALSE);
	nodes = aiq_designer_document_get_ui_nodes(self, FALSE);
	pos = nodes != NULL ? json_object_get_member(nodes, id) : NULL;
	if (pos == NULL || !JSON_NODE_HOLDS_OBJECT(pos))
		return FALSE;
	obj = json_node_get_object(pos);
	px = json_object_get_member(obj, "x");
	py = json_object_get_member(obj, "y");
	if (px == NULL || py == NULL || !JSON_NODE_HOLDS_VALUE(px) || !JSON_NODE_HOLDS_VALUE(py))
		return FALSE;
	if (x != NULL)
		*x = json_node_get_double(px);
	if (y != NULL)
		*y = json_node_get_double(py);
	return TRUE;
}

void
aiq_designer_document_set_position(AiqDesignerDocument *self, const gchar *id, gdouble x, gdouble y)
{
	g_autoptr(JsonObject) pos = json_object_new();
	gdouble old_x, old_y;

	g_return_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self));
	g_return_if_fail(id != NULL);
	/* whole units: the YAML stays readable */
	x = round(x);
	y = round(y);
	if (aiq_designer_document_get_position(self, id, &old_x, &old_y) && old_x == x &&
	    old_y == y)
		return;
	aiq_designer_document_save_undo(self);
	json_object_set_int_member(pos, "x", (gint64)x);
	json_object_set_int_member(pos, "y", (gint64)y);
	json_object_set_object_member(aiq_designer_document_get_ui_nodes(self, TRUE),
				      id,
				      g_steal_pointer(&pos));
	aiq_designer_document_emit(self, AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS);
}

/* the longest chain of dependencies before a step: its column */
static guint
aiq_designer_document_get_layer(AiqDesignerDocument *self,
				const gchar *id,
				GHashTable *layers,
				guint depth)
{
	g_auto(GStrv) needs = NULL;
	gpointer value;
	guint layer = 0;

	if (g_hash_table_lookup_extended(layers, id, NULL, &value))
		return GPOINTER_TO_UINT(value);
	/* a cycle (the validation reports it) or absurd depth: stop here */
	if (depth > 5000)
		return 0;
	g_hash_table_insert(layers, g_strdup(id), GUINT_TO_POINTER(0));
	needs = aiq_designer_document_dup_needs(self, id);
	for (guint i = 0; needs[i] != NULL; i++) {
		if (aiq_designer_document_find_step(self, needs[i], NULL) == NULL)
			continue;
		layer = MAX(layer,
			    aiq_designer_document_get_layer(self, needs[i], layers, depth + 1) + 1);
	}
	g_hash_table_insert(layers, g_strdup(id), GUINT_TO_POINTER(layer));
	return layer;
}

/**
 * aiq_designer_document_auto_layout:
 * @all: place every step, or only those without a position
 *
 * Places steps in columns by the longest chain of dependencies before
 * them, in definition order within a column, as one undoable edit.
 */
void
aiq_designer_document_auto_layout(AiqDesignerDocument *self, gboolean all)
{
	g_autoptr(GHashTable) layers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(guint));
	guint n;

	g_return_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self));
	n = aiq_designer_document_get_n_steps(self);
	aiq_designer_document_begin_group(self);
	for (guint i = 0; i < n; i++) {
		const gchar *id = aiq_designer_step_get_id(aiq_designer_document_get_step(self, i));
		guint layer;
		if (id == NULL)
			continue;
		layer = aiq_designer_document_get_layer(self, id, layers, 0);
		if (layer >= rows->len)
			g_array_set_size(rows, layer + 1);
		if (all || !aiq_designer_document_get_position(self, id, NULL, NULL))
			aiq_designer_document_set_position(self,
							   id,
							   40 + layer * AIQ_DESIGNER_LAYOUT_COLUMN,
							   40 + g_array_index(rows, guint, layer) *
									   AIQ_DESIGNER_LAYOUT_ROW);
		g_array_index(rows, guint, layer)++;
	}
	aiq_designer_document_end_group(self);
}

/**
 * aiq_designer_document_validate:
 *
 * Returns: (transfer full): the definition's problems, each with a path
 *   such as `steps[1].with.url`
 */
AiqProblems *
aiq_designer_document_validate(AiqDesignerDocument *self)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqDefinition) definition = NULL;
	g_return_val_if_fail(AIQ_DESIGNER_IS_DOCUMENT(self), NULL);
	definition = aiq_definition_new_from_node(self->root, NULL, problems);
	aiq_problems_sort(problems);
	return g_steal_pointer(&problems);
}

static void
aiq_designer_document_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	AiqDesignerDocument *self = AIQ_DESIGNER_DOCUMENT(object);
	switch (prop_id) {
	case PROP_NAME:
		g_value_set_string(value, aiq_designer_document_get_name(self));
		break;
	case PROP_MODIFIED:
		g_value_set_boolean(value, self->modified);
		break;
	case PROP_CAN_UNDO:
		g_value_set_boolean(value, aiq_designer_document_can_undo(self));
		break;
	case PROP_CAN_REDO:
		g_value_set_boolean(value, aiq_designer_document_can_redo(self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_document_finalize(GObject *object)
{
	AiqDesignerDocument *self = AIQ_DESIGNER_DOCUMENT(object);
	json_node_unref(self->root);
	g_ptr_array_unref(self->undo);
	g_ptr_array_unref(self->redo);
	G_OBJECT_CLASS(aiq_designer_document_parent_class)->finalize(object);
}

static void
aiq_designer_document_class_init(AiqDesignerDocumentClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = aiq_designer_document_get_property;
	object_class->finalize = aiq_designer_document_finalize;

	props[PROP_NAME] = g_param_spec_string("name",
					       NULL,
					       NULL,
					       NULL,
					       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_MODIFIED] = g_param_spec_boolean("modified",
						    NULL,
						    NULL,
						    FALSE,
						    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_CAN_UNDO] = g_param_spec_boolean("can-undo",
						    NULL,
						    NULL,
						    FALSE,
						    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_CAN_REDO] = g_param_spec_boolean("can-redo",
						    NULL,
						    NULL,
						    FALSE,
						    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	/**
	 * AiqDesignerDocument::changed:
	 * @change: #AiqDesignerDocumentChange flags
	 */
	signals[SIGNAL_CHANGED] = g_signal_new("changed",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       1,
					       G_TYPE_UINT);
}

static void
aiq_designer_document_init(AiqDesignerDocument *self)
{
	self->root = json_node_init_object(json_node_alloc(), json_object_new());
	self->undo = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
	self->redo = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
}

AiqDesignerDocument *
aiq_designer_document_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_DOCUMENT, NULL);
}

/**
 * aiq_designer_document_new_empty:
 *
 * A new workflow with a name, a manual trigger and no steps, unmodified.
 */
AiqDesignerDocument *
aiq_designer_document_new_empty(const gchar *name)
{
	AiqDesignerDocument *self = aiq_designer_document_new();
	JsonObject *obj = json_node_get_object(self->root);
	JsonArray *triggers = json_array_new();
	JsonObject *manual = json_object_new();
	json_object_set_string_member(obj, "name", name);
	json_object_set_object_member(manual, "manual", json_object_new());
	json_array_add_object_element(triggers, manual);
	json_object_set_array_member(obj, "triggers", triggers);
	json_object_set_array_member(obj, "steps", json_array_new());
	return self;
}
