/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Starting executions, for every way one starts: by hand or API, a retry, a
 * re-run, a schedule, a webhook.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "aiq-server.h"

G_BEGIN_DECLS

/**
 * AiqStartRequest:
 * @version: 0 for the latest
 * @inputs: (nullable): checked against the version's inputs
 * @trigger: manual, api, schedule, webhook
 * @idempotency_key: (nullable): the same key and body give the same
 *   execution; the same key with another body is AIQ_ERROR_INVALID_INPUT
 * @retry_of: (nullable): the execution this retries
 * @completed: (nullable): step id → output of steps kept from @retry_of
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
} AiqStartRequest;

/**
 * aiq_executions_start:
 * @existing: (out) (optional): set when the idempotency key gave an
 *   earlier execution
 *
 * Checks the inputs, stores the execution and its job in one transaction,
 * queues the job and wakes agents. Blocks: call from a worker thread.
 *
 * Returns: (transfer full): the execution, as the API shows it
 */
JsonNode *
aiq_executions_start(AiqServer *server,
		     const AiqStartRequest *request,
		     gboolean *existing,
		     GError **error);

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
