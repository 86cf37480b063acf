/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Electronic seals on tokens, end to end: the real seals of
 * shared/testdata as data objects under arbitrary labels, a seal made by
 * the openssl CLI and bound to the primary's certificate, a truncated
 * seal; primary and secondary roles; a remembered primary that loses its
 * seal; the picture exported byte for byte.
 */
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
static char primary[64], secondary[64], sealtest[64];

static ukey_token *get(const char *serial)
{
	ukey_client *c = NULL;
	ukey_token *t = NULL;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_get_token(c, serial, &t), UKEY_OK);
	ukey_client_unref(c);
	return t;
}

static const ukey_seal *seal_labelled(const ukey_token *t, const char *label)
{
	for (size_t i = 0; i < ukey_token_get_seal_count(t); i++)
		if (strcmp(ukey_seal_get_object_label(ukey_token_get_seal(t, i)), label) == 0)
			return ukey_token_get_seal(t, i);
	return NULL;
}

static char *ukeyctl(int *status, const char *a, const char *b, const char *c, const char *d)
{
	const char *argv[] = {getenv("UKEYCTL"), "--socket", h.socket, a, b, c, d, NULL};
	const char *env[] = {"LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};

	return harness_run(argv, env, status);
}

static void test_primary_and_secondary(void **state)
{
	ukey_token *p = get(primary), *s = get(secondary);
	const ukey_seal *seal;

	assert_int_equal(ukey_token_get_role(p), UKEY_ROLE_PRIMARY);
	assert_true(ukey_token_is_seal_usable(p));
	assert_false(ukey_token_is_seal_missing(p));
	assert_int_equal(ukey_token_get_seal_count(p), 1);
	seal = ukey_token_get_seal(p, 0);
	assert_int_equal(ukey_seal_get_status(seal), UKEY_SEAL_VALID);
	assert_int_equal(ukey_seal_get_kind(seal), UKEY_SEAL_OFFICIAL);
	assert_int_equal(ukey_seal_get_version(seal), 4);
	assert_string_equal(ukey_seal_get_name(seal), "测试投标单位公章");
	assert_string_equal(ukey_seal_get_picture_type(seal), "png");

	assert_int_equal(ukey_token_get_role(s), UKEY_ROLE_SECONDARY);
	assert_int_equal(ukey_token_get_seal_count(s), 0);
	assert_false(ukey_token_is_seal_usable(s));
	ukey_token_unref(p);
	ukey_token_unref(s);
}

static void test_real_seals_found_by_content(void **state)
{
	static const struct {
		const char *file;
		enum ukey_seal_status status;
		int version;
	} expect[] = {
		{"ofdrw_UserV1.esl", UKEY_SEAL_EXPIRED, 1},
		{"ofdrw_UserV4.esl", UKEY_SEAL_EXPIRED, 4},
		{"ofdrw_UserV5_ts.esl", UKEY_SEAL_MAKER_CERT_EXPIRED, 5},
		{"ofdrw_SESealData.DER", UKEY_SEAL_BAD_SIGNATURE, 4},
		{"ofdrw-converter_draw_param_ref_Seal_v4_taxtest.esl", UKEY_SEAL_EXPIRED, 4},
		{"ofdrw-layout_keyword_Sign1_Seal_v4_zibo.esl", UKEY_SEAL_EXPIRED, 4},
		/* valid until 2029, but it lists no certificate of this token */
		{"ofdrw-converter_n_Seal_v1_dms360.esl", UKEY_SEAL_NOT_BOUND, 1},
		{"ofdrw-converter_zsbk_Sign0_Seal_v4_yunnan.esl", UKEY_SEAL_EXPIRED, 4},
		{"ofdrw-converter_1_embedded_SESeal_v4_zhejiang_tax.der", UKEY_SEAL_EXPIRED, 4},
	};
	char path[300], line[512];
	ukey_token *t = get(sealtest);
	size_t found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/hsm/seal-objects.txt", h.dir);
	f = fopen(path, "r");
	if (!f) {
		ukey_token_unref(t);
		fprintf(stderr, "SKIP: shared/testdata/seals is not beside the checkout\n");
		skip();
	}
	while (fgets(line, sizeof(line), f)) {
		char label[64], file[256];
		if (sscanf(line, "%63s %255s", label, file) != 2)
			continue;
		for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
			const ukey_seal *s;
			if (strcmp(file, expect[i].file) != 0)
				continue;
			s = seal_labelled(t, label);
			assert_non_null(s);
			assert_int_equal(ukey_seal_get_status(s), expect[i].status);
			assert_int_equal(ukey_seal_get_version(s), expect[i].version);
			found++;
		}
	}
	fclose(f);
	assert_int_equal(found, 9);
	/* The primary's seal here: valid in itself, not bound to this token. */
	assert_int_equal(ukey_seal_get_status(seal_labelled(t, "someone else's seal")),
			 UKEY_SEAL_NOT_BOUND);
	/* Truncated: still reported, as damaged. */
	assert_int_equal(ukey_seal_get_status(seal_labelled(t, "broken")), UKEY_SEAL_MALFORMED);
	/* A data object that is no seal is no seal. */
	assert_null(seal_labelled(t, "notes"));
	assert_int_equal(ukey_token_get_seal_count(t), 11);
	/* Seals, none usable: a primary whose seal is unusable. */
	assert_int_equal(ukey_token_get_role(t), UKEY_ROLE_PRIMARY);
	assert_false(ukey_token_is_seal_usable(t));
	ukey_token_unref(t);
}

