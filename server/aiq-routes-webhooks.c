/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Webhooks: each workflow with a webhook trigger gets a URL with an
 * unguessable token (it names its tenant, like every token) and an HMAC
 * secret. A POST to the URL starts an execution; the body and selected
 * headers become inputs.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "aiq-api.h"
#include "aiq-definition.h"
#include "aiq-error.h"
#include "aiq-governance.h"
#include "aiq-executions.h"
#include "aiq-json.h"
#include "aiq-queue.h"
#include "aiq-routes.h"
#include "aiq-store-schedules.h"
#include "aiq-store-workflows.h"
#include "aiq-util.h"

#define AIQ_WEBHOOK_PREFIX "whk"
#define AIQ_WEBHOOK_POLL_MS 50

/* the server key seals webhook tokens and secrets at rest */
typedef struct {
	guint8 key[crypto_secretbox_KEYBYTES];
} AiqServerKey;

static void
aiq_server_key_free(AiqServerKey *key)
{
	sodium_memzero(key, sizeof(*key));
	g_free(key);
}

static AiqServerKey *
aiq_server_key_load(AiqServer *server, GError **error)
{
	AiqServerConfig *config = aiq_server_get_config(server);
	g_autofree gchar *path = g_build_filename(config->data_dir, "server.key", NULL);
	g_autofree gchar *data = NULL;
	gsize len = 0;
	AiqServerKey *key = g_new0(AiqServerKey, 1);

	if (g_file_get_contents(path, &data, &len, NULL)) {
		if (len != sizeof(key->key)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFIG,
				    _("%s: not a server key (%zu bytes)"),
				    path,
				    len);
			aiq_server_key_free(key);
			return NULL;
		}
		memcpy(key->key, data, len);
		sodium_memzero(data, len);
		return key;
	}
	crypto_secretbox_keygen(key->key);
	if (!g_file_set_contents_full(path,
				      (const gchar *)key->key,
				      sizeof(key->key),
				      G_FILE_SET_CONTENTS_CONSISTENT,
				      0600,
				      error)) {
		aiq_error_convert(error);
		aiq_server_key_free(key);
		return NULL;
	}
	return key;
}

static gchar *
aiq_seal(AiqServerKey *key, const gchar *plain)
{
	gsize plen = strlen(plain);
	g_autofree guint8 *buf =
		g_malloc(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plen);
	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES,
			      (const guchar *)plain,
			      plen,
			      buf,
			      key->key);
	return g_base64_encode(buf, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plen);
}

static gchar *
aiq_unseal(AiqServerKey *key, const gchar *sealed, GError **error)
{
	gsize len = 0;
	g_autofree guchar *buf = g_base64_decode(sealed, &len);
	gchar *plain;
	if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		goto fail;
	plain = g_malloc0(len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES + 1);
	if (crypto_secretbox_open_easy((guchar *)plain,
				       buf + crypto_secretbox_NONCEBYTES,
				       len - crypto_secretbox_NONCEBYTES,
				       buf,
				       key->key) != 0) {
		g_free(plain);
		goto fail;
	}
	return plain;
fail:
	g_set_error_literal(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    _("a sealed webhook secret does not open with this server's key"));
	return NULL;
}

static AiqServerKey *
aiq_webhooks_key(AiqServer *server)
{
	return aiq_server_get_module(server, "server-key");
}

/* the latest definition, parsed once and shared with the queue, and its
 * first webhook trigger */
static AiqDefinition *
aiq_webhook_definition(AiqServer *server,
		       AiqWorkflowRow *workflow,
		       const AiqTrigger **trigger,
		       GError **error)
{
	AiqDefinition *definition = aiq_queue_get_definition(aiq_queue_get(server),
							     workflow->tenant_id,
							     workflow->id,
							     workflow->latest_version,
							     error);
	if (definition == NULL)
		return NULL;
	*trigger = NULL;
	for (guint i = 0; i < aiq_definition_get_n_triggers(definition); i++) {
		const AiqTrigger *t = aiq_definition_get_trigger(definition, i);
		if (t->kind == AIQ_TRIGGER_KIND_WEBHOOK) {
			*trigger = t;
			break;
		}
	}
	if (*trigger == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CONFLICT,
				    _("the workflow has no webhook trigger"));
		aiq_definition_unref(definition);
		return NULL;
	}
	return definition;
}

