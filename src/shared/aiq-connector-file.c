/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <inttypes.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "aiq-connector-file-private.h"
#include "aiq-connectors.h"
#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-step-run.h"
#include "aiq-template.h"
#include "aiq-util.h"

/*
 * The `file` step kind reads and changes files under the file roots an
 * admin configured (`[file-roots] NAME=/path` in agent.conf), and nowhere
 * else.
 *
 * Confinement:
 *  1. A path is relative to its root: absolute paths and `..` segments are
 *     refused before anything is opened (aiq_file_path_normalize()).
 *  2. Every file and directory is opened relative to a descriptor of the
 *     root with openat2(2) and RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: the
 *     kernel resolves each symbolic link and refuses (EXDEV) any that leads
 *     out of the root, absolute links included, with no window for a race.
 *  3. The last component of a path that is created, renamed or removed is
 *     handled with *at() calls on a descriptor of its parent (opened as in
 *     2), which do not follow a symbolic link there: writing over a link
 *     replaces the link, it never writes through it.
 *  4. Listing only descends into real directories, and a symbolic link in a
 *     listing is reported only when it resolves inside the root.
 * On kernels without openat2 (before 5.6, or where seccomp answers ENOSYS)
 * the check falls back to realpath(3) and a prefix comparison with the
 * root's own real path. That fallback is racy: a directory swapped for a
 * link between the check and the open can escape. AIQ_FILE_DISABLE_OPENAT2=1
 * forces the fallback, for tests.
 *
 * All file I/O runs in a GTask thread; the attempt finishes on the main
 * context. Writes go to a temporary file in the same directory, which is
 * flushed with fsync() and renamed over the target.
 */

#define AIQ_FILE_CHUNK (64 * 1024)
#define AIQ_FILE_LIST_MAX_ENTRIES 10000
#define AIQ_FILE_LIST_MAX_DEPTH 64
#define AIQ_FILE_TMP_PREFIX ".aiq-tmp-"

typedef enum {
	AIQ_FILE_OP_READ,
	AIQ_FILE_OP_WRITE,
	AIQ_FILE_OP_APPEND,
	AIQ_FILE_OP_COPY,
	AIQ_FILE_OP_MOVE,
	AIQ_FILE_OP_DELETE,
	AIQ_FILE_OP_LIST,
	AIQ_FILE_OP_CHECKSUM,
} AiqFileOp;

/* in AiqFileOp order */
static const gchar *const aiq_file_ops[] = { "read",   "write", "append",   "copy", "move",
					     "delete", "list",  "checksum", NULL };
static const gchar *const aiq_file_encodings[] = { "text", "base64", NULL };
static const gchar *const aiq_file_algorithms[] = { "sha256", "sha1", "md5", NULL };

