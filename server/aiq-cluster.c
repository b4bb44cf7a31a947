/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * LISTEN/NOTIFY between the replicas of one PostgreSQL store.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <libpq-fe.h>
#include <poll.h>
#include <string.h>

#include "aiq-cluster.h"
#include "aiq-json.h"
#include "aiq-store.h"

#define AIQ_CLUSTER_MODULE "cluster"
#define AIQ_CLUSTER_CHANNEL "aiq"
/* NOTIFY's payload is shorter than 8000 bytes */
#define AIQ_CLUSTER_PAYLOAD_MAX 7900
#define AIQ_CLUSTER_QUEUE_MAX 100000
#define AIQ_CLUSTER_RESYNC_US (30 * G_USEC_PER_SEC)

typedef struct {
	AiqClusterFunc func;
	gpointer user_data;
} AiqClusterHandler;

struct _AiqCluster {
	AiqServer *server;
	gchar *conninfo;
	gchar *replica;
	GMutex mutex;
	GHashTable *handlers; /* kind -> AiqClusterHandler */
	GAsyncQueue *outbox;  /* of gchar * payloads; "" stops the sender */
	GThread *sender;
	GThread *listener;
	gint stopping; /* atomic */
	guint64 sent;  /* atomic */
	guint64 heard;
	guint64 dropped;
};

AiqCluster *
aiq_cluster_get(AiqServer *server)
{
	return aiq_server_get_module(server, AIQ_CLUSTER_MODULE);
}

const gchar *
aiq_cluster_get_replica(AiqCluster *self)
{
	return self->replica;
}

void
aiq_cluster_set_handler(AiqCluster *self,
			const gchar *kind,
			AiqClusterFunc func,
			gpointer user_data)
{
	AiqClusterHandler *handler = g_new0(AiqClusterHandler, 1);
	handler->func = func;
	handler->user_data = user_data;
	g_mutex_lock(&self->mutex);
	g_hash_table_replace(self->handlers, g_strdup(kind), handler);
	g_mutex_unlock(&self->mutex);
}

void
aiq_cluster_send(AiqCluster *self, const gchar *kind, JsonObject *body)
{
	g_autoptr(JsonObject) message = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	gchar *payload;

	if (self == NULL)
		return;
	json_object_set_string_member(message, "r", self->replica);
	json_object_set_string_member(message, "k", kind);
	json_object_set_object_member(message, "b", json_object_ref(body));
	node = aiq_json_new_object(json_object_ref(message));
	payload = aiq_json_to_string(node, FALSE);
	if (strlen(payload) > AIQ_CLUSTER_PAYLOAD_MAX ||
	    g_async_queue_length(self->outbox) > AIQ_CLUSTER_QUEUE_MAX) {
		__atomic_fetch_add(&self->dropped, 1, __ATOMIC_RELAXED);
		g_debug("cluster: a %s message of %zu bytes not sent", kind, strlen(payload));
		g_free(payload);
		return;
	}
	g_async_queue_push(self->outbox, payload);
}

void
aiq_cluster_get_stats(AiqCluster *self, guint64 *sent, guint64 *heard, guint64 *dropped)
{
	*sent = __atomic_load_n(&self->sent, __ATOMIC_RELAXED);
	*heard = __atomic_load_n(&self->heard, __ATOMIC_RELAXED);
	*dropped = __atomic_load_n(&self->dropped, __ATOMIC_RELAXED);
}

