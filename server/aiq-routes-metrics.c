/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * GET /metrics: the server's metrics in the Prometheus text format, for
 * loopback, or for a scraper with the metrics token.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-metrics.h"
#include "aiq-routes.h"

#define AIQ_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static void
aiq_route_metrics(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqMetrics *metrics = aiq_metrics_get(server);
	g_autoptr(GBytes) body = NULL;
	/* a proxy on this host makes every client look local */
	gboolean forwarded = aiq_request_get_header(req, "Forwarded") != NULL ||
			     aiq_request_get_header(req, "X-Forwarded-For") != NULL;

	switch (aiq_metrics_check_access(aiq_request_get_remote_address(req),
					 forwarded,
					 aiq_request_get_header(req, "Authorization"),
					 aiq_server_get_config(server)->metrics_token)) {
	case AIQ_METRICS_ACCESS_ALLOWED:
		break;
	case AIQ_METRICS_ACCESS_UNAUTHORIZED:
		aiq_request_set_header(req, "WWW-Authenticate", "Bearer");
		aiq_request_respond_error(req,
					  SOUP_STATUS_UNAUTHORIZED,
					  "unauthenticated",
					  _("the metrics token is wrong"),
					  NULL);
		return;
	case AIQ_METRICS_ACCESS_FORBIDDEN:
	default:
		aiq_request_respond_error(
			req,
			SOUP_STATUS_FORBIDDEN,
			"forbidden",
			_("the metrics are served to loopback, or with the metrics token"),
			NULL);
		return;
	}
	body = aiq_metrics_render(metrics);
	aiq_request_respond_bytes(req, SOUP_STATUS_OK, AIQ_METRICS_CONTENT_TYPE, body);
}

/* a worker: the scrape reads the store (the agents online) */
static const AiqRoute aiq_metrics_routes[] = {
	{ "GET",
	  "/metrics",
	  AIQ_ROLE_NONE,
	  AIQ_ROUTE_WORKER,
	  aiq_route_metrics,
	  0,
	  "Prometheus metrics (loopback or the metrics token)" },
};

void
aiq_routes_metrics_register(AiqServer *server)
{
	aiq_server_add_routes(server, aiq_metrics_routes, G_N_ELEMENTS(aiq_metrics_routes));
}
