/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SKF's binary structures to and from OpenSSL's (skf-blob.h), checked
 * against OpenSSL itself: a signature blob verifies as OpenSSL's DER, and
 * an SM2 ciphertext converted to an ECCCIPHERBLOB and back decrypts. */
#include <errno.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "skf-blob.h"

static void put_ulong(uint8_t *p, ULONG v)
{
	memcpy(p, &v, sizeof(v));
}

static void test_ec_point(void **state)
{
	uint8_t blob[sizeof(ECCPUBLICKEYBLOB)] = {0}, point[SKF_EC_POINT_MAX];
	const size_t x = offsetof(ECCPUBLICKEYBLOB, XCoordinate),
		     y = offsetof(ECCPUBLICKEYBLOB, YCoordinate);

	put_ulong(blob, 256);
	for (int i = 0; i < 32; i++) {
		blob[x + 32 + i] = (uint8_t)(0xA0 + i);
		blob[y + 32 + i] = (uint8_t)(0x10 + i);
	}
	assert_int_equal(skf_blob_ec_point(blob, sizeof(blob), point), 65);
	assert_int_equal(point[0], 0x04);
	assert_memory_equal(point + 1, blob + x + 32, 32);
	assert_memory_equal(point + 33, blob + y + 32, 32);

	/* Short, a bit length no field holds, and left-over bytes before a
	 * coordinate (a blob that is not right-aligned) are refused. */
	assert_int_equal(skf_blob_ec_point(blob, sizeof(blob) - 1, point), -EBADMSG);
	put_ulong(blob, 0);
	assert_int_equal(skf_blob_ec_point(blob, sizeof(blob), point), -EBADMSG);
	put_ulong(blob, 513);
	assert_int_equal(skf_blob_ec_point(blob, sizeof(blob), point), -EBADMSG);
	put_ulong(blob, 256);
	blob[x] = 1;
	assert_int_equal(skf_blob_ec_point(blob, sizeof(blob), point), -EBADMSG);
	/* 512 bits fill the fields. */
	put_ulong(blob, 512);
	assert_int_equal(skf_blob_ec_point(blob, sizeof(blob), point), 129);
}

static void test_rsa_modulus(void **state)
{
	uint8_t blob[sizeof(RSAPUBLICKEYBLOB)] = {0};
	const size_t at = offsetof(RSAPUBLICKEYBLOB, Modulus);
	const uint8_t *m = NULL;
	size_t len = 0;

	put_ulong(blob + offsetof(RSAPUBLICKEYBLOB, BitLen), 1024);
	memset(blob + at + 128, 0xC5, 128);
	assert_int_equal(skf_blob_rsa_modulus(blob, sizeof(blob), &m, &len), 0);
	assert_int_equal(len, 128);
	assert_ptr_equal(m, blob + at + 128);
	/* Cut short, left-over bytes before the modulus, more bits than
	 * the field holds: refused. */
	assert_int_equal(skf_blob_rsa_modulus(blob, sizeof(blob) - 1, &m, &len), -EBADMSG);
	blob[at] = 1;
	assert_int_equal(skf_blob_rsa_modulus(blob, sizeof(blob), &m, &len), -EBADMSG);
	put_ulong(blob + offsetof(RSAPUBLICKEYBLOB, BitLen), 4096);
	assert_int_equal(skf_blob_rsa_modulus(blob, sizeof(blob), &m, &len), -EBADMSG);
}

