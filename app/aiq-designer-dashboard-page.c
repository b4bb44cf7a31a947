/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The dashboard: the tenant's executions over a period (GET /api/v1/stats)
 * as charts and big numbers, refreshed while it is shown.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-chart.h"
#include "aiq-designer-dashboard-page-private.h"
#include "aiq-designer-util.h"

#define AIQ_DESIGNER_DASHBOARD_REFRESH_S 30

typedef enum {
	AIQ_DESIGNER_DASHBOARD_CARD_SUCCESS_RATE,
	AIQ_DESIGNER_DASHBOARD_CARD_TOTAL,
	AIQ_DESIGNER_DASHBOARD_CARD_QUEUED,
	AIQ_DESIGNER_DASHBOARD_CARD_RUNNING,
	AIQ_DESIGNER_DASHBOARD_CARD_LAST,
} AiqDesignerDashboardCard;

struct _AiqDesignerDashboardPage {
	AdwBin parent_instance;
	AiqDesignerSession *session;
	GCancellable *cancellable;
	JsonObject *stats;
	guint refresh_id;
	guint loads; /* answers shown, for the tests */

	GtkStack *stack;
	GtkSpinner *spinner;
	AdwStatusPage *error_page;
	GtkDropDown *period_dropdown;
	GtkFlowBox *cards;
	AiqDesignerChart *executions_chart;
	AiqDesignerChart *queue_chart;
	AiqDesignerChart *durations_chart;
	GtkLabel *card_values[AIQ_DESIGNER_DASHBOARD_CARD_LAST];
};

G_DEFINE_TYPE(AiqDesignerDashboardPage, aiq_designer_dashboard_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_SESSION,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

/* the periods, in the order of the drop-down and of the GSettings enum */
static const gchar *aiq_designer_dashboard_periods[] = { "24h", "7d", "30d" };

JsonObject *
aiq_designer_dashboard_page_get_stats(AiqDesignerDashboardPage *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DASHBOARD_PAGE(self), NULL);
	return self->stats;
}

AiqDesignerChart *
aiq_designer_dashboard_page_get_chart(AiqDesignerDashboardPage *self, AiqDesignerChartKind kind)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DASHBOARD_PAGE(self), NULL);
	switch (kind) {
	case AIQ_DESIGNER_CHART_KIND_EXECUTIONS:
		return self->executions_chart;
	case AIQ_DESIGNER_CHART_KIND_QUEUE:
		return self->queue_chart;
	case AIQ_DESIGNER_CHART_KIND_DURATIONS:
		return self->durations_chart;
	default:
		return NULL;
	}
}

guint
aiq_designer_dashboard_page_get_loads(AiqDesignerDashboardPage *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_DASHBOARD_PAGE(self), 0);
	return self->loads;
}

static gint64
aiq_designer_dashboard_get_int(JsonObject *obj, const gchar *member)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return 0;
	return json_node_get_int(node);
}

