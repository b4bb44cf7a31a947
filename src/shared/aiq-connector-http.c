/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-problems.h"
#include "aiq-step-run.h"
#include "aiq-template.h"
#include "aiq-util.h"

/*
 * The `http` step kind: one HTTP(S) request per attempt, with libsoup 3.
 *
 * Sessions: a SoupSession is bound to the thread-default main context it was
 * created on, and all its I/O and signals happen there. Creating one per call
 * would throw away keep-alive connections and TLS sessions, so we keep one
 * session per (main context, CA file) in a process-wide table. The entry
 * holds a reference on its context, so a context address is never reused
 * while its entry exists. When a session has had no request for
 * AIQ_HTTP_SESSION_IDLE_S, a timer on its own context drops it, so the
 * session is always finalized on the thread that runs its context.
 *
 * TLS: verification is always on; nothing here accepts a certificate that
 * failed. With `ca`, the session verifies against that CA file *in place of*
 * the system store (a separate session per CA file, so a connection verified
 * against a private CA is never reused for a request without it).
 */

/* how long an unused session keeps its connections (overridable for tests) */
#ifndef AIQ_HTTP_SESSION_IDLE_S
#define AIQ_HTTP_SESSION_IDLE_S 60
#endif
#define AIQ_HTTP_READ_CHUNK (64 * 1024)
#define AIQ_HTTP_MAX_RESPONSE (G_GINT64_CONSTANT(1) << 30)
#define AIQ_HTTP_MAX_CONNS 64
#define AIQ_HTTP_MAX_CONNS_HOST 16

static const gchar *const aiq_http_methods[] = { "GET",    "POST", "PUT",     "PATCH",
						 "DELETE", "HEAD", "OPTIONS", NULL };
static const gchar *const aiq_http_body_types[] = { "json", "text", "form", NULL };
static const gchar *const aiq_http_auth_types[] = { "basic", "bearer", NULL };
static const gchar *const aiq_http_auth_basic_members[] = { "type", "username", "password", NULL };
static const gchar *const aiq_http_auth_bearer_members[] = { "type", "token", NULL };

