/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The API server benchmark's helper, run through bench/api:
 *
 *   aiq-bench-api seed --data DIR --out DIR [--executions N] …
 *     makes a server data directory with the store API: tenants with their
 *     first admin, API keys, workflows (1,000 × 100 by default); then,
 *     with --executions, a million historical executions written with
 *     plain SQL into the same file (the real schema, one transaction).
 *     Writes the files the wrk scripts and the ingest driver read.
 *
 *   aiq-bench-api ingest --url URL --cert FILE --out DIR …
 *     the event ingest driver: enrolls agents with enrollment tokens,
 *     starts executions, leases them, then posts their events (the wire
 *     form of docs/events.md, each event new, seq 1, 2, 3… per execution)
 *     in batches, one batch at a time per agent, with heartbeats, checks
 *     every ack and prints the figure.
 *
 *   aiq-bench-api hello --port N
 *     the baseline: a bare libsoup3 server on one thread answering every
 *     request with a small JSON object over plain HTTP, and nothing else.
 */

#define G_LOG_DOMAIN "AiqBench"

#include "config.h"

#include <libsoup/soup.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aiq-auth.h"
#include "aiq-json.h"
#include "aiq-store-identity.h"
#include "aiq-store-workflows.h"
#include "aiq-util.h"

/* one admin password for every tenant, hashed once: Argon2id costs ~50 ms a
 * hash by design, which 1,000 tenants would turn into a minute of seeding */
#define BENCH_PASSWORD "bench-password-123"

/* a realistic definition (examples/invoice-sync.yaml): an HTTP fetch with
 * retries, SQL, a for_each fan-out and outputs; some have a schedule */
#define BENCH_DEFINITION                                                                         \
	"name: invoice-sync-%03u\n"                                                              \
	"description: Copy invoices from billing API %u into the warehouse database\n"           \
	"triggers:\n"                                                                            \
	"%s"                                                                                     \
	"  - manual: {}\n"                                                                       \
	"inputs:\n"                                                                              \
	"  base_url:\n"                                                                          \
	"    type: string\n"                                                                     \
	"    default: \"http://127.0.0.1:8080\"\n"                                               \
	"    description: Base URL of the billing API\n"                                         \
	"  since:\n"                                                                             \
	"    type: string\n"                                                                     \
	"    default: \"yesterday\"\n"                                                           \
	"    description: Only invoices issued on or after this date (YYYY-MM-DD)\n"             \
	"steps:\n"                                                                               \
	"  - id: fetch\n"                                                                        \
	"    name: Fetch invoices\n"                                                             \
	"    uses: http\n"                                                                       \
	"    with:\n"                                                                            \
	"      method: GET\n"                                                                    \
	"      url: \"${{ inputs.base_url }}/invoices\"\n"                                       \
	"      query: { since: \"${{ inputs.since }}\" }\n"                                      \
	"      headers: { Accept: application/json }\n"                                          \
	"      timeout: 10s\n"                                                                   \
	"    retry: { max_attempts: 5, backoff: exponential, initial: 500ms, max: 10s, jitter: " \
	"0.2 }\n"                                                                                \
	"    timeout: 15s\n"                                                                     \
	"  - id: schema\n"                                                                       \
	"    name: Create the table if missing\n"                                                \
	"    uses: sql\n"                                                                        \
	"    with:\n"                                                                            \
	"      connection: warehouse\n"                                                          \
	"      statements:\n"                                                                    \
	"        - query: CREATE TABLE IF NOT EXISTS invoices (id TEXT PRIMARY KEY, customer "   \
	"TEXT NOT NULL, total REAL NOT NULL, currency TEXT NOT NULL, issued TEXT NOT NULL, "     \
	"synced_at TEXT NOT NULL)\n"                                                             \
	"        - query: CREATE INDEX IF NOT EXISTS invoices_issued ON invoices (issued)\n"     \
	"  - id: store\n"                                                                        \
	"    name: Upsert each invoice\n"                                                        \
	"    uses: sql\n"                                                                        \
	"    for_each: ${{ steps.fetch.output.body.items }}\n"                                   \
	"    concurrency: 4\n"                                                                   \
	"    retry: 3\n"                                                                         \
	"    with:\n"                                                                            \
	"      connection: warehouse\n"                                                          \
	"      query: INSERT OR REPLACE INTO invoices (id, customer, total, currency, issued, "  \
	"synced_at) VALUES (?, ?, ?, ?, ?, strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now'))\n"       \
	"      params:\n"                                                                        \
	"        - \"${{ item.id }}\"\n"                                                         \
	"        - \"${{ item.customer }}\"\n"                                                   \
	"        - \"${{ item.total }}\"\n"                                                      \
	"        - \"${{ item.currency }}\"\n"                                                   \
	"        - \"${{ item.issued }}\"\n"                                                     \
	"  - id: count\n"                                                                        \
	"    name: Count the rows\n"                                                             \
	"    uses: sql\n"                                                                        \
	"    with:\n"                                                                            \
	"      connection: warehouse\n"                                                          \
	"      query: SELECT COUNT(*) AS n, ROUND(SUM(total), 2) AS amount FROM invoices\n"      \
	"      read_only: true\n"                                                                \
	"outputs:\n"                                                                             \
	"  fetched: \"${{ #steps.fetch.output.body.items }}\"\n"                                 \
	"  upserted: \"${{ #steps.store.output }}\"\n"                                           \
	"  rows_in_table: ${{ steps.count.output.rows[1].n }}\n"                                 \
	"  total_amount: ${{ steps.count.output.rows[1].amount }}\n"

#define BENCH_SCHEDULE "  - schedule: { cron: \"0 2 * * 1-5\", timezone: Asia/Singapore }\n"

static const gchar *const bench_tiers[] = { "free", "standard", "premium", "enterprise" };

G_GNUC_NORETURN static void
bench_die(const gchar *what, const GError *error)
{
	g_printerr("aiq-bench-api: %s: %s\n", what, error != NULL ? error->message : "failed");
	exit(1);
}

