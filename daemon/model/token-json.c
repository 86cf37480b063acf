/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "token-json.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <time.h>

#include "ca-profiles.h"
#include "token.h"
#include "util.h"
#include "wire-names.h"

static json_object *json_string_or_empty(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *hex_json(const uint8_t *data, size_t len)
{
	_cleanup_free_ char *hex = ukey_hex_encode(data, len);

	return hex ? json_object_new_string(hex) : NULL;
}

json_object *token_json_time(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return json_object_new_string(buf);
}

static json_object *ca_json(const struct ca_profile *ca, json_object *into)
{
	json_object *names = json_object_new_object();

	json_object_object_add(into, "ca", json_object_new_string(ca->id));
	json_object_object_add(names, "en", json_object_new_string(ca->name_en));
	json_object_object_add(names, "zh", json_object_new_string(ca->name_zh));
	json_object_object_add(into, "ca_name", names);
	return into;
}

static json_object *string_array(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static void cert_info_to_json(const struct cert_info *c, int64_t now, json_object *o)
{
	json_object_object_add(o, "subject", json_object_new_string(c->subject));
	json_object_object_add(o, "issuer", json_object_new_string(c->issuer));
	json_object_object_add(o, "serial", json_object_new_string(c->serial));
	json_object_object_add(o, "issuer_der", json_object_new_string(c->issuer_der));
	if (c->skid)
		json_object_object_add(o, "skid", json_object_new_string(c->skid));
	json_object_object_add(o, "not_before", token_json_time(c->not_before));
	json_object_object_add(o, "not_after", token_json_time(c->not_after));
	json_object_object_add(o, "days_left", json_object_new_int64(cert_days_left(c, now)));
	json_object_object_add(
		o, "expiry",
		json_object_new_string(ukey_wire_cert_expiry_name(cert_expiry_state(c, now))));
	json_object_object_add(o, "renewal_days", json_object_new_int(c->ca->renewal_days));
	json_object_object_add(o, "usage",
			       json_object_new_string(ukey_wire_cert_usage_name(c->usage)));
	json_object_object_add(o, "ext_key_usage",
			       string_array(c->ext_key_usage, c->n_ext_key_usage));
	json_object_object_add(o, "key_type",
			       json_object_new_string(cert_key_type_name(c->key_type)));
	json_object_object_add(o, "key_bits", json_object_new_int(c->key_bits));
	json_object_object_add(o, "has_private_key", json_object_new_boolean(c->has_private_key));
	json_object_object_add(o, "key_pair",
			       json_object_new_string(ukey_wire_key_pair_name(c->key_pair)));
	ca_json(c->ca, o);
}

static json_object *cert_to_json(const struct token_cert *c, int64_t now)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	SHA256(c->der, c->der_len, digest);
	json_object_object_add(o, "id", hex_json(c->id, c->id_len));
	json_object_object_add(o, "label", json_string_or_empty(c->label));
	json_object_object_add(o, "sha256", hex_json(digest, sizeof(digest)));
	if (c->info)
		cert_info_to_json(c->info, now, o);
	else
		json_object_object_add(o, "malformed", json_object_new_boolean(true));
	return o;
}

static json_object *seal_to_json(const struct token *t, const struct token_object *o, int64_t now)
{
	const struct seal_info *s = o->seal;
	json_object *j = json_object_new_object();

	json_object_object_add(j, "object_label", json_string_or_empty(o->label));
	json_object_object_add(
		j, "status",
		json_object_new_string(ukey_wire_seal_status_name(token_seal_status(t, s, now))));
	if (s->layout == 0)
		return j; /* malformed: nothing more can be said */
	json_object_object_add(j, "kind",
			       json_object_new_string(ukey_wire_seal_kind_name(s->kind)));
	json_object_object_add(j, "name", json_object_new_string(s->name));
	json_object_object_add(j, "esid", json_object_new_string(s->esid));
	json_object_object_add(j, "version", json_object_new_int(s->layout));
	json_object_object_add(j, "type", json_object_new_int64(s->property_type));
	json_object_object_add(j, "vendor", json_object_new_string(s->vendor));
	json_object_object_add(j, "valid_from", token_json_time(s->valid_from));
	json_object_object_add(j, "valid_to", token_json_time(s->valid_to));
	json_object_object_add(j, "picture_type", json_object_new_string(s->picture_type));
	json_object_object_add(j, "picture_size", json_object_new_int64((int64_t)s->picture_len));
	return j;
}

static void seals_to_json(const struct token *t, const struct token *priv, int64_t now,
			  json_object *o)
{
	json_object *arr = json_object_new_array();
	bool any = false, usable = false;

	/* Public objects, then the private ones the caller's PIN opened. */
	for (int pass = 0; pass < 2; pass++) {
		const struct token *from = pass == 0 ? t : priv;
		for (size_t i = 0; from && i < from->n_objects; i++) {
			json_object *j;
			if (!from->objects[i].seal)
				continue;
			any = true;
			usable |=
				token_seal_status(t, from->objects[i].seal, now) == UKEY_SEAL_VALID;
			j = seal_to_json(t, &from->objects[i], now);
			if (pass == 1)
				json_object_object_add(j, "private", json_object_new_boolean(true));
			json_object_array_add(arr, j);
		}
	}
	/* A primary carries the seal; a token once seen with one that shows
	 * none now is a primary that lost it, not a secondary. */
	json_object_object_add(
		o, "role",
		json_object_new_string(ukey_wire_role_name(
			any || t->was_primary ? UKEY_ROLE_PRIMARY : UKEY_ROLE_SECONDARY)));
	json_object_object_add(o, "seal_missing", json_object_new_boolean(!any && t->was_primary));
	json_object_object_add(o, "seal_usable", json_object_new_boolean(usable));
	json_object_object_add(o, "seals", arr);
}

static json_object *holder_to_json(const struct holder *h)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind",
			       json_object_new_string(ukey_wire_holder_kind_name(h->kind)));
	json_object_object_add(o, "name", h->name ? json_object_new_string(h->name) : NULL);
	json_object_object_add(o, "credit_code",
			       h->credit_code ? json_object_new_string(h->credit_code) : NULL);
	if (h->person_id_masked)
		json_object_object_add(o, "id_masked", json_object_new_string(h->person_id_masked));
	return o;
}

