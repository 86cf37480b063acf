/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PIN work on a SoftHSM token through the real ukeyd and ukeyctl, with
 * pkcs11-tool as the independent witness: change, policy refusals, wrong
 * PINs, counter unlock (root only), the audit log, and no PIN left in the
 * state dir, the audit file, the daemon's log or the daemon's memory.
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

/* Every PIN this test gives, all distinctive enough that finding one
 * anywhere means a copy was kept (the SO PIN is the fixture's). Memory is
 * searched for their last 8 characters: malloc reuses the first 16 bytes
 * of a freed chunk, which would hide a short unwiped PIN by chance. The
 * weak ones the policy refuses are digit runs found in any libc's tables,
 * so only files are searched for those. */
static const char *const used_pins[] = {"7301952846139027", "2468103579135790", "9999000184736251",
					"3141592765358979", "5720381694026153", "8362714059382716",
					"5820394716273849"};
static const char *const weak_pins[] = {"111111", "654321"};

static char *ukeyctl_input(int *status, const char *input, const char *a, const char *b,
			   const char *c, const char *d)
{
	const char *argv[] = {getenv("UKEYCTL"), "--socket", h.socket, a, b, c, d, NULL};
	const char *env[] = {"LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};

	return harness_run_input(argv, env, input, status);
}

/* Does pkcs11-tool, on its own, log in with this PIN? */
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

static json_object *pin_json(void)
{
	int status;
	char *out = ukeyctl_input(&status, NULL, "status", serial, "--json", NULL);
	json_object *doc = json_tokener_parse(out), *pin = NULL;

	free(out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "pin", &pin));
	json_object_get(pin);
	json_object_put(doc);
	return pin;
}

static int pin_default_state(void)
{
	json_object *pin = pin_json(), *v = NULL;
	int r;

	json_object_object_get_ex(pin, "default", &v);
	r = v ? json_object_get_boolean(v) : -1;
	json_object_put(pin);
	return r;
}

static void test_change(void **state)
{
	int status;

	free(ukeyctl_input(&status, "123456\n7301952846139027\n", "pin", "change", serial, NULL));
	assert_int_equal(status, 0);
	assert_true(witness_login("7301952846139027"));
	assert_false(witness_login("123456"));
	assert_int_equal(pin_default_state(), 0);
}

static void test_weak_pins_refused(void **state)
{
	static const char *const weak[] = {"123456", "111111", "654321", "12345",
					   "7301952846139027"};
	ukey_client *c = NULL;
	int status;

	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		char input[64];
		snprintf(input, sizeof(input), "7301952846139027\n%s\n", weak[i]);
		free(ukeyctl_input(&status, input, "pin", "change", serial, NULL));
		assert_int_equal(status, 12);
	}
	/* The token was never touched: the old PIN works, nothing was spent. */
	assert_true(witness_login("7301952846139027"));
	json_object *pin = pin_json();
	assert_string_equal(json_object_get_string(json_object_object_get(pin, "user")), "ok");
	json_object_put(pin);

	/* The same through libukey, with the reason. */
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_change_pin(c, serial, "7301952846139027", "111111", 0),
			 UKEY_E_PIN_POLICY);
	assert_string_equal(ukey_client_get_error_reason(c), "repeated");
	assert_int_equal(ukey_client_change_pin(c, serial, "7301952846139027", "123456", 0),
			 UKEY_E_PIN_POLICY);
	assert_string_equal(ukey_client_get_error_reason(c), "default");
	ukey_client_unref(c);
}

static void test_wrong_old_pin(void **state)
{
	int status;

	free(ukeyctl_input(&status, "9999000184736251\n2468103579135790\n", "pin", "change", serial,
			   NULL));
	assert_int_equal(status, 10);
	/* The next try, at once, waits (a second after one wrong PIN):
	 * refused, untried. The witness looks after both. */
	{
		char cmd[400];
		char *out;
		snprintf(cmd, sizeof(cmd),
			 "printf '7301952846139027\\n2468103579135790\\n' | LANG=C.UTF-8 %s "
			 "--socket %s pin change %s 2>&1 >/dev/null",
			 getenv("UKEYCTL"), h.socket, serial);
		out = harness_sh(cmd, &status);
		assert_int_equal(status, 16);
		assert_non_null(strstr(out, "Try again in 1 second"));
		free(out);
	}
	assert_true(witness_login("7301952846139027"));
	assert_false(witness_login("2468103579135790"));
	usleep(1200 * 1000);
}

