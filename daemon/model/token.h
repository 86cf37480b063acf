/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A token as a backend read it, without login: plain data, no handles of
 * any backend, so it crosses from a worker thread to the event loop as it
 * is. The bottom of the model: the JSON contract and the cache build on it.
 *
 * A record is reference counted and, once read, never changes but for
 * what the loop alone attaches from ukeyd's memory (pin_default,
 * was_primary): a worker keeps its records to compare the next scan with,
 * while the cache serves the same ones.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "certs.h"
#include "seals.h"
#include "ukey/ukey.h"

/* Where a token sits in its library: a PKCS#11 slot ID, or the position
 * and name of an SKF device. */
struct token_place {
	unsigned long index;
	char *name; /* NULL for PKCS#11 slots */
};

struct token_cert {
	char *label;
	uint8_t *id;
	size_t id_len;
	uint8_t *der;
	size_t der_len;
	struct cert_info *info; /* NULL when the value is not a certificate */
};

struct token_object {
	char *label;
	char *application;
	uint8_t *value;
	size_t value_len;
	struct seal_info *seal; /* the value parsed as an SESeal, or NULL */
};

/* One token as read from its place, without login. */
struct token {
	atomic_int refcount;
	char *module; /* path of the library that reaches it */
	/* The module's place in the load order: set by the cache (loop). */
	unsigned module_rank;
	struct token_place place;
	/* What the library's listing shows (PKCS#11: CK_TOKEN_INFO): who the
	 * token is and the state of its PINs. */
	char *serial, *label, *manufacturer, *model;
	bool initialized;
	enum ukey_pin_state user_pin, so_pin;
	unsigned long pin_min, pin_max;
	/* What a read without login shows. */
	struct token_cert *certs;
	size_t n_certs;
	struct token_object *objects;
	size_t n_objects;
	struct token_key *keys;
	size_t n_keys;
	struct holder holder; /* points into certs[].info */
	/* ukeyd's memory, attached by the loop: not the token's word. */
	int pin_default;  /* 1, 0, or -1 unknown */
	bool was_primary; /* it carried a seal once */
};

/* An empty record with one reference, or NULL on ENOMEM. */
struct token *token_new(void);
struct token *token_ref(struct token *t);
/* Drops a reference; the last one frees. NULL is fine. */
void token_unref(struct token *t);

static inline void token_unrefp(struct token **t)
{
	token_unref(*t);
}
#define _cleanup_token_ __attribute__((cleanup(token_unrefp)))

/* Whether two records are the same token in the same state as far as a
 * listing shows (place, identity, flags, PIN state): if so, a fresh read
 * of its objects can be spared. */
bool token_same_head(const struct token *a, const struct token *b);

bool token_place_equal(const struct token_place *a, const struct token_place *b);
/* Copies a place (into a record). Returns 0 or -ENOMEM. */
int token_place_copy(struct token_place *to, const struct token_place *from);

/* Whether the token carries a seal (usable or not). */
bool token_has_seal(const struct token *t);

/* A seal's status on this token as of now: bound means one of the token's
 * certificates is among its signers (none bound without certificates). */
enum ukey_seal_status token_seal_status(const struct token *t, const struct seal_info *seal,
					int64_t now);
