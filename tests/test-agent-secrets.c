/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqAgent"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aiq-agent-secret-store.h"
#include "aiq-error.h"
#include "aiq-test-util.h"

/*
 * The agent's secret store on real files in a temporary state directory:
 * what is written, what a reader sees, and what it refuses.
 */

#define PG_VALUE "s3cr3t-Pa55 'with quotes' \\ and spaces"

typedef struct {
	gchar *state_dir;
	gchar *key_path;
	gchar *data_path;
	AiqAgentSecretStore *store;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	f->state_dir = g_dir_make_tmp("aiq-test-secrets-XXXXXX", &error);
	g_assert_no_error(error);
	f->key_path = g_build_filename(f->state_dir, "secrets.key", NULL);
	f->data_path = g_build_filename(f->state_dir, "secrets.enc", NULL);
	f->store = aiq_agent_secret_store_new(f->state_dir);
}

static void
fixture_teardown(Fixture *f, gconstpointer user_data)
{
	g_clear_object(&f->store);
	aiq_test_rm_rf(f->state_dir);
	g_free(f->state_dir);
	g_free(f->key_path);
	g_free(f->data_path);
}

static void
set_ok(AiqAgentSecretStore *store, const gchar *name, const gchar *value)
{
	g_autoptr(GError) error = NULL;
	g_assert_true(aiq_agent_secret_store_set(store, name, value, &error));
	g_assert_no_error(error);
}

static gchar *
lookup(AiqAgentSecretStore *store, const gchar *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqSecrets) secrets = aiq_agent_secret_store_load(store, &error);
	g_assert_no_error(error);
	g_assert_nonnull(secrets);
	return aiq_secrets_lookup(secrets, name);
}

static gchar *
list_joined(AiqAgentSecretStore *store)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) names = aiq_agent_secret_store_list(store, &error);
	g_assert_no_error(error);
	g_assert_nonnull(names);
	return g_strjoinv(",", names);
}

static GBytes *
read_bytes(const gchar *path)
{
	g_autoptr(GError) error = NULL;
	gchar *data = NULL;
	gsize len = 0;
	g_file_get_contents(path, &data, &len, &error);
	g_assert_no_error(error);
	return g_bytes_new_take(data, len);
}

static void
write_bytes(const gchar *path, GBytes *bytes, gint mode)
{
	g_autoptr(GError) error = NULL;
	g_file_set_contents_full(path,
				 g_bytes_get_data(bytes, NULL),
				 g_bytes_get_size(bytes),
				 G_FILE_SET_CONTENTS_CONSISTENT,
				 mode,
				 &error);
	g_assert_no_error(error);
}

static gboolean
bytes_contain(GBytes *bytes, const gchar *needle)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);
	return memmem(data, len, needle, strlen(needle)) != NULL;
}

static void
assert_message_contains(const GError *error, const gchar *text)
{
	g_assert_nonnull(error);
	if (strstr(error->message, text) == NULL)
		g_error("“%s” does not contain “%s”", error->message, text);
}

static void
assert_mode(const gchar *path, guint mode)
{
	GStatBuf st;
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, mode);
}

/* ---- tests ---- */

