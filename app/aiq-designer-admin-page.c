/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Administration: the tenant's users, API keys and enrollment tokens, and
 * for platform admins the tenants.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>

#include "aiq-designer-admin-page-private.h"
#include "aiq-designer-enroll-dialog.h"
#include "aiq-designer-util.h"

typedef enum {
	AIQ_DESIGNER_ADMIN_LIST_USERS,
	AIQ_DESIGNER_ADMIN_LIST_KEYS,
	AIQ_DESIGNER_ADMIN_LIST_TOKENS,
	AIQ_DESIGNER_ADMIN_LIST_TENANTS,
	AIQ_DESIGNER_ADMIN_LIST_LAST,
} AiqDesignerAdminList;

static const gchar *aiq_designer_admin_paths[] = {
	"/api/v1/users?limit=200",
	"/api/v1/api-keys?limit=200",
	"/api/v1/enrollment-tokens",
	"/api/v1/tenants?limit=200",
};

/* the choices of the role rows, as the API names them */
static const gchar *aiq_designer_admin_roles[] = { "viewer", "editor", "tenant_admin" };
static const gchar *aiq_designer_admin_tiers[] = { "free", "standard", "premium", "enterprise" };
static const gchar *aiq_designer_admin_key_expiries[] = { NULL, "30d", "90d", "365d" };

struct _AiqDesignerAdminPage {
	AdwBin parent_instance;
	AiqDesignerSession *session;
	GCancellable *cancellable;
	GtkWidget *dialog; /* weak: the dialog open last */
	guint loads;

	GtkStack *stack;
	GtkStackPage *tenants_page;
	GtkListBox *lists[AIQ_DESIGNER_ADMIN_LIST_LAST];
	GtkListBox *users_list;
	GtkListBox *keys_list;
	GtkListBox *tokens_list;
	GtkListBox *tenants_list;
};

G_DEFINE_TYPE(AiqDesignerAdminPage, aiq_designer_admin_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_SESSION,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

typedef struct {
	AiqDesignerAdminPage *self; /* ref */
	AiqDesignerAdminList list;
} AiqDesignerAdminLoad;

static void
aiq_designer_admin_load_free(AiqDesignerAdminLoad *load)
{
	g_object_unref(load->self);
	g_free(load);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqDesignerAdminLoad, aiq_designer_admin_load_free)

static void
aiq_designer_admin_page_load(AiqDesignerAdminPage *self, AiqDesignerAdminList list);

/* the dialog open last, while it is open */
GtkWidget *
aiq_designer_admin_page_get_dialog(AiqDesignerAdminPage *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_ADMIN_PAGE(self), NULL);
	return self->dialog;
}

/* how many lists were loaded, for the tests */
guint
aiq_designer_admin_page_get_loads(AiqDesignerAdminPage *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_ADMIN_PAGE(self), 0);
	return self->loads;
}

static const gchar *
aiq_designer_admin_role_label(const gchar *role)
{
	if (g_strcmp0(role, "viewer") == 0)
		return C_("role", "Viewer");
	if (g_strcmp0(role, "editor") == 0)
		return C_("role", "Editor");
	if (g_strcmp0(role, "tenant_admin") == 0)
		return C_("role", "Tenant admin");
	if (g_strcmp0(role, "platform_admin") == 0)
		return C_("role", "Platform admin");
	return role;
}

static void
aiq_designer_admin_page_set_placeholder(GtkListBox *list, const gchar *text)
{
	GtkWidget *label = gtk_label_new(text);
	gtk_label_set_wrap(GTK_LABEL(label), TRUE);
	gtk_widget_set_margin_top(label, 18);
	gtk_widget_set_margin_bottom(label, 18);
	gtk_widget_set_margin_start(label, 12);
	gtk_widget_set_margin_end(label, 12);
	gtk_widget_add_css_class(label, "dim-label");
	gtk_list_box_set_placeholder(list, label);
}

static void
aiq_designer_admin_page_clear(GtkListBox *list)
{
	GtkListBoxRow *row;
	while ((row = gtk_list_box_get_row_at_index(list, 0)) != NULL)
		gtk_list_box_remove(list, GTK_WIDGET(row));
}

/* a request whose answer only needs a reload of @list, or an error shown */

static void
aiq_designer_admin_page_change_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerAdminLoad) load = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);

	if (node == NULL) {
		aiq_designer_show_error(GTK_WIDGET(load->self), error);
		if (aiq_designer_error_is_cancelled(error))
			return;
	}
	aiq_designer_admin_page_load(load->self, load->list);
}

