/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The workflows page and the editor against the in-process server: the
 * list, a new workflow built from the palette, the YAML view both ways,
 * saving versions, the versions dialog and a rollback, the problems list
 * and undo/redo.
 */

#include "config.h"

#include <adwaita.h>

#include "aiq-designer-editor.h"
#include "aiq-designer-session.h"
#include "aiq-designer-test.h"
#include "aiq-designer-versions-dialog.h"
#include "aiq-designer-workflows-page.h"
#include "aiq-test-server.h"

#define EDITOR_PASSWORD "editor-password-1234"

typedef struct {
	AiqTestServer *ts;
	gchar *editor_token;
	GSettings *settings;
	AiqDesignerSession *session;
	GtkWindow *window;
	AiqDesignerWorkflowsPage *page;
	AiqDesignerEditor *editor;
	gchar *api_workflow_id;
	gchar *workflow_id;
	gchar *ids[3];
} Fixture;

static Fixture fixture;

static JsonObject *
server_get(const gchar *path)
{
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(fixture.ts, "GET", path, fixture.editor_token, NULL, NULL, 0);
	aiq_test_assert_status(resp, 200);
	return json_object_ref(aiq_test_response_object(resp));
}

/* clicks the response button of a message dialog, as a user would */
static void
respond(AdwMessageDialog *dialog, const gchar *label)
{
	GtkWidget *button = aiq_designer_test_find_button(GTK_WIDGET(dialog), label);
	g_assert_nonnull(button);
	g_object_add_weak_pointer(G_OBJECT(dialog), (gpointer *)&dialog);
	g_signal_emit_by_name(button, "clicked");
	AIQ_DESIGNER_WAIT(dialog == NULL || !gtk_widget_get_mapped(GTK_WIDGET(dialog)), 5000);
	if (dialog != NULL)
		g_object_remove_weak_pointer(G_OBJECT(dialog), (gpointer *)&dialog);
}

static gchar *
source_text(void)
{
	return aiq_designer_source_view_dup_text(
		aiq_designer_editor_get_source_view(fixture.editor));
}

static gboolean
source_contains(const gchar *needle)
{
	g_autofree gchar *text = source_text();
	return strstr(text, needle) != NULL;
}

static gboolean
selection_is(const gchar *id)
{
	g_auto(GStrv) selection =
		aiq_designer_canvas_dup_selection(aiq_designer_editor_get_canvas(fixture.editor));
	return selection != NULL && g_strv_length(selection) == 1 &&
	       g_strcmp0(selection[0], id) == 0;
}

static void
save_and_wait(gint version)
{
	AiqDesignerDocument *document = aiq_designer_editor_get_document(fixture.editor);
	GtkWidget *save =
		aiq_designer_test_find_by_action(GTK_WIDGET(fixture.editor), "editor.save");
	g_assert_nonnull(save);
	AIQ_DESIGNER_WAIT(gtk_widget_is_sensitive(save), 5000);
	g_signal_emit_by_name(save, "clicked");
	AIQ_DESIGNER_WAIT(aiq_designer_editor_get_version(fixture.editor) == version &&
				  !aiq_designer_document_get_modified(document),
			  20000);
	g_assert_nonnull(aiq_designer_editor_get_workflow_id(fixture.editor));
	g_assert_false(gtk_widget_is_sensitive(save));
}

