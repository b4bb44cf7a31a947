/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "aiq-agent"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "aiq-agent-outbox.h"
#include "aiq-agent-secret-store.h"
#include "aiq-agent.h"
#include "aiq-client.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-util.h"

#define AIQ_AGENT_ENROLLMENT_FILE "enrollment.json"
#define AIQ_AGENT_CA_FILE "server-ca.pem"
#define AIQ_AGENT_JOURNAL_FILE "journal.db"
#define AIQ_AGENT_DEFAULT_CAPACITY 16
#define AIQ_AGENT_DEFAULT_BUDGET (G_GUINT64_CONSTANT(1) << 30)
#define AIQ_AGENT_MAX_HELD 10000 /* the server's limit on a heartbeat's list */
#define AIQ_AGENT_BACKOFF_MIN_MS 500
#define AIQ_AGENT_BACKOFF_MAX_MS 30000
#define AIQ_AGENT_REFUSED_BACKOFF_MS 60000

struct _AiqAgent {
	GObject parent_instance;
	gchar *state_dir;
	gchar *config_file;
	AiqConfig *config;

	/* [agent] in the configuration */
	gchar *config_server;
	gchar *config_ca;
	gchar *config_name;
	gchar **config_labels;
	guint capacity;
	guint64 outbox_budget;
	gint64 heartbeat_ms_override;

	/* the enrollment */
	gchar *server;
	gchar *agent_id;
	gchar *tenant_id;
	gchar *credential;
	gchar *name;
	gchar **labels;
	gint64 heartbeat_ms;
	gint64 long_poll_ms;

	/* running */
	gboolean started;
	AiqJournal *journal;
	AiqEngine *engine;
	AiqAgentOutbox *outbox;
	AiqClient *client;
	AiqAgentConnection connection;
	gchar *last_error;
	gboolean outbox_full;
	GCancellable *cancellable; /* of the lease and heartbeat calls */
	gboolean lease_in_flight;
	guint lease_retry_source;
	guint lease_backoff_ms;
	gboolean heartbeat_in_flight;
	guint heartbeat_source;
	guint budget_source;

	/* running and outbox-depth change thousands of times a second: their
	 * notifications are coalesced */
	guint notify_source;
	gboolean running_dirty;
	gboolean depth_dirty;

	/* the secrets file as last loaded: `secret set` takes effect at the next job */
	gint64 secrets_mtime;

	/* jobs leased again while their lost run still stops here */
	GHashTable *deferred_jobs; /* execution id → JsonObject */

	/* TestStep: an engine without a journal */
	AiqEngine *test_engine;
};

G_DEFINE_TYPE(AiqAgent, aiq_agent, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_ENROLLED,
	PROP_SERVER,
	PROP_AGENT_ID,
	PROP_NAME,
	PROP_LABELS,
	PROP_CONNECTION,
	PROP_LAST_ERROR,
	PROP_RUNNING,
	PROP_CAPACITY,
	PROP_OUTBOX_DEPTH,
	PROP_OUTBOX_FULL,
	PROP_VERSION,
	N_PROPS
};
static GParamSpec *aiq_agent_props[N_PROPS] = { NULL };

enum { SIGNAL_EXECUTION_STARTED, SIGNAL_EXECUTION_FINISHED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

static void
aiq_agent_lease(AiqAgent *self);
static gboolean
aiq_agent_budget_cb(gpointer user_data);
static void
aiq_agent_connect(AiqAgent *self);

const gchar *
aiq_agent_connection_to_string(AiqAgentConnection connection)
{
	switch (connection) {
	case AIQ_AGENT_CONNECTION_UNENROLLED:
		return "unenrolled";
	case AIQ_AGENT_CONNECTION_CONNECTING:
		return "connecting";
	case AIQ_AGENT_CONNECTION_ONLINE:
		return "online";
	case AIQ_AGENT_CONNECTION_OFFLINE:
		return "offline";
	case AIQ_AGENT_CONNECTION_REFUSED:
		return "refused";
	default:
		return "unknown";
	}
}

static void
aiq_agent_notify(AiqAgent *self, guint prop)
{
	g_object_notify_by_pspec(G_OBJECT(self), aiq_agent_props[prop]);
}

/* configuration */

static const gchar *const aiq_agent_config_keys[] = { "server",    "ca",       "name",
						      "labels",    "capacity", "outbox-budget",
						      "heartbeat", NULL };

static gboolean
aiq_agent_load_config(AiqAgent *self, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_auto(GStrv) keys = NULL;
	g_autofree gchar *base_dir = NULL;
	g_autofree gchar *rest = NULL;
	g_autofree gchar *str = NULL;
	gsize len = 0;

	self->config = aiq_config_new();
	if (self->config_file == NULL)
		return TRUE;
	base_dir = g_path_get_dirname(self->config_file);
	if (!g_key_file_load_from_file(kf, self->config_file, G_KEY_FILE_KEEP_COMMENTS, error)) {
		g_prefix_error(error, "%s: ", self->config_file);
		return FALSE;
	}
	keys = g_key_file_get_keys(kf, "agent", NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		const gchar *key = keys[i];
		const gchar *suggestion;
		if (g_strv_contains(aiq_agent_config_keys, key))
			continue;
		suggestion = aiq_suggest(key, aiq_agent_config_keys);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    suggestion != NULL ? _("%s: [agent] %s: unknown key; did you mean %s?")
					       : _("%s: [agent] %s: unknown key%s"),
			    self->config_file,
			    key,
			    suggestion != NULL ? suggestion : "");
		return FALSE;
	}
	self->config_server = g_key_file_get_string(kf, "agent", "server", NULL);
	self->config_name = g_key_file_get_string(kf, "agent", "name", NULL);
	str = g_key_file_get_string(kf, "agent", "ca", NULL);
	if (str != NULL && str[0] != '\0') {
		g_strstrip(str);
		self->config_ca = g_path_is_absolute(str) ? g_strdup(str)
							  : g_build_filename(base_dir, str, NULL);
	}
	g_clear_pointer(&str, g_free);
	if (g_key_file_has_key(kf, "agent", "labels", NULL)) {
		self->config_labels = g_key_file_get_string_list(kf, "agent", "labels", NULL, NULL);
		for (guint i = 0; self->config_labels != NULL && self->config_labels[i] != NULL;
		     i++)
			g_strstrip(self->config_labels[i]);
	}
	str = g_key_file_get_string(kf, "agent", "capacity", NULL);
	if (str != NULL) {
		guint64 value = 0;
		if (!g_ascii_string_to_unsigned(g_strstrip(str), 10, 1, 1000, &value, NULL)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("%s: [agent] capacity: “%s” is not a number from 1 to 1000"),
				    self->config_file,
				    str);
			return FALSE;
		}
		self->capacity = (guint)value;
	}
	g_clear_pointer(&str, g_free);
	str = g_key_file_get_string(kf, "agent", "outbox-budget", NULL);
	if (str != NULL) {
		g_autoptr(GError) error_local = NULL;
		if (!aiq_size_parse(g_strstrip(str), &self->outbox_budget, &error_local) ||
		    self->outbox_budget < 1024 * 1024) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("%s: [agent] outbox-budget: %s"),
				    self->config_file,
				    error_local != NULL ? error_local->message
							: _("at least 1MiB"));
			return FALSE;
		}
	}
	g_clear_pointer(&str, g_free);
	str = g_key_file_get_string(kf, "agent", "heartbeat", NULL);
	if (str != NULL) {
		g_autoptr(GError) error_local = NULL;
		if (!aiq_duration_parse(g_strstrip(str),
					&self->heartbeat_ms_override,
					&error_local) ||
		    self->heartbeat_ms_override < 100) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("%s: [agent] heartbeat: %s"),
				    self->config_file,
				    error_local != NULL ? error_local->message
							: _("at least 100ms"));
			return FALSE;
		}
	}

	/* everything else is the engine's */
	g_key_file_remove_group(kf, "agent", NULL);
	rest = g_key_file_to_data(kf, &len, NULL);
	if (!aiq_config_load_data(self->config, rest, len, base_dir, error)) {
		g_prefix_error(error, "%s: ", self->config_file);
		return FALSE;
	}
	return TRUE;
}

/* the enrollment in the state directory */

