/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto.h"

#include <json-c/printbuf.h>

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"
#include "util.h"

/* What one read takes at most, and the room below which a buffer grows. */
#define LINEBUF_MAX_READ 65536u
#define LINEBUF_MIN_READ 4096u
/* How messages are rendered, on every path (ukey_msg_format). */
#define MSG_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

void ukey_linebuf_init(struct ukey_linebuf *b, size_t max, bool wipe)
{
	*b = (struct ukey_linebuf){.max = max, .wipe = wipe};
}

void ukey_linebuf_release(struct ukey_linebuf *b)
{
	if (b->data && b->wipe)
		OPENSSL_cleanse(b->data, b->cap);
	free(b->data);
	*b = (struct ukey_linebuf){.max = b->max, .wipe = b->wipe};
}

/* Moves unread bytes to the front, so the buffer never grows past what
 * one unfinished line needs. */
static void linebuf_compact(struct ukey_linebuf *b)
{
	if (b->start == 0)
		return;
	memmove(b->data, b->data + b->start, b->len - b->start);
	b->len -= b->start;
	if (b->wipe)
		OPENSSL_cleanse(b->data + b->len, b->start);
	b->start = 0;
}

static int linebuf_reserve(struct ukey_linebuf *b, size_t want)
{
	size_t ncap;
	char *n;

	if (b->cap - b->len >= want)
		return 0;
	ncap = b->cap ? b->cap : 4096;
	while (ncap - b->len < want)
		ncap *= 2;
	if (!b->wipe) {
		n = realloc(b->data, ncap);
		if (!n)
			return -ENOMEM;
	} else {
		/* realloc could leave a copy of a PIN behind in freed memory. */
		n = malloc(ncap);
		if (!n)
			return -ENOMEM;
		if (b->data) {
			memcpy(n, b->data, b->len);
			OPENSSL_cleanse(b->data, b->cap);
			free(b->data);
		}
	}
	b->data = n;
	b->cap = ncap;
	return 0;
}

long ukey_linebuf_fill(struct ukey_linebuf *b, int fd)
{
	size_t want, room;
	ssize_t n;
	int r;

	linebuf_compact(b);
	if (b->len > b->max)
		return -EMSGSIZE;
	/* Up to the rest of the longest line and its '\n', LINEBUF_MAX_READ at
	 * most. An empty buffer reads what fits in LINEBUF_MIN_READ (or more,
	 * when it has grown): one that serves short lines stays that small. A
	 * line that a read left unfinished makes room for a whole read, and a
	 * long line costs a read per LINEBUF_MAX_READ and O(n) copying. */
	want = b->max + 1 - b->len;
	if (want > LINEBUF_MAX_READ)
		want = LINEBUF_MAX_READ;
	r = linebuf_reserve(b,
			    (b->len == 0 && want > LINEBUF_MIN_READ ? LINEBUF_MIN_READ : want) + 1);
	if (r < 0)
		return r;
	room = b->cap - b->len - 1;
	if (room > want)
		room = want;
	n = read(fd, b->data + b->len, room);
	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	b->len += (size_t)n;
	if (n > 0 && !memchr(b->data + b->start, '\n', b->len - b->start) &&
	    b->len - b->start > b->max)
		return -EMSGSIZE;
	return n;
}

int ukey_linebuf_next(struct ukey_linebuf *b, char **ret_line, size_t *ret_len)
{
	char *begin = b->data + b->start;
	char *nl;

	if (b->start >= b->len)
		return 0;
	nl = memchr(begin, '\n', b->len - b->start);
	if (!nl)
		return 0;
	*nl = '\0';
	*ret_line = begin;
	*ret_len = (size_t)(nl - begin);
	b->start += *ret_len + 1;
	return 1;
}

