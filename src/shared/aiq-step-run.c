/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-step-run.h"
#include "aiq-util.h"

#define AIQ_STEP_RUN_LOG_CAP (64 * 1024)

struct _AiqStepRun {
	GObject parent_instance;
	const AiqStepKind *kind;
	JsonObject *params;
	AiqConfig *config;
	AiqSecrets *secrets;
	AiqSandbox *sandbox;
	const AiqExprScope *scope;
	gpointer engine;
	gchar *step_key;
	gchar *execution_id;
	guint attempt;
	gint64 timeout_ms;
	GCancellable *cancellable;       /* ours, handed to the kind */
	GCancellable *outer_cancellable; /* the caller's */
	gulong outer_cancelled_id;
	GSource *timeout_source;
	AiqStepRunDoneFunc done;
	gpointer done_data;
	AiqStepRunLogFunc log_func;
	gpointer log_data;
	GDestroyNotify log_destroy;
	GString *log;
	gboolean log_truncated;
	gboolean started;
	gboolean finished;
	JsonNode *output;
	GError *error;
	gint64 started_us;
	gint64 finished_us;
};

G_DEFINE_TYPE(AiqStepRun, aiq_step_run, G_TYPE_OBJECT)

static void
aiq_step_run_finish_internal(AiqStepRun *self, GError *error, JsonNode *output)
{
	g_autoptr(AiqStepRun) keep = NULL;

	if (self->finished) {
		/* a late answer after a timeout or cancel: drop it */
		if (error != NULL)
			g_error_free(error);
		if (output != NULL)
			json_node_unref(output);
		return;
	}
	keep = g_object_ref(self);
	self->finished = TRUE;
	self->finished_us = g_get_real_time();
	self->error = error;
	self->output = output;
	if (self->timeout_source != NULL) {
		g_source_destroy(self->timeout_source);
		g_clear_pointer(&self->timeout_source, g_source_unref);
	}
	if (self->outer_cancelled_id != 0) {
		g_cancellable_disconnect(self->outer_cancellable, self->outer_cancelled_id);
		self->outer_cancelled_id = 0;
	}
	/* tell the kind to stop whatever is still running (a process, a request) */
	if (error != NULL && !g_cancellable_is_cancelled(self->cancellable))
		g_cancellable_cancel(self->cancellable);
	if (self->done != NULL) {
		AiqStepRunDoneFunc done = self->done;
		self->done = NULL;
		done(self, self->done_data);
	}
}

static void
aiq_step_run_finalize(GObject *object)
{
	AiqStepRun *self = AIQ_STEP_RUN(object);
	if (self->outer_cancelled_id != 0)
		g_cancellable_disconnect(self->outer_cancellable, self->outer_cancelled_id);
	if (self->timeout_source != NULL) {
		g_source_destroy(self->timeout_source);
		g_source_unref(self->timeout_source);
	}
	if (self->log_destroy != NULL)
		self->log_destroy(self->log_data);
	g_clear_pointer(&self->params, json_object_unref);
	g_clear_object(&self->config);
	g_clear_pointer(&self->secrets, aiq_secrets_unref);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->outer_cancellable);
	g_clear_pointer(&self->output, json_node_unref);
	g_clear_error(&self->error);
	if (self->log != NULL)
		g_string_free(self->log, TRUE);
	g_free(self->step_key);
	g_free(self->execution_id);
	G_OBJECT_CLASS(aiq_step_run_parent_class)->finalize(object);
}

static void
aiq_step_run_class_init(AiqStepRunClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = aiq_step_run_finalize;
}

static void
aiq_step_run_init(AiqStepRun *self)
{
	self->attempt = 1;
	self->cancellable = g_cancellable_new();
}

/**
 * aiq_step_run_new:
 * @kind: the step kind
 * @params: the resolved parameters (see aiq_step_kind_resolve_params())
 * @config: (nullable): connections, roots and limits
 */
AiqStepRun *
aiq_step_run_new(const AiqStepKind *kind, JsonObject *params, AiqConfig *config)
{
	AiqStepRun *self;
	g_return_val_if_fail(kind != NULL, NULL);
	self = g_object_new(AIQ_TYPE_STEP_RUN, NULL);
	self->kind = kind;
	self->params = params != NULL ? json_object_ref(params) : json_object_new();
	self->config = config != NULL ? g_object_ref(config) : aiq_config_new();
	return self;
}

