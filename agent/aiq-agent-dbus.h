/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

#include "aiq-agent.h"

G_BEGIN_DECLS

#define AIQ_AGENT_DBUS_NAME "io.automateiq.Agent1"
#define AIQ_AGENT_DBUS_PATH "/io/automateiq/Agent1"

/**
 * AiqAgentDbus:
 *
 * Exports an #AiqAgent as io.automateiq.Agent1 (src/shared/io.automateiq.Agent1.xml)
 * on a bus and owns the well-known name. On the system bus, Enroll and
 * TestStep are checked with polkit; on the session bus (development, tests)
 * only callers with the agent's own uid may call them.
 */
#define AIQ_TYPE_AGENT_DBUS (aiq_agent_dbus_get_type())
G_DECLARE_FINAL_TYPE(AiqAgentDbus, aiq_agent_dbus, AIQ, AGENT_DBUS, GObject)

AiqAgentDbus *
aiq_agent_dbus_new(AiqAgent *agent);
/* exports the object and owns the name on @bus_type, on a connection of its
 * own; fails (AIQ_ERROR_CONFLICT) when the name is taken. It waits for the
 * bus's answer by iterating the thread-default main context: call it at
 * startup, before the main loop runs */
gboolean
aiq_agent_dbus_start(AiqAgentDbus *self, GBusType bus_type, GError **error);
/* exports on an existing connection (tests): owns the name when it is a bus
 * connection; never uses polkit, only callers with the agent's own uid (see
 * the allowed-uid property) may call Enroll and TestStep */
gboolean
aiq_agent_dbus_start_on_connection(AiqAgentDbus *self, GDBusConnection *connection, GError **error);
/* gives up the name, unexports, cancels the calls in flight; may start again */
void
aiq_agent_dbus_stop(AiqAgentDbus *self);

G_END_DECLS
