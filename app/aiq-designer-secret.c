/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The session token in the Secret Service (gnome-keyring, KeePassXC, …):
 * one item per server and user, with the token as the secret. Only the
 * async libsecret calls are used, so the main loop never waits on the
 * keyring (which may be prompting to unlock).
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "aiq-designer-secret.h"

static const SecretSchema *
aiq_designer_secret_get_schema(void)
{
	static const SecretSchema schema = {
		"io.automateiq.Designer.Token",
		SECRET_SCHEMA_NONE,
		{
			{ "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
			{ "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
			{ NULL, 0 },
		},
	};
	return &schema;
}

static void
aiq_designer_secret_store_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	if (!secret_password_store_finish(res, &error)) {
		g_prefix_error(&error, "%s", _("Cannot keep the session token in the keyring: "));
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

void
aiq_designer_secret_store_async(const gchar *server_url,
				const gchar *username,
				const gchar *token,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	g_autofree gchar *label = NULL;

	g_task_set_source_tag(task, aiq_designer_secret_store_async);
	/* TRANSLATORS: the keyring item's label: user name at server URL */
	label = g_strdup_printf(_("AutomateIQ session of %s at %s"), username, server_url);
	secret_password_store(aiq_designer_secret_get_schema(),
			      SECRET_COLLECTION_DEFAULT,
			      label,
			      token,
			      cancellable,
			      aiq_designer_secret_store_cb,
			      g_steal_pointer(&task),
			      "server",
			      server_url,
			      "user",
			      username,
			      NULL);
}

gboolean
aiq_designer_secret_store_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
aiq_designer_secret_lookup_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	gchar *token = secret_password_lookup_finish(res, &error);
	if (error != NULL) {
		g_prefix_error(&error, "%s", _("Cannot read the session token from the keyring: "));
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* NULL without an error: nothing stored */
	g_task_return_pointer(task, token, (GDestroyNotify)secret_password_free);
}

void
aiq_designer_secret_lookup_async(const gchar *server_url,
				 const gchar *username,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	g_task_set_source_tag(task, aiq_designer_secret_lookup_async);
	secret_password_lookup(aiq_designer_secret_get_schema(),
			       cancellable,
			       aiq_designer_secret_lookup_cb,
			       g_steal_pointer(&task),
			       "server",
			       server_url,
			       "user",
			       username,
			       NULL);
}

/**
 * aiq_designer_secret_lookup_finish:
 *
 * Returns: (transfer full) (nullable): the token, or %NULL without an error
 *   when none is stored; free with secret_password_free()
 */
gchar *
aiq_designer_secret_lookup_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
aiq_designer_secret_clear_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	secret_password_clear_finish(res, &error);
	if (error != NULL) {
		g_prefix_error(&error,
			       "%s",
			       _("Cannot remove the session token from the keyring: "));
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

void
aiq_designer_secret_clear_async(const gchar *server_url,
				const gchar *username,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	g_task_set_source_tag(task, aiq_designer_secret_clear_async);
	secret_password_clear(aiq_designer_secret_get_schema(),
			      cancellable,
			      aiq_designer_secret_clear_cb,
			      g_steal_pointer(&task),
			      "server",
			      server_url,
			      "user",
			      username,
			      NULL);
}

gboolean
aiq_designer_secret_clear_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}
