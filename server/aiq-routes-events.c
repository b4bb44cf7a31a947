/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Live events: GET /api/v1/events, a WebSocket that streams the events of
 * the caller's tenant from the broker.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-broker-private.h"
#include "aiq-error.h"
#include "aiq-request-private.h"
#include "aiq-routes.h"

/*
 * How a request for the path is handled, in libsoup 3.2
 *
 * SoupServer keeps its handlers in a path map and picks the one with the
 * longest matching prefix (a plain prefix: "/api/v1/events" also takes
 * "/api/v1/events/x" and "/api/v1/eventsx"), so the router, registered for
 * every path, never sees these requests. For the handler it picks, libsoup
 * runs the early callback once the headers are read, then the normal
 * callback once the body is, then, only if no status has been set, the
 * WebSocket handshake (101, or 400), and the WebSocket callback once the 101
 * is written.
 *
 * So the normal callback below answers everything that is not a good,
 * authenticated upgrade (404, 405, 401, 403, 400, or 426 through the
 * route-table entry, whose handler is what runs for a plain GET), each with
 * the API's JSON error; a status it sets stops the handshake. A good upgrade
 * leaves the status unset and libsoup switches protocols.
 */

#define AIQ_EVENTS_PATH "/api/v1/events"

/* clients send nothing but pongs and the close; text is ignored */
#define AIQ_EVENTS_MAX_INCOMING 4096

/* pings keep an idle subscriber's socket under the idle timeout */
#define AIQ_EVENTS_MAX_KEEPALIVE_S 30

/* who asked, from the normal callback to the WebSocket callback */
typedef struct {
	AiqPrincipal *principal;
	gchar *authorization;
} AiqEventsGrant;

/* one connection: its credentials are checked again while it lives */
typedef struct {
	AiqServer *server;
	SoupWebsocketConnection *conn; /* not owned: this is its data */
	gchar *authorization;
	GSource *recheck;
} AiqEventsSession;

static void
aiq_route_events(AiqRequest *req);

static const AiqRoute aiq_events_routes[] = {
	{ "GET",
	  AIQ_EVENTS_PATH,
	  AIQ_ROLE_VIEWER,
	  AIQ_ROUTE_INLINE,
	  aiq_route_events,
	  0,
	  "live events of the tenant (a WebSocket)" },
};

static GQuark
aiq_events_grant_quark(void)
{
	return g_quark_from_static_string("aiq-events-grant");
}

static void
aiq_events_grant_free(AiqEventsGrant *grant)
{
	aiq_principal_unref(grant->principal);
	g_free(grant->authorization);
	g_free(grant);
}

static void
aiq_events_session_stop(AiqEventsSession *session)
{
	if (session->recheck == NULL)
		return;
	g_source_destroy(session->recheck);
	g_clear_pointer(&session->recheck, g_source_unref);
}

static void
aiq_events_session_free(AiqEventsSession *session)
{
	aiq_events_session_stop(session);
	g_free(session->authorization);
	g_free(session);
}

/* a plain GET: the events are only a WebSocket */
static void
aiq_route_events(AiqRequest *req)
{
	aiq_request_set_header(req, "Upgrade", "websocket");
	aiq_request_set_header(req, "Connection", "Upgrade");
	aiq_request_respond_error(
		req,
		426,
		"upgrade_required",
		_("the events are a WebSocket: connect with “Upgrade: websocket”"),
		NULL);
}

static guint
aiq_events_keepalive_s(AiqServer *server)
{
	gint64 idle_timeout_s = aiq_server_get_config(server)->idle_timeout_s;
	return (guint)CLAMP(idle_timeout_s / 2, 1, AIQ_EVENTS_MAX_KEEPALIVE_S);
}

/* the Authorization header, or `?access_token=` for browsers, which cannot
 * set headers on a WebSocket */
static gchar *
aiq_events_get_authorization(AiqRequest *req)
{
	const gchar *header = aiq_request_get_header(req, "Authorization");
	const gchar *token = aiq_request_get_query(req, "access_token");
	if (header != NULL)
		return g_strdup(header);
	if (token != NULL)
		return g_strdup_printf("Bearer %s", token);
	return NULL;
}

