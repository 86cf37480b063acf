/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "certs.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca-profiles.h"
#include "text-decode.h"
#include "util.h"

#define DAY 86400

void cert_info_free(struct cert_info *c)
{
	if (!c)
		return;
	free(c->subject);
	free(c->issuer);
	free(c->serial);
	free(c->issuer_der);
	free(c->skid);
	for (size_t i = 0; i < c->n_ext_key_usage; i++)
		free(c->ext_key_usage[i]);
	free(c->ext_key_usage);
	free(c->subject_o);
	free(c->subject_cn);
	free(c);
}

/* One name entry's value in UTF-8. BMP and Universal strings are real
 * Unicode; everything else is taken as the bytes it holds, which Chinese
 * CAs fill with UTF-8 or GB18030 whatever the declared type (an IA5String
 * e-mail address holding UTF-8, say). */
static char *entry_text(const ASN1_STRING *v)
{
	int type = ASN1_STRING_type(v);

	if (type == V_ASN1_BMPSTRING || type == V_ASN1_UNIVERSALSTRING) {
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, v);
		char *r;

		if (n < 0)
			return strdup("");
		r = text_decode(utf8, (size_t)n);
		OPENSSL_free(utf8);
		return r;
	}
	return text_decode(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
}

static char *entry_key(const ASN1_OBJECT *obj)
{
	int nid = OBJ_obj2nid(obj);
	char buf[128];

	if (nid != NID_undef)
		return strdup(OBJ_nid2sn(nid));
	OBJ_obj2txt(buf, sizeof(buf), obj, 1);
	return strdup(buf);
}

/* "C=CN, O=..., CN=..." in the certificate's order. */
static char *name_text(const X509_NAME *name)
{
	size_t len = 0;
	char *out = strdup("");

	for (int i = 0; out && i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		_cleanup_free_ char *key = entry_key(X509_NAME_ENTRY_get_object(e));
		_cleanup_free_ char *val = entry_text(X509_NAME_ENTRY_get_data(e));
		size_t add;
		char *n;

		if (!key || !val) {
			free(out);
			return NULL;
		}
		add = strlen(key) + strlen(val) + 3;
		n = realloc(out, len + add + 1);
		if (!n) {
			free(out);
			return NULL;
		}
		out = n;
		len += (size_t)snprintf(out + len, add + 1, "%s%s=%s", i ? ", " : "", key, val);
	}
	return out;
}

static char *name_first(const X509_NAME *name, int nid)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);

	if (i < 0)
		return NULL;
	return entry_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
}

int64_t cert_time_to_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static char *serial_hex(const X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex, *r;

	if (!bn)
		return NULL;
	hex = BN_bn2hex(bn);
	BN_free(bn);
	if (!hex)
		return NULL;
	for (char *p = hex; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	r = strdup(hex);
	OPENSSL_free(hex);
	return r;
}

/* What an encrypted bid (CMS) names its recipient by: issuer and serial,
 * or the subject key identifier. */
static char *issuer_der_hex(X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509_NAME(X509_get_issuer_name(x), &der);
	char *hex;

	if (n <= 0)
		return NULL;
	hex = ukey_hex_encode(der, (size_t)n);
	OPENSSL_free(der);
	return hex;
}

static char *skid_hex(X509 *x)
{
	const ASN1_OCTET_STRING *id = X509_get0_subject_key_id(x);

	return id ? ukey_hex_encode(ASN1_STRING_get0_data(id), (size_t)ASN1_STRING_length(id))
		  : NULL;
}

static void read_key_type(X509 *x, struct cert_info *c)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	char group[64] = "";

	if (!pk)
		return;
	c->key_bits = EVP_PKEY_get_bits(pk);
	/* By name: OpenSSL 3 decodes SM2 keys with no legacy type id. */
	if (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS")) {
		c->key_type = CERT_KEY_RSA;
	} else if (EVP_PKEY_is_a(pk, "SM2")) {
		c->key_type = CERT_KEY_SM2;
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		/* SM2 keys may also come as id-ecPublicKey on the SM2 curve. */
		EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL);
		c->key_type = strcmp(group, "SM2") == 0 ? CERT_KEY_SM2 : CERT_KEY_EC;
	} else {
		c->key_type = CERT_KEY_UNKNOWN;
	}
}

