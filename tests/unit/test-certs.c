/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Certificate analysis: the real SM2 certificates of Chinese CAs in
 * shared/testdata (credit codes where they really are, UTF-8 hidden in
 * IA5String, CA recognition), and certificates made here with OpenSSL for
 * exact validity, usage and key-pairing cases.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ca-profiles.h"
#include "certs.h"

#define DAY 86400

static struct ca_profiles profiles;

static struct cert_info *analyze_testdata(const char *name)
{
	char path[512];
	FILE *f;
	X509 *x;
	unsigned char *der = NULL;
	struct cert_info *info = NULL;
	int len;

	snprintf(path, sizeof(path), "%s/certs/%s", getenv("TESTDATA"), name);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr,
			"SKIP: %s missing (shared/testdata must stand beside the checkout)\n",
			path);
		skip();
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	len = i2d_X509(x, &der);
	assert_true(len > 0);
	assert_int_equal(cert_analyze(der, (size_t)len, NULL, 0, &profiles, NULL, 0, &info), 0);
	OPENSSL_free(der);
	X509_free(x);
	return info;
}

static void test_cegn_credit_code_in_o(void **state)
{
	struct cert_info *c =
		analyze_testdata("cegn_seal_ca__zibo_zhoucun_natres_bureau_seal_signer.pem");
	struct holder h;

	assert_string_equal(c->credit_code, "11370306MB2867521U");
	assert_string_equal(c->ca->id, "cegn");
	assert_int_equal(c->key_type, CERT_KEY_SM2);
	assert_int_equal(c->key_bits, 256);
	assert_int_equal(c->usage, UKEY_CERT_USAGE_SIGN);
	assert_non_null(strstr(c->subject, "淄博市周村区自然资源局"));
	assert_int_equal(c->not_after, 1621958400); /* 2021-05-25T16:00:00Z */
	assert_int_equal(cert_expiry_state(c, 1763700000), UKEY_CERT_EXPIRED);
	holder_from_certs((const struct cert_info *const[]){c}, 1, &h);
	assert_int_equal(h.kind, UKEY_HOLDER_UNIT);
	assert_string_equal(h.name, "淄博市周村区自然资源局"); /* the code prefix stripped */
	assert_string_equal(h.credit_code, "11370306MB2867521U");
	cert_info_free(c);
}

static void test_ynca_credit_code_and_utf8_in_ia5(void **state)
{
	struct cert_info *c = analyze_testdata("ynca_sm2__yunnan_housing_dept_seal_signer.pem");

	/* In O and in the private extension 1.2.5.29.1. */
	assert_string_equal(c->credit_code, "115300000151003540");
	assert_string_equal(c->ca->id, "ynca");
	/* emailAddress is an IA5String holding UTF-8: read as UTF-8. */
	assert_non_null(strstr(c->subject, "emailAddress=电子邮箱"));
	assert_int_equal(c->n_ext_key_usage, 3);
	assert_string_equal(c->ext_key_usage[0], "serverAuth");
	cert_info_free(c);
}

static void test_chinatax_no_code(void **state)
{
	struct cert_info *c = analyze_testdata("chinatax_sm2__zhejiang_tax_seal_signer.pem");

	/* Its private extensions 1.2.86.11.7.x hold a name and a number, no
	 * valid credit code: none is made up. */
	assert_string_equal(c->credit_code, "");
	assert_string_equal(c->ca->id, "chinatax");
	assert_int_equal(c->usage, UKEY_CERT_USAGE_SIGN_ENCRYPT);
	assert_string_equal(c->subject_o, "国家税务总局浙江省税务局");
	cert_info_free(c);
}

static void test_tongsuo_dual_pair(void **state)
{
	struct cert_info *s = analyze_testdata("tongsuo_client_sign.crt");
	struct cert_info *e = analyze_testdata("tongsuo_client_enc.crt");

	assert_int_equal(s->usage, UKEY_CERT_USAGE_SIGN);
	assert_int_equal(e->usage, UKEY_CERT_USAGE_ENCRYPT);
	assert_int_equal(s->key_type, CERT_KEY_SM2);
	assert_string_equal(s->ca->id, "unknown");
	cert_info_free(s);
	cert_info_free(e);
}

