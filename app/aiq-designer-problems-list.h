/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "aiq-problems.h"

G_BEGIN_DECLS

/**
 * AiqDesignerProblemsList:
 *
 * The problems of the workflow being edited, one row each with where
 * (`steps[1].with.url`) and what. Activating a row emits
 * #AiqDesignerProblemsList::problem-activated with the path.
 */
#define AIQ_DESIGNER_TYPE_PROBLEMS_LIST (aiq_designer_problems_list_get_type())
G_DECLARE_FINAL_TYPE(AiqDesignerProblemsList,
		     aiq_designer_problems_list,
		     AIQ_DESIGNER,
		     PROBLEMS_LIST,
		     AdwBin)

GtkWidget *
aiq_designer_problems_list_new(void);
void
aiq_designer_problems_list_set_problems(AiqDesignerProblemsList *self, AiqProblems *problems);
guint
aiq_designer_problems_list_get_n_problems(AiqDesignerProblemsList *self);
GtkListBoxRow *
aiq_designer_problems_list_get_row(AiqDesignerProblemsList *self, guint idx);

G_END_DECLS
