/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Without libFuzzer (gcc builds): runs a fuzz target over the files of its
 * seed corpus, so every build checks the corpus as a regression test.
 */

#include "config.h"

#include <glib.h>
#include <stdio.h>

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

int
main(int argc, char **argv)
{
	guint n = 0;
	for (gint i = 1; i < argc; i++) {
		g_autoptr(GDir) dir = g_dir_open(argv[i], 0, NULL);
		const gchar *name;
		if (dir == NULL) {
			g_autofree gchar *contents = NULL;
			gsize len = 0;
			if (!g_file_get_contents(argv[i], &contents, &len, NULL)) {
				g_printerr("cannot read %s\n", argv[i]);
				return 1;
			}
			LLVMFuzzerTestOneInput((const guint8 *)contents, len);
			n++;
			continue;
		}
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *path = g_build_filename(argv[i], name, NULL);
			g_autofree gchar *contents = NULL;
			gsize len = 0;
			if (!g_file_get_contents(path, &contents, &len, NULL))
				continue;
			LLVMFuzzerTestOneInput((const guint8 *)contents, len);
			n++;
		}
	}
	printf("%u inputs replayed\n", n);
	return n > 0 ? 0 : 1;
}
