/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Test servers on PostgreSQL: with AIQ_TEST_STORE=postgresql (set by the
 * `postgres` suite, which runs each test under tests/pg-test-cluster.sh),
 * each data directory gets a database of its own in the throwaway cluster,
 * owned by the role aiq_owner and used by the role aiq_service (NOSUPERUSER
 * NOBYPASSRLS), as a production install would.
 */

#pragma once

#include <glib.h>
#include <libpq-fe.h>

G_BEGIN_DECLS

gboolean
aiq_test_pg_enabled(void);
/* `store` and `store-admin` lines for the [server] group: the database of
 * @dir, made on first use and named in DIR/postgres.conf */
gchar *
aiq_test_pg_server_config(const gchar *dir);
/* drops the database of @dir, if it has one */
void
aiq_test_pg_drop(const gchar *dir);
/* the database of @dir as the cluster's superuser (for inspection) */
PGconn *
aiq_test_pg_connect_admin(const gchar *dir);
/* the same as the service's role */
PGconn *
aiq_test_pg_connect_service(const gchar *dir);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGconn, PQfinish)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGresult, PQclear)

G_END_DECLS
