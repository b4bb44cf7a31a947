/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aiq-error.h"
#include "aiq-problems.h"

struct _AiqProblems {
	gint refcount;
	GArray *items; /* of AiqProblem */
};

G_DEFINE_BOXED_TYPE(AiqProblems, aiq_problems, aiq_problems_ref, aiq_problems_unref)

static void
aiq_problem_clear(gpointer data)
{
	AiqProblem *problem = data;
	g_free(problem->path);
	g_free(problem->message);
}

AiqProblems *
aiq_problems_new(void)
{
	AiqProblems *self = g_new0(AiqProblems, 1);
	self->refcount = 1;
	self->items = g_array_new(FALSE, TRUE, sizeof(AiqProblem));
	g_array_set_clear_func(self->items, aiq_problem_clear);
	return self;
}

AiqProblems *
aiq_problems_ref(AiqProblems *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_int_inc(&self->refcount);
	return self;
}

void
aiq_problems_unref(AiqProblems *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_int_dec_and_test(&self->refcount))
		return;
	g_array_unref(self->items);
	g_free(self);
}

/**
 * aiq_problems_add:
 * @self: a #AiqProblems
 * @path: (nullable): the path of the offending member
 * @format: printf-style message
 *
 * Adds one problem. A problem with the same path and message is not added twice.
 */
void
aiq_problems_add(AiqProblems *self, const gchar *path, const gchar *format, ...)
{
	va_list args;
	AiqProblem problem = { 0 };

	g_return_if_fail(self != NULL);
	g_return_if_fail(format != NULL);

	va_start(args, format);
	problem.message = g_strdup_vprintf(format, args);
	va_end(args);
	problem.path = g_strdup(path != NULL ? path : "");

	for (guint i = 0; i < self->items->len; i++) {
		AiqProblem *other = &g_array_index(self->items, AiqProblem, i);
		if (g_strcmp0(other->path, problem.path) == 0 &&
		    g_strcmp0(other->message, problem.message) == 0) {
			aiq_problem_clear(&problem);
			return;
		}
	}
	g_array_append_val(self->items, problem);
}

void
aiq_problems_add_error(AiqProblems *self, const gchar *path, const GError *error)
{
	g_return_if_fail(error != NULL);
	aiq_problems_add(self, path, "%s", error->message);
}

guint
aiq_problems_get_size(AiqProblems *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->items->len;
}

const AiqProblem *
aiq_problems_index(AiqProblems *self, guint idx)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(idx < self->items->len, NULL);
	return &g_array_index(self->items, AiqProblem, idx);
}

gboolean
aiq_problems_has_path(AiqProblems *self, const gchar *path)
{
	g_return_val_if_fail(self != NULL, FALSE);
	for (guint i = 0; i < self->items->len; i++) {
		if (g_strcmp0(g_array_index(self->items, AiqProblem, i).path, path) == 0)
			return TRUE;
	}
	return FALSE;
}

static gint
aiq_problem_cmp(gconstpointer a, gconstpointer b)
{
	const AiqProblem *pa = a;
	const AiqProblem *pb = b;
	return g_strcmp0(pa->path, pb->path);
}

/**
 * aiq_problems_sort:
 *
 * Sorts by path, keeping the order of problems of one path (stable).
 */
void
aiq_problems_sort(AiqProblems *self)
{
	g_return_if_fail(self != NULL);
	/* g_array_sort is not stable; insertion sort is, and lists are short */
	for (guint i = 1; i < self->items->len; i++) {
		AiqProblem tmp = g_array_index(self->items, AiqProblem, i);
		guint j = i;
		while (j > 0 &&
		       aiq_problem_cmp(&g_array_index(self->items, AiqProblem, j - 1), &tmp) > 0) {
			g_array_index(self->items, AiqProblem, j) =
				g_array_index(self->items, AiqProblem, j - 1);
			j--;
		}
		g_array_index(self->items, AiqProblem, j) = tmp;
	}
}

/**
 * aiq_problems_to_string:
 * @prefix: (nullable): e.g. a file name; each line is `PREFIX:PATH: message`
 *
 * Returns: one line per problem
 */
gchar *
aiq_problems_to_string(AiqProblems *self, const gchar *prefix)
{
	GString *str = g_string_new(NULL);
	g_return_val_if_fail(self != NULL, NULL);
	for (guint i = 0; i < self->items->len; i++) {
		AiqProblem *problem = &g_array_index(self->items, AiqProblem, i);
		if (prefix != NULL)
			g_string_append_printf(str, "%s:", prefix);
		if (problem->path[0] != '\0')
			g_string_append_printf(str, "%s: ", problem->path);
		else if (prefix != NULL)
			g_string_append_c(str, ' ');
		g_string_append(str, problem->message);
		g_string_append_c(str, '\n');
	}
	return g_string_free(str, FALSE);
}

/**
 * aiq_problems_to_json:
 *
 * Returns: an array of `{ "path": …, "message": … }` objects
 */
JsonNode *
aiq_problems_to_json(AiqProblems *self)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_return_val_if_fail(self != NULL, NULL);
	json_builder_begin_array(builder);
	for (guint i = 0; i < self->items->len; i++) {
		AiqProblem *problem = &g_array_index(self->items, AiqProblem, i);
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "path");
		json_builder_add_string_value(builder, problem->path);
		json_builder_set_member_name(builder, "message");
		json_builder_add_string_value(builder, problem->message);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	return json_builder_get_root(builder);
}

/**
 * aiq_problems_to_error:
 *
 * Returns: %TRUE when there are no problems, otherwise sets an
 * %AIQ_ERROR_INVALID_DEFINITION error listing them
 */
gboolean
aiq_problems_to_error(AiqProblems *self, GError **error)
{
	g_autofree gchar *text = NULL;
	g_return_val_if_fail(self != NULL, FALSE);
	if (self->items->len == 0)
		return TRUE;
	text = aiq_problems_to_string(self, NULL);
	g_strchomp(text);
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_INVALID_DEFINITION,
		    /* TRANSLATORS: followed by one problem per line */
		    ngettext("%u problem:\n%s", "%u problems:\n%s", self->items->len),
		    self->items->len,
		    text);
	return FALSE;
}

/**
 * aiq_path_member:
 *
 * Returns: `parent.member`, or `member` at the top; members that are not
 * identifiers are quoted as `parent["a b"]`
 */
gchar *
aiq_path_member(const gchar *parent, const gchar *member)
{
	gboolean ident = member[0] != '\0' && !g_ascii_isdigit(member[0]);
	for (const gchar *p = member; *p != '\0' && ident; p++) {
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
			ident = FALSE;
	}
	if (!ident) {
		g_autofree gchar *escaped = g_strescape(member, NULL);
		return g_strdup_printf("%s[\"%s\"]", parent != NULL ? parent : "", escaped);
	}
	if (parent == NULL || parent[0] == '\0')
		return g_strdup(member);
	return g_strdup_printf("%s.%s", parent, member);
}

gchar *
aiq_path_index(const gchar *parent, guint idx)
{
	return g_strdup_printf("%s[%u]", parent != NULL ? parent : "", idx);
}