static void
aiq_designer_admin_page_send(AiqDesignerAdminPage *self,
			     AiqDesignerAdminList list,
			     const gchar *method,
			     const gchar *path,
			     JsonBuilder *builder,
			     GAsyncReadyCallback callback)
{
	AiqDesignerAdminLoad *load = g_new0(AiqDesignerAdminLoad, 1);
	g_autoptr(JsonNode) body = builder != NULL ? json_builder_get_root(builder) : NULL;

	load->self = g_object_ref(self);
	load->list = list;
	aiq_client_request_async(aiq_designer_session_get_client(self->session),
				 method,
				 path,
				 body,
				 body != NULL ? "application/json" : NULL,
				 NULL,
				 self->cancellable,
				 callback != NULL ? callback : aiq_designer_admin_page_change_cb,
				 load);
}

/* revoking and disabling */

static void
aiq_designer_admin_page_confirm_cb(AdwMessageDialog *dialog,
				   const gchar *response,
				   AiqDesignerAdminPage *self)
{
	if (g_strcmp0(response, "confirm") != 0)
		return;
	aiq_designer_admin_page_send(self,
				     GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(dialog), "list")),
				     "DELETE",
				     g_object_get_data(G_OBJECT(dialog), "path"),
				     NULL,
				     NULL);
}

static GtkWidget *
aiq_designer_admin_page_message_dialog(AiqDesignerAdminPage *self,
				       const gchar *heading,
				       const gchar *body)
{
	GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
	GtkWidget *dialog = adw_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
						   heading,
						   body);
	g_set_weak_pointer(&self->dialog, dialog);
	return dialog;
}

static void
aiq_designer_admin_page_confirm_delete(AiqDesignerAdminPage *self,
				       AiqDesignerAdminList list,
				       const gchar *heading,
				       const gchar *body,
				       const gchar *path)
{
	GtkWidget *dialog = aiq_designer_admin_page_message_dialog(self, heading, body);

	adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog),
					 "cancel",
					 _("_Cancel"),
					 "confirm",
					 _("_Revoke"),
					 NULL);
	adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog),
						   "confirm",
						   ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
	g_object_set_data_full(G_OBJECT(dialog), "path", g_strdup(path), g_free);
	g_object_set_data(G_OBJECT(dialog), "list", GUINT_TO_POINTER(list));
	g_signal_connect_object(dialog,
				"response",
				G_CALLBACK(aiq_designer_admin_page_confirm_cb),
				self,
				0);
	gtk_window_present(GTK_WINDOW(dialog));
}

static void
aiq_designer_admin_page_revoke_clicked_cb(GtkButton *button, AiqDesignerAdminPage *self)
{
	AiqDesignerAdminList list = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(button), "list"));
	const gchar *id = g_object_get_data(G_OBJECT(button), "id");
	const gchar *name = g_object_get_data(G_OBJECT(button), "name");
	g_autofree gchar *path = NULL;
	g_autofree gchar *heading = NULL;

	if (list == AIQ_DESIGNER_ADMIN_LIST_KEYS) {
		path = g_strdup_printf("/api/v1/api-keys/%s", id);
		/* TRANSLATORS: %s is the name of an API key */
		heading = g_strdup_printf(_("Revoke API Key “%s”?"), name);
		aiq_designer_admin_page_confirm_delete(
			self,
			list,
			heading,
			_("Programs that use this key can no longer call the server."),
			path);
	} else {
		path = g_strdup_printf("/api/v1/enrollment-tokens/%s", id);
		/* TRANSLATORS: %s is the name of an enrollment token */
		heading = g_strdup_printf(_("Revoke Enrollment Token “%s”?"), name);
		aiq_designer_admin_page_confirm_delete(
			self,
			list,
			heading,
			_("No agent can enroll with this token any more."),
			path);
	}
}

static void
aiq_designer_admin_page_toggle_user_cb(GtkButton *button, AiqDesignerAdminPage *self)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autofree gchar *path =
		g_strdup_printf("/api/v1/users/%s",
				(const gchar *)g_object_get_data(G_OBJECT(button), "id"));
	gboolean disabled = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(button), "disabled"));

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "disabled");
	json_builder_add_boolean_value(builder, !disabled);
	json_builder_end_object(builder);
	gtk_widget_set_sensitive(GTK_WIDGET(button), FALSE);
	aiq_designer_admin_page_send(self,
				     AIQ_DESIGNER_ADMIN_LIST_USERS,
				     "PATCH",
				     path,
				     builder,
				     NULL);
}

