/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-document.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-request-private.h"
#include "aiq-server.h"

struct _AiqRequest {
	gint refcount;
	AiqServer *server;
	SoupServerMessage *msg; /* only touched on @context */
	GMainContext *context;
	gchar *method;
	gchar *path;
	gchar *id;
	gchar *remote_address;
	GHashTable *params;
	GHashTable *query;
	SoupMessageHeaders *request_headers;
	GBytes *body;
	AiqPrincipal *principal;
	gint64 received_us;

	/* the response, applied on @context */
	GMutex mutex;
	guint status;
	gchar *content_type;
	GBytes *response;
	GPtrArray *headers; /* name, value, name, value… */
	gboolean finished;
	AiqRequestApplyFunc apply_func;
	gpointer apply_data;

	/* what the audit record of this request says, beyond the defaults */
	gchar *audit_tenant_id;
	gchar *audit_action;
	gchar *audit_actor_type;
	gchar *audit_actor_id;
	gchar *audit_actor_name;
	gchar *audit_target_type;
	gchar *audit_target_id;
	JsonObject *audit_details;
	gchar *error_code;
	gchar *response_id;
	gboolean audit_skip;
	guint hold_ms; /* the answer waits this long (a tarpit) */
};

AiqRequest *
aiq_request_new(AiqServer *server,
		SoupServerMessage *msg,
		GMainContext *context,
		const gchar *path,
		GBytes *body)
{
	AiqRequest *self = g_new0(AiqRequest, 1);
	GUri *uri = soup_server_message_get_uri(msg);
	const gchar *query = g_uri_get_query(uri);
	const gchar *given_id;
	GSocketAddress *remote = soup_server_message_get_remote_address(msg);

	self->refcount = 1;
	self->server = server;
	self->msg = g_object_ref(msg);
	self->context = g_main_context_ref(context);
	self->method = g_strdup(soup_server_message_get_method(msg));
	self->path = g_strdup(path);
	self->request_headers =
		soup_message_headers_ref(soup_server_message_get_request_headers(msg));
	self->body = body != NULL ? g_bytes_ref(body) : g_bytes_new_static("", 0);
	self->received_us = g_get_real_time();
	self->headers = g_ptr_array_new_with_free_func(g_free);
	g_mutex_init(&self->mutex);
	if (query != NULL)
		self->query = soup_form_decode(query);
	if (self->query == NULL)
		self->query = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (remote != NULL && G_IS_INET_SOCKET_ADDRESS(remote))
		self->remote_address = g_inet_address_to_string(
			g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
	else
		self->remote_address = g_strdup("unknown");

	/* a client's request id is kept when it is sane, else one is made */
	given_id = soup_message_headers_get_one(self->request_headers, "X-Request-Id");
	if (given_id != NULL && strlen(given_id) > 0 && strlen(given_id) <= 64) {
		gboolean sane = TRUE;
		for (const gchar *p = given_id; *p != '\0' && sane; p++)
			sane = g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.';
		if (sane)
			self->id = g_strdup(given_id);
	}
	if (self->id == NULL) {
		guint32 a = g_random_int(), b = g_random_int();
		self->id = g_strdup_printf("%08x%08x", a, b);
	}
	return self;
}

AiqRequest *
aiq_request_ref(AiqRequest *self)
{
	g_atomic_int_inc(&self->refcount);
	return self;
}

void
aiq_request_unref(AiqRequest *self)
{
	if (!g_atomic_int_dec_and_test(&self->refcount))
		return;
	g_clear_object(&self->msg);
	g_main_context_unref(self->context);
	g_free(self->method);
	g_free(self->path);
	g_free(self->id);
	g_free(self->remote_address);
	if (self->params != NULL)
		g_hash_table_unref(self->params);
	g_hash_table_unref(self->query);
	soup_message_headers_unref(self->request_headers);
	g_bytes_unref(self->body);
	if (self->principal != NULL)
		aiq_principal_unref(self->principal);
	g_free(self->content_type);
	if (self->response != NULL)
		g_bytes_unref(self->response);
	g_ptr_array_unref(self->headers);
	g_free(self->audit_tenant_id);
	g_free(self->audit_action);
	g_free(self->audit_actor_type);
	g_free(self->audit_actor_id);
	g_free(self->audit_actor_name);
	g_free(self->audit_target_type);
	g_free(self->audit_target_id);
	if (self->audit_details != NULL)
		json_object_unref(self->audit_details);
	g_free(self->error_code);
	g_free(self->response_id);
	g_mutex_clear(&self->mutex);
	g_free(self);
}

void
aiq_request_set_params(AiqRequest *self, GHashTable *params)
{
	if (self->params != NULL)
		g_hash_table_unref(self->params);
	self->params = params != NULL ? g_hash_table_ref(params) : NULL;
}

void
aiq_request_set_principal(AiqRequest *self, AiqPrincipal *principal)
{
	if (self->principal != NULL)
		aiq_principal_unref(self->principal);
	self->principal = principal != NULL ? aiq_principal_ref(principal) : NULL;
}

void
aiq_request_set_apply_func(AiqRequest *self, AiqRequestApplyFunc func, gpointer user_data)
{
	self->apply_func = func;
	self->apply_data = user_data;
}

AiqServer *
aiq_request_get_server(AiqRequest *self)
{
	return self->server;
}

const gchar *
aiq_request_get_method(AiqRequest *self)
{
	return self->method;
}

const gchar *
aiq_request_get_path(AiqRequest *self)
{
	return self->path;
}

const gchar *
aiq_request_get_id(AiqRequest *self)
{
	return self->id;
}

const gchar *
aiq_request_get_remote_address(AiqRequest *self)
{
	return self->remote_address;
}

/**
 * aiq_request_get_param:
 *
 * Returns: (nullable): a `{name}` of the route's path
 */
const gchar *
aiq_request_get_param(AiqRequest *self, const gchar *name)
{
	return self->params != NULL ? g_hash_table_lookup(self->params, name) : NULL;
}

const gchar *
aiq_request_get_query(AiqRequest *self, const gchar *name)
{
	return g_hash_table_lookup(self->query, name);
}

const gchar *
aiq_request_get_header(AiqRequest *self, const gchar *name)
{
	return soup_message_headers_get_one(self->request_headers, name);
}

/**
 * aiq_request_get_principal:
 *
 * Returns: (nullable): who asks; %NULL on public routes
 */
AiqPrincipal *
aiq_request_get_principal(AiqRequest *self)
{
	return self->principal;
}

const gchar *
aiq_request_get_tenant_id(AiqRequest *self)
{
	return self->principal != NULL ? self->principal->tenant_id : NULL;
}

GBytes *
aiq_request_get_body(AiqRequest *self)
{
	return self->body;
}

gint64
aiq_request_get_received(AiqRequest *self)
{
	return self->received_us;
}

static const gchar *const aiq_request_json_types[] = { "application/json", NULL };
static const gchar *const aiq_request_yaml_types[] = { "application/yaml",
						       "application/x-yaml",
						       "text/yaml",
						       "text/x-yaml",
						       NULL };

static gboolean
aiq_request_content_type_is(AiqRequest *self, const gchar *const *types)
{
	const gchar *ct = soup_message_headers_get_content_type(self->request_headers, NULL);
	return ct != NULL && g_strv_contains(types, ct);
}

/* the router has bounded the body's size already (413); what the parser
 * still refuses — nesting, node count, a huge scalar — is a bad document,
 * 400, checked as the parser goes and before any tree is built */
static JsonNode *
aiq_request_parse_body(AiqRequest *self, AiqDocumentFormat format, GError **error)
{
	AiqDocumentLimits limits = *aiq_document_limits_default();
	g_autoptr(GError) error_local = NULL;
	gsize len = 0;
	const gchar *data = g_bytes_get_data(self->body, &len);
	JsonNode *node;
	if (len == 0) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DOCUMENT,
				    _("the request has no body"));
		return NULL;
	}
	limits.max_size = MAX(limits.max_size, len);
	node = aiq_document_parse(data, len, format, &limits, &error_local);
	if (node == NULL) {
		if (g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_TOO_LARGE))
			error_local->code = AIQ_ERROR_INVALID_DOCUMENT;
		g_propagate_error(error, g_steal_pointer(&error_local));
	}
	return node;
}

