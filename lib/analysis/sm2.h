/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SM2 (GM/T 0003, 0009) as the self-tests and the seals need it, on
 * OpenSSL 3: the key, e = SM3(Z || M), and a signature checked with SM3
 * and the default ID. Pure; any thread. */
#pragma once

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The signer ID every Chinese CA token and seal uses (GM/T 0009). */
#define SM2_DEFAULT_ID "1234567812345678"

/* pk (a certificate's key) as an SM2 key OpenSSL verifies SM2 signatures
 * with (a new reference), or NULL when it is no key on the SM2 curve.
 * OpenSSL 3.0 decodes those as "SM2", or as "EC" on the SM2 curve. */
EVP_PKEY *sm2_public_key(EVP_PKEY *pk);

/* e = SM3(Z || msg), Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA)
 * with the default ID: what a token signs for an SM2 signature of msg by
 * pub. */
bool sm2_digest(EVP_PKEY *pub, const uint8_t *msg, size_t len, uint8_t e[32]);

/* A signature as a DER ECDSA-Sig-Value (to free, its length in *ret_len),
 * from DER or from r || s (as PKCS#11, SKF and some seals carry it); NULL
 * when it is neither. */
unsigned char *sm2_signature_der(const uint8_t *sig, size_t len, size_t *ret_len);

/* OpenSSL's verdict on a DER SM2 signature of msg by sm2 (an SM2 key),
 * with SM3 and the default ID (set on the context: OpenSSL 3.0's own
 * default is empty). */
bool sm2_verify(EVP_PKEY *sm2, const unsigned char *der, size_t der_len, const uint8_t *msg,
		size_t len);
