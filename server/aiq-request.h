/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "aiq-auth.h"

G_BEGIN_DECLS

typedef struct _AiqServer AiqServer;

/**
 * AiqRequest:
 *
 * One API request as a handler sees it: its parameters, body and principal,
 * and the response being built. The response is buffered here and applied
 * to the SoupServerMessage on its server thread, so a handler may run on a
 * worker thread and never touches libsoup itself.
 */
typedef struct _AiqRequest AiqRequest;

AiqRequest *
aiq_request_ref(AiqRequest *self);
void
aiq_request_unref(AiqRequest *self);

AiqServer *
aiq_request_get_server(AiqRequest *self);
const gchar *
aiq_request_get_method(AiqRequest *self);
const gchar *
aiq_request_get_path(AiqRequest *self);
const gchar *
aiq_request_get_id(AiqRequest *self);
const gchar *
aiq_request_get_remote_address(AiqRequest *self);
const gchar *
aiq_request_get_param(AiqRequest *self, const gchar *name);
const gchar *
aiq_request_get_query(AiqRequest *self, const gchar *name);
const gchar *
aiq_request_get_header(AiqRequest *self, const gchar *name);
AiqPrincipal *
aiq_request_get_principal(AiqRequest *self);
const gchar *
aiq_request_get_tenant_id(AiqRequest *self);
GBytes *
aiq_request_get_body(AiqRequest *self);
gint64
aiq_request_get_received(AiqRequest *self);

JsonNode *
aiq_request_parse_json(AiqRequest *self, GError **error);
JsonNode *
aiq_request_parse_document(AiqRequest *self, GError **error);
gboolean
aiq_request_get_limit(AiqRequest *self, guint *limit, GError **error);

void
aiq_request_set_header(AiqRequest *self, const gchar *name, const gchar *value);
void
aiq_request_respond_json(AiqRequest *self, guint status, JsonNode *node);
void
aiq_request_respond_bytes(AiqRequest *self, guint status, const gchar *content_type, GBytes *body);
void
aiq_request_respond_error(AiqRequest *self,
			  guint status,
			  const gchar *code,
			  const gchar *message,
			  JsonNode *details);
void
aiq_request_respond_gerror(AiqRequest *self, const GError *error);
guint
aiq_request_get_status(AiqRequest *self);

/* for handlers that answer later (long-polls, websockets) */
void
aiq_request_finish(AiqRequest *self);
SoupServerMessage *
aiq_request_get_message(AiqRequest *self);
GMainContext *
aiq_request_get_context(AiqRequest *self);

guint
aiq_http_status_for_error(const GError *error);

/* the audit trail (see AiqGovernance) */
void
aiq_request_set_audit_tenant(AiqRequest *self, const gchar *tenant_id);
void
aiq_request_set_audit_action(AiqRequest *self, const gchar *action);
void
aiq_request_set_audit_actor(AiqRequest *self,
			    const gchar *type,
			    const gchar *id,
			    const gchar *name);
void
aiq_request_set_audit_target(AiqRequest *self, const gchar *type, const gchar *id);
void
aiq_request_add_audit_detail(AiqRequest *self, const gchar *name, JsonNode *value);
void
aiq_request_skip_audit(AiqRequest *self);
void
aiq_request_hold(AiqRequest *self, guint ms);
guint
aiq_request_get_hold(AiqRequest *self);

/* streamed responses: a handler of an %AIQ_ROUTE_ASYNC route sends its
 * body in chunks from its worker thread, instead of aiq_request_finish() */
void
aiq_request_stream_begin(AiqRequest *self, guint status, const gchar *content_type);
gboolean
aiq_request_stream_write(AiqRequest *self, GBytes *chunk, GError **error);
void
aiq_request_stream_end(AiqRequest *self);
void
aiq_request_stream_abort(AiqRequest *self);
guint64
aiq_request_stream_get_written(AiqRequest *self);

/* for the server: resumes the message's I/O, unless it is over (a streamed
 * response whose client went away) */
void
aiq_request_resume(AiqRequest *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqRequest, aiq_request_unref)

G_END_DECLS
