/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * A tenant's data as a whole: its export (everything it owns, streamed as
 * one gzip-compressed JSON-lines file) and its erasure.
 *
 * The export is one line per row, `{"type": …, "data": {…}}`: a header
 * first, then the store's rows in the order of aiq_store_export_tenant(),
 * then the executions archived under DATA_DIR/archive/TENANT/, and an
 * `end` line with the counts (a file without it was cut short). Rows are
 * read a page at a time and compressed as they go out; the client's pace
 * holds the reading back (aiq_request_stream_write()), so an export of any
 * size takes a few pages of memory.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "aiq-error.h"
#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-queue.h"
#include "aiq-routes.h"
#include "aiq-store-identity.h"
#include "aiq-store-tenant-data.h"
#include "aiq-util.h"

/* compressed bytes sent per chunk */
#define AIQ_EXPORT_CHUNK (64 * 1024)

/* the export */

typedef struct {
	AiqRequest *req;
	GConverter *compressor;
	guint8 *out;
	gsize out_len;
	GString *line;
	guint64 lines;
	guint64 bytes;      /* compressed, handed over */
	GHashTable *counts; /* type -> GUINT_TO_POINTER(count) */
	JsonArray *errors;
} AiqExport;

static void
aiq_export_free(AiqExport *ex)
{
	g_clear_object(&ex->compressor);
	g_free(ex->out);
	g_string_free(ex->line, TRUE);
	g_hash_table_unref(ex->counts);
	json_array_unref(ex->errors);
	g_free(ex);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqExport, aiq_export_free)

static gboolean
aiq_export_flush(AiqExport *ex, GError **error)
{
	g_autoptr(GBytes) chunk = NULL;
	if (ex->out_len == 0)
		return TRUE;
	chunk = g_bytes_new(ex->out, ex->out_len);
	ex->bytes += ex->out_len;
	ex->out_len = 0;
	return aiq_request_stream_write(ex->req, chunk, error);
}

/* compresses @len bytes of @data into the chunk being filled, sending it
 * when full; @last ends the gzip stream */
static gboolean
aiq_export_compress(AiqExport *ex, const gchar *data, gsize len, gboolean last, GError **error)
{
	for (;;) {
		g_autoptr(GError) error_local = NULL;
		gsize n_read = 0;
		gsize n_written = 0;
		GConverterResult result;

		if (ex->out_len == AIQ_EXPORT_CHUNK && !aiq_export_flush(ex, error))
			return FALSE;
		result = g_converter_convert(ex->compressor,
					     data,
					     len,
					     ex->out + ex->out_len,
					     AIQ_EXPORT_CHUNK - ex->out_len,
					     last ? G_CONVERTER_INPUT_AT_END : G_CONVERTER_NO_FLAGS,
					     &n_read,
					     &n_written,
					     &error_local);
		if (result == G_CONVERTER_ERROR) {
			/* no room for the next piece: send the chunk first */
			if (g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_NO_SPACE) &&
			    ex->out_len > 0) {
				if (!aiq_export_flush(ex, error))
					return FALSE;
				continue;
			}
			g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		}
		ex->out_len += n_written;
		data += n_read;
		len -= n_read;
		if (result == G_CONVERTER_FINISHED)
			return aiq_export_flush(ex, error);
		if (!last && len == 0)
			return TRUE;
	}
}

/* one line: {"type": @type, "data": @data} */
static gboolean
aiq_export_put(AiqExport *ex, const gchar *type, JsonObject *data, GError **error)
{
	g_autoptr(JsonNode) node = NULL;
	JsonObject *root = json_object_new();
	json_object_set_string_member(root, "type", type);
	json_object_set_object_member(root, "data", json_object_ref(data));
	node = aiq_json_new_object(root);
	g_string_truncate(ex->line, 0);
	aiq_json_append(ex->line, node);
	g_string_append_c(ex->line, '\n');
	if (!aiq_export_compress(ex, ex->line->str, ex->line->len, FALSE, error))
		return FALSE;
	if (g_strcmp0(type, "header") != 0 && g_strcmp0(type, "end") != 0) {
		guint count = GPOINTER_TO_UINT(g_hash_table_lookup(ex->counts, type));
		g_hash_table_replace(ex->counts, g_strdup(type), GUINT_TO_POINTER(count + 1));
		ex->lines++;
	}
	return TRUE;
}

static gboolean
aiq_export_row_cb(const gchar *type, JsonObject *data, gpointer user_data, GError **error)
{
	return aiq_export_put(user_data, type, data, error);
}

static void
aiq_export_add_error(AiqExport *ex, const gchar *archive, const gchar *message)
{
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "archive", archive);
	json_object_set_string_member(obj, "error", message);
	json_array_add_object_element(ex->errors, obj);
}

