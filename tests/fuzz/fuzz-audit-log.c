/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* STATE_DIR/audit.log as ukeyd reads it for an `audit` page: whatever
 * the file holds (torn lines, garbage, hostile JSON), a page holds only
 * entries of the right shape, in the file's order, at most the limit,
 * each after `after` and not before `since`. The first bytes choose the
 * page asked for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *entries = json_object_new_array();
	unsigned limit;
	uint64_t after;
	int64_t since;
	bool more = false;
	size_t n;

	if (size < 4 || !entries) {
		json_object_put(entries);
		return 0;
	}
	limit = 1 + data[0] % 16;
	after = data[1] % 4 == 0 ? 0 : data[1];
	since = data[2] % 4 == 0 ? 0 : 1767225600 + (int64_t)data[3] * 3600;
	audit_page_text((const char *)data + 4, size - 4, since, after, limit, entries, &more);
	n = json_object_array_length(entries);
	if (n > limit || (more && n != limit))
		abort();
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(entries, i), *v;
		const char *text = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);
		json_object *again = audit_parse_line(text, strlen(text));
		struct tm tm = {0};

		/* What a page holds reads back as an entry. */
		if (!again)
			abort();
		json_object_put(again);
		if (after > 0 && (!json_object_object_get_ex(e, "seq", &v) ||
				  (uint64_t)json_object_get_int64(v) <= after))
			abort();
		if (!json_object_object_get_ex(e, "time", &v) ||
		    !strptime(json_object_get_string(v), "%Y-%m-%dT%H:%M:%SZ", &tm) ||
		    timegm(&tm) < since)
			abort();
	}
	json_object_put(entries);
	return 0;
}
