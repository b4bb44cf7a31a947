/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The login view: server, tenant, user, password. A server whose
 * certificate is not trusted is not logged in to silently: the view shows
 * why and the certificate's SHA-256 fingerprint, and only an explicit
 * "trust" remembers it for that server.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-login-view.h"
#include "aiq-designer-util.h"

struct _AiqDesignerLoginView {
	AdwBin parent_instance;
	AiqDesignerSession *session;
	GCancellable *cancellable;
	gchar *rejected_url;
	gchar *rejected_fingerprint;

	AdwEntryRow *server_row;
	AdwEntryRow *tenant_row;
	AdwEntryRow *user_row;
	AdwEntryRow *password_row;
	GtkRevealer *trust_revealer;
	GtkLabel *trust_label;
	GtkLabel *fingerprint_label;
	GtkLabel *error_label;
	GtkSpinner *spinner;
	GtkButton *login_button;
};

G_DEFINE_TYPE(AiqDesignerLoginView, aiq_designer_login_view, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_SESSION,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

static gboolean
aiq_designer_login_view_is_complete(AiqDesignerLoginView *self)
{
	return gtk_editable_get_text(GTK_EDITABLE(self->server_row))[0] != '\0' &&
	       gtk_editable_get_text(GTK_EDITABLE(self->tenant_row))[0] != '\0' &&
	       gtk_editable_get_text(GTK_EDITABLE(self->user_row))[0] != '\0' &&
	       gtk_editable_get_text(GTK_EDITABLE(self->password_row))[0] != '\0';
}

static void
aiq_designer_login_view_set_busy(AiqDesignerLoginView *self, gboolean busy)
{
	gtk_spinner_set_spinning(self->spinner, busy);
	gtk_widget_set_sensitive(GTK_WIDGET(self->login_button),
				 !busy && aiq_designer_login_view_is_complete(self));
	gtk_widget_set_sensitive(GTK_WIDGET(self->server_row), !busy);
	gtk_widget_set_sensitive(GTK_WIDGET(self->tenant_row), !busy);
	gtk_widget_set_sensitive(GTK_WIDGET(self->user_row), !busy);
	gtk_widget_set_sensitive(GTK_WIDGET(self->password_row), !busy);
}

static void
aiq_designer_login_view_changed_cb(AiqDesignerLoginView *self)
{
	gtk_widget_set_sensitive(GTK_WIDGET(self->login_button),
				 !gtk_spinner_get_spinning(self->spinner) &&
					 aiq_designer_login_view_is_complete(self));
}

static void
aiq_designer_login_view_login_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AiqDesignerLoginView *self = AIQ_DESIGNER_LOGIN_VIEW(user_data);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *fingerprint = NULL;

	if (aiq_designer_session_login_finish(AIQ_DESIGNER_SESSION(source), res, &error)) {
		aiq_designer_login_view_set_busy(self, FALSE);
		gtk_editable_set_text(GTK_EDITABLE(self->password_row), "");
		gtk_widget_set_visible(GTK_WIDGET(self->error_label), FALSE);
		gtk_revealer_set_reveal_child(self->trust_revealer, FALSE);
		g_object_unref(self);
		return;
	}
	if (aiq_designer_error_is_cancelled(error)) {
		g_object_unref(self);
		return;
	}
	aiq_designer_login_view_set_busy(self, FALSE);
	fingerprint = aiq_designer_session_dup_rejected_fingerprint(self->session);
	if (fingerprint != NULL && strstr(error->message, fingerprint) != NULL) {
		/* a certificate problem: offer to trust this certificate */
		g_free(self->rejected_url);
		self->rejected_url =
			g_strdup(gtk_editable_get_text(GTK_EDITABLE(self->server_row)));
		g_free(self->rejected_fingerprint);
		self->rejected_fingerprint = g_steal_pointer(&fingerprint);
		gtk_label_set_text(self->trust_label, error->message);
		gtk_label_set_text(self->fingerprint_label, self->rejected_fingerprint);
		gtk_revealer_set_reveal_child(self->trust_revealer, TRUE);
		gtk_widget_set_visible(GTK_WIDGET(self->error_label), FALSE);
	} else {
		gtk_revealer_set_reveal_child(self->trust_revealer, FALSE);
		gtk_label_set_text(self->error_label, error->message);
		gtk_widget_set_visible(GTK_WIDGET(self->error_label), TRUE);
	}
	g_object_unref(self);
}

/**
 * aiq_designer_login_view_log_in:
 *
 * Logs in with what the rows hold (the "Log In" button).
 */
void
aiq_designer_login_view_log_in(AiqDesignerLoginView *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_LOGIN_VIEW(self));
	if (!aiq_designer_login_view_is_complete(self) || gtk_spinner_get_spinning(self->spinner))
		return;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	aiq_designer_login_view_set_busy(self, TRUE);
	gtk_widget_set_visible(GTK_WIDGET(self->error_label), FALSE);
	aiq_designer_session_login_async(self->session,
					 gtk_editable_get_text(GTK_EDITABLE(self->server_row)),
					 gtk_editable_get_text(GTK_EDITABLE(self->tenant_row)),
					 gtk_editable_get_text(GTK_EDITABLE(self->user_row)),
					 gtk_editable_get_text(GTK_EDITABLE(self->password_row)),
					 self->cancellable,
					 aiq_designer_login_view_login_cb,
					 g_object_ref(self));
}