static void
test_workflows_list(void)
{
	g_autoptr(AiqTestResponse) resp = NULL;
	GtkListBoxRow *row;

	resp = aiq_test_request_json(fixture.ts,
				     "POST",
				     "/api/v1/workflows",
				     fixture.editor_token,
				     "{\"name\":\"from-api\",\"steps\":[{\"id\":\"only\","
				     "\"uses\":\"transform\",\"with\":{\"value\":1}}]}");
	aiq_test_assert_status(resp, 201);
	fixture.api_workflow_id =
		g_strdup(json_object_get_string_member(aiq_test_response_object(resp), "id"));

	aiq_designer_workflows_page_reload(fixture.page);
	AIQ_DESIGNER_WAIT(
		aiq_designer_workflows_page_get_row(fixture.page, fixture.api_workflow_id) != NULL,
		20000);
	g_assert_cmpuint(aiq_designer_workflows_page_get_n_workflows(fixture.page), ==, 1);
	row = aiq_designer_workflows_page_get_row(fixture.page, fixture.api_workflow_id);
	g_assert_cmpstr(adw_preferences_row_get_title(ADW_PREFERENCES_ROW(row)), ==, "from-api");
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "workflows-list");

	/* the enabled switch disables it on the server */
	{
		GtkWidget *sw =
			aiq_designer_test_find_widget(GTK_WIDGET(row), GTK_TYPE_SWITCH, NULL);
		g_autofree gchar *path =
			g_strdup_printf("/api/v1/workflows/%s", fixture.api_workflow_id);
		gboolean enabled;
		g_assert_nonnull(sw);
		enabled = gtk_switch_get_active(GTK_SWITCH(sw));
		gtk_switch_set_active(GTK_SWITCH(sw), !enabled);
		AIQ_DESIGNER_WAIT(gtk_switch_get_state(GTK_SWITCH(sw)) == !enabled, 20000);
		{
			g_autoptr(JsonObject) obj = server_get(path);
			g_assert_cmpint(json_object_get_boolean_member(obj, "enabled"),
					==,
					!enabled);
		}
	}

	/* opening it shows its definition in the editor */
	gtk_widget_activate(GTK_WIDGET(row));
	AIQ_DESIGNER_WAIT(aiq_designer_workflows_page_get_editing(fixture.page) &&
				  !aiq_designer_editor_get_loading(fixture.editor) &&
				  aiq_designer_document_get_n_steps(
					  aiq_designer_editor_get_document(fixture.editor)) == 1,
			  20000);
	g_assert_cmpstr(
		aiq_designer_document_get_name(aiq_designer_editor_get_document(fixture.editor)),
		==,
		"from-api");
	g_assert_cmpint(aiq_designer_editor_get_version(fixture.editor), ==, 1);
	gtk_widget_activate_action(GTK_WIDGET(fixture.editor), "editor.back", NULL);
	AIQ_DESIGNER_WAIT(!aiq_designer_workflows_page_get_editing(fixture.page), 5000);
}

static void
test_new_workflow(void)
{
	AdwMessageDialog *dialog;
	AiqDesignerDocument *document;
	AiqDesignerPalette *palette;
	const gchar *kinds[] = { "transform", "delay", "transform" };
	g_autoptr(JsonNode) one = json_node_new(JSON_NODE_VALUE);
	g_autoptr(JsonNode) second = json_node_new(JSON_NODE_VALUE);
	g_autoptr(JsonNode) text = json_node_new(JSON_NODE_VALUE);

	gtk_widget_activate_action(GTK_WIDGET(fixture.page), "workflows.new", NULL);
	AIQ_DESIGNER_WAIT((dialog = ADW_MESSAGE_DIALOG(aiq_designer_test_find_toplevel(
				   ADW_TYPE_MESSAGE_DIALOG))) != NULL,
			  5000);
	gtk_editable_set_text(GTK_EDITABLE(adw_message_dialog_get_extra_child(dialog)), "t 3");
	g_assert_false(adw_message_dialog_get_response_enabled(dialog, "create"));
	gtk_editable_set_text(GTK_EDITABLE(adw_message_dialog_get_extra_child(dialog)), "t3");
	g_assert_true(adw_message_dialog_get_response_enabled(dialog, "create"));
	respond(dialog, "Create");
	AIQ_DESIGNER_WAIT(aiq_designer_workflows_page_get_editing(fixture.page), 5000);

	document = aiq_designer_editor_get_document(fixture.editor);
	g_assert_cmpstr(aiq_designer_document_get_name(document), ==, "t3");
	g_assert_null(aiq_designer_editor_get_workflow_id(fixture.editor));

	/* three steps from the palette */
	palette = aiq_designer_editor_get_palette(fixture.editor);
	for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
		GtkListBoxRow *row = aiq_designer_palette_get_row(palette, kinds[i]);
		JsonObject *step;
		g_assert_nonnull(row);
		gtk_widget_activate(GTK_WIDGET(row));
		g_assert_cmpuint(aiq_designer_document_get_n_steps(document), ==, i + 1);
		step = aiq_designer_document_get_step(document, i);
		g_assert_cmpstr(json_object_get_string_member(step, "uses"), ==, kinds[i]);
		fixture.ids[i] = g_strdup(json_object_get_string_member(step, "id"));
		/* the new step is selected and its form shown */
		g_assert_true(selection_is(fixture.ids[i]));
	}
	json_node_set_int(one, 1);
	json_node_set_string(second, "1s");
	json_node_set_string(text, "done");
	aiq_designer_document_set_step_param(document, fixture.ids[0], "value", one);
	aiq_designer_document_set_step_param(document, fixture.ids[1], "duration", second);
	aiq_designer_document_set_step_param(document, fixture.ids[2], "value", text);
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "editor-canvas");

	/* the YAML view has them */
	aiq_designer_editor_show_source(fixture.editor, TRUE);
	AIQ_DESIGNER_WAIT(source_contains(fixture.ids[0]) && source_contains(fixture.ids[1]) &&
				  source_contains(fixture.ids[2]) && source_contains("done"),
			  5000);
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "editor-yaml");
}

