/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The executions of a filter as a GListModel that pages from the server,
 * so that a list of 100,000 executions scrolls without loading them all.
 *
 * The model counts the matching executions once (`count=true`) and then
 * asks for pages of 100 by `offset` as rows are shown: get_item() answers
 * at once with a placeholder item and the page fills it in place when it
 * arrives. Every page is asked with the same `until` (just after the newest
 * execution of the first answer), so that positions stay still while new
 * executions arrive; those come from the live events and are kept apart, at
 * the head of the list. A bounded number of pages is kept; an evicted page
 * turns its items back into placeholders.
 */

#define G_LOG_DOMAIN "AiqDesigner"

#include "config.h"

#include <glib/gi18n.h>

#include "aiq-designer-execution-list-model.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-util.h"

#define AIQ_DESIGNER_EXECUTION_MAX_IN_FLIGHT 3
#define AIQ_DESIGNER_EXECUTION_MAX_PAGES 50

typedef struct {
	guint index;
	GPtrArray *items; /* of AiqDesignerExecutionItem, PAGE_SIZE of them */
	gboolean loaded;
	gboolean loading;
	gboolean queued;
	guint64 used; /* for LRU */
} AiqDesignerExecutionPage;

struct _AiqDesignerExecutionListModel {
	GObject parent_instance;
	AiqDesignerSession *session;
	GCancellable *cancellable;
	guint generation;

	/* the filter */
	gchar *status;
	gchar *workflow_id;
	gint64 since_us;
	gint64 until_us;

	/* the snapshot */
	gint64 snapshot_until_us; /* 0: none yet */
	guint total;              /* executions of the server's snapshot */
	GPtrArray *head;          /* items that arrived live, newest first */
	GHashTable *pages;        /* index → AiqDesignerExecutionPage */
	GHashTable *ids;          /* id → AiqDesignerExecutionItem (borrowed) */
	GQueue pending;           /* page indexes to load, newest request last */
	guint in_flight;
	guint pump_id;
	guint64 clock;
	gboolean loading;
	GError *error;
};

static void
aiq_designer_execution_list_model_iface_init(GListModelInterface *iface);

G_DEFINE_TYPE_WITH_CODE(AiqDesignerExecutionListModel,
			aiq_designer_execution_list_model,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL,
					      aiq_designer_execution_list_model_iface_init))

enum {
	PROP_0,
	PROP_SESSION,
	PROP_LOADING,
	PROP_ERROR,
	PROP_N_ITEMS,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

static void
aiq_designer_execution_page_free(AiqDesignerExecutionPage *page)
{
	g_ptr_array_unref(page->items);
	g_free(page);
}

static guint
aiq_designer_execution_list_model_n_items(AiqDesignerExecutionListModel *self)
{
	return self->head->len + self->total;
}

static void
aiq_designer_execution_list_model_set_loading(AiqDesignerExecutionListModel *self, gboolean loading)
{
	if (self->loading == loading)
		return;
	self->loading = loading;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOADING]);
}

static void
aiq_designer_execution_list_model_set_error(AiqDesignerExecutionListModel *self,
					    const GError *error)
{
	if (self->error == NULL && error == NULL)
		return;
	g_clear_error(&self->error);
	if (error != NULL)
		self->error = g_error_copy(error);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ERROR]);
}

static void
aiq_designer_execution_list_model_forget_page(AiqDesignerExecutionListModel *self,
					      AiqDesignerExecutionPage *page)
{
	for (guint i = 0; i < page->items->len; i++) {
		AiqDesignerExecutionItem *item = g_ptr_array_index(page->items, i);
		const gchar *id = aiq_designer_execution_item_get_id(item);
		if (id != NULL && g_hash_table_lookup(self->ids, id) == item)
			g_hash_table_remove(self->ids, id);
		aiq_designer_execution_item_clear(item);
	}
	g_queue_remove(&self->pending, GUINT_TO_POINTER(page->index));
}

/* keeps the cache bounded: the least recently used pages that are not on
 * their way go first */
