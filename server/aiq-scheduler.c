/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The scheduler: cron triggers fire in their time zone exactly once per
 * (workflow, trigger, fire time), across restarts too.
 *
 * Each fire starts its execution with the idempotency key
 * `schedule:TRIGGER:FIRE_TIME`, so a fire repeated after a crash (or by a
 * second server replica) finds the execution already started instead of
 * starting another; the store's unique index guarantees it. The last fire
 * handled per trigger is kept so that fires missed while the server was
 * down are found at start and follow the trigger's catch-up policy: none
 * (skipped), last (the latest one runs), all (each runs). A new schedule
 * starts from now: it does not fire for the past.
 *
 * The scheduler keeps a plan: every schedule trigger of every active
 * tenant's enabled workflows, with the time to look at it next. A pass
 * reads the store only for the triggers that are due; the plan is made
 * again from the store when the store says schedules may have changed
 * (aiq_store_get_schedules_generation()), and once a minute anyway, for
 * changes another replica made.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-cron.h"
#include "aiq-definition.h"
#include "aiq-error.h"
#include "aiq-executions.h"
#include "aiq-queue.h"
#include "aiq-routes.h"
#include "aiq-store-identity.h"
#include "aiq-store-schedules.h"
#include "aiq-store-workflows.h"

/* a fire later than this is "missed", not just late */
#define AIQ_SCHEDULER_GRACE_US (60 * G_USEC_PER_SEC)
/* at most this many fires of one trigger in one pass */
#define AIQ_SCHEDULER_MAX_FIRES 1000
#define AIQ_SCHEDULER_TICK_MS 1000
/* the plan is made again at least this often */
#define AIQ_SCHEDULER_REPLAN_US (60 * G_USEC_PER_SEC)

/* one schedule trigger in the plan */
typedef struct {
	gchar *tenant_id;
	gchar *workflow_id;
	guint trigger_index;
	AiqDefinition *definition; /* holds @trigger */
	const AiqTrigger *trigger;
	gint64 next_us; /* when to look at it again */
} AiqSchedulerEntry;

static void
aiq_scheduler_entry_free(AiqSchedulerEntry *entry)
{
	g_free(entry->tenant_id);
	g_free(entry->workflow_id);
	aiq_definition_unref(entry->definition);
	g_free(entry);
}

typedef struct {
	AiqServer *server;
	GSource *tick;
	GMutex mutex; /* one pass at a time */
	gint busy;
	GHashTable *zones; /* IANA name -> GTimeZone, under @mutex */
	GPtrArray *plan;   /* of AiqSchedulerEntry, under @mutex; NULL: none yet */
	guint plan_generation;
	gint64 planned_us; /* monotonic */
} AiqScheduler;

static void
aiq_scheduler_free(AiqScheduler *self)
{
	if (self->tick != NULL) {
		g_source_destroy(self->tick);
		g_source_unref(self->tick);
	}
	g_hash_table_unref(self->zones);
	g_clear_pointer(&self->plan, g_ptr_array_unref);
	g_mutex_clear(&self->mutex);
	g_free(self);
}

static gboolean
aiq_scheduler_fire(AiqScheduler *self,
		   const gchar *tenant_id,
		   const gchar *workflow_id,
		   guint trigger_index,
		   gint64 fire_us,
		   GError **error)
{
	g_autofree gchar *key = g_strdup_printf("schedule:%u:%" G_GINT64_FORMAT,
						trigger_index,
						fire_us / G_USEC_PER_SEC);
	g_autoptr(JsonNode) execution = NULL;
	AiqStartRequest start = {
		.tenant_id = tenant_id,
		.workflow_id = workflow_id,
		.trigger = "schedule",
		.idempotency_key = key,
	};
	gboolean existing = FALSE;

	execution = aiq_executions_start(self->server, &start, &existing, error);
	if (execution == NULL)
		return FALSE;
	if (!existing)
		g_info("schedule fired: workflow %s trigger %u at %" G_GINT64_FORMAT,
		       workflow_id,
		       trigger_index,
		       fire_us / G_USEC_PER_SEC);
	return aiq_store_record_schedule_fire(
		aiq_server_get_store(self->server),
		tenant_id,
		workflow_id,
		trigger_index,
		fire_us,
		json_object_get_string_member(json_node_get_object(execution), "id"),
		error);
}