static gdouble
bench_seconds_since(gint64 t0)
{
	return (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
}

/* seeding */

typedef struct {
	guint index;
	gchar *id;
	gchar *key;           /* an editor API key */
	gchar *admin_key;     /* a tenant admin API key (ingest tenants only) */
	GPtrArray *workflows; /* of gchar* ids */
} BenchTenant;

typedef struct {
	AiqStore *store;
	AiqAuth *auth;
	const gchar *password_hash;
	guint n_workflows;
	guint schedule_every;
	guint ingest_tenants;
	gint64 now_us;
} BenchSeed;

static void
bench_tenant_clear(BenchTenant *t)
{
	g_free(t->id);
	g_free(t->key);
	g_free(t->admin_key);
	if (t->workflows != NULL)
		g_ptr_array_unref(t->workflows);
}

/* one tenant: its admin, its keys and its workflows, each write through
 * the store API (the writer thread commits the writes of the concurrent
 * seeding threads together) */
static void
bench_seed_tenant(gpointer data, gpointer user_data)
{
	BenchTenant *t = data;
	BenchSeed *seed = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTenant) tenant = NULL;
	g_autoptr(AiqUser) admin = NULL;
	g_autofree gchar *slug = g_strdup_printf("bench-%04u", t->index);
	g_autofree gchar *name = g_strdup_printf("Bench tenant %u", t->index);

	tenant = aiq_store_create_tenant_with_admin(
		seed->store,
		slug,
		name,
		bench_tiers[t->index % G_N_ELEMENTS(bench_tiers)],
		30,
		"admin",
		"Tenant admin",
		seed->password_hash,
		seed->now_us,
		&admin,
		&error);
	if (tenant == NULL)
		bench_die("create tenant", error);
	t->id = g_strdup(tenant->id);
	t->key = aiq_auth_issue(seed->auth,
				AIQ_TOKEN_KIND_API_KEY,
				t->id,
				admin->id,
				"editor",
				"bench-editor",
				0,
				NULL,
				NULL,
				&error);
	if (t->key == NULL)
		bench_die("issue API key", error);
	if (t->index < seed->ingest_tenants) {
		t->admin_key = aiq_auth_issue(seed->auth,
					      AIQ_TOKEN_KIND_API_KEY,
					      t->id,
					      admin->id,
					      "tenant_admin",
					      "bench-admin",
					      0,
					      NULL,
					      NULL,
					      &error);
		if (t->admin_key == NULL)
			bench_die("issue API key", error);
	}
	t->workflows = g_ptr_array_new_full(seed->n_workflows, g_free);
	for (guint i = 0; i < seed->n_workflows; i++) {
		gboolean scheduled = seed->schedule_every > 0 &&
				     (t->index * seed->n_workflows + i) % seed->schedule_every == 0;
		g_autofree gchar *text =
			g_strdup_printf(BENCH_DEFINITION, i, i, scheduled ? BENCH_SCHEDULE : "");
		g_autoptr(AiqProblems) problems = aiq_problems_new();
		g_autoptr(AiqDefinition) definition = NULL;
		g_autoptr(AiqWorkflowRow) row = NULL;

		definition =
			aiq_definition_new_from_data(text, strlen(text), NULL, problems, &error);
		if (definition == NULL)
			bench_die("the bench definition", error);
		/* the canonical form is made lazily; made here, in the seeding
		 * thread, it is not made in the store's one writer thread */
		aiq_definition_get_digest(definition);
		row = aiq_store_create_workflow(seed->store, t->id, definition, "admin", &error);
		if (row == NULL)
			bench_die("create workflow", error);
		g_ptr_array_add(t->workflows, g_strdup(row->id));
	}
}

static void
bench_write_file(const gchar *path, GString *contents)
{
	g_autoptr(GError) error = NULL;
	if (!g_file_set_contents(path, contents->str, (gssize)contents->len, &error))
		bench_die("write", error);
}

/* a UUIDv7 of a past time, as the server makes them */
static void
bench_uuid7(GRand *rand, gint64 ms, gchar out[37])
{
	guint8 b[16];
	b[0] = (ms >> 40) & 0xff;
	b[1] = (ms >> 32) & 0xff;
	b[2] = (ms >> 24) & 0xff;
	b[3] = (ms >> 16) & 0xff;
	b[4] = (ms >> 8) & 0xff;
	b[5] = ms & 0xff;
	for (guint i = 6; i < 16; i++)
		b[i] = (guint8)g_rand_int_range(rand, 0, 256);
	b[6] = 0x70 | (b[6] & 0x0f);
	b[8] = 0x80 | (b[8] & 0x3f);
	{
		g_autofree gchar *text = aiq_id_format(b);
		memcpy(out, text, 37);
	}
}

static void
bench_sql_exec(sqlite3 *db, const gchar *sql)
{
	gchar *message = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK) {
		g_printerr("aiq-bench-api: %s: %s\n", sql, message);
		exit(1);
	}
}

static sqlite3_stmt *
bench_sql_prepare(sqlite3 *db, const gchar *sql)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		g_printerr("aiq-bench-api: %s: %s\n", sql, sqlite3_errmsg(db));
		exit(1);
	}
	return stmt;
}

