/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aiq-designer-param-row.h"
#include "aiq-json.h"
#include "aiq-template.h"
#include "aiq-util.h"

/* how long typing pauses before the value is checked and written */
#define AIQ_DESIGNER_PARAM_ROW_DEBOUNCE_MS 300

/**
 * AiqDesignerParamRow:
 *
 * One field of a form, generated from an #AiqParam: an editor that fits the
 * parameter's type (an entry, a text view, a switch, a drop-down, a list or
 * a key/value editor), the description below it, and an error shown inline.
 *
 * Edits are checked as the user types (a `${{ }}` expression is compiled,
 * JSON is parsed, numbers and durations are read) and, after a short pause,
 * given as #AiqDesignerParamRow::value-changed with a value of the right
 * JSON type, %NULL when the field is empty. Setting the value from outside
 * changes the widgets only when it differs, so the text being typed keeps its
 * cursor.
 */
struct _AiqDesignerParamRow {
	AdwPreferencesRow parent_instance;
	AiqParam param;
	gchar *widget_name;
	gchar *path;
	JsonNode *value; /* what the row shows: last set or last emitted */
	JsonNode *default_value;
	GtkWidget *title_label;
	GtkWidget *expr_toggle;
	GtkWidget *stack;
	GtkWidget *editor; /* the widget the user types in, named widget_name */
	GtkWidget *expr_entry;
	GtkWidget *list_box; /* STRING_LIST / STRING_MAP items */
	GtkWidget *error_label;
	GtkWidget *desc_label;
	GtkStringList *choices;
	guint timeout_id;
	guint block;
	gboolean apply_on_activate;
	gchar *error;   /* the live check */
	gchar *problem; /* from the document's validation */
	AiqDesignerParamRowValidateFunc validate_func;
	gpointer validate_data;
};

G_DEFINE_TYPE(AiqDesignerParamRow, aiq_designer_param_row, ADW_TYPE_PREFERENCES_ROW)

enum {
	SIGNAL_VALUE_CHANGED,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

static void
aiq_designer_param_row_schedule(AiqDesignerParamRow *self);
static void
aiq_designer_param_row_commit(AiqDesignerParamRow *self);

static gboolean
aiq_designer_param_row_has_expr_mode(AiqDesignerParamRow *self)
{
	return self->expr_toggle != NULL;
}

static gboolean
aiq_designer_param_row_in_expr_mode(AiqDesignerParamRow *self)
{
	return self->expr_toggle != NULL &&
	       gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->expr_toggle));
}

static gboolean
aiq_designer_param_row_is_json_type(AiqParamType type)
{
	return type == AIQ_PARAM_ARRAY || type == AIQ_PARAM_OBJECT || type == AIQ_PARAM_JSON;
}

static gchar *
aiq_designer_param_row_get_text_view_text(GtkWidget *view)
{
	GtkTextBuffer *buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(view));
	GtkTextIter start, end;
	gtk_text_buffer_get_bounds(buffer, &start, &end);
	return gtk_text_buffer_get_text(buffer, &start, &end, FALSE);
}

/* a value as the user edits it in one line or a text view */
static gchar *
aiq_designer_param_row_node_to_text(JsonNode *node, gboolean pretty)
{
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return g_strdup("");
	if (aiq_json_is_string(node))
		return g_strdup(json_node_get_string(node));
	return aiq_json_to_string(node, pretty);
}

static void
aiq_designer_param_row_update_error(AiqDesignerParamRow *self)
{
	const gchar *message = self->error != NULL ? self->error : self->problem;
	GtkWidget *target =
		aiq_designer_param_row_in_expr_mode(self) ? self->expr_entry : self->editor;
	gtk_label_set_text(GTK_LABEL(self->error_label), message != NULL ? message : "");
	gtk_widget_set_visible(self->error_label, message != NULL);
	if (self->editor != NULL) {
		if (message != NULL && target == self->editor)
			gtk_widget_add_css_class(self->editor, "error");
		else
			gtk_widget_remove_css_class(self->editor, "error");
	}
	if (self->expr_entry != NULL) {
		if (message != NULL && target == self->expr_entry)
			gtk_widget_add_css_class(self->expr_entry, "error");
		else
			gtk_widget_remove_css_class(self->expr_entry, "error");
	}
}

/* ------------------------------------------------------------------------
 * lists and maps
 */

static void
aiq_designer_param_row_item_changed_cb(GtkEditable *editable, AiqDesignerParamRow *self)
{
	if (self->block > 0)
		return;
	aiq_designer_param_row_schedule(self);
}

static void
aiq_designer_param_row_renumber_items(AiqDesignerParamRow *self);

static void
aiq_designer_param_row_item_remove_cb(GtkButton *button, AiqDesignerParamRow *self)
{
	GtkWidget *item = gtk_widget_get_parent(GTK_WIDGET(button));
	gtk_box_remove(GTK_BOX(self->list_box), item);
	aiq_designer_param_row_renumber_items(self);
	aiq_designer_param_row_commit(self);
}

