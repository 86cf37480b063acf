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
	for (size_t i = 0; i < m->n_doors; i++)
		token_unref(m->doors[i]);
	free(m->doors);
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

	for (size_t i = 0; i < m->n_tokens + m->n_doors; i++) {
		const struct token *t = i < m->n_tokens ? m->tokens[i] : m->doors[i - m->n_tokens];
		bool found = false;

		if (strcmp(t->module, module) != 0)
			continue;
		mine++;
		for (size_t k = 0; k < n_tokens && !found; k++)
			found = tokens[k] == t;
		if (!found)
			return false;
	}
	return mine == n_tokens;
}

bool token_cache_prefers(const struct token *a, const struct token *b)
{
	bool a_skf = streq_ptr(a->backend, "skf"), b_skf = streq_ptr(b->backend, "skf");

	if (a_skf != b_skf)
		return a_skf;
	return token_order(&a, &b) < 0;
}

/* Whether another library's record of t's serial is served before t. */
static bool shadowed(struct token *const *all, size_t n, const struct token *t)
{
	if (!t->serial || !*t->serial)
		return false;
	for (size_t i = 0; i < n; i++)
		if (all[i] != t && streq_ptr(all[i]->serial, t->serial) &&
		    strcmp(all[i]->module, t->module) != 0 && token_cache_prefers(all[i], t))
			return true;
	return false;
}

int token_cache_replace_module(struct token_cache *m, const char *module, unsigned module_rank,
			       struct token **tokens, size_t n_tokens)
{
	size_t n_all = 0, n_served = 0, n_doors = 0;
	struct token **all, **served, **doors;

	if (module_unchanged(m, module, tokens, n_tokens)) {
		/* The rendered list stays valid. */
		for (size_t i = 0; i < n_tokens; i++)
			token_unref(tokens[i]);
		free(tokens);
		return 0;
	}
	all = calloc(m->n_tokens + m->n_doors + n_tokens + 1, sizeof(*all));
	served = calloc(m->n_tokens + m->n_doors + n_tokens + 1, sizeof(*served));
	doors = calloc(m->n_tokens + m->n_doors + n_tokens + 1, sizeof(*doors));
	if (!all || !served || !doors) {
		free(all);
		free(served);
		free(doors);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_tokens + m->n_doors; i++) {
		struct token *t = i < m->n_tokens ? m->tokens[i] : m->doors[i - m->n_tokens];

		if (strcmp(t->module, module) == 0)
			token_unref(t);
		else
			all[n_all++] = t;
	}
	for (size_t i = 0; i < n_tokens; i++) {
		tokens[i]->module_rank = module_rank;
		all[n_all++] = tokens[i];
	}
	qsort(all, n_all, sizeof(*all), token_order);
	for (size_t i = 0; i < n_all; i++) {
		if (shadowed(all, n_all, all[i]))
			doors[n_doors++] = all[i];
		else
			served[n_served++] = all[i];
	}
	free(all);
	free(tokens);
	free(m->tokens);
	free(m->doors);
	m->tokens = served;
	m->n_tokens = n_served;
	m->doors = doors;
	m->n_doors = n_doors;
	json_object_put(m->json_cache);
	m->json_cache = NULL;
	return 0;
}

void token_cache_bump_generation(struct token_cache *m)
{
	m->generation++;
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

const struct token *token_cache_other_door(const struct token_cache *m, const char *serial,
					   const char *module)
{
	if (!serial || !*serial)
		return NULL;
	for (size_t i = 0; i < m->n_tokens + m->n_doors; i++) {
		const struct token *t = i < m->n_tokens ? m->tokens[i] : m->doors[i - m->n_tokens];

		if (streq_ptr(t->serial, serial) && strcmp(t->module, module) != 0)
			return t;
	}
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
	/* The text before, to tell whether the list really changed. */
	_cleanup_free_ char *before = m->json_cache && json_object_get_userdata(m->json_cache)
					      ? strdup(json_object_get_userdata(m->json_cache))
					      : NULL;
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
	if (!before || strcmp(before, text) != 0)
		m->generation++;
	json_object_set_serializer(arr, emit_cached_text, text, json_object_free_userdata);
	m->json_cache = arr;
	m->json_built_at = now;
	m->json_valid_until = model_next_change(m, now);
	return arr;
}
