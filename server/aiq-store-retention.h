/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-store-executions.h"

G_BEGIN_DECLS

/* microseconds in a day; archive days are whole UTC days since the epoch */
#define AIQ_STORE_DAY_US ((gint64)86400 * G_USEC_PER_SEC)

/**
 * AiqArchiveCandidate:
 *
 * A finished execution old enough to leave the hot store.
 */
typedef struct {
	gchar *id;
	gint64 created_us;
} AiqArchiveCandidate;

/**
 * AiqExecutionRecord:
 * @steps: (element-type AiqStepRow): in the order of the definition
 * @events: (element-type AiqEvent): by seq
 *
 * Everything the store holds of one execution.
 */
typedef struct {
	AiqExecutionRow *execution;
	GPtrArray *steps;
	GPtrArray *events;
} AiqExecutionRecord;

void
aiq_archive_candidate_free(AiqArchiveCandidate *candidate);
void
aiq_execution_record_free(AiqExecutionRecord *record);

GPtrArray *
aiq_store_list_archive_candidates(AiqStore *self,
				  const gchar *tenant_id,
				  gint64 before_us,
				  gint64 after_created_us,
				  const gchar *after_id,
				  guint limit,
				  GError **error);
AiqExecutionRecord *
aiq_store_read_execution_record(AiqStore *self,
				const gchar *tenant_id,
				const gchar *execution_id,
				GError **error);
gboolean
aiq_store_archive_executions(AiqStore *self,
			     const gchar *tenant_id,
			     GPtrArray *execution_ids,
			     gint64 day,
			     gint64 archived_us,
			     guint *n_archived,
			     GError **error);
gboolean
aiq_store_get_execution_archive(AiqStore *self,
				const gchar *tenant_id,
				const gchar *execution_id,
				gint64 *day,
				gint64 *archived_us,
				GError **error);
gboolean
aiq_store_delete_archive_rows(AiqStore *self,
			      const gchar *tenant_id,
			      gint64 before_day,
			      guint batch,
			      guint64 *n_deleted,
			      GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqArchiveCandidate, aiq_archive_candidate_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqExecutionRecord, aiq_execution_record_free)

G_END_DECLS
