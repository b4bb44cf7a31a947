/* SPDX-License-Identifier: Apache-2.0 */
/* stub: being implemented (live events) */
#include "config.h"
#include "aiq-broker.h"
void
aiq_broker_publish(AiqServer *server, const gchar *tenant_id, const gchar *type, JsonNode *data)
{
}
