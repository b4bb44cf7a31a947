/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aiq-error.h"
#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-metrics.h"
#include "aiq-request-private.h"
#include "aiq-routes.h"
#include "aiq-server.h"
#include "aiq-tls.h"

/*
 * Threads
 *
 * One HTTP thread per core, each with its own GMainContext, SoupServer and
 * listening socket; the sockets share the port with SO_REUSEPORT, so the
 * kernel spreads connections over them. The SoupServer of each thread
 * listens on its own socket; a socket timeout set when a connection's first
 * request starts (before the TLS handshake) drops clients that go quiet.
 *
 * soup_server_accept_iostream() is not used: libsoup 3.2 keeps a connection
 * alive only when the server has listeners of its own, so connections
 * handed in that way were closed after every response.
 *
 * A handler runs inline on its HTTP thread when it is a quick read, or on
 * the worker pool when it may block; its response is buffered in the
 * AiqRequest and applied back on the HTTP thread.
 */

typedef struct {
	gchar *method;
	gchar **segments;
	AiqRoute route;
	AiqMetricsRoute *metrics; /* its series, owned by the metrics */
} AiqRouteEntry;

typedef struct {
	AiqServer *server;
	guint index;
	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;
	SoupServer *soup;
	GSocket *socket;
} AiqHttpThread;

typedef struct {
	gpointer data;
	GDestroyNotify destroy;
} AiqServerModule;

typedef struct {
	GByteArray *body;
	gsize max_body;
	gboolean too_large;
	AiqRouteEntry *route;
	GHashTable *params;
	gboolean method_mismatch;
} AiqMessageState;

struct _AiqServer {
	GObject parent_instance;
	AiqServerConfig *config;
	AiqStore *store;
	AiqAuth *auth;
	GTlsCertificate *certificate;
	gchar *fingerprint;
	GPtrArray *routes; /* of AiqRouteEntry */
	AiqHttpThread *threads;
	guint n_threads;
	guint16 port;
	GThreadPool *pool;
	gint in_flight;
	gboolean running;
	gboolean stopping;
	GMainContext *main_context;
	GSource *flush_source;
	AiqClockFunc clock;
	gpointer clock_data;
	GMutex modules_mutex;
	GHashTable *modules; /* name -> AiqServerModule */
	AiqMetrics *metrics; /* the "metrics" module, kept at hand for every request */
};

G_DEFINE_TYPE(AiqServer, aiq_server, G_TYPE_OBJECT)

static GQuark aiq_message_state_quark;

static void
aiq_route_entry_free(AiqRouteEntry *entry)
{
	g_free(entry->method);
	g_strfreev(entry->segments);
	g_free(entry);
}

static void
aiq_message_state_free(AiqMessageState *state)
{
	if (state->body != NULL)
		g_byte_array_unref(state->body);
	if (state->params != NULL)
		g_hash_table_unref(state->params);
	g_free(state);
}

static void
aiq_server_module_free(AiqServerModule *module)
{
	if (module->destroy != NULL)
		module->destroy(module->data);
	g_free(module);
}

/* routes */

/**
 * aiq_server_add_routes:
 *
 * Adds routes; each domain of the API registers its own at construction.
 */
void
aiq_server_add_routes(AiqServer *self, const AiqRoute *routes, guint n_routes)
{
	g_return_if_fail(AIQ_IS_SERVER(self));
	for (guint i = 0; i < n_routes; i++) {
		AiqRouteEntry *entry = g_new0(AiqRouteEntry, 1);
		entry->route = routes[i];
		entry->method = g_strdup(routes[i].method);
		entry->segments = g_strsplit(routes[i].path + 1, "/", -1);
		if (self->metrics != NULL)
			entry->metrics = aiq_metrics_add_route(self->metrics,
							       routes[i].method,
							       routes[i].path);
		g_ptr_array_add(self->routes, entry);
	}
}

/**
 * aiq_server_list_routes:
 *
 * Returns: (transfer container) (element-type AiqRoute): every route
 */
GPtrArray *
aiq_server_list_routes(AiqServer *self)
{
	GPtrArray *result = g_ptr_array_new();
	for (guint i = 0; i < self->routes->len; i++) {
		AiqRouteEntry *entry = g_ptr_array_index(self->routes, i);
		g_ptr_array_add(result, &entry->route);
	}
	return result;
}