static void
test_round_trip(Fixture *f, gconstpointer user_data)
{
	g_autoptr(AiqAgentSecretStore) other = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *names = NULL;
	g_autofree gchar *value = NULL;
	g_auto(GStrv) empty = NULL;
	g_autoptr(AiqSecrets) none = NULL;
	const gchar *remaining[] = { "API_TOKEN", "PG_PASSWORD", "_tricky", NULL };
	const gchar *tricky = "line 1\nline 2\t\"quoted\" \\ back\\slash \x01 ünïcødé ✓";

	/* nothing yet: empty, and reading creates no files */
	empty = aiq_agent_secret_store_list(f->store, &error);
	g_assert_no_error(error);
	g_assert_nonnull(empty);
	g_assert_cmpuint(g_strv_length(empty), ==, 0);
	none = aiq_agent_secret_store_load(f->store, &error);
	g_assert_no_error(error);
	g_assert_true(aiq_secrets_is_empty(none));
	g_assert_false(g_file_test(f->key_path, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(f->data_path, G_FILE_TEST_EXISTS));

	set_ok(f->store, "PG_PASSWORD", PG_VALUE);
	set_ok(f->store, "API_TOKEN", "tok-1");
	set_ok(f->store, "_tricky", tricky);
	set_ok(f->store, "EMPTY", "");
	names = list_joined(f->store);
	g_assert_cmpstr(names, ==, "API_TOKEN,EMPTY,PG_PASSWORD,_tricky");

	value = lookup(f->store, "PG_PASSWORD");
	g_assert_cmpstr(value, ==, PG_VALUE);
	g_clear_pointer(&value, g_free);
	value = lookup(f->store, "_tricky");
	g_assert_cmpstr(value, ==, tricky);
	g_clear_pointer(&value, g_free);
	value = lookup(f->store, "EMPTY");
	g_assert_cmpstr(value, ==, "");
	g_clear_pointer(&value, g_free);

	/* replace a value */
	set_ok(f->store, "API_TOKEN", "tok-2");
	value = lookup(f->store, "API_TOKEN");
	g_assert_cmpstr(value, ==, "tok-2");
	g_clear_pointer(&value, g_free);

	/* delete one; deleting it again, or one never set, is NOT_FOUND */
	g_assert_true(aiq_agent_secret_store_delete(f->store, "EMPTY", &error));
	g_assert_no_error(error);
	g_assert_false(aiq_agent_secret_store_delete(f->store, "EMPTY", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	assert_message_contains(error, "EMPTY");
	g_clear_error(&error);
	g_assert_false(aiq_agent_secret_store_delete(f->store, "NEVER_SET", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	g_clear_error(&error);

	/* another store on the same directory (another process) sees the same */
	other = aiq_agent_secret_store_new(f->state_dir);
	g_clear_pointer(&names, g_free);
	names = list_joined(other);
	g_assert_cmpstr(names, ==, "API_TOKEN,PG_PASSWORD,_tricky");
	value = lookup(other, "API_TOKEN");
	g_assert_cmpstr(value, ==, "tok-2");
	g_clear_pointer(&value, g_free);

	/* deleting the last one leaves an empty, still readable store */
	for (guint i = 0; remaining[i] != NULL; i++) {
		g_assert_true(aiq_agent_secret_store_delete(other, remaining[i], &error));
		g_assert_no_error(error);
	}
	g_clear_pointer(&names, g_free);
	names = list_joined(f->store);
	g_assert_cmpstr(names, ==, "");
}

static void
test_state_dir_created(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *nested = g_build_filename(f->state_dir, "a", "b", NULL);
	g_autoptr(AiqAgentSecretStore) store = aiq_agent_secret_store_new(nested);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *names = NULL;

	g_assert_false(aiq_agent_secret_store_delete(store, "X", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND);
	g_assert_false(g_file_test(nested, G_FILE_TEST_EXISTS));
	set_ok(store, "X", "value-x");
	assert_mode(nested, 0700);
	names = list_joined(store);
	g_assert_cmpstr(names, ==, "X");
}

static void
test_modes(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *lock_path = g_build_filename(f->state_dir, "secrets.lock", NULL);
	mode_t old_umask = umask(0);

	/* even with a permissive umask */
	set_ok(f->store, "A", "value-a");
	umask(old_umask);
	assert_mode(f->key_path, 0600);
	assert_mode(f->data_path, 0600);
	assert_mode(lock_path, 0600);
	set_ok(f->store, "B", "value-b");
	assert_mode(f->data_path, 0600);
}

static void
test_at_rest(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GBytes) first = NULL;
	g_autoptr(GBytes) second = NULL;
	g_autoptr(GBytes) key = NULL;

	set_ok(f->store, "PG_PASSWORD", PG_VALUE);
	set_ok(f->store, "VISIBLE_NAME_CHECK", "plain-text-canary-0123456789");
	first = read_bytes(f->data_path);
	g_assert_false(bytes_contain(first, "PG_PASSWORD"));
	g_assert_false(bytes_contain(first, "s3cr3t-Pa55"));
	g_assert_false(bytes_contain(first, "VISIBLE_NAME_CHECK"));
	g_assert_false(bytes_contain(first, "plain-text-canary"));
	key = read_bytes(f->key_path);
	g_assert_cmpuint(g_bytes_get_size(key), ==, 32);

	/* the same contents written again: a fresh nonce, different bytes */
	set_ok(f->store, "PG_PASSWORD", PG_VALUE);
	second = read_bytes(f->data_path);
	g_assert_cmpuint(g_bytes_get_size(first), ==, g_bytes_get_size(second));
	g_assert_false(g_bytes_equal(first, second));
}

static void
assert_store_fails(Fixture *f, gint code, const gchar *path)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) names = NULL;
	g_autoptr(AiqSecrets) secrets = NULL;

	names = aiq_agent_secret_store_list(f->store, &error);
	g_assert_null(names);
	g_assert_error(error, AIQ_ERROR, code);
	assert_message_contains(error, path);
	g_clear_error(&error);

	secrets = aiq_agent_secret_store_load(f->store, &error);
	g_assert_null(secrets);
	g_assert_error(error, AIQ_ERROR, code);
	g_clear_error(&error);

	/* a write must not replace what it cannot read */
	g_assert_false(aiq_agent_secret_store_set(f->store, "NEW", "new-value", &error));
	g_assert_error(error, AIQ_ERROR, code);
	assert_message_contains(error, path);
	assert_message_contains(error, "NEW");
	g_assert_null(strstr(error->message, "new-value"));
	g_clear_error(&error);

	g_assert_false(aiq_agent_secret_store_delete(f->store, "A", &error));
	g_assert_error(error, AIQ_ERROR, code);
	g_clear_error(&error);
}

static void
assert_intact(Fixture *f)
{
	g_autofree gchar *names = list_joined(f->store);
	g_autofree gchar *a = lookup(f->store, "A");
	g_autofree gchar *pg = lookup(f->store, "PG_PASSWORD");
	g_assert_cmpstr(names, ==, "A,B,PG_PASSWORD");
	g_assert_cmpstr(a, ==, "value-a");
	g_assert_cmpstr(pg, ==, PG_VALUE);
}

static void
test_tamper(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GBytes) orig = NULL;
	gsize len = 0;
	const guint8 *data;
	/* in the magic, in the nonce, in the MAC, in the ciphertext (last byte) */
	gsize offsets[] = { 0, 10, 40, 0 };

	set_ok(f->store, "A", "value-a");
	set_ok(f->store, "B", "value-b");
	set_ok(f->store, "PG_PASSWORD", PG_VALUE);
	orig = read_bytes(f->data_path);
	data = g_bytes_get_data(orig, &len);
	offsets[G_N_ELEMENTS(offsets) - 1] = len - 1;

	for (guint i = 0; i < G_N_ELEMENTS(offsets); i++) {
		g_autofree guint8 *copy = g_memdup2(data, len);
		g_autoptr(GBytes) bad = NULL;
		g_autoptr(GBytes) after = NULL;
		copy[offsets[i]] ^= 0x01;
		bad = g_bytes_new(copy, len);
		write_bytes(f->data_path, bad, 0600);
		assert_store_fails(f, AIQ_ERROR_JOURNAL, f->data_path);
		/* nothing was written over it */
		after = read_bytes(f->data_path);
		g_assert_true(g_bytes_equal(after, bad));
		write_bytes(f->data_path, orig, 0600);
		assert_intact(f);
	}

	/* truncated, and empty */
	{
		g_autoptr(GBytes) cut = g_bytes_new(data, 30);
		g_autoptr(GBytes) nothing = g_bytes_new(NULL, 0);
		write_bytes(f->data_path, cut, 0600);
		assert_store_fails(f, AIQ_ERROR_JOURNAL, f->data_path);
		write_bytes(f->data_path, nothing, 0600);
		assert_store_fails(f, AIQ_ERROR_JOURNAL, f->data_path);
	}
	write_bytes(f->data_path, orig, 0600);
	assert_intact(f);
}

static void
test_wrong_key(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GBytes) orig = NULL;
	g_autoptr(GBytes) other = NULL;
	guint8 random_key[32];

	set_ok(f->store, "A", "value-a");
	set_ok(f->store, "B", "value-b");
	set_ok(f->store, "PG_PASSWORD", PG_VALUE);
	orig = read_bytes(f->key_path);

	/* another key of the right size and mode: cannot decrypt */
	for (guint i = 0; i < sizeof(random_key); i++)
		random_key[i] = (guint8)g_random_int();
	other = g_bytes_new(random_key, sizeof(random_key));
	write_bytes(f->key_path, other, 0600);
	assert_store_fails(f, AIQ_ERROR_JOURNAL, f->data_path);

	/* the key missing while the secrets are there */
	g_assert_cmpint(g_unlink(f->key_path), ==, 0);
	assert_store_fails(f, AIQ_ERROR_JOURNAL, f->key_path);
	g_assert_false(g_file_test(f->key_path, G_FILE_TEST_EXISTS));

	write_bytes(f->key_path, orig, 0600);
	assert_intact(f);
}

static void
test_key_refused(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GBytes) orig = NULL;
	g_autoptr(GBytes) short_key = NULL;
	g_autofree gchar *elsewhere = g_build_filename(f->state_dir, "elsewhere.key", NULL);
	const guint modes[] = { 0644, 0640, 0604, 0660, 0606 };

	set_ok(f->store, "A", "value-a");
	set_ok(f->store, "B", "value-b");
	set_ok(f->store, "PG_PASSWORD", PG_VALUE);
	orig = read_bytes(f->key_path);

	/* readable (or writable) by others */
	for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_assert_cmpint(g_chmod(f->key_path, modes[i]), ==, 0);
		assert_store_fails(f, AIQ_ERROR_PERMISSION_DENIED, f->key_path);
	}
	g_assert_cmpint(g_chmod(f->key_path, 0600), ==, 0);
	assert_intact(f);

	/* the wrong size */
	short_key = g_bytes_new(g_bytes_get_data(orig, NULL), 16);
	write_bytes(f->key_path, short_key, 0600);
	assert_store_fails(f, AIQ_ERROR_JOURNAL, f->key_path);

	/* a symbolic link, even to a good key */
	write_bytes(elsewhere, orig, 0600);
	g_assert_cmpint(g_unlink(f->key_path), ==, 0);
	g_assert_cmpint(symlink(elsewhere, f->key_path), ==, 0);
	assert_store_fails(f, AIQ_ERROR_PERMISSION_DENIED, f->key_path);

	g_assert_cmpint(g_unlink(f->key_path), ==, 0);
	write_bytes(f->key_path, orig, 0600);
	assert_intact(f);
}

