/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check.h"

#include <string.h>

#include "certs.h"
#include "seals.h"
#include "token-json.h"
#include "token.h"
#include "util.h"
#include "wire-names.h"

struct items {
	json_object *arr;
	enum ukey_verdict verdict; /* from the worst item so far */
};

/* Adds an item; params (taken) may be NULL. */
static void add(struct items *it, const char *code, enum ukey_severity sev, json_object *params)
{
	json_object *o = json_object_new_object();
	enum ukey_verdict v = sev == UKEY_SEVERITY_ERROR     ? UKEY_NOT_READY
			      : sev == UKEY_SEVERITY_WARNING ? UKEY_READY_WITH_WARNINGS
							     : UKEY_READY;

	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "severity", json_object_new_string(ukey_wire_severity_name(sev)));
	json_object_object_add(o, "params", params ? params : json_object_new_object());
	json_object_array_add(it->arr, o);
	it->verdict = check_worse_verdict(it->verdict, v);
}

static json_object *cert_params(const struct token_cert *c, int64_t now)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "label", json_object_new_string(c->label ? c->label : ""));
	json_object_object_add(p, "usage",
			       json_object_new_string(ukey_wire_cert_usage_name(c->info->usage)));
	json_object_object_add(p, "not_before", token_json_time(c->info->not_before));
	json_object_object_add(p, "not_after", token_json_time(c->info->not_after));
	json_object_object_add(p, "days_left", json_object_new_int64(cert_days_left(c->info, now)));
	return p;
}

static bool serves(const struct cert_info *c, bool for_signing)
{
	return for_signing ? (c->usage == UKEY_CERT_USAGE_SIGN ||
			      c->usage == UKEY_CERT_USAGE_SIGN_ENCRYPT)
			   : (c->usage == UKEY_CERT_USAGE_ENCRYPT ||
			      c->usage == UKEY_CERT_USAGE_SIGN_ENCRYPT);
}

/* An old certificate may linger after a renewal: the newest wins; one
 * whose key pair is seen wins over one whose key the token hides. */
const struct token_cert *check_current_cert(const struct token *t, bool for_signing)
{
	const struct token_cert *best = NULL;

	for (int pass = 0; pass < 2 && !best; pass++)
		for (size_t i = 0; i < t->n_certs; i++) {
			const struct token_cert *c = &t->certs[i];
			enum ukey_key_pair want =
				pass == 0 ? UKEY_KEY_PAIR_PRESENT : UKEY_KEY_PAIR_UNKNOWN;
			if (!c->info || c->info->key_pair != want || !serves(c->info, for_signing))
				continue;
			if (!best || c->info->not_after > best->info->not_after)
				best = c;
		}
	return best;
}

static void check_cert(struct items *it, const struct token_cert *c, const struct check_options *o)
{
	switch (cert_expiry_state(c->info, o->now)) {
	case UKEY_CERT_EXPIRED:
		add(it, "cert_expired", UKEY_SEVERITY_ERROR, cert_params(c, o->now));
		return; /* nothing else matters for it */
	case UKEY_CERT_NOT_YET_VALID:
		add(it, "cert_not_yet_valid", UKEY_SEVERITY_ERROR, cert_params(c, o->now));
		return;
	case UKEY_CERT_RENEWAL_WINDOW:
		add(it, "cert_in_renewal_window", UKEY_SEVERITY_WARNING, cert_params(c, o->now));
		break;
	case UKEY_CERT_VALID:
	case UKEY_CERT_MALFORMED: /* never a parsed certificate's state */
		break;
	}
	/* Valid now but not at the opening: the bid could not be decrypted
	 * there, and renewing after encrypting does not help. */
	if (o->opening && c->info->not_after < o->opening) {
		json_object *p = cert_params(c, o->now);
		json_object_object_add(p, "opening", token_json_time(o->opening));
		add(it, "cert_expires_before_opening", UKEY_SEVERITY_ERROR, p);
	}
}

/* A key the token hides until the PIN is given is not a missing key: the
 * full test (with the PIN) settles it. */
static void check_key_seen(struct items *it, const struct token_cert *c, int tested,
			   const struct check_options *o)
{
	if (c->info->key_pair != UKEY_KEY_PAIR_UNKNOWN || tested >= 0)
		return; /* seen, or settled by the full test (its own item if it failed) */
	add(it, "key_pair_unknown", UKEY_SEVERITY_INFO, cert_params(c, o->now));
}

static void check_certs(struct items *it, const struct token *t, const struct check_options *o)
{
	const struct token_cert *sign = check_current_cert(t, true),
				*enc = check_current_cert(t, false);

	if (!sign) {
		add(it, "no_signing_key", UKEY_SEVERITY_ERROR, NULL);
	} else {
		check_cert(it, sign, o);
		check_key_seen(it, sign, o->selftest ? o->selftest->sign : -1, o);
	}
	if (!enc) {
		add(it, "no_encryption_key", UKEY_SEVERITY_ERROR, NULL);
	} else if (enc != sign) {
		check_cert(it, enc, o);
		check_key_seen(it, enc, o->selftest ? o->selftest->decrypt : -1, o);
	}
}

