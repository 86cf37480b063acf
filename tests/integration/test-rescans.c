/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rescans read only what changed, and the events stay exact. ukeyd runs on
 * the p11-unplug wrapper with slot events (each change of the unplug file
 * is one, as a reader reports a card), and the wrapper logs every PKCS#11
 * call with the token it reaches: the test counts what a rescan read.
 * Tokens change under ukeyd: relabeled, pulled out and plugged back,
 * swapped for another in the same slot, given a certificate; a PIN job
 * re-reads its own token only; and a slow first scan still answers a
 * list at once, with what it has read so far.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct harness h;
static char call_log[160], call_log_env[200];

static const char *const tokens[] = {"甲锁", "乙锁", "丙锁", "丁锁"};
static char serials[ARRAY_SIZE(tokens)][64];

static int start_daemon(bool until_ready)
{
	const char *const args[] = {"--module", getenv("P11_UNPLUG"), NULL};
	const char *const env[] = {h.unplug_env, h.faults_env, "P11_UNPLUG_SLOT_EVENTS=1",
				   call_log_env, NULL};

	return until_ready ? harness_start_daemon(&h, args, env)
			   : harness_start_daemon_listening(&h, args, env);
}

static int group_setup(void **state)
{
	if (harness_setup(&h, "primary") < 0)
		return -1;
	snprintf(call_log, sizeof(call_log), "%s/calls.log", h.dir);
	snprintf(call_log_env, sizeof(call_log_env), "P11_UNPLUG_LOG=%s", call_log);
	for (size_t i = 0; i < ARRAY_SIZE(tokens); i++)
		if (harness_shf("SOFTHSM2_CONF=%s softhsm2-util --init-token --free --label '%s' "
				"--so-pin 5720381694026153 --pin 123456 >/dev/null",
				h.softhsm_conf, tokens[i]) != 0)
			return -1;
	/* 丁锁 waits outside, to be swapped in. */
	if (harness_set_plugged(&h, "丁锁", false) < 0 || start_daemon(true) < 0)
		return -1;
	if (harness_set_plugged(&h, "丁锁", true) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(tokens); i++) {
		ukey_client *c = NULL;
		if (ukey_client_new(h.socket, &c) != UKEY_OK || ukey_client_refresh(c) != UKEY_OK ||
		    harness_token_serial(&h, tokens[i], serials[i], sizeof(serials[i])) < 0)
			return -1;
		ukey_client_unref(c);
	}
	/* Out again, and seen out before any test subscribes. */
	if (harness_set_plugged(&h, "丁锁", false) < 0)
		return -1;
	{
		ukey_client *c = NULL;
		int r = ukey_client_new(h.socket, &c) == UKEY_OK &&
					ukey_client_refresh(c) == UKEY_OK
				? 0
				: -1;
		ukey_client_unref(c);
		return r;
	}
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

/* How many logged calls of function reached the token labeled label. */
static int calls(const char *function, const char *label)
{
	char line[256], want[200];
	int n = 0;
	FILE *f = fopen(call_log, "re");

	snprintf(want, sizeof(want), "%s %s\n", function, label);
	while (f && fgets(line, sizeof(line), f))
		n += strcmp(line, want) == 0;
	if (f)
		fclose(f);
	return n;
}

static void clear_calls(void)
{
	FILE *f = fopen(call_log, "we");

	if (f)
		fclose(f);
}

/* The events a change brings, once they have settled. */
static void settle(ukey_client *c, struct harness_events *s, enum ukey_event_type type,
		   const char *serial)
{
	assert_true(harness_events_wait(c, s, type, serial, 5000) >= 0);
	harness_events_collect(c, 400);
}

static void test_relabel_rereads_that_token_only(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	int i;

	clear_calls();
	assert_int_equal(harness_set_unplug_rule(&h, "relabel", "乙锁", "乙锁改名"), 0);
	settle(c, &s, UKEY_EVENT_TOKEN_CHANGED, serials[1]);
	assert_int_equal(s.n, 1);
	i = harness_events_find(&s, UKEY_EVENT_TOKEN_CHANGED, serials[1]);
	assert_string_equal(s.labels[i], "乙锁改名");
	/* Every listing was read, the objects of the changed token only. */
	assert_true(calls("C_GetTokenInfo", "甲锁") >= 1);
	assert_true(calls("C_GetTokenInfo", "丙锁") >= 1);
	assert_int_equal(calls("C_FindObjectsInit", "甲锁"), 0);
	assert_int_equal(calls("C_FindObjectsInit", "丙锁"), 0);
	assert_int_equal(calls("C_FindObjectsInit", "乙锁"), 1);

	assert_int_equal(harness_set_unplug_rule(&h, "relabel", "乙锁", NULL), 0);
	settle(c, &s, UKEY_EVENT_TOKEN_CHANGED, serials[1]);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.labels[1], "乙锁");
	ukey_client_unref(c);
}

