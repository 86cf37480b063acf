/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PKCS#11 text fields: whatever bytes a token puts in its label must come
 * out as valid UTF-8, and never crash the decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text-decode.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = p11_text_decode(data, size);

	if (s && !ukey_utf8_valid(s, strlen(s)))
		abort();
	free(s);
	return 0;
}
