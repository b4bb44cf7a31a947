/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "aiq-agent"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aiq-agent-outbox.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-util.h"

/* the request body stays well under the server's 32 MiB */
#define AIQ_AGENT_OUTBOX_MAX_BYTES (8 * 1024 * 1024)
#define AIQ_AGENT_OUTBOX_BACKOFF_MIN_MS 250
#define AIQ_AGENT_OUTBOX_BACKOFF_MAX_MS 30000

typedef struct {
	gchar *id;
	gint64 acked;     /* the server holds the events up to here */
	gint64 last;      /* the last event appended */
	guint64 last_lsn; /* its journal position (0: committed before we started) */
	gboolean finished;
} AiqOutboxEntry;

struct _AiqAgentOutbox {
	GObject parent_instance;
	AiqEngine *engine;
	AiqJournal *journal;
	AiqClient *client;
	GHashTable *entries;   /* id → AiqOutboxEntry */
	GHashTable *abandoned; /* ids: the server will not take their events from us */
	guint64 depth;
	guint64 sent;

	/* the sender: one call at a time, reading on from @cursor */
	GCancellable *cancellable;
	gboolean in_flight;
	gboolean waiting_durable;
	gchar *cursor_id;
	gint64 cursor_seq;
	guint backoff_ms;
	guint retry_source;
	guint batch_limit;
	gulong event_handler;
};

G_DEFINE_TYPE(AiqAgentOutbox, aiq_agent_outbox, G_TYPE_OBJECT)

enum { PROP_0, PROP_DEPTH, N_PROPS };
static GParamSpec *aiq_agent_outbox_props[N_PROPS] = { NULL };

