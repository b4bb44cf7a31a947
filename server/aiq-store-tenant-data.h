/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-store.h"

G_BEGIN_DECLS

/* the export's format, in its header line */
#define AIQ_TENANT_EXPORT_FORMAT "automateiq-tenant-export"
#define AIQ_TENANT_EXPORT_VERSION 1

/**
 * AiqStoreExportFunc:
 * @type: what @data is, e.g. `user`, `workflow_version`, `execution_step`
 * @data: one row in the export's form: never a password hash, a token's
 *   hash or a webhook's secret
 *
 * Called for each row of an export, with no statement open, so it may
 * take its time (send the row to a slow client).
 *
 * Returns: %FALSE with @error to stop the export
 */
typedef gboolean (*AiqStoreExportFunc)(const gchar *type,
				       JsonObject *data,
				       gpointer user_data,
				       GError **error);

gboolean
aiq_store_export_tenant(AiqStore *self,
			const gchar *tenant_id,
			AiqStoreExportFunc func,
			gpointer user_data,
			GError **error);
const gchar *const *
aiq_store_export_get_tables(void);

/**
 * AiqStoreJobFunc:
 * @state: queued or leased
 */
typedef void (*AiqStoreJobFunc)(const gchar *job_id,
				const gchar *execution_id,
				const gchar *state,
				gpointer user_data);

gboolean
aiq_store_foreach_open_job(AiqStore *self,
			   const gchar *tenant_id,
			   AiqStoreJobFunc func,
			   gpointer user_data,
			   GError **error);
GPtrArray *
aiq_store_list_tenant_tables(AiqStore *self, GError **error);
gboolean
aiq_store_erase_tenant_rows(AiqStore *self,
			    const gchar *tenant_id,
			    guint64 *n_rows,
			    GError **error);
gboolean
aiq_store_delete_erased_tenant(AiqStore *self,
			       const gchar *tenant_id,
			       guint64 *n_rows,
			       GError **error);

G_END_DECLS
