/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-db-private.h"
#include "aiq-store-private.h"

/* 'AIQS' marks the server's store */
#define AIQ_STORE_APPLICATION_ID 0x41495153
/* writes committed together at most */
#define AIQ_STORE_GROUP_MAX 2000

/*
 * The schema. Each migration brings it from version N to N + 1 in one
 * transaction; a database is never dropped or rebuilt to fix a migration.
 * tenant_id leads every key and index of tenant-owned tables; tenants is the
 * one platform table.
 */
typedef struct {
	const gchar *sql;      /* both backends (SQLite's types, see aiq_store_pg_ddl()) */
	const gchar *sqlite;   /* SQLite only */
	const gchar *postgres; /* PostgreSQL only */
} AiqStoreMigration;

static const AiqStoreMigration aiq_store_migrations[] = {
	/* 1 */
	{ "CREATE TABLE tenants ("
	  "  id TEXT PRIMARY KEY,"
	  "  slug TEXT NOT NULL UNIQUE,"
	  "  name TEXT NOT NULL,"
	  "  tier TEXT NOT NULL,"
	  "  retention_days INTEGER NOT NULL,"
	  "  status TEXT NOT NULL,"
	  "  created INTEGER NOT NULL,"
	  "  updated INTEGER NOT NULL"
	  ") WITHOUT ROWID;"

	  "CREATE TABLE users ("
	  "  tenant_id TEXT NOT NULL,"
	  "  id TEXT NOT NULL,"
	  "  username TEXT NOT NULL,"
	  "  display_name TEXT,"
	  "  role TEXT NOT NULL,"
	  "  password_hash TEXT NOT NULL,"
	  "  disabled INTEGER NOT NULL DEFAULT 0,"
	  "  created INTEGER NOT NULL,"
	  "  updated INTEGER NOT NULL,"
	  "  last_login INTEGER,"
	  "  PRIMARY KEY (tenant_id, id),"
	  "  UNIQUE (tenant_id, username)"
	  ") WITHOUT ROWID;"

	  /* sessions, API keys, agent credentials and enrollment tokens: only the
	   * SHA-256 of a token is kept; the token itself names its tenant */
	  "CREATE TABLE tokens ("
	  "  tenant_id TEXT NOT NULL,"
	  "  hash BLOB NOT NULL,"
	  "  id TEXT NOT NULL,"
	  "  kind TEXT NOT NULL,"
	  "  subject_id TEXT,"
	  "  role TEXT,"
	  "  name TEXT,"
	  "  created INTEGER NOT NULL,"
	  "  expires INTEGER,"
	  "  last_used INTEGER,"
	  "  revoked INTEGER NOT NULL DEFAULT 0,"
	  "  data TEXT,"
	  "  PRIMARY KEY (tenant_id, hash),"
	  "  UNIQUE (tenant_id, id)"
	  ") WITHOUT ROWID;"
	  "CREATE INDEX tokens_subject ON tokens (tenant_id, kind, subject_id);"

	  "CREATE TABLE workflows ("
	  "  tenant_id TEXT NOT NULL,"
	  "  id TEXT NOT NULL,"
	  "  name TEXT NOT NULL,"
	  "  description TEXT,"
	  "  labels TEXT,"
	  "  enabled INTEGER NOT NULL DEFAULT 1,"
	  "  latest_version INTEGER NOT NULL,"
	  "  created INTEGER NOT NULL,"
	  "  updated INTEGER NOT NULL,"
	  "  deleted INTEGER NOT NULL DEFAULT 0,"
	  "  PRIMARY KEY (tenant_id, id)"
	  ") WITHOUT ROWID;"
	  "CREATE UNIQUE INDEX workflows_name ON workflows (tenant_id, name) WHERE deleted = 0;"
	  "CREATE INDEX workflows_created ON workflows (tenant_id, created, id);"

	  "CREATE TABLE workflow_versions ("
	  "  tenant_id TEXT NOT NULL,"
	  "  workflow_id TEXT NOT NULL,"
	  "  version INTEGER NOT NULL,"
	  "  definition TEXT NOT NULL,"
	  "  digest TEXT NOT NULL,"
	  "  author TEXT,"
	  "  created INTEGER NOT NULL,"
	  "  PRIMARY KEY (tenant_id, workflow_id, version)"
	  ") WITHOUT ROWID;"

	  "CREATE TABLE webhooks ("
	  "  tenant_id TEXT NOT NULL,"
	  "  workflow_id TEXT NOT NULL,"
	  "  token_hash BLOB NOT NULL,"
	  "  secret TEXT,"
	  "  created INTEGER NOT NULL,"
	  "  PRIMARY KEY (tenant_id, workflow_id),"
	  "  UNIQUE (tenant_id, token_hash)"
	  ") WITHOUT ROWID;"

	  "CREATE TABLE executions ("
	  "  tenant_id TEXT NOT NULL,"
	  "  id TEXT NOT NULL,"
	  "  workflow_id TEXT NOT NULL,"
	  "  workflow_name TEXT NOT NULL,"
	  "  version INTEGER NOT NULL,"
	  "  status TEXT NOT NULL,"
	  "  trigger TEXT NOT NULL,"
	  "  inputs TEXT,"
	  "  idempotency_key TEXT,"
	  "  request_digest TEXT,"
	  "  retry_of TEXT,"
	  "  created INTEGER NOT NULL,"
	  "  started INTEGER,"
	  "  finished INTEGER,"
	  "  error_code TEXT,"
	  "  error_message TEXT,"
	  "  outputs TEXT,"
	  "  agent_id TEXT,"
	  "  last_seq INTEGER NOT NULL DEFAULT 0,"
	  "  cancel_requested INTEGER NOT NULL DEFAULT 0,"
	  "  PRIMARY KEY (tenant_id, id)"
	  ") WITHOUT ROWID;"
	  "CREATE INDEX executions_created ON executions (tenant_id, created, id);"
	  "CREATE INDEX executions_workflow ON executions (tenant_id, workflow_id, created, id);"
	  "CREATE INDEX executions_status ON executions (tenant_id, status, created, id);"
	  "CREATE UNIQUE INDEX executions_idempotency ON executions (tenant_id, workflow_id, "
	  "idempotency_key) WHERE idempotency_key IS NOT NULL;"

	  "CREATE TABLE execution_steps ("
	  "  tenant_id TEXT NOT NULL,"
	  "  execution_id TEXT NOT NULL,"
	  "  step_id TEXT NOT NULL,"
	  "  position INTEGER NOT NULL,"
	  "  status TEXT NOT NULL,"
	  "  attempts INTEGER NOT NULL DEFAULT 0,"
	  "  started INTEGER,"
	  "  finished INTEGER,"
	  "  output TEXT,"
	  "  output_size INTEGER,"
	  "  error_code TEXT,"
	  "  error_message TEXT,"
	  "  skip_reason TEXT,"
	  "  attempt_log TEXT,"
	  "  PRIMARY KEY (tenant_id, execution_id, step_id)"
	  ") WITHOUT ROWID;"

	  "CREATE TABLE execution_events ("
	  "  tenant_id TEXT NOT NULL,"
	  "  execution_id TEXT NOT NULL,"
	  "  seq INTEGER NOT NULL,"
	  "  type TEXT NOT NULL,"
	  "  time INTEGER NOT NULL,"
	  "  step_id TEXT,"
	  "  item INTEGER,"
	  "  attempt INTEGER,"
	  "  status TEXT,"
	  "  data TEXT,"
	  "  PRIMARY KEY (tenant_id, execution_id, seq)"
	  ") WITHOUT ROWID;"

	  "CREATE TABLE jobs ("
	  "  tenant_id TEXT NOT NULL,"
	  "  id TEXT NOT NULL,"
	  "  execution_id TEXT NOT NULL,"
	  "  labels TEXT,"
	  "  tier_rank INTEGER NOT NULL,"
	  "  state TEXT NOT NULL,"
	  "  agent_id TEXT,"
	  "  lease_deadline INTEGER,"
	  "  enqueued INTEGER NOT NULL,"
	  "  leased_at INTEGER,"
	  "  expiries INTEGER NOT NULL DEFAULT 0,"
	  "  completed TEXT,"
	  "  PRIMARY KEY (tenant_id, id)"
	  ") WITHOUT ROWID;"
	  "CREATE UNIQUE INDEX jobs_execution ON jobs (tenant_id, execution_id);"
	  "CREATE INDEX jobs_state ON jobs (tenant_id, state, enqueued, id);"
	  "CREATE INDEX jobs_agent ON jobs (tenant_id, agent_id, state);"

	  "CREATE TABLE agents ("
	  "  tenant_id TEXT NOT NULL,"
	  "  id TEXT NOT NULL,"
	  "  name TEXT NOT NULL,"
	  "  labels TEXT,"
	  "  version TEXT,"
	  "  status TEXT NOT NULL,"
	  "  capacity INTEGER NOT NULL DEFAULT 0,"
	  "  running TEXT,"
	  "  created INTEGER NOT NULL,"
	  "  last_seen INTEGER,"
	  "  PRIMARY KEY (tenant_id, id)"
	  ") WITHOUT ROWID;"

	  "CREATE TABLE schedule_state ("
	  "  tenant_id TEXT NOT NULL,"
	  "  workflow_id TEXT NOT NULL,"
	  "  trigger_index INTEGER NOT NULL,"
	  "  last_fire INTEGER NOT NULL,"
	  "  PRIMARY KEY (tenant_id, workflow_id, trigger_index)"
	  ") WITHOUT ROWID;"

	  "CREATE TABLE schedule_fires ("
	  "  tenant_id TEXT NOT NULL,"
	  "  workflow_id TEXT NOT NULL,"
	  "  trigger_index INTEGER NOT NULL,"
	  "  fire_time INTEGER NOT NULL,"
	  "  execution_id TEXT,"
	  "  PRIMARY KEY (tenant_id, workflow_id, trigger_index, fire_time)"
	  ") WITHOUT ROWID;" },
	/* 2: a workflow's executions by status, e.g. its failed ones, straight
	 * from the index (bench/api: with a million executions the planner took
	 * the tenant's status index and filtered the workflow out row by row) */
	{ "CREATE INDEX executions_workflow_status ON executions "
	  "(tenant_id, workflow_id, status, created, id);" },
	/* 3: governance. A tenant's own limits (over its tier's); the audit
	 * log, append-only (rows leave only by retention or erasure); the day's
	 * count of executions, kept with each start so the quota check is one
	 * row; where archived executions went. */
	{ "ALTER TABLE tenants ADD COLUMN limits TEXT;"
	  "CREATE TABLE audit_log ("
	  "  tenant_id TEXT NOT NULL,"
	  "  id TEXT NOT NULL,"
	  "  time INTEGER NOT NULL,"
	  "  actor_type TEXT NOT NULL,"
	  "  actor_id TEXT,"
	  "  actor_name TEXT,"
	  "  action TEXT NOT NULL,"
	  "  target_type TEXT,"
	  "  target_id TEXT,"
	  "  request_id TEXT,"
	  "  source TEXT,"
	  "  outcome TEXT NOT NULL,"
	  "  status INTEGER,"
	  "  details TEXT,"
	  "  PRIMARY KEY (tenant_id, id)"
	  ") WITHOUT ROWID;"
	  "CREATE INDEX audit_log_time ON audit_log (tenant_id, time, id);"
	  "CREATE TABLE usage_daily ("
	  "  tenant_id TEXT NOT NULL,"
	  "  day INTEGER NOT NULL,"
	  "  executions INTEGER NOT NULL DEFAULT 0,"
	  "  PRIMARY KEY (tenant_id, day)"
	  ") WITHOUT ROWID;"
	  "CREATE TABLE execution_archive ("
	  "  tenant_id TEXT NOT NULL,"
	  "  execution_id TEXT NOT NULL,"
	  "  day INTEGER NOT NULL,"
	  "  archived INTEGER NOT NULL,"
	  "  PRIMARY KEY (tenant_id, execution_id)"
	  ") WITHOUT ROWID;"
	  "CREATE INDEX execution_archive_day ON execution_archive (tenant_id, day);",
	  "CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log "
	  "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
	  "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
	  "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;"
	  "CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log "
	  "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();" },
	/* 4: replicas. The leases of every tenant by deadline (each replica
	 * sweeps those of replicas that died) and a cloud worker's leased
	 * executions by id; partial, so only leased jobs are in them. */
	{ "CREATE INDEX jobs_leased ON jobs (lease_deadline) WHERE state = 'leased';"
	  "CREATE INDEX jobs_leased_execution ON jobs (execution_id) WHERE state = 'leased';" },
};