/**
 * aiq_request_parse_json:
 *
 * Returns: (transfer full): the body, which must be JSON (415 otherwise),
 * nested at most 64 levels deep (400)
 */
JsonNode *
aiq_request_parse_json(AiqRequest *self, GError **error)
{
	if (!aiq_request_content_type_is(self, aiq_request_json_types)) {
		g_set_error_literal(error,
				    G_IO_ERROR,
				    G_IO_ERROR_NOT_SUPPORTED,
				    _("send the body as application/json"));
		return NULL;
	}
	return aiq_request_parse_body(self, AIQ_DOCUMENT_FORMAT_JSON, error);
}

/**
 * aiq_request_parse_document:
 *
 * Returns: (transfer full): the body, as JSON or YAML (application/yaml,
 * application/x-yaml, text/yaml)
 */
JsonNode *
aiq_request_parse_document(AiqRequest *self, GError **error)
{
	if (aiq_request_content_type_is(self, aiq_request_yaml_types))
		return aiq_request_parse_body(self, AIQ_DOCUMENT_FORMAT_YAML, error);
	if (aiq_request_content_type_is(self, aiq_request_json_types))
		return aiq_request_parse_body(self, AIQ_DOCUMENT_FORMAT_JSON, error);
	g_set_error_literal(error,
			    G_IO_ERROR,
			    G_IO_ERROR_NOT_SUPPORTED,
			    _("send the body as application/json or application/yaml"));
	return NULL;
}

