/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "aiq-test-util.h"
#include "aiq-error.h"
#include "aiq-journal.h"
#include "aiq-json.h"
#include "aiq-util.h"

static gchar *
make_tmpdir(void)
{
	g_autoptr(GError) error = NULL;
	gchar *dir = g_dir_make_tmp("aiq-journal-XXXXXX", &error);
	g_assert_no_error(error);
	return dir;
}

static AiqEvent *
event_new(const gchar *exec_id, gint64 seq, AiqEventType type)
{
	AiqEvent *event = aiq_event_new(type, exec_id, seq);
	if (type == AIQ_EVENT_EXECUTION_CREATED) {
		JsonObject *data = json_object_new();
		json_object_set_string_member(data, "workflow", "wf");
		json_object_set_string_member(data, "digest", "d1");
		event->data = aiq_json_new_object(data);
		event->definition_digest = g_strdup("d1");
		event->definition_json = g_strdup("{\"name\":\"wf\"}");
	} else if (type == AIQ_EVENT_STEP_FINISHED || type == AIQ_EVENT_STEP_STARTED) {
		JsonObject *data = json_object_new();
		event->step_id = g_strdup("s");
		event->attempt = type == AIQ_EVENT_STEP_FINISHED ? 1 : 0;
		event->status = type == AIQ_EVENT_STEP_FINISHED ? g_strdup("succeeded") : NULL;
		json_object_set_int_member(data, "n", seq);
		event->data = aiq_json_new_object(data);
	} else if (type == AIQ_EVENT_EXECUTION_FINISHED) {
		event->status = g_strdup("succeeded");
	}
	return event;
}