static void
aiq_designer_execution_list_model_evict(AiqDesignerExecutionListModel *self)
{
	while (g_hash_table_size(self->pages) > AIQ_DESIGNER_EXECUTION_MAX_PAGES) {
		GHashTableIter iter;
		AiqDesignerExecutionPage *page;
		AiqDesignerExecutionPage *oldest = NULL;
		g_hash_table_iter_init(&iter, self->pages);
		while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&page)) {
			if (page->loading)
				continue;
			if (oldest == NULL || page->used < oldest->used)
				oldest = page;
		}
		if (oldest == NULL)
			return;
		aiq_designer_execution_list_model_forget_page(self, oldest);
		g_hash_table_remove(self->pages, GUINT_TO_POINTER(oldest->index));
	}
}

static void
aiq_designer_execution_list_model_fill_page(AiqDesignerExecutionListModel *self,
					    AiqDesignerExecutionPage *page,
					    JsonArray *items)
{
	guint n = MIN(json_array_get_length(items), page->items->len);
	for (guint i = 0; i < n; i++) {
		JsonNode *node = json_array_get_element(items, i);
		AiqDesignerExecutionItem *item = g_ptr_array_index(page->items, i);
		const gchar *id;
		if (!JSON_NODE_HOLDS_OBJECT(node))
			continue;
		id = aiq_json_object_get_string(json_node_get_object(node), "id");
		if (id == NULL)
			continue;
		/* already at the head (arrived live meanwhile): the page's copy
		 * is the same execution; keep the head's as the one updated */
		aiq_designer_execution_item_update_from_json(item, json_node_get_object(node));
		if (!g_hash_table_contains(self->ids, id))
			g_hash_table_insert(self->ids, g_strdup(id), item);
	}
	page->loaded = TRUE;
}

static void
aiq_designer_execution_list_model_query(AiqDesignerExecutionListModel *self,
					AiqClientExecutionQuery *query)
{
	query->status = self->status;
	query->workflow_id = self->workflow_id;
	query->since = self->since_us;
	query->until = self->snapshot_until_us != 0 ? self->snapshot_until_us : self->until_us;
	query->limit = AIQ_DESIGNER_EXECUTION_PAGE_SIZE;
}

static void
aiq_designer_execution_list_model_pump(AiqDesignerExecutionListModel *self);

typedef struct {
	AiqDesignerExecutionListModel *self;
	guint generation;
	guint index;
} AiqDesignerExecutionRequest;

static void
aiq_designer_execution_request_free(AiqDesignerExecutionRequest *req)
{
	g_object_unref(req->self);
	g_free(req);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqDesignerExecutionRequest, aiq_designer_execution_request_free)

static void
aiq_designer_execution_list_model_page_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerExecutionRequest) req = user_data;
	AiqDesignerExecutionListModel *self = req->self;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	AiqDesignerExecutionPage *page;
	JsonArray *items;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (req->generation != self->generation)
		return;
	self->in_flight--;
	page = g_hash_table_lookup(self->pages, GUINT_TO_POINTER(req->index));
	if (page != NULL)
		page->loading = FALSE;
	if (node == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_prefix_error(&error, "%s", _("Failed to load executions: "));
			aiq_designer_execution_list_model_set_error(self, error);
		}
	} else {
		items = JSON_NODE_HOLDS_OBJECT(node)
				? aiq_json_object_get_array(json_node_get_object(node), "items")
				: NULL;
		if (page != NULL && items != NULL) {
			aiq_designer_execution_list_model_fill_page(self, page, items);
			aiq_designer_execution_list_model_set_error(self, NULL);
		}
	}
	aiq_designer_execution_list_model_evict(self);
	aiq_designer_execution_list_model_pump(self);
}

