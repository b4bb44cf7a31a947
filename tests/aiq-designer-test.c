/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <adwaita.h>

#include "aiq-designer-test.h"

/* GTK 4.8 under Xvfb without a window manager warns when a text entry
 * loses the focus without a focus-out event (the window never had it);
 * that is the test setting, not the app. Warnings are made non-fatal so
 * this one passes; every other warning still fails the test, here. */
static GLogWriterOutput
aiq_designer_test_log_writer(GLogLevelFlags log_level,
			     const GLogField *fields,
			     gsize n_fields,
			     gpointer user_data)
{
	if (log_level & G_LOG_LEVEL_WARNING) {
		const gchar *message = NULL;
		for (gsize i = 0; i < n_fields; i++) {
			if (g_strcmp0(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
				message = fields[i].value;
		}
		if (message == NULL ||
		    strstr(message, "did not receive a focus-out event") == NULL) {
			g_log_writer_default(log_level, fields, n_fields, user_data);
			g_test_fail_printf("unexpected warning: %s",
					   message != NULL ? message : "?");
			return G_LOG_WRITER_HANDLED;
		}
		return G_LOG_WRITER_HANDLED;
	}
	return g_log_writer_default(log_level, fields, n_fields, user_data);
}

/**
 * aiq_designer_test_init:
 *
 * GTK for a test (gtk_test_init: no user settings, fatal criticals) and
 * libadwaita, with the app's icons from its resources.
 */
void
aiq_designer_test_init(int *argc, char ***argv)
{
	gtk_test_init(argc, argv, NULL);
	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR | G_LOG_FATAL_MASK);
	g_log_set_writer_func(aiq_designer_test_log_writer, NULL, NULL);
	adw_init();
	/* screenshots show pages, not cross-fades between them */
	g_object_set(gtk_settings_get_default(), "gtk-enable-animations", FALSE, NULL);
	gtk_icon_theme_add_resource_path(gtk_icon_theme_get_for_display(gdk_display_get_default()),
					 "/io/automateiq/Designer/icons");
}

/* lets the main loop run for @ms: animations, idles, network replies */
void
aiq_designer_test_iterate(guint ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	while (g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
}

/**
 * aiq_designer_test_render:
 *
 * Renders @widget as it last drew itself, with its window's renderer.
 *
 * Returns: (transfer full): the picture, or %NULL when it is not shown
 */
GdkTexture *
aiq_designer_test_render(GtkWidget *widget, GError **error)
{
	g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new(widget);
	g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new();
	g_autoptr(GskRenderNode) node = NULL;
	GtkNative *native = gtk_widget_get_native(widget);
	gint width = gtk_widget_get_width(widget);
	gint height = gtk_widget_get_height(widget);
	graphene_rect_t bounds;

	if (native == NULL || width <= 0 || height <= 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the widget is not shown");
		return NULL;
	}
	gdk_paintable_snapshot(paintable, snapshot, width, height);
	node = gtk_snapshot_free_to_node(g_steal_pointer(&snapshot));
	if (node == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the widget drew nothing");
		return NULL;
	}
	graphene_rect_init(&bounds, 0, 0, width, height);
	return gsk_renderer_render_texture(gtk_native_get_renderer(native), node, &bounds);
}

/* renders @widget to a PNG file */
gboolean
aiq_designer_test_save_png(GtkWidget *widget, const gchar *filename, GError **error)
{
	g_autoptr(GdkTexture) texture = aiq_designer_test_render(widget, error);
	if (texture == NULL)
		return FALSE;
	if (!gdk_texture_save_to_png(texture, filename)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s", filename);
		return FALSE;
	}
	return TRUE;
}

/* a PNG in $AIQ_DESIGNER_SCREENSHOT_DIR, when it is set */
void
aiq_designer_test_screenshot(GtkWidget *widget, const gchar *name)
{
	const gchar *dir = g_getenv("AIQ_DESIGNER_SCREENSHOT_DIR");
	g_autofree gchar *filename = NULL;
	g_autoptr(GError) error = NULL;

	if (dir == NULL || dir[0] == '\0')
		return;
	g_mkdir_with_parents(dir, 0755);
	/* let pending layout and animations settle */
	aiq_designer_test_iterate(300);
	filename = g_strdup_printf("%s/%s.png", dir, name);
	/* a widget between two frames may have nothing to paint yet */
	for (guint attempt = 0; attempt < 10; attempt++) {
		g_clear_error(&error);
		if (aiq_designer_test_save_png(widget, filename, &error))
			break;
		aiq_designer_test_iterate(200);
	}
	if (error != NULL)
		g_test_message("screenshot %s: %s", name, error->message);
	else
		g_test_message("screenshot: %s", filename);
}

/**
 * aiq_designer_test_find_widget:
 * @type: %G_TYPE_INVALID for any
 * @name: (nullable): the widget's name (gtk_widget_set_name), or %NULL
 *
 * Returns: (transfer none) (nullable): the first such visible descendant
 */
GtkWidget *
aiq_designer_test_find_widget(GtkWidget *root, GType type, const gchar *name)
{
	for (GtkWidget *child = gtk_widget_get_first_child(root); child != NULL;
	     child = gtk_widget_get_next_sibling(child)) {
		GtkWidget *found;
		if ((type == G_TYPE_INVALID || G_TYPE_CHECK_INSTANCE_TYPE(child, type)) &&
		    (name == NULL || g_strcmp0(gtk_widget_get_name(child), name) == 0))
			return child;
		found = aiq_designer_test_find_widget(child, type, name);
		if (found != NULL)
			return found;
	}
	return NULL;
}

static GtkWidget *
aiq_designer_test_find_button_in(GtkWidget *root, const gchar *label)
{
	for (GtkWidget *child = gtk_widget_get_first_child(root); child != NULL;
	     child = gtk_widget_get_next_sibling(child)) {
		GtkWidget *found;
		if (GTK_IS_BUTTON(child) && gtk_widget_get_mapped(child)) {
			const gchar *text = gtk_button_get_label(GTK_BUTTON(child));
			g_autofree gchar *plain = NULL;
			if (text != NULL) {
				plain = g_strdup(text);
				/* "_Log In" → "Log In" */
				for (gchar *p = plain, *q = plain;; p++) {
					if (*p != '_')
						*q++ = *p;
					if (*p == '\0')
						break;
				}
				if (g_strcmp0(plain, label) == 0)
					return child;
			}
		}
		found = aiq_designer_test_find_button_in(child, label);
		if (found != NULL)
			return found;
	}
	return NULL;
}

/* a mapped button whose label, without mnemonics, is @label */
GtkWidget *
aiq_designer_test_find_button(GtkWidget *root, const gchar *label)
{
	return aiq_designer_test_find_button_in(root, label);
}

/* a mapped label below @root shows text containing @needle */
gboolean
aiq_designer_test_has_label(GtkWidget *root, const gchar *needle)
{
	for (GtkWidget *child = gtk_widget_get_first_child(root); child != NULL;
	     child = gtk_widget_get_next_sibling(child)) {
		if (GTK_IS_LABEL(child) && gtk_widget_get_mapped(child) &&
		    strstr(gtk_label_get_text(GTK_LABEL(child)), needle) != NULL)
			return TRUE;
		if (aiq_designer_test_has_label(child, needle))
			return TRUE;
	}
	return FALSE;
}

/* a shown toplevel of @type: a dialog */
GtkWidget *
aiq_designer_test_find_toplevel(GType type)
{
	GListModel *toplevels = gtk_window_get_toplevels(); /* not owned */
	for (guint i = 0; i < g_list_model_get_n_items(toplevels); i++) {
		g_autoptr(GtkWidget) window = g_list_model_get_item(toplevels, i);
		if (G_TYPE_CHECK_INSTANCE_TYPE(window, type) && gtk_widget_get_mapped(window))
			return window;
	}
	return NULL;
}

/* a mapped button or other actionable below @root that activates @action_name */
GtkWidget *
aiq_designer_test_find_by_action(GtkWidget *root, const gchar *action_name)
{
	for (GtkWidget *child = gtk_widget_get_first_child(root); child != NULL;
	     child = gtk_widget_get_next_sibling(child)) {
		GtkWidget *found;
		if (GTK_IS_ACTIONABLE(child) && gtk_widget_get_mapped(child) &&
		    g_strcmp0(gtk_actionable_get_action_name(GTK_ACTIONABLE(child)), action_name) ==
			    0)
			return child;
		found = aiq_designer_test_find_by_action(child, action_name);
		if (found != NULL)
			return found;
	}
	return NULL;
}
