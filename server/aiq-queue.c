/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The job queue.
 *
 * The jobs table is the truth; this is an in-memory index over it, rebuilt
 * at start: per tenant, the queued jobs grouped by the labels they need
 * (FIFO within each group), and the leased jobs by execution.
 *
 * Fairness: a cloud worker (an agent of the platform tenant) serves every
 * tenant, by deficit round robin in its smooth form: each tenant's deficit
 * is kept as a virtual time (`pass`), and the tenant whose next job ends
 * first in virtual time goes next. A job costs 8 / weight of virtual time
 * (weights: enterprise 8, premium 4, standard 2, free 1), so a tenant is
 * served in proportion to its weight and never twice in a row while an
 * equal tenant waits; a tenant that gets a job after being idle starts at
 * the current virtual time, so a backlog elsewhere holds it back by at most
 * one job. A tenant's own agents serve only that tenant, FIFO, and do not
 * count against its share.
 *
 * A lease request that finds nothing is parked (the worker thread goes
 * back to the pool) and answered by whichever thread queues a matching job,
 * or by a timeout on its HTTP thread. Leases that pass their deadline go
 * back to the queue, from a sweeper on the server's main context.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-api.h"
#include "aiq-broker.h"
#include "aiq-cluster.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-queue.h"
#include "aiq-routes.h"
#include "aiq-store-agents.h"
#include "aiq-store-identity.h"
#include "aiq-store-workflows.h"
#include "aiq-util.h"

#define AIQ_QUEUE_MODULE "queue"
#define AIQ_QUEUE_SWEEP_MS 1000
#define AIQ_QUEUE_TIER_TTL_US (10 * G_USEC_PER_SEC)
#define AIQ_QUEUE_DEFINITIONS_MAX 1024
#define AIQ_QUEUE_WAKE_THREADS 4
#define AIQ_QUEUE_LEASE_ROUNDS 8

static const gchar *const aiq_tiers[] = { "enterprise", "premium", "standard", "free" };
/* virtual time per job: 8 / weight */
static const guint64 aiq_tier_strides[] = { 1, 2, 4, 8 };
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_tiers) == G_N_ELEMENTS(aiq_tier_strides));

typedef enum {
	AIQ_QUEUE_JOB_QUEUED,
	AIQ_QUEUE_JOB_TAKEN, /* picked, its lease being written */
	AIQ_QUEUE_JOB_LEASED,
} AiqQueueJobState;

typedef struct {
	gchar *key; /* the labels, sorted, joined by newlines */
	gchar **labels;
	GQueue jobs; /* of AiqQueueJob, by order */
} AiqLabelQueue;

typedef struct {
	gchar *tenant_id;
	gchar *id;
	gchar *execution_id;
	gchar **labels;
	guint64 order; /* first come, first served; kept when it comes back */
	AiqQueueJobState state;
	AiqLabelQueue *lq; /* queued */
	GList *link;
	gchar *agent_id; /* leased */
	gint64 deadline_us;
} AiqQueueJob;

typedef struct {
	gchar *tenant_id;
	gint tier_rank;
	gint64 tier_checked_us; /* monotonic */
	GHashTable *label_queues;
	guint n_queued;
	guint64 pass;
	guint64 head_order;
	GSequenceIter *iter; /* in active while it has queued jobs */
} AiqTenantQueue;

typedef struct {
	gint refcount;
	AiqQueue *queue;
	AiqRequest *req;
	gchar *tenant_id;
	gchar *agent_id;
	gboolean platform;
	gchar **labels;
	guint capacity;
	gint64 deadline_mono;
	gboolean parked;
	guint park_id;
	GSource *timeout;
} AiqWaiter;

typedef struct {
	AiqWaiter *waiter;
	guint park_id;
} AiqWaiterTimeout;

struct _AiqQueue {
	GObject parent_instance;
	AiqServer *server;
	GMutex mutex;
	GHashTable *tenants; /* tenant id → AiqTenantQueue */
	GSequence *active;   /* AiqTenantQueue with queued jobs, next to serve first */
	GHashTable *jobs;    /* job id → AiqQueueJob (queued, taken or leased) */
	GHashTable *leased;  /* execution id → AiqQueueJob */
	GQueue waiters;      /* parked AiqWaiter */
	guint64 vtime;
	guint64 next_order;
	gboolean stopped;
	GThreadPool *wake_pool;
	GSource *sweeper;
	guint64 lease_expiries;  /* atomic */
	gint64 foreign_sweep_us; /* monotonic: the next look for other replicas' leases */
	GMutex definitions_mutex;
	GHashTable *definitions; /* digest of the canonical JSON → AiqDefinition */
};

G_DEFINE_TYPE(AiqQueue, aiq_queue, G_TYPE_OBJECT)

static void
aiq_queue_job_free(AiqQueueJob *job)
{
	g_free(job->tenant_id);
	g_free(job->id);
	g_free(job->execution_id);
	g_strfreev(job->labels);
	g_free(job->agent_id);
	g_free(job);
}

static void
aiq_label_queue_free(AiqLabelQueue *lq)
{
	g_free(lq->key);
	g_strfreev(lq->labels);
	g_queue_clear(&lq->jobs);
	g_free(lq);
}

static void
aiq_tenant_queue_free(AiqTenantQueue *tq)
{
	g_free(tq->tenant_id);
	g_hash_table_unref(tq->label_queues);
	g_free(tq);
}

static AiqWaiter *
aiq_waiter_ref(AiqWaiter *w)
{
	g_atomic_int_inc(&w->refcount);
	return w;
}

