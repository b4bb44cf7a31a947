/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The executions page: the executions of the tenant, newest first, paged
 * from the server as they scroll into view, filtered by status, workflow
 * and period, updated live; a row opens the execution's view.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-execution-list-model.h"
#include "aiq-designer-execution-view.h"
#include "aiq-designer-executions-page.h"
#include "aiq-designer-util.h"
#include "aiq-json.h"

typedef enum {
	AIQ_DESIGNER_COLUMN_STATUS,
	AIQ_DESIGNER_COLUMN_WORKFLOW,
	AIQ_DESIGNER_COLUMN_TRIGGER,
	AIQ_DESIGNER_COLUMN_CREATED,
	AIQ_DESIGNER_COLUMN_DURATION,
} AiqDesignerColumn;

/* the status filter, in the order of the drop-down */
static const gchar *aiq_designer_status_filters[] = { NULL,        "queued", "running",
						      "succeeded", "failed", "cancelled",
						      "timed_out" };
/* the period filter, in hours (0: all) */
static const gint64 aiq_designer_period_hours[] = { 1, 24, 24 * 7, 0 };

struct _AiqDesignerExecutionsPage {
	AdwBin parent_instance;
	GtkStack *stack;
	GtkDropDown *status_dropdown;
	GtkDropDown *workflow_dropdown;
	GtkDropDown *period_dropdown;
	GtkLabel *count_label;
	GtkStack *list_stack;
	AdwStatusPage *error_page;
	GtkColumnView *column_view;
	GtkBox *view_box;

	AiqDesignerSession *session;
	AiqDesignerExecutionListModel *model;
	GtkWidget *view;
	GtkStringList *workflow_names;
	GPtrArray *workflow_ids; /* parallel to workflow_names; [0] is NULL (all) */
	GCancellable *cancellable;
	gboolean updating_workflows;
};

G_DEFINE_TYPE(AiqDesignerExecutionsPage, aiq_designer_executions_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_SESSION,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

GListModel *
aiq_designer_executions_page_get_model(AiqDesignerExecutionsPage *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTIONS_PAGE(self), NULL);
	return G_LIST_MODEL(self->model);
}

GtkWidget *
aiq_designer_executions_page_get_execution_view(AiqDesignerExecutionsPage *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTIONS_PAGE(self), NULL);
	return self->view;
}

static void
aiq_designer_executions_page_apply_filter(AiqDesignerExecutionsPage *self)
{
	guint status = gtk_drop_down_get_selected(self->status_dropdown);
	guint workflow = gtk_drop_down_get_selected(self->workflow_dropdown);
	guint period = gtk_drop_down_get_selected(self->period_dropdown);
	gint64 since = 0;

	if (period < G_N_ELEMENTS(aiq_designer_period_hours) &&
	    aiq_designer_period_hours[period] != 0)
		since = g_get_real_time() -
			aiq_designer_period_hours[period] * 3600 * G_USEC_PER_SEC;
	aiq_designer_execution_list_model_set_filter(
		self->model,
		status < G_N_ELEMENTS(aiq_designer_status_filters)
			? aiq_designer_status_filters[status]
			: NULL,
		workflow < self->workflow_ids->len ? g_ptr_array_index(self->workflow_ids, workflow)
						   : NULL,
		since,
		0);
}

static void
aiq_designer_executions_page_filter_changed_cb(AiqDesignerExecutionsPage *self)
{
	if (self->updating_workflows || self->model == NULL)
		return;
	aiq_designer_executions_page_apply_filter(self);
}

static void
aiq_designer_executions_page_update_state(AiqDesignerExecutionsPage *self)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->model));
	const GError *error = aiq_designer_execution_list_model_get_error(self->model);
	g_autofree gchar *count = NULL;

	if (aiq_designer_execution_list_model_get_loading(self->model)) {
		gtk_stack_set_visible_child_name(self->list_stack, "loading");
		gtk_label_set_text(self->count_label, "");
		return;
	}
	if (error != NULL && n == 0) {
		adw_status_page_set_description(self->error_page, error->message);
		gtk_stack_set_visible_child_name(self->list_stack, "error");
		gtk_label_set_text(self->count_label, "");
		return;
	}
	/* TRANSLATORS: how many executions match the filters */
	count = g_strdup_printf(ngettext("%'u execution", "%'u executions", n), n);
	gtk_label_set_text(self->count_label, count);
	gtk_stack_set_visible_child_name(self->list_stack, n == 0 ? "empty" : "items");
}

