/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aiq-test-util.h"
#include "aiq-config.h"
#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-problems.h"
#include "aiq-step-kind.h"
#include "aiq-step-run.h"
#include "aiq-util.h"

typedef struct {
	gchar *base;    /* the temporary directory of the test */
	gchar *root;    /* base/root: the file root "drop" */
	gchar *other;   /* base/other: the file root "other" */
	gchar *outside; /* base/outside: must never be reached */
	AiqConfig *config;
} Fixture;

/*
 * Each confinement test runs with openat2() and with the realpath()
 * fallback. A fallback test runs in a subprocess, which sets
 * AIQ_FILE_DISABLE_OPENAT2 before it starts any thread.
 */
typedef void (*FixtureFunc)(gpointer f, gconstpointer user_data);

typedef struct {
	gboolean fallback;
	FixtureFunc func;
} FixtureMode;

static const FixtureMode mode_openat2 = { FALSE, NULL };

static void
test_write_file(const gchar *path, const gchar *contents)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_path_get_dirname(path);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
}

static gchar *
test_read_file(const gchar *path)
{
	g_autoptr(GError) error = NULL;
	gchar *contents = NULL;
	g_file_get_contents(path, &contents, NULL, &error);
	g_assert_no_error(error);
	return contents;
}

static void
fixture_setup(Fixture *f, gconstpointer user_data)
{
	const FixtureMode *mode = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *secret = NULL;

	f->base = g_dir_make_tmp("aiq-file-XXXXXX", &error);
	g_assert_no_error(error);
	f->root = g_build_filename(f->base, "root", NULL);
	f->other = g_build_filename(f->base, "other", NULL);
	f->outside = g_build_filename(f->base, "outside", NULL);
	g_assert_cmpint(g_mkdir(f->root, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(f->other, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(f->outside, 0755), ==, 0);
	secret = g_build_filename(f->outside, "secret.txt", NULL);
	test_write_file(secret, "top secret\n");

	f->config = aiq_config_new();
	aiq_config_add_file_root(f->config, "drop", f->root);
	aiq_config_add_file_root(f->config, "other", f->other);

	/* the subprocess of a fallback test, and only that, runs without openat2() */
	g_assert_cmpint(mode != NULL && mode->fallback && g_test_subprocess(),
			==,
			g_getenv("AIQ_FILE_DISABLE_OPENAT2") != NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer user_data)
{
	aiq_test_rm_rf(f->base);
	g_free(f->base);
	g_free(f->root);
	g_free(f->other);
	g_free(f->outside);
	g_object_unref(f->config);
}

typedef struct {
	gboolean done;
	JsonNode *output;
	GError *error;
} TestResult;

static void
test_run_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	TestResult *result = user_data;
	result->output = aiq_step_run_run_finish(AIQ_STEP_RUN(source), res, &result->error);
	result->done = TRUE;
}

/*
 * Runs the file kind with @json (single quotes stand for double quotes) and
 * returns its output, or %NULL with @error set.
 */
static JsonNode *
test_file_run(Fixture *f, const gchar *json, GError **error)
{
	g_autofree gchar *text = g_strdup(json);
	g_autoptr(GError) error_local = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(JsonObject) params = NULL;
	g_autoptr(AiqStepRun) run = NULL;
	gpointer weak;
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	TestResult result = { 0 };

	g_strdelimit(text, "'", '"');
	node = json_from_string(text, &error_local);
	g_assert_no_error(error_local);
	params = aiq_step_kind_resolve_params(&aiq_step_kind_file,
					      json_node_get_object(node),
					      &error_local);
	g_assert_no_error(error_local);
	run = aiq_step_run_new(&aiq_step_kind_file, params, f->config);
	aiq_step_run_run_async(run, NULL, test_run_done_cb, &result);
	while (!result.done)
		g_main_context_iteration(NULL, TRUE);

	/* and nothing holds on to the run afterwards */
	weak = run;
	g_object_add_weak_pointer(G_OBJECT(run), &weak);
	g_clear_object(&run);
	while (weak != NULL && g_get_monotonic_time() < deadline) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	}
	g_assert_null(weak);

	if (result.error != NULL) {
		g_assert_null(result.output);
		g_propagate_error(error, result.error);
		return NULL;
	}
	return result.output;
}

/* runs and expects success */
static JsonNode *
test_file_ok(Fixture *f, const gchar *json)
{
	g_autoptr(GError) error = NULL;
	JsonNode *output = test_file_run(f, json, &error);
	g_assert_no_error(error);
	g_assert_nonnull(output);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(output));
	return output;
}

/* runs and expects @code, returning the message */
static gchar *
test_file_fail(Fixture *f, const gchar *json, AiqError code)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) output = test_file_run(f, json, &error);
	g_assert_null(output);
	g_assert_error(error, AIQ_ERROR, (gint)code);
	return g_strdup(error->message);
}

static const gchar *
test_get_string(JsonNode *output, const gchar *name)
{
	JsonObject *obj = json_node_get_object(output);
	g_assert_true(json_object_has_member(obj, name));
	return json_object_get_string_member(obj, name);
}

static gint64
test_get_int(JsonNode *output, const gchar *name)
{
	JsonObject *obj = json_node_get_object(output);
	g_assert_true(json_object_has_member(obj, name));
	return json_object_get_int_member(obj, name);
}