void
aiq_step_run_set_step_key(AiqStepRun *self, const gchar *step_key)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	g_free(self->step_key);
	self->step_key = g_strdup(step_key);
}

void
aiq_step_run_set_execution_id(AiqStepRun *self, const gchar *execution_id)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	g_free(self->execution_id);
	self->execution_id = g_strdup(execution_id);
}

void
aiq_step_run_set_attempt(AiqStepRun *self, guint attempt)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	self->attempt = attempt;
}

void
aiq_step_run_set_timeout(AiqStepRun *self, gint64 timeout_ms)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	self->timeout_ms = timeout_ms;
}

void
aiq_step_run_set_secrets(AiqStepRun *self, AiqSecrets *secrets)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	g_clear_pointer(&self->secrets, aiq_secrets_unref);
	if (secrets != NULL)
		self->secrets = aiq_secrets_ref(secrets);
}

/**
 * aiq_step_run_set_scope:
 * @scope: (nullable): must stay valid until the run finishes
 *
 * What the script kind's Lua chunk can see.
 */
void
aiq_step_run_set_scope(AiqStepRun *self, AiqSandbox *sandbox, const AiqExprScope *scope)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	self->sandbox = sandbox;
	self->scope = scope;
}

void
aiq_step_run_set_engine(AiqStepRun *self, gpointer engine)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	self->engine = engine;
}

void
aiq_step_run_set_log_func(AiqStepRun *self,
			  AiqStepRunLogFunc func,
			  gpointer user_data,
			  GDestroyNotify destroy)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	if (self->log_destroy != NULL)
		self->log_destroy(self->log_data);
	self->log_func = func;
	self->log_data = user_data;
	self->log_destroy = destroy;
}

static gboolean
aiq_step_run_timeout_cb(gpointer user_data)
{
	AiqStepRun *self = AIQ_STEP_RUN(user_data);
	g_autofree gchar *duration = aiq_duration_to_string(self->timeout_ms);
	g_clear_pointer(&self->timeout_source, g_source_unref);
	g_cancellable_cancel(self->cancellable);
	aiq_step_run_finish_internal(
		self,
		g_error_new(AIQ_ERROR, AIQ_ERROR_TIMED_OUT, _("timed out after %s"), duration),
		NULL);
	return G_SOURCE_REMOVE;
}

static gboolean
aiq_step_run_cancelled_idle_cb(gpointer user_data)
{
	AiqStepRun *self = AIQ_STEP_RUN(user_data);
	g_cancellable_cancel(self->cancellable);
	aiq_step_run_finish_internal(
		self,
		g_error_new_literal(AIQ_ERROR, AIQ_ERROR_CANCELLED, _("cancelled")),
		NULL);
	return G_SOURCE_REMOVE;
}

static void
aiq_step_run_outer_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	/* may run in any thread: finish on the main context */
	g_idle_add_full(G_PRIORITY_DEFAULT,
			aiq_step_run_cancelled_idle_cb,
			g_object_ref(user_data),
			g_object_unref);
}

/**
 * aiq_step_run_start:
 * @cancellable: (nullable): cancels the attempt
 * @done: called once when the attempt finishes, maybe before this returns
 *
 * Runs the attempt with its timeout. The result is read with
 * aiq_step_run_get_output() and aiq_step_run_get_error().
 */
void
aiq_step_run_start(AiqStepRun *self,
		   GCancellable *cancellable,
		   AiqStepRunDoneFunc done,
		   gpointer user_data)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	g_return_if_fail(!self->started);

	self->started = TRUE;
	self->started_us = g_get_real_time();
	self->done = done;
	self->done_data = user_data;

	if (cancellable != NULL) {
		if (g_cancellable_is_cancelled(cancellable)) {
			aiq_step_run_cancelled_idle_cb(self);
			return;
		}
		self->outer_cancellable = g_object_ref(cancellable);
		self->outer_cancelled_id =
			g_cancellable_connect(cancellable,
					      G_CALLBACK(aiq_step_run_outer_cancelled_cb),
					      self,
					      NULL);
	}
	if (self->timeout_ms > 0) {
		self->timeout_source =
			g_timeout_source_new((guint)MIN(self->timeout_ms, G_MAXUINT));
		g_source_set_callback(self->timeout_source, aiq_step_run_timeout_cb, self, NULL);
		g_source_attach(self->timeout_source, g_main_context_get_thread_default());
	}
	self->kind->run(self);
}