/* rows */

static GtkWidget *
aiq_designer_admin_page_row_button(AiqDesignerAdminPage *self,
				   GtkWidget *row,
				   const gchar *label,
				   AiqDesignerAdminList list,
				   JsonObject *item,
				   GCallback callback)
{
	GtkWidget *button = gtk_button_new_with_mnemonic(label);
	gtk_widget_set_valign(button, GTK_ALIGN_CENTER);
	g_object_set_data_full(G_OBJECT(button),
			       "id",
			       g_strdup(json_object_get_string_member_with_default(item, "id", "")),
			       g_free);
	g_object_set_data(G_OBJECT(button), "list", GUINT_TO_POINTER(list));
	g_signal_connect_object(button, "clicked", callback, self, 0);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), button);
	return button;
}

static GtkWidget *
aiq_designer_admin_page_make_row(AiqDesignerAdminPage *self,
				 AiqDesignerAdminList list,
				 JsonObject *item)
{
	GtkWidget *row = adw_action_row_new();
	g_autoptr(GString) subtitle = g_string_new(NULL);
	g_autofree gchar *created = aiq_designer_format_time(
		json_object_get_string_member_with_default(item, "created", NULL));

	gtk_widget_set_name(row, json_object_get_string_member_with_default(item, "id", ""));
	switch (list) {
	case AIQ_DESIGNER_ADMIN_LIST_USERS: {
		const gchar *username =
			json_object_get_string_member_with_default(item, "username", "");
		const gchar *display =
			json_object_get_string_member_with_default(item, "display_name", NULL);
		gboolean disabled =
			json_object_get_boolean_member_with_default(item, "disabled", FALSE);
		g_autofree gchar *last_login = aiq_designer_format_time(
			json_object_get_string_member_with_default(item, "last_login", NULL));
		g_autofree gchar *title = display != NULL && g_strcmp0(display, username) != 0
						  ? g_strdup_printf("%s (%s)", username, display)
						  : g_strdup(username);
		GtkWidget *button;

		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
		g_string_append(
			subtitle,
			aiq_designer_admin_role_label(
				json_object_get_string_member_with_default(item, "role", "")));
		if (disabled)
			g_string_append_printf(subtitle, " · %s", C_("user", "Disabled"));
		/* TRANSLATORS: %s is a time */
		g_string_append_printf(subtitle, " · ");
		g_string_append_printf(subtitle, _("last login %s"), last_login);
		button = aiq_designer_admin_page_row_button(
			self,
			row,
			disabled ? _("_Enable") : _("_Disable"),
			list,
			item,
			G_CALLBACK(aiq_designer_admin_page_toggle_user_cb));
		g_object_set_data(G_OBJECT(button), "disabled", GINT_TO_POINTER(disabled));
		if (g_strcmp0(username, aiq_designer_session_get_username(self->session)) == 0)
			gtk_widget_set_sensitive(button, FALSE);
		break;
	}
	case AIQ_DESIGNER_ADMIN_LIST_KEYS: {
		const gchar *name = json_object_get_string_member_with_default(item, "name", "");
		g_autofree gchar *expires = aiq_designer_format_time(
			json_object_get_string_member_with_default(item, "expires_at", NULL));
		g_autofree gchar *last_used = aiq_designer_format_time(
			json_object_get_string_member_with_default(item, "last_used", NULL));
		GtkWidget *button;

		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), name);
		g_string_append(
			subtitle,
			aiq_designer_admin_role_label(
				json_object_get_string_member_with_default(item, "role", "")));
		g_string_append(subtitle, " · ");
		/* TRANSLATORS: %s is a time, or — for never */
		g_string_append_printf(subtitle, _("expires %s"), expires);
		g_string_append(subtitle, " · ");
		/* TRANSLATORS: %s is a time, or — for never */
		g_string_append_printf(subtitle, _("last used %s"), last_used);
		button = aiq_designer_admin_page_row_button(
			self,
			row,
			_("_Revoke"),
			list,
			item,
			G_CALLBACK(aiq_designer_admin_page_revoke_clicked_cb));
		gtk_widget_add_css_class(button, "destructive-action");
		g_object_set_data_full(G_OBJECT(button), "name", g_strdup(name), g_free);
		break;
	}
	case AIQ_DESIGNER_ADMIN_LIST_TOKENS: {
		const gchar *name = json_object_get_string_member_with_default(item, "name", NULL);
		JsonNode *labels = json_object_get_member(item, "labels");
		g_autofree gchar *expires = aiq_designer_format_time(
			json_object_get_string_member_with_default(item, "expires_at", NULL));
		GtkWidget *button;

		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row),
					      name != NULL ? name : _("Unnamed"));
		if (labels != NULL && JSON_NODE_HOLDS_ARRAY(labels)) {
			JsonArray *array = json_node_get_array(labels);
			for (guint i = 0; i < json_array_get_length(array); i++) {
				if (i > 0)
					g_string_append(subtitle, ", ");
				g_string_append(subtitle, json_array_get_string_element(array, i));
			}
		}
		if (subtitle->len > 0)
			g_string_append(subtitle, " · ");
		g_string_append_printf(subtitle, _("expires %s"), expires);
		button = aiq_designer_admin_page_row_button(
			self,
			row,
			_("_Revoke"),
			list,
			item,
			G_CALLBACK(aiq_designer_admin_page_revoke_clicked_cb));
		gtk_widget_add_css_class(button, "destructive-action");
		g_object_set_data_full(G_OBJECT(button),
				       "name",
				       g_strdup(name != NULL ? name : ""),
				       g_free);
		break;
	}
	case AIQ_DESIGNER_ADMIN_LIST_TENANTS:
	default: {
		g_autofree gchar *title = g_strdup_printf(
			"%s (%s)",
			json_object_get_string_member_with_default(item, "name", ""),
			json_object_get_string_member_with_default(item, "slug", ""));
		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
		g_string_append(subtitle,
				json_object_get_string_member_with_default(item, "tier", ""));
		g_string_append(subtitle, " · ");
		g_string_append(
			subtitle,
			g_strcmp0(json_object_get_string_member_with_default(item, "status", ""),
				  "suspended") == 0
				? C_("tenant", "Suspended")
				: C_("tenant", "Active"));
		g_string_append(subtitle, " · ");
		g_string_append_printf(
			subtitle,
			/* TRANSLATORS: how long the tenant's executions are kept */
			_("kept %" PRId64 " days"),
			json_object_get_int_member_with_default(item, "retention_days", 0));
		break;
	}
	}
	if (list != AIQ_DESIGNER_ADMIN_LIST_USERS && list != AIQ_DESIGNER_ADMIN_LIST_KEYS &&
	    list != AIQ_DESIGNER_ADMIN_LIST_TOKENS) {
		g_string_append(subtitle, " · ");
		/* TRANSLATORS: %s is a time */
		g_string_append_printf(subtitle, _("created %s"), created);
	}
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle->str);
	return row;
}