static gchar *
aiq_agent_state_path(AiqAgent *self, const gchar *name)
{
	return g_build_filename(self->state_dir, name, NULL);
}

static gboolean
aiq_agent_ensure_state_dir(AiqAgent *self, GError **error)
{
	if (g_mkdir_with_parents(self->state_dir, 0700) != 0) {
		gint errsv = errno;
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_PERMISSION_DENIED,
			    _("%s: cannot create the state directory: %s"),
			    self->state_dir,
			    g_strerror(errsv));
		return FALSE;
	}
	return TRUE;
}

static gchar **
aiq_agent_strv_from_array(JsonArray *array)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	for (guint i = 0; array != NULL && i < json_array_get_length(array); i++) {
		const gchar *str = json_array_get_string_element(array, i);
		if (str != NULL)
			g_strv_builder_add(builder, str);
	}
	return g_strv_builder_end(builder);
}

static gboolean
aiq_agent_load_enrollment(AiqAgent *self, GError **error)
{
	g_autofree gchar *path = aiq_agent_state_path(self, AIQ_AGENT_ENROLLMENT_FILE);
	g_autofree gchar *data = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) error_local = NULL;
	JsonObject *obj;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &error_local)) {
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_PERMISSION_DENIED,
			    _("%s: cannot read the enrollment: %s"),
			    path,
			    error_local->message);
		return FALSE;
	}
	root = aiq_json_parse(data, len, 8, &error_local);
	obj = root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
	if (obj == NULL || aiq_json_object_get_string(obj, "server") == NULL ||
	    aiq_json_object_get_string(obj, "credential") == NULL ||
	    aiq_json_object_get_string(obj, "agent_id") == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONFIG,
			    _("%s: not a valid enrollment; enroll again"),
			    path);
		return FALSE;
	}
	self->server = g_strdup(aiq_json_object_get_string(obj, "server"));
	self->agent_id = g_strdup(aiq_json_object_get_string(obj, "agent_id"));
	self->tenant_id = g_strdup(aiq_json_object_get_string(obj, "tenant_id"));
	self->credential = g_strdup(aiq_json_object_get_string(obj, "credential"));
	self->name = g_strdup(aiq_json_object_get_string(obj, "name"));
	self->labels = aiq_agent_strv_from_array(aiq_json_object_get_array(obj, "labels"));
	self->heartbeat_ms = aiq_json_object_get_int(obj, "heartbeat_ms", 10000);
	self->long_poll_ms = aiq_json_object_get_int(obj, "long_poll_ms", 25000);
	return TRUE;
}

/* http:// only to this machine: a credential never crosses a network in clear */
static gboolean
aiq_agent_check_server_url(const gchar *server, GError **error)
{
	g_autoptr(GUri) uri = g_uri_parse(server, G_URI_FLAGS_NONE, NULL);
	const gchar *scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
	const gchar *host = uri != NULL ? g_uri_get_host(uri) : NULL;
	g_autoptr(GInetAddress) address = NULL;

	if (scheme != NULL && g_ascii_strcasecmp(scheme, "https") == 0)
		return TRUE;
	if (scheme == NULL || g_ascii_strcasecmp(scheme, "http") != 0 || host == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a server address such as https://aiq.example.com"),
			    server);
		return FALSE;
	}
	address = g_inet_address_new_from_string(host);
	if ((address != NULL && g_inet_address_get_is_loopback(address)) ||
	    g_ascii_strcasecmp(host, "localhost") == 0)
		return TRUE;
	g_set_error(
		error,
		AIQ_ERROR,
		AIQ_ERROR_PERMISSION_DENIED,
		_("%s: plain HTTP is only allowed to this machine (127.0.0.1, ::1); use https://"),
		server);
	return FALSE;
}

static AiqClient *
aiq_agent_new_client(AiqAgent *self, const gchar *server, const gchar *ca_file, GError **error)
{
	g_autoptr(AiqClient) client = NULL;
	g_autofree gchar *user_agent = g_strdup_printf("automateiq-agent/%s", PACKAGE_VERSION);

	if (!aiq_agent_check_server_url(server, error))
		return NULL;
	client = aiq_client_new(server, error);
	if (client == NULL)
		return NULL;
	aiq_client_set_user_agent(client, user_agent);
	aiq_client_use_environment_proxy(client);
	aiq_client_set_reuse_connections(client, TRUE);
	/* with a CA, only that CA: stricter, and the system's store stays unloaded */
	if (ca_file != NULL && !aiq_client_set_trusted_ca_file(client, ca_file, error))
		return NULL;
	return g_steal_pointer(&client);
}

/* the CA for the enrolled server: the one given at enrollment, else the configured one */
static gchar *
aiq_agent_dup_ca_file(AiqAgent *self)
{
	g_autofree gchar *path = aiq_agent_state_path(self, AIQ_AGENT_CA_FILE);
	if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
		return g_steal_pointer(&path);
	return g_strdup(self->config_ca);
}

/* connection state */

static void
aiq_agent_set_connection(AiqAgent *self, AiqAgentConnection connection, const gchar *error)
{
	if (g_strcmp0(self->last_error, error) != 0) {
		g_free(self->last_error);
		self->last_error = g_strdup(error);
		aiq_agent_notify(self, PROP_LAST_ERROR);
	}
	if (self->connection == connection)
		return;
	if (connection == AIQ_AGENT_CONNECTION_ONLINE &&
	    self->connection != AIQ_AGENT_CONNECTION_CONNECTING)
		g_message("connected to %s again", self->server);
	else if (connection == AIQ_AGENT_CONNECTION_ONLINE)
		g_message("connected to %s", self->server);
	else if (connection == AIQ_AGENT_CONNECTION_OFFLINE)
		g_warning("%s cannot be reached; working offline and retrying: %s",
			  self->server,
			  error != NULL ? error : "");
	else if (connection == AIQ_AGENT_CONNECTION_REFUSED)
		g_warning("%s refused this agent: %s", self->server, error != NULL ? error : "");
	/* back online: send what piled up now, not at the end of a backoff */
	if (connection == AIQ_AGENT_CONNECTION_ONLINE && self->outbox != NULL &&
	    (self->connection == AIQ_AGENT_CONNECTION_OFFLINE ||
	     self->connection == AIQ_AGENT_CONNECTION_REFUSED))
		aiq_agent_outbox_kick(self->outbox);
	self->connection = connection;
	aiq_agent_notify(self, PROP_CONNECTION);
}

static void
aiq_agent_call_worked(AiqAgent *self)
{
	gboolean first = self->connection == AIQ_AGENT_CONNECTION_CONNECTING;
	aiq_agent_set_connection(self, AIQ_AGENT_CONNECTION_ONLINE, NULL);
#ifdef __GLIBC__
	/* starting up (TLS, the journal, the engine) leaves freed memory in
	 * the heap that an idle agent never reuses: give it back */
	if (first)
		malloc_trim(0);
#endif
}

/* Returns: %TRUE when retrying soon can help */
static gboolean
aiq_agent_call_failed(AiqAgent *self, const GError *error, AiqClientReply *reply)
{
	gboolean refused = g_error_matches(error, AIQ_ERROR, AIQ_ERROR_UNAUTHENTICATED) ||
			   g_error_matches(error, AIQ_ERROR, AIQ_ERROR_FORBIDDEN) ||
			   (reply != NULL && aiq_client_reply_get_tls_errors(reply) != 0);
	/* a rate limit or quota answer comes from a server that works: the
	 * caller waits as long as it asks, the agent is not offline */
	if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_RATE_LIMITED) ||
	    g_error_matches(error, AIQ_ERROR, AIQ_ERROR_QUOTA_EXCEEDED))
		return TRUE;
	aiq_agent_set_connection(self,
				 refused ? AIQ_AGENT_CONNECTION_REFUSED
					 : AIQ_AGENT_CONNECTION_OFFLINE,
				 error->message);
	return !refused;
}

static void
aiq_agent_outbox_sent_cb(AiqAgentOutbox *outbox, gpointer user_data)
{
	aiq_agent_call_worked(AIQ_AGENT(user_data));
}

static void
aiq_agent_outbox_failed_cb(AiqAgentOutbox *outbox,
			   GError *error,
			   AiqClientReply *reply,
			   gpointer user_data)
{
	aiq_agent_call_failed(AIQ_AGENT(user_data), error, reply);
}

