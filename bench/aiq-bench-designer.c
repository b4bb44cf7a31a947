/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The designer's figures, run through bench/designer (under Xvfb):
 *
 *   aiq-bench-designer start BINARY   cold start to the first frame
 *   aiq-bench-designer canvas         frame times while panning 500 steps
 *   aiq-bench-designer list URL CA    frame times while scrolling the
 *                                     executions list over 100,000 rows
 *
 * A frame's time is the work the frame clock's cycle did in the process —
 * from its "update" phase to the end of "after-paint": event handling,
 * layout, snapshot and rendering — measured with the GdkFrameClock signals.
 */

#define G_LOG_DOMAIN "AiqBench"

#include "config.h"

#include <adwaita.h>
#include <stdlib.h>

#include "aiq-designer-canvas.h"
#include "aiq-designer-document.h"
#include "aiq-designer-execution-item.h"
#include "aiq-designer-execution-list-model.h"
#include "aiq-designer-session.h"

typedef struct {
	GArray *frames; /* gdouble ms */
	gint64 frame_start;
	guint frames_wanted;
	gboolean done;
	void (*step)(gpointer data);
	gpointer data;
} BenchFrames;

static void
bench_frames_update_cb(GdkFrameClock *clock, BenchFrames *bf)
{
	bf->frame_start = g_get_monotonic_time();
	if (bf->step != NULL)
		bf->step(bf->data);
}

static void
bench_frames_after_paint_cb(GdkFrameClock *clock, BenchFrames *bf)
{
	gdouble ms;
	if (bf->frame_start == 0)
		return;
	ms = (g_get_monotonic_time() - bf->frame_start) / 1000.0;
	bf->frame_start = 0;
	g_array_append_val(bf->frames, ms);
	if (bf->frames->len >= bf->frames_wanted)
		bf->done = TRUE;
}

