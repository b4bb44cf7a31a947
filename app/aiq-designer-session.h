/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "aiq-client.h"

G_BEGIN_DECLS

/**
 * AiqDesignerSession:
 *
 * Who the designer talks to, as whom: the server URL, the REST client with
 * the session token, the user and tenant, and the live event stream.
 *
 * The token lives in the Secret Service (never in GSettings or a file); the
 * server URL, tenant and user name live in GSettings, and so do the
 * certificates the user chose to trust, one SHA-256 fingerprint per server.
 *
 * While logged in the session keeps a WebSocket to `/api/v1/events` open
 * and re-opens it with a backoff when it drops; #AiqDesignerSession:online
 * says whether it is open. Pages listen to #AiqDesignerSession::event for
 * live updates and to #AiqDesignerSession::reconnected to reload what they
 * show after an outage.
 */
#define AIQ_DESIGNER_TYPE_SESSION (aiq_designer_session_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerSession, aiq_designer_session, AIQ_DESIGNER, SESSION, GObject)

AiqDesignerSession *
aiq_designer_session_new(GSettings *settings);

GSettings *
aiq_designer_session_get_settings(AiqDesignerSession *self);
AiqClient *
aiq_designer_session_get_client(AiqDesignerSession *self);
gboolean
aiq_designer_session_get_logged_in(AiqDesignerSession *self);
gboolean
aiq_designer_session_get_online(AiqDesignerSession *self);
const gchar *
aiq_designer_session_get_server_url(AiqDesignerSession *self);
const gchar *
aiq_designer_session_get_tenant(AiqDesignerSession *self);
const gchar *
aiq_designer_session_get_username(AiqDesignerSession *self);
const gchar *
aiq_designer_session_get_role(AiqDesignerSession *self);
gboolean
aiq_designer_session_has_role(AiqDesignerSession *self, const gchar *role);

void
aiq_designer_session_login_async(AiqDesignerSession *self,
				 const gchar *server_url,
				 const gchar *tenant,
				 const gchar *username,
				 const gchar *password,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gboolean
aiq_designer_session_login_finish(AiqDesignerSession *self, GAsyncResult *res, GError **error);
gchar *
aiq_designer_session_dup_rejected_fingerprint(AiqDesignerSession *self);
void
aiq_designer_session_trust_certificate(AiqDesignerSession *self,
				       const gchar *server_url,
				       const gchar *fingerprint);
gchar *
aiq_designer_session_dup_trusted_fingerprint(AiqDesignerSession *self, const gchar *server_url);

void
aiq_designer_session_restore_async(AiqDesignerSession *self,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data);
gboolean
aiq_designer_session_restore_finish(AiqDesignerSession *self, GAsyncResult *res, GError **error);

void
aiq_designer_session_logout_async(AiqDesignerSession *self,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
gboolean
aiq_designer_session_logout_finish(AiqDesignerSession *self, GAsyncResult *res, GError **error);

void
aiq_designer_session_reconnect(AiqDesignerSession *self);

G_END_DECLS
