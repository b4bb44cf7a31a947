/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * aiqctl's server commands as a user runs them: the aiqctl binary ($AIQCTL)
 * in a subprocess, against the real server running in this process.
 */

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aiq-test-util.h"
#include "aiq-client.h"
#include "aiq-json.h"
#include "aiq-test-server.h"
#include "aiq-util.h"

#define TEST_PASSWORD "correct horse battery staple"

typedef struct {
	AiqTestServer *ts;
	gchar *dir;    /* HOME and XDG_CONFIG_HOME of aiqctl */
	gchar *ca;     /* tests/ca/ca.pem */
	gchar *token;  /* AIQ_TOKEN, or NULL for the saved login */
	gchar *server; /* AIQ_SERVER, or NULL */
	gboolean env_ca;
} Fixture;

typedef struct {
	gint status;
	gchar *out;
	gchar *err;
} Result;

static void
result_clear(Result *r)
{
	g_free(r->out);
	g_free(r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Result, result_clear)

static void
fixture_setup(Fixture *f, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	f->ts = aiq_test_server_new(NULL);
	f->dir = g_dir_make_tmp("aiqctl-remote-XXXXXX", &error);
	g_assert_no_error(error);
	f->ca = g_build_filename(g_getenv("G_TEST_SRCDIR"), "ca", "ca.pem", NULL);
	/* by default: the environment, as CI uses it */
	f->server = g_strdup(f->ts->url);
	f->token = g_strdup(f->ts->admin_token);
	f->env_ca = TRUE;
}

static void
fixture_teardown(Fixture *f, gconstpointer user_data)
{
	aiq_test_rm_rf(f->dir);
	aiq_test_server_free(f->ts);
	g_free(f->dir);
	g_free(f->ca);
	g_free(f->token);
	g_free(f->server);
}

/* without a controlling terminal: aiqctl may not prompt on /dev/tty */
static void
child_setup(gpointer user_data)
{
	setsid();
}

/* runs aiqctl with the NULL-terminated arguments; @input goes to stdin */
static void
run_input(Fixture *f, Result *r, const gchar *input, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	va_list args;
	const gchar *arg;

	g_ptr_array_add(argv, (gpointer)g_getenv("AIQCTL"));
	g_assert_nonnull(g_getenv("AIQCTL"));
	va_start(args, input);
	while ((arg = va_arg(args, const gchar *)) != NULL)
		g_ptr_array_add(argv, (gpointer)arg);
	va_end(args);
	g_ptr_array_add(argv, NULL);

	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
					     G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_setenv(launcher, "HOME", f->dir, TRUE);
	g_subprocess_launcher_setenv(launcher, "XDG_CONFIG_HOME", f->dir, TRUE);
	g_subprocess_launcher_setenv(launcher, "NO_COLOR", "1", TRUE);
	g_subprocess_launcher_unsetenv(launcher, "AIQ_SERVER");
	g_subprocess_launcher_unsetenv(launcher, "AIQ_TOKEN");
	g_subprocess_launcher_unsetenv(launcher, "AIQ_CA");
	g_subprocess_launcher_unsetenv(launcher, "AIQ_TRUST_FINGERPRINT");
	if (f->server != NULL)
		g_subprocess_launcher_setenv(launcher, "AIQ_SERVER", f->server, TRUE);
	if (f->token != NULL)
		g_subprocess_launcher_setenv(launcher, "AIQ_TOKEN", f->token, TRUE);
	if (f->env_ca)
		g_subprocess_launcher_setenv(launcher, "AIQ_CA", f->ca, TRUE);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc,
				      input != NULL ? input : "",
				      NULL,
				      &r->out,
				      &r->err,
				      &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(proc));
	r->status = g_subprocess_get_exit_status(proc);
	if (g_test_verbose())
		g_printerr("exit %d\nstdout: %s\nstderr: %s\n", r->status, r->out, r->err);
}

#define run(f, r, ...) run_input(f, r, NULL, __VA_ARGS__)

static void
assert_status(Result *r, gint status)
{
	if (r->status != status)
		g_error("expected exit %d, got %d\nstdout: %s\nstderr: %s",
			status,
			r->status,
			r->out,
			r->err);
}

static JsonNode *
parse_json(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = aiq_json_parse(text, strlen(text), 64, &error);
	g_assert_no_error(error);
	return node;
}

static JsonObject *
object(JsonNode *node)
{
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_node_get_object(node);
}

