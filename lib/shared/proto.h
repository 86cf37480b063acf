/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ukeyd wire protocol codec, shared by the daemon and libukey:
 * newline-delimited JSON objects over a Unix stream socket.
 * docs/protocol.md is the contract; keep the two in step.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "ukey/ukey.h"

#define UKEY_PROTOCOL_VERSION 1

static inline void json_object_putp(json_object **o)
{
	json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(json_object_putp)))

/* The daemon drops a client whose request line exceeds this. Requests
 * are small; only PINs and bid files (later) make them grow. */
#define UKEY_MAX_REQUEST_SIZE (256u * 1024u)
/* libukey refuses a reply line longer than this: a token list with
 * many certificates stays far below it. */
#define UKEY_MAX_REPLY_SIZE (64u * 1024u * 1024u)
/* Deeper nesting than any message we define is an attack on the parser. */
#define UKEY_MAX_JSON_DEPTH 16

/* A byte buffer that a non-blocking reader fills and that hands out
 * complete lines. Lines are returned in place (the '\n' replaced by
 * '\0') and stay valid until the next fill. */
struct ukey_linebuf {
	char *data;
	size_t start; /* first byte not yet handed out */
	size_t len;   /* bytes stored, from data[0] */
	size_t cap;
	size_t max; /* the longest line accepted, without its '\n' */
	bool wipe;  /* zero memory before it is freed or reused (PINs) */
};

void ukey_linebuf_init(struct ukey_linebuf *b, size_t max, bool wipe);
void ukey_linebuf_release(struct ukey_linebuf *b);

/* One read(2) into the buffer. Returns bytes read, 0 at end of file,
 * -EAGAIN when nothing is there, -EMSGSIZE when a line outgrew max,
 * or another negative errno. */
long ukey_linebuf_fill(struct ukey_linebuf *b, int fd);

/* The next complete line, or 0 when none is buffered yet. */
int ukey_linebuf_next(struct ukey_linebuf *b, char **ret_line, size_t *ret_len);

/* Parses one line into a JSON object. Returns 0, or -EBADMSG when the
 * line is not exactly one JSON object (trailing bytes, arrays, scalars,
 * invalid UTF-8, excessive depth). */
int ukey_msg_parse(const char *line, size_t len, json_object **ret_obj);

/* The values a request line may hold, counted as the '[', '{' and ','
 * outside strings, and one. Requests hold few (a check of a bid with 64
 * recipients counts some 200); ukeyd refuses more before json-c builds
 * them, so that no line costs much more than reading its bytes: 256 KiB
 * of empty arrays are some 85,000 objects, 20 ms to build and free. */
#define UKEY_MAX_REQUEST_VALUES 1024

/* ukey_msg_parse() for a request (ukeyd's side): also -EBADMSG for a line
 * with more than UKEY_MAX_REQUEST_VALUES values, found by one pass over
 * its bytes, nothing built. */
int ukey_msg_parse_request(const char *line, size_t len, json_object **ret_obj);

/* Serializes obj as one protocol line (compact JSON plus '\n'). A message
 * with PINs (ukey_json_has_pins()) is rendered into the returned buffer
 * alone, sized up front: wipe it by *ret_len, no other copy exists.
 * Returns a malloc'ed string, or NULL on allocation failure. */
char *ukey_msg_format(json_object *obj, size_t *ret_len);

/* Error names on the wire ("error":{"code":NAME,...}). */
#define UKEY_WIRE_INVALID_JSON "invalid_json"
#define UKEY_WIRE_INVALID_REQUEST "invalid_request"
#define UKEY_WIRE_UNKNOWN_METHOD "unknown_method"
#define UKEY_WIRE_HANDSHAKE_REQUIRED "handshake_required"
#define UKEY_WIRE_VERSION_UNSUPPORTED "version_unsupported"
#define UKEY_WIRE_MESSAGE_TOO_LARGE "message_too_large"
#define UKEY_WIRE_NOT_FOUND "not_found"
#define UKEY_WIRE_INTERNAL "internal"
#define UKEY_WIRE_BUSY "busy"
#define UKEY_WIRE_PERMISSION_DENIED "permission_denied"
#define UKEY_WIRE_PIN_POLICY "pin_policy"
#define UKEY_WIRE_PIN_INCORRECT "pin_incorrect"
#define UKEY_WIRE_PIN_LOCKED "pin_locked"
#define UKEY_WIRE_LOCKOUT_GUARD "lockout_guard"
#define UKEY_WIRE_TOKEN_REMOVED "token_removed"
#define UKEY_WIRE_TOKEN_ERROR "token_error"
#define UKEY_WIRE_AUDIT_UNAVAILABLE "audit_unavailable"
#define UKEY_WIRE_RETRY_LATER "retry_later"
