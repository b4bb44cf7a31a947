/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-event.h"
#include "aiq-execution.h"
#include "aiq-limits.h"
#include "aiq-store.h"

G_BEGIN_DECLS

/* step outputs over this size are kept as their size only */
#define AIQ_STORE_OUTPUT_CAP (1024 * 1024)
/* attempts recorded per step; later ones are counted, not listed */
#define AIQ_STORE_ATTEMPT_LOG_MAX 1000

/**
 * AiqExecutionRow:
 * @inputs: (nullable): an object, after defaults
 * @outputs: (nullable): the workflow's outputs once finished
 * @agent_id: (nullable): the agent that holds (or last held) its job
 * @last_seq: the last event applied
 * @lease_expiries: how often its job's lease expired (from the job)
 */
typedef struct {
	gchar *tenant_id;
	gchar *id;
	gchar *workflow_id;
	gchar *workflow_name;
	gint version;
	gchar *status;
	gchar *trigger;
	JsonNode *inputs;
	gchar *idempotency_key;
	gchar *request_digest;
	gchar *retry_of;
	gint64 created_us;
	gint64 started_us;
	gint64 finished_us;
	gchar *error_code;
	gchar *error_message;
	JsonNode *outputs;
	gchar *agent_id;
	gint64 last_seq;
	gboolean cancel_requested;
	guint lease_expiries;
} AiqExecutionRow;

/**
 * AiqStepRow:
 * @output: (nullable): %NULL when over %AIQ_STORE_OUTPUT_CAP (see @output_size)
 * @attempt_log: (nullable): an array of attempts in the API form
 * @raw: the event ingest's form: @output and @attempt_log stay %NULL and
 *   their stored JSON text is in @output_json and @attempt_log_json, so
 *   that the store's one writer does not parse and write them again
 */
typedef struct {
	gchar *step_id;
	gint position;
	gchar *status;
	guint attempts;
	gint64 started_us;
	gint64 finished_us;
	JsonNode *output;
	gint64 output_size;
	gchar *error_code;
	gchar *error_message;
	gchar *skip_reason;
	JsonNode *attempt_log;
	gboolean raw;
	gchar *output_json;
	gchar *attempt_log_json;
} AiqStepRow;

/**
 * AiqJobRow:
 * @labels: what an agent must have to run it (the workflow's runs_on)
 * @tier_rank: 0 enterprise … 3 free
 * @state: queued, leased, done or cancelled
 * @completed: (nullable): step id → output kept from an earlier execution
 */
typedef struct {
	gchar *tenant_id;
	gchar *id;
	gchar *execution_id;
	gchar **labels;
	gint tier_rank;
	gchar *state;
	gchar *agent_id;
	gint64 lease_deadline_us;
	gint64 enqueued_us;
	gint64 leased_at_us;
	guint expiries;
	JsonNode *completed;
} AiqJobRow;

/**
 * AiqExecutionFilter:
 * @since_us: created at or after, or 0
 * @until_us: created before, or 0
 */
typedef struct {
	const gchar *workflow_id;
	const gchar *status;
	const gchar *trigger;
	gint64 since_us;
	gint64 until_us;
} AiqExecutionFilter;

/**
 * AiqStatsBucket:
 * @start_us: the bucket is [@start_us, @end_us)
 * @counts: the executions created in it, by their status now
 * @queue_depth: the executions queued at its end: created before it, and
 *   neither started nor finished before it
 */
typedef struct {
	gint64 start_us;
	gint64 end_us;
	guint64 counts[AIQ_EXECUTION_STATUS_LAST];
	guint64 queue_depth;
} AiqStatsBucket;

/**
 * AiqStatsWorkflow:
 * @name: its name now, or the one its latest execution in the period had
 *   (a deleted workflow's)
 * @counts: its executions created in the period, by their status now
 * @p50_us: the median duration (started to finished) of those that
 *   finished after starting, by nearest rank; -1 when none did
 * @p95_us: the 95th percentile, the same way
 */
typedef struct {
	gchar *workflow_id;
	gchar *name;
	guint64 total;
	guint64 counts[AIQ_EXECUTION_STATUS_LAST];
	gint64 p50_us;
	gint64 p95_us;
} AiqStatsWorkflow;

/**
 * AiqExecutionStats:
 * @buckets: (element-type AiqStatsBucket): [from, to) in steps of the
 *   bucket's width, the first starting at from; the last ends at to
 * @counts: every execution created in [from, to), by its status now
 * @workflows: (element-type AiqStatsWorkflow): by count, most first
 * @queued: executions queued now, whenever created
 * @running: executions running now
 */
typedef struct {
	gint64 from_us;
	gint64 to_us;
	gint64 bucket_us;
	GArray *buckets;
	guint64 total;
	guint64 counts[AIQ_EXECUTION_STATUS_LAST];
	GPtrArray *workflows;
	guint64 queued;
	guint64 running;
} AiqExecutionStats;

/**
 * AiqExecutionQuota:
 * @day: the UTC day of the start, in days since 1970-01-01: the row of
 *   usage_daily that counts it
 * @per_day: the most executions the tenant may start in @day, or 0 for no
 *   bound
 * @concurrent: the most executions it may have queued or running at once,
 *   or 0 for no bound
 * @exceeded: (out): with %AIQ_ERROR_QUOTA_EXCEEDED, which of the two
 *   (%AIQ_LIMIT_EXECUTIONS_PER_DAY or %AIQ_LIMIT_CONCURRENT_EXECUTIONS)
 * @used: (out): with %AIQ_ERROR_QUOTA_EXCEEDED, the tenant's use of it
 *
 * The quotas of a start, checked in the store's write transaction, where
 * starts are serialised: the counts are exact.
 */
