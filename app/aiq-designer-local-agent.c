/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The agent daemon on this machine, if any, read over D-Bus: the designer
 * shows its state on the agents page and runs test steps on it.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include "aiq-designer-local-agent.h"
#include "aiq-error.h"

struct _AiqDesignerLocalAgent {
	GObject parent_instance;
	guint watch_id;
	GCancellable *cancellable; /* of the proxy being made */
	AiqDbusAgent1 *proxy;
};

G_DEFINE_TYPE(AiqDesignerLocalAgent, aiq_designer_local_agent, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_AVAILABLE,
	PROP_PROXY,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

enum {
	SIGNAL_CHANGED,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

/**
 * aiq_designer_local_agent_get_available:
 *
 * Returns: whether an agent owns io.automateiq.Agent1 and its proxy is ready
 */
gboolean
aiq_designer_local_agent_get_available(AiqDesignerLocalAgent *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_LOCAL_AGENT(self), FALSE);
	return self->proxy != NULL;
}

/**
 * aiq_designer_local_agent_get_proxy:
 *
 * Returns: (transfer none) (nullable): the agent's proxy while it is available
 */
AiqDbusAgent1 *
aiq_designer_local_agent_get_proxy(AiqDesignerLocalAgent *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_LOCAL_AGENT(self), NULL);
	return self->proxy;
}

static void
aiq_designer_local_agent_properties_changed_cb(GDBusProxy *proxy,
					       GVariant *changed,
					       GStrv invalidated,
					       AiqDesignerLocalAgent *self)
{
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

static void
aiq_designer_local_agent_set_proxy(AiqDesignerLocalAgent *self, AiqDbusAgent1 *proxy)
{
	gboolean was_available = self->proxy != NULL;

	if (self->proxy == proxy)
		return;
	if (self->proxy != NULL) {
		g_signal_handlers_disconnect_by_data(self->proxy, self);
		g_clear_object(&self->proxy);
	}
	if (proxy != NULL) {
		self->proxy = g_object_ref(proxy);
		g_signal_connect(self->proxy,
				 "g-properties-changed",
				 G_CALLBACK(aiq_designer_local_agent_properties_changed_cb),
				 self);
	}
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PROXY]);
	if (was_available != (self->proxy != NULL))
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_AVAILABLE]);
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

static void
aiq_designer_local_agent_proxy_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerLocalAgent) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqDbusAgent1) proxy = aiq_dbus_agent1_proxy_new_finish(res, &error);

	if (proxy == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_debug("cannot read the local agent: %s", error->message);
		return;
	}
	/* the default timeout (25 s) is too short for a test step */
	g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(proxy), G_MAXINT);
	aiq_designer_local_agent_set_proxy(self, proxy);
}

static void
aiq_designer_local_agent_appeared_cb(GDBusConnection *connection,
				     const gchar *name,
				     const gchar *name_owner,
				     gpointer user_data)
{
	AiqDesignerLocalAgent *self = AIQ_DESIGNER_LOCAL_AGENT(user_data);

	g_debug("local agent appeared as %s", name_owner);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	aiq_dbus_agent1_proxy_new(connection,
				  G_DBUS_PROXY_FLAGS_NONE,
				  name,
				  AIQ_DESIGNER_LOCAL_AGENT_PATH,
				  self->cancellable,
				  aiq_designer_local_agent_proxy_cb,
				  g_object_ref(self));
}

static void
aiq_designer_local_agent_vanished_cb(GDBusConnection *connection,
				     const gchar *name,
				     gpointer user_data)
{
	AiqDesignerLocalAgent *self = AIQ_DESIGNER_LOCAL_AGENT(user_data);

	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	aiq_designer_local_agent_set_proxy(self, NULL);
}

static GBusType
aiq_designer_local_agent_bus_type(void)
{
	/* a development agent (automateiq-agent --session) and the tests */
	if (g_strcmp0(g_getenv("AIQ_DESIGNER_AGENT_BUS"), "session") == 0)
		return G_BUS_TYPE_SESSION;
	return G_BUS_TYPE_SYSTEM;
}

static void
aiq_designer_local_agent_get_property(GObject *object,
				      guint prop_id,
				      GValue *value,
				      GParamSpec *pspec)
{
	AiqDesignerLocalAgent *self = AIQ_DESIGNER_LOCAL_AGENT(object);
	switch (prop_id) {
	case PROP_AVAILABLE:
		g_value_set_boolean(value, self->proxy != NULL);
		break;
	case PROP_PROXY:
		g_value_set_object(value, self->proxy);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_local_agent_dispose(GObject *object)
{
	AiqDesignerLocalAgent *self = AIQ_DESIGNER_LOCAL_AGENT(object);
	if (self->watch_id != 0) {
		g_bus_unwatch_name(self->watch_id);
		self->watch_id = 0;
	}
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	if (self->proxy != NULL)
		g_signal_handlers_disconnect_by_data(self->proxy, self);
	g_clear_object(&self->proxy);
	G_OBJECT_CLASS(aiq_designer_local_agent_parent_class)->dispose(object);
}

static void
aiq_designer_local_agent_constructed(GObject *object)
{
	AiqDesignerLocalAgent *self = AIQ_DESIGNER_LOCAL_AGENT(object);

	G_OBJECT_CLASS(aiq_designer_local_agent_parent_class)->constructed(object);

	/* errors of the agent come back as AIQ_ERROR */
	(void)aiq_error_quark();
	/* g_bus_watch_name connects asynchronously; it never blocks */
	self->watch_id = g_bus_watch_name(aiq_designer_local_agent_bus_type(),
					  AIQ_DESIGNER_LOCAL_AGENT_BUS_NAME,
					  G_BUS_NAME_WATCHER_FLAGS_NONE,
					  aiq_designer_local_agent_appeared_cb,
					  aiq_designer_local_agent_vanished_cb,
					  self,
					  NULL);
}

static void
aiq_designer_local_agent_class_init(AiqDesignerLocalAgentClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = aiq_designer_local_agent_get_property;
	object_class->dispose = aiq_designer_local_agent_dispose;
	object_class->constructed = aiq_designer_local_agent_constructed;

	props[PROP_AVAILABLE] = g_param_spec_boolean("available",
						     NULL,
						     NULL,
						     FALSE,
						     G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
							     G_PARAM_STATIC_STRINGS);
	props[PROP_PROXY] = g_param_spec_object("proxy",
						NULL,
						NULL,
						AIQ_DBUS_TYPE_AGENT1,
						G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
							G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	/**
	 * AiqDesignerLocalAgent::changed:
	 *
	 * The agent appeared or vanished, or one of its properties changed.
	 */
	signals[SIGNAL_CHANGED] = g_signal_new("changed",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       0);
}

static void
aiq_designer_local_agent_init(AiqDesignerLocalAgent *self)
{
}

/**
 * aiq_designer_local_agent_get_default:
 *
 * The watcher of the local agent, made on first use; it watches the system
 * bus, or the session bus when `AIQ_DESIGNER_AGENT_BUS=session`.
 *
 * Returns: (transfer none): the local agent
 */
AiqDesignerLocalAgent *
aiq_designer_local_agent_get_default(void)
{
	static AiqDesignerLocalAgent *singleton = NULL;
	if (singleton == NULL)
		singleton = g_object_new(AIQ_DESIGNER_TYPE_LOCAL_AGENT, NULL);
	return singleton;
}
