/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
	AIQ_CIRCUIT_CLOSED,    /* calls go through */
	AIQ_CIRCUIT_OPEN,      /* calls fail fast until the open period ends */
	AIQ_CIRCUIT_HALF_OPEN, /* one probe call goes through */
} AiqCircuitState;

/**
 * AiqCircuitBreaker:
 *
 * Per-target circuit breakers (a target is, for example, an HTTP host and
 * port), shared by every execution of an engine. After @threshold
 * consecutive failures the circuit opens and calls fail fast; after the open
 * period one probe is let through: success closes the circuit, failure opens
 * it again. Thread-safe.
 */
#define AIQ_TYPE_CIRCUIT_BREAKER (aiq_circuit_breaker_get_type())
G_DECLARE_FINAL_TYPE(AiqCircuitBreaker, aiq_circuit_breaker, AIQ, CIRCUIT_BREAKER, GObject)

typedef gint64 (*AiqClockFunc)(gpointer user_data);

AiqCircuitBreaker *
aiq_circuit_breaker_new(guint threshold, gint64 open_ms);
void
aiq_circuit_breaker_set_clock(AiqCircuitBreaker *self, AiqClockFunc func, gpointer user_data);
gboolean
aiq_circuit_breaker_allow(AiqCircuitBreaker *self, const gchar *target, GError **error);
void
aiq_circuit_breaker_record(AiqCircuitBreaker *self, const gchar *target, gboolean success);
AiqCircuitState
aiq_circuit_breaker_get_state(AiqCircuitBreaker *self, const gchar *target);
const gchar *
aiq_circuit_state_to_string(AiqCircuitState state);

G_END_DECLS
