/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "text-decode.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static char *from_gb18030(const char *in, size_t len)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	size_t cap = len * 4 + 1, left_in = len, left_out = cap - 1;
	char *out, *pin = (char *)in, *pout;

	if (cd == (iconv_t)-1)
		return NULL;
	out = malloc(cap);
	if (!out) {
		iconv_close(cd);
		return NULL;
	}
	pout = out;
	if (iconv(cd, &pin, &left_in, &pout, &left_out) == (size_t)-1) {
		free(out);
		out = NULL;
	} else {
		*pout = '\0';
	}
	iconv_close(cd);
	return out;
}

/* Keeps valid UTF-8 sequences, replaces every other byte with U+FFFD. */
static char *replace_invalid(const char *in, size_t len)
{
	char *out = malloc(len * 3 + 1), *p = out;
	size_t i = 0;

	if (!out)
		return NULL;
	while (i < len) {
		size_t n = 1;
		unsigned char c = (unsigned char)in[i];

		if (c >= 0xc0)
			n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (i + n <= len && ukey_utf8_valid(in + i, n)) {
			memcpy(p, in + i, n);
			p += n;
			i += n;
		} else {
			memcpy(p, "\xef\xbf\xbd", 3);
			p += 3;
			i++;
		}
	}
	*p = '\0';
	return out;
}

char *text_decode(const void *data, size_t len)
{
	const char *s = data, *nul = memchr(s, '\0', len);
	char *r;

	if (nul)
		len = (size_t)(nul - s);
	if (ukey_utf8_valid(s, len))
		return strndup(s, len);
	r = from_gb18030(s, len);
	if (r && ukey_utf8_valid(r, strlen(r)))
		return r;
	free(r);
	return replace_invalid(s, len);
}

char *p11_text_decode(const unsigned char *field, size_t size)
{
	while (size > 0 && (field[size - 1] == ' ' || field[size - 1] == '\0'))
		size--;
	return text_decode(field, size);
}
