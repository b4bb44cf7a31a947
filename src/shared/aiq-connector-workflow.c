/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aiq-connectors.h"
#include "aiq-engine.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-step-run.h"

#define AIQ_WORKFLOW_MAX_DEPTH 8

static const AiqParam aiq_workflow_params[] = {
	{ "name",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("The workflow to call, by name"),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "path",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("The definition file to call, relative to this one (local runs)"),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "inputs", AIQ_PARAM_OBJECT, FALSE, NULL, N_("The sub-workflow's inputs") },
	{ NULL },
};

typedef struct {
	AiqStepRun *run;
	AiqEngine *engine;
	gchar *child_id;
	gulong cancelled_id;
} AiqWorkflowCall;

static void
aiq_workflow_call_free(AiqWorkflowCall *call)
{
	if (call->cancelled_id != 0)
		g_cancellable_disconnect(aiq_step_run_get_cancellable(call->run),
					 call->cancelled_id);
	g_object_unref(call->run);
	g_object_unref(call->engine);
	g_free(call->child_id);
	g_free(call);
}

static void
aiq_workflow_return(AiqStepRun *run, AiqExecution *child)
{
	JsonObject *output = json_object_new();
	AiqExecutionStatus status = aiq_execution_get_status(child);
	JsonNode *outputs = aiq_execution_get_outputs(child);
	json_object_set_string_member(output, "execution_id", aiq_execution_get_id(child));
	json_object_set_string_member(output, "status", aiq_execution_status_to_string(status));
	json_object_set_member(output,
			       "outputs",
			       outputs != NULL ? json_node_ref(outputs)
					       : aiq_json_new_object(json_object_new()));
	if (status == AIQ_EXECUTION_STATUS_SUCCEEDED) {
		aiq_step_run_return_value(run, aiq_json_new_object(output));
		return;
	}
	aiq_step_run_return_error_with_output(
		run,
		g_error_new(AIQ_ERROR,
			    AIQ_ERROR_STEP_FAILED,
			    _("sub-workflow “%s” %s: %s"),
			    aiq_definition_get_name(aiq_execution_get_definition(child)),
			    aiq_execution_status_to_string(status),
			    aiq_execution_get_error_message(child) != NULL
				    ? aiq_execution_get_error_message(child)
				    : ""),
		aiq_json_new_object(output));
}

static void
aiq_workflow_wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AiqWorkflowCall *call = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqExecution) child = aiq_engine_wait_finish(AIQ_ENGINE(source), res, &error);
	if (child == NULL)
		aiq_step_run_return_error(call->run, g_steal_pointer(&error));
	else
		aiq_workflow_return(call->run, child);
	aiq_workflow_call_free(call);
}

static void
aiq_workflow_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	AiqWorkflowCall *call = user_data;
	/* cancelling a step that calls a sub-workflow cancels the sub-workflow */
	aiq_engine_cancel(call->engine, call->child_id, _("the calling step was cancelled"));
}

static gboolean
aiq_workflow_check_depth(AiqEngine *engine, const gchar *execution_id, GError **error)
{
	const gchar *id = execution_id;
	for (guint depth = 0; id != NULL; depth++) {
		AiqExecution *exec = aiq_engine_lookup(engine, id);
		if (depth >= AIQ_WORKFLOW_MAX_DEPTH) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_LIMIT_EXCEEDED,
				    _("sub-workflows are nested deeper than %u levels"),
				    (guint)AIQ_WORKFLOW_MAX_DEPTH);
			return FALSE;
		}
		if (exec == NULL)
			break;
		id = aiq_execution_get_parent_id(exec);
	}
	return TRUE;
}

static void
aiq_workflow_run(AiqStepRun *run)
{
	AiqEngine *engine = aiq_step_run_get_engine(run);
	const gchar *execution_id = aiq_step_run_get_execution_id(run);
	const gchar *step_key = aiq_step_run_get_step_key(run);
	AiqExecution *parent;
	AiqWorkflowCall *call;
	g_autoptr(AiqDefinition) definition = NULL;
	g_autoptr(AiqExecution) existing = NULL;
	g_autoptr(AiqExecution) started = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *child_id = NULL;
	AiqStartOptions options = { 0 };

	if (engine == NULL || execution_id == NULL || step_key == NULL) {
		aiq_step_run_return_error(
			run,
			g_error_new_literal(AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("a workflow step runs only inside an "
					      "execution")));
		return;
	}
	if (!aiq_workflow_check_depth(engine, execution_id, &error)) {
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}

	/* the child's id comes from the step key: after a restart the step
	 * finds the child it started before instead of starting another */
	child_id = aiq_engine_child_id(step_key);
	if (aiq_engine_lookup(engine, child_id) == NULL) {
		existing = aiq_engine_load(engine, child_id, &error);
		if (existing != NULL && aiq_execution_is_finished(existing)) {
			aiq_workflow_return(run, existing);
			return;
		}
		if (existing == NULL && !g_error_matches(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND)) {
			aiq_step_run_return_error(run, g_steal_pointer(&error));
			return;
		}
		g_clear_error(&error);
		parent = aiq_engine_lookup(engine, execution_id);
		definition = aiq_engine_resolve_workflow(
			engine,
			parent != NULL ? aiq_execution_get_definition(parent) : NULL,
			aiq_step_run_get_string(run, "name"),
			aiq_step_run_get_string(run, "path"),
			&error);
		if (definition == NULL) {
			aiq_step_run_return_error(run, g_steal_pointer(&error));
			return;
		}
		options.id = child_id;
		options.trigger = "workflow";
		options.parent_id = execution_id;
		started = aiq_engine_start(engine,
					   definition,
					   aiq_step_run_get_object(run, "inputs"),
					   &options,
					   &error);
		if (started == NULL) {
			g_prefix_error(&error,
				       _("sub-workflow “%s”: "),
				       aiq_definition_get_name(definition));
			aiq_step_run_return_error(run, g_steal_pointer(&error));
			return;
		}
		aiq_step_run_log(run,
				 "started sub-workflow %s as %s",
				 aiq_definition_get_name(definition),
				 child_id);
	}
	call = g_new0(AiqWorkflowCall, 1);
	call->run = g_object_ref(run);
	call->engine = g_object_ref(engine);
	call->child_id = g_strdup(child_id);
	call->cancelled_id = g_cancellable_connect(aiq_step_run_get_cancellable(run),
						   G_CALLBACK(aiq_workflow_cancelled_cb),
						   call,
						   NULL);
	aiq_engine_wait_async(engine, child_id, NULL, aiq_workflow_wait_cb, call);
}

static void
aiq_workflow_validate(JsonObject *with, const gchar *path, AiqProblems *problems)
{
	if (json_object_has_member(with, "name") == json_object_has_member(with, "path"))
		aiq_problems_add(problems, path, _("give either name or path"));
}

const AiqStepKind aiq_step_kind_workflow = {
	.name = "workflow",
	.title = N_("Sub-workflow"),
	.description = N_("Runs another workflow and waits for it; its outputs become this "
			  "step's output"),
	.icon_name = "network-workgroup-symbolic",
	.params = aiq_workflow_params,
	.validate = aiq_workflow_validate,
	.run = aiq_workflow_run,
};