static void test_pin_fd(void **state)
{
	char cmd[512];
	int status;

	/* PINs from descriptor 3, stdin left alone. */
	snprintf(cmd, sizeof(cmd),
		 "printf '7301952846139027\\n2468103579135790\\n' > %s/pins && %s --socket %s pin "
		 "change %s --pin-fd 3 "
		 "3< %s/pins </dev/null >/dev/null; r=$?; rm -f %s/pins; exit $r",
		 h.dir, getenv("UKEYCTL"), h.socket, serial, h.dir, h.dir);
	free(harness_sh(cmd, &status));
	assert_int_equal(status, 0);
	assert_true(witness_login("2468103579135790"));
}

static void test_no_pin_on_the_command_line(void **state)
{
	int status;

	free(ukeyctl_input(&status, NULL, "pin", "change", serial, "--pin=2468103579135790"));
	assert_int_equal(status, 2);
	free(ukeyctl_input(&status, NULL, "pin", "change", "--pin", "2468103579135790"));
	assert_int_equal(status, 2);
	/* No input at all: nothing is sent. */
	free(ukeyctl_input(&status, "", "pin", "change", serial, NULL));
	assert_int_equal(status, 2);
	assert_true(witness_login("2468103579135790"));
}

static void test_unlock_denied_to_others(void **state)
{
	char cmd[512];
	int status;
	char *out;

	if (getuid() != 0) {
		fprintf(stderr, "SKIP: switching to an unprivileged user needs root\n");
		skip();
	}
	snprintf(
		cmd, sizeof(cmd),
		"printf '5720381694026153\\n' | setpriv --reuid=65534 --regid=65534 --clear-groups "
		"%s --socket %s pin unlock %s >/dev/null 2>&1",
		getenv("UKEYCTL"), h.socket, serial);
	free(harness_sh(cmd, &status));
	assert_int_equal(status, 14);
	snprintf(cmd, sizeof(cmd),
		 "setpriv --reuid=65534 --regid=65534 --clear-groups %s --socket %s audit "
		 ">/dev/null 2>&1",
		 getenv("UKEYCTL"), h.socket);
	free(harness_sh(cmd, &status));
	assert_int_equal(status, 14);
	/* The token is as it was. */
	assert_true(witness_login("2468103579135790"));
	out = ukeyctl_input(&status, NULL, "--json", "audit", NULL, NULL);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "\"uid\":65534"));
	assert_non_null(strstr(out, "permission_denied"));
	free(out);
}

static void test_unlock(void **state)
{
	int status;

	/* A wrong SO PIN first: refused by the token, nothing changes. */
	free(ukeyctl_input(&status, "3141592765358979\n", "pin", "unlock", serial, NULL));
	assert_int_equal(status, 10);
	assert_true(witness_login("2468103579135790"));
	usleep(1200 * 1000); /* the wait after a wrong PIN */
	/* Back to the CA's default. */
	free(ukeyctl_input(&status, "5720381694026153\n", "pin", "unlock", serial, NULL));
	assert_int_equal(status, 0);
	assert_true(witness_login("123456"));
	assert_int_equal(pin_default_state(), 1);
	/* With a new PIN of the counter's choosing. */
	free(ukeyctl_input(&status, "5720381694026153\n8362714059382716\n", "pin", "unlock", serial,
			   "--new-pin"));
	assert_int_equal(status, 0);
	assert_true(witness_login("8362714059382716"));
	assert_int_equal(pin_default_state(), 0);
}