static const AiqParam aiq_http_params[] = {
	{ "method",
	  AIQ_PARAM_ENUM,
	  FALSE,
	  "\"GET\"",
	  N_("The HTTP method."),
	  aiq_http_methods,
	  AIQ_PARAM_FLAG_NONE },
	{ "url",
	  AIQ_PARAM_STRING,
	  TRUE,
	  NULL,
	  N_("The http:// or https:// URL to request."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "headers",
	  AIQ_PARAM_STRING_MAP,
	  FALSE,
	  NULL,
	  N_("Request headers, by name."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "query",
	  AIQ_PARAM_STRING_MAP,
	  FALSE,
	  NULL,
	  N_("Query parameters, percent-encoded and appended to the URL."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "body",
	  AIQ_PARAM_JSON,
	  FALSE,
	  NULL,
	  N_("The request body: an object or an array is sent as JSON, a string as text."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "body_type",
	  AIQ_PARAM_ENUM,
	  FALSE,
	  NULL,
	  N_("How to send the body: json, text, or form (an object as "
	     "application/x-www-form-urlencoded); by default it follows the body's type."),
	  aiq_http_body_types,
	  AIQ_PARAM_FLAG_NONE },
	{ "auth",
	  AIQ_PARAM_OBJECT,
	  FALSE,
	  NULL,
	  N_("Credentials: {type: basic, username, password} or {type: bearer, token}."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "ca",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("The name of a CA in the [ca] section of the agent configuration; the server "
	     "certificate is verified against it instead of the system CAs."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "timeout",
	  AIQ_PARAM_DURATION,
	  FALSE,
	  "\"30s\"",
	  N_("The longest the request may take, from connecting to the last byte of the "
	     "response; the step's own timeout applies as well."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "fail_on",
	  AIQ_PARAM_STRING_LIST,
	  FALSE,
	  "[\"4xx\", \"5xx\"]",
	  N_("Response statuses that fail the attempt, as codes such as 404 or classes such "
	     "as 5xx; an empty list never fails on the status."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "max_response_size",
	  AIQ_PARAM_INTEGER,
	  FALSE,
	  "1048576",
	  N_("The largest response body to accept, in bytes."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "follow_redirects",
	  AIQ_PARAM_BOOLEAN,
	  FALSE,
	  "true",
	  N_("Whether to follow redirects; credentials are not sent to another origin."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "idempotency_key",
	  AIQ_PARAM_BOOLEAN,
	  FALSE,
	  "true",
	  N_("Whether to send the step key as the Idempotency-Key header, so that the server "
	     "can recognise a request repeated after a crash or a retry."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ NULL },
};

/* ---------------------------------------------------------------------------
 * shared checks, used at validation time on literals and at run time
 */

static gboolean
aiq_http_is_expression(JsonNode *node)
{
	return aiq_json_is_string(node) &&
	       aiq_template_string_has_expressions(json_node_get_string(node));
}

static gchar *
aiq_http_size_to_string(gint64 bytes)
{
	if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
		return g_strdup_printf("%" PRId64 " MiB", bytes / (1024 * 1024));
	if (bytes >= 1024 && bytes % 1024 == 0)
		return g_strdup_printf("%" PRId64 " KiB", bytes / 1024);
	return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%lu byte", "%lu bytes", (gulong)bytes),
			       (gulong)bytes);
}

/* "host" or "host:port" as written, IPv6 literals in brackets */
static gchar *
aiq_http_uri_host_port(GUri *uri, gboolean with_port)
{
	const gchar *host = g_uri_get_host(uri);
	gint port = g_uri_get_port(uri);
	g_autofree gchar *host_lower = g_ascii_strdown(host != NULL ? host : "", -1);
	g_autofree gchar *bracketed = NULL;

	if (strchr(host_lower, ':') != NULL)
		bracketed = g_strdup_printf("[%s]", host_lower);
	else
		bracketed = g_steal_pointer(&host_lower);
	if (!with_port)
		return g_steal_pointer(&bracketed);
	if (port < 0)
		port = g_ascii_strcasecmp(g_uri_get_scheme(uri), "https") == 0 ? 443 : 80;
	return g_strdup_printf("%s:%d", bracketed, port);
}

static gchar *
aiq_http_uri_origin(GUri *uri)
{
	g_autofree gchar *host_port = aiq_http_uri_host_port(uri, TRUE);
	g_autofree gchar *scheme = g_ascii_strdown(g_uri_get_scheme(uri), -1);
	return g_strdup_printf("%s://%s", scheme, host_port);
}

/*
 * Parses an http or https URL without credentials. The fragment is dropped
 * and an empty path becomes "/".
 */
static GUri *
aiq_http_parse_url(const gchar *url, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	g_autoptr(GError) error_local = NULL;
	const gchar *scheme;
	const gchar *host;
	const gchar *path;

	uri = g_uri_parse(url, SOUP_HTTP_URI_FLAGS, &error_local);
	if (uri == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a valid URL: %s"),
			    url,
			    error_local->message);
		return NULL;
	}
	scheme = g_uri_get_scheme(uri);
	if (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not an http:// or https:// URL"),
			    url);
		return NULL;
	}
	host = g_uri_get_host(uri);
	if (host == NULL || *host == '\0') {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” has no host name"),
			    url);
		return NULL;
	}
	if (g_uri_get_userinfo(uri) != NULL) {
		g_set_error_literal(
			error,
			AIQ_ERROR,
			AIQ_ERROR_INVALID_ARGUMENT,
			_("the URL must not contain credentials; use “auth” with a secret"));
		return NULL;
	}
	path = g_uri_get_path(uri);
	return g_uri_build(g_uri_get_flags(uri),
			   scheme,
			   NULL,
			   host,
			   g_uri_get_port(uri),
			   path != NULL && *path != '\0' ? path : "/",
			   g_uri_get_query(uri),
			   NULL);
}

static gboolean
aiq_http_is_token_char(gchar c)
{
	return g_ascii_isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static gboolean
aiq_http_check_header(const gchar *name, const gchar *value, GError **error)
{
	if (*name == '\0') {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("a header name must not be empty"));
		return FALSE;
	}
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!aiq_http_is_token_char(*p)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("“%s” is not a valid header name"),
				    name);
			return FALSE;
		}
	}
	if (value != NULL && strpbrk(value, "\r\n") != NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("the value of header “%s” must not contain a line break"),
			    name);
		return FALSE;
	}
	return TRUE;
}

/* a string, or a number given where a string is wanted (YAML `password: 1234`) */
static gchar *
aiq_http_node_to_text(JsonNode *node)
{
	if (aiq_json_is_string(node))
		return g_strdup(json_node_get_string(node));
	if (aiq_json_is_number(node) || aiq_json_is_bool(node))
		return aiq_json_to_string(node, FALSE);
	return NULL;
}

/*
 * Checks the shape of `auth`. With @validating, members holding expressions
 * are not checked further.
 */
static gboolean
aiq_http_check_auth(JsonObject *auth, gboolean validating, GError **error)
{
	JsonNode *type_node = json_object_get_member(auth, "type");
	const gchar *const *members;
	const gchar *type;
	g_autoptr(GList) names = NULL;

	if (type_node == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("“type” is missing: use basic or bearer"));
		return FALSE;
	}
	if (validating && aiq_http_is_expression(type_node))
		return TRUE;
	type = aiq_json_is_string(type_node) ? json_node_get_string(type_node) : NULL;
	if (type == NULL || !g_strv_contains(aiq_http_auth_types, type)) {
		const gchar *suggestion =
			type != NULL ? aiq_suggest(type, aiq_http_auth_types) : NULL;
		if (suggestion != NULL) {
			g_set_error(
				error,
				AIQ_ERROR,
				AIQ_ERROR_INVALID_ARGUMENT,
				_("“type” must be basic or bearer, not “%s”; did you mean “%s”?"),
				type,
				suggestion);
		} else {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("“type” must be basic or bearer"));
		}
		return FALSE;
	}
	members = g_strcmp0(type, "basic") == 0 ? aiq_http_auth_basic_members
						: aiq_http_auth_bearer_members;

	/* unknown members */
	names = json_object_get_members(auth);
	for (GList *l = names; l != NULL; l = l->next) {
		const gchar *name = l->data;
		const gchar *suggestion;
		if (g_strv_contains(members, name))
			continue;
		suggestion = aiq_suggest(name, members);
		if (suggestion != NULL) {
			g_set_error(
				error,
				AIQ_ERROR,
				AIQ_ERROR_INVALID_ARGUMENT,
				_("unknown member “%s” for %s authentication; did you mean “%s”?"),
				name,
				type,
				suggestion);
		} else {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("unknown member “%s” for %s authentication"),
				    name,
				    type);
		}
		return FALSE;
	}

	/* required members, as text */
	for (guint i = 1; members[i] != NULL; i++) {
		JsonNode *node = json_object_get_member(auth, members[i]);
		g_autofree gchar *text = NULL;
		if (node == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("“%s” is missing for %s authentication"),
				    members[i],
				    type);
			return FALSE;
		}
		if (validating && aiq_http_is_expression(node))
			continue;
		text = aiq_http_node_to_text(node);
		if (text == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("“%s” must be a string, not %s"),
				    members[i],
				    aiq_json_type_name(node));
			return FALSE;
		}
		if (strpbrk(text, "\r\n") != NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("“%s” must not contain a line break"),
				    members[i]);
			return FALSE;
		}
		if (g_strcmp0(members[i], "username") == 0 && strchr(text, ':') != NULL) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("“username” must not contain a colon"));
			return FALSE;
		}
		if (g_strcmp0(members[i], "password") != 0 && *text == '\0') {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("“%s” must not be empty"),
				    members[i]);
			return FALSE;
		}
	}
	return TRUE;
}

/* the value of the Authorization header for a checked `auth` object */
static gchar *
aiq_http_auth_to_header(JsonObject *auth)
{
	const gchar *type = aiq_json_object_get_string(auth, "type");
	if (g_strcmp0(type, "basic") == 0) {
		g_autofree gchar *username =
			aiq_http_node_to_text(json_object_get_member(auth, "username"));
		g_autofree gchar *password =
			aiq_http_node_to_text(json_object_get_member(auth, "password"));
		g_autofree gchar *pair = g_strdup_printf("%s:%s", username, password);
		g_autofree gchar *encoded = g_base64_encode((const guchar *)pair, strlen(pair));
		/* the pair holds the password: do not leave it in freed memory */
		memset(pair, 0, strlen(pair));
		return g_strdup_printf("Basic %s", encoded);
	} else {
		g_autofree gchar *token =
			aiq_http_node_to_text(json_object_get_member(auth, "token"));
		return g_strdup_printf("Bearer %s", token);
	}
}