enum { SIGNAL_SENT, SIGNAL_FAILED, SIGNAL_REJECTED, SIGNAL_SYNCED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

static void
aiq_agent_outbox_send(AiqAgentOutbox *self);

static void
aiq_outbox_entry_free(gpointer data)
{
	AiqOutboxEntry *entry = data;
	g_free(entry->id);
	g_free(entry);
}

static AiqOutboxEntry *
aiq_agent_outbox_ensure_entry(AiqAgentOutbox *self, const gchar *id)
{
	AiqOutboxEntry *entry = g_hash_table_lookup(self->entries, id);
	if (entry == NULL) {
		entry = g_new0(AiqOutboxEntry, 1);
		entry->id = g_strdup(id);
		g_hash_table_insert(self->entries, entry->id, entry);
	}
	return entry;
}

static void
aiq_agent_outbox_set_depth(AiqAgentOutbox *self, guint64 depth)
{
	if (self->depth == depth)
		return;
	self->depth = depth;
	g_object_notify_by_pspec(G_OBJECT(self), aiq_agent_outbox_props[PROP_DEPTH]);
}

/* drops an entry the server has all of */
static void
aiq_agent_outbox_remove(AiqAgentOutbox *self, AiqOutboxEntry *entry, gboolean synced)
{
	g_autofree gchar *id = g_strdup(entry->id);
	if (entry->last > entry->acked)
		aiq_agent_outbox_set_depth(self,
					   self->depth - (guint64)(entry->last - entry->acked));
	g_hash_table_remove(self->entries, id);
	if (synced)
		g_signal_emit(self, signals[SIGNAL_SYNCED], 0, id);
}

static void
aiq_agent_outbox_durable_cb(gpointer user_data)
{
	AiqAgentOutbox *self = AIQ_AGENT_OUTBOX(user_data);
	self->waiting_durable = FALSE;
	aiq_agent_outbox_send(self);
}

static void
aiq_agent_outbox_wait_durable(AiqAgentOutbox *self, guint64 lsn)
{
	if (self->waiting_durable)
		return;
	self->waiting_durable = TRUE;
	aiq_journal_wait_durable(self->journal, lsn, aiq_agent_outbox_durable_cb, self);
}

/**
 * aiq_agent_outbox_track:
 * @lsn: what aiq_journal_append() returned for @event
 */
void
aiq_agent_outbox_track(AiqAgentOutbox *self, AiqEvent *event, guint64 lsn)
{
	AiqOutboxEntry *entry;

	g_return_if_fail(AIQ_IS_AGENT_OUTBOX(self));
	g_return_if_fail(event != NULL);

	/* what a lost execution still does here (its cancellation) stays local */
	if (g_hash_table_contains(self->abandoned, event->execution_id))
		return;
	entry = aiq_agent_outbox_ensure_entry(self, event->execution_id);
	if (event->seq > entry->last) {
		if (event->seq > entry->acked)
			aiq_agent_outbox_set_depth(
				self,
				self->depth +
					(guint64)(event->seq - MAX(entry->last, entry->acked)));
		entry->last = event->seq;
	}
	entry->last_lsn = lsn;
	if (event->type == AIQ_EVENT_EXECUTION_FINISHED)
		entry->finished = TRUE;
	aiq_agent_outbox_wait_durable(self, lsn);
}

static void
aiq_agent_outbox_event_cb(AiqEngine *engine, AiqEvent *event, gpointer user_data)
{
	AiqAgentOutbox *self = AIQ_AGENT_OUTBOX(user_data);
	/* emitted right after the append on this thread: the last position is its own */
	aiq_agent_outbox_track(self, event, aiq_journal_get_appended(self->journal));
}

static void
aiq_agent_outbox_schedule_retry(AiqAgentOutbox *self, AiqClientReply *reply);

static gboolean
aiq_agent_outbox_retry_cb(gpointer user_data)
{
	AiqAgentOutbox *self = AIQ_AGENT_OUTBOX(user_data);
	self->retry_source = 0;
	aiq_agent_outbox_send(self);
	return G_SOURCE_REMOVE;
}

/* @reply: (nullable): a 429 or 503 with Retry-After sets the least wait */
static void
aiq_agent_outbox_schedule_retry(AiqAgentOutbox *self, AiqClientReply *reply)
{
	gint64 retry_after_s = reply != NULL ? aiq_client_reply_get_retry_after(reply) : -1;
	guint delay;
	if (self->retry_source != 0)
		return;
	self->backoff_ms = CLAMP(self->backoff_ms * 2,
				 AIQ_AGENT_OUTBOX_BACKOFF_MIN_MS,
				 AIQ_AGENT_OUTBOX_BACKOFF_MAX_MS);
	/* jitter: somewhere in the upper half, so agents that lost the server
	 * together do not come back together */
	delay = self->backoff_ms / 2 + (guint)g_random_int_range(0, (gint)self->backoff_ms / 2 + 1);
	if (retry_after_s > 0)
		delay = MAX(delay, (guint)MIN(retry_after_s, 3600) * 1000);
	self->retry_source = g_timeout_add(delay, aiq_agent_outbox_retry_cb, self);
	g_source_set_static_name(g_main_context_find_source_by_id(NULL, self->retry_source),
				 "[aiq] outbox retry");
}

static void
aiq_agent_outbox_apply_ack(AiqAgentOutbox *self, const gchar *id, gint64 seq)
{
	AiqOutboxEntry *entry = g_hash_table_lookup(self->entries, id);
	if (entry == NULL || seq <= entry->acked)
		return;
	if (entry->last > entry->acked)
		aiq_agent_outbox_set_depth(self,
					   self->depth -
						   (guint64)(MIN(seq, entry->last) - entry->acked));
	entry->acked = seq;
	aiq_journal_ack(self->journal, id, seq);
	if (entry->finished && entry->acked >= entry->last)
		aiq_agent_outbox_remove(self, entry, TRUE);
}

static void
aiq_agent_outbox_reject(AiqAgentOutbox *self, const gchar *id, gint64 seq, const gchar *reason)
{
	AiqOutboxEntry *entry = g_hash_table_lookup(self->entries, id);
	if (entry == NULL)
		return;
	if (g_strcmp0(reason, "no such execution") == 0 ||
	    g_strcmp0(reason, "the execution is not leased to this agent") == 0) {
		g_autofree gchar *id_copy = g_strdup(id);
		aiq_agent_outbox_abandon(self, id_copy);
		g_signal_emit(self, signals[SIGNAL_REJECTED], 0, id_copy, reason);
		return;
	}
	/* resending a malformed event cannot help: count it as taken */
	g_warning("the server refused event %" G_GINT64_FORMAT " of execution %s: %s",
		  seq,
		  id,
		  reason);
	aiq_agent_outbox_apply_ack(self, id, seq);
}

static void
aiq_agent_outbox_send_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqAgentOutbox) self = AIQ_AGENT_OUTBOX(user_data);
	g_autoptr(AiqClientReply) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *obj;
	JsonObject *acks;
	JsonArray *rejected;

	root = aiq_client_request_finish(AIQ_CLIENT(source), res, &reply, &error);
	self->in_flight = FALSE;
	if (root == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		if (reply != NULL && aiq_client_reply_get_status(reply) == 413 &&
		    self->batch_limit > 1) {
			/* the server's limits are lower than ours: send less at once */
			self->batch_limit /= 2;
			aiq_agent_outbox_send(self);
			return;
		}
		g_prefix_error(&error, _("failed to send events: "));
		g_signal_emit(self, signals[SIGNAL_FAILED], 0, error, reply);
		aiq_agent_outbox_schedule_retry(self, reply);
		return;
	}
	self->backoff_ms = 0;
	obj = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
	acks = obj != NULL ? aiq_json_object_get_object(obj, "acks") : NULL;
	rejected = obj != NULL ? aiq_json_object_get_array(obj, "rejected") : NULL;
	for (guint i = 0; rejected != NULL && i < json_array_get_length(rejected); i++) {
		JsonNode *node = json_array_get_element(rejected, i);
		JsonObject *r = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
		const gchar *id = r != NULL ? aiq_json_object_get_string(r, "execution_id") : NULL;
		if (id != NULL)
			aiq_agent_outbox_reject(self,
						id,
						aiq_json_object_get_int(r, "seq", 0),
						aiq_json_object_get_string(r, "reason"));
	}
	if (acks != NULL) {
		JsonObjectIter iter;
		const gchar *id;
		JsonNode *value;
		json_object_iter_init(&iter, acks);
		while (json_object_iter_next(&iter, &id, &value)) {
			if (JSON_NODE_HOLDS_VALUE(value))
				aiq_agent_outbox_apply_ack(self, id, json_node_get_int(value));
		}
	}
	g_signal_emit(self, signals[SIGNAL_SENT], 0);
	aiq_agent_outbox_send(self);
}