static void
bench_sql_step(sqlite3 *db, sqlite3_stmt *stmt)
{
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		g_printerr("aiq-bench-api: insert: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_reset(stmt);
}

/*
 * The history of @n finished executions of the first
 * @n_tenants tenants, over their first @n_workflows workflows, created
 * evenly over the 30 days before @now_us, in time order as they would have
 * been written. Written with SQL into the store file while no server has
 * it open: the store API would take minutes for a million rows. Their jobs
 * (state done), steps and events are left out: the list reads none of them
 * (it left-joins jobs, which finds nothing either way), and they would
 * double the seeding time.
 */
static void
bench_seed_executions(const gchar *filename,
		      BenchTenant *tenants,
		      guint n_tenants,
		      guint n_workflows,
		      guint n,
		      gint64 now_us,
		      const gchar *out_dir)
{
	static const struct {
		const gchar *status;
		guint percent;
	} statuses[] = {
		{ "succeeded", 85 },
		{ "failed", 8 },
		{ "cancelled", 4 },
		{ "timed_out", 3 },
	};
	static const struct {
		const gchar *trigger;
		guint percent;
	} triggers[] = {
		{ "schedule", 50 },
		{ "api", 30 },
		{ "manual", 15 },
		{ "webhook", 5 },
	};
	const gint64 span_us = (gint64)30 * 24 * 3600 * G_USEC_PER_SEC;
	const gint64 first_us = now_us - span_us - (gint64)3600 * G_USEC_PER_SEC;
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);
	g_autoptr(GString) by_workflow = g_string_new(NULL);
	g_autoptr(GString) by_time = g_string_new(NULL);
	g_autofree gchar *path = NULL;
	g_autofree gchar **agents = g_new0(gchar *, n_tenants + 1);
	sqlite3 *db = NULL;
	sqlite3_stmt *exec_stmt;
	gint64 t0 = g_get_monotonic_time();

	if (sqlite3_open_v2(filename, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		g_printerr("aiq-bench-api: %s: %s\n", filename, sqlite3_errmsg(db));
		exit(1);
	}
	/* a bulk load: no journal, no fsync; the server turns WAL on again */
	bench_sql_exec(db, "PRAGMA journal_mode=DELETE");
	bench_sql_exec(db, "PRAGMA synchronous=OFF");
	bench_sql_exec(db, "PRAGMA cache_size=-1048576");
	bench_sql_exec(db, "BEGIN");
	exec_stmt = bench_sql_prepare(
		db,
		"INSERT INTO executions (tenant_id, id, workflow_id, workflow_name, version, status, "
		"trigger, inputs, created, started, finished, error_code, error_message, outputs, "
		"agent_id, last_seq) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
		"?13, ?14, ?15)");
	for (guint k = 0; k < n_tenants; k++)
		agents[k] = aiq_id_new();
	for (guint i = 0; i < n; i++) {
		guint k = (guint)g_rand_int_range(rand, 0, (gint32)n_tenants);
		guint w = (guint)g_rand_int_range(rand, 0, (gint32)n_workflows);
		guint r = (guint)g_rand_int_range(rand, 0, 100);
		guint s = 0;
		guint g = 0;
		guint acc = 0;
		gint64 created = first_us + (gint64)((gdouble)span_us * i / n);
		gint64 started = created + g_rand_int_range(rand, 5000, 2000000);
		gint64 finished = started + g_rand_int_range(rand, 200000, 120000000);
		gchar exec_id[37];
		g_autofree gchar *wf_name = g_strdup_printf("invoice-sync-%03u", w);
		gboolean ok;

		for (acc = statuses[0].percent; r >= acc; acc += statuses[s].percent)
			s++;
		r = (guint)g_rand_int_range(rand, 0, 100);
		for (acc = triggers[0].percent; r >= acc; acc += triggers[g].percent)
			g++;
		ok = g_strcmp0(statuses[s].status, "succeeded") == 0;
		bench_uuid7(rand, created / 1000, exec_id);
		sqlite3_bind_text(exec_stmt, 1, tenants[k].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(exec_stmt, 2, exec_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(exec_stmt,
				  3,
				  g_ptr_array_index(tenants[k].workflows, w),
				  -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(exec_stmt, 4, wf_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(exec_stmt, 5, statuses[s].status, -1, SQLITE_STATIC);
		sqlite3_bind_text(exec_stmt, 6, triggers[g].trigger, -1, SQLITE_STATIC);
		sqlite3_bind_text(
			exec_stmt,
			7,
			"{\"base_url\":\"http://127.0.0.1:8080\",\"since\":\"yesterday\"}",
			-1,
			SQLITE_STATIC);
		sqlite3_bind_int64(exec_stmt, 8, created);
		sqlite3_bind_int64(exec_stmt, 9, started);
		sqlite3_bind_int64(exec_stmt, 10, finished);
		if (ok) {
			sqlite3_bind_null(exec_stmt, 11);
			sqlite3_bind_null(exec_stmt, 12);
			sqlite3_bind_text(
				exec_stmt,
				13,
				"{\"fetched\":120,\"upserted\":120,\"rows_in_table\":5230,"
				"\"total_amount\":10234.5}",
				-1,
				SQLITE_STATIC);
		} else {
			sqlite3_bind_text(exec_stmt,
					  11,
					  g_strcmp0(statuses[s].status, "failed") == 0
						  ? "step_failed"
						  : statuses[s].status,
					  -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(exec_stmt,
					  12,
					  "step store: item 17: database is locked",
					  -1,
					  SQLITE_STATIC);
			sqlite3_bind_null(exec_stmt, 13);
		}
		sqlite3_bind_text(exec_stmt, 14, agents[k], -1, SQLITE_STATIC);
		sqlite3_bind_int64(exec_stmt, 15, 111);
		bench_sql_step(db, exec_stmt);
	}
	sqlite3_finalize(exec_stmt);
	bench_sql_exec(db, "COMMIT");
	bench_sql_exec(db, "PRAGMA journal_mode=WAL");
	sqlite3_close(db);
	g_strfreev(g_steal_pointer(&agents));
	g_print("seeded %u executions of %u tenants x %u workflows with SQL "
		"in %.1f s\n",
		n,
		n_tenants,
		n_workflows,
		bench_seconds_since(t0));

	/* the list queries: by workflow and status, and by a time range */
	for (guint k = 0; k < n_tenants; k++) {
		for (guint w = 0; w < n_workflows; w++)
			g_string_append_printf(
				by_workflow,
				"%s /api/v1/executions?workflow_id=%s&status=failed&limit=50\n",
				tenants[k].key,
				(const gchar *)g_ptr_array_index(tenants[k].workflows, w));
		for (guint q = 0; q < 50; q++) {
			/* windows of one hour to a week */
			gint64 len = (gint64)g_rand_int_range(rand, 1, 168) * 3600 * G_USEC_PER_SEC;
			gint64 since =
				first_us + (gint64)(g_rand_double(rand) * (gdouble)(span_us - len));
			g_autofree gchar *a = aiq_time_to_iso8601(since);
			g_autofree gchar *b = aiq_time_to_iso8601(since + len);
			g_string_append_printf(by_time,
					       "%s /api/v1/executions?since=%s&until=%s&limit=50\n",
					       tenants[k].key,
					       a,
					       b);
		}
	}
	path = g_build_filename(out_dir, "list-workflow.txt", NULL);
	bench_write_file(path, by_workflow);
	g_free(path);
	path = g_build_filename(out_dir, "list-time.txt", NULL);
	bench_write_file(path, by_time);
}

static gint
bench_seed(gint argc, gchar **argv)
{
	g_autofree gchar *data_dir = NULL;
	g_autofree gchar *out_dir = NULL;
	gint n_tenants = 1000;
	gint n_workflows = 100;
	gint schedule_every = 10;
	gint ingest_tenants = 8;
	gint n_executions = 0;
	gint exec_tenants = 10;
	gint exec_workflows = 20;
	gint n_threads = 64;
	const GOptionEntry entries[] = {
		{ "data", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "Server data directory", "DIR" },
		{ "out",
		  0,
		  0,
		  G_OPTION_ARG_FILENAME,
		  &out_dir,
		  "Where the files for wrk go",
		  "DIR" },
		{ "tenants", 0, 0, G_OPTION_ARG_INT, &n_tenants, "Tenants", "N" },
		{ "workflows", 0, 0, G_OPTION_ARG_INT, &n_workflows, "Workflows per tenant", "N" },
		{ "schedule-every",
		  0,
		  0,
		  G_OPTION_ARG_INT,
		  &schedule_every,
		  "One workflow in N has a schedule trigger (0: none)",
		  "N" },
		{ "ingest-tenants",
		  0,
		  0,
		  G_OPTION_ARG_INT,
		  &ingest_tenants,
		  "Tenants that get an admin key, for the ingest driver",
		  "N" },
		{ "executions",
		  0,
		  0,
		  G_OPTION_ARG_INT,
		  &n_executions,
		  "Historical executions to write with SQL",
		  "N" },
		{ "exec-tenants",
		  0,
		  0,
		  G_OPTION_ARG_INT,
		  &exec_tenants,
		  "… over this many tenants",
		  "N" },
		{ "exec-workflows",
		  0,
		  0,
		  G_OPTION_ARG_INT,
		  &exec_workflows,
		  "… and this many workflows of each",
		  "N" },
		{ "threads", 0, 0, G_OPTION_ARG_INT, &n_threads, "Seeding threads", "N" },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("— seed a server data directory");
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqStore) store = NULL;
	g_autoptr(AiqAuth) auth = NULL;
	g_autofree gchar *store_path = NULL;
	g_autofree gchar *hash = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr(GString) pairs = g_string_new(NULL);
	g_autoptr(GString) ingest = g_string_new(NULL);
	BenchTenant *tenants;
	BenchSeed seed = { 0 };
	GThreadPool *pool;
	gint64 t0;
	gdouble secs;
	guint64 commits;
	guint64 writes;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		bench_die("seed", error);
	if (data_dir == NULL || out_dir == NULL || n_tenants < 1 || n_workflows < 1 ||
	    exec_tenants > n_tenants || exec_workflows > n_workflows ||
	    ingest_tenants > n_tenants) {
		g_printerr("aiq-bench-api seed: give --data and --out, and sensible counts\n");
		return 2;
	}
	if (g_mkdir_with_parents(data_dir, 0700) != 0 || g_mkdir_with_parents(out_dir, 0700) != 0) {
		g_printerr("aiq-bench-api seed: cannot create the directories\n");
		return 1;
	}
	store_path = g_build_filename(data_dir, "automateiq.db", NULL);
	store = aiq_store_new(store_path, &error);
	if (store == NULL)
		bench_die("store", error);
	auth = aiq_auth_new(store);
	hash = aiq_auth_hash_password(BENCH_PASSWORD, &error);
	if (hash == NULL)
		bench_die("hash", error);

	seed.store = store;
	seed.auth = auth;
	seed.password_hash = hash;
	seed.n_workflows = (guint)n_workflows;
	seed.schedule_every = (guint)MAX(schedule_every, 0);
	seed.ingest_tenants = (guint)MAX(ingest_tenants, 0);
	seed.now_us = g_get_real_time();
	tenants = g_new0(BenchTenant, n_tenants);
	t0 = g_get_monotonic_time();
	pool = g_thread_pool_new(bench_seed_tenant, &seed, MAX(n_threads, 1), FALSE, &error);
	if (pool == NULL)
		bench_die("threads", error);
	for (gint i = 0; i < n_tenants; i++) {
		tenants[i].index = (guint)i;
		g_thread_pool_push(pool, &tenants[i], NULL);
	}
	g_thread_pool_free(pool, FALSE, TRUE);
	secs = bench_seconds_since(t0);
	commits = aiq_store_get_commits(store);
	writes = aiq_store_get_writes(store);
	g_print("seeded %d tenants x %d workflows through the store API in %.1f s: %.0f "
		"workflows/s, %" G_GUINT64_FORMAT " writes in %" G_GUINT64_FORMAT
		" group commits (%.1f per commit, %d seeding threads)\n",
		n_tenants,
		n_workflows,
		secs,
		(gdouble)n_tenants * n_workflows / secs,
		writes,
		commits,
		(gdouble)writes / (gdouble)MAX(commits, 1),
		n_threads);

	for (gint i = 0; i < n_tenants; i++) {
		BenchTenant *t = &tenants[i];
		for (guint j = 0; j < t->workflows->len; j++)
			g_string_append_printf(pairs,
					       "%s %s\n",
					       t->key,
					       (const gchar *)g_ptr_array_index(t->workflows, j));
		if (t->admin_key != NULL) {
			g_string_append(ingest, t->admin_key);
			for (guint j = 0; j < MIN(t->workflows->len, 10); j++)
				g_string_append_printf(
					ingest,
					" %s",
					(const gchar *)g_ptr_array_index(t->workflows, j));
			g_string_append_c(ingest, '\n');
		}
	}
	path = g_build_filename(out_dir, "pairs.txt", NULL);
	bench_write_file(path, pairs);
	g_free(path);
	path = g_build_filename(out_dir, "ingest.txt", NULL);
	bench_write_file(path, ingest);

	if (!aiq_store_close(store, &error))
		bench_die("close the store", error);
	g_clear_object(&auth);
	g_clear_object(&store);
	if (n_executions > 0)
		bench_seed_executions(store_path,
				      tenants,
				      (guint)exec_tenants,
				      (guint)exec_workflows,
				      (guint)n_executions,
				      seed.now_us,
				      out_dir);
	for (gint i = 0; i < n_tenants; i++)
		bench_tenant_clear(&tenants[i]);
	g_free(tenants);
	return 0;
}

/* the ingest driver */

typedef struct {
	const gchar *base_url;
	GTlsDatabase *ca;
} BenchHttp;

typedef struct {
	gchar *execution_id;
	gint64 last_seq; /* the seq of its last event */
} BenchExecution;

typedef struct {
	guint index;
	const BenchHttp *http;
	gchar *admin_key;
	gchar **workflows;
	gchar *name;
	gchar *credential;
	gchar *agent_id;
	guint to_start;
	guint to_lease;
	guint items;
	guint batch_size;
	GPtrArray *executions; /* of BenchExecution */
	GPtrArray *jobs;       /* of JsonNode, the leased jobs */
	GPtrArray *bodies;     /* of GBytes, the batches */
	GPtrArray *batches;    /* of GHashTable execution id -> last seq in that batch */
	GArray *batch_events;  /* guint per batch */
	gint64 deadline;       /* monotonic */
	gdouble lease_secs;
	gint64 heartbeat_us;
	/* results */
	gint64 started_mono;
	gint64 finished_mono;
	guint64 events_posted;
	guint64 events_rejected;
	guint64 ack_mismatches;
	guint http_errors;
	gboolean completed; /* every batch posted, none failed */
	gchar *first_error;
	GArray *latencies; /* gdouble ms per batch */
} BenchAgent;

/* each thread has a session of its own, made and used on a main context of
 * its own, which bench_request() iterates after each request so that
 * whatever libsoup queued there (connection bookkeeping) is done */
static GMainContext *
bench_thread_context_push(void)
{
	GMainContext *context = g_main_context_new();
	g_main_context_push_thread_default(context);
	return context;
}

static void
bench_thread_context_pop(GMainContext *context)
{
	g_main_context_pop_thread_default(context);
	g_main_context_unref(context);
}

static SoupSession *
bench_session_new(const BenchHttp *http)
{
	/* the server's own self-signed certificate is the one trusted CA: TLS
	 * is verified as any client of this server would, hostname included */
	return soup_session_new_with_options("tls-database",
					     http->ca,
					     "timeout",
					     120,
					     "max-conns-per-host",
					     4,
					     NULL);
}

/* one request; %NULL with @error when the server is not reached or does
 * not answer @expected */
static JsonNode *
bench_request(SoupSession *session,
	      const BenchHttp *http,
	      const gchar *method,
	      const gchar *path,
	      const gchar *token,
	      GBytes *body,
	      guint expected,
	      GError **error)
{
	g_autofree gchar *url = g_strconcat(http->base_url, path, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GBytes) reply = NULL;
	gsize len = 0;
	const gchar *data;

	if (token != NULL) {
		g_autofree gchar *value = g_strdup_printf("Bearer %s", token);
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "Authorization",
					     value);
	}
	if (body != NULL)
		soup_message_set_request_body_from_bytes(msg, "application/json", body);
	/* libsoup sends a POST on a new connection (a new TLS handshake)
	 * unless it is marked idempotent, so that it is never replayed on a
	 * connection the server closed meanwhile; event batches are
	 * idempotent by (execution, seq), and here any failure ends the run */
	soup_message_add_flags(msg, SOUP_MESSAGE_IDEMPOTENT);
	reply = soup_session_send_and_read(session, msg, NULL, error);
	while (g_main_context_iteration(g_main_context_get_thread_default(), FALSE))
		;
	if (reply == NULL)
		return NULL;
	data = g_bytes_get_data(reply, &len);
	if (soup_message_get_status(msg) != expected) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "%s %s: HTTP %u: %.*s",
			    method,
			    path,
			    soup_message_get_status(msg),
			    (gint)MIN(len, 300),
			    data != NULL ? data : "");
		return NULL;
	}
	if (len == 0)
		return aiq_json_new_object(json_object_new());
	return aiq_json_parse(data, len, 64, error);
}

static GBytes *
bench_json_bytes(JsonObject *obj)
{
	g_autoptr(JsonNode) node = aiq_json_new_object(obj);
	gchar *text = aiq_json_to_string(node, FALSE);
	return g_bytes_new_take(text, strlen(text));
}

static void
bench_enroll(SoupSession *session, BenchAgent *agent)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) token = NULL;
	g_autoptr(JsonNode) enrolled = NULL;
	g_autoptr(GBytes) body = NULL;
	JsonObject *obj = json_object_new();
	JsonObject *reply;

	json_object_set_string_member(obj, "name", agent->name);
	body = bench_json_bytes(obj);
	token = bench_request(session,
			      agent->http,
			      "POST",
			      "/api/v1/enrollment-tokens",
			      agent->admin_key,
			      body,
			      SOUP_STATUS_CREATED,
			      &error);
	if (token == NULL)
		bench_die("enrollment token", error);
	g_bytes_unref(body);
	obj = json_object_new();
	json_object_set_string_member(
		obj,
		"token",
		aiq_json_object_get_string(json_node_get_object(token), "token"));
	json_object_set_string_member(obj, "name", agent->name);
	json_object_set_string_member(obj, "version", "bench");
	json_object_set_int_member(obj, "capacity", 100);
	body = bench_json_bytes(obj);
	enrolled = bench_request(session,
				 agent->http,
				 "POST",
				 "/api/v1/agents/enroll",
				 NULL,
				 body,
				 SOUP_STATUS_CREATED,
				 &error);
	if (enrolled == NULL)
		bench_die("enroll", error);
	reply = json_node_get_object(enrolled);
	agent->credential = g_strdup(aiq_json_object_get_string(reply, "credential"));
	agent->agent_id = g_strdup(aiq_json_object_get_string(reply, "agent_id"));
	agent->heartbeat_us = aiq_json_object_get_int(reply, "heartbeat_ms", 10000) * 1000;
}

static void
bench_start_agent(BenchAgent *agent)
{
	g_autoptr(SoupSession) session = bench_session_new(agent->http);
	guint n_workflows = g_strv_length(agent->workflows);

	for (guint i = 0; i < agent->to_start; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) reply = NULL;
		g_autoptr(GBytes) body = NULL;
		gsize len;
		g_autofree gchar *path =
			g_strdup_printf("/api/v1/workflows/%s/executions",
					agent->workflows[(agent->index + i) % n_workflows]);
		g_autofree gchar *text =
			g_strdup_printf("{\"inputs\":{\"since\":\"2026-01-%02u\"}}", 1 + i % 28);
		len = strlen(text);
		body = g_bytes_new_take(g_steal_pointer(&text), len);
		reply = bench_request(session,
				      agent->http,
				      "POST",
				      path,
				      agent->admin_key,
				      body,
				      SOUP_STATUS_CREATED,
				      &error);
		if (reply == NULL)
			bench_die("start an execution", error);
	}
}

