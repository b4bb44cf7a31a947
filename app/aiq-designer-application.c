/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-application.h"
#include "aiq-designer-login-view.h"
#include "aiq-designer-util.h"
#include "aiq-designer-window.h"

#define AIQ_DESIGNER_APP_ID "io.automateiq.Designer"
/* a password file is one line, never a document */
#define AIQ_DESIGNER_PASSWORD_FILE_MAX 4096

struct _AiqDesignerApplication {
	AdwApplication parent_instance;
	GSettings *settings; /* NULL when the schema is not installed */
	AiqDesignerSession *session;
	GCancellable *cancellable;
	/* the command line's login */
	gchar *server_url;
	gchar *tenant;
	gchar *username;
	gchar *password;
	gchar *fingerprint;
};

G_DEFINE_TYPE(AiqDesignerApplication, aiq_designer_application, ADW_TYPE_APPLICATION)

static gint64 aiq_designer_start_time;

/* when main() started, for the first-frame figure of bench/designer */
void
aiq_designer_application_set_start_time(gint64 monotonic_us)
{
	aiq_designer_start_time = monotonic_us;
}

AiqDesignerSession *
aiq_designer_application_get_session(AiqDesignerApplication *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_APPLICATION(self), NULL);
	return self->session;
}

static gint
aiq_designer_application_handle_local_options(GApplication *app, GVariantDict *options)
{
	AiqDesignerApplication *self = AIQ_DESIGNER_APPLICATION(app);
	g_autofree gchar *password_file = NULL;

	if (g_variant_dict_contains(options, "version")) {
		g_print("automateiq-designer %s\n", PACKAGE_VERSION);
		return 0;
	}
	g_variant_dict_lookup(options, "server", "s", &self->server_url);
	g_variant_dict_lookup(options, "tenant", "s", &self->tenant);
	g_variant_dict_lookup(options, "user", "s", &self->username);
	g_variant_dict_lookup(options, "trust-fingerprint", "s", &self->fingerprint);
	if (g_variant_dict_lookup(options, "password-file", "^ay", &password_file)) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *data = NULL;
		gsize len = 0;
		if (!g_file_get_contents(password_file, &data, &len, &error)) {
			g_printerr(_("Cannot read the password file: %s\n"), error->message);
			return 1;
		}
		if (len > AIQ_DESIGNER_PASSWORD_FILE_MAX ||
		    !g_utf8_validate(data, (gssize)len, NULL)) {
			g_printerr(_("The password file %s is not one line of text\n"),
				   password_file);
			return 1;
		}
		self->password = g_strdup(g_strchomp(data));
		memset(data, 0, len);
	}
	if (self->fingerprint != NULL && !aiq_client_fingerprint_is_valid(self->fingerprint)) {
		g_printerr(_("--trust-fingerprint: “%s” is not a SHA-256 fingerprint "
			     "(32 hex pairs separated by colons)\n"),
			   self->fingerprint);
		return 1;
	}
	return -1;
}

static void
aiq_designer_application_restore_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerWindow) window = AIQ_DESIGNER_WINDOW(user_data);
	g_autoptr(GError) error = NULL;
	if (aiq_designer_session_restore_finish(AIQ_DESIGNER_SESSION(source), res, &error))
		return;
	if (aiq_designer_error_is_cancelled(error))
		return;
	g_debug("no session restored: %s", error->message);
	aiq_designer_window_show_login(window);
}

static void
aiq_designer_application_first_frame_cb(GdkFrameClock *clock, gpointer user_data)
{
	GApplication *app = G_APPLICATION(user_data);
	gint64 now = g_get_monotonic_time();
	g_signal_handlers_disconnect_by_func(clock,
					     aiq_designer_application_first_frame_cb,
					     user_data);
	g_print("first-frame-ms: %.1f\n", (now - aiq_designer_start_time) / 1000.0);
	if (g_getenv("AIQ_DESIGNER_EXIT_AFTER_FIRST_FRAME") != NULL)
		g_application_quit(app);
}

static void
aiq_designer_application_window_mapped_cb(GtkWidget *window, gpointer user_data)
{
	GdkFrameClock *clock = gtk_widget_get_frame_clock(window);
	g_signal_handlers_disconnect_by_func(window,
					     aiq_designer_application_window_mapped_cb,
					     user_data);
	if (clock != NULL)
		g_signal_connect(clock,
				 "after-paint",
				 G_CALLBACK(aiq_designer_application_first_frame_cb),
				 user_data);
}

