/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "aiq-problems.h"

G_BEGIN_DECLS

/**
 * AiqClientReply:
 *
 * What the server answered to one request: the HTTP status, the headers,
 * the body, and for an error answer the server's error code, message and
 * details (for example the problems of a definition, on 422). For a request
 * that failed before an answer (no connection, an untrusted certificate)
 * the status is 0; the certificate the server presented, if any, is kept
 * with its verification errors so a UI can offer to trust it.
 *
 * Immutable once made; thread-safe to read.
 */
typedef struct _AiqClientReply AiqClientReply;

#define AIQ_TYPE_CLIENT_REPLY (aiq_client_reply_get_type())
GType
aiq_client_reply_get_type(void);

AiqClientReply *
aiq_client_reply_ref(AiqClientReply *self);
void
aiq_client_reply_unref(AiqClientReply *self);
guint
aiq_client_reply_get_status(AiqClientReply *self);
const gchar *
aiq_client_reply_get_header(AiqClientReply *self, const gchar *name);
const gchar *
aiq_client_reply_get_request_id(AiqClientReply *self);
gint64
aiq_client_reply_get_retry_after(AiqClientReply *self);
JsonNode *
aiq_client_reply_get_body(AiqClientReply *self);
const gchar *
aiq_client_reply_get_error_code(AiqClientReply *self);
JsonNode *
aiq_client_reply_get_error_details(AiqClientReply *self);
AiqProblems *
aiq_client_reply_get_problems(AiqClientReply *self);
GTlsCertificate *
aiq_client_reply_get_peer_certificate(AiqClientReply *self);
GTlsCertificateFlags
aiq_client_reply_get_tls_errors(AiqClientReply *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqClientReply, aiq_client_reply_unref)

/**
 * AiqClient:
 *
 * The typed REST client of the AutomateIQ API (`/api/v1`), for aiqctl, the
 * agent and the designer.
 *
 * Every call has an async form (finished with aiq_client_request_finish(),
 * for the designer's main loop) and a sync form (for aiqctl, tests and
 * worker threads; it blocks the calling thread and never iterates a main
 * loop). Answers are JSON trees; an error answer becomes an #AIQ_ERROR whose
 * code is the server's `error.code` (or, for a code libaiq does not know,
 * one that fits the HTTP status), with the reply kept for the details.
 *
 * TLS certificates are always verified, against the system's trusted CAs
 * plus an optional extra CA (aiq_client_set_ca_file()), or accepted when
 * they are exactly a certificate the user chose to trust
 * (aiq_client_set_pinned_fingerprint()). There is no way to switch
 * verification off.
 *
 * Configure the client (CA, fingerprint, timeout) from the thread that made
 * it, before the first request; requests may then be sent from any thread.
 * aiq_client_set_token() may be called at any time.
 */
#define AIQ_TYPE_CLIENT (aiq_client_get_type())
G_DECLARE_FINAL_TYPE(AiqClient, aiq_client, AIQ, CLIENT, GObject)

#define AIQ_CLIENT_DEFAULT_TIMEOUT 60                           /* seconds of I/O inactivity */
#define AIQ_CLIENT_DEFAULT_MAX_RESPONSE_SIZE (64 * 1024 * 1024) /* bytes */

AiqClient *
aiq_client_new(const gchar *base_url, GError **error);
const gchar *
aiq_client_get_base_url(AiqClient *self);
void
aiq_client_set_token(AiqClient *self, const gchar *token);
gboolean
aiq_client_set_ca_file(AiqClient *self, const gchar *filename, GError **error);
gboolean
aiq_client_set_trusted_ca_file(AiqClient *self, const gchar *filename, GError **error);
gboolean
aiq_client_set_pinned_fingerprint(AiqClient *self, const gchar *fingerprint, GError **error);
void
aiq_client_set_user_agent(AiqClient *self, const gchar *user_agent);
void
aiq_client_use_environment_proxy(AiqClient *self);
void
aiq_client_set_reuse_connections(AiqClient *self, gboolean reuse);
void
aiq_client_set_timeout(AiqClient *self, guint seconds);
void
aiq_client_set_max_response_size(AiqClient *self, gsize max_size);