static GPtrArray *
aiq_agent_outbox_read(AiqAgentOutbox *self, GError **error)
{
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(GPtrArray) wanted =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_event_unref);
	gboolean wrapped = self->cursor_id == NULL;

	for (;;) {
		events = aiq_journal_read_outbox(self->journal,
						 self->cursor_id,
						 self->cursor_seq,
						 self->batch_limit,
						 AIQ_AGENT_OUTBOX_MAX_BYTES,
						 error);
		if (events == NULL)
			return NULL;
		for (guint i = 0; i < events->len; i++) {
			AiqEvent *event = g_ptr_array_index(events, i);
			AiqOutboxEntry *entry =
				g_hash_table_lookup(self->entries, event->execution_id);
			g_free(self->cursor_id);
			self->cursor_id = g_strdup(event->execution_id);
			self->cursor_seq = event->seq;
			/* acknowledged meanwhile, or the server will not take it */
			if (entry == NULL || event->seq <= entry->acked)
				continue;
			g_ptr_array_add(wanted, aiq_event_ref(event));
		}
		if (wanted->len > 0)
			break;
		if (events->len == self->batch_limit)
			continue;
		if (wrapped)
			break;
		/* the end: start over for events appended behind the cursor */
		g_clear_pointer(&self->cursor_id, g_free);
		self->cursor_seq = 0;
		wrapped = TRUE;
	}
	return g_steal_pointer(&wanted);
}

static void
aiq_agent_outbox_send(AiqAgentOutbox *self)
{
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) body = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonArray *array;

	if (self->in_flight || self->retry_source != 0)
		return;
	if (self->client == NULL)
		return;
	events = aiq_agent_outbox_read(self, &error);
	if (events == NULL) {
		g_warning("%s", error->message);
		aiq_agent_outbox_schedule_retry(self, NULL);
		return;
	}
	if (events->len == 0)
		return;

	array = json_array_sized_new(events->len);
	for (guint i = 0; i < events->len; i++)
		json_array_add_element(array, aiq_event_to_json(g_ptr_array_index(events, i)));
	body = json_object_new();
	json_object_set_array_member(body, "events", array);
	node = aiq_json_new_object(g_steal_pointer(&body));
	self->in_flight = TRUE;
	self->sent += events->len;
	aiq_client_request_async(self->client,
				 "POST",
				 "/api/v1/agent/events",
				 node,
				 NULL,
				 NULL,
				 self->cancellable,
				 aiq_agent_outbox_send_cb,
				 g_object_ref(self));
}

