/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AIQ_ERROR aiq_error_quark()

/**
 * AiqError:
 *
 * The one error domain of AutomateIQ. Each code has a stable string form
 * (aiq_error_code_to_string()) that is used on the wire and on D-Bus.
 */
typedef enum {
	AIQ_ERROR_FAILED,             /* generic failure */
	AIQ_ERROR_INVALID_ARGUMENT,   /* a caller passed something wrong */
	AIQ_ERROR_INVALID_DOCUMENT,   /* malformed YAML or JSON */
	AIQ_ERROR_INVALID_DEFINITION, /* a well-formed document that is not a valid workflow */
	AIQ_ERROR_INVALID_INPUT,      /* execution inputs do not match the workflow */
	AIQ_ERROR_TOO_LARGE,          /* a size or depth bound was exceeded */
	AIQ_ERROR_NOT_FOUND,          /* a named thing does not exist */
	AIQ_ERROR_EXPRESSION,         /* an expression failed to compile or to run */
	AIQ_ERROR_LIMIT_EXCEEDED,     /* an instruction or memory limit was hit */
	AIQ_ERROR_TIMED_OUT,          /* a step or an execution ran past its timeout */
	AIQ_ERROR_CANCELLED,          /* cancelled on request */
	AIQ_ERROR_CIRCUIT_OPEN,       /* a circuit breaker is open for the target */
	AIQ_ERROR_STEP_FAILED,        /* the connector ran and reported failure */
	AIQ_ERROR_KIND_DISABLED,      /* the step kind is switched off by configuration */
	AIQ_ERROR_PERMISSION_DENIED,  /* not allowed (for example outside a file root) */
	AIQ_ERROR_CONNECTION,         /* a peer could not be reached */
	AIQ_ERROR_JOURNAL,            /* the durable journal could not be read or written */
	AIQ_ERROR_CONFIG,             /* the configuration file is wrong */
	AIQ_ERROR_CONFLICT,           /* the thing exists already, or changed meanwhile */
	AIQ_ERROR_UNAUTHENTICATED,    /* no valid credentials */
	AIQ_ERROR_FORBIDDEN,          /* valid credentials without the right */
	AIQ_ERROR_QUOTA_EXCEEDED,     /* a tenant quota is reached */
	AIQ_ERROR_RATE_LIMITED,       /* too many requests */
	AIQ_ERROR_UNAVAILABLE,        /* try again later (a store or peer is down) */
	AIQ_ERROR_LAST
} AiqError;

GQuark
aiq_error_quark(void);
const gchar *
aiq_error_code_to_string(AiqError code);
AiqError
aiq_error_code_from_string(const gchar *str);
void
aiq_error_convert(GError **perror);

G_END_DECLS