static void
aiq_designer_dashboard_page_show_stats(AiqDesignerDashboardPage *self)
{
	JsonNode *rate = json_object_get_member(self->stats, "success_rate");
	JsonNode *queue_node = json_object_get_member(self->stats, "queue");
	JsonObject *queue = NULL;
	g_autofree gchar *rate_text = NULL;
	g_autofree gchar *total_text = NULL;
	g_autofree gchar *queued_text = NULL;
	g_autofree gchar *running_text = NULL;

	if (queue_node != NULL && JSON_NODE_HOLDS_OBJECT(queue_node))
		queue = json_node_get_object(queue_node);
	if (rate != NULL && JSON_NODE_HOLDS_VALUE(rate))
		/* TRANSLATORS: a success rate in percent */
		rate_text = g_strdup_printf(_("%.1f %%"), json_node_get_double(rate) * 100);
	else
		rate_text = g_strdup("—");
	total_text = g_strdup_printf("%" G_GINT64_FORMAT,
				     aiq_designer_dashboard_get_int(self->stats, "total"));
	queued_text = g_strdup_printf("%" G_GINT64_FORMAT,
				      aiq_designer_dashboard_get_int(queue, "queued"));
	running_text = g_strdup_printf("%" G_GINT64_FORMAT,
				       aiq_designer_dashboard_get_int(queue, "running"));
	gtk_label_set_text(self->card_values[AIQ_DESIGNER_DASHBOARD_CARD_SUCCESS_RATE], rate_text);
	gtk_label_set_text(self->card_values[AIQ_DESIGNER_DASHBOARD_CARD_TOTAL], total_text);
	gtk_label_set_text(self->card_values[AIQ_DESIGNER_DASHBOARD_CARD_QUEUED], queued_text);
	gtk_label_set_text(self->card_values[AIQ_DESIGNER_DASHBOARD_CARD_RUNNING], running_text);

	aiq_designer_chart_set_stats(self->executions_chart, self->stats);
	aiq_designer_chart_set_stats(self->queue_chart, self->stats);
	aiq_designer_chart_set_stats(self->durations_chart, self->stats);
}

static void
aiq_designer_dashboard_page_stats_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerDashboardPage) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (node == NULL) {
		if (aiq_designer_error_is_cancelled(error))
			return;
		gtk_spinner_stop(self->spinner);
		if (self->stats == NULL) {
			adw_status_page_set_description(self->error_page, error->message);
			gtk_stack_set_visible_child_name(self->stack, "error");
		} else {
			aiq_designer_show_error(GTK_WIDGET(self), error);
		}
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_autoptr(GError) error_local =
			g_error_new_literal(G_IO_ERROR,
					    G_IO_ERROR_INVALID_DATA,
					    _("The server sent invalid statistics"));
		aiq_designer_show_error(GTK_WIDGET(self), error_local);
		return;
	}
	g_clear_pointer(&self->stats, json_object_unref);
	self->stats = json_object_ref(json_node_get_object(node));
	aiq_designer_dashboard_page_show_stats(self);
	gtk_spinner_stop(self->spinner);
	gtk_stack_set_visible_child_name(self->stack, "content");
	self->loads++;
}

static guint
aiq_designer_dashboard_page_get_period(AiqDesignerDashboardPage *self)
{
	guint period = gtk_drop_down_get_selected(self->period_dropdown);
	return period < G_N_ELEMENTS(aiq_designer_dashboard_periods) ? period : 0;
}

void
aiq_designer_dashboard_page_reload(AiqDesignerDashboardPage *self)
{
	AiqClientStatsQuery query = { 0 };
	AiqClient *client;

	g_return_if_fail(AIQ_DESIGNER_IS_DASHBOARD_PAGE(self));

	if (self->session == NULL || !aiq_designer_session_get_logged_in(self->session))
		return;
	client = aiq_designer_session_get_client(self->session);
	if (client == NULL)
		return;

	switch (aiq_designer_dashboard_page_get_period(self)) {
	case 1: {
		/* a week of hours, up to the end of this hour */
		gint64 hour = (gint64)G_USEC_PER_SEC * 3600;
		query.to = (g_get_real_time() / hour + 1) * hour;
		query.from = query.to - 7 * 24 * hour;
		query.bucket = "hour";
		break;
	}
	case 2:
		/* the server's default with daily buckets: 30 days */
		query.bucket = "day";
		break;
	default:
		query.bucket = "hour";
		break;
	}
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	if (self->stats == NULL) {
		gtk_spinner_start(self->spinner);
		gtk_stack_set_visible_child_name(self->stack, "loading");
	}
	aiq_client_get_stats_async(client,
				   &query,
				   self->cancellable,
				   aiq_designer_dashboard_page_stats_cb,
				   g_object_ref(self));
}

static void
aiq_designer_dashboard_page_reload_action(GtkWidget *widget,
					  const gchar *action_name,
					  GVariant *param)
{
	aiq_designer_dashboard_page_reload(AIQ_DESIGNER_DASHBOARD_PAGE(widget));
}