static GtkWidget *
aiq_designer_param_row_add_item(AiqDesignerParamRow *self, const gchar *key, const gchar *value)
{
	GtkWidget *item = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *remove = gtk_button_new_from_icon_name("list-remove-symbolic");
	GtkWidget *first = NULL;

	if (self->param.type == AIQ_PARAM_STRING_MAP) {
		GtkWidget *key_entry = gtk_entry_new();
		GtkWidget *value_entry = gtk_entry_new();
		gtk_entry_set_placeholder_text(GTK_ENTRY(key_entry), _("Name"));
		gtk_entry_set_placeholder_text(GTK_ENTRY(value_entry), _("Value"));
		gtk_editable_set_text(GTK_EDITABLE(key_entry), key != NULL ? key : "");
		gtk_editable_set_text(GTK_EDITABLE(value_entry), value != NULL ? value : "");
		gtk_widget_set_hexpand(key_entry, TRUE);
		gtk_widget_set_hexpand(value_entry, TRUE);
		g_signal_connect(key_entry,
				 "changed",
				 G_CALLBACK(aiq_designer_param_row_item_changed_cb),
				 self);
		g_signal_connect(value_entry,
				 "changed",
				 G_CALLBACK(aiq_designer_param_row_item_changed_cb),
				 self);
		gtk_box_append(GTK_BOX(item), key_entry);
		gtk_box_append(GTK_BOX(item), value_entry);
		first = key_entry;
	} else {
		GtkWidget *entry = gtk_entry_new();
		gtk_editable_set_text(GTK_EDITABLE(entry), value != NULL ? value : "");
		gtk_widget_set_hexpand(entry, TRUE);
		g_signal_connect(entry,
				 "changed",
				 G_CALLBACK(aiq_designer_param_row_item_changed_cb),
				 self);
		gtk_box_append(GTK_BOX(item), entry);
		first = entry;
	}
	gtk_widget_set_tooltip_text(remove, _("Remove"));
	gtk_widget_add_css_class(remove, "flat");
	g_signal_connect(remove,
			 "clicked",
			 G_CALLBACK(aiq_designer_param_row_item_remove_cb),
			 self);
	gtk_box_append(GTK_BOX(item), remove);
	gtk_box_append(GTK_BOX(self->list_box), item);
	aiq_designer_param_row_renumber_items(self);
	return first;
}

/* names for tests and for focus: NAME-key-0, NAME-value-0, NAME-item-0 */
static void
aiq_designer_param_row_renumber_items(AiqDesignerParamRow *self)
{
	guint i = 0;
	for (GtkWidget *item = gtk_widget_get_first_child(self->list_box); item != NULL;
	     item = gtk_widget_get_next_sibling(item), i++) {
		GtkWidget *child = gtk_widget_get_first_child(item);
		g_autofree gchar *name0 = NULL;
		g_autofree gchar *name1 = NULL;
		g_autofree gchar *name2 = NULL;
		if (self->param.type == AIQ_PARAM_STRING_MAP) {
			name0 = g_strdup_printf("%s-key-%u", self->widget_name, i);
			name1 = g_strdup_printf("%s-value-%u", self->widget_name, i);
			gtk_widget_set_name(child, name0);
			child = gtk_widget_get_next_sibling(child);
			gtk_widget_set_name(child, name1);
		} else {
			name0 = g_strdup_printf("%s-item-%u", self->widget_name, i);
			gtk_widget_set_name(child, name0);
		}
		child = gtk_widget_get_next_sibling(child);
		name2 = g_strdup_printf("%s-remove-%u", self->widget_name, i);
		gtk_widget_set_name(child, name2);
	}
}

static void
aiq_designer_param_row_add_clicked_cb(GtkButton *button, AiqDesignerParamRow *self)
{
	GtkWidget *entry = aiq_designer_param_row_add_item(self, NULL, NULL);
	gtk_widget_grab_focus(entry);
	/* nothing to write until something is typed */
}

static void
aiq_designer_param_row_clear_items(AiqDesignerParamRow *self)
{
	GtkWidget *child;
	while ((child = gtk_widget_get_first_child(self->list_box)) != NULL)
		gtk_box_remove(GTK_BOX(self->list_box), child);
}

/* ------------------------------------------------------------------------
 * from widgets to a value
 */

static gboolean
aiq_designer_param_row_parse_text(AiqDesignerParamRow *self,
				  const gchar *text_raw,
				  JsonNode **node,
				  gchar **error)
{
	AiqParamType type = self->param.type;
	g_autofree gchar *text = g_strstrip(g_strdup(text_raw));

	*node = NULL;
	if (type == AIQ_PARAM_STRING || type == AIQ_PARAM_TEXT) {
		/* keep what was typed, spaces included */
		if (text_raw[0] != '\0')
			*node = aiq_json_new_string(text_raw);
		return TRUE;
	}
	if (text[0] == '\0')
		return TRUE;
	if (aiq_template_string_has_expressions(text) &&
	    (type != AIQ_PARAM_ARRAY && type != AIQ_PARAM_OBJECT && type != AIQ_PARAM_JSON)) {
		*node = aiq_json_new_string(text);
		return TRUE;
	}
	switch (type) {
	case AIQ_PARAM_INTEGER: {
		gint64 v = 0;
		if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &v, NULL)) {
			*error = g_strdup(_("Enter a whole number or a ${{ }} expression"));
			return FALSE;
		}
		*node = aiq_json_new_int(v);
		return TRUE;
	}
	case AIQ_PARAM_NUMBER: {
		gchar *end = NULL;
		gdouble v = g_ascii_strtod(text, &end);
		gint64 i = 0;
		if (end == text || *end != '\0' || !isfinite(v)) {
			*error = g_strdup(_("Enter a number or a ${{ }} expression"));
			return FALSE;
		}
		if (g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &i, NULL)) {
			*node = aiq_json_new_int(i);
		} else {
			*node = json_node_new(JSON_NODE_VALUE);
			json_node_set_double(*node, v);
		}
		return TRUE;
	}
	case AIQ_PARAM_ARRAY:
	case AIQ_PARAM_OBJECT:
	case AIQ_PARAM_JSON: {
		g_autoptr(JsonParser) parser = json_parser_new();
		g_autoptr(GError) error_local = NULL;
		if (!json_parser_load_from_data(parser, text, -1, &error_local)) {
			/* an expression need not be written as a JSON string */
			if (aiq_template_string_has_expressions(text)) {
				*node = aiq_json_new_string(text);
				return TRUE;
			}
			*error = g_strdup_printf(_("Not valid JSON: %s"), error_local->message);
			return FALSE;
		}
		*node = json_node_copy(json_parser_get_root(parser));
		if (type == AIQ_PARAM_ARRAY && !JSON_NODE_HOLDS_ARRAY(*node) &&
		    !(aiq_json_is_string(*node) &&
		      aiq_template_string_has_expressions(json_node_get_string(*node)))) {
			g_clear_pointer(node, json_node_unref);
			*error = g_strdup(_("Enter a JSON list, such as [1, 2], or an expression"));
			return FALSE;
		}
		if (type == AIQ_PARAM_OBJECT && !JSON_NODE_HOLDS_OBJECT(*node) &&
		    !(aiq_json_is_string(*node) &&
		      aiq_template_string_has_expressions(json_node_get_string(*node)))) {
			g_clear_pointer(node, json_node_unref);
			*error = g_strdup(_("Enter a JSON object, such as {\"a\": 1}, or an "
					    "expression"));
			return FALSE;
		}
		return TRUE;
	}
	default:
		*node = aiq_json_new_string(text);
		return TRUE;
	}
}

