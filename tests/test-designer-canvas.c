/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The workflow editor's canvas, in a real window under Xvfb. GTK 4 cannot
 * synthesize pointer events, so the gestures' handlers are driven through
 * the functions they call (aiq-designer-canvas-private.h).
 */

#include "config.h"

#include <adwaita.h>
#include <math.h>

#include "aiq-designer-canvas-private.h"
#include "aiq-designer-canvas.h"
#include "aiq-designer-test.h"
#include "aiq-designer-document.h"

static const gchar *three_steps =
	"name: t\n"
	"steps:\n"
	"  - { id: a, uses: transform, with: { value: one } }\n"
	"  - { id: b, uses: transform, with: { value: two } }\n"
	"  - { id: c, uses: transform, needs: [a], with: { value: three } }\n";

typedef struct {
	GtkWidget *window;
	AiqDesignerCanvas *canvas;
	AiqDesignerDocument *doc;
	guint selection_changes;
} Fixture;

static gboolean
timeout_cb(gpointer user_data)
{
	gboolean *expired = user_data;
	*expired = TRUE;
	return G_SOURCE_REMOVE;
}

/* iterates the main loop until @cond holds or 10 s pass */
#define ITERATE_UNTIL(cond)                                                   \
	G_STMT_START                                                          \
	{                                                                     \
		gboolean expired_ = FALSE;                                    \
		guint id_ = g_timeout_add_seconds(10, timeout_cb, &expired_); \
		while (!(cond) && !expired_)                                  \
			g_main_context_iteration(NULL, TRUE);                 \
		if (!expired_)                                                \
			g_source_remove(id_);                                 \
		g_assert_true(cond);                                          \
	}                                                                     \
	G_STMT_END

static void
selection_changed_cb(AiqDesignerCanvas *canvas, Fixture *fx)
{
	fx->selection_changes++;
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	const gchar *yaml = data != NULL ? data : three_steps;
	g_autoptr(GError) error = NULL;

	fx->doc = aiq_designer_document_new();
	g_assert_true(aiq_designer_document_load_data(fx->doc, yaml, -1, &error));
	g_assert_no_error(error);
	fx->canvas = AIQ_DESIGNER_CANVAS(aiq_designer_canvas_new());
	g_signal_connect(fx->canvas, "selection-changed", G_CALLBACK(selection_changed_cb), fx);
	aiq_designer_canvas_set_document(fx->canvas, fx->doc);
	fx->window = gtk_window_new();
	gtk_window_set_default_size(GTK_WINDOW(fx->window), 1000, 700);
	gtk_window_set_child(GTK_WINDOW(fx->window), GTK_WIDGET(fx->canvas));
	gtk_window_present(GTK_WINDOW(fx->window));
	ITERATE_UNTIL(gtk_widget_get_mapped(GTK_WIDGET(fx->canvas)) &&
		      gtk_widget_get_width(GTK_WIDGET(fx->canvas)) > 500);
	fx->selection_changes = 0;
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	gtk_window_destroy(GTK_WINDOW(fx->window));
	g_object_unref(fx->doc);
}

static gchar *
selection_to_string(AiqDesignerCanvas *canvas)
{
	g_auto(GStrv) ids = aiq_designer_canvas_dup_selection(canvas);
	return g_strjoinv(",", ids);
}

static gchar *
needs_to_string(AiqDesignerDocument *doc, const gchar *id)
{
	g_auto(GStrv) needs = aiq_designer_document_dup_needs(doc, id);
	return g_strjoinv(",", needs);
}

static void
node_center(Fixture *fx, const gchar *id, gdouble *x, gdouble *y)
{
	graphene_rect_t bounds;
	g_assert_true(aiq_designer_canvas_get_node_bounds(fx->canvas, id, &bounds));
	*x = bounds.origin.x + bounds.size.width / 2;
	*y = bounds.origin.y + bounds.size.height / 2;
}

static void
node_port(Fixture *fx, const gchar *id, gboolean output, gdouble *x, gdouble *y)
{
	graphene_rect_t bounds;
	g_assert_true(aiq_designer_canvas_get_node_bounds(fx->canvas, id, &bounds));
	*x = bounds.origin.x + (output ? bounds.size.width : 0);
	*y = bounds.origin.y + bounds.size.height / 2;
}

static guint
snapshot_count(AiqDesignerCanvas *canvas)
{
	guint count = 0;
	aiq_designer_canvas_get_snapshot_stats(canvas, &count, NULL);
	return count;
}

/* the canvas as the next frame draws it, through the window's renderer */
static GdkTexture *
render_widget(AiqDesignerCanvas *canvas)
{
	GtkWidget *widget = GTK_WIDGET(canvas);
	g_autoptr(GdkTexture) texture = NULL;
	g_autoptr(GError) error = NULL;
	guint count = snapshot_count(canvas);

	/* a widget paintable shows what the widget drew last */
	gtk_widget_queue_draw(widget);
	ITERATE_UNTIL(snapshot_count(canvas) > count);
	texture = aiq_designer_test_render(widget, &error);
	g_assert_no_error(error);
	return g_steal_pointer(&texture);
}