static void
aiq_waiter_unref(AiqWaiter *w)
{
	if (!g_atomic_int_dec_and_test(&w->refcount))
		return;
	g_assert(w->timeout == NULL);
	aiq_request_unref(w->req);
	g_free(w->tenant_id);
	g_free(w->agent_id);
	g_strfreev(w->labels);
	g_free(w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqWaiter, aiq_waiter_unref)

static void
aiq_waiter_timeout_free(AiqWaiterTimeout *t)
{
	aiq_waiter_unref(t->waiter);
	g_free(t);
}

/* tiers */

/**
 * aiq_queue_tier_rank:
 *
 * Returns: 0 for enterprise, 1 premium, 2 standard (and anything unknown),
 * 3 free
 */
gint
aiq_queue_tier_rank(const gchar *tier)
{
	for (guint i = 0; i < G_N_ELEMENTS(aiq_tiers); i++) {
		if (g_strcmp0(tier, aiq_tiers[i]) == 0)
			return (gint)i;
	}
	return 2;
}

static guint64
aiq_tenant_queue_stride(const AiqTenantQueue *tq)
{
	return aiq_tier_strides[CLAMP(tq->tier_rank, AIQ_TIER_RANK_ENTERPRISE, AIQ_TIER_RANK_FREE)];
}

/* labels */

static gint
aiq_strcmp_indirect(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static gchar **
aiq_labels_normalize(gchar **labels)
{
	g_autoptr(GPtrArray) sorted = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; labels != NULL && labels[i] != NULL; i++) {
		gboolean seen = FALSE;
		for (guint j = 0; j < sorted->len && !seen; j++)
			seen = g_strcmp0(g_ptr_array_index(sorted, j), labels[i]) == 0;
		if (!seen)
			g_ptr_array_add(sorted, g_strdup(labels[i]));
	}
	g_ptr_array_sort(sorted, aiq_strcmp_indirect);
	g_ptr_array_add(sorted, NULL);
	return (gchar **)g_ptr_array_free(g_steal_pointer(&sorted), FALSE);
}

/* whether an agent with @have may run a job that needs @need */
static gboolean
aiq_labels_subset(gchar **need, gchar **have)
{
	for (guint i = 0; need != NULL && need[i] != NULL; i++) {
		if (have == NULL || !g_strv_contains((const gchar *const *)have, need[i]))
			return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_waiter_can_take(AiqWaiter *w, AiqQueueJob *job)
{
	if (!w->platform && g_strcmp0(w->tenant_id, job->tenant_id) != 0)
		return FALSE;
	return aiq_labels_subset(job->labels, w->labels);
}

/* the active tenants, in the order they are served */

static gint
aiq_tenant_queue_compare(gconstpointer a, gconstpointer b, gpointer user_data)
{
	const AiqTenantQueue *x = a;
	const AiqTenantQueue *y = b;
	guint64 fx = x->pass + aiq_tenant_queue_stride(x);
	guint64 fy = y->pass + aiq_tenant_queue_stride(y);
	if (fx != fy)
		return fx < fy ? -1 : 1;
	if (x->tier_rank != y->tier_rank)
		return x->tier_rank < y->tier_rank ? -1 : 1;
	if (x->head_order != y->head_order)
		return x->head_order < y->head_order ? -1 : 1;
	return g_strcmp0(x->tenant_id, y->tenant_id);
}

/* a tenant leaves the order before its key changes, and comes back after */
static void
aiq_queue_unlink_tenant(AiqQueue *self, AiqTenantQueue *tq)
{
	if (tq->iter == NULL)
		return;
	g_sequence_remove(tq->iter);
	tq->iter = NULL;
}

static void
aiq_queue_link_tenant(AiqQueue *self, AiqTenantQueue *tq)
{
	GHashTableIter iter;
	gpointer value;
	g_assert(tq->iter == NULL);
	if (tq->n_queued == 0)
		return;
	tq->head_order = G_MAXUINT64;
	g_hash_table_iter_init(&iter, tq->label_queues);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		AiqQueueJob *head = g_queue_peek_head(&((AiqLabelQueue *)value)->jobs);
		if (head != NULL)
			tq->head_order = MIN(tq->head_order, head->order);
	}
	tq->iter = g_sequence_insert_sorted(self->active, tq, aiq_tenant_queue_compare, NULL);
}

static AiqTenantQueue *
aiq_queue_ensure_tenant(AiqQueue *self, const gchar *tenant_id, gint tier_rank)
{
	AiqTenantQueue *tq = g_hash_table_lookup(self->tenants, tenant_id);
	if (tq != NULL)
		return tq;
	tq = g_new0(AiqTenantQueue, 1);
	tq->tenant_id = g_strdup(tenant_id);
	tq->tier_rank = tier_rank;
	tq->tier_checked_us = g_get_monotonic_time();
	tq->label_queues = g_hash_table_new_full(g_str_hash,
						 g_str_equal,
						 NULL,
						 (GDestroyNotify)aiq_label_queue_free);
	tq->pass = self->vtime;
	g_hash_table_insert(self->tenants, tq->tenant_id, tq);
	return tq;
}

/* queued jobs */

/* a job the queue does not know yet, kept in @jobs; the caller queues or
 * leases it */
static AiqQueueJob *
aiq_queue_add_job_locked(AiqQueue *self, const AiqJobRow *row)
{
	AiqQueueJob *job = g_new0(AiqQueueJob, 1);
	job->tenant_id = g_strdup(row->tenant_id);
	job->id = g_strdup(row->id);
	job->execution_id = g_strdup(row->execution_id);
	job->labels = aiq_labels_normalize(row->labels);
	job->order = self->next_order++;
	g_hash_table_insert(self->jobs, job->id, job);
	return job;
}

static void
aiq_queue_enqueue_locked(AiqQueue *self, AiqQueueJob *job, gint tier_rank)
{
	AiqTenantQueue *tq = aiq_queue_ensure_tenant(self, job->tenant_id, tier_rank);
	g_autofree gchar *key = g_strjoinv("\n", job->labels);
	AiqLabelQueue *lq;
	GList *sibling;

	aiq_queue_unlink_tenant(self, tq);
	/* back from idle: no credit for the time it had nothing queued */
	if (tq->n_queued == 0)
		tq->pass = MAX(tq->pass, self->vtime);
	lq = g_hash_table_lookup(tq->label_queues, key);
	if (lq == NULL) {
		lq = g_new0(AiqLabelQueue, 1);
		lq->key = g_steal_pointer(&key);
		lq->labels = g_strdupv(job->labels);
		g_queue_init(&lq->jobs);
		g_hash_table_insert(tq->label_queues, lq->key, lq);
	}
	/* new jobs go last; a job coming back goes where its order says */
	for (sibling = lq->jobs.tail; sibling != NULL; sibling = sibling->prev) {
		if (((AiqQueueJob *)sibling->data)->order < job->order)
			break;
	}
	if (sibling == NULL) {
		g_queue_push_head(&lq->jobs, job);
		job->link = lq->jobs.head;
	} else {
		g_queue_insert_after(&lq->jobs, sibling, job);
		job->link = sibling->next;
	}
	job->lq = lq;
	job->state = AIQ_QUEUE_JOB_QUEUED;
	tq->n_queued++;
	aiq_queue_link_tenant(self, tq);
}

/* takes a queued job out of its queue; @charge counts it against the
 * tenant's share */
static void
aiq_queue_unqueue_locked(AiqQueue *self, AiqQueueJob *job, gboolean charge)
{
	AiqTenantQueue *tq = g_hash_table_lookup(self->tenants, job->tenant_id);
	AiqLabelQueue *lq = job->lq;

	g_assert(job->state == AIQ_QUEUE_JOB_QUEUED && tq != NULL);
	aiq_queue_unlink_tenant(self, tq);
	g_queue_delete_link(&lq->jobs, job->link);
	job->link = NULL;
	job->lq = NULL;
	if (g_queue_is_empty(&lq->jobs))
		g_hash_table_remove(tq->label_queues, lq->key);
	tq->n_queued--;
	if (charge) {
		self->vtime = MAX(self->vtime, tq->pass);
		tq->pass += aiq_tenant_queue_stride(tq);
	}
	aiq_queue_link_tenant(self, tq);
}

/* the oldest job of @tq that an agent with @labels may run */
static AiqQueueJob *
aiq_tenant_queue_peek(AiqTenantQueue *tq, gchar **labels)
{
	AiqQueueJob *best = NULL;
	GHashTableIter iter;
	gpointer value;
	g_hash_table_iter_init(&iter, tq->label_queues);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		AiqLabelQueue *lq = value;
		AiqQueueJob *head = g_queue_peek_head(&lq->jobs);
		if (head == NULL || !aiq_labels_subset(lq->labels, labels))
			continue;
		if (best == NULL || head->order < best->order)
			best = head;
	}
	return best;
}

static AiqQueueJob *
aiq_queue_pick_locked(AiqQueue *self, AiqWaiter *w)
{
	AiqQueueJob *job = NULL;
	if (!w->platform) {
		AiqTenantQueue *tq = g_hash_table_lookup(self->tenants, w->tenant_id);
		if (tq == NULL || tq->n_queued == 0)
			return NULL;
		job = aiq_tenant_queue_peek(tq, w->labels);
		if (job != NULL)
			aiq_queue_unqueue_locked(self, job, FALSE);
		return job;
	}
	for (GSequenceIter *iter = g_sequence_get_begin_iter(self->active);
	     !g_sequence_iter_is_end(iter);
	     iter = g_sequence_iter_next(iter)) {
		job = aiq_tenant_queue_peek(g_sequence_get(iter), w->labels);
		if (job != NULL) {
			aiq_queue_unqueue_locked(self, job, TRUE);
			return job;
		}
	}
	return NULL;
}

/* waiters */

static void
aiq_waiter_answer(AiqWaiter *w, JsonArray *jobs)
{
	JsonObject *obj = json_object_new();
	json_object_set_array_member(obj, "jobs", jobs != NULL ? jobs : json_array_new());
	aiq_request_respond_json(w->req, SOUP_STATUS_OK, aiq_json_new_object(obj));
	aiq_request_finish(w->req);
}

static void
aiq_waiter_answer_error(AiqWaiter *w, const GError *error)
{
	aiq_request_respond_gerror(w->req, error);
	aiq_request_finish(w->req);
}

static gboolean
aiq_queue_waiter_timeout_cb(gpointer user_data)
{
	AiqWaiterTimeout *t = user_data;
	AiqWaiter *w = t->waiter;
	AiqQueue *self = w->queue;
	gboolean mine = FALSE;

	g_mutex_lock(&self->mutex);
	if (w->parked && w->park_id == t->park_id) {
		g_queue_remove(&self->waiters, w);
		w->parked = FALSE;
		g_clear_pointer(&w->timeout, g_source_unref);
		mine = TRUE;
	}
	g_mutex_unlock(&self->mutex);
	if (mine) {
		aiq_waiter_answer(w, NULL);
		aiq_waiter_unref(w); /* the list's */
	}
	return G_SOURCE_REMOVE;
}

/* the waiter is answered on its HTTP thread when its time is up */
static void
aiq_queue_park_locked(AiqQueue *self, AiqWaiter *w)
{
	gint64 remaining_us = MAX(w->deadline_mono - g_get_monotonic_time(), 0);
	AiqWaiterTimeout *t = g_new0(AiqWaiterTimeout, 1);

	w->parked = TRUE;
	w->park_id++;
	g_queue_push_tail(&self->waiters, aiq_waiter_ref(w));
	t->waiter = aiq_waiter_ref(w);
	t->park_id = w->park_id;
	g_assert(w->timeout == NULL);
	w->timeout = g_timeout_source_new((guint)((remaining_us + 999) / 1000));
	g_source_set_callback(w->timeout,
			      aiq_queue_waiter_timeout_cb,
			      t,
			      (GDestroyNotify)aiq_waiter_timeout_free);
	g_source_attach(w->timeout, aiq_request_get_context(w->req));
}

/* takes a parked waiter off the list: the caller owns its answer */
static void
aiq_queue_unpark_locked(AiqQueue *self, AiqWaiter *w, GList *link)
{
	g_queue_delete_link(&self->waiters, link);
	w->parked = FALSE;
	if (w->timeout != NULL) {
		g_source_destroy(w->timeout);
		g_clear_pointer(&w->timeout, g_source_unref);
	}
}

/* a waiter for a job that just became available; the reference moves to
 * @woken */
static void
aiq_queue_wake_locked(AiqQueue *self, AiqQueueJob *job, GPtrArray *woken)
{
	for (GList *l = self->waiters.head; l != NULL; l = l->next) {
		AiqWaiter *w = l->data;
		if (!aiq_waiter_can_take(w, job))
			continue;
		aiq_queue_unpark_locked(self, w, l);
		g_ptr_array_add(woken, w);
		return;
	}
}

/* answers waiters taken off the list (with no jobs) and drops their
 * references */
static void
aiq_queue_answer_unparked(GPtrArray *unparked)
{
	for (guint i = 0; i < unparked->len; i++) {
		AiqWaiter *w = g_ptr_array_index(unparked, i);
		aiq_waiter_answer(w, NULL);
		aiq_waiter_unref(w);
	}
}

static void
aiq_queue_wake(AiqQueue *self, GPtrArray *woken)
{
	for (guint i = 0; i < woken->len; i++)
		g_thread_pool_push(self->wake_pool, g_ptr_array_index(woken, i), NULL);
	g_ptr_array_set_size(woken, 0);
}

/* leasing */

static JsonNode *
aiq_queue_lease_to_json(AiqQueue *self, AiqLease *lease, gint64 deadline_us)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqDefinition) definition = NULL;
	JsonObject *obj = json_object_new();
	JsonObject *workflow = json_object_new();
	JsonNode *node = NULL;

	json_object_set_string_member(obj, "job_id", lease->job_id);
	json_object_set_string_member(obj, "execution_id", lease->execution_id);
	json_object_set_string_member(workflow, "id", lease->workflow_id);
	json_object_set_string_member(workflow, "name", lease->workflow_name);
	json_object_set_int_member(workflow, "version", lease->version);
	json_object_set_object_member(obj, "workflow", workflow);
	definition = aiq_queue_get_definition(self,
					      lease->tenant_id,
					      lease->workflow_id,
					      lease->version,
					      &error);
	if (definition != NULL) {
		const gchar *json = aiq_definition_get_canonical_json(definition);
		node = aiq_json_parse(json, strlen(json), 2 * AIQ_JSON_MAX_DEPTH, &error);
	}
	if (node == NULL) {
		/* the agent fails the execution with a clear error */
		g_warning("execution %s: no definition: %s", lease->execution_id, error->message);
		node = json_node_new(JSON_NODE_NULL);
	}
	json_object_set_member(obj, "definition", node);
	json_object_set_member(obj,
			       "inputs",
			       lease->inputs != NULL ? json_node_ref(lease->inputs)
						     : aiq_json_new_object(json_object_new()));
	json_object_set_string_member(obj, "trigger", lease->trigger);
	if (lease->completed != NULL && JSON_NODE_HOLDS_OBJECT(lease->completed) &&
	    json_object_get_size(json_node_get_object(lease->completed)) > 0)
		json_object_set_member(obj, "completed", json_node_ref(lease->completed));
	/* an execution whose agent was lost continues after what was applied */
	if (lease->last_seq > 0)
		json_object_set_int_member(obj, "last_seq", lease->last_seq);
	aiq_api_set_time(obj, "lease_deadline", deadline_us);
	return aiq_json_new_object(obj);
}