/* no temporary file of an atomic write is left behind in @dir */
static void
test_assert_no_temp_files(const gchar *dir_path)
{
	g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
	const gchar *name;
	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL)
		g_assert_false(g_str_has_prefix(name, ".aiq-tmp-"));
}

static gchar *
test_root_path(Fixture *f, const gchar *rel)
{
	return g_build_filename(f->root, rel, NULL);
}

static void
test_file_write_read(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) written = NULL;
	g_autoptr(JsonNode) read = NULL;
	g_autoptr(JsonNode) unicode = NULL;
	g_autofree gchar *on_disk = NULL;
	g_autofree gchar *path = test_root_path(f, "a.txt");

	written = test_file_ok(f,
			       "{'op': 'write', 'root': 'drop', 'path': './a.txt', "
			       "'content': 'hello\\nworld'}");
	g_assert_cmpstr(test_get_string(written, "path"), ==, "a.txt");
	g_assert_cmpint(test_get_int(written, "size"), ==, 11);
	on_disk = test_read_file(path);
	g_assert_cmpstr(on_disk, ==, "hello\nworld");
	test_assert_no_temp_files(f->root);

	read = test_file_ok(f, "{'op': 'read', 'root': 'drop', 'path': 'a.txt'}");
	g_assert_cmpstr(test_get_string(read, "content"), ==, "hello\nworld");
	g_assert_cmpstr(test_get_string(read, "encoding"), ==, "text");
	g_assert_cmpint(test_get_int(read, "size"), ==, 11);

	test_file_ok(f, "{'op': 'write', 'root': 'drop', 'path': 'u.txt', 'content': 'żółw ✓'}");
	unicode = test_file_ok(f, "{'op': 'read', 'root': 'drop', 'path': 'u.txt'}");
	g_assert_cmpstr(test_get_string(unicode, "content"), ==, "żółw ✓");
}

static void
test_file_write_atomic(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *path = test_root_path(f, "data.csv");
	g_autofree gchar *on_disk = NULL;
	g_autoptr(JsonNode) output = NULL;
	GStatBuf st;

	/* replacing keeps the file's permissions, and leaves no temporary file */
	test_write_file(path, "old");
	g_assert_cmpint(g_chmod(path, 0640), ==, 0);
	output = test_file_ok(f,
			      "{'op': 'write', 'root': 'drop', 'path': 'data.csv', "
			      "'content': 'new content'}");
	on_disk = test_read_file(path);
	g_assert_cmpstr(on_disk, ==, "new content");
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0640);
	test_assert_no_temp_files(f->root);
}

static void
test_file_write_overwrite(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *path = test_root_path(f, "keep.txt");
	g_autofree gchar *on_disk = NULL;
	g_autofree gchar *message = NULL;

	test_write_file(path, "original");
	message = test_file_fail(f,
				 "{'op': 'write', 'root': 'drop', 'path': 'keep.txt', "
				 "'content': 'x', 'overwrite': false}",
				 AIQ_ERROR_STEP_FAILED);
	g_assert_nonnull(strstr(message, "already exists"));
	on_disk = test_read_file(path);
	g_assert_cmpstr(on_disk, ==, "original");
	test_assert_no_temp_files(f->root);

	/* overwrite defaults to true for write */
	json_node_unref(test_file_ok(
		f,
		"{'op': 'write', 'root': 'drop', 'path': 'keep.txt', 'content': 'x'}"));
	g_free(on_disk);
	on_disk = test_read_file(path);
	g_assert_cmpstr(on_disk, ==, "x");
}

static void
test_file_write_create_dirs(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *message = NULL;
	g_autofree gchar *path = test_root_path(f, "x/y/z.txt");
	g_autofree gchar *on_disk = NULL;

	message = test_file_fail(
		f,
		"{'op': 'write', 'root': 'drop', 'path': 'x/y/z.txt', 'content': 'z'}",
		AIQ_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(message, "create_dirs"));
	json_node_unref(test_file_ok(f,
				     "{'op': 'write', 'root': 'drop', 'path': 'x/y/z.txt', "
				     "'content': 'z', 'create_dirs': true}"));
	on_disk = test_read_file(path);
	g_assert_cmpstr(on_disk, ==, "z");
}

static void
test_file_append(Fixture *f, gconstpointer user_data)
{
	g_autoptr(JsonNode) first = NULL;
	g_autoptr(JsonNode) second = NULL;
	g_autofree gchar *path = test_root_path(f, "log.txt");
	g_autofree gchar *on_disk = NULL;

	first = test_file_ok(f,
			     "{'op': 'append', 'root': 'drop', 'path': 'log.txt', "
			     "'content': 'one\\n'}");
	g_assert_cmpint(test_get_int(first, "size"), ==, 4);
	second = test_file_ok(f,
			      "{'op': 'append', 'root': 'drop', 'path': 'log.txt', "
			      "'content': 'two\\n'}");
	g_assert_cmpstr(test_get_string(second, "path"), ==, "log.txt");
	g_assert_cmpint(test_get_int(second, "size"), ==, 8);
	on_disk = test_read_file(path);
	g_assert_cmpstr(on_disk, ==, "one\ntwo\n");
}