/* loading */

static void
aiq_designer_admin_page_load_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerAdminLoad) load = user_data;
	AiqDesignerAdminPage *self = load->self;
	GtkListBox *list = self->lists[load->list];
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	JsonNode *items;

	if (node == NULL) {
		g_autofree gchar *text = NULL;
		if (aiq_designer_error_is_cancelled(error))
			return;
		aiq_designer_admin_page_clear(list);
		/* TRANSLATORS: %s is why a list could not be loaded */
		text = g_strdup_printf(_("Cannot load this list: %s"), error->message);
		aiq_designer_admin_page_set_placeholder(list, text);
		return;
	}
	aiq_designer_admin_page_clear(list);
	aiq_designer_admin_page_set_placeholder(list, _("None yet"));
	items = JSON_NODE_HOLDS_OBJECT(node)
			? json_object_get_member(json_node_get_object(node), "items")
			: NULL;
	if (items != NULL && JSON_NODE_HOLDS_ARRAY(items)) {
		JsonArray *array = json_node_get_array(items);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *item = json_array_get_element(array, i);
			if (!JSON_NODE_HOLDS_OBJECT(item))
				continue;
			gtk_list_box_append(
				list,
				aiq_designer_admin_page_make_row(self,
								 load->list,
								 json_node_get_object(item)));
		}
	}
	self->loads++;
}

static void
aiq_designer_admin_page_load(AiqDesignerAdminPage *self, AiqDesignerAdminList list)
{
	AiqDesignerAdminLoad *load = g_new0(AiqDesignerAdminLoad, 1);
	load->self = g_object_ref(self);
	load->list = list;
	aiq_client_request_async(aiq_designer_session_get_client(self->session),
				 "GET",
				 aiq_designer_admin_paths[list],
				 NULL,
				 NULL,
				 NULL,
				 self->cancellable,
				 aiq_designer_admin_page_load_cb,
				 load);
}

