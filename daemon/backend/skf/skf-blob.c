/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "skf-blob.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define FIELD 64u /* bytes of a coordinate, r or s field */

static uint32_t le32(const uint8_t *p)
{
	/* ULONG as the library wrote it: native (little-endian) order. */
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

ssize_t skf_blob_ec_point(const uint8_t *blob, size_t len, uint8_t out[SKF_EC_POINT_MAX])
{
	const size_t x_at = offsetof(ECCPUBLICKEYBLOB, XCoordinate),
		     y_at = offsetof(ECCPUBLICKEYBLOB, YCoordinate);
	uint32_t bits;
	size_t n;

	if (!blob || len < sizeof(ECCPUBLICKEYBLOB))
		return -EBADMSG;
	bits = le32(blob + offsetof(ECCPUBLICKEYBLOB, BitLen));
	if (bits == 0 || bits > FIELD * 8)
		return -EBADMSG;
	n = (bits + 7) / 8;
	if (!all_zero(blob + x_at, FIELD - n) || !all_zero(blob + y_at, FIELD - n))
		return -EBADMSG;
	out[0] = 0x04;
	memcpy(out + 1, blob + x_at + FIELD - n, n);
	memcpy(out + 1 + n, blob + y_at + FIELD - n, n);
	return (ssize_t)(1 + 2 * n);
}

int skf_blob_rsa_modulus(const uint8_t *blob, size_t len, const uint8_t **ret, size_t *ret_len)
{
	const size_t at = offsetof(RSAPUBLICKEYBLOB, Modulus);
	uint32_t bits;
	size_t n;

	if (!blob || len < sizeof(RSAPUBLICKEYBLOB))
		return -EBADMSG;
	bits = le32(blob + offsetof(RSAPUBLICKEYBLOB, BitLen));
	n = bits / 8;
	if (bits % 8 || n == 0 || n > MAX_RSA_MODULUS_LEN ||
	    !all_zero(blob + at, MAX_RSA_MODULUS_LEN - n))
		return -EBADMSG;
	*ret = blob + at + MAX_RSA_MODULUS_LEN - n;
	*ret_len = n;
	return 0;
}

/* A DER INTEGER of the unsigned big-endian v[0..n) at out; its length. */
static size_t put_integer(const uint8_t *v, size_t n, uint8_t *out)
{
	size_t k = 0;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	out[k++] = 0x02;
	out[k++] = (uint8_t)(n + (v[0] & 0x80 ? 1 : 0));
	if (v[0] & 0x80)
		out[k++] = 0;
	memcpy(out + k, v, n);
	return k + n;
}

ssize_t skf_blob_signature_der(const uint8_t *blob, size_t len, uint8_t out[SKF_SIGNATURE_DER_MAX])
{
	uint8_t body[2 * (FIELD + 3)];
	const uint8_t *r = blob, *s = blob + FIELD;
	size_t n = 0, k = 0;

	if (!blob || len < sizeof(ECCSIGNATUREBLOB) || all_zero(r, FIELD) || all_zero(s, FIELD))
		return -EBADMSG;
	n += put_integer(r, FIELD, body + n);
	n += put_integer(s, FIELD, body + n);
	out[k++] = 0x30;
	if (n >= 0x80)
		out[k++] = 0x81;
	out[k++] = (uint8_t)n;
	memcpy(out + k, body, n);
	return (ssize_t)(k + n);
}

/* A DER element: its tag, and its contents within [p, end). */
struct der {
	uint8_t tag;
	const uint8_t *v;
	size_t len;
};

/* Reads the element at *p (before end) and moves *p past it. Definite
 * lengths of up to four bytes; false for anything else. */
static bool der_next(const uint8_t **p, const uint8_t *end, struct der *e)
{
	const uint8_t *q = *p;
	size_t len;

	if (end - q < 2)
		return false;
	e->tag = *q++;
	len = *q++;
	if (len & 0x80) {
		size_t k = len & 0x7f;

		if (k == 0 || k > 4 || (size_t)(end - q) < k)
			return false;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = (len << 8) | *q++;
	}
	if ((size_t)(end - q) < len)
		return false;
	e->v = q;
	e->len = len;
	*p = q + len;
	return true;
}

/* An INTEGER's magnitude, right-aligned in a 64-byte field. Negative
 * numbers and ones past the field are refused. */
static bool put_coordinate(const struct der *e, uint8_t *field)
{
	const uint8_t *v = e->v;
	size_t n = e->len;

	if (e->tag != 0x02 || n == 0 || (v[0] & 0x80))
		return false;
	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	if (n > FIELD)
		return false;
	memset(field, 0, FIELD);
	memcpy(field + FIELD - n, v, n);
	return true;
}

ssize_t skf_blob_cipher_from_der(const uint8_t *der, size_t len, uint8_t *out, size_t out_size)
{
	const uint8_t *p = der, *end = der + len;
	struct der seq, x, y, hash, c2;
	ECCCIPHERBLOB head;
	ULONG cipher_len;
	size_t size;

	if (!der || !der_next(&p, end, &seq) || seq.tag != 0x30 || p != end)
		return -EBADMSG;
	p = seq.v;
	end = seq.v + seq.len;
	if (!der_next(&p, end, &x) || !der_next(&p, end, &y) || !der_next(&p, end, &hash) ||
	    !der_next(&p, end, &c2) || p != end)
		return -EBADMSG;
	memset(&head, 0, sizeof(head));
	if (!put_coordinate(&x, head.XCoordinate) || !put_coordinate(&y, head.YCoordinate) ||
	    hash.tag != 0x04 || hash.len != sizeof(head.HASH) || c2.tag != 0x04 || c2.len == 0 ||
	    c2.len > 0xFFFFu)
		return -EBADMSG;
	memcpy(head.HASH, hash.v, sizeof(head.HASH));
	cipher_len = (ULONG)c2.len;
	head.CipherLen = cipher_len;
	size = SKF_ECCCIPHERBLOB_SIZE(cipher_len);
	if (!out || out_size < size)
		return -ENOBUFS;
	memcpy(out, &head, sizeof(head));
	memcpy(out + offsetof(ECCCIPHERBLOB, Cipher), c2.v, c2.len);
	return (ssize_t)size;
}
