/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqAgent"

#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aiq-agent-secret-store.h"
#include "aiq-error.h"
#include "aiq-json.h"

/*
 * Three files in the state directory:
 *
 *   secrets.key   32 random bytes, mode 0600, created once (O_CREAT | O_EXCL on a
 *                 temporary name, then linked into place, so that a crash never
 *                 leaves a short key behind); refused when others may read it
 *   secrets.enc   "AIQSEC1\n", a fresh 24-byte nonce, then the secretbox
 *                 (XSalsa20-Poly1305) of a JSON object {name: value}; mode
 *                 0600, replaced atomically on every write
 *   secrets.lock  flock()ed around every read-modify-write, so that two
 *                 processes (the CLI run twice, or the CLI and the agent) never
 *                 lose each other's updates
 *
 * Readers take no lock: the file they read is always a complete one. A missing
 * secrets.enc means no secrets.
 */

#define AIQ_SECRET_STORE_KEY_FILE "secrets.key"
#define AIQ_SECRET_STORE_DATA_FILE "secrets.enc"
#define AIQ_SECRET_STORE_LOCK_FILE "secrets.lock"
#define AIQ_SECRET_STORE_MAGIC "AIQSEC1\n"
#define AIQ_SECRET_STORE_MAGIC_LEN 8

#define AIQ_SECRET_NAME_MAX 128
#define AIQ_SECRET_VALUE_MAX (64 * 1024)
#define AIQ_SECRET_STORE_MAX (16 * 1024 * 1024) /* the whole encrypted file */
#define AIQ_SECRET_STORE_LOCK_MS 30000

struct _AiqAgentSecretStore {
	GObject parent_instance;
	gchar *state_dir;
	gchar *key_path;
	gchar *data_path;
	gchar *lock_path;
};

G_DEFINE_TYPE(AiqAgentSecretStore, aiq_agent_secret_store, G_TYPE_OBJECT)

/* the key, in memory libsodium guards and wipes on free */
typedef struct {
	guint8 bytes[crypto_secretbox_KEYBYTES];
} AiqSecretKey;

static void
aiq_secret_key_free(AiqSecretKey *key)
{
	sodium_free(key);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqSecretKey, aiq_secret_key_free)

/* a plaintext buffer, wiped before it is freed */
typedef struct {
	guint8 *data;
	gsize len;  /* allocated, all of it wiped */
	gsize used; /* the text in it */
} AiqSecretBuf;

static void
aiq_secret_buf_free(AiqSecretBuf *buf)
{
	if (buf->data != NULL) {
		sodium_memzero(buf->data, buf->len);
		g_free(buf->data);
	}
	g_free(buf);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqSecretBuf, aiq_secret_buf_free)

static void
aiq_secret_value_free(gpointer data)
{
	gchar *value = data;
	sodium_memzero(value, strlen(value));
	g_free(value);
}

/* name -> value, values wiped when removed */
static GHashTable *
aiq_secret_table_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, aiq_secret_value_free);
}

static gint
aiq_secret_name_cmp(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar **)a, *(const gchar **)b);
}

static GPtrArray *
aiq_secret_table_sorted_names(GHashTable *table)
{
	GPtrArray *names = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;
	g_hash_table_iter_init(&iter, table);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(names, key);
	g_ptr_array_sort(names, aiq_secret_name_cmp);
	return names;
}

static gboolean
aiq_secret_store_ensure_sodium(GError **error)
{
	if (sodium_init() < 0) {
		g_set_error_literal(
			error,
			AIQ_ERROR,
			AIQ_ERROR_FAILED,
			_("the cryptography library (libsodium) cannot be initialized"));
		return FALSE;
	}
	return TRUE;
}

static gboolean
aiq_secret_name_is_valid(const gchar *name)
{
	gsize len = 0;
	if (!(g_ascii_isalpha(name[0]) || name[0] == '_'))
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++, len++) {
		if (!g_ascii_isalnum(*p) && *p != '_')
			return FALSE;
	}
	return len <= AIQ_SECRET_NAME_MAX;
}