static const AiqParam aiq_file_params[] = {
	{ "op",
	  AIQ_PARAM_ENUM,
	  TRUE,
	  NULL,
	  N_("What to do: read, write, append, copy, move, delete, list or checksum."),
	  aiq_file_ops,
	  AIQ_PARAM_FLAG_NONE },
	{ "root",
	  AIQ_PARAM_STRING,
	  TRUE,
	  NULL,
	  N_("The name of a file root configured on the agent; every path stays inside it."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "path",
	  AIQ_PARAM_STRING,
	  TRUE,
	  NULL,
	  N_("The file or directory, relative to the root; “.” is the root itself for list."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "to",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("The destination of copy and move, relative to to_root or else to root."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "to_root",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("The file root of the destination of copy and move, when it is not root."),
	  NULL,
	  AIQ_PARAM_FLAG_LITERAL },
	{ "content",
	  AIQ_PARAM_TEXT,
	  FALSE,
	  NULL,
	  N_("What write and append put in the file, given as encoding says."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "encoding",
	  AIQ_PARAM_ENUM,
	  FALSE,
	  "\"text\"",
	  N_("How content is given and how read returns it: UTF-8 text or base64 for binary data."),
	  aiq_file_encodings,
	  AIQ_PARAM_FLAG_NONE },
	{ "pattern",
	  AIQ_PARAM_STRING,
	  FALSE,
	  NULL,
	  N_("A glob such as “*.csv” that list matches against names (or against paths below the "
	     "listed directory when it has a “/”)."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "recursive",
	  AIQ_PARAM_BOOLEAN,
	  FALSE,
	  "false",
	  N_("Whether list descends into subdirectories."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "algorithm",
	  AIQ_PARAM_ENUM,
	  FALSE,
	  "\"sha256\"",
	  N_("The hash that checksum computes."),
	  aiq_file_algorithms,
	  AIQ_PARAM_FLAG_NONE },
	{ "max_size",
	  AIQ_PARAM_INTEGER,
	  FALSE,
	  "10485760",
	  N_("The largest file read returns, in bytes; a larger one fails the step."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "overwrite",
	  AIQ_PARAM_BOOLEAN,
	  FALSE,
	  NULL,
	  N_("Whether an existing destination is replaced: by default true for write and false for "
	     "copy and move."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ "create_dirs",
	  AIQ_PARAM_BOOLEAN,
	  FALSE,
	  "false",
	  N_("Whether missing parent directories of the destination are created."),
	  NULL,
	  AIQ_PARAM_FLAG_NONE },
	{ NULL }
};

/* which parameters mean something to which op, for validation */
typedef struct {
	const gchar *name;
	guint ops; /* bits of AiqFileOp */
} AiqFileParamUse;

#define AIQ_FILE_OP_BIT(op) (1u << (op))

static const AiqFileParamUse aiq_file_param_uses[] = {
	{ "to", AIQ_FILE_OP_BIT(AIQ_FILE_OP_COPY) | AIQ_FILE_OP_BIT(AIQ_FILE_OP_MOVE) },
	{ "to_root", AIQ_FILE_OP_BIT(AIQ_FILE_OP_COPY) | AIQ_FILE_OP_BIT(AIQ_FILE_OP_MOVE) },
	{ "content", AIQ_FILE_OP_BIT(AIQ_FILE_OP_WRITE) | AIQ_FILE_OP_BIT(AIQ_FILE_OP_APPEND) },
	{ "encoding",
	  AIQ_FILE_OP_BIT(AIQ_FILE_OP_READ) | AIQ_FILE_OP_BIT(AIQ_FILE_OP_WRITE) |
		  AIQ_FILE_OP_BIT(AIQ_FILE_OP_APPEND) },
	{ "pattern", AIQ_FILE_OP_BIT(AIQ_FILE_OP_LIST) },
	{ "recursive", AIQ_FILE_OP_BIT(AIQ_FILE_OP_LIST) },
	{ "algorithm", AIQ_FILE_OP_BIT(AIQ_FILE_OP_CHECKSUM) },
	{ "max_size", AIQ_FILE_OP_BIT(AIQ_FILE_OP_READ) },
	{ "overwrite",
	  AIQ_FILE_OP_BIT(AIQ_FILE_OP_WRITE) | AIQ_FILE_OP_BIT(AIQ_FILE_OP_COPY) |
		  AIQ_FILE_OP_BIT(AIQ_FILE_OP_MOVE) },
	{ "create_dirs",
	  AIQ_FILE_OP_BIT(AIQ_FILE_OP_WRITE) | AIQ_FILE_OP_BIT(AIQ_FILE_OP_APPEND) |
		  AIQ_FILE_OP_BIT(AIQ_FILE_OP_COPY) | AIQ_FILE_OP_BIT(AIQ_FILE_OP_MOVE) },
};

/* descriptors */

typedef gint AiqFileFd;

static void
aiq_file_fd_clear(AiqFileFd *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AiqFileFd, aiq_file_fd_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DIR, closedir)

/* paths */

/*
 * Checks that @path stays inside its root by its syntax alone and returns
 * it without empty and `.` segments ("" is the root itself), or %NULL for
 * an absolute path or one with a `..` segment.
 */
static gchar *
aiq_file_path_normalize(const gchar *path)
{
	g_auto(GStrv) parts = NULL;
	g_autoptr(GPtrArray) kept = g_ptr_array_new();

	if (path == NULL || g_path_is_absolute(path))
		return NULL;
	parts = g_strsplit(path, "/", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		if (g_strcmp0(parts[i], "..") == 0)
			return NULL;
		if (parts[i][0] == '\0' || g_strcmp0(parts[i], ".") == 0)
			continue;
		g_ptr_array_add(kept, parts[i]);
	}
	g_ptr_array_add(kept, NULL);
	return g_strjoinv("/", (gchar **)kept->pdata);
}

static void
aiq_file_set_outside_error(GError **error, const gchar *path, const gchar *root_name)
{
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_PERMISSION_DENIED,
		    _("path “%s” is outside the file root “%s”"),
		    path,
		    root_name);
}

/* "a/b/c" → "a/b" and "c"; "c" → "" and "c" */
static void
aiq_file_path_split(const gchar *rel, gchar **parent, const gchar **base)
{
	const gchar *slash = strrchr(rel, '/');
	if (slash == NULL) {
		*parent = g_strdup("");
		*base = rel;
	} else {
		*parent = g_strndup(rel, (gsize)(slash - rel));
		*base = slash + 1;
	}
}

/* validation: cross-parameter checks on literal values */

static const gchar *
aiq_file_literal_string(JsonObject *with, const gchar *name)
{
	JsonNode *node = json_object_get_member(with, name);
	if (!aiq_json_is_string(node))
		return NULL;
	if (aiq_template_string_has_expressions(json_node_get_string(node)))
		return NULL;
	return json_node_get_string(node);
}

static gboolean
aiq_file_op_from_string(const gchar *str, AiqFileOp *op)
{
	for (guint i = 0; aiq_file_ops[i] != NULL; i++) {
		if (g_strcmp0(aiq_file_ops[i], str) == 0) {
			*op = (AiqFileOp)i;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
aiq_file_is_set(JsonObject *with, const gchar *name)
{
	JsonNode *node = json_object_get_member(with, name);
	return node != NULL && !JSON_NODE_HOLDS_NULL(node);
}

static void
aiq_file_validate_path(JsonObject *with,
		       const gchar *name,
		       const gchar *root_member,
		       const gchar *path,
		       AiqProblems *problems)
{
	const gchar *value = aiq_file_literal_string(with, name);
	const gchar *root_name = aiq_file_literal_string(with, root_member);
	g_autofree gchar *normalized = NULL;
	g_autofree gchar *member_path = NULL;

	if (value == NULL)
		return;
	if (root_name == NULL)
		root_name = aiq_file_literal_string(with, "root");
	normalized = aiq_file_path_normalize(value);
	if (normalized != NULL)
		return;
	member_path = aiq_path_member(path, name);
	if (root_name != NULL) {
		aiq_problems_add(problems,
				 member_path,
				 _("path “%s” is outside the file root “%s”"),
				 value,
				 root_name);
	} else {
		aiq_problems_add(problems,
				 member_path,
				 _("path “%s” must be relative to its file root, without “..”"),
				 value);
	}
}

static void
aiq_file_validate(JsonObject *with, const gchar *path, AiqProblems *problems)
{
	const gchar *op_str = aiq_file_literal_string(with, "op");
	AiqFileOp op;

	aiq_file_validate_path(with, "path", "root", path, problems);
	aiq_file_validate_path(with, "to", "to_root", path, problems);

	/* the rest depends on a literal op (a wrong one is reported already) */
	if (op_str == NULL || !aiq_file_op_from_string(op_str, &op))
		return;
	if ((op == AIQ_FILE_OP_WRITE || op == AIQ_FILE_OP_APPEND) &&
	    !aiq_file_is_set(with, "content")) {
		g_autofree gchar *member_path = aiq_path_member(path, "content");
		aiq_problems_add(problems, member_path, _("op “%s” needs “content”"), op_str);
	}
	if ((op == AIQ_FILE_OP_COPY || op == AIQ_FILE_OP_MOVE) && !aiq_file_is_set(with, "to")) {
		g_autofree gchar *member_path = aiq_path_member(path, "to");
		aiq_problems_add(problems, member_path, _("op “%s” needs “to”"), op_str);
	}
	for (guint i = 0; i < G_N_ELEMENTS(aiq_file_param_uses); i++) {
		const AiqFileParamUse *use = &aiq_file_param_uses[i];
		if (aiq_file_is_set(with, use->name) && (use->ops & AIQ_FILE_OP_BIT(op)) == 0) {
			g_autofree gchar *member_path = aiq_path_member(path, use->name);
			aiq_problems_add(problems,
					 member_path,
					 _("“%s” is not used by op “%s”"),
					 use->name,
					 op_str);
		}
	}
}

/* the job, run in a thread */

typedef struct {
	const gchar *name;
	const gchar *path; /* as configured */
	gint fd;           /* O_PATH descriptor of the root */
	gchar *real;       /* realpath() of the root, for the fallback */
	gboolean use_openat2;
} AiqFileRoot;

typedef struct {
	AiqFileOp op;
	gchar *root_name;
	gchar *root_path;
	gchar *to_root_name; /* root_name unless to_root was given */
	gchar *to_root_path;
	gchar *path; /* normalized */
	gchar *to;   /* normalized */
	GBytes *content;
	gboolean base64;
	gchar *pattern;
	gboolean recursive;
	GChecksumType algorithm;
	gchar *algorithm_name;
	gint64 max_size;
	gboolean overwrite;
	gboolean create_dirs;
	gboolean use_openat2;
} AiqFileJob;

static void
aiq_file_job_free(AiqFileJob *job)
{
	g_free(job->root_name);
	g_free(job->root_path);
	g_free(job->to_root_name);
	g_free(job->to_root_path);
	g_free(job->path);
	g_free(job->to);
	g_clear_pointer(&job->content, g_bytes_unref);
	g_free(job->pattern);
	g_free(job->algorithm_name);
	g_free(job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqFileJob, aiq_file_job_free)

static void
aiq_file_root_clear(AiqFileRoot *root)
{
	aiq_file_fd_clear(&root->fd);
	g_clear_pointer(&root->real, free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AiqFileRoot, aiq_file_root_clear)

/* whether openat2() works here at all; a real error is told apart later */
static gboolean
aiq_file_openat2_is_supported(void)
{
	static gsize supported = 0;
	if (g_once_init_enter(&supported)) {
		struct open_how how = { 0 };
		long fd;
		how.flags = O_PATH | O_CLOEXEC;
		fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
		if (fd >= 0)
			close((gint)fd);
		else
			g_debug("openat2() is not available (%s); confining paths with realpath()",
				g_strerror(errno));
		g_once_init_leave(&supported, fd >= 0 ? 2 : 1);
	}
	return supported == 2;
}

/* AIQ_FILE_DISABLE_OPENAT2=1 forces the realpath() fallback, for its tests */
static gboolean
aiq_file_use_openat2(void)
{
	return aiq_file_openat2_is_supported() &&
	       g_strcmp0(g_getenv("AIQ_FILE_DISABLE_OPENAT2"), "1") != 0;
}

/* maps errno to an AIQ_ERROR about @rel in @root */
static void
aiq_file_set_errno_error(GError **error, gint errsv, AiqFileRoot *root, const gchar *rel)
{
	const gchar *display = rel[0] != '\0' ? rel : ".";
	switch (errsv) {
	case EXDEV:
		aiq_file_set_outside_error(error, display, root->name);
		return;
	case ENOENT:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("“%s” does not exist in the file root “%s”"),
			    display,
			    root->name);
		return;
	case EACCES:
	case EPERM:
	case EROFS:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_PERMISSION_DENIED,
			    _("“%s” in the file root “%s”: %s"),
			    display,
			    root->name,
			    g_strerror(errsv));
		return;
	case EEXIST:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_STEP_FAILED,
			    _("“%s” already exists in the file root “%s”; set overwrite: true to "
			      "replace it"),
			    display,
			    root->name);
		return;
	case EISDIR:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_STEP_FAILED,
			    _("“%s” in the file root “%s” is a directory"),
			    display,
			    root->name);
		return;
	case ENOTDIR:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_STEP_FAILED,
			    _("“%s” in the file root “%s”: a part of the path is not a directory"),
			    display,
			    root->name);
		return;
	case ENOTEMPTY:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_STEP_FAILED,
			    _("directory “%s” in the file root “%s” is not empty"),
			    display,
			    root->name);
		return;
	case ELOOP:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_PERMISSION_DENIED,
			    _("“%s” in the file root “%s”: too many or forbidden symbolic links"),
			    display,
			    root->name);
		return;
	default:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_STEP_FAILED,
			    _("“%s” in the file root “%s”: %s"),
			    display,
			    root->name,
			    g_strerror(errsv));
		return;
	}
}

static gboolean
aiq_file_root_open(AiqFileRoot *root,
		   const gchar *name,
		   const gchar *path,
		   gboolean use_openat2,
		   GError **error)
{
	root->name = name;
	root->path = path;
	root->use_openat2 = use_openat2;
	/* the root itself is configuration and trusted, links included */
	root->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root->fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    AIQ_ERROR,
			    errsv == ENOENT ? AIQ_ERROR_NOT_FOUND : AIQ_ERROR_FAILED,
			    _("the file root “%s” (%s) cannot be opened: %s"),
			    name,
			    path,
			    g_strerror(errsv));
		return FALSE;
	}
	if (!use_openat2) {
		root->real = realpath(path, NULL);
		if (root->real == NULL) {
			gint errsv = errno;
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("the file root “%s” (%s) cannot be opened: %s"),
				    name,
				    path,
				    g_strerror(errsv));
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
aiq_file_real_is_beneath(const gchar *real, const gchar *root_real)
{
	gsize len = strlen(root_real);
	if (g_strcmp0(root_real, "/") == 0)
		return TRUE;
	return strncmp(real, root_real, len) == 0 && (real[len] == '\0' || real[len] == '/');
}

/* the realpath() fallback of aiq_file_open_beneath() */
static gint
aiq_file_open_beneath_fallback(AiqFileRoot *root, const gchar *rel, gint flags, mode_t mode)
{
	g_autofree gchar *full = g_build_filename(root->real, rel, NULL);
	g_autofree gchar *parent = NULL;
	g_autofree gchar *child = NULL;
	g_autofree gchar *base = NULL;
	gchar *real;
	gint errsv;

	real = realpath(full, NULL);
	if (real != NULL) {
		gint fd;
		if (!aiq_file_real_is_beneath(real, root->real)) {
			free(real);
			errno = EXDEV;
			return -1;
		}
		fd = open(real, flags | O_CLOEXEC, mode);
		errsv = errno;
		free(real);
		errno = errsv;
		return fd;
	}
	if (errno != ENOENT || (flags & O_CREAT) == 0 || rel[0] == '\0')
		return -1;

	/* a file to create: check its directory instead */
	parent = g_path_get_dirname(full);
	base = g_path_get_basename(full);
	real = realpath(parent, NULL);
	if (real == NULL)
		return -1;
	if (!aiq_file_real_is_beneath(real, root->real)) {
		free(real);
		errno = EXDEV;
		return -1;
	}
	child = g_build_filename(real, base, NULL);
	free(real);
	return open(child, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

/*
 * Opens @rel ("" for the root itself) below @root, refusing to leave it
 * through a symbolic link. Returns a descriptor, or -1 with errno set
 * (EXDEV: outside the root).
 */
static gint
aiq_file_open_beneath(AiqFileRoot *root, const gchar *rel, gint flags, mode_t mode)
{
	struct open_how how = { 0 };

	if (!root->use_openat2)
		return aiq_file_open_beneath_fallback(root, rel, flags, mode);

	how.flags = (guint64)(flags | O_CLOEXEC);
	how.mode = (flags & O_CREAT) != 0 ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	for (guint attempt = 0;; attempt++) {
		long fd = syscall(SYS_openat2,
				  root->fd,
				  rel[0] != '\0' ? rel : ".",
				  &how,
				  sizeof(how));
		if (fd >= 0)
			return (gint)fd;
		/* EAGAIN: a concurrent rename raced the resolution */
		if ((errno == EAGAIN || errno == EINTR) && attempt < 16)
			continue;
		return -1;
	}
}

/* opens the directory @rel, creating it and its parents when asked */
static gint
aiq_file_open_dir(AiqFileRoot *root, const gchar *rel, gboolean create, GError **error)
{
	gint fd = aiq_file_open_beneath(root, rel, O_RDONLY | O_DIRECTORY, 0);
	g_auto(GStrv) parts = NULL;
	g_autoptr(GString) prefix = NULL;

	if (fd >= 0)
		return fd;
	if (errno != ENOENT || !create) {
		gint errsv = errno;
		if (errsv == ENOENT) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_NOT_FOUND,
				    _("directory “%s” does not exist in the file root “%s”; set "
				      "create_dirs: true to create it"),
				    rel,
				    root->name);
		} else {
			aiq_file_set_errno_error(error, errsv, root, rel);
		}
		return -1;
	}

	/* each missing component in turn, each below a confined parent */
	parts = g_strsplit(rel, "/", -1);
	prefix = g_string_new(NULL);
	for (guint i = 0; parts[i] != NULL; i++) {
		g_auto(AiqFileFd) parent_fd =
			aiq_file_open_beneath(root, prefix->str, O_PATH | O_DIRECTORY, 0);
		if (parent_fd < 0) {
			aiq_file_set_errno_error(error, errno, root, prefix->str);
			return -1;
		}
		if (mkdirat(parent_fd, parts[i], 0777) != 0 && errno != EEXIST) {
			gint errsv = errno;
			if (prefix->len > 0)
				g_string_append_c(prefix, '/');
			g_string_append(prefix, parts[i]);
			aiq_file_set_errno_error(error, errsv, root, prefix->str);
			return -1;
		}
		if (prefix->len > 0)
			g_string_append_c(prefix, '/');
		g_string_append(prefix, parts[i]);
	}
	fd = aiq_file_open_beneath(root, rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		aiq_file_set_errno_error(error, errno, root, rel);
	return fd;
}

static gboolean
aiq_file_require_name(AiqFileRoot *root, const gchar *rel, GError **error)
{
	if (rel[0] != '\0')
		return TRUE;
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_INVALID_ARGUMENT,
		    _("the path names the file root “%s” itself; name a file inside it"),
		    root->name);
	return FALSE;
}

static gboolean
aiq_file_write_all(gint fd, const guint8 *data, gsize len)
{
	while (len > 0) {
		gssize n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return FALSE;
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

static gssize
aiq_file_read_some(gint fd, guint8 *buf, gsize len)
{
	for (;;) {
		gssize n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

/* opens a regular file of @root for reading */
static gint
aiq_file_open_regular(AiqFileRoot *root, const gchar *rel, struct stat *st, GError **error)
{
	g_auto(AiqFileFd) fd = -1;

	if (!aiq_file_require_name(root, rel, error))
		return -1;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = aiq_file_open_beneath(root, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0) {
		aiq_file_set_errno_error(error, errno, root, rel);
		return -1;
	}
	if (fstat(fd, st) != 0) {
		aiq_file_set_errno_error(error, errno, root, rel);
		return -1;
	}
	if (S_ISDIR(st->st_mode)) {
		aiq_file_set_errno_error(error, EISDIR, root, rel);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		/* naming a FIFO or a device will not get better by retrying */
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” in the file root “%s” is not a regular file"),
			    rel,
			    root->name);
		return -1;
	}
	return g_steal_fd(&fd);
}

/**
 * aiq_file_root_open_file:
 * @root_name: the file root's name, for messages
 * @root_dir: its configured folder
 * @path: a path relative to the root
 * @st: (out): the file's status
 *
 * Opens a regular file for reading with the confinement of the file step
 * kind: no absolute paths, no `..`, and (with openat2 RESOLVE_BENEATH) no
 * symbolic link out of the root at any step of the path. For other step
 * kinds that read from file roots; blocking, for a worker thread.
 *
 * Returns: a file descriptor, or -1 with @error set
 */
gint
aiq_file_root_open_file(const gchar *root_name,
			const gchar *root_dir,
			const gchar *path,
			struct stat *st,
			GError **error)
{
	g_auto(AiqFileRoot) root = { 0 };
	g_autofree gchar *rel = aiq_file_path_normalize(path);

	if (rel == NULL) {
		aiq_file_set_outside_error(error, path != NULL ? path : "", root_name);
		return -1;
	}
	if (!aiq_file_root_open(&root, root_name, root_dir, aiq_file_use_openat2(), error))
		return -1;
	return aiq_file_open_regular(&root, rel, st, error);
}

/*
 * Writes a new file @base in @dir_fd atomically: the data goes to a
 * temporary file next to it, is flushed, and the file is renamed over
 * @base. The data comes from @data or, when @src_fd is not -1, from that
 * descriptor. Returns the size written, or -1.
 */
static gint64
aiq_file_replace(AiqFileRoot *root,
		 const gchar *rel,
		 gint dir_fd,
		 const gchar *base,
		 GBytes *data,
		 gint src_fd,
		 mode_t new_mode,
		 gboolean overwrite,
		 GCancellable *cancellable,
		 GError **error)
{
	g_auto(AiqFileFd) tmp_fd = -1;
	g_autofree gchar *tmp_name = NULL;
	struct stat st;
	gboolean exists = FALSE;
	gint64 size = 0;
	gint errsv = 0;

	if (fstatat(dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		exists = TRUE;
		if (S_ISDIR(st.st_mode)) {
			aiq_file_set_errno_error(error, EISDIR, root, rel);
			return -1;
		}
		if (!overwrite) {
			aiq_file_set_errno_error(error, EEXIST, root, rel);
			return -1;
		}
	} else if (errno != ENOENT) {
		aiq_file_set_errno_error(error, errno, root, rel);
		return -1;
	}

	for (guint attempt = 0; tmp_fd < 0; attempt++) {
		g_free(tmp_name);
		tmp_name = g_strdup_printf(AIQ_FILE_TMP_PREFIX "%08x%08x",
					   g_random_int(),
					   g_random_int());
		tmp_fd = openat(dir_fd,
				tmp_name,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				new_mode);
		if (tmp_fd < 0 && (errno != EEXIST || attempt > 16)) {
			aiq_file_set_errno_error(error, errno, root, rel);
			return -1;
		}
	}

	/* keep the permissions of the file being replaced */
	if (exists && S_ISREG(st.st_mode) && fchmod(tmp_fd, st.st_mode & 0777) != 0)
		g_debug("could not keep the mode of %s: %s", rel, g_strerror(errno));

	if (src_fd >= 0) {
		g_autofree guint8 *buf = g_malloc(AIQ_FILE_CHUNK);
		for (;;) {
			gssize n;
			if (g_cancellable_set_error_if_cancelled(cancellable, error))
				goto fail;
			n = aiq_file_read_some(src_fd, buf, AIQ_FILE_CHUNK);
			if (n == 0)
				break;
			if (n < 0 || !aiq_file_write_all(tmp_fd, buf, (gsize)n)) {
				errsv = errno;
				goto fail_errno;
			}
			size += n;
		}
	} else {
		gsize len = 0;
		const guint8 *bytes = g_bytes_get_data(data, &len);
		if (!aiq_file_write_all(tmp_fd, bytes, len)) {
			errsv = errno;
			goto fail_errno;
		}
		size = (gint64)len;
	}
	if (fsync(tmp_fd) != 0) {
		errsv = errno;
		goto fail_errno;
	}
	if (close(g_steal_fd(&tmp_fd)) != 0) {
		errsv = errno;
		goto fail_errno;
	}

	if (!overwrite) {
		/* atomically refuse a destination that appeared meanwhile */
		if (renameat2(dir_fd, tmp_name, dir_fd, base, RENAME_NOREPLACE) != 0) {
			errsv = errno;
			if (errsv != EINVAL && errsv != ENOSYS)
				goto fail_errno;
			/* no RENAME_NOREPLACE on this file system: a link cannot replace either */
			if (linkat(dir_fd, tmp_name, dir_fd, base, 0) != 0) {
				errsv = errno;
				goto fail_errno;
			}
			unlinkat(dir_fd, tmp_name, 0);
		}
	} else if (renameat(dir_fd, tmp_name, dir_fd, base) != 0) {
		errsv = errno;
		goto fail_errno;
	}
	/* make the rename itself durable */
	if (fsync(dir_fd) != 0)
		g_debug("could not flush the directory of %s: %s", rel, g_strerror(errno));
	return size;

fail_errno:
	aiq_file_set_errno_error(error, errsv, root, rel);
fail:
	unlinkat(dir_fd, tmp_name, 0);
	return -1;
}

static JsonNode *
aiq_file_do_read(AiqFileJob *job, AiqFileRoot *root, GCancellable *cancellable, GError **error)
{
	g_auto(AiqFileFd) fd = -1;
	g_autoptr(GByteArray) data = g_byte_array_new();
	g_autoptr(JsonObject) result = json_object_new();
	g_autofree guint8 *buf = NULL;
	struct stat st;

	fd = aiq_file_open_regular(root, job->path, &st, error);
	if (fd < 0)
		return NULL;
	if (st.st_size > job->max_size) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("“%s” is %" PRId64 " bytes, more than max_size "
			      "(%" PRId64 " bytes)"),
			    job->path,
			    (gint64)st.st_size,
			    job->max_size);
		return NULL;
	}
	buf = g_malloc(AIQ_FILE_CHUNK);
	for (;;) {
		gssize n;
		if (g_cancellable_set_error_if_cancelled(cancellable, error))
			return NULL;
		n = aiq_file_read_some(fd, buf, AIQ_FILE_CHUNK);
		if (n < 0) {
			aiq_file_set_errno_error(error, errno, root, job->path);
			return NULL;
		}
		if (n == 0)
			break;
		/* the file may grow while it is read */
		if ((gint64)data->len + n > job->max_size) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_TOO_LARGE,
				    _("“%s” is more than max_size (%" PRId64 " bytes)"),
				    job->path,
				    job->max_size);
			return NULL;
		}
		g_byte_array_append(data, buf, (guint)n);
	}

	if (job->base64) {
		g_autofree gchar *encoded = g_base64_encode(data->data, data->len);
		json_object_set_string_member(result, "content", encoded);
	} else {
		g_autofree gchar *text = NULL;
		if (!g_utf8_validate_len((const gchar *)data->data, data->len, NULL)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_STEP_FAILED,
				    _("“%s” is not UTF-8 text; read it with encoding: base64"),
				    job->path);
			return NULL;
		}
		text = g_strndup((const gchar *)data->data, data->len);
		json_object_set_string_member(result, "content", text);
	}
	json_object_set_string_member(result, "encoding", job->base64 ? "base64" : "text");
	json_object_set_int_member(result, "size", (gint64)data->len);
	return aiq_json_new_object(g_steal_pointer(&result));
}

static JsonNode *
aiq_file_do_write(AiqFileJob *job, AiqFileRoot *root, GCancellable *cancellable, GError **error)
{
	g_autofree gchar *parent = NULL;
	const gchar *base = NULL;
	g_auto(AiqFileFd) dir_fd = -1;
	g_autoptr(JsonObject) result = json_object_new();
	gint64 size;

	if (!aiq_file_require_name(root, job->path, error))
		return NULL;
	aiq_file_path_split(job->path, &parent, &base);
	dir_fd = aiq_file_open_dir(root, parent, job->create_dirs, error);
	if (dir_fd < 0)
		return NULL;

	if (job->op == AIQ_FILE_OP_WRITE) {
		size = aiq_file_replace(root,
					job->path,
					dir_fd,
					base,
					job->content,
					-1,
					0666,
					job->overwrite,
					cancellable,
					error);
		if (size < 0)
			return NULL;
	} else {
		g_auto(AiqFileFd) fd = -1;
		struct stat st;
		gsize len = 0;
		const guint8 *bytes = g_bytes_get_data(job->content, &len);
		/* O_NONBLOCK: opening a FIFO must not wait for a reader */
		fd = aiq_file_open_beneath(root,
					   job->path,
					   O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_NONBLOCK,
					   0666);
		if (fd < 0) {
			aiq_file_set_errno_error(error, errno, root, job->path);
			return NULL;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_STEP_FAILED,
				    _("“%s” in the file root “%s” is not a regular file"),
				    job->path,
				    root->name);
			return NULL;
		}
		if (!aiq_file_write_all(fd, bytes, len) || fsync(fd) != 0 || fstat(fd, &st) != 0) {
			aiq_file_set_errno_error(error, errno, root, job->path);
			return NULL;
		}
		size = (gint64)st.st_size;
	}
	json_object_set_string_member(result, "path", job->path);
	json_object_set_int_member(result, "size", size);
	return aiq_json_new_object(g_steal_pointer(&result));
}

static JsonNode *
aiq_file_copy_result(AiqFileJob *job, gint64 size)
{
	JsonObject *result = json_object_new();
	json_object_set_string_member(result, "path", job->path);
	json_object_set_string_member(result, "to", job->to);
	json_object_set_int_member(result, "size", size);
	return aiq_json_new_object(result);
}

/* copies a regular file; @src_fd is open on it */
static gint64
aiq_file_copy_fd(AiqFileJob *job,
		 AiqFileRoot *to_root,
		 gint src_fd,
		 const struct stat *src_st,
		 GCancellable *cancellable,
		 GError **error)
{
	g_autofree gchar *parent = NULL;
	const gchar *base = NULL;
	g_auto(AiqFileFd) dir_fd = -1;

	aiq_file_path_split(job->to, &parent, &base);
	dir_fd = aiq_file_open_dir(to_root, parent, job->create_dirs, error);
	if (dir_fd < 0)
		return -1;
	return aiq_file_replace(to_root,
				job->to,
				dir_fd,
				base,
				NULL,
				src_fd,
				src_st->st_mode & 0777,
				job->overwrite,
				cancellable,
				error);
}

static JsonNode *
aiq_file_do_copy(AiqFileJob *job,
		 AiqFileRoot *root,
		 AiqFileRoot *to_root,
		 GCancellable *cancellable,
		 GError **error)
{
	g_auto(AiqFileFd) src_fd = -1;
	struct stat st;
	gint64 size;

	if (!aiq_file_require_name(to_root, job->to, error))
		return NULL;
	src_fd = aiq_file_open_regular(root, job->path, &st, error);
	if (src_fd < 0)
		return NULL;
	size = aiq_file_copy_fd(job, to_root, src_fd, &st, cancellable, error);
	if (size < 0)
		return NULL;
	return aiq_file_copy_result(job, size);
}

static JsonNode *
aiq_file_do_move(AiqFileJob *job,
		 AiqFileRoot *root,
		 AiqFileRoot *to_root,
		 GCancellable *cancellable,
		 GError **error)
{
	g_autofree gchar *src_parent = NULL;
	g_autofree gchar *dst_parent = NULL;
	const gchar *src_base = NULL;
	const gchar *dst_base = NULL;
	g_auto(AiqFileFd) src_dir = -1;
	g_auto(AiqFileFd) dst_dir = -1;
	g_auto(AiqFileFd) src_fd = -1;
	struct stat st;
	gint rc;
	gint64 size;

	if (!aiq_file_require_name(root, job->path, error) ||
	    !aiq_file_require_name(to_root, job->to, error))
		return NULL;
	aiq_file_path_split(job->path, &src_parent, &src_base);
	aiq_file_path_split(job->to, &dst_parent, &dst_base);
	src_dir = aiq_file_open_beneath(root, src_parent, O_RDONLY | O_DIRECTORY, 0);
	if (src_dir < 0) {
		aiq_file_set_errno_error(error, errno, root, src_parent);
		return NULL;
	}
	if (fstatat(src_dir, src_base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		aiq_file_set_errno_error(error, errno, root, job->path);
		return NULL;
	}
	dst_dir = aiq_file_open_dir(to_root, dst_parent, job->create_dirs, error);
	if (dst_dir < 0)
		return NULL;

	/* a rename moves the entry itself, a link included, without following it */
	if (job->overwrite) {
		rc = renameat(src_dir, src_base, dst_dir, dst_base);
	} else {
		rc = renameat2(src_dir, src_base, dst_dir, dst_base, RENAME_NOREPLACE);
		if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
			struct stat dst_st;
			/* no RENAME_NOREPLACE on this file system: check, then rename */
			if (fstatat(dst_dir, dst_base, &dst_st, AT_SYMLINK_NOFOLLOW) == 0) {
				aiq_file_set_errno_error(error, EEXIST, to_root, job->to);
				return NULL;
			}
			rc = renameat(src_dir, src_base, dst_dir, dst_base);
		}
	}
	if (rc == 0) {
		fsync(dst_dir);
		if (root != to_root || g_strcmp0(src_parent, dst_parent) != 0)
			fsync(src_dir);
		return aiq_file_copy_result(job, (gint64)st.st_size);
	}
	if (errno != EXDEV) {
		gint errsv = errno;
		aiq_file_set_errno_error(error,
					 errsv,
					 errsv == EEXIST ? to_root : root,
					 errsv == EEXIST ? job->to : job->path);
		return NULL;
	}

	/* another file system: copy the file, then remove the original */
	src_fd = aiq_file_open_regular(root, job->path, &st, error);
	if (src_fd < 0)
		return NULL;
	size = aiq_file_copy_fd(job, to_root, src_fd, &st, cancellable, error);
	if (size < 0)
		return NULL;
	if (unlinkat(src_dir, src_base, 0) != 0) {
		aiq_file_set_errno_error(error, errno, root, job->path);
		g_prefix_error(error, _("copied, but could not remove the original: "));
		return NULL;
	}
	fsync(src_dir);
	return aiq_file_copy_result(job, size);
}

static JsonNode *
aiq_file_do_delete(AiqFileJob *job, AiqFileRoot *root, GError **error)
{
	g_autofree gchar *parent = NULL;
	const gchar *base = NULL;
	g_auto(AiqFileFd) dir_fd = -1;
	g_autoptr(JsonObject) result = json_object_new();
	gboolean deleted = TRUE;

	if (!aiq_file_require_name(root, job->path, error))
		return NULL;
	aiq_file_path_split(job->path, &parent, &base);
	dir_fd = aiq_file_open_beneath(root, parent, O_RDONLY | O_DIRECTORY, 0);
	if (dir_fd < 0 && errno == ENOENT) {
		deleted = FALSE;
	} else if (dir_fd < 0) {
		aiq_file_set_errno_error(error, errno, root, parent);
		return NULL;
	} else if (unlinkat(dir_fd, base, 0) != 0) {
		gint errsv = errno;
		/* an empty directory may go too */
		if (errsv == EISDIR && unlinkat(dir_fd, base, AT_REMOVEDIR) == 0)
			errsv = 0;
		else if (errsv == EISDIR)
			errsv = errno;
		if (errsv == ENOENT) {
			deleted = FALSE;
		} else if (errsv != 0) {
			aiq_file_set_errno_error(error, errsv, root, job->path);
			return NULL;
		}
	}
	if (deleted)
		fsync(dir_fd);
	json_object_set_string_member(result, "path", job->path);
	json_object_set_boolean_member(result, "deleted", deleted);
	return aiq_json_new_object(g_steal_pointer(&result));
}

typedef struct {
	gchar *path;
	const gchar *type;
	gint64 size;
	gint64 modified_us;
} AiqFileEntry;

static void
aiq_file_entry_free(AiqFileEntry *entry)
{
	g_free(entry->path);
	g_free(entry);
}

static gint
aiq_file_entry_cmp(gconstpointer a, gconstpointer b)
{
	const AiqFileEntry *ea = *(const AiqFileEntry *const *)a;
	const AiqFileEntry *eb = *(const AiqFileEntry *const *)b;
	return strcmp(ea->path, eb->path);
}

typedef struct {
	AiqFileRoot *root;
	GPatternSpec *pattern;
	gboolean pattern_has_slash;
	gboolean recursive;
	GPtrArray *entries;
	GCancellable *cancellable;
} AiqFileLister;

static gboolean
aiq_file_list_dir(AiqFileLister *lister,
		  gint dir_fd,
		  const gchar *rel,   /* relative to the root */
		  const gchar *below, /* relative to the listed directory */
		  guint depth,
		  GError **error)
{
	g_autoptr(DIR) dir = NULL;
	gint fd = dup(dir_fd);
	struct dirent *dent;

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		gint errsv = errno;
		if (fd >= 0)
			close(fd);
		aiq_file_set_errno_error(error, errsv, lister->root, rel);
		return FALSE;
	}
	rewinddir(dir);
	while ((errno = 0, dent = readdir(dir)) != NULL) {
		g_autofree gchar *entry_rel = NULL;
		g_autofree gchar *entry_below = NULL;
		struct stat st;
		gboolean is_real_dir;
		gboolean matches;

		if (g_strcmp0(dent->d_name, ".") == 0 || g_strcmp0(dent->d_name, "..") == 0)
			continue;
		if (g_cancellable_set_error_if_cancelled(lister->cancellable, error))
			return FALSE;
		entry_rel = rel[0] != '\0' ? g_strconcat(rel, "/", dent->d_name, NULL)
					   : g_strdup(dent->d_name);
		entry_below = below[0] != '\0' ? g_strconcat(below, "/", dent->d_name, NULL)
					       : g_strdup(dent->d_name);
		if (fstatat(dir_fd, dent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* gone meanwhile */
		is_real_dir = S_ISDIR(st.st_mode);
		if (S_ISLNK(st.st_mode)) {
			/* report a link as what it leads to, only inside the root */
			g_auto(AiqFileFd) target =
				aiq_file_open_beneath(lister->root, entry_rel, O_PATH, 0);
			if (target < 0 || fstat(target, &st) != 0)
				continue;
		}
		if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
			if (lister->pattern == NULL)
				matches = TRUE;
			else if (lister->pattern_has_slash)
				matches = g_pattern_spec_match_string(lister->pattern, entry_below);
			else
				matches =
					g_pattern_spec_match_string(lister->pattern, dent->d_name);
			if (matches) {
				AiqFileEntry *entry = g_new0(AiqFileEntry, 1);
				if (lister->entries->len >= AIQ_FILE_LIST_MAX_ENTRIES) {
					g_free(entry);
					g_set_error(
						error,
						AIQ_ERROR,
						AIQ_ERROR_TOO_LARGE,
						_("more than %d entries to list in the file root "
						  "“%s”; narrow the path or the pattern"),
						AIQ_FILE_LIST_MAX_ENTRIES,
						lister->root->name);
					return FALSE;
				}
				entry->path = g_strdup(entry_rel);
				entry->type = S_ISDIR(st.st_mode) ? "directory" : "file";
				entry->size = (gint64)st.st_size;
				entry->modified_us = (gint64)st.st_mtim.tv_sec * G_USEC_PER_SEC +
						     st.st_mtim.tv_nsec / 1000;
				g_ptr_array_add(lister->entries, entry);
			}
		}
		/* descend into real directories only, never through a link */
		if (lister->recursive && is_real_dir) {
			g_auto(AiqFileFd) sub_fd = -1;
			if (depth >= AIQ_FILE_LIST_MAX_DEPTH) {
				g_set_error(
					error,
					AIQ_ERROR,
					AIQ_ERROR_TOO_LARGE,
					_("directories in the file root “%s” are nested more than "
					  "%d deep"),
					lister->root->name,
					AIQ_FILE_LIST_MAX_DEPTH);
				return FALSE;
			}
			sub_fd = openat(dir_fd,
					dent->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub_fd < 0) {
				aiq_file_set_errno_error(error, errno, lister->root, entry_rel);
				return FALSE;
			}
			if (!aiq_file_list_dir(lister,
					       sub_fd,
					       entry_rel,
					       entry_below,
					       depth + 1,
					       error))
				return FALSE;
		}
	}
	if (errno != 0) {
		aiq_file_set_errno_error(error, errno, lister->root, rel);
		return FALSE;
	}
	return TRUE;
}

static JsonNode *
aiq_file_do_list(AiqFileJob *job, AiqFileRoot *root, GCancellable *cancellable, GError **error)
{
	g_auto(AiqFileFd) dir_fd = -1;
	g_autoptr(GPtrArray) entries =
		g_ptr_array_new_with_free_func((GDestroyNotify)aiq_file_entry_free);
	g_autoptr(GPatternSpec) pattern = NULL;
	g_autoptr(JsonObject) result = json_object_new();
	JsonArray *files = json_array_new();
	AiqFileLister lister = { 0 };

	dir_fd = aiq_file_open_beneath(root, job->path, O_RDONLY | O_DIRECTORY, 0);
	if (dir_fd < 0) {
		aiq_file_set_errno_error(error, errno, root, job->path);
		json_array_unref(files);
		return NULL;
	}
	if (job->pattern != NULL)
		pattern = g_pattern_spec_new(job->pattern);
	lister.root = root;
	lister.pattern = pattern;
	lister.pattern_has_slash = job->pattern != NULL && strchr(job->pattern, '/') != NULL;
	lister.recursive = job->recursive;
	lister.entries = entries;
	lister.cancellable = cancellable;
	if (!aiq_file_list_dir(&lister, dir_fd, job->path, "", 0, error)) {
		json_array_unref(files);
		return NULL;
	}

	g_ptr_array_sort(entries, aiq_file_entry_cmp);
	for (guint i = 0; i < entries->len; i++) {
		AiqFileEntry *entry = g_ptr_array_index(entries, i);
		JsonObject *obj = json_object_new();
		g_autofree gchar *modified = aiq_time_to_iso8601(entry->modified_us);
		json_object_set_string_member(obj, "path", entry->path);
		json_object_set_int_member(obj, "size", entry->size);
		json_object_set_string_member(obj, "modified", modified);
		json_object_set_string_member(obj, "type", entry->type);
		json_array_add_object_element(files, obj);
	}
	json_object_set_array_member(result, "files", files);
	json_object_set_int_member(result, "count", entries->len);
	return aiq_json_new_object(g_steal_pointer(&result));
}

static JsonNode *
aiq_file_do_checksum(AiqFileJob *job, AiqFileRoot *root, GCancellable *cancellable, GError **error)
{
	g_auto(AiqFileFd) fd = -1;
	g_autoptr(GChecksum) checksum = g_checksum_new(job->algorithm);
	g_autoptr(JsonObject) result = json_object_new();
	g_autofree guint8 *buf = g_malloc(AIQ_FILE_CHUNK);
	struct stat st;
	gint64 size = 0;

	fd = aiq_file_open_regular(root, job->path, &st, error);
	if (fd < 0)
		return NULL;
	for (;;) {
		gssize n;
		if (g_cancellable_set_error_if_cancelled(cancellable, error))
			return NULL;
		n = aiq_file_read_some(fd, buf, AIQ_FILE_CHUNK);
		if (n < 0) {
			aiq_file_set_errno_error(error, errno, root, job->path);
			return NULL;
		}
		if (n == 0)
			break;
		g_checksum_update(checksum, buf, n);
		size += n;
	}
	json_object_set_string_member(result, "path", job->path);
	json_object_set_string_member(result, "algorithm", job->algorithm_name);
	json_object_set_string_member(result, "checksum", g_checksum_get_string(checksum));
	json_object_set_int_member(result, "size", size);
	return aiq_json_new_object(g_steal_pointer(&result));
}

static void
aiq_file_thread(GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
	AiqFileJob *job = task_data;
	g_auto(AiqFileRoot) root = { .fd = -1 };
	g_auto(AiqFileRoot) to_root_storage = { .fd = -1 };
	AiqFileRoot *to_root = &root;
	g_autoptr(GError) error = NULL;
	JsonNode *result = NULL;

	if (!aiq_file_root_open(&root, job->root_name, job->root_path, job->use_openat2, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (g_strcmp0(job->to_root_name, job->root_name) != 0) {
		if (!aiq_file_root_open(&to_root_storage,
					job->to_root_name,
					job->to_root_path,
					job->use_openat2,
					&error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		to_root = &to_root_storage;
	}

	switch (job->op) {
	case AIQ_FILE_OP_READ:
		result = aiq_file_do_read(job, &root, cancellable, &error);
		break;
	case AIQ_FILE_OP_WRITE:
	case AIQ_FILE_OP_APPEND:
		result = aiq_file_do_write(job, &root, cancellable, &error);
		break;
	case AIQ_FILE_OP_COPY:
		result = aiq_file_do_copy(job, &root, to_root, cancellable, &error);
		break;
	case AIQ_FILE_OP_MOVE:
		result = aiq_file_do_move(job, &root, to_root, cancellable, &error);
		break;
	case AIQ_FILE_OP_DELETE:
		result = aiq_file_do_delete(job, &root, &error);
		break;
	case AIQ_FILE_OP_LIST:
		result = aiq_file_do_list(job, &root, cancellable, &error);
		break;
	case AIQ_FILE_OP_CHECKSUM:
		result = aiq_file_do_checksum(job, &root, cancellable, &error);
		break;
	default:
		g_assert_not_reached();
	}
	if (result == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, result, (GDestroyNotify)json_node_unref);
}

static void
aiq_file_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqStepRun) run = AIQ_STEP_RUN(user_data);
	g_autoptr(GError) error = NULL;
	JsonNode *output = g_task_propagate_pointer(G_TASK(res), &error);

	if (output == NULL) {
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}
	aiq_step_run_return_value(run, output);
}

/* the main-context part: check and copy the parameters */

static gchar *
aiq_file_list_roots(AiqConfig *config)
{
	g_auto(GStrv) names = aiq_config_list_file_roots(config);
	return g_strjoinv(", ", names);
}

static gboolean
aiq_file_lookup_root(AiqConfig *config, const gchar *name, gchar **path, GError **error)
{
	const gchar *value = aiq_config_get_file_root(config, name);
	g_autofree gchar *known = NULL;

	if (value != NULL) {
		*path = g_strdup(value);
		return TRUE;
	}
	known = aiq_file_list_roots(config);
	if (known[0] == '\0') {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("unknown file root “%s”: the agent has no [file-roots] configured"),
			    name);
	} else {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("unknown file root “%s”; the agent has: %s"),
			    name,
			    known);
	}
	return FALSE;
}

/* strict base64: the alphabet, whitespace, and padding only at the end */
static GBytes *
aiq_file_base64_decode(const gchar *text, GError **error)
{
	g_autoptr(GString) clean = g_string_new(NULL);
	guchar *data;
	gsize len = 0;
	gsize pad = 0;

	for (const gchar *p = text; *p != '\0'; p++) {
		if (g_ascii_isspace(*p))
			continue;
		if (*p == '=') {
			pad++;
		} else if (pad > 0 || !(g_ascii_isalnum(*p) || *p == '+' || *p == '/')) {
			g_set_error_literal(error,
					    AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("with.content: not valid base64"));
			return NULL;
		}
		g_string_append_c(clean, *p);
	}
	if (clean->len % 4 != 0 || pad > 2) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("with.content: not valid base64"));
		return NULL;
	}
	if (clean->len == 0)
		return g_bytes_new(NULL, 0);
	data = g_base64_decode(clean->str, &len);
	return g_bytes_new_take(data, len);
}

