/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <yaml.h>

#include "aiq-document.h"
#include "aiq-error.h"

/*
 * YAML is read with libyaml's event parser, never its document loader: the
 * events arrive one at a time and are turned into a JsonNode tree with an
 * explicit stack, so nesting, node counts and alias expansions are bounded as
 * the document is read, and nothing here recurses.
 *
 * Plain scalars are typed by the YAML 1.2 core schema; quoted and block
 * scalars are strings. Mapping keys are always the key's text as written.
 */

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(yaml_parser_t, yaml_parser_delete)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(yaml_emitter_t, yaml_emitter_delete)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(yaml_event_t, yaml_event_delete)

#define AIQ_YAML_TAG_PREFIX "tag:yaml.org,2002:"

typedef enum {
	AIQ_YAML_SCALAR_STRING,
	AIQ_YAML_SCALAR_NULL,
	AIQ_YAML_SCALAR_BOOL,
	AIQ_YAML_SCALAR_INT,
	AIQ_YAML_SCALAR_FLOAT,
	AIQ_YAML_SCALAR_NONFINITE, /* .inf and .nan, which JSON cannot hold */
} AiqYamlScalarKind;

/* an open mapping or sequence */
typedef struct {
	JsonNode *node;
	gchar *key;           /* in a mapping: the key waiting for its value */
	gchar *anchor;        /* the anchor to define when the node closes */
	guint64 nodes_before; /* counters when the node opened, to size the anchor */
	guint64 bytes_before;
	guint height; /* levels of collections in the node so far, itself included */
} AiqYamlFrame;

typedef struct {
	JsonNode *node; /* NULL while the anchored collection is still open */
	gchar *text;    /* a scalar as written, for use as a mapping key */
	guint64 nodes;  /* values in the subtree, aliases expanded */
	guint64 bytes;  /* scalar bytes in the subtree, aliases expanded */
	guint height;   /* levels of collections in the subtree, 0 for a scalar */
} AiqYamlAnchor;

typedef struct {
	const AiqDocumentLimits *limits;
	GArray *stack;       /* of AiqYamlFrame */
	GHashTable *anchors; /* name → AiqYamlAnchor */
	JsonNode *root;
	guint64 nodes;
	guint64 bytes;
	guint documents;
} AiqYamlLoader;

static void
aiq_yaml_frame_clear(gpointer data)
{
	AiqYamlFrame *frame = data;
	g_clear_pointer(&frame->node, json_node_unref);
	g_clear_pointer(&frame->key, g_free);
	g_clear_pointer(&frame->anchor, g_free);
}

static void
aiq_yaml_anchor_free(AiqYamlAnchor *anchor)
{
	g_clear_pointer(&anchor->node, json_node_unref);
	g_free(anchor->text);
	g_free(anchor);
}

static AiqYamlLoader *
aiq_yaml_loader_new(const AiqDocumentLimits *limits)
{
	AiqYamlLoader *self = g_new0(AiqYamlLoader, 1);
	self->limits = limits;
	self->stack = g_array_new(FALSE, TRUE, sizeof(AiqYamlFrame));
	g_array_set_clear_func(self->stack, aiq_yaml_frame_clear);
	self->anchors = g_hash_table_new_full(g_str_hash,
					      g_str_equal,
					      g_free,
					      (GDestroyNotify)aiq_yaml_anchor_free);
	return self;
}

