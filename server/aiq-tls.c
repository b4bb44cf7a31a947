/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqServer"

#include "config.h"

#include <arpa/inet.h>
#include <glib/gi18n.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "aiq-error.h"
#include "aiq-tls.h"

typedef struct gnutls_x509_crt_int AiqX509Crt;
typedef struct gnutls_x509_privkey_int AiqX509Key;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqX509Crt, gnutls_x509_crt_deinit)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqX509Key, gnutls_x509_privkey_deinit)

static gboolean
aiq_tls_check(gint rc, const gchar *what, GError **error)
{
	if (rc >= 0)
		return TRUE;
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_FAILED,
		    _("cannot make a certificate (%s): %s"),
		    what,
		    gnutls_strerror(rc));
	return FALSE;
}

static gboolean
aiq_tls_add_san(gnutls_x509_crt_t crt, const gchar *name, GError **error)
{
	guint8 addr[16];
	if (inet_pton(AF_INET, name, addr) == 1)
		return aiq_tls_check(gnutls_x509_crt_set_subject_alt_name(crt,
									  GNUTLS_SAN_IPADDRESS,
									  addr,
									  4,
									  GNUTLS_FSAN_APPEND),
				     "ip",
				     error);
	if (inet_pton(AF_INET6, name, addr) == 1)
		return aiq_tls_check(gnutls_x509_crt_set_subject_alt_name(crt,
									  GNUTLS_SAN_IPADDRESS,
									  addr,
									  16,
									  GNUTLS_FSAN_APPEND),
				     "ip",
				     error);
	return aiq_tls_check(gnutls_x509_crt_set_subject_alt_name(crt,
								  GNUTLS_SAN_DNSNAME,
								  name,
								  strlen(name),
								  GNUTLS_FSAN_APPEND),
			     "dns",
			     error);
}

/**
 * aiq_tls_ensure_self_signed:
 * @hostnames: (nullable): names to put in the certificate besides
 *   localhost, 127.0.0.1 and ::1
 * @created: (out): whether it was made now
 *
 * Makes `tls.crt` and `tls.key` (mode 0600) in @data_dir on first start: an
 * ECDSA P-256 certificate valid ten years. Kept afterwards.
 */
