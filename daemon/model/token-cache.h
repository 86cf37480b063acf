/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cached model of every token ukeyd can see, as the backends last
 * read them. Queries are answered from here and never touch a token.
 * Only the event loop thread uses a token_cache.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct token;

struct token_cache {
	struct token **tokens; /* served, one per serial; by module load order, then slot */
	size_t n_tokens;
	/* One token, two doors: the records of a serial also reached through
	 * another library (a token's PKCS#11 module beside its SKF library),
	 * kept for that library's next scan but never served. */
	struct token **doors;
	size_t n_doors;
	json_object *json_cache;		 /* the "tokens" array; rebuilt lazily */
	int64_t json_built_at, json_valid_until; /* the cache holds for now in [at, until) */
	/* Changes whenever a list reply would: a client that holds the
	 * list of this generation needs nothing more. */
	uint64_t generation;
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

/* For a change of the list reply the array does not show (the daemon is
 * no longer scanning). */
void token_cache_bump_generation(struct token_cache *m);

/* The token with that serial, or NULL. Blank serials never match. */
const struct token *token_cache_find(const struct token_cache *m, const char *serial);

/* Which of two libraries' records of one serial the cache serves: a
 * true return means a over b. The SKF library's (SKF tells the PIN tries
 * and the default flag), else the one loaded first. */
bool token_cache_prefers(const struct token *a, const struct token *b);

/* A record of serial from another library than module, served or not,
 * or NULL: the token is still reachable without module. */
const struct token *token_cache_other_door(const struct token_cache *m, const char *serial,
					   const char *module);

/* The "tokens" array of a list reply as of now, borrowed (json_object_get
 * it to keep it). Cached until the model changes or a certificate's day
 * count does; generation moves on when its text differs. NULL on
 * ENOMEM. */
json_object *token_cache_list_json(struct token_cache *m, int64_t now);
