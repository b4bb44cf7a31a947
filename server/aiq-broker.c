/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The event broker: what changed in a tenant, fanned out to the tenant's
 * WebSocket subscribers on every HTTP thread.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-api.h"
#include "aiq-broker-private.h"
#include "aiq-cluster.h"
#include "aiq-json.h"

/*
 * A subscriber is one WebSocket connection, bound to the GMainContext of the
 * HTTP thread it lives on: its SoupWebsocketConnection is only touched there.
 *
 * aiq_broker_publish() (any thread) writes the message once and appends it to
 * the bounded queue of every subscriber of the tenant, waking the
 * subscriber's context with an idle source when it was not already draining.
 * The context hands messages to libsoup only while the socket is writable, so
 * libsoup's own outgoing queue (unbounded) holds a frame or two at most and
 * the bound here is the real one. A subscriber whose queue is full has fallen
 * behind: it is closed with 1008, never waited for.
 *
 * Locks: the broker's mutex guards the tenant table and is held for a whole
 * fan-out, so every subscriber of a tenant sees events in the same order; a
 * subscriber's mutex guards its queue and its flags. The order is broker,
 * then subscriber; neither is held while calling into libsoup.
 */

/* messages handed to libsoup per dispatch, so one busy subscriber does not
 * hold up the other connections of its thread */
#define AIQ_BROKER_DRAIN_BATCH 64

/* libsoup truncates a close reason to 123 bytes */
#define AIQ_BROKER_MAX_CLOSE_REASON 123

typedef struct {
	gint refcount;
	AiqBroker *broker;
	gchar *tenant_id;
	GMainContext *context;

	/* only touched on @context (or once the HTTP threads have stopped) */
	SoupWebsocketConnection *conn;
	GSource *writable;

	/* under @mutex */
	GMutex mutex;
	GQueue queue; /* of GBytes */
	gsize queued_bytes;
	GSource *wakeup;    /* an idle attached to @context */
	gboolean draining;  /* a drain is due or waits for the socket */
	gushort close_code; /* to be closed, with @close_reason */
	gchar *close_reason;
	gboolean detached; /* closed: takes no more messages */
} AiqSubscriber;

struct _AiqBroker {
	GMutex mutex;
	GHashTable *tenants; /* tenant id -> GPtrArray of AiqSubscriber */
	gboolean shutdown;
};

static void
aiq_subscriber_drain(AiqSubscriber *sub);

static AiqSubscriber *
aiq_subscriber_ref(AiqSubscriber *sub)
{
	g_atomic_int_inc(&sub->refcount);
	return sub;
}

static void
aiq_subscriber_unref(gpointer data)
{
	AiqSubscriber *sub = data;
	if (!g_atomic_int_dec_and_test(&sub->refcount))
		return;
	g_assert(sub->wakeup == NULL);
	g_assert(sub->writable == NULL);
	g_assert(sub->conn == NULL);
	g_queue_clear_full(&sub->queue, (GDestroyNotify)g_bytes_unref);
	g_mutex_clear(&sub->mutex);
	g_main_context_unref(sub->context);
	g_free(sub->close_reason);
	g_free(sub->tenant_id);
	g_free(sub);
}

static void
aiq_subscriber_closure_notify(gpointer data, GClosure *closure)
{
	aiq_subscriber_unref(data);
}

static gboolean
aiq_subscriber_wakeup_cb(gpointer user_data)
{
	AiqSubscriber *sub = user_data;
	g_mutex_lock(&sub->mutex);
	g_clear_pointer(&sub->wakeup, g_source_unref);
	g_mutex_unlock(&sub->mutex);
	aiq_subscriber_drain(sub);
	return G_SOURCE_REMOVE;
}

/* schedules a drain on the subscriber's own context: an idle source, never
 * g_main_context_invoke(), which would run it here when this thread owns
 * that context */
static void
aiq_subscriber_wakeup_locked(AiqSubscriber *sub)
{
	if (sub->wakeup != NULL || sub->detached)
		return;
	sub->wakeup = g_idle_source_new();
	g_source_set_priority(sub->wakeup, G_PRIORITY_DEFAULT);
	g_source_set_static_name(sub->wakeup, "AiqBroker drain");
	g_source_set_callback(sub->wakeup,
			      aiq_subscriber_wakeup_cb,
			      aiq_subscriber_ref(sub),
			      aiq_subscriber_unref);
	g_source_attach(sub->wakeup, sub->context);
}