typedef struct {
	gint refcount;
	GMutex mutex;
	sqlite3 *db;          /* SQLite: this thread's read connection */
	GHashTable *stmts;    /* sql -> AiqStmt, of reads */
	GHashTable *tx_stmts; /* PostgreSQL: sql -> AiqStmt, of this thread's writes */
} AiqStoreReader;

typedef struct {
	AiqStoreWriteFunc func;
	gpointer user_data;
	gchar *tenant_id;
	GError *error;
	gboolean ok;
	gboolean done;
	/* a detached write: nobody waits; the writer frees it */
	GDestroyNotify destroy;
	gint64 queued_us; /* monotonic */
} AiqStoreWriteOp;

struct _AiqStoreTx {
	AiqDbBackend backend;
	const gchar *tenant_id;
	sqlite3 *db;            /* SQLite: the writer's connection */
	GHashTable *stmts;      /* SQLite: sql -> AiqStmt, the writer's */
	AiqPg *pg;              /* PostgreSQL: the store's pool */
	AiqPgConn *conn;        /* PostgreSQL: the write's connection */
	AiqStoreReader *reader; /* PostgreSQL: this thread's statements */
};

struct _AiqStore {
	GObject parent_instance;
	AiqDbBackend backend;
	gchar *filename; /* or PostgreSQL's URI without its password */
	guint64 serial;
	GMutex mutex;
	GCond cond;      /* work for the writer */
	GCond done_cond; /* a group was committed */
	GQueue ops;
	gboolean stopping;
	gboolean closed;
	GThread *writer;
	AiqStoreTx tx;
	GPtrArray *readers; /* of AiqStoreReader, under @mutex */
	guint64 commits;
	guint64 writes;
	guint64 retries; /* PostgreSQL: writes run again after a serialization failure */
	AiqStoreTimingFunc timing_func; /* under @mutex */
	gpointer timing_data;
	/* executions by status, as of the last commit (SQLite) or count
	 * (PostgreSQL, at most every AIQ_STORE_PG_COUNTS_US); under @mutex */
	gint64 execution_counts[AIQ_EXECUTION_STATUS_LAST];
	gint64 execution_counts_us;
	gint schedules_generation; /* atomic */
	gint lock_fd;              /* FILENAME.lock, held while open */
	/* checkpoints run on a thread of their own, not in the writer's commits */
	GThread *checkpointer;
	GMutex checkpoint_mutex;
	GCond checkpoint_cond;
	gint wal_pages;               /* under @checkpoint_mutex */
	gboolean checkpoint_stopping; /* under @checkpoint_mutex */
	gboolean checkpointing;       /* a passive one runs; under @checkpoint_mutex */
	gboolean restarting;          /* the writer restarts the WAL; under @checkpoint_mutex */
	AiqPg *pg;                    /* PostgreSQL's pool */
	GHashTable *serial_tenants;   /* tenant ids in a serialised write; under @mutex */
	GCond serial_cond;
};

/* the WAL is checkpointed (copied into the database) when it has this many
 * pages; SQLite's own default, done off the writer thread */
#define AIQ_STORE_CHECKPOINT_PAGES 1000
/* PostgreSQL: how stale the metrics' execution counts may be */
#define AIQ_STORE_PG_COUNTS_US (5 * G_USEC_PER_SEC)
/* PostgreSQL: a write that hit a serialization failure or deadlock runs
 * this many times at most */
#define AIQ_STORE_PG_ATTEMPTS 5

G_DEFINE_TYPE(AiqStore, aiq_store, G_TYPE_OBJECT)

/* per thread: store serial -> AiqStoreReader */
static void
aiq_store_reader_unref(AiqStoreReader *reader);
static GPrivate aiq_store_thread_readers = G_PRIVATE_INIT((GDestroyNotify)g_hash_table_unref);
static gint aiq_store_next_serial = 1;

static gboolean
aiq_store_exec(sqlite3 *db, const gchar *sql, GError **error)
{
	gint rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return aiq_db_set_sqlite_error(db, rc, "store", error);
	return TRUE;
}

gboolean
aiq_store_step_row(AiqStmt *stmt, const gchar *what, const gchar *id, GError **error)
{
	AiqStmtStep rc = aiq_stmt_step(stmt);
	if (rc == AIQ_STMT_ROW)
		return TRUE;
	if (rc == AIQ_STMT_DONE)
		g_set_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, _("no %s “%s”"), what, id);
	else
		aiq_stmt_set_error(stmt, what, error);
	return FALSE;
}

/**
 * aiq_store_step_count:
 *
 * aiq_stmt_step() to the one row of a `SELECT count(*)`, with an error
 * naming @what.
 */
gboolean
aiq_store_step_count(AiqStmt *stmt, const gchar *what, gint64 *count, GError **error)
{
	if (aiq_stmt_step(stmt) != AIQ_STMT_ROW)
		return aiq_stmt_set_error(stmt, what, error);
	*count = aiq_stmt_column_int64(stmt, 0);
	return TRUE;
}

/**
 * aiq_store_set_quota_error:
 *
 * AIQ_ERROR_QUOTA_EXCEEDED for a create or start that @quota refuses.
 */
void
aiq_store_set_quota_error(GError **error, AiqLimit quota, gint64 limit, gint64 used)
{
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_QUOTA_EXCEEDED,
		    _("quota “%s” reached: %" PRId64 " of %" PRId64 " used"),
		    aiq_limit_to_string(quota),
		    used,
		    limit);
}

static GHashTable *
aiq_store_stmt_table_new(void)
{
	return g_hash_table_new_full(g_str_hash,
				     g_str_equal,
				     g_free,
				     (GDestroyNotify)aiq_stmt_free);
}

static AiqStoreReader *
aiq_store_reader_ref(AiqStoreReader *reader)
{
	g_atomic_int_inc(&reader->refcount);
	return reader;
}

static void
aiq_store_reader_close(AiqStoreReader *reader)
{
	g_mutex_lock(&reader->mutex);
	g_clear_pointer(&reader->stmts, g_hash_table_unref);
	g_clear_pointer(&reader->tx_stmts, g_hash_table_unref);
	g_clear_pointer(&reader->db, sqlite3_close);
	g_mutex_unlock(&reader->mutex);
}

static void
aiq_store_reader_unref(AiqStoreReader *reader)
{
	if (!g_atomic_int_dec_and_test(&reader->refcount))
		return;
	aiq_store_reader_close(reader);
	g_mutex_clear(&reader->mutex);
	g_free(reader);
}