/* the value the widgets show; FALSE with @error when it cannot be one */
static gboolean
aiq_designer_param_row_read(AiqDesignerParamRow *self, JsonNode **node, gchar **error)
{
	*node = NULL;
	if (aiq_designer_param_row_in_expr_mode(self)) {
		const gchar *text = gtk_editable_get_text(GTK_EDITABLE(self->expr_entry));
		g_autofree gchar *stripped = g_strstrip(g_strdup(text));
		if (stripped[0] != '\0')
			*node = aiq_json_new_string(stripped);
		return TRUE;
	}
	switch (self->param.type) {
	case AIQ_PARAM_BOOLEAN:
		*node = aiq_json_new_bool(gtk_switch_get_active(GTK_SWITCH(self->editor)));
		return TRUE;
	case AIQ_PARAM_ENUM: {
		guint selected = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->editor));
		if (selected != GTK_INVALID_LIST_POSITION && selected > 0)
			*node = aiq_json_new_string(
				gtk_string_list_get_string(self->choices, selected));
		return TRUE;
	}
	case AIQ_PARAM_STRING_LIST: {
		g_autoptr(JsonArray) array = json_array_new();
		for (GtkWidget *item = gtk_widget_get_first_child(self->list_box); item != NULL;
		     item = gtk_widget_get_next_sibling(item)) {
			GtkWidget *entry = gtk_widget_get_first_child(item);
			const gchar *text = gtk_editable_get_text(GTK_EDITABLE(entry));
			if (text[0] != '\0')
				json_array_add_string_element(array, text);
		}
		if (json_array_get_length(array) > 0)
			*node = aiq_json_new_array(g_steal_pointer(&array));
		return TRUE;
	}
	case AIQ_PARAM_STRING_MAP: {
		g_autoptr(JsonObject) obj = json_object_new();
		for (GtkWidget *item = gtk_widget_get_first_child(self->list_box); item != NULL;
		     item = gtk_widget_get_next_sibling(item)) {
			GtkWidget *key_entry = gtk_widget_get_first_child(item);
			GtkWidget *value_entry = gtk_widget_get_next_sibling(key_entry);
			g_autofree gchar *key = g_strstrip(
				g_strdup(gtk_editable_get_text(GTK_EDITABLE(key_entry))));
			if (key[0] == '\0')
				continue;
			if (json_object_has_member(obj, key)) {
				*error = g_strdup_printf(_("“%s” is given twice"), key);
				return FALSE;
			}
			json_object_set_string_member(
				obj,
				key,
				gtk_editable_get_text(GTK_EDITABLE(value_entry)));
		}
		if (json_object_get_size(obj) > 0)
			*node = aiq_json_new_object(g_steal_pointer(&obj));
		return TRUE;
	}
	case AIQ_PARAM_TEXT:
	case AIQ_PARAM_ARRAY:
	case AIQ_PARAM_OBJECT:
	case AIQ_PARAM_JSON: {
		g_autofree gchar *text = aiq_designer_param_row_get_text_view_text(self->editor);
		return aiq_designer_param_row_parse_text(self, text, node, error);
	}
	default:
		return aiq_designer_param_row_parse_text(
			self,
			gtk_editable_get_text(GTK_EDITABLE(self->editor)),
			node,
			error);
	}
}

/* what is wrong with a value that can be written all the same */
static gchar *
aiq_designer_param_row_check(AiqDesignerParamRow *self, JsonNode *node)
{
	if (self->validate_func != NULL) {
		gchar *message = self->validate_func(node, self->validate_data);
		if (message != NULL)
			return message;
	}
	if (node == NULL)
		return NULL;
	if (self->param.flags & AIQ_PARAM_FLAG_LITERAL) {
		if (aiq_template_has_expressions(node))
			return g_strdup(_("This value cannot be an expression"));
	} else if ((self->param.flags & AIQ_PARAM_FLAG_RAW) == 0) {
		g_autoptr(AiqProblems) problems = aiq_problems_new();
		aiq_template_check(aiq_sandbox_get_default(), node, "", problems);
		if (aiq_problems_get_size(problems) > 0)
			return g_strdup(aiq_problems_index(problems, 0)->message);
	}
	if (self->param.type == AIQ_PARAM_DURATION && aiq_json_is_string(node) &&
	    !aiq_template_string_has_expressions(json_node_get_string(node))) {
		g_autoptr(GError) error = NULL;
		gint64 ms = 0;
		if (!aiq_duration_parse(json_node_get_string(node), &ms, &error))
			return g_strdup_printf(
				_("%s; write a duration such as 500ms, 30s or 1h30m"),
				error->message);
	}
	return NULL;
}

static void
aiq_designer_param_row_commit(AiqDesignerParamRow *self)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *error = NULL;

	g_clear_handle_id(&self->timeout_id, g_source_remove);
	if (!aiq_designer_param_row_read(self, &node, &error)) {
		aiq_designer_param_row_set_error(self, error);
		return;
	}
	g_free(error);
	error = aiq_designer_param_row_check(self, node);
	aiq_designer_param_row_set_error(self, error);
	if (node == NULL ? self->value == NULL
			 : self->value != NULL && json_node_equal(node, self->value))
		return;
	g_clear_pointer(&self->value, json_node_unref);
	self->value = node != NULL ? json_node_ref(node) : NULL;
	g_signal_emit(self, signals[SIGNAL_VALUE_CHANGED], 0, node);
}