static gchar *
write_file(Fixture *f, const gchar *name, const gchar *text)
{
	gchar *path = g_build_filename(f->dir, name, NULL);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static gchar *
config_path(Fixture *f)
{
	return g_build_filename(f->dir, "automateiq", "aiqctl.json", NULL);
}

static JsonNode *
read_config(Fixture *f)
{
	g_autofree gchar *path = config_path(f);
	g_autofree gchar *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return parse_json(text);
}

static void
use_saved_login(Fixture *f)
{
	g_clear_pointer(&f->server, g_free);
	g_clear_pointer(&f->token, g_free);
	f->env_ca = FALSE;
}

static const gchar *wf_yaml =
	"name: remote-wf\n"
	"inputs:\n"
	"  n: { type: integer, default: 2 }\n"
	"  tag: { type: string, default: x }\n"
	"steps:\n"
	"  - { id: a, uses: transform, with: { value: '${{ inputs.n * 3 }}' } }\n";

static const gchar *wf_yaml_v2 =
	"name: remote-wf\n"
	"inputs:\n"
	"  n: { type: integer, default: 2 }\n"
	"  tag: { type: string, default: x }\n"
	"steps:\n"
	"  - { id: a, uses: transform, with: { value: '${{ inputs.n * 4 }}' } }\n";

/* login with --password-stdin; the token file is private */
static void
test_remote_login(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *path = config_path(f);
	g_autofree gchar *dir = g_path_get_dirname(path);
	g_autofree gchar *token = NULL;
	g_autoptr(JsonNode) config = NULL;
	GStatBuf st;

	g_free(aiq_test_server_add_user(f->ts, f->ts->tenant_id, "carol", "editor", TEST_PASSWORD));
	use_saved_login(f);
	{
		g_auto(Result) r = { 0 };
		run_input(f,
			  &r,
			  TEST_PASSWORD "\n",
			  "login",
			  "--server",
			  f->ts->url,
			  "--tenant",
			  "acme",
			  "--user",
			  "carol",
			  "--password-stdin",
			  "--ca",
			  f->ca,
			  NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "Logged in to"));
		g_assert_null(strstr(r.out, "aiqs_"));
	}
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(g_stat(dir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);
	config = read_config(f);
	g_assert_cmpstr(aiq_json_object_get_string(object(config), "server"), ==, f->ts->url);
	g_assert_cmpstr(aiq_json_object_get_string(object(config), "tenant"), ==, "acme");
	g_assert_cmpstr(aiq_json_object_get_string(object(config), "user"), ==, "carol");
	g_assert_cmpstr(aiq_json_object_get_string(object(config), "ca"), ==, f->ca);
	g_assert_nonnull(aiq_json_object_get_string(object(config), "expires_at"));
	token = g_strdup(aiq_json_object_get_string(object(config), "token"));
	g_assert_nonnull(token);

	/* the saved login is used */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) list = NULL;
		run(f, &r, "workflows", "list", "-o", "json", NULL);
		assert_status(&r, 0);
		list = parse_json(r.out);
		g_assert_nonnull(aiq_json_object_get_array(object(list), "items"));
	}
	/* -o json: no token in it */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run_input(f,
			  &r,
			  TEST_PASSWORD "\n",
			  "login",
			  "--password-stdin",
			  "-o",
			  "json",
			  NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpstr(aiq_json_object_get_string(object(out), "tenant"), ==, "acme");
		g_assert_false(json_object_has_member(object(out), "token"));
	}
	/* a wrong password */
	{
		g_auto(Result) r = { 0 };
		run_input(f,
			  &r,
			  "wrong\n",
			  "login",
			  "--server",
			  f->ts->url,
			  "--tenant",
			  "acme",
			  "--user",
			  "carol",
			  "--password-stdin",
			  "--ca",
			  f->ca,
			  NULL);
		assert_status(&r, 1);
		g_assert_cmpstr(r.out, ==, "");
	}
	/* no terminal and no --password-stdin */
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "login", NULL);
		g_assert_cmpint(r.status, !=, 0);
		g_assert_nonnull(strstr(r.err, "--password-stdin"));
	}
	/* logout: the token is revoked on the server and forgotten here */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) after = NULL;
		g_autoptr(AiqTestResponse) resp = NULL;
		g_autofree gchar *saved = NULL;
		g_clear_pointer(&config, json_node_unref);
		config = read_config(f);
		saved = g_strdup(aiq_json_object_get_string(object(config), "token"));
		run(f, &r, "logout", NULL);
		assert_status(&r, 0);
		after = read_config(f);
		g_assert_null(aiq_json_object_get_string(object(after), "token"));
		g_assert_cmpstr(aiq_json_object_get_string(object(after), "server"),
				==,
				f->ts->url);
		resp = aiq_test_request(f->ts, "GET", "/api/v1/me", saved, NULL, NULL, 0);
		aiq_test_assert_status(resp, 401);
	}
	/* logged out: a clear message */
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "workflows", "list", NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "aiqctl login"));
	}
}

