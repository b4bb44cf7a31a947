/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The tenant's agents, live from agent.updated events, a way to enroll one
 * more, and a card for the agent of this machine read over D-Bus.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>

#include "aiq-designer-agents-page.h"
#include "aiq-designer-enroll-dialog.h"
#include "aiq-designer-local-agent.h"
#include "aiq-designer-util.h"

#define AIQ_DESIGNER_AGENTS_PAGE_LIMIT 200

struct _AiqDesignerAgentsPage {
	AdwBin parent_instance;
	AiqDesignerSession *session;
	GCancellable *cancellable;
	GHashTable *rows; /* agent id → AdwActionRow (owned by the list box) */
	guint generation; /* of the load in progress */
	gboolean loaded;

	AdwPreferencesGroup *local_group;
	AdwActionRow *local_name_row;
	GtkLabel *local_state_label;
	AdwActionRow *local_server_row;
	AdwActionRow *local_running_row;
	AdwActionRow *local_outbox_row;
	AdwActionRow *local_version_row;
	AdwActionRow *local_error_row;
	GtkWidget *add_button;
	GtkStack *stack;
	GtkSpinner *spinner;
	AdwStatusPage *error_page;
	GtkListBox *list_box;
};

G_DEFINE_TYPE(AiqDesignerAgentsPage, aiq_designer_agents_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_SESSION,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

static void
aiq_designer_agents_page_load_page(AiqDesignerAgentsPage *self, const gchar *cursor);

/* a status badge: the label's text and colour */
static void
aiq_designer_agents_page_set_badge(GtkLabel *badge, const gchar *state, const gchar *text)
{
	static const gchar *classes[] = { "success", "error", "warning", "accent", "dim-label" };
	for (guint i = 0; i < G_N_ELEMENTS(classes); i++)
		gtk_widget_remove_css_class(GTK_WIDGET(badge), classes[i]);
	gtk_widget_add_css_class(GTK_WIDGET(badge), aiq_designer_status_to_css_class(state));
	gtk_label_set_text(badge, text != NULL ? text : aiq_designer_status_to_label(state));
}

/* the local agent */

static void
aiq_designer_agents_page_local_changed_cb(AiqDesignerAgentsPage *self)
{
	AiqDesignerLocalAgent *local = aiq_designer_local_agent_get_default();
	AiqDbusAgent1 *proxy = aiq_designer_local_agent_get_proxy(local);
	const gchar *const *running;
	const gchar *state;
	const gchar *name;
	const gchar *error;
	const gchar *server;
	const gchar *version;
	g_autofree gchar *running_text = NULL;
	g_autofree gchar *outbox_text = NULL;
	guint64 depth;

	gtk_widget_set_visible(GTK_WIDGET(self->local_group), proxy != NULL);
	if (proxy == NULL)
		return;

	name = aiq_dbus_agent1_get_name(proxy);
	adw_action_row_set_subtitle(self->local_name_row,
				    name != NULL && name[0] != '\0' ? name : _("Unnamed"));
	state = aiq_dbus_agent1_get_connection_state(proxy);
	if (!aiq_dbus_agent1_get_enrolled(proxy))
		aiq_designer_agents_page_set_badge(self->local_state_label,
						   "offline",
						   _("Not enrolled"));
	else if (g_strcmp0(state, "online") == 0)
		aiq_designer_agents_page_set_badge(self->local_state_label, "online", NULL);
	else if (g_strcmp0(state, "connecting") == 0)
		aiq_designer_agents_page_set_badge(self->local_state_label,
						   "queued",
						   C_("agent", "Connecting"));
	else if (g_strcmp0(state, "refused") == 0)
		aiq_designer_agents_page_set_badge(self->local_state_label,
						   "failed",
						   C_("agent", "Refused"));
	else
		aiq_designer_agents_page_set_badge(self->local_state_label, "offline", NULL);

	server = aiq_dbus_agent1_get_server(proxy);
	adw_action_row_set_subtitle(self->local_server_row,
				    server != NULL && server[0] != '\0' ? server
									: _("Not enrolled"));

	running = aiq_dbus_agent1_get_running_executions(proxy);
	running_text = g_strdup_printf(
		/* TRANSLATORS: executions running now, of how many the agent runs at once */
		_("%u of %u"),
		running != NULL ? g_strv_length((gchar **)running) : 0,
		aiq_dbus_agent1_get_capacity(proxy));
	adw_action_row_set_subtitle(self->local_running_row, running_text);

	depth = aiq_dbus_agent1_get_outbox_depth(proxy);
	if (aiq_dbus_agent1_get_outbox_full(proxy))
		outbox_text = g_strdup_printf(
			/* TRANSLATORS: %s is a number of events */
			_("Full: %" PRIu64 " events wait for the server; the agent takes "
			  "no new work until they are sent"),
			depth);
	else
		outbox_text = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
							  "%" PRIu64 " event waits for the server",
							  "%" PRIu64 " events wait for the server",
							  depth),
					      depth);
	adw_action_row_set_subtitle(self->local_outbox_row, outbox_text);
	if (aiq_dbus_agent1_get_outbox_full(proxy))
		gtk_widget_add_css_class(GTK_WIDGET(self->local_outbox_row), "warning");
	else
		gtk_widget_remove_css_class(GTK_WIDGET(self->local_outbox_row), "warning");

	version = aiq_dbus_agent1_get_version(proxy);
	adw_action_row_set_subtitle(self->local_version_row,
				    version != NULL && version[0] != '\0' ? version : "—");
	error = aiq_dbus_agent1_get_last_error(proxy);
	adw_action_row_set_subtitle(self->local_error_row, error != NULL ? error : "");
	gtk_widget_set_visible(GTK_WIDGET(self->local_error_row),
			       error != NULL && error[0] != '\0');
}

