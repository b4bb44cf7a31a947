/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Retention: the daily job that moves the executions past each tenant's
 * hot retention into compressed JSON-lines archives, one file per tenant
 * per UTC day of their creation,
 *
 *   DATA_DIR/archive/<tenant_id>/<YYYY-MM-DD>.jsonl.gz
 *
 * deletes the archives past the cold retention, and prunes the audit log.
 *
 * A day's file is written whole to a temporary file beside it (what it held
 * before, copied as it is, then one new gzip member with the new lines:
 * concatenated members are one valid gzip stream), flushed to disk and
 * renamed over it; only then are its executions recorded in
 * execution_archive and deleted from the hot store, a batch per write, so
 * that requests are answered between batches. The job runs on a thread of
 * its own, never on the HTTP threads.
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "aiq-api.h"
#include "aiq-error.h"
#include "aiq-governance.h"
#include "aiq-json.h"
#include "aiq-retention.h"
#include "aiq-routes.h"
#include "aiq-store-audit.h"
#include "aiq-store-identity.h"
#include "aiq-store-retention.h"
#include "aiq-util.h"

/* the first pass, a while after the server starts, then one a day */
#define AIQ_RETENTION_FIRST_DELAY_US ((gint64)5 * 60 * G_USEC_PER_SEC)
#define AIQ_RETENTION_INTERVAL_US AIQ_STORE_DAY_US
/* audit records deleted per write */
#define AIQ_RETENTION_AUDIT_BATCH 500

#define AIQ_ARCHIVE_SUFFIX ".jsonl.gz"
#define AIQ_ARCHIVE_TMP_SUFFIX ".jsonl.gz.tmp"

typedef struct {
	AiqServer *server;
	GMutex run_mutex; /* one pass at a time */
	GMutex mutex;
	GCond cond;
	gboolean stopping; /* under @mutex */
	GThread *thread;
	GCancellable *cancellable;
} AiqRetention;

static void
aiq_retention_free(AiqRetention *self)
{
	g_mutex_clear(&self->run_mutex);
	g_mutex_clear(&self->mutex);
	g_cond_clear(&self->cond);
	g_clear_object(&self->cancellable);
	g_free(self);
}

static AiqRetention *
aiq_retention_get(AiqServer *server)
{
	return aiq_server_get_module(server, "retention");
}

/**
 * aiq_retention_day_to_string:
 * @day: days since 1970-01-01, UTC
 *
 * Returns: (transfer full): the day as YYYY-MM-DD
 */
gchar *
aiq_retention_day_to_string(gint64 day)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(day * 86400);
	g_return_val_if_fail(dt != NULL, NULL);
	return g_date_time_format(dt, "%Y-%m-%d");
}

/* the day of an archive file's name, or -1 when it is not one */
static gint64
aiq_retention_day_from_name(const gchar *name, const gchar *suffix)
{
	g_autofree gchar *again = NULL;
	g_autoptr(GDateTime) dt = NULL;
	gint year = 0;
	gint month = 0;
	gint mday = 0;
	gint64 day;

	if (!g_str_has_suffix(name, suffix) || strlen(name) != 10 + strlen(suffix) ||
	    sscanf(name, "%4d-%2d-%2d", &year, &month, &mday) != 3)
		return -1;
	dt = g_date_time_new_utc(year, month, mday, 0, 0, 0);
	if (dt == NULL)
		return -1;
	day = g_date_time_to_unix(dt) / 86400;
	again = aiq_retention_day_to_string(day);
	if (again == NULL || strncmp(again, name, 10) != 0)
		return -1;
	return day;
}

/* tenant ids are made by the server; one that could leave the archive
 * directory is refused rather than used in a path */
static gboolean
aiq_retention_check_tenant_id(const gchar *tenant_id, GError **error)
{
	if (tenant_id[0] == '\0' || tenant_id[0] == '.')
		goto bad;
	for (const gchar *p = tenant_id; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			goto bad;
	}
	return TRUE;
bad:
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_FAILED,
		    _("tenant id “%s”: not usable as a directory name"),
		    tenant_id);
	return FALSE;
}