/* an untrusted certificate: a clear error, then --trust-fingerprint */
static void
test_remote_tls(Fixture *f, gconstpointer user_data)
{
	const gchar *fingerprint = aiq_server_get_fingerprint(f->ts->server);
	g_autoptr(JsonNode) config = NULL;

	g_free(aiq_test_server_add_user(f->ts, f->ts->tenant_id, "carol", "editor", TEST_PASSWORD));
	use_saved_login(f);
	{
		g_auto(Result) r = { 0 };
		run_input(f,
			  &r,
			  TEST_PASSWORD "\n",
			  "login",
			  "--server",
			  f->ts->url,
			  "--tenant",
			  "acme",
			  "--user",
			  "carol",
			  "--password-stdin",
			  NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "certificate"));
		g_assert_nonnull(strstr(r.err, "--ca"));
		g_assert_nonnull(strstr(r.err, "--trust-fingerprint"));
		g_assert_nonnull(strstr(r.err, fingerprint));
	}
	{
		g_auto(Result) r = { 0 };
		run_input(f,
			  &r,
			  TEST_PASSWORD "\n",
			  "login",
			  "--server",
			  f->ts->url,
			  "--tenant",
			  "acme",
			  "--user",
			  "carol",
			  "--password-stdin",
			  "--trust-fingerprint",
			  "not-a-fingerprint",
			  NULL);
		assert_status(&r, 2);
	}
	{
		g_auto(Result) r = { 0 };
		run_input(f,
			  &r,
			  TEST_PASSWORD "\n",
			  "login",
			  "--server",
			  f->ts->url,
			  "--tenant",
			  "acme",
			  "--user",
			  "carol",
			  "--password-stdin",
			  "--trust-fingerprint",
			  fingerprint,
			  NULL);
		assert_status(&r, 0);
	}
	config = read_config(f);
	g_assert_cmpstr(aiq_json_object_get_string(object(config), "fingerprint"), ==, fingerprint);
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "agents", "list", "-o", "json", NULL);
		assert_status(&r, 0);
	}
	/* AIQ_SERVER naming another server: neither the saved token nor the
	 * saved fingerprint go there */
	f->server = g_strdup_printf("https://localhost:%u", aiq_server_get_port(f->ts->server));
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "workflows", "list", NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "not logged in"));
	}
	f->token = g_strdup(f->ts->viewer_token);
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "workflows", "list", NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "certificate"));
	}
}

/* AIQ_SERVER, AIQ_TOKEN and AIQ_CA instead of a login */
static void
test_remote_env(Fixture *f, gconstpointer user_data)
{
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "workflows", "list", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.err, "No workflows"));
	}
	{
		g_auto(Result) r = { 0 };
		g_free(f->token);
		f->token = g_strdup("aiqs_bogus");
		run(f, &r, "workflows", "list", NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "AIQ_TOKEN"));
	}
	{
		g_auto(Result) r = { 0 };
		use_saved_login(f);
		run(f, &r, "workflows", "list", NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "not logged in"));
	}
}

static void
test_remote_apply(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *file = write_file(f, "remote-wf.yaml", wf_yaml);
	g_autofree gchar *bad = write_file(f,
					   "bad.yaml",
					   "name: bad-wf\nsteps:\n  - { id: a, uses: htp }\n"
					   "  - { id: a, uses: transform, with: { value: 1 } }\n");
	g_autofree gchar *broken = write_file(f, "broken.yaml", "name: [\n");

	{
		g_auto(Result) r = { 0 };
		run(f, &r, "apply", "-f", file, NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "remote-wf created (version 1)"));
	}
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "apply", "-f", file, NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "remote-wf unchanged (version 1)"));
	}
	g_assert_true(g_file_set_contents(file, wf_yaml_v2, -1, NULL));
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "apply", "-f", file, NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "remote-wf updated to version 2"));
	}
	/* -o json: an array of the server's answers */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		JsonArray *array;
		run(f, &r, "apply", "-f", file, "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_true(JSON_NODE_HOLDS_ARRAY(out));
		array = json_node_get_array(out);
		g_assert_cmpuint(json_array_get_length(array), ==, 1);
		g_assert_false(
			json_object_get_boolean_member(json_array_get_object_element(array, 0),
						       "changed"));
	}
	/* problems, with the file and the path; the other files still go */
	{
		g_auto(Result) r = { 0 };
		g_autofree gchar *expected = g_strdup_printf("%s:steps[0].uses: ", bad);
		run(f, &r, "apply", "-f", bad, "-f", file, "-f", broken, NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, expected));
		g_assert_nonnull(strstr(r.err, broken));
		g_assert_nonnull(strstr(r.out, "remote-wf unchanged (version 2)"));
	}
	/* a viewer may not */
	{
		g_auto(Result) r = { 0 };
		g_free(f->token);
		f->token = g_strdup(f->ts->viewer_token);
		run(f, &r, "apply", "-f", file, NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "role"));
	}
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "apply", NULL);
		assert_status(&r, 2);
	}
}

