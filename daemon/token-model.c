/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "token-model.h"

#include <errno.h>
#include <json-c/printbuf.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "util.h"

void token_free(struct token *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_certs; i++) {
		free(t->certs[i].label);
		free(t->certs[i].id);
		free(t->certs[i].der);
	}
	free(t->certs);
	for (size_t i = 0; i < t->n_objects; i++) {
		free(t->objects[i].label);
		free(t->objects[i].application);
		free(t->objects[i].value);
	}
	free(t->objects);
	free(t->module);
	free(t->serial);
	free(t->label);
	free(t->manufacturer);
	free(t->model);
	free(t);
}

static json_object *json_string_or_empty(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *hex_json(const uint8_t *data, size_t len)
{
	_cleanup_free_ char *hex = ukey_hex_encode(data, len);

	return hex ? json_object_new_string(hex) : NULL;
}

static json_object *cert_to_json(const struct token_cert *c)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	SHA256(c->der, c->der_len, digest);
	json_object_object_add(o, "id", hex_json(c->id, c->id_len));
	json_object_object_add(o, "label", json_string_or_empty(c->label));
	json_object_object_add(o, "sha256", hex_json(digest, sizeof(digest)));
	return o;
}

static json_object *object_to_json(const struct token_object *d)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "class", json_object_new_string("data"));
	json_object_object_add(o, "label", json_string_or_empty(d->label));
	json_object_object_add(o, "application", json_string_or_empty(d->application));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)d->value_len));
	return o;
}

json_object *token_to_json(const struct token *t)
{
	json_object *o = json_object_new_object(), *pin, *certs, *objects;

	if (!o)
		return NULL;
	pin = json_object_new_object();
	certs = json_object_new_array();
	objects = json_object_new_array();
	if (!pin || !certs || !objects) {
		json_object_put(pin);
		json_object_put(certs);
		json_object_put(objects);
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "serial", json_string_or_empty(t->serial));
	json_object_object_add(o, "label", json_string_or_empty(t->label));
	json_object_object_add(o, "manufacturer", json_string_or_empty(t->manufacturer));
	json_object_object_add(o, "model", json_string_or_empty(t->model));
	json_object_object_add(o, "module", json_string_or_empty(t->module));
	json_object_object_add(o, "initialized", json_object_new_boolean(t->initialized));
	json_object_object_add(pin, "user", json_object_new_string(ukey_wire_pin_state_name(t->user_pin)));
	json_object_object_add(pin, "so", json_object_new_string(ukey_wire_pin_state_name(t->so_pin)));
	json_object_object_add(pin, "min_len", json_object_new_int64((int64_t)t->pin_min));
	json_object_object_add(pin, "max_len", json_object_new_int64((int64_t)t->pin_max));
	json_object_object_add(o, "pin", pin);
	for (size_t i = 0; i < t->n_certs; i++)
		json_object_array_add(certs, cert_to_json(&t->certs[i]));
	json_object_object_add(o, "certs", certs);
	for (size_t i = 0; i < t->n_objects; i++)
		json_object_array_add(objects, object_to_json(&t->objects[i]));
	json_object_object_add(o, "objects", objects);
	return o;
}

void token_model_init(struct token_model *m)
{
	*m = (struct token_model){0};
}

void token_model_release(struct token_model *m)
{
	for (size_t i = 0; i < m->n_tokens; i++)
		token_free(m->tokens[i]);
	free(m->tokens);
	json_object_put(m->json_cache);
	*m = (struct token_model){0};
}

static int token_order(const void *a, const void *b)
{
	const struct token *x = *(struct token *const *)a, *y = *(struct token *const *)b;

	if (x->module_rank != y->module_rank)
		return x->module_rank < y->module_rank ? -1 : 1;
	if (x->slot_id != y->slot_id)
		return x->slot_id < y->slot_id ? -1 : 1;
	return 0;
}

int token_model_replace_module(struct token_model *m, const char *module, unsigned module_rank,
			       struct token **tokens, size_t n_tokens)
{
	size_t kept = 0;
	struct token **n;

	for (size_t i = 0; i < m->n_tokens; i++)
		if (strcmp(m->tokens[i]->module, module) != 0)
			kept++;
	n = calloc(kept + n_tokens + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;

	kept = 0;
	for (size_t i = 0; i < m->n_tokens; i++) {
		if (strcmp(m->tokens[i]->module, module) == 0)
			token_free(m->tokens[i]);
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

const struct token *token_model_find(const struct token_model *m, const char *serial)
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

json_object *token_model_list_json(struct token_model *m)
{
	json_object *arr;
	char *text;

	if (m->json_cache)
		return m->json_cache;
	arr = json_object_new_array_ext((int)m->n_tokens);
	if (!arr)
		return NULL;
	for (size_t i = 0; i < m->n_tokens; i++) {
		json_object *t = token_to_json(m->tokens[i]);
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
	return arr;
}
