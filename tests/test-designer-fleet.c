/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The designer's fleet pages against the in-process server: agents (live
 * updates, enrollment tokens), administration, the dashboard's charts, and
 * the local agent over D-Bus (a small io.automateiq.Agent1 service in this
 * process, on the private session bus).
 */

#include "config.h"

#include <adwaita.h>

#include "aiq-designer-admin-page-private.h"
#include "aiq-designer-agents-page.h"
#include "aiq-designer-chart-private.h"
#include "aiq-designer-dashboard-page-private.h"
#include "aiq-designer-enroll-dialog.h"
#include "aiq-designer-local-agent.h"
#include "aiq-designer-session.h"
#include "aiq-designer-test-step-dialog-private.h"
#include "aiq-designer-test.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-test-agent.h"
#include "aiq-test-server.h"

#define FLEET_PASSWORD "fleet-password-123"
#define TIMEOUT_MS 20000

typedef struct {
	AiqTestServer *ts;
	AiqDesignerSession *session;
	gchar *token; /* the designer user's, for checks through the API */
} Fleet;

static Fleet fleet;

static void
login_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	gboolean *done = user_data;
	g_assert_true(aiq_designer_session_login_finish(AIQ_DESIGNER_SESSION(source), res, &error));
	g_assert_no_error(error);
	*done = TRUE;
}

/* a window with a toast overlay, as the app's, around @child */
static GtkWidget *
show_in_window(GtkWidget *child)
{
	GtkWidget *window = gtk_window_new();
	GtkWidget *overlay = adw_toast_overlay_new();
	adw_toast_overlay_set_child(ADW_TOAST_OVERLAY(overlay), child);
	gtk_window_set_child(GTK_WINDOW(window), overlay);
	gtk_window_set_default_size(GTK_WINDOW(window), 1000, 760);
	gtk_window_present(GTK_WINDOW(window));
	AIQ_DESIGNER_WAIT(gtk_widget_get_mapped(child), TIMEOUT_MS);
	return window;
}

static JsonObject *
api_get(const gchar *path)
{
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request(fleet.ts, "GET", path, fleet.token, NULL, NULL, 0);
	aiq_test_assert_status(resp, 200);
	return json_object_ref(aiq_test_response_object(resp));
}

static gboolean
array_has_string_member(JsonArray *array, const gchar *member, const gchar *value)
{
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *obj = json_array_get_object_element(array, i);
		if (g_strcmp0(json_object_get_string_member_with_default(obj, member, NULL),
			      value) == 0)
			return TRUE;
	}
	return FALSE;
}

/* agents */

static void
test_agents_page(void)
{
	g_autoptr(AiqTestAgent) agent =
		aiq_test_agent_enroll(fleet.ts, fleet.token, "build-box-1", "[\"linux\",\"x86\"]");
	g_autoptr(AiqTestAgent) later = NULL;
	g_autoptr(AiqTestResponse) resp = NULL;
	g_autofree gchar *path = NULL;
	GtkWidget *page = aiq_designer_agents_page_new(fleet.session);
	GtkWidget *window = show_in_window(page);

	aiq_designer_agents_page_reload(AIQ_DESIGNER_AGENTS_PAGE(page));
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(page, "build-box-1"), TIMEOUT_MS);
	g_assert_true(aiq_designer_test_has_label(page, "linux, x86"));
	/* enrolled, never heard from: offline */
	g_assert_true(aiq_designer_test_has_label(page, "Offline"));

	/* live: a new agent appears, a disabled one changes, without a reload */
	AIQ_DESIGNER_WAIT(aiq_designer_session_get_online(fleet.session), TIMEOUT_MS);
	later = aiq_test_agent_enroll(fleet.ts, fleet.token, "build-box-2", NULL);
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(page, "build-box-2"), TIMEOUT_MS);
	path = g_strdup_printf("/api/v1/agents/%s/disable", agent->id);
	resp = aiq_test_request_json(fleet.ts, "POST", path, fleet.token, NULL);
	aiq_test_assert_status(resp, 200);
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(page, "Disabled"), TIMEOUT_MS);
	g_clear_pointer(&path, g_free);
	g_clear_pointer(&resp, aiq_test_response_free);
	path = g_strdup_printf("/api/v1/agents/%s", later->id);
	resp = aiq_test_request(fleet.ts, "DELETE", path, fleet.token, NULL, NULL, 0);
	aiq_test_assert_status(resp, 204);
	AIQ_DESIGNER_WAIT(!aiq_designer_test_has_label(page, "build-box-2"), TIMEOUT_MS);
	g_assert_true(aiq_designer_test_has_label(page, "build-box-1"));

	aiq_designer_test_screenshot(window, "agents");
	gtk_window_destroy(GTK_WINDOW(window));
}

