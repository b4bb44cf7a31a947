/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The main window: the login view until the session is logged in, then a
 * sidebar (Workflows, Executions, Agents, Dashboard, Administration) and
 * the page it selects, in an AdwLeaflet that folds on narrow windows.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-admin-page.h"
#include "aiq-designer-agents-page.h"
#include "aiq-designer-dashboard-page.h"
#include "aiq-designer-executions-page.h"
#include "aiq-designer-login-view.h"
#include "aiq-designer-util.h"
#include "aiq-designer-window.h"
#include "aiq-designer-workflows-page.h"

/* the banner waits this long: a reconnect that works at once is not news */
#define AIQ_DESIGNER_OFFLINE_GRACE_MS 1500

struct _AiqDesignerWindow {
	AdwApplicationWindow parent_instance;
	AiqDesignerSession *session;

	AdwToastOverlay *toast_overlay;
	GtkStack *main_stack;
	GtkRevealer *offline_revealer;
	AdwLeaflet *leaflet;
	GtkWidget *content;
	GtkListBox *sidebar_list;
	AdwWindowTitle *content_title;
	GtkStack *content_stack;

	GtkWidget *login_view;
	GtkWidget *admin_row;
	guint offline_id;
};

G_DEFINE_TYPE(AiqDesignerWindow, aiq_designer_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
	PROP_0,
	PROP_SESSION,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

typedef struct {
	const gchar *name;
	const gchar *title;
	const gchar *icon_name;
	GtkWidget *(*new_page)(AiqDesignerSession *session);
} AiqDesignerPageInfo;

static const AiqDesignerPageInfo aiq_designer_pages[] = {
	{ "workflows",
	  N_("Workflows"),
	  "view-list-bullet-symbolic",
	  aiq_designer_workflows_page_new },
	{ "executions",
	  N_("Executions"),
	  "media-playlist-consecutive-symbolic",
	  aiq_designer_executions_page_new },
	{ "agents", N_("Agents"), "network-server-symbolic", aiq_designer_agents_page_new },
	{ "dashboard",
	  N_("Dashboard"),
	  "utilities-system-monitor-symbolic",
	  aiq_designer_dashboard_page_new },
	{ "admin", N_("Administration"), "system-users-symbolic", aiq_designer_admin_page_new },
};

static const AiqDesignerPageInfo *
aiq_designer_window_find_page_info(const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(aiq_designer_pages); i++) {
		if (g_strcmp0(aiq_designer_pages[i].name, name) == 0)
			return &aiq_designer_pages[i];
	}
	return NULL;
}

AiqDesignerSession *
aiq_designer_window_get_session(AiqDesignerWindow *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_WINDOW(self), NULL);
	return self->session;
}

static void
aiq_designer_window_reload_page(GtkWidget *page)
{
	if (AIQ_DESIGNER_IS_WORKFLOWS_PAGE(page))
		aiq_designer_workflows_page_reload(AIQ_DESIGNER_WORKFLOWS_PAGE(page));
	else if (AIQ_DESIGNER_IS_EXECUTIONS_PAGE(page))
		aiq_designer_executions_page_reload(AIQ_DESIGNER_EXECUTIONS_PAGE(page));
	else if (AIQ_DESIGNER_IS_AGENTS_PAGE(page))
		aiq_designer_agents_page_reload(AIQ_DESIGNER_AGENTS_PAGE(page));
	else if (AIQ_DESIGNER_IS_DASHBOARD_PAGE(page))
		aiq_designer_dashboard_page_reload(AIQ_DESIGNER_DASHBOARD_PAGE(page));
	else if (AIQ_DESIGNER_IS_ADMIN_PAGE(page))
		aiq_designer_admin_page_reload(AIQ_DESIGNER_ADMIN_PAGE(page));
}

/* pages are built the first time they are asked for, not with the window:
 * the window shows its first frame before any of them exists */
GtkWidget *
aiq_designer_window_get_page(AiqDesignerWindow *self, const gchar *name)
{
	const AiqDesignerPageInfo *info;
	GtkStackPage *page;
	GtkWidget *child;

	g_return_val_if_fail(AIQ_DESIGNER_IS_WINDOW(self), NULL);
	child = gtk_stack_get_child_by_name(self->content_stack, name);
	if (child != NULL)
		return child;
	info = aiq_designer_window_find_page_info(name);
	if (info == NULL)
		return NULL;
	child = info->new_page(self->session);
	page = gtk_stack_add_named(self->content_stack, child, info->name);
	gtk_stack_page_set_title(page, _(info->title));
	/* pages that existed at log in were reloaded then; this one loads now */
	if (aiq_designer_session_get_logged_in(self->session))
		aiq_designer_window_reload_page(child);
	return child;
}

