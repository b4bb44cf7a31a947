/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Replicas of one PostgreSQL store keeping each other's memory in step.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "aiq-server.h"

G_BEGIN_DECLS

/**
 * AiqCluster:
 *
 * On PostgreSQL any number of servers (replicas) share the store, and each
 * keeps some state in memory: the queue's index of queued jobs and its
 * parked long-polls, the live-event subscribers. A replica tells the
 * others what changed with NOTIFY on the channel `aiq` (a message is
 * `{"r": replica, "k": kind, "b": body}`, at most 8000 bytes) and hears
 * theirs with LISTEN, each on a connection of its own (not the pool's).
 * The store stays the truth: a message lost (a replica killed between its
 * commit and its NOTIFY, a listener reconnecting) delays, never corrupts —
 * the queue resyncs from the jobs table after a reconnect and every 30 s.
 *
 * There is none on SQLite (one server per store).
 */
typedef struct _AiqCluster AiqCluster;

typedef void (*AiqClusterFunc)(AiqServer *server, JsonObject *body, gpointer user_data);

AiqCluster *
aiq_cluster_get(AiqServer *server);
/* makes the server's cluster module when its store is PostgreSQL */
gboolean
aiq_cluster_install(AiqServer *server, GError **error);
void
aiq_cluster_stop(AiqServer *server);
const gchar *
aiq_cluster_get_replica(AiqCluster *self);
/* @kind: "job", "job.gone", "event"…; "resync" is called (with a %NULL
 * body) after the listener (re)connected, and every 30 s */
void
aiq_cluster_set_handler(AiqCluster *self,
			const gchar *kind,
			AiqClusterFunc func,
			gpointer user_data);
/* queues @body for the other replicas; never blocks */
void
aiq_cluster_send(AiqCluster *self, const gchar *kind, JsonObject *body);
/* messages sent and heard, for the metrics and tests */
void
aiq_cluster_get_stats(AiqCluster *self, guint64 *sent, guint64 *heard, guint64 *dropped);

G_END_DECLS
