/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * AiqSecrets:
 *
 * Named secret values, as seen by `${{ secrets.NAME }}`. Every value is
 * masked as `***` wherever the engine writes text a user or the server may
 * read: logs, errors, events and recorded outputs. Thread-safe.
 */
typedef struct _AiqSecrets AiqSecrets;

#define AIQ_TYPE_SECRETS (aiq_secrets_get_type())
GType
aiq_secrets_get_type(void);

#define AIQ_SECRETS_MASK "***"

AiqSecrets *
aiq_secrets_new(void);
AiqSecrets *
aiq_secrets_ref(AiqSecrets *self);
void
aiq_secrets_unref(AiqSecrets *self);
void
aiq_secrets_set(AiqSecrets *self, const gchar *name, const gchar *value);
gboolean
aiq_secrets_remove(AiqSecrets *self, const gchar *name);
gchar *
aiq_secrets_lookup(AiqSecrets *self, const gchar *name);
gchar **
aiq_secrets_list_names(AiqSecrets *self);
gboolean
aiq_secrets_is_empty(AiqSecrets *self);
gchar *
aiq_secrets_mask_string(AiqSecrets *self, const gchar *text);
JsonNode *
aiq_secrets_mask_node(AiqSecrets *self, JsonNode *node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqSecrets, aiq_secrets_unref)

G_END_DECLS