static void
aiq_queue_tell_gone(AiqQueue *self, const gchar *job_id);

/* writes the leases of the jobs taken for @w and answers it; %FALSE when
 * none of them could be leased (cancelled meanwhile) and it should try
 * again */
static gboolean
aiq_queue_lease_taken(AiqQueue *self, AiqWaiter *w, GPtrArray *taken)
{
	AiqStore *store = aiq_server_get_store(self->server);
	g_autoptr(GPtrArray) leases =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_lease_free);
	g_autoptr(GPtrArray) woken = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	gint64 now = aiq_server_now(self->server);
	gint64 deadline = now + aiq_server_get_config(self->server)->lease_ttl_us;
	JsonArray *jobs;

	for (guint i = 0; i < taken->len; i++) {
		AiqQueueJob *job = g_ptr_array_index(taken, i);
		AiqLease *lease = g_new0(AiqLease, 1);
		lease->tenant_id = g_strdup(job->tenant_id);
		lease->job_id = g_strdup(job->id);
		lease->execution_id = g_strdup(job->execution_id);
		g_ptr_array_add(leases, lease);
	}
	if (!aiq_store_lease_jobs(store,
				  w->tenant_id,
				  w->agent_id,
				  leases,
				  now,
				  deadline,
				  &error)) {
		/* nothing was leased: the jobs go back */
		g_mutex_lock(&self->mutex);
		for (guint i = 0; i < taken->len; i++) {
			AiqQueueJob *job = g_ptr_array_index(taken, i);
			aiq_queue_enqueue_locked(self, job, -1);
			aiq_queue_wake_locked(self, job, woken);
		}
		g_mutex_unlock(&self->mutex);
		aiq_queue_wake(self, woken);
		g_prefix_error(&error, _("failed to lease jobs: "));
		aiq_waiter_answer_error(w, error);
		return TRUE;
	}

	jobs = json_array_new();
	g_mutex_lock(&self->mutex);
	for (guint i = 0; i < taken->len; i++) {
		AiqQueueJob *job = g_ptr_array_index(taken, i);
		AiqLease *lease = g_ptr_array_index(leases, i);
		if (!lease->leased) {
			/* cancelled while it was taken */
			g_hash_table_remove(self->jobs, job->id);
			continue;
		}
		job->state = AIQ_QUEUE_JOB_LEASED;
		g_free(job->agent_id);
		job->agent_id = g_strdup(w->agent_id);
		job->deadline_us = deadline;
		g_hash_table_replace(self->leased, job->execution_id, job);
	}
	g_mutex_unlock(&self->mutex);
	/* the other replicas stop offering them */
	for (guint i = 0; i < leases->len; i++) {
		AiqLease *lease = g_ptr_array_index(leases, i);
		if (lease->leased)
			aiq_queue_tell_gone(self, lease->job_id);
	}

	for (guint i = 0; i < leases->len; i++) {
		AiqLease *lease = g_ptr_array_index(leases, i);
		if (lease->leased)
			json_array_add_element(jobs,
					       aiq_queue_lease_to_json(self, lease, deadline));
	}
	if (json_array_get_length(jobs) == 0) {
		json_array_unref(jobs);
		return FALSE;
	}
	aiq_waiter_answer(w, jobs);
	return TRUE;
}