static void test_signature_der(void **state)
{
	uint8_t blob[sizeof(ECCSIGNATUREBLOB)] = {0}, der[SKF_SIGNATURE_DER_MAX];
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	BIGNUM *want_r, *want_s;
	ssize_t n;

	/* r with its top bit set (DER adds a zero), s with leading zeros. */
	RAND_bytes(blob + 32, 32);
	blob[32] |= 0x80;
	RAND_bytes(blob + 64 + 35, 29);
	blob[64 + 35] |= 1;
	n = skf_blob_signature_der(blob, sizeof(blob), der);
	assert_true(n > 0 && n <= SKF_SIGNATURE_DER_MAX);
	sig = d2i_ECDSA_SIG(NULL, &p, n);
	assert_non_null(sig);
	assert_ptr_equal(p, der + n);
	ECDSA_SIG_get0(sig, &r, &s);
	want_r = BN_bin2bn(blob, 64, NULL);
	want_s = BN_bin2bn(blob + 64, 64, NULL);
	assert_int_equal(BN_cmp(r, want_r), 0);
	assert_int_equal(BN_cmp(s, want_s), 0);
	ECDSA_SIG_free(sig);
	BN_free(want_r);
	BN_free(want_s);

	/* The longest: both 64 bytes with the top bit set. */
	memset(blob, 0xFF, sizeof(blob));
	n = skf_blob_signature_der(blob, sizeof(blob), der);
	assert_true(n > 0 && n <= SKF_SIGNATURE_DER_MAX);
	/* The same blob cut short (a byte of s missing) is refused. */
	assert_int_equal(skf_blob_signature_der(blob, sizeof(blob) - 1, der), -EBADMSG);
	assert_int_equal(skf_blob_signature_der(blob, 10, der), -EBADMSG);
	/* A zero r or s is no signature. */
	memset(blob, 0, 64);
	assert_int_equal(skf_blob_signature_der(blob, sizeof(blob), der), -EBADMSG);
	memset(blob, 0xFF, 64);
	memset(blob + 64, 0, 64);
	assert_int_equal(skf_blob_signature_der(blob, sizeof(blob), der), -EBADMSG);
}

static EVP_PKEY *sm2_keygen(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	EVP_PKEY *k = NULL;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_generate(ctx, &k), 1);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

/* The blob back to OpenSSL's DER, written here with ASN1 types (the
 * converter under test uses none). */
static int blob_to_der(const uint8_t *b, unsigned char **der)
{
	const ECCCIPHERBLOB *h = (const ECCCIPHERBLOB *)b;
	BIGNUM *bx = BN_bin2bn(h->XCoordinate, 64, NULL), *by = BN_bin2bn(h->YCoordinate, 64, NULL);
	ASN1_INTEGER *x = BN_to_ASN1_INTEGER(bx, NULL), *y = BN_to_ASN1_INTEGER(by, NULL);
	ASN1_OCTET_STRING *c3 = ASN1_OCTET_STRING_new(), *c2 = ASN1_OCTET_STRING_new();
	STACK_OF(ASN1_TYPE) *seq = sk_ASN1_TYPE_new_null();
	ASN1_TYPE *t;
	int n;

	ASN1_OCTET_STRING_set(c3, h->HASH, 32);
	ASN1_OCTET_STRING_set(c2, b + offsetof(ECCCIPHERBLOB, Cipher), (int)h->CipherLen);
	t = ASN1_TYPE_new();
	ASN1_TYPE_set(t, V_ASN1_INTEGER, x);
	sk_ASN1_TYPE_push(seq, t);
	t = ASN1_TYPE_new();
	ASN1_TYPE_set(t, V_ASN1_INTEGER, y);
	sk_ASN1_TYPE_push(seq, t);
	t = ASN1_TYPE_new();
	ASN1_TYPE_set(t, V_ASN1_OCTET_STRING, c3);
	sk_ASN1_TYPE_push(seq, t);
	t = ASN1_TYPE_new();
	ASN1_TYPE_set(t, V_ASN1_OCTET_STRING, c2);
	sk_ASN1_TYPE_push(seq, t);
	*der = NULL;
	n = i2d_ASN1_SEQUENCE_ANY(seq, der);
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	BN_free(bx);
	BN_free(by);
	return n;
}