static void
aiq_yaml_loader_free(AiqYamlLoader *self)
{
	g_array_unref(self->stack);
	g_hash_table_unref(self->anchors);
	g_clear_pointer(&self->root, json_node_unref);
	g_free(self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqYamlLoader, aiq_yaml_loader_free)

static void
aiq_yaml_set_error(GError **error, gint code, const yaml_mark_t *mark, const gchar *format, ...)
	G_GNUC_PRINTF(4, 5);

static void
aiq_yaml_set_error(GError **error, gint code, const yaml_mark_t *mark, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *msg = NULL;

	va_start(args, format);
	msg = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(error,
		    AIQ_ERROR,
		    code,
		    /* TRANSLATORS: a position in a YAML document, then what is wrong there */
		    _("line %lu, column %lu: %s"),
		    (gulong)mark->line + 1,
		    (gulong)mark->column + 1,
		    msg);
}

/* how a tag is written in a document: `!!int` rather than `tag:yaml.org,2002:int` */
static gchar *
aiq_yaml_tag_to_string(const gchar *tag)
{
	if (g_str_has_prefix(tag, AIQ_YAML_TAG_PREFIX))
		return g_strconcat("!!", tag + strlen(AIQ_YAML_TAG_PREFIX), NULL);
	return g_strdup(tag);
}

static gboolean
aiq_yaml_is_tag(const gchar *tag, const gchar *name)
{
	return g_str_has_prefix(tag, AIQ_YAML_TAG_PREFIX) &&
	       g_strcmp0(tag + strlen(AIQ_YAML_TAG_PREFIX), name) == 0;
}

static gboolean
aiq_yaml_match_any(const gchar *str, gsize len, const gchar *const *words)
{
	for (guint i = 0; words[i] != NULL; i++) {
		if (strlen(words[i]) == len && memcmp(str, words[i], len) == 0)
			return TRUE;
	}
	return FALSE;
}

static gsize
aiq_yaml_span(const gchar *str, gsize len, gsize i, gboolean (*accept)(gchar c))
{
	gsize start = i;
	while (i < len && accept(str[i]))
		i++;
	return i - start;
}

static gboolean
aiq_yaml_is_digit(gchar c)
{
	return c >= '0' && c <= '9';
}

static gboolean
aiq_yaml_is_odigit(gchar c)
{
	return c >= '0' && c <= '7';
}

static gboolean
aiq_yaml_is_xdigit(gchar c)
{
	return g_ascii_isxdigit(c);
}

/* [-+]? [0-9]+ | 0o [0-7]+ | 0x [0-9a-fA-F]+ */
static gboolean
aiq_yaml_is_int(const gchar *s, gsize len)
{
	gsize i = 0;
	if (len > 2 && s[0] == '0' && s[1] == 'o')
		return aiq_yaml_span(s, len, 2, aiq_yaml_is_odigit) == len - 2;
	if (len > 2 && s[0] == '0' && s[1] == 'x')
		return aiq_yaml_span(s, len, 2, aiq_yaml_is_xdigit) == len - 2;
	if (len > 0 && (s[0] == '-' || s[0] == '+'))
		i++;
	return i < len && aiq_yaml_span(s, len, i, aiq_yaml_is_digit) == len - i;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static gboolean
aiq_yaml_is_float(const gchar *s, gsize len)
{
	gsize i = 0;
	gsize n;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i < len && s[i] == '.') {
		i++;
		n = aiq_yaml_span(s, len, i, aiq_yaml_is_digit);
		if (n == 0)
			return FALSE;
		i += n;
	} else {
		n = aiq_yaml_span(s, len, i, aiq_yaml_is_digit);
		if (n == 0)
			return FALSE;
		i += n;
		if (i < len && s[i] == '.') {
			i++;
			i += aiq_yaml_span(s, len, i, aiq_yaml_is_digit);
		}
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		n = aiq_yaml_span(s, len, i, aiq_yaml_is_digit);
		if (n == 0)
			return FALSE;
		i += n;
	}
	return i == len;
}

/* what a plain scalar means under the YAML 1.2 core schema */
static AiqYamlScalarKind
aiq_yaml_scalar_classify(const gchar *s, gsize len)
{
	static const gchar *const nulls[] = { "~", "null", "Null", "NULL", NULL };
	static const gchar *const bools[] = { "true",  "True",  "TRUE", "false",
					      "False", "FALSE", NULL };
	static const gchar *const nonfinite[] = { ".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
						  "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
						  ".NaN",  ".NAN",  NULL };
	if (len == 0 || aiq_yaml_match_any(s, len, nulls))
		return AIQ_YAML_SCALAR_NULL;
	if (aiq_yaml_match_any(s, len, bools))
		return AIQ_YAML_SCALAR_BOOL;
	if (aiq_yaml_is_int(s, len))
		return AIQ_YAML_SCALAR_INT;
	if (aiq_yaml_is_float(s, len))
		return AIQ_YAML_SCALAR_FLOAT;
	if (aiq_yaml_match_any(s, len, nonfinite))
		return AIQ_YAML_SCALAR_NONFINITE;
	return AIQ_YAML_SCALAR_STRING;
}

static JsonNode *
aiq_yaml_new_double(const gchar *text, const yaml_mark_t *mark, GError **error)
{
	JsonNode *node;
	gdouble value = g_ascii_strtod(text, NULL);
	if (!isfinite(value)) {
		aiq_yaml_set_error(error,
				   AIQ_ERROR_INVALID_DOCUMENT,
				   mark,
				   _("“%s” is not a number JSON can hold"),
				   text);
		return NULL;
	}
	node = json_node_new(JSON_NODE_VALUE);
	json_node_set_double(node, value);
	return node;
}

/* @text matches aiq_yaml_is_int(); out of the int64 range it becomes a double */
static JsonNode *
aiq_yaml_new_int(const gchar *text, const yaml_mark_t *mark, GError **error)
{
	JsonNode *node;
	guint base = 10;
	const gchar *digits = text;
	gint64 value;
	gchar *end = NULL;

	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
		guint64 uvalue;
		gdouble dvalue = 0;
		base = text[1] == 'x' ? 16 : 8;
		digits = text + 2;
		errno = 0;
		uvalue = g_ascii_strtoull(digits, &end, base);
		if (errno == 0 && uvalue <= G_MAXINT64) {
			node = json_node_new(JSON_NODE_VALUE);
			json_node_set_int(node, (gint64)uvalue);
			return node;
		}
		for (const gchar *p = digits; *p != '\0'; p++)
			dvalue = dvalue * base + g_ascii_xdigit_value(*p);
		if (!isfinite(dvalue)) {
			aiq_yaml_set_error(error,
					   AIQ_ERROR_INVALID_DOCUMENT,
					   mark,
					   _("“%s” is not a number JSON can hold"),
					   text);
			return NULL;
		}
		node = json_node_new(JSON_NODE_VALUE);
		json_node_set_double(node, dvalue);
		return node;
	}
	errno = 0;
	value = g_ascii_strtoll(digits, &end, base);
	if (errno == ERANGE)
		return aiq_yaml_new_double(text, mark, error);
	node = json_node_new(JSON_NODE_VALUE);
	json_node_set_int(node, value);
	return node;
}

/*
 * Builds the value of a scalar: by its explicit tag when there is one, by the
 * core schema when it is plain, else as a string.
 */