/* gives @w what it may take now, or parks it until its deadline */
static void
aiq_queue_serve(AiqQueue *self, AiqWaiter *w)
{
	for (guint round = 0; round < AIQ_QUEUE_LEASE_ROUNDS; round++) {
		g_autoptr(GPtrArray) taken = g_ptr_array_new();
		g_mutex_lock(&self->mutex);
		if (self->stopped) {
			g_mutex_unlock(&self->mutex);
			break;
		}
		while (taken->len < w->capacity) {
			AiqQueueJob *job = aiq_queue_pick_locked(self, w);
			if (job == NULL)
				break;
			job->state = AIQ_QUEUE_JOB_TAKEN;
			g_ptr_array_add(taken, job);
		}
		if (taken->len == 0) {
			/* checked and parked under one lock: no job is missed */
			if (g_get_monotonic_time() < w->deadline_mono) {
				aiq_queue_park_locked(self, w);
				g_mutex_unlock(&self->mutex);
				return;
			}
			g_mutex_unlock(&self->mutex);
			break;
		}
		g_mutex_unlock(&self->mutex);
		if (aiq_queue_lease_taken(self, w, taken))
			return;
	}
	aiq_waiter_answer(w, NULL);
}

static void
aiq_queue_wake_func(gpointer data, gpointer user_data)
{
	g_autoptr(AiqWaiter) w = data;
	aiq_queue_serve(AIQ_QUEUE(user_data), w);
}

/**
 * aiq_queue_lease:
 * @req: the agent's lease request; answered here or later, with
 *   aiq_request_finish()
 * @capacity: the most jobs to lease
 * @wait_ms: how long to wait for a job when there is none
 *
 * Leases up to @capacity jobs the agent may run, fairly across tenants for
 * a cloud worker, or parks the request until a job comes or the wait ends
 * (then `{"jobs": []}`).
 */
void
aiq_queue_lease(AiqQueue *self,
		AiqRequest *req,
		const AiqAgentScope *scope,
		guint capacity,
		gint64 wait_ms)
{
	g_autoptr(AiqWaiter) w = g_new0(AiqWaiter, 1);
	gint64 long_poll_ms = aiq_server_get_config(self->server)->long_poll_us / 1000;

	g_return_if_fail(AIQ_IS_QUEUE(self));
	w->refcount = 1;
	w->queue = self;
	w->req = aiq_request_ref(req);
	w->tenant_id = g_strdup(scope->tenant_id);
	w->agent_id = g_strdup(scope->agent_id);
	w->platform = scope->platform;
	w->labels = g_strdupv(scope->labels);
	w->capacity = capacity;
	w->deadline_mono = g_get_monotonic_time() + CLAMP(wait_ms, 0, long_poll_ms) * 1000;
	if (capacity == 0) {
		aiq_waiter_answer(w, NULL);
		return;
	}
	aiq_queue_serve(self, w);
}

static void
aiq_queue_push_local(AiqQueue *self, const AiqJobRow *row)
{
	g_autoptr(GPtrArray) woken = g_ptr_array_new();
	AiqQueueJob *job;

	g_mutex_lock(&self->mutex);
	if (g_hash_table_contains(self->jobs, row->id)) {
		g_mutex_unlock(&self->mutex);
		return;
	}
	job = aiq_queue_add_job_locked(self, row);
	aiq_queue_enqueue_locked(self, job, row->tier_rank);
	aiq_queue_wake_locked(self, job, woken);
	g_mutex_unlock(&self->mutex);
	aiq_queue_wake(self, woken);
}

/* the other replicas queue it too */
static void
aiq_queue_tell_pushed(AiqQueue *self, const AiqJobRow *row)
{
	AiqCluster *cluster = aiq_cluster_get(self->server);
	g_autoptr(JsonObject) body = NULL;
	if (cluster == NULL)
		return;
	body = json_object_new();
	json_object_set_string_member(body, "tenant_id", row->tenant_id);
	json_object_set_string_member(body, "id", row->id);
	json_object_set_string_member(body, "execution_id", row->execution_id);
	json_object_set_member(body, "labels", aiq_api_strv_node(row->labels));
	json_object_set_int_member(body, "tier_rank", row->tier_rank);
	aiq_cluster_send(cluster, "job", body);
}

static void
aiq_queue_tell_gone(AiqQueue *self, const gchar *job_id)
{
	AiqCluster *cluster = aiq_cluster_get(self->server);
	g_autoptr(JsonObject) body = NULL;
	if (cluster == NULL)
		return;
	body = json_object_new();
	json_object_set_string_member(body, "id", job_id);
	aiq_cluster_send(cluster, "job.gone", body);
}

/**
 * aiq_queue_push:
 * @job: a job just stored as queued
 *
 * Queues a job and wakes an agent waiting for one like it, here and on
 * the other replicas.
 */
void
aiq_queue_push(AiqQueue *self, const AiqJobRow *row)
{
	g_return_if_fail(AIQ_IS_QUEUE(self));
	aiq_queue_push_local(self, row);
	aiq_queue_tell_pushed(self, row);
}

static void
aiq_queue_remove_local(AiqQueue *self, const gchar *job_id)
{
	AiqQueueJob *job;
	g_mutex_lock(&self->mutex);
	job = g_hash_table_lookup(self->jobs, job_id);
	/* a job being leased is left to its lease, which will not find it */
	if (job != NULL && job->state == AIQ_QUEUE_JOB_QUEUED) {
		aiq_queue_unqueue_locked(self, job, FALSE);
		g_hash_table_remove(self->jobs, job_id);
	}
	g_mutex_unlock(&self->mutex);
}

/**
 * aiq_queue_remove:
 *
 * Forgets a job that is no longer queued (cancelled), here and on the
 * other replicas.
 */
void
aiq_queue_remove(AiqQueue *self, const gchar *job_id)
{
	g_return_if_fail(AIQ_IS_QUEUE(self));
	aiq_queue_remove_local(self, job_id);
	aiq_queue_tell_gone(self, job_id);
}

