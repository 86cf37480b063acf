/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukey_check(): the readiness report, its items worded in the user's
 * language, and the recipients of an encrypted bid (read here, with
 * OpenSSL's CMS API, so the bid file itself never leaves the caller). */
#include <libintl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h> /* before cms.h: it declares the CMS PEM readers */
#include <openssl/cms.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build-config.h"
#include "libukey-private.h"
#include "util.h"
#include "wire-names.h"

#define _(s) dgettext(GETTEXT_PACKAGE, s)
#define N_(s) (s)

struct ukey_check_item {
	const char *code, *serial;
	enum ukey_severity severity;
	char *message, *advice;
};

struct ukey_check_report {
	int refcount;
	json_object *json; /* owns the strings the items point to */
	char *json_text;
	enum ukey_verdict verdict;
	json_object **tokens;
	size_t n_tokens;
	struct ukey_check_item *items;
	size_t n_items;
};

static pthread_once_t textdomain_once = PTHREAD_ONCE_INIT;

/* Where libukey's translations are, unless the program said already
 * ($UKEY_LOCALEDIR serves uninstalled builds, as for ukeyctl). */
static void bind_textdomain(void)
{
	const char *cur = bindtextdomain(GETTEXT_PACKAGE, NULL),
		   *env = secure_getenv("UKEY_LOCALEDIR");

	if (!cur || strcmp(cur, "/usr/share/locale") == 0)
		bindtextdomain(GETTEXT_PACKAGE, env && *env ? env : UKEY_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
}

/* ------------------------------------------------------------ bid file */

static char *bn_hex(const ASN1_INTEGER *i)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(i, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL, *r = NULL;

	BN_free(bn);
	if (hex) {
		for (char *p = hex; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
		r = strdup(hex);
		OPENSSL_free(hex);
	}
	return r;
}

static json_object *recipient_json(const ASN1_OCTET_STRING *keyid, const X509_NAME *issuer,
				   const ASN1_INTEGER *serial)
{
	json_object *o = json_object_new_object();

	if (keyid) {
		_cleanup_free_ char *h = ukey_hex_encode(ASN1_STRING_get0_data(keyid),
							 (size_t)ASN1_STRING_length(keyid));
		json_object_object_add(o, "skid", json_object_new_string(h ? h : ""));
	}
	if (issuer && serial) {
		unsigned char *der = NULL;
		int n = i2d_X509_NAME(issuer, &der);
		_cleanup_free_ char *h = n > 0 ? ukey_hex_encode(der, (size_t)n) : NULL;
		_cleanup_free_ char *sn = bn_hex(serial);
		OPENSSL_free(der);
		json_object_object_add(o, "issuer_der", json_object_new_string(h ? h : ""));
		json_object_object_add(o, "serial", json_object_new_string(sn ? sn : ""));
	}
	return o;
}

static CMS_ContentInfo *read_cms(const uint8_t *data, size_t len)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	CMS_ContentInfo *cms = b ? d2i_CMS_bio(b, NULL) : NULL;

	/* DER, else PEM, else S/MIME. */
	if (!cms && b && BIO_reset(b) == 1)
		cms = PEM_read_bio_CMS(b, NULL, NULL, NULL);
	if (!cms && b && BIO_reset(b) == 1)
		cms = SMIME_read_CMS(b, NULL);
	BIO_free(b);
	return cms;
}

/* The recipients of an enveloped bid, as ukeyd matches them. */
static enum ukey_error bid_recipients(const uint8_t *data, size_t len, json_object **ret)
{
	CMS_ContentInfo *cms;
	STACK_OF(CMS_RecipientInfo) * ris;
	json_object *arr;

	if (len > INT32_MAX)
		return UKEY_E_NOT_CMS;
	cms = read_cms(data, len);
	if (!cms)
		return UKEY_E_NOT_CMS;
	ris = CMS_get0_RecipientInfos(cms);
	if (!ris) { /* signed or plain data: not an encrypted bid */
		CMS_ContentInfo_free(cms);
		return UKEY_E_NOT_CMS;
	}
	arr = json_object_new_array();
	for (int i = 0; arr && i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);
		ASN1_OCTET_STRING *keyid = NULL;
		X509_NAME *issuer = NULL;
		ASN1_INTEGER *sn = NULL;

		if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_TRANS) {
			if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer, &sn))
				json_object_array_add(arr, recipient_json(keyid, issuer, sn));
		} else if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_AGREE) {
			/* EC keys: key agreement, one encrypted key per recipient. */
			STACK_OF(CMS_RecipientEncryptedKey) *reks =
				CMS_RecipientInfo_kari_get0_reks(ri);
			for (int k = 0; k < sk_CMS_RecipientEncryptedKey_num(reks); k++) {
				keyid = NULL;
				issuer = NULL;
				sn = NULL;
				if (CMS_RecipientEncryptedKey_get0_id(
					    sk_CMS_RecipientEncryptedKey_value(reks, k), &keyid,
					    NULL, NULL, &issuer, &sn))
					json_object_array_add(arr,
							      recipient_json(keyid, issuer, sn));
			}
		}
	}
	CMS_ContentInfo_free(cms);
	if (!arr)
		return UKEY_E_NO_MEMORY;
	*ret = arr;
	return UKEY_OK;
}