/* a time zone by name, loaded once (each load reads the tzdata file) */
static GTimeZone *
aiq_scheduler_zone(AiqScheduler *self, const gchar *name)
{
	GTimeZone *tz;
	if (name == NULL)
		name = "UTC";
	tz = g_hash_table_lookup(self->zones, name);
	if (tz == NULL) {
		tz = aiq_timezone_new(name, NULL);
		if (tz == NULL)
			return NULL;
		g_hash_table_insert(self->zones, g_strdup(name), tz);
	}
	return tz;
}

/* fires what is due of one trigger; returns when to look at it again. A
 * new schedule goes into @starts, to be recorded with the others */
static gint64
aiq_scheduler_scan_trigger(AiqScheduler *self,
			   const gchar *tenant_id,
			   const gchar *workflow_id,
			   guint trigger_index,
			   const AiqTrigger *trigger,
			   gint64 now,
			   GArray *starts)
{
	AiqStore *store = aiq_server_get_store(self->server);
	g_autoptr(GError) error = NULL;
	GTimeZone *tz = aiq_scheduler_zone(self, trigger->timezone);
	g_autoptr(GArray) due = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 last = 0;
	gint64 look_again = G_MAXINT64;
	gint64 t;

	if (tz == NULL || trigger->cron_parsed == NULL)
		return G_MAXINT64;
	if (!aiq_store_get_schedule_last_fire(store,
					      tenant_id,
					      workflow_id,
					      trigger_index,
					      &last,
					      &error)) {
		if (!g_error_matches(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND)) {
			g_warning("schedule of %s: %s", workflow_id, error->message);
			return now;
		}
		/* a new schedule starts from now */
		{
			AiqScheduleKey key = { tenant_id, workflow_id, trigger_index };
			g_array_append_val(starts, key);
		}
		t = aiq_cron_next(trigger->cron_parsed, tz, now / G_USEC_PER_SEC);
		return t < 0 ? G_MAXINT64 : t * G_USEC_PER_SEC;
	}
	t = last / G_USEC_PER_SEC;
	while (due->len < AIQ_SCHEDULER_MAX_FIRES) {
		gint64 next = aiq_cron_next(trigger->cron_parsed, tz, t);
		gint64 next_us;
		if (next < 0)
			break;
		next_us = next * G_USEC_PER_SEC;
		if (next_us > now) {
			look_again = next_us;
			break;
		}
		g_array_append_val(due, next_us);
		t = next;
	}
	/* more fires than one pass takes: the next pass goes on */
	if (due->len == AIQ_SCHEDULER_MAX_FIRES)
		look_again = now;
	if (due->len == 0)
		return look_again;
	for (guint i = 0; i < due->len; i++) {
		gint64 fire = g_array_index(due, gint64, i);
		gboolean missed = fire < now - AIQ_SCHEDULER_GRACE_US;
		gboolean latest_missed =
			missed && (i + 1 == due->len || g_array_index(due, gint64, i + 1) >=
								now - AIQ_SCHEDULER_GRACE_US);
		if (missed && (trigger->catch_up == AIQ_CATCH_UP_NONE ||
			       (trigger->catch_up == AIQ_CATCH_UP_LAST && !latest_missed)))
			continue;
		if (!aiq_scheduler_fire(self,
					tenant_id,
					workflow_id,
					trigger_index,
					fire,
					&error)) {
			/* over the tenant's quota: this fire is not started and
			 * the schedule moves on (trying again would only be
			 * refused again, and start late if not) */
			if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_QUOTA_EXCEEDED)) {
				g_warning("schedule of workflow %s at %" G_GINT64_FORMAT
					  " not started: %s",
					  workflow_id,
					  fire / G_USEC_PER_SEC,
					  error->message);
				g_clear_error(&error);
				continue;
			}
			/* leave last_fire where it is: the next pass tries again */
			g_warning("schedule of %s at %" G_GINT64_FORMAT ": %s",
				  workflow_id,
				  fire / G_USEC_PER_SEC,
				  error->message);
			return now;
		}
	}
	/* skipped fires are handled too */
	if (!aiq_store_record_schedule_fire(store,
					    tenant_id,
					    workflow_id,
					    trigger_index,
					    g_array_index(due, gint64, due->len - 1),
					    NULL,
					    &error)) {
		g_warning("schedule of %s: %s", workflow_id, error->message);
		return now;
	}
	return look_again;
}

