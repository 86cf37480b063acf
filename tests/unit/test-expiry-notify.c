/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Expiry notices with an injected clock, across daemon restarts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ca-profiles.h"
#include "expiry-notify.h"
#include "token-cache.h"
#include "token.h"

#define DAY 86400
#define NOT_AFTER (20000 * (int64_t)DAY)

static struct ca_profile unknown = {.id = "unknown", .renewal_days = 30};
static char state_path[64];

struct seen {
	int thresholds[16];
	int64_t days[16];
	int n;
};

static void on_notice(const struct expiry_notice *n, void *userdata)
{
	struct seen *s = userdata;

	s->thresholds[s->n] = n->threshold;
	s->days[s->n++] = n->days_left;
}

/* A model with one token holding one certificate. */
static void make_model(struct token_cache *m, uint8_t der_byte)
{
	struct token *t = token_new();
	struct token **v = calloc(1, sizeof(*v));

	t->module = strdup("/m.so");
	t->serial = strdup("S1");
	t->label = strdup("L");
	t->manufacturer = strdup("");
	t->model = strdup("");
	t->certs = calloc(1, sizeof(*t->certs));
	t->certs[0].der = malloc(1);
	t->certs[0].der[0] = der_byte; /* the notice key is the DER's digest */
	t->certs[0].der_len = 1;
	t->certs[0].label = strdup("sign");
	t->certs[0].info = calloc(1, sizeof(struct cert_info));
	t->certs[0].info->not_before = NOT_AFTER - 365 * DAY;
	t->certs[0].info->not_after = NOT_AFTER;
	t->certs[0].info->ca = &unknown;
	t->n_certs = 1;
	v[0] = t;
	token_cache_init(m);
	assert_int_equal(token_cache_replace_module(m, "/m.so", 0, v, 1), 0);
}

/* One daemon lifetime: load the state, check at now, save. */
static struct seen run_daemon(struct token_cache *m, int64_t now)
{
	struct expiry_state *s = NULL;
	struct seen seen = {0};
	int n;

	assert_int_equal(expiry_state_load(state_path, &s), 0);
	n = expiry_collect(s, m, now, on_notice, &seen);
	assert_int_equal(n, seen.n);
	/* Saved every time, so that pruning runs too. */
	assert_int_equal(expiry_state_save(s, m, now), 0);
	expiry_state_free(s);
	return seen;
}

static void test_each_threshold_once(void **state)
{
	struct token_cache m;
	struct seen s;

	make_model(&m, 1);
	s = run_daemon(&m, NOT_AFTER - 40 * DAY);
	assert_int_equal(s.n, 0);
	s = run_daemon(&m, NOT_AFTER - 31 * DAY + 1); /* 30 days left */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.thresholds[0], 30);
	assert_int_equal(s.days[0], 30);
	s = run_daemon(&m, NOT_AFTER - 20 * DAY); /* restarted, same threshold */
	assert_int_equal(s.n, 0);
	s = run_daemon(&m, NOT_AFTER - 7 * DAY); /* 7 days left */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.thresholds[0], 7);
	s = run_daemon(&m, NOT_AFTER - 7 * DAY + 60); /* restarted again */
	assert_int_equal(s.n, 0);
	s = run_daemon(&m, NOT_AFTER - 3 * DAY);
	assert_int_equal(s.thresholds[0], 3);
	s = run_daemon(&m, NOT_AFTER - 1 * DAY);
	assert_int_equal(s.thresholds[0], 1);
	s = run_daemon(&m, NOT_AFTER - 10);
	assert_int_equal(s.thresholds[0], 0);
	assert_int_equal(s.days[0], 0);
	s = run_daemon(&m, NOT_AFTER + 5 * DAY); /* expired: nothing new */
	assert_int_equal(s.n, 0);
	/* Years later, still plugged in: still nothing, run after run (it is
	 * not pruned while it is on a token). */
	s = run_daemon(&m, NOT_AFTER + 800 * DAY);
	assert_int_equal(s.n, 0);
	s = run_daemon(&m, NOT_AFTER + 801 * DAY);
	assert_int_equal(s.n, 0);
	token_cache_release(&m);
	unlink(state_path);
}

static void test_missed_thresholds_give_one_notice(void **state)
{
	struct token_cache m;
	struct seen s;

	make_model(&m, 2);
	/* Down from 40 days to 2 days left: one notice, the urgent one. */
	s = run_daemon(&m, NOT_AFTER - 2 * DAY - 5);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.thresholds[0], 3);
	assert_int_equal(s.days[0], 2);
	s = run_daemon(&m, NOT_AFTER - DAY - 5); /* 1 day left */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.thresholds[0], 1);
	token_cache_release(&m);
	unlink(state_path);
}

static void test_next_crossing_drives_the_timer(void **state)
{
	struct token_cache m;
	struct expiry_state *s = NULL;
	struct seen seen = {0};
	int64_t now = NOT_AFTER - 40 * DAY, next;

	make_model(&m, 3);
	assert_int_equal(expiry_state_load(state_path, &s), 0);
	/* Jump from crossing to crossing, as the timer does: each jump lands
	 * on exactly one new notice, and nothing happens a second before. */
	for (int expected = 0; expected < 5; expected++) {
		next = expiry_next_crossing(s, &m, now);
		assert_true(next > now);
		assert_int_equal(expiry_collect(s, &m, next - 1, on_notice, &seen), 0);
		assert_int_equal(expiry_collect(s, &m, next, on_notice, &seen), 1);
		now = next;
	}
	assert_int_equal(seen.n, 5);
	assert_int_equal(seen.thresholds[0], 30);
	assert_int_equal(seen.thresholds[4], 0);
	assert_int_equal(expiry_next_crossing(s, &m, now), INT64_MAX);
	expiry_state_free(s);
	token_cache_release(&m);
}

static void test_corrupt_state_file(void **state)
{
	struct token_cache m;
	struct expiry_state *s = NULL;
	FILE *f = fopen(state_path, "w");

	fputs("{ not json", f);
	fclose(f);
	assert_int_equal(expiry_state_load(state_path, &s), -74); /* -EBADMSG, yet usable */
	assert_non_null(s);
	token_cache_init(&m);
	assert_int_equal(expiry_state_save(s, &m, 0), 0);
	expiry_state_free(s);
	s = NULL;
	assert_int_equal(expiry_state_load(state_path, &s), 0);
	expiry_state_free(s);
	unlink(state_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_threshold_once),
		cmocka_unit_test(test_missed_thresholds_give_one_notice),
		cmocka_unit_test(test_next_crossing_drives_the_timer),
		cmocka_unit_test(test_corrupt_state_file),
	};

	snprintf(state_path, sizeof(state_path), "/tmp/ukey-expiry-test.%d.json", (int)getpid());
	return cmocka_run_group_tests_name("expiry-notify", tests, NULL, NULL);
}
