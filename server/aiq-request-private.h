/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-request.h"

G_BEGIN_DECLS

typedef void (*AiqRequestApplyFunc)(AiqRequest *req, gpointer user_data);

AiqRequest *
aiq_request_new(AiqServer *server,
		SoupServerMessage *msg,
		GMainContext *context,
		const gchar *path,
		GBytes *body);
void
aiq_request_set_params(AiqRequest *self, GHashTable *params);
void
aiq_request_set_principal(AiqRequest *self, AiqPrincipal *principal);
void
aiq_request_set_apply_func(AiqRequest *self, AiqRequestApplyFunc func, gpointer user_data);
void
aiq_request_apply(AiqRequest *self);

/* what a request set for its audit record; every member may be %NULL */
typedef struct {
	const gchar *tenant_id;
	const gchar *action;
	const gchar *actor_type;
	const gchar *actor_id;
	const gchar *actor_name;
	const gchar *target_type;
	const gchar *target_id;
	JsonObject *details;
	const gchar *error_code;
	const gchar *response_id;
	gboolean skip;
} AiqRequestAudit;

AiqRequestAudit
aiq_request_get_audit(AiqRequest *self);

G_END_DECLS
