/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-store-executions.h"
#include "aiq-store-identity.h"

G_BEGIN_DECLS

/**
 * AiqAgentRow:
 * @status: active or disabled
 * @capacity: how many executions it runs at once, as it last said
 * @running: (nullable): an array of the execution ids it last reported
 * @last_seen_us: its last heartbeat, or 0
 */
typedef struct {
	gchar *tenant_id;
	gchar *id;
	gchar *name;
	gchar **labels;
	gchar *version;
	gchar *status;
	gint capacity;
	JsonNode *running;
	gint64 created_us;
	gint64 last_seen_us;
} AiqAgentRow;

/**
 * AiqHeartbeat:
 *
 * What an agent says in a heartbeat; the store answers which of its
 * executions are lost (no longer leased to it) and which it must cancel.
 * @capacity is -1 and @version %NULL when not said.
 */
typedef struct {
	const gchar *tenant_id;
	const gchar *agent_id;
	gint capacity;
	const gchar *version;
	JsonNode *running;
	GPtrArray *executions; /* of AiqJobRow: tenant_id and execution_id of each running one */
	gint64 now_us;
	gint64 deadline_us;
	/* out */
	GPtrArray *lost;    /* execution ids */
	GPtrArray *cancel;  /* execution ids */
	GPtrArray *renewed; /* execution ids */
} AiqHeartbeat;

void
aiq_agent_row_free(AiqAgentRow *row);
JsonNode *
aiq_agent_row_to_json(AiqAgentRow *row, gint64 now_us, gint64 offline_us);

gboolean
aiq_store_enroll_agent(AiqStore *self,
		       const gchar *tenant_id,
		       const guint8 *token_hash,
		       AiqAgentRow *agent,
		       AiqTokenRow *credential,
		       gint64 now_us,
		       gint64 max_agents,
		       gint64 *used,
		       GError **error);
gboolean
aiq_store_count_agents(AiqStore *self, const gchar *tenant_id, gint64 *count, GError **error);
AiqAgentRow *
aiq_store_get_agent(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error);
GPtrArray *
aiq_store_list_agents(AiqStore *self,
		      const gchar *tenant_id,
		      const gchar *cursor,
		      guint limit,
		      gchar **next_cursor,
		      GError **error);
gboolean
aiq_store_disable_agent(AiqStore *self,
			const gchar *tenant_id,
			const gchar *id,
			gboolean remove,
			GPtrArray **leased,
			GError **error);
gboolean
aiq_store_agent_heartbeat(AiqStore *self, AiqHeartbeat *heartbeat, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqAgentRow, aiq_agent_row_free)

G_END_DECLS
