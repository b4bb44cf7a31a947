/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The platform end to end: the real automateiq-server and automateiq-agent
 * programs, started as their users start them, on 127.0.0.1 only, and then
 * killed, cut off and starved of disk. Side effects go to an HTTP sink in
 * this process that counts requests per Idempotency-Key (the http step sends
 * the step key, `<execution>/<step>`); the server's API is the record.
 *
 * /aiq/e2e/agent-kill
 *   SIGKILLs the agent at a random moment 20-300 ms after each of many
 *   restarts (CI: 200 kills; AIQ_E2E_KILLS) while executions of a 5-step
 *   workflow (three http POSTs to the sink, two transforms using their
 *   outputs) keep arriving, then lets a last agent finish. Proves: every
 *   execution succeeds with every step, the server holds one gapless history
 *   each; the sink saw every step key, no other key, so each effect happened
 *   exactly once by key (distinct keys == executions × 3); and no request
 *   for a step arrived after the time the server records that step finished,
 *   i.e. no finished step ran again. Requests re-sent with the same key (a
 *   step in flight at a kill, or redone after a lease ran out) are reported.
 *
 * /aiq/e2e/partition
 *   A TCP proxy between agent and server is cut (connections reset, new ones
 *   refused) for 5 s while a first wave of 32 executions runs on the agent
 *   (capacity 48, so it also waits on a lease), and the rest of 300 (CI) or
 *   1,000 (AIQ_E2E_EXECUTIONS) is queued meanwhile; lease-ttl=30s. Proves:
 *   the agent goes on with what it holds (http requests reach the sink while
 *   cut off) and buffers (its outbox depth, from `status --json`, is
 *   printed), then syncs; every execution succeeds, each step has exactly one
 *   attempt on the server, each history is gapless with one step.finished
 *   per step, each effect reached the sink exactly once, and no lease of a
 *   held execution ran out. Prints the deepest outbox, the drain time and
 *   the leases that ran out anyway (jobs leased into the cut).
 *
 * /aiq/e2e/server-kill
 *   SIGKILLs the server while the agent syncs events (a batch of executions
 *   under way) and while the agent waits on a lease (a batch just queued),
 *   restarting it on the same data directory; the agent reaches it through a
 *   proxy so its URL stays the same. Proves: every execution the API reported
 *   succeeded before a kill is still succeeded after it (nothing acknowledged
 *   is lost), and at the end every execution succeeded with exactly one
 *   attempt per step and a gapless history (nothing duplicated).
 *
 * /aiq/e2e/lease-expiry
 *   Agent A (capacity 2) runs two executions into a long `delay` step and is
 *   SIGKILLed for good; with lease-ttl=3s the jobs go back to the queue and
 *   agent B, enrolled separately, finishes them. Proves: lease_expiries >= 1,
 *   success, the last agent is B, and the http step the server had recorded
 *   as finished before the kill was not sent again (one request for its key).
 *
 * /aiq/e2e/tls
 *   (a) `enroll` without --ca against the self-signed server fails with a
 *   message about the certificate, and the same token then works with --ca;
 *   an enrolled agent whose server-ca.pem is replaced by another CA goes to
 *   `refused` and runs nothing. (b) a certificate from a trusted CA but for
 *   another host name (tests/ca/wronghost.pem) is refused, and the same
 *   token works once the server has a certificate for 127.0.0.1. (c) enroll
 *   with http:// to a non-loopback address (TEST-NET 192.0.2.1) fails at once
 *   with the plain-HTTP message.
 *
 * /aiq/e2e/full-disk
 *   Sets RLIMIT_FSIZE of the running agent (prlimit(2)) so its journal
 *   cannot be written, then queues executions whose steps include http.
 *   Proves: the agent reports the write error and outbox_full (log, and
 *   `status --json` over D-Bus when dbus-daemon is there), takes no more
 *   jobs than its capacity, sends no request whose start is not on disk;
 *   after the limit is raised every execution finishes, once.
 *
 * The server's store is SQLite in its data directory, or with
 * AIQ_TEST_STORE=postgresql (test-e2e-postgres, under pg-test-cluster.sh) a
 * database of its own in a throwaway PostgreSQL cluster, kept over restarts;
 * every test runs on both (full-disk starves the agent's journal, not the
 * server's store). Nothing here reads the store but through the API.
 *
 * Every test prints its figures as TAP comments. Logs and state of a failed
 * test stay in the directory its first comment names (AIQ_E2E_KEEP=1 keeps
 * them always).
 */

#define G_LOG_DOMAIN "aiq-e2e"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "aiq-e2e.h"
#include "aiq-json.h"

typedef struct {
	gchar *dir;
	AiqE2eServer *server;
	AiqE2eServer *server2;
	AiqE2eAgent *agent;
	AiqE2eAgent *agent2;
	AiqE2eSink *sink;
	AiqE2eProxy *proxy;
	GTestDBus *bus;
	GRand *rand;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer user_data)
{
	const gchar *seed = g_getenv("AIQ_E2E_SEED");
	guint32 value = seed != NULL ? (guint32)g_ascii_strtoull(seed, NULL, 10) : g_random_int();
	f->dir = aiq_e2e_make_tmp_dir(user_data);
	f->rand = g_rand_new_with_seed(value);
	g_test_message("random seed %u (AIQ_E2E_SEED)", value);
}

static void
fixture_teardown(Fixture *f, gconstpointer user_data)
{
	/* agents first: they must not see a server go away as part of a test */
	g_clear_pointer(&f->agent, aiq_e2e_agent_free);
	g_clear_pointer(&f->agent2, aiq_e2e_agent_free);
	g_clear_pointer(&f->server, aiq_e2e_server_free);
	g_clear_pointer(&f->server2, aiq_e2e_server_free);
	g_clear_pointer(&f->proxy, aiq_e2e_proxy_free);
	g_clear_pointer(&f->sink, aiq_e2e_sink_free);
	if (f->bus != NULL) {
		g_test_dbus_down(f->bus);
		g_clear_object(&f->bus);
	}
	if (!g_test_failed())
		aiq_e2e_remove_tmp_dir(f->dir);
	g_free(f->dir);
	g_rand_free(f->rand);
}

/* a private D-Bus for `status --json` of one agent, when dbus-daemon is there */
static void
start_bus(Fixture *f)
{
	g_autofree gchar *daemon = g_find_program_in_path("dbus-daemon");
	if (daemon == NULL) {
		g_test_message("no dbus-daemon: agent state from its log only");
		return;
	}
	f->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(f->bus);
}

/* ---------------------------------------------------------------------------
 * checks shared by the tests
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
	guint queued;
	guint running;
	guint succeeded;
	guint64 lease_expiries;
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
		c.total++;
		c.final += status_is_final(status);
		c.queued += g_strcmp0(status, "queued") == 0;
		c.running += g_strcmp0(status, "running") == 0;
		c.succeeded += g_strcmp0(status, "succeeded") == 0;
		c.lease_expiries += (guint64)aiq_json_object_get_int(item, "lease_expiries", 0);
	}
	return c;
}

/* polls until the @n executions of @workflow_id are final */
static GHashTable *
wait_all_final(AiqE2eServer *server, const gchar *workflow_id, guint n, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	for (;;) {
		g_autoptr(GHashTable) list = aiq_e2e_server_list_executions(server, workflow_id);
		Counts c = count_executions(list);
		if (c.total == n && c.final == n)
			return g_steal_pointer(&list);
		if (g_get_monotonic_time() > deadline)
			g_error("after %u s, %u of %u executions are final (%u queued, %u running)",
				timeout_s,
				c.final,
				n,
				c.queued,
				c.running);
		g_usleep(300 * 1000);
	}
}

typedef struct {
	guint executions;
	guint steps;
	guint attempts;
	guint steps_with_more_attempts;
	guint events;
	/* a re-leased execution's new agent starts its history again at
	 * last_seq + 1: execution.created and .started once more, and a
	 * step.finished marked `reused` for each step the server had */
	guint restarted_histories;
	guint reused_finishes;
} History;

static gint64
last_attempt_end(JsonArray *attempts)
{
	gint64 end = 0;
	for (guint i = 0; i < json_array_get_length(attempts); i++) {
		JsonObject *attempt = json_array_get_object_element(attempts, i);
		end = MAX(end, aiq_e2e_parse_time(aiq_json_object_get_string(attempt, "finished")));
	}
	return end;
}

static gboolean
event_is_reused(JsonObject *event)
{
	JsonObject *data = aiq_json_object_get_object(event, "data");
	return data != NULL && json_object_has_member(data, "reused") &&
	       json_object_get_boolean_member_with_default(data, "reused", FALSE);
}

/*
 * One execution on the server: succeeded, every step succeeded (with
 * @one_attempt, exactly one attempt each); its events are gapless, end with
 * execution.finished and hold one step.finished per step that ran (and,
 * after a re-lease, `reused` ones that carry a finished step over). Fills
 * @finished_us (step id → µs the last attempt ended) when given.
 */
static void
check_execution(AiqE2eServer *server,
		const gchar *id,
		guint n_steps,
		gboolean one_attempt,
		GHashTable *finished_us,
		History *h)
{
	g_autoptr(JsonObject) exec = aiq_e2e_server_get_execution(server, id);
	g_autoptr(JsonArray) events = aiq_e2e_server_get_events(server, id);
	g_autoptr(GHashTable) finished_events = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) covered = g_hash_table_new(g_str_hash, g_str_equal);
	JsonArray *steps = aiq_json_object_get_array(exec, "steps");
	guint n_events;
	guint n_created = 0;

	aiq_e2e_assert_succeeded(exec, id, steps, n_steps);
	for (guint i = 0; i < n_steps; i++) {
		JsonObject *step = json_array_get_object_element(steps, i);
		const gchar *step_id = aiq_json_object_get_string(step, "id");
		gint64 attempts = aiq_json_object_get_int(step, "attempt_count", -1);
		JsonArray *list = aiq_json_object_get_array(step, "attempts");
		if (g_strcmp0(aiq_json_object_get_string(step, "status"), "succeeded") != 0)
			g_error("execution %s: step %s is %s",
				id,
				step_id,
				aiq_json_object_get_string(step, "status"));
		g_assert_nonnull(list);
		g_assert_cmpint(attempts, ==, (gint64)json_array_get_length(list));
		g_assert_cmpint(attempts, >=, 1);
		if (one_attempt && attempts != 1)
			g_error("execution %s: step %s has %" G_GINT64_FORMAT " attempts, not 1",
				id,
				step_id,
				attempts);
		h->steps++;
		h->attempts += (guint)attempts;
		h->steps_with_more_attempts += attempts > 1;
		if (finished_us != NULL)
			g_hash_table_insert(
				finished_us,
				g_strdup(step_id),
				g_memdup2((gint64[]){ last_attempt_end(list) }, sizeof(gint64)));
	}

	n_events = json_array_get_length(events);
	g_assert_cmpuint(n_events, >, 0);
	for (guint i = 0; i < n_events; i++) {
		JsonObject *event = json_array_get_object_element(events, i);
		const gchar *type = aiq_json_object_get_string(event, "type");
		if (aiq_json_object_get_int(event, "seq", 0) != (gint64)i + 1)
			g_error("execution %s: event %u has seq %" G_GINT64_FORMAT,
				id,
				i + 1,
				aiq_json_object_get_int(event, "seq", 0));
		if (g_strcmp0(type, "execution.created") == 0)
			n_created++;
		if (g_strcmp0(type, "step.finished") == 0)
			g_hash_table_add(covered,
					 (gpointer)aiq_json_object_get_string(event, "step"));
		if (g_strcmp0(type, "step.finished") == 0 && event_is_reused(event)) {
			h->reused_finishes++;
		} else if (g_strcmp0(type, "step.finished") == 0) {
			const gchar *step = aiq_json_object_get_string(event, "step");
			if (!g_hash_table_add(finished_events, (gpointer)step))
				g_error("execution %s: step %s finished twice in its history",
					id,
					step);
		}
		if (i + 1 == n_events)
			g_assert_cmpstr(type, ==, "execution.finished");
	}
	/* every step ran to its end once, or was carried over */
	g_assert_cmpuint(g_hash_table_size(covered), ==, n_steps);
	g_assert_cmpuint(n_created, >=, 1);
	h->restarted_histories += n_created - 1;
	if (n_created == 1)
		g_assert_cmpuint(g_hash_table_size(finished_events), ==, n_steps);
	h->executions++;
	h->events += n_events;
}

