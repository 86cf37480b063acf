/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "token-analysis.h"

#include <errno.h>
#include <stdlib.h>

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

int token_analyze(struct token *t, const struct ca_profiles *profiles)
{
	_cleanup_free_ const struct cert_info **infos = calloc(t->n_certs + 1, sizeof(*infos));

	if (!infos)
		return -ENOMEM;
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