static gboolean
aiq_route_match(AiqRouteEntry *entry, gchar **parts, GHashTable **params)
{
	guint n = g_strv_length(entry->segments);
	if (g_strv_length(parts) != n)
		return FALSE;
	for (guint i = 0; i < n; i++) {
		const gchar *seg = entry->segments[i];
		if (seg[0] == '{')
			continue;
		if (g_strcmp0(seg, parts[i]) != 0)
			return FALSE;
	}
	*params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < n; i++) {
		const gchar *seg = entry->segments[i];
		if (seg[0] == '{') {
			g_autofree gchar *name = g_strndup(seg + 1, strlen(seg) - 2);
			g_hash_table_insert(*params,
					    g_steal_pointer(&name),
					    g_uri_unescape_string(parts[i], NULL));
		}
	}
	return TRUE;
}

static AiqRouteEntry *
aiq_server_find_route(AiqServer *self,
		      const gchar *method,
		      const gchar *path,
		      GHashTable **params,
		      gboolean *method_mismatch)
{
	g_auto(GStrv) parts = NULL;
	*method_mismatch = FALSE;
	if (path[0] != '/' || strstr(path, "//") != NULL)
		return NULL;
	parts = g_strsplit(path + 1, "/", -1);
	for (guint i = 0; i < self->routes->len; i++) {
		AiqRouteEntry *entry = g_ptr_array_index(self->routes, i);
		GHashTable *found = NULL;
		if (!aiq_route_match(entry, parts, &found))
			continue;
		if (g_strcmp0(entry->method, method) != 0) {
			*method_mismatch = TRUE;
			g_hash_table_unref(found);
			continue;
		}
		*params = found;
		return entry;
	}
	return NULL;
}

/* requests */

static void
aiq_server_got_headers_cb(SoupServerMessage *msg, gpointer user_data)
{
	AiqServer *self = AIQ_SERVER(user_data);
	AiqMessageState *state = g_object_get_qdata(G_OBJECT(msg), aiq_message_state_quark);
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	GUri *uri = soup_server_message_get_uri(msg);
	goffset length;

	state->route = aiq_server_find_route(self,
					     soup_server_message_get_method(msg),
					     g_uri_get_path(uri),
					     &state->params,
					     &state->method_mismatch);
	state->max_body = self->config->max_body;
	if (state->route != NULL && state->route->route.max_body > 0)
		state->max_body = state->route->route.max_body;
	/* the body is collected here, bounded, not by libsoup */
	soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
	length = soup_message_headers_get_content_length(headers);
	if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH &&
	    (gsize)length > state->max_body)
		state->too_large = TRUE;
}

static void
aiq_server_got_chunk_cb(SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
	AiqMessageState *state = g_object_get_qdata(G_OBJECT(msg), aiq_message_state_quark);
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(chunk, &len);
	if (state->too_large)
		return;
	if (state->body == NULL)
		state->body = g_byte_array_new();
	if (state->body->len + len > state->max_body) {
		state->too_large = TRUE;
		g_clear_pointer(&state->body, g_byte_array_unref);
		return;
	}
	g_byte_array_append(state->body, data, len);
}

static void
aiq_server_request_started_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	AiqServer *self = AIQ_SERVER(user_data);
	AiqMessageState *state = g_new0(AiqMessageState, 1);
	GSocket *socket = soup_server_message_get_socket(msg);

	/* a client that goes quiet is dropped: during the TLS handshake, while
	 * a request is read, between requests */
	if (socket != NULL)
		g_socket_set_timeout(socket, (guint)self->config->idle_timeout_s);
	g_object_set_qdata_full(G_OBJECT(msg),
				aiq_message_state_quark,
				state,
				(GDestroyNotify)aiq_message_state_free);
	g_signal_connect(msg, "got-headers", G_CALLBACK(aiq_server_got_headers_cb), self);
	g_signal_connect(msg, "got-chunk", G_CALLBACK(aiq_server_got_chunk_cb), self);
}