static gboolean
aiq_store_open_db(AiqStore *self, gint flags, sqlite3 **db, GError **error)
{
	gint rc = sqlite3_open_v2(self->filename, db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    _("%s: cannot open the store: %s"),
			    self->filename,
			    *db != NULL ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
		g_clear_pointer(db, sqlite3_close);
		return FALSE;
	}
	sqlite3_busy_timeout(*db, 10000);
	return TRUE;
}

static void
aiq_store_set_closed_error(GError **error)
{
	g_set_error_literal(error, AIQ_ERROR, AIQ_ERROR_UNAVAILABLE, _("the store is closed"));
}

/* this thread's statements (and SQLite connection) for @self */
static AiqStoreReader *
aiq_store_get_reader(AiqStore *self, GError **error)
{
	GHashTable *readers = g_private_get(&aiq_store_thread_readers);
	AiqStoreReader *reader;

	if (readers == NULL) {
		readers = g_hash_table_new_full(g_int64_hash,
						g_int64_equal,
						g_free,
						(GDestroyNotify)aiq_store_reader_unref);
		g_private_set(&aiq_store_thread_readers, readers);
	}
	reader = g_hash_table_lookup(readers, &self->serial);
	if (reader == NULL) {
		g_autofree gint64 *key = g_new(gint64, 1);
		reader = g_new0(AiqStoreReader, 1);
		reader->refcount = 1;
		g_mutex_init(&reader->mutex);
		if (self->backend == AIQ_DB_SQLITE &&
		    !aiq_store_open_db(self, SQLITE_OPEN_READONLY, &reader->db, error)) {
			aiq_store_reader_unref(reader);
			return NULL;
		}
		reader->stmts = aiq_store_stmt_table_new();
		reader->tx_stmts = aiq_store_stmt_table_new();
		g_mutex_lock(&self->mutex);
		if (self->closed) {
			g_mutex_unlock(&self->mutex);
			aiq_store_reader_unref(reader);
			aiq_store_set_closed_error(error);
			return NULL;
		}
		g_ptr_array_add(self->readers, aiq_store_reader_ref(reader));
		g_mutex_unlock(&self->mutex);
		*key = (gint64)self->serial;
		g_hash_table_insert(readers, g_steal_pointer(&key), reader);
	}
	if (reader->stmts == NULL) {
		aiq_store_set_closed_error(error);
		return NULL;
	}
	return reader;
}

AiqDbBackend
aiq_store_get_backend(AiqStore *self)
{
	return self->backend;
}

/**
 * aiq_store_read_prepare:
 * @tenant_id: (nullable): whose rows the read may see, or
 *   %AIQ_STORE_ALL_TENANTS
 *
 * Returns: (transfer none): a statement of this thread's; reset it after
 * use (`g_autoptr(AiqStmt)`)
 */
AiqStmt *
aiq_store_read_prepare(AiqStore *self, const gchar *tenant_id, const gchar *sql, GError **error)
{
	AiqStoreReader *reader;
	AiqStmt *stmt;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);

	reader = aiq_store_get_reader(self, error);
	if (reader == NULL)
		return NULL;
	stmt = g_hash_table_lookup(reader->stmts, sql);
	if (stmt == NULL) {
		stmt = self->backend == AIQ_DB_SQLITE ? aiq_stmt_new_sqlite(reader->db, sql, error)
						      : aiq_stmt_new_pg(self->pg, sql);
		if (stmt == NULL)
			return NULL;
		g_hash_table_insert(reader->stmts, g_strdup(sql), stmt);
	}
	if (self->backend == AIQ_DB_POSTGRES)
		aiq_stmt_set_pg_scope(stmt, NULL, tenant_id);
	return stmt;
}

AiqStmt *
aiq_store_tx_prepare(AiqStoreTx *tx, const gchar *sql, GError **error)
{
	GHashTable *stmts = tx->backend == AIQ_DB_SQLITE ? tx->stmts : tx->reader->tx_stmts;
	AiqStmt *stmt = g_hash_table_lookup(stmts, sql);
	if (stmt != NULL) {
		aiq_stmt_reset(stmt);
	} else {
		stmt = tx->backend == AIQ_DB_SQLITE ? aiq_stmt_new_sqlite(tx->db, sql, error)
						    : aiq_stmt_new_pg(tx->pg, sql);
		if (stmt == NULL)
			return NULL;
		g_hash_table_insert(stmts, g_strdup(sql), stmt);
	}
	if (tx->backend == AIQ_DB_POSTGRES)
		aiq_stmt_set_pg_scope(stmt, tx->conn, tx->tenant_id);
	return stmt;
}

void
aiq_store_tenant_serial_enter(AiqStore *self, const gchar *tenant_id)
{
	if (self->backend != AIQ_DB_POSTGRES || tenant_id == NULL)
		return;
	g_mutex_lock(&self->mutex);
	while (g_hash_table_contains(self->serial_tenants, tenant_id))
		g_cond_wait(&self->serial_cond, &self->mutex);
	g_hash_table_add(self->serial_tenants, g_strdup(tenant_id));
	g_mutex_unlock(&self->mutex);
}

void
aiq_store_tenant_serial_leave(AiqStore *self, const gchar *tenant_id)
{
	if (self->backend != AIQ_DB_POSTGRES || tenant_id == NULL)
		return;
	g_mutex_lock(&self->mutex);
	g_hash_table_remove(self->serial_tenants, tenant_id);
	g_cond_broadcast(&self->serial_cond);
	g_mutex_unlock(&self->mutex);
}

AiqDbBackend
aiq_store_tx_get_backend(AiqStoreTx *tx)
{
	return tx->backend;
}

const gchar *
aiq_store_tx_get_tenant(AiqStoreTx *tx)
{
	return tx->tenant_id;
}

gboolean
aiq_store_tx_lock_tenant(AiqStoreTx *tx, const gchar *tenant_id, GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;
	if (tx->backend == AIQ_DB_SQLITE)
		return TRUE;
	stmt = aiq_store_tx_prepare(tx,
				    "SELECT pg_advisory_xact_lock(hashtextextended(?, 7341))",
				    error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_text(stmt, 1, tenant_id);
	if (aiq_stmt_step(stmt) == AIQ_STMT_ERROR)
		return aiq_stmt_set_error(stmt, "tenant lock", error);
	return TRUE;
}

gboolean
aiq_store_tx_exec(AiqStoreTx *tx, AiqStmt *stmt, const gchar *what, GError **error)
{
	AiqStmtStep rc = aiq_stmt_step(stmt);
	if (rc == AIQ_STMT_ERROR) {
		aiq_stmt_set_error(stmt, what, error);
		aiq_stmt_reset(stmt);
		return FALSE;
	}
	aiq_stmt_reset(stmt);
	return TRUE;
}

gboolean
aiq_store_tx_exec_existing(AiqStoreTx *tx,
			   AiqStmt *stmt,
			   const gchar *what,
			   const gchar *id,
			   GError **error)
{
	if (!aiq_store_tx_exec(tx, stmt, what, error))
		return FALSE;
	if (aiq_stmt_changes(stmt) == 0) {
		g_set_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, _("no %s “%s”"), what, id);
		return FALSE;
	}
	return TRUE;
}

/* a statement without results from the writer's cache of prepared ones
 * (sqlite3_exec() would parse it each time) */
static void
aiq_store_tx_run(AiqStoreTx *tx, const gchar *sql)
{
	AiqStmt *stmt = aiq_store_tx_prepare(tx, sql, NULL);
	if (stmt == NULL) {
		sqlite3_exec(tx->db, sql, NULL, NULL, NULL);
		return;
	}
	aiq_stmt_step(stmt);
	aiq_stmt_reset(stmt);
}

/*
 * Executions by status, for the metrics, without counting 100k rows at
 * each scrape: the writer's connection keeps the counts in a TEMP table,
 * counted once when the store opens and then moved by TEMP triggers on
 * the executions table (every write goes through this connection). Being
 * in the same transactions as the rows, they roll back with a failed
 * write or commit; the writer copies them out after each commit.
 */
static const gchar aiq_store_execution_counts_sql[] =
	"PRAGMA temp_store = MEMORY;"
	"CREATE TEMP TABLE execution_counts ("
	"  status TEXT PRIMARY KEY,"
	"  n INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO temp.execution_counts (status, n)"
	"  SELECT status, sum(n) FROM (SELECT status, count(*) AS n FROM main.executions"
	"  GROUP BY tenant_id, status) GROUP BY status;"
	"CREATE TEMP TRIGGER execution_counts_insert AFTER INSERT ON main.executions BEGIN"
	"  INSERT INTO execution_counts (status, n) VALUES (NEW.status, 1)"
	"    ON CONFLICT (status) DO UPDATE SET n = n + 1;"
	"END;"
	"CREATE TEMP TRIGGER execution_counts_delete AFTER DELETE ON main.executions BEGIN"
	"  UPDATE execution_counts SET n = n - 1 WHERE status = OLD.status;"
	"END;"
	"CREATE TEMP TRIGGER execution_counts_update AFTER UPDATE OF status ON main.executions"
	"  WHEN OLD.status IS NOT NEW.status BEGIN"
	"  UPDATE execution_counts SET n = n - 1 WHERE status = OLD.status;"
	"  INSERT INTO execution_counts (status, n) VALUES (NEW.status, 1)"
	"    ON CONFLICT (status) DO UPDATE SET n = n + 1;"
	"END;";