static JsonNode *
aiq_yaml_scalar_to_node(const yaml_event_t *event, GError **error)
{
	const gchar *text = (const gchar *)event->data.scalar.value;
	gsize len = event->data.scalar.length;
	const gchar *tag = (const gchar *)event->data.scalar.tag;
	const yaml_mark_t *mark = &event->start_mark;
	AiqYamlScalarKind kind = AIQ_YAML_SCALAR_STRING;
	JsonNode *node;

	if (tag != NULL && g_strcmp0(tag, "!") != 0) {
		const gchar *wanted = NULL;
		kind = aiq_yaml_scalar_classify(text, len);
		if (aiq_yaml_is_tag(tag, "str")) {
			kind = AIQ_YAML_SCALAR_STRING;
		} else if (aiq_yaml_is_tag(tag, "null")) {
			if (kind != AIQ_YAML_SCALAR_NULL)
				wanted = _("null");
		} else if (aiq_yaml_is_tag(tag, "bool")) {
			if (kind != AIQ_YAML_SCALAR_BOOL)
				wanted = _("a boolean");
		} else if (aiq_yaml_is_tag(tag, "int")) {
			if (kind != AIQ_YAML_SCALAR_INT)
				wanted = _("an integer");
		} else if (aiq_yaml_is_tag(tag, "float")) {
			if (kind == AIQ_YAML_SCALAR_INT)
				kind = AIQ_YAML_SCALAR_FLOAT;
			else if (kind != AIQ_YAML_SCALAR_FLOAT && kind != AIQ_YAML_SCALAR_NONFINITE)
				wanted = _("a number");
		} else {
			g_autofree gchar *name = aiq_yaml_tag_to_string(tag);
			aiq_yaml_set_error(error,
					   AIQ_ERROR_INVALID_DOCUMENT,
					   mark,
					   _("the tag “%s” is not supported; use !!str, !!int, "
					     "!!float, !!bool or !!null, or no tag"),
					   name);
			return NULL;
		}
		if (wanted != NULL) {
			g_autofree gchar *name = aiq_yaml_tag_to_string(tag);
			aiq_yaml_set_error(
				error,
				AIQ_ERROR_INVALID_DOCUMENT,
				mark,
				/* TRANSLATORS: e.g. “abc” is tagged !!int but is not an integer */
				_("“%s” is tagged %s but is not %s"),
				text,
				name,
				wanted);
			return NULL;
		}
	} else if (tag == NULL && event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		kind = aiq_yaml_scalar_classify(text, len);
	}

	switch (kind) {
	case AIQ_YAML_SCALAR_NULL:
		return json_node_new(JSON_NODE_NULL);
	case AIQ_YAML_SCALAR_BOOL:
		node = json_node_new(JSON_NODE_VALUE);
		json_node_set_boolean(node, text[0] == 't' || text[0] == 'T');
		return node;
	case AIQ_YAML_SCALAR_INT:
		return aiq_yaml_new_int(text, mark, error);
	case AIQ_YAML_SCALAR_FLOAT:
		if (aiq_yaml_is_int(text, len) && text[0] == '0' &&
		    (text[1] == 'x' || text[1] == 'o')) {
			/* !!float 0x10 */
			g_autoptr(JsonNode) inode = aiq_yaml_new_int(text, mark, error);
			if (inode == NULL)
				return NULL;
			node = json_node_new(JSON_NODE_VALUE);
			json_node_set_double(node, json_node_get_double(inode));
			return node;
		}
		return aiq_yaml_new_double(text, mark, error);
	case AIQ_YAML_SCALAR_NONFINITE:
		aiq_yaml_set_error(
			error,
			AIQ_ERROR_INVALID_DOCUMENT,
			mark,
			_("“%s” is not a number JSON can hold; quote it to make it a string"),
			text);
		return NULL;
	case AIQ_YAML_SCALAR_STRING:
	default:
		node = json_node_new(JSON_NODE_VALUE);
		json_node_set_string(node, text);
		return node;
	}
}

static gboolean
aiq_yaml_check_collection_tag(const gchar *tag,
			      const gchar *expected,
			      const yaml_mark_t *mark,
			      GError **error)
{
	g_autofree gchar *name = NULL;
	if (tag == NULL || g_strcmp0(tag, "!") == 0 || aiq_yaml_is_tag(tag, expected))
		return TRUE;
	name = aiq_yaml_tag_to_string(tag);
	aiq_yaml_set_error(error,
			   AIQ_ERROR_INVALID_DOCUMENT,
			   mark,
			   _("the tag “%s” is not supported here"),
			   name);
	return FALSE;
}

static AiqYamlFrame *
aiq_yaml_loader_top(AiqYamlLoader *self)
{
	if (self->stack->len == 0)
		return NULL;
	return &g_array_index(self->stack, AiqYamlFrame, self->stack->len - 1);
}

/* the next event of an open mapping is a key */
static gboolean
aiq_yaml_loader_wants_key(AiqYamlLoader *self)
{
	AiqYamlFrame *frame = aiq_yaml_loader_top(self);
	return frame != NULL && JSON_NODE_HOLDS_OBJECT(frame->node) && frame->key == NULL;
}

static gboolean
aiq_yaml_loader_count(AiqYamlLoader *self,
		      guint64 nodes,
		      guint64 bytes,
		      gboolean alias,
		      const yaml_mark_t *mark,
		      GError **error)
{
	self->nodes += nodes;
	self->bytes += bytes;
	if (self->nodes > self->limits->max_nodes) {
		if (alias) {
			aiq_yaml_set_error(error,
					   AIQ_ERROR_TOO_LARGE,
					   mark,
					   _("aliases expand the document to more than %u values"),
					   self->limits->max_nodes);
		} else {
			aiq_yaml_set_error(error,
					   AIQ_ERROR_TOO_LARGE,
					   mark,
					   _("the document has more than %u values"),
					   self->limits->max_nodes);
		}
		return FALSE;
	}
	/* without aliases the text of the scalars is never longer than the
	 * document; with them it must not be either */
	if (alias && self->bytes > self->limits->max_size) {
		g_autofree gchar *limit = aiq_document_size_to_string(self->limits->max_size);
		aiq_yaml_set_error(error,
				   AIQ_ERROR_TOO_LARGE,
				   mark,
				   _("aliases expand the document to more than %s of text"),
				   limit);
		return FALSE;
	}
	return TRUE;
}

/* takes @node, @height levels deep; the frame on top of the stack, if any,
 * is its parent */