static void
test_remote_workflows(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *file = write_file(f, "remote-wf.yaml", wf_yaml);
	g_autofree gchar *id = NULL;

	{
		g_auto(Result) r = { 0 };
		run(f, &r, "apply", "-f", file, NULL);
		assert_status(&r, 0);
		g_assert_true(g_file_set_contents(file, wf_yaml_v2, -1, NULL));
		result_clear(&r);
		run(f, &r, "apply", "-f", file, NULL);
		assert_status(&r, 0);
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		JsonArray *items;
		run(f, &r, "workflows", "list", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "NAME"));
		g_assert_nonnull(strstr(r.out, "remote-wf"));
		result_clear(&r);
		run(f, &r, "workflows", "list", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		items = aiq_json_object_get_array(object(out), "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		id = g_strdup(
			aiq_json_object_get_string(json_array_get_object_element(items, 0), "id"));
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "workflows", "get", "remote-wf", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "remote-wf"));
		g_assert_nonnull(strstr(r.out, "steps:"));
		result_clear(&r);
		run(f, &r, "workflows", "get", "remote-wf", "-o", "yaml", NULL);
		assert_status(&r, 0);
		g_assert_true(g_str_has_prefix(r.out, "name: remote-wf\n"));
		result_clear(&r);
		/* by id, an older version */
		run(f, &r, "workflows", "get", id, "--version", "1", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpint(aiq_json_object_get_int(object(out), "version", 0), ==, 1);
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "workflows", "versions", "remote-wf", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "VERSION"));
		result_clear(&r);
		run(f, &r, "workflows", "versions", "remote-wf", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpuint(
			json_array_get_length(aiq_json_object_get_array(object(out), "items")),
			==,
			2);
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "workflows", "diff", "remote-wf", "--from", "1", "--to", "2", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "with.value: "));
		g_assert_nonnull(strstr(r.out, "  ~ "));
		result_clear(&r);
		run(f,
		    &r,
		    "workflows",
		    "diff",
		    "remote-wf",
		    "--from",
		    "1",
		    "--to",
		    "2",
		    "-o",
		    "json",
		    NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_nonnull(aiq_json_object_get_array(object(out), "changes"));
		result_clear(&r);
		run(f, &r, "workflows", "diff", "remote-wf", NULL);
		assert_status(&r, 2);
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "workflows", "rollback", "remote-wf", "--version", "1", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "now version 3"));
		result_clear(&r);
		run(f, &r, "workflows", "disable", "remote-wf", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_false(json_object_get_boolean_member(object(out), "enabled"));
		result_clear(&r);
		run(f, &r, "workflows", "enable", "remote-wf", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "enabled"));
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "workflows", "delete", "remote-wf", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpstr(aiq_json_object_get_string(object(out), "id"), ==, id);
		result_clear(&r);
		run(f, &r, "workflows", "get", "remote-wf", NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "no workflow named"));
	}
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "workflows", "frobnicate", NULL);
		assert_status(&r, 2);
		result_clear(&r);
		run(f, &r, "workflows", "list", "-o", "yaml", NULL);
		assert_status(&r, 2);
	}
}