/**
 * aiq_queue_lookup_tenant:
 *
 * Returns: (transfer full) (nullable): the tenant of a leased execution
 */
gchar *
aiq_queue_lookup_tenant(AiqQueue *self, const gchar *execution_id)
{
	AiqQueueJob *job;
	gchar *tenant_id = NULL;
	g_mutex_lock(&self->mutex);
	job = g_hash_table_lookup(self->leased, execution_id);
	if (job != NULL)
		tenant_id = g_strdup(job->tenant_id);
	g_mutex_unlock(&self->mutex);
	return tenant_id;
}

/**
 * aiq_queue_finished:
 *
 * Forgets the job of an execution that finished.
 */
void
aiq_queue_finished(AiqQueue *self, const gchar *execution_id)
{
	AiqQueueJob *job;
	g_mutex_lock(&self->mutex);
	job = g_hash_table_lookup(self->leased, execution_id);
	if (job != NULL) {
		g_hash_table_remove(self->leased, execution_id);
		g_hash_table_remove(self->jobs, job->id);
	}
	g_mutex_unlock(&self->mutex);
}

/* a leased job as aiq_store_requeue_jobs() takes it */
static AiqJobRow *
aiq_queue_leased_row_new(const gchar *tenant_id,
			 const gchar *id,
			 const gchar *execution_id,
			 const gchar *agent_id)
{
	AiqJobRow *row = g_new0(AiqJobRow, 1);
	row->tenant_id = g_strdup(tenant_id);
	row->id = g_strdup(id);
	row->execution_id = g_strdup(execution_id);
	row->agent_id = g_strdup(agent_id);
	row->state = g_strdup("leased");
	return row;
}

/* whether aiq_store_requeue_jobs() gave the job back: queued again, or
 * cancelled */
static gboolean
aiq_queue_row_given_back(const AiqJobRow *row)
{
	return g_strcmp0(row->state, "queued") == 0 || g_strcmp0(row->state, "cancelled") == 0;
}

/* jobs the store gave back (state queued) return to the queue; those it
 * cancelled are forgotten */
static void
aiq_queue_requeued(AiqQueue *self, GPtrArray *rows)
{
	g_autoptr(GPtrArray) woken = g_ptr_array_new();
	AiqStore *store = aiq_server_get_store(self->server);

	g_mutex_lock(&self->mutex);
	for (guint i = 0; i < rows->len; i++) {
		AiqJobRow *row = g_ptr_array_index(rows, i);
		AiqQueueJob *job = g_hash_table_lookup(self->jobs, row->id);
		if (!aiq_queue_row_given_back(row))
			continue;
		if (job != NULL && job->state == AIQ_QUEUE_JOB_LEASED) {
			g_hash_table_remove(self->leased, job->execution_id);
			g_clear_pointer(&job->agent_id, g_free);
			job->deadline_us = 0;
		}
		if (g_strcmp0(row->state, "cancelled") == 0) {
			if (job != NULL && job->state != AIQ_QUEUE_JOB_QUEUED)
				g_hash_table_remove(self->jobs, row->id);
			continue;
		}
		if (job == NULL)
			job = aiq_queue_add_job_locked(self, row);
		else if (job->state == AIQ_QUEUE_JOB_QUEUED)
			continue;
		aiq_queue_enqueue_locked(self, job, row->tier_rank);
		aiq_queue_wake_locked(self, job, woken);
	}
	g_mutex_unlock(&self->mutex);
	aiq_queue_wake(self, woken);
	for (guint i = 0; i < rows->len; i++) {
		AiqJobRow *row = g_ptr_array_index(rows, i);
		if (g_strcmp0(row->state, "queued") == 0)
			aiq_queue_tell_pushed(self, row);
	}

	/* lease_expiries and agent_id changed */
	for (guint i = 0; i < rows->len; i++) {
		AiqJobRow *row = g_ptr_array_index(rows, i);
		g_autoptr(AiqExecutionRow) execution = NULL;
		g_autoptr(JsonNode) summary = NULL;
		if (!aiq_queue_row_given_back(row))
			continue;
		execution = aiq_store_get_execution(store, row->tenant_id, row->execution_id, NULL);
		if (execution == NULL)
			continue;
		summary = aiq_execution_row_to_json(execution, NULL);
		aiq_broker_publish(self->server, row->tenant_id, "execution.updated", summary);
	}
}

static void
aiq_queue_forget_leased(AiqQueue *self, const gchar *job_id)
{
	AiqQueueJob *job;
	g_mutex_lock(&self->mutex);
	job = g_hash_table_lookup(self->jobs, job_id);
	if (job != NULL && job->state == AIQ_QUEUE_JOB_LEASED) {
		g_hash_table_remove(self->leased, job->execution_id);
		g_hash_table_remove(self->jobs, job_id);
	}
	g_mutex_unlock(&self->mutex);
}

/* PostgreSQL: the leases that ran out in the store, whoever granted them
 * (a replica that died cannot sweep its own); every few seconds */
static void
aiq_queue_sweep_store(AiqQueue *self, gint64 now)
{
	AiqStore *store = aiq_server_get_store(self->server);
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	/* a little after the deadline, so that the replica that granted it
	 * (which knows it) usually goes first */
	rows = aiq_store_list_expired_leases(store, now - 2 * G_USEC_PER_SEC, 500, &error);
	if (rows == NULL) {
		g_debug("leases of other replicas: %s", error->message);
		return;
	}
	if (rows->len == 0)
		return;
	for (guint i = 0; i < rows->len; i++) {
		AiqJobRow *row = g_ptr_array_index(rows, i);
		g_free(row->state);
		row->state = g_strdup("leased");
	}
	if (!aiq_store_requeue_jobs(store, rows, TRUE, now, &error)) {
		g_warning("failed to give back expired leases: %s", error->message);
		return;
	}
	for (guint i = 0; i < rows->len; i++) {
		AiqJobRow *row = g_ptr_array_index(rows, i);
		if (!aiq_queue_row_given_back(row))
			continue;
		g_info("execution %s: the lease of agent %s ran out (granted elsewhere); %s",
		       row->execution_id,
		       row->agent_id,
		       g_strcmp0(row->state, "queued") == 0 ? "queued again" : "cancelled");
		row->tier_rank = aiq_queue_get_tier_rank(self, row->tenant_id);
		__atomic_fetch_add(&self->lease_expiries, 1, __ATOMIC_RELAXED);
	}
	aiq_queue_requeued(self, rows);
}

/**
 * aiq_queue_sweep:
 *
 * Gives back to the queue the jobs whose lease ran out (their agent is
 * presumed lost); an execution with a cancel request is cancelled instead.
 */