/* adds the schedule triggers of one tenant to @plan */
static void
aiq_scheduler_plan_tenant(AiqScheduler *self,
			  AiqTenant *tenant,
			  GHashTable *previous,
			  GPtrArray *plan)
{
	AiqQueue *queue = aiq_queue_get(self->server);
	AiqStore *store = aiq_server_get_store(self->server);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) workflows =
		aiq_store_list_scheduled_workflows(aiq_server_get_store(self->server),
						   tenant->id,
						   &error);
	if (workflows == NULL) {
		g_warning("schedules of tenant %s: %s", tenant->slug, error->message);
		return;
	}
	for (guint i = 0; i < workflows->len; i++) {
		AiqWorkflowRow *wf = g_ptr_array_index(workflows, i);
		g_autofree gchar *digest = aiq_store_get_workflow_version_digest(store,
										 tenant->id,
										 wf->id,
										 wf->latest_version,
										 NULL);
		g_autoptr(AiqDefinition) definition = NULL;
		g_autofree gchar *key = NULL;
		AiqSchedulerEntry *old;
		if (digest == NULL)
			continue;
		/* a workflow whose definition did not change keeps its entries'
		 * definition and times: a replan neither parses nor rescans it */
		key = g_strdup_printf("%s/%s", wf->id, digest);
		old = g_hash_table_lookup(previous, key);
		if (old != NULL)
			definition = aiq_definition_ref(old->definition);
		else
			/* the queue's cache, by digest: parsed once for the
			 * executions these schedules start too */
			definition = aiq_queue_get_definition(queue,
							      tenant->id,
							      wf->id,
							      wf->latest_version,
							      NULL);
		if (definition == NULL)
			continue;
		for (guint j = 0; j < aiq_definition_get_n_triggers(definition); j++) {
			const AiqTrigger *trigger = aiq_definition_get_trigger(definition, j);
			AiqSchedulerEntry *entry;
			if (trigger->kind != AIQ_TRIGGER_KIND_SCHEDULE)
				continue;
			entry = g_new0(AiqSchedulerEntry, 1);
			entry->tenant_id = g_strdup(tenant->id);
			entry->workflow_id = g_strdup(wf->id);
			entry->trigger_index = j;
			entry->definition = aiq_definition_ref(definition);
			entry->trigger = trigger;
			/* a new one is looked at in this pass */
			entry->next_us = G_MININT64;
			if (old != NULL) {
				g_autofree gchar *trigger_key = g_strdup_printf("%s/%u", key, j);
				AiqSchedulerEntry *same =
					g_hash_table_lookup(previous, trigger_key);
				if (same != NULL)
					entry->next_us = same->next_us;
			}
			g_ptr_array_add(plan, entry);
		}
	}
}

/* every schedule trigger of the active tenants */
static GPtrArray *
aiq_scheduler_plan(AiqScheduler *self, GError **error)
{
	AiqStore *store = aiq_server_get_store(self->server);
	g_autoptr(GPtrArray) plan =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_scheduler_entry_free);
	/* the current plan's entries by "workflow/digest" and
	 * "workflow/digest/trigger" */
	g_autoptr(GHashTable) previous =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree gchar *cursor = NULL;

	for (guint i = 0; self->plan != NULL && i < self->plan->len; i++) {
		AiqSchedulerEntry *entry = g_ptr_array_index(self->plan, i);
		const gchar *digest = aiq_definition_get_digest(entry->definition);
		g_hash_table_insert(previous,
				    g_strdup_printf("%s/%s", entry->workflow_id, digest),
				    entry);
		g_hash_table_insert(previous,
				    g_strdup_printf("%s/%s/%u",
						    entry->workflow_id,
						    digest,
						    entry->trigger_index),
				    entry);
	}
	do {
		g_autofree gchar *next = NULL;
		g_autoptr(GPtrArray) tenants =
			aiq_store_list_tenants(store, cursor, 200, &next, error);
		if (tenants == NULL)
			return NULL;
		for (guint i = 0; i < tenants->len; i++) {
			AiqTenant *tenant = g_ptr_array_index(tenants, i);
			if (g_strcmp0(tenant->status, "active") == 0)
				aiq_scheduler_plan_tenant(self, tenant, previous, plan);
		}
		g_free(cursor);
		cursor = g_steal_pointer(&next);
	} while (cursor != NULL);
	return g_steal_pointer(&plan);
}