static gboolean
aiq_designer_dashboard_page_refresh_cb(gpointer user_data)
{
	aiq_designer_dashboard_page_reload(AIQ_DESIGNER_DASHBOARD_PAGE(user_data));
	return G_SOURCE_CONTINUE;
}

/* refreshes only while shown */
static void
aiq_designer_dashboard_page_map(GtkWidget *widget)
{
	AiqDesignerDashboardPage *self = AIQ_DESIGNER_DASHBOARD_PAGE(widget);
	GTK_WIDGET_CLASS(aiq_designer_dashboard_page_parent_class)->map(widget);
	if (self->refresh_id == 0)
		self->refresh_id = g_timeout_add_seconds(AIQ_DESIGNER_DASHBOARD_REFRESH_S,
							 aiq_designer_dashboard_page_refresh_cb,
							 self);
}

static void
aiq_designer_dashboard_page_unmap(GtkWidget *widget)
{
	AiqDesignerDashboardPage *self = AIQ_DESIGNER_DASHBOARD_PAGE(widget);
	g_clear_handle_id(&self->refresh_id, g_source_remove);
	GTK_WIDGET_CLASS(aiq_designer_dashboard_page_parent_class)->unmap(widget);
}

static void
aiq_designer_dashboard_page_period_cb(AiqDesignerDashboardPage *self)
{
	aiq_designer_dashboard_page_reload(self);
}

static gboolean
aiq_designer_dashboard_page_period_get_mapping(GValue *value, GVariant *variant, gpointer user_data)
{
	const gchar *nick = g_variant_get_string(variant, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(aiq_designer_dashboard_periods); i++) {
		if (g_strcmp0(nick, aiq_designer_dashboard_periods[i]) == 0) {
			g_value_set_uint(value, i);
			return TRUE;
		}
	}
	return FALSE;
}

static GVariant *
aiq_designer_dashboard_page_period_set_mapping(const GValue *value,
					       const GVariantType *expected_type,
					       gpointer user_data)
{
	guint period = g_value_get_uint(value);
	if (period >= G_N_ELEMENTS(aiq_designer_dashboard_periods))
		return NULL;
	return g_variant_new_string(aiq_designer_dashboard_periods[period]);
}

static GtkLabel *
aiq_designer_dashboard_page_add_card(AiqDesignerDashboardPage *self, const gchar *caption)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	GtkWidget *value = gtk_label_new("—");
	GtkWidget *label = gtk_label_new(caption);

	gtk_widget_add_css_class(box, "card");
	gtk_widget_set_margin_top(value, 12);
	gtk_widget_add_css_class(value, "title-1");
	gtk_widget_set_margin_bottom(label, 12);
	gtk_widget_set_margin_start(label, 6);
	gtk_widget_set_margin_end(label, 6);
	gtk_label_set_wrap(GTK_LABEL(label), TRUE);
	gtk_label_set_justify(GTK_LABEL(label), GTK_JUSTIFY_CENTER);
	gtk_widget_add_css_class(label, "dim-label");
	gtk_box_append(GTK_BOX(box), value);
	gtk_box_append(GTK_BOX(box), label);
	gtk_accessible_update_relation(GTK_ACCESSIBLE(value),
				       GTK_ACCESSIBLE_RELATION_LABELLED_BY,
				       label,
				       NULL,
				       -1);
	gtk_flow_box_append(self->cards, box);
	return GTK_LABEL(value);
}