static void
aiq_yaml_loader_add(AiqYamlLoader *self, JsonNode *node, guint height)
{
	AiqYamlFrame *frame = aiq_yaml_loader_top(self);
	if (frame == NULL) {
		g_assert(self->root == NULL);
		self->root = node;
		return;
	}
	frame->height = MAX(frame->height, height + 1);
	if (JSON_NODE_HOLDS_ARRAY(frame->node)) {
		json_array_add_element(json_node_get_array(frame->node), node);
	} else {
		g_assert(frame->key != NULL);
		json_object_set_member(json_node_get_object(frame->node), frame->key, node);
		g_clear_pointer(&frame->key, g_free);
	}
}

static gboolean
aiq_yaml_loader_set_key(AiqYamlLoader *self,
			const gchar *key,
			gsize len,
			const yaml_mark_t *mark,
			GError **error)
{
	AiqYamlFrame *frame = aiq_yaml_loader_top(self);
	JsonObject *object;

	g_assert(frame != NULL);
	object = json_node_get_object(frame->node);
	if (memchr(key, '\0', len) != NULL) {
		aiq_yaml_set_error(error,
				   AIQ_ERROR_INVALID_DOCUMENT,
				   mark,
				   _("a key contains a NUL character"));
		return FALSE;
	}
	if (json_object_has_member(object, key)) {
		aiq_yaml_set_error(error,
				   AIQ_ERROR_INVALID_DOCUMENT,
				   mark,
				   _("duplicate key “%s”"),
				   key);
		return FALSE;
	}
	frame->key = g_strndup(key, len);
	return TRUE;
}

static void
aiq_yaml_loader_define_anchor(AiqYamlLoader *self,
			      const gchar *name,
			      JsonNode *node,
			      const gchar *text,
			      guint64 nodes,
			      guint64 bytes,
			      guint height)
{
	AiqYamlAnchor *anchor = g_new0(AiqYamlAnchor, 1);
	anchor->node = node != NULL ? json_node_ref(node) : NULL;
	anchor->text = g_strdup(text);
	anchor->nodes = nodes;
	anchor->bytes = bytes;
	anchor->height = height;
	g_hash_table_replace(self->anchors, g_strdup(name), anchor);
}

static gboolean
aiq_yaml_loader_scalar(AiqYamlLoader *self, const yaml_event_t *event, GError **error)
{
	const gchar *text = (const gchar *)event->data.scalar.value;
	gsize len = event->data.scalar.length;
	const gchar *anchor = (const gchar *)event->data.scalar.anchor;
	gboolean is_key = aiq_yaml_loader_wants_key(self);
	g_autoptr(JsonNode) node = NULL;

	if (len > self->limits->max_scalar) {
		g_autofree gchar *size = aiq_document_size_to_string(len);
		g_autofree gchar *limit = aiq_document_size_to_string(self->limits->max_scalar);
		aiq_yaml_set_error(error,
				   AIQ_ERROR_TOO_LARGE,
				   &event->start_mark,
				   _("the string is %s, over the %s limit"),
				   size,
				   limit);
		return FALSE;
	}
	if (memchr(text, '\0', len) != NULL) {
		aiq_yaml_set_error(error,
				   AIQ_ERROR_INVALID_DOCUMENT,
				   &event->start_mark,
				   _("the string contains a NUL character"));
		return FALSE;
	}

	/* a root that is nothing at all, e.g. a lone `---` */
	if (self->stack->len == 0 && len == 0 && event->data.scalar.tag == NULL &&
	    event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DOCUMENT,
				    _("the document is empty"));
		return FALSE;
	}

	/* a key is its text as written; its value is only needed to check a
	 * tag or to define an anchor */
	if (!is_key || event->data.scalar.tag != NULL || anchor != NULL) {
		node = aiq_yaml_scalar_to_node(event, error);
		if (node == NULL)
			return FALSE;
		json_node_seal(node);
	}
	if (anchor != NULL)
		aiq_yaml_loader_define_anchor(self, anchor, node, text, 1, len, 0);

	if (is_key) {
		if (!aiq_yaml_loader_count(self, 0, len, FALSE, &event->start_mark, error))
			return FALSE;
		return aiq_yaml_loader_set_key(self, text, len, &event->start_mark, error);
	}
	if (!aiq_yaml_loader_count(self, 1, len, FALSE, &event->start_mark, error))
		return FALSE;
	aiq_yaml_loader_add(self, g_steal_pointer(&node), 0);
	return TRUE;
}

static gboolean
aiq_yaml_loader_alias(AiqYamlLoader *self, const yaml_event_t *event, GError **error)
{
	const gchar *name = (const gchar *)event->data.alias.anchor;
	AiqYamlAnchor *anchor = g_hash_table_lookup(self->anchors, name);

	if (anchor == NULL) {
		aiq_yaml_set_error(error,
				   AIQ_ERROR_INVALID_DOCUMENT,
				   &event->start_mark,
				   _("the alias “*%s” has no anchor “&%s” before it"),
				   name,
				   name);
		return FALSE;
	}
	if (anchor->node == NULL) {
		aiq_yaml_set_error(error,
				   AIQ_ERROR_INVALID_DOCUMENT,
				   &event->start_mark,
				   _("the alias “*%s” is inside the node it refers to"),
				   name);
		return FALSE;
	}
	if (aiq_yaml_loader_wants_key(self)) {
		if (anchor->text == NULL) {
			aiq_yaml_set_error(error,
					   AIQ_ERROR_INVALID_DOCUMENT,
					   &event->start_mark,
					   _("a mapping key must be a string, not a %s"),
					   JSON_NODE_HOLDS_OBJECT(anchor->node) ? _("mapping")
										: _("sequence"));
			return FALSE;
		}
		if (!aiq_yaml_loader_count(self, 0, anchor->bytes, TRUE, &event->start_mark, error))
			return FALSE;
		return aiq_yaml_loader_set_key(self,
					       anchor->text,
					       strlen(anchor->text),
					       &event->start_mark,
					       error);
	}
	/* the expansion is as deep as the anchored node plus where it is used */
	if (self->stack->len + anchor->height > self->limits->max_depth) {
		aiq_yaml_set_error(error,
				   AIQ_ERROR_TOO_LARGE,
				   &event->start_mark,
				   _("the alias “*%s” nests the document deeper than %u levels"),
				   name,
				   self->limits->max_depth);
		return FALSE;
	}
	if (!aiq_yaml_loader_count(self,
				   anchor->nodes,
				   anchor->bytes,
				   TRUE,
				   &event->start_mark,
				   error))
		return FALSE;
	/* the tree is immutable, so the expansion can share the anchored node */
	aiq_yaml_loader_add(self, json_node_ref(anchor->node), anchor->height);
	return TRUE;
}

