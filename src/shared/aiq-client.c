/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "aiq-client.h"
#include "aiq-document.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-util.h"

/*
 * How a request goes
 *
 * A call (method, path, body bytes, content type, extra headers) becomes a
 * SoupMessage with the bearer token, the user agent and `Accept:
 * application/json`, without redirects (a redirect would carry the token
 * elsewhere). The body of the answer is read in chunks up to the client's
 * size limit, then parsed with a bounded depth. The sync and the async path
 * share everything but the reading: the sync one blocks the calling thread
 * in soup_session_send() and reads the stream with blocking reads, with no
 * main loop involved.
 *
 * TLS: libsoup verifies the peer against the system's CAs. When that fails
 * it emits SoupMessage::accept-certificate, where the certificate is
 * accepted if its SHA-256 digest is the pinned one, or if its chain
 * verifies, host name included, against the extra CA file. Nothing else is
 * ever accepted.
 */

#define AIQ_CLIENT_READ_CHUNK 65536
#define AIQ_CLIENT_MAX_DEPTH 128
#define AIQ_CLIENT_FINGERPRINT_LEN 32

/* replies */

struct _AiqClientReply {
	gatomicrefcount ref_count;
	guint status;
	SoupMessageHeaders *headers; /* nullable */
	JsonNode *body;              /* nullable */
	gchar *error_code;
	JsonNode *error_details;
	GTlsCertificate *peer_certificate;
	GTlsCertificateFlags tls_errors;
};

G_DEFINE_BOXED_TYPE(AiqClientReply, aiq_client_reply, aiq_client_reply_ref, aiq_client_reply_unref)

static AiqClientReply *
aiq_client_reply_new(void)
{
	AiqClientReply *self = g_new0(AiqClientReply, 1);
	g_atomic_ref_count_init(&self->ref_count);
	return self;
}

AiqClientReply *
aiq_client_reply_ref(AiqClientReply *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_ref_count_inc(&self->ref_count);
	return self;
}

void
aiq_client_reply_unref(AiqClientReply *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_ref_count_dec(&self->ref_count))
		return;
	g_clear_pointer(&self->headers, soup_message_headers_unref);
	g_clear_pointer(&self->body, json_node_unref);
	g_free(self->error_code);
	g_clear_pointer(&self->error_details, json_node_unref);
	g_clear_object(&self->peer_certificate);
	g_free(self);
}

/**
 * aiq_client_reply_get_status:
 *
 * Returns: the HTTP status, or 0 when no answer came
 */
guint
aiq_client_reply_get_status(AiqClientReply *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->status;
}

/**
 * aiq_client_reply_get_header:
 *
 * Returns: (nullable): a header of the answer
 */
const gchar *
aiq_client_reply_get_header(AiqClientReply *self, const gchar *name)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(name != NULL, NULL);
	if (self->headers == NULL)
		return NULL;
	return soup_message_headers_get_one(self->headers, name);
}

/**
 * aiq_client_reply_get_request_id:
 *
 * Returns: (nullable): the server's id of the request, for its logs
 */
const gchar *
aiq_client_reply_get_request_id(AiqClientReply *self)
{
	return aiq_client_reply_get_header(self, "X-Request-Id");
}

/**
 * aiq_client_reply_get_retry_after:
 *
 * Returns: the seconds to wait that `Retry-After` asks for (429, 503), or -1
 */
gint64
aiq_client_reply_get_retry_after(AiqClientReply *self)
{
	const gchar *value = aiq_client_reply_get_header(self, "Retry-After");
	guint64 seconds = 0;
	if (value == NULL || !g_ascii_string_to_unsigned(value, 10, 0, G_MAXINT32, &seconds, NULL))
		return -1;
	return (gint64)seconds;
}

/**
 * aiq_client_reply_get_body:
 *
 * Returns: (transfer none) (nullable): the parsed body, error answers included
 */
JsonNode *
aiq_client_reply_get_body(AiqClientReply *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->body;
}

/**
 * aiq_client_reply_get_error_code:
 *
 * Returns: (nullable): `error.code` of an error answer, as the server wrote
 *   it (it may be a code libaiq does not know, like `invalid_credentials`)
 */
const gchar *
aiq_client_reply_get_error_code(AiqClientReply *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->error_code;
}

/**
 * aiq_client_reply_get_error_details:
 *
 * Returns: (transfer none) (nullable): `error.details` of an error answer
 */
JsonNode *
aiq_client_reply_get_error_details(AiqClientReply *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->error_details;
}

/**
 * aiq_client_reply_get_problems:
 *
 * The problems of a definition (`error.details` of a 422
 * `invalid_definition` answer: an array of `{path, message}`).
 *
 * Returns: (transfer full) (nullable): the problems, or %NULL when the
 *   answer has none
 */
AiqProblems *
aiq_client_reply_get_problems(AiqClientReply *self)
{
	g_autoptr(AiqProblems) problems = NULL;
	JsonArray *array;

	g_return_val_if_fail(self != NULL, NULL);
	if (self->error_details == NULL || !JSON_NODE_HOLDS_ARRAY(self->error_details))
		return NULL;
	array = json_node_get_array(self->error_details);
	problems = aiq_problems_new();
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *node = json_array_get_element(array, i);
		JsonObject *obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
		const gchar *path = aiq_json_object_get_string(obj, "path");
		const gchar *message = aiq_json_object_get_string(obj, "message");
		if (message == NULL)
			continue;
		aiq_problems_add(problems, path != NULL ? path : "", "%s", message);
	}
	if (aiq_problems_get_size(problems) == 0)
		return NULL;
	return g_steal_pointer(&problems);
}

/**
 * aiq_client_reply_get_peer_certificate:
 *
 * Returns: (transfer none) (nullable): the certificate the server presented,
 *   also when it was not trusted
 */
GTlsCertificate *
aiq_client_reply_get_peer_certificate(AiqClientReply *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->peer_certificate;
}

/**
 * aiq_client_reply_get_tls_errors:
 *
 * Returns: why the server's certificate was refused, or 0 when it was not
 */
GTlsCertificateFlags
aiq_client_reply_get_tls_errors(AiqClientReply *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->tls_errors;
}

/* the client */

struct _AiqClient {
	GObject parent_instance;
	gchar *base_url; /* without a trailing slash */
	GSocketConnectable *identity;
	SoupSession *session;
	gsize max_response_size;
	GMutex mutex; /* the members below */
	gchar *token;
	gchar *user_agent;
	GTlsDatabase *ca_database;
	gboolean has_pin;
	gboolean reuse_connections;
	guint8 pin[AIQ_CLIENT_FINGERPRINT_LEN];
	GTlsCertificate *rejected; /* the last certificate refused */
	GTlsCertificateFlags rejected_errors;
};

G_DEFINE_TYPE(AiqClient, aiq_client, G_TYPE_OBJECT)

enum { PROP_0, PROP_BASE_URL, N_PROPS };

static GParamSpec *aiq_client_props[N_PROPS];

static void
aiq_client_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	AiqClient *self = AIQ_CLIENT(object);
	switch (prop_id) {
	case PROP_BASE_URL:
		g_value_set_string(value, self->base_url);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_client_finalize(GObject *object)
{
	AiqClient *self = AIQ_CLIENT(object);
	g_free(self->base_url);
	g_clear_object(&self->identity);
	g_clear_object(&self->session);
	g_free(self->token);
	g_free(self->user_agent);
	g_clear_object(&self->ca_database);
	g_clear_object(&self->rejected);
	g_mutex_clear(&self->mutex);
	G_OBJECT_CLASS(aiq_client_parent_class)->finalize(object);
}

static void
aiq_client_class_init(AiqClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = aiq_client_get_property;
	object_class->finalize = aiq_client_finalize;
	aiq_client_props[PROP_BASE_URL] =
		g_param_spec_string("base-url",
				    NULL,
				    NULL,
				    NULL,
				    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, aiq_client_props);
}

static void
aiq_client_init(AiqClient *self)
{
	g_mutex_init(&self->mutex);
	self->max_response_size = AIQ_CLIENT_DEFAULT_MAX_RESPONSE_SIZE;
	self->user_agent = g_strdup("automateiq/" PACKAGE_VERSION);
	self->session = soup_session_new_with_options("timeout",
						      AIQ_CLIENT_DEFAULT_TIMEOUT,
						      "idle-timeout",
						      AIQ_CLIENT_DEFAULT_TIMEOUT,
						      /* an agent's long-poll, heartbeat and event
						       * sync go to one host at once */
						      "max-conns-per-host",
						      8,
						      NULL);
}

/**
 * aiq_client_new:
 * @base_url: the server, e.g. `https://aiq.example.com:8443` (a path
 *   prefix is kept, for a server behind a reverse proxy)
 *
 * Returns: (transfer full): a client, or %NULL with
 *   %AIQ_ERROR_INVALID_ARGUMENT for an address that is not http(s)
 */
AiqClient *
aiq_client_new(const gchar *base_url, GError **error)
{
	g_autoptr(AiqClient) self = NULL;
	g_autoptr(GUri) uri = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *path = NULL;
	const gchar *scheme;
	gint port;

	g_return_val_if_fail(base_url != NULL, NULL);

	uri = g_uri_parse(base_url,
			  SOUP_HTTP_URI_FLAGS & ~G_URI_FLAGS_SCHEME_NORMALIZE,
			  &error_local);
	if (uri == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a server address: %s"),
			    base_url,
			    error_local->message);
		return NULL;
	}
	scheme = g_uri_get_scheme(uri);
	if (scheme != NULL && g_ascii_strcasecmp(scheme, "HTTPS") == 0)
		scheme = "https";
	else if (scheme != NULL && g_ascii_strcasecmp(scheme, "HTTP") == 0)
		scheme = "http";
	if ((g_strcmp0(scheme, "https") != 0 && g_strcmp0(scheme, "http") != 0) ||
	    g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0' ||
	    g_uri_get_query(uri) != NULL || g_uri_get_fragment(uri) != NULL ||
	    g_uri_get_userinfo(uri) != NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a server address such as https://aiq.example.com"),
			    base_url);
		return NULL;
	}
	port = g_uri_get_port(uri);
	if (port <= 0)
		port = g_strcmp0(scheme, "https") == 0 ? 443 : 80;
	path = g_strdup(g_uri_get_path(uri));
	while (path[0] != '\0' && path[strlen(path) - 1] == '/')
		path[strlen(path) - 1] = '\0';

	self = g_object_new(AIQ_TYPE_CLIENT, NULL);
	self->base_url = g_uri_join(G_URI_FLAGS_ENCODED_PATH,
				    scheme,
				    NULL,
				    g_uri_get_host(uri),
				    g_uri_get_port(uri),
				    path,
				    NULL,
				    NULL);
	self->identity = g_network_address_new(g_uri_get_host(uri), (guint16)port);
	return g_steal_pointer(&self);
}