void
aiq_agent_outbox_set_client(AiqAgentOutbox *self, AiqClient *client)
{
	g_return_if_fail(AIQ_IS_AGENT_OUTBOX(self));
	if (self->client == client)
		return;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	self->in_flight = FALSE;
	g_set_object(&self->client, client);
	aiq_agent_outbox_kick(self);
}

void
aiq_agent_outbox_kick(AiqAgentOutbox *self)
{
	g_return_if_fail(AIQ_IS_AGENT_OUTBOX(self));
	g_clear_handle_id(&self->retry_source, g_source_remove);
	self->backoff_ms = 0;
	aiq_agent_outbox_send(self);
}

guint64
aiq_agent_outbox_get_depth(AiqAgentOutbox *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT_OUTBOX(self), 0);
	return self->depth;
}

guint64
aiq_agent_outbox_get_sent(AiqAgentOutbox *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT_OUTBOX(self), 0);
	return self->sent;
}

GPtrArray *
aiq_agent_outbox_list_held(AiqAgentOutbox *self, guint max)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	AiqOutboxEntry *entry;

	g_return_val_if_fail(AIQ_IS_AGENT_OUTBOX(self), NULL);
	/* unfinished executions first: their leases matter most */
	for (guint pass = 0; pass < 2; pass++) {
		g_hash_table_iter_init(&iter, self->entries);
		while (ids->len < max && g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry)) {
			if (entry->finished != (pass == 1))
				continue;
			g_ptr_array_add(ids, g_strdup(entry->id));
		}
	}
	return g_steal_pointer(&ids);
}

gboolean
aiq_agent_outbox_holds(AiqAgentOutbox *self, const gchar *execution_id)
{
	g_return_val_if_fail(AIQ_IS_AGENT_OUTBOX(self), FALSE);
	return g_hash_table_contains(self->entries, execution_id);
}

/**
 * aiq_agent_outbox_abandon:
 *
 * The server no longer holds @execution_id for this agent: its events
 * leave the journal now (durably: with the next commit), and what it
 * still journals here (its cancellation) is never sent.
 */
void
aiq_agent_outbox_abandon(AiqAgentOutbox *self, const gchar *execution_id)
{
	AiqOutboxEntry *entry;
	g_return_if_fail(AIQ_IS_AGENT_OUTBOX(self));
	if (g_hash_table_contains(self->abandoned, execution_id))
		return;
	g_hash_table_add(self->abandoned, g_strdup(execution_id));
	/* events appended after this have no executions row: never sent, never
	 * resumed, removed when the journal opens */
	aiq_journal_forget(self->journal, execution_id);
	entry = g_hash_table_lookup(self->entries, execution_id);
	if (entry != NULL)
		aiq_agent_outbox_remove(self, entry, FALSE);
}

/**
 * aiq_agent_outbox_revive:
 *
 * @execution_id was leased to this agent again: track it afresh.
 */
void
aiq_agent_outbox_revive(AiqAgentOutbox *self, const gchar *execution_id)
{
	g_return_if_fail(AIQ_IS_AGENT_OUTBOX(self));
	g_hash_table_remove(self->abandoned, execution_id);
}

gboolean
aiq_agent_outbox_is_abandoned(AiqAgentOutbox *self, const gchar *execution_id)
{
	g_return_val_if_fail(AIQ_IS_AGENT_OUTBOX(self), FALSE);
	return g_hash_table_contains(self->abandoned, execution_id);
}

static gboolean
aiq_agent_outbox_load(AiqAgentOutbox *self, GError **error)
{
	g_autoptr(GPtrArray) list = aiq_journal_list_outbox(self->journal, error);
	guint64 depth = 0;
	if (list == NULL)
		return FALSE;
	for (guint i = 0; i < list->len; i++) {
		AiqJournalOutboxEntry *row = g_ptr_array_index(list, i);
		AiqOutboxEntry *entry = aiq_agent_outbox_ensure_entry(self, row->execution_id);
		entry->acked = row->acked_seq;
		entry->last = row->last_seq;
		entry->finished = row->finished;
		if (entry->last > entry->acked)
			depth += (guint64)(entry->last - entry->acked);
	}
	self->depth = depth;
	return TRUE;
}

