/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include "aiq-routes.h"

void
aiq_routes_tenant_data_register(AiqServer *server)
{
}