static void
save_screenshot(AiqDesignerCanvas *canvas, const gchar *name)
{
	const gchar *dir = g_getenv("AIQ_DESIGNER_SCREENSHOT_DIR");
	g_autoptr(GdkTexture) texture = NULL;
	g_autofree gchar *path = NULL;
	if (dir == NULL)
		return;
	texture = render_widget(canvas);
	path = g_build_filename(dir, name, NULL);
	g_assert_true(gdk_texture_save_to_png(texture, path));
	g_test_message("screenshot: %s", path);
}

/* one pixel as 0xAARRGGBB */
static guint32
texture_pixel(GdkTexture *texture, gint x, gint y)
{
	gint w = gdk_texture_get_width(texture), h = gdk_texture_get_height(texture);
	g_autofree guint32 *data = g_new(guint32, (gsize)w * h);
	g_assert_cmpint(x, >=, 0);
	g_assert_cmpint(y, >=, 0);
	g_assert_cmpint(x, <, w);
	g_assert_cmpint(y, <, h);
	gdk_texture_download(texture, (guchar *)data, (gsize)w * 4);
	return data[(gsize)y * w + x];
}

static void
test_canvas_selection(Fixture *fx, gconstpointer data)
{
	const gchar *ca[] = { "c", "a", NULL };
	const gchar *unknown[] = { "nope", "b", NULL };
	g_autofree gchar *sel1 = NULL, *sel2 = NULL, *sel3 = NULL;
	gdouble x, y;

	/* a definition without positions is laid out, and is still unmodified */
	g_assert_true(aiq_designer_document_get_position(fx->doc, "a", &x, &y));
	g_assert_cmpfloat(x, ==, 40);
	g_assert_true(aiq_designer_document_get_position(fx->doc, "c", &x, &y));
	g_assert_cmpfloat(x, ==, 40 + AIQ_DESIGNER_LAYOUT_COLUMN);
	g_assert_false(aiq_designer_document_get_modified(fx->doc));
	g_assert_true(aiq_designer_canvas_get_document(fx->canvas) == fx->doc);

	sel1 = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel1, ==, "");
	aiq_designer_canvas_select(fx->canvas, ca);
	sel2 = selection_to_string(fx->canvas);
	/* definition order, whatever the order asked */
	g_assert_cmpstr(sel2, ==, "a,c");
	g_assert_cmpuint(fx->selection_changes, ==, 1);
	g_assert_cmpstr(aiq_designer_canvas_get_description(fx->canvas), ==, "2 steps selected");
	aiq_designer_canvas_select(fx->canvas, unknown);
	sel3 = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel3, ==, "b");
	g_assert_true(g_str_has_prefix(aiq_designer_canvas_get_description(fx->canvas),
				       "Step b, Transform"));
	aiq_designer_canvas_select(fx->canvas, NULL);
	g_assert_cmpstr(aiq_designer_canvas_get_description(fx->canvas), ==, "No step selected");
	g_assert_cmpuint(fx->selection_changes, ==, 3);

	/* select all */
	g_assert_true(
		gtk_widget_activate_action(GTK_WIDGET(fx->canvas), "canvas.select-all", NULL));
	g_free(sel1);
	sel1 = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel1, ==, "a,b,c");
}

static void
test_canvas_hit_test(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *id = NULL;
	g_autofree gchar *to_id = NULL;
	gdouble x, y, x0, y0, x3, y3;

	node_center(fx, "a", &x, &y);
	g_assert_cmpint(aiq_designer_canvas_hit_test(fx->canvas, x, y, &id, NULL),
			==,
			AIQ_DESIGNER_CANVAS_HIT_NODE);
	g_assert_cmpstr(id, ==, "a");
	g_clear_pointer(&id, g_free);

	node_port(fx, "b", TRUE, &x, &y);
	g_assert_cmpint(aiq_designer_canvas_hit_test(fx->canvas, x + 2, y - 1, &id, NULL),
			==,
			AIQ_DESIGNER_CANVAS_HIT_OUTPUT);
	g_assert_cmpstr(id, ==, "b");
	g_clear_pointer(&id, g_free);

	node_port(fx, "c", FALSE, &x, &y);
	g_assert_cmpint(aiq_designer_canvas_hit_test(fx->canvas, x - 2, y, &id, NULL),
			==,
			AIQ_DESIGNER_CANVAS_HIT_INPUT);
	g_assert_cmpstr(id, ==, "c");
	g_clear_pointer(&id, g_free);

	/* a → b is a straight line between the ports: its middle */
	node_port(fx, "a", TRUE, &x0, &y0);
	node_port(fx, "b", FALSE, &x3, &y3);
	g_assert_cmpfloat(fabs(y0 - y3), <, 0.01);
	g_assert_cmpint(
		aiq_designer_canvas_hit_test(fx->canvas, (x0 + x3) / 2, y0 + 2, &id, &to_id),
		==,
		AIQ_DESIGNER_CANVAS_HIT_EDGE);
	g_assert_cmpstr(id, ==, "a");
	g_assert_cmpstr(to_id, ==, "b");
	g_clear_pointer(&id, g_free);
	g_clear_pointer(&to_id, g_free);

	/* far below everything */
	g_assert_cmpint(aiq_designer_canvas_hit_test(fx->canvas, 5, 690, &id, &to_id),
			==,
			AIQ_DESIGNER_CANVAS_HIT_NONE);
	g_assert_null(id);
	g_assert_null(to_id);
}

