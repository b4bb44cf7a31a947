/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * What changed between two versions of a workflow, computed from their
 * canonical definitions, as a list of changes
 * `{path, op: added|removed|changed, from?, to?}` (added has `to`, removed
 * has `from`, changed has both):
 *
 * - objects are compared member by member, nested ones too; a member only
 *   in @to is added, a member only in @from removed;
 * - steps are matched by id, not by position, and their paths name them by
 *   id, as expressions do: `steps.fetch.with.url`. A new step is one change,
 *   `steps.notify` added with the whole step; a removed one likewise. When
 *   the steps that both versions have are in another order, one change with
 *   the path `steps` gives the ids of every step, in order, before and after
 *   (a step without `needs` depends on the one before it, so order matters);
 *   an inserted step alone does not count as a reordering;
 * - triggers have no ids: equal triggers are paired first, then the others
 *   of the same kind in order, compared member by member. Their paths are
 *   `triggers[N]` with N the index in @to, or in @from for a removed
 *   trigger; triggers that only moved give one change of `triggers` as a
 *   whole;
 * - other lists are compared element by element (`with.params[1]`) when
 *   both have the same length, and as a whole otherwise.
 *
 * Other paths are written as validation problems write them
 * (aiq_path_member(): `inputs.since.default`, `with["a b"]`).
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include "aiq-problems.h"
#include "aiq-workflow-diff.h"

static void
aiq_workflow_diff_node(JsonArray *changes, const gchar *path, JsonNode *from, JsonNode *to);

static void
aiq_workflow_diff_add(JsonArray *changes,
		      const gchar *path,
		      const gchar *op,
		      JsonNode *from,
		      JsonNode *to)
{
	JsonObject *change = json_object_new();
	json_object_set_string_member(change, "path", path);
	json_object_set_string_member(change, "op", op);
	if (from != NULL)
		json_object_set_member(change, "from", json_node_copy(from));
	if (to != NULL)
		json_object_set_member(change, "to", json_node_copy(to));
	json_array_add_object_element(changes, change);
}

/* one side of a comparison by key: object members by name, steps by id */
typedef struct {
	GPtrArray *keys;   /* (element-type utf8) (transfer none), in order */
	GPtrArray *nodes;  /* (element-type JsonNode) (transfer none), the same order */
	GHashTable *index; /* key -> position + 1 */
} AiqDiffSide;

static void
aiq_diff_side_init(AiqDiffSide *side)
{
	side->keys = g_ptr_array_new();
	side->nodes = g_ptr_array_new();
	side->index = g_hash_table_new(g_str_hash, g_str_equal);
}

