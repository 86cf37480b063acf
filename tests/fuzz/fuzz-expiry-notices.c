/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* STATE_DIR/expiry-notices.json as ukeyd reads it at start: whatever the
 * file holds, the state made of it drives the next-crossing timer and the
 * notices without a crash, and nothing it says can ask for a time in the
 * past. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "expiry-notify.h"
#include "log.h"
#include "state-file.h"
#include "token-cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(const struct expiry_notice *n, void *userdata)
{
	(*(int *)userdata)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expiry_state *s = NULL;
	struct token_cache cache;
	json_object *doc = NULL;
	int64_t now = 1767225600, next;
	int n = 0;

	log_setup(LOG_CRIT);
	if (state_file_parse((const char *)data, size, &doc) == -ENOMEM || !doc)
		return 0;
	if (expiry_state_from_json("/nonexistent/expiry-notices.json", doc, &s) < 0) {
		json_object_put(doc);
		return 0;
	}
	json_object_put(doc);
	token_cache_init(&cache);
	next = expiry_next_crossing(s, &cache, now);
	if (next <= now)
		abort();
	if (expiry_collect(s, &cache, now, count, &n) != 0 || n != 0)
		abort(); /* no certificate, no notice, whatever the file said */
	token_cache_release(&cache);
	expiry_state_free(s);
	return 0;
}
