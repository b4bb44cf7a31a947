/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

#include "aiq-auth.h"
#include "aiq-request.h"
#include "aiq-server-config.h"
#include "aiq-store.h"

G_BEGIN_DECLS

#define AIQ_TYPE_SERVER (aiq_server_get_type())
G_DECLARE_FINAL_TYPE(AiqServer, aiq_server, AIQ, SERVER, GObject)

typedef void (*AiqRouteFunc)(AiqRequest *req);

/**
 * AiqRouteRun:
 * @AIQ_ROUTE_WORKER: runs on the worker pool: anything that may block
 *   (store writes, password hashing)
 * @AIQ_ROUTE_INLINE: runs on the server thread: quick reads only
 * @AIQ_ROUTE_ASYNC: runs on the worker pool and answers later, with
 *   aiq_request_finish() (long-polls)
 */
typedef enum {
	AIQ_ROUTE_WORKER,
	AIQ_ROUTE_INLINE,
	AIQ_ROUTE_ASYNC,
} AiqRouteRun;

/**
 * AiqRouteFlags:
 * @AIQ_ROUTE_LIMIT_ADDRESS: rate-limited per source address (logins and
 *   enrollments, which have no principal yet)
 */
typedef enum {
	AIQ_ROUTE_FLAGS_NONE = 0,
	AIQ_ROUTE_LIMIT_ADDRESS = 1 << 0,
} AiqRouteFlags;

/**
 * AiqRoute:
 * @method: GET, POST, PUT, PATCH or DELETE
 * @path: with `{name}` parameters, e.g. `/api/v1/workflows/{id}`
 * @role: the least role that may call it; %AIQ_ROLE_NONE for no
 *   authentication, %AIQ_ROLE_AGENT for agents only
 * @max_body: the largest request body, or 0 for the server's default
 * @summary: one line, for logs and the route list
 * @audit: (nullable): the action its requests are recorded as in the
 *   audit log, e.g. `workflow.create`; %NULL for routes that change nothing
 * @flags: how it is rate-limited beyond the principal's buckets
 */
typedef struct {
	const gchar *method;
	const gchar *path;
	AiqRole role;
	AiqRouteRun run;
	AiqRouteFunc func;
	gsize max_body;
	const gchar *summary;
	const gchar *audit;
	AiqRouteFlags flags;
} AiqRoute;

typedef gint64 (*AiqClockFunc)(gpointer user_data);

AiqServer *
aiq_server_new(AiqServerConfig *config, GError **error);
gboolean
aiq_server_start(AiqServer *self, GError **error);
void
aiq_server_stop(AiqServer *self);
guint16
aiq_server_get_port(AiqServer *self);
gchar *
aiq_server_get_url(AiqServer *self);
const gchar *
aiq_server_get_fingerprint(AiqServer *self);
AiqServerConfig *
aiq_server_get_config(AiqServer *self);
AiqStore *
aiq_server_get_store(AiqServer *self);
AiqAuth *
aiq_server_get_auth(AiqServer *self);
void
aiq_server_add_routes(AiqServer *self, const AiqRoute *routes, guint n_routes);
GPtrArray *
aiq_server_list_routes(AiqServer *self);
void
aiq_server_set_clock(AiqServer *self, AiqClockFunc func, gpointer user_data);
gint64
aiq_server_now(AiqServer *self);
GMainContext *
aiq_server_get_main_context(AiqServer *self);
guint
aiq_server_get_in_flight(AiqServer *self);

/* per-server state of a module (the queue, the event broker, …), set
 * once at construction */
void
aiq_server_set_module(AiqServer *self, const gchar *name, gpointer data, GDestroyNotify destroy);
gpointer
aiq_server_get_module(AiqServer *self, const gchar *name);

G_END_DECLS