static void
test_canvas_connect(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *needs = NULL;
	g_autoptr(GdkTexture) texture = NULL;
	gdouble x, y, px, py;

	/* a real drag from b's output port onto c */
	node_port(fx, "b", TRUE, &px, &py);
	node_center(fx, "c", &x, &y);
	aiq_designer_canvas_pointer_begin(fx->canvas, px, py, 0);
	aiq_designer_canvas_pointer_update(fx->canvas, (x - px) / 2, (y - py) / 2);
	/* the rubber edge is drawn while dragging */
	texture = render_widget(fx->canvas);
	g_assert_nonnull(texture);
	aiq_designer_canvas_pointer_update(fx->canvas, x - px, y - py);
	aiq_designer_canvas_pointer_end(fx->canvas, x - px, y - py);
	needs = needs_to_string(fx->doc, "c");
	g_assert_cmpstr(needs, ==, "a,b");
	/* connecting does not select */
	g_assert_cmpuint(fx->selection_changes, ==, 0);

	/* c → a would be a cycle: refused, nothing changes */
	node_center(fx, "a", &x, &y);
	g_assert_false(aiq_designer_canvas_finish_connect(fx->canvas, "c", x, y));
	g_free(needs);
	needs = needs_to_string(fx->doc, "a");
	g_assert_cmpstr(needs, ==, "");
	/* onto itself or empty space: nothing */
	node_center(fx, "c", &x, &y);
	g_assert_false(aiq_designer_canvas_finish_connect(fx->canvas, "c", x, y));
	g_assert_false(aiq_designer_canvas_finish_connect(fx->canvas, "a", 5, 690));

	g_assert_true(aiq_designer_document_undo(fx->doc));
	g_free(needs);
	needs = needs_to_string(fx->doc, "c");
	g_assert_cmpstr(needs, ==, "a");
}

static void
test_canvas_move(Fixture *fx, gconstpointer data)
{
	const gchar *a[] = { "a", NULL };
	g_autofree gchar *sel = NULL;
	gdouble ax, ay, bx, by, x, y, cx, cy;
	gdouble zoom = aiq_designer_canvas_get_zoom(fx->canvas);
	guint serial;

	g_assert_true(aiq_designer_document_get_position(fx->doc, "a", &ax, &ay));
	g_assert_true(aiq_designer_document_get_position(fx->doc, "b", &bx, &by));

	/* press on a, drag in steps: a moves, one undo step */
	node_center(fx, "a", &cx, &cy);
	aiq_designer_canvas_pointer_begin(fx->canvas, cx, cy, 0);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "a");
	for (guint i = 1; i <= 10; i++)
		aiq_designer_canvas_pointer_update(fx->canvas, i * 5 * zoom, i * 2 * zoom);
	aiq_designer_canvas_pointer_end(fx->canvas, 50 * zoom, 20 * zoom);
	g_assert_true(aiq_designer_document_get_position(fx->doc, "a", &x, &y));
	g_assert_cmpfloat(x, ==, ax + 50);
	g_assert_cmpfloat(y, ==, ay + 20);
	g_assert_true(aiq_designer_document_undo(fx->doc));
	g_assert_true(aiq_designer_document_get_position(fx->doc, "a", &x, &y));
	g_assert_cmpfloat(x, ==, ax);

	/* the node is drawn where the document says after the undo */
	node_center(fx, "a", &x, &y);
	g_assert_cmpfloat(fabs(x - cx), <, 0.5);

	/* Ctrl+click adds b; the move takes both */
	node_center(fx, "b", &x, &y);
	aiq_designer_canvas_select(fx->canvas, a);
	aiq_designer_canvas_pointer_begin(fx->canvas, x, y, GDK_CONTROL_MASK);
	aiq_designer_canvas_pointer_end(fx->canvas, 0, 0);
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "a,b");
	aiq_designer_canvas_move_selection(fx->canvas, 20, -20);
	g_assert_true(aiq_designer_document_get_position(fx->doc, "a", &x, &y));
	g_assert_cmpfloat(x, ==, ax + 20);
	g_assert_cmpfloat(y, ==, ay - 20);
	g_assert_true(aiq_designer_document_get_position(fx->doc, "b", &x, &y));
	g_assert_cmpfloat(x, ==, bx + 20);
	g_assert_true(aiq_designer_document_undo(fx->doc));
	g_assert_true(aiq_designer_document_get_position(fx->doc, "a", &x, NULL));
	g_assert_cmpfloat(x, ==, ax);
	g_assert_true(aiq_designer_document_get_position(fx->doc, "b", &x, NULL));
	g_assert_cmpfloat(x, ==, bx);

	/* clicks and rubber bands are no edits */
	serial = aiq_designer_document_get_serial(fx->doc);

	/* Ctrl+click on a selected one takes it out */
	node_center(fx, "a", &x, &y);
	aiq_designer_canvas_pointer_begin(fx->canvas, x, y, GDK_CONTROL_MASK);
	aiq_designer_canvas_pointer_end(fx->canvas, 0, 0);
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "b");

	/* a click on empty space deselects */
	aiq_designer_canvas_pointer_begin(fx->canvas, 5, 690, 0);
	aiq_designer_canvas_pointer_end(fx->canvas, 0, 0);
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "");

	/* a rubber band from empty space over a and c (the first column's
	 * top and the second column's bottom) */
	{
		graphene_rect_t ra, rc;
		g_assert_true(aiq_designer_canvas_get_node_bounds(fx->canvas, "a", &ra));
		g_assert_true(aiq_designer_canvas_get_node_bounds(fx->canvas, "c", &rc));
		x = ra.origin.x - 20;
		y = rc.origin.y + 5;
		g_assert_cmpint(aiq_designer_canvas_hit_test(fx->canvas, x, y, NULL, NULL),
				==,
				AIQ_DESIGNER_CANVAS_HIT_NONE);
		aiq_designer_canvas_pointer_begin(fx->canvas, x, y, 0);
		aiq_designer_canvas_pointer_update(fx->canvas, rc.origin.x + 10 - x, -200);
		save_screenshot(fx->canvas, "canvas-rubber-band.png");
		aiq_designer_canvas_pointer_end(fx->canvas, rc.origin.x + 10 - x, -200);
		g_free(sel);
		sel = selection_to_string(fx->canvas);
		/* b is right of a, above c: inside the band too */
		g_assert_cmpstr(sel, ==, "a,b,c");
		/* from just left of c's lower left corner, over c only */
		x = rc.origin.x - 10;
		y = rc.origin.y + rc.size.height + 10;
		g_assert_cmpint(aiq_designer_canvas_hit_test(fx->canvas, x, y, NULL, NULL),
				==,
				AIQ_DESIGNER_CANVAS_HIT_NONE);
		aiq_designer_canvas_pointer_begin(fx->canvas, x, y, 0);
		aiq_designer_canvas_pointer_end(fx->canvas, 30, -20);
		g_free(sel);
		sel = selection_to_string(fx->canvas);
		g_assert_cmpstr(sel, ==, "c");
	}
	g_assert_cmpuint(aiq_designer_document_get_serial(fx->doc), ==, serial);
}

