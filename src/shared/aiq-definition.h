/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

#include "aiq-config.h"
#include "aiq-cron.h"
#include "aiq-problems.h"
#include "aiq-step-kind.h"

G_BEGIN_DECLS

typedef enum {
	AIQ_TRIGGER_KIND_SCHEDULE,
	AIQ_TRIGGER_KIND_WEBHOOK,
	AIQ_TRIGGER_KIND_MANUAL,
	AIQ_TRIGGER_KIND_API,
} AiqTriggerKind;

typedef enum {
	AIQ_CATCH_UP_NONE, /* fires missed while down are dropped */
	AIQ_CATCH_UP_LAST, /* the latest missed fire runs once */
	AIQ_CATCH_UP_ALL,  /* every missed fire runs */
} AiqCatchUp;

typedef enum {
	AIQ_WEBHOOK_RESPOND_ACCEPTED,  /* 202 with the execution id */
	AIQ_WEBHOOK_RESPOND_ON_FINISH, /* the execution's result, or 202 after the timeout */
} AiqWebhookRespond;

/**
 * AiqTrigger:
 *
 * One entry of `triggers`. Schedule members: @cron, @timezone, @catch_up.
 * Webhook members: @respond, @respond_timeout_ms, @headers (request headers
 * passed on as inputs), @signature_header (when set, an HMAC-SHA256 signature
 * of the body is required in that header).
 */
typedef struct {
	AiqTriggerKind kind;
	gchar *cron;
	AiqCron *cron_parsed;
	gchar *timezone;
	AiqCatchUp catch_up;
	gboolean catch_up_set;
	AiqWebhookRespond respond;
	gboolean respond_set;
	gint64 respond_timeout_ms;
	gchar **headers;
	gchar *signature_header;
} AiqTrigger;

typedef enum {
	AIQ_INPUT_TYPE_STRING,
	AIQ_INPUT_TYPE_INTEGER,
	AIQ_INPUT_TYPE_NUMBER,
	AIQ_INPUT_TYPE_BOOLEAN,
	AIQ_INPUT_TYPE_OBJECT,
	AIQ_INPUT_TYPE_ARRAY,
	AIQ_INPUT_TYPE_ANY,
} AiqInputType;

typedef struct {
	gchar *name;
	AiqInputType type;
	JsonNode *default_value; /* nullable */
	gboolean required;
	gboolean required_set;
	gchar *description;
	gchar **choices; /* nullable */
} AiqInput;

typedef enum {
	AIQ_BACKOFF_EXPONENTIAL,
	AIQ_BACKOFF_CONSTANT,
} AiqBackoff;

/**
 * AiqRetry:
 * @max_attempts: attempts in all, including the first (1 = no retry)
 * @initial_ms: the first delay
 * @max_ms: the longest delay
 * @jitter: the fraction of each delay that is random, 0 to 1
 * @set: which members were written (for canonical output)
 */
typedef struct {
	guint max_attempts;
	AiqBackoff backoff;
	gint64 initial_ms;
	gint64 max_ms;
	gdouble jitter;
	guint set;
} AiqRetry;

typedef struct {
	gchar *id;
	gchar *name;
	gchar *description;
	gchar *uses;
	const AiqStepKind *kind;
	JsonNode *with; /* object, never NULL */
	gchar **needs;  /* as written; NULL when absent */
	guint *deps;    /* resolved dependency indexes (implicit or explicit) */
	guint n_deps;
	guint *dependents; /* steps that depend on this one */
	guint n_dependents;
	JsonNode *if_node;     /* string or boolean, as written; nullable */
	gchar *if_expr;        /* the expression to evaluate; nullable */
	gboolean if_status_fn; /* `if` calls success()/failure()/always()/cancelled() */
	JsonNode *for_each;    /* expression string or array; nullable */
	gchar *for_each_expr;  /* when for_each is one expression */
	guint concurrency;     /* 0 = unset */
	AiqRetry retry;
	gboolean retry_set;
	gint64 timeout_ms; /* 0 = none */
	gboolean continue_on_error;
	gboolean continue_on_error_set;
	gboolean with_has_expressions;
} AiqStep;

/**
 * AiqDefinition:
 *
 * A parsed, validated workflow definition. Immutable once created and shared
 * by reference between executions; thread-safe to read.
 */
typedef struct _AiqDefinition AiqDefinition;

#define AIQ_TYPE_DEFINITION (aiq_definition_get_type())
GType
aiq_definition_get_type(void);

#define AIQ_DEFINITION_MAX_STEPS 5000

AiqDefinition *
aiq_definition_new_from_node(JsonNode *root, AiqConfig *config, AiqProblems *problems);
AiqDefinition *
aiq_definition_new_from_data(const gchar *data,
			     gsize len,
			     AiqConfig *config,
			     AiqProblems *problems,
			     GError **error);
AiqDefinition *
aiq_definition_new_from_file(const gchar *filename,
			     AiqConfig *config,
			     AiqProblems *problems,
			     GError **error);
AiqDefinition *
aiq_definition_ref(AiqDefinition *self);
void
aiq_definition_unref(AiqDefinition *self);

const gchar *
aiq_definition_get_name(AiqDefinition *self);
const gchar *
aiq_definition_get_description(AiqDefinition *self);
const gchar *const *
aiq_definition_get_labels(AiqDefinition *self);
guint
aiq_definition_get_n_triggers(AiqDefinition *self);
const AiqTrigger *
aiq_definition_get_trigger(AiqDefinition *self, guint idx);
guint
aiq_definition_get_n_inputs(AiqDefinition *self);
const AiqInput *
aiq_definition_get_input(AiqDefinition *self, guint idx);
const AiqInput *
aiq_definition_find_input(AiqDefinition *self, const gchar *name);
guint
aiq_definition_get_n_steps(AiqDefinition *self);
const AiqStep *
aiq_definition_get_step(AiqDefinition *self, guint idx);
gint
aiq_definition_find_step(AiqDefinition *self, const gchar *id);
JsonNode *
aiq_definition_get_outputs(AiqDefinition *self);
gint64
aiq_definition_get_timeout(AiqDefinition *self);
guint
aiq_definition_get_concurrency(AiqDefinition *self);
JsonNode *
aiq_definition_get_ui(AiqDefinition *self);
const gchar *
aiq_definition_get_filename(AiqDefinition *self);
void
aiq_definition_set_filename(AiqDefinition *self, const gchar *filename);

JsonNode *
aiq_definition_to_json(AiqDefinition *self);
const gchar *
aiq_definition_get_canonical_json(AiqDefinition *self);
const gchar *
aiq_definition_get_digest(AiqDefinition *self);
gchar *
aiq_definition_to_yaml(AiqDefinition *self, GError **error);

gboolean
aiq_definition_check_kinds(AiqDefinition *self, AiqConfig *config, GError **error);
JsonObject *
aiq_definition_resolve_inputs(AiqDefinition *self, JsonObject *given, GError **error);
JsonNode *
aiq_definition_parse_input_value(AiqDefinition *self,
				 const gchar *name,
				 const gchar *text,
				 GError **error);

const gchar *
aiq_input_type_to_string(AiqInputType type);
const gchar *
aiq_trigger_kind_to_string(AiqTriggerKind kind);
const gchar *
aiq_catch_up_to_string(AiqCatchUp catch_up);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqDefinition, aiq_definition_unref)

G_END_DECLS
