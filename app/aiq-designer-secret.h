/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* the session token in the Secret Service, keyed by server and user */

void
aiq_designer_secret_store_async(const gchar *server_url,
				const gchar *username,
				const gchar *token,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
gboolean
aiq_designer_secret_store_finish(GAsyncResult *res, GError **error);
void
aiq_designer_secret_lookup_async(const gchar *server_url,
				 const gchar *username,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gchar *
aiq_designer_secret_lookup_finish(GAsyncResult *res, GError **error);
void
aiq_designer_secret_clear_async(const gchar *server_url,
				const gchar *username,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
gboolean
aiq_designer_secret_clear_finish(GAsyncResult *res, GError **error);

G_END_DECLS