static void
test_canvas_delete(Fixture *fx, gconstpointer data)
{
	const gchar *b[] = { "b", NULL };
	g_autofree gchar *needs = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *to_id = NULL;
	gdouble x0, y0, x3, y3;

	/* nothing selected: the action is off */
	gtk_widget_activate_action(GTK_WIDGET(fx->canvas), "canvas.delete", NULL);
	g_assert_cmpuint(aiq_designer_document_get_n_steps(fx->doc), ==, 3);

	aiq_designer_canvas_select(fx->canvas, b);
	g_assert_true(gtk_widget_activate_action(GTK_WIDGET(fx->canvas), "canvas.delete", NULL));
	g_assert_cmpuint(aiq_designer_document_get_n_steps(fx->doc), ==, 2);
	g_assert_null(aiq_designer_document_find_step(fx->doc, "b", NULL));
	/* the selection followed */
	needs = selection_to_string(fx->canvas);
	g_assert_cmpstr(needs, ==, "");
	g_assert_true(aiq_designer_document_undo(fx->doc));
	g_assert_cmpuint(aiq_designer_document_get_n_steps(fx->doc), ==, 3);
	g_assert_true(aiq_designer_canvas_get_node_bounds(fx->canvas,
							  "b",
							  &GRAPHENE_RECT_INIT(0, 0, 0, 0)));

	/* click the edge a → b, delete it */
	node_port(fx, "a", TRUE, &x0, &y0);
	node_port(fx, "b", FALSE, &x3, &y3);
	aiq_designer_canvas_pointer_begin(fx->canvas, (x0 + x3) / 2, y0, 0);
	aiq_designer_canvas_pointer_end(fx->canvas, 0, 0);
	g_assert_cmpstr(aiq_designer_canvas_get_description(fx->canvas),
			==,
			"Dependency: b waits for a");
	g_assert_true(gtk_widget_activate_action(GTK_WIDGET(fx->canvas), "canvas.delete", NULL));
	g_free(needs);
	needs = needs_to_string(fx->doc, "b");
	g_assert_cmpstr(needs, ==, "");
	g_assert_cmpint(aiq_designer_canvas_hit_test(fx->canvas, (x0 + x3) / 2, y0, &id, &to_id),
			!=,
			AIQ_DESIGNER_CANVAS_HIT_EDGE);
	g_assert_true(aiq_designer_document_undo(fx->doc));
	g_free(needs);
	needs = needs_to_string(fx->doc, "b");
	g_assert_cmpstr(needs, ==, "a");
}

static void
activate_step_cb(AiqDesignerCanvas *canvas, const gchar *id, gchar **out)
{
	g_free(*out);
	*out = g_strdup(id);
}

