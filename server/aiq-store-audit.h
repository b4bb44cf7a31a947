/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-store.h"

G_BEGIN_DECLS

/**
 * AiqAuditRecord:
 * @tenant_id: whose log holds it: the tenant acted in, or the platform
 *   tenant for platform-level actions
 * @actor_type: `user`, `api_key`, `agent`, `webhook`, `anonymous`, `system`
 * @action: e.g. `workflow.create`, `auth.login`
 * @outcome: `success`, `failure` (the request was refused or failed) or
 *   `denied` (not allowed)
 * @status: the HTTP status answered, 0 for actions outside a request
 * @details: (nullable): more, never a secret
 *
 * One entry of the append-only audit log.
 */
typedef struct {
	gchar *tenant_id;
	gchar *id;
	gint64 time_us;
	gchar *actor_type;
	gchar *actor_id;
	gchar *actor_name;
	gchar *action;
	gchar *target_type;
	gchar *target_id;
	gchar *request_id;
	gchar *source;
	gchar *outcome;
	gint status;
	JsonNode *details;
} AiqAuditRecord;

void
aiq_audit_record_free(AiqAuditRecord *record);

/**
 * AiqAuditFilter:
 * @action: (nullable): this action, or every action starting with it when
 *   it ends with a dot (`workflow.`)
 * @actor: (nullable): records whose actor has this id or name
 * @target: (nullable): records whose target has this id
 * @outcome: (nullable): `success`, `failure` or `denied`
 * @since_us: records at or after this time; 0 for no bound
 * @until_us: records before this time; 0 for no bound
 */
typedef struct {
	const gchar *action;
	const gchar *actor;
	const gchar *target;
	const gchar *outcome;
	gint64 since_us;
	gint64 until_us;
} AiqAuditFilter;

void
aiq_store_append_audit(AiqStore *self, AiqAuditRecord *record);
GPtrArray *
aiq_store_list_audit(AiqStore *self,
		     const gchar *tenant_id,
		     const AiqAuditFilter *filter,
		     const gchar *cursor,
		     guint limit,
		     gchar **next_cursor,
		     GError **error);
gboolean
aiq_store_prune_audit(AiqStore *self,
		      gint64 before_us,
		      guint batch,
		      guint64 *n_deleted,
		      GError **error);
JsonObject *
aiq_audit_record_to_json(const AiqAuditRecord *record);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqAuditRecord, aiq_audit_record_free)

G_END_DECLS