static void test_export_picture(void **state)
{
	char out[300], cmd[4096], real[512], objects[300];
	int status;
	char *text;

	/* The generated seal: the picture the fixture put in. */
	snprintf(out, sizeof(out), "%s/exported.png", h.dir);
	text = ukeyctl(&status, "seal", "export", primary, NULL);
	free(text);
	assert_int_equal(status, 2); /* -o is required */
	{
		const char *argv[] = {getenv("UKEYCTL"), "--socket", h.socket, "seal", "export",
				      primary,		 "-o",	     out,      NULL};
		free(harness_run(argv, NULL, &status));
	}
	assert_int_equal(status, 0);
	snprintf(cmd, sizeof(cmd), "cmp -s %s %s/hsm/pki/seal.png", out, h.dir);
	free(harness_sh(cmd, &status));
	assert_int_equal(status, 0);
	/* A real seal: against the bytes openssl's own parser locates. It
	 * must be both on the token (provision-seals.sh found shared/testdata)
	 * and in $TESTDATA. */
	snprintf(real, sizeof(real), "%s/seals/ofdrw_UserV1.esl",
		 getenv("TESTDATA") ? getenv("TESTDATA") : "");
	snprintf(objects, sizeof(objects), "%s/hsm/seal-objects.txt", h.dir);
	if (access(real, R_OK) != 0 || !harness_file_contains(objects, " ofdrw_UserV1.esl")) {
		fprintf(stderr,
			"SKIP: test_export_picture: the real seal ofdrw_UserV1.esl of "
			"shared/testdata is missing (%s), or was not provisioned; the generated "
			"seal's picture was checked\n",
			real);
		skip();
	}
	snprintf(cmd, sizeof(cmd),
		 "f=$(grep ' ofdrw_UserV1.esl' %s/hsm/seal-objects.txt | cut -d' ' -f1); "
		 "idx=$(%s --socket %s --json status %s | jq -r --arg l \"$f\" "
		 "'[.seals[].object_label] | index($l) + 1') && "
		 "%s --socket %s seal export %s --index $idx -o %s/real.png >/dev/null && "
		 "seal=%s && "
		 "line=$(openssl asn1parse -inform DER -in $seal | grep -A1 'IA5STRING *:PNG' | "
		 "tail -1) && "
		 "off=$(echo \"$line\" | sed 's/^ *\\([0-9]*\\):.*hl= *\\([0-9]*\\) *l= "
		 "*\\([0-9]*\\).*/\\1 \\2 \\3/') && "
		 "set -- $off && tail -c +$(($1 + $2 + 1)) $seal | head -c $3 | cmp -s - "
		 "%s/real.png",
		 h.dir, getenv("UKEYCTL"), h.socket, sealtest, getenv("UKEYCTL"), h.socket,
		 sealtest, h.dir, real, h.dir);
	if (access("/usr/bin/jq", X_OK) != 0) {
		fprintf(stderr, "SKIP: jq missing for the real-seal export check\n");
		skip();
	}
	free(harness_sh(cmd, &status));
	assert_int_equal(status, 0);
}

static void test_inspect_files(void **state)
{
	char path[300];
	int status;
	char *out;

	snprintf(path, sizeof(path), "%s/hsm/pki/seal.esl", h.dir);
	out = ukeyctl(&status, "seal", "inspect", path, NULL);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "测试投标单位公章"));
	assert_non_null(strstr(out, "verifies"));
	free(out);
	snprintf(path, sizeof(path), "%s/hsm/pki/truncated.esl", h.dir);
	out = ukeyctl(&status, "seal", "inspect", path, NULL);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "damaged"));
	free(out);
	snprintf(path, sizeof(path), "%s/hsm/pki/plain.txt", h.dir);
	free(ukeyctl(&status, "seal", "inspect", path, NULL));
	assert_int_equal(status, 5);
}