static gboolean
aiq_store_step_execution_counts(AiqStmt *stmt, gint64 counts[AIQ_EXECUTION_STATUS_LAST])
{
	AiqStmtStep rc;
	memset(counts, 0, sizeof(gint64) * AIQ_EXECUTION_STATUS_LAST);
	while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW) {
		AiqExecutionStatus status;
		if (aiq_execution_status_from_string(aiq_stmt_column_text(stmt, 0), &status))
			counts[status] = aiq_stmt_column_int64(stmt, 1);
	}
	aiq_stmt_reset(stmt);
	return rc == AIQ_STMT_DONE;
}

/* on the writer thread, outside a transaction */
static gboolean
aiq_store_read_execution_counts(AiqStore *self, gint64 counts[AIQ_EXECUTION_STATUS_LAST])
{
	AiqStmt *stmt = aiq_store_tx_prepare(&self->tx,
					     "SELECT status, n FROM temp.execution_counts",
					     NULL);
	if (stmt == NULL)
		return FALSE;
	return aiq_store_step_execution_counts(stmt, counts);
}

/* PostgreSQL: one write in a transaction of its own on a pooled
 * connection, on the calling thread; again after a serialization failure
 * or a deadlock */
static gboolean
aiq_store_pg_write(AiqStore *self,
		   const gchar *tenant_id,
		   AiqStoreWriteFunc func,
		   gpointer user_data,
		   GError **error)
{
	AiqStoreReader *reader = aiq_store_get_reader(self, error);
	if (reader == NULL)
		return FALSE;
	for (guint attempt = 1;; attempt++) {
		g_autoptr(GError) local = NULL;
		AiqStoreTx tx = { .backend = AIQ_DB_POSTGRES,
				  .tenant_id = tenant_id,
				  .pg = self->pg,
				  .reader = reader };
		gint64 begin_us = g_get_monotonic_time();
		gboolean ok;
		gboolean retry;

		tx.conn = aiq_pg_acquire(self->pg, error);
		if (tx.conn == NULL)
			return FALSE;
		ok = aiq_pg_conn_begin(tx.conn, tenant_id, &local);
		if (ok) {
			ok = func(&tx, user_data, &local);
			if (!ok && local == NULL)
				g_set_error_literal(&local,
						    AIQ_ERROR,
						    AIQ_ERROR_FAILED,
						    "write failed");
		}
		/* a statement that failed aborted the transaction: COMMIT would
		 * quietly roll it back */
		if (ok && PQtransactionStatus(aiq_pg_conn_get(tx.conn)) == PQTRANS_INERROR) {
			ok = FALSE;
			aiq_pg_set_error(aiq_pg_conn_get_sqlstate(tx.conn),
					 _("a statement of the write failed"),
					 "store",
					 &local);
		}
		if (ok)
			ok = aiq_pg_conn_exec(tx.conn, "COMMIT", &local);
		/* read before the ROLLBACK, which clears it */
		retry = !ok && attempt < AIQ_STORE_PG_ATTEMPTS &&
			(g_strcmp0(aiq_pg_conn_get_sqlstate(tx.conn), "40001") == 0 ||
			 g_strcmp0(aiq_pg_conn_get_sqlstate(tx.conn), "40P01") == 0);
		if (!ok && !aiq_pg_conn_is_broken(tx.conn) &&
		    PQtransactionStatus(aiq_pg_conn_get(tx.conn)) != PQTRANS_IDLE)
			aiq_pg_conn_exec(tx.conn, "ROLLBACK", NULL);
		aiq_pg_release(self->pg, tx.conn);

		g_mutex_lock(&self->mutex);
		if (ok) {
			gint64 duration_us = g_get_monotonic_time() - begin_us;
			self->commits++;
			self->writes++;
			if (self->timing_func != NULL) {
				self->timing_func(AIQ_STORE_TIMING_COMMIT,
						  duration_us,
						  self->timing_data);
				self->timing_func(AIQ_STORE_TIMING_WRITE_WAIT,
						  duration_us,
						  self->timing_data);
			}
		} else if (retry) {
			self->retries++;
		}
		g_mutex_unlock(&self->mutex);
		if (ok)
			return TRUE;
		if (!retry) {
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
		g_usleep((gulong)g_random_int_range(1000, 5000) * attempt);
	}
}

static void
aiq_store_sqlite_run_batch(AiqStore *self, GPtrArray *batch, GError **commit_error)
{
	if (!aiq_store_exec(self->tx.db, "BEGIN IMMEDIATE", commit_error))
		return;
	for (guint i = 0; i < batch->len; i++) {
		AiqStoreWriteOp *op = g_ptr_array_index(batch, i);
		self->tx.tenant_id = op->tenant_id;
		aiq_store_tx_run(&self->tx, "SAVEPOINT w");
		op->ok = op->func(&self->tx, op->user_data, &op->error);
		if (!op->ok) {
			if (op->error == NULL)
				g_set_error_literal(&op->error,
						    AIQ_ERROR,
						    AIQ_ERROR_FAILED,
						    "write failed");
			aiq_store_tx_run(&self->tx, "ROLLBACK TO w");
		}
		aiq_store_tx_run(&self->tx, "RELEASE w");
	}
	self->tx.tenant_id = NULL;
	if (!aiq_store_exec(self->tx.db, "COMMIT", commit_error))
		sqlite3_exec(self->tx.db, "ROLLBACK", NULL, NULL, NULL);
}

static void
aiq_store_write_op_free(AiqStoreWriteOp *op)
{
	g_clear_error(&op->error);
	g_free(op->tenant_id);
	g_free(op);
}

/* the writer thread. SQLite: everything queued runs in one transaction;
 * PostgreSQL: the detached writes and barriers, in their order */
static gpointer
aiq_store_writer_thread(gpointer user_data)
{
	AiqStore *self = AIQ_STORE(user_data);

	for (;;) {
		g_autoptr(GPtrArray) batch = g_ptr_array_new();
		g_autoptr(GError) commit_error = NULL;
		gint64 counts[AIQ_EXECUTION_STATUS_LAST];
		gint64 begin_us, end_us;
		gboolean counted = FALSE;
		gboolean sqlite = self->backend == AIQ_DB_SQLITE;

		g_mutex_lock(&self->mutex);
		while (g_queue_is_empty(&self->ops) && !self->stopping)
			g_cond_wait(&self->cond, &self->mutex);
		if (g_queue_is_empty(&self->ops)) {
			g_mutex_unlock(&self->mutex);
			break;
		}
		while (!g_queue_is_empty(&self->ops) && batch->len < AIQ_STORE_GROUP_MAX)
			g_ptr_array_add(batch, g_queue_pop_head(&self->ops));
		g_mutex_unlock(&self->mutex);

		begin_us = g_get_monotonic_time();
		if (sqlite) {
			aiq_store_sqlite_run_batch(self, batch, &commit_error);
		} else {
			for (guint i = 0; i < batch->len; i++) {
				AiqStoreWriteOp *op = g_ptr_array_index(batch, i);
				op->ok = aiq_store_pg_write(self,
							    op->tenant_id,
							    op->func,
							    op->user_data,
							    &op->error);
			}
		}
		end_us = g_get_monotonic_time();
		if (sqlite)
			counted = commit_error == NULL &&
				  aiq_store_read_execution_counts(self, counts);

		g_mutex_lock(&self->mutex);
		if (counted)
			memcpy(self->execution_counts, counts, sizeof(counts));
		if (sqlite && self->timing_func != NULL) {
			self->timing_func(AIQ_STORE_TIMING_COMMIT,
					  end_us - begin_us,
					  self->timing_data);
			for (guint i = 0; i < batch->len; i++) {
				AiqStoreWriteOp *op = g_ptr_array_index(batch, i);
				self->timing_func(AIQ_STORE_TIMING_WRITE_WAIT,
						  end_us - op->queued_us,
						  self->timing_data);
			}
		}
		for (guint i = 0; i < batch->len; i++) {
			AiqStoreWriteOp *op = g_ptr_array_index(batch, i);
			if (commit_error != NULL && op->ok) {
				op->ok = FALSE;
				op->error = g_error_copy(commit_error);
			}
			if (op->destroy != NULL) {
				if (!op->ok)
					g_warning("%s: a detached write failed: %s",
						  self->filename,
						  op->error->message);
				op->destroy(op->user_data);
				aiq_store_write_op_free(op);
				continue;
			}
			op->done = TRUE;
		}
		if (sqlite && commit_error == NULL) {
			self->commits++;
			self->writes += batch->len;
		} else if (commit_error != NULL) {
			g_warning("%s: %s", self->filename, commit_error->message);
		}
		g_cond_broadcast(&self->done_cond);
		g_mutex_unlock(&self->mutex);
	}
	return NULL;
}

/* after each commit, on the writer thread: wakes the checkpointer when
 * the WAL has grown enough */
static gint
aiq_store_wal_hook(gpointer user_data, sqlite3 *db, const gchar *name, gint n_pages)
{
	AiqStore *self = user_data;
	gboolean restart = n_pages >= AIQ_STORE_CHECKPOINT_PAGES * 16;
	g_mutex_lock(&self->checkpoint_mutex);
	self->wal_pages = n_pages;
	if (n_pages >= AIQ_STORE_CHECKPOINT_PAGES && !restart)
		g_cond_signal(&self->checkpoint_cond);
	/* the restart below would find the checkpointer's lock taken and give
	 * up at once (SQLITE_BUSY), leaving the WAL to grow under a slow disk:
	 * wait for a passive checkpoint to end, and keep the checkpointer from
	 * starting another until the restart is done */
	if (restart) {
		while (self->checkpointing)
			g_cond_wait(&self->checkpoint_cond, &self->checkpoint_mutex);
		self->restarting = TRUE;
	}
	g_mutex_unlock(&self->checkpoint_mutex);
	if (!restart)
		return SQLITE_OK;
	/* under writes without a pause the WAL never starts over (a
	 * checkpoint must catch up between two transactions): then the writer
	 * finishes one itself and the next transaction writes the WAL from its
	 * start; short, as the checkpointer did most of it */
	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	g_mutex_lock(&self->checkpoint_mutex);
	self->restarting = FALSE;
	self->wal_pages = 0;
	g_cond_broadcast(&self->checkpoint_cond);
	g_mutex_unlock(&self->checkpoint_mutex);
	return SQLITE_OK;
}

/* passive checkpoints on a connection of their own: they run beside the
 * writer (and its fsyncs) instead of inside its commits, which held every
 * waiting write back for the length of a checkpoint */
static gpointer
aiq_store_checkpointer_thread(gpointer user_data)
{
	AiqStore *self = AIQ_STORE(user_data);
	g_autoptr(GError) error = NULL;
	sqlite3 *db = NULL;

	/* a connection sees the WAL only once it has read the database */
	if (!aiq_store_open_db(self, SQLITE_OPEN_READWRITE, &db, &error) ||
	    !aiq_store_exec(db, "SELECT count(*) FROM sqlite_schema", &error)) {
		g_warning("%s: checkpoints: %s", self->filename, error->message);
		g_clear_pointer(&db, sqlite3_close);
	}
	g_mutex_lock(&self->checkpoint_mutex);
	for (;;) {
		while ((self->wal_pages < AIQ_STORE_CHECKPOINT_PAGES || self->restarting) &&
		       !self->checkpoint_stopping)
			g_cond_wait(&self->checkpoint_cond, &self->checkpoint_mutex);
		if (self->checkpoint_stopping)
			break;
		self->wal_pages = 0;
		self->checkpointing = TRUE;
		g_mutex_unlock(&self->checkpoint_mutex);
		if (db != NULL) {
			gint rc = sqlite3_wal_checkpoint_v2(db,
							    NULL,
							    SQLITE_CHECKPOINT_PASSIVE,
							    NULL,
							    NULL);
			if (rc != SQLITE_OK && rc != SQLITE_BUSY)
				g_warning("%s: checkpoint: %s", self->filename, sqlite3_errmsg(db));
		}
		g_mutex_lock(&self->checkpoint_mutex);
		self->checkpointing = FALSE;
		g_cond_broadcast(&self->checkpoint_cond);
	}
	g_mutex_unlock(&self->checkpoint_mutex);
	if (db != NULL)
		sqlite3_close(db);
	return NULL;
}

/**
 * aiq_store_write:
 * @tenant_id: (nullable): whose rows it writes, or %AIQ_STORE_ALL_TENANTS
 *
 * SQLite: runs @func on the writer thread, in a savepoint of the next
 * group transaction, and waits until that transaction is committed.
 * PostgreSQL: runs @func here, in a transaction of its own.
 */
gboolean
aiq_store_write(AiqStore *self,
		const gchar *tenant_id,
		AiqStoreWriteFunc func,
		gpointer user_data,
		GError **error)
{
	AiqStoreWriteOp op = { .func = func,
			       .user_data = user_data,
			       .queued_us = g_get_monotonic_time() };

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(func != NULL, FALSE);

	g_mutex_lock(&self->mutex);
	if (self->stopping || self->closed) {
		g_mutex_unlock(&self->mutex);
		aiq_store_set_closed_error(error);
		return FALSE;
	}
	if (self->backend == AIQ_DB_POSTGRES) {
		g_mutex_unlock(&self->mutex);
		return aiq_store_pg_write(self, tenant_id, func, user_data, error);
	}
	op.tenant_id = g_strdup(tenant_id);
	g_queue_push_tail(&self->ops, &op);
	g_cond_signal(&self->cond);
	while (!op.done)
		g_cond_wait(&self->done_cond, &self->mutex);
	g_mutex_unlock(&self->mutex);
	g_free(op.tenant_id);
	if (!op.ok) {
		g_propagate_error(error, op.error);
		return FALSE;
	}
	return TRUE;
}

/**
 * aiq_store_write_detached:
 * @destroy: frees @user_data once the write is committed (or failed)
 *
 * Like aiq_store_write(), without waiting: the write joins the next group
 * and a failure is logged. Writes are committed in the order they are
 * queued, so an aiq_store_sync() later sees this one.
 */
void
aiq_store_write_detached(AiqStore *self,
			 const gchar *tenant_id,
			 AiqStoreWriteFunc func,
			 gpointer user_data,
			 GDestroyNotify destroy)
{
	AiqStoreWriteOp *op;

	g_return_if_fail(AIQ_IS_STORE(self));
	g_return_if_fail(func != NULL && destroy != NULL);

	g_mutex_lock(&self->mutex);
	if (self->stopping || self->closed) {
		g_mutex_unlock(&self->mutex);
		g_warning("%s: a detached write after close was dropped", self->filename);
		destroy(user_data);
		return;
	}
	op = g_new0(AiqStoreWriteOp, 1);
	op->func = func;
	op->user_data = user_data;
	op->tenant_id = g_strdup(tenant_id);
	op->destroy = destroy;
	op->queued_us = g_get_monotonic_time();
	g_queue_push_tail(&self->ops, op);
	g_cond_signal(&self->cond);
	g_mutex_unlock(&self->mutex);
}

static gboolean
aiq_store_barrier_cb(AiqStoreTx *tx, gpointer user_data, GError **error)
{
	return TRUE;
}

/**
 * aiq_store_sync:
 *
 * Waits until every write queued before it is committed.
 */
gboolean
aiq_store_sync(AiqStore *self, GError **error)
{
	AiqStoreWriteOp op = { .func = aiq_store_barrier_cb, .queued_us = g_get_monotonic_time() };

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_mutex_lock(&self->mutex);
	if (self->stopping || self->closed) {
		g_mutex_unlock(&self->mutex);
		aiq_store_set_closed_error(error);
		return FALSE;
	}
	g_queue_push_tail(&self->ops, &op);
	g_cond_signal(&self->cond);
	while (!op.done)
		g_cond_wait(&self->done_cond, &self->mutex);
	g_mutex_unlock(&self->mutex);
	if (!op.ok) {
		g_propagate_error(error, op.error);
		return FALSE;
	}
	return TRUE;
}

/* the first column of the first row of @sql, read once (not cached) */
static gboolean
aiq_store_query_int64(sqlite3 *db, const gchar *sql, gint64 *value)
{
	sqlite3_stmt *stmt = NULL;
	gboolean ok = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
		      sqlite3_step(stmt) == SQLITE_ROW;
	if (ok)
		*value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return ok;
}

/* a store written by a newer server is refused, never migrated down */
static gboolean
aiq_store_check_not_newer(AiqStore *self, gint64 version, GError **error)
{
	if (version <= (gint64)G_N_ELEMENTS(aiq_store_migrations))
		return TRUE;
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_FAILED,
		    _("%s: written by a newer AutomateIQ (schema %" PRId64
		      ", this one knows %u); upgrade the server"),
		    self->filename,
		    version,
		    (guint)G_N_ELEMENTS(aiq_store_migrations));
	return FALSE;
}

