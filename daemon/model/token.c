/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "token.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct token *token_new(void)
{
	struct token *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	atomic_init(&t->refcount, 1);
	t->pin_default = -1;
	t->user_tries_left = t->user_tries_max = -1;
	t->so_tries_left = t->so_tries_max = -1;
	t->pin_default_flag = -1;
	return t;
}

struct token *token_ref(struct token *t)
{
	if (t)
		atomic_fetch_add(&t->refcount, 1);
	return t;
}

void token_unref(struct token *t)
{
	if (!t || atomic_fetch_sub(&t->refcount, 1) != 1)
		return;
	for (size_t i = 0; i < t->n_certs; i++) {
		free(t->certs[i].label);
		free(t->certs[i].id);
		free(t->certs[i].der);
		cert_info_free(t->certs[i].info);
	}
	for (size_t i = 0; i < t->n_keys; i++) {
		free(t->keys[i].id);
		free(t->keys[i].modulus);
		free(t->keys[i].ec_point);
	}
	free(t->keys);
	free(t->certs);
	for (size_t i = 0; i < t->n_objects; i++) {
		free(t->objects[i].label);
		free(t->objects[i].application);
		free(t->objects[i].value);
		seal_info_free(t->objects[i].seal);
	}
	free(t->objects);
	free(t->place.name);
	free(t->module);
	free(t->serial);
	free(t->label);
	free(t->manufacturer);
	free(t->model);
	free(t);
}

bool token_place_equal(const struct token_place *a, const struct token_place *b)
{
	return a->index == b->index && streq_ptr(a->name, b->name);
}

int token_place_copy(struct token_place *to, const struct token_place *from)
{
	char *name = NULL;

	if (from->name && !(name = strdup(from->name)))
		return -ENOMEM;
	free(to->name);
	to->index = from->index;
	to->name = name;
	return 0;
}

bool token_same_head(const struct token *a, const struct token *b)
{
	return token_place_equal(&a->place, &b->place) && streq_ptr(a->serial, b->serial) &&
	       streq_ptr(a->label, b->label) && streq_ptr(a->manufacturer, b->manufacturer) &&
	       streq_ptr(a->model, b->model) && a->initialized == b->initialized &&
	       a->user_pin == b->user_pin && a->so_pin == b->so_pin && a->pin_min == b->pin_min &&
	       a->pin_max == b->pin_max && streq_ptr(a->backend, b->backend) &&
	       a->user_tries_left == b->user_tries_left && a->user_tries_max == b->user_tries_max &&
	       a->so_tries_left == b->so_tries_left && a->so_tries_max == b->so_tries_max &&
	       a->pin_default_flag == b->pin_default_flag;
}

bool token_has_seal(const struct token *t)
{
	for (size_t i = 0; i < t->n_objects; i++)
		if (t->objects[i].seal)
			return true;
	return false;
}

enum ukey_seal_status token_seal_status(const struct token *t, const struct seal_info *seal,
					int64_t now)
{
	/* A CA token holds two to four certificates; past 64 a token is not
	 * one, and its seals read not_bound. */
	const uint8_t *certs[64];
	size_t lens[64], n = 0;

	for (size_t i = 0; i < t->n_certs && n < 64; i++) {
		certs[n] = t->certs[i].der;
		lens[n++] = t->certs[i].der_len;
	}
	return seal_status(seal, certs, lens, n, now);
}
