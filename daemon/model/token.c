/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "token.h"

#include <stdlib.h>

void token_free(struct token *t)
{
	if (!t)
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
	free(t->module);
	free(t->serial);
	free(t->label);
	free(t->manufacturer);
	free(t->model);
	free(t);
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
	const uint8_t *certs[64];
	size_t lens[64], n = 0;

	for (size_t i = 0; i < t->n_certs && n < 64; i++) {
		certs[n] = t->certs[i].der;
		lens[n++] = t->certs[i].der_len;
	}
	/* A token without certificates binds nothing: not_bound, not skipped. */
	if (n == 0) {
		certs[0] = (const uint8_t *)"";
		lens[0] = 0;
		n = 1;
	}
	return seal_status(seal, certs, lens, n, now);
}