static gboolean
aiq_designer_param_row_timeout_cb(gpointer user_data)
{
	AiqDesignerParamRow *self = AIQ_DESIGNER_PARAM_ROW(user_data);
	self->timeout_id = 0;
	aiq_designer_param_row_commit(self);
	return G_SOURCE_REMOVE;
}

static void
aiq_designer_param_row_schedule(AiqDesignerParamRow *self)
{
	g_clear_handle_id(&self->timeout_id, g_source_remove);
	if (self->apply_on_activate)
		return;
	self->timeout_id = g_timeout_add(AIQ_DESIGNER_PARAM_ROW_DEBOUNCE_MS,
					 aiq_designer_param_row_timeout_cb,
					 self);
}

/* ------------------------------------------------------------------------
 * from a value to widgets
 */

static void
aiq_designer_param_row_set_expr_mode(AiqDesignerParamRow *self, gboolean expr)
{
	if (self->expr_toggle == NULL)
		return;
	self->block++;
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->expr_toggle), expr);
	gtk_stack_set_visible_child_name(GTK_STACK(self->stack), expr ? "expr" : "main");
	self->block--;
}

static void
aiq_designer_param_row_show_value(AiqDesignerParamRow *self, JsonNode *node)
{
	AiqParamType type = self->param.type;
	gboolean expr = FALSE;

	self->block++;
	/* values the main editor cannot show go to the expression entry */
	if (aiq_designer_param_row_has_expr_mode(self) && node != NULL) {
		if (type == AIQ_PARAM_BOOLEAN)
			expr = !aiq_json_is_bool(node);
		else if (type == AIQ_PARAM_ENUM)
			expr = !aiq_json_is_string(node) ||
			       !g_strv_contains((const gchar *const *)self->param.choices,
						json_node_get_string(node));
		else if (type == AIQ_PARAM_STRING_LIST)
			expr = aiq_json_is_string(node) ? aiq_template_string_has_expressions(
								  json_node_get_string(node))
							: !JSON_NODE_HOLDS_ARRAY(node);
		else if (type == AIQ_PARAM_STRING_MAP)
			expr = !JSON_NODE_HOLDS_OBJECT(node);
	}
	aiq_designer_param_row_set_expr_mode(self, expr);
	if (expr) {
		g_autofree gchar *text = aiq_designer_param_row_node_to_text(node, FALSE);
		gtk_editable_set_text(GTK_EDITABLE(self->expr_entry), text);
		self->block--;
		return;
	}
	if (self->expr_entry != NULL)
		gtk_editable_set_text(GTK_EDITABLE(self->expr_entry), "");

	switch (type) {
	case AIQ_PARAM_BOOLEAN: {
		JsonNode *shown = node != NULL ? node : self->default_value;
		gtk_switch_set_active(GTK_SWITCH(self->editor),
				      shown != NULL && aiq_json_is_bool(shown) &&
					      json_node_get_boolean(shown));
		break;
	}
	case AIQ_PARAM_ENUM: {
		guint selected = 0;
		for (guint i = 0;
		     node != NULL && self->param.choices != NULL && self->param.choices[i] != NULL;
		     i++) {
			if (g_strcmp0(self->param.choices[i], json_node_get_string(node)) == 0)
				selected = i + 1;
		}
		gtk_drop_down_set_selected(GTK_DROP_DOWN(self->editor), selected);
		break;
	}
	case AIQ_PARAM_STRING_LIST:
		aiq_designer_param_row_clear_items(self);
		if (node != NULL && aiq_json_is_string(node)) {
			aiq_designer_param_row_add_item(self, NULL, json_node_get_string(node));
		} else if (node != NULL && JSON_NODE_HOLDS_ARRAY(node)) {
			JsonArray *array = json_node_get_array(node);
			for (guint i = 0; i < json_array_get_length(array); i++) {
				g_autofree gchar *text = aiq_designer_param_row_node_to_text(
					json_array_get_element(array, i),
					FALSE);
				aiq_designer_param_row_add_item(self, NULL, text);
			}
		}
		break;
	case AIQ_PARAM_STRING_MAP:
		aiq_designer_param_row_clear_items(self);
		if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
			JsonObjectIter iter;
			const gchar *name;
			JsonNode *member;
			json_object_iter_init_ordered(&iter, json_node_get_object(node));
			while (json_object_iter_next_ordered(&iter, &name, &member)) {
				g_autofree gchar *text =
					aiq_designer_param_row_node_to_text(member, FALSE);
				aiq_designer_param_row_add_item(self, name, text);
			}
		}
		break;
	case AIQ_PARAM_TEXT:
	case AIQ_PARAM_ARRAY:
	case AIQ_PARAM_OBJECT:
	case AIQ_PARAM_JSON: {
		g_autofree gchar *text = NULL;
		/* JSON fields show strings quoted, unless they are expressions */
		if (aiq_designer_param_row_is_json_type(type) && node != NULL &&
		    aiq_json_is_string(node) &&
		    !aiq_template_string_has_expressions(json_node_get_string(node)))
			text = aiq_json_to_string(node, TRUE);
		else
			text = aiq_designer_param_row_node_to_text(node, TRUE);
		gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->editor)),
					 text,
					 -1);
		break;
	}
	default: {
		g_autofree gchar *text = aiq_designer_param_row_node_to_text(node, FALSE);
		gtk_editable_set_text(GTK_EDITABLE(self->editor), text);
		break;
	}
	}
	self->block--;
}

/**
 * aiq_designer_param_row_set_value:
 * @value: (nullable): the value in the document; %NULL when not set
 *
 * Shows @value, unless the row shows it already: what is being typed stays
 * as it is. When @value is new (an undo, another view's edit) a pending edit
 * is dropped.
 */
