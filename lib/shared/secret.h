/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PINs in memory: held in their own buffers, wiped before they are freed,
 * and wiped out of the JSON objects and print buffers that carried them.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
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

/* Whether obj, or its "params", has a member whose key names a PIN
 * ("pin", "old_pin", "new_pin", "so_pin"). ukey_msg_format() renders such
 * a message into one buffer of its own, sized up front, and never through
 * json-c's print buffers (which grow by realloc and keep the text): render
 * it with ukey_msg_format() only, and wipe that buffer by the length it
 * returns. */
bool ukey_json_has_pins(json_object *obj);

/* Wipes every PIN string of obj and of its "params" (the members above),
 * in place, for their whole length: call it before json_object_put() on a
 * message that carried PINs. It looks up those few members and touches
 * nothing else: a message without PINs costs nothing, and none is
 * rendered again (see ukey_json_has_pins() for what may render one). */
void ukey_json_wipe_pins(json_object *obj);

/* Wipes every string in obj, at any depth (and nothing else): for what a
 * failed parse built, where a PIN may be anywhere. */
void ukey_json_wipe_strings(json_object *obj);