static void test_cipher_round_trip(void **state)
{
	EVP_PKEY *k = sm2_keygen();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	uint8_t key[16], der[512], blob[SKF_ECCCIPHERBLOB_SIZE(64)], plain[64];
	size_t der_len = sizeof(der), plain_len = sizeof(plain);
	unsigned char *back = NULL;
	ssize_t n;
	int back_len;

	/* Many runs: coordinates with leading zeros come up now and then. */
	for (int run = 0; run < 64; run++) {
		der_len = sizeof(der);
		plain_len = sizeof(plain);
		RAND_bytes(key, sizeof(key));
		assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
		assert_int_equal(EVP_PKEY_encrypt(ctx, der, &der_len, key, sizeof(key)), 1);
		n = skf_blob_cipher_from_der(der, der_len, blob, sizeof(blob));
		assert_int_equal(n, SKF_ECCCIPHERBLOB_SIZE(16));
		assert_int_equal(((const ECCCIPHERBLOB *)blob)->CipherLen, 16);
		/* The coordinates are right-aligned: the left halves are zero. */
		for (int i = 0; i < 32; i++)
			assert_int_equal(blob[i] | blob[64 + i], 0);
		back_len = blob_to_der(blob, &back);
		assert_true(back_len > 0);
		assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
		assert_int_equal(EVP_PKEY_decrypt(ctx, plain, &plain_len, back, (size_t)back_len),
				 1);
		assert_int_equal(plain_len, sizeof(key));
		assert_memory_equal(plain, key, sizeof(key));
		OPENSSL_free(back);
		back = NULL;
	}
	/* Too little room, a cut, trailing bytes, and other shapes fail. */
	assert_int_equal(skf_blob_cipher_from_der(der, der_len, blob, SKF_ECCCIPHERBLOB_SIZE(15)),
			 -ENOBUFS);
	assert_int_equal(skf_blob_cipher_from_der(der, der_len - 1, blob, sizeof(blob)), -EBADMSG);
	der[der_len] = 0;
	assert_int_equal(skf_blob_cipher_from_der(der, der_len + 1, blob, sizeof(blob)), -EBADMSG);
	der[0] = 0x31;
	assert_int_equal(skf_blob_cipher_from_der(der, der_len, blob, sizeof(blob)), -EBADMSG);
	assert_int_equal(skf_blob_cipher_from_der(der, 0, blob, sizeof(blob)), -EBADMSG);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(k);
}

static void test_cipher_shapes(void **state)
{
	uint8_t blob[SKF_ECCCIPHERBLOB_SIZE(64)];
	/* SEQUENCE { INTEGER 1, INTEGER -1, OCTET STRING(32 zeros), OCTET STRING 55 } */
	uint8_t der[45] = {0x30, 0x2b, 0x02, 0x01, 0x01, 0x02, 0x01, 0xff, 0x04, 0x20};

	der[42] = 0x04;
	der[43] = 0x01;
	der[44] = 0x55;
	/* A negative coordinate is refused; a positive one is right-aligned. */
	assert_int_equal(skf_blob_cipher_from_der(der, sizeof(der), blob, sizeof(blob)), -EBADMSG);
	der[7] = 0x02;
	assert_int_equal(skf_blob_cipher_from_der(der, sizeof(der), blob, sizeof(blob)),
			 SKF_ECCCIPHERBLOB_SIZE(1));
	assert_int_equal(blob[63], 1);
	assert_int_equal(blob[64 + 63], 2);
	assert_int_equal(blob[offsetof(ECCCIPHERBLOB, Cipher)], 0x55);
	/* A hash that is not 32 bytes. */
	der[9] = 0x1f;
	assert_int_equal(skf_blob_cipher_from_der(der, sizeof(der), blob, sizeof(blob)), -EBADMSG);
	/* A length past the end. */
	der[9] = 0x20;
	der[1] = 0x7f;
	assert_int_equal(skf_blob_cipher_from_der(der, sizeof(der), blob, sizeof(blob)), -EBADMSG);
	der[1] = 0x84; /* four length bytes that are not there */
	assert_int_equal(skf_blob_cipher_from_der(der, 4, blob, sizeof(blob)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_point),      cmocka_unit_test(test_rsa_modulus),
		cmocka_unit_test(test_signature_der), cmocka_unit_test(test_cipher_round_trip),
		cmocka_unit_test(test_cipher_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