static void
aiq_designer_application_activate(GApplication *app)
{
	AiqDesignerApplication *self = AIQ_DESIGNER_APPLICATION(app);
	GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(app));
	AiqDesignerLoginView *login;

	if (window != NULL) {
		gtk_window_present(window);
		return;
	}
	window = GTK_WINDOW(aiq_designer_window_new(ADW_APPLICATION(app), self->session));
	if (g_getenv("AIQ_DESIGNER_REPORT_FIRST_FRAME") != NULL)
		g_signal_connect(window,
				 "map",
				 G_CALLBACK(aiq_designer_application_window_mapped_cb),
				 app);
	gtk_window_present(window);

	login = AIQ_DESIGNER_LOGIN_VIEW(
		aiq_designer_window_get_login_view(AIQ_DESIGNER_WINDOW(window)));
	if (self->server_url != NULL) {
		/* the command line says where to log in */
		if (self->fingerprint != NULL)
			aiq_designer_session_trust_certificate(self->session,
							       self->server_url,
							       self->fingerprint);
		aiq_designer_login_view_fill(login,
					     self->server_url,
					     self->tenant,
					     self->username,
					     self->password);
		aiq_designer_window_show_login(AIQ_DESIGNER_WINDOW(window));
		if (self->password != NULL) {
			aiq_designer_login_view_log_in(login);
			memset(self->password, 0, strlen(self->password));
			g_clear_pointer(&self->password, g_free);
		}
		return;
	}
	aiq_designer_session_restore_async(self->session,
					   self->cancellable,
					   aiq_designer_application_restore_cb,
					   g_object_ref(window));
}

static void
aiq_designer_application_about_action(GSimpleAction *action, GVariant *param, gpointer user_data)
{
	GtkApplication *app = GTK_APPLICATION(user_data);
	const gchar *developers[] = { "AutomateIQ developers", NULL };
	adw_show_about_window(gtk_application_get_active_window(app),
			      "application-name",
			      _("AutomateIQ Designer"),
			      "application-icon",
			      AIQ_DESIGNER_APP_ID,
			      "version",
			      PACKAGE_VERSION,
			      "developer-name",
			      "AutomateIQ",
			      "developers",
			      developers,
			      "license-type",
			      GTK_LICENSE_APACHE_2_0,
			      "comments",
			      _("Design, run and watch the workflows of your tenant"),
			      /* TRANSLATORS: put your name here, one per line */
			      "translator-credits",
			      _("translator-credits"),
			      NULL);
}

static void
aiq_designer_application_quit_action(GSimpleAction *action, GVariant *param, gpointer user_data)
{
	GtkApplication *app = GTK_APPLICATION(user_data);
	GtkWindow *window = gtk_application_get_active_window(app);
	if (window != NULL)
		gtk_window_close(window);
	g_application_quit(G_APPLICATION(app));
}

static void
aiq_designer_application_style_changed_cb(AiqDesignerApplication *self)
{
	AdwStyleManager *manager = adw_style_manager_get_default();
	switch (g_settings_get_enum(self->settings, "style-variant")) {
	case 1:
		adw_style_manager_set_color_scheme(manager, ADW_COLOR_SCHEME_FORCE_LIGHT);
		break;
	case 2:
		adw_style_manager_set_color_scheme(manager, ADW_COLOR_SCHEME_FORCE_DARK);
		break;
	default:
		adw_style_manager_set_color_scheme(manager, ADW_COLOR_SCHEME_DEFAULT);
	}
}

