/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "scan-result.h"

#include <stdlib.h>

#include "token.h"

struct scan_result *scan_result_new(size_t n)
{
	struct scan_result *r = calloc(1, sizeof(*r));

	if (r && !(r->tokens = calloc(n + 1, sizeof(*r->tokens)))) {
		free(r);
		return NULL;
	}
	return r;
}

struct scan_result *scan_result_new_error(int error, char *msg)
{
	struct scan_result *r = calloc(1, sizeof(*r));

	if (!r) {
		free(msg);
		return NULL;
	}
	r->error = error;
	r->error_msg = msg;
	return r;
}

void scan_result_free(struct scan_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_tokens; i++)
		token_unref(r->tokens[i]);
	free(r->tokens);
	free(r->error_msg);
	free(r);
}
