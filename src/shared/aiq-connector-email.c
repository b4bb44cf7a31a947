/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aiq-connector-file-private.h"
#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-problems.h"
#include "aiq-step-run.h"
#include "aiq-template.h"

/*
 * The `email` step kind: one message through an SMTP server from the agent
 * configuration, sent with libcurl on a worker thread.
 *
 * The message is built with the curl MIME API: a multipart/alternative for
 * text and html, inside a multipart/mixed when there are attachments. The
 * step sets every structural header itself (Date, Message-ID, From, To, Cc,
 * Subject, MIME-Version, Content-Type) and refuses extra headers that would
 * override one of them or carry a line break. The Message-ID derives from the
 * step key, so a step that is run again after a crash sends the same
 * Message-ID and receivers can tell the copies apart.
 */

typedef struct curl_slist AiqCurlSlist;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURL, curl_easy_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(curl_mime, curl_mime_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqCurlSlist, curl_slist_free_all)

#define AIQ_EMAIL_CONNECT_TIMEOUT_MS 10000
/* a bound on the whole transfer when the step has no timeout of its own */
#define AIQ_EMAIL_DEFAULT_TIMEOUT_MS (10 * 60 * 1000)
#define AIQ_EMAIL_MAX_RECIPIENTS 100
#define AIQ_EMAIL_MAX_ATTACHMENTS 50
/* text, html and attachments before encoding; base64 makes it a third larger */
#define AIQ_EMAIL_MAX_CONTENT_SIZE (18 * 1024 * 1024)
#define AIQ_EMAIL_MAX_ADDRESS_LEN 254
#define AIQ_EMAIL_MAX_HEADER_LEN 4096
#define AIQ_EMAIL_MAX_FILENAME_LEN 255
/* raw bytes per RFC 2047 encoded word: 60 base64 characters, 72 in all */
#define AIQ_EMAIL_ENCODED_WORD_BYTES 45

static const gchar *const aiq_email_encodings[] = { "text", "base64", NULL };

static const gchar *const aiq_email_attachment_members[] = {
	"root", "path", "filename", "content_type", "content", "encoding", NULL
};

/* set by the step itself; an extra header may not override them */
static const gchar *const aiq_email_reserved_headers[] = {
	"From",
	"To",
	"Cc",
	"Bcc",
	"Subject",
	"Date",
	"Message-ID",
	"Reply-To",
	"MIME-Version",
	"Content-Type",
	"Content-Transfer-Encoding",
	NULL,
};

static const AiqParam aiq_email_params[] = {
	{ "server",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("The SMTP server: the NAME of an [smtp.NAME] group of the agent configuration; "
	     "the [smtp] server when unset"),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "to",
	  AIQ_PARAM_STRING_LIST,
	  TRUE,
	  NULL,
	  N_("Recipient addresses, such as ops@example.com"),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "cc",
	  AIQ_PARAM_STRING_LIST,
	  FALSE,
	  NULL,
	  N_("Copy recipient addresses, shown to every recipient"),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "bcc",
	  AIQ_PARAM_STRING_LIST,
	  FALSE,
	  NULL,
	  N_("Blind copy recipient addresses: they receive the message but appear in no header"),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "from",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("The sender address; the server's from= address when unset"),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "reply_to",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("The address that replies go to"),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "subject",
	  AIQ_PARAM_STRING,
	  TRUE,
	  NULL,
	  N_("The subject line, in any language"),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "text",
	  AIQ_PARAM_TEXT,
	  FALSE,
	  NULL,
	  N_("The plain text body; give text, html or both"),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "html",
	  AIQ_PARAM_TEXT,
	  FALSE,
	  NULL,
	  N_("The HTML body; with text as well, the mail client shows the one it prefers"),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "attachments",
	  AIQ_PARAM_ARRAY,
	  FALSE,
	  NULL,
	  N_("Files to attach, each either {root, path} for a file under a configured file root "
	     "or {filename, content, encoding: text or base64} for inline content, with an "
	     "optional filename and content_type"),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "headers",
	  AIQ_PARAM_STRING_MAP,
	  FALSE,
	  NULL,
	  N_("Extra header fields; the step sets From, To, Cc, Bcc, Subject, Date, Message-ID, "
	     "Reply-To and the MIME fields itself"),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ NULL },
};

typedef struct {
	gchar *field;        /* with.attachments[N], for errors */
	gchar *root_name;    /* file form */
	gchar *root_dir;     /* file form */
	gchar *path;         /* file form, relative to root_dir */
	gchar *content;      /* inline form */
	gboolean base64;     /* inline form */
	gchar *filename;     /* NULL: the base name of path */
	gchar *content_type; /* NULL: guessed */
} AiqEmailAttachment;

typedef struct {
	/* the server */
	gchar *target; /* host:port */
	gchar *url;    /* smtp[s]://host:port/EHLO-NAME */
	curl_usessl use_ssl;
	gchar *ca_file;
	gchar *username;
	gchar *password;
	glong timeout_ms;
	AiqSecrets *secrets;
	/* the message */
	gchar *from;
	GPtrArray *recipients; /* to, cc and bcc, each once */
	GPtrArray *headers;    /* top-level header lines, unterminated */
	gchar *text;
	gchar *html;
	GPtrArray *attachments;
	gchar *message_id;
	/* filled in by the worker thread */
	curl_off_t size;
	gchar *last_reply;
	guint stuffed_dots;     /* SMTP dot-stuffing seen in the data sent */
	gboolean at_line_start; /* in the data sent */
} AiqEmailJob;

static void
aiq_email_attachment_free(AiqEmailAttachment *att)
{
	g_free(att->field);
	g_free(att->root_name);
	g_free(att->root_dir);
	g_free(att->path);
	g_free(att->content);
	g_free(att->filename);
	g_free(att->content_type);
	g_free(att);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqEmailAttachment, aiq_email_attachment_free)

static void
aiq_email_job_free(AiqEmailJob *job)
{
	g_free(job->target);
	g_free(job->url);
	g_free(job->ca_file);
	g_free(job->username);
	if (job->password != NULL)
		memset(job->password, 0, strlen(job->password));
	g_free(job->password);
	g_clear_pointer(&job->secrets, aiq_secrets_unref);
	g_free(job->from);
	g_ptr_array_unref(job->recipients);
	g_ptr_array_unref(job->headers);
	g_free(job->text);
	g_free(job->html);
	g_ptr_array_unref(job->attachments);
	g_free(job->message_id);
	g_free(job->last_reply);
	g_free(job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqEmailJob, aiq_email_job_free)

static AiqEmailJob *
aiq_email_job_new(void)
{
	AiqEmailJob *job = g_new0(AiqEmailJob, 1);
	job->recipients = g_ptr_array_new_with_free_func(g_free);
	job->headers = g_ptr_array_new_with_free_func(g_free);
	job->attachments =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_email_attachment_free);
	return job;
}

/* text safe to quote in a message: control characters escaped, length capped */
static gchar *
aiq_email_printable(const gchar *value)
{
	GString *str = g_string_new(NULL);
	for (const gchar *p = value; *p != '\0'; p++) {
		guchar c = (guchar)*p;
		if (str->len >= 80) {
			g_string_append(str, "…");
			break;
		}
		if (c == '\r')
			g_string_append(str, "\\r");
		else if (c == '\n')
			g_string_append(str, "\\n");
		else if (c < 0x20 || c == 0x7f)
			g_string_append_printf(str, "\\x%02x", c);
		else
			g_string_append_c(str, (gchar)c);
	}
	if (!g_utf8_validate(str->str, -1, NULL)) {
		gchar *valid = g_utf8_make_valid(str->str, -1);
		g_string_free(str, TRUE);
		return valid;
	}
	return g_string_free(str, FALSE);
}

