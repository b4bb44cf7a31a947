/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The real server, in the test process, over HTTPS on a loopback ephemeral
 * port with the test CA, plus a client and ready-made tenants and tokens.
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "aiq-server.h"

G_BEGIN_DECLS

typedef struct {
	gboolean fake_clock;   /* the server's clock is @now, moved by the test */
	gboolean scheduler;    /* run the scheduler */
	gboolean plain_http;   /* HTTP instead of HTTPS */
	const gchar *data_dir; /* reuse a data directory (a restart); else a new one */
	const gchar *config;   /* extra [server] lines */
	gboolean lasting;      /* the tokens made at start never expire (else 1 h) */
	gboolean real_limits;  /* the tiers' own limits; else every limit at its
				* largest, so that tests of other things are not
				* throttled */
	const gchar *limits;   /* more groups for server.conf: [tier.NAME],
				* [tenant.SLUG] */
} AiqTestServerOptions;

typedef struct {
	AiqServer *server;
	gchar *dir;
	gboolean own_dir;
	gchar *url;
	SoupSession *session;
	gint64 now;          /* with fake_clock */
	gint64 token_ttl_us; /* of the tokens aiq_test_server_add_user() makes */
	/* tenant "acme" (standard) with users of each role, and tenant "other" */
	gchar *platform_token;
	gchar *tenant_id;
	gchar *admin_token;
	gchar *editor_token;
	gchar *viewer_token;
	gchar *other_tenant_id;
	gchar *other_admin_token;
} AiqTestServer;

typedef struct {
	guint status;
	SoupMessageHeaders *headers;
	gchar *body;
	JsonNode *json;
} AiqTestResponse;

AiqTestServer *
aiq_test_server_new(const AiqTestServerOptions *options);
void
aiq_test_server_free(AiqTestServer *ts);
void
aiq_test_server_restart(AiqTestServer *ts, const AiqTestServerOptions *options);
gchar *
aiq_test_server_add_user(AiqTestServer *ts,
			 const gchar *tenant_id,
			 const gchar *username,
			 const gchar *role,
			 const gchar *password);
gchar *
aiq_test_server_add_tenant(AiqTestServer *ts,
			   const gchar *slug,
			   const gchar *tier,
			   gchar **admin_token);

AiqTestResponse *
aiq_test_request(AiqTestServer *ts,
		 const gchar *method,
		 const gchar *path,
		 const gchar *token,
		 const gchar *content_type,
		 const gchar *body,
		 gssize body_len);
/* what a hostile test sends may break the exchange: then the answer has
 * status 0 and the error as its body, and an unparsable JSON body is left
 * unparsed; a %NULL content type sends none at all */
AiqTestResponse *
aiq_test_request_lenient(AiqTestServer *ts,
			 const gchar *method,
			 const gchar *path,
			 const gchar *token,
			 const gchar *content_type,
			 const gchar *body,
			 gsize body_len);
gchar *
aiq_test_create_workflow(AiqTestServer *ts, const gchar *token, const gchar *json);
gchar *
aiq_test_start_at(AiqTestServer *ts,
		  const gchar *token,
		  const gchar *workflow_id,
		  const gchar *body,
		  gint64 created_us);
AiqTestResponse *
aiq_test_request_json(AiqTestServer *ts,
		      const gchar *method,
		      const gchar *path,
		      const gchar *token,
		      const gchar *json);
void
aiq_test_response_free(AiqTestResponse *resp);
JsonNode *
aiq_test_load_openapi(void);
const gchar *
aiq_test_response_error_code(AiqTestResponse *resp);
JsonObject *
aiq_test_response_object(AiqTestResponse *resp);
void
aiq_test_assert_status(AiqTestResponse *resp, guint status);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqTestResponse, aiq_test_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqTestServer, aiq_test_server_free)

G_END_DECLS