/* the agents of the server */

static void
aiq_designer_agents_page_update_state(AiqDesignerAgentsPage *self)
{
	if (!self->loaded)
		return;
	gtk_stack_set_visible_child_name(self->stack,
					 g_hash_table_size(self->rows) > 0 ? "list" : "empty");
}

static void
aiq_designer_agents_page_fill_row(AdwActionRow *row, JsonObject *agent)
{
	GtkLabel *badge = g_object_get_data(G_OBJECT(row), "badge");
	GtkLabel *running_label = g_object_get_data(G_OBJECT(row), "running");
	JsonNode *labels_node = json_object_get_member(agent, "labels");
	JsonNode *running_node = json_object_get_member(agent, "running");
	const gchar *version = json_object_get_string_member_with_default(agent, "version", NULL);
	const gchar *status = json_object_get_string_member_with_default(agent, "status", "active");
	g_autoptr(GString) subtitle = g_string_new(NULL);
	g_autofree gchar *last_seen = NULL;
	g_autofree gchar *running_text = NULL;
	guint running = 0;
	const gchar *state;

	adw_preferences_row_set_title(
		ADW_PREFERENCES_ROW(row),
		json_object_get_string_member_with_default(agent, "name", _("Unnamed")));

	if (labels_node != NULL && JSON_NODE_HOLDS_ARRAY(labels_node)) {
		JsonArray *labels = json_node_get_array(labels_node);
		for (guint i = 0; i < json_array_get_length(labels); i++) {
			const gchar *label = json_array_get_string_element(labels, i);
			if (label == NULL)
				continue;
			if (subtitle->len > 0)
				g_string_append(subtitle, ", ");
			g_string_append(subtitle, label);
		}
	}
	if (subtitle->len == 0)
		g_string_append(subtitle, _("No labels"));
	g_string_append(subtitle, " · ");
	/* TRANSLATORS: %s is an agent's version */
	g_string_append_printf(subtitle, _("version %s"), version != NULL ? version : "—");
	last_seen = aiq_designer_format_time(
		json_object_get_string_member_with_default(agent, "last_seen", NULL));
	g_string_append(subtitle, " · ");
	/* TRANSLATORS: %s is a time */
	g_string_append_printf(subtitle, _("last seen %s"), last_seen);
	adw_action_row_set_subtitle(row, subtitle->str);

	if (running_node != NULL && JSON_NODE_HOLDS_ARRAY(running_node))
		running = json_array_get_length(json_node_get_array(running_node));
	running_text = g_strdup_printf(
		/* TRANSLATORS: jobs running now on an agent, of its capacity */
		_("%u/%" PRId64 " running"),
		running,
		json_object_get_int_member_with_default(agent, "capacity", 0));
	gtk_label_set_text(running_label, running_text);

	if (g_strcmp0(status, "disabled") == 0)
		state = "disabled";
	else if (json_object_get_boolean_member_with_default(agent, "online", FALSE))
		state = "online";
	else
		state = "offline";
	aiq_designer_agents_page_set_badge(badge, state, NULL);
}

static AdwActionRow *
aiq_designer_agents_page_make_row(const gchar *id)
{
	GtkWidget *row = adw_action_row_new();
	GtkWidget *running = gtk_label_new(NULL);
	GtkWidget *badge = gtk_label_new(NULL);

	gtk_widget_set_name(row, id);
	gtk_widget_add_css_class(running, "dim-label");
	gtk_widget_set_valign(running, GTK_ALIGN_CENTER);
	gtk_widget_set_valign(badge, GTK_ALIGN_CENTER);
	gtk_widget_add_css_class(badge, "status-badge");
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), running);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), badge);
	g_object_set_data(G_OBJECT(row), "badge", badge);
	g_object_set_data(G_OBJECT(row), "running", running);
	return ADW_ACTION_ROW(row);
}