static gboolean
aiq_designer_execution_list_model_pump_cb(gpointer user_data)
{
	AiqDesignerExecutionListModel *self = AIQ_DESIGNER_EXECUTION_LIST_MODEL(user_data);
	AiqClient *client = aiq_designer_session_get_client(self->session);

	self->pump_id = 0;
	if (client == NULL)
		return G_SOURCE_REMOVE;
	while (self->in_flight < AIQ_DESIGNER_EXECUTION_MAX_IN_FLIGHT &&
	       !g_queue_is_empty(&self->pending)) {
		/* the newest request first: that is where the user looks now */
		guint index = GPOINTER_TO_UINT(g_queue_pop_tail(&self->pending));
		AiqDesignerExecutionPage *page =
			g_hash_table_lookup(self->pages, GUINT_TO_POINTER(index));
		AiqClientExecutionQuery query = { 0 };
		AiqDesignerExecutionRequest *req;

		if (page == NULL || page->loaded || page->loading)
			continue;
		page->queued = FALSE;
		page->loading = TRUE;
		aiq_designer_execution_list_model_query(self, &query);
		query.offset = index * AIQ_DESIGNER_EXECUTION_PAGE_SIZE;
		req = g_new0(AiqDesignerExecutionRequest, 1);
		req->self = g_object_ref(self);
		req->generation = self->generation;
		req->index = index;
		self->in_flight++;
		aiq_client_list_executions_async(client,
						 &query,
						 self->cancellable,
						 aiq_designer_execution_list_model_page_cb,
						 req);
	}
	return G_SOURCE_REMOVE;
}

/* requests made while rows are bound in one frame go out together */
static void
aiq_designer_execution_list_model_pump(AiqDesignerExecutionListModel *self)
{
	if (self->pump_id != 0 || g_queue_is_empty(&self->pending))
		return;
	self->pump_id = g_idle_add_full(G_PRIORITY_DEFAULT_IDLE,
					aiq_designer_execution_list_model_pump_cb,
					self,
					NULL);
}

static AiqDesignerExecutionPage *
aiq_designer_execution_list_model_ensure_page(AiqDesignerExecutionListModel *self, guint index)
{
	AiqDesignerExecutionPage *page = g_hash_table_lookup(self->pages, GUINT_TO_POINTER(index));
	if (page == NULL) {
		page = g_new0(AiqDesignerExecutionPage, 1);
		page->index = index;
		page->items = g_ptr_array_new_with_free_func(g_object_unref);
		for (guint i = 0; i < AIQ_DESIGNER_EXECUTION_PAGE_SIZE; i++)
			g_ptr_array_add(page->items, aiq_designer_execution_item_new());
		g_hash_table_insert(self->pages, GUINT_TO_POINTER(index), page);
	}
	page->used = ++self->clock;
	return page;
}

static GType
aiq_designer_execution_list_model_get_item_type(GListModel *model)
{
	return AIQ_DESIGNER_TYPE_EXECUTION_ITEM;
}

static guint
aiq_designer_execution_list_model_get_n_items(GListModel *model)
{
	return aiq_designer_execution_list_model_n_items(AIQ_DESIGNER_EXECUTION_LIST_MODEL(model));
}

static gpointer
aiq_designer_execution_list_model_get_item(GListModel *model, guint position)
{
	AiqDesignerExecutionListModel *self = AIQ_DESIGNER_EXECUTION_LIST_MODEL(model);
	AiqDesignerExecutionPage *page;
	guint pos;

	if (position >= aiq_designer_execution_list_model_n_items(self))
		return NULL;
	if (position < self->head->len)
		return g_object_ref(g_ptr_array_index(self->head, position));
	pos = position - self->head->len;
	page = aiq_designer_execution_list_model_ensure_page(
		self,
		pos / AIQ_DESIGNER_EXECUTION_PAGE_SIZE);
	if (!page->loaded && !page->loading) {
		if (page->queued)
			g_queue_remove(&self->pending, GUINT_TO_POINTER(page->index));
		g_queue_push_tail(&self->pending, GUINT_TO_POINTER(page->index));
		page->queued = TRUE;
		aiq_designer_execution_list_model_pump(self);
	}
	/* a reference for the caller before the cache may drop its own */
	{
		gpointer item = g_object_ref(
			g_ptr_array_index(page->items, pos % AIQ_DESIGNER_EXECUTION_PAGE_SIZE));
		aiq_designer_execution_list_model_evict(self);
		return item;
	}
}

static void
aiq_designer_execution_list_model_iface_init(GListModelInterface *iface)
{
	iface->get_item_type = aiq_designer_execution_list_model_get_item_type;
	iface->get_n_items = aiq_designer_execution_list_model_get_n_items;
	iface->get_item = aiq_designer_execution_list_model_get_item;
}

