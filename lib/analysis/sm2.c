/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sm2.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <string.h>

/* An EC key on the SM2 curve rebuilt as an SM2 key: a new reference, or
 * NULL. */
static EVP_PKEY *sm2_from_ec(EVP_PKEY *pk)
{
	unsigned char point[65];
	size_t len = 0;
	OSSL_PARAM_BLD *b = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *r = NULL;

	if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
					    sizeof(point), &len) &&
	    (b = OSSL_PARAM_BLD_new()) &&
	    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point, len) &&
	    (params = OSSL_PARAM_BLD_to_param(b)) &&
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL)) &&
	    EVP_PKEY_fromdata_init(ctx) == 1)
		(void)EVP_PKEY_fromdata(ctx, &r, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	return r;
}

EVP_PKEY *sm2_public_key(EVP_PKEY *pk)
{
	char group[32];

	if (!pk)
		return NULL;
	if (EVP_PKEY_is_a(pk, "SM2"))
		return EVP_PKEY_up_ref(pk) ? pk : NULL;
	if (!EVP_PKEY_is_a(pk, "EC") || !EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) ||
	    strcmp(group, "SM2") != 0)
		return NULL;
	return sm2_from_ec(pk);
}

/* The SM2 curve's a, b, xG and yG, 32 bytes each, as Z hashes them. */
static bool sm2_curve(uint8_t out[4 * 32])
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_sm2);
	BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new(), *x = BN_new(), *y = BN_new();
	bool ok = g && p && a && b && x && y && EC_GROUP_get_curve(g, p, a, b, NULL) == 1 &&
		  EC_POINT_get_affine_coordinates(g, EC_GROUP_get0_generator(g), x, y, NULL) == 1 &&
		  BN_bn2binpad(a, out, 32) == 32 && BN_bn2binpad(b, out + 32, 32) == 32 &&
		  BN_bn2binpad(x, out + 64, 32) == 32 && BN_bn2binpad(y, out + 96, 32) == 32;

	BN_free(p);
	BN_free(a);
	BN_free(b);
	BN_free(x);
	BN_free(y);
	EC_GROUP_free(g);
	return ok;
}

bool sm2_digest(EVP_PKEY *pub, const uint8_t *msg, size_t len, uint8_t e[32])
{
	static const char id[] = SM2_DEFAULT_ID;
	const uint8_t entl[2] = {0, (sizeof(id) - 1) * 8};
	unsigned char point[65], z[32], curve[4 * 32];
	size_t point_len = 0;
	unsigned int n = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok;

	ok = md && sm2_curve(curve) &&
	     EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
					     sizeof(point), &point_len) &&
	     point_len == sizeof(point) && point[0] == 0x04 &&
	     EVP_DigestInit_ex(md, EVP_sm3(), NULL) == 1 &&
	     EVP_DigestUpdate(md, entl, sizeof(entl)) == 1 &&
	     EVP_DigestUpdate(md, id, sizeof(id) - 1) == 1 &&
	     EVP_DigestUpdate(md, curve, sizeof(curve)) == 1 &&
	     EVP_DigestUpdate(md, point + 1, 64) == 1 && EVP_DigestFinal_ex(md, z, &n) == 1 &&
	     n == 32 && EVP_DigestInit_ex(md, EVP_sm3(), NULL) == 1 &&
	     EVP_DigestUpdate(md, z, sizeof(z)) == 1 && EVP_DigestUpdate(md, msg, len) == 1 &&
	     EVP_DigestFinal_ex(md, e, &n) == 1 && n == 32;
	EVP_MD_CTX_free(md);
	return ok;
}

/* A signature as DER ECDSA-Sig-Value (to free), from DER or from r || s,
 * as PKCS#11 returns ECDSA signatures; NULL if it is neither. */
unsigned char *sm2_signature_der(const uint8_t *sig, size_t len, size_t *ret_len)
{
	const unsigned char *p = sig;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
	unsigned char *der = NULL;
	int n;

	if (!s || p != sig + len) {
		ECDSA_SIG_free(s);
		s = NULL;
		if (len == 0 || len % 2 != 0 || len > 2 * 66 || !(s = ECDSA_SIG_new()) ||
		    !ECDSA_SIG_set0(s, BN_bin2bn(sig, (int)len / 2, NULL),
				    BN_bin2bn(sig + len / 2, (int)len / 2, NULL))) {
			ECDSA_SIG_free(s);
			return NULL;
		}
	}
	n = i2d_ECDSA_SIG(s, &der);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return NULL;
	*ret_len = (size_t)n;
	return der;
}

/* OpenSSL's verdict on an SM2 signature of msg (SM3, the default ID). */
bool sm2_verify(EVP_PKEY *sm2, const unsigned char *der, size_t der_len, const uint8_t *msg,
		size_t len)
{
	static const char id[] = SM2_DEFAULT_ID;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok = md && EVP_DigestVerifyInit_ex(md, &pctx, "SM3", NULL, NULL, sm2, NULL) == 1 &&
		  EVP_PKEY_CTX_set1_id(pctx, id, sizeof(id) - 1) == 1 &&
		  EVP_DigestVerify(md, der, der_len, msg, len) == 1;

	EVP_MD_CTX_free(md);
	return ok;
}
