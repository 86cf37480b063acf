/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Anyone must not lock anyone's token. Against the opencryptoki software
 * token (a real retry counter: 3 tries) in the private namespace that
 * tests/fixtures/opencryptoki-ns.sh sets up, with pkcs11-tool as the
 * witness, and `nobody` (setpriv) as the other local user:
 *  - by default (pin_users = active) a user without an active local
 *    session spends no try of any token, by any PIN method;
 *  - with pin_users = any, nobody may try, but not force the final try:
 *    the owner's right PIN still works afterwards;
 *  - a user with an active session on a seat (sd-login, from logind's
 *    state in /run/systemd/users, faked in the namespace's own /run) may;
 *  - pin_users = group:NAME lets that group's members in.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define NOBODY 65534

static struct harness h;
static char serial[64];

static void start(const char *conf_text)
{
	char conf[200];
	const char *args[] = {"--module", getenv("OCK_MODULE"), "--config", conf, NULL};
	FILE *f;

	if (h.daemon > 0)
		assert_int_equal(harness_stop_daemon(&h), 0);
	snprintf(conf, sizeof(conf), "%s/rights.conf", h.dir);
	f = fopen(conf, "we");
	assert_non_null(f);
	fprintf(f, "[ukeyd]\n%s", conf_text);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(harness_start_daemon(&h, args, NULL), 0);
	assert_int_equal(harness_token_serial(&h, "ock-test", serial, sizeof(serial)), 0);
}

/* ukeyctl as uid (0: as root), PINs on stdin; the exit status, and its
 * stderr in *ret_err when wanted. */
static int ukeyctl_as(unsigned uid, const char *groups, const char *input, const char *args,
		      char **ret_err)
{
	char cmd[1024], prefix[128] = "";
	char *err;
	int status;

	if (uid != 0)
		snprintf(prefix, sizeof(prefix), "setpriv --reuid=%u --regid=%u %s", uid, uid,
			 groups ? groups : "--clear-groups");
	snprintf(cmd, sizeof(cmd),
		 "printf '%s' | %s env LANG=C.UTF-8 %s --socket %s %s 2>&1 >/dev/null",
		 input ? input : "", prefix, getenv("UKEYCTL"), h.socket, args);
	err = harness_sh(cmd, &status);
	if (ret_err)
		*ret_err = err;
	else
		free(err);
	return status;
}

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

static void assert_untouched(void)
{
	char *flags = witness_flags();

	assert_null(strstr(flags, "count low"));
	assert_null(strstr(flags, "final"));
	assert_null(strstr(flags, "locked"));
	free(flags);
}

/* logind's word that uid has an active session on seat0, in this
 * namespace's own /run (the wrapper mounted a tmpfs there). */
static void set_active_session(unsigned uid, bool active)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/run/systemd/users/%u", uid);
	if (!active) {
		unlink(path);
		return;
	}
	assert_int_equal(harness_shf("mkdir -p /run/systemd/users"), 0);
	f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f, "# This is private data. Do not parse.\nNAME=nobody\nSTATE=active\n"
		   "SESSIONS=c1\nSEATS=seat0\nACTIVE_SESSIONS=c1\nONLINE_SESSIONS=c1\n"
		   "ACTIVE_SEATS=seat0\nONLINE_SEATS=seat0\n");
	assert_int_equal(fclose(f), 0);
}

/* The default: no active session, no group, not root: no PIN method
 * spends a try, whatever PIN is given. */
static void test_default_refuses_other_users(void **state)
{
	char args[256], *err;

	start("");
	snprintf(args, sizeof(args), "pin change %s", serial);
	assert_int_equal(ukeyctl_as(NOBODY, NULL, "99887766\\n24681357\\n", args, &err), 14);
	assert_non_null(strstr(err, "user at this computer"));
	free(err);
	snprintf(args, sizeof(args), "pin probe-default %s", serial);
	assert_int_equal(ukeyctl_as(NOBODY, NULL, "", args, NULL), 14);
	snprintf(args, sizeof(args), "status %s --private", serial);
	assert_int_equal(ukeyctl_as(NOBODY, NULL, "99887766\\n", args, NULL), 14);
	snprintf(args, sizeof(args), "check %s --full", serial);
	assert_int_equal(ukeyctl_as(NOBODY, NULL, "99887766\\n", args, NULL), 14);
	assert_untouched();
	/* Each refusal is in the audit log, with the user and the method. */
	{
		static const char *const ops[] = {"pin_change", "pin_probe_default", "read_private",
						  "selftest"};
		char cmd[300];
		int status, found = 0;
		char *out;
		json_object *arr;

		snprintf(cmd, sizeof(cmd), "%s --socket %s --json audit", getenv("UKEYCTL"),
			 h.socket);
		out = harness_sh(cmd, &status);
		assert_int_equal(status, 0);
		arr = json_tokener_parse(out);
		assert_non_null(arr);
		for (size_t k = 0; k < 4; k++)
			for (size_t i = 0; i < json_object_array_length(arr); i++) {
				json_object *e = json_object_array_get_idx(arr, i);
				if (json_object_get_int(json_object_object_get(e, "uid")) ==
					    NOBODY &&
				    !strcmp(json_object_get_string(
						    json_object_object_get(e, "operation")),
					    ops[k]) &&
				    !strcmp(json_object_get_string(
						    json_object_object_get(e, "result")),
					    "permission_denied")) {
					found++;
					break;
				}
			}
		assert_int_equal(found, 4);
		json_object_put(arr);
		free(out);
	}
	/* The owner (root here) is not held back by any of it. */
	snprintf(args, sizeof(args), "pin change %s", serial);
	assert_int_equal(ukeyctl_as(0, NULL, "123456\\n24681357\\n", args, NULL), 0);
	assert_true(witness_login("24681357"));
}

