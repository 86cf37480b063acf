/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ops-tokens.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <time.h>

#include "inventory.h"
#include "request-params.h"
#include "seals.h"
#include "server.h"
#include "service.h"
#include "token-cache.h"
#include "token.h"
#include "util.h"

/* Answered at once, also during the first scan: with the tokens read so
 * far and "scanning". A client that holds the list of the current
 * generation gets "unchanged" instead of every token again. */
enum request_status op_list(struct request *req, json_object **ret_result)
{
	struct token_cache *cache = inventory_get_cache(req->svc->inventory);
	bool scanning = !inventory_is_ready(req->svc->inventory);
	json_object *tokens = token_cache_list_json(cache, time(NULL));
	json_object *result = tokens ? json_object_new_object() : NULL;

	if (!result)
		return REQUEST_E_NO_MEMORY;
	json_object_object_add(result, "generation",
			       json_object_new_int64((int64_t)cache->generation));
	json_object_object_add(result, "scanning", json_object_new_boolean(scanning));
	if (param_int(req->params, "generation", -1) == (int64_t)cache->generation)
		json_object_object_add(result, "unchanged", json_object_new_boolean(true));
	else
		json_object_object_add(result, "tokens", json_object_get(tokens));
	*ret_result = result;
	return REQUEST_DONE;
}

enum request_status op_get(struct request *req, json_object **ret_result)
{
	struct token_cache *cache = inventory_get_cache(req->svc->inventory);
	const char *want = param_string(req->params, "serial");
	json_object *tokens = token_cache_list_json(cache, time(NULL)), *result;

	if (!tokens)
		return REQUEST_E_NO_MEMORY;
	/* The cached array follows the cache's order, so index i is token i. */
	for (size_t i = 0; i < cache->n_tokens; i++) {
		if (!streq_ptr(cache->tokens[i]->serial, want))
			continue;
		result = json_object_new_object();
		if (!result)
			return REQUEST_E_NO_MEMORY;
		json_object_object_add(result, "token",
				       json_object_get(json_object_array_get_idx(tokens, i)));
		*ret_result = result;
		return REQUEST_DONE;
	}
	return REQUEST_E_NOT_FOUND;
}

/* A seal's picture, exactly as stored, base64 (it never travels in a
 * listing: pictures are large). */
enum request_status op_seal_picture(struct request *req, json_object **ret_result)
{
	const struct token *t = token_cache_find(inventory_get_cache(req->svc->inventory),
						 param_string(req->params, "serial"));
	int64_t want = param_int(req->params, "index", 0);
	const struct seal_info *seal = NULL;
	_cleanup_free_ unsigned char *b64 = NULL;
	json_object *result;

	for (size_t i = 0; t && i < t->n_objects && !seal; i++)
		if (t->objects[i].seal && want-- == 0)
			seal = t->objects[i].seal;
	if (!seal || seal->layout == 0) {
		req->error_message = "no such seal, or it has no picture";
		return REQUEST_E_NOT_FOUND;
	}
	b64 = malloc(4 * ((seal->picture_len + 2) / 3) + 1);
	result = b64 ? json_object_new_object() : NULL;
	if (!result)
		return REQUEST_E_NO_MEMORY;
	EVP_EncodeBlock(b64, seal->picture, (int)seal->picture_len);
	json_object_object_add(result, "type", json_object_new_string(seal->picture_type));
	json_object_object_add(result, "data", json_object_new_string((char *)b64));
	*ret_result = result;
	return REQUEST_DONE;
}

enum request_status op_subscribe(struct request *req, json_object **ret_result)
{
	client_subscribe(req->client);
	return REQUEST_DONE;
}

enum request_status op_refresh(struct request *req, json_object **ret_result)
{
	return REQUEST_DONE;
}
