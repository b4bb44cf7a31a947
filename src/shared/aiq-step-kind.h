/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

#include "aiq-problems.h"

G_BEGIN_DECLS

typedef struct _AiqStepRun AiqStepRun;

/**
 * AiqParamType:
 *
 * The type of one `with` parameter of a step kind. Any parameter may also be
 * given as a `${{ }}` expression, which is type-checked after it is rendered.
 */
typedef enum {
	AIQ_PARAM_STRING,      /* one-line text */
	AIQ_PARAM_TEXT,        /* multi-line text: a body, a script */
	AIQ_PARAM_INTEGER,     /* whole number */
	AIQ_PARAM_NUMBER,      /* any number */
	AIQ_PARAM_BOOLEAN,     /* true or false */
	AIQ_PARAM_DURATION,    /* "500ms", "30s", "1h" */
	AIQ_PARAM_ENUM,        /* one of @choices */
	AIQ_PARAM_STRING_LIST, /* list of strings; a single string is taken as a list of one */
	AIQ_PARAM_STRING_MAP,  /* object of string values: headers, env */
	AIQ_PARAM_ARRAY,       /* list of any values */
	AIQ_PARAM_OBJECT,      /* object of any values */
	AIQ_PARAM_JSON,        /* any value */
} AiqParamType;

typedef enum {
	AIQ_PARAM_FLAG_NONE = 0,
	/* the value is not rendered as a template (for example Lua source) */
	AIQ_PARAM_FLAG_RAW = 1 << 0,
	/* the value must be literal, not an expression (it names configuration) */
	AIQ_PARAM_FLAG_LITERAL = 1 << 1,
} AiqParamFlags;

/**
 * AiqParam:
 * @name: the member name under `with`
 * @default_json: (nullable): the default as a JSON literal, e.g. `"GET"` or `30`
 * @description: one sentence, marked with N_()
 * @choices: (nullable): %NULL-terminated values for %AIQ_PARAM_ENUM
 *
 * One parameter of a step kind. Each kind declares its parameters once;
 * validation, `aiqctl kinds`, docs/step-kinds.md and the designer's forms all
 * read the same declaration.
 */
typedef struct {
	const gchar *name;
	AiqParamType type;
	gboolean required;
	const gchar *default_json;
	const gchar *description;
	const gchar *const *choices;
	AiqParamFlags flags;
} AiqParam;

typedef enum {
	AIQ_STEP_KIND_FLAG_NONE = 0,
	/* no effect outside the engine: may run before its start is durable */
	AIQ_STEP_KIND_FLAG_PURE = 1 << 0,
	/* switched off on shared cloud workers (shell, file, sql) */
	AIQ_STEP_KIND_FLAG_HOST_ACCESS = 1 << 1,
} AiqStepKindFlags;

/**
 * AiqStepKind:
 * @name: what `uses:` says, e.g. `http`
 * @title: a short title for forms, N_() marked
 * @description: one sentence, N_() marked
 * @icon_name: a symbolic icon name for the designer
 * @params: the parameters, terminated by an entry with a %NULL name
 * @validate: (nullable): checks across parameters on literal values at
 *   validation time; expression values are skipped
 * @get_circuit_key: (nullable): the target of this attempt for the circuit
 *   breaker, e.g. `http:erp.internal:443`; %NULL for no breaker
 * @run: starts one attempt; the kind finishes it with
 *   aiq_step_run_return_value() or aiq_step_run_return_error(), now or later
 *   on the same main context
 */
typedef struct {
	const gchar *name;
	const gchar *title;
	const gchar *description;
	const gchar *icon_name;
	const AiqParam *params;
	AiqStepKindFlags flags;
	void (*validate)(JsonObject *with, const gchar *path, AiqProblems *problems);
	gchar *(*get_circuit_key)(AiqStepRun *run);
	void (*run)(AiqStepRun *run);
} AiqStepKind;

const AiqStepKind *
aiq_step_kind_lookup(const gchar *name);
const AiqStepKind *const *
aiq_step_kind_list(void);
const gchar **
aiq_step_kind_list_names(void);
const AiqParam *
aiq_step_kind_find_param(const AiqStepKind *kind, const gchar *name);
const gchar *
aiq_param_type_to_string(AiqParamType type);
gboolean
aiq_step_kind_is_pure(const AiqStepKind *kind);

void
aiq_step_kind_validate_with(const AiqStepKind *kind,
			    JsonNode *with,
			    const gchar *path,
			    AiqProblems *problems);
JsonObject *
aiq_step_kind_resolve_params(const AiqStepKind *kind, JsonObject *rendered, GError **error);
JsonNode *
aiq_step_kind_to_json(const AiqStepKind *kind);
gchar *
aiq_step_kind_list_to_markdown(void);

G_END_DECLS
