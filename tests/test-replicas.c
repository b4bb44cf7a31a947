/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Replicas: three real automateiq-server processes on 127.0.0.1 sharing one
 * PostgreSQL database (the `store` and `store-admin` of the first, the same
 * server.key and TLS files in each data directory, `retention = false` on
 * all but the first), with real agents, the e2e harness's HTTP sink
 * counting side effects by Idempotency-Key (the http step sends
 * `<execution>/<step>`) and its TCP proxy standing in for a load balancer.
 * Runs only with AIQ_TEST_STORE=postgresql, under pg-test-cluster.sh.
 *
 * /aiq/replicas/lease-once
 *   Hundreds of executions (600; CI 300; AIQ_REPLICAS_EXECUTIONS) started
 *   through the three replicas in turn by three threads; six agents, two on
 *   each replica, capacity 4. A trigger on `jobs` (installed by the test as
 *   the cluster's superuser) logs every change of a job into `leased`.
 *   Proves: every execution succeeded, each job was leased exactly once
 *   (the log), no lease ran out, each step had one attempt, each history has
 *   one execution.created/started, and the sink saw each key exactly once.
 *
 * /aiq/replicas/schedule-once
 *   A workflow with a per-minute cron schedule (five fields: no seconds) and
 *   the scheduler on in all three replicas, which know it from their first
 *   plan; the test waits through two fire times. Proves: one execution per
 *   fire time, its idempotency key `schedule:0:TIME` in the store with TIME
 *   a minute boundary, distinct times = executions = schedule_fires rows =
 *   the minute boundaries passed; prints which replica fired each (the
 *   servers' info log). About two minutes.
 *
 * /aiq/replicas/agent-moves
 *   An agent reaches replica A through the proxy; with executions running on
 *   it, the proxy is pointed at replica B and its connections are cut, and
 *   more executions are started. Proves: every execution (those running at
 *   the move and those after) succeeded with one attempt per step and no
 *   lease expiry, each effect once at the sink, and GET of each execution
 *   and of its events answers the same on A, B and C.
 *
 * /aiq/replicas/replica-kill
 *   lease-ttl=6s. Starts (API and webhook in turn, each with an
 *   Idempotency-Key, retried with the same key on the next replica when not
 *   answered) spread over the three replicas; three agents, each through a
 *   proxy (its load balancer) to one replica. A "ghost" agent enrolled over
 *   the API leases a few jobs through replica A and never comes back (as an
 *   agent dying with its replica, or a lease answer lost in the kill); then
 *   A is SIGKILLed mid-run and its proxy pointed at B. Proves: every start
 *   answered 2xx succeeded, its effect exactly once at the sink; the ghost's
 *   jobs, leased through the dead replica, were swept back by the others
 *   (within lease-ttl + the store sweep's 2 s grace and 5 s period) and run
 *   by a real agent; the lease log agrees (leases = jobs + expiries); A,
 *   restarted on its directory, answers the same as B and C.
 *
 * /aiq/replicas/postgres-restart
 *   Starts keep coming through the three replicas and agents lease while
 *   PostgreSQL is stopped for a few seconds and started again
 *   ($AIQ_TEST_PG_RESTART 4, from pg-test-cluster.sh), then restarted with
 *   `pg_ctl restart -m fast -w` ($AIQ_TEST_PG_RESTART). Proves: during the
 *   outage /readyz of each replica answers 503 with Retry-After and API
 *   calls answer 503 with Retry-After, each within 10 s (no call of the
 *   whole test took longer); afterwards, with no replica restarted, /readyz
 *   is 200 again, new executions run, and every start answered 2xx before,
 *   during or after the outage or the restart succeeded, its effect exactly
 *   once, with no lease expiry.
 *
 * /aiq/replicas/notify
 *   The two LISTEN/NOTIFY paths between replicas, directly. Long-poll
 *   wake-up: a raw agent (label `probe`) parks a lease (wait_ms 20 s) on B;
 *   2 s later a job only it may take is started through A. Proves: the
 *   lease is answered with that job within 2 s of the start call (not at
 *   the end of its wait). Live events: the demo admin and the admin of a
 *   second tenant subscribe to GET /api/v1/events on C; an execution is
 *   started through A and run by the one agent, on B. Proves: C's demo
 *   subscriber hears its execution.updated queued (published by A), running
 *   and succeeded (published by B, where the agent reports) in that order
 *   within 20 s, with agent-b's id; the other tenant's subscriber hears its
 *   own executions (started through A, before and after) and none of the
 *   demo tenant's events, nor the demo subscriber any of the other's.
 *
 * Every test prints its figures as TAP comments. Logs and state of a failed
 * test stay in the directory its first comment names (AIQ_E2E_KEEP=1 keeps
 * them always).
 */

#define G_LOG_DOMAIN "aiq-e2e"

#include "config.h"

#include <string.h>

#include "aiq-e2e.h"
#include "aiq-json.h"
#include "aiq-test-pg.h"

#define N_REPLICAS 3
/* no call may take longer, even with PostgreSQL gone */
#define CALL_BOUND_US (10 * G_USEC_PER_SEC)

static const gchar *const replica_names[N_REPLICAS] = { "replica-a", "replica-b", "replica-c" };

typedef struct {
	gchar *dir;
	AiqE2eServer *replicas[N_REPLICAS];
	gint alive[N_REPLICAS]; /* atomic: the "load balancer" sends to it */
	GPtrArray *agents;      /* of AiqE2eAgent */
	GPtrArray *agent_ids;   /* of each */
	GPtrArray *proxies;     /* of AiqE2eProxy */
	AiqE2eSink *sink;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer user_data)
{
	f->dir = aiq_e2e_make_tmp_dir(user_data);
	f->agents = g_ptr_array_new();
	f->agent_ids = g_ptr_array_new_with_free_func(g_free);
	f->proxies = g_ptr_array_new();
}

static void
fixture_teardown(Fixture *f, gconstpointer user_data)
{
	/* agents first: they must not see a server go away as part of a test */
	for (guint i = 0; i < f->agents->len; i++)
		aiq_e2e_agent_free(g_ptr_array_index(f->agents, i));
	for (guint i = 0; i < N_REPLICAS; i++)
		g_clear_pointer(&f->replicas[i], aiq_e2e_server_free);
	for (guint i = 0; i < f->proxies->len; i++)
		aiq_e2e_proxy_free(g_ptr_array_index(f->proxies, i));
	g_ptr_array_unref(f->agents);
	g_ptr_array_unref(f->agent_ids);
	g_ptr_array_unref(f->proxies);
	g_clear_pointer(&f->sink, aiq_e2e_sink_free);
	if (!g_test_failed())
		aiq_e2e_remove_tmp_dir(f->dir);
	g_free(f->dir);
}

/* ---------------------------------------------------------------------------
 * the replicas
 */

static void
copy_file(const gchar *from_dir, const gchar *to_dir, const gchar *name)
{
	g_autofree gchar *from = g_build_filename(from_dir, name, NULL);
	g_autofree gchar *to = g_build_filename(to_dir, name, NULL);
	g_autofree gchar *data = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	g_file_get_contents(from, &data, &len, &error);
	g_assert_no_error(error);
	g_file_set_contents_full(to,
				 data,
				 (gssize)len,
				 G_FILE_SET_CONTENTS_CONSISTENT,
				 0600,
				 &error);
	g_assert_no_error(error);
}

/* a replica of @first: its own data directory with the same server.key and
 * TLS files, its configuration with the same store lines */
static AiqE2eServer *
replica_new(const gchar *root, const gchar *name, AiqE2eServer *first)
{
	static const gchar *const files[] = { "server.key", "tls.crt", "tls.key" };
	AiqE2eServer *self = g_new0(AiqE2eServer, 1);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *data = NULL;

	self->name = g_strdup(name);
	self->dir = g_strdup_printf("%s/%s-data", root, name);
	self->conf = g_strdup_printf("%s/%s.conf", root, name);
	self->log_path = g_strdup_printf("%s/%s.log", root, name);
	g_assert_cmpint(g_mkdir_with_parents(self->dir, 0700), ==, 0);
	for (guint i = 0; i < G_N_ELEMENTS(files); i++)
		copy_file(first->dir, self->dir, files[i]);
	self->ca_file = g_build_filename(self->dir, "tls.crt", NULL);

	g_key_file_load_from_file(kf, first->conf, G_KEY_FILE_KEEP_COMMENTS, &error);
	g_assert_no_error(error);
	g_assert_true(g_key_file_has_key(kf, "server", "store", NULL));
	g_assert_true(g_key_file_has_key(kf, "server", "store-admin", NULL));
	/* the daily retention job runs on the first replica only */
	g_key_file_set_boolean(kf, "server", "retention", FALSE);
	data = g_key_file_to_data(kf, NULL, NULL);
	g_assert_true(g_file_set_contents(self->conf, data, -1, NULL));
	return self;
}

/* the first replica, made and started (it makes server.key and the TLS
 * files), and the others made; @start_all starts them too. @server_lines
 * go into [server]. */
static void
replicas_new(Fixture *f, const gchar *server_lines, gboolean start_all)
{
	/* A keep-alive connection left idle past idle-timeout (30 s) is neither
	 * served nor closed by the server (the timeout set on its socket ends
	 * libsoup's wait for the next request, and nothing watches it again):
	 * a client that sends on it waits for its own timeout. The harness's
	 * clients idle longer than that while a test waits. */
	g_autofree gchar *conf_text =
		g_strdup_printf("[server]\nidle-timeout=600\n%s", server_lines);
	f->replicas[0] = aiq_e2e_server_new(f->dir, replica_names[0], conf_text);
	aiq_e2e_server_start(f->replicas[0]);
	g_atomic_int_set(&f->alive[0], 1);
	for (guint i = 1; i < N_REPLICAS; i++)
		f->replicas[i] = replica_new(f->dir, replica_names[i], f->replicas[0]);
	if (start_all) {
		for (guint i = 1; i < N_REPLICAS; i++) {
			aiq_e2e_server_start(f->replicas[i]);
			g_atomic_int_set(&f->alive[i], 1);
		}
	}
	g_test_message("replicas %s (%s), %s (%s), %s (%s) on one database",
		       f->replicas[0]->name,
		       f->replicas[0]->url,
		       f->replicas[1]->name,
		       f->replicas[1]->url != NULL ? f->replicas[1]->url : "not started",
		       f->replicas[2]->name,
		       f->replicas[2]->url != NULL ? f->replicas[2]->url : "not started");
}

/* before it runs: `status` reads the journal the agent makes at its start */
static gchar *
agent_id_of(AiqE2eAgent *agent)
{
	g_autoptr(JsonObject) status = aiq_e2e_agent_status(agent);
	return g_strdup(aiq_json_object_get_string(status, "agent_id"));
}

static AiqE2eAgent *
add_agent(Fixture *f, const gchar *name, guint capacity, AiqE2eServer *server, const gchar *url)
{
	g_autofree gchar *conf =
		g_strdup_printf("[agent]\ncapacity=%u\n[engine]\ndurability=effects\n", capacity);
	AiqE2eAgent *agent = aiq_e2e_agent_new(f->dir, name, conf);
	aiq_e2e_agent_enroll(agent, server, url);
	g_ptr_array_add(f->agents, agent);
	g_ptr_array_add(f->agent_ids, agent_id_of(agent));
	aiq_e2e_agent_start(agent);
	return agent;
}

static AiqE2eProxy *
add_proxy(Fixture *f, AiqE2eServer *target)
{
	AiqE2eProxy *proxy = aiq_e2e_proxy_new(target->port);
	g_ptr_array_add(f->proxies, proxy);
	return proxy;
}

/* the store as the cluster's superuser */
static PGconn *
store_connect(Fixture *f)
{
	return aiq_test_pg_connect_admin(f->replicas[0]->dir);
}

static PGresult *
store_query(PGconn *conn, const gchar *sql, const gchar *param)
{
	const gchar *params[] = { param };
	PGresult *result =
		PQexecParams(conn, sql, param != NULL ? 1 : 0, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(result) != PGRES_TUPLES_OK && PQresultStatus(result) != PGRES_COMMAND_OK)
		g_error("%s: %s", sql, PQerrorMessage(conn));
	return result;
}

static gint64
store_count(PGconn *conn, const gchar *sql, const gchar *param)
{
	g_autoptr(PGresult) result = store_query(conn, sql, param);
	g_assert_cmpint(PQntuples(result), ==, 1);
	return g_ascii_strtoll(PQgetvalue(result, 0, 0), NULL, 10);
}

/* every change of a job into `leased`, whoever made it, logged in the store */
static void
install_lease_log(Fixture *f)
{
	g_autoptr(PGconn) conn = store_connect(f);
	/* in a schema of its own: the server grants its role every table of
	 * its schema, and checks them, at each start */
	g_autoptr(PGresult) schema = store_query(conn, "CREATE SCHEMA aiq_test", NULL);
	g_autoptr(PGresult) a = store_query(conn,
					    "CREATE TABLE aiq_test.leases (job_id text, "
					    "execution_id text, agent_id text, "
					    "at timestamptz DEFAULT clock_timestamp())",
					    NULL);
	g_autoptr(PGresult) b =
		store_query(conn,
			    "CREATE FUNCTION aiq_test.log_lease() RETURNS trigger "
			    "LANGUAGE plpgsql SECURITY DEFINER AS $$ "
			    "BEGIN INSERT INTO aiq_test.leases (job_id, execution_id, agent_id) "
			    "VALUES (NEW.id, NEW.execution_id, NEW.agent_id); RETURN NEW; END $$",
			    NULL);
	g_autoptr(PGresult) c = store_query(conn,
					    "CREATE TRIGGER aiq_test_lease AFTER UPDATE ON jobs "
					    "FOR EACH ROW WHEN (NEW.state = 'leased' AND "
					    "OLD.state IS DISTINCT FROM 'leased') "
					    "EXECUTE FUNCTION aiq_test.log_lease()",
					    NULL);
}

/* ---------------------------------------------------------------------------
 * calls that may fail: answered or not, how, and how fast
 */

typedef struct {
	guint status; /* 0: no answer */
	gint64 elapsed_us;
	gint64 retry_after; /* -1: none */
	gchar *message;
	JsonNode *body;
} Answer;

static void
answer_clear(Answer *a)
{
	g_clear_pointer(&a->message, g_free);
	g_clear_pointer(&a->body, json_node_unref);
}

static void
call(AiqClient *client,
     const gchar *method,
     const gchar *path,
     JsonNode *body,
     GHashTable *headers,
     Answer *a)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqClientReply) reply = NULL;
	gint64 start = g_get_monotonic_time();

	a->body = aiq_client_request_sync(client,
					  method,
					  path,
					  body,
					  NULL,
					  headers,
					  NULL,
					  &reply,
					  &error);
	a->elapsed_us = g_get_monotonic_time() - start;
	a->status = reply != NULL ? aiq_client_reply_get_status(reply) : 0;
	a->retry_after = reply != NULL ? aiq_client_reply_get_retry_after(reply) : -1;
	a->message = error != NULL ? g_strdup(error->message) : NULL;
}

/* a client of @server: with @token, as the demo admin; else anonymous */
static AiqClient *
client_new(AiqE2eServer *server, const gchar *token)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqClient) client = aiq_client_new(server->url, &error);
	g_assert_no_error(error);
	aiq_client_set_ca_file(client, server->ca_file, &error);
	g_assert_no_error(error);
	aiq_client_set_timeout(client, 30);
	if (token != NULL)
		aiq_client_set_token(client, token);
	return g_steal_pointer(&client);
}

