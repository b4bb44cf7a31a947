/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "aiq-execution.h"

G_BEGIN_DECLS

/**
 * AiqStore:
 *
 * The server's one data-access layer. Handlers call its functions and never
 * see SQL, so that a PostgreSQL backend can sit behind the same functions.
 * Every tenant-owned function takes the tenant id first and every query it
 * makes is scoped by it; tenant_id leads every key and index.
 *
 * The SQLite backend: WAL mode, one read connection per thread, and one
 * writer thread that commits the writes of concurrent requests together
 * (group commit, a savepoint per write so one failing write does not undo
 * the others). The PostgreSQL backend: a bounded pool of connections, a
 * transaction per write on the calling thread, the tenant set in each
 * transaction for row-level security. Functions block; call them from
 * worker threads.
 *
 * The functions of each domain are declared in aiq-store-*.h.
 */
#define AIQ_TYPE_STORE (aiq_store_get_type())
G_DECLARE_FINAL_TYPE(AiqStore, aiq_store, AIQ, STORE, GObject)

/* the id of the tenant that holds platform admins */
#define AIQ_PLATFORM_TENANT_SLUG "platform"

/**
 * AiqStoreOptions:
 * @admin_uri: (nullable): PostgreSQL: a connection as the owner of the
 *   tables, to migrate the schema and grant the service's role its rows at
 *   start; without it the database must already have the current schema
 * @pool_size: PostgreSQL: connections at most (0: 16)
 * @pool_timeout_ms: waiting for a free connection at most (0: 5000)
 * @statement_timeout_ms: a statement at most (0: 30000)
 */
typedef struct {
	const gchar *admin_uri;
	guint pool_size;
	guint pool_timeout_ms;
	guint statement_timeout_ms;
} AiqStoreOptions;

AiqStore *
aiq_store_new(const gchar *filename, GError **error);
AiqStore *
aiq_store_open(const gchar *location, const AiqStoreOptions *options, GError **error);
gboolean
aiq_store_location_is_postgres(const gchar *location);
/* PostgreSQL: how to connect (with its password), for the cluster's own
 * connections; %NULL on SQLite */
const gchar *
aiq_store_get_conninfo(AiqStore *self);
const gchar *
aiq_store_get_filename(AiqStore *self);
gboolean
aiq_store_check(AiqStore *self, GError **error);
gboolean
aiq_store_close(AiqStore *self, GError **error);
gboolean
aiq_store_sync(AiqStore *self, GError **error);
guint64
aiq_store_get_commits(AiqStore *self);
guint64
aiq_store_get_writes(AiqStore *self);
void
aiq_store_get_execution_counts(AiqStore *self, gint64 counts[AIQ_EXECUTION_STATUS_LAST]);
gboolean
aiq_store_count_agents_online(AiqStore *self, gint64 since_us, gint64 *count, GError **error);
guint
aiq_store_get_schedules_generation(AiqStore *self);
void
aiq_store_schedules_changed(AiqStore *self);

/**
 * AiqStoreTiming:
 * @AIQ_STORE_TIMING_WRITE_WAIT: one write, from the moment it was queued
 *   to the end of the commit of its group
 * @AIQ_STORE_TIMING_COMMIT: one group transaction, from its BEGIN to the
 *   end of its COMMIT
 */
typedef enum {
	AIQ_STORE_TIMING_WRITE_WAIT,
	AIQ_STORE_TIMING_COMMIT,
} AiqStoreTiming;

/* called on the writer thread, with the store's lock held: keep it short */
typedef void (*AiqStoreTimingFunc)(AiqStoreTiming timing, gint64 duration_us, gpointer user_data);

void
aiq_store_set_timing_func(AiqStore *self, AiqStoreTimingFunc func, gpointer user_data);

/* cursors for pagination: an opaque, URL-safe token of a (time, id) position */
gchar *
aiq_store_cursor_encode(gint64 time_us, const gchar *id);
gboolean
aiq_store_cursor_decode(const gchar *cursor, gint64 *time_us, gchar **id, GError **error);

G_END_DECLS
