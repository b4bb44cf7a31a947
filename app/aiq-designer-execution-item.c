/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * One execution of the executions list: its summary as the API gives it
 * (the `Execution` schema), or a placeholder (not loaded) while the page
 * it belongs to is on its way.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include "aiq-designer-execution-item.h"
#include "aiq-json.h"

struct _AiqDesignerExecutionItem {
	GObject parent_instance;
	gchar *id;
	gchar *workflow_id;
	gchar *workflow_name;
	gchar *status;
	gchar *trigger;
	gchar *created;
	gchar *started;
	gchar *finished;
	gint64 duration_ms;
	gchar *error;
	gboolean loaded;
};

G_DEFINE_TYPE(AiqDesignerExecutionItem, aiq_designer_execution_item, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_ID,
	PROP_WORKFLOW_ID,
	PROP_WORKFLOW_NAME,
	PROP_STATUS,
	PROP_TRIGGER,
	PROP_CREATED,
	PROP_STARTED,
	PROP_FINISHED,
	PROP_DURATION_MS,
	PROP_ERROR,
	PROP_LOADED,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

static void
aiq_designer_execution_item_set_string(AiqDesignerExecutionItem *self,
				       gchar **field,
				       const gchar *value,
				       guint prop)
{
	if (g_strcmp0(*field, value) == 0)
		return;
	g_free(*field);
	*field = g_strdup(value);
	g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

/**
 * aiq_designer_execution_item_update_from_json:
 * @obj: an `Execution` (or `ExecutionDetail`) object
 *
 * Fills the item from the server's summary; members that are missing keep
 * their value, except that a null error, start or finish clears it.
 */
void
aiq_designer_execution_item_update_from_json(AiqDesignerExecutionItem *self, JsonObject *obj)
{
	JsonObject *error;
	const gchar *error_message = NULL;
	gint64 duration_ms = -1;

	g_return_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self));
	g_return_if_fail(obj != NULL);

	g_object_freeze_notify(G_OBJECT(self));
	if (aiq_json_object_get_string(obj, "id") != NULL)
		aiq_designer_execution_item_set_string(self,
						       &self->id,
						       aiq_json_object_get_string(obj, "id"),
						       PROP_ID);
	if (aiq_json_object_get_string(obj, "workflow_id") != NULL)
		aiq_designer_execution_item_set_string(
			self,
			&self->workflow_id,
			aiq_json_object_get_string(obj, "workflow_id"),
			PROP_WORKFLOW_ID);
	if (aiq_json_object_get_string(obj, "workflow") != NULL)
		aiq_designer_execution_item_set_string(self,
						       &self->workflow_name,
						       aiq_json_object_get_string(obj, "workflow"),
						       PROP_WORKFLOW_NAME);
	if (aiq_json_object_get_string(obj, "status") != NULL)
		aiq_designer_execution_item_set_string(self,
						       &self->status,
						       aiq_json_object_get_string(obj, "status"),
						       PROP_STATUS);
	if (aiq_json_object_get_string(obj, "trigger") != NULL)
		aiq_designer_execution_item_set_string(self,
						       &self->trigger,
						       aiq_json_object_get_string(obj, "trigger"),
						       PROP_TRIGGER);
	if (aiq_json_object_get_string(obj, "created") != NULL)
		aiq_designer_execution_item_set_string(self,
						       &self->created,
						       aiq_json_object_get_string(obj, "created"),
						       PROP_CREATED);
	if (json_object_has_member(obj, "started"))
		aiq_designer_execution_item_set_string(self,
						       &self->started,
						       aiq_json_object_get_string(obj, "started"),
						       PROP_STARTED);
	if (json_object_has_member(obj, "finished"))
		aiq_designer_execution_item_set_string(self,
						       &self->finished,
						       aiq_json_object_get_string(obj, "finished"),
						       PROP_FINISHED);
	if (json_object_has_member(obj, "duration_ms")) {
		duration_ms = aiq_json_object_get_int(obj, "duration_ms", -1);
		if (duration_ms != self->duration_ms) {
			self->duration_ms = duration_ms;
			g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DURATION_MS]);
		}
	}
	if (json_object_has_member(obj, "error")) {
		error = aiq_json_object_get_object(obj, "error");
		if (error != NULL)
			error_message = aiq_json_object_get_string(error, "message");
		aiq_designer_execution_item_set_string(self,
						       &self->error,
						       error_message,
						       PROP_ERROR);
	}
	if (!self->loaded) {
		self->loaded = TRUE;
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOADED]);
	}
	g_object_thaw_notify(G_OBJECT(self));
}

/* a placeholder again */
void
aiq_designer_execution_item_clear(AiqDesignerExecutionItem *self)
{
	g_return_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self));
	if (!self->loaded)
		return;
	g_object_freeze_notify(G_OBJECT(self));
	aiq_designer_execution_item_set_string(self, &self->id, NULL, PROP_ID);
	aiq_designer_execution_item_set_string(self, &self->workflow_id, NULL, PROP_WORKFLOW_ID);
	aiq_designer_execution_item_set_string(self,
					       &self->workflow_name,
					       NULL,
					       PROP_WORKFLOW_NAME);
	aiq_designer_execution_item_set_string(self, &self->status, NULL, PROP_STATUS);
	aiq_designer_execution_item_set_string(self, &self->trigger, NULL, PROP_TRIGGER);
	aiq_designer_execution_item_set_string(self, &self->created, NULL, PROP_CREATED);
	aiq_designer_execution_item_set_string(self, &self->started, NULL, PROP_STARTED);
	aiq_designer_execution_item_set_string(self, &self->finished, NULL, PROP_FINISHED);
	aiq_designer_execution_item_set_string(self, &self->error, NULL, PROP_ERROR);
	if (self->duration_ms != -1) {
		self->duration_ms = -1;
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DURATION_MS]);
	}
	self->loaded = FALSE;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOADED]);
	g_object_thaw_notify(G_OBJECT(self));
}