static void
aiq_subscriber_clear_queue_locked(AiqSubscriber *sub)
{
	g_queue_clear_full(&sub->queue, (GDestroyNotify)g_bytes_unref);
	g_queue_init(&sub->queue);
	sub->queued_bytes = 0;
}

/* the first request wins; the subscriber takes no more messages */
static void
aiq_subscriber_request_close_locked(AiqSubscriber *sub, gushort code, const gchar *reason)
{
	const gchar *end = reason + strlen(reason);
	if (sub->close_code != 0 || sub->detached)
		return;
	/* cut on a character boundary: the peer checks the reason is UTF-8 */
	while (end - reason > AIQ_BROKER_MAX_CLOSE_REASON)
		end = g_utf8_find_prev_char(reason, end);
	sub->close_code = code;
	sub->close_reason = g_strndup(reason, end - reason);
	aiq_subscriber_clear_queue_locked(sub);
	aiq_subscriber_wakeup_locked(sub);
}

static void
aiq_subscriber_push(AiqSubscriber *sub, GBytes *message)
{
	gsize size = g_bytes_get_size(message);
	g_mutex_lock(&sub->mutex);
	if (sub->close_code != 0 || sub->detached) {
		g_mutex_unlock(&sub->mutex);
		return;
	}
	if (sub->queue.length >= AIQ_BROKER_MAX_QUEUE ||
	    sub->queued_bytes + size > AIQ_BROKER_MAX_QUEUE_BYTES) {
		g_debug("events: a subscriber of tenant %s fell behind with %u events waiting",
			sub->tenant_id,
			sub->queue.length);
		aiq_subscriber_request_close_locked(
			sub,
			SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
			_("the client did not keep up with the events; reconnect and reload"));
		g_mutex_unlock(&sub->mutex);
		return;
	}
	g_queue_push_tail(&sub->queue, g_bytes_ref(message));
	sub->queued_bytes += size;
	if (!sub->draining) {
		sub->draining = TRUE;
		aiq_subscriber_wakeup_locked(sub);
	}
	g_mutex_unlock(&sub->mutex);
}

static gboolean
aiq_subscriber_writable_cb(GObject *stream, gpointer user_data)
{
	AiqSubscriber *sub = user_data;
	g_clear_pointer(&sub->writable, g_source_unref);
	aiq_subscriber_drain(sub);
	return G_SOURCE_REMOVE;
}

static void
aiq_subscriber_stop_writable(AiqSubscriber *sub)
{
	if (sub->writable == NULL)
		return;
	g_source_destroy(sub->writable);
	g_clear_pointer(&sub->writable, g_source_unref);
}

/* on the subscriber's context: queue -> connection, while the socket takes it */
static void
aiq_subscriber_drain(AiqSubscriber *sub)
{
	GPollableOutputStream *output;

	if (sub->conn == NULL)
		return;
	output = G_POLLABLE_OUTPUT_STREAM(
		g_io_stream_get_output_stream(soup_websocket_connection_get_io_stream(sub->conn)));
	for (guint sent = 0;; sent++) {
		g_autoptr(GBytes) message = NULL;
		g_autofree gchar *close_reason = NULL;
		gushort close_code;

		if (sub->conn == NULL)
			return;
		if (soup_websocket_connection_get_state(sub->conn) != SOUP_WEBSOCKET_STATE_OPEN) {
			/* closing: "closed" detaches it */
			g_mutex_lock(&sub->mutex);
			aiq_subscriber_clear_queue_locked(sub);
			sub->draining = FALSE;
			g_mutex_unlock(&sub->mutex);
			aiq_subscriber_stop_writable(sub);
			return;
		}
		g_mutex_lock(&sub->mutex);
		close_code = sub->close_code;
		if (close_code != 0) {
			close_reason = g_steal_pointer(&sub->close_reason);
			sub->draining = FALSE;
			g_mutex_unlock(&sub->mutex);
			aiq_subscriber_stop_writable(sub);
			soup_websocket_connection_close(sub->conn, close_code, close_reason);
			return;
		}
		if (g_queue_is_empty(&sub->queue)) {
			sub->draining = FALSE;
			g_mutex_unlock(&sub->mutex);
			return;
		}
		if (sent == AIQ_BROKER_DRAIN_BATCH) {
			/* the rest on the next dispatch, after the thread's other work */
			aiq_subscriber_wakeup_locked(sub);
			g_mutex_unlock(&sub->mutex);
			return;
		}
		g_mutex_unlock(&sub->mutex);

		/* waiting for the socket already */
		if (sub->writable != NULL)
			return;
		if (!g_pollable_output_stream_is_writable(output)) {
			sub->writable = g_pollable_output_stream_create_source(output, NULL);
			g_source_set_static_name(sub->writable, "AiqBroker writable");
			g_source_set_callback(sub->writable,
					      G_SOURCE_FUNC(aiq_subscriber_writable_cb),
					      aiq_subscriber_ref(sub),
					      aiq_subscriber_unref);
			g_source_attach(sub->writable, sub->context);
			return;
		}

		g_mutex_lock(&sub->mutex);
		message = g_queue_pop_head(&sub->queue);
		if (message != NULL)
			sub->queued_bytes -= g_bytes_get_size(message);
		g_mutex_unlock(&sub->mutex);
		if (message != NULL)
			soup_websocket_connection_send_message(sub->conn,
							       SOUP_WEBSOCKET_DATA_TEXT,
							       message);
	}
}

