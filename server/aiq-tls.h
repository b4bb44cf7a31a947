/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean
aiq_tls_ensure_self_signed(const gchar *data_dir,
			   gchar **hostnames,
			   gchar **cert_path,
			   gchar **key_path,
			   gboolean *created,
			   GError **error);
gchar *
aiq_tls_fingerprint(GTlsCertificate *cert);

G_END_DECLS
