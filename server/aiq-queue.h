/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-definition.h"
#include "aiq-server.h"
#include "aiq-store-executions.h"

G_BEGIN_DECLS

/**
 * AiqAgentScope:
 * @tenant_id: the agent's tenant
 * @agent_id: the agent
 * @platform: a cloud worker (an agent of the platform tenant): it takes
 *   jobs of every tenant
 * @labels: (nullable): what it has; a job needs all of its labels there
 */
typedef struct {
	const gchar *tenant_id;
	const gchar *agent_id;
	gboolean platform;
	gchar **labels;
} AiqAgentScope;

/**
 * AiqQueue:
 *
 * The job queue of a server: an in-memory index of queued jobs per tenant
 * over the jobs table (the truth), fair dispatch to agents, parked
 * long-polls, and the lease expiry sweeper. Thread-safe.
 */
#define AIQ_TYPE_QUEUE (aiq_queue_get_type())
G_DECLARE_FINAL_TYPE(AiqQueue, aiq_queue, AIQ, QUEUE, GObject)

/* tier ranks, in the order they are served */
#define AIQ_TIER_RANK_ENTERPRISE 0
#define AIQ_TIER_RANK_FREE 3

/**
 * AiqQueueStats:
 * @queued: jobs queued (not leased), by the tier rank of their tenant
 * @leased: jobs leased to agents
 * @lease_expiries: leases that ran out since the server started
 */
typedef struct {
	guint queued[AIQ_TIER_RANK_FREE + 1];
	guint leased;
	guint64 lease_expiries;
} AiqQueueStats;

AiqQueue *
aiq_queue_new(AiqServer *server);
AiqQueue *
aiq_queue_get(AiqServer *server);
gint
aiq_queue_tier_rank(const gchar *tier);
gint
aiq_queue_get_tier_rank(AiqQueue *self, const gchar *tenant_id);
AiqDefinition *
aiq_queue_get_definition(AiqQueue *self,
			 const gchar *tenant_id,
			 const gchar *workflow_id,
			 gint version,
			 GError **error);

void
aiq_queue_push(AiqQueue *self, const AiqJobRow *job);
void
aiq_queue_remove(AiqQueue *self, const gchar *job_id);
void
aiq_queue_lease(AiqQueue *self,
		AiqRequest *req,
		const AiqAgentScope *scope,
		guint capacity,
		gint64 wait_ms);
gboolean
aiq_queue_heartbeat(AiqQueue *self,
		    const AiqAgentScope *scope,
		    gchar **running,
		    gint capacity,
		    const gchar *version,
		    JsonNode **reply,
		    GError **error);
gchar *
aiq_queue_lookup_tenant(AiqQueue *self, const gchar *execution_id);
void
aiq_queue_finished(AiqQueue *self, const gchar *execution_id);
gboolean
aiq_queue_take_back(AiqQueue *self, const AiqAgentScope *scope, GPtrArray *leased, GError **error);
void
aiq_queue_sweep(AiqQueue *self);
void
aiq_queue_get_stats(AiqQueue *self, AiqQueueStats *stats);

G_END_DECLS
