/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a certificate on a token says, read with OpenSSL: names in UTF-8,
 * serial, validity, key type and size, usages, the CA (through the CA
 * profiles), whether the token holds the key pair, and the holder's
 * identity. Pure: bytes and a clock in, facts out.
 */
#pragma once

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "holder-id.h"
#include "ukey/ukey.h"

struct ca_profile;
struct ca_profiles;

enum cert_key_type { CERT_KEY_UNKNOWN, CERT_KEY_RSA, CERT_KEY_EC, CERT_KEY_SM2 };

/* A key object as a token shows it without login (usually public keys
 * only, since tokens hide private objects until login), for pairing
 * certificates with their keys. */
struct token_key {
	bool is_private;
	uint8_t *id; /* CKA_ID */
	size_t id_len;
	uint8_t *modulus; /* RSA: CKA_MODULUS */
	size_t modulus_len;
	uint8_t *ec_point; /* EC public key: CKA_EC_POINT */
	size_t ec_point_len;
};

struct cert_info {
	char *subject, *issuer; /* one line, certificate order, UTF-8 */
	char *serial;		/* lower-case hex */
	char *issuer_der;	/* hex of the issuer Name's DER: with serial, what CMS names */
	char *skid;		/* subject key identifier, hex, or NULL */
	int64_t not_before, not_after; /* Unix time */
	enum cert_key_type key_type;
	int key_bits;
	bool has_key_usage;
	uint32_t key_usage;   /* OpenSSL KU_* bits */
	char **ext_key_usage; /* short names, or dotted OIDs */
	size_t n_ext_key_usage;
	enum ukey_cert_usage usage;
	enum ukey_key_pair key_pair;
	bool has_private_key; /* key_pair is present */
	const struct ca_profile *ca;
	/* The holder as this certificate names it. */
	char *subject_o, *subject_cn;		  /* first O and CN, or NULL */
	char credit_code[CREDIT_CODE_LEN + 1];	  /* "" when none is valid */
	char person_id_masked[PERSON_ID_LEN + 1]; /* "" when none is valid */
};

/* Analyzes one certificate. id is its CKA_ID and keys the token's key
 * objects, for the pairing (both may be empty): present when one of them
 * is its pair; absent when the token shows its private keys, or a key
 * under that ID that is another one; else unknown (private keys hidden). Returns 0, -EBADMSG when
 * der is not exactly one X.509 certificate, or -ENOMEM. */
int cert_analyze(const uint8_t *der, size_t len, const uint8_t *id, size_t id_len,
		 const struct ca_profiles *profiles, const struct token_key *keys, size_t n_keys,
		 struct cert_info **ret_info);
void cert_info_free(struct cert_info *info);

/* Whole days until not_after, rounded down: 0 on the last day, negative
 * once expired. */
int64_t cert_days_left(const struct cert_info *info, int64_t now);

/* An X.509/ASN.1 time as Unix seconds; 0 when absent or unreadable. */
int64_t cert_time_to_unix(const ASN1_TIME *t);
enum ukey_cert_expiry cert_expiry_state(const struct cert_info *info, int64_t now);
/* The first moment after now at which days_left or the expiry state
 * changes, so answers computed from a clock can be cached until then. */
int64_t cert_next_change(const struct cert_info *info, int64_t now);

const char *cert_key_type_name(enum cert_key_type k);

struct holder {
	enum ukey_holder_kind kind;
	const char *name; /* borrowed from a cert_info */
	const char *credit_code;
	const char *person_id_masked;
	const struct ca_profile *ca;
};

/* The token's holder, from its certificates: the signing certificate
 * whose key the token holds names it; a credit code found in any of them
 * makes it a unit. infos may contain NULLs (unreadable certificates). */
void holder_from_certs(const struct cert_info *const *infos, size_t n, struct holder *ret);