void
aiq_queue_sweep(AiqQueue *self)
{
	g_autoptr(GPtrArray) rows =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_job_row_free);
	g_autoptr(GError) error = NULL;
	gint64 now = aiq_server_now(self->server);
	GHashTableIter iter;
	gpointer value;

	g_mutex_lock(&self->mutex);
	g_hash_table_iter_init(&iter, self->leased);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		AiqQueueJob *job = value;
		if (job->deadline_us > now)
			continue;
		g_ptr_array_add(rows,
				aiq_queue_leased_row_new(job->tenant_id,
							 job->id,
							 job->execution_id,
							 job->agent_id));
	}
	g_mutex_unlock(&self->mutex);
	if (aiq_cluster_get(self->server) != NULL &&
	    g_get_monotonic_time() >= self->foreign_sweep_us) {
		self->foreign_sweep_us = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
		aiq_queue_sweep_store(self, now);
	}
	if (rows->len == 0)
		return;
	if (!aiq_store_requeue_jobs(aiq_server_get_store(self->server), rows, TRUE, now, &error)) {
		g_warning("failed to give back expired leases: %s", error->message);
		return;
	}
	for (guint i = 0; i < rows->len; i++) {
		AiqJobRow *row = g_ptr_array_index(rows, i);
		/* renewed through another replica (the agent talks to it now):
		 * that replica, or the store's sweep, looks after it */
		if (g_strcmp0(row->state, "leased") == 0 && aiq_cluster_get(self->server) != NULL)
			aiq_queue_forget_leased(self, row->id);
		if (g_strcmp0(row->state, "leased") != 0)
			g_info("execution %s: the lease of agent %s ran out; %s",
			       row->execution_id,
			       row->agent_id,
			       g_strcmp0(row->state, "queued") == 0 ? "queued again" : "cancelled");
		if (aiq_queue_row_given_back(row))
			__atomic_fetch_add(&self->lease_expiries, 1, __ATOMIC_RELAXED);
	}
	aiq_queue_requeued(self, rows);
}

/**
 * aiq_queue_get_stats:
 *
 * How many jobs are queued per tier and leased, for the metrics; walks
 * the tenants that have jobs queued, not the jobs.
 */
void
aiq_queue_get_stats(AiqQueue *self, AiqQueueStats *stats)
{
	g_return_if_fail(AIQ_IS_QUEUE(self));
	g_return_if_fail(stats != NULL);
	memset(stats, 0, sizeof(*stats));
	g_mutex_lock(&self->mutex);
	for (GSequenceIter *it = g_sequence_get_begin_iter(self->active);
	     !g_sequence_iter_is_end(it);
	     it = g_sequence_iter_next(it)) {
		AiqTenantQueue *tq = g_sequence_get(it);
		stats->queued[CLAMP(tq->tier_rank, AIQ_TIER_RANK_ENTERPRISE, AIQ_TIER_RANK_FREE)] +=
			tq->n_queued;
	}
	stats->leased = g_hash_table_size(self->leased);
	g_mutex_unlock(&self->mutex);
	stats->lease_expiries = __atomic_load_n(&self->lease_expiries, __ATOMIC_RELAXED);
}

static gboolean
aiq_queue_sweep_cb(gpointer user_data)
{
	aiq_queue_sweep(AIQ_QUEUE(user_data));
	return G_SOURCE_CONTINUE;
}

/**
 * aiq_queue_take_back:
 * @leased: (element-type AiqJobRow): jobs leased to the agent that the
 *   store found (in its tenant)
 *
 * After an agent is disabled or deleted: its leased jobs, in every tenant
 * for a cloud worker, go back to the queue at once, and its parked lease
 * requests are answered.
 */
gboolean
aiq_queue_take_back(AiqQueue *self, const AiqAgentScope *scope, GPtrArray *leased, GError **error)
{
	g_autoptr(GPtrArray) rows =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_job_row_free);
	g_autoptr(GPtrArray) parked = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter iter;
	gpointer value;

	for (guint i = 0; i < leased->len; i++) {
		AiqJobRow *src = g_ptr_array_index(leased, i);
		AiqJobRow *row = aiq_queue_leased_row_new(src->tenant_id,
							  src->id,
							  src->execution_id,
							  scope->agent_id);
		g_ptr_array_add(rows, row);
		g_hash_table_add(seen, row->id);
	}
	g_mutex_lock(&self->mutex);
	g_hash_table_iter_init(&iter, self->leased);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		AiqQueueJob *job = value;
		if (g_strcmp0(job->agent_id, scope->agent_id) != 0 ||
		    g_hash_table_contains(seen, job->id))
			continue;
		g_ptr_array_add(rows,
				aiq_queue_leased_row_new(job->tenant_id,
							 job->id,
							 job->execution_id,
							 job->agent_id));
	}
	for (GList *l = self->waiters.head; l != NULL;) {
		GList *next = l->next;
		AiqWaiter *w = l->data;
		if (g_strcmp0(w->agent_id, scope->agent_id) == 0) {
			aiq_queue_unpark_locked(self, w, l);
			g_ptr_array_add(parked, w);
		}
		l = next;
	}
	g_mutex_unlock(&self->mutex);
	aiq_queue_answer_unparked(parked);
	if (!aiq_store_requeue_jobs(aiq_server_get_store(self->server),
				    rows,
				    FALSE,
				    aiq_server_now(self->server),
				    error))
		return FALSE;
	aiq_queue_requeued(self, rows);
	return TRUE;
}

static gint
aiq_job_row_compare_execution(gconstpointer a, gconstpointer b)
{
	const AiqJobRow *x = *(const AiqJobRow *const *)a;
	const AiqJobRow *y = *(const AiqJobRow *const *)b;
	gint cmp = g_strcmp0(x->tenant_id, y->tenant_id);
	return cmp != 0 ? cmp : g_strcmp0(x->execution_id, y->execution_id);
}

/**
 * aiq_queue_heartbeat:
 * @running: (nullable): the executions the agent runs
 * @capacity: what it can run, or -1 when not said
 * @reply: (out): `{lease_deadline, cancel, lost, heartbeat_ms}`
 *
 * Renews the leases of what the agent runs and tells it what to cancel and
 * what it lost (leased to another agent since, or cancelled).
 */
gboolean
aiq_queue_heartbeat(AiqQueue *self,
		    const AiqAgentScope *scope,
		    gchar **running,
		    gint capacity,
		    const gchar *version,
		    JsonNode **reply,
		    GError **error)
{
	AiqServerConfig *config = aiq_server_get_config(self->server);
	g_autoptr(GPtrArray) executions =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_job_row_free);
	g_autoptr(GPtrArray) lost = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) cancel = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) renewed = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(JsonNode) running_node = aiq_api_strv_node(running);
	gint64 now = aiq_server_now(self->server);
	AiqHeartbeat hb = {
		.tenant_id = scope->tenant_id,
		.agent_id = scope->agent_id,
		.capacity = capacity,
		.version = version,
		.running = running_node,
		.executions = executions,
		.now_us = now,
		.deadline_us = now + config->lease_ttl_us,
		.lost = lost,
		.cancel = cancel,
		.renewed = renewed,
	};
	JsonObject *obj;

	g_mutex_lock(&self->mutex);
	for (guint i = 0; running != NULL && running[i] != NULL; i++) {
		AiqJobRow *row;
		const gchar *tenant_id = scope->tenant_id;
		/* a cloud worker's executions are found by the queue */
		g_autofree gchar *found = NULL;
		if (scope->platform) {
			AiqQueueJob *job = g_hash_table_lookup(self->leased, running[i]);
			/* leased through another replica: the store knows */
			if (job == NULL && aiq_cluster_get(self->server) != NULL) {
				g_mutex_unlock(&self->mutex);
				found = aiq_store_find_leased_tenant(
					aiq_server_get_store(self->server),
					scope->agent_id,
					running[i]);
				g_mutex_lock(&self->mutex);
			}
			if (job == NULL && found == NULL) {
				g_ptr_array_add(lost, g_strdup(running[i]));
				continue;
			}
			tenant_id = job != NULL ? job->tenant_id : found;
		}
		row = g_new0(AiqJobRow, 1);
		row->tenant_id = g_strdup(tenant_id);
		row->execution_id = g_strdup(running[i]);
		g_ptr_array_add(executions, row);
	}
	g_mutex_unlock(&self->mutex);

	/* rows locked in one order by every write (event ingest marks jobs
	 * done in the same order): fewer deadlocks on PostgreSQL */
	g_ptr_array_sort(executions, aiq_job_row_compare_execution);
	if (!aiq_store_agent_heartbeat(aiq_server_get_store(self->server), &hb, error))
		return FALSE;

	g_mutex_lock(&self->mutex);
	for (guint i = 0; i < renewed->len; i++) {
		AiqQueueJob *job = g_hash_table_lookup(self->leased, g_ptr_array_index(renewed, i));
		if (job != NULL && g_strcmp0(job->agent_id, scope->agent_id) == 0)
			job->deadline_us = MAX(job->deadline_us, hb.deadline_us);
	}
	g_mutex_unlock(&self->mutex);

	obj = json_object_new();
	aiq_api_set_time(obj, "lease_deadline", hb.deadline_us);
	g_ptr_array_add(cancel, NULL);
	g_ptr_array_add(lost, NULL);
	json_object_set_member(obj, "cancel", aiq_api_strv_node((gchar **)cancel->pdata));
	json_object_set_member(obj, "lost", aiq_api_strv_node((gchar **)lost->pdata));
	json_object_set_int_member(obj, "heartbeat_ms", config->lease_ttl_us / 3000);
	*reply = aiq_json_new_object(obj);
	return TRUE;
}

