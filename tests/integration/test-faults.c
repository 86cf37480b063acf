/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Slow and failing tokens. The p11-unplug wrapper module makes chosen
 * PKCS#11 calls of one token sleep (a slow token) or fail with
 * CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT or CKR_DEVICE_ERROR (a token
 * pulled out at that very call). ukeyd must answer cached queries at once
 * while a token is slow, stop waiting for a module that hangs (its
 * watchdog), survive every failure, never serve a token it could not
 * read, and lose nothing: once the fault is gone the token is back whole,
 * and a PIN change that failed left the PIN as it was (pkcs11-tool).
 * The wrapper also reports slot events (C_WaitForSlotEvent) here: ukeyd
 * must follow a token plugged in and pulled out from those alone.
 */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PRIMARY "国信CA测试主锁"
#define SLOW "慢锁"
#define BYSTANDER "旁观锁"
#define REPORTED "插槽事件锁" /* plugged in and out, told by slot events only */
#define MODULE_TIMEOUT_S 2
/* A cached answer takes well under a millisecond; this bound only has to
 * tell "at once" from "after the slow token", even under ASan. */
#define AT_ONCE_MS 250

static struct harness h;
static char bystander_serial[64];

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static int group_setup(void **state)
{
	char timeout[16];
	const char *const args[] = {
		"--module", getenv("P11_UNPLUG"), "--module-timeout", timeout, "-v", NULL};
	const char *const env[] = {h.unplug_env, h.faults_env, "P11_UNPLUG_SLOT_EVENTS=1", NULL};
	const char *const blank[] = {SLOW, BYSTANDER, REPORTED};

	snprintf(timeout, sizeof(timeout), "%d", MODULE_TIMEOUT_S);
	if (harness_setup(&h, "primary") < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(blank); i++)
		if (harness_shf("SOFTHSM2_CONF=%s softhsm2-util --init-token --free --label '%s' "
				"--so-pin 5720381694026153 --pin 123456 >/dev/null",
				h.softhsm_conf, blank[i]) != 0)
			return -1;
	if (harness_set_plugged(&h, REPORTED, false) < 0 || harness_set_faults(&h, "") < 0 ||
	    harness_start_daemon(&h, args, env) < 0)
		return -1;
	return harness_token_serial(&h, BYSTANDER, bystander_serial, sizeof(bystander_serial));
}

/* The slot event thread must end with the module (C_Finalize wakes it),
 * not be left behind. */
static int group_teardown(void **state)
{
	int stopped = harness_stop_daemon(&h);
	bool left_behind = harness_file_contains(h.log, "left behind");

	if (left_behind)
		fprintf(stderr, "the slot event thread outlived the module\n");
	return harness_finish(&h) == 0 && stopped == 0 && !left_behind ? 0 : -1;
}

static void wait_log(const char *needle, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 100 && !harness_file_contains(h.log, needle); i++)
		poll(NULL, 0, 100);
	assert_true(harness_file_contains(h.log, needle));
}

/* While the slow token holds its module's worker for seconds, the list
 * and another token answer at once; the refresh waiting for the module is
 * released by the watchdog, and the module is followed again after. */
