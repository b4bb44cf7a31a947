/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The harness of the e2e suite: the real automateiq-server and
 * automateiq-agent programs as child processes on 127.0.0.1, an HTTP sink
 * that counts side effects by Idempotency-Key, and a TCP proxy that can cut
 * the network between them. See test-e2e.c for what the tests prove.
 *
 * Children get SIGKILL when the test process dies (PR_SET_PDEATHSIG), so an
 * aborted test leaves no process behind; its temporary directory, with the
 * log of every process, is kept for inspection.
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "aiq-client.h"

G_BEGIN_DECLS

/* how much to do: $@env when set, else @ci under CI=true, else @full */
guint
aiq_e2e_scale(const gchar *env, guint ci, guint full);
/* µs since the epoch of an ISO 8601 time, 0 for %NULL or a bad one */
gint64
aiq_e2e_parse_time(const gchar *iso);
/* a fresh temporary directory for one test, named in a TAP comment */
gchar *
aiq_e2e_make_tmp_dir(const gchar *test_name);
/* removes it, and the databases of the servers in it, unless AIQ_E2E_KEEP=1 */
void
aiq_e2e_remove_tmp_dir(const gchar *dir);

/* a child process; its stdout and stderr go to a log file and to memory */

typedef struct _AiqE2eProcess AiqE2eProcess;

AiqE2eProcess *
aiq_e2e_process_spawn(const gchar *log_path, const gchar *const *argv, GError **error);
void
aiq_e2e_process_free(AiqE2eProcess *proc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqE2eProcess, aiq_e2e_process_free)
gint
aiq_e2e_process_get_pid(AiqE2eProcess *proc);
gboolean
aiq_e2e_process_is_running(AiqE2eProcess *proc);
gchar *
aiq_e2e_process_dup_output(AiqE2eProcess *proc);
gboolean
aiq_e2e_process_wait_output(AiqE2eProcess *proc, const gchar *needle, guint timeout_ms);
/* SIGKILL and reap. Returns: %TRUE when the signal killed it, %FALSE when it
 * had exited already (a crash or an exit of its own) */
gboolean
aiq_e2e_process_kill(AiqE2eProcess *proc);
/* SIGTERM, then SIGKILL after @timeout_ms. Returns: the exit status, or -1 */
gint
aiq_e2e_process_terminate(AiqE2eProcess *proc, guint timeout_ms);
gchar *
aiq_e2e_process_describe_exit(AiqE2eProcess *proc);

/* runs a program to its end (killed after @timeout_ms);
 * Returns: its exit status, -1 when signalled or killed */
gint
aiq_e2e_run(const gchar *const *argv,
	    guint timeout_ms,
	    gchar **out,
	    gchar **err,
	    gint64 *elapsed_us);

/* a real automateiq-server on 127.0.0.1 with its own data directory */

typedef struct {
	gchar *name;
	gchar *dir;      /* the data directory */
	gchar *conf;     /* server.conf */
	gchar *log_path; /* output of every start */
	gchar *ca_file;  /* what clients trust: <dir>/tls.crt unless the config names one */
	gchar *url;      /* of the running process */
	guint16 port;    /* 0: a new one at each start */
	AiqE2eProcess *proc;
	AiqClient *client; /* logged in as the demo tenant's admin */
	gchar *token;
	guint starts;
	guint kills;
	gint n_started; /* executions started through aiq_e2e_server_start_execution() (atomic) */
} AiqE2eServer;

AiqE2eServer *
aiq_e2e_server_new(const gchar *root, const gchar *name, const gchar *conf_text);
void
aiq_e2e_server_free(AiqE2eServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqE2eServer, aiq_e2e_server_free)
/* (re)writes server.conf: @conf_text, every tier's limits at their largest,
 * and with AIQ_TEST_STORE=postgresql the store of the data directory (its
 * database, the same at every start; dropped when the directory is removed
 * by aiq_e2e_remove_tmp_dir()) */
void
aiq_e2e_server_set_config(AiqE2eServer *server, const gchar *conf_text);
void
aiq_e2e_server_set_ca_file(AiqE2eServer *server, const gchar *ca_file);
void
aiq_e2e_server_start(AiqE2eServer *server);
void
aiq_e2e_server_kill(AiqE2eServer *server);
void
aiq_e2e_server_stop(AiqE2eServer *server);

/* REST calls as the demo admin; each asserts success (retrying while the
 * server cannot be reached, for at most a minute) */
