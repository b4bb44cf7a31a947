/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * What the designer's ui tests share: GTK set-up, waiting on the main loop
 * for a condition, and screenshots.
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void
aiq_designer_test_init(int *argc, char ***argv);
void
aiq_designer_test_iterate(guint ms);
GdkTexture *
aiq_designer_test_render(GtkWidget *widget, GError **error);
gboolean
aiq_designer_test_save_png(GtkWidget *widget, const gchar *filename, GError **error);
void
aiq_designer_test_screenshot(GtkWidget *widget, const gchar *name);
GtkWidget *
aiq_designer_test_find_widget(GtkWidget *root, GType type, const gchar *name);
GtkWidget *
aiq_designer_test_find_button(GtkWidget *root, const gchar *label);
gboolean
aiq_designer_test_has_label(GtkWidget *root, const gchar *needle);
GtkWidget *
aiq_designer_test_find_toplevel(GType type);
GtkWidget *
aiq_designer_test_find_by_action(GtkWidget *root, const gchar *action_name);

/* iterates the main loop until @cond holds, failing the test after
 * @timeout_ms; @cond is evaluated between iterations */
#define AIQ_DESIGNER_WAIT(cond, timeout_ms)                                            \
	G_STMT_START                                                                   \
	{                                                                              \
		gint64 _deadline = g_get_monotonic_time() + (gint64)(timeout_ms)*1000; \
		while (!(cond)) {                                                      \
			if (g_get_monotonic_time() > _deadline)                        \
				g_error("timed out after %u ms waiting for: %s",       \
					(guint)(timeout_ms),                           \
					#cond);                                        \
			g_main_context_iteration(NULL, FALSE);                         \
			g_usleep(1000);                                                \
		}                                                                      \
	}                                                                              \
	G_STMT_END

G_END_DECLS