/* The attack: two wrong PINs, then force. With pin_users = any
 * the two wrong PINs are spent (and slowed down), the forced third is
 * refused: the owner's PIN still opens the token. */
static void test_force_is_not_for_anyone(void **state)
{
	char args[256], input[128], *err, *flags;

	start("pin_users = any\n");
	snprintf(args, sizeof(args), "pin change %s", serial);
	assert_int_equal(ukeyctl_as(NOBODY, NULL, "99887766\\n11335577\\n", args, NULL), 10);
	harness_pin_delay(1);
	assert_int_equal(ukeyctl_as(NOBODY, NULL, "99887766\\n11335577\\n", args, NULL), 10);
	flags = witness_flags();
	assert_non_null(strstr(flags, "final user PIN try"));
	free(flags);
	harness_pin_delay(2);
	snprintf(input, sizeof(input), "%s\\n99887766\\n11335577\\n", serial);
	snprintf(args, sizeof(args), "pin change %s --force", serial);
	assert_int_equal(ukeyctl_as(NOBODY, NULL, input, args, &err), 14);
	assert_non_null(strstr(err, "final PIN try (--force)"));
	free(err);
	flags = witness_flags();
	assert_null(strstr(flags, "locked"));
	free(flags);
	/* The owner's right PIN: the token is theirs still. */
	snprintf(input, sizeof(input), "%s\\n24681357\\n11335577\\n", serial);
	assert_int_equal(ukeyctl_as(0, NULL, input, args, NULL), 0);
	assert_true(witness_login("11335577"));
	assert_untouched();
}

/* The user at the machine (an active session on a seat) may use PINs,
 * and force; the same user without it may not. Looked up per request. */
static void test_active_session(void **state)
{
	char args[256], input[128];

	start("");
	set_active_session(NOBODY, true);
	snprintf(args, sizeof(args), "pin change %s", serial);
	assert_int_equal(ukeyctl_as(NOBODY, NULL, "11335577\\n24681357\\n", args, NULL), 0);
	assert_true(witness_login("24681357"));
	snprintf(args, sizeof(args), "pin change %s --force", serial);
	/* force is asked; the token is not on its final try, so it costs nothing. */
	snprintf(input, sizeof(input), "24681357\\n11335577\\n");
	assert_int_equal(ukeyctl_as(NOBODY, NULL, input, args, NULL), 0);
	assert_true(witness_login("11335577"));
	set_active_session(NOBODY, false);
	snprintf(args, sizeof(args), "pin change %s", serial);
	assert_int_equal(ukeyctl_as(NOBODY, NULL, "11335577\\n24681357\\n", args, NULL), 14);
	assert_true(witness_login("11335577"));
}

/* pin_users = group:tty: members of tty may, others may not. */
static void test_group(void **state)
{
	char args[256];

	start("pin_users = group:tty\n");
	snprintf(args, sizeof(args), "pin change %s", serial);
	assert_int_equal(ukeyctl_as(NOBODY, NULL, "11335577\\n24681357\\n", args, NULL), 14);
	assert_int_equal(ukeyctl_as(NOBODY, "--groups=tty", "11335577\\n24681357\\n", args, NULL),
			 0);
	assert_true(witness_login("24681357"));
}

static int test_teardown(void **state)
{
	set_active_session(NOBODY, false);
	return 0;
}

static int group_setup(void **state)
{
	if (harness_setup(&h, "none") < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_default_refuses_other_users, test_teardown),
		cmocka_unit_test_teardown(test_force_is_not_for_anyone, test_teardown),
		cmocka_unit_test_teardown(test_active_session, test_teardown),
		cmocka_unit_test_teardown(test_group, test_teardown),
	};
	/* It writes logind's state into /run: only in the wrapper's namespace. */
	if (!getenv("OCK_MODULE")) {
		printf("1..0 # SKIP run through tests/fixtures/opencryptoki-ns.sh\n");
		return 0;
	}
	return HARNESS_RUN_TESTS("pin-rights", tests, group_setup, group_teardown);
}