JsonNode *
aiq_e2e_server_call(AiqE2eServer *server, const gchar *method, const gchar *path, JsonNode *body);
gchar *
aiq_e2e_server_create_workflow(AiqE2eServer *server, const gchar *yaml);
gchar *
aiq_e2e_server_start_execution(AiqE2eServer *server, const gchar *workflow_id, JsonObject *inputs);
JsonObject *
aiq_e2e_server_get_execution(AiqE2eServer *server, const gchar *id);
JsonArray *
aiq_e2e_server_get_events(AiqE2eServer *server, const gchar *id);
void
aiq_e2e_assert_succeeded(JsonObject *exec, const gchar *id, JsonArray *steps, guint n_steps);
gchar *
aiq_e2e_server_create_enrollment_token(AiqE2eServer *server);
/* every execution of @workflow_id: id → summary (JsonObject) */
GHashTable *
aiq_e2e_server_list_executions(AiqE2eServer *server, const gchar *workflow_id);
guint
aiq_e2e_server_count(AiqE2eServer *server, const gchar *workflow_id, const gchar *status);

/* a real automateiq-agent with its own state directory */

typedef struct {
	gchar *name;
	gchar *dir; /* the state directory */
	gchar *conf;
	gchar *log_path;
	gboolean session_bus; /* on the test's D-Bus instead of --no-dbus */
	AiqE2eProcess *proc;
	guint starts;
	guint kills;
} AiqE2eAgent;

AiqE2eAgent *
aiq_e2e_agent_new(const gchar *root, const gchar *name, const gchar *conf_text);
void
aiq_e2e_agent_free(AiqE2eAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqE2eAgent, aiq_e2e_agent_free)
/* runs `automateiq-agent enroll`; Returns: its exit status, the output in @output */
gint
aiq_e2e_agent_try_enroll(AiqE2eAgent *agent,
			 const gchar *url,
			 const gchar *token,
			 const gchar *ca_file,
			 gchar **output,
			 gint64 *elapsed_us);
/* enrolls with @server (through @url when not %NULL), asserting success */
void
aiq_e2e_agent_enroll(AiqE2eAgent *agent, AiqE2eServer *server, const gchar *url);
void
aiq_e2e_agent_start(AiqE2eAgent *agent);
/* SIGKILL; fails the test when the agent had died by itself */
void
aiq_e2e_agent_kill(AiqE2eAgent *agent);
void
aiq_e2e_agent_stop(AiqE2eAgent *agent);
gboolean
aiq_e2e_agent_is_running(AiqE2eAgent *agent);
/* `automateiq-agent status --json` */
JsonObject *
aiq_e2e_agent_status(AiqE2eAgent *agent);
/* the output of every run of this agent so far contains @needle */
gboolean
aiq_e2e_agent_log_contains(AiqE2eAgent *agent, const gchar *needle);

/* an HTTP sink on 127.0.0.1 counting requests per Idempotency-Key */

typedef struct _AiqE2eSink AiqE2eSink;

typedef struct {
	guint count;
	gint64 first_us;
	gint64 last_us;
} AiqE2eSinkKey;

AiqE2eSink *
aiq_e2e_sink_new(guint delay_min_ms, guint delay_max_ms);
void
aiq_e2e_sink_free(AiqE2eSink *sink);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqE2eSink, aiq_e2e_sink_free)
const gchar *
aiq_e2e_sink_get_url(AiqE2eSink *sink);
guint64
aiq_e2e_sink_get_requests(AiqE2eSink *sink);
guint64
aiq_e2e_sink_get_requests_without_key(AiqE2eSink *sink);
/* key → AiqE2eSinkKey, a copy */
GHashTable *
aiq_e2e_sink_dup_keys(AiqE2eSink *sink);

/* a TCP proxy on 127.0.0.1 that can be cut */

typedef struct _AiqE2eProxy AiqE2eProxy;

AiqE2eProxy *
aiq_e2e_proxy_new(guint16 target_port);
void
aiq_e2e_proxy_free(AiqE2eProxy *proxy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqE2eProxy, aiq_e2e_proxy_free)
guint16
aiq_e2e_proxy_get_port(AiqE2eProxy *proxy);
gchar *
aiq_e2e_proxy_dup_url(AiqE2eProxy *proxy);
void
aiq_e2e_proxy_set_target(AiqE2eProxy *proxy, guint16 target_port);
/* %FALSE closes every connection and refuses new ones until %TRUE again */
void
aiq_e2e_proxy_set_connected(AiqE2eProxy *proxy, gboolean connected);
guint64
aiq_e2e_proxy_get_refused(AiqE2eProxy *proxy);
guint64
aiq_e2e_proxy_get_cut(AiqE2eProxy *proxy);

G_END_DECLS
