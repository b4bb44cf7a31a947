/*
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "aiq-store.h"

G_BEGIN_DECLS

typedef struct {
	gchar *tenant_id;
	gchar *workflow_id;
	guint8 token_hash[32];
	gchar *sealed; /* the token and the HMAC secret, sealed with the server key */
	gint64 created_us;
} AiqWebhookRow;

void
aiq_webhook_row_free(AiqWebhookRow *row);

/* the last fire time handled for one schedule trigger; NOT_FOUND for a new one */
gboolean
aiq_store_get_schedule_last_fire(AiqStore *self,
				 const gchar *tenant_id,
				 const gchar *workflow_id,
				 guint trigger_index,
				 gint64 *last_fire_us,
				 GError **error);
/* moves the last fire time forward (never back), and records the fire */
gboolean
aiq_store_record_schedule_fire(AiqStore *self,
			       const gchar *tenant_id,
			       const gchar *workflow_id,
			       guint trigger_index,
			       gint64 fire_us,
			       const gchar *execution_id,
			       GError **error);
/* one schedule trigger */
typedef struct {
	const gchar *tenant_id;
	const gchar *workflow_id;
	guint trigger_index;
} AiqScheduleKey;

/* new schedules start from @now_us, all in one transaction */
gboolean
aiq_store_start_schedules(AiqStore *self,
			  const AiqScheduleKey *keys,
			  guint n_keys,
			  gint64 now_us,
			  GError **error);

AiqWebhookRow *
aiq_store_get_webhook(AiqStore *self,
		      const gchar *tenant_id,
		      const gchar *workflow_id,
		      GError **error);
AiqWebhookRow *
aiq_store_lookup_webhook(AiqStore *self,
			 const gchar *tenant_id,
			 const guint8 *token_hash,
			 GError **error);
gboolean
aiq_store_set_webhook(AiqStore *self, const AiqWebhookRow *row, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqWebhookRow, aiq_webhook_row_free)

G_END_DECLS