static void test_holders(void **state)
{
	int status;
	char *out = ukeyctl(&status, "holders", NULL, NULL, NULL);

	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "测试投标单位"));
	assert_non_null(strstr(out, primary));
	assert_non_null(strstr(out, secondary));
	/* The primary is listed first. */
	assert_true(strstr(out, primary) < strstr(out, secondary));
	free(out);
}

static void test_private_seal_needs_the_pin(void **state)
{
	ukey_client *c = NULL;
	ukey_token *t = NULL;
	const ukey_seal *seal;
	int status;
	char *out;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	/* With the PIN: the private seal, bound to this token's certificate. */
	assert_int_equal(ukey_client_get_token_with_pin(c, secondary, "123456", 0, &t), UKEY_OK);
	assert_int_equal(ukey_token_get_seal_count(t), 1);
	seal = ukey_token_get_seal(t, 0);
	assert_true(ukey_seal_is_private(seal));
	assert_int_equal(ukey_seal_get_status(seal), UKEY_SEAL_VALID);
	assert_int_equal(ukey_seal_get_kind(seal), UKEY_SEAL_LEGAL_REP);
	assert_int_equal(ukey_token_get_role(t), UKEY_ROLE_PRIMARY);
	ukey_token_unref(t);
	t = NULL;
	/* A wrong PIN reads nothing. */
	assert_int_equal(ukey_client_get_token_with_pin(c, secondary, "99887766", 0, &t),
			 UKEY_E_PIN_INCORRECT);
	assert_null(t);
	ukey_client_unref(c);
	usleep(1200 * 1000); /* the wait after a wrong PIN (test-pin-delay) */
	/* Without the PIN, and in the cache others see: nothing private. */
	t = get(secondary);
	assert_int_equal(ukey_token_get_seal_count(t), 0);
	assert_int_equal(ukey_token_get_role(t), UKEY_ROLE_SECONDARY);
	ukey_token_unref(t);
	/* The same through ukeyctl, the PIN on stdin. */
	{
		const char *argv[] = {getenv("UKEYCTL"), "--socket",  h.socket, "status",
				      secondary,	 "--private", NULL};
		const char *env[] = {"LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};
		out = harness_run_input(argv, env, "123456\n", &status);
	}
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "测试投标单位法定代表人章"));
	assert_non_null(strstr(out, "private object"));
	free(out);
}

/* Last: the primary loses its seal object. */
static void test_remembered_primary_loses_its_seal(void **state)
{
	char cmd[400];
	ukey_client *c = NULL;
	ukey_token *t;
	int status;
	char *out;

	snprintf(cmd, sizeof(cmd),
		 "pkcs11-tool --module " SOFTHSM_MODULE " --token-label '国信CA测试主锁' --login "
		 "--pin 123456 --delete-object --type data --label '电子签章' >/dev/null 2>&1");
	free(harness_sh(cmd, &status));
	assert_int_equal(status, 0);
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ukey_client_unref(c);
	t = get(primary);
	assert_int_equal(ukey_token_get_seal_count(t), 0);
	assert_int_equal(ukey_token_get_role(t), UKEY_ROLE_PRIMARY);
	assert_true(ukey_token_is_seal_missing(t));
	ukey_token_unref(t);
	out = ukeyctl(&status, "status", primary, NULL, NULL);
	assert_non_null(strstr(out, "SEAL MISSING"));
	free(out);
	/* Remembered across a restart. */
	assert_int_equal(harness_stop_daemon(&h), 0);
	const char *const args[] = {"--module", SOFTHSM_MODULE, NULL};
	assert_int_equal(harness_start_daemon(&h, args, NULL), 0);
	t = get(primary);
	assert_true(ukey_token_is_seal_missing(t));
	ukey_token_unref(t);
}

static int group_setup(void **state)
{
	const char *const args[] = {"--module", SOFTHSM_MODULE, NULL};
	char cmd[400];

	if (harness_setup(&h, "both") < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/provision-seals.sh %s/hsm", getenv("FIXTURES"), h.dir);
	if (system(cmd) != 0 || harness_start_daemon(&h, args, NULL) < 0)
		return -1;
	if (harness_token_serial(&h, "国信CA测试主锁", primary, sizeof(primary)) < 0 ||
	    harness_token_serial(&h, "江苏CA副锁", secondary, sizeof(secondary)) < 0 ||
	    harness_token_serial(&h, "印章测试", sealtest, sizeof(sealtest)) < 0)
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
		cmocka_unit_test(test_primary_and_secondary),
		cmocka_unit_test(test_real_seals_found_by_content),
		cmocka_unit_test(test_export_picture),
		cmocka_unit_test(test_inspect_files),
		cmocka_unit_test(test_holders),
		cmocka_unit_test(test_private_seal_needs_the_pin),
		cmocka_unit_test(test_remembered_primary_loses_its_seal),
	};

	return HARNESS_RUN_TESTS("seals", tests, group_setup, group_teardown);
}