GtkWidget *
aiq_designer_window_get_login_view(AiqDesignerWindow *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_WINDOW(self), NULL);
	if (self->login_view == NULL && self->main_stack != NULL) {
		self->login_view = aiq_designer_login_view_new(self->session);
		gtk_stack_add_named(self->main_stack, self->login_view, "login");
	}
	return self->login_view;
}

const gchar *
aiq_designer_window_get_visible_page(AiqDesignerWindow *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_WINDOW(self), NULL);
	return gtk_stack_get_visible_child_name(self->content_stack);
}

void
aiq_designer_window_show_page(AiqDesignerWindow *self, const gchar *name)
{
	const AiqDesignerPageInfo *info;
	GtkListBoxRow *row;

	g_return_if_fail(AIQ_DESIGNER_IS_WINDOW(self));
	info = aiq_designer_window_find_page_info(name);
	if (info == NULL) {
		g_warning("no page %s", name);
		return;
	}
	aiq_designer_window_get_page(self, name);
	gtk_stack_set_visible_child_name(self->content_stack, name);
	adw_window_title_set_title(self->content_title, _(info->title));
	for (guint i = 0;
	     (row = gtk_list_box_get_row_at_index(self->sidebar_list, (gint)i)) != NULL;
	     i++) {
		if (g_strcmp0(gtk_widget_get_name(GTK_WIDGET(row)), name) == 0)
			gtk_list_box_select_row(self->sidebar_list, row);
	}
	adw_leaflet_set_visible_child(self->leaflet, self->content);
	if (aiq_designer_session_get_settings(self->session) != NULL)
		g_settings_set_string(aiq_designer_session_get_settings(self->session),
				      "last-page",
				      name);
}

static void
aiq_designer_window_sidebar_activated_cb(AiqDesignerWindow *self, GtkListBoxRow *row)
{
	aiq_designer_window_show_page(self, gtk_widget_get_name(GTK_WIDGET(row)));
}

void
aiq_designer_window_show_login(AiqDesignerWindow *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_WINDOW(self));
	if (self->main_stack == NULL) /* closed meanwhile */
		return;
	aiq_designer_window_get_login_view(self);
	gtk_stack_set_visible_child_name(self->main_stack, "login");
	gtk_revealer_set_reveal_child(self->offline_revealer, FALSE);
}

/* only the pages built so far: the others load when first shown */
static void
aiq_designer_window_reload_pages(AiqDesignerWindow *self)
{
	for (guint i = 0; i < G_N_ELEMENTS(aiq_designer_pages); i++) {
		GtkWidget *page = gtk_stack_get_child_by_name(self->content_stack,
							      aiq_designer_pages[i].name);
		if (page != NULL)
			aiq_designer_window_reload_page(page);
	}
}

static void
aiq_designer_window_logged_in_cb(AiqDesignerWindow *self)
{
	GSettings *settings = aiq_designer_session_get_settings(self->session);
	if (!aiq_designer_session_get_logged_in(self->session)) {
		aiq_designer_window_show_login(self);
		return;
	}
	gtk_widget_set_visible(self->admin_row,
			       aiq_designer_session_has_role(self->session, "tenant_admin"));
	gtk_stack_set_visible_child_name(self->main_stack, "main");
	aiq_designer_window_reload_pages(self);
	if (settings != NULL) {
		g_autofree gchar *page = g_settings_get_string(settings, "last-page");
		if (aiq_designer_window_find_page_info(page) != NULL &&
		    (g_strcmp0(page, "admin") != 0 || gtk_widget_get_visible(self->admin_row)))
			aiq_designer_window_show_page(self, page);
		else
			aiq_designer_window_show_page(self, "workflows");
	} else {
		aiq_designer_window_show_page(self, "workflows");
	}
}

static gboolean
aiq_designer_window_offline_cb(gpointer user_data)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(user_data);
	self->offline_id = 0;
	gtk_revealer_set_reveal_child(self->offline_revealer,
				      aiq_designer_session_get_logged_in(self->session) &&
					      !aiq_designer_session_get_online(self->session));
	return G_SOURCE_REMOVE;
}