static void
test_yaml_edit(void)
{
	AiqDesignerDocument *document = aiq_designer_editor_get_document(fixture.editor);
	AiqDesignerSourceView *view = aiq_designer_editor_get_source_view(fixture.editor);
	GtkTextBuffer *buffer = GTK_TEXT_BUFFER(aiq_designer_source_view_get_buffer(view));
	g_autofree gchar *text = source_text();
	g_autofree gchar *old_line = g_strdup_printf("id: %s\n", fixture.ids[2]);
	g_auto(GStrv) parts = NULL;
	g_autofree gchar *edited = NULL;

	/* a parse error leaves the document alone */
	gtk_text_buffer_set_text(buffer, "name: [unclosed\n", -1);
	AIQ_DESIGNER_WAIT(aiq_designer_source_view_get_error(view) != NULL, 5000);
	g_assert_cmpuint(aiq_designer_document_get_n_steps(document), ==, 3);

	/* renaming the last step in the text (its id and its position) renames
	 * it in the document */
	g_assert_nonnull(strstr(text, old_line));
	parts = g_strsplit(text, fixture.ids[2], -1);
	g_assert_cmpuint(g_strv_length(parts), ==, 3);
	edited = g_strjoinv("finish", parts);
	gtk_text_buffer_set_text(buffer, edited, -1);
	AIQ_DESIGNER_WAIT(aiq_designer_document_find_step(document, "finish", NULL) != NULL, 5000);
	g_assert_null(aiq_designer_source_view_get_error(view));
	g_assert_null(aiq_designer_document_find_step(document, fixture.ids[2], NULL));
	g_free(fixture.ids[2]);
	fixture.ids[2] = g_strdup("finish");

	/* undo through the document reaches the text too */
	g_assert_true(aiq_designer_document_can_undo(document));
	g_assert_true(gtk_widget_activate_action(GTK_WIDGET(fixture.editor), "editor.undo", NULL));
	AIQ_DESIGNER_WAIT(source_contains(old_line), 5000);
	gtk_widget_activate_action(GTK_WIDGET(fixture.editor), "editor.redo", NULL);
	AIQ_DESIGNER_WAIT(source_contains("id: finish\n"), 5000);
	g_assert_nonnull(aiq_designer_document_find_step(document, "finish", NULL));
	aiq_designer_editor_show_source(fixture.editor, FALSE);
}

static void
test_save_versions(void)
{
	AiqDesignerDocument *document = aiq_designer_editor_get_document(fixture.editor);
	g_autofree gchar *path = NULL;
	g_autoptr(JsonObject) v1 = NULL;
	g_autoptr(JsonNode) value = json_node_new(JSON_NODE_VALUE);
	JsonArray *steps;

	save_and_wait(1);
	fixture.workflow_id = g_strdup(aiq_designer_editor_get_workflow_id(fixture.editor));
	path = g_strdup_printf("/api/v1/workflows/%s", fixture.workflow_id);
	v1 = server_get(path);
	g_assert_cmpint(json_object_get_int_member(v1, "version"), ==, 1);
	steps = json_object_get_array_member(json_object_get_object_member(v1, "definition"),
					     "steps");
	g_assert_cmpuint(json_array_get_length(steps), ==, 3);
	g_assert_cmpstr(
		json_object_get_string_member(json_array_get_object_element(steps, 2), "id"),
		==,
		"finish");

	/* a second version */
	json_node_set_int(value, 2);
	aiq_designer_document_set_step_param(document, fixture.ids[0], "value", value);
	g_assert_true(aiq_designer_document_get_modified(document));
	save_and_wait(2);
	{
		g_autoptr(JsonObject) v2 = server_get(path);
		g_assert_cmpint(json_object_get_int_member(v2, "version"), ==, 2);
	}
}