static void
aiq_designer_login_view_login_clicked_cb(AiqDesignerLoginView *self)
{
	aiq_designer_login_view_log_in(self);
}

static void
aiq_designer_login_view_entry_activated_cb(AiqDesignerLoginView *self)
{
	aiq_designer_login_view_log_in(self);
}

static void
aiq_designer_login_view_trust_clicked_cb(AiqDesignerLoginView *self)
{
	if (self->rejected_url == NULL || self->rejected_fingerprint == NULL)
		return;
	aiq_designer_session_trust_certificate(self->session,
					       self->rejected_url,
					       self->rejected_fingerprint);
	gtk_revealer_set_reveal_child(self->trust_revealer, FALSE);
	aiq_designer_login_view_log_in(self);
}

/**
 * aiq_designer_login_view_fill:
 * @server_url: (nullable):
 * @tenant: (nullable):
 * @username: (nullable):
 * @password: (nullable):
 *
 * Fills the rows (from the settings, or the command line).
 */
void
aiq_designer_login_view_fill(AiqDesignerLoginView *self,
			     const gchar *server_url,
			     const gchar *tenant,
			     const gchar *username,
			     const gchar *password)
{
	g_return_if_fail(AIQ_DESIGNER_IS_LOGIN_VIEW(self));
	if (server_url != NULL)
		gtk_editable_set_text(GTK_EDITABLE(self->server_row), server_url);
	if (tenant != NULL)
		gtk_editable_set_text(GTK_EDITABLE(self->tenant_row), tenant);
	if (username != NULL)
		gtk_editable_set_text(GTK_EDITABLE(self->user_row), username);
	if (password != NULL)
		gtk_editable_set_text(GTK_EDITABLE(self->password_row), password);
}

static void
aiq_designer_login_view_get_property(GObject *object,
				     guint prop_id,
				     GValue *value,
				     GParamSpec *pspec)
{
	AiqDesignerLoginView *self = AIQ_DESIGNER_LOGIN_VIEW(object);
	switch (prop_id) {
	case PROP_SESSION:
		g_value_set_object(value, self->session);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_login_view_set_property(GObject *object,
				     guint prop_id,
				     const GValue *value,
				     GParamSpec *pspec)
{
	AiqDesignerLoginView *self = AIQ_DESIGNER_LOGIN_VIEW(object);
	switch (prop_id) {
	case PROP_SESSION:
		self->session = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_login_view_constructed(GObject *object)
{
	AiqDesignerLoginView *self = AIQ_DESIGNER_LOGIN_VIEW(object);
	GSettings *settings = aiq_designer_session_get_settings(self->session);
	G_OBJECT_CLASS(aiq_designer_login_view_parent_class)->constructed(object);
	if (settings != NULL) {
		g_autofree gchar *server_url = g_settings_get_string(settings, "server-url");
		g_autofree gchar *tenant = g_settings_get_string(settings, "tenant");
		g_autofree gchar *username = g_settings_get_string(settings, "username");
		aiq_designer_login_view_fill(self, server_url, tenant, username, NULL);
	}
}

static void
aiq_designer_login_view_dispose(GObject *object)
{
	AiqDesignerLoginView *self = AIQ_DESIGNER_LOGIN_VIEW(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->session);
	gtk_widget_dispose_template(GTK_WIDGET(self), AIQ_DESIGNER_TYPE_LOGIN_VIEW);
	G_OBJECT_CLASS(aiq_designer_login_view_parent_class)->dispose(object);
}

static void
aiq_designer_login_view_finalize(GObject *object)
{
	AiqDesignerLoginView *self = AIQ_DESIGNER_LOGIN_VIEW(object);
	g_free(self->rejected_url);
	g_free(self->rejected_fingerprint);
	G_OBJECT_CLASS(aiq_designer_login_view_parent_class)->finalize(object);
}

static void
aiq_designer_login_view_class_init(AiqDesignerLoginViewClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = aiq_designer_login_view_get_property;
	object_class->set_property = aiq_designer_login_view_set_property;
	object_class->constructed = aiq_designer_login_view_constructed;
	object_class->dispose = aiq_designer_login_view_dispose;
	object_class->finalize = aiq_designer_login_view_finalize;

	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-login-view.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerLoginView, server_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerLoginView, tenant_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerLoginView, user_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerLoginView, password_row);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerLoginView, trust_revealer);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerLoginView, trust_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerLoginView, fingerprint_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerLoginView, error_label);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerLoginView, spinner);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerLoginView, login_button);
	gtk_widget_class_bind_template_callback(widget_class, aiq_designer_login_view_changed_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						aiq_designer_login_view_entry_activated_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						aiq_designer_login_view_login_clicked_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						aiq_designer_login_view_trust_clicked_cb);
}

static void
aiq_designer_login_view_init(AiqDesignerLoginView *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

GtkWidget *
aiq_designer_login_view_new(AiqDesignerSession *session)
{
	return g_object_new(AIQ_DESIGNER_TYPE_LOGIN_VIEW, "session", session, NULL);
}
