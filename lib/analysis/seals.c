/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "seals.h"

#include <errno.h>
#include <openssl/asn1t.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certs.h"
#include "sm2.h"
#include "text-decode.h"
#include "util.h"

/* ------------------------------------------------------------ templates */

typedef struct {
	ASN1_IA5STRING *id;
	ASN1_INTEGER *version;
	ASN1_IA5STRING *vid;
} SES_HEADER;

ASN1_SEQUENCE(SES_HEADER) =
	{
		ASN1_SIMPLE(SES_HEADER, id, ASN1_IA5STRING),
		ASN1_SIMPLE(SES_HEADER, version, ASN1_INTEGER),
		ASN1_SIMPLE(SES_HEADER, vid, ASN1_IA5STRING),
} static_ASN1_SEQUENCE_END(SES_HEADER)

	/* GM/T 0031: certList is the signers' certificates; UTCTime. */
	typedef struct {
	ASN1_INTEGER *type;
	ASN1_UTF8STRING *name;
	STACK_OF(ASN1_TYPE) * cert_list;
	ASN1_TIME *create_date, *valid_start, *valid_end;
} SES_PROPERTY_V1;

ASN1_SEQUENCE(SES_PROPERTY_V1) =
	{
		ASN1_SIMPLE(SES_PROPERTY_V1, type, ASN1_INTEGER),
		ASN1_SIMPLE(SES_PROPERTY_V1, name, ASN1_UTF8STRING),
		ASN1_SEQUENCE_OF(SES_PROPERTY_V1, cert_list, ASN1_ANY),
		ASN1_SIMPLE(SES_PROPERTY_V1, create_date, ASN1_TIME),
		ASN1_SIMPLE(SES_PROPERTY_V1, valid_start, ASN1_TIME),
		ASN1_SIMPLE(SES_PROPERTY_V1, valid_end, ASN1_TIME),
} static_ASN1_SEQUENCE_END(SES_PROPERTY_V1)

	/* GB/T 38540: certListType says what certList holds (1 certificates, 2
	 * digests); its CHOICE cannot be told apart by tag, so it is read as
	 * SEQUENCE OF ANY and sorted out by certListType. */
	typedef struct {
	ASN1_INTEGER *type;
	ASN1_UTF8STRING *name;
	ASN1_INTEGER *cert_list_type;
	STACK_OF(ASN1_TYPE) * cert_list;
	ASN1_TIME *create_date, *valid_start, *valid_end;
} SES_PROPERTY_V4;

ASN1_SEQUENCE(SES_PROPERTY_V4) =
	{
		ASN1_SIMPLE(SES_PROPERTY_V4, type, ASN1_INTEGER),
		ASN1_SIMPLE(SES_PROPERTY_V4, name, ASN1_UTF8STRING),
		ASN1_SIMPLE(SES_PROPERTY_V4, cert_list_type, ASN1_INTEGER),
		ASN1_SEQUENCE_OF(SES_PROPERTY_V4, cert_list, ASN1_ANY),
		ASN1_SIMPLE(SES_PROPERTY_V4, create_date, ASN1_TIME),
		ASN1_SIMPLE(SES_PROPERTY_V4, valid_start, ASN1_TIME),
		ASN1_SIMPLE(SES_PROPERTY_V4, valid_end, ASN1_TIME),
} static_ASN1_SEQUENCE_END(SES_PROPERTY_V4)

		typedef struct {
	ASN1_PRINTABLESTRING *type;
	ASN1_OCTET_STRING *value;
} SES_CERT_DIGEST;