/* "404" → 404..404, "5xx" → 500..599 */
static gboolean
aiq_http_parse_status_pattern(const gchar *pattern, guint *lo, guint *hi)
{
	if (strlen(pattern) != 3 || pattern[0] < '1' || pattern[0] > '5')
		return FALSE;
	if (g_ascii_tolower(pattern[1]) == 'x' && g_ascii_tolower(pattern[2]) == 'x') {
		*lo = (guint)(pattern[0] - '0') * 100;
		*hi = *lo + 99;
		return TRUE;
	}
	if (g_ascii_isdigit(pattern[1]) && g_ascii_isdigit(pattern[2])) {
		*lo = *hi = (guint)g_ascii_strtoull(pattern, NULL, 10);
		return TRUE;
	}
	return FALSE;
}

static gboolean
aiq_http_check_status_pattern(const gchar *pattern, GError **error)
{
	guint lo, hi;
	if (aiq_http_parse_status_pattern(pattern, &lo, &hi))
		return TRUE;
	g_set_error(
		error,
		AIQ_ERROR,
		AIQ_ERROR_INVALID_ARGUMENT,
		_("“%s” is not a status pattern: use a code such as 404 or a class such as 5xx"),
		pattern);
	return FALSE;
}

static gboolean
aiq_http_check_max_response_size(gint64 value, GError **error)
{
	g_autofree gchar *max = NULL;
	if (value > 0 && value <= AIQ_HTTP_MAX_RESPONSE)
		return TRUE;
	max = aiq_http_size_to_string(AIQ_HTTP_MAX_RESPONSE);
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_INVALID_ARGUMENT,
		    _("must be between 1 byte and %s"),
		    max);
	return FALSE;
}

static void
aiq_http_form_append(GString *str, const gchar *key, const gchar *value)
{
	g_autofree gchar *key_escaped = g_uri_escape_string(key, NULL, FALSE);
	g_autofree gchar *value_escaped = g_uri_escape_string(value, NULL, FALSE);
	if (str->len > 0)
		g_string_append_c(str, '&');
	g_string_append_printf(str, "%s=%s", key_escaped, value_escaped);
}

/*
 * Encodes the body by @body_type (or by the body's own type when %NULL).
 * With @validating, strings holding expressions are not parsed. @bytes and
 * @content_type may be %NULL to check only.
 */
static gboolean
aiq_http_encode_body(JsonNode *body,
		     const gchar *body_type,
		     gboolean validating,
		     GBytes **bytes,
		     const gchar **content_type,
		     GError **error)
{
	g_autofree gchar *data = NULL;
	const gchar *type = NULL;

	if (body_type == NULL)
		body_type = aiq_json_is_string(body) ? "text" : "json";

	if (g_strcmp0(body_type, "json") == 0) {
		type = "application/json";
		if (aiq_json_is_string(body)) {
			/* a string is taken as JSON text written by the user */
			const gchar *text = json_node_get_string(body);
			g_autoptr(JsonNode) parsed = NULL;
			g_autoptr(GError) error_local = NULL;
			if (validating && aiq_template_string_has_expressions(text))
				return TRUE;
			parsed = aiq_json_parse(text,
						strlen(text),
						AIQ_JSON_MAX_DEPTH,
						&error_local);
			if (parsed == NULL) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("the body is text but “body_type” is json: %s"),
					    error_local->message);
				return FALSE;
			}
			data = g_strdup(text);
		} else {
			data = aiq_json_to_string(body, FALSE);
		}
	} else if (g_strcmp0(body_type, "text") == 0) {
		type = "text/plain; charset=utf-8";
		data = aiq_http_node_to_text(body);
		if (data == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("“body_type” text needs a string body, not %s"),
				    aiq_json_type_name(body));
			return FALSE;
		}
	} else if (g_strcmp0(body_type, "form") == 0) {
		JsonObject *obj;
		g_autoptr(GList) names = NULL;
		g_autoptr(GString) str = g_string_new(NULL);
		type = "application/x-www-form-urlencoded";
		if (!JSON_NODE_HOLDS_OBJECT(body)) {
			if (validating && aiq_http_is_expression(body))
				return TRUE;
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("“body_type” form needs an object body, not %s"),
				    aiq_json_type_name(body));
			return FALSE;
		}
		obj = json_node_get_object(body);
		names = json_object_get_members(obj);
		for (GList *l = names; l != NULL; l = l->next) {
			const gchar *key = l->data;
			JsonNode *value = json_object_get_member(obj, key);
			g_autofree gchar *text = NULL;
			if (JSON_NODE_HOLDS_NULL(value))
				text = g_strdup("");
			else
				text = aiq_http_node_to_text(value);
			if (text == NULL) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("form field “%s” must be a string, a number or a "
					      "boolean, not %s"),
					    key,
					    aiq_json_type_name(value));
				return FALSE;
			}
			aiq_http_form_append(str, key, text);
		}
		data = g_strdup(str->str);
	} else {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("unknown body type “%s”"),
			    body_type);
		return FALSE;
	}
	if (content_type != NULL)
		*content_type = type;
	if (bytes != NULL) {
		gsize len = strlen(data);
		*bytes = g_bytes_new_take(g_steal_pointer(&data), len);
	}
	return TRUE;
}

/* ---------------------------------------------------------------------------
 * validation
 */

static void
aiq_http_add_problem(AiqProblems *problems,
		     const gchar *path,
		     const gchar *member,
		     const GError *error)
{
	g_autofree gchar *member_path = aiq_path_member(path, member);
	aiq_problems_add_error(problems, member_path, error);
}

