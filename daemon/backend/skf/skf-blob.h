/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SKF's binary structures to and from what OpenSSL and the analysis speak,
 * as pure functions over untrusted bytes (fuzzed: tests/fuzz/fuzz-skf-blob.c):
 *  - a public key blob from a library, into the EC point (04 || X || Y)
 *    or RSA modulus the certificate pairing compares;
 *  - a signature blob from a library (r, s right-aligned in 64-byte
 *    fields), into a DER ECDSA-Sig-Value for OpenSSL to verify;
 *  - OpenSSL's SM2 ciphertext (DER, GM/T 0009: SEQUENCE { INTEGER x,
 *    INTEGER y, OCTET STRING C3, OCTET STRING C2 }), into the
 *    ECCCIPHERBLOB (C1 C3 C2) SKF_ImportSessionKey takes.
 * Nothing is read past a length given; every output is bounded.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "skf-abi.h"

/* Room for the longest EC point of an ECCPUBLICKEYBLOB: 04, X and Y of
 * 64 bytes each. */
#define SKF_EC_POINT_MAX 129

/* The point of an ECC public key blob of len bytes: BitLen (1 to 512)
 * gives each coordinate's length, right-aligned in its 64-byte field with
 * zeros before it. Returns the point's length, or -EBADMSG. */
ssize_t skf_blob_ec_point(const uint8_t *blob, size_t len, uint8_t out[SKF_EC_POINT_MAX]);

/* The modulus of an RSA public key blob of len bytes (BitLen / 8 bytes,
 * right-aligned in Modulus), pointing into blob. Returns 0 or -EBADMSG. */
int skf_blob_rsa_modulus(const uint8_t *blob, size_t len, const uint8_t **ret, size_t *ret_len);

/* Room for the DER of a signature blob's r and s (each up to 64 bytes and
 * a leading zero). */
#define SKF_SIGNATURE_DER_MAX 140

/* A signature blob of len bytes as a DER ECDSA-Sig-Value. Returns its
 * length, or -EBADMSG (a short blob, r or s zero). */
ssize_t skf_blob_signature_der(const uint8_t *blob, size_t len, uint8_t out[SKF_SIGNATURE_DER_MAX]);

/* OpenSSL's DER SM2 ciphertext as an ECCCIPHERBLOB in out (out_size
 * bytes): C1's coordinates right-aligned in their 64-byte fields, the
 * 32-byte C3, CipherLen and C2. Returns the blob's size
 * (SKF_ECCCIPHERBLOB_SIZE(C2's length)), -EBADMSG when der is no such
 * ciphertext, or -ENOBUFS. */
ssize_t skf_blob_cipher_from_der(const uint8_t *der, size_t len, uint8_t *out, size_t out_size);