/* the token and secret sealed in a webhook row */
static gboolean
aiq_webhook_open(AiqServer *server,
		 AiqWebhookRow *row,
		 gchar **token,
		 gchar **secret,
		 GError **error)
{
	g_autofree gchar *plain = aiq_unseal(aiq_webhooks_key(server), row->sealed, error);
	g_autoptr(JsonNode) node = NULL;
	JsonObject *obj;
	if (plain == NULL)
		return FALSE;
	node = aiq_json_parse(plain, strlen(plain), 4, error);
	sodium_memzero(plain, strlen(plain));
	if (node == NULL)
		return FALSE;
	obj = json_node_get_object(node);
	if (token != NULL)
		*token = g_strdup(aiq_json_object_get_string(obj, "token"));
	*secret = g_strdup(aiq_json_object_get_string(obj, "secret"));
	return TRUE;
}

/* makes (or, with @rotate, remakes) the webhook; gives its token and secret */
static gboolean
aiq_webhook_ensure(AiqServer *server,
		   const gchar *tenant_id,
		   const gchar *workflow_id,
		   gboolean rotate,
		   gchar **token,
		   gchar **secret,
		   GError **error)
{
	AiqStore *store = aiq_server_get_store(server);
	g_autoptr(AiqWebhookRow) row = NULL;
	g_autoptr(GError) error_local = NULL;

	if (!rotate) {
		row = aiq_store_get_webhook(store, tenant_id, workflow_id, &error_local);
		if (row != NULL)
			return aiq_webhook_open(server, row, token, secret, error);
		if (!g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_NOT_FOUND)) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		}
	}
	{
		g_autoptr(AiqWebhookRow) fresh = g_new0(AiqWebhookRow, 1);
		g_autoptr(JsonObject) obj = json_object_new();
		g_autoptr(JsonNode) node = NULL;
		g_autofree gchar *plain = NULL;
		guint8 random[32];
		fresh->tenant_id = g_strdup(tenant_id);
		fresh->workflow_id = g_strdup(workflow_id);
		fresh->created_us = aiq_server_now(server);
		*token = aiq_auth_token_new_with_prefix(AIQ_WEBHOOK_PREFIX,
							tenant_id,
							fresh->token_hash);
		randombytes_buf(random, sizeof(random));
		*secret = g_malloc0(sizeof(random) * 2 + 1);
		sodium_bin2hex(*secret, sizeof(random) * 2 + 1, random, sizeof(random));
		json_object_set_string_member(obj, "token", *token);
		json_object_set_string_member(obj, "secret", *secret);
		node = aiq_json_new_object(json_object_ref(obj));
		plain = aiq_json_to_string(node, FALSE);
		fresh->sealed = aiq_seal(aiq_webhooks_key(server), plain);
		sodium_memzero(plain, strlen(plain));
		return aiq_store_set_webhook(store, fresh, error);
	}
}

static void
aiq_route_webhook_get_or_rotate(AiqRequest *req, gboolean rotate)
{
	AiqServer *server = aiq_request_get_server(req);
	const gchar *tenant_id = aiq_request_get_tenant_id(req);
	const gchar *workflow_id = aiq_request_get_param(req, "id");
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqWorkflowRow) workflow = NULL;
	g_autoptr(AiqDefinition) definition = NULL;
	g_autofree gchar *token = NULL;
	g_autofree gchar *secret = NULL;
	g_autofree gchar *base = NULL;
	g_autofree gchar *url = NULL;
	const AiqTrigger *trigger = NULL;
	JsonObject *obj;

	workflow = aiq_store_get_workflow(aiq_server_get_store(server),
					  tenant_id,
					  workflow_id,
					  &error);
	if (workflow == NULL) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	definition = aiq_webhook_definition(server, workflow, &trigger, &error);
	if (definition == NULL ||
	    !aiq_webhook_ensure(server, tenant_id, workflow_id, rotate, &token, &secret, &error)) {
		aiq_request_respond_gerror(req, error);
		return;
	}
	base = aiq_server_get_url(server);
	url = g_strdup_printf("%s/api/v1/hooks/%s", base, token);
	obj = json_object_new();
	json_object_set_string_member(obj, "workflow_id", workflow_id);
	json_object_set_string_member(obj, "url", url);
	json_object_set_string_member(obj, "path", url + strlen(base));
	json_object_set_string_member(obj, "secret", secret);
	if (trigger->signature_header != NULL)
		json_object_set_string_member(obj, "signature_header", trigger->signature_header);
	else
		json_object_set_null_member(obj, "signature_header");
	json_object_set_string_member(
		obj,
		"respond",
		trigger->respond == AIQ_WEBHOOK_RESPOND_ON_FINISH ? "on_finish" : "accepted");
	sodium_memzero(secret, strlen(secret));
	aiq_request_respond_json(req, SOUP_STATUS_OK, aiq_json_new_object(obj));
}