static PGconn *
aiq_cluster_connect(AiqCluster *self)
{
	const gchar *keywords[] = { "dbname", "application_name", "connect_timeout", NULL };
	const gchar *values[] = { self->conninfo, "automateiq-cluster", "5", NULL };
	PGconn *conn = PQconnectdbParams(keywords, values, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		g_debug("cluster: cannot connect: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* sleeps up to @ms, or less when stopping */
static void
aiq_cluster_nap(AiqCluster *self, guint ms)
{
	for (guint i = 0; i < ms / 50 && !g_atomic_int_get(&self->stopping); i++)
		g_usleep(50 * 1000);
}

static gpointer
aiq_cluster_sender_thread(gpointer user_data)
{
	AiqCluster *self = user_data;
	PGconn *conn = NULL;

	for (;;) {
		g_autofree gchar *payload = g_async_queue_pop(self->outbox);
		const gchar *params[2] = { AIQ_CLUSTER_CHANNEL, payload };
		gboolean sent = FALSE;
		if (payload[0] == '\0')
			break;
		/* one retry on a new connection, then the message is dropped: the
		 * store is the truth, the others resync */
		for (guint attempt = 0; attempt < 2 && !sent; attempt++) {
			PGresult *result;
			if (conn == NULL)
				conn = aiq_cluster_connect(self);
			if (conn == NULL)
				break;
			result = PQexecParams(conn,
					      "SELECT pg_notify($1, $2)",
					      2,
					      NULL,
					      params,
					      NULL,
					      NULL,
					      0);
			sent = PQresultStatus(result) == PGRES_TUPLES_OK;
			PQclear(result);
			if (!sent && PQstatus(conn) != CONNECTION_OK)
				g_clear_pointer(&conn, PQfinish);
			else if (!sent)
				break;
		}
		if (sent)
			__atomic_fetch_add(&self->sent, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&self->dropped, 1, __ATOMIC_RELAXED);
	}
	if (conn != NULL)
		PQfinish(conn);
	return NULL;
}

static void
aiq_cluster_dispatch(AiqCluster *self, const gchar *kind, JsonObject *body)
{
	AiqClusterHandler handler = { NULL, NULL };
	AiqClusterHandler *found;
	g_mutex_lock(&self->mutex);
	found = g_hash_table_lookup(self->handlers, kind);
	if (found != NULL)
		handler = *found;
	g_mutex_unlock(&self->mutex);
	if (handler.func != NULL)
		handler.func(self->server, body, handler.user_data);
}

static void
aiq_cluster_heard(AiqCluster *self, const gchar *payload)
{
	g_autoptr(JsonNode) node = aiq_json_parse(payload, strlen(payload), 64, NULL);
	JsonObject *message;
	JsonNode *body;
	const gchar *replica;
	const gchar *kind;

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
		return;
	message = json_node_get_object(node);
	replica = json_object_get_string_member_with_default(message, "r", NULL);
	kind = json_object_get_string_member_with_default(message, "k", NULL);
	body = json_object_get_member(message, "b");
	/* our own, echoed */
	if (replica == NULL || kind == NULL || g_strcmp0(replica, self->replica) == 0 ||
	    body == NULL || !JSON_NODE_HOLDS_OBJECT(body))
		return;
	__atomic_fetch_add(&self->heard, 1, __ATOMIC_RELAXED);
	aiq_cluster_dispatch(self, kind, json_node_get_object(body));
}

static gpointer
aiq_cluster_listener_thread(gpointer user_data)
{
	AiqCluster *self = user_data;
	PGconn *conn = NULL;
	gint64 resync_us = g_get_monotonic_time() + AIQ_CLUSTER_RESYNC_US;
	gboolean connected_before = FALSE;

	while (!g_atomic_int_get(&self->stopping)) {
		struct pollfd pfd = { .events = POLLIN };
		PGnotify *notify;

		if (conn == NULL) {
			PGresult *result;
			conn = aiq_cluster_connect(self);
			if (conn == NULL) {
				aiq_cluster_nap(self, 1000);
				continue;
			}
			result = PQexec(conn, "LISTEN " AIQ_CLUSTER_CHANNEL);
			if (PQresultStatus(result) != PGRES_COMMAND_OK) {
				g_warning("cluster: LISTEN: %s", PQerrorMessage(conn));
				PQclear(result);
				g_clear_pointer(&conn, PQfinish);
				aiq_cluster_nap(self, 1000);
				continue;
			}
			PQclear(result);
			/* what was said while nobody listened is lost: read the
			 * store again */
			if (connected_before) {
				g_info("cluster: listening again");
				aiq_cluster_dispatch(self, "resync", NULL);
			}
			connected_before = TRUE;
		}
		pfd.fd = PQsocket(conn);
		if (poll(&pfd, 1, 250) < 0)
			continue;
		if (PQconsumeInput(conn) != 1) {
			g_warning("cluster: lost the store: %s", PQerrorMessage(conn));
			g_clear_pointer(&conn, PQfinish);
			continue;
		}
		while ((notify = PQnotifies(conn)) != NULL) {
			aiq_cluster_heard(self, notify->extra);
			PQfreemem(notify);
		}
		if (g_get_monotonic_time() >= resync_us) {
			aiq_cluster_dispatch(self, "resync", NULL);
			resync_us = g_get_monotonic_time() + AIQ_CLUSTER_RESYNC_US;
		}
	}
	if (conn != NULL)
		PQfinish(conn);
	return NULL;
}

static void
aiq_cluster_stop_threads(AiqCluster *self)
{
	g_atomic_int_set(&self->stopping, 1);
	if (self->sender != NULL) {
		g_async_queue_push(self->outbox, g_strdup(""));
		g_thread_join(g_steal_pointer(&self->sender));
	}
	if (self->listener != NULL)
		g_thread_join(g_steal_pointer(&self->listener));
}

/* called by the server's module table, under its lock: the cluster must not
 * look itself up (aiq_cluster_get) from here */
static void
aiq_cluster_free(AiqCluster *self)
{
	aiq_cluster_stop_threads(self);
	g_async_queue_unref(self->outbox);
	g_hash_table_unref(self->handlers);
	g_mutex_clear(&self->mutex);
	g_free(self->conninfo);
	g_free(self->replica);
	g_free(self);
}

/**
 * aiq_cluster_install:
 *
 * Starts listening when the server's store is PostgreSQL; nothing on
 * SQLite.
 */
gboolean
aiq_cluster_install(AiqServer *server, GError **error)
{
	const gchar *conninfo = aiq_store_get_conninfo(aiq_server_get_store(server));
	AiqCluster *self;

	if (conninfo == NULL)
		return TRUE;
	self = g_new0(AiqCluster, 1);
	self->server = server;
	self->conninfo = g_strdup(conninfo);
	self->replica = g_uuid_string_random();
	g_mutex_init(&self->mutex);
	self->handlers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->outbox = g_async_queue_new_full(g_free);
	aiq_server_set_module(server, AIQ_CLUSTER_MODULE, self, (GDestroyNotify)aiq_cluster_free);
	self->sender = g_thread_new("aiq-cluster-send", aiq_cluster_sender_thread, self);
	self->listener = g_thread_new("aiq-cluster-listen", aiq_cluster_listener_thread, self);
	g_info("cluster: replica %s", self->replica);
	return TRUE;
}

/* stops both threads; messages still queued are sent first */
void
aiq_cluster_stop(AiqServer *server)
{
	AiqCluster *self = aiq_cluster_get(server);
	if (self != NULL)
		aiq_cluster_stop_threads(self);
}
