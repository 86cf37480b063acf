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
	size_t room;
	ssize_t n;
	int r;

	linebuf_compact(b);
	if (b->len > b->max)
		return -EMSGSIZE;
	/* One byte more than max: room for the terminating '\n'. */
	room = b->max + 1 - b->len;
	if (room > 65536)
		room = 65536;
	r = linebuf_reserve(b, room + 1);
	if (r < 0)
		return r;
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

char *ukey_msg_format(json_object *obj, size_t *ret_len)
{
	const char *s;
	size_t len;
	char *out;

	s = json_object_to_json_string_ext(obj,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return NULL;
	len = strlen(s);
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