void
aiq_designer_param_row_set_value(AiqDesignerParamRow *self, JsonNode *value)
{
	g_autofree gchar *error = NULL;
	g_return_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self));

	if (value != NULL && JSON_NODE_HOLDS_NULL(value))
		value = NULL;
	/* unchanged: keep what is being typed, pending or not */
	if (value == NULL ? self->value == NULL
			  : self->value != NULL && json_node_equal(value, self->value))
		return;
	g_clear_handle_id(&self->timeout_id, g_source_remove);
	g_clear_pointer(&self->value, json_node_unref);
	self->value = value != NULL ? aiq_json_deep_copy(value) : NULL;
	aiq_designer_param_row_show_value(self, self->value);
	error = aiq_designer_param_row_check(self, self->value);
	aiq_designer_param_row_set_error(self, error);
}

/**
 * aiq_designer_param_row_get_value:
 *
 * Returns: (transfer none) (nullable): the value last shown or given
 */
JsonNode *
aiq_designer_param_row_get_value(AiqDesignerParamRow *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self), NULL);
	return self->value;
}

const gchar *
aiq_designer_param_row_get_param_name(AiqDesignerParamRow *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self), NULL);
	return self->param.name;
}

/**
 * aiq_designer_param_row_set_apply_on_activate:
 *
 * Gives the value when Enter is pressed or the focus leaves, not while
 * typing (an identifier that renames things).
 */
void
aiq_designer_param_row_set_apply_on_activate(AiqDesignerParamRow *self, gboolean apply)
{
	g_return_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self));
	self->apply_on_activate = apply;
}

void
aiq_designer_param_row_set_validate_func(AiqDesignerParamRow *self,
					 AiqDesignerParamRowValidateFunc func,
					 gpointer user_data)
{
	g_return_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self));
	self->validate_func = func;
	self->validate_data = user_data;
}

/**
 * aiq_designer_param_row_set_error:
 * @message: (nullable): shown under the field, which gets the `error` style
 */
void
aiq_designer_param_row_set_error(AiqDesignerParamRow *self, const gchar *message)
{
	g_return_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self));
	if (g_strcmp0(self->error, message) == 0)
		return;
	g_free(self->error);
	self->error = g_strdup(message);
	aiq_designer_param_row_update_error(self);
}

const gchar *
aiq_designer_param_row_get_error(AiqDesignerParamRow *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self), NULL);
	return self->error != NULL ? self->error : self->problem;
}

/**
 * aiq_designer_param_row_set_problem:
 * @message: (nullable): a problem the document's validation found here;
 *   shown when the live check finds nothing
 */
void
aiq_designer_param_row_set_problem(AiqDesignerParamRow *self, const gchar *message)
{
	g_return_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self));
	if (g_strcmp0(self->problem, message) == 0)
		return;
	g_free(self->problem);
	self->problem = g_strdup(message);
	aiq_designer_param_row_update_error(self);
}

/* the path validation problems use for this field, e.g. steps[1].with.url */
void
aiq_designer_param_row_set_path(AiqDesignerParamRow *self, const gchar *path)
{
	g_return_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self));
	g_free(self->path);
	self->path = g_strdup(path);
}

const gchar *
aiq_designer_param_row_get_path(AiqDesignerParamRow *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self), NULL);
	return self->path;
}

/**
 * aiq_designer_param_row_match_path:
 *
 * Returns: the length of the row's path if @path is it or is below it
 *   (`steps[1].with.headers.Accept` is below `steps[1].with.headers`), else 0
 */
guint
aiq_designer_param_row_match_path(AiqDesignerParamRow *self, const gchar *path)
{
	gsize len;
	g_return_val_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self), 0);
	if (self->path == NULL || path == NULL)
		return 0;
	len = strlen(self->path);
	if (strncmp(path, self->path, len) != 0)
		return 0;
	if (path[len] != '\0' && path[len] != '.' && path[len] != '[')
		return 0;
	return (guint)len;
}

/**
 * aiq_designer_param_rows_find:
 * @rows: (element-type AiqDesignerParamRow)
 *
 * Returns: (transfer none) (nullable): the row whose path holds @path most
 *   closely
 */
AiqDesignerParamRow *
aiq_designer_param_rows_find(GPtrArray *rows, const gchar *path)
{
	AiqDesignerParamRow *best = NULL;
	guint best_len = 0;
	for (guint i = 0; i < rows->len; i++) {
		AiqDesignerParamRow *row = g_ptr_array_index(rows, i);
		guint len = aiq_designer_param_row_match_path(row, path);
		if (len > best_len) {
			best = row;
			best_len = len;
		}
	}
	return best;
}

/**
 * aiq_designer_param_rows_set_problems:
 * @rows: (element-type AiqDesignerParamRow)
 * @problems: (nullable): the whole document's problems
 * @prefix: (nullable): only problems at or below this path
 *
 * Shows each problem on the row it is about.
 *
 * Returns: (transfer full) (nullable): the problems under @prefix that no
 *   row shows, one a line
 */
gchar *
aiq_designer_param_rows_set_problems(GPtrArray *rows, AiqProblems *problems, const gchar *prefix)
{
	g_autoptr(GHashTable) messages =
		g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, NULL);
	g_autoptr(GString) rest = g_string_new(NULL);
	gsize prefix_len = prefix != NULL ? strlen(prefix) : 0;

	for (guint i = 0; problems != NULL && i < aiq_problems_get_size(problems); i++) {
		const AiqProblem *problem = aiq_problems_index(problems, i);
		AiqDesignerParamRow *row;
		GString *str;
		if (prefix != NULL &&
		    (strncmp(problem->path, prefix, prefix_len) != 0 ||
		     (problem->path[prefix_len] != '\0' && problem->path[prefix_len] != '.' &&
		      problem->path[prefix_len] != '[')))
			continue;
		row = aiq_designer_param_rows_find(rows, problem->path);
		if (row == NULL) {
			if (rest->len > 0)
				g_string_append_c(rest, '\n');
			g_string_append(rest, problem->message);
			continue;
		}
		str = g_hash_table_lookup(messages, row);
		if (str == NULL) {
			str = g_string_new(NULL);
			g_hash_table_insert(messages, row, str);
		} else {
			g_string_append_c(str, '\n');
		}
		g_string_append(str, problem->message);
	}
	for (guint i = 0; i < rows->len; i++) {
		AiqDesignerParamRow *row = g_ptr_array_index(rows, i);
		GString *str = g_hash_table_lookup(messages, row);
		aiq_designer_param_row_set_problem(row, str != NULL ? str->str : NULL);
		if (str != NULL)
			g_string_free(str, TRUE);
	}
	return rest->len > 0 ? g_string_free(g_steal_pointer(&rest), FALSE) : NULL;
}

