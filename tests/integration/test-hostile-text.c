/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text from tokens is hostile: a SoftHSM token whose label carries an
 * escape sequence, a bell, a newline that forges a log line and a bidi
 * override; a data object whose label does the same; a client whose
 * program name does. None of it reaches ukeyd's log, ukeyctl's terminal
 * output or ukeyctl audit raw; --json keeps the exact text. And a label
 * cut inside a UTF-8 character by a 32-byte field reads as UTF-8.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

static struct harness h;

/* What a hostile writer put into CKA_LABEL of the token (32 bytes). */
#define EVIL_LABEL "\x1b[2J\a\nukeyd[notice]: x\xe2\x80\xae"
#define EVIL_ESCAPED "\\x1b[2J\\x07\\nukeyd[notice]: x\\u202e"
/* "国信CA测试用主锁样本x二" is 33 bytes: the field keeps 32, two bytes of 二. */
#define CUT_LABEL "国信CA测试用主锁样本x\xe4\xba"
#define CUT_SHOWN "国信CA测试用主锁样本x"
#define EVIL_OBJECT "obj\x1b]0;owned\a\xc2\x9b"

static char *ukeyctl(int *status, const char *a, const char *b, const char *c)
{
	const char *argv[] = {getenv("UKEYCTL"), "--socket", h.socket, a, b, c, NULL};
	const char *env[] = {"LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};

	return harness_run(argv, env, status);
}

/* No byte of a terminal control, C1 or bidi override in text meant for a
 * terminal or a log. */
static void assert_no_controls(const char *what, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		bool bad = (*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ||
			   (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) ||
			   (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae);
		if (bad) {
			fprintf(stderr, "%s: raw control byte 0x%02x at offset %td\n", what, *p,
				(const char *)p - text);
			fail();
		}
	}
}

static char *serial_of(const char *label)
{
	static char serial[64];

	assert_int_equal(harness_token_serial(&h, label, serial, sizeof(serial)), 0);
	return serial;
}

static void test_list_and_status_escape(void **state)
{
	int status;
	char *out = ukeyctl(&status, "list", NULL, NULL);

	assert_int_equal(status, 0);
	assert_no_controls("ukeyctl list", out);
	assert_non_null(strstr(out, EVIL_ESCAPED));
	/* No line of the output is the forged one. */
	assert_null(strstr(out, "\nukeyd[notice]"));
	free(out);

	out = ukeyctl(&status, "status", serial_of(EVIL_LABEL), NULL);
	assert_int_equal(status, 0);
	assert_no_controls("ukeyctl status", out);
	assert_non_null(strstr(out, EVIL_ESCAPED));
	assert_non_null(strstr(out, "obj\\x1b]0;owned\\x07\\u009b"));
	free(out);
}

static void test_json_keeps_exact_text(void **state)
{
	int status;
	char *out = ukeyctl(&status, "--json", "status", serial_of(EVIL_LABEL));
	json_object *doc = json_tokener_parse(out), *v, *objects;

	assert_int_equal(status, 0);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "label", &v));
	assert_string_equal(json_object_get_string(v), EVIL_LABEL);
	assert_true(json_object_object_get_ex(doc, "objects", &objects));
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(objects, 0), "label")),
			    EVIL_OBJECT);
	json_object_put(doc);
	free(out);
}

static void test_log_has_no_forged_line(void **state)
{
	char *log, *line, *save = NULL;
	int status;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "cat %s", h.log);
	log = harness_sh(cmd, &status);
	assert_no_controls("ukeyd's log", log);
	/* The label is in the log, escaped, inside its own line. */
	assert_non_null(strstr(log, EVIL_ESCAPED));
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		assert_true(strncmp(line, "ukeyd[notice]: x", 16) != 0);
	free(log);
}

static void test_cut_label_is_utf8(void **state)
{
	int status;
	char *out = ukeyctl(&status, "list", NULL, NULL);

	assert_int_equal(status, 0);
	assert_non_null(strstr(out, CUT_SHOWN "  "));
	free(out);
	serial_of(CUT_SHOWN); /* the JSON label is that too */
}

/* A client whose program name (comm) is hostile: it is in the audit
 * entry as it is, and shown escaped by ukeyctl audit and the log. */
static void test_audit_program_name(void **state)
{
	const char *serial = serial_of(CUT_SHOWN);
	char cmd[256];
	int status;
	pid_t pid = fork();
	char *out;

	assert_true(pid >= 0);
	if (pid == 0) {
		ukey_client *c = NULL;
		prctl(PR_SET_NAME, "\x1b[2J\nevil\xe2\x80\xae");
		if (ukey_client_new(h.socket, &c) != UKEY_OK)
			_exit(1);
		/* A weak new PIN: refused by the policy, and audited. */
		_exit(ukey_client_change_pin(c, serial, "123456", "111111", 0) == UKEY_E_PIN_POLICY
			      ? 0
			      : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	out = ukeyctl(&status, "audit", NULL, NULL);
	assert_int_equal(status, 0);
	assert_no_controls("ukeyctl audit", out);
	assert_non_null(strstr(out, "\\x1b[2J\\nevil"));
	free(out);
	out = ukeyctl(&status, "--json", "audit", NULL);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "\\u001b[2J\\nevil"));
	free(out);
	snprintf(cmd, sizeof(cmd), "cat %s", h.log);
	out = harness_sh(cmd, &status);
	assert_no_controls("ukeyd's log", out);
	assert_non_null(strstr(out, "(\\x1b[2J\\nevil"));
	free(out);
}

static int group_setup(void **state)
{
	const char *const args[] = {"--module", SOFTHSM_MODULE, NULL};

	if (harness_setup(&h, "primary") < 0)
		return -1;
	/* /bin/sh's printf: octal escapes only. */
	if (harness_shf("evil=$(printf '\\033[2J\\007\\nukeyd[notice]: x\\342\\200\\256') && "
			"cut=$(printf '%s\\344\\272') && "
			"obj=$(printf 'obj\\033]0;owned\\007\\302\\233') && "
			"softhsm2-util --init-token --free --label \"$evil\" --so-pin 12345678 "
			"--pin 123456 >/dev/null && "
			"softhsm2-util --init-token --free --label \"$cut\" --so-pin 12345678 "
			"--pin 123456 >/dev/null && "
			"pkcs11-tool --module %s --token-label \"$evil\" --login --pin 123456 "
			"--write-object /etc/hostname --type data --label \"$obj\" >/dev/null",
			CUT_SHOWN, SOFTHSM_MODULE) != 0)
		return -1;
	return harness_start_daemon(&h, args, NULL);
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_and_status_escape),
		cmocka_unit_test(test_json_keeps_exact_text),
		cmocka_unit_test(test_log_has_no_forged_line),
		cmocka_unit_test(test_cut_label_is_utf8),
		cmocka_unit_test(test_audit_program_name),
	};
	return HARNESS_RUN_TESTS("hostile-text", tests, group_setup, group_teardown);
}
