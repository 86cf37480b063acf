/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Certificates on a token, end to end: generated RSA, EC and SM2
 * certificates with every validity case, a signing/encryption pair, keys
 * that pair and keys that do not, and a real CEGN certificate, loaded onto
 * SoftHSM and read back through ukeyd. OpenSSL's own reading of the same
 * files is the witness. Then expiry notices across daemon restarts, with
 * the clock moved by faketime.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

static struct harness h;
static ukey_token *token;

static const ukey_cert *cert_by_id(const char *id)
{
	for (size_t i = 0; i < ukey_token_get_cert_count(token); i++)
		if (strcmp(ukey_cert_get_id(ukey_token_get_cert(token, i)), id) == 0)
			return ukey_token_get_cert(token, i);
	fail_msg("no certificate with CKA_ID %s", id);
	return NULL;
}

/* What `openssl x509` says of the file the fixture loaded. */
static char *openssl_says(const char *id, const char *what)
{
	char cmd[512];
	int status;
	char *out;

	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/hsm/certs/%s.der -inform DER -noout %s",
		 h.dir, id, what);
	out = harness_sh(cmd, &status);
	assert_int_equal(status, 0);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static int64_t openssl_end_date(const char *id)
{
	char *out = openssl_says(id, "-enddate -dateopt iso_8601"), *eq = strchr(out, '=');
	struct tm tm = {0};
	int64_t t;

	assert_non_null(eq);
	assert_non_null(strptime(eq + 1, "%Y-%m-%d %H:%M:%SZ", &tm));
	t = (int64_t)timegm(&tm);
	free(out);
	return t;
}

static void test_fields_match_openssl(void **state)
{
	static const char *const ids[] = {"01", "02", "03", "04", "05", "06", "07"};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const ukey_cert *c = cert_by_id(ids[i]);
		char *serial = openssl_says(ids[i], "-serial");
		char *subject = openssl_says(ids[i], "-subject -nameopt utf8,sep_comma_plus_space");

		/* serial=0A1B... against our lower-case hex without leading zeros */
		for (char *p = serial; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
		assert_non_null(strstr(serial, ukey_cert_get_serial(c)));
		assert_string_equal(subject + strlen("subject="), ukey_cert_get_subject(c));
		assert_int_equal(ukey_cert_get_not_after(c), openssl_end_date(ids[i]));
		free(serial);
		free(subject);
	}
}

static void test_key_types_and_usages(void **state)
{
	assert_string_equal(ukey_cert_get_key_type(cert_by_id("01")), "rsa");
	assert_int_equal(ukey_cert_get_key_bits(cert_by_id("01")), 2048);
	assert_string_equal(ukey_cert_get_key_type(cert_by_id("03")), "ec");
	assert_int_equal(ukey_cert_get_key_bits(cert_by_id("03")), 256);
	assert_string_equal(ukey_cert_get_key_type(cert_by_id("04")), "sm2");
	assert_int_equal(ukey_cert_get_usage(cert_by_id("01")), UKEY_CERT_USAGE_SIGN);
	assert_int_equal(ukey_cert_get_usage(cert_by_id("02")), UKEY_CERT_USAGE_ENCRYPT);
}

static void test_expiry_states(void **state)
{
	const ukey_cert *c;

	c = cert_by_id("01");
	assert_int_equal(ukey_cert_get_expiry(c), UKEY_CERT_VALID);
	assert_true(ukey_cert_get_days_left(c) == 199 || ukey_cert_get_days_left(c) == 200);
	c = cert_by_id("03");
	assert_int_equal(ukey_cert_get_expiry(c), UKEY_CERT_RENEWAL_WINDOW);
	assert_true(ukey_cert_get_days_left(c) == 9 || ukey_cert_get_days_left(c) == 10);
	c = cert_by_id("04");
	assert_int_equal(ukey_cert_get_expiry(c), UKEY_CERT_EXPIRED);
	assert_true(ukey_cert_get_days_left(c) == -35 || ukey_cert_get_days_left(c) == -36);
	assert_int_equal(ukey_cert_get_expiry(cert_by_id("05")), UKEY_CERT_NOT_YET_VALID);
}