static void
test_enroll_dialog(void)
{
	GtkWidget *page = aiq_designer_agents_page_new(fleet.session);
	GtkWidget *window = show_in_window(page);
	g_autoptr(JsonObject) before = api_get("/api/v1/enrollment-tokens");
	g_autoptr(JsonObject) after = NULL;
	g_autofree gchar *prefix = NULL;
	GtkWidget *dialog = aiq_designer_enroll_dialog_new(page, fleet.session);
	GtkWidget *name_row;
	const gchar *command;

	gtk_window_present(GTK_WINDOW(dialog));
	name_row = aiq_designer_test_find_widget(dialog, ADW_TYPE_ENTRY_ROW, "name");
	g_assert_nonnull(name_row);
	gtk_editable_set_text(GTK_EDITABLE(name_row), "site-b-1");
	gtk_editable_set_text(
		GTK_EDITABLE(aiq_designer_test_find_widget(dialog, ADW_TYPE_ENTRY_ROW, "labels")),
		"site-b, gpu");
	AIQ_DESIGNER_WAIT(aiq_designer_test_find_button(dialog, "Create Token") != NULL,
			  TIMEOUT_MS);
	g_signal_emit_by_name(aiq_designer_test_find_button(dialog, "Create Token"), "clicked");
	AIQ_DESIGNER_WAIT(
		aiq_designer_enroll_dialog_get_command(AIQ_DESIGNER_ENROLL_DIALOG(dialog)) != NULL,
		TIMEOUT_MS);
	command = aiq_designer_enroll_dialog_get_command(AIQ_DESIGNER_ENROLL_DIALOG(dialog));
	prefix = g_strdup_printf("sudo automateiq-agent enroll --server %s --token aiqe_",
				 fleet.ts->url);
	g_assert_true(g_str_has_prefix(command, prefix));
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(dialog, "automateiq-agent enroll --server"),
			  TIMEOUT_MS);

	/* the server has one more token, with the name and labels */
	after = api_get("/api/v1/enrollment-tokens");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(after, "items")),
			 ==,
			 json_array_get_length(json_object_get_array_member(before, "items")) + 1);
	g_assert_true(array_has_string_member(json_object_get_array_member(after, "items"),
					      "name",
					      "site-b-1"));

	/* and the token works, once */
	{
		const gchar *token = strstr(command, "--token ") + strlen("--token ");
		g_autoptr(AiqTestResponse) resp =
			aiq_test_agent_enroll_with(fleet.ts, token, "site-b-1", NULL);
		aiq_test_assert_status(resp, 201);
	}
	aiq_designer_test_screenshot(dialog, "enroll-dialog");
	gtk_window_destroy(GTK_WINDOW(dialog));
	gtk_window_destroy(GTK_WINDOW(window));
}

/* administration */