static void
test_key_refused_before_first_secret(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) key = g_bytes_new_static("0123456789abcdef0123456789abcdef", 32);

	/* a key someone else made, readable by all, is not used for new secrets */
	write_bytes(f->key_path, key, 0644);
	g_assert_false(aiq_agent_secret_store_set(f->store, "A", "value-a", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_PERMISSION_DENIED);
	assert_message_contains(error, f->key_path);
	g_assert_false(g_file_test(f->data_path, G_FILE_TEST_EXISTS));
}

static void
test_names(Fixture *f, gconstpointer user_data)
{
	const gchar *bad[] = { "", "1ABC", "A-B", "A B", "a.b", "ü", "$X", "A\nB", NULL };
	const gchar *good[] = { "A", "_", "_x9", "abc_DEF_123", NULL };
	g_autofree gchar *max_name = g_strnfill(128, 'N');
	g_autofree gchar *long_name = g_strnfill(129, 'L');
	g_autofree gchar *max_value = g_strnfill(64 * 1024, 'v');
	g_autofree gchar *long_value = g_strnfill(64 * 1024 + 1, 'w');
	g_autoptr(GError) error = NULL;
	g_autofree gchar *names = NULL;
	g_autofree gchar *expected = NULL;

	for (guint i = 0; bad[i] != NULL; i++) {
		g_assert_false(aiq_agent_secret_store_set(f->store, bad[i], "v", &error));
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
		assert_message_contains(error, bad[i]);
		g_clear_error(&error);
		g_assert_false(aiq_agent_secret_store_delete(f->store, bad[i], &error));
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
	}
	g_assert_false(aiq_agent_secret_store_set(f->store, long_name, "v", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	assert_message_contains(error, "LLLLLLLLLL");
	assert_message_contains(error, "128");
	g_clear_error(&error);
	/* nothing was written for any of them */
	g_assert_false(g_file_test(f->data_path, G_FILE_TEST_EXISTS));

	for (guint i = 0; good[i] != NULL; i++)
		set_ok(f->store, good[i], "v");
	set_ok(f->store, max_name, "v");

	/* values: at most 64 KiB of UTF-8, and never quoted in an error */
	set_ok(f->store, "BIG", max_value);
	g_assert_false(aiq_agent_secret_store_set(f->store, "TOO_BIG", long_value, &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_TOO_LARGE);
	assert_message_contains(error, "TOO_BIG");
	g_assert_null(strstr(error->message, "wwwwwwww"));
	g_clear_error(&error);
	g_assert_false(aiq_agent_secret_store_set(f->store, "BINARY", "pass\xff\xfeword", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_INVALID_ARGUMENT);
	assert_message_contains(error, "BINARY");
	g_assert_null(strstr(error->message, "pass"));
	g_clear_error(&error);

	names = list_joined(f->store);
	expected = g_strdup_printf("A,BIG,%s,_,_x9,abc_DEF_123", max_name);
	g_assert_cmpstr(names, ==, expected);
	{
		g_autofree gchar *big = lookup(f->store, "BIG");
		g_assert_cmpstr(big, ==, max_value);
	}
}

#define N_WRITES 50

static void
write_many(const gchar *state_dir, const gchar *prefix)
{
	g_autoptr(AiqAgentSecretStore) store = aiq_agent_secret_store_new(state_dir);
	for (guint i = 0; i < N_WRITES; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *name = g_strdup_printf("%s_%02u", prefix, i);
		g_autofree gchar *value = g_strdup_printf("value of %s", name);
		if (!aiq_agent_secret_store_set(store, name, value, &error))
			g_error("%s: %s", name, error->message);
	}
}

static void
assert_all_written(Fixture *f, const gchar *const *prefixes)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) names = aiq_agent_secret_store_list(f->store, &error);
	g_autoptr(AiqSecrets) secrets = aiq_agent_secret_store_load(f->store, &error);
	guint n_prefixes = g_strv_length((gchar **)prefixes);

	g_assert_no_error(error);
	g_assert_cmpuint(g_strv_length(names), ==, n_prefixes * N_WRITES);
	for (guint p = 0; p < n_prefixes; p++) {
		for (guint i = 0; i < N_WRITES; i++) {
			g_autofree gchar *name = g_strdup_printf("%s_%02u", prefixes[p], i);
			g_autofree gchar *expected = g_strdup_printf("value of %s", name);
			g_autofree gchar *value = aiq_secrets_lookup(secrets, name);
			g_assert_cmpstr(value, ==, expected);
		}
	}
}

/* two processes (two CLI invocations), racing from an empty directory, key and all */
static void
test_concurrent_processes(Fixture *f, gconstpointer user_data)
{
	const gchar *const prefixes[] = { "FIRST", "SECOND", NULL };
	pid_t pids[2];

	for (guint i = 0; i < G_N_ELEMENTS(pids); i++) {
		pids[i] = fork();
		g_assert_cmpint(pids[i], >=, 0);
		if (pids[i] == 0) {
			write_many(f->state_dir, prefixes[i]);
			_exit(0);
		}
	}
	for (guint i = 0; i < G_N_ELEMENTS(pids); i++) {
		gint status = 0;
		g_assert_cmpint(waitpid(pids[i], &status, 0), ==, pids[i]);
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	}
	assert_all_written(f, prefixes);
}

typedef struct {
	const gchar *state_dir;
	const gchar *prefix;
} WriterData;

static gpointer
writer_thread(gpointer user_data)
{
	WriterData *data = user_data;
	write_many(data->state_dir, data->prefix);
	return NULL;
}

/* and threads of one process, each with a store of its own */
static void
test_concurrent_threads(Fixture *f, gconstpointer user_data)
{
	const gchar *const prefixes[] = { "T0", "T1", "T2", "T3", NULL };
	WriterData data[4];
	GThread *threads[4];

	for (guint i = 0; i < G_N_ELEMENTS(threads); i++) {
		data[i].state_dir = f->state_dir;
		data[i].prefix = prefixes[i];
		threads[i] = g_thread_new("writer", writer_thread, &data[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		g_thread_join(threads[i]);
	assert_all_written(f, prefixes);
}

static void
test_load_masks(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqSecrets) secrets = NULL;
	g_auto(GStrv) names = NULL;
	g_autofree gchar *masked = NULL;
	g_autofree gchar *value = NULL;

	set_ok(f->store, "PG_PASSWORD", PG_VALUE);
	set_ok(f->store, "API_TOKEN", "tok-abcdef");
	secrets = aiq_agent_secret_store_load(f->store, &error);
	g_assert_no_error(error);
	names = aiq_secrets_list_names(secrets);
	g_assert_cmpuint(g_strv_length(names), ==, 2);
	g_assert_cmpstr(names[0], ==, "API_TOKEN");
	g_assert_cmpstr(names[1], ==, "PG_PASSWORD");
	value = aiq_secrets_lookup(secrets, "PG_PASSWORD");
	g_assert_cmpstr(value, ==, PG_VALUE);

	masked = aiq_secrets_mask_string(secrets,
					 "connect password=" PG_VALUE " token=tok-abcdef done");
	g_assert_cmpstr(masked, ==, "connect password=*** token=*** done");
}

int
main(int argc, char **argv)
{
	static const struct {
		const gchar *path;
		void (*func)(Fixture *, gconstpointer);
	} tests[] = {
		{ "round-trip", test_round_trip },
		{ "state-dir-created", test_state_dir_created },
		{ "modes", test_modes },
		{ "at-rest", test_at_rest },
		{ "tamper", test_tamper },
		{ "wrong-key", test_wrong_key },
		{ "key-refused", test_key_refused },
		{ "key-refused-before-first-secret", test_key_refused_before_first_secret },
		{ "names", test_names },
		{ "concurrent-processes", test_concurrent_processes },
		{ "concurrent-threads", test_concurrent_threads },
		{ "load-masks", test_load_masks },
	};

	g_test_init(&argc, &argv, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(tests); i++) {
		g_autofree gchar *path = g_strdup_printf("/aiq/agent/secrets/%s", tests[i].path);
		g_test_add(path, Fixture, NULL, fixture_setup, tests[i].func, fixture_teardown);
	}
	return g_test_run();
}