/* on the subscriber's context, or once the HTTP threads have stopped: no
 * callback of the subscriber runs after this */
static void
aiq_subscriber_detach(AiqSubscriber *sub)
{
	GSource *wakeup;

	g_mutex_lock(&sub->mutex);
	sub->detached = TRUE;
	sub->draining = FALSE;
	aiq_subscriber_clear_queue_locked(sub);
	wakeup = g_steal_pointer(&sub->wakeup);
	g_mutex_unlock(&sub->mutex);
	if (wakeup != NULL) {
		g_source_destroy(wakeup);
		g_source_unref(wakeup);
	}
	aiq_subscriber_stop_writable(sub);
	if (sub->conn != NULL) {
		g_signal_handlers_disconnect_by_data(sub->conn, sub);
		g_clear_object(&sub->conn);
	}
}

static void
aiq_broker_remove(AiqBroker *self, AiqSubscriber *sub)
{
	GPtrArray *subscribers;
	g_mutex_lock(&self->mutex);
	subscribers = g_hash_table_lookup(self->tenants, sub->tenant_id);
	if (subscribers != NULL) {
		g_ptr_array_remove_fast(subscribers, sub);
		if (subscribers->len == 0)
			g_hash_table_remove(self->tenants, sub->tenant_id);
	}
	g_mutex_unlock(&self->mutex);
}

static void
aiq_subscriber_closed_cb(SoupWebsocketConnection *conn, gpointer user_data)
{
	AiqSubscriber *sub = user_data;
	g_debug("events: a subscriber of tenant %s left (%u)",
		sub->tenant_id,
		soup_websocket_connection_get_close_code(conn));
	/* the closure's reference keeps @sub until this returns */
	aiq_broker_remove(sub->broker, sub);
	aiq_subscriber_detach(sub);
}

/**
 * aiq_broker_subscribe:
 * @conn: an open connection, owned by the calling thread's thread-default
 *   main context
 *
 * Sends @conn every event of @tenant_id from now on, until it closes.
 * Called on the HTTP thread of the connection.
 */
void
aiq_broker_subscribe(AiqBroker *self, const gchar *tenant_id, SoupWebsocketConnection *conn)
{
	AiqSubscriber *sub;
	GPtrArray *subscribers;

	g_return_if_fail(self != NULL);
	g_return_if_fail(tenant_id != NULL);
	g_return_if_fail(SOUP_IS_WEBSOCKET_CONNECTION(conn));

	sub = g_new0(AiqSubscriber, 1);
	sub->refcount = 1;
	sub->broker = self;
	sub->tenant_id = g_strdup(tenant_id);
	sub->context = g_main_context_ref_thread_default();
	sub->conn = g_object_ref(conn);
	g_mutex_init(&sub->mutex);
	g_queue_init(&sub->queue);
	g_signal_connect_data(conn,
			      "closed",
			      G_CALLBACK(aiq_subscriber_closed_cb),
			      aiq_subscriber_ref(sub),
			      aiq_subscriber_closure_notify,
			      0);

	g_mutex_lock(&self->mutex);
	/* upgraded after aiq_broker_shutdown() all the same */
	if (self->shutdown) {
		g_mutex_lock(&sub->mutex);
		aiq_subscriber_request_close_locked(sub,
						    SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
						    _("the server is shutting down"));
		g_mutex_unlock(&sub->mutex);
	}
	subscribers = g_hash_table_lookup(self->tenants, tenant_id);
	if (subscribers == NULL) {
		subscribers = g_ptr_array_new_with_free_func(aiq_subscriber_unref);
		g_hash_table_insert(self->tenants, g_strdup(tenant_id), subscribers);
	}
	g_ptr_array_add(subscribers, sub);
	g_mutex_unlock(&self->mutex);
	g_debug("events: a subscriber of tenant %s joined", tenant_id);
}