#define AIQ_AGENT_NOTIFY_MS 200

static gboolean
aiq_agent_notify_cb(gpointer user_data)
{
	AiqAgent *self = AIQ_AGENT(user_data);
	self->notify_source = 0;
	g_object_freeze_notify(G_OBJECT(self));
	if (self->running_dirty)
		aiq_agent_notify(self, PROP_RUNNING);
	if (self->depth_dirty)
		aiq_agent_notify(self, PROP_OUTBOX_DEPTH);
	self->running_dirty = FALSE;
	self->depth_dirty = FALSE;
	g_object_thaw_notify(G_OBJECT(self));
	return G_SOURCE_REMOVE;
}

static void
aiq_agent_queue_notify(AiqAgent *self, gboolean *dirty)
{
	*dirty = TRUE;
	if (self->notify_source == 0)
		self->notify_source = g_timeout_add(AIQ_AGENT_NOTIFY_MS, aiq_agent_notify_cb, self);
}

static void
aiq_agent_outbox_depth_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	AiqAgent *self = AIQ_AGENT(user_data);
	aiq_agent_queue_notify(self, &self->depth_dirty);
}

static void
aiq_agent_log_execution(AiqAgent *self,
			GLogLevelFlags level,
			const gchar *execution_id,
			const gchar *step_id,
			const gchar *message)
{
	g_log_structured(G_LOG_DOMAIN,
			 level,
			 "EXECUTION_ID",
			 execution_id,
			 "STEP_ID",
			 step_id != NULL ? step_id : "",
			 "TENANT",
			 self->tenant_id != NULL ? self->tenant_id : "",
			 "MESSAGE",
			 "%s",
			 message);
}

/* the server will not take this execution from us any more: stop it */
static void
aiq_agent_outbox_rejected_cb(AiqAgentOutbox *outbox,
			     const gchar *execution_id,
			     const gchar *reason,
			     gpointer user_data)
{
	AiqAgent *self = AIQ_AGENT(user_data);
	g_autofree gchar *message = g_strdup_printf(
		_("execution %s is no longer this agent's (%s); stopping it and dropping its "
		  "events"),
		execution_id,
		reason);
	aiq_agent_log_execution(self, G_LOG_LEVEL_WARNING, execution_id, NULL, message);
	if (aiq_engine_lookup(self->engine, execution_id) != NULL)
		aiq_engine_cancel(self->engine, execution_id, _("the lease was lost"));
}

static void
aiq_agent_outbox_synced_cb(AiqAgentOutbox *outbox, const gchar *execution_id, gpointer user_data)
{
	AiqAgent *self = AIQ_AGENT(user_data);
	g_debug("execution %s is synced", execution_id);
	aiq_agent_lease(self);
}

/* the work loop */

static guint
aiq_agent_backoff(guint *backoff_ms)
{
	*backoff_ms = CLAMP(*backoff_ms * 2, AIQ_AGENT_BACKOFF_MIN_MS, AIQ_AGENT_BACKOFF_MAX_MS);
	return *backoff_ms / 2 + (guint)g_random_int_range(0, (gint)*backoff_ms / 2 + 1);
}

static guint
aiq_agent_get_free(AiqAgent *self)
{
	guint running = aiq_engine_get_n_running(self->engine);
	return running >= self->capacity ? 0 : self->capacity - running;
}

static gboolean
aiq_agent_lease_retry_cb(gpointer user_data)
{
	AiqAgent *self = AIQ_AGENT(user_data);
	self->lease_retry_source = 0;
	aiq_agent_lease(self);
	return G_SOURCE_REMOVE;
}

static void
aiq_agent_append_event(AiqAgent *self, AiqEvent *event)
{
	guint64 lsn = aiq_journal_append(self->journal, event);
	aiq_agent_outbox_track(self->outbox, event, lsn);
}

/* a job this agent cannot start still ends on the server, with the reason */
static void
aiq_agent_fail_job(AiqAgent *self,
		   const gchar *execution_id,
		   const gchar *workflow,
		   gint64 last_seq,
		   const GError *error)
{
	g_autoptr(AiqEvent) created =
		aiq_event_new(AIQ_EVENT_EXECUTION_CREATED, execution_id, last_seq + 1);
	g_autoptr(AiqEvent) finished =
		aiq_event_new(AIQ_EVENT_EXECUTION_FINISHED, execution_id, last_seq + 2);
	g_autofree gchar *message = NULL;
	JsonObject *data = json_object_new();
	JsonObject *err = json_object_new();

	json_object_set_string_member(data, "workflow", workflow != NULL ? workflow : "");
	created->time_us = g_get_real_time();
	created->data = aiq_json_new_object(data);
	finished->time_us = created->time_us;
	finished->status = g_strdup("failed");
	json_object_set_string_member(
		err,
		"code",
		error->domain == AIQ_ERROR ? aiq_error_code_to_string(error->code) : "failed");
	json_object_set_string_member(err, "message", error->message);
	data = json_object_new();
	json_object_set_object_member(data, "error", err);
	finished->data = aiq_json_new_object(data);
	aiq_agent_append_event(self, created);
	aiq_agent_append_event(self, finished);
	message = g_strdup_printf(_("execution %s cannot run here: %s"),
				  execution_id,
				  error->message);
	aiq_agent_log_execution(self, G_LOG_LEVEL_WARNING, execution_id, NULL, message);
}

static gint64
aiq_agent_secrets_mtime(AiqAgent *self)
{
	g_autofree gchar *path = aiq_agent_state_path(self, "secrets.enc");
	GStatBuf st;
	if (g_stat(path, &st) != 0)
		return 0;
	return (gint64)st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
}

static gboolean
aiq_agent_load_secrets(AiqAgent *self, GError **error)
{
	g_autoptr(AiqAgentSecretStore) store = aiq_agent_secret_store_new(self->state_dir);
	g_autoptr(AiqSecrets) secrets = NULL;
	gint64 mtime = aiq_agent_secrets_mtime(self);
	secrets = aiq_agent_secret_store_load(store, error);
	if (secrets == NULL)
		return FALSE;
	self->secrets_mtime = mtime;
	aiq_engine_set_secrets(self->engine, secrets);
	if (self->test_engine != NULL)
		aiq_engine_set_secrets(self->test_engine, secrets);
	return TRUE;
}

/* `automateiq-agent secret set` while the daemon runs */
static void
aiq_agent_refresh_secrets(AiqAgent *self)
{
	g_autoptr(GError) error = NULL;
	if (aiq_agent_secrets_mtime(self) == self->secrets_mtime)
		return;
	if (!aiq_agent_load_secrets(self, &error))
		g_warning("the local secrets changed but cannot be read: %s", error->message);
	else
		g_message("local secrets reloaded");
}

static void
aiq_agent_start_job(AiqAgent *self, JsonObject *job)
{
	const gchar *execution_id = aiq_json_object_get_string(job, "execution_id");
	JsonObject *workflow = aiq_json_object_get_object(job, "workflow");
	const gchar *workflow_name =
		workflow != NULL ? aiq_json_object_get_string(workflow, "name") : NULL;
	JsonNode *definition_node = json_object_get_member(job, "definition");
	gint64 last_seq = aiq_json_object_get_int(job, "last_seq", 0);
	g_autoptr(AiqDefinition) definition = NULL;
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqExecution) exec = NULL;
	g_autoptr(GError) error = NULL;
	AiqStartOptions options = { 0 };

	if (execution_id == NULL || !aiq_id_is_valid(execution_id)) {
		g_warning("the server sent a job without a valid execution id");
		return;
	}
	if (aiq_engine_lookup(self->engine, execution_id) != NULL) {
		/* the lost run still stops: start the new lease once it has */
		if (aiq_agent_outbox_is_abandoned(self->outbox, execution_id))
			g_hash_table_replace(self->deferred_jobs,
					     g_strdup(execution_id),
					     json_object_ref(job));
		else
			g_debug("execution %s is running here already", execution_id);
		return;
	}
	/* leased again after this agent lost it: the server has what it applied,
	 * and this agent's later events for it are void */
	if (aiq_agent_outbox_holds(self->outbox, execution_id) ||
	    aiq_agent_outbox_is_abandoned(self->outbox, execution_id)) {
		aiq_agent_outbox_abandon(self->outbox, execution_id);
		/* and what the lost run journaled while it stopped, before the new
		 * run's events (which reuse its sequence numbers) */
		aiq_journal_forget(self->journal, execution_id);
	}
	aiq_agent_outbox_revive(self->outbox, execution_id);

	if (definition_node == NULL || !JSON_NODE_HOLDS_OBJECT(definition_node)) {
		g_set_error_literal(&error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_DEFINITION,
				    _("the server could not read the workflow's definition"));
		aiq_agent_fail_job(self, execution_id, workflow_name, last_seq, error);
		return;
	}
	definition = aiq_definition_new_from_node(definition_node, self->config, problems);
	if (definition == NULL) {
		g_autofree gchar *text = aiq_problems_to_string(problems, NULL);
		g_set_error(&error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_DEFINITION,
			    _("the definition is not valid on this agent: %s"),
			    text);
		aiq_agent_fail_job(self, execution_id, workflow_name, last_seq, error);
		return;
	}
	aiq_agent_refresh_secrets(self);
	options.id = execution_id;
	options.trigger = aiq_json_object_get_string(job, "trigger");
	options.completed = aiq_json_object_get_object(job, "completed");
	options.last_seq = last_seq;
	exec = aiq_engine_start(self->engine,
				definition,
				aiq_json_object_get_object(job, "inputs"),
				&options,
				&error);
	if (exec == NULL)
		aiq_agent_fail_job(self, execution_id, workflow_name, last_seq, error);
}

