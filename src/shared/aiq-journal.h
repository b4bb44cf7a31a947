/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

#include "aiq-event.h"

G_BEGIN_DECLS

/**
 * AiqJournal:
 *
 * The durable, append-only record of executions: an SQLite file in WAL mode
 * with synchronous=FULL. Events are appended from the main context and
 * committed by a writer thread in groups, so concurrent executions share
 * fsyncs; a caller that must not act before an event is on disk waits with
 * aiq_journal_wait_durable(). Commits happen in append order, so an event
 * being durable means every event appended before it is too.
 *
 * One process at a time: the journal holds an exclusive lock on
 * `FILE.lock` while open.
 */
#define AIQ_TYPE_JOURNAL (aiq_journal_get_type())
G_DECLARE_FINAL_TYPE(AiqJournal, aiq_journal, AIQ, JOURNAL, GObject)

typedef void (*AiqJournalDurableFunc)(gpointer user_data);

/**
 * AiqJournalExecution:
 *
 * A row of the executions index.
 */
typedef struct {
	gchar *id;
	gchar *workflow;
	gchar *status;
	gint64 created_us;
	gint64 finished_us; /* 0 while unfinished */
} AiqJournalExecution;

void
aiq_journal_execution_free(AiqJournalExecution *exec);

AiqJournal *
aiq_journal_new(const gchar *filename, GError **error);
AiqJournal *
aiq_journal_new_read_only(const gchar *filename, GError **error);
const gchar *
aiq_journal_get_filename(AiqJournal *self);
guint64
aiq_journal_append(AiqJournal *self, AiqEvent *event);
guint64
aiq_journal_get_appended(AiqJournal *self);
guint64
aiq_journal_get_durable(AiqJournal *self);
void
aiq_journal_wait_durable(AiqJournal *self,
			 guint64 lsn,
			 AiqJournalDurableFunc func,
			 gpointer user_data);
void
aiq_journal_cancel_wait(AiqJournal *self, AiqJournalDurableFunc func, gpointer user_data);
gboolean
aiq_journal_flush(AiqJournal *self, GError **error);
gboolean
aiq_journal_close(AiqJournal *self, GError **error);
const GError *
aiq_journal_get_write_error(AiqJournal *self);
guint64
aiq_journal_get_commits(AiqJournal *self);

GPtrArray *
aiq_journal_list_executions(AiqJournal *self,
			    gboolean unfinished_only,
			    guint limit,
			    GError **error);
GPtrArray *
aiq_journal_load_events(AiqJournal *self, const gchar *execution_id, GError **error);
gchar *
aiq_journal_load_definition(AiqJournal *self, const gchar *digest, GError **error);

/* the agent's outbox */
typedef struct {
	gchar *execution_id;
	gint64 acked_seq; /* the server holds the events up to here */
	gint64 last_seq;  /* the last committed event */
	gboolean finished;
} AiqJournalOutboxEntry;

void
aiq_journal_outbox_entry_free(AiqJournalOutboxEntry *entry);
void
aiq_journal_ack(AiqJournal *self, const gchar *execution_id, gint64 seq);
void
aiq_journal_forget(AiqJournal *self, const gchar *execution_id);
GPtrArray *
aiq_journal_list_outbox(AiqJournal *self, GError **error);
GPtrArray *
aiq_journal_read_outbox(AiqJournal *self,
			const gchar *after_execution,
			gint64 after_seq,
			guint limit,
			gsize max_bytes,
			GError **error);
guint64
aiq_journal_get_size(AiqJournal *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqJournalExecution, aiq_journal_execution_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqJournalOutboxEntry, aiq_journal_outbox_entry_free)

G_END_DECLS