/* ---------------------------------------------------------------------------
 * starts through the replicas, on threads of their own
 */

static JsonObject *
inputs_with_base_url(const gchar *base)
{
	JsonObject *inputs = json_object_new();
	json_object_set_string_member(inputs, "base", base);
	return inputs;
}

static JsonObject *
inputs_with_base(AiqE2eSink *sink)
{
	return inputs_with_base_url(aiq_e2e_sink_get_url(sink));
}

typedef struct {
	GMutex mutex;
	GPtrArray *ids;      /* answered 2xx, in order */
	GArray *answered_us; /* monotonic time of each */
	GHashTable *id_set;  /* id → its Idempotency-Key */
	guint by_replica[N_REPLICAS];
	guint api;
	guint webhook;
	guint attempts;
	guint no_answer;   /* connection failed or cut */
	guint unavailable; /* 503 */
	guint unavailable_without_retry_after;
	guint other;          /* any other status */
	gchar *other_message; /* the first of them */
	guint retried_keys;   /* keys answered 2xx after a failed attempt */
	guint gave_up;        /* keys never answered 2xx */
	gint64 max_elapsed_us;
} StartLog;

static void
start_log_init(StartLog *log)
{
	g_mutex_init(&log->mutex);
	log->ids = g_ptr_array_new_with_free_func(g_free);
	log->answered_us = g_array_new(FALSE, FALSE, sizeof(gint64));
	log->id_set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void
start_log_clear(StartLog *log)
{
	g_ptr_array_unref(log->ids);
	g_array_unref(log->answered_us);
	g_hash_table_unref(log->id_set);
	g_free(log->other_message);
	g_mutex_clear(&log->mutex);
}

static guint
start_log_count(StartLog *log)
{
	guint n;
	g_mutex_lock(&log->mutex);
	n = log->ids->len;
	g_mutex_unlock(&log->mutex);
	return n;
}

typedef struct {
	Fixture *f;
	StartLog *log;
	const gchar *tag;
	guint index;
	const gchar *workflow_id;
	const gchar *hook_path; /* every other start through the webhook; NULL: API only */
	const gchar *base;      /* the sink: the input of each start (JSON trees
				 * are not shared between threads: their counts
				 * are not atomic) */
	guint n;                /* starts to make; 0: until @stop */
	gint *stop;             /* atomic */
	guint pause_ms;
	GThread *thread;
	AiqClient *api[N_REPLICAS];
	AiqClient *hooks[N_REPLICAS];
} Producer;

static void
start_log_answer(StartLog *log, Answer *a)
{
	g_mutex_lock(&log->mutex);
	log->attempts++;
	log->max_elapsed_us = MAX(log->max_elapsed_us, a->elapsed_us);
	if (a->status == 0) {
		log->no_answer++;
	} else if (a->status == 503) {
		log->unavailable++;
		log->unavailable_without_retry_after += a->retry_after < 0;
	} else if (a->status < 200 || a->status >= 300) {
		log->other++;
		if (log->other_message == NULL)
			log->other_message = g_strdup_printf("%u %s", a->status, a->message);
	}
	g_mutex_unlock(&log->mutex);
}

static void
producer_start_one(Producer *p, guint k)
{
	StartLog *log = p->log;
	g_autofree gchar *key = g_strdup_printf("replicas-%s-%u-%u", p->tag, p->index, k);
	g_autofree gchar *api_path =
		g_strdup_printf("/api/v1/workflows/%s/executions", p->workflow_id);
	gboolean webhook = p->hook_path != NULL && k % 2 == 1;
	gint64 deadline = g_get_monotonic_time() + 90 * G_USEC_PER_SEC;
	g_autoptr(GHashTable) headers = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(JsonNode) body = NULL;
	gboolean failed = FALSE;

	g_hash_table_insert(headers, (gpointer) "Idempotency-Key", key);
	if (webhook) {
		body = aiq_json_new_object(inputs_with_base_url(p->base));
	} else {
		JsonObject *obj = json_object_new();
		json_object_set_object_member(obj, "inputs", inputs_with_base_url(p->base));
		body = aiq_json_new_object(obj);
	}
	for (guint attempt = 0;; attempt++) {
		guint r = (p->index + k + attempt) % N_REPLICAS;
		Answer a = { 0 };
		/* the balancer sends nothing to a replica it knows is down */
		if (!g_atomic_int_get(&p->f->alive[r])) {
			if (g_get_monotonic_time() > deadline)
				break;
			continue;
		}
		if (webhook)
			call(p->hooks[r], "POST", p->hook_path, body, headers, &a);
		else
			call(p->api[r], "POST", api_path, body, headers, &a);
		start_log_answer(log, &a);
		if (a.status >= 200 && a.status < 300) {
			JsonObject *obj = json_node_get_object(a.body);
			const gchar *id =
				aiq_json_object_get_string(obj, webhook ? "execution_id" : "id");
			gint64 now = g_get_monotonic_time();
			g_assert_nonnull(id);
			g_mutex_lock(&log->mutex);
			/* a key answers one execution, whichever replica answers */
			if (!g_hash_table_insert(log->id_set, g_strdup(id), g_strdup(key)))
				g_error("execution %s answered for two keys", id);
			g_ptr_array_add(log->ids, g_strdup(id));
			g_array_append_val(log->answered_us, now);
			log->by_replica[r]++;
			log->api += !webhook;
			log->webhook += webhook;
			log->retried_keys += failed;
			g_mutex_unlock(&log->mutex);
			answer_clear(&a);
			return;
		}
		answer_clear(&a);
		failed = TRUE;
		if (g_get_monotonic_time() > deadline)
			break;
		g_usleep(200 * 1000);
	}
	g_mutex_lock(&log->mutex);
	log->gave_up++;
	g_mutex_unlock(&log->mutex);
}

static gpointer
producer_thread(gpointer user_data)
{
	Producer *p = user_data;
	for (guint r = 0; r < N_REPLICAS; r++) {
		p->api[r] = client_new(p->f->replicas[r], p->f->replicas[r]->token);
		p->hooks[r] = client_new(p->f->replicas[r], NULL);
	}
	for (guint k = 0;
	     (p->n == 0 || k < p->n) && !(p->stop != NULL && g_atomic_int_get(p->stop));
	     k++) {
		producer_start_one(p, k);
		if (p->pause_ms > 0)
			g_usleep(p->pause_ms * 1000);
	}
	for (guint r = 0; r < N_REPLICAS; r++) {
		g_clear_object(&p->api[r]);
		g_clear_object(&p->hooks[r]);
	}
	return NULL;
}

static void
producers_start(Producer *producers,
		guint n_producers,
		Fixture *f,
		StartLog *log,
		const gchar *tag,
		const gchar *workflow_id,
		const gchar *hook_path,
		const gchar *base,
		guint n_each,
		gint *stop,
		guint pause_ms)
{
	for (guint i = 0; i < n_producers; i++) {
		Producer *p = &producers[i];
		p->f = f;
		p->log = log;
		p->tag = tag;
		p->index = i;
		p->workflow_id = workflow_id;
		p->hook_path = hook_path;
		p->base = base;
		p->n = n_each;
		p->stop = stop;
		p->pause_ms = pause_ms;
		p->thread = g_thread_new("replicas-producer", producer_thread, p);
	}
}

static void
producers_join(Producer *producers, guint n_producers)
{
	for (guint i = 0; i < n_producers; i++)
		g_thread_join(g_steal_pointer(&producers[i].thread));
}

/* ---------------------------------------------------------------------------
 * checks
 */

static gboolean
status_is_final(const gchar *status)
{
	return g_strcmp0(status, "succeeded") == 0 || g_strcmp0(status, "failed") == 0 ||
	       g_strcmp0(status, "cancelled") == 0 || g_strcmp0(status, "timed_out") == 0;
}

typedef struct {
	guint total;
	guint final;
	guint succeeded;
	guint running;
	guint queued;
	guint64 lease_expiries;
	guint with_expiries;
} Counts;

static Counts
count_executions(GHashTable *list)
{
	Counts c = { 0 };
	GHashTableIter iter;
	JsonObject *item;
	g_hash_table_iter_init(&iter, list);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&item)) {
		const gchar *status = aiq_json_object_get_string(item, "status");
		gint64 expiries = aiq_json_object_get_int(item, "lease_expiries", 0);
		c.total++;
		c.final += status_is_final(status);
		c.succeeded += g_strcmp0(status, "succeeded") == 0;
		c.running += g_strcmp0(status, "running") == 0;
		c.queued += g_strcmp0(status, "queued") == 0;
		c.lease_expiries += (guint64)expiries;
		c.with_expiries += expiries > 0;
	}
	return c;
}

/* polls @server until at least @n executions of @workflow_id exist and all
 * are final */
static GHashTable *
wait_all_final(AiqE2eServer *server, const gchar *workflow_id, guint n, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	for (;;) {
		g_autoptr(GHashTable) list = aiq_e2e_server_list_executions(server, workflow_id);
		Counts c = count_executions(list);
		if (c.total >= n && c.final == c.total)
			return g_steal_pointer(&list);
		if (g_get_monotonic_time() > deadline)
			g_error("after %u s, %u of %u executions are final (%u queued, %u running)",
				timeout_s,
				c.final,
				MAX(n, c.total),
				c.queued,
				c.running);
		g_usleep(300 * 1000);
	}
}

typedef struct {
	guint executions;
	guint steps;
	guint events;
} History;

/*
 * One execution: succeeded, each of its @n_steps steps succeeded with one
 * attempt; its events gapless from 1, one execution.created and one
 * execution.started (the history never started again on another lease),
 * one step.finished per step, execution.finished last.
 */
