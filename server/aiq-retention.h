/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-server.h"

G_BEGIN_DECLS

typedef struct _AiqRetentionReport AiqRetentionReport;

/**
 * AiqRetentionBatchFunc:
 *
 * Called on the pass's thread each time a batch of executions has left the
 * hot store (committed), with the report so far.
 */
typedef void (*AiqRetentionBatchFunc)(const AiqRetentionReport *report, gpointer user_data);

/**
 * AiqRetentionReport:
 * @executions_archived: executions moved from the hot store to archives
 * @files_written: archive files written (a day's file written again to add
 *   to it counts again)
 * @archives_deleted: archive files deleted past the cold retention
 * @archive_rows_deleted: index rows of those archives forgotten
 * @audit_pruned: audit records deleted past the audit retention
 * @batch_func: (nullable): in: called after each batch (tests interleave
 *   requests with a pass through it)
 * @batch_data: in: for @batch_func
 *
 * What one pass of aiq_retention_run() did.
 */
struct _AiqRetentionReport {
	guint64 executions_archived;
	guint64 files_written;
	guint64 archives_deleted;
	guint64 archive_rows_deleted;
	guint64 audit_pruned;
	AiqRetentionBatchFunc batch_func;
	gpointer batch_data;
};

/* executions deleted from the hot store per write */
#define AIQ_RETENTION_BATCH 500

gboolean
aiq_retention_run(AiqServer *server, AiqRetentionReport *report, GError **error);
gboolean
aiq_retention_respond_archived(AiqRequest *req, const gchar *tenant_id, const gchar *execution_id);
gchar *
aiq_retention_day_to_string(gint64 day);

G_END_DECLS
