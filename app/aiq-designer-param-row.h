/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "aiq-step-kind.h"

G_BEGIN_DECLS

/**
 * AiqDesignerParamRowValidateFunc:
 * @value: (nullable): the value the row holds
 *
 * Returns: (transfer full) (nullable): what is wrong with @value, or %NULL
 */
typedef gchar *(*AiqDesignerParamRowValidateFunc)(JsonNode *value, gpointer user_data);

#define AIQ_DESIGNER_TYPE_PARAM_ROW (aiq_designer_param_row_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerParamRow,
		     aiq_designer_param_row,
		     AIQ_DESIGNER,
		     PARAM_ROW,
		     AdwPreferencesRow)

GtkWidget *
aiq_designer_param_row_new(const AiqParam *param, const gchar *widget_name);
const gchar *
aiq_designer_param_row_get_param_name(AiqDesignerParamRow *self);
void
aiq_designer_param_row_set_value(AiqDesignerParamRow *self, JsonNode *value);
JsonNode *
aiq_designer_param_row_get_value(AiqDesignerParamRow *self);
void
aiq_designer_param_row_set_apply_on_activate(AiqDesignerParamRow *self, gboolean apply);
void
aiq_designer_param_row_set_validate_func(AiqDesignerParamRow *self,
					 AiqDesignerParamRowValidateFunc func,
					 gpointer user_data);
void
aiq_designer_param_row_set_error(AiqDesignerParamRow *self, const gchar *message);
const gchar *
aiq_designer_param_row_get_error(AiqDesignerParamRow *self);
void
aiq_designer_param_row_set_problem(AiqDesignerParamRow *self, const gchar *message);
void
aiq_designer_param_row_set_path(AiqDesignerParamRow *self, const gchar *path);
const gchar *
aiq_designer_param_row_get_path(AiqDesignerParamRow *self);
guint
aiq_designer_param_row_match_path(AiqDesignerParamRow *self, const gchar *path);
AiqDesignerParamRow *
aiq_designer_param_rows_find(GPtrArray *rows, const gchar *path);
gchar *
aiq_designer_param_rows_set_problems(GPtrArray *rows, AiqProblems *problems, const gchar *prefix);
gboolean
aiq_designer_param_row_focus(AiqDesignerParamRow *self);
void
aiq_designer_param_row_flush(AiqDesignerParamRow *self);
void
aiq_designer_param_row_cancel(AiqDesignerParamRow *self);

G_END_DECLS
