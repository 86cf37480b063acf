/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "skf-selftest.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "log.h"
#include "skf-blob.h"
#include "skf-lib.h"
#include "sm2.h"
#include "util.h"

static X509 *cert_of(const struct test_cert *c)
{
	const unsigned char *p = c->der;

	return c->der ? d2i_X509(NULL, &p, (long)c->der_len) : NULL;
}

/* The container the certificate's id names, opened on app. */
static ULONG open_container(struct skf_lib *l, HAPPLICATION app, const struct test_cert *c,
			    HCONTAINER *ret)
{
	char name[257];
	HCONTAINER h = NULL;
	ULONG rv;

	if (!c->id || c->id_len == 0 || c->id_len >= sizeof(name))
		return SAR_INVALIDPARAMERR;
	memcpy(name, c->id, c->id_len);
	name[c->id_len] = '\0';
	rv = l->fn.OpenContainer(app, name, &h);
	if (rv == SAR_OK && !h)
		rv = SAR_INVALIDHANDLEERR;
	*ret = h;
	return rv;
}

/* 1 passed, 0 failed, -1 not an SM2 key. *ret_rv: a call's failure. */
static int sign_test(struct skf_lib *l, HAPPLICATION app, const struct test_cert *c, ULONG *ret_rv)
{
	union {
		ECCSIGNATUREBLOB sig;
		uint8_t room[256];
	} u = {0};
	uint8_t msg[32], e[32], der[SKF_SIGNATURE_DER_MAX];
	X509 *x = cert_of(c);
	EVP_PKEY *pk = sm2_public_key(x ? X509_get0_pubkey(x) : NULL);
	HCONTAINER cont = NULL;
	ssize_t der_len;
	int ok = -1;

	if (!pk)
		goto out;
	ok = 0;
	if (RAND_bytes(msg, sizeof(msg)) != 1 || !sm2_digest(pk, msg, sizeof(msg), e))
		goto out;
	*ret_rv = open_container(l, app, c, &cont);
	if (*ret_rv != SAR_OK)
		goto out;
	*ret_rv = l->fn.ECCSignData(cont, e, sizeof(e), &u.sig);
	(void)l->fn.CloseContainer(cont);
	if (*ret_rv != SAR_OK)
		goto out;
	der_len = skf_blob_signature_der(u.room, sizeof(u.sig), der);
	ok = der_len > 0 && sm2_verify(pk, der, (size_t)der_len, msg, sizeof(msg));
out:
	EVP_PKEY_free(pk);
	X509_free(x);
	return ok;
}

/* data encrypted with key (SM4, CBC with iv or ECB, no padding), by
 * OpenSSL. */
