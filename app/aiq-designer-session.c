/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "aiq-designer-secret.h"
#include "aiq-designer-session.h"
#include "aiq-error.h"

/* reconnect backoff of the event stream */
#define AIQ_DESIGNER_RECONNECT_MIN_MS 500
#define AIQ_DESIGNER_RECONNECT_MAX_MS 15000
/* the event stream's messages are small; a bigger one is a broken server */
#define AIQ_DESIGNER_EVENT_MAX_SIZE (1024 * 1024)

struct _AiqDesignerSession {
	GObject parent_instance;
	GSettings *settings; /* nullable */
	AiqClient *client;
	gchar *server_url;
	gchar *tenant;
	gchar *username;
	gchar *role;
	gchar *token;
	gchar *rejected_fingerprint;
	gboolean logged_in;
	gboolean online;
	gboolean was_online;
	SoupWebsocketConnection *events;
	GCancellable *events_cancellable;
	guint reconnect_id;
	guint reconnect_ms;
};

G_DEFINE_TYPE(AiqDesignerSession, aiq_designer_session, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_SETTINGS,
	PROP_LOGGED_IN,
	PROP_ONLINE,
	PROP_SERVER_URL,
	PROP_TENANT,
	PROP_USERNAME,
	PROP_ROLE,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

enum {
	SIGNAL_EVENT,
	SIGNAL_RECONNECTED,
	SIGNAL_WARNING,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

static void
aiq_designer_session_connect_events(AiqDesignerSession *self);

GSettings *
aiq_designer_session_get_settings(AiqDesignerSession *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), NULL);
	return self->settings;
}

/**
 * aiq_designer_session_get_client:
 *
 * Returns: (transfer none) (nullable): the REST client, %NULL when logged out
 */
AiqClient *
aiq_designer_session_get_client(AiqDesignerSession *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), NULL);
	return self->logged_in ? self->client : NULL;
}

gboolean
aiq_designer_session_get_logged_in(AiqDesignerSession *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), FALSE);
	return self->logged_in;
}

gboolean
aiq_designer_session_get_online(AiqDesignerSession *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), FALSE);
	return self->online;
}

const gchar *
aiq_designer_session_get_server_url(AiqDesignerSession *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), NULL);
	return self->server_url;
}

const gchar *
aiq_designer_session_get_tenant(AiqDesignerSession *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), NULL);
	return self->tenant;
}

const gchar *
aiq_designer_session_get_username(AiqDesignerSession *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), NULL);
	return self->username;
}

const gchar *
aiq_designer_session_get_role(AiqDesignerSession *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), NULL);
	return self->role;
}

static gint
aiq_designer_role_rank(const gchar *role)
{
	const gchar *ranks[] = { "viewer", "editor", "tenant_admin", "platform_admin", NULL };
	for (guint i = 0; role != NULL && ranks[i] != NULL; i++) {
		if (g_strcmp0(role, ranks[i]) == 0)
			return (gint)i;
	}
	return -1;
}

/**
 * aiq_designer_session_has_role:
 * @role: viewer, editor, tenant_admin or platform_admin
 *
 * Returns: whether the user has @role or a higher one
 */
gboolean
aiq_designer_session_has_role(AiqDesignerSession *self, const gchar *role)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), FALSE);
	return self->logged_in &&
	       aiq_designer_role_rank(self->role) >= aiq_designer_role_rank(role) &&
	       aiq_designer_role_rank(role) >= 0;
}

static void
aiq_designer_session_set_online(AiqDesignerSession *self, gboolean online)
{
	if (self->online == online)
		return;
	self->online = online;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ONLINE]);
	if (online && self->was_online)
		g_signal_emit(self, signals[SIGNAL_RECONNECTED], 0);
	if (online)
		self->was_online = TRUE;
}

static void
aiq_designer_session_stop_events(AiqDesignerSession *self)
{
	g_clear_handle_id(&self->reconnect_id, g_source_remove);
	if (self->events_cancellable != NULL) {
		g_cancellable_cancel(self->events_cancellable);
		g_clear_object(&self->events_cancellable);
	}
	if (self->events != NULL) {
		g_signal_handlers_disconnect_by_data(self->events, self);
		if (soup_websocket_connection_get_state(self->events) == SOUP_WEBSOCKET_STATE_OPEN)
			soup_websocket_connection_close(self->events,
							SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
							NULL);
		g_clear_object(&self->events);
	}
	aiq_designer_session_set_online(self, FALSE);
}

