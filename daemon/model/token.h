/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A token as a backend read it, without login: plain data, no handles of
 * any backend, so it crosses from a worker thread to the event loop as it
 * is. The bottom of the model: the JSON contract and the cache build on it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "certs.h"
#include "seals.h"
#include "ukey/ukey.h"
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

/* One token as read from its slot, without login. */
struct token {
	char *module;	      /* path of the PKCS#11 module */
	unsigned module_rank; /* the module's place in the load order */
	unsigned long slot_id;
	char *serial, *label, *manufacturer, *model;
	bool initialized;
	enum ukey_pin_state user_pin, so_pin;
	int pin_default; /* 1, 0, or -1 unknown: ukeyd's memory, not the token's */
	unsigned long pin_min, pin_max;
	struct token_cert *certs;
	size_t n_certs;
	struct token_object *objects;
	size_t n_objects;
	struct token_key *keys;
	size_t n_keys;
	struct holder holder; /* points into certs[].info */
	bool was_primary;     /* ukeyd's memory: it carried a seal once */
};

/* Whether the token carries a seal (usable or not). */
bool token_has_seal(const struct token *t);

/* A seal's status on this token as of now: bound means one of the token's
 * certificates is among its signers (none bound without certificates). */
enum ukey_seal_status token_seal_status(const struct token *t, const struct seal_info *seal,
					int64_t now);

void token_free(struct token *t);
