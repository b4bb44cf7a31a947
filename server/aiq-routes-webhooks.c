/* SPDX-License-Identifier: Apache-2.0 */
/* stub until executions land (real code parked in /work/pending) */
#include "config.h"
#include "aiq-routes.h"
gboolean
aiq_routes_webhooks_register(AiqServer *server, GError **error)
{
	return TRUE;
}