static void test_pull_and_plug_are_one_event_each(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);

	clear_calls();
	assert_int_equal(harness_set_plugged(&h, "丙锁", false), 0);
	settle(c, &s, UKEY_EVENT_TOKEN_REMOVED, serials[2]);
	assert_int_equal(s.n, 1);
	assert_int_equal(calls("C_FindObjectsInit", "甲锁") + calls("C_FindObjectsInit", "乙锁"),
			 0);

	clear_calls();
	assert_int_equal(harness_set_plugged(&h, "丙锁", true), 0);
	settle(c, &s, UKEY_EVENT_TOKEN_ADDED, serials[2]);
	assert_int_equal(s.n, 2);
	assert_int_equal(calls("C_FindObjectsInit", "丙锁"), 1);
	assert_int_equal(calls("C_FindObjectsInit", "甲锁") + calls("C_FindObjectsInit", "乙锁"),
			 0);
	ukey_client_unref(c);
}

/* Another token in the same slot is a removal and an arrival, never a
 * change of the token that was there. */
static void test_swap_in_same_slot(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);

	assert_int_equal(harness_set_unplug_rule(&h, "swap", "甲锁", "丁锁"), 0);
	settle(c, &s, UKEY_EVENT_TOKEN_ADDED, serials[3]);
	assert_true(harness_events_find(&s, UKEY_EVENT_TOKEN_REMOVED, serials[0]) >= 0);
	assert_int_equal(harness_events_count(&s, UKEY_EVENT_TOKEN_CHANGED, NULL), 0);
	assert_int_equal(s.n, 2);

	assert_int_equal(harness_set_unplug_rule(&h, "swap", "甲锁", NULL), 0);
	settle(c, &s, UKEY_EVENT_TOKEN_ADDED, serials[0]);
	assert_true(harness_events_find(&s, UKEY_EVENT_TOKEN_REMOVED, serials[3]) >= 0);
	assert_int_equal(harness_events_count(&s, UKEY_EVENT_TOKEN_CHANGED, NULL), 0);
	assert_int_equal(s.n, 4);
	ukey_client_unref(c);
}

/* A certificate written by another program changes no listing: refresh
 * re-reads every token, and only the one that changed is announced. */
static void test_certificate_added_seen_by_refresh(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	ukey_token *t = NULL;
	int i;

	assert_int_equal(
		harness_shf(
			"cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
			"-nodes -keyout added.key -subj '/CN=added' -days 400 -outform DER "
			"-out added.der 2>/dev/null && SOFTHSM2_CONF=%s pkcs11-tool --module %s "
			"--token-label 乙锁 --login --pin 123456 --write-object added.der "
			"--type cert --id 09 --label added >/dev/null 2>&1",
			h.dir, h.softhsm_conf, SOFTHSM_MODULE),
		0);
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	harness_events_collect(c, 400);
	assert_int_equal(s.n, 1);
	i = harness_events_find(&s, UKEY_EVENT_TOKEN_CHANGED, serials[1]);
	assert_true(i >= 0);
	assert_int_equal(ukey_client_get_token(c, serials[1], &t), UKEY_OK);
	assert_int_equal(ukey_token_get_cert_count(t), 1);
	ukey_token_unref(t);
	ukey_client_unref(c);
}

