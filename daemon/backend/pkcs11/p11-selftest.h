/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check --full on a PKCS#11 token: its keys used for real, through libp11's
 * OpenSSL keys, and the results checked by OpenSSL alone against the
 * certificates. */
#pragma once

#include <libp11.h>

struct selftest_job;

/* Runs in a session logged in as the user: a signature verified against
 * the signing certificate; a decryption (RSA) or key agreement (EC) with
 * the encryption key. Fills sign_ok and decrypt_ok. */
void p11_selftest_run(struct selftest_job *j, PKCS11_SLOT *slot);
