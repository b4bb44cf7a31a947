/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Webhooks over the real server: the URL and secret, JSON and form bodies
 * and headers as inputs, HMAC signatures, rotation, tenancy and roles, and
 * responding when the execution finishes.
 */

#include "config.h"

#include <string.h>

#include "aiq-json.h"
#include "aiq-test-agent.h"
#include "aiq-test-server.h"

typedef struct {
	gchar *workflow_id;
	gchar *url;
	gchar *path;
	gchar *secret;
} Hook;

static void
hook_free(Hook *hook)
{
	g_free(hook->workflow_id);
	g_free(hook->url);
	g_free(hook->path);
	g_free(hook->secret);
	g_free(hook);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Hook, hook_free)

static gchar *
create_workflow(AiqTestServer *ts, const gchar *yaml)
{
	g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
							   "POST",
							   "/api/v1/workflows",
							   ts->editor_token,
							   "application/yaml",
							   yaml,
							   -1);
	aiq_test_assert_status(resp, 201);
	return g_strdup(aiq_json_object_get_string(aiq_test_response_object(resp), "id"));
}

static Hook *
get_hook(AiqTestServer *ts, const gchar *workflow_id, gboolean rotate)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/webhook%s",
						 workflow_id,
						 rotate ? "/rotate" : "");
	g_autoptr(AiqTestResponse) resp = aiq_test_request(ts,
							   rotate ? "POST" : "GET",
							   path,
							   ts->editor_token,
							   NULL,
							   NULL,
							   0);
	Hook *hook = g_new0(Hook, 1);
	JsonObject *obj;
	aiq_test_assert_status(resp, 200);
	obj = aiq_test_response_object(resp);
	hook->workflow_id = g_strdup(workflow_id);
	hook->url = g_strdup(json_object_get_string_member(obj, "url"));
	hook->path = g_strdup(json_object_get_string_member(obj, "path"));
	hook->secret = g_strdup(json_object_get_string_member(obj, "secret"));
	g_assert_true(g_str_has_prefix(hook->url, ts->url));
	g_assert_true(g_str_has_suffix(hook->url, hook->path));
	g_assert_true(g_str_has_prefix(hook->path, "/api/v1/hooks/whk_"));
	/* 256 random bits of secret */
	g_assert_cmpuint(strlen(hook->secret), ==, 64);
	return hook;
}

/* posts to a hook without any token, optionally with extra headers */
static AiqTestResponse *
post_hook(AiqTestServer *ts,
	  const gchar *path,
	  const gchar *content_type,
	  const gchar *body,
	  const gchar *const *headers)
{
	g_autofree gchar *url = g_strdup_printf("%s%s", ts->url, path);
	g_autoptr(SoupMessage) msg = soup_message_new("POST", url);
	g_autoptr(GBytes) request = g_bytes_new(body, strlen(body));
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	AiqTestResponse *resp = g_new0(AiqTestResponse, 1);
	gsize len = 0;
	const gchar *data;

	soup_message_set_request_body_from_bytes(msg, content_type, request);
	for (guint i = 0; headers != NULL && headers[i] != NULL; i += 2)
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     headers[i],
					     headers[i + 1]);
	reply = soup_session_send_and_read(ts->session, msg, NULL, &error);
	g_assert_no_error(error);
	data = g_bytes_get_data(reply, &len);
	resp->status = soup_message_get_status(msg);
	resp->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	resp->body = g_strndup(data, len);
	resp->json = aiq_json_parse(resp->body, len, 64, NULL);
	return resp;
}

static JsonObject *
get_execution(AiqTestServer *ts, const gchar *id, AiqTestResponse **keep)
{
	g_autofree gchar *path = g_strdup_printf("/api/v1/executions/%s", id);
	*keep = aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
	aiq_test_assert_status(*keep, 200);
	return aiq_test_response_object(*keep);
}

static gchar *
sign(const gchar *secret, const gchar *body)
{
	g_autofree gchar *hex = g_compute_hmac_for_string(G_CHECKSUM_SHA256,
							  (const guchar *)secret,
							  strlen(secret),
							  body,
							  -1);
	return g_strdup_printf("sha256=%s", hex);
}

static const gchar *const members_yaml = "name: members\n"
					 "triggers:\n"
					 "  - webhook: {}\n"
					 "inputs:\n"
					 "  customer: { type: string, required: true }\n"
					 "  amount: { type: number, default: 0 }\n"
					 "steps:\n"
					 "  - id: a\n"
					 "    uses: transform\n"
					 "    with: { value: \"${{ inputs.customer }}\" }\n";

