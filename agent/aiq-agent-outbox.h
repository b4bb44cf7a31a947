/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-client.h"
#include "aiq-engine.h"

G_BEGIN_DECLS

/**
 * AiqAgentOutbox:
 *
 * Sends the engine's journal to the server: committed events only, in
 * (execution id, seq) order, in batches; what the server acknowledges is
 * recorded in the journal, and a finished execution whose events are all
 * acknowledged leaves it. While no client is set, or calls fail, events
 * stay in the journal; failing calls are retried with backoff and jitter.
 *
 * Signals: `sent` (a call worked), `failed` (GError: a call failed),
 * `rejected` (execution id, reason: the server will not take this
 * execution's events from this agent), `synced` (execution id: its last
 * event is acknowledged). Property `depth`: events not acknowledged.
 */
#define AIQ_TYPE_AGENT_OUTBOX (aiq_agent_outbox_get_type())
G_DECLARE_FINAL_TYPE(AiqAgentOutbox, aiq_agent_outbox, AIQ, AGENT_OUTBOX, GObject)

#define AIQ_AGENT_OUTBOX_BATCH 1000 /* events per call, the server's limit */

AiqAgentOutbox *
aiq_agent_outbox_new(AiqEngine *engine, GError **error);
/* @client: (nullable): where to send; %NULL stops sending */
void
aiq_agent_outbox_set_client(AiqAgentOutbox *self, AiqClient *client);
/* try now instead of waiting for the backoff */
void
aiq_agent_outbox_kick(AiqAgentOutbox *self);
/* events appended to the journal without the engine (a job that cannot start) */
void
aiq_agent_outbox_track(AiqAgentOutbox *self, AiqEvent *event, guint64 lsn);
guint64
aiq_agent_outbox_get_depth(AiqAgentOutbox *self);
guint64
aiq_agent_outbox_get_sent(AiqAgentOutbox *self);
/* Returns: (transfer container): the executions not yet synced, unfinished first */
GPtrArray *
aiq_agent_outbox_list_held(AiqAgentOutbox *self, guint max);
gboolean
aiq_agent_outbox_holds(AiqAgentOutbox *self, const gchar *execution_id);
void
aiq_agent_outbox_abandon(AiqAgentOutbox *self, const gchar *execution_id);
void
aiq_agent_outbox_revive(AiqAgentOutbox *self, const gchar *execution_id);
gboolean
aiq_agent_outbox_is_abandoned(AiqAgentOutbox *self, const gchar *execution_id);

G_END_DECLS
