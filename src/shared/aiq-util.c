/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-util.h"

/**
 * aiq_id_format:
 * @b: the 16 bytes of a UUID
 *
 * Returns: its canonical text form, 8-4-4-4-12 lowercase hex digits
 */
gchar *
aiq_id_format(const guint8 *b)
{
	static const gchar hex[] = "0123456789abcdef";
	gchar *out = g_new(gchar, 37);
	guint j = 0;
	for (guint i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[b[i] >> 4];
		out[j++] = hex[b[i] & 0x0f];
	}
	out[j] = '\0';
	return out;
}

/**
 * aiq_id_new:
 *
 * Returns: a new UUIDv7 (time ordered, 74 random bits) in its canonical
 * text form. Time ordering keeps journal and store indexes append-mostly.
 */
gchar *
aiq_id_new(void)
{
	static GMutex mutex;
	static gint64 last_ms = 0;
	static guint16 seq = 0;
	guint8 b[16];
	gint64 ms = g_get_real_time() / 1000;
	guint32 r0 = g_random_int();
	guint32 r1 = g_random_int();
	guint32 r2 = g_random_int();

	/* monotonic within this process: same millisecond increments a counter */
	g_mutex_lock(&mutex);
	if (ms <= last_ms) {
		ms = last_ms;
		seq++;
		if (seq > 0x0fff) {
			ms++;
			seq = 0;
		}
	} else {
		seq = (guint16)(r0 & 0x03ff);
	}
	last_ms = ms;
	b[6] = 0x70 | ((seq >> 8) & 0x0f);
	b[7] = seq & 0xff;
	g_mutex_unlock(&mutex);

	b[0] = (ms >> 40) & 0xff;
	b[1] = (ms >> 32) & 0xff;
	b[2] = (ms >> 24) & 0xff;
	b[3] = (ms >> 16) & 0xff;
	b[4] = (ms >> 8) & 0xff;
	b[5] = ms & 0xff;
	b[8] = 0x80 | ((r1 >> 24) & 0x3f);
	b[9] = (r1 >> 16) & 0xff;
	b[10] = (r1 >> 8) & 0xff;
	b[11] = r1 & 0xff;
	b[12] = (r2 >> 24) & 0xff;
	b[13] = (r2 >> 16) & 0xff;
	b[14] = (r2 >> 8) & 0xff;
	b[15] = r2 & 0xff;
	return aiq_id_format(b);
}

/**
 * aiq_id_is_valid:
 *
 * Returns: %TRUE for a UUID in canonical lower-case text form
 */
gboolean
aiq_id_is_valid(const gchar *id)
{
	if (id == NULL || strlen(id) != 36)
		return FALSE;
	for (guint i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (id[i] != '-')
				return FALSE;
		} else if (!g_ascii_isxdigit(id[i]) || g_ascii_isupper(id[i])) {
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * aiq_time_to_iso8601:
 * @unix_us: microseconds since the epoch
 *
 * Returns: e.g. `2026-11-22T10:47:00.123456Z`
 */
gchar *
aiq_time_to_iso8601(gint64 unix_us)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(unix_us / G_USEC_PER_SEC);
	gint64 frac = unix_us % G_USEC_PER_SEC;
	if (frac < 0) {
		g_date_time_unref(dt);
		dt = g_date_time_new_from_unix_utc(unix_us / G_USEC_PER_SEC - 1);
		frac += G_USEC_PER_SEC;
	}
	if (dt == NULL)
		return g_strdup("1970-01-01T00:00:00.000000Z");
	return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02d.%06" G_GINT64_FORMAT "Z",
			       g_date_time_get_year(dt),
			       g_date_time_get_month(dt),
			       g_date_time_get_day_of_month(dt),
			       g_date_time_get_hour(dt),
			       g_date_time_get_minute(dt),
			       g_date_time_get_second(dt),
			       frac);
}

gboolean
aiq_time_from_iso8601(const gchar *str, gint64 *unix_us, GError **error)
{
	g_autoptr(GDateTime) dt = NULL;
	if (str != NULL)
		dt = g_date_time_new_from_iso8601(str, NULL);
	if (dt == NULL) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a time in ISO 8601 form such as 2026-01-31T12:00:00Z"),
			    str != NULL ? str : "");
		return FALSE;
	}
	*unix_us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
	return TRUE;
}