static gboolean
aiq_designer_session_reconnect_cb(gpointer user_data)
{
	AiqDesignerSession *self = AIQ_DESIGNER_SESSION(user_data);
	self->reconnect_id = 0;
	aiq_designer_session_connect_events(self);
	return G_SOURCE_REMOVE;
}

static void
aiq_designer_session_schedule_reconnect(AiqDesignerSession *self)
{
	guint delay;
	if (!self->logged_in || self->reconnect_id != 0)
		return;
	if (self->reconnect_ms == 0)
		self->reconnect_ms = AIQ_DESIGNER_RECONNECT_MIN_MS;
	/* jitter: many designers of one tenant do not come back in step */
	delay = self->reconnect_ms / 2 + g_random_int_range(0, (gint32)self->reconnect_ms / 2 + 1);
	g_debug("event stream: reconnecting in %u ms", delay);
	self->reconnect_id = g_timeout_add(delay, aiq_designer_session_reconnect_cb, self);
	self->reconnect_ms = MIN(self->reconnect_ms * 2, AIQ_DESIGNER_RECONNECT_MAX_MS);
}

/**
 * aiq_designer_session_reconnect:
 *
 * Tries the event stream again now (the "Retry" of an offline banner).
 */
void
aiq_designer_session_reconnect(AiqDesignerSession *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_SESSION(self));
	if (!self->logged_in || self->online)
		return;
	aiq_designer_session_stop_events(self);
	self->reconnect_ms = AIQ_DESIGNER_RECONNECT_MIN_MS;
	aiq_designer_session_connect_events(self);
}

static void
aiq_designer_session_events_message_cb(SoupWebsocketConnection *conn,
				       gint type,
				       GBytes *message,
				       gpointer user_data)
{
	AiqDesignerSession *self = AIQ_DESIGNER_SESSION(user_data);
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const gchar *data = g_bytes_get_data(message, &len);
	JsonObject *obj;
	JsonNode *payload;
	const gchar *event_type;

	if (type != SOUP_WEBSOCKET_DATA_TEXT || len > AIQ_DESIGNER_EVENT_MAX_SIZE)
		return;
	if (!json_parser_load_from_data(parser, data, (gssize)len, &error)) {
		g_warning("event stream: not JSON: %s", error->message);
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
		return;
	obj = json_node_get_object(json_parser_get_root(parser));
	event_type = json_object_get_string_member_with_default(obj, "type", NULL);
	payload = json_object_get_member(obj, "data");
	if (event_type == NULL || payload == NULL || !JSON_NODE_HOLDS_OBJECT(payload))
		return;
	g_signal_emit(self,
		      signals[SIGNAL_EVENT],
		      g_quark_from_string(event_type),
		      event_type,
		      json_node_get_object(payload));
}

static void
aiq_designer_session_events_closed_cb(SoupWebsocketConnection *conn, gpointer user_data)
{
	AiqDesignerSession *self = AIQ_DESIGNER_SESSION(user_data);
	gushort code = soup_websocket_connection_get_close_code(conn);

	g_debug("event stream closed (%u)", code);
	g_signal_handlers_disconnect_by_data(conn, self);
	g_clear_object(&self->events);
	aiq_designer_session_set_online(self, FALSE);
	if (code == SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION) {
		/* the token was revoked or expired, or the user disabled */
		g_signal_emit(self,
			      signals[SIGNAL_WARNING],
			      0,
			      _("The server ended this session. Log in again."));
		aiq_designer_session_logout_async(self, NULL, NULL, NULL);
		return;
	}
	aiq_designer_session_schedule_reconnect(self);
}

static void
aiq_designer_session_events_connect_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerSession) self = AIQ_DESIGNER_SESSION(user_data);
	g_autoptr(GError) error = NULL;
	SoupWebsocketConnection *conn;

	conn = aiq_client_websocket_connect_finish(AIQ_CLIENT(source), res, &error);
	if (conn == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		g_debug("event stream: %s", error->message);
		g_clear_object(&self->events_cancellable);
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED)) {
			g_signal_emit(self,
				      signals[SIGNAL_WARNING],
				      0,
				      _("The session has expired. Log in again."));
			aiq_designer_session_logout_async(self, NULL, NULL, NULL);
			return;
		}
		aiq_designer_session_schedule_reconnect(self);
		return;
	}
	g_clear_object(&self->events_cancellable);
	self->events = conn;
	self->reconnect_ms = 0;
	soup_websocket_connection_set_max_incoming_payload_size(conn, AIQ_DESIGNER_EVENT_MAX_SIZE);
	soup_websocket_connection_set_keepalive_interval(conn, 20);
	g_signal_connect(conn, "message", G_CALLBACK(aiq_designer_session_events_message_cb), self);
	g_signal_connect(conn, "closed", G_CALLBACK(aiq_designer_session_events_closed_cb), self);
	aiq_designer_session_set_online(self, TRUE);
}