/* the events of one execution, as wire-form JSON texts (docs/events.md),
 * made with printf: json-glib would take longer to make them than the
 * server takes to store them, and they are made before the clock starts */
typedef struct {
	gchar *id;
	gint64 seq;
	gint64 time_us;
	GPtrArray *texts; /* of gchar*, event seq - 1 → its JSON */
} BenchStream;

static void
bench_stream_free(BenchStream *stream)
{
	g_free(stream->id);
	g_ptr_array_unref(stream->texts);
	g_free(stream);
}

/* a JSON string literal, escaped */
static gchar *
bench_json_string(const gchar *text)
{
	g_autoptr(JsonNode) node = aiq_json_new_string(text != NULL ? text : "");
	return aiq_json_to_string(node, FALSE);
}

/* RFC 3339, UTC, microseconds, as aiq_time_to_iso8601() writes it */
static void
bench_append_time(GString *str, gint64 us)
{
	time_t secs = (time_t)(us / G_USEC_PER_SEC);
	struct tm tm;
	gmtime_r(&secs, &tm);
	g_string_append_printf(str,
			       "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
			       tm.tm_year + 1900,
			       tm.tm_mon + 1,
			       tm.tm_mday,
			       tm.tm_hour,
			       tm.tm_min,
			       tm.tm_sec,
			       (gint)(us % G_USEC_PER_SEC));
}

