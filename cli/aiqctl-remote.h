/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The aiqctl commands that talk to an automateiq-server.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* exit codes of aiqctl */
#define AIQCTL_EXIT_OK 0
#define AIQCTL_EXIT_FAILED 1
#define AIQCTL_EXIT_USAGE 2
#define AIQCTL_EXIT_INTERRUPTED 130

gint
aiqctl_cmd_login(gint argc, gchar **argv);
gint
aiqctl_cmd_logout(gint argc, gchar **argv);
gint
aiqctl_cmd_apply(gint argc, gchar **argv);
gint
aiqctl_cmd_workflows(gint argc, gchar **argv);
gint
aiqctl_cmd_run(gint argc, gchar **argv);
gint
aiqctl_cmd_executions(gint argc, gchar **argv);
gint
aiqctl_cmd_agents(gint argc, gchar **argv);
gint
aiqctl_cmd_enrollment_tokens(gint argc, gchar **argv);
gint
aiqctl_cmd_usage(gint argc, gchar **argv);
gint
aiqctl_cmd_audit(gint argc, gchar **argv);

gchar *
aiqctl_config_filename(void);

G_END_DECLS