static JsonObject *
inputs_with_base(AiqE2eSink *sink)
{
	JsonObject *inputs = json_object_new();
	json_object_set_string_member(inputs, "base", aiq_e2e_sink_get_url(sink));
	return inputs;
}

/*
 * The sink against the server: every key of @ids × @http_steps arrived,
 * no other key did; with @exactly_once each arrived once. Returns the
 * requests sent again with a key seen before.
 */
static guint64
check_sink(AiqE2eSink *sink,
	   GPtrArray *ids,
	   const gchar *const *http_steps,
	   gboolean exactly_once,
	   guint *keys_repeated)
{
	g_autoptr(GHashTable) keys = aiq_e2e_sink_dup_keys(sink);
	guint n_http = g_strv_length((gchar **)http_steps);
	guint64 repeats = 0;

	*keys_repeated = 0;
	for (guint i = 0; i < ids->len; i++) {
		for (guint s = 0; s < n_http; s++) {
			g_autofree gchar *key =
				g_strdup_printf("%s/%s", (gchar *)ids->pdata[i], http_steps[s]);
			AiqE2eSinkKey *entry = g_hash_table_lookup(keys, key);
			if (entry == NULL)
				g_error("step key %s never reached the sink", key);
			if (exactly_once && entry->count != 1)
				g_error("step key %s reached the sink %u times", key, entry->count);
			repeats += entry->count - 1;
			*keys_repeated += entry->count > 1;
		}
	}
	g_assert_cmpuint(g_hash_table_size(keys), ==, ids->len * n_http);
	g_assert_cmpuint(aiq_e2e_sink_get_requests_without_key(sink), ==, 0);
	g_assert_cmpuint(aiq_e2e_sink_get_requests(sink), ==, ids->len * n_http + repeats);
	return repeats;
}

static void
start_executions(AiqE2eServer *server,
		 const gchar *workflow_id,
		 JsonObject *inputs,
		 guint n,
		 GPtrArray *ids)
{
	for (guint i = 0; i < n; i++) {
		gchar *id = aiq_e2e_server_start_execution(server, workflow_id, inputs);
		if (ids != NULL)
			g_ptr_array_add(ids, id);
		else
			g_free(id);
	}
}

static gboolean
agent_log_wait(AiqE2eAgent *agent, const gchar *needle, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	while (!aiq_e2e_agent_log_contains(agent, needle)) {
		if (g_get_monotonic_time() > deadline)
			return FALSE;
		g_usleep(100 * 1000);
	}
	return TRUE;
}

/* ---------------------------------------------------------------------------
 * /aiq/e2e/agent-kill
 */

static const gchar *const kill_http_steps[] = { "h1", "h2", "h3", NULL };