/* appends one event; @step_json is a JSON string literal; @data is an
 * object's JSON text or %NULL */
static void
bench_stream_add(BenchStream *stream,
		 const gchar *type,
		 const gchar *step_json,
		 gint item,
		 guint attempt,
		 const gchar *status,
		 const gchar *data)
{
	GString *str = g_string_sized_new(256);
	stream->seq++;
	stream->time_us += 1000 + (stream->seq % 7) * 137;
	g_string_append_printf(str,
			       "{\"execution_id\":\"%s\",\"seq\":%" G_GINT64_FORMAT
			       ",\"type\":\"%s\",\"time\":\"",
			       stream->id,
			       stream->seq,
			       type);
	bench_append_time(str, stream->time_us);
	g_string_append_c(str, '"');
	if (step_json != NULL)
		g_string_append_printf(str, ",\"step\":%s", step_json);
	if (item >= 0)
		g_string_append_printf(str, ",\"item\":%d", item);
	if (attempt > 0)
		g_string_append_printf(str, ",\"attempt\":%u", attempt);
	if (status != NULL)
		g_string_append_printf(str, ",\"status\":\"%s\"", status);
	if (data != NULL)
		g_string_append_printf(str, ",\"data\":%s", data);
	g_string_append_c(str, '}');
	g_ptr_array_add(stream->texts, g_string_free(str, FALSE));
}

/* the events an agent would journal for one leased job: created, started,
 * each step (a for_each step with @items items), finished; in the order the
 * engine writes them */
static BenchStream *
bench_job_events(JsonObject *job, guint items, gint64 base_us)
{
	BenchStream *stream = g_new0(BenchStream, 1);
	JsonObject *workflow = aiq_json_object_get_object(job, "workflow");
	JsonNode *definition = json_object_get_member(job, "definition");
	JsonNode *inputs = json_object_get_member(job, "inputs");
	JsonArray *steps = NULL;
	g_autofree gchar *name = bench_json_string(aiq_json_object_get_string(workflow, "name"));
	g_autofree gchar *trigger = bench_json_string(aiq_json_object_get_string(job, "trigger"));
	g_autofree gchar *inputs_json =
		inputs != NULL ? aiq_json_to_string(inputs, FALSE) : g_strdup("{}");
	g_autofree gchar *data = NULL;
	g_autoptr(GString) str = g_string_new(NULL);

	stream->id = g_strdup(aiq_json_object_get_string(job, "execution_id"));
	stream->time_us = base_us;
	stream->texts = g_ptr_array_new_with_free_func(g_free);
	if (definition != NULL && JSON_NODE_HOLDS_OBJECT(definition))
		steps = aiq_json_object_get_array(json_node_get_object(definition), "steps");

	data = g_strdup_printf("{\"workflow\":%s,\"inputs\":%s,\"trigger\":%s,\"labels\":[]}",
			       name,
			       inputs_json,
			       trigger);
	bench_stream_add(stream, "execution.created", NULL, -1, 0, NULL, data);
	bench_stream_add(stream, "execution.started", NULL, -1, 0, NULL, NULL);
	for (guint s = 0; steps != NULL && s < json_array_get_length(steps); s++) {
		JsonObject *step = json_array_get_object_element(steps, s);
		const gchar *step_id = aiq_json_object_get_string(step, "id");
		gboolean fan_out = json_object_has_member(step, "for_each");
		g_autofree gchar *step_json = bench_json_string(step_id);
		g_autofree gchar *key = g_strdup_printf("%s/%s", stream->id, step_id);
		g_autofree gchar *key_json = bench_json_string(key);

		g_string_printf(str, "{\"step_key\":%s", key_json);
		if (fan_out)
			g_string_append_printf(str, ",\"items\":%u", items);
		g_string_append_c(str, '}');
		bench_stream_add(stream, "step.started", step_json, -1, 0, NULL, str->str);
		if (fan_out) {
			g_autoptr(GString) results = g_string_new("{\"output\":[");
			for (guint i = 0; i < items; i++) {
				g_string_assign(str, "{\"started\":\"");
				bench_append_time(str, stream->time_us + 100);
				g_string_append_printf(
					str,
					"\",\"output_size\":36,\"output\":{\"changes\":"
					"1,\"last_insert_rowid\":%u}}",
					i + 1);
				bench_stream_add(stream,
						 "item.finished",
						 step_json,
						 (gint)i,
						 1,
						 "succeeded",
						 str->str);
				g_string_append_printf(results,
						       "%s{\"changes\":1,\"last_insert_rowid\":%u}",
						       i > 0 ? "," : "",
						       i + 1);
			}
			g_string_append(results, "]}");
			bench_stream_add(stream,
					 "step.finished",
					 step_json,
					 -1,
					 0,
					 "succeeded",
					 results->str);
		} else {
			g_string_assign(str, "{\"started\":\"");
			bench_append_time(str, stream->time_us + 100);
			g_string_append_printf(str,
					       "\",\"output_size\":28,\"output\":{\"status\":200,"
					       "\"rows\":%u}}",
					       items);
			bench_stream_add(stream,
					 "step.finished",
					 step_json,
					 -1,
					 1,
					 "succeeded",
					 str->str);
		}
	}
	g_string_printf(str, "{\"outputs\":{\"fetched\":%u,\"upserted\":%u}}", items, items);
	bench_stream_add(stream, "execution.finished", NULL, -1, 0, "succeeded", str->str);
	return stream;
}