static void
aiq_diff_side_clear(AiqDiffSide *side)
{
	g_clear_pointer(&side->keys, g_ptr_array_unref);
	g_clear_pointer(&side->nodes, g_ptr_array_unref);
	g_clear_pointer(&side->index, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AiqDiffSide, aiq_diff_side_clear)

/* FALSE for a duplicate key */
static gboolean
aiq_diff_side_add(AiqDiffSide *side, const gchar *key, JsonNode *node)
{
	if (g_hash_table_contains(side->index, key))
		return FALSE;
	g_ptr_array_add(side->keys, (gpointer)key);
	g_ptr_array_add(side->nodes, node);
	g_hash_table_insert(side->index, (gpointer)key, GUINT_TO_POINTER(side->keys->len));
	return TRUE;
}

static void
aiq_diff_side_from_object(AiqDiffSide *side, JsonObject *obj)
{
	JsonObjectIter iter;
	const gchar *name;
	JsonNode *value;
	aiq_diff_side_init(side);
	json_object_iter_init_ordered(&iter, obj);
	while (json_object_iter_next_ordered(&iter, &name, &value))
		aiq_diff_side_add(side, name, value);
}

/* FALSE when a step has no id or shares it with another */
static gboolean
aiq_diff_side_from_steps(AiqDiffSide *side, JsonArray *steps)
{
	aiq_diff_side_init(side);
	for (guint i = 0; i < json_array_get_length(steps); i++) {
		JsonNode *step = json_array_get_element(steps, i);
		JsonNode *id;
		if (!JSON_NODE_HOLDS_OBJECT(step))
			return FALSE;
		id = json_object_get_member(json_node_get_object(step), "id");
		if (id == NULL || json_node_get_value_type(id) != G_TYPE_STRING)
			return FALSE;
		if (!aiq_diff_side_add(side, json_node_get_string(id), step))
			return FALSE;
	}
	return TRUE;
}

static void
aiq_diff_removed_key(JsonArray *changes,
		     const gchar *parent,
		     const AiqDiffSide *from,
		     const AiqDiffSide *to,
		     guint i)
{
	const gchar *key = g_ptr_array_index(from->keys, i);
	g_autofree gchar *path = NULL;
	if (g_hash_table_contains(to->index, key))
		return;
	path = aiq_path_member(parent, key);
	aiq_workflow_diff_add(changes, path, "removed", g_ptr_array_index(from->nodes, i), NULL);
}

/* pairs by key, in the order of @to, with what @from alone has placed
 * where it was */
static void
aiq_diff_keyed(JsonArray *changes, const gchar *parent, AiqDiffSide *from, AiqDiffSide *to)
{
	guint fi = 0;

	for (guint j = 0; j < to->keys->len; j++) {
		const gchar *key = g_ptr_array_index(to->keys, j);
		guint pos = GPOINTER_TO_UINT(g_hash_table_lookup(from->index, key));
		g_autofree gchar *path = aiq_path_member(parent, key);
		if (pos == 0) {
			aiq_workflow_diff_add(changes,
					      path,
					      "added",
					      NULL,
					      g_ptr_array_index(to->nodes, j));
			continue;
		}
		for (; fi < pos - 1; fi++)
			aiq_diff_removed_key(changes, parent, from, to, fi);
		fi = MAX(fi, pos);
		aiq_workflow_diff_node(changes,
				       path,
				       g_ptr_array_index(from->nodes, pos - 1),
				       g_ptr_array_index(to->nodes, j));
	}
	for (; fi < from->keys->len; fi++)
		aiq_diff_removed_key(changes, parent, from, to, fi);
}

static void
aiq_diff_object(JsonArray *changes, const gchar *path, JsonObject *from, JsonObject *to)
{
	g_auto(AiqDiffSide) a = { NULL };
	g_auto(AiqDiffSide) b = { NULL };
	aiq_diff_side_from_object(&a, from);
	aiq_diff_side_from_object(&b, to);
	aiq_diff_keyed(changes, path, &a, &b);
}

/* the keys of @side that @other has too, in the order of @side */
static JsonArray *
aiq_diff_common_keys(const AiqDiffSide *side, const AiqDiffSide *other)
{
	JsonArray *array = json_array_new();
	for (guint i = 0; i < side->keys->len; i++) {
		const gchar *key = g_ptr_array_index(side->keys, i);
		if (g_hash_table_contains(other->index, key))
			json_array_add_string_element(array, key);
	}
	return array;
}

static JsonNode *
aiq_diff_keys_node(const AiqDiffSide *side)
{
	JsonArray *array = json_array_new();
	JsonNode *node = json_node_new(JSON_NODE_ARRAY);
	for (guint i = 0; i < side->keys->len; i++)
		json_array_add_string_element(array, g_ptr_array_index(side->keys, i));
	json_node_take_array(node, array);
	return node;
}

static gboolean
aiq_diff_steps(JsonArray *changes, JsonArray *from, JsonArray *to)
{
	g_auto(AiqDiffSide) a = { NULL };
	g_auto(AiqDiffSide) b = { NULL };
	g_autoptr(JsonArray) order_a = NULL;
	g_autoptr(JsonArray) order_b = NULL;

	if (!aiq_diff_side_from_steps(&a, from) || !aiq_diff_side_from_steps(&b, to))
		return FALSE;
	order_a = aiq_diff_common_keys(&a, &b);
	order_b = aiq_diff_common_keys(&b, &a);
	if (!json_array_equal(order_a, order_b)) {
		g_autoptr(JsonNode) ids_a = aiq_diff_keys_node(&a);
		g_autoptr(JsonNode) ids_b = aiq_diff_keys_node(&b);
		aiq_workflow_diff_add(changes, "steps", "changed", ids_a, ids_b);
	}
	aiq_diff_keyed(changes, "steps", &a, &b);
	return TRUE;
}

/* `schedule` of `{"schedule": {…}}` */
static const gchar *
aiq_diff_trigger_kind(JsonNode *trigger)
{
	JsonObjectIter iter;
	const gchar *name = NULL;
	JsonNode *value;
	if (!JSON_NODE_HOLDS_OBJECT(trigger) ||
	    json_object_get_size(json_node_get_object(trigger)) != 1)
		return NULL;
	json_object_iter_init_ordered(&iter, json_node_get_object(trigger));
	if (!json_object_iter_next_ordered(&iter, &name, &value))
		return NULL;
	return name;
}

static void
aiq_diff_triggers(JsonArray *changes, JsonNode *from_node, JsonNode *to_node)
{
	JsonArray *from = json_node_get_array(from_node);
	JsonArray *to = json_node_get_array(to_node);
	guint n_from = json_array_get_length(from);
	guint n_to = json_array_get_length(to);
	g_autofree gint *to_match = g_new(gint, MAX(n_to, 1));
	g_autofree gboolean *from_used = g_new0(gboolean, MAX(n_from, 1));
	guint before = json_array_get_length(changes);

	/* equal ones first, then the others by kind, both in order */
	for (guint j = 0; j < n_to; j++) {
		to_match[j] = -1;
		for (guint i = 0; i < n_from; i++) {
			if (!from_used[i] && json_node_equal(json_array_get_element(from, i),
							     json_array_get_element(to, j))) {
				to_match[j] = (gint)i;
				from_used[i] = TRUE;
				break;
			}
		}
	}
	for (guint j = 0; j < n_to; j++) {
		const gchar *kind = aiq_diff_trigger_kind(json_array_get_element(to, j));
		if (to_match[j] >= 0 || kind == NULL)
			continue;
		for (guint i = 0; i < n_from; i++) {
			if (!from_used[i] &&
			    g_strcmp0(aiq_diff_trigger_kind(json_array_get_element(from, i)),
				      kind) == 0) {
				to_match[j] = (gint)i;
				from_used[i] = TRUE;
				break;
			}
		}
	}

	for (guint j = 0; j < n_to; j++) {
		g_autofree gchar *path = aiq_path_index("triggers", j);
		JsonNode *node = json_array_get_element(to, j);
		if (to_match[j] < 0)
			aiq_workflow_diff_add(changes, path, "added", NULL, node);
		else
			aiq_workflow_diff_node(changes,
					       path,
					       json_array_get_element(from, (guint)to_match[j]),
					       node);
	}
	for (guint i = 0; i < n_from; i++) {
		g_autofree gchar *path = NULL;
		if (from_used[i])
			continue;
		path = aiq_path_index("triggers", i);
		aiq_workflow_diff_add(changes,
				      path,
				      "removed",
				      json_array_get_element(from, i),
				      NULL);
	}
	/* the same triggers in another order */
	if (json_array_get_length(changes) == before)
		aiq_workflow_diff_add(changes, "triggers", "changed", from_node, to_node);
}

/* @from and @to differ (or not) at @path */
static void
aiq_workflow_diff_node(JsonArray *changes, const gchar *path, JsonNode *from, JsonNode *to)
{
	if (json_node_equal(from, to))
		return;
	if (JSON_NODE_HOLDS_OBJECT(from) && JSON_NODE_HOLDS_OBJECT(to)) {
		aiq_diff_object(changes,
				path,
				json_node_get_object(from),
				json_node_get_object(to));
		return;
	}
	if (JSON_NODE_HOLDS_ARRAY(from) && JSON_NODE_HOLDS_ARRAY(to)) {
		JsonArray *a = json_node_get_array(from);
		JsonArray *b = json_node_get_array(to);
		/* the top-level lists with their own matching */
		if (g_strcmp0(path, "steps") == 0 && aiq_diff_steps(changes, a, b))
			return;
		if (g_strcmp0(path, "triggers") == 0) {
			aiq_diff_triggers(changes, from, to);
			return;
		}
		if (json_array_get_length(a) == json_array_get_length(b)) {
			for (guint i = 0; i < json_array_get_length(a); i++) {
				g_autofree gchar *item = aiq_path_index(path, i);
				aiq_workflow_diff_node(changes,
						       item,
						       json_array_get_element(a, i),
						       json_array_get_element(b, i));
			}
			return;
		}
	}
	aiq_workflow_diff_add(changes, path, "changed", from, to);
}

/**
 * aiq_workflow_diff_compute:
 * @from: a canonical definition (aiq_definition_to_json())
 * @to: another
 *
 * Returns: (transfer full): the changes from @from to @to, as described at
 * the top of this file; empty when they are equal
 */
JsonArray *
aiq_workflow_diff_compute(JsonNode *from, JsonNode *to)
{
	JsonArray *changes = json_array_new();
	g_return_val_if_fail(from != NULL && to != NULL, changes);
	aiq_workflow_diff_node(changes, "", from, to);
	return changes;
}