void
aiq_designer_admin_page_reload(AiqDesignerAdminPage *self)
{
	gboolean platform;

	g_return_if_fail(AIQ_DESIGNER_IS_ADMIN_PAGE(self));

	if (self->session == NULL || !aiq_designer_session_get_logged_in(self->session) ||
	    !aiq_designer_session_has_role(self->session, "tenant_admin"))
		return;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();

	platform = aiq_designer_session_has_role(self->session, "platform_admin");
	gtk_stack_page_set_visible(self->tenants_page, platform);
	for (guint i = 0; i < AIQ_DESIGNER_ADMIN_LIST_LAST; i++) {
		if (i == AIQ_DESIGNER_ADMIN_LIST_TENANTS && !platform)
			continue;
		aiq_designer_admin_page_load(self, i);
	}
}

/* creating */

static GtkWidget *
aiq_designer_admin_page_entry_row(GtkWidget *group,
				  const gchar *name,
				  const gchar *title,
				  gboolean password)
{
	GtkWidget *row = password ? adw_password_entry_row_new() : adw_entry_row_new();
	gtk_widget_set_name(row, name);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
	return row;
}

static GtkWidget *
aiq_designer_admin_page_combo_row(GtkWidget *group,
				  const gchar *name,
				  const gchar *title,
				  const gchar *const *labels,
				  guint selected)
{
	GtkWidget *row = adw_combo_row_new();
	g_autoptr(GtkStringList) model = gtk_string_list_new(labels);
	gtk_widget_set_name(row, name);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_combo_row_set_model(ADW_COMBO_ROW(row), G_LIST_MODEL(model));
	adw_combo_row_set_selected(ADW_COMBO_ROW(row), selected);
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
	return row;
}

static const gchar *
aiq_designer_admin_dialog_text(AdwMessageDialog *dialog, const gchar *name)
{
	GtkWidget *group = adw_message_dialog_get_extra_child(dialog);
	GtkWidget *row = g_object_get_data(G_OBJECT(group), name);
	return gtk_editable_get_text(GTK_EDITABLE(row));
}

static guint
aiq_designer_admin_dialog_choice(AdwMessageDialog *dialog, const gchar *name)
{
	GtkWidget *group = adw_message_dialog_get_extra_child(dialog);
	GtkWidget *row = g_object_get_data(G_OBJECT(group), name);
	return adw_combo_row_get_selected(ADW_COMBO_ROW(row));
}

static GtkWidget *
aiq_designer_admin_page_form_dialog(AiqDesignerAdminPage *self,
				    const gchar *heading,
				    const gchar *create_label,
				    GtkWidget *group,
				    GCallback response_cb)
{
	GtkWidget *dialog = aiq_designer_admin_page_message_dialog(self, heading, NULL);
	adw_message_dialog_set_extra_child(ADW_MESSAGE_DIALOG(dialog), group);
	adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog),
					 "cancel",
					 _("_Cancel"),
					 "create",
					 create_label,
					 NULL);
	adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog),
						   "create",
						   ADW_RESPONSE_SUGGESTED);
	adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "create");
	adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
	g_signal_connect_object(dialog, "response", response_cb, self, 0);
	gtk_window_present(GTK_WINDOW(dialog));
	return dialog;
}

/* users */

static void
aiq_designer_admin_page_user_response_cb(AdwMessageDialog *dialog,
					 const gchar *response,
					 AiqDesignerAdminPage *self)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	const gchar *display = aiq_designer_admin_dialog_text(dialog, "display-name");
	guint role = aiq_designer_admin_dialog_choice(dialog, "role");

	if (g_strcmp0(response, "create") != 0)
		return;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "username");
	json_builder_add_string_value(builder, aiq_designer_admin_dialog_text(dialog, "username"));
	if (display[0] != '\0') {
		json_builder_set_member_name(builder, "display_name");
		json_builder_add_string_value(builder, display);
	}
	json_builder_set_member_name(builder, "role");
	json_builder_add_string_value(
		builder,
		aiq_designer_admin_roles[MIN(role, G_N_ELEMENTS(aiq_designer_admin_roles) - 1)]);
	json_builder_set_member_name(builder, "password");
	json_builder_add_string_value(builder, aiq_designer_admin_dialog_text(dialog, "password"));
	json_builder_end_object(builder);
	aiq_designer_admin_page_send(self,
				     AIQ_DESIGNER_ADMIN_LIST_USERS,
				     "POST",
				     "/api/v1/users",
				     builder,
				     NULL);
}