/* on the request's HTTP thread, once its answer is set */
static void
aiq_server_request_done(AiqRequest *req, gpointer user_data)
{
	AiqServer *self = AIQ_SERVER(user_data);
	gint64 elapsed_us = g_get_real_time() - aiq_request_get_received(req);
	AiqMessageState *state =
		g_object_get_qdata(G_OBJECT(aiq_request_get_message(req)), aiq_message_state_quark);
	AiqRouteEntry *route = state != NULL ? state->route : NULL;
	g_debug("%s %s %u %.1fms req=%s",
		aiq_request_get_method(req),
		aiq_request_get_path(req),
		aiq_request_get_status(req),
		elapsed_us / 1000.0,
		aiq_request_get_id(req));
	if (self->metrics != NULL)
		aiq_metrics_observe_request(self->metrics,
					    route != NULL ? route->metrics : NULL,
					    aiq_request_get_method(req),
					    aiq_request_get_status(req),
					    elapsed_us);
	g_atomic_int_add(&self->in_flight, -1);
}

typedef struct {
	AiqRequest *req;
	AiqRouteEntry *route;
} AiqServerJob;

static void
aiq_server_run_handler(AiqRequest *req, AiqRouteEntry *route)
{
	route->route.func(req);
	if (route->route.run == AIQ_ROUTE_ASYNC)
		return;
	if (route->route.audit != NULL)
		aiq_governance_audit_request(aiq_governance_get(aiq_request_get_server(req)),
					     req,
					     route->route.audit);
	aiq_request_finish(req);
}

static void
aiq_server_pool_func(gpointer data, gpointer user_data)
{
	AiqServerJob *job = data;
	aiq_server_run_handler(job->req, job->route);
	aiq_request_unref(job->req);
	g_free(job);
}

static void
aiq_server_unpause_cb(AiqRequest *req, gpointer user_data)
{
	aiq_server_request_done(req, user_data);
	aiq_request_resume(req);
}

/* a rate-limit refusal: at once, or held (the message paused meanwhile)
 * for a client that keeps sending far over its rate */
static void
aiq_server_answer_refusal(AiqServer *self, AiqRequest *req, SoupServerMessage *msg)
{
	if (aiq_request_get_hold(req) == 0) {
		aiq_request_apply(req);
		return;
	}
	soup_server_message_pause(msg);
	aiq_request_set_apply_func(req, aiq_server_unpause_cb, self);
	aiq_request_finish(req);
}

