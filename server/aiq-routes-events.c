/* SPDX-License-Identifier: Apache-2.0 */
/* stub: being implemented */
#include "config.h"
#include "aiq-routes.h"
void
aiq_routes_events_register(AiqServer *server)
{
}
void
aiq_routes_events_add_websocket(AiqServer *server, SoupServer *soup)
{
}