static void
check_execution(AiqE2eServer *server, const gchar *id, guint n_steps, History *h)
{
	g_autoptr(JsonObject) exec = aiq_e2e_server_get_execution(server, id);
	g_autoptr(JsonArray) events = aiq_e2e_server_get_events(server, id);
	g_autoptr(GHashTable) finished = g_hash_table_new(g_str_hash, g_str_equal);
	JsonArray *steps = aiq_json_object_get_array(exec, "steps");
	guint n_events = json_array_get_length(events);
	guint created = 0;
	guint started = 0;

	aiq_e2e_assert_succeeded(exec, id, steps, n_steps);
	for (guint i = 0; i < n_steps; i++) {
		JsonObject *step = json_array_get_object_element(steps, i);
		gint64 attempts = aiq_json_object_get_int(step, "attempt_count", -1);
		if (g_strcmp0(aiq_json_object_get_string(step, "status"), "succeeded") != 0 ||
		    attempts != 1)
			g_error("execution %s: step %s is %s after %" G_GINT64_FORMAT " attempts",
				id,
				aiq_json_object_get_string(step, "id"),
				aiq_json_object_get_string(step, "status"),
				attempts);
	}
	g_assert_cmpuint(n_events, >, 0);
	for (guint i = 0; i < n_events; i++) {
		JsonObject *event = json_array_get_object_element(events, i);
		const gchar *type = aiq_json_object_get_string(event, "type");
		if (aiq_json_object_get_int(event, "seq", 0) != (gint64)i + 1)
			g_error("execution %s: event %u has seq %" G_GINT64_FORMAT,
				id,
				i + 1,
				aiq_json_object_get_int(event, "seq", 0));
		created += g_strcmp0(type, "execution.created") == 0;
		started += g_strcmp0(type, "execution.started") == 0;
		if (g_strcmp0(type, "step.finished") == 0 &&
		    !g_hash_table_add(finished,
				      (gpointer)aiq_json_object_get_string(event, "step")))
			g_error("execution %s: step %s finished twice in its history",
				id,
				aiq_json_object_get_string(event, "step"));
	}
	if (created != 1 || started != 1)
		g_error("execution %s: %u execution.created and %u execution.started events: "
			"its history started more than once",
			id,
			created,
			started);
	g_assert_cmpuint(g_hash_table_size(finished), ==, n_steps);
	g_assert_cmpstr(
		aiq_json_object_get_string(json_array_get_object_element(events, n_events - 1),
					   "type"),
		==,
		"execution.finished");
	h->executions++;
	h->steps += n_steps;
	h->events += n_events;
}

/*
 * The sink against the store: each execution of @all (id → summary) made
 * its effect (key `<id>/<step>`) exactly once, no other key came, and each
 * of @answered is among them.
 */
static void
check_sink_once(AiqE2eSink *sink, GHashTable *all, GPtrArray *answered, const gchar *step)
{
	g_autoptr(GHashTable) keys = aiq_e2e_sink_dup_keys(sink);
	GHashTableIter iter;
	const gchar *key;
	AiqE2eSinkKey *entry;
	g_autofree gchar *suffix = g_strdup_printf("/%s", step);

	for (guint i = 0; i < answered->len; i++) {
		const gchar *id = g_ptr_array_index(answered, i);
		g_autofree gchar *k = g_strdup_printf("%s/%s", id, step);
		if (!g_hash_table_contains(all, id))
			g_error("execution %s, answered 2xx, is not in the list", id);
		entry = g_hash_table_lookup(keys, k);
		if (entry == NULL)
			g_error("the effect of execution %s (answered 2xx) never reached the sink",
				id);
	}
	g_hash_table_iter_init(&iter, keys);
	while (g_hash_table_iter_next(&iter, (gpointer *)&key, (gpointer *)&entry)) {
		g_autofree gchar *id = NULL;
		if (!g_str_has_suffix(key, suffix))
			g_error("the sink saw a key of no step: %s", key);
		id = g_strndup(key, strlen(key) - strlen(suffix));
		if (!g_hash_table_contains(all, id))
			g_error("the sink saw %s, of no execution", key);
		if (entry->count != 1)
			g_error("the effect %s reached the sink %u times", key, entry->count);
	}
	g_assert_cmpuint(g_hash_table_size(keys), ==, g_hash_table_size(all));
	g_assert_cmpuint(aiq_e2e_sink_get_requests_without_key(sink), ==, 0);
	g_assert_cmpuint(aiq_e2e_sink_get_requests(sink), ==, g_hash_table_size(all));
}

static gchar *
hook_path_of(AiqE2eServer *server, const gchar *workflow_id)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/webhook", workflow_id);
	g_autoptr(JsonNode) root = aiq_e2e_server_call(server, "GET", path, NULL);
	const gchar *hook = aiq_json_object_get_string(json_node_get_object(root), "path");
	g_assert_nonnull(hook);
	return g_strdup(hook);
}