/* edit distance counting a transposition of neighbours as one edit
 * (optimal string alignment): "mdoe" is one edit from "mode" */
static guint
aiq_edit_distance(const gchar *a, const gchar *b)
{
	gsize la = strlen(a);
	gsize lb = strlen(b);
	g_autofree guint *d = g_new0(guint, (la + 1) * (lb + 1));
#define D(i, j) d[(i) * (lb + 1) + (j)]
	for (gsize i = 0; i <= la; i++)
		D(i, 0) = i;
	for (gsize j = 0; j <= lb; j++)
		D(0, j) = j;
	for (gsize i = 1; i <= la; i++) {
		for (gsize j = 1; j <= lb; j++) {
			guint cost = g_ascii_tolower(a[i - 1]) == g_ascii_tolower(b[j - 1]) ? 0 : 1;
			guint best =
				MIN(MIN(D(i - 1, j) + 1, D(i, j - 1) + 1), D(i - 1, j - 1) + cost);
			if (i > 1 && j > 1 &&
			    g_ascii_tolower(a[i - 1]) == g_ascii_tolower(b[j - 2]) &&
			    g_ascii_tolower(a[i - 2]) == g_ascii_tolower(b[j - 1]))
				best = MIN(best, D(i - 2, j - 2) + 1);
			D(i, j) = best;
		}
	}
	return D(la, lb);
#undef D
}

/**
 * aiq_suggest:
 * @word: what the user wrote
 * @candidates: %NULL-terminated known words
 *
 * Returns: (nullable): the closest candidate when it is close enough for a
 * "did you mean" hint
 */
const gchar *
aiq_suggest(const gchar *word, const gchar *const *candidates)
{
	const gchar *best = NULL;
	guint best_distance = G_MAXUINT;
	gsize len;

	g_return_val_if_fail(word != NULL, NULL);
	len = strlen(word);
	if (len > 64 || candidates == NULL)
		return NULL;
	for (guint i = 0; candidates[i] != NULL; i++) {
		guint d;
		if (strlen(candidates[i]) > 64)
			continue;
		d = aiq_edit_distance(word, candidates[i]);
		if (d < best_distance) {
			best_distance = d;
			best = candidates[i];
		}
	}
	/* allow one edit for short words, two for longer ones, three for long ones */
	if (best_distance <= (len <= 4 ? 1u : len <= 8 ? 2u : 3u))
		return best;
	return NULL;
}

/**
 * aiq_size_parse:
 * @str: e.g. `1048576`, `512KiB`, `1MiB`, `2GiB`, `10MB`
 */
gboolean
aiq_size_parse(const gchar *str, guint64 *bytes, GError **error)
{
	static const struct {
		const gchar *suffix;
		guint64 mult;
	} units[] = {
		{ "", 1 },
		{ "B", 1 },
		{ "KiB", 1024 },
		{ "MiB", 1024 * 1024 },
		{ "GiB", 1024 * 1024 * 1024 },
		{ "kB", 1000 },
		{ "KB", 1000 },
		{ "MB", 1000 * 1000 },
		{ "GB", 1000 * 1000 * 1000 },
	};
	gchar *end = NULL;
	guint64 value;

	if (str == NULL || !g_ascii_isdigit(str[0]))
		goto fail;
	errno = 0;
	value = g_ascii_strtoull(str, &end, 10);
	if (errno != 0)
		goto fail;
	while (*end == ' ')
		end++;
	for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
		if (g_strcmp0(end, units[i].suffix) == 0) {
			if (value > G_MAXUINT64 / units[i].mult)
				goto fail;
			*bytes = value * units[i].mult;
			return TRUE;
		}
	}
fail:
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_INVALID_ARGUMENT,
		    _("“%s” is not a size such as 512KiB, 1MiB or 1048576"),
		    str != NULL ? str : "");
	return FALSE;
}

