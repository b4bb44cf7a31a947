/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The designer's workflow document: the one tree the canvas, the forms and
 * the YAML view edit, with undo.
 */

#include "config.h"

#include "aiq-designer-document.h"
#include "aiq-error.h"

static const gchar *three_steps =
	"name: t\n"
	"steps:\n"
	"  - { id: a, uses: transform, with: { value: one } }\n"
	"  - { id: b, uses: transform, with: { value: \"${{ steps.a.output }}\" } }\n"
	"  - { id: c, uses: transform, needs: [a], with: { value: three } }\n";

static gchar *
needs_to_string(AiqDesignerDocument *doc, const gchar *id)
{
	g_auto(GStrv) needs = aiq_designer_document_dup_needs(doc, id);
	return g_strjoinv(",", needs);
}

static void
count_changes_cb(AiqDesignerDocument *doc, guint change, gpointer user_data)
{
	guint *count = user_data;
	(*count)++;
}

static void
test_document_needs(void)
{
	g_autoptr(AiqDesignerDocument) doc = aiq_designer_document_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *a = NULL, *b = NULL, *c = NULL;

	g_assert_true(aiq_designer_document_load_data(doc, three_steps, -1, &error));
	g_assert_no_error(error);
	g_assert_false(aiq_designer_document_get_modified(doc));
	g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 3);
	a = needs_to_string(doc, "a");
	b = needs_to_string(doc, "b");
	c = needs_to_string(doc, "c");
	/* implicit: b follows a; explicit: c needs a */
	g_assert_cmpstr(a, ==, "");
	g_assert_cmpstr(b, ==, "a");
	g_assert_cmpstr(c, ==, "a");

	/* c → b: c keeps a and gains b */
	g_assert_true(aiq_designer_document_add_dependency(doc, "b", "c", &error));
	g_assert_no_error(error);
	g_free(c);
	c = needs_to_string(doc, "c");
	g_assert_cmpstr(c, ==, "a,b");
	/* a → c would be a cycle */
	g_assert_false(aiq_designer_document_add_dependency(doc, "c", "a", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	/* removing the implicit one makes needs explicit and empty */
	aiq_designer_document_remove_dependency(doc, "a", "b");
	g_free(b);
	b = needs_to_string(doc, "b");
	g_assert_cmpstr(b, ==, "");
	g_assert_true(aiq_designer_document_get_modified(doc));
}

static void
test_document_undo(void)
{
	g_autoptr(AiqDesignerDocument) doc = aiq_designer_document_new_empty("w");
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id1 = NULL, *id2 = NULL;
	guint changes = 0;
	gdouble x = 0, y = 0;

	g_signal_connect(doc, "changed", G_CALLBACK(count_changes_cb), &changes);
	id1 = aiq_designer_document_add_step(doc, "http", 10, 20);
	id2 = aiq_designer_document_add_step(doc, "http", 300, 20);
	g_assert_cmpstr(id1, ==, "http_1");
	g_assert_cmpstr(id2, ==, "http_2");
	/* one add is one change and one undo, position included */
	g_assert_cmpuint(changes, ==, 2);
	g_assert_true(aiq_designer_document_get_position(doc, id1, &x, &y));
	g_assert_cmpfloat(x, ==, 10);

	/* a drag: many moves, one undo */
	aiq_designer_document_begin_group(doc);
	for (guint i = 1; i <= 10; i++)
		aiq_designer_document_set_position(doc, id1, 10 + i * 5, 20);
	aiq_designer_document_end_group(doc);
	g_assert_cmpuint(changes, ==, 3);
	g_assert_true(aiq_designer_document_get_position(doc, id1, &x, NULL));
	g_assert_cmpfloat(x, ==, 60);
	g_assert_true(aiq_designer_document_undo(doc));
	g_assert_true(aiq_designer_document_get_position(doc, id1, &x, NULL));
	g_assert_cmpfloat(x, ==, 10);
	g_assert_true(aiq_designer_document_redo(doc));
	g_assert_true(aiq_designer_document_get_position(doc, id1, &x, NULL));
	g_assert_cmpfloat(x, ==, 60);

	/* undo twice: no http_2, then no http_1 */
	g_assert_true(aiq_designer_document_undo(doc));
	g_assert_true(aiq_designer_document_undo(doc));
	g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 1);
	g_assert_true(aiq_designer_document_undo(doc));
	g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 0);
	g_assert_false(aiq_designer_document_undo(doc));
	g_assert_true(aiq_designer_document_can_redo(doc));
	/* a new edit forgets the redo */
	g_free(id1);
	id1 = aiq_designer_document_add_step(doc, "shell", 0, 0);
	g_assert_false(aiq_designer_document_can_redo(doc));
	g_assert_no_error(error);
}