static gchar *
aiq_retention_tenant_dir(AiqServer *server, const gchar *tenant_id)
{
	return g_build_filename(aiq_server_get_config(server)->data_dir,
				"archive",
				tenant_id,
				NULL);
}

static gboolean
aiq_retention_set_errno(gint errsv, const gchar *path, GError **error)
{
	g_set_error(error,
		    G_IO_ERROR,
		    g_io_error_from_errno(errsv),
		    "%s: %s",
		    path,
		    g_strerror(errsv));
	return FALSE;
}

/* a rename or an unlink in @dir is on disk */
static gboolean
aiq_retention_sync_dir(const gchar *dir, GError **error)
{
	gint fd = g_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return aiq_retention_set_errno(errno, dir, error);
	if (fsync(fd) != 0) {
		gint errsv = errno;
		close(fd);
		return aiq_retention_set_errno(errsv, dir, error);
	}
	close(fd);
	return TRUE;
}

/* one day's archive file being written */

typedef struct {
	gchar *dir;
	gchar *path;
	gchar *tmp_path;
	gint64 day;
	gint fd;
	GOutputStream *file; /* on @fd */
	GOutputStream *gzip; /* the new member, over @file */
	GPtrArray *ids;      /* of the executions in the new member */
} AiqArchiveDay;