/* the server's password and the run's secrets never reach a message */
static gchar *
aiq_email_mask(const gchar *password, AiqSecrets *secrets, const gchar *text)
{
	g_autofree gchar *masked = NULL;
	if (password != NULL && password[0] != '\0' && strstr(text, password) != NULL) {
		g_auto(GStrv) parts = g_strsplit(text, password, -1);
		masked = g_strjoinv(AIQ_SECRETS_MASK, parts);
	} else {
		masked = g_strdup(text);
	}
	if (secrets != NULL)
		return aiq_secrets_mask_string(secrets, masked);
	return g_steal_pointer(&masked);
}

static gboolean
aiq_email_is_expression(JsonNode *node)
{
	return aiq_json_is_string(node) &&
	       aiq_template_string_has_expressions(json_node_get_string(node));
}

/*
 * Checks an address minimally: one "@" with something on each side, no
 * spaces, no line breaks and none of the characters that would change the
 * meaning of a header or an SMTP command.
 */
static gboolean
aiq_email_check_address(const gchar *address, GError **error)
{
	g_autofree gchar *shown = aiq_email_printable(address);
	const gchar *problem = NULL;
	const gchar *at = strchr(address, '@');

	if (address[0] == '\0') {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("an empty string is not an email address"));
		return FALSE;
	}
	for (const gchar *p = address; *p != '\0' && problem == NULL; p++) {
		guchar c = (guchar)*p;
		if (c == '\r' || c == '\n')
			problem = _("it contains a line break");
		else if (c == ' ' || c == '\t')
			problem = _("it contains a space; give the bare address, such as "
				    "ops@example.com");
		else if (c < 0x20 || c == 0x7f)
			problem = _("it contains a control character");
		else if (strchr("<>,;\"()[]\\", c) != NULL)
			problem = _("it contains one of the characters < > , ; \" ( ) [ ] \\");
	}
	if (problem == NULL) {
		if (strlen(address) > AIQ_EMAIL_MAX_ADDRESS_LEN)
			problem = _("it is longer than 254 characters");
		else if (at == NULL)
			problem = _("it has no “@”");
		else if (strchr(at + 1, '@') != NULL)
			problem = _("it has more than one “@”");
		else if (at == address)
			problem = _("nothing comes before the “@”");
		else if (at[1] == '\0' || at[1] == '.' || g_str_has_suffix(at, "."))
			problem = _("no domain name comes after the “@”");
		else if (!g_utf8_validate(address, -1, NULL))
			problem = _("it is not valid UTF-8");
	}
	if (problem != NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    /* TRANSLATORS: “address” is not an email address: why */
			    _("“%s” is not an email address: %s"),
			    shown,
			    problem);
		return FALSE;
	}
	return TRUE;
}

/* a header value or subject: one line of text */
static gboolean
aiq_email_check_header_text(const gchar *value, GError **error)
{
	for (const gchar *p = value; *p != '\0'; p++) {
		guchar c = (guchar)*p;
		if (c == '\r' || c == '\n') {
			g_set_error_literal(
				error,
				AIQ_ERROR,
				AIQ_ERROR_INVALID_ARGUMENT,
				_("must not contain a line break (CR or LF): it would let the "
				  "value add header fields of its own"));
			return FALSE;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("must not contain control characters"));
			return FALSE;
		}
	}
	if (strlen(value) > AIQ_EMAIL_MAX_HEADER_LEN) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("is longer than %u bytes"),
			    (guint)AIQ_EMAIL_MAX_HEADER_LEN);
		return FALSE;
	}
	if (!g_utf8_validate(value, -1, NULL)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("is not valid UTF-8"));
		return FALSE;
	}
	return TRUE;
}

/* an extra header's name: RFC 5322 field name, not one the step sets */
static gboolean
aiq_email_check_header_name(const gchar *name, GError **error)
{
	g_autofree gchar *shown = aiq_email_printable(name);
	gsize len = strlen(name);
	gboolean valid = len > 0 && len <= 76;
	for (const gchar *p = name; *p != '\0' && valid; p++) {
		guchar c = (guchar)*p;
		if (c < 33 || c > 126 || c == ':')
			valid = FALSE;
	}
	if (!valid) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a header field name: use letters, digits and “-”, "
			      "such as X-Campaign"),
			    shown);
		return FALSE;
	}
	for (guint i = 0; aiq_email_reserved_headers[i] != NULL; i++) {
		if (g_ascii_strcasecmp(name, aiq_email_reserved_headers[i]) != 0)
			continue;
		if (g_ascii_strcasecmp(name, "Reply-To") == 0) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("use the reply_to parameter to set Reply-To"));
		} else {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("%s is set by the step and cannot be overridden; use the "
				      "parameters for sender, recipients and subject"),
				    aiq_email_reserved_headers[i]);
		}
		return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_email_check_relative_path(const gchar *path, GError **error)
{
	g_autofree gchar *shown = aiq_email_printable(path);
	g_auto(GStrv) parts = NULL;
	if (path[0] == '\0') {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("is empty; give a path relative to the file root"));
		return FALSE;
	}
	if (g_path_is_absolute(path)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_PERMISSION_DENIED,
			    _("“%s” is an absolute path; give a path relative to the file root"),
			    shown);
		return FALSE;
	}
	parts = g_strsplit(path, "/", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		if (g_strcmp0(parts[i], "..") == 0) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_PERMISSION_DENIED,
				    _("“%s” contains “..”; give a path inside the file root"),
				    shown);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
