/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SKF blobs from a library (public keys, signatures) and SM2 ciphertexts
 * to convert: whatever the bytes, nothing is read past them, nothing is
 * written past the output, and what comes out is what the input said. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/skf/skf-blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t point[SKF_EC_POINT_MAX], der[SKF_SIGNATURE_DER_MAX];
	uint8_t *copy = malloc(size ? size : 1), *blob;
	const uint8_t *m = NULL;
	size_t m_len = 0, room;
	ssize_t n;

	if (!copy)
		return 0;
	/* Exactly the input's bytes, so a read past them is caught (ASan). */
	memcpy(copy, data, size);

	n = skf_blob_ec_point(copy, size, point);
	if (n != -EBADMSG && (n < 3 || n > SKF_EC_POINT_MAX || (n - 1) % 2 || point[0] != 4))
		abort();
	if (skf_blob_rsa_modulus(copy, size, &m, &m_len) == 0 &&
	    (m_len == 0 || m_len > MAX_RSA_MODULUS_LEN || m < copy || m + m_len > copy + size))
		abort();
	n = skf_blob_signature_der(copy, size, der);
	if (n != -EBADMSG && (n < 8 || n > SKF_SIGNATURE_DER_MAX || der[0] != 0x30))
		abort();

	/* As a DER ciphertext, into a blob of just the room it needs. */
	room = SKF_ECCCIPHERBLOB_SIZE(size);
	blob = malloc(room);
	if (blob) {
		n = skf_blob_cipher_from_der(copy, size, blob, room);
		if (n >= 0) {
			ULONG len;

			memcpy(&len, blob + offsetof(ECCCIPHERBLOB, CipherLen), sizeof(len));
			if ((size_t)n != SKF_ECCCIPHERBLOB_SIZE(len) || len == 0 || len >= size)
				abort();
			/* One byte less room is refused, not overrun. */
			if (skf_blob_cipher_from_der(copy, size, blob, (size_t)n - 1) != -ENOBUFS)
				abort();
		} else if (n != -EBADMSG && n != -ENOBUFS) {
			abort();
		}
		free(blob);
	}
	free(copy);
	return 0;
}