static void
test_json_and_form(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create_workflow(ts, members_yaml);
	g_autoptr(Hook) hook = get_hook(ts, id, FALSE);
	g_autoptr(Hook) again = get_hook(ts, id, FALSE);

	/* the same URL on every read until rotated */
	g_assert_cmpstr(again->url, ==, hook->url);
	g_assert_cmpstr(again->secret, ==, hook->secret);

	/* JSON: its members are the inputs */
	{
		g_autoptr(AiqTestResponse) resp =
			post_hook(ts,
				  hook->path,
				  "application/json",
				  "{\"customer\": \"ACME\", \"amount\": 12.5}",
				  NULL);
		g_autoptr(AiqTestResponse) keep = NULL;
		JsonObject *execution;
		JsonObject *inputs;
		aiq_test_assert_status(resp, 202);
		execution = get_execution(
			ts,
			aiq_json_object_get_string(aiq_test_response_object(resp), "execution_id"),
			&keep);
		g_assert_cmpstr(json_object_get_string_member(execution, "trigger"), ==, "webhook");
		g_assert_cmpstr(json_object_get_string_member(execution, "workflow_id"), ==, id);
		inputs = json_object_get_object_member(execution, "inputs");
		g_assert_cmpstr(json_object_get_string_member(inputs, "customer"), ==, "ACME");
		g_assert_cmpfloat(json_object_get_double_member(inputs, "amount"), ==, 12.5);
	}
	/* a form: its fields are the inputs (strings) */
	{
		g_autoptr(AiqTestResponse) resp = post_hook(ts,
							    hook->path,
							    "application/x-www-form-urlencoded",
							    "customer=Bob+%26+Co",
							    NULL);
		g_autoptr(AiqTestResponse) keep = NULL;
		JsonObject *inputs;
		aiq_test_assert_status(resp, 202);
		inputs = json_object_get_object_member(
			get_execution(ts,
				      aiq_json_object_get_string(aiq_test_response_object(resp),
								 "execution_id"),
				      &keep),
			"inputs");
		g_assert_cmpstr(json_object_get_string_member(inputs, "customer"), ==, "Bob & Co");
	}
	/* inputs are checked like any start: a wrong type, an unknown input, a
	 * missing required one */
	{
		g_autoptr(AiqTestResponse) resp =
			post_hook(ts, hook->path, "application/json", "{\"customer\": 7}", NULL);
		aiq_test_assert_status(resp, 422);
		g_assert_nonnull(strstr(resp->body, "customer"));
	}
	{
		g_autoptr(AiqTestResponse) resp =
			post_hook(ts,
				  hook->path,
				  "application/json",
				  "{\"customer\": \"x\", \"colour\": \"red\"}",
				  NULL);
		aiq_test_assert_status(resp, 422);
		g_assert_nonnull(strstr(resp->body, "colour"));
	}
	{
		g_autoptr(AiqTestResponse) resp =
			post_hook(ts, hook->path, "application/json", "{}", NULL);
		aiq_test_assert_status(resp, 422);
	}
	/* not an object, not JSON, another content type */
	{
		g_autoptr(AiqTestResponse) resp =
			post_hook(ts, hook->path, "application/json", "[1, 2]", NULL);
		aiq_test_assert_status(resp, 422);
	}
	{
		g_autoptr(AiqTestResponse) resp =
			post_hook(ts, hook->path, "application/json", "{\"customer\": ", NULL);
		aiq_test_assert_status(resp, 400);
	}
	{
		g_autoptr(AiqTestResponse) resp =
			post_hook(ts, hook->path, "text/plain", "customer", NULL);
		aiq_test_assert_status(resp, 415);
	}
	/* an Idempotency-Key makes a repeated delivery the same execution */
	{
		const gchar *const headers[] = { "Idempotency-Key", "delivery-77", NULL };
		g_autoptr(AiqTestResponse) first = post_hook(ts,
							     hook->path,
							     "application/json",
							     "{\"customer\": \"A\"}",
							     headers);
		g_autoptr(AiqTestResponse) second = post_hook(ts,
							      hook->path,
							      "application/json",
							      "{\"customer\": \"A\"}",
							      headers);
		aiq_test_assert_status(first, 202);
		aiq_test_assert_status(second, 202);
		g_assert_cmpstr(
			aiq_json_object_get_string(aiq_test_response_object(first), "execution_id"),
			==,
			aiq_json_object_get_string(aiq_test_response_object(second),
						   "execution_id"));
	}
}