/**
 * aiq_request_get_limit:
 * @limit: (inout): the default on entry; the `limit` query, checked, on return
 */
gboolean
aiq_request_get_limit(AiqRequest *self, guint *limit, GError **error)
{
	const gchar *str = aiq_request_get_query(self, "limit");
	guint64 value = 0;
	if (str == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(str, 10, 1, 1000, &value, NULL)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("limit: a whole number from 1 to 1000"));
		return FALSE;
	}
	*limit = (guint)value;
	return TRUE;
}

void
aiq_request_set_header(AiqRequest *self, const gchar *name, const gchar *value)
{
	g_mutex_lock(&self->mutex);
	g_ptr_array_add(self->headers, g_strdup(name));
	g_ptr_array_add(self->headers, g_strdup(value));
	g_mutex_unlock(&self->mutex);
}

void
aiq_request_respond_bytes(AiqRequest *self, guint status, const gchar *content_type, GBytes *body)
{
	g_mutex_lock(&self->mutex);
	self->status = status;
	g_free(self->content_type);
	self->content_type = g_strdup(content_type);
	if (self->response != NULL)
		g_bytes_unref(self->response);
	self->response = body != NULL ? g_bytes_ref(body) : NULL;
	g_mutex_unlock(&self->mutex);
}

/**
 * aiq_request_respond_json:
 * @node: (transfer full) (nullable): the body; none with %NULL
 */
void
aiq_request_respond_json(AiqRequest *self, guint status, JsonNode *node)
{
	g_autoptr(GBytes) body = NULL;
	if (node != NULL) {
		gchar *text = aiq_json_to_string(node, FALSE);
		/* the id of what was made or changed, for the audit trail */
		if (JSON_NODE_HOLDS_OBJECT(node) && status < 300) {
			JsonObject *obj = json_node_get_object(node);
			if (json_object_has_member(obj, "id") &&
			    aiq_json_is_string(json_object_get_member(obj, "id"))) {
				g_free(self->response_id);
				self->response_id =
					g_strdup(json_object_get_string_member(obj, "id"));
			}
		}
		body = g_bytes_new_take(text, strlen(text));
		json_node_unref(node);
	}
	aiq_request_respond_bytes(self, status, body != NULL ? "application/json" : NULL, body);
}

/**
 * aiq_request_respond_error:
 * @code: a stable code, e.g. `not_found`
 * @details: (transfer full) (nullable): more, e.g. the problems of a definition
 *
 * Answers `{ "error": { "code": …, "message": …, "details": … } }`.
 */
void
aiq_request_respond_error(AiqRequest *self,
			  guint status,
			  const gchar *code,
			  const gchar *message,
			  JsonNode *details)
{
	JsonObject *error = json_object_new();
	JsonObject *root = json_object_new();
	json_object_set_string_member(error, "code", code);
	json_object_set_string_member(error, "message", message);
	json_object_set_string_member(error, "request_id", self->id);
	g_free(self->error_code);
	self->error_code = g_strdup(code);
	if (details != NULL)
		json_object_set_member(error, "details", details);
	json_object_set_object_member(root, "error", error);
	aiq_request_respond_json(self, status, aiq_json_new_object(root));
}

/**
 * aiq_http_status_for_error:
 *
 * Returns: the HTTP status that tells @error
 */
