/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <gio/gio.h>

#include "aiq-error.h"

static const gchar *aiq_error_names[] = {
	[AIQ_ERROR_FAILED] = "failed",
	[AIQ_ERROR_INVALID_ARGUMENT] = "invalid_argument",
	[AIQ_ERROR_INVALID_DOCUMENT] = "invalid_document",
	[AIQ_ERROR_INVALID_DEFINITION] = "invalid_definition",
	[AIQ_ERROR_INVALID_INPUT] = "invalid_input",
	[AIQ_ERROR_TOO_LARGE] = "too_large",
	[AIQ_ERROR_NOT_FOUND] = "not_found",
	[AIQ_ERROR_EXPRESSION] = "expression",
	[AIQ_ERROR_LIMIT_EXCEEDED] = "limit_exceeded",
	[AIQ_ERROR_TIMED_OUT] = "timed_out",
	[AIQ_ERROR_CANCELLED] = "cancelled",
	[AIQ_ERROR_CIRCUIT_OPEN] = "circuit_open",
	[AIQ_ERROR_STEP_FAILED] = "step_failed",
	[AIQ_ERROR_KIND_DISABLED] = "kind_disabled",
	[AIQ_ERROR_PERMISSION_DENIED] = "permission_denied",
	[AIQ_ERROR_CONNECTION] = "connection",
	[AIQ_ERROR_JOURNAL] = "journal",
	[AIQ_ERROR_CONFIG] = "config",
	[AIQ_ERROR_CONFLICT] = "conflict",
	[AIQ_ERROR_UNAUTHENTICATED] = "unauthenticated",
	[AIQ_ERROR_FORBIDDEN] = "forbidden",
	[AIQ_ERROR_QUOTA_EXCEEDED] = "quota_exceeded",
	[AIQ_ERROR_RATE_LIMITED] = "rate_limited",
	[AIQ_ERROR_UNAVAILABLE] = "unavailable",
};
G_STATIC_ASSERT(G_N_ELEMENTS(aiq_error_names) == AIQ_ERROR_LAST);

/* D-Bus names are derived from the string codes, e.g. io.automateiq.Agent1.Error.circuit_open */
static GDBusErrorEntry aiq_error_entries[AIQ_ERROR_LAST];

GQuark
aiq_error_quark(void)
{
	static gsize quark = 0;
	static gsize entries_ready = 0;
	if (g_once_init_enter(&entries_ready)) {
		for (guint i = 0; i < AIQ_ERROR_LAST; i++) {
			g_autofree gchar *name = g_strdup_printf("io.automateiq.Agent1.Error.%s",
								 aiq_error_names[i]);
			aiq_error_entries[i].error_code = (gint)i;
			aiq_error_entries[i].dbus_error_name = g_intern_string(name);
		}
		g_once_init_leave(&entries_ready, 1);
	}
	/* registers the D-Bus names once, so errors cross the bus intact */
	g_dbus_error_register_error_domain("aiq-error-quark",
					   &quark,
					   aiq_error_entries,
					   G_N_ELEMENTS(aiq_error_entries));
	return (GQuark)quark;
}

/**
 * aiq_error_code_to_string:
 * @code: an #AiqError
 *
 * Returns: the stable string form, e.g. `invalid_definition`
 */
const gchar *
aiq_error_code_to_string(AiqError code)
{
	if ((guint)code >= AIQ_ERROR_LAST)
		return "failed";
	return aiq_error_names[code];
}

/**
 * aiq_error_code_from_string:
 * @str: a code such as `timed_out`
 *
 * Returns: the code, or %AIQ_ERROR_FAILED when unknown
 */
AiqError
aiq_error_code_from_string(const gchar *str)
{
	if (str == NULL)
		return AIQ_ERROR_FAILED;
	for (guint i = 0; i < AIQ_ERROR_LAST; i++) {
		if (g_strcmp0(str, aiq_error_names[i]) == 0)
			return (AiqError)i;
	}
	return AIQ_ERROR_FAILED;
}

/**
 * aiq_error_convert:
 * @perror: (inout): a #GError from another domain
 *
 * Converts foreign errors at the boundary so that callers only see AIQ_ERROR.
 */
void
aiq_error_convert(GError **perror)
{
	GError *error = (perror != NULL) ? *perror : NULL;
	if (error == NULL || error->domain == AIQ_ERROR)
		return;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		error->code = AIQ_ERROR_CANCELLED;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
		error->code = AIQ_ERROR_TIMED_OUT;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
		error->code = AIQ_ERROR_NOT_FOUND;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)) {
		error->code = AIQ_ERROR_PERMISSION_DENIED;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
		   g_error_matches(error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
		   g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE) ||
		   g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
		   g_error_matches(error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND) ||
		   error->domain == G_TLS_ERROR) {
		error->code = AIQ_ERROR_CONNECTION;
	} else {
		error->code = AIQ_ERROR_FAILED;
	}
	error->domain = AIQ_ERROR;
}