static gint
bench_cmp_double(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a, y = *(const gdouble *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

static void
bench_print_frames(const gchar *what, GArray *frames)
{
	gdouble sum = 0;
	guint over = 0;
	g_array_sort(frames, bench_cmp_double);
	for (guint i = 0; i < frames->len; i++) {
		gdouble ms = g_array_index(frames, gdouble, i);
		sum += ms;
		if (ms > 16.0)
			over++;
	}
	g_print("%s: %u frames, mean %.2f ms, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms, "
		"%u over 16 ms (target: none over 16 ms)\n",
		what,
		frames->len,
		sum / MAX(frames->len, 1),
		g_array_index(frames, gdouble, frames->len / 2),
		g_array_index(frames, gdouble, frames->len * 95 / 100),
		g_array_index(frames, gdouble, frames->len * 99 / 100),
		g_array_index(frames, gdouble, frames->len - 1),
		over);
}

/* drives @widget's frame clock for @n frames, calling @step before each */
static GArray *
bench_run_frames(GtkWidget *widget, guint n, void (*step)(gpointer), gpointer data)
{
	BenchFrames bf = { 0 };
	GdkFrameClock *clock = gtk_widget_get_frame_clock(widget);
	gulong update_id, paint_id;

	bf.frames = g_array_new(FALSE, FALSE, sizeof(gdouble));
	bf.frames_wanted = n;
	bf.step = step;
	bf.data = data;
	update_id = g_signal_connect(clock, "update", G_CALLBACK(bench_frames_update_cb), &bf);
	paint_id = g_signal_connect(clock,
				    "after-paint",
				    G_CALLBACK(bench_frames_after_paint_cb),
				    &bf);
	while (!bf.done) {
		/* keep the clock ticking: every frame is a new one */
		gdk_frame_clock_request_phase(clock, GDK_FRAME_CLOCK_PHASE_UPDATE);
		g_main_context_iteration(NULL, TRUE);
	}
	g_signal_handler_disconnect(clock, update_id);
	g_signal_handler_disconnect(clock, paint_id);
	return bf.frames;
}

static void
bench_iterate(guint ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	while (g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, FALSE);
}

/* start */

static gint
bench_start(const gchar *binary)
{
	g_autoptr(GArray) first = g_array_new(FALSE, FALSE, sizeof(gdouble));
	g_autoptr(GArray) wall = g_array_new(FALSE, FALSE, sizeof(gdouble));
	const guint runs = 7;

	for (guint i = 0; i < runs; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *out = NULL;
		const gchar *argv[] = { binary, NULL };
		g_auto(GStrv) envp = g_get_environ();
		gint64 t0 = g_get_monotonic_time();
		gdouble ms = 0, total;
		const gchar *line;
		gint status = 0;

		envp = g_environ_setenv(envp, "AIQ_DESIGNER_REPORT_FIRST_FRAME", "1", TRUE);
		envp = g_environ_setenv(envp, "AIQ_DESIGNER_EXIT_AFTER_FIRST_FRAME", "1", TRUE);
		envp = g_environ_setenv(envp, "GSETTINGS_BACKEND", "memory", TRUE);
		if (!g_spawn_sync(NULL,
				  (gchar **)argv,
				  envp,
				  G_SPAWN_STDERR_TO_DEV_NULL,
				  NULL,
				  NULL,
				  &out,
				  NULL,
				  &status,
				  &error)) {
			g_printerr("%s: %s\n", binary, error->message);
			return 1;
		}
		total = (g_get_monotonic_time() - t0) / 1000.0;
		line = out != NULL ? strstr(out, "first-frame-ms: ") : NULL;
		if (line == NULL) {
			g_printerr("the designer printed no first frame: %s\n", out);
			return 1;
		}
		ms = g_ascii_strtod(line + strlen("first-frame-ms: "), NULL);
		/* the first run fills the page cache: not a cold start of the app */
		if (i == 0)
			continue;
		g_array_append_val(first, ms);
		g_array_append_val(wall, total);
	}
	g_array_sort(first, bench_cmp_double);
	g_array_sort(wall, bench_cmp_double);
	g_print("start: main() to first frame: median %.1f ms, max %.1f ms over %u runs "
		"(target <= 500 ms); exec to exit after the first frame: median %.1f ms\n",
		g_array_index(first, gdouble, first->len / 2),
		g_array_index(first, gdouble, first->len - 1),
		first->len,
		g_array_index(wall, gdouble, wall->len / 2));
	return 0;
}

/* canvas */

static void
bench_canvas_pan(gpointer data)
{
	static guint n = 0;
	/* back and forth across the graph, never still */
	gdouble dx = (n++ / 150) % 2 == 0 ? -12 : 12;
	aiq_designer_canvas_pan_by(AIQ_DESIGNER_CANVAS(data), dx, dx / 3);
}

static AiqDesignerDocument *
bench_make_document(guint n_steps)
{
	g_autoptr(GString) yaml = g_string_new("name: bench-500\nsteps:\n");
	g_autoptr(GError) error = NULL;
	AiqDesignerDocument *doc = aiq_designer_document_new();
	/* 25 chains of 20, each joining two earlier chains now and then */
	for (guint i = 0; i < n_steps; i++) {
		g_string_append_printf(yaml,
				       "  - id: s%u\n    uses: %s\n    with: { value: %u }\n",
				       i,
				       i % 3 == 0   ? "transform"
				       : i % 3 == 1 ? "http"
						    : "shell",
				       i);
		if (i % 20 == 0)
			g_string_append(yaml, "    needs: []\n");
		else if (i % 7 == 0 && i >= 40)
			g_string_append_printf(yaml, "    needs: [s%u, s%u]\n", i - 1, i - 21);
	}
	if (!aiq_designer_document_load_data(doc, yaml->str, -1, &error))
		g_error("%s", error->message);
	aiq_designer_document_auto_layout(doc, TRUE);
	return doc;
}

static gint
bench_canvas(void)
{
	g_autoptr(AiqDesignerDocument) doc = bench_make_document(500);
	g_autoptr(GHashTable) states = g_hash_table_new(g_str_hash, g_str_equal);
	GtkWidget *window = gtk_window_new();
	GtkWidget *canvas = aiq_designer_canvas_new();
	g_autoptr(GArray) frames = NULL;
	const gchar *status[] = { "succeeded", "failed", "running", "skipped" };

	for (guint i = 0; i < 500; i++)
		g_hash_table_insert(states, g_strdup_printf("s%u", i), (gpointer)status[i % 4]);
	gtk_window_set_default_size(GTK_WINDOW(window), 1280, 800);
	gtk_window_set_child(GTK_WINDOW(window), canvas);
	aiq_designer_canvas_set_document(AIQ_DESIGNER_CANVAS(canvas), doc);
	aiq_designer_canvas_set_step_states(AIQ_DESIGNER_CANVAS(canvas), states);
	gtk_window_present(GTK_WINDOW(window));
	while (!gtk_widget_get_mapped(canvas))
		g_main_context_iteration(NULL, TRUE);
	bench_iterate(500);

	aiq_designer_canvas_set_zoom(AIQ_DESIGNER_CANVAS(canvas), 1.0);
	frames = bench_run_frames(canvas, 600, bench_canvas_pan, canvas);
	bench_print_frames("canvas: panning 500 steps at 100 %", frames);
	g_clear_pointer(&frames, g_array_unref);

	/* zoomed out: every node and edge on screen at once */
	aiq_designer_canvas_zoom_to_fit(AIQ_DESIGNER_CANVAS(canvas));
	frames = bench_run_frames(canvas, 300, bench_canvas_pan, canvas);
	bench_print_frames("canvas: panning 500 steps, all visible", frames);
	gtk_window_destroy(GTK_WINDOW(window));
	return 0;
}

/* list */

static void
bench_list_setup_cb(GtkSignalListItemFactory *factory, GtkListItem *item)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	for (guint i = 0; i < 3; i++)
		gtk_box_append(GTK_BOX(box), gtk_label_new(NULL));
	gtk_list_item_set_child(item, box);
}

static void
bench_list_bind_cb(GtkSignalListItemFactory *factory, GtkListItem *item)
{
	GObject *exec = gtk_list_item_get_item(item);
	GtkWidget *box = gtk_list_item_get_child(item);
	GtkWidget *label = gtk_widget_get_first_child(box);
	g_autofree gchar *id = NULL, *status = NULL, *workflow = NULL;
	g_object_get(exec, "id", &id, "status", &status, "workflow-name", &workflow, NULL);
	gtk_label_set_text(GTK_LABEL(label), id != NULL ? id : "…");
	label = gtk_widget_get_next_sibling(label);
	gtk_label_set_text(GTK_LABEL(label), status != NULL ? status : "");
	label = gtk_widget_get_next_sibling(label);
	gtk_label_set_text(GTK_LABEL(label), workflow != NULL ? workflow : "");
}

typedef struct {
	GtkAdjustment *adj;
	gdouble speed;
} BenchScroll;

static void
bench_list_scroll(gpointer data)
{
	BenchScroll *scroll = data;
	gdouble value = gtk_adjustment_get_value(scroll->adj) + scroll->speed;
	gdouble upper =
		gtk_adjustment_get_upper(scroll->adj) - gtk_adjustment_get_page_size(scroll->adj);
	if (value >= upper || value <= 0)
		scroll->speed = -scroll->speed;
	gtk_adjustment_set_value(scroll->adj, CLAMP(value, 0, upper));
}

static void
bench_login_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	if (!aiq_designer_session_login_finish(AIQ_DESIGNER_SESSION(source), res, &error))
		g_error("login: %s", error->message);
}