aiq_email_check_filename(const gchar *filename, GError **error)
{
	g_autofree gchar *shown = aiq_email_printable(filename);
	const gchar *problem = NULL;
	if (filename[0] == '\0' || g_strcmp0(filename, ".") == 0 || g_strcmp0(filename, "..") == 0)
		problem = _("give a file name such as report.csv");
	else if (strlen(filename) > AIQ_EMAIL_MAX_FILENAME_LEN)
		problem = _("it is longer than 255 bytes");
	else if (!g_utf8_validate(filename, -1, NULL))
		problem = _("it is not valid UTF-8");
	for (const gchar *p = filename; *p != '\0' && problem == NULL; p++) {
		guchar c = (guchar)*p;
		if (c < 0x20 || c == 0x7f)
			problem = _("it contains a control character");
		else if (c == '/' || c == '\\')
			problem = _("it contains a path separator");
	}
	if (problem != NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a file name: %s"),
			    shown,
			    problem);
		return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_email_check_content_type(const gchar *content_type, GError **error)
{
	g_autofree gchar *shown = aiq_email_printable(content_type);
	gboolean valid = strchr(content_type, '/') != NULL && strlen(content_type) <= 255;
	for (const gchar *p = content_type; *p != '\0' && valid; p++) {
		guchar c = (guchar)*p;
		if (c < 0x20 || c > 0x7e)
			valid = FALSE;
	}
	if (!valid) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a content type such as text/csv"),
			    shown);
		return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_email_check_base64(const gchar *content, GError **error)
{
	for (const gchar *p = content; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr("+/=\r\n\t ", *p) == NULL) {
			g_set_error_literal(
				error,
				AIQ_ERROR,
				AIQ_ERROR_INVALID_ARGUMENT,
				_("is not base64: it contains characters other than A-Z, "
				  "a-z, 0-9, +, / and ="));
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * Checks one attachment object. At validation time (@literal_only), members
 * holding expressions are skipped. On failure @member names the member at
 * fault, or is %NULL for the object as a whole.
 */
static gboolean
aiq_email_check_attachment(JsonObject *obj,
			   gboolean literal_only,
			   const gchar **member,
			   GError **error)
{
	JsonObjectIter iter;
	const gchar *key;
	JsonNode *value;
	gboolean file_form =
		json_object_has_member(obj, "root") || json_object_has_member(obj, "path");
	const gchar *encoding = NULL;

	*member = NULL;
	json_object_iter_init_ordered(&iter, obj);
	while (json_object_iter_next_ordered(&iter, &key, &value)) {
		g_autofree gchar *shown = NULL;
		if (!g_strv_contains(aiq_email_attachment_members, key)) {
			shown = aiq_email_printable(key);
			*member = key;
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("unknown member “%s”; an attachment has root and path, or "
				      "filename, content and encoding, and maybe content_type"),
				    shown);
			return FALSE;
		}
		if (!aiq_json_is_string(value)) {
			*member = key;
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("expected a string, got %s"),
				    aiq_json_type_name(value));
			return FALSE;
		}
	}

	if (file_form) {
		const gchar *both[] = { "root", "path" };
		for (guint i = 0; i < G_N_ELEMENTS(both); i++) {
			if (!json_object_has_member(obj, both[i])) {
				*member = both[i];
				g_set_error_literal(
					error,
					AIQ_ERROR,
					AIQ_ERROR_INVALID_ARGUMENT,
					_("an attachment read from a file needs both root "
					  "and path"));
				return FALSE;
			}
		}
		if (json_object_has_member(obj, "content") ||
		    json_object_has_member(obj, "encoding")) {
			*member = json_object_has_member(obj, "content") ? "content" : "encoding";
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("give either root and path, or content, not both"));
			return FALSE;
		}
		value = json_object_get_member(obj, "path");
		if (!(literal_only && aiq_email_is_expression(value)) &&
		    !aiq_email_check_relative_path(json_node_get_string(value), error)) {
			*member = "path";
			return FALSE;
		}
	} else {
		const gchar *both[] = { "filename", "content" };
		for (guint i = 0; i < G_N_ELEMENTS(both); i++) {
			if (!json_object_has_member(obj, both[i])) {
				*member = both[i];
				g_set_error_literal(error,
						    AIQ_ERROR,
						    AIQ_ERROR_INVALID_ARGUMENT,
						    _("an attachment needs root and path, or "
						      "filename and content"));
				return FALSE;
			}
		}
		value = json_object_get_member(obj, "encoding");
		if (value != NULL && !(literal_only && aiq_email_is_expression(value))) {
			encoding = json_node_get_string(value);
			if (!g_strv_contains(aiq_email_encodings, encoding)) {
				g_autofree gchar *shown = aiq_email_printable(encoding);
				*member = "encoding";
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("“%s” is not one of text, base64"),
					    shown);
				return FALSE;
			}
		}
		value = json_object_get_member(obj, "content");
		if (g_strcmp0(encoding, "base64") == 0 &&
		    !(literal_only && aiq_email_is_expression(value)) &&
		    !aiq_email_check_base64(json_node_get_string(value), error)) {
			*member = "content";
			return FALSE;
		}
	}

	value = json_object_get_member(obj, "filename");
	if (value != NULL && !(literal_only && aiq_email_is_expression(value)) &&
	    !aiq_email_check_filename(json_node_get_string(value), error)) {
		*member = "filename";
		return FALSE;
	}
	value = json_object_get_member(obj, "content_type");
	if (value != NULL && !(literal_only && aiq_email_is_expression(value)) &&
	    !aiq_email_check_content_type(json_node_get_string(value), error)) {
		*member = "content_type";
		return FALSE;
	}
	return TRUE;
}

/* validation: address lists, one string or a list of strings */
static void
aiq_email_validate_addresses(JsonObject *with,
			     const gchar *name,
			     const gchar *path,
			     AiqProblems *problems)
{
	JsonNode *node = json_object_get_member(with, name);
	g_autofree gchar *member_path = aiq_path_member(path, name);

	if (node == NULL || aiq_email_is_expression(node))
		return;
	if (aiq_json_is_string(node)) {
		g_autoptr(GError) error_local = NULL;
		if (!aiq_email_check_address(json_node_get_string(node), &error_local))
			aiq_problems_add_error(problems, member_path, error_local);
		return;
	}
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *elem = json_array_get_element(array, i);
			g_autoptr(GError) error_local = NULL;
			if (!aiq_json_is_string(elem) || aiq_email_is_expression(elem))
				continue;
			if (!aiq_email_check_address(json_node_get_string(elem), &error_local)) {
				g_autofree gchar *elem_path = aiq_path_index(member_path, i);
				aiq_problems_add_error(problems, elem_path, error_local);
			}
		}
	}
}

static gboolean
aiq_email_has_value(JsonObject *with, const gchar *name)
{
	JsonNode *node = json_object_get_member(with, name);
	return node != NULL && !JSON_NODE_HOLDS_NULL(node);
}

/* cross-parameter checks on literal values, before anything runs */
static void
aiq_email_validate(JsonObject *with, const gchar *path, AiqProblems *problems)
{
	const gchar *single[] = { "from", "reply_to" };
	JsonNode *node;

	if (!aiq_email_has_value(with, "text") && !aiq_email_has_value(with, "html"))
		aiq_problems_add(problems,
				 path,
				 _("the message has no body: give text, html or both"));

	aiq_email_validate_addresses(with, "to", path, problems);
	aiq_email_validate_addresses(with, "cc", path, problems);
	aiq_email_validate_addresses(with, "bcc", path, problems);
	for (guint i = 0; i < G_N_ELEMENTS(single); i++) {
		g_autoptr(GError) error_local = NULL;
		node = json_object_get_member(with, single[i]);
		if (!aiq_json_is_string(node) || aiq_email_is_expression(node))
			continue;
		if (!aiq_email_check_address(json_node_get_string(node), &error_local)) {
			g_autofree gchar *member_path = aiq_path_member(path, single[i]);
			aiq_problems_add_error(problems, member_path, error_local);
		}
	}

	node = json_object_get_member(with, "subject");
	if (aiq_json_is_string(node) && !aiq_email_is_expression(node)) {
		g_autoptr(GError) error_local = NULL;
		if (!aiq_email_check_header_text(json_node_get_string(node), &error_local)) {
			g_autofree gchar *member_path = aiq_path_member(path, "subject");
			aiq_problems_add_error(problems, member_path, error_local);
		}
	}

	node = json_object_get_member(with, "headers");
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
		g_autofree gchar *headers_path = aiq_path_member(path, "headers");
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &key, &value)) {
			g_autoptr(GError) error_local = NULL;
			g_autofree gchar *member_path = aiq_path_member(headers_path, key);
			if (!aiq_email_check_header_name(key, &error_local)) {
				aiq_problems_add_error(problems, member_path, error_local);
				continue;
			}
			if (aiq_json_is_string(value) && !aiq_email_is_expression(value) &&
			    !aiq_email_check_header_text(json_node_get_string(value), &error_local))
				aiq_problems_add_error(problems, member_path, error_local);
		}
	}

	node = json_object_get_member(with, "attachments");
	if (node != NULL && JSON_NODE_HOLDS_ARRAY(node)) {
		g_autofree gchar *attachments_path = aiq_path_member(path, "attachments");
		JsonArray *array = json_node_get_array(node);
		if (json_array_get_length(array) > AIQ_EMAIL_MAX_ATTACHMENTS)
			aiq_problems_add(problems,
					 attachments_path,
					 _("more than %u attachments"),
					 (guint)AIQ_EMAIL_MAX_ATTACHMENTS);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *elem = json_array_get_element(array, i);
			g_autofree gchar *elem_path = aiq_path_index(attachments_path, i);
			g_autoptr(GError) error_local = NULL;
			const gchar *member = NULL;
			if (aiq_email_is_expression(elem))
				continue;
			if (!JSON_NODE_HOLDS_OBJECT(elem)) {
				aiq_problems_add(
					problems,
					elem_path,
					_("expected an object such as {root, path}, got %s"),
					aiq_json_type_name(elem));
				continue;
			}
			if (!aiq_email_check_attachment(json_node_get_object(elem),
							TRUE,
							&member,
							&error_local)) {
				g_autofree gchar *member_path =
					member != NULL ? aiq_path_member(elem_path, member)
						       : g_strdup(elem_path);
				aiq_problems_add_error(problems, member_path, error_local);
			}
		}
	}
}