static const gchar *kill_workflow =
	"name: e2e-agent-kill\n"
	"inputs: { base: { type: string } }\n"
	"steps:\n"
	"  - id: h1\n"
	"    uses: http\n"
	"    with: { method: POST, url: '${{ inputs.base }}/effect/h1', body: { step: 1 } }\n"
	"  - id: t1\n"
	"    uses: transform\n"
	"    with: { value: { status: '${{ steps.h1.output.status }}' } }\n"
	"  - id: h2\n"
	"    uses: http\n"
	"    with: { method: POST, url: '${{ inputs.base }}/effect/h2', body: '${{ steps.t1.output }}' }\n"
	"  - id: t2\n"
	"    uses: transform\n"
	"    with: { value: '${{ steps.h1.output.status + steps.h2.output.status }}' }\n"
	"  - id: h3\n"
	"    uses: http\n"
	"    with: { method: POST, url: '${{ inputs.base }}/effect/h3', body: { sum: '${{ steps.t2.output }}' } }\n";

static void
test_agent_kill(Fixture *f, gconstpointer user_data)
{
	const guint capacity = 8;
	guint kills = aiq_e2e_scale("AIQ_E2E_KILLS", 200, 1000);
	guint target = MAX(100, kills * 3 / 4);
	g_autofree gchar *agent_conf =
		g_strdup_printf("[agent]\ncapacity=%u\n[engine]\ndurability=effects\n", capacity);
	g_autofree gchar *workflow_id = NULL;
	g_autoptr(JsonObject) inputs = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) final = NULL;
	g_autoptr(GHashTable) keys = NULL;
	gint64 t0 = g_get_monotonic_time();
	gint64 t_kills;
	gint64 t_done;
	guint64 repeats;
	guint keys_repeated = 0;
	guint finished_at_last_kill = 0;
	Counts c;
	History h = { 0 };

	f->sink = aiq_e2e_sink_new(2, 30);
	f->server = aiq_e2e_server_new(f->dir, "server", "[server]\nlease-ttl=5s\nlong-poll=2s\n");
	aiq_e2e_server_start(f->server);
	f->agent = aiq_e2e_agent_new(f->dir, "agent", agent_conf);
	aiq_e2e_agent_enroll(f->agent, f->server, NULL);
	workflow_id = aiq_e2e_server_create_workflow(f->server, kill_workflow);
	inputs = inputs_with_base(f->sink);

	for (guint k = 0; k < kills; k++) {
		/* executions keep arriving, spread over the kills, and the agent
		 * never runs dry */
		guint due = (guint)(((guint64)target * (k + 1) + kills - 1) / kills);
		guint unfinished = aiq_e2e_server_count(f->server, workflow_id, "queued") +
				   aiq_e2e_server_count(f->server, workflow_id, "running");
		guint more = due > ids->len ? due - ids->len : 0;
		if (unfinished + more < capacity && ids->len < target * 3)
			more = capacity - unfinished;
		start_executions(f->server, workflow_id, inputs, more, ids);

		aiq_e2e_agent_start(f->agent);
		g_usleep((gulong)g_rand_int_range(f->rand, 20, 301) * 1000);
		aiq_e2e_agent_kill(f->agent);
	}
	t_kills = g_get_monotonic_time();
	{
		g_autoptr(GHashTable) list = aiq_e2e_server_list_executions(f->server, workflow_id);
		finished_at_last_kill = count_executions(list).final;
	}

	/* the last start, left to finish */
	aiq_e2e_agent_start(f->agent);
	final = wait_all_final(f->server, workflow_id, ids->len, 600);
	t_done = g_get_monotonic_time();
	aiq_e2e_agent_stop(f->agent);
	c = count_executions(final);

	keys = aiq_e2e_sink_dup_keys(f->sink);
	for (guint i = 0; i < ids->len; i++) {
		const gchar *id = ids->pdata[i];
		g_autoptr(GHashTable) finished_us =
			g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		check_execution(f->server, id, 5, FALSE, finished_us, &h);
		/* no request for a step after the server's record of its end */
		for (guint s = 0; kill_http_steps[s] != NULL; s++) {
			g_autofree gchar *key = g_strdup_printf("%s/%s", id, kill_http_steps[s]);
			AiqE2eSinkKey *entry = g_hash_table_lookup(keys, key);
			gint64 *end = g_hash_table_lookup(finished_us, kill_http_steps[s]);
			g_assert_nonnull(end);
			if (entry != NULL && entry->last_us > *end)
				g_error("%s was requested %.1f ms after the server recorded the "
					"step finished: a finished step ran again",
					key,
					(entry->last_us - *end) / 1000.0);
		}
	}
	repeats = check_sink(f->sink, ids, kill_http_steps, FALSE, &keys_repeated);

	g_test_message("agent-kill: %u SIGKILLs (20-300 ms after each start) in %.1f s, "
		       "%u executions x 5 steps (3 http), %u of them final at the last kill",
		       f->agent->kills,
		       (t_kills - t0) / 1e6,
		       ids->len,
		       finished_at_last_kill);
	g_test_message("agent-kill: all %u succeeded, %.1f s after the last kill; %u events; "
		       "%u lease expiries",
		       c.succeeded,
		       (t_done - t_kills) / 1e6,
		       h.events,
		       (guint)c.lease_expiries);
	g_test_message("agent-kill: sink: %" G_GUINT64_FORMAT " requests, %u distinct keys "
		       "(= %u executions x 3), %" G_GUINT64_FORMAT
		       " re-sent with a known key (%u keys), 0 after a step's recorded end",
		       aiq_e2e_sink_get_requests(f->sink),
		       ids->len * 3,
		       ids->len,
		       repeats,
		       keys_repeated);
	g_test_message("agent-kill: server: %u steps, %u attempts, %u steps with more than one; "
		       "%u histories restarted by a re-lease, %u steps carried over (`reused`)",
		       h.steps,
		       h.attempts,
		       h.steps_with_more_attempts,
		       h.restarted_histories,
		       h.reused_finishes);
	g_assert_cmpuint(c.succeeded, ==, ids->len);
	g_assert_cmpuint(f->agent->kills, ==, kills);
	/* a re-send is a request in flight at a kill (one per execution held),
	 * or a step redone after its lease ran out (three per expiry at most) */
	g_assert_cmpuint(repeats, <=, (guint64)kills * capacity + c.lease_expiries * 3);
}

/* ---------------------------------------------------------------------------
 * /aiq/e2e/partition
 */

static const gchar *const partition_http_steps[] = { "h1", NULL };

static const gchar *partition_workflow =
	"name: e2e-partition\n"
	"inputs: { base: { type: string } }\n"
	"steps:\n"
	"  - { id: t1, uses: transform, with: { value: '${{ execution.id }}' } }\n"
	"  - { id: d1, uses: delay, with: { duration: 4s } }\n"
	"  - { id: h1, uses: http, with: { method: POST, url: '${{ inputs.base }}/effect/h1', "
	"body: { id: '${{ steps.t1.output }}' } } }\n";

/* queues executions on a thread of its own, so that they keep coming while
 * the test thread watches */
typedef struct {
	AiqE2eServer *server;
	const gchar *workflow_id;
	JsonObject *inputs;
	guint n;
	GMutex mutex;
	GPtrArray *ids;
	gint64 elapsed_us;
} Producer;

