/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "aiq-designer-application.h"

int
main(int argc, char *argv[])
{
	g_autoptr(AiqDesignerApplication) app = NULL;

	aiq_designer_application_set_start_time(g_get_monotonic_time());
	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	app = aiq_designer_application_new();
	return g_application_run(G_APPLICATION(app), argc, argv);
}
