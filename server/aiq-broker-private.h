/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The event broker behind aiq_broker_publish(), as the events route and the
 * tests see it.
 */

#pragma once

#include <libsoup/soup.h>

#include "aiq-broker.h"

G_BEGIN_DECLS

/* a subscriber with this many events, or this many bytes, waiting for its
 * socket has fallen behind and is closed */
#define AIQ_BROKER_MAX_QUEUE 1000
#define AIQ_BROKER_MAX_QUEUE_BYTES (16 * 1024 * 1024)

typedef struct _AiqBroker AiqBroker;

AiqBroker *
aiq_broker_new(void);
void
aiq_broker_free(AiqBroker *self);
AiqBroker *
aiq_broker_get(AiqServer *server);
void
aiq_broker_subscribe(AiqBroker *self, const gchar *tenant_id, SoupWebsocketConnection *conn);
void
aiq_broker_shutdown(AiqBroker *self);
gboolean
aiq_broker_is_shut_down(AiqBroker *self);
guint
aiq_broker_count_subscribers(AiqBroker *self, const gchar *tenant_id, guint *n_contexts);

G_END_DECLS
