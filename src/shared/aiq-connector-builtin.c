/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-sandbox.h"
#include "aiq-step-run.h"
#include "aiq-util.h"

/* transform: the output is the rendered value */

static const AiqParam aiq_transform_params[] = {
	{ "value",
	  AIQ_PARAM_JSON,
	  TRUE,
	  NULL,
	  N_("The output: any value, with ${{ }} expressions rendered in its strings") },
	{ NULL },
};

static void
aiq_transform_run(AiqStepRun *run)
{
	JsonNode *value = aiq_step_run_get_param(run, "value");
	aiq_step_run_return_value(run,
				  value != NULL ? json_node_ref(value)
						: json_node_new(JSON_NODE_NULL));
}

const AiqStepKind aiq_step_kind_transform = {
	.name = "transform",
	.title = N_("Transform"),
	.description = N_("Builds a value from inputs and the outputs of earlier steps"),
	.icon_name = "applications-science-symbolic",
	.params = aiq_transform_params,
	.flags = AIQ_STEP_KIND_FLAG_PURE,
	.run = aiq_transform_run,
};

/* delay: waits, on the main loop, without a thread */

static const AiqParam aiq_delay_params[] = {
	{ "duration", AIQ_PARAM_DURATION, FALSE, NULL, N_("How long to wait, e.g. 30s or 5m") },
	{ "until",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("Wait until this time (ISO 8601, e.g. 2026-01-31T09:00:00Z)") },
	{ NULL },
};

typedef struct {
	AiqStepRun *run;
	GSource *source;
	gulong cancelled_id;
	gint64 waited_ms;
} AiqDelay;

static void
aiq_delay_free(AiqDelay *delay)
{
	if (delay->cancelled_id != 0)
		g_cancellable_disconnect(aiq_step_run_get_cancellable(delay->run),
					 delay->cancelled_id);
	g_object_unref(delay->run);
	g_free(delay);
}

static gboolean
aiq_delay_done_cb(gpointer user_data)
{
	AiqDelay *delay = user_data;
	JsonObject *output = json_object_new();
	json_object_set_int_member(output, "waited_ms", delay->waited_ms);
	aiq_step_run_return_value(delay->run, aiq_json_new_object(output));
	return G_SOURCE_REMOVE;
}

static void
aiq_delay_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	AiqDelay *delay = user_data;
	/* the run reports the cancellation itself; only stop the timer. The
	 * handler must not be disconnected from inside its own emission, and a
	 * cancellable fires once, so forget it */
	delay->cancelled_id = 0;
	g_source_destroy(delay->source);
}

static gboolean
aiq_delay_get_ms(AiqStepRun *run, gint64 *ms, GError **error)
{
	gint64 duration = aiq_step_run_get_duration(run, "duration");
	const gchar *until = aiq_step_run_get_string(run, "until");
	if ((duration >= 0) == (until != NULL)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with: give either duration or until"));
		return FALSE;
	}
	if (until != NULL) {
		gint64 when = 0;
		if (!aiq_time_from_iso8601(until, &when, error)) {
			g_prefix_error(error, "with.until: ");
			return FALSE;
		}
		duration = MAX(when - g_get_real_time(), 0) / 1000;
		if (duration > (gint64)365 * 24 * 3600 * 1000) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("with.until: more than 365 days ahead"));
			return FALSE;
		}
	}
	*ms = duration;
	return TRUE;
}

static void
aiq_delay_run(AiqStepRun *run)
{
	AiqDelay *delay;
	gint64 ms = 0;
	GError *error = NULL;

	if (!aiq_delay_get_ms(run, &ms, &error)) {
		aiq_step_run_return_error(run, error);
		return;
	}
	delay = g_new0(AiqDelay, 1);
	delay->run = g_object_ref(run);
	delay->waited_ms = ms;
	delay->source = g_timeout_source_new((guint)MIN(ms, G_MAXUINT));
	g_source_set_callback(delay->source,
			      aiq_delay_done_cb,
			      delay,
			      (GDestroyNotify)aiq_delay_free);
	g_source_attach(delay->source, g_main_context_get_thread_default());
	g_source_unref(delay->source);
	delay->cancelled_id = g_cancellable_connect(aiq_step_run_get_cancellable(run),
						    G_CALLBACK(aiq_delay_cancelled_cb),
						    delay,
						    NULL);
}

static void
aiq_delay_validate(JsonObject *with, const gchar *path, AiqProblems *problems)
{
	if (json_object_has_member(with, "duration") == json_object_has_member(with, "until"))
		aiq_problems_add(problems, path, _("give either duration or until"));
}

const AiqStepKind aiq_step_kind_delay = {
	.name = "delay",
	.title = N_("Delay"),
	.description = N_("Waits for a duration or until a time"),
	.icon_name = "alarm-symbolic",
	.params = aiq_delay_params,
	.flags = AIQ_STEP_KIND_FLAG_PURE,
	.validate = aiq_delay_validate,
	.run = aiq_delay_run,
};

/* script: a sandboxed Lua chunk; its return value is the output */

static const AiqParam aiq_script_params[] = {
	{ "code",
	  AIQ_PARAM_TEXT,
	  TRUE,
	  NULL,
	  N_("Lua 5.4 code run in the sandbox; it sees inputs, steps, item, execution and "
	     "secrets, and what it returns is the output"),
	  NULL,
	  AIQ_PARAM_FLAG_RAW },
	{ NULL },
};

static void
aiq_script_run(AiqStepRun *run)
{
	AiqConfig *config = aiq_step_run_get_config(run);
	const AiqExprScope *scope = aiq_step_run_get_scope(run);
	AiqExprScope empty = { .index = -1 };
	GError *error = NULL;
	JsonNode *output;

	output = aiq_sandbox_run_chunk(aiq_step_run_get_sandbox(run),
				       aiq_step_run_get_string(run, "code"),
				       scope != NULL ? scope : &empty,
				       aiq_config_get_script_instructions(config),
				       aiq_config_get_script_memory(config),
				       &error);
	if (output == NULL) {
		/* the script ran and raised an error: a step failure, worth a retry;
		 * instruction and memory limits stay what they are */
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION))
			error->code = AIQ_ERROR_STEP_FAILED;
		aiq_step_run_return_error(run, error);
		return;
	}
	aiq_step_run_return_value(run, output);
}

const AiqStepKind aiq_step_kind_script = {
	.name = "script",
	.title = N_("Script"),
	.description = N_("Runs a sandboxed Lua chunk with instruction and memory limits"),
	.icon_name = "text-x-script-symbolic",
	.params = aiq_script_params,
	.flags = AIQ_STEP_KIND_FLAG_PURE,
	.run = aiq_script_run,
};
