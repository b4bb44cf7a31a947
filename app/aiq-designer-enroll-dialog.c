/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Makes an enrollment token and shows it, once, as the exact command that
 * enrolls an agent with it.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-enroll-dialog.h"
#include "aiq-designer-util.h"

struct _AiqDesignerEnrollDialog {
	AdwWindow parent_instance;
	AiqDesignerSession *session;
	GCancellable *cancellable;
	gchar *command;

	GtkStack *stack;
	GtkStack *end_stack;
	GtkWidget *cancel_button;
	GtkSpinner *spinner;
	AdwEntryRow *name_row;
	AdwEntryRow *labels_row;
	AdwComboRow *expiry_row;
	GtkLabel *command_label;
	GtkLabel *expiry_label;
};

G_DEFINE_TYPE(AiqDesignerEnrollDialog, aiq_designer_enroll_dialog, ADW_TYPE_WINDOW)

/* in the order of the expiry row's model */
static const gchar *aiq_designer_enroll_expiries[] = { "1h", "1d", "7d" };

/**
 * aiq_designer_enroll_dialog_get_command:
 *
 * Returns: (nullable): the enrollment command, once the token is made
 */
const gchar *
aiq_designer_enroll_dialog_get_command(AiqDesignerEnrollDialog *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_ENROLL_DIALOG(self), NULL);
	return self->command;
}

/* quoted for a shell only when it has to be */
static gchar *
aiq_designer_enroll_dialog_quote(const gchar *arg)
{
	for (const gchar *p = arg; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr(":/._-@[]%", *p) == NULL)
			return g_shell_quote(arg);
	}
	return g_strdup(arg);
}

static void
aiq_designer_enroll_dialog_create_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerEnrollDialog) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *server = NULL;
	g_autofree gchar *token = NULL;
	JsonObject *obj;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	gtk_spinner_stop(self->spinner);
	if (node == NULL) {
		if (aiq_designer_error_is_cancelled(error))
			return;
		gtk_stack_set_visible_child_name(self->end_stack, "create");
		gtk_widget_set_sensitive(GTK_WIDGET(self->stack), TRUE);
		aiq_designer_show_error(GTK_WIDGET(self), error);
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(node) ||
	    !json_object_has_member(json_node_get_object(node), "token")) {
		g_autoptr(GError) error_local = g_error_new_literal(G_IO_ERROR,
								    G_IO_ERROR_INVALID_DATA,
								    _("The server sent no token"));
		gtk_stack_set_visible_child_name(self->end_stack, "create");
		gtk_widget_set_sensitive(GTK_WIDGET(self->stack), TRUE);
		aiq_designer_show_error(GTK_WIDGET(self), error_local);
		return;
	}
	obj = json_node_get_object(node);
	server = aiq_designer_enroll_dialog_quote(
		aiq_designer_session_get_server_url(self->session));
	token = aiq_designer_enroll_dialog_quote(json_object_get_string_member(obj, "token"));
	self->command = g_strdup_printf("sudo automateiq-agent enroll --server %s --token %s",
					server,
					token);
	gtk_label_set_text(self->command_label, self->command);
	if (json_object_get_string_member_with_default(obj, "expires_at", NULL) != NULL) {
		g_autofree gchar *when =
			aiq_designer_format_time(json_object_get_string_member(obj, "expires_at"));
		/* TRANSLATORS: %s is a time */
		g_autofree gchar *text = g_strdup_printf(_("The token expires at %s."), when);
		gtk_label_set_text(self->expiry_label, text);
	}
	gtk_widget_set_visible(self->cancel_button, FALSE);
	gtk_widget_set_sensitive(GTK_WIDGET(self->stack), TRUE);
	gtk_stack_set_visible_child_name(self->stack, "token");
	gtk_stack_set_visible_child_name(self->end_stack, "done");
}

