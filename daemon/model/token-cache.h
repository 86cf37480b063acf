/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cached model of every token ukeyd can see, as the backends last
 * read them. Queries are answered from here and never touch a token.
 * Only the event loop thread uses a token_cache.
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

struct token;

struct token_cache {
	struct token **tokens; /* ordered by module load order, then slot */
	size_t n_tokens;
	json_object *json_cache;		 /* the "tokens" array; rebuilt lazily */
	int64_t json_built_at, json_valid_until; /* the cache holds for now in [at, until) */
};

void token_cache_init(struct token_cache *m);
void token_cache_release(struct token_cache *m);

/*
 * Replaces every token of module by the given ones (ownership of the
 * array and its tokens passes to the model). module_rank orders modules.
 * Returns 0 or -ENOMEM (on failure nothing changes and the caller still
 * owns tokens).
 */
int token_cache_replace_module(struct token_cache *m, const char *module, unsigned module_rank,
			       struct token **tokens, size_t n_tokens);

/* The token with that serial, or NULL. Blank serials never match. */
const struct token *token_cache_find(const struct token_cache *m, const char *serial);

/* The "tokens" array of a list reply as of now, borrowed (json_object_get
 * it to keep it). Cached until the model changes or a certificate's day
 * count does. NULL on ENOMEM. */
json_object *token_cache_list_json(struct token_cache *m, int64_t now);