static void
aiq_server_handler_cb(SoupServer *soup,
		      SoupServerMessage *msg,
		      const char *path,
		      GHashTable *query,
		      gpointer user_data)
{
	AiqHttpThread *thread = user_data;
	AiqServer *self = thread->server;
	AiqMessageState *state = g_object_get_qdata(G_OBJECT(msg), aiq_message_state_quark);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(AiqRequest) req = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqPrincipal) principal = NULL;
	AiqRouteEntry *route;

	if (state != NULL && state->body != NULL)
		body = g_byte_array_free_to_bytes(g_steal_pointer(&state->body));
	req = aiq_request_new(self, msg, thread->context, path, body);
	g_atomic_int_inc(&self->in_flight);
	aiq_request_set_apply_func(req, aiq_server_request_done, self);

	if (self->stopping) {
		aiq_request_set_header(req, "Connection", "close");
		aiq_request_set_header(req, "Retry-After", "5");
		aiq_request_respond_error(req,
					  SOUP_STATUS_SERVICE_UNAVAILABLE,
					  "unavailable",
					  _("the server is shutting down"),
					  NULL);
		aiq_request_apply(req);
		return;
	}
	if (state == NULL || state->too_large) {
		g_autofree gchar *limit = g_format_size_full(state != NULL ? state->max_body : 0,
							     G_FORMAT_SIZE_IEC_UNITS);
		g_autofree gchar *message =
			g_strdup_printf(_("the request body is over the %s limit"), limit);
		aiq_request_set_header(req, "Connection", "close");
		aiq_request_respond_error(req,
					  SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
					  "too_large",
					  message,
					  NULL);
		aiq_request_apply(req);
		return;
	}
	route = state->route;
	if (route == NULL) {
		if (state->method_mismatch)
			aiq_request_respond_error(req,
						  SOUP_STATUS_METHOD_NOT_ALLOWED,
						  "method_not_allowed",
						  _("this path does not take that method"),
						  NULL);
		else
			aiq_request_respond_error(req,
						  SOUP_STATUS_NOT_FOUND,
						  "not_found",
						  _("no such route"),
						  NULL);
		aiq_request_apply(req);
		return;
	}
	aiq_request_set_params(req, state->params);

	/* logins and enrollments: a budget per source address */
	if ((route->route.flags & AIQ_ROUTE_LIMIT_ADDRESS) != 0 &&
	    !aiq_governance_check_address(aiq_governance_get(self), req)) {
		aiq_server_answer_refusal(self, req, msg);
		return;
	}

	/* authentication first, on every route that needs it; then the
	 * rate limits of the principal's tenant and credential, then its role */
	if (route->route.role != AIQ_ROLE_NONE) {
		principal = aiq_auth_authenticate(
			self->auth,
			soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
						     "Authorization"),
			&error);
		if (principal == NULL) {
			if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED))
				aiq_request_set_header(req, "WWW-Authenticate", "Bearer");
			aiq_request_respond_gerror(req, error);
			aiq_request_apply(req);
			return;
		}
		aiq_request_set_principal(req, principal);
		if (!aiq_governance_check_principal(aiq_governance_get(self), req, principal)) {
			aiq_server_answer_refusal(self, req, msg);
			return;
		}
		if (!aiq_role_satisfies(principal->role, route->route.role)) {
			g_autofree gchar *message =
				g_strdup_printf(_("this needs the %s role"),
						aiq_role_to_string(route->route.role));
			aiq_request_respond_error(req,
						  SOUP_STATUS_FORBIDDEN,
						  "forbidden",
						  message,
						  NULL);
			if (route->route.audit != NULL)
				aiq_governance_audit_request(aiq_governance_get(self),
							     req,
							     route->route.audit);
			aiq_request_apply(req);
			return;
		}
	}

	if (route->route.run == AIQ_ROUTE_INLINE) {
		route->route.func(req);
		if (route->route.audit != NULL)
			aiq_governance_audit_request(aiq_governance_get(self),
						     req,
						     route->route.audit);
		aiq_request_apply(req);
		return;
	}
	/* blocking work goes to the pool; the answer comes back here */
	{
		AiqServerJob *job = g_new0(AiqServerJob, 1);
		job->req = aiq_request_ref(req);
		job->route = route;
		soup_server_message_pause(msg);
		aiq_request_set_apply_func(req, aiq_server_unpause_cb, self);
		g_thread_pool_push(self->pool, job, NULL);
	}
}

static gpointer
aiq_http_thread_func(gpointer user_data)
{
	AiqHttpThread *thread = user_data;
	g_main_context_push_thread_default(thread->context);
	g_main_loop_run(thread->loop);
	g_main_context_pop_thread_default(thread->context);
	return NULL;
}

/* a listening socket with SO_REUSEPORT; made with POSIX calls because
 * g_socket_bind() clears SO_REUSEPORT on stream sockets */
static GSocket *
aiq_server_listen_socket(AiqServer *self, guint16 port, GError **error)
{
	g_autoptr(GInetAddress) address = NULL;
	g_autoptr(GSocketAddress) sockaddr = NULL;
	const gchar *host = self->config->listen;
	struct sockaddr_storage native;
	gint fd;
	gint one = 1;
	GSocket *result;

	address = g_strcmp0(host, "localhost") == 0
			  ? g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4)
			  : g_inet_address_new_from_string(host);
	sockaddr = g_inet_socket_address_new(address, port);
	if (!g_socket_address_to_native(sockaddr, &native, sizeof(native), error))
		return NULL;
	fd = socket(g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET,
		    SOCK_STREAM | SOCK_CLOEXEC,
		    IPPROTO_TCP);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&native, g_socket_address_get_native_size(sockaddr)) != 0 ||
	    listen(fd, 1024) != 0) {
		gint errsv = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    _("cannot listen on %s:%u: %s"),
			    host,
			    port,
			    g_strerror(errsv));
		aiq_error_convert(error);
		return NULL;
	}
	result = g_socket_new_from_fd(fd, error);
	if (result == NULL)
		close(fd);
	return result;
}

/* periodic work on the main context: write last-used times */
static gboolean
aiq_server_flush_cb(gpointer user_data)
{
	AiqServer *self = AIQ_SERVER(user_data);
	aiq_auth_flush(self->auth);
	return G_SOURCE_CONTINUE;
}

/**
 * aiq_server_start:
 *
 * Listens and serves, on threads of its own; returns at once.
 */