/* run makes a queued execution (no agent runs it yet); executions shows it */
static void
test_remote_run(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *file = write_file(f, "remote-wf.yaml", wf_yaml);
	g_autofree gchar *exec_id = NULL;

	{
		g_auto(Result) r = { 0 };
		run(f, &r, "apply", "-f", file, NULL);
		assert_status(&r, 0);
	}
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "run", "remote-wf", "--input", "n=5", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "Started execution"));
		g_assert_nonnull(strstr(r.out, "queued"));
	}
	/* inputs typed as declared: n is a number, tag stays a string */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		JsonObject *inputs;
		run(f,
		    &r,
		    "run",
		    "remote-wf",
		    "-i",
		    "n=7",
		    "-i",
		    "tag=7",
		    "--idempotency-key",
		    "k-1",
		    "-o",
		    "json",
		    NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		exec_id = g_strdup(aiq_json_object_get_string(object(out), "id"));
		g_assert_true(aiq_id_is_valid(exec_id));
		g_assert_cmpstr(aiq_json_object_get_string(object(out), "status"), ==, "queued");
		inputs = aiq_json_object_get_object(object(out), "inputs");
		g_assert_true(aiq_json_is_integer(json_object_get_member(inputs, "n")));
		g_assert_cmpint(json_object_get_int_member(inputs, "n"), ==, 7);
		g_assert_cmpstr(json_object_get_string_member(inputs, "tag"), ==, "7");
	}
	/* the same idempotency key: the same execution */
	{
		g_auto(Result) r = { 0 };
		run(f,
		    &r,
		    "run",
		    "remote-wf",
		    "-i",
		    "n=7",
		    "-i",
		    "tag=7",
		    "--idempotency-key",
		    "k-1",
		    NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, exec_id));
		g_assert_nonnull(strstr(r.out, "started before"));
	}
	/* usage errors */
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "run", "remote-wf", "--input", "n=abc", NULL);
		assert_status(&r, 2);
		g_assert_nonnull(strstr(r.err, "whole number"));
		result_clear(&r);
		run(f, &r, "run", "remote-wf", "--input", "nope=1", NULL);
		assert_status(&r, 2);
		result_clear(&r);
		run(f, &r, "run", "remote-wf", "--input", "=1", NULL);
		assert_status(&r, 2);
		result_clear(&r);
		run(f, &r, "run", NULL);
		assert_status(&r, 2);
		result_clear(&r);
		run(f, &r, "run", "no-such-workflow", NULL);
		assert_status(&r, 1);
	}
	/* executions get, list, events */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "executions", "get", exec_id, NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, exec_id));
		g_assert_nonnull(strstr(r.out, "queued"));
		result_clear(&r);
		run(f, &r, "executions", "get", exec_id, "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpstr(aiq_json_object_get_string(object(out), "status"), ==, "queued");
		g_assert_cmpstr(aiq_json_object_get_string(object(out), "workflow"),
				==,
				"remote-wf");
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "executions", "list", "--workflow", "remote-wf", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpuint(
			json_array_get_length(aiq_json_object_get_array(object(out), "items")),
			==,
			2);
		result_clear(&r);
		run(f, &r, "executions", "list", "--status", "queued", "--limit", "1", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "remote-wf"));
		result_clear(&r);
		run(f, &r, "executions", "events", exec_id, "-o", "json", NULL);
		assert_status(&r, 0);
		g_clear_pointer(&out, json_node_unref);
		out = parse_json(r.out);
		g_assert_nonnull(aiq_json_object_get_array(object(out), "items"));
	}
	/* cancel, then retry */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "executions", "cancel", exec_id, NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "cancelled"));
		result_clear(&r);
		run(f, &r, "executions", "retry", exec_id, "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpstr(aiq_json_object_get_string(object(out), "retry_of"), ==, exec_id);
	}
	/* --wait gives up after --timeout while no agent takes the job */
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "run", "remote-wf", "--wait", "--timeout", "1s", NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "not finished"));
	}
}

/* a fake agent on a thread, through AiqClient as the real one will: it
 * leases the job and reports step `a` succeeding or failing */

typedef struct {
	Fixture *f;
	AiqClient *client;
	gboolean fail;
} FakeAgent;

static gchar *
event_json(const gchar *execution_id,
	   gint seq,
	   const gchar *type,
	   const gchar *step,
	   const gchar *status,
	   const gchar *data)
{
	g_autofree gchar *now = aiq_time_to_iso8601(g_get_real_time());
	GString *str = g_string_new(NULL);
	g_string_append_printf(
		str,
		"{\"execution_id\":\"%s\",\"seq\":%d,\"type\":\"%s\",\"time\":\"%s\"",
		execution_id,
		seq,
		type,
		now);
	if (step != NULL)
		g_string_append_printf(str, ",\"step\":\"%s\",\"attempt\":1", step);
	if (status != NULL)
		g_string_append_printf(str, ",\"status\":\"%s\"", status);
	if (data != NULL)
		g_string_append_printf(str, ",\"data\":%s", data);
	g_string_append_c(str, '}');
	return g_string_free(str, FALSE);
}

static void
fake_agent_send(FakeAgent *agent, GPtrArray *events)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(JsonNode) answer = NULL;
	g_autofree gchar *joined = NULL;
	g_autofree gchar *text = NULL;
	g_ptr_array_add(events, NULL);
	joined = g_strjoinv(",", (gchar **)events->pdata);
	text = g_strdup_printf("{\"events\":[%s]}", joined);
	body = aiq_json_parse(text, strlen(text), 16, &error);
	g_assert_no_error(error);
	answer = aiq_client_request_sync(agent->client,
					 "POST",
					 "/api/v1/agent/events",
					 body,
					 NULL,
					 NULL,
					 NULL,
					 NULL,
					 &error);
	g_assert_no_error(error);
}

