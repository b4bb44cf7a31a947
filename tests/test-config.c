/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <string.h>

#include "aiq-config.h"
#include "aiq-error.h"

static void
test_config_full(void)
{
	g_autoptr(AiqConfig) config = aiq_config_new();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) disabled = NULL;
	g_auto(GStrv) roots = NULL;
	const AiqConnection *conn;
	const AiqSmtpServer *smtp;
	const gchar *text = "[engine]\n"
			    "max-parallel-steps=4\n"
			    "output-cap=64KiB\n"
			    "disabled-kinds=shell;file\n"
			    "durability=all\n"
			    "[circuit-breaker]\n"
			    "failure-threshold=2\n"
			    "open-for=1m\n"
			    "[connection.erp]\n"
			    "driver=sqlite\n"
			    "path=data/erp.db\n"
			    "[connection.wh]\n"
			    "driver=postgresql\n"
			    "dsn=host=127.0.0.1 dbname=wh\n"
			    "[file-roots]\n"
			    "drop=/srv/drop\n"
			    "[ca]\n"
			    "internal=certs/ca.pem\n"
			    "[smtp]\n"
			    "url=smtp://127.0.0.1:2525\n"
			    "from=robot@example.com\n"
			    "[smtp.bulk]\n"
			    "url=smtps://mail.example.com:465\n"
			    "starttls=none\n";

	g_assert_true(aiq_config_load_data(config, text, strlen(text), "/etc/automateiq", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(aiq_config_get_max_parallel_steps(config), ==, 4);
	g_assert_cmpuint(aiq_config_get_output_cap(config), ==, 65536);
	g_assert_true(aiq_config_get_durability_all(config));
	g_assert_false(aiq_config_is_kind_enabled(config, "shell"));
	g_assert_true(aiq_config_is_kind_enabled(config, "http"));
	disabled = aiq_config_get_disabled_kinds(config);
	g_assert_cmpstrv(disabled, ((const gchar *const[]){ "file", "shell", NULL }));
	g_assert_cmpuint(aiq_config_get_breaker_threshold(config), ==, 2);
	g_assert_cmpint(aiq_config_get_breaker_open_ms(config), ==, 60000);
	conn = aiq_config_get_connection(config, "erp");
	g_assert_cmpstr(conn->driver, ==, "sqlite");
	/* relative paths are taken from the file's folder */
	g_assert_cmpstr(conn->path, ==, "/etc/automateiq/data/erp.db");
	g_assert_cmpstr(aiq_config_get_connection(config, "wh")->dsn,
			==,
			"host=127.0.0.1 dbname=wh");
	g_assert_null(aiq_config_get_connection(config, "nope"));
	g_assert_cmpstr(aiq_config_get_file_root(config, "drop"), ==, "/srv/drop");
	roots = aiq_config_list_file_roots(config);
	g_assert_cmpuint(g_strv_length(roots), ==, 1);
	g_assert_cmpstr(aiq_config_get_ca_file(config, "internal"),
			==,
			"/etc/automateiq/certs/ca.pem");
	smtp = aiq_config_get_smtp(config, NULL);
	g_assert_cmpstr(smtp->url, ==, "smtp://127.0.0.1:2525");
	g_assert_cmpstr(smtp->starttls, ==, "required");
	g_assert_cmpstr(aiq_config_get_smtp(config, "bulk")->starttls, ==, "none");
}

static void
test_config_errors(void)
{
	struct {
		const gchar *text;
		const gchar *needle;
	} cases[] = {
		{ "[engin]\nx=1\n", "did you mean [engine]" },
		{ "[engine]\nmax-paralel-steps=3\n", "did you mean “max-parallel-steps”" },
		{ "[engine]\nmax-parallel-steps=0\n", "[engine] max-parallel-steps" },
		{ "[engine]\noutput-cap=lots\n", "[engine] output-cap" },
		{ "[engine]\ndurability=sometimes\n", "durability" },
		{ "[circuit-breaker]\nopen-for=forever\n", "open-for" },
		{ "[connection.x]\ndriver=mysql\n", "[connection.x] driver" },
		{ "[connection.x]\ndriver=sqlite\n", "[connection.x] path" },
		{ "[smtp]\nurl=http://x\n", "[smtp] url" },
		{ "[file-roots]\nempty=\n", "[file-roots] empty" },
		{ "not a key file", "" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(AiqConfig) config = aiq_config_new();
		g_autoptr(GError) error = NULL;
		g_assert_false(aiq_config_load_data(config,
						    cases[i].text,
						    strlen(cases[i].text),
						    NULL,
						    &error));
		g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONFIG);
		if (strstr(error->message, cases[i].needle) == NULL)
			g_error("case %u: “%s” lacks “%s”", i, error->message, cases[i].needle);
	}
}

static void
test_config_file(void)
{
	g_autoptr(AiqConfig) config = aiq_config_new();
	g_autoptr(GError) error = NULL;
	g_assert_false(aiq_config_load_file(config, "/nonexistent/agent.conf", &error));
	g_assert_error(error, AIQ_ERROR, AIQ_ERROR_CONFIG);
	g_assert_nonnull(strstr(error->message, "/nonexistent/agent.conf"));
}

/* the example the project ships loads as it is */
static void
test_config_example(void)
{
	g_autoptr(AiqConfig) config = aiq_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path =
		g_build_filename(g_getenv("AIQ_SOURCE_ROOT"), "data", "agent.conf.example", NULL);
	g_assert_true(aiq_config_load_file(config, path, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(aiq_config_get_connection(config, "erp")->driver, ==, "sqlite");
	g_assert_cmpstr(aiq_config_get_file_root(config, "drop"), ==, "/srv/automateiq/drop");
	g_assert_nonnull(aiq_config_get_smtp(config, NULL));
	g_assert_false(aiq_config_get_durability_all(config));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/config/full", test_config_full);
	g_test_add_func("/aiq/config/errors", test_config_errors);
	g_test_add_func("/aiq/config/file", test_config_file);
	g_test_add_func("/aiq/config/example", test_config_example);
	return g_test_run();
}