gboolean
aiq_server_start(AiqServer *self, GError **error)
{
	g_return_val_if_fail(AIQ_IS_SERVER(self), FALSE);
	g_return_val_if_fail(!self->running, FALSE);

	self->n_threads = MAX(self->config->threads, 1);
	self->threads = g_new0(AiqHttpThread, self->n_threads);
	self->port = self->config->port;
	for (guint i = 0; i < self->n_threads; i++) {
		AiqHttpThread *thread = &self->threads[i];
		thread->server = self;
		thread->index = i;
		thread->socket = aiq_server_listen_socket(self, self->port, error);
		if (thread->socket == NULL)
			return FALSE;
		if (self->port == 0) {
			g_autoptr(GSocketAddress) local =
				g_socket_get_local_address(thread->socket, NULL);
			self->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
		}
	}
	for (guint i = 0; i < self->n_threads; i++) {
		AiqHttpThread *thread = &self->threads[i];
		g_autofree gchar *name = g_strdup_printf("aiq-http-%u", i);
		thread->context = g_main_context_new();
		thread->loop = g_main_loop_new(thread->context, FALSE);
		g_main_context_push_thread_default(thread->context);
		thread->soup = soup_server_new("server-header",
					       "AutomateIQ",
					       "tls-certificate",
					       self->certificate,
					       NULL);
		g_signal_connect(thread->soup,
				 "request-started",
				 G_CALLBACK(aiq_server_request_started_cb),
				 self);
		soup_server_add_handler(thread->soup, NULL, aiq_server_handler_cb, thread, NULL);
		aiq_routes_add_websocket_handlers(self, thread->soup);
		if (!soup_server_listen_socket(thread->soup,
					       thread->socket,
					       self->certificate != NULL ? SOUP_SERVER_LISTEN_HTTPS
									 : 0,
					       error)) {
			aiq_error_convert(error);
			g_main_context_pop_thread_default(thread->context);
			return FALSE;
		}
		g_main_context_pop_thread_default(thread->context);
		thread->thread = g_thread_new(name, aiq_http_thread_func, thread);
	}
	self->flush_source = g_timeout_source_new_seconds(10);
	g_source_set_callback(self->flush_source, aiq_server_flush_cb, self, NULL);
	g_source_attach(self->flush_source, self->main_context);
	if (!aiq_routes_start(self, error))
		return FALSE;
	self->running = TRUE;
	g_info("listening on %s:%u (%s, %u threads)",
	       self->config->listen,
	       self->port,
	       self->certificate != NULL ? "HTTPS" : "HTTP",
	       self->n_threads);
	return TRUE;
}

static gboolean
aiq_server_quit_loop_cb(gpointer user_data)
{
	AiqHttpThread *thread = user_data;
	soup_server_disconnect(thread->soup);
	g_main_loop_quit(thread->loop);
	return G_SOURCE_REMOVE;
}

static gboolean
aiq_server_stop_accepting_cb(gpointer user_data)
{
	AiqHttpThread *thread = user_data;
	/* shutting down the read side of a listening socket makes Linux refuse
	 * new connections and fail the pending accept, which ends libsoup's
	 * accept source; connections already open carry on */
	g_socket_shutdown(thread->socket, TRUE, FALSE, NULL);
	return G_SOURCE_REMOVE;
}

static void
aiq_server_invoke(GMainContext *context, GSourceFunc func, gpointer data)
{
	GSource *source = g_idle_source_new();
	g_source_set_callback(source, func, data, NULL);
	g_source_attach(source, context);
	g_source_unref(source);
}

/**
 * aiq_server_stop:
 *
 * Graceful: stops accepting connections, lets requests in flight finish
 * (up to 10 s), stops the threads and closes the store.
 */
