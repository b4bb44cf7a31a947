/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gint
aiq_server_cli_main(gint argc, gchar **argv);

G_END_DECLS