static gboolean
aiq_store_migrate(AiqStore *self, GError **error)
{
	sqlite3 *db = self->tx.db;
	gint64 app_id = 0;
	gint64 n_tables = 0;
	gint64 version = 0;

	if (!aiq_store_query_int64(db, "PRAGMA application_id", &app_id)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    _("%s: not an AutomateIQ store: %s"),
			    self->filename,
			    sqlite3_errmsg(db));
		return FALSE;
	}
	if (!aiq_store_query_int64(db,
				   "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
				   &n_tables))
		return aiq_db_set_sqlite_error(db, SQLITE_ERROR, "store", error);
	if (app_id != AIQ_STORE_APPLICATION_ID && (app_id != 0 || n_tables > 0)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    _("%s: not an AutomateIQ store (it is another SQLite database)"),
			    self->filename);
		return FALSE;
	}
	if (!aiq_store_exec(db, "PRAGMA journal_mode=WAL", error) ||
	    !aiq_store_exec(db, "PRAGMA synchronous=FULL", error) ||
	    !aiq_store_exec(db, "PRAGMA foreign_keys=OFF", error))
		return FALSE;
	if (app_id == AIQ_STORE_APPLICATION_ID &&
	    !aiq_store_query_int64(db, "SELECT max(version) FROM schema_version", &version))
		return aiq_db_set_sqlite_error(db, SQLITE_ERROR, "schema_version", error);
	if (!aiq_store_check_not_newer(self, version, error))
		return FALSE;
	for (gint64 v = version; v < (gint64)G_N_ELEMENTS(aiq_store_migrations); v++) {
		const AiqStoreMigration *m = &aiq_store_migrations[v];
		g_autofree gchar *bump =
			g_strdup_printf("DELETE FROM schema_version;"
					"INSERT INTO schema_version VALUES (%" PRId64 ");"
					"PRAGMA application_id = %d;",
					v + 1,
					AIQ_STORE_APPLICATION_ID);
		if (!aiq_store_exec(db, "BEGIN IMMEDIATE", error))
			return FALSE;
		if ((v == 0 &&
		     !aiq_store_exec(db,
				     "CREATE TABLE schema_version (version INTEGER NOT NULL)",
				     error)) ||
		    !aiq_store_exec(db, m->sql, error) ||
		    (m->sqlite != NULL && !aiq_store_exec(db, m->sqlite, error)) ||
		    !aiq_store_exec(db, bump, error)) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			g_prefix_error(error,
				       _("migrating the store to schema %" PRId64 ": "),
				       v + 1);
			return FALSE;
		}
		if (!aiq_store_exec(db, "COMMIT", error))
			return FALSE;
		g_info("store migrated to schema %" PRId64, v + 1);
	}
	return TRUE;
}