/* "name 12, name 3, …" of executions per agent */
static gchar *
describe_agents(Fixture *f, GHashTable *list)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GHashTable) per = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter iter;
	JsonObject *item;
	g_hash_table_iter_init(&iter, list);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&item)) {
		const gchar *agent_id = aiq_json_object_get_string(item, "agent_id");
		if (agent_id != NULL)
			g_hash_table_insert(
				per,
				(gpointer)agent_id,
				GUINT_TO_POINTER(
					GPOINTER_TO_UINT(g_hash_table_lookup(per, agent_id)) + 1));
	}
	for (guint i = 0; i < f->agents->len; i++) {
		AiqE2eAgent *agent = g_ptr_array_index(f->agents, i);
		const gchar *id = g_ptr_array_index(f->agent_ids, i);
		g_string_append_printf(text,
				       "%s%s %u",
				       i > 0 ? ", " : "",
				       agent->name,
				       GPOINTER_TO_UINT(g_hash_table_lookup(per, id)));
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

/* ---------------------------------------------------------------------------
 * /aiq/replicas/lease-once
 */

static const gchar *lease_workflow =
	"name: replicas-lease-once\n"
	"inputs: { base: { type: string } }\n"
	"steps:\n"
	"  - { id: t1, uses: transform, with: { value: '${{ execution.id }}' } }\n"
	"  - { id: h1, uses: http, with: { method: POST, url: '${{ inputs.base }}/effect/h1', "
	"body: { id: '${{ steps.t1.output }}' } } }\n"
	"outputs: { id: '${{ steps.t1.output }}' }\n";

static void
test_lease_once(Fixture *f, gconstpointer user_data)
{
	const guint n_producers = 3;
	guint n = aiq_e2e_scale("AIQ_REPLICAS_EXECUTIONS", 300, 600);
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *per_agent = NULL;
	g_autoptr(GHashTable) final = NULL;
	g_autoptr(PGconn) conn = NULL;
	Producer producers[3] = { 0 };
	StartLog log = { 0 };
	gint64 t_start;
	gint64 t_started;
	gint64 t_done;
	gint64 leases;
	gint64 leased_jobs;
	gint64 twice;
	gint64 expiries;
	Counts c;
	History h = { 0 };

	f->sink = aiq_e2e_sink_new(0, 10);
	replicas_new(f, "lease-ttl=30s\nlong-poll=5s\n", TRUE);
	install_lease_log(f);
	workflow_id = aiq_e2e_server_create_workflow(f->replicas[0], lease_workflow);
	for (guint i = 0; i < 2 * N_REPLICAS; i++) {
		g_autofree gchar *name = g_strdup_printf("agent-%c%u", 'a' + i % N_REPLICAS, i / 3);
		add_agent(f, name, 4, f->replicas[i % N_REPLICAS], NULL);
	}

	start_log_init(&log);
	t_start = g_get_monotonic_time();
	producers_start(producers,
			n_producers,
			f,
			&log,
			"lease",
			workflow_id,
			NULL,
			aiq_e2e_sink_get_url(f->sink),
			(n + n_producers - 1) / n_producers,
			NULL,
			0);
	producers_join(producers, n_producers);
	t_started = g_get_monotonic_time();
	final = wait_all_final(f->replicas[1], workflow_id, log.ids->len, 600);
	t_done = g_get_monotonic_time();
	c = count_executions(final);

	for (guint i = 0; i < log.ids->len; i++)
		check_execution(f->replicas[i % N_REPLICAS], log.ids->pdata[i], 2, &h);
	check_sink_once(f->sink, final, log.ids, "h1");
	per_agent = describe_agents(f, final);

	conn = store_connect(f);
	leases = store_count(conn, "SELECT count(*) FROM aiq_test.leases", NULL);
	leased_jobs = store_count(conn, "SELECT count(DISTINCT job_id) FROM aiq_test.leases", NULL);
	twice = store_count(conn,
			    "SELECT count(*) FROM (SELECT job_id FROM aiq_test.leases "
			    "GROUP BY job_id HAVING count(*) > 1) t",
			    NULL);
	expiries = store_count(conn, "SELECT coalesce(sum(expiries), 0) FROM jobs", NULL);

	g_test_message("lease-once: %u executions started through 3 replicas in turn by %u "
		       "threads in %.1f s (%u, %u, %u answered by A, B, C; %u attempts), all "
		       "final %.1f s later",
		       log.ids->len,
		       n_producers,
		       (t_started - t_start) / 1e6,
		       log.by_replica[0],
		       log.by_replica[1],
		       log.by_replica[2],
		       log.attempts,
		       (t_done - t_started) / 1e6);
	g_test_message("lease-once: executions per agent (two on each replica, capacity 4): %s",
		       per_agent);
	g_test_message("lease-once: store: %" G_GINT64_FORMAT " leases of %" G_GINT64_FORMAT
		       " jobs, %" G_GINT64_FORMAT " jobs leased more than once, %" G_GINT64_FORMAT
		       " lease expiries; %u succeeded, %u steps with one attempt each, %u events; "
		       "sink: %" G_GUINT64_FORMAT " requests, each key once",
		       leases,
		       leased_jobs,
		       twice,
		       expiries,
		       c.succeeded,
		       h.steps,
		       h.events,
		       aiq_e2e_sink_get_requests(f->sink));
	g_assert_cmpuint(log.ids->len, ==, n_producers * ((n + n_producers - 1) / n_producers));
	g_assert_cmpuint(log.gave_up + log.other + log.no_answer + log.unavailable, ==, 0);
	g_assert_cmpuint(c.total, ==, log.ids->len);
	g_assert_cmpuint(c.succeeded, ==, log.ids->len);
	g_assert_cmpuint(c.lease_expiries, ==, 0);
	g_assert_cmpint(expiries, ==, 0);
	g_assert_cmpint(twice, ==, 0);
	g_assert_cmpint(leased_jobs, ==, (gint64)log.ids->len);
	g_assert_cmpint(leases, ==, (gint64)log.ids->len);
	start_log_clear(&log);
}

/* ---------------------------------------------------------------------------
 * /aiq/replicas/schedule-once
 */

static const gchar *schedule_workflow =
	"name: replicas-schedule-once\n"
	"triggers:\n"
	"  - schedule: { cron: '* * * * *', catch_up: none }\n"
	"steps:\n"
	"  - { id: t1, uses: transform, with: { value: '${{ execution.id }}' } }\n";

/* how many times @needle is in the log of @server */
static guint
log_count(AiqE2eServer *server, const gchar *needle)
{
	g_autofree gchar *text = NULL;
	guint n = 0;
	if (!g_file_get_contents(server->log_path, &text, NULL, NULL))
		return 0;
	for (const gchar *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void
test_schedule_once(Fixture *f, gconstpointer user_data)
{
	const gint64 minute = 60;
	g_autofree gchar *workflow_id = NULL;
	g_autoptr(GHashTable) final = NULL;
	g_autoptr(GHashTable) times = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_autoptr(PGconn) conn = NULL;
	g_autoptr(PGresult) keys = NULL;
	g_autoptr(PGresult) fires = NULL;
	g_autoptr(GString) fired_by = g_string_new(NULL);
	g_autoptr(GHashTable) seen_us =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gint64 t_created;
	gint64 first_fire;
	gint64 last_fire;
	gint64 t_checked;
	guint expected;
	guint logged = 0;
	gdouble max_seen_s = 0;
	Counts c;

	replicas_new(f, "lease-ttl=30s\nlong-poll=5s\nscheduler=true\n", FALSE);
	/* a new schedule starts from the scheduler's next pass (a second at
	 * most): made in the last seconds of a minute, it would miss the first
	 * boundary counted below */
	while ((g_get_real_time() / G_USEC_PER_SEC) % minute >= minute - 8)
		g_usleep(250 * 1000);
	workflow_id = aiq_e2e_server_create_workflow(f->replicas[0], schedule_workflow);
	t_created = g_get_real_time() / G_USEC_PER_SEC;
	/* B and C plan it at their start, as A does at its next pass: all three
	 * race for each fire */
	for (guint i = 1; i < N_REPLICAS; i++) {
		aiq_e2e_server_start(f->replicas[i]);
		g_atomic_int_set(&f->alive[i], 1);
	}
	add_agent(f, "agent", 4, f->replicas[1], NULL);

	/* through two fire times: the next minute boundaries after the creation */
	first_fire = (t_created / minute + 1) * minute;
	last_fire = first_fire + minute;
	g_test_message("schedule-once: created at %" G_GINT64_FORMAT
		       "; waiting through the fires at %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
		       " (%" G_GINT64_FORMAT " s)",
		       t_created,
		       first_fire,
		       last_fire,
		       last_fire - t_created + 5);
	/* watched through each replica in turn meanwhile: when each fire's
	 * execution appeared */
	for (guint poll = 0; g_get_real_time() / G_USEC_PER_SEC < last_fire + 5; poll++) {
		g_autoptr(GHashTable) list =
			aiq_e2e_server_list_executions(f->replicas[poll % N_REPLICAS], workflow_id);
		gint64 now = g_get_real_time();
		GHashTableIter iter;
		const gchar *id;
		g_hash_table_iter_init(&iter, list);
		while (g_hash_table_iter_next(&iter, (gpointer *)&id, NULL)) {
			if (!g_hash_table_contains(seen_us, id))
				g_hash_table_insert(seen_us,
						    g_strdup(id),
						    g_memdup2(&now, sizeof(now)));
		}
		g_usleep(2 * G_USEC_PER_SEC);
	}
	/* still well before the next boundary */
	final = wait_all_final(f->replicas[2], workflow_id, 2, 40);
	t_checked = g_get_real_time() / G_USEC_PER_SEC;
	g_assert_cmpint(t_checked, <, last_fire + minute - 5);
	c = count_executions(final);

	/* the store: each execution's idempotency key names its fire time */
	conn = store_connect(f);
	keys = store_query(conn,
			   "SELECT idempotency_key, trigger FROM executions WHERE workflow_id = $1",
			   workflow_id);
	for (gint i = 0; i < PQntuples(keys); i++) {
		const gchar *key = PQgetvalue(keys, i, 0);
		gint64 t;
		g_assert_cmpstr(PQgetvalue(keys, i, 1), ==, "schedule");
		g_assert_true(g_str_has_prefix(key, "schedule:0:"));
		t = g_ascii_strtoll(key + strlen("schedule:0:"), NULL, 10);
		g_assert_cmpint(t % minute, ==, 0);
		g_assert_cmpint(t, >=, first_fire);
		g_assert_cmpint(t, <=, last_fire);
		if (!g_hash_table_add(times, g_memdup2(&t, sizeof(t))))
			g_error("two executions for the fire at %" G_GINT64_FORMAT, t);
	}
	fires = store_query(conn,
			    "SELECT fire_time, execution_id FROM schedule_fires WHERE "
			    "workflow_id = $1 AND execution_id IS NOT NULL",
			    workflow_id);
	/* who fired each: the replica that started its execution logs it */
	for (gint64 t = first_fire; t <= last_fire; t += minute) {
		g_autofree gchar *needle = g_strdup_printf(
			"schedule fired: workflow %s trigger 0 at %" G_GINT64_FORMAT,
			workflow_id,
			t);
		g_autofree gchar *who = NULL;
		guint n = 0;
		for (guint i = 0; i < N_REPLICAS; i++) {
			guint k = log_count(f->replicas[i], needle);
			n += k;
			if (k > 0 && who == NULL)
				who = g_strdup(f->replicas[i]->name);
		}
		g_string_append_printf(fired_by,
				       "%s%" G_GINT64_FORMAT " by %s",
				       t > first_fire ? ", " : "",
				       t,
				       who != NULL ? who : "nobody");
		logged += n;
	}
	{
		GHashTableIter iter;
		gint64 *when;
		g_hash_table_iter_init(&iter, seen_us);
		while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&when))
			max_seen_s =
				MAX(max_seen_s,
				    *when / (gdouble)G_USEC_PER_SEC -
					    (gdouble)((*when / G_USEC_PER_SEC) / minute * minute));
	}
	/* the boundaries passed since the creation */
	expected = (guint)((last_fire - first_fire) / minute + 1);

	g_test_message("schedule-once: scheduler on in 3 replicas; %u executions for %u fire "
		       "times, %u distinct times in their idempotency keys (schedule:0:TIME), %d "
		       "schedule_fires rows; fired: %s; each seen in a list at most %.1f s after "
		       "its time (lists every 2 s)",
		       c.total,
		       expected,
		       g_hash_table_size(times),
		       PQntuples(fires),
		       fired_by->str,
		       max_seen_s);
	g_assert_cmpuint(c.total, ==, (guint)PQntuples(keys));
	g_assert_cmpuint(g_hash_table_size(times), ==, c.total);
	g_assert_cmpuint(c.total, ==, expected);
	g_assert_cmpuint(c.succeeded, ==, c.total);
	g_assert_cmpint(PQntuples(fires), ==, (gint)c.total);
	g_assert_cmpuint(logged, ==, c.total);
	for (gint64 t = first_fire; t <= last_fire; t += minute)
		g_assert_true(g_hash_table_contains(times, &t));
	for (gint i = 0; i < PQntuples(fires); i++) {
		gint64 t = g_ascii_strtoll(PQgetvalue(fires, i, 0), NULL, 10) / G_USEC_PER_SEC;
		g_assert_true(g_hash_table_contains(times, &t));
		g_assert_true(g_hash_table_contains(final, PQgetvalue(fires, i, 1)));
	}
}

/* ---------------------------------------------------------------------------
 * /aiq/replicas/agent-moves
 */

static const gchar *move_workflow =
	"name: replicas-agent-moves\n"
	"inputs: { base: { type: string } }\n"
	"steps:\n"
	"  - { id: t1, uses: transform, with: { value: '${{ execution.id }}' } }\n"
	"  - { id: d1, uses: delay, with: { duration: 1500ms } }\n"
	"  - { id: h1, uses: http, with: { method: POST, url: '${{ inputs.base }}/effect/h1', "
	"body: { id: '${{ steps.t1.output }}' } } }\n"
	"  - { id: t2, uses: transform, with: { value: { status: '${{ steps.h1.output.status }}', "
	"id: '${{ steps.t1.output }}' } } }\n"
	"outputs: { result: '${{ steps.t2.output }}' }\n";

static gchar *
to_text(JsonNode *node)
{
	return aiq_json_to_string(node, FALSE);
}

/* GET of the execution and of its events, the same on every replica */
static void
check_replicas_agree(Fixture *f, const gchar *id)
{
	g_autofree gchar *exec_first = NULL;
	g_autofree gchar *events_first = NULL;
	for (guint r = 0; r < N_REPLICAS; r++) {
		g_autoptr(JsonObject) exec = aiq_e2e_server_get_execution(f->replicas[r], id);
		g_autoptr(JsonArray) events = aiq_e2e_server_get_events(f->replicas[r], id);
		g_autoptr(JsonNode) exec_node = aiq_json_new_object(json_object_ref(exec));
		g_autoptr(JsonNode) events_node = aiq_json_new_array(json_array_ref(events));
		g_autofree gchar *exec_text = to_text(exec_node);
		g_autofree gchar *events_text = to_text(events_node);
		if (r == 0) {
			exec_first = g_steal_pointer(&exec_text);
			events_first = g_steal_pointer(&events_text);
			continue;
		}
		if (g_strcmp0(exec_text, exec_first) != 0)
			g_error("execution %s: %s answers\n%s\n%s answers\n%s",
				id,
				f->replicas[0]->name,
				exec_first,
				f->replicas[r]->name,
				exec_text);
		if (g_strcmp0(events_text, events_first) != 0)
			g_error("execution %s: the events on %s and %s differ:\n%s\n%s",
				id,
				f->replicas[0]->name,
				f->replicas[r]->name,
				events_first,
				events_text);
	}
}

static void
test_agent_moves(Fixture *f, gconstpointer user_data)
{
	const guint capacity = 8;
	guint batch = aiq_e2e_scale("AIQ_REPLICAS_MOVE_BATCH", 16, 40);
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *proxy_url = NULL;
	g_autofree gchar *agent_id = NULL;
	g_autoptr(JsonObject) inputs = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) final = NULL;
	AiqE2eProxy *proxy;
	AiqE2eAgent *agent;
	gint64 t_move;
	gint64 t_done;
	guint finished_at_move = 0;
	guint64 cut;
	Counts c;
	History h = { 0 };

	f->sink = aiq_e2e_sink_new(0, 0);
	replicas_new(f, "lease-ttl=30s\nlong-poll=5s\n", TRUE);
	proxy = add_proxy(f, f->replicas[0]);
	proxy_url = aiq_e2e_proxy_dup_url(proxy);
	workflow_id = aiq_e2e_server_create_workflow(f->replicas[0], move_workflow);
	inputs = inputs_with_base(f->sink);
	agent = add_agent(f, "agent", capacity, f->replicas[0], proxy_url);
	agent_id = g_strdup(g_ptr_array_index(f->agent_ids, 0));

	/* a first batch, started through the three; the agent holds some */
	for (guint i = 0; i < batch; i++)
		g_ptr_array_add(ids,
				aiq_e2e_server_start_execution(f->replicas[i % N_REPLICAS],
							       workflow_id,
							       inputs));
	for (gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;;) {
		g_autoptr(GHashTable) list =
			aiq_e2e_server_list_executions(f->replicas[0], workflow_id);
		c = count_executions(list);
		if (c.running >= capacity / 2) {
			GHashTableIter iter;
			const gchar *id;
			JsonObject *item;
			g_hash_table_iter_init(&iter, list);
			while (g_hash_table_iter_next(&iter, (gpointer *)&id, (gpointer *)&item)) {
				if (g_strcmp0(aiq_json_object_get_string(item, "status"),
					      "running") == 0)
					g_hash_table_add(held, g_strdup(id));
			}
			finished_at_move = c.final;
			break;
		}
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(50 * 1000);
	}

	/* the balancer sends it to B now: its connections to A are cut */
	t_move = g_get_monotonic_time();
	aiq_e2e_proxy_set_target(proxy, f->replicas[1]->port);
	aiq_e2e_proxy_set_connected(proxy, FALSE);
	aiq_e2e_proxy_set_connected(proxy, TRUE);
	cut = aiq_e2e_proxy_get_cut(proxy);

	/* a second batch after the move */
	for (guint i = 0; i < batch; i++)
		g_ptr_array_add(ids,
				aiq_e2e_server_start_execution(f->replicas[i % N_REPLICAS],
							       workflow_id,
							       inputs));
	final = wait_all_final(f->replicas[2], workflow_id, ids->len, 300);
	t_done = g_get_monotonic_time();
	c = count_executions(final);
	for (guint i = 0; i < ids->len; i++) {
		const gchar *id = ids->pdata[i];
		JsonObject *item = g_hash_table_lookup(final, id);
		check_execution(f->replicas[i % N_REPLICAS], id, 4, &h);
		check_replicas_agree(f, id);
		g_assert_cmpstr(aiq_json_object_get_string(item, "agent_id"), ==, agent_id);
		{
			g_autoptr(JsonObject) exec =
				aiq_e2e_server_get_execution(f->replicas[1], id);
			JsonObject *outputs = aiq_json_object_get_object(exec, "outputs");
			JsonObject *result = outputs != NULL
						     ? aiq_json_object_get_object(outputs, "result")
						     : NULL;
			g_assert_nonnull(result);
			g_assert_cmpstr(aiq_json_object_get_string(result, "id"), ==, id);
			g_assert_cmpint(aiq_json_object_get_int(result, "status", 0), ==, 200);
		}
	}
	check_sink_once(f->sink, final, ids, "h1");
	{
		g_autoptr(JsonObject) status = aiq_e2e_agent_status(agent);
		g_assert_cmpint(aiq_json_object_get_int(status, "outbox_depth", -1), ==, 0);
	}

	g_test_message("agent-moves: %u executions (%u before the move, %u after), capacity %u; "
		       "moved from %s to %s with %u running and %u final: %" G_GUINT64_FORMAT
		       " connections cut",
		       ids->len,
		       batch,
		       batch,
		       capacity,
		       f->replicas[0]->name,
		       f->replicas[1]->name,
		       g_hash_table_size(held),
		       finished_at_move,
		       cut);
	g_test_message("agent-moves: all %u succeeded %.1f s after the move, %u lease expiries; "
		       "%u events, each execution and its events alike on A, B and C; "
		       "each effect once at the sink",
		       c.succeeded,
		       (t_done - t_move) / 1e6,
		       (guint)c.lease_expiries,
		       h.events);
	g_assert_cmpuint(c.total, ==, ids->len);
	g_assert_cmpuint(c.succeeded, ==, ids->len);
	g_assert_cmpuint(c.lease_expiries, ==, 0);
	g_assert_cmpuint(g_hash_table_size(held), >, 0);
	g_assert_cmpuint(cut, >, 0);
}

/* ---------------------------------------------------------------------------
 * /aiq/replicas/replica-kill
 */

static const gchar *kill_workflow =
	"name: replicas-replica-kill\n"
	"triggers: [ { webhook: {} }, { api: {} } ]\n"
	"inputs: { base: { type: string } }\n"
	"steps:\n"
	"  - { id: t1, uses: transform, with: { value: '${{ execution.id }}' } }\n"
	"  - { id: d1, uses: delay, with: { duration: 500ms } }\n"
	"  - { id: h1, uses: http, with: { method: POST, url: '${{ inputs.base }}/effect/h1', "
	"body: { id: '${{ steps.t1.output }}' } } }\n";

/* an agent of the API alone: enrolled, it leases through @server and is
 * never heard of again */