static void
aiq_agent_lease_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqAgent) self = AIQ_AGENT(user_data);
	g_autoptr(AiqClientReply) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonArray *jobs;

	root = aiq_client_request_finish(AIQ_CLIENT(source), res, &reply, &error);
	if (root == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	self->lease_in_flight = FALSE;
	if (root == NULL) {
		guint delay;
		if (aiq_agent_call_failed(self, error, reply))
			delay = aiq_agent_backoff(&self->lease_backoff_ms);
		else
			delay = AIQ_AGENT_REFUSED_BACKOFF_MS / 2 +
				(guint)g_random_int_range(0, AIQ_AGENT_REFUSED_BACKOFF_MS / 2);
		if (reply != NULL && aiq_client_reply_get_retry_after(reply) > 0)
			delay = MAX(delay,
				    (guint)MIN(aiq_client_reply_get_retry_after(reply), 3600) *
					    1000);
		g_debug("failed to lease jobs (retrying in %u ms): %s", delay, error->message);
		self->lease_retry_source = g_timeout_add(delay, aiq_agent_lease_retry_cb, self);
		return;
	}
	self->lease_backoff_ms = 0;
	aiq_agent_call_worked(self);
	jobs = JSON_NODE_HOLDS_OBJECT(root)
		       ? aiq_json_object_get_array(json_node_get_object(root), "jobs")
		       : NULL;
	for (guint i = 0; jobs != NULL && i < json_array_get_length(jobs); i++) {
		JsonNode *node = json_array_get_element(jobs, i);
		if (JSON_NODE_HOLDS_OBJECT(node))
			aiq_agent_start_job(self, json_node_get_object(node));
	}
	aiq_agent_lease(self);
}

static void
aiq_agent_lease(AiqAgent *self)
{
	g_autoptr(JsonObject) body = NULL;
	g_autoptr(JsonNode) node = NULL;
	guint free_slots;

	if (!self->started || self->client == NULL || self->lease_in_flight ||
	    self->lease_retry_source != 0 || self->outbox_full)
		return;
	/* the budget check runs every second; a failing journal stops leases at once */
	if (aiq_journal_get_write_error(self->journal) != NULL) {
		aiq_agent_budget_cb(self);
		return;
	}
	free_slots = aiq_agent_get_free(self);
	if (free_slots == 0)
		return;
	body = json_object_new();
	json_object_set_int_member(body, "capacity", free_slots);
	json_object_set_int_member(body, "wait_ms", self->long_poll_ms);
	if (self->config_labels != NULL && self->config_labels[0] != NULL) {
		JsonArray *labels = json_array_new();
		for (guint i = 0; self->config_labels[i] != NULL; i++)
			json_array_add_string_element(labels, self->config_labels[i]);
		json_object_set_array_member(body, "labels", labels);
	}
	node = aiq_json_new_object(g_steal_pointer(&body));
	self->lease_in_flight = TRUE;
	aiq_client_request_async(self->client,
				 "POST",
				 "/api/v1/agent/lease",
				 node,
				 NULL,
				 NULL,
				 self->cancellable,
				 aiq_agent_lease_cb,
				 g_object_ref(self));
}

static void
aiq_agent_heartbeat_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqAgent) self = AIQ_AGENT(user_data);
	g_autoptr(AiqClientReply) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *obj;
	JsonArray *cancel;
	JsonArray *lost;

	root = aiq_client_request_finish(AIQ_CLIENT(source), res, &reply, &error);
	if (root == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	self->heartbeat_in_flight = FALSE;
	if (root == NULL) {
		g_prefix_error(&error, _("heartbeat failed: "));
		aiq_agent_call_failed(self, error, reply);
		return;
	}
	aiq_agent_call_worked(self);
	obj = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
	cancel = obj != NULL ? aiq_json_object_get_array(obj, "cancel") : NULL;
	lost = obj != NULL ? aiq_json_object_get_array(obj, "lost") : NULL;
	for (guint i = 0; cancel != NULL && i < json_array_get_length(cancel); i++) {
		const gchar *id = json_array_get_string_element(cancel, i);
		if (id != NULL && aiq_engine_cancel(self->engine, id, _("cancelled by a user"))) {
			g_autofree gchar *message =
				g_strdup_printf(_("execution %s: cancelled by a user"), id);
			aiq_agent_log_execution(self, G_LOG_LEVEL_MESSAGE, id, NULL, message);
		}
	}
	for (guint i = 0; lost != NULL && i < json_array_get_length(lost); i++) {
		const gchar *id = json_array_get_string_element(lost, i);
		g_autofree gchar *message = NULL;
		if (id == NULL)
			continue;
		message = g_strdup_printf(
			_("execution %s: the lease was lost (it ran out, or another agent has "
			  "it); stopping it here"),
			id);
		aiq_agent_log_execution(self, G_LOG_LEVEL_WARNING, id, NULL, message);
		/* durably first: a crash now must not bring its events back */
		aiq_agent_outbox_abandon(self->outbox, id);
		aiq_engine_cancel(self->engine, id, _("the lease was lost"));
	}
}

static gboolean
aiq_agent_heartbeat_cb_timeout(gpointer user_data)
{
	AiqAgent *self = AIQ_AGENT(user_data);
	g_autoptr(JsonObject) body = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GPtrArray) held = NULL;
	JsonArray *running;

	if (self->client == NULL || self->heartbeat_in_flight)
		return G_SOURCE_CONTINUE;
	held = aiq_agent_outbox_list_held(self->outbox, AIQ_AGENT_MAX_HELD);
	running = json_array_sized_new(held->len);
	for (guint i = 0; i < held->len; i++)
		json_array_add_string_element(running, g_ptr_array_index(held, i));
	body = json_object_new();
	json_object_set_array_member(body, "running", running);
	json_object_set_int_member(body, "capacity", self->capacity);
	json_object_set_string_member(body, "version", PACKAGE_VERSION);
	node = aiq_json_new_object(g_steal_pointer(&body));
	self->heartbeat_in_flight = TRUE;
	aiq_client_request_async(self->client,
				 "POST",
				 "/api/v1/agent/heartbeat",
				 node,
				 NULL,
				 NULL,
				 self->cancellable,
				 aiq_agent_heartbeat_cb,
				 g_object_ref(self));
	/* a server that cannot be reached also means the work goes on: the
	 * lease loop and the outbox retry on their own */
	if (self->connection != AIQ_AGENT_CONNECTION_ONLINE && self->lease_retry_source != 0) {
		g_clear_handle_id(&self->lease_retry_source, g_source_remove);
		aiq_agent_lease(self);
	}
	return G_SOURCE_CONTINUE;
}

