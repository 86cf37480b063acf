/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The verifying half of the PKCS#11 self-test's SM2 signature, with keys
 * OpenSSL makes and signatures made as a token makes them: the token signs
 * e = SM3(Z || M) (Z with the default ID) raw, as CKM_ECDSA does, and
 * returns r || s. The half on the token (a module signing SM2 with
 * CKM_ECDSA) is integration-p11-quirks' (a wrapper module that does).
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "p11-selftest.h"
#include "sm2.h"

static const char default_id[] = "1234567812345678";

static EVP_PKEY *sm2_new(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");

	assert_non_null(k);
	assert_true(EVP_PKEY_is_a(k, "SM2"));
	return k;
}

/* A key pair on the SM2 curve as OpenSSL's "EC" keys hold it (they sign
 * plain ECDSA; OpenSSL makes them but will not import them). */
static EVP_PKEY *ec_sm2_new(void)
{
	EVP_PKEY *k = EVP_EC_gen("SM2");

	assert_non_null(k);
	assert_true(EVP_PKEY_is_a(k, "EC"));
	return k;
}

/* The same key pair as key type name ("SM2"), public only or with the
 * private key. */
static EVP_PKEY *same_key_as(EVP_PKEY *k, const char *name, bool with_private)
{
	unsigned char point[65];
	size_t len = 0;
	BIGNUM *d = NULL;
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	EVP_PKEY *r = NULL;

	assert_non_null(b);
	assert_non_null(ctx);
	assert_true(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
						    sizeof(point), &len));
	assert_true(OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0));
	assert_true(OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point, len));
	if (with_private) {
		assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &d));
		assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d));
	}
	params = OSSL_PARAM_BLD_to_param(b);
	assert_non_null(params);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &r,
					   with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
					   params),
			 1);
	BN_free(d);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* A raw signature of a 32-byte digest by key (SM2 for an "SM2" key,
 * ECDSA for an "EC" one), as DER. */
static size_t sign_raw(EVP_PKEY *key, const uint8_t e[32], uint8_t *der, size_t size)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	size_t len = size;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, der, &len, e, 32), 1);
	EVP_PKEY_CTX_free(ctx);
	return len;
}

/* DER to r || s, 32 bytes each: what C_Sign returns for CKM_ECDSA. */
static void der_to_raw(const uint8_t *der, size_t len, uint8_t raw[64])
{
	const unsigned char *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *sv;

	assert_non_null(s);
	ECDSA_SIG_get0(s, &r, &sv);
	assert_int_equal(BN_bn2binpad(r, raw, 32), 32);
	assert_int_equal(BN_bn2binpad(sv, raw + 32, 32), 32);
	ECDSA_SIG_free(s);
}

/* An SM2 signature of msg as software makes it (SM3, Z over id; id NULL:
 * OpenSSL 3.0's own default, the empty ID). */
static size_t sign_sm2_message(EVP_PKEY *key, const char *id, const uint8_t *msg, size_t len,
			       uint8_t *der, size_t size)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = size;

	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit_ex(md, &pctx, "SM3", NULL, NULL, key, NULL), 1);
	if (id)
		assert_int_equal(EVP_PKEY_CTX_set1_id(pctx, id, strlen(id)), 1);
	assert_int_equal(EVP_DigestSign(md, der, &n, msg, len), 1);
	EVP_MD_CTX_free(md);
	return n;
}

/* The token's own signature: e computed by the self-test, signed raw. */
static void token_signs(EVP_PKEY *key, const uint8_t msg[32], uint8_t raw[64])
{
	uint8_t e[32], der[128];
	size_t n;

	assert_true(sm2_digest(key, msg, 32, e));
	n = sign_raw(key, e, der, sizeof(der));
	der_to_raw(der, n, raw);
}

static void test_sm2_key(void **state)
{
	EVP_PKEY *ec = ec_sm2_new(), *sm2 = same_key_as(ec, "SM2", false), *k;
	EVP_PKEY *p256 = EVP_EC_gen("P-256"), *rsa = EVP_RSA_gen(1024);

	/* As a certificate's key decodes, and as EC on the SM2 curve. */
	k = sm2_public_key(sm2);
	assert_ptr_equal(k, sm2);
	EVP_PKEY_free(k);
	assert_true(EVP_PKEY_is_a(ec, "EC"));
	k = sm2_public_key(ec);
	assert_non_null(k);
	assert_true(EVP_PKEY_is_a(k, "SM2"));
	assert_int_equal(EVP_PKEY_eq(k, sm2), 1);
	EVP_PKEY_free(k);
	/* Other keys take the RSA and EC tests. */
	assert_null(sm2_public_key(p256));
	assert_null(sm2_public_key(rsa));
	assert_null(sm2_public_key(NULL));
	EVP_PKEY_free(sm2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(rsa);
}

/* Why the self-test cannot sign SM2 as it signs RSA and EC: OpenSSL 3.0
 * refuses SHA-256 for an SM2 key ("sm2sig_set_mdname: invalid digest"). */
static void test_sha256_refused_for_sm2(void **state)
{
	EVP_PKEY *sm2 = sm2_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_int_not_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, sm2), 1);
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(sm2);
}