static GPtrArray *
ghost_lease(AiqE2eServer *server, guint capacity, guint timeout_s)
{
	g_autofree gchar *token = aiq_e2e_server_create_enrollment_token(server);
	g_autoptr(AiqClient) client = client_new(server, NULL);
	g_autoptr(JsonObject) enroll = json_object_new();
	g_autoptr(JsonNode) enroll_node = NULL;
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	Answer a = { 0 };

	json_object_set_string_member(enroll, "token", token);
	json_object_set_string_member(enroll, "name", "ghost");
	json_object_set_int_member(enroll, "capacity", capacity);
	enroll_node = aiq_json_new_object(json_object_ref(enroll));
	call(client, "POST", "/api/v1/agents/enroll", enroll_node, NULL, &a);
	if (a.status != 201)
		g_error("enrolling the ghost: %u %s", a.status, a.message);
	aiq_client_set_token(
		client,
		aiq_json_object_get_string(json_node_get_object(a.body), "credential"));
	answer_clear(&a);
	while (ids->len < capacity && g_get_monotonic_time() < deadline) {
		g_autoptr(JsonObject) lease = json_object_new();
		g_autoptr(JsonNode) lease_node = NULL;
		JsonArray *jobs;
		json_object_set_int_member(lease, "capacity", capacity - ids->len);
		json_object_set_int_member(lease, "wait_ms", 1000);
		lease_node = aiq_json_new_object(json_object_ref(lease));
		call(client, "POST", "/api/v1/agent/lease", lease_node, NULL, &a);
		if (a.status != 200)
			g_error("the ghost's lease: %u %s", a.status, a.message);
		jobs = aiq_json_object_get_array(json_node_get_object(a.body), "jobs");
		for (guint i = 0; jobs != NULL && i < json_array_get_length(jobs); i++)
			g_ptr_array_add(ids,
					g_strdup(aiq_json_object_get_string(
						json_array_get_object_element(jobs, i),
						"execution_id")));
		answer_clear(&a);
	}
	return ids;
}

static void
test_replica_kill(Fixture *f, gconstpointer user_data)
{
	const guint n_producers = 3;
	const guint capacity = 6;
	const gint64 lease_ttl_s = 6;
	guint n = aiq_e2e_scale("AIQ_REPLICAS_KILL_EXECUTIONS", 150, 300);
	guint n_each = (n + n_producers - 1) / n_producers;
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *hook_path = NULL;
	g_autoptr(GPtrArray) ghost = NULL;
	g_autoptr(GHashTable) ghost_requeued_us =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GHashTable) final = NULL;
	g_autoptr(GHashTable) agent_ids =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(PGconn) conn = NULL;
	AiqE2eProxy *proxies[N_REPLICAS];
	Producer producers[3] = { 0 };
	StartLog log = { 0 };
	gint64 t_ghost;
	gint64 t_kill;
	gint64 t_done;
	gint64 max_requeue_us = 0;
	gint64 leases;
	gint64 jobs;
	gint64 expiries;
	guint answered_at_kill;
	guint running_at_kill;
	guint held_by_a = 0;
	Counts c;
	History h = { 0 };

	f->sink = aiq_e2e_sink_new(0, 10);
	replicas_new(f, "lease-ttl=6s\nlong-poll=3s\n", TRUE);
	install_lease_log(f);
	workflow_id = aiq_e2e_server_create_workflow(f->replicas[0], kill_workflow);
	hook_path = hook_path_of(f->replicas[0], workflow_id);
	/* each agent reaches its replica through a balancer of its own */
	for (guint i = 0; i < N_REPLICAS; i++) {
		g_autofree gchar *name = g_strdup_printf("agent-%c", 'a' + i);
		g_autofree gchar *url = NULL;
		proxies[i] = add_proxy(f, f->replicas[i]);
		url = aiq_e2e_proxy_dup_url(proxies[i]);
		add_agent(f, name, capacity, f->replicas[i], url);
		g_hash_table_add(agent_ids, g_strdup(g_ptr_array_index(f->agent_ids, i)));
	}

	start_log_init(&log);
	producers_start(producers,
			n_producers,
			f,
			&log,
			"kill",
			workflow_id,
			hook_path,
			aiq_e2e_sink_get_url(f->sink),
			n_each,
			NULL,
			20);
	/* mid-run: a third answered */
	for (gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
	     start_log_count(&log) < n / 3;) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(50 * 1000);
	}
	/* leases through A that nobody will renew */
	t_ghost = g_get_monotonic_time();
	ghost = ghost_lease(f->replicas[0], 3, 20);
	g_assert_cmpuint(ghost->len, >, 0);
	{
		g_autoptr(GHashTable) list =
			aiq_e2e_server_list_executions(f->replicas[1], workflow_id);
		GHashTableIter iter;
		JsonObject *item;
		running_at_kill = count_executions(list).running;
		g_hash_table_iter_init(&iter, list);
		while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&item))
			held_by_a += g_strcmp0(aiq_json_object_get_string(item, "status"),
					       "running") == 0 &&
				     g_strcmp0(aiq_json_object_get_string(item, "agent_id"),
					       g_ptr_array_index(f->agent_ids, 0)) == 0;
	}
	answered_at_kill = start_log_count(&log);
	g_atomic_int_set(&f->alive[0], 0);
	t_kill = g_get_monotonic_time();
	aiq_e2e_server_kill(f->replicas[0]);
	/* the balancer of agent-a sends to B from now on */
	aiq_e2e_proxy_set_target(proxies[0], f->replicas[1]->port);
	aiq_e2e_proxy_set_connected(proxies[0], FALSE);
	aiq_e2e_proxy_set_connected(proxies[0], TRUE);

	/* the ghost's jobs come back: when */
	for (gint64 deadline = t_kill + 60 * G_USEC_PER_SEC;
	     g_hash_table_size(ghost_requeued_us) < ghost->len;) {
		for (guint i = 0; i < ghost->len; i++) {
			const gchar *id = ghost->pdata[i];
			g_autoptr(JsonObject) exec = NULL;
			gint64 now;
			if (g_hash_table_contains(ghost_requeued_us, id))
				continue;
			exec = aiq_e2e_server_get_execution(f->replicas[1 + i % 2], id);
			now = g_get_monotonic_time();
			if (aiq_json_object_get_int(exec, "lease_expiries", 0) >= 1)
				g_hash_table_insert(ghost_requeued_us,
						    g_strdup(id),
						    g_memdup2(&now, sizeof(now)));
		}
		if (g_get_monotonic_time() > deadline)
			g_error("the jobs the ghost leased through the dead replica did not come "
				"back within 60 s");
		g_usleep(100 * 1000);
	}
	{
		GHashTableIter iter;
		gint64 *when;
		g_hash_table_iter_init(&iter, ghost_requeued_us);
		while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&when))
			max_requeue_us = MAX(max_requeue_us, *when - t_ghost);
	}

	producers_join(producers, n_producers);
	final = wait_all_final(f->replicas[1], workflow_id, log.ids->len, 300);
	t_done = g_get_monotonic_time();
	c = count_executions(final);
	for (guint i = 0; i < log.ids->len; i++)
		check_execution(f->replicas[1 + i % 2], log.ids->pdata[i], 3, &h);
	check_sink_once(f->sink, final, log.ids, "h1");
	for (guint i = 0; i < ghost->len; i++) {
		JsonObject *item = g_hash_table_lookup(final, ghost->pdata[i]);
		g_assert_nonnull(item);
		g_assert_cmpstr(aiq_json_object_get_string(item, "status"), ==, "succeeded");
		g_assert_cmpint(aiq_json_object_get_int(item, "lease_expiries", 0), ==, 1);
		g_assert_true(g_hash_table_contains(agent_ids,
						    aiq_json_object_get_string(item, "agent_id")));
	}
	conn = store_connect(f);
	leases = store_count(conn, "SELECT count(*) FROM aiq_test.leases", NULL);
	jobs = store_count(conn, "SELECT count(*) FROM jobs", NULL);
	expiries = store_count(conn, "SELECT coalesce(sum(expiries), 0) FROM jobs", NULL);

	/* A again, on its directory: it answers as B does */
	aiq_e2e_server_start(f->replicas[0]);
	g_atomic_int_set(&f->alive[0], 1);
	for (guint i = 0; i < ghost->len; i++)
		check_replicas_agree(f, ghost->pdata[i]);
	check_replicas_agree(f, log.ids->pdata[0]);
	check_replicas_agree(f, log.ids->pdata[log.ids->len - 1]);

	g_test_message("replica-kill: %u starts answered 2xx (%u API, %u webhook; %u, %u, %u by "
		       "A, B, C) of %u attempts: %u without an answer, %u 503, %u retried with the "
		       "same key to another replica, %u given up",
		       log.ids->len,
		       log.api,
		       log.webhook,
		       log.by_replica[0],
		       log.by_replica[1],
		       log.by_replica[2],
		       log.attempts,
		       log.no_answer,
		       log.unavailable,
		       log.retried_keys,
		       log.gave_up);
	g_test_message("replica-kill: %s SIGKILLed with %u answered and %u running (%u of them on "
		       "agent-a, which went on through B); the ghost held "
		       "%u jobs leased through it: back in the queue at most %.1f s after their "
		       "lease (lease-ttl %" G_GINT64_FORMAT " s), run by real agents",
		       f->replicas[0]->name,
		       answered_at_kill,
		       running_at_kill,
		       held_by_a,
		       ghost->len,
		       max_requeue_us / 1e6,
		       lease_ttl_s);
	g_test_message("replica-kill: %u executions in the store, all succeeded %.1f s after the "
		       "kill, %u with a lease run out (%" G_GUINT64_FORMAT
		       " expiries); store: %" G_GINT64_FORMAT " leases of %" G_GINT64_FORMAT
		       " jobs, %" G_GINT64_FORMAT
		       " expiries; %u steps with one attempt each; each effect once at the sink",
		       c.total,
		       (t_done - t_kill) / 1e6,
		       c.with_expiries,
		       c.lease_expiries,
		       leases,
		       jobs,
		       expiries,
		       h.steps);
	g_assert_cmpuint(log.other, ==, 0);
	g_assert_cmpuint(log.gave_up, ==, 0);
	g_assert_cmpuint(log.ids->len, ==, n_producers * n_each);
	g_assert_cmpuint(c.succeeded, ==, c.total);
	g_assert_cmpint(leases, ==, jobs + expiries);
	g_assert_cmpint(jobs, ==, (gint64)c.total);
	g_assert_cmpuint(c.lease_expiries, ==, (guint64)expiries);
	/* lease-ttl, the sweep's grace (2 s), its period (5 s) and a poll */
	g_assert_cmpint(max_requeue_us, <=, (lease_ttl_s + 2 + 5 + 3) * G_USEC_PER_SEC);
	start_log_clear(&log);
}

/* ---------------------------------------------------------------------------
 * /aiq/replicas/postgres-restart
 */

typedef struct {
	Fixture *f;
	gint stop;
	GThread *thread;
	GMutex mutex;
	guint polls[N_REPLICAS];
	guint ready[N_REPLICAS];
	guint unavailable[N_REPLICAS];
	guint unavailable_without_retry_after;
	guint other;
	gint64 max_elapsed_us;
} ReadyPoller;

static gpointer
ready_poller_thread(gpointer user_data)
{
	ReadyPoller *p = user_data;
	AiqClient *clients[N_REPLICAS];
	for (guint r = 0; r < N_REPLICAS; r++)
		clients[r] = client_new(p->f->replicas[r], NULL);
	while (!g_atomic_int_get(&p->stop)) {
		for (guint r = 0; r < N_REPLICAS; r++) {
			Answer a = { 0 };
			call(clients[r], "GET", "/readyz", NULL, NULL, &a);
			g_mutex_lock(&p->mutex);
			p->polls[r]++;
			p->max_elapsed_us = MAX(p->max_elapsed_us, a.elapsed_us);
			if (a.status == 200) {
				p->ready[r]++;
			} else if (a.status == 503) {
				p->unavailable[r]++;
				p->unavailable_without_retry_after += a.retry_after < 0;
			} else {
				p->other++;
			}
			g_mutex_unlock(&p->mutex);
			answer_clear(&a);
		}
		g_usleep(100 * 1000);
	}
	for (guint r = 0; r < N_REPLICAS; r++)
		g_object_unref(clients[r]);
	return NULL;
}

/* one call through each replica, while PostgreSQL is away: 503 with
 * Retry-After, in time */
static void
check_unavailable(Fixture *f,
		  const gchar *what,
		  const gchar *method,
		  const gchar *path,
		  gboolean token,
		  JsonNode *body,
		  gint64 *max_us)
{
	for (guint r = 0; r < N_REPLICAS; r++) {
		g_autoptr(AiqClient) client =
			client_new(f->replicas[r], token ? f->replicas[r]->token : NULL);
		Answer a = { 0 };
		call(client, method, path, body, NULL, &a);
		g_test_message("postgres-restart: during the outage, %s %s on %s: %u in %.3f s, "
			       "Retry-After %" G_GINT64_FORMAT ": %s",
			       method,
			       what,
			       f->replicas[r]->name,
			       a.status,
			       a.elapsed_us / 1e6,
			       a.retry_after,
			       a.message != NULL ? a.message : "");
		if (a.status != 503 || a.retry_after < 0 || a.elapsed_us > CALL_BOUND_US)
			g_error("%s %s on %s while PostgreSQL is stopped: %u (Retry-After "
				"%" G_GINT64_FORMAT ") in %.3f s, not 503 with Retry-After within "
				"%.0f s",
				method,
				path,
				f->replicas[r]->name,
				a.status,
				a.retry_after,
				a.elapsed_us / 1e6,
				CALL_BOUND_US / 1e6);
		*max_us = MAX(*max_us, a.elapsed_us);
		answer_clear(&a);
	}
}

