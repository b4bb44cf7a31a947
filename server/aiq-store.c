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
static const gchar *const aiq_store_migrations[] = {
	/* 1 */
	"CREATE TABLE tenants ("
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
	") WITHOUT ROWID;",
	/* 2: a workflow's executions by status, e.g. its failed ones, straight
	 * from the index (bench/api: with a million executions the planner took
	 * the tenant's status index and filtered the workflow out row by row) */
	"CREATE INDEX executions_workflow_status ON executions "
	"(tenant_id, workflow_id, status, created, id);",
	/* 3: governance. A tenant's own limits (over its tier's); the audit
	 * log, append-only (rows leave only by retention or erasure); the day's
	 * count of executions, kept with each start so the quota check is one
	 * row; where archived executions went. */
	"ALTER TABLE tenants ADD COLUMN limits TEXT;"
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
	"CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log "
	"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
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
};

typedef struct {
	gint refcount;
	GMutex mutex;
	sqlite3 *db;
	GHashTable *stmts; /* sql -> sqlite3_stmt */
} AiqStoreReader;

typedef struct {
	AiqStoreWriteFunc func;
	gpointer user_data;
	GError *error;
	gboolean ok;
	gboolean done;
	/* a detached write: nobody waits; the writer frees it */
	GDestroyNotify destroy;
	gint64 queued_us; /* monotonic */
} AiqStoreWriteOp;

struct _AiqStoreTx {
	sqlite3 *db;
	GHashTable *stmts; /* sql -> sqlite3_stmt, the writer's */
};

struct _AiqStore {
	GObject parent_instance;
	gchar *filename;
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
	AiqStoreTimingFunc timing_func; /* under @mutex */
	gpointer timing_data;
	/* executions by status, as of the last commit; under @mutex */
	gint64 execution_counts[AIQ_EXECUTION_STATUS_LAST];
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
};

/* the WAL is checkpointed (copied into the database) when it has this many
 * pages; SQLite's own default, done off the writer thread */
#define AIQ_STORE_CHECKPOINT_PAGES 1000

G_DEFINE_TYPE(AiqStore, aiq_store, G_TYPE_OBJECT)

/* per thread: store serial -> AiqStoreReader */
static void
aiq_store_reader_unref(AiqStoreReader *reader);
static GPrivate aiq_store_thread_readers = G_PRIVATE_INIT((GDestroyNotify)g_hash_table_unref);
static gint aiq_store_next_serial = 1;

gboolean
aiq_store_set_sqlite_error(sqlite3 *db, gint rc, const gchar *what, GError **error)
{
	AiqError code = AIQ_ERROR_FAILED;
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		code = AIQ_ERROR_CONFLICT;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
		code = AIQ_ERROR_UNAVAILABLE;
		break;
	default:
		break;
	}
	g_set_error(error,
		    AIQ_ERROR,
		    code,
		    "%s: %s",
		    what,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return FALSE;
}

static gboolean
aiq_store_exec(sqlite3 *db, const gchar *sql, GError **error)
{
	gint rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return aiq_store_set_sqlite_error(db, rc, "store", error);
	return TRUE;
}

gboolean
aiq_store_step_row(sqlite3_stmt *stmt, const gchar *what, const gchar *id, GError **error)
{
	gint rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return TRUE;
	if (rc == SQLITE_DONE)
		g_set_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, _("no %s “%s”"), what, id);
	else
		aiq_store_set_sqlite_error(NULL, rc, what, error);
	return FALSE;
}

/**
 * aiq_store_step_count:
 *
 * sqlite3_step() to the one row of a `SELECT count(*)`, with an error
 * naming @what.
 */