/* A certificate made here: key, validity, key usage (0: none), O. */
static unsigned char *make_cert(EVP_PKEY *key, int64_t nb, int64_t na, const char *ku,
				const char *o, const char *issuer_o, int *ret_len)
{
	X509 *x = X509_new();
	X509_NAME *subj = X509_NAME_new(), *iss = X509_NAME_new();
	unsigned char *der = NULL;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na);
	X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_UTF8, (const unsigned char *)o, -1, -1, 0);
	X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)"张三", -1, -1,
				   0);
	X509_NAME_add_entry_by_txt(iss, "O", MBSTRING_UTF8, (const unsigned char *)issuer_o, -1, -1,
				   0);
	X509_set_subject_name(x, subj);
	X509_set_issuer_name(x, iss);
	X509_set_pubkey(x, key);
	if (ku) {
		X509V3_CTX ctx;
		X509V3_set_ctx_nodb(&ctx);
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, ku);
		assert_non_null(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*ret_len = i2d_X509(x, &der);
	X509_NAME_free(subj);
	X509_NAME_free(iss);
	X509_free(x);
	return der;
}

static void test_usage_classes(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	static const struct {
		const char *ku;
		enum ukey_cert_usage usage;
	} cases[] = {
		{"digitalSignature,nonRepudiation", UKEY_CERT_USAGE_SIGN},
		{"keyEncipherment,dataEncipherment", UKEY_CERT_USAGE_ENCRYPT},
		{"keyAgreement", UKEY_CERT_USAGE_ENCRYPT},
		{"digitalSignature,keyEncipherment", UKEY_CERT_USAGE_SIGN_ENCRYPT},
		{"keyCertSign", UKEY_CERT_USAGE_UNKNOWN},
		{NULL, UKEY_CERT_USAGE_UNKNOWN},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int len;
		unsigned char *der = make_cert(k, 0, 2000000000, cases[i].ku, "O", "BJCA", &len);
		struct cert_info *c = NULL;
		assert_int_equal(cert_analyze(der, (size_t)len, NULL, 0, &profiles, NULL, 0, &c),
				 0);
		assert_int_equal(c->usage, cases[i].usage);
		assert_int_equal(c->key_type, CERT_KEY_EC);
		assert_string_equal(c->ca->id, "bjca");
		cert_info_free(c);
		OPENSSL_free(der);
	}
	EVP_PKEY_free(k);
}

static void test_expiry_states(void **state)
{
	/* BJCA's window is 30 days. */
	struct ca_profile *bjca = (struct ca_profile *)ca_profiles_get(&profiles, "bjca");
	struct cert_info c = {.not_before = 1000 * DAY, .not_after = 2000 * DAY, .ca = bjca};
	int64_t na = c.not_after;

	assert_int_equal(cert_expiry_state(&c, 999 * DAY), UKEY_CERT_NOT_YET_VALID);
	assert_int_equal(cert_expiry_state(&c, 1000 * DAY), UKEY_CERT_VALID);
	assert_int_equal(cert_days_left(&c, na - 31 * DAY), 31);
	assert_int_equal(cert_expiry_state(&c, na - 31 * DAY), UKEY_CERT_VALID);
	assert_int_equal(cert_days_left(&c, na - 31 * DAY + 1), 30);
	assert_int_equal(cert_expiry_state(&c, na - 31 * DAY + 1), UKEY_CERT_RENEWAL_WINDOW);
	assert_int_equal(cert_days_left(&c, na - 1), 0);
	assert_int_equal(cert_expiry_state(&c, na - 1), UKEY_CERT_RENEWAL_WINDOW);
	assert_int_equal(cert_expiry_state(&c, na), UKEY_CERT_EXPIRED);
	assert_int_equal(cert_days_left(&c, na), 0);
	assert_int_equal(cert_days_left(&c, na + 1), -1);
	assert_int_equal(cert_days_left(&c, na + DAY + 1), -2);

	/* The next change is exactly where days_left or the state changes. */
	for (int64_t now = 998 * DAY + 7; now < na + 3 * DAY; now += 3 * 3600 + 17) {
		int64_t next = cert_next_change(&c, now);
		assert_true(next > now);
		assert_int_equal(cert_days_left(&c, next - 1), cert_days_left(&c, now));
		assert_int_equal(cert_expiry_state(&c, next - 1), cert_expiry_state(&c, now));
		assert_true(cert_days_left(&c, next) != cert_days_left(&c, now) ||
			    cert_expiry_state(&c, next) != cert_expiry_state(&c, now));
	}
}