static const AiqSmtpServer *
aiq_email_lookup_server(AiqStepRun *run, GError **error)
{
	AiqConfig *config = aiq_step_run_get_config(run);
	const gchar *name = aiq_step_run_get_string(run, "server");
	const AiqSmtpServer *server;

	if (name != NULL && name[0] == '\0')
		name = NULL;
	server = aiq_config_get_smtp(config, name);
	if (server != NULL)
		return server;
	if (name != NULL) {
		g_autofree gchar *shown = aiq_email_printable(name);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("with.server: no SMTP server “%s” is configured; add an [smtp.%s] "
			      "group to the agent configuration"),
			    shown,
			    shown);
	} else {
		g_set_error_literal(
			error,
			AIQ_ERROR,
			AIQ_ERROR_NOT_FOUND,
			_("no SMTP server is configured: add an [smtp] group with url= to "
			  "the agent configuration, or name an [smtp.NAME] server in "
			  "with.server"));
	}
	return NULL;
}

static gchar *
aiq_email_server_group(const AiqSmtpServer *server)
{
	if (server->name == NULL || server->name[0] == '\0')
		return g_strdup("[smtp]");
	return g_strdup_printf("[smtp.%s]", server->name);
}

static gboolean
aiq_email_is_hostname(const gchar *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > 253)
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
			return FALSE;
	}
	return TRUE;
}

/*
 * Reads the server's url into host:port (for messages and the circuit
 * breaker) and the URL curl is given, whose path is the EHLO name.
 */
static gboolean
aiq_email_parse_url(const AiqSmtpServer *server,
		    gchar **target,
		    gchar **url,
		    gboolean *implicit_tls,
		    GError **error)
{
	g_autofree gchar *group = aiq_email_server_group(server);
	g_autoptr(GUri) uri = NULL;
	g_autofree gchar *host = NULL;
	const gchar *scheme;
	const gchar *path;
	const gchar *ehlo;
	gboolean implicit;
	gint port;

	if (server->url != NULL)
		uri = g_uri_parse(server->url, G_URI_FLAGS_NONE, NULL);
	scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
	if (uri == NULL || g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0' ||
	    (g_strcmp0(scheme, "smtp") != 0 && g_strcmp0(scheme, "smtps") != 0)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("%s url: not a URL such as smtp://mail.example.com:587 or "
			      "smtps://mail.example.com:465"),
			    group);
		return FALSE;
	}
	if (g_uri_get_userinfo(uri) != NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("%s url: put the user name and password in username= and password=, "
			      "not in the URL"),
			    group);
		return FALSE;
	}
	implicit = g_strcmp0(scheme, "smtps") == 0;
	port = g_uri_get_port(uri);
	if (port <= 0)
		port = implicit ? 465 : 25;
	if (strchr(g_uri_get_host(uri), ':') != NULL)
		host = g_strdup_printf("[%s]", g_uri_get_host(uri));
	else
		host = g_strdup(g_uri_get_host(uri));
	path = g_uri_get_path(uri);
	while (*path == '/')
		path++;
	if (path[0] != '\0' && !aiq_email_is_hostname(path)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("%s url: the path is the name this agent gives in EHLO and must be a "
			      "host name"),
			    group);
		return FALSE;
	}
	/* the EHLO name: the URL's path, else this host's name */
	ehlo = path[0] != '\0' ? path : g_get_host_name();
	if (!aiq_email_is_hostname(ehlo))
		ehlo = "localhost";
	if (target != NULL)
		*target = g_strdup_printf("%s:%d", host, port);
	if (url != NULL)
		*url = g_strdup_printf("%s://%s:%d/%s",
				       implicit ? "smtps" : "smtp",
				       host,
				       port,
				       ehlo);
	if (implicit_tls != NULL)
		*implicit_tls = implicit;
	return TRUE;
}

static gchar *
aiq_email_get_circuit_key(AiqStepRun *run)
{
	const AiqSmtpServer *server = aiq_email_lookup_server(run, NULL);
	g_autofree gchar *target = NULL;
	if (server == NULL || !aiq_email_parse_url(server, &target, NULL, NULL, NULL))
		return NULL;
	return g_strdup_printf("smtp:%s", target);
}

/*
 * RFC 2047: a header value with anything but printable ASCII becomes UTF-8
 * base64 encoded words, cut on character boundaries and folded so that no
 * line is longer than 76 characters. @name is the field name, which shares
 * the first line.
 */
static gchar *
aiq_email_encode_header_value(const gchar *name, const gchar *value)
{
	gboolean plain = strstr(value, "=?") == NULL;
	/* "Name: " on the first line, " " on the others, "=?UTF-8?B?" and "?=" */
	gsize first_max = 76 > strlen(name) + 2 + 12 + 8 ? (76 - strlen(name) - 2 - 12) / 4 * 3 : 6;
	GString *str;
	const gchar *p = value;

	for (const gchar *q = value; *q != '\0' && plain; q++) {
		guchar c = (guchar)*q;
		if (c > 0x7e || (c < 0x20 && c != '\t'))
			plain = FALSE;
	}
	if (plain)
		return g_strdup(value);

	str = g_string_new(NULL);
	while (*p != '\0') {
		const gchar *start = p;
		gsize max = str->len == 0 ? first_max : AIQ_EMAIL_ENCODED_WORD_BYTES;
		g_autofree gchar *b64 = NULL;
		while (*p != '\0') {
			const gchar *next = g_utf8_next_char(p);
			/* a character longer than the room left still goes on its own */
			if ((gsize)(next - start) > max && p != start)
				break;
			p = next;
		}
		b64 = g_base64_encode((const guchar *)start, (gsize)(p - start));
		if (str->len > 0)
			g_string_append(str, "\r\n ");
		g_string_append_printf(str, "=?UTF-8?B?%s?=", b64);
	}
	return g_string_free(str, FALSE);
}

/* "To: a@example.com, b@example.com", folded before 78 columns */
static gchar *
aiq_email_address_header(const gchar *name, gchar **addresses)
{
	GString *str = g_string_new(name);
	gsize line_len;
	g_string_append_c(str, ':');
	line_len = str->len;
	for (guint i = 0; addresses[i] != NULL; i++) {
		gsize len = strlen(addresses[i]);
		if (i > 0) {
			g_string_append_c(str, ',');
			line_len++;
			if (line_len + 1 + len > 78) {
				g_string_append(str, "\r\n");
				line_len = 0;
			}
		}
		g_string_append_c(str, ' ');
		g_string_append(str, addresses[i]);
		line_len += 1 + len;
	}
	return g_string_free(str, FALSE);
}

/* RFC 5322 date-time, with English names whatever the locale */
static gchar *
aiq_email_format_date(GDateTime *dt)
{
	static const gchar *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const gchar *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	gint64 offset = g_date_time_get_utc_offset(dt) / G_TIME_SPAN_MINUTE;
	gchar sign = offset < 0 ? '-' : '+';
	offset = ABS(offset);
	return g_strdup_printf("%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d",
			       days[g_date_time_get_day_of_week(dt) - 1],
			       g_date_time_get_day_of_month(dt),
			       months[g_date_time_get_month(dt) - 1],
			       g_date_time_get_year(dt),
			       g_date_time_get_hour(dt),
			       g_date_time_get_minute(dt),
			       g_date_time_get_second(dt),
			       sign,
			       (gint)(offset / 60),
			       (gint)(offset % 60));
}

