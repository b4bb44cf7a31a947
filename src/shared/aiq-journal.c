/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <string.h>
#include <unistd.h>

#include "aiq-error.h"
#include "aiq-journal.h"
#include "aiq-json.h"

/* 'AIQJ' marks the file as ours */
#define AIQ_JOURNAL_APPLICATION_ID 0x41495141

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

typedef struct {
	guint64 lsn;
	AiqJournalDurableFunc func;
	gpointer user_data;
} AiqJournalWaiter;

struct _AiqJournal {
	GObject parent_instance;
	gchar *filename;
	gint lock_fd;
	sqlite3 *db;      /* the writer thread's */
	sqlite3 *read_db; /* the main context's */
	GMainContext *context;
	GThread *thread;

	/* shared with the writer thread, under @mutex */
	GMutex mutex;
	GCond cond;         /* work for the writer */
	GCond durable_cond; /* a commit happened */
	GPtrArray *pending; /* of AiqEvent */
	GArray *marks;      /* of AiqJournalMark: acks and forgets, before @pending */
	guint64 appended;
	guint64 durable;
	guint64 commits;
	gboolean stopping;
	gboolean notify_scheduled;
	GError *write_error;

	/* main context only */
	GQueue waiters;
	gboolean closed;

	/* writer thread only */
	sqlite3_stmt *stmt_event;
	sqlite3_stmt *stmt_definition;
	sqlite3_stmt *stmt_exec_created;
	sqlite3_stmt *stmt_exec_status;
	sqlite3_stmt *stmt_exec_finished;
	sqlite3_stmt *stmt_ack;
	sqlite3_stmt *stmt_prune_events;
	sqlite3_stmt *stmt_prune_execution;
	sqlite3_stmt *stmt_forget_events;
	sqlite3_stmt *stmt_forget_execution;
};

typedef struct {
	gchar *execution_id;
	gint64 seq;
	gboolean forget;
} AiqJournalMark;

static void
aiq_journal_mark_clear(gpointer data)
{
	AiqJournalMark *mark = data;
	g_free(mark->execution_id);
}

G_DEFINE_TYPE(AiqJournal, aiq_journal, G_TYPE_OBJECT)

void
aiq_journal_execution_free(AiqJournalExecution *exec)
{
	g_free(exec->id);
	g_free(exec->workflow);
	g_free(exec->status);
	g_free(exec);
}

static gboolean
aiq_journal_sqlite_error(AiqJournal *self, sqlite3 *db, const gchar *what, GError **error)
{
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_JOURNAL,
		    /* TRANSLATORS: FILE: failed to write events: disk is full */
		    _("%s: %s: %s"),
		    self->filename,
		    what,
		    sqlite3_errmsg(db));
	return FALSE;
}

static gboolean
aiq_journal_exec(AiqJournal *self, sqlite3 *db, const gchar *sql, GError **error)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return aiq_journal_sqlite_error(self, db, sql, error);
	return TRUE;
}

/* each migration brings the schema from version N to N + 1 */
static const gchar *const aiq_journal_migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE definitions ("
	"  digest TEXT PRIMARY KEY,"
	"  json TEXT NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE executions ("
	"  id TEXT PRIMARY KEY,"
	"  workflow TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  finished INTEGER"
	") WITHOUT ROWID;"
	"CREATE INDEX executions_unfinished ON executions(created) WHERE finished IS NULL;"
	"CREATE INDEX executions_created ON executions(created);"
	/* one b-tree keyed by (execution, seq): UUIDv7 ids keep it in time order */
	"CREATE TABLE events ("
	"  execution_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  step_id TEXT,"
	"  item INTEGER,"
	"  attempt INTEGER,"
	"  status TEXT,"
	"  data TEXT,"
	"  PRIMARY KEY (execution_id, seq)"
	") WITHOUT ROWID;",
	/* 2: the journal is the agent's outbox: what the server acknowledged */
	"ALTER TABLE executions ADD COLUMN acked_seq INTEGER NOT NULL DEFAULT 0;",
};