gboolean
aiq_store_step_count(sqlite3_stmt *stmt, const gchar *what, gint64 *count, GError **error)
{
	gint rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		return aiq_store_set_sqlite_error(sqlite3_db_handle(stmt), rc, what, error);
	*count = sqlite3_column_int64(stmt, 0);
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

static void
aiq_store_stmt_finalize(gpointer stmt)
{
	sqlite3_finalize(stmt);
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

/**
 * aiq_store_read_prepare:
 *
 * Returns: (transfer none): a prepared statement of this thread's read
 * connection; reset it after use (`g_autoptr(AiqStmt)`)
 */
AiqStmt *
aiq_store_read_prepare(AiqStore *self, const gchar *sql, GError **error)
{
	GHashTable *readers = g_private_get(&aiq_store_thread_readers);
	AiqStoreReader *reader;
	sqlite3_stmt *stmt;
	gint rc;

	g_return_val_if_fail(AIQ_IS_STORE(self), NULL);

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
		if (!aiq_store_open_db(self, SQLITE_OPEN_READONLY, &reader->db, error)) {
			aiq_store_reader_unref(reader);
			return NULL;
		}
		reader->stmts = g_hash_table_new_full(g_str_hash,
						      g_str_equal,
						      g_free,
						      aiq_store_stmt_finalize);
		g_mutex_lock(&self->mutex);
		if (self->closed) {
			g_mutex_unlock(&self->mutex);
			aiq_store_reader_unref(reader);
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_UNAVAILABLE,
					    _("the store is closed"));
			return NULL;
		}
		g_ptr_array_add(self->readers, aiq_store_reader_ref(reader));
		g_mutex_unlock(&self->mutex);
		*key = (gint64)self->serial;
		g_hash_table_insert(readers, g_steal_pointer(&key), reader);
	}
	if (reader->db == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAVAILABLE,
				    _("the store is closed"));
		return NULL;
	}
	stmt = g_hash_table_lookup(reader->stmts, sql);
	if (stmt != NULL)
		return stmt;
	rc = sqlite3_prepare_v3(reader->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
	if (rc != SQLITE_OK) {
		aiq_store_set_sqlite_error(reader->db, rc, "prepare", error);
		return NULL;
	}
	g_hash_table_insert(reader->stmts, g_strdup(sql), stmt);
	return stmt;
}

AiqStmt *
aiq_store_tx_prepare(AiqStoreTx *tx, const gchar *sql, GError **error)
{
	sqlite3_stmt *stmt = g_hash_table_lookup(tx->stmts, sql);
	gint rc;
	if (stmt != NULL) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		return stmt;
	}
	rc = sqlite3_prepare_v3(tx->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
	if (rc != SQLITE_OK) {
		aiq_store_set_sqlite_error(tx->db, rc, "prepare", error);
		return NULL;
	}
	g_hash_table_insert(tx->stmts, g_strdup(sql), stmt);
	return stmt;
}

sqlite3 *
aiq_store_tx_get_db(AiqStoreTx *tx)
{
	return tx->db;
}

gboolean
aiq_store_tx_exec(AiqStoreTx *tx, sqlite3_stmt *stmt, const gchar *what, GError **error)
{
	gint rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return aiq_store_set_sqlite_error(tx->db, rc, what, error);
	return TRUE;
}