/**
 * aiq_client_get_base_url:
 *
 * Returns: the server address, normalised (no trailing slash)
 */
const gchar *
aiq_client_get_base_url(AiqClient *self)
{
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	return self->base_url;
}

/**
 * aiq_client_set_token:
 * @token: (nullable): a session token, API key or agent credential
 *
 * Sent as `Authorization: Bearer` with every later request.
 */
void
aiq_client_set_token(AiqClient *self, const gchar *token)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_mutex_lock(&self->mutex);
	g_free(self->token);
	self->token = g_strdup(token);
	g_mutex_unlock(&self->mutex);
}

static GTlsDatabase *
aiq_client_load_ca_file(const gchar *filename, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	GTlsDatabase *database = g_tls_file_database_new(filename, &error_local);
	if (database == NULL)
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("cannot read the CA certificates of %s: %s"),
			    filename,
			    error_local->message);
	return database;
}

/**
 * aiq_client_set_ca_file:
 * @filename: (nullable): PEM file with one or more CA certificates
 *
 * Trusts the CAs of @filename for the server's certificate, in addition to
 * the system's. Verification (the chain, the dates and the host name)
 * stays on.
 */
gboolean
aiq_client_set_ca_file(AiqClient *self, const gchar *filename, GError **error)
{
	g_autoptr(GTlsDatabase) database = NULL;

	g_return_val_if_fail(AIQ_IS_CLIENT(self), FALSE);
	if (filename != NULL) {
		database = aiq_client_load_ca_file(filename, error);
		if (database == NULL)
			return FALSE;
	}
	g_mutex_lock(&self->mutex);
	g_set_object(&self->ca_database, database);
	g_mutex_unlock(&self->mutex);
	return TRUE;
}

/**
 * aiq_client_set_trusted_ca_file:
 * @filename: PEM certificates
 *
 * Trusts only the CAs of @filename (host name checked as always), not the
 * system's: for an agent enrolled with its server's CA. The system's store
 * is then never loaded, which saves its memory.
 */
gboolean
aiq_client_set_trusted_ca_file(AiqClient *self, const gchar *filename, GError **error)
{
	g_autoptr(GTlsDatabase) database = NULL;

	g_return_val_if_fail(AIQ_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(filename != NULL, FALSE);
	database = aiq_client_load_ca_file(filename, error);
	if (database == NULL)
		return FALSE;
	soup_session_set_tls_database(self->session, database);
	return TRUE;
}

static gboolean
aiq_client_fingerprint_parse(const gchar *text, guint8 *digest)
{
	guint n = 0;
	for (const gchar *p = text; *p != '\0';) {
		if (*p == ':' || *p == ' ') {
			p++;
			continue;
		}
		if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]) ||
		    n == AIQ_CLIENT_FINGERPRINT_LEN)
			return FALSE;
		digest[n++] =
			(guint8)(g_ascii_xdigit_value(p[0]) * 16 + g_ascii_xdigit_value(p[1]));
		p += 2;
	}
	return n == AIQ_CLIENT_FINGERPRINT_LEN;
}

/**
 * aiq_client_fingerprint_is_valid:
 *
 * Returns: whether @fingerprint is a SHA-256 fingerprint: 64 hex digits,
 *   optionally in pairs separated by colons (`AB:CD:…`)
 */
gboolean
aiq_client_fingerprint_is_valid(const gchar *fingerprint)
{
	guint8 digest[AIQ_CLIENT_FINGERPRINT_LEN];
	return fingerprint != NULL && aiq_client_fingerprint_parse(fingerprint, digest);
}

/**
 * aiq_client_set_pinned_fingerprint:
 * @fingerprint: (nullable): SHA-256 of the certificate (its DER form), as
 *   64 hex digits with or without colons
 *
 * Accepts the server's certificate when it is exactly this one, even if no
 * trusted CA signed it (the designer's "trust this certificate" for a
 * self-signed server). Other certificates are still verified as usual.
 */
gboolean
aiq_client_set_pinned_fingerprint(AiqClient *self, const gchar *fingerprint, GError **error)
{
	guint8 digest[AIQ_CLIENT_FINGERPRINT_LEN] = { 0 };

	g_return_val_if_fail(AIQ_IS_CLIENT(self), FALSE);
	if (fingerprint != NULL && !aiq_client_fingerprint_parse(fingerprint, digest)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a SHA-256 fingerprint (64 hex digits, like AB:CD:…)"),
			    fingerprint);
		return FALSE;
	}
	g_mutex_lock(&self->mutex);
	self->has_pin = fingerprint != NULL;
	memcpy(self->pin, digest, sizeof(digest));
	g_mutex_unlock(&self->mutex);
	return TRUE;
}

static const gchar *
aiq_client_getenv_either(const gchar *lower, const gchar *upper)
{
	const gchar *value = g_getenv(lower);
	if (value == NULL || value[0] == '\0')
		value = g_getenv(upper);
	return value != NULL && value[0] != '\0' ? value : NULL;
}

/**
 * aiq_client_set_reuse_connections:
 *
 * Marks every request as safe to resend, so that POSTs reuse open
 * connections instead of a new TLS handshake each (libsoup resends one when
 * a kept-alive connection turns out closed). For the agent, whose calls are
 * idempotent: events and heartbeats are, and a lease answer lost that way
 * only waits for its lease to run out.
 */
void
aiq_client_set_reuse_connections(AiqClient *self, gboolean reuse)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	self->reuse_connections = reuse;
}

/**
 * aiq_client_use_environment_proxy:
 *
 * Uses the proxy named by `https_proxy` (or `http_proxy`) with the hosts of
 * `no_proxy` going direct, or no proxy at all, instead of the desktop's
 * settings: what a system service expects, without loading libproxy.
 */
void
aiq_client_use_environment_proxy(AiqClient *self)
{
	const gchar *proxy;
	g_auto(GStrv) ignore = NULL;
	g_autoptr(GProxyResolver) resolver = NULL;

	g_return_if_fail(AIQ_IS_CLIENT(self));
	proxy = aiq_client_getenv_either("https_proxy", "HTTPS_PROXY");
	if (proxy == NULL)
		proxy = aiq_client_getenv_either("http_proxy", "HTTP_PROXY");
	if (proxy != NULL) {
		const gchar *no_proxy = aiq_client_getenv_either("no_proxy", "NO_PROXY");
		if (no_proxy != NULL) {
			ignore = g_strsplit(no_proxy, ",", -1);
			for (guint i = 0; ignore[i] != NULL; i++)
				g_strstrip(ignore[i]);
		}
		resolver = g_simple_proxy_resolver_new(proxy, ignore);
	}
	soup_session_set_proxy_resolver(self->session, resolver);
}

/**
 * aiq_client_set_user_agent:
 * @user_agent: (nullable): e.g. `aiqctl/0.1.0`; %NULL for the default
 */
void
aiq_client_set_user_agent(AiqClient *self, const gchar *user_agent)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_mutex_lock(&self->mutex);
	g_free(self->user_agent);
	self->user_agent =
		g_strdup(user_agent != NULL ? user_agent : "automateiq/" PACKAGE_VERSION);
	g_mutex_unlock(&self->mutex);
}

/**
 * aiq_client_set_timeout:
 * @seconds: the longest wait for the server while connecting, sending or
 *   receiving, 0 for none; longer than any long-poll the caller makes
 *
 * Call before the first request, from the thread that made the client.
 */
void
aiq_client_set_timeout(AiqClient *self, guint seconds)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	soup_session_set_timeout(self->session, seconds);
	soup_session_set_idle_timeout(self->session, seconds);
}

/**
 * aiq_client_set_max_response_size:
 *
 * The largest answer body read; a larger one fails with
 * %AIQ_ERROR_TOO_LARGE.
 */
void
aiq_client_set_max_response_size(AiqClient *self, gsize max_size)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(max_size > 0);
	self->max_response_size = max_size;
}

/**
 * aiq_client_dup_rejected_certificate:
 * @errors: (out) (optional): why it was refused
 *
 * The certificate the server presented the last time one was refused, so
 * that a UI can show its fingerprint and offer to trust it. Forgotten once
 * a request gets an answer.
 *
 * Returns: (transfer full) (nullable): the certificate, or %NULL
 */
GTlsCertificate *
aiq_client_dup_rejected_certificate(AiqClient *self, GTlsCertificateFlags *errors)
{
	GTlsCertificate *certificate = NULL;
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_mutex_lock(&self->mutex);
	if (self->rejected != NULL)
		certificate = g_object_ref(self->rejected);
	if (errors != NULL)
		*errors = self->rejected_errors;
	g_mutex_unlock(&self->mutex);
	return certificate;
}

static void
aiq_client_certificate_digest(GTlsCertificate *certificate, guint8 *digest)
{
	g_autoptr(GByteArray) der = NULL;
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);
	gsize len = AIQ_CLIENT_FINGERPRINT_LEN;

	g_object_get(certificate, "certificate", &der, NULL);
	if (der != NULL)
		g_checksum_update(checksum, der->data, der->len);
	g_checksum_get_digest(checksum, digest, &len);
}

