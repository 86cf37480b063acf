/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a worker hands to the event loop: the tokens of its library as
 * best known now, as plain records, or why it could read none. While a
 * scan runs, the worker hands on a partial view after each change (a token
 * gone, one read): the newest supersedes the older. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct token;

struct scan_result {
	/* The newest scan request completed as of this view (a partial view
	 * carries the last completed one). */
	uint64_t seq;
	/* Views are numbered as the worker makes them, scans' and jobs'
	 * alike: a higher number is a newer view of the library. */
	uint64_t view;
	bool final;	 /* the scan is complete: tokens not listed are gone */
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