static void
aiq_designer_executions_page_error_cb(AiqDesignerExecutionsPage *self)
{
	const GError *error = aiq_designer_execution_list_model_get_error(self->model);
	if (error != NULL && g_list_model_get_n_items(G_LIST_MODEL(self->model)) > 0)
		aiq_designer_show_error(GTK_WIDGET(self), error);
	aiq_designer_executions_page_update_state(self);
}

/* the rows */

static void
aiq_designer_executions_page_update_cell(GtkListItem *list_item)
{
	AiqDesignerExecutionItem *item = gtk_list_item_get_item(list_item);
	GtkWidget *label = gtk_list_item_get_child(list_item);
	AiqDesignerColumn column =
		GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(label), "aiq-column"));
	const gchar *old_class = g_object_get_data(G_OBJECT(label), "aiq-status-class");
	g_autofree gchar *text = NULL;

	if (old_class != NULL) {
		gtk_widget_remove_css_class(label, old_class);
		g_object_set_data(G_OBJECT(label), "aiq-status-class", NULL);
	}
	if (item == NULL || !aiq_designer_execution_item_get_loaded(item)) {
		gtk_label_set_text(GTK_LABEL(label), "…");
		gtk_widget_add_css_class(label, "dim-label");
		return;
	}
	gtk_widget_remove_css_class(label, "dim-label");
	switch (column) {
	case AIQ_DESIGNER_COLUMN_STATUS: {
		const gchar *status = aiq_designer_execution_item_get_status(item);
		const gchar *css = aiq_designer_status_to_css_class(status);
		gtk_label_set_text(GTK_LABEL(label), aiq_designer_status_to_label(status));
		gtk_widget_add_css_class(label, css);
		g_object_set_data(G_OBJECT(label), "aiq-status-class", (gpointer)css);
		break;
	}
	case AIQ_DESIGNER_COLUMN_WORKFLOW:
		gtk_label_set_text(GTK_LABEL(label),
				   aiq_designer_execution_item_get_workflow_name(item));
		break;
	case AIQ_DESIGNER_COLUMN_TRIGGER:
		gtk_label_set_text(GTK_LABEL(label), aiq_designer_execution_item_get_trigger(item));
		break;
	case AIQ_DESIGNER_COLUMN_CREATED:
		text = aiq_designer_format_time(aiq_designer_execution_item_get_created(item));
		gtk_label_set_text(GTK_LABEL(label), text);
		break;
	case AIQ_DESIGNER_COLUMN_DURATION:
		text = aiq_designer_format_duration(
			aiq_designer_execution_item_get_duration_ms(item));
		gtk_label_set_text(GTK_LABEL(label), text);
		break;
	default:
		g_assert_not_reached();
	}
}

static void
aiq_designer_executions_page_item_notify_cb(AiqDesignerExecutionItem *item,
					    GParamSpec *pspec,
					    GtkListItem *list_item)
{
	aiq_designer_executions_page_update_cell(list_item);
}

static void
aiq_designer_executions_page_setup_cb(GtkSignalListItemFactory *factory,
				      GtkListItem *list_item,
				      gpointer user_data)
{
	AiqDesignerColumn column = GPOINTER_TO_UINT(user_data);
	GtkWidget *label = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
	if (column == AIQ_DESIGNER_COLUMN_STATUS) {
		gtk_widget_add_css_class(label, "status-badge");
		gtk_widget_set_halign(label, GTK_ALIGN_START);
	}
	if (column == AIQ_DESIGNER_COLUMN_DURATION || column == AIQ_DESIGNER_COLUMN_CREATED)
		gtk_widget_add_css_class(label, "numeric");
	g_object_set_data(G_OBJECT(label), "aiq-column", user_data);
	gtk_list_item_set_child(list_item, label);
}

static void
aiq_designer_executions_page_bind_cb(GtkSignalListItemFactory *factory,
				     GtkListItem *list_item,
				     gpointer user_data)
{
	AiqDesignerExecutionItem *item = gtk_list_item_get_item(list_item);
	g_signal_connect(item,
			 "notify",
			 G_CALLBACK(aiq_designer_executions_page_item_notify_cb),
			 list_item);
	aiq_designer_executions_page_update_cell(list_item);
}