void
aiq_server_stop(AiqServer *self)
{
	gint64 deadline;
	g_return_if_fail(AIQ_IS_SERVER(self));
	if (!self->running)
		return;
	self->stopping = TRUE;
	aiq_routes_stop(self);
	for (guint i = 0; i < self->n_threads; i++)
		aiq_server_invoke(self->threads[i].context,
				  aiq_server_stop_accepting_cb,
				  &self->threads[i]);
	deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (g_atomic_int_get(&self->in_flight) > 0 && g_get_monotonic_time() < deadline)
		g_usleep(10000);
	if (g_atomic_int_get(&self->in_flight) > 0)
		g_warning("%d requests still running at shutdown",
			  g_atomic_int_get(&self->in_flight));
	for (guint i = 0; i < self->n_threads; i++) {
		AiqHttpThread *thread = &self->threads[i];
		aiq_server_invoke(thread->context, aiq_server_quit_loop_cb, thread);
		g_thread_join(g_steal_pointer(&thread->thread));
	}
	g_thread_pool_free(g_steal_pointer(&self->pool), FALSE, TRUE);
	if (self->flush_source != NULL) {
		g_source_destroy(self->flush_source);
		g_clear_pointer(&self->flush_source, g_source_unref);
	}
	aiq_auth_flush(self->auth);
	aiq_store_close(self->store, NULL);
	self->running = FALSE;
	g_info("stopped");
}

guint16
aiq_server_get_port(AiqServer *self)
{
	g_return_val_if_fail(AIQ_IS_SERVER(self), 0);
	return self->port;
}

gchar *
aiq_server_get_url(AiqServer *self)
{
	const gchar *host = self->config->listen;
	g_return_val_if_fail(AIQ_IS_SERVER(self), NULL);
	if (self->config->public_url != NULL)
		return g_strdup(self->config->public_url);
	if (g_strcmp0(host, "0.0.0.0") == 0 || g_strcmp0(host, "localhost") == 0)
		host = "127.0.0.1";
	return g_strdup_printf("%s://%s%s%s:%u",
			       self->certificate != NULL ? "https" : "http",
			       strchr(host, ':') != NULL ? "[" : "",
			       host,
			       strchr(host, ':') != NULL ? "]" : "",
			       self->port);
}

const gchar *
aiq_server_get_fingerprint(AiqServer *self)
{
	return self->fingerprint;
}

AiqServerConfig *
aiq_server_get_config(AiqServer *self)
{
	return self->config;
}

AiqStore *
aiq_server_get_store(AiqServer *self)
{
	return self->store;
}

AiqAuth *
aiq_server_get_auth(AiqServer *self)
{
	return self->auth;
}

GMainContext *
aiq_server_get_main_context(AiqServer *self)
{
	return self->main_context;
}

guint
aiq_server_get_in_flight(AiqServer *self)
{
	return (guint)g_atomic_int_get(&self->in_flight);
}

/**
 * aiq_server_set_clock:
 * @func: (nullable): the time in microseconds since the epoch; %NULL for
 *   the real clock. Tests move it to drive schedules and leases.
 */
void
aiq_server_set_clock(AiqServer *self, AiqClockFunc func, gpointer user_data)
{
	self->clock = func;
	self->clock_data = user_data;
	aiq_auth_set_clock(self->auth, (AiqAuthClockFunc)func, user_data);
}

gint64
aiq_server_now(AiqServer *self)
{
	return self->clock != NULL ? self->clock(self->clock_data) : g_get_real_time();
}

void
aiq_server_set_module(AiqServer *self, const gchar *name, gpointer data, GDestroyNotify destroy)
{
	AiqServerModule *module = g_new0(AiqServerModule, 1);
	module->data = data;
	module->destroy = destroy;
	g_mutex_lock(&self->modules_mutex);
	g_hash_table_replace(self->modules, g_strdup(name), module);
	g_mutex_unlock(&self->modules_mutex);
}

gpointer
aiq_server_get_module(AiqServer *self, const gchar *name)
{
	AiqServerModule *module;
	g_mutex_lock(&self->modules_mutex);
	module = g_hash_table_lookup(self->modules, name);
	g_mutex_unlock(&self->modules_mutex);
	return module != NULL ? module->data : NULL;
}

static gboolean
aiq_server_load_tls(AiqServer *self, GError **error)
{
	AiqServerConfig *config = self->config;
	g_autofree gchar *cert_path = NULL;
	g_autofree gchar *key_path = NULL;
	gboolean created = FALSE;

	if (config->plain_http)
		return TRUE;
	if (config->tls_cert != NULL) {
		cert_path = g_strdup(config->tls_cert);
		key_path = g_strdup(config->tls_key);
	} else if (!aiq_tls_ensure_self_signed(config->data_dir,
					       config->hostnames,
					       &cert_path,
					       &key_path,
					       &created,
					       error)) {
		return FALSE;
	}
	self->certificate = g_tls_certificate_new_from_files(cert_path, key_path, error);
	if (self->certificate == NULL) {
		aiq_error_convert(error);
		g_prefix_error(error, "%s: ", cert_path);
		return FALSE;
	}
	self->fingerprint = aiq_tls_fingerprint(self->certificate);
	if (created)
		g_message("made a self-signed certificate %s, SHA-256 fingerprint %s",
			  cert_path,
			  self->fingerprint);
	else
		g_info("certificate %s, SHA-256 fingerprint %s", cert_path, self->fingerprint);
	return TRUE;
}

