/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PKCS#11 text fields: whatever bytes a token puts in its label must come
 * out as valid UTF-8, and never crash the decoder; escaped for a log or a
 * terminal, the same bytes must come out as valid UTF-8 without a single
 * control character, C1 or bidi override, whatever the buffer size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text-decode.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_escaped(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!ukey_utf8_valid(s, len))
		abort();
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) ||
		    (p[i] == 0xe2 && i + 2 < len && p[i + 1] == 0x80 && p[i + 2] >= 0xa8 &&
		     p[i + 2] <= 0xae))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = p11_text_decode(data, size), small[16];
	size_t need, n;
	char *big;

	if (s && !ukey_utf8_valid(s, strlen(s)))
		abort();
	free(s);

	need = ukey_escape_controls((const char *)data, size, NULL, 0);
	big = malloc(need + 1);
	if (!big)
		return 0;
	if (ukey_escape_controls((const char *)data, size, big, need + 1) != need ||
	    strlen(big) != need)
		abort();
	check_escaped(big, need);
	/* Cut short: a prefix of the whole, never half an escape. */
	ukey_escape_controls((const char *)data, size, small, sizeof(small));
	n = strlen(small);
	if (n >= sizeof(small) || memcmp(small, big, n) != 0)
		abort();
	check_escaped(small, n);
	free(big);
	return 0;
}
