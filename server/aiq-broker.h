/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Live events: what changed in a tenant (executions, steps, agents), fanned
 * out to the tenant's WebSocket subscribers on every HTTP thread.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "aiq-server.h"

G_BEGIN_DECLS

/**
 * aiq_broker_publish:
 * @type: `execution.updated`, `step.updated`, `agent.updated`, …
 * @data: (transfer none): what changed
 *
 * Sends `{ "type", "tenant_id", "time", "data" }` to every subscriber of
 * @tenant_id. Thread-safe, never blocks: a subscriber that cannot keep up
 * is disconnected rather than waited for.
 */
void
aiq_broker_publish(AiqServer *server, const gchar *tenant_id, const gchar *type, JsonNode *data);
gboolean
aiq_broker_has_subscribers(AiqServer *server, const gchar *tenant_id);
void
aiq_broker_listen_cluster(AiqServer *server);

G_END_DECLS