/*
 * Derived from the step key when there is one, so that a step run again
 * after a crash sends a message with the same Message-ID.
 */
static gchar *
aiq_email_new_message_id(AiqStepRun *run, const gchar *from)
{
	const gchar *step_key = aiq_step_run_get_step_key(run);
	const gchar *domain = strrchr(from, '@') + 1;
	g_autofree gchar *local = NULL;
	if (step_key != NULL && step_key[0] != '\0') {
		g_autofree gchar *hash =
			g_compute_checksum_for_string(G_CHECKSUM_SHA256, step_key, -1);
		local = g_strndup(hash, 32);
	} else {
		local = g_uuid_string_random();
	}
	return g_strdup_printf("<aiq.%s@%s>", local, domain);
}

/* a list of addresses from one parameter, each checked */
static gchar **
aiq_email_get_addresses(AiqStepRun *run, const gchar *name, GError **error)
{
	g_auto(GStrv) addresses = aiq_step_run_get_strv(run, name);
	if (addresses == NULL)
		return g_new0(gchar *, 1);
	for (guint i = 0; addresses[i] != NULL; i++) {
		if (!aiq_email_check_address(addresses[i], error)) {
			g_prefix_error(error, "with.%s[%u]: ", name, i);
			return NULL;
		}
	}
	return g_steal_pointer(&addresses);
}

static void
aiq_email_add_recipients(AiqEmailJob *job, gchar **addresses)
{
	for (guint i = 0; addresses[i] != NULL; i++) {
		gboolean seen = FALSE;
		for (guint j = 0; j < job->recipients->len && !seen; j++)
			seen = g_ascii_strcasecmp(g_ptr_array_index(job->recipients, j),
						  addresses[i]) == 0;
		if (!seen)
			g_ptr_array_add(job->recipients, g_strdup(addresses[i]));
	}
}

static AiqEmailAttachment *
aiq_email_attachment_new(AiqConfig *config, JsonNode *node, guint idx, GError **error)
{
	g_autoptr(AiqEmailAttachment) att = g_new0(AiqEmailAttachment, 1);
	JsonObject *obj;
	const gchar *member = NULL;
	const gchar *encoding;

	att->field = g_strdup_printf("with.attachments[%u]", idx);
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("%s: expected an object such as {root, path}, got %s"),
			    att->field,
			    aiq_json_type_name(node));
		return NULL;
	}
	obj = json_node_get_object(node);
	if (!aiq_email_check_attachment(obj, FALSE, &member, error)) {
		if (member != NULL)
			g_prefix_error(error, "%s.%s: ", att->field, member);
		else
			g_prefix_error(error, "%s: ", att->field);
		return NULL;
	}
	att->filename = g_strdup(aiq_json_object_get_string(obj, "filename"));
	att->content_type = g_strdup(aiq_json_object_get_string(obj, "content_type"));
	if (json_object_has_member(obj, "root")) {
		const gchar *dir;
		att->root_name = g_strdup(aiq_json_object_get_string(obj, "root"));
		att->path = g_strdup(aiq_json_object_get_string(obj, "path"));
		/* where the file kind is switched off (cloud workers), so is this */
		if (!aiq_config_is_kind_enabled(config, "file")) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_PERMISSION_DENIED,
				    _("%s.root: attachments from file roots are switched off on "
				      "this agent, as is the file step kind; attach inline content "
				      "instead"),
				    att->field);
			return NULL;
		}
		dir = aiq_config_get_file_root(config, att->root_name);
		if (dir == NULL) {
			g_autofree gchar *shown = aiq_email_printable(att->root_name);
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_NOT_FOUND,
				    _("%s.root: no file root “%s” is configured; add it to "
				      "[file-roots] in the agent configuration"),
				    att->field,
				    shown);
			return NULL;
		}
		att->root_dir = g_strdup(dir);
		if (att->filename == NULL)
			att->filename = g_path_get_basename(att->path);
	} else {
		att->content = g_strdup(aiq_json_object_get_string(obj, "content"));
		encoding = aiq_json_object_get_string(obj, "encoding");
		att->base64 = g_strcmp0(encoding, "base64") == 0;
	}
	return g_steal_pointer(&att);
}

