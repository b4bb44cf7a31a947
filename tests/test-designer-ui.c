/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The designer end to end: the real application window under Xvfb, a real
 * automateiq-server process and a real automateiq-agent process on
 * loopback, the token in a real Secret Service (gnome-keyring on the
 * test's private session bus, see designer-session.sh).
 */

#include "config.h"

#include <adwaita.h>
#include <libsecret/secret.h>

#include "aiq-designer-application.h"
#include "aiq-designer-canvas.h"
#include "aiq-designer-editor.h"
#include "aiq-designer-execution-view.h"
#include "aiq-designer-executions-page.h"
#include "aiq-designer-login-view.h"
#include "aiq-designer-palette.h"
#include "aiq-designer-run-dialog.h"
#include "aiq-designer-source-view.h"
#include "aiq-designer-step-form.h"
#include "aiq-designer-workflows-page.h"
#include "aiq-designer-session.h"
#include "aiq-designer-test.h"
#include "aiq-designer-window.h"
#include "aiq-e2e.h"
#include "aiq-json.h"

typedef struct {
	gchar *root;
	AiqE2eServer *server;
	AiqE2eAgent *agent;
	GSettings *settings;
	AiqDesignerSession *session;
	AiqDesignerWindow *window;
	gchar *workflow_id;
	gchar *execution_id;
} Fixture;

static Fixture fixture;

static void
fixture_start_platform(void)
{
	g_autofree gchar *agent_conf = NULL;
	fixture.root = aiq_e2e_make_tmp_dir("designer-ui");
	fixture.server = aiq_e2e_server_new(fixture.root, "server", NULL);
	aiq_e2e_server_start(fixture.server);
	/* restarts keep the URL the designer knows */
	fixture.server->port =
		(guint16)g_uri_get_port(g_uri_parse(fixture.server->url, G_URI_FLAGS_NONE, NULL));
	agent_conf =
		g_strdup_printf("[agent]\nname=ui-agent\n\n[file-roots]\nflags=%s\n", fixture.root);
	fixture.agent = aiq_e2e_agent_new(fixture.root, "agent", agent_conf);
	aiq_e2e_agent_enroll(fixture.agent, fixture.server, NULL);
	aiq_e2e_agent_start(fixture.agent);
}

static void
fixture_open_window(void)
{
	fixture.settings = g_settings_new("io.automateiq.Designer");
	fixture.session = aiq_designer_session_new(fixture.settings);
	fixture.window = aiq_designer_window_new(NULL, fixture.session);
	gtk_window_set_default_size(GTK_WINDOW(fixture.window), 1280, 820);
	gtk_window_present(GTK_WINDOW(fixture.window));
	AIQ_DESIGNER_WAIT(gtk_widget_get_mapped(GTK_WIDGET(fixture.window)), 10000);
	aiq_designer_window_show_login(fixture.window);
}

static gchar *
lookup_token(const gchar *server_url, const gchar *user)
{
	static const SecretSchema schema = {
		"io.automateiq.Designer.Token",
		SECRET_SCHEMA_NONE,
		{ { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
		  { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
		  { NULL, 0 } },
	};
	g_autoptr(GError) error = NULL;
	gchar *token = secret_password_lookup_sync(&schema,
						   NULL,
						   &error,
						   "server",
						   server_url,
						   "user",
						   user,
						   NULL);
	g_assert_no_error(error);
	return token;
}

/* a self-signed server is refused until the user trusts its fingerprint;
 * then the token is in the keyring and a new session restores it */
static void
test_login_trust_keyring(void)
{
	GtkWidget *login = aiq_designer_window_get_login_view(fixture.window);
	GtkWidget *trust;
	g_autofree gchar *token = NULL;
	g_autofree gchar *fingerprint = NULL;
	g_autoptr(AiqDesignerSession) restored = NULL;
	gboolean done = FALSE;

	aiq_designer_login_view_fill(AIQ_DESIGNER_LOGIN_VIEW(login),
				     fixture.server->url,
				     "demo",
				     "demo",
				     g_getenv("AIQ_DEMO_PASSWORD"));
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "login");
	gtk_widget_activate(aiq_designer_test_find_button(login, "Log In"));
	/* the certificate is self-signed: the view offers to trust it */
	AIQ_DESIGNER_WAIT((trust = aiq_designer_test_find_button(
				   login,
				   "Trust This Certificate and Log In")) != NULL &&
				  gtk_widget_get_child_visible(
					  gtk_widget_get_parent(gtk_widget_get_parent(trust))),
			  20000);
	g_assert_false(aiq_designer_session_get_logged_in(fixture.session));
	fingerprint = aiq_designer_session_dup_rejected_fingerprint(fixture.session);
	g_assert_nonnull(fingerprint);
	g_assert_true(aiq_designer_test_has_label(login, fingerprint));
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "login-certificate");
	gtk_widget_activate(trust);
	AIQ_DESIGNER_WAIT(aiq_designer_session_get_logged_in(fixture.session), 20000);
	g_assert_cmpstr(aiq_designer_session_get_role(fixture.session), ==, "tenant_admin");
	g_assert_cmpstr(aiq_designer_session_get_tenant(fixture.session), ==, "demo");
	AIQ_DESIGNER_WAIT(aiq_designer_session_get_online(fixture.session), 20000);

	/* the token is in the real Secret Service, never in GSettings */
	token = lookup_token(fixture.server->url, "demo");
	g_assert_nonnull(token);
	g_assert_true(g_str_has_prefix(token, "aiqs_"));
	{
		g_autoptr(GVariant) trusted =
			g_settings_get_value(fixture.settings, "trusted-certificates");
		g_autofree gchar *printed = g_variant_print(trusted, FALSE);
		g_assert_nonnull(strstr(printed, fingerprint));
		g_assert_null(strstr(printed, token));
	}

	/* the next start logs in from the keyring */
	restored = aiq_designer_session_new(fixture.settings);
	aiq_designer_session_restore_async(restored, NULL, (GAsyncReadyCallback)NULL, NULL);
	AIQ_DESIGNER_WAIT(aiq_designer_session_get_logged_in(restored), 20000);
	g_assert_cmpstr(aiq_designer_session_get_username(restored), ==, "demo");
	(void)done;
}

/* a user's click on a mapped, sensitive button */
static void
click(GtkWidget *button)
{
	g_assert_nonnull(button);
	AIQ_DESIGNER_WAIT(gtk_widget_is_sensitive(button) && gtk_widget_get_mapped(button), 10000);
	g_signal_emit_by_name(button, "clicked");
}

static AiqDesignerEditor *
current_editor(void)
{
	GtkWidget *page = aiq_designer_window_get_page(fixture.window, "workflows");
	return AIQ_DESIGNER_EDITOR(
		aiq_designer_workflows_page_get_editor(AIQ_DESIGNER_WORKFLOWS_PAGE(page)));
}

/* types into the JSON field of the selected step's `value`, as a user */
static void
fill_value(AiqDesignerEditor *editor, const gchar *id, const gchar *text)
{
	AiqDesignerCanvas *canvas = aiq_designer_editor_get_canvas(editor);
	GtkWidget *form = GTK_WIDGET(aiq_designer_editor_get_step_form(editor));
	AiqDesignerDocument *doc = aiq_designer_editor_get_document(editor);
	const gchar *ids[] = { id, NULL };
	GtkWidget *field;

	aiq_designer_canvas_select(canvas, ids);
	AIQ_DESIGNER_WAIT(
		g_strcmp0(aiq_designer_step_form_get_step(AIQ_DESIGNER_STEP_FORM(form)), id) == 0,
		5000);
	AIQ_DESIGNER_WAIT(
		(field = aiq_designer_test_find_widget(form, GTK_TYPE_TEXT_VIEW, "param-value")) !=
			NULL,
		5000);
	gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(field)), text, -1);
	/* the form writes after a pause in typing */
	AIQ_DESIGNER_WAIT(({
				  JsonObject *step = aiq_designer_document_find_step(doc, id, NULL);
				  JsonObject *with =
					  step != NULL ? json_object_get_object_member(step, "with")
						       : NULL;
				  with != NULL &&json_object_has_member(with, "value");
			  }),
			  5000);
}

