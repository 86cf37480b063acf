/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "token-cache.h"

#include <errno.h>
#include <json-c/printbuf.h>
#include <stdlib.h>
#include <string.h>

#include "token-json.h"
#include "token.h"
#include "util.h"

void token_cache_init(struct token_cache *m)
{
	*m = (struct token_cache){0};
}

void token_cache_release(struct token_cache *m)
{
	for (size_t i = 0; i < m->n_tokens; i++)
		token_unref(m->tokens[i]);
	free(m->tokens);
	json_object_put(m->json_cache);
	*m = (struct token_cache){0};
}

static int token_order(const void *a, const void *b)
{
	const struct token *x = *(struct token *const *)a, *y = *(struct token *const *)b;

	if (x->module_rank != y->module_rank)
		return x->module_rank < y->module_rank ? -1 : 1;
	if (x->place.index != y->place.index)
		return x->place.index < y->place.index ? -1 : 1;
	return strcmp(x->place.name ? x->place.name : "", y->place.name ? y->place.name : "");
}

/* Whether the module's records in the cache are exactly these (a rescan
 * that found nothing new hands back the records it had). */
static bool module_unchanged(const struct token_cache *m, const char *module,
			     struct token *const *tokens, size_t n_tokens)
{
	size_t mine = 0;

	for (size_t i = 0; i < m->n_tokens; i++) {
		bool found = false;
		if (strcmp(m->tokens[i]->module, module) != 0)
			continue;
		mine++;
		for (size_t k = 0; k < n_tokens && !found; k++)
			found = tokens[k] == m->tokens[i];
		if (!found)
			return false;
	}
	return mine == n_tokens;
}

int token_cache_replace_module(struct token_cache *m, const char *module, unsigned module_rank,
			       struct token **tokens, size_t n_tokens)
{
	size_t kept = 0;
	struct token **n;

	if (module_unchanged(m, module, tokens, n_tokens)) {
		/* The rendered list stays valid. */
		for (size_t i = 0; i < n_tokens; i++)
			token_unref(tokens[i]);
		free(tokens);
		return 0;
	}
	for (size_t i = 0; i < m->n_tokens; i++)
		if (strcmp(m->tokens[i]->module, module) != 0)
			kept++;
	n = calloc(kept + n_tokens + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;

	kept = 0;
	for (size_t i = 0; i < m->n_tokens; i++) {
		if (strcmp(m->tokens[i]->module, module) == 0)
			token_unref(m->tokens[i]);
		else
			n[kept++] = m->tokens[i];
	}
	for (size_t i = 0; i < n_tokens; i++) {
		tokens[i]->module_rank = module_rank;
		n[kept + i] = tokens[i];
	}
	free(tokens);
	free(m->tokens);
	m->tokens = n;
	m->n_tokens = kept + n_tokens;
	qsort(m->tokens, m->n_tokens, sizeof(*m->tokens), token_order);
	json_object_put(m->json_cache);
	m->json_cache = NULL;
	return 0;
}

const struct token *token_cache_find(const struct token_cache *m, const char *serial)
{
	if (!serial || !*serial)
		return NULL;
	for (size_t i = 0; i < m->n_tokens; i++)
		if (streq_ptr(m->tokens[i]->serial, serial))
			return m->tokens[i];
	return NULL;
}

/* The cached array prints its text rendered once, instead of walking every
 * token again for each list reply (the hot path of every client). */
static int emit_cached_text(json_object *obj, struct printbuf *pb, int level, int flags)
{
	const char *text = json_object_get_userdata(obj);

	return printbuf_memappend(pb, text, (int)strlen(text));
}

/* The moment the model's JSON goes stale by itself: the first day
 * boundary or validity edge of any certificate. */
static int64_t model_next_change(const struct token_cache *m, int64_t now)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < m->n_tokens; i++) {
		const struct token *t = m->tokens[i];
		for (size_t k = 0; k < t->n_certs; k++) {
			const struct cert_info *c = t->certs[k].info;
			if (c && cert_next_change(c, now) < next)
				next = cert_next_change(c, now);
		}
		/* A seal's status turns at its validity edges. */
		for (size_t k = 0; k < t->n_objects; k++) {
			const struct seal_info *s = t->objects[k].seal;
			if (s && now < s->valid_from && s->valid_from < next)
				next = s->valid_from;
			if (s && now <= s->valid_to && s->valid_to + 1 < next)
				next = s->valid_to + 1;
		}
	}
	return next;
}

json_object *token_cache_list_json(struct token_cache *m, int64_t now)
{
	json_object *arr;
	char *text;

	if (m->json_cache && now < m->json_valid_until && now >= m->json_built_at)
		return m->json_cache;
	json_object_put(m->json_cache);
	m->json_cache = NULL;
	arr = json_object_new_array_ext((int)m->n_tokens);
	if (!arr)
		return NULL;
	for (size_t i = 0; i < m->n_tokens; i++) {
		json_object *t = token_to_json(m->tokens[i], now);
		if (!t) {
			json_object_put(arr);
			return NULL;
		}
		json_object_array_add(arr, t);
	}
	text = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!text) {
		json_object_put(arr);
		return NULL;
	}
	json_object_set_serializer(arr, emit_cached_text, text, json_object_free_userdata);
	m->json_cache = arr;
	m->json_built_at = now;
	m->json_valid_until = model_next_change(m, now);
	return arr;
}