const gchar *
aiq_designer_execution_item_get_id(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), NULL);
	return self->id;
}

const gchar *
aiq_designer_execution_item_get_workflow_id(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), NULL);
	return self->workflow_id;
}

const gchar *
aiq_designer_execution_item_get_workflow_name(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), NULL);
	return self->workflow_name;
}

const gchar *
aiq_designer_execution_item_get_status(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), NULL);
	return self->status;
}

const gchar *
aiq_designer_execution_item_get_trigger(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), NULL);
	return self->trigger;
}

const gchar *
aiq_designer_execution_item_get_created(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), NULL);
	return self->created;
}

const gchar *
aiq_designer_execution_item_get_started(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), NULL);
	return self->started;
}

const gchar *
aiq_designer_execution_item_get_finished(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), NULL);
	return self->finished;
}

gint64
aiq_designer_execution_item_get_duration_ms(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), -1);
	return self->duration_ms;
}

const gchar *
aiq_designer_execution_item_get_error(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), NULL);
	return self->error;
}

gboolean
aiq_designer_execution_item_get_loaded(AiqDesignerExecutionItem *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_ITEM(self), FALSE);
	return self->loaded;
}

static void
aiq_designer_execution_item_get_property(GObject *object,
					 guint prop_id,
					 GValue *value,
					 GParamSpec *pspec)
{
	AiqDesignerExecutionItem *self = AIQ_DESIGNER_EXECUTION_ITEM(object);
	switch (prop_id) {
	case PROP_ID:
		g_value_set_string(value, self->id);
		break;
	case PROP_WORKFLOW_ID:
		g_value_set_string(value, self->workflow_id);
		break;
	case PROP_WORKFLOW_NAME:
		g_value_set_string(value, self->workflow_name);
		break;
	case PROP_STATUS:
		g_value_set_string(value, self->status);
		break;
	case PROP_TRIGGER:
		g_value_set_string(value, self->trigger);
		break;
	case PROP_CREATED:
		g_value_set_string(value, self->created);
		break;
	case PROP_STARTED:
		g_value_set_string(value, self->started);
		break;
	case PROP_FINISHED:
		g_value_set_string(value, self->finished);
		break;
	case PROP_DURATION_MS:
		g_value_set_int64(value, self->duration_ms);
		break;
	case PROP_ERROR:
		g_value_set_string(value, self->error);
		break;
	case PROP_LOADED:
		g_value_set_boolean(value, self->loaded);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_execution_item_finalize(GObject *object)
{
	AiqDesignerExecutionItem *self = AIQ_DESIGNER_EXECUTION_ITEM(object);
	g_free(self->id);
	g_free(self->workflow_id);
	g_free(self->workflow_name);
	g_free(self->status);
	g_free(self->trigger);
	g_free(self->created);
	g_free(self->started);
	g_free(self->finished);
	g_free(self->error);
	G_OBJECT_CLASS(aiq_designer_execution_item_parent_class)->finalize(object);
}

static GParamSpec *
aiq_designer_execution_item_string_pspec(const gchar *name)
{
	return g_param_spec_string(name,
				   NULL,
				   NULL,
				   NULL,
				   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
}

static void
aiq_designer_execution_item_class_init(AiqDesignerExecutionItemClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = aiq_designer_execution_item_get_property;
	object_class->finalize = aiq_designer_execution_item_finalize;
	props[PROP_ID] = aiq_designer_execution_item_string_pspec("id");
	props[PROP_WORKFLOW_ID] = aiq_designer_execution_item_string_pspec("workflow-id");
	props[PROP_WORKFLOW_NAME] = aiq_designer_execution_item_string_pspec("workflow-name");
	props[PROP_STATUS] = aiq_designer_execution_item_string_pspec("status");
	props[PROP_TRIGGER] = aiq_designer_execution_item_string_pspec("trigger");
	props[PROP_CREATED] = aiq_designer_execution_item_string_pspec("created");
	props[PROP_STARTED] = aiq_designer_execution_item_string_pspec("started");
	props[PROP_FINISHED] = aiq_designer_execution_item_string_pspec("finished");
	props[PROP_DURATION_MS] = g_param_spec_int64("duration-ms",
						     NULL,
						     NULL,
						     -1,
						     G_MAXINT64,
						     -1,
						     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_ERROR] = aiq_designer_execution_item_string_pspec("error");
	props[PROP_LOADED] = g_param_spec_boolean("loaded",
						  NULL,
						  NULL,
						  FALSE,
						  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
aiq_designer_execution_item_init(AiqDesignerExecutionItem *self)
{
	self->duration_ms = -1;
}

AiqDesignerExecutionItem *
aiq_designer_execution_item_new(void)
{
	return g_object_new(AIQ_DESIGNER_TYPE_EXECUTION_ITEM, NULL);
}