static int read_usages(X509 *x, struct cert_info *c)
{
	const uint32_t sign = KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION;
	const uint32_t enc = KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT;
	EXTENDED_KEY_USAGE *eku;
	uint32_t ku = X509_get_key_usage(x);

	c->has_key_usage = ku != UINT32_MAX;
	c->key_usage = c->has_key_usage ? ku : 0;
	if (!c->has_key_usage)
		c->usage = UKEY_CERT_USAGE_UNKNOWN;
	else if ((ku & sign) && (ku & enc))
		c->usage = UKEY_CERT_USAGE_SIGN_ENCRYPT;
	else if (ku & sign)
		c->usage = UKEY_CERT_USAGE_SIGN;
	else if (ku & enc)
		c->usage = UKEY_CERT_USAGE_ENCRYPT;

	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	if (!eku)
		return 0;
	c->ext_key_usage = calloc((size_t)sk_ASN1_OBJECT_num(eku) + 1, sizeof(char *));
	for (int i = 0; c->ext_key_usage && i < sk_ASN1_OBJECT_num(eku); i++) {
		char *name = entry_key(sk_ASN1_OBJECT_value(eku, i));
		if (name)
			c->ext_key_usage[c->n_ext_key_usage++] = name;
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return c->ext_key_usage ? 0 : -ENOMEM;
}

/* Looks for a credit code (or, failing that, a resident ID number) in one
 * piece of text. */
static void scan_text(struct cert_info *c, const char *text, size_t len)
{
	if (!c->credit_code[0])
		credit_code_find(text, len, c->credit_code);
	if (!c->person_id_masked[0])
		person_id_find_masked(text, len, c->person_id_masked);
}

/* Chinese CAs put the holder's numbers anywhere: glued to O, in
 * serialNumber, OU or CN, or in private extensions (GM/T 0015 OIDs under
 * 1.2.156.10260.4, legacy 1.2.86.11.7.x, even 1.2.5.29.1). Every subject
 * entry and every extension OpenSSL does not know is searched; only a
 * number whose check digit is right counts. */
static void find_holder_numbers(X509 *x, struct cert_info *c)
{
	static const int preferred[] = {NID_organizationName, NID_serialNumber,
					NID_organizationalUnitName, NID_commonName};
	const X509_NAME *subject = X509_get_subject_name(x);

	for (size_t k = 0; k < ARRAY_SIZE(preferred); k++)
		for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, preferred[k], i)) >= 0;) {
			_cleanup_free_ char *t = entry_text(
				X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
			if (t)
				scan_text(c, t, strlen(t));
		}
	for (int i = 0; i < X509_NAME_entry_count(subject); i++) {
		_cleanup_free_ char *t =
			entry_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
		if (t)
			scan_text(c, t, strlen(t));
	}
	for (int i = 0; i < X509_get_ext_count(x); i++) {
		X509_EXTENSION *ext = X509_get_ext(x, i);
		const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
		const unsigned char *p = ASN1_STRING_get0_data(v);
		ASN1_TYPE *inner;

		if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_undef)
			continue;
		/* Usually a DER string inside the extension; else raw text. */
		inner = d2i_ASN1_TYPE(NULL, &p, ASN1_STRING_length(v));
		if (inner && inner->type != V_ASN1_SEQUENCE && inner->type != V_ASN1_SET &&
		    inner->type != V_ASN1_OBJECT && inner->type != V_ASN1_BOOLEAN &&
		    inner->type != V_ASN1_NULL && inner->type != V_ASN1_INTEGER) {
			_cleanup_free_ char *t = entry_text(inner->value.asn1_string);
			if (t)
				scan_text(c, t, strlen(t));
		} else {
			scan_text(c, (const char *)ASN1_STRING_get0_data(v),
				  (size_t)ASN1_STRING_length(v));
		}
		ASN1_TYPE_free(inner);
	}
	/* A unit's certificate may carry its legal representative's ID; the
	 * credit code is what names the holder then. */
	if (c->credit_code[0])
		c->person_id_masked[0] = '\0';
}