static void
aiq_designer_agents_page_upsert(AiqDesignerAgentsPage *self, JsonObject *agent)
{
	const gchar *id = json_object_get_string_member_with_default(agent, "id", NULL);
	AdwActionRow *row;

	if (id == NULL)
		return;
	if (g_strcmp0(json_object_get_string_member_with_default(agent, "status", NULL),
		      "deleted") == 0) {
		row = g_hash_table_lookup(self->rows, id);
		if (row != NULL) {
			gtk_list_box_remove(self->list_box, GTK_WIDGET(row));
			g_hash_table_remove(self->rows, id);
		}
		return;
	}
	row = g_hash_table_lookup(self->rows, id);
	if (row == NULL) {
		row = aiq_designer_agents_page_make_row(id);
		g_hash_table_insert(self->rows, g_strdup(id), row);
		gtk_list_box_append(self->list_box, GTK_WIDGET(row));
	}
	g_object_set_data(G_OBJECT(row), "generation", GUINT_TO_POINTER(self->generation));
	aiq_designer_agents_page_fill_row(row, agent);
	gtk_list_box_invalidate_sort(self->list_box);
}

static void
aiq_designer_agents_page_event_cb(AiqDesignerSession *session,
				  const gchar *type,
				  JsonObject *data,
				  AiqDesignerAgentsPage *self)
{
	if (data == NULL)
		return;
	aiq_designer_agents_page_upsert(self, data);
	aiq_designer_agents_page_update_state(self);
}

/* rows the last full load did not see are gone */
static void
aiq_designer_agents_page_prune(AiqDesignerAgentsPage *self)
{
	GHashTableIter iter;
	gpointer row;

	g_hash_table_iter_init(&iter, self->rows);
	while (g_hash_table_iter_next(&iter, NULL, &row)) {
		if (GPOINTER_TO_UINT(g_object_get_data(row, "generation")) != self->generation) {
			gtk_list_box_remove(self->list_box, GTK_WIDGET(row));
			g_hash_table_iter_remove(&iter);
		}
	}
}

static void
aiq_designer_agents_page_list_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerAgentsPage) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonObject *page;
	JsonNode *items;
	const gchar *cursor;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		if (error == NULL)
			error = g_error_new_literal(G_IO_ERROR,
						    G_IO_ERROR_INVALID_DATA,
						    _("The server sent an invalid list of agents"));
		if (aiq_designer_error_is_cancelled(error))
			return;
		gtk_spinner_stop(self->spinner);
		if (!self->loaded) {
			adw_status_page_set_description(self->error_page, error->message);
			gtk_stack_set_visible_child_name(self->stack, "error");
		} else {
			aiq_designer_show_error(GTK_WIDGET(self), error);
		}
		return;
	}
	page = json_node_get_object(node);
	items = json_object_get_member(page, "items");
	if (items != NULL && JSON_NODE_HOLDS_ARRAY(items)) {
		JsonArray *array = json_node_get_array(items);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *item = json_array_get_element(array, i);
			if (JSON_NODE_HOLDS_OBJECT(item))
				aiq_designer_agents_page_upsert(self, json_node_get_object(item));
		}
	}
	cursor = json_object_get_string_member_with_default(page, "next_cursor", NULL);
	if (cursor != NULL) {
		aiq_designer_agents_page_load_page(self, cursor);
		return;
	}
	aiq_designer_agents_page_prune(self);
	gtk_spinner_stop(self->spinner);
	self->loaded = TRUE;
	aiq_designer_agents_page_update_state(self);
}

static void
aiq_designer_agents_page_load_page(AiqDesignerAgentsPage *self, const gchar *cursor)
{
	aiq_client_list_agents_async(aiq_designer_session_get_client(self->session),
				     cursor,
				     AIQ_DESIGNER_AGENTS_PAGE_LIMIT,
				     self->cancellable,
				     aiq_designer_agents_page_list_cb,
				     g_object_ref(self));
}

void
aiq_designer_agents_page_reload(AiqDesignerAgentsPage *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_AGENTS_PAGE(self));

	aiq_designer_agents_page_local_changed_cb(self);
	if (self->session == NULL || !aiq_designer_session_get_logged_in(self->session))
		return;
	/* enrollment tokens are for tenant admins (x-aiq-role) */
	gtk_widget_set_visible(self->add_button,
			       aiq_designer_session_has_role(self->session, "tenant_admin"));
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	self->generation++;
	if (!self->loaded) {
		gtk_spinner_start(self->spinner);
		gtk_stack_set_visible_child_name(self->stack, "loading");
	}
	aiq_designer_agents_page_load_page(self, NULL);
}

