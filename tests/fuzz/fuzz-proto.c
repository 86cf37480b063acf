/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire protocol as both ends parse it: the input is a byte stream,
 * cut into lines by the daemon's line buffer (with its size limit), each
 * line parsed as a message and then read by libukey as a token, a token
 * list and an error reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libukey-private.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_line(const char *line, size_t len)
{
	json_object *msg = NULL, *v;
	ukey_token_list *list = NULL;

	if (ukey_msg_parse(line, len, &msg) < 0)
		return;
	ukey_token_unref(ukey_token_new_from_json(msg));
	if (json_object_object_get_ex(msg, "result", &v) &&
	    json_object_object_get_ex(v, "tokens", &v) &&
	    ukey_token_list_new_from_json(v, false, &list) == UKEY_OK) {
		for (size_t i = 0; i < ukey_token_list_get_count(list); i++) {
			ukey_token *t = ukey_token_list_get(list, i);
			for (size_t k = 0; k < ukey_token_get_cert_count(t); k++)
				(void)strlen(ukey_cert_get_sha256(ukey_token_get_cert(t, k)));
			(void)strlen(ukey_token_get_json(t));
		}
		ukey_token_list_unref(list);
	}
	json_object_put(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ukey_linebuf b;
	int p[2];
	size_t off = 0;

	if (pipe2(p, O_NONBLOCK) < 0)
		return 0;
	ukey_linebuf_init(&b, 4096, true);
	/* Feed the pipe in chunks it can hold, draining lines between. */
	while (off < size) {
		size_t chunk = size - off > 8192 ? 8192 : size - off;
		char *line;
		size_t len;
		long n;

		if (write(p[1], data + off, chunk) != (ssize_t)chunk)
			break;
		off += chunk;
		do {
			n = ukey_linebuf_fill(&b, p[0]);
			while (ukey_linebuf_next(&b, &line, &len) > 0)
				parse_line(line, len);
		} while (n > 0);
		if (n == -EMSGSIZE)
			break;
	}
	ukey_linebuf_release(&b);
	close(p[0]);
	close(p[1]);
	return 0;
}