/* the canvas's own controller of @type: its handlers run as for real events */
static GtkEventController *
find_controller(AiqDesignerCanvas *canvas, GType type)
{
	g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(GTK_WIDGET(canvas));
	for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
		g_autoptr(GtkEventController) controller = g_list_model_get_item(controllers, i);
		if (G_TYPE_CHECK_INSTANCE_TYPE(controller, type))
			return controller;
	}
	g_assert_not_reached();
	return NULL;
}

static gboolean
press_key(AiqDesignerCanvas *canvas, guint keyval, GdkModifierType state)
{
	GtkEventController *keys = find_controller(canvas, GTK_TYPE_EVENT_CONTROLLER_KEY);
	gboolean handled = FALSE;
	g_signal_emit_by_name(keys, "key-pressed", keyval, 0, state, &handled);
	g_signal_emit_by_name(keys, "key-released", keyval, 0, state);
	return handled;
}

static void
test_canvas_keyboard(Fixture *fx, gconstpointer data)
{
	const gchar *a[] = { "a", NULL };
	g_autofree gchar *sel = NULL;
	g_autofree gchar *activated = NULL;
	gdouble x, y;

	/* nothing selected: the first step */
	g_assert_true(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_RIGHT));
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "a");
	/* layout: a (col 0), b below it? no: b follows a (col 1, row 0), c needs
	 * a (col 1, row 1) */
	g_assert_true(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_RIGHT));
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "b");
	g_assert_true(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_DOWN));
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "c");
	g_assert_false(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_DOWN));
	g_assert_true(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_LEFT));
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "a");
	g_assert_false(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_LEFT));
	g_assert_false(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_UP));

	/* Tab in definition order, leaving at the ends */
	g_assert_false(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_TAB_BACKWARD));
	g_assert_true(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_TAB_FORWARD));
	g_assert_true(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_TAB_FORWARD));
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "c");
	g_assert_false(aiq_designer_canvas_navigate(fx->canvas, GTK_DIR_TAB_FORWARD));

	/* the same through the key handler */
	aiq_designer_canvas_select(fx->canvas, a);
	g_assert_true(press_key(fx->canvas, GDK_KEY_Right, 0));
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "b");
	/* no step that way: the arrow stays in the canvas all the same */
	g_assert_true(press_key(fx->canvas, GDK_KEY_Up, 0));
	g_assert_true(press_key(fx->canvas, GDK_KEY_Tab, 0));
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "c");
	/* Tab past the last step leaves the canvas */
	g_assert_false(press_key(fx->canvas, GDK_KEY_Tab, 0));
	g_assert_true(press_key(fx->canvas, GDK_KEY_ISO_Left_Tab, GDK_SHIFT_MASK));
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "b");

	/* Enter asks for the step's form */
	g_signal_connect(fx->canvas, "activate-step", G_CALLBACK(activate_step_cb), &activated);
	g_assert_true(press_key(fx->canvas, GDK_KEY_Return, 0));
	g_assert_cmpstr(activated, ==, "b");

	/* Shift+arrow moves by 20 units: one undo step per press */
	aiq_designer_canvas_select(fx->canvas, a);
	g_assert_true(aiq_designer_document_get_position(fx->doc, "a", &x, &y));
	g_assert_true(press_key(fx->canvas, GDK_KEY_Down, GDK_SHIFT_MASK));
	g_assert_true(press_key(fx->canvas, GDK_KEY_Right, GDK_SHIFT_MASK));
	g_assert_true(aiq_designer_document_get_position(fx->doc, "a", &x, &y));
	g_assert_cmpfloat(x, ==, 60);
	g_assert_cmpfloat(y, ==, 60);
	g_assert_true(aiq_designer_document_undo(fx->doc));
	g_assert_true(aiq_designer_document_get_position(fx->doc, "a", &x, &y));
	g_assert_cmpfloat(x, ==, 40);
	g_assert_cmpfloat(y, ==, 60);
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "a");

	/* Escape deselects */
	g_assert_true(press_key(fx->canvas, GDK_KEY_Escape, 0));
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "");
}

