/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-selftest.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#include "job.h"
#include "log.h"
#include "p11-module.h"
#include "secret.h"
#include "sm2.h"

/* The signer ID of GM/T 0009 that SM2 signatures are made with unless
 * agreed otherwise (OpenSSL 3.0's own default is empty). */

static X509 *cert_of(const struct test_cert *c)
{
	const unsigned char *p = c->der;

	return c->der ? d2i_X509(NULL, &p, (long)c->der_len) : NULL;
}

/* Whether der is a plain ECDSA signature of e by sm2's point, worked out
 * by hand: OpenSSL 3.0 keeps the SM2 curve to SM2 keys, which verify SM2
 * only (its EC keys refuse the curve on import). */
static bool ecdsa_verify(EVP_PKEY *sm2, const unsigned char *der, size_t der_len,
			 const uint8_t e[32])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_sm2);
	EC_POINT *q = g ? EC_POINT_new(g) : NULL, *x = g ? EC_POINT_new(g) : NULL;
	BN_CTX *bn = BN_CTX_new();
	BIGNUM *w, *u1, *u2, *v, *z;
	const BIGNUM *r, *s, *n;
	unsigned char point[65];
	size_t len = 0;
	bool ok = false;

	if (!sig || !g || !q || !x || !bn)
		goto out;
	BN_CTX_start(bn);
	w = BN_CTX_get(bn);
	u1 = BN_CTX_get(bn);
	u2 = BN_CTX_get(bn);
	v = BN_CTX_get(bn);
	z = BN_CTX_get(bn);
	ECDSA_SIG_get0(sig, &r, &s);
	n = EC_GROUP_get0_order(g);
	/* The order has 256 bits: e is taken whole. */
	ok = z && n &&
	     EVP_PKEY_get_octet_string_param(sm2, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
					     sizeof(point), &len) &&
	     EC_POINT_oct2point(g, q, point, len, bn) == 1 && !BN_is_zero(r) &&
	     !BN_is_negative(r) && BN_cmp(r, n) < 0 && !BN_is_zero(s) && !BN_is_negative(s) &&
	     BN_cmp(s, n) < 0 && BN_bin2bn(e, 32, z) && BN_mod_inverse(w, s, n, bn) &&
	     BN_mod_mul(u1, z, w, n, bn) == 1 && BN_mod_mul(u2, r, w, n, bn) == 1 &&
	     EC_POINT_mul(g, x, u1, q, u2, bn) == 1 && !EC_POINT_is_at_infinity(g, x) &&
	     EC_POINT_get_affine_coordinates(g, x, v, NULL, bn) == 1 &&
	     BN_nnmod(v, v, n, bn) == 1 && BN_cmp(v, r) == 0;
	BN_CTX_end(bn);
out:
	BN_CTX_free(bn);
	EC_POINT_free(x);
	EC_POINT_free(q);
	EC_GROUP_free(g);
	ECDSA_SIG_free(sig);
	return ok;
}

int p11_selftest_sm2_verdict(EVP_PKEY *pub, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
			     size_t sig_len)
{
	EVP_PKEY *sm2 = sm2_public_key(pub);
	unsigned char *der = NULL;
	size_t der_len = 0;
	uint8_t e[32];
	int verdict = 0;

	if (sm2 && sm2_digest(sm2, msg, msg_len, e) &&
	    (der = sm2_signature_der(sig, sig_len, &der_len))) {
		if (sm2_verify(sm2, der, der_len, msg, msg_len) ||
		    sm2_verify(sm2, der, der_len, e, sizeof(e)))
			verdict = 1;
		else if (ecdsa_verify(sm2, der, der_len, e))
			verdict = -1;
	}
	OPENSSL_free(der);
	EVP_PKEY_free(sm2);
	ERR_clear_error();
	return verdict;
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
 * certificate. 1 passed, 0 failed, -1 no key to test. RSA and EC (not SM2:
 * OpenSSL 3.0 takes libp11's SM2 keys for its own and signs in software). */
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
		return -1; /* no decryption test for this key type */
	}
	EVP_PKEY_CTX_free(enc);
	EVP_PKEY_CTX_free(dec);
	EVP_PKEY_free(eph);
	return ok;
}

