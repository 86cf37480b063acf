/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SKF name lists: whatever bytes and length a library returns, the parser
 * reads nothing past the length, and what it accepts is exactly a prefix
 * of the input, cut into whole names within the caps. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/skf/skf-names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **names = NULL;
	size_t n = 0, pos = 0;
	int r = skf_names_parse((const char *)data, size, &names, &n);

	if (r < 0) {
		if (r != -EBADMSG && r != -E2BIG && r != -ENAMETOOLONG && r != -ENOMEM)
			abort();
		if (names || n)
			abort(); /* out-parameters written on failure */
		return 0;
	}
	if (!names || n > SKF_NAMES_MAX || names[n])
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		if (l == 0 || l > SKF_NAME_MAX || pos + l + 1 > size ||
		    memcmp(names[i], data + pos, l + 1) != 0)
			abort();
		pos += l + 1;
	}
	/* The list ended at len or at an empty name. */
	if (pos < size && data[pos] != '\0')
		abort();
	skf_names_free(names, n);
	return 0;
}
