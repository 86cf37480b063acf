/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which new PINs ukeyd refuses, and why. Pure: checked before any token
 * is touched, so a refused change leaves the token as it was. */
#pragma once

#include <stdbool.h>

struct ukey_secret;

struct pin_policy {
	unsigned min_length;   /* at least this, and at least the token's own minimum */
	bool refuse_default;   /* the CA's default PIN (123456) */
	bool refuse_repeated;  /* one character repeated: 000000 */
	bool refuse_sequences; /* ascending or descending runs: 123456, 987654, abcdef */
};

enum pin_refusal {
	PIN_ACCEPTED,
	PIN_TOO_SHORT,
	PIN_TOO_LONG,
	PIN_IS_DEFAULT,
	PIN_SAME_AS_OLD,
	PIN_REPEATED,
	PIN_SEQUENCE,
};

#define PIN_POLICY_DEFAULTS                                                                        \
	{                                                                                          \
		.min_length = 6, .refuse_default = true, .refuse_repeated = true,                  \
		.refuse_sequences = true                                                           \
	}

/* old_pin and default_pin may be NULL; token_max 0 means no maximum. */
enum pin_refusal pin_policy_check(const struct pin_policy *p, const struct ukey_secret *new_pin,
				  const struct ukey_secret *old_pin, const char *default_pin,
				  unsigned long token_min, unsigned long token_max);

/* The reason's wire name: "too_short", "too_long", "default", "same_as_old",
 * "repeated", "sequence". */
const char *pin_refusal_name(enum pin_refusal r);