static void test_key_pairing(void **state)
{
	assert_true(ukey_cert_has_private_key(cert_by_id("01")));
	assert_true(ukey_cert_has_private_key(cert_by_id("02")));
	assert_true(ukey_cert_has_private_key(cert_by_id("03")));
	assert_false(ukey_cert_has_private_key(cert_by_id("06"))); /* no key at all */
	assert_false(ukey_cert_has_private_key(cert_by_id("07"))); /* another pair's key */
}

static void test_ca_and_holder(void **state)
{
	assert_string_equal(ukey_cert_get_ca(cert_by_id("01")), "guoxin");
	assert_string_equal(ukey_cert_get_ca_name(cert_by_id("01"), "zh"), "国信CA");
	assert_string_equal(ukey_cert_get_ca(cert_by_id("03")), "bjca");
	assert_int_equal(ukey_token_get_holder_kind(token), UKEY_HOLDER_UNIT);
	assert_string_equal(ukey_token_get_holder_name(token), "测试投标单位");
	assert_string_equal(ukey_token_get_holder_credit_code(token), "91320000MA1MYTQK3Q");
	assert_string_equal(ukey_token_get_ca(token), "guoxin");
}

static void test_real_cegn_certificate(void **state)
{
	const ukey_cert *c = NULL;

	for (size_t i = 0; i < ukey_token_get_cert_count(token); i++)
		if (strcmp(ukey_cert_get_id(ukey_token_get_cert(token, i)), "08") == 0)
			c = ukey_token_get_cert(token, i);
	if (!c) {
		fprintf(stderr, "SKIP: shared/testdata is not beside the checkout\n");
		skip();
	}
	assert_string_equal(ukey_cert_get_ca(c), "cegn");
	assert_string_equal(ukey_cert_get_key_type(c), "sm2");
	assert_int_equal(ukey_cert_get_expiry(c), UKEY_CERT_EXPIRED);
	assert_non_null(strstr(ukey_cert_get_subject(c), "淄博市周村区自然资源局"));
}

static char *ukeyctl(int *status, const char *a, const char *b, const char *c)
{
	const char *argv[] = {getenv("UKEYCTL"), "--socket", h.socket, a, b, c, NULL};
	const char *env[] = {"LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};

	return harness_run(argv, env, status);
}

static void test_ukeyctl_expiry(void **state)
{
	json_object *doc, *arr;
	int status;
	char *out = ukeyctl(&status, "--json", "expiry", NULL);
	bool seen03 = false, seen04 = false;

	/* Due: 03 (window) and 04 (expired), and the expired real one; not
	 * 01 (200 days) nor 05 (not yet valid). */
	assert_int_equal(status, 1);
	doc = json_tokener_parse(out);
	assert_true(json_object_object_get_ex(doc, "expiring", &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *id = json_object_get_string(
			json_object_object_get(json_object_array_get_idx(arr, i), "id"));
		seen03 |= strcmp(id, "03") == 0;
		seen04 |= strcmp(id, "04") == 0;
		assert_true(strcmp(id, "01") && strcmp(id, "05") && strcmp(id, "06"));
	}
	assert_true(seen03 && seen04);
	json_object_put(doc);
	free(out);

	out = ukeyctl(&status, "expiry", "--days", "250");
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "cert-01")); /* 200 days left, within 250 */
	assert_null(strstr(out, "cert-05"));
	assert_non_null(strstr(out, "Renew before you encrypt any bid"));
	free(out);

	out = ukeyctl(&status, "status", ukey_token_get_serial(token), NULL);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "Renew this certificate now, before you encrypt any bid"));
	assert_non_null(strstr(out, "Expired: it can no longer sign or decrypt bids"));
	assert_non_null(strstr(out, "credit code 91320000MA1MYTQK3Q"));
	free(out);
	out = ukeyctl(&status, "expiry", "--days", "x");
	assert_int_equal(status, 2);
	free(out);
}

