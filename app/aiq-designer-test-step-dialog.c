/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Runs one step on the agent of this machine (TestStep over D-Bus) and
 * shows what came of it: status, duration, output and log.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-local-agent.h"
#include "aiq-designer-test-step-dialog-private.h"
#include "aiq-designer-util.h"

struct _AiqDesignerTestStepDialog {
	AdwWindow parent_instance;
	GCancellable *cancellable;
	gchar *status;
	gchar *error;

	AdwWindowTitle *window_title;
	GtkButton *close_button;
	GtkStack *stack;
	GtkSpinner *spinner;
	AdwStatusPage *error_page;
	GtkLabel *status_label;
	GtkLabel *duration_label;
	AdwActionRow *error_row;
	GtkTextView *output_view;
	GtkTextView *log_view;
};

G_DEFINE_TYPE(AiqDesignerTestStepDialog, aiq_designer_test_step_dialog, ADW_TYPE_WINDOW)

/* running, error or result */
const gchar *
aiq_designer_test_step_dialog_get_state(AiqDesignerTestStepDialog *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_TEST_STEP_DIALOG(self), NULL);
	return gtk_stack_get_visible_child_name(self->stack);
}

static gchar *
aiq_designer_test_step_dialog_dup_text(GtkTextView *view)
{
	GtkTextBuffer *buffer = gtk_text_view_get_buffer(view);
	GtkTextIter start, end;
	gtk_text_buffer_get_bounds(buffer, &start, &end);
	return gtk_text_buffer_get_text(buffer, &start, &end, FALSE);
}

gchar *
aiq_designer_test_step_dialog_dup_output(AiqDesignerTestStepDialog *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_TEST_STEP_DIALOG(self), NULL);
	return aiq_designer_test_step_dialog_dup_text(self->output_view);
}

gchar *
aiq_designer_test_step_dialog_dup_log(AiqDesignerTestStepDialog *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_TEST_STEP_DIALOG(self), NULL);
	return aiq_designer_test_step_dialog_dup_text(self->log_view);
}

const gchar *
aiq_designer_test_step_dialog_get_status(AiqDesignerTestStepDialog *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_TEST_STEP_DIALOG(self), NULL);
	return self->status;
}

/* the error the call or the step failed with */
const gchar *
aiq_designer_test_step_dialog_get_error(AiqDesignerTestStepDialog *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_TEST_STEP_DIALOG(self), NULL);
	return self->error;
}

static void
aiq_designer_test_step_dialog_finished(AiqDesignerTestStepDialog *self)
{
	gtk_spinner_stop(self->spinner);
	gtk_button_set_label(self->close_button, _("_Close"));
}

static void
aiq_designer_test_step_dialog_show_error(AiqDesignerTestStepDialog *self, const gchar *message)
{
	g_free(self->error);
	self->error = g_strdup(message);
	adw_status_page_set_description(self->error_page, message);
	gtk_stack_set_visible_child_name(self->stack, "error");
	aiq_designer_test_step_dialog_finished(self);
}

static void
aiq_designer_test_step_dialog_show_result(AiqDesignerTestStepDialog *self,
					  const gchar *result_json,
					  const gchar *log)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *duration = NULL;
	JsonNode *root;
	JsonObject *result;
	JsonNode *output;
	JsonNode *err;

	if (!json_parser_load_from_data(parser, result_json, -1, &error) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		g_autofree gchar *message =
			g_strdup_printf(_("The agent sent a result that is not a JSON object: %s"),
					error != NULL ? error->message : result_json);
		aiq_designer_test_step_dialog_show_error(self, message);
		return;
	}
	root = json_parser_get_root(parser);
	result = json_node_get_object(root);

	g_free(self->status);
	self->status =
		g_strdup(json_object_get_string_member_with_default(result, "status", "unknown"));
	gtk_label_set_text(self->status_label, aiq_designer_status_to_label(self->status));
	gtk_widget_add_css_class(GTK_WIDGET(self->status_label),
				 aiq_designer_status_to_css_class(self->status));

	duration = aiq_designer_format_duration(
		json_object_get_int_member_with_default(result, "duration_ms", -1));
	gtk_label_set_text(self->duration_label, duration);

	err = json_object_get_member(result, "error");
	if (err != NULL && JSON_NODE_HOLDS_OBJECT(err)) {
		JsonObject *obj = json_node_get_object(err);
		const gchar *message =
			json_object_get_string_member_with_default(obj, "message", "");
		const gchar *code = json_object_get_string_member_with_default(obj, "code", "");
		g_autofree gchar *text = code[0] != '\0' ? g_strdup_printf("%s (%s)", message, code)
							 : g_strdup(message);
		g_free(self->error);
		self->error = g_strdup(text);
		adw_action_row_set_subtitle(self->error_row, text);
		gtk_widget_set_visible(GTK_WIDGET(self->error_row), TRUE);
	}

	output = json_object_get_member(result, "output");
	if (output != NULL && !JSON_NODE_HOLDS_NULL(output)) {
		g_autofree gchar *text = json_to_string(output, TRUE);
		gtk_text_buffer_set_text(gtk_text_view_get_buffer(self->output_view), text, -1);
	} else {
		gtk_text_buffer_set_text(gtk_text_view_get_buffer(self->output_view),
					 _("No output"),
					 -1);
	}
	gtk_text_buffer_set_text(gtk_text_view_get_buffer(self->log_view),
				 log != NULL && log[0] != '\0' ? log : _("Nothing logged"),
				 -1);
	gtk_stack_set_visible_child_name(self->stack, "result");
	aiq_designer_test_step_dialog_finished(self);
}