guint
aiq_http_status_for_error(const GError *error)
{
	if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_NOT_SUPPORTED)
		return SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE;
	if (error->domain != AIQ_ERROR)
		return SOUP_STATUS_INTERNAL_SERVER_ERROR;
	switch (error->code) {
	case AIQ_ERROR_INVALID_ARGUMENT:
	case AIQ_ERROR_INVALID_DOCUMENT:
	case AIQ_ERROR_EXPRESSION:
		return SOUP_STATUS_BAD_REQUEST;
	case AIQ_ERROR_INVALID_DEFINITION:
	case AIQ_ERROR_INVALID_INPUT:
	case AIQ_ERROR_KIND_DISABLED:
		return SOUP_STATUS_UNPROCESSABLE_ENTITY;
	case AIQ_ERROR_TOO_LARGE:
		return SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
	case AIQ_ERROR_NOT_FOUND:
		return SOUP_STATUS_NOT_FOUND;
	case AIQ_ERROR_CONFLICT:
		return SOUP_STATUS_CONFLICT;
	case AIQ_ERROR_UNAUTHENTICATED:
		return SOUP_STATUS_UNAUTHORIZED;
	case AIQ_ERROR_FORBIDDEN:
	case AIQ_ERROR_PERMISSION_DENIED:
	case AIQ_ERROR_QUOTA_EXCEEDED:
		return SOUP_STATUS_FORBIDDEN;
	case AIQ_ERROR_RATE_LIMITED:
		return 429;
	case AIQ_ERROR_UNAVAILABLE:
	case AIQ_ERROR_TIMED_OUT:
		return SOUP_STATUS_SERVICE_UNAVAILABLE;
	default:
		return SOUP_STATUS_INTERNAL_SERVER_ERROR;
	}
}

static const gchar *
aiq_http_code_for_error(const GError *error, guint status)
{
	if (error->domain == AIQ_ERROR && status != SOUP_STATUS_INTERNAL_SERVER_ERROR)
		return aiq_error_code_to_string(error->code);
	if (status == SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE)
		return "unsupported_media_type";
	return "internal";
}

void
aiq_request_respond_gerror(AiqRequest *self, const GError *error)
{
	guint status = aiq_http_status_for_error(error);
	const gchar *code = aiq_http_code_for_error(error, status);
	if (status == SOUP_STATUS_INTERNAL_SERVER_ERROR) {
		/* the details go to the log, not to the client */
		g_warning("request %s %s %s: %s",
			  self->id,
			  self->method,
			  self->path,
			  error->message);
		aiq_request_respond_error(self,
					  status,
					  code,
					  _("internal error; the server log has the details"),
					  NULL);
		return;
	}
	if (status == SOUP_STATUS_SERVICE_UNAVAILABLE)
		aiq_request_set_header(self, "Retry-After", "5");
	aiq_request_respond_error(self, status, code, error->message, NULL);
}

guint
aiq_request_get_status(AiqRequest *self)
{
	return self->status;
}

static gboolean
aiq_request_apply_cb(gpointer user_data)
{
	aiq_request_apply(user_data);
	return G_SOURCE_REMOVE;
}

/**
 * aiq_request_finish:
 *
 * Sends the buffered response; callable from any thread, once.
 */
void
aiq_request_finish(AiqRequest *self)
{
	GSource *source;
	g_mutex_lock(&self->mutex);
	if (self->finished) {
		g_mutex_unlock(&self->mutex);
		return;
	}
	self->finished = TRUE;
	g_mutex_unlock(&self->mutex);
	source = self->hold_ms > 0 ? g_timeout_source_new(self->hold_ms) : g_idle_source_new();
	g_source_set_priority(source, G_PRIORITY_DEFAULT);
	g_source_set_callback(source,
			      aiq_request_apply_cb,
			      aiq_request_ref(self),
			      (GDestroyNotify)aiq_request_unref);
	g_source_attach(source, self->context);
	g_source_unref(source);
}

