/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

#include "aiq-problems.h"

G_BEGIN_DECLS

/**
 * AiqDesignerDocumentChange:
 * @AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE: steps or dependencies were added,
 *   removed or renamed (or the whole tree was replaced)
 * @AIQ_DESIGNER_DOCUMENT_CHANGE_CONTENT: members of steps or of the workflow
 *   changed, not the graph
 * @AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS: node positions (`ui.nodes`) only
 */
typedef enum {
	AIQ_DESIGNER_DOCUMENT_CHANGE_STRUCTURE = 1 << 0,
	AIQ_DESIGNER_DOCUMENT_CHANGE_CONTENT = 1 << 1,
	AIQ_DESIGNER_DOCUMENT_CHANGE_POSITIONS = 1 << 2,
} AiqDesignerDocumentChange;

/**
 * AiqDesignerDocument:
 *
 * The workflow being edited: one JSON tree (the definition, as YAML and the
 * API have it) shared by the canvas, the forms and the YAML view. Every edit
 * goes through this object, which records it for undo and emits
 * #AiqDesignerDocument::changed; views redraw from the tree.
 *
 * Edits that belong together (a drag) are grouped with
 * aiq_designer_document_begin_group() / _end_group() so one undo reverts
 * them all. Nothing here knows GTK.
 */
#define AIQ_DESIGNER_TYPE_DOCUMENT (aiq_designer_document_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerDocument, aiq_designer_document, AIQ_DESIGNER, DOCUMENT, GObject)

AiqDesignerDocument *
aiq_designer_document_new(void);
AiqDesignerDocument *
aiq_designer_document_new_empty(const gchar *name);

gboolean
aiq_designer_document_load(AiqDesignerDocument *self, JsonNode *root, GError **error);
gboolean
aiq_designer_document_load_data(AiqDesignerDocument *self,
				const gchar *data,
				gssize len,
				GError **error);
JsonNode *
aiq_designer_document_get_root(AiqDesignerDocument *self);
JsonNode *
aiq_designer_document_dup_root(AiqDesignerDocument *self);
gchar *
aiq_designer_document_to_yaml(AiqDesignerDocument *self, GError **error);
gboolean
aiq_designer_document_set_yaml(AiqDesignerDocument *self, const gchar *yaml, GError **error);
const gchar *
aiq_designer_document_get_name(AiqDesignerDocument *self);
gboolean
aiq_designer_document_get_modified(AiqDesignerDocument *self);
void
aiq_designer_document_set_modified(AiqDesignerDocument *self, gboolean modified);
guint
aiq_designer_document_get_serial(AiqDesignerDocument *self);

/* the workflow's own members: name, description, triggers, inputs, … */
JsonNode *
aiq_designer_document_get_member(AiqDesignerDocument *self, const gchar *member);
void
aiq_designer_document_set_member(AiqDesignerDocument *self, const gchar *member, JsonNode *value);

/* steps */
guint
aiq_designer_document_get_n_steps(AiqDesignerDocument *self);
JsonObject *
aiq_designer_document_get_step(AiqDesignerDocument *self, guint idx);
JsonObject *
aiq_designer_document_find_step(AiqDesignerDocument *self, const gchar *id, guint *idx);
gchar *
aiq_designer_document_add_step(AiqDesignerDocument *self, const gchar *kind, gdouble x, gdouble y);
void
aiq_designer_document_remove_steps(AiqDesignerDocument *self, const gchar *const *ids);
gboolean
aiq_designer_document_rename_step(AiqDesignerDocument *self,
				  const gchar *id,
				  const gchar *new_id,
				  GError **error);
void
aiq_designer_document_set_step_member(AiqDesignerDocument *self,
				      const gchar *id,
				      const gchar *member,
				      JsonNode *value);
void
aiq_designer_document_set_step_param(AiqDesignerDocument *self,
				     const gchar *id,
				     const gchar *param,
				     JsonNode *value);

/* the graph */
GStrv
aiq_designer_document_dup_needs(AiqDesignerDocument *self, const gchar *id);
gboolean
aiq_designer_document_add_dependency(AiqDesignerDocument *self,
				     const gchar *from_id,
				     const gchar *to_id,
				     GError **error);
void
aiq_designer_document_remove_dependency(AiqDesignerDocument *self,
					const gchar *from_id,
					const gchar *to_id);

/* positions, in canvas units, kept under `ui.nodes` */
gboolean
aiq_designer_document_get_position(AiqDesignerDocument *self,
				   const gchar *id,
				   gdouble *x,
				   gdouble *y);
void
aiq_designer_document_set_position(AiqDesignerDocument *self,
				   const gchar *id,
				   gdouble x,
				   gdouble y);
void
aiq_designer_document_auto_layout(AiqDesignerDocument *self, gboolean all);

/* undo */
void
aiq_designer_document_begin_group(AiqDesignerDocument *self);
void
aiq_designer_document_end_group(AiqDesignerDocument *self);
gboolean
aiq_designer_document_undo(AiqDesignerDocument *self);
gboolean
aiq_designer_document_redo(AiqDesignerDocument *self);
gboolean
aiq_designer_document_can_undo(AiqDesignerDocument *self);
gboolean
aiq_designer_document_can_redo(AiqDesignerDocument *self);

AiqProblems *
aiq_designer_document_validate(AiqDesignerDocument *self);

#define AIQ_DESIGNER_NODE_WIDTH 200.0
#define AIQ_DESIGNER_NODE_HEIGHT 64.0
#define AIQ_DESIGNER_LAYOUT_COLUMN 260.0
#define AIQ_DESIGNER_LAYOUT_ROW 100.0

G_END_DECLS