static void
aiq_designer_admin_page_add_user_action(GtkWidget *widget,
					const gchar *action_name,
					GVariant *param)
{
	AiqDesignerAdminPage *self = AIQ_DESIGNER_ADMIN_PAGE(widget);
	GtkWidget *group = adw_preferences_group_new();
	const gchar *roles[] = { C_("role", "Viewer"),
				 C_("role", "Editor"),
				 C_("role", "Tenant admin"),
				 NULL };

	g_object_set_data(
		G_OBJECT(group),
		"username",
		aiq_designer_admin_page_entry_row(group, "username", _("User Name"), FALSE));
	g_object_set_data(G_OBJECT(group),
			  "display-name",
			  aiq_designer_admin_page_entry_row(group,
							    "display-name",
							    _("Full Name (optional)"),
							    FALSE));
	g_object_set_data(G_OBJECT(group),
			  "password",
			  aiq_designer_admin_page_entry_row(group,
							    "password",
							    _("Password (at least 10 characters)"),
							    TRUE));
	g_object_set_data(G_OBJECT(group),
			  "role",
			  aiq_designer_admin_page_combo_row(group, "role", _("Role"), roles, 0));
	aiq_designer_admin_page_form_dialog(self,
					    _("Add User"),
					    _("_Add"),
					    group,
					    G_CALLBACK(aiq_designer_admin_page_user_response_cb));
}

/* API keys */

static void
aiq_designer_admin_page_copy_clicked_cb(GtkButton *button, gpointer user_data)
{
	const gchar *text = g_object_get_data(G_OBJECT(button), "text");
	gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(button)), text);
	gtk_button_set_label(button, _("Copied"));
}

static void
aiq_designer_admin_page_key_created_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerAdminLoad) load = user_data;
	AiqDesignerAdminPage *self = load->self;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	const gchar *token;
	GtkWidget *dialog;
	GtkWidget *box;
	GtkWidget *label;
	GtkWidget *button;

	if (node == NULL) {
		aiq_designer_show_error(GTK_WIDGET(self), error);
		return;
	}
	aiq_designer_admin_page_load(self, AIQ_DESIGNER_ADMIN_LIST_KEYS);
	token = JSON_NODE_HOLDS_OBJECT(node)
			? json_object_get_string_member_with_default(json_node_get_object(node),
								     "token",
								     NULL)
			: NULL;
	if (token == NULL)
		return;

	dialog = aiq_designer_admin_page_message_dialog(
		self,
		_("API Key Created"),
		_("Copy the key now: it is shown only this once."));
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	label = gtk_label_new(token);
	gtk_widget_set_name(label, "token");
	gtk_label_set_selectable(GTK_LABEL(label), TRUE);
	gtk_label_set_wrap(GTK_LABEL(label), TRUE);
	gtk_label_set_wrap_mode(GTK_LABEL(label), PANGO_WRAP_CHAR);
	gtk_widget_add_css_class(label, "monospace");
	button = gtk_button_new_with_mnemonic(_("_Copy Key"));
	gtk_widget_set_halign(button, GTK_ALIGN_CENTER);
	g_object_set_data_full(G_OBJECT(button), "text", g_strdup(token), g_free);
	g_signal_connect(button,
			 "clicked",
			 G_CALLBACK(aiq_designer_admin_page_copy_clicked_cb),
			 NULL);
	gtk_box_append(GTK_BOX(box), label);
	gtk_box_append(GTK_BOX(box), button);
	adw_message_dialog_set_extra_child(ADW_MESSAGE_DIALOG(dialog), box);
	adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", _("_Done"));
	gtk_window_present(GTK_WINDOW(dialog));
}

