/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The executions area of the designer against the in-process server: the
 * paging list model, the executions page, the execution view and the run
 * dialog.
 */

#include "config.h"

#include <adwaita.h>

#include "aiq-designer-execution-list-model.h"
#include "aiq-designer-execution-view.h"
#include "aiq-designer-test.h"
#include "aiq-designer-executions-page.h"
#include "aiq-designer-run-dialog.h"
#include "aiq-designer-session.h"
#include "aiq-json.h"
#include "aiq-test-server.h"

#define TEST_TIMEOUT_S 30

#define WORKFLOW_JSON                                                                  \
	"{\"name\":\"%s\","                                                            \
	"\"inputs\":{\"count\":{\"type\":\"integer\",\"description\":\"How many\"},"   \
	"\"name\":{\"type\":\"string\",\"required\":true}},"                           \
	"\"steps\":[{\"id\":\"first\",\"uses\":\"transform\",\"with\":{\"value\":1}}," \
	"{\"id\":\"second\",\"uses\":\"transform\",\"with\":{\"value\":2}}]}"

typedef struct {
	AiqTestServer *ts;
	AiqDesignerSession *session;
	gchar *workflow_id;
	gchar *workflow_name;
	GPtrArray *started; /* ids, oldest first */
} Fixture;

static Fixture *fixture;

static gboolean
tick_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* iterates the main loop until @cond holds, failing after a while */
#define WAIT_UNTIL(cond)                                                                \
	G_STMT_START                                                                    \
	{                                                                               \
		gint64 _end = g_get_monotonic_time() + TEST_TIMEOUT_S * G_USEC_PER_SEC; \
		guint _tick = g_timeout_add(20, tick_cb, NULL);                         \
		while (!(cond)) {                                                       \
			if (g_get_monotonic_time() > _end)                              \
				g_error("timed out waiting for %s", #cond);             \
			g_main_context_iteration(NULL, TRUE);                           \
		}                                                                       \
		g_source_remove(_tick);                                                 \
	}                                                                               \
	G_STMT_END

/* let a window lay out and draw a few frames */
static void
settle(void)
{
	gint64 end = g_get_monotonic_time() + 300 * 1000;
	guint tick = g_timeout_add(20, tick_cb, NULL);
	while (g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(tick);
}

static gchar *
start_execution(const gchar *inputs_json)
{
	AiqClient *client = aiq_designer_session_get_client(fixture->session);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) inputs = aiq_json_parse(inputs_json, strlen(inputs_json), 16, &error);
	g_autoptr(JsonNode) node = NULL;
	g_assert_no_error(error);
	node = aiq_client_start_execution_sync(client,
					       fixture->workflow_id,
					       json_node_get_object(inputs),
					       NULL,
					       NULL,
					       NULL,
					       &error);
	g_assert_no_error(error);
	return g_strdup(aiq_json_object_get_string(json_node_get_object(node), "id"));
}

static JsonObject *
get_execution(const gchar *id)
{
	AiqClient *client = aiq_designer_session_get_client(fixture->session);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_client_get_execution_sync(client, id, NULL, &error);
	g_assert_no_error(error);
	return json_object_ref(json_node_get_object(node));
}

static guint
server_total(const gchar *status)
{
	AiqClient *client = aiq_designer_session_get_client(fixture->session);
	AiqClientExecutionQuery query = { .status = status, .count = TRUE, .limit = 1 };
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_client_list_executions_sync(client, &query, NULL, &error);
	g_assert_no_error(error);
	return (guint)aiq_json_object_get_int(json_node_get_object(node), "total", -1);
}

static void
login_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gboolean *done = user_data;
	g_autoptr(GError) error = NULL;
	g_assert_true(aiq_designer_session_login_finish(AIQ_DESIGNER_SESSION(source), res, &error));
	g_assert_no_error(error);
	*done = TRUE;
}