gchar *
aiq_size_to_string(guint64 bytes)
{
	if (bytes >= 1024 * 1024 * 1024 && bytes % (1024 * 1024 * 1024) == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT "GiB", bytes / (1024 * 1024 * 1024));
	if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT "MiB", bytes / (1024 * 1024));
	if (bytes >= 1024 && bytes % 1024 == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT "KiB", bytes / 1024);
	return g_strdup_printf("%" G_GUINT64_FORMAT, bytes);
}

/**
 * aiq_duration_parse:
 * @str: e.g. `500ms`, `10s`, `1m30s`, `2h`, `1d`
 * @ms: (out): the duration in milliseconds
 *
 * A duration is one or more number-unit pairs with units ms, s, m, h, d,
 * largest first. Durations are bounded to 365 days.
 */
gboolean
aiq_duration_parse(const gchar *str, gint64 *ms, GError **error)
{
	static const struct {
		const gchar *unit;
		gint64 mult;
	} units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60 * 1000 },
		{ "h", 60 * 60 * 1000 },
		{ "d", 24 * 60 * 60 * 1000 },
	};
	const gchar *p = str;
	gint64 total = 0;
	gint64 last_mult = G_MAXINT64;

	if (str == NULL || *str == '\0')
		goto fail;
	while (*p != '\0') {
		gint64 value = 0;
		guint digits = 0;
		gint64 mult = -1;
		while (g_ascii_isdigit(*p)) {
			if (++digits > 12)
				goto fail;
			value = value * 10 + (*p - '0');
			p++;
		}
		if (digits == 0)
			goto fail;
		/* longest unit name first so "ms" is not read as "m" */
		if (p[0] == 'm' && p[1] == 's') {
			mult = 1;
			p += 2;
		} else {
			for (guint i = 1; i < G_N_ELEMENTS(units); i++) {
				if (*p == units[i].unit[0]) {
					mult = units[i].mult;
					p++;
					break;
				}
			}
		}
		if (mult < 0 || mult >= last_mult)
			goto fail;
		last_mult = mult;
		total += value * mult;
		if (total > (gint64)365 * 24 * 60 * 60 * 1000) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_INVALID_ARGUMENT,
				    _("duration “%s” is longer than 365 days"),
				    str);
			return FALSE;
		}
	}
	*ms = total;
	return TRUE;
fail:
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_INVALID_ARGUMENT,
		    _("“%s” is not a duration such as 500ms, 30s, 5m, 1h30m or 1d"),
		    str != NULL ? str : "");
	return FALSE;
}

/**
 * aiq_duration_to_string:
 *
 * Returns: the canonical form, largest units first, e.g. `1m30s`, `500ms`, `0s`
 */
gchar *
aiq_duration_to_string(gint64 ms)
{
	static const struct {
		const gchar *unit;
		gint64 mult;
	} units[] = {
		{ "d", 24 * 60 * 60 * 1000 },
		{ "h", 60 * 60 * 1000 },
		{ "m", 60 * 1000 },
		{ "s", 1000 },
		{ "ms", 1 },
	};
	GString *str = g_string_new(NULL);
	if (ms <= 0)
		return g_string_free(g_string_append(str, "0s"), FALSE);
	for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
		if (ms >= units[i].mult) {
			g_string_append_printf(str,
					       "%" G_GINT64_FORMAT "%s",
					       ms / units[i].mult,
					       units[i].unit);
			ms %= units[i].mult;
		}
	}
	return g_string_free(str, FALSE);
}

/**
 * aiq_identifier_is_valid:
 *
 * Returns: %TRUE for `[A-Za-z_][A-Za-z0-9_]*` up to 64 characters: the form
 * of step ids and input names, usable as `steps.ID` in expressions
 */
gboolean
aiq_identifier_is_valid(const gchar *str)
{
	gsize len = 0;
	if (str == NULL || !(g_ascii_isalpha(str[0]) || str[0] == '_'))
		return FALSE;
	for (const gchar *p = str; *p != '\0'; p++, len++) {
		if (!g_ascii_isalnum(*p) && *p != '_')
			return FALSE;
	}
	return len <= 64;
}