static void
aiq_designer_session_connect_events(AiqDesignerSession *self)
{
	if (!self->logged_in || self->events != NULL || self->events_cancellable != NULL)
		return;
	self->events_cancellable = g_cancellable_new();
	aiq_client_websocket_connect_async(self->client,
					   "/api/v1/events",
					   self->events_cancellable,
					   aiq_designer_session_events_connect_cb,
					   g_object_ref(self));
}

static void
aiq_designer_session_set_string(AiqDesignerSession *self,
				gchar **field,
				const gchar *value,
				guint prop)
{
	if (g_strcmp0(*field, value) == 0)
		return;
	g_free(*field);
	*field = g_strdup(value);
	g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

/* the client for a URL with what the user trusts for it */
static AiqClient *
aiq_designer_session_make_client(AiqDesignerSession *self, const gchar *server_url, GError **error)
{
	g_autoptr(AiqClient) client = aiq_client_new(server_url, error);
	g_autofree gchar *fingerprint = NULL;
	const gchar *ca_file = g_getenv("AIQ_DESIGNER_CA_FILE");

	if (client == NULL)
		return NULL;
	aiq_client_set_user_agent(client, "automateiq-designer/" PACKAGE_VERSION);
	aiq_client_use_environment_proxy(client);
	aiq_client_set_reuse_connections(client, TRUE);
	fingerprint = aiq_designer_session_dup_trusted_fingerprint(self, server_url);
	if (fingerprint != NULL && !aiq_client_set_pinned_fingerprint(client, fingerprint, error))
		return NULL;
	if (ca_file != NULL && ca_file[0] != '\0' &&
	    !aiq_client_set_ca_file(client, ca_file, error))
		return NULL;
	return g_steal_pointer(&client);
}

/* the token works: now we are logged in */
static void
aiq_designer_session_set_identity(AiqDesignerSession *self,
				  AiqClient *client,
				  const gchar *server_url,
				  const gchar *token,
				  JsonObject *me)
{
	g_object_freeze_notify(G_OBJECT(self));
	aiq_designer_session_stop_events(self);
	g_set_object(&self->client, client);
	g_free(self->token);
	self->token = g_strdup(token);
	aiq_designer_session_set_string(self, &self->server_url, server_url, PROP_SERVER_URL);
	aiq_designer_session_set_string(
		self,
		&self->tenant,
		json_object_get_string_member_with_default(me, "tenant", ""),
		PROP_TENANT);
	aiq_designer_session_set_string(self,
					&self->username,
					json_object_get_string_member_with_default(me, "name", ""),
					PROP_USERNAME);
	aiq_designer_session_set_string(self,
					&self->role,
					json_object_get_string_member_with_default(me, "role", ""),
					PROP_ROLE);
	if (self->settings != NULL) {
		g_settings_set_string(self->settings, "server-url", server_url);
		g_settings_set_string(self->settings, "tenant", self->tenant);
		g_settings_set_string(self->settings, "username", self->username);
	}
	self->logged_in = TRUE;
	self->was_online = FALSE;
	self->reconnect_ms = 0;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOGGED_IN]);
	g_object_thaw_notify(G_OBJECT(self));
	aiq_designer_session_connect_events(self);
}