static void
aiq_designer_enroll_dialog_create_action(GtkWidget *widget,
					 const gchar *action_name,
					 GVariant *param)
{
	AiqDesignerEnrollDialog *self = AIQ_DESIGNER_ENROLL_DIALOG(widget);
	const gchar *name = gtk_editable_get_text(GTK_EDITABLE(self->name_row));
	g_auto(GStrv) parts =
		g_strsplit(gtk_editable_get_text(GTK_EDITABLE(self->labels_row)), ",", -1);
	g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *name_stripped = g_strstrip(g_strdup(name));
	guint expiry = adw_combo_row_get_selected(self->expiry_row);

	for (guint i = 0; parts[i] != NULL; i++) {
		g_autofree gchar *label = g_strstrip(g_strdup(parts[i]));
		if (label[0] != '\0')
			g_ptr_array_add(labels, g_steal_pointer(&label));
	}
	g_ptr_array_add(labels, NULL);
	if (expiry >= G_N_ELEMENTS(aiq_designer_enroll_expiries))
		expiry = 0;

	gtk_stack_set_visible_child_name(self->end_stack, "busy");
	gtk_spinner_start(self->spinner);
	gtk_widget_set_sensitive(GTK_WIDGET(self->stack), FALSE);
	aiq_client_create_enrollment_token_async(aiq_designer_session_get_client(self->session),
						 name_stripped[0] != '\0' ? name_stripped : NULL,
						 (const gchar *const *)labels->pdata,
						 aiq_designer_enroll_expiries[expiry],
						 self->cancellable,
						 aiq_designer_enroll_dialog_create_cb,
						 g_object_ref(self));
}

static void
aiq_designer_enroll_dialog_copy_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerEnrollDialog *self = AIQ_DESIGNER_ENROLL_DIALOG(widget);
	if (self->command == NULL)
		return;
	gdk_clipboard_set_text(gtk_widget_get_clipboard(widget), self->command);
	aiq_designer_show_toast(widget, _("Command copied"));
}

static void
aiq_designer_enroll_dialog_dispose(GObject *object)
{
	AiqDesignerEnrollDialog *self = AIQ_DESIGNER_ENROLL_DIALOG(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->session);
	gtk_widget_dispose_template(GTK_WIDGET(self), AIQ_DESIGNER_TYPE_ENROLL_DIALOG);
	G_OBJECT_CLASS(aiq_designer_enroll_dialog_parent_class)->dispose(object);
}

static void
aiq_designer_enroll_dialog_finalize(GObject *object)
{
	AiqDesignerEnrollDialog *self = AIQ_DESIGNER_ENROLL_DIALOG(object);
	g_free(self->command);
	G_OBJECT_CLASS(aiq_designer_enroll_dialog_parent_class)->finalize(object);
}

static void
aiq_designer_enroll_dialog_class_init(AiqDesignerEnrollDialogClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = aiq_designer_enroll_dialog_dispose;
	object_class->finalize = aiq_designer_enroll_dialog_finalize;

	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-enroll-dialog.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEnrollDialog, stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEnrollDialog, end_stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEnrollDialog, cancel_button);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEnrollDialog, spinner);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEnrollDialog, name_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEnrollDialog, labels_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEnrollDialog, expiry_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEnrollDialog, command_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerEnrollDialog, expiry_label);
	gtk_widget_class_install_action(widget_class,
					"enroll.create",
					NULL,
					aiq_designer_enroll_dialog_create_action);
	gtk_widget_class_install_action(widget_class,
					"enroll.copy",
					NULL,
					aiq_designer_enroll_dialog_copy_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
aiq_designer_enroll_dialog_init(AiqDesignerEnrollDialog *self)
{
	self->cancellable = g_cancellable_new();
	gtk_widget_init_template(GTK_WIDGET(self));
}

/**
 * aiq_designer_enroll_dialog_new:
 * @parent: (nullable): a widget of the window the dialog belongs to
 *
 * Returns: (transfer floating): the dialog; present it
 */
GtkWidget *
aiq_designer_enroll_dialog_new(GtkWidget *parent, AiqDesignerSession *session)
{
	AiqDesignerEnrollDialog *self;

	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(session), NULL);

	self = g_object_new(AIQ_DESIGNER_TYPE_ENROLL_DIALOG, NULL);
	self->session = g_object_ref(session);
	if (parent != NULL) {
		GtkRoot *root = gtk_widget_get_root(parent);
		if (GTK_IS_WINDOW(root))
			gtk_window_set_transient_for(GTK_WINDOW(self), GTK_WINDOW(root));
	}
	return GTK_WIDGET(self);
}