/* polls /readyz of every replica until each answers 200; Returns: when */
static gint64
wait_ready(Fixture *f)
{
	for (gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;;) {
		guint ready = 0;
		for (guint r = 0; r < N_REPLICAS; r++) {
			g_autoptr(AiqClient) client = client_new(f->replicas[r], NULL);
			Answer a = { 0 };
			call(client, "GET", "/readyz", NULL, NULL, &a);
			g_assert_cmpint(a.elapsed_us, <=, CALL_BOUND_US);
			ready += a.status == 200;
			answer_clear(&a);
		}
		if (ready == N_REPLICAS)
			return g_get_monotonic_time();
		if (g_get_monotonic_time() > deadline)
			g_error("the replicas are not ready 60 s after PostgreSQL came back");
		g_usleep(100 * 1000);
	}
}

static void
wait_answered(StartLog *log, guint n)
{
	for (gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
	     start_log_count(log) < n;) {
		if (g_get_monotonic_time() > deadline)
			g_error("%u starts answered after 60 s, not %u", start_log_count(log), n);
		g_usleep(50 * 1000);
	}
}

static void
test_postgres_restart(Fixture *f, gconstpointer user_data)
{
	const guint n_producers = 3;
	const guint down_s = 4;
	const gchar *restart = g_getenv("AIQ_TEST_PG_RESTART");
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *exec_path = NULL;
	g_autofree gchar *restart_log = NULL;
	g_autofree gchar *down_arg = g_strdup_printf("%u", down_s);
	g_autoptr(JsonObject) inputs = NULL;
	g_autoptr(JsonNode) start_body = NULL;
	g_autoptr(GHashTable) final = NULL;
	g_autoptr(AiqE2eProcess) restarter = NULL;
	g_autoptr(GError) error = NULL;
	Producer producers[3] = { 0 };
	ReadyPoller poller = { 0 };
	StartLog log = { 0 };
	gint stop = 0;
	gint64 t_restart;
	gint64 t_down;
	gint64 t_up;
	gint64 t_ready = 0;
	gint64 t_quick;
	gint64 t_quick_ready;
	gint64 quick_us = 0;
	gint64 t_done;
	gint64 max_check_us = 0;
	guint before = 0;
	guint during = 0;
	guint after = 0;
	guint answered_at_ready;
	guint answered_at_quick;
	Counts c;
	History h = { 0 };

	if (restart == NULL)
		g_error("AIQ_TEST_PG_RESTART is not set: run under tests/pg-test-cluster.sh");
	f->sink = aiq_e2e_sink_new(0, 10);
	replicas_new(f, "lease-ttl=30s\nlong-poll=5s\n", TRUE);
	workflow_id = aiq_e2e_server_create_workflow(f->replicas[0], lease_workflow);
	exec_path = g_strdup_printf("/api/v1/workflows/%s/executions", workflow_id);
	inputs = inputs_with_base(f->sink);
	{
		JsonObject *obj = json_object_new();
		json_object_set_object_member(obj, "inputs", json_object_ref(inputs));
		start_body = aiq_json_new_object(obj);
	}
	for (guint i = 0; i < N_REPLICAS; i++) {
		g_autofree gchar *name = g_strdup_printf("agent-%c", 'a' + i);
		add_agent(f, name, 4, f->replicas[i], NULL);
	}

	/* load: starts through the three, retried with their key until answered */
	start_log_init(&log);
	producers_start(producers,
			n_producers,
			f,
			&log,
			"restart",
			workflow_id,
			NULL,
			aiq_e2e_sink_get_url(f->sink),
			0,
			&stop,
			50);
	poller.f = f;
	g_mutex_init(&poller.mutex);
	poller.thread = g_thread_new("replicas-readyz", ready_poller_thread, &poller);
	wait_answered(&log, 30);

	/* PostgreSQL away for a few seconds, then back on the same port */
	restart_log = g_build_filename(f->dir, "pg-restart.log", NULL);
	t_restart = g_get_monotonic_time();
	{
		const gchar *argv[] = { restart, down_arg, NULL };
		restarter = aiq_e2e_process_spawn(restart_log, argv, &error);
		g_assert_no_error(error);
	}
	if (!aiq_e2e_process_wait_output(restarter, "stopped\n", 60000))
		g_error("PostgreSQL did not stop (see %s)", restart_log);
	t_down = g_get_monotonic_time();
	for (guint r = 0; r < N_REPLICAS; r++) {
		g_assert_true(aiq_e2e_process_is_running(f->replicas[r]->proc));
	}
	check_unavailable(f, "/readyz", "GET", "/readyz", FALSE, NULL, &max_check_us);
	check_unavailable(f,
			  "(list executions)",
			  "GET",
			  "/api/v1/executions?limit=1",
			  TRUE,
			  NULL,
			  &max_check_us);
	check_unavailable(f,
			  "(start an execution)",
			  "POST",
			  exec_path,
			  TRUE,
			  start_body,
			  &max_check_us);
	if (!aiq_e2e_process_wait_output(restarter, "started\n", 120000))
		g_error("PostgreSQL did not start again (see %s)", restart_log);
	t_up = g_get_monotonic_time();
	g_assert_cmpint(t_up - t_down, >=, (gint64)down_s * G_USEC_PER_SEC);

	/* ready again, none restarted */
	t_ready = wait_ready(f);
	/* new executions run: more starts after the recovery */
	answered_at_ready = start_log_count(&log);
	wait_answered(&log, answered_at_ready + 30);

	/* and a plain `pg_ctl restart -m fast` under the same load */
	{
		const gchar *argv[] = { restart, NULL };
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		gint rc;
		t_quick = g_get_monotonic_time();
		rc = aiq_e2e_run(argv, 120000, &out, &err, &quick_us);
		if (rc != 0)
			g_error("%s: exit status %d: %s%s", restart, rc, out, err);
	}
	t_quick_ready = wait_ready(f);
	answered_at_quick = start_log_count(&log);
	wait_answered(&log, answered_at_quick + 30);
	g_atomic_int_set(&stop, 1);
	producers_join(producers, n_producers);
	g_atomic_int_set(&poller.stop, 1);
	g_thread_join(poller.thread);

	final = wait_all_final(f->replicas[0], workflow_id, log.ids->len, 300);
	t_done = g_get_monotonic_time();
	c = count_executions(final);
	for (guint i = 0; i < log.ids->len; i++) {
		gint64 when = g_array_index(log.answered_us, gint64, i);
		before += when < t_restart;
		during += when >= t_restart && when < t_ready;
		after += when >= t_ready;
		check_execution(f->replicas[i % N_REPLICAS], log.ids->pdata[i], 2, &h);
	}
	check_sink_once(f->sink, final, log.ids, "h1");
	for (guint r = 0; r < N_REPLICAS; r++) {
		g_assert_true(aiq_e2e_process_is_running(f->replicas[r]->proc));
		g_assert_cmpuint(f->replicas[r]->starts, ==, 1);
	}

	g_test_message("postgres-restart: PostgreSQL stopped %.2f s after the restart began, down "
		       "%.2f s; all 3 replicas ready %.2f s after it was back, none restarted",
		       (t_down - t_restart) / 1e6,
		       (t_up - t_down) / 1e6,
		       (t_ready - t_up) / 1e6);
	g_test_message("postgres-restart: /readyz polled every 100 ms: %u/%u/%u polls, "
		       "503 %u/%u/%u times (%u without Retry-After), %u other; slowest %.3f s",
		       poller.polls[0],
		       poller.polls[1],
		       poller.polls[2],
		       poller.unavailable[0],
		       poller.unavailable[1],
		       poller.unavailable[2],
		       poller.unavailable_without_retry_after,
		       poller.other,
		       poller.max_elapsed_us / 1e6);
	g_test_message("postgres-restart: %u starts answered 2xx (%u before the outage, %u during "
		       "it and the recovery, %u after) of %u attempts: %u 503 (%u without "
		       "Retry-After), %u unanswered, %u other, %u retried with their key; slowest "
		       "call %.3f s",
		       log.ids->len,
		       before,
		       during,
		       after,
		       log.attempts,
		       log.unavailable,
		       log.unavailable_without_retry_after,
		       log.no_answer,
		       log.other,
		       log.retried_keys,
		       MAX(log.max_elapsed_us, max_check_us) / 1e6);
	g_test_message("postgres-restart: then `pg_ctl restart -m fast -w` under the same load "
		       "took %.2f s; all ready %.2f s after it; %u starts answered 2xx since",
		       quick_us / 1e6,
		       (t_quick_ready - t_quick - quick_us) / 1e6,
		       log.ids->len - answered_at_quick);
	g_test_message("postgres-restart: %u executions, all succeeded %.1f s after the recovery, "
		       "%u lease expiries; %u steps with one attempt each; each effect once at the "
		       "sink",
		       c.total,
		       (t_done - t_ready) / 1e6,
		       (guint)c.lease_expiries,
		       h.steps);
	g_assert_cmpuint(c.succeeded, ==, c.total);
	g_assert_cmpuint(c.lease_expiries, ==, 0);
	g_assert_cmpuint(log.gave_up, ==, 0);
	g_assert_cmpuint(log.other, ==, 0);
	g_assert_cmpuint(log.unavailable_without_retry_after, ==, 0);
	g_assert_cmpuint(poller.unavailable_without_retry_after, ==, 0);
	g_assert_cmpuint(poller.other, ==, 0);
	g_assert_cmpint(log.max_elapsed_us, <=, CALL_BOUND_US);
	g_assert_cmpint(poller.max_elapsed_us, <=, CALL_BOUND_US);
	for (guint r = 0; r < N_REPLICAS; r++)
		g_assert_cmpuint(poller.unavailable[r], >, 0);
	g_assert_cmpuint(before, >, 0);
	g_assert_cmpuint(after, >, 0);
	g_mutex_clear(&poller.mutex);
	start_log_clear(&log);
}

/* ---------------------------------------------------------------------------
 * /aiq/replicas/notify
 */

static const gchar *notify_workflow =
	"name: replicas-notify\n"
	"steps:\n"
	"  - { id: t1, uses: transform, with: { value: '${{ execution.id }}' } }\n"
	"  - { id: d1, uses: delay, with: { duration: 1000ms } }\n"
	"  - { id: t2, uses: transform, with: { value: '${{ steps.t1.output }}' } }\n";

/* only an agent with the label `probe` may take it: the raw lease, never
 * the real agent */
static const gchar *probe_workflow = "name: replicas-notify-probe\n"
				     "runs_on: { labels: [probe] }\n"
				     "steps:\n"
				     "  - { id: t1, uses: transform, with: { value: probe } }\n";

/* of the other tenant, which has no agent: its executions stay queued */
static const gchar *other_workflow = "name: replicas-notify-other\n"
				     "steps:\n"
				     "  - { id: t1, uses: transform, with: { value: other } }\n";

#define NOTIFY_WAIT_MS 20000
/* before the job is started, the lease has waited that long on its replica */
#define NOTIFY_PARKED_US (2 * G_USEC_PER_SEC)
#define NOTIFY_WAKE_BOUND_US (2 * G_USEC_PER_SEC)
#define NOTIFY_EVENTS_BOUND_S 20

/* a subscriber of the live events, on a thread (and main context) of its
 * own: the messages it got, each with when */
typedef struct {
	const gchar *name;
	AiqE2eServer *server;
	gchar *token;
	GThread *thread;
	gint stop; /* atomic */
	/* on the thread only */
	GMainLoop *loop;
	SoupWebsocketConnection *conn;
	/* under @mutex */
	GMutex mutex;
	gint state; /* 0: connecting, 1: open, -1: refused */
	gchar *error;
	gboolean closed;
	gushort close_code;
	GPtrArray *events; /* of JsonObject */
	GArray *at_us;     /* monotonic time each arrived */
	guint bad;         /* not a JSON object */
} LiveSubscriber;

static void
live_message_cb(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer user_data)
{
	LiveSubscriber *s = user_data;
	gsize len = 0;
	const gchar *data = g_bytes_get_data(message, &len);
	gint64 now = g_get_monotonic_time();
	g_autoptr(JsonNode) node = NULL;

	if (type == SOUP_WEBSOCKET_DATA_TEXT)
		node = aiq_json_parse(data, len, 64, NULL);
	g_mutex_lock(&s->mutex);
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
		g_ptr_array_add(s->events, json_object_ref(json_node_get_object(node)));
		g_array_append_val(s->at_us, now);
	} else {
		s->bad++;
	}
	g_mutex_unlock(&s->mutex);
}

static void
live_closed_cb(SoupWebsocketConnection *conn, gpointer user_data)
{
	LiveSubscriber *s = user_data;
	g_mutex_lock(&s->mutex);
	s->closed = TRUE;
	s->close_code = soup_websocket_connection_get_close_code(conn);
	g_mutex_unlock(&s->mutex);
}

