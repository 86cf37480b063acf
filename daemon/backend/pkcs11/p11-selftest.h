/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check --full on a PKCS#11 token: its keys used for real, through libp11's
 * OpenSSL keys (RSA, EC) or the module's own function list (SM2), and the
 * results checked by OpenSSL alone against the certificates. */
#pragma once

#include <libp11.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct p11_module;
struct selftest_job;

/* Runs in a session logged in as the user: a signature verified against
 * the signing certificate; a decryption (RSA) or key agreement (EC) with
 * the encryption key. SM2 keys: a signature through the module's function
 * list (CKM_ECDSA over SM3(Z || M)), verified as SM2 with the default ID,
 * and no decryption (the key is only looked for). Fills sign_ok and
 * decrypt_ok. */
void p11_selftest_run(struct p11_module *m, struct selftest_job *j, PKCS11_SLOT *slot);

/* What a token's CKM_ECDSA signature of e = SM3(Z || msg) shows, with pub
 * the certificate's key and sig r || s (as PKCS#11 returns it) or DER:
 * 1 an SM2 signature by the key (of msg, or of e for a token that hashes
 * what it is given with Z again), verified with SM3 and the default ID;
 * -1 a plain ECDSA signature of e by the key (the key is the token's, but
 * it does not sign SM2 with that mechanism: nothing to say of SM2);
 * 0 neither. */
int p11_selftest_sm2_verdict(EVP_PKEY *pub, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
			     size_t sig_len);
