/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check --full on an SKF token (SM2), logged in on app:
 *  - a signature: e = SM3(Z || M) for a random M, Z from the signing
 *    certificate's key and the default ID 1234567812345678, signed by
 *    SKF_ECCSignData in the certificate's container, verified by OpenSSL
 *    against the certificate (which computes Z itself);
 *  - the encryption key, by unwrapping: OpenSSL wraps a random SM4 key to
 *    the encryption certificate (SM2 encryption), the token imports it
 *    (SKF_ImportSessionKey) and decrypts a block OpenSSL encrypted with it.
 * Keys other than SM2 are not tested (-1).
 */
#pragma once

#include "skf-abi.h"

struct selftest_job;
struct skf_dev;
struct skf_lib;

void skf_selftest_run(struct skf_lib *l, struct skf_dev *d, HAPPLICATION app,
		      struct selftest_job *j);