static void
aiq_designer_admin_page_key_response_cb(AdwMessageDialog *dialog,
					const gchar *response,
					AiqDesignerAdminPage *self)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	guint role = aiq_designer_admin_dialog_choice(dialog, "role");
	guint expiry = aiq_designer_admin_dialog_choice(dialog, "expires");

	if (g_strcmp0(response, "create") != 0)
		return;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "name");
	json_builder_add_string_value(builder, aiq_designer_admin_dialog_text(dialog, "name"));
	json_builder_set_member_name(builder, "role");
	json_builder_add_string_value(
		builder,
		aiq_designer_admin_roles[MIN(role, G_N_ELEMENTS(aiq_designer_admin_roles) - 1)]);
	if (expiry < G_N_ELEMENTS(aiq_designer_admin_key_expiries) &&
	    aiq_designer_admin_key_expiries[expiry] != NULL) {
		json_builder_set_member_name(builder, "expires_in");
		json_builder_add_string_value(builder, aiq_designer_admin_key_expiries[expiry]);
	}
	json_builder_end_object(builder);
	aiq_designer_admin_page_send(self,
				     AIQ_DESIGNER_ADMIN_LIST_KEYS,
				     "POST",
				     "/api/v1/api-keys",
				     builder,
				     aiq_designer_admin_page_key_created_cb);
}

static void
aiq_designer_admin_page_add_key_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerAdminPage *self = AIQ_DESIGNER_ADMIN_PAGE(widget);
	GtkWidget *group = adw_preferences_group_new();
	const gchar *roles[] = { C_("role", "Viewer"),
				 C_("role", "Editor"),
				 C_("role", "Tenant admin"),
				 NULL };
	const gchar *expiries[] = { _("Never"), _("30 days"), _("90 days"), _("1 year"), NULL };

	g_object_set_data(G_OBJECT(group),
			  "name",
			  aiq_designer_admin_page_entry_row(group, "name", _("Name"), FALSE));
	g_object_set_data(G_OBJECT(group),
			  "role",
			  aiq_designer_admin_page_combo_row(group, "role", _("Role"), roles, 0));
	g_object_set_data(G_OBJECT(group),
			  "expires",
			  aiq_designer_admin_page_combo_row(group,
							    "expires",
							    _("Expires After"),
							    expiries,
							    2));
	aiq_designer_admin_page_form_dialog(self,
					    _("Add API Key"),
					    _("C_reate"),
					    group,
					    G_CALLBACK(aiq_designer_admin_page_key_response_cb));
}

/* enrollment tokens */

static gboolean
aiq_designer_admin_page_enroll_close_cb(AiqDesignerAdminPage *self)
{
	aiq_designer_admin_page_load(self, AIQ_DESIGNER_ADMIN_LIST_TOKENS);
	return FALSE;
}

static void
aiq_designer_admin_page_add_token_action(GtkWidget *widget,
					 const gchar *action_name,
					 GVariant *param)
{
	AiqDesignerAdminPage *self = AIQ_DESIGNER_ADMIN_PAGE(widget);
	GtkWidget *dialog = aiq_designer_enroll_dialog_new(widget, self->session);
	g_set_weak_pointer(&self->dialog, dialog);
	g_signal_connect_object(dialog,
				"close-request",
				G_CALLBACK(aiq_designer_admin_page_enroll_close_cb),
				self,
				G_CONNECT_SWAPPED);
	gtk_window_present(GTK_WINDOW(dialog));
}

/* tenants */

static void
aiq_designer_admin_page_tenant_response_cb(AdwMessageDialog *dialog,
					   const gchar *response,
					   AiqDesignerAdminPage *self)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	guint tier = aiq_designer_admin_dialog_choice(dialog, "tier");

	if (g_strcmp0(response, "create") != 0)
		return;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "slug");
	json_builder_add_string_value(builder, aiq_designer_admin_dialog_text(dialog, "slug"));
	json_builder_set_member_name(builder, "name");
	json_builder_add_string_value(builder, aiq_designer_admin_dialog_text(dialog, "name"));
	json_builder_set_member_name(builder, "tier");
	json_builder_add_string_value(
		builder,
		aiq_designer_admin_tiers[MIN(tier, G_N_ELEMENTS(aiq_designer_admin_tiers) - 1)]);
	json_builder_set_member_name(builder, "admin");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "username");
	json_builder_add_string_value(builder,
				      aiq_designer_admin_dialog_text(dialog, "admin-username"));
	json_builder_set_member_name(builder, "password");
	json_builder_add_string_value(builder,
				      aiq_designer_admin_dialog_text(dialog, "admin-password"));
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	aiq_designer_admin_page_send(self,
				     AIQ_DESIGNER_ADMIN_LIST_TENANTS,
				     "POST",
				     "/api/v1/tenants",
				     builder,
				     NULL);
}