static gpointer
producer_thread(gpointer user_data)
{
	Producer *p = user_data;
	gint64 start = g_get_monotonic_time();
	for (guint i = 0; i < p->n; i++) {
		gchar *id = aiq_e2e_server_start_execution(p->server, p->workflow_id, p->inputs);
		g_mutex_lock(&p->mutex);
		g_ptr_array_add(p->ids, id);
		g_mutex_unlock(&p->mutex);
	}
	p->elapsed_us = g_get_monotonic_time() - start;
	return NULL;
}

static guint
count_expired(GHashTable *list, GHashTable *only)
{
	GHashTableIter iter;
	const gchar *id;
	JsonObject *item;
	guint n = 0;
	g_hash_table_iter_init(&iter, list);
	while (g_hash_table_iter_next(&iter, (gpointer *)&id, (gpointer *)&item)) {
		if (only == NULL || g_hash_table_contains(only, id))
			n += aiq_json_object_get_int(item, "lease_expiries", 0) > 0;
	}
	return n;
}

static void
test_partition(Fixture *f, gconstpointer user_data)
{
	const guint capacity = 48;
	const guint wave = 32;
	const guint cut_s = 5;
	guint n = MAX(aiq_e2e_scale("AIQ_E2E_EXECUTIONS", 300, 1000), wave + 1);
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *proxy_url = NULL;
	g_autofree gchar *agent_conf =
		g_strdup_printf("[agent]\ncapacity=%u\n[engine]\ndurability=effects\n", capacity);
	g_autoptr(JsonObject) inputs = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) final = NULL;
	gint64 t_start;
	gint64 t_cut;
	gint64 t_restore;
	gint64 t_caught_up = 0;
	gint64 t_done;
	gint64 max_depth = 0;
	guint64 sink_at_cut;
	guint64 sink_during_cut;
	guint64 refused;
	guint status_polls = 0;
	guint keys_repeated = 0;
	guint held_expired;
	guint expired;
	Producer producer = { 0 };
	GThread *producer_thread_handle;
	Counts c;
	History h = { 0 };

	f->sink = aiq_e2e_sink_new(0, 0);
	f->server =
		aiq_e2e_server_new(f->dir, "server", "[server]\nlease-ttl=30s\nlong-poll=10s\n");
	aiq_e2e_server_start(f->server);
	f->proxy = aiq_e2e_proxy_new(f->server->port);
	proxy_url = aiq_e2e_proxy_dup_url(f->proxy);
	f->agent = aiq_e2e_agent_new(f->dir, "agent", agent_conf);
	aiq_e2e_agent_enroll(f->agent, f->server, proxy_url);
	workflow_id = aiq_e2e_server_create_workflow(f->server, partition_workflow);
	inputs = inputs_with_base(f->sink);
	aiq_e2e_agent_start(f->agent);

	/* a first wave under way, with room left: the agent also waits on a lease */
	t_start = g_get_monotonic_time();
	start_executions(f->server, workflow_id, inputs, wave, ids);
	for (gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;;) {
		g_autoptr(GHashTable) list = aiq_e2e_server_list_executions(f->server, workflow_id);
		c = count_executions(list);
		if (c.running + c.final == wave && c.running > 0) {
			GHashTableIter iter;
			const gchar *id;
			JsonObject *item;
			g_hash_table_iter_init(&iter, list);
			while (g_hash_table_iter_next(&iter, (gpointer *)&id, (gpointer *)&item)) {
				if (g_strcmp0(aiq_json_object_get_string(item, "status"),
					      "running") == 0)
					g_hash_table_add(held, g_strdup(id));
			}
			break;
		}
		if (c.final == wave)
			g_error("the first wave finished before the cut; the delay step is too short");
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(50 * 1000);
	}

	/* cut; the rest is queued meanwhile and afterwards */
	t_cut = g_get_monotonic_time();
	sink_at_cut = aiq_e2e_sink_get_requests(f->sink);
	aiq_e2e_proxy_set_connected(f->proxy, FALSE);
	producer.server = f->server;
	producer.workflow_id = workflow_id;
	producer.inputs = inputs;
	producer.n = n - wave;
	producer.ids = ids;
	g_mutex_init(&producer.mutex);
	producer_thread_handle = g_thread_new("e2e-producer", producer_thread, &producer);
	while (g_get_monotonic_time() < t_cut + (gint64)cut_s * G_USEC_PER_SEC) {
		g_autoptr(JsonObject) status = aiq_e2e_agent_status(f->agent);
		max_depth = MAX(max_depth, aiq_json_object_get_int(status, "outbox_depth", 0));
		status_polls++;
		g_usleep(200 * 1000);
	}
	sink_during_cut = aiq_e2e_sink_get_requests(f->sink) - sink_at_cut;
	refused = aiq_e2e_proxy_get_refused(f->proxy);
	t_restore = g_get_monotonic_time();
	aiq_e2e_proxy_set_connected(f->proxy, TRUE);

	/* caught up: what the agent did while cut off is on the server */
	for (gint64 deadline = t_restore + 300 * G_USEC_PER_SEC; t_caught_up == 0;) {
		g_autoptr(GHashTable) list = aiq_e2e_server_list_executions(f->server, workflow_id);
		GHashTableIter iter;
		const gchar *id;
		gboolean all = TRUE;
		g_hash_table_iter_init(&iter, held);
		while (all && g_hash_table_iter_next(&iter, (gpointer *)&id, NULL)) {
			JsonObject *item = g_hash_table_lookup(list, id);
			all = item != NULL &&
			      status_is_final(aiq_json_object_get_string(item, "status"));
		}
		if (all)
			t_caught_up = g_get_monotonic_time();
		else if (g_get_monotonic_time() > deadline)
			g_error("the server did not catch up within 300 s of the restore");
		else
			g_usleep(50 * 1000);
	}

	g_thread_join(producer_thread_handle);
	g_mutex_clear(&producer.mutex);
	final = wait_all_final(f->server, workflow_id, n, 900);
	t_done = g_get_monotonic_time();
	c = count_executions(final);
	held_expired = count_expired(final, held);
	expired = count_expired(final, NULL);
	g_assert_cmpuint(c.succeeded, ==, n);
	for (guint i = 0; i < ids->len; i++)
		check_execution(f->server, ids->pdata[i], 3, TRUE, NULL, &h);
	check_sink(f->sink, ids, partition_http_steps, TRUE, &keys_repeated);
	{
		g_autoptr(JsonObject) status = aiq_e2e_agent_status(f->agent);
		g_assert_cmpint(aiq_json_object_get_int(status, "outbox_depth", -1), ==, 0);
	}
	aiq_e2e_agent_stop(f->agent);

	g_test_message("partition: %u executions%s, capacity %u; cut for %u s with %u running: "
		       "%" G_GUINT64_FORMAT " connections reset, %" G_GUINT64_FORMAT " refused",
		       n,
		       n < 1000 ? " (CI size; AIQ_E2E_EXECUTIONS=1000 for the full run)" : "",
		       capacity,
		       cut_s,
		       g_hash_table_size(held),
		       aiq_e2e_proxy_get_cut(f->proxy),
		       refused);
	g_test_message(
		"partition: while cut off the agent made %" G_GUINT64_FORMAT
		" http requests and buffered up to %" G_GINT64_FORMAT
		" events (outbox_depth, %u polls of status --json); %u more queued in %.1f s",
		sink_during_cut,
		max_depth,
		status_polls,
		n - wave,
		producer.elapsed_us / 1e6);
	g_test_message("partition: drain: the server had all %u held executions %.2f s after the "
		       "restore; all %u succeeded %.1f s after it (%.1f s in all)",
		       g_hash_table_size(held),
		       (t_caught_up - t_restore) / 1e6,
		       n,
		       (t_done - t_restore) / 1e6,
		       (t_done - t_start) / 1e6);
	g_test_message("partition: server: %u events, %u steps with one attempt each, each "
		       "effect once at the sink",
		       h.events,
		       h.steps);
	g_test_message("partition: lease-ttl 30 s: %u leases of held executions ran out; %u "
		       "executions in all had a lease run out (jobs whose lease answer the cut "
		       "lost, or that were given to the long-poll the cut had closed)",
		       held_expired,
		       expired);
	g_assert_cmpuint(h.attempts, ==, h.steps);
	g_assert_cmpint(max_depth, >, 0);
	g_assert_cmpuint(sink_during_cut, >, 0);
	/* the leases of what the agent held survived the partition */
	g_assert_cmpuint(held_expired, ==, 0);
}

