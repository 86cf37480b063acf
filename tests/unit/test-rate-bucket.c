/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token bucket behind the connection limit and the audit of refusals:
 * the burst, the refill, the cap, and the forgetting of quiet users. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "rate-bucket.h"

#define SEC 1000000u

static void test_burst_then_empty(void **state)
{
	struct rate_bucket b = rate_bucket_full(10, 5 * SEC);

	for (int i = 0; i < 10; i++)
		assert_true(rate_bucket_take(&b, 1, 10, 5 * SEC));
	assert_false(rate_bucket_take(&b, 1, 10, 5 * SEC));
	/* A refused take costs nothing: half a second later, half a token
	 * still is not enough, a whole second is. */
	assert_false(rate_bucket_take(&b, 1, 10, 5 * SEC + SEC / 2));
	assert_true(rate_bucket_take(&b, 1, 10, 6 * SEC));
	assert_false(rate_bucket_take(&b, 1, 10, 6 * SEC));
}

static void test_refill_is_capped(void **state)
{
	struct rate_bucket b = rate_bucket_full(4, 0);

	for (int i = 0; i < 4; i++)
		assert_true(rate_bucket_take(&b, 2, 4, 0));
	/* An hour of quiet gives back the burst, not 7200. */
	int taken = 0;
	while (rate_bucket_take(&b, 2, 4, 3600ull * SEC))
		taken++;
	assert_int_equal(taken, 4);
}

static void test_is_full(void **state)
{
	struct rate_bucket b = rate_bucket_full(3, 0);

	assert_true(rate_bucket_is_full(&b, 1, 3, 0));
	assert_true(rate_bucket_take(&b, 1, 3, 0));
	assert_false(rate_bucket_is_full(&b, 1, 3, 0));
	assert_false(rate_bucket_is_full(&b, 1, 3, SEC / 2));
	assert_true(rate_bucket_is_full(&b, 1, 3, SEC));
	/* Asking does not refill: the bucket still has only two. */
	assert_true(rate_bucket_take(&b, 1, 3, 0));
	assert_true(rate_bucket_take(&b, 1, 3, 0));
	assert_false(rate_bucket_take(&b, 1, 3, 0));
}

static void test_clock_behind_gives_nothing(void **state)
{
	struct rate_bucket b = rate_bucket_full(1, 10 * SEC);

	assert_true(rate_bucket_take(&b, 1, 1, 10 * SEC));
	/* An earlier "now" must not wrap into a huge refill. */
	assert_false(rate_bucket_take(&b, 1, 1, 1 * SEC));
	assert_false(rate_bucket_is_full(&b, 1, 1, 1 * SEC));
}

static void test_zero_rate_never_refills(void **state)
{
	struct rate_bucket b = rate_bucket_full(0, 0);

	assert_false(rate_bucket_take(&b, 0, 0, 100 * SEC));
	assert_true(rate_bucket_is_full(&b, 0, 0, 100 * SEC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_empty),
		cmocka_unit_test(test_refill_is_capped),
		cmocka_unit_test(test_is_full),
		cmocka_unit_test(test_clock_behind_gives_nothing),
		cmocka_unit_test(test_zero_rate_never_refills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