gboolean
aiq_designer_param_row_focus(AiqDesignerParamRow *self)
{
	GtkWidget *target;
	g_return_val_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self), FALSE);
	target = aiq_designer_param_row_in_expr_mode(self) ? self->expr_entry : self->editor;
	if (self->list_box != NULL && !aiq_designer_param_row_in_expr_mode(self)) {
		GtkWidget *item = gtk_widget_get_first_child(self->list_box);
		if (item != NULL)
			target = gtk_widget_get_first_child(item);
	}
	if (target == NULL)
		return FALSE;
	return gtk_widget_grab_focus(target);
}

/* gives a pending edit now */
void
aiq_designer_param_row_flush(AiqDesignerParamRow *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self));
	if (self->timeout_id != 0)
		aiq_designer_param_row_commit(self);
}

/* drops a pending edit */
void
aiq_designer_param_row_cancel(AiqDesignerParamRow *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_PARAM_ROW(self));
	g_clear_handle_id(&self->timeout_id, g_source_remove);
}

/* ------------------------------------------------------------------------
 * construction
 */

static void
aiq_designer_param_row_editable_changed_cb(GtkEditable *editable, AiqDesignerParamRow *self)
{
	if (self->block > 0)
		return;
	if (self->apply_on_activate) {
		/* the error was about the old text */
		aiq_designer_param_row_set_error(self, NULL);
		return;
	}
	aiq_designer_param_row_schedule(self);
}

static void
aiq_designer_param_row_buffer_changed_cb(GtkTextBuffer *buffer, AiqDesignerParamRow *self)
{
	if (self->block > 0)
		return;
	aiq_designer_param_row_schedule(self);
}

static void
aiq_designer_param_row_activate_cb(GtkWidget *widget, AiqDesignerParamRow *self)
{
	aiq_designer_param_row_commit(self);
}

static void
aiq_designer_param_row_focus_leave_cb(GtkEventControllerFocus *controller,
				      AiqDesignerParamRow *self)
{
	if (self->apply_on_activate || self->timeout_id != 0)
		aiq_designer_param_row_commit(self);
}

static void
aiq_designer_param_row_switch_cb(GObject *object, GParamSpec *pspec, AiqDesignerParamRow *self)
{
	if (self->block > 0)
		return;
	aiq_designer_param_row_commit(self);
}

static void
aiq_designer_param_row_expr_toggled_cb(GtkToggleButton *button, AiqDesignerParamRow *self)
{
	gboolean expr = gtk_toggle_button_get_active(button);
	if (self->block > 0)
		return;
	gtk_stack_set_visible_child_name(GTK_STACK(self->stack), expr ? "expr" : "main");
	if (expr) {
		/* start from the value shown, as text */
		g_autofree gchar *text = aiq_designer_param_row_node_to_text(self->value, FALSE);
		self->block++;
		gtk_editable_set_text(GTK_EDITABLE(self->expr_entry), text);
		self->block--;
		gtk_widget_grab_focus(self->expr_entry);
	}
	aiq_designer_param_row_commit(self);
}

static void
aiq_designer_param_row_watch_entry(AiqDesignerParamRow *self, GtkWidget *entry)
{
	GtkEventController *focus = gtk_event_controller_focus_new();
	g_signal_connect(entry,
			 "changed",
			 G_CALLBACK(aiq_designer_param_row_editable_changed_cb),
			 self);
	g_signal_connect(entry, "activate", G_CALLBACK(aiq_designer_param_row_activate_cb), self);
	g_signal_connect(focus, "leave", G_CALLBACK(aiq_designer_param_row_focus_leave_cb), self);
	gtk_widget_add_controller(entry, focus);
}

static gchar *
aiq_designer_param_row_default_text(const AiqParam *param)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonNode *root;
	if (param->default_json == NULL)
		return NULL;
	if (!json_parser_load_from_data(parser, param->default_json, -1, NULL))
		return NULL;
	root = json_parser_get_root(parser);
	if (JSON_NODE_HOLDS_ARRAY(root) && param->type == AIQ_PARAM_STRING_LIST) {
		JsonArray *array = json_node_get_array(root);
		g_autoptr(GString) str = g_string_new(NULL);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			g_autofree gchar *text = aiq_designer_param_row_node_to_text(
				json_array_get_element(array, i),
				FALSE);
			if (str->len > 0)
				g_string_append(str, ", ");
			g_string_append(str, text);
		}
		return g_string_free(g_steal_pointer(&str), FALSE);
	}
	return aiq_designer_param_row_node_to_text(root, FALSE);
}