/* ---------------------------------------------------------------------------
 * /aiq/e2e/server-kill
 */

static const gchar *server_kill_workflow =
	"name: e2e-server-kill\n"
	"steps:\n"
	"  - { id: t1, uses: transform, with: { value: 1 } }\n"
	"  - { id: t2, uses: transform, with: { value: '${{ steps.t1.output + 1 }}' } }\n"
	"  - { id: d1, uses: delay, with: { duration: 50ms } }\n"
	"  - { id: t3, uses: transform, with: { value: '${{ steps.t2.output + 1 }}' } }\n"
	"  - { id: t4, uses: transform, with: { value: '${{ steps.t3.output + 1 }}' } }\n";

static GHashTable *
succeeded_set(AiqE2eServer *server, const gchar *workflow_id)
{
	g_autoptr(GHashTable) list = aiq_e2e_server_list_executions(server, workflow_id);
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter iter;
	const gchar *id;
	JsonObject *item;
	g_hash_table_iter_init(&iter, list);
	while (g_hash_table_iter_next(&iter, (gpointer *)&id, (gpointer *)&item)) {
		if (g_strcmp0(aiq_json_object_get_string(item, "status"), "succeeded") == 0)
			g_hash_table_add(set, g_strdup(id));
	}
	return set;
}

/* SIGKILL, restart on the same data directory, and check that what the API
 * called succeeded before is still so */
static void
kill_restart_server(Fixture *f, const gchar *workflow_id, guint *lost)
{
	g_autoptr(GHashTable) before = succeeded_set(f->server, workflow_id);
	g_autoptr(GHashTable) after = NULL;
	GHashTableIter iter;
	const gchar *id;

	aiq_e2e_server_kill(f->server);
	g_usleep((gulong)g_rand_int_range(f->rand, 100, 1001) * 1000);
	aiq_e2e_server_start(f->server);
	aiq_e2e_proxy_set_target(f->proxy, f->server->port);
	after = succeeded_set(f->server, workflow_id);
	g_hash_table_iter_init(&iter, before);
	while (g_hash_table_iter_next(&iter, (gpointer *)&id, NULL)) {
		if (!g_hash_table_contains(after, id)) {
			g_test_message("execution %s was succeeded before the kill, not after", id);
			(*lost)++;
		}
	}
}

static void
test_server_kill(Fixture *f, gconstpointer user_data)
{
	guint rounds = aiq_e2e_scale("AIQ_E2E_SERVER_KILLS", 4, 10);
	const guint batch = 40;
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *proxy_url = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) final = NULL;
	guint lost = 0;
	guint sync_kills_mid_run = 0;
	gint64 t_last_kill;
	gint64 t_done;
	Counts c;
	History h = { 0 };

	/* the port changes at each start: the agent's URL is the proxy's */
	f->server = aiq_e2e_server_new(f->dir, "server", "[server]\nlease-ttl=10s\nlong-poll=2s\n");
	aiq_e2e_server_start(f->server);
	f->proxy = aiq_e2e_proxy_new(f->server->port);
	proxy_url = aiq_e2e_proxy_dup_url(f->proxy);
	f->agent = aiq_e2e_agent_new(f->dir,
				     "agent",
				     "[agent]\ncapacity=16\n[engine]\ndurability=effects\n");
	aiq_e2e_agent_enroll(f->agent, f->server, proxy_url);
	workflow_id = aiq_e2e_server_create_workflow(f->server, server_kill_workflow);
	aiq_e2e_agent_start(f->agent);

	/* during sync: a batch under way, killed 0–300 ms after the first
	 * execution of the batch is seen running or done */
	for (guint r = 0; r < rounds; r++) {
		guint first = ids->len;
		gboolean active = FALSE;
		start_executions(f->server, workflow_id, NULL, batch, ids);
		for (gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC; !active;) {
			g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s",
								 (gchar *)ids->pdata[first]);
			g_autoptr(JsonNode) root =
				aiq_e2e_server_call(f->server, "GET", path, NULL);
			active = g_strcmp0(aiq_json_object_get_string(json_node_get_object(root),
								      "status"),
					   "queued") != 0;
			g_assert_cmpint(g_get_monotonic_time(), <, deadline);
			if (!active)
				g_usleep(20 * 1000);
		}
		g_usleep((gulong)g_rand_int_range(f->rand, 0, 301) * 1000);
		{
			g_autoptr(GHashTable) list =
				aiq_e2e_server_list_executions(f->server, workflow_id);
			c = count_executions(list);
			sync_kills_mid_run += c.final < ids->len;
		}
		kill_restart_server(f, workflow_id, &lost);
	}

	/* during leasing: the agent idle in a long-poll, one to three jobs
	 * queued, the server killed 0-30 ms later, as the lease answer goes out */
	for (guint r = 0; r < rounds; r++) {
		g_autoptr(GHashTable) list = wait_all_final(f->server, workflow_id, ids->len, 300);
		guint first = (guint)g_rand_int_range(f->rand, 1, 4);
		(void)list;
		g_usleep((gulong)g_rand_int_range(f->rand, 100, 2001) * 1000);
		start_executions(f->server, workflow_id, NULL, first, ids);
		g_usleep((gulong)g_rand_int_range(f->rand, 0, 31) * 1000);
		kill_restart_server(f, workflow_id, &lost);
		start_executions(f->server, workflow_id, NULL, batch - first, ids);
	}
	t_last_kill = g_get_monotonic_time();

	final = wait_all_final(f->server, workflow_id, ids->len, 600);
	t_done = g_get_monotonic_time();
	c = count_executions(final);
	for (guint i = 0; i < ids->len; i++)
		check_execution(f->server, ids->pdata[i], 5, TRUE, NULL, &h);
	aiq_e2e_agent_stop(f->agent);
	aiq_e2e_server_stop(f->server);

	g_test_message(
		"server-kill: %u SIGKILLs of the server (%u while syncing a batch, "
		"%u of them with executions unfinished; %u 0-30 ms after queueing jobs for an idle "
		"agent)",
		f->server->kills,
		rounds,
		sync_kills_mid_run,
		rounds);
	g_test_message("server-kill: %u executions all succeeded, %.1f s after the last kill; "
		       "%u lease expiries (leases answered to a dying server)",
		       ids->len,
		       (t_done - t_last_kill) / 1e6,
		       (guint)c.lease_expiries);
	g_test_message("server-kill: %u events, %u steps with exactly one attempt each; %u "
		       "histories restarted by a re-lease; %u executions acknowledged as "
		       "succeeded were lost by a kill",
		       h.events,
		       h.steps,
		       h.restarted_histories,
		       lost);
	g_assert_cmpuint(lost, ==, 0);
	g_assert_cmpuint(c.succeeded, ==, ids->len);
}

/* ---------------------------------------------------------------------------
 * /aiq/e2e/lease-expiry
 */

