/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <adwaita.h>

#include "aiq-cron.h"
#include "aiq-designer-document.h"
#include "aiq-designer-step-form.h"
#include "aiq-designer-test.h"
#include "aiq-designer-workflow-form.h"
#include "aiq-json.h"

static const gchar *aiq_test_forms_yaml =
	"name: forms\n"
	"triggers:\n"
	"  - manual: {}\n"
	"steps:\n"
	"  - id: fetch\n"
	"    uses: http\n"
	"    with: { method: GET, url: \"https://erp.internal/a\" }\n"
	"  - id: after\n"
	"    uses: http\n"
	"    with: { url: \"${{ steps.fetch.output.body }}\" }\n";

static JsonObject *
aiq_test_forms_get_with(AiqDesignerDocument *document, const gchar *id)
{
	JsonObject *step = aiq_designer_document_find_step(document, id, NULL);
	g_assert_nonnull(step);
	return aiq_json_object_get_object(step, "with");
}

static const gchar *
aiq_test_forms_get_with_string(AiqDesignerDocument *document, const gchar *param)
{
	JsonObject *with = aiq_test_forms_get_with(document, "fetch");
	return with != NULL ? aiq_json_object_get_string(with, param) : NULL;
}

static JsonNode *
aiq_test_forms_get_with_member(AiqDesignerDocument *document, const gchar *param)
{
	JsonObject *with = aiq_test_forms_get_with(document, "fetch");
	return with != NULL ? json_object_get_member(with, param) : NULL;
}

static GtkWidget *
aiq_test_forms_find(GtkWidget *root, GType type, const gchar *name)
{
	GtkWidget *widget = aiq_designer_test_find_widget(root, type, name);
	if (widget == NULL)
		g_error("no widget named %s", name);
	return widget;
}

static GtkWidget *
aiq_test_forms_window(GtkWidget *child)
{
	GtkWidget *window = gtk_window_new();
	gtk_window_set_default_size(GTK_WINDOW(window), 560, 900);
	gtk_window_set_child(GTK_WINDOW(window), child);
	gtk_window_present(GTK_WINDOW(window));
	AIQ_DESIGNER_WAIT(gtk_widget_get_mapped(child), 5000);
	return window;
}