ASN1_SEQUENCE(SES_CERT_DIGEST) =
	{
		ASN1_SIMPLE(SES_CERT_DIGEST, type, ASN1_PRINTABLESTRING),
		ASN1_SIMPLE(SES_CERT_DIGEST, value, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(SES_CERT_DIGEST)

		typedef struct {
	ASN1_IA5STRING *type;
	ASN1_OCTET_STRING *data;
	ASN1_INTEGER *width, *height;
} SES_PICTURE;

ASN1_SEQUENCE(SES_PICTURE) =
	{
		ASN1_SIMPLE(SES_PICTURE, type, ASN1_IA5STRING),
		ASN1_SIMPLE(SES_PICTURE, data, ASN1_OCTET_STRING),
		ASN1_SIMPLE(SES_PICTURE, width, ASN1_INTEGER),
		ASN1_SIMPLE(SES_PICTURE, height, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(SES_PICTURE)

		typedef struct {
	ASN1_OBJECT *id;
	ASN1_BOOLEAN critical;
	ASN1_OCTET_STRING *value;
} SES_EXTDATA;

ASN1_SEQUENCE(SES_EXTDATA) =
	{
		ASN1_SIMPLE(SES_EXTDATA, id, ASN1_OBJECT),
		ASN1_OPT(SES_EXTDATA, critical, ASN1_FBOOLEAN),
		ASN1_SIMPLE(SES_EXTDATA, value, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(SES_EXTDATA)

		DEFINE_STACK_OF(SES_EXTDATA)

	/* extDatas is OPTIONAL and, in real seals, untagged. */
	typedef struct {
	SES_HEADER *header;
	ASN1_IA5STRING *esid;
	SES_PROPERTY_V1 *property;
	SES_PICTURE *picture;
	STACK_OF(SES_EXTDATA) * ext;
} SES_SEALINFO_V1;

ASN1_SEQUENCE(SES_SEALINFO_V1) =
	{
		ASN1_SIMPLE(SES_SEALINFO_V1, header, SES_HEADER),
		ASN1_SIMPLE(SES_SEALINFO_V1, esid, ASN1_IA5STRING),
		ASN1_SIMPLE(SES_SEALINFO_V1, property, SES_PROPERTY_V1),
		ASN1_SIMPLE(SES_SEALINFO_V1, picture, SES_PICTURE),
		ASN1_SEQUENCE_OF_OPT(SES_SEALINFO_V1, ext, SES_EXTDATA),
} static_ASN1_SEQUENCE_END(SES_SEALINFO_V1)

		typedef struct {
	SES_HEADER *header;
	ASN1_IA5STRING *esid;
	SES_PROPERTY_V4 *property;
	SES_PICTURE *picture;
	STACK_OF(SES_EXTDATA) * ext;
} SES_SEALINFO_V4;

ASN1_SEQUENCE(SES_SEALINFO_V4) =
	{
		ASN1_SIMPLE(SES_SEALINFO_V4, header, SES_HEADER),
		ASN1_SIMPLE(SES_SEALINFO_V4, esid, ASN1_IA5STRING),
		ASN1_SIMPLE(SES_SEALINFO_V4, property, SES_PROPERTY_V4),
		ASN1_SIMPLE(SES_SEALINFO_V4, picture, SES_PICTURE),
		ASN1_SEQUENCE_OF_OPT(SES_SEALINFO_V4, ext, SES_EXTDATA),
} static_ASN1_SEQUENCE_END(SES_SEALINFO_V4)

		typedef struct {
	ASN1_OCTET_STRING *cert;
	ASN1_OBJECT *alg;
	ASN1_BIT_STRING *sig;
} SES_SIGNINFO;

ASN1_SEQUENCE(SES_SIGNINFO) =
	{
		ASN1_SIMPLE(SES_SIGNINFO, cert, ASN1_OCTET_STRING),
		ASN1_SIMPLE(SES_SIGNINFO, alg, ASN1_OBJECT),
		ASN1_SIMPLE(SES_SIGNINFO, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(SES_SIGNINFO)

		typedef struct {
	SES_SEALINFO_V1 *info;
	SES_SIGNINFO *sign;
} SESEAL_V1;

ASN1_SEQUENCE(SESEAL_V1) =
	{
		ASN1_SIMPLE(SESEAL_V1, info, SES_SEALINFO_V1),
		ASN1_SIMPLE(SESEAL_V1, sign, SES_SIGNINFO),
} static_ASN1_SEQUENCE_END(SESEAL_V1)

	/* v5 adds timeStamp [0] EXPLICIT BIT STRING OPTIONAL. */
	typedef struct {
	SES_SEALINFO_V4 *info;
	ASN1_OCTET_STRING *cert;
	ASN1_OBJECT *alg;
	ASN1_BIT_STRING *sig;
	ASN1_BIT_STRING *timestamp;
} SESEAL_V4;

ASN1_SEQUENCE(SESEAL_V4) =
	{
		ASN1_SIMPLE(SESEAL_V4, info, SES_SEALINFO_V4),
		ASN1_SIMPLE(SESEAL_V4, cert, ASN1_OCTET_STRING),
		ASN1_SIMPLE(SESEAL_V4, alg, ASN1_OBJECT),
		ASN1_SIMPLE(SESEAL_V4, sig, ASN1_BIT_STRING),
		ASN1_EXP_OPT(SESEAL_V4, timestamp, ASN1_BIT_STRING, 0),
} static_ASN1_SEQUENCE_END(SESEAL_V4)

	/* ---------------------------------------------------------------- helpers */

	struct slice {
	const uint8_t *p;
	size_t len;
};

/* The elements of the DER SEQUENCE at der, as raw byte ranges: what was
 * signed is the bytes as written, not a re-encoding. */
static int der_children(const uint8_t *der, size_t len, struct slice *out, size_t max,
			size_t *ret_n)
{
	const unsigned char *p = der, *end;
	long clen;
	int tag, cls, r;
	size_t n = 0;

	r = ASN1_get_object(&p, &clen, &tag, &cls, (long)len);
	if ((r & 0x80) || r != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    cls != V_ASN1_UNIVERSAL || p + clen != der + len)
		return -EBADMSG;
	end = p + clen;
	while (p < end) {
		const unsigned char *start = p;
		long l;
		r = ASN1_get_object(&p, &l, &tag, &cls, end - p);
		if ((r & 0x80) || r == 0x21 || n == max) /* error, or indefinite length */
			return -EBADMSG;
		p += l;
		out[n++] = (struct slice){start, (size_t)(p - start)};
	}
	*ret_n = n;
	return 0;
}

static char *string_of(const ASN1_STRING *s)
{
	return text_decode(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
}

static uint8_t *copy_bytes(const ASN1_STRING *s, size_t *ret_len)
{
	size_t n = (size_t)ASN1_STRING_length(s);
	uint8_t *p = malloc(n ? n : 1);

	if (p)
		memcpy(p, ASN1_STRING_get0_data(s), n);
	*ret_len = n;
	return p;
}

/* The maker's signature over tbs: SM2-with-SM3 with the default signer ID,
 * or an RSA signature algorithm OpenSSL knows. */
static bool verify_signature(const struct slice *tbs, X509 *maker, const ASN1_OBJECT *alg,
			     const ASN1_BIT_STRING *sig)
{
	EVP_PKEY *pk = X509_get0_pubkey(maker);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	int nid = OBJ_obj2nid(alg), md_nid = NID_undef, pk_nid = NID_undef;
	bool ok = false;

	if (!pk || !md)
		goto out;
	if (nid == NID_SM2_with_SM3) {
		static const char sm2_id[] = SM2_DEFAULT_ID;
		/* Real seals carry some signatures as a raw r||s. */
		der = sm2_signature_der(ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig),
					&der_len);
		if (!der || EVP_DigestVerifyInit_ex(md, &pctx, "SM3", NULL, NULL, pk, NULL) != 1 ||
		    EVP_PKEY_CTX_set1_id(pctx, sm2_id, sizeof(sm2_id) - 1) != 1)
			goto out;
	} else if (OBJ_find_sigid_algs(nid, &md_nid, &pk_nid) && pk_nid == NID_rsaEncryption &&
		   EVP_PKEY_is_a(pk, "RSA")) {
		der_len = (size_t)ASN1_STRING_length(sig);
		der = malloc(der_len ? der_len : 1);
		if (!der)
			goto out;
		memcpy(der, ASN1_STRING_get0_data(sig), der_len);
		if (EVP_DigestVerifyInit_ex(md, NULL, OBJ_nid2sn(md_nid), NULL, NULL, pk, NULL) !=
		    1)
			goto out;
	} else {
		goto out;
	}
	ok = EVP_DigestVerify(md, der, der_len, tbs->p, tbs->len) == 1;
out:
	free(der);
	EVP_MD_CTX_free(md);
	return ok;
}

static enum ukey_seal_kind classify(long type, const char *name)
{
	if (strstr(name, "法人") || strstr(name, "法定代表人"))
		return UKEY_SEAL_LEGAL_REP;
	if (strstr(name, "签名") || strstr(name, "手写"))
		return UKEY_SEAL_SIGNATURE;
	if (strstr(name, "公章"))
		return UKEY_SEAL_OFFICIAL;
	/* GM/T 0031: type 1 is a unit's seal; a special-purpose one (专用章:
	 * contracts, invoices...) is not the official seal. */
	if (type == 1 && !strstr(name, "专用章"))
		return UKEY_SEAL_OFFICIAL;
	return UKEY_SEAL_OTHER;
}

static int read_signers(struct seal_info *s, const STACK_OF(ASN1_TYPE) * list, long list_type)
{
	int n = sk_ASN1_TYPE_num(list);

	s->signers = calloc((size_t)n + 1, sizeof(*s->signers));
	if (!s->signers)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const ASN1_TYPE *t = sk_ASN1_TYPE_value(list, i);
		struct seal_signer *g = &s->signers[s->n_signers];

		if (t->type == V_ASN1_OCTET_STRING && list_type != 2) {
			g->value = copy_bytes(t->value.octet_string, &g->value_len);
		} else if (t->type == V_ASN1_SEQUENCE) {
			const unsigned char *p = ASN1_STRING_get0_data(t->value.sequence);
			SES_CERT_DIGEST *d = (SES_CERT_DIGEST *)ASN1_item_d2i(
				NULL, &p, ASN1_STRING_length(t->value.sequence),
				ASN1_ITEM_rptr(SES_CERT_DIGEST));
			if (!d)
				continue; /* an entry we cannot read binds nothing */
			g->is_digest = true;
			g->digest_alg = string_of(d->type);
			g->value = copy_bytes(d->value, &g->value_len);
			ASN1_item_free((ASN1_VALUE *)d, ASN1_ITEM_rptr(SES_CERT_DIGEST));
		} else {
			continue;
		}
		/* Counted even half made, so that seal_info_free frees it. */
		s->n_signers++;
		if (!g->value)
			return -ENOMEM;
	}
	return 0;
}

/* The parts both layouts share, and the checks that need no clock. */
static int fill_common(struct seal_info *s, const SES_HEADER *h, const ASN1_IA5STRING *esid,
		       const SES_PICTURE *pic, const ASN1_INTEGER *type,
		       const ASN1_UTF8STRING *name, const ASN1_TIME *created,
		       const ASN1_TIME *start, const ASN1_TIME *end)
{
	s->header_version = ASN1_INTEGER_get(h->version);
	s->vendor = string_of(h->vid);
	s->esid = string_of(esid);
	s->property_type = ASN1_INTEGER_get(type);
	s->name = string_of(name);
	s->create_date = cert_time_to_unix(created);
	s->valid_from = cert_time_to_unix(start);
	s->valid_to = cert_time_to_unix(end);
	s->picture_type = string_of(pic->type);
	s->picture = copy_bytes(pic->data, &s->picture_len);
	s->picture_width = ASN1_INTEGER_get(pic->width);
	s->picture_height = ASN1_INTEGER_get(pic->height);
	if (!s->vendor || !s->esid || !s->name || !s->picture_type || !s->picture)
		return -ENOMEM;
	for (char *c = s->picture_type; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	s->kind = classify(s->property_type, s->name);
	return 0;
}

static void check_maker(struct seal_info *s, const ASN1_OCTET_STRING *cert, const ASN1_OBJECT *alg,
			const ASN1_BIT_STRING *sig, const struct slice *tbs)
{
	const unsigned char *p = ASN1_STRING_get0_data(cert);
	X509 *maker = d2i_X509(NULL, &p, ASN1_STRING_length(cert));

	if (!maker)
		return; /* no maker certificate: the signature cannot be checked */
	s->signature_ok = verify_signature(tbs, maker, alg, sig);
	/* A maker certificate that expired later does not void what it made. */
	s->maker_valid_at_creation =
		cert_time_to_unix(X509_get0_notBefore(maker)) <= s->create_date &&
		s->create_date <= cert_time_to_unix(X509_get0_notAfter(maker));
	X509_free(maker);
}

static int parse_v4(struct seal_info *s, const uint8_t *der, size_t len, const struct slice *parts)
{
	const unsigned char *p = der;
	SESEAL_V4 *v = (SESEAL_V4 *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(SESEAL_V4));
	const SES_SEALINFO_V4 *i;
	int r;

	if (!v)
		return -EBADMSG;
	if (p != der + len) {
		ASN1_item_free((ASN1_VALUE *)v, ASN1_ITEM_rptr(SESEAL_V4));
		return -EBADMSG;
	}
	i = v->info;
	s->layout = v->timestamp ? 5 : 4;
	r = fill_common(s, i->header, i->esid, i->picture, i->property->type, i->property->name,
			i->property->create_date, i->property->valid_start, i->property->valid_end);
	if (r == 0)
		r = read_signers(s, i->property->cert_list,
				 ASN1_INTEGER_get(i->property->cert_list_type));
	/* GB/T 38540 signs the DER of SES_SealInfo alone. */
	if (r == 0)
		check_maker(s, v->cert, v->alg, v->sig, &parts[0]);
	ASN1_item_free((ASN1_VALUE *)v, ASN1_ITEM_rptr(SESEAL_V4));
	return r;
}

static int parse_v1(struct seal_info *s, const uint8_t *der, size_t len, const struct slice *parts)
{
	const unsigned char *p = der;
	SESEAL_V1 *v = (SESEAL_V1 *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(SESEAL_V1));
	struct slice sign[3], tbs = {0};
	unsigned char *buf = NULL, *w;
	size_t n = 0;
	int r, body;

	if (!v)
		return -EBADMSG;
	if (p != der + len || der_children(parts[1].p, parts[1].len, sign, 3, &n) < 0 || n != 3) {
		ASN1_item_free((ASN1_VALUE *)v, ASN1_ITEM_rptr(SESEAL_V1));
		return -EBADMSG;
	}
	s->layout = 1;
	r = fill_common(s, v->info->header, v->info->esid, v->info->picture,
			v->info->property->type, v->info->property->name,
			v->info->property->create_date, v->info->property->valid_start,
			v->info->property->valid_end);
	if (r == 0)
		r = read_signers(s, v->info->property->cert_list, 1);
	/* GM/T 0031 signs SEQUENCE { SES_SealInfo, cert, signatureAlgorithm },
	 * rebuilt here from the bytes as written. */
	body = (int)(parts[0].len + sign[0].len + sign[1].len);
	if (r == 0 && (buf = malloc((size_t)ASN1_object_size(1, body, V_ASN1_SEQUENCE)))) {
		w = buf;
		ASN1_put_object(&w, 1, body, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
		memcpy(w, parts[0].p, parts[0].len);
		memcpy(w + parts[0].len, sign[0].p, sign[0].len);
		memcpy(w + parts[0].len + sign[0].len, sign[1].p, sign[1].len);
		tbs = (struct slice){buf, (size_t)(w - buf) + (size_t)body};
		check_maker(s, v->sign->cert, v->sign->alg, v->sign->sig, &tbs);
	} else if (r == 0) {
		r = -ENOMEM;
	}
	free(buf);
	ASN1_item_free((ASN1_VALUE *)v, ASN1_ITEM_rptr(SESEAL_V1));
	return r;
}

/* Whether bytes start like a seal: SEQUENCE { SEQUENCE { SEQUENCE {
 * IA5String "ES" ... (the header). A seal-shaped object that does not
 * parse is a damaged seal, not "no seal". */
static bool looks_like_seal(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	long l;
	int tag, cls;

	for (int depth = 0; depth < 3; depth++) {
		int r = ASN1_get_object(&p, &l, &tag, &cls, (long)(der + len - p));
		/* 0x80 with a constructed bit is "too long": truncated, fine here */
		if ((r & ~0x80) != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE)
			return false;
	}
	return der + len - p >= 4 && p[0] == V_ASN1_IA5STRING && p[1] == 2 && p[2] == 'E' &&
	       p[3] == 'S';
}

void seal_info_free(struct seal_info *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_signers; i++) {
		free(s->signers[i].digest_alg);
		free(s->signers[i].value);
	}
	free(s->signers);
	free(s->vendor);
	free(s->esid);
	free(s->name);
	free(s->picture_type);
	free(s->picture);
	free(s);
}

int seal_parse(const uint8_t *der, size_t len, struct seal_info **ret_seal)
{
	struct slice parts[5];
	struct seal_info *s;
	size_t n = 0;
	int r = -EBADMSG;

	if (len < 8 || len > INT32_MAX || !looks_like_seal(der, len))
		return -EBADMSG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* The layout is told by the element count, not the header version. */
	if (der_children(der, len, parts, 5, &n) == 0) {
		if (n == 2)
			r = parse_v1(s, der, len, parts);
		else if (n == 4 || n == 5)
			r = parse_v4(s, der, len, parts);
	}
	if (r == -ENOMEM) {
		seal_info_free(s);
		return r;
	}
	if (r < 0) {
		/* Seal-shaped, but damaged: reported as a malformed seal. */
		seal_info_free(s);
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->layout = 0;
	}
	*ret_seal = s;
	return 0;
}

/* Whether one of the token's certificates is among the seal's signers. */
static bool bound(const struct seal_info *s, const uint8_t *const *certs, const size_t *lens,
		  size_t n)
{
	for (size_t k = 0; k < s->n_signers; k++) {
		const struct seal_signer *g = &s->signers[k];
		const EVP_MD *md = NULL;

		if (g->is_digest) {
			md = EVP_get_digestbyname(g->digest_alg);
			if (!md)
				continue;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char d[EVP_MAX_MD_SIZE];
			unsigned int dlen = 0;

			/* Nothing binds to nothing: an empty certificate or
			 * signer entry matches no one. */
			if (lens[i] == 0 || g->value_len == 0)
				continue;
			if (!g->is_digest) {
				if (g->value_len == lens[i] &&
				    memcmp(g->value, certs[i], lens[i]) == 0)
					return true;
			} else if (EVP_Digest(certs[i], lens[i], d, &dlen, md, NULL) &&
				   dlen == g->value_len && memcmp(d, g->value, dlen) == 0) {
				return true;
			}
		}
	}
	return false;
}

enum ukey_seal_status seal_status(const struct seal_info *s, const uint8_t *const *certs,
				  const size_t *cert_lens, size_t n_certs, int64_t now)
{
	if (s->layout == 0)
		return UKEY_SEAL_MALFORMED;
	if (!s->signature_ok)
		return UKEY_SEAL_BAD_SIGNATURE;
	if (!s->maker_valid_at_creation)
		return UKEY_SEAL_MAKER_CERT_EXPIRED;
	if (now < s->valid_from)
		return UKEY_SEAL_NOT_YET_VALID;
	if (now > s->valid_to)
		return UKEY_SEAL_EXPIRED;
	if (certs && !bound(s, certs, cert_lens, n_certs))
		return UKEY_SEAL_NOT_BOUND;
	return UKEY_SEAL_VALID;
}