static void
test_file_copy(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *src = test_root_path(f, "src.txt");
	g_autofree gchar *dst = test_root_path(f, "dir/dst.txt");
	g_autofree gchar *dir = test_root_path(f, "dir");
	g_autofree gchar *on_disk = NULL;
	g_autofree gchar *message = NULL;
	g_autoptr(JsonNode) output = NULL;

	test_write_file(src, "payload");
	output = test_file_ok(f,
			      "{'op': 'copy', 'root': 'drop', 'path': 'src.txt', "
			      "'to': 'dir/dst.txt', 'create_dirs': true}");
	g_assert_cmpstr(test_get_string(output, "path"), ==, "src.txt");
	g_assert_cmpstr(test_get_string(output, "to"), ==, "dir/dst.txt");
	g_assert_cmpint(test_get_int(output, "size"), ==, 7);
	on_disk = test_read_file(dst);
	g_assert_cmpstr(on_disk, ==, "payload");
	g_assert_true(g_file_test(src, G_FILE_TEST_EXISTS));

	/* overwrite defaults to false for copy */
	test_write_file(src, "changed");
	message = test_file_fail(f,
				 "{'op': 'copy', 'root': 'drop', 'path': 'src.txt', "
				 "'to': 'dir/dst.txt'}",
				 AIQ_ERROR_STEP_FAILED);
	g_assert_nonnull(strstr(message, "“dir/dst.txt” already exists"));
	g_free(on_disk);
	on_disk = test_read_file(dst);
	g_assert_cmpstr(on_disk, ==, "payload");

	json_node_unref(test_file_ok(f,
				     "{'op': 'copy', 'root': 'drop', 'path': 'src.txt', "
				     "'to': 'dir/dst.txt', 'overwrite': true}"));
	g_free(on_disk);
	on_disk = test_read_file(dst);
	g_assert_cmpstr(on_disk, ==, "changed");
	test_assert_no_temp_files(dir);

	/* only files are copied */
	g_free(message);
	message = test_file_fail(f,
				 "{'op': 'copy', 'root': 'drop', 'path': 'dir', 'to': 'dir2'}",
				 AIQ_ERROR_STEP_FAILED);
	g_assert_nonnull(strstr(message, "is a directory"));
}

static void
test_file_move(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *a = test_root_path(f, "a.txt");
	g_autofree gchar *b = test_root_path(f, "b.txt");
	g_autofree gchar *on_disk = NULL;
	g_autofree gchar *message = NULL;
	g_autoptr(JsonNode) output = NULL;

	test_write_file(a, "A");
	test_write_file(b, "B");
	message = test_file_fail(f,
				 "{'op': 'move', 'root': 'drop', 'path': 'a.txt', 'to': 'b.txt'}",
				 AIQ_ERROR_STEP_FAILED);
	g_assert_nonnull(strstr(message, "already exists"));
	g_assert_true(g_file_test(a, G_FILE_TEST_EXISTS));

	output = test_file_ok(f,
			      "{'op': 'move', 'root': 'drop', 'path': 'a.txt', 'to': 'b.txt', "
			      "'overwrite': true}");
	g_assert_cmpstr(test_get_string(output, "to"), ==, "b.txt");
	g_assert_cmpint(test_get_int(output, "size"), ==, 1);
	g_assert_false(g_file_test(a, G_FILE_TEST_EXISTS));
	on_disk = test_read_file(b);
	g_assert_cmpstr(on_disk, ==, "A");

	g_free(message);
	message = test_file_fail(f,
				 "{'op': 'move', 'root': 'drop', 'path': 'a.txt', 'to': 'c.txt'}",
				 AIQ_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(message, "“a.txt” does not exist in the file root “drop”"));
}

static void
test_file_cross_root(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *src = test_root_path(f, "in.txt");
	g_autofree gchar *copied = g_build_filename(f->other, "sub/copied.txt", NULL);
	g_autofree gchar *moved = g_build_filename(f->other, "moved.txt", NULL);
	g_autofree gchar *on_disk = NULL;
	g_autofree gchar *message = NULL;

	test_write_file(src, "cross");
	json_node_unref(test_file_ok(f,
				     "{'op': 'copy', 'root': 'drop', 'path': 'in.txt', "
				     "'to_root': 'other', 'to': 'sub/copied.txt', "
				     "'create_dirs': true}"));
	on_disk = test_read_file(copied);
	g_assert_cmpstr(on_disk, ==, "cross");

	json_node_unref(test_file_ok(f,
				     "{'op': 'move', 'root': 'drop', 'path': 'in.txt', "
				     "'to_root': 'other', 'to': 'moved.txt'}"));
	g_assert_false(g_file_test(src, G_FILE_TEST_EXISTS));
	g_free(on_disk);
	on_disk = test_read_file(moved);
	g_assert_cmpstr(on_disk, ==, "cross");

	/* the destination is confined to its own root */
	message = test_file_fail(f,
				 "{'op': 'copy', 'root': 'other', 'path': 'moved.txt', "
				 "'to_root': 'drop', 'to': '../outside/x.txt'}",
				 AIQ_ERROR_PERMISSION_DENIED);
	g_assert_cmpstr(message, ==, "path “../outside/x.txt” is outside the file root “drop”");
	g_free(message);
	message = test_file_fail(f,
				 "{'op': 'copy', 'root': 'drop', 'path': 'x', 'to_root': 'nope', "
				 "'to': 'x'}",
				 AIQ_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(message, "“nope”"));
}