/* the schema's SQLite text for PostgreSQL: the same tables with
 * PostgreSQL's types */
static gchar *
aiq_store_pg_ddl(const gchar *sql)
{
	g_autoptr(GString) str = g_string_new(sql);
	g_string_replace(str, ") WITHOUT ROWID", ")", 0);
	g_string_replace(str, " INTEGER", " BIGINT", 0);
	g_string_replace(str, " BLOB", " BYTEA", 0);
	return g_string_free(g_steal_pointer(&str), FALSE);
}

/* every table with a tenant_id: row-level security enabled and forced
 * (the owner too), one policy for reads and writes */
static const gchar aiq_store_pg_rls_sql[] =
	"DO $$ DECLARE t text; BEGIN"
	"  FOR t IN SELECT c.table_name FROM information_schema.columns c"
	"    JOIN information_schema.tables b ON b.table_schema = c.table_schema"
	"    AND b.table_name = c.table_name AND b.table_type = 'BASE TABLE'"
	"    WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' LOOP"
	"    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);"
	"    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);"
	"    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = current_schema()"
	"        AND tablename = t AND policyname = 'tenant_isolation') THEN"
	"      EXECUTE format('CREATE POLICY tenant_isolation ON %I"
	"        USING (tenant_id = current_setting(''app.tenant_id'', true)"
	"          OR current_setting(''app.all_tenants'', true) = ''on'')"
	"        WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true)"
	"          OR current_setting(''app.all_tenants'', true) = ''on'')', t);"
	"    END IF;"
	"  END LOOP;"
	"END $$;";

/**
 * aiq_store_pg_migrate:
 * @admin_uri: a role that owns the schema's tables (never the service's)
 * @service_role: the role the service connects as, granted the rows
 *
 * Brings the database to the current schema, one transaction per
 * version, under an advisory lock so that replicas starting together do
 * not migrate twice.
 */
static gboolean
aiq_store_pg_migrate(AiqStore *self,
		     const gchar *admin_uri,
		     const gchar *service_role,
		     GError **error)
{
	AiqPgOptions options = { .size = 1,
				 .acquire_ms = 1000,
				 .statement_ms = 0,
				 .connect_s = 10 };
	g_autoptr(GError) local = NULL;
	AiqPg *admin;
	AiqPgConn *conn;
	g_autofree gchar *version_text = NULL;
	g_autofree gchar *has_table = NULL;
	gint64 version = 0;
	gboolean ok = FALSE;

	/* no statement timeout: a migration may take long */
	options.statement_ms = 0;
	admin = aiq_pg_new(admin_uri, &options, error);
	if (admin == NULL) {
		g_prefix_error(error, "store-admin: ");
		return FALSE;
	}
	conn = aiq_pg_acquire(admin, error);
	if (conn == NULL)
		goto out;
	if (!aiq_pg_conn_exec(conn, "SELECT pg_advisory_lock(7341)", error))
		goto out;
	if (!aiq_pg_conn_query_text(conn,
				    "SELECT to_regclass('schema_version')::text",
				    NULL,
				    &has_table,
				    error))
		goto unlock;
	if (has_table != NULL &&
	    !aiq_pg_conn_query_text(conn,
				    "SELECT max(version)::text FROM schema_version",
				    NULL,
				    &version_text,
				    error))
		goto unlock;
	if (version_text != NULL)
		version = g_ascii_strtoll(version_text, NULL, 10);
	if (!aiq_store_check_not_newer(self, version, error))
		goto unlock;
	for (gint64 v = version; v < (gint64)G_N_ELEMENTS(aiq_store_migrations); v++) {
		const AiqStoreMigration *m = &aiq_store_migrations[v];
		g_autofree gchar *ddl = aiq_store_pg_ddl(m->sql);
		g_autofree gchar *bump =
			g_strdup_printf("DELETE FROM schema_version;"
					"INSERT INTO schema_version VALUES (%" PRId64 ")",
					v + 1);
		if (!aiq_pg_conn_exec(conn, "BEGIN", error))
			goto unlock;
		if ((v == 0 &&
		     !aiq_pg_conn_exec(conn,
				       "CREATE TABLE schema_version (version INTEGER NOT NULL)",
				       error)) ||
		    !aiq_pg_conn_exec(conn, ddl, error) ||
		    (m->postgres != NULL && !aiq_pg_conn_exec(conn, m->postgres, error)) ||
		    !aiq_pg_conn_exec(conn, bump, error)) {
			aiq_pg_conn_exec(conn, "ROLLBACK", NULL);
			g_prefix_error(error,
				       _("migrating the store to schema %" PRId64 ": "),
				       v + 1);
			goto unlock;
		}
		if (!aiq_pg_conn_exec(conn, "COMMIT", error))
			goto unlock;
		g_info("store migrated to schema %" PRId64, v + 1);
	}
	/* every time: tables of a newer schema get theirs too */
	{
		PGconn *pc = aiq_pg_conn_get(conn);
		g_autofree gchar *schema = NULL;
		g_autofree gchar *grants = NULL;
		gchar *role;
		gchar *quoted;
		/* current_schema is a function: GRANT wants the schema's name */
		if (!aiq_pg_conn_query_text(conn, "SELECT current_schema()", NULL, &schema, error))
			goto unlock;
		role = PQescapeIdentifier(pc, service_role, strlen(service_role));
		quoted = PQescapeIdentifier(pc, schema, strlen(schema));
		grants = g_strdup_printf("GRANT USAGE ON SCHEMA %1$s TO %2$s;"
					 "GRANT SELECT, INSERT, UPDATE, DELETE "
					 "ON ALL TABLES IN SCHEMA %1$s TO %2$s;"
					 "REVOKE ALL ON schema_version FROM %2$s;"
					 "GRANT SELECT ON schema_version TO %2$s;",
					 quoted,
					 role);
		PQfreemem(quoted);
		PQfreemem(role);
		if (!aiq_pg_conn_exec(conn, "BEGIN", error) ||
		    !aiq_pg_conn_exec(conn, aiq_store_pg_rls_sql, error) ||
		    !aiq_pg_conn_exec(conn, grants, error) ||
		    !aiq_pg_conn_exec(conn, "COMMIT", error)) {
			aiq_pg_conn_exec(conn, "ROLLBACK", NULL);
			g_prefix_error(error, _("row-level security: "));
			goto unlock;
		}
	}
	ok = TRUE;
unlock:
	if (!aiq_pg_conn_exec(conn, "SELECT pg_advisory_unlock(7341)", &local))
		g_debug("%s", local->message);
out:
	aiq_pg_release(admin, conn);
	aiq_pg_free(admin);
	return ok;
}

/* the service's role may not escape row-level security */
static gboolean
aiq_store_pg_check_role(AiqStore *self, gchar **role, GError **error)
{
	AiqPgConn *conn = aiq_pg_acquire(self->pg, error);
	g_autofree gchar *unsafe = NULL;
	g_autofree gchar *owned = NULL;
	gboolean ok = FALSE;

	if (conn == NULL)
		return FALSE;
	if (!aiq_pg_conn_query_text(conn, "SELECT current_user::text", NULL, role, error) ||
	    !aiq_pg_conn_query_text(conn,
				    "SELECT bool_or(rolsuper OR rolbypassrls)::text FROM pg_roles "
				    "WHERE pg_has_role(current_user, oid, 'MEMBER')",
				    NULL,
				    &unsafe,
				    error) ||
	    !aiq_pg_conn_query_text(
		    conn,
		    "SELECT string_agg(c.relname, ', ') FROM pg_class c "
		    "JOIN pg_namespace n ON n.oid = c.relnamespace "
		    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
		    "AND pg_has_role(current_user, c.relowner, 'MEMBER')",
		    NULL,
		    &owned,
		    error))
		goto out;
	if (g_strcmp0(unsafe, "true") == 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    _("%s: the role “%s” is (or is a member of) a superuser or a role that "
			      "bypasses row-level security; "
			      "connect as a role with NOSUPERUSER NOBYPASSRLS (see "
			      "docs/operations.md)"),
			    self->filename,
			    *role);
		goto out;
	}
	if (owned != NULL) {
		g_set_error(
			error,
			AIQ_ERROR,
			AIQ_ERROR_FAILED,
			_("%s: the role “%s” owns tables, or is a member of their owner (%s): the "
			  "service must connect as a role that owns none, and store-admin "
			  "name the owner"),
			self->filename,
			*role,
			owned);
		goto out;
	}
	ok = TRUE;
out:
	aiq_pg_release(self->pg, conn);
	return ok;
}