/* CKA_EC_POINT is a DER OCTET STRING around the point, though some
 * modules give the bare point. */
static bool ec_point_equal(const uint8_t *attr, size_t len, const uint8_t *point, size_t plen)
{
	const unsigned char *p = attr;
	ASN1_OCTET_STRING *os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)len);
	bool eq;

	if (os && p == attr + len) {
		eq = (size_t)ASN1_STRING_length(os) == plen &&
		     memcmp(ASN1_STRING_get0_data(os), point, plen) == 0;
	} else {
		eq = len == plen && memcmp(attr, point, plen) == 0;
	}
	ASN1_OCTET_STRING_free(os);
	return eq;
}

/* Whether key k is the certificate's key, as far as k shows it. */
static bool key_matches(EVP_PKEY *pk, const struct token_key *k)
{
	if (k->modulus_len > 0) {
		BIGNUM *n = NULL, *kn;
		bool eq = false;

		if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n))
			return false;
		kn = BN_bin2bn(k->modulus, (int)k->modulus_len, NULL);
		eq = kn && BN_cmp(n, kn) == 0;
		BN_free(n);
		BN_free(kn);
		return eq;
	}
	if (k->ec_point_len > 0) {
		unsigned char point[256];
		size_t plen = 0;

		if (!EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
						     sizeof(point), &plen))
			return false;
		return ec_point_equal(k->ec_point, k->ec_point_len, point, plen);
	}
	return true; /* nothing to compare: the CKA_ID pairing stands */
}

/* Pairing by CKA_ID, confirmed by the public key where the token shows
 * it. Without login most tokens hide private keys; a public key object
 * of the pair then stands for the private key (on-token key generation
 * makes both). What cannot be seen is not called missing. */
static enum ukey_key_pair find_key_pair(X509 *x, const uint8_t *id, size_t id_len,
					const struct token_key *keys, size_t n_keys)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	bool private_shown = false, id_taken = false;

	for (size_t i = 0; i < n_keys; i++) {
		const struct token_key *k = &keys[i];
		private_shown |= k->is_private;
		if (!pk || id_len == 0 || k->id_len != id_len || memcmp(k->id, id, id_len) != 0)
			continue;
		if (key_matches(pk, k))
			return UKEY_KEY_PAIR_PRESENT;
		id_taken = true; /* a key under its ID, but another one */
	}
	return private_shown || id_taken ? UKEY_KEY_PAIR_ABSENT : UKEY_KEY_PAIR_UNKNOWN;
}

int cert_analyze(const uint8_t *der, size_t len, const uint8_t *id, size_t id_len,
		 const struct ca_profiles *profiles, const struct token_key *keys, size_t n_keys,
		 struct cert_info **ret_info)
{
	const unsigned char *p = der;
	struct cert_info *c;
	X509 *x;
	int r = -ENOMEM;

	if (len > INT32_MAX)
		return -EBADMSG;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x)
		return -EBADMSG;
	if (p != der + len) { /* trailing bytes: not one certificate */
		X509_free(x);
		return -EBADMSG;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out;
	c->subject = name_text(X509_get_subject_name(x));
	c->issuer = name_text(X509_get_issuer_name(x));
	c->serial = serial_hex(x);
	c->issuer_der = issuer_der_hex(x);
	c->skid = skid_hex(x);
	if (!c->subject || !c->issuer || !c->serial || !c->issuer_der)
		goto out;
	c->subject_o = name_first(X509_get_subject_name(x), NID_organizationName);
	c->subject_cn = name_first(X509_get_subject_name(x), NID_commonName);
	c->not_before = cert_time_to_unix(X509_get0_notBefore(x));
	c->not_after = cert_time_to_unix(X509_get0_notAfter(x));
	read_key_type(x, c);
	if (read_usages(x, c) < 0)
		goto out;
	find_holder_numbers(x, c);
	c->key_pair = find_key_pair(x, id, id_len, keys, n_keys);
	c->has_private_key = c->key_pair == UKEY_KEY_PAIR_PRESENT;
	c->ca = ca_profiles_match(profiles, c->issuer);
	*ret_info = c;
	c = NULL;
	r = 0;
out:
	cert_info_free(c);
	X509_free(x);
	return r;
}