GTlsCertificate *
aiq_client_dup_rejected_certificate(AiqClient *self, GTlsCertificateFlags *errors);

gchar *
aiq_client_fingerprint_from_certificate(GTlsCertificate *certificate);
gboolean
aiq_client_fingerprint_is_valid(const gchar *fingerprint);

/* any call */

void
aiq_client_request_async(AiqClient *self,
			 const gchar *method,
			 const gchar *path,
			 JsonNode *body,
			 const gchar *content_type,
			 GHashTable *headers,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data);
void
aiq_client_request_bytes_async(AiqClient *self,
			       const gchar *method,
			       const gchar *path,
			       GBytes *body,
			       const gchar *content_type,
			       GHashTable *headers,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
JsonNode *
aiq_client_request_finish(AiqClient *self,
			  GAsyncResult *result,
			  AiqClientReply **reply,
			  GError **error);
JsonNode *
aiq_client_request_sync(AiqClient *self,
			const gchar *method,
			const gchar *path,
			JsonNode *body,
			const gchar *content_type,
			GHashTable *headers,
			GCancellable *cancellable,
			AiqClientReply **reply,
			GError **error);
JsonNode *
aiq_client_request_bytes_sync(AiqClient *self,
			      const gchar *method,
			      const gchar *path,
			      GBytes *body,
			      const gchar *content_type,
			      GHashTable *headers,
			      GCancellable *cancellable,
			      AiqClientReply **reply,
			      GError **error);

/*
 * Typed calls. Each _async is finished with aiq_client_request_finish();
 * each returns the server's JSON as the API documents it (a JSON null for
 * 204 No Content).
 */

/**
 * AiqClientWorkflowQuery:
 * @name: (nullable): exactly this name
 * @search: (nullable): names containing this
 * @label: (nullable): workflows that run on agents with this label
 * @enabled: 0 for all, 1 for enabled ones, -1 for disabled ones
 * @cursor: (nullable): the `next_cursor` of the page before
 * @limit: items per page, 0 for the server's default
 */
typedef struct {
	const gchar *name;
	const gchar *search;
	const gchar *label;
	gint enabled;
	const gchar *cursor;
	guint limit;
} AiqClientWorkflowQuery;

/**
 * AiqClientExecutionQuery:
 * @workflow_id: (nullable): executions of this workflow
 * @status: (nullable): queued, running, succeeded, failed, cancelled, timed_out
 * @trigger: (nullable): manual, api, schedule, webhook
 * @since: created at or after, in µs since the epoch; 0 for no bound
 * @until: created before, in µs since the epoch; 0 for no bound
 * @cursor: (nullable): the `next_cursor` of the page before; not with
 *   @offset
 * @limit: items per page, 0 for the server's default
 * @offset: how many executions to skip, newest first, for a page by
 *   position (a scrolled list); 0 for none (not sent)
 * @count: ask for `total`, how many executions match the filters
 */
typedef struct {
	const gchar *workflow_id;
	const gchar *status;
	const gchar *trigger;
	gint64 since;
	gint64 until;
	const gchar *cursor;
	guint limit;
	guint offset;
	gboolean count;
} AiqClientExecutionQuery;

/**
 * AiqClientStatsQuery:
 * @from: the period's start, in µs since the epoch; 0 for the server's
 *   default (24 hours, or 30 days with daily buckets, before @to)
 * @to: the period's end (excluded), in µs since the epoch; 0 for the
 *   end of the current hour (or UTC day)
 * @bucket: (nullable): `hour` (the default) or `day`
 */
typedef struct {
	gint64 from;
	gint64 to;
	const gchar *bucket;
} AiqClientStatsQuery;

/**
 * AiqClientAuditQuery:
 * @action: (nullable): this action (`workflow.create`), or a prefix
 *   ending with a dot (`workflow.`)
 * @actor: (nullable): records whose actor has this id or name
 * @target: (nullable): records whose target has this id
 * @outcome: (nullable): success, failure or denied
 * @since: at or after, in µs since the epoch; 0 for no bound
 * @until: before, in µs since the epoch; 0 for no bound
 * @tenant: (nullable): another tenant's log, by id or slug (platform
 *   admins)
 * @scope: (nullable): `platform` for the platform's log (platform admins)
 * @cursor: (nullable): the `next_cursor` of the page before
 * @limit: records per page (1 to 500), 0 for the server's default (100)
 */
typedef struct {
	const gchar *action;
	const gchar *actor;
	const gchar *target;
	const gchar *outcome;
	gint64 since;
	gint64 until;
	const gchar *tenant;
	const gchar *scope;
	const gchar *cursor;
	guint limit;
} AiqClientAuditQuery;

void
aiq_client_login_async(AiqClient *self,
		       const gchar *tenant,
		       const gchar *username,
		       const gchar *password,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);
JsonNode *
aiq_client_login_sync(AiqClient *self,
		      const gchar *tenant,
		      const gchar *username,
		      const gchar *password,
		      GCancellable *cancellable,
		      GError **error);
void
aiq_client_logout_async(AiqClient *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
JsonNode *
aiq_client_logout_sync(AiqClient *self, GCancellable *cancellable, GError **error);
void
aiq_client_get_me_async(AiqClient *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
JsonNode *
aiq_client_get_me_sync(AiqClient *self, GCancellable *cancellable, GError **error);

void
aiq_client_list_workflows_async(AiqClient *self,
				const AiqClientWorkflowQuery *query,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
JsonNode *
aiq_client_list_workflows_sync(AiqClient *self,
			       const AiqClientWorkflowQuery *query,
			       GCancellable *cancellable,
			       GError **error);
void
aiq_client_get_workflow_async(AiqClient *self,
			      const gchar *id,
			      gint version,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
JsonNode *
aiq_client_get_workflow_sync(AiqClient *self,
			     const gchar *id,
			     gint version,
			     GCancellable *cancellable,
			     GError **error);
void
aiq_client_create_workflow_async(AiqClient *self,
				 GBytes *definition,
				 const gchar *content_type,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
JsonNode *
aiq_client_create_workflow_sync(AiqClient *self,
				GBytes *definition,
				const gchar *content_type,
				AiqProblems *problems,
				GCancellable *cancellable,
				GError **error);
void
aiq_client_update_workflow_async(AiqClient *self,
				 const gchar *id,
				 GBytes *definition,
				 const gchar *content_type,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
JsonNode *
aiq_client_update_workflow_sync(AiqClient *self,
				const gchar *id,
				GBytes *definition,
				const gchar *content_type,
				AiqProblems *problems,
				GCancellable *cancellable,
				GError **error);
void
aiq_client_list_workflow_versions_async(AiqClient *self,
					const gchar *id,
					GCancellable *cancellable,
					GAsyncReadyCallback callback,
					gpointer user_data);
JsonNode *
aiq_client_list_workflow_versions_sync(AiqClient *self,
				       const gchar *id,
				       GCancellable *cancellable,
				       GError **error);
void
aiq_client_diff_workflow_async(AiqClient *self,
			       const gchar *id,
			       gint from,
			       gint to,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
JsonNode *
aiq_client_diff_workflow_sync(AiqClient *self,
			      const gchar *id,
			      gint from,
			      gint to,
			      GCancellable *cancellable,
			      GError **error);
void
aiq_client_rollback_workflow_async(AiqClient *self,
				   const gchar *id,
				   gint version,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data);
JsonNode *
aiq_client_rollback_workflow_sync(AiqClient *self,
				  const gchar *id,
				  gint version,
				  GCancellable *cancellable,
				  GError **error);
void
aiq_client_set_workflow_enabled_async(AiqClient *self,
				      const gchar *id,
				      gboolean enabled,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data);
JsonNode *
aiq_client_set_workflow_enabled_sync(AiqClient *self,
				     const gchar *id,
				     gboolean enabled,
				     GCancellable *cancellable,
				     GError **error);
void
aiq_client_delete_workflow_async(AiqClient *self,
				 const gchar *id,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
JsonNode *
aiq_client_delete_workflow_sync(AiqClient *self,
				const gchar *id,
				GCancellable *cancellable,
				GError **error);

void
aiq_client_start_execution_async(AiqClient *self,
				 const gchar *workflow_id,
				 JsonObject *inputs,
				 const gchar *idempotency_key,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
JsonNode *
aiq_client_start_execution_sync(AiqClient *self,
				const gchar *workflow_id,
				JsonObject *inputs,
				const gchar *idempotency_key,
				gboolean *created,
				GCancellable *cancellable,
				GError **error);
void
aiq_client_list_executions_async(AiqClient *self,
				 const AiqClientExecutionQuery *query,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
JsonNode *
aiq_client_list_executions_sync(AiqClient *self,
				const AiqClientExecutionQuery *query,
				GCancellable *cancellable,
				GError **error);
void
aiq_client_get_execution_async(AiqClient *self,
			       const gchar *id,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
JsonNode *
aiq_client_get_execution_sync(AiqClient *self,
			      const gchar *id,
			      GCancellable *cancellable,
			      GError **error);
void
aiq_client_cancel_execution_async(AiqClient *self,
				  const gchar *id,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
JsonNode *
aiq_client_cancel_execution_sync(AiqClient *self,
				 const gchar *id,
				 GCancellable *cancellable,
				 GError **error);
void
aiq_client_retry_execution_async(AiqClient *self,
				 const gchar *id,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
JsonNode *
aiq_client_retry_execution_sync(AiqClient *self,
				const gchar *id,
				GCancellable *cancellable,
				GError **error);
void
aiq_client_rerun_execution_async(AiqClient *self,
				 const gchar *id,
				 JsonObject *inputs,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
JsonNode *
aiq_client_rerun_execution_sync(AiqClient *self,
				const gchar *id,
				JsonObject *inputs,
				GCancellable *cancellable,
				GError **error);
void
aiq_client_list_execution_events_async(AiqClient *self,
				       const gchar *id,
				       gint64 after,
				       GCancellable *cancellable,
				       GAsyncReadyCallback callback,
				       gpointer user_data);
JsonNode *
aiq_client_list_execution_events_sync(AiqClient *self,
				      const gchar *id,
				      gint64 after,
				      GCancellable *cancellable,
				      GError **error);

void
aiq_client_get_stats_async(AiqClient *self,
			   const AiqClientStatsQuery *query,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);
JsonNode *
aiq_client_get_stats_sync(AiqClient *self,
			  const AiqClientStatsQuery *query,
			  GCancellable *cancellable,
			  GError **error);

void
aiq_client_get_usage_async(AiqClient *self,
			   const gchar *tenant,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);
JsonNode *
aiq_client_get_usage_sync(AiqClient *self,
			  const gchar *tenant,
			  GCancellable *cancellable,
			  GError **error);
void
aiq_client_list_audit_async(AiqClient *self,
			    const AiqClientAuditQuery *query,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
JsonNode *
aiq_client_list_audit_sync(AiqClient *self,
			   const AiqClientAuditQuery *query,
			   GCancellable *cancellable,
			   GError **error);

void
aiq_client_list_agents_async(AiqClient *self,
			     const gchar *cursor,
			     guint limit,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
JsonNode *
aiq_client_list_agents_sync(AiqClient *self,
			    const gchar *cursor,
			    guint limit,
			    GCancellable *cancellable,
			    GError **error);
void
aiq_client_create_enrollment_token_async(AiqClient *self,
					 const gchar *name,
					 const gchar *const *labels,
					 const gchar *expires_in,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data);
JsonNode *
aiq_client_create_enrollment_token_sync(AiqClient *self,
					const gchar *name,
					const gchar *const *labels,
					const gchar *expires_in,
					GCancellable *cancellable,
					GError **error);

void
aiq_client_websocket_connect_async(AiqClient *self,
				   const gchar *path,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data);
SoupWebsocketConnection *
aiq_client_websocket_connect_finish(AiqClient *self, GAsyncResult *res, GError **error);

G_END_DECLS