/*
 * SM2 keys, through the module's own function list: libp11 0.4.12 skips
 * key types it does not know (vendors' own SM2 types), and OpenSSL 3.0
 * hands its EC keys on the SM2 curve to its own provider, which signs in
 * software with no key. The session shares libp11's login (PKCS#11 logs
 * an application in, not a session).
 */

/* The private key object with the certificate's CKA_ID, or
 * CK_INVALID_HANDLE when the token has none. */
static CK_RV find_private_key(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s,
			      const struct test_cert *c, CK_OBJECT_HANDLE *ret)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, c->id, c->id_len}};
	CK_ULONG n = 0;
	CK_RV rv;

	*ret = CK_INVALID_HANDLE;
	if (!c->id)
		return CKR_OK;
	rv = fl->C_FindObjectsInit(s, tmpl, 2);
	if (rv != CKR_OK)
		return rv;
	rv = fl->C_FindObjects(s, ret, 1, &n);
	fl->C_FindObjectsFinal(s);
	if (rv != CKR_OK || n != 1)
		*ret = CK_INVALID_HANDLE;
	return rv;
}

/* Mechanisms or keys this token will not use as asked: nothing was
 * tested, nothing failed. */
static bool not_supported(CK_RV rv)
{
	return rv == CKR_MECHANISM_INVALID || rv == CKR_MECHANISM_PARAM_INVALID ||
	       rv == CKR_KEY_TYPE_INCONSISTENT || rv == CKR_FUNCTION_NOT_SUPPORTED;
}

/*
 * The token signs e = SM3(Z || M) (what an SM2 signature signs, with the
 * default ID) with CKM_ECDSA, the one mechanism PKCS#11 defines for an EC
 * key on any curve, which modules showing SM2 keys as CKK_EC use for SM2;
 * OpenSSL verifies the result as an SM2 signature of M. 1 passed, 0
 * failed (no key, a refused or wrong signature), -1 not tested (a key of a
 * vendor's own type, whose mechanisms are the vendor's; no CKM_ECDSA; a
 * token that signs plain ECDSA with it).
 */