static void
aiq_designer_window_online_cb(AiqDesignerWindow *self)
{
	if (aiq_designer_session_get_online(self->session)) {
		g_clear_handle_id(&self->offline_id, g_source_remove);
		gtk_revealer_set_reveal_child(self->offline_revealer, FALSE);
		return;
	}
	if (self->offline_id == 0)
		self->offline_id = g_timeout_add(AIQ_DESIGNER_OFFLINE_GRACE_MS,
						 aiq_designer_window_offline_cb,
						 self);
}

static void
aiq_designer_window_reconnected_cb(AiqDesignerWindow *self)
{
	aiq_designer_window_reload_pages(self);
}

static void
aiq_designer_window_warning_cb(AiqDesignerWindow *self, const gchar *message)
{
	aiq_designer_show_toast(GTK_WIDGET(self->toast_overlay), message);
}

static void
aiq_designer_window_show_page_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	aiq_designer_window_show_page(AIQ_DESIGNER_WINDOW(widget),
				      g_variant_get_string(param, NULL));
}

static void
aiq_designer_window_show_execution_action(GtkWidget *widget,
					  const gchar *action_name,
					  GVariant *param)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(widget);
	aiq_designer_window_show_page(self, "executions");
	aiq_designer_executions_page_show_execution(
		AIQ_DESIGNER_EXECUTIONS_PAGE(aiq_designer_window_get_page(self, "executions")),
		g_variant_get_string(param, NULL));
}

static void
aiq_designer_window_open_workflow_action(GtkWidget *widget,
					 const gchar *action_name,
					 GVariant *param)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(widget);
	aiq_designer_window_show_page(self, "workflows");
	aiq_designer_workflows_page_open_workflow(
		AIQ_DESIGNER_WORKFLOWS_PAGE(aiq_designer_window_get_page(self, "workflows")),
		g_variant_get_string(param, NULL));
}

static void
aiq_designer_window_logout_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerWindow) self = AIQ_DESIGNER_WINDOW(user_data);
	g_autoptr(GError) error = NULL;
	if (!aiq_designer_session_logout_finish(AIQ_DESIGNER_SESSION(source), res, &error))
		aiq_designer_show_error(GTK_WIDGET(self->toast_overlay), error);
}

static void
aiq_designer_window_log_out_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(widget);
	aiq_designer_session_logout_async(self->session,
					  NULL,
					  aiq_designer_window_logout_cb,
					  g_object_ref(self));
}

static void
aiq_designer_window_reconnect_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(widget);
	aiq_designer_session_reconnect(self->session);
}

static void
aiq_designer_window_sidebar_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(widget);
	adw_leaflet_navigate(self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static gboolean
aiq_designer_window_close_request(GtkWindow *window)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(window);
	GSettings *settings = aiq_designer_session_get_settings(self->session);
	if (settings != NULL) {
		gint width = 0, height = 0;
		gtk_window_get_default_size(window, &width, &height);
		g_settings_set_int(settings, "window-width", width);
		g_settings_set_int(settings, "window-height", height);
		g_settings_set_boolean(settings,
				       "window-maximized",
				       gtk_window_is_maximized(window));
	}
	return GTK_WINDOW_CLASS(aiq_designer_window_parent_class)->close_request(window);
}

static GtkWidget *
aiq_designer_window_make_row(const AiqDesignerPageInfo *info)
{
	GtkWidget *row = gtk_list_box_row_new();
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	GtkWidget *image = gtk_image_new_from_icon_name(info->icon_name);
	GtkWidget *label = gtk_label_new(_(info->title));
	gtk_widget_set_name(row, info->name);
	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_box_append(GTK_BOX(box), image);
	gtk_box_append(GTK_BOX(box), label);
	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
	gtk_accessible_update_property(GTK_ACCESSIBLE(row),
				       GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _(info->title),
				       -1);
	return row;
}