static void
fixture_setup(void)
{
	g_autofree gchar *ca = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	g_autofree gchar *json = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	gboolean done = FALSE;

	fixture = g_new0(Fixture, 1);
	fixture->ts = aiq_test_server_new(NULL);
	g_setenv("AIQ_DESIGNER_CA_FILE", ca, TRUE);
	fixture->session = aiq_designer_session_new(NULL);
	aiq_designer_session_login_async(fixture->session,
					 fixture->ts->url,
					 "acme",
					 "ed",
					 "test-password-123",
					 NULL,
					 login_cb,
					 &done);
	WAIT_UNTIL(done);
	WAIT_UNTIL(aiq_designer_session_get_online(fixture->session));

	fixture->workflow_name = g_strdup("nightly-import");
	json = g_strdup_printf(WORKFLOW_JSON, fixture->workflow_name);
	bytes = g_bytes_new(json, strlen(json));
	node = aiq_client_create_workflow_sync(aiq_designer_session_get_client(fixture->session),
					       bytes,
					       "application/json",
					       NULL,
					       NULL,
					       &error);
	g_assert_no_error(error);
	fixture->workflow_id =
		g_strdup(aiq_json_object_get_string(json_node_get_object(node), "id"));

	/* 300 queued executions (no agent: they stay queued) */
	fixture->started = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < 300; i++) {
		g_autofree gchar *inputs = g_strdup_printf("{\"name\":\"n%u\"}", i);
		g_ptr_array_add(fixture->started, start_execution(inputs));
	}
	/* five cancelled, among the oldest */
	for (guint i = 0; i < 5; i++) {
		g_autoptr(JsonNode) res = aiq_client_cancel_execution_sync(
			aiq_designer_session_get_client(fixture->session),
			g_ptr_array_index(fixture->started, i * 7),
			NULL,
			&error);
		g_assert_no_error(error);
	}
}

static void
fixture_teardown(void)
{
	g_clear_object(&fixture->session);
	aiq_test_server_free(fixture->ts);
	g_ptr_array_unref(fixture->started);
	g_free(fixture->workflow_id);
	g_free(fixture->workflow_name);
	g_free(fixture);
}

static void
items_changed_cb(GListModel *model, guint position, guint removed, guint added, gpointer user_data)
{
	GArray *changes = user_data;
	guint change[3] = { position, removed, added };
	g_array_append_vals(changes, change, 3);
}

