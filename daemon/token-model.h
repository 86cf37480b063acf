/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cached model of every token ukeyd can see, as the p11 workers last
 * read them. Queries are answered from here and never touch a token.
 * Only the event loop thread uses a token_model.
 */
#pragma once

#include <json-c/json.h>
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

/* The token in the JSON contract shape (docs/protocol.md), with day
 * counts and expiry states as of now. NULL on ENOMEM. */
json_object *token_to_json(const struct token *t, int64_t now);

/* The same, with the seals among private objects (read with the caller's
 * PIN, for one reply) added to seals[] with "private": true. */
json_object *token_to_json_with_private(const struct token *t, const struct token *private_objects,
					int64_t now);

struct token_model {
	struct token **tokens; /* ordered by module load order, then slot */
	size_t n_tokens;
	json_object *json_cache;		 /* the "tokens" array; rebuilt lazily */
	int64_t json_built_at, json_valid_until; /* the cache holds for now in [at, until) */
};

void token_model_init(struct token_model *m);
void token_model_release(struct token_model *m);

/*
 * Replaces every token of module by the given ones (ownership of the
 * array and its tokens passes to the model). module_rank orders modules.
 * Returns 0 or -ENOMEM (on failure nothing changes and the caller still
 * owns tokens).
 */
int token_model_replace_module(struct token_model *m, const char *module, unsigned module_rank,
			       struct token **tokens, size_t n_tokens);

/* The token with that serial, or NULL. Blank serials never match. */
const struct token *token_model_find(const struct token_model *m, const char *serial);

/* The "tokens" array of a list reply as of now, borrowed (json_object_get
 * it to keep it). Cached until the model changes or a certificate's day
 * count does. NULL on ENOMEM. */
json_object *token_model_list_json(struct token_model *m, int64_t now);