/* on the server thread: the buffered response goes to the message */
void
aiq_request_apply(AiqRequest *self)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(self->msg);
	g_mutex_lock(&self->mutex);
	self->finished = TRUE;
	if (self->status == 0) {
		g_mutex_unlock(&self->mutex);
		aiq_request_respond_error(self,
					  SOUP_STATUS_INTERNAL_SERVER_ERROR,
					  "internal",
					  _("the handler gave no answer"),
					  NULL);
		g_mutex_lock(&self->mutex);
	}
	soup_message_headers_replace(headers, "X-Request-Id", self->id);
	soup_message_headers_replace(headers, "Cache-Control", "no-store");
	soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
	for (guint i = 0; i + 1 < self->headers->len; i += 2)
		soup_message_headers_replace(headers,
					     g_ptr_array_index(self->headers, i),
					     g_ptr_array_index(self->headers, i + 1));
	if (self->response != NULL) {
		gsize len = 0;
		const gchar *data = g_bytes_get_data(self->response, &len);
		soup_server_message_set_response(self->msg,
						 self->content_type,
						 SOUP_MEMORY_COPY,
						 data,
						 len);
	}
	/* reason phrases libsoup does not know */
	soup_server_message_set_status(self->msg,
				       self->status,
				       self->status == 429   ? "Too Many Requests"
				       : self->status == 426 ? "Upgrade Required"
							     : NULL);
	g_mutex_unlock(&self->mutex);
	if (self->apply_func != NULL)
		self->apply_func(self, self->apply_data);
}

/**
 * aiq_request_get_message:
 *
 * Returns: (transfer none): the libsoup message; touch it only on
 * aiq_request_get_context()
 */
SoupServerMessage *
aiq_request_get_message(AiqRequest *self)
{
	return self->msg;
}

GMainContext *
aiq_request_get_context(AiqRequest *self)
{
	return self->context;
}

/* the audit trail */

/**
 * aiq_request_set_audit_tenant:
 *
 * The tenant whose log records this request, for routes without a
 * principal (a login, an enrollment, a webhook); else the principal's.
 */
void
aiq_request_set_audit_tenant(AiqRequest *self, const gchar *tenant_id)
{
	g_free(self->audit_tenant_id);
	self->audit_tenant_id = g_strdup(tenant_id);
}

/**
 * aiq_request_set_audit_action:
 *
 * Replaces the route's action, e.g. `tenant.suspend` for a PATCH that
 * suspends.
 */
void
aiq_request_set_audit_action(AiqRequest *self, const gchar *action)
{
	g_free(self->audit_action);
	self->audit_action = g_strdup(action);
}

/**
 * aiq_request_set_audit_actor:
 * @type: `user`, `api_key`, `agent`, `webhook`, `system`
 *
 * Who acted, when it is not the principal (a login names the user).
 */
void
aiq_request_set_audit_actor(AiqRequest *self, const gchar *type, const gchar *id, const gchar *name)
{
	g_free(self->audit_actor_type);
	g_free(self->audit_actor_id);
	g_free(self->audit_actor_name);
	self->audit_actor_type = g_strdup(type);
	self->audit_actor_id = g_strdup(id);
	self->audit_actor_name = g_strdup(name);
}

/**
 * aiq_request_set_audit_target:
 *
 * What was acted on, when it is neither the path's `{id}` nor the `id` of
 * the answer.
 */
void
aiq_request_set_audit_target(AiqRequest *self, const gchar *type, const gchar *id)
{
	g_free(self->audit_target_type);
	g_free(self->audit_target_id);
	self->audit_target_type = g_strdup(type);
	self->audit_target_id = g_strdup(id);
}

/**
 * aiq_request_add_audit_detail:
 * @value: (transfer full)
 *
 * Adds a member to the record's details (never a secret).
 */
void
aiq_request_add_audit_detail(AiqRequest *self, const gchar *name, JsonNode *value)
{
	if (self->audit_details == NULL)
		self->audit_details = json_object_new();
	json_object_set_member(self->audit_details, name, value);
}

/**
 * aiq_request_skip_audit:
 *
 * For an audited route, a request that changed nothing worth a record.
 */
void
aiq_request_skip_audit(AiqRequest *self)
{
	self->audit_skip = TRUE;
}

AiqRequestAudit
aiq_request_get_audit(AiqRequest *self)
{
	AiqRequestAudit audit = {
		.tenant_id = self->audit_tenant_id,
		.action = self->audit_action,
		.actor_type = self->audit_actor_type,
		.actor_id = self->audit_actor_id,
		.actor_name = self->audit_actor_name,
		.target_type = self->audit_target_type,
		.target_id = self->audit_target_id,
		.details = self->audit_details,
		.error_code = self->error_code,
		.response_id = self->response_id,
		.skip = self->audit_skip,
	};
	return audit;
}

/*
 * Streamed responses
 *
 * The handler of an %AIQ_ROUTE_ASYNC route hands chunks over from its worker
 * thread; the request's HTTP thread appends them to the message's body
 * (chunked encoding, each chunk dropped once written) and resumes its I/O.
 * Back-pressure: a writer waits while more than %AIQ_REQUEST_STREAM_WINDOW
 * bytes are handed over and not yet written to the connection, so a slow
 * client holds the handler back instead of filling the server's memory.
 * The state lives on the message; everything in it is under its mutex.
 */