static void
test_admin_create_user(void)
{
	GtkWidget *page = aiq_designer_admin_page_new(fleet.session);
	GtkWidget *window = show_in_window(page);
	AiqDesignerAdminPage *admin = AIQ_DESIGNER_ADMIN_PAGE(page);
	g_autoptr(JsonObject) users = NULL;
	GtkWidget *dialog;
	GtkWidget *button;
	gboolean found = FALSE;
	JsonArray *items;

	aiq_designer_admin_page_reload(admin);
	AIQ_DESIGNER_WAIT(aiq_designer_admin_page_get_loads(admin) >= 3, TIMEOUT_MS);
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(page, "fleet-admin"), TIMEOUT_MS);

	button = aiq_designer_test_find_button(page, "Add User");
	g_assert_nonnull(button);
	g_signal_emit_by_name(button, "clicked");
	dialog = aiq_designer_admin_page_get_dialog(admin);
	g_assert_true(ADW_IS_MESSAGE_DIALOG(dialog));
	gtk_editable_set_text(
		GTK_EDITABLE(aiq_designer_test_find_widget(dialog, ADW_TYPE_ENTRY_ROW, "username")),
		"new-editor");
	gtk_editable_set_text(
		GTK_EDITABLE(aiq_designer_test_find_widget(dialog,
							   ADW_TYPE_PASSWORD_ENTRY_ROW,
							   "password")),
		"a-long-password-1");
	adw_combo_row_set_selected(
		ADW_COMBO_ROW(aiq_designer_test_find_widget(dialog, ADW_TYPE_COMBO_ROW, "role")),
		1);
	adw_message_dialog_response(ADW_MESSAGE_DIALOG(dialog), "create");

	/* the list shows the user once the server has it */
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(page, "new-editor"), TIMEOUT_MS);
	users = api_get("/api/v1/users");
	items = json_object_get_array_member(users, "items");
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *user = json_array_get_object_element(items, i);
		if (g_strcmp0(json_object_get_string_member(user, "username"), "new-editor") == 0) {
			g_assert_cmpstr(json_object_get_string_member(user, "role"), ==, "editor");
			g_assert_false(json_object_get_boolean_member(user, "disabled"));
			found = TRUE;
		}
	}
	g_assert_true(found);

	aiq_designer_test_screenshot(window, "administration");
	gtk_window_destroy(GTK_WINDOW(window));
}

/* dashboard */

#define WORKFLOW_JSON \
	"{\"name\":\"%s\",\"steps\":[{\"id\":\"only\",\"uses\":\"transform\",\"with\":{\"value\":1}}]}"