static gboolean
aiq_store_pg_check_version(AiqStore *self, GError **error)
{
	AiqPgConn *conn = aiq_pg_acquire(self->pg, error);
	g_autofree gchar *version = NULL;
	gboolean ok;
	if (conn == NULL)
		return FALSE;
	ok = aiq_pg_conn_query_text(
		conn,
		"SELECT CASE WHEN to_regclass('schema_version') IS NULL THEN '0' "
		"ELSE (SELECT max(version)::text FROM schema_version) END",
		NULL,
		&version,
		error);
	aiq_pg_release(self->pg, conn);
	if (!ok)
		return FALSE;
	if (g_ascii_strtoll(version != NULL ? version : "0", NULL, 10) !=
	    (gint64)G_N_ELEMENTS(aiq_store_migrations)) {
		g_set_error(
			error,
			AIQ_ERROR,
			AIQ_ERROR_FAILED,
			_("%s: the database has schema %s, this server needs %u: set store-admin "
			  "(the owner's connection) once to migrate it"),
			self->filename,
			version != NULL ? version : "0",
			(guint)G_N_ELEMENTS(aiq_store_migrations));
		return FALSE;
	}
	return TRUE;
}

/* one process at a time: a second server on the same store would run a
 * second scheduler and queue, and hand out the same jobs twice */
static gboolean
aiq_store_lock(AiqStore *self, GError **error)
{
	g_autofree gchar *path = g_strconcat(self->filename, ".lock", NULL);
	self->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (self->lock_fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    _("%s: cannot open: %s"),
			    path,
			    g_strerror(errsv));
		return FALSE;
	}
	if (flock(self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		gint errsv = errno;
		g_set_error(error,
			    AIQ_ERROR,
			    errsv == EWOULDBLOCK ? AIQ_ERROR_CONFLICT : AIQ_ERROR_FAILED,
			    errsv == EWOULDBLOCK
				    ? _("%s is in use by another process (another server?)")
				    : _("%s: cannot lock: %s"),
			    self->filename,
			    g_strerror(errsv));
		return FALSE;
	}
	return TRUE;
}

gboolean
aiq_store_location_is_postgres(const gchar *location)
{
	return location != NULL && (g_str_has_prefix(location, "postgresql://") ||
				    g_str_has_prefix(location, "postgres://"));
}

static AiqStore *
aiq_store_open_postgres(const gchar *uri, const AiqStoreOptions *options, GError **error)
{
	g_autoptr(AiqStore) self = g_object_new(AIQ_TYPE_STORE, NULL);
	AiqPgOptions pg_options = {
		.size = options->pool_size > 0 ? options->pool_size : 16,
		.acquire_ms = options->pool_timeout_ms > 0 ? options->pool_timeout_ms : 5000,
		.statement_ms =
			options->statement_timeout_ms > 0 ? options->statement_timeout_ms : 30000,
		.connect_s = 5,
	};
	g_autofree gchar *role = NULL;

	self->backend = AIQ_DB_POSTGRES;
	self->pg = aiq_pg_new(uri, &pg_options, error);
	if (self->pg == NULL)
		return NULL;
	self->filename = g_strdup(aiq_pg_get_display_name(self->pg));
	if (!aiq_store_pg_check_role(self, &role, error))
		return NULL;
	if (options->admin_uri != NULL) {
		g_autofree gchar *again = NULL;
		if (!aiq_store_pg_migrate(self, options->admin_uri, role, error))
			return NULL;
		/* a fresh database: the tables the migration just made may be
		 * the service role's own (store and store-admin the same role) */
		if (!aiq_store_pg_check_role(self, &again, error))
			return NULL;
	}
	if (!aiq_store_pg_check_version(self, error))
		return NULL;
	self->writer = g_thread_new("aiq-store-writer", aiq_store_writer_thread, self);
	return g_steal_pointer(&self);
}

/**
 * aiq_store_open:
 * @location: an SQLite file (created with the current schema when
 *   missing) or a `postgresql://` URI
 *
 * Returns: the store, migrated to the current schema
 */
AiqStore *
aiq_store_open(const gchar *location, const AiqStoreOptions *options, GError **error)
{
	g_autoptr(AiqStore) self = NULL;
	AiqStoreOptions defaults = { 0 };

	g_return_val_if_fail(location != NULL, NULL);
	if (options == NULL)
		options = &defaults;
	if (aiq_store_location_is_postgres(location))
		return aiq_store_open_postgres(location, options, error);

	self = g_object_new(AIQ_TYPE_STORE, NULL);
	self->filename = g_strdup(location);
	self->tx.backend = AIQ_DB_SQLITE;
	self->tx.stmts = aiq_store_stmt_table_new();
	if (!aiq_store_lock(self, error))
		return NULL;
	if (!aiq_store_open_db(self,
			       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			       &self->tx.db,
			       error))
		return NULL;
	if (!aiq_store_migrate(self, error))
		return NULL;
	if (!aiq_store_exec(self->tx.db, aiq_store_execution_counts_sql, error)) {
		g_prefix_error(error, "%s: counting executions: ", self->filename);
		return NULL;
	}
	if (!aiq_store_read_execution_counts(self, self->execution_counts)) {
		aiq_db_set_sqlite_error(self->tx.db, SQLITE_ERROR, "execution counts", error);
		return NULL;
	}
	if (!aiq_store_exec(self->tx.db, "PRAGMA wal_autocheckpoint=0", error))
		return NULL;
	sqlite3_wal_hook(self->tx.db, aiq_store_wal_hook, self);
	self->checkpointer =
		g_thread_new("aiq-store-checkpoints", aiq_store_checkpointer_thread, self);
	self->writer = g_thread_new("aiq-store-writer", aiq_store_writer_thread, self);
	return g_steal_pointer(&self);
}

/**
 * aiq_store_new:
 * @filename: the SQLite file; created with the current schema when missing
 */
AiqStore *
aiq_store_new(const gchar *filename, GError **error)
{
	return aiq_store_open(filename, NULL, error);
}

const gchar *
aiq_store_get_conninfo(AiqStore *self)
{
	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	return self->pg != NULL ? aiq_pg_get_conninfo(self->pg) : NULL;
}

const gchar *
aiq_store_get_filename(AiqStore *self)
{
	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);
	return self->filename;
}

/**
 * aiq_store_check:
 *
 * Returns: %TRUE when the store answers (for /readyz)
 */
gboolean
aiq_store_check(AiqStore *self, GError **error)
{
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(self, NULL, "SELECT 1", error);
	if (stmt == NULL)
		return FALSE;
	if (aiq_stmt_step(stmt) != AIQ_STMT_ROW)
		return aiq_stmt_set_error(stmt, "store", error);
	return TRUE;
}

guint64
aiq_store_get_commits(AiqStore *self)
{
	guint64 value;
	g_mutex_lock(&self->mutex);
	value = self->commits;
	g_mutex_unlock(&self->mutex);
	return value;
}

/**
 * aiq_store_get_schedules_generation:
 *
 * A number that changes whenever a write may have changed which schedules
 * exist: a workflow created, updated, enabled, disabled or deleted, a
 * tenant updated. The scheduler replans when it changes, rather than
 * reading every workflow every second.
 */
guint
aiq_store_get_schedules_generation(AiqStore *self)
{
	return (guint)g_atomic_int_get(&self->schedules_generation);
}

void
aiq_store_schedules_changed(AiqStore *self)
{
	g_atomic_int_inc(&self->schedules_generation);
}

guint64
aiq_store_get_writes(AiqStore *self)
{
	guint64 value;
	g_mutex_lock(&self->mutex);
	value = self->writes;
	g_mutex_unlock(&self->mutex);
	return value;
}

/**
 * aiq_store_get_execution_counts:
 * @counts: (out): the executions of every tenant, by AiqExecutionStatus,
 *   as of the last commit
 *
 * SQLite: costs a copy, not a query (see aiq_store_execution_counts_sql).
 * PostgreSQL (where other replicas write too): a count at most every 5 s.
 */
void
aiq_store_get_execution_counts(AiqStore *self, gint64 counts[AIQ_EXECUTION_STATUS_LAST])
{
	g_return_if_fail(AIQ_IS_STORE(self));
	if (self->backend == AIQ_DB_POSTGRES) {
		gint64 now_us = g_get_monotonic_time();
		gboolean stale;
		g_mutex_lock(&self->mutex);
		stale = self->execution_counts_us == 0 ||
			now_us - self->execution_counts_us > AIQ_STORE_PG_COUNTS_US;
		g_mutex_unlock(&self->mutex);
		if (stale) {
			gint64 fresh[AIQ_EXECUTION_STATUS_LAST];
			g_autoptr(GError) error = NULL;
			AiqStmt *stmt = aiq_store_read_prepare(
				self,
				AIQ_STORE_ALL_TENANTS,
				"SELECT status, count(*) FROM executions GROUP BY status",
				&error);
			if (stmt != NULL && aiq_store_step_execution_counts(stmt, fresh)) {
				g_mutex_lock(&self->mutex);
				memcpy(self->execution_counts, fresh, sizeof(fresh));
				self->execution_counts_us = now_us;
				g_mutex_unlock(&self->mutex);
			}
		}
	}
	g_mutex_lock(&self->mutex);
	memcpy(counts, self->execution_counts, sizeof(self->execution_counts));
	g_mutex_unlock(&self->mutex);
}

/**
 * aiq_store_count_agents_online:
 * @since_us: agents seen at or after this time count as online
 *
 * A platform-wide count, for the metrics: the active agents of every
 * tenant that were seen since @since_us.
 */