static void
test_body_and_headers(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create_workflow(ts,
					       "name: whole\n"
					       "triggers:\n"
					       "  - webhook: { headers: [X-Source, X-Missing] }\n"
					       "inputs:\n"
					       "  body: { type: object }\n"
					       "  headers: { type: object }\n"
					       "steps:\n"
					       "  - id: a\n"
					       "    uses: transform\n"
					       "    with: { value: 1 }\n");
	g_autoptr(Hook) hook = get_hook(ts, id, FALSE);
	const gchar *const headers[] = { "X-Source", "erp-7", "X-Other", "not passed", NULL };
	g_autoptr(AiqTestResponse) resp = post_hook(ts,
						    hook->path,
						    "application/json",
						    "{\"order\": {\"id\": 7, \"lines\": [1, 2]}}",
						    headers);
	g_autoptr(AiqTestResponse) keep = NULL;
	JsonObject *inputs;
	JsonObject *passed;
	aiq_test_assert_status(resp, 202);
	inputs = json_object_get_object_member(
		get_execution(
			ts,
			aiq_json_object_get_string(aiq_test_response_object(resp), "execution_id"),
			&keep),
		"inputs");
	g_assert_cmpint(
		json_object_get_int_member(
			json_object_get_object_member(json_object_get_object_member(inputs, "body"),
						      "order"),
			"id"),
		==,
		7);
	passed = json_object_get_object_member(inputs, "headers");
	g_assert_cmpstr(json_object_get_string_member(passed, "X-Source"), ==, "erp-7");
	g_assert_false(json_object_has_member(passed, "X-Other"));
	g_assert_false(json_object_has_member(passed, "X-Missing"));
}

static void
test_signature(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id =
		create_workflow(ts,
				"name: signed\n"
				"triggers:\n"
				"  - webhook: { signature_header: X-Signature-256 }\n"
				"inputs:\n"
				"  customer: { type: string, required: true }\n"
				"steps:\n"
				"  - id: a\n"
				"    uses: transform\n"
				"    with: { value: 1 }\n");
	g_autoptr(Hook) hook = get_hook(ts, id, FALSE);
	const gchar *body = "{\"customer\": \"ACME\"}";
	g_autofree gchar *good = sign(hook->secret, body);
	g_autofree gchar *other_body = sign(hook->secret, "{\"customer\": \"EVIL\"}");
	g_autofree gchar *other_key = sign("not the secret", body);
	g_autofree gchar *bare = g_strdup(good + strlen("sha256="));
	const gchar *const bad[] = { NULL, other_body, other_key, "sha256=", "sha256=zz", "" };

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		const gchar *const headers[] = { "X-Signature-256", bad[i], NULL };
		g_autoptr(AiqTestResponse) resp = post_hook(ts,
							    hook->path,
							    "application/json",
							    body,
							    bad[i] != NULL ? headers : NULL);
		aiq_test_assert_status(resp, 401);
		g_assert_cmpstr(aiq_test_response_error_code(resp), ==, "bad_signature");
	}
	{
		const gchar *const headers[] = { "X-Signature-256", good, NULL };
		g_autoptr(AiqTestResponse) resp =
			post_hook(ts, hook->path, "application/json", body, headers);
		aiq_test_assert_status(resp, 202);
	}
	{
		/* the bare hex is accepted too */
		const gchar *const headers[] = { "X-Signature-256", bare, NULL };
		g_autoptr(AiqTestResponse) resp =
			post_hook(ts, hook->path, "application/json", body, headers);
		aiq_test_assert_status(resp, 202);
	}
	/* rotated: the old URL is gone, the old secret no longer signs */
	{
		g_autoptr(Hook) rotated = get_hook(ts, id, TRUE);
		g_autofree gchar *new_sig = sign(rotated->secret, body);
		const gchar *const old_headers[] = { "X-Signature-256", good, NULL };
		const gchar *const new_headers[] = { "X-Signature-256", new_sig, NULL };
		g_assert_cmpstr(rotated->url, !=, hook->url);
		g_assert_cmpstr(rotated->secret, !=, hook->secret);
		{
			g_autoptr(AiqTestResponse) resp =
				post_hook(ts, hook->path, "application/json", body, old_headers);
			aiq_test_assert_status(resp, 404);
		}
		{
			g_autoptr(AiqTestResponse) resp =
				post_hook(ts, rotated->path, "application/json", body, old_headers);
			aiq_test_assert_status(resp, 401);
		}
		{
			g_autoptr(AiqTestResponse) resp =
				post_hook(ts, rotated->path, "application/json", body, new_headers);
			aiq_test_assert_status(resp, 202);
		}
	}
}