static void
aiq_test_forms_step(void)
{
	g_autoptr(AiqDesignerDocument) document = aiq_designer_document_new();
	g_autoptr(GError) error = NULL;
	GtkWidget *form = aiq_designer_step_form_new();
	GtkWidget *window;
	GtkWidget *url;
	GtkWidget *follow;
	GtkWidget *size;
	GtkWidget *id;
	JsonNode *node;

	g_assert_true(aiq_designer_document_load_data(document, aiq_test_forms_yaml, -1, &error));
	g_assert_no_error(error);
	window = aiq_test_forms_window(form);
	aiq_designer_step_form_set_document(AIQ_DESIGNER_STEP_FORM(form), document);
	aiq_designer_step_form_set_step(AIQ_DESIGNER_STEP_FORM(form), "fetch");
	g_assert_cmpstr(aiq_designer_step_form_get_step(AIQ_DESIGNER_STEP_FORM(form)), ==, "fetch");
	g_assert_true(aiq_designer_test_has_label(form, "HTTP request"));

	/* the document's value is shown, and an edit is written through */
	url = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "param-url");
	g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(url)), ==, "https://erp.internal/a");
	gtk_widget_grab_focus(url);
	gtk_editable_set_text(GTK_EDITABLE(url), "https://example.com/b");
	AIQ_DESIGNER_WAIT(g_strcmp0(aiq_test_forms_get_with_string(document, "url"),
				    "https://example.com/b") == 0,
			  3000);
	/* its own edit did not rebuild the form */
	g_assert_true(aiq_designer_test_find_widget(form, GTK_TYPE_ENTRY, "param-url") == url);

	/* an expression that does not compile shows an error while typing */
	gtk_editable_set_text(GTK_EDITABLE(url), "https://example.com/${{ 1 + }}");
	AIQ_DESIGNER_WAIT(gtk_widget_has_css_class(url, "error"), 3000);
	gtk_editable_set_text(GTK_EDITABLE(url), "https://example.com/${{ 1 + 2 }}");
	AIQ_DESIGNER_WAIT(!gtk_widget_has_css_class(url, "error"), 3000);
	AIQ_DESIGNER_WAIT(g_strcmp0(aiq_test_forms_get_with_string(document, "url"),
				    "https://example.com/${{ 1 + 2 }}") == 0,
			  3000);

	/* a switch writes a boolean */
	follow = aiq_test_forms_find(form, GTK_TYPE_SWITCH, "param-follow_redirects");
	g_assert_true(gtk_switch_get_active(GTK_SWITCH(follow))); /* the default */
	gtk_switch_set_active(GTK_SWITCH(follow), FALSE);
	node = aiq_test_forms_get_with_member(document, "follow_redirects");
	g_assert_nonnull(node);
	g_assert_true(aiq_json_is_bool(node));
	g_assert_false(json_node_get_boolean(node));

	/* a number field writes an integer; text that is not a number is refused */
	size = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "param-max_response_size");
	gtk_editable_set_text(GTK_EDITABLE(size), "2048");
	AIQ_DESIGNER_WAIT(aiq_test_forms_get_with_member(document, "max_response_size") != NULL,
			  3000);
	node = aiq_test_forms_get_with_member(document, "max_response_size");
	g_assert_true(aiq_json_is_integer(node));
	g_assert_cmpint(json_node_get_int(node), ==, 2048);
	gtk_editable_set_text(GTK_EDITABLE(size), "lots");
	AIQ_DESIGNER_WAIT(gtk_widget_has_css_class(size, "error"), 3000);
	g_assert_cmpint(
		json_node_get_int(aiq_test_forms_get_with_member(document, "max_response_size")),
		==,
		2048);
	gtk_editable_set_text(GTK_EDITABLE(size), "${{ 1024 * 4 }}");
	AIQ_DESIGNER_WAIT(
		aiq_json_is_string(aiq_test_forms_get_with_member(document, "max_response_size")),
		3000);
	g_assert_false(gtk_widget_has_css_class(size, "error"));

	/* a header added in the key/value editor makes an object */
	g_signal_emit_by_name(aiq_test_forms_find(form, GTK_TYPE_BUTTON, "param-headers-add"),
			      "clicked");
	gtk_editable_set_text(
		GTK_EDITABLE(aiq_test_forms_find(form, GTK_TYPE_ENTRY, "param-headers-key-0")),
		"Accept");
	gtk_editable_set_text(
		GTK_EDITABLE(aiq_test_forms_find(form, GTK_TYPE_ENTRY, "param-headers-value-0")),
		"application/json");
	AIQ_DESIGNER_WAIT(aiq_test_forms_get_with_member(document, "headers") != NULL, 3000);
	node = aiq_test_forms_get_with_member(document, "headers");
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	g_assert_cmpstr(aiq_json_object_get_string(json_node_get_object(node), "Accept"),
			==,
			"application/json");

	/* the step's own members: a duration, checked */
	gtk_editable_set_text(
		GTK_EDITABLE(aiq_test_forms_find(form, GTK_TYPE_ENTRY, "step-timeout")),
		"10s");
	AIQ_DESIGNER_WAIT(
		g_strcmp0(aiq_json_object_get_string(
				  aiq_designer_document_find_step(document, "fetch", NULL),
				  "timeout"),
			  "10s") == 0,
		3000);

	aiq_designer_test_screenshot(window, "designer-step-form");

	/* undo replaces the document: the form shows its values again */
	while (aiq_designer_document_can_undo(document))
		aiq_designer_document_undo(document);
	g_assert_cmpstr(aiq_test_forms_get_with_string(document, "url"),
			==,
			"https://erp.internal/a");
	url = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "param-url");
	g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(url)), ==, "https://erp.internal/a");
	follow = aiq_test_forms_find(form, GTK_TYPE_SWITCH, "param-follow_redirects");
	g_assert_true(gtk_switch_get_active(GTK_SWITCH(follow)));
	size = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "param-max_response_size");
	g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(size)), ==, "");
	g_assert_null(aiq_designer_test_find_widget(form, GTK_TYPE_ENTRY, "param-headers-key-0"));

	/* an invalid id: the error is on the row and nothing changes */
	id = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "step-id");
	g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(id)), ==, "fetch");
	gtk_editable_set_text(GTK_EDITABLE(id), "9 bad");
	g_signal_emit_by_name(id, "activate");
	g_assert_true(gtk_widget_has_css_class(id, "error"));
	g_assert_nonnull(aiq_designer_document_find_step(document, "fetch", NULL));
	g_assert_null(aiq_designer_document_find_step(document, "9 bad", NULL));
	/* a taken one too */
	gtk_editable_set_text(GTK_EDITABLE(id), "after");
	g_signal_emit_by_name(id, "activate");
	g_assert_true(gtk_widget_has_css_class(id, "error"));
	g_assert_nonnull(aiq_designer_document_find_step(document, "fetch", NULL));
	/* a good one renames the step and its references */
	gtk_editable_set_text(GTK_EDITABLE(id), "download");
	g_assert_false(gtk_widget_has_css_class(id, "error"));
	g_signal_emit_by_name(id, "activate");
	g_assert_false(gtk_widget_has_css_class(id, "error"));
	g_assert_nonnull(aiq_designer_document_find_step(document, "download", NULL));
	g_assert_cmpstr(aiq_designer_step_form_get_step(AIQ_DESIGNER_STEP_FORM(form)),
			==,
			"download");
	g_assert_cmpstr(
		aiq_json_object_get_string(aiq_test_forms_get_with(document, "after"), "url"),
		==,
		"${{ steps.download.output.body }}");

	/* problems of the step are shown at their fields; focus_path finds them */
	{
		g_autoptr(AiqProblems) problems = aiq_problems_new();
		aiq_problems_add(problems, "steps[0].with.url", "%s", "bad url");
		aiq_problems_add(problems, "steps[1].with.url", "%s", "not mine");
		aiq_designer_step_form_set_problems(AIQ_DESIGNER_STEP_FORM(form), problems);
		url = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "param-url");
		g_assert_true(gtk_widget_has_css_class(url, "error"));
		g_assert_true(aiq_designer_test_has_label(form, "bad url"));
		g_assert_false(aiq_designer_test_has_label(form, "not mine"));
		aiq_designer_step_form_set_problems(AIQ_DESIGNER_STEP_FORM(form), NULL);
		g_assert_false(gtk_widget_has_css_class(url, "error"));
		g_assert_true(aiq_designer_step_form_focus_path(AIQ_DESIGNER_STEP_FORM(form),
								"steps[0].retry.max_attempts"));
		g_assert_false(aiq_designer_step_form_focus_path(AIQ_DESIGNER_STEP_FORM(form),
								 "steps[0].nothing"));
	}

	/* another step, and none */
	aiq_designer_step_form_set_step(AIQ_DESIGNER_STEP_FORM(form), "after");
	url = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "param-url");
	g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(url)),
			==,
			"${{ steps.download.output.body }}");
	aiq_designer_step_form_set_step(AIQ_DESIGNER_STEP_FORM(form), NULL);
	g_assert_null(aiq_designer_test_find_widget(form, GTK_TYPE_ENTRY, "param-url"));

	gtk_window_destroy(GTK_WINDOW(window));
}