static gpointer
fake_agent_thread(gpointer user_data)
{
	FakeAgent *agent = user_data;
	g_autofree gchar *id = NULL;

	for (guint i = 0; i < 60 && id == NULL; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) body = parse_json("{\"capacity\":1,\"wait_ms\":500}");
		g_autoptr(JsonNode) answer = aiq_client_request_sync(agent->client,
								     "POST",
								     "/api/v1/agent/lease",
								     body,
								     NULL,
								     NULL,
								     NULL,
								     NULL,
								     &error);
		JsonArray *jobs;
		g_assert_no_error(error);
		jobs = aiq_json_object_get_array(object(answer), "jobs");
		if (jobs != NULL && json_array_get_length(jobs) > 0)
			id = g_strdup(
				aiq_json_object_get_string(json_array_get_object_element(jobs, 0),
							   "execution_id"));
	}
	g_assert_nonnull(id);
	{
		g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(events,
				event_json(id,
					   1,
					   "execution.created",
					   NULL,
					   NULL,
					   "{\"workflow\":\"remote-wf\",\"trigger\":\"manual\"}"));
		g_ptr_array_add(events, event_json(id, 2, "execution.started", NULL, NULL, NULL));
		g_ptr_array_add(events, event_json(id, 3, "step.started", "a", NULL, NULL));
		fake_agent_send(agent, events);
	}
	/* aiqctl sees it running */
	g_usleep(1500 * 1000);
	{
		g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
		if (agent->fail) {
			g_ptr_array_add(events,
					event_json(id,
						   4,
						   "step.finished",
						   "a",
						   "failed",
						   "{\"error\":{\"code\":\"step_failed\","
						   "\"message\":\"boom\"}}"));
			g_ptr_array_add(events,
					event_json(id,
						   5,
						   "execution.finished",
						   NULL,
						   "failed",
						   "{\"error\":{\"code\":\"step_failed\","
						   "\"message\":\"a failed\"}}"));
		} else {
			g_ptr_array_add(events,
					event_json(id,
						   4,
						   "step.finished",
						   "a",
						   "succeeded",
						   "{\"output_size\":2,\"output\":15}"));
			g_ptr_array_add(events,
					event_json(id,
						   5,
						   "execution.finished",
						   NULL,
						   "succeeded",
						   "{\"outputs\":{}}"));
		}
		fake_agent_send(agent, events);
	}
	return NULL;
}

static AiqClient *
fake_agent_enroll(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqClient) client = aiq_client_new(f->ts->url, &error);
	g_autoptr(JsonNode) token = NULL;
	g_autoptr(JsonNode) enrolled = NULL;
	g_autoptr(JsonObject) body = json_object_new();
	g_autoptr(JsonNode) body_node = NULL;

	g_assert_true(aiq_client_set_ca_file(client, f->ca, &error));
	aiq_client_set_token(client, f->ts->admin_token);
	token = aiq_client_create_enrollment_token_sync(client, "fake", NULL, NULL, NULL, &error);
	g_assert_no_error(error);
	json_object_set_string_member(body,
				      "token",
				      aiq_json_object_get_string(object(token), "token"));
	json_object_set_string_member(body, "name", "fake");
	body_node = aiq_json_new_object(json_object_ref(body));
	aiq_client_set_token(client, NULL);
	enrolled = aiq_client_request_sync(client,
					   "POST",
					   "/api/v1/agents/enroll",
					   body_node,
					   NULL,
					   NULL,
					   NULL,
					   NULL,
					   &error);
	g_assert_no_error(error);
	aiq_client_set_token(client, aiq_json_object_get_string(object(enrolled), "credential"));
	return g_steal_pointer(&client);
}

/* run --wait: the steps as they go, the exit status of how it ended */
static void
test_remote_run_wait(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *file = write_file(f, "remote-wf.yaml", wf_yaml);
	g_autoptr(AiqClient) agent_client = fake_agent_enroll(f);

	{
		g_auto(Result) r = { 0 };
		run(f, &r, "apply", "-f", file, NULL);
		assert_status(&r, 0);
	}
	for (guint i = 0; i < 2; i++) {
		g_auto(Result) r = { 0 };
		FakeAgent agent = { f, agent_client, i == 1 };
		GThread *thread = g_thread_new("fake-agent", fake_agent_thread, &agent);
		run(f, &r, "run", "remote-wf", "--wait", NULL);
		g_thread_join(thread);
		g_assert_nonnull(strstr(r.err, "running"));
		g_assert_nonnull(strstr(r.err, "▶ a\n"));
		if (agent.fail) {
			assert_status(&r, 1);
			g_assert_nonnull(strstr(r.err, "✗ a failed: boom\n"));
			g_assert_nonnull(strstr(r.out, ": failed"));
			g_assert_nonnull(strstr(r.out, "error: a failed\n"));
		} else {
			assert_status(&r, 0);
			g_assert_nonnull(strstr(r.err, "✓ a\n"));
			g_assert_nonnull(strstr(r.out, ": succeeded"));
		}
	}
}