#define AIQ_REQUEST_STREAM_WINDOW (256 * 1024)

typedef struct {
	GMutex mutex;
	GCond cond;
	guint status;
	gchar *content_type;
	GQueue pending;     /* GBytes handed over, not yet appended to the body */
	gsize in_flight;    /* bytes handed over and not yet written */
	guint64 written;    /* bytes written to the connection */
	gint64 progress_us; /* monotonic: when bytes were last written */
	gboolean scheduled; /* a pump is on its way to the HTTP thread */
	gboolean started;   /* the status and headers are applied */
	gboolean ended;     /* the handler is done (aiq_request_stream_end/abort) */
	gboolean aborted;
	gboolean applied; /* the end is applied */
	gboolean closed;  /* the message's I/O is over: nothing more goes out */
} AiqRequestStream;

static GQuark
aiq_request_stream_quark(void)
{
	return g_quark_from_static_string("aiq-request-stream");
}

static void
aiq_request_stream_free(AiqRequestStream *stream)
{
	g_queue_clear_full(&stream->pending, (GDestroyNotify)g_bytes_unref);
	g_free(stream->content_type);
	g_mutex_clear(&stream->mutex);
	g_cond_clear(&stream->cond);
	g_free(stream);
}

static AiqRequestStream *
aiq_request_stream_get(AiqRequest *self)
{
	return g_object_get_qdata(G_OBJECT(self->msg), aiq_request_stream_quark());
}

/* on the HTTP thread: libsoup wrote part of the body */
static void
aiq_request_stream_wrote_cb(SoupServerMessage *msg, guint size, gpointer user_data)
{
	AiqRequestStream *stream = user_data;
	g_mutex_lock(&stream->mutex);
	stream->in_flight -= MIN(stream->in_flight, (gsize)size);
	stream->written += size;
	stream->progress_us = g_get_monotonic_time();
	g_cond_broadcast(&stream->cond);
	g_mutex_unlock(&stream->mutex);
}

/* on the HTTP thread: the exchange is over, completed or cut */
static void
aiq_request_stream_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	AiqRequestStream *stream = user_data;
	g_mutex_lock(&stream->mutex);
	stream->closed = TRUE;
	g_cond_broadcast(&stream->cond);
	g_mutex_unlock(&stream->mutex);
}

static void
aiq_request_stream_apply_head(AiqRequest *self, AiqRequestStream *stream)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(self->msg);
	g_mutex_lock(&self->mutex);
	soup_message_headers_replace(headers, "X-Request-Id", self->id);
	soup_message_headers_replace(headers, "Cache-Control", "no-store");
	soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
	for (guint i = 0; i + 1 < self->headers->len; i += 2)
		soup_message_headers_replace(headers,
					     g_ptr_array_index(self->headers, i),
					     g_ptr_array_index(self->headers, i + 1));
	g_mutex_unlock(&self->mutex);
	soup_message_headers_set_content_type(headers, stream->content_type, NULL);
	soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
	soup_message_body_set_accumulate(soup_server_message_get_response_body(self->msg), FALSE);
	soup_server_message_set_status(self->msg, stream->status, NULL);
	g_signal_connect(self->msg,
			 "wrote-body-data",
			 G_CALLBACK(aiq_request_stream_wrote_cb),
			 stream);
	g_signal_connect(self->msg, "finished", G_CALLBACK(aiq_request_stream_finished_cb), stream);
}

static void
aiq_request_stream_closed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_io_stream_close_finish(G_IO_STREAM(source), result, NULL);
}