static void
test_model(void)
{
	g_autoptr(AiqDesignerExecutionListModel) model =
		aiq_designer_execution_list_model_new(fixture->session);
	g_autoptr(AiqDesignerExecutionItem) far = NULL;
	g_autoptr(AiqDesignerExecutionItem) first = NULL;
	g_autoptr(GArray) changes = g_array_new(FALSE, FALSE, sizeof(guint));
	guint total = server_total(NULL);
	guint cancelled = server_total("cancelled");

	aiq_designer_execution_list_model_reload(model);
	WAIT_UNTIL(!aiq_designer_execution_list_model_get_loading(model));
	g_assert_null(aiq_designer_execution_list_model_get_error(model));
	g_assert_cmpuint(total, >=, 300);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, total);

	/* the first page came with the count; a far one is loaded on demand */
	first = g_list_model_get_item(G_LIST_MODEL(model), 0);
	g_assert_true(aiq_designer_execution_item_get_loaded(first));
	far = g_list_model_get_item(G_LIST_MODEL(model), 250);
	g_assert_false(aiq_designer_execution_item_get_loaded(far));
	g_signal_connect(model, "items-changed", G_CALLBACK(items_changed_cb), changes);
	WAIT_UNTIL(aiq_designer_execution_item_get_loaded(far));
	g_assert_cmpuint(changes->len, ==, 0); /* filled in place */
	/* newest first: position i is the (total-1-i)th started */
	g_assert_cmpstr(aiq_designer_execution_item_get_id(far),
			==,
			g_ptr_array_index(fixture->started, total - 1 - 250));
	g_assert_cmpstr(aiq_designer_execution_item_get_workflow_name(far),
			==,
			fixture->workflow_name);
	for (guint i = 200; i < 300; i++) {
		g_autoptr(AiqDesignerExecutionItem) item =
			g_list_model_get_item(G_LIST_MODEL(model), i);
		g_assert_true(aiq_designer_execution_item_get_loaded(item));
		g_assert_cmpstr(aiq_designer_execution_item_get_id(item),
				==,
				g_ptr_array_index(fixture->started, total - 1 - i));
	}
	g_assert_cmpuint(aiq_designer_execution_list_model_get_n_cached_pages(model), <=, 50);

	/* a filter by status counts again */
	aiq_designer_execution_list_model_set_filter(model, "cancelled", NULL, 0, 0);
	WAIT_UNTIL(!aiq_designer_execution_list_model_get_loading(model));
	g_assert_cmpuint(cancelled, ==, 5);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, cancelled);
	aiq_designer_execution_list_model_set_filter(model, NULL, fixture->workflow_id, 0, 0);
	WAIT_UNTIL(!aiq_designer_execution_list_model_get_loading(model));
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, total);

	/* a live event for a new execution inserts it at the top, once */
	g_array_set_size(changes, 0);
	{
		g_autofree gchar *id = start_execution("{\"name\":\"live\"}");
		g_autoptr(JsonObject) execution = get_execution(id);
		g_autoptr(AiqDesignerExecutionItem) top = NULL;
		aiq_designer_execution_list_model_handle_event(model, execution);
		g_assert_cmpuint(changes->len, ==, 3);
		g_assert_cmpuint(g_array_index(changes, guint, 0), ==, 0);
		g_assert_cmpuint(g_array_index(changes, guint, 1), ==, 0);
		g_assert_cmpuint(g_array_index(changes, guint, 2), ==, 1);
		g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, total + 1);
		top = g_list_model_get_item(G_LIST_MODEL(model), 0);
		g_assert_cmpstr(aiq_designer_execution_item_get_id(top), ==, id);
		/* the same again updates in place */
		json_object_set_string_member(execution, "status", "running");
		aiq_designer_execution_list_model_handle_event(model, execution);
		g_assert_cmpuint(changes->len, ==, 3);
		g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, total + 1);
		g_assert_cmpstr(aiq_designer_execution_item_get_status(top), ==, "running");
		g_ptr_array_add(fixture->started, g_steal_pointer(&id));
	}
	/* an execution of another filter is not inserted */
	aiq_designer_execution_list_model_set_filter(model, "cancelled", NULL, 0, 0);
	WAIT_UNTIL(!aiq_designer_execution_list_model_get_loading(model));
	{
		g_autofree gchar *id = start_execution("{\"name\":\"other\"}");
		g_autoptr(JsonObject) execution = get_execution(id);
		aiq_designer_execution_list_model_handle_event(model, execution);
		g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, cancelled);
		g_ptr_array_add(fixture->started, g_steal_pointer(&id));
	}
	g_signal_handlers_disconnect_by_func(model, items_changed_cb, changes);
}

static gboolean
find_label(GtkWidget *widget, const gchar *text)
{
	if (GTK_IS_LABEL(widget) && gtk_widget_get_mapped(widget) &&
	    g_strcmp0(gtk_label_get_text(GTK_LABEL(widget)), text) == 0)
		return TRUE;
	for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
	     child = gtk_widget_get_next_sibling(child)) {
		if (find_label(child, text))
			return TRUE;
	}
	return FALSE;
}

