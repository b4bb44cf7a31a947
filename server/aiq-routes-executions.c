/* SPDX-License-Identifier: Apache-2.0 */
/* stub: being implemented */
#include "config.h"
#include "aiq-routes.h"
void
aiq_routes_executions_register(AiqServer *server)
{
}
gboolean
aiq_queue_start(AiqServer *server, GError **error)
{
	return TRUE;
}
void
aiq_queue_stop(AiqServer *server)
{
}