static int count_in_file(const char *path, const char *needle)
{
	int status, n;
	char cmd[512], *out;

	snprintf(cmd, sizeof(cmd), "grep -cF '%s' '%s'", needle, path);
	out = harness_sh(cmd, &status);
	n = atoi(out);
	free(out);
	return n;
}

/* The daemon runs with its clock moved by faketime; notices land in its
 * log. Restarts in between must neither lose nor repeat one. */
static void test_notices_across_restarts(void **state)
{
	const char *const args[] = {"--module", SOFTHSM_MODULE, NULL};
	/* The monotonic clock moves too: libfaketime 0.9.10 shifts absolute
	 * timerfd times on every clock, so a real monotonic clock would give
	 * ukeyd's watchdog timer a time in the past (EINVAL). */
	const char *later[] = {"LD_PRELOAD=" FAKETIME_LIB, "FAKETIME=+4d",
			       "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1", NULL};
	struct harness d = h;

	if (access(FAKETIME_LIB, R_OK) != 0) {
		fprintf(stderr, "SKIP: libfaketime missing (apt-get install faketime)\n");
		skip();
	}
	/* The first daemon (the group's) saw 03 at ~10 days: the 30-day notice. */
	assert_int_equal(count_in_file(h.log, "\"cert-03\""), 1);
	assert_int_equal(count_in_file(h.log, "day(s) left"), 1);
	/* And the expired ones, once each. */
	assert_int_equal(count_in_file(h.log, "\"cert-04\""), 1);

	assert_int_equal(harness_stop_daemon(&h), 0);
	/* Four days later: 03 has crossed 7 days. */
	snprintf(d.log, sizeof(d.log), "%s/later.log", h.dir);
	assert_int_equal(harness_start_daemon(&d, args, later), 0);
	assert_int_equal(harness_stop_daemon(&d), 0);
	assert_int_equal(count_in_file(d.log, "\"cert-03\""), 1);
	assert_int_equal(count_in_file(d.log, "\"cert-04\""), 0); /* not repeated */
	assert_int_equal(count_in_file(d.log, "\"cert-08\""), 0); /* long expired, still plugged */

	/* Restarted at the same moment: nothing new. */
	snprintf(d.log, sizeof(d.log), "%s/again.log", h.dir);
	assert_int_equal(harness_start_daemon(&d, args, later), 0);
	assert_int_equal(harness_stop_daemon(&d), 0);
	assert_int_equal(count_in_file(d.log, "day(s) left"), 0);
	assert_int_equal(count_in_file(d.log, "expired on"), 0);
}

static int group_setup(void **state)
{
	const char *const args[] = {"--module", SOFTHSM_MODULE, NULL};
	char cmd[512];
	ukey_client *c = NULL;
	ukey_token_list *list = NULL;

	if (harness_setup(&h, "primary") < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/provision-certs.sh %s/hsm", getenv("FIXTURES"), h.dir);
	if (system(cmd) != 0 || harness_start_daemon(&h, args, NULL) < 0)
		return -1;
	if (ukey_client_new(h.socket, &c) != UKEY_OK ||
	    ukey_client_list_tokens(c, &list) != UKEY_OK)
		return -1;
	for (size_t i = 0; i < ukey_token_list_get_count(list); i++)
		if (strcmp(ukey_token_get_label(ukey_token_list_get(list, i)), "证书测试") == 0)
			token = ukey_token_ref(ukey_token_list_get(list, i));
	ukey_token_list_unref(list);
	ukey_client_unref(c);
	return token ? 0 : -1;
}

static int group_teardown(void **state)
{
	ukey_token_unref(token);
	harness_teardown(&h);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_match_openssl),
		cmocka_unit_test(test_key_types_and_usages),
		cmocka_unit_test(test_expiry_states),
		cmocka_unit_test(test_key_pairing),
		cmocka_unit_test(test_ca_and_holder),
		cmocka_unit_test(test_real_cegn_certificate),
		cmocka_unit_test(test_ukeyctl_expiry),
		cmocka_unit_test(test_notices_across_restarts),
	};
	return HARNESS_RUN_TESTS("certificates", tests, group_setup, group_teardown);
}