static void
test_file_move_across_devices(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *shm = NULL;
	g_autofree gchar *src = test_root_path(f, "dev.txt");
	g_autofree gchar *dst = NULL;
	g_autofree gchar *on_disk = NULL;
	GStatBuf st_root;
	GStatBuf st_shm;

	if (!g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)) {
		g_test_skip("no /dev/shm");
		return;
	}
	shm = g_build_filename("/dev/shm", "aiq-file-XXXXXX", NULL);
	g_assert_nonnull(g_mkdtemp(shm));
	g_assert_cmpint(g_stat(f->root, &st_root), ==, 0);
	g_assert_cmpint(g_stat(shm, &st_shm), ==, 0);
	if (st_root.st_dev == st_shm.st_dev) {
		g_rmdir(shm);
		g_test_skip("/dev/shm is on the same file system as the temporary directory");
		return;
	}
	aiq_config_add_file_root(f->config, "shm", shm);
	/* rename() fails with EXDEV: copied, then removed */
	test_write_file(src, "across");
	json_node_unref(test_file_ok(f,
				     "{'op': 'move', 'root': 'drop', 'path': 'dev.txt', "
				     "'to_root': 'shm', 'to': 'dev.txt'}"));
	g_assert_false(g_file_test(src, G_FILE_TEST_EXISTS));
	dst = g_build_filename(shm, "dev.txt", NULL);
	on_disk = test_read_file(dst);
	g_assert_cmpstr(on_disk, ==, "across");
	aiq_test_rm_rf(shm);
}

static void
test_file_delete(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *path = test_root_path(f, "gone.txt");
	g_autofree gchar *dir = test_root_path(f, "emptydir");
	g_autofree gchar *full = test_root_path(f, "full/file");
	g_autofree gchar *message = NULL;
	g_autoptr(JsonNode) first = NULL;
	g_autoptr(JsonNode) second = NULL;
	g_autoptr(JsonNode) missing_dir = NULL;

	test_write_file(path, "x");
	first = test_file_ok(f, "{'op': 'delete', 'root': 'drop', 'path': 'gone.txt'}");
	g_assert_cmpstr(test_get_string(first, "path"), ==, "gone.txt");
	g_assert_true(json_object_get_boolean_member(json_node_get_object(first), "deleted"));
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

	second = test_file_ok(f, "{'op': 'delete', 'root': 'drop', 'path': 'gone.txt'}");
	g_assert_false(json_object_get_boolean_member(json_node_get_object(second), "deleted"));
	missing_dir = test_file_ok(f, "{'op': 'delete', 'root': 'drop', 'path': 'no/such/file'}");
	g_assert_false(
		json_object_get_boolean_member(json_node_get_object(missing_dir), "deleted"));

	/* empty directories go; full ones do not; the root itself never */
	g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
	json_node_unref(test_file_ok(f, "{'op': 'delete', 'root': 'drop', 'path': 'emptydir'}"));
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
	test_write_file(full, "x");
	message = test_file_fail(f,
				 "{'op': 'delete', 'root': 'drop', 'path': 'full'}",
				 AIQ_ERROR_STEP_FAILED);
	g_assert_nonnull(strstr(message, "not empty"));
	g_free(message);
	message = test_file_fail(f,
				 "{'op': 'delete', 'root': 'drop', 'path': '.'}",
				 AIQ_ERROR_INVALID_ARGUMENT);
	g_assert_true(g_file_test(f->root, G_FILE_TEST_IS_DIR));
}

static GStrv
test_list_paths(JsonNode *output)
{
	JsonArray *files = json_object_get_array_member(json_node_get_object(output), "files");
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_assert_cmpint(test_get_int(output, "count"), ==, json_array_get_length(files));
	for (guint i = 0; i < json_array_get_length(files); i++) {
		JsonObject *entry = json_array_get_object_element(files, i);
		g_autofree gchar *item =
			g_strdup_printf("%s:%s",
					json_object_get_string_member(entry, "path"),
					json_object_get_string_member(entry, "type"));
		g_strv_builder_add(builder, item);
	}
	return g_strv_builder_end(builder);
}

static gchar *
test_list(Fixture *f, const gchar *json)
{
	g_autoptr(JsonNode) output = test_file_ok(f, json);
	g_auto(GStrv) paths = test_list_paths(output);
	return g_strjoinv(" ", paths);
}

