/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * AiqProblem:
 * @path: where the problem is, e.g. `steps[1].with.url` (empty for the document)
 * @message: what is wrong, in words a user understands
 */
typedef struct {
	gchar *path;
	gchar *message;
} AiqProblem;

/**
 * AiqProblems:
 *
 * An ordered list of validation problems. Validation collects every problem
 * at once instead of stopping at the first.
 */
typedef struct _AiqProblems AiqProblems;

#define AIQ_TYPE_PROBLEMS (aiq_problems_get_type())
GType
aiq_problems_get_type(void);

AiqProblems *
aiq_problems_new(void);
AiqProblems *
aiq_problems_ref(AiqProblems *self);
void
aiq_problems_unref(AiqProblems *self);
void
aiq_problems_add(AiqProblems *self, const gchar *path, const gchar *format, ...)
	G_GNUC_PRINTF(3, 4);
void
aiq_problems_add_error(AiqProblems *self, const gchar *path, const GError *error);
guint
aiq_problems_get_size(AiqProblems *self);
const AiqProblem *
aiq_problems_index(AiqProblems *self, guint idx);
gboolean
aiq_problems_has_path(AiqProblems *self, const gchar *path);
void
aiq_problems_sort(AiqProblems *self);
gchar *
aiq_problems_to_string(AiqProblems *self, const gchar *prefix);
JsonNode *
aiq_problems_to_json(AiqProblems *self);
gboolean
aiq_problems_to_error(AiqProblems *self, GError **error);

gchar *
aiq_path_member(const gchar *parent, const gchar *member);
gchar *
aiq_path_index(const gchar *parent, guint idx);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqProblems, aiq_problems_unref)

G_END_DECLS
