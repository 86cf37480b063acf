/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a backend's scan hands to the event loop: every token it reads now,
 * as plain records, or why it could read none. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct token;

struct scan_result {
	uint64_t seq;	 /* the request this answers (and all before it) */
	int error;	 /* 0, or a negative errno: the backend failed as a whole */
	char *error_msg; /* what failed, for the log */
	struct token **tokens;
	size_t n_tokens;
};

/* An empty result with room for n tokens, or NULL on ENOMEM. */
struct scan_result *scan_result_new(size_t n);

/* A result that says the whole backend failed (msg may be NULL). */
struct scan_result *scan_result_new_error(int error, char *msg);

void scan_result_free(struct scan_result *r);