static void
aiq_route_webhook_get(AiqRequest *req)
{
	aiq_route_webhook_get_or_rotate(req, FALSE);
}

static void
aiq_route_webhook_rotate(AiqRequest *req)
{
	aiq_route_webhook_get_or_rotate(req, TRUE);
}

/* `sha256=HEX` or `HEX`, the HMAC-SHA256 of the body keyed by the secret */
static gboolean
aiq_webhook_signature_ok(const gchar *secret, GBytes *body, const gchar *header)
{
	guint8 mac[crypto_auth_hmacsha256_BYTES];
	guint8 given[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state state;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(body, &len);
	gsize bin_len = 0;

	if (header == NULL)
		return FALSE;
	if (g_str_has_prefix(header, "sha256="))
		header += 7;
	if (strlen(header) != 2 * sizeof(given) ||
	    sodium_hex2bin(given, sizeof(given), header, strlen(header), NULL, &bin_len, NULL) !=
		    0 ||
	    bin_len != sizeof(given))
		return FALSE;
	crypto_auth_hmacsha256_init(&state, (const guchar *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&state, data, len);
	crypto_auth_hmacsha256_final(&state, mac);
	return sodium_memcmp(mac, given, sizeof(mac)) == 0;
}

/*
 * The body and selected headers as inputs: with an input named `body`, the
 * whole parsed body goes there; otherwise each member of a JSON or form
 * object is an input of that name. With an input named `headers`, the
 * selected headers go there as an object.
 */
static JsonObject *
aiq_webhook_inputs(AiqRequest *req,
		   AiqDefinition *definition,
		   const AiqTrigger *trigger,
		   GError **error)
{
	g_autoptr(JsonObject) inputs = json_object_new();
	g_autoptr(JsonNode) body = NULL;
	GBytes *raw = aiq_request_get_body(req);
	const gchar *ct = aiq_request_get_header(req, "Content-Type");

	if (g_bytes_get_size(raw) > 0) {
		if (ct != NULL && g_str_has_prefix(ct, "application/x-www-form-urlencoded")) {
			g_autofree gchar *text =
				g_strndup(g_bytes_get_data(raw, NULL), g_bytes_get_size(raw));
			g_autoptr(GHashTable) form = soup_form_decode(text);
			JsonObject *obj = json_object_new();
			GHashTableIter iter;
			gpointer key;
			gpointer value;
			g_hash_table_iter_init(&iter, form);
			while (g_hash_table_iter_next(&iter, &key, &value))
				json_object_set_string_member(obj, key, value);
			body = aiq_json_new_object(obj);
		} else {
			body = aiq_request_parse_json(req, error);
			if (body == NULL)
				return NULL;
		}
	}
	if (aiq_definition_find_input(definition, "body") != NULL) {
		if (body != NULL)
			json_object_set_member(inputs, "body", json_node_ref(body));
	} else if (body != NULL) {
		JsonObjectIter iter;
		const gchar *key;
		JsonNode *value;
		if (!JSON_NODE_HOLDS_OBJECT(body)) {
			g_set_error_literal(
				error,
				AIQ_ERROR,
				AIQ_ERROR_INVALID_INPUT,
				_("the body must be a JSON object whose members are the "
				  "workflow's inputs (or the workflow needs an input "
				  "named body)"));
			return NULL;
		}
		json_object_iter_init_ordered(&iter, json_node_get_object(body));
		while (json_object_iter_next_ordered(&iter, &key, &value))
			json_object_set_member(inputs, key, json_node_ref(value));
	}
	if (trigger->headers != NULL && aiq_definition_find_input(definition, "headers") != NULL) {
		JsonObject *headers = json_object_new();
		for (guint i = 0; trigger->headers[i] != NULL; i++) {
			const gchar *value = aiq_request_get_header(req, trigger->headers[i]);
			if (value != NULL)
				json_object_set_string_member(headers, trigger->headers[i], value);
		}
		json_object_set_object_member(inputs, "headers", headers);
	}
	return g_steal_pointer(&inputs);
}

typedef struct {
	AiqRequest *req;
	AiqServer *server;
	gchar *tenant_id;
	gchar *execution_id;
	gint64 deadline_us;
} AiqWebhookWait;

static void
aiq_webhook_wait_free(AiqWebhookWait *wait)
{
	aiq_request_unref(wait->req);
	g_free(wait->tenant_id);
	g_free(wait->execution_id);
	g_free(wait);
}

static JsonNode *
aiq_webhook_result(JsonNode *execution)
{
	JsonObject *src = json_node_get_object(execution);
	JsonObject *obj = json_object_new();
	JsonNode *outputs = json_object_get_member(src, "outputs");
	JsonNode *error = json_object_get_member(src, "error");
	json_object_set_string_member(obj,
				      "execution_id",
				      json_object_get_string_member(src, "id"));
	json_object_set_string_member(obj, "status", json_object_get_string_member(src, "status"));
	json_object_set_member(obj,
			       "outputs",
			       outputs != NULL ? json_node_copy(outputs)
					       : json_node_new(JSON_NODE_NULL));
	json_object_set_member(obj,
			       "error",
			       error != NULL ? json_node_copy(error)
					     : json_node_new(JSON_NODE_NULL));
	return aiq_json_new_object(obj);
}

/* respond=on_finish: the result once the execution is final, or 202 after the timeout */
static gboolean
aiq_webhook_poll_cb(gpointer user_data)
{
	AiqWebhookWait *wait = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) execution =
		aiq_executions_get(wait->server, wait->tenant_id, wait->execution_id, &error);
	if (execution != NULL &&
	    aiq_execution_status_is_final_str(
		    aiq_json_object_get_string(json_node_get_object(execution), "status"))) {
		aiq_request_respond_json(wait->req, SOUP_STATUS_OK, aiq_webhook_result(execution));
		aiq_request_finish(wait->req);
		return G_SOURCE_REMOVE;
	}
	if (execution == NULL || g_get_monotonic_time() >= wait->deadline_us) {
		JsonObject *obj = json_object_new();
		json_object_set_string_member(obj, "execution_id", wait->execution_id);
		json_object_set_string_member(obj, "status", "running");
		aiq_request_respond_json(wait->req, SOUP_STATUS_ACCEPTED, aiq_json_new_object(obj));
		aiq_request_finish(wait->req);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void
aiq_route_hook(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqStore *store = aiq_server_get_store(server);
	g_autofree gchar *tenant_id = NULL;
	g_autofree gchar *secret = NULL;
	g_autoptr(AiqWebhookRow) row = NULL;
	g_autoptr(AiqWorkflowRow) workflow = NULL;
	g_autoptr(AiqDefinition) definition = NULL;
	g_autoptr(JsonObject) inputs = NULL;
	g_autoptr(JsonNode) execution = NULL;
	g_autoptr(GError) error = NULL;
	const AiqTrigger *trigger = NULL;
	AiqStartRequest start = { 0 };
	AiqQuotaUse quota = { 0 };
	guint8 hash[32];

	/* an unknown, malformed or rotated token, a workflow gone: the same 404 */
	if (!aiq_auth_token_parse_with_prefix(aiq_request_get_param(req, "token"),
					      AIQ_WEBHOOK_PREFIX,
					      &tenant_id,
					      hash) ||
	    (row = aiq_store_lookup_webhook(store, tenant_id, hash, NULL)) == NULL ||
	    (workflow = aiq_store_get_workflow(store, tenant_id, row->workflow_id, NULL)) == NULL) {
		aiq_request_respond_error(req,
					  SOUP_STATUS_NOT_FOUND,
					  "not_found",
					  _("no such webhook"),
					  NULL);
		goto audit;
	}
	/* the tenant's request budget covers its webhooks */
	if (!aiq_governance_check_tenant(aiq_governance_get(server),
					 req,
					 tenant_id,
					 AIQ_RATE_SCOPE_WEBHOOK))
		goto audit;
	/* the start (or its failure) is in the tenant's audit log; the route
	 * answers later, so it records the start itself */
	aiq_request_set_audit_tenant(req, tenant_id);
	aiq_request_set_audit_actor(req, "webhook", row->workflow_id, workflow->name);
	/* the body is the payload: within the tenant's quota before anything
	 * reads it */
	if (!aiq_executions_check_payload(req, tenant_id))
		goto audit;
	definition = aiq_webhook_definition(server, workflow, &trigger, &error);
	if (definition == NULL) {
		aiq_request_respond_gerror(req, error);
		goto audit;
	}
	if (trigger->signature_header != NULL) {
		gboolean ok;
		if (!aiq_webhook_open(server, row, NULL, &secret, &error)) {
			aiq_request_respond_gerror(req, error);
			goto audit;
		}
		ok = aiq_webhook_signature_ok(
			secret,
			aiq_request_get_body(req),
			aiq_request_get_header(req, trigger->signature_header));
		sodium_memzero(secret, strlen(secret));
		if (!ok) {
			g_autofree gchar *message = g_strdup_printf(
				_("the %s header does not hold the body's HMAC-SHA256 "
				  "signature"),
				trigger->signature_header);
			aiq_request_respond_error(req,
						  SOUP_STATUS_UNAUTHORIZED,
						  "bad_signature",
						  message,
						  NULL);
			goto audit;
		}
	}
	inputs = aiq_webhook_inputs(req, definition, trigger, &error);
	if (inputs == NULL) {
		aiq_request_respond_gerror(req, error);
		goto audit;
	}
	start.tenant_id = tenant_id;
	start.workflow_id = row->workflow_id;
	start.inputs = inputs;
	start.trigger = "webhook";
	start.idempotency_key = aiq_request_get_header(req, "Idempotency-Key");
	start.quota = &quota;
	execution = aiq_executions_start(server, &start, NULL, &error);
	if (execution == NULL) {
		aiq_executions_respond_error(req, error, &quota);
		goto audit;
	}
	aiq_request_set_audit_target(
		req,
		"execution",
		json_object_get_string_member(json_node_get_object(execution), "id"));
	aiq_governance_audit_request(aiq_governance_get(server), req, "execution.start");
	if (trigger->respond == AIQ_WEBHOOK_RESPOND_ON_FINISH) {
		AiqWebhookWait *wait = g_new0(AiqWebhookWait, 1);
		GSource *source = g_timeout_source_new(AIQ_WEBHOOK_POLL_MS);
		wait->req = aiq_request_ref(req);
		wait->server = server;
		wait->tenant_id = g_strdup(tenant_id);
		wait->execution_id = g_strdup(
			json_object_get_string_member(json_node_get_object(execution), "id"));
		/* real time, even with an injected clock: the caller is waiting */
		wait->deadline_us = g_get_monotonic_time() + trigger->respond_timeout_ms * 1000;
		g_source_set_callback(source,
				      aiq_webhook_poll_cb,
				      wait,
				      (GDestroyNotify)aiq_webhook_wait_free);
		/* on the HTTP thread of the connection: a quick read every poll */
		g_source_attach(source, aiq_request_get_context(req));
		g_source_unref(source);
		return;
	}
	{
		JsonObject *obj = json_object_new();
		json_object_set_string_member(
			obj,
			"execution_id",
			json_object_get_string_member(json_node_get_object(execution), "id"));
		json_object_set_string_member(
			obj,
			"status",
			json_object_get_string_member(json_node_get_object(execution), "status"));
		aiq_request_respond_json(req, SOUP_STATUS_ACCEPTED, aiq_json_new_object(obj));
	}
	goto out;
audit:
	aiq_governance_audit_request(aiq_governance_get(server), req, "execution.start");
out:
	aiq_request_finish(req);
}

static const AiqRoute aiq_webhook_routes[] = {
	{ "GET",
	  "/api/v1/workflows/{id}/webhook",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_webhook_get,
	  0,
	  "the webhook URL and secret of a workflow" },
	{ "POST",
	  "/api/v1/workflows/{id}/webhook/rotate",
	  AIQ_ROLE_EDITOR,
	  AIQ_ROUTE_WORKER,
	  aiq_route_webhook_rotate,
	  0,
	  "a new webhook URL and secret",
	  "webhook.rotate" },
	{ "POST",
	  "/api/v1/hooks/{token}",
	  AIQ_ROLE_NONE,
	  AIQ_ROUTE_ASYNC,
	  aiq_route_hook,
	  0,
	  "start an execution from a webhook" },
};

gboolean
aiq_routes_webhooks_register(AiqServer *server, GError **error)
{
	AiqServerKey *key = aiq_server_key_load(server, error);
	if (key == NULL)
		return FALSE;
	aiq_server_set_module(server, "server-key", key, (GDestroyNotify)aiq_server_key_free);
	aiq_server_add_routes(server, aiq_webhook_routes, G_N_ELEMENTS(aiq_webhook_routes));
	return TRUE;
}