static void
aiq_designer_executions_page_unbind_cb(GtkSignalListItemFactory *factory,
				       GtkListItem *list_item,
				       gpointer user_data)
{
	AiqDesignerExecutionItem *item = gtk_list_item_get_item(list_item);
	if (item != NULL)
		g_signal_handlers_disconnect_by_func(item,
						     aiq_designer_executions_page_item_notify_cb,
						     list_item);
}

static void
aiq_designer_executions_page_add_column(AiqDesignerExecutionsPage *self,
					const gchar *title,
					AiqDesignerColumn column,
					gboolean expand)
{
	g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new();
	g_autoptr(GtkColumnViewColumn) col = NULL;
	g_signal_connect(factory,
			 "setup",
			 G_CALLBACK(aiq_designer_executions_page_setup_cb),
			 GUINT_TO_POINTER(column));
	g_signal_connect(factory,
			 "bind",
			 G_CALLBACK(aiq_designer_executions_page_bind_cb),
			 GUINT_TO_POINTER(column));
	g_signal_connect(factory,
			 "unbind",
			 G_CALLBACK(aiq_designer_executions_page_unbind_cb),
			 GUINT_TO_POINTER(column));
	col = gtk_column_view_column_new(title, g_object_ref(factory));
	gtk_column_view_column_set_expand(col, expand);
	gtk_column_view_column_set_resizable(col, TRUE);
	gtk_column_view_append_column(self->column_view, col);
}

static void
aiq_designer_executions_page_activate_cb(AiqDesignerExecutionsPage *self, guint position)
{
	g_autoptr(AiqDesignerExecutionItem) item =
		g_list_model_get_item(G_LIST_MODEL(self->model), position);
	if (item == NULL || !aiq_designer_execution_item_get_loaded(item))
		return;
	aiq_designer_executions_page_show_execution(self, aiq_designer_execution_item_get_id(item));
}

/* the workflows of the filter */

static void
aiq_designer_executions_page_workflows_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerExecutionsPage) self = AIQ_DESIGNER_EXECUTIONS_PAGE(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *selected_id = NULL;
	guint selected = 0;
	JsonArray *items;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (aiq_designer_error_is_cancelled(error))
		return;
	if (node == NULL) {
		aiq_designer_show_error(GTK_WIDGET(self), error);
		return;
	}
	items = JSON_NODE_HOLDS_OBJECT(node)
			? aiq_json_object_get_array(json_node_get_object(node), "items")
			: NULL;
	if (items == NULL)
		return;
	{
		guint current = gtk_drop_down_get_selected(self->workflow_dropdown);
		if (current < self->workflow_ids->len)
			selected_id = g_strdup(g_ptr_array_index(self->workflow_ids, current));
	}
	self->updating_workflows = TRUE;
	g_ptr_array_set_size(self->workflow_ids, 1);
	gtk_string_list_splice(self->workflow_names,
			       1,
			       g_list_model_get_n_items(G_LIST_MODEL(self->workflow_names)) - 1,
			       NULL);
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonNode *wf = json_array_get_element(items, i);
		const gchar *id, *name;
		if (!JSON_NODE_HOLDS_OBJECT(wf))
			continue;
		id = aiq_json_object_get_string(json_node_get_object(wf), "id");
		name = aiq_json_object_get_string(json_node_get_object(wf), "name");
		if (id == NULL)
			continue;
		g_ptr_array_add(self->workflow_ids, g_strdup(id));
		gtk_string_list_append(self->workflow_names, name != NULL ? name : id);
		if (g_strcmp0(id, selected_id) == 0)
			selected = self->workflow_ids->len - 1;
	}
	gtk_drop_down_set_selected(self->workflow_dropdown, selected);
	self->updating_workflows = FALSE;
	/* the workflow filtered on is gone */
	if (selected_id != NULL && selected == 0)
		aiq_designer_executions_page_apply_filter(self);
}

static void
aiq_designer_executions_page_load_workflows(AiqDesignerExecutionsPage *self)
{
	AiqClient *client = aiq_designer_session_get_client(self->session);
	AiqClientWorkflowQuery query = { .limit = 200 };
	if (client == NULL)
		return;
	aiq_client_list_workflows_async(client,
					&query,
					self->cancellable,
					aiq_designer_executions_page_workflows_cb,
					g_object_ref(self));
}

