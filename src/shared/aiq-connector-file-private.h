/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>
#include <sys/stat.h>

G_BEGIN_DECLS

/* used by the step kinds that read files from a configured file root (email
 * attachments): the same confinement as the file step kind */
gint
aiq_file_root_open_file(const gchar *root_name,
			const gchar *root_dir,
			const gchar *path,
			struct stat *st,
			GError **error);

G_END_DECLS
