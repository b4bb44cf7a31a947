/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include "aiq-routes.h"

gboolean
aiq_retention_start(AiqServer *server, GError **error)
{
	return TRUE;
}

void
aiq_retention_stop(AiqServer *server)
{
}