static void
aiq_designer_test_step_dialog_call_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerTestStepDialog) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *result_json = NULL;
	g_autofree gchar *log = NULL;

	if (!aiq_dbus_agent1_call_test_step_finish(AIQ_DBUS_AGENT1(source),
						   &result_json,
						   &log,
						   res,
						   &error)) {
		if (aiq_designer_error_is_cancelled(error))
			return;
		/* AIQ_ERROR crosses the bus intact; anything else keeps its
		 * D-Bus name, which means nothing to a user */
		g_dbus_error_strip_remote_error(error);
		aiq_designer_test_step_dialog_show_error(self, error->message);
		return;
	}
	aiq_designer_test_step_dialog_show_result(self, result_json, log);
}

static void
aiq_designer_test_step_dialog_start(AiqDesignerTestStepDialog *self,
				    JsonObject *step,
				    JsonObject *inputs)
{
	AiqDbusAgent1 *proxy =
		aiq_designer_local_agent_get_proxy(aiq_designer_local_agent_get_default());
	g_autoptr(JsonNode) step_node = json_node_new(JSON_NODE_OBJECT);
	g_autofree gchar *step_json = NULL;
	g_autofree gchar *inputs_json = NULL;
	const gchar *id = json_object_get_string_member_with_default(step, "id", NULL);

	if (id != NULL)
		adw_window_title_set_subtitle(self->window_title, id);
	if (proxy == NULL) {
		aiq_designer_test_step_dialog_show_error(
			self,
			_("No AutomateIQ agent runs on this computer. Install and start "
			  "automateiq-agent to test steps here."));
		return;
	}
	json_node_set_object(step_node, step);
	step_json = json_to_string(step_node, FALSE);
	if (inputs != NULL) {
		g_autoptr(JsonNode) inputs_node = json_node_new(JSON_NODE_OBJECT);
		json_node_set_object(inputs_node, inputs);
		inputs_json = json_to_string(inputs_node, FALSE);
	}
	aiq_dbus_agent1_call_test_step(proxy,
				       step_json,
				       inputs_json != NULL ? inputs_json : "{}",
				       self->cancellable,
				       aiq_designer_test_step_dialog_call_cb,
				       g_object_ref(self));
}

static void
aiq_designer_test_step_dialog_close_action(GtkWidget *widget,
					   const gchar *action_name,
					   GVariant *param)
{
	AiqDesignerTestStepDialog *self = AIQ_DESIGNER_TEST_STEP_DIALOG(widget);
	g_cancellable_cancel(self->cancellable);
	gtk_window_close(GTK_WINDOW(self));
}

static void
aiq_designer_test_step_dialog_dispose(GObject *object)
{
	AiqDesignerTestStepDialog *self = AIQ_DESIGNER_TEST_STEP_DIALOG(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	gtk_widget_dispose_template(GTK_WIDGET(self), AIQ_DESIGNER_TYPE_TEST_STEP_DIALOG);
	G_OBJECT_CLASS(aiq_designer_test_step_dialog_parent_class)->dispose(object);
}

static void
aiq_designer_test_step_dialog_finalize(GObject *object)
{
	AiqDesignerTestStepDialog *self = AIQ_DESIGNER_TEST_STEP_DIALOG(object);
	g_free(self->status);
	g_free(self->error);
	G_OBJECT_CLASS(aiq_designer_test_step_dialog_parent_class)->finalize(object);
}

static void
aiq_designer_test_step_dialog_class_init(AiqDesignerTestStepDialogClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = aiq_designer_test_step_dialog_dispose;
	object_class->finalize = aiq_designer_test_step_dialog_finalize;

	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-test-step-dialog.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerTestStepDialog, window_title);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerTestStepDialog, close_button);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerTestStepDialog, stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerTestStepDialog, spinner);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerTestStepDialog, error_page);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerTestStepDialog, status_label);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerTestStepDialog,
					     duration_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerTestStepDialog, error_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerTestStepDialog, output_view);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerTestStepDialog, log_view);
	gtk_widget_class_install_action(widget_class,
					"test-step.close",
					NULL,
					aiq_designer_test_step_dialog_close_action);
	gtk_widget_class_add_binding_action(widget_class,
					    GDK_KEY_Escape,
					    0,
					    "test-step.close",
					    NULL);
}

static void
aiq_designer_test_step_dialog_init(AiqDesignerTestStepDialog *self)
{
	self->cancellable = g_cancellable_new();
	gtk_widget_init_template(GTK_WIDGET(self));
}

/**
 * aiq_designer_test_step_dialog_new:
 * @parent: (nullable): a widget of the window the dialog belongs to
 * @step: the step, as in a definition (`id`, `uses`, `with`, …)
 * @inputs: (nullable): what the step sees as `${{ inputs.* }}`
 *
 * Makes a dialog that runs @step on the local agent at once; present it.
 * Closing it cancels the call.
 *
 * Returns: (transfer floating): the dialog
 */
GtkWidget *
aiq_designer_test_step_dialog_new(GtkWidget *parent, JsonObject *step, JsonObject *inputs)
{
	AiqDesignerTestStepDialog *self;

	g_return_val_if_fail(parent == NULL || GTK_IS_WIDGET(parent), NULL);
	g_return_val_if_fail(step != NULL, NULL);

	self = g_object_new(AIQ_DESIGNER_TYPE_TEST_STEP_DIALOG, NULL);
	if (parent != NULL) {
		GtkRoot *root = gtk_widget_get_root(parent);
		if (GTK_IS_WINDOW(root))
			gtk_window_set_transient_for(GTK_WINDOW(self), GTK_WINDOW(root));
	}
	aiq_designer_test_step_dialog_start(self, step, inputs);
	return GTK_WIDGET(self);
}
