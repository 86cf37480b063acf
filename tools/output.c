/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <stdint.h>
#include <time.h>
#include <wchar.h>

#include "output.h"

#include "ctl.h"
#include "util.h"

const char *tx(const char *s)
{
	static char *ring[32];
	static unsigned next;
	char **slot = &ring[next++ % ARRAY_LEN(ring)];

	free(*slot);
	*slot = ukey_escape_controls_dup(s ? s : "");
	if (!*slot)
		abort(); /* a CLI printing: nothing sensible to do */
	return *slot;
}

int text_width(const char *s)
{
	mbstate_t st = {0};
	const char *p = s;
	int width = 0;

	/* Count display columns: a Chinese character takes two. */
	while (*p) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, p, strlen(p), &st);
		int w;

		if (n == (size_t)-1 || n == (size_t)-2) {
			memset(&st, 0, sizeof(st));
			p++;
			width++;
			continue;
		}
		w = wcwidth(wc);
		width += w > 0 ? w : 0;
		p += n;
	}
	return width;
}

void print_padded(FILE *f, const char *s, int width)
{
	int w;

	s = tx(s);
	w = text_width(s);
	fputs(s, f);
	for (; w < width; w++)
		fputc(' ', f);
}

const char *pin_state_text(enum ukey_pin_state st)
{
	switch (st) {
	case UKEY_PIN_OK:
		return _("ok");
	case UKEY_PIN_COUNT_LOW:
		return _("wrong PIN entered before");
	case UKEY_PIN_FINAL_TRY:
		return _("one try left");
	case UKEY_PIN_LOCKED:
		return _("locked");
	}
	return "?";
}

const char *ctl_language(void)
{
	const char *lang = setlocale(LC_MESSAGES, NULL);
	const char *language = getenv("LANGUAGE");

	/* gettext prefers LANGUAGE over the locale, unless the locale is C. */
	if (lang && strcmp(lang, "C") != 0 && strcmp(lang, "POSIX") != 0 && language && *language)
		lang = language;
	return lang && strncmp(lang, "zh", 2) == 0 ? "zh" : "en";
}

void format_date(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%d", &tm))
		snprintf(buf, size, "?");
}

const char *days_left_text(const ukey_cert *c, char *buf, size_t size)
{
	int64_t days = ukey_cert_get_days_left(c);

	if (ukey_cert_get_expiry(c) == UKEY_CERT_EXPIRED)
		snprintf(buf, size,
			 ngettext("expired %lld day ago", "expired %lld days ago",
				  (unsigned long)(-days)),
			 (long long)-days);
	else if (days == 0)
		snprintf(buf, size, "%s", _("last day"));
	else
		snprintf(buf, size,
			 ngettext("%lld day left", "%lld days left", (unsigned long)days),
			 (long long)days);
	return buf;
}

const char *key_type_text(const char *wire)
{
	if (strcmp(wire, "rsa") == 0)
		return "RSA";
	if (strcmp(wire, "ec") == 0)
		return "EC";
	if (strcmp(wire, "sm2") == 0)
		return "SM2";
	return _("unknown key");
}

struct table {
	size_t n_columns;
	char **cells; /* row-major, headers first */
	size_t n_rows;
};

static void table_append(struct table *t, const char *const *cells)
{
	char **n = realloc(t->cells, (t->n_rows + 1) * t->n_columns * sizeof(*n));

	if (!n)
		abort(); /* a CLI printing a table: nothing sensible to do */
	t->cells = n;
	/* Cells hold token text: escaped once here, for width and print. */
	for (size_t i = 0; i < t->n_columns; i++) {
		char *s = ukey_escape_controls_dup(cells[i] ? cells[i] : "");
		if (!s)
			abort();
		t->cells[t->n_rows * t->n_columns + i] = s;
	}
	t->n_rows++;
}

struct table *table_new(size_t n_columns, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	t->n_columns = n_columns;
	table_append(t, headers);
	return t;
}

void table_add_row(struct table *t, const char *const *cells)
{
	table_append(t, cells);
}

void table_print(struct table *t, FILE *f)
{
	int *width = calloc(t->n_columns, sizeof(*width));

	if (!width)
		abort();
	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_columns; c++) {
			int w = text_width(t->cells[r * t->n_columns + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_columns; c++) {
			const char *cell = t->cells[r * t->n_columns + c];
			if (c + 1 == t->n_columns)
				fputs(cell, f);
			else
				print_padded(f, cell, width[c] + 2);
		}
		fputc('\n', f);
	}
	free(width);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

const char *seal_kind_text(enum ukey_seal_kind k)
{
	switch (k) {
	case UKEY_SEAL_OFFICIAL:
		return _("official seal");
	case UKEY_SEAL_LEGAL_REP:
		return _("legal representative's seal");
	case UKEY_SEAL_SIGNATURE:
		return _("handwritten signature");
	case UKEY_SEAL_OTHER:
		break;
	}
	return _("seal");
}

const char *seal_status_text(enum ukey_seal_status st)
{
	switch (st) {
	case UKEY_SEAL_VALID:
		return _("valid");
	case UKEY_SEAL_EXPIRED:
		return _("expired");
	case UKEY_SEAL_NOT_YET_VALID:
		return _("not valid yet");
	case UKEY_SEAL_BAD_SIGNATURE:
		return _("the maker's signature does not verify");
	case UKEY_SEAL_MAKER_CERT_EXPIRED:
		return _("the maker's certificate was not valid when the seal was made");
	case UKEY_SEAL_NOT_BOUND:
		return _("not bound to this token's certificate");
	case UKEY_SEAL_MALFORMED:
		break;
	}
	return _("damaged (malformed)");
}
