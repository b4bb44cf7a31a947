/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Starting executions, for every way one starts: by hand or API, a retry, a
 * re-run, a schedule, a webhook.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "aiq-limits.h"
#include "aiq-server.h"

G_BEGIN_DECLS

/**
 * AiqQuotaUse:
 * @quota: the quota that refused a start
 * @limit: the tenant's limit of it
 * @used: the tenant's use of it when refused
 */
typedef struct {
	AiqLimit quota;
	gint64 limit;
	gint64 used;
} AiqQuotaUse;

/**
 * AiqStartRequest:
 * @version: 0 for the latest
 * @inputs: (nullable): checked against the version's inputs
 * @trigger: manual, api, schedule, webhook
 * @idempotency_key: (nullable): the same key and body give the same
 *   execution; the same key with another body is AIQ_ERROR_INVALID_INPUT
 * @retry_of: (nullable): the execution this retries
 * @completed: (nullable): step id → output of steps kept from @retry_of
 * @quota: (out) (optional): with %AIQ_ERROR_QUOTA_EXCEEDED, the quota that
 *   refused the start, for aiq_executions_respond_error()
 */
typedef struct {
	const gchar *tenant_id;
	const gchar *workflow_id;
	gint version;
	JsonObject *inputs;
	const gchar *trigger;
	const gchar *idempotency_key;
	const gchar *retry_of;
	JsonObject *completed;
	AiqQuotaUse *quota;
} AiqStartRequest;

/**
 * aiq_executions_start:
 * @existing: (out) (optional): set when the idempotency key gave an
 *   earlier execution
 *
 * Checks the inputs, stores the execution and its job in one transaction,
 * queues the job and wakes agents. Blocks: call from a worker thread.
 *
 * The tenant's quotas of executions a day and at once are checked in the
 * same transaction: over one, nothing is stored and the error is
 * %AIQ_ERROR_QUOTA_EXCEEDED (with @request's @quota filled in). An
 * idempotent replay is neither refused nor counted again.
 *
 * Returns: (transfer full): the execution, as the API shows it
 */
JsonNode *
aiq_executions_start(AiqServer *server,
		     const AiqStartRequest *request,
		     gboolean *existing,
		     GError **error);

gboolean
aiq_executions_check_payload(AiqRequest *req, const gchar *tenant_id);
void
aiq_executions_respond_error(AiqRequest *req, const GError *error, const AiqQuotaUse *quota);

/**
 * aiq_executions_get:
 *
 * Returns: (transfer full): the execution, as the API shows it, or %NULL
 * with AIQ_ERROR_NOT_FOUND
 */
JsonNode *
aiq_executions_get(AiqServer *server,
		   const gchar *tenant_id,
		   const gchar *execution_id,
		   GError **error);

G_END_DECLS