/* the message, written once for every subscriber */
static GBytes *
aiq_broker_render(AiqServer *server, const gchar *tenant_id, const gchar *type, JsonNode *data)
{
	g_autoptr(JsonNode) type_node = aiq_json_new_string(type);
	g_autoptr(JsonNode) tenant_node = aiq_json_new_string(tenant_id);
	g_autoptr(JsonNode) time_node = aiq_api_time(aiq_server_now(server));
	GString *str = g_string_sized_new(256);

	g_string_append(str, "{\"type\":");
	aiq_json_append(str, type_node);
	g_string_append(str, ",\"tenant_id\":");
	aiq_json_append(str, tenant_node);
	g_string_append(str, ",\"time\":");
	aiq_json_append(str, time_node);
	g_string_append(str, ",\"data\":");
	if (data != NULL)
		aiq_json_append(str, data);
	else
		g_string_append(str, "null");
	g_string_append_c(str, '}');
	return g_string_free_to_bytes(str);
}

static gboolean
aiq_broker_is_listened(AiqBroker *self, const gchar *tenant_id)
{
	gboolean ret;
	g_mutex_lock(&self->mutex);
	ret = g_hash_table_contains(self->tenants, tenant_id);
	g_mutex_unlock(&self->mutex);
	return ret;
}

/**
 * aiq_broker_has_subscribers:
 *
 * Returns: whether anyone listens to the events of @tenant_id, so that a
 * publisher need not even make an event nobody would get
 */
gboolean
aiq_broker_has_subscribers(AiqServer *server, const gchar *tenant_id)
{
	AiqBroker *self;

	g_return_val_if_fail(AIQ_IS_SERVER(server), FALSE);
	g_return_val_if_fail(tenant_id != NULL, FALSE);

	/* on PostgreSQL the subscribers may be another replica's */
	if (aiq_cluster_get(server) != NULL)
		return TRUE;
	self = aiq_broker_get(server);
	return self != NULL && aiq_broker_is_listened(self, tenant_id);
}

static void
aiq_broker_publish_local(AiqServer *server,
			 const gchar *tenant_id,
			 const gchar *type,
			 JsonNode *data);

void
aiq_broker_publish(AiqServer *server, const gchar *tenant_id, const gchar *type, JsonNode *data)
{
	AiqCluster *cluster;

	g_return_if_fail(AIQ_IS_SERVER(server));
	g_return_if_fail(tenant_id != NULL);
	g_return_if_fail(type != NULL);

	/* the subscribers of the other replicas */
	cluster = aiq_cluster_get(server);
	if (cluster != NULL) {
		g_autoptr(JsonObject) body = json_object_new();
		json_object_set_string_member(body, "tenant_id", tenant_id);
		json_object_set_string_member(body, "type", type);
		if (data != NULL)
			json_object_set_member(body, "data", json_node_copy(data));
		aiq_cluster_send(cluster, "event", body);
	}
	aiq_broker_publish_local(server, tenant_id, type, data);
}

/* another replica's event */
static void
aiq_broker_heard_event(AiqServer *server, JsonObject *body, gpointer user_data)
{
	const gchar *tenant_id =
		json_object_get_string_member_with_default(body, "tenant_id", NULL);
	const gchar *type = json_object_get_string_member_with_default(body, "type", NULL);
	if (tenant_id != NULL && type != NULL)
		aiq_broker_publish_local(server,
					 tenant_id,
					 type,
					 json_object_get_member(body, "data"));
}

/**
 * aiq_broker_listen_cluster:
 *
 * Hears the events of the other replicas (PostgreSQL).
 */
void
aiq_broker_listen_cluster(AiqServer *server)
{
	AiqCluster *cluster = aiq_cluster_get(server);
	if (cluster != NULL)
		aiq_cluster_set_handler(cluster, "event", aiq_broker_heard_event, NULL);
}

