/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * A small client of the agent protocol for the HTTP tests (the real agent
 * is a program of its own).
 */

#pragma once

#include "aiq-test-server.h"

G_BEGIN_DECLS

typedef struct {
	AiqTestServer *ts;
	gchar *id;
	gchar *token;
} AiqTestAgent;

void
aiq_test_agent_free(AiqTestAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqTestAgent, aiq_test_agent_free)

gchar *
aiq_test_enrollment_token(AiqTestServer *ts, const gchar *admin_token, const gchar *body);
AiqTestResponse *
aiq_test_agent_enroll_with(AiqTestServer *ts,
			   const gchar *token,
			   const gchar *name,
			   const gchar *labels);
AiqTestAgent *
aiq_test_agent_enroll(AiqTestServer *ts,
		      const gchar *admin_token,
		      const gchar *name,
		      const gchar *labels);
AiqTestResponse *
aiq_test_agent_post(AiqTestAgent *agent, const gchar *path, const gchar *json);
JsonArray *
aiq_test_agent_lease(AiqTestAgent *agent, guint capacity, guint wait_ms);
gchar *
aiq_test_agent_lease_one(AiqTestAgent *agent);
JsonObject *
aiq_test_agent_heartbeat(AiqTestAgent *agent, const gchar *running);
gchar *
aiq_test_event(const gchar *execution_id,
	       gint seq,
	       const gchar *type,
	       const gchar *step,
	       gint attempt,
	       const gchar *status,
	       const gchar *data);
JsonObject *
aiq_test_agent_send_events(AiqTestAgent *agent,
			   GPtrArray *events,
			   const gint *picks,
			   guint n_picks);
void
aiq_test_agent_finish(AiqTestAgent *agent, const gchar *execution_id, const gchar *outputs);

G_END_DECLS
