/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "escape.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the UTF-8 sequence at s and its code point, or 0 when the
 * bytes there are not one (overlong forms, surrogates and values past
 * U+10FFFF included). */
static size_t utf8_decode(const unsigned char *s, uint32_t *ret)
{
	uint32_t c;
	size_t n;

	if (s[0] < 0x80) {
		*ret = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*ret = c;
	return n;
}

static bool is_hidden_control(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || /* C0, DEL, C1 */
	       c == 0x061c || c == 0x200e || c == 0x200f ||	    /* ALM, LRM, RLM */
	       (c >= 0x202a && c <= 0x202e) ||			    /* embeddings, overrides */
	       (c >= 0x2066 && c <= 0x2069) ||			    /* isolates */
	       c == 0x2028 || c == 0x2029;			    /* line, paragraph separator */
}

char *notify_escape_controls(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	/* At most 6 bytes ("\uNNNN") for each input byte. */
	char *out = malloc(len * 6 + 1), *o = out;

	if (!out)
		return NULL;
	while (*p) {
		uint32_t c;
		size_t n = utf8_decode(p, &c);

		if (n == 0) {
			o += sprintf(o, "\\x%02x", *p);
			p++;
		} else if (is_hidden_control(c)) {
			o += c < 0x80 ? sprintf(o, "\\x%02x", (unsigned)c)
				      : sprintf(o, "\\u%04x", (unsigned)c);
			p += n;
		} else {
			memcpy(o, p, n);
			o += n;
			p += n;
		}
	}
	*o = '\0';
	return out;
}

char *notify_escape_markup(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len * 5 + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		switch (*s) {
		case '&':
			o = stpcpy(o, "&amp;");
			break;
		case '<':
			o = stpcpy(o, "&lt;");
			break;
		case '>':
			o = stpcpy(o, "&gt;");
			break;
		default:
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}
