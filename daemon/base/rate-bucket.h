/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* A token bucket: up to `burst` at once, refilled at `per_second`. The rate
 * and burst are passed on each call rather than kept, so limits reloaded on
 * SIGHUP apply to buckets already running. Times are CLOCK_MONOTONIC µs.
 * Not thread-safe: each bucket belongs to the event loop that uses it. */
struct rate_bucket {
	double left;
	uint64_t refilled_at;
};

/* A full bucket, as of now. */
static inline struct rate_bucket rate_bucket_full(double burst, uint64_t now)
{
	return (struct rate_bucket){.left = burst, .refilled_at = now};
}

/* Whether the bucket has refilled to its burst: its owner has been quiet
 * long enough that forgetting it changes nothing. */
bool rate_bucket_is_full(const struct rate_bucket *b, double per_second, double burst,
			 uint64_t now);

/* Takes one from the bucket; false, taking nothing, when less than one is
 * left. */
bool rate_bucket_take(struct rate_bucket *b, double per_second, double burst, uint64_t now);