static void test_key_pairing(void **state)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *other = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256");
	BIGNUM *n = NULL, *n2 = NULL;
	unsigned char mod[256], mod2[256], point[65], wrapped[67];
	size_t plen = 0;
	int len;
	unsigned char *der = make_cert(rsa, 0, 2000000000, "digitalSignature", "O", "X", &len);
	const uint8_t id[] = {0x01}, id2[] = {0x02};
	struct cert_info *c = NULL;

	EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n);
	EVP_PKEY_get_bn_param(other, OSSL_PKEY_PARAM_RSA_N, &n2);
	BN_bn2binpad(n, mod, sizeof(mod));
	BN_bn2binpad(n2, mod2, sizeof(mod2));

	struct token_key same = {
		.id = (uint8_t *)id, .id_len = 1, .modulus = mod, .modulus_len = 256};
	struct token_key wrong_key = same, wrong_id = same,
			 hidden = {.is_private = true, .id = (uint8_t *)id, .id_len = 1};
	wrong_key.modulus = mod2;
	wrong_id.id = (uint8_t *)id2;

	struct token_key shown[2] = {wrong_id, hidden};
	shown[1].id = (uint8_t *)id2;

	assert_int_equal(cert_analyze(der, (size_t)len, id, 1, &profiles, &same, 1, &c), 0);
	assert_true(c->has_private_key);
	assert_int_equal(c->key_pair, UKEY_KEY_PAIR_PRESENT);
	cert_info_free(c);
	/* Same CKA_ID but another key: not its pair, and seen not to be. */
	assert_int_equal(cert_analyze(der, (size_t)len, id, 1, &profiles, &wrong_key, 1, &c), 0);
	assert_false(c->has_private_key);
	assert_int_equal(c->key_pair, UKEY_KEY_PAIR_ABSENT);
	cert_info_free(c);
	/* Only another pair's public key, private keys hidden: cannot tell. */
	assert_int_equal(cert_analyze(der, (size_t)len, id, 1, &profiles, &wrong_id, 1, &c), 0);
	assert_false(c->has_private_key);
	assert_int_equal(c->key_pair, UKEY_KEY_PAIR_UNKNOWN);
	cert_info_free(c);
	/* The token shows its private keys, and none is this one's. */
	assert_int_equal(cert_analyze(der, (size_t)len, id, 1, &profiles, shown, 2, &c), 0);
	assert_int_equal(c->key_pair, UKEY_KEY_PAIR_ABSENT);
	cert_info_free(c);
	/* No key objects at all: hidden, or none; not seen either way. */
	assert_int_equal(cert_analyze(der, (size_t)len, id, 1, &profiles, NULL, 0, &c), 0);
	assert_int_equal(c->key_pair, UKEY_KEY_PAIR_UNKNOWN);
	cert_info_free(c);
	/* A private key that shows no public part pairs by CKA_ID. */
	assert_int_equal(cert_analyze(der, (size_t)len, id, 1, &profiles, &hidden, 1, &c), 0);
	assert_true(c->has_private_key);
	cert_info_free(c);
	assert_int_equal(cert_analyze(der, (size_t)len, NULL, 0, &profiles, &same, 1, &c), 0);
	assert_false(c->has_private_key); /* no CKA_ID: nothing to pair by */
	assert_int_equal(c->key_pair, UKEY_KEY_PAIR_UNKNOWN);
	cert_info_free(c);
	OPENSSL_free(der);

	/* EC: CKA_EC_POINT wrapped in a DER OCTET STRING, as PKCS#11 says. */
	der = make_cert(ec, 0, 2000000000, "digitalSignature", "O", "X", &len);
	EVP_PKEY_get_octet_string_param(ec, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
					sizeof(point), &plen);
	assert_int_equal(plen, 65);
	wrapped[0] = 0x04;
	wrapped[1] = 65;
	memcpy(wrapped + 2, point, 65);
	struct token_key ec_key = {
		.id = (uint8_t *)id, .id_len = 1, .ec_point = wrapped, .ec_point_len = 67};
	assert_int_equal(cert_analyze(der, (size_t)len, id, 1, &profiles, &ec_key, 1, &c), 0);
	assert_true(c->has_private_key);
	cert_info_free(c);
	wrapped[40] ^= 1;
	assert_int_equal(cert_analyze(der, (size_t)len, id, 1, &profiles, &ec_key, 1, &c), 0);
	assert_false(c->has_private_key);
	assert_int_equal(c->key_pair, UKEY_KEY_PAIR_ABSENT);
	cert_info_free(c);
	OPENSSL_free(der);
	BN_free(n);
	BN_free(n2);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(other);
	EVP_PKEY_free(ec);
}

