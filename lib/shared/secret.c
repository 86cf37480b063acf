/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "secret.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct ukey_secret *ukey_secret_new(const char *s, size_t len)
{
	struct ukey_secret *r = malloc(sizeof(*r) + len + 1);

	if (!r)
		return NULL;
	r->len = len;
	memcpy(r->data, s, len);
	r->data[len] = '\0';
	return r;
}

void ukey_secret_free(struct ukey_secret *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, sizeof(*s) + s->len + 1);
	free(s);
}

void ukey_json_wipe_string(json_object *s)
{
	if (!json_object_is_type(s, json_type_string))
		return;
	/* json-c hands out its own buffer; the cast is how it is wiped. */
	OPENSSL_cleanse((char *)json_object_get_string(s), (size_t)json_object_get_string_len(s));
}

void ukey_json_wipe_strings(json_object *obj)
{
	switch (json_object_get_type(obj)) {
	case json_type_string:
		ukey_json_wipe_string(obj);
		break;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(obj); i++)
			ukey_json_wipe_strings(json_object_array_get_idx(obj, i));
		break;
	case json_type_object: {
		struct json_object_iterator it = json_object_iter_begin(obj);
		struct json_object_iterator end = json_object_iter_end(obj);
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			ukey_json_wipe_strings(json_object_iter_peek_value(&it));
		break;
	}
	default:
		break;
	}
}

static const char *const pin_keys[] = {"pin", "old_pin", "new_pin", "so_pin"};

/* Calls fn on each PIN string of obj's own members; stops at the first
 * for which it returns true. */
static bool each_pin_member(json_object *obj, bool (*fn)(json_object *s))
{
	json_object *v;

	if (!json_object_is_type(obj, json_type_object))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(pin_keys); i++)
		if (json_object_object_get_ex(obj, pin_keys[i], &v) &&
		    json_object_is_type(v, json_type_string) && fn(v))
			return true;
	return false;
}

/* The same for obj and its "params" (requests carry them one level down). */
static bool each_pin(json_object *obj, bool (*fn)(json_object *s))
{
	json_object *params;

	return each_pin_member(obj, fn) ||
	       (json_object_object_get_ex(obj, "params", &params) && each_pin_member(params, fn));
}

static bool found(json_object *s)
{
	return true;
}

static bool wipe(json_object *s)
{
	ukey_json_wipe_string(s);
	return false;
}

bool ukey_json_has_pins(json_object *obj)
{
	return each_pin(obj, found);
}

void ukey_json_wipe_pins(json_object *obj)
{
	each_pin(obj, wipe);
}