void
aiq_designer_executions_page_reload(AiqDesignerExecutionsPage *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_EXECUTIONS_PAGE(self));
	if (self->model == NULL || !aiq_designer_session_get_logged_in(self->session))
		return;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	aiq_designer_executions_page_load_workflows(self);
	aiq_designer_executions_page_apply_filter(self);
	if (g_strcmp0(gtk_stack_get_visible_child_name(self->stack), "view") == 0)
		aiq_designer_execution_view_reload(AIQ_DESIGNER_EXECUTION_VIEW(self->view));
}

void
aiq_designer_executions_page_show_execution(AiqDesignerExecutionsPage *self,
					    const gchar *execution_id)
{
	g_return_if_fail(AIQ_DESIGNER_IS_EXECUTIONS_PAGE(self));
	g_return_if_fail(execution_id != NULL);
	aiq_designer_execution_view_set_execution_id(AIQ_DESIGNER_EXECUTION_VIEW(self->view),
						     execution_id);
	gtk_stack_set_visible_child_name(self->stack, "view");
}

static void
aiq_designer_executions_page_back_action(GtkWidget *widget,
					 const gchar *action_name,
					 GVariant *param)
{
	AiqDesignerExecutionsPage *self = AIQ_DESIGNER_EXECUTIONS_PAGE(widget);
	gtk_stack_set_visible_child_name(self->stack, "list");
}

static void
aiq_designer_executions_page_reload_action(GtkWidget *widget,
					   const gchar *action_name,
					   GVariant *param)
{
	aiq_designer_executions_page_reload(AIQ_DESIGNER_EXECUTIONS_PAGE(widget));
}

static void
aiq_designer_executions_page_event_cb(AiqDesignerExecutionsPage *self,
				      const gchar *type,
				      JsonObject *data)
{
	aiq_designer_execution_list_model_handle_event(self->model, data);
}

static void
aiq_designer_executions_page_constructed(GObject *object)
{
	AiqDesignerExecutionsPage *self = AIQ_DESIGNER_EXECUTIONS_PAGE(object);
	g_autoptr(GtkNoSelection) selection = NULL;

	G_OBJECT_CLASS(aiq_designer_executions_page_parent_class)->constructed(object);

	self->model = aiq_designer_execution_list_model_new(self->session);
	selection = gtk_no_selection_new(G_LIST_MODEL(g_object_ref(self->model)));
	gtk_column_view_set_model(self->column_view, GTK_SELECTION_MODEL(selection));
	aiq_designer_executions_page_add_column(self,
						_("Status"),
						AIQ_DESIGNER_COLUMN_STATUS,
						FALSE);
	aiq_designer_executions_page_add_column(self,
						_("Workflow"),
						AIQ_DESIGNER_COLUMN_WORKFLOW,
						TRUE);
	aiq_designer_executions_page_add_column(self,
						_("Trigger"),
						AIQ_DESIGNER_COLUMN_TRIGGER,
						FALSE);
	aiq_designer_executions_page_add_column(self,
						_("Created"),
						AIQ_DESIGNER_COLUMN_CREATED,
						FALSE);
	aiq_designer_executions_page_add_column(self,
						_("Duration"),
						AIQ_DESIGNER_COLUMN_DURATION,
						FALSE);
	g_signal_connect_object(self->model,
				"notify::loading",
				G_CALLBACK(aiq_designer_executions_page_update_state),
				self,
				G_CONNECT_SWAPPED);
	g_signal_connect_object(self->model,
				"notify::n-items",
				G_CALLBACK(aiq_designer_executions_page_update_state),
				self,
				G_CONNECT_SWAPPED);
	g_signal_connect_object(self->model,
				"notify::error",
				G_CALLBACK(aiq_designer_executions_page_error_cb),
				self,
				G_CONNECT_SWAPPED);
	g_signal_connect_object(self->session,
				"event::execution.updated",
				G_CALLBACK(aiq_designer_executions_page_event_cb),
				self,
				G_CONNECT_SWAPPED);

	self->view = aiq_designer_execution_view_new(self->session);
	gtk_widget_set_vexpand(self->view, TRUE);
	gtk_box_append(self->view_box, self->view);

	aiq_designer_executions_page_update_state(self);
	if (aiq_designer_session_get_logged_in(self->session))
		aiq_designer_executions_page_reload(self);
}

