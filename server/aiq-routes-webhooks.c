/* SPDX-License-Identifier: Apache-2.0 */
/* stub: being implemented */
#include "config.h"
#include "aiq-routes.h"
void
aiq_routes_webhooks_register(AiqServer *server)
{
}