static const gchar *lease_workflow =
	"name: e2e-lease-expiry\n"
	"inputs: { base: { type: string } }\n"
	"steps:\n"
	"  - { id: h1, uses: http, with: { method: POST, url: '${{ inputs.base }}/effect/h1' } }\n"
	"  - { id: d1, uses: delay, with: { duration: 6s } }\n"
	"  - { id: h2, uses: http, with: { method: POST, url: '${{ inputs.base }}/effect/h2' } }\n";

static gchar *
agent_id_of(AiqE2eAgent *agent)
{
	g_autoptr(JsonObject) status = aiq_e2e_agent_status(agent);
	return g_strdup(aiq_json_object_get_string(status, "agent_id"));
}

static void
test_lease_expiry(Fixture *f, gconstpointer user_data)
{
	const guint n = 2;
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *id_a = NULL;
	g_autofree gchar *id_b = NULL;
	g_autoptr(JsonObject) inputs = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) final = NULL;
	g_autoptr(GHashTable) keys = NULL;
	gint64 t_kill;
	gint64 t_requeued = 0;
	gint64 t_done;
	History h = { 0 };

	f->sink = aiq_e2e_sink_new(0, 0);
	f->server = aiq_e2e_server_new(f->dir, "server", "[server]\nlease-ttl=3s\nlong-poll=2s\n");
	aiq_e2e_server_start(f->server);
	f->agent = aiq_e2e_agent_new(f->dir, "agent-a", "[agent]\ncapacity=2\n");
	f->agent2 = aiq_e2e_agent_new(f->dir, "agent-b", "[agent]\ncapacity=4\n");
	aiq_e2e_agent_enroll(f->agent, f->server, NULL);
	aiq_e2e_agent_enroll(f->agent2, f->server, NULL);
	id_a = agent_id_of(f->agent);
	id_b = agent_id_of(f->agent2);
	workflow_id = aiq_e2e_server_create_workflow(f->server, lease_workflow);
	inputs = inputs_with_base(f->sink);

	aiq_e2e_agent_start(f->agent);
	start_executions(f->server, workflow_id, inputs, n, ids);

	/* A holds both, h1 done and on the server, d1 under way */
	for (gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;;) {
		guint ready = 0;
		for (guint i = 0; i < n; i++) {
			g_autoptr(JsonObject) exec =
				aiq_e2e_server_get_execution(f->server, ids->pdata[i]);
			JsonArray *steps = aiq_json_object_get_array(exec, "steps");
			JsonObject *h1 = json_array_get_object_element(steps, 0);
			JsonObject *d1 = json_array_get_object_element(steps, 1);
			g_assert_cmpint(aiq_json_object_get_int(exec, "lease_expiries", -1), ==, 0);
			ready +=
				g_strcmp0(aiq_json_object_get_string(exec, "agent_id"), id_a) ==
					0 &&
				g_strcmp0(aiq_json_object_get_string(h1, "status"), "succeeded") ==
					0 &&
				g_strcmp0(aiq_json_object_get_string(d1, "status"), "running") == 0;
		}
		if (ready == n)
			break;
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(100 * 1000);
	}
	aiq_e2e_agent_kill(f->agent);
	t_kill = g_get_monotonic_time();

	/* the leases run out and the jobs go back to the queue */
	for (gint64 deadline = t_kill + 60 * G_USEC_PER_SEC; t_requeued == 0;) {
		guint expired = 0;
		for (guint i = 0; i < n; i++) {
			g_autoptr(JsonObject) exec =
				aiq_e2e_server_get_execution(f->server, ids->pdata[i]);
			expired += aiq_json_object_get_int(exec, "lease_expiries", 0) >= 1 &&
				   aiq_json_object_get_string(exec, "agent_id") == NULL;
		}
		if (expired == n)
			t_requeued = g_get_monotonic_time();
		else if (g_get_monotonic_time() > deadline)
			g_error("the leases of the killed agent did not run out within 60 s");
		else
			g_usleep(100 * 1000);
	}
	aiq_e2e_agent_start(f->agent2);
	final = wait_all_final(f->server, workflow_id, n, 120);
	t_done = g_get_monotonic_time();
	aiq_e2e_agent_stop(f->agent2);

	keys = aiq_e2e_sink_dup_keys(f->sink);
	for (guint i = 0; i < n; i++) {
		g_autoptr(JsonObject) exec = aiq_e2e_server_get_execution(f->server, ids->pdata[i]);
		JsonArray *steps = aiq_json_object_get_array(exec, "steps");
		g_autofree gchar *key_h1 = g_strdup_printf("%s/h1", (gchar *)ids->pdata[i]);
		g_autofree gchar *key_h2 = g_strdup_printf("%s/h2", (gchar *)ids->pdata[i]);
		AiqE2eSinkKey *h1 = g_hash_table_lookup(keys, key_h1);
		AiqE2eSinkKey *h2 = g_hash_table_lookup(keys, key_h2);

		check_execution(f->server, ids->pdata[i], 3, FALSE, NULL, &h);
		g_assert_cmpint(aiq_json_object_get_int(exec, "lease_expiries", 0), >=, 1);
		g_assert_cmpstr(aiq_json_object_get_string(exec, "agent_id"), ==, id_b);
		/* h1 was finished on the server before A died: B did not send it again */
		g_assert_nonnull(h1);
		g_assert_cmpuint(h1->count, ==, 1);
		g_assert_nonnull(h2);
		g_assert_cmpuint(h2->count, ==, 1);
		g_test_message("lease-expiry: execution %s: %" G_GINT64_FORMAT
			       " lease expiries; attempts h1 %" G_GINT64_FORMAT
			       ", d1 %" G_GINT64_FORMAT ", h2 %" G_GINT64_FORMAT
			       "; sink h1 x%u, h2 x%u",
			       (gchar *)ids->pdata[i],
			       aiq_json_object_get_int(exec, "lease_expiries", 0),
			       aiq_json_object_get_int(json_array_get_object_element(steps, 0),
						       "attempt_count",
						       0),
			       aiq_json_object_get_int(json_array_get_object_element(steps, 1),
						       "attempt_count",
						       0),
			       aiq_json_object_get_int(json_array_get_object_element(steps, 2),
						       "attempt_count",
						       0),
			       h1->count,
			       h2->count);
	}
	g_test_message("lease-expiry: lease-ttl 3 s: queued again %.1f s after the SIGKILL of "
		       "agent A; agent B finished both %.1f s after the kill",
		       (t_requeued - t_kill) / 1e6,
		       (t_done - t_kill) / 1e6);
	g_test_message("lease-expiry: B continued each history at last_seq + 1 (%u restarts: "
		       "execution.created/started again) and carried %u finished steps over",
		       h.restarted_histories,
		       h.reused_finishes);
}

/* ---------------------------------------------------------------------------
 * /aiq/e2e/tls
 */

static gboolean
mentions_certificate(const gchar *text)
{
	g_autofree gchar *lower = g_ascii_strdown(text != NULL ? text : "", -1);
	return strstr(lower, "certificate") != NULL;
}

static gchar *
first_line(const gchar *text)
{
	const gchar *end = strchr(text, '\n');
	return end != NULL ? g_strndup(text, (gsize)(end - text)) : g_strdup(text);
}