static gboolean
aiq_secret_check_name(const gchar *name, GError **error)
{
	g_autofree gchar *shown = NULL;

	if (aiq_secret_name_is_valid(name))
		return TRUE;
	/* a bad name is shown, but printable and bounded */
	shown = g_utf8_make_valid(name, -1);
	if (g_utf8_strlen(shown, -1) > AIQ_SECRET_NAME_MAX) {
		gchar *end = g_utf8_offset_to_pointer(shown, AIQ_SECRET_NAME_MAX);
		*end = '\0';
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("invalid secret name “%s…”: at most %u characters"),
			    shown,
			    (guint)AIQ_SECRET_NAME_MAX);
		return FALSE;
	}
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_INVALID_ARGUMENT,
		    _("invalid secret name “%s”: use letters, digits and _, starting with a "
		      "letter or _ (at most %u characters)"),
		    shown,
		    (guint)AIQ_SECRET_NAME_MAX);
	return FALSE;
}

/* never names the value: it is the secret */
static gboolean
aiq_secret_check_value(const gchar *name, const gchar *value, GError **error)
{
	gsize len = strlen(value);
	if (len > AIQ_SECRET_VALUE_MAX) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("the value of secret “%s” is %zu bytes long; at most %u are allowed"),
			    name,
			    len,
			    (guint)AIQ_SECRET_VALUE_MAX);
		return FALSE;
	}
	if (!g_utf8_validate(value, len, NULL)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("the value of secret “%s” is not valid UTF-8 text"),
			    name);
		return FALSE;
	}
	return TRUE;
}

static void
aiq_secret_set_io_error(GError **error, gint errsv, const gchar *path, const gchar *what)
{
	g_set_error(error,
		    AIQ_ERROR,
		    errsv == EACCES || errsv == EPERM ? AIQ_ERROR_PERMISSION_DENIED
						      : AIQ_ERROR_JOURNAL,
		    /* TRANSLATORS: FILE: cannot read: Permission denied */
		    _("%s: %s: %s"),
		    path,
		    what,
		    g_strerror(errsv));
}

/* ---- files ---- */

static gboolean
aiq_secret_store_ensure_dir(AiqAgentSecretStore *self, GError **error)
{
	if (g_mkdir_with_parents(self->state_dir, 0700) != 0) {
		aiq_secret_set_io_error(error,
					errno,
					self->state_dir,
					_("cannot create the state directory"));
		return FALSE;
	}
	return TRUE;
}

/* the parent directory, so that a new name survives a crash */
static void
aiq_secret_store_sync_dir(AiqAgentSecretStore *self)
{
	gint fd = open(self->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

/*
 * Reads a whole regular file of at most @max bytes, refusing symlinks.
 * Returns FALSE with @error unset when the file does not exist.
 */
static gboolean
aiq_secret_store_read_file(const gchar *path,
			   gsize max,
			   gboolean check_private,
			   guint8 **data,
			   gsize *len,
			   GError **error)
{
	g_autofree guint8 *buf = NULL;
	struct stat st;
	gsize done = 0;
	gint fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return FALSE;
		if (errno == ELOOP) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_PERMISSION_DENIED,
				    _("%s: is a symbolic link; it must be a regular file"),
				    path);
			return FALSE;
		}
		aiq_secret_set_io_error(error, errno, path, _("cannot open"));
		return FALSE;
	}
	if (fstat(fd, &st) != 0) {
		aiq_secret_set_io_error(error, errno, path, _("cannot read"));
		close(fd);
		return FALSE;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, AIQ_ERROR, AIQ_ERROR_JOURNAL, _("%s: not a regular file"), path);
		close(fd);
		return FALSE;
	}
	if (check_private && (st.st_mode & 0077) != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_PERMISSION_DENIED,
			    _("%s: other users may access the key (mode %04o); refusing to use "
			      "it. Make it private with “chmod 600 %s”, and consider setting "
			      "the secrets again with a new key"),
			    path,
			    (guint)(st.st_mode & 07777),
			    path);
		close(fd);
		return FALSE;
	}
	if ((guint64)st.st_size > max) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_TOO_LARGE,
			    _("%s: %" PRIu64 " bytes, more than the %zu allowed"),
			    path,
			    (guint64)st.st_size,
			    max);
		close(fd);
		return FALSE;
	}
	buf = g_malloc(MAX(st.st_size, 1));
	while (done < (gsize)st.st_size) {
		gssize n = read(fd, buf + done, st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			aiq_secret_set_io_error(error, errno, path, _("cannot read"));
			close(fd);
			return FALSE;
		}
		if (n == 0)
			break;
		done += n;
	}
	close(fd);
	*data = g_steal_pointer(&buf);
	*len = done;
	return TRUE;
}