/* tenants and definitions, cached */

/**
 * aiq_queue_get_tier_rank:
 *
 * Returns: the rank of the tenant's tier, from a cache that follows changes
 * within seconds
 */
gint
aiq_queue_get_tier_rank(AiqQueue *self, const gchar *tenant_id)
{
	g_autoptr(AiqTenant) tenant = NULL;
	AiqTenantQueue *tq;
	gint64 now = g_get_monotonic_time();
	gint rank;

	g_mutex_lock(&self->mutex);
	tq = g_hash_table_lookup(self->tenants, tenant_id);
	if (tq != NULL && now - tq->tier_checked_us < AIQ_QUEUE_TIER_TTL_US) {
		rank = tq->tier_rank;
		g_mutex_unlock(&self->mutex);
		return rank;
	}
	g_mutex_unlock(&self->mutex);

	tenant = aiq_store_get_tenant(aiq_server_get_store(self->server), tenant_id, NULL);
	rank = aiq_queue_tier_rank(tenant != NULL ? tenant->tier : NULL);
	g_mutex_lock(&self->mutex);
	tq = aiq_queue_ensure_tenant(self, tenant_id, rank);
	if (tq->tier_rank != rank) {
		aiq_queue_unlink_tenant(self, tq);
		tq->tier_rank = rank;
		aiq_queue_link_tenant(self, tq);
	}
	tq->tier_checked_us = now;
	g_mutex_unlock(&self->mutex);
	return rank;
}

/**
 * aiq_queue_get_definition:
 * @version: a version number (not 0)
 *
 * Returns: (transfer full): the parsed definition of a workflow version;
 * versions never change, so they are cached, by content
 */
AiqDefinition *
aiq_queue_get_definition(AiqQueue *self,
			 const gchar *tenant_id,
			 const gchar *workflow_id,
			 gint version,
			 GError **error)
{
	g_autoptr(AiqWorkflowVersion) row = NULL;
	g_autoptr(AiqProblems) problems = NULL;
	g_autofree gchar *digest = NULL;
	AiqDefinition *definition;

	g_return_val_if_fail(version > 0, NULL);
	/* by content: tenants that run the same definition share one parse;
	 * the digest alone is a small read */
	digest = aiq_store_get_workflow_version_digest(aiq_server_get_store(self->server),
						       tenant_id,
						       workflow_id,
						       version,
						       error);
	if (digest == NULL)
		return NULL;
	g_mutex_lock(&self->definitions_mutex);
	definition = g_hash_table_lookup(self->definitions, digest);
	if (definition != NULL)
		aiq_definition_ref(definition);
	g_mutex_unlock(&self->definitions_mutex);
	if (definition != NULL)
		return definition;

	row = aiq_store_get_workflow_version(aiq_server_get_store(self->server),
					     tenant_id,
					     workflow_id,
					     version,
					     error);
	if (row == NULL)
		return NULL;
	problems = aiq_problems_new();
	definition = aiq_definition_new_from_data(row->definition,
						  strlen(row->definition),
						  NULL,
						  problems,
						  error);
	if (definition == NULL) {
		g_prefix_error(error, _("version %d of the workflow: "), version);
		return NULL;
	}
	g_mutex_lock(&self->definitions_mutex);
	if (g_hash_table_size(self->definitions) >= AIQ_QUEUE_DEFINITIONS_MAX)
		g_hash_table_remove_all(self->definitions);
	g_hash_table_replace(self->definitions,
			     g_steal_pointer(&digest),
			     aiq_definition_ref(definition));
	g_mutex_unlock(&self->definitions_mutex);
	return definition;
}

/* start and stop */

/* one tenant's queued and leased jobs, from the jobs table */
static gboolean
aiq_queue_load_tenant(AiqQueue *self,
		      AiqTenant *tenant,
		      guint *n_queued,
		      guint *n_leased,
		      GError **error)
{
	AiqStore *store = aiq_server_get_store(self->server);
	gint rank = aiq_queue_tier_rank(tenant->tier);
	g_autoptr(GPtrArray) queued = aiq_store_list_jobs(store, tenant->id, "queued", error);
	g_autoptr(GPtrArray) leased = NULL;

	if (queued == NULL)
		return FALSE;
	leased = aiq_store_list_jobs(store, tenant->id, "leased", error);
	if (leased == NULL)
		return FALSE;
	g_mutex_lock(&self->mutex);
	aiq_queue_ensure_tenant(self, tenant->id, rank)->tier_rank = rank;
	g_mutex_unlock(&self->mutex);
	for (guint i = 0; i < queued->len; i++) {
		AiqJobRow *row = g_ptr_array_index(queued, i);
		row->tier_rank = rank;
		aiq_queue_push_local(self, row);
	}
	g_mutex_lock(&self->mutex);
	for (guint i = 0; i < leased->len; i++) {
		AiqJobRow *row = g_ptr_array_index(leased, i);
		AiqQueueJob *job;
		if (g_hash_table_contains(self->jobs, row->id))
			continue;
		job = aiq_queue_add_job_locked(self, row);
		job->state = AIQ_QUEUE_JOB_LEASED;
		job->agent_id = g_strdup(row->agent_id);
		job->deadline_us = row->lease_deadline_us;
		g_hash_table_insert(self->leased, job->execution_id, job);
	}
	g_mutex_unlock(&self->mutex);
	*n_queued += queued->len;
	*n_leased += leased->len;
	return TRUE;
}

static gboolean
aiq_queue_load(AiqQueue *self, GError **error)
{
	AiqStore *store = aiq_server_get_store(self->server);
	g_autofree gchar *cursor = NULL;
	guint n_queued = 0, n_leased = 0;

	do {
		g_autofree gchar *next = NULL;
		g_autoptr(GPtrArray) tenants =
			aiq_store_list_tenants(store, cursor, 500, &next, error);
		if (tenants == NULL)
			return FALSE;
		for (guint i = 0; i < tenants->len; i++) {
			if (!aiq_queue_load_tenant(self,
						   g_ptr_array_index(tenants, i),
						   &n_queued,
						   &n_leased,
						   error))
				return FALSE;
		}
		g_free(cursor);
		cursor = g_steal_pointer(&next);
	} while (cursor != NULL);
	g_info("queue: %u jobs queued, %u leased", n_queued, n_leased);
	return TRUE;
}

/**
 * aiq_queue_get:
 *
 * Returns: (transfer none): the server's queue
 */
