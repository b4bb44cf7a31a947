/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-problems-list.h"

struct _AiqDesignerProblemsList {
	AdwBin parent_instance;
	GtkStack *stack;
	GtkListBox *list;
	guint n_problems;
};

G_DEFINE_TYPE(AiqDesignerProblemsList, aiq_designer_problems_list, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_N_PROBLEMS,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

enum {
	SIGNAL_PROBLEM_ACTIVATED,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

static GtkWidget *
aiq_designer_problems_list_create_row(const AiqProblem *problem)
{
	GtkWidget *row = gtk_list_box_row_new();
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	GtkWidget *image = gtk_image_new_from_icon_name("dialog-warning-symbolic");
	GtkWidget *path = gtk_label_new(
		problem->path != NULL && problem->path[0] != '\0' ? problem->path : _("Workflow"));
	GtkWidget *message = gtk_label_new(problem->message);

	g_object_set_data_full(G_OBJECT(row), "path", g_strdup(problem->path), g_free);
	gtk_widget_add_css_class(image, "warning");
	gtk_widget_add_css_class(path, "monospace");
	gtk_widget_add_css_class(path, "dim-label");
	gtk_label_set_xalign(GTK_LABEL(path), 0.0);
	gtk_label_set_xalign(GTK_LABEL(message), 0.0);
	gtk_label_set_wrap(GTK_LABEL(message), TRUE);
	gtk_widget_set_hexpand(message, TRUE);
	gtk_widget_set_margin_top(box, 6);
	gtk_widget_set_margin_bottom(box, 6);
	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_box_append(GTK_BOX(box), image);
	gtk_box_append(GTK_BOX(box), path);
	gtk_box_append(GTK_BOX(box), message);
	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
	return row;
}

/**
 * aiq_designer_problems_list_set_problems:
 * @problems: (nullable): %NULL for none
 */
void
aiq_designer_problems_list_set_problems(AiqDesignerProblemsList *self, AiqProblems *problems)
{
	GtkWidget *child;
	guint n = problems != NULL ? aiq_problems_get_size(problems) : 0;

	g_return_if_fail(AIQ_DESIGNER_IS_PROBLEMS_LIST(self));

	while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->list))) != NULL)
		gtk_list_box_remove(self->list, child);
	for (guint i = 0; i < n; i++)
		gtk_list_box_append(
			self->list,
			aiq_designer_problems_list_create_row(aiq_problems_index(problems, i)));
	gtk_stack_set_visible_child_name(self->stack, n > 0 ? "list" : "empty");
	if (self->n_problems != n) {
		self->n_problems = n;
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_N_PROBLEMS]);
	}
}

guint
aiq_designer_problems_list_get_n_problems(AiqDesignerProblemsList *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_PROBLEMS_LIST(self), 0);
	return self->n_problems;
}

/**
 * aiq_designer_problems_list_get_row:
 *
 * Returns: (transfer none) (nullable): the row of the problem @idx
 */
GtkListBoxRow *
aiq_designer_problems_list_get_row(AiqDesignerProblemsList *self, guint idx)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_PROBLEMS_LIST(self), NULL);
	return gtk_list_box_get_row_at_index(self->list, (gint)idx);
}

static void
aiq_designer_problems_list_row_activated_cb(GtkListBox *list,
					    GtkListBoxRow *row,
					    gpointer user_data)
{
	AiqDesignerProblemsList *self = AIQ_DESIGNER_PROBLEMS_LIST(user_data);
	const gchar *path = g_object_get_data(G_OBJECT(row), "path");
	g_signal_emit(self, signals[SIGNAL_PROBLEM_ACTIVATED], 0, path != NULL ? path : "");
}

static void
aiq_designer_problems_list_get_property(GObject *object,
					guint prop_id,
					GValue *value,
					GParamSpec *pspec)
{
	AiqDesignerProblemsList *self = AIQ_DESIGNER_PROBLEMS_LIST(object);
	switch (prop_id) {
	case PROP_N_PROBLEMS:
		g_value_set_uint(value, self->n_problems);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_problems_list_class_init(AiqDesignerProblemsListClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = aiq_designer_problems_list_get_property;

	props[PROP_N_PROBLEMS] = g_param_spec_uint("n-problems",
						   NULL,
						   NULL,
						   0,
						   G_MAXUINT,
						   0,
						   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	/**
	 * AiqDesignerProblemsList::problem-activated:
	 * @path: where the problem is, empty for the whole workflow
	 */
	signals[SIGNAL_PROBLEM_ACTIVATED] = g_signal_new("problem-activated",
							 G_TYPE_FROM_CLASS(klass),
							 G_SIGNAL_RUN_LAST,
							 0,
							 NULL,
							 NULL,
							 NULL,
							 G_TYPE_NONE,
							 1,
							 G_TYPE_STRING);
}

static void
aiq_designer_problems_list_init(AiqDesignerProblemsList *self)
{
	GtkWidget *scrolled = gtk_scrolled_window_new();
	GtkWidget *empty = gtk_label_new(_("No problems"));

	self->stack = GTK_STACK(gtk_stack_new());
	self->list = GTK_LIST_BOX(gtk_list_box_new());
	gtk_list_box_set_selection_mode(self->list, GTK_SELECTION_NONE);
	gtk_list_box_set_activate_on_single_click(self->list, TRUE);
	g_signal_connect(self->list,
			 "row-activated",
			 G_CALLBACK(aiq_designer_problems_list_row_activated_cb),
			 self);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scrolled),
				       GTK_POLICY_NEVER,
				       GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), GTK_WIDGET(self->list));
	gtk_widget_add_css_class(empty, "dim-label");
	gtk_stack_add_named(self->stack, empty, "empty");
	gtk_stack_add_named(self->stack, scrolled, "list");
	gtk_stack_set_visible_child_name(self->stack, "empty");
	gtk_widget_set_size_request(GTK_WIDGET(self->stack), -1, 140);
	adw_bin_set_child(ADW_BIN(self), GTK_WIDGET(self->stack));
}

GtkWidget *
aiq_designer_problems_list_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_PROBLEMS_LIST, NULL);
}
