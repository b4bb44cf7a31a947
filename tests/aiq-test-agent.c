/*
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "aiq-json.h"
#include "aiq-test-agent.h"

void
aiq_test_agent_free(AiqTestAgent *agent)
{
	g_free(agent->id);
	g_free(agent->token);
	g_free(agent);
}

/* a new enrollment token, made by a tenant admin with @body */
gchar *
aiq_test_enrollment_token(AiqTestServer *ts, const gchar *admin_token, const gchar *body)
{
	g_autoptr(AiqTestResponse) resp =
		aiq_test_request_json(ts, "POST", "/api/v1/enrollment-tokens", admin_token, body);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "token"));
}

/* @labels: a JSON array, or NULL for none */
AiqTestResponse *
aiq_test_agent_enroll_with(AiqTestServer *ts,
			   const gchar *token,
			   const gchar *name,
			   const gchar *labels)
{
	g_autofree gchar *body = g_strdup_printf("{\"token\":\"%s\",\"name\":\"%s\",\"labels\":%s,"
						 "\"version\":\"1.0\",\"capacity\":4}",
						 token,
						 name,
						 labels != NULL ? labels : "[]");
	return aiq_test_request_json(ts, "POST", "/api/v1/agents/enroll", NULL, body);
}

AiqTestAgent *
aiq_test_agent_enroll(AiqTestServer *ts,
		      const gchar *admin_token,
		      const gchar *name,
		      const gchar *labels)
{
	g_autofree gchar *token = aiq_test_enrollment_token(ts, admin_token, "{}");
	g_autoptr(AiqTestResponse) resp = aiq_test_agent_enroll_with(ts, token, name, labels);
	AiqTestAgent *agent = g_new0(AiqTestAgent, 1);
	JsonObject *obj;
	aiq_test_assert_status(resp, 201);
	obj = aiq_test_response_object(resp);
	agent->ts = ts;
	agent->id = g_strdup(aiq_json_object_get_string(obj, "agent_id"));
	agent->token = g_strdup(aiq_json_object_get_string(obj, "credential"));
	return agent;
}

AiqTestResponse *
aiq_test_agent_post(AiqTestAgent *agent, const gchar *path, const gchar *json)
{
	return aiq_test_request_json(agent->ts, "POST", path, agent->token, json);
}

/* the jobs of one lease call, waiting up to @wait_ms for some */
JsonArray *
aiq_test_agent_lease(AiqTestAgent *agent, guint capacity, guint wait_ms)
{
	g_autofree gchar *body =
		g_strdup_printf("{\"capacity\":%u,\"wait_ms\":%u}", capacity, wait_ms);
	g_autoptr(AiqTestResponse) resp = aiq_test_agent_post(agent, "/api/v1/agent/lease", body);
	aiq_test_assert_status(resp, 200);
	return json_array_ref(aiq_json_object_get_array(aiq_test_response_object(resp), "jobs"));
}

/* the execution id of the one job a lease must give now */
gchar *
aiq_test_agent_lease_one(AiqTestAgent *agent)
{
	g_autoptr(JsonArray) jobs = aiq_test_agent_lease(agent, 1, 0);
	g_assert_cmpuint(json_array_get_length(jobs), ==, 1);
	return g_strdup(
		aiq_json_object_get_string(json_array_get_object_element(jobs, 0), "execution_id"));
}

/* @running: execution ids as JSON strings separated by commas */
JsonObject *
aiq_test_agent_heartbeat(AiqTestAgent *agent, const gchar *running)
{
	g_autofree gchar *body = g_strdup_printf("{\"running\":[%s],\"capacity\":4}", running);
	g_autoptr(AiqTestResponse) resp =
		aiq_test_agent_post(agent, "/api/v1/agent/heartbeat", body);
	aiq_test_assert_status(resp, 200);
	return json_object_ref(aiq_test_response_object(resp));
}

/* one event in the wire form of docs/events.md; its time follows its seq */
gchar *
aiq_test_event(const gchar *execution_id,
	       gint seq,
	       const gchar *type,
	       const gchar *step,
	       gint attempt,
	       const gchar *status,
	       const gchar *data)
{
	GString *str = g_string_new(NULL);
	g_string_append_printf(str,
			       "{\"execution_id\":\"%s\",\"seq\":%d,\"type\":\"%s\","
			       "\"time\":\"2027-01-01T00:%02d:%02d.000000Z\"",
			       execution_id,
			       seq,
			       type,
			       (seq / 60) % 60,
			       seq % 60);
	if (step != NULL)
		g_string_append_printf(str, ",\"step\":\"%s\"", step);
	if (attempt > 0)
		g_string_append_printf(str, ",\"attempt\":%d", attempt);
	if (status != NULL)
		g_string_append_printf(str, ",\"status\":\"%s\"", status);
	if (data != NULL)
		g_string_append_printf(str, ",\"data\":%s", data);
	g_string_append_c(str, '}');
	return g_string_free(str, FALSE);
}

/* sends events (indexes into @events, or all of them when @picks is NULL);
 * returns the reply */
JsonObject *
aiq_test_agent_send_events(AiqTestAgent *agent, GPtrArray *events, const gint *picks, guint n_picks)
{
	g_autoptr(GString) body = g_string_new("{\"events\":[");
	g_autoptr(AiqTestResponse) resp = NULL;
	guint n = picks != NULL ? n_picks : events->len;
	for (guint i = 0; i < n; i++) {
		if (i > 0)
			g_string_append_c(body, ',');
		g_string_append(body,
				g_ptr_array_index(events, picks != NULL ? picks[i] : (gint)i));
	}
	g_string_append(body, "]}");
	resp = aiq_test_agent_post(agent, "/api/v1/agent/events", body->str);
	aiq_test_assert_status(resp, 200);
	return json_object_ref(aiq_test_response_object(resp));
}

/* reports a leased execution as started and succeeded with @outputs */
void
aiq_test_agent_finish(AiqTestAgent *agent, const gchar *execution_id, const gchar *outputs)
{
	g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(JsonObject) reply = NULL;
	g_autofree gchar *data = g_strdup_printf("{\"outputs\":%s}", outputs);
	g_ptr_array_add(events,
			aiq_test_event(execution_id, 1, "execution.created", NULL, 0, NULL, "{}"));
	g_ptr_array_add(events,
			aiq_test_event(execution_id, 2, "execution.started", NULL, 0, NULL, NULL));
	g_ptr_array_add(
		events,
		aiq_test_event(execution_id, 3, "execution.finished", NULL, 0, "succeeded", data));
	reply = aiq_test_agent_send_events(agent, events, NULL, 0);
	g_assert_cmpint(aiq_json_object_get_int(aiq_json_object_get_object(reply, "acks"),
						execution_id,
						-1),
			==,
			3);
}