static void
aiq_designer_application_startup(GApplication *app)
{
	AiqDesignerApplication *self = AIQ_DESIGNER_APPLICATION(app);
	GSettingsSchemaSource *source = g_settings_schema_source_get_default();
	g_autoptr(GSettingsSchema) schema = NULL;
	const GActionEntry entries[] = {
		{ "about", aiq_designer_application_about_action, NULL, NULL, NULL, { 0 } },
		{ "quit", aiq_designer_application_quit_action, NULL, NULL, NULL, { 0 } },
	};
	const gchar *quit_accels[] = { "<Control>q", NULL };
	const gchar *undo_accels[] = { "<Control>z", NULL };
	const gchar *redo_accels[] = { "<Control><Shift>z", NULL };

	G_APPLICATION_CLASS(aiq_designer_application_parent_class)->startup(app);

	g_action_map_add_action_entries(G_ACTION_MAP(app), entries, G_N_ELEMENTS(entries), app);
	gtk_application_set_accels_for_action(GTK_APPLICATION(app), "app.quit", quit_accels);
	gtk_application_set_accels_for_action(GTK_APPLICATION(app), "editor.undo", undo_accels);
	gtk_application_set_accels_for_action(GTK_APPLICATION(app), "editor.redo", redo_accels);

	if (source != NULL)
		schema = g_settings_schema_source_lookup(source, AIQ_DESIGNER_APP_ID, TRUE);
	if (schema != NULL) {
		g_autoptr(GAction) style = NULL;
		self->settings = g_settings_new(AIQ_DESIGNER_APP_ID);
		style = g_settings_create_action(self->settings, "style-variant");
		g_action_map_add_action(G_ACTION_MAP(app), style);
		g_signal_connect_swapped(self->settings,
					 "changed::style-variant",
					 G_CALLBACK(aiq_designer_application_style_changed_cb),
					 self);
		aiq_designer_application_style_changed_cb(self);
	} else {
		g_warning("the GSettings schema %s is not installed: nothing will be remembered",
			  AIQ_DESIGNER_APP_ID);
	}
	self->session = aiq_designer_session_new(self->settings);
}

static void
aiq_designer_application_shutdown(GApplication *app)
{
	AiqDesignerApplication *self = AIQ_DESIGNER_APPLICATION(app);
	g_cancellable_cancel(self->cancellable);
	G_APPLICATION_CLASS(aiq_designer_application_parent_class)->shutdown(app);
}

static void
aiq_designer_application_finalize(GObject *object)
{
	AiqDesignerApplication *self = AIQ_DESIGNER_APPLICATION(object);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->session);
	g_clear_object(&self->settings);
	g_free(self->server_url);
	g_free(self->tenant);
	g_free(self->username);
	g_free(self->password);
	g_free(self->fingerprint);
	G_OBJECT_CLASS(aiq_designer_application_parent_class)->finalize(object);
}

static void
aiq_designer_application_class_init(AiqDesignerApplicationClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GApplicationClass *app_class = G_APPLICATION_CLASS(klass);
	object_class->finalize = aiq_designer_application_finalize;
	app_class->handle_local_options = aiq_designer_application_handle_local_options;
	app_class->startup = aiq_designer_application_startup;
	app_class->activate = aiq_designer_application_activate;
	app_class->shutdown = aiq_designer_application_shutdown;
}

static void
aiq_designer_application_init(AiqDesignerApplication *self)
{
	const GOptionEntry options[] = {
		{ "server",
		  's',
		  0,
		  G_OPTION_ARG_STRING,
		  NULL,
		  N_("Log in to this server URL"),
		  N_("URL") },
		{ "tenant",
		  't',
		  0,
		  G_OPTION_ARG_STRING,
		  NULL,
		  N_("The tenant to log in to"),
		  N_("SLUG") },
		{ "user",
		  'u',
		  0,
		  G_OPTION_ARG_STRING,
		  NULL,
		  N_("The user to log in as"),
		  N_("NAME") },
		{ "password-file",
		  0,
		  0,
		  G_OPTION_ARG_FILENAME,
		  NULL,
		  N_("Read the password from this file and log in at once"),
		  N_("FILE") },
		{ "trust-fingerprint",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  NULL,
		  N_("Trust the server's certificate with this SHA-256 fingerprint"),
		  N_("FINGERPRINT") },
		{ "version",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  NULL,
		  N_("Print the version and exit"),
		  NULL },
		{ NULL },
	};
	self->cancellable = g_cancellable_new();
	g_application_add_main_option_entries(G_APPLICATION(self), options);
}

AiqDesignerApplication *
aiq_designer_application_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_APPLICATION,
			    "application-id",
			    AIQ_DESIGNER_APP_ID,
			    "flags",
			    G_APPLICATION_DEFAULT_FLAGS,
			    "resource-base-path",
			    "/io/automateiq/Designer",
			    NULL);
}