static GtkWidget *
aiq_designer_param_row_build_editor(AiqDesignerParamRow *self, GtkWidget *title_box)
{
	const AiqParam *param = &self->param;
	g_autofree gchar *default_text = aiq_designer_param_row_default_text(param);

	switch (param->type) {
	case AIQ_PARAM_BOOLEAN:
		self->editor = gtk_switch_new();
		gtk_widget_set_valign(self->editor, GTK_ALIGN_CENTER);
		g_signal_connect(self->editor,
				 "notify::active",
				 G_CALLBACK(aiq_designer_param_row_switch_cb),
				 self);
		gtk_box_append(GTK_BOX(title_box), self->editor);
		return NULL;
	case AIQ_PARAM_ENUM: {
		g_autofree gchar *none = NULL;
		self->choices = gtk_string_list_new(NULL);
		/* TRANSLATORS: the first item of a drop-down: the parameter is not set */
		none = default_text != NULL ? g_strdup_printf(_("Default (%s)"), default_text)
					    : g_strdup(_("Not set"));
		gtk_string_list_append(self->choices, none);
		for (guint i = 0; param->choices != NULL && param->choices[i] != NULL; i++)
			gtk_string_list_append(self->choices, param->choices[i]);
		self->editor = gtk_drop_down_new(G_LIST_MODEL(g_object_ref(self->choices)), NULL);
		gtk_widget_set_halign(self->editor, GTK_ALIGN_START);
		g_signal_connect(self->editor,
				 "notify::selected",
				 G_CALLBACK(aiq_designer_param_row_switch_cb),
				 self);
		return self->editor;
	}
	case AIQ_PARAM_STRING_LIST:
	case AIQ_PARAM_STRING_MAP: {
		GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
		GtkWidget *add = gtk_button_new_from_icon_name("list-add-symbolic");
		g_autofree gchar *add_name = g_strdup_printf("%s-add", self->widget_name);
		self->list_box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
		gtk_box_append(GTK_BOX(box), self->list_box);
		gtk_widget_set_name(add, add_name);
		gtk_widget_set_halign(add, GTK_ALIGN_START);
		gtk_widget_set_tooltip_text(add,
					    param->type == AIQ_PARAM_STRING_MAP ? _("Add an entry")
										: _("Add an item"));
		g_signal_connect(add,
				 "clicked",
				 G_CALLBACK(aiq_designer_param_row_add_clicked_cb),
				 self);
		gtk_box_append(GTK_BOX(box), add);
		self->editor = box;
		if (default_text != NULL) {
			g_autofree gchar *hint = g_strdup_printf(_("Default: %s"), default_text);
			gtk_widget_set_tooltip_text(self->list_box, hint);
		}
		return box;
	}
	case AIQ_PARAM_TEXT:
	case AIQ_PARAM_ARRAY:
	case AIQ_PARAM_OBJECT:
	case AIQ_PARAM_JSON: {
		GtkWidget *scrolled = gtk_scrolled_window_new();
		GtkWidget *frame = gtk_frame_new(NULL);
		self->editor = gtk_text_view_new();
		gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(self->editor), GTK_WRAP_WORD_CHAR);
		gtk_text_view_set_top_margin(GTK_TEXT_VIEW(self->editor), 6);
		gtk_text_view_set_bottom_margin(GTK_TEXT_VIEW(self->editor), 6);
		gtk_text_view_set_left_margin(GTK_TEXT_VIEW(self->editor), 6);
		gtk_text_view_set_right_margin(GTK_TEXT_VIEW(self->editor), 6);
		if (param->type != AIQ_PARAM_TEXT || (param->flags & AIQ_PARAM_FLAG_RAW))
			gtk_text_view_set_monospace(GTK_TEXT_VIEW(self->editor), TRUE);
		gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), self->editor);
		gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scrolled),
					       GTK_POLICY_NEVER,
					       GTK_POLICY_AUTOMATIC);
		gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scrolled), 72);
		gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(scrolled), 240);
		gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(scrolled),
								 TRUE);
		gtk_frame_set_child(GTK_FRAME(frame), scrolled);
		if (default_text != NULL) {
			g_autofree gchar *hint = g_strdup_printf(_("Default: %s"), default_text);
			gtk_widget_set_tooltip_text(self->editor, hint);
		}
		g_signal_connect(gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->editor)),
				 "changed",
				 G_CALLBACK(aiq_designer_param_row_buffer_changed_cb),
				 self);
		{
			GtkEventController *focus = gtk_event_controller_focus_new();
			g_signal_connect(focus,
					 "leave",
					 G_CALLBACK(aiq_designer_param_row_focus_leave_cb),
					 self);
			gtk_widget_add_controller(self->editor, focus);
		}
		return frame;
	}
	default:
		self->editor = gtk_entry_new();
		if (default_text != NULL)
			gtk_entry_set_placeholder_text(GTK_ENTRY(self->editor), default_text);
		else if (param->type == AIQ_PARAM_DURATION)
			gtk_entry_set_placeholder_text(GTK_ENTRY(self->editor), _("e.g. 30s"));
		aiq_designer_param_row_watch_entry(self, self->editor);
		return self->editor;
	}
}

/**
 * aiq_designer_param_row_new:
 * @param: (transfer none): the declaration; its strings must outlive the row
 * @widget_name: the name of the editing widget, e.g. `param-url`
 */