static void
aiq_http_validate(JsonObject *with, const gchar *path, AiqProblems *problems)
{
	JsonNode *node;
	JsonNode *body;
	JsonNode *body_type;

	/* url */
	node = json_object_get_member(with, "url");
	if (aiq_json_is_string(node) && !aiq_http_is_expression(node)) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GUri) uri = aiq_http_parse_url(json_node_get_string(node), &error);
		if (uri == NULL)
			aiq_http_add_problem(problems, path, "url", error);
	}

	/* headers */
	node = json_object_get_member(with, "headers");
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *headers = json_node_get_object(node);
		g_autoptr(GList) names = json_object_get_members(headers);
		for (GList *l = names; l != NULL; l = l->next) {
			const gchar *name = l->data;
			JsonNode *value = json_object_get_member(headers, name);
			g_autoptr(GError) error = NULL;
			const gchar *text = NULL;
			if (aiq_json_is_string(value) && !aiq_http_is_expression(value))
				text = json_node_get_string(value);
			if (!aiq_http_check_header(name, text, &error)) {
				aiq_http_add_problem(problems, path, "headers", error);
				continue;
			}
			if (g_ascii_strcasecmp(name, "Authorization") == 0 &&
			    json_object_has_member(with, "auth")) {
				g_autofree gchar *member_path = aiq_path_member(path, "headers");
				aiq_problems_add(problems,
						 member_path,
						 _("the Authorization header and “auth” are both "
						   "given; keep one"));
			}
		}
	}

	/* auth */
	node = json_object_get_member(with, "auth");
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
		g_autoptr(GError) error = NULL;
		if (!aiq_http_check_auth(json_node_get_object(node), TRUE, &error))
			aiq_http_add_problem(problems, path, "auth", error);
	}

	/* body and body_type together */
	body = json_object_get_member(with, "body");
	body_type = json_object_get_member(with, "body_type");
	if (body_type != NULL && !aiq_http_is_expression(body_type) &&
	    !(aiq_json_is_string(body_type) &&
	      g_strv_contains(aiq_http_body_types, json_node_get_string(body_type))))
		body_type = NULL; /* reported by the generic check */
	else if (body_type != NULL && aiq_http_is_expression(body_type))
		body = NULL; /* cannot tell yet */
	if (body != NULL && !JSON_NODE_HOLDS_NULL(body)) {
		g_autoptr(GError) error = NULL;
		if (!aiq_http_encode_body(body,
					  body_type != NULL ? json_node_get_string(body_type)
							    : NULL,
					  TRUE,
					  NULL,
					  NULL,
					  &error))
			aiq_http_add_problem(problems, path, "body", error);
	} else if (body_type != NULL && aiq_json_is_string(body_type) &&
		   !aiq_http_is_expression(body_type)) {
		g_autofree gchar *member_path = aiq_path_member(path, "body_type");
		aiq_problems_add(problems, member_path, _("“body_type” is given without a “body”"));
	}

	/* fail_on */
	node = json_object_get_member(with, "fail_on");
	if (node != NULL && (aiq_json_is_string(node) || JSON_NODE_HOLDS_ARRAY(node))) {
		g_autoptr(JsonArray) array = NULL;
		if (JSON_NODE_HOLDS_ARRAY(node)) {
			array = json_array_ref(json_node_get_array(node));
		} else {
			array = json_array_new();
			json_array_add_element(array, json_node_copy(node));
		}
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *elem = json_array_get_element(array, i);
			g_autoptr(GError) error = NULL;
			if (!aiq_json_is_string(elem) || aiq_http_is_expression(elem))
				continue;
			if (!aiq_http_check_status_pattern(json_node_get_string(elem), &error))
				aiq_http_add_problem(problems, path, "fail_on", error);
		}
	}

	/* max_response_size */
	node = json_object_get_member(with, "max_response_size");
	if (node != NULL && aiq_json_is_integer(node)) {
		g_autoptr(GError) error = NULL;
		if (!aiq_http_check_max_response_size(json_node_get_int(node), &error))
			aiq_http_add_problem(problems, path, "max_response_size", error);
	}

	/* timeout */
	node = json_object_get_member(with, "timeout");
	if (aiq_json_is_string(node) && !aiq_http_is_expression(node)) {
		gint64 ms = 0;
		if (aiq_duration_parse(json_node_get_string(node), &ms, NULL) && ms <= 0) {
			g_autofree gchar *member_path = aiq_path_member(path, "timeout");
			aiq_problems_add(problems, member_path, _("must be longer than 0s"));
		}
	}
}

/* ---------------------------------------------------------------------------
 * sessions, one per (main context, CA file)
 */

typedef struct {
	gchar *key;
	GMainContext *context;
	SoupSession *session;
	guint active;
	GSource *idle_source;
} AiqHttpSession;

static GMutex aiq_http_sessions_lock;
static GHashTable *aiq_http_sessions = NULL; /* key → AiqHttpSession, owned */

static void
aiq_http_session_free(AiqHttpSession *entry)
{
	if (entry->idle_source != NULL) {
		g_source_destroy(entry->idle_source);
		g_source_unref(entry->idle_source);
	}
	g_object_unref(entry->session);
	g_main_context_unref(entry->context);
	g_free(entry->key);
	g_free(entry);
}

/* runs on the entry's own context */
static gboolean
aiq_http_session_idle_cb(gpointer user_data)
{
	AiqHttpSession *entry = user_data;
	gboolean drop = FALSE;

	g_mutex_lock(&aiq_http_sessions_lock);
	if (entry->active == 0 && entry->idle_source != NULL &&
	    g_source_is_destroyed(entry->idle_source) == FALSE) {
		g_hash_table_steal(aiq_http_sessions, entry->key);
		g_clear_pointer(&entry->idle_source, g_source_unref);
		drop = TRUE;
	}
	g_mutex_unlock(&aiq_http_sessions_lock);
	if (drop)
		aiq_http_session_free(entry);
	return G_SOURCE_REMOVE;
}

static AiqHttpSession *
aiq_http_session_acquire(const gchar *ca_name, const gchar *ca_path, GError **error)
{
	g_autoptr(GMainContext) context = g_main_context_ref_thread_default();
	g_autofree gchar *key =
		g_strdup_printf("%p|%s", (gpointer)context, ca_path != NULL ? ca_path : "");
	AiqHttpSession *entry;

	g_mutex_lock(&aiq_http_sessions_lock);
	if (aiq_http_sessions == NULL)
		aiq_http_sessions = g_hash_table_new(g_str_hash, g_str_equal);
	entry = g_hash_table_lookup(aiq_http_sessions, key);
	if (entry == NULL) {
		g_autoptr(GTlsDatabase) database = NULL;
		if (ca_path != NULL) {
			g_autoptr(GError) error_local = NULL;
			database = g_tls_file_database_new(ca_path, &error_local);
			if (database == NULL) {
				g_mutex_unlock(&aiq_http_sessions_lock);
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_CONFIG,
					    _("cannot load CA “%s” from %s: %s"),
					    ca_name,
					    ca_path,
					    error_local->message);
				return NULL;
			}
		}
		entry = g_new0(AiqHttpSession, 1);
		entry->key = g_steal_pointer(&key);
		entry->context = g_main_context_ref(context);
		/* the session captures the thread-default context, which is ours */
		entry->session = soup_session_new_with_options("user-agent",
							       "AutomateIQ/" PACKAGE_VERSION,
							       "max-conns",
							       AIQ_HTTP_MAX_CONNS,
							       "max-conns-per-host",
							       AIQ_HTTP_MAX_CONNS_HOST,
							       "timeout",
							       0, /* our own timer covers it */
							       NULL);
		if (database != NULL)
			soup_session_set_tls_database(entry->session, database);
		g_hash_table_insert(aiq_http_sessions, entry->key, entry);
	}
	if (entry->idle_source != NULL) {
		g_source_destroy(entry->idle_source);
		g_clear_pointer(&entry->idle_source, g_source_unref);
	}
	entry->active++;
	g_mutex_unlock(&aiq_http_sessions_lock);
	return entry;
}

