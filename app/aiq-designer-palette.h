/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/**
 * AiqDesignerPalette:
 *
 * The step kinds a workflow can use, one row each with the kind's icon,
 * title and description. Activating a row emits
 * #AiqDesignerPalette::add-step; each row can also be dragged onto the
 * canvas, which receives the kind's name as a string.
 */
#define AIQ_DESIGNER_TYPE_PALETTE (aiq_designer_palette_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerPalette, aiq_designer_palette, AIQ_DESIGNER, PALETTE, AdwBin)

GtkWidget *
aiq_designer_palette_new(void);
GtkListBoxRow *
aiq_designer_palette_get_row(AiqDesignerPalette *self, const gchar *kind);

G_END_DECLS
