/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* `automateiq-agent run|enroll|status|secret …`; returns the exit status */
gint
aiq_agent_cli_main(gint argc, gchar **argv);

G_END_DECLS