/**
 * aiq_server_new:
 * @config: (transfer full): what to serve and where
 *
 * Opens the store (creating and migrating it), loads or makes the TLS
 * certificate and registers every route. Call aiq_server_start() to serve.
 */
AiqServer *
aiq_server_new(AiqServerConfig *config, GError **error)
{
	g_autoptr(AiqServer) self = g_object_new(AIQ_TYPE_SERVER, NULL);

	self->config = config;
	if (!aiq_server_config_check(config, error))
		return NULL;
	if (sodium_init() < 0) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    "libsodium failed to start");
		return NULL;
	}
	if (g_mkdir_with_parents(config->data_dir, 0700) != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("cannot create the data directory %s: %s"),
			    config->data_dir,
			    g_strerror(errno));
		return NULL;
	}
	{
		AiqStoreOptions store_options = {
			.admin_uri = config->store_admin,
			.pool_size = config->store_pool_size,
			.pool_timeout_ms = (guint)(config->store_pool_timeout_us / 1000),
			.statement_timeout_ms = (guint)(config->store_statement_timeout_us / 1000),
		};
		self->store = aiq_store_open(config->store, &store_options, error);
	}
	if (self->store == NULL)
		return NULL;
	self->auth = aiq_auth_new(self->store);
	aiq_governance_install(self);
	aiq_metrics_install(self);
	self->metrics = aiq_metrics_get(self);
	if (!aiq_server_load_tls(self, error))
		return NULL;
	self->pool =
		g_thread_pool_new(aiq_server_pool_func, self, (gint)config->workers, FALSE, error);
	if (self->pool == NULL)
		return NULL;
	if (!aiq_routes_register(self, error))
		return NULL;
	return g_steal_pointer(&self);
}

static void
aiq_server_dispose(GObject *object)
{
	AiqServer *self = AIQ_SERVER(object);
	aiq_server_stop(self);
	self->metrics = NULL;
	g_mutex_lock(&self->modules_mutex);
	g_hash_table_remove_all(self->modules);
	g_mutex_unlock(&self->modules_mutex);
	G_OBJECT_CLASS(aiq_server_parent_class)->dispose(object);
}

static void
aiq_server_finalize(GObject *object)
{
	AiqServer *self = AIQ_SERVER(object);
	for (guint i = 0; i < self->n_threads; i++) {
		AiqHttpThread *thread = &self->threads[i];
		g_clear_object(&thread->soup);
		g_clear_object(&thread->socket);
		g_clear_pointer(&thread->loop, g_main_loop_unref);
		g_clear_pointer(&thread->context, g_main_context_unref);
	}
	g_free(self->threads);
	if (self->pool != NULL)
		g_thread_pool_free(self->pool, TRUE, FALSE);
	g_ptr_array_unref(self->routes);
	g_hash_table_unref(self->modules);
	g_mutex_clear(&self->modules_mutex);
	g_clear_object(&self->auth);
	g_clear_object(&self->store);
	g_clear_object(&self->certificate);
	g_free(self->fingerprint);
	g_main_context_unref(self->main_context);
	aiq_server_config_free(self->config);
	G_OBJECT_CLASS(aiq_server_parent_class)->finalize(object);
}

static void
aiq_server_class_init(AiqServerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = aiq_server_dispose;
	object_class->finalize = aiq_server_finalize;
	aiq_message_state_quark = g_quark_from_static_string("aiq-message-state");
}

static void
aiq_server_init(AiqServer *self)
{
	self->routes = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_route_entry_free);
	self->main_context = g_main_context_ref_thread_default();
	g_mutex_init(&self->modules_mutex);
	self->modules = g_hash_table_new_full(g_str_hash,
					      g_str_equal,
					      g_free,
					      (GDestroyNotify)aiq_server_module_free);
}
