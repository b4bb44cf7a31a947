/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gio/gunixinputstream.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "aiq-document.h"
#include "aiq-error.h"
#include "aiq-json.h"

#define AIQ_DOCUMENT_READ_CHUNK (64 * 1024)

/**
 * aiq_document_limits_default:
 *
 * Returns: (transfer none): the AIQ_DOCUMENT_DEFAULT_* limits
 */
const AiqDocumentLimits *
aiq_document_limits_default(void)
{
	static const AiqDocumentLimits limits = {
		.max_size = AIQ_DOCUMENT_DEFAULT_MAX_SIZE,
		.max_depth = AIQ_DOCUMENT_DEFAULT_MAX_DEPTH,
		.max_nodes = AIQ_DOCUMENT_DEFAULT_MAX_NODES,
		.max_scalar = AIQ_DOCUMENT_DEFAULT_MAX_SCALAR,
	};
	return &limits;
}

/**
 * aiq_document_size_to_string:
 *
 * Returns: a size for messages about limits: `4 MiB` when exact, else rounded
 * up to one decimal (`5.2 MiB`) so that anything over a limit reads as over it
 */
gchar *
aiq_document_size_to_string(guint64 bytes)
{
	static const gchar *units[] = { "KiB", "MiB", "GiB", "TiB" };
	guint64 unit = 1024;
	guint i = 0;

	if (bytes < 1024)
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u byte", "%u bytes", bytes),
				       (guint)bytes);
	while (i + 1 < G_N_ELEMENTS(units) && bytes >= unit * 1024) {
		unit *= 1024;
		i++;
	}
	if (bytes % unit == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT " %s", bytes / unit, units[i]);
	return g_strdup_printf("%.1f %s", ceil((gdouble)bytes * 10 / (gdouble)unit) / 10, units[i]);
}

/**
 * aiq_document_check_size:
 *
 * Returns: %FALSE with %AIQ_ERROR_TOO_LARGE when @len is over the limit
 */
gboolean
aiq_document_check_size(gsize len, const AiqDocumentLimits *limits, GError **error)
{
	g_autofree gchar *size = NULL;
	g_autofree gchar *limit = NULL;

	if (limits == NULL)
		limits = aiq_document_limits_default();
	if (len <= limits->max_size)
		return TRUE;
	size = aiq_document_size_to_string(len);
	limit = aiq_document_size_to_string(limits->max_size);
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_TOO_LARGE,
		    _("the document is %s, over the %s limit"),
		    size,
		    limit);
	return FALSE;
}

/**
 * aiq_document_check_utf8:
 *
 * Documents are UTF-8 (a byte order mark is allowed) without NUL bytes.
 *
 * Returns: %FALSE with %AIQ_ERROR_INVALID_DOCUMENT naming the line and
 * column of the first bad byte
 */
gboolean
aiq_document_check_utf8(const gchar *data, gsize len, GError **error)
{
	const gchar *end = NULL;
	gulong line = 1;
	gulong column = 1;

	if (len >= 2 && (((guchar)data[0] == 0xfe && (guchar)data[1] == 0xff) ||
			 ((guchar)data[0] == 0xff && (guchar)data[1] == 0xfe))) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DOCUMENT,
				    _("the document is UTF-16; save it as UTF-8"));
		return FALSE;
	}
	if (len == 0 || g_utf8_validate_len(data, len, &end))
		return TRUE;
	for (const gchar *p = data; p < end; p++) {
		if (*p == '\n') {
			line++;
			column = 1;
		} else if (((guchar)*p & 0xc0) != 0x80) {
			column++;
		}
	}
	if (*end == '\0') {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    _("line %lu, column %lu: the document contains a NUL byte"),
			    line,
			    column);
	} else {
		g_set_error(
			error,
			AIQ_ERROR,
			AIQ_ERROR_INVALID_DOCUMENT,
			_("line %lu, column %lu: the document is not valid UTF-8 (byte 0x%02X)"),
			line,
			column,
			(guint)(guchar)*end);
	}
	return FALSE;
}

static gboolean
aiq_document_check_string(const gchar *str, const AiqDocumentLimits *limits, GError **error)
{
	gsize len = strlen(str);
	g_autofree gchar *size = NULL;
	g_autofree gchar *limit = NULL;

	if (len <= limits->max_scalar)
		return TRUE;
	size = aiq_document_size_to_string(len);
	limit = aiq_document_size_to_string(limits->max_scalar);
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_TOO_LARGE,
		    _("a string is %s, over the %s limit"),
		    size,
		    limit);
	return FALSE;
}