static void
aiq_file_return_error_literal(AiqStepRun *run, AiqError code, const gchar *message)
{
	aiq_step_run_return_error(run, g_error_new_literal(AIQ_ERROR, code, message));
}

static void
aiq_file_run(AiqStepRun *run)
{
	JsonObject *params = aiq_step_run_get_params(run);
	AiqConfig *config = aiq_step_run_get_config(run);
	g_autoptr(AiqFileJob) job = g_new0(AiqFileJob, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GTask) task = NULL;
	const gchar *op_str = aiq_step_run_get_string(run, "op");
	const gchar *path = aiq_step_run_get_string(run, "path");
	const gchar *to = aiq_step_run_get_string(run, "to");
	const gchar *to_root = aiq_step_run_get_string(run, "to_root");
	const gchar *content = aiq_step_run_get_string(run, "content");
	const gchar *algorithm = aiq_step_run_get_string(run, "algorithm");

	if (op_str == NULL || !aiq_file_op_from_string(op_str, &job->op)) {
		aiq_file_return_error_literal(run,
					      AIQ_ERROR_INVALID_ARGUMENT,
					      _("with.op: unknown op"));
		return;
	}
	job->root_name = g_strdup(aiq_step_run_get_string(run, "root"));
	if (job->root_name == NULL || path == NULL) {
		aiq_file_return_error_literal(run,
					      AIQ_ERROR_INVALID_ARGUMENT,
					      _("with.root and with.path are required"));
		return;
	}
	if (!aiq_file_lookup_root(config, job->root_name, &job->root_path, &error)) {
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}
	job->to_root_name = g_strdup(to_root != NULL ? to_root : job->root_name);
	if (!aiq_file_lookup_root(config, job->to_root_name, &job->to_root_path, &error)) {
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}

	/* confinement, step 1: the syntax of the paths */
	job->path = aiq_file_path_normalize(path);
	if (job->path == NULL) {
		aiq_file_set_outside_error(&error, path, job->root_name);
		aiq_step_run_return_error(run, g_steal_pointer(&error));
		return;
	}
	if (job->op == AIQ_FILE_OP_COPY || job->op == AIQ_FILE_OP_MOVE) {
		if (to == NULL) {
			aiq_step_run_return_error(run,
						  g_error_new(AIQ_ERROR,
							      AIQ_ERROR_INVALID_ARGUMENT,
							      _("with.to: op “%s” needs “to”"),
							      op_str));
			return;
		}
		job->to = aiq_file_path_normalize(to);
		if (job->to == NULL) {
			aiq_file_set_outside_error(&error, to, job->to_root_name);
			aiq_step_run_return_error(run, g_steal_pointer(&error));
			return;
		}
	}

	if (job->op == AIQ_FILE_OP_WRITE || job->op == AIQ_FILE_OP_APPEND) {
		if (content == NULL) {
			aiq_step_run_return_error(
				run,
				g_error_new(AIQ_ERROR,
					    AIQ_ERROR_INVALID_ARGUMENT,
					    _("with.content: op “%s” needs “content”"),
					    op_str));
			return;
		}
	}
	job->base64 = g_strcmp0(aiq_step_run_get_string(run, "encoding"), "base64") == 0;
	if (content != NULL) {
		if (job->base64) {
			job->content = aiq_file_base64_decode(content, &error);
			if (job->content == NULL) {
				aiq_step_run_return_error(run, g_steal_pointer(&error));
				return;
			}
		} else {
			job->content = g_bytes_new(content, strlen(content));
		}
	}
	job->pattern = g_strdup(aiq_step_run_get_string(run, "pattern"));
	job->recursive = aiq_step_run_get_bool(run, "recursive");
	job->algorithm_name = g_strdup(algorithm != NULL ? algorithm : "sha256");
	if (g_strcmp0(job->algorithm_name, "sha1") == 0)
		job->algorithm = G_CHECKSUM_SHA1;
	else if (g_strcmp0(job->algorithm_name, "md5") == 0)
		job->algorithm = G_CHECKSUM_MD5;
	else
		job->algorithm = G_CHECKSUM_SHA256;
	job->max_size = aiq_json_object_get_int(params, "max_size", 10 * 1024 * 1024);
	if (job->max_size < 0) {
		aiq_file_return_error_literal(run,
					      AIQ_ERROR_INVALID_ARGUMENT,
					      _("with.max_size: must not be negative"));
		return;
	}
	if (json_object_has_member(params, "overwrite"))
		job->overwrite = aiq_step_run_get_bool(run, "overwrite");
	else
		job->overwrite = job->op == AIQ_FILE_OP_WRITE;
	job->create_dirs = aiq_step_run_get_bool(run, "create_dirs");
	job->use_openat2 = aiq_file_use_openat2();

	if (job->to != NULL)
		aiq_step_run_log(run,
				 "%s %s:%s to %s:%s",
				 op_str,
				 job->root_name,
				 job->path,
				 job->to_root_name,
				 job->to);
	else
		aiq_step_run_log(run, "%s %s:%s", op_str, job->root_name, job->path);

	/* blocking I/O goes to a thread; the run is not the task's source object
	 * so that its last reference is never dropped in that thread */
	task = g_task_new(NULL,
			  aiq_step_run_get_cancellable(run),
			  aiq_file_done_cb,
			  g_object_ref(run));
	g_task_set_source_tag(task, aiq_file_run);
	g_task_set_task_data(task, g_steal_pointer(&job), (GDestroyNotify)aiq_file_job_free);
	g_task_run_in_thread(task, aiq_file_thread);
}

const AiqStepKind aiq_step_kind_file = {
	.name = "file",
	.title = N_("Files"),
	.description =
		N_("Reads, writes, copies, moves, deletes, lists or checksums files inside a "
		   "file root configured on the agent."),
	.icon_name = "folder-documents-symbolic",
	.params = aiq_file_params,
	.flags = AIQ_STEP_KIND_FLAG_HOST_ACCESS,
	.validate = aiq_file_validate,
	.run = aiq_file_run,
};