/* to this replica's subscribers only */
static void
aiq_broker_publish_local(AiqServer *server,
			 const gchar *tenant_id,
			 const gchar *type,
			 JsonNode *data)
{
	AiqBroker *self;
	GPtrArray *subscribers;
	g_autoptr(GBytes) message = NULL;

	/* nobody listens: not even the text is written */
	self = aiq_broker_get(server);
	if (self == NULL || !aiq_broker_is_listened(self, tenant_id))
		return;

	message = aiq_broker_render(server, tenant_id, type, data);
	g_mutex_lock(&self->mutex);
	subscribers = g_hash_table_lookup(self->tenants, tenant_id);
	for (guint i = 0; subscribers != NULL && i < subscribers->len; i++)
		aiq_subscriber_push(g_ptr_array_index(subscribers, i), message);
	g_mutex_unlock(&self->mutex);
}

/**
 * aiq_broker_shutdown:
 *
 * Closes every subscriber with 1001 (going away) and refuses new ones; for
 * the start of a graceful stop, while the HTTP threads still run.
 */
void
aiq_broker_shutdown(AiqBroker *self)
{
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail(self != NULL);
	g_mutex_lock(&self->mutex);
	self->shutdown = TRUE;
	g_hash_table_iter_init(&iter, self->tenants);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GPtrArray *subscribers = value;
		for (guint i = 0; i < subscribers->len; i++) {
			AiqSubscriber *sub = g_ptr_array_index(subscribers, i);
			g_mutex_lock(&sub->mutex);
			aiq_subscriber_request_close_locked(sub,
							    SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
							    _("the server is shutting down"));
			g_mutex_unlock(&sub->mutex);
		}
	}
	g_mutex_unlock(&self->mutex);
}

gboolean
aiq_broker_is_shut_down(AiqBroker *self)
{
	gboolean ret;
	g_return_val_if_fail(self != NULL, TRUE);
	g_mutex_lock(&self->mutex);
	ret = self->shutdown;
	g_mutex_unlock(&self->mutex);
	return ret;
}

/**
 * aiq_broker_count_subscribers:
 * @tenant_id: (nullable): one tenant, or %NULL for all
 * @n_contexts: (out) (optional): how many HTTP threads they are on
 *
 * Returns: how many subscribers are open (not closing)
 */
guint
aiq_broker_count_subscribers(AiqBroker *self, const gchar *tenant_id, guint *n_contexts)
{
	g_autoptr(GHashTable) contexts = g_hash_table_new(NULL, NULL);
	GHashTableIter iter;
	gpointer key;
	gpointer value;
	guint count = 0;

	g_return_val_if_fail(self != NULL, 0);
	g_mutex_lock(&self->mutex);
	g_hash_table_iter_init(&iter, self->tenants);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		GPtrArray *subscribers = value;
		if (tenant_id != NULL && g_strcmp0(key, tenant_id) != 0)
			continue;
		for (guint i = 0; i < subscribers->len; i++) {
			AiqSubscriber *sub = g_ptr_array_index(subscribers, i);
			gboolean open;
			g_mutex_lock(&sub->mutex);
			open = sub->close_code == 0 && !sub->detached;
			g_mutex_unlock(&sub->mutex);
			if (!open)
				continue;
			count++;
			g_hash_table_add(contexts, sub->context);
		}
	}
	g_mutex_unlock(&self->mutex);
	if (n_contexts != NULL)
		*n_contexts = g_hash_table_size(contexts);
	return count;
}

/**
 * aiq_broker_get:
 *
 * Returns: (transfer none) (nullable): the server's broker
 */
AiqBroker *
aiq_broker_get(AiqServer *server)
{
	g_return_val_if_fail(AIQ_IS_SERVER(server), NULL);
	return aiq_server_get_module(server, "broker");
}

AiqBroker *
aiq_broker_new(void)
{
	AiqBroker *self = g_new0(AiqBroker, 1);
	g_mutex_init(&self->mutex);
	self->tenants = g_hash_table_new_full(g_str_hash,
					      g_str_equal,
					      g_free,
					      (GDestroyNotify)g_ptr_array_unref);
	return self;
}

/**
 * aiq_broker_free:
 *
 * Drops every subscriber, open or not; after the HTTP threads have stopped
 * (the server's dispose), since it touches their connections.
 */
void
aiq_broker_free(AiqBroker *self)
{
	GHashTableIter iter;
	gpointer value;

	if (self == NULL)
		return;
	g_hash_table_iter_init(&iter, self->tenants);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GPtrArray *subscribers = value;
		for (guint i = 0; i < subscribers->len; i++)
			aiq_subscriber_detach(g_ptr_array_index(subscribers, i));
	}
	g_hash_table_unref(self->tenants);
	g_mutex_clear(&self->mutex);
	g_free(self);
}
