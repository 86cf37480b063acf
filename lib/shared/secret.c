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

/* Overwrites the PIN strings of obj (and of its "params") with c. */
static void fill_pins(json_object *obj, int c)
{
	static const char *const keys[] = {"pin", "old_pin", "new_pin", "so_pin"};
	json_object *params, *v;

	if (!json_object_is_type(obj, json_type_object))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (json_object_object_get_ex(obj, keys[i], &v) &&
		    json_object_is_type(v, json_type_string))
			memset((char *)json_object_get_string(v), c,
			       (size_t)json_object_get_string_len(v));
	/* Requests carry them one level down, in "params". */
	if (json_object_object_get_ex(obj, "params", &params))
		fill_pins(params, c);
}

void ukey_json_wipe_pins(json_object *obj)
{
	const char *text;

	/* An earlier rendering of obj lives in its print buffer. Rendering
	 * again with each PIN replaced by as many 'x' gives text of the same
	 * length, so json-c reuses that buffer in place (no realloc leaving
	 * the old one behind) and overwrites every byte of it. */
	fill_pins(obj, 'x');
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	if (text)
		OPENSSL_cleanse((char *)text, strlen(text));
	fill_pins(obj, 0);
}