/* on the HTTP thread: what the handler handed over goes to the message */
static gboolean
aiq_request_stream_pump_cb(gpointer user_data)
{
	AiqRequest *self = user_data;
	AiqRequestStream *stream = aiq_request_stream_get(self);
	SoupMessageBody *body = soup_server_message_get_response_body(self->msg);
	g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	gboolean start;
	gboolean end = FALSE;
	gboolean abort = FALSE;
	gboolean closed;
	gboolean resume = FALSE;

	g_mutex_lock(&stream->mutex);
	stream->scheduled = FALSE;
	start = !stream->started;
	stream->started = TRUE;
	while (!g_queue_is_empty(&stream->pending))
		g_ptr_array_add(chunks, g_queue_pop_head(&stream->pending));
	if (stream->ended && !stream->applied) {
		stream->applied = TRUE;
		end = TRUE;
		abort = stream->aborted;
	}
	closed = stream->closed;
	if (abort)
		stream->closed = TRUE;
	g_mutex_unlock(&stream->mutex);

	if (start) {
		aiq_request_stream_apply_head(self, stream);
		resume = TRUE;
	}
	if (!closed && !abort) {
		for (guint i = 0; i < chunks->len; i++)
			soup_message_body_append_bytes(body, g_ptr_array_index(chunks, i));
		if (end)
			soup_message_body_complete(body);
		resume = resume || chunks->len > 0 || end;
	}
	if (!end) {
		if (resume && !closed)
			soup_server_message_unpause(self->msg);
		return G_SOURCE_REMOVE;
	}
	/* the request is done: the server's apply func counts it and resumes
	 * the I/O (with aiq_request_resume(), which knows a closed stream) */
	if (self->apply_func != NULL)
		self->apply_func(self, self->apply_data);
	else if (!closed && !abort)
		soup_server_message_unpause(self->msg);
	/* a cut, after that while the I/O is still there to resume: the
	 * client sees the connection close before the body's last chunk */
	if (abort && !closed) {
		g_autoptr(GIOStream) connection = soup_server_message_steal_connection(self->msg);
		if (connection != NULL)
			g_io_stream_close_async(connection,
						G_PRIORITY_DEFAULT,
						NULL,
						aiq_request_stream_closed_cb,
						NULL);
	}
	return G_SOURCE_REMOVE;
}

static void
aiq_request_stream_schedule_locked(AiqRequest *self, AiqRequestStream *stream)
{
	GSource *source;
	if (stream->scheduled)
		return;
	stream->scheduled = TRUE;
	source = g_idle_source_new();
	g_source_set_priority(source, G_PRIORITY_DEFAULT);
	g_source_set_callback(source,
			      aiq_request_stream_pump_cb,
			      aiq_request_ref(self),
			      (GDestroyNotify)aiq_request_unref);
	g_source_attach(source, self->context);
	g_source_unref(source);
}

/**
 * aiq_request_stream_begin:
 * @status: the response's status, sent with the first chunk
 *
 * Starts a streamed response, with the headers set so far, in chunked
 * encoding. From any thread, once, instead of a buffered answer; then
 * aiq_request_stream_write() the body and aiq_request_stream_end() (or
 * aiq_request_stream_abort()). The route must be %AIQ_ROUTE_ASYNC.
 */
void
aiq_request_stream_begin(AiqRequest *self, guint status, const gchar *content_type)
{
	AiqRequestStream *stream;

	g_return_if_fail(self != NULL);
	g_return_if_fail(content_type != NULL);
	g_return_if_fail(aiq_request_stream_get(self) == NULL);

	stream = g_new0(AiqRequestStream, 1);
	g_mutex_init(&stream->mutex);
	g_cond_init(&stream->cond);
	g_queue_init(&stream->pending);
	stream->status = status;
	stream->content_type = g_strdup(content_type);
	stream->progress_us = g_get_monotonic_time();

	/* the audit trail and the server's log read the status here;
	 * aiq_request_finish() does nothing from now on */
	g_mutex_lock(&self->mutex);
	self->finished = TRUE;
	self->status = status;
	g_free(self->content_type);
	self->content_type = g_strdup(content_type);
	g_mutex_unlock(&self->mutex);

	g_object_set_qdata_full(G_OBJECT(self->msg),
				aiq_request_stream_quark(),
				stream,
				(GDestroyNotify)aiq_request_stream_free);
	g_mutex_lock(&stream->mutex);
	aiq_request_stream_schedule_locked(self, stream);
	g_mutex_unlock(&stream->mutex);
}

/**
 * aiq_request_stream_write:
 * @chunk: the next part of the body
 *
 * Hands @chunk over to be sent. Blocks while the client is behind (more
 * than 256 KiB sent and not yet written to its connection); call it from
 * the handler's worker thread.
 *
 * Returns: %FALSE when the client went away or read nothing for twice the
 * idle timeout: then stop, and end with aiq_request_stream_abort()
 */
