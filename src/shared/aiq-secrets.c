/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <string.h>

#include "aiq-json.h"
#include "aiq-secrets.h"

struct _AiqSecrets {
	gint refcount;
	GMutex mutex;
	GHashTable *values; /* name -> value */
};

G_DEFINE_BOXED_TYPE(AiqSecrets, aiq_secrets, aiq_secrets_ref, aiq_secrets_unref)

static void
aiq_secret_value_free(gpointer data)
{
	gchar *value = data;
	/* do not leave secret values in freed memory */
	memset(value, 0, strlen(value));
	g_free(value);
}

AiqSecrets *
aiq_secrets_new(void)
{
	AiqSecrets *self = g_new0(AiqSecrets, 1);
	self->refcount = 1;
	g_mutex_init(&self->mutex);
	self->values =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, aiq_secret_value_free);
	return self;
}

AiqSecrets *
aiq_secrets_ref(AiqSecrets *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_int_inc(&self->refcount);
	return self;
}

void
aiq_secrets_unref(AiqSecrets *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_int_dec_and_test(&self->refcount))
		return;
	g_hash_table_unref(self->values);
	g_mutex_clear(&self->mutex);
	g_free(self);
}

void
aiq_secrets_set(AiqSecrets *self, const gchar *name, const gchar *value)
{
	g_return_if_fail(self != NULL);
	g_return_if_fail(name != NULL);
	g_return_if_fail(value != NULL);
	g_mutex_lock(&self->mutex);
	g_hash_table_replace(self->values, g_strdup(name), g_strdup(value));
	g_mutex_unlock(&self->mutex);
}

gboolean
aiq_secrets_remove(AiqSecrets *self, const gchar *name)
{
	gboolean ret;
	g_return_val_if_fail(self != NULL, FALSE);
	g_mutex_lock(&self->mutex);
	ret = g_hash_table_remove(self->values, name);
	g_mutex_unlock(&self->mutex);
	return ret;
}

/**
 * aiq_secrets_lookup:
 *
 * Returns: (transfer full) (nullable): a copy of the value
 */
gchar *
aiq_secrets_lookup(AiqSecrets *self, const gchar *name)
{
	gchar *value;
	g_return_val_if_fail(self != NULL, NULL);
	g_mutex_lock(&self->mutex);
	value = g_strdup(g_hash_table_lookup(self->values, name));
	g_mutex_unlock(&self->mutex);
	return value;
}

static gint
aiq_secrets_name_cmp(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar **)a, *(const gchar **)b);
}

gchar **
aiq_secrets_list_names(AiqSecrets *self)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;
	g_return_val_if_fail(self != NULL, NULL);
	g_mutex_lock(&self->mutex);
	g_hash_table_iter_init(&iter, self->values);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(names, g_strdup(key));
	g_mutex_unlock(&self->mutex);
	g_ptr_array_sort(names, aiq_secrets_name_cmp);
	g_ptr_array_add(names, NULL);
	return (gchar **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

gboolean
aiq_secrets_is_empty(AiqSecrets *self)
{
	gboolean ret;
	g_return_val_if_fail(self != NULL, TRUE);
	g_mutex_lock(&self->mutex);
	ret = g_hash_table_size(self->values) == 0;
	g_mutex_unlock(&self->mutex);
	return ret;
}

/* caller holds the mutex; returns NULL when nothing was masked */
static gchar *
aiq_secrets_mask_locked(AiqSecrets *self, const gchar *text)
{
	GString *str = NULL;
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->values);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const gchar *secret = value;
		const gchar *cur = str != NULL ? str->str : text;
		gsize len = strlen(secret);
		/* one- and two-character values would mask ordinary text */
		if (len < 3 || strstr(cur, secret) == NULL)
			continue;
		if (str == NULL)
			str = g_string_new(text);
		g_string_replace(str, secret, AIQ_SECRETS_MASK, 0);
	}
	return str != NULL ? g_string_free(str, FALSE) : NULL;
}

/**
 * aiq_secrets_mask_string:
 *
 * Returns: (transfer full): @text with every secret value replaced by `***`
 */
gchar *
aiq_secrets_mask_string(AiqSecrets *self, const gchar *text)
{
	gchar *masked;
	if (text == NULL)
		return NULL;
	if (self == NULL)
		return g_strdup(text);
	g_mutex_lock(&self->mutex);
	masked = aiq_secrets_mask_locked(self, text);
	g_mutex_unlock(&self->mutex);
	return masked != NULL ? masked : g_strdup(text);
}

static JsonNode *
aiq_secrets_mask_node_locked(AiqSecrets *self, JsonNode *node, guint depth)
{
	if (depth > 128)
		return NULL;
	if (aiq_json_is_string(node)) {
		g_autofree gchar *masked =
			aiq_secrets_mask_locked(self, json_node_get_string(node));
		return masked != NULL ? aiq_json_new_string(masked) : NULL;
	}
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		JsonArray *copy = NULL;
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *elem = json_array_get_element(array, i);
			JsonNode *masked = aiq_secrets_mask_node_locked(self, elem, depth + 1);
			if (masked == NULL && copy == NULL)
				continue;
			if (copy == NULL) {
				copy = json_array_sized_new(json_array_get_length(array));
				for (guint j = 0; j < i; j++)
					json_array_add_element(
						copy,
						json_node_ref(json_array_get_element(array, j)));
			}
			json_array_add_element(copy, masked != NULL ? masked : json_node_ref(elem));
		}
		return copy != NULL ? aiq_json_new_array(copy) : NULL;
	}
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *obj = json_node_get_object(node);
		g_autoptr(GList) members = json_object_get_members(obj);
		JsonObject *copy = NULL;
		gboolean changed = FALSE;
		for (GList *l = members; l != NULL; l = l->next) {
			JsonNode *masked =
				aiq_secrets_mask_node_locked(self,
							     json_object_get_member(obj, l->data),
							     depth + 1);
			if (masked != NULL) {
				json_node_unref(masked);
				changed = TRUE;
				break;
			}
		}
		if (!changed)
			return NULL;
		copy = json_object_new();
		for (GList *l = members; l != NULL; l = l->next) {
			JsonNode *member = json_object_get_member(obj, l->data);
			JsonNode *masked = aiq_secrets_mask_node_locked(self, member, depth + 1);
			g_autofree gchar *key = aiq_secrets_mask_locked(self, l->data);
			json_object_set_member(copy,
					       key != NULL ? key : l->data,
					       masked != NULL ? masked : json_node_ref(member));
		}
		return aiq_json_new_object(copy);
	}
	return NULL;
}

/**
 * aiq_secrets_mask_node:
 *
 * Returns: (transfer full): @node itself (a new reference) when it holds no
 * secret value, or a copy with every secret value replaced by `***`
 */
JsonNode *
aiq_secrets_mask_node(AiqSecrets *self, JsonNode *node)
{
	JsonNode *masked;
	if (node == NULL)
		return NULL;
	if (self == NULL)
		return json_node_ref(node);
	g_mutex_lock(&self->mutex);
	masked = g_hash_table_size(self->values) > 0 ? aiq_secrets_mask_node_locked(self, node, 0)
						     : NULL;
	g_mutex_unlock(&self->mutex);
	return masked != NULL ? masked : json_node_ref(node);
}