static gchar *
create_workflow(const gchar *name)
{
	g_autofree gchar *json = g_strdup_printf(WORKFLOW_JSON, name);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(fleet.ts, "POST", "/api/v1/workflows", fleet.token, json);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

static void
start_execution(const gchar *workflow_id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(fleet.ts, "POST", path, fleet.token, NULL);
	aiq_test_assert_status(resp, 201);
}

static void
test_dashboard(void)
{
	g_autofree gchar *alpha = create_workflow("dash-alpha");
	g_autofree gchar *beta = create_workflow("dash-beta");
	GtkWidget *page;
	GtkWidget *window;
	AiqDesignerDashboardPage *dashboard;
	AiqDesignerChart *chart;
	g_autoptr(JsonObject) stats = NULL;
	JsonArray *buckets;
	JsonArray *workflows;
	gdouble queued_total = 0;

	for (guint i = 0; i < 3; i++)
		start_execution(alpha);
	start_execution(beta);

	page = aiq_designer_dashboard_page_new(fleet.session);
	window = show_in_window(page);
	dashboard = AIQ_DESIGNER_DASHBOARD_PAGE(page);
	aiq_designer_dashboard_page_reload(dashboard);
	AIQ_DESIGNER_WAIT(aiq_designer_dashboard_page_get_loads(dashboard) >= 1, TIMEOUT_MS);

	/* the charts show what the server counts */
	stats = api_get("/api/v1/stats?bucket=hour");
	buckets = json_object_get_array_member(stats, "buckets");
	chart = aiq_designer_dashboard_page_get_chart(dashboard,
						      AIQ_DESIGNER_CHART_KIND_EXECUTIONS);
	g_assert_cmpuint(aiq_designer_chart_get_n_items(chart), ==, json_array_get_length(buckets));
	for (guint i = 0; i < json_array_get_length(buckets); i++) {
		JsonObject *bucket = json_array_get_object_element(buckets, i);
		for (guint j = 0; j < aiq_designer_chart_get_n_series(chart); j++) {
			const gchar *series = aiq_designer_chart_get_series_name(chart, j);
			g_assert_cmpfloat(aiq_designer_chart_get_value(chart, i, j),
					  ==,
					  json_object_get_int_member(bucket, series));
			if (g_strcmp0(series, "queued") == 0)
				queued_total += aiq_designer_chart_get_value(chart, i, j);
		}
	}
	g_assert_cmpfloat(queued_total, ==, 4);
	g_assert_nonnull(strstr(aiq_designer_chart_get_summary(chart), "Queued 4"));

	chart = aiq_designer_dashboard_page_get_chart(dashboard, AIQ_DESIGNER_CHART_KIND_QUEUE);
	g_assert_cmpuint(aiq_designer_chart_get_n_items(chart), ==, json_array_get_length(buckets));
	g_assert_cmpfloat(
		aiq_designer_chart_get_value(chart, json_array_get_length(buckets) - 1, 0),
		==,
		json_object_get_int_member(
			json_array_get_object_element(buckets, json_array_get_length(buckets) - 1),
			"queue_depth"));

	workflows = json_object_get_array_member(stats, "workflows");
	chart = aiq_designer_dashboard_page_get_chart(dashboard, AIQ_DESIGNER_CHART_KIND_DURATIONS);
	g_assert_cmpuint(aiq_designer_chart_get_n_items(chart),
			 ==,
			 json_array_get_length(workflows));
	g_assert_cmpuint(json_array_get_length(workflows), >=, 2);
	g_assert_cmpstr(aiq_designer_chart_get_item_label(chart, 0), ==, "dash-alpha");
	/* none finished: no durations */
	g_assert_cmpfloat(aiq_designer_chart_get_value(chart, 0, 0), <, 0);

	/* the big numbers */
	g_assert_true(aiq_designer_test_has_label(page, "Queued now"));

	/* drawn without criticals (fatal here), with a tooltip per bucket */
	{
		g_autofree gchar *tip = aiq_designer_chart_dup_tooltip(
			aiq_designer_dashboard_page_get_chart(dashboard,
							      AIQ_DESIGNER_CHART_KIND_EXECUTIONS),
			json_array_get_length(buckets) - 1);
		g_assert_nonnull(strstr(tip, "Queued: "));
	}
	for (guint kind = 0; kind <= AIQ_DESIGNER_CHART_KIND_DURATIONS; kind++) {
		GtkWidget *widget =
			GTK_WIDGET(aiq_designer_dashboard_page_get_chart(dashboard, kind));
		g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new();
		g_autoptr(GskRenderNode) node = NULL;
		AIQ_DESIGNER_WAIT(gtk_widget_get_width(widget) > 0, TIMEOUT_MS);
		/* the chart's own drawing, as GTK calls it for a frame */
		GTK_WIDGET_GET_CLASS(widget)->snapshot(widget, snapshot);
		node = gtk_snapshot_free_to_node(g_steal_pointer(&snapshot));
		g_assert_nonnull(node);
	}

	/* another period: daily buckets */
	{
		guint loads = aiq_designer_dashboard_page_get_loads(dashboard);
		GtkWidget *dropdown = aiq_designer_test_find_widget(page, GTK_TYPE_DROP_DOWN, NULL);
		gtk_drop_down_set_selected(GTK_DROP_DOWN(dropdown), 2);
		AIQ_DESIGNER_WAIT(aiq_designer_dashboard_page_get_loads(dashboard) > loads,
				  TIMEOUT_MS);
		g_assert_cmpstr(json_object_get_string_member(
					aiq_designer_dashboard_page_get_stats(dashboard),
					"bucket"),
				==,
				"day");
		gtk_drop_down_set_selected(GTK_DROP_DOWN(dropdown), 0);
		AIQ_DESIGNER_WAIT(aiq_designer_dashboard_page_get_loads(dashboard) > loads + 1,
				  TIMEOUT_MS);
	}

	aiq_designer_test_screenshot(window, "dashboard");
	gtk_window_destroy(GTK_WINDOW(window));
}

/* the local agent: an io.automateiq.Agent1 of our own on the session bus */

static gboolean
handle_test_step_cb(AiqDbusAgent1 *skeleton,
		    GDBusMethodInvocation *invocation,
		    const gchar *step_json,
		    const gchar *inputs_json,
		    gpointer user_data)
{
	g_autoptr(JsonNode) step = json_from_string(step_json, NULL);
	g_autoptr(JsonNode) inputs = json_from_string(inputs_json, NULL);
	const gchar *id;

	g_assert_nonnull(step);
	g_assert_nonnull(inputs);
	id = json_object_get_string_member(json_node_get_object(step), "id");
	if (g_strcmp0(id, "broken") == 0) {
		g_dbus_method_invocation_return_error_literal(
			invocation,
			AIQ_ERROR,
			AIQ_ERROR_KIND_DISABLED,
			"the shell step kind is disabled here");
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(inputs), "who"),
			==,
			"world");
	aiq_dbus_agent1_complete_test_step(
		skeleton,
		invocation,
		"{\"status\":\"succeeded\",\"output\":{\"greeting\":\"hello world\"},"
		"\"attempts\":1,\"duration_ms\":12}",
		"started\nsaid hello\n");
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
test_local_agent(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) connection = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	g_autoptr(AiqDbusAgent1) skeleton = aiq_dbus_agent1_skeleton_new();
	const gchar *running[] = { "e1", "e2", NULL };
	AiqDesignerLocalAgent *local = aiq_designer_local_agent_get_default();
	g_autoptr(JsonObject) step = json_object_new();
	g_autoptr(JsonObject) inputs = json_object_new();
	g_autofree gchar *output = NULL;
	g_autofree gchar *log = NULL;
	GtkWidget *page;
	GtkWidget *window;
	GtkWidget *dialog;
	guint owner_id;

	g_assert_no_error(error);
	g_assert_false(aiq_designer_local_agent_get_available(local));
	aiq_dbus_agent1_set_enrolled(skeleton, TRUE);
	aiq_dbus_agent1_set_name(skeleton, "workstation-7");
	aiq_dbus_agent1_set_server(skeleton, fleet.ts->url);
	aiq_dbus_agent1_set_connection_state(skeleton, "online");
	aiq_dbus_agent1_set_version(skeleton, "9.9.9");
	aiq_dbus_agent1_set_capacity(skeleton, 4);
	aiq_dbus_agent1_set_running_executions(skeleton, running);
	aiq_dbus_agent1_set_outbox_depth(skeleton, 3);
	g_signal_connect(skeleton, "handle-test-step", G_CALLBACK(handle_test_step_cb), NULL);
	g_assert_true(g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(skeleton),
						       connection,
						       AIQ_DESIGNER_LOCAL_AGENT_PATH,
						       &error));
	g_assert_no_error(error);
	owner_id = g_bus_own_name_on_connection(connection,
						AIQ_DESIGNER_LOCAL_AGENT_BUS_NAME,
						G_BUS_NAME_OWNER_FLAGS_NONE,
						NULL,
						NULL,
						NULL,
						NULL);
	AIQ_DESIGNER_WAIT(aiq_designer_local_agent_get_available(local), TIMEOUT_MS);

	/* the card */
	page = aiq_designer_agents_page_new(fleet.session);
	window = show_in_window(page);
	aiq_designer_agents_page_reload(AIQ_DESIGNER_AGENTS_PAGE(page));
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(page, "workstation-7"), TIMEOUT_MS);
	g_assert_true(aiq_designer_test_has_label(page, "2 of 4"));
	g_assert_true(aiq_designer_test_has_label(page, "9.9.9"));
	/* its properties follow the agent's */
	aiq_dbus_agent1_set_outbox_full(skeleton, TRUE);
	aiq_dbus_agent1_set_last_error(skeleton, "the server refused the credential");
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(page, "the server refused the credential"),
			  TIMEOUT_MS);
	g_assert_true(aiq_designer_test_has_label(page, "Full"));
	aiq_designer_test_screenshot(window, "agents-local");

	/* a test step */
	json_object_set_string_member(step, "id", "greet");
	json_object_set_string_member(step, "uses", "transform");
	json_object_set_string_member(inputs, "who", "world");
	dialog = aiq_designer_test_step_dialog_new(page, step, inputs);
	gtk_window_present(GTK_WINDOW(dialog));
	AIQ_DESIGNER_WAIT(g_strcmp0(aiq_designer_test_step_dialog_get_state(
					    AIQ_DESIGNER_TEST_STEP_DIALOG(dialog)),
				    "running") != 0,
			  TIMEOUT_MS);
	g_assert_cmpstr(
		aiq_designer_test_step_dialog_get_state(AIQ_DESIGNER_TEST_STEP_DIALOG(dialog)),
		==,
		"result");
	g_assert_cmpstr(
		aiq_designer_test_step_dialog_get_status(AIQ_DESIGNER_TEST_STEP_DIALOG(dialog)),
		==,
		"succeeded");
	output = aiq_designer_test_step_dialog_dup_output(AIQ_DESIGNER_TEST_STEP_DIALOG(dialog));
	g_assert_nonnull(strstr(output, "\"greeting\" : \"hello world\""));
	log = aiq_designer_test_step_dialog_dup_log(AIQ_DESIGNER_TEST_STEP_DIALOG(dialog));
	g_assert_nonnull(strstr(log, "said hello"));
	g_assert_true(aiq_designer_test_has_label(dialog, "12 ms"));
	aiq_designer_test_screenshot(dialog, "test-step");
	gtk_window_destroy(GTK_WINDOW(dialog));

	/* an AIQ_ERROR crosses the bus and is shown as it is */
	json_object_set_string_member(step, "id", "broken");
	dialog = aiq_designer_test_step_dialog_new(page, step, NULL);
	gtk_window_present(GTK_WINDOW(dialog));
	AIQ_DESIGNER_WAIT(g_strcmp0(aiq_designer_test_step_dialog_get_state(
					    AIQ_DESIGNER_TEST_STEP_DIALOG(dialog)),
				    "error") == 0,
			  TIMEOUT_MS);
	g_assert_cmpstr(
		aiq_designer_test_step_dialog_get_error(AIQ_DESIGNER_TEST_STEP_DIALOG(dialog)),
		==,
		"the shell step kind is disabled here");
	gtk_window_destroy(GTK_WINDOW(dialog));

	/* the agent goes away: so does the card */
	g_bus_unown_name(owner_id);
	AIQ_DESIGNER_WAIT(!aiq_designer_local_agent_get_available(local), TIMEOUT_MS);
	AIQ_DESIGNER_WAIT(!aiq_designer_test_has_label(page, "workstation-7"), TIMEOUT_MS);
	g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(skeleton));
	gtk_window_destroy(GTK_WINDOW(window));
}