/* Returns: (nullable): the key; %NULL with @error unset when there is none */
static AiqSecretKey *
aiq_secret_store_read_key(AiqAgentSecretStore *self, GError **error)
{
	g_autoptr(AiqSecretKey) key = NULL;
	g_autofree guint8 *data = NULL;
	gsize len = 0;

	if (!aiq_secret_store_read_file(self->key_path, 4096, TRUE, &data, &len, error))
		return NULL;
	if (len != crypto_secretbox_KEYBYTES) {
		sodium_memzero(data, len);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: the key is %zu bytes long instead of %u; it is "
			      "damaged or not a secrets key"),
			    self->key_path,
			    len,
			    (guint)crypto_secretbox_KEYBYTES);
		return NULL;
	}
	key = sodium_malloc(sizeof(AiqSecretKey));
	if (key == NULL) {
		sodium_memzero(data, len);
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("cannot allocate memory for the secrets key"));
		return NULL;
	}
	memcpy(key->bytes, data, crypto_secretbox_KEYBYTES);
	sodium_memzero(data, len);
	return g_steal_pointer(&key);
}

/*
 * Creates the key: O_CREAT | O_EXCL on a temporary name, written and synced,
 * then linked into place (link() fails when the key exists). The caller holds
 * the lock.
 */
static AiqSecretKey *
aiq_secret_store_create_key(AiqAgentSecretStore *self, GError **error)
{
	g_autoptr(AiqSecretKey) key = sodium_malloc(sizeof(AiqSecretKey));
	g_autofree gchar *tmp_path = g_strconcat(self->key_path, ".new", NULL);
	gsize done = 0;
	gint fd;

	if (key == NULL) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("cannot allocate memory for the secrets key"));
		return NULL;
	}
	randombytes_buf(key->bytes, sizeof(key->bytes));

	/* left over from a crash while the key was being written: never used */
	(void)g_unlink(tmp_path);
	fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		aiq_secret_set_io_error(error, errno, tmp_path, _("cannot create the key"));
		return NULL;
	}
	while (done < sizeof(key->bytes)) {
		gssize n = write(fd, key->bytes + done, sizeof(key->bytes) - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			aiq_secret_set_io_error(error, errno, tmp_path, _("cannot write the key"));
			close(fd);
			(void)g_unlink(tmp_path);
			return NULL;
		}
		done += n;
	}
	if (fsync(fd) != 0) {
		aiq_secret_set_io_error(error, errno, tmp_path, _("cannot write the key"));
		close(fd);
		(void)g_unlink(tmp_path);
		return NULL;
	}
	close(fd);
	if (link(tmp_path, self->key_path) != 0) {
		aiq_secret_set_io_error(error, errno, self->key_path, _("cannot create the key"));
		(void)g_unlink(tmp_path);
		return NULL;
	}
	(void)g_unlink(tmp_path);
	aiq_secret_store_sync_dir(self);
	return g_steal_pointer(&key);
}

/* JSON text of @table, in a buffer sized so that it never moves (no stray copies) */
static AiqSecretBuf *
aiq_secret_table_to_json(GHashTable *table)
{
	g_autoptr(GPtrArray) names = aiq_secret_table_sorted_names(table);
	AiqSecretBuf *buf = g_new0(AiqSecretBuf, 1);
	gsize size = 3;
	gsize pos = 0;

	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index(names, i);
		const gchar *value = g_hash_table_lookup(table, name);
		/* "name":"value", with \u00XX for each byte at worst */
		size += strlen(name) + 6 * strlen(value) + 6;
	}
	buf->data = g_malloc(size);
	buf->len = size;
	buf->data[pos++] = '{';
	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index(names, i);
		const gchar *value = g_hash_table_lookup(table, name);
		gsize name_len = strlen(name);
		if (i > 0)
			buf->data[pos++] = ',';
		/* names are [A-Za-z0-9_]: nothing to escape */
		buf->data[pos++] = '"';
		memcpy(buf->data + pos, name, name_len);
		pos += name_len;
		buf->data[pos++] = '"';
		buf->data[pos++] = ':';
		buf->data[pos++] = '"';
		for (const guchar *p = (const guchar *)value; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\') {
				buf->data[pos++] = '\\';
				buf->data[pos++] = *p;
			} else if (*p < 0x20) {
				static const gchar hex[] = "0123456789abcdef";
				buf->data[pos++] = '\\';
				buf->data[pos++] = 'u';
				buf->data[pos++] = '0';
				buf->data[pos++] = '0';
				buf->data[pos++] = hex[*p >> 4];
				buf->data[pos++] = hex[*p & 0xf];
			} else {
				buf->data[pos++] = *p;
			}
		}
		buf->data[pos++] = '"';
	}
	buf->data[pos++] = '}';
	g_assert(pos <= size);
	buf->used = pos;
	return buf;
}