static int sm2_sign_test(struct p11_module *m, struct selftest_job *j, EVP_PKEY *pub)
{
	CK_FUNCTION_LIST_PTR fl = m->fl;
	CK_SLOT_ID slot = j->job.place.index;
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	CK_MECHANISM_INFO info;
	CK_KEY_TYPE type = CKK_EC;
	CK_BBOOL always_auth = CK_FALSE;
	CK_ATTRIBUTE type_attr = {CKA_KEY_TYPE, &type, sizeof(type)};
	CK_ATTRIBUTE auth_attr = {CKA_ALWAYS_AUTHENTICATE, &always_auth, sizeof(always_auth)};
	uint8_t msg[32], e[32], sig[256];
	CK_ULONG sig_len = sizeof(sig);
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_RV rv;
	int ok = 0;

	rv = fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK) {
		log_warning("%s: token %s: the SM2 signing test failed: CK_RV 0x%lx", m->path,
			    j->job.serial, (unsigned long)rv);
		return 0;
	}
	rv = find_private_key(fl, s, &j->sign_cert, &key);
	if (rv != CKR_OK)
		log_warning("%s: token %s: the SM2 signing test failed: CK_RV 0x%lx", m->path,
			    j->job.serial, (unsigned long)rv);
	if (rv != CKR_OK || key == CK_INVALID_HANDLE)
		goto out; /* no key: failed, as for RSA and EC */
	if (fl->C_GetAttributeValue(s, key, &type_attr, 1) != CKR_OK ||
	    type_attr.ulValueLen != sizeof(type) || type != CKK_EC) {
		log_info("%s: token %s: its SM2 key is of the vendor's own type: not tested",
			 m->path, j->job.serial);
		ok = -1;
		goto out;
	}
	rv = fl->C_GetMechanismInfo(slot, CKM_ECDSA, &info);
	if (rv != CKR_OK || !(info.flags & CKF_SIGN)) {
		log_info("%s: token %s: no CKM_ECDSA for its SM2 key: not tested", m->path,
			 j->job.serial);
		ok = -1;
		goto out;
	}
	if (RAND_bytes(msg, sizeof(msg)) != 1 || !sm2_digest(pub, msg, sizeof(msg), e))
		goto out;
	/* A key that wants the PIN again for each use (PKCS#11 2.20; older
	 * modules lack the attribute) gets the one that just logged in. */
	if (fl->C_GetAttributeValue(s, key, &auth_attr, 1) != CKR_OK ||
	    auth_attr.ulValueLen != sizeof(always_auth))
		always_auth = CK_FALSE;
	rv = fl->C_SignInit(s, &mech, key);
	if (rv == CKR_OK && always_auth)
		rv = fl->C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)j->job.pin->data,
				 j->job.pin->len);
	if (rv == CKR_OK)
		rv = fl->C_Sign(s, e, sizeof(e), sig, &sig_len);
	if (not_supported(rv)) {
		log_info("%s: token %s: CKM_ECDSA refused for its SM2 key (CK_RV 0x%lx): not "
			 "tested",
			 m->path, j->job.serial, (unsigned long)rv);
		ok = -1;
	} else if (rv != CKR_OK) {
		log_warning("%s: token %s: the SM2 signing test failed: CK_RV 0x%lx", m->path,
			    j->job.serial, (unsigned long)rv);
	} else {
		ok = p11_selftest_sm2_verdict(pub, msg, sizeof(msg), sig, sig_len);
		if (ok < 0)
			log_info("%s: token %s: signs plain ECDSA, not SM2, with its SM2 key: "
				 "the SM2 signature is not tested",
				 m->path, j->job.serial);
	}
out:
	fl->C_CloseSession(s);
	return ok;
}

/* No SM2 decryption over PKCS#11 but the vendors' own: the key is only
 * looked for. 0 when there is none, else -1 (not tested). */
static int sm2_decrypt_test(struct p11_module *m, struct selftest_job *j)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;

	if (m->fl->C_OpenSession(j->job.place.index, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		return 0;
	(void)find_private_key(m->fl, s, &j->enc_cert, &key);
	m->fl->C_CloseSession(s);
	return key == CK_INVALID_HANDLE ? 0 : -1;
}

void p11_selftest_run(struct p11_module *m, struct selftest_job *j, PKCS11_SLOT *slot)
{
	PKCS11_KEY *keys = NULL;
	unsigned n = 0;
	X509 *sc = cert_of(&j->sign_cert), *ec = cert_of(&j->enc_cert);
	EVP_PKEY *ssm2 = sm2_public_key(sc ? X509_get0_pubkey(sc) : NULL);
	EVP_PKEY *esm2 = sm2_public_key(ec ? X509_get0_pubkey(ec) : NULL);
	EVP_PKEY *sk = NULL, *ek = NULL;

	j->sign_ok = j->decrypt_ok = -1;
	if (PKCS11_enumerate_keys(slot->token, &keys, &n) < 0)
		n = 0;
	if (ssm2) {
		j->sign_ok = sm2_sign_test(m, j, ssm2);
	} else {
		sk = key_for(keys, n, &j->sign_cert);
		j->sign_ok = sign_test(sk, sc);
		/* A certificate whose key the token lacks (libp11 knows RSA
		 * and EC keys) failed. */
		if (j->sign_cert.der && !sk)
			j->sign_ok = 0;
	}
	if (esm2) {
		j->decrypt_ok = sm2_decrypt_test(m, j);
	} else {
		ek = key_for(keys, n, &j->enc_cert);
		j->decrypt_ok = decrypt_test(ek, ec);
		if (j->enc_cert.der && !ek)
			j->decrypt_ok = 0;
	}
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ek);
	EVP_PKEY_free(ssm2);
	EVP_PKEY_free(esm2);
	X509_free(sc);
	X509_free(ec);
	ERR_clear_error();
}
