/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <string.h>

#include "aiq-test-pg.h"

gboolean
aiq_test_pg_enabled(void)
{
	return g_strcmp0(g_getenv("AIQ_TEST_STORE"), "postgresql") == 0;
}

/* the cluster's socket directory and port, from AIQ_TEST_PG_ADMIN_DSN */
static void
aiq_test_pg_cluster(gchar **host, gchar **port)
{
	const gchar *dsn = g_getenv("AIQ_TEST_PG_ADMIN_DSN");
	PQconninfoOption *options;
	if (dsn == NULL)
		g_error("AIQ_TEST_STORE=postgresql without AIQ_TEST_PG_ADMIN_DSN: "
			"run the test under tests/pg-test-cluster.sh");
	options = PQconninfoParse(dsn, NULL);
	if (options == NULL)
		g_error("AIQ_TEST_PG_ADMIN_DSN: not a connection string");
	for (PQconninfoOption *o = options; o->keyword != NULL; o++) {
		if (g_strcmp0(o->keyword, "host") == 0)
			*host = g_strdup(o->val);
		else if (g_strcmp0(o->keyword, "port") == 0)
			*port = g_strdup(o->val);
	}
	PQconninfoFree(options);
	g_assert_nonnull(*host);
	g_assert_nonnull(*port);
}

static PGconn *
aiq_test_pg_connect(const gchar *user, const gchar *dbname)
{
	g_autofree gchar *host = NULL;
	g_autofree gchar *port = NULL;
	const gchar *keywords[] = { "host", "port", "user", "dbname", NULL };
	const gchar *values[5];
	PGconn *conn;
	aiq_test_pg_cluster(&host, &port);
	values[0] = host;
	values[1] = port;
	values[2] = user;
	values[3] = dbname;
	values[4] = NULL;
	conn = PQconnectdbParams(keywords, values, 0);
	if (PQstatus(conn) != CONNECTION_OK)
		g_error("connecting to the test cluster as %s: %s", user, PQerrorMessage(conn));
	return conn;
}

static void
aiq_test_pg_exec(PGconn *conn, const gchar *sql)
{
	g_autoptr(PGresult) result = PQexec(conn, sql);
	if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK)
		g_error("%s: %s", sql, PQerrorMessage(conn));
}

static gchar *
aiq_test_pg_database_of(const gchar *dir, gboolean create)
{
	g_autofree gchar *path = g_build_filename(dir, "postgres-database", NULL);
	gchar *name = NULL;
	if (g_file_get_contents(path, &name, NULL, NULL))
		return g_strstrip(name);
	if (!create)
		return NULL;
	name = g_strdup_printf("aiq_%08x%08x", g_random_int(), g_random_int());
	{
		g_autoptr(PGconn) admin = aiq_test_pg_connect("postgres", "postgres");
		g_autofree gchar *create_db =
			g_strdup_printf("CREATE DATABASE %s OWNER aiq_owner", name);
		/* roles are the cluster's: made once, whoever comes first */
		aiq_test_pg_exec(admin, "SELECT pg_advisory_lock(1)");
		aiq_test_pg_exec(
			admin,
			"DO $$ BEGIN "
			"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiq_owner') "
			"THEN CREATE ROLE aiq_owner LOGIN NOSUPERUSER; END IF; "
			"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiq_service') "
			"THEN CREATE ROLE aiq_service LOGIN NOSUPERUSER NOBYPASSRLS "
			"NOCREATEDB NOCREATEROLE; END IF; END $$");
		aiq_test_pg_exec(admin, "SELECT pg_advisory_unlock(1)");
		aiq_test_pg_exec(admin, create_db);
	}
	g_assert_true(g_file_set_contents(path, name, -1, NULL));
	return name;
}

gchar *
aiq_test_pg_server_config(const gchar *dir)
{
	g_autofree gchar *name = aiq_test_pg_database_of(dir, TRUE);
	g_autofree gchar *host = NULL;
	g_autofree gchar *port = NULL;
	g_autofree gchar *host_q = NULL;
	aiq_test_pg_cluster(&host, &port);
	host_q = g_uri_escape_string(host, NULL, FALSE);
	return g_strdup_printf("store = postgresql://aiq_service@/%s?host=%s&port=%s\n"
			       "store-admin = postgresql://aiq_owner@/%s?host=%s&port=%s\n",
			       name,
			       host_q,
			       port,
			       name,
			       host_q,
			       port);
}

void
aiq_test_pg_drop(const gchar *dir)
{
	g_autofree gchar *name = NULL;
	g_autofree gchar *drop = NULL;
	g_autoptr(PGconn) admin = NULL;
	if (!aiq_test_pg_enabled())
		return;
	name = aiq_test_pg_database_of(dir, FALSE);
	if (name == NULL)
		return;
	admin = aiq_test_pg_connect("postgres", "postgres");
	drop = g_strdup_printf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	aiq_test_pg_exec(admin, drop);
}

PGconn *
aiq_test_pg_connect_admin(const gchar *dir)
{
	g_autofree gchar *name = aiq_test_pg_database_of(dir, FALSE);
	g_assert_nonnull(name);
	return aiq_test_pg_connect("postgres", name);
}

PGconn *
aiq_test_pg_connect_service(const gchar *dir)
{
	g_autofree gchar *name = aiq_test_pg_database_of(dir, FALSE);
	g_assert_nonnull(name);
	return aiq_test_pg_connect("aiq_service", name);
}