static void check_pin(struct items *it, const struct token *t)
{
	switch (t->user_pin) {
	case UKEY_PIN_LOCKED:
		add(it, "pin_locked", UKEY_SEVERITY_ERROR, NULL);
		return;
	case UKEY_PIN_FINAL_TRY:
		add(it, "pin_final_try", UKEY_SEVERITY_WARNING, NULL);
		break;
	case UKEY_PIN_COUNT_LOW:
		add(it, "pin_count_low", UKEY_SEVERITY_WARNING, NULL);
		break;
	case UKEY_PIN_OK:
		break;
	}
	if (t->pin_default == 1)
		add(it, "pin_default", UKEY_SEVERITY_WARNING, NULL);
	else if (t->pin_default < 0)
		add(it, "pin_default_unknown", UKEY_SEVERITY_INFO, NULL);
}

static const char *seal_code(enum ukey_seal_status st)
{
	switch (st) {
	case UKEY_SEAL_EXPIRED:
		return "seal_expired";
	case UKEY_SEAL_NOT_BOUND:
		return "seal_not_bound";
	default:
		return "seal_invalid";
	}
}

/* A primary is fine with one usable seal; without any, each seal's
 * problem is an error. A secondary cannot affix the seal at all. */
static void check_seals(struct items *it, const struct token *t, const struct check_options *o)
{
	size_t n_seals = 0;
	bool usable = false;

	for (size_t i = 0; i < t->n_objects; i++)
		if (t->objects[i].seal) {
			n_seals++;
			usable |=
				token_seal_status(t, t->objects[i].seal, o->now) == UKEY_SEAL_VALID;
		}
	if (n_seals == 0) {
		if (t->was_primary)
			add(it, "seal_missing", UKEY_SEVERITY_ERROR, NULL);
		else
			add(it, "secondary_token", UKEY_SEVERITY_INFO, NULL);
		return;
	}
	if (usable)
		return;
	for (size_t i = 0; i < t->n_objects; i++) {
		const struct seal_info *s = t->objects[i].seal;
		json_object *p;
		enum ukey_seal_status st;

		if (!s)
			continue;
		st = token_seal_status(t, s, o->now);
		p = json_object_new_object();
		json_object_object_add(p, "name", json_object_new_string(s->name ? s->name : ""));
		json_object_object_add(p, "status",
				       json_object_new_string(ukey_wire_seal_status_name(st)));
		if (s->layout)
			json_object_object_add(p, "valid_to", token_json_time(s->valid_to));
		add(it, seal_code(st), UKEY_SEVERITY_ERROR, p);
	}
}

static bool hex_equal(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

/* Which of the token's certificates, if any, a bid was encrypted to. */
static const struct token_cert *bid_cert(const struct token *t, const struct check_options *o)
{
	for (size_t r = 0; r < o->n_recipients; r++) {
		const struct bid_recipient *b = &o->recipients[r];
		for (size_t i = 0; i < t->n_certs; i++) {
			const struct cert_info *c = t->certs[i].info;
			if (!c)
				continue;
			if ((hex_equal(b->issuer_der, c->issuer_der) &&
			     hex_equal(b->serial, c->serial)) ||
			    hex_equal(b->skid, c->skid))
				return &t->certs[i];
		}
	}
	return NULL;
}

static void check_bid(struct items *it, const struct token *t, const struct check_options *o)
{
	const struct token_cert *c;

	if (!o->bid_given)
		return;
	c = bid_cert(t, o);
	if (c) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "label",
				       json_object_new_string(c->label ? c->label : ""));
		add(it, "bid_for_this_token", UKEY_SEVERITY_INFO, p);
	} else {
		add(it, "bid_not_for_this_token", UKEY_SEVERITY_ERROR, NULL);
	}
}

static json_object *entry(const char *serial, const char *label, struct items *it,
			  enum ukey_verdict *ret_verdict)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "serial", json_object_new_string(serial ? serial : ""));
	json_object_object_add(o, "label", json_object_new_string(label ? label : ""));
	json_object_object_add(o, "verdict",
			       json_object_new_string(ukey_wire_verdict_name(it->verdict)));
	json_object_object_add(o, "items", it->arr);
	*ret_verdict = it->verdict;
	return o;
}

json_object *check_token(const struct token *t, const struct check_options *o,
			 enum ukey_verdict *ret_verdict)
{
	struct items it = {.arr = json_object_new_array(), .verdict = UKEY_READY};

	check_certs(&it, t, o);
	check_pin(&it, t);
	check_seals(&it, t, o);
	if (o->selftest) {
		if (o->selftest->sign == 0)
			add(&it, "sign_test_failed", UKEY_SEVERITY_ERROR, NULL);
		if (o->selftest->decrypt == 0)
			add(&it, "decrypt_test_failed", UKEY_SEVERITY_ERROR, NULL);
	}
	check_bid(&it, t, o);
	return entry(t->serial, t->label, &it, ret_verdict);
}

json_object *check_not_found(const char *serial, enum ukey_verdict *ret_verdict)
{
	struct items it = {.arr = json_object_new_array(), .verdict = UKEY_READY};
	json_object *p = json_object_new_object();

	json_object_object_add(p, "serial", json_object_new_string(serial ? serial : ""));
	add(&it, "token_not_found", UKEY_SEVERITY_ERROR, p);
	return entry(serial, NULL, &it, ret_verdict);
}

enum ukey_verdict check_worse_verdict(enum ukey_verdict a, enum ukey_verdict b)
{
	/* The enum is ordered from ready to not ready. */
	return a > b ? a : b;
}