static void
bench_execution_free(BenchExecution *execution)
{
	g_free(execution->execution_id);
	g_free(execution);
}

static void
bench_agent_add_batch(BenchAgent *agent, GString *body, guint n_events, GHashTable *last)
{
	g_string_append(body, "]}");
	g_ptr_array_add(agent->bodies, g_string_free_to_bytes(body));
	g_ptr_array_add(agent->batches, last);
	g_array_append_val(agent->batch_events, n_events);
}

/* leases this agent's share of jobs and turns them into batches: the
 * events of up to 8 executions running at once interleave, as in a real
 * agent's journal */
static void
bench_lease_agent(BenchAgent *agent)
{
	g_autoptr(SoupSession) session = bench_session_new(agent->http);
	g_autoptr(GPtrArray) streams =
		g_ptr_array_new_with_free_func((GDestroyNotify)bench_stream_free);
	g_autoptr(GArray) cursors = g_array_new(FALSE, TRUE, sizeof(guint));
	gint64 base_us = g_get_real_time();
	guint next = 0;
	GString *body = NULL;
	guint n_events = 0;
	GHashTable *last = NULL;
	gint64 t0 = g_get_monotonic_time();

	agent->jobs = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
	while (agent->jobs->len < agent->to_lease) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) reply = NULL;
		g_autoptr(GBytes) lease = NULL;
		JsonArray *jobs;
		JsonObject *obj = json_object_new();

		json_object_set_int_member(obj,
					   "capacity",
					   MIN(agent->to_lease - agent->jobs->len, 100));
		json_object_set_int_member(obj, "wait_ms", 0);
		lease = bench_json_bytes(obj);
		reply = bench_request(session,
				      agent->http,
				      "POST",
				      "/api/v1/agent/lease",
				      agent->credential,
				      lease,
				      SOUP_STATUS_OK,
				      &error);
		if (reply == NULL)
			bench_die("lease", error);
		jobs = aiq_json_object_get_array(json_node_get_object(reply), "jobs");
		if (jobs == NULL || json_array_get_length(jobs) == 0)
			break;
		for (guint i = 0; i < json_array_get_length(jobs); i++)
			g_ptr_array_add(agent->jobs,
					json_node_ref(json_array_get_element(jobs, i)));
	}
	agent->lease_secs = bench_seconds_since(t0);

	agent->executions = g_ptr_array_new_with_free_func((GDestroyNotify)bench_execution_free);
	for (guint i = 0; i < agent->jobs->len; i++) {
		JsonObject *job = json_node_get_object(g_ptr_array_index(agent->jobs, i));
		BenchStream *stream;
		BenchExecution *execution;
		/* a job whose events were partly applied before is not ours to
		 * replay from 1; there is none on a fresh store */
		if (aiq_json_object_get_int(job, "last_seq", 0) > 0)
			continue;
		stream = bench_job_events(job, agent->items, base_us + i * 1000);
		execution = g_new0(BenchExecution, 1);
		execution->execution_id = g_strdup(stream->id);
		execution->last_seq = stream->seq;
		g_ptr_array_add(streams, stream);
		g_ptr_array_add(agent->executions, execution);
	}
	g_array_set_size(cursors, streams->len);

	agent->bodies = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	agent->batches = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	agent->batch_events = g_array_new(FALSE, FALSE, sizeof(guint));
	while (next < streams->len) {
		/* round robin over a window of 8 running executions */
		guint window_end = MIN(next + 8, streams->len);
		for (guint s = next; s < window_end; s++) {
			BenchStream *stream = g_ptr_array_index(streams, s);
			guint *cursor = &g_array_index(cursors, guint, s);
			for (guint k = 0; k < 4 && *cursor < stream->texts->len; k++) {
				if (body == NULL) {
					body = g_string_sized_new(agent->batch_size * 300);
					g_string_append(body, "{\"events\":[");
					last = g_hash_table_new_full(g_str_hash,
								     g_str_equal,
								     g_free,
								     NULL);
					n_events = 0;
				}
				if (n_events > 0)
					g_string_append_c(body, ',');
				g_string_append(body, g_ptr_array_index(stream->texts, *cursor));
				n_events++;
				(*cursor)++;
				/* the seq of an event is its position + 1 */
				g_hash_table_replace(last,
						     g_strdup(stream->id),
						     GUINT_TO_POINTER(*cursor));
				if (n_events == agent->batch_size) {
					bench_agent_add_batch(agent, body, n_events, last);
					body = NULL;
					last = NULL;
				}
			}
		}
		while (next < streams->len &&
		       g_array_index(cursors, guint, next) >=
			       ((BenchStream *)g_ptr_array_index(streams, next))->texts->len)
			next++;
	}
	if (body != NULL)
		bench_agent_add_batch(agent, body, n_events, last);
}

/* renews the leases of the agent's executions, as the agent does every
 * heartbeat_ms while it runs them */
static void
bench_heartbeat(SoupSession *session, BenchAgent *agent)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) reply = NULL;
	g_autoptr(GBytes) body = NULL;
	JsonObject *obj = json_object_new();
	JsonArray *running = json_array_new();

	for (guint i = 0; i < agent->executions->len; i++) {
		BenchExecution *execution = g_ptr_array_index(agent->executions, i);
		json_array_add_string_element(running, execution->execution_id);
	}
	json_object_set_array_member(obj, "running", running);
	json_object_set_int_member(obj, "capacity", 100);
	body = bench_json_bytes(obj);
	reply = bench_request(session,
			      agent->http,
			      "POST",
			      "/api/v1/agent/heartbeat",
			      agent->credential,
			      body,
			      SOUP_STATUS_OK,
			      &error);
	if (reply == NULL) {
		agent->http_errors++;
		if (agent->first_error == NULL)
			agent->first_error = g_strdup(error->message);
	}
}

/* posts the batches one after another, as one agent syncing its journal,
 * with its heartbeats */