static const gchar *
execution_view_status(void)
{
	GtkWidget *page = aiq_designer_window_get_page(fixture.window, "executions");
	AiqDesignerExecutionView *view =
		AIQ_DESIGNER_EXECUTION_VIEW(aiq_designer_executions_page_get_execution_view(
			AIQ_DESIGNER_EXECUTIONS_PAGE(page)));
	return aiq_designer_execution_view_get_status(view);
}

static const gchar *
execution_view_id(void)
{
	GtkWidget *page = aiq_designer_window_get_page(fixture.window, "executions");
	AiqDesignerExecutionView *view =
		AIQ_DESIGNER_EXECUTION_VIEW(aiq_designer_executions_page_get_execution_view(
			AIQ_DESIGNER_EXECUTIONS_PAGE(page)));
	return aiq_designer_execution_view_get_execution_id(view);
}

/* a new user builds a 3-step workflow on the canvas, fills the forms,
 * checks the YAML, saves, runs it and watches it finish on the agent */
static void
test_build_and_run(void)
{
	GtkWidget *page;
	AiqDesignerEditor *editor;
	AiqDesignerDocument *doc;
	AdwMessageDialog *dialog;
	GtkWidget *run;
	g_autofree gchar *yaml = NULL;
	g_autofree gchar *ids[3] = { NULL };
	g_autoptr(JsonObject) execution = NULL;

	aiq_designer_window_show_page(fixture.window, "workflows");
	page = aiq_designer_window_get_page(fixture.window, "workflows");
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "workflows");
	gtk_widget_activate_action(page, "workflows.new", NULL);
	AIQ_DESIGNER_WAIT((dialog = ADW_MESSAGE_DIALOG(aiq_designer_test_find_toplevel(
				   ADW_TYPE_MESSAGE_DIALOG))) != NULL,
			  5000);
	gtk_editable_set_text(GTK_EDITABLE(adw_message_dialog_get_extra_child(dialog)), "ui-three");
	click(aiq_designer_test_find_button(GTK_WIDGET(dialog), "Create"));
	AIQ_DESIGNER_WAIT(
		aiq_designer_workflows_page_get_editing(AIQ_DESIGNER_WORKFLOWS_PAGE(page)),
		5000);
	editor = current_editor();
	doc = aiq_designer_editor_get_document(editor);

	/* three steps from the palette; each lands on the canvas, selected */
	for (guint i = 0; i < 3; i++) {
		GtkListBoxRow *row =
			aiq_designer_palette_get_row(aiq_designer_editor_get_palette(editor),
						     "transform");
		g_auto(GStrv) selection = NULL;
		gtk_widget_activate(GTK_WIDGET(row));
		g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, i + 1);
		selection =
			aiq_designer_canvas_dup_selection(aiq_designer_editor_get_canvas(editor));
		g_assert_cmpuint(g_strv_length(selection), ==, 1);
		ids[i] = g_strdup(selection[0]);
	}
	/* each step follows the one before it: a chain of three */
	{
		g_auto(GStrv) needs = aiq_designer_document_dup_needs(doc, ids[2]);
		g_assert_cmpstr(needs[0], ==, ids[1]);
	}
	fill_value(editor, ids[0], "{\"n\": 21}");
	{
		g_autofree gchar *expr = g_strdup_printf("${{ steps.%s.output.n * 2 }}", ids[0]);
		fill_value(editor, ids[1], expr);
	}
	{
		g_autofree gchar *expr =
			g_strdup_printf("${{ 'answer: ' .. steps.%s.output }}", ids[1]);
		fill_value(editor, ids[2], expr);
	}
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "workflow-editor");

	/* the YAML view says the same */
	aiq_designer_editor_show_source(editor, TRUE);
	AIQ_DESIGNER_WAIT(({
				  g_free(yaml);
				  yaml = aiq_designer_source_view_dup_text(
					  aiq_designer_editor_get_source_view(editor));
				  yaml != NULL &&strstr(yaml, ids[2]) !=
					  NULL &&strstr(yaml, "answer: ") != NULL;
			  }),
			  5000);
	for (guint i = 0; i < 3; i++) {
		g_autofree gchar *line = g_strdup_printf("id: %s", ids[i]);
		g_assert_nonnull(strstr(yaml, line));
	}
	g_assert_nonnull(strstr(yaml, "name: ui-three"));
	g_assert_nonnull(strstr(yaml, "uses: transform"));
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "workflow-yaml");
	aiq_designer_editor_show_source(editor, FALSE);

	/* undo and redo on the canvas: the last step goes and comes back */
	gtk_widget_activate_action(GTK_WIDGET(editor), "editor.undo", NULL);
	AIQ_DESIGNER_WAIT(
		aiq_designer_document_find_step(doc, ids[2], NULL) == NULL ||
			!json_object_has_member(
				json_object_get_object_member(
					aiq_designer_document_find_step(doc, ids[2], NULL),
					"with"),
				"value"),
		5000);
	gtk_widget_activate_action(GTK_WIDGET(editor), "editor.redo", NULL);
	AIQ_DESIGNER_WAIT(
		aiq_designer_document_find_step(doc, ids[2], NULL) != NULL &&
			json_object_has_member(
				json_object_get_object_member(
					aiq_designer_document_find_step(doc, ids[2], NULL),
					"with"),
				"value"),
		5000);
	{
		AiqDesignerCanvas *canvas = aiq_designer_editor_get_canvas(editor);
		const gchar *last[] = { ids[2], NULL };
		aiq_designer_canvas_select(canvas, last);
		gtk_widget_activate_action(GTK_WIDGET(canvas), "canvas.delete", NULL);
		g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 2);
		gtk_widget_activate_action(GTK_WIDGET(editor), "editor.undo", NULL);
		g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 3);
		gtk_widget_activate_action(GTK_WIDGET(editor), "editor.redo", NULL);
		g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 2);
		gtk_widget_activate_action(GTK_WIDGET(editor), "editor.undo", NULL);
		g_assert_cmpuint(aiq_designer_document_get_n_steps(doc), ==, 3);
	}

	/* save: version 1 on the server, as built */
	click(aiq_designer_test_find_by_action(GTK_WIDGET(editor), "editor.save"));
	AIQ_DESIGNER_WAIT(aiq_designer_editor_get_version(editor) == 1 &&
				  !aiq_designer_document_get_modified(doc),
			  20000);
	fixture.workflow_id = g_strdup(aiq_designer_editor_get_workflow_id(editor));
	{
		g_autofree gchar *path =
			g_strdup_printf("/api/v1/workflows/%s", fixture.workflow_id);
		g_autoptr(JsonNode) wf = aiq_e2e_server_call(fixture.server, "GET", path, NULL);
		g_autofree gchar *text = aiq_json_to_string(wf, FALSE);
		g_assert_nonnull(strstr(text, "answer: "));
		g_assert_nonnull(strstr(text, ids[1]));
	}

	/* run: the dialog starts it, the executions page shows it live */
	run = aiq_designer_test_find_by_action(GTK_WIDGET(editor), "editor.run");
	click(run);
	AIQ_DESIGNER_WAIT(aiq_designer_test_find_toplevel(AIQ_DESIGNER_TYPE_RUN_DIALOG) != NULL,
			  5000);
	gtk_widget_activate_action(aiq_designer_test_find_toplevel(AIQ_DESIGNER_TYPE_RUN_DIALOG),
				   "run.run",
				   NULL);
	AIQ_DESIGNER_WAIT(g_strcmp0(aiq_designer_window_get_visible_page(fixture.window),
				    "executions") == 0 &&
				  execution_view_id() != NULL,
			  20000);
	fixture.execution_id = g_strdup(execution_view_id());
	/* the agent runs it; the view learns it from the event stream */
	AIQ_DESIGNER_WAIT(g_strcmp0(execution_view_status(), "succeeded") == 0, 60000);
	execution = aiq_e2e_server_get_execution(fixture.server, fixture.execution_id);
	g_assert_cmpstr(json_object_get_string_member(execution, "status"), ==, "succeeded");
	g_assert_true(aiq_designer_test_has_label(GTK_WIDGET(fixture.window), "Succeeded"));
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "execution");
}