/* the outbox's disk budget, checked every second */
static gboolean
aiq_agent_budget_cb(gpointer user_data)
{
	AiqAgent *self = AIQ_AGENT(user_data);
	const GError *write_error = aiq_journal_get_write_error(self->journal);
	guint64 size = aiq_journal_get_size(self->journal);
	gboolean full = write_error != NULL || size > self->outbox_budget;

	if (full == self->outbox_full)
		return G_SOURCE_CONTINUE;
	self->outbox_full = full;
	if (full && write_error != NULL) {
		g_warning("the outbox cannot be written (%s); taking no new work until it can",
			  write_error->message);
	} else if (full) {
		g_autofree gchar *used = aiq_size_to_string(size);
		g_autofree gchar *budget = aiq_size_to_string(self->outbox_budget);
		g_warning("the outbox is full (%s of its %s budget); taking no new work until the "
			  "server takes its events",
			  used,
			  budget);
	} else {
		g_message("the outbox has room again; taking new work");
	}
	aiq_agent_notify(self, PROP_OUTBOX_FULL);
	if (!full)
		aiq_agent_lease(self);
	return G_SOURCE_CONTINUE;
}

static void
aiq_agent_disconnect(AiqAgent *self)
{
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	self->lease_in_flight = FALSE;
	self->heartbeat_in_flight = FALSE;
	g_clear_handle_id(&self->lease_retry_source, g_source_remove);
	g_clear_handle_id(&self->heartbeat_source, g_source_remove);
	if (self->outbox != NULL)
		aiq_agent_outbox_set_client(self->outbox, NULL);
	g_clear_object(&self->client);
}

static void
aiq_agent_connect(AiqAgent *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ca_file = NULL;
	gint64 heartbeat_ms;

	aiq_agent_disconnect(self);
	if (!self->started)
		return;
	if (self->credential == NULL) {
		aiq_agent_set_connection(self, AIQ_AGENT_CONNECTION_UNENROLLED, NULL);
		return;
	}
	ca_file = aiq_agent_dup_ca_file(self);
	self->client = aiq_agent_new_client(self, self->server, ca_file, &error);
	if (self->client == NULL) {
		aiq_agent_set_connection(self, AIQ_AGENT_CONNECTION_REFUSED, error->message);
		return;
	}
	aiq_client_set_token(self->client, self->credential);
	aiq_agent_set_connection(self, AIQ_AGENT_CONNECTION_CONNECTING, NULL);
	heartbeat_ms =
		self->heartbeat_ms_override > 0 ? self->heartbeat_ms_override : self->heartbeat_ms;
	self->heartbeat_source = g_timeout_add((guint)CLAMP(heartbeat_ms, 100, 3600000),
					       aiq_agent_heartbeat_cb_timeout,
					       self);
	aiq_agent_heartbeat_cb_timeout(self);
	aiq_agent_outbox_set_client(self->outbox, self->client);
	aiq_agent_lease(self);
}

/* engine signals */

static gboolean
aiq_agent_start_deferred_cb(gpointer user_data)
{
	g_autoptr(AiqAgent) self = AIQ_AGENT(user_data);
	g_autoptr(GPtrArray) ready = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	const gchar *id;

	if (!self->started)
		return G_SOURCE_REMOVE;
	g_hash_table_iter_init(&iter, self->deferred_jobs);
	while (g_hash_table_iter_next(&iter, (gpointer *)&id, NULL)) {
		if (aiq_engine_lookup(self->engine, id) == NULL)
			g_ptr_array_add(ready, g_strdup(id));
	}
	for (guint i = 0; i < ready->len; i++) {
		const gchar *ready_id = g_ptr_array_index(ready, i);
		g_autoptr(JsonObject) job =
			json_object_ref(g_hash_table_lookup(self->deferred_jobs, ready_id));
		g_hash_table_remove(self->deferred_jobs, ready_id);
		aiq_agent_start_job(self, job);
	}
	return G_SOURCE_REMOVE;
}

static void
aiq_agent_execution_started_cb(AiqEngine *engine, AiqExecution *exec, gpointer user_data)
{
	AiqAgent *self = AIQ_AGENT(user_data);
	const gchar *id = aiq_execution_get_id(exec);
	const gchar *workflow = aiq_definition_get_name(aiq_execution_get_definition(exec));
	g_autofree gchar *message = g_strdup_printf(_("execution %s of %s started"), id, workflow);
	aiq_agent_log_execution(self, G_LOG_LEVEL_DEBUG, id, NULL, message);
	g_signal_emit(self, signals[SIGNAL_EXECUTION_STARTED], 0, id, workflow);
	aiq_agent_queue_notify(self, &self->running_dirty);
}

static void
aiq_agent_execution_finished_cb(AiqEngine *engine, AiqExecution *exec, gpointer user_data)
{
	AiqAgent *self = AIQ_AGENT(user_data);
	const gchar *id = aiq_execution_get_id(exec);
	AiqExecutionStatus status = aiq_execution_get_status(exec);
	const gchar *status_str = aiq_execution_status_to_string(status);

	if (status == AIQ_EXECUTION_STATUS_SUCCEEDED) {
		g_autofree gchar *message = g_strdup_printf(_("execution %s succeeded"), id);
		aiq_agent_log_execution(self, G_LOG_LEVEL_DEBUG, id, NULL, message);
	} else {
		AiqDefinition *definition = aiq_execution_get_definition(exec);
		const gchar *step_id = NULL;
		g_autofree gchar *message = NULL;
		for (guint i = 0; i < aiq_definition_get_n_steps(definition); i++) {
			AiqStepState *state = aiq_execution_get_step_state(exec, i);
			if (state->status == AIQ_STEP_STATUS_FAILED) {
				step_id = aiq_definition_get_step(definition, i)->id;
				break;
			}
		}
		message = g_strdup_printf(_("execution %s %s: %s"),
					  id,
					  status_str,
					  aiq_execution_get_error_message(exec) != NULL
						  ? aiq_execution_get_error_message(exec)
						  : "");
		aiq_agent_log_execution(self, G_LOG_LEVEL_MESSAGE, id, step_id, message);
	}
	g_signal_emit(self, signals[SIGNAL_EXECUTION_FINISHED], 0, id, status_str);
	aiq_agent_queue_notify(self, &self->running_dirty);
	if (g_hash_table_contains(self->deferred_jobs, id))
		g_idle_add(aiq_agent_start_deferred_cb, g_object_ref(self));
	aiq_agent_lease(self);
}

/* public API */

gboolean
aiq_agent_start(AiqAgent *self, GError **error)
{
	g_autofree gchar *journal_path = NULL;
	guint resumed;
	g_autoptr(GError) error_local = NULL;

	g_return_val_if_fail(AIQ_IS_AGENT(self), FALSE);
	g_return_val_if_fail(!self->started, FALSE);

	if (!aiq_agent_ensure_state_dir(self, error))
		return FALSE;
	journal_path = aiq_agent_state_path(self, AIQ_AGENT_JOURNAL_FILE);
	self->journal = aiq_journal_new(journal_path, error);
	if (self->journal == NULL)
		return FALSE;
	self->engine = aiq_engine_new(self->config, self->journal);
	if (!aiq_agent_load_secrets(self, error))
		return FALSE;
	self->outbox = aiq_agent_outbox_new(self->engine, error);
	if (self->outbox == NULL)
		return FALSE;
	g_signal_connect(self->outbox, "sent", G_CALLBACK(aiq_agent_outbox_sent_cb), self);
	g_signal_connect(self->outbox, "failed", G_CALLBACK(aiq_agent_outbox_failed_cb), self);
	g_signal_connect(self->outbox, "rejected", G_CALLBACK(aiq_agent_outbox_rejected_cb), self);
	g_signal_connect(self->outbox, "synced", G_CALLBACK(aiq_agent_outbox_synced_cb), self);
	g_signal_connect(self->outbox,
			 "notify::depth",
			 G_CALLBACK(aiq_agent_outbox_depth_cb),
			 self);
	g_signal_connect(self->engine,
			 "execution-started",
			 G_CALLBACK(aiq_agent_execution_started_cb),
			 self);
	g_signal_connect(self->engine,
			 "execution-finished",
			 G_CALLBACK(aiq_agent_execution_finished_cb),
			 self);
	self->started = TRUE;

	/* what ran when the agent stopped goes on; the server says in the first
	 * heartbeat whether each is still ours */
	resumed = aiq_engine_resume(self->engine, &error_local);
	if (error_local != NULL)
		g_warning("resuming executions: %s", error_local->message);
	else if (resumed > 0)
		g_message("resumed %u executions", resumed);
	self->budget_source = g_timeout_add_seconds(1, aiq_agent_budget_cb, self);
	aiq_agent_budget_cb(self);
	aiq_agent_connect(self);
	aiq_agent_notify(self, PROP_OUTBOX_DEPTH);
	return TRUE;
}

