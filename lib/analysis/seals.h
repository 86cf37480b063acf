/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Electronic seals (电子印章, SESeal): GM/T 0031-2014 (v1), GB/T 38540-2020
 * (v4) and its revision with a time stamp (v5), parsed with OpenSSL's ASN.1
 * templates and checked in the standard's order: format, maker signature,
 * maker certificate at the seal's creation, validity now, binding to the
 * token's certificate. Pure: bytes, certificates and a clock in, facts out.
 * shared/reference/seal-format.md has the layouts.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ukey/ukey.h"

struct seal_signer {
	bool is_digest;	  /* certListType 2: a digest of the certificate */
	char *digest_alg; /* for digests: as written ("sm3", "sha1", ...) */
	uint8_t *value;	  /* the certificate's DER, or its digest */
	size_t value_len;
};

struct seal_info {
	int layout;	     /* 1, 4 or 5 */
	long header_version; /* as written; real v1 seals carry odd ones */
	char *vendor;	     /* header Vid */
	char *esid;
	long property_type;
	char *name;
	int64_t create_date, valid_from, valid_to;
	char *picture_type; /* lower case: "png", "jpg", "gif", "bmp", "ofd", ... */
	uint8_t *picture;
	size_t picture_len;
	long picture_width, picture_height; /* millimetres */
	struct seal_signer *signers;
	size_t n_signers;
	enum ukey_seal_kind kind;
	/* The clock-free part of the check, done once when parsed. */
	bool signature_ok;
	bool maker_valid_at_creation;
};

/* Parses and verifies bytes as a seal. Returns 0, -EBADMSG when they are
 * not an SESeal of any layout (then they are no seal at all), or -ENOMEM. */
int seal_parse(const uint8_t *der, size_t len, struct seal_info **ret_seal);
void seal_info_free(struct seal_info *s);

/* The status as of now. certs are the token's certificates (DER), for
 * the binding (none: the seal binds to nothing); certs NULL skips that
 * step (a seal file checked offline). */
enum ukey_seal_status seal_status(const struct seal_info *s, const uint8_t *const *certs,
				  const size_t *cert_lens, size_t n_certs, int64_t now);