static void
test_remote_agents(Fixture *f, gconstpointer user_data)
{
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "agents", "list", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpuint(
			json_array_get_length(aiq_json_object_get_array(object(out), "items")),
			==,
			0);
		result_clear(&r);
		run(f, &r, "agents", "list", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.err, "No agents"));
	}
	{
		g_auto(Result) r = { 0 };
		g_autofree gchar *expected =
			g_strdup_printf("automateiq-agent enroll --server '%s' --token '",
					f->ts->url);
		run(f,
		    &r,
		    "enrollment-tokens",
		    "create",
		    "--name",
		    "agent-1",
		    "--labels",
		    "site-a, linux",
		    "--expires-in",
		    "1h",
		    NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, expected));
		g_assert_nonnull(strstr(r.out, "--name 'agent-1' --labels 'site-a,linux'"));
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "enrollment-tokens", "create", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_nonnull(aiq_json_object_get_string(object(out), "token"));
	}
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "enrollment-tokens", "create", "--expires-in", "soon", NULL);
		assert_status(&r, 2);
	}
	/* an editor may not */
	{
		g_auto(Result) r = { 0 };
		g_free(f->token);
		f->token = g_strdup(f->ts->editor_token);
		run(f, &r, "enrollment-tokens", "create", NULL);
		assert_status(&r, 1);
	}
}

/* the line of a table that starts with @first, split at its spaces */
static gchar **
table_row(const gchar *out, const gchar *first)
{
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) cells = g_strsplit_set(lines[i], " ", -1);
		GPtrArray *row;
		if (g_strcmp0(cells[0], first) != 0)
			continue;
		row = g_ptr_array_new();
		for (guint c = 0; cells[c] != NULL; c++)
			if (cells[c][0] != '\0')
				g_ptr_array_add(row, g_strdup(cells[c]));
		g_ptr_array_add(row, NULL);
		return (gchar **)g_ptr_array_free(row, FALSE);
	}
	return NULL;
}

/* usage: each quota, what is used of it and its limit */
static void
test_remote_usage(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *file = write_file(f, "remote-wf.yaml", wf_yaml);
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "apply", "-f", file, NULL);
		assert_status(&r, 0);
	}
	{
		g_auto(Result) r = { 0 };
		g_auto(GStrv) workflows = NULL;
		g_auto(GStrv) payload = NULL;
		run(f, &r, "usage", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "Tier standard"));
		g_assert_nonnull(strstr(r.out, "QUOTA"));
		workflows = table_row(r.out, "workflows");
		g_assert_nonnull(workflows);
		g_assert_cmpstr(workflows[1], ==, "1");
		g_assert_cmpstr(workflows[2], ==, "10000000");
		/* nothing counts the use of some */
		payload = table_row(r.out, "payload_bytes");
		g_assert_nonnull(payload);
		g_assert_cmpstr(payload[1], ==, "-");
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "usage", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpstr(aiq_json_object_get_string(object(out), "tenant_id"),
				==,
				f->ts->tenant_id);
		g_assert_cmpint(
			aiq_json_object_get_int(aiq_json_object_get_object(object(out), "usage"),
						"workflows",
						0),
			==,
			1);
		g_assert_nonnull(aiq_json_object_get_object(object(out), "limits"));
	}
	/* another tenant's: for platform admins only */
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "usage", "--tenant", f->ts->other_tenant_id, NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "tenant"));
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		g_free(f->token);
		f->token = g_strdup(f->ts->platform_token);
		run(f, &r, "usage", "--tenant", f->ts->other_tenant_id, "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpstr(aiq_json_object_get_string(object(out), "tenant_id"),
				==,
				f->ts->other_tenant_id);
	}
}

static JsonArray *
items_of(JsonNode *out)
{
	JsonArray *items = aiq_json_object_get_array(object(out), "items");
	g_assert_nonnull(items);
	return items;
}

