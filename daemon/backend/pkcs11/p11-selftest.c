/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-selftest.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#include "job.h"

static X509 *cert_of(const struct test_cert *c)
{
	const unsigned char *p = c->der;

	return c->der ? d2i_X509(NULL, &p, (long)c->der_len) : NULL;
}

/* The private key with the certificate's CKA_ID, as OpenSSL sees it
 * through libp11 (operations then run on the token). */
static EVP_PKEY *key_for(PKCS11_KEY *keys, unsigned n, const struct test_cert *c)
{
	for (unsigned i = 0; c->id && i < n; i++)
		if (keys[i].isPrivate && keys[i].id_len == c->id_len &&
		    memcmp(keys[i].id, c->id, c->id_len) == 0)
			return PKCS11_get_private_key(&keys[i]);
	return NULL;
}

/* Signs random data with the token's key; OpenSSL verifies it against the
 * certificate. 1 passed, 0 failed, -1 no key to test. */
static int sign_test(EVP_PKEY *key, X509 *cert)
{
	unsigned char data[32], sig[1024];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md;
	int ok = 0;

	if (!key || !cert)
		return -1;
	md = EVP_MD_CTX_new();
	if (md && RAND_bytes(data, sizeof(data)) == 1 &&
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, &sig_len, data, sizeof(data)) == 1) {
		EVP_MD_CTX_reset(md);
		ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)) ==
			     1 &&
		     EVP_DigestVerify(md, sig, sig_len, data, sizeof(data)) == 1;
	}
	EVP_MD_CTX_free(md);
	return ok;
}

/* RSA: OpenSSL encrypts to the certificate, the token decrypts. EC: ECDH
 * between a fresh key and the certificate, agreed by the token too. */
static int decrypt_test(EVP_PKEY *key, X509 *cert)
{
	EVP_PKEY *pub = cert ? X509_get0_pubkey(cert) : NULL, *eph = NULL;
	EVP_PKEY_CTX *enc = NULL, *dec = NULL;
	unsigned char secret[32], ct[1024], pt[1024], a[256], b[256];
	size_t ct_len = sizeof(ct), pt_len = sizeof(pt), a_len = sizeof(a), b_len = sizeof(b);
	char group[64];
	int ok = 0;

	if (!key || !pub)
		return -1;
	if (EVP_PKEY_is_a(pub, "RSA")) {
		enc = EVP_PKEY_CTX_new(pub, NULL);
		dec = EVP_PKEY_CTX_new(key, NULL);
		ok = enc && dec && RAND_bytes(secret, sizeof(secret)) == 1 &&
		     EVP_PKEY_encrypt_init(enc) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(enc, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_encrypt(enc, ct, &ct_len, secret, sizeof(secret)) == 1 &&
		     EVP_PKEY_decrypt_init(dec) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(dec, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_decrypt(dec, pt, &pt_len, ct, ct_len) == 1 &&
		     pt_len == sizeof(secret) && memcmp(pt, secret, pt_len) == 0;
	} else if (EVP_PKEY_is_a(pub, "EC") &&
		   EVP_PKEY_get_group_name(pub, group, sizeof(group), NULL) &&
		   (eph = EVP_EC_gen(group))) {
		enc = EVP_PKEY_CTX_new(eph, NULL);
		dec = EVP_PKEY_CTX_new(key, NULL);
		ok = enc && dec && EVP_PKEY_derive_init(enc) == 1 &&
		     EVP_PKEY_derive_set_peer(enc, pub) == 1 &&
		     EVP_PKEY_derive(enc, a, &a_len) == 1 && EVP_PKEY_derive_init(dec) == 1 &&
		     EVP_PKEY_derive_set_peer(dec, eph) == 1 &&
		     EVP_PKEY_derive(dec, b, &b_len) == 1 && a_len == b_len &&
		     memcmp(a, b, a_len) == 0;
	} else {
		return -1; /* no decryption test for this key type (SM2) */
	}
	EVP_PKEY_CTX_free(enc);
	EVP_PKEY_CTX_free(dec);
	EVP_PKEY_free(eph);
	return ok;
}

void p11_selftest_run(struct selftest_job *j, PKCS11_SLOT *slot)
{
	PKCS11_KEY *keys = NULL;
	unsigned n = 0;
	X509 *sc = cert_of(&j->sign_cert), *ec = cert_of(&j->enc_cert);
	EVP_PKEY *sk, *ek;

	j->sign_ok = j->decrypt_ok = -1;
	if (PKCS11_enumerate_keys(slot->token, &keys, &n) < 0)
		n = 0;
	sk = key_for(keys, n, &j->sign_cert);
	ek = key_for(keys, n, &j->enc_cert);
	j->sign_ok = sign_test(sk, sc);
	j->decrypt_ok = decrypt_test(ek, ec);
	/* A key that exists but whose operations the token refuses failed. */
	if (j->sign_cert.der && !sk)
		j->sign_ok = 0;
	if (j->enc_cert.der && !ek)
		j->decrypt_ok = 0;
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ek);
	X509_free(sc);
	X509_free(ec);
	ERR_clear_error();
}