static void
aiq_http_session_release(AiqHttpSession *entry)
{
	g_mutex_lock(&aiq_http_sessions_lock);
	g_assert(entry->active > 0);
	if (--entry->active == 0 && entry->idle_source == NULL) {
		entry->idle_source = g_timeout_source_new_seconds(AIQ_HTTP_SESSION_IDLE_S);
		g_source_set_callback(entry->idle_source, aiq_http_session_idle_cb, entry, NULL);
		g_source_set_static_name(entry->idle_source, "[aiq] http session idle");
		g_source_attach(entry->idle_source, entry->context);
	}
	g_mutex_unlock(&aiq_http_sessions_lock);
}

/* ---------------------------------------------------------------------------
 * one request
 */

typedef struct {
	AiqStepRun *run;
	AiqHttpSession *entry;
	SoupMessage *msg;
	GInputStream *stream;
	GByteArray *body;
	gchar *method;
	gchar *log_url;
	gchar *ca_name;
	gchar **fail_on;
	gint64 max_size;
	gint64 timeout_ms;
	gint64 started_us; /* monotonic */
	GSource *timeout_source;
	GTlsCertificateFlags tls_errors;
} AiqHttpRequest;

static void
aiq_http_request_free(AiqHttpRequest *req)
{
	if (req->timeout_source != NULL) {
		g_source_destroy(req->timeout_source);
		g_source_unref(req->timeout_source);
	}
	if (req->msg != NULL)
		g_signal_handlers_disconnect_by_data(req->msg, req);
	g_clear_object(&req->stream);
	g_clear_object(&req->msg);
	if (req->entry != NULL)
		aiq_http_session_release(req->entry);
	if (req->body != NULL)
		g_byte_array_unref(req->body);
	g_free(req->method);
	g_free(req->log_url);
	g_free(req->ca_name);
	g_strfreev(req->fail_on);
	g_object_unref(req->run);
	g_free(req);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqHttpRequest, aiq_http_request_free)

static gint64
aiq_http_request_elapsed_ms(AiqHttpRequest *req)
{
	return (g_get_monotonic_time() - req->started_us) / 1000;
}

static gchar *
aiq_http_request_host(AiqHttpRequest *req, gboolean with_port)
{
	return aiq_http_uri_host_port(soup_message_get_uri(req->msg), with_port);
}

static gboolean
aiq_http_accept_certificate_cb(SoupMessage *msg,
			       GTlsCertificate *certificate,
			       GTlsCertificateFlags errors,
			       gpointer user_data)
{
	AiqHttpRequest *req = user_data;
	/* only recorded to explain the failure: never accepted */
	req->tls_errors |= errors;
	return FALSE;
}

static gchar *
aiq_http_describe_certificate_errors(GTlsCertificateFlags flags, const gchar *host)
{
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
	if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA)
		g_ptr_array_add(parts, g_strdup(_("it is not signed by a trusted CA")));
	if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY)
		g_ptr_array_add(parts,
				g_strdup_printf(_("it is not valid for the host name %s"), host));
	if (flags & G_TLS_CERTIFICATE_NOT_ACTIVATED)
		g_ptr_array_add(parts, g_strdup(_("it is not valid yet")));
	if (flags & G_TLS_CERTIFICATE_EXPIRED)
		g_ptr_array_add(parts, g_strdup(_("it has expired")));
	if (flags & G_TLS_CERTIFICATE_REVOKED)
		g_ptr_array_add(parts, g_strdup(_("it has been revoked")));
	if (flags & G_TLS_CERTIFICATE_INSECURE)
		g_ptr_array_add(parts, g_strdup(_("it uses an insecure algorithm")));
	if (parts->len == 0)
		g_ptr_array_add(parts, g_strdup(_("it could not be verified")));
	g_ptr_array_add(parts, NULL);
	return g_strjoinv(_("; "), (gchar **)parts->pdata);
}

/* turns a libsoup or GIO error into one a user can act on */
static GError *
aiq_http_request_convert_error(AiqHttpRequest *req, const GError *error)
{
	g_autofree gchar *host = aiq_http_request_host(req, FALSE);
	g_autofree gchar *host_port = aiq_http_request_host(req, TRUE);
	GTlsCertificateFlags flags = req->tls_errors;

	if (flags == 0 && error->domain == G_TLS_ERROR)
		flags = soup_message_get_tls_peer_certificate_errors(req->msg);
	if (flags != 0 || g_error_matches(error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE)) {
		g_autofree gchar *why = aiq_http_describe_certificate_errors(flags, host);
		if (req->ca_name != NULL) {
			return g_error_new(
				AIQ_ERROR,
				AIQ_ERROR_CONNECTION,
				_("certificate problem with %s (checked against CA “%s”): "
				  "%s"),
				host_port,
				req->ca_name,
				why);
		}
		return g_error_new(
			AIQ_ERROR,
			AIQ_ERROR_CONNECTION,
			_("certificate problem with %s: %s; if the server uses a private "
			  "CA, name it with “ca”"),
			host_port,
			why);
	}
	if (error->domain == G_TLS_ERROR) {
		return g_error_new(AIQ_ERROR,
				   AIQ_ERROR_CONNECTION,
				   _("TLS handshake with %s failed: %s"),
				   host_port,
				   error->message);
	}
	if (error->domain == G_RESOLVER_ERROR) {
		return g_error_new(AIQ_ERROR,
				   AIQ_ERROR_CONNECTION,
				   _("cannot resolve the host name %s: %s"),
				   host,
				   error->message);
	}
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PROXY_FAILED) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PROXY_AUTH_FAILED) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PROXY_NOT_ALLOWED)) {
		return g_error_new(AIQ_ERROR,
				   AIQ_ERROR_CONNECTION,
				   _("cannot connect to %s: %s"),
				   host_port,
				   error->message);
	}
	if (g_error_matches(error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_TOO_MANY_REDIRECTS)) {
		return g_error_new(AIQ_ERROR,
				   AIQ_ERROR_STEP_FAILED,
				   _("too many redirects, the last from %s"),
				   host_port);
	}
	if (g_error_matches(error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_REDIRECT_NO_LOCATION) ||
	    g_error_matches(error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_REDIRECT_BAD_URI)) {
		return g_error_new(AIQ_ERROR,
				   AIQ_ERROR_STEP_FAILED,
				   _("bad redirect from %s: %s"),
				   host_port,
				   error->message);
	}
	if (error->domain == SOUP_SESSION_ERROR) {
		return g_error_new(AIQ_ERROR,
				   AIQ_ERROR_CONNECTION,
				   _("%s sent a response that is not valid HTTP: %s"),
				   host_port,
				   error->message);
	}
	return g_error_new(AIQ_ERROR,
			   AIQ_ERROR_CONNECTION,
			   _("connection to %s failed: %s"),
			   host_port,
			   error->message);
}

