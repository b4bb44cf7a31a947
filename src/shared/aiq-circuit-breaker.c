/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aiq-circuit-breaker.h"
#include "aiq-error.h"
#include "aiq-util.h"

typedef struct {
	AiqCircuitState state;
	guint failures;
	gint64 opened_us;
	gboolean probing;
} AiqCircuit;

struct _AiqCircuitBreaker {
	GObject parent_instance;
	GMutex mutex;
	GHashTable *circuits; /* target -> AiqCircuit */
	guint threshold;
	gint64 open_us;
	AiqClockFunc clock;
	gpointer clock_data;
};

G_DEFINE_TYPE(AiqCircuitBreaker, aiq_circuit_breaker, G_TYPE_OBJECT)

static void
aiq_circuit_breaker_finalize(GObject *object)
{
	AiqCircuitBreaker *self = AIQ_CIRCUIT_BREAKER(object);
	g_hash_table_unref(self->circuits);
	g_mutex_clear(&self->mutex);
	G_OBJECT_CLASS(aiq_circuit_breaker_parent_class)->finalize(object);
}

static void
aiq_circuit_breaker_class_init(AiqCircuitBreakerClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = aiq_circuit_breaker_finalize;
}

static void
aiq_circuit_breaker_init(AiqCircuitBreaker *self)
{
	g_mutex_init(&self->mutex);
	self->circuits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * aiq_circuit_breaker_new:
 * @threshold: consecutive failures that open a circuit
 * @open_ms: how long a circuit stays open before a probe
 */
AiqCircuitBreaker *
aiq_circuit_breaker_new(guint threshold, gint64 open_ms)
{
	AiqCircuitBreaker *self = g_object_new(AIQ_TYPE_CIRCUIT_BREAKER, NULL);
	self->threshold = MAX(threshold, 1);
	self->open_us = MAX(open_ms, 0) * 1000;
	return self;
}

/**
 * aiq_circuit_breaker_set_clock:
 * @func: (nullable): returns the time in microseconds; %NULL for the
 *   monotonic clock
 */
void
aiq_circuit_breaker_set_clock(AiqCircuitBreaker *self, AiqClockFunc func, gpointer user_data)
{
	g_return_if_fail(AIQ_IS_CIRCUIT_BREAKER(self));
	self->clock = func;
	self->clock_data = user_data;
}

static gint64
aiq_circuit_breaker_now(AiqCircuitBreaker *self)
{
	return self->clock != NULL ? self->clock(self->clock_data) : g_get_monotonic_time();
}

/**
 * aiq_circuit_breaker_allow:
 *
 * Returns: %TRUE when a call to @target may go ahead; otherwise %FALSE with
 * an %AIQ_ERROR_CIRCUIT_OPEN error saying when it will be tried again
 */
gboolean
aiq_circuit_breaker_allow(AiqCircuitBreaker *self, const gchar *target, GError **error)
{
	AiqCircuit *circuit;
	gint64 now;
	gboolean ret = TRUE;

	g_return_val_if_fail(AIQ_IS_CIRCUIT_BREAKER(self), FALSE);
	if (target == NULL)
		return TRUE;

	g_mutex_lock(&self->mutex);
	circuit = g_hash_table_lookup(self->circuits, target);
	if (circuit == NULL || circuit->state == AIQ_CIRCUIT_CLOSED)
		goto out;
	now = aiq_circuit_breaker_now(self);
	if (circuit->state == AIQ_CIRCUIT_OPEN && now - circuit->opened_us >= self->open_us) {
		circuit->state = AIQ_CIRCUIT_HALF_OPEN;
		circuit->probing = FALSE;
	}
	if (circuit->state == AIQ_CIRCUIT_HALF_OPEN && !circuit->probing) {
		circuit->probing = TRUE;
		goto out;
	}
	{
		gint64 left_ms = MAX(self->open_us - (now - circuit->opened_us), 0) / 1000;
		g_autofree gchar *left = aiq_duration_to_string(MAX(left_ms, 1));
		if (circuit->state == AIQ_CIRCUIT_HALF_OPEN)
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CIRCUIT_OPEN,
				    _("circuit open for %s: a probe call is in progress"),
				    target);
		else
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_CIRCUIT_OPEN,
				    _("circuit open for %s after %u consecutive failures; next try "
				      "in %s"),
				    target,
				    circuit->failures,
				    left);
	}
	ret = FALSE;
out:
	g_mutex_unlock(&self->mutex);
	return ret;
}

/**
 * aiq_circuit_breaker_record:
 *
 * Records the outcome of a call that aiq_circuit_breaker_allow() let through.
 */
void
aiq_circuit_breaker_record(AiqCircuitBreaker *self, const gchar *target, gboolean success)
{
	AiqCircuit *circuit;

	g_return_if_fail(AIQ_IS_CIRCUIT_BREAKER(self));
	if (target == NULL)
		return;

	g_mutex_lock(&self->mutex);
	circuit = g_hash_table_lookup(self->circuits, target);
	if (circuit == NULL) {
		if (success) {
			g_mutex_unlock(&self->mutex);
			return;
		}
		circuit = g_new0(AiqCircuit, 1);
		g_hash_table_insert(self->circuits, g_strdup(target), circuit);
	}
	if (success) {
		if (circuit->state != AIQ_CIRCUIT_CLOSED)
			g_info("circuit closed for %s", target);
		circuit->state = AIQ_CIRCUIT_CLOSED;
		circuit->failures = 0;
		circuit->probing = FALSE;
	} else {
		circuit->failures++;
		if (circuit->state == AIQ_CIRCUIT_HALF_OPEN ||
		    (circuit->state == AIQ_CIRCUIT_CLOSED &&
		     circuit->failures >= self->threshold)) {
			if (circuit->state == AIQ_CIRCUIT_CLOSED)
				g_info("circuit opened for %s after %u failures",
				       target,
				       circuit->failures);
			circuit->state = AIQ_CIRCUIT_OPEN;
			circuit->opened_us = aiq_circuit_breaker_now(self);
			circuit->probing = FALSE;
		}
	}
	g_mutex_unlock(&self->mutex);
}

AiqCircuitState
aiq_circuit_breaker_get_state(AiqCircuitBreaker *self, const gchar *target)
{
	AiqCircuit *circuit;
	AiqCircuitState state = AIQ_CIRCUIT_CLOSED;
	g_return_val_if_fail(AIQ_IS_CIRCUIT_BREAKER(self), AIQ_CIRCUIT_CLOSED);
	g_mutex_lock(&self->mutex);
	circuit = g_hash_table_lookup(self->circuits, target);
	if (circuit != NULL) {
		state = circuit->state;
		if (state == AIQ_CIRCUIT_OPEN &&
		    aiq_circuit_breaker_now(self) - circuit->opened_us >= self->open_us)
			state = AIQ_CIRCUIT_HALF_OPEN;
	}
	g_mutex_unlock(&self->mutex);
	return state;
}

const gchar *
aiq_circuit_state_to_string(AiqCircuitState state)
{
	switch (state) {
	case AIQ_CIRCUIT_CLOSED:
		return "closed";
	case AIQ_CIRCUIT_OPEN:
		return "open";
	case AIQ_CIRCUIT_HALF_OPEN:
		return "half_open";
	default:
		return "unknown";
	}
}
