/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Token snapshots: immutable views over the JSON ukeyd sent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libukey-private.h"
#include "proto.h"
#include "util.h"
#include "wire-names.h"

struct ukey_cert {
	const char *id;
	const char *label;
	const char *sha256;
	const char *subject, *issuer, *serial, *key_type, *ca, *ca_en, *ca_zh;
	int64_t not_before, not_after, days_left;
	enum ukey_cert_expiry expiry;
	enum ukey_cert_usage usage;
	unsigned key_bits, renewal_days;
	bool has_private_key;
	enum ukey_key_pair key_pair;
};

struct ukey_seal {
	enum ukey_seal_status status;
	enum ukey_seal_kind kind;
	const char *name, *esid, *vendor, *picture_type, *object_label;
	int version;
	long type;
	int64_t valid_from, valid_to;
	size_t picture_size;
	bool is_private;
};

struct ukey_object {
	const char *label;
	const char *application;
	size_t size;
};

struct ukey_token {
	int refcount;
	json_object *json; /* owns every string below */
	char *json_text;   /* rendered on first use; json-c's buffer is not thread safe */
	const char *serial, *label, *manufacturer, *model, *module, *backend;
	bool initialized;
	enum ukey_pin_state user_pin, so_pin;
	int pin_default;
	int tries[2][2]; /* [so][0]: left, [so][1]: max; -1 when the token does not tell */
	unsigned long pin_min, pin_max;
	struct ukey_cert *certs;
	size_t n_certs;
	struct ukey_object *objects;
	size_t n_objects;
	enum ukey_holder_kind holder_kind;
	const char *holder_name, *credit_code, *id_masked; /* NULL when absent */
	const char *ca, *ca_en, *ca_zh;
	enum ukey_role role;
	bool seal_missing, seal_usable;
	struct ukey_seal *seals;
	size_t n_seals;
};

struct ukey_token_list {
	int refcount;
	ukey_token **tokens;
	size_t n_tokens;
	bool scanning;
};