static json_object *object_to_json(const struct token_object *d)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "class", json_object_new_string("data"));
	json_object_object_add(o, "label", json_string_or_empty(d->label));
	json_object_object_add(o, "application", json_string_or_empty(d->application));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)d->value_len));
	return o;
}

/* A count the token told (SKF); absent where it did not. */
static void add_tries(json_object *pin, const char *key, int n)
{
	if (n >= 0)
		json_object_object_add(pin, key, json_object_new_int(n));
}

json_object *token_to_json(const struct token *t, int64_t now)
{
	return token_to_json_with_private(t, NULL, now);
}

json_object *token_to_json_with_private(const struct token *t, const struct token *private_objects,
					int64_t now)
{
	json_object *o = json_object_new_object(), *pin, *certs, *objects;

	if (!o)
		return NULL;
	pin = json_object_new_object();
	certs = json_object_new_array();
	objects = json_object_new_array();
	if (!pin || !certs || !objects) {
		json_object_put(pin);
		json_object_put(certs);
		json_object_put(objects);
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "serial", json_string_or_empty(t->serial));
	json_object_object_add(o, "label", json_string_or_empty(t->label));
	json_object_object_add(o, "manufacturer", json_string_or_empty(t->manufacturer));
	json_object_object_add(o, "model", json_string_or_empty(t->model));
	json_object_object_add(o, "module", json_string_or_empty(t->module));
	json_object_object_add(o, "backend", json_string_or_empty(t->backend));
	json_object_object_add(o, "initialized", json_object_new_boolean(t->initialized));
	json_object_object_add(pin, "user",
			       json_object_new_string(ukey_wire_pin_state_name(t->user_pin)));
	json_object_object_add(pin, "so",
			       json_object_new_string(ukey_wire_pin_state_name(t->so_pin)));
	json_object_object_add(pin, "min_len", json_object_new_int64((int64_t)t->pin_min));
	json_object_object_add(pin, "max_len", json_object_new_int64((int64_t)t->pin_max));
	json_object_object_add(pin, "default",
			       t->pin_default < 0 ? NULL : json_object_new_boolean(t->pin_default));
	add_tries(pin, "user_tries_left", t->user_tries_left);
	add_tries(pin, "user_tries_max", t->user_tries_max);
	add_tries(pin, "so_tries_left", t->so_tries_left);
	add_tries(pin, "so_tries_max", t->so_tries_max);
	json_object_object_add(o, "pin", pin);
	for (size_t i = 0; i < t->n_certs; i++)
		json_object_array_add(certs, cert_to_json(&t->certs[i], now));
	json_object_object_add(o, "certs", certs);
	for (size_t i = 0; i < t->n_objects; i++)
		json_object_array_add(objects, object_to_json(&t->objects[i]));
	json_object_object_add(o, "objects", objects);
	json_object_object_add(o, "holder", holder_to_json(&t->holder));
	if (t->initialized)
		seals_to_json(t, private_objects, now, o);
	if (t->holder.ca)
		ca_json(t->holder.ca, o);
	else
		json_object_object_add(o, "ca", NULL);
	return o;
}