static void
test_page(void)
{
	GtkWidget *window = gtk_window_new();
	GtkWidget *page = aiq_designer_executions_page_new(fixture->session);
	GtkWidget *column_view;
	GtkWidget *view;
	GtkWidget *cancel_button;
	GtkStack *stack;
	GListModel *model;
	guint n;
	g_autofree gchar *count_text = NULL;
	g_autofree gchar *id = NULL;
	g_autoptr(JsonObject) execution = NULL;

	gtk_window_set_default_size(GTK_WINDOW(window), 1000, 700);
	gtk_window_set_child(GTK_WINDOW(window), page);
	gtk_window_present(GTK_WINDOW(window));
	model = aiq_designer_executions_page_get_model(AIQ_DESIGNER_EXECUTIONS_PAGE(page));
	WAIT_UNTIL(!aiq_designer_execution_list_model_get_loading(
			   AIQ_DESIGNER_EXECUTION_LIST_MODEL(model)) &&
		   g_list_model_get_n_items(model) > 0);
	n = g_list_model_get_n_items(model);
	g_assert_cmpuint(n, ==, server_total(NULL));
	/* rows are drawn with the workflow's name */
	WAIT_UNTIL(find_label(page, fixture->workflow_name));
	count_text = g_strdup_printf("%'u executions", n);
	WAIT_UNTIL(find_label(page, count_text));
	settle();
	aiq_designer_test_screenshot(window, "executions-list");

	/* a new execution arrives over the live events */
	id = start_execution("{\"name\":\"from the page\"}");
	WAIT_UNTIL(g_list_model_get_n_items(model) == n + 1);
	{
		g_autoptr(AiqDesignerExecutionItem) top = g_list_model_get_item(model, 0);
		g_assert_cmpstr(aiq_designer_execution_item_get_id(top), ==, id);
	}

	/* activating the row opens the execution */
	column_view = (GtkWidget *)gtk_widget_get_template_child(page,
								 AIQ_DESIGNER_TYPE_EXECUTIONS_PAGE,
								 "column_view");
	stack = GTK_STACK(
		gtk_widget_get_template_child(page, AIQ_DESIGNER_TYPE_EXECUTIONS_PAGE, "stack"));
	g_signal_emit_by_name(column_view, "activate", 0);
	g_assert_cmpstr(gtk_stack_get_visible_child_name(stack), ==, "view");
	view = aiq_designer_executions_page_get_execution_view(AIQ_DESIGNER_EXECUTIONS_PAGE(page));
	g_assert_cmpstr(
		aiq_designer_execution_view_get_execution_id(AIQ_DESIGNER_EXECUTION_VIEW(view)),
		==,
		id);
	WAIT_UNTIL(
		g_strcmp0(aiq_designer_execution_view_get_status(AIQ_DESIGNER_EXECUTION_VIEW(view)),
			  "queued") == 0);
	WAIT_UNTIL(find_label(view, "Queued"));
	cancel_button = (GtkWidget *)gtk_widget_get_template_child(view,
								   AIQ_DESIGNER_TYPE_EXECUTION_VIEW,
								   "cancel_button");
	g_assert_true(gtk_widget_get_visible(cancel_button));
	g_assert_true(gtk_widget_is_sensitive(cancel_button));
	WAIT_UNTIL(!gtk_stack_get_transition_running(stack));
	settle();
	aiq_designer_test_screenshot(window, "execution-view");

	/* Cancel cancels it on the server */
	g_signal_emit_by_name(cancel_button, "clicked");
	WAIT_UNTIL(
		g_strcmp0(aiq_designer_execution_view_get_status(AIQ_DESIGNER_EXECUTION_VIEW(view)),
			  "cancelled") == 0);
	execution = get_execution(id);
	g_assert_cmpstr(aiq_json_object_get_string(execution, "status"), ==, "cancelled");
	g_assert_false(gtk_widget_get_visible(cancel_button));

	/* the list's row follows, live */
	{
		g_autoptr(AiqDesignerExecutionItem) top = g_list_model_get_item(model, 0);
		WAIT_UNTIL(g_strcmp0(aiq_designer_execution_item_get_status(top), "cancelled") ==
			   0);
	}
	/* back to the list */
	gtk_widget_activate_action(page, "executions.back", NULL);
	g_assert_cmpstr(gtk_stack_get_visible_child_name(stack), ==, "list");
	gtk_window_destroy(GTK_WINDOW(window));
	g_ptr_array_add(fixture->started, g_steal_pointer(&id));
}

static void
show_execution_cb(GSimpleAction *action, GVariant *param, gpointer user_data)
{
	gchar **shown = user_data;
	g_free(*shown);
	*shown = g_variant_dup_string(param, NULL);
}