static void
test_document_rename_remove(void)
{
	g_autoptr(AiqDesignerDocument) doc = aiq_designer_document_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *yaml = NULL;
	g_autofree gchar *c = NULL;
	JsonObject *b;
	const gchar *remove[] = { "fetch", NULL };

	g_assert_true(aiq_designer_document_load_data(doc, three_steps, -1, &error));
	aiq_designer_document_auto_layout(doc, TRUE);
	g_assert_true(aiq_designer_document_rename_step(doc, "a", "fetch", &error));
	g_assert_no_error(error);
	b = aiq_designer_document_find_step(doc, "b", NULL);
	g_assert_cmpstr(
		json_object_get_string_member(json_object_get_object_member(b, "with"), "value"),
		==,
		"${{ steps.fetch.output }}");
	c = needs_to_string(doc, "c");
	g_assert_cmpstr(c, ==, "fetch");
	g_assert_true(aiq_designer_document_get_position(doc, "fetch", NULL, NULL));
	g_assert_false(aiq_designer_document_rename_step(doc, "b", "c", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONFLICT);
	g_clear_error(&error);
	g_assert_false(aiq_designer_document_rename_step(doc, "b", "9x", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	aiq_designer_document_remove_steps(doc, remove);
	g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 2);
	g_free(c);
	c = needs_to_string(doc, "c");
	g_assert_cmpstr(c, ==, "");
	g_assert_false(aiq_designer_document_get_position(doc, "fetch", NULL, NULL));

	/* the YAML round trip and a bad edit that changes nothing */
	yaml = aiq_designer_document_to_yaml(doc, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(yaml, "id: b"));
	g_assert_false(aiq_designer_document_set_yaml(doc, "name: [unclosed", &error));
	g_assert_nonnull(error);
	g_clear_error(&error);
	g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 2);
	g_assert_false(aiq_designer_document_set_yaml(doc, "- a list", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_DEFINITION);
	g_clear_error(&error);
	g_assert_true(aiq_designer_document_set_yaml(doc, "name: x\nsteps: []\n", &error));
	g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 0);
	g_assert_true(aiq_designer_document_undo(doc));
	g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 2);
}

static void
test_document_layout_validate(void)
{
	g_autoptr(AiqDesignerDocument) doc = aiq_designer_document_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqProblems) problems = NULL;
	gdouble xa, xb, xc, yb, yc;

	g_assert_true(aiq_designer_document_load_data(doc, three_steps, -1, &error));
	aiq_designer_document_auto_layout(doc, FALSE);
	g_assert_true(aiq_designer_document_get_position(doc, "a", &xa, NULL));
	g_assert_true(aiq_designer_document_get_position(doc, "b", &xb, &yb));
	g_assert_true(aiq_designer_document_get_position(doc, "c", &xc, &yc));
	/* b and c both wait for a only: one column, two rows, right of a */
	g_assert_cmpfloat(xb, >, xa);
	g_assert_cmpfloat(xb, ==, xc);
	g_assert_cmpfloat(yb, !=, yc);

	problems = aiq_designer_document_validate(doc);
	g_assert_cmpuint(aiq_problems_get_size(problems), ==, 0);
	g_clear_pointer(&problems, aiq_problems_unref);
	aiq_designer_document_set_step_member(doc,
					      "b",
					      "uses",
					      json_node_init_string(json_node_alloc(), "nope"));
	problems = aiq_designer_document_validate(doc);
	g_assert_cmpuint(aiq_problems_get_size(problems), >, 0);
	g_assert_true(aiq_problems_has_path(problems, "steps[1].uses"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/designer/document/needs", test_document_needs);
	g_test_add_func("/aiq/designer/document/undo", test_document_undo);
	g_test_add_func("/aiq/designer/document/rename-remove", test_document_rename_remove);
	g_test_add_func("/aiq/designer/document/layout-validate", test_document_layout_validate);
	return g_test_run();
}