/**
 * aiq_step_run_abandon:
 *
 * The caller no longer wants the result: the done callback and the log
 * function will not be called, and the kind is told to stop.
 */
void
aiq_step_run_abandon(AiqStepRun *self)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	self->done = NULL;
	if (self->log_destroy != NULL)
		self->log_destroy(self->log_data);
	self->log_func = NULL;
	self->log_destroy = NULL;
	self->log_data = NULL;
	if (!self->finished)
		g_cancellable_cancel(self->cancellable);
}

static void
aiq_step_run_task_done_cb(AiqStepRun *self, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	if (self->error != NULL)
		g_task_return_error(task, g_error_copy(self->error));
	else
		g_task_return_pointer(task,
				      self->output != NULL ? json_node_ref(self->output)
							   : json_node_new(JSON_NODE_NULL),
				      (GDestroyNotify)json_node_unref);
}

/**
 * aiq_step_run_run_async:
 *
 * The GTask form of aiq_step_run_start().
 */
void
aiq_step_run_run_async(AiqStepRun *self,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, aiq_step_run_run_async);
	/* the attempt's own error (AIQ_ERROR_CANCELLED) is the answer */
	g_task_set_check_cancellable(task, FALSE);
	aiq_step_run_start(self, cancellable, aiq_step_run_task_done_cb, task);
}

JsonNode *
aiq_step_run_run_finish(AiqStepRun *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

const AiqStepKind *
aiq_step_run_get_kind(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->kind;
}

JsonObject *
aiq_step_run_get_params(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->params;
}

JsonNode *
aiq_step_run_get_param(AiqStepRun *self, const gchar *name)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return json_object_get_member(self->params, name);
}

const gchar *
aiq_step_run_get_string(AiqStepRun *self, const gchar *name)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return aiq_json_object_get_string(self->params, name);
}

gint64
aiq_step_run_get_int(AiqStepRun *self, const gchar *name)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), 0);
	return aiq_json_object_get_int(self->params, name, 0);
}

gdouble
aiq_step_run_get_double(AiqStepRun *self, const gchar *name)
{
	JsonNode *node;
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), 0);
	node = json_object_get_member(self->params, name);
	return aiq_json_is_number(node) ? json_node_get_double(node) : 0.0;
}

gboolean
aiq_step_run_get_bool(AiqStepRun *self, const gchar *name)
{
	JsonNode *node;
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), FALSE);
	node = json_object_get_member(self->params, name);
	return aiq_json_is_bool(node) ? json_node_get_boolean(node) : FALSE;
}

/**
 * aiq_step_run_get_duration:
 *
 * Returns: the duration parameter in milliseconds, or -1 when unset
 */
gint64
aiq_step_run_get_duration(AiqStepRun *self, const gchar *name)
{
	const gchar *str;
	gint64 ms = -1;
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), -1);
	str = aiq_json_object_get_string(self->params, name);
	if (str == NULL || !aiq_duration_parse(str, &ms, NULL))
		return -1;
	return ms;
}

/**
 * aiq_step_run_get_strv:
 *
 * Returns: (transfer full) (nullable): a string-list parameter
 */
gchar **
aiq_step_run_get_strv(AiqStepRun *self, const gchar *name)
{
	JsonArray *array;
	GStrvBuilder *builder;
	gchar **result;
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	array = aiq_json_object_get_array(self->params, name);
	if (array == NULL)
		return NULL;
	builder = g_strv_builder_new();
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *elem = json_array_get_element(array, i);
		if (aiq_json_is_string(elem))
			g_strv_builder_add(builder, json_node_get_string(elem));
	}
	result = g_strv_builder_end(builder);
	g_strv_builder_unref(builder);
	return result;
}