static gboolean
aiq_yaml_loader_start(AiqYamlLoader *self, const yaml_event_t *event, GError **error)
{
	gboolean is_mapping = event->type == YAML_MAPPING_START_EVENT;
	const gchar *anchor = is_mapping ? (const gchar *)event->data.mapping_start.anchor
					 : (const gchar *)event->data.sequence_start.anchor;
	const gchar *tag = is_mapping ? (const gchar *)event->data.mapping_start.tag
				      : (const gchar *)event->data.sequence_start.tag;
	AiqYamlFrame frame = { 0 };

	if (aiq_yaml_loader_wants_key(self)) {
		aiq_yaml_set_error(error,
				   AIQ_ERROR_INVALID_DOCUMENT,
				   &event->start_mark,
				   _("a mapping key must be a string, not a %s"),
				   is_mapping ? _("mapping") : _("sequence"));
		return FALSE;
	}
	if (self->stack->len >= self->limits->max_depth) {
		aiq_yaml_set_error(error,
				   AIQ_ERROR_TOO_LARGE,
				   &event->start_mark,
				   _("nested deeper than %u levels"),
				   self->limits->max_depth);
		return FALSE;
	}
	if (!aiq_yaml_check_collection_tag(tag,
					   is_mapping ? "map" : "seq",
					   &event->start_mark,
					   error))
		return FALSE;

	frame.nodes_before = self->nodes;
	frame.bytes_before = self->bytes;
	frame.height = 1;
	if (!aiq_yaml_loader_count(self, 1, 0, FALSE, &event->start_mark, error))
		return FALSE;
	if (is_mapping) {
		frame.node = json_node_new(JSON_NODE_OBJECT);
		json_node_take_object(frame.node, json_object_new());
	} else {
		frame.node = json_node_new(JSON_NODE_ARRAY);
		json_node_take_array(frame.node, json_array_new());
	}
	if (anchor != NULL) {
		frame.anchor = g_strdup(anchor);
		/* a placeholder, so that an alias inside the node is caught */
		aiq_yaml_loader_define_anchor(self, anchor, NULL, NULL, 0, 0, 0);
	}
	g_array_append_val(self->stack, frame);
	return TRUE;
}

static void
aiq_yaml_loader_end(AiqYamlLoader *self)
{
	AiqYamlFrame *frame = aiq_yaml_loader_top(self);
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *anchor = NULL;
	guint64 nodes;
	guint64 bytes;
	guint height;

	g_assert(frame != NULL);
	node = g_steal_pointer(&frame->node);
	anchor = g_steal_pointer(&frame->anchor);
	nodes = self->nodes - frame->nodes_before;
	bytes = self->bytes - frame->bytes_before;
	height = frame->height;

	/* the children are sealed already, so this does not walk the subtree */
	json_node_seal(node);
	g_array_set_size(self->stack, self->stack->len - 1);
	if (anchor != NULL)
		aiq_yaml_loader_define_anchor(self, anchor, node, NULL, nodes, bytes, height);
	aiq_yaml_loader_add(self, g_steal_pointer(&node), height);
}

static gboolean
aiq_yaml_loader_handle(AiqYamlLoader *self, const yaml_event_t *event, GError **error)
{
	switch (event->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (self->documents++ > 0) {
			aiq_yaml_set_error(error,
					   AIQ_ERROR_INVALID_DOCUMENT,
					   &event->start_mark,
					   _("a second document starts here; only one is allowed"));
			return FALSE;
		}
		return TRUE;
	case YAML_STREAM_END_EVENT:
		if (self->documents == 0) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_DOCUMENT,
					    _("the document is empty"));
			return FALSE;
		}
		return TRUE;
	case YAML_SCALAR_EVENT:
		return aiq_yaml_loader_scalar(self, event, error);
	case YAML_ALIAS_EVENT:
		return aiq_yaml_loader_alias(self, event, error);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return aiq_yaml_loader_start(self, event, error);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		aiq_yaml_loader_end(self);
		return TRUE;
	case YAML_NO_EVENT:
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	default:
		return TRUE;
	}
}

/* the 1-based line and column of byte @offset of UTF-8 @data */
static void
aiq_yaml_locate(const gchar *data, gsize len, gsize offset, yaml_mark_t *mark)
{
	mark->line = 0;
	mark->column = 0;
	for (gsize i = 0; i < offset && i < len; i++) {
		guchar c = (guchar)data[i];
		if (c == '\n') {
			mark->line++;
			mark->column = 0;
		} else if ((c & 0xc0) != 0x80) {
			mark->column++;
		}
	}
}

