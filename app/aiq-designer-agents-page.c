/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-agents-page.h"

struct _AiqDesignerAgentsPage {
	AdwBin parent_instance;
	AiqDesignerSession *session;
};

G_DEFINE_TYPE(AiqDesignerAgentsPage, aiq_designer_agents_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_SESSION,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

void
aiq_designer_agents_page_reload(AiqDesignerAgentsPage *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_AGENTS_PAGE(self));
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
	g_clear_object(&self->session);
	G_OBJECT_CLASS(aiq_designer_agents_page_parent_class)->dispose(object);
}

static void
aiq_designer_agents_page_class_init(AiqDesignerAgentsPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = aiq_designer_agents_page_get_property;
	object_class->set_property = aiq_designer_agents_page_set_property;
	object_class->dispose = aiq_designer_agents_page_dispose;
	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
aiq_designer_agents_page_init(AiqDesignerAgentsPage *self)
{
	GtkWidget *status = adw_status_page_new();
	adw_status_page_set_title(ADW_STATUS_PAGE(status), _("Agents"));
	adw_bin_set_child(ADW_BIN(self), status);
}

GtkWidget *
aiq_designer_agents_page_new(AiqDesignerSession *session)
{
	return g_object_new(AIQ_DESIGNER_TYPE_AGENTS_PAGE, "session", session, NULL);
}