static void
aiq_designer_agents_page_reload_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	aiq_designer_agents_page_reload(AIQ_DESIGNER_AGENTS_PAGE(widget));
}

static void
aiq_designer_agents_page_add_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerAgentsPage *self = AIQ_DESIGNER_AGENTS_PAGE(widget);
	GtkWidget *dialog = aiq_designer_enroll_dialog_new(widget, self->session);
	gtk_window_present(GTK_WINDOW(dialog));
}

static gint
aiq_designer_agents_page_sort_func(GtkListBoxRow *row1, GtkListBoxRow *row2, gpointer user_data)
{
	return g_utf8_collate(adw_preferences_row_get_title(ADW_PREFERENCES_ROW(row1)),
			      adw_preferences_row_get_title(ADW_PREFERENCES_ROW(row2)));
}

static void
aiq_designer_agents_page_constructed(GObject *object)
{
	AiqDesignerAgentsPage *self = AIQ_DESIGNER_AGENTS_PAGE(object);

	G_OBJECT_CLASS(aiq_designer_agents_page_parent_class)->constructed(object);
	if (self->session != NULL)
		g_signal_connect_object(self->session,
					"event::agent.updated",
					G_CALLBACK(aiq_designer_agents_page_event_cb),
					self,
					0);
	g_signal_connect_object(aiq_designer_local_agent_get_default(),
				"changed",
				G_CALLBACK(aiq_designer_agents_page_local_changed_cb),
				self,
				G_CONNECT_SWAPPED);
	aiq_designer_agents_page_local_changed_cb(self);
}

static void
aiq_designer_agents_page_get_property(GObject *object,
				      guint prop_id,
				      GValue *value,
				      GParamSpec *pspec)
{
	AiqDesignerAgentsPage *self = AIQ_DESIGNER_AGENTS_PAGE(object);
	switch (prop_id) {
	case PROP_SESSION:
		g_value_set_object(value, self->session);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_agents_page_set_property(GObject *object,
				      guint prop_id,
				      const GValue *value,
				      GParamSpec *pspec)
{
	AiqDesignerAgentsPage *self = AIQ_DESIGNER_AGENTS_PAGE(object);
	switch (prop_id) {
	case PROP_SESSION:
		self->session = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_agents_page_dispose(GObject *object)
{
	AiqDesignerAgentsPage *self = AIQ_DESIGNER_AGENTS_PAGE(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_signal_handlers_disconnect_by_data(aiq_designer_local_agent_get_default(), self);
	if (self->session != NULL)
		g_signal_handlers_disconnect_by_data(self->session, self);
	g_clear_object(&self->session);
	g_hash_table_remove_all(self->rows);
	G_OBJECT_CLASS(aiq_designer_agents_page_parent_class)->dispose(object);
}

static void
aiq_designer_agents_page_finalize(GObject *object)
{
	AiqDesignerAgentsPage *self = AIQ_DESIGNER_AGENTS_PAGE(object);
	g_hash_table_unref(self->rows);
	G_OBJECT_CLASS(aiq_designer_agents_page_parent_class)->finalize(object);
}

static void
aiq_designer_agents_page_class_init(AiqDesignerAgentsPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = aiq_designer_agents_page_get_property;
	object_class->set_property = aiq_designer_agents_page_set_property;
	object_class->constructed = aiq_designer_agents_page_constructed;
	object_class->dispose = aiq_designer_agents_page_dispose;
	object_class->finalize = aiq_designer_agents_page_finalize;

	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-agents-page.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAgentsPage, local_group);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAgentsPage, local_name_row);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerAgentsPage,
					     local_state_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAgentsPage, local_server_row);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerAgentsPage,
					     local_running_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAgentsPage, local_outbox_row);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerAgentsPage,
					     local_version_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAgentsPage, local_error_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAgentsPage, add_button);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAgentsPage, stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAgentsPage, spinner);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAgentsPage, error_page);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAgentsPage, list_box);
	gtk_widget_class_install_action(widget_class,
					"agents.reload",
					NULL,
					aiq_designer_agents_page_reload_action);
	gtk_widget_class_install_action(widget_class,
					"agents.add",
					NULL,
					aiq_designer_agents_page_add_action);
}

static void
aiq_designer_agents_page_init(AiqDesignerAgentsPage *self)
{
	self->rows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gtk_widget_init_template(GTK_WIDGET(self));
	gtk_list_box_set_sort_func(self->list_box, aiq_designer_agents_page_sort_func, NULL, NULL);
}

GtkWidget *
aiq_designer_agents_page_new(AiqDesignerSession *session)
{
	return g_object_new(AIQ_DESIGNER_TYPE_AGENTS_PAGE, "session", session, NULL);
}
