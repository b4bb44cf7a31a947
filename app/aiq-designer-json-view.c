/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * A JSON value as a tree: a GtkTreeListModel over rows of members and
 * elements, each container expanded only when asked (and large arrays in
 * ranges), with a button to copy the whole value as JSON.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-json-item.h"
#include "aiq-designer-json-view.h"

struct _AiqDesignerJsonView {
	GtkWidget parent_instance;
	GtkWidget *box;
	GtkListView *list_view;
	GtkScrolledWindow *scrolled;
	JsonNode *node;
	GtkTreeListModel *tree;
};

G_DEFINE_TYPE(AiqDesignerJsonView, aiq_designer_json_view, GTK_TYPE_WIDGET)

static GListModel *
aiq_designer_json_view_create_model_cb(gpointer item, gpointer user_data)
{
	return aiq_designer_json_item_dup_children(AIQ_DESIGNER_JSON_ITEM(item));
}

void
aiq_designer_json_view_set_node(AiqDesignerJsonView *self, JsonNode *node)
{
	g_autoptr(GListStore) root = g_list_store_new(AIQ_DESIGNER_TYPE_JSON_ITEM);
	g_autoptr(GtkNoSelection) selection = NULL;
	GListModel *children;

	g_return_if_fail(AIQ_DESIGNER_IS_JSON_VIEW(self));

	g_clear_pointer(&self->node, json_node_unref);
	self->node = node != NULL ? json_node_copy(node) : json_node_new(JSON_NODE_NULL);
	/* the top level is open: its members are the first rows */
	children = aiq_designer_json_item_dup_children_of(self->node, 0, G_MAXUINT);
	if (children == NULL) {
		g_autoptr(AiqDesignerJsonItem) item =
			aiq_designer_json_item_new(_("value"), self->node);
		g_list_store_append(root, item);
		children = G_LIST_MODEL(g_steal_pointer(&root));
	}
	g_clear_object(&self->tree);
	self->tree = gtk_tree_list_model_new(children,
					     FALSE,
					     FALSE,
					     aiq_designer_json_view_create_model_cb,
					     NULL,
					     NULL);
	selection = gtk_no_selection_new(G_LIST_MODEL(g_object_ref(self->tree)));
	gtk_list_view_set_model(self->list_view, GTK_SELECTION_MODEL(selection));
}

/**
 * aiq_designer_json_view_get_node:
 *
 * Returns: (transfer none): the value shown
 */
JsonNode *
aiq_designer_json_view_get_node(AiqDesignerJsonView *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_JSON_VIEW(self), NULL);
	return self->node;
}

/**
 * aiq_designer_json_view_get_model:
 *
 * Returns: (transfer none): the rows shown (GtkTreeListRow items)
 */
GListModel *
aiq_designer_json_view_get_model(AiqDesignerJsonView *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_JSON_VIEW(self), NULL);
	return G_LIST_MODEL(self->tree);
}

static void
aiq_designer_json_view_copy_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	AiqDesignerJsonView *self = AIQ_DESIGNER_JSON_VIEW(widget);
	g_autofree gchar *text = NULL;
	if (self->node == NULL)
		return;
	text = json_to_string(self->node, TRUE);
	gdk_clipboard_set_text(gtk_widget_get_clipboard(widget), text);
}

static void
aiq_designer_json_view_setup_cb(GtkSignalListItemFactory *factory, GtkListItem *list_item)
{
	GtkWidget *expander = gtk_tree_expander_new();
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	GtkWidget *key = gtk_label_new(NULL);
	GtkWidget *value = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(key), 0);
	gtk_label_set_selectable(GTK_LABEL(value), TRUE);
	gtk_label_set_xalign(GTK_LABEL(value), 0);
	gtk_label_set_ellipsize(GTK_LABEL(value), PANGO_ELLIPSIZE_END);
	gtk_widget_set_hexpand(value, TRUE);
	gtk_widget_add_css_class(key, "heading");
	gtk_widget_add_css_class(value, "monospace");
	gtk_box_append(GTK_BOX(box), key);
	gtk_box_append(GTK_BOX(box), value);
	gtk_tree_expander_set_child(GTK_TREE_EXPANDER(expander), box);
	gtk_list_item_set_child(list_item, expander);
	gtk_list_item_set_activatable(list_item, FALSE);
}

static void
aiq_designer_json_view_bind_cb(GtkSignalListItemFactory *factory, GtkListItem *list_item)
{
	GtkWidget *expander = gtk_list_item_get_child(list_item);
	GtkTreeListRow *row = GTK_TREE_LIST_ROW(gtk_list_item_get_item(list_item));
	AiqDesignerJsonItem *item = AIQ_DESIGNER_JSON_ITEM(gtk_tree_list_row_get_item(row));
	GtkWidget *box = gtk_tree_expander_get_child(GTK_TREE_EXPANDER(expander));
	GtkWidget *key = gtk_widget_get_first_child(box);
	GtkWidget *value = gtk_widget_get_next_sibling(key);
	g_autofree gchar *summary = aiq_designer_json_item_dup_summary(item);

	gtk_tree_expander_set_list_row(GTK_TREE_EXPANDER(expander), row);
	gtk_label_set_text(GTK_LABEL(key), aiq_designer_json_item_get_key(item));
	gtk_label_set_text(GTK_LABEL(value), summary);
	g_object_unref(item);
}

static void
aiq_designer_json_view_unbind_cb(GtkSignalListItemFactory *factory, GtkListItem *list_item)
{
	GtkWidget *expander = gtk_list_item_get_child(list_item);
	gtk_tree_expander_set_list_row(GTK_TREE_EXPANDER(expander), NULL);
}

static void
aiq_designer_json_view_dispose(GObject *object)
{
	AiqDesignerJsonView *self = AIQ_DESIGNER_JSON_VIEW(object);
	gtk_widget_dispose_template(GTK_WIDGET(self), AIQ_DESIGNER_TYPE_JSON_VIEW);
	g_clear_object(&self->tree);
	G_OBJECT_CLASS(aiq_designer_json_view_parent_class)->dispose(object);
}

static void
aiq_designer_json_view_finalize(GObject *object)
{
	AiqDesignerJsonView *self = AIQ_DESIGNER_JSON_VIEW(object);
	g_clear_pointer(&self->node, json_node_unref);
	G_OBJECT_CLASS(aiq_designer_json_view_parent_class)->finalize(object);
}

static void
aiq_designer_json_view_class_init(AiqDesignerJsonViewClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	object_class->dispose = aiq_designer_json_view_dispose;
	object_class->finalize = aiq_designer_json_view_finalize;
	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-json-view.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerJsonView, box);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerJsonView, list_view);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerJsonView, scrolled);
	gtk_widget_class_install_action(widget_class,
					"json.copy",
					NULL,
					aiq_designer_json_view_copy_action);
	gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
aiq_designer_json_view_init(AiqDesignerJsonView *self)
{
	g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new();
	gtk_widget_init_template(GTK_WIDGET(self));
	g_signal_connect(factory, "setup", G_CALLBACK(aiq_designer_json_view_setup_cb), NULL);
	g_signal_connect(factory, "bind", G_CALLBACK(aiq_designer_json_view_bind_cb), NULL);
	g_signal_connect(factory, "unbind", G_CALLBACK(aiq_designer_json_view_unbind_cb), NULL);
	gtk_list_view_set_factory(self->list_view, factory);
	aiq_designer_json_view_set_node(self, NULL);
}

GtkWidget *
aiq_designer_json_view_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_JSON_VIEW, NULL);
}