gboolean
aiq_request_stream_write(AiqRequest *self, GBytes *chunk, GError **error)
{
	AiqRequestStream *stream;
	gint64 idle_timeout_s;
	gint64 patience_us;
	gsize size;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(chunk != NULL, FALSE);
	stream = aiq_request_stream_get(self);
	g_return_val_if_fail(stream != NULL, FALSE);

	size = g_bytes_get_size(chunk);
	if (size == 0) /* an empty chunk would end the body */
		return TRUE;
	idle_timeout_s = MAX(aiq_server_get_config(self->server)->idle_timeout_s, 1);
	patience_us = 2 * idle_timeout_s * G_USEC_PER_SEC;

	g_mutex_lock(&stream->mutex);
	g_warn_if_fail(!stream->ended);
	while (!stream->closed && stream->in_flight > 0 &&
	       stream->in_flight + size > AIQ_REQUEST_STREAM_WINDOW) {
		gint64 now = g_get_monotonic_time();
		if (now - stream->progress_us > patience_us) {
			g_mutex_unlock(&stream->mutex);
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_TIMED_OUT,
				    _("the client read nothing for %d s"),
				    (gint)(2 * idle_timeout_s));
			return FALSE;
		}
		g_cond_wait_until(&stream->cond, &stream->mutex, now + G_USEC_PER_SEC);
	}
	if (stream->closed) {
		g_mutex_unlock(&stream->mutex);
		g_set_error_literal(error,
				    G_IO_ERROR,
				    G_IO_ERROR_CONNECTION_CLOSED,
				    _("the client went away"));
		return FALSE;
	}
	stream->in_flight += size;
	g_queue_push_tail(&stream->pending, g_bytes_ref(chunk));
	aiq_request_stream_schedule_locked(self, stream);
	g_mutex_unlock(&stream->mutex);
	return TRUE;
}

static void
aiq_request_stream_close(AiqRequest *self, gboolean abort)
{
	AiqRequestStream *stream;
	g_return_if_fail(self != NULL);
	stream = aiq_request_stream_get(self);
	g_return_if_fail(stream != NULL);
	g_mutex_lock(&stream->mutex);
	if (!stream->ended) {
		stream->ended = TRUE;
		stream->aborted = abort;
		aiq_request_stream_schedule_locked(self, stream);
	}
	g_mutex_unlock(&stream->mutex);
}

/**
 * aiq_request_stream_end:
 *
 * Ends the body after what was written: the request is done. From the
 * handler's thread, once.
 */
void
aiq_request_stream_end(AiqRequest *self)
{
	aiq_request_stream_close(self, FALSE);
}

/**
 * aiq_request_stream_abort:
 *
 * Cuts the connection instead of ending the body, so that the client
 * cannot take what it got for the whole: after a failure half-way (the
 * status is sent already), or when the client went away.
 */
void
aiq_request_stream_abort(AiqRequest *self)
{
	aiq_request_stream_close(self, TRUE);
}

/**
 * aiq_request_stream_get_written:
 *
 * Returns: the bytes of the body written to the connection so far
 */
guint64
aiq_request_stream_get_written(AiqRequest *self)
{
	AiqRequestStream *stream;
	guint64 written;
	g_return_val_if_fail(self != NULL, 0);
	stream = aiq_request_stream_get(self);
	if (stream == NULL)
		return 0;
	g_mutex_lock(&stream->mutex);
	written = stream->written;
	g_mutex_unlock(&stream->mutex);
	return written;
}

/**
 * aiq_request_resume:
 *
 * On the HTTP thread: resumes the message's I/O (the server paused it
 * while a worker ran), unless it is over: libsoup refuses to resume a
 * message whose connection is gone, which happens to a streamed response
 * whose client went away.
 */
void
aiq_request_resume(AiqRequest *self)
{
	AiqRequestStream *stream = aiq_request_stream_get(self);
	gboolean closed = FALSE;
	if (stream != NULL) {
		g_mutex_lock(&stream->mutex);
		closed = stream->closed;
		g_mutex_unlock(&stream->mutex);
	}
	if (!closed)
		soup_server_message_unpause(self->msg);
}

/**
 * aiq_request_hold:
 * @ms: how long the answer waits once finished
 *
 * Makes aiq_request_finish() send the answer @ms later, without holding a
 * thread: a client that keeps sending far over its rate limit gets its
 * refusals slowly, which costs the server a timer instead of a TLS write
 * each time.
 */
void
aiq_request_hold(AiqRequest *self, guint ms)
{
	self->hold_ms = ms;
}

guint
aiq_request_get_hold(AiqRequest *self)
{
	return self->hold_ms;
}