static void test_pin_job_rereads_its_token_only(void **state)
{
	ukey_client *c = NULL;
	bool is_default = false;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	clear_calls();
	assert_int_equal(ukey_client_probe_default_pin(c, serials[1], &is_default), UKEY_OK);
	assert_true(is_default);
	assert_int_equal(calls("C_FindObjectsInit", "乙锁"), 1);
	assert_int_equal(calls("C_FindObjectsInit", "甲锁") + calls("C_FindObjectsInit", "丙锁"),
			 0);
	ukey_client_unref(c);
}

/* Started with tokens slow to read, ukeyd answers a list at once with the
 * tokens read so far, says it is still scanning, and announces each token
 * as it is read. */
static void test_list_during_slow_first_scan(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = NULL, *w = NULL;
	ukey_token_list *list = NULL;
	const char *const argv[] = {getenv("UKEYCTL"), "--socket", h.socket, "list", NULL};
	char cmd[300], *out;
	size_t partial = 0, total = ARRAY_SIZE(tokens) - 1 + 1; /* 丁锁 out, the primary in */
	int status;

	assert_int_equal(harness_stop_daemon(&h), 0);
	/* 1.5 s per token: the scan takes some 6 s. */
	assert_int_equal(harness_set_faults(&h, "C_FindObjectsInit * delay=1500\n"), 0);
	assert_int_equal(start_daemon(false), 0);
	w = harness_subscribed_client(&h, &s);
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	for (int i = 0; i < 80 && partial == 0; i++) {
		assert_int_equal(ukey_client_list_tokens(c, &list), UKEY_OK);
		assert_true(ukey_token_list_is_scanning(list));
		for (size_t k = 0; k < ukey_token_list_get_count(list); k++)
			partial += ukey_token_is_initialized(ukey_token_list_get(list, k));
		ukey_token_list_unref(list);
		poll(NULL, 0, 50);
	}
	/* Some read, not all: the list did not wait. */
	assert_true(partial > 0 && partial < total);
	/* ukeyctl waits a little, then shows what it has and says so. */
	snprintf(cmd, sizeof(cmd), "%s --socket %s list 2>&1 >/dev/null", argv[0], h.socket);
	out = harness_sh(cmd, &status);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "still reading"));
	free(out);

	/* Each token was announced as it was read, while scanning. */
	for (int i = 0; i < 100; i++) {
		harness_events_collect(w, 100);
		assert_int_equal(ukey_client_list_tokens(c, &list), UKEY_OK);
		if (!ukey_token_list_is_scanning(list))
			break;
		ukey_token_list_unref(list);
		list = NULL;
	}
	assert_non_null(list);
	assert_false(ukey_token_list_is_scanning(list));
	ukey_token_list_unref(list);
	assert_true(harness_events_count(&s, UKEY_EVENT_TOKEN_ADDED, NULL) >=
		    (int)(total - partial));
	out = harness_run(argv, NULL, &status);
	assert_int_equal(status, 0);
	for (size_t i = 0; i < 3; i++)
		assert_non_null(strstr(out, tokens[i]));
	free(out);
	assert_int_equal(harness_set_faults(&h, ""), 0);
	ukey_client_unref(c);
	ukey_client_unref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relabel_rereads_that_token_only),
		cmocka_unit_test(test_pull_and_plug_are_one_event_each),
		cmocka_unit_test(test_swap_in_same_slot),
		cmocka_unit_test(test_certificate_added_seen_by_refresh),
		cmocka_unit_test(test_pin_job_rereads_its_token_only),
		cmocka_unit_test(test_list_during_slow_first_scan),
	};

	return HARNESS_RUN_TESTS("rescans", tests, group_setup, group_teardown);
}