void
aiq_agent_stop(AiqAgent *self)
{
	g_return_if_fail(AIQ_IS_AGENT(self));
	if (!self->started)
		return;
	aiq_agent_disconnect(self);
	self->started = FALSE;
	g_clear_handle_id(&self->budget_source, g_source_remove);
	g_clear_handle_id(&self->notify_source, g_source_remove);
	if (self->journal != NULL) {
		g_autoptr(GError) error = NULL;
		if (!aiq_journal_flush(self->journal, &error))
			g_warning("%s", error->message);
	}
}

const gchar *
aiq_agent_get_state_dir(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), NULL);
	return self->state_dir;
}

AiqConfig *
aiq_agent_get_config(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), NULL);
	return self->config;
}

AiqEngine *
aiq_agent_get_engine(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), NULL);
	return self->engine;
}

gboolean
aiq_agent_get_enrolled(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), FALSE);
	return self->credential != NULL;
}

const gchar *
aiq_agent_get_server(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), NULL);
	return self->server;
}

const gchar *
aiq_agent_get_agent_id(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), NULL);
	return self->agent_id;
}

const gchar *
aiq_agent_get_name(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), NULL);
	return self->name;
}

const gchar *const *
aiq_agent_get_labels(AiqAgent *self)
{
	static const gchar *const empty[] = { NULL };
	g_return_val_if_fail(AIQ_IS_AGENT(self), NULL);
	return self->labels != NULL ? (const gchar *const *)self->labels : empty;
}

AiqAgentConnection
aiq_agent_get_connection(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), AIQ_AGENT_CONNECTION_UNENROLLED);
	return self->connection;
}

const gchar *
aiq_agent_get_last_error(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), NULL);
	return self->last_error;
}

gchar **
aiq_agent_dup_running(AiqAgent *self)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_autoptr(GPtrArray) held = NULL;

	g_return_val_if_fail(AIQ_IS_AGENT(self), NULL);
	if (self->outbox != NULL) {
		held = aiq_agent_outbox_list_held(self->outbox, G_MAXUINT);
		for (guint i = 0; i < held->len; i++) {
			const gchar *id = g_ptr_array_index(held, i);
			if (aiq_engine_lookup(self->engine, id) != NULL)
				g_strv_builder_add(builder, id);
		}
	}
	return g_strv_builder_end(builder);
}

guint
aiq_agent_get_capacity(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), 0);
	return self->capacity;
}

guint64
aiq_agent_get_outbox_depth(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), 0);
	return self->outbox != NULL ? aiq_agent_outbox_get_depth(self->outbox) : 0;
}

gboolean
aiq_agent_get_outbox_full(AiqAgent *self)
{
	g_return_val_if_fail(AIQ_IS_AGENT(self), FALSE);
	return self->outbox_full;
}

const gchar *
aiq_agent_get_version(AiqAgent *self)
{
	return PACKAGE_VERSION;
}

/* enrollment */

typedef struct {
	gchar *server;
	gchar *ca_tmp; /* the CA given with the enrollment, until it succeeds */
} AiqAgentEnrollData;

static void
aiq_agent_enroll_data_free(AiqAgentEnrollData *data)
{
	if (data->ca_tmp != NULL)
		g_unlink(data->ca_tmp);
	g_free(data->ca_tmp);
	g_free(data->server);
	g_free(data);
}

static gboolean
aiq_agent_save_enrollment(AiqAgent *self,
			  AiqAgentEnrollData *data,
			  JsonObject *reply,
			  GError **error)
{
	g_autofree gchar *path = aiq_agent_state_path(self, AIQ_AGENT_ENROLLMENT_FILE);
	g_autofree gchar *ca_path = aiq_agent_state_path(self, AIQ_AGENT_CA_FILE);
	g_autofree gchar *text = NULL;
	g_autoptr(JsonObject) obj = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	const gchar *members[] = { "agent_id", "tenant_id", "credential", "name" };
	JsonArray *labels = aiq_json_object_get_array(reply, "labels");

	if (aiq_json_object_get_string(reply, "credential") == NULL ||
	    aiq_json_object_get_string(reply, "agent_id") == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("the server's answer has no credential"));
		return FALSE;
	}
	json_object_set_string_member(obj, "server", data->server);
	for (guint i = 0; i < G_N_ELEMENTS(members); i++) {
		const gchar *value = aiq_json_object_get_string(reply, members[i]);
		if (value != NULL)
			json_object_set_string_member(obj, members[i], value);
	}
	json_object_set_array_member(obj,
				     "labels",
				     labels != NULL ? json_array_ref(labels) : json_array_new());
	json_object_set_int_member(obj,
				   "heartbeat_ms",
				   aiq_json_object_get_int(reply, "heartbeat_ms", 10000));
	json_object_set_int_member(obj,
				   "long_poll_ms",
				   aiq_json_object_get_int(reply, "long_poll_ms", 25000));
	json_object_set_int_member(obj,
				   "lease_ttl_ms",
				   aiq_json_object_get_int(reply, "lease_ttl_ms", 30000));
	node = aiq_json_new_object(g_steal_pointer(&obj));
	text = aiq_json_to_string(node, TRUE);
	/* the CA first: an enrollment is never left pointing at the wrong one */
	if (data->ca_tmp != NULL) {
		if (g_rename(data->ca_tmp, ca_path) != 0) {
			gint errsv = errno;
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_PERMISSION_DENIED,
				    _("%s: %s"),
				    ca_path,
				    g_strerror(errsv));
			return FALSE;
		}
		g_clear_pointer(&data->ca_tmp, g_free);
	} else {
		g_unlink(ca_path);
	}
	if (!g_file_set_contents_full(path,
				      text,
				      -1,
				      G_FILE_SET_CONTENTS_CONSISTENT,
				      0600,
				      error)) {
		g_prefix_error(error, _("saving the enrollment: "));
		return FALSE;
	}
	return TRUE;
}