/* the executions of one archive file, a line at a time */
static gboolean
aiq_export_archive_file(AiqExport *ex,
			const gchar *tenant_id,
			GFile *file,
			const gchar *name,
			GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GFileInputStream) input = g_file_read(file, NULL, &error_local);
	g_autoptr(GConverter) decompressor = NULL;
	g_autoptr(GInputStream) converted = NULL;
	g_autoptr(GDataInputStream) lines = NULL;
	g_autofree gchar *archive = g_strdup_printf("%s/%s", tenant_id, name);

	if (input == NULL)
		goto fail;
	decompressor = G_CONVERTER(g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP));
	converted = g_converter_input_stream_new(G_INPUT_STREAM(input), decompressor);
	lines = g_data_input_stream_new(converted);
	g_buffered_input_stream_set_buffer_size(G_BUFFERED_INPUT_STREAM(lines), 64 * 1024);
	for (;;) {
		g_autofree gchar *line = NULL;
		g_autoptr(JsonNode) node = NULL;
		gsize len = 0;

		line = g_data_input_stream_read_line_utf8(lines, &len, NULL, &error_local);
		if (line == NULL) {
			if (error_local != NULL)
				goto fail;
			return TRUE;
		}
		if (len == 0)
			continue;
		node = aiq_json_parse(line, len, 2 * AIQ_JSON_MAX_DEPTH, &error_local);
		if (node == NULL)
			goto fail;
		if (!JSON_NODE_HOLDS_OBJECT(node)) {
			g_set_error_literal(&error_local,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_DOCUMENT,
					    _("a line is not a JSON object"));
			goto fail;
		}
		if (!aiq_export_put(ex, "archived_execution", json_node_get_object(node), error))
			return FALSE;
	}
fail:
	/* one bad archive does not stop the export: the end line names it */
	g_message("export of tenant %s: archive %s: %s", tenant_id, archive, error_local->message);
	aiq_export_add_error(ex, archive, error_local->message);
	return TRUE;
}