/* login */

typedef struct {
	AiqClient *client;
	gchar *server_url;
	gchar *username;
	gchar *token;
	JsonNode *me;
} AiqDesignerLogin;

static void
aiq_designer_login_free(AiqDesignerLogin *login)
{
	g_clear_object(&login->client);
	g_free(login->server_url);
	g_free(login->username);
	if (login->token != NULL)
		memset(login->token, 0, strlen(login->token));
	g_free(login->token);
	g_clear_pointer(&login->me, json_node_unref);
	g_free(login);
}

static void
aiq_designer_session_login_stored_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	AiqDesignerSession *self = g_task_get_source_object(task);
	AiqDesignerLogin *login = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	if (!aiq_designer_secret_store_finish(res, &error)) {
		/* logged in all the same, for this run */
		g_warning("%s", error->message);
		g_signal_emit(self, signals[SIGNAL_WARNING], 0, error->message);
	}
	aiq_designer_session_set_identity(self,
					  login->client,
					  login->server_url,
					  login->token,
					  json_node_get_object(login->me));
	g_task_return_boolean(task, TRUE);
}

static void
aiq_designer_session_login_me_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	AiqDesignerLogin *login = g_task_get_task_data(task);
	GCancellable *cancellable;
	g_autoptr(GError) error = NULL;

	login->me = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (login->me == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(login->me)) {
		g_task_return_new_error(task,
					AIQ_ERROR,
					AIQ_ERROR_FAILED,
					_("The server's answer about the user is not an object"));
		return;
	}
	cancellable = g_task_get_cancellable(task);
	aiq_designer_secret_store_async(login->server_url,
					login->username,
					login->token,
					cancellable,
					aiq_designer_session_login_stored_cb,
					g_steal_pointer(&task));
}

static void
aiq_designer_session_login_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	AiqDesignerSession *self = g_task_get_source_object(task);
	AiqDesignerLogin *login = g_task_get_task_data(task);
	GCancellable *cancellable;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	const gchar *token;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		g_autoptr(GTlsCertificate) rejected =
			aiq_client_dup_rejected_certificate(login->client, NULL);
		g_clear_pointer(&self->rejected_fingerprint, g_free);
		if (rejected != NULL)
			self->rejected_fingerprint =
				aiq_client_fingerprint_from_certificate(rejected);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	token = JSON_NODE_HOLDS_OBJECT(node)
			? json_object_get_string_member_with_default(json_node_get_object(node),
								     "token",
								     NULL)
			: NULL;
	if (token == NULL) {
		g_task_return_new_error(task,
					AIQ_ERROR,
					AIQ_ERROR_FAILED,
					_("The server's login answer has no token"));
		return;
	}
	login->token = g_strdup(token);
	aiq_client_set_token(login->client, token);
	cancellable = g_task_get_cancellable(task);
	aiq_client_get_me_async(login->client,
				cancellable,
				aiq_designer_session_login_me_cb,
				g_steal_pointer(&task));
}

/* a URL as the user typed it: a scheme is added, a trailing / dropped */
static gchar *
aiq_designer_session_normalize_url(const gchar *server_url)
{
	g_autofree gchar *url = g_strstrip(g_strdup(server_url));
	gsize len;
	if (!g_str_has_prefix(url, "https://") && !g_str_has_prefix(url, "http://")) {
		gchar *tmp = g_strconcat("https://", url, NULL);
		g_free(url);
		url = tmp;
	}
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	return g_steal_pointer(&url);
}

/**
 * aiq_designer_session_login_async:
 *
 * Logs in with a password; on success the token is kept in the keyring and
 * the session is logged in. When the server's certificate is not trusted
 * the error says so and aiq_designer_session_dup_rejected_fingerprint()
 * gives its fingerprint, for the user to trust it or not.
 */