static void test_person_holder(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	int len;
	unsigned char *der =
		make_cert(k, 0, 2000000000, "digitalSignature", "110101199003074477", "X", &len);
	struct cert_info *c = NULL;
	struct holder h;

	assert_int_equal(cert_analyze(der, (size_t)len, NULL, 0, &profiles, NULL, 0, &c), 0);
	holder_from_certs((const struct cert_info *const[]){c}, 1, &h);
	assert_int_equal(h.kind, UKEY_HOLDER_PERSON);
	assert_string_equal(h.name, "张三");
	assert_null(h.credit_code);
	assert_string_equal(h.person_id_masked, "110***********4477");
	assert_null(strstr(c->subject_o ? "" : "", "19900307"));
	cert_info_free(c);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

static void test_holder_prefers_newest(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	int l1, l2;
	unsigned char *old = make_cert(k, 0, 1500000000, "digitalSignature", "旧单位", "BJCA", &l1);
	unsigned char *new = make_cert(k, 0, 1900000000, "digitalSignature", "新单位", "CFCA", &l2);
	struct cert_info *a = NULL, *b = NULL;
	struct holder h;

	assert_int_equal(cert_analyze(old, (size_t)l1, NULL, 0, &profiles, NULL, 0, &a), 0);
	assert_int_equal(cert_analyze(new, (size_t)l2, NULL, 0, &profiles, NULL, 0, &b), 0);
	holder_from_certs((const struct cert_info *const[]){a, b}, 2, &h);
	assert_string_equal(h.name, "新单位");
	assert_string_equal(h.ca->id, "cfca");
	holder_from_certs((const struct cert_info *const[]){b, a}, 2, &h);
	assert_string_equal(h.name, "新单位");
	cert_info_free(a);
	cert_info_free(b);
	OPENSSL_free(old);
	OPENSSL_free(new);
	EVP_PKEY_free(k);
}

static void test_malformed(void **state)
{
	static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	struct cert_info *c = (struct cert_info *)0x1;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	int len;
	unsigned char *der = make_cert(k, 0, 2000000000, NULL, "O", "X", &len), *longer;

	assert_int_equal(cert_analyze(junk, sizeof(junk), NULL, 0, &profiles, NULL, 0, &c), -74);
	assert_ptr_equal(c, (struct cert_info *)0x1);
	/* Truncated, and with trailing bytes. */
	assert_int_equal(cert_analyze(der, (size_t)len - 1, NULL, 0, &profiles, NULL, 0, &c), -74);
	longer = malloc((size_t)len + 1);
	memcpy(longer, der, (size_t)len);
	longer[len] = 0;
	assert_int_equal(cert_analyze(longer, (size_t)len + 1, NULL, 0, &profiles, NULL, 0, &c),
			 -74);
	free(longer);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

static int setup(void **state)
{
	char *error = NULL;

	return ca_profiles_load(&profiles, getenv("CA_PROFILES"), NULL, &error);
}

static int teardown(void **state)
{
	ca_profiles_release(&profiles);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cegn_credit_code_in_o),
		cmocka_unit_test(test_ynca_credit_code_and_utf8_in_ia5),
		cmocka_unit_test(test_chinatax_no_code),
		cmocka_unit_test(test_tongsuo_dual_pair),
		cmocka_unit_test(test_usage_classes),
		cmocka_unit_test(test_expiry_states),
		cmocka_unit_test(test_key_pairing),
		cmocka_unit_test(test_person_holder),
		cmocka_unit_test(test_holder_prefers_newest),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests_name("certs", tests, setup, teardown);
}