/**
 * aiq_client_fingerprint_from_certificate:
 *
 * Returns: (transfer full): the SHA-256 fingerprint of @certificate (its DER
 *   form) as `AB:CD:…`, the form automateiq-server prints
 */
gchar *
aiq_client_fingerprint_from_certificate(GTlsCertificate *certificate)
{
	guint8 digest[AIQ_CLIENT_FINGERPRINT_LEN];
	GString *str = g_string_new(NULL);

	g_return_val_if_fail(G_IS_TLS_CERTIFICATE(certificate), NULL);
	aiq_client_certificate_digest(certificate, digest);
	for (guint i = 0; i < AIQ_CLIENT_FINGERPRINT_LEN; i++)
		g_string_append_printf(str, "%s%02X", i > 0 ? ":" : "", digest[i]);
	return g_string_free(str, FALSE);
}

/* one call: what to send */

typedef struct {
	gchar *method;
	gchar *path;
	GBytes *body;
	gchar *content_type;
	GHashTable *headers;
} AiqClientCall;

static void
aiq_client_call_clear(AiqClientCall *call)
{
	g_clear_pointer(&call->method, g_free);
	g_clear_pointer(&call->path, g_free);
	g_clear_pointer(&call->body, g_bytes_unref);
	g_clear_pointer(&call->content_type, g_free);
	g_clear_pointer(&call->headers, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AiqClientCall, aiq_client_call_clear)

static void
aiq_client_call_init(AiqClientCall *call,
		     const gchar *method,
		     gchar *path, /* transfer full */
		     GBytes *body,
		     const gchar *content_type,
		     GHashTable *headers)
{
	call->method = g_strdup(method);
	call->path = path;
	call->body = body != NULL ? g_bytes_ref(body) : NULL;
	call->content_type = g_strdup(content_type);
	call->headers = headers != NULL ? g_hash_table_ref(headers) : NULL;
}

static void
aiq_client_call_init_json(AiqClientCall *call,
			  const gchar *method,
			  gchar *path,
			  JsonNode *body,
			  const gchar *content_type)
{
	g_autoptr(GBytes) bytes = NULL;
	if (body != NULL) {
		gchar *text = aiq_json_to_string(body, FALSE);
		bytes = g_bytes_new_take(text, strlen(text));
	}
	aiq_client_call_init(call,
			     method,
			     path,
			     bytes,
			     content_type != NULL ? content_type : "application/json",
			     NULL);
}

/* a path with escaped segments: PREFIX/ID[/SUFFIX]; an id of "." or ".."
 * is escaped too, or it would climb the path */
static gchar *
aiq_client_path(const gchar *prefix, const gchar *id, const gchar *suffix)
{
	g_autofree gchar *escaped = NULL;
	if (g_strcmp0(id, ".") == 0 || g_strcmp0(id, "..") == 0)
		escaped = g_strcmp0(id, ".") == 0 ? g_strdup("%2E") : g_strdup("%2E%2E");
	else
		escaped = g_uri_escape_string(id, NULL, FALSE);
	if (suffix != NULL)
		return g_strdup_printf("%s/%s/%s", prefix, escaped, suffix);
	return g_strdup_printf("%s/%s", prefix, escaped);
}

static void
aiq_client_query_add(GString *path, const gchar *key, const gchar *value)
{
	g_autofree gchar *escaped = NULL;
	if (value == NULL)
		return;
	escaped = g_uri_escape_string(value, NULL, FALSE);
	g_string_append_printf(path, "%c%s=%s", strchr(path->str, '?') ? '&' : '?', key, escaped);
}

static void
aiq_client_query_add_int(GString *path, const gchar *key, gint64 value)
{
	g_autofree gchar *text = g_strdup_printf("%" G_GINT64_FORMAT, value);
	aiq_client_query_add(path, key, text);
}

static void
aiq_client_query_add_time(GString *path, const gchar *key, gint64 unix_us)
{
	g_autofree gchar *text = NULL;
	if (unix_us == 0)
		return;
	text = aiq_time_to_iso8601(unix_us);
	aiq_client_query_add(path, key, text);
}

/* one call: its state while it runs */

typedef struct {
	AiqClient *client;
	SoupMessage *msg;
	GInputStream *stream;
	GByteArray *buffer;
	AiqClientReply *reply;
} AiqClientRequest;

static void
aiq_client_request_free(AiqClientRequest *req)
{
	if (req->msg != NULL)
		g_signal_handlers_disconnect_by_data(req->msg, req);
	g_clear_object(&req->msg);
	g_clear_object(&req->stream);
	g_clear_pointer(&req->buffer, g_byte_array_unref);
	g_clear_pointer(&req->reply, aiq_client_reply_unref);
	g_clear_object(&req->client);
	g_free(req);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqClientRequest, aiq_client_request_free)

static gboolean
aiq_client_accept_certificate_cb(SoupMessage *msg,
				 GTlsCertificate *certificate,
				 GTlsCertificateFlags errors,
				 gpointer user_data)
{
	AiqClientRequest *req = user_data;
	AiqClient *self = req->client;
	g_autoptr(GTlsDatabase) database = NULL;
	guint8 pin[AIQ_CLIENT_FINGERPRINT_LEN];
	gboolean has_pin;

	g_set_object(&req->reply->peer_certificate, certificate);
	req->reply->tls_errors = errors;

	g_mutex_lock(&self->mutex);
	has_pin = self->has_pin;
	memcpy(pin, self->pin, sizeof(pin));
	if (self->ca_database != NULL)
		database = g_object_ref(self->ca_database);
	g_mutex_unlock(&self->mutex);

	if (has_pin) {
		guint8 digest[AIQ_CLIENT_FINGERPRINT_LEN];
		aiq_client_certificate_digest(certificate, digest);
		if (memcmp(digest, pin, sizeof(digest)) == 0) {
			g_debug("accepting the pinned certificate of %s", self->base_url);
			req->reply->tls_errors = 0;
			return TRUE;
		}
	}
	if (database != NULL) {
		g_autoptr(GError) error = NULL;
		GTlsCertificateFlags flags =
			g_tls_database_verify_chain(database,
						    certificate,
						    G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
						    self->identity,
						    NULL,
						    G_TLS_DATABASE_VERIFY_NONE,
						    NULL,
						    &error);
		if (error == NULL && flags == 0) {
			req->reply->tls_errors = 0;
			return TRUE;
		}
		if (error != NULL)
			g_debug("verifying against the CA file failed: %s", error->message);
		else
			req->reply->tls_errors = flags;
	}
	g_mutex_lock(&self->mutex);
	g_set_object(&self->rejected, certificate);
	self->rejected_errors = req->reply->tls_errors;
	g_mutex_unlock(&self->mutex);
	return FALSE;
}

static AiqClientRequest *
aiq_client_request_new(AiqClient *self, const AiqClientCall *call, GError **error)
{
	g_autoptr(AiqClientRequest) req = g_new0(AiqClientRequest, 1);
	g_autofree gchar *url = NULL;
	g_autofree gchar *authorization = NULL;
	g_autoptr(GUri) uri = NULL;
	g_autoptr(GError) error_local = NULL;
	SoupMessageHeaders *headers;

	if (call->path[0] != '/') {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    "path %s does not start with /",
			    call->path);
		return NULL;
	}
	url = g_strconcat(self->base_url, call->path, NULL);
	uri = g_uri_parse(url, SOUP_HTTP_URI_FLAGS, &error_local);
	if (uri == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    "%s: %s",
			    url,
			    error_local->message);
		return NULL;
	}
	req->client = g_object_ref(self);
	req->reply = aiq_client_reply_new();
	req->msg = soup_message_new_from_uri(call->method, uri);
	soup_message_add_flags(req->msg, SOUP_MESSAGE_NO_REDIRECT);
	/* libsoup opens a new connection for every request it may not resend;
	 * a caller whose requests are all safe to resend keeps one open */
	if (self->reuse_connections)
		soup_message_add_flags(req->msg, SOUP_MESSAGE_IDEMPOTENT);
	headers = soup_message_get_request_headers(req->msg);

	g_mutex_lock(&self->mutex);
	if (self->token != NULL)
		authorization = g_strdup_printf("Bearer %s", self->token);
	soup_message_headers_replace(headers, "User-Agent", self->user_agent);
	g_mutex_unlock(&self->mutex);

	soup_message_headers_replace(headers, "Accept", "application/json");
	if (authorization != NULL)
		soup_message_headers_replace(headers, "Authorization", authorization);
	if (call->headers != NULL) {
		GHashTableIter iter;
		gpointer key, value;
		g_hash_table_iter_init(&iter, call->headers);
		while (g_hash_table_iter_next(&iter, &key, &value))
			soup_message_headers_replace(headers, key, value);
	}
	if (call->body != NULL)
		soup_message_set_request_body_from_bytes(req->msg,
							 call->content_type != NULL
								 ? call->content_type
								 : "application/octet-stream",
							 call->body);
	g_signal_connect(req->msg,
			 "accept-certificate",
			 G_CALLBACK(aiq_client_accept_certificate_cb),
			 req);
	return g_steal_pointer(&req);
}

static gchar *
aiq_client_tls_errors_to_string(GTlsCertificateFlags flags)
{
	g_autoptr(GPtrArray) reasons = g_ptr_array_new();
	if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA)
		g_ptr_array_add(reasons, _("it is not signed by a trusted authority"));
	if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY)
		g_ptr_array_add(reasons, _("it was made for another host name"));
	if (flags & G_TLS_CERTIFICATE_NOT_ACTIVATED)
		g_ptr_array_add(reasons, _("it is not valid yet"));
	if (flags & G_TLS_CERTIFICATE_EXPIRED)
		g_ptr_array_add(reasons, _("it has expired"));
	if (flags & G_TLS_CERTIFICATE_REVOKED)
		g_ptr_array_add(reasons, _("it has been revoked"));
	if (flags & G_TLS_CERTIFICATE_INSECURE)
		g_ptr_array_add(reasons, _("it uses an insecure algorithm"));
	if (reasons->len == 0)
		g_ptr_array_add(reasons, _("it is not valid"));
	g_ptr_array_add(reasons, NULL);
	return g_strjoinv(_("; "), (gchar **)reasons->pdata);
}