/* the parameters and the server, checked, copied for the worker thread */
static AiqEmailJob *
aiq_email_job_new_for_run(AiqStepRun *run, GError **error)
{
	AiqConfig *config = aiq_step_run_get_config(run);
	g_autoptr(AiqEmailJob) job = aiq_email_job_new();
	g_autofree gchar *group = NULL;
	g_autofree gchar *subject = NULL;
	g_autofree gchar *date = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_auto(GStrv) to = NULL;
	g_auto(GStrv) cc = NULL;
	g_auto(GStrv) bcc = NULL;
	const AiqSmtpServer *server;
	const gchar *from;
	const gchar *reply_to;
	const gchar *value;
	JsonObject *headers;
	JsonArray *attachments;
	gsize content_size = 0;
	gboolean implicit_tls = FALSE;

	/* the server */
	server = aiq_email_lookup_server(run, error);
	if (server == NULL)
		return NULL;
	group = aiq_email_server_group(server);
	if (!aiq_email_parse_url(server, &job->target, &job->url, &implicit_tls, error))
		return NULL;
	/* TLS verification stays on whatever starttls says */
	if (!implicit_tls && g_strcmp0(server->starttls, "try") == 0)
		job->use_ssl = CURLUSESSL_TRY;
	else if (!implicit_tls && g_strcmp0(server->starttls, "none") == 0)
		job->use_ssl = CURLUSESSL_NONE;
	else
		job->use_ssl = CURLUSESSL_ALL;
	if (server->ca != NULL && server->ca[0] != '\0') {
		const gchar *ca_file = aiq_config_get_ca_file(config, server->ca);
		if (ca_file == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("%s ca: no CA “%s” in the [ca] group"),
				    group,
				    server->ca);
			return NULL;
		}
		job->ca_file = g_strdup(ca_file);
	}
	if (server->username != NULL && server->username[0] != '\0') {
		job->username = g_strdup(server->username);
		job->password = g_strdup(server->password != NULL ? server->password : "");
	}
	job->timeout_ms = aiq_step_run_get_timeout(run) > 0
				  ? (glong)MIN(aiq_step_run_get_timeout(run), G_MAXLONG)
				  : AIQ_EMAIL_DEFAULT_TIMEOUT_MS;
	if (aiq_step_run_get_secrets(run) != NULL)
		job->secrets = aiq_secrets_ref(aiq_step_run_get_secrets(run));

	/* sender and recipients */
	from = aiq_step_run_get_string(run, "from");
	if (from == NULL || from[0] == '\0')
		from = server->from;
	if (from == NULL || from[0] == '\0') {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("with.from: no sender address: set from, or from= in the %s group of "
			      "the agent configuration"),
			    group);
		return NULL;
	}
	if (!aiq_email_check_address(from, error)) {
		g_prefix_error(error, "with.from: ");
		return NULL;
	}
	job->from = g_strdup(from);
	reply_to = aiq_step_run_get_string(run, "reply_to");
	if (reply_to != NULL && !aiq_email_check_address(reply_to, error)) {
		g_prefix_error(error, "with.reply_to: ");
		return NULL;
	}
	to = aiq_email_get_addresses(run, "to", error);
	if (to == NULL)
		return NULL;
	if (to[0] == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with.to: give at least one recipient"));
		return NULL;
	}
	cc = aiq_email_get_addresses(run, "cc", error);
	if (cc == NULL)
		return NULL;
	bcc = aiq_email_get_addresses(run, "bcc", error);
	if (bcc == NULL)
		return NULL;
	aiq_email_add_recipients(job, to);
	aiq_email_add_recipients(job, cc);
	aiq_email_add_recipients(job, bcc);
	if (job->recipients->len > AIQ_EMAIL_MAX_RECIPIENTS) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("with.to: more than %u recipients in to, cc and bcc together"),
			    (guint)AIQ_EMAIL_MAX_RECIPIENTS);
		return NULL;
	}

	/* subject and body */
	value = aiq_step_run_get_string(run, "subject");
	if (value == NULL)
		value = "";
	if (!aiq_email_check_header_text(value, error)) {
		g_prefix_error(error, "with.subject: ");
		return NULL;
	}
	subject = aiq_email_encode_header_value("Subject", value);
	job->text = g_strdup(aiq_step_run_get_string(run, "text"));
	job->html = g_strdup(aiq_step_run_get_string(run, "html"));
	if (job->text == NULL && job->html == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with: the message has no body: give text, html or both"));
		return NULL;
	}
	content_size += job->text != NULL ? strlen(job->text) : 0;
	content_size += job->html != NULL ? strlen(job->html) : 0;

	/* attachments; files are read on the worker thread */
	attachments = aiq_json_object_get_array(aiq_step_run_get_params(run), "attachments");
	if (attachments != NULL && json_array_get_length(attachments) > AIQ_EMAIL_MAX_ATTACHMENTS) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("with.attachments: more than %u attachments"),
			    (guint)AIQ_EMAIL_MAX_ATTACHMENTS);
		return NULL;
	}
	for (guint i = 0; attachments != NULL && i < json_array_get_length(attachments); i++) {
		AiqEmailAttachment *att =
			aiq_email_attachment_new(config,
						 json_array_get_element(attachments, i),
						 i,
						 error);
		if (att == NULL)
			return NULL;
		if (att->content != NULL)
			content_size += strlen(att->content);
		g_ptr_array_add(job->attachments, att);
	}
	if (content_size > AIQ_EMAIL_MAX_CONTENT_SIZE) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("with: the message is larger than %u MiB"),
			    (guint)(AIQ_EMAIL_MAX_CONTENT_SIZE / (1024 * 1024)));
		return NULL;
	}

	/* the top-level header, in the usual order */
	job->message_id = aiq_email_new_message_id(run, job->from);
	date = aiq_email_format_date(now);
	g_ptr_array_add(job->headers, g_strdup_printf("Date: %s", date));
	g_ptr_array_add(job->headers, g_strdup_printf("Message-ID: %s", job->message_id));
	g_ptr_array_add(job->headers, g_strdup_printf("From: %s", job->from));
	g_ptr_array_add(job->headers, aiq_email_address_header("To", to));
	if (cc[0] != NULL)
		g_ptr_array_add(job->headers, aiq_email_address_header("Cc", cc));
	if (reply_to != NULL)
		g_ptr_array_add(job->headers, g_strdup_printf("Reply-To: %s", reply_to));
	g_ptr_array_add(job->headers, g_strdup_printf("Subject: %s", subject));
	/* curl would add "Mime-Version: 1.0" otherwise */
	g_ptr_array_add(job->headers, g_strdup("MIME-Version: 1.0"));
	headers = aiq_step_run_get_object(run, "headers");
	if (headers != NULL) {
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *node;
		json_object_iter_init_ordered(&iter, headers);
		while (json_object_iter_next_ordered(&iter, &key, &node)) {
			g_autofree gchar *encoded = NULL;
			g_autofree gchar *field = aiq_path_member("with.headers", key);
			value = aiq_json_is_string(node) ? json_node_get_string(node) : "";
			if (!aiq_email_check_header_name(key, error) ||
			    !aiq_email_check_header_text(value, error)) {
				g_prefix_error(error, "%s: ", field);
				return NULL;
			}
			encoded = aiq_email_encode_header_value(key, value);
			g_ptr_array_add(job->headers, g_strdup_printf("%s: %s", key, encoded));
		}
	}
	/* without attachments, text and html are the whole message */
	if (job->text != NULL && job->html != NULL && job->attachments->len == 0)
		g_ptr_array_add(job->headers, g_strdup("Content-Type: multipart/alternative"));
	return g_steal_pointer(&job);
}

/* worker thread from here to aiq_email_send_thread() */

/*
 * Reads a file under a file root with the file step kind's confinement
 * (aiq_file_root_open_file()): no absolute paths, no "..", no symbolic link
 * leading out of the root, regular files only.
 */
static GBytes *
aiq_email_read_confined(const AiqEmailAttachment *att, gsize max_size, GError **error)
{
	g_autofree gchar *shown = aiq_email_printable(att->path);
	g_autoptr(GByteArray) buf = NULL;
	struct stat st;
	gint fd;

	fd = aiq_file_root_open_file(att->root_name, att->root_dir, att->path, &st, error);
	if (fd < 0) {
		g_prefix_error(error, "%s.path: ", att->field);
		return NULL;
	}
	if ((guint64)st.st_size > max_size) {
		g_close(fd, NULL);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("%s.path: “%s” is too large to attach; the message may hold %u MiB"),
			    att->field,
			    shown,
			    (guint)(AIQ_EMAIL_MAX_CONTENT_SIZE / (1024 * 1024)));
		return NULL;
	}
	buf = g_byte_array_sized_new((guint)st.st_size);
	for (;;) {
		guint8 chunk[65536];
		gssize n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			gint saved = errno;
			g_close(fd, NULL);
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("%s.path: cannot read “%s”: %s"),
				    att->field,
				    shown,
				    g_strerror(saved));
			return NULL;
		}
		if (n == 0)
			break;
		if (buf->len + (gsize)n > max_size) {
			g_close(fd, NULL);
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_TOO_LARGE,
				    _("%s.path: “%s” is too large to attach; the message may hold "
				      "%u MiB"),
				    att->field,
				    shown,
				    (guint)(AIQ_EMAIL_MAX_CONTENT_SIZE / (1024 * 1024)));
			return NULL;
		}
		g_byte_array_append(buf, chunk, (guint)n);
	}
	g_close(fd, NULL);
	return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

static gchar *
aiq_email_guess_content_type(const gchar *filename, GBytes *data)
{
	gsize len = 0;
	const guchar *ptr = g_bytes_get_data(data, &len);
	g_autofree gchar *type = g_content_type_guess(filename, ptr, MIN(len, 4096), NULL);
	g_autofree gchar *mime = type != NULL ? g_content_type_get_mime_type(type) : NULL;
	return g_strdup(mime != NULL ? mime : "application/octet-stream");
}

/* CRLF line ends, as SMTP and the quoted-printable encoder want them */
static gchar *
aiq_email_normalize_newlines(const gchar *text)
{
	GString *str = g_string_sized_new(strlen(text) + 16);
	for (const gchar *p = text; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n') {
			g_string_append(str, "\r\n");
			p++;
		} else if (*p == '\r' || *p == '\n') {
			g_string_append(str, "\r\n");
		} else {
			g_string_append_c(str, *p);
		}
	}
	return g_string_free(str, FALSE);
}

static gboolean
aiq_email_curl_check(CURLcode rc, GError **error)
{
	if (rc == CURLE_OK)
		return TRUE;
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_FAILED,
		    _("could not build the message: %s"),
		    curl_easy_strerror(rc));
	return FALSE;
}