static GHashTable *
aiq_secret_table_from_json(AiqAgentSecretStore *self, const guint8 *data, gsize len, GError **error)
{
	g_autoptr(GHashTable) table = aiq_secret_table_new();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) error_local = NULL;
	JsonObjectIter iter;
	const gchar *name;
	JsonNode *value;

	root = aiq_json_parse((const gchar *)data, len, 2, &error_local);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		/* the parser's message may quote the text: leave it out */
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: decrypted, but the contents are not a set of secrets"),
			    self->data_path);
		return NULL;
	}
	json_object_iter_init(&iter, json_node_get_object(root));
	while (json_object_iter_next(&iter, &name, &value)) {
		if (!aiq_secret_name_is_valid(name) || !aiq_json_is_string(value)) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_JOURNAL,
				    _("%s: decrypted, but the contents are not a set of secrets"),
				    self->data_path);
			return NULL;
		}
		g_hash_table_replace(table, g_strdup(name), g_strdup(json_node_get_string(value)));
	}
	return g_steal_pointer(&table);
}

/*
 * Reads every secret. Returns an empty table when there is no secrets file;
 * @key_out (optional) receives the key when one exists.
 */
static GHashTable *
aiq_secret_store_read(AiqAgentSecretStore *self, AiqSecretKey **key_out, GError **error)
{
	g_autoptr(AiqSecretKey) key = NULL;
	g_autoptr(AiqSecretBuf) plain = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree guint8 *data = NULL;
	const guint8 *nonce;
	const guint8 *box;
	gsize box_len;
	gsize len = 0;
	GHashTable *table;

	if (!aiq_secret_store_ensure_sodium(error))
		return NULL;
	if (!aiq_secret_store_read_file(self->data_path,
					AIQ_SECRET_STORE_MAX,
					FALSE,
					&data,
					&len,
					&error_local)) {
		if (error_local != NULL) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		/* no secrets yet; the key may or may not exist */
		if (key_out != NULL) {
			key = aiq_secret_store_read_key(self, &error_local);
			if (error_local != NULL) {
				g_propagate_error(error, g_steal_pointer(&error_local));
				return NULL;
			}
			*key_out = g_steal_pointer(&key);
		}
		return aiq_secret_table_new();
	}

	key = aiq_secret_store_read_key(self, &error_local);
	if (key == NULL) {
		if (error_local != NULL) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: cannot be read without its key, and %s is missing; restore "
			      "the key, or remove both files to start again without secrets"),
			    self->data_path,
			    self->key_path);
		return NULL;
	}

	if (len < AIQ_SECRET_STORE_MAGIC_LEN ||
	    memcmp(data, AIQ_SECRET_STORE_MAGIC, AIQ_SECRET_STORE_MAGIC_LEN) != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: not an AutomateIQ secrets file"),
			    self->data_path);
		return NULL;
	}
	if (len <
	    AIQ_SECRET_STORE_MAGIC_LEN + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: the file is truncated"),
			    self->data_path);
		return NULL;
	}
	nonce = data + AIQ_SECRET_STORE_MAGIC_LEN;
	box = nonce + crypto_secretbox_NONCEBYTES;
	box_len = len - AIQ_SECRET_STORE_MAGIC_LEN - crypto_secretbox_NONCEBYTES;

	plain = g_new0(AiqSecretBuf, 1);
	plain->len = box_len - crypto_secretbox_MACBYTES;
	plain->used = plain->len;
	plain->data = g_malloc(MAX(plain->len, 1));
	if (crypto_secretbox_open_easy(plain->data, box, box_len, nonce, key->bytes) != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("%s: cannot be decrypted with the key in %s: the file was changed "
			      "or damaged, or the key is not the one it was written with"),
			    self->data_path,
			    self->key_path);
		return NULL;
	}
	table = aiq_secret_table_from_json(self, plain->data, plain->len, error);
	if (table == NULL)
		return NULL;
	if (key_out != NULL)
		*key_out = g_steal_pointer(&key);
	return table;
}

