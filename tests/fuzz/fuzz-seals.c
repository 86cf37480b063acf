/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The seal parser and checker on arbitrary bytes; the real seals of
 * shared/testdata are its corpus. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seals.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seal_info *s = NULL;
	const uint8_t *certs[1] = {data};
	size_t lens[1] = {size < 200 ? size : 200};

	if (seal_parse(data, size, &s) != 0)
		return 0;
	(void)seal_status(s, certs, lens, 1, 1700000000);
	if (s->name && !ukey_utf8_valid(s->name, strlen(s->name)))
		abort();
	seal_info_free(s);
	return 0;
}