static gboolean
aiq_email_add_text_part(curl_mime *mime, const gchar *text, const gchar *type, GError **error)
{
	g_autofree gchar *crlf = aiq_email_normalize_newlines(text);
	curl_mimepart *part = curl_mime_addpart(mime);
	if (part == NULL)
		return aiq_email_curl_check(CURLE_OUT_OF_MEMORY, error);
	return aiq_email_curl_check(curl_mime_data(part, crlf, strlen(crlf)), error) &&
	       aiq_email_curl_check(curl_mime_type(part, type), error) &&
	       aiq_email_curl_check(curl_mime_encoder(part, "quoted-printable"), error);
}

static gboolean
aiq_email_add_body(AiqEmailJob *job, CURL *curl, curl_mime *mime, GError **error)
{
	g_autoptr(curl_mime) alt = NULL;
	curl_mimepart *part;

	if (job->text == NULL || job->html == NULL) {
		if (job->text != NULL)
			return aiq_email_add_text_part(mime,
						       job->text,
						       "text/plain; charset=utf-8",
						       error);
		return aiq_email_add_text_part(mime, job->html, "text/html; charset=utf-8", error);
	}
	/* the top level is the multipart/alternative when nothing is attached */
	if (job->attachments->len == 0)
		return aiq_email_add_text_part(mime,
					       job->text,
					       "text/plain; charset=utf-8",
					       error) &&
		       aiq_email_add_text_part(mime, job->html, "text/html; charset=utf-8", error);

	/* the preferred form comes last */
	alt = curl_mime_init(curl);
	if (alt == NULL)
		return aiq_email_curl_check(CURLE_OUT_OF_MEMORY, error);
	if (!aiq_email_add_text_part(alt, job->text, "text/plain; charset=utf-8", error) ||
	    !aiq_email_add_text_part(alt, job->html, "text/html; charset=utf-8", error))
		return FALSE;
	part = curl_mime_addpart(mime);
	if (part == NULL)
		return aiq_email_curl_check(CURLE_OUT_OF_MEMORY, error);
	if (!aiq_email_curl_check(curl_mime_subparts(part, alt), error))
		return FALSE;
	/* the part owns it now */
	alt = NULL;
	return aiq_email_curl_check(curl_mime_type(part, "multipart/alternative"), error);
}

static gboolean
aiq_email_add_attachment(AiqEmailAttachment *att,
			 curl_mime *mime,
			 gsize *content_size,
			 GError **error)
{
	g_autoptr(GBytes) data = NULL;
	g_autofree gchar *content_type = NULL;
	const guchar *ptr;
	curl_mimepart *part;
	gsize len = 0;

	if (att->root_dir != NULL) {
		data = aiq_email_read_confined(att,
					       AIQ_EMAIL_MAX_CONTENT_SIZE - *content_size,
					       error);
		if (data == NULL)
			return FALSE;
	} else if (att->base64) {
		gsize decoded_len = 0;
		guchar *decoded = g_base64_decode(att->content, &decoded_len);
		data = g_bytes_new_take(decoded, decoded_len);
	} else {
		data = g_bytes_new(att->content, strlen(att->content));
	}
	ptr = g_bytes_get_data(data, &len);
	*content_size += len;
	if (*content_size > AIQ_EMAIL_MAX_CONTENT_SIZE) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("%s: the message is larger than %u MiB"),
			    att->field,
			    (guint)(AIQ_EMAIL_MAX_CONTENT_SIZE / (1024 * 1024)));
		return FALSE;
	}
	if (att->content_type != NULL) {
		content_type = g_strdup(att->content_type);
	} else {
		content_type = aiq_email_guess_content_type(att->filename, data);
		/* inline text is UTF-8, as every string in a definition */
		if (att->root_dir == NULL && !att->base64 &&
		    g_str_has_prefix(content_type, "text/")) {
			gchar *tmp = g_strdup_printf("%s; charset=utf-8", content_type);
			g_free(content_type);
			content_type = tmp;
		}
	}
	part = curl_mime_addpart(mime);
	if (part == NULL)
		return aiq_email_curl_check(CURLE_OUT_OF_MEMORY, error);
	/* the data is copied: nothing here has to outlive the transfer */
	return aiq_email_curl_check(curl_mime_data(part, len > 0 ? (const gchar *)ptr : "", len),
				    error) &&
	       aiq_email_curl_check(curl_mime_filename(part, att->filename), error) &&
	       aiq_email_curl_check(curl_mime_type(part, content_type), error) &&
	       aiq_email_curl_check(curl_mime_encoder(part, "base64"), error);
}

static gint
aiq_email_xferinfo_cb(void *user_data,
		      curl_off_t dltotal,
		      curl_off_t dlnow,
		      curl_off_t ultotal,
		      curl_off_t ulnow)
{
	/* a non-zero return aborts the transfer with CURLE_ABORTED_BY_CALLBACK */
	return g_cancellable_is_cancelled(G_CANCELLABLE(user_data)) ? 1 : 0;
}

/*
 * Keeps the server's last reply line, for errors, and counts the dots that
 * SMTP dot-stuffing added to the data, which the upload size includes but
 * the message does not.
 */
static gint
aiq_email_debug_cb(CURL *handle, curl_infotype type, gchar *data, gsize size, void *user_data)
{
	AiqEmailJob *job = user_data;
	g_autofree gchar *line = NULL;
	if (type == CURLINFO_DATA_OUT) {
		for (gsize i = 0; i < size; i++) {
			if (job->at_line_start && data[i] == '.')
				job->stuffed_dots++;
			job->at_line_start = data[i] == '\n';
		}
		return 0;
	}
	if (type != CURLINFO_HEADER_IN || size == 0)
		return 0;
	line = g_strndup(data, MIN(size, 512));
	g_strchomp(line);
	if (line[0] == '\0')
		return 0;
	g_free(job->last_reply);
	job->last_reply = g_utf8_make_valid(line, -1);
	return 0;
}