static void
aiq_yaml_set_parser_error(const yaml_parser_t *parser, const gchar *data, gsize len, GError **error)
{
	const gchar *problem = parser->problem != NULL ? parser->problem : _("unknown error");

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_TOO_LARGE,
				    _("not enough memory to read the document"));
		return;
	case YAML_READER_ERROR: {
		yaml_mark_t mark = { 0 };
		aiq_yaml_locate(data, len, parser->problem_offset, &mark);
		if (parser->problem_value != -1) {
			aiq_yaml_set_error(error,
					   AIQ_ERROR_INVALID_DOCUMENT,
					   &mark,
					   "%s (U+%04X)",
					   problem,
					   (guint)parser->problem_value);
		} else {
			aiq_yaml_set_error(error, AIQ_ERROR_INVALID_DOCUMENT, &mark, "%s", problem);
		}
		return;
	}
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (parser->context == NULL) {
			aiq_yaml_set_error(error,
					   AIQ_ERROR_INVALID_DOCUMENT,
					   &parser->problem_mark,
					   "%s",
					   problem);
		} else if (parser->context_mark.line == parser->problem_mark.line &&
			   parser->context_mark.column == parser->problem_mark.column) {
			aiq_yaml_set_error(error,
					   AIQ_ERROR_INVALID_DOCUMENT,
					   &parser->problem_mark,
					   "%s %s",
					   problem,
					   parser->context);
		} else {
			aiq_yaml_set_error(error,
					   AIQ_ERROR_INVALID_DOCUMENT,
					   &parser->problem_mark,
					   /* TRANSLATORS: libyaml's problem and context, e.g.
					    * “could not find expected ':' while scanning a
					    * simple key (started at line 2, column 1)” */
					   _("%s %s (started at line %lu, column %lu)"),
					   problem,
					   parser->context,
					   (gulong)parser->context_mark.line + 1,
					   (gulong)parser->context_mark.column + 1);
		}
		return;
	case YAML_NO_ERROR:
	case YAML_COMPOSER_ERROR:
	case YAML_WRITER_ERROR:
	case YAML_EMITTER_ERROR:
	default:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_DOCUMENT,
			    _("invalid YAML: %s"),
			    problem);
		return;
	}
}

/**
 * aiq_yaml_parse:
 * @data: YAML text in UTF-8, not necessarily nul-terminated
 * @len: length of @data in bytes
 * @limits: (nullable): bounds, or %NULL for aiq_document_limits_default()
 *
 * Reads one YAML document into a JSON tree. Plain scalars are typed by the
 * YAML 1.2 core schema, quoted and block scalars are strings, and the
 * explicit tags !!str, !!int, !!float, !!bool and !!null are honoured.
 * Mapping keys are strings, as written. Aliases share the anchored node and
 * count against @limits as if they were copies.
 *
 * Returns: (transfer full): the root of an immutable tree, or %NULL with
 * %AIQ_ERROR_INVALID_DOCUMENT or %AIQ_ERROR_TOO_LARGE
 */
JsonNode *
aiq_yaml_parse(const gchar *data, gsize len, const AiqDocumentLimits *limits, GError **error)
{
	g_auto(yaml_parser_t) parser = { 0 };
	g_autoptr(AiqYamlLoader) loader = NULL;

	g_return_val_if_fail(data != NULL || len == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (limits == NULL)
		limits = aiq_document_limits_default();
	if (!aiq_document_check_size(len, limits, error))
		return NULL;
	if (!aiq_document_check_utf8(data, len, error))
		return NULL;

	if (!yaml_parser_initialize(&parser)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("not enough memory to read the document"));
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const guchar *)(data != NULL ? data : ""), len);

	loader = aiq_yaml_loader_new(limits);
	while (TRUE) {
		g_auto(yaml_event_t) event = { 0 };
		if (!yaml_parser_parse(&parser, &event)) {
			aiq_yaml_set_parser_error(&parser, data, len, error);
			return NULL;
		}
		if (!aiq_yaml_loader_handle(loader, &event, error))
			return NULL;
		if (event.type == YAML_STREAM_END_EVENT)
			break;
	}
	g_assert(loader->root != NULL);
	return g_steal_pointer(&loader->root);
}

/* emitter */

typedef struct {
	JsonNode *node;
	guint index;    /* next element of an array */
	GList *members; /* member names of an object */
	GList *member;  /* the next one */
} AiqYamlEmitFrame;

static void
aiq_yaml_emit_frame_clear(gpointer data)
{
	AiqYamlEmitFrame *frame = data;
	g_list_free(frame->members);
}

static int
aiq_yaml_write_cb(void *data, unsigned char *buffer, size_t size)
{
	g_string_append_len(data, (const gchar *)buffer, (gssize)size);
	return 1;
}