static void
test_tokens_and_roles(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create_workflow(ts, members_yaml);
	g_autofree gchar *path = g_strdup_printf("/api/v1/workflows/%s/webhook", id);
	g_autoptr(Hook) hook = get_hook(ts, id, FALSE);
	g_autofree gchar *tampered = g_strdup(hook->path);
	const gchar *bad_paths[] = { "/api/v1/hooks/whk_", "/api/v1/hooks/nothing", NULL, NULL };

	/* one character changed: unknown */
	tampered[strlen(tampered) - 1] = tampered[strlen(tampered) - 1] == 'A' ? 'B' : 'A';
	bad_paths[2] = tampered;
	for (guint i = 0; bad_paths[i] != NULL; i++) {
		g_autoptr(AiqTestResponse) resp = post_hook(ts,
							    bad_paths[i],
							    "application/json",
							    "{\"customer\": \"x\"}",
							    NULL);
		aiq_test_assert_status(resp, 404);
	}
	/* viewers cannot read the secret; another tenant does not see the workflow */
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->viewer_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 403);
	}
	{
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", path, ts->other_admin_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 404);
		g_assert_null(strstr(resp->body, hook->secret));
	}
	{
		g_autofree gchar *rotate = g_strdup_printf("%s/rotate", path);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "POST", rotate, ts->other_admin_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 404);
	}
	/* a workflow without a webhook trigger has no webhook */
	{
		g_autofree gchar *plain =
			create_workflow(ts,
					"name: plain\n"
					"triggers: [{ manual: {} }]\n"
					"steps:\n"
					"  - { id: a, uses: transform, with: { value: 1 } }\n");
		g_autofree gchar *plain_path =
			g_strdup_printf("/api/v1/workflows/%s/webhook", plain);
		g_autoptr(AiqTestResponse) resp =
			aiq_test_request(ts, "GET", plain_path, ts->editor_token, NULL, NULL, 0);
		aiq_test_assert_status(resp, 409);
	}
	/* disabled: refused; deleted: gone */
	{
		g_autofree gchar *disable = g_strdup_printf("/api/v1/workflows/%s/disable", id);
		g_autoptr(AiqTestResponse) off =
			aiq_test_request(ts, "POST", disable, ts->editor_token, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) resp = post_hook(ts,
							    hook->path,
							    "application/json",
							    "{\"customer\": \"x\"}",
							    NULL);
		aiq_test_assert_status(off, 200);
		aiq_test_assert_status(resp, 409);
	}
	{
		g_autofree gchar *wf = g_strdup_printf("/api/v1/workflows/%s", id);
		g_autoptr(AiqTestResponse) gone =
			aiq_test_request(ts, "DELETE", wf, ts->editor_token, NULL, NULL, 0);
		g_autoptr(AiqTestResponse) resp = post_hook(ts,
							    hook->path,
							    "application/json",
							    "{\"customer\": \"x\"}",
							    NULL);
		aiq_test_assert_status(gone, 204);
		aiq_test_assert_status(resp, 404);
	}
}

/* the secret survives a restart (sealed with the server key) */
static void
test_restart(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create_workflow(ts, members_yaml);
	g_autoptr(Hook) hook = get_hook(ts, id, FALSE);
	g_autoptr(Hook) after = NULL;
	AiqTestServerOptions options = { .data_dir = ts->dir };
	aiq_test_server_restart(ts, &options);
	after = get_hook(ts, id, FALSE);
	g_assert_cmpstr(after->path, ==, hook->path);
	g_assert_cmpstr(after->secret, ==, hook->secret);
	{
		g_autoptr(AiqTestResponse) resp = post_hook(ts,
							    hook->path,
							    "application/json",
							    "{\"customer\": \"x\"}",
							    NULL);
		aiq_test_assert_status(resp, 202);
	}
	/* nothing in the store gives the token or the secret away */
	{
		g_autofree gchar *db_path = g_build_filename(ts->dir, "automateiq.db", NULL);
		g_autofree gchar *db = NULL;
		gsize len = 0;
		const gchar *token = strrchr(hook->path, '/') + 1;
		if (g_file_get_contents(db_path, &db, &len, NULL)) {
			g_assert_null(g_strstr_len(db, (gssize)len, token));
			g_assert_null(g_strstr_len(db, (gssize)len, hook->secret));
		}
	}
}