static const char *json_str(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int64_t json_int(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

/* A count the token told (0 to 255), or -1 when absent. */
static int json_count(json_object *obj, const char *key)
{
	json_object *v;
	int64_t n;

	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	n = json_object_get_int64(v);
	return n >= 0 && n <= 255 ? (int)n : -1;
}

/* A string member, or NULL when it is absent or null. */
static const char *json_str_or_null(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* "2027-11-21T15:29:02Z" as Unix time; 0 when absent or malformed. */
static int64_t json_time(json_object *obj, const char *key)
{
	const char *s = json_str_or_null(obj, key);
	struct tm tm = {0};
	const char *end;

	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end)
		return 0;
	return (int64_t)timegm(&tm);
}

/* "ca_name":{"en":..,"zh":..} */
static void read_ca(json_object *obj, const char **id, const char **en, const char **zh)
{
	json_object *names = NULL;

	*id = json_str_or_null(obj, "ca");
	json_object_object_get_ex(obj, "ca_name", &names);
	*en = names ? json_str_or_null(names, "en") : NULL;
	*zh = names ? json_str_or_null(names, "zh") : NULL;
}

static void read_cert(json_object *c, struct ukey_cert *out)
{
	json_object *v;

	*out = (struct ukey_cert){
		.id = json_str(c, "id"),
		.label = json_str(c, "label"),
		.sha256 = json_str(c, "sha256"),
		.subject = json_str(c, "subject"),
		.issuer = json_str(c, "issuer"),
		.serial = json_str(c, "serial"),
		.key_type = json_str_or_null(c, "key_type") ? json_str(c, "key_type") : "unknown",
		.not_before = json_time(c, "not_before"),
		.not_after = json_time(c, "not_after"),
		.days_left = json_int(c, "days_left"),
		.usage = ukey_wire_cert_usage_parse(json_str_or_null(c, "usage")),
		.expiry = ukey_wire_cert_expiry_parse(json_str_or_null(c, "expiry")),
		.key_bits = (unsigned)json_int(c, "key_bits"),
		.renewal_days = (unsigned)json_int(c, "renewal_days"),
		.has_private_key = json_object_object_get_ex(c, "has_private_key", &v) &&
				   json_object_get_boolean(v),
		.key_pair = ukey_wire_key_pair_parse(json_str_or_null(c, "key_pair")),
	};
	read_ca(c, &out->ca, &out->ca_en, &out->ca_zh);
}

static void read_seal(json_object *j, struct ukey_seal *out)
{
	*out = (struct ukey_seal){
		.status = ukey_wire_seal_status_parse(json_str_or_null(j, "status")),
		.kind = ukey_wire_seal_kind_parse(json_str_or_null(j, "kind")),
		.name = json_str(j, "name"),
		.esid = json_str(j, "esid"),
		.vendor = json_str(j, "vendor"),
		.picture_type = json_str(j, "picture_type"),
		.object_label = json_str(j, "object_label"),
		.version = (int)json_int(j, "version"),
		.type = (long)json_int(j, "type"),
		.valid_from = json_time(j, "valid_from"),
		.valid_to = json_time(j, "valid_to"),
		.picture_size = (size_t)json_int(j, "picture_size"),
		.is_private = json_object_get_boolean(json_object_object_get(j, "private")),
	};
}

static json_object *json_array(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static void token_free(ukey_token *t)
{
	free(t->seals);
	free(t->certs);
	free(t->objects);
	free(t->json_text);
	json_object_put(t->json);
	free(t);
}

ukey_token *ukey_token_new_from_json(json_object *obj)
{
	json_object *pin = NULL, *arr, *holder, *v;
	ukey_token *t;
	size_t n;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "serial", NULL))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->refcount = 1;
	t->json = json_object_get(obj);
	t->serial = json_str(obj, "serial");
	t->label = json_str(obj, "label");
	t->manufacturer = json_str(obj, "manufacturer");
	t->model = json_str(obj, "model");
	t->module = json_str(obj, "module");
	t->backend = json_str(obj, "backend");
	t->initialized = json_object_get_boolean(json_object_object_get(obj, "initialized"));
	if (json_object_object_get_ex(obj, "pin", &pin)) {
		t->user_pin = ukey_wire_pin_state_parse(json_str(pin, "user"));
		t->so_pin = ukey_wire_pin_state_parse(json_str(pin, "so"));
		t->pin_min = (unsigned long)json_int(pin, "min_len");
		t->pin_max = (unsigned long)json_int(pin, "max_len");
	}
	t->pin_default = -1;
	if (pin && json_object_object_get_ex(pin, "default", &v) &&
	    json_object_is_type(v, json_type_boolean))
		t->pin_default = json_object_get_boolean(v) ? 1 : 0;
	t->tries[0][0] = json_count(pin, "user_tries_left");
	t->tries[0][1] = json_count(pin, "user_tries_max");
	t->tries[1][0] = json_count(pin, "so_tries_left");
	t->tries[1][1] = json_count(pin, "so_tries_max");

	if (json_object_object_get_ex(obj, "holder", &holder)) {
		t->holder_kind = ukey_wire_holder_kind_parse(json_str_or_null(holder, "kind"));
		t->holder_name = json_str_or_null(holder, "name");
		t->credit_code = json_str_or_null(holder, "credit_code");
		t->id_masked = json_str_or_null(holder, "id_masked");
	}
	read_ca(obj, &t->ca, &t->ca_en, &t->ca_zh);

	t->role = ukey_wire_role_parse(json_str_or_null(obj, "role"));
	t->seal_missing =
		json_object_object_get_ex(obj, "seal_missing", &v) && json_object_get_boolean(v);
	t->seal_usable =
		json_object_object_get_ex(obj, "seal_usable", &v) && json_object_get_boolean(v);
	arr = json_array(obj, "seals");
	n = arr ? json_object_array_length(arr) : 0;
	if (n > 0) {
		t->seals = calloc(n, sizeof(*t->seals));
		if (!t->seals)
			goto fail;
		for (size_t i = 0; i < n; i++)
			read_seal(json_object_array_get_idx(arr, i), &t->seals[i]);
		t->n_seals = n;
	}

	arr = json_array(obj, "certs");
	n = arr ? json_object_array_length(arr) : 0;
	if (n > 0) {
		t->certs = calloc(n, sizeof(*t->certs));
		if (!t->certs)
			goto fail;
		for (size_t i = 0; i < n; i++)
			read_cert(json_object_array_get_idx(arr, i), &t->certs[i]);
		t->n_certs = n;
	}

	arr = json_array(obj, "objects");
	n = arr ? json_object_array_length(arr) : 0;
	if (n > 0) {
		t->objects = calloc(n, sizeof(*t->objects));
		if (!t->objects)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			int64_t size = json_int(o, "size");
			t->objects[i] = (struct ukey_object){
				.label = json_str(o, "label"),
				.application = json_str(o, "application"),
				.size = size > 0 ? (size_t)size : 0,
			};
		}
		t->n_objects = n;
	}
	return t;
fail:
	token_free(t);
	return NULL;
}