JsonObject *
aiq_step_run_get_object(AiqStepRun *self, const gchar *name)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return aiq_json_object_get_object(self->params, name);
}

const gchar *
aiq_step_run_get_step_key(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->step_key;
}

const gchar *
aiq_step_run_get_execution_id(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->execution_id;
}

guint
aiq_step_run_get_attempt(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), 0);
	return self->attempt;
}

gint64
aiq_step_run_get_timeout(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), 0);
	return self->timeout_ms;
}

GCancellable *
aiq_step_run_get_cancellable(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->cancellable;
}

AiqConfig *
aiq_step_run_get_config(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->config;
}

AiqSecrets *
aiq_step_run_get_secrets(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->secrets;
}

AiqSandbox *
aiq_step_run_get_sandbox(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->sandbox != NULL ? self->sandbox : aiq_sandbox_get_default();
}

const AiqExprScope *
aiq_step_run_get_scope(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->scope;
}

gpointer
aiq_step_run_get_engine(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->engine;
}

/**
 * aiq_step_run_log:
 *
 * Adds a line to the attempt's log, with secrets masked. The log is capped;
 * past the cap a single marker says so.
 */
void
aiq_step_run_log(AiqStepRun *self, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *line = NULL;
	g_autofree gchar *masked = NULL;

	g_return_if_fail(AIQ_IS_STEP_RUN(self));

	va_start(args, format);
	line = g_strdup_vprintf(format, args);
	va_end(args);
	masked = self->secrets != NULL ? aiq_secrets_mask_string(self->secrets, line)
				       : g_steal_pointer(&line);
	if (self->log == NULL)
		self->log = g_string_new(NULL);
	if (self->log->len + strlen(masked) + 1 > AIQ_STEP_RUN_LOG_CAP) {
		if (!self->log_truncated)
			g_string_append(self->log, "[log truncated]\n");
		self->log_truncated = TRUE;
	} else {
		g_string_append(self->log, masked);
		g_string_append_c(self->log, '\n');
	}
	if (self->log_func != NULL)
		self->log_func(self, masked, self->log_data);
}

/**
 * aiq_step_run_return_value:
 * @output: (transfer full) (nullable): the step's output
 */
void
aiq_step_run_return_value(AiqStepRun *self, JsonNode *output)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	aiq_step_run_finish_internal(self,
				     NULL,
				     output != NULL ? output : json_node_new(JSON_NODE_NULL));
}

/**
 * aiq_step_run_return_error:
 * @error: (transfer full): why the attempt failed; other domains are converted
 */
void
aiq_step_run_return_error(AiqStepRun *self, GError *error)
{
	aiq_step_run_return_error_with_output(self, error, NULL);
}

/**
 * aiq_step_run_return_error_with_output:
 * @error: (transfer full): why the attempt failed
 * @output: (transfer full) (nullable): what the attempt produced anyway, e.g.
 *   an HTTP response with a failing status
 */
void
aiq_step_run_return_error_with_output(AiqStepRun *self, GError *error, JsonNode *output)
{
	g_return_if_fail(AIQ_IS_STEP_RUN(self));
	g_return_if_fail(error != NULL);
	aiq_error_convert(&error);
	if (self->secrets != NULL) {
		gchar *masked = aiq_secrets_mask_string(self->secrets, error->message);
		g_free(error->message);
		error->message = masked;
	}
	aiq_step_run_finish_internal(self, error, output);
}

gboolean
aiq_step_run_is_finished(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), FALSE);
	return self->finished;
}

/**
 * aiq_step_run_get_output:
 *
 * Returns: (transfer none) (nullable): the output, also after some errors
 */
JsonNode *
aiq_step_run_get_output(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->output;
}

const GError *
aiq_step_run_get_error(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->error;
}

const gchar *
aiq_step_run_get_log(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), NULL);
	return self->log != NULL ? self->log->str : "";
}

gint64
aiq_step_run_get_started(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), 0);
	return self->started_us;
}

gint64
aiq_step_run_get_finished(AiqStepRun *self)
{
	g_return_val_if_fail(AIQ_IS_STEP_RUN(self), 0);
	return self->finished_us;
}
