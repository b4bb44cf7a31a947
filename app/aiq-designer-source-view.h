/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>
#include <gtksourceview/gtksource.h>

#include "aiq-designer-document.h"

G_BEGIN_DECLS

/**
 * AiqDesignerSourceView:
 *
 * The workflow as YAML, editable, kept in sync with the document both ways:
 * a change of the document regenerates the text (unless the change came
 * from this view), and what the user types is parsed after a pause and
 * becomes one undoable edit of the document. Text that does not parse
 * leaves the document alone and shows the error under the view.
 */
#define AIQ_DESIGNER_TYPE_SOURCE_VIEW (aiq_designer_source_view_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerSourceView,
		     aiq_designer_source_view,
		     AIQ_DESIGNER,
		     SOURCE_VIEW,
		     AdwBin)

GtkWidget *
aiq_designer_source_view_new(void);
void
aiq_designer_source_view_set_document(AiqDesignerSourceView *self, AiqDesignerDocument *document);
GtkSourceBuffer *
aiq_designer_source_view_get_buffer(AiqDesignerSourceView *self);
gchar *
aiq_designer_source_view_dup_text(AiqDesignerSourceView *self);
const gchar *
aiq_designer_source_view_get_error(AiqDesignerSourceView *self);
void
aiq_designer_source_view_flush(AiqDesignerSourceView *self);

G_END_DECLS