/* Division rounding toward minus infinity, so an expired certificate
 * counts -1 on the day after. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t cert_days_left(const struct cert_info *c, int64_t now)
{
	return floor_div(c->not_after - now, DAY);
}

enum ukey_cert_expiry cert_expiry_state(const struct cert_info *c, int64_t now)
{
	if (now < c->not_before)
		return UKEY_CERT_NOT_YET_VALID;
	if (now >= c->not_after)
		return UKEY_CERT_EXPIRED;
	if (c->ca && cert_days_left(c, now) <= (int64_t)c->ca->renewal_days)
		return UKEY_CERT_RENEWAL_WINDOW;
	return UKEY_CERT_VALID;
}

int64_t cert_next_change(const struct cert_info *c, int64_t now)
{
	int64_t d = c->not_after - now;
	/* days_left drops one second after d reaches a whole day. */
	int64_t next = now + (d - floor_div(d, DAY) * DAY) + 1;

	if (now < c->not_before && c->not_before < next)
		next = c->not_before;
	if (now < c->not_after && c->not_after < next)
		next = c->not_after;
	return next;
}

const char *cert_key_type_name(enum cert_key_type k)
{
	static const char *const names[] = {"unknown", "rsa", "ec", "sm2"};
	return names[k];
}

/* "11370306MB2867521U淄博市周村区自然资源局" names the unit 淄博市周村区自然资源局. */
static const char *strip_code_prefix(const char *o, const char *code)
{
	size_t n = strlen(code);

	if (*code && strncmp(o, code, n) == 0 && o[n])
		return o + n + strspn(o + n, " -_:");
	return o;
}

static int holder_rank(const struct cert_info *c)
{
	/* The signing certificate whose key the token holds names the holder
	 * best; an encryption certificate or one without its key less so. */
	return (c->usage == UKEY_CERT_USAGE_SIGN || c->usage == UKEY_CERT_USAGE_SIGN_ENCRYPT ? 2
											     : 0) +
	       (c->has_private_key ? 1 : 0);
}

void holder_from_certs(const struct cert_info *const *infos, size_t n, struct holder *ret)
{
	const struct cert_info *main = NULL;
	struct holder h = {.kind = UKEY_HOLDER_UNKNOWN};

	/* Among equals the newest wins: after a renewal a token may hold the
	 * old certificate beside the new one. */
	for (size_t i = 0; i < n; i++)
		if (infos[i] && (!main || holder_rank(infos[i]) > holder_rank(main) ||
				 (holder_rank(infos[i]) == holder_rank(main) &&
				  infos[i]->not_after > main->not_after)))
			main = infos[i];
	if (!main) {
		*ret = h;
		return;
	}
	h.ca = main->ca;
	/* The main certificate's numbers first, then any other's. */
	for (size_t i = 0; i <= n; i++) {
		const struct cert_info *c = i == 0 ? main : infos[i - 1];
		if (!c)
			continue;
		if (!h.credit_code && c->credit_code[0])
			h.credit_code = c->credit_code;
		if (!h.person_id_masked && c->person_id_masked[0])
			h.person_id_masked = c->person_id_masked;
	}
	if (h.credit_code) {
		h.kind = UKEY_HOLDER_UNIT;
		h.person_id_masked = NULL;
	} else if (h.person_id_masked) {
		h.kind = UKEY_HOLDER_PERSON;
	} else {
		h.kind = main->subject_o ? UKEY_HOLDER_UNIT : UKEY_HOLDER_PERSON;
	}
	if (h.kind == UKEY_HOLDER_UNIT && main->subject_o)
		h.name = strip_code_prefix(main->subject_o, h.credit_code ? h.credit_code : "");
	else
		h.name = main->subject_cn ? main->subject_cn : main->subject_o;
	*ret = h;
}