static void test_probe_default(void **state)
{
	int status;

	/* Not the default now: the probe spends a try and says so. */
	free(ukeyctl_input(&status, NULL, "pin", "probe-default", serial, NULL));
	assert_int_equal(status, 0);
	assert_int_equal(pin_default_state(), 0);
	free(ukeyctl_input(&status, "5720381694026153\n", "pin", "unlock", serial, NULL));
	assert_int_equal(status, 0);
	free(ukeyctl_input(&status, NULL, "pin", "probe-default", serial, NULL));
	assert_int_equal(status, 1); /* still the default: a problem to fix */
	assert_int_equal(pin_default_state(), 1);
	free(ukeyctl_input(&status, "123456\n5820394716273849\n", "pin", "change", serial, NULL));
	assert_int_equal(status, 0);
}

static void test_audit_log(void **state)
{
	json_object *arr;
	int status, done = 0, refused = 0;
	char *out = ukeyctl_input(&status, NULL, "--json", "audit", NULL, NULL);

	assert_int_equal(status, 0);
	arr = json_tokener_parse(out);
	assert_non_null(arr);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *result = json_object_get_string(json_object_object_get(e, "result"));
		const char *op = json_object_get_string(json_object_object_get(e, "operation"));
		if (strncmp(op, "pin_", 4) == 0)
			assert_string_equal(
				json_object_get_string(json_object_object_get(e, "serial")),
				serial);
		/* ukeyctl, or this test itself through libukey */
		assert_true(strlen(json_object_get_string(json_object_object_get(e, "program"))) >
			    0);
		done += strcmp(result, "done") == 0;
		refused += strcmp(result, "refused_by_policy") == 0;
	}
	assert_true(done >= 6);
	assert_true(refused >= 5);
	json_object_put(arr);
	free(out);
	out = ukeyctl_input(&status, NULL, "audit", "--since", "2999-01-01", NULL);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "No PIN operation is recorded"));
	free(out);
}

/* Last: after all the above, no PIN given anywhere is found where it must
 * not be. */
static void test_no_pin_left_behind(void **state)
{
	char path[300];
	int status, mem = 0;

	for (size_t i = 0; i < sizeof(weak_pins) / sizeof(weak_pins[0]); i++) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "grep -rl -- '%s' %s/state %s 2>/dev/null", weak_pins[i],
			 h.dir, h.log);
		char *hits = harness_sh(cmd, &status);
		assert_string_equal(hits, "");
		free(hits);
	}
	for (size_t i = 0; i < sizeof(used_pins) / sizeof(used_pins[0]); i++) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "grep -rl -- '%s' %s/state %s 2>/dev/null", used_pins[i],
			 h.dir, h.log);
		char *hits = harness_sh(cmd, &status);
		if (*hits) {
			fprintf(stderr, "PIN %s found in: %s\n", used_pins[i], hits);
			fail();
		}
		free(hits);
		mem = harness_memory_contains(h.daemon, used_pins[i] + strlen(used_pins[i]) - 8);
		if (mem > 0) {
			fprintf(stderr, "PIN %s found in ukeyd's memory\n", used_pins[i]);
			fail();
		}
	}
	snprintf(path, sizeof(path), "%s/state/audit.log", h.dir);
	assert_int_equal(access(path, F_OK), 0);
	if (mem < 0) {
		fprintf(stderr, "SKIP: reading ukeyd's memory needs root\n");
		skip();
	}
}

static int group_setup(void **state)
{
	/* meson test fills freed memory (MALLOC_PERTURB_): a PIN left in a
	 * freed chunk would be hidden from the memory search. */
	unsetenv("MALLOC_PERTURB_");
	const char *const args[] = {"--module", SOFTHSM_MODULE, NULL};

	if (harness_setup(&h, "primary") < 0 || harness_start_daemon(&h, args, NULL) < 0)
		return -1;
	return harness_token_serial(&h, NULL, serial, sizeof(serial));
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_weak_pins_refused),
		cmocka_unit_test(test_wrong_old_pin),
		cmocka_unit_test(test_pin_fd),
		cmocka_unit_test(test_no_pin_on_the_command_line),
		cmocka_unit_test(test_unlock_denied_to_others),
		cmocka_unit_test(test_unlock),
		cmocka_unit_test(test_probe_default),
		cmocka_unit_test(test_audit_log),
		cmocka_unit_test(test_no_pin_left_behind),
	};
	return HARNESS_RUN_TESTS("pin", tests, group_setup, group_teardown);
}