/* a failed execution, retried from its failed step once the cause is gone */
static void
test_retry_failed(void)
{
	g_autofree gchar *flag = g_build_filename(fixture.root, "flag", NULL);
	g_autofree gchar *yaml =
		g_strdup_printf("name: ui-flaky\n"
				"steps:\n"
				"  - { id: first, uses: transform, with: { value: 1 } }\n"
				"  - id: check\n"
				"    uses: file\n"
				"    with: { op: read, root: flags, path: flag }\n");
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *failed_id = NULL;
	GtkWidget *page;
	GtkWidget *retry;
	g_autoptr(JsonObject) retried = NULL;

	workflow_id = aiq_e2e_server_create_workflow(fixture.server, yaml);
	failed_id = aiq_e2e_server_start_execution(fixture.server, workflow_id, NULL);
	aiq_designer_window_show_page(fixture.window, "executions");
	page = aiq_designer_window_get_page(fixture.window, "executions");
	gtk_widget_activate_action(GTK_WIDGET(fixture.window),
				   "win.show-execution",
				   "s",
				   failed_id);
	AIQ_DESIGNER_WAIT(g_strcmp0(execution_view_id(), failed_id) == 0, 10000);
	AIQ_DESIGNER_WAIT(g_strcmp0(execution_view_status(), "failed") == 0, 60000);
	/* the cause goes away; retry from the failed step */
	g_assert_true(g_file_set_contents(flag, "ok", -1, NULL));
	retry = aiq_designer_test_find_button(page, "Retry from Failed Step");
	click(retry);
	AIQ_DESIGNER_WAIT(execution_view_id() != NULL &&
				  g_strcmp0(execution_view_id(), failed_id) != 0,
			  20000);
	AIQ_DESIGNER_WAIT(g_strcmp0(execution_view_status(), "succeeded") == 0, 60000);
	retried = aiq_e2e_server_get_execution(fixture.server, execution_view_id());
	g_assert_cmpstr(json_object_get_string_member(retried, "status"), ==, "succeeded");
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "execution-retried");
	/* back to the list: both are there, live, with their final states */
	gtk_widget_activate_action(page, "executions.back", NULL);
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(page, "ui-flaky") &&
				  aiq_designer_test_has_label(page, "ui-three"),
			  20000);
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "executions");
}

