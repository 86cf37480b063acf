/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "text-decode.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
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

/* How many bytes at the end of s[0..len) begin a UTF-8 character that
 * the end cuts short (a lead byte and fewer continuation bytes than it
 * announces), or 0. */
static size_t utf8_cut_tail(const unsigned char *s, size_t len)
{
	for (size_t back = 1; back <= 3 && back <= len; back++) {
		unsigned char c = s[len - back];
		size_t need;

		if ((c & 0xc0) == 0x80)
			continue; /* a continuation byte: look further back */
		need = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
		return need > back && c < 0xf8 ? back : 0;
	}
	return 0;
}

static bool has_multibyte(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 0x80)
			return true;
	return false;
}

char *p11_text_decode(const unsigned char *field, size_t size)
{
	size_t len = size, cut;

	while (len > 0 && (field[len - 1] == ' ' || field[len - 1] == '\0'))
		len--;
	/* A label that fills its whole field may have been cut there inside
	 * a character by a writer that counted bytes ("国信CA测试主锁" needs 33
	 * of CKA_LABEL's 32). When the rest is UTF-8 with characters beyond
	 * ASCII, it is UTF-8: the broken character is dropped instead of
	 * reading the whole label as GB18030 mojibake. */
	if (len == size && len > 0 && !memchr(field, '\0', len) &&
	    (cut = utf8_cut_tail(field, len)) > 0 &&
	    ukey_utf8_valid((const char *)field, len - cut) && has_multibyte(field, len - cut))
		len -= cut;
	return text_decode(field, len);
}