static void
test_journal_round_trip(void)
{
	g_autofree gchar *dir = make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "j.db", NULL);
	g_autofree gchar *id = aiq_id_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) journal = aiq_journal_new(path, &error);
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autofree gchar *def = NULL;
	AiqEventType types[] = { AIQ_EVENT_EXECUTION_CREATED,
				 AIQ_EVENT_EXECUTION_STARTED,
				 AIQ_EVENT_STEP_STARTED,
				 AIQ_EVENT_STEP_FINISHED };

	g_assert_no_error(error);
	for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
		g_autoptr(AiqEvent) event = event_new(id, i + 1, types[i]);
		g_assert_cmpuint(aiq_journal_append(journal, event), ==, i + 1);
	}
	g_assert_true(aiq_journal_flush(journal, &error));
	g_assert_cmpuint(aiq_journal_get_durable(journal), ==, 4);

	events = aiq_journal_load_events(journal, id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(events->len, ==, 4);
	for (guint i = 0; i < events->len; i++) {
		AiqEvent *event = g_ptr_array_index(events, i);
		g_assert_cmpint(event->seq, ==, i + 1);
		g_assert_cmpint(event->type, ==, types[i]);
	}
	g_assert_cmpstr(((AiqEvent *)g_ptr_array_index(events, 3))->step_id, ==, "s");
	g_assert_cmpstr(((AiqEvent *)g_ptr_array_index(events, 3))->status, ==, "succeeded");
	g_assert_cmpint(
		aiq_json_object_get_int(
			json_node_get_object(((AiqEvent *)g_ptr_array_index(events, 3))->data),
			"n",
			0),
		==,
		4);
	def = aiq_journal_load_definition(journal, "d1", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(def, ==, "{\"name\":\"wf\"}");

	/* running until execution.finished */
	list = aiq_journal_list_executions(journal, TRUE, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, 1);
	g_assert_cmpstr(((AiqJournalExecution *)g_ptr_array_index(list, 0))->status, ==, "running");
	{
		g_autoptr(AiqEvent) event = event_new(id, 5, AIQ_EVENT_EXECUTION_FINISHED);
		aiq_journal_append(journal, event);
	}
	g_assert_true(aiq_journal_flush(journal, &error));
	g_clear_pointer(&list, g_ptr_array_unref);
	list = aiq_journal_list_executions(journal, TRUE, 0, &error);
	g_assert_cmpuint(list->len, ==, 0);
	g_clear_pointer(&list, g_ptr_array_unref);
	list = aiq_journal_list_executions(journal, FALSE, 10, &error);
	g_assert_cmpuint(list->len, ==, 1);
	g_assert_cmpstr(((AiqJournalExecution *)g_ptr_array_index(list, 0))->status,
			==,
			"succeeded");
	g_assert_true(aiq_journal_close(journal, &error));
	aiq_test_rm_rf(dir);
}

typedef struct {
	guint calls;
	guint64 last_called;
	AiqJournal *journal;
} WaitCtx;

static WaitCtx wait_ctx;

static void
durable_cb(gpointer user_data)
{
	guint64 lsn = GPOINTER_TO_SIZE(user_data);
	/* only once what was asked for is on disk, and in order */
	g_assert_cmpuint(aiq_journal_get_durable(wait_ctx.journal), >=, lsn);
	g_assert_cmpuint(lsn, >=, wait_ctx.last_called);
	wait_ctx.last_called = lsn;
	wait_ctx.calls++;
}

static void
test_journal_group_commit(void)
{
	g_autofree gchar *dir = make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "j.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) journal = aiq_journal_new(path, &error);
	const guint n_exec = 100;
	const guint n_events = 50;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);

	g_assert_no_error(error);
	memset(&wait_ctx, 0, sizeof(wait_ctx));
	wait_ctx.journal = journal;
	for (guint i = 0; i < n_exec; i++)
		g_ptr_array_add(ids, aiq_id_new());
	/* interleaved appends of many executions, as an engine makes them */
	for (guint seq = 1; seq <= n_events; seq++) {
		for (guint i = 0; i < n_exec; i++) {
			g_autoptr(AiqEvent) event = event_new(ids->pdata[i],
							      seq,
							      seq == 1 ? AIQ_EVENT_EXECUTION_CREATED
								       : AIQ_EVENT_STEP_STARTED);
			guint64 lsn = aiq_journal_append(journal, event);
			if (lsn % 97 == 0)
				aiq_journal_wait_durable(journal,
							 lsn,
							 durable_cb,
							 GSIZE_TO_POINTER(lsn));
		}
	}
	while (wait_ctx.calls < (n_exec * n_events) / 97)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(aiq_journal_flush(journal, &error));
	g_assert_cmpuint(aiq_journal_get_durable(journal), ==, n_exec * n_events);
	/* thousands of events, far fewer fsync'd commits */
	g_assert_cmpuint(aiq_journal_get_commits(journal), <, n_exec * n_events / 10);
	g_assert_cmpuint(aiq_journal_get_commits(journal), >, 0);
	for (guint i = 0; i < n_exec; i += 33) {
		g_autoptr(GPtrArray) events =
			aiq_journal_load_events(journal, ids->pdata[i], &error);
		g_assert_no_error(error);
		g_assert_cmpuint(events->len, ==, n_events);
	}
	/* waiting for something already durable calls back at once */
	wait_ctx.calls = 0;
	wait_ctx.last_called = 0;
	aiq_journal_wait_durable(journal, 1, durable_cb, GSIZE_TO_POINTER(1));
	g_assert_cmpuint(wait_ctx.calls, ==, 1);
	aiq_journal_close(journal, NULL);
	aiq_test_rm_rf(dir);
}

static void
test_journal_not_a_database(void)
{
	g_autofree gchar *dir = make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "j.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) journal = NULL;

	g_assert_true(
		g_file_set_contents(path, "this is not a database, just some text\n", -1, NULL));
	journal = aiq_journal_new(path, &error);
	g_assert_null(journal);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_JOURNAL);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_nonnull(strstr(error->message, "not an AutomateIQ journal"));
	aiq_test_rm_rf(dir);
}

static void
test_journal_foreign_database(void)
{
	g_autofree gchar *dir = make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "other.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) journal = NULL;
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "CREATE TABLE customers (id INTEGER)", NULL, NULL, NULL),
			==,
			SQLITE_OK);
	sqlite3_close(db);
	journal = aiq_journal_new(path, &error);
	g_assert_null(journal);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_JOURNAL);
	g_assert_nonnull(strstr(error->message, "another SQLite database"));
	/* the user's data was not touched */
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "SELECT id FROM customers", NULL, NULL, NULL),
			==,
			SQLITE_OK);
	sqlite3_close(db);
	aiq_test_rm_rf(dir);
}

