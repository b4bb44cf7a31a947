/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gint
aiqctl_main(gint argc, gchar **argv);

G_END_DECLS
