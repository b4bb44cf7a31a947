/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

#include "aiq-config.h"
#include "aiq-engine.h"

G_BEGIN_DECLS

/**
 * AiqAgentConnection:
 * @AIQ_AGENT_CONNECTION_UNENROLLED: no credential yet
 * @AIQ_AGENT_CONNECTION_CONNECTING: enrolled, no call has answered yet
 * @AIQ_AGENT_CONNECTION_ONLINE: the last call to the server worked
 * @AIQ_AGENT_CONNECTION_OFFLINE: the server cannot be reached; retrying with backoff
 * @AIQ_AGENT_CONNECTION_REFUSED: the server refused the credential (revoked,
 *   disabled agent, untrusted certificate); retrying slowly
 */
typedef enum {
	AIQ_AGENT_CONNECTION_UNENROLLED,
	AIQ_AGENT_CONNECTION_CONNECTING,
	AIQ_AGENT_CONNECTION_ONLINE,
	AIQ_AGENT_CONNECTION_OFFLINE,
	AIQ_AGENT_CONNECTION_REFUSED,
} AiqAgentConnection;

const gchar *
aiq_agent_connection_to_string(AiqAgentConnection connection);

/**
 * AiqAgent:
 *
 * The agent's core: enrollment, the lease loop, heartbeats, the engine that
 * runs leased executions and the outbox that syncs the engine's journal to
 * the server. Plain GObject: it emits signals and notifies its properties;
 * the D-Bus layer (#AiqAgentDbus) and the CLI are thin adapters over it.
 *
 * Properties: `enrolled`, `server`, `agent-id`, `name`, `labels`,
 * `connection`, `last-error`, `running` (a strv of execution ids), `capacity`,
 * `outbox-depth`, `outbox-full`, `version`.
 *
 * Signals: `execution-started` (id, workflow), `execution-finished` (id, status).
 */
#define AIQ_TYPE_AGENT (aiq_agent_get_type())
G_DECLARE_FINAL_TYPE(AiqAgent, aiq_agent, AIQ, AGENT, GObject)

/**
 * aiq_agent_new:
 * @config_file: (nullable): the agent.conf to read; %NULL for none
 * @state_dir: the state directory (credential, journal, secrets)
 *
 * Reads the configuration and the enrollment; starts nothing.
 */
AiqAgent *
aiq_agent_new(const gchar *config_file, const gchar *state_dir, GError **error);

/* opens the journal, resumes unfinished executions, starts the loops */
gboolean
aiq_agent_start(AiqAgent *self, GError **error);
/* stops leasing and syncing; running executions stay in the journal */
void
aiq_agent_stop(AiqAgent *self);

const gchar *
aiq_agent_get_state_dir(AiqAgent *self);
AiqConfig *
aiq_agent_get_config(AiqAgent *self);
AiqEngine *
aiq_agent_get_engine(AiqAgent *self);
gboolean
aiq_agent_get_enrolled(AiqAgent *self);
const gchar *
aiq_agent_get_server(AiqAgent *self);
const gchar *
aiq_agent_get_agent_id(AiqAgent *self);
const gchar *
aiq_agent_get_name(AiqAgent *self);
const gchar *const *
aiq_agent_get_labels(AiqAgent *self);
AiqAgentConnection
aiq_agent_get_connection(AiqAgent *self);
const gchar *
aiq_agent_get_last_error(AiqAgent *self);
/* Returns: (transfer full): the ids of the executions running here */
gchar **
aiq_agent_dup_running(AiqAgent *self);
guint
aiq_agent_get_capacity(AiqAgent *self);
guint64
aiq_agent_get_outbox_depth(AiqAgent *self);
gboolean
aiq_agent_get_outbox_full(AiqAgent *self);
const gchar *
aiq_agent_get_version(AiqAgent *self);

/**
 * aiq_agent_enroll_async:
 * @server: https://… (http:// only for a loopback address)
 * @token: the one-time enrollment token
 * @name: (nullable): the agent's name; %NULL for the configured one or the host name
 * @labels: (nullable): labels; %NULL for the configured ones
 * @ca_pem: (nullable): PEM certificates to trust for @server; %NULL for the
 *   configured CA file or the system's trust store
 *
 * Trades @token for a credential, stores it in the state directory (mode
 * 0600) and replaces any earlier enrollment. A running agent reconnects.
 */
void
aiq_agent_enroll_async(AiqAgent *self,
		       const gchar *server,
		       const gchar *token,
		       const gchar *name,
		       const gchar *const *labels,
		       const gchar *ca_pem,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);
gboolean
aiq_agent_enroll_finish(AiqAgent *self, GAsyncResult *res, GError **error);

/**
 * aiq_agent_test_step_async:
 * @step_json: one step, as JSON
 * @inputs_json: (nullable): a JSON object of inputs
 *
 * Runs one step with this agent's configuration and secrets, outside any
 * execution: nothing is journaled or sent to the server.
 */
void
aiq_agent_test_step_async(AiqAgent *self,
			  const gchar *step_json,
			  const gchar *inputs_json,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
/**
 * aiq_agent_test_step_finish:
 * @result_json: (out): `{"status", "output", "error", "attempts", "duration_ms"}`
 * @log: (out): the step's log lines
 */
gboolean
aiq_agent_test_step_finish(AiqAgent *self,
			   GAsyncResult *res,
			   gchar **result_json,
			   gchar **log,
			   GError **error);

G_END_DECLS