static void
aiq_agent_outbox_dispose(GObject *object)
{
	AiqAgentOutbox *self = AIQ_AGENT_OUTBOX(object);
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_handle_id(&self->retry_source, g_source_remove);
	if (self->journal != NULL && self->waiting_durable) {
		aiq_journal_cancel_wait(self->journal, aiq_agent_outbox_durable_cb, self);
		self->waiting_durable = FALSE;
	}
	if (self->engine != NULL && self->event_handler != 0)
		g_clear_signal_handler(&self->event_handler, self->engine);
	g_clear_object(&self->client);
	g_clear_object(&self->cancellable);
	G_OBJECT_CLASS(aiq_agent_outbox_parent_class)->dispose(object);
}

static void
aiq_agent_outbox_finalize(GObject *object)
{
	AiqAgentOutbox *self = AIQ_AGENT_OUTBOX(object);
	g_hash_table_unref(self->entries);
	g_hash_table_unref(self->abandoned);
	g_free(self->cursor_id);
	g_clear_object(&self->journal);
	g_clear_object(&self->engine);
	G_OBJECT_CLASS(aiq_agent_outbox_parent_class)->finalize(object);
}

static void
aiq_agent_outbox_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	AiqAgentOutbox *self = AIQ_AGENT_OUTBOX(object);
	switch (prop_id) {
	case PROP_DEPTH:
		g_value_set_uint64(value, self->depth);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_agent_outbox_class_init(AiqAgentOutboxClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = aiq_agent_outbox_dispose;
	object_class->finalize = aiq_agent_outbox_finalize;
	object_class->get_property = aiq_agent_outbox_get_property;

	aiq_agent_outbox_props[PROP_DEPTH] = g_param_spec_uint64(
		"depth",
		NULL,
		NULL,
		0,
		G_MAXUINT64,
		0,
		G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, aiq_agent_outbox_props);

	signals[SIGNAL_SENT] = g_signal_new("sent",
					    G_TYPE_FROM_CLASS(klass),
					    G_SIGNAL_RUN_LAST,
					    0,
					    NULL,
					    NULL,
					    NULL,
					    G_TYPE_NONE,
					    0);
	/* the error, and the server's reply when one came */
	signals[SIGNAL_FAILED] = g_signal_new("failed",
					      G_TYPE_FROM_CLASS(klass),
					      G_SIGNAL_RUN_LAST,
					      0,
					      NULL,
					      NULL,
					      NULL,
					      G_TYPE_NONE,
					      2,
					      G_TYPE_ERROR,
					      AIQ_TYPE_CLIENT_REPLY);
	signals[SIGNAL_REJECTED] = g_signal_new("rejected",
						G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST,
						0,
						NULL,
						NULL,
						NULL,
						G_TYPE_NONE,
						2,
						G_TYPE_STRING,
						G_TYPE_STRING);
	signals[SIGNAL_SYNCED] = g_signal_new("synced",
					      G_TYPE_FROM_CLASS(klass),
					      G_SIGNAL_RUN_LAST,
					      0,
					      NULL,
					      NULL,
					      NULL,
					      G_TYPE_NONE,
					      1,
					      G_TYPE_STRING);
}

static void
aiq_agent_outbox_init(AiqAgentOutbox *self)
{
	self->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, aiq_outbox_entry_free);
	self->abandoned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->cancellable = g_cancellable_new();
	self->batch_limit = AIQ_AGENT_OUTBOX_BATCH;
}

/**
 * aiq_agent_outbox_new:
 * @engine: an engine with a journal
 *
 * Loads what the journal holds and follows the engine's events.
 */
AiqAgentOutbox *
aiq_agent_outbox_new(AiqEngine *engine, GError **error)
{
	g_autoptr(AiqAgentOutbox) self = NULL;

	g_return_val_if_fail(AIQ_IS_ENGINE(engine), NULL);
	g_return_val_if_fail(aiq_engine_get_journal(engine) != NULL, NULL);

	self = g_object_new(AIQ_TYPE_AGENT_OUTBOX, NULL);
	self->engine = g_object_ref(engine);
	self->journal = g_object_ref(aiq_engine_get_journal(engine));
	if (!aiq_agent_outbox_load(self, error))
		return NULL;
	self->event_handler =
		g_signal_connect(engine, "event", G_CALLBACK(aiq_agent_outbox_event_cb), self);
	return g_steal_pointer(&self);
}