static void
aiq_designer_admin_page_add_tenant_action(GtkWidget *widget,
					  const gchar *action_name,
					  GVariant *param)
{
	AiqDesignerAdminPage *self = AIQ_DESIGNER_ADMIN_PAGE(widget);
	GtkWidget *group = adw_preferences_group_new();
	const gchar *tiers[] = { C_("tier", "Free"),
				 C_("tier", "Standard"),
				 C_("tier", "Premium"),
				 C_("tier", "Enterprise"),
				 NULL };

	g_object_set_data(G_OBJECT(group),
			  "slug",
			  aiq_designer_admin_page_entry_row(group,
							    "slug",
							    _("Short Name (a-z, 0-9, -)"),
							    FALSE));
	g_object_set_data(G_OBJECT(group),
			  "name",
			  aiq_designer_admin_page_entry_row(group, "name", _("Name"), FALSE));
	g_object_set_data(G_OBJECT(group),
			  "tier",
			  aiq_designer_admin_page_combo_row(group, "tier", _("Tier"), tiers, 0));
	g_object_set_data(G_OBJECT(group),
			  "admin-username",
			  aiq_designer_admin_page_entry_row(group,
							    "admin-username",
							    _("Admin User Name"),
							    FALSE));
	g_object_set_data(G_OBJECT(group),
			  "admin-password",
			  aiq_designer_admin_page_entry_row(group,
							    "admin-password",
							    _("Admin Password"),
							    TRUE));
	aiq_designer_admin_page_form_dialog(self,
					    _("Add Tenant"),
					    _("_Add"),
					    group,
					    G_CALLBACK(aiq_designer_admin_page_tenant_response_cb));
}

/* the object */

static void
aiq_designer_admin_page_get_property(GObject *object,
				     guint prop_id,
				     GValue *value,
				     GParamSpec *pspec)
{
	AiqDesignerAdminPage *self = AIQ_DESIGNER_ADMIN_PAGE(object);
	switch (prop_id) {
	case PROP_SESSION:
		g_value_set_object(value, self->session);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_admin_page_set_property(GObject *object,
				     guint prop_id,
				     const GValue *value,
				     GParamSpec *pspec)
{
	AiqDesignerAdminPage *self = AIQ_DESIGNER_ADMIN_PAGE(object);
	switch (prop_id) {
	case PROP_SESSION:
		self->session = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_admin_page_dispose(GObject *object)
{
	AiqDesignerAdminPage *self = AIQ_DESIGNER_ADMIN_PAGE(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_weak_pointer(&self->dialog);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(aiq_designer_admin_page_parent_class)->dispose(object);
}

static void
aiq_designer_admin_page_class_init(AiqDesignerAdminPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = aiq_designer_admin_page_get_property;
	object_class->set_property = aiq_designer_admin_page_set_property;
	object_class->dispose = aiq_designer_admin_page_dispose;

	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-admin-page.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAdminPage, stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAdminPage, tenants_page);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAdminPage, users_list);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAdminPage, keys_list);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAdminPage, tokens_list);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerAdminPage, tenants_list);
	gtk_widget_class_install_action(widget_class,
					"admin.add-user",
					NULL,
					aiq_designer_admin_page_add_user_action);
	gtk_widget_class_install_action(widget_class,
					"admin.add-key",
					NULL,
					aiq_designer_admin_page_add_key_action);
	gtk_widget_class_install_action(widget_class,
					"admin.add-token",
					NULL,
					aiq_designer_admin_page_add_token_action);
	gtk_widget_class_install_action(widget_class,
					"admin.add-tenant",
					NULL,
					aiq_designer_admin_page_add_tenant_action);
}

static void
aiq_designer_admin_page_init(AiqDesignerAdminPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->lists[AIQ_DESIGNER_ADMIN_LIST_USERS] = self->users_list;
	self->lists[AIQ_DESIGNER_ADMIN_LIST_KEYS] = self->keys_list;
	self->lists[AIQ_DESIGNER_ADMIN_LIST_TOKENS] = self->tokens_list;
	self->lists[AIQ_DESIGNER_ADMIN_LIST_TENANTS] = self->tenants_list;
	for (guint i = 0; i < AIQ_DESIGNER_ADMIN_LIST_LAST; i++)
		aiq_designer_admin_page_set_placeholder(self->lists[i], _("Loading…"));
	gtk_stack_page_set_visible(self->tenants_page, FALSE);
}

GtkWidget *
aiq_designer_admin_page_new(AiqDesignerSession *session)
{
	return g_object_new(AIQ_DESIGNER_TYPE_ADMIN_PAGE, "session", session, NULL);
}