/* finishes the attempt with an error from the transfer; takes @error */
static void
aiq_http_request_fail(AiqHttpRequest *req, GError *error)
{
	gint64 ms = aiq_http_request_elapsed_ms(req);

	/* the attempt already ended (our timeout, the step's timeout, a cancel)
	 * and the transfer stopped because of it: log why, nothing more */
	if (aiq_step_run_is_finished(req->run)) {
		const GError *reason = aiq_step_run_get_error(req->run);
		aiq_step_run_log(req->run,
				 _("%s %s → stopped: %s (%" PRId64 " ms)"),
				 req->method,
				 req->log_url,
				 reason != NULL ? reason->message : error->message,
				 ms);
		g_error_free(error);
		return;
	}
	if (error->domain != AIQ_ERROR &&
	    !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		GError *converted = aiq_http_request_convert_error(req, error);
		g_error_free(error);
		error = converted;
	}
	aiq_step_run_log(req->run,
			 _("%s %s → %s (%" PRId64 " ms)"),
			 req->method,
			 req->log_url,
			 error->message,
			 ms);
	aiq_step_run_return_error(req->run, error);
}

static gboolean
aiq_http_request_timeout_cb(gpointer user_data)
{
	AiqHttpRequest *req = user_data;
	g_autofree gchar *duration = aiq_duration_to_string(req->timeout_ms);
	g_autofree gchar *host_port = aiq_http_request_host(req, TRUE);
	AiqStepRun *run = req->run;

	g_clear_pointer(&req->timeout_source, g_source_unref);
	/* finishing cancels the run's cancellable, which aborts the transfer; the
	 * transfer's callback may free @req before this returns */
	aiq_step_run_return_error(run,
				  g_error_new(AIQ_ERROR,
					      AIQ_ERROR_TIMED_OUT,
					      _("no complete response from %s within %s "
						"(the request timeout)"),
					      host_port,
					      duration));
	return G_SOURCE_REMOVE;
}

static gboolean
aiq_http_status_matches(guint status, gchar **patterns)
{
	for (guint i = 0; patterns != NULL && patterns[i] != NULL; i++) {
		guint lo, hi;
		if (aiq_http_parse_status_pattern(patterns[i], &lo, &hi) && status >= lo &&
		    status <= hi)
			return TRUE;
	}
	return FALSE;
}

static gboolean
aiq_http_content_type_is_json(const gchar *content_type)
{
	g_autofree gchar *lower = NULL;
	if (content_type == NULL)
		return FALSE;
	lower = g_ascii_strdown(content_type, -1);
	return g_strcmp0(lower, "application/json") == 0 || g_str_has_suffix(lower, "+json");
}

/* the body as a JSON value: parsed JSON, text, or base64 for bytes */
static void
aiq_http_request_add_body(AiqHttpRequest *req, JsonObject *output)
{
	SoupMessageHeaders *headers = soup_message_get_response_headers(req->msg);
	g_autoptr(GHashTable) params = NULL;
	const gchar *content_type = soup_message_headers_get_content_type(headers, &params);
	const gchar *charset = params != NULL ? g_hash_table_lookup(params, "charset") : NULL;
	const gchar *data = (const gchar *)req->body->data;
	gsize len = req->body->len;
	g_autofree gchar *converted = NULL;
	g_autofree gchar *encoded = NULL;

	if (len == 0) {
		json_object_set_string_member(output, "body", "");
		return;
	}
	if (aiq_http_content_type_is_json(content_type)) {
		g_autoptr(GError) error = NULL;
		JsonNode *parsed = aiq_json_parse(data, len, AIQ_JSON_MAX_DEPTH, &error);
		if (parsed != NULL) {
			json_object_set_member(output, "body", parsed);
			return;
		}
		aiq_step_run_log(req->run,
				 _("the response says it is %s but it is not valid JSON, kept as "
				   "text: %s"),
				 content_type,
				 error->message);
	}
	/* text in another charset */
	if (charset != NULL && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "utf8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0) {
		gsize converted_len = 0;
		converted =
			g_convert(data, (gssize)len, "UTF-8", charset, NULL, &converted_len, NULL);
		if (converted != NULL) {
			data = converted;
			len = converted_len;
		}
	}
	if (g_utf8_validate(data, (gssize)len, NULL)) {
		g_autofree gchar *text = g_strndup(data, len);
		json_object_set_string_member(output, "body", text);
		return;
	}
	encoded = g_base64_encode(req->body->data, req->body->len);
	json_object_set_string_member(output, "body", encoded);
	json_object_set_string_member(output, "body_encoding", "base64");
}

static JsonNode *
aiq_http_request_build_output(AiqHttpRequest *req)
{
	g_autoptr(JsonObject) output = json_object_new();
	g_autoptr(JsonObject) headers = json_object_new();
	g_autofree gchar *url = g_uri_to_string(soup_message_get_uri(req->msg));
	SoupMessageHeadersIter iter;
	const gchar *name;
	const gchar *value;

	json_object_set_int_member(output, "status", soup_message_get_status(req->msg));
	soup_message_headers_iter_init(&iter, soup_message_get_response_headers(req->msg));
	while (soup_message_headers_iter_next(&iter, &name, &value)) {
		g_autofree gchar *lower = g_ascii_strdown(name, -1);
		g_autofree gchar *valid = g_utf8_make_valid(value, -1);
		const gchar *previous = aiq_json_object_get_string(headers, lower);
		if (previous != NULL) {
			/* repeated headers are combined as RFC 9110 allows */
			g_autofree gchar *combined = g_strdup_printf("%s, %s", previous, valid);
			json_object_set_string_member(headers, lower, combined);
		} else {
			json_object_set_string_member(headers, lower, valid);
		}
	}
	json_object_set_object_member(output, "headers", g_steal_pointer(&headers));
	aiq_http_request_add_body(req, output);
	json_object_set_string_member(output, "url", url);
	return aiq_json_new_object(g_steal_pointer(&output));
}

