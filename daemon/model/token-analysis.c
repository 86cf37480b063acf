/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "token-analysis.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "certs.h"
#include "seals.h"
#include "token.h"
#include "util.h"

/* A seal is any data object whose value parses as one, whatever its label
 * or application says. */
int token_find_seals(struct token *t)
{
	for (size_t i = 0; i < t->n_objects; i++) {
		struct token_object *o = &t->objects[i];
		if (o->value && seal_parse(o->value, o->value_len, &o->seal) == -ENOMEM)
			return -ENOMEM;
	}
	return 0;
}

static int bytes_order(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	int r = memcmp(a ? a : (const uint8_t *)"", b ? b : (const uint8_t *)"",
		       a_len < b_len ? a_len : b_len);

	return r ? r : (a_len > b_len) - (a_len < b_len);
}

static int cert_order(const void *x, const void *y)
{
	const struct token_cert *a = x, *b = y;
	int r = bytes_order(a->id, a->id_len, b->id, b->id_len);

	return r ? r : bytes_order(a->der, a->der_len, b->der, b->der_len);
}

static int object_order(const void *x, const void *y)
{
	const struct token_object *a = x, *b = y;
	int r = strcmp(a->label ? a->label : "", b->label ? b->label : "");

	if (!r)
		r = strcmp(a->application ? a->application : "",
			   b->application ? b->application : "");
	return r ? r : bytes_order(a->value, a->value_len, b->value, b->value_len);
}

int token_analyze(struct token *t, const struct ca_profiles *profiles)
{
	_cleanup_free_ const struct cert_info **infos = calloc(t->n_certs + 1, sizeof(*infos));

	if (!infos)
		return -ENOMEM;
	/* The same token reads the same, whatever order its library lists
	 * objects in (one that was re-initialized may list them anew): a
	 * change of order is no change a client should hear of. */
	if (t->n_certs > 1)
		qsort(t->certs, t->n_certs, sizeof(*t->certs), cert_order);
	if (t->n_objects > 1)
		qsort(t->objects, t->n_objects, sizeof(*t->objects), object_order);
	for (size_t i = 0; i < t->n_certs; i++) {
		struct token_cert *c = &t->certs[i];
		int r = cert_analyze(c->der, c->der_len, c->id, c->id_len, profiles, t->keys,
				     t->n_keys, &c->info);
		if (r == -ENOMEM)
			return r;
		infos[i] = c->info; /* NULL for an object that is no certificate */
	}
	holder_from_certs(infos, t->n_certs, &t->holder);
	return token_find_seals(t);
}