/* a failure before an answer: no connection, TLS, a timeout, a cut stream */
static void
aiq_client_request_set_transport_error(AiqClientRequest *req, GError *error, GError **perror)
{
	AiqClient *self = req->client;
	AiqClientReply *reply = req->reply;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		/* the caller's own cancellation stays G_IO_ERROR_CANCELLED (GIO's
		 * convention, which UIs check to stay silent) */
		g_propagate_error(perror, g_error_copy(error));
		return;
	}
	if (reply->peer_certificate != NULL && reply->tls_errors != 0) {
		g_autofree gchar *fingerprint =
			aiq_client_fingerprint_from_certificate(reply->peer_certificate);
		g_autofree gchar *reasons = aiq_client_tls_errors_to_string(reply->tls_errors);
		g_set_error(perror,
			    AIQ_ERROR,
			    AIQ_ERROR_CONNECTION,
			    _("the TLS certificate of %s is not trusted: %s (its SHA-256 "
			      "fingerprint is %s)"),
			    self->base_url,
			    reasons,
			    fingerprint);
		return;
	}
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
		g_set_error(perror,
			    AIQ_ERROR,
			    AIQ_ERROR_TIMED_OUT,
			    _("%s did not answer in time"),
			    self->base_url);
		return;
	}
	if (error->domain == G_TLS_ERROR) {
		g_set_error(perror,
			    AIQ_ERROR,
			    AIQ_ERROR_CONNECTION,
			    _("TLS with %s failed: %s"),
			    self->base_url,
			    error->message);
		return;
	}
	g_set_error(perror,
		    AIQ_ERROR,
		    AIQ_ERROR_CONNECTION,
		    _("cannot reach %s: %s"),
		    self->base_url,
		    error->message);
}

static gboolean
aiq_client_content_type_is_json(const gchar *content_type)
{
	return content_type != NULL && (g_ascii_strcasecmp(content_type, "application/json") == 0 ||
					g_str_has_suffix(content_type, "+json"));
}

static AiqError
aiq_client_code_for_status(guint status)
{
	switch (status) {
	case SOUP_STATUS_BAD_REQUEST:
	case SOUP_STATUS_METHOD_NOT_ALLOWED:
	case SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE:
		return AIQ_ERROR_INVALID_ARGUMENT;
	case SOUP_STATUS_UNAUTHORIZED:
		return AIQ_ERROR_UNAUTHENTICATED;
	case SOUP_STATUS_FORBIDDEN:
		return AIQ_ERROR_FORBIDDEN;
	case SOUP_STATUS_NOT_FOUND:
	case SOUP_STATUS_GONE:
		return AIQ_ERROR_NOT_FOUND;
	case SOUP_STATUS_CONFLICT:
	case SOUP_STATUS_PRECONDITION_FAILED:
		return AIQ_ERROR_CONFLICT;
	case SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE:
		return AIQ_ERROR_TOO_LARGE;
	case SOUP_STATUS_UNPROCESSABLE_ENTITY:
		return AIQ_ERROR_INVALID_INPUT;
	case 429:
		return AIQ_ERROR_RATE_LIMITED;
	case SOUP_STATUS_BAD_GATEWAY:
	case SOUP_STATUS_SERVICE_UNAVAILABLE:
	case SOUP_STATUS_GATEWAY_TIMEOUT:
		return AIQ_ERROR_UNAVAILABLE;
	default:
		return AIQ_ERROR_FAILED;
	}
}

/* the answer is complete: the reply, and the body or the error */
static JsonNode *
aiq_client_request_complete(AiqClientRequest *req, GError **error)
{
	AiqClientReply *reply = req->reply;
	SoupMessageHeaders *headers = soup_message_get_response_headers(req->msg);
	const gchar *content_type = soup_message_headers_get_content_type(headers, NULL);
	const gchar *data = req->buffer != NULL ? (const gchar *)req->buffer->data : "";
	gsize len = req->buffer != NULL ? req->buffer->len : 0;
	g_autoptr(GError) parse_error = NULL;
	g_autoptr(JsonNode) body = NULL;
	JsonObject *err_obj = NULL;
	const gchar *message;
	AiqError code;

	reply->status = soup_message_get_status(req->msg);
	reply->headers = soup_message_headers_ref(headers);
	g_mutex_lock(&req->client->mutex);
	g_clear_object(&req->client->rejected);
	req->client->rejected_errors = 0;
	g_mutex_unlock(&req->client->mutex);
	if (reply->peer_certificate == NULL && soup_message_get_tls_peer_certificate(req->msg))
		reply->peer_certificate =
			g_object_ref(soup_message_get_tls_peer_certificate(req->msg));

	if (len == 0) {
		body = json_node_new(JSON_NODE_NULL);
	} else if (aiq_client_content_type_is_json(content_type)) {
		body = aiq_json_parse(data, len, AIQ_CLIENT_MAX_DEPTH, &parse_error);
	} else if (g_utf8_validate(data, (gssize)len, NULL)) {
		g_autofree gchar *text = g_strndup(data, len);
		body = aiq_json_new_string(text);
	}
	if (body != NULL)
		reply->body = json_node_ref(body);

	if (SOUP_STATUS_IS_SUCCESSFUL(reply->status)) {
		if (parse_error != NULL) {
			g_propagate_prefixed_error(error,
						   g_steal_pointer(&parse_error),
						   _("the answer of %s is not valid: "),
						   req->client->base_url);
			return NULL;
		}
		if (body == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DOCUMENT,
				    _("the answer of %s is neither JSON nor text"),
				    req->client->base_url);
			return NULL;
		}
		return g_steal_pointer(&body);
	}

	/* an error answer: {"error": {"code", "message", "details"}} */
	if (body != NULL && JSON_NODE_HOLDS_OBJECT(body))
		err_obj = aiq_json_object_get_object(json_node_get_object(body), "error");
	reply->error_code = g_strdup(aiq_json_object_get_string(err_obj, "code"));
	if (err_obj != NULL && json_object_has_member(err_obj, "details") &&
	    !JSON_NODE_HOLDS_NULL(json_object_get_member(err_obj, "details")))
		reply->error_details = json_node_copy(json_object_get_member(err_obj, "details"));
	code = aiq_error_code_from_string(reply->error_code);
	if (code == AIQ_ERROR_FAILED && g_strcmp0(reply->error_code, "failed") != 0)
		code = aiq_client_code_for_status(reply->status);
	message = aiq_json_object_get_string(err_obj, "message");
	if (message != NULL) {
		g_set_error_literal(error, AIQ_ERROR, code, message);
	} else if (SOUP_STATUS_IS_REDIRECTION(reply->status)) {
		const gchar *location = soup_message_headers_get_one(headers, "Location");
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    _("%s redirects to %s; use that address"),
			    req->client->base_url,
			    location != NULL ? location : "?");
	} else {
		const gchar *phrase = soup_message_get_reason_phrase(req->msg);
		g_set_error(error,
			    AIQ_ERROR,
			    code,
			    _("%s answered HTTP %u %s"),
			    req->client->base_url,
			    reply->status,
			    phrase != NULL && phrase[0] != '\0'
				    ? phrase
				    : soup_status_get_phrase(reply->status));
	}
	return NULL;
}

static gboolean
aiq_client_request_check_length(AiqClientRequest *req, gsize more, GError **error)
{
	SoupMessageHeaders *headers = soup_message_get_response_headers(req->msg);
	gsize max = req->client->max_response_size;
	goffset declared = 0;

	if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH)
		declared = soup_message_headers_get_content_length(headers);
	if ((declared > 0 && (guint64)declared > max) ||
	    (req->buffer != NULL && req->buffer->len + more > max)) {
		g_autofree gchar *size = aiq_size_to_string(max);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("the answer of %s is larger than %s"),
			    req->client->base_url,
			    size);
		return FALSE;
	}
	return TRUE;
}

static JsonNode *
aiq_client_call_sync(AiqClient *self,
		     const AiqClientCall *call,
		     GCancellable *cancellable,
		     AiqClientReply **reply,
		     GError **error)
{
	g_autoptr(AiqClientRequest) req = aiq_client_request_new(self, call, error);
	g_autoptr(GError) error_local = NULL;
	JsonNode *node = NULL;

	if (req == NULL)
		return NULL;
	req->stream = soup_session_send(self->session, req->msg, cancellable, &error_local);
	if (req->stream == NULL) {
		aiq_client_request_set_transport_error(req, error_local, error);
		goto out;
	}
	req->buffer = g_byte_array_new();
	if (!aiq_client_request_check_length(req, 0, error))
		goto out;
	for (;;) {
		g_autoptr(GBytes) chunk = g_input_stream_read_bytes(req->stream,
								    AIQ_CLIENT_READ_CHUNK,
								    cancellable,
								    &error_local);
		if (chunk == NULL) {
			aiq_client_request_set_transport_error(req, error_local, error);
			goto out;
		}
		if (g_bytes_get_size(chunk) == 0)
			break;
		if (!aiq_client_request_check_length(req, g_bytes_get_size(chunk), error))
			goto out;
		g_byte_array_append(req->buffer,
				    g_bytes_get_data(chunk, NULL),
				    g_bytes_get_size(chunk));
	}
	g_input_stream_close(req->stream, NULL, NULL);
	node = aiq_client_request_complete(req, error);
out:
	if (reply != NULL)
		*reply = aiq_client_reply_ref(req->reply);
	return node;
}

static void
aiq_client_read_cb(GObject *source, GAsyncResult *result, gpointer user_data);

