/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * One row of the JSON viewer: a member or element (its key and value), or
 * a range of a large array's elements ("[1000…1999]"), so that expanding
 * an array of 100,000 elements makes at most a thousand rows at a time.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-json-item.h"

/* children shown at once; more are grouped in ranges of this size (or a
 * power of it) */
#define AIQ_DESIGNER_JSON_CHUNK 1000

struct _AiqDesignerJsonItem {
	GObject parent_instance;
	gchar *key;
	JsonNode *node;
	gboolean is_range;
	guint start;
	guint end; /* excluded */
};

G_DEFINE_TYPE(AiqDesignerJsonItem, aiq_designer_json_item, G_TYPE_OBJECT)

const gchar *
aiq_designer_json_item_get_key(AiqDesignerJsonItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_JSON_ITEM(self), NULL);
	return self->key;
}

JsonNode *
aiq_designer_json_item_get_node(AiqDesignerJsonItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_JSON_ITEM(self), NULL);
	return self->node;
}

gboolean
aiq_designer_json_item_is_range(AiqDesignerJsonItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_JSON_ITEM(self), FALSE);
	return self->is_range;
}

/* the value as one line: scalars as JSON, containers by their size */
gchar *
aiq_designer_json_item_dup_summary(AiqDesignerJsonItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_JSON_ITEM(self), NULL);
	if (self->is_range)
		return g_strdup("");
	if (self->node == NULL || JSON_NODE_HOLDS_NULL(self->node))
		return g_strdup("null");
	if (JSON_NODE_HOLDS_OBJECT(self->node)) {
		guint n = json_object_get_size(json_node_get_object(self->node));
		/* TRANSLATORS: an object of the JSON viewer, with its member count */
		return g_strdup_printf(ngettext("{ %u member }", "{ %u members }", n), n);
	}
	if (JSON_NODE_HOLDS_ARRAY(self->node)) {
		guint n = json_array_get_length(json_node_get_array(self->node));
		/* TRANSLATORS: an array of the JSON viewer, with its length */
		return g_strdup_printf(ngettext("[ %u item ]", "[ %u items ]", n), n);
	}
	{
		g_autofree gchar *text = json_to_string(self->node, FALSE);
		/* one line, and not a megabyte of it */
		if (strlen(text) > 500) {
			text[500] = '\0';
			return g_strconcat(text, "…", NULL);
		}
		return g_steal_pointer(&text);
	}
}

/**
 * aiq_designer_json_item_dup_children_of:
 * @start: the first element (arrays)
 * @end: after the last element (arrays); G_MAXUINT for all
 *
 * Returns: (transfer full) (nullable): the rows under a value, or %NULL
 *   for a scalar
 */
GListModel *
aiq_designer_json_item_dup_children_of(JsonNode *node, guint start, guint end)
{
	g_autoptr(GListStore) store = g_list_store_new(AIQ_DESIGNER_TYPE_JSON_ITEM);

	if (node == NULL)
		return NULL;
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *value;
		guint n = 0;
		json_object_iter_init(&iter, json_node_get_object(node));
		while (json_object_iter_next(&iter, &name, &value)) {
			g_autoptr(AiqDesignerJsonItem) item =
				aiq_designer_json_item_new(name, value);
			g_list_store_append(store, item);
			/* objects that large are not what people read: cut */
			if (++n >= AIQ_DESIGNER_JSON_CHUNK * 10)
				break;
		}
		return G_LIST_MODEL(g_steal_pointer(&store));
	}
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		guint len = json_array_get_length(array);
		guint count;
		guint chunk = 1;
		end = MIN(end, len);
		if (start >= end)
			return G_LIST_MODEL(g_steal_pointer(&store));
		count = end - start;
		/* the smallest power of the chunk that makes at most a chunk of rows */
		while (count / chunk > AIQ_DESIGNER_JSON_CHUNK)
			chunk *= AIQ_DESIGNER_JSON_CHUNK;
		if (count <= AIQ_DESIGNER_JSON_CHUNK)
			chunk = 1;
		if (chunk == 1) {
			for (guint i = start; i < end; i++) {
				g_autofree gchar *key = g_strdup_printf("[%u]", i);
				g_autoptr(AiqDesignerJsonItem) item = aiq_designer_json_item_new(
					key,
					json_array_get_element(array, i));
				g_list_store_append(store, item);
			}
		} else {
			for (guint i = start; i < end; i += chunk) {
				g_autoptr(AiqDesignerJsonItem) item =
					aiq_designer_json_item_new_range(node,
									 i,
									 MIN(end, i + chunk));
				g_list_store_append(store, item);
			}
		}
		return G_LIST_MODEL(g_steal_pointer(&store));
	}
	return NULL;
}

GListModel *
aiq_designer_json_item_dup_children(AiqDesignerJsonItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_JSON_ITEM(self), NULL);
	if (self->is_range)
		return aiq_designer_json_item_dup_children_of(self->node, self->start, self->end);
	return aiq_designer_json_item_dup_children_of(self->node, 0, G_MAXUINT);
}

static void
aiq_designer_json_item_finalize(GObject *object)
{
	AiqDesignerJsonItem *self = AIQ_DESIGNER_JSON_ITEM(object);
	g_free(self->key);
	g_clear_pointer(&self->node, json_node_unref);
	G_OBJECT_CLASS(aiq_designer_json_item_parent_class)->finalize(object);
}

static void
aiq_designer_json_item_class_init(AiqDesignerJsonItemClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = aiq_designer_json_item_finalize;
}

static void
aiq_designer_json_item_init(AiqDesignerJsonItem *self)
{
}

AiqDesignerJsonItem *
aiq_designer_json_item_new(const gchar *key, JsonNode *node)
{
	AiqDesignerJsonItem *self = g_object_new(AIQ_DESIGNER_TYPE_JSON_ITEM, NULL);
	self->key = g_strdup(key);
	self->node = node != NULL ? json_node_ref(node) : NULL;
	return self;
}

AiqDesignerJsonItem *
aiq_designer_json_item_new_range(JsonNode *array, guint start, guint end)
{
	AiqDesignerJsonItem *self = g_object_new(AIQ_DESIGNER_TYPE_JSON_ITEM, NULL);
	g_return_val_if_fail(array != NULL && JSON_NODE_HOLDS_ARRAY(array), NULL);
	self->key = g_strdup_printf("[%u…%u]", start, end - 1);
	self->node = json_node_ref(array);
	self->is_range = TRUE;
	self->start = start;
	self->end = end;
	return self;
}