static void
aiq_http_request_complete(AiqHttpRequest *req)
{
	guint status = soup_message_get_status(req->msg);
	g_autoptr(JsonNode) output = aiq_http_request_build_output(req);
	g_autofree gchar *final_url = g_uri_to_string(soup_message_get_uri(req->msg));
	gint64 ms = aiq_http_request_elapsed_ms(req);

	if (g_strcmp0(final_url, req->log_url) != 0) {
		aiq_step_run_log(req->run,
				 _("%s %s → %u from %s (%" PRId64 " ms)"),
				 req->method,
				 req->log_url,
				 status,
				 final_url,
				 ms);
	} else {
		aiq_step_run_log(req->run,
				 _("%s %s → %u (%" PRId64 " ms)"),
				 req->method,
				 req->log_url,
				 status,
				 ms);
	}
	if (aiq_http_status_matches(status, req->fail_on)) {
		const gchar *reason = soup_message_get_reason_phrase(req->msg);
		g_autofree gchar *host = aiq_http_request_host(req, FALSE);
		if (reason == NULL || *reason == '\0')
			reason = soup_status_get_phrase(status);
		aiq_step_run_return_error_with_output(req->run,
						      g_error_new(AIQ_ERROR,
								  AIQ_ERROR_STEP_FAILED,
								  _("HTTP %u %s from %s"),
								  status,
								  reason,
								  host),
						      g_steal_pointer(&output));
		return;
	}
	aiq_step_run_return_value(req->run, g_steal_pointer(&output));
}

static GError *
aiq_http_request_too_large_error(AiqHttpRequest *req)
{
	g_autofree gchar *limit = aiq_http_size_to_string(req->max_size);
	return g_error_new(AIQ_ERROR,
			   AIQ_ERROR_TOO_LARGE,
			   _("response body is over the %s limit; raise max_response_size if "
			     "it is expected"),
			   limit);
}

static void
aiq_http_request_read_next(AiqHttpRequest *req);

static void
aiq_http_request_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqHttpRequest) req = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes =
		g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &error);
	gsize size;

	if (bytes == NULL) {
		aiq_http_request_fail(req, g_steal_pointer(&error));
		return;
	}
	size = g_bytes_get_size(bytes);
	if (size == 0) {
		aiq_http_request_complete(req);
		return;
	}
	if ((gint64)(req->body->len + size) > req->max_size) {
		aiq_http_request_fail(req, aiq_http_request_too_large_error(req));
		return;
	}
	g_byte_array_append(req->body, g_bytes_get_data(bytes, NULL), (guint)size);
	aiq_http_request_read_next(g_steal_pointer(&req));
}

static void
aiq_http_request_read_next(AiqHttpRequest *req)
{
	g_input_stream_read_bytes_async(req->stream,
					AIQ_HTTP_READ_CHUNK,
					G_PRIORITY_DEFAULT,
					aiq_step_run_get_cancellable(req->run),
					aiq_http_request_read_cb,
					req);
}

static void
aiq_http_request_send_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqHttpRequest) req = user_data;
	g_autoptr(GError) error = NULL;
	GInputStream *stream = soup_session_send_finish(SOUP_SESSION(source), res, &error);
	SoupMessageHeaders *headers;

	if (stream == NULL) {
		aiq_http_request_fail(req, g_steal_pointer(&error));
		return;
	}
	req->stream = stream;

	/* refuse early what is declared too large (unless it is compressed) */
	headers = soup_message_get_response_headers(req->msg);
	if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH &&
	    soup_message_headers_get_one(headers, "Content-Encoding") == NULL &&
	    soup_message_headers_get_content_length(headers) > (goffset)req->max_size) {
		aiq_http_request_fail(req, aiq_http_request_too_large_error(req));
		return;
	}
	aiq_http_request_read_next(g_steal_pointer(&req));
}

static gchar *
aiq_http_build_query(const gchar *existing, JsonObject *query)
{
	g_autoptr(GString) str = g_string_new(existing);
	g_autoptr(GList) names = NULL;

	if (query == NULL)
		return existing != NULL ? g_strdup(existing) : NULL;
	names = json_object_get_members(query);
	for (GList *l = names; l != NULL; l = l->next) {
		const gchar *key = l->data;
		const gchar *value = aiq_json_object_get_string(query, key);
		aiq_http_form_append(str, key, value != NULL ? value : "");
	}
	if (str->len == 0)
		return NULL;
	return g_strdup(str->str);
}

static gboolean
aiq_http_headers_have(JsonObject *headers, const gchar *name)
{
	g_autoptr(GList) names = NULL;
	if (headers == NULL)
		return FALSE;
	names = json_object_get_members(headers);
	for (GList *l = names; l != NULL; l = l->next) {
		if (g_ascii_strcasecmp(l->data, name) == 0)
			return TRUE;
	}
	return FALSE;
}