/**
 * aiq_document_check_tree:
 * @node: a tree, e.g. from aiq_json_parse()
 * @limits: (nullable): bounds, or %NULL for aiq_document_limits_default()
 *
 * Counts the values of @node (shared subtrees once per use) and the length of
 * each string and member name, without recursion. Depth is not checked: a
 * tree built by a parser is bounded already, and json-glib itself recurses.
 *
 * Returns: %FALSE with %AIQ_ERROR_TOO_LARGE when @node is over @limits
 */
gboolean
aiq_document_check_tree(JsonNode *node, const AiqDocumentLimits *limits, GError **error)
{
	g_autoptr(GPtrArray) todo = g_ptr_array_new();
	guint64 nodes = 1;

	g_return_val_if_fail(node != NULL, FALSE);

	if (limits == NULL)
		limits = aiq_document_limits_default();
	g_ptr_array_add(todo, node);
	while (todo->len > 0) {
		JsonNode *cur = g_ptr_array_remove_index_fast(todo, todo->len - 1);
		guint children = 0;

		if (JSON_NODE_HOLDS_OBJECT(cur)) {
			JsonObjectIter iter;
			const gchar *name;
			JsonNode *child;
			json_object_iter_init_ordered(&iter, json_node_get_object(cur));
			while (json_object_iter_next_ordered(&iter, &name, &child)) {
				if (!aiq_document_check_string(name, limits, error))
					return FALSE;
				g_ptr_array_add(todo, child);
				children++;
			}
		} else if (JSON_NODE_HOLDS_ARRAY(cur)) {
			JsonArray *array = json_node_get_array(cur);
			children = json_array_get_length(array);
			for (guint i = 0; i < children && nodes + i < limits->max_nodes; i++)
				g_ptr_array_add(todo, json_array_get_element(array, i));
		} else if (JSON_NODE_HOLDS_VALUE(cur) &&
			   json_node_get_value_type(cur) == G_TYPE_STRING) {
			if (!aiq_document_check_string(json_node_get_string(cur), limits, error))
				return FALSE;
		}
		nodes += children;
		if (nodes > limits->max_nodes)
			break;
	}
	if (nodes > limits->max_nodes) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("the document has more than %u values"),
			    limits->max_nodes);
		return FALSE;
	}
	return TRUE;
}

/**
 * aiq_document_format_from_filename:
 *
 * Returns: JSON for `.json`, YAML for `.yaml` and `.yml` (in any case), else
 * AUTO
 */
AiqDocumentFormat
aiq_document_format_from_filename(const gchar *filename)
{
	g_autofree gchar *lower = NULL;

	g_return_val_if_fail(filename != NULL, AIQ_DOCUMENT_FORMAT_AUTO);

	lower = g_ascii_strdown(filename, -1);
	if (g_str_has_suffix(lower, ".json"))
		return AIQ_DOCUMENT_FORMAT_JSON;
	if (g_str_has_suffix(lower, ".yaml") || g_str_has_suffix(lower, ".yml"))
		return AIQ_DOCUMENT_FORMAT_YAML;
	return AIQ_DOCUMENT_FORMAT_AUTO;
}

/**
 * aiq_document_format_guess:
 *
 * Returns: JSON when the first character after any byte order mark and
 * whitespace is `{` or `[`, else YAML
 */
AiqDocumentFormat
aiq_document_format_guess(const gchar *data, gsize len)
{
	gsize i = 0;

	g_return_val_if_fail(data != NULL || len == 0, AIQ_DOCUMENT_FORMAT_YAML);

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '['))
		return AIQ_DOCUMENT_FORMAT_JSON;
	return AIQ_DOCUMENT_FORMAT_YAML;
}