/* audit: filters, cursors followed up to --limit, who may read */
static void
test_remote_audit(Fixture *f, gconstpointer user_data)
{
	g_autofree gchar *file = write_file(f, "remote-wf.yaml", wf_yaml);
	g_autofree gchar *yaml = g_strdup(wf_yaml);

	{
		g_auto(Result) r = { 0 };
		run(f, &r, "apply", "-f", file, NULL);
		assert_status(&r, 0);
	}
	/* 130 attempts a viewer may not make: more than a page */
	for (guint i = 0; i < 130; i++) {
		g_autoptr(AiqTestResponse) resp = aiq_test_request(f->ts,
								   "POST",
								   "/api/v1/workflows",
								   f->ts->viewer_token,
								   "application/yaml",
								   yaml,
								   -1);
		aiq_test_assert_status(resp, 403);
	}
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "audit", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.out, "TIME"));
		g_assert_nonnull(strstr(r.out, "workflow.create"));
		g_assert_nonnull(strstr(r.out, "denied"));
		g_assert_nonnull(strstr(r.out, "user:vi"));
		g_assert_nonnull(strstr(r.out, "127.0.0.1"));
		/* 100 by default, and there are more */
		g_assert_nonnull(strstr(r.err, "--limit"));
	}
	/* the pages, followed */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		g_autoptr(GHashTable) ids =
			g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		JsonArray *items;
		run(f, &r, "audit", "--outcome", "denied", "--limit", "1000", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		items = items_of(out);
		g_assert_cmpuint(json_array_get_length(items), ==, 130);
		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonObject *rec = json_array_get_object_element(items, i);
			g_assert_cmpstr(aiq_json_object_get_string(rec, "outcome"), ==, "denied");
			g_hash_table_add(ids, g_strdup(aiq_json_object_get_string(rec, "id")));
		}
		g_assert_cmpuint(g_hash_table_size(ids), ==, 130);
		g_assert_true(json_object_get_null_member(object(out), "next_cursor"));
	}
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		run(f, &r, "audit", "list", "--outcome", "denied", "-n", "120", "-o", "json", NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpuint(json_array_get_length(items_of(out)), ==, 120);
		g_assert_nonnull(aiq_json_object_get_string(object(out), "next_cursor"));
	}
	/* filters */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		JsonArray *items;
		run(f,
		    &r,
		    "audit",
		    "--action",
		    "workflow.",
		    "--actor",
		    "acme-admin",
		    "--since",
		    "1h",
		    "-o",
		    "json",
		    NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		items = items_of(out);
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		g_assert_cmpstr(aiq_json_object_get_string(json_array_get_object_element(items, 0),
							   "action"),
				==,
				"workflow.create");
	}
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "audit", "--until", "2001-01-01T00:00:00Z", NULL);
		assert_status(&r, 0);
		g_assert_nonnull(strstr(r.err, "No audit records"));
	}
	/* mistakes are usage errors */
	{
		g_auto(Result) r = { 0 };
		run(f, &r, "audit", "--outcome", "bogus", NULL);
		assert_status(&r, 2);
		result_clear(&r);
		run(f, &r, "audit", "--since", "yesterday", NULL);
		assert_status(&r, 2);
		g_assert_nonnull(strstr(r.err, "--since"));
		result_clear(&r);
		run(f, &r, "audit", "--limit", "0", NULL);
		assert_status(&r, 2);
	}
	/* the platform's log, and a tenant's, for a platform admin */
	{
		g_auto(Result) r = { 0 };
		g_autoptr(JsonNode) out = NULL;
		g_free(f->token);
		f->token = g_strdup(f->ts->platform_token);
		run(f,
		    &r,
		    "audit",
		    "--tenant",
		    "acme",
		    "--action",
		    "workflow.create",
		    "-o",
		    "json",
		    NULL);
		assert_status(&r, 0);
		out = parse_json(r.out);
		g_assert_cmpuint(json_array_get_length(items_of(out)), ==, 100);
		result_clear(&r);
		run(f, &r, "audit", "--scope", "platform", "-o", "json", NULL);
		assert_status(&r, 0);
	}
	/* not for viewers */
	{
		g_auto(Result) r = { 0 };
		g_free(f->token);
		f->token = g_strdup(f->ts->viewer_token);
		run(f, &r, "audit", NULL);
		assert_status(&r, 1);
		g_assert_nonnull(strstr(r.err, "role"));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/aiqctl/remote/login",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_remote_login,
		   fixture_teardown);
	g_test_add("/aiqctl/remote/tls",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_remote_tls,
		   fixture_teardown);
	g_test_add("/aiqctl/remote/env",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_remote_env,
		   fixture_teardown);
	g_test_add("/aiqctl/remote/apply",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_remote_apply,
		   fixture_teardown);
	g_test_add("/aiqctl/remote/workflows",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_remote_workflows,
		   fixture_teardown);
	g_test_add("/aiqctl/remote/run",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_remote_run,
		   fixture_teardown);
	g_test_add("/aiqctl/remote/run-wait",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_remote_run_wait,
		   fixture_teardown);
	g_test_add("/aiqctl/remote/agents",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_remote_agents,
		   fixture_teardown);
	g_test_add("/aiqctl/remote/usage",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_remote_usage,
		   fixture_teardown);
	g_test_add("/aiqctl/remote/audit",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_remote_audit,
		   fixture_teardown);
	return g_test_run();
}