gboolean
aiq_tls_ensure_self_signed(const gchar *data_dir,
			   gchar **hostnames,
			   gchar **cert_path,
			   gchar **key_path,
			   gboolean *created,
			   GError **error)
{
	g_autoptr(AiqX509Crt) crt = NULL;
	g_autoptr(AiqX509Key) key = NULL;
	gnutls_datum_t crt_pem = { NULL, 0 };
	gnutls_datum_t key_pem = { NULL, 0 };
	guint8 serial[16];
	time_t now = time(NULL);
	const gchar *cn = hostnames != NULL && hostnames[0] != NULL ? hostnames[0] : "localhost";
	const gchar *defaults[] = { "localhost", "127.0.0.1", "::1" };
	gboolean ok = FALSE;

	*cert_path = g_build_filename(data_dir, "tls.crt", NULL);
	*key_path = g_build_filename(data_dir, "tls.key", NULL);
	*created = FALSE;
	if (g_file_test(*cert_path, G_FILE_TEST_EXISTS) &&
	    g_file_test(*key_path, G_FILE_TEST_EXISTS))
		return TRUE;
	if (g_mkdir_with_parents(data_dir, 0700) != 0) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_FAILED,
			    _("cannot create %s: %s"),
			    data_dir,
			    g_strerror(errno));
		return FALSE;
	}
	if (!aiq_tls_check(gnutls_x509_privkey_init(&key), "key", error) ||
	    !aiq_tls_check(
		    gnutls_x509_privkey_generate(key,
						 GNUTLS_PK_ECDSA,
						 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
						 0),
		    "key",
		    error) ||
	    !aiq_tls_check(gnutls_x509_crt_init(&crt), "certificate", error) ||
	    !aiq_tls_check(gnutls_x509_crt_set_version(crt, 3), "version", error))
		return FALSE;
	if (!aiq_tls_check(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)), "serial", error))
		return FALSE;
	serial[0] &= 0x7f;
	if (!aiq_tls_check(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)),
			   "serial",
			   error) ||
	    !aiq_tls_check(gnutls_x509_crt_set_activation_time(crt, now - 3600), "time", error) ||
	    !aiq_tls_check(gnutls_x509_crt_set_expiration_time(crt, now + 10 * 365 * 24 * 3600),
			   "time",
			   error) ||
	    !aiq_tls_check(gnutls_x509_crt_set_dn_by_oid(crt,
							 GNUTLS_OID_X520_COMMON_NAME,
							 0,
							 cn,
							 strlen(cn)),
			   "name",
			   error) ||
	    !aiq_tls_check(gnutls_x509_crt_set_dn_by_oid(crt,
							 GNUTLS_OID_X520_ORGANIZATION_NAME,
							 0,
							 "AutomateIQ",
							 10),
			   "name",
			   error))
		return FALSE;
	for (guint i = 0; hostnames != NULL && hostnames[i] != NULL; i++) {
		if (!aiq_tls_add_san(crt, hostnames[i], error))
			return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(defaults); i++) {
		if ((hostnames == NULL ||
		     !g_strv_contains((const gchar *const *)hostnames, defaults[i])) &&
		    !aiq_tls_add_san(crt, defaults[i], error))
			return FALSE;
	}
	if (!aiq_tls_check(gnutls_x509_crt_set_key(crt, key), "key", error) ||
	    !aiq_tls_check(gnutls_x509_crt_set_basic_constraints(crt, 0, -1),
			   "constraints",
			   error) ||
	    !aiq_tls_check(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE),
			   "usage",
			   error) ||
	    !aiq_tls_check(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
			   "purpose",
			   error) ||
	    !aiq_tls_check(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0),
			   "sign",
			   error) ||
	    !aiq_tls_check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &crt_pem),
			   "export",
			   error) ||
	    !aiq_tls_check(gnutls_x509_privkey_export2_pkcs8(key,
							     GNUTLS_X509_FMT_PEM,
							     NULL,
							     GNUTLS_PKCS_PLAIN,
							     &key_pem),
			   "export",
			   error))
		goto out;
	/* the key first, readable by us alone */
	if (!g_file_set_contents_full(*key_path,
				      (const gchar *)key_pem.data,
				      key_pem.size,
				      G_FILE_SET_CONTENTS_CONSISTENT,
				      0600,
				      error) ||
	    !g_file_set_contents_full(*cert_path,
				      (const gchar *)crt_pem.data,
				      crt_pem.size,
				      G_FILE_SET_CONTENTS_CONSISTENT,
				      0644,
				      error)) {
		aiq_error_convert(error);
		goto out;
	}
	*created = TRUE;
	ok = TRUE;
out:
	if (key_pem.data != NULL) {
		gnutls_memset(key_pem.data, 0, key_pem.size);
		gnutls_free(key_pem.data);
	}
	gnutls_free(crt_pem.data);
	return ok;
}

/**
 * aiq_tls_fingerprint:
 *
 * Returns: the SHA-256 fingerprint of @cert, as `AB:CD:…`
 */
gchar *
aiq_tls_fingerprint(GTlsCertificate *cert)
{
	g_autoptr(GByteArray) der = NULL;
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 digest[32];
	gsize len = sizeof(digest);
	GString *str = g_string_new(NULL);
	g_object_get(cert, "certificate", &der, NULL);
	g_checksum_update(checksum, der->data, der->len);
	g_checksum_get_digest(checksum, digest, &len);
	for (gsize i = 0; i < len; i++)
		g_string_append_printf(str, "%s%02X", i > 0 ? ":" : "", digest[i]);
	return g_string_free(str, FALSE);
}