/* what the router does before a handler, for both ways of sending a token:
 * %AIQ_ERROR_UNAUTHENTICATED (401) or %AIQ_ERROR_FORBIDDEN (403) */
static AiqPrincipal *
aiq_events_authenticate(AiqServer *server, const gchar *authorization, GError **error)
{
	g_autoptr(AiqPrincipal) principal = NULL;
	AiqRole role = aiq_events_routes[0].role;

	if (authorization == NULL) {
		g_set_error_literal(
			error,
			AIQ_ERROR,
			AIQ_ERROR_UNAUTHENTICATED,
			_("authentication required: send Authorization: Bearer TOKEN or ?access_token=TOKEN"));
		return NULL;
	}
	principal = aiq_auth_authenticate(aiq_server_get_auth(server), authorization, error);
	if (principal == NULL)
		return NULL;
	if (!aiq_role_satisfies(principal->role, role)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FORBIDDEN,
			    _("this needs the %s role"),
			    aiq_role_to_string(role));
		return NULL;
	}
	return g_steal_pointer(&principal);
}

static void
aiq_events_handler_cb(SoupServer *soup,
		      SoupServerMessage *msg,
		      const char *path,
		      GHashTable *query,
		      gpointer user_data)
{
	AiqServer *server = AIQ_SERVER(user_data);
	g_autoptr(AiqRequest) req =
		aiq_request_new(server, msg, g_main_context_get_thread_default(), path, NULL);
	g_autoptr(AiqPrincipal) principal = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *authorization = NULL;
	AiqEventsGrant *grant;

	if (g_strcmp0(path, AIQ_EVENTS_PATH) != 0) {
		/* the prefix match brings /api/v1/events/… here too */
		aiq_request_respond_error(req,
					  SOUP_STATUS_NOT_FOUND,
					  "not_found",
					  _("no such route"),
					  NULL);
		goto out;
	}
	if (g_strcmp0(soup_server_message_get_method(msg), aiq_events_routes[0].method) != 0) {
		aiq_request_set_header(req, "Allow", aiq_events_routes[0].method);
		aiq_request_respond_error(req,
					  SOUP_STATUS_METHOD_NOT_ALLOWED,
					  "method_not_allowed",
					  _("this path does not take that method"),
					  NULL);
		goto out;
	}

	/* authentication before the upgrade, so a refusal is an HTTP answer */
	authorization = aiq_events_get_authorization(req);
	principal = aiq_events_authenticate(server, authorization, &error);
	if (principal == NULL) {
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED))
			aiq_request_set_header(req, "WWW-Authenticate", "Bearer");
		aiq_request_respond_gerror(req, error);
		goto out;
	}
	aiq_request_set_principal(req, principal);

	if (!soup_websocket_server_check_handshake(msg, NULL, NULL, NULL, &error)) {
		if (g_error_matches(error,
				    SOUP_WEBSOCKET_ERROR,
				    SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET)) {
			aiq_events_routes[0].func(req);
		} else {
			aiq_request_set_header(req, "Sec-WebSocket-Version", "13");
			aiq_request_respond_error(req,
						  SOUP_STATUS_BAD_REQUEST,
						  "invalid_argument",
						  error->message,
						  NULL);
		}
		goto out;
	}

	if (aiq_broker_is_shut_down(aiq_broker_get(server))) {
		aiq_request_set_header(req, "Connection", "close");
		aiq_request_set_header(req, "Retry-After", "5");
		aiq_request_respond_error(req,
					  SOUP_STATUS_SERVICE_UNAVAILABLE,
					  "unavailable",
					  _("the server is shutting down"),
					  NULL);
		goto out;
	}

	/* a good upgrade: no status, so libsoup goes on with the handshake and
	 * then calls aiq_events_websocket_cb() */
	soup_message_headers_replace(soup_server_message_get_response_headers(msg),
				     "X-Request-Id",
				     aiq_request_get_id(req));
	grant = g_new0(AiqEventsGrant, 1);
	grant->principal = aiq_principal_ref(principal);
	grant->authorization = g_steal_pointer(&authorization);
	g_object_set_qdata_full(G_OBJECT(msg),
				aiq_events_grant_quark(),
				grant,
				(GDestroyNotify)aiq_events_grant_free);
	return;
