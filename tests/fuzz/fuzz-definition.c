/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: the definition parser (YAML and JSON) and the canonical
 * writers. Any input must give a definition or problems, never a crash.
 */

#include "config.h"

#include <string.h>

#include "aiq-definition.h"
#include "aiq-document.h"
#include "aiq-json.h"

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqDefinition) def = NULL;

	def = aiq_definition_new_from_data((const gchar *)data, size, NULL, problems, &error);
	if (def != NULL) {
		g_autofree gchar *yaml = aiq_definition_to_yaml(def, NULL);
		g_autoptr(AiqProblems) again = aiq_problems_new();
		g_autoptr(AiqDefinition) def2 = NULL;
		/* what we write, we read back as the same definition */
		if (yaml != NULL) {
			def2 = aiq_definition_new_from_data(yaml, strlen(yaml), NULL, again, NULL);
			g_assert_nonnull(def2);
			g_assert_cmpstr(aiq_definition_get_digest(def),
					==,
					aiq_definition_get_digest(def2));
		}
	} else {
		g_autofree gchar *text = aiq_problems_to_string(problems, "fuzz");
		(void)text;
	}
	return 0;
}