UKEY_EXPORT ukey_token *ukey_token_ref(ukey_token *t)
{
	if (t)
		__atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED);
	return t;
}

UKEY_EXPORT ukey_token *ukey_token_unref(ukey_token *t)
{
	if (t && __atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		token_free(t);
	return NULL;
}

UKEY_EXPORT const char *ukey_token_get_serial(const ukey_token *t)
{
	return t ? t->serial : "";
}

UKEY_EXPORT const char *ukey_token_get_label(const ukey_token *t)
{
	return t ? t->label : "";
}

UKEY_EXPORT const char *ukey_token_get_manufacturer(const ukey_token *t)
{
	return t ? t->manufacturer : "";
}

UKEY_EXPORT const char *ukey_token_get_model(const ukey_token *t)
{
	return t ? t->model : "";
}

UKEY_EXPORT const char *ukey_token_get_module(const ukey_token *t)
{
	return t ? t->module : "";
}

UKEY_EXPORT bool ukey_token_is_initialized(const ukey_token *t)
{
	return t && t->initialized;
}

UKEY_EXPORT enum ukey_pin_state ukey_token_get_user_pin_state(const ukey_token *t)
{
	return t ? t->user_pin : UKEY_PIN_OK;
}

UKEY_EXPORT enum ukey_pin_state ukey_token_get_so_pin_state(const ukey_token *t)
{
	return t ? t->so_pin : UKEY_PIN_OK;
}

UKEY_EXPORT int ukey_token_get_pin_is_default(const ukey_token *t)
{
	return t ? t->pin_default : -1;
}

UKEY_EXPORT const char *ukey_token_get_backend(const ukey_token *t)
{
	return t ? t->backend : "";
}

UKEY_EXPORT bool ukey_token_get_pin_tries(const ukey_token *t, bool so, int *ret_left, int *ret_max)
{
	const int *tries = t ? t->tries[so ? 1 : 0] : NULL;

	if (!tries || tries[0] < 0 || tries[1] < 0 || tries[0] > tries[1])
		return false;
	if (ret_left)
		*ret_left = tries[0];
	if (ret_max)
		*ret_max = tries[1];
	return true;
}

UKEY_EXPORT unsigned long ukey_token_get_pin_min_len(const ukey_token *t)
{
	return t ? t->pin_min : 0;
}

UKEY_EXPORT unsigned long ukey_token_get_pin_max_len(const ukey_token *t)
{
	return t ? t->pin_max : 0;
}

UKEY_EXPORT size_t ukey_token_get_cert_count(const ukey_token *t)
{
	return t ? t->n_certs : 0;
}

UKEY_EXPORT const ukey_cert *ukey_token_get_cert(const ukey_token *t, size_t index)
{
	return t && index < t->n_certs ? &t->certs[index] : NULL;
}

UKEY_EXPORT size_t ukey_token_get_object_count(const ukey_token *t)
{
	return t ? t->n_objects : 0;
}

UKEY_EXPORT const ukey_object *ukey_token_get_object(const ukey_token *t, size_t index)
{
	return t && index < t->n_objects ? &t->objects[index] : NULL;
}

UKEY_EXPORT const char *ukey_token_get_json(const ukey_token *t_const)
{
	/* The lazily rendered text is a cache, not state: the token stays
	 * logically immutable. */
	ukey_token *t = (ukey_token *)t_const;
	char *text, *expected = NULL;
	json_object *copy = NULL;

	if (!t)
		return "";
	text = __atomic_load_n(&t->json_text, __ATOMIC_ACQUIRE);
	if (text)
		return text;
	/* Render from a private deep copy: json-c keeps its print buffer in
	 * the object, and another thread may be rendering the same token.
	 * The first thread to finish publishes its text. */
	if (json_object_deep_copy(t->json, &copy, NULL) != 0)
		return "";
	text = strdup(json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(copy);
	if (!text)
		return "";
	if (!__atomic_compare_exchange_n(&t->json_text, &expected, text, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		free(text);
		return expected;
	}
	return text;
}

UKEY_EXPORT const char *ukey_cert_get_id(const ukey_cert *c)
{
	return c ? c->id : "";
}

UKEY_EXPORT const char *ukey_cert_get_label(const ukey_cert *c)
{
	return c ? c->label : "";
}

UKEY_EXPORT const char *ukey_cert_get_sha256(const ukey_cert *c)
{
	return c ? c->sha256 : "";
}

static const char *pick_name(const char *en, const char *zh, const char *language)
{
	if (language && strncmp(language, "zh", 2) == 0 && zh)
		return zh;
	return en;
}

UKEY_EXPORT enum ukey_holder_kind ukey_token_get_holder_kind(const ukey_token *t)
{
	return t ? t->holder_kind : UKEY_HOLDER_UNKNOWN;
}

UKEY_EXPORT const char *ukey_token_get_holder_name(const ukey_token *t)
{
	return t && t->holder_name ? t->holder_name : "";
}

UKEY_EXPORT const char *ukey_token_get_holder_credit_code(const ukey_token *t)
{
	return t ? t->credit_code : NULL;
}

UKEY_EXPORT const char *ukey_token_get_holder_id_masked(const ukey_token *t)
{
	return t ? t->id_masked : NULL;
}

UKEY_EXPORT const char *ukey_token_get_ca(const ukey_token *t)
{
	return t ? t->ca : NULL;
}

UKEY_EXPORT const char *ukey_token_get_ca_name(const ukey_token *t, const char *language)
{
	return t ? pick_name(t->ca_en, t->ca_zh, language) : NULL;
}

UKEY_EXPORT const char *ukey_cert_get_subject(const ukey_cert *c)
{
	return c ? c->subject : "";
}

UKEY_EXPORT const char *ukey_cert_get_issuer(const ukey_cert *c)
{
	return c ? c->issuer : "";
}

UKEY_EXPORT const char *ukey_cert_get_serial(const ukey_cert *c)
{
	return c ? c->serial : "";
}

UKEY_EXPORT int64_t ukey_cert_get_not_before(const ukey_cert *c)
{
	return c ? c->not_before : 0;
}

UKEY_EXPORT int64_t ukey_cert_get_not_after(const ukey_cert *c)
{
	return c ? c->not_after : 0;
}

UKEY_EXPORT int64_t ukey_cert_get_days_left(const ukey_cert *c)
{
	return c ? c->days_left : 0;
}

UKEY_EXPORT enum ukey_cert_expiry ukey_cert_get_expiry(const ukey_cert *c)
{
	return c ? c->expiry : UKEY_CERT_MALFORMED;
}

UKEY_EXPORT unsigned ukey_cert_get_renewal_days(const ukey_cert *c)
{
	return c ? c->renewal_days : 0;
}

UKEY_EXPORT enum ukey_cert_usage ukey_cert_get_usage(const ukey_cert *c)
{
	return c ? c->usage : UKEY_CERT_USAGE_UNKNOWN;
}

UKEY_EXPORT const char *ukey_cert_get_key_type(const ukey_cert *c)
{
	return c ? c->key_type : "unknown";
}

UKEY_EXPORT unsigned ukey_cert_get_key_bits(const ukey_cert *c)
{
	return c ? c->key_bits : 0;
}

UKEY_EXPORT bool ukey_cert_has_private_key(const ukey_cert *c)
{
	return c && c->has_private_key;
}

UKEY_EXPORT enum ukey_key_pair ukey_cert_get_key_pair(const ukey_cert *c)
{
	if (!c)
		return UKEY_KEY_PAIR_UNKNOWN;
	/* A ukeyd before key_pair said has_private_key only. */
	return c->has_private_key ? UKEY_KEY_PAIR_PRESENT : c->key_pair;
}

UKEY_EXPORT const char *ukey_cert_get_ca(const ukey_cert *c)
{
	return c ? c->ca : NULL;
}

UKEY_EXPORT const char *ukey_cert_get_ca_name(const ukey_cert *c, const char *language)
{
	return c ? pick_name(c->ca_en, c->ca_zh, language) : NULL;
}

UKEY_EXPORT const char *ukey_object_get_label(const ukey_object *o)
{
	return o ? o->label : "";
}

UKEY_EXPORT const char *ukey_object_get_application(const ukey_object *o)
{
	return o ? o->application : "";
}

UKEY_EXPORT size_t ukey_object_get_size(const ukey_object *o)
{
	return o ? o->size : 0;
}

enum ukey_error ukey_token_list_new_from_json(json_object *tokens, bool scanning,
					      ukey_token_list **ret_list)
{
	ukey_token_list *l;
	size_t n;

	if (!json_object_is_type(tokens, json_type_array))
		return UKEY_E_PROTOCOL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return UKEY_E_NO_MEMORY;
	l->refcount = 1;
	l->scanning = scanning;
	n = json_object_array_length(tokens);
	if (n > 0) {
		l->tokens = calloc(n, sizeof(*l->tokens));
		if (!l->tokens) {
			free(l);
			return UKEY_E_NO_MEMORY;
		}
	}
	for (size_t i = 0; i < n; i++) {
		ukey_token *t = ukey_token_new_from_json(json_object_array_get_idx(tokens, i));
		if (!t) {
			ukey_token_list_unref(l);
			return UKEY_E_PROTOCOL;
		}
		l->tokens[l->n_tokens++] = t;
	}
	*ret_list = l;
	return UKEY_OK;
}

UKEY_EXPORT bool ukey_token_list_is_scanning(const ukey_token_list *l)
{
	return l && l->scanning;
}

UKEY_EXPORT ukey_token_list *ukey_token_list_ref(ukey_token_list *l)
{
	if (l)
		__atomic_add_fetch(&l->refcount, 1, __ATOMIC_RELAXED);
	return l;
}

UKEY_EXPORT ukey_token_list *ukey_token_list_unref(ukey_token_list *l)
{
	if (!l || __atomic_sub_fetch(&l->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return NULL;
	for (size_t i = 0; i < l->n_tokens; i++)
		ukey_token_unref(l->tokens[i]);
	free(l->tokens);
	free(l);
	return NULL;
}

UKEY_EXPORT size_t ukey_token_list_get_count(const ukey_token_list *l)
{
	return l ? l->n_tokens : 0;
}

UKEY_EXPORT ukey_token *ukey_token_list_get(const ukey_token_list *l, size_t index)
{
	return l && index < l->n_tokens ? l->tokens[index] : NULL;
}

UKEY_EXPORT enum ukey_role ukey_token_get_role(const ukey_token *t)
{
	return t ? t->role : UKEY_ROLE_UNKNOWN;
}

UKEY_EXPORT bool ukey_token_is_seal_missing(const ukey_token *t)
{
	return t && t->seal_missing;
}

UKEY_EXPORT bool ukey_token_is_seal_usable(const ukey_token *t)
{
	return t && t->seal_usable;
}

UKEY_EXPORT size_t ukey_token_get_seal_count(const ukey_token *t)
{
	return t ? t->n_seals : 0;
}

UKEY_EXPORT const ukey_seal *ukey_token_get_seal(const ukey_token *t, size_t index)
{
	return t && index < t->n_seals ? &t->seals[index] : NULL;
}

UKEY_EXPORT enum ukey_seal_status ukey_seal_get_status(const ukey_seal *s)
{
	return s ? s->status : UKEY_SEAL_MALFORMED;
}

UKEY_EXPORT enum ukey_seal_kind ukey_seal_get_kind(const ukey_seal *s)
{
	return s ? s->kind : UKEY_SEAL_OTHER;
}

UKEY_EXPORT const char *ukey_seal_get_name(const ukey_seal *s)
{
	return s ? s->name : "";
}

UKEY_EXPORT const char *ukey_seal_get_esid(const ukey_seal *s)
{
	return s ? s->esid : "";
}

UKEY_EXPORT int ukey_seal_get_version(const ukey_seal *s)
{
	return s ? s->version : 0;
}

UKEY_EXPORT long ukey_seal_get_type(const ukey_seal *s)
{
	return s ? s->type : 0;
}

UKEY_EXPORT const char *ukey_seal_get_vendor(const ukey_seal *s)
{
	return s ? s->vendor : "";
}

UKEY_EXPORT int64_t ukey_seal_get_valid_from(const ukey_seal *s)
{
	return s ? s->valid_from : 0;
}

UKEY_EXPORT int64_t ukey_seal_get_valid_to(const ukey_seal *s)
{
	return s ? s->valid_to : 0;
}

UKEY_EXPORT const char *ukey_seal_get_picture_type(const ukey_seal *s)
{
	return s ? s->picture_type : "";
}

UKEY_EXPORT size_t ukey_seal_get_picture_size(const ukey_seal *s)
{
	return s ? s->picture_size : 0;
}

UKEY_EXPORT const char *ukey_seal_get_object_label(const ukey_seal *s)
{
	return s ? s->object_label : "";
}

UKEY_EXPORT bool ukey_seal_is_private(const ukey_seal *s)
{
	return s && s->is_private;
}