static gint
bench_list(const gchar *url, const gchar *tenant, const gchar *password)
{
	g_autoptr(AiqDesignerSession) session = aiq_designer_session_new(NULL);
	g_autoptr(AiqDesignerExecutionListModel) model = NULL;
	g_autoptr(GArray) frames = NULL;
	GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
	GtkWidget *window = gtk_window_new();
	GtkWidget *scrolled = gtk_scrolled_window_new();
	GtkWidget *view;
	BenchScroll scroll = { 0 };
	gint64 t0;

	aiq_designer_session_login_async(session,
					 url,
					 tenant,
					 "admin",
					 password,
					 NULL,
					 bench_login_cb,
					 NULL);
	while (!aiq_designer_session_get_logged_in(session))
		g_main_context_iteration(NULL, TRUE);
	model = aiq_designer_execution_list_model_new(session);
	t0 = g_get_monotonic_time();
	aiq_designer_execution_list_model_reload(model);
	while (g_list_model_get_n_items(G_LIST_MODEL(model)) == 0)
		g_main_context_iteration(NULL, TRUE);
	g_print("list: %u executions; the first page and the count in %.1f ms\n",
		g_list_model_get_n_items(G_LIST_MODEL(model)),
		(g_get_monotonic_time() - t0) / 1000.0);

	g_signal_connect(factory, "setup", G_CALLBACK(bench_list_setup_cb), NULL);
	g_signal_connect(factory, "bind", G_CALLBACK(bench_list_bind_cb), NULL);
	view = gtk_list_view_new(
		GTK_SELECTION_MODEL(gtk_no_selection_new(G_LIST_MODEL(g_object_ref(model)))),
		factory);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), view);
	gtk_window_set_child(GTK_WINDOW(window), scrolled);
	gtk_window_set_default_size(GTK_WINDOW(window), 1000, 800);
	gtk_window_present(GTK_WINDOW(window));
	while (!gtk_widget_get_mapped(view))
		g_main_context_iteration(NULL, TRUE);
	bench_iterate(500);

	scroll.adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(scrolled));
	/* a steady scroll: 40 rows a frame */
	scroll.speed = 40 * 30;
	frames = bench_run_frames(view, 600, bench_list_scroll, &scroll);
	bench_print_frames("list: scrolling 100,000 executions, ~40 rows a frame", frames);
	g_clear_pointer(&frames, g_array_unref);
	/* a fling: 1,000 rows a frame */
	scroll.speed = 1000 * 30;
	frames = bench_run_frames(view, 300, bench_list_scroll, &scroll);
	bench_print_frames("list: flinging through 100,000 executions, ~1,000 rows a frame",
			   frames);
	g_print("list: %u pages cached at the end\n",
		aiq_designer_execution_list_model_get_n_cached_pages(model));
	gtk_window_destroy(GTK_WINDOW(window));
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && g_strcmp0(argv[1], "start") == 0)
		return bench_start(argv[2]);
	gtk_init();
	adw_init();
	if (argc >= 2 && g_strcmp0(argv[1], "canvas") == 0)
		return bench_canvas();
	if (argc >= 5 && g_strcmp0(argv[1], "list") == 0)
		return bench_list(argv[2], argv[3], argv[4]);
	g_printerr("usage: aiq-bench-designer start BINARY | canvas | list URL TENANT PASSWORD\n");
	return 2;
}
