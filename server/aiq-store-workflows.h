/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-definition.h"
#include "aiq-store.h"

G_BEGIN_DECLS

/**
 * AiqWorkflowRow:
 * @latest_version: the newest version number
 * @deleted: deleted workflows keep their row (and executions) but are hidden
 */
typedef struct {
	gchar *tenant_id;
	gchar *id;
	gchar *name;
	gchar *description;
	gchar **labels;
	gboolean enabled;
	gint latest_version;
	gint64 created_us;
	gint64 updated_us;
	gboolean deleted;
} AiqWorkflowRow;

typedef struct {
	gchar *tenant_id;
	gchar *workflow_id;
	gint version;
	gchar *definition; /* canonical JSON */
	gchar *triggers;   /* the definition's triggers as JSON; only from
			      aiq_store_get_workflow_version_with_triggers() */
	gchar *digest;
	gchar *author;
	gint64 created_us;
} AiqWorkflowVersion;

/**
 * AiqWorkflowFilter:
 * @name: (nullable): exactly this name
 * @search: (nullable): names containing this
 * @label: (nullable): workflows with this runs_on label
 * @enabled: 1, 0, or -1 for both
 */
typedef struct {
	const gchar *name;
	const gchar *search;
	const gchar *label;
	gint enabled;
} AiqWorkflowFilter;

void
aiq_workflow_row_free(AiqWorkflowRow *row);
void
aiq_workflow_version_free(AiqWorkflowVersion *version);

/* a new workflow at version 1; AIQ_ERROR_CONFLICT when the name is taken */
AiqWorkflowRow *
aiq_store_create_workflow(AiqStore *self,
			  const gchar *tenant_id,
			  AiqDefinition *definition,
			  const gchar *author,
			  GError **error);
/* the same within the tenant's quota of workflows (0: none);
 * AIQ_ERROR_QUOTA_EXCEEDED with *@used when it has as many already */
AiqWorkflowRow *
aiq_store_create_workflow_with_quota(AiqStore *self,
				     const gchar *tenant_id,
				     AiqDefinition *definition,
				     const gchar *author,
				     gint64 max_workflows,
				     gint64 *used,
				     GError **error);
gboolean
aiq_store_count_workflows(AiqStore *self, const gchar *tenant_id, gint64 *count, GError **error);
/* a new version when the digest differs; *@changed says whether it did */
AiqWorkflowRow *
aiq_store_update_workflow(AiqStore *self,
			  const gchar *tenant_id,
			  const gchar *id,
			  AiqDefinition *definition,
			  const gchar *author,
			  gboolean *changed,
			  GError **error);
AiqWorkflowRow *
aiq_store_get_workflow(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error);
GPtrArray *
aiq_store_list_workflows(AiqStore *self,
			 const gchar *tenant_id,
			 const AiqWorkflowFilter *filter,
			 const gchar *cursor,
			 guint limit,
			 gchar **next_cursor,
			 GError **error);
/* @version is not 0 */
gchar *
aiq_store_get_workflow_version_digest(AiqStore *self,
				      const gchar *tenant_id,
				      const gchar *workflow_id,
				      gint version,
				      GError **error);
/* @version 0 is the latest */
AiqWorkflowVersion *
aiq_store_get_workflow_version(AiqStore *self,
			       const gchar *tenant_id,
			       const gchar *workflow_id,
			       gint version,
			       GError **error);
/* the same with @triggers filled in, for the callers that show them */
AiqWorkflowVersion *
aiq_store_get_workflow_version_with_triggers(AiqStore *self,
					     const gchar *tenant_id,
					     const gchar *workflow_id,
					     gint version,
					     GError **error);
GPtrArray *
aiq_store_list_workflow_versions(AiqStore *self,
				 const gchar *tenant_id,
				 const gchar *workflow_id,
				 GError **error);
gboolean
aiq_store_set_workflow_enabled(AiqStore *self,
			       const gchar *tenant_id,
			       const gchar *id,
			       gboolean enabled,
			       GError **error);
/* soft: the row stays (deleted), its executions are kept */
gboolean
aiq_store_delete_workflow(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error);
/* enabled, undeleted workflows of a tenant that have a schedule trigger */
GPtrArray *
aiq_store_list_scheduled_workflows(AiqStore *self, const gchar *tenant_id, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqWorkflowRow, aiq_workflow_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqWorkflowVersion, aiq_workflow_version_free)

G_END_DECLS