static void
aiq_designer_window_constructed(GObject *object)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(object);
	GSettings *settings = aiq_designer_session_get_settings(self->session);

	G_OBJECT_CLASS(aiq_designer_window_parent_class)->constructed(object);

	/* the login view and the pages are built on demand */
	for (guint i = 0; i < G_N_ELEMENTS(aiq_designer_pages); i++) {
		const AiqDesignerPageInfo *info = &aiq_designer_pages[i];
		GtkWidget *row = aiq_designer_window_make_row(info);
		gtk_list_box_append(self->sidebar_list, row);
		if (g_strcmp0(info->name, "admin") == 0)
			self->admin_row = row;
	}
	if (settings != NULL) {
		gtk_window_set_default_size(GTK_WINDOW(self),
					    g_settings_get_int(settings, "window-width"),
					    g_settings_get_int(settings, "window-height"));
		if (g_settings_get_boolean(settings, "window-maximized"))
			gtk_window_maximize(GTK_WINDOW(self));
	}
	g_signal_connect_object(self->session,
				"notify::logged-in",
				G_CALLBACK(aiq_designer_window_logged_in_cb),
				self,
				G_CONNECT_SWAPPED);
	g_signal_connect_object(self->session,
				"notify::online",
				G_CALLBACK(aiq_designer_window_online_cb),
				self,
				G_CONNECT_SWAPPED);
	g_signal_connect_object(self->session,
				"reconnected",
				G_CALLBACK(aiq_designer_window_reconnected_cb),
				self,
				G_CONNECT_SWAPPED);
	g_signal_connect_object(self->session,
				"warning",
				G_CALLBACK(aiq_designer_window_warning_cb),
				self,
				G_CONNECT_SWAPPED);
	if (aiq_designer_session_get_logged_in(self->session))
		aiq_designer_window_logged_in_cb(self);
}

static void
aiq_designer_window_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(object);
	switch (prop_id) {
	case PROP_SESSION:
		g_value_set_object(value, self->session);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_window_set_property(GObject *object,
				 guint prop_id,
				 const GValue *value,
				 GParamSpec *pspec)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(object);
	switch (prop_id) {
	case PROP_SESSION:
		self->session = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_window_dispose(GObject *object)
{
	AiqDesignerWindow *self = AIQ_DESIGNER_WINDOW(object);
	g_clear_handle_id(&self->offline_id, g_source_remove);
	gtk_widget_dispose_template(GTK_WIDGET(self), AIQ_DESIGNER_TYPE_WINDOW);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(aiq_designer_window_parent_class)->dispose(object);
}

static void
aiq_designer_window_class_init(AiqDesignerWindowClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	GtkWindowClass *window_class = GTK_WINDOW_CLASS(klass);

	object_class->constructed = aiq_designer_window_constructed;
	object_class->get_property = aiq_designer_window_get_property;
	object_class->set_property = aiq_designer_window_set_property;
	object_class->dispose = aiq_designer_window_dispose;
	window_class->close_request = aiq_designer_window_close_request;

	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-window.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerWindow, toast_overlay);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerWindow, main_stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerWindow, offline_revealer);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerWindow, leaflet);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerWindow, content);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerWindow, sidebar_list);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerWindow, content_title);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerWindow, content_stack);
	gtk_widget_class_bind_template_callback(widget_class,
						aiq_designer_window_sidebar_activated_cb);

	gtk_widget_class_install_action(widget_class,
					"win.show-page",
					"s",
					aiq_designer_window_show_page_action);
	gtk_widget_class_install_action(widget_class,
					"win.show-execution",
					"s",
					aiq_designer_window_show_execution_action);
	gtk_widget_class_install_action(widget_class,
					"win.open-workflow",
					"s",
					aiq_designer_window_open_workflow_action);
	gtk_widget_class_install_action(widget_class,
					"win.log-out",
					NULL,
					aiq_designer_window_log_out_action);
	gtk_widget_class_install_action(widget_class,
					"win.reconnect",
					NULL,
					aiq_designer_window_reconnect_action);
	gtk_widget_class_install_action(widget_class,
					"win.sidebar",
					NULL,
					aiq_designer_window_sidebar_action);

	/* Ctrl+1 … Ctrl+5: the pages, in sidebar order */
	for (guint i = 0; i < G_N_ELEMENTS(aiq_designer_pages); i++)
		gtk_widget_class_add_binding_action(widget_class,
						    GDK_KEY_1 + i,
						    GDK_CONTROL_MASK,
						    "win.show-page",
						    "s",
						    aiq_designer_pages[i].name);
}

static void
aiq_designer_window_init(AiqDesignerWindow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

AiqDesignerWindow *
aiq_designer_window_new(AdwApplication *application, AiqDesignerSession *session)
{
	return g_object_new(AIQ_DESIGNER_TYPE_WINDOW,
			    "application",
			    application,
			    "session",
			    session,
			    NULL);
}
