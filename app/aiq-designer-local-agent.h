/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

#include "aiq-dbus-agent1.h"

G_BEGIN_DECLS

#define AIQ_DESIGNER_LOCAL_AGENT_BUS_NAME "io.automateiq.Agent1"
#define AIQ_DESIGNER_LOCAL_AGENT_PATH "/io/automateiq/Agent1"

#define AIQ_DESIGNER_TYPE_LOCAL_AGENT (aiq_designer_local_agent_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerLocalAgent,
		     aiq_designer_local_agent,
		     AIQ_DESIGNER,
		     LOCAL_AGENT,
		     GObject)

AiqDesignerLocalAgent *
aiq_designer_local_agent_get_default(void);
gboolean
aiq_designer_local_agent_get_available(AiqDesignerLocalAgent *self);
AiqDbusAgent1 *
aiq_designer_local_agent_get_proxy(AiqDesignerLocalAgent *self);

G_END_DECLS
