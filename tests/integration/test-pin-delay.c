/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * After a wrong PIN, the next try on that token waits: 1 s, then twice as
 * long after each wrong PIN (up to an hour), remembered per serial across
 * restarts, reported as retry_after. SoftHSM has no retry counter, so
 * without the wait wrong PINs run at tens a second. ukeyd runs under
 * libfaketime here (its wall clock moved by the test; its monotonic clock
 * left alone), so an hour of waiting takes no time. pkcs11-tool witnesses
 * that a refused try touched nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

static struct harness h;
static char serial[64];
static char clock_file[200], clock_env[240];

/* ukeyd's wall clock, offset seconds from the real one. */
static void set_clock(long offset)
{
	char tmp[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", clock_file);
	f = fopen(tmp, "we");
	assert_non_null(f);
	fprintf(f, "%+ld\n", offset);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, clock_file), 0);
}

static void start(const char *module, const char *const *env_extra)
{
	const char *args[] = {"--module", module, NULL};
	const char *env[8] = {"LD_PRELOAD=" FAKETIME_LIB, clock_env, "FAKETIME_NO_CACHE=1",
			      "FAKETIME_DONT_FAKE_MONOTONIC=1", NULL};
	size_t n = 4;

	for (; env_extra && *env_extra && n < 7; env_extra++)
		env[n++] = *env_extra;
	env[n] = NULL;
	assert_int_equal(harness_start_daemon(&h, args, env), 0);
	assert_int_equal(harness_token_serial(&h, NULL, serial, sizeof(serial)), 0);
}

/* One change with a wrong old PIN: its error and the wait it reports. */
static enum ukey_error try_wrong(unsigned *ret_wait)
{
	ukey_client *c = NULL;
	enum ukey_error e;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	e = ukey_client_change_pin(c, serial, "99887766", "24681357", 0);
	*ret_wait = ukey_client_get_retry_after(c);
	ukey_client_unref(c);
	return e;
}

static bool witness_login(const char *pin)
{
	char cmd[256];
	int status;

	snprintf(cmd, sizeof(cmd),
		 "pkcs11-tool --module " SOFTHSM_MODULE " --login --pin %s -O >/dev/null 2>&1",
		 pin);
	free(harness_sh(cmd, &status));
	return status == 0;
}

static void test_delay_grows_and_persists(void **state)
{
	unsigned wait;
	long clock = 0;
	ukey_client *c = NULL;

	set_clock(0);
	start(SOFTHSM_MODULE, NULL);
	/* 1, 2, 4, 8, 16 s: each wrong PIN doubles the wait of the next. */
	for (unsigned k = 1; k <= 5; k++) {
		assert_int_equal(try_wrong(&wait), UKEY_E_PIN_INCORRECT);
		assert_int_equal(try_wrong(&wait), UKEY_E_RETRY_LATER);
		assert_int_equal(wait, 1u << (k - 1));
		clock += (long)wait + 1;
		set_clock(clock);
	}
	assert_int_equal(try_wrong(&wait), UKEY_E_PIN_INCORRECT); /* the sixth */
	assert_int_equal(try_wrong(&wait), UKEY_E_RETRY_LATER);
	assert_int_equal(wait, 32);

	/* Remembered across a restart. */
	assert_int_equal(harness_stop_daemon(&h), 0);
	start(SOFTHSM_MODULE, NULL);
	assert_int_equal(try_wrong(&wait), UKEY_E_RETRY_LATER);
	assert_true(wait >= 30 && wait <= 32);
	/* A clock set back an hour does not make it an hour longer. */
	set_clock(clock - 3600);
	assert_int_equal(try_wrong(&wait), UKEY_E_RETRY_LATER);
	assert_true(wait <= 32);
	/* Refused tries touched nothing: the right PIN still works, and ends
	 * the wait once it is over. */
	assert_true(witness_login("123456"));
	set_clock(clock + 33);
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_change_pin(c, serial, "123456", "24681357", 0), UKEY_OK);
	assert_int_equal(ukey_client_change_pin(c, serial, "24681357", "13572468", 0), UKEY_OK);
	ukey_client_unref(c);
	assert_true(witness_login("13572468"));
	assert_int_equal(harness_stop_daemon(&h), 0);
}

/* Two PIN operations on one token at once: the second waits for the
 * first (it is refused, with retry_after, instead of racing it). The
 * wrapper module makes C_Login take 3 s; the second comes 1 s after the
 * first, ample for it to be under way even on a loaded machine. */
static void test_one_at_a_time(void **state)
{
	const char *env[] = {h.unplug_env, h.faults_env, NULL};
	ukey_client *b = NULL;
	int status;
	pid_t a;

	set_clock(0);
	assert_int_equal(harness_set_plugged(&h, "none", true), 0);
	assert_int_equal(harness_set_faults(&h, "C_Login * delay=3000\n"), 0);
	start(getenv("P11_UNPLUG"), env);
	a = fork();
	assert_true(a >= 0);
	if (a == 0) {
		ukey_client *c = NULL;
		if (ukey_client_new(h.socket, &c) != UKEY_OK)
			_exit(1);
		_exit(ukey_client_change_pin(c, serial, "13572468", "24681357", 0) == UKEY_OK ? 0
											      : 2);
	}
	usleep(1000 * 1000);
	assert_int_equal(ukey_client_new(h.socket, &b), UKEY_OK);
	assert_int_equal(ukey_client_change_pin(b, serial, "13572468", "11335577", 0),
			 UKEY_E_RETRY_LATER);
	assert_int_equal(ukey_client_get_retry_after(b), 1);
	ukey_client_unref(b);
	assert_int_equal(waitpid(a, &status, 0), a);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(witness_login("24681357"));
	assert_int_equal(harness_set_faults(&h, ""), 0);
	assert_int_equal(harness_stop_daemon(&h), 0);
}

static int test_teardown(void **state)
{
	if (h.daemon > 0)
		harness_stop_daemon(&h);
	return 0;
}

static int group_setup(void **state)
{
	if (access(FAKETIME_LIB, R_OK) != 0) {
		printf("1..0 # SKIP libfaketime missing (apt-get install faketime)\n");
		exit(0);
	}
	if (harness_setup(&h, "primary") < 0)
		return -1;
	snprintf(clock_file, sizeof(clock_file), "%s/clock", h.dir);
	snprintf(clock_env, sizeof(clock_env), "FAKETIME_TIMESTAMP_FILE=%s", clock_file);
	return 0;
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_delay_grows_and_persists, test_teardown),
		cmocka_unit_test_teardown(test_one_at_a_time, test_teardown),
	};
	return HARNESS_RUN_TESTS("pin-delay", tests, group_setup, group_teardown);
}
