/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lockout guard against a token with a real retry counter: the
 * opencryptoki software token (3 tries), in the private namespace that
 * tests/fixtures/opencryptoki-ns.sh sets up. pkcs11-tool is the witness.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

static struct harness h;
static char serial[64];

static char *ukeyctl_input(int *status, const char *input, const char *a, const char *b,
			   const char *c)
{
	const char *argv[] = {getenv("UKEYCTL"), "--socket", h.socket, a, b, c, NULL};
	const char *env[] = {"LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};

	return harness_run_input(argv, env, input, status);
}

/* The token's flags as pkcs11-tool reads them. */
static char *witness_flags(void)
{
	int status;
	char *out = harness_sh(
		"pkcs11-tool --module \"$OCK_MODULE\" -L 2>/dev/null | grep 'token flags'",
		&status);

	assert_int_equal(status, 0);
	return out;
}

static bool witness_login(const char *pin)
{
	char cmd[256];
	int status;

	snprintf(
		cmd, sizeof(cmd),
		"pkcs11-tool --module \"$OCK_MODULE\" --slot 3 --login --pin %s -O >/dev/null 2>&1",
		pin);
	free(harness_sh(cmd, &status));
	return status == 0;
}

static const char *state_of(const char *which)
{
	static char buf[32];
	int status;
	char *out = ukeyctl_input(&status, NULL, "status", serial, "--json");
	json_object *doc = json_tokener_parse(out), *pin;

	free(out);
	assert_true(json_object_object_get_ex(doc, "pin", &pin));
	snprintf(buf, sizeof(buf), "%s",
		 json_object_get_string(json_object_object_get(pin, which)));
	json_object_put(doc);
	return buf;
}

static void test_count_low_then_final_try(void **state)
{
	int status;
	char *flags;

	free(ukeyctl_input(&status, "99887766\n24681357\n", "pin", "change", serial));
	assert_int_equal(status, 10);
	assert_string_equal(state_of("user"), "count_low");
	flags = witness_flags();
	assert_non_null(strstr(flags, "count low"));
	free(flags);
	harness_pin_delay(1); /* after a wrong PIN, the next try waits */

	free(ukeyctl_input(&status, "99887766\n24681357\n", "pin", "change", serial));
	assert_int_equal(status, 10);
	assert_string_equal(state_of("user"), "final_try");
	flags = witness_flags();
	assert_non_null(strstr(flags, "final user PIN try"));
	free(flags);
}

static void test_guard_refuses_the_final_try(void **state)
{
	ukey_client *c = NULL;
	int status;
	char *flags;

	harness_pin_delay(2);
	/* Without --force: refused, nothing tried, not even the probe. */
	free(ukeyctl_input(&status, "99887766\n24681357\n", "pin", "change", serial));
	assert_int_equal(status, 13);
	free(ukeyctl_input(&status, NULL, "pin", "probe-default", serial));
	assert_int_equal(status, 13);
	/* The daemon guards too, whatever the client checks. */
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_change_pin(c, serial, "99887766", "24681357", 0),
			 UKEY_E_LOCKOUT_GUARD);
	bool is_default = false;
	assert_int_equal(ukey_client_probe_default_pin(c, serial, &is_default),
			 UKEY_E_LOCKOUT_GUARD);
	ukey_client_unref(c);
	flags = witness_flags();
	assert_null(strstr(flags, "locked"));
	assert_non_null(strstr(flags, "final user PIN try"));
	free(flags);
}

static void test_force_without_confirmation(void **state)
{
	int status;
	char *flags;

	/* --force, but the typed confirmation is not the serial. */
	free(ukeyctl_input(&status, "no\n99887766\n24681357\n", "pin", "change", "--force"));
	assert_int_equal(status, 13);
	flags = witness_flags();
	assert_null(strstr(flags, "locked"));
	free(flags);
}

static void test_force_with_wrong_pin_locks(void **state)
{
	char input[128];
	int status;
	char *flags, *out;

	snprintf(input, sizeof(input), "%s\n99887766\n24681357\n", serial);
	free(ukeyctl_input(&status, input, "pin", "change", "--force"));
	assert_int_equal(status, 11);
	assert_string_equal(state_of("user"), "locked");
	flags = witness_flags();
	assert_non_null(strstr(flags, "locked"));
	free(flags);
	harness_pin_delay(4);
	/* Locked: even the right PIN is not tried. */
	free(ukeyctl_input(&status, "123456\n24681357\n", "pin", "change", serial));
	assert_int_equal(status, 11);
	/* And the readiness check says so. */
	out = ukeyctl_input(&status, NULL, "--json", "check", serial);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "\"pin_locked\""));
	assert_non_null(strstr(out, "\"not_ready\""));
	free(out);
}

static void test_unlock_with_so_pin(void **state)
{
	int status;

	free(ukeyctl_input(&status, "87654321\n", "pin", "unlock", serial));
	assert_int_equal(status, 0);
	assert_string_equal(state_of("user"), "ok");
	assert_true(witness_login("123456"));
	/* Usable again: the bidder moves off the default. */
	free(ukeyctl_input(&status, "123456\n24681357\n", "pin", "change", serial));
	assert_int_equal(status, 0);
	assert_true(witness_login("24681357"));
}

static void test_so_pin_guard(void **state)
{
	int status;
	char *flags;

	/* Two wrong SO PINs, then the guard stops the third: a third wrong
	 * one would destroy the token for good. */
	free(ukeyctl_input(&status, "11223344\n", "pin", "unlock", serial));
	assert_int_equal(status, 10);
	harness_pin_delay(1);
	free(ukeyctl_input(&status, "11223344\n", "pin", "unlock", serial));
	assert_int_equal(status, 10);
	assert_string_equal(state_of("so"), "final_try");
	harness_pin_delay(2);
	free(ukeyctl_input(&status, "11223344\n", "pin", "unlock", serial));
	assert_int_equal(status, 13);
	flags = witness_flags();
	assert_null(strstr(flags, "SO PIN locked"));
	free(flags);
	/* The right SO PIN, deliberately on the final try, still unlocks. */
	char input[128];
	snprintf(input, sizeof(input), "%s\n87654321\n", serial);
	free(ukeyctl_input(&status, input, "pin", "unlock", "--force"));
	assert_int_equal(status, 0);
	assert_string_equal(state_of("so"), "ok");
}

static int group_setup(void **state)
{
	const char *const args[] = {"--module", getenv("OCK_MODULE"), NULL};

	/* No SoftHSM here: only the harness's directory and daemon. */
	if (harness_setup(&h, "none") < 0 || harness_start_daemon(&h, args, NULL) < 0)
		return -1;
	return harness_token_serial(&h, "ock-test", serial, sizeof(serial));
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_low_then_final_try),
		cmocka_unit_test(test_guard_refuses_the_final_try),
		cmocka_unit_test(test_force_without_confirmation),
		cmocka_unit_test(test_force_with_wrong_pin_locks),
		cmocka_unit_test(test_unlock_with_so_pin),
		cmocka_unit_test(test_so_pin_guard),
	};
	if (!getenv("OCK_MODULE")) {
		printf("1..0 # SKIP run through tests/fixtures/opencryptoki-ns.sh\n");
		return 0;
	}
	return HARNESS_RUN_TESTS("pin-opencryptoki", tests, group_setup, group_teardown);
}