static void
test_canvas_controllers(Fixture *fx, gconstpointer data)
{
	GtkEventController *keys = find_controller(fx->canvas, GTK_TYPE_EVENT_CONTROLLER_KEY);
	GtkEventController *scroll = find_controller(fx->canvas, GTK_TYPE_EVENT_CONTROLLER_SCROLL);
	GtkEventController *drop = find_controller(fx->canvas, GTK_TYPE_DROP_TARGET);
	g_auto(GValue) value = G_VALUE_INIT;
	g_autofree gchar *sel = NULL;
	g_autofree gchar *hit = NULL;
	gboolean handled = FALSE;
	gdouble x0, y0, x1, y1;
	guint serial = aiq_designer_document_get_serial(fx->doc);

	/* a wheel step pans */
	node_center(fx, "a", &x0, &y0);
	g_signal_emit_by_name(scroll, "scroll", 0.0, 1.0, &handled);
	g_assert_true(handled);
	node_center(fx, "a", &x1, &y1);
	g_assert_cmpfloat(x1, ==, x0);
	g_assert_cmpfloat(y1, <, y0);

	/* with Space held, a drag on a card pans instead of moving it */
	g_signal_emit_by_name(keys, "key-pressed", GDK_KEY_space, 0, 0, &handled);
	g_assert_true(handled);
	aiq_designer_canvas_pointer_begin(fx->canvas, x1, y1, 0);
	aiq_designer_canvas_pointer_update(fx->canvas, 15, 25);
	aiq_designer_canvas_pointer_end(fx->canvas, 30, 50);
	g_signal_emit_by_name(keys, "key-released", GDK_KEY_space, 0, 0);
	node_center(fx, "a", &x0, &y0);
	g_assert_cmpfloat(fabs(x0 - x1 - 30), <, 0.01);
	g_assert_cmpfloat(fabs(y0 - y1 - 50), <, 0.01);
	g_assert_cmpuint(aiq_designer_document_get_serial(fx->doc), ==, serial);

	/* a step kind dropped from the palette */
	g_value_init(&value, G_TYPE_STRING);
	g_value_set_string(&value, "transform");
	handled = FALSE;
	g_signal_emit_by_name(drop, "drop", &value, 800.0, 600.0, &handled);
	g_assert_true(handled);
	g_assert_cmpuint(aiq_designer_document_get_n_steps(fx->doc), ==, 4);
	g_assert_cmpint(aiq_designer_canvas_hit_test(fx->canvas, 800, 600, &hit, NULL),
			==,
			AIQ_DESIGNER_CANVAS_HIT_NODE);
	g_assert_cmpstr(hit, ==, "transform_1");
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "transform_1");
	/* not a step kind: refused */
	g_value_set_string(&value, "no-such-kind");
	g_signal_emit_by_name(drop, "drop", &value, 100.0, 600.0, &handled);
	g_assert_false(handled);
	g_assert_cmpuint(aiq_designer_document_get_n_steps(fx->doc), ==, 4);
}

static gboolean
all_nodes_visible(Fixture *fx)
{
	gdouble w = gtk_widget_get_width(GTK_WIDGET(fx->canvas));
	gdouble h = gtk_widget_get_height(GTK_WIDGET(fx->canvas));
	guint n = aiq_designer_document_get_n_steps(fx->doc);
	for (guint i = 0; i < n; i++) {
		JsonObject *step = aiq_designer_document_get_step(fx->doc, i);
		graphene_rect_t bounds;
		g_assert_true(aiq_designer_canvas_get_node_bounds(
			fx->canvas,
			json_object_get_string_member(step, "id"),
			&bounds));
		if (bounds.origin.x < 0 || bounds.origin.y < 0 ||
		    bounds.origin.x + bounds.size.width > w ||
		    bounds.origin.y + bounds.size.height > h)
			return FALSE;
	}
	return TRUE;
}

static void
test_canvas_zoom(Fixture *fx, gconstpointer data)
{
	GtkWidget *widget = GTK_WIDGET(fx->canvas);
	gdouble x0, y0, x1, y1;

	/* set_document fitted it: three cards fit at zoom 1 */
	g_assert_cmpfloat(aiq_designer_canvas_get_zoom(fx->canvas), ==, 1.0);
	g_assert_true(all_nodes_visible(fx));

	aiq_designer_canvas_set_zoom(fx->canvas, 10);
	g_assert_cmpfloat(aiq_designer_canvas_get_zoom(fx->canvas), ==, 3.0);
	aiq_designer_canvas_set_zoom(fx->canvas, 0.01);
	g_assert_cmpfloat(aiq_designer_canvas_get_zoom(fx->canvas), ==, 0.2);
	g_assert_true(gtk_widget_activate_action(widget, "canvas.zoom-reset", NULL));
	g_assert_cmpfloat(aiq_designer_canvas_get_zoom(fx->canvas), ==, 1.0);
	g_assert_true(gtk_widget_activate_action(widget, "canvas.zoom-in", NULL));
	g_assert_cmpfloat(aiq_designer_canvas_get_zoom(fx->canvas), >, 1.0);
	g_assert_true(gtk_widget_activate_action(widget, "canvas.zoom-out", NULL));
	g_assert_true(gtk_widget_activate_action(widget, "canvas.zoom-out", NULL));
	g_assert_cmpfloat(aiq_designer_canvas_get_zoom(fx->canvas), <, 1.0);

	/* panning moves the cards by as many pixels */
	node_center(fx, "a", &x0, &y0);
	aiq_designer_canvas_pan_by(fx->canvas, 30, -10);
	node_center(fx, "a", &x1, &y1);
	g_assert_cmpfloat(fabs(x1 - x0 - 30), <, 0.01);
	g_assert_cmpfloat(fabs(y1 - y0 + 10), <, 0.01);

	/* far away, then zoom to fit: everything is back */
	aiq_designer_canvas_pan_by(fx->canvas, 5000, 4000);
	g_assert_false(all_nodes_visible(fx));
	g_assert_true(gtk_widget_activate_action(widget, "canvas.zoom-fit", NULL));
	g_assert_true(all_nodes_visible(fx));

	/* the property */
	g_object_set(fx->canvas, "zoom", 2.0, NULL);
	g_assert_cmpfloat(aiq_designer_canvas_get_zoom(fx->canvas), ==, 2.0);
	aiq_designer_canvas_zoom_to_fit(fx->canvas);
	g_assert_true(all_nodes_visible(fx));
}