static void
aiq_archive_day_free(AiqArchiveDay *self)
{
	if (self == NULL)
		return;
	if (self->gzip != NULL)
		g_output_stream_close(self->gzip, NULL, NULL);
	g_clear_object(&self->gzip);
	if (self->file != NULL)
		g_output_stream_close(self->file, NULL, NULL);
	g_clear_object(&self->file);
	/* not committed: the file it would replace stays as it was */
	if (self->tmp_path != NULL)
		g_unlink(self->tmp_path);
	g_free(self->dir);
	g_free(self->path);
	g_free(self->tmp_path);
	g_ptr_array_unref(self->ids);
	g_free(self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqArchiveDay, aiq_archive_day_free)

/* the day's file as it is now, copied into the temporary file */
static gboolean
aiq_archive_day_copy_existing(AiqArchiveDay *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(GInputStream) in = NULL;
	gint fd = g_open(self->path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return TRUE;
		return aiq_retention_set_errno(errno, self->path, error);
	}
	in = g_unix_input_stream_new(fd, TRUE);
	if (g_output_stream_splice(self->file,
				   in,
				   G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE,
				   cancellable,
				   error) < 0) {
		g_prefix_error(error, "%s: ", self->path);
		return FALSE;
	}
	return TRUE;
}

static AiqArchiveDay *
aiq_archive_day_open(const gchar *dir, gint64 day, GCancellable *cancellable, GError **error)
{
	g_autoptr(AiqArchiveDay) self = g_new0(AiqArchiveDay, 1);
	g_autofree gchar *name = aiq_retention_day_to_string(day);
	g_autoptr(GZlibCompressor) compressor = NULL;

	self->dir = g_strdup(dir);
	self->day = day;
	self->fd = -1;
	self->ids = g_ptr_array_new_with_free_func(g_free);
	self->path = g_strconcat(dir, G_DIR_SEPARATOR_S, name, AIQ_ARCHIVE_SUFFIX, NULL);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		aiq_retention_set_errno(errno, dir, error);
		return NULL;
	}
	self->tmp_path = g_strconcat(dir, G_DIR_SEPARATOR_S, name, AIQ_ARCHIVE_TMP_SUFFIX, NULL);
	self->fd = g_open(self->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (self->fd < 0) {
		aiq_retention_set_errno(errno, self->tmp_path, error);
		g_clear_pointer(&self->tmp_path, g_free);
		return NULL;
	}
	self->file = g_unix_output_stream_new(self->fd, TRUE);
	if (!aiq_archive_day_copy_existing(self, cancellable, error))
		return NULL;
	compressor = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
	self->gzip = g_converter_output_stream_new(self->file, G_CONVERTER(compressor));
	g_filter_output_stream_set_close_base_stream(G_FILTER_OUTPUT_STREAM(self->gzip), FALSE);
	return g_steal_pointer(&self);
}

/* the archive line of an execution: the API form of GET
 * /api/v1/executions/{id} (with its steps), plus its events */
static gchar *
aiq_retention_record_to_line(AiqExecutionRecord *record)
{
	g_autoptr(JsonNode) node = aiq_execution_row_to_json(record->execution, record->steps);
	JsonArray *events = json_array_sized_new(record->events->len);
	for (guint i = 0; i < record->events->len; i++)
		json_array_add_element(events,
				       aiq_event_to_json(g_ptr_array_index(record->events, i)));
	json_object_set_array_member(json_node_get_object(node), "events", events);
	return aiq_json_to_string(node, FALSE);
}

static gboolean
aiq_archive_day_add(AiqArchiveDay *self,
		    AiqExecutionRecord *record,
		    GCancellable *cancellable,
		    GError **error)
{
	g_autofree gchar *line = aiq_retention_record_to_line(record);
	if (!g_output_stream_write_all(self->gzip, line, strlen(line), NULL, cancellable, error) ||
	    !g_output_stream_write_all(self->gzip, "\n", 1, NULL, cancellable, error)) {
		g_prefix_error(error, "%s: ", self->tmp_path);
		return FALSE;
	}
	g_ptr_array_add(self->ids, g_strdup(record->execution->id));
	return TRUE;
}

/* ends the new member, puts the file on disk and renames it over the
 * day's file */
static gboolean
aiq_archive_day_commit(AiqArchiveDay *self, GError **error)
{
	if (!g_output_stream_close(self->gzip, NULL, error)) {
		g_prefix_error(error, "%s: ", self->tmp_path);
		return FALSE;
	}
	if (fsync(self->fd) != 0)
		return aiq_retention_set_errno(errno, self->tmp_path, error);
	if (!g_output_stream_close(self->file, NULL, error)) {
		g_prefix_error(error, "%s: ", self->tmp_path);
		return FALSE;
	}
	if (g_rename(self->tmp_path, self->path) != 0)
		return aiq_retention_set_errno(errno, self->path, error);
	g_clear_pointer(&self->tmp_path, g_free);
	return aiq_retention_sync_dir(self->dir, error);
}

/* the pass */

typedef struct {
	AiqServer *server;
	AiqStore *store;
	AiqRetentionReport *report;
	GCancellable *cancellable;
	gint64 now_us;
} AiqRetentionPass;

/* the executions of a committed day file leave the hot store, a batch per
 * write; this is not cancelled half-way, or they would be archived twice */
static gboolean
aiq_retention_delete_day(AiqRetentionPass *pass,
			 const gchar *tenant_id,
			 AiqArchiveDay *day,
			 GError **error)
{
	for (guint start = 0; start < day->ids->len; start += AIQ_RETENTION_BATCH) {
		guint end = MIN(start + AIQ_RETENTION_BATCH, day->ids->len);
		g_autoptr(GPtrArray) batch = g_ptr_array_sized_new(end - start);
		guint n = 0;
		for (guint i = start; i < end; i++)
			g_ptr_array_add(batch, g_ptr_array_index(day->ids, i));
		if (!aiq_store_archive_executions(pass->store,
						  tenant_id,
						  batch,
						  day->day,
						  aiq_server_now(pass->server),
						  &n,
						  error))
			return FALSE;
		pass->report->executions_archived += n;
		if (pass->report->batch_func != NULL)
			pass->report->batch_func(pass->report, pass->report->batch_data);
	}
	return TRUE;
}

static gboolean
aiq_retention_finish_day(AiqRetentionPass *pass,
			 const gchar *tenant_id,
			 AiqArchiveDay *day,
			 GError **error)
{
	if (day->ids->len == 0)
		return TRUE;
	if (!aiq_archive_day_commit(day, error))
		return FALSE;
	pass->report->files_written++;
	return aiq_retention_delete_day(pass, tenant_id, day, error);
}

/* the tenant's finished executions created before its hot retention,
 * oldest first, into the files of their days */
static gboolean
aiq_retention_archive_tenant(AiqRetentionPass *pass, const gchar *tenant_id, GError **error)
{
	AiqGovernance *gov = aiq_governance_get(pass->server);
	g_autofree gchar *dir = aiq_retention_tenant_dir(pass->server, tenant_id);
	g_autofree gchar *after_id = g_strdup("");
	g_autoptr(AiqArchiveDay) day = NULL;
	gint64 after_created = G_MININT64;
	AiqLimits limits;
	gint64 before_us;

	/* the limits as they are now, not as cached for the rate limiter */
	aiq_governance_invalidate(gov, tenant_id);
	if (!aiq_governance_get_limits(gov, tenant_id, &limits, error))
		return FALSE;
	before_us = pass->now_us - limits.values[AIQ_LIMIT_RETENTION_DAYS] * AIQ_STORE_DAY_US;

	for (;;) {
		g_autoptr(GPtrArray) page = aiq_store_list_archive_candidates(pass->store,
									      tenant_id,
									      before_us,
									      after_created,
									      after_id,
									      AIQ_RETENTION_BATCH,
									      error);
		AiqArchiveCandidate *last;
		if (page == NULL)
			return FALSE;
		for (guint i = 0; i < page->len; i++) {
			AiqArchiveCandidate *candidate = g_ptr_array_index(page, i);
			g_autoptr(AiqExecutionRecord) record = NULL;
			g_autoptr(GError) error_local = NULL;
			gint64 d = candidate->created_us / AIQ_STORE_DAY_US;

			if (g_cancellable_set_error_if_cancelled(pass->cancellable, error))
				return FALSE;
			if (day != NULL && day->day != d) {
				if (!aiq_retention_finish_day(pass, tenant_id, day, error))
					return FALSE;
				g_clear_pointer(&day, aiq_archive_day_free);
			}
			if (day == NULL) {
				day = aiq_archive_day_open(dir, d, pass->cancellable, error);
				if (day == NULL)
					return FALSE;
			}
			record = aiq_store_read_execution_record(pass->store,
								 tenant_id,
								 candidate->id,
								 &error_local);
			if (record == NULL) {
				/* gone meanwhile: nothing to keep */
				if (g_error_matches(error_local, AIQ_ERROR, AIQ_ERROR_NOT_FOUND))
					continue;
				g_propagate_error(error, g_steal_pointer(&error_local));
				return FALSE;
			}
			if (!aiq_execution_status_is_final_str(record->execution->status))
				continue;
			if (!aiq_archive_day_add(day, record, pass->cancellable, error))
				return FALSE;
		}
		if (page->len < AIQ_RETENTION_BATCH)
			break;
		last = g_ptr_array_index(page, page->len - 1);
		after_created = last->created_us;
		g_free(after_id);
		after_id = g_strdup(last->id);
	}
	if (day != NULL && !aiq_retention_finish_day(pass, tenant_id, day, error))
		return FALSE;
	return TRUE;
}

/* the tenant's archives of days past the cold retention: their index rows,
 * then their files (and what a pass that died left half-written) */
static gboolean
aiq_retention_expire_tenant(AiqRetentionPass *pass, const gchar *tenant_id, GError **error)
{
	AiqServerConfig *config = aiq_server_get_config(pass->server);
	g_autofree gchar *dir = aiq_retention_tenant_dir(pass->server, tenant_id);
	gint64 before_day = pass->now_us / AIQ_STORE_DAY_US - config->archive_retention_days;
	g_autoptr(GDir) entries = NULL;
	g_autoptr(GError) error_local = NULL;
	guint64 n_rows = 0;
	gboolean removed = FALSE;
	const gchar *name;

	if (!aiq_store_delete_archive_rows(pass->store,
					   tenant_id,
					   before_day,
					   AIQ_RETENTION_BATCH,
					   &n_rows,
					   error))
		return FALSE;
	pass->report->archive_rows_deleted += n_rows;

	entries = g_dir_open(dir, 0, &error_local);
	if (entries == NULL) {
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	while ((name = g_dir_read_name(entries)) != NULL) {
		g_autofree gchar *path = g_build_filename(dir, name, NULL);
		gboolean stale = aiq_retention_day_from_name(name, AIQ_ARCHIVE_TMP_SUFFIX) >= 0;
		gint64 day = aiq_retention_day_from_name(name, AIQ_ARCHIVE_SUFFIX);
		if (!stale && (day < 0 || day >= before_day))
			continue;
		if (g_unlink(path) != 0)
			return aiq_retention_set_errno(errno, path, error);
		if (!stale) {
			g_info("retention: deleted the archive %s, past %" PRId64 " days",
			       path,
			       config->archive_retention_days);
			pass->report->archives_deleted++;
		}
		removed = TRUE;
	}
	if (removed)
		return aiq_retention_sync_dir(dir, error);
	return TRUE;
}

static gboolean
aiq_retention_prune_audit(AiqRetentionPass *pass, GError **error)
{
	AiqServerConfig *config = aiq_server_get_config(pass->server);
	gint64 before_us = pass->now_us - config->audit_retention_days * AIQ_STORE_DAY_US;
	guint64 n = 0;

	if (g_cancellable_set_error_if_cancelled(pass->cancellable, error))
		return FALSE;
	/* every tenant's, a batch per write until none is left */
	if (!aiq_store_prune_audit(pass->store, before_us, AIQ_RETENTION_AUDIT_BATCH, &n, error))
		return FALSE;
	pass->report->audit_pruned = n;
	return TRUE;
}

static GPtrArray *
aiq_retention_list_tenant_ids(AiqStore *store, GError **error)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *cursor = NULL;
	do {
		g_autofree gchar *next = NULL;
		g_autoptr(GPtrArray) page =
			aiq_store_list_tenants(store, cursor, 500, &next, error);
		if (page == NULL)
			return NULL;
		for (guint i = 0; i < page->len; i++) {
			AiqTenant *tenant = g_ptr_array_index(page, i);
			g_ptr_array_add(ids, g_strdup(tenant->id));
		}
		g_free(cursor);
		cursor = g_steal_pointer(&next);
	} while (cursor != NULL);
	return g_steal_pointer(&ids);
}

static gboolean
aiq_retention_run_pass(AiqRetentionPass *pass, GError **error)
{
	g_autoptr(GPtrArray) tenant_ids = aiq_retention_list_tenant_ids(pass->store, error);
	if (tenant_ids == NULL)
		return FALSE;
	for (guint i = 0; i < tenant_ids->len; i++) {
		const gchar *tenant_id = g_ptr_array_index(tenant_ids, i);
		if (!aiq_retention_check_tenant_id(tenant_id, error) ||
		    !aiq_retention_archive_tenant(pass, tenant_id, error)) {
			g_prefix_error(error,
				       _("archiving the executions of tenant %s: "),
				       tenant_id);
			return FALSE;
		}
	}
	for (guint i = 0; i < tenant_ids->len; i++) {
		const gchar *tenant_id = g_ptr_array_index(tenant_ids, i);
		if (!aiq_retention_expire_tenant(pass, tenant_id, error)) {
			g_prefix_error(error,
				       _("deleting the old archives of tenant %s: "),
				       tenant_id);
			return FALSE;
		}
	}
	return aiq_retention_prune_audit(pass, error);
}

/* a pass that changed anything is recorded in the platform's audit log,
 * done by the system */
static void
aiq_retention_audit(AiqRetentionPass *pass)
{
	AiqRetentionReport *report = pass->report;
	const gchar *platform_id =
		aiq_governance_get_platform_tenant_id(aiq_governance_get(pass->server));
	AiqAuditRecord *record;
	JsonObject *details;

	if (platform_id == NULL ||
	    report->executions_archived + report->archives_deleted + report->audit_pruned == 0)
		return;
	details = json_object_new();
	json_object_set_int_member(details,
				   "executions_archived",
				   (gint64)report->executions_archived);
	json_object_set_int_member(details, "files_written", (gint64)report->files_written);
	json_object_set_int_member(details, "archives_deleted", (gint64)report->archives_deleted);
	json_object_set_int_member(details, "audit_pruned", (gint64)report->audit_pruned);
	record = g_new0(AiqAuditRecord, 1);
	record->tenant_id = g_strdup(platform_id);
	record->id = aiq_id_new();
	record->time_us = aiq_server_now(pass->server);
	record->actor_type = g_strdup("system");
	record->actor_name = g_strdup("retention");
	record->action = g_strdup("retention.run");
	record->outcome = g_strdup("success");
	record->details = aiq_json_new_object(details);
	aiq_store_append_audit(pass->store, record);
}

/**
 * aiq_retention_run:
 * @report: (out caller-allocates): what the pass did; its @batch_func is
 *   read, the rest set
 *
 * One pass: for each tenant, its finished executions created before now
 * (aiq_server_now()) less its hot retention (its `retention_days` limit)
 * are appended to their day's archive file, recorded in execution_archive
 * and deleted from the hot store in batches; running and queued executions
 * stay. Then the archives of days past `archive-retention-days` are
 * deleted, and the audit records older than `audit-retention-days`. One
 * pass runs at a time. Blocks: call it from a thread of its own.
 */
gboolean
aiq_retention_run(AiqServer *server, AiqRetentionReport *report, GError **error)
{
	AiqRetention *self;
	AiqRetentionPass pass = { 0 };
	gboolean ok;

	g_return_val_if_fail(AIQ_IS_SERVER(server), FALSE);
	g_return_val_if_fail(report != NULL, FALSE);

	self = aiq_retention_get(server);
	report->executions_archived = 0;
	report->files_written = 0;
	report->archives_deleted = 0;
	report->archive_rows_deleted = 0;
	report->audit_pruned = 0;
	pass.server = server;
	pass.store = aiq_server_get_store(server);
	pass.report = report;
	if (self != NULL) {
		g_mutex_lock(&self->run_mutex);
		pass.cancellable = self->cancellable;
	}
	pass.now_us = aiq_server_now(server);
	ok = aiq_retention_run_pass(&pass, error);
	if (self != NULL)
		g_mutex_unlock(&self->run_mutex);
	if (!ok)
		return FALSE;
	aiq_retention_audit(&pass);
	g_message("retention: archived %" G_GUINT64_FORMAT " executions into %" G_GUINT64_FORMAT
		  " files, deleted %" G_GUINT64_FORMAT " archives past %" PRId64
		  " days, pruned %" G_GUINT64_FORMAT " audit records past %" PRId64 " days",
		  report->executions_archived,
		  report->files_written,
		  report->archives_deleted,
		  aiq_server_get_config(server)->archive_retention_days,
		  report->audit_pruned,
		  aiq_server_get_config(server)->audit_retention_days);
	return TRUE;
}

/* the daily job */

static gpointer
aiq_retention_thread(gpointer user_data)
{
	AiqRetention *self = user_data;
	gint64 next = g_get_monotonic_time() + AIQ_RETENTION_FIRST_DELAY_US;

	g_mutex_lock(&self->mutex);
	for (;;) {
		AiqRetentionReport report = { 0 };
		g_autoptr(GError) error = NULL;

		while (!self->stopping && g_get_monotonic_time() < next)
			g_cond_wait_until(&self->cond, &self->mutex, next);
		if (self->stopping)
			break;
		g_mutex_unlock(&self->mutex);
		next = g_get_monotonic_time() + AIQ_RETENTION_INTERVAL_US;
		if (!aiq_retention_run(self->server, &report, &error)) {
			if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
				g_info("retention: the pass stopped with the server");
			else
				g_warning("retention: the pass failed, next in a day: %s",
					  error->message);
		}
		g_mutex_lock(&self->mutex);
	}
	g_mutex_unlock(&self->mutex);
	return NULL;
}

/**
 * aiq_retention_start:
 *
 * With the server configuration's `retention` (the default), runs a pass
 * a few minutes after the start and then every 24 hours, on a thread of
 * its own.
 */
gboolean
aiq_retention_start(AiqServer *server, GError **error)
{
	AiqRetention *self = aiq_retention_get(server);

	if (self == NULL) {
		self = g_new0(AiqRetention, 1);
		self->server = server;
		g_mutex_init(&self->run_mutex);
		g_mutex_init(&self->mutex);
		g_cond_init(&self->cond);
		aiq_server_set_module(server,
				      "retention",
				      self,
				      (GDestroyNotify)aiq_retention_free);
	}
	g_mutex_lock(&self->mutex);
	self->stopping = FALSE;
	g_mutex_unlock(&self->mutex);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	if (!aiq_server_get_config(server)->retention)
		return TRUE;
	self->thread = g_thread_try_new("aiq-retention", aiq_retention_thread, self, error);
	return self->thread != NULL;
}

/**
 * aiq_retention_stop:
 *
 * Stops the daily job; a pass under way stops at its next execution (the
 * day file it was writing is left as it was).
 */
void
aiq_retention_stop(AiqServer *server)
{
	AiqRetention *self = aiq_retention_get(server);
	if (self == NULL)
		return;
	g_mutex_lock(&self->mutex);
	self->stopping = TRUE;
	g_cond_signal(&self->cond);
	g_mutex_unlock(&self->mutex);
	g_cancellable_cancel(self->cancellable);
	if (self->thread != NULL)
		g_thread_join(g_steal_pointer(&self->thread));
}

/**
 * aiq_retention_respond_archived:
 *
 * For GET /api/v1/executions/{id} of an execution that is not in the hot
 * store: when it was archived, answers 410 `archived` with where it went
 * (`details`: `[{archive, archived, day}]`; `archive` relative to the
 * server's archive directory) and returns %TRUE; else %FALSE and the
 * caller answers.
 */
gboolean
aiq_retention_respond_archived(AiqRequest *req, const gchar *tenant_id, const gchar *execution_id)
{
	AiqStore *store;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *day_str = NULL;
	g_autofree gchar *archive = NULL;
	g_autofree gchar *message = NULL;
	JsonObject *detail;
	JsonArray *details;
	gint64 day = 0;
	gint64 archived_us = 0;

	g_return_val_if_fail(req != NULL, FALSE);
	g_return_val_if_fail(tenant_id != NULL && execution_id != NULL, FALSE);

	store = aiq_server_get_store(aiq_request_get_server(req));
	if (!aiq_store_get_execution_archive(store,
					     tenant_id,
					     execution_id,
					     &day,
					     &archived_us,
					     &error)) {
		if (g_error_matches(error, AIQ_ERROR, AIQ_ERROR_NOT_FOUND))
			return FALSE;
		aiq_request_respond_gerror(req, error);
		return TRUE;
	}
	day_str = aiq_retention_day_to_string(day);
	archive = g_strdup_printf("%s/%s" AIQ_ARCHIVE_SUFFIX, tenant_id, day_str);
	detail = json_object_new();
	json_object_set_string_member(detail, "archive", archive);
	aiq_api_set_time(detail, "archived", archived_us);
	json_object_set_string_member(detail, "day", day_str);
	details = json_array_new();
	json_array_add_object_element(details, detail);
	message = g_strdup_printf(_("execution “%s” was moved to the archive: it is in "
				    "archive/%s in the server's data directory"),
				  execution_id,
				  archive);
	aiq_request_respond_error(req,
				  SOUP_STATUS_GONE,
				  "archived",
				  message,
				  aiq_json_new_array(details));
	return TRUE;
}