static void
test_journal_newer_schema(void)
{
	g_autofree gchar *dir = make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "j.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) journal = aiq_journal_new(path, &error);
	sqlite3 *db = NULL;

	g_assert_no_error(error);
	aiq_journal_close(journal, NULL);
	g_clear_object(&journal);
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(
		sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
		==,
		SQLITE_OK);
	sqlite3_close(db);
	journal = aiq_journal_new(path, &error);
	g_assert_null(journal);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_JOURNAL);
	g_assert_nonnull(strstr(error->message, "newer version"));
	aiq_test_rm_rf(dir);
}

static void
test_journal_lock(void)
{
	g_autofree gchar *dir = make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "j.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqJournal) first = aiq_journal_new(path, &error);
	g_autoptr(AiqJournal) second = NULL;
	g_autoptr(AiqJournal) reader = NULL;
	g_autofree gchar *id = aiq_id_new();
	g_autoptr(AiqEvent) event = event_new(id, 1, AIQ_EVENT_EXECUTION_CREATED);
	g_autoptr(GPtrArray) events = NULL;

	g_assert_no_error(error);
	second = aiq_journal_new(path, &error);
	g_assert_null(second);
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_JOURNAL);
	g_assert_nonnull(strstr(error->message, "in use by another process"));
	g_clear_error(&error);

	/* a reader may look while the writer holds the lock */
	aiq_journal_append(first, event);
	g_assert_true(aiq_journal_flush(first, &error));
	reader = aiq_journal_new_read_only(path, &error);
	g_assert_no_error(error);
	events = aiq_journal_load_events(reader, id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(events->len, ==, 1);

	/* the lock goes with the first */
	aiq_journal_close(first, NULL);
	second = aiq_journal_new(path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(second);
	aiq_journal_close(second, NULL);
	aiq_test_rm_rf(dir);
}

static void
test_journal_event_json(void)
{
	g_autofree gchar *id = aiq_id_new();
	g_autoptr(AiqEvent) event = event_new(id, 7, AIQ_EVENT_STEP_FINISHED);
	g_autoptr(JsonNode) node = aiq_event_to_json(event);
	g_autoptr(AiqEvent) back = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) bad = NULL;

	back = aiq_event_new_from_json(node, &error);
	g_assert_no_error(error);
	g_assert_cmpint(back->seq, ==, 7);
	g_assert_cmpint(back->type, ==, AIQ_EVENT_STEP_FINISHED);
	g_assert_cmpstr(back->status, ==, "succeeded");
	g_assert_cmpint(back->time_us, ==, event->time_us);
	g_assert_true(json_node_equal(back->data, event->data));

	/* wrong types and ranges are named */
	{
		const gchar *text = "{\"execution_id\":\"x\",\"seq\":1}";
		bad = aiq_json_parse(text, strlen(text), 8, NULL);
	}
	g_assert_null(aiq_event_new_from_json(bad, &error));
	g_assert_nonnull(strstr(error->message, "execution_id"));
	g_clear_error(&error);
	json_object_set_string_member(json_node_get_object(bad), "execution_id", id);
	json_object_set_int_member(json_node_get_object(bad), "seq", 0);
	g_assert_null(aiq_event_new_from_json(bad, &error));
	g_assert_nonnull(strstr(error->message, "seq"));
	g_clear_error(&error);
	json_object_set_int_member(json_node_get_object(bad), "seq", 1);
	json_object_set_string_member(json_node_get_object(bad), "type", "step.exploded");
	g_assert_null(aiq_event_new_from_json(bad, &error));
	g_assert_nonnull(strstr(error->message, "step.exploded"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/journal/round-trip", test_journal_round_trip);
	g_test_add_func("/aiq/journal/group-commit", test_journal_group_commit);
	g_test_add_func("/aiq/journal/not-a-database", test_journal_not_a_database);
	g_test_add_func("/aiq/journal/foreign-database", test_journal_foreign_database);
	g_test_add_func("/aiq/journal/newer-schema", test_journal_newer_schema);
	g_test_add_func("/aiq/journal/lock", test_journal_lock);
	g_test_add_func("/aiq/journal/event-json", test_journal_event_json);
	return g_test_run();
}