/* what the form should show, computed here without its code */
static gchar *
aiq_test_forms_expected_times(const gchar *expr, const gchar *zone)
{
	g_autoptr(AiqCron) cron = aiq_cron_new(expr, NULL);
	g_autoptr(GTimeZone) tz = aiq_timezone_new(zone, NULL);
	g_autoptr(GString) str = g_string_new(NULL);
	gint64 t = g_get_real_time() / G_USEC_PER_SEC;
	for (guint i = 0; i < 5; i++) {
		g_autoptr(GDateTime) utc = NULL;
		g_autoptr(GDateTime) local = NULL;
		g_autofree gchar *text = NULL;
		t = aiq_cron_next(cron, tz, t);
		g_assert_cmpint(t, >, 0);
		utc = g_date_time_new_from_unix_utc(t);
		local = g_date_time_to_timezone(utc, tz);
		g_assert_cmpint(g_date_time_get_hour(local), ==, 2);
		g_assert_cmpint(g_date_time_get_day_of_week(local), <=, 5);
		text = g_date_time_format(local, "%a %Y-%m-%d %H:%M +08");
		if (str->len > 0)
			g_string_append_c(str, '\n');
		g_string_append(str, text);
	}
	return g_string_free(g_steal_pointer(&str), FALSE);
}