static void
test_tls(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *ca_dir = g_test_build_filename(G_TEST_DIST, "ca", NULL);
	g_autofree gchar *test_ca = g_build_filename(ca_dir, "ca.pem", NULL);
	g_autofree gchar *good_conf = g_strdup_printf("[server]\ntls-cert=%s/server.pem\n"
						      "tls-key=%s/server-key.pem\n",
						      ca_dir,
						      ca_dir);
	g_autofree gchar *wrong_conf = g_strdup_printf("[server]\ntls-cert=%s/wronghost.pem\n"
						       "tls-key=%s/wronghost-key.pem\n",
						       ca_dir,
						       ca_dir);
	g_autofree gchar *token = NULL;
	g_autofree gchar *output = NULL;
	g_autofree gchar *line = NULL;
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *execution_id = NULL;
	g_autofree gchar *ca_path = NULL;
	g_autofree gchar *pem = NULL;
	g_autoptr(AiqE2eAgent) wrong = NULL;
	g_autoptr(AiqE2eAgent) plain = NULL;
	gint64 elapsed = 0;
	gint rc;

	start_bus(f);

	/* (a) the self-signed server, not trusted */
	f->server = aiq_e2e_server_new(f->dir, "server", "[server]\nlong-poll=2s\n");
	aiq_e2e_server_start(f->server);
	f->agent = aiq_e2e_agent_new(f->dir, "agent", "[agent]\n");
	f->agent->session_bus = f->bus != NULL;
	token = aiq_e2e_server_create_enrollment_token(f->server);
	rc = aiq_e2e_agent_try_enroll(f->agent, f->server->url, token, NULL, &output, &elapsed);
	line = first_line(output);
	g_test_message("tls (a): enroll without --ca: exit %d in %.2f s: %s",
		       rc,
		       elapsed / 1e6,
		       line);
	g_assert_cmpint(rc, !=, 0);
	g_assert_true(mentions_certificate(output));
	g_clear_pointer(&output, g_free);
	/* the token was not spent: with the CA it works */
	rc = aiq_e2e_agent_try_enroll(f->agent,
				      f->server->url,
				      token,
				      f->server->ca_file,
				      &output,
				      NULL);
	if (rc != 0)
		g_error("enroll with --ca failed (%d): %s", rc, output);
	g_clear_pointer(&output, g_free);

	/* an enrolled agent whose CA is swapped for another refuses the server */
	ca_path = g_build_filename(f->agent->dir, "server-ca.pem", NULL);
	g_assert_true(g_file_test(ca_path, G_FILE_TEST_IS_REGULAR));
	g_assert_true(g_file_get_contents(test_ca, &pem, NULL, NULL));
	g_assert_true(g_file_set_contents(ca_path, pem, -1, NULL));
	workflow_id = aiq_e2e_server_create_workflow(
		f->server,
		"name: e2e-tls\nsteps:\n  - { id: t1, uses: transform, with: { value: 1 } }\n");
	execution_id = aiq_e2e_server_start_execution(f->server, workflow_id, NULL);
	aiq_e2e_agent_start(f->agent);
	if (!agent_log_wait(f->agent, "refused this agent", 60))
		g_error("the agent with the wrong CA did not say it refused the server");
	if (f->bus != NULL) {
		g_autoptr(JsonObject) status = NULL;
		for (gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;;) {
			g_clear_pointer(&status, json_object_unref);
			status = aiq_e2e_agent_status(f->agent);
			if (g_strcmp0(aiq_json_object_get_string(status, "connection"),
				      "refused") == 0)
				break;
			if (g_get_monotonic_time() > deadline)
				g_error("status --json: connection is %s, not refused",
					aiq_json_object_get_string(status, "connection"));
			g_usleep(200 * 1000);
		}
		g_test_message("tls (a): wrong CA: status --json: connection %s, last_error: %s",
			       aiq_json_object_get_string(status, "connection"),
			       aiq_json_object_get_string(status, "last_error"));
		g_assert_true(
			mentions_certificate(aiq_json_object_get_string(status, "last_error")));
	} else {
		g_test_message("tls (a): wrong CA: refused (from the log; no dbus-daemon for "
			       "status --json)");
	}
	/* it runs nothing, and stays up */
	g_usleep(3 * G_USEC_PER_SEC);
	{
		g_autoptr(JsonObject) exec = aiq_e2e_server_get_execution(f->server, execution_id);
		g_assert_cmpstr(aiq_json_object_get_string(exec, "status"), ==, "queued");
		g_assert_null(aiq_json_object_get_string(exec, "agent_id"));
	}
	g_assert_true(aiq_e2e_agent_is_running(f->agent));
	aiq_e2e_agent_stop(f->agent);

	/* (b) a trusted CA, but a certificate for another host */
	f->server2 = aiq_e2e_server_new(f->dir, "server2", good_conf);
	aiq_e2e_server_set_ca_file(f->server2, test_ca);
	aiq_e2e_server_start(f->server2);
	g_clear_pointer(&token, g_free);
	token = aiq_e2e_server_create_enrollment_token(f->server2);
	aiq_e2e_server_stop(f->server2);
	aiq_e2e_server_set_config(f->server2, wrong_conf);
	aiq_e2e_server_start(f->server2);
	wrong = aiq_e2e_agent_new(f->dir, "agent-wronghost", "[agent]\n");
	rc = aiq_e2e_agent_try_enroll(wrong, f->server2->url, token, test_ca, &output, &elapsed);
	g_clear_pointer(&line, g_free);
	line = first_line(output);
	g_test_message("tls (b): certificate for wrong.example at 127.0.0.1: exit %d in %.2f s: %s",
		       rc,
		       elapsed / 1e6,
		       line);
	g_assert_cmpint(rc, !=, 0);
	g_assert_true(mentions_certificate(output));
	g_clear_pointer(&output, g_free);
	aiq_e2e_server_stop(f->server2);
	aiq_e2e_server_set_config(f->server2, good_conf);
	aiq_e2e_server_start(f->server2);
	rc = aiq_e2e_agent_try_enroll(wrong, f->server2->url, token, test_ca, &output, NULL);
	if (rc != 0)
		g_error("enroll with the right certificate failed (%d): %s", rc, output);
	g_clear_pointer(&output, g_free);

	/* (c) plain HTTP to another machine: refused before any connection */
	plain = aiq_e2e_agent_new(f->dir, "agent-plain", "[agent]\n");
	rc = aiq_e2e_agent_try_enroll(plain,
				      "http://192.0.2.1:1",
				      "aiqe_00000000000000000000000000000000_x",
				      NULL,
				      &output,
				      &elapsed);
	g_clear_pointer(&line, g_free);
	line = first_line(output);
	g_test_message("tls (c): enroll --server http://192.0.2.1:1: exit %d in %.3f s: %s",
		       rc,
		       elapsed / 1e6,
		       line);
	g_assert_cmpint(rc, !=, 0);
	g_assert_nonnull(strstr(output, "plain HTTP"));
	/* a connection to TEST-NET would hang far longer */
	g_assert_cmpint(elapsed, <, 10 * G_USEC_PER_SEC);
}

/* ---------------------------------------------------------------------------
 * /aiq/e2e/full-disk
 */

static const gchar *const disk_http_steps[] = { "h1", "h2", NULL };

static const gchar *disk_workflow =
	"name: e2e-full-disk\n"
	"inputs: { base: { type: string } }\n"
	"steps:\n"
	"  - { id: t1, uses: transform, with: { value: 1 } }\n"
	"  - { id: h1, uses: http, with: { method: POST, url: '${{ inputs.base }}/effect/h1' } }\n"
	"  - { id: h2, uses: http, with: { method: POST, url: '${{ inputs.base }}/effect/h2' } }\n";

static void
set_file_size_limit(gint pid, rlim_t limit)
{
	struct rlimit old;
	struct rlimit value;
	g_assert_cmpint(prlimit(pid, RLIMIT_FSIZE, NULL, &old), ==, 0);
	value.rlim_cur = limit;
	value.rlim_max = old.rlim_max;
	if (prlimit(pid, RLIMIT_FSIZE, &value, NULL) != 0)
		g_error("prlimit(%d, RLIMIT_FSIZE): %s", pid, g_strerror(errno));
}

