/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * State files someone broke (a torn write, a hand edit, another
 * program): ukeyd starts all the same, says so, keeps what it can use and
 * sets the rest aside instead of crashing or losing it.
 */
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

static struct harness h;
static char primary[64], state_dir[200];

static void write_state(const char *name, const char *text)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", state_dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *read_state(const char *name)
{
	char cmd[300];
	int status;

	snprintf(cmd, sizeof(cmd), "cat %s/%s 2>/dev/null", state_dir, name);
	return harness_sh(cmd, &status);
}

static void start(void)
{
	const char *args[] = {"--module", SOFTHSM_MODULE, NULL};

	assert_int_equal(harness_start_daemon(&h, args, NULL), 0);
}

static void assert_serves(void)
{
	ukey_client *c = NULL;
	ukey_token_list *l = NULL;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_list_tokens(c, &l), UKEY_OK);
	assert_true(ukey_token_list_get_count(l) >= 2);
	ukey_token_list_unref(l);
	ukey_client_unref(c);
}

/* Entries that are valid JSON but not what ukeyd writes (the token the
 * daemon reads at every start among them) are set aside; the rest stays. */
static void test_token_memory_entries_of_the_wrong_shape(void **state)
{
	char text[512], *kept, *bad;

	snprintf(text, sizeof(text),
		 "{\"%s\": 5, \"B\": {\"primary\": \"yes\"}, \"C\": {\"user_pin_failures\": -1},"
		 " \"D\": [], \"good\": {\"primary\": true, \"newer_fact\": 1}}",
		 primary);
	write_state("tokens.json", text);
	start();
	assert_serves();
	assert_true(harness_file_contains(h.log, "not in ukeyd's shape"));
	/* The primary is remembered anew (it carries a seal): the file works. */
	assert_int_equal(harness_stop_daemon(&h), 0);
	kept = read_state("tokens.json");
	bad = read_state("tokens.json.bad");
	assert_non_null(strstr(kept, "\"good\""));
	assert_non_null(strstr(kept, "newer_fact"));
	assert_null(strstr(kept, "\"B\""));
	assert_non_null(strstr(kept, primary));
	assert_non_null(strstr(bad, "\"B\""));
	assert_non_null(strstr(bad, "\"C\""));
	assert_non_null(strstr(bad, "\"D\""));
	assert_non_null(strstr(bad, primary));
	free(kept);
	free(bad);
}

/* Not JSON at all: the file is set aside whole, as it was. */
static void test_token_memory_not_json(void **state)
{
	char *bad;

	write_state("tokens.json", "{\"A\": {\"primary\": tr");
	start();
	assert_serves();
	assert_true(harness_file_contains(h.log, "set aside"));
	assert_int_equal(harness_stop_daemon(&h), 0);
	bad = read_state("tokens.json.bad");
	assert_string_equal(bad, "{\"A\": {\"primary\": tr");
	free(bad);
}

/* Expiry notices: entries of the wrong shape are dropped, the daemon
 * starts; deep nesting and huge files are refused as not ours. */
static void test_expiry_notices(void **state)
{
	char *big;

	write_state(
		"expiry-notices.json",
		"{\"version\":1,\"certs\":{\"a\":5,\"b\":{\"not_after\":\"x\",\"notified\":3},"
		"\"c\":{\"not_after\":1,\"notified\":99},\"d\":{\"not_after\":1,\"notified\":7}}}");
	start();
	assert_serves();
	assert_true(harness_file_contains(h.log, "3 entries not in ukeyd's shape are dropped"));
	assert_int_equal(harness_stop_daemon(&h), 0);

	big = malloc(100001);
	assert_non_null(big);
	memset(big, '[', 100000);
	big[100000] = '\0';
	write_state("expiry-notices.json", big);
	write_state("tokens.json", big);
	free(big);
	start();
	assert_serves();
	assert_true(harness_file_contains(h.log, "expiry-notices.json is corrupt"));
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
	if (harness_setup(&h, "both") < 0)
		return -1;
	start();
	if (harness_token_serial(&h, "国信CA测试主锁", primary, sizeof(primary)) < 0)
		return -1;
	snprintf(state_dir, sizeof(state_dir), "%s/state", h.dir);
	return harness_stop_daemon(&h);
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_token_memory_entries_of_the_wrong_shape,
					  test_teardown),
		cmocka_unit_test_teardown(test_token_memory_not_json, test_teardown),
		cmocka_unit_test_teardown(test_expiry_notices, test_teardown),
	};
	return HARNESS_RUN_TESTS("state-files", tests, group_setup, group_teardown);
}