static void
test_canvas_add_step(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *id1 = NULL, *id2 = NULL, *id3 = NULL;
	g_autofree gchar *sel = NULL;
	graphene_rect_t b1, b2;
	gdouble w = gtk_widget_get_width(GTK_WIDGET(fx->canvas));
	gdouble h = gtk_widget_get_height(GTK_WIDGET(fx->canvas));
	g_autofree gchar *hit = NULL;

	id1 = aiq_designer_canvas_add_step(fx->canvas, "transform");
	g_assert_cmpstr(id1, ==, "transform_1");
	g_assert_cmpuint(aiq_designer_document_get_n_steps(fx->doc), ==, 4);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "transform_1");
	g_assert_true(aiq_designer_document_get_position(fx->doc, id1, NULL, NULL));
	g_assert_true(aiq_designer_canvas_get_node_bounds(fx->canvas, id1, &b1));
	g_assert_true(graphene_rect_contains_rect(&GRAPHENE_RECT_INIT(0, 0, w, h), &b1));

	/* again: not on top of the first */
	id2 = aiq_designer_canvas_add_step(fx->canvas, "transform");
	g_assert_true(aiq_designer_canvas_get_node_bounds(fx->canvas, id2, &b2));
	g_assert_false(graphene_rect_intersection(&b1, &b2, NULL));
	g_assert_cmpuint(fx->selection_changes, ==, 2);

	/* a drop: where the pointer is */
	id3 = aiq_designer_canvas_add_step_at(fx->canvas, "http", 100, 600);
	g_assert_cmpint(aiq_designer_canvas_hit_test(fx->canvas, 100, 600, &hit, NULL),
			==,
			AIQ_DESIGNER_CANVAS_HIT_NODE);
	g_assert_cmpstr(hit, ==, id3);

	g_assert_true(aiq_designer_document_undo(fx->doc));
	g_assert_true(aiq_designer_document_undo(fx->doc));
	g_assert_true(aiq_designer_document_undo(fx->doc));
	g_assert_cmpuint(aiq_designer_document_get_n_steps(fx->doc), ==, 3);
	g_free(sel);
	sel = selection_to_string(fx->canvas);
	g_assert_cmpstr(sel, ==, "");
}

static void
test_canvas_render(Fixture *fx, gconstpointer data)
{
	const gchar *c[] = { "c", NULL };
	g_autoptr(GHashTable) states = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GdkTexture) texture = NULL;
	graphene_rect_t ba, bb;
	guint32 card, background, dot_a, dot_b;

	g_hash_table_insert(states, "a", "succeeded");
	g_hash_table_insert(states, "b", "failed");
	g_hash_table_insert(states, "c", "running");
	aiq_designer_canvas_set_step_states(fx->canvas, states);
	aiq_designer_canvas_select(fx->canvas, c);
	g_assert_true(g_str_has_suffix(aiq_designer_canvas_get_description(fx->canvas),
				       "Running; needs: a"));
	ITERATE_UNTIL(gtk_widget_get_mapped(GTK_WIDGET(fx->canvas)));

	g_assert_true(aiq_designer_canvas_get_node_bounds(fx->canvas, "a", &ba));
	g_assert_true(aiq_designer_canvas_get_node_bounds(fx->canvas, "b", &bb));
	texture = render_widget(fx->canvas);
	/* the card's lower right, clear of text and border */
	card = texture_pixel(texture,
			     (gint)(ba.origin.x + ba.size.width - 20),
			     (gint)(ba.origin.y + ba.size.height - 10));
	/* below the cards, off the grid lines */
	background = texture_pixel(texture, 7, gtk_widget_get_height(GTK_WIDGET(fx->canvas)) - 7);
	g_test_message("card %08x, background %08x", card, background);
	g_assert_cmpuint(card, !=, background);
	/* the state dots: a is green, b is red */
	dot_a = texture_pixel(texture,
			      (gint)(ba.origin.x + ba.size.width - 16),
			      (gint)(ba.origin.y + 16));
	dot_b = texture_pixel(texture,
			      (gint)(bb.origin.x + bb.size.width - 16),
			      (gint)(bb.origin.y + 16));
	g_test_message("dot a %08x, dot b %08x", dot_a, dot_b);
	g_assert_cmpuint((dot_a >> 8) & 0xff, >, (dot_a >> 16) & 0xff);
	g_assert_cmpuint((dot_b >> 16) & 0xff, >, (dot_b >> 8) & 0xff);
	save_screenshot(fx->canvas, "canvas.png");

	/* dark */
	adw_style_manager_set_color_scheme(adw_style_manager_get_default(),
					   ADW_COLOR_SCHEME_FORCE_DARK);
	{
		g_autoptr(GdkTexture) dark = render_widget(fx->canvas);
		guint32 bg =
			texture_pixel(dark, 7, gtk_widget_get_height(GTK_WIDGET(fx->canvas)) - 7);
		g_assert_cmpuint(bg, !=, background);
		save_screenshot(fx->canvas, "canvas-dark.png");
	}
	adw_style_manager_set_color_scheme(adw_style_manager_get_default(),
					   ADW_COLOR_SCHEME_DEFAULT);
	aiq_designer_canvas_set_step_states(fx->canvas, NULL);
}