static void
aiq_client_read_more(GTask *task)
{
	AiqClientRequest *req = g_task_get_task_data(task);
	g_input_stream_read_bytes_async(req->stream,
					AIQ_CLIENT_READ_CHUNK,
					G_PRIORITY_DEFAULT,
					g_task_get_cancellable(task),
					aiq_client_read_cb,
					task);
}

static void
aiq_client_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	AiqClientRequest *req = g_task_get_task_data(task);
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) chunk = NULL;
	JsonNode *node;

	chunk = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error_local);
	if (chunk == NULL) {
		aiq_client_request_set_transport_error(req, error_local, &error);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (g_bytes_get_size(chunk) > 0) {
		if (!aiq_client_request_check_length(req, g_bytes_get_size(chunk), &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		g_byte_array_append(req->buffer,
				    g_bytes_get_data(chunk, NULL),
				    g_bytes_get_size(chunk));
		aiq_client_read_more(g_steal_pointer(&task));
		return;
	}
	node = aiq_client_request_complete(req, &error);
	if (node == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, node, (GDestroyNotify)json_node_unref);
}

static void
aiq_client_send_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	AiqClientRequest *req = g_task_get_task_data(task);
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GError) error = NULL;

	req->stream = soup_session_send_finish(SOUP_SESSION(source), result, &error_local);
	if (req->stream == NULL) {
		aiq_client_request_set_transport_error(req, error_local, &error);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	req->buffer = g_byte_array_new();
	if (!aiq_client_request_check_length(req, 0, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	aiq_client_read_more(g_steal_pointer(&task));
}

static void
aiq_client_call_async(AiqClient *self,
		      const AiqClientCall *call,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(GError) error = NULL;
	AiqClientRequest *req;

	g_task_set_source_tag(task, aiq_client_request_async);
	req = aiq_client_request_new(self, call, &error);
	if (req == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_set_task_data(task, req, (GDestroyNotify)aiq_client_request_free);
	soup_session_send_async(self->session,
				req->msg,
				G_PRIORITY_DEFAULT,
				cancellable,
				aiq_client_send_cb,
				g_steal_pointer(&task));
}

/**
 * aiq_client_request_async:
 * @method: GET, POST, PUT, PATCH or DELETE
 * @path: from the server's root, e.g. `/api/v1/workflows?name=x`
 * @body: (nullable): sent as JSON
 * @content_type: (nullable): of @body; `application/json` when %NULL
 * @headers: (nullable) (element-type utf8 utf8): more request headers
 *
 * Sends a request; finish with aiq_client_request_finish(). For a body
 * that is not JSON (a YAML definition) use aiq_client_request_bytes_async().
 */
void
aiq_client_request_async(AiqClient *self,
			 const gchar *method,
			 const gchar *path,
			 JsonNode *body,
			 const gchar *content_type,
			 GHashTable *headers,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(method != NULL);
	g_return_if_fail(path != NULL);
	aiq_client_call_init_json(&call, method, g_strdup(path), body, content_type);
	if (headers != NULL)
		call.headers = g_hash_table_ref(headers);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

/**
 * aiq_client_request_bytes_async:
 * @body: (nullable): sent as is
 * @content_type: (nullable): of @body, e.g. `application/yaml`
 *
 * Like aiq_client_request_async() with a body of any type.
 */
void
aiq_client_request_bytes_async(AiqClient *self,
			       const gchar *method,
			       const gchar *path,
			       GBytes *body,
			       const gchar *content_type,
			       GHashTable *headers,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(method != NULL);
	g_return_if_fail(path != NULL);
	aiq_client_call_init(&call, method, g_strdup(path), body, content_type, headers);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

/**
 * aiq_client_request_finish:
 * @reply: (out) (optional) (transfer full): what the server answered, set
 *   also when the request fails (status 0 when no answer came)
 *
 * Finishes any async call of the client.
 *
 * Errors are %AIQ_ERROR: the server's `error.code` for an error answer,
 * %AIQ_ERROR_CONNECTION when the server could not be reached or its
 * certificate is not trusted, %AIQ_ERROR_TIMED_OUT, %AIQ_ERROR_TOO_LARGE;
 * except that a cancellation by @cancellable is %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer full): the answer's JSON (a JSON null for an empty
 *   answer, a JSON string for a text one), or %NULL on error
 */
JsonNode *
aiq_client_request_finish(AiqClient *self,
			  GAsyncResult *result,
			  AiqClientReply **reply,
			  GError **error)
{
	AiqClientRequest *req;
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(g_task_is_valid(result, self), NULL);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == aiq_client_request_async,
			     NULL);
	req = g_task_get_task_data(G_TASK(result));
	if (reply != NULL)
		*reply = req != NULL ? aiq_client_reply_ref(req->reply) : aiq_client_reply_new();
	return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * aiq_client_request_sync:
 * @reply: (out) (optional) (transfer full): as for aiq_client_request_finish()
 *
 * Like aiq_client_request_async(), blocking the calling thread (no main
 * loop runs meanwhile). Not for a UI thread.
 *
 * Returns: (transfer full): as aiq_client_request_finish()
 */
JsonNode *
aiq_client_request_sync(AiqClient *self,
			const gchar *method,
			const gchar *path,
			JsonNode *body,
			const gchar *content_type,
			GHashTable *headers,
			GCancellable *cancellable,
			AiqClientReply **reply,
			GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(method != NULL, NULL);
	g_return_val_if_fail(path != NULL, NULL);
	aiq_client_call_init_json(&call, method, g_strdup(path), body, content_type);
	if (headers != NULL)
		call.headers = g_hash_table_ref(headers);
	return aiq_client_call_sync(self, &call, cancellable, reply, error);
}

/**
 * aiq_client_request_bytes_sync:
 *
 * Like aiq_client_request_bytes_async(), blocking the calling thread.
 *
 * Returns: (transfer full): as aiq_client_request_finish()
 */
JsonNode *
aiq_client_request_bytes_sync(AiqClient *self,
			      const gchar *method,
			      const gchar *path,
			      GBytes *body,
			      const gchar *content_type,
			      GHashTable *headers,
			      GCancellable *cancellable,
			      AiqClientReply **reply,
			      GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(method != NULL, NULL);
	g_return_val_if_fail(path != NULL, NULL);
	aiq_client_call_init(&call, method, g_strdup(path), body, content_type, headers);
	return aiq_client_call_sync(self, &call, cancellable, reply, error);
}

/*
 * Typed calls: each is described once, by an aiq_client_call_*() builder
 * that fills an AiqClientCall (its method, path, body and headers) or, for
 * a call that takes nothing but an id, by an AiqClientRoute; the public
 * async and sync wrappers check their arguments and send what it made.
 */

#define AIQ_API "/api/v1"

/* METHOD PREFIX/{id}[/SUFFIX] with an optional JSON body */
static void
aiq_client_call_init_item(AiqClientCall *call,
			  const gchar *method,
			  const gchar *prefix,
			  const gchar *id,
			  const gchar *suffix,
			  JsonNode *body)
{
	aiq_client_call_init_json(call, method, aiq_client_path(prefix, id, suffix), body, NULL);
}

/* the calls on one item that take nothing but its id */
typedef enum {
	AIQ_CLIENT_ROUTE_LIST_WORKFLOW_VERSIONS,
	AIQ_CLIENT_ROUTE_ENABLE_WORKFLOW,
	AIQ_CLIENT_ROUTE_DISABLE_WORKFLOW,
	AIQ_CLIENT_ROUTE_DELETE_WORKFLOW,
	AIQ_CLIENT_ROUTE_GET_EXECUTION,
	AIQ_CLIENT_ROUTE_CANCEL_EXECUTION,
	AIQ_CLIENT_ROUTE_RETRY_EXECUTION,
} AiqClientRoute;

/* METHOD PREFIX/{id}[/SUFFIX] */
static const struct {
	const gchar *method;
	const gchar *prefix;
	const gchar *suffix;
} aiq_client_routes[] = {
	[AIQ_CLIENT_ROUTE_LIST_WORKFLOW_VERSIONS] = { "GET", AIQ_API "/workflows", "versions" },
	[AIQ_CLIENT_ROUTE_ENABLE_WORKFLOW] = { "POST", AIQ_API "/workflows", "enable" },
	[AIQ_CLIENT_ROUTE_DISABLE_WORKFLOW] = { "POST", AIQ_API "/workflows", "disable" },
	[AIQ_CLIENT_ROUTE_DELETE_WORKFLOW] = { "DELETE", AIQ_API "/workflows", NULL },
	[AIQ_CLIENT_ROUTE_GET_EXECUTION] = { "GET", AIQ_API "/executions", NULL },
	[AIQ_CLIENT_ROUTE_CANCEL_EXECUTION] = { "POST", AIQ_API "/executions", "cancel" },
	[AIQ_CLIENT_ROUTE_RETRY_EXECUTION] = { "POST", AIQ_API "/executions", "retry" },
};

static void
aiq_client_call_init_route(AiqClientCall *call, AiqClientRoute route, const gchar *id)
{
	g_assert(route < G_N_ELEMENTS(aiq_client_routes));
	aiq_client_call_init_item(call,
				  aiq_client_routes[route].method,
				  aiq_client_routes[route].prefix,
				  id,
				  aiq_client_routes[route].suffix,
				  NULL);
}

static void
aiq_client_route_async(AiqClient *self,
		       AiqClientRoute route,
		       const gchar *id,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	aiq_client_call_init_route(&call, route, id);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

static JsonNode *
aiq_client_route_sync(AiqClient *self,
		      AiqClientRoute route,
		      const gchar *id,
		      GCancellable *cancellable,
		      GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	aiq_client_call_init_route(&call, route, id);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

static void
aiq_client_call_login(AiqClientCall *call,
		      const gchar *tenant,
		      const gchar *username,
		      const gchar *password)
{
	g_autoptr(JsonObject) obj = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	json_object_set_string_member(obj, "tenant", tenant);
	json_object_set_string_member(obj, "username", username);
	json_object_set_string_member(obj, "password", password);
	node = aiq_json_new_object(json_object_ref(obj));
	aiq_client_call_init_json(call, "POST", g_strdup(AIQ_API "/auth/login"), node, NULL);
}

/**
 * aiq_client_login_async:
 *
 * `POST /api/v1/auth/login`: answers `{token, expires_at, user}`. The
 * client does not keep the token: pass it to aiq_client_set_token().
 */
void
aiq_client_login_async(AiqClient *self,
		       const gchar *tenant,
		       const gchar *username,
		       const gchar *password,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(tenant != NULL && username != NULL && password != NULL);
	aiq_client_call_login(&call, tenant, username, password);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_login_sync(AiqClient *self,
		      const gchar *tenant,
		      const gchar *username,
		      const gchar *password,
		      GCancellable *cancellable,
		      GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(tenant != NULL && username != NULL && password != NULL, NULL);
	aiq_client_call_login(&call, tenant, username, password);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

static void
aiq_client_call_logout(AiqClientCall *call)
{
	aiq_client_call_init_json(call, "POST", g_strdup(AIQ_API "/auth/logout"), NULL, NULL);
}

/**
 * aiq_client_logout_async:
 *
 * `POST /api/v1/auth/logout`: revokes the session token in use.
 */
void
aiq_client_logout_async(AiqClient *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	aiq_client_call_logout(&call);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_logout_sync(AiqClient *self, GCancellable *cancellable, GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	aiq_client_call_logout(&call);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

static void
aiq_client_call_get_me(AiqClientCall *call)
{
	aiq_client_call_init_json(call, "GET", g_strdup(AIQ_API "/me"), NULL, NULL);
}

/**
 * aiq_client_get_me_async:
 *
 * `GET /api/v1/me`: the caller's tenant, role and name.
 */
void
aiq_client_get_me_async(AiqClient *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	aiq_client_call_get_me(&call);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_get_me_sync(AiqClient *self, GCancellable *cancellable, GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	aiq_client_call_get_me(&call);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

/* workflows */

static void
aiq_client_call_list_workflows(AiqClientCall *call, const AiqClientWorkflowQuery *query)
{
	GString *path = g_string_new(AIQ_API "/workflows");
	if (query != NULL) {
		aiq_client_query_add(path, "name", query->name);
		aiq_client_query_add(path, "search", query->search);
		aiq_client_query_add(path, "label", query->label);
		if (query->enabled != 0)
			aiq_client_query_add(path,
					     "enabled",
					     query->enabled > 0 ? "true" : "false");
		aiq_client_query_add(path, "cursor", query->cursor);
		if (query->limit > 0)
			aiq_client_query_add_int(path, "limit", query->limit);
	}
	aiq_client_call_init_json(call, "GET", g_string_free(path, FALSE), NULL, NULL);
}

/**
 * aiq_client_list_workflows_async:
 * @query: (nullable): filters and the page
 *
 * `GET /api/v1/workflows`: a page `{items, next_cursor}` of summaries.
 */
void
aiq_client_list_workflows_async(AiqClient *self,
				const AiqClientWorkflowQuery *query,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	aiq_client_call_list_workflows(&call, query);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_list_workflows_sync(AiqClient *self,
			       const AiqClientWorkflowQuery *query,
			       GCancellable *cancellable,
			       GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	aiq_client_call_list_workflows(&call, query);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

static void
aiq_client_call_get_workflow(AiqClientCall *call, const gchar *id, gint version)
{
	GString *path = g_string_new(NULL);
	g_autofree gchar *base = aiq_client_path(AIQ_API "/workflows", id, NULL);
	g_string_append(path, base);
	if (version > 0)
		aiq_client_query_add_int(path, "version", version);
	aiq_client_call_init_json(call, "GET", g_string_free(path, FALSE), NULL, NULL);
}

/**
 * aiq_client_get_workflow_async:
 * @version: a version number, 0 for the latest
 *
 * `GET /api/v1/workflows/{id}`: the summary with `triggers` and the
 * canonical `definition`.
 */
void
aiq_client_get_workflow_async(AiqClient *self,
			      const gchar *id,
			      gint version,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_call_get_workflow(&call, id, version);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_get_workflow_sync(AiqClient *self,
			     const gchar *id,
			     gint version,
			     GCancellable *cancellable,
			     GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	aiq_client_call_get_workflow(&call, id, version);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

/* POST /workflows (@id NULL) or PUT /workflows/{id}, with a definition of
 * its own type */
static void
aiq_client_call_put_definition(AiqClientCall *call,
			       const gchar *id,
			       GBytes *definition,
			       const gchar *content_type)
{
	if (content_type == NULL) {
		gsize len = 0;
		const gchar *data = g_bytes_get_data(definition, &len);
		content_type = aiq_document_format_guess(data, len) == AIQ_DOCUMENT_FORMAT_JSON
				       ? "application/json"
				       : "application/yaml";
	}
	aiq_client_call_init(call,
			     id != NULL ? "PUT" : "POST",
			     id != NULL ? aiq_client_path(AIQ_API "/workflows", id, NULL)
					: g_strdup(AIQ_API "/workflows"),
			     definition,
			     content_type,
			     NULL);
}

/* sends a definition; a 422 answer's problems go to @problems */
static JsonNode *
aiq_client_call_sync_definition(AiqClient *self,
				const AiqClientCall *call,
				AiqProblems *problems,
				GCancellable *cancellable,
				GError **error)
{
	g_autoptr(AiqClientReply) reply = NULL;
	g_autoptr(AiqProblems) found = NULL;
	JsonNode *node = aiq_client_call_sync(self, call, cancellable, &reply, error);

	/* no reply when the request could not be made at all */
	if (node != NULL || problems == NULL || reply == NULL)
		return node;
	found = aiq_client_reply_get_problems(reply);
	for (guint i = 0; found != NULL && i < aiq_problems_get_size(found); i++) {
		const AiqProblem *problem = aiq_problems_index(found, i);
		aiq_problems_add(problems, problem->path, "%s", problem->message);
	}
	return NULL;
}

/**
 * aiq_client_create_workflow_async:
 * @definition: the definition document, YAML or JSON
 * @content_type: (nullable): `application/yaml` or `application/json`;
 *   guessed from @definition when %NULL
 *
 * `POST /api/v1/workflows`: answers 201 with the workflow; 409 when the
 * name exists; 422 `invalid_definition` with the problems (see
 * aiq_client_reply_get_problems()).
 */
void
aiq_client_create_workflow_async(AiqClient *self,
				 GBytes *definition,
				 const gchar *content_type,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(definition != NULL);
	aiq_client_call_put_definition(&call, NULL, definition, content_type);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

/**
 * aiq_client_create_workflow_sync:
 * @problems: (nullable): gets the server's problems with the definition
 *   when it answers 422
 */
JsonNode *
aiq_client_create_workflow_sync(AiqClient *self,
				GBytes *definition,
				const gchar *content_type,
				AiqProblems *problems,
				GCancellable *cancellable,
				GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(definition != NULL, NULL);
	aiq_client_call_put_definition(&call, NULL, definition, content_type);
	return aiq_client_call_sync_definition(self, &call, problems, cancellable, error);
}

/**
 * aiq_client_update_workflow_async:
 *
 * `PUT /api/v1/workflows/{id}`: answers the workflow with `changed` (a new
 * version is made only when the canonical definition differs).
 */
void
aiq_client_update_workflow_async(AiqClient *self,
				 const gchar *id,
				 GBytes *definition,
				 const gchar *content_type,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	g_return_if_fail(definition != NULL);
	aiq_client_call_put_definition(&call, id, definition, content_type);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

/**
 * aiq_client_update_workflow_sync:
 * @problems: (nullable): as for aiq_client_create_workflow_sync()
 */
JsonNode *
aiq_client_update_workflow_sync(AiqClient *self,
				const gchar *id,
				GBytes *definition,
				const gchar *content_type,
				AiqProblems *problems,
				GCancellable *cancellable,
				GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	g_return_val_if_fail(definition != NULL, NULL);
	aiq_client_call_put_definition(&call, id, definition, content_type);
	return aiq_client_call_sync_definition(self, &call, problems, cancellable, error);
}

/**
 * aiq_client_list_workflow_versions_async:
 *
 * `GET /api/v1/workflows/{id}/versions`: `{items: [{version, digest,
 * author, created}]}`.
 */
void
aiq_client_list_workflow_versions_async(AiqClient *self,
					const gchar *id,
					GCancellable *cancellable,
					GAsyncReadyCallback callback,
					gpointer user_data)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_route_async(self,
			       AIQ_CLIENT_ROUTE_LIST_WORKFLOW_VERSIONS,
			       id,
			       cancellable,
			       callback,
			       user_data);
}

JsonNode *
aiq_client_list_workflow_versions_sync(AiqClient *self,
				       const gchar *id,
				       GCancellable *cancellable,
				       GError **error)
{
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	return aiq_client_route_sync(self,
				     AIQ_CLIENT_ROUTE_LIST_WORKFLOW_VERSIONS,
				     id,
				     cancellable,
				     error);
}

static void
aiq_client_call_diff_workflow(AiqClientCall *call, const gchar *id, gint from, gint to)
{
	g_autofree gchar *base = aiq_client_path(AIQ_API "/workflows", id, "diff");
	GString *path = g_string_new(base);
	aiq_client_query_add_int(path, "from", from);
	aiq_client_query_add_int(path, "to", to);
	aiq_client_call_init_json(call, "GET", g_string_free(path, FALSE), NULL, NULL);
}

/**
 * aiq_client_diff_workflow_async:
 *
 * `GET /api/v1/workflows/{id}/diff?from=&to=`: `{from, to, changes: [{path,
 * op, from?, to?}]}`.
 */
void
aiq_client_diff_workflow_async(AiqClient *self,
			       const gchar *id,
			       gint from,
			       gint to,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_call_diff_workflow(&call, id, from, to);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_diff_workflow_sync(AiqClient *self,
			      const gchar *id,
			      gint from,
			      gint to,
			      GCancellable *cancellable,
			      GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	aiq_client_call_diff_workflow(&call, id, from, to);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

static void
aiq_client_call_rollback_workflow(AiqClientCall *call, const gchar *id, gint version)
{
	JsonObject *obj = json_object_new();
	g_autoptr(JsonNode) body = NULL;
	json_object_set_int_member(obj, "version", version);
	body = aiq_json_new_object(obj);
	aiq_client_call_init_item(call, "POST", AIQ_API "/workflows", id, "rollback", body);
}

/**
 * aiq_client_rollback_workflow_async:
 *
 * `POST /api/v1/workflows/{id}/rollback`: a new version equal to @version.
 */
void
aiq_client_rollback_workflow_async(AiqClient *self,
				   const gchar *id,
				   gint version,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_call_rollback_workflow(&call, id, version);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_rollback_workflow_sync(AiqClient *self,
				  const gchar *id,
				  gint version,
				  GCancellable *cancellable,
				  GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	aiq_client_call_rollback_workflow(&call, id, version);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

/**
 * aiq_client_set_workflow_enabled_async:
 *
 * `POST /api/v1/workflows/{id}/enable` or `/disable`.
 */
void
aiq_client_set_workflow_enabled_async(AiqClient *self,
				      const gchar *id,
				      gboolean enabled,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_route_async(self,
			       enabled ? AIQ_CLIENT_ROUTE_ENABLE_WORKFLOW
				       : AIQ_CLIENT_ROUTE_DISABLE_WORKFLOW,
			       id,
			       cancellable,
			       callback,
			       user_data);
}

JsonNode *
aiq_client_set_workflow_enabled_sync(AiqClient *self,
				     const gchar *id,
				     gboolean enabled,
				     GCancellable *cancellable,
				     GError **error)
{
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	return aiq_client_route_sync(self,
				     enabled ? AIQ_CLIENT_ROUTE_ENABLE_WORKFLOW
					     : AIQ_CLIENT_ROUTE_DISABLE_WORKFLOW,
				     id,
				     cancellable,
				     error);
}

/**
 * aiq_client_delete_workflow_async:
 *
 * `DELETE /api/v1/workflows/{id}` (its executions are kept).
 */
void
aiq_client_delete_workflow_async(AiqClient *self,
				 const gchar *id,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_route_async(self,
			       AIQ_CLIENT_ROUTE_DELETE_WORKFLOW,
			       id,
			       cancellable,
			       callback,
			       user_data);
}

JsonNode *
aiq_client_delete_workflow_sync(AiqClient *self,
				const gchar *id,
				GCancellable *cancellable,
				GError **error)
{
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	return aiq_client_route_sync(self,
				     AIQ_CLIENT_ROUTE_DELETE_WORKFLOW,
				     id,
				     cancellable,
				     error);
}

/* executions */

static JsonNode *
aiq_client_inputs_body(JsonObject *inputs)
{
	JsonObject *obj = json_object_new();
	if (inputs != NULL)
		json_object_set_object_member(obj, "inputs", json_object_ref(inputs));
	return aiq_json_new_object(obj);
}

static void
aiq_client_call_start_execution(AiqClientCall *call,
				const gchar *workflow_id,
				JsonObject *inputs,
				const gchar *idempotency_key)
{
	g_autoptr(JsonNode) body = aiq_client_inputs_body(inputs);
	aiq_client_call_init_item(call,
				  "POST",
				  AIQ_API "/workflows",
				  workflow_id,
				  "executions",
				  body);
	if (idempotency_key != NULL) {
		call->headers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
		g_hash_table_insert(call->headers,
				    (gpointer) "Idempotency-Key",
				    g_strdup(idempotency_key));
	}
}

/**
 * aiq_client_start_execution_async:
 * @inputs: (nullable): the inputs, typed as the workflow declares them
 * @idempotency_key: (nullable): the same key and inputs give the execution
 *   started the first time (answered 200 instead of 201)
 *
 * `POST /api/v1/workflows/{id}/executions`: the new execution (queued).
 */
void
aiq_client_start_execution_async(AiqClient *self,
				 const gchar *workflow_id,
				 JsonObject *inputs,
				 const gchar *idempotency_key,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(workflow_id != NULL);
	aiq_client_call_start_execution(&call, workflow_id, inputs, idempotency_key);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

/**
 * aiq_client_start_execution_sync:
 * @created: (out) (optional): %FALSE when the idempotency key gave an
 *   execution started before
 */
JsonNode *
aiq_client_start_execution_sync(AiqClient *self,
				const gchar *workflow_id,
				JsonObject *inputs,
				const gchar *idempotency_key,
				gboolean *created,
				GCancellable *cancellable,
				GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_autoptr(AiqClientReply) reply = NULL;
	JsonNode *node;

	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(workflow_id != NULL, NULL);
	aiq_client_call_start_execution(&call, workflow_id, inputs, idempotency_key);
	node = aiq_client_call_sync(self, &call, cancellable, &reply, error);
	if (created != NULL)
		*created =
			node != NULL && aiq_client_reply_get_status(reply) == SOUP_STATUS_CREATED;
	return node;
}

static void
aiq_client_call_list_executions(AiqClientCall *call, const AiqClientExecutionQuery *query)
{
	GString *path = g_string_new(AIQ_API "/executions");
	if (query != NULL) {
		aiq_client_query_add(path, "workflow_id", query->workflow_id);
		aiq_client_query_add(path, "status", query->status);
		aiq_client_query_add(path, "trigger", query->trigger);
		aiq_client_query_add_time(path, "since", query->since);
		aiq_client_query_add_time(path, "until", query->until);
		aiq_client_query_add(path, "cursor", query->cursor);
		if (query->limit > 0)
			aiq_client_query_add_int(path, "limit", query->limit);
		if (query->offset > 0)
			aiq_client_query_add_int(path, "offset", query->offset);
		if (query->count)
			aiq_client_query_add(path, "count", "true");
	}
	aiq_client_call_init_json(call, "GET", g_string_free(path, FALSE), NULL, NULL);
}

/**
 * aiq_client_list_executions_async:
 * @query: (nullable): filters and the page
 *
 * `GET /api/v1/executions`: a page `{items, next_cursor}` of executions,
 * newest first, with `total` when @query asks to count.
 */
void
aiq_client_list_executions_async(AiqClient *self,
				 const AiqClientExecutionQuery *query,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	aiq_client_call_list_executions(&call, query);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_list_executions_sync(AiqClient *self,
				const AiqClientExecutionQuery *query,
				GCancellable *cancellable,
				GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	aiq_client_call_list_executions(&call, query);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

/**
 * aiq_client_get_execution_async:
 *
 * `GET /api/v1/executions/{id}`: the execution with its steps.
 */
void
aiq_client_get_execution_async(AiqClient *self,
			       const gchar *id,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_route_async(self,
			       AIQ_CLIENT_ROUTE_GET_EXECUTION,
			       id,
			       cancellable,
			       callback,
			       user_data);
}

JsonNode *
aiq_client_get_execution_sync(AiqClient *self,
			      const gchar *id,
			      GCancellable *cancellable,
			      GError **error)
{
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	return aiq_client_route_sync(self, AIQ_CLIENT_ROUTE_GET_EXECUTION, id, cancellable, error);
}

/**
 * aiq_client_cancel_execution_async:
 *
 * `POST /api/v1/executions/{id}/cancel`: 202 with the execution (a queued
 * one is cancelled at once, a running one when its agent hears of it).
 */
void
aiq_client_cancel_execution_async(AiqClient *self,
				  const gchar *id,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_route_async(self,
			       AIQ_CLIENT_ROUTE_CANCEL_EXECUTION,
			       id,
			       cancellable,
			       callback,
			       user_data);
}

JsonNode *
aiq_client_cancel_execution_sync(AiqClient *self,
				 const gchar *id,
				 GCancellable *cancellable,
				 GError **error)
{
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	return aiq_client_route_sync(self,
				     AIQ_CLIENT_ROUTE_CANCEL_EXECUTION,
				     id,
				     cancellable,
				     error);
}

/**
 * aiq_client_retry_execution_async:
 *
 * `POST /api/v1/executions/{id}/retry`: a new execution from the failed
 * step, keeping the outputs of the steps that succeeded.
 */
void
aiq_client_retry_execution_async(AiqClient *self,
				 const gchar *id,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_route_async(self,
			       AIQ_CLIENT_ROUTE_RETRY_EXECUTION,
			       id,
			       cancellable,
			       callback,
			       user_data);
}

JsonNode *
aiq_client_retry_execution_sync(AiqClient *self,
				const gchar *id,
				GCancellable *cancellable,
				GError **error)
{
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	return aiq_client_route_sync(self,
				     AIQ_CLIENT_ROUTE_RETRY_EXECUTION,
				     id,
				     cancellable,
				     error);
}

static void
aiq_client_call_rerun_execution(AiqClientCall *call, const gchar *id, JsonObject *inputs)
{
	g_autoptr(JsonNode) body = aiq_client_inputs_body(inputs);
	aiq_client_call_init_item(call, "POST", AIQ_API "/executions", id, "rerun", body);
}

/**
 * aiq_client_rerun_execution_async:
 * @inputs: (nullable): the inputs of the new execution
 *
 * `POST /api/v1/executions/{id}/rerun`: a new execution of the same
 * version from the start.
 */
void
aiq_client_rerun_execution_async(AiqClient *self,
				 const gchar *id,
				 JsonObject *inputs,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_call_rerun_execution(&call, id, inputs);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_rerun_execution_sync(AiqClient *self,
				const gchar *id,
				JsonObject *inputs,
				GCancellable *cancellable,
				GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	aiq_client_call_rerun_execution(&call, id, inputs);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

static void
aiq_client_call_list_execution_events(AiqClientCall *call, const gchar *id, gint64 after)
{
	g_autofree gchar *base = aiq_client_path(AIQ_API "/executions", id, "events");
	GString *path = g_string_new(base);
	if (after > 0)
		aiq_client_query_add_int(path, "after", after);
	aiq_client_call_init_json(call, "GET", g_string_free(path, FALSE), NULL, NULL);
}

/**
 * aiq_client_list_execution_events_async:
 * @after: only events with a greater sequence number; 0 for all
 *
 * `GET /api/v1/executions/{id}/events`: `{items: [events]}` in the wire
 * form of docs/events.md.
 */
void
aiq_client_list_execution_events_async(AiqClient *self,
				       const gchar *id,
				       gint64 after,
				       GCancellable *cancellable,
				       GAsyncReadyCallback callback,
				       gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(id != NULL);
	aiq_client_call_list_execution_events(&call, id, after);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_list_execution_events_sync(AiqClient *self,
				      const gchar *id,
				      gint64 after,
				      GCancellable *cancellable,
				      GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);
	aiq_client_call_list_execution_events(&call, id, after);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

/* statistics */

static void
aiq_client_call_get_stats(AiqClientCall *call, const AiqClientStatsQuery *query)
{
	GString *path = g_string_new(AIQ_API "/stats");
	if (query != NULL) {
		aiq_client_query_add_time(path, "from", query->from);
		aiq_client_query_add_time(path, "to", query->to);
		aiq_client_query_add(path, "bucket", query->bucket);
	}
	aiq_client_call_init_json(call, "GET", g_string_free(path, FALSE), NULL, NULL);
}

/**
 * aiq_client_get_stats_async:
 * @query: (nullable): the period and the buckets; %NULL for the last 24
 *   hours by hour
 *
 * `GET /api/v1/stats`: the tenant's executions of a period for a
 * dashboard: `{from, to, bucket, total, counts, success_rate, buckets,
 * workflows, queue}`.
 */
void
aiq_client_get_stats_async(AiqClient *self,
			   const AiqClientStatsQuery *query,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	aiq_client_call_get_stats(&call, query);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_get_stats_sync(AiqClient *self,
			  const AiqClientStatsQuery *query,
			  GCancellable *cancellable,
			  GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	aiq_client_call_get_stats(&call, query);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

/* governance: usage and the audit log */

static void
aiq_client_call_get_usage(AiqClientCall *call, const gchar *tenant)
{
	GString *path = g_string_new(AIQ_API "/usage");
	aiq_client_query_add(path, "tenant", tenant);
	aiq_client_call_init_json(call, "GET", g_string_free(path, FALSE), NULL, NULL);
}

/**
 * aiq_client_get_usage_async:
 * @tenant: (nullable): another tenant (platform admins); %NULL for the
 *   caller's own
 *
 * `GET /api/v1/usage`: the tenant's tier, its limits and what it uses of
 * them: `{tenant_id, tier, day, limits, usage}`.
 */
void
aiq_client_get_usage_async(AiqClient *self,
			   const gchar *tenant,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	aiq_client_call_get_usage(&call, tenant);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_get_usage_sync(AiqClient *self,
			  const gchar *tenant,
			  GCancellable *cancellable,
			  GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	aiq_client_call_get_usage(&call, tenant);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

static void
aiq_client_call_list_audit(AiqClientCall *call, const AiqClientAuditQuery *query)
{
	GString *path = g_string_new(AIQ_API "/audit");
	if (query != NULL) {
		aiq_client_query_add(path, "action", query->action);
		aiq_client_query_add(path, "actor", query->actor);
		aiq_client_query_add(path, "target", query->target);
		aiq_client_query_add(path, "outcome", query->outcome);
		aiq_client_query_add_time(path, "since", query->since);
		aiq_client_query_add_time(path, "until", query->until);
		aiq_client_query_add(path, "tenant", query->tenant);
		aiq_client_query_add(path, "scope", query->scope);
		aiq_client_query_add(path, "cursor", query->cursor);
		if (query->limit > 0)
			aiq_client_query_add_int(path, "limit", query->limit);
	}
	aiq_client_call_init_json(call, "GET", g_string_free(path, FALSE), NULL, NULL);
}

/**
 * aiq_client_list_audit_async:
 * @query: (nullable): filters, whose log and the page
 *
 * `GET /api/v1/audit`: a page `{items, next_cursor}` of audit records,
 * newest first.
 */
void
aiq_client_list_audit_async(AiqClient *self,
			    const AiqClientAuditQuery *query,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	aiq_client_call_list_audit(&call, query);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_list_audit_sync(AiqClient *self,
			   const AiqClientAuditQuery *query,
			   GCancellable *cancellable,
			   GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	aiq_client_call_list_audit(&call, query);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

/* agents */

static void
aiq_client_call_list_agents(AiqClientCall *call, const gchar *cursor, guint limit)
{
	GString *path = g_string_new(AIQ_API "/agents");
	aiq_client_query_add(path, "cursor", cursor);
	if (limit > 0)
		aiq_client_query_add_int(path, "limit", limit);
	aiq_client_call_init_json(call, "GET", g_string_free(path, FALSE), NULL, NULL);
}

/**
 * aiq_client_list_agents_async:
 * @cursor: (nullable): the `next_cursor` of the page before
 * @limit: items per page, 0 for the server's default
 *
 * `GET /api/v1/agents`: a page of agents.
 */
void
aiq_client_list_agents_async(AiqClient *self,
			     const gchar *cursor,
			     guint limit,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	aiq_client_call_list_agents(&call, cursor, limit);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_list_agents_sync(AiqClient *self,
			    const gchar *cursor,
			    guint limit,
			    GCancellable *cancellable,
			    GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	aiq_client_call_list_agents(&call, cursor, limit);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

static void
aiq_client_call_create_enrollment_token(AiqClientCall *call,
					const gchar *name,
					const gchar *const *labels,
					const gchar *expires_in)
{
	JsonObject *obj = json_object_new();
	g_autoptr(JsonNode) body = NULL;
	if (name != NULL)
		json_object_set_string_member(obj, "name", name);
	if (labels != NULL) {
		JsonArray *array = json_array_new();
		for (guint i = 0; labels[i] != NULL; i++)
			json_array_add_string_element(array, labels[i]);
		json_object_set_array_member(obj, "labels", array);
	}
	if (expires_in != NULL)
		json_object_set_string_member(obj, "expires_in", expires_in);
	body = aiq_json_new_object(obj);
	aiq_client_call_init_json(call, "POST", g_strdup(AIQ_API "/enrollment-tokens"), body, NULL);
}

/**
 * aiq_client_create_enrollment_token_async:
 * @name: (nullable): the name the agent will have
 * @labels: (nullable) (array zero-terminated=1): its labels
 * @expires_in: (nullable): a duration such as `1h`; the server's default
 *   when %NULL
 *
 * `POST /api/v1/enrollment-tokens`: `{id, token, expires_at, name,
 * labels}`; the token is shown this once.
 */
void
aiq_client_create_enrollment_token_async(AiqClient *self,
					 const gchar *name,
					 const gchar *const *labels,
					 const gchar *expires_in,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_if_fail(AIQ_IS_CLIENT(self));
	aiq_client_call_create_enrollment_token(&call, name, labels, expires_in);
	aiq_client_call_async(self, &call, cancellable, callback, user_data);
}

JsonNode *
aiq_client_create_enrollment_token_sync(AiqClient *self,
					const gchar *name,
					const gchar *const *labels,
					const gchar *expires_in,
					GCancellable *cancellable,
					GError **error)
{
	g_auto(AiqClientCall) call = { 0 };
	g_return_val_if_fail(AIQ_IS_CLIENT(self), NULL);
	aiq_client_call_create_enrollment_token(&call, name, labels, expires_in);
	return aiq_client_call_sync(self, &call, cancellable, NULL, error);
}

/* the WebSocket of one connect: the request keeps the TLS check's state */
static void
aiq_client_websocket_connect_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	AiqClientRequest *req = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error_local = NULL;
	SoupWebsocketConnection *conn;

	conn = soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &error_local);
	if (conn == NULL) {
		guint status = soup_message_get_status(req->msg);
		if (status != SOUP_STATUS_NONE && status != SOUP_STATUS_SWITCHING_PROTOCOLS) {
			g_set_error(&error,
				    AIQ_ERROR,
				    aiq_client_code_for_status(status),
				    _("%s refused the event stream: %u %s"),
				    req->client->base_url,
				    status,
				    soup_message_get_reason_phrase(req->msg));
		} else {
			aiq_client_request_set_transport_error(req, error_local, &error);
		}
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, conn, g_object_unref);
}

/**
 * aiq_client_websocket_connect_async:
 * @path: from the server's root, e.g. `/api/v1/events`
 *
 * Opens a WebSocket with the client's token and TLS trust (CA file or
 * pinned fingerprint); finish with aiq_client_websocket_connect_finish().
 */
void
aiq_client_websocket_connect_async(AiqClient *self,
				   const gchar *path,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data)
{
	g_auto(AiqClientCall) call = { 0 };
	g_autoptr(GTask) task = NULL;
	g_autoptr(GError) error = NULL;
	AiqClientRequest *req;

	g_return_if_fail(AIQ_IS_CLIENT(self));
	g_return_if_fail(path != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, aiq_client_websocket_connect_async);
	aiq_client_call_init(&call, "GET", g_strdup(path), NULL, NULL, NULL);
	req = aiq_client_request_new(self, &call, &error);
	if (req == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_set_task_data(task, req, (GDestroyNotify)aiq_client_request_free);
	soup_session_websocket_connect_async(self->session,
					     req->msg,
					     NULL,
					     NULL,
					     G_PRIORITY_DEFAULT,
					     cancellable,
					     aiq_client_websocket_connect_cb,
					     g_steal_pointer(&task));
}

/**
 * aiq_client_websocket_connect_finish:
 *
 * Returns: (transfer full): the open WebSocket, or %NULL with an #AIQ_ERROR
 *   (a TLS failure names the certificate's fingerprint)
 */
SoupWebsocketConnection *
aiq_client_websocket_connect_finish(AiqClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}