static void
test_run_dialog(void)
{
	GtkWidget *window = gtk_window_new();
	GtkWidget *parent = gtk_label_new("parent");
	g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new();
	g_autoptr(GSimpleAction) action =
		g_simple_action_new("show-execution", G_VARIANT_TYPE_STRING);
	g_autofree gchar *shown = NULL;
	g_autofree gchar *json = g_strdup_printf(WORKFLOW_JSON, fixture->workflow_name);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) definition = aiq_json_parse(json, strlen(json), 32, &error);
	g_autoptr(JsonObject) execution = NULL;
	g_autoptr(JsonNode) expected = NULL;
	GtkWidget *dialog;
	GtkWidget *run_button;
	GtkWidget *count, *name;
	JsonObject *inputs;

	g_assert_no_error(error);
	g_signal_connect(action, "activate", G_CALLBACK(show_execution_cb), &shown);
	g_action_map_add_action(G_ACTION_MAP(group), G_ACTION(action));
	gtk_widget_insert_action_group(window, "win", G_ACTION_GROUP(group));
	gtk_window_set_child(GTK_WINDOW(window), parent);
	gtk_window_present(GTK_WINDOW(window));

	dialog = aiq_designer_run_dialog_new(parent,
					     fixture->session,
					     fixture->workflow_id,
					     definition,
					     NULL,
					     NULL);
	g_object_add_weak_pointer(G_OBJECT(dialog), (gpointer *)&dialog);
	g_assert_true(gtk_window_get_transient_for(GTK_WINDOW(dialog)) == GTK_WINDOW(window));
	gtk_window_present(GTK_WINDOW(dialog));
	run_button = (GtkWidget *)gtk_widget_get_template_child(dialog,
								AIQ_DESIGNER_TYPE_RUN_DIALOG,
								"run_button");
	count = aiq_designer_run_dialog_get_field(AIQ_DESIGNER_RUN_DIALOG(dialog), "count");
	name = aiq_designer_run_dialog_get_field(AIQ_DESIGNER_RUN_DIALOG(dialog), "name");
	g_assert_true(GTK_IS_ENTRY(count));
	g_assert_true(GTK_IS_ENTRY(name));

	/* the required input is missing */
	g_signal_emit_by_name(run_button, "clicked");
	g_assert_nonnull(
		aiq_designer_run_dialog_get_field_error(AIQ_DESIGNER_RUN_DIALOG(dialog), "name"));
	g_assert_null(
		aiq_designer_run_dialog_get_field_error(AIQ_DESIGNER_RUN_DIALOG(dialog), "count"));
	/* not a number */
	gtk_editable_set_text(GTK_EDITABLE(name), "Ada");
	gtk_editable_set_text(GTK_EDITABLE(count), "twelve");
	g_signal_emit_by_name(run_button, "clicked");
	g_assert_nonnull(
		aiq_designer_run_dialog_get_field_error(AIQ_DESIGNER_RUN_DIALOG(dialog), "count"));
	g_assert_null(
		aiq_designer_run_dialog_get_field_error(AIQ_DESIGNER_RUN_DIALOG(dialog), "name"));
	g_assert_null(shown);
	settle();
	aiq_designer_test_screenshot(dialog, "run-dialog");

	/* right: it starts, closes and shows the execution */
	gtk_editable_set_text(GTK_EDITABLE(count), "12");
	g_signal_emit_by_name(run_button, "clicked");
	WAIT_UNTIL(shown != NULL);
	WAIT_UNTIL(dialog == NULL);
	execution = get_execution(shown);
	inputs = aiq_json_object_get_object(execution, "inputs");
	g_assert_nonnull(inputs);
	expected = aiq_json_parse("{\"count\":12,\"name\":\"Ada\"}", 25, 4, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(json_object_get_size(inputs), ==, 2);
	g_assert_true(
		json_node_equal(json_object_get_member(inputs, "count"),
				json_object_get_member(json_node_get_object(expected), "count")));
	g_assert_cmpstr(aiq_json_object_get_string(inputs, "name"), ==, "Ada");
	g_assert_cmpstr(aiq_json_object_get_string(execution, "workflow_id"),
			==,
			fixture->workflow_id);
	gtk_window_destroy(GTK_WINDOW(window));
}

int
main(int argc, char **argv)
{
	int rc;
	gtk_test_init(&argc, &argv, NULL);
	adw_init();
	fixture_setup();
	g_test_add_func("/aiq/designer/executions/model", test_model);
	g_test_add_func("/aiq/designer/executions/page", test_page);
	g_test_add_func("/aiq/designer/executions/run-dialog", test_run_dialog);
	rc = g_test_run();
	fixture_teardown();
	return rc;
}