static gboolean
aiq_secret_store_write(AiqAgentSecretStore *self,
		       AiqSecretKey *key,
		       GHashTable *table,
		       GError **error)
{
	g_autoptr(AiqSecretBuf) plain = aiq_secret_table_to_json(table);
	g_autofree guint8 *data = NULL;
	g_autoptr(GError) error_local = NULL;
	gsize len = AIQ_SECRET_STORE_MAGIC_LEN + crypto_secretbox_NONCEBYTES +
		    crypto_secretbox_MACBYTES + plain->used;
	guint8 *nonce;

	if (len > AIQ_SECRET_STORE_MAX) {
		g_set_error(
			error,
			AIQ_ERROR,
			AIQ_ERROR_TOO_LARGE,
			_("the secrets would take %zu bytes, more than the %u allowed; delete some first"),
			len,
			(guint)AIQ_SECRET_STORE_MAX);
		return FALSE;
	}
	data = g_malloc(len);
	memcpy(data, AIQ_SECRET_STORE_MAGIC, AIQ_SECRET_STORE_MAGIC_LEN);
	nonce = data + AIQ_SECRET_STORE_MAGIC_LEN;
	randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
	if (crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
				  plain->data,
				  plain->used,
				  nonce,
				  key->bytes) != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    _("%s: cannot encrypt the secrets"),
			    self->data_path);
		return FALSE;
	}
	if (!g_file_set_contents_full(self->data_path,
				      (const gchar *)data,
				      len,
				      G_FILE_SET_CONTENTS_CONSISTENT,
				      0600,
				      &error_local)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_JOURNAL,
			    _("cannot save the secrets: %s"),
			    error_local->message);
		return FALSE;
	}
	return TRUE;
}

/* ---- the lock ---- */

static void
aiq_secret_store_unlock(gint *fd)
{
	if (*fd >= 0) {
		(void)flock(*fd, LOCK_UN);
		close(*fd);
		*fd = -1;
	}
}

/* waits up to AIQ_SECRET_STORE_LOCK_MS for the other writer to finish */
static gboolean
aiq_secret_store_lock(AiqAgentSecretStore *self, gint *fd_out, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + AIQ_SECRET_STORE_LOCK_MS * 1000;
	gint fd;

	fd = open(self->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		aiq_secret_set_io_error(error, errno, self->lock_path, _("cannot open the lock"));
		return FALSE;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		gint errsv = errno;
		if (errsv == EINTR)
			continue;
		if (errsv != EWOULDBLOCK) {
			aiq_secret_set_io_error(error, errsv, self->lock_path, _("cannot lock"));
			close(fd);
			return FALSE;
		}
		if (g_get_monotonic_time() > deadline) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_UNAVAILABLE,
				    _("%s: another process has been changing the secrets for %u "
				      "seconds; try again later"),
				    self->lock_path,
				    (guint)(AIQ_SECRET_STORE_LOCK_MS / 1000));
			close(fd);
			return FALSE;
		}
		g_usleep(2000 + g_random_int_range(0, 3000));
	}
	*fd_out = fd;
	return TRUE;
}

/* ---- the API ---- */

gboolean
aiq_agent_secret_store_set(AiqAgentSecretStore *self,
			   const gchar *name,
			   const gchar *value,
			   GError **error)
{
	g_autoptr(AiqSecretKey) key = NULL;
	g_autoptr(GHashTable) table = NULL;
	gint lock_fd = -1;
	gboolean ret = FALSE;

	g_return_val_if_fail(AIQ_IS_AGENT_SECRET_STORE(self), FALSE);
	g_return_val_if_fail(name != NULL, FALSE);
	g_return_val_if_fail(value != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!aiq_secret_check_name(name, error) || !aiq_secret_check_value(name, value, error))
		return FALSE;
	if (!aiq_secret_store_ensure_sodium(error) || !aiq_secret_store_ensure_dir(self, error))
		return FALSE;
	if (!aiq_secret_store_lock(self, &lock_fd, error))
		return FALSE;
	table = aiq_secret_store_read(self, &key, error);
	if (table == NULL)
		goto out;
	if (key == NULL) {
		key = aiq_secret_store_create_key(self, error);
		if (key == NULL)
			goto out;
	}
	g_hash_table_replace(table, g_strdup(name), g_strdup(value));
	ret = aiq_secret_store_write(self, key, table, error);
out:
	aiq_secret_store_unlock(&lock_fd);
	if (!ret)
		g_prefix_error(error, _("cannot set secret “%s”: "), name);
	return ret;
}

