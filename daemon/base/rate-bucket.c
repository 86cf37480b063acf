/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rate-bucket.h"

static double refilled(const struct rate_bucket *b, double per_second, double burst, uint64_t now)
{
	/* A clock that went back (a bucket made with a later "now") refills
	 * nothing rather than wrapping to a huge gift. */
	double left = b->left;

	if (now > b->refilled_at)
		left += (double)(now - b->refilled_at) / 1e6 * per_second;
	return left > burst ? burst : left;
}

bool rate_bucket_is_full(const struct rate_bucket *b, double per_second, double burst, uint64_t now)
{
	return refilled(b, per_second, burst, now) >= burst;
}

bool rate_bucket_take(struct rate_bucket *b, double per_second, double burst, uint64_t now)
{
	b->left = refilled(b, per_second, burst, now);
	if (now > b->refilled_at)
		b->refilled_at = now;
	if (b->left < 1.0)
		return false;
	b->left -= 1.0;
	return true;
}
