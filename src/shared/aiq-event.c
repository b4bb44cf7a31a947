/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aiq-error.h"
#include "aiq-event.h"
#include "aiq-json.h"
#include "aiq-util.h"

G_DEFINE_BOXED_TYPE(AiqEvent, aiq_event, aiq_event_ref, aiq_event_unref)

static const gchar *aiq_event_type_names[] = {
	[AIQ_EVENT_EXECUTION_CREATED] = "execution.created",
	[AIQ_EVENT_EXECUTION_STARTED] = "execution.started",
	[AIQ_EVENT_STEP_STARTED] = "step.started",
	[AIQ_EVENT_ATTEMPT_FINISHED] = "attempt.finished",
	[AIQ_EVENT_ITEM_FINISHED] = "item.finished",
	[AIQ_EVENT_STEP_FINISHED] = "step.finished",
	[AIQ_EVENT_STEP_SKIPPED] = "step.skipped",
	[AIQ_EVENT_EXECUTION_FINISHED] = "execution.finished",
};
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_event_type_names) == AIQ_EVENT_LAST);

AiqEvent *
aiq_event_new(AiqEventType type, const gchar *execution_id, gint64 seq)
{
	AiqEvent *self = g_new0(AiqEvent, 1);
	self->refcount = 1;
	self->type = type;
	self->execution_id = g_strdup(execution_id);
	self->seq = seq;
	self->time_us = g_get_real_time();
	self->item = -1;
	return self;
}

AiqEvent *
aiq_event_ref(AiqEvent *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_int_inc(&self->refcount);
	return self;
}

void
aiq_event_unref(AiqEvent *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_int_dec_and_test(&self->refcount))
		return;
	g_free(self->execution_id);
	g_free(self->step_id);
	g_free(self->status);
	if (self->data != NULL)
		json_node_unref(self->data);
	g_free(self->definition_json);
	g_free(self->definition_digest);
	g_free(self);
}

const gchar *
aiq_event_type_to_string(AiqEventType type)
{
	g_return_val_if_fail((guint)type < AIQ_EVENT_LAST, NULL);
	return aiq_event_type_names[type];
}

gboolean
aiq_event_type_from_string(const gchar *str, AiqEventType *type)
{
	for (guint i = 0; i < AIQ_EVENT_LAST; i++) {
		if (g_strcmp0(aiq_event_type_names[i], str) == 0) {
			*type = (AiqEventType)i;
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * aiq_event_to_json:
 *
 * Returns: (transfer full): the wire form of docs/events.md
 */
JsonNode *
aiq_event_to_json(AiqEvent *self)
{
	JsonObject *obj = json_object_new();
	g_autofree gchar *time = aiq_time_to_iso8601(self->time_us);
	json_object_set_string_member(obj, "execution_id", self->execution_id);
	json_object_set_int_member(obj, "seq", self->seq);
	json_object_set_string_member(obj, "type", aiq_event_type_names[self->type]);
	json_object_set_string_member(obj, "time", time);
	if (self->step_id != NULL)
		json_object_set_string_member(obj, "step", self->step_id);
	if (self->item >= 0)
		json_object_set_int_member(obj, "item", self->item);
	if (self->attempt > 0)
		json_object_set_int_member(obj, "attempt", self->attempt);
	if (self->status != NULL)
		json_object_set_string_member(obj, "status", self->status);
	if (self->data != NULL)
		json_object_set_member(obj, "data", json_node_ref(self->data));
	return aiq_json_new_object(obj);
}

/**
 * aiq_event_new_from_json:
 *
 * Reads the wire form, checking every member's type and range.
 */
AiqEvent *
aiq_event_new_from_json(JsonNode *node, GError **error)
{
	g_autoptr(AiqEvent) self = NULL;
	JsonObject *obj;
	const gchar *execution_id;
	const gchar *type_str;
	const gchar *time_str;
	AiqEventType type;
	JsonNode *member;
	gint64 seq;

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("an event is an object"));
		return NULL;
	}
	obj = json_node_get_object(node);
	execution_id = aiq_json_object_get_string(obj, "execution_id");
	if (!aiq_id_is_valid(execution_id)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("execution_id: expected a UUID"));
		return NULL;
	}
	seq = aiq_json_object_get_int(obj, "seq", -1);
	if (seq < 1) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("seq: expected a whole number from 1"));
		return NULL;
	}
	type_str = aiq_json_object_get_string(obj, "type");
	if (!aiq_event_type_from_string(type_str, &type)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("type: unknown event type “%s”"),
			    type_str != NULL ? type_str : "");
		return NULL;
	}
	self = aiq_event_new(type, execution_id, seq);
	time_str = aiq_json_object_get_string(obj, "time");
	if (!aiq_time_from_iso8601(time_str, &self->time_us, error)) {
		g_prefix_error(error, "time: ");
		return NULL;
	}
	member = json_object_get_member(obj, "step");
	if (member != NULL) {
		if (!aiq_json_is_string(member)) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("step: expected a string"));
			return NULL;
		}
		self->step_id = g_strdup(json_node_get_string(member));
	}
	self->item = (gint)CLAMP(aiq_json_object_get_int(obj, "item", -1), -1, G_MAXINT);
	self->attempt = (guint)CLAMP(aiq_json_object_get_int(obj, "attempt", 0), 0, G_MAXINT);
	self->status = g_strdup(aiq_json_object_get_string(obj, "status"));
	member = json_object_get_member(obj, "data");
	if (member != NULL && !JSON_NODE_HOLDS_NULL(member)) {
		if (!JSON_NODE_HOLDS_OBJECT(member)) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("data: expected an object"));
			return NULL;
		}
		self->data = json_node_ref(member);
	}
	return g_steal_pointer(&self);
}