static gulong
aiq_document_count_chars(const gchar *start, const gchar *end)
{
	gulong n = 0;
	for (const gchar *p = start; p < end; p++) {
		if (((guchar)*p & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* a number as written, shortened for a message */
static gchar *
aiq_document_number_excerpt(const gchar *token, gsize len)
{
	if (len <= 32)
		return g_strndup(token, len);
	return g_strdup_printf("%.*s…", 32, token);
}

static gboolean
aiq_document_check_json_number(const gchar *token,
			       gsize len,
			       gulong line,
			       gulong column,
			       GError **error)
{
	g_autofree gchar *text = g_strndup(token, len);
	g_autofree gchar *excerpt = NULL;

	if (strpbrk(text, ".eE") != NULL) {
		if (isfinite(g_ascii_strtod(text, NULL)))
			return TRUE;
		excerpt = aiq_document_number_excerpt(token, len);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    _("line %lu, column %lu: “%s” is not a number JSON can hold"),
			    line,
			    column,
			    excerpt);
		return FALSE;
	}
	errno = 0;
	g_ascii_strtoll(text, NULL, 10);
	if (errno != ERANGE)
		return TRUE;
	excerpt = aiq_document_number_excerpt(token, len);
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_INVALID_DOCUMENT,
		    _("line %lu, column %lu: the integer %s is too large; write it with "
		      "a “.0” to make it a floating-point number, or quote it"),
		    line,
		    column,
		    excerpt);
	return FALSE;
}

/*
 * Catches what json-glib would silently get wrong: it cuts a string at an
 * escaped NUL ("a\u0000b" reads as "a"), wraps integers beyond 64 bits
 * around, and reads 1e400 as infinity.
 */
static gboolean
aiq_document_check_json_text(const gchar *data, gsize len, GError **error)
{
	gboolean in_string = FALSE;
	const gchar *line_start = data;
	gulong line = 1;

	for (gsize i = 0; i < len; i++) {
		gchar c = data[i];
		if (c == '\n') {
			line++;
			line_start = data + i + 1;
		} else if (!in_string) {
			if (c == '"') {
				in_string = TRUE;
			} else if (c == '-' || g_ascii_isdigit(c)) {
				gsize n = 1;
				while (i + n < len &&
				       strchr("0123456789+-.eE", data[i + n]) != NULL &&
				       data[i + n] != '\0')
					n++;
				if (!aiq_document_check_json_number(data + i, n, line, 0, NULL)) {
					aiq_document_check_json_number(
						data + i,
						n,
						line,
						aiq_document_count_chars(line_start, data + i) + 1,
						error);
					return FALSE;
				}
				i += n - 1;
			}
		} else if (c == '"') {
			in_string = FALSE;
		} else if (c == '\\') {
			if (i + 5 < len && data[i + 1] == 'u' &&
			    memcmp(data + i + 2, "0000", 4) == 0) {
				g_set_error(
					error,
					AIQ_ERROR,
					AIQ_ERROR_INVALID_DOCUMENT,
					_("line %lu, column %lu: a string contains a NUL character"),
					line,
					aiq_document_count_chars(line_start, data + i) + 1);
				return FALSE;
			}
			i++;
		}
	}
	return TRUE;
}

/* json-glib says `<data>:2:7: Parse error: unexpected …`; say it as the YAML
 * parser does, `line 2, column 7: unexpected …` */
static void
aiq_document_reword_json_error(GError *error)
{
	const gchar *p = strstr(error->message, "<data>:");
	guint line = 0;
	guint column = 0;
	gint consumed = 0;
	gchar *message;

	if (p == NULL ||
	    sscanf(p, "<data>:%u:%u: Parse error: %n", &line, &column, &consumed) != 2 ||
	    consumed == 0)
		return;
	message = g_strdup_printf(_("line %u, column %u: %s"), line, column, p + consumed);
	g_free(error->message);
	error->message = message;
}

/**
 * aiq_document_parse:
 * @data: the text, not necessarily nul-terminated
 * @len: its length in bytes
 * @format: JSON, YAML, or AUTO to guess with aiq_document_format_guess()
 * @limits: (nullable): bounds, or %NULL for aiq_document_limits_default()
 *
 * Parses a JSON or YAML document into one kind of tree. The size is checked
 * before any parser sees the text, JSON nesting before json-glib sees it, and
 * the parsed tree against the node and string limits.
 *
 * Returns: (transfer full): the root of an immutable tree, of any type, or
 * %NULL with %AIQ_ERROR_INVALID_DOCUMENT or %AIQ_ERROR_TOO_LARGE
 */
JsonNode *
aiq_document_parse(const gchar *data,
		   gsize len,
		   AiqDocumentFormat format,
		   const AiqDocumentLimits *limits,
		   GError **error)
{
	g_autoptr(JsonNode) root = NULL;

	g_return_val_if_fail(data != NULL || len == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (limits == NULL)
		limits = aiq_document_limits_default();
	if (!aiq_document_check_size(len, limits, error))
		return NULL;
	if (data == NULL)
		data = "";
	if (format == AIQ_DOCUMENT_FORMAT_AUTO)
		format = aiq_document_format_guess(data, len);
	if (format == AIQ_DOCUMENT_FORMAT_YAML)
		return aiq_yaml_parse(data, len, limits, error);

	if (!aiq_document_check_utf8(data, len, error))
		return NULL;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	if (!aiq_document_check_json_text(data, len, error))
		return NULL;
	root = aiq_json_parse(data, len, limits->max_depth, error);
	if (root == NULL) {
		if (error != NULL && *error != NULL)
			aiq_document_reword_json_error(*error);
		return NULL;
	}
	if (!aiq_document_check_tree(root, limits, error))
		return NULL;
	return g_steal_pointer(&root);
}

static AiqError
aiq_document_errno_to_code(gint errsv)
{
	switch (errsv) {
	case ENOENT:
	case ENOTDIR:
		return AIQ_ERROR_NOT_FOUND;
	case EACCES:
	case EPERM:
		return AIQ_ERROR_PERMISSION_DENIED;
	default:
		return AIQ_ERROR_FAILED;
	}
}

/* reads at most limits->max_size bytes, checking the size of a regular file
 * before reading any of it */
static GBytes *
aiq_document_read_file(const gchar *filename, const AiqDocumentLimits *limits, GError **error)
{
	g_autoptr(GInputStream) stream = NULL;
	g_autoptr(GByteArray) buf = g_byte_array_new();
	struct stat st;
	gint fd;

	fd = g_open(filename, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    AIQ_ERROR,
			    aiq_document_errno_to_code(errsv),
			    _("cannot open the file: %s"),
			    g_strerror(errsv));
		return NULL;
	}
	stream = g_unix_input_stream_new(fd, TRUE);
	if (fstat(fd, &st) != 0) {
		gint errsv = errno;
		g_set_error(error,
			    AIQ_ERROR,
			    aiq_document_errno_to_code(errsv),
			    _("cannot read the file: %s"),
			    g_strerror(errsv));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("this is a directory, not a document"));
		return NULL;
	}
	if (S_ISREG(st.st_mode) && !aiq_document_check_size((gsize)st.st_size, limits, error))
		return NULL;

	/* a special file (a pipe, /dev/zero) has no size, so stop at the limit */
	while (TRUE) {
		guint old = buf->len;
		gssize n;

		if (old > limits->max_size || old > G_MAXUINT - AIQ_DOCUMENT_READ_CHUNK) {
			g_autofree gchar *limit = aiq_document_size_to_string(limits->max_size);
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_TOO_LARGE,
				    _("the document is over the %s limit"),
				    limit);
			return NULL;
		}
		g_byte_array_set_size(buf, old + AIQ_DOCUMENT_READ_CHUNK);
		n = g_input_stream_read(stream,
					buf->data + old,
					AIQ_DOCUMENT_READ_CHUNK,
					NULL,
					error);
		if (n < 0) {
			aiq_error_convert(error);
			g_prefix_error(error, _("cannot read the file: "));
			return NULL;
		}
		g_byte_array_set_size(buf, old + (guint)n);
		if (n == 0)
			break;
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

/**
 * aiq_document_load_file:
 * @filename: a path
 * @format: the format, or AUTO to go by the file name and then the content
 * @limits: (nullable): bounds, or %NULL for aiq_document_limits_default()
 *
 * Reads and parses a document. A file over the size limit is refused before
 * it is read. Errors start with the file name, e.g.
 * `examples/x.yaml: line 3, column 1: …`.
 *
 * Returns: (transfer full): the root, or %NULL with an %AIQ_ERROR
 */
JsonNode *
aiq_document_load_file(const gchar *filename,
		       AiqDocumentFormat format,
		       const AiqDocumentLimits *limits,
		       GError **error)
{
	g_autofree gchar *display = NULL;
	g_autoptr(GBytes) bytes = NULL;
	JsonNode *root;
	gsize len = 0;
	const gchar *data;

	g_return_val_if_fail(filename != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (limits == NULL)
		limits = aiq_document_limits_default();
	display = g_filename_display_name(filename);
	bytes = aiq_document_read_file(filename, limits, error);
	if (bytes == NULL) {
		g_prefix_error(error, "%s: ", display);
		return NULL;
	}
	if (format == AIQ_DOCUMENT_FORMAT_AUTO)
		format = aiq_document_format_from_filename(filename);
	data = g_bytes_get_data(bytes, &len);
	root = aiq_document_parse(data, len, format, limits, error);
	if (root == NULL) {
		g_prefix_error(error, "%s: ", display);
		return NULL;
	}
	return root;
}