void
aiq_designer_session_login_async(AiqDesignerSession *self,
				 const gchar *server_url,
				 const gchar *tenant,
				 const gchar *username,
				 const gchar *password,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GError) error = NULL;
	AiqDesignerLogin *login;

	g_return_if_fail(AIQ_DESIGNER_IS_SESSION(self));
	g_return_if_fail(server_url != NULL && tenant != NULL);
	g_return_if_fail(username != NULL && password != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, aiq_designer_session_login_async);
	login = g_new0(AiqDesignerLogin, 1);
	g_task_set_task_data(task, login, (GDestroyNotify)aiq_designer_login_free);
	login->server_url = aiq_designer_session_normalize_url(server_url);
	login->username = g_strdup(username);
	login->client = aiq_designer_session_make_client(self, login->server_url, &error);
	if (login->client == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	aiq_client_login_async(login->client,
			       tenant,
			       username,
			       password,
			       cancellable,
			       aiq_designer_session_login_cb,
			       g_steal_pointer(&task));
}

gboolean
aiq_designer_session_login_finish(AiqDesignerSession *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * aiq_designer_session_dup_rejected_fingerprint:
 *
 * Returns: (transfer full) (nullable): the SHA-256 fingerprint of the
 *   certificate the last login refused
 */
gchar *
aiq_designer_session_dup_rejected_fingerprint(AiqDesignerSession *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), NULL);
	return g_strdup(self->rejected_fingerprint);
}

/**
 * aiq_designer_session_trust_certificate:
 * @fingerprint: (nullable): %NULL forgets what was trusted
 *
 * Remembers that the user trusts this certificate for this server.
 */
void
aiq_designer_session_trust_certificate(AiqDesignerSession *self,
				       const gchar *server_url,
				       const gchar *fingerprint)
{
	g_autoptr(GVariant) old = NULL;
	g_autofree gchar *url = NULL;
	GVariantBuilder builder;
	GVariantIter iter;
	const gchar *key, *value;

	g_return_if_fail(AIQ_DESIGNER_IS_SESSION(self));
	g_return_if_fail(server_url != NULL);
	g_return_if_fail(fingerprint == NULL || aiq_client_fingerprint_is_valid(fingerprint));
	if (self->settings == NULL)
		return;
	url = aiq_designer_session_normalize_url(server_url);
	old = g_settings_get_value(self->settings, "trusted-certificates");
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{ss}"));
	g_variant_iter_init(&iter, old);
	while (g_variant_iter_next(&iter, "{&s&s}", &key, &value)) {
		if (g_strcmp0(key, url) != 0)
			g_variant_builder_add(&builder, "{ss}", key, value);
	}
	if (fingerprint != NULL)
		g_variant_builder_add(&builder, "{ss}", url, fingerprint);
	g_settings_set_value(self->settings,
			     "trusted-certificates",
			     g_variant_builder_end(&builder));
}

/**
 * aiq_designer_session_dup_trusted_fingerprint:
 *
 * Returns: (transfer full) (nullable): the fingerprint trusted for the server
 */
gchar *
aiq_designer_session_dup_trusted_fingerprint(AiqDesignerSession *self, const gchar *server_url)
{
	g_autoptr(GVariant) trusted = NULL;
	g_autofree gchar *url = NULL;
	gchar *fingerprint = NULL;

	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(self), NULL);
	g_return_val_if_fail(server_url != NULL, NULL);
	if (self->settings == NULL)
		return NULL;
	url = aiq_designer_session_normalize_url(server_url);
	trusted = g_settings_get_value(self->settings, "trusted-certificates");
	if (!g_variant_lookup(trusted, url, "s", &fingerprint))
		return NULL;
	return fingerprint;
}

/* restore: the token kept in the keyring */

static void
aiq_designer_session_restore_me_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	AiqDesignerSession *self = g_task_get_source_object(task);
	AiqDesignerLogin *login = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	login->me = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (login->me == NULL || !JSON_NODE_HOLDS_OBJECT(login->me)) {
		if (error != NULL && g_error_matches(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED))
			aiq_designer_secret_clear_async(login->server_url,
							login->username,
							NULL,
							NULL,
							NULL);
		if (error == NULL)
			g_set_error_literal(
				&error,
				AIQ_ERROR,
				AIQ_ERROR_FAILED,
				_("The server's answer about the user is not an object"));
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	aiq_designer_session_set_identity(self,
					  login->client,
					  login->server_url,
					  login->token,
					  json_node_get_object(login->me));
	g_task_return_boolean(task, TRUE);
}