typedef struct {
	Fixture *fx;
	guint frames;
	gint64 first_frame;
	gint64 last_frame;
} FrameCount;

static gboolean
pan_tick_cb(GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
	FrameCount *fc = user_data;
	gint64 now = gdk_frame_clock_get_frame_time(clock);
	if (fc->frames == 0)
		fc->first_frame = now;
	fc->last_frame = now;
	fc->frames++;
	aiq_designer_canvas_pan_by(AIQ_DESIGNER_CANVAS(widget), fc->frames % 2 ? 3 : -3, 1);
	return G_SOURCE_CONTINUE;
}

static void
measure_frames(Fixture *fx, const gchar *what)
{
	FrameCount fc = { fx, 0, 0, 0 };
	guint count0, count1;
	gint64 us0, us1;
	guint tick;

	aiq_designer_canvas_get_snapshot_stats(fx->canvas, &count0, &us0);
	tick = gtk_widget_add_tick_callback(GTK_WIDGET(fx->canvas), pan_tick_cb, &fc, NULL);
	ITERATE_UNTIL(fc.frames >= 60);
	gtk_widget_remove_tick_callback(GTK_WIDGET(fx->canvas), tick);
	aiq_designer_canvas_get_snapshot_stats(fx->canvas, &count1, &us1);
	g_assert_cmpuint(count1, >, count0);
	g_test_message(
		"500 steps, %s (%s): %u snapshots, %.2f ms average; %u frames, %.2f ms apart",
		what,
		G_OBJECT_TYPE_NAME(
			gtk_native_get_renderer(gtk_widget_get_native(GTK_WIDGET(fx->canvas)))),
		count1 - count0,
		(us1 - us0) / 1000.0 / (count1 - count0),
		fc.frames,
		(fc.last_frame - fc.first_frame) / 1000.0 / MAX(fc.frames - 1, 1));
}

static void
test_canvas_large(Fixture *fx, gconstpointer data)
{
	g_autoptr(GString) yaml = g_string_new("name: big\nsteps:\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	const gchar *first[] = { "s0", NULL };

	/* 20 columns of 25: each step waits for the one to its left */
	for (guint i = 0; i < 500; i++) {
		g_string_append_printf(yaml, "  - { id: s%u, uses: transform", i);
		if (i >= 25)
			g_string_append_printf(yaml, ", needs: [s%u]", i - 25);
		else
			g_string_append(yaml, ", needs: []");
		g_string_append(yaml, ", with: { value: x } }\n");
	}
	g_assert_true(aiq_designer_document_load_data(fx->doc, yaml->str, -1, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(aiq_designer_document_get_n_steps(fx->doc), ==, 500);
	g_assert_true(aiq_designer_document_get_position(fx->doc, "s499", NULL, NULL));
	for (guint i = 0; i < 500; i += 3)
		g_hash_table_insert(states,
				    g_strdup_printf("s%u", i),
				    (gpointer)(i % 2 ? "succeeded" : "failed"));
	aiq_designer_canvas_set_step_states(fx->canvas, states);

	/* the whole graph: cards only */
	aiq_designer_canvas_zoom_to_fit(fx->canvas);
	g_assert_cmpfloat(aiq_designer_canvas_get_zoom(fx->canvas), ==, 0.2);
	measure_frames(fx, "zoom 0.2");
	save_screenshot(fx->canvas, "canvas-500-overview.png");

	/* zoomed in enough for text and icons, many cards on screen */
	aiq_designer_canvas_select(fx->canvas, first);
	aiq_designer_canvas_set_zoom(fx->canvas, 0.5);
	measure_frames(fx, "zoom 0.5");
	aiq_designer_canvas_set_zoom(fx->canvas, 1.0);
	measure_frames(fx, "zoom 1");
	save_screenshot(fx->canvas, "canvas-500.png");
}

int
main(int argc, char **argv)
{
	gtk_test_init(&argc, &argv, NULL);
	adw_init();

	g_test_add("/aiq/designer/canvas/selection",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_selection,
		   fixture_teardown);
	g_test_add("/aiq/designer/canvas/hit-test",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_hit_test,
		   fixture_teardown);
	g_test_add("/aiq/designer/canvas/connect",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_connect,
		   fixture_teardown);
	g_test_add("/aiq/designer/canvas/move",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_move,
		   fixture_teardown);
	g_test_add("/aiq/designer/canvas/delete",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_delete,
		   fixture_teardown);
	g_test_add("/aiq/designer/canvas/keyboard",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_keyboard,
		   fixture_teardown);
	g_test_add("/aiq/designer/canvas/controllers",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_controllers,
		   fixture_teardown);
	g_test_add("/aiq/designer/canvas/zoom",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_zoom,
		   fixture_teardown);
	g_test_add("/aiq/designer/canvas/add-step",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_add_step,
		   fixture_teardown);
	g_test_add("/aiq/designer/canvas/render",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_render,
		   fixture_teardown);
	g_test_add("/aiq/designer/canvas/large",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_canvas_large,
		   fixture_teardown);
	return g_test_run();
}