static void
aiq_agent_enroll_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	AiqAgent *self = g_task_get_source_object(task);
	AiqAgentEnrollData *data = g_task_get_task_data(task);
	g_autoptr(AiqClientReply) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *obj;

	root = aiq_client_request_finish(AIQ_CLIENT(source), res, &reply, &error);
	if (root == NULL) {
		g_prefix_error(&error, _("enrolling with %s failed: "), data->server);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	obj = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
	if (obj == NULL || !aiq_agent_save_enrollment(self, data, obj, &error)) {
		if (error == NULL)
			g_set_error_literal(&error,
					    AIQ_ERROR,
					    AIQ_ERROR_FAILED,
					    _("the server's answer is not an enrollment"));
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_clear_pointer(&self->server, g_free);
	g_clear_pointer(&self->agent_id, g_free);
	g_clear_pointer(&self->tenant_id, g_free);
	g_clear_pointer(&self->credential, g_free);
	g_clear_pointer(&self->name, g_free);
	g_clear_pointer(&self->labels, g_strfreev);
	if (!aiq_agent_load_enrollment(self, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_message("enrolled with %s as %s (%s)", self->server, self->name, self->agent_id);
	g_object_freeze_notify(G_OBJECT(self));
	for (guint prop = PROP_ENROLLED; prop <= PROP_LABELS; prop++)
		aiq_agent_notify(self, prop);
	g_object_thaw_notify(G_OBJECT(self));
	if (self->started)
		aiq_agent_connect(self);
	else
		aiq_agent_set_connection(self, AIQ_AGENT_CONNECTION_CONNECTING, NULL);
	g_task_return_boolean(task, TRUE);
}

void
aiq_agent_enroll_async(AiqAgent *self,
		       const gchar *server,
		       const gchar *token,
		       const gchar *name,
		       const gchar *const *labels,
		       const gchar *ca_pem,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(AiqClient) client = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) body = NULL;
	g_autoptr(JsonNode) node = NULL;
	AiqAgentEnrollData *data;
	JsonArray *array;

	g_return_if_fail(AIQ_IS_AGENT(self));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, aiq_agent_enroll_async);
	data = g_new0(AiqAgentEnrollData, 1);
	g_task_set_task_data(task, data, (GDestroyNotify)aiq_agent_enroll_data_free);

	if (server == NULL || server[0] == '\0')
		server = self->config_server;
	if (server == NULL || server[0] == '\0') {
		g_task_return_new_error(task,
					AIQ_ERROR,
					AIQ_ERROR_INVALID_ARGUMENT,
					_("no server: pass --server or set [agent] server"));
		return;
	}
	if (token == NULL || token[0] == '\0') {
		g_task_return_new_error(task,
					AIQ_ERROR,
					AIQ_ERROR_INVALID_ARGUMENT,
					_("no enrollment token"));
		return;
	}
	data->server = g_strdup(server);
	if (!aiq_agent_ensure_state_dir(self, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (ca_pem != NULL && ca_pem[0] != '\0') {
		g_autoptr(GTlsCertificate) cert =
			g_tls_certificate_new_from_pem(ca_pem, -1, &error);
		if (cert == NULL) {
			g_task_return_new_error(task,
						AIQ_ERROR,
						AIQ_ERROR_INVALID_ARGUMENT,
						_("the CA is not a PEM certificate: %s"),
						error->message);
			return;
		}
		data->ca_tmp = aiq_agent_state_path(self, AIQ_AGENT_CA_FILE ".new");
		if (!g_file_set_contents_full(data->ca_tmp,
					      ca_pem,
					      -1,
					      G_FILE_SET_CONTENTS_CONSISTENT,
					      0600,
					      &error)) {
			aiq_error_convert(&error);
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
	}
	client = aiq_agent_new_client(self,
				      server,
				      data->ca_tmp != NULL ? data->ca_tmp : self->config_ca,
				      &error);
	if (client == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}

	body = json_object_new();
	json_object_set_string_member(body, "token", token);
	if (name == NULL || name[0] == '\0')
		name = self->config_name;
	if (name == NULL || name[0] == '\0')
		name = g_get_host_name();
	json_object_set_string_member(body, "name", name);
	if (labels == NULL)
		labels = (const gchar *const *)self->config_labels;
	array = json_array_new();
	for (guint i = 0; labels != NULL && labels[i] != NULL; i++)
		json_array_add_string_element(array, labels[i]);
	json_object_set_array_member(body, "labels", array);
	json_object_set_string_member(body, "version", PACKAGE_VERSION);
	json_object_set_int_member(body, "capacity", self->capacity);
	node = aiq_json_new_object(g_steal_pointer(&body));
	aiq_client_request_async(client,
				 "POST",
				 "/api/v1/agents/enroll",
				 node,
				 NULL,
				 NULL,
				 cancellable,
				 aiq_agent_enroll_cb,
				 g_steal_pointer(&task));
}

gboolean
aiq_agent_enroll_finish(AiqAgent *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* TestStep */

typedef struct {
	GString *log;
	gulong log_handler;
	gchar *execution_id;
} AiqAgentTestData;

static void
aiq_agent_test_data_free(AiqAgentTestData *data)
{
	g_string_free(data->log, TRUE);
	g_free(data->execution_id);
	g_free(data);
}

static void
aiq_agent_test_log_cb(AiqEngine *engine,
		      AiqExecution *exec,
		      const gchar *step_id,
		      const gchar *line,
		      gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	AiqAgentTestData *data = g_task_get_task_data(task);
	if (g_strcmp0(aiq_execution_get_id(exec), data->execution_id) != 0)
		return;
	g_string_append(data->log, line);
	if (data->log->len > 0 && data->log->str[data->log->len - 1] != '\n')
		g_string_append_c(data->log, '\n');
}

static void
aiq_agent_test_wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	AiqAgentTestData *data = g_task_get_task_data(task);
	g_autoptr(AiqExecution) exec = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) result = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	AiqStepState *state;

	g_signal_handler_disconnect(source, data->log_handler);
	exec = aiq_engine_wait_finish(AIQ_ENGINE(source), res, &error);
	if (exec == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	state = aiq_execution_get_step_state(exec, 0);
	json_object_set_string_member(result, "status", aiq_step_status_to_string(state->status));
	if (state->output != NULL)
		json_object_set_member(result, "output", json_node_copy(state->output));
	else
		json_object_set_null_member(result, "output");
	if (state->error_code != NULL || state->error_message != NULL) {
		JsonObject *err = json_object_new();
		json_object_set_string_member(err,
					      "code",
					      state->error_code != NULL ? state->error_code
									: "failed");
		json_object_set_string_member(err,
					      "message",
					      state->error_message != NULL ? state->error_message
									   : "");
		json_object_set_object_member(result, "error", err);
	} else if (state->skip_reason != NULL) {
		json_object_set_string_member(result, "skip_reason", state->skip_reason);
	}
	json_object_set_int_member(result, "attempts", state->attempts);
	json_object_set_int_member(result,
				   "duration_ms",
				   state->finished_us > state->started_us
					   ? (state->finished_us - state->started_us) / 1000
					   : 0);
	node = aiq_json_new_object(g_steal_pointer(&result));
	g_task_return_pointer(task, aiq_json_to_string(node, FALSE), g_free);
}

void
aiq_agent_test_step_async(AiqAgent *self,
			  const gchar *step_json,
			  const gchar *inputs_json,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) step = NULL;
	g_autoptr(JsonNode) inputs = NULL;
	g_autoptr(JsonObject) def = NULL;
	g_autoptr(JsonNode) def_node = NULL;
	g_autoptr(AiqProblems) problems = aiq_problems_new();
	g_autoptr(AiqDefinition) definition = NULL;
	g_autoptr(AiqExecution) exec = NULL;
	JsonObject *declared;
	JsonArray *steps;
	AiqAgentTestData *data;

	g_return_if_fail(AIQ_IS_AGENT(self));
	g_return_if_fail(step_json != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, aiq_agent_test_step_async);
	step = aiq_json_parse(step_json, strlen(step_json), AIQ_JSON_MAX_DEPTH, &error);
	if (step == NULL || !JSON_NODE_HOLDS_OBJECT(step)) {
		g_task_return_new_error(task,
					AIQ_ERROR,
					AIQ_ERROR_INVALID_DOCUMENT,
					_("the step is not a JSON object%s%s"),
					error != NULL ? ": " : "",
					error != NULL ? error->message : "");
		return;
	}
	if (inputs_json != NULL && inputs_json[0] != '\0') {
		inputs = aiq_json_parse(inputs_json,
					strlen(inputs_json),
					AIQ_JSON_MAX_DEPTH,
					&error);
		if (inputs == NULL || !JSON_NODE_HOLDS_OBJECT(inputs)) {
			g_task_return_new_error(task,
						AIQ_ERROR,
						AIQ_ERROR_INVALID_INPUT,
						_("the inputs are not a JSON object%s%s"),
						error != NULL ? ": " : "",
						error != NULL ? error->message : "");
			return;
		}
	}

	/* a workflow of this one step, with every given input declared */
	json_object_remove_member(json_node_get_object(step), "needs");
	def = json_object_new();
	json_object_set_string_member(def, "name", "test-step");
	declared = json_object_new();
	if (inputs != NULL) {
		JsonObjectIter iter;
		const gchar *key;
		json_object_iter_init(&iter, json_node_get_object(inputs));
		while (json_object_iter_next(&iter, &key, NULL)) {
			JsonObject *decl = json_object_new();
			json_object_set_string_member(decl, "type", "any");
			json_object_set_object_member(declared, key, decl);
		}
	}
	json_object_set_object_member(def, "inputs", declared);
	steps = json_array_new();
	json_array_add_element(steps, json_node_ref(step));
	json_object_set_array_member(def, "steps", steps);
	def_node = aiq_json_new_object(g_steal_pointer(&def));
	definition = aiq_definition_new_from_node(def_node, self->config, problems);
	if (definition == NULL) {
		g_autofree gchar *text = aiq_problems_to_string(problems, NULL);
		g_task_return_new_error(task,
					AIQ_ERROR,
					AIQ_ERROR_INVALID_DEFINITION,
					_("the step is not valid: %s"),
					text);
		return;
	}
	if (self->test_engine == NULL) {
		self->test_engine = aiq_engine_new(self->config, NULL);
		if (self->engine != NULL)
			aiq_engine_set_secrets(self->test_engine,
					       aiq_engine_get_secrets(self->engine));
	}
	exec = aiq_engine_start(self->test_engine,
				definition,
				inputs != NULL ? json_node_get_object(inputs) : NULL,
				NULL,
				&error);
	if (exec == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	data = g_new0(AiqAgentTestData, 1);
	data->log = g_string_new(NULL);
	data->execution_id = g_strdup(aiq_execution_get_id(exec));
	g_task_set_task_data(task, data, (GDestroyNotify)aiq_agent_test_data_free);
	data->log_handler = g_signal_connect(self->test_engine,
					     "step-log",
					     G_CALLBACK(aiq_agent_test_log_cb),
					     task);
	aiq_engine_wait_async(self->test_engine,
			      aiq_execution_get_id(exec),
			      cancellable,
			      aiq_agent_test_wait_cb,
			      g_steal_pointer(&task));
}

gboolean
aiq_agent_test_step_finish(AiqAgent *self,
			   GAsyncResult *res,
			   gchar **result_json,
			   gchar **log,
			   GError **error)
{
	AiqAgentTestData *data;
	gchar *result;

	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	result = g_task_propagate_pointer(G_TASK(res), error);
	if (result == NULL)
		return FALSE;
	data = g_task_get_task_data(G_TASK(res));
	if (result_json != NULL)
		*result_json = result;
	else
		g_free(result);
	if (log != NULL)
		*log = g_strdup(data != NULL ? data->log->str : "");
	return TRUE;
}

/* GObject */

static void
aiq_agent_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	AiqAgent *self = AIQ_AGENT(object);
	switch (prop_id) {
	case PROP_ENROLLED:
		g_value_set_boolean(value, aiq_agent_get_enrolled(self));
		break;
	case PROP_SERVER:
		g_value_set_string(value, self->server);
		break;
	case PROP_AGENT_ID:
		g_value_set_string(value, self->agent_id);
		break;
	case PROP_NAME:
		g_value_set_string(value, self->name);
		break;
	case PROP_LABELS:
		g_value_set_boxed(value, aiq_agent_get_labels(self));
		break;
	case PROP_CONNECTION:
		g_value_set_uint(value, self->connection);
		break;
	case PROP_LAST_ERROR:
		g_value_set_string(value, self->last_error);
		break;
	case PROP_RUNNING:
		g_value_take_boxed(value, aiq_agent_dup_running(self));
		break;
	case PROP_CAPACITY:
		g_value_set_uint(value, self->capacity);
		break;
	case PROP_OUTBOX_DEPTH:
		g_value_set_uint64(value, aiq_agent_get_outbox_depth(self));
		break;
	case PROP_OUTBOX_FULL:
		g_value_set_boolean(value, self->outbox_full);
		break;
	case PROP_VERSION:
		g_value_set_string(value, PACKAGE_VERSION);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_agent_dispose(GObject *object)
{
	AiqAgent *self = AIQ_AGENT(object);
	aiq_agent_stop(self);
	if (self->outbox != NULL)
		g_signal_handlers_disconnect_by_data(self->outbox, self);
	if (self->engine != NULL)
		g_signal_handlers_disconnect_by_data(self->engine, self);
	g_clear_object(&self->outbox);
	g_clear_object(&self->engine);
	g_clear_object(&self->test_engine);
	if (self->journal != NULL) {
		g_autoptr(GError) error = NULL;
		if (!aiq_journal_close(self->journal, &error))
			g_warning("%s", error->message);
	}
	g_clear_object(&self->journal);
	g_clear_object(&self->cancellable);
	G_OBJECT_CLASS(aiq_agent_parent_class)->dispose(object);
}

static void
aiq_agent_finalize(GObject *object)
{
	AiqAgent *self = AIQ_AGENT(object);
	g_free(self->state_dir);
	g_free(self->config_file);
	g_clear_object(&self->config);
	g_free(self->config_server);
	g_free(self->config_ca);
	g_free(self->config_name);
	g_strfreev(self->config_labels);
	g_free(self->server);
	g_free(self->agent_id);
	g_free(self->tenant_id);
	g_free(self->credential);
	g_free(self->name);
	g_strfreev(self->labels);
	g_free(self->last_error);
	g_hash_table_unref(self->deferred_jobs);
	G_OBJECT_CLASS(aiq_agent_parent_class)->finalize(object);
}

static void
aiq_agent_class_init(AiqAgentClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	const GParamFlags flags =
		G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

	object_class->get_property = aiq_agent_get_property;
	object_class->dispose = aiq_agent_dispose;
	object_class->finalize = aiq_agent_finalize;

	aiq_agent_props[PROP_ENROLLED] = g_param_spec_boolean("enrolled", NULL, NULL, FALSE, flags);
	aiq_agent_props[PROP_SERVER] = g_param_spec_string("server", NULL, NULL, NULL, flags);
	aiq_agent_props[PROP_AGENT_ID] = g_param_spec_string("agent-id", NULL, NULL, NULL, flags);
	aiq_agent_props[PROP_NAME] = g_param_spec_string("name", NULL, NULL, NULL, flags);
	aiq_agent_props[PROP_LABELS] = g_param_spec_boxed("labels", NULL, NULL, G_TYPE_STRV, flags);
	aiq_agent_props[PROP_CONNECTION] = g_param_spec_uint("connection",
							     NULL,
							     NULL,
							     0,
							     AIQ_AGENT_CONNECTION_REFUSED,
							     0,
							     flags);
	aiq_agent_props[PROP_LAST_ERROR] =
		g_param_spec_string("last-error", NULL, NULL, NULL, flags);
	aiq_agent_props[PROP_RUNNING] =
		g_param_spec_boxed("running", NULL, NULL, G_TYPE_STRV, flags);
	aiq_agent_props[PROP_CAPACITY] =
		g_param_spec_uint("capacity", NULL, NULL, 0, 1000, 0, flags);
	aiq_agent_props[PROP_OUTBOX_DEPTH] =
		g_param_spec_uint64("outbox-depth", NULL, NULL, 0, G_MAXUINT64, 0, flags);
	aiq_agent_props[PROP_OUTBOX_FULL] =
		g_param_spec_boolean("outbox-full", NULL, NULL, FALSE, flags);
	aiq_agent_props[PROP_VERSION] = g_param_spec_string("version", NULL, NULL, NULL, flags);
	g_object_class_install_properties(object_class, N_PROPS, aiq_agent_props);

	signals[SIGNAL_EXECUTION_STARTED] = g_signal_new("execution-started",
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
	signals[SIGNAL_EXECUTION_FINISHED] = g_signal_new("execution-finished",
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
}

static void
aiq_agent_init(AiqAgent *self)
{
	self->capacity = AIQ_AGENT_DEFAULT_CAPACITY;
	self->outbox_budget = AIQ_AGENT_DEFAULT_BUDGET;
	self->heartbeat_ms = 10000;
	self->long_poll_ms = 25000;
	self->cancellable = g_cancellable_new();
	self->deferred_jobs = g_hash_table_new_full(g_str_hash,
						    g_str_equal,
						    g_free,
						    (GDestroyNotify)json_object_unref);
}

AiqAgent *
aiq_agent_new(const gchar *config_file, const gchar *state_dir, GError **error)
{
	g_autoptr(AiqAgent) self = NULL;

	g_return_val_if_fail(state_dir != NULL, NULL);

	self = g_object_new(AIQ_TYPE_AGENT, NULL);
	/* GIO's TLS databases take absolute paths only */
	self->state_dir = g_canonicalize_filename(state_dir, NULL);
	self->config_file = config_file != NULL ? g_canonicalize_filename(config_file, NULL) : NULL;
	if (!aiq_agent_load_config(self, error))
		return NULL;
	if (!aiq_agent_load_enrollment(self, error))
		return NULL;
	self->connection = self->credential != NULL ? AIQ_AGENT_CONNECTION_CONNECTING
						    : AIQ_AGENT_CONNECTION_UNENROLLED;
	return g_steal_pointer(&self);
}