static gint
aiq_export_compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* DATA_DIR/archive/TENANT/DAY.jsonl.gz, oldest day first */
static gboolean
aiq_export_archives(AiqExport *ex, AiqServer *server, const gchar *tenant_id, GError **error)
{
	AiqServerConfig *config = aiq_server_get_config(server);
	g_autofree gchar *path = g_build_filename(config->data_dir, "archive", tenant_id, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GDir) dir = g_dir_open(path, 0, &error_local);
	const gchar *name;

	if (dir == NULL) {
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_message("export of tenant %s: %s", tenant_id, error_local->message);
		aiq_export_add_error(ex, tenant_id, error_local->message);
		return TRUE;
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_suffix(name, ".jsonl.gz"))
			g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, aiq_export_compare_names);
	for (guint i = 0; i < names->len; i++) {
		const gchar *file_name = g_ptr_array_index(names, i);
		g_autofree gchar *file_path = g_build_filename(path, file_name, NULL);
		g_autoptr(GFile) file = g_file_new_for_path(file_path);
		if (!aiq_export_archive_file(ex, tenant_id, file, file_name, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_export_run(AiqExport *ex,
	       AiqServer *server,
	       const AiqTenant *tenant,
	       gint64 now_us,
	       GError **error)
{
	g_autoptr(JsonObject) header = json_object_new();
	g_autoptr(JsonObject) end = json_object_new();
	g_autofree gchar *exported = aiq_time_to_iso8601(now_us);
	JsonObject *counts = json_object_new();
	GHashTableIter iter;
	gpointer key;
	gpointer value;

	json_object_set_string_member(header, "format", AIQ_TENANT_EXPORT_FORMAT);
	json_object_set_int_member(header, "version", AIQ_TENANT_EXPORT_VERSION);
	json_object_set_string_member(header, "tenant", tenant->id);
	json_object_set_string_member(header, "exported", exported);
	if (!aiq_export_put(ex, "header", header, error) ||
	    !aiq_store_export_tenant(aiq_server_get_store(server),
				     tenant->id,
				     aiq_export_row_cb,
				     ex,
				     error) ||
	    !aiq_export_archives(ex, server, tenant->id, error))
		return FALSE;

	g_hash_table_iter_init(&iter, ex->counts);
	while (g_hash_table_iter_next(&iter, &key, &value))
		json_object_set_int_member(counts, key, GPOINTER_TO_UINT(value));
	json_object_set_int_member(end, "lines", (gint64)ex->lines);
	json_object_set_object_member(end, "counts", counts);
	json_object_set_array_member(end, "errors", json_array_ref(ex->errors));
	return aiq_export_put(ex, "end", end, error) &&
	       aiq_export_compress(ex, NULL, 0, TRUE, error);
}

/* a tenant admin sees its own tenant, a platform admin any */
static AiqTenant *
aiq_tenant_data_load(AiqRequest *req, GError **error)
{
	AiqPrincipal *p = aiq_request_get_principal(req);
	const gchar *id = aiq_request_get_param(req, "id");
	AiqStore *store = aiq_server_get_store(aiq_request_get_server(req));
	if (p->role != AIQ_ROLE_PLATFORM_ADMIN && g_strcmp0(p->tenant_id, id) != 0) {
		g_set_error(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND, _("no tenant “%s”"), id);
		return NULL;
	}
	return aiq_store_get_tenant(store, id, error);
}

static void
aiq_route_tenant_export(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqGovernance *gov = aiq_governance_get(server);
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTenant) tenant = NULL;
	g_autoptr(AiqExport) ex = NULL;
	g_autoptr(GDateTime) now = NULL;
	g_autoptr(GFileInfo) info = NULL;
	g_autofree gchar *day = NULL;
	g_autofree gchar *file_name = NULL;
	g_autofree gchar *disposition = NULL;
	gint64 now_us = aiq_server_now(server);
	gboolean ok;

	tenant = aiq_tenant_data_load(req, &error);
	if (tenant == NULL) {
		aiq_request_respond_gerror(req, error);
		aiq_governance_audit_request(gov, req, "tenant.export");
		aiq_request_finish(req);
		return;
	}
	now = g_date_time_new_from_unix_utc(now_us / G_USEC_PER_SEC);
	day = g_date_time_format(now, "%Y-%m-%d");
	file_name = g_strdup_printf("%s-%s.jsonl", tenant->slug, day);
	disposition = g_strdup_printf("attachment; filename=\"%s.gz\"", file_name);
	aiq_request_set_header(req, "Content-Disposition", disposition);
	aiq_request_set_audit_target(req, "tenant", tenant->id);

	ex = g_new0(AiqExport, 1);
	ex->req = req;
	/* the fastest level: an export is bound by this worker's CPU (level 6
	 * took twice as long for 3 % less), and JSON lines still shrink
	 * several times over */
	ex->compressor = G_CONVERTER(g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 1));
	info = g_file_info_new();
	g_file_info_set_name(info, file_name);
	g_zlib_compressor_set_file_info(G_ZLIB_COMPRESSOR(ex->compressor), info);
	ex->out = g_malloc(AIQ_EXPORT_CHUNK);
	ex->line = g_string_sized_new(4096);
	ex->counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	ex->errors = json_array_new();

	aiq_request_stream_begin(req, SOUP_STATUS_OK, "application/gzip");
	ok = aiq_export_run(ex, server, tenant, now_us, &error);
	aiq_request_add_audit_detail(req, "lines", aiq_json_new_int((gint64)ex->lines));
	aiq_request_add_audit_detail(req, "complete", aiq_json_new_bool(ok));
	aiq_governance_audit_request(gov, req, "tenant.export");
	if (!ok) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
		    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
			g_info("export of tenant %s stopped after %" G_GUINT64_FORMAT " lines: %s",
			       tenant->slug,
			       ex->lines,
			       error->message);
		else
			g_warning("export of tenant %s failed after %" G_GUINT64_FORMAT
				  " lines: %s",
				  tenant->slug,
				  ex->lines,
				  error->message);
		aiq_request_stream_abort(req);
		return;
	}
	g_info("exported tenant %s: %" G_GUINT64_FORMAT " lines, %" G_GUINT64_FORMAT " bytes",
	       tenant->slug,
	       ex->lines,
	       ex->bytes);
	aiq_request_stream_end(req);
}

/* erasure */