static void
aiq_designer_execution_list_model_first_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqDesignerExecutionRequest) req = user_data;
	AiqDesignerExecutionListModel *self = req->self;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonObject *obj;
	JsonArray *items;
	gint64 total;

	node = aiq_client_request_finish(AIQ_CLIENT(source), res, NULL, &error);
	if (req->generation != self->generation)
		return;
	self->in_flight--;
	if (node != NULL && !JSON_NODE_HOLDS_OBJECT(node))
		g_set_error_literal(&error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("The server's answer is not an object"));
	if (error != NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		g_prefix_error(&error, "%s", _("Failed to load executions: "));
		aiq_designer_execution_list_model_set_error(self, error);
		aiq_designer_execution_list_model_set_loading(self, FALSE);
		return;
	}
	obj = json_node_get_object(node);
	items = aiq_json_object_get_array(obj, "items");
	total = aiq_json_object_get_int(obj, "total", -1);
	if (items == NULL || total < 0) {
		g_autoptr(GError) bad = g_error_new_literal(
			AIQ_ERROR,
			AIQ_ERROR_FAILED,
			_("The server did not count the executions; is it too old?"));
		aiq_designer_execution_list_model_set_error(self, bad);
		aiq_designer_execution_list_model_set_loading(self, FALSE);
		return;
	}
	/* pin the positions: later pages end where this one starts */
	if (json_array_get_length(items) > 0) {
		JsonNode *first = json_array_get_element(items, 0);
		gint64 created = 0;
		if (JSON_NODE_HOLDS_OBJECT(first) &&
		    aiq_time_from_iso8601(
			    aiq_json_object_get_string(json_node_get_object(first), "created"),
			    &created,
			    NULL))
			self->snapshot_until_us = created + 1;
	}
	if (self->snapshot_until_us == 0)
		self->snapshot_until_us =
			self->until_us != 0 ? self->until_us : g_get_real_time() + 1;
	if (self->until_us != 0)
		self->snapshot_until_us = MIN(self->snapshot_until_us, self->until_us);
	self->total = (guint)MIN(total, (gint64)G_MAXUINT32 - 1);
	if (self->total > 0) {
		AiqDesignerExecutionPage *page =
			aiq_designer_execution_list_model_ensure_page(self, 0);
		aiq_designer_execution_list_model_fill_page(self, page, items);
	}
	aiq_designer_execution_list_model_set_error(self, NULL);
	aiq_designer_execution_list_model_set_loading(self, FALSE);
	g_list_model_items_changed(G_LIST_MODEL(self), 0, 0, self->total);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_N_ITEMS]);
	aiq_designer_execution_list_model_pump(self);
}

/**
 * aiq_designer_execution_list_model_reload:
 *
 * Counts again and drops every item: all of them are removed at once, and
 * the new ones added when the count arrives.
 */
void
aiq_designer_execution_list_model_reload(AiqDesignerExecutionListModel *self)
{
	AiqClient *client;
	AiqClientExecutionQuery query = { 0 };
	AiqDesignerExecutionRequest *req;
	guint old_n;

	g_return_if_fail(AIQ_DESIGNER_IS_EXECUTION_LIST_MODEL(self));

	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	self->generation++;
	self->in_flight = 0;
	g_clear_handle_id(&self->pump_id, g_source_remove);
	g_queue_clear(&self->pending);

	old_n = aiq_designer_execution_list_model_n_items(self);
	g_hash_table_remove_all(self->ids);
	g_hash_table_remove_all(self->pages);
	g_ptr_array_set_size(self->head, 0);
	self->total = 0;
	self->snapshot_until_us = 0;
	if (old_n > 0) {
		g_list_model_items_changed(G_LIST_MODEL(self), 0, old_n, 0);
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_N_ITEMS]);
	}

	client = aiq_designer_session_get_client(self->session);
	if (client == NULL || !aiq_designer_session_get_logged_in(self->session)) {
		aiq_designer_execution_list_model_set_loading(self, FALSE);
		return;
	}
	aiq_designer_execution_list_model_set_loading(self, TRUE);
	aiq_designer_execution_list_model_query(self, &query);
	query.count = TRUE;
	req = g_new0(AiqDesignerExecutionRequest, 1);
	req->self = g_object_ref(self);
	req->generation = self->generation;
	self->in_flight++;
	aiq_client_list_executions_async(client,
					 &query,
					 self->cancellable,
					 aiq_designer_execution_list_model_first_cb,
					 req);
}