static void
test_versions_rollback(void)
{
	AiqDesignerVersionsDialog *dialog;
	AdwMessageDialog *confirm;
	g_autofree gchar *v1_path =
		g_strdup_printf("/api/v1/workflows/%s/versions/1", fixture.workflow_id);
	g_autofree gchar *v3_path =
		g_strdup_printf("/api/v1/workflows/%s/versions/3", fixture.workflow_id);
	g_autoptr(JsonObject) v1 = NULL;
	g_autoptr(JsonObject) v3 = NULL;
	g_autofree gchar *diff = NULL;

	gtk_widget_activate_action(GTK_WIDGET(fixture.editor), "editor.versions", NULL);
	AIQ_DESIGNER_WAIT((dialog = AIQ_DESIGNER_VERSIONS_DIALOG(aiq_designer_test_find_toplevel(
				   AIQ_DESIGNER_TYPE_VERSIONS_DIALOG))) != NULL,
			  5000);
	AIQ_DESIGNER_WAIT(aiq_designer_versions_dialog_get_n_versions(dialog) == 2, 20000);
	g_assert_true(aiq_designer_versions_dialog_select_version(dialog, 1));
	AIQ_DESIGNER_WAIT((g_free(diff),
			   diff = aiq_designer_versions_dialog_dup_diff(dialog),
			   strstr(diff, "@@") != NULL),
			  20000);
	g_assert_nonnull(strstr(diff, "value"));
	aiq_designer_test_screenshot(GTK_WIDGET(dialog), "versions-dialog");

	gtk_widget_activate_action(GTK_WIDGET(dialog), "versions.restore", NULL);
	AIQ_DESIGNER_WAIT((confirm = ADW_MESSAGE_DIALOG(aiq_designer_test_find_toplevel(
				   ADW_TYPE_MESSAGE_DIALOG))) != NULL,
			  5000);
	g_assert_true(gtk_window_get_transient_for(GTK_WINDOW(confirm)) == GTK_WINDOW(dialog));
	respond(confirm, "Restore");
	AIQ_DESIGNER_WAIT(aiq_designer_editor_get_version(fixture.editor) == 3 &&
				  !aiq_designer_editor_get_loading(fixture.editor),
			  20000);
	AIQ_DESIGNER_WAIT(aiq_designer_test_find_toplevel(AIQ_DESIGNER_TYPE_VERSIONS_DIALOG) ==
				  NULL,
			  5000);

	v1 = server_get(v1_path);
	v3 = server_get(v3_path);
	g_assert_true(json_node_equal(json_object_get_member(v1, "definition"),
				      json_object_get_member(v3, "definition")));
	/* the editor shows version 3, equal to version 1 */
	{
		JsonObject *step = aiq_designer_document_find_step(
			aiq_designer_editor_get_document(fixture.editor),
			fixture.ids[0],
			NULL);
		g_assert_nonnull(step);
		g_assert_cmpint(
			json_object_get_int_member(json_object_get_object_member(step, "with"),
						   "value"),
			==,
			1);
	}
}

static void
test_problems_undo(void)
{
	AiqDesignerDocument *document = aiq_designer_editor_get_document(fixture.editor);
	AiqDesignerProblemsList *problems = aiq_designer_editor_get_problems_list(fixture.editor);
	GtkWidget *undo =
		aiq_designer_test_find_by_action(GTK_WIDGET(fixture.editor), "editor.undo");
	GtkWidget *redo =
		aiq_designer_test_find_by_action(GTK_WIDGET(fixture.editor), "editor.redo");
	GtkListBoxRow *row;
	JsonObject *step;

	AIQ_DESIGNER_WAIT(aiq_designer_problems_list_get_n_problems(problems) == 0, 5000);
	g_assert_false(gtk_widget_is_sensitive(undo));

	/* the first step's required value, cleared */
	aiq_designer_document_set_step_param(document, fixture.ids[0], "value", NULL);
	AIQ_DESIGNER_WAIT(aiq_designer_problems_list_get_n_problems(problems) > 0, 5000);
	row = aiq_designer_problems_list_get_row(problems, 0);
	g_assert_nonnull(row);
	gtk_widget_activate_action(GTK_WIDGET(fixture.editor), "editor.toggle-source", NULL);
	/* the Problems button reveals the list */
	{
		GtkWidget *revealer =
			gtk_widget_get_ancestor(GTK_WIDGET(problems), GTK_TYPE_REVEALER);
		GtkWidget *toggle = aiq_designer_test_find_widget(GTK_WIDGET(fixture.editor),
								  GTK_TYPE_TOGGLE_BUTTON,
								  "problems-button");
		g_assert_nonnull(toggle);
		g_assert_false(gtk_revealer_get_reveal_child(GTK_REVEALER(revealer)));
		g_signal_emit_by_name(toggle, "clicked");
		g_assert_true(gtk_revealer_get_reveal_child(GTK_REVEALER(revealer)));
	}
	gtk_widget_activate(GTK_WIDGET(row));
	g_assert_true(selection_is(fixture.ids[0]));
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "editor-problems");

	/* undo and redo, with the buttons */
	AIQ_DESIGNER_WAIT(gtk_widget_is_sensitive(undo), 5000);
	g_signal_emit_by_name(undo, "clicked");
	step = aiq_designer_document_find_step(document, fixture.ids[0], NULL);
	g_assert_true(json_object_has_member(json_object_get_object_member(step, "with"), "value"));
	AIQ_DESIGNER_WAIT(aiq_designer_problems_list_get_n_problems(problems) == 0, 5000);
	AIQ_DESIGNER_WAIT(gtk_widget_is_sensitive(redo), 5000);
	g_signal_emit_by_name(redo, "clicked");
	step = aiq_designer_document_find_step(document, fixture.ids[0], NULL);
	g_assert_false(
		json_object_has_member(json_object_get_object_member(step, "with"), "value"));
	AIQ_DESIGNER_WAIT(aiq_designer_problems_list_get_n_problems(problems) > 0, 5000);

	/* leaving with unsaved changes asks first */
	gtk_widget_activate_action(GTK_WIDGET(fixture.editor), "editor.back", NULL);
	{
		AdwMessageDialog *confirm;
		AIQ_DESIGNER_WAIT((confirm = ADW_MESSAGE_DIALOG(aiq_designer_test_find_toplevel(
					   ADW_TYPE_MESSAGE_DIALOG))) != NULL,
				  5000);
		g_assert_true(aiq_designer_workflows_page_get_editing(fixture.page));
		respond(confirm, "Discard");
	}
	AIQ_DESIGNER_WAIT(!aiq_designer_workflows_page_get_editing(fixture.page), 5000);
	AIQ_DESIGNER_WAIT(aiq_designer_workflows_page_get_n_workflows(fixture.page) == 2, 20000);
}

