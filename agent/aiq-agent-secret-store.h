/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

#include "aiq-secrets.h"

G_BEGIN_DECLS

/**
 * AiqAgentSecretStore:
 *
 * The agent's local secrets, kept in its state directory encrypted at rest
 * with libsodium's secretbox. The key is a file of its own (mode 0600,
 * created on first use); each write replaces the encrypted file atomically.
 * Secrets never leave the machine: the engine reads them through
 * aiq_agent_secret_store_load() and masks their values everywhere.
 *
 * Errors: AIQ_ERROR_INVALID_ARGUMENT for a bad name or value (the message
 * never holds the value), AIQ_ERROR_PERMISSION_DENIED for a key file others
 * may read (or a symbolic link), AIQ_ERROR_JOURNAL for files that cannot be
 * read, written or decrypted (a wrong key, a changed file), each naming the
 * file. A write never replaces a file it could not read.
 */
#define AIQ_TYPE_AGENT_SECRET_STORE (aiq_agent_secret_store_get_type())
G_DECLARE_FINAL_TYPE(AiqAgentSecretStore, aiq_agent_secret_store, AIQ, AGENT_SECRET_STORE, GObject)

AiqAgentSecretStore *
aiq_agent_secret_store_new(const gchar *state_dir);
/* NAME: letters, digits and _, starting with a letter or _, at most 128 */
gboolean
aiq_agent_secret_store_set(AiqAgentSecretStore *self,
			   const gchar *name,
			   const gchar *value,
			   GError **error);
/* AIQ_ERROR_NOT_FOUND when there is no such secret */
gboolean
aiq_agent_secret_store_delete(AiqAgentSecretStore *self, const gchar *name, GError **error);
/* Returns: (transfer full): the names, sorted; an empty list when there are none */
gchar **
aiq_agent_secret_store_list(AiqAgentSecretStore *self, GError **error);
/* Returns: (transfer full): every secret, for the engine */
AiqSecrets *
aiq_agent_secret_store_load(AiqAgentSecretStore *self, GError **error);

G_END_DECLS