static void
aiq_designer_session_restore_lookup_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	AiqDesignerSession *self = g_task_get_source_object(task);
	AiqDesignerLogin *login = g_task_get_task_data(task);
	GCancellable *cancellable;
	g_autoptr(GError) error = NULL;
	gchar *token = aiq_designer_secret_lookup_finish(res, &error);

	if (error != NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (token == NULL) {
		g_task_return_new_error(task,
					AIQ_ERROR,
					AIQ_ERROR_NOT_FOUND,
					_("No session is kept for %s at %s"),
					login->username,
					login->server_url);
		return;
	}
	login->token = g_strdup(token);
	secret_password_free(token);
	login->client = aiq_designer_session_make_client(self, login->server_url, &error);
	if (login->client == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	aiq_client_set_token(login->client, login->token);
	cancellable = g_task_get_cancellable(task);
	aiq_client_get_me_async(login->client,
				cancellable,
				aiq_designer_session_restore_me_cb,
				g_steal_pointer(&task));
}

/**
 * aiq_designer_session_restore_async:
 *
 * Logs in with the token kept in the keyring for the last server and user.
 * Fails with %AIQ_ERROR_NOT_FOUND when there is none.
 */
void
aiq_designer_session_restore_async(AiqDesignerSession *self,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autofree gchar *server_url = NULL;
	g_autofree gchar *username = NULL;
	AiqDesignerLogin *login;

	g_return_if_fail(AIQ_DESIGNER_IS_SESSION(self));
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, aiq_designer_session_restore_async);
	if (self->settings != NULL) {
		server_url = g_settings_get_string(self->settings, "server-url");
		username = g_settings_get_string(self->settings, "username");
	}
	if (server_url == NULL || server_url[0] == '\0' || username == NULL ||
	    username[0] == '\0') {
		g_task_return_new_error(task,
					AIQ_ERROR,
					AIQ_ERROR_NOT_FOUND,
					_("No server has been used yet"));
		return;
	}
	login = g_new0(AiqDesignerLogin, 1);
	login->server_url = g_steal_pointer(&server_url);
	login->username = g_steal_pointer(&username);
	g_task_set_task_data(task, login, (GDestroyNotify)aiq_designer_login_free);
	aiq_designer_secret_lookup_async(login->server_url,
					 login->username,
					 cancellable,
					 aiq_designer_session_restore_lookup_cb,
					 g_steal_pointer(&task));
}

gboolean
aiq_designer_session_restore_finish(AiqDesignerSession *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* logout: revoke the token on the server (best effort), forget it here */

static void
aiq_designer_session_logout_cleared_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	if (!aiq_designer_secret_clear_finish(res, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
aiq_designer_session_logout_revoked_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL)
		g_debug("revoking the session token: %s", error->message);
	g_task_return_boolean(task, TRUE);
}

/**
 * aiq_designer_session_logout_async:
 *
 * Logs out at once (the session is logged out when this returns), then
 * revokes the token on the server and removes it from the keyring.
 */
void
aiq_designer_session_logout_async(AiqDesignerSession *self,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(AiqClient) client = NULL;

	g_return_if_fail(AIQ_DESIGNER_IS_SESSION(self));
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, aiq_designer_session_logout_async);
	if (!self->logged_in) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	aiq_designer_session_stop_events(self);
	client = g_steal_pointer(&self->client);
	self->logged_in = FALSE;
	g_clear_pointer(&self->token, g_free);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOGGED_IN]);

	/* the revoke goes on without the caller; the keyring is what it waits for */
	aiq_client_logout_async(client,
				NULL,
				aiq_designer_session_logout_revoked_cb,
				g_task_new(self, NULL, NULL, NULL));
	aiq_designer_secret_clear_async(self->server_url,
					self->username,
					cancellable,
					aiq_designer_session_logout_cleared_cb,
					g_steal_pointer(&task));
}

