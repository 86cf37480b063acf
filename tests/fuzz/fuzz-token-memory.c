/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* STATE_DIR/tokens.json as ukeyd reads it at start: whatever the file
 * holds, it is parsed (bounded), its entries of the wrong shape set
 * aside, and every query and update afterwards runs without a crash or
 * a json-c assertion (an entry that is no object once aborted ukeyd). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state-file.h"
#include "token-memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const serials[] = {"", "A", "25a340820f55d593", "pin_default"};
	struct token_memory *m = NULL;
	json_object *doc = NULL, *keys;

	log_setup(LOG_CRIT); /* the warnings of set-aside entries */
	if (state_file_parse((const char *)data, size, &doc) == -ENOMEM || !doc)
		return 0;
	/* The serials of the file itself, before adopt() may drop them. */
	keys = json_object_new_array();
	json_object_object_foreach (doc, key, val) {
		(void)val;
		json_object_array_add(keys, json_object_new_string(key));
	}
	if (token_memory_adopt(NULL, doc, &m) < 0) {
		json_object_put(keys);
		return 0;
	}
	for (size_t i = 0; i < json_object_array_length(keys) + 4; i++) {
		const char *serial =
			i < 4 ? serials[i]
			      : json_object_get_string(json_object_array_get_idx(keys, i - 4));
		int64_t now = (int64_t)(size * 7919) * 1000;

		(void)token_memory_get(m, serial, TOKEN_FACT_PIN_DEFAULT);
		(void)token_memory_get(m, serial, TOKEN_FACT_PRIMARY);
		if (token_memory_pin_wait(m, serial, i & 1, now) > TOKEN_PIN_DELAY_MAX)
			abort();
		(void)token_memory_set(m, serial, TOKEN_FACT_PRIMARY, true);
		(void)token_memory_pin_failed(m, serial, i & 1, now);
		if (token_memory_pin_wait(m, serial, i & 1, now) == 0)
			abort(); /* a wrong PIN always makes the next one wait */
		(void)token_memory_pin_succeeded(m, serial, i & 1);
		if (token_memory_pin_wait(m, serial, i & 1, now) != 0)
			abort();
	}
	json_object_put(keys);
	token_memory_free(m);
	return 0;
}