static void test_slow_token_does_not_stall_others(void **state)
{
	struct timespec t0;
	ukey_client *c = NULL;
	pid_t refresher;
	int status;

	/* The scan searches this token's objects once: 4.8 s. */
	assert_int_equal(harness_set_faults(&h, "C_FindObjectsInit " SLOW " delay=4800\n"), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	refresher = fork();
	assert_true(refresher >= 0);
	if (refresher == 0) {
		ukey_client *rc = NULL;
		_exit(ukey_client_new(h.socket, &rc) == UKEY_OK &&
				      ukey_client_refresh(rc) == UKEY_OK
			      ? 0
			      : 1);
	}
	poll(NULL, 0, 300); /* the scan is on the slow token now */

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	for (int i = 0; i < 10; i++) {
		struct timespec q;
		ukey_token_list *list = NULL;
		ukey_token *t = NULL;

		clock_gettime(CLOCK_MONOTONIC, &q);
		assert_int_equal(ukey_client_list_tokens(c, &list), UKEY_OK);
		assert_true(ukey_token_list_get_count(list) >= 3);
		ukey_token_list_unref(list);
		assert_int_equal(ukey_client_get_token(c, bystander_serial, &t), UKEY_OK);
		assert_string_equal(ukey_token_get_label(t), BYSTANDER);
		ukey_token_unref(t);
		assert_true(ms_since(&q) < AT_ONCE_MS);
	}
	/* All of that happened while the slow scan was still going. */
	assert_int_equal(waitpid(refresher, &status, WNOHANG), 0);

	/* The refresh is answered when the watchdog gives up on the module,
	 * not when the 4.8 s scan ends. */
	assert_int_equal(waitpid(refresher, &status, 0), refresher);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(ms_since(&t0) < 4500);
	assert_true(harness_file_contains(h.log, "no answer for 2 s"));

	assert_int_equal(harness_set_faults(&h, ""), 0);
	wait_log("answering again", 10000);
	/* Served again, and fresh: a refresh now waits for the module. */
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ukey_client_unref(c);
}

struct fault {
	const char *function;
	const char *rv;
};

/* Where a token can vanish during a scan, and how modules say it. */
static const struct fault scan_faults[] = {
	{"C_GetTokenInfo", "0x32"},	 {"C_GetTokenInfo", "0xe0"},
	{"C_GetTokenInfo", "0x30"},	 {"C_OpenSession", "0x32"},
	{"C_OpenSession", "0xe0"},	 {"C_OpenSession", "0x30"},
	{"C_FindObjectsInit", "0x32"},	 {"C_FindObjectsInit", "0xe0"},
	{"C_FindObjects", "0x32"},	 {"C_FindObjects", "0x30"},
	{"C_GetAttributeValue", "0x32"}, {"C_GetAttributeValue", "0xe0"},
	{"C_GetAttributeValue", "0x30"},
};

/* What a client sees of the primary: serial, certificates, seals. */
static void primary_shape(ukey_client *c, char *serial, size_t size, size_t *n_certs,
			  size_t *n_seals)
{
	ukey_token *t = NULL;

	assert_int_equal(harness_token_serial(&h, PRIMARY, serial, size), 0);
	assert_int_equal(ukey_client_get_token(c, serial, &t), UKEY_OK);
	*n_certs = ukey_token_get_cert_count(t);
	*n_seals = ukey_token_get_seal_count(t);
	ukey_token_unref(t);
}

static void test_scan_survives_every_failure(void **state)
{
	ukey_client *c = NULL;
	char serial[64], again[64], fault[128], missing[64];
	size_t certs, seals, certs2, seals2;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	primary_shape(c, serial, sizeof(serial), &certs, &seals);
	assert_true(certs >= 2 && seals >= 1);

	for (size_t i = 0; i < ARRAY_SIZE(scan_faults); i++) {
		ukey_token *t = NULL;

		snprintf(fault, sizeof(fault), "%s %s rv=%s\n", scan_faults[i].function, PRIMARY,
			 scan_faults[i].rv);
		assert_int_equal(harness_set_faults(&h, fault), 0);
		assert_int_equal(ukey_client_refresh(c), UKEY_OK);
		/* Not served half-read: gone until it reads whole again. */
		assert_int_equal(ukey_client_get_token(c, serial, &t), UKEY_E_NOT_FOUND);
		/* The others are untouched. */
		assert_int_equal(ukey_client_get_token(c, bystander_serial, &t), UKEY_OK);
		ukey_token_unref(t);

		assert_int_equal(harness_set_faults(&h, ""), 0);
		assert_int_equal(ukey_client_refresh(c), UKEY_OK);
		primary_shape(c, again, sizeof(again), &certs2, &seals2);
		assert_string_equal(again, serial);
		assert_int_equal(certs2, certs);
		assert_int_equal(seals2, seals);
	}

	/* The module's slot list itself failing: its tokens are not served,
	 * the daemon lives on and serves them again after. */
	assert_int_equal(harness_set_faults(&h, "C_GetSlotList * rv=0x30\n"), 0);
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_int_equal(harness_token_serial(&h, BYSTANDER, missing, sizeof(missing)), -1);
	assert_int_equal(harness_set_faults(&h, ""), 0);
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	primary_shape(c, again, sizeof(again), &certs2, &seals2);
	assert_int_equal(certs2, certs);
	ukey_client_unref(c);
}

/* A token that vanishes at the login or at C_SetPIN: the caller hears
 * "token removed" (exit 15), and the PIN is what it was. */
static void test_pin_change_survives_removal(void **state)
{
	static const char *const at[] = {"C_Login", "C_SetPIN"};
	char fault[128];

	for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
		const char *const argv[] = {getenv("UKEYCTL"), "--socket",	 h.socket, "pin",
					    "change",	       bystander_serial, NULL};
		int status;

		snprintf(fault, sizeof(fault), "%s %s rv=0x32\n", at[i], BYSTANDER);
		assert_int_equal(harness_set_faults(&h, fault), 0);
		free(harness_run_input(argv, NULL, "123456\n7301952846139027\n", &status));
		assert_int_equal(status, 15);
		assert_int_equal(harness_set_faults(&h, ""), 0);
		/* pkcs11-tool, straight to SoftHSM: the old PIN still logs in. */
		assert_int_equal(
			harness_shf("SOFTHSM2_CONF=%s pkcs11-tool --module %s --token-label '%s' "
				    "--login --pin 123456 --list-objects >/dev/null 2>&1",
				    h.softhsm_conf, SOFTHSM_MODULE, BYSTANDER),
			0);
	}
}

/* No USB report and no refresh: the module's slot event alone brings the
 * token in and takes it out. */
static void test_module_slot_events(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = NULL;
	char serial[64] = "", path[200];
	FILE *f;

	assert_true(harness_file_contains(h.log, "following its slot events"));
	/* Its serial, from SoftHSM itself: ukeyd has not seen it yet. */
	snprintf(path, sizeof(path), "%s/serial", h.dir);
	assert_int_equal(harness_shf("SOFTHSM2_CONF=%s pkcs11-tool --module %s -L 2>/dev/null | "
				     "awk '/token label/ {l = ($0 ~ /%s/)} l && /serial num/ "
				     "{print $NF; exit}' > %s",
				     h.softhsm_conf, SOFTHSM_MODULE, REPORTED, path),
			 0);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(serial, sizeof(serial), f));
	fclose(f);
	serial[strcspn(serial, "\n")] = '\0';
	assert_true(strlen(serial) > 0);

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_subscribe(c, harness_events_record, &s), UKEY_OK);
	assert_int_equal(harness_set_plugged(&h, REPORTED, true), 0);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, serial, 5000) >= 0);
	assert_int_equal(harness_set_plugged(&h, REPORTED, false), 0);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_REMOVED, serial, 5000) >= 0);
	assert_int_equal(harness_events_count(&s, UKEY_EVENT_TOKEN_ADDED, serial), 1);
	ukey_client_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_token_does_not_stall_others),
		cmocka_unit_test(test_scan_survives_every_failure),
		cmocka_unit_test(test_pin_change_survives_removal),
		cmocka_unit_test(test_module_slot_events),
	};

	return HARNESS_RUN_TESTS("faults", tests, group_setup, group_teardown);
}
