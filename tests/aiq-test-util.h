/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Small helpers every test program may include.
 */

#pragma once

#include <glib.h>

/* removes a test's temporary tree, failing the test when it cannot */
static inline void
aiq_test_rm_rf(const gchar *path)
{
	const gchar *argv[] = { "rm", "-rf", "--", path, NULL };
	g_autoptr(GError) error = NULL;
	gint status = 0;
	g_spawn_sync(NULL,
		     (gchar **)argv,
		     NULL,
		     G_SPAWN_SEARCH_PATH,
		     NULL,
		     NULL,
		     NULL,
		     NULL,
		     &status,
		     &error);
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
}