gboolean
aiq_designer_session_logout_finish(AiqDesignerSession *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
aiq_designer_session_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	AiqDesignerSession *self = AIQ_DESIGNER_SESSION(object);
	switch (prop_id) {
	case PROP_SETTINGS:
		g_value_set_object(value, self->settings);
		break;
	case PROP_LOGGED_IN:
		g_value_set_boolean(value, self->logged_in);
		break;
	case PROP_ONLINE:
		g_value_set_boolean(value, self->online);
		break;
	case PROP_SERVER_URL:
		g_value_set_string(value, self->server_url);
		break;
	case PROP_TENANT:
		g_value_set_string(value, self->tenant);
		break;
	case PROP_USERNAME:
		g_value_set_string(value, self->username);
		break;
	case PROP_ROLE:
		g_value_set_string(value, self->role);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_session_set_property(GObject *object,
				  guint prop_id,
				  const GValue *value,
				  GParamSpec *pspec)
{
	AiqDesignerSession *self = AIQ_DESIGNER_SESSION(object);
	switch (prop_id) {
	case PROP_SETTINGS:
		self->settings = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_session_dispose(GObject *object)
{
	AiqDesignerSession *self = AIQ_DESIGNER_SESSION(object);
	aiq_designer_session_stop_events(self);
	g_clear_object(&self->client);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(aiq_designer_session_parent_class)->dispose(object);
}

static void
aiq_designer_session_finalize(GObject *object)
{
	AiqDesignerSession *self = AIQ_DESIGNER_SESSION(object);
	g_free(self->server_url);
	g_free(self->tenant);
	g_free(self->username);
	g_free(self->role);
	g_free(self->token);
	g_free(self->rejected_fingerprint);
	G_OBJECT_CLASS(aiq_designer_session_parent_class)->finalize(object);
}

static void
aiq_designer_session_class_init(AiqDesignerSessionClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = aiq_designer_session_get_property;
	object_class->set_property = aiq_designer_session_set_property;
	object_class->dispose = aiq_designer_session_dispose;
	object_class->finalize = aiq_designer_session_finalize;

	props[PROP_SETTINGS] = g_param_spec_object("settings",
						   NULL,
						   NULL,
						   G_TYPE_SETTINGS,
						   G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							   G_PARAM_STATIC_STRINGS);
	props[PROP_LOGGED_IN] = g_param_spec_boolean("logged-in",
						     NULL,
						     NULL,
						     FALSE,
						     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_ONLINE] = g_param_spec_boolean("online",
						  NULL,
						  NULL,
						  FALSE,
						  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_SERVER_URL] = g_param_spec_string("server-url",
						     NULL,
						     NULL,
						     NULL,
						     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_TENANT] = g_param_spec_string("tenant",
						 NULL,
						 NULL,
						 NULL,
						 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_USERNAME] = g_param_spec_string("username",
						   NULL,
						   NULL,
						   NULL,
						   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_ROLE] = g_param_spec_string("role",
					       NULL,
					       NULL,
					       NULL,
					       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	/**
	 * AiqDesignerSession::event:
	 * @type: `execution.updated`, `step.updated` or `agent.updated` (also
	 *   the signal's detail)
	 * @data: the event's data
	 */
	signals[SIGNAL_EVENT] = g_signal_new("event",
					     G_TYPE_FROM_CLASS(klass),
					     G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
					     0,
					     NULL,
					     NULL,
					     NULL,
					     G_TYPE_NONE,
					     2,
					     G_TYPE_STRING,
					     JSON_TYPE_OBJECT);
	/* the event stream is back after an outage: reload what is shown */
	signals[SIGNAL_RECONNECTED] = g_signal_new("reconnected",
						   G_TYPE_FROM_CLASS(klass),
						   G_SIGNAL_RUN_LAST,
						   0,
						   NULL,
						   NULL,
						   NULL,
						   G_TYPE_NONE,
						   0);
	/* something the user should read, that did not stop the session */
	signals[SIGNAL_WARNING] = g_signal_new("warning",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       1,
					       G_TYPE_STRING);
}

static void
aiq_designer_session_init(AiqDesignerSession *self)
{
}

AiqDesignerSession *
aiq_designer_session_new(GSettings *settings)
{
	g_return_val_if_fail(settings == NULL || G_IS_SETTINGS(settings), NULL);
	return g_object_new(AIQ_DESIGNER_TYPE_SESSION, "settings", settings, NULL);
}
