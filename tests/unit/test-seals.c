/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seal parsing and checking against the real seals in shared/testdata. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seals.h"

#define NOW 1795000000 /* 2026-11-18 */

static uint8_t *read_seal(const char *name, size_t *ret_len)
{
	char path[512];
	uint8_t *buf = malloc(1 << 20);
	FILE *f;

	snprintf(path, sizeof(path), "%s/seals/%s", getenv("TESTDATA"), name);
	f = fopen(path, "rb");
	if (!f) {
		free(buf);
		fprintf(stderr,
			"SKIP: %s missing (shared/testdata must stand beside the checkout)\n",
			path);
		skip();
	}
	*ret_len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static struct seal_info *parse(const uint8_t *der, size_t len)
{
	struct seal_info *s = NULL;

	assert_int_equal(seal_parse(der, len, &s), 0);
	return s;
}

static void test_real_seals(void **state)
{
	static const struct {
		const char *file;
		int layout;
		long type;
		bool signature_ok;
		enum ukey_seal_status status;
		const char *picture;
		const char *name_part;
	} cases[] = {
		{"ofdrw_UserV1.esl", 1, 1, true, UKEY_SEAL_EXPIRED, "png", "OFDRW"},
		{"ofdrw_UserV4.esl", 4, 3, true, UKEY_SEAL_EXPIRED, "png", "OFD R&W"},
		/* made in 2026 by a maker whose certificate ended in 2023 */
		{"ofdrw_UserV5_ts.esl", 5, 3, true, UKEY_SEAL_MAKER_CERT_EXPIRED, "png", "V5"},
		{"ofdrw_SESealData.DER", 4, 4, false, UKEY_SEAL_BAD_SIGNATURE, "gif", "合同专用章"},
		{"ofdrw-converter_draw_param_ref_Seal_v4_taxtest.esl", 4, 3, true,
		 UKEY_SEAL_EXPIRED, "ofd", "监制章"},
		{"ofdrw-layout_keyword_Sign1_Seal_v4_zibo.esl", 4, 6, true, UKEY_SEAL_EXPIRED,
		 "png", "淄博市"},
		/* v1 with untagged extDatas; valid until 2029-12-18 */
		{"ofdrw-converter_n_Seal_v1_dms360.esl", 1, 1, true, UKEY_SEAL_VALID, "png",
		 "测试章"},
		{"ofdrw-converter_zsbk_Sign0_Seal_v4_yunnan.esl", 4, 15, true, UKEY_SEAL_EXPIRED,
		 "png", "云南省"},
		{"ofdrw-converter_1_embedded_SESeal_v4_zhejiang_tax.der", 4, 3, true,
		 UKEY_SEAL_EXPIRED, "ofd", "浙江省"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		uint8_t *der = read_seal(cases[i].file, &len);
		struct seal_info *s = parse(der, len);

		assert_int_equal(s->layout, cases[i].layout);
		assert_int_equal(s->property_type, cases[i].type);
		assert_int_equal(s->signature_ok, cases[i].signature_ok);
		assert_int_equal(seal_status(s, NULL, NULL, 0, NOW), cases[i].status);
		assert_string_equal(s->picture_type, cases[i].picture);
		assert_true(s->picture_len > 1000);
		assert_non_null(strstr(s->name, cases[i].name_part));
		seal_info_free(s);
		free(der);
	}
}

static void test_kinds(void **state)
{
	size_t len;
	uint8_t *der = read_seal("ofdrw_UserV1.esl", &len);
	struct seal_info *s = parse(der, len);

	/* type 1 (a unit's seal), no special-purpose keyword */
	assert_int_equal(s->kind, UKEY_SEAL_OFFICIAL);
	seal_info_free(s);
	free(der);
	der = read_seal("ofdrw_SESealData.DER", &len);
	s = parse(der, len);
	assert_int_equal(s->kind, UKEY_SEAL_OTHER); /* 合同专用章: a contract seal */
	/* Its signers are digests (certListType 2). */
	assert_int_equal(s->n_signers, 2);
	seal_info_free(s);
	free(der);
}

static void test_binding(void **state)
{
	size_t len;
	uint8_t *der = read_seal("ofdrw-converter_zsbk_Sign0_Seal_v4_yunnan.esl", &len);
	struct seal_info *s = parse(der, len);
	const uint8_t *certs[1];
	size_t lens[1];
	uint8_t other[64] = {0x30, 0x3e};

	assert_int_equal(s->n_signers, 1);
	assert_false(s->signers[0].is_digest);
	/* Bound when the token holds the listed certificate... */
	certs[0] = s->signers[0].value;
	lens[0] = s->signers[0].value_len;
	assert_int_equal(seal_status(s, certs, lens, 1, 1571961600 /* 2019-10-25 */),
			 UKEY_SEAL_VALID);
	/* ...and not when it holds another. */
	certs[0] = other;
	lens[0] = sizeof(other);
	assert_int_equal(seal_status(s, certs, lens, 1, 1571961600), UKEY_SEAL_NOT_BOUND);
	/* A token without certificates, or with an empty one, binds nothing;
	 * nor does a signer entry that lists nothing. */
	assert_int_equal(seal_status(s, certs, lens, 0, 1571961600), UKEY_SEAL_NOT_BOUND);
	certs[0] = (const uint8_t *)"";
	lens[0] = 0;
	assert_int_equal(seal_status(s, certs, lens, 1, 1571961600), UKEY_SEAL_NOT_BOUND);
	s->signers[0].value_len = 0;
	assert_int_equal(seal_status(s, certs, lens, 1, 1571961600), UKEY_SEAL_NOT_BOUND);
	seal_info_free(s);
	free(der);
}

static void test_corruptions(void **state)
{
	size_t len;
	uint8_t *der = read_seal("ofdrw_UserV4.esl", &len);
	struct seal_info *s;

	/* A flipped byte in the signature (the last bytes of the seal). */
	der[len - 5] ^= 0x01;
	s = parse(der, len);
	assert_int_equal(s->layout, 4);
	assert_int_equal(seal_status(s, NULL, NULL, 0, 1600000000), UKEY_SEAL_BAD_SIGNATURE);
	seal_info_free(s);
	der[len - 5] ^= 0x01;
	/* A flipped byte in the picture: what was signed changed. */
	der[5000] ^= 0x01;
	s = parse(der, len);
	assert_int_equal(seal_status(s, NULL, NULL, 0, 1600000000), UKEY_SEAL_BAD_SIGNATURE);
	seal_info_free(s);
	der[5000] ^= 0x01;
	/* Truncated: still seal-shaped, so a malformed seal. */
	for (size_t cut = 1; cut < len; cut += len / 7) {
		s = parse(der, len - cut);
		assert_int_equal(seal_status(s, NULL, NULL, 0, 1600000000), UKEY_SEAL_MALFORMED);
		seal_info_free(s);
	}
	/* A wrong outer length. */
	der[3] ^= 0x10;
	s = parse(der, len);
	assert_int_equal(seal_status(s, NULL, NULL, 0, 1600000000), UKEY_SEAL_MALFORMED);
	seal_info_free(s);
	der[3] ^= 0x10;
	/* Intact again: valid in 2021. */
	s = parse(der, len);
	assert_int_equal(seal_status(s, NULL, NULL, 0, 1610000000), UKEY_SEAL_VALID);
	seal_info_free(s);
	free(der);
}

static void test_not_a_seal(void **state)
{
	static const uint8_t cert_like[] = {0x30, 0x82, 0x01, 0x00, 0x30,
					    0x82, 0x00, 0xf0, 0xa0, 0x03};
	static const uint8_t text[] = "vendor=test\n";
	struct seal_info *s = (struct seal_info *)0x1;

	assert_int_equal(seal_parse(cert_like, sizeof(cert_like), &s), -74);
	assert_int_equal(seal_parse(text, sizeof(text), &s), -74);
	assert_int_equal(seal_parse(text, 0, &s), -74);
	assert_ptr_equal(s, (struct seal_info *)0x1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_seals), cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_binding),	   cmocka_unit_test(test_corruptions),
		cmocka_unit_test(test_not_a_seal),
	};

	return cmocka_run_group_tests_name("seals", tests, NULL, NULL);
}