AiqQueue *
aiq_queue_get(AiqServer *server)
{
	AiqQueue *self = aiq_server_get_module(server, AIQ_QUEUE_MODULE);
	g_return_val_if_fail(self != NULL, NULL);
	return self;
}

/**
 * aiq_queue_new:
 *
 * Makes the server's queue (the server keeps it as its "queue" module).
 */
AiqQueue *
aiq_queue_new(AiqServer *server)
{
	AiqQueue *self = g_object_new(AIQ_TYPE_QUEUE, NULL);
	self->server = server;
	self->wake_pool =
		g_thread_pool_new(aiq_queue_wake_func, self, AIQ_QUEUE_WAKE_THREADS, FALSE, NULL);
	aiq_server_set_module(server, AIQ_QUEUE_MODULE, self, g_object_unref);
	return self;
}

/* another replica queued a job (or gave one back) */
static void
aiq_queue_heard_job(AiqServer *server, JsonObject *body, gpointer user_data)
{
	AiqQueue *self = AIQ_QUEUE(user_data);
	g_autoptr(AiqJobRow) row = g_new0(AiqJobRow, 1);
	JsonNode *labels = json_object_get_member(body, "labels");
	row->tenant_id =
		g_strdup(json_object_get_string_member_with_default(body, "tenant_id", NULL));
	row->id = g_strdup(json_object_get_string_member_with_default(body, "id", NULL));
	row->execution_id =
		g_strdup(json_object_get_string_member_with_default(body, "execution_id", NULL));
	if (row->tenant_id == NULL || row->id == NULL || row->execution_id == NULL)
		return;
	if (labels != NULL && JSON_NODE_HOLDS_ARRAY(labels)) {
		g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
		JsonArray *array = json_node_get_array(labels);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *elem = json_array_get_element(array, i);
			if (aiq_json_is_string(elem))
				g_strv_builder_add(builder, json_node_get_string(elem));
		}
		row->labels = g_strv_builder_end(builder);
	}
	row->tier_rank = (gint)CLAMP(json_object_get_int_member_with_default(body, "tier_rank", 2),
				     AIQ_TIER_RANK_ENTERPRISE,
				     AIQ_TIER_RANK_FREE);
	row->state = g_strdup("queued");
	/* a job this replica leased or gave back itself stays as it is */
	aiq_queue_push_local(self, row);
}

/* another replica leased a job or cancelled it */
static void
aiq_queue_heard_job_gone(AiqServer *server, JsonObject *body, gpointer user_data)
{
	const gchar *id = json_object_get_string_member_with_default(body, "id", NULL);
	if (id != NULL)
		aiq_queue_remove_local(AIQ_QUEUE(user_data), id);
}

/* after messages may have been lost: every job queued in the store is
 * queued here (the ones leased elsewhere meanwhile are dropped when their
 * lease is tried) */
static void
aiq_queue_heard_resync(AiqServer *server, JsonObject *body, gpointer user_data)
{
	AiqQueue *self = AIQ_QUEUE(user_data);
	AiqStore *store = aiq_server_get_store(server);
	g_autofree gchar *cursor = NULL;
	guint n = 0;
	do {
		g_autofree gchar *next = NULL;
		g_autoptr(GPtrArray) tenants =
			aiq_store_list_tenants(store, cursor, 500, &next, NULL);
		if (tenants == NULL)
			return;
		for (guint i = 0; i < tenants->len; i++) {
			AiqTenant *tenant = g_ptr_array_index(tenants, i);
			g_autoptr(GPtrArray) queued =
				aiq_store_list_jobs(store, tenant->id, "queued", NULL);
			gint rank = aiq_queue_get_tier_rank(self, tenant->id);
			for (guint j = 0; queued != NULL && j < queued->len; j++) {
				AiqJobRow *row = g_ptr_array_index(queued, j);
				row->tier_rank = rank;
				aiq_queue_push_local(self, row);
				n++;
			}
		}
		g_free(cursor);
		cursor = g_steal_pointer(&next);
	} while (cursor != NULL);
	g_debug("queue: resynced, %u jobs queued in the store", n);
}

gboolean
aiq_queue_start(AiqServer *server, GError **error)
{
	AiqQueue *self = aiq_queue_get(server);
	AiqCluster *cluster = aiq_cluster_get(server);
	if (cluster != NULL) {
		aiq_cluster_set_handler(cluster, "job", aiq_queue_heard_job, self);
		aiq_cluster_set_handler(cluster, "job.gone", aiq_queue_heard_job_gone, self);
		aiq_cluster_set_handler(cluster, "resync", aiq_queue_heard_resync, self);
	}
	if (!aiq_queue_load(self, error)) {
		g_prefix_error(error, _("failed to load the job queue: "));
		return FALSE;
	}
	self->sweeper = g_timeout_source_new(AIQ_QUEUE_SWEEP_MS);
	g_source_set_callback(self->sweeper, aiq_queue_sweep_cb, self, NULL);
	g_source_attach(self->sweeper, aiq_server_get_main_context(server));
	return TRUE;
}

/* answers every parked lease request (with no jobs) and stops the sweeper */
void
aiq_queue_stop(AiqServer *server)
{
	AiqQueue *self = aiq_server_get_module(server, AIQ_QUEUE_MODULE);
	g_autoptr(GPtrArray) parked = g_ptr_array_new();

	if (self == NULL)
		return;
	g_mutex_lock(&self->mutex);
	self->stopped = TRUE;
	while (!g_queue_is_empty(&self->waiters)) {
		AiqWaiter *w = g_queue_peek_head(&self->waiters);
		aiq_queue_unpark_locked(self, w, self->waiters.head);
		g_ptr_array_add(parked, w);
	}
	g_mutex_unlock(&self->mutex);
	aiq_queue_answer_unparked(parked);
	if (self->wake_pool != NULL)
		g_thread_pool_free(g_steal_pointer(&self->wake_pool), FALSE, TRUE);
	if (self->sweeper != NULL) {
		g_source_destroy(self->sweeper);
		g_clear_pointer(&self->sweeper, g_source_unref);
	}
}

static void
aiq_queue_finalize(GObject *object)
{
	AiqQueue *self = AIQ_QUEUE(object);
	if (self->wake_pool != NULL)
		g_thread_pool_free(self->wake_pool, TRUE, TRUE);
	if (self->sweeper != NULL) {
		g_source_destroy(self->sweeper);
		g_source_unref(self->sweeper);
	}
	g_sequence_free(self->active);
	g_hash_table_unref(self->leased);
	g_hash_table_unref(self->tenants);
	g_hash_table_unref(self->jobs);
	g_hash_table_unref(self->definitions);
	g_mutex_clear(&self->mutex);
	g_mutex_clear(&self->definitions_mutex);
	G_OBJECT_CLASS(aiq_queue_parent_class)->finalize(object);
}

static void
aiq_queue_class_init(AiqQueueClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = aiq_queue_finalize;
}

static void
aiq_queue_init(AiqQueue *self)
{
	g_mutex_init(&self->mutex);
	g_mutex_init(&self->definitions_mutex);
	self->tenants = g_hash_table_new_full(g_str_hash,
					      g_str_equal,
					      NULL,
					      (GDestroyNotify)aiq_tenant_queue_free);
	self->active = g_sequence_new(NULL);
	self->jobs = g_hash_table_new_full(g_str_hash,
					   g_str_equal,
					   NULL,
					   (GDestroyNotify)aiq_queue_job_free);
	self->leased = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&self->waiters);
	self->definitions = g_hash_table_new_full(g_str_hash,
						  g_str_equal,
						  g_free,
						  (GDestroyNotify)aiq_definition_unref);
}