static void
aiq_designer_dashboard_page_constructed(GObject *object)
{
	AiqDesignerDashboardPage *self = AIQ_DESIGNER_DASHBOARD_PAGE(object);
	GSettings *settings;

	G_OBJECT_CLASS(aiq_designer_dashboard_page_parent_class)->constructed(object);

	settings = self->session != NULL ? aiq_designer_session_get_settings(self->session) : NULL;
	if (settings != NULL)
		g_settings_bind_with_mapping(settings,
					     "dashboard-period",
					     self->period_dropdown,
					     "selected",
					     G_SETTINGS_BIND_DEFAULT,
					     aiq_designer_dashboard_page_period_get_mapping,
					     aiq_designer_dashboard_page_period_set_mapping,
					     NULL,
					     NULL);
	g_signal_connect_swapped(self->period_dropdown,
				 "notify::selected",
				 G_CALLBACK(aiq_designer_dashboard_page_period_cb),
				 self);
}

static void
aiq_designer_dashboard_page_get_property(GObject *object,
					 guint prop_id,
					 GValue *value,
					 GParamSpec *pspec)
{
	AiqDesignerDashboardPage *self = AIQ_DESIGNER_DASHBOARD_PAGE(object);
	switch (prop_id) {
	case PROP_SESSION:
		g_value_set_object(value, self->session);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_dashboard_page_set_property(GObject *object,
					 guint prop_id,
					 const GValue *value,
					 GParamSpec *pspec)
{
	AiqDesignerDashboardPage *self = AIQ_DESIGNER_DASHBOARD_PAGE(object);
	switch (prop_id) {
	case PROP_SESSION:
		self->session = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_dashboard_page_dispose(GObject *object)
{
	AiqDesignerDashboardPage *self = AIQ_DESIGNER_DASHBOARD_PAGE(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_handle_id(&self->refresh_id, g_source_remove);
	g_clear_pointer(&self->stats, json_object_unref);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(aiq_designer_dashboard_page_parent_class)->dispose(object);
}

static void
aiq_designer_dashboard_page_class_init(AiqDesignerDashboardPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = aiq_designer_dashboard_page_get_property;
	object_class->set_property = aiq_designer_dashboard_page_set_property;
	object_class->constructed = aiq_designer_dashboard_page_constructed;
	object_class->dispose = aiq_designer_dashboard_page_dispose;
	widget_class->map = aiq_designer_dashboard_page_map;
	widget_class->unmap = aiq_designer_dashboard_page_unmap;

	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	g_type_ensure(AIQ_DESIGNER_TYPE_CHART);
	gtk_widget_class_set_template_from_resource(
		widget_class,
		"/io/automateiq/Designer/ui/aiq-designer-dashboard-page.ui");
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerDashboardPage, stack);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerDashboardPage, spinner);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerDashboardPage, error_page);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerDashboardPage,
					     period_dropdown);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerDashboardPage, cards);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerDashboardPage,
					     executions_chart);
	gtk_widget_class_bind_template_child(widget_class, AiqDesignerDashboardPage, queue_chart);
	gtk_widget_class_bind_template_child(widget_class,
					     AiqDesignerDashboardPage,
					     durations_chart);
	gtk_widget_class_install_action(widget_class,
					"dashboard.reload",
					NULL,
					aiq_designer_dashboard_page_reload_action);
}

static void
aiq_designer_dashboard_page_init(AiqDesignerDashboardPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->card_values[AIQ_DESIGNER_DASHBOARD_CARD_SUCCESS_RATE] =
		aiq_designer_dashboard_page_add_card(self, _("Success rate"));
	self->card_values[AIQ_DESIGNER_DASHBOARD_CARD_TOTAL] =
		aiq_designer_dashboard_page_add_card(self, _("Executions in the period"));
	self->card_values[AIQ_DESIGNER_DASHBOARD_CARD_QUEUED] =
		aiq_designer_dashboard_page_add_card(self, _("Queued now"));
	self->card_values[AIQ_DESIGNER_DASHBOARD_CARD_RUNNING] =
		aiq_designer_dashboard_page_add_card(self, _("Running now"));
}

GtkWidget *
aiq_designer_dashboard_page_new(AiqDesignerSession *session)
{
	return g_object_new(AIQ_DESIGNER_TYPE_DASHBOARD_PAGE, "session", session, NULL);
}