static void
fixture_login(void)
{
	g_autofree gchar *ca = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	GtkWidget *overlay = adw_toast_overlay_new();

	g_setenv("AIQ_DESIGNER_CA_FILE", ca, TRUE);
	fixture.ts = aiq_test_server_new(NULL);
	fixture.editor_token = aiq_test_server_add_user(fixture.ts,
							fixture.ts->tenant_id,
							"designer-ed",
							"editor",
							EDITOR_PASSWORD);
	fixture.settings = g_settings_new("io.automateiq.Designer");
	fixture.session = aiq_designer_session_new(fixture.settings);
	aiq_designer_session_login_async(fixture.session,
					 fixture.ts->url,
					 "acme",
					 "designer-ed",
					 EDITOR_PASSWORD,
					 NULL,
					 NULL,
					 NULL);
	AIQ_DESIGNER_WAIT(aiq_designer_session_get_logged_in(fixture.session), 20000);
	g_assert_true(aiq_designer_session_has_role(fixture.session, "editor"));

	fixture.window = GTK_WINDOW(adw_window_new());
	gtk_window_set_default_size(fixture.window, 1280, 820);
	fixture.page =
		AIQ_DESIGNER_WORKFLOWS_PAGE(aiq_designer_workflows_page_new(fixture.session));
	fixture.editor = aiq_designer_workflows_page_get_editor(fixture.page);
	adw_toast_overlay_set_child(ADW_TOAST_OVERLAY(overlay), GTK_WIDGET(fixture.page));
	adw_window_set_content(ADW_WINDOW(fixture.window), overlay);
	gtk_window_present(fixture.window);
	AIQ_DESIGNER_WAIT(gtk_widget_get_mapped(GTK_WIDGET(fixture.window)), 10000);
}

int
main(int argc, char **argv)
{
	gint rc;

	aiq_designer_test_init(&argc, &argv);
	fixture_login();

	g_test_add_func("/aiq/designer/editor/workflows-list", test_workflows_list);
	g_test_add_func("/aiq/designer/editor/new-workflow", test_new_workflow);
	g_test_add_func("/aiq/designer/editor/yaml-edit", test_yaml_edit);
	g_test_add_func("/aiq/designer/editor/save-versions", test_save_versions);
	g_test_add_func("/aiq/designer/editor/versions-rollback", test_versions_rollback);
	g_test_add_func("/aiq/designer/editor/problems-undo", test_problems_undo);
	rc = g_test_run();

	gtk_window_destroy(fixture.window);
	g_clear_object(&fixture.session);
	g_clear_object(&fixture.settings);
	for (guint i = 0; i < G_N_ELEMENTS(fixture.ids); i++)
		g_free(fixture.ids[i]);
	g_free(fixture.workflow_id);
	g_free(fixture.api_workflow_id);
	g_free(fixture.editor_token);
	aiq_test_server_free(fixture.ts);
	return rc;
}