static gboolean
aiq_journal_migrate(AiqJournal *self, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint64 version = 0;
	gint app_id = 0;
	gint n_tables = 0;

	/* the first read tells a database from anything else */
	if (sqlite3_prepare_v2(self->db, "PRAGMA application_id", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: not an AutomateIQ journal: %s"),
			    self->filename,
			    sqlite3_errmsg(self->db));
		return FALSE;
	}
	app_id = sqlite3_column_int(stmt, 0);
	g_clear_pointer(&stmt, sqlite3_finalize);
	if (sqlite3_prepare_v2(self->db,
			       "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
			       -1,
			       &stmt,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW)
		return aiq_journal_sqlite_error(self, self->db, _("reading the schema"), error);
	n_tables = sqlite3_column_int(stmt, 0);
	g_clear_pointer(&stmt, sqlite3_finalize);
	if (app_id != AIQ_JOURNAL_APPLICATION_ID && (app_id != 0 || n_tables > 0)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: not an AutomateIQ journal (it is another SQLite database)"),
			    self->filename);
		return FALSE;
	}

	if (!aiq_journal_exec(self, self->db, "PRAGMA journal_mode=WAL", error))
		return FALSE;
	if (!aiq_journal_exec(self, self->db, "PRAGMA synchronous=FULL", error))
		return FALSE;
	/* a new file gets its version table, first schema and application id in
	 * one transaction: a crash part-way leaves an empty file, not a foreign one */
	if (app_id == AIQ_JOURNAL_APPLICATION_ID) {
		if (sqlite3_prepare_v2(self->db,
				       "SELECT max(version) FROM schema_version",
				       -1,
				       &stmt,
				       NULL) != SQLITE_OK ||
		    sqlite3_step(stmt) != SQLITE_ROW)
			return aiq_journal_sqlite_error(self,
							self->db,
							_("reading the schema version"),
							error);
		version = sqlite3_column_int64(stmt, 0);
		g_clear_pointer(&stmt, sqlite3_finalize);
	}
	if (version > (gint64)G_N_ELEMENTS(aiq_journal_migrations)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: written by a newer version of AutomateIQ (schema %" PRId64
			      ", this version knows %u); upgrade to read it"),
			    self->filename,
			    version,
			    (guint)G_N_ELEMENTS(aiq_journal_migrations));
		return FALSE;
	}
	for (gint64 v = version; v < (gint64)G_N_ELEMENTS(aiq_journal_migrations); v++) {
		g_autofree gchar *bump = NULL;
		if (!aiq_journal_exec(self, self->db, "BEGIN IMMEDIATE", error))
			return FALSE;
		if (v == 0 &&
		    !aiq_journal_exec(self,
				      self->db,
				      "CREATE TABLE schema_version (version INTEGER NOT NULL)",
				      error)) {
			sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
			return FALSE;
		}
		bump = g_strdup_printf("DELETE FROM schema_version;"
				       "INSERT INTO schema_version VALUES (%" PRId64 ");"
				       "PRAGMA application_id = %d;",
				       v + 1,
				       AIQ_JOURNAL_APPLICATION_ID);
		if (!aiq_journal_exec(self, self->db, aiq_journal_migrations[v], error) ||
		    !aiq_journal_exec(self, self->db, bump, error)) {
			/* nothing is dropped: the old schema stays as it was */
			sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
			g_prefix_error(error, _("migrating to schema %" PRId64 ": "), v + 1);
			return FALSE;
		}
		if (!aiq_journal_exec(self, self->db, "COMMIT", error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_journal_prepare_writer(AiqJournal *self, GError **error)
{
	struct {
		sqlite3_stmt **stmt;
		const gchar *sql;
	} stmts[] = {
		{ &self->stmt_event,
		  "INSERT OR IGNORE INTO events (execution_id, seq, type, time, step_id, item, attempt, "
		  "status, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)" },
		{ &self->stmt_definition,
		  "INSERT OR IGNORE INTO definitions (digest, json) VALUES (?1, ?2)" },
		{ &self->stmt_exec_created,
		  "INSERT OR IGNORE INTO executions (id, workflow, digest, status, created) "
		  "VALUES (?1, ?2, ?3, 'queued', ?4)" },
		{ &self->stmt_exec_status, "UPDATE executions SET status = ?2 WHERE id = ?1" },
		{ &self->stmt_exec_finished,
		  "UPDATE executions SET status = ?2, finished = ?3 WHERE id = ?1" },
		{ &self->stmt_ack,
		  "UPDATE executions SET acked_seq = ?2 WHERE id = ?1 AND acked_seq < ?2" },
		/* a finished execution whose every event is acknowledged leaves the outbox */
		{ &self->stmt_prune_events,
		  "DELETE FROM events WHERE execution_id = ?1 AND EXISTS (SELECT 1 FROM "
		  "executions WHERE id = ?1 AND finished IS NOT NULL AND acked_seq >= "
		  "(SELECT max(seq) FROM events WHERE execution_id = ?1))" },
		{ &self->stmt_prune_execution,
		  "DELETE FROM executions WHERE id = ?1 AND finished IS NOT NULL AND NOT EXISTS "
		  "(SELECT 1 FROM events WHERE execution_id = ?1)" },
		{ &self->stmt_forget_events, "DELETE FROM events WHERE execution_id = ?1" },
		{ &self->stmt_forget_execution, "DELETE FROM executions WHERE id = ?1" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(stmts); i++) {
		if (sqlite3_prepare_v3(self->db,
				       stmts[i].sql,
				       -1,
				       SQLITE_PREPARE_PERSISTENT,
				       stmts[i].stmt,
				       NULL) != SQLITE_OK)
			return aiq_journal_sqlite_error(self, self->db, stmts[i].sql, error);
	}
	return TRUE;
}

static gboolean
aiq_journal_step(AiqJournal *self, sqlite3_stmt *stmt, GError **error)
{
	gint rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return aiq_journal_sqlite_error(self, self->db, _("failed to write events"), error);
	return TRUE;
}

/* writer thread: one transaction for the whole batch */
static gboolean
aiq_journal_write_mark(AiqJournal *self, const AiqJournalMark *mark, GError **error)
{
	sqlite3_stmt *stmts[3] = { NULL };
	if (mark->forget) {
		stmts[0] = self->stmt_forget_events;
		stmts[1] = self->stmt_forget_execution;
	} else {
		stmts[0] = self->stmt_ack;
		stmts[1] = self->stmt_prune_events;
		stmts[2] = self->stmt_prune_execution;
	}
	for (guint i = 0; i < G_N_ELEMENTS(stmts) && stmts[i] != NULL; i++) {
		sqlite3_bind_text(stmts[i], 1, mark->execution_id, -1, SQLITE_STATIC);
		if (stmts[i] == self->stmt_ack)
			sqlite3_bind_int64(stmts[i], 2, mark->seq);
		if (!aiq_journal_step(self, stmts[i], error))
			return FALSE;
		sqlite3_clear_bindings(stmts[i]);
	}
	return TRUE;
}

static gboolean
aiq_journal_write_batch(AiqJournal *self, GPtrArray *batch, GArray *marks, GError **error)
{
	if (!aiq_journal_exec(self, self->db, "BEGIN IMMEDIATE", error))
		return FALSE;
	for (guint i = 0; i < marks->len; i++) {
		if (!aiq_journal_write_mark(self, &g_array_index(marks, AiqJournalMark, i), error))
			goto fail;
	}
	for (guint i = 0; i < batch->len; i++) {
		AiqEvent *event = g_ptr_array_index(batch, i);
		sqlite3_stmt *stmt = self->stmt_event;
		g_autofree gchar *data =
			event->data != NULL ? aiq_json_to_string(event->data, FALSE) : NULL;
		sqlite3_bind_text(stmt, 1, event->execution_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, event->seq);
		sqlite3_bind_text(stmt,
				  3,
				  aiq_event_type_to_string(event->type),
				  -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 4, event->time_us);
		if (event->step_id != NULL)
			sqlite3_bind_text(stmt, 5, event->step_id, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(stmt, 5);
		if (event->item >= 0)
			sqlite3_bind_int(stmt, 6, event->item);
		else
			sqlite3_bind_null(stmt, 6);
		if (event->attempt > 0)
			sqlite3_bind_int(stmt, 7, (gint)event->attempt);
		else
			sqlite3_bind_null(stmt, 7);
		if (event->status != NULL)
			sqlite3_bind_text(stmt, 8, event->status, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(stmt, 8);
		if (data != NULL)
			sqlite3_bind_text(stmt, 9, data, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(stmt, 9);
		if (!aiq_journal_step(self, stmt, error))
			goto fail;
		sqlite3_clear_bindings(stmt);
		if (sqlite3_changes(self->db) == 0)
			g_warning("%s: event %s/%" PRId64 " was already journaled",
				  self->filename,
				  event->execution_id,
				  event->seq);

		if (event->type == AIQ_EVENT_EXECUTION_CREATED) {
			const gchar *workflow = NULL;
			if (event->data != NULL)
				workflow = aiq_json_object_get_string(
					json_node_get_object(event->data),
					"workflow");
			if (event->definition_json != NULL) {
				stmt = self->stmt_definition;
				sqlite3_bind_text(stmt,
						  1,
						  event->definition_digest,
						  -1,
						  SQLITE_STATIC);
				sqlite3_bind_text(stmt,
						  2,
						  event->definition_json,
						  -1,
						  SQLITE_STATIC);
				if (!aiq_journal_step(self, stmt, error))
					goto fail;
			}
			stmt = self->stmt_exec_created;
			sqlite3_bind_text(stmt, 1, event->execution_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(stmt,
					  2,
					  workflow != NULL ? workflow : "",
					  -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(
				stmt,
				3,
				event->definition_digest != NULL ? event->definition_digest : "",
				-1,
				SQLITE_STATIC);
			sqlite3_bind_int64(stmt, 4, event->time_us);
			if (!aiq_journal_step(self, stmt, error))
				goto fail;
		} else if (event->type == AIQ_EVENT_EXECUTION_STARTED) {
			stmt = self->stmt_exec_status;
			sqlite3_bind_text(stmt, 1, event->execution_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(stmt, 2, "running", -1, SQLITE_STATIC);
			if (!aiq_journal_step(self, stmt, error))
				goto fail;
		} else if (event->type == AIQ_EVENT_EXECUTION_FINISHED) {
			stmt = self->stmt_exec_finished;
			sqlite3_bind_text(stmt, 1, event->execution_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(stmt,
					  2,
					  event->status != NULL ? event->status : "failed",
					  -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(stmt, 3, event->time_us);
			if (!aiq_journal_step(self, stmt, error))
				goto fail;
		}
	}
	if (!aiq_journal_exec(self, self->db, "COMMIT", error))
		goto fail;
	return TRUE;
fail:
	sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
	return FALSE;
}

static gboolean
aiq_journal_notify_cb(gpointer user_data)
{
	AiqJournal *self = AIQ_JOURNAL(user_data);
	guint64 durable;

	g_mutex_lock(&self->mutex);
	self->notify_scheduled = FALSE;
	durable = self->durable;
	g_mutex_unlock(&self->mutex);

	while (!g_queue_is_empty(&self->waiters)) {
		AiqJournalWaiter *waiter = g_queue_peek_head(&self->waiters);
		if (waiter->lsn > durable)
			break;
		g_queue_pop_head(&self->waiters);
		waiter->func(waiter->user_data);
		g_free(waiter);
	}
	return G_SOURCE_REMOVE;
}

/* writer thread, with @mutex held */
static void
aiq_journal_schedule_notify_locked(AiqJournal *self)
{
	GSource *source;
	if (self->notify_scheduled)
		return;
	self->notify_scheduled = TRUE;
	/* not g_main_context_invoke(): it may run the callback in this thread
	 * when nobody owns the context, and waiters belong to the main context */
	source = g_idle_source_new();
	g_source_set_priority(source, G_PRIORITY_DEFAULT);
	g_source_set_callback(source, aiq_journal_notify_cb, g_object_ref(self), g_object_unref);
	g_source_set_static_name(source, "[aiq] journal notify");
	g_source_attach(source, self->context);
	g_source_unref(source);
}

static GArray *
aiq_journal_marks_new(void)
{
	GArray *marks = g_array_new(FALSE, FALSE, sizeof(AiqJournalMark));
	g_array_set_clear_func(marks, aiq_journal_mark_clear);
	return marks;
}

static gpointer
aiq_journal_writer_thread(gpointer user_data)
{
	AiqJournal *self = AIQ_JOURNAL(user_data);
	guint failures = 0;

	for (;;) {
		g_autoptr(GPtrArray) batch = NULL;
		g_autoptr(GArray) marks = NULL;
		g_autoptr(GError) error_local = NULL;

		g_mutex_lock(&self->mutex);
		while (self->pending->len == 0 && self->marks->len == 0 && !self->stopping)
			g_cond_wait(&self->cond, &self->mutex);
		if (self->pending->len == 0 && self->marks->len == 0) {
			g_mutex_unlock(&self->mutex);
			break;
		}
		batch = g_steal_pointer(&self->pending);
		self->pending = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_event_unref);
		marks = g_steal_pointer(&self->marks);
		self->marks = aiq_journal_marks_new();
		g_mutex_unlock(&self->mutex);

		while (!aiq_journal_write_batch(self, batch, marks, &error_local)) {
			gboolean give_up;
			/* keep every event: report, wait and try the same batch again */
			g_mutex_lock(&self->mutex);
			if (self->write_error == NULL)
				g_warning("%s", error_local->message);
			g_clear_error(&self->write_error);
			self->write_error = g_steal_pointer(&error_local);
			give_up = self->stopping && failures >= 3;
			g_cond_broadcast(&self->durable_cond);
			g_mutex_unlock(&self->mutex);
			if (give_up)
				return NULL;
			g_usleep(MIN(100000 * (1u << MIN(failures, 6)), 5 * G_USEC_PER_SEC));
			failures++;
		}
		failures = 0;

		g_mutex_lock(&self->mutex);
		self->durable += batch->len;
		self->commits++;
		if (self->write_error != NULL) {
			g_message("%s: writing events again", self->filename);
			g_clear_error(&self->write_error);
		}
		g_cond_broadcast(&self->durable_cond);
		aiq_journal_schedule_notify_locked(self);
		g_mutex_unlock(&self->mutex);
	}
	return NULL;
}

static void
aiq_journal_finalize(GObject *object)
{
	AiqJournal *self = AIQ_JOURNAL(object);
	aiq_journal_close(self, NULL);
	while (!g_queue_is_empty(&self->waiters))
		g_free(g_queue_pop_head(&self->waiters));
	g_ptr_array_unref(self->pending);
	g_array_unref(self->marks);
	g_clear_error(&self->write_error);
	g_mutex_clear(&self->mutex);
	g_cond_clear(&self->cond);
	g_cond_clear(&self->durable_cond);
	if (self->context != NULL)
		g_main_context_unref(self->context);
	g_free(self->filename);
	G_OBJECT_CLASS(aiq_journal_parent_class)->finalize(object);
}

static void
aiq_journal_class_init(AiqJournalClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = aiq_journal_finalize;
}

static void
aiq_journal_init(AiqJournal *self)
{
	self->lock_fd = -1;
	g_mutex_init(&self->mutex);
	g_cond_init(&self->cond);
	g_cond_init(&self->durable_cond);
	g_queue_init(&self->waiters);
	self->pending = g_ptr_array_new_with_free_func((GDestroyNotify)aiq_event_unref);
	self->marks = aiq_journal_marks_new();
}

static gboolean
aiq_journal_take_lock(AiqJournal *self, GError **error)
{
	g_autofree gchar *lock_path = g_strdup_printf("%s.lock", self->filename);
	self->lock_fd = g_open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (self->lock_fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: cannot create the lock file: %s"),
			    lock_path,
			    g_strerror(errsv));
		return FALSE;
	}
	if (flock(self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		gint errsv = errno;
		g_set_error(
			error,
			AIQ_ERROR,
			AIQ_ERROR_JOURNAL,
			errsv == EWOULDBLOCK
				? _("%s: in use by another process (another run, resume or agent "
				    "holds this state directory)")
				: _("%s: cannot lock: %s"),
			self->filename,
			g_strerror(errsv));
		return FALSE;
	}
	return TRUE;
}

/**
 * aiq_journal_new:
 * @filename: the journal file; created when missing
 *
 * Opens the journal, migrating its schema, and starts its writer thread.
 * Events are committed and notified on the thread-default main context of
 * the caller.
 */
AiqJournal *
aiq_journal_new(const gchar *filename, GError **error)
{
	g_autoptr(AiqJournal) self = NULL;

	g_return_val_if_fail(filename != NULL, NULL);

	self = g_object_new(AIQ_TYPE_JOURNAL, NULL);
	self->filename = g_strdup(filename);
	self->context = g_main_context_ref_thread_default();
	if (!aiq_journal_take_lock(self, error))
		return NULL;
	if (sqlite3_open_v2(filename,
			    &self->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		aiq_journal_sqlite_error(self, self->db, _("cannot open"), error);
		return NULL;
	}
	sqlite3_busy_timeout(self->db, 5000);
	if (!aiq_journal_migrate(self, error))
		return NULL;
	if (!aiq_journal_prepare_writer(self, error))
		return NULL;
	/* events journaled after their execution was forgotten (what a lost
	 * execution did while it stopped) belong to nothing */
	if (!aiq_journal_exec(
		    self,
		    self->db,
		    "DELETE FROM events WHERE execution_id NOT IN (SELECT id FROM executions)",
		    error))
		return NULL;
	if (sqlite3_open_v2(filename,
			    &self->read_db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		aiq_journal_sqlite_error(self, self->read_db, _("cannot open"), error);
		return NULL;
	}
	sqlite3_busy_timeout(self->read_db, 5000);
	self->thread = g_thread_new("aiq-journal", aiq_journal_writer_thread, self);
	return g_steal_pointer(&self);
}

/**
 * aiq_journal_new_read_only:
 *
 * Opens a journal for reading only, without the lock, so that a running
 * execution can be inspected. Appending is not possible.
 */
AiqJournal *
aiq_journal_new_read_only(const gchar *filename, GError **error)
{
	g_autoptr(AiqJournal) self = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;

	g_return_val_if_fail(filename != NULL, NULL);
	self = g_object_new(AIQ_TYPE_JOURNAL, NULL);
	self->filename = g_strdup(filename);
	self->context = g_main_context_ref_thread_default();
	self->closed = FALSE;
	if (!g_file_test(filename, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("%s: no such journal"),
			    filename);
		return NULL;
	}
	if (sqlite3_open_v2(filename,
			    &self->read_db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		aiq_journal_sqlite_error(self, self->read_db, _("cannot open"), error);
		return NULL;
	}
	sqlite3_busy_timeout(self->read_db, 5000);
	if (sqlite3_prepare_v2(self->read_db, "PRAGMA application_id", -1, &stmt, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW ||
	    sqlite3_column_int(stmt, 0) != AIQ_JOURNAL_APPLICATION_ID) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: not an AutomateIQ journal"),
			    filename);
		return NULL;
	}
	return g_steal_pointer(&self);
}

const gchar *
aiq_journal_get_filename(AiqJournal *self)
{
	g_return_val_if_fail(AIQ_IS_JOURNAL(self), NULL);
	return self->filename;
}

/**
 * aiq_journal_append:
 * @event: the event; the journal takes a reference
 *
 * Queues the event for the next group commit. Never blocks on I/O.
 *
 * Returns: the event's position; pass it to aiq_journal_wait_durable()
 */
guint64
aiq_journal_append(AiqJournal *self, AiqEvent *event)
{
	guint64 lsn;
	g_return_val_if_fail(AIQ_IS_JOURNAL(self), 0);
	g_return_val_if_fail(event != NULL, 0);
	g_return_val_if_fail(self->db != NULL, 0);
	g_mutex_lock(&self->mutex);
	g_ptr_array_add(self->pending, aiq_event_ref(event));
	lsn = ++self->appended;
	if (self->pending->len == 1)
		g_cond_signal(&self->cond);
	g_mutex_unlock(&self->mutex);
	return lsn;
}

guint64
aiq_journal_get_appended(AiqJournal *self)
{
	guint64 value;
	g_return_val_if_fail(AIQ_IS_JOURNAL(self), 0);
	g_mutex_lock(&self->mutex);
	value = self->appended;
	g_mutex_unlock(&self->mutex);
	return value;
}

guint64
aiq_journal_get_durable(AiqJournal *self)
{
	guint64 value;
	g_return_val_if_fail(AIQ_IS_JOURNAL(self), 0);
	g_mutex_lock(&self->mutex);
	value = self->durable;
	g_mutex_unlock(&self->mutex);
	return value;
}

guint64
aiq_journal_get_commits(AiqJournal *self)
{
	guint64 value;
	g_return_val_if_fail(AIQ_IS_JOURNAL(self), 0);
	g_mutex_lock(&self->mutex);
	value = self->commits;
	g_mutex_unlock(&self->mutex);
	return value;
}

/**
 * aiq_journal_get_write_error:
 *
 * Returns: (nullable): why the last commit failed while it keeps failing
 * (for example a full disk); events stay queued and are retried
 */
const GError *
aiq_journal_get_write_error(AiqJournal *self)
{
	const GError *error;
	g_return_val_if_fail(AIQ_IS_JOURNAL(self), NULL);
	g_mutex_lock(&self->mutex);
	error = self->write_error;
	g_mutex_unlock(&self->mutex);
	return error;
}

/**
 * aiq_journal_wait_durable:
 * @lsn: a value returned by aiq_journal_append()
 * @func: called on the journal's main context once @lsn is committed,
 *   possibly before this returns
 */
void
aiq_journal_wait_durable(AiqJournal *self,
			 guint64 lsn,
			 AiqJournalDurableFunc func,
			 gpointer user_data)
{
	AiqJournalWaiter *waiter;
	GList *l;

	g_return_if_fail(AIQ_IS_JOURNAL(self));
	g_return_if_fail(func != NULL);

	if (lsn <= aiq_journal_get_durable(self)) {
		func(user_data);
		return;
	}
	waiter = g_new0(AiqJournalWaiter, 1);
	waiter->lsn = lsn;
	waiter->func = func;
	waiter->user_data = user_data;
	/* waiters mostly arrive in order: find the place from the tail */
	for (l = self->waiters.tail; l != NULL; l = l->prev) {
		AiqJournalWaiter *other = l->data;
		if (other->lsn <= lsn)
			break;
	}
	if (l == NULL)
		g_queue_push_head(&self->waiters, waiter);
	else
		g_queue_insert_after(&self->waiters, l, waiter);
}

/**
 * aiq_journal_cancel_wait:
 *
 * Forgets a waiter added with aiq_journal_wait_durable().
 */
void
aiq_journal_cancel_wait(AiqJournal *self, AiqJournalDurableFunc func, gpointer user_data)
{
	g_return_if_fail(AIQ_IS_JOURNAL(self));
	for (GList *l = self->waiters.head; l != NULL; l = l->next) {
		AiqJournalWaiter *waiter = l->data;
		if (waiter->func == func && waiter->user_data == user_data) {
			g_queue_delete_link(&self->waiters, l);
			g_free(waiter);
			return;
		}
	}
}

/**
 * aiq_journal_flush:
 *
 * Blocks until everything appended so far is committed.
 */
gboolean
aiq_journal_flush(AiqJournal *self, GError **error)
{
	guint64 target;
	g_return_val_if_fail(AIQ_IS_JOURNAL(self), FALSE);
	g_mutex_lock(&self->mutex);
	target = self->appended;
	while (self->durable < target && self->thread != NULL) {
		if (self->write_error != NULL && self->stopping)
			break;
		g_cond_wait(&self->durable_cond, &self->mutex);
	}
	if (self->durable < target) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: %" PRIu64 " events could not be written: %s"),
			    self->filename,
			    target - self->durable,
			    self->write_error != NULL ? self->write_error->message : "");
		g_mutex_unlock(&self->mutex);
		return FALSE;
	}
	g_mutex_unlock(&self->mutex);
	return TRUE;
}

/**
 * aiq_journal_close:
 *
 * Commits what is queued, stops the writer and closes the file.
 */
gboolean
aiq_journal_close(AiqJournal *self, GError **error)
{
	gboolean ret = TRUE;
	guint64 lost = 0;
	g_return_val_if_fail(AIQ_IS_JOURNAL(self), FALSE);
	if (self->closed)
		return TRUE;
	self->closed = TRUE;
	if (self->thread != NULL) {
		g_mutex_lock(&self->mutex);
		self->stopping = TRUE;
		g_cond_signal(&self->cond);
		g_mutex_unlock(&self->mutex);
		g_thread_join(g_steal_pointer(&self->thread));
	}
	g_mutex_lock(&self->mutex);
	lost = self->appended - self->durable;
	g_mutex_unlock(&self->mutex);
	if (lost > 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: %" PRIu64 " events could not be written: %s"),
			    self->filename,
			    lost,
			    self->write_error != NULL ? self->write_error->message : "");
		ret = FALSE;
	}
	g_clear_pointer(&self->stmt_event, sqlite3_finalize);
	g_clear_pointer(&self->stmt_definition, sqlite3_finalize);
	g_clear_pointer(&self->stmt_exec_created, sqlite3_finalize);
	g_clear_pointer(&self->stmt_exec_status, sqlite3_finalize);
	g_clear_pointer(&self->stmt_exec_finished, sqlite3_finalize);
	g_clear_pointer(&self->stmt_ack, sqlite3_finalize);
	g_clear_pointer(&self->stmt_prune_events, sqlite3_finalize);
	g_clear_pointer(&self->stmt_prune_execution, sqlite3_finalize);
	g_clear_pointer(&self->stmt_forget_events, sqlite3_finalize);
	g_clear_pointer(&self->stmt_forget_execution, sqlite3_finalize);
	g_clear_pointer(&self->read_db, sqlite3_close);
	g_clear_pointer(&self->db, sqlite3_close);
	if (self->lock_fd >= 0) {
		close(self->lock_fd);
		self->lock_fd = -1;
	}
	return ret;
}

/* a statement on the main context's connection, or %NULL with @error set */
static sqlite3_stmt *
aiq_journal_prepare_read(AiqJournal *self, const gchar *sql, const gchar *what, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	if (self->read_db == NULL) {
		g_set_error(error, AIQ_ERROR, AIQ_ERROR_JOURNAL, _("%s: closed"), self->filename);
		return NULL;
	}
	if (sqlite3_prepare_v2(self->read_db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		aiq_journal_sqlite_error(self, self->read_db, what, error);
		return NULL;
	}
	return stmt;
}

/**
 * aiq_journal_list_executions:
 * @limit: at most this many, newest first; 0 for all
 *
 * Returns: (transfer container) (element-type AiqJournalExecution): what is
 * committed so far
 */
GPtrArray *
aiq_journal_list_executions(AiqJournal *self, gboolean unfinished_only, guint limit, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_journal_execution_free);
	const gchar *sql =
		unfinished_only ? "SELECT id, workflow, status, created, finished FROM executions "
				  "WHERE finished IS NULL ORDER BY created, id LIMIT ?1"
				: "SELECT id, workflow, status, created, finished FROM executions "
				  "ORDER BY created DESC, id DESC LIMIT ?1";
	gint rc;

	g_return_val_if_fail(AIQ_IS_JOURNAL(self), NULL);
	stmt = aiq_journal_prepare_read(self, sql, _("listing executions"), error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, limit > 0 ? (gint64)limit : -1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		AiqJournalExecution *exec = g_new0(AiqJournalExecution, 1);
		exec->id = g_strdup((const gchar *)sqlite3_column_text(stmt, 0));
		exec->workflow = g_strdup((const gchar *)sqlite3_column_text(stmt, 1));
		exec->status = g_strdup((const gchar *)sqlite3_column_text(stmt, 2));
		exec->created_us = sqlite3_column_int64(stmt, 3);
		exec->finished_us = sqlite3_column_int64(stmt, 4);
		g_ptr_array_add(result, exec);
	}
	if (rc != SQLITE_DONE) {
		aiq_journal_sqlite_error(self, self->read_db, _("listing executions"), error);
		return NULL;
	}
	return g_steal_pointer(&result);
}

/* the columns seq, type, time, step_id, item, attempt, status, data from @col */
static AiqEvent *
aiq_journal_event_from_row(AiqJournal *self,
			   sqlite3_stmt *stmt,
			   gint col,
			   const gchar *execution_id,
			   GError **error)
{
	g_autoptr(AiqEvent) event = NULL;
	AiqEventType type;
	const gchar *data = (const gchar *)sqlite3_column_text(stmt, col + 7);
	if (!aiq_event_type_from_string((const gchar *)sqlite3_column_text(stmt, col + 1), &type)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: execution %s: unknown event type “%s”"),
			    self->filename,
			    execution_id,
			    (const gchar *)sqlite3_column_text(stmt, col + 1));
		return NULL;
	}
	event = aiq_event_new(type, execution_id, sqlite3_column_int64(stmt, col));
	event->time_us = sqlite3_column_int64(stmt, col + 2);
	event->step_id = g_strdup((const gchar *)sqlite3_column_text(stmt, col + 3));
	event->item = sqlite3_column_type(stmt, col + 4) == SQLITE_NULL
			      ? -1
			      : sqlite3_column_int(stmt, col + 4);
	event->attempt = (guint)sqlite3_column_int(stmt, col + 5);
	event->status = g_strdup((const gchar *)sqlite3_column_text(stmt, col + 6));
	if (data != NULL) {
		g_autoptr(GError) error_local = NULL;
		event->data =
			aiq_json_parse(data, strlen(data), AIQ_JSON_MAX_DEPTH * 2, &error_local);
		if (event->data == NULL) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_JOURNAL,
				    _("%s: execution %s event %" PRId64 ": %s"),
				    self->filename,
				    execution_id,
				    event->seq,
				    error_local->message);
			return NULL;
		}
	}
	return g_steal_pointer(&event);
}

/**
 * aiq_journal_load_events:
 *
 * Returns: (transfer container) (element-type AiqEvent): the committed events
 * of the execution in order; empty when it is unknown
 */
GPtrArray *
aiq_journal_load_events(AiqJournal *self, const gchar *execution_id, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	g_autoptr(GPtrArray) events =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_event_unref);
	gint rc;

	g_return_val_if_fail(AIQ_IS_JOURNAL(self), NULL);
	g_return_val_if_fail(execution_id != NULL, NULL);
	stmt = aiq_journal_prepare_read(
		self,
		"SELECT seq, type, time, step_id, item, attempt, status, data "
		"FROM events WHERE execution_id = ?1 ORDER BY seq",
		_("reading events"),
		error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, execution_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		AiqEvent *event = aiq_journal_event_from_row(self, stmt, 0, execution_id, error);
		if (event == NULL)
			return NULL;
		g_ptr_array_add(events, event);
	}
	if (rc != SQLITE_DONE) {
		aiq_journal_sqlite_error(self, self->read_db, _("reading events"), error);
		return NULL;
	}
	return g_steal_pointer(&events);
}

/**
 * aiq_journal_load_definition:
 *
 * Returns: (transfer full): the canonical JSON of the definition with @digest
 */
gchar *
aiq_journal_load_definition(AiqJournal *self, const gchar *digest, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint rc;
	g_return_val_if_fail(AIQ_IS_JOURNAL(self), NULL);
	if (sqlite3_prepare_v2(self->read_db,
			       "SELECT json FROM definitions WHERE digest = ?1",
			       -1,
			       &stmt,
			       NULL) != SQLITE_OK) {
		aiq_journal_sqlite_error(self, self->read_db, _("reading a definition"), error);
		return NULL;
	}
	sqlite3_bind_text(stmt, 1, digest, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return g_strdup((const gchar *)sqlite3_column_text(stmt, 0));
	if (rc == SQLITE_DONE) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("%s: no definition with digest %s"),
			    self->filename,
			    digest);
		return NULL;
	}
	aiq_journal_sqlite_error(self, self->read_db, _("reading a definition"), error);
	return NULL;
}

static void
aiq_journal_add_mark(AiqJournal *self, const gchar *execution_id, gint64 seq, gboolean forget)
{
	AiqJournalMark mark = { g_strdup(execution_id), seq, forget };
	g_mutex_lock(&self->mutex);
	g_array_append_val(self->marks, mark);
	if (self->marks->len == 1 && self->pending->len == 0)
		g_cond_signal(&self->cond);
	g_mutex_unlock(&self->mutex);
}

/**
 * aiq_journal_ack:
 * @seq: the server holds the execution's events up to here
 *
 * Records the acknowledgement with the next group commit. A finished
 * execution whose every event is acknowledged leaves the journal then.
 */
void
aiq_journal_ack(AiqJournal *self, const gchar *execution_id, gint64 seq)
{
	g_return_if_fail(AIQ_IS_JOURNAL(self));
	g_return_if_fail(execution_id != NULL);
	g_return_if_fail(self->db != NULL);
	aiq_journal_add_mark(self, execution_id, seq, FALSE);
}

/**
 * aiq_journal_forget:
 *
 * Drops the execution and its events with the next group commit, before
 * the events appended after this call (which may start it afresh).
 */
void
aiq_journal_forget(AiqJournal *self, const gchar *execution_id)
{
	g_return_if_fail(AIQ_IS_JOURNAL(self));
	g_return_if_fail(execution_id != NULL);
	g_return_if_fail(self->db != NULL);
	aiq_journal_add_mark(self, execution_id, 0, TRUE);
}

void
aiq_journal_outbox_entry_free(AiqJournalOutboxEntry *entry)
{
	g_free(entry->execution_id);
	g_free(entry);
}

/**
 * aiq_journal_list_outbox:
 *
 * Returns: (transfer container) (element-type AiqJournalOutboxEntry): every
 * execution in the journal with its committed and acknowledged positions
 */
GPtrArray *
aiq_journal_list_outbox(AiqJournal *self, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_journal_outbox_entry_free);
	const gchar *sql = "SELECT x.id, x.acked_seq, x.finished IS NOT NULL, "
			   "(SELECT max(seq) FROM events WHERE execution_id = x.id) "
			   "FROM executions x ORDER BY x.id";
	gint rc;

	g_return_val_if_fail(AIQ_IS_JOURNAL(self), NULL);
	stmt = aiq_journal_prepare_read(self, sql, _("reading the outbox"), error);
	if (stmt == NULL)
		return NULL;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		AiqJournalOutboxEntry *entry = g_new0(AiqJournalOutboxEntry, 1);
		entry->execution_id = g_strdup((const gchar *)sqlite3_column_text(stmt, 0));
		entry->acked_seq = sqlite3_column_int64(stmt, 1);
		entry->finished = sqlite3_column_int(stmt, 2) != 0;
		entry->last_seq = sqlite3_column_int64(stmt, 3);
		g_ptr_array_add(result, entry);
	}
	if (rc != SQLITE_DONE) {
		aiq_journal_sqlite_error(self, self->read_db, _("reading the outbox"), error);
		return NULL;
	}
	return g_steal_pointer(&result);
}

/**
 * aiq_journal_read_outbox:
 * @after_execution: (nullable): read after this position; %NULL from the start
 * @after_seq: with @after_execution
 * @limit: at most this many events
 * @max_bytes: stop once the events' data reach this size (at least one event is read)
 *
 * Reads committed events that the server has not acknowledged (as far as
 * aiq_journal_ack() calls are committed), in (execution id, seq) order.
 *
 * Returns: (transfer container) (element-type AiqEvent): the events
 */
GPtrArray *
aiq_journal_read_outbox(AiqJournal *self,
			const gchar *after_execution,
			gint64 after_seq,
			guint limit,
			gsize max_bytes,
			GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	g_autoptr(GPtrArray) events =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_event_unref);
	const gchar *sql = "SELECT e.execution_id, e.seq, e.type, e.time, e.step_id, e.item, "
			   "e.attempt, e.status, e.data FROM events e "
			   "JOIN executions x ON x.id = e.execution_id "
			   "WHERE (e.execution_id, e.seq) > (?1, ?2) AND e.seq > x.acked_seq "
			   "ORDER BY e.execution_id, e.seq LIMIT ?3";
	gsize bytes = 0;
	gint rc;

	g_return_val_if_fail(AIQ_IS_JOURNAL(self), NULL);
	stmt = aiq_journal_prepare_read(self, sql, _("reading the outbox"), error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt,
			  1,
			  after_execution != NULL ? after_execution : "",
			  -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, after_execution != NULL ? after_seq : 0);
	sqlite3_bind_int64(stmt, 3, limit);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const gchar *id = (const gchar *)sqlite3_column_text(stmt, 0);
		AiqEvent *event = aiq_journal_event_from_row(self, stmt, 1, id, error);
		if (event == NULL)
			return NULL;
		g_ptr_array_add(events, event);
		bytes += (gsize)sqlite3_column_bytes(stmt, 8) + 256;
		if (bytes >= max_bytes)
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		aiq_journal_sqlite_error(self, self->read_db, _("reading the outbox"), error);
		return NULL;
	}
	return g_steal_pointer(&events);
}

/**
 * aiq_journal_get_size:
 *
 * Returns: the bytes of the journal's data: the database pages in use as
 * the last commit left them (the write-ahead log, checkpointed every 1,000
 * pages, comes on top), or 0 when it cannot tell
 */
guint64
aiq_journal_get_size(AiqJournal *self)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	guint64 size = 0;

	g_return_val_if_fail(AIQ_IS_JOURNAL(self), 0);
	if (self->read_db == NULL)
		return 0;
	if (sqlite3_prepare_v2(self->read_db,
			       "SELECT (SELECT page_count FROM pragma_page_count) - (SELECT "
			       "freelist_count FROM pragma_freelist_count), (SELECT page_size FROM "
			       "pragma_page_size)",
			       -1,
			       &stmt,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		size = (guint64)MAX(sqlite3_column_int64(stmt, 0), 0) *
		       (guint64)sqlite3_column_int64(stmt, 1);
	return size;
}