gboolean
aiq_store_count_agents_online(AiqStore *self, gint64 since_us, gint64 *count, GError **error)
{
	g_autoptr(AiqStmt) stmt = NULL;

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	stmt = aiq_store_read_prepare(self,
				      AIQ_STORE_ALL_TENANTS,
				      "SELECT count(*) FROM agents "
				      "WHERE status = 'active' AND last_seen >= ?1",
				      error);
	if (stmt == NULL)
		return FALSE;
	aiq_stmt_bind_int64(stmt, 1, since_us);
	return aiq_store_step_count(stmt, "agents", count, error);
}

/**
 * aiq_store_set_timing_func:
 * @func: (nullable): called after each commit with its duration and the
 *   wait of each of its writes; %NULL to stop
 *
 * For the metrics.
 */
void
aiq_store_set_timing_func(AiqStore *self, AiqStoreTimingFunc func, gpointer user_data)
{
	g_return_if_fail(AIQ_IS_STORE(self));
	g_mutex_lock(&self->mutex);
	self->timing_func = func;
	self->timing_data = user_data;
	g_mutex_unlock(&self->mutex);
}

static void
aiq_store_stop_checkpointer(AiqStore *self)
{
	if (self->checkpointer == NULL)
		return;
	g_mutex_lock(&self->checkpoint_mutex);
	self->checkpoint_stopping = TRUE;
	g_cond_signal(&self->checkpoint_cond);
	g_mutex_unlock(&self->checkpoint_mutex);
	g_thread_join(g_steal_pointer(&self->checkpointer));
}

/**
 * aiq_store_close:
 *
 * Commits what is queued, stops the writer and closes every connection.
 * Call it once no request uses the store any more.
 */
gboolean
aiq_store_close(AiqStore *self, GError **error)
{
	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_mutex_lock(&self->mutex);
	if (self->closed) {
		g_mutex_unlock(&self->mutex);
		return TRUE;
	}
	self->stopping = TRUE;
	g_cond_signal(&self->cond);
	g_mutex_unlock(&self->mutex);
	if (self->writer != NULL)
		g_thread_join(g_steal_pointer(&self->writer));
	aiq_store_stop_checkpointer(self);
	g_mutex_lock(&self->mutex);
	self->closed = TRUE;
	for (guint i = 0; i < self->readers->len; i++)
		aiq_store_reader_close(g_ptr_array_index(self->readers, i));
	g_mutex_unlock(&self->mutex);
	g_clear_pointer(&self->tx.stmts, g_hash_table_unref);
	if (self->tx.db != NULL) {
		/* leave a small WAL behind */
		sqlite3_exec(self->tx.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		g_clear_pointer(&self->tx.db, sqlite3_close);
	}
	g_clear_pointer(&self->pg, aiq_pg_free);
	if (self->lock_fd >= 0) {
		close(self->lock_fd);
		self->lock_fd = -1;
	}
	return TRUE;
}

gboolean
aiq_store_step_rows(AiqStmt *stmt,
		    AiqStoreRowFunc from_row,
		    GPtrArray *result,
		    const gchar *what,
		    GError **error)
{
	AiqStmtStep rc;
	while ((rc = aiq_stmt_step(stmt)) == AIQ_STMT_ROW)
		g_ptr_array_add(result, from_row(stmt));
	if (rc != AIQ_STMT_DONE)
		return aiq_stmt_set_error(stmt, what, error);
	return TRUE;
}

/**
 * aiq_store_step_page:
 * @stmt: a page's query, its LIMIT bound to @limit + 1, ordered by
 *   (created, id)
 * @created_offset: where the rows made by @from_row keep their gint64
 *   created time (G_STRUCT_OFFSET)
 * @id_offset: and their gchar * id
 *
 * Adds up to @limit rows to @result; @next_cursor is the position after the
 * last one kept when there are more, else %NULL.
 */
gboolean
aiq_store_step_page(AiqStmt *stmt,
		    guint limit,
		    AiqStoreRowFunc from_row,
		    glong created_offset,
		    glong id_offset,
		    GPtrArray *result,
		    const gchar *what,
		    gchar **next_cursor,
		    GError **error)
{
	if (!aiq_store_step_rows(stmt, from_row, result, what, error))
		return FALSE;
	if (next_cursor != NULL)
		*next_cursor = NULL;
	if (result->len > limit) {
		gpointer last;
		g_ptr_array_set_size(result, limit);
		last = g_ptr_array_index(result, limit - 1);
		if (next_cursor != NULL)
			*next_cursor = aiq_store_cursor_encode(
				G_STRUCT_MEMBER(gint64, last, created_offset),
				G_STRUCT_MEMBER(gchar *, last, id_offset));
	}
	return TRUE;
}

/**
 * aiq_store_cursor_encode:
 *
 * Returns: a cursor for the position after the row with @time_us and @id
 */
gchar *
aiq_store_cursor_encode(gint64 time_us, const gchar *id)
{
	g_autofree gchar *raw = g_strdup_printf("%" PRId64 ":%s", time_us, id);
	gchar *b64 = g_base64_encode((const guchar *)raw, strlen(raw));
	/* URL-safe, without padding */
	for (gchar *p = b64; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
	while (strlen(b64) > 0 && b64[strlen(b64) - 1] == '=')
		b64[strlen(b64) - 1] = '\0';
	return b64;
}

gboolean
aiq_store_cursor_decode(const gchar *cursor, gint64 *time_us, gchar **id, GError **error)
{
	g_autoptr(GString) b64 = NULL;
	g_autofree guchar *raw = NULL;
	g_autofree gchar *text = NULL;
	gsize len = 0;
	gchar *colon;
	gchar *end = NULL;

	if (cursor == NULL || strlen(cursor) == 0 || strlen(cursor) > 256)
		goto fail;
	b64 = g_string_new(cursor);
	for (gchar *p = b64->str; *p != '\0'; p++) {
		if (*p == '-')
			*p = '+';
		else if (*p == '_')
			*p = '/';
		else if (!g_ascii_isalnum(*p))
			goto fail;
	}
	while (b64->len % 4 != 0)
		g_string_append_c(b64, '=');
	raw = g_base64_decode(b64->str, &len);
	text = g_strndup((const gchar *)raw, len);
	colon = strchr(text, ':');
	if (colon == NULL || !g_utf8_validate(text, -1, NULL))
		goto fail;
	*colon = '\0';
	*time_us = g_ascii_strtoll(text, &end, 10);
	if (end == text || *end != '\0')
		goto fail;
	*id = g_strdup(colon + 1);
	return TRUE;
fail:
	g_set_error_literal(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("cursor: not a cursor this server gave"));
	return FALSE;
}

void
aiq_store_bind_json(AiqStmt *stmt, gint idx, JsonNode *node)
{
	g_autofree gchar *text = NULL;
	if (node == NULL) {
		aiq_stmt_bind_null(stmt, idx);
		return;
	}
	text = aiq_json_to_string(node, FALSE);
	aiq_stmt_bind_text(stmt, idx, text);
}

void
aiq_store_bind_strv(AiqStmt *stmt, gint idx, gchar **strv)
{
	g_autoptr(JsonArray) array = NULL;
	g_autoptr(JsonNode) node = NULL;
	if (strv == NULL) {
		aiq_stmt_bind_null(stmt, idx);
		return;
	}
	array = json_array_new();
	for (guint i = 0; strv[i] != NULL; i++)
		json_array_add_string_element(array, strv[i]);
	node = aiq_json_new_array(json_array_ref(array));
	aiq_store_bind_json(stmt, idx, node);
}

gchar *
aiq_store_column_text(AiqStmt *stmt, gint idx)
{
	return g_strdup(aiq_stmt_column_text(stmt, idx));
}

JsonNode *
aiq_store_column_json(AiqStmt *stmt, gint idx)
{
	const gchar *text = aiq_stmt_column_text(stmt, idx);
	if (text == NULL)
		return NULL;
	return aiq_json_parse(text, strlen(text), 2 * AIQ_JSON_MAX_DEPTH, NULL);
}

gchar **
aiq_store_column_strv(AiqStmt *stmt, gint idx)
{
	g_autoptr(JsonNode) node = aiq_store_column_json(stmt, idx);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	JsonArray *array;
	if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
		return g_strv_builder_end(builder);
	array = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *elem = json_array_get_element(array, i);
		if (aiq_json_is_string(elem))
			g_strv_builder_add(builder, json_node_get_string(elem));
	}
	return g_strv_builder_end(builder);
}

static void
aiq_store_finalize(GObject *object)
{
	AiqStore *self = AIQ_STORE(object);
	aiq_store_close(self, NULL);
	g_ptr_array_unref(self->readers);
	g_mutex_clear(&self->mutex);
	g_cond_clear(&self->cond);
	g_cond_clear(&self->done_cond);
	g_cond_clear(&self->serial_cond);
	g_hash_table_unref(self->serial_tenants);
	g_mutex_clear(&self->checkpoint_mutex);
	g_cond_clear(&self->checkpoint_cond);
	g_free(self->filename);
	G_OBJECT_CLASS(aiq_store_parent_class)->finalize(object);
}

static void
aiq_store_class_init(AiqStoreClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = aiq_store_finalize;
}

static void
aiq_store_init(AiqStore *self)
{
	g_mutex_init(&self->mutex);
	g_cond_init(&self->cond);
	g_cond_init(&self->done_cond);
	g_cond_init(&self->serial_cond);
	self->serial_tenants = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_mutex_init(&self->checkpoint_mutex);
	g_cond_init(&self->checkpoint_cond);
	g_queue_init(&self->ops);
	self->lock_fd = -1;
	self->readers = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_store_reader_unref);
	self->serial = (guint64)g_atomic_int_add(&aiq_store_next_serial, 1);
}