typedef struct {
	gint64 day;
	gint64 per_day;
	gint64 concurrent;
	AiqLimit exceeded;
	gint64 used;
} AiqExecutionQuota;

typedef enum {
	AIQ_CANCEL_DONE,      /* it was queued: cancelled at once */
	AIQ_CANCEL_REQUESTED, /* an agent runs it: the agent is told */
} AiqCancelOutcome;

/**
 * AiqLease:
 *
 * One job to lease: the caller fills the ids; the store says whether the
 * job was still queued (@leased) and gives what the agent needs to run it.
 */
typedef struct {
	gchar *tenant_id;
	gchar *job_id;
	gchar *execution_id;
	gboolean leased;
	gchar *workflow_id;
	gchar *workflow_name;
	gint version;
	gchar *trigger;
	JsonNode *inputs;
	JsonNode *completed;
	gint64 last_seq;
} AiqLease;

/**
 * AiqIngestGroup:
 *
 * The events of one execution in a batch from an agent, and what became
 * of them.
 */
typedef struct {
	gchar *tenant_id;
	gchar *execution_id;
	GPtrArray *events; /* of AiqEvent, by seq */
	GPtrArray *data;   /* (nullable) each event's data as JSON text, made
			    * before the writer thread so that it need not */
	/* out */
	gchar *reason;          /* refused: why */
	gint64 last_seq;        /* applied */
	AiqExecutionRow *after; /* when anything was applied */
	GPtrArray *steps;       /* of AiqStepRow that changed */
	gboolean finished;
} AiqIngestGroup;

void
aiq_execution_row_free(AiqExecutionRow *row);
void
aiq_step_row_free(AiqStepRow *row);
void
aiq_job_row_free(AiqJobRow *row);
void
aiq_lease_free(AiqLease *lease);
void
aiq_ingest_group_free(AiqIngestGroup *group);
void
aiq_stats_workflow_free(AiqStatsWorkflow *workflow);
void
aiq_execution_stats_free(AiqExecutionStats *stats);
gboolean
aiq_execution_status_is_final_str(const gchar *status);

/* the API form: with @steps the whole execution, without it the summary */
JsonNode *
aiq_execution_row_to_json(AiqExecutionRow *row, GPtrArray *steps);
JsonNode *
aiq_step_row_to_json(AiqStepRow *row);

gboolean
aiq_store_create_execution(AiqStore *self,
			   AiqExecutionRow *execution,
			   AiqJobRow *job,
			   const gchar *const *step_ids,
			   AiqExecutionQuota *quota,
			   gchar **existing_id,
			   GError **error);
gboolean
aiq_store_get_execution_usage(AiqStore *self,
			      const gchar *tenant_id,
			      gint64 day,
			      gint64 *executions,
			      gint64 *active,
			      GError **error);
AiqExecutionRow *
aiq_store_get_execution(AiqStore *self, const gchar *tenant_id, const gchar *id, GError **error);
GPtrArray *
aiq_store_list_execution_steps(AiqStore *self,
			       const gchar *tenant_id,
			       const gchar *execution_id,
			       GError **error);
GPtrArray *
aiq_store_list_executions(AiqStore *self,
			  const gchar *tenant_id,
			  const AiqExecutionFilter *filter,
			  const gchar *cursor,
			  guint offset,
			  guint limit,
			  gint64 *total,
			  gchar **next_cursor,
			  GError **error);
AiqExecutionStats *
aiq_store_get_execution_stats(AiqStore *self,
			      const gchar *tenant_id,
			      gint64 from_us,
			      gint64 to_us,
			      gint64 bucket_us,
			      guint max_workflows,
			      GError **error);
GPtrArray *
aiq_store_list_execution_events(AiqStore *self,
				const gchar *tenant_id,
				const gchar *execution_id,
				gint64 after_seq,
				guint limit,
				GError **error);
JsonObject *
aiq_store_get_completed_outputs(AiqStore *self,
				const gchar *tenant_id,
				const gchar *execution_id,
				GError **error);
gboolean
aiq_store_cancel_execution(AiqStore *self,
			   const gchar *tenant_id,
			   const gchar *id,
			   gint64 now_us,
			   AiqCancelOutcome *outcome,
			   gchar **job_id,
			   GError **error);

/* the job queue */
GPtrArray *
aiq_store_list_jobs(AiqStore *self, const gchar *tenant_id, const gchar *state, GError **error);
gboolean
aiq_store_lease_jobs(AiqStore *self,
		     const gchar *agent_tenant_id,
		     const gchar *agent_id,
		     GPtrArray *leases,
		     gint64 now_us,
		     gint64 deadline_us,
		     GError **error);
GPtrArray *
aiq_store_list_expired_leases(AiqStore *self, gint64 now_us, guint limit, GError **error);
gchar *
aiq_store_find_leased_tenant(AiqStore *self, const gchar *agent_id, const gchar *execution_id);
gboolean
aiq_store_requeue_jobs(AiqStore *self,
		       GPtrArray *jobs,
		       gboolean expired,
		       gint64 now_us,
		       GError **error);
gboolean
aiq_store_ingest_events(AiqStore *self, const gchar *agent_id, GPtrArray *groups, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqExecutionRow, aiq_execution_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqStepRow, aiq_step_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqJobRow, aiq_job_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqLease, aiq_lease_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqIngestGroup, aiq_ingest_group_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqStatsWorkflow, aiq_stats_workflow_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqExecutionStats, aiq_execution_stats_free)

G_END_DECLS