/* builds the request from the parameters, checking what expressions produced */
static AiqHttpRequest *
aiq_http_request_new(AiqStepRun *run, GError **error)
{
	g_autoptr(AiqHttpRequest) req = g_new0(AiqHttpRequest, 1);
	AiqConfig *config = aiq_step_run_get_config(run);
	const gchar *url = aiq_step_run_get_string(run, "url");
	const gchar *method = aiq_step_run_get_string(run, "method");
	const gchar *ca = aiq_step_run_get_string(run, "ca");
	const gchar *step_key = aiq_step_run_get_step_key(run);
	JsonObject *headers = aiq_step_run_get_object(run, "headers");
	JsonObject *auth = aiq_step_run_get_object(run, "auth");
	JsonNode *body = aiq_step_run_get_param(run, "body");
	JsonNode *auth_node = aiq_step_run_get_param(run, "auth");
	const gchar *ca_path = NULL;
	g_autoptr(GUri) parsed = NULL;
	g_autoptr(GUri) uri = NULL;
	g_autofree gchar *query = NULL;
	g_autoptr(GError) error_local = NULL;
	SoupMessageHeaders *request_headers;

	req->run = g_object_ref(run);
	req->started_us = g_get_monotonic_time();
	req->body = g_byte_array_new();

	/* method and URL */
	if (method == NULL || !g_strv_contains(aiq_http_methods, method)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("with.method: “%s” is not an HTTP method"),
			    method != NULL ? method : "");
		return NULL;
	}
	req->method = g_strdup(method);
	if (url == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with.url: missing"));
		return NULL;
	}
	parsed = aiq_http_parse_url(url, &error_local);
	if (parsed == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    "with.url: %s",
			    error_local->message);
		return NULL;
	}
	query = aiq_http_build_query(g_uri_get_query(parsed),
				     aiq_step_run_get_object(run, "query"));
	uri = g_uri_build(g_uri_get_flags(parsed),
			  g_uri_get_scheme(parsed),
			  NULL,
			  g_uri_get_host(parsed),
			  g_uri_get_port(parsed),
			  g_uri_get_path(parsed),
			  query,
			  NULL);
	req->log_url = g_uri_to_string(uri);

	/* the other parameters */
	req->max_size = aiq_step_run_get_int(run, "max_response_size");
	if (!aiq_http_check_max_response_size(req->max_size, &error_local)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    "with.max_response_size: %s",
			    error_local->message);
		return NULL;
	}
	req->timeout_ms = aiq_step_run_get_duration(run, "timeout");
	if (req->timeout_ms == 0) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with.timeout: must be longer than 0s"));
		return NULL;
	}
	req->fail_on = aiq_step_run_get_strv(run, "fail_on");
	for (guint i = 0; req->fail_on != NULL && req->fail_on[i] != NULL; i++) {
		if (!aiq_http_check_status_pattern(req->fail_on[i], &error_local)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    "with.fail_on: %s",
				    error_local->message);
			return NULL;
		}
	}
	if (auth_node != NULL && auth == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("with.auth: expected an object, got %s"),
			    aiq_json_type_name(auth_node));
		return NULL;
	}
	if (auth != NULL && !aiq_http_check_auth(auth, FALSE, &error_local)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    "with.auth: %s",
			    error_local->message);
		return NULL;
	}
	if (ca != NULL) {
		ca_path = aiq_config_get_ca_file(config, ca);
		if (ca_path == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("with.ca: no CA named “%s” in the [ca] section of the "
				      "configuration"),
				    ca);
			return NULL;
		}
		req->ca_name = g_strdup(ca);
	}

	/* the message */
	req->msg = soup_message_new_from_uri(method, uri);
	request_headers = soup_message_get_request_headers(req->msg);
	/* libsoup drops Authorization itself on a redirect to another origin */
	if (!aiq_step_run_get_bool(run, "follow_redirects"))
		soup_message_add_flags(req->msg, SOUP_MESSAGE_NO_REDIRECT);
	if (body != NULL && !JSON_NODE_HOLDS_NULL(body)) {
		g_autoptr(GBytes) bytes = NULL;
		const gchar *content_type = NULL;
		if (!aiq_http_encode_body(body,
					  aiq_step_run_get_string(run, "body_type"),
					  FALSE,
					  &bytes,
					  &content_type,
					  &error_local)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    "with.body: %s",
				    error_local->message);
			return NULL;
		}
		soup_message_set_request_body_from_bytes(req->msg, content_type, bytes);
	}
	if (headers != NULL) {
		g_autoptr(GList) names = json_object_get_members(headers);
		for (GList *l = names; l != NULL; l = l->next) {
			const gchar *name = l->data;
			const gchar *value = aiq_json_object_get_string(headers, name);
			if (value == NULL)
				value = "";
			if (!aiq_http_check_header(name, value, &error_local)) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    "with.headers: %s",
					    error_local->message);
				return NULL;
			}
			soup_message_headers_replace(request_headers, name, value);
		}
	}
	if (auth != NULL) {
		g_autofree gchar *value = aiq_http_auth_to_header(auth);
		soup_message_headers_replace(request_headers, "Authorization", value);
		memset(value, 0, strlen(value));
	}
	/* an Idempotency-Key the user set explicitly wins */
	if (step_key != NULL && *step_key != '\0' &&
	    aiq_step_run_get_bool(run, "idempotency_key") &&
	    !aiq_http_headers_have(headers, "Idempotency-Key")) {
		if (!aiq_http_check_header("Idempotency-Key", step_key, error))
			return NULL;
		soup_message_headers_replace(request_headers, "Idempotency-Key", step_key);
	}
	g_signal_connect(req->msg,
			 "accept-certificate",
			 G_CALLBACK(aiq_http_accept_certificate_cb),
			 req);

	/* the session last: it is the only part that can fail on configuration */
	req->entry = aiq_http_session_acquire(ca, ca_path, error);
	if (req->entry == NULL)
		return NULL;
	return g_steal_pointer(&req);
}

static void
aiq_http_run(AiqStepRun *run)
{
	g_autoptr(GError) error = NULL;
	AiqHttpRequest *req = aiq_http_request_new(run, &error);

	if (req == NULL) {
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}
	if (req->timeout_ms > 0) {
		req->timeout_source = g_timeout_source_new((guint)MIN(req->timeout_ms, G_MAXUINT));
		g_source_set_callback(req->timeout_source, aiq_http_request_timeout_cb, req, NULL);
		g_source_set_static_name(req->timeout_source, "[aiq] http request timeout");
		g_source_attach(req->timeout_source, g_main_context_get_thread_default());
	}
	soup_session_send_async(req->entry->session,
				req->msg,
				G_PRIORITY_DEFAULT,
				aiq_step_run_get_cancellable(run),
				aiq_http_request_send_cb,
				req);
}

static gchar *
aiq_http_get_circuit_key(AiqStepRun *run)
{
	const gchar *url = aiq_step_run_get_string(run, "url");
	g_autoptr(GUri) uri = NULL;
	g_autofree gchar *origin = NULL;

	if (url == NULL)
		return NULL;
	uri = aiq_http_parse_url(url, NULL);
	if (uri == NULL)
		return NULL;
	/* the origin names the target: https://erp.internal:443 */
	origin = aiq_http_uri_origin(uri);
	return g_steal_pointer(&origin);
}

const AiqStepKind aiq_step_kind_http = {
	.name = "http",
	.title = N_("HTTP request"),
	.description = N_("Sends one HTTP or HTTPS request and returns the status, the headers "
			  "and the body."),
	.icon_name = "network-transmit-receive-symbolic",
	.params = aiq_http_params,
	.flags = AIQ_STEP_KIND_FLAG_NONE,
	.validate = aiq_http_validate,
	.get_circuit_key = aiq_http_get_circuit_key,
	.run = aiq_http_run,
};