GtkWidget *
aiq_designer_param_row_new(const AiqParam *param, const gchar *widget_name)
{
	AiqDesignerParamRow *self;
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *title_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *main_editor;
	g_autofree gchar *title = NULL;

	g_return_val_if_fail(param != NULL && param->name != NULL, NULL);
	g_return_val_if_fail(widget_name != NULL, NULL);

	self = g_object_new(AIQ_DESIGNER_TYPE_PARAM_ROW, NULL);
	self->param = *param;
	self->widget_name = g_strdup(widget_name);
	if (param->default_json != NULL) {
		g_autoptr(JsonParser) parser = json_parser_new();
		if (json_parser_load_from_data(parser, param->default_json, -1, NULL))
			self->default_value = json_node_copy(json_parser_get_root(parser));
	}

	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 8);
	gtk_widget_set_margin_bottom(box, 8);

	/* TRANSLATORS: a required field's title, marked */
	title = param->required ? g_strdup_printf(_("%s *"), param->name) : g_strdup(param->name);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self), param->name);
	self->title_label = gtk_label_new(title);
	gtk_label_set_xalign(GTK_LABEL(self->title_label), 0);
	gtk_widget_set_hexpand(self->title_label, TRUE);
	gtk_widget_set_valign(self->title_label, GTK_ALIGN_CENTER);
	gtk_widget_add_css_class(self->title_label, "heading");
	if (param->required)
		gtk_widget_set_tooltip_text(self->title_label, _("Required"));
	gtk_box_append(GTK_BOX(title_box), self->title_label);
	gtk_box_append(GTK_BOX(box), title_box);

	/* types whose editor cannot hold an expression get an expression entry */
	if ((param->flags & AIQ_PARAM_FLAG_LITERAL) == 0 &&
	    (param->type == AIQ_PARAM_BOOLEAN || param->type == AIQ_PARAM_ENUM ||
	     param->type == AIQ_PARAM_STRING_LIST || param->type == AIQ_PARAM_STRING_MAP)) {
		g_autofree gchar *toggle_name = g_strdup_printf("%s-expr-toggle", widget_name);
		g_autofree gchar *expr_name = g_strdup_printf("%s-expr", widget_name);
		self->expr_toggle = gtk_toggle_button_new_with_label("${{ }}");
		gtk_widget_set_name(self->expr_toggle, toggle_name);
		gtk_widget_set_valign(self->expr_toggle, GTK_ALIGN_CENTER);
		gtk_widget_add_css_class(self->expr_toggle, "flat");
		gtk_widget_set_tooltip_text(self->expr_toggle, _("Use an expression"));
		g_signal_connect(self->expr_toggle,
				 "toggled",
				 G_CALLBACK(aiq_designer_param_row_expr_toggled_cb),
				 self);
		gtk_box_append(GTK_BOX(title_box), self->expr_toggle);
		self->expr_entry = gtk_entry_new();
		gtk_widget_set_name(self->expr_entry, expr_name);
		gtk_entry_set_placeholder_text(GTK_ENTRY(self->expr_entry), "${{ … }}");
		aiq_designer_param_row_watch_entry(self, self->expr_entry);
	}

	main_editor = aiq_designer_param_row_build_editor(self, title_box);
	gtk_widget_set_name(self->editor, widget_name);
	if (self->expr_entry != NULL) {
		self->stack = gtk_stack_new();
		gtk_stack_set_hhomogeneous(GTK_STACK(self->stack), FALSE);
		gtk_stack_set_vhomogeneous(GTK_STACK(self->stack), FALSE);
		gtk_stack_add_named(GTK_STACK(self->stack),
				    main_editor != NULL ? main_editor : gtk_box_new(0, 0),
				    "main");
		gtk_stack_add_named(GTK_STACK(self->stack), self->expr_entry, "expr");
		gtk_box_append(GTK_BOX(box), self->stack);
		if (main_editor == NULL) {
			/* a boolean: hide the switch while an expression is used */
			g_object_bind_property(self->expr_toggle,
					       "active",
					       self->editor,
					       "visible",
					       G_BINDING_INVERT_BOOLEAN | G_BINDING_SYNC_CREATE);
			g_object_bind_property(self->expr_toggle,
					       "active",
					       self->stack,
					       "visible",
					       G_BINDING_SYNC_CREATE);
		}
	} else if (main_editor != NULL) {
		gtk_box_append(GTK_BOX(box), main_editor);
	}

	self->error_label = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(self->error_label), 0);
	gtk_label_set_wrap(GTK_LABEL(self->error_label), TRUE);
	gtk_label_set_selectable(GTK_LABEL(self->error_label), TRUE);
	gtk_widget_add_css_class(self->error_label, "error");
	gtk_widget_add_css_class(self->error_label, "caption");
	gtk_widget_set_visible(self->error_label, FALSE);
	gtk_box_append(GTK_BOX(box), self->error_label);

	if (param->description != NULL) {
		self->desc_label = gtk_label_new(_(param->description));
		gtk_label_set_xalign(GTK_LABEL(self->desc_label), 0);
		gtk_label_set_wrap(GTK_LABEL(self->desc_label), TRUE);
		gtk_widget_add_css_class(self->desc_label, "dim-label");
		gtk_widget_add_css_class(self->desc_label, "caption");
		gtk_box_append(GTK_BOX(box), self->desc_label);
		gtk_widget_set_tooltip_text(self->editor, _(param->description));
	}

	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(self), box);
	aiq_designer_param_row_show_value(self, NULL);
	return GTK_WIDGET(self);
}

static void
aiq_designer_param_row_dispose(GObject *object)
{
	AiqDesignerParamRow *self = AIQ_DESIGNER_PARAM_ROW(object);
	g_clear_handle_id(&self->timeout_id, g_source_remove);
	G_OBJECT_CLASS(aiq_designer_param_row_parent_class)->dispose(object);
}

static void
aiq_designer_param_row_finalize(GObject *object)
{
	AiqDesignerParamRow *self = AIQ_DESIGNER_PARAM_ROW(object);
	g_clear_pointer(&self->value, json_node_unref);
	g_clear_pointer(&self->default_value, json_node_unref);
	g_clear_object(&self->choices);
	g_free(self->widget_name);
	g_free(self->path);
	g_free(self->error);
	g_free(self->problem);
	G_OBJECT_CLASS(aiq_designer_param_row_parent_class)->finalize(object);
}

static void
aiq_designer_param_row_class_init(AiqDesignerParamRowClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = aiq_designer_param_row_dispose;
	object_class->finalize = aiq_designer_param_row_finalize;

	/**
	 * AiqDesignerParamRow::value-changed:
	 * @value: (nullable): the new value; %NULL when the field was emptied
	 */
	signals[SIGNAL_VALUE_CHANGED] = g_signal_new("value-changed",
						     G_TYPE_FROM_CLASS(klass),
						     G_SIGNAL_RUN_LAST,
						     0,
						     NULL,
						     NULL,
						     NULL,
						     G_TYPE_NONE,
						     1,
						     JSON_TYPE_NODE);
}

static void
aiq_designer_param_row_init(AiqDesignerParamRow *self)
{
	gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(self), FALSE);
	gtk_list_box_row_set_selectable(GTK_LIST_BOX_ROW(self), FALSE);
}