gboolean
aiq_agent_secret_store_delete(AiqAgentSecretStore *self, const gchar *name, GError **error)
{
	g_autoptr(AiqSecretKey) key = NULL;
	g_autoptr(GHashTable) table = NULL;
	gint lock_fd = -1;
	gboolean ret = FALSE;

	g_return_val_if_fail(AIQ_IS_AGENT_SECRET_STORE(self), FALSE);
	g_return_val_if_fail(name != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!aiq_secret_check_name(name, error))
		return FALSE;
	if (!aiq_secret_store_ensure_sodium(error))
		return FALSE;
	/* nothing to delete (and nothing to lock) without a state directory */
	if (!g_file_test(self->state_dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("no secret named “%s” is set on this agent"),
			    name);
		return FALSE;
	}
	if (!aiq_secret_store_lock(self, &lock_fd, error))
		return FALSE;
	table = aiq_secret_store_read(self, &key, error);
	if (table == NULL) {
		g_prefix_error(error, _("cannot delete secret “%s”: "), name);
		goto out;
	}
	if (!g_hash_table_remove(table, name)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_NOT_FOUND,
			    _("no secret named “%s” is set on this agent"),
			    name);
		goto out;
	}
	/* a secret was there, so the file and its key exist */
	g_assert(key != NULL);
	ret = aiq_secret_store_write(self, key, table, error);
	if (!ret)
		g_prefix_error(error, _("cannot delete secret “%s”: "), name);
out:
	aiq_secret_store_unlock(&lock_fd);
	return ret;
}

gchar **
aiq_agent_secret_store_list(AiqAgentSecretStore *self, GError **error)
{
	g_autoptr(GHashTable) table = NULL;
	g_autoptr(GPtrArray) names = NULL;
	GPtrArray *result;

	g_return_val_if_fail(AIQ_IS_AGENT_SECRET_STORE(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	table = aiq_secret_store_read(self, NULL, error);
	if (table == NULL)
		return NULL;
	names = aiq_secret_table_sorted_names(table);
	result = g_ptr_array_new_full(names->len + 1, NULL);
	for (guint i = 0; i < names->len; i++)
		g_ptr_array_add(result, g_strdup(g_ptr_array_index(names, i)));
	g_ptr_array_add(result, NULL);
	return (gchar **)g_ptr_array_free(result, FALSE);
}

AiqSecrets *
aiq_agent_secret_store_load(AiqAgentSecretStore *self, GError **error)
{
	g_autoptr(GHashTable) table = NULL;
	g_autoptr(AiqSecrets) secrets = NULL;
	GHashTableIter iter;
	gpointer name;
	gpointer value;

	g_return_val_if_fail(AIQ_IS_AGENT_SECRET_STORE(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	table = aiq_secret_store_read(self, NULL, error);
	if (table == NULL)
		return NULL;
	secrets = aiq_secrets_new();
	g_hash_table_iter_init(&iter, table);
	while (g_hash_table_iter_next(&iter, &name, &value))
		aiq_secrets_set(secrets, name, value);
	return g_steal_pointer(&secrets);
}

static void
aiq_agent_secret_store_finalize(GObject *object)
{
	AiqAgentSecretStore *self = AIQ_AGENT_SECRET_STORE(object);
	g_free(self->state_dir);
	g_free(self->key_path);
	g_free(self->data_path);
	g_free(self->lock_path);
	G_OBJECT_CLASS(aiq_agent_secret_store_parent_class)->finalize(object);
}

static void
aiq_agent_secret_store_class_init(AiqAgentSecretStoreClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = aiq_agent_secret_store_finalize;
}

static void
aiq_agent_secret_store_init(AiqAgentSecretStore *self)
{
}

/**
 * aiq_agent_secret_store_new:
 * @state_dir: the agent's state directory; created (mode 0700) on the first write
 *
 * Returns: (transfer full): a store; nothing is read or written until it is used
 */
AiqAgentSecretStore *
aiq_agent_secret_store_new(const gchar *state_dir)
{
	AiqAgentSecretStore *self;
	g_return_val_if_fail(state_dir != NULL, NULL);
	self = g_object_new(AIQ_TYPE_AGENT_SECRET_STORE, NULL);
	self->state_dir = g_strdup(state_dir);
	self->key_path = g_build_filename(state_dir, AIQ_SECRET_STORE_KEY_FILE, NULL);
	self->data_path = g_build_filename(state_dir, AIQ_SECRET_STORE_DATA_FILE, NULL);
	self->lock_path = g_build_filename(state_dir, AIQ_SECRET_STORE_LOCK_FILE, NULL);
	return self;
}