/* removes @path and everything under it, never following a link */
static gboolean
aiq_tenant_data_remove_tree(GFile *file, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	GFileType type = g_file_query_file_type(file, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL);
	if (type == G_FILE_TYPE_DIRECTORY) {
		g_autoptr(GFileEnumerator) children =
			g_file_enumerate_children(file,
						  G_FILE_ATTRIBUTE_STANDARD_NAME,
						  G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
						  NULL,
						  error);
		if (children == NULL)
			return FALSE;
		for (;;) {
			GFile *child = NULL;
			if (!g_file_enumerator_iterate(children, NULL, &child, NULL, error))
				return FALSE;
			if (child == NULL)
				break;
			if (!aiq_tenant_data_remove_tree(child, error))
				return FALSE;
		}
	}
	if (!g_file_delete(file, NULL, &error_local) &&
	    !g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	return TRUE;
}

static void
aiq_tenant_data_forget_job(const gchar *job_id,
			   const gchar *execution_id,
			   const gchar *state,
			   gpointer user_data)
{
	AiqQueue *queue = user_data;
	if (g_strcmp0(state, "leased") == 0)
		aiq_queue_finished(queue, execution_id);
	else
		aiq_queue_remove(queue, job_id);
}

static void
aiq_route_tenant_erase(AiqRequest *req)
{
	AiqServer *server = aiq_request_get_server(req);
	AiqStore *store = aiq_server_get_store(server);
	AiqGovernance *gov = aiq_governance_get(server);
	const gchar *id = aiq_request_get_param(req, "id");
	g_autoptr(GError) error = NULL;
	g_autoptr(AiqTenant) tenant = NULL;
	g_autoptr(GFile) archive = NULL;
	g_autofree gchar *archive_path = NULL;
	guint64 rows = 0;
	guint64 late_rows = 0;

	tenant = aiq_store_get_tenant(store, id, &error);
	if (tenant == NULL)
		goto fail;
	aiq_request_set_audit_target(req, "tenant", tenant->id);
	aiq_request_add_audit_detail(req, "slug", aiq_json_new_string(tenant->slug));
	if (g_strcmp0(tenant->slug, AIQ_PLATFORM_TENANT_SLUG) == 0 ||
	    g_strcmp0(tenant->id, aiq_governance_get_platform_tenant_id(gov)) == 0 ||
	    g_strcmp0(tenant->id, aiq_request_get_tenant_id(req)) == 0) {
		aiq_request_respond_error(req,
					  SOUP_STATUS_CONFLICT,
					  "conflict",
					  _("the platform tenant can never be erased"),
					  NULL);
		return;
	}
	if (g_strcmp0(tenant->status, "suspended") != 0) {
		aiq_request_respond_error(
			req,
			SOUP_STATUS_CONFLICT,
			"conflict",
			_("suspend the tenant first (PATCH /api/v1/tenants/{id} with "
			  "{\"status\": \"suspended\"}), then erase it"),
			NULL);
		return;
	}
	/* its ids must stay inside DATA_DIR/archive */
	if (!aiq_id_is_valid(tenant->id)) {
		g_set_error(&error, AIQ_ERROR, AIQ_ERROR_FAILED, "tenant id %s is not an id", id);
		goto fail;
	}

	g_info("erasing tenant %s (%s)", tenant->slug, tenant->id);
	/* nothing of it is queued any more, then none of its rows is left,
	 * then its archives go, and its row last: a failure half-way leaves
	 * a suspended tenant to erase again */
	if (!aiq_store_foreach_open_job(store,
					tenant->id,
					aiq_tenant_data_forget_job,
					aiq_queue_get(server),
					&error) ||
	    !aiq_store_erase_tenant_rows(store, tenant->id, &rows, &error))
		goto fail;
	archive_path = g_build_filename(aiq_server_get_config(server)->data_dir,
					"archive",
					tenant->id,
					NULL);
	archive = g_file_new_for_path(archive_path);
	if (!aiq_tenant_data_remove_tree(archive, &error)) {
		g_prefix_error(&error, "%s: ", archive_path);
		goto fail;
	}
	if (!aiq_store_delete_erased_tenant(store, tenant->id, &late_rows, &error))
		goto fail;
	/* again: a retention pass that was on the tenant may have written a
	 * day's file meanwhile; none starts on it now that its row is gone */
	if (!aiq_tenant_data_remove_tree(archive, &error)) {
		g_prefix_error(&error, "%s: ", archive_path);
		goto fail;
	}
	aiq_governance_invalidate(gov, tenant->id);
	aiq_auth_invalidate(aiq_server_get_auth(server));
	aiq_request_add_audit_detail(req, "rows", aiq_json_new_int((gint64)(rows + late_rows)));
	g_info("erased tenant %s (%s): %" G_GUINT64_FORMAT " rows",
	       tenant->slug,
	       tenant->id,
	       rows + late_rows);
	aiq_request_respond_json(req, SOUP_STATUS_NO_CONTENT, NULL);
	return;
fail:
	aiq_request_respond_gerror(req, error);
}

static const AiqRoute aiq_tenant_data_routes[] = {
	{ "GET",
	  "/api/v1/tenants/{id}/export",
	  AIQ_ROLE_TENANT_ADMIN,
	  AIQ_ROUTE_ASYNC,
	  aiq_route_tenant_export,
	  0,
	  "everything a tenant owns, as gzip-compressed JSON lines",
	  "tenant.export" },
	{ "DELETE",
	  "/api/v1/tenants/{id}",
	  AIQ_ROLE_PLATFORM_ADMIN,
	  AIQ_ROUTE_WORKER,
	  aiq_route_tenant_erase,
	  0,
	  "erase a suspended tenant and everything it owns",
	  "tenant.erase" },
};

void
aiq_routes_tenant_data_register(AiqServer *server)
{
	aiq_server_add_routes(server, aiq_tenant_data_routes, G_N_ELEMENTS(aiq_tenant_data_routes));
}