static gboolean
aiq_yaml_emit_event(yaml_emitter_t *emitter, yaml_event_t *event, GError **error)
{
	if (!yaml_emitter_emit(emitter, event)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    _("cannot write YAML: %s"),
			    emitter->problem != NULL ? emitter->problem : _("unknown error"));
		return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_yaml_char_is_plain_safe(gunichar c)
{
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
		return FALSE;
	if (c == 0x2028 || c == 0x2029 || c == 0xfeff || c == 0xfffe || c == 0xffff)
		return FALSE;
	return TRUE;
}

/*
 * Whether a YAML 1.1 reader might take @str for a number or a time: it
 * starts like a number and holds nothing but digits, signs, `.`, `:`, `_` and
 * the letters of hex, octal, binary and exponents (1_000, 0b101, 12:30, 1.2.3,
 * 0777), or it starts like a date (2024-01-31…). `10s`, `500ms` and
 * `0 2 * * *` are strings everywhere and stay plain.
 */
static gboolean
aiq_yaml_string_is_yaml11_number(const gchar *str)
{
	const gchar *p = str;
	if (*p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p == '.')
		p++;
	if (!g_ascii_isdigit(*p))
		return FALSE;
	if (g_ascii_isdigit(str[0]) && g_ascii_isdigit(str[1]) && g_ascii_isdigit(str[2]) &&
	    g_ascii_isdigit(str[3]) && str[4] == '-')
		return TRUE;
	return strspn(str, "0123456789abcdefABCDEF_.:+-xXoO") == strlen(str);
}

/**
 * aiq_yaml_string_can_be_plain:
 *
 * Whether @str can be written unquoted and read back as the same string, by
 * this parser and by YAML 1.1 parsers too. Deliberately conservative:
 * anything that a core schema or a YAML 1.1 reader would type (null, booleans
 * including yes/no/on/off, numbers, dates), anything that
 * starts with an indicator or a document marker, has surrounding whitespace,
 * contains ": " or " #", ends with ':' or holds a control character is quoted.
 */
static gboolean
aiq_yaml_string_can_be_plain(const gchar *str)
{
	static const gchar *const yaml11[] = {
		"y",  "Y",  "yes", "Yes", "YES", "n",   "N",  "no", "No", "NO",
		"on", "On", "ON",  "off", "Off", "OFF", "<<", "=",  NULL,
	};
	gsize len = strlen(str);
	gchar last;

	if (len == 0)
		return FALSE;
	if (aiq_yaml_scalar_classify(str, len) != AIQ_YAML_SCALAR_STRING)
		return FALSE;
	if (aiq_yaml_match_any(str, len, yaml11))
		return FALSE;
	/* indicators, and whitespace a reader would strip */
	if (strchr("-?:,[]{}#&*!|>'\"%@` \t", str[0]) != NULL)
		return FALSE;
	if (aiq_yaml_string_is_yaml11_number(str))
		return FALSE;
	if (g_str_has_prefix(str, "...") || g_str_has_prefix(str, "---"))
		return FALSE;
	last = str[len - 1];
	if (last == ' ' || last == '\t' || last == ':')
		return FALSE;
	if (strstr(str, ": ") != NULL || strstr(str, " #") != NULL || strstr(str, ":\t") != NULL ||
	    strstr(str, "\t#") != NULL)
		return FALSE;
	for (const gchar *p = str; *p != '\0'; p = g_utf8_next_char(p)) {
		if (!aiq_yaml_char_is_plain_safe(g_utf8_get_char(p)))
			return FALSE;
	}
	return TRUE;
}

/* a literal block holds line breaks as they are; other breaks and control
 * characters are only safe with escapes */
static gboolean
aiq_yaml_string_can_be_literal(const gchar *str)
{
	if (strchr(str, '\n') == NULL)
		return FALSE;
	for (const gchar *p = str; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c == '\n' || c == '\t')
			continue;
		if (!aiq_yaml_char_is_plain_safe(c))
			return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_yaml_emit_string(yaml_emitter_t *emitter, const gchar *str, GError **error)
{
	yaml_event_t event;
	yaml_scalar_style_t style;
	gsize len = strlen(str);

	if (!g_utf8_validate(str, len, NULL)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("cannot write YAML: a string is not valid UTF-8"));
		return FALSE;
	}
	if (len > G_MAXINT) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_TOO_LARGE,
				    _("cannot write YAML: a string is too long"));
		return FALSE;
	}
	if (aiq_yaml_string_can_be_plain(str))
		style = YAML_PLAIN_SCALAR_STYLE;
	else if (aiq_yaml_string_can_be_literal(str))
		style = YAML_LITERAL_SCALAR_STYLE;
	else
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	/* libyaml may still pick a quoted style where ours is not allowed
	 * (e.g. a literal block as a mapping key); quoted is always a string */
	yaml_scalar_event_initialize(&event,
				     NULL,
				     NULL,
				     (const yaml_char_t *)str,
				     (int)len,
				     1,
				     1,
				     style);
	return aiq_yaml_emit_event(emitter, &event, error);
}

static gboolean
aiq_yaml_emit_plain(yaml_emitter_t *emitter, const gchar *text, GError **error)
{
	yaml_event_t event;
	yaml_scalar_event_initialize(&event,
				     NULL,
				     NULL,
				     (const yaml_char_t *)text,
				     (int)strlen(text),
				     1,
				     0,
				     YAML_PLAIN_SCALAR_STYLE);
	return aiq_yaml_emit_event(emitter, &event, error);
}

/* the shortest text that reads back as the same double, and as a float */
static gboolean
aiq_yaml_format_double(gdouble value, gchar *buf, gsize bufsz, GError **error)
{
	g_autofree gchar *text = NULL;
	if (!isfinite(value)) {
		g_set_error_literal(
			error,
			AIQ_ERROR,
			AIQ_ERROR_INVALID_ARGUMENT,
			_("cannot write YAML: NaN and infinity are not numbers JSON can hold"));
		return FALSE;
	}
	for (gint precision = 15; precision <= 17; precision++) {
		gchar format[8];
		g_snprintf(format, sizeof(format), "%%.%dg", precision);
		g_ascii_formatd(buf, (gint)bufsz, format, value);
		if (g_ascii_strtod(buf, NULL) == value)
			break;
	}
	/* 1 → 1.0 and 1e+300 → 1.0e+300, so that it stays a float */
	if (strchr(buf, '.') == NULL) {
		gchar *e = strchr(buf, 'e');
		if (e != NULL) {
			g_autofree gchar *exponent = g_strdup(e);
			*e = '\0';
			text = g_strconcat(buf, ".0", exponent, NULL);
		} else {
			text = g_strconcat(buf, ".0", NULL);
		}
		g_strlcpy(buf, text, bufsz);
	}
	return TRUE;
}