out:
	aiq_request_apply(req);
	g_debug("%s %s %u req=%s",
		aiq_request_get_method(req),
		aiq_request_get_path(req),
		aiq_request_get_status(req),
		aiq_request_get_id(req));
}

static void
aiq_events_close(SoupWebsocketConnection *conn, gushort code, const gchar *reason)
{
	if (soup_websocket_connection_get_state(conn) == SOUP_WEBSOCKET_STATE_OPEN)
		soup_websocket_connection_close(conn, code, reason);
}

/* a token revoked or expired, a user disabled, a tenant suspended: the
 * stream ends too */
static gboolean
aiq_events_recheck_cb(gpointer user_data)
{
	AiqEventsSession *session = user_data;
	g_autoptr(AiqPrincipal) principal = NULL;
	g_autoptr(GError) error = NULL;

	principal = aiq_events_authenticate(session->server, session->authorization, &error);
	if (principal != NULL)
		return G_SOURCE_CONTINUE;
	g_debug("events: closing a subscriber: %s", error->message);
	aiq_events_close(session->conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, error->message);
	g_clear_pointer(&session->recheck, g_source_unref);
	return G_SOURCE_REMOVE;
}

static void
aiq_events_message_cb(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer user_data)
{
	/* the stream is one way: text is ignored, binary is refused */
	if (type == SOUP_WEBSOCKET_DATA_TEXT)
		return;
	aiq_events_close(conn,
			 SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA,
			 _("binary messages are not accepted"));
}

static void
aiq_events_closed_cb(SoupWebsocketConnection *conn, gpointer user_data)
{
	aiq_events_session_stop(user_data);
}

static void
aiq_events_websocket_cb(SoupServer *soup,
			SoupServerMessage *msg,
			const char *path,
			SoupWebsocketConnection *conn,
			gpointer user_data)
{
	AiqServer *server = AIQ_SERVER(user_data);
	AiqEventsGrant *grant = g_object_get_qdata(G_OBJECT(msg), aiq_events_grant_quark());
	AiqEventsSession *session;
	guint keepalive_s = aiq_events_keepalive_s(server);

	/* set by aiq_events_handler_cb() for every request it lets through */
	g_assert(grant != NULL);

	soup_websocket_connection_set_max_incoming_payload_size(conn, AIQ_EVENTS_MAX_INCOMING);
	soup_websocket_connection_set_keepalive_interval(conn, keepalive_s);

	session = g_new0(AiqEventsSession, 1);
	session->server = server;
	session->conn = conn;
	session->authorization = g_strdup(grant->authorization);
	session->recheck = g_timeout_source_new_seconds(keepalive_s);
	g_source_set_static_name(session->recheck, "AiqEvents recheck");
	g_source_set_callback(session->recheck, aiq_events_recheck_cb, session, NULL);
	g_source_attach(session->recheck, g_main_context_get_thread_default());
	g_object_set_data_full(G_OBJECT(conn),
			       "aiq-events-session",
			       session,
			       (GDestroyNotify)aiq_events_session_free);
	g_signal_connect(conn, "message", G_CALLBACK(aiq_events_message_cb), session);
	g_signal_connect(conn, "closed", G_CALLBACK(aiq_events_closed_cb), session);

	aiq_broker_subscribe(aiq_broker_get(server), grant->principal->tenant_id, conn);
}

void
aiq_routes_events_register(AiqServer *server)
{
	aiq_server_add_routes(server, aiq_events_routes, G_N_ELEMENTS(aiq_events_routes));
	aiq_server_set_module(server, "broker", aiq_broker_new(), (GDestroyNotify)aiq_broker_free);
}

/* called for each HTTP thread, with its context the thread default */
void
aiq_routes_events_add_websocket(AiqServer *server, SoupServer *soup)
{
	/* permessage-deflate keeps ~300 KiB of zlib state per connection and
	 * compresses every event once per subscriber; events are small */
	soup_server_remove_websocket_extension(soup, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
	soup_server_add_handler(soup, AIQ_EVENTS_PATH, aiq_events_handler_cb, server, NULL);
	soup_server_add_websocket_handler(soup,
					  AIQ_EVENTS_PATH,
					  NULL,
					  NULL,
					  aiq_events_websocket_cb,
					  server,
					  NULL);
}