static void
test_file_list(Fixture *f, gconstpointer user_data)
{
	const gchar *files[] = { "b.txt", "a.csv", "sub/c.csv", "sub/e.txt", "sub/deeper/d.csv" };
	g_autofree gchar *list = NULL;
	g_autoptr(JsonNode) output = NULL;
	JsonObject *entry;
	gint64 modified = 0;

	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree gchar *path = test_root_path(f, files[i]);
		test_write_file(path, files[i]);
	}

	list = test_list(f, "{'op': 'list', 'root': 'drop', 'path': '.'}");
	g_assert_cmpstr(list, ==, "a.csv:file b.txt:file sub:directory");
	g_free(list);
	list = test_list(f, "{'op': 'list', 'root': 'drop', 'path': '', 'pattern': '*.csv'}");
	g_assert_cmpstr(list, ==, "a.csv:file");
	g_free(list);
	list = test_list(f,
			 "{'op': 'list', 'root': 'drop', 'path': '.', 'pattern': '*.csv', "
			 "'recursive': true}");
	g_assert_cmpstr(list, ==, "a.csv:file sub/c.csv:file sub/deeper/d.csv:file");
	g_free(list);
	/* paths are relative to the root, not to the listed directory */
	list = test_list(f, "{'op': 'list', 'root': 'drop', 'path': 'sub', 'recursive': true}");
	g_assert_cmpstr(list,
			==,
			"sub/c.csv:file sub/deeper:directory sub/deeper/d.csv:file sub/e.txt:file");
	g_free(list);
	/* a pattern with a slash matches paths below the listed directory */
	list = test_list(f,
			 "{'op': 'list', 'root': 'drop', 'path': 'sub', 'recursive': true, "
			 "'pattern': 'deeper/*'}");
	g_assert_cmpstr(list, ==, "sub/deeper/d.csv:file");

	output = test_file_ok(f, "{'op': 'list', 'root': 'drop', 'path': '.', 'pattern': 'a.*'}");
	entry = json_array_get_object_element(
		json_object_get_array_member(json_node_get_object(output), "files"),
		0);
	g_assert_cmpint(json_object_get_int_member(entry, "size"), ==, 5);
	g_assert_true(aiq_time_from_iso8601(json_object_get_string_member(entry, "modified"),
					    &modified,
					    NULL));
	g_assert_cmpint(ABS(modified - g_get_real_time()), <, 600 * G_USEC_PER_SEC);

	g_free(list);
	list = test_file_fail(f,
			      "{'op': 'list', 'root': 'drop', 'path': 'nope'}",
			      AIQ_ERROR_NOT_FOUND);
}