/* e is the digest OpenSSL's own SM2 signature of msg with the default ID
 * signs: that signature verifies raw against e. */
static void test_digest_is_openssls(void **state)
{
	EVP_PKEY *sm2 = sm2_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, sm2, NULL);
	uint8_t msg[32], e[32], der[128];
	size_t n;

	assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
	n = sign_sm2_message(sm2, default_id, msg, sizeof(msg), der, sizeof(der));
	assert_true(sm2_digest(sm2, msg, sizeof(msg), e));
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, der, n, e, sizeof(e)), 1);
	/* Another message, another digest. */
	msg[0] ^= 1;
	assert_true(sm2_digest(sm2, msg, sizeof(msg), e));
	assert_int_not_equal(EVP_PKEY_verify(ctx, der, n, e, sizeof(e)), 1);
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(sm2);
}

static void test_token_signature_accepted(void **state)
{
	EVP_PKEY *pub_ec = ec_sm2_new(), *sm2 = same_key_as(pub_ec, "SM2", true);
	EVP_PKEY *pub = same_key_as(sm2, "SM2", false);
	uint8_t msg[32], raw[64], e[32], der[128];
	size_t n;

	assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
	token_signs(sm2, msg, raw);
	/* r || s, as C_Sign returns it; against the certificate's key as
	 * OpenSSL decodes it either way. */
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), raw, sizeof(raw)), 1);
	assert_int_equal(p11_selftest_sm2_verdict(pub_ec, msg, sizeof(msg), raw, sizeof(raw)), 1);
	/* DER, as some modules return it. */
	assert_true(sm2_digest(sm2, msg, sizeof(msg), e));
	n = sign_raw(sm2, e, der, sizeof(der));
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), der, n), 1);
	/* A token that hashes what it is given with Z again signs e as the
	 * message. */
	n = sign_sm2_message(sm2, default_id, e, sizeof(e), der, sizeof(der));
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), der, n), 1);
	EVP_PKEY_free(sm2);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(pub_ec);
}

static void test_tampered_signature_rejected(void **state)
{
	EVP_PKEY *sm2 = sm2_new(), *pub = same_key_as(sm2, "SM2", false), *other = sm2_new();
	uint8_t msg[32], raw[64], bad[64], der[128];
	size_t n;

	assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
	token_signs(sm2, msg, raw);
	/* Any bit of r or s. */
	for (size_t i = 0; i < sizeof(raw); i += 7) {
		memcpy(bad, raw, sizeof(raw));
		bad[i] ^= 0x01;
		assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), bad, sizeof(bad)),
				 0);
	}
	/* Another message. */
	msg[31] ^= 0x80;
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), raw, sizeof(raw)), 0);
	msg[31] ^= 0x80;
	/* Another key (a token whose key is not the certificate's). */
	token_signs(other, msg, bad);
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), bad, sizeof(bad)), 0);
	/* The empty ID (OpenSSL 3.0's default) is not the default ID. */
	n = sign_sm2_message(sm2, NULL, msg, sizeof(msg), der, sizeof(der));
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), der, n), 0);
	/* Not a signature at all. */
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), raw, 0), 0);
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), raw, 63), 0);
	memset(bad, 0, sizeof(bad));
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), bad, sizeof(bad)), 0);
	/* And no verdict for a key that is not SM2. */
	EVP_PKEY *p256 = EVP_EC_gen("P-256");
	assert_int_equal(p11_selftest_sm2_verdict(p256, msg, sizeof(msg), raw, sizeof(raw)), 0);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(sm2);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(other);
}

/* A module that signs plain ECDSA with CKM_ECDSA on its SM2 key (SoftHSM
 * does): the key is the certificate's, SM2 signing is not tested. */
static void test_plain_ecdsa_not_tested(void **state)
{
	EVP_PKEY *ec = ec_sm2_new(), *pub = same_key_as(ec, "SM2", false), *other = ec_sm2_new();
	uint8_t msg[32], e[32], der[128], raw[64];
	size_t n;

	assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
	assert_true(sm2_digest(pub, msg, sizeof(msg), e));
	n = sign_raw(ec, e, der, sizeof(der));
	der_to_raw(der, n, raw);
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), raw, sizeof(raw)), -1);
	/* By another key: failed. */
	n = sign_raw(other, e, der, sizeof(der));
	der_to_raw(der, n, raw);
	assert_int_equal(p11_selftest_sm2_verdict(pub, msg, sizeof(msg), raw, sizeof(raw)), 0);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sm2_key),
		cmocka_unit_test(test_sha256_refused_for_sm2),
		cmocka_unit_test(test_digest_is_openssls),
		cmocka_unit_test(test_token_signature_accepted),
		cmocka_unit_test(test_tampered_signature_rejected),
		cmocka_unit_test(test_plain_ecdsa_not_tested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
