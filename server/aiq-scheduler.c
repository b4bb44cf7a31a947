/* SPDX-License-Identifier: Apache-2.0 */
/* stub until executions land (real code parked in /work/pending) */
#include "config.h"
#include "aiq-routes.h"
gboolean
aiq_scheduler_start(AiqServer *server, GError **error)
{
	return TRUE;
}
gboolean
aiq_scheduler_tick(AiqServer *server, GError **error)
{
	return TRUE;
}
void
aiq_scheduler_stop(AiqServer *server)
{
}