int ukey_msg_parse(const char *line, size_t len, json_object **ret_obj)
{
	json_tokener *tok;
	json_object *obj;
	int r = -EBADMSG;

	if (len > (size_t)INT32_MAX || !ukey_utf8_valid(line, len))
		return -EBADMSG;
	tok = json_tokener_new_ex(UKEY_MAX_JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	/* The tokener gathers each string (a PIN too) in its print buffer,
	 * piece by piece where it has escapes; grown by realloc on the way,
	 * it would leave the pieces read so far in freed memory. Sized up
	 * front for the longest string the line can hold, it never grows. */
	if (printbuf_memset(tok->pb, 0, 0, (int)len + 8) < 0) {
		json_tokener_free(tok);
		return -ENOMEM;
	}
	printbuf_reset(tok->pb);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (obj && json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(obj, json_type_object)) {
		/* Only trailing white space may follow the object. */
		size_t used = json_tokener_get_parse_end(tok);
		while (used < len && strchr(" \t\r", line[used]))
			used++;
		if (used == len) {
			*ret_obj = obj;
			obj = NULL;
			r = 0;
		}
	}
	/* Not a message: whatever it built may hold a PIN anywhere, and is
	 * wiped before it is freed (the object, and the objects the tokener
	 * still holds half built at each depth). */
	if (r < 0) {
		ukey_json_wipe_strings(obj);
		for (int d = 0; d <= tok->depth && d < UKEY_MAX_JSON_DEPTH; d++)
			ukey_json_wipe_strings(tok->stack[d].current);
	}
	json_object_put(obj);
	/* The tokener gathers each string's text, PINs included, in a print
	 * buffer it frees unwiped. json-c 0.16 offers no way to wipe it but
	 * its (deprecated) public fields. */
	if (tok->pb && tok->pb->buf)
		OPENSSL_cleanse(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
	return r;
}

/* Whether line holds more than max values. Every '[', '{' and ',' outside
 * strings starts one, and so does the line: a count that can only be too
 * high (an object in an array counts twice). Strings are skipped as
 * json-c reads them: from a '"', or a '\'' (json-c takes single-quoted
 * member names, strict or not), to the same quote, a backslash taking
 * the next character with it; one without escapes at memchr's speed. */
static bool too_many_values(const char *line, size_t len, size_t max)
{
	const char *p = line, *end = line + len;
	size_t values = 1;

	while (p < end) {
		char c = *p++;

		if (c == '"' || c == '\'') {
			const char *q = memchr(p, c, (size_t)(end - p));

			if (!q)
				return false; /* unterminated: json-c refuses it */
			if (!memchr(p, '\\', (size_t)(q - p))) {
				p = q + 1;
				continue;
			}
			for (; p < end && *p != c; p++)
				if (*p == '\\' && ++p == end)
					break;
			if (p < end)
				p++; /* past the closing quote */
		} else if (c == '[' || c == '{' || c == ',') {
			if (++values > max)
				return true;
		}
	}
	return false;
}

int ukey_msg_parse_request(const char *line, size_t len, json_object **ret_obj)
{
	if (too_many_values(line, len, UKEY_MAX_REQUEST_VALUES))
		return -EBADMSG;
	return ukey_msg_parse(line, len, ret_obj);
}

/* json-c's escaping of a string (json_escape_str) with flags, written to
 * out (NULL: only counted). Returns the length. */
static size_t put_escaped(char *out, const char *s, size_t len, int flags)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc = 0;

		switch (c) {
		case '\b':
			esc = 'b';
			break;
		case '\n':
			esc = 'n';
			break;
		case '\r':
			esc = 'r';
			break;
		case '\t':
			esc = 't';
			break;
		case '\f':
			esc = 'f';
			break;
		case '"':
		case '\\':
			esc = (char)c;
			break;
		case '/':
			if (!(flags & JSON_C_TO_STRING_NOSLASHESCAPE))
				esc = '/';
			break;
		default:
			break;
		}
		if (esc) {
			if (out) {
				out[n] = '\\';
				out[n + 1] = esc;
			}
			n += 2;
		} else if (c < ' ') {
			if (out) {
				memcpy(out + n, "\\u00", 4);
				out[n + 4] = hex[c >> 4];
				out[n + 5] = hex[c & 0xf];
			}
			n += 6;
		} else {
			if (out)
				out[n] = (char)c;
			n++;
		}
	}
	return n;
}

static void put(char *out, size_t *n, const char *s, size_t len)
{
	if (out)
		memcpy(out + *n, s, len);
	*n += len;
}

/* v rendered as json-c renders it with flags (PLAIN), written to out
 * (NULL: only counted) at *n, which moves past it. Strings, objects and
 * arrays are written here, never into a print buffer of json-c's (which
 * grows by realloc, leaving copies behind); numbers, booleans and null
 * are json-c's own rendering of the value alone. Returns 0 or -ENOMEM. */
static int render(json_object *v, int flags, char *out, size_t *n)
{
	const char *text;
	size_t len;
	bool first = true;

	switch (json_object_get_type(v)) {
	case json_type_null:
		put(out, n, "null", 4);
		return 0;
	case json_type_string:
		put(out, n, "\"", 1);
		*n += put_escaped(out ? out + *n : NULL, json_object_get_string(v),
				  (size_t)json_object_get_string_len(v), flags);
		put(out, n, "\"", 1);
		return 0;
	case json_type_object:
		put(out, n, "{", 1);
		json_object_object_foreach (v, key, val) {
			if (!first)
				put(out, n, ",", 1);
			first = false;
			put(out, n, "\"", 1);
			*n += put_escaped(out ? out + *n : NULL, key, strlen(key), flags);
			put(out, n, "\":", 2);
			if (render(val, flags, out, n) < 0)
				return -ENOMEM;
		}
		put(out, n, "}", 1);
		return 0;
	case json_type_array:
		put(out, n, "[", 1);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (i > 0)
				put(out, n, ",", 1);
			if (render(json_object_array_get_idx(v, i), flags, out, n) < 0)
				return -ENOMEM;
		}
		put(out, n, "]", 1);
		return 0;
	default:
		text = json_object_to_json_string_length(v, flags, &len);
		if (!text)
			return -ENOMEM;
		put(out, n, text, len);
		return 0;
	}
}

/* A message with PINs, rendered into one buffer sized up front: the
 * caller wipes it by the length returned, and no other copy exists. */
static char *format_exact(json_object *obj, size_t *ret_len)
{
	size_t len = 0, written = 0;
	char *out;

	if (render(obj, MSG_FLAGS, NULL, &len) < 0)
		return NULL;
	out = malloc(len + 2);
	if (!out)
		return NULL;
	if (render(obj, MSG_FLAGS, out, &written) < 0 || written != len) {
		OPENSSL_cleanse(out, len + 2);
		free(out);
		return NULL;
	}
	out[len] = '\n';
	out[len + 1] = '\0';
	if (ret_len)
		*ret_len = len + 1;
	return out;
}

char *ukey_msg_format(json_object *obj, size_t *ret_len)
{
	const char *s;
	size_t len;
	char *out;

	if (ukey_json_has_pins(obj))
		return format_exact(obj, ret_len);
	s = json_object_to_json_string_length(obj, MSG_FLAGS, &len);
	if (!s)
		return NULL;
	out = malloc(len + 2);
	if (!out)
		return NULL;
	memcpy(out, s, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	if (ret_len)
		*ret_len = len + 1;
	return out;
}