static void
aiq_designer_executions_page_get_property(GObject *object,
					  guint prop_id,
					  GValue *value,
					  GParamSpec *pspec)
{
	AiqDesignerExecutionsPage *self = AIQ_DESIGNER_EXECUTIONS_PAGE(object);
	switch (prop_id) {
	case PROP_SESSION:
		g_value_set_object(value, self->session);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_executions_page_set_property(GObject *object,
					  guint prop_id,
					  const GValue *value,
					  GParamSpec *pspec)
{
	AiqDesignerExecutionsPage *self = AIQ_DESIGNER_EXECUTIONS_PAGE(object);
	switch (prop_id) {
	case PROP_SESSION:
		self->session = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_executions_page_dispose(GObject *object)
{
	AiqDesignerExecutionsPage *self = AIQ_DESIGNER_EXECUTIONS_PAGE(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	/* AdwBin unparents its child itself: before the template lets go of it */
	adw_bin_set_child(ADW_BIN(self), NULL);
	gtk_widget_dispose_template(GTK_WIDGET(self), AIQ_DESIGNER_TYPE_EXECUTIONS_PAGE);
	g_clear_object(&self->model);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(aiq_designer_executions_page_parent_class)->dispose(object);
}

static void
aiq_designer_executions_page_finalize(GObject *object)
{
	AiqDesignerExecutionsPage *self = AIQ_DESIGNER_EXECUTIONS_PAGE(object);
	g_ptr_array_unref(self->workflow_ids);
	g_object_unref(self->workflow_names);
	G_OBJECT_CLASS(aiq_designer_executions_page_parent_class)->finalize(object);
}

static void
aiq_designer_executions_page_class_init(AiqDesignerExecutionsPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	object_class->constructed = aiq_designer_executions_page_constructed;
	object_class->get_property = aiq_designer_executions_page_get_property;
	object_class->set_property = aiq_designer_executions_page_set_property;
	object_class->dispose = aiq_designer_executions_page_dispose;
	object_class->finalize = aiq_designer_executions_page_finalize;
	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-executions-page.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionsPage, stack);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerExecutionsPage,
					     status_dropdown);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerExecutionsPage,
					     workflow_dropdown);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerExecutionsPage,
					     period_dropdown);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionsPage, count_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionsPage, list_stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionsPage, error_page);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionsPage, column_view);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerExecutionsPage, view_box);
	gtk_widget_class_install_action(widget_class,
					"executions.back",
					NULL,
					aiq_designer_executions_page_back_action);
	gtk_widget_class_install_action(widget_class,
					"executions.reload",
					NULL,
					aiq_designer_executions_page_reload_action);
}

static void
aiq_designer_executions_page_init(AiqDesignerExecutionsPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	/* the status names are the ones every page shows (aiq-designer-util) */
	{
		g_autoptr(GtkStringList) statuses = gtk_string_list_new(NULL);
		gtk_string_list_append(statuses, _("All statuses"));
		for (guint i = 1; i < G_N_ELEMENTS(aiq_designer_status_filters); i++)
			gtk_string_list_append(
				statuses,
				aiq_designer_status_to_label(aiq_designer_status_filters[i]));
		gtk_drop_down_set_model(self->status_dropdown, G_LIST_MODEL(statuses));
	}
	self->workflow_ids = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(self->workflow_ids, NULL);
	self->workflow_names = gtk_string_list_new(NULL);
	gtk_string_list_append(self->workflow_names, _("All workflows"));
	gtk_drop_down_set_model(self->workflow_dropdown, G_LIST_MODEL(self->workflow_names));
	/* all time: a fresh tenant's first executions are not hidden */
	gtk_drop_down_set_selected(self->period_dropdown, 3);
	g_signal_connect_swapped(self->status_dropdown,
				 "notify::selected",
				 G_CALLBACK(aiq_designer_executions_page_filter_changed_cb),
				 self);
	g_signal_connect_swapped(self->workflow_dropdown,
				 "notify::selected",
				 G_CALLBACK(aiq_designer_executions_page_filter_changed_cb),
				 self);
	g_signal_connect_swapped(self->period_dropdown,
				 "notify::selected",
				 G_CALLBACK(aiq_designer_executions_page_filter_changed_cb),
				 self);
	g_signal_connect_swapped(self->column_view,
				 "activate",
				 G_CALLBACK(aiq_designer_executions_page_activate_cb),
				 self);
}

GtkWidget *
aiq_designer_executions_page_new(AiqDesignerSession *session)
{
	return g_object_new(AIQ_DESIGNER_TYPE_EXECUTIONS_PAGE, "session", session, NULL);
}
