/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

#include "aiq-secrets.h"

G_BEGIN_DECLS

/*
 * The PostgreSQL dsn of connection @connection with each `${{ secrets.NAME }}`
 * replaced by the value of that secret from @secrets (nullable: none), quoted
 * as libpq needs it: inside a keyword=value string every value is written
 * again in single quotes with \ and ' escaped, in a postgresql:// URI the
 * value is percent-encoded, and a dsn that is a single reference is taken
 * whole. A dsn without `${{` comes back unchanged.
 *
 * @used (nullable) receives each secret the dsn uses, to mask it in messages.
 *
 * Errors (never with a secret's value): AIQ_ERROR_NOT_FOUND for a secret
 * that is not set, AIQ_ERROR_CONFIG for any other `${{` or a dsn that libpq
 * could not parse.
 */
gchar *
aiq_sql_dsn_expand_secrets(const gchar *connection,
			   const gchar *dsn,
			   AiqSecrets *secrets,
			   AiqSecrets *used,
			   GError **error);

G_END_DECLS
