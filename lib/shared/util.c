/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util.h"

#include <errno.h>
#include <stdio.h>

char *ukey_hex_encode(const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *out = malloc(len * 2 + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xf];
	}
	out[len * 2] = '\0';
	return out;
}

bool ukey_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n >= len - i) /* the sequence runs past the end */
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* The length of the valid UTF-8 sequence at s (1 to 4) and its code
 * point, or 0 when s[0..len) does not start with one. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *ret_cp)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	uint32_t cp;

	if (n == 0 || n > len || !ukey_utf8_valid((const char *)s, n))
		return 0;
	cp = n == 1 ? s[0] : n == 2 ? s[0] & 0x1fu : n == 3 ? s[0] & 0x0fu : s[0] & 0x07u;
	for (size_t k = 1; k < n; k++)
		cp = (cp << 6) | (s[k] & 0x3fu);
	*ret_cp = cp;
	return n;
}

static bool escaped_code_point(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || /* C0, DEL, C1 */
	       cp == 0x061c || cp == 0x200e || cp == 0x200f ||		/* ALM, LRM, RLM */
	       (cp >= 0x2028 && cp <= 0x202e) || /* line/paragraph separators, LRE..RLO */
	       (cp >= 0x2066 && cp <= 0x2069);	 /* LRI, RLI, FSI, PDI */
}

size_t ukey_escape_controls(const char *s, size_t len, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need = 0, i = 0;

	while (i < len) {
		char esc[12];
		const char *piece = esc;
		size_t plen;
		uint32_t cp = 0;
		size_t n = utf8_next(p + i, len - i, &cp);

		if (n == 0) {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			n = 1;
		} else if (!escaped_code_point(cp)) {
			piece = s + i;
		} else if (cp == '\n' || cp == '\t' || cp == '\r') {
			snprintf(esc, sizeof(esc), "\\%c",
				 cp == '\n'   ? 'n'
				 : cp == '\t' ? 't'
					      : 'r');
		} else if (cp < 0x80) {
			snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)cp);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
		}
		plen = piece == esc ? strlen(esc) : n;
		if (need + plen < size)
			memcpy(out + need, piece, plen);
		else if (need < size)
			size = need + 1; /* truncated: nothing after a partial piece */
		need += plen;
		i += n;
	}
	if (size > 0)
		out[need < size ? need : size - 1] = '\0';
	return need;
}

char *ukey_escape_controls_dup(const char *s)
{
	size_t len = strlen(s), need = ukey_escape_controls(s, len, NULL, 0);
	char *out = malloc(need + 1);

	if (out)
		ukey_escape_controls(s, len, out, need + 1);
	return out;
}

int ukey_parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	unsigned long n;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*ret = (unsigned)n;
	return 0;
}