gboolean
aiq_store_tx_exec_existing(AiqStoreTx *tx,
			   sqlite3_stmt *stmt,
			   const gchar *what,
			   const gchar *id,
			   GError **error)
{
	if (!aiq_store_tx_exec(tx, stmt, what, error))
		return FALSE;
	if (sqlite3_changes(tx->db) == 0) {
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
	sqlite3_stmt *stmt = aiq_store_tx_prepare(tx, sql, NULL);
	if (stmt == NULL) {
		sqlite3_exec(tx->db, sql, NULL, NULL, NULL);
		return;
	}
	sqlite3_step(stmt);
	sqlite3_reset(stmt);
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

/* on the writer thread, outside a transaction */
static gboolean
aiq_store_read_execution_counts(AiqStore *self, gint64 counts[AIQ_EXECUTION_STATUS_LAST])
{
	sqlite3_stmt *stmt = aiq_store_tx_prepare(&self->tx,
						  "SELECT status, n FROM temp.execution_counts",
						  NULL);
	gint rc;
	if (stmt == NULL)
		return FALSE;
	memset(counts, 0, sizeof(gint64) * AIQ_EXECUTION_STATUS_LAST);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		AiqExecutionStatus status;
		if (aiq_execution_status_from_string((const gchar *)sqlite3_column_text(stmt, 0),
						     &status))
			counts[status] = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE;
}

/* the writer thread: everything queued runs in one transaction */
static gpointer
aiq_store_writer_thread(gpointer user_data)
{
	AiqStore *self = AIQ_STORE(user_data);

	for (;;) {
		g_autoptr(GPtrArray) batch = g_ptr_array_new();
		g_autoptr(GError) commit_error = NULL;
		gint64 counts[AIQ_EXECUTION_STATUS_LAST];
		gint64 begin_us, end_us;
		gboolean counted;

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
		if (aiq_store_exec(self->tx.db, "BEGIN IMMEDIATE", &commit_error)) {
			for (guint i = 0; i < batch->len; i++) {
				AiqStoreWriteOp *op = g_ptr_array_index(batch, i);
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
			if (!aiq_store_exec(self->tx.db, "COMMIT", &commit_error))
				sqlite3_exec(self->tx.db, "ROLLBACK", NULL, NULL, NULL);
		}
		end_us = g_get_monotonic_time();
		counted = commit_error == NULL && aiq_store_read_execution_counts(self, counts);

		g_mutex_lock(&self->mutex);
		if (counted)
			memcpy(self->execution_counts, counts, sizeof(counts));
		if (self->timing_func != NULL) {
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
				g_clear_error(&op->error);
				op->destroy(op->user_data);
				g_free(op);
				continue;
			}
			op->done = TRUE;
		}
		if (commit_error == NULL) {
			self->commits++;
			self->writes += batch->len;
		} else {
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
 *
 * Runs @func on the writer thread, in a savepoint of the next group
 * transaction, and waits until that transaction is committed.
 */
gboolean
aiq_store_write(AiqStore *self, AiqStoreWriteFunc func, gpointer user_data, GError **error)
{
	AiqStoreWriteOp op = { .func = func,
			       .user_data = user_data,
			       .queued_us = g_get_monotonic_time() };

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	g_return_val_if_fail(func != NULL, FALSE);

	g_mutex_lock(&self->mutex);
	if (self->stopping || self->closed) {
		g_mutex_unlock(&self->mutex);
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAVAILABLE,
				    _("the store is closed"));
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

/**
 * aiq_store_write_detached:
 * @destroy: frees @user_data once the write is committed (or failed)
 *
 * Like aiq_store_write(), without waiting: the write joins the next group
 * and a failure is logged. Writes are committed in the order they are
 * queued, so an aiq_store_write() queued later sees this one.
 */
void
aiq_store_write_detached(AiqStore *self,
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
	return aiq_store_write(self, aiq_store_barrier_cb, NULL, error);
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
		return aiq_store_set_sqlite_error(db, SQLITE_ERROR, "store", error);
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
		return aiq_store_set_sqlite_error(db, SQLITE_ERROR, "schema_version", error);
	if (version > (gint64)G_N_ELEMENTS(aiq_store_migrations)) {
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
	for (gint64 v = version; v < (gint64)G_N_ELEMENTS(aiq_store_migrations); v++) {
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
		    !aiq_store_exec(db, aiq_store_migrations[v], error) ||
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

/**
 * aiq_store_new:
 * @filename: the SQLite file; created with the current schema when missing
 */
AiqStore *
aiq_store_new(const gchar *filename, GError **error)
{
	g_autoptr(AiqStore) self = NULL;
	g_return_val_if_fail(filename != NULL, NULL);

	self = g_object_new(AIQ_TYPE_STORE, NULL);
	self->filename = g_strdup(filename);
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
		aiq_store_set_sqlite_error(self->tx.db, SQLITE_ERROR, "execution counts", error);
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
	g_autoptr(AiqStmt) stmt = aiq_store_read_prepare(self, "SELECT 1", error);
	gint rc;
	if (stmt == NULL)
		return FALSE;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		return aiq_store_set_sqlite_error(NULL, rc, "store", error);
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
 * Costs a copy, not a query (see aiq_store_execution_counts_sql).
 */
void
aiq_store_get_execution_counts(AiqStore *self, gint64 counts[AIQ_EXECUTION_STATUS_LAST])
{
	g_return_if_fail(AIQ_IS_STORE(self));
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
	gint rc;

	g_return_val_if_fail(AIQ_IS_STORE(self), FALSE);
	stmt = aiq_store_read_prepare(self,
				      "SELECT count(*) FROM agents "
				      "WHERE status = 'active' AND last_seen >= ?1",
				      error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, since_us);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		return aiq_store_set_sqlite_error(NULL, rc, "agents", error);
	*count = sqlite3_column_int64(stmt, 0);
	return TRUE;
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
	if (self->lock_fd >= 0) {
		close(self->lock_fd);
		self->lock_fd = -1;
	}
	return TRUE;
}

gboolean
aiq_store_step_rows(sqlite3_stmt *stmt,
		    AiqStoreRowFunc from_row,
		    GPtrArray *result,
		    const gchar *what,
		    GError **error)
{
	gint rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(result, from_row(stmt));
	if (rc != SQLITE_DONE)
		return aiq_store_set_sqlite_error(NULL, rc, what, error);
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
aiq_store_step_page(sqlite3_stmt *stmt,
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
aiq_store_bind_text(sqlite3_stmt *stmt, gint idx, const gchar *text)
{
	if (text != NULL)
		sqlite3_bind_text(stmt, idx, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, idx);
}

void
aiq_store_bind_json(sqlite3_stmt *stmt, gint idx, JsonNode *node)
{
	if (node == NULL) {
		sqlite3_bind_null(stmt, idx);
		return;
	}
	sqlite3_bind_text(stmt, idx, aiq_json_to_string(node, FALSE), -1, g_free);
}

void
aiq_store_bind_strv(sqlite3_stmt *stmt, gint idx, gchar **strv)
{
	g_autoptr(JsonArray) array = NULL;
	g_autoptr(JsonNode) node = NULL;
	if (strv == NULL) {
		sqlite3_bind_null(stmt, idx);
		return;
	}
	array = json_array_new();
	for (guint i = 0; strv[i] != NULL; i++)
		json_array_add_string_element(array, strv[i]);
	node = aiq_json_new_array(json_array_ref(array));
	aiq_store_bind_json(stmt, idx, node);
}

gchar *
aiq_store_column_text(sqlite3_stmt *stmt, gint idx)
{
	return g_strdup((const gchar *)sqlite3_column_text(stmt, idx));
}

JsonNode *
aiq_store_column_json(sqlite3_stmt *stmt, gint idx)
{
	const gchar *text = (const gchar *)sqlite3_column_text(stmt, idx);
	if (text == NULL)
		return NULL;
	return aiq_json_parse(text, strlen(text), 2 * AIQ_JSON_MAX_DEPTH, NULL);
}

gchar **
aiq_store_column_strv(sqlite3_stmt *stmt, gint idx)
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
	g_mutex_init(&self->checkpoint_mutex);
	g_cond_init(&self->checkpoint_cond);
	g_queue_init(&self->ops);
	self->lock_fd = -1;
	self->readers = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_store_reader_unref);
	self->tx.stmts =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, aiq_store_stmt_finalize);
	self->serial = (guint64)g_atomic_int_add(&aiq_store_next_serial, 1);
}