static JsonObject *
aiq_test_forms_get_schedule(AiqDesignerDocument *document, guint idx)
{
	JsonNode *triggers = aiq_designer_document_get_member(document, "triggers");
	JsonArray *array;
	JsonNode *trigger;
	if (triggers == NULL || !JSON_NODE_HOLDS_ARRAY(triggers))
		return NULL;
	array = json_node_get_array(triggers);
	if (idx >= json_array_get_length(array))
		return NULL;
	trigger = json_array_get_element(array, idx);
	return aiq_json_object_get_object(json_node_get_object(trigger), "schedule");
}

static void
aiq_test_forms_workflow(void)
{
	g_autoptr(AiqDesignerDocument) document = aiq_designer_document_new_empty("wf");
	GtkWidget *form = aiq_designer_workflow_form_new();
	GtkWidget *window;
	GtkWidget *cron;
	GtkWidget *tz;
	GtkWidget *next;
	GtkWidget *name;
	JsonObject *schedule;
	JsonNode *inputs;
	g_autofree gchar *expected = NULL;

	window = aiq_test_forms_window(form);
	aiq_designer_workflow_form_set_document(AIQ_DESIGNER_WORKFLOW_FORM(form), document);
	aiq_designer_workflow_form_set_webhook_url(AIQ_DESIGNER_WORKFLOW_FORM(form), NULL);
	name = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "workflow-name");
	g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(name)), ==, "wf");

	/* a schedule trigger */
	g_assert_true(
		gtk_widget_activate_action(form, "workflow-form.add-trigger", "s", "schedule"));
	AIQ_DESIGNER_WAIT(aiq_designer_test_find_widget(form, GTK_TYPE_ENTRY, "trigger-1-cron") !=
				  NULL,
			  3000);
	g_assert_nonnull(aiq_test_forms_get_schedule(document, 1));
	cron = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "trigger-1-cron");
	tz = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "trigger-1-timezone");
	gtk_editable_set_text(GTK_EDITABLE(cron), "0 2 * * 1-5");
	gtk_editable_set_text(GTK_EDITABLE(tz), "Asia/Singapore");
	AIQ_DESIGNER_WAIT((schedule = aiq_test_forms_get_schedule(document, 1)) != NULL &&
				  g_strcmp0(aiq_json_object_get_string(schedule, "cron"),
					    "0 2 * * 1-5") == 0 &&
				  g_strcmp0(aiq_json_object_get_string(schedule, "timezone"),
					    "Asia/Singapore") == 0,
			  3000);
	next = aiq_test_forms_find(form, GTK_TYPE_LABEL, "trigger-1-next");
	expected = aiq_test_forms_expected_times("0 2 * * 1-5", "Asia/Singapore");
	AIQ_DESIGNER_WAIT(g_strcmp0(gtk_label_get_text(GTK_LABEL(next)), expected) == 0, 3000);
	g_assert_false(gtk_widget_has_css_class(cron, "error"));

	/* an invalid cron expression and time zone show errors */
	gtk_editable_set_text(GTK_EDITABLE(cron), "61 2 * * *");
	AIQ_DESIGNER_WAIT(gtk_widget_has_css_class(cron, "error"), 3000);
	AIQ_DESIGNER_WAIT(g_strcmp0(gtk_label_get_text(GTK_LABEL(next)), "—") == 0, 3000);
	gtk_editable_set_text(GTK_EDITABLE(cron), "0 2 * * 1-5");
	AIQ_DESIGNER_WAIT(!gtk_widget_has_css_class(cron, "error"), 3000);
	gtk_editable_set_text(GTK_EDITABLE(tz), "Mars/Olympus");
	AIQ_DESIGNER_WAIT(gtk_widget_has_css_class(tz, "error"), 3000);
	gtk_editable_set_text(GTK_EDITABLE(tz), "Asia/Singapore");
	AIQ_DESIGNER_WAIT(!gtk_widget_has_css_class(tz, "error"), 3000);
	AIQ_DESIGNER_WAIT(g_strcmp0(gtk_label_get_text(GTK_LABEL(next)), expected) == 0, 3000);

	/* a webhook shows where its URL will be */
	g_assert_true(
		gtk_widget_activate_action(form, "workflow-form.add-trigger", "s", "webhook"));
	AIQ_DESIGNER_WAIT(aiq_designer_test_find_widget(form, G_TYPE_INVALID, "trigger-2-url") !=
				  NULL,
			  3000);
	g_assert_true(aiq_designer_test_has_label(form, "Save the workflow to get its URL"));
	aiq_designer_workflow_form_set_webhook_url(AIQ_DESIGNER_WORKFLOW_FORM(form),
						   "https://aiq.example/hooks/abc");
	g_assert_true(aiq_designer_test_has_label(form, "https://aiq.example/hooks/abc"));

	/* an input */
	g_assert_true(gtk_widget_activate_action(form, "workflow-form.add-input", NULL));
	AIQ_DESIGNER_WAIT(aiq_designer_test_find_widget(form, GTK_TYPE_DROP_DOWN, "input-0-type") !=
				  NULL,
			  3000);
	inputs = aiq_designer_document_get_member(document, "inputs");
	g_assert_nonnull(inputs);
	g_assert_true(json_object_has_member(json_node_get_object(inputs), "input_1"));
	gtk_drop_down_set_selected(
		GTK_DROP_DOWN(aiq_test_forms_find(form, GTK_TYPE_DROP_DOWN, "input-0-type")),
		2 /* after "default": integer */);
	inputs = aiq_designer_document_get_member(document, "inputs");
	g_assert_cmpstr(aiq_json_object_get_string(
				aiq_json_object_get_object(json_node_get_object(inputs), "input_1"),
				"type"),
			==,
			"integer");
	gtk_editable_set_text(
		GTK_EDITABLE(aiq_test_forms_find(form, GTK_TYPE_ENTRY, "input-0-name")),
		"limit");
	g_signal_emit_by_name(aiq_test_forms_find(form, GTK_TYPE_ENTRY, "input-0-name"),
			      "activate");
	inputs = aiq_designer_document_get_member(document, "inputs");
	g_assert_true(json_object_has_member(json_node_get_object(inputs), "limit"));
	g_assert_false(json_object_has_member(json_node_get_object(inputs), "input_1"));

	/* the workflow's own members */
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(form, "limit"), 3000);
	name = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "workflow-name");
	gtk_editable_set_text(GTK_EDITABLE(name), "nightly-sync");
	AIQ_DESIGNER_WAIT(g_strcmp0(aiq_designer_document_get_name(document), "nightly-sync") == 0,
			  3000);

	aiq_designer_test_screenshot(window, "designer-workflow-form");

	/* removing a trigger */
	g_signal_emit_by_name(aiq_test_forms_find(form, GTK_TYPE_BUTTON, "trigger-0-remove"),
			      "clicked");
	AIQ_DESIGNER_WAIT(aiq_designer_test_find_widget(form, GTK_TYPE_ENTRY, "trigger-0-cron") !=
				  NULL,
			  3000);
	g_assert_nonnull(aiq_test_forms_get_schedule(document, 0));

	/* undo brings it back, with its values */
	g_assert_true(aiq_designer_document_undo(document));
	AIQ_DESIGNER_WAIT(aiq_designer_test_find_widget(form, GTK_TYPE_ENTRY, "trigger-1-cron") !=
				  NULL,
			  3000);
	cron = aiq_test_forms_find(form, GTK_TYPE_ENTRY, "trigger-1-cron");
	g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(cron)), ==, "0 2 * * 1-5");

	gtk_window_destroy(GTK_WINDOW(window));
}

int
main(int argc, char **argv)
{
	aiq_designer_test_init(&argc, &argv);
	g_test_add_func("/aiq/designer/forms/step", aiq_test_forms_step);
	g_test_add_func("/aiq/designer/forms/workflow", aiq_test_forms_workflow);
	return g_test_run();
}