/**
 * aiq_scheduler_tick:
 *
 * One pass over every active tenant's due schedules at aiq_server_now(). Runs
 * by itself every second; tests call it after moving the clock.
 */
gboolean
aiq_scheduler_tick(AiqServer *server, GError **error)
{
	AiqScheduler *self = aiq_server_get_module(server, "scheduler");
	AiqStore *store = aiq_server_get_store(server);
	gint64 now = aiq_server_now(server);
	g_autoptr(GArray) starts = NULL;
	g_autoptr(GError) start_error = NULL;
	guint generation;

	if (self == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    "the scheduler is not running");
		return FALSE;
	}
	g_mutex_lock(&self->mutex);
	generation = aiq_store_get_schedules_generation(store);
	if (self->plan == NULL || generation != self->plan_generation ||
	    g_get_monotonic_time() - self->planned_us > AIQ_SCHEDULER_REPLAN_US) {
		GPtrArray *plan = aiq_scheduler_plan(self, error);
		if (plan == NULL) {
			g_mutex_unlock(&self->mutex);
			return FALSE;
		}
		g_clear_pointer(&self->plan, g_ptr_array_unref);
		self->plan = plan;
		self->plan_generation = generation;
		self->planned_us = g_get_monotonic_time();
	}
	starts = g_array_new(FALSE, FALSE, sizeof(AiqScheduleKey));
	for (guint i = 0; i < self->plan->len; i++) {
		AiqSchedulerEntry *entry = g_ptr_array_index(self->plan, i);
		if (entry->next_us > now)
			continue;
		entry->next_us = aiq_scheduler_scan_trigger(self,
							    entry->tenant_id,
							    entry->workflow_id,
							    entry->trigger_index,
							    entry->trigger,
							    now,
							    starts);
	}
	if (!aiq_store_start_schedules(store,
				       (const AiqScheduleKey *)(gpointer)starts->data,
				       starts->len,
				       now,
				       &start_error)) {
		/* plan afresh next pass: the new schedules are looked at again */
		g_warning("new schedules: %s", start_error->message);
		g_clear_pointer(&self->plan, g_ptr_array_unref);
	}
	g_mutex_unlock(&self->mutex);
	return TRUE;
}

static void
aiq_scheduler_thread_func(GTask *task,
			  gpointer source,
			  gpointer task_data,
			  GCancellable *cancellable)
{
	AiqScheduler *self = task_data;
	g_autoptr(GError) error = NULL;
	if (!aiq_scheduler_tick(self->server, &error))
		g_warning("scheduler: %s", error->message);
	g_atomic_int_set(&self->busy, 0);
	g_task_return_boolean(task, TRUE);
}

static gboolean
aiq_scheduler_tick_cb(gpointer user_data)
{
	AiqScheduler *self = user_data;
	g_autoptr(GTask) task = NULL;
	/* store work off the main context, one pass at a time */
	if (!g_atomic_int_compare_and_exchange(&self->busy, 0, 1))
		return G_SOURCE_CONTINUE;
	task = g_task_new(NULL, NULL, NULL, NULL);
	g_task_set_task_data(task, self, NULL);
	g_task_run_in_thread(task, aiq_scheduler_thread_func);
	return G_SOURCE_CONTINUE;
}

gboolean
aiq_scheduler_start(AiqServer *server, GError **error)
{
	AiqScheduler *self = g_new0(AiqScheduler, 1);
	self->server = server;
	g_mutex_init(&self->mutex);
	self->zones = g_hash_table_new_full(g_str_hash,
					    g_str_equal,
					    g_free,
					    (GDestroyNotify)g_time_zone_unref);
	self->tick = g_timeout_source_new(AIQ_SCHEDULER_TICK_MS);
	g_source_set_callback(self->tick, aiq_scheduler_tick_cb, self, NULL);
	g_source_attach(self->tick, aiq_server_get_main_context(server));
	aiq_server_set_module(server, "scheduler", self, (GDestroyNotify)aiq_scheduler_free);
	return TRUE;
}

void
aiq_scheduler_stop(AiqServer *server)
{
	AiqScheduler *self = aiq_server_get_module(server, "scheduler");
	if (self == NULL)
		return;
	if (self->tick != NULL) {
		g_source_destroy(self->tick);
		g_clear_pointer(&self->tick, g_source_unref);
	}
	/* wait for a pass in flight */
	g_mutex_lock(&self->mutex);
	g_mutex_unlock(&self->mutex);
}
