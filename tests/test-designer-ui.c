/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The designer end to end: the real application window under Xvfb, a real
 * automateiq-server process and a real automateiq-agent process on
 * loopback, the token in a real Secret Service (gnome-keyring on the
 * test's private session bus, see designer-session.sh).
 */

#include "config.h"

#include <adwaita.h>
#include <libsecret/secret.h>

#include "aiq-designer-application.h"
#include "aiq-designer-login-view.h"
#include "aiq-designer-session.h"
#include "aiq-designer-test.h"
#include "aiq-designer-window.h"
#include "aiq-e2e.h"
#include "aiq-json.h"

typedef struct {
	gchar *root;
	AiqE2eServer *server;
	AiqE2eAgent *agent;
	GSettings *settings;
	AiqDesignerSession *session;
	AiqDesignerWindow *window;
} Fixture;

static Fixture fixture;

static void
fixture_start_platform(void)
{
	g_autofree gchar *agent_conf = NULL;
	fixture.root = aiq_e2e_make_tmp_dir("designer-ui");
	fixture.server = aiq_e2e_server_new(fixture.root, "server", NULL);
	aiq_e2e_server_start(fixture.server);
	/* restarts keep the URL the designer knows */
	fixture.server->port =
		(guint16)g_uri_get_port(g_uri_parse(fixture.server->url, G_URI_FLAGS_NONE, NULL));
	agent_conf = g_strdup("[agent]\nname=ui-agent\nheartbeat=1s\n");
	fixture.agent = aiq_e2e_agent_new(fixture.root, "agent", agent_conf);
	aiq_e2e_agent_enroll(fixture.agent, fixture.server, NULL);
	aiq_e2e_agent_start(fixture.agent);
}

static void
fixture_open_window(void)
{
	fixture.settings = g_settings_new("io.automateiq.Designer");
	fixture.session = aiq_designer_session_new(fixture.settings);
	fixture.window = aiq_designer_window_new(NULL, fixture.session);
	gtk_window_set_default_size(GTK_WINDOW(fixture.window), 1280, 820);
	gtk_window_present(GTK_WINDOW(fixture.window));
	AIQ_DESIGNER_WAIT(gtk_widget_get_mapped(GTK_WIDGET(fixture.window)), 10000);
	aiq_designer_window_show_login(fixture.window);
}

static gchar *
lookup_token(const gchar *server_url, const gchar *user)
{
	static const SecretSchema schema = {
		"io.automateiq.Designer.Token",
		SECRET_SCHEMA_NONE,
		{ { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
		  { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
		  { NULL, 0 } },
	};
	g_autoptr(GError) error = NULL;
	gchar *token = secret_password_lookup_sync(&schema,
						   NULL,
						   &error,
						   "server",
						   server_url,
						   "user",
						   user,
						   NULL);
	g_assert_no_error(error);
	return token;
}

/* a self-signed server is refused until the user trusts its fingerprint;
 * then the token is in the keyring and a new session restores it */
static void
test_login_trust_keyring(void)
{
	GtkWidget *login = aiq_designer_window_get_login_view(fixture.window);
	GtkWidget *trust;
	g_autofree gchar *token = NULL;
	g_autofree gchar *fingerprint = NULL;
	g_autoptr(AiqDesignerSession) restored = NULL;
	gboolean done = FALSE;

	aiq_designer_login_view_fill(AIQ_DESIGNER_LOGIN_VIEW(login),
				     fixture.server->url,
				     "demo",
				     "demo",
				     g_getenv("AIQ_DEMO_PASSWORD"));
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "login");
	gtk_widget_activate(aiq_designer_test_find_button(login, "Log In"));
	/* the certificate is self-signed: the view offers to trust it */
	AIQ_DESIGNER_WAIT((trust = aiq_designer_test_find_button(
				   login,
				   "Trust This Certificate and Log In")) != NULL &&
				  gtk_widget_get_child_visible(
					  gtk_widget_get_parent(gtk_widget_get_parent(trust))),
			  20000);
	g_assert_false(aiq_designer_session_get_logged_in(fixture.session));
	fingerprint = aiq_designer_session_dup_rejected_fingerprint(fixture.session);
	g_assert_nonnull(fingerprint);
	g_assert_true(aiq_designer_test_has_label(login, fingerprint));
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "login-certificate");
	gtk_widget_activate(trust);
	AIQ_DESIGNER_WAIT(aiq_designer_session_get_logged_in(fixture.session), 20000);
	g_assert_cmpstr(aiq_designer_session_get_role(fixture.session), ==, "tenant_admin");
	g_assert_cmpstr(aiq_designer_session_get_tenant(fixture.session), ==, "demo");
	AIQ_DESIGNER_WAIT(aiq_designer_session_get_online(fixture.session), 20000);

	/* the token is in the real Secret Service, never in GSettings */
	token = lookup_token(fixture.server->url, "demo");
	g_assert_nonnull(token);
	g_assert_true(g_str_has_prefix(token, "aiqs_"));
	{
		g_autoptr(GVariant) trusted =
			g_settings_get_value(fixture.settings, "trusted-certificates");
		g_autofree gchar *printed = g_variant_print(trusted, FALSE);
		g_assert_nonnull(strstr(printed, fingerprint));
		g_assert_null(strstr(printed, token));
	}

	/* the next start logs in from the keyring */
	restored = aiq_designer_session_new(fixture.settings);
	aiq_designer_session_restore_async(restored, NULL, (GAsyncReadyCallback)NULL, NULL);
	AIQ_DESIGNER_WAIT(aiq_designer_session_get_logged_in(restored), 20000);
	g_assert_cmpstr(aiq_designer_session_get_username(restored), ==, "demo");
	(void)done;
}

/* the server goes away: the window says so, and comes back by itself */
static void
test_server_outage(void)
{
	GtkWidget *banner;
	g_assert_true(aiq_designer_session_get_online(fixture.session));
	aiq_e2e_server_kill(fixture.server);
	AIQ_DESIGNER_WAIT(!aiq_designer_session_get_online(fixture.session), 20000);
	banner = aiq_designer_test_find_widget(GTK_WIDGET(fixture.window), GTK_TYPE_REVEALER, NULL);
	g_assert_nonnull(banner);
	AIQ_DESIGNER_WAIT(aiq_designer_test_has_label(GTK_WIDGET(fixture.window),
						      "The server cannot be reached"),
			  10000);
	aiq_designer_test_screenshot(GTK_WIDGET(fixture.window), "offline");
	/* still logged in, and nothing froze: the window still draws */
	g_assert_true(aiq_designer_session_get_logged_in(fixture.session));
	aiq_e2e_server_start(fixture.server);
	AIQ_DESIGNER_WAIT(aiq_designer_session_get_online(fixture.session), 60000);
	AIQ_DESIGNER_WAIT(!aiq_designer_test_has_label(GTK_WIDGET(fixture.window),
						       "The server cannot be reached"),
			  10000);
}

int
main(int argc, char **argv)
{
	gint rc;
	g_autofree gchar *password = NULL;

	aiq_designer_test_init(&argc, &argv);
	password = g_strdup_printf("ui-%08x%08x", g_random_int(), g_random_int());
	g_setenv("AIQ_DEMO_PASSWORD", password, TRUE);
	g_setenv("AIQ_ADMIN_PASSWORD", password, TRUE);
	fixture_start_platform();
	fixture_open_window();

	g_test_add_func("/aiq/designer/ui/login-trust-keyring", test_login_trust_keyring);
	g_test_add_func("/aiq/designer/ui/server-outage", test_server_outage);
	rc = g_test_run();

	gtk_window_destroy(GTK_WINDOW(fixture.window));
	g_clear_object(&fixture.session);
	g_clear_object(&fixture.settings);
	aiq_e2e_agent_free(fixture.agent);
	aiq_e2e_server_free(fixture.server);
	aiq_e2e_remove_tmp_dir(fixture.root);
	return rc;
}