int
main(int argc, char **argv)
{
	g_autofree gchar *ca = NULL;
	gboolean done = FALSE;
	int rc;

	ca = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	g_setenv("AIQ_DESIGNER_CA_FILE", ca, TRUE);
	g_setenv("AIQ_DESIGNER_AGENT_BUS", "session", TRUE);
	aiq_designer_test_init(&argc, &argv);

	fleet.ts = aiq_test_server_new(NULL);
	fleet.token = aiq_test_server_add_user(fleet.ts,
					       fleet.ts->tenant_id,
					       "fleet-admin",
					       "tenant_admin",
					       FLEET_PASSWORD);
	fleet.session = aiq_designer_session_new(NULL);
	aiq_designer_session_login_async(fleet.session,
					 fleet.ts->url,
					 "acme",
					 "fleet-admin",
					 FLEET_PASSWORD,
					 NULL,
					 login_cb,
					 &done);
	AIQ_DESIGNER_WAIT(done, TIMEOUT_MS);

	/* the local agent test first: the watcher sees no agent yet */
	g_test_add_func("/aiq/designer/fleet/local-agent", test_local_agent);
	g_test_add_func("/aiq/designer/fleet/agents", test_agents_page);
	g_test_add_func("/aiq/designer/fleet/enroll", test_enroll_dialog);
	g_test_add_func("/aiq/designer/fleet/admin-create-user", test_admin_create_user);
	g_test_add_func("/aiq/designer/fleet/dashboard", test_dashboard);
	rc = g_test_run();

	g_clear_object(&fleet.session);
	g_free(fleet.token);
	aiq_test_server_free(fleet.ts);
	return rc;
}