/**
 * aiq_designer_execution_list_model_set_filter:
 * @status: (nullable): only executions with this status
 * @workflow_id: (nullable): only executions of this workflow
 * @since_us: created at or after, µs since the epoch, or 0
 * @until_us: created before, or 0
 *
 * Sets the filter and reloads.
 */
void
aiq_designer_execution_list_model_set_filter(AiqDesignerExecutionListModel *self,
					     const gchar *status,
					     const gchar *workflow_id,
					     gint64 since_us,
					     gint64 until_us)
{
	g_return_if_fail(AIQ_DESIGNER_IS_EXECUTION_LIST_MODEL(self));
	g_free(self->status);
	self->status = g_strdup(status != NULL && status[0] != '\0' ? status : NULL);
	g_free(self->workflow_id);
	self->workflow_id =
		g_strdup(workflow_id != NULL && workflow_id[0] != '\0' ? workflow_id : NULL);
	self->since_us = since_us;
	self->until_us = until_us;
	aiq_designer_execution_list_model_reload(self);
}

static gboolean
aiq_designer_execution_list_model_matches(AiqDesignerExecutionListModel *self,
					  JsonObject *execution,
					  gint64 created)
{
	if (self->status != NULL &&
	    g_strcmp0(aiq_json_object_get_string(execution, "status"), self->status) != 0)
		return FALSE;
	if (self->workflow_id != NULL &&
	    g_strcmp0(aiq_json_object_get_string(execution, "workflow_id"), self->workflow_id) != 0)
		return FALSE;
	if (self->since_us != 0 && created < self->since_us)
		return FALSE;
	if (self->until_us != 0 && created >= self->until_us)
		return FALSE;
	return TRUE;
}

/**
 * aiq_designer_execution_list_model_handle_event:
 * @execution: the data of an `execution.updated` event
 *
 * An execution the model shows is updated in place; a new one that matches
 * the filter is inserted at the top.
 */
void
aiq_designer_execution_list_model_handle_event(AiqDesignerExecutionListModel *self,
					       JsonObject *execution)
{
	const gchar *id;
	AiqDesignerExecutionItem *item;
	g_autoptr(AiqDesignerExecutionItem) fresh = NULL;
	gint64 created = 0;

	g_return_if_fail(AIQ_DESIGNER_IS_EXECUTION_LIST_MODEL(self));
	g_return_if_fail(execution != NULL);

	id = aiq_json_object_get_string(execution, "id");
	if (id == NULL)
		return;
	item = g_hash_table_lookup(self->ids, id);
	if (item != NULL) {
		aiq_designer_execution_item_update_from_json(item, execution);
		return;
	}
	/* before the first count, the count will have it */
	if (self->loading || self->snapshot_until_us == 0 || self->error != NULL)
		return;
	if (!aiq_time_from_iso8601(aiq_json_object_get_string(execution, "created"),
				   &created,
				   NULL))
		return;
	/* older than the snapshot: it has a position among the pages */
	if (created < self->snapshot_until_us)
		return;
	if (!aiq_designer_execution_list_model_matches(self, execution, created))
		return;
	fresh = aiq_designer_execution_item_new();
	aiq_designer_execution_item_update_from_json(fresh, execution);
	g_hash_table_insert(self->ids, g_strdup(id), fresh);
	g_ptr_array_insert(self->head, 0, g_object_ref(fresh));
	g_list_model_items_changed(G_LIST_MODEL(self), 0, 0, 1);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_N_ITEMS]);
}

gboolean
aiq_designer_execution_list_model_get_loading(AiqDesignerExecutionListModel *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_LIST_MODEL(self), FALSE);
	return self->loading;
}

/**
 * aiq_designer_execution_list_model_get_error:
 *
 * Returns: (nullable): why the last request failed, until one works
 */
