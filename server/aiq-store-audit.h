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

void
aiq_store_append_audit(AiqStore *self, AiqAuditRecord *record);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqAuditRecord, aiq_audit_record_free)

G_END_DECLS