static void
bench_post_agent(BenchAgent *agent)
{
	g_autoptr(SoupSession) session = bench_session_new(agent->http);
	gint64 next_heartbeat;

	agent->latencies = g_array_new(FALSE, FALSE, sizeof(gdouble));
	/* the connection and TLS handshake are not part of the figure */
	{
		JsonNode *reply = bench_request(session,
						agent->http,
						"GET",
						"/healthz",
						NULL,
						NULL,
						SOUP_STATUS_OK,
						NULL);
		if (reply != NULL)
			json_node_unref(reply);
	}
	agent->started_mono = g_get_monotonic_time();
	/* the leases were taken a while ago, while the batches were made */
	bench_heartbeat(session, agent);
	next_heartbeat = g_get_monotonic_time() + agent->heartbeat_us;
	for (guint i = 0; i < agent->bodies->len; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) reply = NULL;
		GHashTable *expected = g_ptr_array_index(agent->batches, i);
		gint64 t0 = g_get_monotonic_time();
		JsonObject *acks;
		JsonArray *rejected;
		GHashTableIter iter;
		gpointer key;
		gpointer value;
		gdouble ms;

		if (t0 >= agent->deadline)
			break;
		if (t0 >= next_heartbeat) {
			bench_heartbeat(session, agent);
			next_heartbeat = g_get_monotonic_time() + agent->heartbeat_us;
			t0 = g_get_monotonic_time();
		}
		reply = bench_request(session,
				      agent->http,
				      "POST",
				      "/api/v1/agent/events",
				      agent->credential,
				      g_ptr_array_index(agent->bodies, i),
				      SOUP_STATUS_OK,
				      &error);
		ms = (gdouble)(g_get_monotonic_time() - t0) / 1000.0;
		g_array_append_val(agent->latencies, ms);
		if (reply == NULL) {
			agent->http_errors++;
			if (agent->first_error == NULL)
				agent->first_error = g_strdup(error->message);
			continue;
		}
		agent->events_posted += g_array_index(agent->batch_events, guint, i);
		acks = aiq_json_object_get_object(json_node_get_object(reply), "acks");
		rejected = aiq_json_object_get_array(json_node_get_object(reply), "rejected");
		if (rejected != NULL)
			agent->events_rejected += json_array_get_length(rejected);
		/* every event is new and in order: each execution is applied up
		 * to the last event of it this batch carried */
		g_hash_table_iter_init(&iter, expected);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			if (acks == NULL || aiq_json_object_get_int(acks, key, -1) !=
						    (gint64)GPOINTER_TO_UINT(value))
				agent->ack_mismatches++;
		}
	}
	agent->finished_mono = g_get_monotonic_time();
	agent->completed = agent->http_errors == 0 && agent->events_posted > 0 &&
			   agent->latencies->len == agent->bodies->len;
}

static void
bench_agent_clear(BenchAgent *agent)
{
	g_free(agent->admin_key);
	g_strfreev(agent->workflows);
	g_free(agent->name);
	g_free(agent->credential);
	g_free(agent->agent_id);
	g_free(agent->first_error);
	g_clear_pointer(&agent->executions, g_ptr_array_unref);
	g_clear_pointer(&agent->jobs, g_ptr_array_unref);
	g_clear_pointer(&agent->bodies, g_ptr_array_unref);
	g_clear_pointer(&agent->batches, g_ptr_array_unref);
	g_clear_pointer(&agent->batch_events, g_array_unref);
	g_clear_pointer(&agent->latencies, g_array_unref);
}

