/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PINs in memory: held in their own buffers, wiped before they are freed,
 * and wiped out of the JSON objects and print buffers that carried them.
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

struct ukey_secret {
	size_t len;
	char data[]; /* NUL-terminated */
};

/* A copy of s[0..len) (it may contain no NUL). NULL on ENOMEM. */
struct ukey_secret *ukey_secret_new(const char *s, size_t len);
/* Wipes and frees; NULL is allowed. */
void ukey_secret_free(struct ukey_secret *s);

static inline void ukey_secret_freep(struct ukey_secret **s)
{
	ukey_secret_free(*s);
}
#define _cleanup_secret_ __attribute__((cleanup(ukey_secret_freep)))

/* Wipes the text of a JSON string object in place (json-c keeps it in the
 * object until the object is freed). Other types are left alone. */
void ukey_json_wipe_string(json_object *s);

/* Wipes every string member of obj (or of its "params") whose key names
 * a PIN ("pin", "old_pin", "new_pin", "so_pin"), and json-c's print buffer
 * of obj, where the text of an earlier rendering stays. Call it before
 * json_object_put() on a message that carried PINs; render that message
 * with JSON_C_TO_STRING_PLAIN only. */
void ukey_json_wipe_pins(json_object *obj);

/* Wipes every string in obj, at any depth (and nothing else): for what a
 * failed parse built, where a PIN may be anywhere. */
void ukey_json_wipe_strings(json_object *obj);