static guint
count_leased(AiqE2eServer *server, const gchar *workflow_id)
{
	g_autoptr(GHashTable) list = aiq_e2e_server_list_executions(server, workflow_id);
	GHashTableIter iter;
	JsonObject *item;
	guint n = 0;
	g_hash_table_iter_init(&iter, list);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&item)) {
		n += aiq_json_object_get_string(item, "agent_id") != NULL ||
		     g_strcmp0(aiq_json_object_get_string(item, "status"), "queued") != 0;
	}
	return n;
}

static void
test_full_disk(Fixture *f, gconstpointer user_data)
{
	const guint capacity = 4;
	const guint n = 12;
	const guint hold_s = 5;
	g_autofree gchar *workflow_id = NULL;
	g_autofree gchar *conf =
		g_strdup_printf("[agent]\ncapacity=%u\n[engine]\ndurability=effects\n", capacity);
	g_autoptr(JsonObject) inputs = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) final = NULL;
	g_autoptr(JsonObject) status = NULL;
	guint leased_first;
	guint leased_last = 0;
	guint keys_repeated = 0;
	gint pid;
	gint64 t_limit;
	gint64 t_full;
	gint64 t_raise;
	gint64 t_done;
	History h = { 0 };

	start_bus(f);
	f->sink = aiq_e2e_sink_new(0, 0);
	f->server = aiq_e2e_server_new(f->dir, "server", "[server]\nlease-ttl=30s\nlong-poll=2s\n");
	aiq_e2e_server_start(f->server);
	f->agent = aiq_e2e_agent_new(f->dir, "agent", conf);
	f->agent->session_bus = f->bus != NULL;
	aiq_e2e_agent_enroll(f->agent, f->server, NULL);
	workflow_id = aiq_e2e_server_create_workflow(f->server, disk_workflow);
	inputs = inputs_with_base(f->sink);
	aiq_e2e_agent_start(f->agent);
	if (!agent_log_wait(f->agent, "connected to", 60))
		g_error("the agent did not connect");

	/* no file of the agent may grow past one page: the journal's next
	 * commit fails as on a full disk */
	pid = aiq_e2e_process_get_pid(f->agent->proc);
	set_file_size_limit(pid, 4096);
	t_limit = g_get_monotonic_time();
	start_executions(f->server, workflow_id, inputs, n, ids);

	if (!agent_log_wait(f->agent, "the outbox cannot be written", 60))
		g_error("the agent did not report that its outbox cannot be written");
	t_full = g_get_monotonic_time();
	if (f->bus != NULL) {
		for (gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;;) {
			g_clear_pointer(&status, json_object_unref);
			status = aiq_e2e_agent_status(f->agent);
			if (json_object_get_boolean_member_with_default(status,
									"outbox_full",
									FALSE))
				break;
			if (g_get_monotonic_time() > deadline)
				g_error("status --json does not report outbox_full");
			g_usleep(200 * 1000);
		}
	}

	/* held: no more jobs than its capacity, no effect without its start on disk */
	leased_first = count_leased(f->server, workflow_id);
	for (gint64 end = g_get_monotonic_time() + hold_s * G_USEC_PER_SEC;
	     g_get_monotonic_time() < end;) {
		leased_last = count_leased(f->server, workflow_id);
		g_assert_cmpuint(leased_last, <=, capacity);
		g_assert_cmpuint(aiq_e2e_sink_get_requests(f->sink), ==, 0);
		g_assert_true(aiq_e2e_agent_is_running(f->agent));
		g_usleep(250 * 1000);
	}
	g_assert_cmpuint(aiq_e2e_server_count(f->server, workflow_id, "queued"), >=, n - capacity);
	if (f->bus != NULL) {
		g_clear_pointer(&status, json_object_unref);
		status = aiq_e2e_agent_status(f->agent);
		g_test_message(
			"full-disk: status --json while full: outbox_full %s, "
			"outbox_depth %" G_GINT64_FORMAT ", %u running, connection %s",
			json_object_get_boolean_member_with_default(status, "outbox_full", FALSE)
				? "true"
				: "false",
			aiq_json_object_get_int(status, "outbox_depth", -1),
			json_array_get_length(aiq_json_object_get_array(status, "running")),
			aiq_json_object_get_string(status, "connection"));
		g_assert_true(
			json_object_get_boolean_member_with_default(status, "outbox_full", FALSE));
	}

	/* room again */
	set_file_size_limit(pid, RLIM_INFINITY);
	t_raise = g_get_monotonic_time();
	final = wait_all_final(f->server, workflow_id, n, 300);
	t_done = g_get_monotonic_time();
	for (guint i = 0; i < ids->len; i++)
		check_execution(f->server, ids->pdata[i], 3, TRUE, NULL, &h);
	check_sink(f->sink, ids, disk_http_steps, TRUE, &keys_repeated);
	if (!agent_log_wait(f->agent, "the outbox has room again", 30))
		g_error("the agent did not say that its outbox has room again");
	g_clear_pointer(&status, json_object_unref);
	status = aiq_e2e_agent_status(f->agent);
	if (f->bus != NULL)
		g_assert_false(
			json_object_get_boolean_member_with_default(status, "outbox_full", TRUE));
	g_assert_true(aiq_e2e_agent_is_running(f->agent));
	aiq_e2e_agent_stop(f->agent);

	g_test_message("full-disk: RLIMIT_FSIZE 4096 on the agent: outbox_full reported %.1f s "
		       "after %u executions were queued; over %u s it held %u then %u jobs "
		       "(capacity %u), made 0 requests, %u stayed queued",
		       (t_full - t_limit) / 1e6,
		       n,
		       hold_s,
		       leased_first,
		       leased_last,
		       capacity,
		       n - leased_last);
	g_test_message("full-disk: limit raised: all %u succeeded %.1f s later, each step one "
		       "attempt, each effect once (%u requests)",
		       n,
		       (t_done - t_raise) / 1e6,
		       (guint)aiq_e2e_sink_get_requests(f->sink));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_setenv("AIQ_ADMIN_PASSWORD", "e2e-admin-password", TRUE);
	g_setenv("AIQ_DEMO_PASSWORD", "e2e-demo-password", TRUE);
	if (g_getenv("AIQ_SERVER") == NULL || g_getenv("AIQ_AGENT") == NULL) {
		g_printerr(
			"AIQ_SERVER and AIQ_AGENT must name the programs (meson test sets them)\n");
		return 1;
	}
	g_test_add("/aiq/e2e/tls", Fixture, "tls", fixture_setup, test_tls, fixture_teardown);
	g_test_add("/aiq/e2e/lease-expiry",
		   Fixture,
		   "lease-expiry",
		   fixture_setup,
		   test_lease_expiry,
		   fixture_teardown);
	g_test_add("/aiq/e2e/full-disk",
		   Fixture,
		   "full-disk",
		   fixture_setup,
		   test_full_disk,
		   fixture_teardown);
	g_test_add("/aiq/e2e/server-kill",
		   Fixture,
		   "server-kill",
		   fixture_setup,
		   test_server_kill,
		   fixture_teardown);
	g_test_add("/aiq/e2e/partition",
		   Fixture,
		   "partition",
		   fixture_setup,
		   test_partition,
		   fixture_teardown);
	g_test_add("/aiq/e2e/agent-kill",
		   Fixture,
		   "agent-kill",
		   fixture_setup,
		   test_agent_kill,
		   fixture_teardown);
	return g_test_run();
}