static gint
bench_cmp_double(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a;
	gdouble y = *(const gdouble *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

static gdouble
bench_percentile(GArray *sorted, gdouble p)
{
	guint idx;
	if (sorted->len == 0)
		return 0;
	idx = (guint)(p / 100.0 * (sorted->len - 1) + 0.5);
	return g_array_index(sorted, gdouble, MIN(idx, sorted->len - 1));
}

typedef void (*BenchAgentFunc)(BenchAgent *agent);

typedef struct {
	BenchAgent *agent;
	BenchAgentFunc func;
} BenchThread;

static gpointer
bench_thread_func(gpointer data)
{
	BenchThread *thread = data;
	GMainContext *context = bench_thread_context_push();
	thread->func(thread->agent);
	bench_thread_context_pop(context);
	return NULL;
}

/* @func for each agent, each in a thread of its own, all at once */
static void
bench_run_threads(BenchAgent *agents, guint n, BenchAgentFunc func, const gchar *name)
{
	g_autofree GThread **threads = g_new0(GThread *, n);
	g_autofree BenchThread *data = g_new0(BenchThread, n);
	for (guint i = 0; i < n; i++) {
		data[i].agent = &agents[i];
		data[i].func = func;
		threads[i] = g_thread_new(name, bench_thread_func, &data[i]);
	}
	for (guint i = 0; i < n; i++)
		g_thread_join(threads[i]);
}

static gint
bench_ingest(gint argc, gchar **argv)
{
	g_autofree gchar *url = NULL;
	g_autofree gchar *cert = NULL;
	g_autofree gchar *out_dir = NULL;
	gint agents_per_tenant = 2;
	gint executions = 130;
	gint items = 200;
	gint batch_size = 500;
	gdouble duration = 12;
	const GOptionEntry entries[] = {
		{ "url", 0, 0, G_OPTION_ARG_STRING, &url, "The server", "URL" },
		{ "cert", 0, 0, G_OPTION_ARG_FILENAME, &cert, "Its certificate (trusted)", "FILE" },
		{ "out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir, "The seed's files", "DIR" },
		{ "agents-per-tenant", 0, 0, G_OPTION_ARG_INT, &agents_per_tenant, "Agents", "N" },
		{ "executions", 0, 0, G_OPTION_ARG_INT, &executions, "Executions per agent", "N" },
		{ "items", 0, 0, G_OPTION_ARG_INT, &items, "for_each items per execution", "N" },
		{ "batch", 0, 0, G_OPTION_ARG_INT, &batch_size, "Events per batch", "N" },
		{ "duration",
		  0,
		  0,
		  G_OPTION_ARG_DOUBLE,
		  &duration,
		  "Most seconds of posting",
		  "S" },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("— the event ingest figure");
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsDatabase) ca = NULL;
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(GArray) latencies = g_array_new(FALSE, FALSE, sizeof(gdouble));
	g_autofree gchar *path = NULL;
	g_autofree gchar *contents = NULL;
	g_auto(GStrv) lines = NULL;
	BenchHttp http = { 0 };
	GMainContext *main_context;
	BenchAgent *agents;
	guint n_agents = 0;
	guint n_tenants = 0;
	guint64 posted = 0;
	guint64 rejected = 0;
	guint64 mismatches = 0;
	guint64 leased = 0;
	guint http_errors = 0;
	guint batches = 0;
	const gchar *first_error = NULL;
	gint64 first_start = G_MAXINT64;
	gint64 last_end = 0;
	gint64 t0;
	gdouble secs;
	gdouble t_enroll;
	gdouble t_start;
	gdouble t_lease = 0;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		bench_die("ingest", error);
	if (url == NULL || cert == NULL || out_dir == NULL || agents_per_tenant < 1 ||
	    executions < 1 || batch_size < 1 || batch_size > 1000) {
		g_printerr("aiq-bench-api ingest: give --url, --cert and --out\n");
		return 2;
	}
	ca = g_tls_file_database_new(cert, &error);
	if (ca == NULL)
		bench_die(cert, error);
	http.base_url = url;
	http.ca = ca;
	path = g_build_filename(out_dir, "ingest.txt", NULL);
	if (!g_file_get_contents(path, &contents, NULL, &error))
		bench_die("ingest.txt", error);
	lines = g_strsplit(g_strstrip(contents), "\n", -1);
	n_tenants = g_strv_length(lines);
	agents = g_new0(BenchAgent, n_tenants * agents_per_tenant);
	for (guint k = 0; k < n_tenants; k++) {
		g_auto(GStrv) fields = g_strsplit(lines[k], " ", -1);
		for (gint a = 0; a < agents_per_tenant; a++) {
			BenchAgent *agent = &agents[n_agents];
			agent->index = n_agents++;
			agent->http = &http;
			agent->admin_key = g_strdup(fields[0]);
			agent->workflows = g_strdupv(fields + 1);
			agent->name = g_strdup_printf("bench-agent-%u-%d", k, a);
			agent->to_start = (guint)executions;
			agent->to_lease = (guint)executions;
			agent->items = (guint)items;
			agent->batch_size = (guint)batch_size;
		}
	}

	/* setup, not measured: enroll, start, lease, make the batches */
	main_context = bench_thread_context_push();
	t0 = g_get_monotonic_time();
	session = bench_session_new(&http);
	for (guint i = 0; i < n_agents; i++)
		bench_enroll(session, &agents[i]);
	t_enroll = bench_seconds_since(t0);
	bench_run_threads(agents, n_agents, bench_start_agent, "bench-start");
	t_start = bench_seconds_since(t0) - t_enroll;
	bench_run_threads(agents, n_agents, bench_lease_agent, "bench-lease");
	for (guint i = 0; i < n_agents; i++) {
		leased += agents[i].executions->len;
		batches += agents[i].bodies->len;
		t_lease = MAX(t_lease, agents[i].lease_secs);
	}
	g_print("ingest setup: %u agents enrolled in %u tenants in %.1f s; %u executions "
		"started in %.1f s (%.0f/s); %" G_GUINT64_FORMAT " leased in %.1f s; %u batches "
		"made in %.1f s\n",
		n_agents,
		n_tenants,
		t_enroll,
		n_agents * (guint)executions,
		t_start,
		n_agents * (guint)executions / t_start,
		leased,
		t_lease,
		batches,
		bench_seconds_since(t0) - t_enroll - t_start - t_lease);

	/* the figure: every agent posts its batches, one at a time */
	t0 = g_get_monotonic_time();
	for (guint i = 0; i < n_agents; i++)
		agents[i].deadline = t0 + (gint64)(duration * G_USEC_PER_SEC);
	bench_run_threads(agents, n_agents, bench_post_agent, "bench-post");
	for (guint i = 0; i < n_agents; i++) {
		BenchAgent *agent = &agents[i];
		posted += agent->events_posted;
		rejected += agent->events_rejected;
		mismatches += agent->ack_mismatches;
		http_errors += agent->http_errors;
		if (first_error == NULL)
			first_error = agent->first_error;
		first_start = MIN(first_start, agent->started_mono);
		last_end = MAX(last_end, agent->finished_mono);
		g_array_append_vals(latencies, agent->latencies->data, agent->latencies->len);
	}
	g_array_sort(latencies, bench_cmp_double);
	secs = (gdouble)(last_end - first_start) / G_USEC_PER_SEC;

	/* one finished execution, read back: its events were applied */
	for (guint i = 0; i < n_agents; i++) {
		BenchExecution *execution;
		g_autofree gchar *exec_path = NULL;
		g_autoptr(JsonNode) reply = NULL;
		const gchar *status;
		if (!agents[i].completed || agents[i].executions->len == 0)
			continue;
		execution = g_ptr_array_index(agents[i].executions, 0);
		exec_path = g_strdup_printf("/api/v1/executions/%s", execution->execution_id);
		reply = bench_request(session,
				      &http,
				      "GET",
				      exec_path,
				      agents[i].admin_key,
				      NULL,
				      SOUP_STATUS_OK,
				      &error);
		if (reply == NULL)
			bench_die("read an execution back", error);
		status = aiq_json_object_get_string(json_node_get_object(reply), "status");
		if (g_strcmp0(status, "succeeded") != 0) {
			g_printerr("aiq-bench-api: execution %s is %s after all its events\n",
				   execution->execution_id,
				   status);
			return 1;
		}
		break;
	}

	/* one line for bench/api to parse */
	g_print("AIQ_INGEST events=%" G_GUINT64_FORMAT " seconds=%.3f rejected=%" G_GUINT64_FORMAT
		" ack_mismatches=%" G_GUINT64_FORMAT " http_errors=%u agents=%u batch=%d "
		"p50_ms=%.1f p99_ms=%.1f batches=%u\n",
		posted,
		secs,
		rejected,
		mismatches,
		http_errors,
		n_agents,
		batch_size,
		bench_percentile(latencies, 50),
		bench_percentile(latencies, 99),
		latencies->len);
	if (first_error != NULL)
		g_printerr("aiq-bench-api: first error: %s\n", first_error);
	for (guint i = 0; i < n_agents; i++)
		bench_agent_clear(&agents[i]);
	g_free(agents);
	g_clear_object(&session);
	bench_thread_context_pop(main_context);
	return 0;
}

static void
bench_hello_cb(SoupServer *server,
	       SoupServerMessage *msg,
	       const gchar *path,
	       GHashTable *query,
	       gpointer user_data)
{
	static const gchar body[] = "{\"hello\":\"world\"}";
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(msg,
					 "application/json",
					 SOUP_MEMORY_STATIC,
					 body,
					 sizeof(body) - 1);
}

static gint
bench_hello(gint argc, gchar **argv)
{
	gint port = 0;
	const GOptionEntry entries[] = {
		{ "port", 0, 0, G_OPTION_ARG_INT, &port, "Port on 127.0.0.1", "N" },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("— a bare libsoup3 hello world");
	g_autoptr(GError) error = NULL;
	g_autoptr(SoupServer) server = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GSList) uris = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		bench_die("hello", error);
	server = soup_server_new(NULL, NULL);
	soup_server_add_handler(server, NULL, bench_hello_cb, NULL, NULL);
	if (!soup_server_listen_local(server, (guint)port, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
		bench_die("hello", error);
	uris = soup_server_get_uris(server);
	if (uris != NULL) {
		g_autofree gchar *uri = g_uri_to_string(uris->data);
		g_print("hello world listening on %s\n", uri);
	}
	g_slist_free_full(g_steal_pointer(&uris), (GDestroyNotify)g_uri_unref);
	g_main_loop_run(loop);
	return 0;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		g_printerr("aiq-bench-api: libsodium does not start\n");
		return 1;
	}
	if (argc >= 2 && g_strcmp0(argv[1], "seed") == 0)
		return bench_seed(argc - 1, argv + 1);
	if (argc >= 2 && g_strcmp0(argv[1], "ingest") == 0)
		return bench_ingest(argc - 1, argv + 1);
	if (argc >= 2 && g_strcmp0(argv[1], "hello") == 0)
		return bench_hello(argc - 1, argv + 1);
	g_printerr("usage: aiq-bench-api seed|ingest|hello [OPTION…] (see bench/api)\n");
	return 2;
}
