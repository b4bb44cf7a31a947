/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * AiqEventType:
 *
 * One transition of an execution, as journaled by the engine and synced to
 * the server. The wire form is described in docs/events.md.
 */
typedef enum {
	AIQ_EVENT_EXECUTION_CREATED,
	AIQ_EVENT_EXECUTION_STARTED,
	AIQ_EVENT_STEP_STARTED,
	AIQ_EVENT_ATTEMPT_FINISHED,
	AIQ_EVENT_ITEM_FINISHED,
	AIQ_EVENT_STEP_FINISHED,
	AIQ_EVENT_STEP_SKIPPED,
	AIQ_EVENT_EXECUTION_FINISHED,
	AIQ_EVENT_LAST
} AiqEventType;

/**
 * AiqEvent:
 * @execution_id: the execution
 * @seq: 1, 2, 3… within the execution, without gaps
 * @time_us: when, in microseconds since the epoch
 * @step_id: (nullable): the step, for step, attempt and item events
 * @item: the for_each item index, or -1
 * @attempt: the attempt number (1-based), or 0
 * @status: (nullable): the status reached, for finished events
 * @data: (nullable): an object with the rest (see docs/events.md)
 *
 * Immutable once appended; shared by reference between the engine, the
 * journal's writer thread and signal handlers.
 */
typedef struct {
	gint refcount;
	AiqEventType type;
	gchar *execution_id;
	gint64 seq;
	gint64 time_us;
	gchar *step_id;
	gint item;
	guint attempt;
	gchar *status;
	JsonNode *data;
	/* execution.created only: the definition, stored once per digest */
	gchar *definition_json;
	gchar *definition_digest;
} AiqEvent;

#define AIQ_TYPE_EVENT (aiq_event_get_type())
GType
aiq_event_get_type(void);

AiqEvent *
aiq_event_new(AiqEventType type, const gchar *execution_id, gint64 seq);
AiqEvent *
aiq_event_ref(AiqEvent *self);
void
aiq_event_unref(AiqEvent *self);
const gchar *
aiq_event_type_to_string(AiqEventType type);
gboolean
aiq_event_type_from_string(const gchar *str, AiqEventType *type);
JsonNode *
aiq_event_to_json(AiqEvent *self);
AiqEvent *
aiq_event_new_from_json(JsonNode *node, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqEvent, aiq_event_unref)

G_END_DECLS