const GError *
aiq_designer_execution_list_model_get_error(AiqDesignerExecutionListModel *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_LIST_MODEL(self), NULL);
	return self->error;
}

guint
aiq_designer_execution_list_model_get_n_cached_pages(AiqDesignerExecutionListModel *self)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_EXECUTION_LIST_MODEL(self), 0);
	return g_hash_table_size(self->pages);
}

static void
aiq_designer_execution_list_model_get_property(GObject *object,
					       guint prop_id,
					       GValue *value,
					       GParamSpec *pspec)
{
	AiqDesignerExecutionListModel *self = AIQ_DESIGNER_EXECUTION_LIST_MODEL(object);
	switch (prop_id) {
	case PROP_SESSION:
		g_value_set_object(value, self->session);
		break;
	case PROP_LOADING:
		g_value_set_boolean(value, self->loading);
		break;
	case PROP_ERROR:
		g_value_set_string(value, self->error != NULL ? self->error->message : NULL);
		break;
	case PROP_N_ITEMS:
		g_value_set_uint(value, aiq_designer_execution_list_model_n_items(self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_execution_list_model_set_property(GObject *object,
					       guint prop_id,
					       const GValue *value,
					       GParamSpec *pspec)
{
	AiqDesignerExecutionListModel *self = AIQ_DESIGNER_EXECUTION_LIST_MODEL(object);
	switch (prop_id) {
	case PROP_SESSION:
		self->session = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
aiq_designer_execution_list_model_dispose(GObject *object)
{
	AiqDesignerExecutionListModel *self = AIQ_DESIGNER_EXECUTION_LIST_MODEL(object);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_handle_id(&self->pump_id, g_source_remove);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(aiq_designer_execution_list_model_parent_class)->dispose(object);
}

static void
aiq_designer_execution_list_model_finalize(GObject *object)
{
	AiqDesignerExecutionListModel *self = AIQ_DESIGNER_EXECUTION_LIST_MODEL(object);
	g_queue_clear(&self->pending);
	g_hash_table_unref(self->ids);
	g_hash_table_unref(self->pages);
	g_ptr_array_unref(self->head);
	g_free(self->status);
	g_free(self->workflow_id);
	g_clear_error(&self->error);
	G_OBJECT_CLASS(aiq_designer_execution_list_model_parent_class)->finalize(object);
}

static void
aiq_designer_execution_list_model_class_init(AiqDesignerExecutionListModelClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = aiq_designer_execution_list_model_get_property;
	object_class->set_property = aiq_designer_execution_list_model_set_property;
	object_class->dispose = aiq_designer_execution_list_model_dispose;
	object_class->finalize = aiq_designer_execution_list_model_finalize;
	props[PROP_SESSION] = g_param_spec_object("session",
						  NULL,
						  NULL,
						  AIQ_DESIGNER_TYPE_SESSION,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							  G_PARAM_STATIC_STRINGS);
	props[PROP_LOADING] = g_param_spec_boolean("loading",
						   NULL,
						   NULL,
						   FALSE,
						   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/* the message of the last failure, or NULL */
	props[PROP_ERROR] = g_param_spec_string("error",
						NULL,
						NULL,
						NULL,
						G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_N_ITEMS] = g_param_spec_uint("n-items",
						NULL,
						NULL,
						0,
						G_MAXUINT,
						0,
						G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
aiq_designer_execution_list_model_init(AiqDesignerExecutionListModel *self)
{
	self->head = g_ptr_array_new_with_free_func(g_object_unref);
	self->pages = g_hash_table_new_full(g_direct_hash,
					    g_direct_equal,
					    NULL,
					    (GDestroyNotify)aiq_designer_execution_page_free);
	self->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_queue_init(&self->pending);
}

AiqDesignerExecutionListModel *
aiq_designer_execution_list_model_new(AiqDesignerSession *session)
{
	g_return_val_if_fail(AIQ_DESIGNER_IS_SESSION(session), NULL);
	return g_object_new(AIQ_DESIGNER_TYPE_EXECUTION_LIST_MODEL, "session", session, NULL);
}