static bool sm4_encrypt(const uint8_t key[16], const uint8_t iv[16], bool cbc, const uint8_t *in,
			int len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;
	bool ok = ctx &&
		  EVP_EncryptInit_ex(ctx, cbc ? EVP_sm4_cbc() : EVP_sm4_ecb(), NULL, key,
				     cbc ? iv : NULL) == 1 &&
		  EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
		  EVP_EncryptUpdate(ctx, out, &n, in, len) == 1 &&
		  EVP_EncryptFinal_ex(ctx, out + n, &m) == 1 && n + m == len;

	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* key wrapped to the certificate's SM2 key, as an ECCCIPHERBLOB. */
static ssize_t wrap_key(EVP_PKEY *pk, const uint8_t key[16], uint8_t *blob, size_t size)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	uint8_t der[512];
	size_t der_len = sizeof(der);
	ssize_t r = -1;

	if (ctx && EVP_PKEY_encrypt_init(ctx) == 1 &&
	    EVP_PKEY_encrypt(ctx, der, &der_len, key, 16) == 1)
		r = skf_blob_cipher_from_der(der, der_len, blob, size);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* 1 passed, 0 failed, -1 not an SM2 key. */
static int unwrap_test(struct skf_lib *l, const struct skf_dev *d, HAPPLICATION app,
		       const struct test_cert *c, ULONG *ret_rv)
{
	union {
		ECCCIPHERBLOB head;
		uint8_t room[SKF_ECCCIPHERBLOB_SIZE(64)];
	} blob = {0};
	uint8_t key[16], iv[16], plain[32], ct[32], out[128] = {0};
	/* Both bits of SGD_SM4_CBC: 0x400 alone is any SM4 mode, 0x2 alone
	 * any algorithm's CBC; an ECB-only device gets ECB. */
	bool cbc = (d->alg_sym_cap & SGD_SM4_CBC) == SGD_SM4_CBC;
	BLOCKCIPHERPARAM param;
	skf_out32 out_len = {.wide = 0};
	X509 *x = cert_of(c);
	EVP_PKEY *pk = sm2_public_key(x ? X509_get0_pubkey(x) : NULL);
	HCONTAINER cont = NULL;
	HANDLE hkey = NULL;
	ssize_t blob_len;
	int ok = -1;

	if (!pk)
		goto out;
	ok = 0;
	if (RAND_bytes(key, sizeof(key)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1 ||
	    RAND_bytes(plain, sizeof(plain)) != 1 ||
	    !sm4_encrypt(key, iv, cbc, plain, sizeof(plain), ct) ||
	    (blob_len = wrap_key(pk, key, blob.room, sizeof(blob.room))) <= 0)
		goto out;
	*ret_rv = open_container(l, app, c, &cont);
	if (*ret_rv != SAR_OK)
		goto out;
	*ret_rv = l->fn.ImportSessionKey(cont, cbc ? SGD_SM4_CBC : SGD_SM4_ECB, blob.room,
					 (ULONG)blob_len, &hkey);
	if (*ret_rv == SAR_OK && !hkey)
		*ret_rv = SAR_INVALIDHANDLEERR;
	if (*ret_rv == SAR_OK) {
		memset(&param, 0, sizeof(param));
		if (cbc) {
			memcpy(param.IV, iv, sizeof(iv));
			param.IVLen = sizeof(iv);
		}
		param.PaddingType = SKF_NO_PADDING;
		*ret_rv = l->fn.DecryptInit(hkey, param);
		out_len.v = sizeof(out);
		if (*ret_rv == SAR_OK)
			*ret_rv = l->fn.Decrypt(hkey, ct, sizeof(ct), out, &out_len.v);
		ok = *ret_rv == SAR_OK && out_len.v == sizeof(plain) &&
		     CRYPTO_memcmp(out, plain, sizeof(plain)) == 0;
		(void)l->fn.CloseHandle(hkey);
	}
	(void)l->fn.CloseContainer(cont);
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(out, sizeof(out));
	EVP_PKEY_free(pk);
	X509_free(x);
	return ok;
}

void skf_selftest_run(struct skf_lib *l, struct skf_dev *d, HAPPLICATION app,
		      struct selftest_job *j)
{
	ULONG sign_rv = SAR_OK, dec_rv = SAR_OK;

	j->sign_ok = j->decrypt_ok = -1;
	if (!l->selftest)
		return;
	if (j->sign_cert.der)
		j->sign_ok = sign_test(l, app, &j->sign_cert, &sign_rv);
	if (j->enc_cert.der)
		j->decrypt_ok = unwrap_test(l, d, app, &j->enc_cert, &dec_rv);
	if (sign_rv != SAR_OK)
		log_warning("%s: token %s: the signing test failed: %s", l->path, j->job.serial,
			    skf_rv_text(sign_rv));
	if (dec_rv != SAR_OK)
		log_warning("%s: token %s: the decryption test failed: %s", l->path, j->job.serial,
			    skf_rv_text(dec_rv));
	if (skf_rv_gone(sign_rv) || skf_rv_gone(dec_rv)) {
		j->job.outcome = JOB_TOKEN_REMOVED;
		j->job.rv = SAR_DEVICE_REMOVED;
	}
	ERR_clear_error();
}