/* every other main view, for the record */
static void
test_screenshots(void)
{
	const gchar *pages[] = { "agents", "dashboard", "admin" };
	for (guint i = 0; i < G_N_ELEMENTS(pages); i++) {
		aiq_designer_window_show_page(fixture.window, pages[i]);
		aiq_designer_test_iterate(1500);
		aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), pages[i]);
	}
	g_assert_true(aiq_designer_test_has_label(GTK_WIDGET(fixture.window), "ui-agent") ||
		      g_strcmp0(aiq_designer_window_get_visible_page(fixture.window), "admin") ==
			      0);
}

/* the server goes away: the window says so, and comes back by itself */
static void
test_server_outage(void)
{
	GtkWidget *banner;
	g_assert_true(aiq_designer_session_get_online(fixture.session));
	aiq_e2e_server_kill(fixture.server);
	AIQ_DESIGNER_WAIT(!aiq_designer_session_get_online(fixture.session), 20000);
	banner = aiq_designer_test_find_widget(GTK_WIDGET(fixture.window), GTK_TYPE_REVEALER, NULL);
	g_assert_nonnull(banner);
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(GTK_WIDGET(fixture.window),
						      "The server cannot be reached"),
			  10000);
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "offline");
	/* still logged in, and nothing froze: the window still draws */
	g_assert_true(aiq_designer_session_get_logged_in(fixture.session));
	aiq_e2e_server_start(fixture.server);
	AIQ_DESIGNER_WAIT(aiq_designer_session_get_online(fixture.session), 60000);
	AIQ_DESIGNER_WAIT(!aiq_designer_test_has_label(GTK_WIDGET(fixture.window),
						       "The server cannot be reached"),
			  10000);
}

int
main(int argc, char **argv)
{
	gint rc;
	g_autofree gchar *password = NULL;

	aiq_designer_test_init(&argc, &argv);
	password = g_strdup_printf("ui-%08x%08x", g_random_int(), g_random_int());
	g_setenv("AIQ_DEMO_PASSWORD", password, TRUE);
	g_setenv("AIQ_ADMIN_PASSWORD", password, TRUE);
	fixture_start_platform();
	fixture_open_window();

	g_test_add_func("/aiq/designer/ui/login-trust-keyring", test_login_trust_keyring);
	g_test_add_func("/aiq/designer/ui/build-and-run", test_build_and_run);
	g_test_add_func("/aiq/designer/ui/retry-failed", test_retry_failed);
	g_test_add_func("/aiq/designer/ui/screenshots", test_screenshots);
	g_test_add_func("/aiq/designer/ui/server-outage", test_server_outage);
	rc = g_test_run();

	gtk_window_destroy(GTK_WINDOW(fixture.window));
	g_clear_object(&fixture.session);
	g_clear_object(&fixture.settings);
	aiq_e2e_agent_free(fixture.agent);
	aiq_e2e_server_free(fixture.server);
	aiq_e2e_remove_tmp_dir(fixture.root);
	return rc;
}