static void
live_connect_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	LiveSubscriber *s = user_data;
	g_autoptr(GError) error = NULL;

	s->conn = aiq_client_websocket_connect_finish(AIQ_CLIENT(source), res, &error);
	if (s->conn != NULL) {
		g_signal_connect(s->conn, "message", G_CALLBACK(live_message_cb), s);
		g_signal_connect(s->conn, "closed", G_CALLBACK(live_closed_cb), s);
	}
	g_mutex_lock(&s->mutex);
	s->state = s->conn != NULL ? 1 : -1;
	if (error != NULL)
		s->error = g_strdup(error->message);
	g_mutex_unlock(&s->mutex);
}

static gboolean
live_check_stop_cb(gpointer user_data)
{
	LiveSubscriber *s = user_data;
	if (!g_atomic_int_get(&s->stop))
		return G_SOURCE_CONTINUE;
	g_main_loop_quit(s->loop);
	return G_SOURCE_REMOVE;
}

static gpointer
live_subscriber_thread(gpointer user_data)
{
	LiveSubscriber *s = user_data;
	GMainContext *context = g_main_context_new();
	GSource *check = g_timeout_source_new(20);
	AiqClient *client;

	g_main_context_push_thread_default(context);
	s->loop = g_main_loop_new(context, FALSE);
	client = client_new(s->server, s->token);
	/* no I/O timeout: the stream is quiet between events */
	aiq_client_set_timeout(client, 0);
	aiq_client_websocket_connect_async(client, "/api/v1/events", NULL, live_connect_cb, s);
	g_source_set_callback(check, live_check_stop_cb, s, NULL);
	g_source_attach(check, context);
	g_main_loop_run(s->loop);
	if (s->conn != NULL) {
		g_signal_handlers_disconnect_by_data(s->conn, s);
		if (soup_websocket_connection_get_state(s->conn) == SOUP_WEBSOCKET_STATE_OPEN)
			soup_websocket_connection_close(s->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
		g_clear_object(&s->conn);
	}
	g_object_unref(client);
	g_source_destroy(check);
	g_source_unref(check);
	while (g_main_context_iteration(context, FALSE))
		;
	g_clear_pointer(&s->loop, g_main_loop_unref);
	g_main_context_pop_thread_default(context);
	g_main_context_unref(context);
	return NULL;
}

/* subscribed through @server with @token, the handshake done */
static LiveSubscriber *
live_subscriber_new(const gchar *name, AiqE2eServer *server, const gchar *token)
{
	LiveSubscriber *s = g_new0(LiveSubscriber, 1);
	s->name = name;
	s->server = server;
	s->token = g_strdup(token);
	g_mutex_init(&s->mutex);
	s->events = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
	s->at_us = g_array_new(FALSE, FALSE, sizeof(gint64));
	s->thread = g_thread_new("replicas-live-events", live_subscriber_thread, s);
	for (gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;;) {
		gint state;
		g_mutex_lock(&s->mutex);
		state = s->state;
		g_mutex_unlock(&s->mutex);
		if (state > 0)
			break;
		if (state < 0)
			g_error("the live events of %s refused %s: %s",
				server->name,
				name,
				s->error);
		if (g_get_monotonic_time() > deadline)
			g_error("the live events of %s: no handshake for %s in 30 s",
				server->name,
				name);
		g_usleep(10 * 1000);
	}
	return s;
}

static void
live_subscriber_free(LiveSubscriber *s)
{
	g_atomic_int_set(&s->stop, 1);
	g_thread_join(s->thread);
	g_ptr_array_unref(s->events);
	g_array_unref(s->at_us);
	g_mutex_clear(&s->mutex);
	g_free(s->error);
	g_free(s->token);
	g_free(s);
}

/* the execution of an event: data.id of execution.updated, data.execution_id
 * of step.updated */
static const gchar *
live_event_execution(JsonObject *event)
{
	JsonObject *data = aiq_json_object_get_object(event, "data");
	const gchar *type = aiq_json_object_get_string(event, "type");
	if (data == NULL)
		return NULL;
	if (g_strcmp0(type, "execution.updated") == 0)
		return aiq_json_object_get_string(data, "id");
	return aiq_json_object_get_string(data, "execution_id");
}

/* waits for an execution.updated of @execution_id (with @status unless
 * %NULL) at @s; Returns: when it arrived, 0 when none did in @timeout_s */
static gint64
live_wait(LiveSubscriber *s, const gchar *execution_id, const gchar *status, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	for (guint seen = 0;;) {
		gboolean closed;
		g_mutex_lock(&s->mutex);
		for (; seen < s->events->len; seen++) {
			JsonObject *event = g_ptr_array_index(s->events, seen);
			JsonObject *data = aiq_json_object_get_object(event, "data");
			if (g_strcmp0(aiq_json_object_get_string(event, "type"),
				      "execution.updated") != 0 ||
			    data == NULL ||
			    g_strcmp0(aiq_json_object_get_string(data, "id"), execution_id) != 0 ||
			    (status != NULL &&
			     g_strcmp0(aiq_json_object_get_string(data, "status"), status) != 0))
				continue;
			{
				gint64 at = g_array_index(s->at_us, gint64, seen);
				g_mutex_unlock(&s->mutex);
				return at;
			}
		}
		closed = s->closed;
		g_mutex_unlock(&s->mutex);
		if (closed)
			g_error("the live events of %s closed %s (%u)",
				s->server->name,
				s->name,
				s->close_code);
		if (g_get_monotonic_time() > deadline)
			return 0;
		g_usleep(5 * 1000);
	}
}

static gint
status_rank(const gchar *status)
{
	if (g_strcmp0(status, "queued") == 0)
		return 0;
	if (g_strcmp0(status, "running") == 0)
		return 1;
	return status_is_final(status) ? 2 : -1;
}

/* a tenant of its own, made by the platform admin through @server, and its
 * admin's session; Returns: the token. @demo_id: the demo tenant's id, as the
 * platform admin lists it */
static gchar *
other_tenant_new(AiqE2eServer *server, const gchar *slug, gchar **tenant_id, gchar **demo_id)
{
	g_autoptr(AiqClient) platform = client_new(server, NULL);
	g_autoptr(AiqClient) other = client_new(server, NULL);
	g_autoptr(JsonNode) login = NULL;
	g_autoptr(JsonNode) other_login = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) error = NULL;
	JsonObject *body = json_object_new();
	JsonObject *admin = json_object_new();
	const gchar *password = "other-admin-password";
	Answer a = { 0 };

	login = aiq_client_login_sync(platform,
				      "platform",
				      "admin",
				      g_getenv("AIQ_ADMIN_PASSWORD"),
				      NULL,
				      &error);
	g_assert_no_error(error);
	aiq_client_set_token(platform,
			     aiq_json_object_get_string(json_node_get_object(login), "token"));
	json_object_set_string_member(body, "slug", slug);
	json_object_set_string_member(body, "name", "Other");
	json_object_set_string_member(body, "tier", "standard");
	json_object_set_string_member(admin, "username", "other-admin");
	json_object_set_string_member(admin, "password", password);
	json_object_set_object_member(body, "admin", admin);
	node = aiq_json_new_object(body);
	call(platform, "POST", "/api/v1/tenants", node, NULL, &a);
	if (a.status != 201)
		g_error("creating tenant %s: %u %s", slug, a.status, a.message);
	*tenant_id = g_strdup(aiq_json_object_get_string(json_node_get_object(a.body), "id"));
	g_assert_nonnull(*tenant_id);
	answer_clear(&a);
	call(platform, "GET", "/api/v1/tenants?limit=100", NULL, NULL, &a);
	if (a.status != 200)
		g_error("listing the tenants: %u %s", a.status, a.message);
	{
		JsonArray *items = aiq_json_object_get_array(json_node_get_object(a.body), "items");
		for (guint i = 0; items != NULL && i < json_array_get_length(items); i++) {
			JsonObject *tenant = json_array_get_object_element(items, i);
			if (g_strcmp0(aiq_json_object_get_string(tenant, "slug"), "demo") == 0)
				*demo_id = g_strdup(aiq_json_object_get_string(tenant, "id"));
		}
	}
	g_assert_nonnull(*demo_id);
	answer_clear(&a);
	other_login = aiq_client_login_sync(other, slug, "other-admin", password, NULL, &error);
	g_assert_no_error(error);
	return g_strdup(aiq_json_object_get_string(json_node_get_object(other_login), "token"));
}

/* an execution of the other tenant; Returns: its id */
static gchar *
other_start(AiqClient *client, const gchar *workflow_id, const gchar *key)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root =
		aiq_client_start_execution_sync(client, workflow_id, NULL, key, NULL, NULL, &error);
	g_assert_no_error(error);
	return g_strdup(aiq_json_object_get_string(json_node_get_object(root), "id"));
}

/* an agent of the API alone, enrolled through @server with @label; Returns:
 * its credential */
static gchar *
raw_agent_enroll(AiqE2eServer *server, const gchar *name, const gchar *label)
{
	g_autofree gchar *token = aiq_e2e_server_create_enrollment_token(server);
	g_autoptr(AiqClient) client = client_new(server, NULL);
	g_autoptr(JsonNode) node = NULL;
	JsonObject *body = json_object_new();
	JsonArray *labels = json_array_new();
	Answer a = { 0 };
	gchar *credential;

	json_array_add_string_element(labels, label);
	json_object_set_string_member(body, "token", token);
	json_object_set_string_member(body, "name", name);
	json_object_set_array_member(body, "labels", labels);
	json_object_set_int_member(body, "capacity", 1);
	node = aiq_json_new_object(body);
	call(client, "POST", "/api/v1/agents/enroll", node, NULL, &a);
	if (a.status != 201)
		g_error("enrolling %s: %u %s", name, a.status, a.message);
	credential =
		g_strdup(aiq_json_object_get_string(json_node_get_object(a.body), "credential"));
	g_assert_nonnull(credential);
	answer_clear(&a);
	return credential;
}

/* one lease request of a raw agent, on a thread: it waits on its replica */
typedef struct {
	AiqE2eServer *server;
	const gchar *credential;
	GThread *thread;
	gint sent; /* atomic: @sent_us is set */
	gint64 sent_us;
	gint64 answered_us;
	Answer answer;
} ParkedLease;

static JsonNode *
lease_body(guint wait_ms)
{
	JsonObject *body = json_object_new();
	json_object_set_int_member(body, "capacity", 1);
	json_object_set_int_member(body, "wait_ms", wait_ms);
	return aiq_json_new_object(body);
}

static gpointer
parked_lease_thread(gpointer user_data)
{
	ParkedLease *p = user_data;
	g_autoptr(AiqClient) client = client_new(p->server, p->credential);
	g_autoptr(JsonNode) at_once = lease_body(0);
	g_autoptr(JsonNode) parked = lease_body(NOTIFY_WAIT_MS);
	Answer first = { 0 };
	JsonArray *jobs;

	/* nothing for it yet, and the connection made before the wait */
	call(client, "POST", "/api/v1/agent/lease", at_once, NULL, &first);
	if (first.status != 200)
		g_error("the first lease: %u %s", first.status, first.message);
	jobs = aiq_json_object_get_array(json_node_get_object(first.body), "jobs");
	g_assert_nonnull(jobs);
	g_assert_cmpuint(json_array_get_length(jobs), ==, 0);
	answer_clear(&first);

	p->sent_us = g_get_monotonic_time();
	g_atomic_int_set(&p->sent, 1);
	call(client, "POST", "/api/v1/agent/lease", parked, NULL, &p->answer);
	p->answered_us = p->sent_us + p->answer.elapsed_us;
	return NULL;
}

static const gchar *
status_of(JsonObject *event)
{
	JsonObject *data = aiq_json_object_get_object(event, "data");
	return data != NULL ? aiq_json_object_get_string(data, "status") : NULL;
}