static void
test_file_checksum(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *path = test_root_path(f, "abc.txt");
	g_autoptr(JsonNode) sha256 = NULL;
	g_autoptr(JsonNode) sha1 = NULL;
	g_autoptr(JsonNode) md5 = NULL;

	test_write_file(path, "abc");
	sha256 = test_file_ok(f, "{'op': 'checksum', 'root': 'drop', 'path': 'abc.txt'}");
	g_assert_cmpstr(test_get_string(sha256, "algorithm"), ==, "sha256");
	g_assert_cmpstr(test_get_string(sha256, "checksum"),
			==,
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	g_assert_cmpint(test_get_int(sha256, "size"), ==, 3);
	g_assert_cmpstr(test_get_string(sha256, "path"), ==, "abc.txt");
	sha1 = test_file_ok(f,
			    "{'op': 'checksum', 'root': 'drop', 'path': 'abc.txt', "
			    "'algorithm': 'sha1'}");
	g_assert_cmpstr(test_get_string(sha1, "checksum"),
			==,
			"a9993e364706816aba3e25717850c26c9cd0d89d");
	md5 = test_file_ok(f,
			   "{'op': 'checksum', 'root': 'drop', 'path': 'abc.txt', "
			   "'algorithm': 'md5'}");
	g_assert_cmpstr(test_get_string(md5, "checksum"), ==, "900150983cd24fb0d6963f7d28e17f72");
}

static void
test_file_read_max_size(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *path = test_root_path(f, "big.txt");
	g_autofree gchar *contents = g_strnfill(100, 'x');
	g_autofree gchar *message = NULL;
	g_autoptr(JsonNode) output = NULL;

	test_write_file(path, contents);
	message =
		test_file_fail(f,
			       "{'op': 'read', 'root': 'drop', 'path': 'big.txt', 'max_size': 10}",
			       AIQ_ERROR_TOO_LARGE);
	g_assert_nonnull(strstr(message, "max_size"));
	output = test_file_ok(f,
			      "{'op': 'read', 'root': 'drop', 'path': 'big.txt', "
			      "'max_size': 100}");
	g_assert_cmpint(test_get_int(output, "size"), ==, 100);
}

static void
test_file_base64(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *path = test_root_path(f, "bin.dat");
	g_autofree gchar *contents = NULL;
	g_autofree gchar *message = NULL;
	g_autoptr(JsonNode) written = NULL;
	g_autoptr(JsonNode) read = NULL;
	gsize len = 0;

	/* bytes 00 01 02 ff */
	written = test_file_ok(f,
			       "{'op': 'write', 'root': 'drop', 'path': 'bin.dat', "
			       "'content': 'AAEC/w==', 'encoding': 'base64'}");
	g_assert_cmpint(test_get_int(written, "size"), ==, 4);
	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	g_assert_cmpmem(contents, len, "\x00\x01\x02\xff", 4);

	read = test_file_ok(f,
			    "{'op': 'read', 'root': 'drop', 'path': 'bin.dat', "
			    "'encoding': 'base64'}");
	g_assert_cmpstr(test_get_string(read, "content"), ==, "AAEC/w==");
	g_assert_cmpstr(test_get_string(read, "encoding"), ==, "base64");
	g_assert_cmpint(test_get_int(read, "size"), ==, 4);

	/* binary read as text: a hint, not mojibake */
	message = test_file_fail(f,
				 "{'op': 'read', 'root': 'drop', 'path': 'bin.dat'}",
				 AIQ_ERROR_STEP_FAILED);
	g_assert_nonnull(strstr(message, "encoding: base64"));

	g_free(message);
	message = test_file_fail(f,
				 "{'op': 'write', 'root': 'drop', 'path': 'bad.dat', "
				 "'content': 'not base64!', 'encoding': 'base64'}",
				 AIQ_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(message, "base64"));
}

static void
test_file_unknown_root(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *message = NULL;
	g_autoptr(AiqConfig) empty = aiq_config_new();
	AiqConfig *saved = f->config;

	message = test_file_fail(f,
				 "{'op': 'read', 'root': 'nope', 'path': 'a'}",
				 AIQ_ERROR_NOT_FOUND);
	g_assert_cmpstr(message, ==, "unknown file root “nope”; the agent has: drop, other");

	f->config = empty;
	g_free(message);
	message = test_file_fail(f,
				 "{'op': 'read', 'root': 'nope', 'path': 'a'}",
				 AIQ_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(message, "no [file-roots]"));
	f->config = saved;
}

static void
test_file_root_missing(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *message = NULL;
	g_autofree gchar *gone = g_build_filename(f->base, "gone", NULL);

	aiq_config_add_file_root(f->config, "gone", gone);
	message = test_file_fail(f,
				 "{'op': 'read', 'root': 'gone', 'path': 'a'}",
				 AIQ_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(message, "file root “gone”"));
}

static void
test_file_escape_syntax(Fixture *f, gconstpointer user_data)
{
	const gchar *cases[][2] = {
		{ "{'op': 'read', 'root': 'drop', 'path': '../outside/secret.txt'}",
		  "path “../outside/secret.txt” is outside the file root “drop”" },
		{ "{'op': 'read', 'root': 'drop', 'path': '/etc/passwd'}",
		  "path “/etc/passwd” is outside the file root “drop”" },
		{ "{'op': 'read', 'root': 'drop', 'path': 'a/../../outside/secret.txt'}",
		  "path “a/../../outside/secret.txt” is outside the file root “drop”" },
		/* refused even when it would stay inside */
		{ "{'op': 'read', 'root': 'drop', 'path': 'a/../b'}",
		  "path “a/../b” is outside the file root “drop”" },
		{ "{'op': 'write', 'root': 'drop', 'path': '../x', 'content': 'x'}",
		  "path “../x” is outside the file root “drop”" },
		{ "{'op': 'copy', 'root': 'drop', 'path': 'a', 'to': '../x'}",
		  "path “../x” is outside the file root “drop”" },
		{ "{'op': 'list', 'root': 'drop', 'path': '..'}",
		  "path “..” is outside the file root “drop”" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *message =
			test_file_fail(f, cases[i][0], AIQ_ERROR_PERMISSION_DENIED);
		g_assert_cmpstr(message, ==, cases[i][1]);
	}
}

static void
test_file_symlink_escape(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *secret = g_build_filename(f->outside, "secret.txt", NULL);
	g_autofree gchar *link_file = test_root_path(f, "link-file");
	g_autofree gchar *link_dir = test_root_path(f, "link-dir");
	g_autofree gchar *link_abs_inside = test_root_path(f, "link-abs-inside");
	g_autofree gchar *inside_target = test_root_path(f, "inside.txt");
	g_autofree gchar *sub = test_root_path(f, "sub");
	g_autofree gchar *link_inside = test_root_path(f, "sub/link-inside");
	g_autofree gchar *on_disk = NULL;
	g_autofree gchar *list = NULL;
	g_autofree gchar *outside_new = g_build_filename(f->outside, "new.txt", NULL);
	g_autofree gchar *outside_made = g_build_filename(f->outside, "made", NULL);
	g_autoptr(JsonNode) output = NULL;
	g_autoptr(JsonNode) written = NULL;
	const gchar *refused[] = {
		"{'op': 'read', 'root': 'drop', 'path': 'link-file'}",
		"{'op': 'read', 'root': 'drop', 'path': 'link-dir/secret.txt'}",
		"{'op': 'checksum', 'root': 'drop', 'path': 'link-file'}",
		"{'op': 'append', 'root': 'drop', 'path': 'link-file', 'content': 'x'}",
		"{'op': 'append', 'root': 'drop', 'path': 'link-dir/new.txt', 'content': 'x'}",
		"{'op': 'write', 'root': 'drop', 'path': 'link-dir/new.txt', 'content': 'x'}",
		"{'op': 'write', 'root': 'drop', 'path': 'link-dir/made/new.txt', 'content': 'x', "
		"'create_dirs': true}",
		"{'op': 'list', 'root': 'drop', 'path': 'link-dir'}",
		"{'op': 'copy', 'root': 'drop', 'path': 'link-file', 'to': 'copy.txt'}",
		"{'op': 'copy', 'root': 'drop', 'path': 'inside.txt', 'to': 'link-dir/copy.txt'}",
		"{'op': 'move', 'root': 'drop', 'path': 'inside.txt', 'to': 'link-dir/moved.txt'}",
		"{'op': 'move', 'root': 'drop', 'path': 'link-dir/secret.txt', 'to': 'stolen.txt'}",
		"{'op': 'delete', 'root': 'drop', 'path': 'link-dir/secret.txt'}",
	};
	const FixtureMode *mode = user_data;

	test_write_file(inside_target, "inside");
	g_assert_cmpint(symlink(secret, link_file), ==, 0);
	g_assert_cmpint(symlink("../outside", link_dir), ==, 0);
	g_assert_cmpint(symlink(inside_target, link_abs_inside), ==, 0);
	g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
	g_assert_cmpint(symlink("../inside.txt", link_inside), ==, 0);

	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) result = test_file_run(f, refused[i], &error);
		if (error == NULL)
			g_error("not refused: %s", refused[i]);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_PERMISSION_DENIED);
		g_assert_nonnull(strstr(error->message, "is outside the file root “drop”"));
	}
	/* an absolute link is refused even when it points inside, except by the
	 * realpath() fallback, which only sees where it ends */
	if (!mode->fallback) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) result =
			test_file_run(f,
				      "{'op': 'read', 'root': 'drop', 'path': 'link-abs-inside'}",
				      &error);
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_PERMISSION_DENIED);
	}

	/* nothing outside was read, changed, created or removed */
	on_disk = test_read_file(secret);
	g_assert_cmpstr(on_disk, ==, "top secret\n");
	g_assert_false(g_file_test(outside_new, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(outside_made, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_test(inside_target, G_FILE_TEST_EXISTS));

	/* a link that stays inside the root is followed */
	output = test_file_ok(f, "{'op': 'read', 'root': 'drop', 'path': 'sub/link-inside'}");
	g_assert_cmpstr(test_get_string(output, "content"), ==, "inside");

	/* a listing shows links only as what they lead to inside the root */
	list = test_list(f, "{'op': 'list', 'root': 'drop', 'path': '.', 'recursive': true}");
	g_assert_cmpstr(list,
			==,
			mode->fallback ? "inside.txt:file link-abs-inside:file sub:directory "
					 "sub/link-inside:file"
				       : "inside.txt:file sub:directory sub/link-inside:file");

	/* writing over a link replaces the link: it never writes through it */
	written = test_file_ok(f,
			       "{'op': 'write', 'root': 'drop', 'path': 'link-file', "
			       "'content': 'replaced'}");
	g_free(on_disk);
	on_disk = test_read_file(secret);
	g_assert_cmpstr(on_disk, ==, "top secret\n");
	g_assert_false(g_file_test(link_file, G_FILE_TEST_IS_SYMLINK));
	g_free(on_disk);
	on_disk = test_read_file(link_file);
	g_assert_cmpstr(on_disk, ==, "replaced");

	/* deleting a link removes the link, not its target */
	json_node_unref(test_file_ok(f, "{'op': 'delete', 'root': 'drop', 'path': 'link-dir'}"));
	g_assert_false(g_file_test(link_dir, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_test(secret, G_FILE_TEST_EXISTS));
}

static void
test_file_special_files(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *fifo = test_root_path(f, "pipe");
	g_autofree gchar *message = NULL;
	g_autofree gchar *list = NULL;

	/* a FIFO neither blocks the step nor shows up as a file */
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	message = test_file_fail(f,
				 "{'op': 'read', 'root': 'drop', 'path': 'pipe'}",
				 AIQ_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(message, "not a regular file"));
	g_free(message);
	message = test_file_fail(f,
				 "{'op': 'append', 'root': 'drop', 'path': 'pipe', 'content': 'x'}",
				 AIQ_ERROR_STEP_FAILED);
	list = test_list(f, "{'op': 'list', 'root': 'drop', 'path': '.'}");
	g_assert_cmpstr(list, ==, "");
	g_free(message);
	message = test_file_fail(f,
				 "{'op': 'read', 'root': 'drop', 'path': '.'}",
				 AIQ_ERROR_INVALID_ARGUMENT);
}

static AiqProblems *
test_validate(const gchar *json)
{
	g_autofree gchar *text = g_strdup(json);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	AiqProblems *problems = aiq_problems_new();
	g_strdelimit(text, "'", '"');
	node = json_from_string(text, &error);
	g_assert_no_error(error);
	aiq_step_kind_validate_with(&aiq_step_kind_file, node, "steps[0].with", problems);
	return problems;
}

static gboolean
test_problems_contain(AiqProblems *problems, const gchar *path, const gchar *needle)
{
	for (guint i = 0; i < aiq_problems_get_size(problems); i++) {
		const AiqProblem *problem = aiq_problems_index(problems, i);
		if (g_strcmp0(problem->path, path) == 0 && strstr(problem->message, needle) != NULL)
			return TRUE;
	}
	return FALSE;
}

static void
test_file_validate(void)
{
	g_autoptr(AiqProblems) ok = NULL;
	g_autoptr(AiqProblems) typo = NULL;
	g_autoptr(AiqProblems) no_root = NULL;
	g_autoptr(AiqProblems) expr_root = NULL;
	g_autoptr(AiqProblems) escape = NULL;
	g_autoptr(AiqProblems) unused = NULL;
	g_autoptr(AiqProblems) expr_path = NULL;

	ok = test_validate("{'op': 'copy', 'root': 'drop', 'path': 'a.csv', 'to': 'b/a.csv', "
			   "'to_root': 'archive', 'create_dirs': true}");
	g_assert_cmpuint(aiq_problems_get_size(ok), ==, 0);

	typo = test_validate("{'op': 'reaad', 'root': 'drop', 'path': 'a'}");
	g_assert_true(test_problems_contain(typo, "steps[0].with.op", "did you mean “read”?"));

	no_root = test_validate("{'op': 'read', 'path': 'a'}");
	g_assert_true(test_problems_contain(no_root, "steps[0].with.root", "missing required"));

	/* the root names configuration: it must be literal */
	expr_root = test_validate("{'op': 'read', 'root': '${{ inputs.root }}', 'path': 'a'}");
	g_assert_true(test_problems_contain(expr_root, "steps[0].with.root", "literal"));

	escape = test_validate("{'op': 'write', 'root': 'drop', 'path': '../etc/passwd'}");
	g_assert_true(
		test_problems_contain(escape,
				      "steps[0].with.path",
				      "path “../etc/passwd” is outside the file root “drop”"));
	g_assert_true(test_problems_contain(escape, "steps[0].with.content", "needs “content”"));

	unused = test_validate("{'op': 'read', 'root': 'drop', 'path': 'a', 'pattern': '*', "
			       "'to': '/abs'}");
	g_assert_true(test_problems_contain(unused, "steps[0].with.pattern", "not used by op"));
	g_assert_true(test_problems_contain(unused, "steps[0].with.to", "not used by op"));
	g_assert_true(test_problems_contain(unused, "steps[0].with.to", "outside"));

	/* expressions are checked once rendered */
	expr_path = test_validate("{'op': 'move', 'root': 'drop', 'path': '${{ inputs.p }}', "
				  "'to': '${{ inputs.q }}'}");
	g_assert_cmpuint(aiq_problems_get_size(expr_path), ==, 0);
}

static void
test_file_declaration(void)
{
	const AiqParam *root = aiq_step_kind_find_param(&aiq_step_kind_file, "root");
	g_assert_true(aiq_step_kind_lookup("file") == &aiq_step_kind_file);
	g_assert_true((aiq_step_kind_file.flags & AIQ_STEP_KIND_FLAG_HOST_ACCESS) != 0);
	g_assert_nonnull(root);
	g_assert_true(root->required);
	g_assert_true((root->flags & AIQ_PARAM_FLAG_LITERAL) != 0);
}

static void
test_in_fallback(Fixture *f, gconstpointer user_data)
{
	const FixtureMode *mode = user_data;
	if (g_test_subprocess()) {
		mode->func(f, user_data);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
}

#define ADD(path, func, mode)                   \
	g_test_add("/aiq/connector/file/" path, \
		   Fixture,                     \
		   mode,                        \
		   fixture_setup,               \
		   func,                        \
		   fixture_teardown)
#define ADD_FALLBACK(path, func)                                                             \
	G_STMT_START                                                                         \
	{                                                                                    \
		static const FixtureMode mode = { TRUE, (FixtureFunc)(void (*)(void))func }; \
		g_test_add("/aiq/connector/file/fallback/" path,                             \
			   Fixture,                                                          \
			   &mode,                                                            \
			   fixture_setup,                                                    \
			   test_in_fallback,                                                 \
			   fixture_teardown);                                                \
	}                                                                                    \
	G_STMT_END

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* before any thread: setenv() is not thread-safe */
	if (g_test_subprocess())
		g_setenv("AIQ_FILE_DISABLE_OPENAT2", "1", TRUE);
	else
		g_unsetenv("AIQ_FILE_DISABLE_OPENAT2");

	g_test_add_func("/aiq/connector/file/declaration", test_file_declaration);
	g_test_add_func("/aiq/connector/file/validate", test_file_validate);
	ADD("write-read", test_file_write_read, &mode_openat2);
	ADD("write-atomic", test_file_write_atomic, &mode_openat2);
	ADD("write-overwrite", test_file_write_overwrite, &mode_openat2);
	ADD("write-create-dirs", test_file_write_create_dirs, &mode_openat2);
	ADD("append", test_file_append, &mode_openat2);
	ADD("copy", test_file_copy, &mode_openat2);
	ADD("move", test_file_move, &mode_openat2);
	ADD("cross-root", test_file_cross_root, &mode_openat2);
	ADD("move-across-devices", test_file_move_across_devices, &mode_openat2);
	ADD("delete", test_file_delete, &mode_openat2);
	ADD("list", test_file_list, &mode_openat2);
	ADD("checksum", test_file_checksum, &mode_openat2);
	ADD("read-max-size", test_file_read_max_size, &mode_openat2);
	ADD("base64", test_file_base64, &mode_openat2);
	ADD("unknown-root", test_file_unknown_root, &mode_openat2);
	ADD("root-missing", test_file_root_missing, &mode_openat2);
	ADD("special-files", test_file_special_files, &mode_openat2);
	ADD("escape-syntax", test_file_escape_syntax, &mode_openat2);
	ADD("symlink-escape", test_file_symlink_escape, &mode_openat2);
	/* the same confinement, and the basics, without openat2() */
	ADD_FALLBACK("escape-syntax", test_file_escape_syntax);
	ADD_FALLBACK("symlink-escape", test_file_symlink_escape);
	ADD_FALLBACK("write-read", test_file_write_read);
	ADD_FALLBACK("write-create-dirs", test_file_write_create_dirs);
	ADD_FALLBACK("copy", test_file_copy);
	ADD_FALLBACK("list", test_file_list);
	return g_test_run();
}
