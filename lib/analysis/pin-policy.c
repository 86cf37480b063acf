/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pin-policy.h"

#include <openssl/crypto.h>
#include <string.h>

#include "secret.h"

static bool all_same(const char *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (s[i] != s[0])
			return false;
	return true;
}

/* Every character one more (or one less) than the one before. */
static bool run_of(const char *s, size_t n, int step)
{
	for (size_t i = 1; i < n; i++)
		if ((unsigned char)s[i] != (unsigned char)s[i - 1] + step)
			return false;
	return true;
}

enum pin_refusal pin_policy_check(const struct pin_policy *p, const struct ukey_secret *new_pin,
				  const struct ukey_secret *old_pin, const char *default_pin,
				  unsigned long token_min, unsigned long token_max)
{
	unsigned long min = p->min_length > token_min ? p->min_length : token_min;
	size_t n = new_pin->len;

	if (n < min)
		return PIN_TOO_SHORT;
	if (token_max > 0 && n > token_max)
		return PIN_TOO_LONG;
	if (old_pin && old_pin->len == n && CRYPTO_memcmp(old_pin->data, new_pin->data, n) == 0)
		return PIN_SAME_AS_OLD;
	if (p->refuse_default && default_pin && strlen(default_pin) == n &&
	    CRYPTO_memcmp(default_pin, new_pin->data, n) == 0)
		return PIN_IS_DEFAULT;
	if (p->refuse_repeated && all_same(new_pin->data, n))
		return PIN_REPEATED;
	if (p->refuse_sequences && (run_of(new_pin->data, n, 1) || run_of(new_pin->data, n, -1)))
		return PIN_SEQUENCE;
	return PIN_ACCEPTED;
}

const char *pin_refusal_name(enum pin_refusal r)
{
	static const char *const names[] = {"accepted",	   "too_short", "too_long", "default",
					    "same_as_old", "repeated",	"sequence"};
	return names[r];
}
