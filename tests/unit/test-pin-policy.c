/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PIN policy: every refusal, and the PINs it lets through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "pin-policy.h"
#include "secret.h"

static enum pin_refusal check(const struct pin_policy *p, const char *pin, const char *old,
			      unsigned long tmin, unsigned long tmax)
{
	struct ukey_secret *n = ukey_secret_new(pin, strlen(pin));
	struct ukey_secret *o = old ? ukey_secret_new(old, strlen(old)) : NULL;
	enum pin_refusal r = pin_policy_check(p, n, o, "123456", tmin, tmax);

	ukey_secret_free(n);
	ukey_secret_free(o);
	return r;
}

static void test_refusals(void **state)
{
	const struct pin_policy p = PIN_POLICY_DEFAULTS;

	assert_int_equal(check(&p, "123456", "777999", 4, 16), PIN_IS_DEFAULT);
	assert_int_equal(check(&p, "730195", "730195", 4, 16), PIN_SAME_AS_OLD);
	assert_int_equal(check(&p, "000000", NULL, 4, 16), PIN_REPEATED);
	assert_int_equal(check(&p, "aaaaaaa", NULL, 4, 16), PIN_REPEATED);
	assert_int_equal(check(&p, "234567", NULL, 4, 16), PIN_SEQUENCE);
	assert_int_equal(check(&p, "987654", NULL, 4, 16), PIN_SEQUENCE);
	assert_int_equal(check(&p, "abcdefg", NULL, 4, 16), PIN_SEQUENCE);
	assert_int_equal(check(&p, "73019", NULL, 4, 16), PIN_TOO_SHORT);   /* policy min 6 */
	assert_int_equal(check(&p, "7301958", NULL, 8, 16), PIN_TOO_SHORT); /* token min 8 */
	assert_int_equal(check(&p, "730195842", NULL, 4, 8), PIN_TOO_LONG); /* token max 8 */
}

static void test_accepted(void **state)
{
	const struct pin_policy p = PIN_POLICY_DEFAULTS;

	assert_int_equal(check(&p, "730195", "123456", 4, 16), PIN_ACCEPTED);
	assert_int_equal(check(&p, "123457", NULL, 4, 16), PIN_ACCEPTED);  /* not a run */
	assert_int_equal(check(&p, "Bid2026!", NULL, 4, 0), PIN_ACCEPTED); /* no token max */
}

static void test_configurable(void **state)
{
	const struct pin_policy lax = {.min_length = 4};

	assert_int_equal(check(&lax, "1234", NULL, 4, 16), PIN_ACCEPTED);
	assert_int_equal(check(&lax, "0000", NULL, 4, 16), PIN_ACCEPTED);
	assert_int_equal(check(&lax, "123456", NULL, 4, 16), PIN_ACCEPTED);
	/* Same-as-old and the token's limits hold whatever the policy. */
	assert_int_equal(check(&lax, "5555", "5555", 4, 16), PIN_SAME_AS_OLD);
	assert_int_equal(check(&lax, "555", NULL, 4, 16), PIN_TOO_SHORT);
	assert_string_equal(pin_refusal_name(PIN_SEQUENCE), "sequence");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_configurable),
	};

	return cmocka_run_group_tests_name("pin-policy", tests, NULL, NULL);
}