typedef struct {
	AiqTestServer *ts;
	const gchar *path;
	AiqTestResponse *resp;
} HookCall;

static gpointer
hook_call_func(gpointer user_data)
{
	HookCall *call = user_data;
	call->resp = post_hook(call->ts,
			       call->path,
			       "application/json",
			       "{\"customer\": \"ACME\"}",
			       NULL);
	return NULL;
}

static const gchar *const on_finish_yaml = "name: answer\n"
					   "triggers:\n"
					   "  - webhook: { respond: on_finish, timeout: 1s }\n"
					   "inputs:\n"
					   "  customer: { type: string, required: true }\n"
					   "steps:\n"
					   "  - id: a\n"
					   "    uses: transform\n"
					   "    with: { value: 1 }\n"
					   "outputs:\n"
					   "  greeting: \"${{ steps.a.output }}\"\n";

/* respond=on_finish: the caller gets the execution's outputs */
static void
test_on_finish(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create_workflow(ts, on_finish_yaml);
	g_autoptr(Hook) hook = get_hook(ts, id, FALSE);
	g_autoptr(AiqTestAgent) agent = aiq_test_agent_enroll(ts, ts->admin_token, "runner", NULL);
	g_autoptr(JsonArray) jobs = NULL;
	HookCall call = { ts, hook->path, NULL };
	GThread *thread = g_thread_new("hook", hook_call_func, &call);
	const gchar *execution_id;

	/* the job arrives; the agent runs it and reports */
	jobs = aiq_test_agent_lease(agent, 1, 10000);
	g_assert_cmpuint(json_array_get_length(jobs), ==, 1);
	execution_id = json_object_get_string_member(json_array_get_object_element(jobs, 0),
						     "execution_id");
	aiq_test_agent_finish(agent, execution_id, "{\"greeting\": \"hello ACME\"}");
	g_thread_join(thread);
	aiq_test_assert_status(call.resp, 200);
	{
		JsonObject *obj = aiq_test_response_object(call.resp);
		g_assert_cmpstr(json_object_get_string_member(obj, "execution_id"),
				==,
				execution_id);
		g_assert_cmpstr(json_object_get_string_member(obj, "status"), ==, "succeeded");
		g_assert_cmpstr(
			json_object_get_string_member(json_object_get_object_member(obj, "outputs"),
						      "greeting"),
			==,
			"hello ACME");
	}
	aiq_test_response_free(call.resp);
}

/* respond=on_finish with nobody to run it: 202 with the id after the timeout */
static void
test_on_finish_timeout(void)
{
	g_autoptr(AiqTestServer) ts = aiq_test_server_new(NULL);
	g_autofree gchar *id = create_workflow(ts, on_finish_yaml);
	g_autoptr(Hook) hook = get_hook(ts, id, FALSE);
	gint64 t0 = g_get_monotonic_time();
	g_autoptr(AiqTestResponse) resp =
		post_hook(ts, hook->path, "application/json", "{\"customer\": \"ACME\"}", NULL);
	gint64 waited = g_get_monotonic_time() - t0;
	aiq_test_assert_status(resp, 202);
	g_assert_cmpstr(json_object_get_string_member(aiq_test_response_object(resp), "status"),
			!=,
			"succeeded");
	g_assert_nonnull(
		aiq_json_object_get_string(aiq_test_response_object(resp), "execution_id"));
	/* it waited for the trigger's timeout, not for ever */
	g_assert_cmpint(waited, >=, 900 * 1000);
	g_assert_cmpint(waited, <, 30 * G_USEC_PER_SEC);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aiq/webhooks/json-and-form", test_json_and_form);
	g_test_add_func("/aiq/webhooks/body-and-headers", test_body_and_headers);
	g_test_add_func("/aiq/webhooks/signature", test_signature);
	g_test_add_func("/aiq/webhooks/tokens-and-roles", test_tokens_and_roles);
	g_test_add_func("/aiq/webhooks/restart", test_restart);
	g_test_add_func("/aiq/webhooks/on-finish", test_on_finish);
	g_test_add_func("/aiq/webhooks/on-finish-timeout", test_on_finish_timeout);
	return g_test_run();
}