static void
test_notify(Fixture *f, gconstpointer user_data)
{
	AiqE2eServer *a = NULL;
	AiqE2eServer *b = NULL;
	AiqE2eServer *c = NULL;
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *probe_workflow_id = NULL;
	g_autofree gchar *other_workflow_id = NULL;
	g_autofree gchar *other_tenant_id = NULL;
	g_autofree gchar *other_token = NULL;
	g_autofree gchar *credential = NULL;
	g_autofree gchar *agent_id = NULL;
	g_autofree gchar *probe_id = NULL;
	g_autofree gchar *exec_id = NULL;
	g_autofree gchar *demo_tenant_id = NULL;
	g_autoptr(GString) sequence = g_string_new(NULL);
	g_autoptr(GPtrArray) other_ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) demo_ids = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(AiqClient) other_client = NULL;
	LiveSubscriber *demo_live;
	LiveSubscriber *other_live;
	ParkedLease lease = { 0 };
	JsonArray *jobs;
	gint64 t_test = g_get_monotonic_time();
	gint64 t_start_call;
	gint64 t_start_answer;
	gint64 t_probe_seen;
	gint64 t_exec_call;
	gint64 t_exec_answer;
	gint64 t_running = 0;
	gint64 t_succeeded;
	gint64 t_queued = 0;
	gint64 wake_us;
	gint64 wake_after_answer_us;
	gint64 parked_us;
	guint exec_updates = 0;
	guint step_updates = 0;
	guint other_own = 0;
	guint other_foreign = 0;
	guint demo_foreign = 0;
	gint last_rank = -1;
	const gchar *last_status = NULL;
	const gchar *final_agent = NULL;

	replicas_new(f, "lease-ttl=30s\nlong-poll=25s\n", TRUE);
	a = f->replicas[0];
	b = f->replicas[1];
	c = f->replicas[2];
	workflow_id = aiq_e2e_server_create_workflow(a, notify_workflow);
	probe_workflow_id = aiq_e2e_server_create_workflow(a, probe_workflow);
	/* the one real agent talks to B */
	add_agent(f, "agent-b", 2, b, NULL);
	agent_id = g_strdup(g_ptr_array_index(f->agent_ids, 0));

	/* another tenant, with a workflow; its admin and the demo admin listen on C */
	other_token = other_tenant_new(c, "other", &other_tenant_id, &demo_tenant_id);
	other_client = client_new(a, other_token);
	{
		g_autoptr(GBytes) yaml = g_bytes_new_static(other_workflow, strlen(other_workflow));
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) root = aiq_client_create_workflow_sync(other_client,
									   yaml,
									   "application/yaml",
									   NULL,
									   NULL,
									   &error);
		g_assert_no_error(error);
		other_workflow_id =
			g_strdup(aiq_json_object_get_string(json_node_get_object(root), "id"));
	}
	demo_live = live_subscriber_new("the demo admin", c, c->token);
	other_live = live_subscriber_new("the other tenant's admin", c, other_token);

	/* the other subscriber hears its own tenant (started through A) */
	g_ptr_array_add(other_ids, other_start(other_client, other_workflow_id, "notify-other-0"));
	if (live_wait(other_live, other_ids->pdata[0], NULL, NOTIFY_EVENTS_BOUND_S) == 0)
		g_error("the other tenant's subscriber on %s did not hear its execution %s, "
			"started through %s",
			c->name,
			(gchar *)other_ids->pdata[0],
			a->name);

	/*
	 * (b) a lease parked on B, answered when the job is queued through A
	 */
	credential = raw_agent_enroll(b, "prober", "probe");
	lease.server = b;
	lease.credential = credential;
	lease.thread = g_thread_new("replicas-parked-lease", parked_lease_thread, &lease);
	for (gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	     !g_atomic_int_get(&lease.sent);) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(5 * 1000);
	}
	g_usleep(NOTIFY_PARKED_US);
	t_start_call = g_get_monotonic_time();
	probe_id = aiq_e2e_server_start_execution(a, probe_workflow_id, NULL);
	t_start_answer = g_get_monotonic_time();
	g_thread_join(lease.thread);
	if (lease.answer.status != 200)
		g_error("the parked lease on %s: %u %s",
			b->name,
			lease.answer.status,
			lease.answer.message);
	jobs = aiq_json_object_get_array(json_node_get_object(lease.answer.body), "jobs");
	g_assert_nonnull(jobs);
	parked_us = t_start_call - lease.sent_us;
	wake_us = lease.answered_us - t_start_call;
	wake_after_answer_us = lease.answered_us - t_start_answer;
	g_test_message("notify: a lease (wait_ms %u) parked on %s for %.3f s; execution %s "
		       "started through %s (the call took %.3f s): the lease answered %.3f s "
		       "after the call began (%+.3f s after its answer) with %u job(s), %.3f s "
		       "in all",
		       NOTIFY_WAIT_MS,
		       b->name,
		       parked_us / 1e6,
		       probe_id,
		       a->name,
		       (t_start_answer - t_start_call) / 1e6,
		       wake_us / 1e6,
		       wake_after_answer_us / 1e6,
		       json_array_get_length(jobs),
		       lease.answer.elapsed_us / 1e6);
	g_assert_cmpuint(json_array_get_length(jobs), ==, 1);
	g_assert_cmpstr(
		aiq_json_object_get_string(json_array_get_object_element(jobs, 0), "execution_id"),
		==,
		probe_id);
	/* it was waiting when the job came, and the job woke it, not its end */
	g_assert_cmpint(lease.answered_us, >, t_start_call);
	g_assert_cmpint(parked_us, >=, NOTIFY_PARKED_US);
	g_assert_cmpint(wake_us, <=, NOTIFY_WAKE_BOUND_US);
	g_assert_cmpint(lease.answer.elapsed_us, <, (gint64)NOTIFY_WAIT_MS * 1000);
	answer_clear(&lease.answer);

	/* the demo subscriber on C heard the probe's start on A: it listens */
	t_probe_seen = live_wait(demo_live, probe_id, NULL, NOTIFY_EVENTS_BOUND_S);
	if (t_probe_seen == 0)
		g_error("the demo subscriber on %s did not hear execution %s, started through %s",
			c->name,
			probe_id,
			a->name);
	g_hash_table_add(demo_ids, probe_id);
	g_test_message("notify: the demo admin on %s heard execution %s queued %.3f s after "
		       "its start call on %s began",
		       c->name,
		       probe_id,
		       (t_probe_seen - t_start_call) / 1e6,
		       a->name);

	/*
	 * (a) an execution started through A, run by the agent on B, heard on C
	 */
	t_exec_call = g_get_monotonic_time();
	exec_id = aiq_e2e_server_start_execution(a, workflow_id, NULL);
	t_exec_answer = g_get_monotonic_time();
	g_hash_table_add(demo_ids, exec_id);
	t_succeeded = live_wait(demo_live, exec_id, "succeeded", NOTIFY_EVENTS_BOUND_S);

	/* a last event of the other tenant: one of the demo tenant's sent to its
	 * subscriber would be queued before it */
	g_ptr_array_add(other_ids, other_start(other_client, other_workflow_id, "notify-other-1"));
	if (live_wait(other_live, other_ids->pdata[1], NULL, NOTIFY_EVENTS_BOUND_S) == 0)
		g_error("the other tenant's subscriber on %s did not hear its execution %s",
			c->name,
			(gchar *)other_ids->pdata[1]);
	/* and the demo subscriber gets it too if it leaks that way */
	g_usleep(300 * 1000);

	g_mutex_lock(&demo_live->mutex);
	for (guint i = 0; i < demo_live->events->len; i++) {
		JsonObject *event = g_ptr_array_index(demo_live->events, i);
		const gchar *type = aiq_json_object_get_string(event, "type");
		const gchar *tenant = aiq_json_object_get_string(event, "tenant_id");
		gint64 at = g_array_index(demo_live->at_us, gint64, i);
		if (g_strcmp0(tenant, demo_tenant_id) != 0) {
			demo_foreign++;
			continue;
		}
		if (g_strcmp0(live_event_execution(event), exec_id) != 0)
			continue;
		if (g_strcmp0(type, "step.updated") == 0) {
			step_updates++;
			continue;
		}
		if (g_strcmp0(type, "execution.updated") != 0)
			continue;
		{
			const gchar *status = status_of(event);
			gint rank = status_rank(status);
			exec_updates++;
			g_string_append_printf(sequence,
					       "%s%s +%.3f s",
					       sequence->len > 0 ? ", " : "",
					       status,
					       (at - t_exec_call) / 1e6);
			if (rank < last_rank || rank < 0)
				g_error("execution %s: the events on %s went from %s to %s: %s",
					exec_id,
					c->name,
					last_status,
					status,
					sequence->str);
			last_rank = rank;
			last_status = status;
			if (g_strcmp0(status, "queued") == 0 && t_queued == 0)
				t_queued = at;
			if (g_strcmp0(status, "running") == 0 && t_running == 0)
				t_running = at;
			if (g_strcmp0(status, "succeeded") == 0)
				final_agent = aiq_json_object_get_string(
					aiq_json_object_get_object(event, "data"),
					"agent_id");
		}
	}
	g_mutex_unlock(&demo_live->mutex);

	g_mutex_lock(&other_live->mutex);
	for (guint i = 0; i < other_live->events->len; i++) {
		JsonObject *event = g_ptr_array_index(other_live->events, i);
		const gchar *tenant = aiq_json_object_get_string(event, "tenant_id");
		const gchar *execution = live_event_execution(event);
		if (g_strcmp0(tenant, other_tenant_id) == 0 &&
		    !g_hash_table_contains(demo_ids, execution != NULL ? execution : ""))
			other_own++;
		else
			other_foreign++;
	}
	g_mutex_unlock(&other_live->mutex);

	g_test_message("notify: on %s, the demo admin heard execution %s (started through %s, "
		       "run by agent-b on %s): %u execution.updated [%s], %u step.updated; "
		       "succeeded heard %.3f s after the start call began (it took %.3f s)",
		       c->name,
		       exec_id,
		       a->name,
		       b->name,
		       exec_updates,
		       sequence->str,
		       step_updates,
		       t_succeeded > 0 ? (t_succeeded - t_exec_call) / 1e6 : -1.0,
		       (t_exec_answer - t_exec_call) / 1e6);
	g_test_message("notify: the other tenant's admin on %s: %u events of its own tenant "
		       "(%u executions started through %s), %u of another; the demo admin: "
		       "%u events in all, %u of another tenant (%u unparsable, both); %.1f s "
		       "in all",
		       c->name,
		       other_own,
		       other_ids->len,
		       a->name,
		       other_foreign,
		       demo_live->events->len,
		       demo_foreign,
		       demo_live->bad + other_live->bad,
		       (g_get_monotonic_time() - t_test) / 1e6);
	if (t_succeeded == 0)
		g_error("execution %s: no execution.updated `succeeded` on %s within %u s: [%s]",
			exec_id,
			c->name,
			NOTIFY_EVENTS_BOUND_S,
			sequence->str);
	/* queued: published by A, where it was started; running and succeeded
	 * by B, where the agent sends its events */
	g_assert_cmpint(t_queued, >, 0);
	g_assert_cmpint(t_running, >, 0);
	g_assert_cmpstr(last_status, ==, "succeeded");
	g_assert_cmpstr(final_agent, ==, agent_id);
	g_assert_cmpstr(demo_tenant_id, !=, other_tenant_id);
	g_assert_cmpuint(demo_foreign, ==, 0);
	g_assert_cmpuint(other_foreign, ==, 0);
	g_assert_cmpuint(other_own, >=, other_ids->len);
	g_assert_cmpuint(demo_live->bad + other_live->bad, ==, 0);
	{
		g_autoptr(JsonObject) exec = aiq_e2e_server_get_execution(c, exec_id);
		g_assert_cmpstr(aiq_json_object_get_string(exec, "status"), ==, "succeeded");
		g_assert_cmpstr(aiq_json_object_get_string(exec, "agent_id"), ==, agent_id);
	}
	live_subscriber_free(demo_live);
	live_subscriber_free(other_live);
}

int
main(int argc, char **argv)
{
	const gchar *debug = g_getenv("G_MESSAGES_DEBUG");
	/* the servers log at info and debug level: expired leases, schedule
	 * fires (schedule-once reads them), one line per request */
	if (debug == NULL || debug[0] == '\0') {
		g_setenv("G_MESSAGES_DEBUG", "AiqServer", TRUE);
	} else if (strstr(debug, "AiqServer") == NULL && strstr(debug, "all") == NULL) {
		g_autofree gchar *more = g_strdup_printf("%s AiqServer", debug);
		g_setenv("G_MESSAGES_DEBUG", more, TRUE);
	}
	g_test_init(&argc, &argv, NULL);
	g_setenv("AIQ_ADMIN_PASSWORD", "e2e-admin-password", TRUE);
	g_setenv("AIQ_DEMO_PASSWORD", "e2e-demo-password", TRUE);
	if (g_getenv("AIQ_SERVER") == NULL || g_getenv("AIQ_AGENT") == NULL) {
		g_printerr(
			"AIQ_SERVER and AIQ_AGENT must name the programs (meson test sets them)\n");
		return 1;
	}
	if (!aiq_test_pg_enabled()) {
		g_printerr("replicas share a PostgreSQL store: run with AIQ_TEST_STORE=postgresql "
			   "under tests/pg-test-cluster.sh (meson test --suite postgres)\n");
		return 1;
	}
	g_test_add("/aiq/replicas/lease-once",
		   Fixture,
		   "lease-once",
		   fixture_setup,
		   test_lease_once,
		   fixture_teardown);
	g_test_add("/aiq/replicas/schedule-once",
		   Fixture,
		   "schedule-once",
		   fixture_setup,
		   test_schedule_once,
		   fixture_teardown);
	g_test_add("/aiq/replicas/agent-moves",
		   Fixture,
		   "agent-moves",
		   fixture_setup,
		   test_agent_moves,
		   fixture_teardown);
	g_test_add("/aiq/replicas/replica-kill",
		   Fixture,
		   "replica-kill",
		   fixture_setup,
		   test_replica_kill,
		   fixture_teardown);
	g_test_add("/aiq/replicas/postgres-restart",
		   Fixture,
		   "postgres-restart",
		   fixture_setup,
		   test_postgres_restart,
		   fixture_teardown);
	g_test_add("/aiq/replicas/notify",
		   Fixture,
		   "notify",
		   fixture_setup,
		   test_notify,
		   fixture_teardown);
	return g_test_run();
}