/* ------------------------------------------------------------ messages */

static const char *param(json_object *item, const char *key)
{
	json_object *p, *v;

	if (json_object_object_get_ex(item, "params", &p) && json_object_object_get_ex(p, key, &v))
		return json_object_get_string(v);
	return "";
}

/* "2027-10-22T15:29:02Z" -> "2027-10-22" */
static const char *day(json_object *item, const char *key, char buf[11])
{
	snprintf(buf, 11, "%s", param(item, key));
	return buf;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Words for one item, in the language of the locale. */
static void word_item(json_object *j, struct ukey_check_item *it)
{
	const char *c = it->code, *label = param(j, "label");
	char d1[11], d2[11];

	if (!strcmp(c, "cert_expired")) {
		it->message = format(_("The certificate \"%s\" expired on %s."), label,
				     day(j, "not_after", d1));
		it->advice = format("%s", _("Renew it at your CA's counter: an expired "
					    "certificate can neither sign nor decrypt a bid."));
	} else if (!strcmp(c, "cert_not_yet_valid")) {
		it->message = format(_("The certificate \"%s\" is not valid before %s."), label,
				     day(j, "not_before", d1));
		it->advice = format("%s", _("It cannot be used until then; ask your CA if the date "
					    "is wrong."));
	} else if (!strcmp(c, "cert_in_renewal_window")) {
		it->message = format(_("The certificate \"%s\" expires on %s, in %s day(s)."),
				     label, day(j, "not_after", d1), param(j, "days_left"));
		it->advice =
			format("%s", _("Renew it now, before you encrypt any bid. Never renew "
				       "while a bid encrypted with this token is still unopened: "
				       "the renewed token could not decrypt it."));
	} else if (!strcmp(c, "cert_expires_before_opening")) {
		it->message =
			format(_("The certificate \"%s\" expires on %s, before the bid opening "
				 "on %s."),
			       label, day(j, "not_after", d1), day(j, "opening", d2));
		it->advice =
			format("%s", _("Renew it BEFORE you encrypt the bid: a bid encrypted "
				       "before a renewal cannot be decrypted at the opening."));
	} else if (!strcmp(c, "pin_locked")) {
		it->message = format("%s", _("The PIN is locked."));
		it->advice = format("%s", _("Have it unlocked (free of charge) at your CA's "
					    "counter, then change it."));
	} else if (!strcmp(c, "pin_final_try")) {
		it->message = format("%s", _("Only one PIN try is left."));
		it->advice =
			format("%s", _("One more wrong PIN locks the token. If you are not sure "
				       "of the PIN, have it reset at the CA counter before the "
				       "bid."));
	} else if (!strcmp(c, "pin_count_low")) {
		it->message =
			format("%s", _("A wrong PIN was entered since the last correct one."));
		it->advice =
			format("%s", _("Make sure of the PIN before the bid opening; a few more "
				       "wrong tries lock the token."));
	} else if (!strcmp(c, "pin_default")) {
		it->message = format("%s", _("The PIN is still the default 123456."));
		it->advice = format("%s", _("Change it before you bid: ukeyctl pin change."));
	} else if (!strcmp(c, "pin_default_unknown")) {
		it->message =
			format("%s", _("It is not known whether the PIN is still the default."));
		it->advice = format("%s", _("If you never changed it, change it now (ukeyctl pin "
					    "change); ukeyctl pin probe-default checks it."));
	} else if (!strcmp(c, "seal_missing")) {
		it->message =
			format("%s", _("This primary token carried an electronic seal and shows "
				       "none now."));
		it->advice =
			format("%s", _("Have your CA's counter check the token before you sign "
				       "a bid."));
	} else if (!strcmp(c, "seal_invalid")) {
		it->message = format(_("The seal \"%s\" cannot be used (%s)."), param(j, "name"),
				     param(j, "status"));
		it->advice = format("%s", _("Ask your CA to issue the seal again."));
	} else if (!strcmp(c, "seal_expired")) {
		it->message = format(_("The seal \"%s\" expired on %s."), param(j, "name"),
				     day(j, "valid_to", d1));
		it->advice =
			format("%s", _("Ask your CA to renew the seal before you sign a bid."));
	} else if (!strcmp(c, "seal_not_bound")) {
		it->message = format(_("The seal \"%s\" is not bound to this token's certificate."),
				     param(j, "name"));
		it->advice = format("%s", _("It cannot be affixed with this token; ask your CA."));
	} else if (!strcmp(c, "secondary_token")) {
		it->message = format("%s", _("This is a secondary token: it carries no seal."));
		it->advice = format("%s", _("It can encrypt and decrypt bids, but cannot affix the "
					    "electronic seal: sign with the primary token."));
	} else if (!strcmp(c, "key_pair_unknown")) {
		it->message =
			format(_("The token hides the key of certificate \"%s\" until the PIN "
				 "is given: it is not seen yet."),
			       label);
		it->advice = format("%s", _("Run ukeyctl check --full (it asks the PIN) to confirm "
					    "that the key signs and decrypts."));
	} else if (!strcmp(c, "no_signing_key")) {
		it->message =
			format("%s", _("No signing certificate with its key is on the token."));
		it->advice = format("%s", _("This token cannot sign a bid; ask your CA."));
	} else if (!strcmp(c, "no_encryption_key")) {
		it->message =
			format("%s", _("No encryption certificate with its key is on the token."));
		it->advice =
			format("%s", _("This token cannot encrypt or decrypt a bid; ask your CA."));
	} else if (!strcmp(c, "sign_test_failed")) {
		it->message = format("%s", _("The signing test with the token's key failed."));
		it->advice =
			format("%s", _("The key does not match its certificate, or the token is "
				       "faulty: ask your CA before the bid."));
	} else if (!strcmp(c, "decrypt_test_failed")) {
		it->message = format("%s", _("The decryption test with the token's key failed."));
		it->advice = format("%s", _("This token could not open a bid encrypted to its "
					    "certificate: ask your CA before you encrypt a bid."));
	} else if (!strcmp(c, "bid_for_this_token")) {
		it->message = format(
			_("The bid file is encrypted for this token (certificate \"%s\")."), label);
		it->advice =
			format("%s", _("Bring this very token to the bid opening to decrypt it."));
	} else if (!strcmp(c, "bid_not_for_this_token")) {
		it->message = format("%s", _("The bid file is not encrypted for this token."));
		it->advice = format("%s", _("This token cannot open it; use the token it was "
					    "encrypted for (ukeyctl which-token)."));
	} else if (!strcmp(c, "token_not_found")) {
		it->message = *param(j, "serial") ? format(_("No plugged token has serial %s."),
							   param(j, "serial"))
						  : format("%s", _("No CA token is plugged in."));
		it->advice =
			format("%s", _("Plug in your CA token (UKey); if it is plugged in, check "
				       "that ukeyd has its PKCS#11 module."));
	} else {
		it->message = format("%s", c);
		it->advice = format("%s", "");
	}
}

/* -------------------------------------------------------------- report */

static void report_free(ukey_check_report *r)
{
	for (size_t i = 0; i < r->n_items; i++) {
		free(r->items[i].message);
		free(r->items[i].advice);
	}
	free(r->items);
	free(r->tokens);
	free(r->json_text);
	json_object_put(r->json);
	free(r);
}

static enum ukey_error report_from_json(json_object *result, ukey_check_report **ret)
{
	ukey_check_report *r = calloc(1, sizeof(*r));
	json_object *tokens, *v;
	size_t n_items = 0;

	if (!r)
		return UKEY_E_NO_MEMORY;
	r->refcount = 1;
	r->json = json_object_get(result);
	if (!json_object_object_get_ex(result, "tokens", &tokens) ||
	    !json_object_is_type(tokens, json_type_array)) {
		report_free(r);
		return UKEY_E_PROTOCOL;
	}
	json_object_object_get_ex(result, "verdict", &v);
	r->verdict = ukey_wire_verdict_parse(json_object_get_string(v));
	r->n_tokens = json_object_array_length(tokens);
	r->tokens = calloc(r->n_tokens + 1, sizeof(*r->tokens));
	for (size_t i = 0; r->tokens && i < r->n_tokens; i++) {
		r->tokens[i] = json_object_array_get_idx(tokens, i);
		n_items += json_object_array_length(json_object_object_get(r->tokens[i], "items"));
	}
	r->items = calloc(n_items + 1, sizeof(*r->items));
	r->json_text = strdup(json_object_to_json_string_ext(
		result, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!r->tokens || !r->items || !r->json_text) {
		report_free(r);
		return UKEY_E_NO_MEMORY;
	}
	pthread_once(&textdomain_once, bind_textdomain);
	for (size_t i = 0; i < r->n_tokens; i++) {
		json_object *items = json_object_object_get(r->tokens[i], "items");
		for (size_t k = 0; k < json_object_array_length(items); k++) {
			json_object *j = json_object_array_get_idx(items, k);
			struct ukey_check_item *it = &r->items[r->n_items++];

			it->code = json_object_get_string(json_object_object_get(j, "code"));
			it->serial = json_object_get_string(
				json_object_object_get(r->tokens[i], "serial"));
			it->severity = ukey_wire_severity_parse(
				json_object_get_string(json_object_object_get(j, "severity")));
			word_item(j, it);
		}
	}
	*ret = r;
	return UKEY_OK;
}

UKEY_EXPORT enum ukey_error ukey_check(ukey_client *client, const char *serial, int64_t opening,
				       const uint8_t *bid, size_t bid_len, const char *pin,
				       unsigned flags, ukey_check_report **ret_report)
{
	json_object *params, *result = NULL, *recipients = NULL;
	enum ukey_error e;

	if (!client || !ret_report || (bid_len && !bid))
		return UKEY_E_INVALID_ARGUMENT;
	if (bid) {
		e = bid_recipients(bid, bid_len, &recipients);
		if (e != UKEY_OK)
			return e;
	}
	params = json_object_new_object();
	if (!params) {
		json_object_put(recipients);
		return UKEY_E_NO_MEMORY;
	}
	if (serial)
		json_object_object_add(params, "serial", json_object_new_string(serial));
	if (opening)
		json_object_object_add(params, "opening", json_object_new_int64(opening));
	if (bid) {
		json_object_object_add(params, "bid", json_object_new_boolean(true));
		json_object_object_add(params, "recipients", recipients);
	}
	if (pin) {
		json_object_object_add(params, "pin", json_object_new_string(pin));
		if (flags & UKEY_PIN_FORCE)
			json_object_object_add(params, "force", json_object_new_boolean(true));
	}
	e = ukey_client_call(client, "check", params, &result);
	if (e != UKEY_OK)
		return e;
	e = report_from_json(result, ret_report);
	json_object_put(result);
	return e;
}

UKEY_EXPORT ukey_check_report *ukey_check_report_ref(ukey_check_report *r)
{
	if (r)
		__atomic_add_fetch(&r->refcount, 1, __ATOMIC_RELAXED);
	return r;
}

UKEY_EXPORT ukey_check_report *ukey_check_report_unref(ukey_check_report *r)
{
	if (r && __atomic_sub_fetch(&r->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		report_free(r);
	return NULL;
}

UKEY_EXPORT enum ukey_verdict ukey_check_report_get_verdict(const ukey_check_report *r)
{
	return r ? r->verdict : UKEY_NOT_READY;
}

UKEY_EXPORT size_t ukey_check_report_get_token_count(const ukey_check_report *r)
{
	return r ? r->n_tokens : 0;
}

static json_object *token_at(const ukey_check_report *r, size_t i)
{
	return r && i < r->n_tokens ? r->tokens[i] : NULL;
}

UKEY_EXPORT const char *ukey_check_report_get_token_serial(const ukey_check_report *r, size_t i)
{
	json_object *t = token_at(r, i);

	return t ? json_object_get_string(json_object_object_get(t, "serial")) : "";
}

UKEY_EXPORT const char *ukey_check_report_get_token_label(const ukey_check_report *r, size_t i)
{
	json_object *t = token_at(r, i);

	return t ? json_object_get_string(json_object_object_get(t, "label")) : "";
}

UKEY_EXPORT enum ukey_verdict ukey_check_report_get_token_verdict(const ukey_check_report *r,
								  size_t i)
{
	json_object *t = token_at(r, i);

	return t ? ukey_wire_verdict_parse(
			   json_object_get_string(json_object_object_get(t, "verdict")))
		 : UKEY_NOT_READY;
}

UKEY_EXPORT size_t ukey_check_report_get_item_count(const ukey_check_report *r)
{
	return r ? r->n_items : 0;
}

UKEY_EXPORT const ukey_check_item *ukey_check_report_get_item(const ukey_check_report *r, size_t i)
{
	return r && i < r->n_items ? &r->items[i] : NULL;
}

UKEY_EXPORT const char *ukey_check_report_get_json(const ukey_check_report *r)
{
	return r ? r->json_text : "";
}

UKEY_EXPORT const char *ukey_check_item_get_code(const ukey_check_item *it)
{
	return it ? it->code : "";
}

UKEY_EXPORT enum ukey_severity ukey_check_item_get_severity(const ukey_check_item *it)
{
	return it ? it->severity : UKEY_SEVERITY_ERROR;
}

UKEY_EXPORT const char *ukey_check_item_get_serial(const ukey_check_item *it)
{
	return it ? it->serial : "";
}

UKEY_EXPORT const char *ukey_check_item_get_message(const ukey_check_item *it)
{
	return it && it->message ? it->message : "";
}

UKEY_EXPORT const char *ukey_check_item_get_advice(const ukey_check_item *it)
{
	return it && it->advice ? it->advice : "";
}