static gboolean
aiq_yaml_emit_value(yaml_emitter_t *emitter, JsonNode *node, GError **error)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE + 8];

	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING:
		return aiq_yaml_emit_string(emitter, json_node_get_string(node), error);
	case G_TYPE_INT64:
		g_snprintf(buf, sizeof(buf), "%" G_GINT64_FORMAT, json_node_get_int(node));
		return aiq_yaml_emit_plain(emitter, buf, error);
	case G_TYPE_DOUBLE:
		if (!aiq_yaml_format_double(json_node_get_double(node), buf, sizeof(buf), error))
			return FALSE;
		return aiq_yaml_emit_plain(emitter, buf, error);
	case G_TYPE_BOOLEAN:
		return aiq_yaml_emit_plain(emitter,
					   json_node_get_boolean(node) ? "true" : "false",
					   error);
	default:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("cannot write YAML: a value of type %s"),
			    g_type_name(json_node_get_value_type(node)));
		return FALSE;
	}
}

/* emits a scalar, an empty collection, or the start of a collection that is
 * then pushed on @stack */
static gboolean
aiq_yaml_emit_node(yaml_emitter_t *emitter, JsonNode *node, GArray *stack, GError **error)
{
	yaml_event_t event;
	AiqYamlEmitFrame frame = { 0 };

	switch (JSON_NODE_TYPE(node)) {
	case JSON_NODE_NULL:
		return aiq_yaml_emit_plain(emitter, "null", error);
	case JSON_NODE_VALUE:
		return aiq_yaml_emit_value(emitter, node, error);
	case JSON_NODE_OBJECT:
		frame.node = node;
		frame.members = json_object_get_members(json_node_get_object(node));
		frame.member = frame.members;
		yaml_mapping_start_event_initialize(
			&event,
			NULL,
			NULL,
			1,
			frame.members != NULL ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
		g_array_append_val(stack, frame);
		return aiq_yaml_emit_event(emitter, &event, error);
	case JSON_NODE_ARRAY:
		frame.node = node;
		yaml_sequence_start_event_initialize(
			&event,
			NULL,
			NULL,
			1,
			json_array_get_length(json_node_get_array(node)) > 0
				? YAML_BLOCK_SEQUENCE_STYLE
				: YAML_FLOW_SEQUENCE_STYLE);
		g_array_append_val(stack, frame);
		return aiq_yaml_emit_event(emitter, &event, error);
	default:
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("cannot write YAML: unknown node type"));
		return FALSE;
	}
}

/**
 * aiq_yaml_emit:
 * @node: any JSON tree
 *
 * Writes @node as block-style YAML with a 2-space indent, object members in
 * their order and empty objects and arrays as `{}` and `[]`. Strings are
 * plain when that reads back as the same string (see
 * aiq_yaml_string_can_be_plain()), literal blocks when they span lines, and
 * double-quoted otherwise. Doubles always carry a `.` so they stay doubles.
 * aiq_yaml_parse() of the result gives a tree equal to @node.
 *
 * Returns: (transfer full): the YAML text, or %NULL for a tree that YAML
 * cannot carry as JSON (NaN, infinity, invalid UTF-8)
 */
gchar *
aiq_yaml_emit(JsonNode *node, GError **error)
{
	g_auto(yaml_emitter_t) emitter = { 0 };
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GArray) stack = g_array_new(FALSE, TRUE, sizeof(AiqYamlEmitFrame));
	yaml_event_t event;

	g_return_val_if_fail(node != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	g_array_set_clear_func(stack, aiq_yaml_emit_frame_clear);
	if (!yaml_emitter_initialize(&emitter)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("cannot write YAML: not enough memory"));
		return NULL;
	}
	yaml_emitter_set_output(&emitter, aiq_yaml_write_cb, out);
	yaml_emitter_set_encoding(&emitter, YAML_UTF8_ENCODING);
	yaml_emitter_set_unicode(&emitter, 1);
	yaml_emitter_set_indent(&emitter, 2);
	yaml_emitter_set_width(&emitter, -1);
	yaml_emitter_set_break(&emitter, YAML_LN_BREAK);

	yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING);
	if (!aiq_yaml_emit_event(&emitter, &event, error))
		return NULL;
	yaml_document_start_event_initialize(&event, NULL, NULL, NULL, 1);
	if (!aiq_yaml_emit_event(&emitter, &event, error))
		return NULL;
	if (!aiq_yaml_emit_node(&emitter, node, stack, error))
		return NULL;

	/* an explicit stack rather than recursion: the tree may be deep */
	while (stack->len > 0) {
		AiqYamlEmitFrame *frame = &g_array_index(stack, AiqYamlEmitFrame, stack->len - 1);
		JsonNode *child = NULL;

		if (JSON_NODE_HOLDS_ARRAY(frame->node)) {
			JsonArray *array = json_node_get_array(frame->node);
			if (frame->index < json_array_get_length(array)) {
				child = json_array_get_element(array, frame->index++);
			} else {
				g_array_set_size(stack, stack->len - 1);
				yaml_sequence_end_event_initialize(&event);
				if (!aiq_yaml_emit_event(&emitter, &event, error))
					return NULL;
				continue;
			}
		} else {
			const gchar *name;
			if (frame->member == NULL) {
				g_array_set_size(stack, stack->len - 1);
				yaml_mapping_end_event_initialize(&event);
				if (!aiq_yaml_emit_event(&emitter, &event, error))
					return NULL;
				continue;
			}
			name = frame->member->data;
			child = json_object_get_member(json_node_get_object(frame->node), name);
			frame->member = frame->member->next;
			if (!aiq_yaml_emit_string(&emitter, name, error))
				return NULL;
		}
		/* may grow the stack, so @frame is not used after this */
		if (!aiq_yaml_emit_node(&emitter, child, stack, error))
			return NULL;
	}

	yaml_document_end_event_initialize(&event, 1);
	if (!aiq_yaml_emit_event(&emitter, &event, error))
		return NULL;
	yaml_stream_end_event_initialize(&event);
	if (!aiq_yaml_emit_event(&emitter, &event, error))
		return NULL;
	return g_string_free(g_steal_pointer(&out), FALSE);
}