static GError *
aiq_email_error_from_curl(AiqEmailJob *job, CURLcode rc, glong response_code, const gchar *errbuf)
{
	g_autofree gchar *detail = NULL;
	g_autofree gchar *reply = NULL;
	g_autofree gchar *message = NULL;
	AiqError code = AIQ_ERROR_FAILED;

	detail = aiq_email_mask(job->password,
				job->secrets,
				errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	if (job->last_reply != NULL)
		reply = aiq_email_mask(job->password, job->secrets, job->last_reply);

	switch (rc) {
	case CURLE_ABORTED_BY_CALLBACK:
		code = AIQ_ERROR_CANCELLED;
		message = g_strdup(_("cancelled"));
		break;
	case CURLE_OPERATION_TIMEDOUT:
		code = AIQ_ERROR_TIMED_OUT;
		message = g_strdup_printf(_("timed out talking to SMTP server %s: %s"),
					  job->target,
					  detail);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		code = AIQ_ERROR_CONNECTION;
		message = g_strdup_printf(_("could not connect to SMTP server %s: %s"),
					  job->target,
					  detail);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		code = AIQ_ERROR_CONNECTION;
		message = g_strdup_printf(_("TLS certificate problem with SMTP server %s: %s; "
					    "the server's certificate must be valid for its name "
					    "and signed by a trusted CA (set ca= in its [smtp] "
					    "group for a private CA)"),
					  job->target,
					  detail);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		code = AIQ_ERROR_CONNECTION;
		message = g_strdup_printf(_("TLS handshake with SMTP server %s failed: %s"),
					  job->target,
					  detail);
		break;
	case CURLE_USE_SSL_FAILED:
		code = AIQ_ERROR_CONNECTION;
		message = g_strdup_printf(
			job->username != NULL ? _("SMTP server %s does not offer STARTTLS, and "
						  "starttls=required: the message and the password "
						  "would travel unencrypted")
					      : _("SMTP server %s does not offer STARTTLS, and "
						  "starttls=required: the message would travel "
						  "unencrypted"),
			job->target);
		break;
	case CURLE_LOGIN_DENIED:
		code = AIQ_ERROR_PERMISSION_DENIED;
		message = g_strdup_printf(_("SMTP login failed on %s for user “%s”: %s; check "
					    "username= and password= in the server's [smtp] group"),
					  job->target,
					  job->username != NULL ? job->username : "",
					  reply != NULL ? reply : detail);
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_GOT_NOTHING:
	case CURLE_QUOTE_ERROR:
		if (response_code >= 400) {
			/* the server answered, and refused */
			code = AIQ_ERROR_STEP_FAILED;
			message = g_strdup_printf(_("SMTP server %s refused the message: %s"),
						  job->target,
						  reply != NULL ? reply : detail);
		} else {
			code = AIQ_ERROR_CONNECTION;
			message = g_strdup_printf(_("connection to SMTP server %s failed: %s"),
						  job->target,
						  detail);
		}
		break;
	default:
		code = AIQ_ERROR_STEP_FAILED;
		message = g_strdup_printf(_("sending mail through %s failed: %s"),
					  job->target,
					  detail);
		break;
	}
	return g_error_new_literal(AIQ_ERROR, code, message);
}

static AiqCurlSlist *
aiq_email_slist_append(AiqCurlSlist *list, const gchar *value)
{
	AiqCurlSlist *result = curl_slist_append(list, value);
	if (result == NULL)
		g_error("out of memory");
	return result;
}

static gboolean
aiq_email_send(AiqEmailJob *job, GCancellable *cancellable, GError **error)
{
	g_autoptr(CURL) curl = curl_easy_init();
	g_autoptr(curl_mime) mime = NULL;
	g_autoptr(AiqCurlSlist) rcpt = NULL;
	g_autoptr(AiqCurlSlist) headers = NULL;
	g_autofree gchar *mail_from = NULL;
	gchar errbuf[CURL_ERROR_SIZE] = "";
	gsize content_size = 0;
	glong response_code = 0;
	CURLcode rc;

	if (curl == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("could not start libcurl"));
		return FALSE;
	}
	job->at_line_start = TRUE;

	/* the message */
	mime = curl_mime_init(curl);
	if (mime == NULL)
		return aiq_email_curl_check(CURLE_OUT_OF_MEMORY, error);
	if (!aiq_email_add_body(job, curl, mime, error))
		return FALSE;
	content_size += job->text != NULL ? strlen(job->text) : 0;
	content_size += job->html != NULL ? strlen(job->html) : 0;
	for (guint i = 0; i < job->attachments->len; i++) {
		if (g_cancellable_set_error_if_cancelled(cancellable, error)) {
			aiq_error_convert(error);
			return FALSE;
		}
		if (!aiq_email_add_attachment(g_ptr_array_index(job->attachments, i),
					      mime,
					      &content_size,
					      error))
			return FALSE;
	}
	for (guint i = 0; i < job->headers->len; i++)
		headers = aiq_email_slist_append(headers, g_ptr_array_index(job->headers, i));
	for (guint i = 0; i < job->recipients->len; i++) {
		g_autofree gchar *addr =
			g_strdup_printf("<%s>",
					(const gchar *)g_ptr_array_index(job->recipients, i));
		rcpt = aiq_email_slist_append(rcpt, addr);
	}
	mail_from = g_strdup_printf("<%s>", job->from);

	/* the server */
	curl_easy_setopt(curl, CURLOPT_URL, job->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (glong)AIQ_EMAIL_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, job->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_USE_SSL, (glong)job->use_ssl);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (job->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, job->ca_file);
	if (job->username != NULL) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, job->username);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, job->password);
		curl_easy_setopt(curl, CURLOPT_SASL_IR, 1L);
	}
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, aiq_email_xferinfo_cb);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, cancellable);
	curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, aiq_email_debug_cb);
	curl_easy_setopt(curl, CURLOPT_DEBUGDATA, job);
	curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);

	/* the envelope and the message */
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);

	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response_code);
	if (rc != CURLE_OK) {
		g_propagate_error(error, aiq_email_error_from_curl(job, rc, response_code, errbuf));
		return FALSE;
	}
	curl_easy_getinfo(curl, CURLINFO_SIZE_UPLOAD_T, &job->size);
	job->size = MAX(job->size - (curl_off_t)job->stuffed_dots, 0);
	return TRUE;
}

static void
aiq_email_send_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	AiqEmailJob *job = task_data;
	GError *error = NULL;
	if (!aiq_email_send(job, cancellable, &error)) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/* back on the main context */
static void
aiq_email_send_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqStepRun) run = AIQ_STEP_RUN(user_data);
	AiqEmailJob *job = g_task_get_task_data(G_TASK(res));
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonArray) accepted = NULL;
	JsonObject *output;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		if (!aiq_step_run_is_finished(run))
			aiq_step_run_log(run,
					 _("email %s through %s failed: %s"),
					 job->message_id,
					 job->target,
					 error->message);
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}
	aiq_step_run_log(
		run,
		g_dngettext(GETTEXT_PACKAGE,
			    "email %s sent through %s to %u recipient, %" G_GINT64_FORMAT " bytes",
			    "email %s sent through %s to %u recipients, %" G_GINT64_FORMAT " bytes",
			    job->recipients->len),
		job->message_id,
		job->target,
		job->recipients->len,
		(gint64)job->size);
	accepted = json_array_sized_new(job->recipients->len);
	for (guint i = 0; i < job->recipients->len; i++)
		json_array_add_string_element(accepted, g_ptr_array_index(job->recipients, i));
	output = json_object_new();
	json_object_set_string_member(output, "message_id", job->message_id);
	json_object_set_array_member(output, "accepted", g_steal_pointer(&accepted));
	json_object_set_int_member(output, "size", (gint64)job->size);
	aiq_step_run_return_value(run, aiq_json_new_object(output));
}

static void
aiq_email_ensure_curl(void)
{
	static gsize initialized = 0;
	if (g_once_init_enter(&initialized)) {
		/* not thread-safe before curl 7.84 everywhere: once, from the main thread */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		g_once_init_leave(&initialized, 1);
	}
}

static void
aiq_email_run(AiqStepRun *run)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqEmailJob) job = NULL;
	g_autoptr(GTask) task = NULL;

	job = aiq_email_job_new_for_run(run, &error);
	if (job == NULL) {
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}
	aiq_email_ensure_curl();

	/*
	 * libcurl blocks: send on a worker thread, finish on this context. The
	 * callback holds the run, not the task, so that its last reference is
	 * never dropped on the worker thread.
	 */
	task = g_task_new(NULL,
			  aiq_step_run_get_cancellable(run),
			  aiq_email_send_cb,
			  g_object_ref(run));
	g_task_set_source_tag(task, aiq_email_run);
	g_task_set_check_cancellable(task, FALSE);
	g_task_set_task_data(task, g_steal_pointer(&job), (GDestroyNotify)aiq_email_job_free);
	g_task_run_in_thread(task, aiq_email_send_thread);
}

const AiqStepKind aiq_step_kind_email = {
	.name = "email",
	.title = N_("Send email"),
	.description = N_("Sends an email through an SMTP server from the agent configuration, "
			  "with text, HTML and attachments"),
	.icon_name = "mail-send-symbolic",
	.params = aiq_email_params,
	.flags = AIQ_STEP_KIND_FLAG_NONE,
	.validate = aiq_email_validate,
	.get_circuit_key = aiq_email_get_circuit_key,
	.run = aiq_email_run,
};
