/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
	AIQ_DOCUMENT_FORMAT_AUTO,
	AIQ_DOCUMENT_FORMAT_JSON,
	AIQ_DOCUMENT_FORMAT_YAML,
} AiqDocumentFormat;

/**
 * AiqDocumentLimits:
 * @max_size: bytes of text accepted at all (checked before any parser runs);
 *   also the most text that YAML aliases may expand the scalars to
 * @max_depth: deepest nesting of mappings/sequences
 * @max_nodes: most nodes in the tree, counting alias expansions
 * @max_scalar: longest single scalar in bytes
 */
typedef struct {
	gsize max_size;
	guint max_depth;
	guint max_nodes;
	gsize max_scalar;
} AiqDocumentLimits;

#define AIQ_DOCUMENT_DEFAULT_MAX_SIZE (4 * 1024 * 1024)
#define AIQ_DOCUMENT_DEFAULT_MAX_DEPTH 64
#define AIQ_DOCUMENT_DEFAULT_MAX_NODES 200000
#define AIQ_DOCUMENT_DEFAULT_MAX_SCALAR (1024 * 1024)

const AiqDocumentLimits *
aiq_document_limits_default(void);
AiqDocumentFormat
aiq_document_format_from_filename(const gchar *filename);
AiqDocumentFormat
aiq_document_format_guess(const gchar *data, gsize len);
JsonNode *
aiq_document_parse(const gchar *data,
		   gsize len,
		   AiqDocumentFormat format,
		   const AiqDocumentLimits *limits,
		   GError **error);
JsonNode *
aiq_document_load_file(const gchar *filename,
		       AiqDocumentFormat format,
		       const AiqDocumentLimits *limits,
		       GError **error);

/* the checks aiq_document_parse() makes, for text or trees from elsewhere */
gboolean
aiq_document_check_size(gsize len, const AiqDocumentLimits *limits, GError **error);
gboolean
aiq_document_check_utf8(const gchar *data, gsize len, GError **error);
gboolean
aiq_document_check_tree(JsonNode *node, const AiqDocumentLimits *limits, GError **error);
gchar *
aiq_document_size_to_string(guint64 bytes);

/* YAML <-> the JSON tree; both are implemented in aiq-yaml.c with libyaml */
JsonNode *
aiq_yaml_parse(const gchar *data, gsize len, const AiqDocumentLimits *limits, GError **error);
gchar *
aiq_yaml_emit(JsonNode *node, GError **error);

G_END_DECLS
